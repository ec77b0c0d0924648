# The pruning tutorial's steps inside a training loop: a LeNet-style net on
# the digits, trained, then pruned with prune.l1_unstructured and
# prune.ln_structured (the weight_orig / weight_mask pair, named_buffers, the
# forward_pre_hook, iterative pruning recorded in a PruningContainer),
# global_unstructured over several layers, fine-tuned with the masks in
# place, and made permanent with prune.remove; a custom pruning method
# (a BasePruningMethod subclass with PRUNING_TYPE and compute_mask); then
# parametrizations: weight_norm and spectral_norm from
# torch.nn.utils.parametrizations, a hand-written parametrization registered
# with parametrize.register_parametrization (symmetric weights), its
# original tensor, cached(), and remove_parametrizations(leave_parametrized=True).
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.nn.utils.parametrize as parametrize
import torch.nn.utils.prune as prune
from torch.nn.utils.parametrizations import spectral_norm, weight_norm


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 6, 3, padding=1)
        self.conv2 = nn.Conv2d(6, 12, 3)
        self.fc1 = nn.Linear(12 * 2 * 2, 32)
        self.fc2 = nn.Linear(32, 24)
        self.fc3 = nn.Linear(24, 10)
        # a head with a spectrally normalised weight, used after pruning
        self.proj = spectral_norm(nn.Linear(10, 10))

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 1)
        x = x.view(-1, int(x.nelement() / x.shape[0]))
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


class FooBarPruningMethod(prune.BasePruningMethod):
    """Prune every other entry in a tensor"""
    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t, default_mask):
        mask = default_mask.clone()
        mask.view(-1)[::2] = 0
        return mask


def foobar_unstructured(module, name):
    FooBarPruningMethod.apply(module, name)
    return module


class Symmetric(nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).transpose(-1, -2)


def sparsity(t):
    return float(torch.sum(t == 0)) / float(t.nelement())


def train(model, optimizer, x, y, log, steps, tag):
    for i in range(steps):
        xb, yb = x[(i % 8) * 64:(i % 8 + 1) * 64], y[(i % 8) * 64:(i % 8 + 1) * 64]
        optimizer.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        optimizer.step()
        log.append({"phase": tag, "loss": loss.item()})


def main(workdir):
    d = np.load(os.path.join(workdir, "digits.npz"))
    x = torch.from_numpy(d["images"].astype(np.float32) / 16.0)
    y = torch.from_numpy(d["labels"].astype(np.int64))
    model = Net()
    model.load_state_dict(torch.load(os.path.join(workdir, "init.pt"), map_location="cpu"))
    log = []
    train(model, torch.optim.Adam(model.parameters(), lr=1e-2), x, y, log, 16, "dense")

    module = model.conv1
    prune.random_unstructured(module, name="weight", amount=0.0)
    prune.l1_unstructured(module, name="bias", amount=3)
    prune.ln_structured(module, name="weight", amount=0.5, n=2, dim=0)
    log.append({"named_buffers": [n for n, _ in module.named_buffers()],
                "named_params": [n for n, _ in module.named_parameters()],
                "hooks": len(module._forward_pre_hooks),
                "history": [[type(m).__name__ for m in hook] for hook in
                            module._forward_pre_hooks.values()
                            if isinstance(hook, prune.PruningContainer)],
                "conv1_sparsity": sparsity(module.weight), "bias_zero": sparsity(module.bias)})

    parameters_to_prune = (
        (model.conv2, "weight"),
        (model.fc1, "weight"),
        (model.fc2, "weight"),
        (model.fc3, "weight"),
    )
    prune.global_unstructured(parameters_to_prune, pruning_method=prune.L1Unstructured,
                              amount=0.4)
    foobar_unstructured(model.fc3, name="bias")
    log.append({"s_conv2": sparsity(model.conv2.weight), "s_fc1": sparsity(model.fc1.weight),
                "s_fc2": sparsity(model.fc2.weight), "s_fc3": sparsity(model.fc3.weight),
                "fc3_bias_mask": model.fc3.bias_mask.tolist(),
                "is_pruned": prune.is_pruned(model)})

    # fine-tune with the masks in place: the pruned weights stay zero
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    train(model, optimizer, x, y, log, 8, "pruned")
    log.append({"still_sparse": sparsity(model.fc1.weight),
                "orig_nonzero": float((model.fc1.weight_orig != 0).float().mean())})
    for m, name in parameters_to_prune + ((model.conv1, "weight"), (model.conv1, "bias"),
                                          (model.fc3, "bias")):
        prune.remove(m, name)
    log.append({"keys": sorted(model.state_dict().keys()), "is_pruned": prune.is_pruned(model),
                "s_total": sum(float(torch.sum(m.weight == 0)) for m in model.modules()
                               if isinstance(m, (nn.Conv2d, nn.Linear)))})

    # parametrizations
    model.fc1 = weight_norm(model.fc1)
    layer = nn.Linear(10, 10)
    with torch.no_grad():
        layer.weight.copy_(torch.linspace(-1, 1, 100).view(10, 10))
        layer.bias.zero_()
    parametrize.register_parametrization(layer, "weight", Symmetric())
    model.head = layer
    A = layer.weight
    log.append({"symmetric": bool(torch.allclose(A, A.T)),
                "original_sum": layer.parametrizations.weight.original.abs().sum().item(),
                "is_param": parametrize.is_parametrized(model.fc1),
                "wn_g": model.fc1.parametrizations.weight.original0.sum().item(),
                "wn_keys": sorted(k for k in model.state_dict() if k.startswith(("fc", "proj")))})

    def forward(xb):
        return model.head(model.proj(model(xb)))

    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for i in range(8):
        xb, yb = x[i * 64:(i + 1) * 64], y[i * 64:(i + 1) * 64]
        optimizer.zero_grad()
        with parametrize.cached():
            loss = F.cross_entropy(forward(xb), yb)
        loss.backward()
        optimizer.step()
        log.append({"phase": "param", "loss": loss.item(),
                    "sym_err": (layer.weight - layer.weight.T).abs().max().item()})
    parametrize.remove_parametrizations(layer, "weight", leave_parametrized=True)
    parametrize.remove_parametrizations(model.fc1, "weight")
    log.append({"head_is_param": isinstance(layer.weight, nn.Parameter),
                "head_sym": bool(torch.equal(layer.weight, layer.weight.T)),
                "fc1_plain": not parametrize.is_parametrized(model.fc1),
                "proj_sn": parametrize.is_parametrized(model.proj, "weight"),
                "sigma": torch.linalg.matrix_norm(model.proj.weight, ord=2).item()})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
