"""Hyperparameter search on the bundled digits: grid, random and Bayesian (TPE).

An MLP's learning rate, weight decay, hidden width and dropout are tuned on a
validation split; each trial trains with the Trainer and reports its
validation loss every epoch through ``tune.PruningCallback``, so hopeless
trials stop early (state ``pruned`` in the table).

    python examples/tune_digits.py                       # in-process
    python examples/tune_digits.py --n-jobs 2            # two worker processes
    python examples/tune_digits.py --storage tune.log --study digits   # resumable journal file
    # many machines: the same command on each, with --storage postgresql://user@host/db

The objective is a module-level function so that worker processes can import it.
"""
import argparse

import numpy as np

import fastnn
import fastnn.nn as nn
from fastnn import optim, tune
from fastnn.data import DataLoader, Standardize, TensorDataset, load_digits
from fastnn.train import Trainer

EPOCHS = 5
_DATA = None


def data():
    global _DATA
    if _DATA is None:
        x, y = load_digits()
        x = x.reshape(len(x), -1)
        perm = np.random.default_rng(0).permutation(len(x))
        tr, va = perm[:1200], perm[1200:]
        scaler = Standardize().fit(x[tr])
        _DATA = (scaler.transform(x[tr]), y[tr], scaler.transform(x[va]), y[va])
    return _DATA


def objective(params, trial):
    """Trains one configuration; returns the best validation loss."""
    x_tr, y_tr, x_va, y_va = data()
    fastnn.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, params["width"]), nn.ReLU(),
                          nn.Dropout(params["dropout"]), nn.Linear(params["width"], 10))
    opt = optim.SGD(model.parameters(), lr=params["lr"], momentum=0.9,
                    weight_decay=params["weight_decay"])
    trainer = Trainer(model, nn.CrossEntropyLoss(), opt,
                      callbacks=[tune.PruningCallback(trial, monitor="val_loss")])
    history = trainer.fit(DataLoader(TensorDataset(x_tr, y_tr), batch_size=32, shuffle=True,
                                     seed=0),
                          epochs=EPOCHS,
                          val_loader=DataLoader(TensorDataset(x_va, y_va), batch_size=512))
    trial.set_user_attr("val_accuracy", max(history.history["val_accuracy"]))
    return min(history.history["val_loss"])


SPACE = {
    "lr": tune.loguniform(1e-3, 0.3),
    "weight_decay": tune.loguniform(1e-6, 1e-2),
    "width": tune.choice([16, 32, 64, 128]),
    "dropout": tune.quniform(0.0, 0.5, 0.1),
}

GRID = {"lr": [0.01, 0.1], "weight_decay": [1e-4], "width": [32, 128], "dropout": [0.0, 0.3]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-trials", type=int, default=10)
    ap.add_argument("--n-jobs", type=int, default=1)
    ap.add_argument("--storage", default=None, help="RDB URL or journal file path")
    ap.add_argument("--study", default=None, help="study name prefix (to resume or share)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    common = dict(storage=args.storage, n_jobs=args.n_jobs)

    def name(kind):
        return None if args.study is None else f"{args.study}-{kind}"

    grid = tune.grid_search(objective, GRID, study_name=name("grid"), **common)
    print("grid search\n" + str(grid) + "\n")
    rand = tune.random_search(objective, SPACE, args.n_trials, seed=args.seed,
                              study_name=name("random"), **common)
    print("random search\n" + str(rand) + "\n")
    bayes = tune.bayes_search(objective, SPACE, args.n_trials, seed=args.seed,
                              study_name=name("bayes"), **common)
    print("Bayesian search (TPE)\n" + str(bayes) + "\n")
    done = [r["value"] for r in rand.table if r["state"] == "complete"]
    print(f"best val_loss: grid {grid.best_value:.4f}, random {rand.best_value:.4f}, "
          f"bayes {bayes.best_value:.4f} (median random trial {np.median(done):.4f})")


if __name__ == "__main__":
    main()
