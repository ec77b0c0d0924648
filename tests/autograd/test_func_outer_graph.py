"""``torch.func.grad`` / ``grad_and_value`` / ``vjp`` / ``jvp`` called where
grad mode is on and something in the function requires grad: the results
stay attached to the caller's graph, so ``autograd.grad`` of a loss built
from them works (gradient penalties, MAML), as in PyTorch.  Each script runs
on both libraries."""
import numpy as np
import pytest

import fastnn

torch = pytest.importorskip("torch")

W0 = np.array([0.5, -1.0, 2.0], np.float32)
X0 = np.array([1.0, 2.0, 3.0], np.float32)


def _np(t):
    return None if t is None else t.detach().numpy().copy()


def _both(script):
    got, want = script(fastnn), script(torch)
    assert len(got) == len(want)
    for a, b in zip(got, want):
        if isinstance(b, (bool, type(None))):
            assert a == b
        else:
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    return got


def test_gradient_penalty_through_func_grad():
    def script(L):
        w = L.tensor(W0, requires_grad=True)
        x = L.tensor(X0)
        g = L.func.grad(lambda a: L.sin(a * w).sum())(x)
        pen = (g ** 2).sum()
        (dw,) = L.autograd.grad(pen, w)
        return [g.requires_grad, _np(g), _np(dw)]
    got = _both(script)
    assert got[0] is True


def test_wgan_gp_style_penalty_on_a_module():
    def script(L):
        L.manual_seed(0)
        rng = np.random.default_rng(1)
        net = L.nn.Sequential(L.nn.Linear(4, 8), L.nn.Tanh(), L.nn.Linear(8, 1))
        with L.no_grad():
            for p, a in zip(net.parameters(), [rng.standard_normal(s).astype(np.float32)
                                                for s in [(8, 4), (8,), (1, 8), (1,)]]):
                p.copy_(L.tensor(a))
        x = L.tensor(rng.standard_normal((5, 4)).astype(np.float32))
        g = L.func.vmap(L.func.grad(lambda v: net(v).sum()))(x)
        pen = ((g.norm(2, dim=1) - 1) ** 2).mean()
        pen.backward()
        return [_np(p.grad) for p in net.parameters()]
    _both(script)


def test_maml_inner_step_keeps_second_order_terms():
    def script(L):
        w = L.tensor(W0, requires_grad=True)
        x = L.tensor(X0)

        def loss(p, a):
            return ((a * p).sin() ** 2).sum()
        gw = L.func.grad(loss)(w, x)
        adapted = w - 0.1 * gw
        outer = loss(adapted, x + 1)
        (dw,) = L.autograd.grad(outer, w)
        return [gw.requires_grad, _np(dw)]
    _both(script)


def test_input_that_requires_grad_gives_the_hessian_path():
    def script(L):
        x = L.tensor(X0, requires_grad=True)
        g = L.func.grad(lambda a: (a ** 3).sum())(x)
        (h,) = L.autograd.grad(g.sum(), x)
        return [g.requires_grad, _np(g), _np(h)]
    _both(script)


def test_grad_and_value_value_and_aux_stay_attached():
    def script(L):
        w = L.tensor(W0, requires_grad=True)
        x = L.tensor(X0)
        g, (v, aux) = L.func.grad_and_value(
            lambda a: (L.sin(a * w).sum(), (a * w).exp()), has_aux=True)(x)
        (dw,) = L.autograd.grad(v + aux.sum() + g.sum(), w)
        return [v.requires_grad, aux.requires_grad, _np(dw)]
    _both(script)


def test_vjp_and_jvp_results_stay_attached():
    def script(L):
        w = L.tensor(W0, requires_grad=True)
        x = L.tensor(X0)
        out, fn = L.func.vjp(lambda a: L.sin(a * w), x)
        (vg,) = fn(L.ones(3))
        (d1,) = L.autograd.grad(vg.sum() + out.sum(), w)
        o2, jv = L.func.jvp(lambda a: L.sin(a * w), (x,), (L.ones(3),))
        (d2,) = L.autograd.grad(jv.sum(), w)
        return [out.requires_grad, vg.requires_grad, jv.requires_grad, _np(d1), _np(d2)]
    _both(script)


def test_detached_without_an_outer_graph_or_under_no_grad():
    def script(L):
        w = L.tensor(W0, requires_grad=True)
        x = L.tensor(X0)
        g1 = L.func.grad(lambda a: (a ** 3).sum())(x)              # nothing outer
        with L.no_grad():
            g2 = L.func.grad(lambda a: L.sin(a * w).sum())(x)      # outer grad mode off
        out, fn = L.func.vjp(lambda a: a ** 2, x)
        (vg,) = fn(L.ones(3))
        return [g1.requires_grad, g2.requires_grad, out.requires_grad, vg.requires_grad,
                g1.grad_fn is None, g2.grad_fn is None, _np(g2)]
    got = _both(script)
    assert got[:4] == [False] * 4


def test_jacrev_and_hessian_stay_attached():
    def script(L):
        w = L.tensor(W0, requires_grad=True)
        x = L.tensor(X0)
        J = L.func.jacrev(lambda a: L.sin(a * w))(x)
        H = L.func.hessian(lambda a: L.sin(a * w).sum())(x)
        J2 = L.func.jacrev(L.sin)(x)
        return [J.requires_grad, H.requires_grad, J2.requires_grad,
                _np(L.autograd.grad(J.sum(), w)[0]), _np(L.autograd.grad(H.sum(), w)[0])]
    _both(script)
