"""The compiled autograd engine (fastnn/_bind/autograd.pxi) against the
pure-Python oracle (fastnn/testing/oracle_engine.py), gradient stealing (a
leaf keeps a fresh gradient array without a copy only when nothing else can
hold it) and the large-array buffer cache."""
import threading

import numpy as np
import pytest

import fastnn
from fastnn import _core
from fastnn.autograd import Function
from fastnn.testing.oracle_engine import gradients as oracle_gradients


@pytest.fixture
def cache():
    was = _core.buffer_cache_info()["installed"]
    assert _core.buffer_cache(True)
    yield
    _core.buffer_cache(was)


def _g(t):
    """A leaf's gradient as an ndarray (None when no gradient reached it)."""
    return None if t.grad is None else t.grad.numpy()


def _check_against_oracle(out, leaves, grad=None):
    """Runs the oracle on out's graph, then the real backward; compares."""
    g = np.ones(out.shape, out.dtype) if grad is None else grad
    want = oracle_gradients([out], [g], leaves)
    out.backward(fastnn.tensor(g))
    for w, t in zip(want, leaves):
        assert (w is None) == (t.grad is None)
        if w is not None:
            np.testing.assert_allclose(_g(t), w, rtol=1e-12, atol=1e-12)
    return want


def test_engine_classes_are_compiled_bases():
    assert issubclass(fastnn.Tensor, _core.TensorBase)
    assert issubclass(Function, _core.FunctionBase)
    assert Function.apply.__func__ is _core.FunctionBase.apply.__func__
    assert fastnn.autograd.Context is _core.Context


def _graph(seed):
    r = np.random.default_rng(seed)
    x = fastnn.tensor(r.standard_normal((5, 4)), dtype="float64", requires_grad=True)
    w = fastnn.tensor(r.standard_normal((3, 4)), dtype="float64", requires_grad=True)
    b = fastnn.tensor(r.standard_normal(3), dtype="float64", requires_grad=True)
    h = fastnn.nn.functional.linear(x, w, b)
    h.retain_grad()
    y = (h.relu() * h + b * 2 - (x @ w.T).tanh()).sum() + (x * x).mean() + h.max()
    return y, (x, w, b, h)


def test_engine_matches_oracle():
    y, ts = _graph(0)
    x, w, b, h = ts
    want = oracle_gradients([y], [np.ones((), np.float64)], [x, w, b, h])
    y.backward()
    for g, t in zip(want, ts):
        np.testing.assert_allclose(_g(t), g, rtol=1e-12, atol=1e-12)


def test_retain_graph_freed_error_and_accumulation():
    x = fastnn.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).exp().sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(x.grad, 2 * first, rtol=1e-6)
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_no_grad_and_user_function():
    class Cube(Function):
        @staticmethod
        def forward(ctx, a, k):
            ctx.save_for_backward(a)
            ctx.k = k
            return a * a * a * k

        @staticmethod
        def backward(ctx, g):
            (a,) = ctx.saved_tensors
            assert ctx.needs_input_grad == (True, False)
            return g * 3 * a * a * ctx.k, None

    a = fastnn.tensor([1.0, -2.0], requires_grad=True)
    with fastnn.no_grad():
        assert Cube.apply(a, 2.0).grad_fn is None
    out = Cube.apply(a, 2.0)
    assert out.grad_fn is not None and out.requires_grad
    out.sum().backward()
    np.testing.assert_allclose(a.grad, [6.0, 24.0])


def test_multi_output_function():
    class Split(Function):
        raw = True

        @staticmethod
        def forward(ctx, a):
            return a * 2, a * 3

        @staticmethod
        def backward(ctx, g1, g2):
            return g1 * 2 + g2 * 3

    a = fastnn.ones(3, requires_grad=True)
    p, q = Split.apply(a)
    (p.sum() + q.sum()).backward()            # both outputs used
    np.testing.assert_allclose(a.grad, [5.0, 5.0, 5.0])
    b = fastnn.ones(3, requires_grad=True)
    p, q = Split.apply(b)
    p.sum().backward()                        # q's gradient is zeros
    np.testing.assert_allclose(b.grad, [2.0, 2.0, 2.0])


