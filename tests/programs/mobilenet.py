# A MobileNet-style network: depthwise-separable blocks (a 3x3 depthwise
# convolution with groups=in_channels, then a 1x1 pointwise one), BatchNorm,
# ReLU6, global average pooling; Adam with a OneCycleLR schedule.
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_dw(inp, oup, stride):
    return nn.Sequential(
        nn.Conv2d(inp, inp, 3, stride, 1, groups=inp, bias=False),
        nn.BatchNorm2d(inp),
        nn.ReLU6(inplace=True),
        nn.Conv2d(inp, oup, 1, 1, 0, bias=False),
        nn.BatchNorm2d(oup),
        nn.ReLU6(inplace=True),
    )


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16),
                                  nn.ReLU6(inplace=True))
        self.features = nn.Sequential(conv_dw(16, 32, 1), conv_dw(32, 64, 2), conv_dw(64, 64, 1))
        self.classifier = nn.Linear(64, 10)

    def forward(self, x):
        x = self.features(self.stem(x))
        x = F.adaptive_avg_pool2d(x, 1).view(x.size(0), -1)
        return self.classifier(x)


def main(workdir):
    d = np.load(os.path.join(workdir, "digits.npz"))
    images = torch.from_numpy((d["images"][:512] / 16.0).astype(np.float32))
    labels = torch.from_numpy(d["labels"][:512].astype(np.int64))
    model = Net()
    model.load_state_dict(torch.load(os.path.join(workdir, "init.pt"), map_location="cpu"))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    steps = 3 * 8
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1e-2, total_steps=steps)
    log = []
    for epoch in range(3):
        for i in range(0, 512, 64):
            optimizer.zero_grad()
            loss = F.cross_entropy(model(images[i:i + 64]), labels[i:i + 64])
            loss.backward()
            optimizer.step()
            scheduler.step()
            log.append({"loss": loss.item(), "lr": scheduler.get_last_lr()[0]})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
