"""Shared machinery of the tensor-op tests: input makers, running one
lambda on fastnn and on PyTorch, comparing values and gradients.

An op is written once, as ``lambda m, *xs: ...`` where ``m`` is the module
(``fastnn`` or ``torch``) and ``xs`` the tensors of that library, so the
same code runs on both sides."""
import numpy as np

import fastnn

TOL = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-10, atol=1e-12)}


class F:
    """A float input of ``shape`` (normal, or uniform in [lo, hi))."""
    grad = True

    def __init__(self, *shape, lo=None, hi=None, grad=True):
        self.shape, self.lo, self.hi, self.grad = shape, lo, hi, grad

    def make(self, rng, dtype, shape=None):
        shape = self.shape if shape is None else shape
        if self.lo is None:
            return rng.standard_normal(shape).astype(dtype)
        return rng.uniform(self.lo, self.hi, shape).astype(dtype)


def Pos(*shape):
    return F(*shape, lo=0.5, hi=2.0)


class Distinct(F):
    """Floats with no ties (a shuffled ramp), for sort/topk/max."""

    def make(self, rng, dtype, shape=None):
        shape = self.shape if shape is None else shape
        n = int(np.prod(shape))
        return (rng.permutation(n).reshape(shape) * 0.37 - n * 0.1).astype(dtype)


class Idx:
    """An int64 index array with values in [0, high)."""
    grad = False

    def __init__(self, shape, high, unique_along=None):
        self.shape, self.high, self.unique_along = shape, high, unique_along

    def make(self, rng, dtype, shape=None):
        if self.unique_along is not None:          # a permutation prefix per fiber
            d = self.unique_along
            arr = np.argsort(rng.random(self.shape[:d] + (self.high,) + self.shape[d + 1:]),
                             axis=d)
            return np.take(arr, np.arange(self.shape[d]), axis=d).astype(np.int64)
        return rng.integers(0, self.high, self.shape).astype(np.int64)


class Mask:
    grad = False

    def __init__(self, *shape):
        self.shape = shape

    def make(self, rng, dtype, shape=None):
        return rng.random(self.shape if shape is None else shape) < 0.4


class Arr:
    """A fixed array; float values take the test's dtype and get gradients."""

    def __init__(self, value, grad=None):
        self.value = np.asarray(value)
        self.grad = self.value.dtype.kind == "f" if grad is None else grad

    def make(self, rng, dtype, shape=None):
        v = self.value
        return v.astype(dtype) if v.dtype.kind == "f" else v.copy()


class Op:
    def __init__(self, name, fn, inputs, grad=True, elementwise=False, edge=(), noncontig=True,
                 tol=None, gradcheck=True, dtypes=(np.float32, np.float64)):
        self.name, self.fn, self.inputs = name, fn, inputs
        self.grad, self.elementwise, self.edge = grad, elementwise, edge
        self.noncontig, self.tol, self.gradcheck, self.dtypes = noncontig, tol, gradcheck, dtypes

    def __repr__(self):
        return self.name


def make_arrays(op, dtype, seed=0, shapes=None, inputs=None):
    rng = np.random.default_rng(seed)
    ins = inputs if inputs is not None else op.inputs
    out = []
    for k, m in enumerate(ins):
        s = None if shapes is None or not isinstance(m, F) else shapes
        out.append(m.make(rng, dtype, s))
    return out


def _leaves(lib, arrays, makers, grad, noncontig):
    """(leaves, args): leaves require grad; args are what the op receives
    (a permuted view of a leaf with the reversed shape when noncontig)."""
    leaves, args = [], []
    for a, m in zip(arrays, makers):
        want = grad and getattr(m, "grad", False) and a.dtype.kind == "f"
        if noncontig and a.ndim >= 2 and isinstance(m, F):
            base = np.ascontiguousarray(np.transpose(a))
            leaf = lib.tensor(base, requires_grad=want)
            arg = leaf.permute(*reversed(range(a.ndim)))
        else:
            leaf = lib.tensor(a, requires_grad=want)
            arg = leaf
        leaves.append(leaf if want else None)
        args.append(arg)
    return leaves, args


def flat_outputs(out):
    if isinstance(out, (tuple, list)):
        res = []
        for o in out:
            res.extend(flat_outputs(o))
        return res
    return [out]


def to_np(t):
    if hasattr(t, "detach"):
        t = t.detach()
    return np.asarray(t.numpy() if hasattr(t, "numpy") else t)


def run_both(op, arrays, makers, grad=True, noncontig=False, seed=7):
    """Runs op on fastnn and torch; returns ((outs, grads) fastnn, (outs, grads) torch)."""
    import torch
    res = []
    up_rng = np.random.default_rng(seed)
    ups = None
    for lib in (fastnn, torch):
        leaves, args = _leaves(lib, arrays, makers, grad, noncontig)
        outs = flat_outputs(op.fn(lib, *args))
        vals = [to_np(o) if hasattr(o, "detach") else np.asarray(o) for o in outs]
        if ups is None:
            ups = [up_rng.standard_normal(v.shape).astype(v.dtype) if v.dtype.kind == "f"
                   else None for v in vals]
        grads = []
        live = [i for i, o in enumerate(outs) if getattr(o, "requires_grad", False)]
        if grad and live and any(lf is not None for lf in leaves):
            total = None
            for i in live:
                s = (outs[i] * lib.tensor(ups[i])).sum()
                total = s if total is None else total + s
            total.backward()
            grads = [None if lf is None else
                     (None if lf.grad is None else to_np(lf.grad)) for lf in leaves]
        res.append((vals, grads))
    return res


def assert_close(a, b, dtype, tol=None, what=""):
    t = dict(TOL[np.dtype(dtype).type])
    if tol:                                  # {np.float32: {...}} overrides per dtype
        t.update(tol.get(np.dtype(dtype).type, {}))
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, f"{what}: shape {a.shape} != torch's {b.shape}"
    if a.dtype.kind == "f" or b.dtype.kind == "f":
        np.testing.assert_allclose(a.astype(np.float64), b.astype(np.float64), equal_nan=True,
                                   err_msg=what, **t)
    else:
        np.testing.assert_array_equal(a, b, err_msg=what)


def compare(op, arrays, makers, dtype, grad=True, noncontig=False):
    (fv, fg), (tv, tg) = run_both(op, arrays, makers, grad, noncontig)
    assert len(fv) == len(tv), f"{op.name}: {len(fv)} outputs, torch has {len(tv)}"
    for i, (a, b) in enumerate(zip(fv, tv)):
        assert_close(a, b, dtype, op.tol, f"{op.name} output {i}")
        assert str(a.dtype) == str(b.dtype).replace("torch.", ""), \
            f"{op.name} output {i}: dtype {a.dtype} != torch's {b.dtype}"
    assert len(fg) == len(tg), f"{op.name}: gradients present {len(fg)} vs {len(tg)}"
    for i, (a, b) in enumerate(zip(fg, tg)):
        if a is None and b is None:
            continue
        if a is None:
            a = np.zeros_like(b)
        if b is None:
            b = np.zeros_like(a)
        assert_close(a, b, dtype, op.tol, f"{op.name} grad of input {i}")


def raises_like_torch(make):
    """make(torch) raises; make(fastnn) raises the same exception type."""
    import pytest

    from fastnn.testing import requires_torch
    torch = requires_torch()
    with pytest.raises(Exception) as theirs:
        make(torch)
    with pytest.raises(type(theirs.value)):
        make(fastnn)
