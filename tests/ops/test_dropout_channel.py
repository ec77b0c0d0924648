"""Channel-wise dropout (Dropout1d/2d/3d), AlphaDropout and
FeatureAlphaDropout: masks per (sample, channel), PyTorch's scaling and
formulas, gradients, seeding, thread invariance, errors."""
import math
import warnings

import numpy as np
import pytest

import fastnn
import fastnn.nn as nn
import fastnn.nn.functional as F
from fastnn.testing import requires_torch

ALPHA = 1.7580993408473766


def _channels_constant(y, ndim_spatial):
    ax = tuple(range(y.ndim - ndim_spatial, y.ndim))
    return np.all(y.max(axis=ax) == y.min(axis=ax))


@pytest.mark.parametrize("fn,shape,sp", [(F.dropout1d, (8, 64, 5), 1), (F.dropout1d, (64, 5), 1),
                                         (F.dropout2d, (8, 64, 3, 4), 2),
                                         (F.dropout3d, (4, 32, 2, 3, 2), 3),
                                         (F.dropout3d, (32, 2, 3, 2), 3)])
def test_channel_masks_and_scaling(fn, shape, sp):
    fastnn.manual_seed(0)
    p = 0.3
    x = fastnn.tensor(np.ones(shape), requires_grad=True)
    y = fn(x, p)
    yv = y.detach().numpy()
    assert set(np.unique(yv)) <= {0.0, 1 / (1 - p)}
    assert _channels_constant(yv, sp)
    frac = float((yv == 0).mean())
    assert 0.15 < frac < 0.45
    g = np.random.default_rng(0).standard_normal(shape)
    y.backward(g)
    np.testing.assert_allclose(np.asarray(x.grad), g * yv)    # the same mask and scale
    # seeded: the same masks again; eval / p=0: identity; p=1: zeros
    fastnn.manual_seed(0)
    np.testing.assert_array_equal(fn(np.ones(shape), p).numpy(), yv)
    assert fn(x, p, training=False) is x
    assert fn(x, 0.0) is x
    assert not fn(np.ones(shape), 1.0).numpy().any()


def test_torch_scaling_values_agree():
    torch = requires_torch()
    x = np.ones((16, 32, 3, 3), np.float32)
    a = np.unique(F.dropout2d(x, 0.25).numpy())
    b = np.unique(torch.nn.functional.dropout2d(torch.tensor(x), 0.25).numpy())
    np.testing.assert_array_equal(a, b)


def test_alpha_dropout_formula_and_statistics():
    fastnn.manual_seed(1)
    p = 0.2
    a = 1.0 / math.sqrt((ALPHA ** 2 * p + 1) * (1 - p))
    x = np.random.default_rng(1).standard_normal(200000)
    xt = fastnn.tensor(x, requires_grad=True)
    y = F.alpha_dropout(xt, p, training=True)
    yv = y.detach().numpy()
    dropped = np.isclose(yv, -ALPHA * a * (1 - p), rtol=0, atol=1e-12) & \
        ~np.isclose(x * a + ALPHA * a * p, -ALPHA * a * (1 - p), atol=1e-12)
    kept = ~dropped
    np.testing.assert_allclose(yv[kept], a * x[kept] + ALPHA * a * p, rtol=1e-12)
    assert abs(dropped.mean() - p) < 0.01
    assert abs(yv.mean()) < 0.02 and abs(yv.std() - 1) < 0.02
    y.backward(np.ones_like(x))
    np.testing.assert_allclose(np.asarray(xt.grad), np.where(kept, a, 0.0))
    assert F.alpha_dropout(xt, p) is xt                  # functional default: training=False
    assert not F.alpha_dropout(np.ones(4), 1.0, training=True).numpy().any()


def test_feature_alpha_dropout_is_channel_wise():
    fastnn.manual_seed(2)
    y = F.feature_alpha_dropout(np.zeros((4, 16, 3, 3)), 0.5, training=True).numpy()
    assert _channels_constant(y, 2) and len(np.unique(y)) == 2


def test_alpha_dropout_thread_invariance():
    x = np.random.default_rng(3).standard_normal(150000).astype(np.float32)
    res = []
    for n in (1, 2):
        fastnn.set_num_threads(n)
        fastnn.manual_seed(4)
        res.append(F.alpha_dropout(x, 0.3, training=True).numpy().copy())
    np.testing.assert_array_equal(res[0], res[1])


def test_modules():
    torch = requires_torch()
    for ours, theirs in [(nn.Dropout1d(0.2), torch.nn.Dropout1d(0.2)),
                         (nn.Dropout2d(), torch.nn.Dropout2d()),
                         (nn.Dropout3d(0.1, inplace=True), torch.nn.Dropout3d(0.1, inplace=True)),
                         (nn.AlphaDropout(0.3), torch.nn.AlphaDropout(0.3)),
                         (nn.FeatureAlphaDropout(0.4), torch.nn.FeatureAlphaDropout(0.4)),
                         (nn.Dropout(0.5), torch.nn.Dropout(0.5))]:
        assert repr(ours) == repr(theirs)
        x = np.random.default_rng(0).standard_normal((2, 4, 3, 3, 2)).astype(np.float32)
        if isinstance(ours, nn.Dropout1d):
            x = x[..., 0, 0]
        elif isinstance(ours, nn.Dropout2d):
            x = x[..., 0]
        np.testing.assert_array_equal(ours.eval()(x).numpy(), x)
        assert ours.train()(x).shape == x.shape
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout2d(1.5)


def test_errors_and_warnings():
    with pytest.raises(fastnn.ShapeError, match="Expected 2D or 3D input"):
        F.dropout1d(np.ones((2, 3, 4, 5)), 0.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout2d(np.ones((2, 3, 4, 5)), -0.1)
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.alpha_dropout(np.ones(3), 2.0, training=True)
    with pytest.warns(UserWarning, match="3D input to dropout2d"):
        F.dropout2d(np.ones((2, 3, 4)), 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.dropout2d(np.ones((2, 3, 4, 4)), 0.5)
