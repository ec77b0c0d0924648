"""Module against torch.nn.Module: repr text, state_dict keys, load_state_dict
results and error texts, hooks (order, replaced arguments/outputs/gradients,
gradient values), traversal, dtype/device moves, register_* checks."""
import numpy as np
import pytest

import fastnn
import fastnn.nn as nn


def _torch():
    return fastnn.testing.requires_torch()


def _block(nn_mod):
    lib = fastnn if nn_mod is nn else __import__("torch")

    class Block(nn_mod.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn_mod.Conv2d(3, 8, 3, padding=1)
            self.act = nn_mod.ReLU()
            self.pool = nn_mod.MaxPool2d(2)
            self.heads = nn_mod.ModuleList([nn_mod.Linear(4, 4), nn_mod.Linear(4, 4),
                                            nn_mod.ReLU(), nn_mod.Linear(4, 2)])
            self.by_name = nn_mod.ModuleDict({"flat": nn_mod.Flatten(), "id": nn_mod.Identity()})
            self.register_buffer("steps", lib.zeros(2))
            self.register_buffer("cache", lib.zeros(1), persistent=False)
            self.empty = None
    return Block()


def _models(torch):
    def build(nn_mod):
        class Extra(nn_mod.Module):
            def __init__(self):
                super().__init__()
                self.inner = nn_mod.Linear(2, 2, bias=False)

            def extra_repr(self):
                return "first line\nsecond line"

        class One(nn_mod.Module):
            def extra_repr(self):
                return "k=3"
        net = nn_mod.Sequential(
            nn_mod.Sequential(nn_mod.Conv2d(1, 4, 3), nn_mod.ReLU(), nn_mod.MaxPool2d(2)),
            nn_mod.Flatten(),
            nn_mod.Linear(4 * 3 * 3, 5),
            nn_mod.ModuleList([nn_mod.Linear(5, 5), nn_mod.Linear(5, 5), nn_mod.Tanh()]),
            Extra(), One(), nn_mod.Identity())
        return net
    return build(nn), build(torch.nn)


def test_repr_matches_torch():
    torch = _torch()
    ours, theirs = _models(torch)
    assert repr(ours) == repr(theirs)
    assert repr(nn.ModuleList([])) == repr(torch.nn.ModuleList([]))
    b, tb = _block(nn), _block(torch.nn)
    assert repr(b) == repr(tb)
    m = nn.Sequential()
    m.add_module("none", None)
    tm = torch.nn.Sequential()
    tm.add_module("none", None)
    assert repr(m) == repr(tm)


def test_state_dict_keys_match_torch():
    torch = _torch()
    b, tb = _block(nn), _block(torch.nn)
    assert list(b.state_dict()) == list(tb.state_dict())
    assert [n for n, _ in b.named_parameters()] == [n for n, _ in tb.named_parameters()]
    assert [n for n, _ in b.named_buffers()] == [n for n, _ in tb.named_buffers()]
    assert [n for n, _ in b.named_modules()] == [n for n, _ in tb.named_modules()]
    assert [n for n, _ in b.named_children()] == [n for n, _ in tb.named_children()]
    assert [n for n, _ in b.named_parameters(prefix="m", recurse=False)] == \
        [n for n, _ in tb.named_parameters(prefix="m", recurse=False)]
    bn, tbn = nn.Sequential(nn.BatchNorm2d(3)), torch.nn.Sequential(torch.nn.BatchNorm2d(3))
    assert list(bn.state_dict()) == list(tbn.state_dict())
    sd = b.state_dict()
    assert type(sd).__name__ == "OrderedDict"
    assert sd["conv.weight"]._array is b.conv.weight._array      # shares memory
    assert not sd["conv.weight"].requires_grad
    assert b.state_dict(keep_vars=True)["conv.weight"] is b.conv.weight
    assert list(b.state_dict(prefix="p.")) == ["p." + k for k in sd]


def test_shared_modules_and_duplicates_match_torch():
    torch = _torch()

    def build(nn_mod):
        lin = nn_mod.Linear(2, 2)
        return nn_mod.Sequential(lin, nn_mod.ReLU(), lin)
    m, tm = build(nn), build(torch.nn)
    assert list(m.state_dict()) == list(tm.state_dict())
    assert [n for n, _ in m.named_parameters()] == [n for n, _ in tm.named_parameters()]
    assert [n for n, _ in m.named_parameters(remove_duplicate=False)] == \
        [n for n, _ in tm.named_parameters(remove_duplicate=False)]
    assert [n for n, _ in m.named_modules(remove_duplicate=False)] == \
        [n for n, _ in tm.named_modules(remove_duplicate=False)]


@pytest.mark.parametrize("change", ["missing", "unexpected", "both", "shape", "shape+missing"])
def test_load_state_dict_errors_match_torch(change):
    torch = _torch()
    b, tb = _block(nn), _block(torch.nn)
    sd = {k: v.detach().clone() for k, v in tb.state_dict().items()}
    if "missing" in change or change == "both":
        del sd["heads.0.bias"]
    if change in ("unexpected", "both"):
        sd["extra.weight"] = torch.zeros(1)
    if "shape" in change:
        sd["conv.weight"] = torch.zeros(8, 3, 2, 2)
    with pytest.raises(RuntimeError) as theirs:
        tb.load_state_dict(sd)
    before = b.conv.weight.detach().numpy().copy()
    with pytest.raises(RuntimeError) as ours:
        b.load_state_dict(sd)
    assert str(ours.value) == str(theirs.value)
    np.testing.assert_array_equal(b.conv.weight.detach().numpy(), before)   # unchanged
    if "shape" not in change:
        r, tr = b.load_state_dict(sd, strict=False), tb.load_state_dict(sd, strict=False)
        assert r.missing_keys == tr.missing_keys and r.unexpected_keys == tr.unexpected_keys
        assert tuple(r) == tuple(tr)


def test_load_state_dict_values_and_assign():
    torch = _torch()
    b, tb = _block(nn), _block(torch.nn)
    res = b.load_state_dict(tb.state_dict())
    assert repr(res) == repr(tb.load_state_dict(tb.state_dict())) == \
        "<All keys matched successfully>"
    np.testing.assert_array_equal(b.conv.weight.detach().numpy(),
                                  tb.conv.weight.detach().numpy())
    w = b.conv.weight
    b.load_state_dict({k: v.numpy() for k, v in _block(nn).state_dict().items()})
    assert b.conv.weight is w                       # copied in place
    new = {k: v.numpy().copy() for k, v in _block(nn).state_dict().items()}
    b.load_state_dict(new, assign=True)
    assert b.conv.weight is not w and isinstance(b.conv.weight, nn.Parameter)
    assert b.conv.weight._array is new["conv.weight"] and b.conv.weight.requires_grad
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like"):
        b.load_state_dict([1, 2])


def test_forward_hooks_match_torch():
    torch = _torch()

    def run(nn_mod, lib):
        log = []
        m = nn_mod.Sequential(nn_mod.Linear(3, 4), nn_mod.ReLU(), nn_mod.Linear(4, 2)).double()
        m[0].register_forward_pre_hook(lambda mod, args: (log.append("pre0"), (args[0] * 2,))[1])
        m[0].register_forward_pre_hook(lambda mod, args: log.append("pre0-first"), prepend=True)
        h = m[2].register_forward_hook(lambda mod, args, out: (log.append("fwd2"), out + 1)[1])
        m[2].register_forward_hook(lambda mod, args, kwargs, out: log.append(("kw", kwargs)),
                                   with_kwargs=True)
        m.register_forward_hook(lambda mod, args, out: log.append("fwd-seq"))
        m.register_forward_pre_hook(lambda mod, args, kwargs: (log.append("pre-seq"),
                                                               (args, kwargs))[1],
                                    with_kwargs=True)
        return m, log, h
    m, log, h = run(nn, fastnn)
    tm, tlog, th = run(torch.nn, torch)
    m.load_state_dict(tm.state_dict())
    x = np.random.default_rng(0).normal(size=(5, 3))
    y = m(fastnn.tensor(x))
    ty = tm(torch.from_numpy(x))
    assert log == tlog == ["pre-seq", "pre0-first", "pre0", "fwd2", ("kw", {}), "fwd-seq"]
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12)
    h.remove()
    th.remove()
    np.testing.assert_allclose(m(fastnn.tensor(x)).detach().numpy(),
                               tm(torch.from_numpy(x)).detach().numpy(), rtol=1e-12)
    assert log[-5:] == tlog[-5:]


