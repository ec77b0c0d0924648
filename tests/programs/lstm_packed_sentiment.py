# Sentiment classification over variable-length sequences as the RNN
# tutorials write it: pad_sequence, pack_padded_sequence with
# enforce_sorted=False, a 2-layer bidirectional LSTM, pad_packed_sequence,
# the final hidden states of both directions concatenated (hidden[-2],
# hidden[-1]), a masked max-pool over the padded outputs,
# BCEWithLogitsLoss(pos_weight=...), Adagrad, and pack_sequence for
# inference.
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
from torch.nn.utils.rnn import (pack_padded_sequence, pack_sequence, pad_packed_sequence,
                                pad_sequence)

VOCAB, PAD = 30, 0


class Net(nn.Module):
    def __init__(self, vocab_size=VOCAB, embedding_dim=12, hidden_dim=16, n_layers=2):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=PAD)
        self.rnn = nn.LSTM(embedding_dim, hidden_dim, num_layers=n_layers, bidirectional=True,
                           dropout=0.0, batch_first=True)
        self.fc = nn.Linear(hidden_dim * 4, 1)

    def forward(self, text, text_lengths):
        embedded = self.embedding(text)
        packed_embedded = pack_padded_sequence(embedded, text_lengths.cpu(), batch_first=True,
                                               enforce_sorted=False)
        packed_output, (hidden, cell) = self.rnn(packed_embedded)
        output, output_lengths = pad_packed_sequence(packed_output, batch_first=True,
                                                     padding_value=-1e4)
        pooled = output.max(dim=1).values
        hidden = torch.cat((hidden[-2, :, :], hidden[-1, :, :]), dim=1)
        return self.fc(torch.cat((hidden, pooled), dim=1)).squeeze(1), output_lengths


def make_data(n, seed):
    """Positive words 1-9, negative 10-19, neutral 20-29; label: more positive."""
    rng = np.random.default_rng(seed)
    seqs, labels = [], []
    for _ in range(n):
        length = int(rng.integers(3, 15))
        words = rng.integers(1, VOCAB, length)
        pos, neg = ((words >= 1) & (words < 10)).sum(), ((words >= 10) & (words < 20)).sum()
        seqs.append(torch.from_numpy(words.astype(np.int64)))
        labels.append(float(pos > neg + 1))
    return seqs, torch.tensor(labels)


def main(workdir):
    seqs, labels = make_data(384, 0)
    model = Net()
    model.load_state_dict(torch.load(os.path.join(workdir, "init.pt"), map_location="cpu"))
    n_pos = labels.sum()
    criterion = nn.BCEWithLogitsLoss(pos_weight=(len(labels) - n_pos) / n_pos)
    optimizer = torch.optim.Adagrad(model.parameters(), lr=0.05, lr_decay=1e-3)
    log = []
    for epoch in range(3):
        model.train()
        for i in range(0, 384, 32):
            batch = seqs[i:i + 32]
            lengths = torch.tensor([len(s) for s in batch])
            text = pad_sequence(batch, batch_first=True, padding_value=PAD)
            optimizer.zero_grad()
            predictions, out_lengths = model(text, lengths)
            loss = criterion(predictions, labels[i:i + 32])
            loss.backward()
            optimizer.step()
            rounded = torch.round(torch.sigmoid(predictions))
            log.append({"loss": loss.item(),
                        "acc": (rounded == labels[i:i + 32]).float().mean().item(),
                        "lengths_ok": bool(torch.equal(out_lengths, lengths))})
    model.eval()
    test, test_labels = make_data(64, 1)
    with torch.no_grad():
        order = sorted(range(64), key=lambda k: -len(test[k]))
        packed = pack_sequence([test[k] for k in order])
        padded, lens = pad_packed_sequence(packed, batch_first=True)
        preds, _ = model(padded, lens)
        acc = ((preds > 0).float() == test_labels[order]).float().mean().item()
    log.append({"test_acc": acc, "batch_sizes": packed.batch_sizes.tolist()[:5]})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
