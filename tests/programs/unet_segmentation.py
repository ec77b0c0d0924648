# A small U-Net for binary segmentation as the tutorials write it: double
# conv blocks, MaxPool2d down, ConvTranspose2d and F.interpolate up, skip
# connections joined with torch.cat, BCEWithLogitsLoss plus a soft Dice loss,
# and IoU measured on thresholded sigmoid outputs.
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class DoubleConv(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.double_conv = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )

    def forward(self, x):
        return self.double_conv(x)


class Down(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.maxpool_conv = nn.Sequential(nn.MaxPool2d(2), DoubleConv(in_channels, out_channels))

    def forward(self, x):
        return self.maxpool_conv(x)


class Up(nn.Module):
    def __init__(self, in_channels, out_channels, bilinear=True):
        super().__init__()
        self.bilinear = bilinear
        if bilinear:
            self.conv = DoubleConv(in_channels + in_channels // 2, out_channels)
        else:
            self.up = nn.ConvTranspose2d(in_channels, in_channels // 2, kernel_size=2, stride=2)
            self.conv = DoubleConv(in_channels, out_channels)

    def forward(self, x1, x2):
        if self.bilinear:
            x1 = F.interpolate(x1, size=x2.shape[2:], mode="bilinear", align_corners=True)
        else:
            x1 = self.up(x1)
        diffY = x2.size()[2] - x1.size()[2]
        diffX = x2.size()[3] - x1.size()[3]
        x1 = F.pad(x1, [diffX // 2, diffX - diffX // 2, diffY // 2, diffY - diffY // 2])
        x = torch.cat([x2, x1], dim=1)
        return self.conv(x)


class Net(nn.Module):
    def __init__(self, n_channels=1, n_classes=1):
        super().__init__()
        self.inc = DoubleConv(n_channels, 8)
        self.down1 = Down(8, 16)
        self.down2 = Down(16, 32)
        self.up1 = Up(32, 16, bilinear=False)
        self.up2 = Up(16, 8, bilinear=True)
        self.outc = nn.Conv2d(8, n_classes, kernel_size=1)

    def forward(self, x):
        x1 = self.inc(x)
        x2 = self.down1(x1)
        x3 = self.down2(x2)
        x = self.up1(x3, x2)
        x = self.up2(x, x1)
        return self.outc(x)


def dice_loss(logits, target, eps=1.0):
    probs = torch.sigmoid(logits)
    num = 2 * (probs * target).sum(dim=(1, 2, 3)) + eps
    den = probs.sum(dim=(1, 2, 3)) + target.sum(dim=(1, 2, 3)) + eps
    return 1 - (num / den).mean()


def main(workdir):
    d = np.load(os.path.join(workdir, "digits.npz"))
    images = torch.from_numpy(d["images"][:256] / 16.0).float()
    images = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)(images)
    masks = (images > 0.4).float()
    noisy = images + 0.1 * torch.from_numpy(
        np.random.default_rng(0).standard_normal(images.shape).astype(np.float32))
    model = Net()
    model.load_state_dict(torch.load(os.path.join(workdir, "init.pt"), map_location="cpu"))
    optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3, weight_decay=1e-8,
                                    momentum=0.9)
    bce = nn.BCEWithLogitsLoss()
    log = []
    for epoch in range(3):
        model.train()
        for i in range(0, 256, 32):
            x, m = noisy[i:i + 32], masks[i:i + 32]
            logits = model(x)
            loss = bce(logits, m) + dice_loss(logits, m)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            log.append({"loss": loss.item()})
        model.eval()
        with torch.no_grad():
            pred = (torch.sigmoid(model(noisy[:64])) > 0.5).float()
            inter = (pred * masks[:64]).sum()
            union = ((pred + masks[:64]) > 0).float().sum()
            log.append({"iou": (inter / union).item()})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
