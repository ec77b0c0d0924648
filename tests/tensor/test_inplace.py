"""In-place ops and the version counter, against PyTorch.

Every in-place method runs (a) on a leaf under no_grad, (b) on a non-leaf
under autograd, where the gradients reaching the tensor's history and the
other operands must equal PyTorch's, and (c) through a view of a non-leaf.
Then the patterns PyTorch programs rely on: the ResNet ``out += identity``,
``x[idx] = v`` and the RNN ``out[:, t] = h`` assignment, ``p.data.mul_``,
and the errors PyTorch raises instead of a wrong gradient."""
import numpy as np
import pytest

import fastnn
import fastnn.nn as nn
from fastnn.testing import requires_torch

from ._table import assert_close, to_np

rng0 = np.random.default_rng(0)
A = rng0.standard_normal((3, 4))
B = rng0.standard_normal((3, 4))
P = rng0.uniform(0.5, 2.0, (3, 4))
M = rng0.random((3, 4)) < 0.5
IDX = np.array([[0, 2], [1, 3], [3, 0]])

# name: (op on tensor t with operands, operand arrays, deterministic under a seed only)
INPLACE = {
    "add_": (lambda m, t, o: t.add_(o), [B]),
    "add_alpha": (lambda m, t, o: t.add_(o, alpha=-0.5), [B]),
    "add_scalar": (lambda m, t: t.add_(2.5), []),
    "iadd": (lambda m, t, o: t.__iadd__(o), [B]),
    "sub_": (lambda m, t, o: t.sub_(o), [B]),
    "isub_scalar": (lambda m, t: t.__isub__(1.0), []),
    "mul_": (lambda m, t, o: t.mul_(o), [B]),
    "mul_scalar": (lambda m, t: t.mul_(3.0), []),
    "imul": (lambda m, t, o: t.__imul__(o), [B]),
    "div_": (lambda m, t, o: t.div_(o), [P]),
    "itruediv": (lambda m, t, o: t.__itruediv__(o), [P]),
    "pow_": (lambda m, t: t.abs_().pow_(1.5), []),
    "neg_": (lambda m, t: t.neg_(), []),
    "abs_": (lambda m, t: t.abs_(), []),
    "exp_": (lambda m, t: t.exp_(), []),
    "log_": (lambda m, t: t.abs_().log_(), []),
    "sqrt_": (lambda m, t: t.abs_().sqrt_(), []),
    "clamp_": (lambda m, t: t.clamp_(-0.5, 0.5), []),
    "clamp_min_": (lambda m, t: t.clamp_min_(0.0), []),
    "clamp_max_": (lambda m, t: t.clamp_max_(0.2), []),
    "clip_tensor": (lambda m, t, lo: t.clip_(min=lo), [B]),
    "zero_": (lambda m, t: t.zero_(), []),
    "fill_": (lambda m, t: t.fill_(1.25), []),
    "fill_tensor": (lambda m, t, v: t.fill_(v.sum()), [B]),
    "copy_": (lambda m, t, o: t.copy_(o), [B]),
    "copy_bcast": (lambda m, t, o: t.copy_(o[0]), [B]),
    "addcmul_": (lambda m, t, a, b: t.addcmul_(a, b, value=0.5), [B, P]),
    "addcdiv_": (lambda m, t, a, b: t.addcdiv_(a, b, value=-2), [B, P]),
    "lerp_": (lambda m, t, e: t.lerp_(e, 0.25), [B]),
    "lerp_tensor": (lambda m, t, e, w: t.lerp_(e, w), [B, P]),
    "masked_fill_": (lambda m, t, k: t.masked_fill_(k, -1.0), [M]),
    "relu_": (lambda m, t: t.relu_(), []),
    "sigmoid_": (lambda m, t: t.sigmoid_(), []),
    "tanh_": (lambda m, t: t.tanh_(), []),
    "floor_": (lambda m, t: t.floor_(), []),
    "round_": (lambda m, t: t.mul_(3).round_(), []),
    "sin_": (lambda m, t: t.sin_(), []),
    "reciprocal_": (lambda m, t: t.abs_().add_(0.5).reciprocal_(), []),
    "rsqrt_": (lambda m, t: t.abs_().add_(0.5).rsqrt_(), []),
    "square_": (lambda m, t: t.square_(), []),
    "scatter_": (lambda m, t, i, s: t.scatter_(1, i, s), [IDX, B[:, :2].copy()]),
    "scatter_add_": (lambda m, t, i, s: t.scatter_add_(1, i, s), [IDX, B[:, :2].copy()]),
    "index_add_": (lambda m, t, i, s: t.index_add_(0, i, s), [np.array([2, 0, 2]), B]),
    "index_fill_": (lambda m, t, i: t.index_fill_(1, i, 0.5), [np.array([1, 3])]),
    "setitem_slice": (lambda m, t, v: _set(t, (slice(None), 1), v[:, 0]), [B]),
    "setitem_index": (lambda m, t, v: _set(t, 1, v[0]), [B]),
    "setitem_mask": (lambda m, t, k: _set(t, k, 0.0), [M]),
    "setitem_scalar": (lambda m, t: _set(t, (0, slice(1, 3)), 7.0), []),
    "setitem_fancy": (lambda m, t, v: _set(t, (m.tensor([0, 2]), m.tensor([1, 3])), v[0, :2]),
                      [B]),
    "index_put_": (lambda m, t, v: t.index_put_((m.tensor([0, 2]),), v[:2]), [B]),
    "index_put_acc": (lambda m, t, v: t.index_put_((m.tensor([0, 0]),), v[:2], accumulate=True),
                      [B]),
    "tril_": (lambda m, t: t.tril_(1), []),
}


