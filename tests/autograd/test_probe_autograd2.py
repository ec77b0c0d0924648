"""Autograd and introspection details compared with PyTorch: node classes,
node names, inference mode, optimizer state dicts, dtype comparisons."""
import numpy as np
import pytest

import fastnn

torch = pytest.importorskip("torch")


def _pair(fn):
    """fn(module, a, b) for torch and fastnn, on the same leaves."""
    rng = np.random.default_rng(0)
    A = (rng.random((3, 4)) + 0.5).astype(np.float32)
    B = (rng.random((3, 4)) + 0.5).astype(np.float32)
    out = []
    for m in (torch, fastnn):
        a = m.tensor(A, requires_grad=True)
        b = m.tensor(B, requires_grad=True)
        out.append(fn(m, a, b))
    return out


def test_grad_fn_type_name_is_the_node_name():
    for fn in (lambda m, a, b: a * b, lambda m, a, b: a.sum(1), lambda m, a, b: (a @ b.t()),
               lambda m, a, b: a.relu(), lambda m, a, b: a.exp()):
        ty, fy = _pair(fn)
        assert type(fy.grad_fn).__name__ == type(ty.grad_fn).__name__
        assert type(fy.grad_fn).__name__ == fy.grad_fn.name()
        assert repr(fy.grad_fn).startswith(f"<{type(ty.grad_fn).__name__} object at 0x")
    ty, fy = _pair(lambda m, a, b: a * b)
    assert fy.grad_fn is fy.grad_fn
    assert type(fy.grad_fn) is type(((fy + 1) * 2).grad_fn.next_functions[0][0].next_functions[0][0])


def test_next_functions_match_torch():
    ty, fy = _pair(lambda m, a, b: (a * 2 + b.detach()).relu())
    def walk(node):
        if node is None:
            return None
        return (type(node).__name__, node.name() if hasattr(node, "name") else None,
                tuple((walk(n), i) for n, i in node.next_functions))

    assert walk(fy.grad_fn) == walk(ty.grad_fn)
    x = fastnn.ones(2, requires_grad=True)
    y = x * x
    acc = y.grad_fn.next_functions[0][0]
    assert type(acc).__name__ == "AccumulateGrad" and acc.variable is x
    assert y.grad_fn.next_functions[1][0] is acc


_NAMED = {
    "t": lambda m, a, b: a.t(),
    "t1d": lambda m, a, b: a[0].t(),
    "transpose": lambda m, a, b: a.transpose(0, 1),
    "swapaxes": lambda m, a, b: a.swapaxes(0, 1),
    "torch.transpose": lambda m, a, b: m.transpose(a, 0, 1),
    "unsqueeze": lambda m, a, b: a.unsqueeze(0),
    "squeeze": lambda m, a, b: a[None].squeeze(),
    "squeeze_dim": lambda m, a, b: a[None].squeeze(0),
    "squeeze_dims": lambda m, a, b: a[None].squeeze((0, 1)),
    "squeeze_noop": lambda m, a, b: a.squeeze(0),
    "rsub": lambda m, a, b: 1 - a,
    "rsub_fn": lambda m, a, b: m.rsub(a, 1),
    "bmm": lambda m, a, b: m.bmm(a[None], b.t()[None]),
    "prod_dim": lambda m, a, b: a.prod(1),
    "median": lambda m, a, b: a.median(),
    "median_dim": lambda m, a, b: a.median(1)[0],
    "nanmedian": lambda m, a, b: a.nanmedian(),
    "scatter_value": lambda m, a, b: a.scatter(1, m.tensor([[0], [1], [2]]), 1.0),
    "scatter_src": lambda m, a, b: a.scatter(1, m.tensor([[0], [1], [2]]), b),
    "scatter_add": lambda m, a, b: a.scatter_add(1, m.tensor([[0], [1], [2]]), b),
    "unfold": lambda m, a, b: a.unfold(1, 2, 1),
    "logaddexp": lambda m, a, b: m.logaddexp(a, b),
    "logaddexp2": lambda m, a, b: m.logaddexp2(a, b),
    "linear_bias_no_grad": lambda m, a, b: m.nn.functional.linear(a, b.detach(), m.ones(3)),
    "linear": lambda m, a, b: m.nn.functional.linear(a, b.detach()),
    "upsample_bilinear": lambda m, a, b: m.nn.functional.interpolate(
        a[None, None], scale_factor=2, mode="bilinear"),
    "upsample_linear1d": lambda m, a, b: m.nn.functional.interpolate(
        a[None], scale_factor=2, mode="linear"),
    "upsample_nearest": lambda m, a, b: m.nn.functional.interpolate(a[None], scale_factor=2),
}
_INDEX = ["a[:]", "a[:, None]", "a[None, :]", "a[0, None]", "a[None, 0]", "a[1:, 0]",
          "a[0, 1:]", "a[:, :]", "a[0:3, None]", "a[...]", "a[:, 0:4]", "a[..., None]",
          "a[1:, ...]", "a[:, 1:]", "a[0]", "a[None]"]


