"""A PyTorch word-language-model program (Embedding -> LSTM -> Linear,
log_softmax + NLLLoss, clip_grad_norm_, plain SGD on p.data, the hidden state
carried across batches and detached, torch.save / torch.load of the state
dict) run unchanged under torch and, the import changed, under fastnn from the
same weights: the losses of the first steps agree and fall alike."""
import numpy as np

import fastnn

NTOKEN, NINP, NHID, NLAYERS, BPTT, BSZ = 50, 16, 24, 2, 8, 4


def program(torch, corpus, steps, weights=None, path=None):
    """The training script; ``torch`` is the library (torch or fastnn)."""
    nn = torch.nn
    F = nn.functional

    class RNNModel(nn.Module):
        def __init__(self, ntoken, ninp, nhid, nlayers, dropout=0.0):
            super().__init__()
            self.drop = nn.Dropout(dropout)
            self.encoder = nn.Embedding(ntoken, ninp)
            self.rnn = nn.LSTM(ninp, nhid, nlayers, dropout=dropout)
            self.decoder = nn.Linear(nhid, ntoken)
            self.nhid, self.nlayers, self.ntoken = nhid, nlayers, ntoken

        def forward(self, input, hidden):
            emb = self.drop(self.encoder(input))
            output, hidden = self.rnn(emb, hidden)
            output = self.drop(output)
            decoded = self.decoder(output).view(-1, self.ntoken)
            return F.log_softmax(decoded, dim=1), hidden

        def init_hidden(self, bsz):
            return (torch.zeros(self.nlayers, bsz, self.nhid),
                    torch.zeros(self.nlayers, bsz, self.nhid))

    def repackage_hidden(h):
        if isinstance(h, torch.Tensor):
            return h.detach()
        return tuple(repackage_hidden(v) for v in h)

    def batchify(data, bsz):
        nbatch = data.size(0) // bsz
        data = data[:nbatch * bsz]
        return data.view(bsz, -1).t().contiguous()

    def get_batch(source, i):
        seq_len = min(BPTT, len(source) - 1 - i)
        return source[i:i + seq_len], source[i + 1:i + 1 + seq_len].reshape(-1)

    model = RNNModel(NTOKEN, NINP, NHID, NLAYERS)
    if weights is not None:
        model.load_state_dict(weights)
    train_data = batchify(torch.tensor(corpus), BSZ)
    criterion = nn.NLLLoss()
    lr, losses = 2.0, []
    model.train()
    hidden = model.init_hidden(BSZ)
    for step, i in enumerate(range(0, train_data.size(0) - 1, BPTT)):
        if step == steps:
            break
        data, targets = get_batch(train_data, i)
        model.zero_grad()
        hidden = repackage_hidden(hidden)
        output, hidden = model(data, hidden)
        loss = criterion(output, targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
        for p in model.parameters():
            p.data.add_(p.grad, alpha=-lr)
        losses.append(loss.item())
    if path is not None:
        torch.save(model.state_dict(), path)
        model.load_state_dict(torch.load(path))
    return model, losses


def test_word_lm_program_losses_match_torch(torch, tmp_path):
    r = np.random.default_rng(0)
    # a corpus with structure to learn: a few repeated "sentences"
    sents = [r.integers(0, NTOKEN, r.integers(4, 9)) for _ in range(6)]
    corpus = np.concatenate([sents[i] for i in r.integers(0, 6, 300)]).astype(np.int64)
    init = program(torch, corpus, 0)[0].state_dict()
    tmodel, tl = program(torch, corpus, 40, weights=init, path=str(tmp_path / "t.pt"))
    fmodel, fl = program(fastnn, corpus, 40,
                         weights={k: v.numpy() for k, v in init.items()},
                         path=str(tmp_path / "f.fnn"))
    np.testing.assert_allclose(fl[:5], tl[:5], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(fl, tl, rtol=2e-3, atol=2e-3)
    assert np.mean(fl[-5:]) < np.mean(fl[:5]) - 0.4
    # the saved state dict loads back into the same architecture under torch
    sd = fastnn.load(str(tmp_path / "f.fnn"))
    tmodel.load_state_dict({k: torch.tensor(np.asarray(v)) for k, v in sd.items()})
