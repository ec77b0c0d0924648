# A tiny Vision Transformer as the ViT / DeiT reference code writes it: patch
# embedding by a Conv2d with stride = patch size, x.flatten(2).transpose(1, 2),
# a class token nn.Parameter(torch.zeros(1, 1, d)) expanded over the batch and
# torch.cat'ed in front, a learned positional embedding, trunc_normal_ init
# through self.apply, nn.TransformerEncoderLayer(batch_first=True,
# norm_first=True, activation="gelu"), AdamW with parameter groups (no weight
# decay on biases, norms and the embeddings), a warm-up + cosine schedule in
# LambdaLR, gradient clipping, label smoothing, and evaluation with topk.
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class PatchEmbed(nn.Module):
    def __init__(self, img_size=8, patch_size=2, in_chans=1, embed_dim=32):
        super().__init__()
        self.num_patches = (img_size // patch_size) ** 2
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)  # B, N, C


class Net(nn.Module):
    def __init__(self, num_classes=10, embed_dim=32, depth=2, num_heads=4, mlp_ratio=2.0):
        super().__init__()
        self.patch_embed = PatchEmbed(embed_dim=embed_dim)
        num_patches = self.patch_embed.num_patches
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, num_patches + 1, embed_dim))
        self.pos_drop = nn.Dropout(p=0.0)
        self.blocks = nn.ModuleList([
            nn.TransformerEncoderLayer(embed_dim, num_heads, int(embed_dim * mlp_ratio),
                                       dropout=0.0, activation="gelu", batch_first=True,
                                       norm_first=True)
            for _ in range(depth)])
        self.norm = nn.LayerNorm(embed_dim, eps=1e-6)
        self.head = nn.Linear(embed_dim, num_classes)
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        self.apply(self._init_weights)

    def _init_weights(self, m):
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
            if isinstance(m, nn.Linear) and m.bias is not None:
                nn.init.constant_(m.bias, 0)
        elif isinstance(m, nn.LayerNorm):
            nn.init.constant_(m.bias, 0)
            nn.init.constant_(m.weight, 1.0)

    def forward(self, x):
        B = x.shape[0]
        x = self.patch_embed(x)
        cls_tokens = self.cls_token.expand(B, -1, -1)
        x = torch.cat((cls_tokens, x), dim=1)
        x = self.pos_drop(x + self.pos_embed)
        for blk in self.blocks:
            x = blk(x)
        x = self.norm(x)
        return self.head(x[:, 0])


def param_groups_weight_decay(model, weight_decay=0.05, no_weight_decay_list=()):
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        if param.ndim <= 1 or name.endswith(".bias") or name in no_weight_decay_list:
            no_decay.append(param)
        else:
            decay.append(param)
    return [{"params": no_decay, "weight_decay": 0.0},
            {"params": decay, "weight_decay": weight_decay}]


def accuracy(output, target, topk=(1,)):
    maxk = max(topk)
    batch_size = target.size(0)
    _, pred = output.topk(maxk, 1, True, True)
    pred = pred.t()
    correct = pred.eq(target.reshape(1, -1).expand_as(pred))
    return [correct[:k].reshape(-1).float().sum(0) * 100. / batch_size for k in topk]


def main(workdir):
    torch.manual_seed(0)
    d = np.load(os.path.join(workdir, "digits.npz"))
    images = torch.from_numpy(d["images"].astype(np.float32) / 16.0)
    images = (images - 0.5) / 0.5
    labels = torch.from_numpy(d["labels"].astype(np.int64))
    model = Net()
    model.load_state_dict(torch.load(os.path.join(workdir, "init.pt"), map_location="cpu"))
    groups = param_groups_weight_decay(model, 0.05, no_weight_decay_list={"pos_embed", "cls_token"})
    optimizer = torch.optim.AdamW(groups, lr=2e-3, betas=(0.9, 0.999))
    epochs, steps_per_epoch, warmup = 3, 10, 5
    total = epochs * steps_per_epoch

    def lr_lambda(step):
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, total - warmup)
        return 0.5 * (1.0 + math.cos(math.pi * progress))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda)
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    log = [{"n_decay": len(groups[1]["params"]), "n_no_decay": len(groups[0]["params"]),
            "pos_std": model.pos_embed.std().item(),
            "pos_absmax_ok": model.pos_embed.abs().max().item() <= 0.04}]
    for epoch in range(epochs):
        model.train()
        for it in range(steps_per_epoch):
            x = images[it * 64:(it + 1) * 64]
            y = labels[it * 64:(it + 1) * 64]
            output = model(x)
            loss = criterion(output, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
            optimizer.step()
            scheduler.step()
            log.append({"loss": loss.item(), "grad_norm": float(grad_norm),
                        "lr": optimizer.param_groups[0]["lr"]})
    model.eval()
    with torch.no_grad():
        output = model(images[1400:])
        acc1, acc5 = accuracy(output, labels[1400:], topk=(1, 5))
    log.append({"acc1": acc1.item(), "acc5": acc5.item()})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
