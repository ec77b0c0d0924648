# A capsule network (Sabour et al., "Dynamic Routing Between Capsules") as
# the popular PyTorch re-implementations write it: primary capsules from a
# Conv2d reshaped to (batch, n_caps, dim), the squash non-linearity,
# prediction vectors u_hat = W @ u by torch.matmul broadcasting over 5-D
# tensors, three iterations of dynamic routing (softmax over the routes,
# agreement by torch.einsum, u_hat.detach() in the inner iterations), the
# margin loss, and a reconstruction decoder fed the capsule of the true
# class picked with a one-hot mask; Adam with ExponentialLR.
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def squash(s, dim=-1):
    squared_norm = (s ** 2).sum(dim=dim, keepdim=True)
    scale = squared_norm / (1 + squared_norm)
    return scale * s / torch.sqrt(squared_norm + 1e-8)


class Net(nn.Module):
    def __init__(self, in_caps=32, in_dim=4, out_caps=10, out_dim=8, routings=3):
        super().__init__()
        self.routings = routings
        self.conv1 = nn.Conv2d(1, 32, kernel_size=3)                       # 8x8 -> 6x6
        self.primary = nn.Conv2d(32, 8 * in_dim, kernel_size=3, stride=2)  # 6x6 -> 2x2
        self.in_dim = in_dim
        self.W = nn.Parameter(0.05 * torch.randn(1, in_caps, out_caps, out_dim, in_dim))
        self.decoder = nn.Sequential(nn.Linear(out_caps * out_dim, 64), nn.ReLU(inplace=True),
                                     nn.Linear(64, 64), nn.Sigmoid())

    def primary_caps(self, x):
        out = self.primary(x)                                   # B, 8*dim, 2, 2
        out = out.view(x.size(0), 8, self.in_dim, -1)           # B, 8, dim, 4
        out = out.permute(0, 1, 3, 2).contiguous().view(x.size(0), -1, self.in_dim)
        return squash(out)                                      # B, 32, dim

    def routing(self, u):
        # u: (B, in_caps, in_dim) -> u_hat: (B, in_caps, out_caps, out_dim)
        u_hat = torch.matmul(self.W, u[:, :, None, :, None]).squeeze(-1)
        u_hat_detached = u_hat.detach()
        b = torch.zeros(u.size(0), u.size(1), self.W.size(2))
        for i in range(self.routings):
            c = F.softmax(b, dim=2)                              # over the output capsules
            if i == self.routings - 1:
                s = torch.einsum("bij,bijd->bjd", c, u_hat)
                v = squash(s)
            else:
                s = (c.unsqueeze(-1) * u_hat_detached).sum(dim=1)
                v = squash(s)
                b = b + torch.einsum("bijd,bjd->bij", u_hat_detached, v)
        return v, c

    def forward(self, x, y=None):
        x = F.relu(self.conv1(x))
        v, c = self.routing(self.primary_caps(x))
        lengths = v.norm(dim=-1)
        if y is None:
            y = lengths.argmax(dim=1)
        mask = F.one_hot(y, num_classes=v.size(1)).float()
        recon = self.decoder((v * mask[:, :, None]).flatten(1))
        return lengths, recon, c


def margin_loss(lengths, target, m_pos=0.9, m_neg=0.1, lam=0.5):
    T = torch.zeros_like(lengths).scatter_(1, target.view(-1, 1), 1.0)
    L = T * torch.clamp(m_pos - lengths, min=0.) ** 2 + \
        lam * (1 - T) * torch.clamp(lengths - m_neg, min=0.) ** 2
    return L.sum(dim=1).mean()


def main(workdir):
    torch.manual_seed(0)
    d = np.load(os.path.join(workdir, "digits.npz"))
    images = torch.from_numpy(d["images"].astype(np.float32) / 16.0)
    labels = torch.from_numpy(d["labels"].astype(np.int64))
    model = Net()
    model.load_state_dict(torch.load(os.path.join(workdir, "init.pt"), map_location="cpu"))
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.9)
    log = []
    for epoch in range(3):
        model.train()
        for i in range(0, 512, 64):
            x, y = images[i:i + 64], labels[i:i + 64]
            lengths, recon, c = model(x, y)
            m_loss = margin_loss(lengths, y)
            r_loss = F.mse_loss(recon, x.view(x.size(0), -1), reduction="sum") / x.size(0)
            loss = m_loss + 0.0005 * 64 * r_loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            log.append({"loss": loss.item(), "margin": m_loss.item(),
                        "coupling_max": c.max().item(),
                        "acc": (lengths.argmax(1) == y).float().mean().item()})
        scheduler.step()
    model.eval()
    with torch.no_grad():
        lengths, recon, _ = model(images[1400:])
        log.append({"test_acc": (lengths.argmax(1) == labels[1400:]).float().mean().item(),
                    "recon_mean": recon.mean().item()})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
