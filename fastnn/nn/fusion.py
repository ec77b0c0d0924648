"""The fusion pass that ``nn.Sequential`` applies.

Two pairs of layers that follow each other in a ``Sequential`` run as one
op, with the ReLU applied inside the first op's kernel while its output tile
is still in cache (one pass less over the activations, forward and
backward):

=================================  ===================================
pair                               fused op
=================================  ===================================
``nn.Conv2d`` then ``nn.ReLU``     ``fastnn.ops.conv.conv2d_relu``
``nn.BatchNorm1d/2d`` then ReLU    ``fastnn.ops.normalization.batch_norm_relu``
=================================  ===================================

The fused ops are bitwise the two modules run one after the other: the same
output, the same gradients (tests/nn/test_fusion.py).  A pair fuses only when
both modules are plain: the layer's class keeps the library's ``forward``
(a subclass overriding it is run as written), the ReLU is exactly
``nn.ReLU``, neither module has a forward/backward hook (PyTorch's hooks see
every call) or a ``forward``/``__call__`` replaced on the instance.  The pairs
are found once per arrangement of the Sequential (``plan``, cached by the
modules' identities); the plainness test (``fusable``) runs on every call, so
a hook registered later switches the fusion off at once.
"""
from .modules.activation import ReLU
from .modules.conv import Conv2d
from .modules.module import Module
from .modules.normalization import _BatchNorm

__all__ = ["plan", "fusable", "run"]

_BN, _CONV = 0, 1


def plan(modules):
    """A Sequential's modules as ``(module, next_relu, kind)`` triples:
    ``next_relu`` is the ``nn.ReLU`` directly after a batch norm (kind 0) or
    an ``nn.Conv2d`` (kind 1) that may fuse with it, else None (kind -1)."""
    out = []
    i, n = 0, len(modules)
    while i < n:
        m = modules[i]
        if i + 1 < n and type(modules[i + 1]) is ReLU:
            kind = _BN if isinstance(m, _BatchNorm) else _CONV if isinstance(m, Conv2d) else -1
            if kind >= 0:
                out.append((m, modules[i + 1], kind))
                i += 2
                continue
        out.append((m, None, -1))
        i += 1
    return tuple(out)


def _plain(m, d):
    """m (instance dict d) runs its class's forward through Module.__call__
    with no hooks."""
    return ("forward" not in d and "__call__" not in d and not m._call_hooks
            and type(m).__call__ is Module.__call__)


def fusable(a, b, kind):
    """Whether the pair ``plan`` found may run fused on this call."""
    ta = type(a)
    if kind == _BN:
        if ta.forward is not _BatchNorm.forward or ta._forward is not _BatchNorm._forward:
            return False
    elif ta.forward is not Conv2d.forward or ta._forward is not Conv2d._forward:
        return False
    return type(b) is ReLU and _plain(a, a.__dict__) and _plain(b, b.__dict__)


def run(steps, x):
    """Runs a plan on x: fused pairs as one op, everything else as called."""
    for m, relu, kind in steps:
        if relu is None:
            x = m(x)
        elif fusable(m, relu, kind):
            x = m._forward(x, True)
        else:
            x = relu(m(x))
    return x


# ------------------------------------------------------------ inference
# Under no_grad an nn.Sequential whose layers are the plain library ones
# runs as one inference program (fastnn._core.InferProgram, csrc/infer.h):
# the layers back to back in C over cache-sized chunks of the batch, ReLUs
# fused, each layer the kernel its module runs (and, when switched on, a
# batch norm after a convolution folded into its weights).  The output is
# bitwise the layer-by-layer forward's (chunks of at least 4 images get the
# convolution methods the whole batch gets, linear layers run over the
# whole batch; folding changes the rounding; tests/nn/test_infer_program.py).  The plan is rebuilt whenever a
# module's attributes change (each call compares every module's attribute
# values, by identity, against the plan's snapshot: a changed stride,
# eps, training flag, hook or replaced forward all show), and it reads the
# parameters and buffers afresh on every call.  A layer it does not know (or
# one in training mode, a pooling that returns indices, a padding mode other
# than zeros, ...) runs as called, between two programs.
from .modules.dropout import _DropoutNd  # noqa: E402
from .modules.container import Identity  # noqa: E402
from .modules.flatten import Flatten  # noqa: E402
from .modules.linear import Linear  # noqa: E402
from .modules.normalization import BatchNorm1d, BatchNorm2d  # noqa: E402
from .modules.pooling import AvgPool2d, MaxPool2d  # noqa: E402
from .. import _core  # noqa: E402
from .._config import state as _state  # noqa: E402

