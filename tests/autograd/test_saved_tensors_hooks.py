"""``torch.autograd.graph.saved_tensors_hooks`` / ``save_on_cpu`` /
``disable_saved_tensors_hooks``: pack runs once per saved tensor when an op
is recorded, unpack when the backward needs it, and what unpack returns is
what the backward uses.  Each script runs on both libraries."""
import numpy as np
import pytest

import fastnn

torch = pytest.importorskip("torch")
LIBS = [fastnn, torch]
IDS = ["fastnn", "torch"]


def _counts(L, make):
    """(pack calls, unpack calls, gradient) of make(x) under counting hooks."""
    n = {"pack": 0, "unpack": 0}

    def pack(t):
        n["pack"] += 1
        return t

    def unpack(t):
        n["unpack"] += 1
        return t

    x = L.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], requires_grad=True)
    w = L.tensor([[1.0, 2.0], [0.5, -1.0], [3.0, 0.5]], requires_grad=True)
    with L.autograd.graph.saved_tensors_hooks(pack, unpack):
        y = make(L, x, w)
    packed_before_backward = n["pack"]
    assert n["unpack"] == 0
    y.sum().backward()
    return (packed_before_backward, n["pack"], n["unpack"], x.grad.tolist(),
            None if w.grad is None else w.grad.tolist())


CASES = {
    "x*x": lambda L, x, w: x * x,                 # x saved twice: two packs
    "exp": lambda L, x, w: x.exp(),               # the output saved
    "sin": lambda L, x, w: x.sin(),
    "x*x+exp": lambda L, x, w: x * x + x.exp(),
    "matmul": lambda L, x, w: x @ w,
    "tanh_chain": lambda L, x, w: (x.tanh() * 3).sigmoid(),
    "x*const": lambda L, x, w: x * L.tensor([1.0, 2.0, 3.0]),
    "linear": lambda L, x, w: L.nn.functional.linear(x, w.T, w[0]),
    "relu_softmax": lambda L, x, w: L.relu(x).softmax(1),
    "mse": lambda L, x, w: L.nn.functional.mse_loss(x, x.detach() * 2),
    "smooth_l1": lambda L, x, w: L.nn.functional.smooth_l1_loss(x, x.detach() * 2),
    "huber": lambda L, x, w: L.nn.functional.huber_loss(x, x.detach() * 2),
}


@pytest.mark.parametrize("case", list(CASES))
def test_pack_and_unpack_calls_and_gradients_match_torch(case):
    got = _counts(fastnn, CASES[case])
    want = _counts(torch, CASES[case])
    assert got[:3] == want[:3]
    np.testing.assert_allclose(got[3], want[3], rtol=1e-5, atol=1e-7)
    assert got[0] > 0


def _copy_then_mutate(L):
    """Pack to a copy, change the original in place, then backward: the
    gradient is computed from the copy (no version error)."""
    x = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
    a = x * 1
    with L.autograd.graph.saved_tensors_hooks(lambda t: t.clone(), lambda t: t):
        y = (a * a).sum()
    with L.no_grad():
        a.mul_(10)
    y.backward()
    return x.grad.tolist()


def test_unpack_result_is_what_backward_uses():
    assert _copy_then_mutate(fastnn) == _copy_then_mutate(torch) == [2.0, 4.0, 6.0]


@pytest.mark.parametrize("L", LIBS, ids=IDS)
def test_unpack_replacement_changes_the_gradient(L):
    x = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with L.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: L.ones_like(t) * 5):
        y = (x * x).sum()                         # d/dx = saved + saved = 10
    y.backward()
    assert x.grad.tolist() == [10.0, 10.0, 10.0]


@pytest.mark.parametrize("L", LIBS, ids=IDS)
def test_pack_sees_the_saved_tensor_with_grad_mode_off(L):
    seen = []
    x = L.tensor([1.0, 2.0], requires_grad=True)

    def pack(t):
        seen.append((t is x, t.requires_grad, L.is_grad_enabled()))
        return t

    with L.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        y = x * x
        z = y.exp()
    assert seen[:2] == [(True, True, False), (True, True, False)]
    assert len(seen) == 3 and seen[2][1] is True
    assert L.is_grad_enabled()
    z.sum().backward()


@pytest.mark.parametrize("L", LIBS, ids=IDS)
def test_no_pack_without_a_graph(L):
    n = []
    x = L.tensor([1.0, 2.0], requires_grad=True)
    with L.autograd.graph.saved_tensors_hooks(lambda t: n.append(1) or t, lambda t: t):
        with L.no_grad():
            (x * x).exp()
        L.tensor([1.0]).exp() * L.tensor([2.0])
    assert n == []


@pytest.mark.parametrize("L", LIBS, ids=IDS)
def test_innermost_hooks_apply_and_outer_resume(L):
    log = []
    x = L.tensor([0.5, 1.0], requires_grad=True)
    with L.autograd.graph.saved_tensors_hooks(lambda t: ("outer", t), lambda p: log.append(p[0]) or p[1]):
        with L.autograd.graph.saved_tensors_hooks(lambda t: ("inner", t),
                                                  lambda p: log.append(p[0]) or p[1]):
            y = x.sin()
        z = y.cos()
    z.sum().backward()
    assert sorted(log) == ["inner", "outer"]


