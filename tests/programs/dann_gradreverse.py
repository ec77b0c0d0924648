# Domain-adversarial training (DANN) as in the domain adaptation notebooks:
# a custom torch.autograd.Function that reverses (and scales) the gradient,
# with ctx attributes and ctx.save_for_backward; a label classifier and a
# domain classifier sharing a feature extractor with weight_norm layers; a
# straight-through estimator for a binarised feature (another Function with
# gradcheck-style once_differentiable-free backward); a tensor hook
# (register_hook) that records the gradient's norm.
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.autograd import Function
from torch.nn.utils import weight_norm


class GradReverse(Function):
    @staticmethod
    def forward(ctx, x, alpha):
        ctx.alpha = alpha
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.neg() * ctx.alpha, None


class BinarizeSTE(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return (x > 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * (x.abs() <= 1).to(grad_output.dtype)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.feature = nn.Sequential(weight_norm(nn.Linear(64, 48)), nn.ReLU(),
                                     weight_norm(nn.Linear(48, 32), dim=None), nn.ReLU())
        self.class_classifier = nn.Sequential(nn.Linear(32 + 8, 32), nn.ReLU(),
                                              nn.Linear(32, 10), nn.LogSoftmax(dim=1))
        self.domain_classifier = nn.Sequential(nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 2),
                                               nn.LogSoftmax(dim=1))
        self.code = nn.Linear(32, 8)

    def forward(self, input_data, alpha):
        feature = self.feature(input_data.view(input_data.size(0), -1))
        bits = BinarizeSTE.apply(self.code(feature))
        reverse_feature = GradReverse.apply(feature, alpha)
        class_output = self.class_classifier(torch.cat([feature, bits], dim=1))
        domain_output = self.domain_classifier(reverse_feature)
        return class_output, domain_output, feature


def main(workdir):
    d = np.load(os.path.join(workdir, "digits.npz"))
    src_x = torch.from_numpy(d["images"][:512] / 16.0).float()
    src_y = torch.from_numpy(d["labels"][:512]).long()
    # target domain: inverted, shifted digits
    tgt_x = 1.0 - torch.roll(torch.from_numpy(d["images"][512:1024] / 16.0).float(), 1, dims=3)
    tgt_y = torch.from_numpy(d["labels"][512:1024]).long()
    model = Net()
    model.load_state_dict(torch.load(os.path.join(workdir, "init.pt"), map_location="cpu"))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_class = nn.NLLLoss()
    loss_domain = nn.NLLLoss()
    grad_norms = []
    log = []
    n_epoch, len_dataloader = 3, 8
    for epoch in range(n_epoch):
        for i in range(len_dataloader):
            p = float(i + epoch * len_dataloader) / n_epoch / len_dataloader
            alpha = 2.0 / (1.0 + math.exp(-10 * p)) - 1
            s_img, s_label = src_x[i * 64:(i + 1) * 64], src_y[i * 64:(i + 1) * 64]
            t_img = tgt_x[i * 64:(i + 1) * 64]
            model.zero_grad()
            class_output, domain_output, feat = model(s_img, alpha)
            feat.register_hook(lambda g: grad_norms.append(g.norm().item()))
            err_s_label = loss_class(class_output, s_label)
            err_s_domain = loss_domain(domain_output, torch.zeros(64, dtype=torch.long))
            _, domain_output, _ = model(t_img, alpha)
            err_t_domain = loss_domain(domain_output, torch.ones(64, dtype=torch.long))
            err = err_t_domain + err_s_domain + err_s_label
            err.backward()
            optimizer.step()
            log.append({"loss": err.item(), "label": err_s_label.item(),
                        "domain": (err_s_domain + err_t_domain).item(),
                        "hook_norm": grad_norms[-1]})
    model.eval()
    with torch.no_grad():
        out, _, _ = model(tgt_x, 0.0)
        acc_t = (out.argmax(1) == tgt_y).float().mean().item()
        out, _, _ = model(src_x, 0.0)
        acc_s = (out.argmax(1) == src_y).float().mean().item()
    log.append({"acc_src": acc_s, "acc_tgt": acc_t,
                "wn_keys": sorted(k for k in model.state_dict() if k.startswith("feature"))})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
