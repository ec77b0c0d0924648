"""torch.* names and Tensor methods PyTorch programs call that were missing:
split_with_sizes / unsafe_*, range, kaiser_window, binomial, the random
fills log_normal_ / geometric_ / cauchy_, apply_ / map_ / map2_, typename,
and the torch.* spellings of functional ops (batch_norm, instance_norm,
embedding, bilinear, the losses with PyTorch's int reduction, feature
dropout, ...).  Signatures against PyTorch's own stubs (positional order,
names, defaults), values and errors against PyTorch, samplers by their
statistics."""
import ast
import inspect
import os
import warnings

import numpy as np
import pytest

import fastnn
from fastnn.testing import requires_torch

FUNCTIONS = ["split_with_sizes", "unsafe_split", "unsafe_chunk", "unsafe_split_with_sizes",
             "range", "kaiser_window", "binomial", "batch_norm", "instance_norm", "embedding",
             "bilinear", "cosine_embedding_loss", "hinge_embedding_loss", "kl_div",
             "margin_ranking_loss", "poisson_nll_loss", "triplet_margin_loss",
             "adaptive_max_pool1d", "frobenius_norm", "feature_dropout", "feature_dropout_",
             "feature_alpha_dropout_", "addmv_"]
METHODS = ["split_with_sizes", "unsafe_split", "unsafe_chunk", "unsafe_split_with_sizes",
           "log_normal_", "geometric_", "cauchy_", "apply_", "map_", "map2_", "hardshrink",
           "prelu"]
_ANY = object()


def _stub_overloads(path, cls=None):
    """name -> [(positional [(name, default)], keyword-only names)] from a .pyi."""
    tree = ast.parse(open(path).read())
    body = tree.body
    if cls is not None:
        body = next(n.body for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls)
    out = {}
    for node in body:
        if not isinstance(node, ast.FunctionDef):
            continue
        a = node.args
        pos = a.posonlyargs + a.args
        defaults = [_ANY] * (len(pos) - len(a.defaults)) + [_literal(d) for d in a.defaults]
        out.setdefault(node.name, []).append(
            ([(p.arg, d if d is not _ANY or i < len(pos) - len(a.defaults) else _ANY)
              for i, (p, d) in enumerate(zip(pos, defaults)) if p.arg != "self"],
             [k.arg for k in a.kwonlyargs]))
    return out


def _literal(node):
    try:
        return ast.literal_eval(node)
    except ValueError:
        return "<expr>"


