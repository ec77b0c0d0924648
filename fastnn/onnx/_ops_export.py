"""Export entries for the tensor ops: arithmetic, element-wise functions,
comparisons, activations, softmax, reductions and matrix products.

Each entry receives the graph builder ``g`` and the recorded call ``op``
(see ``_lower.Op``) and returns the ONNX name of each output.  The shape
and indexing ops are in ``_ops_export_shape``, the layer ops (convolution,
pooling, normalisation, resampling, sequence layers) in ``_ops_export_nn``.
"""
import math

import numpy as np

from ._registry import exports
from ._trace import Value
from .errors import OnnxExporterError

INT64_MAX = np.iinfo(np.int64).max
INT64_MIN = np.iinfo(np.int64).min

E = "fastnn.ops.elementwise."
A = "fastnn.ops.activation."
P = "fastnn.ops.pointwise."
R = "fastnn.ops.reduction."
S = "fastnn.ops.shape."
L = "fastnn.ops.linalg."
IX = "fastnn.ops.indexing."


def as_dtype(g, v, dt):
    """Operand v (a Value, number or array) as a graph name of dtype dt."""
    if isinstance(v, Value):
        if v.dtype != dt:
            return g.cast(v, dt)
        return g.name(v)
    return g.const(np.asarray(v).astype(dt))


def axes_of(dim, ndim):
    """A dim argument (None, int or sequence) as a sorted tuple of axes, or None."""
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return None
    if isinstance(dim, (tuple, list)):
        return tuple(sorted(int(d) % max(ndim, 1) for d in dim))
    return (int(dim) % max(ndim, 1),)


def fail(op, why):
    raise OnnxExporterError(f"fastnn.onnx.export: {op.name}: {why}")


# ------------------------------------------------------------- arithmetic
def _binary(onnx_type):
    def emit(g, op):
        a, b = op.pos[0], op.pos[1]
        dt = op.out.dtype
        return g.op(onnx_type, as_dtype(g, a, dt), as_dtype(g, b, dt))
    return emit


exports(E + "AddFn")(_binary("Add"))
exports(E + "SubFn")(_binary("Sub"))
exports(E + "MulFn")(_binary("Mul"))
exports(E + "DivFn")(_binary("Div"))
exports(P + "MaximumFn")(_binary("Max"))
exports(P + "MinimumFn")(_binary("Min"))


@exports(E + "PowFn")
def _pow(g, op):
    a, b = op["a"], op["b"]
    dt = op.out.dtype
    if not isinstance(b, Value) and float(b) == 2.0:
        x = as_dtype(g, a, dt)
        return g.op("Mul", x, x)
    return g.op("Pow", as_dtype(g, a, dt), as_dtype(g, b, dt))


def _unary(onnx_type):
    def emit(g, op):
        x = op.pos[0]
        return g.op(onnx_type, as_dtype(g, x, op.out.dtype))
    return emit


for _fn, _ty in ((E + "NegFn", "Neg"), (E + "ExpFn", "Exp"), (E + "LogFn", "Log"),
                 (E + "AbsFn", "Abs"), (E + "SqrtFn", "Sqrt"), (E + "ReluFn", "Relu"),
                 (E + "SigmoidFn", "Sigmoid"), (E + "TanhFn", "Tanh"),
                 (P + "SignFn", "Sign"), (P + "FloorFn", "Floor"), (P + "CeilFn", "Ceil"),
                 (P + "ReciprocalFn", "Reciprocal"), (P + "SinFn", "Sin"),
                 (P + "CosFn", "Cos"), (P + "TanFn", "Tan"), (P + "SinhFn", "Sinh"),
                 (P + "CoshFn", "Cosh"), (P + "AsinFn", "Asin"), (P + "AcosFn", "Acos"),
                 (P + "AtanFn", "Atan"), (P + "ErfFn", "Erf"),
                 (A + "SoftsignFn", "Softsign")):
    exports(_fn)(_unary(_ty))


@exports(P + "RsqrtFn")
def _rsqrt(g, op):
    return g.op("Reciprocal", g.op("Sqrt", as_dtype(g, op["x"], op.out.dtype)))


@exports(P + "SquareFn")
def _square(g, op):
    x = as_dtype(g, op["x"], op.out.dtype)
    return g.op("Mul", x, x)


@exports(P + "Log1pFn")
def _log1p(g, op):
    x = as_dtype(g, op["x"], op.out.dtype)
    return g.op("Log", g.op("Add", x, g.scalar(1, op.out)))


@exports(P + "Expm1Fn")
def _expm1(g, op):
    x = as_dtype(g, op["x"], op.out.dtype)
    return g.op("Sub", g.op("Exp", x), g.scalar(1, op.out))


