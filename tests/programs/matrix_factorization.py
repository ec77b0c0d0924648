# A matrix-factorisation recommender as in the "collaborative filtering from
# scratch" posts: user and item nn.Embedding tables plus per-user / per-item
# bias embeddings and a global bias, the prediction (u * v).sum(1) + biases,
# MSE loss with weight decay, ratings pre-shuffled with NumPy and served by
# TensorDataset + DataLoader, evaluation RMSE under torch.no_grad(), a
# sigmoid-ranged variant (y_range) and top-N recommendations that mask the
# already-rated items with masked_fill before torch.topk.
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

N_USERS, N_ITEMS = 30, 40


def make_ratings(seed=0):
    rng = np.random.default_rng(seed)
    pu, qi = rng.normal(size=(N_USERS, 3)), rng.normal(size=(N_ITEMS, 3))
    full = 3.0 + pu @ qi.T * 0.7 + rng.normal(scale=0.3, size=(N_USERS, N_ITEMS))
    full = np.clip(np.round(full), 1, 5)
    users, items = np.nonzero(rng.random((N_USERS, N_ITEMS)) < 0.4)
    order = rng.permutation(len(users))
    return users[order], items[order], full[users, items][order].astype(np.float32)


class MatrixFactorization(nn.Module):
    def __init__(self, n_users=N_USERS, n_items=N_ITEMS, n_factors=8, y_range=(0.5, 5.5)):
        super().__init__()
        self.user_factors = nn.Embedding(n_users, n_factors)
        self.item_factors = nn.Embedding(n_items, n_factors)
        self.user_bias = nn.Embedding(n_users, 1)
        self.item_bias = nn.Embedding(n_items, 1)
        self.global_bias = nn.Parameter(torch.zeros(1))
        self.y_range = y_range
        nn.init.normal_(self.user_factors.weight, std=0.1)
        nn.init.normal_(self.item_factors.weight, std=0.1)
        nn.init.zeros_(self.user_bias.weight)
        nn.init.zeros_(self.item_bias.weight)

    def forward(self, user, item):
        u, v = self.user_factors(user), self.item_factors(item)
        pred = (u * v).sum(1) + self.user_bias(user).squeeze(1) + \
            self.item_bias(item).squeeze(1) + self.global_bias
        lo, hi = self.y_range
        return torch.sigmoid(pred) * (hi - lo) + lo


Net = MatrixFactorization


def rmse(model, loader):
    model.eval()
    se, n = 0.0, 0
    with torch.no_grad():
        for u, i, r in loader:
            se += F.mse_loss(model(u, i), r, reduction='sum').item()
            n += r.numel()
    model.train()
    return (se / n) ** 0.5


def main(workdir):
    users, items, ratings = make_ratings()
    split = int(0.8 * len(ratings))
    train_ds = TensorDataset(torch.from_numpy(users[:split]).long(),
                             torch.from_numpy(items[:split]).long(),
                             torch.from_numpy(ratings[:split]))
    valid_ds = TensorDataset(torch.LongTensor(users[split:]), torch.LongTensor(items[split:]),
                             torch.FloatTensor(ratings[split:]))
    train_dl = DataLoader(train_ds, batch_size=64)
    valid_dl = DataLoader(valid_ds, batch_size=128)
    model = MatrixFactorization()
    model.load_state_dict(torch.load(os.path.join(workdir, "init.pt")))
    opt = torch.optim.AdamW(model.parameters(), lr=0.05, weight_decay=1e-2)
    log = [{"n_train": len(train_ds), "n_valid": len(valid_ds), "batches": len(train_dl)}]
    for epoch in range(6):
        for u, i, r in train_dl:
            loss = F.mse_loss(model(u, i), r)
            opt.zero_grad()
            loss.backward()
            opt.step()
        log.append({"epoch": epoch, "loss": loss.item(),
                    "train_rmse": rmse(model, train_dl), "valid_rmse": rmse(model, valid_dl)})
    with torch.no_grad():
        scores = model.user_factors.weight @ model.item_factors.weight.t() \
            + model.item_bias.weight.t() + model.user_bias.weight
        rated = torch.zeros(N_USERS, N_ITEMS, dtype=torch.bool)
        rated[train_ds.tensors[0], train_ds.tensors[1]] = True
        scores = scores.masked_fill(rated, float('-inf'))
        top = torch.topk(scores[:3], k=5, dim=1)
    log.append({"top_items": top.indices.tolist(), "top_score_sum": top.values.sum().item(),
                "item_bias_mean": model.item_bias.weight.mean().item()})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
