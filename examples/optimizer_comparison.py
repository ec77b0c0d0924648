"""Compare optimisers on a linear softmax classifier over spiral data.

The three-armed spiral (the classic example of data a linear classifier
cannot separate well) with a linear softmax model ``scores = X W^T + b``.
Every method gets the same starting weights and the same number of loss
evaluations; the script prints the final training loss and accuracy of:
SGD, SGD with momentum, Nesterov momentum, Adagrad, RMSprop, Adam, and the
two gradient-free baselines, random search and random local search.

Run:  python examples/optimizer_comparison.py   (a few seconds)
"""
import time

import numpy as np

import fastnn
from fastnn import optim

STEPS = 40


def spiral(n_per_class=100, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = np.zeros((n_per_class * classes, 2))
    y = np.zeros(n_per_class * classes, dtype=np.int64)
    for k in range(classes):
        r = np.linspace(0.0, 1.0, n_per_class)
        t = np.linspace(k * 4, (k + 1) * 4, n_per_class) + rng.standard_normal(n_per_class) * 0.2
        sl = slice(n_per_class * k, n_per_class * (k + 1))
        x[sl] = np.c_[r * np.sin(t), r * np.cos(t)]
        y[sl] = k
    return x.astype(np.float32), y


def softmax_cross_entropy(scores, onehot):
    """mean_i [ log sum_k exp(s_ik) - s_i,y_i ], stabilised by the row max."""
    m = scores.max(dim=1, keepdim=True)[0].detach()
    shifted = scores - m
    logsumexp = shifted.exp().sum(dim=1).log()
    return (logsumexp - (shifted * onehot).sum(dim=1)).mean()


def main():
    x, y = spiral()
    X = fastnn.tensor(x)
    onehot = fastnn.tensor(np.eye(3, dtype=np.float32)[y])
    fastnn.manual_seed(0)
    init = fastnn.nn.Linear(2, 3)
    w0, b0 = init.weight.detach().numpy().copy(), init.bias.detach().numpy().copy()

    methods = [
        ("SGD", lambda ps: optim.SGD(ps, lr=1.0)),
        ("SGD + momentum", lambda ps: optim.SGD(ps, lr=0.5, momentum=0.9)),
        ("Nesterov", lambda ps: optim.SGD(ps, lr=0.5, momentum=0.9, nesterov=True)),
        ("Adagrad", lambda ps: optim.Adagrad(ps, lr=0.5)),
        ("RMSprop", lambda ps: optim.RMSprop(ps, lr=0.05)),
        ("Adam", lambda ps: optim.Adam(ps, lr=0.1)),
        ("RandomSearch", lambda ps: optim.RandomSearch(ps, std=2.0, seed=0)),
        ("RandomLocalSearch", lambda ps: optim.RandomLocalSearch(ps, step_size=0.2, seed=0)),
    ]
    print(f"linear softmax classifier, spiral data {x.shape}, {STEPS} steps each")
    print(f"{'method':<20}{'final loss':>12}{'accuracy':>10}{'time':>9}")
    results = {}
    for name, make in methods:
        model = fastnn.nn.Linear(2, 3)
        model.weight.data[...] = w0
        model.bias.data[...] = b0
        opt = make(list(model.parameters()))

        def closure():
            return softmax_cross_entropy(model(X), onehot)

        t0 = time.perf_counter()
        for _ in range(STEPS):
            if isinstance(opt, (optim.RandomSearch, optim.RandomLocalSearch)):
                opt.step(closure)
            else:
                opt.zero_grad()
                closure().backward()
                opt.step()
        dt = time.perf_counter() - t0
        with fastnn.no_grad():
            scores = model(X)
            loss = float(softmax_cross_entropy(scores, onehot))
        acc = float((scores.detach().numpy().argmax(axis=1) == y).mean())
        results[name] = loss
        print(f"{name:<20}{loss:>12.4f}{acc:>10.3f}{dt:>8.2f}s")
    start = float(softmax_cross_entropy(fastnn.tensor(x @ w0.T + b0), onehot))
    print(f"{'(initial weights)':<20}{start:>12.4f}")
    best_gradient = min(v for k, v in results.items() if "Search" not in k)
    assert best_gradient < results["RandomSearch"], "a gradient method should win"
    assert all(v < start for v in results.values()), "every method should reduce the loss"


if __name__ == "__main__":
    main()
