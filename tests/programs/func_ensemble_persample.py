# The torch.func tutorials on the digits: per-sample gradients with
# vmap(grad(compute_loss), in_dims=(None, None, 0, 0)) over
# functional_call(model, (params, buffers), ...) used for DP-SGD-style
# training (each sample's gradient clipped to a norm, summed, Gaussian noise
# from a shared NumPy generator added, the update written with torch.no_grad);
# model ensembling with stack_module_state and vmap(fmodel, in_dims=(0, 0,
# None)) and with different minibatches per model (in_dims=(0, 0, 0)),
# trained through the stacked parameters with Adam; and the empirical NTK of
# two samples via vmap(jacrev(fnet_single)) and einsum.
import copy
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call, grad, jacrev, stack_module_state, vmap


class SimpleMLP(nn.Module):
    def __init__(self):
        super(SimpleMLP, self).__init__()
        self.fc1 = nn.Linear(64, 32)
        self.fc2 = nn.Linear(32, 16)
        self.fc3 = nn.Linear(16, 10)

    def forward(self, x):
        x = x.flatten(1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.fc2(x)
        x = F.relu(x)
        x = self.fc3(x)
        return x


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.dp = SimpleMLP()
        self.members = nn.ModuleList([SimpleMLP() for _ in range(4)])


def main(workdir):
    rng = np.random.default_rng(0)
    d = np.load(os.path.join(workdir, "digits.npz"))
    x = torch.from_numpy(d["images"].astype(np.float32) / 16.0)
    y = torch.from_numpy(d["labels"].astype(np.int64))
    net = Net()
    net.load_state_dict(torch.load(os.path.join(workdir, "init.pt"), map_location="cpu"))
    log = []

    # per-sample gradients, DP-SGD style
    model = net.dp
    params = {k: v.detach() for k, v in model.named_parameters()}
    buffers = {k: v.detach() for k, v in model.named_buffers()}

    def compute_loss(params, buffers, sample, target):
        batch = sample.unsqueeze(0)
        targets = target.unsqueeze(0)
        predictions = functional_call(model, (params, buffers), (batch,))
        loss = F.cross_entropy(predictions, targets)
        return loss

    ft_compute_grad = grad(compute_loss)
    ft_compute_sample_grad = vmap(ft_compute_grad, in_dims=(None, None, 0, 0))
    max_norm, sigma, lr = 1.0, 0.5, 0.5
    for step in range(10):
        data, targets = x[step * 32:(step + 1) * 32], y[step * 32:(step + 1) * 32]
        ft_per_sample_grads = ft_compute_sample_grad(params, buffers, data, targets)
        norms = torch.sqrt(sum(g.flatten(1).pow(2).sum(1) for g in ft_per_sample_grads.values()))
        factor = (max_norm / (norms + 1e-6)).clamp(max=1.0)
        with torch.no_grad():
            for k in params:
                g = ft_per_sample_grads[k]
                clipped = (g * factor.view(-1, *([1] * (g.dim() - 1)))).sum(0)
                noise = torch.from_numpy(rng.normal(0, sigma * max_norm, tuple(g.shape[1:]))
                                         .astype(np.float32))
                params[k] = params[k] - lr * (clipped + noise) / data.size(0)
            loss = F.cross_entropy(functional_call(model, (params, buffers), (data,)), targets)
        log.append({"loss": loss.item(), "norm_mean": norms.mean().item(),
                    "clipped_frac": (norms > max_norm).float().mean().item()})
    # the functional gradient of one sample is the module's own
    model.zero_grad()
    F.cross_entropy(model(x[:1]), y[:1]).backward()
    one = ft_compute_grad({k: v.detach() for k, v in model.named_parameters()}, buffers,
                          x[0], y[0])
    log.append({"loop_vs_vmap": (model.fc1.weight.grad - one["fc1.weight"]).abs().max().item()})

    # ensembling: stacked parameters, one vmap over the models
    models = list(net.members)
    ens_params, ens_buffers = stack_module_state(models)
    base_model = copy.deepcopy(models[0])

    def fmodel(params, buffers, x):
        return functional_call(base_model, (params, buffers), (x,))

    minibatch = x[1400:1464]
    predictions1_vmap = vmap(fmodel, in_dims=(0, 0, None))(ens_params, ens_buffers, minibatch)
    predictions_diff_minibatch_loop = [m(minibatch) for m in models]
    log.append({"same": torch.allclose(predictions1_vmap,
                                       torch.stack(predictions_diff_minibatch_loop),
                                       atol=1e-5, rtol=1e-5),
                "shape": list(predictions1_vmap.shape),
                "stacked_requires_grad": ens_params["fc1.weight"].requires_grad})
    optimizer = torch.optim.Adam(list(ens_params.values()), lr=1e-2)
    for step in range(12):
        idx = torch.from_numpy(rng.integers(0, 1400, (4, 32)))
        xb, yb = x[idx], y[idx]                          # a different batch per model
        out = vmap(fmodel, in_dims=(0, 0, 0))(ens_params, ens_buffers, xb)
        loss = F.cross_entropy(out.reshape(-1, 10), yb.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        log.append({"loss": loss.item(), "g": ens_params["fc3.bias"].grad.abs().sum().item()})
    with torch.no_grad():
        out = vmap(fmodel, in_dims=(0, 0, None))(ens_params, ens_buffers, x[1400:])
        member_acc = (out.argmax(2) == y[1400:]).float().mean(1)
        ens_acc = (out.softmax(2).mean(0).argmax(1) == y[1400:]).float().mean()
    log.append({"member_acc": member_acc.mean().item(), "ens_acc": ens_acc.item()})

    # the empirical NTK of the first member
    net0 = models[0]
    p0 = {k: v.detach() for k, v in net0.named_parameters()}

    def fnet_single(params, x):
        return functional_call(net0, params, (x.unsqueeze(0),)).squeeze(0)

    jac1 = vmap(jacrev(fnet_single), (None, 0))(p0, x[:3])
    jac1 = [j.flatten(2) for j in jac1.values()]
    jac2 = vmap(jacrev(fnet_single), (None, 0))(p0, x[3:5])
    jac2 = [j.flatten(2) for j in jac2.values()]
    result = torch.stack([torch.einsum("Naf,Mbf->NMab", j1, j2) for j1, j2 in zip(jac1, jac2)])
    result = result.sum(0)
    log.append({"ntk_shape": list(result.shape), "ntk_trace": torch.einsum("NMaa->", result).item(),
                "ntk_00": result[0, 0].sum().item()})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
