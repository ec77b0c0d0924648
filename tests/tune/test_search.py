"""fastnn.tune: spaces, grid/random/Bayesian search, pruning, failures, worker processes."""
import math

import numpy as np
import pytest

optuna = pytest.importorskip("optuna", reason="fastnn.tune needs optuna (pip install fastnn[tune])")

from fastnn import tune  # noqa: E402

STATE = optuna.trial.TrialState


def quad(p):
    return (p["x"] - 0.3) ** 2 + (p["y"] + 0.2) ** 2


# --------------------------------------------------------------------------- spaces

def test_import_fastnn_does_not_import_optuna():
    from fastnn.testing import run_python
    r = run_python("import sys, fastnn, fastnn.tune\n"
                   "assert 'optuna' not in sys.modules\nprint('ok')")
    assert r.returncode == 0, r.stderr
    assert "ok" in r.stdout


@pytest.mark.parametrize("bad", [{}, {"x": "loguniform"}, {"x": 3.0}, {"x": {"low": 1}},
                                 {"x": None}, {1: tune.uniform(0, 1)}, [("x", [1, 2])]])
def test_empty_space_or_unknown_distribution_raises(bad):
    for fn in (lambda: tune.grid_search(quad, bad),
               lambda: tune.random_search(quad, bad, n_trials=2),
               lambda: tune.bayes_search(quad, bad, n_trials=2)):
        with pytest.raises(ValueError):
            fn()


@pytest.mark.parametrize("make", [lambda: tune.uniform(1, 1), lambda: tune.uniform(0, math.inf),
                                  lambda: tune.loguniform(0, 1), lambda: tune.quniform(0, 1, 0),
                                  lambda: tune.randint(3, 3), lambda: tune.randint(0.5, 3),
                                  lambda: tune.choice([]), lambda: tune.choice("abc")])
def test_bad_distribution_arguments_raise(make):
    with pytest.raises(ValueError):
        make()


def test_grid_search_rejects_continuous_range():
    with pytest.raises(ValueError, match="continuous"):
        tune.grid_search(quad, {"x": tune.uniform(0, 1), "y": [0.0]})


def test_grid_values():
    assert tune.randint(2, 7).grid_values() == [2, 3, 4, 5, 6]
    assert tune.qrandint(0, 10, 4).grid_values() == [0, 4, 8]
    assert tune.quniform(0.0, 0.5, 0.1).grid_values() == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]
    assert tune.choice(["a", (1, 2)]).grid_values() == ["a", (1, 2)]


def test_optuna_distributions_accepted():
    d = optuna.distributions
    space = {"a": d.IntDistribution(1, 3), "b": d.CategoricalDistribution(["x", "y"]),
             "c": d.FloatDistribution(0.0, 1.0, step=0.5)}
    r = tune.grid_search(lambda p: p["a"] + p["c"] + (p["b"] == "y"), space)
    assert len(r.table) == 3 * 2 * 3 and r.best_params == {"a": 1, "b": "x", "c": 0.0}