def _matches(fn, overload, method=False):
    params = inspect.signature(fn).parameters
    fpos = [(n, p.default) for n, p in params.items()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    fpos = fpos[1:] if method else fpos          # (a method's first argument is the tensor)
    varkw = any(p.kind == p.VAR_KEYWORD for p in params.values())
    tpos, tkw = overload
    if [n for n, _ in fpos[:len(tpos)]] != [n for n, _ in tpos]:
        return f"positional {[n for n, _ in tpos]} vs {[n for n, _ in fpos]}"
    for (n, d), (_, fd) in zip(tpos, fpos):
        if d is not _ANY and d != "<expr>" and fd != d:
            return f"{n}={fd!r}, PyTorch's default {d!r}"
    if any(fd is inspect.Parameter.empty for _, fd in fpos[len(tpos):]):
        return "extra required positional arguments"
    missing = [k for k in tkw if k not in params and not varkw]
    return f"no keyword {missing}" if missing else None


# torch's stubs give these ``reduction=1``, but torch.*'s own calls default to
# 0 ('none') at run time (checked against torch in test_torch_loss_spellings_default_to_none)
_RUNTIME_DEFAULT_DIFFERS = {"kl_div", "cosine_embedding_loss", "hinge_embedding_loss",
                            "margin_ranking_loss", "triplet_margin_loss"}


def _mismatches(names, stubs, lookup, method=False):
    bad = []
    for name in names:
        if not method and name in _RUNTIME_DEFAULT_DIFFERS:
            continue
        problems = [_matches(lookup(name), o, method) for o in stubs[name]]
        if all(problems):
            bad.append(f"{name}: {problems}")
    return bad


def test_signatures_match_torch_stubs():
    torch = requires_torch()
    here = os.path.join(os.path.dirname(torch.__file__), "_C")
    fns = _stub_overloads(os.path.join(here, "_VariableFunctions.pyi"))
    meths = _stub_overloads(os.path.join(here, "__init__.pyi"), "TensorBase")
    bad = _mismatches(FUNCTIONS, fns, lambda n: getattr(fastnn, n))
    bad += _mismatches(METHODS, meths, lambda n: getattr(fastnn.Tensor, n), method=True)
    assert not bad, "\n".join(bad)
    assert [(n, p.kind) for n, p in inspect.signature(fastnn.typename).parameters.items()] == \
        [(n, p.kind) for n, p in inspect.signature(torch.typename).parameters.items()]
    # the comparer can fail
    assert _matches(lambda input, split_sizes, dim=1: 0, fns["split_with_sizes"][0])


def _both(torch, f, *arrays, **kw):
    """f(lib, *tensors) for (fastnn, torch), as NumPy arrays (tuples kept)."""
    outs = []
    for lib in (fastnn, torch):
        r = f(lib, *[lib.tensor(a) if isinstance(a, np.ndarray) else a for a in arrays], **kw)
        outs.append(tuple(x.detach().numpy() for x in r) if isinstance(r, tuple)
                    else r.detach().numpy())
    return outs


# ---------------------------------------------------------------- splits
def test_split_with_sizes_and_unsafe_forms_match_torch(rng):
    torch = requires_torch()
    x = rng.standard_normal((4, 6))
    calls = [lambda lib, t: lib.split_with_sizes(t, [1, 2, 3], 1),
             lambda lib, t: t.split_with_sizes([3, 1], dim=0),
             lambda lib, t: lib.unsafe_split(t, 4, dim=1),
             lambda lib, t: t.unsafe_split(3),
             lambda lib, t: lib.unsafe_chunk(t, 4, 1),
             lambda lib, t: t.unsafe_chunk(3, dim=0),
             lambda lib, t: lib.unsafe_split_with_sizes(t, [0, 6], -1),
             lambda lib, t: t.unsafe_split_with_sizes(split_sizes=[2, 2], dim=0)]
    for f in calls:
        ours, theirs = _both(torch, f, x)
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            np.testing.assert_array_equal(a, b)
    for f, exc in ((lambda lib, t: lib.split_with_sizes(t, [3, 2]), RuntimeError),
                   (lambda lib, t: lib.split_with_sizes(t, 2), TypeError),
                   (lambda lib, t: lib.unsafe_split(t, [2, 2]), TypeError)):
        with pytest.raises(exc) as theirs:
            f(torch, torch.tensor(x))
        with pytest.raises(exc) as ours:
            f(fastnn, fastnn.tensor(x))
        assert str(ours.value) == str(theirs.value)


def test_split_with_sizes_gradient(rng):
    x = fastnn.tensor(rng.standard_normal((5, 3)), requires_grad=True)
    w = [fastnn.tensor(rng.standard_normal((n, 3))) for n in (2, 3)]
    assert fastnn.gradcheck(
        lambda t: sum((p * q).sum() for p, q in zip(t.split_with_sizes([2, 3]), w)), [x])
    assert fastnn.gradcheck(lambda t: fastnn.unsafe_chunk(t, 2, 1)[1] * 2.0, [x])


# ------------------------------------------------------------- factories
@pytest.mark.parametrize("args,kw", [((1, 4), {}), ((0, 1, 0.1), {}), ((0, 1, 0.3), {}),
                                     ((3, 0, -1), {}), ((1, 1), {}), ((-2.5, 2), {}),
                                     ((1, 4), {"dtype": "int64"}),
                                     ((0.5, 3), {"dtype": "int64"}),
                                     ((0, 10, 3), {"dtype": "float64"})])
def test_range_matches_torch(args, kw):
    torch = requires_torch()
    for lib in (torch, fastnn):
        dt = kw.get("dtype")
        kwl = {"dtype": getattr(lib, dt)} if dt else {}
        with pytest.warns(UserWarning) as rec:
            r = lib.range(*args, **kwl)
        if lib is torch:
            want, text = r.numpy(), str(rec[0].message)
        else:
            got = r.numpy()
    assert str(rec[0].message) == text
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


def test_range_errors_match_torch():
    torch = requires_torch()
    for args in ((1, 4, 0), (4, 1), (0, float("inf"))):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(RuntimeError) as theirs:
                torch.range(*args)
            with pytest.raises(RuntimeError) as ours:
                fastnn.range(*args)
        assert str(ours.value) == str(theirs.value).replace("0 -> inf", "0.0 -> inf")
    with pytest.raises(TypeError):
        fastnn.range(5)                          # end is required, as PyTorch's


@pytest.mark.parametrize("n", [0, 1, 2, 5, 16])
def test_kaiser_window_matches_torch(n):
    torch = requires_torch()
    for periodic in (True, False):
        for beta in (12.0, 0.0, 5.5):
            got = fastnn.kaiser_window(n, periodic, beta, dtype=fastnn.float64).numpy()
            want = torch.kaiser_window(n, periodic, beta, dtype=torch.float64).numpy()
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    got = fastnn.kaiser_window(n).numpy()
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, torch.kaiser_window(n).numpy(), rtol=2e-6, atol=1e-7)
    with pytest.raises(RuntimeError):
        fastnn.kaiser_window(4, dtype=fastnn.int64)


