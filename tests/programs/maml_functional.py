# MAML as the meta-learning notebooks write it with torch.func: sinusoid
# regression tasks, an inner loop of SGD steps on a dict of parameters
# (torch.autograd.grad(create_graph=True) for second-order MAML, plain
# grads detached for first-order), the adapted parameters used through
# torch.func.functional_call, the meta-loss averaged over a task batch and
# stepped with Adam; then a digit-classification variant (N-way K-shot
# episodes from the digits) with a conv net whose BatchNorm buffers are
# passed to functional_call alongside the parameters, and torch.func.grad /
# vmap for per-task gradients of a linear probe.
import json
import math
import os
import sys
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call, grad, vmap


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.reg = nn.Sequential(OrderedDict([
            ("l1", nn.Linear(1, 40)), ("r1", nn.ReLU()),
            ("l2", nn.Linear(40, 40)), ("r2", nn.ReLU()),
            ("out", nn.Linear(40, 1))]))
        self.cls = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(8 * 2 * 2, 5))


def sample_tasks(rng, n_tasks, k):
    amp = rng.uniform(0.1, 5.0, n_tasks)
    phase = rng.uniform(0, math.pi, n_tasks)
    xs = rng.uniform(-5, 5, (n_tasks, 2 * k, 1))
    ys = amp[:, None, None] * np.sin(xs + phase[:, None, None])
    xs, ys = torch.from_numpy(xs.astype(np.float32)), torch.from_numpy(ys.astype(np.float32))
    return xs[:, :k], ys[:, :k], xs[:, k:], ys[:, k:]


def inner_adapt(model, params, x, y, steps, inner_lr, first_order=False, buffers=None,
                loss_fn=F.mse_loss):
    for _ in range(steps):
        state = dict(params) if buffers is None else {**params, **buffers}
        loss = loss_fn(functional_call(model, state, (x,)), y)
        grads = torch.autograd.grad(loss, params.values(), create_graph=not first_order)
        params = OrderedDict((name, p - inner_lr * g)
                             for (name, p), g in zip(params.items(), grads))
    return params


def main(workdir):
    rng = np.random.default_rng(0)
    net = Net()
    net.load_state_dict(torch.load(os.path.join(workdir, "init.pt"), map_location="cpu"))
    model = net.reg
    meta_opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    log = []
    for it in range(12):
        first_order = it >= 8
        xs, ys, xq, yq = sample_tasks(rng, 4, 10)
        meta_opt.zero_grad()
        meta_loss = 0.0
        for t in range(4):
            params = OrderedDict(model.named_parameters())
            fast = inner_adapt(model, params, xs[t], ys[t], 2, 0.01, first_order)
            meta_loss = meta_loss + F.mse_loss(functional_call(model, fast, (xq[t],)), yq[t])
        meta_loss = meta_loss / 4
        meta_loss.backward()
        gnorm = torch.sqrt(sum(p.grad.pow(2).sum() for p in model.parameters()))
        meta_opt.step()
        log.append({"loss": meta_loss.item(), "gnorm": gnorm.item(), "fo": first_order})

    # N-way K-shot classification episodes on the digits
    d = np.load(os.path.join(workdir, "digits.npz"))
    images = torch.from_numpy(d["images"].astype(np.float32) / 16.0)
    labels = d["labels"]
    by_class = [np.flatnonzero(labels == c) for c in range(10)]
    cls = net.cls
    cls_opt = torch.optim.SGD(cls.parameters(), lr=0.05, momentum=0.9)
    buffers = dict(cls.named_buffers())
    for episode in range(6):
        classes = rng.choice(10, 5, replace=False)
        sup, qry = [], []
        for c in classes:
            idx = rng.choice(by_class[c], 8, replace=False)
            sup.append(idx[:3])
            qry.append(idx[3:])
        sx = images[np.concatenate(sup)]
        sy = torch.arange(5).repeat_interleave(3)
        qx = images[np.concatenate(qry)]
        qy = torch.arange(5).repeat_interleave(5)
        cls_opt.zero_grad()
        params = dict(cls.named_parameters())
        fast = inner_adapt(cls, params, sx, sy, 1, 0.1, buffers=buffers,
                           loss_fn=F.cross_entropy)
        logits = functional_call(cls, {**fast, **buffers}, (qx,))
        loss = F.cross_entropy(logits, qy)
        loss.backward()
        cls_opt.step()
        log.append({"loss": loss.item(),
                    "acc": (logits.argmax(1) == qy).float().mean().item(),
                    "bn_mean": cls[1].running_mean.abs().sum().item(),
                    "bn_batches": int(cls[1].num_batches_tracked.item())})

    # per-task gradients of a linear probe with torch.func.grad and vmap
    w = torch.zeros(1, 1)
    b = torch.zeros(1)

    def probe_loss(w, b, x, y):
        return ((x @ w.T + b - y) ** 2).mean()

    xs, ys, _, _ = sample_tasks(rng, 4, 10)
    gw, gb = vmap(grad(probe_loss, argnums=(0, 1)), in_dims=(None, None, 0, 0))(w, b, xs, ys)
    for t in range(gw.shape[0]):
        log.append({"task": t, "gw": gw[t].sum().item(), "gb": gb[t].sum().item(),
                    "shape": list(gw.shape)})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
