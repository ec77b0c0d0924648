"""The graph engine: topological backward, accumulation, grad modes,
retain_graph, user Functions and gradcheck."""
import numpy as np
import pytest

import fastnn
from fastnn.autograd import Function


def test_lecture_example():
    x = fastnn.tensor(-2.0, requires_grad=True)
    y = fastnn.tensor(5.0, requires_grad=True)
    z = fastnn.tensor(-4.0, requires_grad=True)
    f = (x + y) * z
    f.backward()
    assert f.item() == -12.0
    assert (x.grad, y.grad, z.grad) == (-4.0, -4.0, 3.0)


def test_tensor_used_twice_gets_both_gradients():
    x = fastnn.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x + x          # dy/dx = 2x + 1
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [3.0, 5.0, 7.0])


def test_diamond_graph_visits_node_once():
    calls = []

    class Count(Function):
        @staticmethod
        def forward(ctx, a):
            return a * 1.0

        @staticmethod
        def backward(ctx, g):
            calls.append(1)
            return g

    x = fastnn.tensor([1.0, 2.0], requires_grad=True)
    h = Count.apply(x)
    (h * 2 + h * 3).sum().backward()
    assert len(calls) == 1
    np.testing.assert_allclose(x.grad, [5.0, 5.0])


def test_grad_accumulates_across_backwards():
    x = fastnn.tensor([1.0, -1.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad, [6.0, 6.0])


def test_no_grad_records_nothing():
    x = fastnn.ones(3, requires_grad=True)
    with fastnn.no_grad():
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None

    @fastnn.no_grad()
    def f(t):
        return t + 1

    assert not f(x).requires_grad
    assert fastnn.is_grad_enabled()


def test_grad_mode_decorators_without_parentheses_as_torch():
    torch = fastnn.testing.requires_torch()
    for M in (fastnn, torch):
        @M.no_grad
        def off(t):
            return M.is_grad_enabled(), t * 2

        @M.inference_mode
        def inf(t):
            return M.is_grad_enabled(), t * 2
        x = M.ones(2, requires_grad=True)
        for f, name in ((off, "off"), (inf, "inf")):
            enabled, y = f(x)
            assert not enabled and not y.requires_grad and f.__name__ == name
        assert M.is_grad_enabled()
        with M.no_grad():
            @M.enable_grad
            def on():
                return M.is_grad_enabled()
            assert on() and not M.is_grad_enabled()
        assert isinstance(M.no_grad(), M.no_grad) and isinstance(M.enable_grad(), M.enable_grad)
        with M.inference_mode(False):
            assert M.is_grad_enabled()


def test_grad_mode_decorated_generator_runs_its_body_in_the_mode():
    torch = fastnn.testing.requires_torch()
    for M in (fastnn, torch):
        @M.no_grad()
        def gen(x):
            sent = yield M.is_grad_enabled(), (x * 2).requires_grad
            yield sent, M.is_grad_enabled()
            return "done"
        x = M.ones(2, requires_grad=True)
        it = gen(x)
        assert next(it) == (False, False)
        assert M.is_grad_enabled()                  # the caller's mode between yields
        assert it.send(7) == (7, False)
        with pytest.raises(StopIteration) as stop:
            next(it)
        assert stop.value.value == "done"

        @M.enable_grad()
        def gen2():
            yield M.is_grad_enabled()
        with M.no_grad():
            assert list(gen2()) == [True] and not M.is_grad_enabled()

        @M.no_grad
        def gen3():
            try:
                yield 1
            except ValueError:
                yield M.is_grad_enabled()
        it = gen3()
        next(it)
        assert it.throw(ValueError) is False and M.is_grad_enabled()
        it.close()


def test_detach_shares_data_without_graph():
    x = fastnn.ones(3, requires_grad=True)
    d = (x * 2).detach()
    assert not d.requires_grad and d.grad_fn is None
    y = x * 2
    assert np.shares_memory(y.detach().detach().numpy(), y.detach().numpy())


def test_second_backward_through_freed_graph_raises():
    x = fastnn.tensor([2.0], requires_grad=True)
    y = (x * x).exp()
    y.backward(np.ones(1, np.float32))
    with pytest.raises(RuntimeError, match="second time"):
        y.backward(np.ones(1, np.float32))


def test_retain_graph_allows_second_backward():
    x = fastnn.tensor([2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad, [8.0])


def test_nonscalar_backward_needs_gradient():
    x = fastnn.ones(2, 2, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="scalar"):
        y.backward()
    g = np.arange(4, dtype=np.float32).reshape(2, 2)
    y.backward(g)
    np.testing.assert_allclose(x.grad, 2 * g)


def test_backward_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        fastnn.ones(2).sum().backward()


def test_retain_grad_on_intermediate():
    x = fastnn.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad, [6.0, 12.0])


def test_deep_chain_has_no_recursion_limit():
    x = fastnn.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(3000):
        y = y * 1.0
    y.sum().backward()
    assert x.grad[0] == 1.0


def test_user_function_with_ctx():
    class MulConst(Function):
        @staticmethod
        def forward(ctx, a, b, k):
            ctx.save_for_backward(a, b)
            ctx.k = k
            return a * b * k

        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            assert ctx.needs_input_grad == (True, False, False)
            return g * b * ctx.k, None, None

    a = fastnn.tensor([1.0, 2.0], requires_grad=True)
    b = fastnn.tensor([3.0, 4.0])
    out = MulConst.apply(a, b, 2.0)
    assert out.grad_fn is not None
    out.sum().backward()
    np.testing.assert_allclose(a.grad, [6.0, 8.0])


def test_user_function_wrong_gradient_shape_raises():
    class Bad(Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return g.sum()

    a = fastnn.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="shape"):
        Bad.apply(a).sum().backward()


def test_gradcheck_passes_and_catches_wrong_backward():
    x = fastnn.randn(3, 4, dtype="float64", requires_grad=True)
    assert fastnn.gradcheck(lambda t: (t.tanh() * t).sum(), [x])

    class WrongSquare(Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * a

        @staticmethod
        def backward(ctx, g):
            (a,) = ctx.saved_tensors
            return g * a * 2.01      # deliberately wrong

    with pytest.raises(fastnn.GradcheckError) as e:
        fastnn.gradcheck(WrongSquare.apply, [x])
    msg = str(e.value)
    assert "input 0" in msg and "analytic" in msg and "numerical" in msg and "relative error" in msg


def test_gradient_dtype_and_shape_follow_leaf():
    x = fastnn.ones(2, 3, requires_grad=True)
    b = fastnn.ones(3, dtype="float64", requires_grad=True)
    (x * b).sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.shape == (2, 3)
    assert b.grad.dtype == np.float64 and b.grad.shape == (3,)
    np.testing.assert_allclose(b.grad, [2.0, 2.0, 2.0])


def test_requires_grad_only_for_floats():
    with pytest.raises(RuntimeError, match="floating point"):
        fastnn.tensor([1, 2], requires_grad=True)


def test_root_gradient_is_used_without_a_copy_and_never_written():
    # backward(gradient) hands the caller's array to the engine behind a
    # read-only view (no copy of a large gradient); nothing may write into
    # it: not a node's backward, not the in-place sum of gradients meeting
    # at the root, and what autograd.grad returns for the root is the
    # caller's values in a writeable array of its own.
    x = fastnn.tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4),
                      requires_grad=True)
    xv = x.detach().numpy()
    y = fastnn.nn.functional.relu(x * 2.0)
    g = np.arange(12, dtype=np.float32).reshape(3, 4)
    keep = g.copy()
    y.backward(g, retain_graph=True)
    np.testing.assert_array_equal(g, keep)
    np.testing.assert_array_equal(x.grad.numpy(), np.where(xv * 2 > 0, 2 * g, 0))
    x.grad = None
    fastnn.autograd.backward([y, y], [g, fastnn.tensor(g)], retain_graph=True)
    np.testing.assert_array_equal(g, keep)
    np.testing.assert_array_equal(x.grad.numpy(), np.where(xv * 2 > 0, 4 * g, 0))
    gt = fastnn.tensor(g)
    (gy,) = fastnn.autograd.grad(y, y, gt)
    np.testing.assert_array_equal(gy.numpy(), g)
    gy.numpy()[0, 0] = 99.0                       # the caller may write into it
    np.testing.assert_array_equal(gt.numpy(), keep)
    x.grad = None                                 # a leaf root's gradient is a copy too
    x.backward(gt)
    x.grad.numpy()[...] += 1
    np.testing.assert_array_equal(gt.numpy(), keep)


