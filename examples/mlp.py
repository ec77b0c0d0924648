"""A two-layer MLP on the bundled digits, trained with the Trainer:
standardized pixels, SGD with Nesterov momentum, early stopping on the
validation loss, and the model summary.

    python examples/mlp.py
"""
import time

import numpy as np

import fastnn
import fastnn.nn as nn
from fastnn import optim
from fastnn.data import DataLoader, Standardize, TensorDataset, load_digits
from fastnn.train import EarlyStopping, Trainer


def main():
    x, y = load_digits()
    x = x.reshape(len(x), -1)
    perm = np.random.default_rng(0).permutation(len(x))
    tr, va = perm[:1437], perm[1437:]
    scaler = Standardize().fit(x[tr])
    train = DataLoader(TensorDataset(scaler.transform(x[tr]), y[tr]), batch_size=32,
                       shuffle=True, seed=0)
    val = DataLoader(TensorDataset(scaler.transform(x[va]), y[va]), batch_size=256)

    fastnn.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    fastnn.summary(model, (64,))
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-4)
    trainer = Trainer(model, nn.CrossEntropyLoss(), opt,
                      callbacks=[EarlyStopping(monitor="val_loss", patience=4)])
    t0 = time.perf_counter()
    history = trainer.fit(train, epochs=30, val_loader=val)
    dt = time.perf_counter() - t0
    for e, (l, vl, va_) in enumerate(zip(history["loss"], history["val_loss"],
                                         history["val_accuracy"])):
        print(f"epoch {e + 1:2d}  loss {l:.4f}  val_loss {vl:.4f}  val_accuracy {va_:.4f}")
    res = trainer.evaluate(val)
    print(f"test accuracy: {100 * res['accuracy']:.2f}% ({len(history)} epochs, {dt:.1f} s)")


if __name__ == "__main__":
    main()
