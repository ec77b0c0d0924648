"""Op tests: the activations (F.* and nn.*): values and gradients against
PyTorch in float32 and float64, gradcheck, threads, modules (repr, state
dict), bad arguments."""
import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F
from fastnn.testing import reference as R
from fastnn.testing import requires_torch, run_python


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_matches_reference(dtype):
    x = np.random.default_rng(0).standard_normal((4, 5, 6)).astype(dtype)
    y = F.leaky_relu(x, 0.3)
    assert y.dtype == dtype
    np.testing.assert_allclose(y.numpy(), R.leaky_relu(x, 0.3), rtol=1e-6)
    np.testing.assert_allclose(fastnn.nn.LeakyReLU()(x).numpy(), R.leaky_relu(x, 0.01), rtol=1e-6)


def test_gradcheck_and_noncontiguous():
    rng = np.random.default_rng(1)
    x = fastnn.tensor(rng.standard_normal((5, 6)), dtype=np.float64, requires_grad=True)
    Rg = rng.standard_normal((5, 6))
    assert fastnn.gradcheck(lambda a: (F.leaky_relu(a, 0.2) * Rg).sum(), [x])
    xt = fastnn.Tensor(rng.standard_normal((6, 5)).T, requires_grad=True)  # non-contiguous
    (F.leaky_relu(xt, 0.2) * Rg).sum().backward()
    np.testing.assert_allclose(xt.grad, R.leaky_relu_grad(xt.detach().numpy(), Rg, 0.2))


def test_torch_parity():
    torch = requires_torch()
    x = np.random.default_rng(2).standard_normal((3, 7)).astype(np.float32)
    g = np.random.default_rng(3).standard_normal((3, 7)).astype(np.float32)
    a = fastnn.tensor(x, requires_grad=True)
    F.leaky_relu(a, 0.05).backward(g)
    b = torch.tensor(x, requires_grad=True)
    yt = torch.nn.functional.leaky_relu(b, 0.05)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(F.leaky_relu(x, 0.05).numpy(), yt.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(a.grad, b.grad.numpy(), rtol=1e-6)


def test_threads_and_nan():
    x = np.random.default_rng(4).standard_normal(70000).astype(np.float32)
    x[5] = np.nan
    fastnn.set_num_threads(1)
    a = F.leaky_relu(x).numpy()
    fastnn.set_num_threads(2)
    np.testing.assert_array_equal(a, F.leaky_relu(x).numpy())
    assert np.isnan(a[5])


def test_bad_input_in_subprocess():
    r = run_python(
        "import numpy as np, fastnn, fastnn.nn.functional as F\n"
        "for bad in (lambda: F.leaky_relu(np.arange(3), 0.1),\n"
        "            lambda: F.leaky_relu(np.zeros(3, np.float32), 'a')):\n"
        "    try:\n        bad()\n    except TypeError as e:\n        print('TypeError', e)\n"
        "try:\n    fastnn.nn.LeakyReLU('x')\nexcept ValueError as e:\n    print('ValueError', e)\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("TypeError") == 2 and "ValueError" in r.stdout
    assert "leaky_relu" in r.stdout


# ---------------------------------------------------------------- the activation table
# name: (fastnn call, torch call (on torch.nn.functional), module pair)
def _acts():
    return {
        "gelu": (lambda x: F.gelu(x), lambda T, t: T.gelu(t)),
        "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"),
                      lambda T, t: T.gelu(t, approximate="tanh")),
        "silu": (F.silu, lambda T, t: T.silu(t)),
        "mish": (F.mish, lambda T, t: T.mish(t)),
        "elu": (lambda x: F.elu(x, 0.7), lambda T, t: T.elu(t, 0.7)),
        "selu": (F.selu, lambda T, t: T.selu(t)),
        "celu": (lambda x: F.celu(x, 1.5), lambda T, t: T.celu(t, 1.5)),
        "softplus": (lambda x: F.softplus(x, 2.0, 3.0), lambda T, t: T.softplus(t, 2.0, 3.0)),
        "logsigmoid": (F.logsigmoid, lambda T, t: T.logsigmoid(t)),
        "hardtanh": (lambda x: F.hardtanh(x, -2.0, 1.5), lambda T, t: T.hardtanh(t, -2.0, 1.5)),
        "relu6": (F.relu6, lambda T, t: T.relu6(t)),
        "hardswish": (F.hardswish, lambda T, t: T.hardswish(t)),
        "hardsigmoid": (F.hardsigmoid, lambda T, t: T.hardsigmoid(t)),
        "softsign": (F.softsign, lambda T, t: T.softsign(t)),
        "threshold": (lambda x: F.threshold(x, 0.2, -3.0), lambda T, t: T.threshold(t, 0.2, -3.0)),
        "softmin": (lambda x: F.softmin(x, dim=1), lambda T, t: T.softmin(t, dim=1)),
        "log_softmax": (lambda x: F.log_softmax(x, dim=1), lambda T, t: T.log_softmax(t, dim=1)),
    }


