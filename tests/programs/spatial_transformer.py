# The "Spatial Transformer Networks" tutorial on the digits: a localisation
# net (Conv2d, MaxPool2d, ReLU) regressing a 2x3 affine matrix whose last
# layer starts at the identity transform (weight zeroed, bias copied from a
# tensor), F.affine_grid + F.grid_sample to resample the input, a classifier
# after it, SGD, and the digits distorted by random rotations/scalings made
# with affine_grid / grid_sample themselves (padding_mode="border",
# align_corners=True, bilinear, nearest and bicubic).
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, kernel_size=3, padding=1)
        self.conv2_drop = nn.Dropout2d(p=0.0)
        self.fc1 = nn.Linear(16 * 4 * 4, 32)
        self.fc2 = nn.Linear(32, 10)

        # Spatial transformer localization-network
        self.localization = nn.Sequential(
            nn.Conv2d(1, 8, kernel_size=3),
            nn.MaxPool2d(2, stride=2),
            nn.ReLU(True),
            nn.Conv2d(8, 10, kernel_size=3),
            nn.ReLU(True),
        )
        # Regressor for the 3 * 2 affine matrix
        self.fc_loc = nn.Sequential(
            nn.Linear(10 * 5 * 5, 32),
            nn.ReLU(True),
            nn.Linear(32, 3 * 2),
        )
        # Initialize the weights/bias with identity transformation
        self.fc_loc[2].weight.data.zero_()
        self.fc_loc[2].bias.data.copy_(torch.tensor([1, 0, 0, 0, 1, 0], dtype=torch.float))

    # Spatial transformer network forward function
    def stn(self, x):
        xs = self.localization(x)
        xs = xs.view(-1, 10 * 5 * 5)
        theta = self.fc_loc(xs)
        theta = theta.view(-1, 2, 3)

        grid = F.affine_grid(theta, x.size(), align_corners=False)
        x = F.grid_sample(x, grid, align_corners=False)
        return x, theta

    def forward(self, x):
        # transform the input
        x, theta = self.stn(x)

        # Perform the usual forward pass
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
        x = x.view(-1, 16 * 4 * 4)
        x = F.relu(self.fc1(x))
        x = self.fc2(x)
        return F.log_softmax(x, dim=1), theta


def distort(images, rng):
    """Random rotation / scaling / shift of each image, on a 16x16 canvas."""
    n = images.size(0)
    angle = torch.from_numpy(rng.uniform(-0.6, 0.6, n).astype(np.float32))
    scale = torch.from_numpy(rng.uniform(0.8, 1.2, n).astype(np.float32))
    shift = torch.from_numpy(rng.uniform(-0.15, 0.15, (n, 2)).astype(np.float32))
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = torch.cos(angle) * scale
    theta[:, 0, 1] = -torch.sin(angle) * scale
    theta[:, 1, 0] = torch.sin(angle) * scale
    theta[:, 1, 1] = torch.cos(angle) * scale
    theta[:, :, 2] = shift
    big = F.interpolate(images, size=(16, 16), mode="bilinear", align_corners=False)
    grid = F.affine_grid(theta, [n, 1, 16, 16], align_corners=True)
    out = F.grid_sample(big, grid, mode="bilinear", padding_mode="border", align_corners=True)
    near = F.grid_sample(big, grid, mode="nearest", padding_mode="zeros", align_corners=False)
    cubic = F.grid_sample(big, grid, mode="bicubic", padding_mode="reflection",
                          align_corners=False)
    return out, near, cubic


def main(workdir):
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    d = np.load(os.path.join(workdir, "digits.npz"))
    images = torch.from_numpy(d["images"].astype(np.float32) / 16.0)
    labels = torch.from_numpy(d["labels"].astype(np.int64))
    x_all, x_near, x_cubic = distort(images, rng)
    train_x, train_y = x_all[:640], labels[:640]
    test_x, test_y = x_all[1400:], labels[1400:]

    model = Net()
    model.load_state_dict(torch.load(os.path.join(workdir, "init.pt"), map_location="cpu"))
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    log = [{"distorted_sum": x_all.sum().item(), "nearest_sum": x_near.sum().item(),
            "nearest_max": x_near.max().item(), "bicubic_sum": x_cubic.sum().item(),
            "bicubic_min": x_cubic.min().item()}]
    for epoch in range(3):
        model.train()
        for batch_idx in range(10):
            data = train_x[batch_idx * 64:(batch_idx + 1) * 64]
            target = train_y[batch_idx * 64:(batch_idx + 1) * 64]
            optimizer.zero_grad()
            output, theta = model(data)
            loss = F.nll_loss(output, target)
            loss.backward()
            loc_grad = model.fc_loc[2].weight.grad.norm().item()
            optimizer.step()
            log.append({"loss": loss.item(), "loc_grad": loc_grad,
                        "theta_dev": (theta - torch.tensor([[1.0, 0, 0], [0, 1.0, 0]]))
                        .abs().mean().item()})

    model.eval()
    with torch.no_grad():
        test_loss = 0
        correct = 0
        output, _ = model(test_x)
        test_loss += F.nll_loss(output, test_y, reduction="sum").item()
        pred = output.max(1, keepdim=True)[1]
        correct += pred.eq(test_y.view_as(pred)).sum().item()
        transformed, _ = model.stn(test_x[:8])
    log.append({"test_loss": test_loss / len(test_y), "correct": correct,
                "transformed_mean": transformed.mean().item()})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
