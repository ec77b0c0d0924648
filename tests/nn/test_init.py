"""nn.init: PyTorch's gains, fans, bounds, shapes and errors; the random
initialisers' distributions; orthogonal / eye / dirac / sparse structure;
seeding and generator=; in place with the dtype kept."""
import math
import warnings

import numpy as np
import pytest

import fastnn
from fastnn.nn import init
from fastnn.testing import requires_torch


def _p(*shape, dtype=np.float32):
    return fastnn.nn.Parameter(np.zeros(shape, dtype))


def test_calculate_gain_equals_torch():
    torch = requires_torch()
    names = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
             "conv_transpose3d", "sigmoid", "tanh", "relu", "selu", "leaky_relu"]
    for n in names:
        assert init.calculate_gain(n) == pytest.approx(torch.nn.init.calculate_gain(n), rel=1e-15)
    for a in (0, 0.2, 1, 3.5):
        assert init.calculate_gain("leaky_relu", a) == pytest.approx(
            torch.nn.init.calculate_gain("leaky_relu", a), rel=1e-15)
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("gelu")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", True)


@pytest.mark.parametrize("shape", [(5, 3), (8, 4, 3, 3), (6, 2, 5), (4, 4, 2, 2, 2)])
def test_fans_equal_torch(shape):
    torch = requires_torch()
    assert init._calculate_fan_in_and_fan_out(_p(*shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(_p(5))


@pytest.mark.parametrize("fn,kw,bound", [
    (init.xavier_uniform_, dict(gain=2.0), lambda fi, fo: 2.0 * math.sqrt(6 / (fi + fo))),
    (init.kaiming_uniform_, dict(), lambda fi, fo: math.sqrt(3) * math.sqrt(2) / math.sqrt(fi)),
    (init.kaiming_uniform_, dict(a=math.sqrt(5)),
     lambda fi, fo: math.sqrt(3) * math.sqrt(2 / 6) / math.sqrt(fi)),
    (init.kaiming_uniform_, dict(mode="fan_out", nonlinearity="relu"),
     lambda fi, fo: math.sqrt(3) * math.sqrt(2) / math.sqrt(fo)),
    (init.uniform_, dict(a=-0.3, b=0.3), lambda fi, fo: 0.3)])
def test_uniform_bounds(fn, kw, bound):
    w = _p(256, 64, 3, 3)
    assert fn(w, **kw) is w
    b = bound(64 * 9, 256 * 9)
    a = w.detach().numpy()
    assert a.dtype == np.float32
    assert np.abs(a).max() <= b * (1 + 1e-6) and np.abs(a).max() > 0.99 * b
    assert abs(a.std() - b / math.sqrt(3)) < 0.01 * b


@pytest.mark.parametrize("fn,kw,std", [
    (init.xavier_normal_, dict(), lambda fi, fo: math.sqrt(2 / (fi + fo))),
    (init.kaiming_normal_, dict(nonlinearity="tanh", mode="fan_out"),
     lambda fi, fo: (5 / 3) / math.sqrt(fo)),
    (init.kaiming_normal_, dict(a=0.1), lambda fi, fo: math.sqrt(2 / 1.01) / math.sqrt(fi)),
    (init.normal_, dict(mean=1.0, std=0.5), lambda fi, fo: 0.5)])
def test_normal_std(fn, kw, std):
    w = _p(300, 200, dtype=np.float64)
    fn(w, **kw)
    a = w.detach().numpy()
    s = std(200, 300)
    assert abs(a.std() - s) < 0.01 * s
    assert abs(a.mean() - kw.get("mean", 0.0)) < 0.01 * max(s, 1e-9) * 3


def test_kaiming_bad_mode_and_zero_size():
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(_p(3, 3), mode="fan_avg")
    with pytest.warns(UserWarning, match="no-op"):
        init.kaiming_normal_(_p(0, 3))


def test_trunc_normal_matches_torch_statistics():
    torch = requires_torch()
    w = _p(200000, dtype=np.float64)
    init.trunc_normal_(w, mean=0.5, std=1.0, a=-0.5, b=1.0)
    a = w.detach().numpy()
    assert a.min() >= -0.5 and a.max() <= 1.0
    t = torch.nn.init.trunc_normal_(torch.empty(200000, dtype=torch.float64), mean=0.5, std=1.0,
                                    a=-0.5, b=1.0).numpy()
    assert abs(a.mean() - t.mean()) < 0.01 and abs(a.std() - t.std()) < 0.01
    with pytest.warns(UserWarning, match="more than 2 std"):
        init.trunc_normal_(_p(10), mean=10.0, std=1.0, a=-2, b=2)
    z = init.trunc_normal_(_p(1000), std=0.02, a=-0.04, b=0.04).detach().numpy()
    assert np.abs(z).max() <= 0.04


@pytest.mark.parametrize("shape,gain", [((6, 4), 1.0), ((4, 6), 2.0), ((8, 3, 2, 2), 0.5),
                                        ((5, 5), 1.0)])
def test_orthogonal(shape, gain):
    w = _p(*shape, dtype=np.float64)
    init.orthogonal_(w, gain=gain)
    m = w.detach().numpy().reshape(shape[0], -1) / gain
    if m.shape[0] <= m.shape[1]:
        np.testing.assert_allclose(m @ m.T, np.eye(m.shape[0]), atol=1e-12)
    else:
        np.testing.assert_allclose(m.T @ m, np.eye(m.shape[1]), atol=1e-12)
    with pytest.raises(ValueError, match="2 or more dimensions"):
        init.orthogonal_(_p(3))
    init.orthogonal_(_p(0, 3))


def test_eye_and_dirac_equal_torch():
    torch = requires_torch()
    for shape in [(3, 5), (4, 2)]:
        np.testing.assert_array_equal(init.eye_(_p(*shape)).detach().numpy(),
                                      torch.nn.init.eye_(torch.empty(shape)).numpy())
    for shape, groups in [((4, 4, 3), 1), ((6, 2, 3, 3), 2), ((4, 3, 3, 3, 3), 1),
                          ((3, 5, 2, 2), 3), ((8, 2, 5), 4)]:
        np.testing.assert_array_equal(
            init.dirac_(_p(*shape), groups).detach().numpy(),
            torch.nn.init.dirac_(torch.empty(shape), groups).numpy())
    with pytest.raises(ValueError, match="2 dimensions"):
        init.eye_(_p(2, 2, 2))
    with pytest.raises(ValueError, match="3, 4, or 5 dimensions"):
        init.dirac_(_p(2, 2))
    with pytest.raises(ValueError, match="divisible by groups"):
        init.dirac_(_p(5, 2, 3), groups=2)


def test_dirac_conv_is_identity():
    torch = requires_torch()
    w = init.dirac_(_p(3, 3, 3, 3)).detach().numpy()
    x = np.random.default_rng(0).standard_normal((1, 3, 5, 5)).astype(np.float32)
    y = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), padding=1).numpy()
    np.testing.assert_allclose(y, x, atol=1e-7)


