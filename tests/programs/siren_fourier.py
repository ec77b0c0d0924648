# Implicit neural representations of an image, as the SIREN (Sitzmann et
# al.) and Fourier-features (Tancik et al.) notebooks write them: pixel
# coordinates from torch.linspace + torch.meshgrid(indexing="ij") stacked
# and reshaped to (N, 2); a SIREN with sin(omega_0 * Wx + b) layers and its
# special uniform_ init under torch.no_grad(); a ReLU MLP on Fourier
# features [sin(2 pi x B), cos(2 pi x B)] with a fixed Gaussian matrix B in
# a buffer; both fitted to an upsampled digit with Adam; the SIREN's
# image gradient and Laplacian from torch.autograd.grad (create_graph=True),
# PSNR, and the fits evaluated on a finer grid.
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class SineLayer(nn.Module):
    def __init__(self, in_features, out_features, bias=True, is_first=False, omega_0=30):
        super().__init__()
        self.omega_0 = omega_0
        self.is_first = is_first
        self.in_features = in_features
        self.linear = nn.Linear(in_features, out_features, bias=bias)
        self.init_weights()

    def init_weights(self):
        with torch.no_grad():
            if self.is_first:
                self.linear.weight.uniform_(-1 / self.in_features, 1 / self.in_features)
            else:
                self.linear.weight.uniform_(-np.sqrt(6 / self.in_features) / self.omega_0,
                                            np.sqrt(6 / self.in_features) / self.omega_0)

    def forward(self, input):
        return torch.sin(self.omega_0 * self.linear(input))


class Siren(nn.Module):
    def __init__(self, in_features=2, hidden_features=32, hidden_layers=2, out_features=1,
                 first_omega_0=30, hidden_omega_0=30.):
        super().__init__()
        self.net = [SineLayer(in_features, hidden_features, is_first=True, omega_0=first_omega_0)]
        for i in range(hidden_layers):
            self.net.append(SineLayer(hidden_features, hidden_features, omega_0=hidden_omega_0))
        final_linear = nn.Linear(hidden_features, out_features)
        with torch.no_grad():
            final_linear.weight.uniform_(-np.sqrt(6 / hidden_features) / hidden_omega_0,
                                         np.sqrt(6 / hidden_features) / hidden_omega_0)
        self.net.append(final_linear)
        self.net = nn.Sequential(*self.net)

    def forward(self, coords):
        coords = coords.clone().detach().requires_grad_(True)
        return self.net(coords), coords


class FourierMLP(nn.Module):
    def __init__(self, n_freq=16, scale=3.0, hidden=64):
        super().__init__()
        B = np.random.default_rng(0).normal(0, scale, (2, n_freq)).astype(np.float32)
        self.register_buffer("B", torch.from_numpy(B))
        self.mlp = nn.Sequential(nn.Linear(2 * n_freq, hidden), nn.ReLU(),
                                 nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, x):
        x_proj = (2. * np.pi * x) @ self.B
        return self.mlp(torch.cat([torch.sin(x_proj), torch.cos(x_proj)], dim=-1))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.siren = Siren()
        self.ff = FourierMLP()


def get_mgrid(sidelen, dim=2):
    tensors = tuple(dim * [torch.linspace(-1, 1, steps=sidelen)])
    mgrid = torch.stack(torch.meshgrid(*tensors, indexing="ij"), dim=-1)
    return mgrid.reshape(-1, dim)


def gradient(y, x, grad_outputs=None):
    if grad_outputs is None:
        grad_outputs = torch.ones_like(y)
    return torch.autograd.grad(y, [x], grad_outputs=grad_outputs, create_graph=True)[0]


def divergence(y, x):
    div = 0.
    for i in range(y.shape[-1]):
        div += torch.autograd.grad(y[..., i], x, torch.ones_like(y[..., i]),
                                   create_graph=True)[0][..., i:i + 1]
    return div


def main(workdir):
    torch.manual_seed(0)
    d = np.load(os.path.join(workdir, "digits.npz"))
    digit = torch.from_numpy(d["images"][0:1].astype(np.float32) / 16.0)
    img = F.interpolate(digit, size=(16, 16), mode="bilinear", align_corners=True)
    pixels = (img * 2 - 1).permute(0, 2, 3, 1).reshape(-1, 1)
    coords = get_mgrid(16)
    model = Net()
    model.load_state_dict(torch.load(os.path.join(workdir, "init.pt"), map_location="cpu"))
    opt_s = torch.optim.Adam(model.siren.parameters(), lr=1e-3)
    opt_f = torch.optim.Adam(model.ff.parameters(), lr=3e-3)
    log = []
    for step in range(40):
        out, coords_in = model.siren(coords)
        loss_s = ((out - pixels) ** 2).mean()
        opt_s.zero_grad()
        loss_s.backward()
        opt_s.step()
        loss_f = F.mse_loss(model.ff(coords), pixels)
        opt_f.zero_grad()
        loss_f.backward()
        opt_f.step()
        if step % 2 == 0:
            log.append({"loss": loss_s.item(), "loss_ff": loss_f.item()})
    out, coords_in = model.siren(coords)
    img_grad = gradient(out, coords_in)
    img_laplacian = divergence(img_grad, coords_in)
    with torch.no_grad():
        fine = get_mgrid(32)
        fine_s = model.siren.net(fine)
        fine_f = model.ff(fine)
    log.append({"psnr_siren": (10 * torch.log10(4 / F.mse_loss(out, pixels))).item(),
                "psnr_ff": (10 * torch.log10(4 / F.mse_loss(model.ff(coords), pixels))).item(),
                "grad_norm_mean": img_grad.norm(dim=-1).mean().item(),
                "laplacian_abs_mean": img_laplacian.abs().mean().item(),
                "fine_corr": torch.corrcoef(torch.stack([fine_s[:, 0], fine_f[:, 0]]))[0, 1].item(),
                "coords_shape": list(coords.shape)})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
