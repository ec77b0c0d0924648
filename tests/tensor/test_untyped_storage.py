"""``Tensor.untyped_storage()`` (``data_ptr``, ``nbytes``, ``size``) and its
agreement with ``Tensor.data_ptr()`` / ``storage_offset()`` for views, as
PyTorch: every view of one base has the same storage."""
import numpy as np
import pytest

import fastnn

torch = pytest.importorskip("torch")


def _views(L):
    x = L.arange(24.0)
    m = x.view(4, 6)
    return x, {
        "slice": x[5:17],
        "row": m[2],
        "col": m[:, 3],
        "permute": m.permute(1, 0),
        "T_slice": m.T[1:, 2:],
        "expand": x[:6].unsqueeze(0).expand(3, 6),
        "detach": m.detach(),
        "narrow": m.narrow(1, 2, 3),
        "reshape_view": x.reshape(2, 12)[1],
        "unfold": x.unfold(0, 4, 3),
    }


def _facts(L):
    x, views = _views(L)
    base = x.untyped_storage()
    out = {"base": (base.nbytes(), base.size(), len(base), base.element_size(),
                    base.data_ptr() == x.data_ptr())}
    for k, v in views.items():
        s = v.untyped_storage()
        out[k] = (s.nbytes(), s.size(), s.data_ptr() == base.data_ptr(), v.storage_offset(),
                  v.data_ptr() - s.data_ptr() == v.storage_offset() * v.element_size())
    return out


def test_views_share_their_base_storage_as_torch():
    got, want = _facts(fastnn), _facts(torch)
    assert got == want
    assert got["base"] == (96, 96, 96, 1, True)
    assert all(v[2] and v[4] for k, v in got.items() if k != "base")


def test_two_views_have_the_same_storage_pointer():
    for L in (fastnn, torch):
        x = L.zeros(3, 4)
        a, b = x[1], x[:, 2]
        assert a.untyped_storage().data_ptr() == b.untyped_storage().data_ptr()
        assert a.data_ptr() != b.data_ptr() or L is None
        assert x.untyped_storage() is x[0].untyped_storage()      # one live object
        c = x.clone()
        assert c.untyped_storage().data_ptr() != x.untyped_storage().data_ptr()


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "uint8", "bool"])
def test_nbytes_per_dtype_and_scalars_match_torch(dtype):
    for shape in [(), (5,), (2, 3)]:
        got = fastnn.zeros(shape, dtype=getattr(fastnn, dtype)).untyped_storage()
        want = torch.zeros(shape, dtype=getattr(torch, dtype)).untyped_storage()
        assert (got.nbytes(), got.size(), len(got)) == (want.nbytes(), want.size(), len(want))


def test_empty_tensor_has_a_null_pointer_as_torch():
    for L in (fastnn, torch):
        e = L.empty(0)
        assert e.data_ptr() == 0 and e.untyped_storage().nbytes() == 0
        assert e.untyped_storage().data_ptr() == 0
        assert L.arange(4.0)[2:2].data_ptr() == 0


def test_storage_bytes_and_writes_are_the_tensors_memory():
    x = fastnn.tensor([1.0, 2.0], dtype=fastnn.float32)
    t = torch.tensor([1.0, 2.0], dtype=torch.float32)
    assert x.untyped_storage().tolist() == t.untyped_storage().tolist()
    s = x.untyped_storage()
    s.fill_(0)
    assert x.tolist() == [0.0, 0.0]
    assert s[7] == 0 and isinstance(s[0:4], fastnn.UntypedStorage)
    assert repr(fastnn.arange(2, dtype=fastnn.uint8).untyped_storage()) == \
        repr(torch.arange(2, dtype=torch.uint8).untyped_storage())


def test_numpy_backed_tensor_storage_is_the_arrays():
    a = np.arange(12, dtype=np.float32)
    t = fastnn.from_numpy(a)[3:]
    s = t.untyped_storage()
    assert s.data_ptr() == a.ctypes.data and s.nbytes() == a.nbytes
    assert t.storage_offset() == 3


def test_untyped_storage_constructor():
    s = fastnn.UntypedStorage(5)
    assert s.nbytes() == 5 and s.tolist() == [0] * 5
    assert fastnn.UntypedStorage([1, 2, 255]).tolist() == [1, 2, 255]
    with pytest.raises(RuntimeError):
        fastnn.UntypedStorage(-1)
    with pytest.raises(RuntimeError):
        fastnn.UntypedStorage([256])


def _typed(L):
    import warnings
    x = L.arange(10.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = x.view(2, 5)[1, 2:].storage()
        i = L.arange(4).storage()
    return (s.size(), len(s), s.nbytes(), str(s.dtype), s.element_size(),
            s.data_ptr() == x.data_ptr(), s.tolist(), s[3], s.untyped().nbytes(),
            i.size(), i.element_size(), repr(L.arange(2.0).storage()))


def test_typed_storage_of_tensor_storage_matches_torch():
    assert _typed(fastnn) == _typed(torch)


def test_storage_warns_as_deprecated():
    import fastnn.storage as st
    st._TYPED_WARNED[0] = False
    with pytest.warns(UserWarning, match="TypedStorage is deprecated"):
        fastnn.ones(2).storage()
