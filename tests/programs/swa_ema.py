# Stochastic weight averaging as in the torch.optim.swa_utils docs: an MLP
# with BatchNorm1d trained with SGD under CosineAnnealingLR, then from
# swa_start an AveragedModel updated every epoch and the SWALR schedule
# (anneal_strategy="linear"), update_bn over a DataLoader at the end; an EMA
# model built with get_ema_multi_avg_fn(0.9) and use_buffers=True; and a
# hand-written EMA of the parameters (torch.no_grad, p.mul_(decay).add_(q,
# alpha=1 - decay)) kept on a copy.deepcopy of the model.
import copy
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim.lr_scheduler import CosineAnnealingLR
from torch.optim.swa_utils import SWALR, AveragedModel, get_ema_multi_avg_fn, update_bn
from torch.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 48)
        self.bn1 = nn.BatchNorm1d(48)
        self.fc2 = nn.Linear(48, 10)

    def forward(self, x):
        x = x.flatten(1)
        return self.fc2(F.relu(self.bn1(self.fc1(x))))


def evaluate(model, x, y):
    model.eval()
    with torch.no_grad():
        out = model(x)
        loss = F.cross_entropy(out, y).item()
        acc = (out.argmax(1) == y).float().mean().item()
    model.train()
    return loss, acc


def main(workdir):
    d = np.load(os.path.join(workdir, "digits.npz"))
    x = torch.from_numpy(d["images"].astype(np.float32) / 16.0)
    y = torch.from_numpy(d["labels"].astype(np.int64))
    train_ds = TensorDataset(x[:1024], y[:1024])
    loader = DataLoader(train_ds, batch_size=128, shuffle=False)
    test_x, test_y = x[1400:], y[1400:]

    model = Net()
    model.load_state_dict(torch.load(os.path.join(workdir, "init.pt"), map_location="cpu"))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    scheduler = CosineAnnealingLR(optimizer, T_max=8)
    swa_model = AveragedModel(model)
    swa_start = 4
    swa_scheduler = SWALR(optimizer, swa_lr=0.05, anneal_epochs=2, anneal_strategy="linear")
    ema_model = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.9), use_buffers=True)
    ema = copy.deepcopy(model)
    for p in ema.parameters():
        p.requires_grad_(False)
    decay = 0.95

    log = []
    for epoch in range(8):
        for step, (inputs, targets) in enumerate(loader):
            optimizer.zero_grad()
            loss = F.cross_entropy(model(inputs), targets)
            loss.backward()
            optimizer.step()
            ema_model.update_parameters(model)
            with torch.no_grad():
                for p_ema, p in zip(ema.parameters(), model.parameters()):
                    p_ema.mul_(decay).add_(p, alpha=1 - decay)
                for b_ema, b in zip(ema.buffers(), model.buffers()):
                    b_ema.copy_(b)
            log.append({"loss": loss.item(), "lr": optimizer.param_groups[0]["lr"]})
        if epoch >= swa_start:
            swa_model.update_parameters(model)
            swa_scheduler.step()
        else:
            scheduler.step()
        log.append({"epoch": epoch, "n_averaged": int(swa_model.n_averaged.item()),
                    "swa_w": swa_model.module.fc1.weight.sum().item(),
                    "ema_w": ema_model.module.fc2.weight.sum().item(),
                    "hand_ema_w": ema.fc2.weight.sum().item()})

    # Update bn statistics for the swa_model at the end
    before = swa_model.module.bn1.running_mean.clone()
    update_bn(loader, swa_model)
    log.append({"bn_change": (swa_model.module.bn1.running_mean - before).abs().sum().item(),
                "bn_var": swa_model.module.bn1.running_var.mean().item(),
                "bn_batches": int(swa_model.module.bn1.num_batches_tracked.item())})
    for name, m in [("model", model), ("swa", swa_model), ("ema", ema_model), ("hand", ema)]:
        loss, acc = evaluate(m, test_x, test_y)
        log.append({"which": name, "test_loss": loss, "acc": acc})
    log.append({"swa_keys": sorted(swa_model.state_dict().keys())[:4],
                "lr_end": optimizer.param_groups[0]["lr"]})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
