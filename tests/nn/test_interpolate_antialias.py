"""F.interpolate(..., antialias=True): bilinear, bicubic and lanczos on 4-D
input, the same numbers and gradients as PyTorch's (PIL-style filters
widened by the scale when shrinking), and PyTorch's errors for the other
modes."""
import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F

CASES = [((2, 3, 16, 16), dict(size=(8, 8))),
         ((2, 3, 16, 16), dict(scale_factor=0.5)),
         ((1, 2, 10, 13), dict(size=(3, 7))),
         ((1, 1, 5, 7), dict(size=(7, 9))),                    # enlarging
         ((1, 1, 9, 20), dict(scale_factor=(0.45, 0.37))),
         ((1, 1, 9, 20), dict(scale_factor=(0.45, 0.37), recompute_scale_factor=True)),
         ((1, 1, 31, 17), dict(size=(6, 5)))]


@pytest.mark.parametrize("mode", ["bilinear", "bicubic", "lanczos"])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("shape, kw", CASES)
def test_matches_torch(mode, align_corners, shape, kw):
    torch = pytest.importorskip("torch")
    if mode == "lanczos" and align_corners:
        pytest.skip("lanczos refuses align_corners=True (test_lanczos_errors)")
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    g = None
    for dt, tol in ((np.float32, 2e-6), (np.float64, 1e-12)):
        xt = torch.tensor(x.astype(dt), requires_grad=True)
        want = torch.nn.functional.interpolate(xt, mode=mode, align_corners=align_corners,
                                               antialias=True, **kw)
        xf = fastnn.tensor(x.astype(dt), requires_grad=True)
        got = F.interpolate(xf, mode=mode, align_corners=align_corners, antialias=True, **kw)
        assert got.shape == tuple(want.shape) and got.dtype == xf.dtype
        scale = np.abs(want.detach().numpy()).max()
        np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=0,
                                   atol=tol * scale)
        if g is None:
            g = rng.standard_normal(got.shape)
        want.backward(torch.tensor(g.astype(dt)))
        got.backward(fastnn.tensor(g.astype(dt)))
        np.testing.assert_allclose(xf.grad.numpy(), xt.grad.numpy(), rtol=0,
                                   atol=tol * np.abs(xt.grad.numpy()).max())


def test_shrinking_averages_every_pixel():
    # one lit column in four, shrunk by 4: plain bilinear samples between
    # the dark columns and sees nothing; the antialiased filter (a triangle
    # 8 pixels wide) averages to 1/4 away from the edges
    x = fastnn.tensor(np.tile([1.0, 0.0, 0.0, 0.0], 16).reshape(1, 1, 4, 16))
    aa = F.interpolate(x, size=(4, 4), mode="bilinear", antialias=True)
    plain = F.interpolate(x, size=(4, 4), mode="bilinear")
    np.testing.assert_allclose(aa.numpy()[..., 1:3], 0.25, atol=1e-6)
    assert (plain.numpy() == 0).all()
    ones = fastnn.ones(1, 2, 9, 7)
    np.testing.assert_allclose(F.interpolate(ones, size=(4, 3), mode="bicubic",
                                             antialias=True).numpy(), 1.0, rtol=1e-6)


@pytest.mark.parametrize("mode, shape", [("nearest", (1, 1, 4, 4)), ("area", (1, 1, 4, 4)),
                                         ("linear", (1, 1, 4)),
                                         ("trilinear", (1, 1, 4, 4, 4))])
def test_other_modes_refused_like_torch(mode, shape):
    x = fastnn.ones(*shape)
    with pytest.raises(ValueError, match="Anti-alias option is restricted"):
        F.interpolate(x, size=(2,) * (len(shape) - 2), mode=mode, antialias=True)


def test_upsample_module_and_bad_size():
    x = fastnn.ones(1, 1, 6, 6)
    with pytest.raises(ValueError):
        F.interpolate(x, size=(0, 3), mode="bilinear", antialias=True)
    with pytest.raises(ValueError, match="only one of size or scale_factor"):
        F.interpolate(x, size=(3, 3), scale_factor=0.5, mode="bilinear", antialias=True)


def test_lanczos_errors_like_torch():
    x = fastnn.ones(1, 1, 8, 8)
    with pytest.raises(ValueError, match="Lanczos mode requires antialias=True"):
        F.interpolate(x, size=(4, 4), mode="lanczos")
    with pytest.raises(ValueError, match="does not support align_corners=True"):
        F.interpolate(x, size=(4, 4), mode="lanczos", antialias=True, align_corners=True)
    with pytest.raises(ValueError, match="Anti-alias option is restricted"):
        F.interpolate(fastnn.ones(1, 1, 8), size=4, mode="lanczos", antialias=True)
    out = F.interpolate(x, size=(3, 5), mode="lanczos", antialias=True)
    np.testing.assert_allclose(out.numpy(), 1.0, rtol=1e-6)     # weights sum to one
