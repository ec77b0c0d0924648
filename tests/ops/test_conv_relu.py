"""The fused convolution + bias + ReLU op (fastnn.ops.conv.conv2d_relu, the
ReLU in the implicit-GEMM epilogue) and its use by nn.Sequential: bitwise the
unfused conv2d -> relu on every kernel path, forward and gradients, and
PyTorch's numbers."""
from collections import OrderedDict

import numpy as np
import pytest

import fastnn
import fastnn.nn as nn
import fastnn.nn.functional as F
from fastnn import _core
from fastnn.ops.conv import conv2d_relu
from fastnn.testing import requires_torch

# (x shape, w shape, stride, padding)
CASES = [
    ((2, 3, 8, 8), (4, 3, 3, 3), 1, 1),
    ((1, 2, 7, 5), (3, 2, 3, 2), (2, 1), (1, 0)),     # strided, odd sizes, non-square
    ((3, 4, 6, 6), (5, 4, 1, 1), 1, 0),               # 1x1
    ((2, 4, 6, 7), (3, 4, 1, 1), 2, 1),               # 1x1 strided and padded
    ((2, 2, 9, 7), (3, 2, 2, 2), 3, 1),               # stride > kernel
    ((2, 3, 6, 32), (7, 3, 3, 3), 1, 1),              # OW = 32: B rows read in place
    ((2, 2, 5, 32), (2, 2, 3, 3), 1, 1),              # <= 3 output channels, OW = 32:
    ((2, 3, 4, 64), (3, 3, 3, 3), 1, 1),              # the narrow kernel (AVX2 path)
    ((2, 1, 5, 16), (1, 1, 3, 3), 1, 1),              # one output channel, OW = 16
    ((1, 70, 4, 32), (5, 70, 3, 3), 1, 1),            # CRS = 630: several k blocks
    ((1, 40, 4, 16), (30, 40, 1, 1), 1, 0),           # 1x1, several M panels
    ((2, 3, 9, 33), (5, 3, 3, 3), (2, 1), 1),         # row stride 2, OW = 32
    ((2, 20, 7, 9), (18, 20, 3, 3), 1, 1),            # Winograd F(2x2, 3x3), odd sizes
]
IDS = [f"{c[0]}-{c[1]}-s{c[2]}-p{c[3]}" for c in CASES]
ISAS = ["portable", "avx2", "avx512sim", "auto"]


def _bits(a):
    a = np.ascontiguousarray(a)
    return a.view(np.uint32 if a.dtype == np.float32 else np.uint64)


def _same_bits(a, b, name=""):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape, name
    assert np.array_equal(_bits(a), _bits(b)), name


def _kind(t):
    """The name of the autograd node that made t ('' for none)."""
    return "" if t.grad_fn is None else t.grad_fn._fn.__name__


def _isa(name):
    """Forces a GEMM path; returns the previous one, or None when unavailable."""
    before = _core.gemm_isa()
    if name == "auto":
        _core.gemm_set_isa("auto")
        return before
    if _core.gemm_set_isa(name) != name:
        _core.gemm_set_isa(before)
        return None
    return before


def _arrays(rng, xs, ws, dtype, bias=True):
    x = rng.standard_normal(xs).astype(dtype)
    w = rng.standard_normal(ws).astype(dtype)
    b = rng.standard_normal(ws[0]).astype(dtype) if bias else None
    return x, w, b


def _run(fused, x, w, b, stride, padding, R):
    xt = fastnn.tensor(x, requires_grad=True)
    wt = fastnn.tensor(w, requires_grad=True)
    bt = None if b is None else fastnn.tensor(b, requires_grad=True)
    if fused:
        y = conv2d_relu(xt, wt, bt, stride, padding)
    else:
        y = F.relu(F.conv2d(xt, wt, bt, stride, padding))
    (y * fastnn.tensor(R)).sum().backward()
    return [y.detach().numpy(), xt.grad, wt.grad, None if bt is None else bt.grad], y


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_bitwise_as_unfused_every_path(case, dtype, isa):
    before = _isa(isa)
    if before is None:
        pytest.skip(f"{isa} path not available on this CPU")
    try:
        xs, ws, stride, padding = case
        rng = np.random.default_rng(sum(xs) + sum(ws))
        for bias in (True, False):
            x, w, b = _arrays(rng, xs, ws, dtype, bias)
            ref, _ = _run(False, x, w, b, stride, padding, np.zeros(1, dtype))
            R = rng.standard_normal(ref[0].shape).astype(dtype)
            ref, _ = _run(False, x, w, b, stride, padding, R)
            got, y = _run(True, x, w, b, stride, padding, R)
            assert _kind(y) == "Conv2dReLUFn"
            for a, c, name in zip(ref, got, ("y", "dx", "dw", "db")):
                if a is None:
                    assert c is None
                else:
                    _same_bits(a, c, name)
            assert (got[0] >= 0).all() and (got[0] == 0).any() and (got[0] > 0).any()
    finally:
        _core.gemm_set_isa(before)


