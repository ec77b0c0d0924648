# An ordinary PyTorch training program, written the way the PyTorch
# tutorials write one: a custom Dataset, DataLoader with worker processes,
# a small CNN, gradient-norm logging, a hand-written SGD update through
# p.data, and save/load of the state dict.  tests/programs/test_programs.py
# runs it unchanged with PyTorch and with only the import changed to fastnn.
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset


class DigitsDataset(Dataset):
    """8x8 digit images from an .npz file, scaled to [0, 1]."""

    def __init__(self, path, train=True):
        d = np.load(path)
        n = 1400
        sl = slice(0, n) if train else slice(n, None)
        self.images = d["images"][sl].astype(np.float32) / 16.0
        self.labels = d["labels"][sl].astype(np.int64)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        image = torch.from_numpy(self.images[idx])
        label = int(self.labels[idx])
        return image, label


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.pool = nn.MaxPool2d(2, 2)
        self.fc1 = nn.Linear(16 * 2 * 2, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        return self.fc2(x)


def main(workdir):
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    train_set = DigitsDataset(os.path.join(workdir, "digits.npz"), train=True)
    test_set = DigitsDataset(os.path.join(workdir, "digits.npz"), train=False)
    train_loader = DataLoader(train_set, batch_size=32, shuffle=False, num_workers=2)
    test_loader = DataLoader(test_set, batch_size=128, shuffle=False)

    model = Net().to(device)
    model.load_state_dict(torch.load(os.path.join(workdir, "init.pt"), map_location="cpu"))
    criterion = nn.CrossEntropyLoss()
    lr = 0.3
    log = []
    for epoch in range(4):
        model.train()
        for step, (images, labels) in enumerate(train_loader):
            images, labels = images.to(device), labels.to(device)
            outputs = model(images)
            loss = criterion(outputs, labels)
            model.zero_grad()
            loss.backward()
            grad_norm = torch.sqrt(sum((p.grad ** 2).sum() for p in model.parameters()))
            with torch.no_grad():
                for p in model.parameters():
                    p.data.add_(p.grad, alpha=-lr)
            log.append({"epoch": epoch, "step": step, "loss": loss.item(),
                        "grad_norm": grad_norm.item()})

    torch.save(model.state_dict(), os.path.join(workdir, "model.pt"))
    restored = Net()
    restored.load_state_dict(torch.load(os.path.join(workdir, "model.pt"),
                                        map_location=torch.device("cpu")))
    restored.eval()
    correct = total = 0
    with torch.no_grad():
        for images, labels in test_loader:
            predicted = restored(images).argmax(dim=1)
            total += labels.size(0)
            correct += (predicted == labels).sum().item()
    print(json.dumps({"log": log, "accuracy": correct / total}))


if __name__ == "__main__":
    main(sys.argv[1])
