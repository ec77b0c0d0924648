# The "Advanced: Making Dynamic Decisions and the Bi-LSTM CRF" tutorial: a
# BiLSTM emitting tag scores, a CRF with a transitions Parameter whose START
# / STOP rows are set to -10000, the forward algorithm written with the
# tutorial's log_sum_exp (max + log(sum(exp))) over torch.full / torch.cat,
# the gold path score, Viterbi decoding with backpointers (argmax via
# torch.max), SGD with weight_decay; then the batched version as the NER
# repositories write it: torch.logsumexp over broadcast scores, a mask, gather
# for the gold emissions and transitions, and a batched Viterbi with
# max(dim) values and indices.
import json
import os
import sys

import numpy as np
import torch
import torch.autograd as autograd
import torch.nn as nn
import torch.optim as optim

START_TAG = "<START>"
STOP_TAG = "<STOP>"
EMBEDDING_DIM = 8
HIDDEN_DIM = 8

WORDS = ["the", "a", "wall", "street", "journal", "reported", "today", "that", "apple",
         "corporation", "made", "money", "georgia", "tech", "is", "university", "in",
         "new", "york", "visited", "bob", "smith", "and", "alice", "jones"]
word_to_ix = {w: i for i, w in enumerate(WORDS)}
tag_to_ix = {"B": 0, "I": 1, "O": 2, START_TAG: 3, STOP_TAG: 4}
ix_to_tag = {v: k for k, v in tag_to_ix.items()}


def argmax(vec):
    # return the argmax as a python int
    _, idx = torch.max(vec, 1)
    return idx.item()


def prepare_sequence(seq, to_ix):
    idxs = [to_ix[w] for w in seq]
    return torch.tensor(idxs, dtype=torch.long)


# Compute log sum exp in a numerically stable way for the forward algorithm
def log_sum_exp(vec):
    max_score = vec[0, argmax(vec)]
    max_score_broadcast = max_score.view(1, -1).expand(1, vec.size()[1])
    return max_score + torch.log(torch.sum(torch.exp(vec - max_score_broadcast)))


