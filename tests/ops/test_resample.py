"""interpolate (nearest, nearest-exact, linear, bilinear), pixel_shuffle /
pixel_unshuffle, one_hot, normalize, cosine_similarity, pairwise_distance,
Unflatten and the up-sampling modules: against PyTorch (values and
gradients, float64 and float32), the NumPy reference, gradcheck, 1 vs 2
threads, errors."""
import warnings

import numpy as np
import pytest

import fastnn
import fastnn.nn as nn
import fastnn.nn.functional as F
from fastnn import _core
from fastnn.testing import reference as R
from fastnn.testing import requires_torch

TOL = {np.float64: dict(rtol=1e-12, atol=1e-13), np.float32: dict(rtol=2e-6, atol=1e-6)}

INTERP = [
    ((2, 3, 4, 5), dict(scale_factor=2, mode="nearest")),
    ((2, 3, 4, 5), dict(scale_factor=3, mode="nearest")),
    ((2, 3, 4, 5), dict(scale_factor=1.5, mode="nearest")),
    ((2, 3, 4, 5), dict(size=(7, 3), mode="nearest")),
    ((1, 2, 9, 7), dict(scale_factor=(0.5, 0.3), mode="nearest")),
    ((2, 3, 7, 9), dict(size=(3, 4), mode="nearest-exact")),
    ((2, 3, 4, 5), dict(scale_factor=1.7, mode="nearest-exact")),
    ((2, 3, 4, 5), dict(scale_factor=2, mode="bilinear")),
    ((2, 3, 4, 5), dict(scale_factor=2, mode="bilinear", align_corners=True)),
    ((2, 3, 4, 5), dict(size=(7, 3), mode="bilinear")),
    ((2, 3, 8, 9), dict(scale_factor=0.45, mode="bilinear")),
    ((2, 3, 4, 5), dict(scale_factor=1.7, mode="bilinear", recompute_scale_factor=True)),
    ((2, 3, 4, 5), dict(size=(4, 5), mode="bilinear", align_corners=True)),
    ((2, 3, 1, 1), dict(size=(3, 2), mode="bilinear")),
    ((2, 3, 5, 5), dict(size=(1, 1), mode="bilinear", align_corners=True)),
    ((1, 1, 6, 6), dict(size=(9, 4), mode="bilinear", align_corners=True)),
    ((2, 3, 6), dict(scale_factor=2.5, mode="linear")),
    ((2, 3, 6), dict(size=11, mode="linear", align_corners=True)),
    ((2, 3, 6), dict(size=4, mode="nearest")),
    ((2, 3, 6), dict(scale_factor=2, mode="nearest-exact")),
]
IDS = [f"{k['mode']}-{i}" for i, (_, k) in enumerate(INTERP)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,kw", INTERP, ids=IDS)
def test_interpolate_matches_torch(shape, kw, dtype):
    torch = requires_torch()
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(dtype)
    xf = fastnn.tensor(x, requires_grad=True)
    yf = F.interpolate(xf, **kw)
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.nn.functional.interpolate(xt, **kw)
    assert yf.shape == tuple(yt.shape) and yf.dtype == dtype
    g = rng.standard_normal(yf.shape).astype(dtype)
    yf.backward(g)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(yf.detach().numpy(), yt.detach().numpy(), **TOL[dtype])
    np.testing.assert_allclose(np.asarray(xf.grad), xt.grad.numpy(), **TOL[dtype])


@pytest.mark.parametrize("shape,kw", [INTERP[2], INTERP[7], INTERP[9], INTERP[15], INTERP[16]],
                         ids=[IDS[2], IDS[7], IDS[9], IDS[15], IDS[16]])
def test_interpolate_kernel_matches_reference_and_gradcheck(shape, kw):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape)
    ref = R.interpolate(x, **kw)
    np.testing.assert_allclose(F.interpolate(x, **kw).numpy(), ref, rtol=1e-12, atol=1e-13)
    xt = fastnn.tensor(x, requires_grad=True)
    up = rng.standard_normal(ref.shape)
    assert fastnn.gradcheck(lambda a: (F.interpolate(a, **kw) * fastnn.tensor(up)).sum(), [xt])


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_interpolate_thread_invariance(mode):
    x = np.random.default_rng(2).standard_normal((4, 8, 40, 40)).astype(np.float32)
    kw = dict(scale_factor=1.75, mode=mode)
    g = np.random.default_rng(3).standard_normal((4, 8, 70, 70)).astype(np.float32)
    assert g.size > 65536
    res = []
    for n in (1, 2):
        fastnn.set_num_threads(n)
        xt = fastnn.tensor(x, requires_grad=True)
        y = F.interpolate(xt, **kw)
        y.backward(g)
        res.append((y.detach().numpy().copy(), np.array(xt.grad)))
    assert fastnn.get_num_threads() == 2
    for a, b in zip(res[0], res[1]):
        np.testing.assert_array_equal(a, b)


