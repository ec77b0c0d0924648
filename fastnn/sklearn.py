"""scikit-learn estimators wrapping fastnn modules.

:class:`NeuralNetClassifier` and :class:`NeuralNetRegressor` turn a fastnn
module factory, a loss, an optimiser and a number of epochs into a
scikit-learn estimator, so ``GridSearchCV``, ``RandomizedSearchCV``,
``cross_val_score`` and ``Pipeline`` work unchanged. scikit-learn is an
optional dependency (``pip install fastnn[sklearn]``); ``import fastnn`` does
not import this module.

Parameters routed by prefix, as in skorch: ``module__hidden=64`` is passed to
the module factory, ``optimizer__momentum=0.9`` to the optimiser,
``criterion__reduction=...`` to the loss; they work in ``set_params`` and in
search grids (``{"module__hidden": [32, 64], "lr": [0.01, 0.1]}``).

Examples
--------
>>> import numpy as np
>>> from fastnn.sklearn import NeuralNetClassifier
>>> X = np.random.default_rng(0).normal(size=(60, 4)).astype("float32")
>>> y = (X[:, 0] > 0).astype(int)
>>> clf = NeuralNetClassifier(lr=0.1, max_epochs=20, seed=0).fit(X, y)
>>> clf.predict(X).shape, clf.classes_.tolist()
((60,), [0, 1])
"""
import copy
import inspect
import numbers

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted, column_or_1d
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("fastnn.sklearn needs scikit-learn, an optional dependency: install it "
                      "with `pip install fastnn[sklearn]` (or `pip install scikit-learn`)") from exc

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data as _sk_validate_data
except ImportError:  # pragma: no cover - older scikit-learn
    _sk_validate_data = None

import fastnn
from fastnn import _defaults, nn

__all__ = ["NeuralNetClassifier", "NeuralNetRegressor"]

_PREFIXES = ("module__", "optimizer__", "criterion__")
_IN_NAMES = ("in_features", "n_features", "input_dim", "n_inputs", "in_dim")
_OUT_NAMES = ("out_features", "n_classes", "n_outputs", "output_dim", "out_dim")


def _validate(est, X, y="no_validation", reset=True, **kw):
    if _sk_validate_data is not None:
        return _sk_validate_data(est, X, y, reset=reset, **kw)
    return est._validate_data(X, y, reset=reset, **kw)  # pragma: no cover


class MLP(nn.Module):
    """The default module: ``Linear(in, hidden) -> ReLU -> Linear(hidden, out)``."""

    def __init__(self, in_features, out_features, hidden=64):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU(),
                                 nn.Linear(hidden, out_features))

    def forward(self, x):
        return self.net(x)


def _default_optimizer(params, lr, **kw):
    from fastnn.optim import SGD
    return SGD(params, lr=lr, **kw)


def _default_criterion(classifier, **kw):
    return nn.CrossEntropyLoss(**kw) if classifier else nn.MSELoss(**kw)


# ----------------------------------------------------------------------------- estimators

def _prefixed(params, prefix):
    n = len(prefix)
    return {k[n:]: v for k, v in params.items() if k.startswith(prefix)}


def _accepts(fn, name):
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return False
    return name in sig.parameters


