"""Optimizer state_dict / load_state_dict: torch's layout, and a run resumed
from a mid-run checkpoint continues bit for bit."""
import copy

import numpy as np
import pytest

import fastnn

CASES = [("SGD", dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01)),
         ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
         ("SGD", dict(lr=0.1)),
         ("Adagrad", dict(lr=0.1, lr_decay=0.01)),
         ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True)),
         ("Adam", dict(lr=0.01, weight_decay=0.01)),
         ("AdamW", dict(lr=0.01))]


def _setup(dtype, name, kw):
    rng = np.random.default_rng(11)
    x = fastnn.tensor(rng.standard_normal((12, 3)).astype(dtype))
    y = fastnn.tensor(rng.standard_normal((12, 1)).astype(dtype))
    l1 = fastnn.nn.Linear(3, 5)
    l2 = fastnn.nn.Linear(5, 1)
    ps = [l1.weight, l1.bias, l2.weight, l2.bias]
    for p in ps:
        p.data = (rng.standard_normal(p.shape) * 0.5).astype(dtype)
    opt = getattr(fastnn.optim, name)(ps, **kw)

    def step():
        opt.zero_grad()
        loss = ((l2(fastnn.tanh(l1(x))) - y) ** 2).mean()
        loss.backward()
        opt.step()
    return ps, opt, step


def _as_plain(sd):
    """A checkpoint as a file would hold it: nested dicts/lists of numbers and arrays."""
    def conv(v):
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [conv(x) for x in v]
        if isinstance(v, np.ndarray):
            return np.array(v)
        if isinstance(v, fastnn.Tensor):     # (state_dict() holds the live Tensors)
            return v.detach().numpy().copy()
        return v
    return conv(sd)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,kw", CASES, ids=[c[0] + str(i) for i, c in enumerate(CASES)])
def test_resume_is_bit_exact(name, kw, dtype):
    ps, opt, step = _setup(dtype, name, kw)
    for _ in range(7):
        step()
    ckpt_params = [p.detach().numpy().copy() for p in ps]
    ckpt = _as_plain(opt.state_dict())
    for _ in range(8):
        step()
    want = [p.detach().numpy().copy() for p in ps]

    ps2, opt2, step2 = _setup(dtype, name, kw)
    for p, a in zip(ps2, ckpt_params):
        p.data[...] = a
    opt2.load_state_dict(ckpt)
    for _ in range(8):
        step2()
    for a, b in zip(want, ps2):
        np.testing.assert_array_equal(a, b.detach().numpy())
        assert b.detach().numpy().dtype == dtype


def test_state_dict_layout_is_torchs():
    a = fastnn.nn.Parameter(np.ones((2, 3)))
    b = fastnn.nn.Parameter(np.ones(3))
    c = fastnn.nn.Parameter(np.ones(1))
    opt = fastnn.optim.Adam([{"params": [a, b]}, {"params": [c], "lr": 0.5}], lr=0.1)
    ((a * a).sum() + (c * c).sum()).backward()
    opt.step()
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert sd["param_groups"][1]["lr"] == 0.5 and sd["param_groups"][0]["betas"] == (0.9, 0.999)
    assert set(sd["state"]) == {0, 2}              # b had no gradient: no state
    assert set(sd["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}
    assert sd["state"][0]["step"] == 1
    # as torch.optim's, the state dict holds the live state (by reference):
    # training on shows through; a deep copy is the snapshot
    assert sd["state"][0] is opt.state[a]
    snap = copy.deepcopy(sd)
    saved = sd["state"][0]["exp_avg"].clone()
    ((a * a).sum() + (c * c).sum()).backward()
    opt.step()
    assert not np.array_equal(sd["state"][0]["exp_avg"].numpy(), saved.numpy())
    np.testing.assert_array_equal(snap["state"][0]["exp_avg"].numpy(), saved.numpy())


def test_state_dict_matches_torch_layout_and_values():
    torch = fastnn.testing.requires_torch()
    rng = np.random.default_rng(0)
    w0, g0 = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    for name, kw in [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.1)),
                     ("RMSprop", dict(lr=0.1, momentum=0.5, centered=True)),
                     ("Adagrad", dict(lr=0.1))]:
        w = fastnn.nn.Parameter(w0.copy())
        tw = torch.nn.Parameter(torch.from_numpy(w0.copy()))
        opt = getattr(fastnn.optim, name)([w], **kw)
        topt = getattr(torch.optim, name)([tw], **kw)
        for _ in range(3):
            w.grad = g0.copy()
            tw.grad = torch.from_numpy(g0.copy())
            opt.step()
            topt.step()
        sd, tsd = opt.state_dict(), topt.state_dict()
        assert set(sd["state"][0]) == set(tsd["state"][0]), name
        for k, v in tsd["state"][0].items():
            np.testing.assert_allclose(np.asarray(sd["state"][0][k]), v.numpy(), rtol=1e-12)
        for k in sd["param_groups"][0]:
            assert k in tsd["param_groups"][0], (name, k)
        # a torch checkpoint loads into fastnn and continues the same way
        w2 = fastnn.nn.Parameter(w.detach().numpy().copy())
        opt2 = getattr(fastnn.optim, name)([w2], **kw)
        opt2.load_state_dict(tsd)
        w.grad = g0.copy()
        w2.grad = g0.copy()
        opt.step()
        opt2.step()
        np.testing.assert_array_equal(w.detach().numpy(), w2.detach().numpy())


