"""Elementwise arithmetic and activations as autograd Functions.

Same-shape float add/mul of at least ``FNN_SERIAL_CUTOFF`` elements and
relu/sigmoid/tanh (forward and backward) run in the compiled core
(``csrc/elementwise.c``, OpenMP).  Broadcasting arithmetic, small same-shape
arithmetic, division, powers, exp, log, abs and sqrt use NumPy ufuncs: they
are single memory-bound passes where a C kernel has no benefit.

Result dtypes are PyTorch's, not NumPy's: where the operands' dtypes differ
(int64 tensor + 1.5, float32 tensor * 0-d float64 tensor, int / int) the
result is cast to ``_common.result_type`` (float32 in those cases).  The
check is two identity comparisons when the dtypes agree (the hot path).
"""
import numpy as np

from .. import _core, _defaults
from .._config import state as _state
from ..autograd.function import Function
from ._common import float_dtype, result_type
from ._util import broadcast_shape, c_contig, is_float, nthreads, unbroadcast

_BIG = 32768
_nd = np.ndarray
_np_add = np.add
_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)
_np_mul = np.multiply


def _same_big(a, b):
    return (type(a) is np.ndarray and type(b) is np.ndarray and a.size >= _BIG
            and a.shape == b.shape and a.dtype == b.dtype and is_float(a)
            and a.flags.c_contiguous and b.flags.c_contiguous)


def _ufunc(name, ufunc, a, b):
    """ufunc(a, b) with a broadcast failure reported as a ShapeError."""
    try:
        return ufunc(a, b)
    except ValueError:
        broadcast_shape(name, a, b)
        raise


def _shape(x):
    return x.shape if isinstance(x, np.ndarray) else ()


def _retype(out, a, b):
    """out cast to PyTorch's result dtype for operands a, b (called only
    when their dtypes differ from out's, see the forwards)."""
    dt = result_type(a, b)
    return out if out.dtype == dt else out.astype(dt)


def _retype_div(out, a, b):
    dt = float_dtype(a, b)
    return out if out.dtype == dt else out.astype(dt)


def _wrapped(ufunc, a, b):
    """ufunc(a, b) with a Python int that overflows the other operand's
    integer dtype wrapped into it (PyTorch: uint8 tensor + -1 wraps)."""
    dt = a.dtype if type(a) is _nd else b.dtype
    a2 = a if type(a) is _nd else np.asarray(a).astype(dt)
    b2 = b if type(b) is _nd else np.asarray(b).astype(dt)
    return ufunc(a2, b2)


_NAMES = {np.add: "add", np.subtract: "sub", np.multiply: "mul", np.true_divide: "div"}


def _binary(ufunc, a, b, retype):
    """ufunc(a, b) (arrays or numbers, broadcast) in PyTorch's result dtype:
    a broadcast failure is a ShapeError, a Python int beyond an integer
    dtype's range wraps, mixed dtypes are cast by ``retype`` (two identity
    checks when the dtypes agree: the hot path)."""
    try:
        out = ufunc(a, b)
    except ValueError:
        broadcast_shape(_NAMES.get(ufunc, ufunc.__name__), a, b)
        raise
    except OverflowError:
        out = _wrapped(ufunc, a, b)
    if type(a) is _nd:
        if out.dtype is not a.dtype or (type(b) is _nd and b.dtype is not a.dtype):
            return retype(np.asarray(out), a, b)
    elif out.dtype is not b.dtype:
        return retype(np.asarray(out), a, b)
    return out


def _as_float(x):
    """Integer/bool input of a float function (exp, sqrt, ...) in the default dtype."""
    return x.astype(_defaults.FLOAT)


class AddFn(Function):
    raw = True
    _number_edges = True     # (a number operand is an edge in PyTorch's graph)

    @staticmethod
    def forward(ctx, a, b):
        if type(a) is _nd and type(b) is _nd and a.shape == b.shape:
            # same shapes (the common case): no broadcasting to undo
            ctx.shapes = None
            if a.size >= _BIG and _same_big(a, b):     # (size first: small is common)
                return _core.add(a, b, np.empty_like(a), nthreads())
            out = _np_add(a, b)
            if out.dtype is not a.dtype:    # (equal shapes: enough to see a mixed pair)
                out = _retype(out, a, b)
            return out
        if ctx.needs_input_grad[0] or ctx.needs_input_grad[1]:
            ctx.shapes = (_shape(a), _shape(b))
        return _binary(_np_add, a, b, _retype)

    @staticmethod
    def backward(ctx, g):
        shapes = ctx.shapes
        na, nb = ctx.needs_input_grad
        if shapes is None:
            return (g if na else None, g if nb else None)
        sa, sb = shapes
        return (unbroadcast(g, sa) if na else None, unbroadcast(g, sb) if nb else None)


