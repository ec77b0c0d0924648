# The training-loop utilities of a "PyTorch training tricks" post on a small
# tabular regression: warm-up then cosine through SequentialLR([LinearLR,
# CosineAnnealingLR], milestones=...), ChainedScheduler, CosineAnnealingWarmRestarts
# stepped with fractional epochs, ReduceLROnPlateau on the validation loss,
# get_last_lr(), gradient accumulation, the AMP boilerplate written for GPUs
# (torch.autocast(device_type, enabled=use_amp) and torch.amp.GradScaler
# (enabled=use_amp) with scale / unscale_ / step / update), early stopping that
# keeps copy.deepcopy(model.state_dict()), a checkpoint holding the RNG state
# (torch.save of a dict, torch.load(weights_only=True), torch.set_rng_state)
# and a torch.manual_seed reproducibility check.
import copy
import io
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
from torch.optim.lr_scheduler import (ChainedScheduler, CosineAnnealingLR,
                                      CosineAnnealingWarmRestarts, ExponentialLR, LinearLR,
                                      ReduceLROnPlateau, SequentialLR)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU(),
                                 nn.Linear(16, 1))

    def forward(self, x):
        return self.net(x).squeeze(-1)


Net = MLP


def make_data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 6)).astype(np.float32)
    y = (x[:, 0] * 2 - x[:, 1] * x[:, 2] + np.sin(x[:, 3]) + 0.1 * rng.normal(size=200))
    return torch.from_numpy(x), torch.from_numpy(y.astype(np.float32))


def main(workdir):
    x, y = make_data()
    x_tr, y_tr, x_va, y_va = x[:160], y[:160], x[160:], y[160:]
    init = torch.load(os.path.join(workdir, "init.pt"))
    device_type = "cuda" if torch.cuda.is_available() else "cpu"
    use_amp = device_type == "cuda"
    log = []

    model = MLP()
    model.load_state_dict(init)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=1e-4)
    warmup = LinearLR(optimizer, start_factor=0.1, end_factor=1.0, total_iters=3)
    cosine = CosineAnnealingLR(optimizer, T_max=9, eta_min=1e-4)
    scheduler = SequentialLR(optimizer, schedulers=[warmup, cosine], milestones=[3])
    plateau = ReduceLROnPlateau(optimizer, mode='min', factor=0.5, patience=0, threshold=0.05)
    scaler = torch.amp.GradScaler(enabled=use_amp)
    criterion = nn.MSELoss()
    accum_steps = 2
    best_loss, best_state, bad_epochs, patience, min_delta = float('inf'), None, 0, 2, 0.02
    for epoch in range(12):
        model.train()
        optimizer.zero_grad(set_to_none=True)
        for i, start in enumerate(range(0, 160, 20)):
            with torch.autocast(device_type=device_type, dtype=torch.float16, enabled=use_amp):
                loss = criterion(model(x_tr[start:start + 20]), y_tr[start:start + 20])
                loss = loss / accum_steps
            scaler.scale(loss).backward()
            if (i + 1) % accum_steps == 0:
                scaler.unscale_(optimizer)
                gn = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                scaler.step(optimizer)
                scaler.update()
                optimizer.zero_grad(set_to_none=True)
                log.append({"loss": loss.item() * accum_steps, "grad_norm": gn.item()})
        scheduler.step()
        model.eval()
        with torch.no_grad():
            val_loss = criterion(model(x_va), y_va).item()
        if epoch >= 6:
            plateau.step(val_loss)
        log.append({"epoch": epoch, "val_loss": val_loss, "lr": scheduler.get_last_lr()[0],
                    "group_lr": optimizer.param_groups[0]["lr"], "scale": scaler.get_scale()})
        if val_loss < best_loss - min_delta:
            best_loss, best_state, bad_epochs = val_loss, copy.deepcopy(model.state_dict()), 0
        else:
            bad_epochs += 1
            if bad_epochs >= patience:
                break
    model.load_state_dict(best_state)
    with torch.no_grad():
        log.append({"best": best_loss, "restored": criterion(model(x_va), y_va).item(),
                    "stopped_at": epoch})

    # the schedules on their own, as the docs plot them
    opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.1)
    chained = ChainedScheduler([LinearLR(opt, start_factor=0.5, total_iters=4),
                                ExponentialLR(opt, gamma=0.9)])
    lrs = []
    for _ in range(6):
        opt.step()
        chained.step()
        lrs.append(chained.get_last_lr()[0])
    opt2 = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.1)
    restarts = CosineAnnealingWarmRestarts(opt2, T_0=3, T_mult=2, eta_min=0.001)
    iters = 4
    for ep in range(4):
        for i in range(iters):
            opt2.step()
            restarts.step(ep + i / iters)
            lrs.append(restarts.get_last_lr()[0])
    log.append({"lrs": lrs[:2], "lr_sum": sum(lrs), "lr_min": min(lrs), "T_i": restarts.T_i})

    # checkpoint with the RNG state; resuming replays the same random numbers
    torch.manual_seed(123)
    buf = io.BytesIO()
    torch.save({"epoch": epoch, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "rng": torch.get_rng_state()}, buf)
    after = torch.rand(4)
    buf.seek(0)
    ckpt = torch.load(buf, weights_only=True)
    torch.set_rng_state(ckpt["rng"])
    again = torch.rand(4)
    torch.manual_seed(7)
    d1 = nn.Dropout(0.5)(torch.ones(8))
    torch.manual_seed(7)
    d2 = nn.Dropout(0.5)(torch.ones(8))
    model2 = MLP()
    model2.load_state_dict(ckpt["model"])
    log.append({"rng_resumed": torch.equal(after, again), "rng_dtype": str(ckpt["rng"].dtype),
                "seed_repro": torch.equal(d1, d2), "ckpt_epoch": ckpt["epoch"],
                "opt_steps": ckpt["optimizer"]["state"][0]["step"].item(),
                "same_pred": torch.allclose(model2(x_va), model(x_va))})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
