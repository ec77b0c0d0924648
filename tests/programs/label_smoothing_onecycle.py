# The "bag of tricks" training loop: CrossEntropyLoss(label_smoothing=0.1),
# AdamW with two parameter groups (no weight decay on biases and norm
# weights), OneCycleLR stepped every batch, gradient clipping by norm (its
# return value logged) and by value, gradient accumulation over two
# micro-batches, and an exponential moving average of the weights kept with
# torch._foreach-free code (p.mul_().add_()).
import copy
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
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.norm1 = nn.GroupNorm(4, 16)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1, stride=2)
        self.norm2 = nn.LayerNorm([32, 4, 4])
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(32 * 16, 64), nn.GELU(),
                                  nn.Linear(64, 10))

    def forward(self, x):
        x = F.silu(self.norm1(self.conv1(x)))
        x = F.mish(self.norm2(self.conv2(x)))
        return self.head(x)


def main(workdir):
    d = np.load(os.path.join(workdir, "digits.npz"))
    images = torch.from_numpy(d["images"][:512] / 16.0).float()
    labels = torch.from_numpy(d["labels"][:512]).long()
    model = Net()
    model.load_state_dict(torch.load(os.path.join(workdir, "init.pt"), map_location="cpu"))
    ema = copy.deepcopy(model)
    for p in ema.parameters():
        p.requires_grad_(False)
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        if param.ndim <= 1 or name.endswith(".bias") or "norm" in name:
            no_decay.append(param)
        else:
            decay.append(param)
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05},
                                   {"params": no_decay, "weight_decay": 0.0}],
                                  lr=3e-3, betas=(0.9, 0.95))
    epochs, accum = 3, 2
    steps_per_epoch = 512 // (32 * accum)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1e-2, epochs=epochs,
                                                    steps_per_epoch=steps_per_epoch,
                                                    pct_start=0.3, anneal_strategy="cos")
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    log = []
    for epoch in range(epochs):
        model.train()
        optimizer.zero_grad()
        for step, i in enumerate(range(0, 512, 32)):
            out = model(images[i:i + 32])
            loss = criterion(out, labels[i:i + 32]) / accum
            loss.backward()
            if (step + 1) % accum == 0:
                total_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
                torch.nn.utils.clip_grad_value_(model.parameters(), clip_value=0.5)
                optimizer.step()
                optimizer.zero_grad()
                scheduler.step()
                with torch.no_grad():
                    for pe, pm in zip(ema.parameters(), model.parameters()):
                        pe.mul_(0.9).add_(pm.detach(), alpha=0.1)
                log.append({"loss": loss.item() * accum, "grad_norm": float(total_norm),
                            "lr": scheduler.get_last_lr()[0],
                            "lr_groups": [g["lr"] for g in optimizer.param_groups][1],
                            "beta1": optimizer.param_groups[0]["betas"][0]})
        model.eval()
        ema.eval()
        with torch.no_grad():
            xs, ys = torch.from_numpy(d["images"][512:768] / 16.0).float(), \
                torch.from_numpy(d["labels"][512:768]).long()
            acc = (model(xs).argmax(1) == ys).float().mean().item()
            ema_acc = (ema(xs).argmax(1) == ys).float().mean().item()
            smooth = F.cross_entropy(model(xs), ys, label_smoothing=0.2).item()
        log.append({"acc": acc, "ema_acc": ema_acc, "smooth_ce": smooth})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
