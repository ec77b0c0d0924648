# A denoising diffusion model (DDPM, Ho et al.) as "The Annotated Diffusion
# Model" writes it, shrunk to the 8x8 digits: a linear beta schedule,
# alphas_cumprod by torch.cumprod and F.pad'ed to get the previous step,
# an extract() helper that gathers per-timestep coefficients and reshapes
# them to broadcast, sinusoidal time embeddings, a small conv denoiser
# with GroupNorm, SiLU and the time embedding added per channel, random
# timesteps from torch.randint, the noise-prediction loss (F.smooth_l1_loss
# as the tutorial's "huber" option and F.mse_loss), Adam, and ancestral
# sampling under torch.no_grad with the posterior variance.
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

timesteps = 50


def linear_beta_schedule(timesteps):
    beta_start, beta_end = 0.0001, 0.2
    return torch.linspace(beta_start, beta_end, timesteps)


def extract(a, t, x_shape):
    batch_size = t.shape[0]
    out = a.gather(-1, t.cpu())
    return out.reshape(batch_size, *((1,) * (len(x_shape) - 1))).to(t.device)


class SinusoidalPositionEmbeddings(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dim = dim

    def forward(self, time):
        half_dim = self.dim // 2
        embeddings = math.log(10000) / (half_dim - 1)
        embeddings = torch.exp(torch.arange(half_dim, device=time.device) * -embeddings)
        embeddings = time[:, None] * embeddings[None, :]
        return torch.cat((embeddings.sin(), embeddings.cos()), dim=-1)


class Block(nn.Module):
    def __init__(self, dim, dim_out, time_dim, groups=4):
        super().__init__()
        self.proj = nn.Conv2d(dim, dim_out, 3, padding=1)
        self.norm = nn.GroupNorm(groups, dim_out)
        self.act = nn.SiLU()
        self.mlp = nn.Sequential(nn.SiLU(), nn.Linear(time_dim, dim_out))

    def forward(self, x, t):
        h = self.act(self.norm(self.proj(x)))
        return h + self.mlp(t)[:, :, None, None]


class Net(nn.Module):
    def __init__(self, ch=16, time_dim=32):
        super().__init__()
        self.time_mlp = nn.Sequential(SinusoidalPositionEmbeddings(time_dim),
                                      nn.Linear(time_dim, time_dim), nn.GELU(),
                                      nn.Linear(time_dim, time_dim))
        self.b1 = Block(1, ch, time_dim)
        self.b2 = Block(ch, ch, time_dim)
        self.out = nn.Conv2d(ch, 1, 1)

    def forward(self, x, time):
        t = self.time_mlp(time)
        h = self.b1(x, t)
        h = self.b2(h, t) + h
        return self.out(h)


def main(workdir):
    torch.manual_seed(0)
    d = np.load(os.path.join(workdir, "digits.npz"))
    images = torch.from_numpy(d["images"].astype(np.float32) / 16.0) * 2 - 1

    betas = linear_beta_schedule(timesteps=timesteps)
    alphas = 1. - betas
    alphas_cumprod = torch.cumprod(alphas, axis=0)
    alphas_cumprod_prev = F.pad(alphas_cumprod[:-1], (1, 0), value=1.0)
    sqrt_recip_alphas = torch.sqrt(1.0 / alphas)
    sqrt_alphas_cumprod = torch.sqrt(alphas_cumprod)
    sqrt_one_minus_alphas_cumprod = torch.sqrt(1. - alphas_cumprod)
    posterior_variance = betas * (1. - alphas_cumprod_prev) / (1. - alphas_cumprod)

    def q_sample(x_start, t, noise=None):
        if noise is None:
            noise = torch.randn_like(x_start)
        return (extract(sqrt_alphas_cumprod, t, x_start.shape) * x_start
                + extract(sqrt_one_minus_alphas_cumprod, t, x_start.shape) * noise)

    def p_losses(denoise_model, x_start, t, loss_type="l2"):
        noise = torch.randn_like(x_start)
        predicted_noise = denoise_model(q_sample(x_start, t, noise=noise), t)
        if loss_type == "huber":
            return F.smooth_l1_loss(noise, predicted_noise)
        return F.mse_loss(noise, predicted_noise)

    @torch.no_grad()
    def p_sample(model, x, t, t_index):
        betas_t = extract(betas, t, x.shape)
        sqrt_one_minus_alphas_cumprod_t = extract(sqrt_one_minus_alphas_cumprod, t, x.shape)
        sqrt_recip_alphas_t = extract(sqrt_recip_alphas, t, x.shape)
        model_mean = sqrt_recip_alphas_t * (
            x - betas_t * model(x, t) / sqrt_one_minus_alphas_cumprod_t)
        if t_index == 0:
            return model_mean
        posterior_variance_t = extract(posterior_variance, t, x.shape)
        noise = torch.randn_like(x)
        return model_mean + torch.sqrt(posterior_variance_t) * noise

    model = Net()
    model.load_state_dict(torch.load(os.path.join(workdir, "init.pt"), map_location="cpu"))
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    log = [{"alphas_cumprod_last": alphas_cumprod[-1].item(),
            "posterior_var_sum": posterior_variance[1:].sum().item()}]
    for epoch in range(2):
        for step, i in enumerate(range(0, 640, 64)):
            batch = images[i:i + 64]
            optimizer.zero_grad()
            t = torch.randint(0, timesteps, (batch.shape[0],), device=batch.device).long()
            loss = p_losses(model, batch, t, loss_type="huber" if step % 2 else "l2")
            loss.backward()
            optimizer.step()
            log.append({"loss": loss.item(), "t_mean": t.float().mean().item()})
    img = torch.randn((8, 1, 8, 8))
    for i in reversed(range(0, timesteps)):
        img = p_sample(model, img, torch.full((8,), i, dtype=torch.long), i)
    log.append({"sample_mean": img.mean().item(), "sample_std": img.std().item(),
                "sample_shape": list(img.shape)})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
