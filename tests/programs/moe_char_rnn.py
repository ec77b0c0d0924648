# Two more notebook staples.  A mixture-of-experts classifier: a top-2 gate
# (torch.topk, softmax over the kept logits, F.one_hot and bincount for the
# load-balancing loss), experts applied with index_select / index_add_ and
# torch.einsum.  And the "classifying names with a character-level RNN"
# tutorial: an RNN cell written by hand (i2h / h2o on torch.cat), stepped
# one character at a time, NLLLoss, the SGD update written as
# p.data.add_(p.grad.data, alpha=-learning_rate).
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

N_EXPERTS, TOP_K = 4, 2
LETTERS = "abcdefghijklmnopqrstuvwxyz"


class MoE(nn.Module):
    def __init__(self, d_in=64, d_hidden=32, n_classes=10):
        super().__init__()
        self.gate = nn.Linear(d_in, N_EXPERTS, bias=False)
        self.w1 = nn.Parameter(torch.randn(N_EXPERTS, d_in, d_hidden) * 0.1)
        self.b1 = nn.Parameter(torch.zeros(N_EXPERTS, d_hidden))
        self.out = nn.Linear(d_hidden, n_classes)

    def forward(self, x):
        logits = self.gate(x)
        top_val, top_idx = torch.topk(logits, TOP_K, dim=-1)
        weights = F.softmax(top_val, dim=-1)
        hidden = torch.zeros(x.size(0), self.b1.size(1))
        for k in range(TOP_K):
            for e in range(N_EXPERTS):
                rows = torch.nonzero(top_idx[:, k] == e).squeeze(1)
                if rows.numel() == 0:
                    continue
                xe = x.index_select(0, rows)
                he = F.relu(torch.einsum("bi,ih->bh", xe, self.w1[e]) + self.b1[e])
                hidden = hidden.index_add(0, rows, he * weights[rows, k:k + 1])
        probs = F.softmax(logits, dim=-1)
        counts = torch.bincount(top_idx[:, 0], minlength=N_EXPERTS).float()
        frac = counts / counts.sum()
        mask = F.one_hot(top_idx[:, 0], N_EXPERTS).float()
        aux = N_EXPERTS * (frac * probs.mean(0)).sum() + 0.0 * mask.sum()
        return self.out(hidden), aux, counts


class RNN(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.hidden_size = hidden_size
        self.i2h = nn.Linear(input_size + hidden_size, hidden_size)
        self.h2o = nn.Linear(input_size + hidden_size, output_size)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, input, hidden):
        combined = torch.cat((input, hidden), 1)
        hidden = torch.tanh(self.i2h(combined))
        output = self.softmax(self.h2o(combined))
        return output, hidden

    def initHidden(self):
        return torch.zeros(1, self.hidden_size)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.moe = MoE()
        self.rnn = RNN(len(LETTERS), 24, 3)


def lineToTensor(line):
    tensor = torch.zeros(len(line), 1, len(LETTERS))
    for li, letter in enumerate(line):
        tensor[li][0][LETTERS.find(letter)] = 1
    return tensor


def make_names(n, rng):
    """Three made-up 'languages' with their own letter pools."""
    pools = ["aeioulmn", "kzxqwrty", "bdfghpsv"]
    out = []
    for _ in range(n):
        c = int(rng.integers(3))
        length = int(rng.integers(3, 8))
        out.append(("".join(pools[c][rng.integers(8)] for _ in range(length)), c))
    return out


def main(workdir):
    d = np.load(os.path.join(workdir, "digits.npz"))
    images = torch.from_numpy(d["images"][:512] / 16.0).float().view(512, -1)
    labels = torch.from_numpy(d["labels"][:512]).long()
    both = Net()
    both.load_state_dict(torch.load(os.path.join(workdir, "init.pt"), map_location="cpu"))
    log = []
    moe = both.moe
    optimizer = torch.optim.Adam(moe.parameters(), lr=3e-3)
    for epoch in range(3):
        for i in range(0, 512, 64):
            optimizer.zero_grad()
            out, aux, counts = moe(images[i:i + 64])
            loss = F.cross_entropy(out, labels[i:i + 64]) + 0.01 * aux
            loss.backward()
            optimizer.step()
            log.append({"loss": loss.item(), "aux": aux.item(), "counts": counts.tolist()})

    rnn = both.rnn
    criterion = nn.NLLLoss()
    learning_rate = 0.01
    names = make_names(120, np.random.default_rng(0))
    for epoch in range(2):
        total = 0.0
        for name, c in names:
            category_tensor = torch.tensor([c], dtype=torch.long)
            line_tensor = lineToTensor(name)
            hidden = rnn.initHidden()
            rnn.zero_grad()
            for i in range(line_tensor.size()[0]):
                output, hidden = rnn(line_tensor[i], hidden)
            loss = criterion(output, category_tensor)
            loss.backward()
            for p in rnn.parameters():
                p.data.add_(p.grad.data, alpha=-learning_rate)
            total += loss.item()
        log.append({"loss": total / len(names), "part": "char_rnn"})
    with torch.no_grad():
        correct = 0
        for name, c in make_names(60, np.random.default_rng(1)):
            hidden = rnn.initHidden()
            line = lineToTensor(name)
            for i in range(line.size(0)):
                output, hidden = rnn(line[i], hidden)
            top_n, top_i = output.topk(1)
            correct += int(top_i[0].item() == c)
    log.append({"rnn_acc": correct / 60})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
