"""A small residual network on the bundled digits, built by composition:
``x + block(x)`` in a custom Module sends the gradient down both paths (the
"add gate").  Runs in well under a minute on 2 cores.

    python examples/resnet.py
"""
import time

import numpy as np

import fastnn
import fastnn.nn as nn
import fastnn.nn.functional as F
from fastnn.data import DataLoader, TensorDataset, load_digits


class ResidualBlock(nn.Module):
    """conv-bn-relu-conv-bn, added to the input, then relu."""

    def __init__(self, channels):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        return F.relu(x + h)           # the skip connection


class SmallResNet(nn.Module):
    def __init__(self, width=16, n_classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, width, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(width), nn.ReLU())
        self.blocks = nn.Sequential(ResidualBlock(width), ResidualBlock(width))
        self.pool = nn.AvgPool2d(8)
        self.fc = nn.Linear(width, n_classes)

    def forward(self, x):
        x = self.blocks(self.stem(x))
        return self.fc(self.pool(x).flatten(1))


def main(epochs=8, seed=0):
    fastnn.manual_seed(seed)
    images, labels = load_digits()
    images = images / 16.0
    perm = np.random.default_rng(seed).permutation(len(labels))
    tr, te = perm[:1500], perm[1500:]
    train = DataLoader(TensorDataset(images[tr], labels[tr]), batch_size=64, shuffle=True,
                       seed=seed)
    model = SmallResNet()
    opt = fastnn.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    # Annealing the rate lets the weights, and so batch norm's running
    # statistics used at evaluation, settle by the last epoch.
    sched = fastnn.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    t0 = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        total = 0.0
        for xb, yb in train:
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            total += loss.item() * len(yb)
        sched.step()
        print(f"epoch {epoch + 1}: train loss {total / len(tr):.4f}")
    model.eval()
    with fastnn.no_grad():
        pred = model(fastnn.tensor(images[te])).argmax(dim=1).numpy()
    acc = float((pred == labels[te]).mean())
    print(f"test accuracy {acc:.4f} ({time.perf_counter() - t0:.1f} s)")
    return acc


if __name__ == "__main__":
    main()
