# Memory-saving training as the "train bigger models" notebooks write it: a
# deep residual MLP whose blocks run under torch.utils.checkpoint.checkpoint
# (use_reentrant=False, with extra keyword arguments and a block returning a
# tuple) and a stem under checkpoint_sequential, gradient accumulation over
# micro-batches (loss / accumulation_steps), clip_grad_norm_ (its returned
# total norm logged, error_if_nonfinite), clip_grad_value_, an
# nn.Dropout inside a checkpointed block (the RNG state is preserved so the
# recomputation drops the same units), and a check that the checkpointed
# gradients equal the plain ones.
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint, checkpoint_sequential


class Block(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, 2 * dim)
        self.fc2 = nn.Linear(2 * dim, dim)
        self.drop = nn.Dropout(0.0)

    def forward(self, x, scale=1.0):
        h = self.fc2(self.drop(F.gelu(self.fc1(self.norm(x)))))
        return x + scale * h, h.pow(2).mean()


class Net(nn.Module):
    def __init__(self, dim=32, depth=4):
        super().__init__()
        self.stem = nn.Sequential(nn.Linear(64, dim), nn.Tanh(), nn.Linear(dim, dim), nn.Tanh())
        self.blocks = nn.ModuleList([Block(dim) for _ in range(depth)])
        self.head = nn.Linear(dim, 10)
        self.use_checkpoint = True

    def forward(self, x):
        x = x.flatten(1)
        if self.use_checkpoint and self.training:
            x = checkpoint_sequential(self.stem, 2, x, use_reentrant=False)
        else:
            x = self.stem(x)
        aux = 0.0
        for blk in self.blocks:
            if self.use_checkpoint and self.training:
                x, a = checkpoint(blk, x, use_reentrant=False, scale=0.5)
            else:
                x, a = blk(x, scale=0.5)
            aux = aux + a
        return self.head(x), aux


def main(workdir):
    d = np.load(os.path.join(workdir, "digits.npz"))
    x = torch.from_numpy(d["images"].astype(np.float32) / 16.0)
    y = torch.from_numpy(d["labels"].astype(np.int64))
    model = Net()
    model.load_state_dict(torch.load(os.path.join(workdir, "init.pt"), map_location="cpu"))
    log = []

    # the checkpointed gradients are the plain ones, dropout included (the
    # recomputation restores the RNG state, so it drops the same units)
    xb, yb = x[:32], y[:32]
    grads = []
    for blk in model.blocks:
        blk.drop.p = 0.2
    for use in (True, False):
        model.use_checkpoint = use
        model.zero_grad()
        torch.manual_seed(123)
        out, aux = model(xb)
        (F.cross_entropy(out, yb) + 0.01 * aux).backward()
        grads.append([p.grad.clone() for p in model.parameters()])
    model.use_checkpoint = True
    for blk in model.blocks:
        blk.drop.p = 0.0
    log.append({"max_diff": max((a - b).abs().max().item() for a, b in zip(*grads)),
                "n_grads": len(grads[0])})

    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.01)
    accumulation_steps = 4
    micro = 16
    optimizer.zero_grad(set_to_none=True)
    running = 0.0
    for i in range(48):
        xb, yb = x[i * micro:(i + 1) * micro], y[i * micro:(i + 1) * micro]
        out, aux = model(xb)
        loss = F.cross_entropy(out, yb) + 0.01 * aux
        loss = loss / accumulation_steps
        loss.backward()
        running += loss.item()
        if (i + 1) % accumulation_steps == 0:
            total_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0,
                                                        error_if_nonfinite=True)
            torch.nn.utils.clip_grad_value_(model.parameters(), clip_value=0.05)
            max_grad = max(p.grad.abs().max().item() for p in model.parameters())
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            log.append({"loss": running, "total_norm": total_norm.item(),
                        "max_grad": max_grad,
                        "grad_is_none": model.head.weight.grad is None})
            running = 0.0

    model.eval()
    with torch.no_grad():
        out, _ = model(x[1400:])
        acc = (out.argmax(1) == y[1400:]).float().mean().item()
    norms = torch.stack([p.detach().norm() for p in model.parameters()])
    inf_norm = torch.nn.utils.clip_grad_norm_([torch.ones(2, requires_grad=True)], 1.0,
                                              norm_type=float("inf"))
    log.append({"acc": acc, "param_norm": norms.norm().item(), "inf_norm": inf_norm.item()})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
