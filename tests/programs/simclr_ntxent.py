# SimCLR-style contrastive pre-training as the self-supervised repositories
# write it: two augmented views per digit (random shifts by torch.roll, noise,
# erasing a patch by index assignment), an encoder + projection head, the
# NT-Xent loss three ways -- the similarity matrix of F.normalize'd
# projections divided by a temperature, self-similarities masked with
# masked_fill(-inf) (and, in the second form, torch.finfo(dtype).min),
# positives found with torch.arange and roll, F.cross_entropy on the logits;
# and the InfoNCE form with positives from sim[mask].view and
# torch.cat([positives, negatives]) against zero labels -- all three equal;
# SGD with momentum (SimCLR's optimiser family; convolutions without bias
# before BatchNorm); then a linear probe on the frozen features (computed
# under torch.no_grad) with a cosine schedule.
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self, feat_dim=32, proj_dim=16):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(inplace=True),
            nn.Conv2d(16, 32, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(32),
            nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, feat_dim))
        self.projector = nn.Sequential(nn.Linear(feat_dim, feat_dim), nn.ReLU(),
                                       nn.Linear(feat_dim, proj_dim))
        self.probe = nn.Linear(feat_dim, 10)

    def forward(self, x):
        h = self.encoder(x)
        return h, self.projector(h)


def augment(x, rng):
    n = x.size(0)
    out = x.clone()
    shifts = rng.integers(-1, 2, (n, 2))
    for i in range(n):
        out[i] = torch.roll(out[i], shifts=(int(shifts[i, 0]), int(shifts[i, 1])), dims=(1, 2))
    r0 = rng.integers(0, 6, n)
    c0 = rng.integers(0, 6, n)
    for i in range(n):
        out[i, :, r0[i]:r0[i] + 2, c0[i]:c0[i] + 2] = 0.0
    noise = torch.from_numpy(rng.normal(0, 0.05, x.shape).astype(np.float32))
    return (out + noise).clamp(0.0, 1.0)


def nt_xent(z1, z2, temperature=0.5):
    """The SimCLR loss: 2N views, each view's positive is its pair."""
    z = F.normalize(torch.cat([z1, z2], dim=0), dim=1)
    n = z1.size(0)
    sim = torch.matmul(z, z.T) / temperature
    self_mask = torch.eye(2 * n, dtype=torch.bool, device=z.device)
    sim = sim.masked_fill(self_mask, float("-inf"))
    targets = torch.arange(2 * n, device=z.device)
    targets = (targets + n) % (2 * n)
    return F.cross_entropy(sim, targets)


def nt_xent_finfo(z1, z2, temperature=0.5):
    z = F.normalize(torch.cat([z1, z2]), p=2, dim=-1)
    n = z1.shape[0]
    sim = F.cosine_similarity(z.unsqueeze(1), z.unsqueeze(0), dim=-1) / temperature
    sim.masked_fill_(torch.eye(2 * n, dtype=torch.bool), torch.finfo(sim.dtype).min)
    labels = torch.roll(torch.arange(2 * n), shifts=n)
    return F.cross_entropy(sim, labels, reduction="sum") / (2 * n)


def info_nce(features, batch_size, temperature=0.5):
    """The InfoNCE form: positives first, then negatives, label 0."""
    labels = torch.cat([torch.arange(batch_size) for i in range(2)], dim=0)
    labels = (labels.unsqueeze(0) == labels.unsqueeze(1)).float()
    features = F.normalize(features, dim=1)
    similarity_matrix = torch.matmul(features, features.T)
    # discard the main diagonal from both: labels and similarities matrix
    mask = torch.eye(labels.shape[0], dtype=torch.bool)
    labels = labels[~mask].view(labels.shape[0], -1)
    similarity_matrix = similarity_matrix[~mask].view(similarity_matrix.shape[0], -1)
    # select and combine multiple positives
    positives = similarity_matrix[labels.bool()].view(labels.shape[0], -1)
    # select only the negatives the negatives
    negatives = similarity_matrix[~labels.bool()].view(similarity_matrix.shape[0], -1)
    logits = torch.cat([positives, negatives], dim=1)
    labels = torch.zeros(logits.shape[0], dtype=torch.long)
    logits = logits / temperature
    return F.cross_entropy(logits, labels), logits


def main(workdir):
    rng = np.random.default_rng(0)
    d = np.load(os.path.join(workdir, "digits.npz"))
    x = torch.from_numpy(d["images"].astype(np.float32) / 16.0)
    y = torch.from_numpy(d["labels"].astype(np.int64))
    model = Net()
    model.load_state_dict(torch.load(os.path.join(workdir, "init.pt"), map_location="cpu"))
    params = list(model.encoder.parameters()) + list(model.projector.parameters())
    optimizer = torch.optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=1e-6)
    log = []
    bs = 64
    for step in range(20):
        xb = x[step * bs:(step + 1) * bs]
        v1, v2 = augment(xb, rng), augment(xb, rng)
        _, z1 = model(v1)
        _, z2 = model(v2)
        loss = nt_xent(z1, z2)
        with torch.no_grad():
            alt = nt_xent_finfo(z1, z2)
            nce, logits = info_nce(torch.cat([z1, z2]), bs)
            top1 = (logits.argmax(1) == 0).float().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        log.append({"loss": loss.item(), "finfo": alt.item(), "info_nce": nce.item(),
                    "top1": top1.item(), "logits_shape": list(logits.shape)})

    # linear evaluation on frozen features
    model.eval()
    with torch.no_grad():
        feats, _ = model(x[:1024])
        test_feats, _ = model(x[1400:])
    probe_opt = torch.optim.SGD(model.probe.parameters(), lr=0.5, momentum=0.9)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(probe_opt, T_max=20)
    for epoch in range(20):
        probe_opt.zero_grad()
        loss = F.cross_entropy(model.probe(feats), y[:1024])
        loss.backward()
        probe_opt.step()
        sched.step()
        log.append({"loss": loss.item(), "lr": sched.get_last_lr()[0]})
    with torch.no_grad():
        acc = (model.probe(test_feats).argmax(1) == y[1400:]).float().mean().item()
    log.append({"probe_acc": acc})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
