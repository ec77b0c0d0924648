# Soft actor-critic in the style of the Spinning Up / CleanRL single-file
# versions, on a hand-written pendulum: a replay buffer of NumPy arrays, a
# squashed Gaussian actor (Normal(mu, std).rsample(), tanh, the log-prob
# correction log(1 - a^2 + eps) summed over the action dims), twin Q networks
# taking torch.cat([obs, act], 1), target networks updated by Polyak averaging
# in place under torch.no_grad() (mul_ / add_ on .data, and lerp_), and
# automatic entropy tuning through a log_alpha leaf with its own Adam.
import copy
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions.normal import Normal

LOG_STD_MIN, LOG_STD_MAX = -5, 2


class Pendulum:
    def __init__(self, seed=0):
        self.rng = np.random.default_rng(seed)

    def reset(self):
        self.th, self.thdot, self.t = self.rng.uniform(-math.pi, math.pi), self.rng.uniform(-1, 1), 0
        return self._obs()

    def _obs(self):
        return np.array([math.cos(self.th), math.sin(self.th), self.thdot], dtype=np.float32)

    def step(self, u):
        u = float(np.clip(u[0], -1.0, 1.0)) * 2.0
        norm = ((self.th + math.pi) % (2 * math.pi)) - math.pi
        cost = norm ** 2 + 0.1 * self.thdot ** 2 + 0.001 * u ** 2
        self.thdot = float(np.clip(self.thdot + (3 * 10.0 / 2 * math.sin(self.th) + 3.0 * u) * 0.05, -8, 8))
        self.th = self.th + self.thdot * 0.05
        self.t += 1
        return self._obs(), -cost, self.t >= 40


def mlp(sizes, activation=nn.ReLU):
    layers = []
    for j in range(len(sizes) - 1):
        layers += [nn.Linear(sizes[j], sizes[j + 1]), activation() if j < len(sizes) - 2 else nn.Identity()]
    return nn.Sequential(*layers)


class SquashedGaussianActor(nn.Module):
    def __init__(self, obs_dim, act_dim, hidden=32):
        super().__init__()
        self.net = mlp([obs_dim, hidden, hidden], nn.ReLU)
        self.net.append(nn.ReLU())
        self.mu_layer = nn.Linear(hidden, act_dim)
        self.log_std_layer = nn.Linear(hidden, act_dim)

    def forward(self, obs, deterministic=False, with_logprob=True):
        h = self.net(obs)
        mu = self.mu_layer(h)
        log_std = torch.tanh(self.log_std_layer(h))
        log_std = LOG_STD_MIN + 0.5 * (LOG_STD_MAX - LOG_STD_MIN) * (log_std + 1)
        pi_distribution = Normal(mu, log_std.exp())
        pi_action = mu if deterministic else pi_distribution.rsample()
        logp_pi = None
        if with_logprob:
            logp_pi = pi_distribution.log_prob(pi_action).sum(axis=-1)
            logp_pi -= (2 * (np.log(2) - pi_action - F.softplus(-2 * pi_action))).sum(axis=1)
        return torch.tanh(pi_action), logp_pi


class QFunction(nn.Module):
    def __init__(self, obs_dim, act_dim, hidden=32):
        super().__init__()
        self.q = mlp([obs_dim + act_dim, hidden, hidden, 1])

    def forward(self, obs, act):
        return torch.squeeze(self.q(torch.cat([obs, act], dim=-1)), -1)


class ActorCritic(nn.Module):
    def __init__(self, obs_dim=3, act_dim=1):
        super().__init__()
        self.pi = SquashedGaussianActor(obs_dim, act_dim)
        self.q1 = QFunction(obs_dim, act_dim)
        self.q2 = QFunction(obs_dim, act_dim)


Net = ActorCritic