def _set(t, index, value):
    t[index] = value
    return t


def _make(lib, arr, grad):
    t = lib.tensor(arr)
    if grad and t.is_floating_point():
        t.requires_grad_(True)
    return t


def _run(lib, name, mode):
    """mode 'leaf_nograd' | 'nonleaf' | 'view': returns (value, [grads])."""
    fn, operands = INPLACE[name]
    x = _make(lib, A, mode != "leaf_nograd")
    ops = [_make(lib, o, mode != "leaf_nograd") for o in operands]
    if mode == "leaf_nograd":
        with lib.no_grad():
            out = fn(lib, x, *ops)
        assert out is x
        return to_np(x), []
    if mode == "nonleaf":
        y = x * 1.5
        out = fn(lib, y, *ops)
        assert out is y
        res = y
    else:                                        # through a view of a non-leaf
        big = (x * 1.5).repeat(2, 1)
        v = big[3:]
        out = fn(lib, v, *ops)
        assert out is v
        res = big * 1.0 + v.sum()
    up = lib.tensor(np.random.default_rng(1).standard_normal(res.shape))
    (res * up).sum().backward()
    return to_np(res), [None if t.grad is None else to_np(t.grad) for t in [x] + ops]


@pytest.mark.parametrize("mode", ["leaf_nograd", "nonleaf", "view"])
@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_matches_torch(name, mode):
    torch = requires_torch()
    if mode == "view" and name in ("tril_",):
        pytest.skip("tril_ needs a 2-D view of the same shape")
    fv, fg = _run(fastnn, name, mode)
    tv, tg = _run(torch, name, mode)
    assert_close(fv, tv, np.float64, what=f"{name} value")
    for i, (a, b) in enumerate(zip(fg, tg)):
        if a is None and b is None:
            continue
        assert_close(a if a is not None else np.zeros_like(b),
                     b if b is not None else np.zeros_like(a), np.float64,
                     what=f"{name} grad {i}")