_INFER = {"enabled": True, "fold": False}


def set_inference_program(enabled=None, fold_batchnorm=None):
    """Settings of the inference program of ``nn.Sequential`` under no_grad:
    ``enabled`` (default True) runs it at all; ``fold_batchnorm`` (default
    False) folds a batch norm that follows a convolution into the
    convolution's weights and bias (one op less; the output then differs
    from the layer-by-layer forward by rounding, where unfolded it is the
    same kernels on the same data).  None leaves a setting as it is.
    Returns the previous settings as a dict."""
    prev = {"enabled": _INFER["enabled"], "fold_batchnorm": _INFER["fold"]}
    if enabled is not None:
        _INFER["enabled"] = bool(enabled)
    if fold_batchnorm is not None:
        _INFER["fold"] = bool(fold_batchnorm)
    return prev


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v) if isinstance(v, (tuple, list)) else None


def _ints(*vs):
    return all(p is not None and len(p) == 2 and all(type(i) is int for i in p) for p in vs)


def _plain_mod(m):
    d = m.__dict__
    # (m._call_hooks: the instance's flag, or the class's while a global hook is set)
    return "forward" not in d and "__call__" not in d and not m._call_hooks


def _bn_ok(m, cls):
    return (type(m) is cls and _plain_mod(m) and not m.training and m.track_running_stats
            and m._buffers.get("running_mean") is not None
            and m._buffers.get("running_var") is not None)


def _units(mods):
    """The Sequential's modules as program units ``(kind, modules)``, or
    ``(None, (m,))`` for a module run as called."""
    out, i, n = [], 0, len(mods)
    while i < n:
        m, t = mods[i], type(mods[i])
        nxt = mods[i + 1] if i + 1 < n else None
        if not _plain_mod(m):
            out.append((None, (m,)))
        elif t is Conv2d and m.padding_mode == "zeros" and _ints(
                _pair(m.stride), _pair(m.padding), _pair(m.dilation)):
            group = [m]
            if _INFER["fold"] and nxt is not None and _bn_ok(nxt, BatchNorm2d):
                group.append(nxt)
            j = i + len(group)
            if j < n and type(mods[j]) is ReLU and _plain_mod(mods[j]):
                group.append(mods[j])
            out.append(("conv", tuple(group)))
            i += len(group)
            continue
        elif t in (BatchNorm1d, BatchNorm2d) and _bn_ok(m, t):
            if nxt is not None and type(nxt) is ReLU and _plain_mod(nxt):
                out.append(("bnorm", (m, nxt)))
                i += 2
                continue
            out.append(("bnorm", (m,)))
        elif t is ReLU:
            out.append(("relu", (m,)))
        elif t is MaxPool2d and not m.return_indices:
            out.append(("maxpool", (m,)))
        elif t is AvgPool2d:
            out.append(("avgpool", (m,)))
        elif t is Flatten and m.start_dim == 1 and m.end_dim == -1:
            out.append(("flatten", (m,)))
        elif t is Linear:
            if nxt is not None and type(nxt) is ReLU and _plain_mod(nxt):
                out.append(("linear", (m, nxt)))
                i += 2
                continue
            out.append(("linear", (m,)))
        elif t is Identity or (isinstance(m, _DropoutNd) and not m.training):
            out.append(("skip", (m,)))
        else:
            out.append((None, (m,)))
        i += 1
    return out


