# Tabular regression as in the course notebooks: a TensorDataset of
# standardised features, an MLP with BatchNorm1d and LeakyReLU, HuberLoss
# (and SmoothL1Loss / L1Loss for the metrics), Adam with ReduceLROnPlateau on
# the validation loss, early stopping on a patience counter, and the best
# weights kept with copy.deepcopy(model.state_dict()).
import copy
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self, in_features=8):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(in_features, 32, bias=False),  # BatchNorm1d has the shift
            nn.BatchNorm1d(32),
            nn.LeakyReLU(0.1),
            nn.Linear(32, 16),
            nn.LeakyReLU(0.1),
            nn.Linear(16, 1),
        )

    def forward(self, x):
        return self.net(x).squeeze(-1)


def make_data(n, rng):
    x = rng.standard_normal((n, 8)).astype(np.float32) * np.arange(1, 9, dtype=np.float32)
    w = np.linspace(-1, 1, 8).astype(np.float32)
    y = x @ w + np.sin(x[:, 0]) + 0.1 * rng.standard_normal(n).astype(np.float32)
    y[::37] += 15.0   # outliers: why Huber
    return x, y.astype(np.float32)


def main(workdir):
    rng = np.random.default_rng(0)
    x, y = make_data(600, rng)
    X = torch.from_numpy(x)
    Y = torch.from_numpy(y)
    X_train, X_val = X[:480], X[480:]
    y_train, y_val = Y[:480], Y[480:]
    mean, std = X_train.mean(dim=0, keepdim=True), X_train.std(dim=0, keepdim=True)
    X_train, X_val = (X_train - mean) / std, (X_val - mean) / std
    train_loader = DataLoader(TensorDataset(X_train, y_train), batch_size=64, shuffle=False)
    model = Net()
    model.load_state_dict(torch.load(os.path.join(workdir, "init.pt"), map_location="cpu"))
    criterion = nn.HuberLoss(delta=1.0)
    smooth = nn.SmoothL1Loss(beta=0.5)
    mae = nn.L1Loss()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=0.5,
                                                           patience=1, threshold=1e-3)
    best_loss, best_state, patience, bad = float("inf"), None, 4, 0
    log = []
    for epoch in range(12):
        model.train()
        running = 0.0
        for xb, yb in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
            running += loss.item() * xb.size(0)
            log.append({"loss": loss.item()})
        model.eval()
        with torch.no_grad():
            pred = model(X_val)
            val_loss = criterion(pred, y_val).item()
            log.append({"val": val_loss, "smooth_l1": smooth(pred, y_val).item(),
                        "mae": mae(pred, y_val).item(),
                        "train": running / len(train_loader.dataset)})
        scheduler.step(val_loss)
        log.append({"lr": optimizer.param_groups[0]["lr"]})
        if val_loss < best_loss:
            best_loss, bad = val_loss, 0
            best_state = copy.deepcopy(model.state_dict())
        else:
            bad += 1
            if bad >= patience:
                break
    model.load_state_dict(best_state)
    model.eval()
    with torch.no_grad():
        log.append({"best": criterion(model(X_val), y_val).item(), "epochs": epoch + 1})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
