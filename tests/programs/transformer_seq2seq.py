# The "language translation with nn.Transformer" tutorial on a toy task
# (reverse a digit string): PositionalEncoding with a sinusoidal buffer,
# TokenEmbedding scaled by sqrt(emb_size), nn.Transformer (seq-first, as the
# tutorial), create_mask with nn.Transformer.generate_square_subsequent_mask
# and the (src == PAD_IDX).transpose(0, 1) key-padding masks,
# CrossEntropyLoss(ignore_index=PAD_IDX), xavier_uniform_ init over
# parameters(), Adam(betas=(0.9, 0.98), eps=1e-9), and greedy_decode through
# model.encode / model.decode with a growing ys.
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
from torch import Tensor
from torch.nn import Transformer

PAD_IDX, BOS_IDX, EOS_IDX = 0, 1, 2
VOCAB = 13     # specials + the digits 0-9 as 3..12
EMB, NHEAD, FFN = 32, 4, 64


class PositionalEncoding(nn.Module):
    def __init__(self, emb_size: int, dropout: float, maxlen: int = 64):
        super(PositionalEncoding, self).__init__()
        den = torch.exp(- torch.arange(0, emb_size, 2) * math.log(10000) / emb_size)
        pos = torch.arange(0, maxlen).reshape(maxlen, 1)
        pos_embedding = torch.zeros((maxlen, emb_size))
        pos_embedding[:, 0::2] = torch.sin(pos * den)
        pos_embedding[:, 1::2] = torch.cos(pos * den)
        pos_embedding = pos_embedding.unsqueeze(-2)
        self.dropout = nn.Dropout(dropout)
        self.register_buffer('pos_embedding', pos_embedding)

    def forward(self, token_embedding: Tensor):
        return self.dropout(token_embedding + self.pos_embedding[:token_embedding.size(0), :])


class TokenEmbedding(nn.Module):
    def __init__(self, vocab_size: int, emb_size):
        super(TokenEmbedding, self).__init__()
        self.embedding = nn.Embedding(vocab_size, emb_size)
        self.emb_size = emb_size

    def forward(self, tokens: Tensor):
        return self.embedding(tokens.long()) * math.sqrt(self.emb_size)


class Seq2SeqTransformer(nn.Module):
    def __init__(self):
        super(Seq2SeqTransformer, self).__init__()
        self.transformer = Transformer(d_model=EMB, nhead=NHEAD, num_encoder_layers=2,
                                       num_decoder_layers=2, dim_feedforward=FFN, dropout=0.0)
        self.generator = nn.Linear(EMB, VOCAB)
        self.src_tok_emb = TokenEmbedding(VOCAB, EMB)
        self.tgt_tok_emb = TokenEmbedding(VOCAB, EMB)
        self.positional_encoding = PositionalEncoding(EMB, dropout=0.0)
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)

    def forward(self, src, trg, src_mask, tgt_mask, src_padding_mask, tgt_padding_mask,
                memory_key_padding_mask):
        src_emb = self.positional_encoding(self.src_tok_emb(src))
        tgt_emb = self.positional_encoding(self.tgt_tok_emb(trg))
        outs = self.transformer(src_emb, tgt_emb, src_mask, tgt_mask, None,
                                src_padding_mask, tgt_padding_mask, memory_key_padding_mask)
        return self.generator(outs)

    def encode(self, src: Tensor, src_mask: Tensor):
        return self.transformer.encoder(self.positional_encoding(self.src_tok_emb(src)), src_mask)

    def decode(self, tgt: Tensor, memory: Tensor, tgt_mask: Tensor):
        return self.transformer.decoder(self.positional_encoding(self.tgt_tok_emb(tgt)), memory,
                                        tgt_mask)


Net = Seq2SeqTransformer


def create_mask(src, tgt):
    src_seq_len, tgt_seq_len = src.shape[0], tgt.shape[0]
    tgt_mask = Transformer.generate_square_subsequent_mask(tgt_seq_len)
    src_mask = torch.zeros((src_seq_len, src_seq_len)).type(torch.bool)
    src_padding_mask = (src == PAD_IDX).transpose(0, 1)
    tgt_padding_mask = (tgt == PAD_IDX).transpose(0, 1)
    return src_mask, tgt_mask, src_padding_mask, tgt_padding_mask


def make_batch(rng, n):
    src, tgt = [], []
    for _ in range(n):
        digits = list(rng.integers(3, 13, size=rng.integers(2, 7)))
        src.append(torch.tensor([BOS_IDX] + digits + [EOS_IDX]))
        tgt.append(torch.tensor([BOS_IDX] + digits[::-1] + [EOS_IDX]))
    return (nn.utils.rnn.pad_sequence(src, padding_value=PAD_IDX),
            nn.utils.rnn.pad_sequence(tgt, padding_value=PAD_IDX))


def greedy_decode(model, src, src_mask, max_len, start_symbol):
    memory = model.encode(src, src_mask)
    ys = torch.ones(1, 1).fill_(start_symbol).type(torch.long)
    for i in range(max_len - 1):
        tgt_mask = (Transformer.generate_square_subsequent_mask(ys.size(0)).type(torch.bool))
        out = model.decode(ys, memory, tgt_mask)
        out = out.transpose(0, 1)
        prob = model.generator(out[:, -1])
        _, next_word = torch.max(prob, dim=1)
        next_word = next_word.item()
        ys = torch.cat([ys, torch.ones(1, 1).type_as(src.data).fill_(next_word)], dim=0)
        if next_word == EOS_IDX:
            break
    return ys


def main(workdir):
    rng = np.random.default_rng(0)
    model = Seq2SeqTransformer()
    model.load_state_dict(torch.load(os.path.join(workdir, "init.pt")))
    loss_fn = torch.nn.CrossEntropyLoss(ignore_index=PAD_IDX)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.98), eps=1e-9)
    log = []
    for step in range(30):
        src, tgt = make_batch(rng, 16)
        tgt_input = tgt[:-1, :]
        src_mask, tgt_mask, src_padding_mask, tgt_padding_mask = create_mask(src, tgt_input)
        model.train()
        logits = model(src, tgt_input, src_mask, tgt_mask, src_padding_mask, tgt_padding_mask,
                       src_padding_mask)
        optimizer.zero_grad()
        tgt_out = tgt[1:, :]
        loss = loss_fn(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1))
        loss.backward()
        optimizer.step()
        log.append({"step": step, "loss": loss.item()})
    model.eval()
    src, tgt = make_batch(rng, 4)
    with torch.no_grad():
        src_mask, tgt_mask, spm, tpm = create_mask(src, tgt[:-1])
        logits = model(src, tgt[:-1], src_mask, tgt_mask, spm, tpm, spm)
        eval_loss = loss_fn(logits.reshape(-1, VOCAB), tgt[1:].reshape(-1)).item()
        one = src[:, :1]
        one = one[one != PAD_IDX].view(-1, 1)
        ys = greedy_decode(model, one, torch.zeros(one.size(0), one.size(0)).type(torch.bool),
                           max_len=one.size(0) + 3, start_symbol=BOS_IDX)
    log.append({"eval_loss": eval_loss, "decoded": ys.flatten().tolist(),
                "mask_row": Transformer.generate_square_subsequent_mask(3)[0].tolist()})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