def test_load_state_dict_checks_sizes_and_copies():
    a = fastnn.nn.Parameter(np.ones(2))
    b = fastnn.nn.Parameter(np.ones(2))
    opt = fastnn.optim.SGD([a], lr=0.1, momentum=0.9)
    (a * a).sum().backward()
    opt.step()
    sd = opt.state_dict()
    other = fastnn.optim.SGD([a, b], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="size"):
        other.load_state_dict(sd)
    two = fastnn.optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1)
    with pytest.raises(ValueError, match="number of parameter groups"):
        two.load_state_dict(sd)
    fresh = fastnn.optim.SGD([b], lr=0.5, momentum=0.9)
    fresh.load_state_dict(copy.deepcopy(sd))
    assert fresh.param_groups[0]["lr"] == 0.1 and fresh.param_groups[0]["params"][0] is b
    buf = fresh.state[b]["momentum_buffer"]
    assert not np.shares_memory(buf.numpy(), sd["state"][0]["momentum_buffer"].numpy())
    # float64 state loaded into a float32 parameter is cast
    c = fastnn.nn.Parameter(np.ones(2, np.float32))
    f32 = fastnn.optim.SGD([c], lr=0.1, momentum=0.9)
    f32.load_state_dict(sd)
    assert f32.state[c]["momentum_buffer"].dtype == np.float32


def test_checkpoint_through_fastnn_save(tmp_path):
    """Optimizer and scheduler state survive fastnn.save / fastnn.load (when the
    serialization module is present) and the resumed run is bit-exact."""
    ser = pytest.importorskip("fastnn.serialization")
    ps, opt, step = _setup(np.float32, "Adam", dict(lr=0.01))
    sched = fastnn.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.5)
    for i in range(4):
        step()
        sched.step(1.0)
    path = str(tmp_path / "ckpt")
    ser.save({"params": [p.detach().numpy() for p in ps], "opt": opt.state_dict(),
              "sched": sched.state_dict()}, path)
    for _ in range(3):
        step()
        sched.step(1.0)
    want = [p.detach().numpy().copy() for p in ps]
    ck = ser.load(path)
    ps2, opt2, step2 = _setup(np.float32, "Adam", dict(lr=0.01))
    for p, a in zip(ps2, ck["params"]):
        p.data[...] = a
    opt2.load_state_dict(ck["opt"])
    sched2 = fastnn.optim.lr_scheduler.ReduceLROnPlateau(opt2, patience=0, factor=0.5)
    sched2.load_state_dict(ck["sched"])
    for _ in range(3):
        step2()
        sched2.step(1.0)
    for a, p in zip(want, ps2):
        np.testing.assert_array_equal(a, p.detach().numpy())
    assert sched2.get_last_lr() == sched.get_last_lr()


ALL_RULES = [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(amsgrad=True)), ("AdamW", {}),
             ("RMSprop", dict(momentum=0.9, centered=True)), ("Adagrad", {}), ("Adadelta", {}),
             ("Adamax", {}), ("NAdam", {}), ("RAdam", {}), ("ASGD", {}), ("Rprop", {}),
             ("Adafactor", {}), ("LBFGS", {})]


def _two_steps(lib, name, kw):
    w = lib.nn.Parameter(lib.ones(2, 3))
    b = lib.nn.Parameter(lib.ones(3))
    opt = getattr(lib.optim, name)([w, b], **kw)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum() + (b * b * 2).sum()
        loss.backward()
        return loss
    opt.step(closure)
    opt.step(closure)
    return w, opt


def _kinds(lib, st):
    """Each state entry as (type, shape, dtype) -- lists entry by entry."""
    def kind(v):
        if isinstance(v, lib.Tensor):
            return ("Tensor", tuple(v.shape), str(v.dtype).split(".")[-1])
        if isinstance(v, list):
            return ("list", len(v), kind(v[0]) if v else None)
        return (type(v).__name__,)
    return {k: kind(v) for k, v in st.items()}