@pytest.mark.parametrize("op", sorted(_NAMED))
def test_node_names_match_torch(op):
    ty, fy = _pair(_NAMED[op])
    assert fy.grad_fn.name() == ty.grad_fn.name()
    assert type(fy.grad_fn).__name__ == type(ty.grad_fn).__name__
    np.testing.assert_allclose(fy.detach().numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("expr", _INDEX)
def test_indexing_node_names_match_torch(expr):
    ty, fy = _pair(lambda m, a, b: eval(expr))
    assert fy.grad_fn.name() == ty.grad_fn.name()


def test_squeeze_without_a_unit_dim_is_a_new_view():
    a = fastnn.ones(2, 3, requires_grad=True)
    s = a.squeeze(0)
    assert s is not a and s.grad_fn.name() == "SqueezeBackward1"
    s.sum().backward()
    assert a.grad.shape == a.shape


def test_is_inference_matches_torch():
    def probe(m):
        x = m.ones(2, requires_grad=True)
        seen = []
        with m.inference_mode():
            seen.append(m.is_inference_mode_enabled())
            a = m.ones(3)
            b = x * 2
            c = m.tensor([1.0, 2.0])
            with m.inference_mode(False):
                seen.append(m.is_inference_mode_enabled())
                d = m.ones(1)
        seen.append(m.is_inference_mode_enabled())
        e = m.ones(1)
        with m.no_grad():
            f = m.ones(1)
        return seen + [t.is_inference() for t in (x, a, b, c, d, e, f)] + [b.requires_grad]

    assert probe(fastnn) == probe(torch)


def test_dtype_is_not_equal_to_a_string():
    for name in ("float32", "float64", "int64", "bool"):
        for text in (name, "torch." + name):
            assert (getattr(fastnn, name) == text) == (getattr(torch, name) == text)
            assert (getattr(fastnn, name) != text) == (getattr(torch, name) != text)
            assert (text == getattr(fastnn, name)) == (text == getattr(torch, name))
    assert fastnn.float32 == np.float32 and fastnn.ones(1).dtype == np.dtype("float32")
    assert fastnn.float32 == fastnn.ones(1).dtype


def test_leaf_hook_runs_once_on_the_summed_gradient():
    def probe(m):
        x = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
        seen, post = [], []
        h = x.register_hook(lambda g: seen.append(g.tolist()) or g.clamp(max=3.0))
        x.register_post_accumulate_grad_hook(lambda t: post.append(t.grad.tolist()))
        (x * x + x).sum().backward()
        first = x.grad.tolist()
        h.remove()
        x.grad = None
        (x * x).sum().backward()
        return seen, post, first, x.grad.tolist()

    assert probe(fastnn) == probe(torch)


def test_anomaly_flags_at_top_level():
    assert fastnn.is_anomaly_enabled() == torch.is_anomaly_enabled() is False
    with fastnn.autograd.detect_anomaly(), torch.autograd.detect_anomaly():
        assert fastnn.is_anomaly_enabled() and torch.is_anomaly_enabled()
    assert fastnn.is_anomaly_check_nan_enabled() == torch.is_anomaly_check_nan_enabled()


def _node_hook_probe(m):
    x = m.tensor([1.0, 2.0], requires_grad=True)
    w = m.tensor([3.0, 4.0], requires_grad=True)
    y = x * w
    z = (y * 2).sum()
    seen = []

    def post(gi, go):
        seen.append(("post", [None if g is None else g.tolist() for g in gi],
                     [None if g is None else g.tolist() for g in go]))
        return (gi[0] * 10, gi[1])

    def pre(go):
        seen.append(("pre", [g.tolist() for g in go]))
        return (go[0] + 1,)

    h1 = y.grad_fn.register_hook(post)
    y.grad_fn.register_prehook(pre)
    (y * 2).grad_fn.metadata["tag"] = 1
    z.backward(retain_graph=True)
    first = (x.grad.tolist(), w.grad.tolist())
    h1.remove()
    x.grad = w.grad = None
    z.backward()
    return seen, first, x.grad.tolist(), w.grad.tolist(), y.grad_fn.metadata


def test_node_hooks_match_torch():
    assert _node_hook_probe(fastnn) == _node_hook_probe(torch)


def test_autograd_graph_node_and_increment_version():
    x = fastnn.ones(2, requires_grad=True)
    tx = torch.ones(2, requires_grad=True)
    for m, a in ((fastnn, x), (torch, tx)):
        y = (a * 2).sum()
        assert isinstance(y.grad_fn, m.autograd.graph.Node)
        assert isinstance(y.grad_fn.next_functions[0][0], m.autograd.graph.Node)
        assert not isinstance(a, m.autograd.graph.Node)
    b, tb = fastnn.ones(2), torch.ones(2)
    fastnn.autograd.graph.increment_version(b)
    torch.autograd.graph.increment_version(tb)
    assert b._version == tb._version
    s = x.exp()
    fastnn.autograd.graph.increment_version(s)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        s.sum().backward()


def _captured_hook_probe(m):
    x = m.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g.tolist()) or g * 2)
    (g,) = m.autograd.grad((x * x).sum(), x)
    (x * x).sum().backward(inputs=[x])
    return g.tolist(), x.grad.tolist(), seen