def test_forward_hook_always_call():
    torch = _torch()
    for nn_mod in (nn, torch.nn):
        class Boom(nn_mod.Module):
            def forward(self, x):
                raise ValueError("boom")
        log = []
        m = Boom()
        m.register_forward_hook(lambda mod, args, out: log.append(("always", out)),
                                always_call=True)
        m.register_forward_hook(lambda mod, args, out: log.append("never"))
        with pytest.raises(ValueError, match="boom"):
            m(1)
        assert log == [("always", None)]


def test_handle_is_a_context_manager_and_hooks_can_be_removed():
    m = nn.Linear(2, 2)
    log = []
    with m.register_forward_hook(lambda *a: log.append(1)):
        m(fastnn.zeros(1, 2))
    m(fastnn.zeros(1, 2))
    assert log == [1] and not m._call_hooks


def _grads(torch, lib, nn_mod, x_np, hooks):
    """Runs y = sum(m(x) * w) with backward hooks; returns the hook log and x's grad."""
    log = []
    m = nn_mod.Sequential(nn_mod.Linear(3, 4), nn_mod.Tanh(), nn_mod.Linear(4, 2)).double()
    for i in (0, 2):
        if "full" in hooks:
            m[i].register_full_backward_hook(
                lambda mod, gi, go, i=i: log.append((f"full{i}", _np(gi), _np(go))))
        if "pre" in hooks:
            m[i].register_full_backward_pre_hook(
                lambda mod, go, i=i: (log.append((f"pre{i}", _np(go))),
                                      tuple(g * 2 for g in go))[1])
    if "zero" in hooks:
        m[0].register_full_backward_hook(lambda mod, gi, go: tuple(g * 0 for g in gi))
    x = (fastnn.tensor(x_np, requires_grad=True) if lib is fastnn
         else torch.tensor(x_np, requires_grad=True))
    w = np.linspace(-1, 1, 2 * x_np.shape[0]).reshape(-1, 2)
    wt = fastnn.tensor(w) if lib is fastnn else torch.from_numpy(w)
    return m, log, x, wt


