"""``fastnn.func`` (``torch.func``): grad, grad_and_value, vjp, jvp, jacrev,
jacfwd, hessian, vmap, functional_call and stack_module_state against
PyTorch, including per-sample gradients and a model ensemble."""
import numpy as np
import pytest

import fastnn
from fastnn.testing import requires_torch

RNG = np.random.default_rng(1)


def _both():
    torch = requires_torch()
    return torch, fastnn


def _np(tree):
    if isinstance(tree, (tuple, list)):
        return [a for t in tree for a in _np(t)]
    if isinstance(tree, dict):
        return [a for k in sorted(tree) for a in _np(tree[k])]
    return [np.asarray(tree.detach().numpy())]


def _same(a, b, tol=1e-10):
    a, b = _np(a), _np(b)
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x.shape == y.shape
        np.testing.assert_allclose(x, y, rtol=tol, atol=tol)


def _f(M, x, y):
    return (M.sin(x) * y).sum() + (x ** 2 * y.exp()).sum()


@pytest.mark.parametrize("what", ["grad", "grad_argnums", "grad_and_value", "grad_grad",
                                  "has_aux", "vjp", "jvp", "jacrev", "jacfwd", "hessian"])
def test_transforms_match_torch(what):
    x0, y0, v0 = RNG.normal(size=3), RNG.normal(size=3), RNG.normal(size=3)
    res = {}
    for M in _both():
        fn = M.func
        x, y, v = M.tensor(x0), M.tensor(y0), M.tensor(v0)
        if what == "grad":
            r = fn.grad(lambda a, b: _f(M, a, b))(x, y)
        elif what == "grad_argnums":
            r = fn.grad(lambda a, b: _f(M, a, b), argnums=(0, 1))(x, y)
        elif what == "grad_and_value":
            r = fn.grad_and_value(lambda a, b: _f(M, a, b), argnums=1)(x, y)
        elif what == "grad_grad":
            r = fn.grad(lambda a: fn.grad(lambda b: (M.sin(b) * b ** 3).sum())(a).sum())(x)
        elif what == "has_aux":
            r = fn.grad(lambda a: ((a ** 3).sum(), {"sq": a * a}), has_aux=True)(x)
        elif what == "vjp":
            out, f_vjp = fn.vjp(lambda a, b: M.sin(a) * b, x, y)
            r = (out, f_vjp(v))
        elif what == "jvp":
            r = fn.jvp(lambda a: M.sin(a) * a.sum(), (x,), (v,))
        elif what == "jacrev":
            r = fn.jacrev(lambda a, b: M.tanh(a) * b.sum(), argnums=(0, 1))(x, y)
        elif what == "jacfwd":
            r = fn.jacfwd(lambda a: M.tanh(a).outer(a))(x)
        else:
            r = fn.hessian(lambda a: (M.sin(a) * a.prod()).sum())(x)
        res[M.__name__] = r
    _same(res["fastnn"], res["torch"])
    for t in _np(res["fastnn"]):
        assert t is not None


def test_grad_result_is_not_attached_to_a_graph():
    x = fastnn.tensor([1.0, 2.0])
    g = fastnn.func.grad(lambda a: (a ** 3).sum())(x)
    assert not g.requires_grad and g.grad_fn is None


def test_grad_errors():
    with pytest.raises(RuntimeError, match="scalar"):
        fastnn.func.grad(lambda a: a * 2)(fastnn.ones(3))
    with pytest.raises(RuntimeError, match="argnums"):
        fastnn.func.grad(lambda a: a.sum(), argnums=2)(fastnn.ones(3))


def test_per_sample_gradients_match_torch():
    """The torch.func tutorial's per-sample gradients: vmap(grad(loss))
    over functional_call of a model with its parameters detached."""
    xs, ts = RNG.normal(size=(5, 4)), RNG.integers(0, 3, 5)
    res = {}
    for M in _both():
        M.manual_seed(0)
        model = M.nn.Sequential(M.nn.Linear(4, 8), M.nn.Tanh(), M.nn.Linear(8, 3)).double()
        if M is fastnn:
            model.load_state_dict({k: fastnn.tensor(v) for k, v in res["sd"].items()})
        else:
            res["sd"] = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
        params = {k: v.detach() for k, v in model.named_parameters()}
        buffers = {k: v.detach() for k, v in model.named_buffers()}

        def loss(p, b, x, t):
            out = M.func.functional_call(model, (p, b), (x.unsqueeze(0),))
            return M.nn.functional.cross_entropy(out, t.unsqueeze(0))

        g = M.func.vmap(M.func.grad(loss), in_dims=(None, None, 0, 0))(
            params, buffers, M.tensor(xs), M.tensor(ts))
        res[M.__name__] = g
    _same(res["fastnn"], res["torch"])
    assert res["fastnn"]["0.weight"].shape == (5, 8, 4)


