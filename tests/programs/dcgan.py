# A DCGAN-style generator and discriminator on 8x8 digits: ConvTranspose2d
# upsampling, BatchNorm, LeakyReLU, Tanh, Sigmoid, BCELoss, two Adam
# optimisers with betas=(0.5, 0.999), and noise from torch.randn.
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim

nz = 16


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, 32, 4, 1, 0, bias=False),      # 4x4
            nn.BatchNorm2d(32),
            nn.ReLU(True),
            nn.ConvTranspose2d(32, 1, 4, 2, 1, bias=False),       # 8x8
            nn.Tanh(),
        )

    def forward(self, x):
        return self.main(x)


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(1, 32, 4, 2, 1, bias=False),                # 4x4
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(32, 1, 4, 1, 0, bias=False),                # 1x1
            nn.Sigmoid(),
        )

    def forward(self, x):
        return self.main(x).view(-1, 1).squeeze(1)


class Net(nn.Module):
    """Both networks in one module (one state dict for the harness)."""

    def __init__(self):
        super().__init__()
        self.netG = Generator()
        self.netD = Discriminator()


def main(workdir):
    d = np.load(os.path.join(workdir, "digits.npz"))
    real_all = torch.from_numpy((d["images"][:256] / 8.0 - 1.0).astype(np.float32))
    both = Net()
    both.load_state_dict(torch.load(os.path.join(workdir, "init.pt"), map_location="cpu"))
    netG, netD = both.netG, both.netD
    criterion = nn.BCELoss()
    optimizerD = optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optimizerG = optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
    log = []
    for i in range(0, 256, 32):
        real = real_all[i:i + 32]
        b_size = real.size(0)
        netD.zero_grad()
        label = torch.full((b_size,), 1.0, dtype=torch.float)
        errD_real = criterion(netD(real), label)
        errD_real.backward()
        noise = torch.randn(b_size, nz, 1, 1)
        fake = netG(noise)
        label.fill_(0.0)
        errD_fake = criterion(netD(fake.detach()), label)
        errD_fake.backward()
        optimizerD.step()
        netG.zero_grad()
        label.fill_(1.0)
        errG = criterion(netD(fake), label)
        errG.backward()
        optimizerG.step()
        log.append({"loss": (errD_real + errD_fake).item(), "errG": errG.item()})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
