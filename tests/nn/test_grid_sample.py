"""F.affine_grid and F.grid_sample against PyTorch: values and gradients
(input and grid) for every mode (bicubic included), padding mode and align_corners, float64 and
float32, grids reaching outside [-1, 1]; gradcheck; a spatial-transformer
step; errors."""
import numpy as np
import pytest

import fastnn
import fastnn.nn as nn
import fastnn.nn.functional as F
from fastnn.testing import requires_torch

_MODES, _PADS = ["bilinear", "nearest", "bicubic"], ["zeros", "border", "reflection"]
TOL = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=1e-4, atol=2e-5)}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("align", [False, True])
@pytest.mark.parametrize("pad", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
def test_grid_sample_matches_torch(mode, pad, align, dtype):
    torch = requires_torch()
    rng = np.random.default_rng([_MODES.index(mode), _PADS.index(pad), int(align)])
    for xs, gs in [((2, 3, 5, 6), (2, 4, 7, 2)), ((1, 1, 1, 4), (1, 3, 2, 2)),
                   ((2, 2, 3, 1), (2, 1, 5, 2))]:
        x = rng.standard_normal(xs).astype(dtype)
        g = rng.uniform(-2.5, 2.5, gs).astype(dtype)      # well outside [-1, 1] too
        xf, gf = fastnn.tensor(x, requires_grad=True), fastnn.tensor(g, requires_grad=True)
        xt, gt = torch.tensor(x, requires_grad=True), torch.tensor(g, requires_grad=True)
        yf = F.grid_sample(xf, gf, mode, pad, align)
        yt = torch.nn.functional.grid_sample(xt, gt, mode, pad, align)
        assert yf.dtype == np.dtype(dtype)
        np.testing.assert_allclose(yf.detach().numpy(), yt.detach().numpy(), **TOL[dtype])
        up = rng.standard_normal(yt.shape).astype(dtype)
        yf.backward(up)
        yt.backward(torch.tensor(up))
        np.testing.assert_allclose(xf.grad.numpy(), xt.grad.numpy(), **TOL[dtype])
        np.testing.assert_allclose(gf.grad.numpy(), gt.grad.numpy(), **TOL[dtype])


@pytest.mark.parametrize("align", [False, True])
@pytest.mark.parametrize("size", [(2, 3, 4, 5), (2, 1, 1, 3), (1, 2, 3, 4, 2)])
def test_affine_grid_matches_torch(size, align):
    torch = requires_torch()
    rng = np.random.default_rng(5)
    d = len(size) - 2
    th = rng.standard_normal((size[0], d, d + 1))
    for dt in (np.float64, np.float32):
        a = F.affine_grid(fastnn.tensor(th.astype(dt)), size, align).numpy()
        with pytest.warns(UserWarning) if (align and 1 in size[2:]) else _nowarn():
            b = torch.nn.functional.affine_grid(torch.tensor(th.astype(dt)), size, align).numpy()
        assert a.shape == b.shape and a.dtype == dt
        np.testing.assert_allclose(a, b, **TOL[dt])


class _nowarn:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def test_gradcheck_bilinear_all_paddings():
    rng = np.random.default_rng(6)
    x = fastnn.tensor(rng.standard_normal((1, 2, 4, 5)), requires_grad=True)
    # keep grid points off integer pixel coordinates (where the bilinear
    # weights have kinks) and off the clip/reflection edges
    g = rng.uniform(-1.3, 1.3, (1, 3, 3, 2))
    for pad in ("zeros", "border", "reflection"):
        for align in (False, True):
            gg = fastnn.tensor(g, requires_grad=True)
            assert fastnn.gradcheck(lambda a, b: F.grid_sample(a, b, "bilinear", pad, align) ** 2,
                                    (x, gg), eps=1e-7)
    th = fastnn.tensor(rng.standard_normal((2, 2, 3)) * 0.5, requires_grad=True)
    x2 = fastnn.tensor(rng.standard_normal((2, 1, 4, 4)))
    assert fastnn.gradcheck(lambda t: F.grid_sample(x2, F.affine_grid(t, (2, 1, 3, 3), False),
                                                    align_corners=False), (th,), eps=1e-7)


def test_identity_theta_reproduces_the_input():
    x = fastnn.tensor(np.random.default_rng(7).standard_normal((2, 3, 6, 5)))
    theta = fastnn.tensor(np.tile(np.array([[1.0, 0, 0], [0, 1.0, 0]]), (2, 1, 1)))
    for align in (False, True):
        y = F.grid_sample(x, F.affine_grid(theta, x.shape, align), align_corners=align)
        np.testing.assert_allclose(y.numpy(), x.numpy(), atol=1e-12)


def test_spatial_transformer_step_matches_torch():
    """The tutorial's pattern: a localisation net predicts theta; the loss
    trains through affine_grid and grid_sample."""
    torch = requires_torch()
    rng = np.random.default_rng(8)
    x = rng.standard_normal((4, 1, 8, 8)).astype(np.float32)
    loc_w = (rng.standard_normal((6, 64)) * 0.05).astype(np.float32)
    loc_b = np.array([1, 0, 0, 0, 1, 0], np.float32)
    grads = []
    for lib in (fastnn, torch):
        Fl = lib.nn.functional
        w = lib.tensor(loc_w, requires_grad=True)
        b = lib.tensor(loc_b, requires_grad=True)
        xi = lib.tensor(x)
        theta = Fl.linear(xi.reshape(4, 64), w, b).view(-1, 2, 3)
        grid = Fl.affine_grid(theta, (4, 1, 8, 8), align_corners=False)
        out = Fl.grid_sample(xi, grid, align_corners=False)
        loss = (out * out).mean()
        loss.backward()
        grads.append((loss.item(), w.grad.numpy(), b.grad.numpy()))
    assert np.isclose(grads[0][0], grads[1][0], rtol=1e-5)
    np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-3, atol=1e-6)
    np.testing.assert_allclose(grads[0][2], grads[1][2], rtol=1e-3, atol=1e-6)