@pytest.mark.parametrize("name,kw", ALL_RULES, ids=[c[0] for c in ALL_RULES])
def test_state_holds_tensors_as_torch(name, kw):
    """opt.state and state_dict()['state'] hold Tensors of torch's dtypes and
    shapes ('step' a 0-d float32 Tensor) wherever torch.optim's do."""
    torch = fastnn.testing.requires_torch()
    w, opt = _two_steps(fastnn, name, kw)
    tw, topt = _two_steps(torch, name, kw)
    got, want = _kinds(fastnn, opt.state[w]), _kinds(torch, topt.state[tw])
    assert got == want        # (LBFGS's t: the Python number torch's arithmetic gives)
    sd = opt.state_dict()["state"][0]
    assert _kinds(fastnn, sd) == _kinds(fastnn, opt.state[w])
    rtol = 1e-4 if name == "LBFGS" else 1e-6      # (torch's LBFGS scalars are float32 sums)
    tsd = topt.state_dict()["state"][0]
    for k, v in opt.state[w].items():     # the values are torch's (the same objects in the dict)
        tv = topt.state[tw][k]
        assert (sd[k] is v) == (tsd[k] is tv)
        if isinstance(v, fastnn.Tensor):
            np.testing.assert_allclose(v.numpy(), tv.numpy(), rtol=rtol, atol=1e-7)


@pytest.mark.parametrize("name,kw", [c for c in ALL_RULES if c[0] not in ("LBFGS", "SGD")],
                         ids=[c[0] for c in ALL_RULES if c[0] not in ("LBFGS", "SGD")])
def test_state_tensors_share_the_updated_buffers(name, kw):
    """The state Tensors are the arrays the steps update in place: a
    reference taken earlier sees later steps."""
    w, opt = _two_steps(fastnn, name, kw)
    st = opt.state[w]
    held = dict(st)
    before = {k: v.numpy().copy() for k, v in held.items()}
    w.grad = fastnn.ones(2, 3)
    opt.step(lambda: 0.0)
    assert all(st[k] is held[k] for k in held)
    assert held["step"].item() == 3.0 and held["step"].dtype == fastnn.float32
    assert any(not np.array_equal(before[k], v.numpy()) for k, v in held.items()
               if k != "step")


def test_sgd_momentum_buffer_is_a_tensor_updated_in_place():
    torch = fastnn.testing.requires_torch()
    w, opt = _two_steps(fastnn, "SGD", dict(lr=0.1, momentum=0.9))
    tw, topt = _two_steps(torch, "SGD", dict(lr=0.1, momentum=0.9))
    buf = opt.state[w]["momentum_buffer"]
    assert isinstance(buf, fastnn.Tensor)
    np.testing.assert_allclose(buf.numpy(), topt.state[tw]["momentum_buffer"].numpy(),
                               rtol=1e-6)
    held = buf.numpy().copy()
    w.grad = fastnn.ones(2, 3)
    opt.step()
    assert opt.state[w]["momentum_buffer"] is buf
    np.testing.assert_allclose(buf.numpy(), 0.9 * held + 1.0, rtol=1e-6)


@pytest.mark.parametrize("name,kw", ALL_RULES, ids=[c[0] for c in ALL_RULES])
def test_state_dict_round_trips_save_load_and_old_ndarray_form(tmp_path, name, kw):
    """A state_dict goes through fastnn.save / fastnn.load with its Tensors, and
    a checkpoint of the older form (ndarrays, 'step' a float) still loads;
    both resume the run exactly."""
    w, opt = _two_steps(fastnn, name, kw)
    sd = opt.state_dict()
    path = str(tmp_path / "opt.fnn")
    fastnn.save(sd, path)
    back = fastnn.load(path)
    assert _kinds(fastnn, back["state"][0]) == _kinds(fastnn, sd["state"][0])

    def old(v):
        if isinstance(v, fastnn.Tensor):
            return float(v) if v.ndim == 0 else v.numpy().copy()
        return [old(x) for x in v] if isinstance(v, list) else v
    old_sd = {"state": {i: {k: old(v) for k, v in s.items()} for i, s in sd["state"].items()},
              "param_groups": copy.deepcopy(sd["param_groups"])}
    results = []
    for ck in (sd, back, old_sd):
        w2, opt2 = _two_steps(fastnn, name, kw)
        opt2.load_state_dict(ck)
        assert _kinds(fastnn, opt2.state[w2]) == _kinds(fastnn, opt.state[w])
        w2.data = w.detach().numpy().copy()
        for p2, p in zip(opt2.param_groups[0]["params"], opt.param_groups[0]["params"]):
            p2.data = p.detach().numpy().copy()

        def closure():
            opt2.zero_grad()
            loss = (w2 * w2).sum() + (opt2.param_groups[0]["params"][1] ** 2 * 2).sum()
            loss.backward()
            return loss
        opt2.step(closure)
        results.append(w2.detach().numpy().copy())
    np.testing.assert_array_equal(results[0], results[1])
    np.testing.assert_array_equal(results[0], results[2])