def test_leaf_hooks_run_for_autograd_grad_and_backward_inputs():
    assert _captured_hook_probe(fastnn) == _captured_hook_probe(torch)


def test_retained_grad_accumulates_over_backward_calls():
    def probe(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        y.retain_grad()
        (y * y).sum().backward(retain_graph=True)
        first = y.grad.tolist()
        (y * y).sum().backward()
        return first, y.grad.tolist(), x.grad.tolist()

    assert probe(fastnn) == probe(torch)


def test_non_leaf_grad_read_warns_like_torch():
    import warnings

    def probe(m):
        x = m.ones(2, requires_grad=True)
        y = x * 3
        z = x * 2
        z.retain_grad()
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            got = (y.grad, x.grad, z.grad)
        return got, [str(r.message)[:40] for r in w]

    assert probe(fastnn) == probe(torch)


def test_wrong_number_of_gradients_message():
    class F(fastnn.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x * y

        @staticmethod
        def backward(ctx, g):
            return g

    a, b = fastnn.ones(2, requires_grad=True), fastnn.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"FBackward returned an incorrect number of "
                                           r"gradients \(expected 2, got 1\)"):
        F.apply(a, b).sum().backward()


def test_inference_tensor_views_and_in_place_outside():
    def probe(m):
        with m.inference_mode():
            a = m.ones(2, 2)
            inside = a.add_(1).is_inference()
        out = [inside, a[0].is_inference(), a.view(4).is_inference(), a.t().is_inference(),
               a.clone().is_inference()]
        for change in (lambda: a.add_(1), lambda: a.__setitem__(0, 5.0)):
            try:
                change()
                out.append("ok")
            except RuntimeError as e:
                out.append(str(e)[:60])
        return out     # (PyTorch raises after writing; fastnn before)

    assert probe(fastnn) == probe(torch)


def test_promote_types_and_result_type_give_dtypes():
    for a, b in (("int64", "float32"), ("int8", "uint8"), ("bool", "int32"), ("float32", "float64")):
        got = fastnn.promote_types(getattr(fastnn, a), getattr(fastnn, b))
        want = torch.promote_types(getattr(torch, a), getattr(torch, b))
        assert isinstance(got, fastnn.dtype) and str(got) == str(want)
    got = fastnn.result_type(fastnn.ones(1, dtype=fastnn.int64), 1.0)
    assert isinstance(got, fastnn.dtype)
    assert str(got) == str(torch.result_type(torch.ones(1, dtype=torch.int64), 1.0))


_EDGES = {
    "add_number": lambda m, a, b: a + 1,
    "mul_number": lambda m, a, b: 2 * a,
    "div_number": lambda m, a, b: a / 2,
    "rsub": lambda m, a, b: 1 - a,
    "pow": lambda m, a, b: a ** 2,
    "sum_dim": lambda m, a, b: a.sum(0),
    "view": lambda m, a, b: a.view(12),
    "gather": lambda m, a, b: a.gather(1, m.tensor([[0], [1], [2]])),
    "where": lambda m, a, b: m.where(a > 1, a, b),
    "masked_fill": lambda m, a, b: a.masked_fill(a > 1, 0.0),
    "index_select": lambda m, a, b: a.index_select(0, m.tensor([0, 2])),
    "nll_loss": lambda m, a, b: m.nn.functional.nll_loss(a, m.tensor([0, 1, 2])),
    "radd": lambda m, a, b: 1 + a,
    "mse_target": lambda m, a, b: m.nn.functional.mse_loss(a, b.detach()),
    "conv_bias": lambda m, a, b: m.nn.functional.conv2d(
        a[None, None], b.detach()[None, None, :2, :2], m.ones(1)),
    "scatter_add": lambda m, a, b: a.scatter_add(1, m.tensor([[0], [1], [2]]), b),
}


@pytest.mark.parametrize("op", sorted(_EDGES))
def test_next_functions_have_torchs_edges(op):
    def edges(y):
        return [(None if n is None else type(n).__name__, i) for n, i in y.grad_fn.next_functions]

    ty, fy = _pair(_EDGES[op])
    assert fy.grad_fn.name() == ty.grad_fn.name()
    assert edges(fy) == edges(ty)


def test_anomaly_warns_naming_the_node():
    import warnings

    def probe(m):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            with m.autograd.detect_anomaly():
                x = m.tensor([-1.0], requires_grad=True)
                with pytest.raises(RuntimeError, match="returned nan values"):
                    x.sqrt().sum().backward()
        return [str(r.message).split(".")[0] for r in w if "Error detected" in str(r.message)]

    assert probe(fastnn) == probe(torch) == ["Error detected in SqrtBackward0"]


def test_leaf_hook_fires_when_its_last_edge_delivers():
    """The hook runs as soon as the leaf's gradient is complete, before the
    rest of the backward (what lets DDP's all-reduce overlap it)."""
    order = []

    class Mark(fastnn.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            order.append("early-node")
            return g

    w = fastnn.ones(2, requires_grad=True)
    x = fastnn.ones(2, requires_grad=True)
    w.register_post_accumulate_grad_hook(lambda t: order.append("w-hook"))
    y = Mark.apply(x) * 1.0 + (w * 2.0)        # w's edge is near the output
    z = Mark.apply(Mark.apply(y.sum() * x))    # x's chain runs after w's
    z.sum().backward()
    assert order.index("w-hook") < len(order) - 1
    assert w.grad.tolist() == [4.0, 4.0]


def test_leaf_hooks_once_with_create_graph():
    import warnings

    def probe(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        seen, post = [], []
        x.register_hook(lambda g: seen.append(g.tolist()))
        x.register_post_accumulate_grad_hook(lambda t: post.append(t.grad.tolist()))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (x * x + x).sum().backward(create_graph=True)
        (g,) = m.autograd.grad((x * x + x).sum(), x, create_graph=True)
        y = x * 3
        y.retain_grad()
        (y * y).sum().backward(create_graph=True, retain_graph=True)
        (y * y).sum().backward(create_graph=True)
        return seen, post, g.tolist(), y.grad.tolist()

    assert probe(fastnn) == probe(torch)


def test_number_divided_by_tensor_is_torchs_reciprocal_product():
    rng = np.random.default_rng(1)
    a = (rng.random(10000) + 0.1).astype(np.float32)
    for num in (3, 2.5, 1, 7.0):
        got = (num / fastnn.tensor(a)).numpy()
        want = (num / torch.tensor(a)).numpy()
        np.testing.assert_array_equal(got, want)       # bitwise: rounded twice, as torch
    ty, fy = _pair(lambda m, a, b: 2 / a)
    assert fy.grad_fn.name() == ty.grad_fn.name() == "MulBackward0"
    assert [type(n).__name__ for n, _ in fy.grad_fn.next_functions] == \
        [type(n).__name__ for n, _ in ty.grad_fn.next_functions]
    fy.sum().backward()
    ty.sum().backward()
    fa = fy.grad_fn.next_functions[0][0].next_functions[0][0].variable
    ta = ty.grad_fn.next_functions[0][0].next_functions[0][0].variable
    np.testing.assert_allclose(fa.grad.numpy(), ta.grad.numpy(), rtol=1e-6)
    assert (3 / fastnn.arange(1, 5)).tolist() == (3 / torch.arange(1, 5)).tolist()


def test_layout_output_nr_and_is_view_match_torch():
    def probe(m):
        x = m.ones(2, 3, requires_grad=True)
        a, b = x.split(1)
        return [repr(x.layout), x.layout == m.strided, m.strided == "strided",
                isinstance(m.strided, m.layout), x.output_nr, a.output_nr, b.output_nr,
                x._is_view(), x[0]._is_view(), x.view(6)._is_view(), (x * 2)._is_view()]

    assert probe(fastnn) == probe(torch)