def test_nonfinite_grid_does_not_crash():
    x = fastnn.ones(1, 1, 3, 3)
    g = fastnn.tensor(np.array([[[[np.inf, 0.0], [np.nan, 0.0], [1e30, -1e30]]]], np.float32))
    y = F.grid_sample(x, g, align_corners=False)
    assert y.shape == (1, 1, 1, 3)


def _bad(**kw):
    a = dict(input=fastnn.zeros(2, 3, 5, 5), grid=fastnn.zeros(2, 4, 6, 2))
    a.update(kw)
    return lambda: F.grid_sample(**a)


@pytest.mark.parametrize("fn,exc,match", [
    (_bad(mode="foo"), ValueError, "expected mode"),
    (_bad(padding_mode="foo"), ValueError, "padding_mode"),
    (_bad(grid=fastnn.zeros(2, 4, 6, 2, dtype=fastnn.float64)), TypeError, "same dtype"),
    (_bad(grid=fastnn.zeros(1, 4, 6, 2)), ValueError, "same batch size"),
    (_bad(grid=fastnn.zeros(2, 4, 6, 1)), ValueError, "size 2 in last dimension"),
    (_bad(input=fastnn.zeros(3, 5, 5)), ValueError, "same batch size"),   # (torch checks it first)
    (_bad(input=fastnn.zeros(2, 5, 5), grid=fastnn.zeros(2, 6, 1)), ValueError, "4D input"),
    (_bad(input=fastnn.zeros(2, 3, 0, 5)), ValueError, "non-empty spatial"),
    (_bad(input=fastnn.zeros(2, 3, 5, 5, dtype=fastnn.int64)), TypeError, "float"),
    (lambda: F.affine_grid(fastnn.zeros(2, 2, 3), (2, 3, 4)), NotImplementedError, "4D and 5D"),
    (lambda: F.affine_grid(fastnn.zeros(2, 2, 3), (2, 3, 4, 5, 6)), ValueError, "Nx3x4"),
    (lambda: F.affine_grid(fastnn.zeros(2, 2, 3), (2, 3, 0, 5)), ValueError, "positive"),
    (lambda: F.affine_grid(fastnn.zeros(2, 2, 3, dtype=fastnn.int64), (2, 3, 4, 5)),
     TypeError, "floating point"),
])
def test_errors(fn, exc, match):
    with pytest.raises(exc, match=match):
        fn()


