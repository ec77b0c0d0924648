# A toy speech recogniser trained with CTC, as the ASR tutorials build it:
# "spectrogram" frames synthesised per character, a Conv1d front end over
# (N, C, T), a bidirectional nn.GRU (batch_first=False), a Linear classifier,
# log_softmax(2) in (T, N, C) layout for nn.CTCLoss(blank=0,
# zero_infinity=True) with per-utterance input and target lengths
# (concatenated 1-D targets), and greedy decoding by argmax +
# torch.unique_consecutive with the blanks dropped; character error rate by
# edit distance.
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ALPHABET = "_abcde"          # index 0 is the CTC blank
N_FEATS = 12


def synth_batch(rng, batch_size):
    """Each character lasts 2-4 frames of its own noisy spectral pattern."""
    patterns = np.random.default_rng(123).normal(size=(len(ALPHABET), N_FEATS))
    feats, targets, in_lens, tgt_lens = [], [], [], []
    for _ in range(batch_size):
        n = rng.integers(2, 5)
        labels = rng.integers(1, len(ALPHABET), size=n)
        frames = [np.repeat(patterns[c][None], rng.integers(2, 5), axis=0) for c in labels]
        x = np.concatenate(frames) + 0.3 * rng.normal(size=(sum(len(f) for f in frames), N_FEATS))
        feats.append(x.astype(np.float32))
        targets.append(labels)
        in_lens.append(len(x))
        tgt_lens.append(n)
    T = max(in_lens)
    padded = np.zeros((batch_size, N_FEATS, T), dtype=np.float32)
    for i, x in enumerate(feats):
        padded[i, :, :len(x)] = x.T
    return (torch.from_numpy(padded), torch.from_numpy(np.concatenate(targets)),
            torch.tensor(in_lens, dtype=torch.long), torch.tensor(tgt_lens, dtype=torch.long))


class SpeechModel(nn.Module):
    def __init__(self, n_feats=N_FEATS, hidden=24, n_class=len(ALPHABET)):
        super().__init__()
        self.cnn = nn.Sequential(nn.Conv1d(n_feats, hidden, kernel_size=3, padding=1, bias=False),
                                 nn.BatchNorm1d(hidden), nn.GELU())
        self.rnn = nn.GRU(hidden, hidden, num_layers=1, bidirectional=True)
        self.classifier = nn.Linear(hidden * 2, n_class)

    def forward(self, x):                     # x: (N, C, T)
        x = self.cnn(x)
        x = x.permute(2, 0, 1)                # (T, N, hidden)
        x, _ = self.rnn(x)
        return self.classifier(x)             # (T, N, n_class)


Net = SpeechModel


def greedy_decode(log_probs, input_lengths):
    best = torch.argmax(log_probs, dim=2).transpose(0, 1)    # (N, T)
    outs = []
    for seq, n in zip(best, input_lengths):
        collapsed = torch.unique_consecutive(seq[:n])
        outs.append([int(c) for c in collapsed if c != 0])
    return outs


def edit_distance(a, b):
    d = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        prev, d[0] = d[0], i
        for j in range(1, len(b) + 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] != b[j - 1]))
    return d[len(b)]


def main(workdir):
    rng = np.random.default_rng(0)
    model = SpeechModel()
    model.load_state_dict(torch.load(os.path.join(workdir, "init.pt")))
    criterion = nn.CTCLoss(blank=0, zero_infinity=True)
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-3)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1e-2, total_steps=40)
    log = []
    for step in range(40):
        x, targets, in_lens, tgt_lens = synth_batch(rng, 8)
        model.train()
        output = F.log_softmax(model(x), dim=2)
        loss = criterion(output, targets, in_lens, tgt_lens)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
        scheduler.step()
        if step % 2 == 0:
            log.append({"step": step, "loss": loss.item()})
    x, targets, in_lens, tgt_lens = synth_batch(rng, 16)
    model.eval()
    with torch.no_grad():
        output = F.log_softmax(model(x), dim=2)
        val = criterion(output, targets, in_lens, tgt_lens).item()
        per_utt = F.ctc_loss(output, targets, in_lens, tgt_lens, reduction='none')
    decoded = greedy_decode(output, in_lens)
    refs = torch.split(targets, tgt_lens.tolist())
    errs = sum(edit_distance(d, r.tolist()) for d, r in zip(decoded, refs))
    log.append({"val_loss": val, "per_utt_sum": per_utt.sum().item(),
                "cer": errs / tgt_lens.sum().item(),
                "first": "".join(ALPHABET[c] for c in decoded[0])})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
