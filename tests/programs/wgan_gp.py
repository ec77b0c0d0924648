# WGAN-GP on 2-D data as in the improved-WGAN notebooks: the gradient penalty
# from torch.autograd.grad(create_graph=True, grad_outputs=ones_like) on
# interpolates, several critic steps per generator step, Adam with
# betas=(0.5, 0.9), plus a second critic wrapped in
# nn.utils.parametrizations.spectral_norm trained with the hinge loss.
# Noise: torch.randn (shared by the harness); the interpolation weights come
# from a NumPy generator.
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
from torch.nn.utils.parametrizations import spectral_norm

Z = 4


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(Z, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(),
                                 nn.Linear(32, 2))

    def forward(self, z):
        return self.net(z)


class Critic(nn.Module):
    def __init__(self, sn=False):
        super().__init__()
        wrap = spectral_norm if sn else (lambda m: m)
        self.net = nn.Sequential(wrap(nn.Linear(2, 32)), nn.LeakyReLU(0.2),
                                 wrap(nn.Linear(32, 32)), nn.LeakyReLU(0.2),
                                 wrap(nn.Linear(32, 1)))

    def forward(self, x):
        return self.net(x).view(-1)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.G = Generator()
        self.D = Critic()
        self.D_sn = Critic(sn=True)


def gradient_penalty(critic, real, fake, alpha):
    interpolates = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    d_interpolates = critic(interpolates)
    gradients = torch.autograd.grad(outputs=d_interpolates, inputs=interpolates,
                                    grad_outputs=torch.ones_like(d_interpolates),
                                    create_graph=True, retain_graph=True, only_inputs=True)[0]
    return ((gradients.norm(2, dim=1) - 1) ** 2).mean()


def ring(n, rng):
    theta = rng.integers(0, 8, n) * (np.pi / 4)
    pts = np.stack([np.cos(theta), np.sin(theta)], 1) * 2
    return torch.from_numpy((pts + 0.05 * rng.standard_normal((n, 2))).astype(np.float32))


def main(workdir):
    rng = np.random.default_rng(0)
    both = Net()
    both.load_state_dict(torch.load(os.path.join(workdir, "init.pt"), map_location="cpu"))
    G, D, D_sn = both.G, both.D, both.D_sn
    optG = torch.optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.9))
    optD = torch.optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.9))
    optS = torch.optim.Adam(D_sn.parameters(), lr=1e-3, betas=(0.0, 0.9))
    log = []
    for it in range(12):
        for _ in range(3):
            real = ring(64, rng)
            alpha = torch.from_numpy(rng.random((64, 1)).astype(np.float32))
            fake = G(torch.randn(64, Z)).detach()
            optD.zero_grad()
            gp = gradient_penalty(D, real, fake, alpha)
            d_loss = D(fake).mean() - D(real).mean() + 10 * gp
            d_loss.backward()
            optD.step()
            optS.zero_grad()
            s_loss = torch.relu(1.0 - D_sn(real)).mean() + torch.relu(1.0 + D_sn(fake)).mean()
            s_loss.backward()
            optS.step()
        optG.zero_grad()
        fake = G(torch.randn(64, Z))
        g_loss = -D(fake).mean() - 0.1 * D_sn(fake).mean()
        g_loss.backward()
        optG.step()
        log.append({"loss": d_loss.item(), "gp": gp.item(), "g": g_loss.item(),
                    "hinge": s_loss.item()})
    with torch.no_grad():
        D_sn.eval()
        w = D_sn.net[0].weight
        sigma = torch.linalg.matrix_norm(w, ord=2).item()
    log.append({"sn_sigma": sigma,
                "sn_keys": sorted(k for k in D_sn.state_dict() if "parametrizations" in k)})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