@pytest.mark.parametrize("align", [False, True])
def test_affine_grid_identity_is_bitwise_torch_and_theta_grad_at_pixel_centres(align):
    # the base grid must hold torch.linspace's values scaled as PyTorch scales
    # them (r * (n - 1) / n, two roundings): at the identity the sample points
    # then sit exactly on pixel centres, where the bilinear grid gradient takes
    # one side of its kink, and both libraries must take the same side
    torch = requires_torch()
    for size in [(2, 1, 7, 8), (1, 1, 16, 16), (1, 1, 33, 65)]:
        th = np.tile(np.array([[1, 0, 0], [0, 1, 0]], np.float32), (size[0], 1, 1))
        x = np.random.default_rng(size[2]).standard_normal(size).astype(np.float32)
        tf, tt = fastnn.tensor(th, requires_grad=True), torch.tensor(th, requires_grad=True)
        gf = F.affine_grid(tf, size, align_corners=align)
        gt = torch.nn.functional.affine_grid(tt, size, align_corners=align)
        np.testing.assert_array_equal(gf.detach().numpy(), gt.detach().numpy())
        yf = F.grid_sample(fastnn.tensor(x), gf, align_corners=align)
        yt = torch.nn.functional.grid_sample(torch.tensor(x), gt, align_corners=align)
        (yf * yf).sum().backward()
        (yt * yt).sum().backward()
        np.testing.assert_allclose(tf.grad.numpy(), tt.grad.numpy(), rtol=1e-4, atol=1e-3)


def test_gradcheck_bicubic_all_paddings():
    # the bicubic weights are smooth in the grid inside a cell; each tap is
    # moved inside by the padding on its own, so the grid's gradient keeps
    # the unnormalisation's scale even out of range (PyTorch's definition)
    rng = np.random.default_rng(8)
    x = fastnn.tensor(rng.standard_normal((1, 2, 4, 5)), requires_grad=True)
    g = rng.uniform(-1.4, 1.4, (1, 3, 3, 2))
    for pad in ("zeros", "border", "reflection"):
        for align in (False, True):
            gg = fastnn.tensor(g, requires_grad=True)
            assert fastnn.gradcheck(lambda a, b: F.grid_sample(a, b, "bicubic", pad, align),
                                    (x, gg), eps=1e-7, atol=1e-5)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("align", [False, True])
