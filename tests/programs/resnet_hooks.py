# A small ResNet written as the PyTorch tutorials write one: BasicBlock with
# an identity shortcut (`out += identity`), BatchNorm, ReLU(inplace=True),
# AdaptiveAvgPool2d, and a forward hook that extracts features.
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=3, stride=stride, padding=1,
                               bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or in_planes != planes:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_planes, planes, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(planes))

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        out = self.relu(out)
        return out


class Net(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, kernel_size=3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = BasicBlock(16, 16)
        self.layer2 = BasicBlock(16, 32, stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(32, num_classes)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer2(self.layer1(x))
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.fc(x)


def main(workdir):
    d = np.load(os.path.join(workdir, "digits.npz"))
    images = torch.tensor(d["images"][:512] / 16.0, dtype=torch.float32)
    labels = torch.tensor(d["labels"][:512], dtype=torch.long)
    model = Net()
    model.load_state_dict(torch.load(os.path.join(workdir, "init.pt"), map_location="cpu"))
    features = {}

    def save_features(module, inputs, output):
        features["avgpool"] = output.detach()

    handle = model.avgpool.register_forward_hook(save_features)
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    log = []
    for epoch in range(3):
        for i in range(0, 512, 64):
            x, y = images[i:i + 64], labels[i:i + 64]
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
            log.append({"loss": loss.item(),
                        "feature_mean": features["avgpool"].mean().item(),
                        "feature_shape": list(features["avgpool"].shape)})
    handle.remove()
    model(images[:8])
    log.append({"hook_removed": features["avgpool"].shape[0] == 64})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
