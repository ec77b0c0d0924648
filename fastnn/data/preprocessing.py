"""Preprocessing from the course notes: standardisation and PCA (whitening).

Both follow the scikit-learn style: ``fit`` learns statistics and returns the
object, ``transform`` returns an ndarray.  Tensors are accepted everywhere.
"""
import numpy as np

from .. import _defaults
from .._tensor import Tensor

__all__ = ["Standardize", "PCA"]


def _arr(x, who):
    if isinstance(x, Tensor):
        x = x._array
    x = np.asarray(x)
    if x.dtype.kind not in "fiu":
        raise TypeError(f"{who}: expected numeric data, got dtype {x.dtype}")
    return x


def _float_dtype(x):
    return x.dtype if x.dtype.kind == "f" else _defaults.FLOAT


class Standardize:
    """Zero mean and unit variance per feature (2-D) or per channel (N, C, ...).

    ``x' = (x - mean) / std`` with the population std; a constant feature
    (std 0) is only centred.

    Shape
    -----
    - Input: ``(N, F)`` or ``(N, C, H, W)`` (any ``(N, C, ...)``).
    - ``mean_``, ``std_``: ``(F,)`` or ``(C,)``.

    Examples
    --------
    >>> import numpy as np
    >>> from fastnn.data import Standardize
    >>> z = Standardize().fit_transform(np.array([[1.0, 5.0], [3.0, 5.0]]))
    >>> z.tolist()
    [[-1.0, 0.0], [1.0, 0.0]]
    """

    def __init__(self, eps=1e-12):
        self.eps = eps
        self.mean_ = None
        self.std_ = None

    def _axes(self, x):
        if x.ndim < 2:
            raise ValueError(f"Standardize: expected (N, F) or (N, C, ...) data, got shape "
                             f"{x.shape}")
        return (0,) + tuple(range(2, x.ndim))

    def _bshape(self, x):
        return (1, -1) + (1,) * (x.ndim - 2)

    def fit(self, x):
        x = _arr(x, "Standardize.fit")
        axes = self._axes(x)
        if x.shape[0] == 0:
            raise ValueError("Standardize.fit: no samples")
        xd = x.astype(np.float64)
        self.mean_ = xd.mean(axis=axes)
        std = xd.std(axis=axes)
        self.std_ = np.where(std > self.eps, std, 1.0)
        return self

    def _check(self, x, who):
        if self.mean_ is None:
            raise RuntimeError(f"Standardize.{who}: call fit() first")
        x = _arr(x, f"Standardize.{who}")
        self._axes(x)
        if x.shape[1] != self.mean_.shape[0]:
            raise ValueError(f"Standardize.{who}: fitted on {self.mean_.shape[0]} "
                             f"features/channels, got {x.shape[1]} (shape {x.shape})")
        return x

    def transform(self, x):
        x = self._check(x, "transform")
        dt = _float_dtype(x)
        b = self._bshape(x)
        return ((x - self.mean_.reshape(b)) / self.std_.reshape(b)).astype(dt, copy=False)

    def inverse_transform(self, z):
        z = self._check(z, "inverse_transform")
        dt = _float_dtype(z)
        b = self._bshape(z)
        return (z * self.std_.reshape(b) + self.mean_.reshape(b)).astype(dt, copy=False)

    def fit_transform(self, x):
        return self.fit(x).transform(x)


class PCA:
    """Principal component analysis by SVD of the centred data, optionally whitened.

    Parameters
    ----------
    n_components : int or None
        Components kept (default: ``min(N, F)``).
    whiten : bool
        Divide the projections by the square root of their variance, so the
        output covariance is the identity.
    eps : float
        Added to the variance before whitening (guards zero variance).

    Attributes
    ----------
    components_ : ndarray, shape (n_components, F)
    explained_variance_ : ndarray, shape (n_components,)  (``ddof=1``)
    explained_variance_ratio_ : ndarray, shape (n_components,)
    mean_ : ndarray, shape (F,)

    Shape
    -----
    - Input: ``(N, F)``; higher-rank input is flattened to ``(N, -1)``.
    - Output: ``(N, n_components)``.

    Examples
    --------
    >>> import numpy as np
    >>> from fastnn.data import PCA
    >>> x = np.random.default_rng(0).normal(size=(100, 5))
    >>> PCA(2).fit(x).transform(x).shape
    (100, 2)
    """

    def __init__(self, n_components=None, whiten=False, eps=1e-8):
        if n_components is not None and (isinstance(n_components, bool) or
                                         not isinstance(n_components, (int, np.integer))
                                         or n_components <= 0):
            raise ValueError(f"PCA: n_components must be a positive int or None, got "
                             f"{n_components!r}")
        self.n_components = n_components
        self.whiten = bool(whiten)
        self.eps = eps
        self.components_ = None

    @staticmethod
    def _flat(x, who):
        x = _arr(x, who)
        if x.ndim < 2:
            raise ValueError(f"{who}: expected (N, F) data, got shape {x.shape}")
        return x.reshape(x.shape[0], -1)

    def fit(self, x):
        x = self._flat(x, "PCA.fit")
        n, f = x.shape
        if n < 2:
            raise ValueError(f"PCA.fit: need at least 2 samples, got {n}")
        k = min(n, f) if self.n_components is None else self.n_components
        if k > min(n, f):
            raise ValueError(f"PCA: n_components={k} must be <= min(n_samples, n_features)="
                             f"{min(n, f)}")
        xd = x.astype(np.float64)
        self.mean_ = xd.mean(axis=0)
        _, s, vt = np.linalg.svd(xd - self.mean_, full_matrices=False)
        # Deterministic signs: the largest-magnitude entry of each component is positive.
        signs = np.sign(vt[np.arange(vt.shape[0]), np.argmax(np.abs(vt), axis=1)])
        signs[signs == 0] = 1.0
        vt *= signs[:, None]
        var = s ** 2 / (n - 1)
        total = var.sum()
        self.n_components_ = k
        self.n_features_in_ = f
        self.components_ = vt[:k]
        self.explained_variance_ = var[:k]
        self.explained_variance_ratio_ = var[:k] / total if total > 0 else np.zeros(k)
        self.singular_values_ = s[:k]
        self._dtype = _float_dtype(x)
        return self

    def _check(self, who):
        if self.components_ is None:
            raise RuntimeError(f"PCA.{who}: call fit() first")

    def transform(self, x):
        self._check("transform")
        x = self._flat(x, "PCA.transform")
        if x.shape[1] != self.n_features_in_:
            raise ValueError(f"PCA.transform: fitted on {self.n_features_in_} features, got "
                             f"{x.shape[1]}")
        z = (x - self.mean_) @ self.components_.T
        if self.whiten:
            z /= np.sqrt(self.explained_variance_ + self.eps)
        return z.astype(_float_dtype(x), copy=False)

    def inverse_transform(self, z):
        self._check("inverse_transform")
        z = _arr(z, "PCA.inverse_transform").astype(np.float64)
        if z.ndim != 2 or z.shape[1] != self.n_components_:
            raise ValueError(f"PCA.inverse_transform: expected (N, {self.n_components_}), got "
                             f"{z.shape}")
        if self.whiten:
            z = z * np.sqrt(self.explained_variance_ + self.eps)
        return (z @ self.components_ + self.mean_).astype(self._dtype, copy=False)

    def fit_transform(self, x):
        return self.fit(x).transform(x)