ACT_NAMES = sorted(_acts())


def _x(shape, dtype, seed=0):
    return (np.random.default_rng(seed).standard_normal(shape) * 3).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ACT_NAMES)
def test_activation_values_and_grads_match_torch(name, dtype):
    torch = requires_torch()
    f, tf = _acts()[name]
    x = _x((4, 5, 6), dtype)
    g = np.random.default_rng(1).standard_normal(x.shape).astype(dtype)
    a = fastnn.tensor(x, requires_grad=True)
    y = f(a)
    y.backward(g)
    t = torch.tensor(x, requires_grad=True)
    ty = tf(torch.nn.functional, t)
    ty.backward(torch.tensor(g))
    assert y.dtype == dtype and y.shape == tuple(ty.shape)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-12)
    if name == "hardsigmoid" and dtype == np.float64:
        tol = dict(rtol=1e-7, atol=1e-12)     # torch's gradient uses a float32 1/6
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), **tol)
    np.testing.assert_allclose(np.asarray(a.grad), t.grad.numpy(), **tol)


@pytest.mark.parametrize("name", ACT_NAMES)
def test_activation_gradcheck_float64(name):
    f = _acts()[name][0]
    x = fastnn.tensor(_x((3, 4), np.float64, seed=2), requires_grad=True)
    Rg = fastnn.tensor(np.random.default_rng(3).standard_normal((3, 4)))
    assert fastnn.gradcheck(lambda a: (f(a) * Rg).sum(), [x])


def test_activation_threads_bitwise_through_ops():
    x = _x((4, 64, 32, 16), np.float32, seed=4)      # 131072 elements
    g = np.random.default_rng(5).standard_normal(x.shape).astype(np.float32)
    out = []
    for nt in (1, 2):
        fastnn.set_num_threads(nt)
        a = fastnn.tensor(x, requires_grad=True)
        y = F.gelu(a)
        y.backward(g)
        out.append((y.detach().numpy(), np.asarray(a.grad)))
    np.testing.assert_array_equal(out[0][0], out[1][0])
    np.testing.assert_array_equal(out[0][1], out[1][1])


def test_activation_edge_shapes_and_inplace_flag():
    for shape in [(), (1,), (0, 3), (1, 1, 1)]:
        x = fastnn.tensor(np.ones(shape, np.float32))
        assert F.silu(x).shape == shape and F.gelu(x).shape == shape
    x = fastnn.tensor([-1.0, 2.0])
    y = F.elu(x, inplace=True)           # as PyTorch: x overwritten and returned
    assert y is x and abs(x.numpy()[0] - (np.exp(-1.0) - 1.0)) < 1e-6


