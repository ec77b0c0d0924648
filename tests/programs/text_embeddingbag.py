# Text classification as in the PyTorch text tutorial: a vocabulary built
# from tokenised sentences, a collate_fn that concatenates token ids and
# computes offsets with torch.cumsum for nn.EmbeddingBag(mode="mean"), a
# second model over padded batches (pad_sequence, padding_idx, a masked mean),
# init_weights with uniform_/zero_, SGD with StepLR and gradient clipping.
import json
import os
import sys
from collections import Counter

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pad_sequence
from torch.utils.data import DataLoader

TOPICS = {
    0: "goal match team score player league coach season win cup striker",
    1: "market stock price bank trade profit shares investor growth rate",
    2: "cpu chip software code data cloud server model network python",
    3: "election vote party minister law court senate policy campaign debate",
}
COMMON = "the a of to in and on for with is was by at new"


def make_corpus(n, seed):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        label = int(rng.integers(4))
        topic, common = TOPICS[label].split(), COMMON.split()
        length = int(rng.integers(4, 12))
        words = [topic[rng.integers(len(topic))] if rng.random() < 0.5
                 else common[rng.integers(len(common))] for _ in range(length)]
        out.append((label, " ".join(words)))
    return out


def tokenizer(s):
    return s.lower().split()


class Vocab:
    def __init__(self, counter, specials=("<unk>", "<pad>")):
        self.itos = list(specials) + sorted(w for w in counter if w not in specials)
        self.stoi = {w: i for i, w in enumerate(self.itos)}

    def __len__(self):
        return len(self.itos)

    def __call__(self, tokens):
        return [self.stoi.get(t, 0) for t in tokens]


class TextClassificationModel(nn.Module):
    def __init__(self, vocab_size, embed_dim, num_class):
        super().__init__()
        self.embedding = nn.EmbeddingBag(vocab_size, embed_dim, sparse=False)
        self.fc = nn.Linear(embed_dim, num_class)
        self.init_weights()

    def init_weights(self):
        initrange = 0.5
        self.embedding.weight.data.uniform_(-initrange, initrange)
        self.fc.weight.data.uniform_(-initrange, initrange)
        self.fc.bias.data.zero_()

    def forward(self, text, offsets):
        embedded = self.embedding(text, offsets)
        return self.fc(embedded)


class PaddedMeanModel(nn.Module):
    def __init__(self, vocab_size, embed_dim, num_class, pad_idx):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=pad_idx)
        self.fc = nn.Linear(embed_dim, num_class)
        self.pad_idx = pad_idx

    def forward(self, padded):
        mask = (padded != self.pad_idx).unsqueeze(-1).float()
        summed = (self.embedding(padded) * mask).sum(dim=1)
        return self.fc(summed / mask.sum(dim=1).clamp(min=1))


train_iter = make_corpus(400, 0)
test_iter = make_corpus(100, 1)
counter = Counter()
for _, line in train_iter:
    counter.update(tokenizer(line))
vocab = Vocab(counter)
text_pipeline = lambda x: vocab(tokenizer(x))
label_pipeline = lambda x: int(x)
PAD = vocab.stoi["<pad>"]


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.bag = TextClassificationModel(len(vocab), 16, 4)
        self.padded = PaddedMeanModel(len(vocab), 16, 4, PAD)


def collate_batch(batch):
    label_list, text_list, offsets = [], [], [0]
    for _label, _text in batch:
        label_list.append(label_pipeline(_label))
        processed_text = torch.tensor(text_pipeline(_text), dtype=torch.int64)
        text_list.append(processed_text)
        offsets.append(processed_text.size(0))
    label_list = torch.tensor(label_list, dtype=torch.int64)
    padded = pad_sequence(text_list, batch_first=True, padding_value=PAD)
    offsets = torch.tensor(offsets[:-1]).cumsum(dim=0)
    text_list = torch.cat(text_list)
    return label_list, text_list, offsets, padded


def main(workdir):
    both = Net()
    both.load_state_dict(torch.load(os.path.join(workdir, "init.pt"), map_location="cpu"))
    criterion = torch.nn.CrossEntropyLoss()
    log = []
    train_dataloader = DataLoader(train_iter, batch_size=32, shuffle=False,
                                  collate_fn=collate_batch)
    test_dataloader = DataLoader(test_iter, batch_size=50, collate_fn=collate_batch)
    for which in ("bag", "padded"):
        model = getattr(both, which)
        optimizer = torch.optim.SGD(model.parameters(), lr=5.0 if which == "bag" else 1.0)
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1, gamma=0.5)
        for epoch in range(3):
            model.train()
            for idx, (label, text, offsets, padded) in enumerate(train_dataloader):
                optimizer.zero_grad()
                if which == "bag":
                    predicted_label = model(text, offsets)
                else:
                    predicted_label = model(padded)
                loss = criterion(predicted_label, label)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
                optimizer.step()
                log.append({"loss": loss.item()})
            scheduler.step()
            model.eval()
            total_acc, total_count = 0, 0
            with torch.no_grad():
                for label, text, offsets, padded in test_dataloader:
                    out = model(text, offsets) if which == "bag" else model(padded)
                    total_acc += (out.argmax(1) == label).sum().item()
                    total_count += label.size(0)
            log.append({"acc": total_acc / total_count, "lr": scheduler.get_last_lr()[0]})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