# -------------------------------------------------------------- sampling
def test_binomial_statistics_and_edges():
    g = fastnn.Generator().manual_seed(0)
    count = fastnn.full((20000,), 12.0)
    prob = fastnn.full((20000,), 0.25)
    s = fastnn.binomial(count, prob, g).numpy()
    assert s.dtype == np.float32 and (s == np.round(s)).all() and s.min() >= 0 and s.max() <= 12
    assert abs(s.mean() - 3.0) < 0.05 and abs(s.var() - 2.25) < 0.1
    g2 = fastnn.Generator().manual_seed(0)
    np.testing.assert_array_equal(fastnn.binomial(count, prob, generator=g2).numpy(), s)
    e = fastnn.binomial(fastnn.tensor([10.0, 3.0, -1.0, 4.0, 5.0]),
                        fastnn.tensor([1.5, 0.0, 0.5, 1.0, float("nan")])).numpy()
    np.testing.assert_array_equal(e[:4], [10.0, 0.0, 0.0, 4.0])
    assert np.isnan(e[4])
    b = fastnn.binomial(fastnn.tensor([[10.0], [20.0]], dtype=fastnn.float64),
                        fastnn.tensor([0.0, 1.0], dtype=fastnn.float64))
    np.testing.assert_array_equal(b.numpy(), [[0, 10], [0, 20]])


def test_binomial_errors_match_torch():
    torch = requires_torch()
    for c, p in (([10, 5], [0.5, 0.1]), ([10.0, 5.0], np.array([0.5, 0.1]))):
        with pytest.raises((ValueError, RuntimeError)) as theirs:
            torch.binomial(torch.tensor(c), torch.tensor(p))
        with pytest.raises((ValueError, RuntimeError)) as ours:
            fastnn.binomial(fastnn.tensor(c), fastnn.tensor(p))
        assert type(ours.value) is type(theirs.value)
        assert str(ours.value) == str(theirs.value)