def _np(gs):
    return tuple(None if g is None else np.asarray(g.detach().numpy()) for g in gs)


@pytest.mark.parametrize("hooks", ["full", "pre", "full+pre", "zero"])
def test_full_backward_hooks_match_torch(hooks):
    torch = _torch()
    x_np = np.random.default_rng(1).normal(size=(5, 3))
    m, log, x, w = _grads(torch, fastnn, nn, x_np, hooks)
    tm, tlog, tx, tw = _grads(torch, torch, torch.nn, x_np, hooks)
    m.load_state_dict(tm.state_dict())
    (m(x) * w).sum().backward()
    (tm(tx) * tw).sum().backward()
    assert [e[0] for e in log] == [e[0] for e in tlog]
    for ours, theirs in zip(log, tlog):
        for a, b in zip(ours[1:], theirs[1:]):
            assert len(a) == len(b)
            for u, v in zip(a, b):
                assert (u is None) == (v is None)
                if u is not None:
                    np.testing.assert_allclose(u, v, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.asarray(x.grad), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.asarray(m[0].weight.grad), tm[0].weight.grad.numpy(),
                               rtol=1e-10, atol=1e-12)


def test_full_backward_hook_several_inputs_outputs_and_no_grad_input():
    torch = _torch()

    def build(nn_mod):
        class Two(nn_mod.Module):
            def forward(self, a, scale, b):
                return a * b * scale, a + b
        return Two()
    out = {}
    for lib, nn_mod in ((fastnn, nn), (torch, torch.nn)):
        log = []
        m = build(nn_mod)
        m.register_full_backward_hook(lambda mod, gi, go: log.append((_np(gi), _np(go))))
        rng = np.random.default_rng(2)
        a_np, b_np = rng.normal(size=3), rng.normal(size=3)
        mk = (lambda v, g: fastnn.tensor(v, requires_grad=g)) if lib is fastnn else \
            (lambda v, g: torch.tensor(v, requires_grad=g))
        a, b = mk(a_np, True), mk(b_np, False)
        p, s = m(a, 3.0, b)
        (p * 2 + s * s).sum().backward()
        c, d = mk(a_np, False), mk(b_np, False)
        with_no = m(c, 1.0, d)     # no input requires grad: the hooks are not reached
        assert not with_no[0].requires_grad
        out[lib is fastnn] = log
    ours, theirs = out[True], out[False]
    assert len(ours) == len(theirs) == 1
    (gi, go), (tgi, tgo) = ours[0], theirs[0]
    assert len(gi) == len(tgi) == 3 and gi[1] is None and tgi[1] is None
    np.testing.assert_array_equal(gi[2], tgi[2])       # zeros: b does not require grad
    np.testing.assert_allclose(gi[0], tgi[0], rtol=1e-12)
    for u, v in zip(go, tgo):
        np.testing.assert_allclose(u, v, rtol=1e-12)


