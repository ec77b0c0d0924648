# PPO with a Gaussian policy, as the continuous-control tutorials write it: a
# state-independent log-std nn.Parameter expanded to the mean's shape,
# Normal(mean, std) with log_prob(...).sum(-1) and entropy().sum(-1), a
# rollout stored in Python lists and torch.stack-ed, GAE by a reversed loop,
# torch.min of the two surrogates, F.mse_loss for the critic,
# clip_grad_norm_ and minibatches from torch.randperm.  The environment is a
# hand-written point mass pushed towards the origin.
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Normal


class PointMass:
    def __init__(self, seed=0):
        self.rng = np.random.default_rng(seed)
        self.reset()

    def reset(self):
        self.s = self.rng.uniform(-1, 1, size=2).astype(np.float32)  # position, velocity
        self.t = 0
        return self.s.copy()

    def step(self, a):
        a = float(np.clip(a[0], -1.0, 1.0))
        pos, vel = self.s
        vel = 0.9 * vel + 0.1 * a
        pos = pos + 0.1 * vel
        self.s = np.array([pos, vel], dtype=np.float32)
        self.t += 1
        reward = -(pos ** 2) - 0.01 * a ** 2
        return self.s.copy(), float(reward), self.t >= 25


class ActorCritic(nn.Module):
    def __init__(self, obs_dim=2, act_dim=1, hidden=32):
        super().__init__()
        self.actor_mean = nn.Sequential(nn.Linear(obs_dim, hidden), nn.Tanh(),
                                        nn.Linear(hidden, act_dim))
        self.actor_logstd = nn.Parameter(torch.zeros(1, act_dim) - 0.5)
        self.critic = nn.Sequential(nn.Linear(obs_dim, hidden), nn.Tanh(), nn.Linear(hidden, 1))

    def forward(self, x, action=None):
        mean = self.actor_mean(x)
        std = self.actor_logstd.expand_as(mean).exp()
        dist = Normal(mean, std)
        if action is None:
            action = dist.sample()
        return action, dist.log_prob(action).sum(-1), dist.entropy().sum(-1), self.critic(x).squeeze(-1)


Net = ActorCritic


def compute_gae(rewards, values, dones, last_value, gamma=0.99, lam=0.95):
    advantages = torch.zeros_like(rewards)
    gae = 0.0
    for t in reversed(range(len(rewards))):
        next_value = last_value if t == len(rewards) - 1 else values[t + 1]
        mask = 1.0 - dones[t]
        delta = rewards[t] + gamma * next_value * mask - values[t]
        gae = delta + gamma * lam * mask * gae
        advantages[t] = gae
    return advantages, advantages + values


def main(workdir):
    torch.manual_seed(0)
    model = ActorCritic()
    model.load_state_dict(torch.load(os.path.join(workdir, "init.pt"), weights_only=True))
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    env = PointMass()
    state = env.reset()
    log = []
    for it in range(5):
        states, actions, logps, rewards, dones, values = [], [], [], [], [], []
        for _ in range(64):
            s = torch.as_tensor(state).unsqueeze(0)
            with torch.no_grad():
                a, logp, _, v = model(s)
            state, r, done = env.step(a[0].numpy())
            states.append(s[0]); actions.append(a[0]); logps.append(logp[0]); values.append(v[0])
            rewards.append(r); dones.append(float(done))
            if done:
                state = env.reset()
        with torch.no_grad():
            last_value = model.critic(torch.as_tensor(state).unsqueeze(0)).squeeze()
        states, actions = torch.stack(states), torch.stack(actions)
        old_logps, values = torch.stack(logps), torch.stack(values)
        rewards = torch.tensor(rewards, dtype=torch.float32)
        dones = torch.tensor(dones)
        adv, returns = compute_gae(rewards, values, dones, last_value)
        adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        log.append({"it": it, "return": rewards.sum().item(), "adv_abs": adv.abs().mean().item(),
                    "std": model.actor_logstd.exp().item()})
        for epoch in range(4):
            perm = torch.randperm(len(states))
            for i in range(0, len(states), 16):
                idx = perm[i:i + 16]
                _, new_logp, entropy, v = model(states[idx], actions[idx])
                ratio = torch.exp(new_logp - old_logps[idx])
                surr1 = ratio * adv[idx]
                surr2 = torch.clamp(ratio, 0.8, 1.2) * adv[idx]
                policy_loss = -torch.min(surr1, surr2).mean()
                value_loss = F.mse_loss(v, returns[idx])
                loss = policy_loss + 0.5 * value_loss - 0.001 * entropy.mean()
                optimizer.zero_grad()
                loss.backward()
                norm = nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
                optimizer.step()
                log.append({"loss": loss.item(), "policy": policy_loss.item(),
                            "value": value_loss.item(), "entropy": entropy.mean().item(),
                            "norm": float(norm)})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
