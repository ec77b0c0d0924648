# A small Glow (Kingma & Dhariwal) on the digits as the glow-pytorch
# re-implementations write it: squeeze by view/permute, ActNorm whose scale
# and bias are initialised from the first batch (an "initialized" uint8
# buffer, fill_ / copy_ under torch.no_grad), the invertible 1x1 convolution
# with a random rotation from torch.linalg.qr, its log-determinant from
# torch.slogdet times the spatial size and its inverse from weight.inverse()
# for sampling, and its LU-decomposed form (torch.linalg.lu_factor +
# torch.lu_unpack at init; P, masks and signs in buffers; log|det| from
# the diagonal), affine coupling with a zero-initialised last conv and a
# sigmoid scale, a Normal prior, bits per dimension with dequantisation
# noise, Adam, and reconstruction through the reverse pass.
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Normal

logabs = lambda x: torch.log(torch.abs(x))


class ActNorm(nn.Module):
    def __init__(self, in_channel):
        super().__init__()
        self.loc = nn.Parameter(torch.zeros(1, in_channel, 1, 1))
        self.scale = nn.Parameter(torch.ones(1, in_channel, 1, 1))
        self.register_buffer("initialized", torch.tensor(0, dtype=torch.uint8))

    def initialize(self, input):
        with torch.no_grad():
            flatten = input.permute(1, 0, 2, 3).contiguous().view(input.shape[1], -1)
            mean = flatten.mean(1).unsqueeze(1).unsqueeze(2).unsqueeze(3).permute(1, 0, 2, 3)
            std = flatten.std(1).unsqueeze(1).unsqueeze(2).unsqueeze(3).permute(1, 0, 2, 3)
            self.loc.data.copy_(-mean)
            self.scale.data.copy_(1 / (std + 1e-6))

    def forward(self, input):
        _, _, height, width = input.shape
        if self.initialized.item() == 0:
            self.initialize(input)
            self.initialized.fill_(1)
        log_abs = logabs(self.scale)
        logdet = height * width * torch.sum(log_abs)
        return self.scale * (input + self.loc), logdet

    def reverse(self, output):
        return output / self.scale - self.loc


class InvConv2d(nn.Module):
    def __init__(self, in_channel, seed):
        super().__init__()
        g = np.random.default_rng(seed).standard_normal((in_channel, in_channel))
        q, _ = torch.linalg.qr(torch.from_numpy(g.astype(np.float32)))
        self.weight = nn.Parameter(q.unsqueeze(2).unsqueeze(3))

    def forward(self, input):
        _, _, height, width = input.shape
        out = F.conv2d(input, self.weight)
        logdet = height * width * torch.slogdet(self.weight.squeeze().double())[1].float()
        return out, logdet

    def reverse(self, output):
        return F.conv2d(output, self.weight.squeeze().inverse().unsqueeze(2).unsqueeze(3))


class InvConv2dLU(nn.Module):
    def __init__(self, in_channel, seed):
        super().__init__()
        g = np.random.default_rng(seed).standard_normal((in_channel, in_channel))
        q, _ = torch.linalg.qr(torch.from_numpy(g.astype(np.float32)))
        w_p, w_l, w_u = torch.lu_unpack(*torch.linalg.lu_factor(q))
        w_s = torch.diag(w_u)
        w_u = torch.triu(w_u, 1)
        u_mask = torch.triu(torch.ones_like(w_u), 1)
        l_mask = u_mask.T
        self.register_buffer("w_p", w_p)
        self.register_buffer("u_mask", u_mask)
        self.register_buffer("l_mask", l_mask)
        self.register_buffer("s_sign", torch.sign(w_s))
        self.register_buffer("l_eye", torch.eye(l_mask.shape[0]))
        self.w_l = nn.Parameter(w_l)
        self.w_s = nn.Parameter(logabs(w_s))
        self.w_u = nn.Parameter(w_u)

    def calc_weight(self):
        weight = self.w_p @ (self.w_l * self.l_mask + self.l_eye) @ (
            (self.w_u * self.u_mask) + torch.diag(self.s_sign * torch.exp(self.w_s)))
        return weight.unsqueeze(2).unsqueeze(3)

    def forward(self, input):
        _, _, height, width = input.shape
        out = F.conv2d(input, self.calc_weight())
        return out, height * width * torch.sum(self.w_s)

    def reverse(self, output):
        weight = self.calc_weight()
        return F.conv2d(output, weight.squeeze().inverse().unsqueeze(2).unsqueeze(3))