def test_sparse_constant_ones_zeros():
    w = init.sparse_(_p(10, 7), sparsity=0.25, std=0.1).detach().numpy()
    assert all((w[:, c] == 0).sum() == 3 for c in range(7))
    assert (init.ones_(_p(2, 2)).detach().numpy() == 1).all()
    assert (init.zeros_(fastnn.nn.Parameter(np.ones(3))).detach().numpy() == 0).all()
    assert (init.constant_(_p(2), 0.25).detach().numpy() == 0.25).all()
    with pytest.raises(ValueError, match="2 dimensions"):
        init.sparse_(_p(3), 0.5)


def test_seeding_and_generator():
    fastnn.manual_seed(3)
    a = init.kaiming_uniform_(_p(4, 5)).detach().numpy().copy()
    fastnn.manual_seed(3)
    b = init.kaiming_uniform_(_p(4, 5)).detach().numpy()
    np.testing.assert_array_equal(a, b)
    g1, g2 = np.random.default_rng(9), np.random.default_rng(9)
    for fn in (init.normal_, init.uniform_, init.trunc_normal_, init.xavier_normal_,
               init.orthogonal_):
        np.testing.assert_array_equal(fn(_p(3, 4), generator=g1).detach().numpy(),
                                      fn(_p(3, 4), generator=g2).detach().numpy())
    with pytest.raises(TypeError, match="generator"):
        init.normal_(_p(2), generator=42)


def test_no_warnings_on_module_construction():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fastnn.nn.Linear(3, 4)
        fastnn.nn.Conv2d(3, 4, 3)


@pytest.mark.parametrize("name,args", [("xavier_uniform", ()), ("xavier_normal", (2.0,)),
                                       ("kaiming_uniform", ()), ("kaiming_normal", ()),
                                       ("normal", (0.0, 0.02)), ("uniform", (-0.1, 0.1)),
                                       ("constant", (0.3,)), ("orthogonal", ()),
                                       ("eye", ()), ("sparse", (0.5,))])
def test_deprecated_init_names_warn_and_initialise_as_torch(name, args):
    """Old tutorials call ``nn.init.xavier_uniform(w)`` (no underscore):
    PyTorch still has those names, warning with a FutureWarning, and they
    initialise in place like the ``_`` forms."""
    torch = pytest.importorskip("torch")
    msgs = []
    for lib in (torch, fastnn):
        w = lib.empty(40, 30)
        with pytest.warns(FutureWarning) as rec:
            out = getattr(lib.nn.init, name)(w, *args)
        assert out is w
        msgs.append(str(rec[0].message))
        if name == "constant":
            assert float(w.min()) == float(w.max()) == pytest.approx(0.3)
        elif name == "eye":
            np.testing.assert_array_equal(w.numpy(), np.eye(40, 30, dtype=np.float32))
        else:
            assert float(w.std()) > 0
    assert msgs[0] == msgs[1]
    c = fastnn.empty(3, 4, 3)
    with pytest.warns(FutureWarning):
        fastnn.nn.init.dirac(c)
    assert float(c.sum()) == 3.0
