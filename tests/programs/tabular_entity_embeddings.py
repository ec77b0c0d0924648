# A tabular binary classifier as the "deep learning for tabular data" posts
# build it: categorical columns through an nn.ModuleList of nn.Embedding
# (sizes by the min(50, (n + 1) // 2) rule), continuous columns standardised
# with mean / std(0) and missing values imputed by torch.nanmean, a quantile
# bucketised copy of one column (torch.quantile + torch.bucketize, then
# F.one_hot), a factorisation-machine pairwise term, BatchNorm1d + Dropout,
# a logit reshaped by .view(-1) with the global bias added in place,
# BCEWithLogitsLoss(pos_weight=...) for the class imbalance, and ROC-AUC
# computed with argsort, cumsum and torch.trapezoid.
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

CARDS = [7, 12, 4]
N_CONT, N_BINS = 4, 5


def make_table(n=600, seed=0):
    rng = np.random.default_rng(seed)
    cats = np.stack([rng.integers(0, c, size=n) for c in CARDS], 1)
    cont = rng.normal(size=(n, N_CONT)).astype(np.float32) * [1, 5, 0.1, 2] + [0, 10, 1, -3]
    score = (cats[:, 0] % 3 == 0) * 1.5 + np.sin(cont[:, 0]) + 0.2 * (cont[:, 1] - 10) \
        - (cats[:, 1] > 8) + rng.normal(scale=0.5, size=n)
    y = (score > 1.2).astype(np.float32)
    cont[rng.random((n, N_CONT)) < 0.05] = np.nan
    return cats, cont.astype(np.float32), y


class TabularModel(nn.Module):
    def __init__(self, cards=CARDS, n_cont=N_CONT + N_BINS, hidden=32, p=0.0):
        super().__init__()
        self.embeds = nn.ModuleList([nn.Embedding(c, min(50, (c + 1) // 2)) for c in cards])
        self.fm_embeds = nn.ModuleList([nn.Embedding(c, 4) for c in cards])
        n_emb = sum(e.embedding_dim for e in self.embeds)
        self.bn_cont = nn.BatchNorm1d(n_cont)
        self.layers = nn.Sequential(nn.Linear(n_emb + n_cont, hidden), nn.ReLU(),
                                    nn.BatchNorm1d(hidden), nn.Dropout(p),
                                    nn.Linear(hidden, hidden), nn.ReLU())
        self.head = nn.Linear(hidden, 1)
        self.global_bias = nn.Parameter(torch.zeros(1))

    def forward(self, x_cat, x_cont):
        x = torch.cat([e(x_cat[:, i]) for i, e in enumerate(self.embeds)], 1)
        v = torch.stack([e(x_cat[:, i]) for i, e in enumerate(self.fm_embeds)], 1)
        fm = 0.5 * (v.sum(1) ** 2 - (v ** 2).sum(1)).sum(1)
        h = self.layers(torch.cat([x, self.bn_cont(x_cont)], 1))
        logits = self.head(h).view(-1)
        logits += self.global_bias + fm
        return logits


Net = TabularModel


def roc_auc(scores, labels):
    order = torch.argsort(scores, descending=True)
    labels = labels[order]
    tpr = torch.cumsum(labels, 0) / labels.sum()
    fpr = torch.cumsum(1 - labels, 0) / (1 - labels).sum()
    tpr = torch.cat([torch.zeros(1), tpr])
    fpr = torch.cat([torch.zeros(1), fpr])
    return torch.trapezoid(tpr, fpr).item()


def main(workdir):
    cats, cont, y = make_table()
    x_cat, x_cont, y = torch.from_numpy(cats).long(), torch.from_numpy(cont), torch.from_numpy(y)
    n_tr = 480
    fill = torch.nanmean(x_cont[:n_tr], dim=0)
    x_cont = torch.where(torch.isnan(x_cont), fill.expand_as(x_cont), x_cont)
    mean, std = x_cont[:n_tr].mean(0), x_cont[:n_tr].std(0)
    edges = torch.quantile(x_cont[:n_tr, 1], torch.linspace(0, 1, N_BINS + 1)[1:-1])
    bins = F.one_hot(torch.bucketize(x_cont[:, 1], edges), N_BINS).float()
    x_cont = torch.cat([(x_cont - mean) / std, bins], 1)
    pos_weight = (y[:n_tr] == 0).sum() / (y[:n_tr] == 1).sum()
    criterion = nn.BCEWithLogitsLoss(pos_weight=pos_weight.reshape(1))
    model = TabularModel()
    model.load_state_dict(torch.load(os.path.join(workdir, "init.pt")))
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3, weight_decay=1e-5)
    log = [{"pos_weight": pos_weight.item(), "edges_sum": edges.sum().item(),
            "bin_counts": bins[:n_tr].sum(0).tolist(), "fill": fill.sum().item()}]
    for epoch in range(5):
        model.train()
        for i in range(0, n_tr, 60):
            logits = model(x_cat[i:i + 60], x_cont[i:i + 60])
            loss = criterion(logits, y[i:i + 60])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            log.append({"loss": loss.item()})
        model.eval()
        with torch.no_grad():
            scores = torch.sigmoid(model(x_cat[n_tr:], x_cont[n_tr:]))
        log.append({"epoch": epoch, "val_auc": roc_auc(scores, y[n_tr:]),
                    "val_acc": ((scores > 0.5).float() == y[n_tr:]).float().mean().item()})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
