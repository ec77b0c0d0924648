# Knowledge distillation as in the PyTorch tutorial: a teacher CNN trained
# first, then frozen (requires_grad_(False), eval(), torch.no_grad()); a
# smaller student trained on a mix of hard-label cross entropy and the
# temperature-softened KL divergence (nn.KLDivLoss(reduction="batchmean",
# log_target=True) times T**2), plus a cosine-embedding hint loss between
# pooled features (nn.CosineEmbeddingLoss).
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim


class DeepNN(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, kernel_size=3, padding=1), nn.ReLU(),
            nn.Conv2d(16, 16, kernel_size=3, padding=1), nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2),
            nn.Conv2d(16, 16, kernel_size=3, padding=1), nn.ReLU(),
        )
        self.classifier = nn.Sequential(nn.Linear(16 * 4 * 4, 64), nn.ReLU(), nn.Dropout(0.0),
                                        nn.Linear(64, num_classes))

    def forward(self, x):
        x = self.features(x)
        feats = F.adaptive_avg_pool2d(x, 2).flatten(1)
        x = torch.flatten(x, 1)
        return self.classifier(x), feats


class LightNN(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, kernel_size=3, padding=1), nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2),
            nn.Conv2d(8, 16, kernel_size=3, padding=1), nn.ReLU(),
        )
        self.classifier = nn.Sequential(nn.Linear(16 * 4 * 4, 16), nn.ReLU(),
                                        nn.Linear(16, num_classes))

    def forward(self, x):
        x = self.features(x)
        feats = F.adaptive_avg_pool2d(x, 2).flatten(1)
        return self.classifier(torch.flatten(x, 1)), feats


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.teacher = DeepNN()
        self.student = LightNN()


def main(workdir):
    d = np.load(os.path.join(workdir, "digits.npz"))
    images = torch.from_numpy(d["images"][:640] / 16.0).float()
    labels = torch.from_numpy(d["labels"][:640]).long()
    both = Net()
    both.load_state_dict(torch.load(os.path.join(workdir, "init.pt"), map_location="cpu"))
    teacher, student = both.teacher, both.student
    ce_loss = nn.CrossEntropyLoss()
    log = []
    optimizer = optim.Adam(teacher.parameters(), lr=2e-3)
    teacher.train()
    for epoch in range(2):
        for i in range(0, 640, 64):
            optimizer.zero_grad()
            logits, _ = teacher(images[i:i + 64])
            loss = ce_loss(logits, labels[i:i + 64])
            loss.backward()
            optimizer.step()
            log.append({"loss": loss.item(), "who": "teacher"})
    teacher.requires_grad_(False)
    teacher.eval()
    T, soft_target_loss_weight, ce_loss_weight = 2.0, 0.25, 0.75
    kl = nn.KLDivLoss(reduction="batchmean", log_target=True)
    cosine_loss = nn.CosineEmbeddingLoss()
    hint_proj = nn.Linear(64, 64, bias=False)
    with torch.no_grad():
        hint_proj.weight.copy_(torch.eye(64))
    optimizer = optim.Adam(list(student.parameters()) + list(hint_proj.parameters()), lr=2e-3)
    student.train()
    for epoch in range(2):
        for i in range(0, 640, 64):
            x, y = images[i:i + 64], labels[i:i + 64]
            optimizer.zero_grad()
            with torch.no_grad():
                teacher_logits, teacher_feats = teacher(x)
            student_logits, student_feats = student(x)
            soft_targets = F.log_softmax(teacher_logits / T, dim=-1)
            soft_prob = F.log_softmax(student_logits / T, dim=-1)
            soft_targets_loss = kl(soft_prob, soft_targets) * (T ** 2)
            label_loss = ce_loss(student_logits, y)
            hint = cosine_loss(hint_proj(student_feats), teacher_feats,
                               torch.ones(x.size(0)))
            loss = soft_target_loss_weight * soft_targets_loss + ce_loss_weight * label_loss \
                + 0.1 * hint
            loss.backward()
            optimizer.step()
            log.append({"loss": loss.item(), "kl": soft_targets_loss.item(),
                        "hint": hint.item()})
    student.eval()
    with torch.no_grad():
        correct = 0
        for i in range(640, 1024, 128):
            out, _ = student(torch.from_numpy(d["images"][i:i + 128] / 16.0).float())
            correct += (torch.argmax(out, 1) == torch.from_numpy(d["labels"][i:i + 128])).sum().item()
    log.append({"student_acc": correct / 384,
                "teacher_grads": sum(p.grad is not None for p in teacher.parameters())})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
