"""The 3-D layers (Conv3d, ConvTranspose3d, MaxPool3d, AvgPool3d, adaptive
pooling, MaxUnpool3d, LPPool3d, BatchNorm3d, InstanceNorm3d and the Lazy
forms) and their functional forms against PyTorch: values, gradients of
input, weight and bias, indices, state dicts, init and repr; gradcheck in
float64 on small shapes."""
import math

import numpy as np
import pytest

import fastnn
import fastnn.nn as fnn
import fastnn.nn.functional as F
from fastnn._errors import ShapeError

torch = pytest.importorskip("torch")
TF = torch.nn.functional
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")

TOLS = {np.float32: dict(rtol=1e-4, atol=1e-5), np.float64: dict(rtol=1e-10, atol=1e-11)}


def _run(fn_f, fn_t, arrays, dtype, **kw):
    """Runs both sides on the same data with a random upstream gradient;
    asserts outputs (and indices) and every input's gradient agree."""
    rng = np.random.default_rng(7)
    arrays = [a.astype(dtype) for a in arrays]
    fs = [fastnn.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    rf, rt = fn_f(*fs, **kw), fn_t(*ts, **kw)
    if isinstance(rt, tuple):
        (yf, i_f), (yt, it) = rf, rt
        np.testing.assert_array_equal(i_f.numpy(), it.numpy())
        assert i_f.numpy().dtype == np.int64
    else:
        yf, yt = rf, rt
    assert tuple(yf.shape) == tuple(yt.shape)
    tol = TOLS[dtype]
    np.testing.assert_allclose(yf.detach().numpy(), yt.detach().numpy(), **tol)
    g = rng.standard_normal(tuple(yt.shape)).astype(dtype)
    yf.backward(fastnn.tensor(g))
    yt.backward(torch.tensor(g))
    for a, b in zip(fs, ts):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), **tol)