def _recorder(keep):
    class Twice(Function):
        raw = True

        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            r = g * 2
            keep.append(r)
            return r
    return Twice


def test_fresh_gradient_is_stolen_not_copied():
    keep = []
    a = fastnn.ones(4, requires_grad=True)
    _recorder(keep).apply(a).sum().backward()
    # the op kept a reference (keep), so the engine must have copied it
    assert not np.shares_memory(_g(a), keep[0])
    ids = []

    class Fresh(Function):
        raw = True

        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            r = g * 2
            ids.append(id(r))
            return r

    b = fastnn.ones(4, requires_grad=True)
    Fresh.apply(b).sum().backward()
    assert id(_g(b)) == ids[0]                # nobody else held it: no copy
    np.testing.assert_allclose(b.grad, 2.0)
    Fresh.apply(b).sum().backward()           # second backward adds in place
    np.testing.assert_allclose(b.grad, 4.0)


def test_one_array_for_two_inputs_is_never_shared():
    class Both(Function):
        raw = True

        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, g):
            r = g * 1
            return r, r

    a = fastnn.ones(3, requires_grad=True)
    b = fastnn.ones(3, requires_grad=True)
    Both.apply(a, b).sum().backward()
    assert not np.shares_memory(_g(a), _g(b))
    a.grad += 1
    np.testing.assert_allclose(b.grad, 1.0)
    c = fastnn.ones(3, requires_grad=True)
    Both.apply(c, c).sum().backward()          # same leaf twice: summed
    np.testing.assert_allclose(c.grad, 2.0)


def test_gradient_never_aliases_user_or_saved_arrays():
    g = np.full((2, 2), 3.0, np.float32)
    x = fastnn.ones(2, 2, requires_grad=True)
    (x * 1.0).backward(g)
    assert not np.shares_memory(_g(x), g)
    g[...] = 0
    np.testing.assert_allclose(x.grad, 3.0)

    class Ident(Function):                      # a user Function returning g
        @staticmethod
        def forward(ctx, a):
            return a * 1

        @staticmethod
        def backward(ctx, gt):
            return gt

    y = fastnn.ones(3, requires_grad=True)
    z = Ident.apply(y)
    z.retain_grad()
    (z * 2).sum().backward()
    assert not np.shares_memory(_g(y), z.grad.numpy())
    np.testing.assert_allclose(y.grad, 2.0)


def test_post_accumulate_hooks_see_each_gradient():
    w = fastnn.ones(3, requires_grad=True)
    seen = []
    w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.numpy().copy()))
    (w * 2).sum().backward()
    (w * 3).sum().backward()
    np.testing.assert_allclose(seen[0], 2.0)
    np.testing.assert_allclose(seen[1], 5.0)


def test_training_step_matches_oracle():
    fastnn.manual_seed(0)
    m = fastnn.nn.Sequential(fastnn.nn.Linear(6, 5), fastnn.nn.ReLU(), fastnn.nn.Linear(5, 3))
    opt = fastnn.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
    r = np.random.default_rng(1)
    x = fastnn.tensor(r.standard_normal((8, 6)).astype(np.float32))
    y = fastnn.tensor(r.integers(0, 3, 8))
    ps = list(m.parameters())
    for _ in range(3):
        opt.zero_grad()
        loss = fastnn.nn.functional.cross_entropy(m(x), y)
        want = oracle_gradients([loss], [np.ones((), np.float32)], ps)
        loss.backward()
        for w, p in zip(want, ps):
            np.testing.assert_array_equal(_g(p), w)
        opt.step()


