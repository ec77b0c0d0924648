"""What a user Function's ``ctx`` says about its outputs, as in PyTorch:
``mark_non_differentiable`` (no grad_fn; backward receives zeros),
``set_materialize_grads(False)`` (None instead of zeros), ``mark_dirty`` (the
input changed in place comes back itself, re-bound to the Function's node),
and non-Tensor outputs of ``forward`` (returned as they are, None in
backward).  The ``*_matches_torch`` tests run one script on both libraries;
the others check fastnn alone."""
import warnings

import numpy as np
import pytest

import fastnn
from fastnn.testing.oracle_engine import gradients as oracle_gradients


def _lst(g):
    return None if g is None else g.tolist()


# ------------------------------------------------------------ the Functions
def _split(L, seen, materialize=True):
    """x -> (2x, x + 1 marked non-differentiable, the index of the largest
    element (an integer Tensor), 3, None); backward records what it gets."""
    class Split(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(materialize)
            y = x * 2
            z = x + 1
            ctx.mark_non_differentiable(z)
            return y, z, x.argmax().reshape(1), 3, None

        @staticmethod
        def backward(ctx, gy, gz, gi, g3, gn):
            seen.append([_lst(g) for g in (gy, gz, gi, g3, gn)])
            if gy is None:
                return None
            return gy * 2 if gz is None else gy * 2 + gz

    return Split


def _two(L, seen):
    """x -> (x * x, 3x) with set_materialize_grads(False)."""
    class Two(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            ctx.save_for_backward(x)
            return x * x, x * 3

        @staticmethod
        def backward(ctx, ga, gb):
            seen.append((_lst(ga), _lst(gb)))
            x, = ctx.saved_tensors
            g = None
            if ga is not None:
                g = ga * 2 * x
            if gb is not None:
                g = gb * 3 if g is None else g + gb * 3
            return g

    return Two


def _double_(L):
    """x *= 2 in place, marked dirty."""
    class Double_(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 2

    return Double_


def _add_(L, tag=True):
    """x += w in place, marked dirty; returns (x, 'tag'), or x alone."""
    class Add_(L.autograd.Function):
        @staticmethod
        def forward(ctx, x, w):
            x.add_(w)
            ctx.mark_dirty(x)
            return (x, "tag") if tag else x

        @staticmethod
        def backward(ctx, g, *gtag):
            assert gtag == ((None,) if tag else ())
            return g, g * 10

    return Add_


def _scale_saved(L):
    """x *= 3 in place, marked dirty and saved: backward multiplies by the
    new x."""
    class Scale(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(3)
            ctx.mark_dirty(x)
            ctx.save_for_backward(x)
            return x

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return g * x

    return Scale


# ---------------------------------------------------- against PyTorch
def _non_diff_script(L):
    res, seen = [], []
    x = L.tensor([1.0, 3.0, 2.0], requires_grad=True)
    out = _split(L, seen).apply(x)
    res.append([type(o).__name__ for o in out])
    res.append([o.requires_grad if isinstance(o, L.Tensor) else o for o in out])
    res.append([o.grad_fn is None for o in out[:3]])
    out[0].sum().backward()
    res += [seen[-1], x.grad.tolist()]
    # without materialised gradients: None for what received nothing
    x = L.tensor([1.0, 3.0, 2.0], requires_grad=True)
    _split(L, seen, materialize=False).apply(x)[0].sum().backward()
    res += [seen[-1], x.grad.tolist()]
    for k in (0, 1):
        x = L.tensor([1.0, -2.0], requires_grad=True)
        _two(L, seen).apply(x)[k].sum().backward()
        res += [seen[-1], x.grad.tolist()]
    # create_graph through the unmaterialised backward, then differentiate again
    x = L.tensor([1.0, -2.0], requires_grad=True)
    a, b = _two(L, seen).apply(x)
    g, = L.autograd.grad((a * a).sum(), x, create_graph=True)
    res += [seen[-1], g.tolist(), g.requires_grad]
    gg, = L.autograd.grad(g.sum(), x)
    res.append(gg.tolist())
    # hooks on the output no gradient reached see None; retain_grad keeps None
    hooked = []
    x = L.tensor([1.0, -2.0], requires_grad=True)
    a, b = _two(L, seen).apply(x)
    b.register_hook(lambda g: hooked.append(("b", _lst(g))))
    a.register_hook(lambda g: hooked.append(("a", _lst(g))))
    b.retain_grad()
    a.sum().backward()
    res += [sorted(hooked), b.grad is None, x.grad.tolist()]
    return res


def test_non_differentiable_and_materialize_match_torch():
    torch = pytest.importorskip("torch")
    assert _non_diff_script(fastnn) == _non_diff_script(torch)


def _dirty_script(L):
    res = []
    D = _double_(L)
    # a computed tensor: the same object back, version bumped, new node
    a = L.tensor([1.0, 2.0], requires_grad=True)
    b = a * 1
    v0 = b._version
    c = D.apply(b)
    res.append([c is b, b._version - v0, c.requires_grad, c.is_leaf,
                "Double_Backward" in repr(c.grad_fn), b.tolist()])
    (c * c).sum().backward()
    res.append(a.grad.tolist())
    # a leaf that requires grad: PyTorch's error (after the forward ran)
    leaf = L.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError) as e:
        D.apply(leaf)
    res.append(str(e.value))
    # grad mode off: a detached alias comes back; a plain tensor comes back itself
    with L.no_grad():
        leaf = L.tensor([1.0, 2.0], requires_grad=True)
        r = D.apply(leaf)
        res.append([r is leaf, r.requires_grad, r.grad_fn is None, leaf.tolist()])
    p = L.tensor([1.0, 2.0])
    v0 = p._version
    r = D.apply(p)
    res.append([r is p, p._version - v0, r.requires_grad])
    # a plain tensor changed by an input that requires grad joins the graph
    p = L.tensor([1.0, 2.0])
    w = L.tensor([3.0, 4.0], requires_grad=True)
    r, tag = _add_(L).apply(p, w)
    res.append([r is p, tag, r.requires_grad, r.is_leaf, p.tolist()])
    (r * 3).sum().backward()
    res.append(w.grad.tolist())
    # a view: its base sees the change and the Function's node
    base = L.zeros(3)
    w = L.tensor([1.0, 2.0], requires_grad=True)
    v = base[1:]
    r = _add_(L, tag=False).apply(v, w)     # (PyTorch allows one output here)
    res.append([r is v, base.requires_grad, base.tolist()])
    (base * L.tensor([1.0, 2.0, 3.0])).sum().backward()
    res.append(w.grad.tolist())
    a = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = a * 1
    v = b[:2]
    res.append(D.apply(v) is v)
    b.sum().backward()
    res.append(a.grad.tolist())
    # saving the dirty input saves its new value (and its new version)
    a = L.tensor([1.0, 2.0], requires_grad=True)
    _scale_saved(L).apply(a * 1).sum().backward()
    res.append(a.grad.tolist())
    # create_graph through it
    a = L.tensor([1.0, 2.0], requires_grad=True)
    c = D.apply(a * a)
    g, = L.autograd.grad(c.sum(), a, create_graph=True)
    gg, = L.autograd.grad(g.sum(), a)
    res += [g.tolist(), gg.tolist()]
    # PyTorch's other style: setup_context marks what forward did
    class Halve_(L.autograd.Function):
        @staticmethod
        def forward(x, flag):
            x.div_(2)
            return x, x.sign()

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.mark_dirty(inputs[0])
            ctx.mark_non_differentiable(output[1])

        @staticmethod
        def backward(ctx, g, gsign):
            return g / 2 + gsign, None

    a = L.tensor([1.0, -2.0], requires_grad=True)
    b = a * 1
    r, s = Halve_.apply(b, True)
    res.append([r is b, r.requires_grad, s.requires_grad, b.tolist(), s.tolist()])
    (r * r).sum().backward()
    res.append(a.grad.tolist())
    # an integer tensor changed in place stays outside the graph
    class Count(L.autograd.Function):
        @staticmethod
        def forward(ctx, n, w):
            n.add_(1)
            ctx.mark_dirty(n)
            return n, w * 2

        @staticmethod
        def backward(ctx, gn, gw):
            return None, gw * 2

    n = L.tensor([1, 2])
    w = L.tensor([1.0], requires_grad=True)
    r, q = Count.apply(n, w)
    res.append([r is n, r.requires_grad, r.grad_fn is None, n.tolist(), q.requires_grad])
    return res


def test_mark_dirty_matches_torch():
    torch = pytest.importorskip("torch")
    assert _dirty_script(fastnn) == _dirty_script(torch)


def _non_tensor_script(L):
    res, seen = [], []

    class Mixed(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, 3, None, "s", np.ones(2), [x * 3]

        @staticmethod
        def backward(ctx, g, *rest):
            seen.append([r is None for r in rest])
            return g * 2

    x = L.tensor([1.0, 2.0], requires_grad=True)
    out = Mixed.apply(x)
    res.append([type(o).__name__ for o in out])
    res.append([out[1], out[2], out[3], out[4].tolist(), out[5][0].requires_grad])
    out[0].sum().backward()
    res += [seen[-1], x.grad.tolist()]
    return res


def test_non_tensor_outputs_match_torch():
    torch = pytest.importorskip("torch")
    assert _non_tensor_script(fastnn) == _non_tensor_script(torch)


# --------------------------------------------------------- fastnn alone
def test_non_differentiable_output_has_no_graph_and_zero_gradient():
    seen = []
    x = fastnn.tensor([1.0, 3.0, 2.0], requires_grad=True)
    y, z, idx, three, none = _split(fastnn, seen).apply(x)
    assert y.requires_grad and y.grad_fn is not None
    assert not z.requires_grad and z.grad_fn is None and z.is_leaf
    assert not idx.requires_grad and idx.grad_fn is None
    assert three == 3 and type(three) is int and none is None
    with pytest.raises(RuntimeError):
        z.sum().backward()                  # nothing to differentiate
    y.sum().backward()
    assert seen[-1] == [[1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [0], None, None]
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0])


def test_set_materialize_grads_false_passes_none():
    seen = []
    x = fastnn.tensor([1.0, 3.0, 2.0], requires_grad=True)
    _split(fastnn, seen, materialize=False).apply(x)[0].sum().backward()
    assert seen[-1] == [[1.0, 1.0, 1.0], None, None, None, None]
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0])
    x = fastnn.tensor([1.0, -2.0], requires_grad=True)
    _two(fastnn, seen).apply(x)[1].sum().backward()
    assert seen[-1] == (None, [1.0, 1.0])
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])
    x = fastnn.tensor([1.0, -2.0], requires_grad=True)
    _two(fastnn, seen).apply(x)[0].sum().backward()
    assert seen[-1] == ([1.0, 1.0], None)
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, -4.0])