class AffineCoupling(nn.Module):
    def __init__(self, in_channel, filter_size=32):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(in_channel // 2, filter_size, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(filter_size, filter_size, 1), nn.ReLU(inplace=True),
            nn.Conv2d(filter_size, in_channel, 3, padding=1))
        self.net[0].weight.data.normal_(0, 0.05)
        self.net[0].bias.data.zero_()
        self.net[2].weight.data.normal_(0, 0.05)
        self.net[2].bias.data.zero_()
        self.net[4].weight.data.zero_()
        self.net[4].bias.data.zero_()

    def forward(self, input):
        in_a, in_b = input.chunk(2, 1)
        log_s, t = self.net(in_a).chunk(2, 1)
        s = torch.sigmoid(log_s + 2)
        out_b = (in_b + t) * s
        logdet = torch.sum(torch.log(s).view(input.shape[0], -1), 1)
        return torch.cat([in_a, out_b], 1), logdet

    def reverse(self, output):
        out_a, out_b = output.chunk(2, 1)
        log_s, t = self.net(out_a).chunk(2, 1)
        s = torch.sigmoid(log_s + 2)
        return torch.cat([out_a, out_b / s - t], 1)


class Net(nn.Module):
    def __init__(self, n_flow=4, in_channel=1):
        super().__init__()
        squeeze_dim = in_channel * 4
        self.flows = nn.ModuleList()
        for i in range(n_flow):
            inv = InvConv2dLU(squeeze_dim, seed=i) if i % 2 else InvConv2d(squeeze_dim, seed=i)
            self.flows.extend([ActNorm(squeeze_dim), inv, AffineCoupling(squeeze_dim)])

    @staticmethod
    def squeeze(x):
        b, c, h, w = x.shape
        x = x.view(b, c, h // 2, 2, w // 2, 2).permute(0, 1, 3, 5, 2, 4)
        return x.contiguous().view(b, c * 4, h // 2, w // 2)

    @staticmethod
    def unsqueeze(x):
        b, c, h, w = x.shape
        x = x.view(b, c // 4, 2, 2, h, w).permute(0, 1, 4, 2, 5, 3)
        return x.contiguous().view(b, c // 4, h * 2, w * 2)

    def forward(self, x):
        out = self.squeeze(x)
        logdet = 0
        for flow in self.flows:
            out, det = flow(out)
            logdet = logdet + det
        prior = Normal(torch.zeros_like(out), torch.ones_like(out))
        log_p = prior.log_prob(out).view(x.shape[0], -1).sum(1)
        return log_p, logdet, out

    def reverse(self, z):
        for flow in self.flows[::-1]:
            z = flow.reverse(z)
        return self.unsqueeze(z)


def main(workdir):
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    d = np.load(os.path.join(workdir, "digits.npz"))
    images = torch.from_numpy(d["images"].astype(np.float32) / 16.0 - 0.5)
    n_bins, n_pixel = 16.0, 64
    model = Net()
    model.load_state_dict(torch.load(os.path.join(workdir, "init.pt"), map_location="cpu"))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    log = []
    for epoch in range(3):
        for i in range(0, 512, 64):
            image = images[i:i + 64]
            noise = torch.from_numpy(rng.uniform(0, 1 / n_bins, image.shape).astype(np.float32))
            log_p, logdet, _ = model(image + noise)
            logdet = logdet.mean()
            loss = -math.log(n_bins) * n_pixel + logdet + log_p.mean()
            loss = (-loss / (math.log(2) * n_pixel))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            log.append({"loss": loss.item(), "logdet": logdet.item() / n_pixel,
                        "log_p": log_p.mean().item() / n_pixel})
    with torch.no_grad():
        _, _, z = model(images[1400:1432])
        recon = model.reverse(z)
        z_sample = torch.from_numpy(rng.standard_normal((4, 4, 4, 4)).astype(np.float32)) * 0.7
        sample = model.reverse(z_sample)
    log.append({"recon_err_small": (recon - images[1400:1432]).abs().max().item() < 1e-3,
                "actnorm_init": int(model.flows[0].initialized.item()),
                "sample_mean": sample.mean().item(), "sample_std": sample.std().item(),
                "z_std": z.std().item()})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