@pytest.mark.filterwarnings("ignore:Full backward hook is firing")
def test_full_backward_hook_when_no_input_requires_grad():
    torch = _torch()
    logs = []
    for lib, nn_mod in ((fastnn, nn), (torch, torch.nn)):
        log = []
        m = nn_mod.Linear(3, 2).double()
        m.register_full_backward_hook(lambda mod, gi, go: log.append((gi, _np(go))))
        x = np.ones((2, 3))
        xt = fastnn.tensor(x) if lib is fastnn else torch.from_numpy(x)
        m(xt).sum().backward()
        logs.append(log)
    assert logs[0][0][0] == logs[1][0][0] == (None,)
    np.testing.assert_allclose(logs[0][0][1][0], logs[1][0][1][0])


def test_hooks_disable_sequential_fusion_and_see_every_layer():
    seq = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
    seen = []
    seq[1].register_forward_hook(lambda mod, args, out: seen.append(out.shape))
    y = seq(fastnn.randn(2, 3, 6, 6))
    assert seen == [(2, 4, 4, 4)] and "Conv2dReLU" not in repr(y.grad_fn)


def test_traversal_apply_requires_grad_zero_grad():
    b = _block(nn)
    names = []
    b.apply(lambda m: names.append(type(m).__name__))
    assert names[-1] == "Block" and names[0] == "Conv2d"
    assert b.requires_grad_(False) is b and not any(p.requires_grad for p in b.parameters())
    b.requires_grad_()
    b.heads[0](fastnn.randn(2, 4)).sum().backward()
    b.zero_grad(set_to_none=False)
    assert float(np.abs(np.asarray(b.heads[0].weight.grad)).sum()) == 0
    b.zero_grad()
    assert b.heads[0].weight.grad is None
    assert len(list(b.parameters(recurse=False))) == 0
    assert len(list(b.buffers())) == 2 and len(list(b.buffers(recurse=False))) == 2


def test_train_calls_childrens_train():
    class Frozen(nn.BatchNorm1d):
        def train(self, mode=True):
            return super().train(False)
    m = nn.Sequential(nn.Linear(2, 2), Frozen(2))
    m.train()
    assert m.training and m[0].training and not m[1].training
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        m.train(1)