def test_set_materialize_grads_false_with_hooks_and_retain_grad():
    """A hook on the output no gradient reached is called with None, and
    retain_grad keeps None there (PyTorch's); the reached output is as usual."""
    seen, hooked = [], []
    x = fastnn.tensor([1.0, -2.0], requires_grad=True)
    a, b = _two(fastnn, seen).apply(x)
    b.register_hook(lambda g: hooked.append(("b", g)))
    a.register_hook(lambda g: hooked.append(("a", g.tolist())))
    b.retain_grad()
    a.sum().backward()
    assert sorted(hooked) == [("a", [1.0, 1.0]), ("b", None)]
    assert b.grad is None
    assert seen[-1] == ([1.0, 1.0], None)
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, -4.0])
    # a hook may supply the missing gradient
    x = fastnn.tensor([1.0, -2.0], requires_grad=True)
    a, b = _two(fastnn, seen).apply(x)
    b.register_hook(lambda g: fastnn.ones(2) if g is None else g)
    a.sum().backward()
    assert seen[-1] == ([1.0, 1.0], [1.0, 1.0])
    np.testing.assert_array_equal(x.grad.numpy(), [5.0, -1.0])


def test_set_materialize_grads_false_agrees_with_the_oracle():
    seen = []
    x = fastnn.tensor([1.5, -2.0], dtype=fastnn.float64, requires_grad=True)
    a, _ = _two(fastnn, seen).apply(x)
    out = (a * a).sum()                     # x ** 4
    want, = oracle_gradients([out], [np.ones((), np.float64)], [x])
    assert seen[-1][1] is None
    out.backward()
    assert seen[-1][1] is None
    np.testing.assert_allclose(x.grad.numpy(), want)
    np.testing.assert_allclose(want, 4 * np.array([1.5, -2.0]) ** 3)


