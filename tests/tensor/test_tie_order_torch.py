"""Where equal elements go in sort (stable=False), argsort, msort, topk
(sorted or not) and kthvalue: PyTorch's CPU kernels' order (std::sort,
std::partial_sort / std::nth_element, ATen's quickselect), not a stable
sort's.  max/min/argmax with dim, mode and median ties are checked too."""
import numpy as np
import pytest

import fastnn

torch = pytest.importorskip("torch")


def _data(seed, shape, levels, nan=False, dtype=np.float32):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, levels, shape).astype(dtype)
    if nan:
        a[rng.random(shape) < 0.15] = np.nan
    return a


def _small_topk(L):
    t = L.tensor([1.0, 3.0, 3.0, 2.0, 3.0])
    return [t.topk(k, largest=lg, sorted=s).indices.tolist()
            for k in (2, 4) for lg in (True, False) for s in (True, False)]


def test_small_topk_ties_match_torch():
    got = _small_topk(fastnn)
    assert got == _small_topk(torch)
    assert got[0] == [2, 4]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("shape,dim", [((60,), 0), ((3, 45), 1), ((40, 3), 0), ((2, 33, 2), 1)])
def test_sort_argsort_msort_ties_match_torch(seed, shape, dim):
    a = _data(seed, shape, 1 + seed % 5, nan=seed % 2 == 1,
              dtype=np.float64 if seed == 4 else np.float32)
    if seed == 5:
        a = a.astype(np.int64) if not np.isnan(a).any() else np.nan_to_num(a).astype(np.int64)
    x, t = fastnn.tensor(a), torch.from_numpy(a)
    for desc in (False, True):
        got, want = x.sort(dim, descending=desc), t.sort(dim, descending=desc)
        assert got.indices.tolist() == want.indices.tolist()
        np.testing.assert_array_equal(got.values.numpy(), want.values.numpy())
        assert fastnn.argsort(x, dim, desc).tolist() == torch.argsort(t, dim, desc).tolist()
        stable = fastnn.sort(x, dim=dim, descending=desc, stable=True).indices
        assert stable.tolist() == torch.sort(t, dim=dim, descending=desc,
                                             stable=True).indices.tolist()
    if dim == 0:
        np.testing.assert_array_equal(x.msort().numpy(), t.msort().numpy())


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("n,k", [(5, 2), (40, 10), (40, 40), (200, 3), (150, 1), (30, 29)])
def test_topk_and_kthvalue_ties_match_torch(seed, n, k):
    a = _data(seed, (2, n), 2 + seed, nan=seed == 3)
    x, t = fastnn.tensor(a), torch.from_numpy(a)
    for largest in (True, False):
        for s in (True, False):
            got, want = x.topk(k, 1, largest, s), t.topk(k, 1, largest, s)
            assert got.indices.tolist() == want.indices.tolist(), (largest, s)
            np.testing.assert_array_equal(got.values.numpy(), want.values.numpy())
    got, want = x.kthvalue(k, 1), t.kthvalue(k, 1)
    assert got.indices.tolist() == want.indices.tolist()
    got = fastnn.tensor(a[0]).topk(k, 0, True, True).indices.tolist()
    assert got == torch.from_numpy(a[0]).topk(k, 0, True, True).indices.tolist()


def test_topk_ties_gradient_goes_to_the_picked_positions():
    res = []
    for L in (fastnn, torch):
        x = L.tensor([1.0, 3.0, 3.0, 2.0, 3.0], requires_grad=True)
        x.topk(2).values.sum().backward()
        res.append(x.grad.tolist())
    assert res[0] == res[1]


def test_reductions_with_ties_match_torch():
    a = np.array([[1.0, 3.0, 3.0, 0.0, 3.0], [2.0, 2.0, 1.0, 1.0, 2.0]], np.float32)
    x, t = fastnn.tensor(a), torch.from_numpy(a)
    for f in ("max", "min", "median", "mode", "nanmedian"):
        g, w = getattr(x, f)(1), getattr(t, f)(1)
        assert g.indices.tolist() == w.indices.tolist(), f
    assert x.argmax(1).tolist() == t.argmax(1).tolist()
    assert x.argmin(1).tolist() == t.argmin(1).tolist()


@pytest.mark.parametrize("seed", range(8))
def test_mode_index_with_ties_and_nan_matches_torch(seed):
    """mode's index (PyTorch sorts with std::sort, NaN unordered): long
    rows of few values, with NaN in some, float and int64."""
    a = _data(seed, (3, 20 + 13 * seed), 1 + seed % 4, nan=seed % 3 == 0)
    if seed % 4 == 1:
        a = a.astype(np.int64)
    x, t = fastnn.tensor(a), torch.from_numpy(a)
    for dim in (1, 0):
        got, want = x.mode(dim), t.mode(dim)
        assert got.indices.tolist() == want.indices.tolist()
        np.testing.assert_array_equal(got.values.numpy(), want.values.numpy())
    small = np.array([[1.0, np.nan, np.nan, 1.0]], np.float32)
    assert fastnn.tensor(small).mode(1).indices.tolist() == \
        torch.from_numpy(small).mode(1).indices.tolist()
