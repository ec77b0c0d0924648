"""Regression tests for the bugs the fuzzers found, one minimal example each
(see docs/fuzzing.md for the list)."""
import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F


def test_tensor_of_numpy_scalar_keeps_its_dtype():
    # fastnn.tensor(np.float64(x)) gave float32 (np.float64 is a Python float)
    assert fastnn.tensor(np.float64(1.5)).dtype == fastnn.float64
    assert fastnn.tensor(np.float32(1.5)).dtype == fastnn.float32
    assert fastnn.tensor(np.int32(3)).dtype == fastnn.int32
    assert fastnn.tensor(1.5).dtype == fastnn.float32


@pytest.mark.parametrize("xs,ws", [((1,), (0, 1)), ((0,), (0, 0)), ((3, 0), (0, 0)),
                                   ((0, 2, 0), (4, 0))])
def test_linear_with_zero_size_dims(xs, ws):
    # x.reshape(-1, 0) cannot infer the rows: linear raised ValueError forward/backward
    x = fastnn.zeros(*xs, requires_grad=True)
    w = fastnn.ones(*ws, requires_grad=True)
    y = F.linear(x, w)
    assert y.shape == tuple(xs[:-1]) + (ws[0],)
    y.sum().backward()
    assert x.grad.shape == tuple(xs) and w.grad.shape == tuple(ws)
    np.testing.assert_array_equal(x.grad.numpy(), 0)


@pytest.mark.parametrize("a,b", [((0, 0, 0), (0, 0, 0)), ((2, 0, 3, 0), (0, 5)),
                                 ((0, 2, 3), (3, 1))])
def test_matmul_of_empty_batches(a, b):
    x = fastnn.zeros(*a, requires_grad=True)
    y = fastnn.zeros(*b, requires_grad=True)
    out = fastnn.matmul(x, y)
    assert out.shape == np.matmul(np.zeros(a), np.zeros(b)).shape
    out.sum().backward()
    assert x.grad.shape == a and y.grad.shape == b


@pytest.mark.parametrize("dim", [0, 3])
def test_embedding_of_a_scalar_index(dim):
    # np.ascontiguousarray turned the 0-d index into shape (1,): output (1, D), not (D,)
    w = fastnn.ones(2, dim, requires_grad=True)
    y = F.embedding(fastnn.tensor(1), w)
    assert y.shape == (dim,)
    y.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [[0] * dim, [1] * dim])


def test_embedding_backward_of_empty_index_with_zero_dim():
    w = fastnn.ones(3, 0, requires_grad=True)
    y = F.embedding(fastnn.tensor(np.zeros((0, 2), np.int64)), w)
    assert y.shape == (0, 2, 0)
    y.sum().backward()
    assert w.grad.shape == (3, 0)


@pytest.mark.parametrize("xs,ws", [((0, 0, 0), (0,)), ((2, 0), (0,)), ((0, 3, 2), (3,)),
                                   ((0, 0), (1,))])
def test_prelu_on_empty_inputs(xs, ws):
    # zero channels gave "view (0, 0, 0) does not match x's 0 elements" from the binding
    x = fastnn.zeros(*xs, requires_grad=True)
    w = fastnn.ones(*ws, requires_grad=True)
    y = F.prelu(x, w)
    assert y.shape == xs
    y.sum().backward()
    assert x.grad.shape == xs
    np.testing.assert_array_equal(w.grad.numpy(), np.zeros(ws))


@pytest.mark.parametrize("name", ["max_pool1d", "avg_pool1d", "max_pool2d", "avg_pool2d"])
@pytest.mark.parametrize("k,s,p,size,out", [(2, 2, 0, 1, 1), (4, 3, 1, 1, 1), (3, 2, 0, 2, 1),
                                            (3, 2, 0, 1, None)])
def test_pool_ceil_mode_kernel_longer_than_input(name, k, s, p, size, out):
    # PyTorch adds the ceil_mode term before the floor division: a kernel of 2
    # over 1 element with ceil_mode gives one window; fastnn refused the call
    nd = int(name[-2])
    x = fastnn.tensor(np.arange(1.0, 1.0 + 2 * size ** nd).reshape((1, 2) + (size,) * nd),
                      requires_grad=True)
    f = getattr(F, name)
    if out is None:
        with pytest.raises(ValueError):
            f(x, k, s, p, ceil_mode=True)
        return
    y = f(x, k, s, p, ceil_mode=True)
    assert y.shape == (1, 2) + (out,) * nd
    y.sum().backward()
    assert np.isfinite(x.grad.numpy()).all()
    if size == 1 and (p == 0 or name.startswith("max")):  # the window holds the one element
        np.testing.assert_array_equal(y.detach().numpy().ravel(), [1.0, 2.0])