class SubFn(Function):
    raw = True
    _number_edges = True     # (a number operand is an edge in PyTorch's graph)

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (_shape(a), _shape(b))
        if (type(a) is _nd and a.dtype.kind == "b") or (type(b) is _nd and b.dtype.kind == "b"):
            raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not "
                               "supported. If you are trying to invert a mask, use the `~` or "
                               "`logical_not()` operator instead.")
        return _binary(np.subtract, a, b, _retype)

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.shapes
        na, nb = ctx.needs_input_grad
        return (unbroadcast(g, sa) if na else None, unbroadcast(-g, sb) if nb else None)


class MulFn(Function):
    raw = True
    _number_edges = True     # (a number operand is an edge in PyTorch's graph)

    @staticmethod
    def forward(ctx, a, b):
        # keep only what the backward uses: b for a's gradient, a for b's
        na, nb = ctx.needs_input_grad
        if na or nb:
            ctx.save_for_backward(a if nb else _shape(a), b if na else _shape(b))
        if type(a) is _nd and type(b) is _nd and a.shape == b.shape:
            if a.size >= _BIG and _same_big(a, b):     # (size first: small is common)
                return _core.mul(a, b, np.empty_like(a), nthreads())
            out = _np_mul(a, b)
            if out.dtype is not a.dtype:    # (equal shapes: enough to see a mixed pair)
                out = _retype(out, a, b)
            return out
        return _binary(_np_mul, a, b, _retype)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors          # a or b may be only a shape (see forward)
        na, nb = ctx.needs_input_grad
        sa = a if type(a) is tuple else _shape(a)
        sb = b if type(b) is tuple else _shape(b)
        if sa == sb == g.shape:
            return (_np_mul(g, b) if na else None, _np_mul(g, a) if nb else None)
        return (unbroadcast(g * b, sa) if na else None,
                unbroadcast(g * a, sb) if nb else None)


class DivFn(Function):
    raw = True
    _number_edges = True     # (a number operand is an edge in PyTorch's graph)

    @staticmethod
    def forward(ctx, a, b):
        nb = ctx.needs_input_grad[1]
        ctx.save_for_backward(a if nb else _shape(a), b)
        with np.errstate(divide="ignore", invalid="ignore"):
            return _binary(np.true_divide, a, b, _retype_div)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors          # a may be only a shape (see forward)
        na, nb = ctx.needs_input_grad
        sa = a if type(a) is tuple else _shape(a)
        ga = unbroadcast(g / b, sa) if na else None
        gb = unbroadcast(-g * a / (b * b), _shape(b)) if nb else None
        return ga, gb


def _int_pow(a, b, dt):
    """PyTorch's integer and bool powers that NumPy does not give: a negative
    exponent from a tensor is 1 for base 1, +-1 for base -1 and 0 otherwise
    (the true value truncated); a negative Python exponent raises.  bool **
    bool is x (True) or all True (False) for a Python exponent, and raises
    for a tensor one."""
    if dt.kind == "b":
        if isinstance(b, _nd):
            raise NotImplementedError("\"pow\" not implemented for 'Bool'")
        return a.copy() if b else np.ones(a.shape, dt)
    if not isinstance(b, _nd):
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    neg = b < 0
    with np.errstate(over="ignore"):
        out = np.asarray(np.power(a, np.where(neg, 0, b)), dt)
    inv = np.where(a == 1, 1, np.where(a == -1, np.where(b % 2 == 0, 1, -1), 0)).astype(dt)
    return np.where(neg, inv, out)