class _NeuralNet(BaseEstimator):
    _classifier = False

    def __init__(self, module=None, criterion=None, optimizer=None, lr=0.01, max_epochs=10,
                 batch_size=32, seed=None, **kwargs):
        self.module = module
        self.criterion = criterion
        self.optimizer = optimizer
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.seed = seed
        # Extra keywords are kept as they are and checked by fit (scikit-learn's
        # rule: no validation in __init__ or set_params).
        self._extra = list(kwargs)
        for k, v in kwargs.items():
            setattr(self, k, v)

    # -- parameters --------------------------------------------------------------
    def get_params(self, deep=True):
        params = super().get_params(deep=deep)
        params.update({k: getattr(self, k) for k in getattr(self, "_extra", ())})
        return params

    def set_params(self, **params):
        own = set(self._get_param_names())
        for k, v in params.items():
            if k not in own and "__" not in k.strip("_") or k.startswith(_PREFIXES):
                setattr(self, k, v)
                if k not in self._extra:
                    self._extra.append(k)
        rest = {k: v for k, v in params.items() if k not in self._extra}
        if rest:
            super().set_params(**rest)
        return self

    def _routed(self, prefix):
        return _prefixed({k: getattr(self, k) for k in self._extra}, prefix)

    # -- tags ----------------------------------------------------------------------
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.seed is None  # the same seed gives the same fit
        return tags

    def _more_tags(self):  # scikit-learn < 1.6
        return {"non_deterministic": self.seed is None}

    # -- building ------------------------------------------------------------------
    def _check_hyper(self):
        name = type(self).__name__
        unknown = [k for k in self._extra if not k.startswith(_PREFIXES)]
        if unknown:
            raise ValueError(f"{name}: unknown parameter(s) {unknown}; valid ones are "
                             f"{sorted(self._get_param_names())} and routed parameters starting "
                             f"with {', '.join(_PREFIXES)}")
        if isinstance(self.lr, bool) or not isinstance(self.lr, numbers.Real) or not self.lr > 0:
            raise ValueError(f"{name}: lr must be a positive number, got {self.lr!r}")
        for k in ("max_epochs", "batch_size"):
            v = getattr(self, k)
            lo = 0 if k == "max_epochs" else 1
            if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < lo:
                raise ValueError(f"{name}: {k} must be an int >= {lo}, got {v!r}")
        if self.seed is not None and (isinstance(self.seed, bool)
                                      or not isinstance(self.seed, numbers.Integral)):
            raise ValueError(f"{name}: seed must be None or an int, got {self.seed!r}")

    def _build_module(self, n_in, n_out):
        kw = self._routed("module__")
        factory = MLP if self.module is None else self.module
        if isinstance(factory, nn.Module):
            if kw:
                raise ValueError(f"{type(self).__name__}: module__ parameters {sorted(kw)} need a "
                                 "module class or factory, not a module instance")
            return copy.deepcopy(factory)
        if not callable(factory):
            raise ValueError(f"{type(self).__name__}: module must be a fastnn Module class, a "
                             f"factory or an instance, got {factory!r}")
        for names, value in ((_IN_NAMES, n_in), (_OUT_NAMES, n_out)):
            if not any(n in kw for n in names):
                for n in names:
                    if _accepts(factory, n):
                        kw[n] = value
                        break
        module = factory(**kw)
        if not isinstance(module, nn.Module):
            raise ValueError(f"{type(self).__name__}: the module factory returned "
                             f"{type(module).__name__}, not a fastnn.nn.Module")
        return module

    def _build_criterion(self):
        kw = self._routed("criterion__")
        if self.criterion is None:
            return _default_criterion(self._classifier, **kw)
        if isinstance(self.criterion, type):
            return self.criterion(**kw)
        if callable(self.criterion):
            return self.criterion
        raise ValueError(f"{type(self).__name__}: criterion must be a loss class or callable, "
                         f"got {self.criterion!r}")

    def _build_optimizer(self, params):
        kw = self._routed("optimizer__")
        if self.optimizer is None:
            return _default_optimizer(params, float(self.lr), **kw)
        if not callable(self.optimizer):
            raise ValueError(f"{type(self).__name__}: optimizer must be an optimiser class or "
                             f"factory, got {self.optimizer!r}")
        return self.optimizer(params, lr=float(self.lr), **kw)

    # -- training ------------------------------------------------------------------
    def _fit_arrays(self, X, target, n_out):
        self._check_hyper()
        if self.seed is not None:
            fastnn.manual_seed(int(self.seed))
        seed = self.seed if self.seed is not None else int(np.random.randint(2 ** 31))
        rng = np.random.default_rng(seed)
        self.module_ = self._build_module(X.shape[1], n_out)
        self.criterion_ = self._build_criterion()
        self.optimizer_ = self._build_optimizer(self.module_.parameters())
        self.module_.train()
        n, bs = X.shape[0], int(self.batch_size)
        self.history_ = []
        for _ in range(int(self.max_epochs)):
            order = rng.permutation(n)
            total = 0.0
            for start in range(0, n, bs):
                idx = order[start:start + bs]
                out = self.module_(fastnn.from_numpy(X[idx]))
                loss = self.criterion_(out, fastnn.from_numpy(target[idx]))
                self.optimizer_.zero_grad()
                loss.backward()
                self.optimizer_.step()
                total += float(loss.item()) * len(idx)
            self.history_.append(total / n)
        self.module_.eval()
        return self

    def _forward(self, X):
        check_is_fitted(self, "module_")
        dt = next((p._array.dtype for p in self.module_.parameters()
                   if p._array.dtype.kind == "f"), _defaults.FLOAT)     # (the module's dtype)
        X = _validate(self, X, reset=False, dtype=dt, order="C")
        self.module_.eval()
        outs = []
        with fastnn.no_grad():
            for start in range(0, X.shape[0], 4096):
                out = self.module_(fastnn.from_numpy(np.ascontiguousarray(X[start:start + 4096])))
                outs.append(np.asarray(out._array, dtype=np.float64))
        return np.concatenate(outs, axis=0) if outs else np.zeros((0, 0))


