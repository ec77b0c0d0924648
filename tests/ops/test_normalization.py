"""Op tests: layer_norm, group_norm, instance_norm, local_response_norm and
the batch-norm options (affine=False, track_running_stats=False, bias=False)
with their modules: reference, gradcheck, PyTorch parity (values,
gradients, running statistics, state dicts, reprs), threads, errors."""
import numpy as np
import pytest

import fastnn
import fastnn.nn as nn
import fastnn.nn.functional as F
from fastnn.testing import reference as R
from fastnn.testing import requires_torch


def A(t):
    return np.asarray(t._array if hasattr(t, "_array") else t)


def _rand(shape, seed=0, dtype=np.float64, scale=2.0, shift=0.5):
    return (np.random.default_rng(seed).standard_normal(shape) * scale + shift).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,ns", [((4, 6), (6,)), ((2, 3, 5), (3, 5)), ((7,), 7),
                                      ((2, 1, 1), (1,))])
def test_layer_norm_matches_reference(shape, ns, dtype):
    x = _rand(shape, dtype=dtype)
    D = ns if isinstance(ns, int) else int(np.prod(ns))
    w, b = _rand(D, 1, dtype).reshape(ns if not isinstance(ns, int) else (ns,)), _rand(D, 2, dtype)
    b = b.reshape(w.shape)
    y = F.layer_norm(x, ns, w, b)
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-11)
    if D == 1 and dtype == np.float32:   # xhat = 0 up to rounding times 1/sqrt(eps)
        tol = dict(rtol=0, atol=1e-3)
    np.testing.assert_allclose(A(y), R.layer_norm(x, w.shape, w, b), **tol)


def test_layer_norm_gradcheck():
    x = fastnn.tensor(_rand((3, 4, 5)), requires_grad=True)
    w = fastnn.tensor(_rand((4, 5), 1), requires_grad=True)
    b = fastnn.tensor(_rand((4, 5), 2), requires_grad=True)
    Rg = fastnn.tensor(_rand((3, 4, 5), 3))
    assert fastnn.gradcheck(lambda x, w, b: (F.layer_norm(x, (4, 5), w, b) * Rg).sum(),
                            [x, w, b])


def test_group_norm_gradcheck():
    x = fastnn.tensor(_rand((2, 6, 3, 2)), requires_grad=True)
    w = fastnn.tensor(_rand(6, 1), requires_grad=True)
    b = fastnn.tensor(_rand(6, 2), requires_grad=True)
    Rg = fastnn.tensor(_rand((2, 6, 3, 2), 3))
    assert fastnn.gradcheck(lambda x, w, b: (F.group_norm(x, 3, w, b) * Rg).sum(), [x, w, b])


def test_instance_norm_gradcheck():
    x = fastnn.tensor(_rand((2, 3, 4)), requires_grad=True)
    w = fastnn.tensor(_rand(3, 1), requires_grad=True)
    Rg = fastnn.tensor(_rand((2, 3, 4), 3))
    assert fastnn.gradcheck(lambda x, w: (F.instance_norm(x, weight=w) * Rg).sum(), [x, w])


def _torch_pair(torch, make, *args, **kw):
    m, tm = make(nn, *args, **kw), make(torch.nn, *args, **kw)
    rng = np.random.default_rng(11)
    for p in m.parameters():
        p._array[...] = rng.standard_normal(p.shape)
    tm.load_state_dict({k: torch.tensor(A(v)) for k, v in m.state_dict().items()})
    return m, tm