@exports(P + "Log2Fn", P + "Log10Fn")
def _logb(g, op):
    x = as_dtype(g, op["x"], op.out.dtype)
    base = 2.0 if op.cls.__name__ == "Log2Fn" else 10.0
    return g.op("Div", g.op("Log", x), g.scalar(math.log(base), op.out))


@exports(P + "ErfcFn")
def _erfc(g, op):
    return g.op("Sub", g.scalar(1.0, op.out), g.op("Erf", as_dtype(g, op["x"], op.out.dtype)))


def _trunc_nodes(g, x, like):
    return g.op("Where", g.op("Less", x, g.scalar(0, like)), g.op("Ceil", x), g.op("Floor", x))


@exports(P + "TruncFn", P + "FracFn")
def _trunc(g, op):
    x = op["x"]
    if x.dtype.kind != "f":
        return g.op("Identity", x) if op.cls.__name__ == "TruncFn" else \
            g.op("Sub", x, x)
    t = _trunc_nodes(g, g.name(x), x)
    return t if op.cls.__name__ == "TruncFn" else g.op("Sub", x, t)


@exports(P + "RemainderFn", P + "FmodFn")
def _remainder(g, op):
    dt = op.out.dtype
    a, b = as_dtype(g, op["a"], dt), as_dtype(g, op["b"], dt)
    if op.cls.__name__ == "FmodFn":
        return g.op("Mod", a, b, fmod=1)
    if dt.kind != "f":
        return g.op("Mod", a, b, fmod=0)
    # Python's remainder: a - floor(a / b) * b
    return g.op("Sub", a, g.op("Mul", g.op("Floor", g.op("Div", a, b)), b))


@exports(P + "FillFn")
def _fill(g, op):
    x = op["x"]
    return g.op("Expand", as_dtype(g, np.asarray(op["value"]), op.out.dtype), g.shape_of(x))


@exports(P + "RoundFn")
def _round(g, op):
    x, d = op["x"], op.get("decimals", 0)
    if not d:
        return g.op("Round", x)
    s = g.scalar(10.0 ** d, op.out)
    return g.op("Div", g.op("Round", g.op("Mul", x, s)), s)


@exports(P + "ClampFn")
def _clamp(g, op):
    x, lo, hi = op["x"], op["lo"], op["hi"]
    dt = op.out.dtype
    xs = as_dtype(g, x, dt)
    if not isinstance(lo, Value) and not isinstance(hi, Value):
        return g.clip(xs, lo, hi, dt)
    if lo is not None:
        xs = g.op("Max", xs, as_dtype(g, lo, dt))
    if hi is not None:
        xs = g.op("Min", xs, as_dtype(g, hi, dt))
    return xs


@exports(P + "WhereFn")
def _where(g, op):
    dt = op.out.dtype
    return g.op("Where", op["cond"], as_dtype(g, op["x"], dt), as_dtype(g, op["y"], dt))


@exports(IX + "MaskedFillFn")
def _masked_fill(g, op):
    x = op["x"]
    return g.op("Where", op["mask"], as_dtype(g, op["value"], x.dtype), x)


_COMPARE = {"equal": "Equal", "less": "Less", "greater": "Greater",
            "less_equal": "LessOrEqual", "greater_equal": "GreaterOrEqual"}


@exports("fastnn._tensor.Tensor._cmp")
def _compare(g, op):
    name = getattr(op["ufunc"], "__name__", "")
    a, b = op["self"], op["o"]
    dt = np.result_type(a.dtype, b.dtype if isinstance(b, Value) else np.asarray(b).dtype)
    if not isinstance(b, Value) and a.dtype.kind == "f":
        dt = a.dtype
    if name == "not_equal":
        return g.op("Not", g.op("Equal", as_dtype(g, a, dt), as_dtype(g, b, dt)))
    if name not in _COMPARE:
        fail(op, f"comparison {name} has no ONNX export")
    return g.op(_COMPARE[name], as_dtype(g, a, dt), as_dtype(g, b, dt))


_LOGIC = {"logical_and": "And", "logical_or": "Or", "logical_xor": "Xor",
          "logical_not": "Not", "isnan": "IsNaN", "bitwise_and": "And", "bitwise_or": "Or",
          "bitwise_xor": "Xor", "bitwise_not": "Not"}


@exports("fastnn.ops.pointwise._logic.<locals>.op")
def _logic(g, op):
    name = op.get("name", "")
    if name not in _LOGIC or op.out.dtype != np.bool_:
        fail(op, f"{name} on {op.out.dtype} tensors has no ONNX export")
    a = as_dtype(g, op["input"], np.bool_)
    if name in ("logical_not", "bitwise_not"):
        return g.op("Not", a)
    if name == "isnan":
        return g.op("IsNaN", op["input"])
    return g.op(_LOGIC[name], a, as_dtype(g, op["other"], np.bool_))


