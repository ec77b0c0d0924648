"""Op tests: median/nanmedian, quantile/nanquantile, cdist/pdist,
searchsorted/bucketize, histc/histogram, unique_consecutive against PyTorch
(values, shapes, indices, gradients), gradcheck, error cases."""
import math

import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F
from fastnn.testing import requires_torch

INTERP = ["linear", "lower", "higher", "midpoint", "nearest"]


def _pair(a, rg=False):
    torch = requires_torch()
    return (fastnn.tensor(a, requires_grad=rg), torch.tensor(a, requires_grad=rg))


def _close(f, t, **kw):
    np.testing.assert_allclose(np.asarray(f.detach().numpy()), t.detach().numpy(),
                               equal_nan=True, **kw)
    assert tuple(f.shape) == tuple(t.shape)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("dim", [None, 0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("nan", [False, True])
def test_median_matches_torch(dtype, dim, keepdim, nan):
    torch = requires_torch()
    x = np.random.default_rng(0).standard_normal((4, 5, 6)).astype(dtype)
    x[1, 2, 3] = np.nan
    name = "nanmedian" if nan else "median"
    a, b = fastnn.tensor(x), torch.tensor(x)
    if dim is None:
        _close(getattr(fastnn, name)(a), getattr(torch, name)(b))
        return
    r, s = getattr(a, name)(dim, keepdim), getattr(torch, name)(b, dim, keepdim)
    assert type(r).__name__ == name and r._fields == ("values", "indices")
    _close(r.values, s.values)
    np.testing.assert_array_equal(r.indices.numpy(), s.indices.numpy())
    assert r.indices.dtype == fastnn.int64


def test_median_ties_nan_edges_and_ints():
    torch = requires_torch()
    x = [[1.0, 2, 2, 2, 3, 0, 2], [5, 5, 5, 5, 1, 1, 1]]
    r, s = fastnn.median(fastnn.tensor(x), 1), torch.median(torch.tensor(x), 1)
    np.testing.assert_array_equal(r.indices.numpy(), s.indices.numpy())
    # larger ties: the index points at a value equal to the median
    v = np.random.default_rng(1).integers(0, 3, (6, 50)).astype(np.float64)
    r = fastnn.median(fastnn.tensor(v), 1)
    np.testing.assert_array_equal(np.take_along_axis(v, r.indices.numpy()[:, None], 1)[:, 0],
                                  r.values.numpy())
    n = [[1.0, math.nan, 2, math.nan], [1, 2, 3, 4]]
    r, s = fastnn.median(fastnn.tensor(n), 1), torch.median(torch.tensor(n), 1)
    _close(r.values, s.values)
    np.testing.assert_array_equal(r.indices.numpy(), s.indices.numpy())
    assert math.isnan(fastnn.median(fastnn.tensor(n)).item())
    assert math.isnan(fastnn.median(fastnn.tensor([])).item())
    assert fastnn.median(fastnn.tensor(3.0)).item() == 3.0
    r = fastnn.median(fastnn.tensor(3.0), 0)
    assert r.values.shape == () and r.indices.item() == 0
    assert fastnn.median(fastnn.zeros(0, 3), 1).values.shape == (0,)
    with pytest.raises(IndexError):
        fastnn.median(fastnn.zeros(3, 0), 1)
    with pytest.raises(IndexError):
        fastnn.median(fastnn.zeros(3, 2), 2)
    i = fastnn.tensor([3, 1, 2])
    assert fastnn.median(i).item() == 2 and fastnn.median(i).dtype == fastnn.int64
    assert fastnn.nanmedian(fastnn.tensor([math.nan, 1.0, math.nan, 3.0])).item() == 1.0


def test_median_gradients():
    torch = requires_torch()
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 7))
    x[0, :3] = 0.5                     # ties: the full median shares its gradient
    x[0, 3:] = [0.1, 0.9, 0.5, 2.0]
    for dim in (None, 1, 0):
        a, b = _pair(x, True)
        fa = fastnn.median(a) if dim is None else fastnn.median(a, dim).values
        fb = torch.median(b) if dim is None else torch.median(b, dim).values
        g = rng.standard_normal(fb.shape)
        fa.backward(fastnn.tensor(g))
        fb.backward(torch.tensor(g))
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=1e-12)
    y = fastnn.tensor(rng.standard_normal((3, 5)), requires_grad=True)
    assert fastnn.gradcheck(lambda t: fastnn.median(t, 1).values, [y])
    assert fastnn.gradcheck(lambda t: fastnn.nanmedian(t, 0, True).values, [y])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("interpolation", INTERP)
