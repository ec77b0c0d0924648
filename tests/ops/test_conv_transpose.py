"""F.conv_transpose2d / F.conv_transpose1d and nn.ConvTranspose2d /
nn.ConvTranspose1d: the loop reference, gradcheck in float64 with a random
upstream gradient, PyTorch's values and gradients (float32 and float64),
edge shapes, output_padding (also past the stride, below the dilation) and
output_size, groups, thread invariance, the module contract and bad
arguments."""
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

# (x shape, w shape, stride, padding, output_padding, groups, dilation)
CASES = [
    ((2, 4, 5, 6), (4, 3, 4, 4), 2, 1, 0, 1, 1),          # the DCGAN upsampling
    ((1, 3, 4, 5), (3, 2, 3, 3), 2, 1, 1, 1, 1),          # batch 1, output_padding
    ((2, 2, 5, 5), (2, 4, 3, 3), 1, 0, 0, 1, 1),          # stride 1: flipped-kernel pass
    ((2, 3, 4, 4), (3, 2, 3, 2), 3, (2, 0), (2, 1), 1, (2, 1)),  # stride > kernel, dilation
    ((2, 4, 5, 5), (4, 2, 3, 3), 2, 1, 1, 2, 1),          # grouped
    ((2, 4, 6, 5), (4, 1, 3, 3), 1, 1, 0, 4, 1),          # depthwise, stride 1
    ((2, 3, 5, 4), (3, 2, 3, 3), 2, 1, 0, 3, 1),          # depthwise, multiplier 2, strided
    ((2, 1, 3, 3), (1, 1, 1, 1), 1, 0, 0, 1, 1),          # 1x1, one channel
    ((2, 2, 4, 4), (2, 3, 3, 3), 1, 0, 1, 1, 2),          # output_padding >= stride, < dilation
    ((2, 16, 6, 6), (16, 16, 3, 3), 1, 1, 0, 1, 1),       # Winograd-sized
]
IDS = [f"case{i}" for i in range(len(CASES))]


def _arrays(rng, case, dtype, bias=True):
    xs, ws, groups = case[0], case[1], case[5]
    x = rng.standard_normal(xs).astype(dtype)
    w = rng.standard_normal(ws).astype(dtype)
    b = rng.standard_normal(ws[1] * groups).astype(dtype) if bias else None
    return x, w, b


def _call(x, w, b, case):
    return F.conv_transpose2d(x, w, b, *case[2:])


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_and_backward_match_reference(case, dtype, rng):
    x, w, b = _arrays(rng, case, dtype)
    tx, tw, tb = (fastnn.tensor(a, requires_grad=True) for a in (x, w, b))
    y = _call(tx, tw, tb, case)
    yr = R.conv_transpose2d(x, w, b, *case[2:])
    assert y.shape == yr.shape and y.dtype == dtype
    np.testing.assert_allclose(y.detach().numpy(), yr, **TOL[dtype])
    g = rng.standard_normal(yr.shape).astype(dtype)
    y.backward(fastnn.tensor(g))
    want = R.conv_transpose2d_backward(x, w, g, *case[2:])
    for got, ref in zip((tx.grad, tw.grad, tb.grad), want):
        np.testing.assert_allclose(np.asarray(got), ref, **TOL[dtype])
    with fastnn.no_grad():
        y0 = _call(fastnn.tensor(x), fastnn.tensor(w), fastnn.tensor(b), case)
    assert y0.grad_fn is None
    np.testing.assert_array_equal(y0.numpy(), y.detach().numpy())


@pytest.mark.parametrize("case", CASES[:9], ids=IDS[:9])
def test_gradcheck_float64(case, rng):
    x, w, b = (fastnn.tensor(a, requires_grad=True) for a in _arrays(rng, case, np.float64))
    Rg = fastnn.tensor(rng.standard_normal(_call(x, w, b, case).shape))
    assert fastnn.gradcheck(lambda x, w, b: (_call(x, w, b, case) * Rg).sum(), [x, w, b])


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_torch_parity(case, dtype, rng):
    assert_matches_torch(requires_torch(), "conv_transpose2d", _arrays(rng, case, dtype),
                         case[2:], rng)


def test_unbatched_no_bias_and_partial_grads(rng):
    x, w, _ = _arrays(rng, CASES[0], np.float64, bias=False)
    y3 = F.conv_transpose2d(x[0], w, None, 2, 1)
    np.testing.assert_allclose(y3.numpy(), R.conv_transpose2d(x[:1], w, None, 2, 1)[0],
                               **TOL[np.float64])
    tw = fastnn.tensor(w, requires_grad=True)
    y = F.conv_transpose2d(fastnn.tensor(x), tw, None, 2, 1)
    g = rng.standard_normal(y.shape)
    y.backward(fastnn.tensor(g))
    np.testing.assert_allclose(np.asarray(tw.grad),
                               R.conv_transpose2d_backward(x, w, g, 2, 1)[1], **TOL[np.float64])