def test_nan_and_negative_zero_like_relu():
    # NaN passes through (as F.relu); an exact zero / negative zero sum -> +0
    x = np.zeros((1, 1, 4, 32), np.float32)
    x[0, 0, 1, 3] = np.nan
    w = np.ones((2, 1, 1, 1), np.float32)
    w[1] = -1.0
    b = np.array([0.0, -0.0], np.float32)
    y = conv2d_relu(x, w, b).detach().numpy()
    _same_bits(y, F.relu(F.conv2d(x, w, b)).detach().numpy())
    assert np.isnan(y[0, :, 1, 3]).all()
    assert not np.signbit(y[~np.isnan(y)]).any()


def test_gradcheck_float64():
    rng = np.random.default_rng(1)
    x = fastnn.tensor(rng.standard_normal((2, 2, 5, 4)), requires_grad=True)
    w = fastnn.tensor(rng.standard_normal((3, 2, 3, 2)), requires_grad=True)
    b = fastnn.tensor(rng.standard_normal(3), requires_grad=True)
    R = fastnn.tensor(rng.standard_normal((2, 3, 5, 3)))
    assert fastnn.gradcheck(lambda x, w, b: (conv2d_relu(x, w, b, 1, (1, 0)) * R).sum(),
                            [x, w, b])
    R2 = fastnn.tensor(rng.standard_normal((2, 3, 2, 2)))
    assert fastnn.gradcheck(lambda x, w: (conv2d_relu(x, w, None, 2, 0) * R2).sum(), [x, w])


def test_unbatched_partial_grads_and_padding_strings():
    rng = np.random.default_rng(3)
    x, w, b = _arrays(rng, (3, 6, 6), (4, 3, 3, 3), np.float64)
    xt = fastnn.tensor(x, requires_grad=True)
    y = conv2d_relu(xt, w, b, padding="same")
    assert y.shape == (4, 6, 6)
    R = rng.standard_normal(y.shape)
    (y * fastnn.tensor(R)).sum().backward()
    xr = fastnn.tensor(x, requires_grad=True)
    yr = F.relu(F.conv2d(xr, w, b, padding=1))
    (yr * fastnn.tensor(R)).sum().backward()
    _same_bits(y.detach().numpy(), yr.detach().numpy())
    _same_bits(xt.grad, xr.grad)
    assert conv2d_relu(x[None], w, b, padding="valid").shape == (1, 4, 4, 4)
    xe = fastnn.tensor(np.zeros((0, 3, 6, 6)), requires_grad=True)
    ye = conv2d_relu(xe, w, b, padding=1)
    assert ye.shape == (0, 4, 6, 6)
    ye.sum().backward()
    assert xe.grad.shape == (0, 3, 6, 6)
    with pytest.raises(ValueError):
        conv2d_relu(x[None], w, b, padding="full")
    with pytest.raises(fastnn.ShapeError):
        conv2d_relu(x[None], w[:, :2], b)


