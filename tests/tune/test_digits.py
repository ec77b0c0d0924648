"""fastnn.tune on a real training loop: MLPs on the 8x8 digits with Trainer, optim, DataLoader.

A Bayesian search over learning rate, weight decay, hidden width and dropout
finds a configuration at least as good as the median of the same number of
random trials, reproducibly with a seed; the PruningCallback stops hopeless
trials from inside Trainer.fit.
"""
import numpy as np
import pytest

optuna = pytest.importorskip("optuna", reason="fastnn.tune needs optuna (pip install fastnn[tune])")

import fastnn  # noqa: E402
from fastnn import nn, tune  # noqa: E402
from fastnn.data import DataLoader, TensorDataset, load_digits  # noqa: E402
from fastnn.optim import SGD  # noqa: E402
from fastnn.train import Trainer  # noqa: E402


@pytest.fixture(scope="module")
def digits_objective():
    x, y = load_digits()
    x = (x.reshape(len(x), -1) / 16.0).astype(np.float32)
    order = np.random.default_rng(0).permutation(len(x))
    tr, va = order[:600], order[600:1000]

    def objective(params, trial, epochs=3):
        fastnn.set_num_threads(1)  # tiny MLPs: one thread is fastest (conftest restores it)
        fastnn.manual_seed(0)
        model = nn.Sequential(nn.Linear(64, params["width"]), nn.ReLU(),
                              nn.Dropout(params["dropout"]), nn.Linear(params["width"], 10))
        opt = SGD(model.parameters(), lr=params["lr"], momentum=0.9,
                  weight_decay=params["weight_decay"])
        train = DataLoader(TensorDataset(x[tr], y[tr]), batch_size=40, shuffle=True, seed=0)
        val = DataLoader(TensorDataset(x[va], y[va]), batch_size=500)
        trainer = Trainer(model, nn.CrossEntropyLoss(), opt, metrics=("accuracy",),
                          callbacks=[tune.PruningCallback(trial, monitor="val_loss")])
        hist = trainer.fit(train, epochs=epochs, val_loader=val)
        return min(hist.history["val_loss"])

    return objective


SPACE = {"lr": tune.loguniform(1e-3, 0.5), "weight_decay": tune.loguniform(1e-6, 1e-2),
         "width": tune.choice([8, 16, 32, 64]), "dropout": tune.quniform(0.0, 0.5, 0.1)}


def test_bayes_on_digits_beats_median_random_reproducibly(digits_objective):
    n = 10
    bayes = tune.bayes_search(digits_objective, SPACE, n_trials=n, seed=0, pruner=False)
    rand = tune.random_search(digits_objective, SPACE, n_trials=n, seed=0, pruner=False)
    again = tune.bayes_search(digits_objective, SPACE, n_trials=n, seed=0, pruner=False)
    assert len(bayes.table) == n and len(rand.table) == n
    assert all(row["epochs"] == 3 for row in bayes.table)  # reported by the PruningCallback
    median_random = float(np.median([row["value"] for row in rand.table]))
    assert bayes.best_value <= median_random
    assert again.best_params == bayes.best_params
    assert again.best_value == pytest.approx(bayes.best_value, rel=1e-6)
    assert bayes.best_value < 1.0  # a working digit classifier (chance is log(10) = 2.3)


def test_pruning_callback_stops_hopeless_trials_inside_trainer(digits_objective):
    # Grid points run in order: two good learning rates set the median, then
    # hopeless ones (a learning rate too small to move the loss) are pruned.
    space = {"lr": [0.1, 0.05, 1e-6, 2e-6], "weight_decay": [0.0], "width": [32],
             "dropout": [0.0]}

    def objective(params, trial):
        return digits_objective(params, trial, epochs=4)

    r = tune.grid_search(objective, space,
                         pruner=optuna.pruners.MedianPruner(n_startup_trials=2))
    by_lr = {row["params"]["lr"]: row for row in r.table}
    assert by_lr[0.1]["state"] == "complete" and by_lr[0.1]["epochs"] == 4
    for lr in (1e-6, 2e-6):
        assert by_lr[lr]["state"] == "pruned"
        assert by_lr[lr]["epochs"] < 4
    assert r.best_params["lr"] in (0.1, 0.05)
    assert len(r.study.get_trials(states=(optuna.trial.TrialState.PRUNED,))) == 2


def test_trainer_rejects_an_unknown_monitor_before_training():
    study = optuna.create_study()
    trial = study.ask()
    model = nn.Linear(4, 3)
    trainer = Trainer(model, nn.CrossEntropyLoss(), SGD(model.parameters(), lr=0.1),
                      callbacks=[tune.PruningCallback(trial, monitor="val_accuracy")])
    x = np.zeros((8, 4), np.float32)
    y = np.zeros(8, np.int64)
    with pytest.raises(ValueError, match="val_accuracy"):
        trainer.fit(DataLoader(TensorDataset(x, y), batch_size=4), epochs=1)  # no val_loader
    assert trial.storage.get_trial(trial._trial_id).intermediate_values == {}