def test_thread_invariance(rng):
    """convT4x4s2-shaped, above the serial cut-off: 1 and 2 threads bitwise."""
    x, w, b = _arrays(rng, ((8, 32, 12, 12), (32, 16, 4, 4), 2, 1, 0, 1, 1), np.float32)
    g = rng.standard_normal((8, 16, 24, 24)).astype(np.float32)
    assert_thread_invariant(lambda x, w, b: F.conv_transpose2d(x, w, b, 2, 1), (x, w, b), g)


# ---------------------------------------------------------------- 1-D
@pytest.mark.parametrize("args", [(2, 1, 0, 1, 1), (3, 2, 1, 2, 1), (1, 0, 0, 1, 2)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv_transpose1d_torch_parity(args, dtype, rng):
    x = rng.standard_normal((2, 4, 7)).astype(dtype)
    w = rng.standard_normal((4, 3, 4)).astype(dtype)
    b = rng.standard_normal(3 * args[3]).astype(dtype)
    assert_matches_torch(requires_torch(), "conv_transpose1d", (x, w, b), args, rng)


# ---------------------------------------------------------------- modules
MODULES = [
    (nn.ConvTranspose2d, (64, 32, 4), dict(stride=2, padding=1)),
    (nn.ConvTranspose2d, (4, 6, (3, 2)), dict(stride=(2, 1), padding=(1, 0),
                                              output_padding=(1, 0), groups=2, bias=False)),
    (nn.ConvTranspose2d, (3, 3, 3), dict(dilation=2, groups=3)),
    (nn.ConvTranspose1d, (4, 2, 4), dict(stride=2, padding=1)),
]


@pytest.mark.parametrize("cls,args,kw", MODULES)
def test_module_matches_torch(cls, args, kw, rng):
    shape = (2, args[0], 5, 6) if cls is nn.ConvTranspose2d else (2, args[0], 7)
    module_matches_torch(requires_torch(), cls, args, kw, shape, rng)


def test_module_init_and_output_size(rng):
    fastnn.manual_seed(0)
    m = nn.ConvTranspose2d(8, 6, 3, stride=2, padding=1, groups=2)
    assert m.weight.shape == (8, 3, 3, 3)
    bound = 1 / math.sqrt(3 * 9)                  # fan_in = out/groups * kH * kW
    assert 0.8 * bound < np.abs(m.weight.detach().numpy()).max() <= bound
    assert np.abs(m.bias.detach().numpy()).max() <= bound
    x = fastnn.tensor(rng.standard_normal((1, 8, 5, 5)).astype(np.float32))
    assert m(x).shape == (1, 6, 9, 9)
    assert m(x, output_size=(10, 10)).shape == (1, 6, 10, 10)
    assert m(x, output_size=[1, 6, 10, 9]).shape == (1, 6, 10, 9)
    with pytest.raises(ValueError, match="output size"):
        m(x, output_size=(11, 11))


def test_bad_arguments():
    x = np.zeros((2, 4, 5, 5), np.float32)
    w = np.zeros((4, 3, 3, 3), np.float32)
    cases = [
        (ValueError, "output padding must be smaller",
         lambda: F.conv_transpose2d(x, w, stride=2, output_padding=2)),
        (ValueError, "output padding must be smaller",
         lambda: F.conv_transpose2d(x, w, output_padding=1)),
        (ValueError, "negative padding", lambda: F.conv_transpose2d(x, w, padding=-1)),
        (ValueError, "padding", lambda: F.conv_transpose2d(x, w, padding="same")),
        (fastnn.ShapeError, "4 channels, but got 3", lambda: F.conv_transpose2d(x[:, :3], w)),
        (fastnn.ShapeError, "divisible by 3", lambda: F.conv_transpose2d(x, w, groups=3)),
        (fastnn.ShapeError, "bias", lambda: F.conv_transpose2d(x, w, np.zeros(4, np.float32))),
        (fastnn.ShapeError, "too small", lambda: F.conv_transpose2d(x, w, padding=4)),
        (ValueError, "padding mode", lambda: nn.ConvTranspose2d(4, 4, 3,
                                                                padding_mode="reflect")),
        (ValueError, "divisible by groups", lambda: nn.ConvTranspose2d(4, 6, 3, groups=4)),
        (TypeError, "float", lambda: F.conv_transpose2d(x, w.astype(np.float64))),
    ]
    for etype, words, fn in cases:
        with pytest.raises(etype, match=words):
            fn()
