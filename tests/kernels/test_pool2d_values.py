"""Max pooling without the argmax (idx=None: the inference path): the same
values as with it, PyTorch's NaN rule, every window shape, both dtypes,
1 and 2 threads; and nn.MaxPool2d under no_grad matches grad mode."""
import numpy as np
import pytest

import fastnn
import fastnn._core as core
from fastnn import nn


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("geom", [(2, 2, 2, 2, 0, 0), (3, 3, 2, 2, 1, 1), (2, 3, 1, 2, 0, 1),
                                  (3, 2, 3, 1, 1, 0)])
def test_values_only_matches_argmax_path(dtype, geom):
    R, S, sh, sw, ph, pw = geom
    rng = np.random.default_rng(0)
    for shape in [(1, 3, 8, 8), (2, 5, 9, 7), (3, 64, 16, 16)]:   # the last one: a team
        x = rng.standard_normal(shape).astype(dtype)
        x.flat[rng.integers(0, x.size, 7)] = np.nan
        x.flat[rng.integers(0, x.size, 7)] = np.inf
        OH, OW = core.pool2d_out_size(shape[2], shape[3], R, S, sh, sw, ph, pw)
        y_ref = np.empty(shape[:2] + (OH, OW), dtype)
        idx = np.empty(y_ref.shape, np.int64)
        core.max_pool2d_fwd(x, y_ref, idx, R, S, sh, sw, ph, pw, 1)
        for nt in (1, 2):
            y = np.full_like(y_ref, 7.0)
            core.max_pool2d_fwd(x, y, None, R, S, sh, sw, ph, pw, nt)
            np.testing.assert_array_equal(y, y_ref)   # NaNs in the same places


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_2x2_every_row_width(dtype):
    """2x2 / stride 2 over output rows of 1 to 40 (the vector kernels' full
    and masked widths), odd input sizes (the last row and column left out),
    NaN and infinities: the argmax path's values."""
    rng = np.random.default_rng(5)
    for W in list(range(2, 82, 3)) + [32, 33, 64]:
        x = rng.standard_normal((2, 3, 7, W)).astype(dtype)
        x.flat[rng.integers(0, x.size, 5)] = np.nan
        x.flat[rng.integers(0, x.size, 5)] = -np.inf
        y_ref = np.empty((2, 3, 3, W // 2), dtype)
        core.max_pool2d_fwd(x, y_ref, np.empty(y_ref.shape, np.int64), 2, 2, 2, 2, 0, 0, 1)
        y = np.full_like(y_ref, 7.0)
        core.max_pool2d_fwd(x, y, None, 2, 2, 2, 2, 0, 0, 1)
        np.testing.assert_array_equal(y, y_ref)
        # NumPy's max: NaN when the window holds one, as PyTorch
        ref = x[:, :, :6, :W // 2 * 2].reshape(2, 3, 3, 2, W // 2, 2).max(axis=(3, 5))
        np.testing.assert_array_equal(y, ref)


def test_2x2_nan_propagates():
    x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    x[0, 0, 1, 1] = np.nan
    y = np.empty((1, 1, 2, 2), np.float32)
    core.max_pool2d_fwd(x, y, None, 2, 2, 2, 2, 0, 0, 1)
    assert np.isnan(y[0, 0, 0, 0])
    assert y[0, 0, 0, 1] == 7 and y[0, 0, 1, 0] == 13 and y[0, 0, 1, 1] == 15


def test_module_no_grad_matches_grad_mode():
    rng = np.random.default_rng(1)
    x = fastnn.tensor(rng.standard_normal((2, 4, 10, 10)).astype(np.float32))
    for m in (nn.MaxPool2d(2), nn.MaxPool2d(3, stride=2, padding=1)):
        want = m(x).numpy()
        with fastnn.no_grad():
            got = m(x)
        np.testing.assert_array_equal(got.numpy(), want)
        y, i = nn.MaxPool2d(2, return_indices=True)(x)
        with fastnn.no_grad():
            y2, i2 = nn.MaxPool2d(2, return_indices=True)(x)
        np.testing.assert_array_equal(i2.numpy(), i.numpy())
