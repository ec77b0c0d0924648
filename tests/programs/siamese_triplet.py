# Metric learning as in the siamese-network tutorials: an embedding net with
# F.normalize, triplets mined per batch (anchor, same-class positive,
# next-class negative) for nn.TripletMarginLoss, a contrastive pair loss
# written by hand on F.pairwise_distance, nn.MarginRankingLoss, and a
# nearest-centroid evaluation with torch.cdist and argmin.
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class EmbeddingNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.convnet = nn.Sequential(nn.Conv2d(1, 16, 3), nn.PReLU(), nn.MaxPool2d(2, stride=2),
                                     nn.Conv2d(16, 32, 2), nn.PReLU())
        self.fc = nn.Sequential(nn.Linear(32 * 2 * 2, 64), nn.PReLU(), nn.Linear(64, 16))

    def forward(self, x):
        output = self.convnet(x)
        output = output.view(output.size()[0], -1)
        return F.normalize(self.fc(output), p=2, dim=1)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding_net = EmbeddingNet()

    def forward(self, x1, x2=None, x3=None):
        out = [self.embedding_net(x1)]
        for x in (x2, x3):
            if x is not None:
                out.append(self.embedding_net(x))
        return tuple(out) if len(out) > 1 else out[0]


def contrastive_loss(o1, o2, target, margin=1.0, eps=1e-9):
    distances = (o2 - o1).pow(2).sum(1)
    losses = 0.5 * (target.float() * distances +
                    (1 + -1 * target).float() * F.relu(margin - (distances + eps).sqrt()).pow(2))
    return losses.mean()


def main(workdir):
    d = np.load(os.path.join(workdir, "digits.npz"))
    images = torch.from_numpy(d["images"][:768] / 16.0).float()
    labels = torch.from_numpy(d["labels"][:768]).long()
    # per class, the indices in order: positives and negatives without randomness
    by_class = [torch.nonzero(labels == c, as_tuple=True)[0] for c in range(10)]
    model = Net()
    model.load_state_dict(torch.load(os.path.join(workdir, "init.pt"), map_location="cpu"))
    triplet = nn.TripletMarginLoss(margin=0.5, p=2)
    ranking = nn.MarginRankingLoss(margin=0.1)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 8, gamma=0.1, last_epoch=-1)
    log = []
    for epoch in range(3):
        for i in range(0, 768, 64):
            a_idx = torch.arange(i, i + 64)
            a_lab = labels[a_idx]
            pos_idx = torch.stack([by_class[int(c)][(k * 7 + epoch) % len(by_class[int(c)])]
                                   for k, c in enumerate(a_lab)])
            neg_lab = (a_lab + 1 + (a_idx % 9)) % 10
            neg_idx = torch.stack([by_class[int(c)][(k * 5) % len(by_class[int(c)])]
                                   for k, c in enumerate(neg_lab)])
            optimizer.zero_grad()
            ea, ep, en = model(images[a_idx], images[pos_idx], images[neg_idx])
            loss_t = triplet(ea, ep, en)
            same = (torch.arange(64) % 2 == 0)
            other = torch.where(same.unsqueeze(1), ep, en)
            loss_c = contrastive_loss(ea, other, same.long())
            d_pos = F.pairwise_distance(ea, ep)
            d_neg = F.pairwise_distance(ea, en)
            loss_r = ranking(d_neg, d_pos, torch.ones_like(d_pos))
            loss = loss_t + 0.5 * loss_c + loss_r
            loss.backward()
            optimizer.step()
            scheduler.step()
            log.append({"loss": loss.item(), "triplet": loss_t.item(),
                        "contrastive": loss_c.item(), "ranking": loss_r.item()})
    model.eval()
    with torch.no_grad():
        emb = model(images)
        centroids = torch.stack([emb[labels == c].mean(0) for c in range(10)])
        test = model(torch.from_numpy(d["images"][768:1024] / 16.0).float())
        pred = torch.cdist(test, centroids).argmin(dim=1)
        acc = (pred == torch.from_numpy(d["labels"][768:1024])).float().mean().item()
        sim = F.cosine_similarity(test[:-1], test[1:]).mean().item()
    log.append({"centroid_acc": acc, "mean_cos": sim})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