def test_random_fills_statistics():
    g = fastnn.Generator().manual_seed(1)
    x = fastnn.empty(40000)
    assert x.log_normal_(0.5, 0.25, generator=g) is x
    ln = np.log(x.numpy())
    assert abs(ln.mean() - 0.5) < 0.01 and abs(ln.std() - 0.25) < 0.01
    d = fastnn.empty(40000, dtype=fastnn.float64).log_normal_().numpy()
    assert abs(np.log(d).mean() - 1.0) < 0.05 and abs(np.log(d).std() - 2.0) < 0.05
    geo = fastnn.empty(40000).geometric_(0.2, generator=g).numpy()
    assert geo.min() == 1 and (geo == np.round(geo)).all() and abs(geo.mean() - 5.0) < 0.1
    gi = fastnn.zeros(100, dtype=fastnn.int64).geometric_(0.5)
    assert gi.dtype == np.int64 and gi.numpy().min() >= 1
    c = fastnn.empty(40000).cauchy_(2.0, 0.5, generator=g).numpy()
    q1, med, q3 = np.percentile(c, [25, 50, 75])
    assert abs(med - 2.0) < 0.03 and abs((q3 - q1) - 1.0) < 0.05
    a = fastnn.Generator().manual_seed(3)
    b = fastnn.Generator().manual_seed(3)
    np.testing.assert_array_equal(fastnn.empty(5).cauchy_(generator=a).numpy(),
                                  fastnn.empty(5).cauchy_(generator=b).numpy())


def test_random_fill_errors_match_torch():
    torch = requires_torch()
    for lib_call in ("zeros(3).log_normal_(std=0)", "zeros(3).geometric_(1)",
                     "zeros(3).geometric_(0)", "zeros(3).cauchy_(sigma=-1)",
                     "zeros(3, dtype=L.int64).log_normal_()",
                     "zeros(3, dtype=L.int64).cauchy_()",
                     "ones(2, requires_grad=True).log_normal_()"):
        with pytest.raises((RuntimeError, NotImplementedError)) as theirs:
            eval("L." + lib_call, {"L": torch})  # noqa: S307
        with pytest.raises((RuntimeError, NotImplementedError)) as ours:
            eval("L." + lib_call, {"L": fastnn})  # noqa: S307
        assert type(ours.value) is type(theirs.value), lib_call
        assert str(ours.value) == str(theirs.value), lib_call


# --------------------------------------------------- Python callables per element
def test_apply_map_map2_match_torch():
    torch = requires_torch()
    cases = [(lambda L: L.arange(6.0).reshape(2, 3).apply_(lambda v: v * v - 1)),
             (lambda L: L.arange(5).apply_(lambda v: v * 1.5)),
             (lambda L: L.tensor([True, False]).apply_(lambda v: not v)),
             (lambda L: L.arange(6.0, dtype=L.float64).reshape(2, 3)
              .map_(L.tensor([1.0, 2.0, 3.0], dtype=L.float64), lambda a, b: a * b)),
             (lambda L: L.ones(2, 3).map_(other=L.ones(2, 1), callable=lambda a, b: a + b)),
             (lambda L: L.ones(2, 3).map2_(L.arange(3.0), L.ones(2, 1) * 2,
                                           lambda a, b, c: a + b * c)),
             (lambda L: L.tensor(2.0).apply_(lambda v: v / 4))]
    for f in cases:
        got, want = f(fastnn), f(torch)
        assert got.dtype == np.dtype(str(want.dtype).replace("torch.", ""))
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    x = fastnn.arange(6.0).reshape(2, 3)
    v = x[1]
    assert v.apply_(lambda e: -e) is v
    np.testing.assert_array_equal(x.numpy()[1], [-3, -4, -5])  # through the view
    for call, exc in (("ones(2, requires_grad=True).apply_(lambda v: v)", RuntimeError),
                      ("ones(2).map_(L.ones(2, requires_grad=True), lambda a, b: a)",
                       RuntimeError),
                      ("ones(2, requires_grad=True).map2_(L.ones(2), L.ones(2), "
                       "lambda a, b, c: a)", RuntimeError),
                      ("ones(2).apply_(lambda v: 'a')", TypeError)):
        with pytest.raises(exc) as theirs:
            eval("L." + call, {"L": torch})  # noqa: S307
        with pytest.raises(exc) as ours:
            eval("L." + call, {"L": fastnn})  # noqa: S307
        assert str(ours.value) == str(theirs.value), call
    with pytest.raises(RuntimeError):
        fastnn.ones(2).map_(fastnn.ones(3), lambda a, b: a)