def test_interpolate_binding_checks_tables():
    x = np.zeros((1, 2, 2), np.float32)
    out = np.zeros((1, 2, 2), np.float32)
    bad = np.array([0, 5])
    with pytest.raises(IndexError):
        _core.upsample_nearest_fwd(x, bad, np.array([0, 1]), out)
    with pytest.raises(TypeError):
        _core.upsample_nearest_fwd(x, bad.astype(np.int32), np.array([0, 1]), out)


def test_interpolate_errors():
    x = fastnn.zeros(1, 1, 4, 4)
    with pytest.raises(ValueError, match="only one of size or scale_factor"):
        F.interpolate(x, size=2, scale_factor=2)
    with pytest.raises(ValueError, match="either size or scale_factor"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="align_corners option can only be set"):
        F.interpolate(x, scale_factor=2, align_corners=True)
    with pytest.raises(fastnn.ShapeError, match="bilinear mode needs 4D"):
        F.interpolate(fastnn.zeros(1, 1, 4), scale_factor=2, mode="bilinear")
    with pytest.raises(fastnn.ShapeError, match="linear mode needs 3D"):
        F.interpolate(x, scale_factor=2, mode="linear")
    with pytest.raises(fastnn.ShapeError, match="bicubic mode needs 4D"):
        F.interpolate(fastnn.zeros(1, 1, 4), scale_factor=2, mode="bicubic")
    with pytest.raises(ValueError, match="align_corners option can only be set"):
        F.interpolate(x, scale_factor=2, mode="area", align_corners=False)
    with pytest.raises(ValueError, match="same number of spatial dimensions"):
        F.interpolate(x, size=(2, 2, 2))
    with pytest.raises(fastnn.ShapeError, match="greater than 0"):
        F.interpolate(x, scale_factor=0.1)
    with pytest.raises(fastnn.ShapeError, match="Only 3D and 4D"):
        F.interpolate(fastnn.zeros(4, 4), scale_factor=2)
    with pytest.raises(ValueError, match="recompute_scale_factor is not meaningful"):
        F.interpolate(x, size=3, recompute_scale_factor=True)
    with pytest.raises(TypeError):
        F.interpolate(np.zeros((1, 1, 2, 2), np.int64), scale_factor=2)


def test_upsample_modules_match_torch():
    torch = requires_torch()
    x = np.random.default_rng(4).standard_normal((2, 3, 5, 4)).astype(np.float32)
    pairs = [(nn.Upsample(scale_factor=2), torch.nn.Upsample(scale_factor=2)),
             (nn.Upsample(size=(7, 6), mode="bilinear"),
              torch.nn.Upsample(size=(7, 6), mode="bilinear")),
             (nn.UpsamplingNearest2d(scale_factor=3), torch.nn.UpsamplingNearest2d(scale_factor=3)),
             (nn.UpsamplingBilinear2d(size=(8, 8)), torch.nn.UpsamplingBilinear2d(size=(8, 8)))]
    for a, b in pairs:
        np.testing.assert_allclose(a(x).numpy(), b(torch.tensor(x)).numpy(), rtol=2e-6,
                                   atol=1e-6)
        assert repr(a) == repr(b)


