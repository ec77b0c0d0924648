"""``fastnn.onnx.export``: record the model's forward, lower it to ONNX,
check it, write it atomically.

The model runs twice, in evaluation mode, on copies of the example
inputs: once as given, once with each dynamic axis one longer (or with
the same shapes and slightly changed values when there is none).  Both
recordings are lowered to graphs with the same names; the graphs must
agree node for node.  Where they differ is what the dynamic axes change:
the shape constants (a reshape's target, ...) are rewritten with ``0``,
``-1`` or the input's runtime size, the graph's output dims named; any
other difference -- control flow or a constant computed from the input
outside the recorded ops (``.item()``, ``.numpy()``) -- is an error
rather than a graph that is silently right for the example input only.
"""
import numpy as np

from .. import _core
from .._tensor import Tensor
from ._dynamic import resolve
from ._lower import lower
from ._trace import Recorder, forward_code_map
from .errors import OnnxExporterError

MIN_OPSET, MAX_OPSET = 13, 21


def require_onnx():
    try:
        import onnx
    except ImportError:
        raise ImportError("fastnn.onnx needs the onnx package: pip install "
                          "\"fastnn[onnx]\" (or pip install onnx)") from None
    return onnx


def _as_inputs(args, kwargs):
    """The example arguments as (positional, keyword) with ndarrays wrapped."""
    if isinstance(args, (Tensor, np.ndarray)):
        args = (args,)
    elif not isinstance(args, (tuple, list)):
        raise TypeError(f"fastnn.onnx.export: args must be a Tensor or a tuple of them, got "
                        f"{type(args).__name__}")
    args = list(args)
    kw = dict(kwargs or {})
    if args and isinstance(args[-1], dict):
        kw.update(args.pop())
    conv = (lambda a: Tensor._wrap(a) if isinstance(a, np.ndarray) else a)
    return [conv(a) for a in args], {k: conv(v) for k, v in kw.items()}


def _names(given, n, base):
    given = list(given or [])
    if len(given) > n:
        raise ValueError(f"fastnn.onnx.export: {len(given)} {base} names given for {n} "
                         f"{base}s")
    default = [base] if n == 1 else [f"{base}_{i}" for i in range(n)]
    return given + default[len(given):]


def _dyn_axes(dynamic_axes, names):
    """{name: {axis: symbol}} from PyTorch's forms ({name: [axes]} too)."""
    out = {}
    for name, axes in (dynamic_axes or {}).items():
        if name not in names:
            raise ValueError(f"fastnn.onnx.export: dynamic_axes names {name!r}, which is "
                             f"neither an input nor an output name ({sorted(names)})")
        if isinstance(axes, dict):
            out[name] = {int(a): str(s) for a, s in axes.items()}
        else:
            out[name] = {int(a): f"{name}_dynamic_axes_{i + 1}" for i, a in enumerate(axes)}
    return out


class _Flat:
    """The tensor leaves of a nested (tuple / list / dict) structure."""

    @staticmethod
    def leaves(obj):
        """(None leaves, e.g. attention weights not asked for, are dropped,
        as PyTorch's exporter drops them.)"""
        if obj is None:
            return []
        if isinstance(obj, (tuple, list)):
            return [t for o in obj for t in _Flat.leaves(o)]
        if isinstance(obj, dict):
            return [t for k in obj for t in _Flat.leaves(obj[k])]
        return [obj]


def _second_inputs(tensors, in_names, dyn, rng):
    """The inputs of the second recording: each dynamic axis longer (by 1, 2,
    ... per distinct symbol), float values scaled by up to +-10%."""
    sizes, step = {}, {}
    out = []
    for name, t in zip(in_names, tensors):
        a = t._array
        for ax, sym in sorted(dyn.get(name, {}).items()):
            if ax >= a.ndim:
                raise ValueError(f"fastnn.onnx.export: dynamic axis {ax} of input {name!r} "
                                 f"of shape {tuple(a.shape)} does not exist")
            step.setdefault(sym, len(step) + 1)
            new = sizes.setdefault(sym, a.shape[ax] + step[sym])
            a = np.take(a, np.arange(new) % max(a.shape[ax], 1), axis=ax)
        if a.dtype.kind == "f":
            a = (a * (1 + 0.1 * rng.uniform(-1, 1, a.shape))).astype(a.dtype)
        else:
            a = a.copy()
        out.append(a)
    return out


