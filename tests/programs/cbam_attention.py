# Squeeze-and-Excitation and CBAM attention in a small ResNet-style
# classifier, as the attention-module repositories write them: channel
# attention from nn.AdaptiveAvgPool2d(1) and nn.AdaptiveMaxPool2d(1) through
# a shared 1x1-conv MLP, spatial attention from torch.cat([torch.mean(x, 1,
# keepdim=True), torch.max(x, 1, keepdim=True)[0]]) and a 7x7 conv, an SE
# block with view/expand_as gating, kaiming_normal_(mode="fan_out") init via
# self.modules(), manual augmentation (random flips with torch.flip,
# reflect-padded random crops), SGD with a MultiStepLR, and the attention
# maps inspected under torch.no_grad().
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class ChannelAttention(nn.Module):
    def __init__(self, in_planes, ratio=4):
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.max_pool = nn.AdaptiveMaxPool2d(1)
        self.fc = nn.Sequential(nn.Conv2d(in_planes, in_planes // ratio, 1, bias=False),
                                nn.ReLU(), nn.Conv2d(in_planes // ratio, in_planes, 1, bias=False))
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        return self.sigmoid(self.fc(self.avg_pool(x)) + self.fc(self.max_pool(x)))


class SpatialAttention(nn.Module):
    def __init__(self, kernel_size=7):
        super().__init__()
        self.conv1 = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2, bias=False)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        avg_out = torch.mean(x, dim=1, keepdim=True)
        max_out, _ = torch.max(x, dim=1, keepdim=True)
        return self.sigmoid(self.conv1(torch.cat([avg_out, max_out], dim=1)))


class SELayer(nn.Module):
    def __init__(self, channel, reduction=4):
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(nn.Linear(channel, channel // reduction, bias=False),
                                nn.ReLU(inplace=True),
                                nn.Linear(channel // reduction, channel, bias=False), nn.Sigmoid())

    def forward(self, x):
        b, c, _, _ = x.size()
        y = self.avg_pool(x).view(b, c)
        y = self.fc(y).view(b, c, 1, 1)
        return x * y.expand_as(x)


class BasicBlock(nn.Module):
    def __init__(self, inplanes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.ca = ChannelAttention(planes)
        self.sa = SpatialAttention()
        self.se = SELayer(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride, bias=False),
                                            nn.BatchNorm2d(planes))

    def forward(self, x):
        residual = x
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out = self.ca(out) * out
        out = self.sa(out) * out
        out = self.se(out)
        if self.downsample is not None:
            residual = self.downsample(x)
        return F.relu(out + residual)


class Net(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16),
                                  nn.ReLU(inplace=True))
        self.layer1 = BasicBlock(16, 16)
        self.layer2 = BasicBlock(16, 32, stride=2)
        self.fc = nn.Linear(32, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def forward(self, x):
        x = self.layer2(self.layer1(self.stem(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def augment(x, rng):
    flip = torch.from_numpy(rng.random(x.size(0)) < 0.5)
    x = torch.where(flip[:, None, None, None], torch.flip(x, dims=[3]), x)
    padded = F.pad(x, (1, 1, 1, 1), mode="reflect")
    i, j = rng.integers(0, 3, 2)
    return padded[:, :, i:i + 8, j:j + 8]


def main(workdir):
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    d = np.load(os.path.join(workdir, "digits.npz"))
    images = torch.from_numpy(d["images"].astype(np.float32) / 16.0)
    labels = torch.from_numpy(d["labels"].astype(np.int64))
    model = Net()
    model.load_state_dict(torch.load(os.path.join(workdir, "init.pt"), map_location="cpu"))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.2, momentum=0.9, weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[2], gamma=0.1)
    log = []
    for epoch in range(3):
        model.train()
        for i in range(0, 384, 64):
            x, y = augment(images[i:i + 64], rng), labels[i:i + 64]
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            log.append({"loss": loss.item()})
        scheduler.step()
    model.eval()
    with torch.no_grad():
        out = model(images[1400:])
        h = model.stem(images[1400:1432])
        ca = model.layer1.ca(h)
        sa = model.layer1.sa(ca * h)
    log.append({"acc": (out.argmax(1) == labels[1400:]).float().mean().item(),
                "ca_mean": ca.mean().item(), "sa_mean": sa.mean().item(),
                "sa_shape": list(sa.shape)})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