class NeuralNetClassifier(ClassifierMixin, _NeuralNet):
    """A fastnn module trained as a scikit-learn classifier.

    Parameters
    ----------
    module : Module class, factory, instance or None
        Called with the ``module__*`` parameters to build the network; a
        parameter named ``in_features`` (or ``n_features``, ``input_dim``) and
        one named ``out_features`` (or ``n_classes``, ``n_outputs``) are filled
        from the data unless given. An instance is deep-copied at each fit.
        None: :class:`MLP` (one hidden layer of ``module__hidden=64`` units).
    criterion : loss class or callable, optional
        Built with ``criterion__*``; default ``nn.CrossEntropyLoss`` on the logits.
    optimizer : optimiser class or factory, optional
        Called as ``optimizer(params, lr=lr, **optimizer__*)``; default ``fastnn.optim.SGD``.
    lr : float
    max_epochs : int
    batch_size : int
    seed : int or None
        Seeds the initialisation and the shuffling: the same seed gives the same model.
    **kwargs
        ``module__*``, ``optimizer__*``, ``criterion__*`` routed parameters.

    Attributes
    ----------
    classes_ : ndarray
    module_ : Module
        The trained network.
    history_ : list of float
        Mean training loss per epoch.
    n_features_in_ : int

    Shape
    -----
    X: (n_samples, n_features); y: (n_samples,); predict_proba: (n_samples, n_classes).
    """

    _classifier = True

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        return tags

    def fit(self, X, y):
        """Trains a fresh network on X, y; returns self."""
        X, y = _validate(self, X, y, dtype=_defaults.FLOAT, order="C", y_numeric=False,
                         multi_output=False)
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        self.classes_, y_enc = np.unique(y, return_inverse=True)
        return self._fit_arrays(X, y_enc.astype(np.int64), len(self.classes_))

    def predict_proba(self, X):
        """Class probabilities (softmax of the network's outputs), float64."""
        z = self._forward(X)
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, X):
        """The most probable class for each row of X."""
        scores = self._forward(X)
        return self.classes_[np.argmax(scores, axis=1)]


class NeuralNetRegressor(RegressorMixin, _NeuralNet):
    """A fastnn module trained as a scikit-learn regressor (mean squared error).

    Same parameters as :class:`NeuralNetClassifier`; the default criterion is
    ``nn.MSELoss`` and the output size is the number of targets (1 for a 1-D y).

    Shape
    -----
    X: (n_samples, n_features); y: (n_samples,) or (n_samples, n_targets);
    predict returns the same shape as y had in fit.
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _more_tags(self):  # scikit-learn < 1.6
        return {"non_deterministic": self.seed is None, "multioutput": True}

    def fit(self, X, y):
        """Trains a fresh network on X, y; returns self."""
        X, y = _validate(self, X, y, dtype=_defaults.FLOAT, order="C", y_numeric=True,
                         multi_output=True)          # (float32, or the float64 default)
        y = np.asarray(y, dtype=_defaults.FLOAT)
        self._y_ndim = y.ndim
        target = np.ascontiguousarray(y.reshape(len(y), -1))
        return self._fit_arrays(X, target, target.shape[1])

    def predict(self, X):
        """Predictions, float64, shaped (n_samples,) when y was 1-D."""
        out = self._forward(X)
        return out.reshape(-1) if self._y_ndim == 1 else out
