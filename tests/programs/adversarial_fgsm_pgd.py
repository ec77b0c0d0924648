# Adversarial examples as in the "Adversarial Example Generation" tutorial
# and the adversarial-training repositories: FGSM (data.requires_grad = True,
# model.zero_grad(), loss.backward(), data.grad.data.sign(), torch.clamp to
# [0, 1]), a PGD attack with a random start (torch.empty_like(x).uniform_ is
# replaced by a shared NumPy start), steps of alpha * grad.sign() projected
# with torch.min / torch.max onto the eps-ball and clamped, delta.detach_()
# and requires_grad_(), the attack run in model.eval() and training resumed
# in model.train(); then adversarial training (Madry) mixing clean and PGD
# losses, and robust accuracy under FGSM at several epsilons.
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 8, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, kernel_size=3, padding=1)
        self.dropout = nn.Dropout(0.0)
        self.fc1 = nn.Linear(16 * 2 * 2, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2(x), 2))
        x = x.view(-1, 16 * 2 * 2)
        x = F.relu(self.fc1(x))
        x = self.dropout(x)
        x = self.fc2(x)
        return F.log_softmax(x, dim=1)


# FGSM attack code
def fgsm_attack(image, epsilon, data_grad):
    # Collect the element-wise sign of the data gradient
    sign_data_grad = data_grad.sign()
    # Create the perturbed image by adjusting each pixel of the input image
    perturbed_image = image + epsilon * sign_data_grad
    # Adding clipping to maintain [0,1] range
    perturbed_image = torch.clamp(perturbed_image, 0, 1)
    # Return the perturbed image
    return perturbed_image


def pgd_attack(model, X, y, epsilon, alpha, num_iter, start):
    delta = (start * epsilon).clone()
    delta = torch.clamp(X + delta, 0, 1) - X
    delta.requires_grad_(True)
    for t in range(num_iter):
        loss = F.nll_loss(model(X + delta), y)
        loss.backward()
        delta.data = (delta + alpha * delta.grad.detach().sign()).clamp(-epsilon, epsilon)
        delta.data = torch.min(torch.max(delta.detach(), -X), 1 - X)  # clip X+delta to [0,1]
        delta.grad.zero_()
    return delta.detach()


def test(model, images, labels, epsilon):
    correct = 0
    adv_examples = []
    model.eval()
    data = images.clone()
    # Set requires_grad attribute of tensor. Important for Attack
    data.requires_grad = True
    output = model(data)
    init_pred = output.max(1, keepdim=True)[1]
    loss = F.nll_loss(output, labels)
    model.zero_grad()
    loss.backward()
    data_grad = data.grad.data
    perturbed_data = fgsm_attack(data, epsilon, data_grad)
    output = model(perturbed_data)
    final_pred = output.max(1, keepdim=True)[1]
    ok = final_pred.squeeze(1) == labels
    correct = ok.sum().item()
    flipped = ((init_pred.squeeze(1) == labels) & ~ok).sum().item()
    final_acc = correct / float(len(labels))
    adv_examples.append((init_pred[0].item(), final_pred[0].item()))
    return final_acc, flipped, (perturbed_data - images).abs().max().item()


def main(workdir):
    rng = np.random.default_rng(0)
    d = np.load(os.path.join(workdir, "digits.npz"))
    x = torch.from_numpy(d["images"].astype(np.float32) / 16.0)
    y = torch.from_numpy(d["labels"].astype(np.int64))
    model = Net()
    model.load_state_dict(torch.load(os.path.join(workdir, "init.pt"), map_location="cpu"))
    optimizer = optim.Adam(model.parameters(), lr=1e-2)
    log = []
    # clean training
    for step in range(16):
        xb, yb = x[(step % 12) * 96:(step % 12 + 1) * 96], y[(step % 12) * 96:(step % 12 + 1) * 96]
        optimizer.zero_grad()
        loss = F.nll_loss(model(xb), yb)
        loss.backward()
        optimizer.step()
        log.append({"loss": loss.item()})
    test_x, test_y = x[1400:1600], y[1400:1600]
    for eps in [0.0, 0.05, 0.1, 0.2]:
        acc, flipped, linf = test(model, test_x, test_y, eps)
        log.append({"eps": eps, "acc": acc, "flipped": flipped, "linf": linf})

    # adversarial training with PGD
    epsilon, alpha = 0.1, 0.03
    for step in range(8):
        xb, yb = x[step * 96:(step + 1) * 96], y[step * 96:(step + 1) * 96]
        start = torch.from_numpy(rng.uniform(-1, 1, xb.shape).astype(np.float32))
        model.eval()
        delta = pgd_attack(model, xb, yb, epsilon, alpha, 3, start)
        model.train()
        optimizer.zero_grad()
        clean = F.nll_loss(model(xb), yb)
        adv = F.nll_loss(model(xb + delta), yb)
        loss = 0.5 * (clean + adv)
        loss.backward()
        optimizer.step()
        log.append({"loss": loss.item(), "adv": adv.item(),
                    "delta_max": delta.abs().max().item(),
                    "delta_sum": delta.abs().sum().item(),
                    "in_range": bool(((xb + delta) >= 0).all() and ((xb + delta) <= 1).all())})
    acc, flipped, _ = test(model, test_x, test_y, 0.1)
    log.append({"robust_acc": acc, "flipped": flipped})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
