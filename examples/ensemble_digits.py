"""An ensemble of MLPs on the bundled 8x8 digits beats its average member.

Each member is the same small MLP trained from a different seed (its own
initialisation, dropout masks and batch order); ``nn.Ensemble`` averages their
class probabilities. Averaging cancels part of each member's individual
errors, so the ensemble's test accuracy is above the members' mean (on
this split: 97.4% for the average member, 98.2% for the ensemble).

    python examples/ensemble_digits.py
"""
import numpy as np

import fastnn
import fastnn.nn as nn
from fastnn import optim
from fastnn.data import DataLoader, Standardize, TensorDataset, load_digits
from fastnn.train import Trainer


def make_member(seed, train, epochs):
    fastnn.manual_seed(seed)
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 10))
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    Trainer(model, nn.CrossEntropyLoss(), opt, metrics=()).fit(train(seed), epochs=epochs)
    return model.eval()


def accuracy(scores, y):
    return float((scores.detach().numpy().argmax(axis=1) == y).mean())


def main(n_members=5, epochs=6, verbose=True):
    x, y = load_digits()
    x = x.reshape(len(x), -1)
    perm = np.random.default_rng(0).permutation(len(x))
    tr, te = perm[:1200], perm[1200:]
    scaler = Standardize().fit(x[tr])
    x_tr, x_te = scaler.transform(x[tr]), scaler.transform(x[te])

    def train(seed):
        return DataLoader(TensorDataset(x_tr, y[tr]), batch_size=32, shuffle=True, seed=seed)

    members = [make_member(seed, train, epochs) for seed in range(n_members)]
    ensemble = nn.Ensemble(members, reduction="mean_proba").eval()
    xt = fastnn.from_numpy(x_te)
    with fastnn.no_grad():
        member_acc = [accuracy(m(xt), y[te]) for m in members]
        ens_acc = accuracy(ensemble(xt), y[te])
        vote_acc = float((nn.Ensemble(members, reduction="vote")(xt).numpy() == y[te]).mean())
    if verbose:
        for i, a in enumerate(member_acc):
            print(f"member {i} (seed {i}): test accuracy {100 * a:.2f}%")
        print(f"average member:       {100 * np.mean(member_acc):.2f}%")
        print(f"ensemble (mean prob): {100 * ens_acc:.2f}%")
        print(f"ensemble (vote):      {100 * vote_acc:.2f}%")
    return member_acc, ens_acc


if __name__ == "__main__":
    main()
