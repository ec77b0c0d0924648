"""NaN and Inf in inputs, weights or upstream gradients through the main ops
propagate as PyTorch's do: the same NaN and +-inf positions in the output
and in every input's gradient, the finite values equal within tolerance; no
crash, hang or silent zero.  clip_grad_norm_ on non-finite gradients, and
float32 overflow in softmax / cross-entropy / logsumexp.

Convolutions: where a non-finite value meets the zero padding is
implementation-defined -- PyTorch's own float32 (oneDNN) and float64
(im2col) paths disagree -- so fastnn, which multiplies the padding's zeros
like im2col (0 * NaN = NaN), is compared with PyTorch's float64 path.  One
known difference remains, by design: a stride-1 convolution computes its
input gradient as a convolution of the zero-padded output gradient with the
flipped kernel, so a NaN / inf *weight* also reaches border inputs through
the zero border, where PyTorch's col2im skips those products.  There
fastnn's NaN set contains PyTorch's and the rest agrees.

Findings fixed with these tests (issue 17): the ReLU backward zeroed the
gradient at a NaN output (PyTorch passes it); evaluation-mode batch norm's
input gradient was NaN at a NaN / inf input (0 * (x - mean)); training-mode
batch norm's input gradient was NaN (inf - inf) for an infinite weight
where PyTorch gives +-inf."""
import zlib

import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F
from fastnn.nn import utils as U
from fastnn.testing import requires_torch

BAD = (np.nan, np.inf, -np.inf)


def _poison(a, rng, n=3, kinds=BAD):
    a = a.copy()
    idx = rng.choice(a.size, min(n, a.size), replace=False)
    for i, k in zip(idx, kinds * n):
        a.flat[i] = k
    return a