def test_non_tensor_outputs_come_back_as_they_are():
    got = []

    class Mixed(fastnn.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, 3, None, "s"

        @staticmethod
        def backward(ctx, g, g3, gn, gs):
            got.append((g3, gn, gs))
            return g * 2

    x = fastnn.tensor([1.0, 2.0], requires_grad=True)
    y, three, none, s = Mixed.apply(x)
    assert (three, none, s) == (3, None, "s") and type(three) is int
    y.sum().backward()
    assert got == [(None, None, None)]
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])


def test_mark_dirty_returns_the_input_rebound_to_the_node():
    D = _double_(fastnn)
    a = fastnn.tensor([1.0, 2.0], requires_grad=True)
    b = a * 1
    old_node = b.grad_fn
    v0 = b._version
    c = D.apply(b)
    assert c is b
    assert b._version == v0 + 2             # the forward's mul_ and mark_dirty's bump
    assert b.grad_fn is not old_node and b.grad_fn is not None and b.requires_grad
    np.testing.assert_array_equal(b.detach().numpy(), [2.0, 4.0])
    (b * b).sum().backward()                # d/da (2a)^2 = 8a
    np.testing.assert_array_equal(a.grad.numpy(), [8.0, 16.0])


def test_mark_dirty_on_a_leaf_that_requires_grad_raises():
    leaf = fastnn.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad has been used "
                                           "in an in-place operation"):
        _double_(fastnn).apply(leaf)
    assert leaf.is_leaf and leaf.grad_fn is None
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        _double_(fastnn).apply(fastnn.tensor([1.0, 2.0, 3.0], requires_grad=True)[:2])