def test_torch_parity():
    torch = requires_torch()
    rng = np.random.default_rng(5)
    for xs, ws, stride, padding in CASES[:6]:
        x, w, b = _arrays(rng, xs, ws, np.float32)
        fx, fw, fb = (fastnn.tensor(a, requires_grad=True) for a in (x, w, b))
        tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
        fy = conv2d_relu(fx, fw, fb, stride, padding)
        ty = torch.relu(torch.nn.functional.conv2d(tx, tw, tb, stride, padding))
        g = rng.standard_normal(fy.shape).astype(np.float32)
        fy.backward(g)
        ty.backward(torch.tensor(g))
        np.testing.assert_allclose(fy.detach().numpy(), ty.detach().detach().numpy(), rtol=2e-4, atol=2e-5)
        for f, t in ((fx, tx), (fw, tw), (fb, tb)):
            np.testing.assert_allclose(f.grad, t.grad.detach().numpy(), rtol=2e-4, atol=5e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_thread_invariance(dtype):
    # above the kernels' serial cutoff, so two threads really split the work
    rng = np.random.default_rng(9)
    x, w, b = _arrays(rng, (4, 8, 16, 16), (16, 8, 3, 3), dtype)
    R = rng.standard_normal((4, 16, 16, 16)).astype(dtype)
    out = []
    before = fastnn.get_num_threads()
    for nt in (1, 2):
        fastnn.set_num_threads(nt)
        try:
            out.append(_run(True, x, w, b, 1, 1, R)[0])
        finally:
            fastnn.set_num_threads(before)
    for a, c, name in zip(out[0], out[1], ("y", "dx", "dw", "db")):
        _same_bits(a, c, name)


def test_sequential_fuses_and_matches_modules_one_by_one():
    rng = np.random.default_rng(2)
    net = lambda: nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.ReLU(),   # noqa: E731
                                nn.Conv2d(6, 5, 3, stride=2), nn.ReLU(inplace=True),
                                nn.Conv2d(5, 4, 1, bias=False), nn.ReLU())
    seq, ref = net(), net()
    ref.load_state_dict(seq.state_dict())
    for step in range(2):
        for m in (seq, ref):
            m.zero_grad()
        x = rng.standard_normal((2, 3, 9, 9)).astype(np.float32)
        R = rng.standard_normal((2, 4, 4, 4)).astype(np.float32)
        xs = fastnn.tensor(x, requires_grad=True)
        xr = fastnn.tensor(x, requires_grad=True)
        ys = seq(xs)
        assert _kind(ys).startswith("Conv2dReLU")
        yr = xr
        for mod in ref:              # module by module: the unfused path
            yr = mod(yr)
        assert not _kind(yr).startswith("Conv2dReLU")
        (ys * fastnn.tensor(R)).sum().backward()
        (yr * fastnn.tensor(R)).sum().backward()
        _same_bits(ys.detach().numpy(), yr.detach().numpy(), "y")
        _same_bits(xs.grad, xr.grad, "dx")
        for (k, p), (_, q) in zip(seq.named_parameters(), ref.named_parameters()):
            _same_bits(p.grad, q.grad, k)
    # eval mode and no_grad: the same fused forward
    seq.eval()
    ref.eval()
    with fastnn.no_grad():
        x = rng.standard_normal((1, 3, 9, 9)).astype(np.float32)
        y = seq(x)
        assert y.grad_fn is None
        yr = fastnn.tensor(x)
        for mod in ref:
            yr = mod(yr)
        _same_bits(y.detach().numpy(), yr.detach().numpy())


def test_conv_bn_relu_still_fuses_bn_relu():
    seq = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU())
    x = fastnn.randn(2, 3, 6, 6, requires_grad=True)
    y = seq(x)
    assert _kind(y).startswith("BatchNormReLU")
    conv = _kind(y.grad_fn._parents[0])
    assert conv.startswith("Conv2d") and not conv.startswith("Conv2dReLU")
    # conv -> relu -> bn: the conv and relu fuse, the batch norm runs alone
    seq = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(4))
    y = seq(x)
    assert _kind(y).startswith("BatchNorm") and not _kind(y).startswith("BatchNormReLU")
    assert _kind(y.grad_fn._parents[0]).startswith("Conv2dReLU")


def test_not_fused_when_hooked_replaced_or_subclassed():
    x = fastnn.randn(2, 3, 6, 6)

    class MyConv(nn.Conv2d):
        def forward(self, input):
            return super().forward(input) * 2

    class MyReLU(nn.ReLU):
        def forward(self, t):
            return F.relu(t) + 1.0

    seq = nn.Sequential(MyConv(3, 4, 3), nn.ReLU())
    y = seq(x)
    assert not _kind(y).startswith("Conv2dReLU")
    np.testing.assert_array_equal(y.detach().numpy(), F.relu(seq[0](x)).detach().numpy())
    seq = nn.Sequential(nn.Conv2d(3, 4, 3), MyReLU())
    y = seq(x)
    assert not _kind(y).startswith("Conv2dReLU") and (y.detach().numpy() >= 1).all()
    seq = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
    seq[1].forward = lambda t: F.relu(t) + 1.0
    assert (seq(x).detach().numpy() >= 1).all()
    seq = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
    seq[0].forward = lambda t: F.conv2d(t, seq[0].weight, None)
    y = seq(x)
    np.testing.assert_array_equal(y.detach().numpy(), F.relu(F.conv2d(x, seq[0].weight)).detach().numpy())
    seq = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
    h = seq[0].register_forward_hook(lambda *a: None)
    assert not _kind(seq(x)).startswith("Conv2dReLU")
    h.remove()                                  # the fusion is back once unhooked
    assert _kind(seq(x)).startswith("Conv2dReLU")
    seq = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
    assert _kind(seq(x)).startswith("Conv2dReLU")
    # the ReLU stays a visible module
    assert [type(m).__name__ for m in seq] == ["Conv2d", "ReLU"]
    assert len(list(seq.parameters())) == 2