def test_to_float_double_half_keep_parameter_identity():
    m = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    w = m[0].weight
    m(fastnn.randn(4, 2)).sum().backward()
    assert m.double() is m and m[0].weight is w and w.dtype == np.float64
    assert w.grad is not None and np.asarray(w.grad).dtype == np.float64
    assert m[1].running_mean.dtype == np.float64
    assert m[1].num_batches_tracked.dtype == np.int64      # only floating buffers move
    m.to(fastnn.float32)
    assert w.dtype == np.float32 and m[0].weight is w
    m.to("cpu", dtype=fastnn.float64)
    assert w.dtype == np.float64
    m.to(fastnn.zeros(1))
    assert w.dtype == np.float32
    assert m.to("cpu") is m and m.cpu() is m and m.float() is m
    with pytest.raises(NotImplementedError, match="no float16"):
        m.half()
    with pytest.raises(TypeError, match="only accepts floating point"):
        m.to(fastnn.int64)
    with pytest.raises(RuntimeError, match="CPU only"):
        m.to("cuda")
    with pytest.raises(RuntimeError, match="CPU only"):
        m.cuda()


def test_get_submodule_parameter_buffer_errors_match_torch():
    torch = _torch()
    b, tb = _block(nn), _block(torch.nn)
    assert b.get_submodule("heads.1") is b.heads[1]
    assert b.get_parameter("heads.1.weight") is b.heads[1].weight
    assert b.get_buffer("steps") is b.steps
    for call in ("get_submodule('nope')", "get_submodule('heads.9')",
                 "get_parameter('heads.0.nope')", "get_parameter('steps')",
                 "get_buffer('conv.weight')"):
        with pytest.raises(AttributeError) as theirs:
            eval("tb." + call)
        with pytest.raises(AttributeError) as ours:
            eval("b." + call)
        assert str(ours.value) == str(theirs.value), call


def test_register_checks_match_torch():
    torch = _torch()
    for call, exc in (("register_buffer('a.b', None)", KeyError),
                      ("register_buffer('', None)", KeyError),
                      ("register_buffer(1, None)", TypeError),
                      ("register_buffer('conv', None)", KeyError),
                      ("register_parameter('x.y', None)", KeyError),
                      ("add_module('a.b', None)", KeyError)):
        with pytest.raises(exc) as theirs:
            eval("_block(torch.nn)." + call)  # noqa: S307
        with pytest.raises(exc) as ours:
            eval("_block(nn)." + call)
        assert str(ours.value) == str(theirs.value), call
    b = _block(nn)
    b.register_buffer("tmp", fastnn.ones(1), persistent=False)
    assert "tmp" not in b.state_dict() and "tmp" in dict(b.named_buffers())
    b.register_buffer("tmp", fastnn.ones(1))
    assert "tmp" in b.state_dict()
    with pytest.raises(TypeError, match="cannot assign 'list' object to buffer"):
        b.register_buffer("bad", [1, 2])
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        nn.Module()(1)


def _signature_mismatches(tns, fns, classes):
    """Names of tns (a torch namespace) also in fns whose signature (a class's
    constructor) differs: positional order, a missing argument name, or a
    different plain default."""
    import inspect
    bad = []
    for name in sorted(dir(tns)):
        t, f = getattr(tns, name), getattr(fns, name, None)
        if name.startswith("_") or f is None or inspect.isclass(t) != classes or \
                not callable(t):
            continue
        try:
            pt = inspect.signature(t.__init__ if classes else t).parameters
            pf = inspect.signature(f.__init__ if classes else f).parameters
        except (TypeError, ValueError):
            continue
        if any(p.kind == p.VAR_POSITIONAL for p in list(pf.values()) + list(pt.values())):
            continue
        pos = [[n for n, p in ps.items() if n != "self" and p.kind == p.POSITIONAL_OR_KEYWORD
                and not n.startswith("_")] for ps in (pt, pf)]
        if pos[1][:len(pos[0])] != pos[0]:
            bad.append(f"{name}: positional {pos[0]} vs {pos[1]}")
        for n, p in pt.items():
            if n == "self" or n.startswith("_") or p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
                continue
            q = pf.get(n)
            if q is None:
                if not any(r.kind == r.VAR_KEYWORD for r in pf.values()):
                    bad.append(f"{name}: no argument {n}")
            elif isinstance(p.default, (bool, int, float, str, type(None))) and \
                    p.default != q.default:
                bad.append(f"{name}: {n}={q.default!r}, PyTorch's default {p.default!r}")
    return bad


