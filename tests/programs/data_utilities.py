# The torch.utils.data toolbox in one training script, as data-pipeline
# tutorials use it: a map-style Dataset of variable-length sequences,
# random_split with a seeded torch.Generator (fractions and sizes), Subset,
# ConcatDataset, a collate_fn padding with nn.utils.rnn.pad_sequence
# (batch_first=True, padding_value=PAD) and returning lengths, a
# WeightedRandomSampler balancing the classes, DataLoader(shuffle=True,
# drop_last=True, generator=...), an IterableDataset that splits its work
# with get_worker_info() (None in the main process), default_collate of dicts.
# Draws differ between the libraries, so the shuffled runs log what does not
# depend on the draws; the training itself runs on an unshuffled loader.
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pad_sequence
from torch.utils.data import (ConcatDataset, DataLoader, Dataset, IterableDataset, Subset,
                              WeightedRandomSampler, get_worker_info, random_split)
from torch.utils.data.dataloader import default_collate

PAD = 0


class SeqDataset(Dataset):
    """Sequences of tokens 1..9; the label says whether 7 occurs."""

    def __init__(self, n, seed):
        rng = np.random.default_rng(seed)
        self.seqs = [torch.tensor(rng.integers(1, 10, size=rng.integers(2, 9)))
                     for _ in range(n)]
        self.labels = [int((s == 7).any()) for s in self.seqs]

    def __len__(self):
        return len(self.seqs)

    def __getitem__(self, idx):
        return self.seqs[idx], self.labels[idx]


def collate_batch(batch):
    seqs, labels = zip(*batch)
    lengths = torch.tensor([len(s) for s in seqs])
    padded = pad_sequence(seqs, batch_first=True, padding_value=PAD)
    return padded, lengths, torch.tensor(labels, dtype=torch.float32)


class RangeStream(IterableDataset):
    def __init__(self, start, end):
        super().__init__()
        self.start, self.end = start, end

    def __iter__(self):
        worker_info = get_worker_info()
        if worker_info is None:
            iter_start, iter_end = self.start, self.end
        else:
            per_worker = int(np.ceil((self.end - self.start) / float(worker_info.num_workers)))
            iter_start = self.start + worker_info.id * per_worker
            iter_end = min(iter_start + per_worker, self.end)
        for i in range(iter_start, iter_end):
            yield {"x": torch.tensor([float(i), float(i) ** 2]), "y": i % 3}


class BagModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 8, padding_idx=PAD)
        self.fc = nn.Linear(8, 1)

    def forward(self, padded, lengths):
        summed = self.emb(padded).sum(1)
        return self.fc(summed / lengths.unsqueeze(1).float()).squeeze(1)


Net = BagModel


def main(workdir):
    full = SeqDataset(120, seed=0)
    g = torch.Generator().manual_seed(42)
    train_set, val_set, test_set = random_split(full, [0.7, 0.2, 0.1], generator=g)
    a, b = random_split(range(10), [3, 7], generator=torch.Generator().manual_seed(42))
    a2, _ = random_split(range(10), [3, 7], generator=torch.Generator().manual_seed(42))
    split_idx = sorted(train_set.indices + val_set.indices + test_set.indices)
    log = [{"sizes": [len(train_set), len(val_set), len(test_set)],
            "covers_all": split_idx == list(range(120)),
            "same_seed_same_split": list(a) == list(a2), "split_types": type(a).__name__,
            "a_plus_b": sorted(list(a) + list(b))}]

    extra = Subset(SeqDataset(20, seed=1), range(0, 20, 2))
    train_plus = ConcatDataset([train_set, extra])
    log.append({"concat_len": len(train_plus), "cumulative": train_plus.cumulative_sizes,
                "last_is_extra": train_plus[len(train_plus) - 1][0].tolist()})

    shuffled = DataLoader(train_plus, batch_size=16, shuffle=True, drop_last=True,
                          collate_fn=collate_batch, generator=torch.Generator().manual_seed(0))
    seen, shapes = 0, []
    for padded, lengths, labels in shuffled:
        seen += len(labels)
        shapes.append(padded.shape[0])
        assert padded.shape[1] == lengths.max().item()
        assert bool((padded[torch.arange(padded.size(1)).unsqueeze(0) >= lengths.unsqueeze(1)] == PAD).all())
    log.append({"n_batches": len(shuffled), "seen": seen, "batch_sizes": shapes})

    labels = torch.tensor([full.labels[i] for i in train_set.indices])
    class_count = torch.bincount(labels)
    weights = 1.0 / class_count.float()
    sample_weights = weights[labels]
    sampler = WeightedRandomSampler(sample_weights, num_samples=len(sample_weights),
                                    replacement=True)
    balanced = DataLoader(train_set, batch_size=len(train_set), sampler=sampler,
                          collate_fn=collate_batch)
    _, _, drawn = next(iter(balanced))
    no_repl = list(WeightedRandomSampler([0.0, 1.0, 2.0, 3.0], 3, replacement=False))
    log.append({"class_total": class_count.sum().item(), "n_classes": len(class_count), "weights_sum": sample_weights.sum().item(),
                "drawn": len(drawn), "sampler_len": len(sampler),
                "no_replacement": sorted(no_repl)})

    stream = DataLoader(RangeStream(0, 10), batch_size=4, num_workers=0)
    batches = list(stream)
    log.append({"stream_batches": len(batches), "keys": sorted(batches[0]),
                "x_shape": list(batches[0]["x"].shape), "y": [bt["y"].tolist() for bt in batches],
                "x_sum": sum(bt["x"].sum().item() for bt in batches),
                "info_none": get_worker_info() is None})
    dc = default_collate([(torch.ones(2), 1, 2.5), (torch.zeros(2), 0, 1.5)])
    log.append({"dc_types": [type(t).__name__ for t in dc], "dc_dtypes": [str(dc[1].dtype), str(dc[2].dtype)]})

    model = BagModel()
    model.load_state_dict(torch.load(os.path.join(workdir, "init.pt")))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    criterion = nn.BCEWithLogitsLoss()
    fixed_train, fixed_val = Subset(full, range(84)), Subset(full, range(84, 120))
    train_loader = DataLoader(fixed_train, batch_size=21, collate_fn=collate_batch)
    val_loader = DataLoader(fixed_val, batch_size=64, collate_fn=collate_batch)
    for epoch in range(4):
        for padded, lengths, y in train_loader:
            loss = criterion(model(padded, lengths), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            log.append({"loss": loss.item()})
        with torch.no_grad():
            correct = sum(((model(p, l) > 0).float() == y).sum().item() for p, l, y in val_loader)
        log.append({"epoch": epoch, "val_acc": correct / len(fixed_val)})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