MODULES = [
    ("LayerNorm", ((5, 3),), {}, (4, 6, 5, 3)),
    ("LayerNorm", (3,), {"elementwise_affine": False}, (4, 3)),
    ("LayerNorm", (3,), {"bias": False}, (2, 5, 3)),
    ("GroupNorm", (3, 6), {}, (4, 6, 5, 3)),
    ("GroupNorm", (1, 6), {"affine": False}, (2, 6, 7)),
    ("GroupNorm", (6, 6), {"bias": False}, (3, 6, 4)),
    ("InstanceNorm2d", (6,), {}, (4, 6, 5, 3)),
    ("InstanceNorm2d", (6,), {"affine": True, "track_running_stats": True}, (4, 6, 5, 3)),
    ("InstanceNorm2d", (6,), {"affine": True}, (6, 5, 3)),               # unbatched
    ("InstanceNorm1d", (6,), {"track_running_stats": True, "momentum": None}, (4, 6, 7)),
    ("BatchNorm2d", (6,), {"affine": False}, (4, 6, 5, 3)),
    ("BatchNorm2d", (6,), {"track_running_stats": False}, (4, 6, 5, 3)),
    ("BatchNorm1d", (6,), {"affine": False, "track_running_stats": False}, (4, 6)),
    ("BatchNorm2d", (6,), {"bias": False}, (4, 6, 5, 3)),
    ("LocalResponseNorm", (3,), {}, (2, 6, 5, 3)),
    ("LocalResponseNorm", (2,), {"alpha": 0.1, "beta": 0.5, "k": 2.0}, (2, 6, 7)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", MODULES, ids=[f"{c[0]}-{i}" for i, c in enumerate(MODULES)])
def test_modules_match_torch(case, dtype):
    torch = requires_torch()
    name, args, kw, shape = case
    m, tm = _torch_pair(torch, lambda lib, *a, **k: getattr(lib, name)(*a, **k), *args, **kw)
    assert repr(m) == repr(tm)
    assert list(m.state_dict()) == list(tm.state_dict())
    if dtype == np.float64:
        m.double()
        tm.double()
    tol = dict(rtol=2e-5, atol=2e-5) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-11)
    for mode in ("train", "eval", "train"):
        m.train(mode == "train")
        tm.train(mode == "train")
        x = _rand(shape, seed=len(mode), dtype=dtype)
        g = _rand(shape, seed=7, dtype=dtype, shift=0.0)
        a = fastnn.tensor(x, requires_grad=True)
        t = torch.tensor(x, requires_grad=True)
        y, ty = m(a), tm(t)
        y.backward(g)
        ty.backward(torch.tensor(g))
        np.testing.assert_allclose(A(y), ty.detach().numpy(), **tol)
        np.testing.assert_allclose(A(a.grad), t.grad.numpy(), **tol)
        for (pn, p), (_, tp) in zip(m.named_parameters(), tm.named_parameters()):
            np.testing.assert_allclose(A(p.grad), tp.grad.numpy(), err_msg=pn, **tol)
            p.grad = None
            tp.grad = None
        for k, v in m.state_dict().items():
            np.testing.assert_allclose(A(v), tm.state_dict()[k].numpy(), err_msg=k, **tol)


def test_norm_threads_bitwise_through_ops():
    x = _rand((16, 64, 128), 1, np.float32)              # 131072 elements
    g = _rand(x.shape, 2, np.float32)
    w, b = _rand((128,), 3, np.float32), _rand((128,), 4, np.float32)
    wg, bg = _rand((64,), 5, np.float32), _rand((64,), 6, np.float32)
    runs = []
    for nt in (1, 2):
        fastnn.set_num_threads(nt)
        r = []
        for f, params in ((lambda x, w, b: F.layer_norm(x, (128,), w, b), (w, b)),
                          (lambda x, w, b: F.group_norm(x, 8, w, b), (wg, bg))):
            xs = fastnn.tensor(x, requires_grad=True)
            ps = [fastnn.tensor(p, requires_grad=True) for p in params]
            y = f(xs, *ps)
            y.backward(g)
            r += [A(y), A(xs.grad)] + [A(p.grad) for p in ps]
        runs.append(r)
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


def test_instance_norm_running_stats_and_eval():
    torch = requires_torch()
    x = _rand((3, 4, 6), 1, np.float32)
    rm, rv = np.zeros(4, np.float32), np.ones(4, np.float32)
    trm, trv = torch.zeros(4), torch.ones(4)
    y = F.instance_norm(x, rm, rv, momentum=0.3)
    ty = torch.nn.functional.instance_norm(torch.tensor(x), trm, trv, momentum=0.3)
    np.testing.assert_allclose(A(y), ty.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(rm, trm.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(rv, trv.numpy(), rtol=1e-5, atol=1e-6)
    y = F.instance_norm(x, rm, rv, use_input_stats=False)
    ty = torch.nn.functional.instance_norm(torch.tensor(x), trm, trv, use_input_stats=False)
    np.testing.assert_allclose(A(y), ty.numpy(), rtol=1e-5, atol=1e-5)


def test_bad_arguments():
    x = fastnn.tensor(_rand((2, 6, 4), dtype=np.float32))
    with pytest.raises(fastnn.ShapeError, match="divisible by num_groups"):
        F.group_norm(x, 4)
    with pytest.raises(ValueError, match="divisible by num_groups"):
        nn.GroupNorm(4, 6)
    with pytest.raises(fastnn.ShapeError, match=r"normalized_shape=\[5\]"):
        F.layer_norm(x, (5,))
    with pytest.raises(fastnn.ShapeError, match="normalized_shape"):
        nn.LayerNorm(3)(x)
    with pytest.raises(fastnn.ShapeError, match="weight"):
        F.layer_norm(x, (4,), fastnn.ones(3))
    with pytest.raises(fastnn.ShapeError, match="weight"):
        F.group_norm(x, 2, fastnn.ones(4))
    with pytest.raises(TypeError, match="int64"):
        F.layer_norm(np.arange(4), (4,))
    with pytest.raises(ValueError, match="eps"):
        F.layer_norm(x, (4,), eps=-1.0)
    with pytest.raises(ValueError, match="running_mean"):
        F.instance_norm(x, use_input_stats=False)
    with pytest.raises(fastnn.ShapeError, match="InstanceNorm2d"):
        nn.InstanceNorm2d(6)(x.reshape(2, 6, 2, 2, 1))
    with pytest.raises(fastnn.ShapeError, match="num_features"):
        nn.InstanceNorm1d(5, affine=True)(x)
    with pytest.raises(fastnn.ShapeError, match="3D or higher"):
        F.local_response_norm(fastnn.ones(2, 3), 2)
    with pytest.raises(fastnn.ShapeError, match="running_mean"):
        nn.BatchNorm1d(5)(x)
    with pytest.raises(fastnn.ShapeError):
        F.group_norm(fastnn.ones(3), 1)


def test_empty_batch():
    x = fastnn.tensor(np.zeros((0, 6, 3), np.float32), requires_grad=True)
    for f in (lambda x: F.layer_norm(x, (3,)), lambda x: F.group_norm(x, 2),
              lambda x: F.instance_norm(x)):
        y = f(x)
        assert y.shape == (0, 6, 3)
        y.sum().backward()
