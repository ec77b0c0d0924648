# A Hamiltonian Neural Network (Greydanus et al.) on an ideal pendulum, as
# the paper's code writes it: an MLP (Tanh, orthogonal_ init) outputs a
# scalar H(q, p); the vector field is the symplectic gradient, from
# torch.autograd.grad(H.sum(), x, create_graph=True) split with torch.split
# and recombined as (dH/dp, -dH/dq) via torch.cat; the loss is the squared
# error against the true time derivatives (so training back-propagates
# through a gradient), Adam with weight decay; then a rollout with a
# leapfrog integrator whose energy drift is compared with a baseline MLP's
# field, and the learned Hamiltonian's conservation along the rollout.
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn


class MLP(nn.Module):
    def __init__(self, input_dim, hidden_dim, output_dim):
        super().__init__()
        self.linear1 = nn.Linear(input_dim, hidden_dim)
        self.linear2 = nn.Linear(hidden_dim, hidden_dim)
        self.linear3 = nn.Linear(hidden_dim, output_dim, bias=None)
        for l in [self.linear1, self.linear2, self.linear3]:
            torch.nn.init.orthogonal_(l.weight)

    def forward(self, x):
        h = torch.tanh(self.linear1(x))
        h = torch.tanh(self.linear2(h))
        return self.linear3(h)


class Net(nn.Module):
    def __init__(self, input_dim=2, hidden_dim=32):
        super().__init__()
        self.differentiable_model = MLP(input_dim, hidden_dim, 1)
        self.baseline = MLP(input_dim, hidden_dim, input_dim)
        self.register_buffer("M", self.permutation_tensor(input_dim))

    @staticmethod
    def permutation_tensor(n):
        M = torch.eye(n)
        return torch.cat([M[n // 2:], -M[:n // 2]])

    def forward(self, x):
        return self.differentiable_model(x)

    def time_derivative(self, x):
        H = self.forward(x)
        dH = torch.autograd.grad(H.sum(), x, create_graph=True)[0]
        dHdq, dHdp = torch.split(dH, 1, dim=1)
        return torch.cat([dHdp, -dHdq], dim=1)

    def time_derivative_matrix(self, x):
        H = self.forward(x)
        dH = torch.autograd.grad(H.sum(), x, create_graph=True)[0]
        return dH @ self.M.t()


def pendulum_data(rng, n=400, noise=0.05):
    q = rng.uniform(-2.0, 2.0, n)
    p = rng.uniform(-2.0, 2.0, n)
    x = np.stack([q, p], 1)
    dx = np.stack([p, -3 * np.sin(q)], 1)       # H = 3 (1 - cos q) + p^2 / 2
    return x.astype(np.float32), (dx + rng.normal(0, noise, dx.shape)).astype(np.float32)


def energy(x):
    return 3 * (1 - torch.cos(x[:, 0])) + 0.5 * x[:, 1] ** 2


def leapfrog(field, x0, dt, steps):
    xs = [x0]
    x = x0
    for _ in range(steps):
        x = x.detach().requires_grad_(True)
        f = field(x)
        p_half = x[:, 1:] + 0.5 * dt * f[:, 1:]
        q_new = x[:, :1] + dt * p_half
        x_mid = torch.cat([q_new, p_half], 1).detach().requires_grad_(True)
        p_new = p_half + 0.5 * dt * field(x_mid)[:, 1:]
        x = torch.cat([q_new, p_new], 1).detach()
        xs.append(x)
    return torch.stack(xs)


def main(workdir):
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    x_np, dx_np = pendulum_data(rng)
    x, dxdt = torch.from_numpy(x_np), torch.from_numpy(dx_np)
    model = Net()
    model.load_state_dict(torch.load(os.path.join(workdir, "init.pt"), map_location="cpu"))
    optim = torch.optim.Adam(model.parameters(), lr=3e-3, weight_decay=1e-4)
    log = []
    for step in range(60):
        ixs = torch.from_numpy(rng.permutation(x.shape[0])[:100])
        xb = x[ixs].clone().requires_grad_(True)
        dxdt_hat = model.time_derivative(xb)
        loss = (dxdt[ixs] - dxdt_hat).pow(2).mean()
        base_loss = (dxdt[ixs] - model.baseline(xb)).pow(2).mean()
        optim.zero_grad()
        (loss + base_loss).backward()
        optim.step()
        if step % 3 == 0:
            log.append({"loss": loss.item(), "baseline_loss": base_loss.item()})
    x_test = torch.tensor([[1.0, 0.0], [0.5, 1.0], [-1.5, 0.3]])
    same_field = (model.time_derivative(x_test.clone().requires_grad_(True))
                  - model.time_derivative_matrix(x_test.clone().requires_grad_(True))).abs().max()
    traj = leapfrog(model.time_derivative, x_test, 0.1, 40)
    traj_base = leapfrog(lambda z: model.baseline(z), x_test, 0.1, 40)
    with torch.enable_grad():
        H_learned = torch.stack([model(t).squeeze(1) for t in traj])
    log.append({"field_forms_agree": same_field.item() < 1e-5,
                "energy_drift_hnn": (energy(traj[-1]) - energy(traj[0])).abs().mean().item(),
                "energy_drift_base": (energy(traj_base[-1]) - energy(traj_base[0])).abs().mean().item(),
                "H_learned_spread": (H_learned.max(0)[0] - H_learned.min(0)[0]).mean().item(),
                "final_q_abs_mean": traj[-1, :, 0].abs().mean().item()})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
