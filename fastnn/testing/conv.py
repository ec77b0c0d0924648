"""Helpers for the tests of the convolution ops (tests/ops/test_conv_groups.py,
test_conv_transpose.py) and kernels (tests/kernels/test_conv_rows.py,
test_conv_wtaps.py): gradients of a function in fastnn or PyTorch, a
convolution module checked against PyTorch's with the same weights, and a
weight-gradient kernel checked against the reference."""
import numpy as np

import fastnn
from fastnn import _core
from fastnn.testing import reference as R


def grads(lib, fn, arrays, g):
    """(y, [gradient of each array]) of fn(*tensors) for the upstream g, in
    lib (fastnn or torch); None arrays stay None."""
    ts = [None if a is None else lib.tensor(a, requires_grad=True) for a in arrays]
    y = fn(*ts)
    y.backward(lib.tensor(g))
    return y.detach().numpy(), [None if t is None else np.asarray(t.grad) for t in ts]


def module_matches_torch(torch, cls, args, kw, shape, rng):
    """fastnn's cls(*args, **kw) against torch.nn's: state-dict keys and
    shapes, repr, and with torch's weights loaded the output and the
    input and weight gradients for an input of this shape."""
    m, t = cls(*args, **kw), getattr(torch.nn, cls.__name__)(*args, **kw)
    ms, ts = m.state_dict(), t.state_dict()
    assert list(ms) == list(ts)
    assert all(tuple(ms[k].shape) == tuple(ts[k].shape) for k in ms)
    assert repr(m) == repr(t)
    m.load_state_dict(ts)
    x = rng.standard_normal(shape).astype(np.float32)
    tx, px = fastnn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, py = m(tx), t(px)
    np.testing.assert_allclose(y.detach().numpy(), py.detach().numpy(), rtol=1e-4, atol=1e-5)
    g = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(fastnn.tensor(g))
    py.backward(torch.tensor(g))
    np.testing.assert_allclose(np.asarray(tx.grad), px.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(np.asarray(m.weight.grad), t.weight.grad.numpy(), rtol=1e-4,
                               atol=1e-4)


def assert_thread_invariant(fn, arrays, g):
    """fn's output and gradients (fastnn, upstream g) bitwise the same at 1
    and 2 threads."""
    before = fastnn.get_num_threads()
    try:
        fastnn.set_num_threads(1)
        r1 = grads(fastnn, fn, arrays, g)
        fastnn.set_num_threads(2)
        r2 = grads(fastnn, fn, arrays, g)
    finally:
        fastnn.set_num_threads(before)
    assert np.array_equal(r1[0], r2[0])
    for a, c in zip(r1[1], r2[1]):
        assert np.array_equal(a, c)


TORCH_TOL = {np.dtype(np.float32): dict(rtol=1e-4, atol=1e-4),
             np.dtype(np.float64): dict(rtol=1e-9, atol=1e-10)}


def assert_matches_torch(torch, name, arrays, args, rng):
    """F.<name>(*arrays, *args) in fastnn against torch.nn.functional's: the
    output and every gradient for a random upstream gradient (None arrays,
    such as a missing bias, stay None)."""
    tf, ff = getattr(torch.nn.functional, name), getattr(fastnn.nn.functional, name)
    with torch.no_grad():
        shape = tuple(tf(*[None if a is None else torch.tensor(a) for a in arrays], *args).shape)
    g = rng.standard_normal(shape).astype(arrays[0].dtype)
    ty, tg = grads(torch, lambda *t: tf(*t, *args), arrays, g)
    fy, fg = grads(fastnn, lambda *t: ff(*t, *args), arrays, g)
    tol = TORCH_TOL[np.dtype(arrays[0].dtype)]
    np.testing.assert_allclose(fy, ty, **tol)
    for a, t in zip(fg, tg):
        assert (a is None) == (t is None)
        if a is not None:
            np.testing.assert_allclose(a, t, **tol)


def weight_gradient(x, w, dy, stride, padding, dilation, groups, nt, with_db=True):
    """(dw, db) of fastnn's core for the convolution of x by w and the
    upstream dy, at nt threads (db None without with_db); the outputs start
    as NaN, so that a value the kernel leaves unwritten shows."""
    dw = np.full(w.shape, np.nan, w.dtype)
    db = np.full(w.shape[0], np.nan, w.dtype) if with_db else None
    _core.conv2d_bwd(x, w, dy, None, dw, db, stride, stride, padding, padding, nt,
                     dil_h=dilation, dil_w=dilation, groups=groups)
    return dw, db


def check_weight_gradient(x, w, dy, stride, padding, dilation, groups):
    """The core's dw and db against the NumPy reference, bitwise the same at
    1, 2 and 3 threads, and dw the same without db."""
    _, dwr, dbr = R.conv2d_backward(x, w, dy, stride, padding, dilation, groups)
    tol = 1e-4 if x.dtype == np.float32 else 1e-10
    geom = (stride, padding, dilation, groups)
    outs = [weight_gradient(x, w, dy, *geom, nt) for nt in (1, 2, 3)]
    np.testing.assert_allclose(outs[0][0], dwr, rtol=tol, atol=tol * np.abs(dwr).max())
    np.testing.assert_allclose(outs[0][1], dbr, rtol=tol, atol=tol * np.abs(dbr).max())
    for dw, db in outs[1:]:
        assert np.array_equal(dw, outs[0][0]) and np.array_equal(db, outs[0][1])
    assert np.array_equal(weight_gradient(x, w, dy, *geom, 2, with_db=False)[0], outs[0][0])
