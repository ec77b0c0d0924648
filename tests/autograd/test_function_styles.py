"""User Functions in PyTorch's other styles (setup_context, once_differentiable),
gradgradcheck, and the small helpers programs lean on (parameters_to_vector
through the graph, f-strings of 0-d tensors, KL(Uniform || Normal))."""
import numpy as np
import pytest

import fastnn
from fastnn.testing import requires_torch


def _square(L):
    """x * x with a once_differentiable backward, as a Function of library L."""
    class Sq(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @L.autograd.function.once_differentiable
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return 2 * x * g

    return Sq


def _script(L):
    res = []

    class Cube(L.autograd.Function):
        @staticmethod
        def forward(x):
            return x ** 3

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return 3 * x ** 2 * g

    x = L.tensor([2.0], requires_grad=True)
    y = Cube.apply(x)
    y.backward()
    res += [y.tolist(), x.grad.tolist()]

    x = L.tensor([3.0], requires_grad=True)
    g, = L.autograd.grad(_square(L).apply(x).sum(), x, create_graph=True)
    res += [g.tolist(), g.requires_grad]
    m = L.nn.Linear(2, 2)
    v = L.nn.utils.parameters_to_vector(m.parameters())
    res.append(v.requires_grad)
    (v ** 2).sum().backward()
    res.append(m.weight.grad is not None)
    res.append(f"loss: {L.tensor(3.125)} n={L.tensor(7)} {L.tensor(1.5):.2f}")
    D = L.distributions
    res.append(round(float(D.kl_divergence(D.Uniform(-1.0, 1.0), D.Normal(0.0, 1.0))), 5))
    kl = D.kl_divergence(D.Uniform(L.tensor([0.0, 1.0]), L.tensor([2.0, 4.0])),
                         D.Normal(L.tensor([0.5, 1.0]), L.tensor([2.0, 0.5])))
    res.append([round(v, 5) for v in kl.tolist()])
    xx = L.tensor([0.3, -0.7], dtype=L.float64, requires_grad=True)
    res.append(L.autograd.gradgradcheck(lambda t: (t ** 3).sin(), (xx,)))
    return res


def test_styles_match_torch():
    torch = requires_torch()
    assert _script(fastnn) == _script(torch)


def test_once_differentiable_refuses_a_second_derivative():
    x = fastnn.tensor([3.0], requires_grad=True)
    g, = fastnn.autograd.grad(_square(fastnn).apply(x).sum(), x, create_graph=True)
    assert not g.requires_grad
    with pytest.raises(RuntimeError):
        g.sum().backward()


def test_gradgradcheck_catches_a_wrong_second_derivative():
    class BadCube(fastnn.autograd.Function):
        """Right first derivative, built from a constant: the second is 0."""
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return g * fastnn.tensor(3 * x.detach().numpy() ** 2)

    x = fastnn.tensor([0.5, -1.2], dtype=fastnn.float64, requires_grad=True)
    assert fastnn.autograd.gradcheck(BadCube.apply, (x,))
    assert fastnn.autograd.gradgradcheck(lambda t: t ** 3, (x,))
    assert fastnn.autograd.gradgradcheck(BadCube.apply, (x,), raise_exception=False) is False
    with pytest.raises(fastnn.GradcheckError):
        fastnn.autograd.gradgradcheck(BadCube.apply, (x,))


def test_kl_uniform_normal_closed_form():
    D = fastnn.distributions
    p, q = D.Uniform(-1.0, 3.0), D.Normal(0.5, 2.0)
    xs = np.linspace(-1.0, 3.0, 200001)
    logq = -np.log(2.0) - 0.5 * np.log(2 * np.pi) - (xs - 0.5) ** 2 / 8
    want = -np.log(4.0) - np.mean(logq)
    assert float(D.kl_divergence(p, q)) == pytest.approx(want, rel=1e-5)
