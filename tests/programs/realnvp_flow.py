# A RealNVP normalising flow on 2-D data (two moons), as in the flow
# tutorials: affine coupling layers whose alternating binary masks are
# registered buffers, scale (tanh) and translation nets, the log-determinant
# accumulated over the layers, a torch.distributions.MultivariateNormal base
# (and the same density from Independent(Normal)), the negative
# log-likelihood trained with Adam, then sampling by inverting the flow and
# checking that the inverse undoes the forward map.
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
from torch import distributions


def make_moons(n, rng, noise=0.05):
    t = rng.uniform(0, math.pi, n)
    upper = np.stack([np.cos(t), np.sin(t)], 1)
    lower = np.stack([1 - np.cos(t), 0.5 - np.sin(t)], 1)
    which = rng.integers(0, 2, n)[:, None]
    x = np.where(which == 1, upper, lower) + rng.normal(0, noise, (n, 2))
    return ((x - [0.5, 0.25]) / 0.8).astype(np.float32)


class Net(nn.Module):
    def __init__(self, n_layers=6, hidden=32):
        super().__init__()
        masks = torch.tensor([[0.0, 1.0], [1.0, 0.0]] * (n_layers // 2))
        self.register_buffer("mask", masks)
        self.prior_loc = nn.Parameter(torch.zeros(2), requires_grad=False)
        self.s = nn.ModuleList([nn.Sequential(
            nn.Linear(2, hidden), nn.LeakyReLU(), nn.Linear(hidden, hidden), nn.LeakyReLU(),
            nn.Linear(hidden, 2), nn.Tanh()) for _ in range(n_layers)])
        self.t = nn.ModuleList([nn.Sequential(
            nn.Linear(2, hidden), nn.LeakyReLU(), nn.Linear(hidden, hidden), nn.LeakyReLU(),
            nn.Linear(hidden, 2)) for _ in range(n_layers)])

    @property
    def prior(self):
        return distributions.MultivariateNormal(self.prior_loc, torch.eye(2))

    def g(self, z):
        """Latent -> data: the inverse of f."""
        x = z
        for i in reversed(range(len(self.t))):
            m = self.mask[i]
            x_ = x * m
            s = self.s[i](x_) * (1 - m)
            t = self.t[i](x_) * (1 - m)
            x = x_ + (1 - m) * ((x - t) * torch.exp(-s))
        return x

    def f(self, x):
        """Data -> latent, and log|det df/dx| per sample."""
        log_det_J, z = x.new_zeros(x.shape[0]), x
        for i in range(len(self.t)):
            m = self.mask[i]
            z_ = m * z
            s = self.s[i](z_) * (1 - m)
            t = self.t[i](z_) * (1 - m)
            z = z_ + (1 - m) * (z * torch.exp(s) + t)
            log_det_J += s.sum(dim=1)
        return z, log_det_J

    def log_prob(self, x):
        z, logp = self.f(x)
        return self.prior.log_prob(z) + logp

    def sample(self, batch_size):
        z = self.prior.sample((batch_size,))
        return self.g(z)


def main(workdir):
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    data = torch.from_numpy(make_moons(1024, rng))
    flow = Net()
    flow.load_state_dict(torch.load(os.path.join(workdir, "init.pt"), map_location="cpu"))
    optimizer = torch.optim.Adam([p for p in flow.parameters() if p.requires_grad], lr=3e-3)
    log = [{"n_params": sum(p.numel() for p in flow.parameters() if p.requires_grad),
            "buffers": [name for name, _ in flow.named_buffers()]}]
    for epoch in range(4):
        for i in range(0, 1024, 128):
            x = data[i:i + 128]
            loss = -flow.log_prob(x).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            log.append({"loss": loss.item()})
    base = distributions.Independent(distributions.Normal(torch.zeros(2), torch.ones(2)), 1)
    with torch.no_grad():
        z, logdet = flow.f(data[:256])
        x_back = flow.g(z)
        lp_mvn = flow.prior.log_prob(z)
        lp_ind = base.log_prob(z)
        samples = flow.sample(512)
    log.append({"inverse_err_small": (x_back - data[:256]).abs().max().item() < 1e-4,
                "logdet_mean": logdet.mean().item(),
                "prior_agree": torch.allclose(lp_mvn, lp_ind, atol=1e-5),
                "entropy": flow.prior.entropy().item(),
                "sample_shape": list(samples.shape),
                "sample_finite": bool(torch.isfinite(samples).all()),
                "test_nll": -flow.log_prob(data[768:]).mean().item()})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
