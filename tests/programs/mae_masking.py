# A masked autoencoder (He et al., MAE) shrunk to the digits, written as the
# official code writes it: patchify / unpatchify with reshape and
# torch.einsum("nchpwq->nhwpqc"), per-sample random masking by argsort of
# noise (ids_shuffle, ids_restore = argsort(ids_shuffle)), torch.gather with
# index.unsqueeze(-1).repeat(1, 1, D) to keep and to restore tokens, mask
# tokens expanded and concatenated, fixed 2-D sin-cos positional embeddings
# (numpy, copied into a frozen nn.Parameter), xavier_uniform_ on the patch
# projection viewed as 2-D, the per-patch normalised pixel loss averaged
# over the masked patches only, AdamW with betas=(0.9, 0.95).
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn

P, GRID, D = 2, 4, 32          # 2x2 patches of the 8x8 digits: a 4x4 grid


def get_1d_sincos_pos_embed_from_grid(embed_dim, pos):
    omega = np.arange(embed_dim // 2, dtype=np.float64) / (embed_dim / 2.)
    omega = 1. / 10000 ** omega
    out = np.einsum("m,d->md", pos.reshape(-1), omega)
    return np.concatenate([np.sin(out), np.cos(out)], axis=1)


def get_2d_sincos_pos_embed(embed_dim, grid_size, cls_token=False):
    grid_h = np.arange(grid_size, dtype=np.float32)
    grid_w = np.arange(grid_size, dtype=np.float32)
    grid = np.stack(np.meshgrid(grid_w, grid_h), axis=0).reshape([2, 1, grid_size, grid_size])
    emb_h = get_1d_sincos_pos_embed_from_grid(embed_dim // 2, grid[0])
    emb_w = get_1d_sincos_pos_embed_from_grid(embed_dim // 2, grid[1])
    pos_embed = np.concatenate([emb_h, emb_w], axis=1)
    if cls_token:
        pos_embed = np.concatenate([np.zeros([1, embed_dim]), pos_embed], axis=0)
    return pos_embed


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.patch_embed = nn.Conv2d(1, D, kernel_size=P, stride=P)
        self.pos_embed = nn.Parameter(torch.zeros(1, GRID * GRID, D), requires_grad=False)
        self.encoder = nn.TransformerEncoder(
            nn.TransformerEncoderLayer(D, 4, 64, dropout=0.0, batch_first=True, norm_first=True),
            num_layers=1, enable_nested_tensor=False)
        self.decoder_embed = nn.Linear(D, D)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, D))
        self.decoder_pos_embed = nn.Parameter(torch.zeros(1, GRID * GRID, D), requires_grad=False)
        self.decoder = nn.TransformerEncoderLayer(D, 4, 64, dropout=0.0, batch_first=True,
                                                  norm_first=True)
        self.decoder_pred = nn.Linear(D, P * P)
        pe = get_2d_sincos_pos_embed(D, GRID)
        self.pos_embed.data.copy_(torch.from_numpy(pe).float().unsqueeze(0))
        self.decoder_pos_embed.data.copy_(torch.from_numpy(pe).float().unsqueeze(0))
        w = self.patch_embed.weight.data
        torch.nn.init.xavier_uniform_(w.view([w.shape[0], -1]))
        torch.nn.init.normal_(self.mask_token, std=.02)

    def patchify(self, imgs):
        h = w = imgs.shape[2] // P
        x = imgs.reshape(shape=(imgs.shape[0], 1, h, P, w, P))
        x = torch.einsum("nchpwq->nhwpqc", x)
        return x.reshape(shape=(imgs.shape[0], h * w, P ** 2 * 1))

    def unpatchify(self, x):
        h = w = int(x.shape[1] ** .5)
        x = x.reshape(shape=(x.shape[0], h, w, P, P, 1))
        x = torch.einsum("nhwpqc->nchpwq", x)
        return x.reshape(shape=(x.shape[0], 1, h * P, h * P))

    def random_masking(self, x, mask_ratio, noise):
        N, L, D_ = x.shape
        len_keep = int(L * (1 - mask_ratio))
        ids_shuffle = torch.argsort(noise, dim=1)
        ids_restore = torch.argsort(ids_shuffle, dim=1)
        ids_keep = ids_shuffle[:, :len_keep]
        x_masked = torch.gather(x, dim=1, index=ids_keep.unsqueeze(-1).repeat(1, 1, D_))
        mask = torch.ones([N, L], device=x.device)
        mask[:, :len_keep] = 0
        mask = torch.gather(mask, dim=1, index=ids_restore)
        return x_masked, mask, ids_restore

    def forward(self, imgs, noise, mask_ratio=0.75):
        x = self.patch_embed(imgs).flatten(2).transpose(1, 2) + self.pos_embed
        x, mask, ids_restore = self.random_masking(x, mask_ratio, noise)
        latent = self.encoder(x)
        x = self.decoder_embed(latent)
        mask_tokens = self.mask_token.repeat(x.shape[0], ids_restore.shape[1] - x.shape[1], 1)
        x_ = torch.cat([x, mask_tokens], dim=1)
        x = torch.gather(x_, dim=1, index=ids_restore.unsqueeze(-1).repeat(1, 1, x.shape[2]))
        pred = self.decoder_pred(self.decoder(x + self.decoder_pos_embed))
        target = self.patchify(imgs)
        mean = target.mean(dim=-1, keepdim=True)
        var = target.var(dim=-1, keepdim=True)
        target = (target - mean) / (var + 1.e-6) ** .5
        loss = ((pred - target) ** 2).mean(dim=-1)
        loss = (loss * mask).sum() / mask.sum()
        return loss, pred, mask


def main(workdir):
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    d = np.load(os.path.join(workdir, "digits.npz"))
    imgs = torch.from_numpy(d["images"].astype(np.float32) / 16.0)
    model = Net()
    model.load_state_dict(torch.load(os.path.join(workdir, "init.pt"), map_location="cpu"))
    param_groups = [{"params": [p for n, p in model.named_parameters()
                                if p.requires_grad and p.ndim > 1], "weight_decay": 0.05},
                    {"params": [p for n, p in model.named_parameters()
                                if p.requires_grad and p.ndim <= 1], "weight_decay": 0.0}]
    optimizer = torch.optim.AdamW(param_groups, lr=2e-3, betas=(0.9, 0.95))
    log = [{"roundtrip": bool(torch.equal(model.unpatchify(model.patchify(imgs[:4])), imgs[:4])),
            "n_trainable": sum(p.numel() for p in model.parameters() if p.requires_grad)}]
    for epoch in range(3):
        for i in range(0, 512, 64):
            noise = torch.from_numpy(rng.random((64, GRID * GRID)).astype(np.float32))
            loss, pred, mask = model(imgs[i:i + 64], noise)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            log.append({"loss": loss.item(), "masked": mask.sum().item()})
    with torch.no_grad():
        noise = torch.from_numpy(rng.random((16, GRID * GRID)).astype(np.float32))
        loss, pred, mask = model(imgs[1400:1416], noise)
        recon = model.unpatchify(pred)
    log.append({"test_loss": loss.item(), "recon_std": recon.std().item()})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