@pytest.mark.parametrize("name", ["add_", "mul_scalar", "relu_", "zero_", "copy_", "clamp_"])
def test_leaf_requiring_grad_in_place_under_grad_mode_raises(name):
    fn, operands = INPLACE[name]
    x = fastnn.tensor(A, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        fn(fastnn, x, *[fastnn.tensor(o) for o in operands])
    with fastnn.no_grad():
        fn(fastnn, x, *[fastnn.tensor(o) for o in operands])     # allowed without grad


def test_view_of_leaf_requiring_grad_raises():
    x = fastnn.tensor(A, requires_grad=True)
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        x[0].mul_(2)


def test_sigmoid_inplace_after_sigmoid_saved_output_raises_at_backward():
    x = fastnn.tensor(A, requires_grad=True)
    y = x.sigmoid()                    # saves its output y
    y.sigmoid_()                       # changes y in place
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


@pytest.mark.parametrize("make,change", [
    (lambda x: x.exp(), lambda y: y.add_(1)),              # exp saves its output
    (lambda x: x.tanh(), lambda y: y.mul_(2)),
    (lambda x: x * 1, lambda y: None),
])
def test_saved_output_changed_in_place(make, change):
    x = fastnn.tensor(A, requires_grad=True)
    y = make(x)
    z = y * y                          # mul saves y (its inputs)
    if change(y) is None:
        z.sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), 2 * A)
        return
    with pytest.raises(RuntimeError, match="is at version"):
        z.sum().backward()


def test_relu_inplace_on_nonleaf_needs_no_copy_and_is_exact():
    x = fastnn.tensor(A, requires_grad=True)
    y = x * 2
    y.relu_()
    (y * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 6.0 * (A > 0))


def test_resnet_pattern_matches_torch():
    torch = requires_torch()
    rng = np.random.default_rng(3)
    xa = rng.standard_normal((2, 4, 5, 5)).astype(np.float32)
    res = []
    for lib, mods in ((fastnn, fastnn.nn), (torch, torch.nn)):
        lib.manual_seed(0)
        conv = mods.Conv2d(4, 4, 3, padding=1, bias=False)
        bn = mods.BatchNorm2d(4)
        w = np.random.default_rng(4).standard_normal((4, 4, 3, 3)).astype(np.float32) * 0.2
        with lib.no_grad():
            conv.weight.copy_(lib.tensor(w))
        x = lib.tensor(xa, requires_grad=True)
        identity = x
        out = bn(conv(x))
        out += identity
        out = lib.relu(out)
        (out * lib.tensor(np.linspace(-1, 1, out.numel(), dtype=np.float32)
                          .reshape(out.shape))).sum().backward()
        res.append((to_np(out), to_np(x.grad), to_np(conv.weight.grad), to_np(bn.weight.grad)))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_p_data_mul_never_affects_autograd():
    p = fastnn.tensor(A.copy(), requires_grad=True)
    y = p * p                          # saves p
    p.data.mul_(0.5)                   # invisible to autograd (PyTorch's .data)
    y.sum().backward()                 # no version error
    np.testing.assert_allclose(p.grad.numpy(), 2 * (A * 0.5))   # uses the current values
    assert p._version == 0
    q = fastnn.tensor(A.copy(), requires_grad=True)
    z = q * q
    q.detach().mul_(0.5)               # detach() shares the version counter
    assert q._version == 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_data_add_manual_sgd_step():
    p = fastnn.tensor(A.copy(), requires_grad=True)
    (p * p).sum().backward()
    p.data.add_(p.grad, alpha=-0.1)
    np.testing.assert_allclose(p.detach().numpy(), A - 0.1 * 2 * A)
    assert p.is_leaf and p.requires_grad and p.grad_fn is None


def test_setitem_with_value_requiring_grad_builds_the_graph():
    torch = requires_torch()
    res = []
    for lib in (fastnn, torch):
        v = lib.tensor(B[:2], requires_grad=True)
        w = lib.tensor(B[2], requires_grad=True)
        x = lib.zeros(4, 4, dtype=lib.float64)
        x[lib.tensor([0, 2])] = v
        x[3] = w * 2
        x[1, 1:3] = 5.0
        up = lib.tensor(np.arange(16.0).reshape(4, 4))
        (x * up).sum().backward()
        res.append((to_np(x), to_np(v.grad), to_np(w.grad)))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b)


