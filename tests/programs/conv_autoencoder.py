# A convolutional autoencoder as in the course notebooks: an encoder ending
# in nn.Flatten and a Linear bottleneck, a decoder starting with nn.Unflatten
# and ConvTranspose2d with output_padding, MSELoss, Adam, and a denoising
# variant fed by torch.clamp(noisy, 0, 1).
import json
import os
import sys

import numpy as np
import torch
from torch import nn


class Encoder(nn.Module):
    def __init__(self, encoded_space_dim):
        super().__init__()
        self.encoder_cnn = nn.Sequential(
            nn.Conv2d(1, 8, 3, stride=2, padding=1),   # 14
            nn.ReLU(True),
            nn.Conv2d(8, 16, 3, stride=2, padding=1),  # 7
            nn.BatchNorm2d(16),
            nn.ReLU(True),
            nn.Conv2d(16, 32, 3, stride=2, padding=0),  # 3
            nn.ReLU(True),
        )
        self.flatten = nn.Flatten(start_dim=1)
        self.encoder_lin = nn.Sequential(nn.Linear(3 * 3 * 32, 64), nn.ReLU(True),
                                         nn.Linear(64, encoded_space_dim))

    def forward(self, x):
        x = self.encoder_cnn(x)
        x = self.flatten(x)
        return self.encoder_lin(x)


class Decoder(nn.Module):
    def __init__(self, encoded_space_dim):
        super().__init__()
        self.decoder_lin = nn.Sequential(nn.Linear(encoded_space_dim, 64), nn.ReLU(True),
                                         nn.Linear(64, 3 * 3 * 32), nn.ReLU(True))
        self.unflatten = nn.Unflatten(dim=1, unflattened_size=(32, 3, 3))
        self.decoder_conv = nn.Sequential(
            nn.ConvTranspose2d(32, 16, 3, stride=2, output_padding=0),          # 7
            nn.BatchNorm2d(16),
            nn.ReLU(True),
            nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1, output_padding=1),  # 14
            nn.BatchNorm2d(8),
            nn.ReLU(True),
            nn.ConvTranspose2d(8, 1, 3, stride=2, padding=1, output_padding=1),   # 28
        )

    def forward(self, x):
        x = self.decoder_lin(x)
        x = self.unflatten(x)
        x = self.decoder_conv(x)
        return torch.sigmoid(x)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = Encoder(encoded_space_dim=4)
        self.decoder = Decoder(encoded_space_dim=4)

    def forward(self, x):
        return self.decoder(self.encoder(x))


def main(workdir):
    d = np.load(os.path.join(workdir, "digits.npz"))
    x8 = torch.from_numpy(d["images"][:256] / 16.0).float()
    # 28x28 as MNIST: the 8x8 digit scaled to 24x24, padded by 2
    images = torch.nn.functional.pad(torch.repeat_interleave(
        torch.repeat_interleave(x8, 3, dim=2), 3, dim=3), (2, 2, 2, 2))
    assert images.shape == (256, 1, 28, 28)
    noise = torch.from_numpy(np.random.default_rng(1).standard_normal(
        (256, 1, 28, 28)).astype(np.float32))
    model = Net()
    model.load_state_dict(torch.load(os.path.join(workdir, "init.pt"), map_location="cpu"))
    params_to_optimize = [
        {"params": model.encoder.parameters()},
        {"params": model.decoder.parameters()},
    ]
    optim = torch.optim.Adam(params_to_optimize, lr=1e-3, weight_decay=1e-5)
    loss_fn = torch.nn.MSELoss()
    log = []
    for epoch in range(3):
        model.train()
        train_loss = []
        for i in range(0, 256, 32):
            image_batch = images[i:i + 32]
            noisy = torch.clamp(image_batch + 0.3 * noise[i:i + 32], 0.0, 1.0)
            decoded = model(noisy)
            loss = loss_fn(decoded, image_batch)
            optim.zero_grad()
            loss.backward()
            optim.step()
            train_loss.append(loss.detach().cpu().numpy())
            log.append({"loss": float(loss.item())})
        model.eval()
        with torch.no_grad():
            rec = model(images[:32])
            val = loss_fn(rec.cpu(), images[:32]).data
        log.append({"mean_train": float(np.mean(train_loss)), "val": float(val)})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
