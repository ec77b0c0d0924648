# A LLaMA-style character model as the "build a small LLM" posts write it:
# nn.RMSNorm, rotary position embeddings from cos/sin tables registered as
# non-persistent buffers (rotate_half with torch.cat), grouped-query attention
# (repeat_interleave of the key/value heads) through
# F.scaled_dot_product_attention under sdpa_kernel(SDPBackend.MATH), a SwiGLU
# MLP (F.silu(w1(x)) * w3(x)), tied embeddings, AdamW with a LambdaLR cosine
# warm-up, then generation in torch.inference_mode() with a KV cache
# (torch.cat along time), checked against the cache-free logits, and nucleus
# (top-p) sampling: sort descending, cumsum, scatter back, multinomial.
import json
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

TEXT = ("the quick brown fox jumps over the lazy dog. a stitch in time saves nine. "
        "all that glitters is not gold. the early bird catches the worm. ") * 2
CHARS = sorted(set(TEXT))
STOI = {c: i for i, c in enumerate(CHARS)}
DIM, N_HEADS, N_KV, N_LAYERS, CTX = 32, 4, 2, 2, 24


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.hd = DIM // N_HEADS
        self.wq = nn.Linear(DIM, N_HEADS * self.hd, bias=False)
        self.wk = nn.Linear(DIM, N_KV * self.hd, bias=False)
        self.wv = nn.Linear(DIM, N_KV * self.hd, bias=False)
        self.wo = nn.Linear(N_HEADS * self.hd, DIM, bias=False)

    def forward(self, x, cos, sin, cache=None):
        B, T, _ = x.shape
        q = self.wq(x).view(B, T, N_HEADS, self.hd).transpose(1, 2)
        k = self.wk(x).view(B, T, N_KV, self.hd).transpose(1, 2)
        v = self.wv(x).view(B, T, N_KV, self.hd).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        if cache is not None:
            if "k" in cache:
                k = torch.cat([cache["k"], k], dim=2)
                v = torch.cat([cache["v"], v], dim=2)
            cache["k"], cache["v"] = k, v
        k = k.repeat_interleave(N_HEADS // N_KV, dim=1)
        v = v.repeat_interleave(N_HEADS // N_KV, dim=1)
        out = F.scaled_dot_product_attention(q, k, v, is_causal=cache is None or T > 1)
        return self.wo(out.transpose(1, 2).contiguous().view(B, T, -1))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn_norm, self.ffn_norm = nn.RMSNorm(DIM, eps=1e-5), nn.RMSNorm(DIM, eps=1e-5)
        self.attn = Attention()
        self.w1 = nn.Linear(DIM, 64, bias=False)
        self.w2 = nn.Linear(64, DIM, bias=False)
        self.w3 = nn.Linear(DIM, 64, bias=False)

    def forward(self, x, cos, sin, cache=None):
        x = x + self.attn(self.attn_norm(x), cos, sin, cache)
        h = self.ffn_norm(x)
        return x + self.w2(F.silu(self.w1(h)) * self.w3(h))


class TinyLlama(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok = nn.Embedding(len(CHARS), DIM)
        self.layers = nn.ModuleList([Block() for _ in range(N_LAYERS)])
        self.norm = nn.RMSNorm(DIM, eps=1e-5)
        self.out = nn.Linear(DIM, len(CHARS), bias=False)
        self.out.weight = self.tok.weight
        hd = DIM // N_HEADS
        inv_freq = 1.0 / (10000 ** (torch.arange(0, hd, 2).float() / hd))
        freqs = torch.outer(torch.arange(64).float(), inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        self.register_buffer("cos_cached", emb.cos(), persistent=False)
        self.register_buffer("sin_cached", emb.sin(), persistent=False)

    def forward(self, idx, start=0, caches=None):
        T = idx.shape[1]
        cos, sin = self.cos_cached[start:start + T], self.sin_cached[start:start + T]
        x = self.tok(idx)
        for i, layer in enumerate(self.layers):
            x = layer(x, cos, sin, None if caches is None else caches[i])
        return self.out(self.norm(x))


Net = TinyLlama


def top_p_filter(logits, top_p=0.9):
    sorted_logits, sorted_idx = torch.sort(logits, descending=True)
    cum = torch.cumsum(F.softmax(sorted_logits, dim=-1), dim=-1)
    remove = cum > top_p
    remove[..., 1:] = remove[..., :-1].clone()
    remove[..., 0] = False
    mask = remove.scatter(1, sorted_idx, remove)
    return logits.masked_fill(mask, float('-inf'))


def main(workdir):
    data = torch.tensor([STOI[c] for c in TEXT])
    model = TinyLlama()
    model.load_state_dict(torch.load(os.path.join(workdir, "init.pt")))
    log = [{"state_keys": len(model.state_dict()), "buffers": len(list(model.buffers()))}]
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.1, betas=(0.9, 0.95))
    warmup, total = 5, 30
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / warmup if s < warmup else
        0.5 * (1 + math.cos(math.pi * (s - warmup) / (total - warmup))))
    starts = list(range(0, len(data) - CTX - 1, 7))
    with sdpa_kernel(SDPBackend.MATH):
        for step in range(total):
            ix = starts[(step * 4) % len(starts):(step * 4) % len(starts) + 4]
            x = torch.stack([data[i:i + CTX] for i in ix])
            y = torch.stack([data[i + 1:i + CTX + 1] for i in ix])
            logits = model(x)
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), y.view(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            log.append({"loss": loss.item(), "norm": norm.item(), "lr": sched.get_last_lr()[0]})
    model.eval()
    prompt = torch.tensor([[STOI[c] for c in "the "]])
    with torch.inference_mode():
        caches = [dict() for _ in model.layers]
        logits = model(prompt, 0, caches)
        full = model(prompt)
        seq = prompt
        for _ in range(6):
            nxt = logits[:, -1].argmax(-1, keepdim=True)
            seq = torch.cat([seq, nxt], dim=1)
            logits = model(nxt, seq.shape[1] - 1, caches)
        nocache = model(seq)[:, -1]
        filtered = top_p_filter(nocache / 0.8, top_p=0.9)
        sample = torch.multinomial(F.softmax(filtered, dim=-1), num_samples=1)
    log.append({"cache_gap": (logits[:, -1] - nocache).abs().max().item() < 1e-4,
                "prompt_gap": (full - model(prompt)).abs().max().item(),
                "greedy": "".join(CHARS[i] for i in seq[0].tolist()),
                "kept": int(torch.isfinite(filtered).sum()), "cache_len": caches[0]["k"].shape[2],
                "sample_ok": bool(torch.isfinite(filtered[0, sample[0, 0]]))})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