def test_user_backward_and_hooks_may_write_into_a_root_gradient():
    # user Functions and tensor hooks get a writeable gradient even when it is
    # the caller's array (read-only to the engine); the caller's array stays as
    # it was
    class Twice(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1.0

        @staticmethod
        def backward(ctx, g):
            g.mul_(2.0)
            return g

    x = fastnn.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    g = np.full((2, 3), 3.0, np.float32)
    Twice.apply(x).backward(g)
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 3), 6.0))
    np.testing.assert_array_equal(g, np.full((2, 3), 3.0))
    y = x * 2.0
    y.register_hook(lambda t: t.add_(1.0))
    x.grad = None
    y.backward(g)
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 3), 8.0))
    np.testing.assert_array_equal(g, np.full((2, 3), 3.0))


def test_is_inference_mode_enabled_as_torch():
    """``torch.is_inference_mode_enabled()`` is True inside ``inference_mode()``
    (context, decorator, nested ``inference_mode(False)``), False outside and
    after an exception, as PyTorch's."""
    torch = pytest.importorskip("torch")
    seen = {}
    for lib in (torch, fastnn):
        out = [lib.is_inference_mode_enabled()]
        with lib.inference_mode():
            out.append(lib.is_inference_mode_enabled())
            with lib.inference_mode(False):
                out.append(lib.is_inference_mode_enabled())
                out.append(lib.is_grad_enabled())
            out.append(lib.is_inference_mode_enabled())
        out.append(lib.is_inference_mode_enabled())

        @lib.inference_mode()
        def f():
            return lib.is_inference_mode_enabled(), lib.is_grad_enabled()
        out.extend(f())
        try:
            with lib.inference_mode():
                raise KeyError
        except KeyError:
            pass
        out.append(lib.is_inference_mode_enabled())
        with lib.no_grad():
            out.append(lib.is_inference_mode_enabled())
        seen[lib.__name__] = out
    assert seen["fastnn"] == seen["torch"]
    assert seen["torch"][1] is True


