"""F.scaled_dot_product_attention and nn.MultiheadAttention against PyTorch
(values and gradients, float64 and float32) for masks (bool, float, key
padding, causal), scale, grouped-query heads, need_weights / averaging,
batch_first, kdim/vdim, bias_kv, zero_attn; dropout; gradcheck; thread
invariance; shape errors."""
import numpy as np
import pytest

import fastnn
import fastnn.nn as fnn
import fastnn.nn.functional as F
from fastnn import _core


def _sdpa(torch, H, shapes, dtype=np.float64, tmask=None, fmask=None, **kw):
    r = np.random.default_rng(0)
    arrs = [r.standard_normal(s).astype(dtype) for s in shapes]
    tt = [torch.tensor(a, requires_grad=True) for a in arrs]
    ft = [fastnn.tensor(a, requires_grad=True) for a in arrs]
    a = torch.nn.functional.scaled_dot_product_attention(*tt, attn_mask=tmask, **kw)
    b = F.scaled_dot_product_attention(*ft, attn_mask=fmask, **kw)
    H.close(a, b, dtype)
    g = r.standard_normal(a.shape).astype(dtype)
    (a * torch.tensor(g)).sum().backward()
    (b * fastnn.tensor(g)).sum().backward()
    for x, y in zip(tt, ft):
        H.close(x.grad, y.grad, dtype)


S4 = ((2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 7))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kw", [{}, {"is_causal": True}, {"scale": 0.3}])
def test_sdpa_plain_causal_scale(torch, H, dtype, kw):
    _sdpa(torch, H, S4, dtype, **kw)


@pytest.mark.parametrize("shape", [(5, 6), (3, 1, 6), (2, 1, 5, 6), (2, 3, 5, 6), (1, 6)])
def test_sdpa_bool_masks_broadcast(torch, H, shape):
    m = np.random.default_rng(1).random(shape) > 0.4
    _sdpa(torch, H, S4, tmask=torch.tensor(m), fmask=fastnn.tensor(m))


def test_sdpa_float_mask_and_its_gradient(torch, H):
    r = np.random.default_rng(2)
    m = r.standard_normal((3, 1, 6))
    _sdpa(torch, H, S4, tmask=torch.tensor(m), fmask=fastnn.tensor(m))
    q, k = r.standard_normal((2, 3, 5, 4)), r.standard_normal((2, 3, 6, 4))
    m = r.standard_normal((3, 5, 6))
    tm, fm = torch.tensor(m, requires_grad=True), fastnn.tensor(m, requires_grad=True)
    a = torch.nn.functional.scaled_dot_product_attention(torch.tensor(q), torch.tensor(k),
                                                         torch.tensor(k), attn_mask=tm)
    b = F.scaled_dot_product_attention(fastnn.tensor(q), fastnn.tensor(k), fastnn.tensor(k),
                                       attn_mask=fm)
    (a ** 2).sum().backward()
    (b ** 2).sum().backward()
    H.close(tm.grad, fm.grad, np.float64)


def test_sdpa_fully_masked_row_gives_zeros(torch, H):
    m = np.ones((5, 6), bool)
    m[2] = False
    _sdpa(torch, H, S4, tmask=torch.tensor(m), fmask=fastnn.tensor(m))


@pytest.mark.parametrize("shapes", [((4, 5, 8), (4, 6, 8), (4, 6, 3)),
                                    ((5, 8), (6, 8), (6, 3))])
def test_sdpa_3d_and_2d(torch, H, shapes):
    _sdpa(torch, H, shapes)


def test_sdpa_grouped_query(torch, H):
    _sdpa(torch, H, ((2, 6, 5, 4), (2, 2, 6, 4), (2, 2, 6, 3)), enable_gqa=True)


