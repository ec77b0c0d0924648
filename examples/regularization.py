"""Three ways to regularise, on a sparse linear regression and a small MLP.

1. L2 (weight decay): ``SGD(..., weight_decay=wd)`` adds ``wd * w`` to every
   gradient, shrinking the weights.
2. L1: add ``lam * sum(|w|)`` to the loss; autograd differentiates it
   (``|w|`` has gradient ``sign(w)``), pushing irrelevant weights to ~0.
3. Max-norm: after every step, ``fastnn.nn.utils.max_norm_`` rescales each
   hidden unit's incoming weight vector whose norm exceeds a limit.

Each part prints a comparison with the unregularised run and checks it.
Run:  python examples/regularization.py
"""
import numpy as np

import fastnn
from fastnn.nn.utils import max_norm_

rng = np.random.default_rng(0)
N, D, RELEVANT = 60, 20, 3
X = rng.standard_normal((N, D)).astype(np.float32)
true_w = np.zeros(D, np.float32)
true_w[:RELEVANT] = [2.0, -3.0, 1.5]
Y = (X @ true_w + 0.5 * rng.standard_normal(N)).astype(np.float32)[:, None]
Xt, Yt = fastnn.tensor(X), fastnn.tensor(Y)


def fit_linear(weight_decay=0.0, l1=0.0, steps=300, lr=0.05):
    fastnn.manual_seed(1)
    model = fastnn.nn.Linear(D, 1)
    opt = fastnn.optim.SGD(model.parameters(), lr=lr, weight_decay=weight_decay)
    for _ in range(steps):
        opt.zero_grad()
        loss = ((model(Xt) - Yt) ** 2).mean()
        if l1:
            loss = loss + l1 * model.weight.abs().sum()     # L1 penalty through autograd
        loss.backward()
        opt.step()
    return model.weight.detach().numpy().ravel().copy()


def main():
    w_plain = fit_linear()
    w_l2 = fit_linear(weight_decay=0.1)
    w_l1 = fit_linear(l1=0.05)

    n_plain, n_l2 = np.linalg.norm(w_plain), np.linalg.norm(w_l2)
    print(f"1. L2: ||w|| without decay {n_plain:.3f}, with weight_decay=0.1 {n_l2:.3f}")
    assert n_l2 < n_plain

    irr_plain = np.abs(w_plain[RELEVANT:]).sum()
    irr_l1 = np.abs(w_l1[RELEVANT:]).sum()
    print(f"2. L1: sum |w| over the {D - RELEVANT} irrelevant features: "
          f"{irr_plain:.3f} without, {irr_l1:.3f} with lam=0.05 "
          f"(relevant weights {np.round(w_l1[:RELEVANT], 2)})")
    assert irr_l1 < irr_plain

    # 3. max-norm on a small MLP's hidden units
    def fit_mlp(limit=None, steps=200):
        fastnn.manual_seed(2)
        l1, l2 = fastnn.nn.Linear(D, 16), fastnn.nn.Linear(16, 1)
        params = list(l1.parameters()) + list(l2.parameters())
        opt = fastnn.optim.SGD(params, lr=0.05, momentum=0.9)
        for _ in range(steps):
            opt.zero_grad()
            ((l2(fastnn.tanh(l1(Xt))) - Yt) ** 2).mean().backward()
            opt.step()
            if limit is not None:
                max_norm_([l1.weight], max_norm=limit, dim=0)
        return np.linalg.norm(l1.weight.detach().numpy(), axis=1).max()

    free, capped = fit_mlp(), fit_mlp(limit=1.0)
    print(f"3. max-norm: largest hidden-unit weight norm {free:.3f} unconstrained, "
          f"{capped:.3f} with max_norm_(limit=1.0)")
    assert capped <= 1.0 + 1e-5 < free
    print("all three regularisers did what they promise")


if __name__ == "__main__":
    main()