def main(workdir):
    torch.manual_seed(0)
    env = Pendulum()
    ac = ActorCritic()
    ac.load_state_dict(torch.load(os.path.join(workdir, "init.pt")))
    ac_targ = copy.deepcopy(ac)
    for p in ac_targ.parameters():
        p.requires_grad = False
    q_params = list(ac.q1.parameters()) + list(ac.q2.parameters())
    pi_optimizer = torch.optim.Adam(ac.pi.parameters(), lr=1e-3)
    q_optimizer = torch.optim.Adam(q_params, lr=1e-3)
    target_entropy = -1.0
    log_alpha = torch.zeros(1, requires_grad=True)
    a_optimizer = torch.optim.Adam([log_alpha], lr=1e-3)
    gamma, polyak, batch_size = 0.99, 0.995, 32
    size = 400
    obs_buf, act_buf = np.zeros((size, 3), np.float32), np.zeros((size, 1), np.float32)
    rew_buf, obs2_buf, done_buf = np.zeros(size, np.float32), np.zeros((size, 3), np.float32), np.zeros(size, np.float32)
    ptr, sample_rng, log = 0, np.random.default_rng(1), []
    o = env.reset()
    for t in range(200):
        if t < 64:
            a = sample_rng.uniform(-1, 1, size=1).astype(np.float32)
        else:
            with torch.no_grad():
                a = ac.pi(torch.as_tensor(o, dtype=torch.float32).unsqueeze(0))[0][0].numpy()
        o2, r, d = env.step(a)
        obs_buf[ptr], act_buf[ptr], rew_buf[ptr], obs2_buf[ptr], done_buf[ptr] = o, a, r, o2, 0.0
        ptr += 1
        o = env.reset() if d else o2
        if t >= 64 and t % 4 == 0:
            idxs = sample_rng.integers(0, ptr, size=batch_size)
            data = {k: torch.as_tensor(v[idxs]) for k, v in
                    dict(obs=obs_buf, act=act_buf, rew=rew_buf, obs2=obs2_buf, done=done_buf).items()}
            alpha = log_alpha.exp().detach()
            q1, q2 = ac.q1(data['obs'], data['act']), ac.q2(data['obs'], data['act'])
            with torch.no_grad():
                a2, logp_a2 = ac.pi(data['obs2'])
                q_pi_targ = torch.min(ac_targ.q1(data['obs2'], a2), ac_targ.q2(data['obs2'], a2))
                backup = data['rew'] + gamma * (1 - data['done']) * (q_pi_targ - alpha * logp_a2)
            loss_q = ((q1 - backup) ** 2).mean() + ((q2 - backup) ** 2).mean()
            q_optimizer.zero_grad()
            loss_q.backward()
            q_optimizer.step()
            for p in q_params:
                p.requires_grad = False
            pi, logp_pi = ac.pi(data['obs'])
            q_pi = torch.min(ac.q1(data['obs'], pi), ac.q2(data['obs'], pi))
            loss_pi = (alpha * logp_pi - q_pi).mean()
            pi_optimizer.zero_grad()
            loss_pi.backward()
            pi_optimizer.step()
            for p in q_params:
                p.requires_grad = True
            alpha_loss = -(log_alpha * (logp_pi + target_entropy).detach()).mean()
            a_optimizer.zero_grad()
            alpha_loss.backward()
            a_optimizer.step()
            with torch.no_grad():
                for p, p_targ in zip(ac.q1.parameters(), ac_targ.q1.parameters()):
                    p_targ.data.mul_(polyak)
                    p_targ.data.add_((1 - polyak) * p.data)
                for p, p_targ in zip(ac.q2.parameters(), ac_targ.q2.parameters()):
                    p_targ.lerp_(p, 1 - polyak)
            log.append({"loss": loss_q.item(), "loss_pi": loss_pi.item(),
                        "alpha": log_alpha.exp().item(), "logp": logp_pi.mean().item()})
    with torch.no_grad():
        a_det, _ = ac.pi(torch.as_tensor(obs_buf[:4]), deterministic=True, with_logprob=False)
    diff = sum((p - q).abs().sum().item() for p, q in zip(ac.q2.parameters(), ac_targ.q2.parameters()))
    log.append({"det_action_sum": a_det.sum().item(), "det_shape": list(a_det.shape), "targ_gap": diff,
                "targ_frozen": all(not p.requires_grad for p in ac_targ.parameters())})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
