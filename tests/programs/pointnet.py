# A PointNet classifier as in the paper's reference code: each digit becomes
# a cloud of 3-D points (pixel position and ink), a T-Net predicts a 3x3
# input transform (identity added with torch.eye(...).repeat, applied with
# torch.bmm), shared MLPs are Conv1d layers with kernel size 1 and
# BatchNorm1d, a symmetric max over the points via torch.max(x, 2,
# keepdim=True)[0], a feature T-Net whose transform is pushed towards
# orthogonality by the regulariser ||I - A A^T||, and SGD with momentum and
# StepLR (SGD: Adam would turn the rounding noise in the gradients of the
# biases before BatchNorm, zero in exact arithmetic, into full-size steps).
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

N_POINTS = 24


class TNet(nn.Module):
    def __init__(self, k=3):
        super().__init__()
        self.k = k
        self.conv1 = nn.Conv1d(k, 16, 1)
        self.conv2 = nn.Conv1d(16, 32, 1)
        self.fc1 = nn.Linear(32, 16)
        self.fc2 = nn.Linear(16, k * k)
        self.bn1 = nn.BatchNorm1d(16)
        self.bn2 = nn.BatchNorm1d(32)
        self.bn3 = nn.BatchNorm1d(16)

    def forward(self, x):
        batchsize = x.size()[0]
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        x = torch.max(x, 2, keepdim=True)[0]
        x = x.view(-1, 32)
        x = F.relu(self.bn3(self.fc1(x)))
        x = self.fc2(x)
        iden = torch.eye(self.k, dtype=x.dtype).view(1, self.k * self.k).repeat(batchsize, 1)
        x = x + iden
        return x.view(-1, self.k, self.k)


class Net(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.stn = TNet(k=3)
        self.conv1 = nn.Conv1d(3, 16, 1)
        self.bn1 = nn.BatchNorm1d(16)
        self.fstn = TNet(k=16)
        self.conv2 = nn.Conv1d(16, 32, 1)
        self.bn2 = nn.BatchNorm1d(32)
        self.conv3 = nn.Conv1d(32, 64, 1)
        self.bn3 = nn.BatchNorm1d(64)
        self.fc1 = nn.Linear(64, 32)
        self.bn4 = nn.BatchNorm1d(32)
        self.dropout = nn.Dropout(p=0.0)
        self.fc2 = nn.Linear(32, num_classes)

    def forward(self, x):
        trans = self.stn(x)
        x = x.transpose(2, 1)
        x = torch.bmm(x, trans)
        x = x.transpose(2, 1)
        x = F.relu(self.bn1(self.conv1(x)))
        trans_feat = self.fstn(x)
        x = torch.bmm(x.transpose(2, 1), trans_feat).transpose(2, 1)
        x = F.relu(self.bn2(self.conv2(x)))
        x = self.bn3(self.conv3(x))
        x = torch.max(x, 2, keepdim=True)[0].view(-1, 64)
        x = F.relu(self.bn4(self.dropout(self.fc1(x))))
        return F.log_softmax(self.fc2(x), dim=1), trans, trans_feat


def feature_transform_regularizer(trans):
    d = trans.size()[1]
    I = torch.eye(d)[None, :, :]
    return torch.mean(torch.norm(torch.bmm(trans, trans.transpose(2, 1)) - I, dim=(1, 2)))


def to_clouds(images, rng):
    """(n, 8, 8) digits -> (n, 3, N_POINTS) clouds of inked pixels."""
    clouds = np.zeros((len(images), 3, N_POINTS), dtype=np.float32)
    for i, img in enumerate(images):
        ys, xs = np.nonzero(img > 2)
        pick = rng.choice(len(ys), N_POINTS, replace=len(ys) < N_POINTS)
        pts = np.stack([xs[pick], ys[pick], img[ys[pick], xs[pick]] / 4.0], 0).astype(np.float32)
        pts[:2] = (pts[:2] - 3.5) / 3.5 + rng.normal(0, 0.02, (2, N_POINTS))
        clouds[i] = pts
    return clouds


def main(workdir):
    torch.manual_seed(0)
    rng = np.random.default_rng(2)
    d = np.load(os.path.join(workdir, "digits.npz"))
    points = torch.from_numpy(to_clouds(d["images"][:, 0, :, :], rng))
    labels = torch.from_numpy(d["labels"].astype(np.int64))
    model = Net()
    model.load_state_dict(torch.load(os.path.join(workdir, "init.pt"), map_location="cpu"))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    log = []
    for epoch in range(3):
        model.train()
        for i in range(0, 512, 64):
            pts, target = points[i:i + 64], labels[i:i + 64]
            optimizer.zero_grad()
            pred, trans, trans_feat = model(pts)
            reg = feature_transform_regularizer(trans_feat)
            loss = F.nll_loss(pred, target) + 0.001 * reg
            loss.backward()
            optimizer.step()
            pred_choice = pred.data.max(1)[1]
            correct = pred_choice.eq(target.data).cpu().sum()
            log.append({"loss": loss.item(), "reg": reg.item(), "correct": correct.item(),
                        "stn_det": torch.det(trans).mean().item()})
        scheduler.step()
    model.eval()
    with torch.no_grad():
        pred, _, _ = model(points[1400:])
        correct = pred.argmax(dim=1).eq(labels[1400:]).sum().item()
        # a permutation of the points leaves the prediction unchanged
        perm = torch.randperm(N_POINTS)
        pred_p, _, _ = model(points[1400:1432, :, perm])
        perm_diff = (pred_p - pred[:32]).abs().max().item()
    log.append({"test_correct": correct, "lr": scheduler.get_last_lr()[0],
                "perm_invariant": perm_diff < 1e-4})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