def _spec(kind, ms, shape):
    """(spec for InferProgram.append, the op's array sources, per-image
    shape after) of a unit on per-image ``shape`` (a tuple, the logical
    one: (F,) when flat), or None when the unit does not apply (it then
    runs as called).  A source is (registry dict, name): the program reads
    the Tensor there on every call (``InferProgram.run_sources``)."""
    m = ms[0]
    relu = len(ms) > 1 and type(ms[-1]) is ReLU
    if kind == "conv":
        if len(shape) != 3:
            return None
        cp = m._parameters
        w = cp.get("weight")
        if w is None:
            return None
        K, Cg, R, S = w._array.shape
        (sh, sw), (ph, pw), (dh, dw) = _pair(m.stride), _pair(m.padding), _pair(m.dilation)
        bn = ms[1] if len(ms) > 1 and type(ms[1]) is BatchNorm2d else None
        has_b = cp.get("bias") is not None
        if bn is None:
            spec = ("conv", K, Cg, R, S, sh, sw, ph, pw, dh, dw, m.groups, has_b, None, relu)
            return spec, ((cp, "weight"), (cp, "bias"), None, None, None, None), None
        bp, bb = bn._parameters, bn._buffers
        affine = bp.get("weight") is not None
        if affine != (bp.get("bias") is not None):
            return None
        spec = ("conv", K, Cg, R, S, sh, sw, ph, pw, dh, dw, m.groups, has_b,
                (bn.eps, affine), relu)
        return spec, ((cp, "weight"), (cp, "bias"), (bb, "running_mean"),
                      (bb, "running_var"), (bp, "weight"), (bp, "bias")), None
    if kind == "bnorm":
        if (type(m) is BatchNorm2d) != (len(shape) == 3):
            return None
        bp, bb = m._parameters, m._buffers
        affine = bp.get("weight") is not None
        if affine != (bp.get("bias") is not None):
            return None
        return (("bnorm", m.eps, affine, relu),
                (None, None, (bb, "running_mean"), (bb, "running_var"), (bp, "weight"),
                 (bp, "bias")), shape)
    if kind == "relu":
        return ("relu",), None, shape
    if kind in ("maxpool", "avgpool"):
        if len(shape) != 3:
            return None
        k, s, p = _pair(m.kernel_size), _pair(m.stride), _pair(m.padding)
        if kind == "maxpool":
            d = _pair(m.dilation)
            if not _ints(k, s, p, d) or type(m.ceil_mode) is not bool:
                return None
            return ("maxpool", *k, *s, *p, *d, m.ceil_mode), None, None
        div = m.divisor_override
        if not _ints(k, s, p) or not (div is None or (type(div) is int and div > 0)):
            return None
        return ("avgpool", *k, *s, *p, bool(m.ceil_mode), bool(m.count_include_pad),
                div or 0), None, None
    if kind == "flatten":
        n = 1
        for v in shape:
            n *= v
        return "flatten", None, (n,)
    if kind == "linear":
        if len(shape) != 1:
            return None
        lp = m._parameters
        w = lp.get("weight")
        if w is None or w._array.ndim != 2:
            return None
        O, F = w._array.shape

        return (("linear", F, O, lp.get("bias") is not None, relu),
                ((lp, "weight"), (lp, "bias"), None, None, None, None), (O,))
    if kind == "skip":
        return "skip", None, shape
    return None