def test_rnn_pattern_out_slice_assignment_matches_torch():
    torch = requires_torch()
    N, T, H = 2, 4, 3
    rng = np.random.default_rng(5)
    xs, wa = rng.standard_normal((N, T, H)), rng.standard_normal((H, H)) * 0.5
    res = []
    for lib in (fastnn, torch):
        x = lib.tensor(xs, requires_grad=True)
        w = lib.tensor(wa, requires_grad=True)
        out = lib.zeros(N, T, H, dtype=lib.float64)
        h = lib.zeros(N, H, dtype=lib.float64)
        for t in range(T):
            h = lib.tanh(x[:, t] + h @ w)
            out[:, t] = h
        up = lib.tensor(rng.standard_normal((N, T, H)) if lib is fastnn else res_up)
        if lib is fastnn:
            res_up = up.numpy()
        (out * up).sum().backward()
        res.append((to_np(out), to_np(x.grad), to_np(w.grad)))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-10)


def test_detach_shares_version_counter_data_does_not():
    x = fastnn.tensor(A.copy(), requires_grad=True)
    d = x.detach()
    d.add_(1)
    assert x._version == d._version == 1
    x.data.add_(1)
    assert x._version == 1
    np.testing.assert_allclose(x.detach().numpy(), A + 2)


def test_view_shares_version_counter():
    x = fastnn.tensor(A.copy())
    v = x[1:]
    n = x.narrow(1, 0, 2)
    x.add_(1)
    assert v._version == n._version == x._version == 1
    v.mul_(2)
    assert x._version == 2
    np.testing.assert_allclose(x.numpy()[1:], (A[1:] + 1) * 2)


@pytest.mark.parametrize("how", ["select", "narrow", "unbind", "chunk", "split", "getitem"])
def test_inplace_through_view_pieces_matches_torch(how):
    """(PyTorch refuses in-place changes of unbind/split/chunk pieces under
    autograd; fastnn allows them, with the gradient of the same change made
    through select/narrow.)"""
    torch = requires_torch()
    pick = {"select": lambda y: y.select(0, 1), "narrow": lambda y: y.narrow(1, 1, 2),
            "unbind": lambda y: y.unbind(1)[2], "chunk": lambda y: y.chunk(2, dim=1)[1],
            "split": lambda y: y.split([1, 2])[1], "getitem": lambda y: y[1:, ::2]}[how]
    same = {"unbind": lambda y: y.select(1, 2), "chunk": lambda y: y.narrow(1, 2, 2),
            "split": lambda y: y.narrow(0, 1, 2)}.get(how, pick)
    res = []
    for lib in (fastnn, torch):
        if lib is torch:
            pick = same
        x = lib.tensor(A, requires_grad=True)
        w = lib.tensor(B[0, :2], requires_grad=True)
        y = x * 2
        v = pick(y)
        v.mul_(3)
        v.add_(w.sum())
        z = (y * lib.tensor(P)).sum() + (v * v).sum()
        z.backward()
        res.append((to_np(y), to_np(x.grad), to_np(w.grad)))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-10)


