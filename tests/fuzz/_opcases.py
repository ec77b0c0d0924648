"""Hypothesis strategies for the op fuzzer: one builder per public op.

Each builder takes Hypothesis' ``data`` object and returns a
``_harness.Case``.  Shapes include zero-size and size-1 dims, inputs arrive
contiguous, transposed or strided (``Arg.view``), dtypes are float32 and
float64, and the hyper-parameters range a little past their valid values
so the error paths are exercised too (PyTorch decides what is valid).
Values come from a NumPy generator seeded by a drawn integer, so a failing
example is reproduced from its printed description and seed.
"""
import os

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

from _harness import Arg, Case

DTYPES = st.sampled_from([np.float32, np.float64])
CASES = {}


def case(name):
    def deco(fn):
        CASES[name] = fn
        return fn
    return deco


class Gen:
    """Draw helpers bound to one example."""

    def __init__(self, d):
        self.d = d
        self.seed = d.draw(st.integers(0, 2**31 - 1), label="seed")
        self.rng = np.random.default_rng(self.seed)
        self.dtype = d.draw(DTYPES, label="dtype")

    def int(self, lo, hi, label=None):
        return self.d.draw(st.integers(lo, hi), label=label)

    def pick(self, seq, label=None):
        return self.d.draw(st.sampled_from(list(seq)), label=label)

    def bool(self, label=None):
        return self.d.draw(st.booleans(), label=label)

    def float(self, lo, hi, label=None):
        return self.d.draw(st.floats(lo, hi, allow_nan=False, allow_infinity=False), label=label)

    def shape(self, min_dims=1, max_dims=4, min_side=0, max_side=4, label="shape"):
        n = self.int(min_dims, max_dims)
        return tuple(self.int(min_side, max_side) for _ in range(n))

    def values(self, shape, lo=None, hi=None, dtype=None):
        dtype = dtype or self.dtype
        if lo is None:
            a = self.rng.standard_normal(shape)
        else:
            a = self.rng.uniform(lo, hi, size=shape)
        return np.asarray(a, dtype=dtype)

    def x(self, shape, grad=True, lo=None, hi=None, views=True, dtype=None):
        """A float input of logical ``shape``, maybe a transposed or strided view."""
        shape = tuple(shape)
        view = None
        if views:
            opts = [None, None]
            if len(shape) >= 2:
                opts.append("T")
            if len(shape) >= 1:
                opts.append(("step", self.int(0, len(shape) - 1)))
            view = self.pick(opts, label="view")
        base_shape = list(shape)
        if view == "T":
            base_shape[-1], base_shape[-2] = base_shape[-2], base_shape[-1]
        elif isinstance(view, tuple):
            base_shape[view[1]] = 2 * base_shape[view[1]]
        return Arg(self.values(tuple(base_shape), lo, hi, dtype), grad=grad, view=view)

    def ints(self, shape, lo, hi):
        return Arg(self.rng.integers(lo, hi + 1, size=shape).astype(np.int64))

    def reduction(self):
        return self.pick(["mean", "sum", "none"], label="reduction")


# ---------------------------------------------------------------- activations
_ELEMENTWISE = {
    "relu": {}, "relu6": {}, "sigmoid": {}, "tanh": {}, "silu": {}, "mish": {},
    "selu": {}, "softsign": {}, "hardsigmoid": {}, "hardswish": {}, "logsigmoid": {},
}


def _unary(name):
    @case(name)
    def build(d):
        g = Gen(d)
        # PyTorch's float64 hardsigmoid backward multiplies by a float32 1/6
        return Case(lambda L, x: getattr(L.F, name)(x), [g.x(g.shape(0, 4))],
                    grad_tol=100 if name == "hardsigmoid" else None)


for _n in _ELEMENTWISE:
    _unary(_n)


@case("leaky_relu")
def _(d):
    g = Gen(d)
    return Case(lambda L, x, **k: L.F.leaky_relu(x, **k), [g.x(g.shape(0, 4))],
                dict(negative_slope=g.pick([0.01, 0.2, -0.5, 0.0, 3.0])))


@case("elu/celu")
def _(d):
    g = Gen(d)
    name = g.pick(["elu", "celu"])
    alpha = g.pick([1.0, 0.5, 2.0, 0.0, -1.0])
    return Case(lambda L, x, **k: getattr(L.F, name)(x, **k), [g.x(g.shape(0, 4))],
                dict(alpha=alpha), note=name)


@case("gelu")
def _(d):
    g = Gen(d)
    return Case(lambda L, x, **k: L.F.gelu(x, **k), [g.x(g.shape(0, 4))],
                dict(approximate=g.pick(["none", "tanh", "bogus"])))


@case("softplus")
def _(d):
    g = Gen(d)
    return Case(lambda L, x, **k: L.F.softplus(x, **k), [g.x(g.shape(0, 4), lo=-30, hi=30)],
                dict(beta=g.pick([1.0, 0.5, 2.0]), threshold=g.pick([20.0, 1.0, 5.0])))


@case("hardtanh")
def _(d):
    g = Gen(d)
    lo = g.pick([-1.0, -0.5, 0.5, -2.0])
    hi = g.pick([1.0, 0.25, 2.0, -1.5])
    return Case(lambda L, x, **k: L.F.hardtanh(x, **k), [g.x(g.shape(0, 4))],
                dict(min_val=lo, max_val=hi))


@case("threshold")
def _(d):
    g = Gen(d)
    return Case(lambda L, x, t, v: L.F.threshold(x, t, v), [g.x(g.shape(0, 4)),
                g.pick([0.0, 0.5, -1.0]), g.pick([0.0, -3.0, 2.0])])


@case("prelu")
def _(d):
    g = Gen(d)
    shape = g.shape(1, 4)
    c = shape[1] if len(shape) > 1 else 1
    nw = g.pick([1, c, c + 1])
    return Case(lambda L, x, w: L.F.prelu(x, w), [g.x(shape), g.x((nw,), views=False)])


@case("softmax/log_softmax/softmin")
def _(d):
    g = Gen(d)
    name = g.pick(["softmax", "log_softmax", "softmin"])
    shape = g.shape(0, 4)
    dim = g.int(-len(shape) - 1, len(shape))
    scale = g.pick([1.0, 30.0])
    x = g.x(shape)
    x.base = np.asarray(x.base * np.asarray(scale, x.base.dtype))
    return Case(lambda L, x, **k: getattr(L.F, name)(x, **k), [x], dict(dim=dim), note=name)


# ---------------------------------------------------------------- linear / conv
@case("linear")
def _(d):
    g = Gen(d)
    lead = g.shape(0, 3, max_side=3)
    fin, fout = g.int(0, 5), g.int(0, 5)
    fin_w = g.pick([fin, fin, fin + 1])
    args = [g.x(lead + (fin,)), g.x((fout, fin_w))]
    nb = fout
    if g.bool():
        nb = g.pick([fout, fout, fout + 1])
        args.append(g.x((nb,), views=False))
    # PyTorch broadcasts a bias of shape (1,); fastnn asks for (out_features,)
    return Case(lambda L, *a: L.F.linear(*a), args, refuse_ok=nb != fout)


