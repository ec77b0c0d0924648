"""F.conv2d / F.conv1d and nn.Conv2d / nn.Conv1d with groups (grouped,
depthwise, channel multiplier), dilation, padding 'same' (odd and even
kernels, with dilation) and padding_mode: the loop reference, gradcheck in
float64 with a random upstream gradient, PyTorch's values and gradients
(float32 and float64), edge shapes, thread invariance, the module contract
(state dict, initialisation, repr) and bad arguments."""
import math

import numpy as np
import pytest

import fastnn
import fastnn.nn as nn
import fastnn.nn.functional as F
from fastnn.testing import reference as R
from fastnn.testing import requires_torch
from fastnn.testing.conv import (assert_matches_torch, assert_thread_invariant,
                                 module_matches_torch)

TOL = {np.float32: dict(rtol=2e-4, atol=2e-5), np.float64: dict(rtol=1e-10, atol=1e-12)}

# (x shape, w shape, stride, padding, dilation, groups)
CASES = [
    ((2, 4, 7, 9), (6, 2, 3, 2), 1, 1, 1, 2),              # grouped
    ((2, 6, 8, 8), (6, 1, 3, 3), 1, 1, 1, 6),              # depthwise
    ((2, 3, 9, 10), (6, 1, 3, 3), 2, 1, 1, 3),             # channel multiplier 2, strided
    ((1, 4, 9, 9), (4, 2, 3, 3), 1, 2, 2, 2),              # batch 1, dilation 2 with padding
    ((2, 3, 10, 11), (3, 3, 3, 2), (1, 2), (3, 1), (3, 2), 1),  # non-square dilation
    ((2, 4, 6, 6), (4, 1, 1, 1), 1, 0, 1, 4),              # 1x1 depthwise
    ((2, 2, 5, 5), (2, 1, 5, 5), 1, 0, 1, 2),              # kernel = input
    ((2, 4, 9, 7), (4, 2, 2, 2), 3, 1, 1, 2),              # stride > kernel, odd sizes
    ((3, 1, 7, 8), (3, 1, 3, 3), 1, 2, 2, 1),              # one channel, dilation
    ((2, 3, 7, 6), (3, 1, 3, 3), 1, "same", 2, 3),         # 'same', dilation, depthwise
    ((2, 2, 7, 6), (4, 2, 4, 2), 1, "same", 1, 1),         # 'same' with even kernels
    ((2, 4, 6, 7), (4, 2, 2, 3), 1, "same", (3, 1), 2),    # 'same', even dilated kernel
    ((2, 4, 6, 7), (2, 2, 3, 3), 1, "valid", 1, 2),
]
IDS = [f"case{i}" for i in range(len(CASES))]


def _arrays(rng, case, dtype, bias=True):
    xs, ws = case[:2]
    x = rng.standard_normal(xs).astype(dtype)
    w = rng.standard_normal(ws).astype(dtype)
    b = rng.standard_normal(ws[0]).astype(dtype) if bias else None
    return x, w, b