def test_constructor_signatures_match_torch():
    # Every layer, optimiser and schedule both libraries have takes PyTorch's
    # constructor arguments in PyTorch's order, under PyTorch's names
    # (programs pass device and dtype positionally to Linear, for example),
    # with PyTorch's defaults; the functional forms likewise.
    torch = _torch()
    bad = []
    for tns, fns, classes in ((torch.nn, nn, True), (torch.optim, fastnn.optim, True),
                              (torch.optim.lr_scheduler, fastnn.optim.lr_scheduler, True),
                              (torch.nn.functional, nn.functional, False),
                              (torch.nn.init, nn.init, False)):
        bad += _signature_mismatches(tns, fns, classes)
    assert not bad, "\n".join(bad)


def test_global_module_hooks_match_torch():
    """register_module_forward_pre_hook / _forward_hook / _full_backward_hook(s)
    run for every module, before the module's own hooks, in torch's order."""
    torch = _torch()
    logs, grads = [], []
    for nn_mod in (nn, torch.nn):
        M = nn_mod.modules.module
        log = []
        m = nn_mod.Sequential(nn_mod.Linear(3, 4), nn_mod.Tanh(), nn_mod.Linear(4, 2)).double()
        m[0].register_forward_hook(lambda mod, a, o: log.append("own-fwd0"))
        m[2].register_forward_pre_hook(lambda mod, a: (log.append("own-pre2"), (a[0] * 2,))[1])
        hs = [M.register_module_forward_pre_hook(
                  lambda mod, a: log.append(("pre", type(mod).__name__))),
              M.register_module_forward_hook(
                  lambda mod, a, o: (log.append(("fwd", type(mod).__name__)),
                                     o * 2 if isinstance(mod, nn_mod.Tanh) else None)[1]),
              M.register_module_forward_hook(
                  lambda mod, a, kw, o: log.append(("kw", kw)), with_kwargs=True),
              M.register_module_full_backward_hook(
                  lambda mod, gi, go: log.append(("bw", type(mod).__name__))),
              M.register_module_full_backward_pre_hook(
                  lambda mod, go: log.append(("bwpre", type(mod).__name__)))]
        try:
            for p in m.parameters():
                with (fastnn if nn_mod is nn else torch).no_grad():
                    p.copy_(p.new_tensor(np.linspace(-1, 1, p.numel()).reshape(p.shape)))
            x = np.linspace(-1, 1, 6).reshape(2, 3)
            xt = (fastnn if nn_mod is nn else torch).tensor(x, requires_grad=True)
            m(xt).sum().backward()
            grads.append(xt.grad.numpy().copy())
        finally:
            for h in hs:
                h.remove()
        m(xt)                                   # removed: only the modules' own hooks
        logs.append(log)
    assert logs[0] == logs[1]
    assert logs[0][0] == ("pre", "Sequential") and logs[0][-2:] == ["own-fwd0", "own-pre2"]
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)
    assert not nn.Module._call_hooks and not nn.Linear(2, 2)._call_hooks


def test_global_hooks_leave_the_call_path_alone_when_none_is_registered():
    m = nn.Linear(2, 2)
    h = nn.modules.module.register_module_forward_hook(lambda *a: None)
    assert m._call_hooks and "_call_hooks" not in m.__dict__
    h.remove()
    assert not m._call_hooks
    with m.register_forward_hook(lambda *a: None):
        pass
    assert "_call_hooks" not in m.__dict__ and not m._call_hooks


def test_global_hooks_see_the_layers_sequential_fuses():
    """Conv2d + ReLU in a Sequential run fused (and under no_grad as an
    inference program) unless hooks are set: a global hook counts too."""
    seen = []
    h = nn.modules.module.register_module_forward_hook(
        lambda m, i, o: seen.append(type(m).__name__))
    try:
        s = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2))
        x = fastnn.ones(1, 1, 6, 6)
        s(x)
        with fastnn.no_grad():
            s(x)
    finally:
        h.remove()
    assert seen == ["Conv2d", "ReLU", "MaxPool2d", "Sequential"] * 2
    seen.clear()
    s(x)
    assert seen == []