def _conv_geometry(g, nd):
    groups = g.pick([1, 1, 2, 3])
    cin, cout = groups * g.int(1, 2), groups * g.int(1, 2)
    k = tuple(g.int(1, 3) for _ in range(nd))
    spatial = tuple(g.int(0, 6) for _ in range(nd))
    n = g.int(0, 2)
    return groups, cin, cout, k, spatial, n


def _ntuple_or_int(g, vals, nd):
    return vals[0] if g.bool() or nd == 1 else tuple(vals)


@case("conv1d/conv2d")
def _(d):
    g = Gen(d)
    nd = g.pick([1, 2])
    groups, cin, cout, k, spatial, n = _conv_geometry(g, nd)
    stride = _ntuple_or_int(g, [g.int(1, 3) for _ in range(nd)], nd)
    dilation = _ntuple_or_int(g, [g.int(1, 2) for _ in range(nd)], nd)
    padding = g.pick([0, 1, 2, "same", "valid", -1, (1,) * nd])
    if padding == (1,) * nd and nd == 1:
        padding = 1
    cin_w = cin // groups if g.int(0, 9) else cin // groups + 1
    args = [g.x((n, cin) + spatial), g.x((cout, cin_w) + k)]
    if g.bool():
        args.append(g.x((cout,), views=False))
    name = f"conv{nd}d"
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    return Case(lambda L, *a, **kw: getattr(L.F, name)(*a, **kw), args, kw, note=name)


