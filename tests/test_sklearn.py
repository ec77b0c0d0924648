"""fastnn.sklearn: estimators that pass scikit-learn's checks and work in its tools."""
import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn", reason="fastnn.sklearn needs scikit-learn "
                                                "(pip install fastnn[sklearn])")

from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_iris, make_regression  # noqa: E402
from sklearn.model_selection import (GridSearchCV, RandomizedSearchCV,  # noqa: E402
                                     cross_val_score)
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import fastnn  # noqa: E402
from fastnn import nn  # noqa: E402
from fastnn.sklearn import NeuralNetClassifier, NeuralNetRegressor  # noqa: E402


@pytest.fixture(autouse=True)
def _one_thread():
    # Tiny networks: one thread is fastest and avoids oversubscription on a busy
    # machine (the conftest fixture restores the thread count).
    fastnn.set_num_threads(1)


# With a seed, every check of scikit-learn's suite applies and passes (checks
# that need pandas or SCIPY_ARRAY_API skip themselves when those are missing).
@parametrize_with_checks([NeuralNetClassifier(lr=0.1, max_epochs=20, seed=0),
                          NeuralNetRegressor(lr=0.05, max_epochs=20, seed=0)])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


# With seed=None (the default) each fit starts from fresh random weights, as
# scikit-learn's random_state=None does, and the estimators declare the
# ``non_deterministic`` tag. The checks below compare two fits of the same data
# and fix the randomness through a ``random_state`` parameter
# (sklearn.utils.estimator_checks.set_random_state); fastnn's parameter is
# ``seed``, so without one they cannot apply. They pass with a seed (above).
NEEDS_A_SEED = {
    name: "compares two fits; needs seed=<int> (set_random_state only sets random_state)"
    for name in ("check_fit_idempotent", "check_supervised_y_2d", "check_regressors_int",
                 "check_regressor_data_not_an_array", "check_classifier_data_not_an_array",
                 "check_pipeline_consistency")
}


@parametrize_with_checks([NeuralNetClassifier(), NeuralNetRegressor()],
                         expected_failed_checks=lambda est: NEEDS_A_SEED)
def test_sklearn_estimator_checks_default_parameters(estimator, check):
    check(estimator)


def _iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X).astype(np.float32), y


class TwoLayer(nn.Module):
    def __init__(self, in_features, n_classes, hidden=16):
        super().__init__()
        self.hidden = hidden
        self.fc1 = nn.Linear(in_features, hidden)
        self.fc2 = nn.Linear(hidden, n_classes)

    def forward(self, x):
        return self.fc2(self.fc1(x).relu())


class RecordingSGD:
    """A minimal optimiser that records the keyword arguments it was built with."""
    made = []

    def __init__(self, params, lr, momentum=0.0):
        self.params = list(params)
        self.lr, self.momentum = lr, momentum
        RecordingSGD.made.append({"lr": lr, "momentum": momentum})

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    def step(self):
        for p in self.params:
            if p.grad is not None:
                p.data -= self.lr * p.grad


def test_classifier_fits_iris_with_string_labels():
    X, y = _iris()
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = NeuralNetClassifier(TwoLayer, lr=0.1, max_epochs=30, seed=0, module__hidden=12)
    clf.fit(X, names)
    assert list(clf.classes_) == ["setosa", "versicolor", "virginica"]
    assert clf.module_.hidden == 12 and clf.module_.fc1.in_features == 4
    assert clf.module_.fc2.out_features == 3
    proba = clf.predict_proba(X)
    assert proba.shape == (150, 3) and np.allclose(proba.sum(1), 1)
    assert clf.score(X, names) > 0.9
    assert set(clf.predict(X)) <= set(names)
    assert len(clf.history_) == 30 and clf.history_[-1] < clf.history_[0]


def test_same_seed_same_model_and_params_routing():
    X, y = _iris()
    a = NeuralNetClassifier(TwoLayer, lr=0.1, max_epochs=5, seed=3).fit(X, y)
    b = NeuralNetClassifier(TwoLayer, lr=0.1, max_epochs=5, seed=3).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    est = NeuralNetClassifier(TwoLayer, module__hidden=8, optimizer=RecordingSGD,
                              optimizer__momentum=0.5)
    p = est.get_params()
    assert p["module__hidden"] == 8 and p["optimizer__momentum"] == 0.5 and p["lr"] == 0.01
    est.set_params(module__hidden=5, lr=0.2, optimizer__momentum=0.25)
    c = clone(est)
    assert c.get_params()["module__hidden"] == 5 and c.lr == 0.2
    RecordingSGD.made.clear()
    c.set_params(max_epochs=1, seed=0).fit(X, y)
    assert RecordingSGD.made == [{"lr": 0.2, "momentum": 0.25}]
    assert c.module_.hidden == 5


