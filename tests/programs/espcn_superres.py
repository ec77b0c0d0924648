# Single-image super-resolution with an ESPCN (the PyTorch "super_resolution"
# example's sub-pixel network): low-resolution inputs made from the digits
# upsampled to 16x16 by F.interpolate (bicubic, align_corners=False), then
# shrunk by 2 with antialias=True (as torchvision's Resize does), a feature
# extractor of Conv2d + Tanh, nn.PixelShuffle(2) for the upscale, orthogonal_
# init with calculate_gain, F.mse_loss, Adam with MultiStepLR, PSNR from
# torch.log10, and the bicubic-upsampling baseline to beat.
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self, upscale_factor=2):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, (5, 5), (1, 1), (2, 2))
        self.conv2 = nn.Conv2d(32, 16, (3, 3), (1, 1), (1, 1))
        self.conv3 = nn.Conv2d(16, 1 * upscale_factor ** 2, (3, 3), (1, 1), (1, 1))
        self.pixel_shuffle = nn.PixelShuffle(upscale_factor)
        self.act = nn.Tanh()
        self._initialize_weights()

    def forward(self, x):
        x = self.act(self.conv1(x))
        x = self.act(self.conv2(x))
        return self.pixel_shuffle(self.conv3(x))

    def _initialize_weights(self):
        nn.init.orthogonal_(self.conv1.weight, nn.init.calculate_gain("tanh"))
        nn.init.orthogonal_(self.conv2.weight, nn.init.calculate_gain("tanh"))
        nn.init.orthogonal_(self.conv3.weight)


def psnr(mse, max_val=1.0):
    return 10 * torch.log10(max_val ** 2 / mse)


def main(workdir):
    torch.manual_seed(0)
    d = np.load(os.path.join(workdir, "digits.npz"))
    digits = torch.from_numpy(d["images"].astype(np.float32) / 16.0)
    hr = F.interpolate(digits, size=(16, 16), mode="bicubic", align_corners=False).clamp(0, 1)
    lr_img = F.interpolate(hr, scale_factor=0.5, mode="bilinear", align_corners=False,
                           antialias=True)
    lr_bicubic = F.interpolate(hr, scale_factor=0.5, mode="bicubic", align_corners=False,
                               antialias=True)
    model = Net()
    model.load_state_dict(torch.load(os.path.join(workdir, "init.pt"), map_location="cpu"))
    criterion = nn.MSELoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[2, 3], gamma=0.5)
    log = [{"hr_mean": hr.mean().item(), "lr_mean": lr_img.mean().item(),
            "lr_std": lr_img.std().item(), "lr_bicubic_max": lr_bicubic.max().item(),
            "lr_shape": list(lr_img.shape)}]
    for epoch in range(4):
        epoch_loss = 0
        for i in range(0, 640, 64):
            inp, target = lr_img[i:i + 64], hr[i:i + 64]
            optimizer.zero_grad()
            loss = criterion(model(inp), target)
            epoch_loss += loss.item()
            loss.backward()
            optimizer.step()
            log.append({"loss": loss.item()})
        scheduler.step()
        log.append({"epoch_loss": epoch_loss / 10, "lr": scheduler.get_last_lr()[0]})
    model.eval()
    with torch.no_grad():
        test_lr, test_hr = lr_img[1400:], hr[1400:]
        sr = model(test_lr).clamp(0.0, 1.0)
        avg_psnr = psnr(F.mse_loss(sr, test_hr)).item()
        per_image = psnr(((sr - test_hr) ** 2).mean(dim=(1, 2, 3)))
        baseline = F.interpolate(test_lr, scale_factor=2, mode="bicubic", align_corners=False)
        base_psnr = psnr(F.mse_loss(baseline.clamp(0, 1), test_hr)).item()
    log.append({"psnr": avg_psnr, "psnr_median": per_image.median().item(),
                "bicubic_psnr": base_psnr, "beats_bicubic": avg_psnr > base_psnr})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
