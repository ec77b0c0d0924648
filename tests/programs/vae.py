# A variational autoencoder as in the PyTorch examples: reparameterisation
# with torch.randn_like, binary_cross_entropy(reduction='sum') plus the KL term.
import json
import os
import sys

import numpy as np
import torch
from torch import nn, optim
from torch.nn import functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 48)
        self.fc21 = nn.Linear(48, 8)
        self.fc22 = nn.Linear(48, 8)
        self.fc3 = nn.Linear(8, 48)
        self.fc4 = nn.Linear(48, 64)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        eps = torch.randn_like(std)
        return mu + eps * std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 64))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


def loss_function(recon_x, x, mu, logvar):
    BCE = F.binary_cross_entropy(recon_x, x.view(-1, 64), reduction='sum')
    KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return BCE + KLD


def main(workdir):
    d = np.load(os.path.join(workdir, "digits.npz"))
    data = torch.from_numpy((d["images"][:512] / 16.0).astype(np.float32))
    model = Net()
    model.load_state_dict(torch.load(os.path.join(workdir, "init.pt"), map_location="cpu"))
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    log = []
    for epoch in range(3):
        model.train()
        for i in range(0, 512, 64):
            x = data[i:i + 64]
            optimizer.zero_grad()
            recon_batch, mu, logvar = model(x)
            loss = loss_function(recon_batch, x, mu, logvar)
            loss.backward()
            optimizer.step()
            log.append({"loss": loss.item() / len(x)})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
