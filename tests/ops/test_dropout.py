"""Op and module tests: F.dropout and nn.Dropout."""
import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F
from fastnn.testing import reference as R
from fastnn.testing import requires_torch, run_python


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
def test_forward_matches_reference_and_seed(dtype, p):
    x = np.random.default_rng(0).standard_normal((30, 40)).astype(dtype)
    fastnn.manual_seed(11)
    y1 = F.dropout(x, p).numpy()
    y2 = F.dropout(x, p).numpy()
    assert y1.dtype == dtype
    np.testing.assert_allclose(y1, R.dropout(x, p, 11, 0), rtol=1e-6)
    np.testing.assert_allclose(y2, R.dropout(x, p, 11, 1), rtol=1e-6)
    assert ((y1 == 0) != (y2 == 0)).any()          # a new mask per call
    fastnn.manual_seed(11)
    np.testing.assert_array_equal(F.dropout(x, p).numpy(), y1)   # reproducible


def test_backward_uses_the_same_mask():
    fastnn.manual_seed(3)
    x = fastnn.tensor(np.random.default_rng(1).standard_normal((50, 20)), requires_grad=True)
    g = np.random.default_rng(2).standard_normal((50, 20)).astype(np.float32)
    y = F.dropout(x, 0.4)
    y.backward(g)
    keep = y.detach().numpy() != 0
    np.testing.assert_allclose(x.grad, np.where(keep, g / 0.6, 0), rtol=1e-6)
    np.testing.assert_allclose(x.grad, R.dropout_grad(x.detach().numpy(), g, 0.4, 3, 0), rtol=1e-6)


def test_gradcheck_fixed_mask():
    x = fastnn.tensor(np.random.default_rng(4).standard_normal((6, 7)), dtype=np.float64,
                      requires_grad=True)
    Rg = np.random.default_rng(5).standard_normal((6, 7))

    def f(a):
        fastnn.manual_seed(8)             # same mask at every evaluation
        return (F.dropout(a, 0.3) * Rg).sum()
    assert fastnn.gradcheck(f, [x])


def test_eval_p0_p1_and_module():
    x = np.random.default_rng(6).standard_normal((5, 5)).astype(np.float32)
    np.testing.assert_array_equal(F.dropout(x, 0.5, training=False).numpy(), x)
    np.testing.assert_array_equal(F.dropout(x, 0.0).numpy(), x)
    np.testing.assert_array_equal(F.dropout(x, 1.0).numpy(), np.zeros_like(x))
    m = fastnn.nn.Dropout(0.25)
    assert m.p == 0.25
    np.testing.assert_array_equal(m.eval()(x).numpy(), x)
    y = m.train()(np.ones((400, 500), np.float32)).numpy()
    assert set(np.unique(y).tolist()) <= {0.0, np.float32(1 / 0.75)}
    assert abs((y == 0).mean() - 0.25) < 0.01


def test_thread_invariance():
    x = np.ones((300, 300), np.float32)
    masks = []
    for n in (1, 2):
        fastnn.set_num_threads(n)
        fastnn.manual_seed(42)
        masks.append(F.dropout(x, 0.5).numpy())
    np.testing.assert_array_equal(masks[0], masks[1])


def test_nan_like_torch():
    x = np.full(1000, np.nan, np.float32)
    assert np.isnan(F.dropout(x, 0.5).numpy()).all()      # NaN * 0 stays NaN, as in PyTorch


def test_torch_statistics_parity():
    torch = requires_torch()
    x = np.ones(100000, np.float32)
    ours = F.dropout(x, 0.3).numpy()
    theirs = torch.nn.functional.dropout(torch.tensor(x), 0.3).numpy()
    assert set(np.unique(ours).tolist()) == set(np.unique(theirs).tolist())
    assert abs((ours == 0).mean() - (theirs == 0).mean()) < 0.01


def test_bad_input_in_subprocess():
    r = run_python(
        "import numpy as np, fastnn, fastnn.nn.functional as F\n"
        "x = np.ones(3, np.float32)\n"
        "for p in (-0.1, 1.5):\n"
        "    try:\n        F.dropout(x, p)\n    except ValueError as e:\n        print('OK', e)\n"
        "    try:\n        fastnn.nn.Dropout(p)\n    except ValueError as e:\n        print('OK', e)\n"
        "try:\n    F.dropout(np.arange(3), 0.5)\nexcept TypeError as e:\n    print('OK', e)\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("OK") == 5, r.stdout
    assert "between 0 and 1, but got 1.5" in r.stdout