@case("conv_transpose1d/2d")
def _(d):
    g = Gen(d)
    nd = g.pick([1, 2])
    groups, cin, cout, k, spatial, n = _conv_geometry(g, nd)
    s = [g.int(1, 3) for _ in range(nd)]
    dl = [g.int(1, 2) for _ in range(nd)]
    op = [g.int(0, 2) for _ in range(nd)]
    pad = [g.int(0, 2) for _ in range(nd)]
    args = [g.x((n, cin) + spatial), g.x((cin, cout // groups) + k)]
    if g.bool():
        args.append(g.x((cout,), views=False))
    name = f"conv_transpose{nd}d"
    kw = dict(stride=_ntuple_or_int(g, s, nd), padding=_ntuple_or_int(g, pad, nd),
              output_padding=_ntuple_or_int(g, op, nd), groups=groups,
              dilation=_ntuple_or_int(g, dl, nd))

    # PyTorch skips its output_padding check for an empty batch, and gives an
    # empty output (whose backward it cannot run) where the size formula is 0
    def per_dim(v):   # (an int argument applies to every dim)
        return v if isinstance(v, tuple) else (v,) * nd
    outs = [(i - 1) * s_ - 2 * p + d_ * (k_ - 1) + o + 1
            for i, s_, p, d_, k_, o in zip(spatial, per_dim(kw["stride"]), per_dim(kw["padding"]),
                                           per_dim(kw["dilation"]), k,
                                           per_dim(kw["output_padding"]))]
    return Case(lambda L, *a, **kw: getattr(L.F, name)(*a, **kw), args, kw, note=name,
                refuse_ok=n == 0 or min(outs) <= 0)


def _window_misses(size, k, s, p, d, ceil):
    """True when some pooling window holds no input element (PyTorch then
    gives -inf; fastnn refuses the geometry)."""
    num = size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil else 0)
    out = num // s + 1
    if ceil and (out - 1) * s >= size + p:
        out -= 1
    return any(not any(0 <= o * s - p + j * d < size for j in range(k)) for o in range(out))


# ---------------------------------------------------------------- pooling
@case("max_pool1d/2d")
def _(d):
    g = Gen(d)
    nd = g.pick([1, 2])
    shape = (g.int(0, 2), g.int(0, 3)) + tuple(g.int(0, 7) for _ in range(nd))
    if g.int(0, 4) == 0:
        shape = shape[1:]  # unbatched
    k = g.int(1, 4)
    kw = dict(kernel_size=k, stride=g.pick([None, 1, 2, 3]), padding=g.int(0, 3),
              dilation=g.int(1, 2), ceil_mode=g.bool(), return_indices=g.bool())
    if kw["stride"] is None:
        del kw["stride"]
    name = f"max_pool{nd}d"
    miss = any(_window_misses(sz, k, kw.get("stride", k), kw["padding"], kw["dilation"],
                              kw["ceil_mode"]) for sz in shape[-nd:])
    return Case(lambda L, x, **kw: getattr(L.F, name)(x, **kw), [g.x(shape)], kw, note=name,
                refuse_ok=miss)


@case("avg_pool1d/2d")
def _(d):
    g = Gen(d)
    nd = g.pick([1, 2])
    shape = (g.int(0, 2), g.int(0, 3)) + tuple(g.int(0, 7) for _ in range(nd))
    if g.int(0, 4) == 0:
        shape = shape[1:]
    kw = dict(kernel_size=g.int(1, 4), stride=g.pick([None, 1, 2, 3]), padding=g.int(0, 3),
              ceil_mode=g.bool(), count_include_pad=g.bool())
    if nd == 2 and g.bool():
        kw["divisor_override"] = g.pick([1, 3, 0])
    name = f"avg_pool{nd}d"
    return Case(lambda L, x, **kw: getattr(L.F, name)(x, **kw), [g.x(shape)], kw, note=name)


@case("adaptive_pools")
def _(d):
    g = Gen(d)
    nd = g.pick([1, 2])
    kind = g.pick(["avg", "max"])
    shape = (g.int(0, 2), g.int(0, 3)) + tuple(g.int(0, 7) for _ in range(nd))
    if g.int(0, 4) == 0:
        shape = shape[1:]
    out = [g.pick([1, 2, 3, 5, 8, 0]) for _ in range(nd)]
    if nd == 2 and g.int(0, 3) == 0:
        out[1] = None
    output_size = out[0] if nd == 1 else tuple(out)
    kw = {}
    if kind == "max":
        kw["return_indices"] = g.bool()
    name = f"adaptive_{kind}_pool{nd}d"
    return Case(lambda L, x, o, **kw: getattr(L.F, name)(x, o, **kw), [g.x(shape), output_size],
                kw, note=name, refuse_ok=0 in shape[-nd - 1:] or 0 in out)


# ---------------------------------------------------------------- normalisation
@case("batch_norm")
def _(d):
    g = Gen(d)
    shape = g.pick([(g.int(0, 4), g.int(1, 3)),
                    (g.int(0, 3), g.int(1, 3), g.int(0, 3)),
                    (g.int(0, 3), g.int(1, 3), g.int(0, 3), g.int(0, 3))])
    c = shape[1]
    training = g.bool()
    rm = Arg(g.values((c,)))
    rv = Arg(g.values((c,), 0.5, 2.0))
    args = [g.x(shape), rm if g.int(0, 4) else None, rv if g.int(0, 4) else None]
    if args[1] is None or args[2] is None:
        training = True
    args += [g.x((c,), views=False) if g.bool() else None,
             g.x((c,), views=False) if g.bool() else None]
    kw = dict(training=training, momentum=g.pick([0.1, 0.5, 1.0]), eps=g.pick([1e-5, 1e-2]))
    per_channel = int(np.prod(shape)) // c
    # the running statistics (updated in place in training) are outputs too
    return Case(lambda L, x, rm, rv, *a, **kw: (L.F.batch_norm(x, rm, rv, *a, **kw), rm, rv),
                args, kw, tol=10,
                refuse_ok=training and per_channel == 0)


@case("layer_norm")
def _(d):
    g = Gen(d)
    shape = g.shape(1, 4)
    k = g.int(1, len(shape))
    ns = list(shape[len(shape) - k:])
    if g.int(0, 6) == 0:
        ns[0] += 1
    args = [g.x(shape), tuple(ns)]
    if g.bool():
        args += [g.x(tuple(ns), views=False), g.x(tuple(ns), views=False) if g.bool() else None]
    return Case(lambda L, *a, **kw: L.F.layer_norm(*a, **kw), args,
                dict(eps=g.pick([1e-5, 1e-3])), tol=10)


@case("group_norm")
def _(d):
    g = Gen(d)
    groups = g.int(1, 3)
    c = groups * g.int(1, 2) if g.int(0, 6) else groups + 1
    shape = (g.int(0, 3), c) + g.shape(0, 2, max_side=3)
    args = [g.x(shape), groups]
    if g.bool():
        args += [g.x((c,), views=False), g.x((c,), views=False)]
    return Case(lambda L, *a, **kw: L.F.group_norm(*a, **kw), args, dict(eps=1e-5), tol=10)


@case("instance_norm")
def _(d):
    g = Gen(d)
    c = g.int(1, 3)
    shape = (g.int(1, 3), c) + g.shape(1, 2, max_side=4)
    args = [g.x(shape)]
    if g.bool():
        args += [None, None, g.x((c,), views=False), g.x((c,), views=False)]
    return Case(lambda L, *a: L.F.instance_norm(*a), args, tol=10)


@case("local_response_norm")
def _(d):
    g = Gen(d)
    shape = (g.int(0, 2), g.int(1, 5)) + g.shape(0, 2, max_side=3)
    kw = dict(size=g.int(1, 4), alpha=g.pick([1e-4, 0.5]), beta=g.pick([0.75, 1.0]),
              k=g.pick([1.0, 2.0]))
    return Case(lambda L, x, **kw: L.F.local_response_norm(x, **kw), [g.x(shape)], kw, tol=10)


@case("normalize")
def _(d):
    g = Gen(d)
    shape = g.shape(1, 3)
    kw = dict(p=g.pick([2.0, 1.0, 3.0]), dim=g.int(-len(shape), len(shape) - 1))
    # (float32 gradients cancel: |x|^(p-1) terms of both signs)
    return Case(lambda L, x, **kw: L.F.normalize(x, **kw), [g.x(shape)], kw, tol=30)


# ---------------------------------------------------------------- losses
@case("pointwise_losses")
def _(d):
    g = Gen(d)
    name = g.pick(["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "soft_margin_loss"])
    shape = g.shape(0, 3)
    tshape = shape if g.int(0, 5) else g.shape(0, 3)
    kw = dict(reduction=g.pick(["mean", "sum", "none", "bogus"]))
    if name == "smooth_l1_loss":
        kw["beta"] = g.pick([1.0, 0.5, 0.0, -1.0])
    if name == "huber_loss":
        kw["delta"] = g.pick([1.0, 0.5, 2.0, 0.0])
    args = [g.x(shape), g.x(tshape, grad=g.bool())]
    return Case(lambda L, a, b, **kw: getattr(L.F, name)(a, b, **kw), args, kw, note=name)


@case("cross_entropy")
def _(d):
    g = Gen(d)
    n, c = g.int(0, 4), g.int(1, 4)
    extra = g.shape(0, 2, max_side=3)
    unbatched = g.int(0, 5) == 0 and not extra
    ishape = (c,) if unbatched else (n, c) + extra
    probs = g.bool()
    kw = dict(reduction=g.reduction(), label_smoothing=g.pick([0.0, 0.0, 0.1, 0.5, 1.0, -0.1]))
    if probs:
        tshape = ishape
        t = g.x(tshape, grad=False, lo=0.0, hi=1.0, views=False)
    else:
        tshape = () if unbatched else (n,) + extra
        ii = g.pick([-100, 0, 1, -1])
        kw["ignore_index"] = ii
        lo = -1 if ii == -1 else 0
        t = g.ints(tshape, lo, c - 1 if g.int(0, 8) else c)
        if ii == -100 and t.base.size and g.bool():
            t.base.flat[0] = -100
    w = Arg(g.values((c,), 0.1, 2.0)) if g.bool() else None
    return Case(lambda L, x, t, w, **kw: L.F.cross_entropy(x, t, weight=w, **kw),
                [g.x(ishape), t, w], kw, tol=10, refuse_ok=kw["label_smoothing"] < 0)


@case("nll_loss")
def _(d):
    g = Gen(d)
    n, c = g.int(0, 4), g.int(1, 4)
    extra = g.shape(0, 2, max_side=3)
    ii = g.pick([-100, 0, 2])
    t = g.ints((n,) + extra, 0, c - 1 if g.int(0, 8) else c)
    kw = dict(reduction=g.reduction(), ignore_index=ii)
    args = [g.x((n, c) + extra), t]
    if g.bool():
        args.append(Arg(g.values((c,), 0.1, 2.0)))
    return Case(lambda L, x, t, w=None, **kw: L.F.nll_loss(x, t, w, **kw), args, kw, tol=10)


@case("binary_cross_entropy")
def _(d):
    g = Gen(d)
    shape = g.shape(0, 3)
    args = [g.x(shape, lo=0.02, hi=0.98), g.x(shape, grad=g.bool(), lo=0.0, hi=1.0)]
    if g.bool():
        args.append(g.x(g.pick([shape, shape[-1:]]), grad=False, lo=0.1, hi=2.0))
    return Case(lambda L, x, t, w=None, **kw: L.F.binary_cross_entropy(x, t, w, **kw), args,
                dict(reduction=g.reduction()), tol=10)


@case("binary_cross_entropy_with_logits")
def _(d):
    g = Gen(d)
    shape = g.shape(0, 3)
    args = [g.x(shape, lo=-6, hi=6), g.x(shape, grad=g.bool(), lo=0.0, hi=1.0)]
    kw = dict(reduction=g.reduction())
    w = g.x(g.pick([shape, shape[-1:]]), grad=False, lo=0.1, hi=2.0) if g.bool() else None
    pw = g.x(shape[-1:], grad=False, lo=0.1, hi=3.0) if g.bool() and shape else None
    return Case(lambda L, x, t, w, pw, **kw: L.F.binary_cross_entropy_with_logits(
        x, t, weight=w, pos_weight=pw, **kw), args + [w, pw], kw, tol=10)


@case("kl_div")
def _(d):
    g = Gen(d)
    shape = g.shape(0, 3)
    log_target = g.bool()
    t = g.x(shape, grad=g.bool(), lo=-3.0 if log_target else 0.0, hi=0.0 if log_target else 1.0)
    kw = dict(reduction=g.pick(["mean", "sum", "none", "batchmean"]), log_target=log_target)
    return Case(lambda L, x, t, **kw: L.F.kl_div(x, t, **kw), [g.x(shape, lo=-3, hi=0), t],
                kw, tol=10)


@case("other_losses")
def _(d):
    g = Gen(d)
    name = g.pick(["poisson_nll_loss", "gaussian_nll_loss", "margin_ranking_loss",
                   "hinge_embedding_loss", "multilabel_soft_margin_loss", "cosine_embedding_loss",
                   "multi_margin_loss", "triplet_margin_loss"])
    n, c = g.int(0, 4), g.int(1, 4)
    red = g.reduction()
    if name == "poisson_nll_loss":
        li = g.bool()
        args = [g.x((n, c), lo=-1 if li else 0.1, hi=2), g.x((n, c), grad=False, lo=0, hi=3)]
        kw = dict(log_input=li, full=g.bool(), reduction=red)
    elif name == "gaussian_nll_loss":
        args = [g.x((n, c)), g.x((n, c), grad=g.bool()),
                g.x(g.pick([(n, c), (n, 1), (n,)]), lo=0.1, hi=2)]
        kw = dict(full=g.bool(), reduction=red)
    elif name == "margin_ranking_loss":
        args = [g.x((n,)), g.x((n,)), Arg(np.sign(g.values((n,)) + 0.1).astype(g.dtype))]
        kw = dict(margin=g.pick([0.0, 0.5]), reduction=red)
    elif name == "hinge_embedding_loss":
        args = [g.x((n, c)), Arg(np.where(g.values((n, c)) > 0, 1.0, -1.0).astype(g.dtype))]
        kw = dict(margin=g.pick([1.0, 0.3]), reduction=red)
    elif name == "multilabel_soft_margin_loss":
        args = [g.x((n, c)), Arg((g.values((n, c)) > 0).astype(g.dtype))]
        kw = dict(reduction=red)
    elif name == "cosine_embedding_loss":
        args = [g.x((n, c)), g.x((n, c)), Arg(np.where(g.values((n,)) > 0, 1, -1).astype(np.int64))]
        kw = dict(margin=g.pick([0.0, 0.4]), reduction=red)
    elif name == "multi_margin_loss":
        args = [g.x((n, c)), g.ints((n,), 0, c - 1)]
        kw = dict(p=g.pick([1, 2]), margin=g.pick([1.0, 0.5]), reduction=red)
    else:
        args = [g.x((n, c)), g.x((n, c)), g.x((n, c))]
        kw = dict(margin=g.pick([1.0, 0.2]), p=g.pick([2.0, 1.0]), swap=g.bool(), reduction=red)
    return Case(lambda L, *a, **kw: getattr(L.F, name)(*a, **kw), args, kw, tol=30, note=name,
                skip_values=name == "multi_margin_loss" and n == 0)


@case("distances")
def _(d):
    g = Gen(d)
    name = g.pick(["cosine_similarity", "pairwise_distance"])
    shapes = d.draw(mutually_broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=3,
                                                  min_side=1, max_side=4)).input_shapes
    kw = dict(dim=-1) if name == "cosine_similarity" else dict(p=g.pick([2.0, 1.0]))
    return Case(lambda L, a, b, **kw: getattr(L.F, name)(a, b, **kw),
                [g.x(shapes[0]), g.x(shapes[1])], kw, tol=30, note=name)


# ---------------------------------------------------------------- misc nn
@case("dropout_eval")
def _(d):
    g = Gen(d)
    name = g.pick(["dropout", "alpha_dropout", "feature_alpha_dropout", "dropout1d", "dropout2d"])
    shape = g.shape(2 if name == "dropout1d" else 3 if name == "dropout2d" else 0, 4)
    p = g.pick([0.0, 0.5, 1.0, 1.5, -0.1])
    training = p in (0.0, 1.0) and name == "dropout" and g.bool()  # deterministic then
    return Case(lambda L, x, **kw: getattr(L.F, name)(x, **kw), [g.x(shape)],
                dict(p=p, training=training), note=name)


@case("embedding")
def _(d):
    g = Gen(d)
    v, dim = g.int(1, 6), g.int(0, 4)
    idx = g.ints(g.shape(0, 3), -1 if g.int(0, 9) == 0 else 0, v - 1 if g.int(0, 9) else v)
    kw = {}
    if g.bool():
        kw["padding_idx"] = g.pick([0, v - 1, -1, v])
    return Case(lambda L, i, w, **kw: L.F.embedding(i, w, **kw), [idx, g.x((v, dim))], kw)


@case("embedding_bag")
def _(d):
    g = Gen(d)
    v, dim = g.int(1, 6), g.int(1, 4)
    b, l = g.int(1, 3), g.int(1, 4)
    kw = dict(mode=g.pick(["mean", "sum", "max"]))
    return Case(lambda L, i, w, **kw: L.F.embedding_bag(i, w, **kw),
                [g.ints((b, l), 0, v - 1), g.x((v, dim))], kw)


@case("one_hot")
def _(d):
    g = Gen(d)
    nc = g.pick([-1, 3, 5])
    return Case(lambda L, i, **kw: L.F.one_hot(i, **kw), [g.ints(g.shape(0, 3), 0, 4)],
                dict(num_classes=nc))


@case("pixel_shuffle")
def _(d):
    g = Gen(d)
    r = g.int(1, 3)
    if g.bool():
        shape = (g.int(0, 2), g.int(1, 2) * r * r, g.int(0, 3), g.int(0, 3))
        return Case(lambda L, x, r: L.F.pixel_shuffle(x, r), [g.x(shape), r],
                    skip_values=0 in shape)
    shape = (g.int(0, 2), g.int(1, 2), g.int(0, 2) * r, g.int(0, 2) * r)
    return Case(lambda L, x, r: L.F.pixel_unshuffle(x, r), [g.x(shape), r],
                skip_values=0 in shape)


@case("interpolate")
def _(d):
    g = Gen(d)
    nd = g.pick([1, 2])
    mode = g.pick(["nearest", "linear" if nd == 1 else "bilinear"])
    shape = (g.int(1, 2), g.int(1, 2)) + tuple(g.int(1, 5) for _ in range(nd))
    kw = dict(mode=mode)
    if g.bool():
        kw["size"] = g.int(1, 7) if nd == 1 or g.bool() else (g.int(1, 7), g.int(1, 7))
    else:
        kw["scale_factor"] = g.pick([2.0, 0.5, 1.5, 3.0])
    if mode != "nearest":
        kw["align_corners"] = g.bool()
    return Case(lambda L, x, **kw: L.F.interpolate(x, **kw), [g.x(shape)], kw, tol=10)


@case("flatten")
def _(d):
    g = Gen(d)
    shape = g.shape(0, 4)
    n = max(len(shape), 1)
    kw = dict(start_dim=g.int(-n, n - 1), end_dim=g.int(-n, n - 1))
    return Case(lambda L, x, **kw: L.T.flatten(x, **kw), [g.x(shape)], kw)


# ---------------------------------------------------------------- tensor ops
@case("binary_ops")
def _(d):
    g = Gen(d)
    name = g.pick(["add", "sub", "mul", "div", "pow", "maximum", "minimum", "remainder",
                   "@add_scalar", "@rsub_scalar", "@rdiv_scalar", "@pow_scalar"])
    shapes = d.draw(mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4,
                                                  min_side=0, max_side=3)).input_shapes
    pos = name in ("pow", "@pow_scalar")
    a = g.x(shapes[0], lo=0.5 if pos else None, hi=2.0 if pos else None)
    if name.startswith("@"):
        s = g.pick([2.0, -1.5, 0.5, 3])
        fns = {"@add_scalar": lambda L, x: x + s, "@rsub_scalar": lambda L, x: s - x,
               "@rdiv_scalar": lambda L, x: s / x, "@pow_scalar": lambda L, x: x ** s}
        return Case(fns[name], [a], note=f"{name} {s}", tol=10)
    b = g.x(shapes[1], lo=0.5 if name in ("div", "remainder") else None, hi=2.0
            if name in ("div", "remainder") else None)
    if name in ("maximum", "minimum") or name == "remainder":
        return Case(lambda L, x, y: getattr(L.T, name)(x, y), [a, b], note=name,
                    check_grad=name != "remainder")
    ops = {"add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y,
           "div": lambda x, y: x / y, "pow": lambda x, y: x ** y}
    op = ops[name]
    return Case(lambda L, x, y: op(x, y), [a, b], note=name, tol=10)


@case("unary_math")
def _(d):
    g = Gen(d)
    name = g.pick(["exp", "log", "sqrt", "abs", "neg", "sin", "cos", "rsqrt", "log1p",
                   "expm1", "reciprocal", "square", "erf", "clamp", "floor", "sign"])
    pos = name in ("log", "sqrt", "rsqrt", "log1p", "reciprocal")
    x = g.x(g.shape(0, 4), lo=0.2 if pos else None, hi=3.0 if pos else None)
    if name == "clamp":
        kw = dict(min=g.pick([None, -0.5]), max=g.pick([None, 0.7]))
        return Case(lambda L, x, **kw: x.clamp(**kw), [x], kw)
    return Case(lambda L, x: getattr(x, name)(), [x], note=name)


@case("reductions")
def _(d):
    g = Gen(d)
    name = g.pick(["sum", "mean", "amax", "amin", "max", "min", "var", "std", "norm", "prod",
                   "logsumexp", "argmax", "cumsum"])
    shape = g.shape(0, 4)
    nd = max(len(shape), 1)
    dim = g.pick([None, g.int(-nd - 1, nd), (0, -1) if len(shape) >= 2 else 0])
    keepdim = g.bool()
    x = g.x(shape)
    if name in ("max", "min", "argmax", "cumsum", "logsumexp") and isinstance(dim, tuple):
        dim = dim[0]
    if name == "cumsum" and dim is None:
        dim = 0
    if name in ("cumsum",):
        return Case(lambda L, x, dim: x.cumsum(dim), [x, dim], note=name)
    if name in ("max", "min", "argmax") and dim is None:
        return Case(lambda L, x: getattr(x, name)(), [x], note=name)
    if name == "logsumexp" and dim is None:
        dim = 0
    kw = dict(keepdim=keepdim)
    check_grad = True
    if name in ("var", "std"):
        kw["correction"] = g.pick([0, 1, 2])
        # n <= correction: a NaN result whose gradient PyTorch gives as 0
        dd = range(len(shape)) if dim is None else (dim if isinstance(dim, tuple) else (dim,))
        try:
            n = int(np.prod([shape[i] for i in dd]))
            check_grad = n > kw["correction"]
        except IndexError:
            pass
    if name == "norm":
        kw["p"] = g.pick([2, 1, "fro", float("inf")])
    if dim is not None:
        kw["dim"] = dim
    return Case(lambda L, x, **kw: getattr(x, name)(**kw), [x], kw, note=name, tol=10,
                check_grad=check_grad)


@case("matmul")
def _(d):
    g = Gen(d)
    name = g.pick(["matmul", "matmul", "bmm", "mm", "mv", "dot"])
    m, k, n = g.int(0, 4), g.int(0, 4), g.int(0, 4)
    if name == "matmul":
        shapes = d.draw(mutually_broadcastable_shapes(
            num_shapes=2, min_dims=0, max_dims=2, min_side=0, max_side=3)).input_shapes
        sa = g.pick([(k,), shapes[0] + (m, k)])
        sb = g.pick([(k,), shapes[1] + (k, n)])
        if g.int(0, 9) == 0:
            sb = (k + 1,)
    elif name == "bmm":
        b = g.int(0, 3)
        sa, sb = (b, m, k), (g.pick([b, b, b + 1]), k, n)
    elif name == "mm":
        sa, sb = (m, k), (g.pick([k, k, k + 1]), n)
    elif name == "mv":
        sa, sb = (m, k), (k,)
    else:
        sa, sb = (k,), (g.pick([k, k, k + 1]),)
    return Case(lambda L, a, b: getattr(L.T, name)(a, b), [g.x(sa), g.x(sb)], note=name, tol=10)


@case("cat/stack")
def _(d):
    g = Gen(d)
    name = g.pick(["cat", "stack"])
    shape = g.shape(1, 3)
    nt = g.int(1, 3)
    dim = g.int(-len(shape) - 1, len(shape))
    shapes = []
    for _ in range(nt):
        s = list(shape)
        if name == "cat" and -len(shape) <= dim < len(shape) and g.bool():
            s[dim] = g.int(0, 3)
        if g.int(0, 9) == 0:
            s[0] += 1
        shapes.append(tuple(s))
    args = [g.x(s) for s in shapes]
    return Case(lambda L, *xs, dim: getattr(L.T, name)(list(xs), dim=dim), args,
                dict(dim=dim), note=name, refuse_ok=name == "cat" and (0,) in shapes)


@case("shape_ops")
def _(d):
    g = Gen(d)
    name = g.pick(["reshape", "view", "permute", "transpose", "unsqueeze", "squeeze", "flip",
                   "expand", "repeat", "t"])
    shape = g.shape(0, 4)
    nd = len(shape)
    x = g.x(shape)
    if name in ("reshape", "view"):
        n = int(np.prod(shape))
        opts = [(n,), (-1,), (1, n), (n, 1, 1)] + ([(shape[0], -1)] if shape else []) + [(n + 1,)]
        s = g.pick(opts)
        return Case(lambda L, x, s: getattr(x, name)(*s), [x, s], note=name)
    if name == "permute":
        perm = list(d.draw(st.permutations(list(range(nd)))))
        if g.int(0, 9) == 0 and perm:
            perm[0] = perm[-1] if len(perm) > 1 else nd
        return Case(lambda L, x, p: x.permute(*p), [x, tuple(perm)], note=name)
    if name == "transpose":
        k = max(nd, 1)
        return Case(lambda L, x, a, b: x.transpose(a, b),
                    [x, g.int(-k - 1, k), g.int(-k, k - 1)], note=name)
    if name == "unsqueeze":
        return Case(lambda L, x, a: x.unsqueeze(a), [x, g.int(-nd - 2, nd + 1)], note=name)
    if name == "squeeze":
        a = g.pick([None, g.int(-max(nd, 1) - 1, max(nd, 1))])
        return Case(lambda L, x, a: x.squeeze() if a is None else x.squeeze(a), [x, a],
                    note=name)
    if name == "flip":
        dims = tuple(sorted(set(g.int(-max(nd, 1), max(nd, 1) - 1) for _ in range(g.int(1, 2)))))
        return Case(lambda L, x, dd: x.flip(dd), [x, dims], note=name)
    if name == "expand":
        s = tuple(g.pick([-1, s if s != 1 else g.int(0, 3)]) for s in shape)
        s = (g.int(1, 2),) * g.int(0, 1) + s
        return Case(lambda L, x, s: x.expand(*s), [x, s], note=name)
    if name == "repeat":
        reps = tuple(g.int(0, 2) for _ in range(nd + g.int(0, 1)))
        return Case(lambda L, x, r: x.repeat(*r), [x, reps], note=name)
    return Case(lambda L, x: x.t(), [x], note=name)


@case("indexing")
def _(d):
    g = Gen(d)
    shape = g.shape(1, 3, min_side=1)
    x = g.x(shape)
    kind = g.pick(["int", "slice", "array", "bool", "ellipsis", "gather", "index_select"])
    n0 = shape[0]
    if kind == "int":
        i = g.int(-n0 - 1, n0)
        return Case(lambda L, x, i: x[i], [x, i], note=kind)
    if kind == "slice":
        sl = slice(g.pick([None, 0, 1, -1, -n0 - 2]), g.pick([None, n0, -1, 2, n0 + 3]),
                   g.pick([None, 1, 2, 3]))
        return Case(lambda L, x, s: x[s], [x, sl], note=f"{kind} {sl}")
    if kind == "array":
        idx = g.ints((g.int(0, 4),), -n0, n0 - 1 if g.int(0, 9) else n0)
        return Case(lambda L, x, i: x[i], [x, idx], note=kind)
    if kind == "bool":
        m = Arg(g.values(shape[:1]) > 0)
        return Case(lambda L, x, m: x[m], [x, m], note=kind)
    if kind == "ellipsis":
        j = g.int(-shape[-1], shape[-1] - 1)
        return Case(lambda L, x, j: x[..., j], [x, j], note=kind)
    dim = g.int(-len(shape), len(shape) - 1)
    if kind == "gather":
        ishape = tuple(g.int(0, s) for s in shape)
        idx = g.ints(ishape, 0, shape[dim] - 1 if g.int(0, 9) else shape[dim])
        return Case(lambda L, x, i, dim: L.T.gather(x, dim, i), [x, idx, dim], note=kind)
    idx = g.ints((g.int(0, 4),), 0, shape[dim] - 1 if g.int(0, 9) else shape[dim])
    return Case(lambda L, x, i, dim: L.T.index_select(x, dim, i), [x, idx, dim], note=kind)


@case("where/clamp_tensor")
def _(d):
    g = Gen(d)
    shapes = d.draw(mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3,
                                                  min_side=0, max_side=3)).input_shapes
    cond = Arg(g.values(shapes[0]) > 0)
    return Case(lambda L, c, a, b: L.T.where(c, a, b), [cond, g.x(shapes[1]), g.x(shapes[2])])


if os.environ.get("FASTNN_FUZZ_SELFTEST"):   # test_fuzz_selftest.py: the harness's own checks
    @case("__crash__")
    def _(d):
        import ctypes
        g = Gen(d)
        if g.int(0, 3) == 3:
            ctypes.string_at(0)   # a segfault, as a broken kernel would give
        return Case(lambda L, x: L.F.relu(x), [g.x((2,))])

    @case("__wrong__")
    def _(d):
        g = Gen(d)
        return Case(lambda L, x: L.F.relu(x) if L.name == "torch" else L.F.relu(x) * 1.001,
                    [g.x((3,))])


# ---------------------------------------------------------------- modules
def _module_case(g, cls, args, kw, x, training=False, buffers=(), refuse_ok=False):
    """A module built with the same arguments in both libraries (PyTorch's
    refusing them means fastnn must too), fastnn's loaded with PyTorch's
    initial state dict; outputs, the input's gradient and the named buffers
    after the call are compared."""
    shared = {}

    def fn(L, x):
        mod = getattr(L.T.nn, cls)(*args, **kw)
        if x.dtype == L.T.float64:
            mod = mod.double()
        if L.name == "torch":
            shared["sd"] = {k: v.detach().numpy().copy() for k, v in mod.state_dict().items()}
        else:
            import fastnn
            mod.load_state_dict({k: fastnn.tensor(v) for k, v in shared["sd"].items()})
        mod.train(training)
        y = mod(x)
        return (y,) + tuple(getattr(mod, b) for b in buffers)
    return Case(fn, [x], note=f"{cls}{tuple(args)} {kw} training={training}", tol=10,
                refuse_ok=refuse_ok)


@case("modules")
def _(d):
    g = Gen(d)
    cls = g.pick(["Linear", "Conv1d", "Conv2d", "ConvTranspose2d", "BatchNorm1d", "BatchNorm2d",
                  "LayerNorm", "GroupNorm", "InstanceNorm2d", "Embedding", "MaxPool2d",
                  "AvgPool2d", "AdaptiveAvgPool2d", "PReLU", "Dropout", "LeakyReLU", "ELU",
                  "Softmax", "Flatten", "Hardtanh"])
    n = g.int(0, 3)
    if cls == "Linear":
        i, o = g.int(0, 4), g.int(-1, 4)
        return _module_case(g, cls, (i, o), dict(bias=g.bool()), g.x((n, i)))
    if cls in ("Conv1d", "Conv2d", "ConvTranspose2d"):
        nd = 1 if cls == "Conv1d" else 2
        groups = g.pick([1, 2, 0])
        cin, cout = g.pick([2, 4, 3]), g.pick([2, 4, 0])
        kw = dict(stride=g.int(0, 2), padding=g.pick([0, 1, -1] + (["same"] if nd else [])),
                  dilation=g.int(1, 2), groups=groups, bias=g.bool())
        if cls == "ConvTranspose2d" and kw["padding"] == "same":
            kw["padding"] = 1
        if g.bool():
            kw["padding_mode"] = g.pick(["zeros", "reflect", "replicate", "circular", "bogus"])
        size, k = g.int(1, 5), g.int(1, 3)
        x = g.x((n, cin) + (size,) * nd)
        # PyTorch's ConvTranspose gives an empty output it cannot backpropagate through
        # where the size formula is 0
        p = kw["padding"] if isinstance(kw["padding"], int) else 0
        empty = (size - 1) * kw["stride"] - 2 * p + kw["dilation"] * (k - 1) + 1 <= 0
        return _module_case(g, cls, (cin, cout, k), kw, x,
                            refuse_ok=cls == "ConvTranspose2d" and empty)
    if cls.startswith("BatchNorm"):
        c = g.int(1, 3)
        shape = (g.int(1, 4), c) + ((g.int(1, 3),) * (2 if cls == "BatchNorm2d" else
                                                        g.int(0, 1)))
        kw = dict(momentum=g.pick([0.1, None, 0.5]), affine=g.bool(),
                  track_running_stats=g.bool(), eps=g.pick([1e-5, 0.0, -1.0]))
        training = g.bool()
        bufs = ("running_mean", "running_var", "num_batches_tracked") \
            if kw["track_running_stats"] else ()
        return _module_case(g, cls, (g.pick([c, c, c + 1]),), kw, g.x(shape), training, bufs)
    if cls == "LayerNorm":
        shape = (g.int(0, 3), g.int(1, 3), g.int(1, 3))
        ns = shape[g.int(1, 2):]
        return _module_case(g, cls, (ns,), dict(elementwise_affine=g.bool(),
                                                bias=g.bool()), g.x(shape))
    if cls == "GroupNorm":
        groups, c = g.int(1, 3), g.int(1, 4)
        return _module_case(g, cls, (groups, c), dict(affine=g.bool()),
                            g.x((g.int(1, 3), c, g.int(1, 3))))
    if cls == "InstanceNorm2d":
        c = g.int(1, 3)
        kw = dict(affine=g.bool(), track_running_stats=g.bool())
        training = g.bool()
        bufs = ("running_mean", "running_var") if kw["track_running_stats"] else ()
        return _module_case(g, cls, (c,), kw, g.x((g.int(1, 3), c, g.int(2, 3), g.int(2, 3))),
                            training, bufs)
    if cls == "Embedding":
        v, dim = g.int(0, 5), g.int(0, 3)
        kw = {} if g.bool() else dict(padding_idx=g.pick([0, -1, v, -v - 1]))
        return _module_case(g, cls, (v, dim), kw, g.ints((n, 2), 0, max(v - 1, 0)))
    x4 = g.x((n, g.int(1, 2), g.int(1, 5), g.int(1, 5)))
    if cls in ("MaxPool2d", "AvgPool2d"):
        return _module_case(g, cls, (g.int(0, 3),), dict(stride=g.pick([None, 1, 2, 0]),
                                                         padding=g.int(0, 1)), x4)
    if cls == "AdaptiveAvgPool2d":
        return _module_case(g, cls, (g.pick([1, 2, (2, 3), (None, 2)]),), {}, x4)
    if cls == "PReLU":
        return _module_case(g, cls, (), dict(num_parameters=g.pick([1, x4.base.shape[1], 0]),
                                             init=g.pick([0.25, -1.0])), x4)
    if cls == "Dropout":
        return _module_case(g, cls, (g.pick([0.0, 0.5, 1.0, 1.5]),), {}, x4)
    if cls == "Softmax":
        return _module_case(g, cls, (), dict(dim=g.int(-4, 3)), x4)
    if cls == "Flatten":
        return _module_case(g, cls, (), dict(start_dim=g.int(-4, 3), end_dim=g.int(-4, 3)), x4)
    if cls == "Hardtanh":
        return _module_case(g, cls, (g.pick([-1.0, 0.5]), g.pick([1.0, 0.0])), {}, x4)
    return _module_case(g, cls, (), {}, x4)


# ---------------------------------------------------------------- more
@case("scaled_dot_product_attention")
def _(d):
    g = Gen(d)
    lead = g.shape(1, 2, max_side=2)
    lq, lk, e, ev = g.int(0, 4), g.int(0, 4), g.int(1, 4), g.int(1, 3)
    lk2 = g.pick([lk, lk, lk + 1])
    q, k = g.x(lead + (lq, e)), g.x(lead + (lk2, e))
    v = g.x(lead + (lk, ev))
    kw = dict(is_causal=g.bool(), scale=g.pick([None, 0.5]))
    mask = None
    if g.bool() and not kw["is_causal"]:
        if g.bool():
            mask = Arg(g.values((lq, lk)) > -0.5)
        else:
            mask = g.x((lq, lk), grad=False)
    # PyTorch skips its key/value length check on empty inputs
    return Case(lambda L, q, k, v, m, **kw: L.F.scaled_dot_product_attention(
        q, k, v, attn_mask=m, **kw), [q, k, v, mask], kw, tol=30, refuse_ok=lk2 != lk)


@case("interpolate_more")
def _(d):
    g = Gen(d)
    mode = g.pick(["nearest", "bilinear", "bicubic", "area", "nearest-exact"])
    shape = (g.int(1, 2), g.int(1, 2), g.int(1, 5), g.int(1, 5))
    kw = dict(mode=mode)
    if g.bool():
        kw["size"] = (g.int(1, 7), g.int(1, 7))
    else:
        kw["scale_factor"] = g.pick([2.0, 0.5, 1.5, (2.0, 0.5)])
    if mode in ("bilinear", "bicubic"):
        kw["align_corners"] = g.bool()
    return Case(lambda L, x, **kw: L.F.interpolate(x, **kw), [g.x(shape)], kw, tol=30)


@case("max_unpool")
def _(d):
    g = Gen(d)
    nd = g.pick([1, 2])
    k = g.int(1, 3)
    s = g.pick([None, 1, 2])
    shape = (g.int(1, 2), g.int(1, 2)) + tuple(g.int(k, 6) for _ in range(nd))
    name = f"max_unpool{nd}d"

    def fn(L, x):
        y, idx = getattr(L.F, f"max_pool{nd}d")(x, k, s, return_indices=True)
        return getattr(L.F, name)(y, idx, k, s)
    return Case(fn, [g.x(shape)], note=f"{name} k={k} s={s}")


@case("tensor_misc")
def _(d):
    g = Gen(d)
    name = g.pick(["sort", "topk", "cumprod", "masked_fill", "tril", "triu", "roll",
                   "diagonal", "narrow", "split", "chunk", "unbind", "softmax_method",
                   "clamp_tensor", "abs_pow", "std_mean", "square_sum"])
    shape = g.shape(1, 3, max_side=4)
    nd = len(shape)
    dim = g.int(-nd, nd - 1)
    x = g.x(shape)
    if name == "sort":
        return Case(lambda L, x, dim, desc: x.sort(dim=dim, descending=desc),
                    [x, dim, g.bool()], note=name)
    if name == "topk":
        k = g.int(0, shape[dim] + 1)
        return Case(lambda L, x, k, dim, lg: x.topk(k, dim=dim, largest=lg),
                    [x, k, dim, g.bool()], note=name)
    if name == "cumprod":
        return Case(lambda L, x, dim: x.cumprod(dim), [x, dim], note=name, tol=10)
    if name == "masked_fill":
        m = Arg(g.values(shape[-1:]) > 0)
        return Case(lambda L, x, m: x.masked_fill(m, -2.5), [x, m], note=name)
    if name in ("tril", "triu"):
        x = g.x(shape if nd >= 2 else shape + (2,))
        return Case(lambda L, x, k: getattr(x, name)(k), [x, g.int(-2, 2)], note=name)
    if name == "roll":
        return Case(lambda L, x, s, dim: x.roll(s, dim), [x, g.int(-3, 3), dim], note=name)
    if name == "diagonal":
        x = g.x(shape if nd >= 2 else shape + (3,))
        return Case(lambda L, x, o: x.diagonal(o), [x, g.int(-2, 2)], note=name)
    if name == "narrow":
        start = g.int(-shape[dim], shape[dim])
        return Case(lambda L, x, dim, st, ln: x.narrow(dim, st, ln),
                    [x, dim, start, g.int(0, 2)], note=name)
    if name == "split":
        return Case(lambda L, x, s, dim: x.split(s, dim), [x, g.int(1, 3), dim], note=name)
    if name == "chunk":
        return Case(lambda L, x, c, dim: x.chunk(c, dim), [x, g.int(1, 3), dim], note=name)
    if name == "unbind":
        return Case(lambda L, x, dim: x.unbind(dim), [x, dim], note=name)
    if name == "softmax_method":
        return Case(lambda L, x, dim: x.softmax(dim), [x, dim], note=name)
    if name == "clamp_tensor":
        lo = g.x(shape[-1:], grad=False, views=False)
        return Case(lambda L, x, lo: x.clamp(min=lo), [x, lo], note=name)
    if name == "abs_pow":
        return Case(lambda L, x, p: x.abs() ** p, [x, g.pick([0.5, 2.0, 3.0, 0.0])],
                    note=name, tol=10)
    if name == "std_mean":
        return Case(lambda L, x, dim: L.T.std_mean(x, dim), [x, dim], note=name, tol=10)
    return Case(lambda L, x: (x * x).sum(), [x], note=name)


@case("linalg")
def _(d):
    # square inputs shifted by 2n+1 on the diagonal (well conditioned, so float32
    # results and gradients are comparable); sometimes non-square, to hit the errors
    g = Gen(d)
    name = g.pick(["det", "slogdet", "inv", "inv_ex", "solve", "solve_vec", "solve_triangular",
                   "cholesky", "eigvalsh", "svdvals", "qr", "matrix_exp", "matrix_power",
                   "cholesky_solve"])
    batch = g.shape(0, 2, max_side=3)
    n = g.int(0, 4)
    m = n if g.int(0, 5) else g.int(0, 4)              # mostly square
    x = g.x(batch + (m, n))
    c = 2.0 * n + 1
    f32 = g.dtype == np.float32

    def shift(L, a):
        return a + c * L.T.eye(a.shape[-1], dtype=a.dtype)
    if name in ("det", "slogdet", "inv", "inv_ex"):
        return Case(lambda L, a: getattr(L.T.linalg, name)(shift(L, a)), [x], note=name,
                    tol=10)
    if name in ("solve", "solve_vec"):
        rhs = g.x(batch[g.int(0, len(batch)):] + ((n,) if name == "solve_vec" else
                                                  (g.pick([n, n, n + 1]), g.int(0, 3))))
        return Case(lambda L, a, b: L.T.linalg.solve(shift(L, a), b), [x, rhs], note=name,
                    tol=10)
    if name == "solve_triangular":
        up, left, unit = g.bool(), g.bool(), g.bool()
        k = g.int(0, 3)
        rhs = g.x(batch + ((n, k) if left else (k, n)))
        return Case(lambda L, a, b: L.T.linalg.solve_triangular(
            shift(L, a), b, upper=up, left=left, unitriangular=unit), [x, rhs],
            note=f"{name} upper={up} left={left} unit={unit}", tol=10)
    if name == "cholesky":
        up = g.bool()
        return Case(lambda L, a: L.T.linalg.cholesky(shift(L, a @ a.mT), upper=up), [x],
                    note=f"{name} upper={up}", tol=10)
    if name == "cholesky_solve":
        rhs = g.x(batch + (m, g.int(0, 3)))
        return Case(lambda L, a, b: L.T.cholesky_solve(b, L.T.linalg.cholesky(
            shift(L, a @ a.mT))), [x, rhs], note=name, tol=10)
    if name == "eigvalsh":
        # near-equal eigenvalues make the float32 gradient basis-dependent
        return Case(lambda L, a: L.T.linalg.eigvalsh(a + a.mT), [x], note=name, tol=10,
                    check_grad=not f32)
    if name == "svdvals":
        return Case(lambda L, a: L.T.linalg.svdvals(a), [x], note=name, tol=10,
                    check_grad=not f32)
    if name == "qr":
        mode = g.pick(["reduced", "complete", "r"])
        return Case(lambda L, a: L.T.linalg.qr(shift(L, a) if m == n else a, mode=mode), [x],
                    note=f"{name} mode={mode}", tol=30, check_grad=not f32 and mode != "r")
    if name == "matrix_exp":
        return Case(lambda L, a: L.T.linalg.matrix_exp(a * 0.5), [x], note=name, tol=10)
    p = g.int(-2, 3)
    return Case(lambda L, a: L.T.linalg.matrix_power(shift(L, a) / c, p), [x],
                note=f"matrix_power n={p}", tol=10)