def test_bad_hyperparameters_raise_at_fit():
    X, y = _iris()
    for kw in ({"lr": 0}, {"lr": -1.0}, {"max_epochs": -1}, {"batch_size": 0},
               {"batch_size": 2.5}, {"seed": "x"}, {"hidden": 3}):
        est = NeuralNetClassifier(**kw)  # no validation in __init__ (scikit-learn's rule)
        with pytest.raises(ValueError):
            est.fit(X, y)
    with pytest.raises(ValueError):
        NeuralNetClassifier(module=42).fit(X, y)
    with pytest.raises(sklearn.exceptions.NotFittedError):
        NeuralNetClassifier().predict(X)


def test_grid_and_randomized_search_cv():
    X, y = _iris()
    grid = GridSearchCV(NeuralNetClassifier(TwoLayer, max_epochs=8, seed=0),
                        {"lr": [0.001, 0.2], "module__hidden": [4, 16]}, cv=3)
    grid.fit(X, y)
    assert grid.best_params_["lr"] == 0.2
    assert grid.best_score_ > 0.8
    assert len(grid.cv_results_["params"]) == 4
    rs = RandomizedSearchCV(NeuralNetClassifier(TwoLayer, max_epochs=5, seed=0),
                            {"lr": [0.05, 0.1, 0.2], "module__hidden": [8, 16]}, n_iter=3, cv=2,
                            random_state=0)
    rs.fit(X, y)
    assert len(rs.cv_results_["params"]) == 3 and rs.best_score_ > 0.6


def test_pipeline_and_cross_val_score():
    X, y = load_iris(return_X_y=True)  # unscaled: the pipeline scales
    pipe = make_pipeline(StandardScaler(), NeuralNetClassifier(lr=0.1, max_epochs=20, seed=0))
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.8
    pipe.set_params(neuralnetclassifier__module__hidden=8)
    pipe.fit(X, y)
    assert pipe[-1].module_.net[0].out_features == 8


def test_regressor_1d_and_multioutput():
    X, y = make_regression(n_samples=120, n_features=5, n_targets=2, noise=0.1, random_state=0)
    X = X.astype(np.float32)
    y = (y / y.std(0)).astype(np.float32)
    reg = NeuralNetRegressor(lr=0.05, max_epochs=40, seed=0)
    reg.fit(X, y[:, 0])
    pred = reg.predict(X)
    assert pred.shape == (120,) and pred.dtype == np.float64
    assert reg.score(X, y[:, 0]) > 0.9
    reg2 = clone(reg).fit(X, y)
    assert reg2.predict(X).shape == (120, 2) and reg2.score(X, y) > 0.9
    assert cross_val_score(NeuralNetRegressor(lr=0.05, max_epochs=20, seed=0), X, y[:, 1],
                           cv=3).mean() > 0.8


def test_module_instance_is_copied_not_trained_in_place():
    X, y = _iris()
    template = TwoLayer(4, 3, hidden=6)
    w0 = template.fc1.weight.detach().numpy().copy()
    clf = NeuralNetClassifier(template, lr=0.1, max_epochs=3, seed=0).fit(X, y)
    np.testing.assert_array_equal(template.fc1.weight.detach().numpy(), w0)
    assert clf.module_ is not template and clf.module_.fc1.weight.shape == (6, 4)


def test_import_fastnn_does_not_import_sklearn():
    r = fastnn.testing.run_python("import sys, fastnn\nassert 'sklearn' not in sys.modules\n"
                                  "print('ok')")
    assert r.returncode == 0, r.stderr
    assert "ok" in r.stdout


def test_estimators_train_in_float64_under_a_float64_default():
    X, y = make_regression(n_samples=60, n_features=4, noise=0.1, random_state=0)
    fastnn.set_default_dtype(fastnn.float64)
    try:
        reg = NeuralNetRegressor(lr=0.05, max_epochs=5, seed=0).fit(X, y / y.std())
        assert all(p.dtype == fastnn.float64 for p in reg.module_.parameters())
        clf = NeuralNetClassifier(lr=0.1, max_epochs=3, seed=0).fit(X, (y > 0).astype(int))
    finally:
        fastnn.set_default_dtype(fastnn.float32)
    # (predictions after the default is restored use the fitted module's dtype)
    assert reg.predict(X).shape == (60,) and clf.predict(X).shape == (60,)