def test_missing_optuna_gives_install_hint(monkeypatch):
    import builtins
    import importlib
    real_import = importlib.import_module

    def fake(name, *a, **k):
        if name == "optuna" or name.startswith("optuna."):
            raise ImportError("No module named 'optuna'")
        return real_import(name, *a, **k)

    monkeypatch.setattr(importlib, "import_module", fake)
    real_builtin = builtins.__import__

    def fake_builtin(name, *a, **k):
        if name == "optuna" or name.startswith("optuna."):
            raise ImportError("No module named 'optuna'")
        return real_builtin(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", fake_builtin)
    with pytest.raises(ImportError, match=r"pip install fastnn\[tune\]"):
        tune.random_search(quad, {"x": tune.uniform(0, 1), "y": [0.0]}, n_trials=1)


# --------------------------------------------------------------------------- searches

def test_grid_visits_every_combination_once():
    seen = []

    def obj(p, trial):
        seen.append((p["x"], p["y"], p["act"]))
        return quad(p)

    space = {"x": tune.quniform(0.0, 0.4, 0.2), "y": tune.randint(-1, 1),
             "act": tune.choice(["relu", ("tanh", 2)])}
    r = tune.grid_search(obj, space)
    expected = {(x, y, a) for x in (0.0, 0.2, 0.4) for y in (-1, 0) for a in ("relu", ("tanh", 2))}
    assert len(seen) == 12 == len(set(seen))
    assert set(seen) == expected
    assert len(r.table) == 12
    assert all(row["state"] == "complete" for row in r.table)
    values = [row["value"] for row in r.table]
    assert values == sorted(values)
    assert r.best_value == min(values)
    assert r.best_params == {"x": 0.2, "y": 0, "act": "relu"} or r.best_params["x"] == 0.2
    assert isinstance(r.study, optuna.Study)
    text = str(r.table)
    assert "trial" in text and "value" in text and text.count("\n") == 13


def test_grid_maximize_sorts_descending():
    r = tune.grid_search(lambda p: p["a"] * 10 + p["b"], {"a": [1, 2, 3], "b": [0, 5]},
                         direction="maximize")
    assert r.best_params == {"a": 3, "b": 5} and r.best_value == 35
    assert [row["value"] for row in r.table] == sorted((row["value"] for row in r.table),
                                                       reverse=True)


def test_random_search_reproducible_with_seed():
    space = {"x": tune.uniform(-1, 1), "y": tune.loguniform(1e-3, 1.0),
             "w": tune.choice([8, 16, 32]), "k": tune.randint(1, 5)}
    a = tune.random_search(lambda p: p["x"] ** 2, space, n_trials=8, seed=123)
    b = tune.random_search(lambda p: p["x"] ** 2, space, n_trials=8, seed=123)
    c = tune.random_search(lambda p: p["x"] ** 2, space, n_trials=8, seed=124)
    pa = [t.params for t in a.study.trials]
    assert pa == [t.params for t in b.study.trials]
    assert pa != [t.params for t in c.study.trials]
    assert len(pa) == 8
    for p in pa:
        assert -1 <= p["x"] <= 1 and 1e-3 <= p["y"] <= 1 and p["w"] in (8, 16, 32)
        assert p["k"] in (1, 2, 3, 4)


def test_bayes_at_least_as_good_as_median_random():
    # A cheap, bumpy synthetic objective in 3 dimensions.
    def obj(p):
        return (math.log10(p["lr"]) + 2.5) ** 2 + (p["wd"] - 0.3) ** 2 + 0.1 * math.sin(5 * p["wd"]) \
            + (p["width"] - 48) ** 2 / 1000

    space = {"lr": tune.loguniform(1e-5, 1e-1), "wd": tune.uniform(0, 1),
             "width": tune.qrandint(8, 129, 8)}
    n = 30
    bayes = tune.bayes_search(obj, space, n_trials=n, seed=0)
    again = tune.bayes_search(obj, space, n_trials=n, seed=0)
    rand = tune.random_search(obj, space, n_trials=n, seed=0)
    assert bayes.best_value == again.best_value  # reproducible with a seed
    rvals = [row["value"] for row in rand.table]
    assert bayes.best_value <= float(np.median(rvals))
    assert bayes.best_value <= rand.best_value * 1.5


def test_non_finite_objective_recorded_as_failed_and_search_goes_on():
    calls = []

    def obj(p):
        calls.append(p["x"])
        return {0: math.nan, 1: math.inf, 2: -math.inf, 3: "oops"}.get(p["x"], float(p["x"]))

    r = tune.grid_search(obj, {"x": tune.randint(0, 6)})
    assert sorted(calls) == [0, 1, 2, 3, 4, 5]
    states = {row["params"]["x"]: row["state"] for row in r.table}
    assert states == {0: "fail", 1: "fail", 2: "fail", 3: "fail", 4: "complete", 5: "complete"}
    assert r.best_value == 4 and r.best_params == {"x": 4}
    assert [row["state"] for row in r.table][:2] == ["complete", "complete"]


def test_all_failed_has_no_best():
    r = tune.random_search(lambda p: math.nan, {"x": tune.uniform(0, 1)}, n_trials=3, seed=0)
    assert r.best_params is None and r.best_value is None
    assert [row["state"] for row in r.table] == ["fail"] * 3


def test_exception_in_objective_recorded_then_raised_unless_caught():
    def obj(p):
        if p["x"] == 1:
            raise ZeroDivisionError("boom")
        return p["x"]

    with pytest.raises(ZeroDivisionError):
        tune.grid_search(obj, {"x": [0, 1, 2]}, study_name="s")
    r = tune.grid_search(obj, {"x": [0, 1, 2]}, catch=(ZeroDivisionError,))
    assert sorted(row["state"] for row in r.table) == ["complete", "complete", "fail"]


def test_pruned_trials_recorded_as_pruned():
    # "Training" curves: configuration x converges to loss x; after the first
    # trials set the median, bad ones are stopped early by the callback.
    def obj(p, trial):
        cb = tune.PruningCallback(trial, monitor="val_loss")
        loss = None
        for epoch in range(10):
            loss = p["x"] + 1.0 / (epoch + 1)
            cb.on_epoch_end(None, epoch, {"val_loss": loss, "loss": loss})
        return loss

    xs = [0.0, 0.1, 0.2, 5.0, 6.0, 0.05, 7.0]
    r = tune.grid_search(obj, {"x": xs},
                         pruner=optuna.pruners.MedianPruner(n_startup_trials=3))
    # grid points run in queue order: the three good ones first
    by_x = {row["params"]["x"]: row for row in r.table}
    for x in (5.0, 6.0, 7.0):
        assert by_x[x]["state"] == "pruned"
        assert by_x[x]["epochs"] < 10
    for x in (0.0, 0.1, 0.2, 0.05):
        assert by_x[x]["state"] == "complete" and by_x[x]["epochs"] == 10
    pruned = r.study.get_trials(states=(STATE.PRUNED,))
    assert len(pruned) == 3
    assert r.best_params == {"x": 0.0}
    assert [row["state"] for row in r.table][-3:] == ["pruned"] * 3


def test_pruning_callback_reads_trainer_history_and_reports_missing_metric():
    class FakeHistory:
        history = {"val_accuracy": [0.5, 0.7]}

    class FakeTrainer:
        history = FakeHistory()

    study = optuna.create_study(direction="maximize")
    trial = study.ask()
    cb = tune.PruningCallback(trial, monitor="val_accuracy")
    cb.on_epoch_end(trainer=FakeTrainer(), epoch=1)
    assert trial.storage.get_trial(trial._trial_id).intermediate_values == {1: 0.7}
    with pytest.raises(KeyError, match="val_loss"):
        tune.PruningCallback(trial).on_epoch_end(FakeTrainer(), 2, {"loss": 1.0})
    with pytest.raises(ValueError):
        tune.PruningCallback(trial, monitor="")


def test_journal_file_storage_resumes_by_name(tmp_path):
    path = tmp_path / "journal.log"
    space = {"x": [1, 2, 3]}
    r1 = tune.grid_search(lambda p: p["x"], space, storage=str(path), study_name="g")
    assert len(r1.table) == 3
    # Joining the finished study again runs nothing new.
    calls = []
    r2 = tune.grid_search(lambda p: calls.append(1) or p["x"], space, storage=path, study_name="g")
    assert calls == [] and len(r2.table) == 3 and r2.best_value == 1
    # A different grid under the same name is refused.
    with pytest.raises(ValueError, match="grid"):
        tune.grid_search(lambda p: p["x"], {"x": [1, 2]}, storage=path, study_name="g")


def test_bad_arguments():
    space = {"x": tune.uniform(0, 1)}
    with pytest.raises(ValueError):
        tune.random_search(quad, space, n_trials=0)
    with pytest.raises(ValueError):
        tune.random_search(quad, space, n_trials=2, direction="down")
    with pytest.raises(ValueError):
        tune.random_search(quad, space, n_trials=2, n_jobs=0)
    with pytest.raises(TypeError):
        tune.random_search(None, space, n_trials=2)
    with pytest.raises(ValueError, match="seed"):
        tune.random_search(quad, space, n_trials=2, seed="0")
    with pytest.raises(ValueError, match="module level"):
        tune.random_search(lambda p: p["x"], space, n_trials=2, n_jobs=2)


# --------------------------------------------------------------------------- worker processes

def test_two_workers_on_one_journal_never_repeat_a_grid_point(tmp_path, worker_objective):
    objective, log = worker_objective
    space = {"a": tune.randint(0, 5), "b": tune.choice([0, 1, 2])}
    r = tune.grid_search(objective, space, storage=str(tmp_path / "study.journal"),
                         study_name="grid2", n_jobs=2)
    lines = [ln.split() for ln in log.read_text().splitlines()]
    points = [(int(a), int(b)) for _, a, b, _ in lines]
    assert len(points) == 15 == len(set(points))
    assert {int(t) for *_, t in lines} == {max(1, tune.search._cores() // 2)}
    assert len({pid for pid, *_ in lines}) == 2  # both workers took part
    assert len(r.table) == 15 and all(row["state"] == "complete" for row in r.table)
    assert r.best_params == {"a": 2, "b": 0} and r.best_value == 0


def test_random_search_two_workers_default_temp_journal(worker_objective):
    objective, log = worker_objective
    space = {"a": tune.randint(0, 5), "b": tune.uniform(0, 1)}
    r = tune.random_search(objective, space, n_trials=5, seed=0, n_jobs=2)
    lines = log.read_text().splitlines()
    assert len(lines) == 5 and len({ln.split()[0] for ln in lines}) == 2
    assert len(r.table) == 5 and r.best_value is not None
    # the study was brought back into memory; the temp journal is gone
    assert isinstance(r.study._storage, optuna.storages.InMemoryStorage)


def test_rdb_url_storage_sqlite(tmp_path):
    pytest.importorskip("sqlalchemy", reason="Optuna's RDB storage needs sqlalchemy")
    url = f"sqlite:///{tmp_path / 'study.db'}"
    r = tune.random_search(quad, {"x": tune.uniform(-1, 1), "y": [0.0, -0.2]}, n_trials=4,
                           seed=0, storage=url, study_name="rdb")
    assert len(r.table) == 4
    again = optuna.load_study(study_name="rdb", storage=url)
    assert [t.params for t in again.trials] == [t.params for t in r.study.trials]
