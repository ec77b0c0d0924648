# Multi-head attention written out by hand in the fairseq / older-Hugging-Face
# style, inside a small text classifier: (T, B, C) time-first layout,
# q scaled in place (q *= self.scaling), heads folded into the batch with
# contiguous().view(...).transpose(0, 1), scores by torch.bmm reshaped with
# .view(bsz, num_heads, tgt_len, src_len) and masked in place with
# masked_fill_ on that view, softmax in float, attention weights averaged over
# heads, a padding-aware mean pool (x.masked_fill_(pad.t().unsqueeze(-1), 0)
# on a transposed view), and label smoothing in CrossEntropyLoss.
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

PAD, VOCAB = 0, 20


class SelfAttention(nn.Module):
    def __init__(self, embed_dim, num_heads):
        super().__init__()
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.head_dim = embed_dim // num_heads
        self.scaling = self.head_dim ** -0.5
        self.q_proj = nn.Linear(embed_dim, embed_dim)
        self.k_proj = nn.Linear(embed_dim, embed_dim)
        self.v_proj = nn.Linear(embed_dim, embed_dim)
        self.out_proj = nn.Linear(embed_dim, embed_dim)

    def forward(self, query, key_padding_mask):
        tgt_len, bsz, embed_dim = query.size()
        q = self.q_proj(query)
        q *= self.scaling
        k, v = self.k_proj(query), self.v_proj(query)
        q = q.contiguous().view(tgt_len, bsz * self.num_heads, self.head_dim).transpose(0, 1)
        k = k.contiguous().view(-1, bsz * self.num_heads, self.head_dim).transpose(0, 1)
        v = v.contiguous().view(-1, bsz * self.num_heads, self.head_dim).transpose(0, 1)
        src_len = k.size(1)
        attn_weights = torch.bmm(q, k.transpose(1, 2))
        attn_weights = attn_weights.view(bsz, self.num_heads, tgt_len, src_len)
        attn_weights.masked_fill_(key_padding_mask.unsqueeze(1).unsqueeze(2), float("-inf"))
        attn_weights = attn_weights.view(bsz * self.num_heads, tgt_len, src_len)
        attn_probs = F.softmax(attn_weights.float(), dim=-1).type_as(attn_weights)
        attn = torch.bmm(F.dropout(attn_probs, p=0.0, training=self.training), v)
        attn = attn.transpose(0, 1).contiguous().view(tgt_len, bsz, embed_dim)
        avg = attn_probs.view(bsz, self.num_heads, tgt_len, src_len).mean(dim=1)
        return self.out_proj(attn), avg


class Classifier(nn.Module):
    def __init__(self, dim=16):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, dim, padding_idx=PAD)
        self.pos = nn.Parameter(torch.randn(12, 1, dim) * 0.02)
        self.attn = SelfAttention(dim, 4)
        self.norm = nn.LayerNorm(dim)
        self.fc = nn.Linear(dim, 3)

    def forward(self, tokens):                    # tokens: (B, T)
        pad = tokens.eq(PAD)
        x = self.embed(tokens).transpose(0, 1)    # (T, B, C)
        x = x + self.pos[:x.size(0)]
        h, weights = self.attn(x, pad)
        x = self.norm(x + h)
        x.transpose(0, 1).masked_fill_(pad.unsqueeze(-1), 0.0)
        pooled = x.sum(0) / (~pad).sum(1, keepdim=True).float()
        return self.fc(pooled), weights


Net = Classifier


def make_data(n=192, seed=0):
    rng = np.random.default_rng(seed)
    toks = np.zeros((n, 12), dtype=np.int64)
    labels = np.zeros(n, dtype=np.int64)
    for i in range(n):
        L = rng.integers(3, 13)
        toks[i, :L] = rng.integers(1, VOCAB, size=L)
        labels[i] = (toks[i, :L] >= 14).sum() % 3
    return torch.from_numpy(toks), torch.from_numpy(labels)


def main(workdir):
    tokens, labels = make_data()
    model = Classifier()
    model.load_state_dict(torch.load(os.path.join(workdir, "init.pt")))
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    log = []
    for epoch in range(4):
        model.train()
        for i in range(0, 160, 32):
            logits, _ = model(tokens[i:i + 32])
            loss = criterion(logits, labels[i:i + 32])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            log.append({"loss": loss.item()})
        model.eval()
        with torch.no_grad():
            logits, weights = model(tokens[160:])
        log.append({"epoch": epoch, "val_acc": (logits.argmax(1) == labels[160:]).float().mean().item(),
                    "pad_weight": weights[0, 0, -1].item(), "w_sum": weights.sum().item()})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