@pytest.mark.parametrize("nan", [False, True])
def test_quantile_matches_torch(dtype, interpolation, nan):
    torch = requires_torch()
    x = np.random.default_rng(3).standard_normal((4, 5, 6)).astype(dtype)
    x[1, 2, 3] = np.nan
    x[2, :, 1] = np.nan
    name = "nanquantile" if nan else "quantile"
    qs = [0.3, 0.5, np.array([0.0, 0.1, 0.5, 1 / 3, 1.0], dtype)]
    for q in qs:
        for dim in (None, 0, -1):
            for keepdim in (False, True):
                qa = fastnn.tensor(q) if isinstance(q, np.ndarray) else q
                qb = torch.tensor(q) if isinstance(q, np.ndarray) else q
                r = getattr(fastnn, name)(fastnn.tensor(x), qa, dim, keepdim,
                                          interpolation=interpolation)
                s = getattr(torch, name)(torch.tensor(x), qb, dim, keepdim,
                                         interpolation=interpolation)
                _close(r, s, rtol=1e-6, atol=1e-7)
    r = getattr(fastnn.tensor(x), name)(0.25, 1)
    _close(r, getattr(torch, name)(torch.tensor(x), 0.25, 1), rtol=1e-6)


def test_quantile_edges_and_errors():
    torch = requires_torch()
    assert fastnn.quantile(fastnn.tensor(2.0), 0.5).shape == ()
    r = fastnn.quantile(fastnn.tensor(2.0), fastnn.tensor([0.5]), dim=0, keepdim=True)
    assert r.shape == tuple(torch.quantile(torch.tensor(2.0), torch.tensor([0.5]), 0,
                                           True).shape)
    r = fastnn.quantile(fastnn.arange(5.0), fastnn.tensor([0.125, 0.375, 0.625]),
                        interpolation="nearest")          # halves round to even
    np.testing.assert_array_equal(r.numpy(), [0.0, 2.0, 2.0])
    x = fastnn.tensor([[0.0, 1, 2, 3]])
    for call in (lambda: fastnn.quantile(x, 1.5), lambda: fastnn.quantile(x, -0.1),
                 lambda: fastnn.quantile(fastnn.tensor([1, 2]), 0.5),
                 lambda: fastnn.quantile(x, fastnn.tensor([[0.5]])),
                 lambda: fastnn.quantile(x, 0.5, interpolation="foo"),
                 lambda: fastnn.quantile(fastnn.tensor([]), 0.5),
                 lambda: fastnn.quantile(x, fastnn.tensor([0.5], dtype=fastnn.float64))):
        with pytest.raises(RuntimeError):
            call()
    with pytest.raises(IndexError):
        fastnn.quantile(x, 0.5, dim=2)


@pytest.mark.parametrize("interpolation", INTERP)
def test_quantile_gradients(interpolation):
    torch = requires_torch()
    rng = np.random.default_rng(4)
    x = rng.standard_normal((4, 5))
    q = np.array([0.2, 0.5, 0.9])
    a, b = _pair(x, True)
    fa = fastnn.quantile(a, fastnn.tensor(q), 1, interpolation=interpolation)
    fb = torch.quantile(b, torch.tensor(q), 1, interpolation=interpolation)
    g = rng.standard_normal(fb.shape)
    fa.backward(fastnn.tensor(g))
    fb.backward(torch.tensor(g))
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=1e-12)
    y = fastnn.tensor(x, requires_grad=True)
    assert fastnn.gradcheck(lambda t: fastnn.quantile(t, fastnn.tensor(q), 1, True,
                                                      interpolation=interpolation), [y])
    assert fastnn.gradcheck(lambda t: fastnn.nanquantile(t, 0.3,
                                                         interpolation=interpolation), [y])


MODES = ["use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
         "donot_use_mm_for_euclid_dist"]


