"""Logistic regression as a single neuron: sigmoid(w.x + b), trained by
gradient descent on the binary cross-entropy, written with Tensor ops and
autograd only (course notes: "a single neuron as a linear classifier").

Task: tell the digit 3 from the digit 8 in the bundled 8x8 digits.

    python examples/logistic_regression.py
"""
import numpy as np

import fastnn
from fastnn.data import Standardize, load_digits


def main():
    x, y = load_digits()
    keep = (y == 3) | (y == 8)
    x = x[keep].reshape(-1, 64)
    t = (y[keep] == 8).astype(np.float32)             # 1 for an eight
    perm = np.random.default_rng(0).permutation(len(x))
    tr, te = perm[: int(0.75 * len(x))], perm[int(0.75 * len(x)):]
    scaler = Standardize().fit(x[tr])
    xtr, xte = fastnn.Tensor(scaler.transform(x[tr])), fastnn.Tensor(scaler.transform(x[te]))
    ttr = fastnn.Tensor(t[tr].reshape(-1, 1))

    fastnn.manual_seed(0)
    w = fastnn.Tensor(np.zeros((64, 1), np.float32), requires_grad=True)
    b = fastnn.Tensor(np.zeros(1, np.float32), requires_grad=True)
    lr, l2 = 0.5, 1e-3
    for step in range(201):
        p = (xtr @ w + b).sigmoid()                    # the neuron's firing rate
        eps = 1e-7
        bce = -(ttr * (p + eps).log() + (1 - ttr) * (1 - p + eps).log()).mean()
        loss = bce + l2 * (w * w).sum()
        w.grad = b.grad = None
        loss.backward()
        w.data -= lr * w.grad
        b.data -= lr * b.grad
        if step % 50 == 0:
            print(f"step {step:3d}  loss {loss.item():.4f}")

    with fastnn.no_grad():
        pred = ((xte @ w + b).detach().numpy()[:, 0] > 0).astype(np.float32)
    acc = float(np.mean(pred == t[te]))
    print(f"test accuracy (3 vs 8): {100 * acc:.2f}%")
    assert acc > 0.9


if __name__ == "__main__":
    main()