# ------------------------------------------------------------- activations
@exports(A + "LeakyReLUFn")
def _leaky_relu(g, op):
    return g.op("LeakyRelu", op["x"], alpha=float(op["negative_slope"]))


@exports(A + "SoftmaxFn", A + "LogSoftmaxFn")
def _softmax(g, op):
    ty = "LogSoftmax" if op.cls.log else "Softmax"
    return g.op(ty, op["x"], axis=int(op.ctx.dim))


def _gelu_erf(g, x, like):
    """0.5 x (1 + erf(x / sqrt 2))."""
    e = g.op("Erf", g.op("Div", x, g.scalar(math.sqrt(2.0), like)))
    return g.op("Mul", g.op("Mul", x, g.scalar(0.5, like)),
                g.op("Add", e, g.scalar(1.0, like)))


def _gelu_tanh(g, x, like):
    """0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    x3 = g.op("Mul", g.op("Mul", x, x), x)
    inner = g.op("Add", x, g.op("Mul", x3, g.scalar(0.044715, like)))
    t = g.op("Tanh", g.op("Mul", inner, g.scalar(math.sqrt(2.0 / math.pi), like)))
    return g.op("Mul", g.op("Mul", x, g.scalar(0.5, like)),
                g.op("Add", t, g.scalar(1.0, like)))


@exports(A + "GELUFn", A + "GELUTanhFn")
def _gelu(g, op):
    x = op["x"]
    tanh = op.cls.__name__ == "GELUTanhFn"
    if g.opset >= 20:
        return g.op("Gelu", x, approximate="tanh" if tanh else "none")
    return (_gelu_tanh if tanh else _gelu_erf)(g, g.name(x), x)


@exports(A + "SiLUFn")
def _silu(g, op):
    x = op["x"]
    return g.op("Mul", x, g.op("Sigmoid", x))


@exports(A + "MishFn")
def _mish(g, op):
    x = op["x"]
    if g.opset >= 18:
        return g.op("Mish", x)
    return g.op("Mul", x, g.op("Tanh", g.op("Softplus", x)))


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


@exports(A + "ELUFn")
def _elu(g, op):
    x, alpha, scale, inscale = op["x"], op["a"], op["b"], op["c"]
    if scale == 1.0 and inscale == 1.0:
        return g.op("Elu", x, alpha=float(alpha))
    if math.isclose(alpha, _SELU_ALPHA, rel_tol=1e-12) and \
            math.isclose(scale, _SELU_SCALE, rel_tol=1e-12) and inscale == 1.0:
        return g.op("Selu", x, alpha=float(alpha), gamma=float(scale))
    if scale == 1.0 and math.isclose(inscale * alpha, 1.0, rel_tol=1e-12):
        return g.op("Celu", x, alpha=float(alpha))
    # scale * (x > 0 ? x : alpha * (exp(inscale * x) - 1))
    neg = g.op("Mul", g.op("Sub", g.op("Exp", g.op("Mul", x, g.scalar(inscale, x))),
                           g.scalar(1.0, x)), g.scalar(alpha, x))
    y = g.op("Where", g.op("Greater", x, g.scalar(0.0, x)), x, neg)
    return g.op("Mul", y, g.scalar(scale, x))


@exports(A + "SoftplusFn")
def _softplus(g, op):
    x, beta, threshold = op["x"], float(op["a"]), float(op["b"])
    bx = g.name(x) if beta == 1.0 else g.op("Mul", x, g.scalar(beta, x))
    sp = g.op("Softplus", bx)
    if beta != 1.0:
        sp = g.op("Div", sp, g.scalar(beta, x))
    return g.op("Where", g.op("Greater", bx, g.scalar(threshold, x)), x, sp)


@exports(A + "LogSigmoidFn")
def _logsigmoid(g, op):
    x = op["x"]
    return g.op("Neg", g.op("Softplus", g.op("Neg", x)))


@exports(A + "HardtanhFn")
def _hardtanh(g, op):
    x = op["x"]
    return g.clip(x, float(op["a"]), float(op["b"]), x)


@exports(A + "HardswishFn")
def _hardswish(g, op):
    return g.op("HardSwish", op["x"])


@exports(A + "HardsigmoidFn")
def _hardsigmoid(g, op):
    return g.op("HardSigmoid", op["x"], alpha=1.0 / 6.0, beta=0.5)


@exports(A + "ThresholdFn")
def _threshold(g, op):
    x = op["x"]
    return g.op("Where", g.op("Greater", x, g.scalar(op["a"], x)), x, g.scalar(op["b"], x))


@exports(A + "PReLUFn")
def _prelu(g, op):
    x, w = op["x"], op["w"]
    slope = g.name(w)
    if w.ndim == 1 and w.shape[0] > 1 and x.ndim > 2:
        slope = g.reshape(w, (w.shape[0],) + (1,) * (x.ndim - 2), w.shape)
    return g.op("PRelu", x, slope)


# ------------------------------------------------------------- reductions
def _reduce_fn(onnx_type):
    def emit(g, op):
        x = op["x"]
        axes = axes_of(op.get("dim"), x.ndim)
        xs = as_dtype(g, x, op.out.dtype)
        if x.ndim == 0:
            return g.op("Identity", xs)
        return g.reduce(onnx_type, xs, axes, op.get("keepdim", False))
    return emit


exports(R + "SumFn")(_reduce_fn("ReduceSum"))
exports(R + "MeanFn")(_reduce_fn("ReduceMean"))


@exports(R + "AmaxFn", R + "AminFn")
def _amax(g, op):
    x = op["x"]
    ty = "ReduceMax" if op.cls.__name__ == "AmaxFn" else "ReduceMin"
    return g.reduce(ty, x, axes_of(op.get("dim"), x.ndim), op.get("keepdim", False))


@exports(R + "MaxFn", R + "MinFn")
def _max(g, op):
    x = op["x"]
    is_max = op.cls.__name__ == "MaxFn"
    if op.get("dim") is None:
        return g.reduce("ReduceMax" if is_max else "ReduceMin", x, None, False)
    d, keep = int(op.ctx.dim), int(bool(op.ctx.keepdim))
    vals = g.reduce("ReduceMax" if is_max else "ReduceMin", x, (d,), keep)
    idx = g.op("ArgMax" if is_max else "ArgMin", x, axis=d, keepdims=keep)
    return [vals, idx]


@exports(R + "VarFn")
def _var(g, op):
    x, dims, corr, keep, std = op["x"], op["dims"], op["correction"], op["keepdim"], op["std"]
    axes = tuple(range(x.ndim)) if dims is None else tuple(dims)
    n = int(np.prod([x.shape[a] for a in axes])) if axes else 1
    d = g.op("Sub", x, g.reduce("ReduceMean", x, axes, True))
    s = g.reduce("ReduceSum", g.op("Mul", d, d), axes, keep)
    v = g.op("Div", s, g.scalar(max(n - corr, 0), x))
    return g.op("Sqrt", v) if std else v


@exports(R + "LogSumExpFn")
def _logsumexp(g, op):
    x = op["x"]
    return g.reduce("ReduceLogSumExp", x, op["dims"], op["keepdim"])


def pnorm(g, x, p, axes, keep, like):
    """The vector p-norm of x over axes (p = 1, 2, +-inf or any other > 0)."""
    if p == 2:
        return g.reduce("ReduceL2", x, axes, keep)
    if p == 1:
        return g.reduce("ReduceL1", x, axes, keep)
    if p in (np.inf, -np.inf):
        return g.reduce("ReduceMax" if p > 0 else "ReduceMin", g.op("Abs", x), axes, keep)
    s = g.reduce("ReduceSum", g.op("Pow", g.op("Abs", x), g.scalar(p, like)), axes, keep)
    return g.op("Pow", s, g.scalar(1.0 / p, like))


@exports(R + "NormFn")
def _norm(g, op):
    x, p, dims, keep = op["x"], op["p"], op["dims"], op["keepdim"]
    if not p > 0:
        fail(op, f"the {p}-norm has no ONNX export")
    return pnorm(g, g.name(x), float(p), dims, keep, x)


@exports(R + "ProdFn")
def _prod(g, op):
    x = op["x"]
    return g.reduce("ReduceProd", as_dtype(g, x, op.out.dtype), axes_of(op["dim"], x.ndim),
                    op["keepdim"])


@exports(R + "CumsumFn")
def _cumsum(g, op):
    x = op["x"]
    return g.op("CumSum", as_dtype(g, x, op.out.dtype),
                g.const(np.asarray(int(op["dim"]) % max(x.ndim, 1), np.int64)))


# ---------------------------------------------------------------- products
@exports(L + "LinearFn")
def _linear(g, op):
    x, w, b = op["x"], op["weight"], op.get("bias")
    if x.ndim == 2:
        return g.op("Gemm", x, w, b, transB=1)
    y = g.op("MatMul", x, g.transpose(w, (1, 0)))
    return g.op("Add", y, b) if b is not None else y


@exports(L + "MatMulFn")
def _matmul(g, op):
    return g.op("MatMul", op["a"], op["b"])


@exports(L + "EinsumFn")
def _einsum(g, op):
    eq = op["equation"].replace(" ", "")
    return g.op("Einsum", *op.pos[1:], equation=eq)


# the shape and layer ops register themselves on import
from . import _ops_export_shape  # noqa: E402,F401
from . import _ops_export_nn  # noqa: E402,F401