@pytest.mark.parametrize("p", [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, math.inf])
@pytest.mark.parametrize("rows", [3, 30])
def test_cdist_matches_torch(p, rows):
    torch = requires_torch()
    rng = np.random.default_rng(5)
    for mode in MODES if p == 2 else MODES[:1]:
        x1 = rng.standard_normal((2, 1, rows, 4))
        x2 = rng.standard_normal((3, 5, 4))
        x2[0, :2] = x1[0, 0, :2]              # zero distances
        x1[0, 0, 0, 1] = x2[1, 0, 1]          # a zero difference
        a1, b1 = _pair(x1, True)
        a2, b2 = _pair(x2, True)
        fa, fb = fastnn.cdist(a1, a2, p, mode), torch.cdist(b1, b2, p, mode)
        _close(fa, fb, rtol=1e-9, atol=1e-7)
        g = rng.standard_normal(fb.shape)
        fa.backward(fastnn.tensor(g))
        fb.backward(torch.tensor(g))
        np.testing.assert_allclose(a1.grad.numpy(), b1.grad.numpy(), atol=1e-7)
        np.testing.assert_allclose(a2.grad.numpy(), b2.grad.numpy(), atol=1e-7)
    x = rng.standard_normal((6, 3)).astype(np.float32)
    _close(fastnn.cdist(fastnn.tensor(x), fastnn.tensor(x[:4]), p),
           torch.cdist(torch.tensor(x), torch.tensor(x[:4]), p), rtol=1e-4, atol=1e-4)


def test_cdist_gradcheck_pdist_and_errors():
    torch = requires_torch()
    rng = np.random.default_rng(6)
    x1 = fastnn.tensor(rng.standard_normal((2, 4, 3)), requires_grad=True)
    x2 = fastnn.tensor(rng.standard_normal((2, 5, 3)), requires_grad=True)
    for p in (1.5, 2.0, 3.0):
        assert fastnn.gradcheck(lambda a, b: fastnn.cdist(a, b, p), [x1, x2])
    for p in (1.0, 1.5, 2.0, math.inf, 0.0):
        a, b = _pair(rng.standard_normal((6, 3)), True)
        fa, fb = F.pdist(a, p), torch.nn.functional.pdist(b, p)
        _close(fa, fb, rtol=1e-9)
        fa.sum().backward()
        fb.sum().backward()
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=1e-9)
    x = fastnn.randn(5, 3)
    assert fastnn.cdist(x, x, p=0).numpy().diagonal().sum() == 0
    for call, exc in ((lambda: fastnn.cdist(x, fastnn.randn(4, 2)), RuntimeError),
                      (lambda: fastnn.cdist(x, x, p=-1), RuntimeError),
                      (lambda: fastnn.cdist(x[0], x), RuntimeError),
                      (lambda: fastnn.cdist(x, x, compute_mode="x"), ValueError),
                      (lambda: fastnn.cdist(x.long(), x.long()), RuntimeError),
                      (lambda: fastnn.cdist(fastnn.randn(2, 3, 3), fastnn.randn(3, 3, 3)),
                       RuntimeError),
                      (lambda: F.pdist(fastnn.randn(2, 3, 3)), RuntimeError)):
        with pytest.raises(exc):
            call()