def _assert_like(got, want, what, superset=False, loose=False):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, what
    if loose:   # non-finite wherever want is; finite values equal where both are
        assert (~np.isfinite(got) | np.isfinite(want)).all(), f"{what}: non-finite value lost"
        both = np.isfinite(got) & np.isfinite(want)
        np.testing.assert_allclose(got[both], want[both], rtol=2e-4, atol=2e-5, err_msg=what)
        return
    gn, wn = np.isnan(got), np.isnan(want)
    if superset:
        assert (gn | ~wn).all(), f"{what}: NaN missing where PyTorch has one"
        keep = ~gn
    else:
        np.testing.assert_array_equal(gn, wn, err_msg=f"{what}: NaN positions")
        keep = ~gn
    np.testing.assert_array_equal(np.isposinf(got)[keep], np.isposinf(want)[keep],
                                  err_msg=f"{what}: +inf positions")
    np.testing.assert_array_equal(np.isneginf(got)[keep], np.isneginf(want)[keep],
                                  err_msg=f"{what}: -inf positions")
    fin = keep & np.isfinite(want)
    tol = dict(rtol=2e-4, atol=2e-5) if got.dtype == np.float32 else dict(rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(got[fin], want[fin], err_msg=what, **tol)


def _cases(torch):
    TF = torch.nn.functional
    y4 = np.array([0, 3, 1, 2])
    return {
        # name: (fastnn fn, torch fn, shapes of the float arguments, weight index or None)
        "linear": (F.linear, TF.linear, [(4, 8), (5, 8), (5,)], 1),
        "conv2d": (lambda x, w, b: F.conv2d(x, w, b, padding=1),
                   lambda x, w, b: TF.conv2d(x, w, b, padding=1), [(2, 3, 7, 7), (4, 3, 3, 3), (4,)], 1),
        "conv2d_wino": (lambda x, w: F.conv2d(x, w, padding=1), lambda x, w: TF.conv2d(x, w, padding=1),
                        [(2, 16, 8, 8), (16, 16, 3, 3)], 1),
        "conv2d_s2": (lambda x, w: F.conv2d(x, w, stride=2), lambda x, w: TF.conv2d(x, w, stride=2),
                      [(2, 3, 9, 9), (4, 3, 3, 3)], 1),
        "relu": (F.relu, TF.relu, [(4, 40)], None),
        "sigmoid": (F.sigmoid, torch.sigmoid, [(4, 40)], None),
        "tanh": (F.tanh, torch.tanh, [(4, 40)], None),
        "softmax": (lambda x: F.softmax(x, 1), lambda x: TF.softmax(x, 1), [(4, 40)], None),
        "softmax_dim0": (lambda x: F.softmax(x, 0), lambda x: TF.softmax(x, 0), [(6, 5, 3)], None),
        "log_softmax": (lambda x: F.log_softmax(x, 1), lambda x: TF.log_softmax(x, 1),
                        [(4, 40)], None),
        "cross_entropy": (lambda x: F.cross_entropy(x, fastnn.tensor(y4), reduction="none"),
                          lambda x: TF.cross_entropy(x, torch.tensor(y4), reduction="none"),
                          [(4, 10)], None),
        "cross_entropy_mean": (lambda x: F.cross_entropy(x, fastnn.tensor(y4)),
                               lambda x: TF.cross_entropy(x, torch.tensor(y4)), [(4, 10)], None),
        "max_pool2d": (lambda x: F.max_pool2d(x, 2), lambda x: TF.max_pool2d(x, 2),
                       [(2, 3, 8, 8)], None),
        "max_pool2d_pad": (lambda x: F.max_pool2d(x, 3, 2, 1), lambda x: TF.max_pool2d(x, 3, 2, 1),
                           [(2, 3, 7, 7)], None),
        "batch_norm_train": (lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
                             lambda x, w, b: TF.batch_norm(x, None, None, w, b, training=True),
                             [(4, 3, 5, 5), (3,), (3,)], 1),
        "batch_norm_eval": (
            lambda x, w, b: F.batch_norm(x, fastnn.tensor(np.full(3, 0.5, x.dtype)),
                                         fastnn.tensor(np.full(3, 2.0, x.dtype)), w, b),
            lambda x, w, b: TF.batch_norm(x, torch.tensor(np.full(3, 0.5, x.detach().numpy().dtype)),
                                          torch.tensor(np.full(3, 2.0, x.detach().numpy().dtype)), w, b),
            [(4, 3, 5, 5), (3,), (3,)], 1),
        "layer_norm": (lambda x, w, b: F.layer_norm(x, (8,), w, b),
                       lambda x, w, b: TF.layer_norm(x, (8,), w, b), [(4, 8), (8,), (8,)], 1),
        "mse_loss": (F.mse_loss, TF.mse_loss, [(4, 8), (4, 8)], None),
        "mse_loss_none": (lambda a, b: F.mse_loss(a, b, reduction="none"),
                          lambda a, b: TF.mse_loss(a, b, reduction="none"), [(4, 8), (4, 8)], None),
    }


NAMES = ["linear", "conv2d", "conv2d_wino", "conv2d_s2", "relu", "sigmoid", "tanh", "softmax", "softmax_dim0",
         "log_softmax", "cross_entropy", "cross_entropy_mean", "max_pool2d", "max_pool2d_pad",
         "batch_norm_train", "batch_norm_eval", "layer_norm", "mse_loss", "mse_loss_none"]


@pytest.mark.parametrize("where", ["input", "weight", "grad"])
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nonfinite_propagates_like_torch(name, where, dtype):
    torch = requires_torch()
    ff, tf, shapes, wi = _cases(torch)[name]
    if where == "weight" and wi is None:
        pytest.skip("no weight")
    rng = np.random.default_rng(zlib.crc32(f"{name}/{where}".encode()))
    arrays = [rng.standard_normal(s).astype(dtype) for s in shapes]
    if where == "input":
        arrays[0] = _poison(arrays[0], rng)
    elif where == "weight":
        arrays[wi] = _poison(arrays[wi], rng, n=1 if name.startswith("conv") else 2)
    if name == "conv2d_wino":   # exact with Winograd off; on: test_winograd_nonfinite
        # (and the weight gradient by taps off: it leaves out the padding's
        # taps as oneDNN does, tests/kernels/test_conv_wtaps.py)
        prev = fastnn._core.conv2d_set_winograd(False)
        taps = fastnn._core.conv2d_set_taps(False)
        try:
            return _run_case(torch, name, where, dtype, ff, tf, arrays, wi, rng)
        finally:
            fastnn._core.conv2d_set_taps(taps)
            fastnn._core.conv2d_set_winograd(prev)
    _run_case(torch, name, where, dtype, ff, tf, arrays, wi, rng)


def _run_case(torch, name, where, dtype, ff, tf, arrays, wi, rng, loose=False):
    fa = [fastnn.tensor(a, requires_grad=True) for a in arrays]
    # convolutions: PyTorch's own float32 (oneDNN) and float64 (im2col) paths
    # disagree on where non-finite values spread through the zero padding;
    # fastnn (which multiplies the padding's zeros, 0 * NaN = NaN) is
    # compared with the float64 one
    conv = name.startswith("conv")
    ta = [torch.tensor(a.astype(np.float64) if conv else a, requires_grad=True) for a in arrays]
    fo, to = ff(*fa), tf(*ta)
    _assert_like(fo.detach().numpy(), to.detach().numpy().astype(dtype), f"{name} forward",
                 loose=loose)
    g = rng.standard_normal(tuple(to.shape)).astype(dtype)
    if where == "grad" and g.size > 1:
        g = _poison(g, rng, n=2)
    elif where == "grad":
        g = np.array(np.nan, dtype).reshape(g.shape)
    fo.backward(fastnn.tensor(g))
    to.backward(torch.tensor(g.astype(np.float64) if conv else g))
    for i, (a, b) in enumerate(zip(fa, ta)):
        # the conv input gradient with a non-finite weight: see the module docstring
        sup = where == "weight" and name.startswith("conv") and i == 0
        _assert_like(a.grad.numpy(), b.grad.numpy().astype(dtype), f"{name} grad of argument {i}",
                     superset=sup, loose=loose)


@pytest.mark.parametrize("where", ["input", "weight", "grad"])
def test_winograd_nonfinite(where):
    """Winograd F(2x2, 3x3) transforms a 4x4 input tile by sums and
    differences, so a NaN or inf input reaches all four outputs of its tile
    (and inf - inf makes NaN): with non-finite data the Winograd layers are
    non-finite wherever PyTorch's are and possibly at more positions of the
    same tiles (FASTNN_WINOGRAD=0 gives PyTorch's positions exactly, see
    test_nonfinite_propagates_like_torch[conv2d_wino]); finite values agree."""
    torch = requires_torch()
    assert fastnn._core.conv2d_set_winograd()
    ff, tf, shapes, wi = _cases(torch)["conv2d_wino"]
    rng = np.random.default_rng(5)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    if where == "input":
        arrays[0] = _poison(arrays[0], rng)
    elif where == "weight":
        arrays[wi] = _poison(arrays[wi], rng, n=1)
    _run_case(torch, "conv2d_wino", where, np.float32, ff, tf, arrays, wi, rng, loose=True)


@pytest.mark.parametrize("name", NAMES)
def test_nonfinite_input_never_silently_zero(name):
    """Without torch too: a NaN in the input of an op that reads every input
    element makes some output NaN (nothing turns it into a clean 0), and the
    call returns (no crash, no hang)."""
    ff, _, shapes, _ = _cases(_FakeTorch())[name]
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    arrays[0].flat[5] = np.nan
    out = ff(*[fastnn.tensor(a, requires_grad=True) for a in arrays])
    assert np.isnan(out.detach().numpy()).any(), name


class _FakeTorch:
    """Stands in for torch to build the fastnn half of the case table."""
    def __getattr__(self, k):
        return self

    def __call__(self, *a, **k):
        return self


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_clip_grad_norm_nonfinite(norm_type, bad):
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal(5).astype(np.float32)]
    grads[1][2] = bad

    def params():
        ps = [fastnn.nn.Parameter(np.ones(g.shape, np.float32)) for g in grads]
        for p, g in zip(ps, grads):
            p.grad = fastnn.tensor(g.copy())
        return ps

    ps = params()
    with pytest.raises(RuntimeError, match="non-finite"):
        U.clip_grad_norm_(ps, 1.0, norm_type, error_if_nonfinite=True)
    for p, g in zip(ps, grads):     # the raise happens before any gradient is touched
        np.testing.assert_array_equal(p.grad.numpy(), g)
    ps = params()
    total = float(U.clip_grad_norm_(ps, 1.0, norm_type))
    assert np.isnan(total) if np.isnan(bad) else total == np.inf
    try:
        import torch
    except ImportError:
        return
    tps = [torch.nn.Parameter(torch.ones(g.shape)) for g in grads]
    for p, g in zip(tps, grads):
        p.grad = torch.tensor(g.copy())
    with pytest.raises(RuntimeError):
        torch.nn.utils.clip_grad_norm_(tps, 1.0, norm_type, error_if_nonfinite=True)
    ttotal = float(torch.nn.utils.clip_grad_norm_(tps, 1.0, norm_type))
    assert np.isnan(total) == np.isnan(ttotal) and (np.isnan(total) or total == ttotal)
    for p, q in zip(ps, tps):
        _assert_like(p.grad.numpy(), q.grad.numpy(), "clipped grad")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_overflowing_logits_like_torch(dtype):
    torch = requires_torch()
    rng = np.random.default_rng(1)
    for scale in (1e30, 3e38):
        x = (np.sign(rng.standard_normal((5, 9))) * scale).astype(dtype)
        x[0] = scale                   # a row all at the maximum
        x[1, 3] = -np.inf
        y = rng.integers(0, 9, 5)
        for ff, tf in [(lambda v: F.softmax(v, 1), lambda v: torch.softmax(v, 1)),
                       (lambda v: F.log_softmax(v, 1), lambda v: torch.log_softmax(v, 1)),
                       (lambda v: fastnn.logsumexp(v, 1), lambda v: torch.logsumexp(v, 1)),
                       (lambda v: F.cross_entropy(v, fastnn.tensor(y), reduction="none"),
                        lambda v: torch.nn.functional.cross_entropy(v, torch.tensor(y),
                                                                    reduction="none"))]:
            a, b = fastnn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
            fo, to = ff(a), tf(b)
            _assert_like(fo.detach().numpy(), to.detach().numpy(), f"forward at {scale}")
            g = rng.standard_normal(tuple(to.shape)).astype(dtype)
            fo.backward(fastnn.tensor(g))
            to.backward(torch.tensor(g))
            _assert_like(a.grad.numpy(), b.grad.numpy(), f"grad at {scale}")
