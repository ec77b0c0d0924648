"""Classifying variable-length sequences with an LSTM.

Synthetic task: noisy sine waves of 20 to 60 steps whose frequency falls in
one of three bands; the class is the band.  The sequences are padded into a
batch and packed (``pack_padded_sequence``, longest first not required), so
the LSTM runs each sequence only over its own steps and ``h_n`` holds each
sequence's state after its last real step; a linear layer classifies it.

Run: ``python examples/sequence_classification.py`` (a few seconds).
"""
import numpy as np

import fastnn
import fastnn.nn as nn
import fastnn.nn.functional as F

try:  # PyTorch's path
    from fastnn.nn.utils.rnn import pack_padded_sequence
except ImportError:  # older layouts keep it in a private module
    from fastnn.nn._rnn_utils import pack_padded_sequence

BANDS = [(0.02, 0.06), (0.08, 0.14), (0.18, 0.28)]   # cycles per step


def make_data(n, rng, max_len=60):
    """(padded (n, max_len, 1), lengths (n,), labels (n,))."""
    x = np.zeros((n, max_len, 1), np.float32)
    lengths = rng.integers(20, max_len + 1, n)
    labels = rng.integers(0, len(BANDS), n)
    for i, (L, c) in enumerate(zip(lengths, labels)):
        f = rng.uniform(*BANDS[c])
        t = np.arange(L)
        x[i, :L, 0] = rng.uniform(0.5, 1.5) * np.sin(2 * np.pi * f * t + rng.uniform(0, 6.3))
        x[i, :L, 0] += 0.2 * rng.standard_normal(L)
    return x, lengths.astype(np.int64), labels.astype(np.int64)


class Classifier(nn.Module):
    def __init__(self, hidden=32, classes=len(BANDS)):
        super().__init__()
        self.lstm = nn.LSTM(1, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, classes)

    def forward(self, x, lengths):
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        _, (h_n, _) = self.lstm(packed)
        return self.fc(h_n[-1])


def main():
    fastnn.manual_seed(0)
    rng = np.random.default_rng(0)
    xtr, ltr, ytr = make_data(2000, rng)
    xte, lte, yte = make_data(500, rng)
    model = Classifier()
    opt = fastnn.optim.Adam(model.parameters(), lr=3e-3)
    for epoch in range(1, 13):
        order = rng.permutation(len(xtr))
        total = 0.0
        for s in range(0, len(order), 64):
            b = order[s:s + 64]
            loss = F.cross_entropy(model(fastnn.tensor(xtr[b]), ltr[b]), fastnn.tensor(ytr[b]))
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            total += loss.item() * len(b)
        with fastnn.no_grad():
            pred = model(fastnn.tensor(xte), lte).argmax(1).numpy()
        print(f"epoch {epoch}: loss {total / len(xtr):.4f}, "
              f"test accuracy {100 * (pred == yte).mean():.2f}%")


if __name__ == "__main__":
    main()