@pytest.mark.parametrize("num_parameters", [1, 3])
def test_prelu_matches_torch(num_parameters):
    torch = requires_torch()
    m = fastnn.nn.PReLU(num_parameters, init=0.1)
    tm = torch.nn.PReLU(num_parameters, init=0.1)
    assert repr(m) == repr(tm) and list(m.state_dict()) == list(tm.state_dict())
    np.testing.assert_array_equal(np.asarray(m.state_dict()["weight"]),
                                  tm.state_dict()["weight"].numpy())
    x = _x((2, 3, 4, 5), np.float32, seed=6)
    g = np.random.default_rng(7).standard_normal(x.shape).astype(np.float32)
    a = fastnn.tensor(x, requires_grad=True)
    m(a).backward(g)
    t = torch.tensor(x, requires_grad=True)
    tm(t).backward(torch.tensor(g))
    np.testing.assert_allclose(np.asarray(a.grad), t.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(m.weight.grad), tm.weight.grad.numpy(), rtol=1e-5,
                               atol=1e-5)


def test_prelu_gradcheck():
    rng = np.random.default_rng(8)
    x = fastnn.tensor(rng.standard_normal((3, 4, 5)), requires_grad=True)
    w = fastnn.tensor(rng.uniform(0.1, 0.5, 4), requires_grad=True)
    Rg = fastnn.tensor(rng.standard_normal((3, 4, 5)))
    assert fastnn.gradcheck(lambda a, b: (F.prelu(a, b) * Rg).sum(), [x, w])


def test_activation_modules_repr_and_state_dict_match_torch():
    torch = requires_torch()
    pairs = [("GELU", ()), ("GELU", ("tanh",)), ("SiLU", ()), ("SiLU", (True,)), ("Mish", ()),
             ("ELU", ()), ("ELU", (0.5, True)), ("SELU", ()), ("CELU", (2.0,)), ("ReLU6", ()),
             ("ReLU6", (True,)), ("Hardtanh", ()), ("Hardtanh", (-2.0, 3.0)),
             ("Hardswish", ()), ("Hardsigmoid", ()), ("Softplus", ()),
             ("Softplus", (2.0, 5.0)), ("Softsign", ()), ("LogSigmoid", ()), ("Softmin", (1,)),
             ("Threshold", (0.1, 20)), ("ReLU", (True,)), ("LeakyReLU", (0.2, True))]
    x = _x((2, 3), np.float32, seed=9)
    for name, args in pairs:
        m, tm = getattr(fastnn.nn, name)(*args), getattr(torch.nn, name)(*args)
        assert repr(m) == repr(tm), name
        assert m.state_dict() == {} and len(tm.state_dict()) == 0
        np.testing.assert_allclose(m(x.copy()).numpy(), tm(torch.tensor(x)).numpy(), rtol=1e-5,
                                   atol=1e-6, err_msg=name)


def test_activation_bad_arguments():
    x = fastnn.tensor(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="approximate"):
        F.gelu(x, approximate="fast")
    with pytest.raises(ValueError, match="approximate"):
        fastnn.nn.GELU("fast")
    with pytest.raises(ValueError, match="celu"):
        F.celu(x, 0.0)
    with pytest.raises(ValueError, match="min_val"):
        F.hardtanh(x, 2.0, 1.0)
    with pytest.raises(ValueError, match="max_val"):
        fastnn.nn.Hardtanh(2.0, 1.0)
    with pytest.raises(TypeError, match="alpha"):
        F.elu(x, "a")
    with pytest.raises(TypeError, match="int64"):
        F.silu(np.arange(3))
    with pytest.raises(fastnn.ShapeError, match="channel size"):
        F.prelu(x, fastnn.tensor(np.ones(2, np.float32)))
    with pytest.raises(fastnn.ShapeError, match="channel size"):
        F.prelu(fastnn.tensor(np.zeros(4, np.float32)), fastnn.tensor(np.ones(4, np.float32)))
    with pytest.raises(ValueError, match="num_parameters"):
        fastnn.nn.PReLU(0)
