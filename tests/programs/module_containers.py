# A hand-built multi-head model of the kind course notebooks use to show
# nn.Module's machinery: nn.ModuleDict of heads, nn.ParameterList of
# per-layer scales, nn.ParameterDict, register_buffer (persistent and not),
# model.apply(init_fn) with nn.init, named_parameters / named_buffers /
# named_modules / children, parameter counting with numel, freezing with
# requires_grad_, torch.manual_seed reproducibility, and state_dict round
# trips through torch.save / torch.load on an io.BytesIO and on a file.
import io
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class ScaledMLP(nn.Module):
    def __init__(self, sizes):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])])
        self.scales = nn.ParameterList([nn.Parameter(torch.ones(b)) for b in sizes[1:]])

    def forward(self, x):
        for layer, scale in zip(self.layers, self.scales):
            x = F.relu(layer(x) * scale)
        return x


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = ScaledMLP([64, 48, 32])
        self.heads = nn.ModuleDict({
            "digit": nn.Linear(32, 10),
            "parity": nn.Linear(32, 2),
            "big": nn.Sequential(nn.Linear(32, 8), nn.Tanh(), nn.Linear(8, 1)),
        })
        self.loss_weights = nn.ParameterDict({
            "digit": nn.Parameter(torch.zeros(())),
            "parity": nn.Parameter(torch.zeros(())),
        })
        self.register_buffer("input_mean", torch.zeros(64))
        self.register_buffer("steps", torch.tensor(0, dtype=torch.long))
        self.register_buffer("scratch", torch.zeros(3), persistent=False)

    def forward(self, x):
        h = self.trunk(x.flatten(1) - self.input_mean)
        return {name: head(h) for name, head in self.heads.items()}


def init_fn(m):
    if isinstance(m, nn.Linear):
        nn.init.xavier_uniform_(m.weight)
        nn.init.zeros_(m.bias)


def main(workdir):
    d = np.load(os.path.join(workdir, "digits.npz"))
    images = torch.from_numpy(d["images"][:512] / 16.0).float()
    labels = torch.from_numpy(d["labels"][:512]).long()
    log = []

    torch.manual_seed(123)
    a = Net().apply(init_fn)
    torch.manual_seed(123)
    b = Net().apply(init_fn)
    log.append({"same_init": all(torch.equal(p, q) for p, q in zip(a.parameters(),
                                                                   b.parameters()))})

    model = Net()
    sd = torch.load(os.path.join(workdir, "init.pt"), map_location="cpu")
    missing, unexpected = model.load_state_dict(sd, strict=False)
    log.append({"missing": list(missing), "unexpected": list(unexpected),
                "n_params": sum(p.numel() for p in model.parameters()),
                "n_trainable": sum(p.numel() for p in model.parameters() if p.requires_grad),
                "buffers": [n for n, _ in model.named_buffers()],
                "state_keys": list(model.state_dict().keys()),
                "children": [n for n, _ in model.named_children()],
                "n_modules": len(list(model.modules())),
                "linear_modules": [n for n, m in model.named_modules()
                                   if isinstance(m, nn.Linear)]})
    with torch.no_grad():
        model.input_mean.copy_(images.flatten(1).mean(0))

    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for epoch in range(3):
        if epoch == 2:   # freeze the trunk for the last epoch
            model.trunk.requires_grad_(False)
        for i in range(0, 512, 64):
            x, y = images[i:i + 64], labels[i:i + 64]
            out = model(x)
            losses = {
                "digit": F.cross_entropy(out["digit"], y),
                "parity": F.cross_entropy(out["parity"], y % 2),
            }
            big = F.binary_cross_entropy_with_logits(out["big"].squeeze(1), (y >= 5).float())
            loss = sum(torch.exp(-model.loss_weights[k]) * v + model.loss_weights[k]
                       for k, v in losses.items()) + big
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            model.steps += 1
            log.append({"loss": loss.item(), "digit": losses["digit"].item(),
                        "w_digit": model.loss_weights["digit"].item(),
                        "trunk_grad": model.trunk.layers[0].weight.grad is not None})

    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    buf.seek(0)
    clone = Net()
    clone.load_state_dict(torch.load(buf, weights_only=True))
    path = os.path.join(workdir, "model.pt")
    torch.save({"model": model.state_dict(), "epoch": 3}, path)
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    clone2 = Net()
    clone2.load_state_dict(ckpt["model"])
    with torch.no_grad():
        x = images[:16]
        ref = model(x)["digit"]
        log.append({"bytesio_equal": torch.equal(clone(x)["digit"], ref),
                    "file_equal": torch.allclose(clone2(x)["digit"], ref),
                    "epoch": ckpt["epoch"], "steps": int(clone2.steps),
                    "scratch_in_state": "scratch" in ckpt["model"],
                    "scale0": clone.trunk.scales[0].sum().item()})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