# views that are not an index of their base: view, reshape, permute, ... (the
# change is replayed on the base as an index assignment, PyTorch's CopySlices)
SHAPE_VIEWS = {
    "view": lambda y: y.view(12),
    "reshape": lambda y: y.reshape(2, 6),
    "view_neg": lambda y: y.view(-1, 3),
    "permute": lambda y: y.permute(1, 0),
    "transpose": lambda y: y.transpose(0, 1),
    "t": lambda y: y.t(),
    "mT": lambda y: y.mT,
    "unsqueeze": lambda y: y.unsqueeze(1),
    "flatten": lambda y: y.flatten(),
    "unflatten": lambda y: y.unflatten(1, (2, 2)),
    "movedim": lambda y: y.movedim(0, 1),
    "view_then_slice": lambda y: y.view(4, 3)[1:3],
    "slice_then_view": lambda y: y[1:].reshape(8),
    "transpose_then_select": lambda y: y.transpose(0, 1)[2],
    "strided_then_view": lambda y: y[:, ::2].t(),
    "unfold": lambda y: y.unfold(1, 2, 2),
    "view_as": lambda y: y.view_as(y.new_zeros(4, 3)),
    "squeeze": lambda y: y.view(1, 3, 4).squeeze(0),
}
SHAPE_VIEW_OPS = {
    "mul_grad": lambda lib, v, w: v.mul_(w.sum()),
    "add_": lambda lib, v, w: v.add_(w[0]),
    "iadd": lambda lib, v, w: v.__iadd__(3.0),
    "relu_inplace": lambda lib, v, w: lib.nn.functional.relu(v, inplace=True),
    "sigmoid_": lambda lib, v, w: v.sigmoid_(),
    "pow_": lambda lib, v, w: v.abs_().pow_(1.5),
    "zero_": lambda lib, v, w: v.zero_(),
    "copy_": lambda lib, v, w: v.copy_(w.sum() * lib.ones_like(v)),
    "masked_fill_": lambda lib, v, w: v.masked_fill_(v > 0, 0.5),
    "clamp_": lambda lib, v, w: v.clamp_(min=lib.tensor(-0.3, dtype=lib.float64), max=w.sum()),
    "setitem": lambda lib, v, w: v.__setitem__(0, w.sum()),
}


@pytest.mark.parametrize("op", sorted(SHAPE_VIEW_OPS))
@pytest.mark.parametrize("how", sorted(SHAPE_VIEWS))
def test_inplace_on_shape_views_under_autograd_matches_torch(how, op):
    torch = requires_torch()
    res = []
    for lib in (fastnn, torch):
        x = lib.tensor(A, requires_grad=True)
        w = lib.tensor(B[0, :2], requires_grad=True)
        y = x * 2
        v = SHAPE_VIEWS[how](y)
        SHAPE_VIEW_OPS[op](lib, v, w)
        z = (y * lib.tensor(P)).sum() + (v * v).sum()
        z.backward()
        res.append((to_np(y), to_np(v), to_np(x.grad),
                    None if w.grad is None else to_np(w.grad)))
    for a, b in zip(*res):
        if b is None:
            assert a is None or not a.any()
        else:
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_inplace_on_shape_view_uses_the_base_history():
    """A base changed through its reshape view, then used again: its gradient
    runs through the change (the ResNet-style ``h.view(...).add_(...)``)."""
    torch = requires_torch()
    res = []
    for lib in (fastnn, torch):
        x = lib.tensor(A, requires_grad=True)
        h = x.exp()
        h2 = h * 1.0
        flat = h2.view(-1)
        flat += lib.arange(12, dtype=lib.float64)
        flat.mul_(lib.linspace(0.5, 2.0, 12, dtype=lib.float64))
        loss = (h2 ** 2).sum()
        loss.backward()
        res.append((loss.item(), to_np(x.grad)))
    assert res[0][0] == pytest.approx(res[1][0], rel=1e-12)
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-10)


def test_inplace_on_shape_view_errors_as_torch():
    x = fastnn.tensor(A, requires_grad=True)
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        x.view(12).add_(1)
    with pytest.raises(RuntimeError):
        (x * 2)[0].expand(3, 4).add_(1)         # overlapping memory: PyTorch refuses too
    y = x.exp()
    y.t().mul_(2)                               # exp saved its output: backward refuses
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_inplace_dtype_rules():
    i = fastnn.tensor([1, 2, 3])
    with pytest.raises(RuntimeError, match="can't be cast"):
        i.add_(1.5)
    with pytest.raises(RuntimeError, match="can't be cast"):
        i.mul_(fastnn.tensor([1.0, 2.0, 3.0]))
    with pytest.raises(RuntimeError, match="can't be cast"):
        i.div_(2)
    i.add_(2)
    assert i.tolist() == [3, 4, 5] and i.dtype == np.int64
    f = fastnn.tensor([1.0, 2.0])
    f.add_(fastnn.tensor([1, 1]))
    f.mul_(fastnn.tensor([2.0, 2.0], dtype=fastnn.float64))
    assert f.tolist() == [4.0, 6.0] and f.dtype == np.float32
    b = fastnn.tensor([True, False])
    with pytest.raises(RuntimeError, match="can't be cast"):
        b.add_(1)


