# Time-series forecasting with a temporal convolutional network as in the
# TCN notebooks: causal dilated Conv1d (left padding with F.pad, a Chomp1d
# variant with padding+slicing), weight_norm'd convolutions (the
# torch.nn.utils.parametrizations form), residual 1x1 downsample, sliding
# windows cut with Tensor.unfold, multi-step targets, AdamW with
# CosineAnnealingWarmRestarts stepped with fractional epochs, and an
# nn.GRU baseline trained on the same windows.
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.parametrizations import weight_norm

WINDOW, HORIZON = 24, 4


class Chomp1d(nn.Module):
    def __init__(self, chomp_size):
        super().__init__()
        self.chomp_size = chomp_size

    def forward(self, x):
        return x[:, :, :-self.chomp_size].contiguous()


class TemporalBlock(nn.Module):
    def __init__(self, n_inputs, n_outputs, kernel_size, dilation):
        super().__init__()
        padding = (kernel_size - 1) * dilation
        self.conv1 = weight_norm(nn.Conv1d(n_inputs, n_outputs, kernel_size, padding=padding,
                                           dilation=dilation))
        self.chomp1 = Chomp1d(padding)
        self.conv2 = weight_norm(nn.Conv1d(n_outputs, n_outputs, kernel_size,
                                           dilation=dilation))
        self.left = padding
        self.downsample = nn.Conv1d(n_inputs, n_outputs, 1) if n_inputs != n_outputs else None

    def forward(self, x):
        out = F.relu(self.chomp1(self.conv1(x)))
        out = F.relu(self.conv2(F.pad(out, (self.left, 0))))
        res = x if self.downsample is None else self.downsample(x)
        return F.relu(out + res)


class TCN(nn.Module):
    def __init__(self):
        super().__init__()
        layers, channels = [], [1, 8, 8, 8]
        for i in range(3):
            layers.append(TemporalBlock(channels[i], channels[i + 1], 3, dilation=2 ** i))
        self.network = nn.Sequential(*layers)
        self.linear = nn.Linear(8, HORIZON)

    def forward(self, x):                      # x: (batch, window)
        y = self.network(x.unsqueeze(1))       # (batch, channels, window)
        return self.linear(y[:, :, -1])


class GRUForecaster(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(1, 16, batch_first=True)
        self.head = nn.Linear(16, HORIZON)

    def forward(self, x):
        out, h = self.gru(x.unsqueeze(-1))
        return self.head(h[-1])


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.tcn = TCN()
        self.gru = GRUForecaster()


def main(workdir):
    t = np.arange(700, dtype=np.float32)
    rng = np.random.default_rng(0)
    series = np.sin(2 * math.pi * t / 50) + 0.5 * np.sin(2 * math.pi * t / 13) \
        + 0.1 * rng.standard_normal(700).astype(np.float32)
    s = torch.from_numpy(series.astype(np.float32))
    mean, std = s[:500].mean(), s[:500].std()
    s = (s - mean) / std
    windows = s.unfold(0, WINDOW + HORIZON, 2)            # (n, WINDOW + HORIZON)
    X, Y = windows[:, :WINDOW], windows[:, WINDOW:]
    n_train = 224
    both = Net()
    both.load_state_dict(torch.load(os.path.join(workdir, "init.pt"), map_location="cpu"))
    log = []
    for name in ("tcn", "gru"):
        model = getattr(both, name)
        optimizer = torch.optim.AdamW(model.parameters(), lr=5e-3, weight_decay=1e-2)
        scheduler = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0=2,
                                                                         T_mult=2, eta_min=1e-4)
        iters = n_train // 32
        for epoch in range(4):
            model.train()
            for k in range(iters):
                xb, yb = X[k * 32:(k + 1) * 32], Y[k * 32:(k + 1) * 32]
                optimizer.zero_grad()
                loss = F.mse_loss(model(xb), yb)
                loss.backward()
                optimizer.step()
                scheduler.step(epoch + k / iters)
                log.append({"loss": loss.item(), "model": name,
                            "lr": optimizer.param_groups[0]["lr"]})
            model.eval()
            with torch.no_grad():
                pred = model(X[n_train:])
                log.append({"val_mse": F.mse_loss(pred, Y[n_train:]).item(),
                            "val_mae": (pred - Y[n_train:]).abs().mean().item()})
    log.append({"wn_keys": sorted(k for k in both.state_dict() if "conv1" in k
                                  and k.startswith("tcn.network.0"))})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
