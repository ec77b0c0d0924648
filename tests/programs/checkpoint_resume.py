# Checkpointing as the tutorials do it: save model, optimizer and scheduler
# state_dicts with the epoch into one dict, build everything anew, load it
# (the optimizer's momentum buffers and the scheduler's counters included)
# and resume: the resumed run must continue exactly as the uninterrupted one.
# SGD with momentum + CosineAnnealingLR, then RMSprop + ExponentialLR and a
# LambdaLR warm-up chained with SequentialLR.
import io
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.fc = nn.Linear(8 * 4 * 4, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn(self.conv(x))), 2)
        return self.fc(x.view(x.size(0), -1))


def make(kind, model):
    if kind == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, dampening=0.1)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10, eta_min=1e-3)
    else:
        opt = torch.optim.RMSprop(model.parameters(), lr=2e-3, alpha=0.9, centered=True)
        warm = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: (s + 1) / 3)
        decay = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.8)
        sched = torch.optim.lr_scheduler.SequentialLR(opt, [warm, decay], milestones=[3])
    return opt, sched


def train_epoch(model, opt, sched, images, labels, log, tag):
    model.train()
    for i in range(0, 256, 64):
        opt.zero_grad()
        loss = F.cross_entropy(model(images[i:i + 64]), labels[i:i + 64])
        loss.backward()
        opt.step()
        log.append({"loss": loss.item(), "run": tag})
    sched.step()
    log.append({"lr": opt.param_groups[0]["lr"], "run": tag})


def main(workdir):
    d = np.load(os.path.join(workdir, "digits.npz"))
    images = torch.from_numpy(d["images"][:256] / 16.0).float()
    labels = torch.from_numpy(d["labels"][:256]).long()
    init = torch.load(os.path.join(workdir, "init.pt"), map_location="cpu")
    log = []
    for kind in ("sgd", "rmsprop"):
        model = Net()
        model.load_state_dict(init)
        opt, sched = make(kind, model)
        for epoch in range(2):
            train_epoch(model, opt, sched, images, labels, log, kind + "-a")
        buf = io.BytesIO()
        torch.save({"epoch": 2, "model_state_dict": model.state_dict(),
                    "optimizer_state_dict": opt.state_dict(),
                    "scheduler_state_dict": sched.state_dict()}, buf)
        for epoch in range(2, 4):
            train_epoch(model, opt, sched, images, labels, log, kind + "-a")
        final_a = [p.detach().clone() for p in model.parameters()]

        buf.seek(0)
        checkpoint = torch.load(buf)
        model2 = Net()
        model2.load_state_dict(checkpoint["model_state_dict"])
        opt2, sched2 = make(kind, model2)
        opt2.load_state_dict(checkpoint["optimizer_state_dict"])
        sched2.load_state_dict(checkpoint["scheduler_state_dict"])
        log.append({"resumed_epoch": checkpoint["epoch"],
                    "state_keys": sorted(checkpoint["optimizer_state_dict"].keys()),
                    "n_state": len(checkpoint["optimizer_state_dict"]["state"]),
                    "last_epoch": checkpoint["scheduler_state_dict"]["last_epoch"]})
        for epoch in range(2, 4):
            train_epoch(model2, opt2, sched2, images, labels, log, kind + "-b")
        diff = max((p - q).abs().max().item() for p, q in zip(final_a, model2.parameters()))
        log.append({"max_diff": diff, "same": diff == 0.0})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