@pytest.mark.parametrize("pad", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_grid_sample_5d_matches_torch(mode, pad, align, dtype):
    # volumetric sampling (VoxelMorph's spatial transformer): grid (x, y, z)
    # indexes (W, H, D); 'bilinear' is trilinear
    torch = requires_torch()
    rng = np.random.default_rng([7, _MODES.index(mode), _PADS.index(pad), int(align)])
    x = rng.standard_normal((2, 3, 4, 5, 6)).astype(dtype)
    g = rng.uniform(-1.6, 1.6, (2, 3, 4, 2, 3)).astype(dtype)
    xf, gf = fastnn.tensor(x, requires_grad=True), fastnn.tensor(g, requires_grad=True)
    xt, gt = torch.tensor(x, requires_grad=True), torch.tensor(g, requires_grad=True)
    yf = F.grid_sample(xf, gf, mode, pad, align)
    yt = torch.nn.functional.grid_sample(xt, gt, mode, pad, align)
    assert tuple(yf.shape) == tuple(yt.shape) == (2, 3, 3, 4, 2)
    np.testing.assert_allclose(yf.detach().numpy(), yt.detach().numpy(), **TOL[dtype])
    up = rng.standard_normal(yt.shape).astype(dtype)
    yf.backward(fastnn.tensor(up))
    yt.backward(torch.tensor(up))
    np.testing.assert_allclose(xf.grad.numpy(), xt.grad.numpy(), **TOL[dtype])
    np.testing.assert_allclose(gf.grad.numpy(), gt.grad.numpy(), **TOL[dtype])


def test_grid_sample_5d_affine_registration_step_and_errors():
    torch = requires_torch()
    rng = np.random.default_rng(9)
    vol = rng.standard_normal((1, 1, 4, 4, 4))
    th = np.eye(3, 4)[None] + 0.05 * rng.standard_normal((1, 3, 4))
    grads = []
    for M in (torch, fastnn):
        t = M.tensor(th, requires_grad=True)
        grid = M.nn.functional.affine_grid(t, (1, 1, 4, 4, 4), align_corners=False)
        out = M.nn.functional.grid_sample(M.tensor(vol), grid, align_corners=False)
        ((out - M.tensor(vol)) ** 2).mean().backward()
        grads.append(t.grad.numpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-10, atol=1e-12)
    t = fastnn.tensor(th, requires_grad=True)
    assert fastnn.gradcheck(lambda a: F.grid_sample(
        fastnn.tensor(vol), F.affine_grid(a, (1, 1, 3, 3, 3), align_corners=True),
        align_corners=True), (t,), eps=1e-7)
    with pytest.raises(RuntimeError, match="bicubic interpolation only supports 4D input"):
        F.grid_sample(fastnn.ones(1, 1, 2, 2, 2), fastnn.zeros(1, 1, 1, 1, 3), "bicubic")
    with pytest.raises(RuntimeError, match="size 3 in last dimension"):
        F.grid_sample(fastnn.ones(1, 1, 2, 2, 2), fastnn.zeros(1, 1, 1, 1, 2))


def test_grid_sample_shape_errors_in_torch_order():
    torch = requires_torch()
    cases = [((1, 1, 2, 2), (1, 1, 1, 1, 3)), ((1, 1, 2, 2, 2), (1, 1, 1, 1, 2)),
             ((2, 1, 2, 2), (1, 1, 1, 2)), ((1, 1, 2, 2), (1, 1, 2)),
             ((1, 1, 0, 2), (1, 1, 1, 2)), ((1, 1, 2, 2, 2), (1, 1, 1, 3)),
             ((1, 2, 2), (1, 2, 2))]
    for xs, gs in cases:
        msgs = []
        for M in (torch, fastnn):
            with pytest.raises(RuntimeError) as e:
                M.nn.functional.grid_sample(M.ones(*xs), M.zeros(*gs), align_corners=False)
            msgs.append(str(e.value).split(", but")[0])
        assert msgs[0] == msgs[1], (xs, gs, msgs)


def test_align_corners_none_warns_and_means_false_like_torch():
    torch = requires_torch()
    for M in (torch, fastnn):
        th = M.tensor([[[0.9, 0.1, 0.05], [-0.2, 1.1, 0.0]]])
        x = M.tensor(np.arange(16.0, dtype=np.float32).reshape(1, 1, 4, 4))
        with pytest.warns(UserWarning, match="changed to align_corners=False since 1.3.0"):
            g = M.nn.functional.affine_grid(th, [1, 1, 3, 3])
        with pytest.warns(UserWarning, match="changed to align_corners=False since 1.3.0"):
            y = M.nn.functional.grid_sample(x, g)
        ref = M.nn.functional.grid_sample(
            x, M.nn.functional.affine_grid(th, [1, 1, 3, 3], align_corners=False),
            align_corners=False)
        assert bool((y == ref).all())