def test_typename_matches_torch():
    torch = requires_torch()
    for make in (lambda L: L.ones(2), lambda L: L.ones(2, dtype=L.int64),
                 lambda L: L.ones(1, dtype=L.float64), lambda L: 3, lambda L: "s",
                 lambda L: [1]):
        assert fastnn.typename(make(fastnn)) == torch.typename(make(torch))
    assert fastnn.typename(fastnn.nn.Linear) == "fastnn.nn.modules.linear.Linear"
    assert fastnn.typename(fastnn.nn.Linear(2, 2)) == "fastnn.nn.modules.linear.Linear"


# ------------------------------------------------- functional torch.* forms
def test_normalisation_forms_match_torch(rng):
    torch = requires_torch()
    x = rng.standard_normal((4, 3, 5))
    w, b = rng.standard_normal(3), rng.standard_normal(3)
    for training in (True, False):
        st = {}
        for lib in (fastnn, torch):
            rm, rv = lib.tensor(np.zeros(3)), lib.tensor(np.ones(3))
            y = lib.batch_norm(lib.tensor(x), lib.tensor(w), lib.tensor(b), rm, rv, training,
                               0.3, 1e-5, False)
            st[lib.__name__] = (y.numpy(), rm.numpy(), rv.numpy())
        for a, c in zip(st["fastnn"], st["torch"]):
            np.testing.assert_allclose(a, c, rtol=1e-10, atol=1e-12)
        st = {}
        for lib in (fastnn, torch):
            rm, rv = lib.tensor(np.zeros(3)), lib.tensor(np.ones(3))
            y = lib.instance_norm(lib.tensor(x), lib.tensor(w), None, rm, rv, training, 0.1,
                                  1e-5, False)
            st[lib.__name__] = (y.numpy(), rm.numpy(), rv.numpy())
        for a, c in zip(st["fastnn"], st["torch"]):
            np.testing.assert_allclose(a, c, rtol=1e-10, atol=1e-12)


def test_embedding_and_bilinear_forms_match_torch(rng):
    torch = requires_torch()
    weight = rng.standard_normal((5, 3))
    idx = np.array([[0, 2, 4], [2, 2, 1]])
    grads = {}
    for lib in (fastnn, torch):
        for pad in (-1, 2):
            wt = lib.tensor(weight, requires_grad=True)
            y = lib.embedding(wt, lib.tensor(idx), pad)
            (y * lib.tensor(np.arange(18.0).reshape(2, 3, 3))).sum().backward()
            grads[lib.__name__, pad] = (y.detach().numpy(), wt.grad.numpy())
    for pad in (-1, 2):
        for a, c in zip(grads["fastnn", pad], grads["torch", pad]):
            np.testing.assert_allclose(a, c, rtol=1e-12)
    x1, x2 = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    wb, bb = rng.standard_normal((5, 3, 2)), rng.standard_normal(5)
    ours, theirs = _both(torch, lambda L, a, c, w, bias: L.bilinear(a, c, w, bias),
                         x1, x2, wb, bb)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