def _r(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# ---------------------------------------------------------------- convolution

CONV_CASES = [
    # x shape, w shape, bias, kwargs
    ((2, 4, 5, 6, 7), (6, 2, 3, 2, 3), True,
     dict(stride=(2, 1, 2), padding=(1, 0, 2), dilation=(1, 2, 1), groups=2)),
    ((1, 3, 4, 5, 5), (2, 3, 3, 3, 3), True, dict(padding=1)),
    ((2, 4, 5, 6, 5), (4, 2, 2, 3, 2), True, dict(padding="same", dilation=(2, 1, 1), groups=2)),
    ((2, 3, 5, 4, 6), (5, 3, 2, 2, 2), False, dict(padding="valid", stride=3)),
    ((4, 5, 6, 7), (3, 4, 3, 1, 3), True, dict(stride=(1, 2, 1))),       # unbatched
    ((2, 4, 3, 5, 5), (4, 1, 1, 3, 3), True, dict(groups=4, padding=(0, 1, 1))),  # kD == 1
    ((1, 2, 3, 3, 3), (3, 2, 3, 3, 3), True, {}),                       # kernel == input
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("xs,ws,bias,kw", CONV_CASES)
def test_conv3d_matches_torch(xs, ws, bias, kw, dtype):
    arrays = [_r(*xs), _r(*ws, seed=1)] + ([_r(ws[0], seed=2)] if bias else [])
    _run(F.conv3d, TF.conv3d, arrays, dtype, **kw)


CONVT_CASES = [
    ((2, 4, 3, 4, 5), (4, 3, 3, 2, 3), True,
     dict(stride=(2, 1, 3), padding=(1, 0, 1), output_padding=(1, 0, 2), groups=2)),
    ((2, 4, 3, 4, 5), (4, 3, 3, 2, 3), False,
     dict(stride=(1, 2, 1), padding=(0, 1, 1), output_padding=(1, 1, 0), groups=2,
          dilation=(2, 1, 1))),                                       # output_padding >= stride
    ((3, 2, 3, 4), (3, 2, 2, 2, 2), True, dict(stride=2)),             # unbatched
    ((1, 2, 4, 3, 3), (2, 3, 1, 3, 3), True, dict(padding=(0, 1, 1))),  # kD == 1
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("xs,ws,bias,kw", CONVT_CASES)
def test_conv_transpose3d_matches_torch(xs, ws, bias, kw, dtype):
    arrays = [_r(*xs), _r(*ws, seed=1)]
    if bias:
        arrays.append(_r(ws[1] * kw.get("groups", 1), seed=2))
    _run(F.conv_transpose3d, TF.conv_transpose3d, arrays, dtype, **kw)


def test_conv3d_gradcheck():
    x = fastnn.tensor(_r(1, 2, 3, 4, 3), requires_grad=True)
    w = fastnn.tensor(_r(2, 1, 2, 2, 2, seed=1), requires_grad=True)
    b = fastnn.tensor(_r(2, seed=2), requires_grad=True)
    assert fastnn.gradcheck(lambda x, w, b: F.conv3d(x, w, b, stride=(2, 1, 1), padding=1,
                                                     groups=2), (x, w, b))
    assert fastnn.gradcheck(lambda x, w, b: F.conv_transpose3d(
        x, w, b, stride=2, padding=(1, 0, 1), output_padding=1, groups=2), (x, w, b))


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
def test_conv3d_module_matches_torch(mode):
    torch.manual_seed(0)
    t = torch.nn.Conv3d(4, 6, (3, 2, 3), stride=(1, 2, 1), padding=(1, 1, 2), groups=2,
                        padding_mode=mode).double()
    f = fnn.Conv3d(4, 6, (3, 2, 3), stride=(1, 2, 1), padding=(1, 1, 2), groups=2,
                   padding_mode=mode, dtype=fastnn.float64)
    assert repr(f) == repr(t)
    assert {k: tuple(v.shape) for k, v in f.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in t.state_dict().items()}
    f.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})
    x = _r(2, 4, 4, 5, 6)
    fx, tx = fastnn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yf, yt = f(fx), t(tx)
    np.testing.assert_allclose(yf.detach().numpy(), yt.detach().numpy(), rtol=1e-10,
                               atol=1e-12)
    yf.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(fx.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(f.weight.grad.numpy(), t.weight.grad.numpy(), rtol=1e-10,
                               atol=1e-11)


def test_conv_transpose3d_module_output_size_and_init():
    t = torch.nn.ConvTranspose3d(4, 6, 3, stride=2, padding=1, groups=2)
    f = fnn.ConvTranspose3d(4, 6, 3, stride=2, padding=1, groups=2)
    assert repr(f) == repr(t)
    assert tuple(f.weight.shape) == (4, 3, 3, 3, 3)
    f.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    x = _r(1, 4, 3, 4, 5).astype(np.float32)
    yf = f(fastnn.tensor(x), output_size=(6, 8, 10))
    yt = t(torch.tensor(x), output_size=(6, 8, 10))
    assert tuple(yf.shape) == (1, 6, 6, 8, 10)
    np.testing.assert_allclose(yf.detach().numpy(), yt.detach().numpy(), rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError):
        f(fastnn.tensor(x), output_size=(9, 8, 10))


def test_conv3d_default_init_bounds():
    fastnn.manual_seed(0)
    for m, fan_in in ((fnn.Conv3d(8, 16, 3), 8 * 27), (fnn.ConvTranspose3d(8, 16, 3, groups=2),
                                                       8 * 27)):
        bound = 1 / math.sqrt(fan_in)
        w, b = m.weight.detach().numpy(), m.bias.detach().numpy()
        assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
        assert np.abs(b).max() <= bound and np.abs(b).max() > 0.7 * bound
        assert abs(w.std() - bound / math.sqrt(3)) < 0.1 * bound


def test_conv3d_bad_arguments():
    with pytest.raises(ShapeError, match="channels"):
        F.conv3d(fastnn.ones(1, 3, 4, 4, 4), fastnn.ones(2, 4, 2, 2, 2))
    with pytest.raises(ShapeError, match="5-D"):
        F.conv3d(fastnn.ones(1, 4, 4, 4, 4), fastnn.ones(2, 4, 2, 2))
    with pytest.raises(ShapeError, match="4-D"):
        F.conv3d(fastnn.ones(4, 4, 4), fastnn.ones(2, 4, 2, 2, 2))
    with pytest.raises(ShapeError, match="kernel size"):
        F.conv3d(fastnn.ones(1, 4, 2, 4, 4), fastnn.ones(2, 4, 3, 2, 2))
    with pytest.raises(ShapeError, match="bias"):
        F.conv3d(fastnn.ones(1, 4, 4, 4, 4), fastnn.ones(2, 4, 2, 2, 2), fastnn.ones(3))
    with pytest.raises(ValueError, match="same"):
        F.conv3d(fastnn.ones(1, 4, 4, 4, 4), fastnn.ones(2, 4, 2, 2, 2), padding="same",
                 stride=2)
    with pytest.raises(ValueError, match="output padding"):
        F.conv_transpose3d(fastnn.ones(1, 4, 2, 2, 2), fastnn.ones(4, 2, 2, 2, 2),
                           output_padding=1)
    with pytest.raises(ValueError):
        fnn.Conv3d(4, 6, (3, 3))
    with pytest.raises(ValueError):
        fnn.Conv3d(4, 5, 3, groups=2)
    with pytest.raises(ValueError):
        fnn.ConvTranspose3d(4, 6, 3, padding_mode="reflect")


def test_torch_level_names():
    x = _r(1, 2, 4, 4, 4).astype(np.float32)
    w = _r(3, 2, 2, 2, 2, seed=1).astype(np.float32)
    np.testing.assert_allclose(fastnn.conv3d(fastnn.tensor(x), fastnn.tensor(w)).numpy(),
                               torch.conv3d(torch.tensor(x), torch.tensor(w)).numpy(),
                               rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(
        fastnn.conv_transpose3d(fastnn.tensor(x), fastnn.tensor(w[:2])).numpy(),
        torch.conv_transpose3d(torch.tensor(x), torch.tensor(w[:2])).numpy(), rtol=1e-4,
        atol=1e-5)
    np.testing.assert_array_equal(fastnn.max_pool3d(fastnn.tensor(x), 2, 1).numpy(),
                                  torch.max_pool3d(torch.tensor(x), 2, 1).numpy())


# ---------------------------------------------------------------- pooling

MAXPOOL_CASES = [
    ((2, 3, 7, 6, 9), 3, dict(stride=2, padding=1)),
    ((2, 3, 7, 6, 9), (3, 2, 3), dict(stride=(2, 1, 2), padding=(1, 1, 0), dilation=(2, 1, 2),
                                      ceil_mode=True)),
    ((1, 2, 5, 5, 5), 2, dict(ceil_mode=True)),
    ((3, 5, 4, 7), 2, {}),                                           # unbatched
    ((2, 2, 4, 5, 6), (1, 2, 2), dict(stride=(1, 2, 1))),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,k,kw", MAXPOOL_CASES)
def test_max_pool3d_matches_torch(shape, k, kw, dtype):
    _run(F.max_pool3d, TF.max_pool3d, [_r(*shape)], dtype, kernel_size=k, return_indices=True,
         **kw)
    _run(F.max_pool3d, TF.max_pool3d, [_r(*shape)], dtype, kernel_size=k, **kw)


def test_max_pool3d_ties_pick_torchs_index():
    x = np.random.default_rng(3).integers(0, 3, (2, 3, 7, 6, 9)).astype(np.float64)
    _run(F.max_pool3d, TF.max_pool3d, [x], np.float64, kernel_size=3, stride=2, padding=1,
         return_indices=True)
    _run(F.adaptive_max_pool3d, TF.adaptive_max_pool3d, [x], np.float64, output_size=(3, 4, 5),
         return_indices=True)
    yf, yt = F.max_pool3d_with_indices(fastnn.tensor(x), 2), TF.max_pool3d_with_indices(
        torch.tensor(x), 2)
    np.testing.assert_array_equal(yf[1].numpy(), yt[1].numpy())


@pytest.mark.parametrize("fn,args", [("max_pool3d", (2,)), ("max_pool3d", (3, 2, 1)),
                                     ("adaptive_max_pool3d", (2,)),
                                     ("adaptive_max_pool3d", (3,))])
def test_max_pool3d_nan_and_inf_pick_torchs_element(fn, args):
    x = _r(1, 2, 4, 4, 4)
    x[0, 0, 1, 2, 3] = x[0, 0, 0, 2, 2] = x[0, 0, 1, 0, 0] = np.nan
    x[0, 1, 3, 0, 0] = -np.inf
    x[0, 1, :2] = -np.inf       # windows whose real elements are all -inf
    fx, tx = fastnn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (yf, i_f), (yt, it) = (getattr(F, fn)(fx, *args, return_indices=True),
                           getattr(TF, fn)(tx, *args, return_indices=True))
    np.testing.assert_array_equal(yf.detach().numpy(), yt.detach().numpy())
    np.testing.assert_array_equal(i_f.numpy(), it.numpy())
    yf.sum().backward()
    yt.sum().backward()
    np.testing.assert_array_equal(fx.grad.numpy(), tx.grad.numpy())


def test_max_pool3d_window_missing_the_input_raises():
    # dilation 2 and padding 1 over a size of 1: a window's taps are at -1
    # and 1, both outside.  PyTorch gives -inf and an index outside the
    # volume (its backward then writes into the next plane); fastnn refuses
    # such windows, as its max_pool2d does
    for shape in ((1, 2, 1, 3, 6), (1, 2, 3, 1, 6), (1, 2, 3, 6, 1)):
        with pytest.raises(ShapeError, match="max_pool3d: .*hold no input"):
            F.max_pool3d(fastnn.ones(*shape), 2, stride=2, padding=1, dilation=2)
    assert tuple(F.max_pool3d(fastnn.ones(1, 2, 3, 3, 3), 2, 2, 1, 2).shape) == (1, 2, 2, 2, 2)


@pytest.mark.parametrize("name", ["conv3d", "conv_transpose3d", "max_pool3d", "avg_pool3d",
                                  "adaptive_max_pool3d"])
def test_3d_double_backward_matches_torch(name):
    calls = {"conv3d": lambda M, x, w: M.conv3d(x, w, stride=(2, 1, 1), padding=1),
             "conv_transpose3d": lambda M, x, w: M.conv_transpose3d(
                 x, w.permute(1, 0, 2, 3, 4), stride=2, padding=1, output_padding=1),
             "max_pool3d": lambda M, x, w: M.max_pool3d(x * x.sum(), 2, 1, 1),
             "avg_pool3d": lambda M, x, w: M.avg_pool3d(x, 3, 2, 1, True, False) ** 2,
             "adaptive_max_pool3d": lambda M, x, w: M.adaptive_max_pool3d(x * x.sum(),
                                                                          (3, 2, 3))}
    x, w, v = _r(1, 2, 4, 5, 4), _r(3, 2, 2, 3, 2, seed=1), _r(1, 2, 4, 5, 4, seed=2)
    grads = []
    for lib, M in ((fastnn, F), (torch, TF)):
        tx, tw = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        loss = (calls[name](M, tx, tw) ** 2).sum()
        (gx,) = lib.autograd.grad(loss, [tx], create_graph=True)
        (gx * lib.tensor(v)).sum().backward()
        grads.append(tx.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-9, atol=1e-9)


AVGPOOL_CASES = [
    ((2, 3, 7, 6, 9), 3, dict(stride=2, padding=1)),
    ((2, 3, 7, 6, 9), (2, 3, 4), dict(stride=(3, 2, 3), padding=(1, 1, 2))),
    ((1, 2, 5, 5, 5), 2, {}),
    ((3, 5, 4, 7), 2, dict(stride=1)),                               # unbatched
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cip", [True, False])
@pytest.mark.parametrize("ceil", [True, False])
@pytest.mark.parametrize("shape,k,kw", AVGPOOL_CASES)
def test_avg_pool3d_matches_torch(shape, k, kw, ceil, cip, dtype):
    _run(F.avg_pool3d, TF.avg_pool3d, [_r(*shape)], dtype, kernel_size=k, ceil_mode=ceil,
         count_include_pad=cip, **kw)


def test_avg_pool3d_divisor_override():
    _run(F.avg_pool3d, TF.avg_pool3d, [_r(2, 3, 5, 6, 7)], np.float64, kernel_size=3, stride=2,
         padding=1, divisor_override=5)
    with pytest.raises(ValueError):
        F.avg_pool3d(fastnn.ones(1, 1, 4, 4, 4), 2, divisor_override=0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("out", [1, 2, (3, 4, 5), (None, 2, 4), (4, 3, None), 7])
def test_adaptive_pool3d_matches_torch(out, dtype):
    x = _r(2, 3, 7, 6, 9)
    _run(F.adaptive_avg_pool3d, TF.adaptive_avg_pool3d, [x], dtype, output_size=out)
    _run(F.adaptive_max_pool3d, TF.adaptive_max_pool3d, [x], dtype, output_size=out,
         return_indices=True)
    _run(F.adaptive_max_pool3d, TF.adaptive_max_pool3d, [x[0]], dtype, output_size=out,
         return_indices=True)


def test_pool3d_gradcheck():
    x = fastnn.tensor(_r(1, 2, 4, 5, 4), requires_grad=True)
    assert fastnn.gradcheck(lambda x: F.max_pool3d(x, 2, 1, 1, ceil_mode=True), (x,))
    assert fastnn.gradcheck(lambda x: F.avg_pool3d(x, 3, 2, 1, True, False), (x,))
    assert fastnn.gradcheck(lambda x: F.adaptive_avg_pool3d(x, (3, 2, 3)), (x,))
    assert fastnn.gradcheck(lambda x: F.adaptive_max_pool3d(x, (3, 2, 3)), (x,))
    assert fastnn.gradcheck(lambda x: F.lp_pool3d(x.abs() + 0.5, 2, 2), (x,))


@pytest.mark.parametrize("shape,kw", [((2, 3, 4, 6, 6), {}),
                                      ((2, 3, 5, 6, 7), dict(output_size=(5, 6, 7))),
                                      ((3, 5, 6, 7), dict(output_size=(5, 6, 7)))])
def test_max_unpool3d_matches_torch(shape, kw):
    x = _r(*shape)
    yt, it = TF.max_pool3d(torch.tensor(x), 2, return_indices=True)
    yf, i_f = F.max_pool3d(fastnn.tensor(x), 2, return_indices=True)
    if True:
        uf = fnn.MaxUnpool3d(2)(yf, i_f, **kw)
        ut = torch.nn.MaxUnpool3d(2)(yt, it, **kw)
        np.testing.assert_array_equal(uf.numpy(), ut.numpy())
    yr = fastnn.tensor(yt.numpy(), requires_grad=True)
    F.max_unpool3d(yr, i_f, 2, **kw).sum().backward()
    np.testing.assert_array_equal(yr.grad.numpy(), np.ones(yt.shape))
    with pytest.raises(ValueError):
        F.max_unpool3d(yf, i_f, 2, output_size=(9, 6, 7))
    if not kw:   # indices of a 5x6x7 volume do not fit the default 4x6x6 output
        y2, i2 = F.max_pool3d(fastnn.tensor(_r(1, 1, 5, 6, 7)), 2, return_indices=True)
        with pytest.raises((IndexError, RuntimeError)):
            F.max_unpool3d(y2, i2, 2)


@pytest.mark.parametrize("p", [1, 2, 3.5])
def test_lp_pool3d_matches_torch(p):
    x = np.abs(_r(2, 3, 5, 6, 7)) + 0.1
    _run(F.lp_pool3d, TF.lp_pool3d, [x], np.float64, norm_type=p, kernel_size=(2, 3, 2),
         stride=(2, 2, 1))
    _run(F.lp_pool3d, TF.lp_pool3d, [x], np.float64, norm_type=p, kernel_size=2,
         ceil_mode=True)


def test_pool3d_bad_arguments():
    with pytest.raises(ShapeError, match="too small"):
        F.max_pool3d(fastnn.ones(1, 1, 3, 3, 3), 4)
    with pytest.raises(ShapeError, match="5-D"):
        F.avg_pool3d(fastnn.ones(2, 3, 4), 2)
    with pytest.raises(ShapeError, match="smaller than kernel"):   # padding not counted
        F.avg_pool3d(fastnn.ones(1, 1, 4, 2, 6), 3, padding=1)
    with pytest.raises(ShapeError, match="5-D"):
        F.adaptive_max_pool3d(fastnn.ones(2, 3, 4), 2)
    with pytest.raises(ValueError, match="half"):
        F.max_pool3d(fastnn.ones(1, 1, 4, 4, 4), 2, padding=2)
    with pytest.raises(ValueError):
        fnn.MaxPool3d(2, stride=0)
    with pytest.raises(ValueError):
        F.adaptive_avg_pool3d(fastnn.ones(1, 1, 4, 4, 4), (0, 1, 1))


@pytest.mark.parametrize("name,args,kw", [
    ("MaxPool3d", (3,), dict(stride=2, padding=1, ceil_mode=True)),
    ("MaxPool3d", ((1, 2, 2),), dict(return_indices=True)),
    ("AvgPool3d", ((2, 3, 3),), dict(stride=2, padding=1, count_include_pad=False)),
    ("AdaptiveAvgPool3d", ((2, None, 3),), {}),
    ("AdaptiveMaxPool3d", (2,), {}),
    ("LPPool3d", (2, 3), dict(stride=2)),
])
def test_pool3d_modules_match_torch(name, args, kw):
    f, t = getattr(fnn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
    assert repr(f) == repr(t)
    x = np.abs(_r(2, 3, 5, 6, 7)) + 0.1
    yf, yt = f(fastnn.tensor(x)), t(torch.tensor(x))
    if isinstance(yt, tuple):
        np.testing.assert_array_equal(yf[1].numpy(), yt[1].numpy())
        yf, yt = yf[0], yt[0]
    np.testing.assert_allclose(yf.numpy(), yt.numpy(), rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------- normalisation

@pytest.mark.parametrize("name", ["BatchNorm3d", "InstanceNorm3d"])
def test_norm3d_matches_torch(name):
    kw = dict(affine=True, track_running_stats=True)
    f, t = getattr(fnn, name)(4, **kw), getattr(torch.nn, name)(4, **kw)
    assert repr(f) == repr(t)
    assert sorted(f.state_dict()) == sorted(t.state_dict())
    with torch.no_grad():
        t.weight.uniform_(0.5, 1.5)
        t.bias.uniform_(-0.5, 0.5)
    f.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    x = _r(3, 4, 3, 4, 5).astype(np.float32) * 2 + 1
    for mode in ("train", "eval"):
        getattr(f, mode)()
        getattr(t, mode)()
        fx, tx = fastnn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        yf, yt = f(fx), t(tx)
        np.testing.assert_allclose(yf.detach().numpy(), yt.detach().numpy(), rtol=1e-4,
                                   atol=1e-5)
        g = _r(*x.shape, seed=5).astype(np.float32)
        yf.backward(fastnn.tensor(g))
        yt.backward(torch.tensor(g))
        np.testing.assert_allclose(fx.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(f.weight.grad.numpy(), t.weight.grad.numpy(), rtol=1e-4,
                                   atol=1e-4)
        np.testing.assert_allclose(f.running_var.numpy(), t.running_var.numpy(), rtol=1e-5)
    with pytest.raises(ShapeError):
        f(fastnn.ones(2, 4, 3))


def test_instance_norm3d_unbatched():
    x = _r(4, 3, 4, 5).astype(np.float32)
    np.testing.assert_allclose(fnn.InstanceNorm3d(4)(fastnn.tensor(x)).numpy(),
                               torch.nn.InstanceNorm3d(4)(torch.tensor(x)).numpy(), rtol=1e-4,
                               atol=1e-5)


@pytest.mark.parametrize("name,args,after,shape", [
    ("LazyConv3d", (5, 3), "Conv3d", (5, 4, 3, 3, 3)),
    ("LazyConvTranspose3d", (5, 3), "ConvTranspose3d", (4, 5, 3, 3, 3)),
    ("LazyBatchNorm3d", (), "BatchNorm3d", (4,)),
    ("LazyInstanceNorm3d", (), "InstanceNorm3d", (4,)),
])
def test_lazy_3d_modules(name, args, after, shape):
    f, t = getattr(fnn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(f) == repr(t)
    x = _r(2, 4, 4, 5, 5).astype(np.float32)
    yf, yt = f(fastnn.tensor(x)), t(torch.tensor(x))
    assert type(f).__name__ == after and tuple(f.weight.shape) == shape
    assert tuple(yf.shape) == tuple(yt.shape)
    assert repr(f) == repr(t)


def test_small_3d_cnn_matches_torch():
    def net(nn):
        return nn.Sequential(nn.Conv3d(2, 4, 3, padding=1), nn.BatchNorm3d(4), nn.ReLU(),
                             nn.MaxPool3d(2), nn.Conv3d(4, 4, 3, padding=1, groups=2),
                             nn.AdaptiveAvgPool3d(1), nn.Flatten(), nn.Linear(4, 3))
    torch.manual_seed(0)
    t, f = net(torch.nn), net(fnn)
    f.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    x = _r(2, 2, 6, 8, 8).astype(np.float32)
    fx, tx = fastnn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    lf, lt = f(fx).square().sum(), t(tx).square().sum()
    np.testing.assert_allclose(lf.item(), lt.item(), rtol=1e-4)
    lf.backward()
    lt.backward()
    np.testing.assert_allclose(fx.grad.numpy(), tx.grad.numpy(), rtol=1e-3, atol=1e-5)
    for (k, pf), (_, pt) in zip(f.named_parameters(), t.named_parameters()):
        np.testing.assert_allclose(pf.grad.numpy(), pt.grad.numpy(), rtol=1e-3, atol=1e-4,
                                   err_msg=k)