def _ref_padding(case):
    """The reference's symmetric padding and the input padded first for
    'same' (PyTorch's rule: total dil*(k-1), the extra at the bottom/right)."""
    xs, ws, stride, padding, dilation = case[:5]
    if padding == "valid":
        return 0, (0, 0)
    if padding != "same":
        return padding, (0, 0)
    d = dilation if isinstance(dilation, tuple) else (dilation, dilation)
    tot = [d[i] * (ws[2 + i] - 1) for i in range(2)]
    return (tot[0] // 2, tot[1] // 2), (tot[0] % 2, tot[1] % 2)


def _reference(x, w, b, case, dy=None):
    stride, dilation, groups = case[2], case[4], case[5]
    pad, extra = _ref_padding(case)
    xp = np.pad(x, ((0, 0), (0, 0), (0, extra[0]), (0, extra[1])))
    if dy is None:
        return R.conv2d(xp, w, b, stride, pad, dilation, groups)
    dx, dw, db = R.conv2d_backward(xp, w, dy, stride, pad, dilation, groups)
    return dx[:, :, :x.shape[2], :x.shape[3]], dw, db


def _call(x, w, b, case):
    return F.conv2d(x, w, b, case[2], case[3], case[4], case[5])


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_and_backward_match_reference(case, dtype, rng):
    x, w, b = _arrays(rng, case, dtype)
    tx, tw, tb = (fastnn.tensor(a, requires_grad=True) for a in (x, w, b))
    y = _call(tx, tw, tb, case)
    yr = _reference(x, w, b, case)
    assert y.shape == yr.shape and y.dtype == dtype
    np.testing.assert_allclose(y.detach().numpy(), yr, **TOL[dtype])
    g = rng.standard_normal(yr.shape).astype(dtype)
    y.backward(fastnn.tensor(g))
    for got, want in zip((tx.grad, tw.grad, tb.grad), _reference(x, w, b, case, g)):
        np.testing.assert_allclose(np.asarray(got), want, **TOL[dtype])
    with fastnn.no_grad():                     # the no-graph branch: the same numbers
        y0 = _call(fastnn.tensor(x), fastnn.tensor(w), fastnn.tensor(b), case)
    assert y0.grad_fn is None
    np.testing.assert_array_equal(y0.numpy(), y.detach().numpy())


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_gradcheck_float64(case, rng):
    x, w, b = (fastnn.tensor(a, requires_grad=True) for a in _arrays(rng, case, np.float64))
    shape = _call(x, w, b, case).shape
    Rg = fastnn.tensor(rng.standard_normal(shape))
    assert fastnn.gradcheck(lambda x, w, b: (_call(x, w, b, case) * Rg).sum(), [x, w, b])


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_torch_parity(case, dtype, rng):
    x, w, b = _arrays(rng, case, dtype, bias=case[5] != 2)
    assert_matches_torch(requires_torch(), "conv2d", (x, w, b), case[2:6], rng)


def test_depthwise_and_grouped_thread_invariance(rng):
    """1 and 2 threads bitwise, above the serial cut-off (2^19 multiply-adds)."""
    for xs, ws, groups, stride in (((8, 32, 24, 24), (64, 1, 3, 3), 32, 1),
                                   ((4, 32, 18, 18), (32, 8, 3, 3), 4, 1),
                                   ((16, 32, 24, 24), (32, 1, 3, 3), 32, 2)):
        x, w, b = _arrays(rng, (xs, ws), np.float32)
        OH = (xs[2] + 2 - 3) // stride + 1
        assert xs[0] * ws[0] * OH * OH * ws[1] * 9 >= 1 << 19
        g = rng.standard_normal((xs[0], ws[0], OH, OH)).astype(np.float32)
        assert_thread_invariant(lambda x, w, b: F.conv2d(x, w, b, stride, 1, 1, groups),
                                (x, w, b), g)


def test_unbatched_and_non_contiguous(rng):
    base = rng.standard_normal((2, 4, 7, 6))
    x = base.transpose(0, 1, 3, 2)                    # a view
    w = rng.standard_normal((8, 1, 3, 3))
    tx = fastnn.tensor(x, requires_grad=True)
    y = F.conv2d(tx, w, None, 1, 1, 1, 4)
    np.testing.assert_allclose(y.detach().numpy(), R.conv2d(x, w, None, 1, 1, 1, 4),
                               **TOL[np.float64])
    g = rng.standard_normal(y.shape)
    y.backward(fastnn.tensor(g))
    np.testing.assert_allclose(np.asarray(tx.grad), R.conv2d_backward(x, w, g, 1, 1, 1, 4)[0],
                               **TOL[np.float64])
    y3 = F.conv2d(base[0], w, padding=2, dilation=2, groups=4)     # unbatched (C, H, W)
    assert y3.shape == (8, 7, 6)
    np.testing.assert_allclose(y3.numpy(), R.conv2d(base[:1], w, None, 1, 2, 2, 4)[0],
                               **TOL[np.float64])


# ---------------------------------------------------------------- conv1d
CASES_1D = [
    ((2, 4, 11), (6, 2, 3), 1, 1, 1, 2),
    ((1, 3, 9), (3, 1, 3), 2, 2, 2, 3),
    ((2, 2, 8), (4, 2, 4), 1, "same", 1, 1),
    ((2, 3, 5), (2, 3, 5), 1, 0, 1, 1),
]


@pytest.mark.parametrize("case", CASES_1D)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv1d_torch_parity(case, dtype, rng):
    x, w, b = _arrays(rng, case, dtype)
    assert_matches_torch(requires_torch(), "conv1d", (x, w, b), case[2:], rng)
    y = F.conv1d(x, w, b, *case[2:])
    assert F.conv1d(x[0], w, b, *case[2:]).shape == y.shape[1:]        # unbatched


def test_conv1d_gradcheck(rng):
    x, w, b = (fastnn.tensor(a, requires_grad=True)
               for a in _arrays(rng, ((2, 4, 9), (4, 2, 3)), np.float64))
    Rg = fastnn.tensor(rng.standard_normal((2, 4, 7)))
    assert fastnn.gradcheck(lambda x, w, b: (F.conv1d(x, w, b, 1, 1, 2, 2) * Rg).sum(),
                            [x, w, b])


# ---------------------------------------------------------------- modules
MODULES = [
    (nn.Conv2d, (4, 8, 3), dict(padding=1, groups=4)),
    (nn.Conv2d, (6, 6, (3, 2)), dict(stride=2, padding=(1, 0), dilation=(2, 1), groups=3,
                                     bias=False)),
    (nn.Conv2d, (3, 6, 3), dict(padding="same", dilation=2)),
    (nn.Conv2d, (4, 4, 4), dict(padding="same", groups=2)),
    (nn.Conv2d, (3, 4, 3), dict(padding=2, padding_mode="reflect")),
    (nn.Conv2d, (3, 4, 3), dict(padding=(1, 2), padding_mode="replicate", groups=1)),
    (nn.Conv2d, (4, 4, 3), dict(padding=1, padding_mode="circular", groups=2, stride=2)),
    (nn.Conv2d, (2, 4, 4), dict(padding="same", padding_mode="reflect")),
    (nn.Conv1d, (4, 6, 3), dict(padding=1, groups=2)),
    (nn.Conv1d, (3, 3, 5), dict(padding=2, padding_mode="circular", groups=3, dilation=1)),
    (nn.Conv1d, (2, 4, 2), dict(padding="same", padding_mode="replicate")),
]


@pytest.mark.parametrize("cls,args,kw", MODULES)
def test_module_matches_torch(cls, args, kw, rng):
    shape = (2, args[0], 9, 8) if cls is nn.Conv2d else (2, args[0], 11)
    module_matches_torch(requires_torch(), cls, args, kw, shape, rng)


def test_module_init_bounds():
    fastnn.manual_seed(0)
    for m, fan_in in ((nn.Conv2d(8, 16, 3, groups=4), 2 * 9), (nn.Conv1d(6, 3, 5, groups=3), 2 * 5),
                      (nn.Conv2d(8, 8, 3, groups=8), 9)):
        bound = 1 / math.sqrt(fan_in)
        wmax = np.abs(m.weight.detach().numpy()).max()
        assert 0.8 * bound < wmax <= bound
        assert np.abs(m.bias.detach().numpy()).max() <= bound


def test_bad_arguments():
    x = np.zeros((2, 4, 6, 6), np.float32)
    w = np.zeros((4, 2, 3, 3), np.float32)
    cases = [
        (ValueError, "divisible by groups", lambda: nn.Conv2d(4, 6, 3, groups=3)),
        (ValueError, "divisible by groups", lambda: nn.Conv2d(6, 4, 3, groups=4)),
        (ValueError, "groups", lambda: nn.Conv2d(4, 4, 3, groups=0)),
        (ValueError, "padding_mode", lambda: nn.Conv2d(4, 4, 3, padding_mode="mirror")),
        (ValueError, "negative padding", lambda: nn.Conv2d(4, 4, 3, padding=-1)),
        (ValueError, "strided", lambda: nn.Conv2d(4, 4, 3, stride=2, padding="same")),
        (ValueError, "padding string", lambda: nn.Conv2d(4, 4, 3, padding="full")),
        (ValueError, "dilation", lambda: nn.Conv1d(4, 4, 3, dilation=0)),
        (fastnn.ShapeError, "4 channels, but got 3", lambda: F.conv2d(x[:, :3], w, groups=2)),
        (fastnn.ShapeError, "divisible by 3", lambda: F.conv2d(x, w, groups=3)),
        (fastnn.ShapeError, "weight must be 4-D", lambda: F.conv2d(x, w[0], groups=2)),
        (ValueError, "negative padding", lambda: F.conv2d(x, w, padding=(1, -1), groups=2)),
        (ValueError, "groups", lambda: F.conv2d(x, w, groups=0)),
        (TypeError, "groups", lambda: F.conv2d(x, w, groups=2.0)),
        (ValueError, "dilation", lambda: F.conv2d(x, w, dilation=0, groups=2)),
        (fastnn.ShapeError, "can't be greater", lambda: F.conv2d(x, w, dilation=3, groups=2)),
        (ValueError, "strided", lambda: F.conv2d(x, w, stride=2, padding="same", groups=2)),
        (ValueError, "padding string", lambda: F.conv2d(x, w, padding="full", groups=2)),
        (fastnn.ShapeError, "weight must be 3-D", lambda: F.conv1d(x[:, :, 0], w, groups=2)),
        (fastnn.ShapeError, "reflect", lambda: nn.Conv2d(4, 4, 3, padding=6,
                                                          padding_mode="reflect")(x)),
    ]
    for etype, words, fn in cases:
        with pytest.raises(etype, match=words):
            fn()


def test_remembered_geometry_keeps_every_check():
    """A valid call's geometry is remembered; calls that differ in a way
    the checks see (types, dtypes, shapes) are still checked."""
    x = np.zeros((2, 4, 6, 6), np.float32)
    w = np.zeros((4, 2, 3, 3), np.float32)
    for _ in range(2):
        assert F.conv2d(x, w, None, (1, 1), (1, 1), (1, 1), 2).shape == (2, 4, 6, 6)
        with pytest.raises(TypeError, match="stride"):
            F.conv2d(x, w, None, (True, True), (1, 1), (1, 1), 2)
        with pytest.raises(TypeError, match="groups"):
            F.conv2d(x, w, None, (1, 1), (1, 1), (1, 1), True)
        with pytest.raises(TypeError, match="float"):
            F.conv2d(x.astype(np.float64), w, None, (1, 1), (1, 1), (1, 1), 2)
        with pytest.raises(fastnn.ShapeError, match="bias"):
            F.conv2d(x, w, np.zeros(3, np.float32), (1, 1), (1, 1), (1, 1), 2)
        with pytest.raises(fastnn.ShapeError, match="channels"):
            F.conv2d(x[:, :3], w, None, (1, 1), (1, 1), (1, 1), 2)