def test_ensemble_with_stack_module_state_matches_torch():
    x0 = RNG.normal(size=(6, 4))
    res = {}
    for M in _both():
        M.manual_seed(0)
        models = [M.nn.Linear(4, 2).double() for _ in range(3)]
        if M is fastnn:
            for m, sd in zip(models, res["sds"]):
                m.load_state_dict({k: fastnn.tensor(v) for k, v in sd.items()})
        else:
            res["sds"] = [{k: v.detach().numpy().copy() for k, v in m.state_dict().items()}
                          for m in models]
        params, buffers = M.func.stack_module_state(models)
        base = models[0]

        def run(p, b, x):
            return M.func.functional_call(base, (p, b), (x,))

        res[M.__name__] = M.func.vmap(run, in_dims=(0, 0, None))(params, buffers,
                                                                  M.tensor(x0))
    _same(res["fastnn"], res["torch"])


def test_functional_call_restores_the_module_and_checks_keys():
    m = fastnn.nn.Linear(3, 2)
    w = m.weight
    out = fastnn.func.functional_call(m, {"weight": fastnn.zeros(2, 3)}, (fastnn.ones(1, 3),))
    np.testing.assert_allclose(out.detach().numpy(), m.bias.detach().numpy()[None])
    assert m.weight is w
    with pytest.raises(RuntimeError, match="missing keys"):
        fastnn.func.functional_call(m, {"weight": fastnn.zeros(2, 3)}, (fastnn.ones(1, 3),),
                                    strict=True)
    from fastnn.nn.utils.stateless import functional_call
    assert functional_call is fastnn.func.functional_call


def test_vmap_dims_and_errors():
    x = fastnn.tensor(RNG.normal(size=(3, 4)))
    r = fastnn.func.vmap(lambda a: a * 2, in_dims=1, out_dims=1)(x)
    np.testing.assert_allclose(r.numpy(), x.numpy() * 2)
    r2 = fastnn.func.vmap(lambda a, b: (a * b).sum(), in_dims=(0, None))(x, fastnn.ones(4))
    np.testing.assert_allclose(r2.numpy(), x.numpy().sum(1))
    with pytest.raises(ValueError, match="same size"):
        fastnn.func.vmap(lambda a, b: a + b)(x, fastnn.ones(2, 4))


def test_toplevel_vmap_is_func_vmap_as_torch():
    torch = fastnn.testing.requires_torch()
    for M in (fastnn, torch):
        assert M.vmap is M.func.vmap
        y = M.vmap(lambda r: (r * r).sum())(M.tensor([[1.0, 2.0], [3.0, 4.0]]))
        assert y.tolist() == [5.0, 25.0]


def test_transforms_ignore_an_outer_no_grad_as_torch():
    # PyTorch's transforms differentiate inside an outer no_grad (a no_grad
    # inside the function still holds); fastnn's gave zeros there
    x0 = np.array([1.0, 2.0], np.float32)
    got = {}
    for M in _both():
        f = lambda v: (v ** 3).sum()                     # noqa: E731

        def inner(v, M=M):
            with M.no_grad():
                c = v * 2
            return (c * v).sum()
        x = M.tensor(x0)
        with M.no_grad():
            got[M.__name__] = [
                M.func.grad(f)(x), M.func.grad_and_value(f)(x)[0],
                M.func.jacrev(lambda v: v ** 3)(x), M.func.hessian(f)(x),
                M.func.vjp(lambda v: v ** 3, x)[1](M.ones(2))[0],
                M.func.jvp(lambda v: v ** 3, (x,), (M.ones(2),))[1],
                M.vmap(M.func.grad(f))(M.ones(2, 2)), M.func.grad(inner)(x),
                M.func.grad(f)(M.tensor(x0, requires_grad=True))]
    for a, b in zip(got["torch"], got["fastnn"]):
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-6)
        assert np.abs(b.numpy()).sum() > 0