def test_sdpa_dropout_changes_output_and_gradcheck_holds():
    fastnn.manual_seed(0)
    q = fastnn.randn(2, 2, 4, 3, dtype="float64", requires_grad=True)
    a = F.scaled_dot_product_attention(q, q, q, dropout_p=0.5)
    b = F.scaled_dot_product_attention(q, q, q, dropout_p=0.5)
    c = F.scaled_dot_product_attention(q, q, q)
    assert not np.allclose(a.detach().numpy(), b.detach().numpy())
    assert not np.allclose(a.detach().numpy(), c.detach().numpy())
    k = fastnn.randn(2, 2, 5, 3, dtype="float64", requires_grad=True)
    v = fastnn.randn(2, 2, 5, 2, dtype="float64", requires_grad=True)
    m = fastnn.randn(2, 1, 4, 5, dtype="float64", requires_grad=True)
    assert fastnn.gradcheck(lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, m),
                            [q, k, v, m])
    assert fastnn.gradcheck(lambda q, k, v: F.scaled_dot_product_attention(
        q, k, v, is_causal=True), [q, k, v])


def test_sdpa_errors():
    q = fastnn.randn(2, 3, 5, 4)
    k = fastnn.randn(2, 3, 6, 4)
    with pytest.raises(RuntimeError, match="attn_mask should not be set"):
        F.scaled_dot_product_attention(q, k, k, attn_mask=fastnn.ones(5, 6), is_causal=True)
    with pytest.raises(ValueError, match="shapes do not agree"):
        F.scaled_dot_product_attention(q, fastnn.randn(2, 3, 6, 5), k)
    with pytest.raises(ValueError, match="does not broadcast"):
        F.scaled_dot_product_attention(q, k, k, attn_mask=fastnn.ones(4, 6))
    with pytest.raises(ValueError, match="heads"):
        F.scaled_dot_product_attention(q, fastnn.randn(2, 2, 6, 4), fastnn.randn(2, 2, 6, 4))
    with pytest.raises(TypeError, match="same dtype"):
        F.scaled_dot_product_attention(q, k.double(), k)
    with pytest.raises(ValueError, match="batch"):
        F.scaled_dot_product_attention(q, fastnn.randn(3, 3, 6, 4), fastnn.randn(3, 3, 6, 4))


MHA_CASES = [
    ({}, {}, False), ({}, {}, True), ({"bias": False}, {}, False),
    ({"add_bias_kv": True}, {}, False), ({"add_zero_attn": True}, {}, True),
    ({}, {"need_weights": False}, False), ({}, {"average_attn_weights": False}, True),
]


def _mha(torch, H, kw, fkw, bf, dtype=np.float64, cross=False, unbatched=False):
    tdt = torch.float64 if dtype == np.float64 else torch.float32
    tm = torch.nn.MultiheadAttention(8, 2, batch_first=bf, **kw).to(tdt)
    fm = H.load(tm, fnn.MultiheadAttention(8, 2, batch_first=bf, **kw), dtype)
    r = np.random.default_rng(3)
    shp = (5, 8) if unbatched else ((3, 5, 8) if bf else (5, 3, 8))
    x = r.standard_normal(shp).astype(dtype)
    tx, fx = torch.tensor(x, requires_grad=True), fastnn.tensor(x, requires_grad=True)
    ty = fy = tz = fz = None
    if cross:
        ks = list(shp)
        ks[1 if bf else 0] = 6
        ks[-1] = kw.get("kdim", 8)
        vs = ks[:-1] + [kw.get("vdim", 8)]
        y, z = r.standard_normal(ks).astype(dtype), r.standard_normal(vs).astype(dtype)
        ty, fy = torch.tensor(y, requires_grad=True), fastnn.tensor(y, requires_grad=True)
        tz, fz = torch.tensor(z), fastnn.tensor(z)
    else:
        ty = tz = tx
        fy = fz = fx
    ta = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in fkw.items()}
    fa = {k: fastnn.tensor(v) if isinstance(v, np.ndarray) else v for k, v in fkw.items()}
    a, wa = tm(tx, ty, tz, **ta)
    b, wb = fm(fx, fy, fz, **fa)
    H.close(a, b, dtype)
    assert (wa is None) == (wb is None)
    if wa is not None:
        H.close(wa, wb, dtype)
    g = r.standard_normal(a.shape).astype(dtype)
    ((a * torch.tensor(g)).sum() + ((wa ** 2).sum() if wa is not None else 0)).backward()
    ((b * fastnn.tensor(g)).sum() + ((wb ** 2).sum() if wb is not None else 0)).backward()
    H.close(tx.grad, fx.grad, dtype)
    if cross:
        H.close(ty.grad, fy.grad, dtype)
    H.grads(tm, fm, dtype)