def test_searchsorted_bucketize_match_torch():
    torch = requires_torch()
    rng = np.random.default_rng(7)
    seq = np.sort(rng.integers(0, 10, 12)).astype(np.float64)
    v = rng.integers(-1, 11, (3, 4)).astype(np.float64)
    for right in (False, True):
        for i32 in (False, True):
            r = fastnn.searchsorted(fastnn.tensor(seq), fastnn.tensor(v), right=right,
                                    out_int32=i32)
            s = torch.searchsorted(torch.tensor(seq), torch.tensor(v), right=right,
                                   out_int32=i32)
            np.testing.assert_array_equal(r.numpy(), s.numpy())
            assert str(r.dtype).endswith(str(s.dtype).split(".")[-1])
            r = fastnn.bucketize(fastnn.tensor(v), fastnn.tensor(seq), right=right)
            s = torch.bucketize(torch.tensor(v), torch.tensor(seq), right=right)
            np.testing.assert_array_equal(r.numpy(), s.numpy())
    seq2 = np.sort(rng.standard_normal((3, 6)), -1)
    v2 = rng.standard_normal((3, 4))
    for side in ("left", "right"):
        r = fastnn.searchsorted(fastnn.tensor(seq2), fastnn.tensor(v2), side=side)
        s = torch.searchsorted(torch.tensor(seq2), torch.tensor(v2), side=side)
        np.testing.assert_array_equal(r.numpy(), s.numpy())
    perm = rng.permutation(12)
    unsorted, sorter = seq[perm], np.argsort(seq[perm], kind="stable")
    r = fastnn.searchsorted(fastnn.tensor(unsorted), fastnn.tensor(v),
                            sorter=fastnn.tensor(sorter))
    s = torch.searchsorted(torch.tensor(unsorted), torch.tensor(v), sorter=torch.tensor(sorter))
    np.testing.assert_array_equal(r.numpy(), s.numpy())
    assert fastnn.searchsorted(fastnn.tensor(seq), 5.0).shape == ()
    assert fastnn.bucketize(3.0, fastnn.tensor(seq)).item() == \
        torch.bucketize(3.0, torch.tensor(seq)).item()
    with pytest.raises(RuntimeError):
        fastnn.searchsorted(fastnn.tensor(seq), fastnn.tensor(v), right=True, side="left")
    with pytest.raises(RuntimeError):
        fastnn.searchsorted(fastnn.tensor(seq2), fastnn.tensor(v[:2]))
    with pytest.raises(RuntimeError):
        fastnn.bucketize(fastnn.tensor(v), fastnn.tensor(seq2))


def test_histc_histogram_unique_consecutive():
    torch = requires_torch()
    rng = np.random.default_rng(8)
    for dtype in (np.float32, np.float64):
        x = rng.standard_normal(1000).astype(dtype)
        for bins, lo, hi in ((100, 0, 0), (7, -1, 1), (10, 0.5, 0.5)):
            r = fastnn.histc(fastnn.tensor(x), bins, lo, hi)
            s = torch.histc(torch.tensor(x), bins, lo, hi)
            np.testing.assert_array_equal(r.numpy(), s.numpy())
            assert r.dtype == dtype
        r = fastnn.tensor(x).histogram(5)
        s = torch.histogram(torch.tensor(x), 5)
        assert type(r).__name__ == "histogram"
        np.testing.assert_allclose(r.hist.numpy(), s.hist.numpy())
        np.testing.assert_allclose(r.bin_edges.numpy(), s.bin_edges.numpy(), rtol=1e-6)
    np.testing.assert_array_equal(fastnn.histc(fastnn.tensor([2.0, 2.0]), 4).numpy(),
                                  torch.histc(torch.tensor([2.0, 2.0]), 4).numpy())
    with pytest.raises(RuntimeError):
        fastnn.histc(fastnn.tensor([1, 2]))
    with pytest.raises(RuntimeError):
        fastnn.histc(fastnn.tensor([1.0]), 0)
    with pytest.raises(RuntimeError):
        fastnn.histc(fastnn.tensor([1.0]), 4, 2, 1)
    v = [1, 1, 2, 2, 3, 1, 1, 2]
    for inv in (False, True):
        for cnt in (False, True):
            r = fastnn.unique_consecutive(fastnn.tensor(v), return_inverse=inv,
                                          return_counts=cnt)
            s = torch.unique_consecutive(torch.tensor(v), return_inverse=inv,
                                         return_counts=cnt)
            for a, b in zip(r if isinstance(r, tuple) else (r,),
                            s if isinstance(s, tuple) else (s,)):
                np.testing.assert_array_equal(a.numpy(), b.numpy())
    m = np.array([[1, 1], [1, 1], [2, 0], [1, 1]])
    for dim in (0, 1):
        r = fastnn.tensor(m).unique_consecutive(return_inverse=True, return_counts=True,
                                                dim=dim)
        s = torch.unique_consecutive(torch.tensor(m), return_inverse=True,
                                     return_counts=True, dim=dim)
        for a, b in zip(r, s):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert fastnn.unique_consecutive(fastnn.tensor([])).shape == (0,)
