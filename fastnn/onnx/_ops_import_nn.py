"""Import entries for the layer operators: Conv, ConvTranspose, pooling,
normalisation.  ONNX's padding is per side (and may be 'SAME_*'); where it
is not what the fastnn op takes (symmetric, at most half the kernel for
pooling), the input is padded first (``_ops_import.pad``)."""
import inspect

import numpy as np

from .._tensor import Tensor
from ..nn import functional as F
from ._ops_import import attr
from ._ops_import_shape import pad
from ._registry import imports
from .errors import OnnxImportError

_wrap = Tensor._wrap


def _pads(node, spatial, kernel, strides, dilations):
    """(begin, end) padding per spatial axis (auto_pad resolved)."""
    nd = len(spatial)
    auto = attr(node, "auto_pad", "NOTSET")
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        begin, end = [], []
        for i, k, s, d in zip(spatial, kernel, strides, dilations):
            out = -(-i // s)
            total = max((out - 1) * s + (k - 1) * d + 1 - i, 0)
            small = total // 2
            b = small if auto == "SAME_UPPER" else total - small
            begin.append(b)
            end.append(total - b)
        return begin, end
    if auto == "VALID":
        return [0] * nd, [0] * nd
    p = attr(node, "pads", [0] * (2 * nd))
    return list(p[:nd]), list(p[nd:])


def _accepts(fn, *names):
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return all(n in params for n in names)


def _need(node, fn, *names):
    if not _accepts(fn, *names):
        raise OnnxImportError(f"fastnn.onnx: ONNX {node.op_type} with "
                              f"{', '.join(names)} needs a fastnn {fn.__name__} that takes them")


@imports("Conv")
def _conv(m, node, x, w, b=None):
    nd = w.ndim - 2
    k = list(w.shape[2:])
    strides = attr(node, "strides", [1] * nd)
    dil = attr(node, "dilations", [1] * nd)
    groups = attr(node, "group", 1)
    begin, end = _pads(node, x.shape[2:], k, strides, dil)
    if begin != end:
        x = pad(x, [0, 0] + begin, [0, 0] + end)
        begin = [0] * nd
    if nd not in (1, 2):
        raise OnnxImportError(f"fastnn.onnx: {nd}-D Conv is not supported (1-D and 2-D are)")
    kw = {}
    if any(d != 1 for d in dil):
        kw["dilation"] = tuple(dil)
    if groups != 1:
        kw["groups"] = groups
    if nd == 1 and hasattr(F, "conv1d"):
        if kw:
            _need(node, F.conv1d, *kw)
        return F.conv1d(x, w, b, strides[0], begin[0], **kw)
    if nd == 1:
        y = _conv2d(node, x.unsqueeze(2), w.unsqueeze(2), b, (1, strides[0]), (0, begin[0]),
                    {k2: ((1, v[0]) if k2 == "dilation" else v) for k2, v in kw.items()})
        return y.squeeze(2)
    return _conv2d(node, x, w, b, tuple(strides), tuple(begin), kw)


def _conv2d(node, x, w, b, stride, padding, kw):
    if kw:
        _need(node, F.conv2d, *kw)
    return F.conv2d(x, w, b, stride, padding, **kw)


@imports("ConvTranspose")
def _conv_transpose(m, node, x, w, b=None):
    nd = w.ndim - 2
    fn = getattr(F, "conv_transpose2d" if nd == 2 else "conv_transpose1d", None)
    if fn is None:
        raise OnnxImportError("fastnn.onnx: ONNX ConvTranspose needs fastnn's "
                              f"conv_transpose{nd}d, which this fastnn does not have")
    k = list(w.shape[2:])
    strides = attr(node, "strides", [1] * nd)
    dil = attr(node, "dilations", [1] * nd)
    groups = attr(node, "group", 1)
    if attr(node, "auto_pad", "NOTSET") not in ("NOTSET", "VALID"):
        raise OnnxImportError("fastnn.onnx: ConvTranspose with auto_pad SAME_* is not "
                              "supported")
    p = attr(node, "pads", [0] * (2 * nd))
    begin, end = list(p[:nd]), list(p[nd:])
    opad = list(attr(node, "output_padding", [0] * nd))
    shape = attr(node, "output_shape")
    if shape is not None:
        full = [(i - 1) * s + (kk - 1) * d + 1 for i, s, kk, d in
                zip(x.shape[2:], strides, k, dil)]
        tot = [f + o - t for f, o, t in zip(full, opad, shape[-nd:])]
        begin = [t // 2 for t in tot]
        end = [t - bb for t, bb in zip(tot, begin)]
    crop = [e - bb for bb, e in zip(begin, end)]
    if any(c < 0 for c in crop):
        raise OnnxImportError("fastnn.onnx: ConvTranspose with more padding at the start "
                              "than at the end is not supported")
    # PyTorch pads symmetrically by begin; the extra end padding crops the output
    opad = [o - c for o, c in zip(opad, crop)]
    extra = [max(-o, 0) for o in opad]
    opad = [max(o, 0) for o in opad]
    one = (lambda v: v[0]) if nd == 1 else tuple
    y = fn(x, w, b, one(strides), one(begin), one(opad), groups, one(dil))
    if any(extra):
        idx = (slice(None), slice(None)) + tuple(slice(0, y.shape[2 + i] - e)
                                                 for i, e in enumerate(extra))
        y = y[idx]
    return y


def _pool_args(node, x, fill):
    nd = x.ndim - 2
    k = attr(node, "kernel_shape")
    if k is None or len(k) != nd or nd not in (1, 2):
        raise OnnxImportError(f"fastnn.onnx: {node.op_type} with kernel_shape {k} on "
                              f"{x.ndim}-D input is not supported")
    s = attr(node, "strides", [1] * nd)
    d = attr(node, "dilations", [1] * nd)
    begin, end = _pads(node, x.shape[2:], k, s, d)
    sym = begin == end and all(p <= kk // 2 for p, kk in zip(begin, k))
    if not sym:
        x = pad(x, [0, 0] + begin, [0, 0] + end, "constant", fill)
        begin = [0] * nd
    return x, nd, k, s, d, begin, bool(attr(node, "ceil_mode", 0)), sym


@imports("MaxPool")
def _max_pool(m, node, x):
    if len(node.outputs) > 1 and node.outputs[1]:
        raise OnnxImportError("fastnn.onnx: MaxPool's Indices output is not supported")
    x, nd, k, s, d, p, ceil, _ = _pool_args(node, x, -np.inf)
    if nd == 1:
        return F.max_pool1d(x, k[0], s[0], p[0], d[0], ceil)
    return F.max_pool2d(x, tuple(k), tuple(s), tuple(p), tuple(d), ceil)


@imports("AveragePool")
def _avg_pool(m, node, x):
    include = bool(attr(node, "count_include_pad", 0))
    if any(v != 1 for v in attr(node, "dilations", [1])):
        raise OnnxImportError("fastnn.onnx: AveragePool with dilations is not supported")
    orig = x
    x, nd, k, s, d, p, ceil, sym = _pool_args(node, x, 0.0)
    pool = (lambda t: F.avg_pool1d(t, k[0], s[0], p[0], ceil, include)) if nd == 1 else \
        (lambda t: F.avg_pool2d(t, tuple(k), tuple(s), tuple(p), ceil, include))
    if sym or include:
        return pool(x)
    # padded here, not counted: the window sums divided by the real pixels
    begin, end = _pads(node, orig.shape[2:], k, s, d)
    ones = pad(_wrap(np.ones((1, 1) + tuple(orig.shape[2:]), orig.dtype)),
               [0, 0] + begin, [0, 0] + end)
    return pool(x) / pool(ones)


@imports("GlobalAveragePool")
def _gap(m, node, x):
    return x.mean(tuple(range(2, x.ndim)), keepdim=True)


@imports("GlobalMaxPool")
def _gmp(m, node, x):
    return x.amax(tuple(range(2, x.ndim)), keepdim=True)


@imports("BatchNormalization")
def _batch_norm(m, node, x, scale, bias, mean, var):
    if len(node.outputs) > 1 and any(node.outputs[1:]):
        raise OnnxImportError("fastnn.onnx: BatchNormalization's training outputs "
                              "(running mean / var) are not supported")
    mom = 1.0 - attr(node, "momentum", 0.9)
    return F.batch_norm(x, mean, var, scale, bias, training=m.training, momentum=mom,
                        eps=attr(node, "epsilon", 1e-5))


@imports("LayerNormalization")
def _layer_norm(m, node, x, scale, bias=None):
    if len(node.outputs) > 1 and any(node.outputs[1:]):
        raise OnnxImportError("fastnn.onnx: LayerNormalization's Mean / InvStdDev outputs "
                              "are not supported")
    ax = attr(node, "axis", -1) % x.ndim
    ns = tuple(x.shape[ax:])
    if tuple(scale.shape) != ns:
        scale = scale.expand(*ns)
    if bias is not None and tuple(bias.shape) != ns:
        bias = bias.expand(*ns)
    return F.layer_norm(x, ns, scale, bias, attr(node, "epsilon", 1e-5))


@imports("GroupNormalization")
def _group_norm(m, node, x, scale, bias):
    G = attr(node, "num_groups")
    C = x.shape[1]
    if m.opset < 21 and scale.shape[0] == G and G != C:   # opset 18: one value a group
        idx = np.repeat(np.arange(G), C // G)
        scale, bias = scale[idx], bias[idx]
    return F.group_norm(x, G, scale, bias, attr(node, "epsilon", 1e-5))


@imports("InstanceNormalization")
def _instance_norm(m, node, x, scale, bias):
    return F.instance_norm(x, weight=scale, bias=bias, eps=attr(node, "epsilon", 1e-5))


@imports("LRN")
def _lrn(m, node, x):
    return F.local_response_norm(x, attr(node, "size"), attr(node, "alpha", 1e-4),
                                 attr(node, "beta", 0.75), attr(node, "bias", 1.0))


from . import _ops_import_rnn  # noqa: E402,F401