@pytest.mark.parametrize("kw,fkw,bf", MHA_CASES)
def test_mha_self_attention_matches_torch(torch, H, kw, fkw, bf):
    _mha(torch, H, kw, fkw, bf)


@pytest.mark.parametrize("kw", [{}, {"kdim": 5, "vdim": 3}, {"add_bias_kv": True,
                                                            "add_zero_attn": True}])
@pytest.mark.parametrize("bf", [False, True])
def test_mha_cross_attention_matches_torch(torch, H, kw, bf):
    _mha(torch, H, kw, {}, bf, cross=True)


def test_mha_masks_match_torch(torch, H):
    kpm = np.zeros((3, 5), bool)
    kpm[1, 3:] = True
    causal = np.triu(np.ones((5, 5), bool), 1)
    _mha(torch, H, {}, {"key_padding_mask": kpm}, False)
    _mha(torch, H, {}, {"key_padding_mask": kpm, "need_weights": False}, True)
    _mha(torch, H, {}, {"attn_mask": causal}, False)
    _mha(torch, H, {}, {"attn_mask": causal, "is_causal": True, "need_weights": False}, True)
    _mha(torch, H, {}, {"attn_mask": causal, "key_padding_mask": kpm}, False)
    fm = np.where(np.random.default_rng(5).random((5, 5)) > 0.5, 0.0, -1e3)
    _mha(torch, H, {}, {"attn_mask": np.random.default_rng(6).standard_normal((6, 5, 5)),
                        "key_padding_mask": fm[:3]}, False)


def test_mha_unbatched_and_float32(torch, H):
    _mha(torch, H, {}, {}, False, unbatched=True)
    _mha(torch, H, {}, {}, True, dtype=np.float32)


def test_mha_state_dict_and_paths(torch):
    tm = torch.nn.MultiheadAttention(8, 2, kdim=4, vdim=3)
    fm = fnn.MultiheadAttention(8, 2, kdim=4, vdim=3)
    assert [(k, tuple(v.shape)) for k, v in tm.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in fm.state_dict().items()]
    from fastnn.nn.modules.activation import MultiheadAttention
    from fastnn.nn.modules.linear import Linear, NonDynamicallyQuantizableLinear
    assert MultiheadAttention is fnn.MultiheadAttention
    assert type(fm.out_proj) is NonDynamicallyQuantizableLinear
    assert isinstance(fm.out_proj, Linear)
    assert np.all(fnn.MultiheadAttention(8, 2).in_proj_bias.detach().numpy() == 0)


def test_mha_errors():
    m = fnn.MultiheadAttention(8, 2)
    x = fastnn.randn(5, 3, 8)
    with pytest.raises(ValueError, match="embedding dimension"):
        m(fastnn.randn(5, 3, 6), x, x)
    with pytest.raises(ValueError, match="2D attn_mask"):
        m(x, x, x, attn_mask=fastnn.zeros(5, 4))
    with pytest.raises(ValueError, match="3D attn_mask"):
        m(x, x, x, attn_mask=fastnn.zeros(5, 5, 5))
    with pytest.raises(ValueError, match="key_padding_mask"):
        m(x, x, x, key_padding_mask=fastnn.zeros(3, 4))
    with pytest.raises(RuntimeError, match="Need attn_mask"):
        m(x, x, x, is_causal=True)
    with pytest.raises(ValueError, match="unbatched 2D or batched 3D"):
        m(fastnn.randn(1, 5, 3, 8), x, x)
    with pytest.raises(AssertionError):
        fnn.MultiheadAttention(8, 3)


