# word2vec skip-gram with negative sampling, as the blog-post implementations
# write it: a vocabulary from collections.Counter, (center, context) pairs
# from a sliding window, a unigram^0.75 noise table drawn by torch.multinomial,
# two nn.Embedding(sparse=True) tables (the output one zero-initialised),
# scores by torch.bmm clamped to [-10, 10], F.logsigmoid of the positive and
# negated negative scores, optim.SparseAdam with CosineAnnealingLR over the
# batches, then nearest neighbours by cosine similarity (F.normalize, mm,
# topk).
import json
import os
import sys
from collections import Counter

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

CORPUS = ("the king rules the kingdom and the queen rules the kingdom . "
          "the man walks the dog and the woman walks the dog . "
          "a king is a man and a queen is a woman . "
          "the dog chases the cat and the cat chases the mouse . "
          "the prince is the son of the king and the princess is the daughter of the queen . ") * 3
WORDS = CORPUS.split()
VOCAB = sorted(Counter(WORDS))
W2I = {w: i for i, w in enumerate(VOCAB)}


class SkipGramNeg(nn.Module):
    def __init__(self, vocab_size=len(VOCAB), embed_dim=16):
        super().__init__()
        self.in_embed = nn.Embedding(vocab_size, embed_dim, sparse=True)
        self.out_embed = nn.Embedding(vocab_size, embed_dim, sparse=True)
        initrange = 0.5 / embed_dim
        self.in_embed.weight.data.uniform_(-initrange, initrange)
        self.out_embed.weight.data.zero_()

    def forward(self, center, context, negatives):
        v = self.in_embed(center).unsqueeze(2)            # (B, D, 1)
        u = self.out_embed(context).unsqueeze(1)          # (B, 1, D)
        u_neg = self.out_embed(negatives)                 # (B, K, D)
        score = torch.clamp(torch.bmm(u, v).squeeze(), max=10, min=-10)
        pos = F.logsigmoid(score)                         # (B,)
        neg_score = torch.clamp(torch.bmm(u_neg, v).squeeze(2), max=10, min=-10)
        neg = F.logsigmoid(-neg_score).sum(1)
        return -(pos + neg).mean()


Net = SkipGramNeg


def main(workdir):
    torch.manual_seed(0)
    ids = [W2I[w] for w in WORDS]
    window = 2
    pairs = [(ids[i], ids[j]) for i in range(len(ids))
             for j in range(max(0, i - window), min(len(ids), i + window + 1)) if i != j]
    counts = Counter(ids)
    freq = torch.tensor([counts[i] for i in range(len(VOCAB))], dtype=torch.float)
    noise_dist = freq ** 0.75 / (freq ** 0.75).sum()
    model = SkipGramNeg()
    model.load_state_dict(torch.load(os.path.join(workdir, "init.pt")))
    optimizer = torch.optim.SparseAdam(list(model.parameters()), lr=0.01)
    pairs_t = torch.tensor(pairs)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, 3 * len(pairs_t) // 64 + 3)
    log = [{"vocab": len(VOCAB), "pairs": len(pairs), "noise_max": noise_dist.max().item()}]
    batch_size, n_neg = 64, 5
    for epoch in range(3):
        total = 0.0
        for i in range(0, len(pairs_t), batch_size):
            batch = pairs_t[i:i + batch_size]
            center, context = batch[:, 0], batch[:, 1]
            negatives = torch.multinomial(noise_dist, batch.size(0) * n_neg,
                                          replacement=True).view(batch.size(0), n_neg)
            loss = model(center, context, negatives)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            total += loss.item() * batch.size(0)
            if i % (batch_size * 8) == 0:
                log.append({"epoch": epoch, "loss": loss.item()})
        log.append({"epoch": epoch, "epoch_loss": total / len(pairs_t)})
    with torch.no_grad():
        emb = F.normalize(model.in_embed.weight, dim=1)
        sims = emb @ emb.t()
        q = torch.tensor([W2I["king"], W2I["dog"]])
        vals, idx = sims[q].topk(4, dim=1)
    log.append({"neighbours": [[VOCAB[j] for j in row] for row in idx.tolist()],
                "sim_sum": vals.sum().item()})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
