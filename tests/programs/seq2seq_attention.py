# A sequence-to-sequence GRU with attention as in the translation tutorial:
# EncoderRNN (Embedding + GRU, batch_first), an attention decoder
# (Bahdanau-style: Linear Wa/Ua/Va, torch.bmm, F.softmax), teacher forcing for
# the first epochs and the decoder's own argmax (topk, detach) afterwards,
# NLLLoss over log_softmax, two Adam optimisers.  The task: reverse a digit
# string.
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import optim

SOS_token, EOS_token = 0, 1
MAX_LENGTH = 7
VOCAB = 12  # SOS, EOS, digits 0-9
hidden_size = 24


class EncoderRNN(nn.Module):
    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.embedding = nn.Embedding(input_size, hidden_size)
        self.gru = nn.GRU(hidden_size, hidden_size, batch_first=True)

    def forward(self, input):
        embedded = self.embedding(input)
        output, hidden = self.gru(embedded)
        return output, hidden


class BahdanauAttention(nn.Module):
    def __init__(self, hidden_size):
        super().__init__()
        self.Wa = nn.Linear(hidden_size, hidden_size)
        self.Ua = nn.Linear(hidden_size, hidden_size)
        self.Va = nn.Linear(hidden_size, 1)

    def forward(self, query, keys):
        scores = self.Va(torch.tanh(self.Wa(query) + self.Ua(keys)))
        scores = scores.squeeze(2).unsqueeze(1)
        weights = F.softmax(scores, dim=-1)
        context = torch.bmm(weights, keys)
        return context, weights


class AttnDecoderRNN(nn.Module):
    def __init__(self, hidden_size, output_size):
        super().__init__()
        self.embedding = nn.Embedding(output_size, hidden_size)
        self.attention = BahdanauAttention(hidden_size)
        self.gru = nn.GRU(2 * hidden_size, hidden_size, batch_first=True)
        self.out = nn.Linear(hidden_size, output_size)

    def forward(self, encoder_outputs, encoder_hidden, target_tensor=None):
        batch_size = encoder_outputs.size(0)
        decoder_input = torch.empty(batch_size, 1, dtype=torch.long).fill_(SOS_token)
        decoder_hidden = encoder_hidden
        decoder_outputs, attentions = [], []
        for i in range(MAX_LENGTH):
            decoder_output, decoder_hidden, attn_weights = self.forward_step(
                decoder_input, decoder_hidden, encoder_outputs)
            decoder_outputs.append(decoder_output)
            attentions.append(attn_weights)
            if target_tensor is not None:
                decoder_input = target_tensor[:, i].unsqueeze(1)  # teacher forcing
            else:
                _, topi = decoder_output.topk(1)
                decoder_input = topi.squeeze(-1).detach()
        decoder_outputs = torch.cat(decoder_outputs, dim=1)
        decoder_outputs = F.log_softmax(decoder_outputs, dim=-1)
        attentions = torch.cat(attentions, dim=1)
        return decoder_outputs, decoder_hidden, attentions

    def forward_step(self, input, hidden, encoder_outputs):
        embedded = self.embedding(input)
        query = hidden.permute(1, 0, 2)
        context, attn_weights = self.attention(query, encoder_outputs)
        input_gru = torch.cat((embedded, context), dim=2)
        output, hidden = self.gru(input_gru, hidden)
        output = self.out(output)
        return output, hidden, attn_weights


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = EncoderRNN(VOCAB, hidden_size)
        self.decoder = AttnDecoderRNN(hidden_size, VOCAB)


def make_pairs(n, seed):
    rng = np.random.default_rng(seed)
    src = np.full((n, MAX_LENGTH), EOS_token, dtype=np.int64)
    tgt = np.full((n, MAX_LENGTH), EOS_token, dtype=np.int64)
    for k in range(n):
        length = int(rng.integers(3, MAX_LENGTH))
        digits = rng.integers(0, 10, length) + 2
        src[k, :length] = digits
        tgt[k, :length] = digits[::-1]
    return torch.from_numpy(src), torch.from_numpy(tgt)


def main(workdir):
    both = Net()
    both.load_state_dict(torch.load(os.path.join(workdir, "init.pt"), map_location="cpu"))
    encoder, decoder = both.encoder, both.decoder
    src, tgt = make_pairs(256, 0)
    encoder_optimizer = optim.Adam(encoder.parameters(), lr=0.01)
    decoder_optimizer = optim.Adam(decoder.parameters(), lr=0.01)
    criterion = nn.NLLLoss()
    log = []
    for epoch in range(4):
        teacher = epoch < 3
        for i in range(0, 256, 32):
            input_tensor, target_tensor = src[i:i + 32], tgt[i:i + 32]
            encoder_optimizer.zero_grad()
            decoder_optimizer.zero_grad()
            encoder_outputs, encoder_hidden = encoder(input_tensor)
            decoder_outputs, _, _ = decoder(encoder_outputs, encoder_hidden,
                                            target_tensor if teacher else None)
            loss = criterion(decoder_outputs.view(-1, decoder_outputs.size(-1)),
                             target_tensor.view(-1))
            loss.backward()
            encoder_optimizer.step()
            decoder_optimizer.step()
            log.append({"loss": loss.item()})
    with torch.no_grad():
        enc_out, enc_hidden = encoder(src[:64])
        dec_out, _, attn = decoder(enc_out, enc_hidden)
        pred = dec_out.argmax(-1)
        log.append({"token_acc": (pred == tgt[:64]).float().mean().item(),
                    "attn_sum": attn.sum(-1).mean().item()})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