def test_mha_dropout_train_vs_eval():
    fastnn.manual_seed(0)
    m = fnn.MultiheadAttention(8, 2, dropout=0.5)
    x = fastnn.randn(5, 3, 8)
    a, b = m(x, x, x)[0].detach().numpy(), m(x, x, x)[0].detach().numpy()
    assert not np.array_equal(a, b)
    m.eval()
    assert np.array_equal(m(x, x, x)[0].detach().numpy(), m(x, x, x)[0].detach().numpy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_attention_kernel_threads_bitwise(dtype):
    r = np.random.default_rng(7)
    nb, h, L, S, E = 2, 4, 64, 80, 16           # nb * h * L * S above the cut-off
    q = r.standard_normal((nb, h, L, E)).astype(dtype)
    k = r.standard_normal((nb, h, S, E)).astype(dtype)
    v = r.standard_normal((nb, h, S, E)).astype(dtype)
    go = r.standard_normal((nb, h, L, E)).astype(dtype)
    st = lambda n, w: (0, h * n * w, n * w, w)  # noqa: E731
    geo = dict(nb=nb, hq=h, hkv=h, L=L, S=S, E=E, Ev=E, q=st(L, E), k=st(S, E), v=st(S, E),
               o=st(L, E), scale=0.25, causal=0, safe=1, p=0.3, seed=5, stream=9)
    res = []
    for nt in (1, 2):
        o = np.empty_like(q)
        p = np.empty((nb * h, L, S), dtype)
        _core.attn_fwd(q, k, v, o, geo, None, None, p, None, nt)
        dq, dk, dv = np.empty_like(q), np.empty_like(k), np.empty_like(v)
        _core.attn_bwd(q, k, v, p, go, geo, None, dq, dk, dv, None, nt)
        res.append((o, p, dq, dk, dv))
    for a, b in zip(*res):
        assert np.array_equal(a, b)


def _raises_as_torch(torch, make):
    """make(library) raises in PyTorch; fastnn raises an exception of that type."""
    with pytest.raises(Exception) as theirs:
        make(torch)
    with pytest.raises(type(theirs.value)):
        make(fastnn)


@pytest.mark.parametrize("case", ["embed_dim", "kpm_shape", "kv_shapes", "query_4d", "kv_ndim",
                                  "int_mask", "int_kpm", "am2_shape", "am3_shape"])
def test_mha_error_types_as_torch(torch, case):
    # PyTorch's multi_head_attention_forward asserts on shapes (AssertionError)
    # and raises RuntimeError for the attn_mask shape; code catching either works
    def make(lib):
        lib.manual_seed(0)
        m = lib.nn.MultiheadAttention(8, 2, batch_first=True)
        x = lib.zeros(3, 5, 8)
        args = {"embed_dim": ((lib.zeros(3, 5, 6),) * 3, {}),
                "kpm_shape": ((x, x, x), {"key_padding_mask": lib.zeros(3, 4, dtype=lib.bool)}),
                "kv_shapes": ((x, x, x[:, :4]), {}),
                "query_4d": ((x[None], x[None], x[None]), {}),
                "kv_ndim": ((x, x[0], x), {}),
                "int_mask": ((x, x, x), {"attn_mask": lib.zeros(5, 5, dtype=lib.long)}),
                "int_kpm": ((x, x, x), {"key_padding_mask": lib.zeros(3, 5, dtype=lib.long)}),
                "am2_shape": ((x, x, x), {"attn_mask": lib.zeros(4, 5)}),
                "am3_shape": ((x, x, x), {"attn_mask": lib.zeros(3, 5, 5)})}[case]
        m(*args[0], **args[1])
    _raises_as_torch(torch, make)


def test_mha_warns_on_mismatched_mask_types(torch):
    m = fnn.MultiheadAttention(8, 2)
    x = fastnn.randn(5, 3, 8)
    kpm = fastnn.zeros(3, 5, dtype=fastnn.bool)
    with pytest.warns(UserWarning, match="mismatched key_padding_mask and attn_mask"):
        m(x, x, x, key_padding_mask=kpm,
          attn_mask=fnn.Transformer.generate_square_subsequent_mask(5))


def test_mha_parametrized_in_proj_weight_is_used(torch, H):
    # weight_norm (a parametrization) on in_proj_weight: PyTorch reads the
    # computed weight; fastnn raised KeyError: 'in_proj_weight'
    tm = torch.nn.MultiheadAttention(8, 2)
    fm = H.load(tm, fnn.MultiheadAttention(8, 2), np.float32)
    x = np.random.default_rng(0).standard_normal((4, 2, 8)).astype(np.float32)
    outs = []
    for lib, m in ((torch, tm), (fastnn, fm)):
        m = lib.nn.utils.parametrizations.weight_norm(m, name="in_proj_weight")
        xt = lib.tensor(x)
        y = m(xt, xt, xt)[0]
        y.sum().backward()
        outs.append((y, m.parametrizations.in_proj_weight.original1.grad))
    H.close(outs[0][0], outs[1][0], np.float32)
    H.close(outs[0][1], outs[1][1], np.float32)


def _manual_sdpa(lib, q, k, v, mask=None, causal=False, scale=None, gqa=False):
    """softmax(q k^T * scale + mask) v with plain ops: PyTorch differentiates
    it twice (its fused CPU kernels have no double backward)."""
    if gqa:
        rep = q.shape[-3] // k.shape[-3]
        k, v = k.repeat_interleave(rep, dim=-3), v.repeat_interleave(rep, dim=-3)
    s = (q @ k.transpose(-2, -1)) * (scale if scale is not None else q.shape[-1] ** -0.5)
    if mask is not None:
        s = s.masked_fill(~mask, float("-inf")) if mask.dtype == lib.bool else s + mask
    if causal:
        L, S = s.shape[-2:]
        s = s.masked_fill(lib.ones(L, S, dtype=lib.bool).triu(1), float("-inf"))
    return lib.softmax(s, -1) @ v


def _penalty_grads(lib, fn, arrays, r):
    """d/d(inputs) of sum(r * d(sum(out^2))/d(inputs)^2): a double backward."""
    xs = [lib.tensor(a, requires_grad=True) for a in arrays]
    out = fn(lib, *xs)
    gs = lib.autograd.grad(out.pow(2).sum(), xs, create_graph=True)
    pen = sum((g.pow(2) * lib.tensor(ri)).sum() for g, ri in zip(gs, r))
    pen.backward()
    return [x.grad for x in xs]


SDPA2 = {
    "plain": ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 4), {}),
    "causal_scale": ((2, 2, 4, 3), (2, 2, 4, 3), (2, 2, 4, 3), {"causal": True, "scale": 0.7}),
    "gqa": ((1, 4, 3, 2), (1, 2, 5, 2), (1, 2, 5, 3), {"gqa": True}),
    "3d": ((3, 4, 5), (3, 6, 5), (3, 6, 2), {}),
    "float_mask": ((2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 4), {"mask": "float"}),
    "bool_mask": ((2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 4), {"mask": "bool"}),
}