def test_inplace_shape_rules():
    x = fastnn.zeros(3, 4)
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        x.add_(fastnn.ones(2, 3, 4)).sum()
    x.add_(fastnn.ones(4))
    assert x.sum().item() == 12
    with pytest.raises(RuntimeError, match="read-only"):
        fastnn.ones(3).expand(2, 3).add_(1)


def test_random_fills_follow_manual_seed():
    a = fastnn.empty(5)
    fastnn.manual_seed(3)
    a.normal_()
    b = fastnn.empty(5)
    fastnn.manual_seed(3)
    b.normal_()
    assert np.array_equal(a.numpy(), b.numpy())
    u = fastnn.empty(1000).uniform_(2, 3)
    assert 2 <= u.min().item() and u.max().item() < 3
    z = fastnn.empty(1000).bernoulli_(0.3)
    assert set(np.unique(z.numpy())) <= {0.0, 1.0} and 0.2 < z.mean().item() < 0.4
    n = fastnn.zeros(2000, dtype=fastnn.float64).normal_(1.0, 0.5)
    assert abs(n.mean().item() - 1) < 0.05 and abs(n.std().item() - 0.5) < 0.05


def test_random_fill_on_nonleaf_cuts_the_gradient():
    x = fastnn.tensor(A, requires_grad=True)
    y = x * 2
    y.uniform_()
    (y * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), y.detach().numpy())


def test_inplace_returns_self_and_bumps_version_under_no_grad():
    x = fastnn.tensor(A.copy(), requires_grad=True)
    with fastnn.no_grad():
        v0 = x._version
        assert x.mul_(2) is x and x.clamp_(-1, 1) is x and x.zero_() is x
        assert x._version == v0 + 3
    assert x.is_leaf and x.requires_grad


def test_nn_relu_inplace_style_graph():
    lin = nn.Linear(4, 3)
    x = fastnn.tensor(A.astype(np.float32), requires_grad=True)
    h = lin(x)
    h.relu_()
    h.sum().backward()
    assert x.grad is not None and lin.weight.grad is not None


def test_consumer_recorded_before_an_inplace_op_keeps_the_old_history():
    x = fastnn.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    z = y * 3                  # recorded before y changes
    y.mul_(2)
    z.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 6.0])   # as PyTorch: 6, not 12


def test_rnn_reading_the_output_it_writes_matches_torch():
    """Reading out[t-1] (a view saved by the product) and then writing out[t]
    bumps the shared version: PyTorch refuses the backward, and so does fastnn
    (rather than returning a wrong gradient)."""
    torch = requires_torch()
    for lib in (fastnn, torch):
        w = lib.tensor([0.5, -1.0], requires_grad=True)
        out = lib.zeros(3, 2, dtype=lib.float64)
        out[0] = w
        for t in range(1, 3):
            out[t] = out[t - 1] * w
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            out.sum().backward()




# ------------------------------------------------ copy_ across dtypes
COPY_CASES = [("int64", [1.7, -2.3], "float32"), ("bool", [0, 2, -1], "int64"),
              ("uint8", [1.7, 2.9, 255.0], "float32"), ("int32", [3.9, -0.5], "float64"),
              ("bool", [0.0, 0.5], "float32"), ("float32", [1, 2], "int64"),
              ("int8", [True, False], "bool")]


@pytest.mark.parametrize("dst,values,src", COPY_CASES)
def test_copy_casts_across_dtypes_as_torch(dst, values, src):
    torch = requires_torch()
    outs = []
    for m in (fastnn, torch):
        x = m.zeros(len(values), dtype=getattr(m, dst))
        r = x.copy_(m.tensor(values, dtype=getattr(m, src)))
        assert r is x
        outs.append(x.numpy())
    np.testing.assert_array_equal(outs[0], outs[1])
    assert outs[0].dtype == outs[1].dtype