class BiLSTM_CRF(nn.Module):

    def __init__(self, vocab_size, tag_to_ix, embedding_dim, hidden_dim):
        super(BiLSTM_CRF, self).__init__()
        self.embedding_dim = embedding_dim
        self.hidden_dim = hidden_dim
        self.vocab_size = vocab_size
        self.tag_to_ix = tag_to_ix
        self.tagset_size = len(tag_to_ix)

        self.word_embeds = nn.Embedding(vocab_size, embedding_dim)
        self.lstm = nn.LSTM(embedding_dim, hidden_dim // 2,
                            num_layers=1, bidirectional=True)

        # Maps the output of the LSTM into tag space.
        self.hidden2tag = nn.Linear(hidden_dim, self.tagset_size)

        # Matrix of transition parameters.  Entry i,j is the score of
        # transitioning *to* i *from* j.
        self.transitions = nn.Parameter(
            torch.randn(self.tagset_size, self.tagset_size))

        # These two statements enforce the constraint that we never transfer
        # to the start tag and we never transfer from the stop tag
        self.transitions.data[tag_to_ix[START_TAG], :] = -10000
        self.transitions.data[:, tag_to_ix[STOP_TAG]] = -10000

        self.hidden = self.init_hidden()

    def init_hidden(self):
        return (torch.zeros(2, 1, self.hidden_dim // 2),
                torch.zeros(2, 1, self.hidden_dim // 2))

    def _forward_alg(self, feats):
        # Do the forward algorithm to compute the partition function
        init_alphas = torch.full((1, self.tagset_size), -10000.)
        # START_TAG has all of the score.
        init_alphas[0][self.tag_to_ix[START_TAG]] = 0.

        # Wrap in a variable so that we will get automatic backprop
        forward_var = init_alphas

        # Iterate through the sentence
        for feat in feats:
            alphas_t = []  # The forward tensors at this timestep
            for next_tag in range(self.tagset_size):
                # broadcast the emission score: it is the same regardless of
                # the previous tag
                emit_score = feat[next_tag].view(
                    1, -1).expand(1, self.tagset_size)
                # the ith entry of trans_score is the score of transitioning to
                # next_tag from i
                trans_score = self.transitions[next_tag].view(1, -1)
                # The ith entry of next_tag_var is the value for the
                # edge (i -> next_tag) before we do log-sum-exp
                next_tag_var = forward_var + trans_score + emit_score
                # The forward variable for this tag is log-sum-exp of all the
                # scores.
                alphas_t.append(log_sum_exp(next_tag_var).view(1))
            forward_var = torch.cat(alphas_t).view(1, -1)
        terminal_var = forward_var + self.transitions[self.tag_to_ix[STOP_TAG]]
        alpha = log_sum_exp(terminal_var)
        return alpha

    def _get_lstm_features(self, sentence):
        self.hidden = self.init_hidden()
        embeds = self.word_embeds(sentence).view(len(sentence), 1, -1)
        lstm_out, self.hidden = self.lstm(embeds, self.hidden)
        lstm_out = lstm_out.view(len(sentence), self.hidden_dim)
        lstm_feats = self.hidden2tag(lstm_out)
        return lstm_feats

    def _score_sentence(self, feats, tags):
        # Gives the score of a provided tag sequence
        score = torch.zeros(1)
        tags = torch.cat([torch.tensor([self.tag_to_ix[START_TAG]], dtype=torch.long), tags])
        for i, feat in enumerate(feats):
            score = score + \
                self.transitions[tags[i + 1], tags[i]] + feat[tags[i + 1]]
        score = score + self.transitions[self.tag_to_ix[STOP_TAG], tags[-1]]
        return score

    def _viterbi_decode(self, feats):
        backpointers = []

        # Initialize the viterbi variables in log space
        init_vvars = torch.full((1, self.tagset_size), -10000.)
        init_vvars[0][self.tag_to_ix[START_TAG]] = 0

        # forward_var at step i holds the viterbi variables for step i-1
        forward_var = init_vvars
        for feat in feats:
            bptrs_t = []  # holds the backpointers for this step
            viterbivars_t = []  # holds the viterbi variables for this step

            for next_tag in range(self.tagset_size):
                # next_tag_var[i] holds the viterbi variable for tag i at the
                # previous step, plus the score of transitioning
                # from tag i to next_tag.
                # We don't include the emission scores here because the max
                # does not depend on them (we add them in below)
                next_tag_var = forward_var + self.transitions[next_tag]
                best_tag_id = argmax(next_tag_var)
                bptrs_t.append(best_tag_id)
                viterbivars_t.append(next_tag_var[0][best_tag_id].view(1))
            # Now add in the emission scores, and assign forward_var to the set
            # of viterbi variables we just computed
            forward_var = (torch.cat(viterbivars_t) + feat).view(1, -1)
            backpointers.append(bptrs_t)

        # Transition to STOP_TAG
        terminal_var = forward_var + self.transitions[self.tag_to_ix[STOP_TAG]]
        best_tag_id = argmax(terminal_var)
        path_score = terminal_var[0][best_tag_id]

        # Follow the back pointers to decode the best path.
        best_path = [best_tag_id]
        for bptrs_t in reversed(backpointers):
            best_tag_id = bptrs_t[best_tag_id]
            best_path.append(best_tag_id)
        # Pop off the start tag (we dont want to return that to the caller)
        start = best_path.pop()
        assert start == self.tag_to_ix[START_TAG]  # Sanity check
        best_path.reverse()
        return path_score, best_path

    def neg_log_likelihood(self, sentence, tags):
        feats = self._get_lstm_features(sentence)
        forward_score = self._forward_alg(feats)
        gold_score = self._score_sentence(feats, tags)
        return forward_score - gold_score

    def forward(self, sentence):  # dont confuse this with _forward_alg above.
        # Get the emission scores from the BiLSTM
        lstm_feats = self._get_lstm_features(sentence)

        # Find the best path, given the features.
        score, tag_seq = self._viterbi_decode(lstm_feats)
        return score, tag_seq


class Net(BiLSTM_CRF):
    def __init__(self):
        super().__init__(len(word_to_ix), tag_to_ix, EMBEDDING_DIM, HIDDEN_DIM)


def batched_nll(model, sentences, tags, mask):
    """The vectorised CRF loss over a padded (T, B) batch."""
    T, B = sentences.shape
    emb = model.word_embeds(sentences)
    out, _ = model.lstm(emb)
    feats = model.hidden2tag(out)                       # (T, B, K)
    trans = model.transitions                           # [to, from]
    start, stop = model.tag_to_ix[START_TAG], model.tag_to_ix[STOP_TAG]
    alpha = trans[:, start].unsqueeze(0) + feats[0]     # (B, K)
    for t in range(1, T):
        scores = alpha.unsqueeze(1) + trans.unsqueeze(0) + feats[t].unsqueeze(2)
        new = torch.logsumexp(scores, dim=2)
        m = mask[t].unsqueeze(1)
        alpha = torch.where(m, new, alpha)
    log_z = torch.logsumexp(alpha + trans[stop].unsqueeze(0), dim=1)
    emit = feats.gather(2, tags.unsqueeze(2)).squeeze(2)            # (T, B)
    prev = torch.cat([torch.full((1, B), start, dtype=torch.long), tags[:-1]], 0)
    tr = trans[tags, prev]
    gold = ((emit + tr) * mask.float()).sum(0)
    lengths = mask.long().sum(0)
    last = tags.gather(0, (lengths - 1).unsqueeze(0)).squeeze(0)
    gold = gold + trans[stop, last]
    return (log_z - gold).mean()


def batched_viterbi(model, sentences, mask):
    T, B = sentences.shape
    with torch.no_grad():
        out, _ = model.lstm(model.word_embeds(sentences))
        feats = model.hidden2tag(out)
        trans = model.transitions
        start, stop = model.tag_to_ix[START_TAG], model.tag_to_ix[STOP_TAG]
        score = trans[:, start].unsqueeze(0) + feats[0]
        history = []
        for t in range(1, T):
            cand = score.unsqueeze(1) + trans.unsqueeze(0)      # (B, to, from)
            best, idx = cand.max(dim=2)
            new = best + feats[t]
            m = mask[t].unsqueeze(1)
            score = torch.where(m, new, score)
            history.append(torch.where(m, idx, torch.arange(idx.size(1)).expand_as(idx)))
        score = score + trans[stop].unsqueeze(0)
        best_score, best_last = score.max(dim=1)
        paths = [best_last]
        for idx in reversed(history):
            best_last = idx.gather(1, best_last.unsqueeze(1)).squeeze(1)
            paths.append(best_last)
        paths.reverse()
        return best_score, torch.stack(paths, 0)


TEMPLATES = [
    ("the wall street journal reported today that apple corporation made money",
     "B I I I O O O B I O O"),
    ("georgia tech is a university in georgia", "B I O O O O B"),
    ("bob smith visited new york", "B I O B I"),
    ("alice jones and bob smith visited georgia tech", "B I O B I O B I"),
    ("apple corporation visited the university", "B I O O O"),
    ("the journal reported that alice jones made money today", "O O O O B I O O O"),
]


def main(workdir):
    training_data = [(s.split(), t.split()) for s, t in TEMPLATES]
    model = Net()
    model.load_state_dict(torch.load(os.path.join(workdir, "init.pt"), map_location="cpu"))
    optimizer = optim.SGD(model.parameters(), lr=0.05, weight_decay=1e-4)
    log = []
    # Check predictions before training
    with torch.no_grad():
        precheck_sent = prepare_sequence(training_data[0][0], word_to_ix)
        score, path = model(precheck_sent)
        log.append({"score": score.item(), "path": path})

    for epoch in range(4):
        for sentence, tags in training_data:
            # Step 1. Remember that Pytorch accumulates gradients.
            model.zero_grad()
            # Step 2. Get our inputs ready for the network
            sentence_in = prepare_sequence(sentence, word_to_ix)
            targets = torch.tensor([tag_to_ix[t] for t in tags], dtype=torch.long)
            # Step 3. Run our forward pass.
            loss = model.neg_log_likelihood(sentence_in, targets)
            # Step 4. Compute the loss, gradients, and update the parameters
            loss.backward()
            optimizer.step()
            log.append({"loss": loss.item(),
                        "trans_grad": model.transitions.grad.abs().sum().item()})

    # the batched CRF: padded (T, B) batches with a mask
    T = max(len(s) for s, _ in training_data)
    sent = torch.zeros(T, len(training_data), dtype=torch.long)
    tg = torch.full((T, len(training_data)), tag_to_ix["O"], dtype=torch.long)
    mask = torch.zeros(T, len(training_data), dtype=torch.bool)
    for b, (s, t) in enumerate(training_data):
        sent[:len(s), b] = prepare_sequence(s, word_to_ix)
        tg[:len(t), b] = torch.tensor([tag_to_ix[x] for x in t])
        mask[:len(s), b] = True
    # the batched loss of the first sentence equals the tutorial's
    with torch.no_grad():
        one = batched_nll(model, sent[:, :1][:len(training_data[0][0])],
                          tg[:, :1][:len(training_data[0][0])],
                          mask[:, :1][:len(training_data[0][0])])
        ref = model.neg_log_likelihood(prepare_sequence(training_data[0][0], word_to_ix),
                                       tg[:len(training_data[0][0]), 0])
    log.append({"batched_one": one.item(), "tutorial_one": ref.item()})
    for step in range(8):
        optimizer.zero_grad()
        loss = batched_nll(model, sent, tg, mask)
        loss.backward()
        optimizer.step()
        log.append({"loss": loss.item()})
    best, paths = batched_viterbi(model, sent, mask)
    correct = ((paths == tg) & mask).sum().item()
    with torch.no_grad():
        s0, p0 = model(prepare_sequence(training_data[2][0], word_to_ix))
    log.append({"best_sum": best.sum().item(), "best_min": best.min().item(),
                "correct": correct, "total": int(mask.sum()),
                "tutorial_path": p0, "batched_path": paths[:len(training_data[2][0]), 2].tolist(),
                "tags": [ix_to_tag[i] for i in p0]})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