@pytest.mark.parametrize("shape,r", [((2, 8, 3, 4), 2), ((3, 9, 2, 2), 3), ((2, 5, 4, 3, 2), 1),
                                     ((18, 2, 3), 3)])
def test_pixel_shuffle_matches_torch(shape, r):
    torch = requires_torch()
    rng = np.random.default_rng(5)
    x = rng.standard_normal(shape)
    xf, xt = fastnn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yf, yt = F.pixel_shuffle(xf, r), torch.nn.functional.pixel_shuffle(xt, r)
    np.testing.assert_array_equal(yf.detach().numpy(), yt.detach().numpy())
    g = rng.standard_normal(yf.shape)
    yf.backward(g)
    yt.backward(torch.tensor(g))
    np.testing.assert_array_equal(np.asarray(xf.grad), xt.grad.numpy())
    uf = F.pixel_unshuffle(yf.detach(), r)
    np.testing.assert_array_equal(uf.numpy(), x)
    np.testing.assert_array_equal(
        uf.numpy(), torch.nn.functional.pixel_unshuffle(yt.detach(), r).numpy())
    u = fastnn.tensor(yf.detach().numpy(), requires_grad=True)
    assert fastnn.gradcheck(lambda a: (F.pixel_unshuffle(a, r) * fastnn.tensor(x)).sum(), [u])
    assert nn.PixelShuffle(r)(x).shape == yf.shape
    assert nn.PixelUnshuffle(r)(yf.detach()).shape == x.shape


def test_pixel_shuffle_errors():
    with pytest.raises(fastnn.ShapeError, match="divisible by the square of upscale_factor"):
        F.pixel_shuffle(fastnn.zeros(1, 7, 2, 2), 2)
    with pytest.raises(fastnn.ShapeError, match="height to be divisible"):
        F.pixel_unshuffle(fastnn.zeros(1, 1, 5, 4), 2)
    with pytest.raises(fastnn.ShapeError, match="at least 3 dimensions"):
        F.pixel_shuffle(fastnn.zeros(4, 4), 2)
    with pytest.raises(ValueError, match="positive upscale_factor"):
        F.pixel_shuffle(fastnn.zeros(1, 4, 2, 2), 0)
    with pytest.raises(TypeError):
        F.pixel_shuffle(fastnn.zeros(1, 4, 2, 2), 2.0)


def test_one_hot_matches_torch():
    torch = requires_torch()
    t = np.array([[0, 3], [2, 1]])
    for nc in (-1, 6):
        a = F.one_hot(fastnn.tensor(t), nc)
        b = torch.nn.functional.one_hot(torch.tensor(t), nc)
        assert a.dtype == np.int64
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert F.one_hot(np.zeros(0, np.int64), 3).shape == (0, 3)
    with pytest.raises(ValueError, match="smaller than num_classes"):
        F.one_hot(fastnn.tensor(t), 3)
    with pytest.raises(ValueError, match="non-negative"):
        F.one_hot(np.array([-1, 0]))
    with pytest.raises(TypeError, match="index tensor"):
        F.one_hot(np.array([0.0, 1.0]))
    with pytest.raises(fastnn.ShapeError, match="empty"):
        F.one_hot(np.zeros(0, np.int64))


DIST = [("pairwise_distance", [(5, 4), (5, 4)], dict()),
        ("pairwise_distance", [(5, 4), (1, 4)], dict(p=1.0, keepdim=True)),
        ("pairwise_distance", [(5, 4), (5, 4)], dict(p=3.0, eps=0.0)),
        ("pairwise_distance", [(5, 4), (5, 4)], dict(p=float("inf"))),
        ("pairwise_distance", [(4,), (4,)], dict()),
        ("cosine_similarity", [(5, 4), (5, 4)], dict()),
        ("cosine_similarity", [(3, 4, 2), (1, 4, 2)], dict(dim=1)),
        ("cosine_similarity", [(3, 4), (3, 4)], dict(dim=-1, eps=1e-3)),
        ("normalize", [(5, 4)], dict()),
        ("normalize", [(3, 4, 2)], dict(p=1.0, dim=2)),
        ("normalize", [(3, 4)], dict(p=3.0, dim=0, eps=0.5))]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name,shapes,kw", DIST, ids=[f"{d[0]}-{i}" for i, d in enumerate(DIST)])