def _record(model, arrays, kw_names):
    """One recorded forward on fresh Tensors holding copies of ``arrays``:
    float ones require grad (so every op on them is recorded, no no-graph
    fast path taken) and are not leaves (so the model may change them in
    place, as it may its inputs under PyTorch's exporter)."""
    from ..autograd import enable_grad
    ts = []
    with enable_grad():
        for a in arrays:
            t = Tensor._wrap(np.array(a, copy=True))
            if a.dtype.kind == "f":
                t = t.requires_grad_(True).clone()
            ts.append(t)
    n_pos = len(arrays) - len(kw_names)
    with enable_grad(), Recorder() as rec:
        out = model(*ts[:n_pos], **dict(zip(kw_names, ts[n_pos:])))
    return ts, out, rec.calls


def _lower_run(model, arrays, kw_names, in_names, out_given, opset, params, code_map):
    ts, out, calls = _record(model, arrays, kw_names)
    leaves = _Flat.leaves(out)
    low = lower(calls, opset, list(zip(in_names, ts)), params, code_map)
    outs = [low.output(t) for t in leaves]
    return low, outs, [t._array for t in ts], [np.asarray(t._array) for t in leaves]


def export(model, args, f=None, export_params=True, verbose=False, training=None,
           input_names=None, output_names=None, operator_export_type=None,
           opset_version=None, do_constant_folding=True, dynamic_axes=None,
           keep_initializers_as_inputs=None, custom_opsets=None,
           export_modules_as_functions=False, autograd_inlining=True, dynamo=False,
           kwargs=None, **unused):
    """Exports ``model`` to ONNX, as ``torch.onnx.export``.

    The model is recorded running once on ``args`` in evaluation mode (and
    a second time to find what the dynamic axes change, see the module
    notes); every fastnn layer and op with an ONNX equivalent exports.

    Parameters
    ----------
    model : fastnn.nn.Module (or a callable taking and returning Tensors)
    args : Tensor or tuple of Tensors
        Example inputs (a trailing dict: keyword inputs).
    f : str, os.PathLike, a binary file object, or None
        Where to write the model (a path is written atomically); None: the
        model is returned instead.
    input_names, output_names : list of str, optional
        Graph names of the inputs and outputs (default ``input``/``input_i``,
        ``output``/``output_i``).
    dynamic_axes : dict, optional
        ``{name: {axis: "symbol"}}`` or ``{name: [axis, ...]}``: axes whose
        size may change at run time (a batch axis, typically).
    opset_version : int, optional
        13 to 21 (default 17).
    export_params, verbose, training, operator_export_type,
    do_constant_folding, keep_initializers_as_inputs, custom_opsets,
    export_modules_as_functions, autograd_inlining, dynamo
        Accepted for compatibility with ``torch.onnx.export``: parameters are
        always exported as initializers, constants always folded, the model
        always evaluated in eval mode.

    Returns
    -------
    None, or the ``onnx.ModelProto`` when ``f`` is None.

    Examples
    --------
    >>> import fastnn, fastnn.nn as nn
    >>> model = nn.Sequential(nn.Linear(4, 3), nn.ReLU())
    >>> fastnn.onnx.export(model, fastnn.randn(2, 4), "mlp.onnx",
    ...                    dynamic_axes={"input": {0: "batch"}})  # doctest: +SKIP
    """
    onnx = require_onnx()
    opset = 17 if opset_version is None else int(opset_version)
    if not MIN_OPSET <= opset <= MAX_OPSET:
        raise ValueError(f"fastnn.onnx.export: opset_version {opset} is not supported "
                         f"(fastnn exports opsets {MIN_OPSET} to {MAX_OPSET})")
    pos, kw = _as_inputs(args, kwargs)
    tensors = pos + list(kw.values())
    for i, t in enumerate(tensors):
        if not isinstance(t, _core.TensorBase):
            raise TypeError(f"fastnn.onnx.export: input {i} is a {type(t).__name__}; the "
                            "example inputs must be Tensors or ndarrays")
    in_names = _names(input_names, len(tensors), "input")
    was = [(m, m.training) for m in model.modules()] if hasattr(model, "modules") else []
    if hasattr(model, "eval"):
        model.eval()
    try:
        proto = _build(model, tensors, list(kw), in_names, output_names, dynamic_axes,
                       opset, onnx)
    finally:
        for m, mode in was:
            object.__setattr__(m, "training", mode)
    onnx.checker.check_model(proto)
    if f is None:
        return proto
    _write(proto.SerializeToString(), f)
    return None


