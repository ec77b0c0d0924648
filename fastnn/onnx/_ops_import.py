"""Import entries: each ONNX operator run with fastnn ops on Tensors, so the
imported graph is differentiable wherever the operator is.

An entry is ``f(m, node, *inputs) -> Tensor or tuple``: ``m`` the
:class:`~._import.OnnxModule` (``m.training``, ``m.opset``,
``m.max_elements``), ``node`` the :class:`~._import.Node` (``node.attrs``),
the inputs as Tensors (None for an omitted optional input).  Shapes, axes
and indices that ONNX passes as tensors are read as Python ints.  The
shape, padding and resizing operators are in ``_ops_import_shape``, the
layers in ``_ops_import_nn``, the sequence operators (LSTM, GRU, RNN) in
``_ops_import_rnn``.
"""
import math

import numpy as np

import fastnn
from .. import nn  # noqa: F401
from .._tensor import Tensor
from ..nn import functional as F
from ._registry import imports
from .errors import OnnxImportError

_wrap = Tensor._wrap


def arr(t):
    return t._array if isinstance(t, Tensor) else np.asarray(t)


def ints(t):
    """A shape / axes / index tensor as a list of Python ints."""
    return [int(v) for v in np.asarray(arr(t)).reshape(-1)]


def attr(node, name, default=None):
    return node.attrs.get(name, default)


def bound(m, shape, what):
    n = 1
    for d in shape:
        if d < 0:
            raise OnnxImportError(f"fastnn.onnx: {what} would have a negative size {shape}")
        n *= int(d)
    if n > m.max_elements:
        raise OnnxImportError(f"fastnn.onnx: {what} would have shape {tuple(shape)} ({n} "
                              f"elements), more than max_elements={m.max_elements}")
    return n


def unsupported(node, why):
    raise OnnxImportError(f"fastnn.onnx: ONNX {node.op_type} {why} is not supported")


def _norm_axes(axes, ndim):
    return tuple(sorted(int(a) % max(ndim, 1) for a in axes))


# ---------------------------------------------------------------- pointwise
def _is_int(t):
    return arr(t).dtype.kind in "iub"


@imports("Add")
def _add(m, node, a, b):
    return a + b


@imports("Sub")
def _sub(m, node, a, b):
    return a - b


@imports("Mul")
def _mul(m, node, a, b):
    return a * b


@imports("Div")
def _div(m, node, a, b):
    if _is_int(a) and _is_int(b):      # ONNX integer division truncates
        x, y = arr(a), arr(b)
        q = np.abs(x) // np.where(y == 0, 1, np.abs(y)) * np.sign(x) * np.sign(y)
        return _wrap(np.asarray(q).astype(np.result_type(x, y)))
    return a / b


@imports("Pow")
def _pow(m, node, a, b):
    if isinstance(b, Tensor) and b._array.ndim == 0 and not b.requires_grad:
        v = b._array.item()
        return a * a if v == 2 else a ** v
    return a ** b


@imports("Mod")
def _mod(m, node, a, b):
    return fastnn.fmod(a, b) if attr(node, "fmod", 0) else fastnn.remainder(a, b)


def _unary(name, fn):
    imports(name)(lambda m, node, x: fn(x))


for _name, _fn in (("Neg", lambda x: -x), ("Abs", lambda x: x.abs()),
                   ("Exp", lambda x: x.exp()), ("Log", lambda x: x.log()),
                   ("Sqrt", lambda x: x.sqrt()), ("Reciprocal", fastnn.reciprocal),
                   ("Erf", fastnn.erf), ("Sin", fastnn.sin), ("Cos", fastnn.cos),
                   ("Floor", fastnn.floor), ("Ceil", fastnn.ceil), ("Round", fastnn.round),
                   ("Sign", fastnn.sign), ("Relu", F.relu), ("Sigmoid", F.sigmoid),
                   ("Tanh", F.tanh), ("Softsign", F.softsign), ("HardSwish", F.hardswish),
                   ("Mish", F.mish), ("Identity", lambda x: x)):
    _unary(_name, _fn)


