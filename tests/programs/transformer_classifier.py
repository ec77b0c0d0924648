# A Transformer encoder for sequence classification as in the tutorials: a
# sinusoidal PositionalEncoding kept in a buffer, nn.TransformerEncoderLayer
# (batch_first, norm_first, GELU), a learned [CLS] token, a key padding mask,
# a causal mask from nn.Transformer.generate_square_subsequent_mask for an
# auxiliary next-token head, Adam with a linear warm-up in LambdaLR, and
# F.scaled_dot_product_attention for an attention-pooling head.
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

VOCAB, PAD, D_MODEL, MAX_LEN = 20, 0, 32, 16


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, dropout=0.0, max_len=64):
        super().__init__()
        self.dropout = nn.Dropout(p=dropout)
        position = torch.arange(max_len).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(1, max_len, d_model)
        pe[0, :, 0::2] = torch.sin(position * div_term)
        pe[0, :, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe)

    def forward(self, x):
        x = x + self.pe[:, :x.size(1)]
        return self.dropout(x)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(VOCAB, D_MODEL, padding_idx=PAD)
        self.cls = nn.Parameter(torch.zeros(1, 1, D_MODEL))
        self.pos_encoder = PositionalEncoding(D_MODEL)
        encoder_layers = nn.TransformerEncoderLayer(D_MODEL, nhead=4, dim_feedforward=64,
                                                    dropout=0.0, activation="gelu",
                                                    batch_first=True, norm_first=True)
        self.transformer_encoder = nn.TransformerEncoder(encoder_layers, num_layers=2,
                                                         enable_nested_tensor=False)
        self.query = nn.Parameter(torch.randn(1, 1, D_MODEL) * 0.02)
        self.classifier = nn.Linear(2 * D_MODEL, 3)
        self.lm_head = nn.Linear(D_MODEL, VOCAB)

    def forward(self, src, causal=False):
        b, t = src.shape
        x = self.embedding(src) * math.sqrt(D_MODEL)
        x = torch.cat([self.cls.expand(b, -1, -1), x], dim=1)
        x = self.pos_encoder(x)
        pad_mask = torch.cat([torch.zeros(b, 1, dtype=torch.bool), src == PAD], dim=1)
        if causal:
            mask = nn.Transformer.generate_square_subsequent_mask(t + 1)
            h = self.transformer_encoder(x, mask=mask, is_causal=True)
            return self.lm_head(h[:, 1:])
        h = self.transformer_encoder(x, src_key_padding_mask=pad_mask)
        attn_mask = ~pad_mask[:, None, None, :]
        pooled = F.scaled_dot_product_attention(self.query.expand(b, -1, -1).unsqueeze(1),
                                                h.unsqueeze(1), h.unsqueeze(1),
                                                attn_mask=attn_mask).squeeze(1).squeeze(1)
        return self.classifier(torch.cat([h[:, 0], pooled], dim=-1))


def make_data(n, seed):
    """Label: which of three token groups occurs most often."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, MAX_LEN), dtype=np.int64)
    y = np.zeros(n, dtype=np.int64)
    for k in range(n):
        length = int(rng.integers(4, MAX_LEN + 1))
        toks = rng.integers(1, VOCAB, length)
        x[k, :length] = toks
        y[k] = np.bincount((toks - 1) % 3, minlength=3).argmax()
    return torch.from_numpy(x), torch.from_numpy(y)


def main(workdir):
    src, labels = make_data(256, 0)
    model = Net()
    model.load_state_dict(torch.load(os.path.join(workdir, "init.pt"), map_location="cpu"))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.98), eps=1e-9)
    warmup = 8
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warmup, (warmup / (step + 1)) ** 0.5))
    log = []
    for epoch in range(3):
        model.train()
        for i in range(0, 256, 32):
            x, y = src[i:i + 32], labels[i:i + 32]
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            lm_logits = model(x[:, :-1], causal=True)
            lm_loss = F.cross_entropy(lm_logits.reshape(-1, VOCAB), x[:, 1:].reshape(-1),
                                      ignore_index=PAD)
            total = loss + 0.1 * lm_loss
            total.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
            optimizer.step()
            scheduler.step()
            log.append({"loss": loss.item(), "lm": lm_loss.item(),
                        "lr": scheduler.get_last_lr()[0]})
    model.eval()
    test, test_y = make_data(128, 1)
    with torch.no_grad():
        acc = (model(test).argmax(-1) == test_y).float().mean().item()
    log.append({"test_acc": acc})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
