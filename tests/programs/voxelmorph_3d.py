# Deformable 3-D registration as VoxelMorph writes it, on small volumes made
# from the digits: a Conv3d encoder-decoder (LeakyReLU, F.interpolate
# trilinear upsampling, skip connections by torch.cat) predicting a dense
# displacement field whose last conv starts near zero (its loaded weights
# scaled down, the bias zeroed, under torch.no_grad), the SpatialTransformer
# module (an identity grid from torch.meshgrid(indexing="ij") kept in a
# non-persistent buffer, new_locs = grid + flow, each axis normalised to
# [-1, 1], permute and flip of the channel order, F.grid_sample(...,
# align_corners=True) on 5-D input), the MSE image loss plus the spatial
# gradient (diffusion) regulariser on the flow, Adam; plus integrating a
# stationary velocity field by scaling and squaring (VecInt).
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as nnf


class SpatialTransformer(nn.Module):
    """N-D Spatial Transformer"""

    def __init__(self, size, mode="bilinear"):
        super().__init__()
        self.mode = mode
        # create sampling grid
        vectors = [torch.arange(0, s) for s in size]
        grids = torch.meshgrid(vectors, indexing="ij")
        grid = torch.stack(grids)
        grid = torch.unsqueeze(grid, 0)
        grid = grid.type(torch.FloatTensor)
        # registering the grid as a buffer cleanly moves it to the GPU, but it also
        # adds it to the state dict. this is annoying since everything in the state dict
        # is included when saving weights to disk, so the model files are way bigger
        # than they need to be. so far, there does not appear to be an elegant solution.
        # see: https://discuss.pytorch.org/t/how-to-register-buffer-without-polluting-state-dict
        self.register_buffer("grid", grid, persistent=False)

    def forward(self, src, flow):
        # new locations
        new_locs = self.grid + flow
        shape = flow.shape[2:]
        # need to normalize grid values to [-1, 1] for resampler
        for i in range(len(shape)):
            new_locs[:, i, ...] = 2 * (new_locs[:, i, ...] / (shape[i] - 1) - 0.5)
        # move channels dim to last position
        # also not sure why, but the channels need to be reversed
        if len(shape) == 2:
            new_locs = new_locs.permute(0, 2, 3, 1)
            new_locs = new_locs[..., [1, 0]]
        elif len(shape) == 3:
            new_locs = new_locs.permute(0, 2, 3, 4, 1)
            new_locs = new_locs[..., [2, 1, 0]]
        return nnf.grid_sample(src, new_locs, align_corners=True, mode=self.mode)


class VecInt(nn.Module):
    """Integrates a vector field via scaling and squaring."""

    def __init__(self, inshape, nsteps):
        super().__init__()
        assert nsteps >= 0, "nsteps should be >= 0, found: %d" % nsteps
        self.nsteps = nsteps
        self.scale = 1.0 / (2 ** self.nsteps)
        self.transformer = SpatialTransformer(inshape)

    def forward(self, vec):
        vec = vec * self.scale
        for _ in range(self.nsteps):
            vec = vec + self.transformer(vec, vec)
        return vec


class ConvBlock(nn.Module):
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.main = nn.Conv3d(in_channels, out_channels, 3, stride, 1)
        self.activation = nn.LeakyReLU(0.2)

    def forward(self, x):
        return self.activation(self.main(x))


class Net(nn.Module):
    def __init__(self, inshape=(8, 8, 8)):
        super().__init__()
        self.enc1 = ConvBlock(2, 8)
        self.enc2 = ConvBlock(8, 8, stride=2)
        self.dec1 = ConvBlock(8, 8)
        self.dec2 = ConvBlock(16, 8)
        self.flow = nn.Conv3d(8, 3, kernel_size=3, padding=1)
        self.transformer = SpatialTransformer(inshape)
        self.integrate = VecInt(inshape, 3)

    def forward(self, source, target, diffeomorphic=False):
        x = torch.cat([source, target], dim=1)
        e1 = self.enc1(x)
        e2 = self.enc2(e1)
        d1 = self.dec1(e2)
        up = nnf.interpolate(d1, scale_factor=2, mode="trilinear", align_corners=False)
        d2 = self.dec2(torch.cat([up, e1], dim=1))
        flow_field = self.flow(d2)
        if diffeomorphic:
            flow_field = self.integrate(flow_field)
        y_source = self.transformer(source, flow_field)
        return y_source, flow_field


class Grad:
    """N-D gradient loss."""

    def __init__(self, penalty="l1", loss_mult=None):
        self.penalty = penalty
        self.loss_mult = loss_mult

    def loss(self, _, y_pred):
        dy = torch.abs(y_pred[:, :, 1:, :, :] - y_pred[:, :, :-1, :, :])
        dx = torch.abs(y_pred[:, :, :, 1:, :] - y_pred[:, :, :, :-1, :])
        dz = torch.abs(y_pred[:, :, :, :, 1:] - y_pred[:, :, :, :, :-1])
        if self.penalty == "l2":
            dy = dy * dy
            dx = dx * dx
            dz = dz * dz
        d = torch.mean(dx) + torch.mean(dy) + torch.mean(dz)
        grad = d / 3.0
        if self.loss_mult is not None:
            grad *= self.loss_mult
        return grad


def make_volumes(images):
    """8x8x8 volumes: each digit extruded along z with a Gaussian profile."""
    z = torch.arange(8, dtype=torch.float32)
    profile = torch.exp(-((z - 3.5) ** 2) / 6.0).view(1, 8, 1, 1)
    return (images.unsqueeze(1) * profile).unsqueeze(1)     # (N, 1, 8, 8, 8)


def main(workdir):
    d = np.load(os.path.join(workdir, "digits.npz"))
    images = torch.from_numpy(d["images"][:64, 0].astype(np.float32) / 16.0)
    fixed = make_volumes(images)
    moving = torch.roll(fixed, shifts=(1, -1), dims=(3, 4))
    model = Net()
    model.load_state_dict(torch.load(os.path.join(workdir, "init.pt"), map_location="cpu"))
    with torch.no_grad():
        model.flow.weight.mul_(0.01)
        model.flow.bias.zero_()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    image_loss = nn.MSELoss()
    reg = Grad("l2", loss_mult=2)
    log = [{"grid_keys": "transformer.grid" in model.state_dict(),
            "grid_sum": model.transformer.grid.sum().item()}]
    for step in range(10):
        sl = slice((step % 4) * 16, (step % 4 + 1) * 16)
        src, tgt = moving[sl], fixed[sl]
        y_source, flow = model(src, tgt, diffeomorphic=step >= 6)
        sim = image_loss(y_source, tgt)
        smooth = reg.loss(None, flow)
        loss = sim + 0.01 * smooth
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        log.append({"loss": loss.item(), "sim": sim.item(), "smooth": smooth.item(),
                    "flow_abs": flow.abs().mean().item()})
    with torch.no_grad():
        y, flow = model(moving[:16], fixed[:16])
        near = SpatialTransformer((8, 8, 8), mode="nearest")(moving[:16], flow)
    log.append({"before": nnf.mse_loss(moving[:16], fixed[:16]).item(),
                "after": nnf.mse_loss(y, fixed[:16]).item(),
                "nearest": nnf.mse_loss(near, fixed[:16]).item()})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