def test_copy_cast_hard_expectations():
    x = fastnn.zeros(2, dtype=fastnn.long)
    assert x.copy_(fastnn.tensor([1.7, -2.3])).tolist() == [1, -2]
    b = fastnn.zeros(3, dtype=fastnn.bool).copy_(fastnn.tensor([0, 2, -1]))
    assert b.tolist() == [False, True, True]
    y = fastnn.zeros(2, 3, dtype=fastnn.uint8).copy_(fastnn.tensor([1.5, 2.5, 3.5]))
    assert y.tolist() == [[1, 2, 3]] * 2
    with pytest.raises(RuntimeError):
        fastnn.zeros(2, 3).copy_(fastnn.ones(4))


# ------------------------------------------------ writes through diagonal()
DIAG_CASES = [((2, 2), dict()), ((2, 3), dict(offset=1)), ((3, 2), dict(offset=-1)),
              ((2, 3, 3), dict(dim1=1, dim2=2)), ((2, 3, 3), dict(dim1=0, dim2=2)),
              ((3, 3), dict(offset=5))]


@pytest.mark.parametrize("shape,kw", DIAG_CASES)
def test_diagonal_is_a_writable_view_as_torch(shape, kw):
    torch = requires_torch()
    outs = []
    for m in (fastnn, torch):
        x = m.ones(*shape)
        x.diagonal(**kw).fill_(0)
        m.diagonal(x, **kw).add_(5)
        outs.append(x.numpy())
    np.testing.assert_array_equal(outs[0], outs[1])


def test_diagonal_write_hard_expectations():
    x = fastnn.ones(2, 2)
    x.diagonal().fill_(0)
    assert x.tolist() == [[0.0, 1.0], [1.0, 0.0]]
    x = fastnn.ones(2, 3)
    fastnn.diagonal(x, offset=1).zero_()
    assert x.tolist() == [[1.0, 0.0, 1.0], [1.0, 1.0, 0.0]]
    assert x.diagonal()._version == x._version


def test_diagonal_inplace_under_autograd_as_torch():
    torch = requires_torch()
    grads = []
    for m in (fastnn, torch):
        w = m.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        y = w * 2
        y.diagonal().mul_(3)
        (y * m.arange(4.0).reshape(2, 2)).sum().backward()
        grads.append((y.detach().numpy(), w.grad.numpy()))
    np.testing.assert_allclose(grads[0][0], grads[1][0])
    np.testing.assert_allclose(grads[0][1], grads[1][1])


# A view made before an in-place change of its storage, used after it: its
# node is re-derived from the base as it is now (PyTorch regenerates it), so
# the gradient flows through the change instead of the stale history.
STALE_VIEWS = {
    "sibling_view": lambda y: y.view(-1),
    "sibling_slice": lambda y: y[:, 1:],
    "sibling_t": lambda y: y.t(),
    "row": lambda y: y[1],
    "unsqueeze": lambda y: y.unsqueeze(0),
    "expand": lambda y: y[0].expand(2, 4),
    "view_of_view": lambda y: y.view(4, 3)[1:],
}
STALE_CHANGES = {
    "through_other_view": lambda lib, y, w: y[0].mul_(w),
    "base_itself": lambda lib, y, w: y.mul_(w[0] + 1.0),
    "setitem_on_base": lambda lib, y, w: y.__setitem__((slice(None), 0), w[:3] * 3),
    "through_shape_view": lambda lib, y, w: y.t()[2].add_(w[:3]),
}