@imports("Softplus")
def _softplus(m, node, x):
    return F.softplus(x, 1.0, 1e30)


@imports("LeakyRelu")
def _leaky(m, node, x):
    return F.leaky_relu(x, attr(node, "alpha", 0.01))


@imports("Elu")
def _elu(m, node, x):
    return F.elu(x, attr(node, "alpha", 1.0))


@imports("Selu")
def _selu(m, node, x):
    a, g = attr(node, "alpha", 1.67326319217681884765625), attr(node, "gamma",
                                                                1.05070102214813232421875)
    if math.isclose(a, 1.6732632423543772, rel_tol=1e-6) and \
            math.isclose(g, 1.0507009873554805, rel_tol=1e-6):
        return F.selu(x)
    return F.elu(x, a) * g


@imports("Celu")
def _celu(m, node, x):
    return F.celu(x, attr(node, "alpha", 1.0))


@imports("HardSigmoid")
def _hardsigmoid(m, node, x):
    a, b = attr(node, "alpha", 0.2), attr(node, "beta", 0.5)
    if math.isclose(a, 1 / 6, rel_tol=1e-6) and b == 0.5:
        return F.hardsigmoid(x)
    return (x * a + b).clamp(0.0, 1.0)


@imports("ThresholdedRelu")
def _thresholded(m, node, x):
    return F.threshold(x, attr(node, "alpha", 1.0), 0.0)


@imports("Gelu")
def _gelu(m, node, x):
    return F.gelu(x, approximate=attr(node, "approximate", "none"))


@imports("PRelu")
def _prelu(m, node, x, slope):
    s = slope._array
    C = x.shape[1] if x.ndim >= 2 else 1
    if s.size == 1:
        return F.prelu(x, slope.reshape(1))
    if s.size == C and x.ndim >= 2 and (s.ndim == 1 or s.shape[0] == C):
        return F.prelu(x, slope.reshape(C))
    return fastnn.where(_wrap(x._array > 0), x, x * slope)


def _scalar(t):
    if t is None:
        return None
    a = arr(t)
    return a.reshape(-1)[0].item() if a.size == 1 and not getattr(t, "requires_grad",
                                                                      False) else t


@imports("Clip")
def _clip(m, node, x, lo=None, hi=None):
    lo, hi = _scalar(lo), _scalar(hi)
    if lo is None and hi is None:
        return x
    return fastnn.clamp(x, lo, hi)


@imports("Softmax", "LogSoftmax")
def _softmax(m, node, x):
    fn = F.softmax if node.op_type == "Softmax" else F.log_softmax
    return fn(x, dim=attr(node, "axis", -1))


@imports("Where")
def _where(m, node, c, x, y):
    return fastnn.where(c, x, y)


def _cmp(ufunc):
    return lambda m, node, a, b: _wrap(np.asarray(ufunc(arr(a), arr(b))))


for _name, _uf in (("Equal", np.equal), ("Less", np.less), ("Greater", np.greater),
                   ("LessOrEqual", np.less_equal), ("GreaterOrEqual", np.greater_equal),
                   ("And", np.logical_and), ("Or", np.logical_or), ("Xor", np.logical_xor)):
    imports(_name)(_cmp(_uf))
imports("Not")(lambda m, node, x: _wrap(np.logical_not(arr(x))))
imports("IsNaN")(lambda m, node, x: _wrap(np.isnan(arr(x))))


def _nary(pair):
    def run(m, node, *xs):
        out = xs[0]
        for x in xs[1:]:
            out = pair(out, x)
        return out
    return run


imports("Max")(_nary(fastnn.maximum))
imports("Min")(_nary(fastnn.minimum))
imports("Sum")(_nary(lambda a, b: a + b))


@imports("Mean")
def _mean(m, node, *xs):
    return _nary(lambda a, b: a + b)(m, node, *xs) / float(len(xs))


# ----------------------------------------------------------------- products
@imports("MatMul")
def _matmul(m, node, a, b):
    return a @ b


