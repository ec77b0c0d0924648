"""A small CNN on the bundled digits (the network behind ``fastnn demo``):
conv-relu-pool x2 and two dense layers, Adam, a checkpoint of the best
epoch, then reload the checkpoint and evaluate it.

    python examples/cnn_digits.py
"""
import os
import tempfile
import time

import numpy as np

import fastnn
import fastnn.nn as nn
from fastnn import optim
from fastnn.data import DataLoader, Standardize, TensorDataset, load_digits
from fastnn.train import ModelCheckpoint, Trainer


def make_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),      # 16 x 4 x 4
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),     # 32 x 2 x 2
        nn.Flatten(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))


def main():
    x, y = load_digits()
    perm = np.random.default_rng(0).permutation(len(x))
    te, tr = perm[:360], perm[360:]
    scaler = Standardize().fit(x[tr])                    # per channel (NCHW)
    train = DataLoader(TensorDataset(scaler.transform(x[tr]), y[tr]), batch_size=32,
                       shuffle=True, seed=0)
    test = DataLoader(TensorDataset(scaler.transform(x[te]), y[te]), batch_size=360)

    fastnn.manual_seed(0)
    model = make_cnn()
    fastnn.summary(model, (1, 8, 8))
    path = os.path.join(tempfile.mkdtemp(), "best_cnn.fnn")
    ckpt = ModelCheckpoint(path, monitor="val_accuracy")
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=3e-3),
                      callbacks=[ckpt])
    t0 = time.perf_counter()
    history = trainer.fit(train, epochs=15, val_loader=test)
    dt = time.perf_counter() - t0
    print(f"trained {len(history)} epochs in {dt:.1f} s "
          f"({len(history) * len(tr) / dt:,.0f} images/s)")

    best = make_cnn()
    best.load_state_dict(fastnn.load(path))
    acc = Trainer(best, nn.CrossEntropyLoss(), optim.SGD(best.parameters(), lr=0.0),
                  progress=False).evaluate(test)["accuracy"]
    print(f"best epoch {ckpt.best_epoch + 1}: test accuracy: {100 * acc:.2f}%")


if __name__ == "__main__":
    main()
