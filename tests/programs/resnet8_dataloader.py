# A CIFAR-style ResNet-8 trained as the course notebooks train one: a
# Dataset whose transform is a chain of tensor ops (normalise per channel,
# zero-pad and crop, a horizontal flip chosen by index), a DataLoader with a
# custom collate_fn, SGD with nesterov momentum and a MultiStepLR schedule,
# evaluation under torch.no_grad() with argmax accuracy.
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset


class Compose:
    def __init__(self, transforms):
        self.transforms = transforms

    def __call__(self, x, idx):
        for t in self.transforms:
            x = t(x, idx)
        return x


class Normalize:
    def __init__(self, mean, std):
        self.mean = torch.tensor(mean).view(-1, 1, 1)
        self.std = torch.tensor(std).view(-1, 1, 1)

    def __call__(self, x, idx):
        return (x - self.mean) / self.std


class PadCrop:
    def __init__(self, pad):
        self.pad = pad

    def __call__(self, x, idx):
        p = self.pad
        x = F.pad(x, (p, p, p, p))
        i, j = idx % (2 * p + 1), (idx // 3) % (2 * p + 1)
        return x[:, i:i + x.shape[1] - 2 * p, j:j + x.shape[2] - 2 * p]


class FlipEveryOther:
    def __call__(self, x, idx):
        return torch.flip(x, dims=[2]) if idx % 2 else x


class DigitsRGB(Dataset):
    """8x8 digits upsampled to 16x16 and tinted into three channels."""

    def __init__(self, images, labels, transform=None):
        x = F.interpolate(images, scale_factor=2, mode="nearest")
        tint = torch.tensor([1.0, 0.6, 0.3]).view(1, 3, 1, 1)
        # a little fixed pixel noise (the 8x8 digits are mostly exact zeros)
        jitter = np.random.default_rng(0).uniform(0, 0.05, tuple(x.shape)).astype(np.float32)
        self.images = x * tint + torch.from_numpy(jitter)
        self.labels = labels
        self.transform = transform

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        x = self.images[idx]
        if self.transform is not None:
            x = self.transform(x, idx)
        return x, self.labels[idx]


def collate(batch):
    xs, ys = zip(*batch)
    return torch.stack(xs), torch.stack(ys)


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                          nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class Net(nn.Module):
    """ResNet-8: a stem and three stages of one BasicBlock each."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.layers = nn.Sequential(BasicBlock(8, 8, 1), BasicBlock(8, 16, 2),
                                    BasicBlock(16, 32, 2))
        self.linear = nn.Linear(32, num_classes)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layers(out)
        out = F.avg_pool2d(out, out.size()[3])
        out = out.view(out.size(0), -1)
        return self.linear(out)


def main(workdir):
    d = np.load(os.path.join(workdir, "digits.npz"))
    images = torch.from_numpy(d["images"] / 16.0).float()
    labels = torch.from_numpy(d["labels"]).long()
    mean = [images.mean().item() * t for t in (1.0, 0.6, 0.3)]
    std = [images.std().item() * t for t in (1.0, 0.6, 0.3)]
    train_tf = Compose([Normalize(mean, std), PadCrop(2), FlipEveryOther()])
    test_tf = Compose([Normalize(mean, std)])
    train_set = DigitsRGB(images[:384], labels[:384], train_tf)
    test_set = DigitsRGB(images[1500:1700], labels[1500:1700], test_tf)
    train_loader = DataLoader(train_set, batch_size=64, shuffle=False, collate_fn=collate)
    test_loader = DataLoader(test_set, batch_size=100)
    model = Net()
    model.load_state_dict(torch.load(os.path.join(workdir, "init.pt"), map_location="cpu"))
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True,
                                weight_decay=5e-4)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[2], gamma=0.1)
    log = []
    for epoch in range(3):
        model.train()
        for inputs, targets in train_loader:
            optimizer.zero_grad()
            outputs = model(inputs)
            loss = criterion(outputs, targets)
            loss.backward()
            optimizer.step()
            _, predicted = outputs.max(1)
            log.append({"loss": loss.item(),
                        "correct": int(predicted.eq(targets).sum().item())})
        scheduler.step()
        model.eval()
        correct = total = 0
        test_loss = 0.0
        with torch.no_grad():
            for inputs, targets in test_loader:
                outputs = model(inputs)
                test_loss += criterion(outputs, targets).item()
                correct += (outputs.argmax(dim=1) == targets).sum().item()
                total += targets.size(0)
        log.append({"test_loss": test_loss / len(test_loader), "acc": correct / total,
                    "lr": scheduler.get_last_lr()[0]})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