def test_named_parameters_and_duplicates_as_torch():
    torch = fastnn.testing.requires_torch()
    m, tm = fastnn.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    opt = fastnn.optim.Adam(m.named_parameters(), lr=0.1)
    topt = torch.optim.Adam(tm.named_parameters(), lr=0.1)
    g = opt.param_groups[0]
    assert g["param_names"] == topt.param_groups[0]["param_names"] == ["weight", "bias"]
    assert g["params"][0] is m.weight and g["params"][1] is m.bias
    sd = opt.state_dict()
    assert sd["param_groups"][0]["param_names"] == ["weight", "bias"]
    assert sd["param_groups"][0]["params"] == [0, 1]
    # groups of (name, param) pairs, and the mix rules
    opt = fastnn.optim.SGD([{"params": [("w", m.weight)]}, {"params": [("b", m.bias)],
                                                           "lr": 0.5}], lr=0.1)
    assert [g["param_names"] for g in opt.param_groups] == [["w"], ["b"]]
    with pytest.raises(ValueError, match="Some param names are missing"):
        fastnn.optim.SGD([("w", m.weight), m.bias], lr=0.1)
    with pytest.raises(ValueError, match="with/without names"):
        fastnn.optim.SGD([{"params": [("w", m.weight)]}, {"params": [m.bias]}], lr=0.1)
    # a parameter listed twice in a group: torch's warning, and each listing is one update
    with pytest.warns(UserWarning, match="duplicate parameters"):
        fastnn.optim.SGD([m.weight, m.bias, m.weight], lr=0.1)
    with pytest.warns(UserWarning, match="duplicate parameters"):
        torch.optim.SGD([tm.weight, tm.bias, tm.weight], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        fastnn.optim.SGD([{"params": [m.weight]}, {"params": [m.weight]}], lr=0.1)


@pytest.mark.parametrize("name,kw", [("SGD", dict(lr=0.1)), ("SGD", dict(lr=0.1, momentum=0.9)),
                                     ("Adam", dict(lr=0.1)), ("RMSprop", dict(lr=0.1)),
                                     ("Rprop", dict(lr=0.1))])
def test_duplicate_parameters_update_like_torch(name, kw):
    torch = fastnn.testing.requires_torch()
    import warnings
    res = []
    for lib in (fastnn, torch):
        w = lib.nn.Parameter(lib.tensor([1.0, -2.0, 3.0]))
        b = lib.nn.Parameter(lib.tensor([0.5]))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            opt = getattr(lib.optim, name)([w, b, w], **kw)
        for _ in range(3):
            opt.zero_grad()
            ((w * w).sum() + (b * w[0]).sum()).backward()
            opt.step()
        res.append((w.detach().numpy().copy(), b.detach().numpy().copy()))
    for a, t in zip(*res):
        np.testing.assert_allclose(a, t, rtol=1e-6)


def test_optimizer_state_dict_hooks_as_torch():
    """``register_state_dict_pre_hook`` / ``_post_hook`` and the
    ``load_state_dict`` pre/post hooks run in PyTorch's order (``prepend``
    puts one first), a post hook's dict replaces the state_dict, a load pre
    hook's dict is loaded instead, and the handles remove them."""
    torch = pytest.importorskip("torch")
    seen = {}
    for lib in (torch, fastnn):
        p = lib.nn.Parameter(lib.ones(2))
        opt = lib.optim.Adam([p], lr=0.1)
        calls = []
        hs = [opt.register_state_dict_pre_hook(lambda o: calls.append("pre")),
              opt.register_state_dict_pre_hook(lambda o: calls.append("pre0"), prepend=True),
              opt.register_state_dict_post_hook(
                  lambda o, sd: calls.append("post") or {**sd, "extra": 1})]
        sd = opt.state_dict()
        hs.append(opt.register_load_state_dict_pre_hook(
            lambda o, sd: calls.append(("lpre", sorted(sd))) or
            {k: v for k, v in sd.items() if k != "extra"}))
        hs.append(opt.register_load_state_dict_post_hook(lambda o: calls.append("lpost")))
        sd["param_groups"][0]["lr"] = 0.5
        opt.load_state_dict(sd)
        lr = opt.param_groups[0]["lr"]
        for h in hs:
            h.remove()
        opt.load_state_dict(opt.state_dict())
        seen[lib.__name__] = (calls, sorted(sd), lr)
    assert seen["fastnn"] == seen["torch"]
    assert seen["torch"][0][:3] == ["pre0", "pre", "post"]