# ---------------------------------------------------------------- buffer cache
def test_buffer_cache_reuses_blocks_and_keeps_semantics(cache):
    assert _core.buffer_cache_info()["installed"]
    n = 300_000                                  # 2.4 MB of float64: cached
    a = np.empty(n)
    a[...] = 7.0
    del a
    hits = _core.buffer_cache_info()["hits"]
    z = np.zeros(n)                              # a reused block is cleared
    assert _core.buffer_cache_info()["hits"] == hits + 1
    assert not z.any()
    b = np.ones(n)
    assert not np.shares_memory(b, z)            # a held array is never handed out
    np.testing.assert_array_equal(z, 0.0)
    c = np.ones(n // 2)                          # realloc path (resize in place)
    c.resize(n, refcheck=False)
    assert c[: n // 2].sum() == n // 2 and not c[n // 2:].any()
    info = _core.buffer_cache_info()
    assert info["bytes"] <= info["max_bytes"]


def test_buffer_cache_can_be_turned_off_and_on(cache):
    big = np.ones(400_000)
    try:
        assert _core.buffer_cache(False) is False
        assert not _core.buffer_cache_info()["installed"]
        assert _core.buffer_cache_info()["blocks"] == 0
        other = np.ones(400_000)
        del big                                  # freed by the handler that made it
        assert other.sum() == 400_000
    finally:
        assert _core.buffer_cache(True)
    assert _core.buffer_cache_info()["installed"]


def test_buffer_cache_env_switch():
    code = ("import fastnn\n"
            "assert not fastnn._core.buffer_cache_info()['installed']\n"
            "x = fastnn.ones(2, requires_grad=True); (x * 3).sum().backward()\n"
            "assert x.grad.tolist() == [3.0, 3.0]\n")
    from fastnn.testing import run_python
    # run_python imports the same fastnn as this test (the installed one in CI)
    r = run_python(code, env={"FASTNN_BUFFER_CACHE": "0"})
    assert r.returncode == 0, r.stderr


def _random_dag(seed):
    r = np.random.default_rng(seed)
    leaves = [fastnn.tensor(r.standard_normal((3, 4)), requires_grad=True) for _ in range(3)]
    nodes = list(leaves)
    for _ in range(25):
        a = nodes[r.integers(len(nodes))]
        b = nodes[r.integers(len(nodes))]
        k = r.integers(7)
        if k == 0:
            n = a + b
        elif k == 1:
            n = a * b
        elif k == 2:
            n = a.relu() - b
        elif k == 3:
            n = a.reshape(4, 3).reshape(3, 4) + 1.0
        elif k == 4:
            n = a * b.sum(dim=0, keepdim=True)
        elif k == 5:
            n = (a @ b.T) @ a * 0.1
        else:
            n = a.tanh() + a
        nodes.append(n)
    out = nodes[-1].sum() + sum(n.sum() * 0.01 for n in nodes[-6:-1])
    return out, leaves


@pytest.mark.parametrize("seed", range(6))
def test_random_fan_out_graphs_match_oracle(seed):
    out, leaves = _random_dag(seed)
    _check_against_oracle(out, leaves)
    # no two leaves share a gradient array
    gs = [_g(x) for x in leaves if x.grad is not None]
    assert len(gs) >= 2
    for i in range(len(gs)):
        for j in range(i + 1, len(gs)):
            assert not np.shares_memory(gs[i], gs[j])


def test_steal_uses_refcounts_only_where_trusted():
    """The one place that reads reference counts (autograd.pxi, _e_owned):
    on CPython with the GIL a fresh gradient is taken over; the flag says so."""
    import sys
    gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    assert _core.refcount_trusted() == (gil and sys.implementation.name == "cpython")


def test_grad_mode_is_thread_local():
    """no_grad in one thread does not stop recording in another."""
    x = fastnn.ones(3, requires_grad=True)
    inside, seen = threading.Event(), {}

    def other():
        inside.wait(5)
        seen["enabled"] = fastnn.is_grad_enabled()
        seen["records"] = (x * 2).requires_grad

    t = threading.Thread(target=other)
    t.start()
    with fastnn.no_grad():
        assert not fastnn.is_grad_enabled()
        inside.set()
        t.join(5)
        assert not (x * 2).requires_grad
    assert seen == {"enabled": True, "records": True}
    assert fastnn.is_grad_enabled()


def test_retain_grad_without_requires_grad_raises_as_torch():
    torch = pytest.importorskip("torch")
    import fastnn
    for M in (torch, fastnn):
        with pytest.raises(RuntimeError, match="can't retain_grad on Tensor that has "
                                               "requires_grad=False"):
            M.ones(2).retain_grad()
        with M.no_grad():
            b = M.ones(2, requires_grad=True) * 3
            with pytest.raises(RuntimeError, match="requires_grad=False"):
                b.retain_grad()
        leaf = M.ones(2, requires_grad=True)
        leaf.retain_grad()                    # a leaf: nothing to do
        assert not leaf.retains_grad