@pytest.mark.parametrize("reduction", [0, 1, 2])
def test_loss_forms_with_int_reduction_match_torch(rng, reduction):
    torch = requires_torch()
    a, b, c = (rng.standard_normal((6, 4)) for _ in range(3))
    sign = np.where(rng.standard_normal(6) > 0, 1.0, -1.0)
    sign4 = np.where(rng.standard_normal((6, 4)) > 0, 1.0, -1.0)
    logp = np.log(rng.dirichlet(np.ones(4), 6))
    q = rng.dirichlet(np.ones(4), 6)
    counts = rng.poisson(2.0, (6, 4)).astype(np.float64)
    r = reduction
    calls = [lambda L, x, y, t: L.cosine_embedding_loss(x, y, t, 0.1, r),
             lambda L, x, t: L.hinge_embedding_loss(x, t, 0.5, r),
             lambda L, x, t: L.kl_div(x, t, r),
             lambda L, x, t: L.kl_div(x, t.log(), r, log_target=True),
             lambda L, x, y, t: L.margin_ranking_loss(x, y, t, 0.2, r),
             lambda L, x, t: L.poisson_nll_loss(x, t, True, True, 1e-8, r),
             lambda L, x, t: L.poisson_nll_loss(x.abs(), t, False, False, 1e-6, r),
             lambda L, x, y, z: L.triplet_margin_loss(x, y, z, 1.0, 2, 1e-6, True, r)]
    args = [(a, b, sign), (a, sign4), (logp, q), (logp, q), (a[:, 0], b[:, 0], sign), (a, counts),
            (a, counts), (a, b, c)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")            # (torch.kl_div's mean: no warning)
        for f, xs in zip(calls, args):
            ours, theirs = _both(torch, f, *xs)
            np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_pooling_norm_addmv_forms_match_torch(rng):
    torch = requires_torch()
    x = rng.standard_normal((2, 3, 7))
    (ov, oi), (tv, ti) = _both(torch, lambda L, t: L.adaptive_max_pool1d(t, 3), x)
    np.testing.assert_array_equal(ov, tv)
    np.testing.assert_array_equal(oi, ti)
    for dim, keep in (((1, 2), False), (1, True), ([0], False)):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            ours, theirs = _both(torch, lambda L, t: L.frobenius_norm(t, dim, keep), x)
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)
        assert any("frobenius_norm is deprecated" in str(m.message) for m in w)
    with pytest.raises(RuntimeError) as theirs, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.frobenius_norm(torch.tensor(x), (0, 1, 2))
    with pytest.raises(RuntimeError) as ours, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fastnn.frobenius_norm(fastnn.tensor(x), (0, 1, 2))
    assert str(ours.value) == str(theirs.value)
    m, v, inp = rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal(3)
    outs = []
    for lib in (fastnn, torch):
        t = lib.tensor(inp)
        assert lib.addmv_(t, lib.tensor(m), lib.tensor(v), beta=0.5, alpha=2) is t
        outs.append(t.numpy())
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-12)


def test_feature_dropout_forms():
    x = fastnn.ones(8, 16, 5)
    np.testing.assert_array_equal(fastnn.feature_dropout(x, 0.5, False).numpy(), x.numpy())
    y = fastnn.feature_dropout(x, 0.25, True).numpy()
    per_channel = y[:, :, 0]
    assert (y == per_channel[:, :, None]).all()               # whole channels
    assert set(np.unique(per_channel)) <= {0.0, np.float32(1 / 0.75)}
    assert 0 < (per_channel == 0).mean() < 0.6
    z = fastnn.ones(8, 16, 5)
    assert fastnn.feature_dropout_(z, 0.5, True) is z
    zz = z.numpy()
    assert (zz == zz[:, :, :1]).all() and set(np.unique(zz)) <= {0.0, 2.0}
    a = fastnn.ones(4, 6, 3)
    assert fastnn.feature_alpha_dropout_(a, 0.5, False) is a and (a.numpy() == 1).all()
    fastnn.feature_alpha_dropout_(a, 0.5, True)
    aa = a.numpy()
    assert (aa == aa[:, :, :1]).all() and len(np.unique(aa)) == 2


def test_hardshrink_prelu_methods_match_torch(rng):
    torch = requires_torch()
    x = rng.standard_normal((2, 3, 4))
    w = np.array([0.1, -0.2, 0.3])
    ours, theirs = _both(torch, lambda L, t: t.hardshrink(0.7), x)
    np.testing.assert_array_equal(ours, theirs)
    ours, theirs = _both(torch, lambda L, t: t.hardshrink(), x)
    np.testing.assert_array_equal(ours, theirs)
    ours, theirs = _both(torch, lambda L, t, a: t.prelu(a), x, w)
    np.testing.assert_allclose(ours, theirs, rtol=1e-15)
    t = fastnn.tensor(x, requires_grad=True)
    a = fastnn.tensor(w, requires_grad=True)
    g = fastnn.tensor(rng.standard_normal((2, 3, 4)))
    assert fastnn.gradcheck(lambda p, q: p.prelu(q) * g, [t, a])