@pytest.mark.parametrize("case", sorted(SDPA2))
def test_sdpa_double_backward_matches_torch(torch, H, case):
    # create_graph=True through scaled_dot_product_attention (a gradient
    # penalty): fastnn raised NotImplementedError for AttentionFn
    qs, ks, vs, kw = SDPA2[case]
    r = np.random.default_rng(1)
    arrays = [r.standard_normal(s) for s in (qs, ks, vs)]
    mask = kw.pop("mask", None)
    if mask == "float":
        arrays.append(r.standard_normal((qs[-2], ks[-2])))
    rw = [r.standard_normal(a.shape) for a in arrays]
    bm = r.random((qs[-2], ks[-2])) > 0.3
    bm[:, 0] = True

    def f_fast(lib, q, k, v, m=None):
        am = m if m is not None else (lib.tensor(bm) if mask == "bool" else None)
        return F.scaled_dot_product_attention(q, k, v, attn_mask=am,
                                              is_causal=kw.get("causal", False),
                                              scale=kw.get("scale"),
                                              enable_gqa=kw.get("gqa", False))

    def f_torch(lib, q, k, v, m=None):
        am = m if m is not None else (lib.tensor(bm) if mask == "bool" else None)
        return _manual_sdpa(lib, q, k, v, am, kw.get("causal", False), kw.get("scale"),
                            kw.get("gqa", False))
    want = _penalty_grads(torch, f_torch, arrays, rw)
    got = _penalty_grads(fastnn, f_fast, arrays, rw)
    for a, b in zip(want, got):
        H.close(a, b, np.float64, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("kw", [{"batch_first": True}, {}, {"kdim": 3, "vdim": 2},
                                {"add_bias_kv": True, "add_zero_attn": True}])
@pytest.mark.parametrize("weights", [False, True])
def test_mha_double_backward_matches_torch(torch, H, kw, weights):
    # a gradient penalty through nn.MultiheadAttention (masks, weights in the
    # loss) matches PyTorch's (whose MHA path differentiates twice)
    tm = torch.nn.MultiheadAttention(4, 2, **kw).double()
    fm = H.load(tm, fnn.MultiheadAttention(4, 2, **kw), np.float64)
    bf = kw.get("batch_first", False)
    r = np.random.default_rng(2)
    q = r.standard_normal((2, 3, 4))
    kv = r.standard_normal((2, 5, kw.get("kdim", 4)))
    vv = r.standard_normal((2, 5, kw.get("vdim", 4)))
    if not bf:
        q, kv, vv = (a.transpose(1, 0, 2).copy() for a in (q, kv, vv))
    kpm = np.zeros((2, 5), bool)
    kpm[1, 3:] = True
    am = np.triu(np.full((3, 5), -np.inf), 2)
    rw = [r.standard_normal(a.shape) for a in (q, kv, vv)]
    grads = []
    for lib, m in ((torch, tm), (fastnn, fm)):
        xs = [lib.tensor(a, requires_grad=True) for a in (q, kv, vv)]
        # (PyTorch's need_weights=False path is a fused kernel without a
        # double backward: its weights path is the reference for both)
        o, w = m(*xs, key_padding_mask=lib.tensor(kpm), attn_mask=lib.tensor(am),
                 need_weights=weights or lib is torch)
        loss = o.pow(2).sum() + (w.pow(2).sum() if weights else 0)
        gs = lib.autograd.grad(loss, xs, create_graph=True)
        pen = sum((g.pow(2) * lib.tensor(ri)).sum() for g, ri in zip(gs, rw))
        pen.backward()
        grads.append([x.grad for x in xs] + [p.grad for p in m.parameters()])
    for a, b in zip(*grads):
        H.close(a, b, np.float64, rtol=1e-7, atol=1e-9)


def test_attention_double_backward_with_dropout_says_so():
    q = fastnn.randn(1, 2, 3, 4, requires_grad=True)
    y = F.scaled_dot_product_attention(q, q, q, dropout_p=0.5)
    with pytest.raises(NotImplementedError, match="dropout"):
        fastnn.autograd.grad(y.sum(), q, create_graph=True)


def test_sdpa_double_backward_fully_masked_row_stays_zero():
    # a row with every key masked gives zeros (PyTorch's SDPA), and its
    # second-order gradients are finite zeros, not NaN
    r = np.random.default_rng(3)
    q = fastnn.tensor(r.standard_normal((1, 2, 3, 4)), requires_grad=True)
    m = np.ones((3, 5), bool)
    m[1] = False
    y = F.scaled_dot_product_attention(q, fastnn.tensor(r.standard_normal((1, 2, 5, 4))),
                                       fastnn.tensor(r.standard_normal((1, 2, 5, 4))),
                                       attn_mask=fastnn.tensor(m))
    assert np.all(y.detach().numpy()[:, :, 1] == 0)
    g, = fastnn.autograd.grad(y.pow(2).sum(), q, create_graph=True)
    g.pow(2).sum().backward()
    assert np.isfinite(q.grad.numpy()).all() and np.all(q.grad.numpy()[:, :, 1] == 0)
