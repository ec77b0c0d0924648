import numpy as np
import pytest

import fastnn
from fastnn.data import PCA, Standardize


def test_standardize_2d_per_feature():
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, [1.0, 5.0, 0.1], size=(200, 3)).astype(np.float32)
    s = Standardize()
    assert s.fit(x) is s
    z = s.transform(x)
    assert isinstance(z, np.ndarray) and z.dtype == np.float32
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(z.std(0), 1, atol=1e-4)
    np.testing.assert_allclose(s.inverse_transform(z), x, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(Standardize().fit_transform(x), z, atol=1e-6)


def test_standardize_nchw_per_channel_and_tensor_input():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(10, 3, 4, 5)) * np.array([1, 2, 3]).reshape(1, 3, 1, 1) + 7
    z = Standardize().fit_transform(fastnn.from_numpy(x))
    assert z.shape == x.shape and z.dtype == np.float64
    np.testing.assert_allclose(z.mean(axis=(0, 2, 3)), 0, atol=1e-10)
    np.testing.assert_allclose(z.std(axis=(0, 2, 3)), 1, atol=1e-10)
    assert Standardize().fit(x).mean_.shape == (3,)


def test_standardize_zero_std_guarded():
    x = np.array([[1.0, 2.0], [1.0, 4.0]])
    z = Standardize().fit_transform(x)
    assert np.all(np.isfinite(z))
    np.testing.assert_array_equal(z[:, 0], 0)


def test_standardize_errors():
    with pytest.raises(RuntimeError):
        Standardize().transform(np.zeros((2, 2)))
    s = Standardize().fit(np.zeros((4, 3)))
    with pytest.raises(ValueError):
        s.transform(np.zeros((4, 2)))


def test_pca_matches_covariance_eigendecomposition():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(300, 6)) @ rng.normal(size=(6, 6))
    p = PCA().fit(x)
    cov = np.cov(x, rowvar=False)
    w = np.sort(np.linalg.eigvalsh(cov))[::-1]
    np.testing.assert_allclose(p.explained_variance_, w, rtol=1e-8)
    np.testing.assert_allclose(p.explained_variance_ratio_.sum(), 1.0)
    assert np.all(np.diff(p.explained_variance_ratio_) <= 0)
    np.testing.assert_allclose(p.components_ @ p.components_.T, np.eye(6), atol=1e-10)
    np.testing.assert_allclose(p.inverse_transform(p.transform(x)), x, atol=1e-9)
    np.testing.assert_allclose(p.mean_, x.mean(0))


def test_pca_whitening_gives_identity_covariance():
    rng = np.random.default_rng(3)
    x = (rng.normal(size=(500, 8)) @ rng.normal(size=(8, 8)) + 5).astype(np.float32)
    p = PCA(5, whiten=True)
    z = p.fit_transform(x)
    assert z.shape == (500, 5) and z.dtype == np.float32
    np.testing.assert_allclose(np.cov(z, rowvar=False), np.eye(5), atol=1e-4)
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-4)
    rec = p.inverse_transform(z)
    assert rec.shape == x.shape
    # Reconstruction from 5 of 8 components loses the 3 smallest variances only.
    lost = PCA().fit(x).explained_variance_[5:].sum()
    err = ((rec - x) ** 2).sum(1).mean() * 500 / 499
    np.testing.assert_allclose(err, lost, rtol=1e-3)


def test_pca_errors():
    with pytest.raises(ValueError):
        PCA(0)
    with pytest.raises(ValueError):
        PCA(10).fit(np.zeros((5, 3)))
    with pytest.raises(RuntimeError):
        PCA(2).transform(np.zeros((5, 3)))