def _params(model):
    out = []
    if hasattr(model, "named_parameters"):
        out += list(model.named_parameters())
        out += [(n, b) for n, b in model.named_buffers() if b is not None]
    return out


def _build(model, tensors, kw_names, in_names, out_given, dynamic_axes, opset, onnx):
    from onnx import helper
    code_map = forward_code_map()
    params = _params(model)
    arrays1 = [t._array for t in tensors]
    low1, outs1, in1, res1 = _lower_run(model, arrays1, kw_names, in_names, out_given, opset,
                                        params, code_map)
    out_names = _names(out_given, len(outs1), "output")
    dyn = _dyn_axes(dynamic_axes, set(in_names) | set(out_names))
    arrays2 = _second_inputs(tensors, in_names, dyn, np.random.default_rng(0))
    try:
        low2, outs2, in2, res2 = _lower_run(model, arrays2, kw_names, in_names, out_given,
                                            opset, params, code_map)
    except Exception as e:
        raise OnnxExporterError(
            "fastnn.onnx.export: the model failed on inputs of shapes "
            f"{[tuple(a.shape) for a in arrays2]} (the example inputs with each dynamic axis "
            f"longer), so its graph cannot have these dynamic axes: {type(e).__name__}: {e}"
        ) from e
    graph = resolve(low1, low2, outs1, outs2, in_names, in1, in2, dyn, opset)
    nodes = graph.finish(out_names)
    inputs = [_value_info(helper, n, a1, a2, dyn.get(n, {}), graph.symbols)
              for n, a1, a2 in zip(in_names, in1, in2)]
    outputs = [_value_info(helper, n, a1, a2, dyn.get(n, {}), graph.symbols)
               for n, a1, a2 in zip(out_names, res1, res2)]
    inits = [_tensor(onnx, name, arr) for name, arr in graph.initializers.items()]
    g = helper.make_graph(nodes, "fastnn", inputs, outputs, inits)
    from .. import __version__
    return helper.make_model(g, producer_name="fastnn", producer_version=__version__,
                             opset_imports=[helper.make_opsetid("", opset)])


def _tensor(onnx, name, arr):
    from onnx import numpy_helper
    return numpy_helper.from_array(np.array(arr, order="C"), name)


def _value_info(helper, name, a1, a2, axes, symbols):
    """The declared type of an input or output: dims that differ between the
    two recordings are symbolic (named by dynamic_axes, else after the input
    axis they follow)."""
    from ._graph import onnx_dtype
    dims = []
    for i, (d1, d2) in enumerate(zip(a1.shape, a2.shape)):
        if i in axes:
            dims.append(axes[i])
        elif d1 != d2:
            dims.append(symbols.get((d1, d2), f"{name}_dim_{i}"))
        else:
            dims.append(int(d1))
    return helper.make_tensor_value_info(name, onnx_dtype(a1.dtype), dims)


def _write(data, f):
    """Writes the serialized model: to a file object, or atomically to a path
    (``fastnn.save``'s way: a temporary file in the same directory, flushed,
    then renamed)."""
    if hasattr(f, "write"):
        f.write(data)
        return
    from ..serialization import _atomic_write
    _atomic_write(f, lambda fh: fh.write(data))
