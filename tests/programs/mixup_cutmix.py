# MixUp and CutMix in a training loop, as the augmentation repositories
# (facebookresearch/mixup-cifar10, clovaai/CutMix-PyTorch) write them: the
# mixing weight from torch.distributions.Beta (MixUp) and np.random.beta
# (CutMix), the partner images from torch.randperm, the CutMix box pasted
# by in-place slice assignment x[:, :, y1:y2, x1:x2] = x[index, :, y1:y2,
# x1:x2] and lam corrected to the box's true area, the mixed criterion
# lam * CE(pred, y_a) + (1 - lam) * CE(pred, y_b) with label smoothing,
# SGD with Nesterov momentum and weight decay, CosineAnnealingLR, and
# evaluation under torch.no_grad() with argmax and top-k accuracy.
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(inplace=True),
            nn.Conv2d(16, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(inplace=True),
            nn.MaxPool2d(2))
        self.fc = nn.Linear(32 * 4 * 4, num_classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.features(x), 1))


def mixup_data(x, y, alpha=1.0):
    lam = torch.distributions.Beta(torch.tensor([alpha]), torch.tensor([alpha])).sample().item()
    index = torch.randperm(x.size(0))
    mixed_x = lam * x + (1 - lam) * x[index, :]
    return mixed_x, y, y[index], lam


def rand_bbox(size, lam):
    W, H = size[2], size[3]
    cut_rat = np.sqrt(1. - lam)
    cut_w, cut_h = int(W * cut_rat), int(H * cut_rat)
    cx, cy = np.random.randint(W), np.random.randint(H)
    bbx1, bby1 = np.clip(cx - cut_w // 2, 0, W), np.clip(cy - cut_h // 2, 0, H)
    bbx2, bby2 = np.clip(cx + cut_w // 2, 0, W), np.clip(cy + cut_h // 2, 0, H)
    return bbx1, bby1, bbx2, bby2


def cutmix_data(x, y, beta=1.0):
    lam = np.random.beta(beta, beta)
    rand_index = torch.randperm(x.size()[0])
    bbx1, bby1, bbx2, bby2 = rand_bbox(x.size(), lam)
    x = x.clone()
    x[:, :, bbx1:bbx2, bby1:bby2] = x[rand_index, :, bbx1:bbx2, bby1:bby2]
    lam = 1 - ((bbx2 - bbx1) * (bby2 - bby1) / (x.size()[-1] * x.size()[-2]))
    return x, y, y[rand_index], lam


def mixup_criterion(criterion, pred, y_a, y_b, lam):
    return lam * criterion(pred, y_a) + (1 - lam) * criterion(pred, y_b)


def accuracy(output, target, topk=(1,)):
    maxk = max(topk)
    _, pred = output.topk(maxk, 1, True, True)
    correct = pred.t().eq(target.view(1, -1).expand(maxk, -1))
    return [correct[:k].reshape(-1).float().sum(0, keepdim=True).mul_(100.0 / target.size(0))
            for k in topk]


def main(workdir):
    torch.manual_seed(0)
    np.random.seed(0)
    d = np.load(os.path.join(workdir, "digits.npz"))
    images = torch.from_numpy(d["images"].astype(np.float32) / 16.0)
    labels = torch.from_numpy(d["labels"].astype(np.int64))
    model = Net()
    model.load_state_dict(torch.load(os.path.join(workdir, "init.pt"), map_location="cpu"))
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9, nesterov=True,
                                weight_decay=5e-4)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=3)
    log = []
    for epoch in range(3):
        model.train()
        for i in range(0, 640, 64):
            inputs, targets = images[i:i + 64], labels[i:i + 64]
            if (i // 64) % 2 == 0:
                inputs, targets_a, targets_b, lam = mixup_data(inputs, targets, alpha=0.4)
            else:
                inputs, targets_a, targets_b, lam = cutmix_data(inputs, targets, beta=1.0)
            outputs = model(inputs)
            loss = mixup_criterion(criterion, outputs, targets_a, targets_b, lam)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            _, predicted = torch.max(outputs.data, 1)
            correct = (lam * predicted.eq(targets_a.data).cpu().sum().float()
                       + (1 - lam) * predicted.eq(targets_b.data).cpu().sum().float())
            log.append({"loss": loss.item(), "lam": float(lam), "mixed_correct": correct.item(),
                        "input_sum": inputs.sum().item()})
        scheduler.step()
    model.eval()
    with torch.no_grad():
        outputs = model(images[1400:])
        top1, top3 = accuracy(outputs, labels[1400:], topk=(1, 3))
        pred = outputs.argmax(dim=1)
    log.append({"top1": top1.item(), "top3": top3.item(),
                "argmax_agrees": bool((pred == outputs.max(1)[1]).all()),
                "lr": optimizer.param_groups[0]["lr"]})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
