"""float32 sums over a leading axis of a few hundred to a few thousand rows
stay near PyTorch's accuracy (its cascade), not NumPy's one-by-one float32
accumulation (fastnn.ops.reduction: _fsum, _cascade_rows)."""
import numpy as np
import pytest

import fastnn


@pytest.mark.parametrize("rows", [300, 1000, 2047, 5000])
def test_column_sums_of_hundreds_of_rows_are_accurate(rows):
    x = np.random.RandomState(0).randn(rows, 3001).astype(np.float32) + 100
    want = x.astype(np.float64).sum(0)
    got = fastnn.tensor(x).sum(0).numpy()
    # one-by-one accumulation is 0.2 off at 1000 rows; the blocked sums
    # about 64 + rows / 64 roundings of ulp(rows * 100)
    ulp = np.spacing(np.float32(rows * 100))
    assert np.abs(got - want).max() <= 6 * ulp, np.abs(got - want).max() / ulp
    m = fastnn.tensor(x).mean(0).numpy()
    assert np.abs(m - want / rows).max() <= 6 * ulp / rows + np.spacing(np.float32(100))


def test_column_sums_match_torch_accuracy():
    torch = pytest.importorskip("torch")
    x = np.random.RandomState(1).randn(1000, 3001).astype(np.float32) + 100
    want = x.astype(np.float64).sum(0)
    ours = np.abs(fastnn.tensor(x).sum(0).numpy() - want).max()
    theirs = np.abs(torch.tensor(x).sum(0).numpy() - want).max()
    assert ours <= 3 * theirs, (ours, theirs)
