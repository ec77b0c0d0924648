"""``grad_fn.name()`` (a method, PyTorch's node names) and what an output
of a multi-output op that no gradient reached shows to its tensor hooks,
``retain_grad`` and ``autograd.grad``: None, as PyTorch (its backward still
receives zeros unless ``set_materialize_grads(False)``).  Each script runs on
both libraries."""
import pytest

import fastnn

torch = pytest.importorskip("torch")
LIBS = [fastnn, torch]
IDS = ["fastnn", "torch"]


def _lst(g):
    return None if g is None else g.tolist()


def _names(L):
    x = L.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    w = L.tensor([[0.5, 1.0, 1.5], [2.0, 2.5, 3.0]], requires_grad=True)
    F = L.nn.functional
    outs = [x * w, x + w, x - 1, x / w, x.exp(), x.sum(), x.mean(), x @ w.T, x.view(-1),
            x.permute(1, 0), x[1:], x[0], x[[0, 1]], L.cat([x, w]), x.clone(), x.double(),
            x.split(1)[0], x.unbind()[1], x.softmax(1), x.log_softmax(1), x.relu(),
            x.sigmoid(), x.tanh(), x.log1p(), F.gelu(x), F.leaky_relu(x), F.silu(x),
            F.cross_entropy(x, L.tensor([0, 2])), F.mse_loss(x, w),
            F.smooth_l1_loss(x, w), F.pad(x, (1, 1)), x.tril(), x.triu(), x.logsumexp(1),
            x.norm(), F.layer_norm(x, (3,)), x.square(), x.max(1)[0], x.max(), x.min(0)[0],
            x.sum(0), x.mean(1), x.std(), x.var(0), x[0] @ w[0], x @ w[0], F.linear(x, w, w[0, :2])]

    class Twice(L.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    outs.append(Twice.apply(x))
    return [y.grad_fn.name() for y in outs]


def test_grad_fn_name_is_a_method_with_pytorchs_names():
    got, want = _names(fastnn), _names(torch)
    assert got == want
    y = fastnn.ones(2, requires_grad=True) * 3
    assert repr(y).endswith("grad_fn=<MulBackward0>)")
    assert repr(y.grad_fn).startswith("<MulBackward0 object at 0x")


def _unreached(L, case):
    """Backward through the first output only; what the second output's
    hook, retain_grad and the input's grad see."""
    calls = []
    x = L.arange(4.0).requires_grad_()
    if case == "split":
        a, b = x.split(2)
    elif case == "unbind":
        a, b = L.unbind(x.reshape(2, 2))
    else:
        class Two(L.autograd.Function):
            @staticmethod
            def forward(ctx, t):
                return t * 2, t * 3

            @staticmethod
            def backward(ctx, ga, gb):
                calls.append(("backward", _lst(gb)))
                return ga * 2 + gb * 3

        a, b = Two.apply(x)
    b.register_hook(lambda g: calls.append(("hook", _lst(g))))
    b.retain_grad()
    (a * a).sum().backward()
    return calls, _lst(b.grad), _lst(x.grad)


@pytest.mark.parametrize("case", ["split", "unbind", "function"])
def test_hook_and_retain_grad_of_an_unreached_output_see_none(case):
    got, want = _unreached(fastnn, case), _unreached(torch, case)
    assert got == want
    assert ("hook", None) in got[0] and got[1] is None


@pytest.mark.parametrize("L", LIBS, ids=IDS)
def test_a_reached_output_hook_gets_its_gradient(L):
    x = L.tensor([[1.0, 3.0], [4.0, 2.0]], requires_grad=True)
    v, _ = x.max(1)
    seen = []
    v.register_hook(lambda g: seen.append(_lst(g)))
    v.sum().backward()
    assert seen == [[1.0, 1.0]]


@pytest.mark.parametrize("L", LIBS, ids=IDS)
def test_autograd_grad_of_an_unreached_output(L):
    x = L.arange(4.0).requires_grad_()
    a, b = x.split(2)
    gb, gx = L.autograd.grad(a.sum(), [b, x], allow_unused=True)
    assert gb is None and gx.tolist() == [1.0, 1.0, 0.0, 0.0]
    a, b = x.split(2)
    gb, _ = L.autograd.grad(a.sum(), [b, x], materialize_grads=True)
    assert gb.tolist() == [0.0, 0.0]


def test_create_graph_backward_hook_of_an_unreached_output_sees_none():
    res = []
    for L in LIBS:
        calls = []
        x = L.arange(4.0).requires_grad_()
        a, b = x.split(2)
        b.register_hook(lambda g: calls.append(_lst(g)))
        b.retain_grad()
        (a ** 2).sum().backward(create_graph=True)
        res.append((calls, _lst(b.grad), _lst(x.grad.detach())))
    assert res[0] == res[1]


def test_names_survive_the_backward_that_frees_the_graph():
    names = []
    for L in LIBS:
        x = L.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        outs = [x ** 2, 2 ** x, x @ x, x[0] @ x[1], L.nn.functional.linear(x, x), x.sum(0),
                x.clamp(0, 1), x[1:], x.max()]
        sum(o.sum() for o in outs).backward()
        names.append([o.grad_fn.name() for o in outs])
    assert names[0] == names[1]


def test_grad_fn_next_functions_walk_as_torch():
    # the autograd tutorials walk loss.grad_fn.next_functions; fastnn's
    # nodes had no next_functions
    torch = pytest.importorskip("torch")
    import fastnn

    def walk(M):
        out = []

        def rec(n, d):
            if n is None:
                out.append((d, None))
                return
            out.append((d, n.name(), tuple(n.variable.shape) if hasattr(n, "variable") else None))
            for f, i in n.next_functions:
                rec(f, d + 1)
        w = M.ones(3, requires_grad=True)
        b = M.zeros(3, requires_grad=True)
        x = M.ones(3)
        rec(M.relu(x * w + b).exp().mean().grad_fn, 0)
        rec(M.cat([w, b * 2]).sigmoid().sum().grad_fn, 0)
        rec((w @ w.exp()).grad_fn, 0)
        y = (w * 2).sum()
        acc = y.grad_fn.next_functions[0][0].next_functions[0][0]
        out.append((acc.variable is w, acc.next_functions, y.grad_fn.next_functions[0][1]))
        return out
    assert walk(fastnn) == walk(torch)