@pytest.mark.parametrize("nd", [1, 2])
@pytest.mark.parametrize("size,k,out", [(0, 1, 0), (0, 2, 1), (3, 2, 4)])
def test_conv_transpose_of_an_empty_batch(nd, size, k, out):
    # PyTorch accepts an empty batch with any spatial size; fastnn raised
    # "empty input" for a zero spatial size
    x = fastnn.zeros(*((0, 2) + (size,) * nd), requires_grad=True)
    w = fastnn.ones(*((2, 3) + (k,) * nd), requires_grad=True)
    b = fastnn.ones(3, requires_grad=True)
    y = getattr(F, f"conv_transpose{nd}d")(x, w, b)
    assert y.shape == (0, 3) + (out,) * nd
    y.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), np.zeros(w.shape))
    np.testing.assert_array_equal(b.grad.numpy(), np.zeros(3))
    assert x.grad.shape == x.shape


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_along_a_dim_of_a_tensor_with_another_empty_dim(name):
    # max(dim=0) of a (1, 0, 3) tensor is an empty (0, 3) result in PyTorch;
    # fastnn refused every empty input
    x = fastnn.zeros(1, 0, 3, requires_grad=True)
    v, i = getattr(x, name)(dim=0)
    assert v.shape == (0, 3) and i.shape == (0, 3) and i.dtype == fastnn.int64
    v.sum().backward()
    assert x.grad.shape == (1, 0, 3)
    with pytest.raises(RuntimeError, match="non-zero size"):
        getattr(fastnn.zeros(2, 0), name)(dim=1)
    with pytest.raises(RuntimeError):
        getattr(fastnn.zeros(2, 0), name)()


@pytest.mark.parametrize("nd", [1, 2])
@pytest.mark.parametrize("k,p,s,out", [(1, 1, 1, 2), (2, 2, 2, 2), (3, 1, 1, 0)])
def test_conv_of_an_empty_batch_with_zero_spatial_size(nd, k, p, s, out):
    # PyTorch accepts an empty batch of zero spatial size when the padded size
    # holds the kernel; fastnn raised "empty kernel or input" (and its
    # backward refused the geometry)
    x = fastnn.zeros(*((0, 2) + (0,) * nd), requires_grad=True)
    w = fastnn.ones(*((3, 2) + (k,) * nd), requires_grad=True)
    b = fastnn.ones(3, requires_grad=True)
    f = getattr(F, f"conv{nd}d")
    if out == 0:
        with pytest.raises(ValueError):
            f(x, w, b, padding=p, stride=s)
        return
    y = f(x, w, b, padding=p, stride=s)
    assert y.shape == (0, 3) + (out,) * nd
    y.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), np.zeros(w.shape))
    np.testing.assert_array_equal(b.grad.numpy(), np.zeros(3))
    assert x.grad.shape == x.shape


# ---------------------------------------------------------------- fastnn.load
def _load_bytes(raw):
    import io
    return fastnn.load(io.BytesIO(raw))


def _hostile():
    import _hostile
    return _hostile


def test_load_shape_beyond_int64_is_a_value_error():
    # np.prod(shape, dtype=int64) raised OverflowError (and wrapped for
    # [2**62, 4], leaving NumPy's "cannot reshape" as the message)
    h = _hostile()
    for over in (dict(shape=[2**70], len=2**73), dict(shape=[2**62, 4], len=0)):
        with pytest.raises(ValueError, match="not a valid fastnn file"):
            _load_bytes(h.fastnn_file(h._root_array(**over), np.arange(4.0).tobytes()))


def test_load_refuses_duplicate_keys():
    h = _hostile()
    with pytest.raises(ValueError, match="duplicate key 'root'"):
        _load_bytes(h.fastnn_file('{"format":"fastnn","version":1,"size":0,"root":1,"root":2}'))
    d8 = np.zeros(2, np.float32).tobytes()
    with pytest.raises(ValueError, match="duplicate key 'a'"):
        _load_bytes(h.safetensors(b'{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},'
                                  b'"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', d8))