@pytest.mark.parametrize("create_graph", [False, True])
def test_grad_runs_only_the_graph_above_its_inputs_like_torch(create_graph):
    # autograd.grad w.r.t. non-leaf tensors runs only the nodes on a path to
    # them (PyTorch's engine): the graph below the inputs keeps its saved
    # tensors (first-order MAML: grads of the inner steps, then the
    # meta-loss's backward through them) and its hooks do not fire
    from fastnn.testing import requires_torch
    torch = requires_torch()
    res = {}
    for M in (torch, fastnn):
        w = M.tensor([[0.5, -1.0], [2.0, 0.25]], dtype=M.float64, requires_grad=True)
        x = M.tensor([[1.0, 2.0], [-1.0, 0.5], [0.3, 0.1]], dtype=M.float64)
        fired = []
        fast = w
        for _ in range(2):
            h = M.tanh(x @ fast.T)                  # nodes below the next step's input
            h.register_hook(lambda g: fired.append(1))
            loss = (h ** 2).sum()
            g, = M.autograd.grad(loss, fast, create_graph=create_graph)
            fast = fast - 0.1 * g
        n_fired = len(fired)
        meta = (M.tanh(x @ fast.T) ** 3).sum()
        meta.backward()
        res[M.__name__] = (n_fired, w.grad.numpy())
    assert res["fastnn"][0] == res["torch"][0] == 2
    np.testing.assert_allclose(res["fastnn"][1], res["torch"][1], rtol=1e-12)


def test_grad_is_grads_batched_matches_torch():
    # a batch of vector-Jacobian products (rows of the Jacobian) at once
    from fastnn.testing import requires_torch
    torch = requires_torch()
    res = {}
    for M in (torch, fastnn):
        x = M.tensor(np.linspace(-1, 1, 6).reshape(2, 3), dtype=M.float64, requires_grad=True)
        w = M.tensor([0.5, -2.0, 1.5], dtype=M.float64, requires_grad=True)
        y = M.sin(x) * w
        eye = M.eye(6, dtype=M.float64).view(6, 2, 3)
        jx, jw = M.autograd.grad(y, (x, w), eye, is_grads_batched=True, create_graph=True)
        (h,) = M.autograd.grad(jw.sum(), x)             # through the batched graph
        s = (x ** 2).sum(1)
        (g,) = M.autograd.grad(s, x, M.tensor([[1.0, 0.0], [1.0, 1.0]], dtype=M.float64),
                               is_grads_batched=True)
        with pytest.raises(RuntimeError, match="first dimension of each grad_output"):
            M.autograd.grad(x * 2, x, M.ones(2, 4, dtype=M.float64), is_grads_batched=True)
        res[M.__name__] = [jx.detach().numpy(), jw.detach().numpy(), h.numpy(), g.numpy()]
    for a, b in zip(res["fastnn"], res["torch"]):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
