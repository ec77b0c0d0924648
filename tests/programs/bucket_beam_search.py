# An encoder-decoder trained on length-bucketed batches and decoded by beam
# search, as NLP course notebooks write it: a custom Sampler yielding lists of
# indices (batch_sampler=) that groups sentences of similar length, a
# collate_fn sorting by length for pack_padded_sequence(enforce_sorted=True),
# a bidirectional GRU encoder whose final states are joined by
# torch.cat((h[-2], h[-1]), dim=1) and a tanh bridge, Luong dot attention
# with the padded keys masked, pad_packed_sequence(total_length=...), and a
# batched beam search: log_softmax scores flattened per beam, topk over
# beam * vocab, parent beams by torch.div(..., rounding_mode='floor'), tokens
# by %, index_select / gather of the hidden states, finished beams frozen with
# masked_fill, length-normalised final scores.
import json
import os
import random
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence
from torch.utils.data import DataLoader, Dataset, Sampler

PAD, BOS, EOS = 0, 1, 2
V = 12


class SortTask(Dataset):
    """Source: 2-7 tokens from 3..11; target: the same tokens sorted."""

    def __init__(self, n, seed):
        rnd = random.Random(seed)
        self.data = []
        for _ in range(n):
            s = [rnd.randrange(3, V) for _ in range(rnd.randrange(2, 8))]
            self.data.append((s, sorted(s)))

    def __len__(self):
        return len(self.data)

    def __getitem__(self, i):
        return self.data[i]


class BucketBatchSampler(Sampler):
    def __init__(self, lengths, batch_size, seed=0):
        self.lengths, self.batch_size, self.rnd = lengths, batch_size, random.Random(seed)

    def __iter__(self):
        order = sorted(range(len(self.lengths)), key=lambda i: (self.lengths[i], i))
        batches = [order[i:i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        self.rnd.shuffle(batches)
        return iter(batches)

    def __len__(self):
        return (len(self.lengths) + self.batch_size - 1) // self.batch_size


def collate(batch):
    batch = sorted(batch, key=lambda p: len(p[0]), reverse=True)
    src = [torch.tensor(s) for s, _ in batch]
    tgt = [torch.tensor([BOS] + t + [EOS]) for _, t in batch]
    lengths = torch.tensor([len(s) for s in src])
    return pad_sequence(src, batch_first=True), lengths, pad_sequence(tgt, batch_first=True)


class Seq2Seq(nn.Module):
    def __init__(self, emb=16, hid=24):
        super().__init__()
        self.emb = nn.Embedding(V, emb, padding_idx=PAD)
        self.encoder = nn.GRU(emb, hid, batch_first=True, bidirectional=True)
        self.bridge = nn.Linear(2 * hid, hid)
        self.enc_proj = nn.Linear(2 * hid, hid, bias=False)
        self.decoder = nn.GRU(emb, hid, batch_first=True)
        self.out = nn.Linear(2 * hid, V)

    def encode(self, src, lengths):
        packed = pack_padded_sequence(self.emb(src), lengths, batch_first=True)
        out, h = self.encoder(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=src.size(1))
        h = torch.tanh(self.bridge(torch.cat((h[-2], h[-1]), dim=1))).unsqueeze(0)
        return self.enc_proj(out), h, src == PAD

    def decode_step(self, tok, h, keys, pad_mask):
        o, h = self.decoder(self.emb(tok), h)                      # (B, T, H)
        scores = torch.bmm(o, keys.transpose(1, 2))                 # (B, T, S)
        scores = scores.masked_fill(pad_mask.unsqueeze(1), float('-inf'))
        ctx = torch.bmm(F.softmax(scores, dim=-1), keys)
        return self.out(torch.cat([o, ctx], dim=-1)), h

    def forward(self, src, lengths, tgt_in):
        keys, h, pad_mask = self.encode(src, lengths)
        logits, _ = self.decode_step(tgt_in, h, keys, pad_mask)
        return logits


Net = Seq2Seq


@torch.no_grad()
def beam_search(model, src, lengths, beam=3, max_len=9):
    keys, h, pad_mask = model.encode(src, lengths)
    B = src.size(0)
    keys = keys.repeat_interleave(beam, dim=0)
    pad_mask = pad_mask.repeat_interleave(beam, dim=0)
    h = h.repeat_interleave(beam, dim=1)
    scores = torch.full((B, beam), float('-inf'))
    scores[:, 0] = 0.0
    tokens = torch.full((B * beam, 1), BOS, dtype=torch.long)
    finished = torch.zeros(B * beam, dtype=torch.bool)
    for _ in range(max_len):
        logits, h = model.decode_step(tokens[:, -1:], h, keys, pad_mask)
        logp = F.log_softmax(logits[:, -1], dim=-1)
        logp = logp.masked_fill(finished.unsqueeze(1), float('-inf'))
        logp[:, EOS] = torch.where(finished, torch.zeros(B * beam), logp[:, EOS])
        cand = (scores.view(-1, 1) + logp).view(B, beam * V)
        scores, idx = cand.topk(beam, dim=1)
        parent = torch.div(idx, V, rounding_mode='floor')
        tok = idx % V
        base = (torch.arange(B) * beam).unsqueeze(1)
        sel = (base + parent).view(-1)
        tokens = torch.cat([tokens.index_select(0, sel), tok.view(-1, 1)], dim=1)
        h = h[:, sel]
        finished = finished[sel] | (tok.view(-1) == EOS)
        if bool(finished.all()):
            break
    lengths_out = ((tokens != EOS).cumprod(1).sum(1)).view(B, beam).float()
    best = (scores / lengths_out).argmax(1)
    picks = tokens.view(B, beam, -1)[torch.arange(B), best]
    return picks, scores.gather(1, best.unsqueeze(1)).squeeze(1)


def main(workdir):
    train = SortTask(256, seed=0)
    sampler = BucketBatchSampler([len(s) for s, _ in train.data], batch_size=32)
    loader = DataLoader(train, batch_sampler=sampler, collate_fn=collate)
    model = Seq2Seq()
    model.load_state_dict(torch.load(os.path.join(workdir, "init.pt")))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    criterion = nn.CrossEntropyLoss(ignore_index=PAD)
    log = [{"batches": len(loader)}]
    for epoch in range(4):
        for src, lengths, tgt in loader:
            logits = model(src, lengths, tgt[:, :-1])
            loss = criterion(logits.reshape(-1, V), tgt[:, 1:].reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            log.append({"loss": loss.item(), "width": src.size(1)})
    model.eval()
    src, lengths, tgt = collate(SortTask(6, seed=1).data)
    picks, best = beam_search(model, src, lengths)
    log.append({"beam_scores": best.sum().item(), "picks": picks.tolist(),
                "targets": tgt.tolist()})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
