# Two "maths with autograd" notebooks in one: a physics-informed network
# for u'' = -pi^2 sin(pi x) on [0, 1] with u(0) = u(1) = 0 (derivatives by
# torch.autograd.grad with create_graph=True, inputs made with
# torch.linspace(...).requires_grad_(True)), trained in double precision with
# Adam; and a RealNVP normalising flow on 2-D data (affine coupling layers
# with masks in buffers, log-determinants summed, the base density from
# torch.distributions.MultivariateNormal), trained by maximum likelihood.
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
from torch import distributions


class PINN(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(),
                                 nn.Linear(16, 1))

    def forward(self, x):
        return self.net(x)


class Coupling(nn.Module):
    def __init__(self, mask):
        super().__init__()
        self.register_buffer("mask", mask)
        self.s = nn.Sequential(nn.Linear(2, 16), nn.LeakyReLU(), nn.Linear(16, 2), nn.Tanh())
        self.t = nn.Sequential(nn.Linear(2, 16), nn.LeakyReLU(), nn.Linear(16, 2))

    def forward(self, x):
        x_masked = x * self.mask
        s = self.s(x_masked) * (1 - self.mask)
        t = self.t(x_masked) * (1 - self.mask)
        y = x_masked + (1 - self.mask) * (x * torch.exp(s) + t)
        return y, s.sum(dim=1)

    def inverse(self, y):
        y_masked = y * self.mask
        s = self.s(y_masked) * (1 - self.mask)
        t = self.t(y_masked) * (1 - self.mask)
        return y_masked + (1 - self.mask) * ((y - t) * torch.exp(-s))


class RealNVP(nn.Module):
    def __init__(self, n_layers=4):
        super().__init__()
        masks = [torch.tensor([1.0, 0.0]) if i % 2 == 0 else torch.tensor([0.0, 1.0])
                 for i in range(n_layers)]
        self.layers = nn.ModuleList([Coupling(m) for m in masks])
        self.prior = distributions.MultivariateNormal(torch.zeros(2), torch.eye(2))

    def forward(self, x):
        log_det = torch.zeros(x.shape[0])
        for layer in self.layers:
            x, ld = layer(x)
            log_det = log_det + ld
        return x, log_det

    def log_prob(self, x):
        z, log_det = self(x)
        return self.prior.log_prob(z) + log_det

    def inverse(self, z):
        for layer in reversed(self.layers):
            z = layer.inverse(z)
        return z


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.pinn = PINN()
        self.flow = RealNVP()


def moons(n, rng):
    t = rng.random(n) * math.pi
    upper = rng.random(n) < 0.5
    x = np.where(upper, np.cos(t), 1 - np.cos(t))
    y = np.where(upper, np.sin(t), 0.5 - np.sin(t))
    pts = np.stack([x, y], 1) + 0.05 * rng.standard_normal((n, 2))
    return torch.from_numpy(pts.astype(np.float32))


def main(workdir):
    both = Net()
    both.load_state_dict(torch.load(os.path.join(workdir, "init.pt"), map_location="cpu"))
    log = []

    pinn = both.pinn.double()
    x = torch.linspace(0, 1, 33, dtype=torch.float64).view(-1, 1).requires_grad_(True)
    f = -(math.pi ** 2) * torch.sin(math.pi * x.detach())
    bc = torch.tensor([[0.0], [1.0]], dtype=torch.float64)
    opt = torch.optim.Adam(pinn.parameters(), lr=1e-2)
    for step in range(40):
        opt.zero_grad()
        u = pinn(x)
        du = torch.autograd.grad(u, x, grad_outputs=torch.ones_like(u), create_graph=True)[0]
        d2u = torch.autograd.grad(du.sum(), x, create_graph=True)[0]
        residual = ((d2u - f) ** 2).mean()
        boundary = (pinn(bc) ** 2).mean()
        loss = residual + 10 * boundary
        loss.backward()
        opt.step()
        log.append({"loss": loss.item(), "part": "pinn"})
    with torch.no_grad():
        xt = torch.linspace(0, 1, 11, dtype=torch.float64).view(-1, 1)
        err = (pinn(xt) - torch.sin(math.pi * xt)).abs().max().item()
    log.append({"pinn_max_err": err, "dtype": str(next(pinn.parameters()).dtype)})

    flow = both.flow
    data = moons(512, np.random.default_rng(0))
    opt = torch.optim.Adam(flow.parameters(), lr=3e-3)
    for epoch in range(3):
        for i in range(0, 512, 128):
            opt.zero_grad()
            loss = -flow.log_prob(data[i:i + 128]).mean()
            loss.backward()
            opt.step()
            log.append({"loss": loss.item(), "part": "flow"})
    with torch.no_grad():
        z, _ = flow(data[:8])
        back = flow.inverse(z)
        log.append({"inverse_err": (back - data[:8]).abs().max().item() < 1e-4,
                    "nll": -flow.log_prob(data).mean().item(),
                    "buffers": [n for n, _ in flow.named_buffers()]})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