@imports("Gemm")
def _gemm(m, node, a, b, c=None):
    ta, tb = attr(node, "transA", 0), attr(node, "transB", 0)
    alpha, beta = attr(node, "alpha", 1.0), attr(node, "beta", 1.0)
    if not ta and tb and alpha == 1.0 and beta == 1.0 and (c is None or c.ndim == 1):
        return F.linear(a, b, c)
    y = (a.t() if ta else a) @ (b.t() if tb else b)
    if alpha != 1.0:
        y = y * alpha
    if c is not None:
        y = y + (c * beta if beta != 1.0 else c)
    return y


@imports("Einsum")
def _einsum(m, node, *xs):
    return fastnn.einsum(attr(node, "equation"), *xs)


# --------------------------------------------------------------- reductions
def _reduce_axes(m, node, x, axes):
    if node.op_type == "ReduceSum" or m.opset >= 18:
        ax = ints(axes) if axes is not None else []
    else:
        ax = list(attr(node, "axes", []) or [])
    if not ax:
        return None if not attr(node, "noop_with_empty_axes", 0) else ()
    return _norm_axes(ax, x.ndim)


def _reduction(fn):
    def run(m, node, x, axes=None):
        ax = _reduce_axes(m, node, x, axes)
        if ax == ():
            return x
        keep = bool(attr(node, "keepdims", 1))
        return fn(x, ax if ax is not None else tuple(range(x.ndim)), keep)
    return run


imports("ReduceSum")(_reduction(lambda x, d, k: x.sum(d, keepdim=k)))
imports("ReduceMean")(_reduction(lambda x, d, k: x.mean(d, keepdim=k)))
imports("ReduceMax")(_reduction(lambda x, d, k: x.amax(d, keepdim=k)))
imports("ReduceMin")(_reduction(lambda x, d, k: x.amin(d, keepdim=k)))
imports("ReduceProd")(_reduction(lambda x, d, k: x.prod(d[0], keepdim=k) if len(d) == 1
                                 else _prod_dims(x, d, k)))
imports("ReduceL1")(_reduction(lambda x, d, k: x.abs().sum(d, keepdim=k)))
imports("ReduceL2")(_reduction(lambda x, d, k: x.norm(2, d, keepdim=k)))
imports("ReduceSumSquare")(_reduction(lambda x, d, k: (x * x).sum(d, keepdim=k)))
imports("ReduceLogSumExp")(_reduction(lambda x, d, k: x.logsumexp(d, keepdim=k)))


def _prod_dims(x, dims, keep):
    for d in sorted(dims, reverse=True):
        x = x.prod(d, keepdim=keep)
    return x


@imports("ArgMax", "ArgMin")
def _argmax(m, node, x):
    ax = attr(node, "axis", 0) % max(x.ndim, 1)
    keep = bool(attr(node, "keepdims", 1))
    a = arr(x)
    if attr(node, "select_last_index", 0):
        a = np.flip(a, ax)
    f = np.argmax if node.op_type == "ArgMax" else np.argmin
    i = f(a, axis=ax)
    if attr(node, "select_last_index", 0):
        i = a.shape[ax] - 1 - i
    if keep:
        i = np.expand_dims(i, ax)
    return _wrap(np.asarray(i, np.int64))


@imports("TopK")
def _topk(m, node, x, k):
    v, i = fastnn.topk(x, ints(k)[0], dim=attr(node, "axis", -1),
                       largest=bool(attr(node, "largest", 1)))
    return v, i


@imports("Dropout")
def _dropout(m, node, x, ratio=None, training_mode=None):
    p = 0.5 if ratio is None else float(arr(ratio).reshape(-1)[0])
    y = F.dropout(x, p, True) if m.training and p > 0 else x
    if len(node.outputs) > 1 and node.outputs[1]:
        return y, _wrap(np.ones(x.shape, bool))
    return y


from . import _ops_import_shape  # noqa: E402,F401
from . import _ops_import_nn  # noqa: E402,F401