@pytest.mark.parametrize("entries,data,match", [
    (dict(a={}, b={}), 8, "overlap"),
    (dict(a={}, b=dict(data_offsets=[16, 24])), 24, "gap"),
    (dict(a=dict(data_offsets=[8, 16])), 16, "gap"),
    (dict(a={}), 16, "after the last tensor"),
    (dict(a=dict(dtype=["F32"])), 8, "unsupported entry"),
    (dict(a=dict(shape=[2**70])), 8, "bytes for shape"),
    (dict(a=dict(shape=[True, True])), 8, "malformed entry"),
])
def test_safetensors_inconsistent_entries_are_refused(entries, data, match):
    # overlapping/gapped offsets and trailing bytes were accepted; a list
    # dtype raised TypeError; a shape beyond int64 OverflowError
    h = _hostile()
    with pytest.raises(ValueError, match=match):
        _load_bytes(h.safetensors(h._st(**entries), b"\0" * data))


def test_safetensors_deep_nesting_and_bad_metadata_are_value_errors():
    h = _hostile()
    with pytest.raises(ValueError, match="nested too deeply"):   # was RecursionError
        _load_bytes(h.safetensors(b'{"__metadata__":' + b"[" * 100000 + b"]" * 100000 + b"}",
                                  b""))
    with pytest.raises(ValueError, match="__metadata__"):
        _load_bytes(h.safetensors({"__metadata__": {"a": [1]}} | h._st(a={}), b"\0" * 8))


def test_npz_declaring_a_huge_array_is_refused_before_allocating():
    # np.load allocated the .npy header's declared shape (2 GiB here) before
    # finding the data missing
    import tracemalloc
    h = _hostile()
    raw = h.npz({"x.npy": h.npy_header((2**28,)) + b"\0" * 64})
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="declares 2147483648 bytes"):
            _load_bytes(raw)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50 << 20
    ok = h.npz({"x.npy": h.npy_header((3,)) + np.arange(3.0).tobytes()})
    np.testing.assert_array_equal(_load_bytes(ok)["x"], [0.0, 1.0, 2.0])


def test_npz_with_an_unknown_compression_method_is_a_value_error():
    # zipfile raised NotImplementedError ("That compression method is not supported")
    h = _hostile()
    raw = bytearray(h.npz({"x.npy": h.npy_header((1,)) + b"\0" * 8}))
    for at in (8, raw.find(b"PK\x01\x02") + 10):   # local header, central directory: method
        assert raw[at:at + 2] == b"\0\0"
        raw[at:at + 2] = (99).to_bytes(2, "little")
    with pytest.raises(ValueError, match="zip|npy"):
        _load_bytes(bytes(raw))


@pytest.mark.parametrize("dtype,ok", [(">f4", True), (">i8", True), ("<f2", False),
                                      ("<u4", False)])
def test_tensor_node_of_a_dtype_tensors_do_not_hold(dtype, ok):
    # a tensor node of dtype >f4 (a flipped bit of <f4) raised TypeError in from_numpy
    h = _hostile()
    item = np.dtype(dtype).itemsize
    node = {"t": "tensor", "dtype": dtype, "shape": [2], "off": 0, "len": 2 * item}
    raw = h.fastnn_file({"format": "fastnn", "version": 1, "root": node},
                        np.arange(2).astype(dtype).tobytes())
    if ok:
        t = _load_bytes(raw)
        assert t.dtype == np.dtype(dtype).newbyteorder("=")
        np.testing.assert_array_equal(t.numpy(), [0, 1])
    else:
        with pytest.raises(ValueError, match="fastnn tensors hold"):
            _load_bytes(raw)


@pytest.mark.parametrize("shape,dim", [((2,), -2), ((2,), 1), ((), 1), ((3, 1), 2),
                                       ((3, 1), (1, 2))])
def test_squeeze_dim_out_of_range_raises(shape, dim):
    # squeeze took dim modulo ndim: zeros(2).squeeze(-2) silently returned shape (2,)
    with pytest.raises(IndexError, match="out of range"):
        fastnn.zeros(*shape).squeeze(dim)
    assert fastnn.zeros(3, 1).squeeze(-1).shape == (3,)
    assert fastnn.zeros(()).squeeze(-1).shape == ()