def test_distances_match_torch(name, shapes, kw, dtype):
    torch = requires_torch()
    rng = np.random.default_rng(6)
    xs = [rng.standard_normal(s).astype(dtype) for s in shapes]
    if name == "cosine_similarity":
        xs[0][0] *= 1e-9       # a vector shorter than eps: the clamped norm
    fs = [fastnn.tensor(a, requires_grad=True) for a in xs]
    ts = [torch.tensor(a, requires_grad=True) for a in xs]
    yf = getattr(F, name)(*fs, **kw)
    yt = getattr(torch.nn.functional, name)(*ts, **kw)
    g = rng.standard_normal(tuple(yt.shape)).astype(dtype)
    yf.backward(g)
    yt.backward(torch.tensor(g))
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == np.float64 else dict(rtol=2e-4, atol=1e-5)
    np.testing.assert_allclose(yf.detach().numpy(), yt.detach().numpy(), **tol)
    for a, b in zip(fs, ts):
        np.testing.assert_allclose(np.asarray(a.grad), b.grad.numpy(), **tol)


@pytest.mark.parametrize("name,shapes,kw", [DIST[0], DIST[2], DIST[6], DIST[9]])
def test_distances_gradcheck(name, shapes, kw):
    rng = np.random.default_rng(7)
    xs = [fastnn.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]
    out = getattr(F, name)(*xs, **kw)
    up = fastnn.tensor(rng.standard_normal(out.shape))
    assert fastnn.gradcheck(lambda *a: (getattr(F, name)(*a, **kw) * up).sum(), xs)


def test_distance_modules_and_errors():
    torch = requires_torch()
    a, b = np.ones((2, 3), np.float32), np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_allclose(nn.CosineSimilarity(dim=0)(a, b).numpy(),
                               torch.nn.CosineSimilarity(dim=0)(torch.tensor(a),
                                                                torch.tensor(b)).numpy(),
                               rtol=1e-6)
    np.testing.assert_allclose(nn.PairwiseDistance(p=1, keepdim=True)(a, b).numpy(),
                               torch.nn.PairwiseDistance(p=1, keepdim=True)(
                                   torch.tensor(a), torch.tensor(b)).numpy(), rtol=1e-6)
    with pytest.raises(fastnn.ShapeError, match="broadcast"):
        F.pairwise_distance(np.ones((2, 3)), np.ones((3, 3)))
    with pytest.raises(IndexError):
        F.cosine_similarity(a, b, dim=2)
    with pytest.raises(ValueError, match="p must be"):
        F.normalize(a, p=-1)


def test_unflatten_matches_torch():
    torch = requires_torch()
    x = np.arange(2 * 12 * 3, dtype=np.float32).reshape(2, 12, 3)
    for dim, size in [(1, (3, 4)), (-2, (2, -1, 3)), (0, (1, 2)), (2, [3])]:
        a = nn.Unflatten(dim, size)
        b = torch.nn.Unflatten(dim, size)
        np.testing.assert_array_equal(a(x).numpy(), b(torch.tensor(x)).numpy())
        assert repr(a) == repr(b)
    xt = fastnn.tensor(x, requires_grad=True)
    nn.Unflatten(1, (3, 4))(xt).sum().backward()
    np.testing.assert_array_equal(np.asarray(xt.grad), np.ones_like(x))
    with pytest.raises(fastnn.ShapeError):
        nn.Unflatten(1, (5, 2))(x)
    with pytest.raises(TypeError):
        nn.Unflatten(1, 12)
    with pytest.raises(IndexError):
        nn.Unflatten(3, (1, 3))(x)


def test_warnings_are_quiet_for_plain_calls():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.interpolate(fastnn.zeros(1, 1, 2, 2), scale_factor=2, mode="bilinear")