class PowFn(Function):
    raw = True

    @staticmethod
    def _torch_name(ctx):           # PyTorch's overloads: x ** 2, x ** y, 2 ** x
        return ("PowBackward1", "PowBackward0", "PowBackward2")[ctx.scalar]

    @staticmethod
    def forward(ctx, a, b):
        dt = result_type(a, b)
        if type(a) is _nd and a.dtype is not dt:
            a = a.astype(dt)
        if type(b) is _nd and b.dtype is not dt:
            b = b.astype(dt)
        if dt.kind in "iub" and (dt.kind == "b" or np.any(np.asarray(b) < 0)):
            out = _int_pow(a, b, dt)
        else:
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                out = np.asarray(_ufunc("pow", np.power, a, b))
        na, nb = ctx.needs_input_grad
        if na or nb:
            ctx.save_for_backward(a, b, out if nb else None)
            ctx.scalar = 1 if type(b) is not _nd else 2 if type(a) is not _nd else 0
        return out

    @staticmethod
    def backward(ctx, g):
        # PyTorch's: d/da = b * a^(b-1), 0 where b == 0; d/db = out * log(a),
        # 0 where a == 0 and b >= 0
        a, b, out = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        ga = gb = None
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if na:
                ga = np.where(b == 0, 0, g * b * np.power(a, b - 1)).astype(g.dtype, copy=False)
                ga = unbroadcast(ga, _shape(a))
            if nb:
                gb = np.where((a == 0) & (b >= 0), 0, g * out * np.log(a))
                gb = unbroadcast(gb.astype(g.dtype, copy=False), _shape(b))
        return ga, gb


class NegFn(Function):
    raw = True

    @staticmethod
    def forward(ctx, a):
        if a.dtype == np.bool_:
            from .._errors import DTypeError
            raise DTypeError("Negation, the `-` operator, on a bool tensor is not supported. If "
                             "you are trying to invert a mask, use the `~` or `logical_not()` "
                             "operator instead.")
        return np.negative(a)

    @staticmethod
    def backward(ctx, g):
        return -g


class ExpFn(Function):
    raw = True

    @staticmethod
    def forward(ctx, a):
        if a.dtype.kind != "f":
            a = _as_float(a)
        out = np.exp(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * out


class LogFn(Function):
    raw = True

    @staticmethod
    def forward(ctx, a):
        if a.dtype.kind != "f":
            a = _as_float(a)
        ctx.save_for_backward(a)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            return g / a


class AbsFn(Function):
    raw = True

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.abs(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * np.sign(a)


class SqrtFn(Function):
    raw = True

    @staticmethod
    def forward(ctx, a):
        if a.dtype.kind != "f":
            a = _as_float(a)
        with np.errstate(invalid="ignore"):
            out = np.sqrt(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            return g / (2 * out)


class ReluFn(Function):
    """max(x, 0) in C (csrc/elementwise.c); gradient 0 at x <= 0, like PyTorch.

    The backward reads the saved *output* (y > 0 exactly where x > 0), as
    PyTorch's does, so ``relu_`` on a non-leaf needs no copy of the input."""
    raw = True

    @staticmethod
    def forward(ctx, x):
        dt = x.dtype
        if dt == _F32 or dt == _F64:
            if not x.flags.c_contiguous:
                x = np.ascontiguousarray(x)
            y = _core.relu_fwd(x, np.empty_like(x), _state.threads)
            ctx.save_for_backward(y)
            return y
        return np.maximum(x, 0)

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        g = c_contig(g)
        return _core.relu_bwd(y, g, np.empty_like(y), _state.threads)


class _OutputGradFn(Function):
    """Base of the C activations whose backward needs only the output y
    (sigmoid, tanh): forward runs ``_fwd`` on a float C-contiguous x and
    saves y, backward runs ``_bwd(y, g)``."""
    raw = True

    @classmethod
    def forward(cls, ctx, x):
        if x.dtype.kind != "f":
            x = _as_float(x)
        x = c_contig(x)
        y = cls._fwd(x, np.empty_like(x), nthreads())
        ctx.save_for_backward(y)
        return y

    @classmethod
    def backward(cls, ctx, g):
        (y,) = ctx.saved_tensors
        return cls._bwd(y, c_contig(g), np.empty_like(y), nthreads())


class SigmoidFn(_OutputGradFn):
    """Numerically stable logistic function in C."""
    _fwd, _bwd = staticmethod(_core.sigmoid_fwd), staticmethod(_core.sigmoid_bwd)


class TanhFn(_OutputGradFn):
    """tanh in C; the backward uses the saved output: 1 - y^2."""
    _fwd, _bwd = staticmethod(_core.tanh_fwd), staticmethod(_core.tanh_bwd)
