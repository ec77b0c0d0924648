"""The graph PyTorch 2.13 shows for ``F.linear`` (addmm: bias's
AccumulateGrad, the input's node, TBackward0 before the weight; a view of
it for other than 2-D input) and for the pointwise losses (``l1_loss`` is
composed: Mean/Sum over Abs over Sub; with a weight, l1/mse/huber are
composed too), walked through ``next_functions`` on both libraries."""
import pytest

import fastnn

torch = pytest.importorskip("torch")


def _walk(node, depth=0):
    """(name, children) down the graph; leaves as ('leaf', id of variable)."""
    if node is None:
        return None
    if depth > 6:
        return "..."
    return (node.name(), tuple(_walk(n, depth + 1) for n, _ in node.next_functions))


def _linear_graphs(L):
    F = L.nn.functional
    w = L.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]], requires_grad=True)
    b = L.tensor([0.1, -0.2], requires_grad=True)
    x = L.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    xc = L.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    w0 = L.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]])
    b0 = L.tensor([0.1, -0.2])
    x3 = L.ones(2, 2, 3, requires_grad=True)
    x1 = L.ones(3, requires_grad=True)
    return {
        "2d": F.linear(x, w, b),
        "2d_nobias": F.linear(x, w),
        "2d_input_const": F.linear(xc, w, b),
        "2d_computed_input": F.linear(x * 2, w, b),
        "2d_weight_const": F.linear(x, w0, b0),
        "2d_bias_const": F.linear(x, w0, b),
        "3d": F.linear(x3, w, b),
        "3d_nobias": F.linear(x3, w),
        "1d": F.linear(x1, w, b),
        "1d_nobias": F.linear(x1, w),
        "module": L.nn.Linear(3, 2)(xc),
    }


def test_linear_graph_matches_torch():
    got = {k: _walk(v.grad_fn) for k, v in _linear_graphs(fastnn).items()}
    want = {k: _walk(v.grad_fn) for k, v in _linear_graphs(torch).items()}
    assert got == want
    acc = "torch::autograd::AccumulateGrad"
    assert got["2d"] == ("AddmmBackward0", ((acc, ()), (acc, ()), ("TBackward0", ((acc, ()),))))


def test_linear_edges_reach_the_parameters_in_torchs_order():
    for L in (fastnn, torch):
        w = L.ones(2, 3, requires_grad=True)
        b = L.zeros(2, requires_grad=True)
        x = L.ones(4, 3, requires_grad=True)
        g = L.nn.functional.linear(x, w, b).grad_fn
        (nb, _), (nx, _), (nt, _) = g.next_functions
        assert nb.variable is b and nx.variable is x
        assert nt.name() == "TBackward0" and nt.next_functions[0][0].variable is w
        assert g.next_functions[2][0] is nt                       # the same node each look
        assert isinstance(nt, L.autograd.graph.Node)
        assert type(nt).__name__ == "TBackward0"


def _loss_graphs(L):
    F = L.nn.functional
    x = L.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], requires_grad=True)
    t = L.tensor([[0.0, 1.0, 1.0], [2.0, 0.0, -1.0]])
    out = {}
    for f in ("l1_loss", "mse_loss", "smooth_l1_loss", "huber_loss"):
        for red in ("mean", "sum", "none"):
            out[f"{f}_{red}"] = getattr(F, f)(x, t, reduction=red)
        out[f"{f}_both"] = getattr(F, f)(x, x * 2)
    out["L1Loss"] = L.nn.L1Loss()(x, t)
    w = L.tensor([[1.0, 2.0, 3.0], [0.5, 0.5, 4.0]], requires_grad=True)
    for f in ("l1_loss", "mse_loss", "huber_loss"):
        for red in ("mean", "sum", "none"):
            out[f"{f}_{red}_weighted"] = getattr(F, f)(x, t, reduction=red, weight=w)
            out[f"{f}_{red}_const_weight"] = getattr(F, f)(x, t, reduction=red,
                                                            weight=w.detach())
    return out


def test_loss_node_names_and_edges_match_torch():
    got = {k: _walk(v.grad_fn) for k, v in _loss_graphs(fastnn).items()}
    want = {k: _walk(v.grad_fn) for k, v in _loss_graphs(torch).items()}
    assert got == want
    assert got["l1_loss_mean"][0] == "MeanBackward0"
    assert got["l1_loss_mean"][1][0][0] == "AbsBackward0"


def test_l1_loss_gradients_unchanged():
    x = fastnn.tensor([[0.5, -1.0, 2.0]], requires_grad=True)
    xt = torch.tensor([[0.5, -1.0, 2.0]], requires_grad=True)
    fastnn.nn.functional.l1_loss(x, fastnn.tensor([[0.5, 0.0, 0.0]])).backward()
    torch.nn.functional.l1_loss(xt, torch.tensor([[0.5, 0.0, 0.0]])).backward()
    assert x.grad.tolist() == xt.grad.tolist()


def test_hook_on_a_shown_node_says_where_to_hook():
    w = fastnn.ones(2, 3, requires_grad=True)
    y = fastnn.nn.functional.linear(fastnn.ones(4, 3), w, fastnn.zeros(2, requires_grad=True))
    tnode = y.grad_fn.next_functions[2][0]
    with pytest.raises(RuntimeError, match="register the hook on that node"):
        tnode.register_hook(lambda gi, go: None)
