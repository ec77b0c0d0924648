# A neural ODE as in the torchdiffeq "ode_demo", with the integrator written
# by hand: the true dynamics dy/dt = (y**3) @ A of a spiral, an ODEFunc
# (Linear-Tanh-Linear on y**3, a counter of function evaluations, weights
# from nn.init.normal_ / constant_), a classic fixed-step RK4 solver that
# returns the whole trajectory with torch.stack, random batches of short
# windows picked with np.random.choice and stacked into (T, B, 1, 2)
# tensors, mean |pred - true| loss, RMSprop, a RunningAverageMeter, and a
# test on the whole trajectory under torch.no_grad.
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim

data_size, batch_time, batch_size = 200, 10, 20


def rk4(func, y0, t):
    """Classic Runge-Kutta 4 with one step per interval of t."""
    ys = [y0]
    y = y0
    for t0, t1 in zip(t[:-1], t[1:]):
        dt = t1 - t0
        k1 = func(t0, y)
        k2 = func(t0 + dt / 2, y + dt * k1 / 2)
        k3 = func(t0 + dt / 2, y + dt * k2 / 2)
        k4 = func(t1, y + dt * k3)
        y = y + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        ys.append(y)
    return torch.stack(ys)


class Lambda(nn.Module):
    def __init__(self, true_A):
        super().__init__()
        self.true_A = true_A

    def forward(self, t, y):
        return torch.mm(y ** 3, self.true_A)


class Net(nn.Module):  # the ODEFunc
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, 50), nn.Tanh(), nn.Linear(50, 2))
        for m in self.net.modules():
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, mean=0, std=0.1)
                nn.init.constant_(m.bias, val=0)
        self.nfe = 0

    def forward(self, t, y):
        self.nfe += 1
        return self.net(y ** 3)


class RunningAverageMeter:
    def __init__(self, momentum=0.99):
        self.momentum = momentum
        self.val, self.avg = None, 0

    def update(self, val):
        self.avg = val if self.val is None else self.avg * self.momentum + val * (1 - self.momentum)
        self.val = val


def main(workdir):
    torch.manual_seed(0)
    np.random.seed(0)
    true_y0 = torch.tensor([[2., 0.]])
    t = torch.linspace(0., 10., data_size)
    true_A = torch.tensor([[-0.1, 2.0], [-2.0, -0.1]])
    with torch.no_grad():
        true_y = rk4(Lambda(true_A), true_y0, t)

    def get_batch():
        s = torch.from_numpy(np.random.choice(np.arange(data_size - batch_time, dtype=np.int64),
                                              batch_size, replace=False))
        batch_y0 = true_y[s]  # (M, D)
        batch_t = t[:batch_time]  # (T)
        batch_y = torch.stack([true_y[s + i] for i in range(batch_time)], dim=0)  # (T, M, D)
        return batch_y0, batch_t, batch_y

    func = Net()
    func.load_state_dict(torch.load(os.path.join(workdir, "init.pt"), map_location="cpu"))
    optimizer = optim.RMSprop(func.parameters(), lr=1e-3)
    loss_meter = RunningAverageMeter(0.97)
    log = [{"true_end": true_y[-1].abs().sum().item(), "true_shape": list(true_y.shape)}]
    for itr in range(1, 41):
        optimizer.zero_grad()
        batch_y0, batch_t, batch_y = get_batch()
        pred_y = rk4(func, batch_y0, batch_t)
        loss = torch.mean(torch.abs(pred_y - batch_y))
        loss.backward()
        optimizer.step()
        loss_meter.update(loss.item())
        entry = {"loss": loss.item(), "avg": loss_meter.avg, "nfe": func.nfe}
        if itr % 20 == 0:
            with torch.no_grad():
                pred_y = rk4(func, true_y0, t)
                entry["test_loss"] = torch.mean(torch.abs(pred_y - true_y)).item()
        log.append(entry)
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