@pytest.mark.parametrize("L", LIBS, ids=IDS)
def test_custom_function_saved_tensors_go_through_hooks(L):
    class Cube(L.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a ** 3

        @staticmethod
        def backward(ctx, g):
            (a,) = ctx.saved_tensors
            return 3 * a * a * g

    x = L.tensor([1.0, 2.0], requires_grad=True)
    n = []
    with L.autograd.graph.saved_tensors_hooks(lambda t: n.append("p") or t * 0 + 1,
                                              lambda t: n.append("u") or t):
        y = Cube.apply(x)
    y.sum().backward()
    assert n == ["p", "u"]
    assert x.grad.tolist() == [3.0, 3.0]           # the packed ones, not x


@pytest.mark.parametrize("L", LIBS, ids=IDS)
def test_unpack_must_return_a_tensor(L):
    x = L.tensor([1.0, 2.0], requires_grad=True)
    with L.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: 3):
        y = x.exp()
    with pytest.raises(TypeError, match="unpack_hook expected to be a Tensor"):
        y.sum().backward()


@pytest.mark.parametrize("L", LIBS, ids=IDS)
def test_disable_saved_tensors_hooks(L):
    G = L.autograd.graph
    with G.disable_saved_tensors_hooks("no hooks here"):
        with pytest.raises(RuntimeError, match="no hooks here"):
            with G.saved_tensors_hooks(lambda t: t, lambda t: t):
                pass
    with G.saved_tensors_hooks(lambda t: t, lambda t: t):
        with pytest.raises(RuntimeError, match="no hooks here"):
            with G.disable_saved_tensors_hooks("no hooks here"):
                pass
    with G.saved_tensors_hooks(lambda t: t, lambda t: t):     # usable again afterwards
        pass


def _mlp_grads(L, ctx):
    L.manual_seed(0)
    rng = np.random.default_rng(0)
    x = L.tensor(rng.standard_normal((4, 5)).astype(np.float32))
    w1 = L.tensor(rng.standard_normal((6, 5)).astype(np.float32), requires_grad=True)
    w2 = L.tensor(rng.standard_normal((3, 6)).astype(np.float32), requires_grad=True)
    y = L.tensor([0, 2, 1, 1])
    F = L.nn.functional
    with ctx(L):
        loss = F.cross_entropy(F.linear(F.relu(F.linear(x, w1)).tanh(), w2), y)
    loss.backward()
    return w1.grad.numpy().copy(), w2.grad.numpy().copy()


@pytest.mark.parametrize("pin", [False, True])
def test_save_on_cpu_gives_the_same_gradients_as_torch(pin):
    import contextlib
    plain = _mlp_grads(fastnn, lambda L: contextlib.nullcontext())
    got = _mlp_grads(fastnn, lambda L: L.autograd.graph.save_on_cpu(pin_memory=pin))
    want = _mlp_grads(torch, lambda L: L.autograd.graph.save_on_cpu(pin_memory=pin))
    for g, p, w in zip(got, plain, want):
        np.testing.assert_array_equal(g, p)
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("L", LIBS, ids=IDS)
def test_save_on_cpu_with_pin_memory_keeps_a_copy(L):
    a0 = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
    a = a0 * 1
    with L.autograd.graph.save_on_cpu(pin_memory=True):
        y = (a * a).sum()
    with L.no_grad():
        a.mul_(10)
    y.backward()
    assert a0.grad.tolist() == [2.0, 4.0, 6.0]


def test_second_backward_after_free_still_raises():
    x = fastnn.tensor([1.0, 2.0], requires_grad=True)
    with fastnn.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
        y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


@pytest.mark.parametrize("L", LIBS, ids=IDS)
def test_hooks_are_per_thread(L):
    import threading
    n = []
    x = L.tensor([1.0, 2.0], requires_grad=True)
    with L.autograd.graph.saved_tensors_hooks(lambda t: n.append(1) or t, lambda t: t):
        th = threading.Thread(target=lambda: x.exp())
        th.start()
        th.join()
        assert n == []                     # another thread's op: not hooked
        x.exp()
    assert n == [1]


@pytest.mark.parametrize("loss", ["mse_loss", "smooth_l1_loss", "huber_loss", "l1_loss"])
def test_losses_use_what_unpack_returns(loss):
    def run(L):
        x = L.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], requires_grad=True)
        t = L.tensor([[0.0, 1.0, 1.0], [2.0, 0.0, -3.0]])
        with L.autograd.graph.saved_tensors_hooks(lambda s: s, lambda s: s * 0.5):
            y = getattr(L.nn.functional, loss)(x, t)
        y.backward()
        return x.grad.numpy().copy()
    np.testing.assert_allclose(run(fastnn), run(torch), rtol=1e-6)


def _embedding_run(L, unpack):
    n = []
    w = L.tensor([[1.0, 2.0], [0.5, -1.0], [3.0, 0.5]], requires_grad=True)
    idx = L.tensor([[0, 2], [1, 0]])

    def pack(t):
        n.append(str(t.dtype))
        return t
    with L.autograd.graph.saved_tensors_hooks(pack, unpack):
        y = L.nn.functional.embedding(idx, w)
    (y * L.tensor([1.0, 2.0])).sum().backward()
    return n, w.grad.tolist()


@pytest.mark.parametrize("which", ["same", "swapped"])
def test_embedding_packs_its_indices_and_uses_the_unpacked_ones(which):
    def unpack(t):
        return t if which == "same" else t.flip(-1)           # other indices
    assert _embedding_run(fastnn, unpack) == _embedding_run(torch, unpack)
