"""A character-level language model: Embedding -> LSTM -> Linear, trained on
the small corpus that ships with fastnn (``fastnn.data.corpus``, synthetic
animal tales), with the perplexity printed per epoch and text sampled from
the model afterwards by ``generate``.

Run: ``python examples/char_lm.py`` (about a minute on 2 cores).
"""
import time

import numpy as np

import fastnn
import fastnn.nn as nn
import fastnn.nn.functional as F
from fastnn.data.corpus import load_tiny_tales

EPOCHS, STEPS, BATCH, BPTT = 4, 100, 32, 64


class CharLM(nn.Module):
    def __init__(self, vocab, emb=32, hidden=192, layers=1):
        super().__init__()
        self.embed = nn.Embedding(vocab, emb)
        self.lstm = nn.LSTM(emb, hidden, layers, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, x, state=None):
        h, state = self.lstm(self.embed(x), state)
        return self.head(h), state


def windows(ids, rng, batch, length):
    """(inputs, targets): ``batch`` random windows of ``length`` characters."""
    start = rng.integers(0, len(ids) - length - 1, batch)
    x = np.stack([ids[s:s + length] for s in start])
    y = np.stack([ids[s + 1:s + length + 1] for s in start])
    return fastnn.tensor(x), fastnn.tensor(y)


def perplexity(model, ids, length=256):
    """exp(mean cross-entropy) over ``ids`` cut into rows of ``length``."""
    n = (len(ids) - 1) // length
    x = fastnn.tensor(ids[:n * length].reshape(n, length))
    y = fastnn.tensor(ids[1:n * length + 1].reshape(n, length))
    model.eval()
    with fastnn.no_grad():
        logits, _ = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
    model.train()
    return float(np.exp(loss.item()))


def generate(model, stoi, itos, prompt, n=200, temperature=0.8, seed=0):
    """Continues ``prompt`` by ``n`` sampled characters."""
    rng = np.random.default_rng(seed)
    model.eval()
    out = list(prompt)
    with fastnn.no_grad():
        logits, state = model(fastnn.tensor([[stoi[c] for c in prompt]]))
        for _ in range(n):
            z = logits.numpy()[0, -1].astype(np.float64) / temperature
            p = np.exp(z - z.max())
            c = int(rng.choice(len(p), p=p / p.sum()))
            out.append(itos[c])
            logits, state = model(fastnn.tensor([[c]]), state)
    model.train()
    return "".join(out)


def main():
    fastnn.manual_seed(0)
    text = load_tiny_tales()
    itos = sorted(set(text))
    stoi = {c: i for i, c in enumerate(itos)}
    ids = np.array([stoi[c] for c in text], dtype=np.int64)
    cut = int(0.9 * len(ids))
    train, val = ids[:cut], ids[cut:]
    print(f"corpus: {len(text)} characters, vocabulary {len(itos)}")
    model = CharLM(len(itos))
    opt = fastnn.optim.Adam(model.parameters(), lr=3e-3)
    rng = np.random.default_rng(0)
    for epoch in range(1, EPOCHS + 1):
        t0, total = time.perf_counter(), 0.0
        for _ in range(STEPS):
            x, y = windows(train, rng, BATCH, BPTT)
            logits, _ = model(x)
            loss = F.cross_entropy(logits.reshape(-1, len(itos)), y.reshape(-1))
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            total += loss.item()
        print(f"epoch {epoch}: train ppl {np.exp(total / STEPS):.2f}, "
              f"val ppl {perplexity(model, val):.2f} ({time.perf_counter() - t0:.1f}s)")
    print("sample:")
    print(generate(model, stoi, itos, "The Brave Fox\n\n", n=300))


if __name__ == "__main__":
    main()