def test_mark_dirty_without_a_graph():
    D = _double_(fastnn)
    p = fastnn.tensor([1.0, 2.0])
    assert D.apply(p) is p and not p.requires_grad
    np.testing.assert_array_equal(p.numpy(), [2.0, 4.0])
    leaf = fastnn.tensor([1.0, 2.0], requires_grad=True)
    with fastnn.no_grad():
        r = D.apply(leaf)
    assert r is not leaf and not r.requires_grad and r.grad_fn is None
    assert r._version == leaf._version      # an alias: the same array and counter
    r.add_(1)
    np.testing.assert_array_equal(leaf.detach().numpy(), [3.0, 5.0])


def test_mark_dirty_must_name_returned_tensors():
    class NotReturned(fastnn.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g

    with pytest.raises(RuntimeError, match="marked as dirty .* not returned"):
        NotReturned.apply(fastnn.tensor([1.0], requires_grad=True) * 1)

    class NotAnInput(fastnn.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x * 2
            ctx.mark_dirty(y)
            return y

        @staticmethod
        def backward(ctx, g):
            return g * 2

    x = fastnn.tensor([1.0], requires_grad=True)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        y = NotAnInput.apply(x * 1)
    assert any("mark_dirty" in str(m.message) for m in w)
    y.backward(fastnn.ones(1))
    np.testing.assert_array_equal(x.grad.numpy(), [2.0])


def test_mark_dirty_version_checks():
    # the saved dirty input is checked at its new version ...
    a = fastnn.tensor([1.0, 2.0], requires_grad=True)
    c = _scale_saved(fastnn).apply(a * 1)
    c.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [3.0, 6.0])
    # ... and changing it afterwards makes the backward raise
    a = fastnn.tensor([1.0, 2.0], requires_grad=True)
    c = _scale_saved(fastnn).apply(a * 1)
    c.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        c.sum().backward()
    # an op that saved the input before the Function changed it raises too
    a = fastnn.tensor([1.0, 2.0], requires_grad=True)
    b = a * 1
    e = b * b
    _double_(fastnn).apply(b)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        e.sum().backward()


def test_mark_dirty_view_updates_its_base():
    a = fastnn.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = a * 1
    v = b[:2]
    assert _double_(fastnn).apply(v) is v
    np.testing.assert_array_equal(b.detach().numpy(), [2.0, 4.0, 3.0])
    b.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [2.0, 2.0, 1.0])


def test_mark_dirty_view_with_two_outputs():
    """PyTorch refuses a Function with more than one output whose dirty input
    is a view; fastnn's re-binding has no such limit."""
    base = fastnn.zeros(3)
    w = fastnn.tensor([1.0, 2.0], requires_grad=True)
    v = base[1:]
    r, tag = _add_(fastnn).apply(v, w)
    assert r is v and tag == "tag" and base.requires_grad
    np.testing.assert_array_equal(base.detach().numpy(), [0.0, 1.0, 2.0])
    (base * fastnn.tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [20.0, 30.0])


def test_mark_dirty_double_backward():
    a = fastnn.tensor([1.0, 2.0], requires_grad=True)
    b = a * a
    c = _double_(fastnn).apply(b)
    assert c is b
    g, = fastnn.autograd.grad(c.sum(), a, create_graph=True)
    np.testing.assert_array_equal(g.detach().numpy(), [4.0, 8.0])
    assert g.requires_grad
    gg, = fastnn.autograd.grad(g.sum(), a)
    np.testing.assert_array_equal(gg.numpy(), [4.0, 4.0])