def _interpolate_both(x, rng, **kw):
    """``interpolate(x, **kw)`` and its input gradient (for the same random
    output gradient) under torch and under fastnn: ((y, dx) torch, (y, dx)
    fastnn)."""
    torch = pytest.importorskip("torch")
    outs, gy = [], None
    for m in (torch, fastnn):
        xt = m.tensor(x, requires_grad=True)
        y = m.nn.functional.interpolate(xt, **kw)
        if gy is None:
            gy = rng.standard_normal(tuple(y.shape)).astype(np.float32)
        (y * m.tensor(gy)).sum().backward()
        outs.append((y.detach().numpy(), xt.grad.numpy()))
    return outs


_BICUBIC_KW = [dict(size=(14, 5)), dict(scale_factor=2), dict(scale_factor=(0.6, 1.3)),
               dict(size=(1, 1)), dict(size=(7, 9)), dict(size=(3, 20)),
               dict(scale_factor=1.7, recompute_scale_factor=True)]


@pytest.mark.parametrize("kw", _BICUBIC_KW)
@pytest.mark.parametrize("ac", [False, True])
def test_bicubic_matches_torch(kw, ac):
    # mode='bicubic' raised NotImplementedError (used for resizing images and
    # ViT position embeddings); now PyTorch's A = -0.75 kernel with clamped taps
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 3, 7, 9)).astype(np.float32)
    (yt, gt), (yf, gf) = _interpolate_both(x, rng, mode="bicubic", align_corners=ac, **kw)
    assert yf.shape == yt.shape and yf.dtype == yt.dtype
    np.testing.assert_allclose(yf, yt, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(gf, gt, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shape,kw", [((2, 3, 7, 9), dict(size=(3, 4))),
                                      ((2, 3, 7, 9), dict(scale_factor=0.5)),
                                      ((2, 3, 7, 9), dict(size=(14, 18))),
                                      ((2, 3, 7, 9), dict(scale_factor=(0.3, 1.5))),
                                      ((2, 3, 10), dict(size=4)),
                                      ((1, 2, 6, 5), dict(size=(4, 3)))])
def test_area_matches_torch(shape, kw):
    # mode='area' (adaptive average pooling to the output size) raised
    # NotImplementedError
    rng = np.random.default_rng(8)
    x = rng.standard_normal(shape).astype(np.float32)
    (yt, gt), (yf, gf) = _interpolate_both(x, rng, mode="area", **kw)
    assert yf.shape == yt.shape
    np.testing.assert_allclose(yf, yt, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gf, gt, rtol=1e-5, atol=1e-6)


def test_area_empty_output_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.ones((1, 1, 1, 1), np.float32)
    want = torch.nn.functional.interpolate(torch.tensor(x), scale_factor=(2.0, 0.5), mode="area")
    got = F.interpolate(fastnn.tensor(x), scale_factor=(2.0, 0.5), mode="area")
    assert tuple(got.shape) == tuple(want.shape) == (1, 1, 2, 0)


@pytest.mark.parametrize("kw", [dict(scale_factor=2), dict(size=(4, 5, 6)), dict(size=(2, 3, 3)),
                                dict(scale_factor=(1.5, 0.5, 2.3)),
                                dict(scale_factor=1.7, recompute_scale_factor=True)])
@pytest.mark.parametrize("mode,ac", [("nearest", None), ("nearest-exact", None),
                                     ("trilinear", False), ("trilinear", True)])
def test_5d_matches_torch(kw, mode, ac):
    # 5-D input (3-D models: video, volumes) raised ShapeError for every mode
    rng = np.random.default_rng(9)
    x = rng.standard_normal((2, 2, 3, 4, 5)).astype(np.float32)
    (yt, gt), (yf, gf) = _interpolate_both(x, rng, mode=mode, align_corners=ac, **kw)
    assert yf.shape == yt.shape
    np.testing.assert_allclose(yf, yt, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gf, gt, rtol=1e-5, atol=1e-5)


def test_trilinear_needs_5d():
    with pytest.raises(fastnn.ShapeError, match="trilinear mode needs 5D"):
        F.interpolate(fastnn.ones(1, 1, 2, 2), scale_factor=2, mode="trilinear")