@pytest.mark.parametrize("which", ["mean", "var"])
def test_batch_norm_with_only_one_running_statistic_raises(which):
    # training with running_var but no running_mean updated the variance only
    x = fastnn.randn(4, 3)
    stat = fastnn.ones(3)
    rm, rv = (None, stat) if which == "mean" else (stat, None)
    with pytest.raises(ValueError, match="both be None or neither"):
        F.batch_norm(x, rm, rv, training=True)
    np.testing.assert_array_equal(stat.numpy(), 1.0)


def test_batch_norm_training_with_eps_zero_raises():
    # eps=0 with batch statistics divided a constant channel by zero (NaN);
    # PyTorch refuses it
    x = fastnn.ones(4, 2)
    with pytest.raises(ValueError, match="eps must be positive during training"):
        F.batch_norm(x, None, None, training=True, eps=0.0)
    with pytest.raises(ValueError, match="eps must be positive"):
        fastnn.nn.BatchNorm1d(2, eps=0.0, track_running_stats=False)(x)
    y = F.batch_norm(x, fastnn.zeros(2), fastnn.ones(2), training=False, eps=0.0)
    np.testing.assert_array_equal(y.numpy(), 1.0)   # eval with running stats: allowed


def test_bce_with_logits_on_0d_input_and_target_requiring_grad():
    # the 0-d upstream gradient became (1,) (np.ascontiguousarray), so the
    # target's gradient had shape (1,) and backward raised
    x = fastnn.tensor(np.float32(0.3), requires_grad=True)
    t = fastnn.tensor(np.float32(0.5), requires_grad=True)
    y = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    assert y.shape == ()
    y.backward()
    assert x.grad.shape == () and t.grad.shape == ()
    np.testing.assert_allclose(t.grad.numpy(), -0.3, rtol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), 1 / (1 + np.exp(-0.3)) - 0.5, rtol=1e-5)


@pytest.mark.parametrize("p", [0.0, 0.5, 1.0])
def test_dropout_training_on_a_0d_input(p):
    # backward: the 0-d gradient became 1-d (np.ascontiguousarray) and raised
    x = fastnn.tensor(np.float32(2.0), requires_grad=True)
    y = F.dropout(x, p, training=True)
    assert y.shape == ()
    y.backward()
    assert x.grad.shape == ()
    if p == 0.0:
        assert x.grad.item() == 1.0
    if p == 1.0:
        assert x.grad.item() == 0.0 and y.item() == 0.0


@pytest.mark.parametrize("sq,sk,sv", [((1, 0, 2), (1, 3, 2), (1, 3, 1)),
                                      ((1, 2, 2), (1, 0, 2), (1, 0, 1)),
                                      ((0, 2, 2), (0, 3, 2), (0, 3, 1))])
def test_empty_attention_is_part_of_the_graph(sq, sk, sv):
    # the empty-size shortcut returned a plain zeros tensor: backward raised
    # "element 0 of tensors does not require grad"
    q, k, v = (fastnn.randn(*s, requires_grad=True) for s in (sq, sk, sv))
    o = F.scaled_dot_product_attention(q, k, v)
    assert o.requires_grad and o.shape == sq[:-1] + sv[-1:]
    o.sum().backward()
    for t in (q, k, v):
        np.testing.assert_array_equal(t.grad.numpy(), np.zeros(t.shape))
    with pytest.raises(ValueError):
        F.scaled_dot_product_attention(q, k, v, dropout_p=1.5)


@pytest.mark.parametrize("dtype", ["<f8,", "f8,(" * 50, "(2,)f8", "float64", "<f8 ", 3])
def test_dtype_strings_np_dtype_would_parse_as_python_are_refused(dtype):
    # np.dtype("<f8,") parses the comma form with ast.literal_eval: SyntaxError
    h = _hostile()
    for node in (dict(t="nd", dtype=dtype, shape=[1], off=0, len=8), dict(t="dtype", v=dtype)):
        raw = h.fastnn_file({"format": "fastnn", "version": 1, "root": node}, b"\0" * 8)
        with pytest.raises(ValueError, match="unsupported dtype"):
            _load_bytes(raw)