@pytest.mark.parametrize("change", sorted(STALE_CHANGES))
@pytest.mark.parametrize("how", sorted(STALE_VIEWS))
def test_view_used_after_inplace_change_of_its_base_matches_torch(how, change):
    torch = requires_torch()
    res = []
    for lib in (fastnn, torch):
        x = lib.tensor(A, requires_grad=True)
        w = lib.tensor(B[1], requires_grad=True)
        y = x * 2
        v = STALE_VIEWS[how](y)
        STALE_CHANGES[change](lib, y, w)
        z = (v * lib.arange(float(v.numel()), dtype=lib.float64).view(v.shape)).sum()
        z.backward()
        res.append((to_np(v), to_np(x.grad), to_np(w.grad)))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_view_of_a_buffer_filled_under_autograd_requires_grad_as_torch():
    """out = zeros(...); o1 = out[1]; out[1] = h * 2: o1 now carries h's
    gradient (and requires grad), as in PyTorch; detached aliases do not."""
    h = fastnn.ones(3, requires_grad=True)
    out = fastnn.zeros(2, 3)
    o0, o1 = out[0], out[1]
    d = out.detach()
    out[1] = h * 2
    assert o1.requires_grad and o0.requires_grad and o1.grad_fn is not None
    assert not d.requires_grad and not (d * 1).requires_grad
    (o1 * 3).sum().backward()
    assert h.grad.tolist() == [6.0, 6.0, 6.0]


@pytest.mark.parametrize("how", ["base", "view"])
def test_retained_grad_follows_an_inplace_change_as_torch(how):
    torch = requires_torch()
    res = []
    for lib in (fastnn, torch):
        x = lib.tensor(A, requires_grad=True)
        y = x * 2
        t = y if how == "base" else y.view(12)
        t.retain_grad()
        t.mul_(3)
        (t * lib.tensor(P).view(t.shape)).sum().backward()
        res.append((to_np(t.grad), to_np(x.grad), t.retains_grad))
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-12)
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-12)
    assert res[0][2] == res[1][2]


@pytest.mark.parametrize("how", ["view", "index", "t"])
def test_inplace_on_a_view_made_under_no_grad_raises_as_torch(how):
    """Changing such a view with grad mode on would bypass the base's graph
    (a silently wrong gradient): PyTorch refuses it, and so does fastnn;
    detach() and .data stay allowed."""
    torch = requires_torch()
    for lib in (fastnn, torch):
        x = lib.ones(2, 3, requires_grad=True)
        y = x * 2
        with lib.no_grad():
            v = {"view": lambda: y.view(6), "index": lambda: y[0], "t": lambda: y.t()}[how]()
            v.mul_(1.0)                          # inside no_grad: allowed
        with pytest.raises(RuntimeError, match="created in no_grad mode"):
            v.mul_(2)
        y.detach().mul_(2)
        y.data.add_(1)
        y.sum().backward()
        assert x.grad.tolist() == [[2.0] * 3] * 2
    buf = fastnn.zeros(4)                        # a base that needs no grad: allowed
    with fastnn.no_grad():
        bv = buf.view(2, 2)
    bv.add_(1)
    assert buf.tolist() == [1.0] * 4


def test_view_index_finds_the_elements_of_any_strided_view():
    """The index that replays an in-place change of a view on its base: the
    same elements in the view's order, for contiguous and strided bases,
    reversed strides, and None for memory outside the base."""
    from fastnn._tensor import _view_index
    cases = [(np.arange(24.0).reshape(4, 6), lambda b: b.T[1:, ::2]),
             (np.arange(24.0).reshape(4, 6)[:, ::2], lambda b: b.T[1:]),
             (np.arange(12.0).reshape(3, 4), lambda b: b.T[::-1]),
             (np.arange(12.0).reshape(3, 4), lambda b: b.reshape(2, 6)[:, None])]
    for b, make in cases:
        v = make(b)
        np.testing.assert_array_equal(b[_view_index(v, b)], v)
    assert _view_index(np.arange(3.0), np.arange(12.0).reshape(3, 4)) is None
    with pytest.raises(RuntimeError, match="single memory location"):
        b = np.arange(3.0)
        _view_index(np.broadcast_to(b, (2, 3)), b)