def _compile(units, shape, dtype):
    """Steps for per-image ``shape``: ``(program, array sources, shape after,
    modules)`` for a run of units the program takes (modules: all of them,
    to run as called should the program refuse its arrays), ``(None,
    module, None, None)`` for a module run as called.  The shape after a
    module run as called is unknown: the units after it compile when they
    run (a step ``("later", units, None, None)``)."""
    steps = []
    prog, srcs, cur, covered = None, [], shape, []
    for i, (kind, ms) in enumerate(units):
        sp = _spec(kind, ms, cur) if kind is not None else None
        if sp is not None and kind == "relu" and ms[0].inplace and prog is None:
            sp = None   # an in-place ReLU first would change the caller's tensor
        if sp is not None and (len(cur) not in (1, 3) or 0 in cur):
            sp = None   # a program takes images (C, H, W) and vectors (F,)
        if sp is not None and sp[0] not in ("flatten", "skip"):
            if prog is None:
                prog = _core.InferProgram(cur, dtype)
                srcs, covered = [], []
            try:
                out = prog.append(sp[0])
            except ValueError:
                sp = None
            else:
                srcs.append(sp[1])
                covered.extend(ms)
                cur = sp[2] if sp[2] is not None else tuple(out)
                continue
        elif sp is not None:
            covered.extend(ms)
            cur = sp[2]
            continue
        # a unit run as called: close the program, then the rest later
        if prog is not None and len(prog):
            steps.append((prog, list(srcs), cur, tuple(covered)))
        elif covered:   # only flatten / skip units so far: run them as called
            steps.extend((None, m, None, None) for m in covered)
        steps.extend((None, m, None, None) for m in ms)
        if i + 1 < len(units):
            steps.append(("later", tuple(units[i + 1:]), None, None))
        return steps
    if prog is not None and len(prog):
        steps.append((prog, list(srcs), cur, tuple(covered)))
    else:
        steps.extend((None, m, None, None) for m in covered)
    return steps


def _snapshot(mods):
    return tuple(tuple(m.__dict__.values()) for m in mods)


def _none():
    return None


class _Plan:
    """A Sequential's inference plan (kept in its ``_infer_plan``).  A copy
    of the Sequential (``copy.deepcopy``, pickling) gets none: it builds its
    own (the compiled programs are not copyable)."""
    __slots__ = ("mods", "snap", "units", "cache", "fold", "last")

    def __init__(self, mods):
        self.mods, self.snap = mods, _snapshot(mods)
        self.units, self.cache, self.fold = tuple(_units(mods)), {}, _INFER["fold"]
        # (per-image shape, dtype number, the step) when the last call ran
        # one program over every layer: _core.infer_fast's case
        self.last = None

    def __reduce__(self):
        return (_none, ())

    def __copy__(self):
        return None

    def __deepcopy__(self, memo):
        return None


def infer(seq, x):
    """``seq(x)`` (an nn.Sequential) through inference programs, or None
    when x is not a float Tensor the programs take (the caller runs the
    usual path)."""
    if Module._call_hooks:   # a global module hook: every layer runs through __call__
        return None
    plan = seq.__dict__.get("_infer_plan")
    fold = _INFER["fold"]
    if plan is not None:   # the plan's last case again: one call into C
        y = _core.infer_fast(plan, seq._modules, x, fold, _state.threads)
        if y is not None:
            return y
    a = x._array
    if a.ndim < 2 or a.dtype.kind != "f" or a.dtype.itemsize not in (4, 8):
        return None
    mods = tuple(seq._modules.values())
    if (plan is None or plan.mods != mods or plan.fold != fold
            or not _core.same_attrs(mods, plan.snap)):
        plan = _Plan(mods)
        object.__setattr__(seq, "_infer_plan", plan)
    y = _run_units(plan.units, plan.cache, x)
    steps = plan.cache.get((a.shape[1:], a.dtype))
    plan.last = None
    if steps is not None and len(steps) == 1 and isinstance(steps[0][0], _core.InferProgram):
        plan.last = (a.shape[1:], a.dtype.num, steps[0])
    return y


def _run_units(units, cache, x):
    a = x._array
    key = (a.shape[1:], a.dtype)
    steps = cache.get(key)
    if steps is None:
        steps = cache[key] = _compile(units, a.shape[1:], a.dtype)
    for prog, item, after, covered in steps:
        if prog is None:
            x = item(x)
        elif prog == "later":
            sub = cache.setdefault(("later", item), {})
            return _run_units(item, sub, x)
        else:
            try:
                x = prog.run_sources(x, item, _state.threads, after)
            except _core.InferMismatch:
                # a parameter changed shape, dtype or presence: these layers
                # as called this time, the plan rebuilt on the next call
                cache.clear()
                x = run(plan(covered), x)
    return x
