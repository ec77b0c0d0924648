# A two-layer graph convolutional network (Kipf & Welling, as the pygcn code
# writes it) on a k-nearest-neighbour graph of the digits: a dense adjacency
# D^-1/2 (A + I) D^-1/2 from torch.diag and torch.pow(deg, -0.5), the layer's
# `torch.spmm(adj, support) if adj.is_sparse else torch.mm(adj, support)`,
# training on a boolean node mask, validation on index tensors; then an
# autoencoder with tied weights (F.linear(h, self.enc.weight.t(), bias)).
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim


class GraphConvolution(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super(GraphConvolution, self).__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = nn.Parameter(torch.FloatTensor(in_features, out_features))
        if bias:
            self.bias = nn.Parameter(torch.FloatTensor(out_features))
        else:
            self.register_parameter('bias', None)
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1. / math.sqrt(self.weight.size(1))
        self.weight.data.uniform_(-stdv, stdv)
        if self.bias is not None:
            self.bias.data.uniform_(-stdv, stdv)

    def forward(self, input, adj):
        support = torch.mm(input, self.weight)
        output = torch.spmm(adj, support) if adj.is_sparse else torch.mm(adj, support)
        if self.bias is not None:
            return output + self.bias
        else:
            return output

    def __repr__(self):
        return self.__class__.__name__ + ' (' \
               + str(self.in_features) + ' -> ' \
               + str(self.out_features) + ')'


class GCN(nn.Module):
    def __init__(self, nfeat, nhid, nclass, dropout):
        super(GCN, self).__init__()
        self.gc1 = GraphConvolution(nfeat, nhid)
        self.gc2 = GraphConvolution(nhid, nclass)
        self.dropout = dropout

    def forward(self, x, adj):
        x = F.relu(self.gc1(x, adj))
        x = F.dropout(x, self.dropout, training=self.training)
        x = self.gc2(x, adj)
        return F.log_softmax(x, dim=1)


class TiedAutoencoder(nn.Module):
    def __init__(self, d_in, d_hidden):
        super().__init__()
        self.enc = nn.Linear(d_in, d_hidden)
        self.dec_bias = nn.Parameter(torch.zeros(d_in))

    def forward(self, x):
        h = torch.sigmoid(self.enc(x))
        return torch.sigmoid(F.linear(h, self.enc.weight.t(), self.dec_bias))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.gcn = GCN(nfeat=64, nhid=32, nclass=10, dropout=0.0)
        self.ae = TiedAutoencoder(64, 16)


def normalize_adj(adj):
    """D^-1/2 (A + I) D^-1/2"""
    adj = adj + torch.eye(adj.size(0))
    rowsum = adj.sum(1)
    r_inv_sqrt = torch.pow(rowsum, -0.5)
    r_inv_sqrt[torch.isinf(r_inv_sqrt)] = 0.
    r_mat_inv_sqrt = torch.diag(r_inv_sqrt)
    return r_mat_inv_sqrt @ adj @ r_mat_inv_sqrt


def accuracy(output, labels):
    preds = output.max(1)[1].type_as(labels)
    correct = preds.eq(labels).double()
    correct = correct.sum()
    return correct / len(labels)


def main(workdir):
    d = np.load(os.path.join(workdir, "digits.npz"))
    n = 300
    feats = (d["images"][:n].reshape(n, -1) / 16.0).astype(np.float32)
    # the graph's edges, as a dataset ships them: each node to its 5 nearest
    # neighbours (ties broken by index)
    dist = ((feats[:, None, :] - feats[None, :, :]) ** 2).sum(-1)
    edges = np.array([(i, j) for i in range(n)
                      for j in np.argsort(dist[i], kind="stable")[1:6]])

    features = torch.FloatTensor(feats)
    labels = torch.LongTensor(d["labels"][:n])
    adj = torch.zeros(n, n)
    adj[torch.from_numpy(edges[:, 0]), torch.from_numpy(edges[:, 1])] = 1.0
    adj = ((adj + adj.t()) > 0).float()
    adj = normalize_adj(adj)

    idx_train = torch.LongTensor(range(60))
    idx_val = torch.LongTensor(range(60, 160))
    idx_test = torch.arange(160, n)
    train_mask = torch.zeros(n, dtype=torch.bool)
    train_mask[idx_train] = True

    net = Net()
    net.load_state_dict(torch.load(os.path.join(workdir, "init.pt"), map_location="cpu"))
    model = net.gcn
    optimizer = optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)
    log = []
    for epoch in range(40):
        model.train()
        optimizer.zero_grad()
        output = model(features, adj)
        loss_train = F.nll_loss(output[train_mask], labels[train_mask])
        acc_train = accuracy(output[idx_train], labels[idx_train])
        loss_train.backward()
        optimizer.step()

        model.eval()
        output = model(features, adj)
        loss_val = F.nll_loss(output[idx_val], labels[idx_val])
        acc_val = accuracy(output[idx_val], labels[idx_val])
        log.append({"loss": loss_train.item(), "acc_train": acc_train.item(),
                    "loss_val": loss_val.item(), "acc_val": acc_val.item()})
    model.eval()
    output = model(features, adj)
    acc_test = accuracy(output[idx_test], labels[idx_test])
    print("Test set results:", "accuracy= {:.4f}".format(acc_test.item()), file=sys.stderr)
    log.append({"acc_test": acc_test.item()})

    ae = net.ae
    opt = optim.SGD(ae.parameters(), lr=0.5, momentum=0.9)
    for step in range(30):
        recon = ae(features)
        loss = F.binary_cross_entropy(recon, features)
        opt.zero_grad()
        loss.backward()
        opt.step()
        log.append({"loss": loss.item()})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
