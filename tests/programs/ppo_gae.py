# PPO in the CleanRL style on a hand-written vectorised environment: rollout
# buffers preallocated with torch.zeros, Categorical(logits=...) actions,
# GAE advantages by a reversed Python loop over the step tensors, the clipped
# surrogate through torch.clamp / torch.max, a clipped value loss, entropy
# bonus, normalised advantages, minibatches from torch.randperm, approx-KL and
# clip fraction under no_grad, nn.utils.clip_grad_norm_ and a linearly
# annealed learning rate written into optimizer.param_groups.
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
from torch.distributions.categorical import Categorical


class Corridor:
    """num_envs corridors of length 8: start in the middle, +1 at the right
    end, -0.1 at the left end, -0.01 per step, 20 steps at most."""

    def __init__(self, num_envs, length=8):
        self.n, self.length = num_envs, length
        self.pos = np.full(num_envs, length // 2)
        self.t = np.zeros(num_envs, dtype=np.int64)

    def obs(self):
        o = np.zeros((self.n, self.length), dtype=np.float32)
        o[np.arange(self.n), self.pos] = 1.0
        return o

    def step(self, action):
        self.pos = np.clip(self.pos + np.where(action == 1, 1, -1), 0, self.length - 1)
        self.t += 1
        reward = np.where(self.pos == self.length - 1, 1.0,
                          np.where(self.pos == 0, -0.1, -0.01)).astype(np.float32)
        done = (self.pos == self.length - 1) | (self.pos == 0) | (self.t >= 20)
        self.pos[done] = self.length // 2
        self.t[done] = 0
        return self.obs(), reward, done


def layer_init(layer, std=np.sqrt(2), bias_const=0.0):
    torch.nn.init.orthogonal_(layer.weight, std)
    torch.nn.init.constant_(layer.bias, bias_const)
    return layer


class Agent(nn.Module):
    def __init__(self, obs_dim=8, n_actions=2):
        super().__init__()
        self.critic = nn.Sequential(
            layer_init(nn.Linear(obs_dim, 32)), nn.Tanh(),
            layer_init(nn.Linear(32, 32)), nn.Tanh(),
            layer_init(nn.Linear(32, 1), std=1.0))
        self.actor = nn.Sequential(
            layer_init(nn.Linear(obs_dim, 32)), nn.Tanh(),
            layer_init(nn.Linear(32, 32)), nn.Tanh(),
            layer_init(nn.Linear(32, n_actions), std=0.01))

    def get_value(self, x):
        return self.critic(x)

    def get_action_and_value(self, x, action=None):
        logits = self.actor(x)
        probs = Categorical(logits=logits)
        if action is None:
            action = probs.sample()
        return action, probs.log_prob(action), probs.entropy(), self.critic(x)


Net = Agent
num_envs, num_steps, num_updates, update_epochs, num_minibatches = 4, 32, 6, 3, 4
gamma, gae_lambda, clip_coef, ent_coef, vf_coef, lr = 0.99, 0.95, 0.2, 0.01, 0.5, 2.5e-3


def main(workdir):
    torch.manual_seed(1)
    agent = Agent()
    agent.load_state_dict(torch.load(os.path.join(workdir, "init.pt")))
    optimizer = optim.Adam(agent.parameters(), lr=lr, eps=1e-5)
    envs = Corridor(num_envs)
    obs = torch.zeros((num_steps, num_envs, 8))
    actions = torch.zeros((num_steps, num_envs))
    logprobs = torch.zeros((num_steps, num_envs))
    rewards = torch.zeros((num_steps, num_envs))
    dones = torch.zeros((num_steps, num_envs))
    values = torch.zeros((num_steps, num_envs))
    batch_size = num_envs * num_steps
    minibatch_size = batch_size // num_minibatches
    next_obs = torch.Tensor(envs.obs())
    next_done = torch.zeros(num_envs)
    log = []
    for update in range(1, num_updates + 1):
        frac = 1.0 - (update - 1.0) / num_updates
        optimizer.param_groups[0]["lr"] = frac * lr
        for step in range(0, num_steps):
            obs[step] = next_obs
            dones[step] = next_done
            with torch.no_grad():
                action, logprob, _, value = agent.get_action_and_value(next_obs)
                values[step] = value.flatten()
            actions[step] = action
            logprobs[step] = logprob
            o, reward, done = envs.step(action.cpu().numpy())
            rewards[step] = torch.tensor(reward).view(-1)
            next_obs, next_done = torch.Tensor(o), torch.Tensor(done.astype(np.float32))

        with torch.no_grad():
            next_value = agent.get_value(next_obs).reshape(1, -1)
            advantages = torch.zeros_like(rewards)
            lastgaelam = 0
            for t in reversed(range(num_steps)):
                if t == num_steps - 1:
                    nextnonterminal = 1.0 - next_done
                    nextvalues = next_value
                else:
                    nextnonterminal = 1.0 - dones[t + 1]
                    nextvalues = values[t + 1]
                delta = rewards[t] + gamma * nextvalues * nextnonterminal - values[t]
                advantages[t] = lastgaelam = delta + gamma * gae_lambda * nextnonterminal * lastgaelam
            returns = advantages + values

        b_obs = obs.reshape((-1, 8))
        b_logprobs = logprobs.reshape(-1)
        b_actions = actions.reshape(-1)
        b_advantages = advantages.reshape(-1)
        b_returns = returns.reshape(-1)
        b_values = values.reshape(-1)
        log.append({"update": update, "reward_sum": rewards.sum().item(),
                    "adv_mean": b_advantages.mean().item(), "ret_std": b_returns.std().item()})
        for epoch in range(update_epochs):
            b_inds = torch.randperm(batch_size)
            for start in range(0, batch_size, minibatch_size):
                mb_inds = b_inds[start:start + minibatch_size]
                _, newlogprob, entropy, newvalue = agent.get_action_and_value(
                    b_obs[mb_inds], b_actions.long()[mb_inds])
                logratio = newlogprob - b_logprobs[mb_inds]
                ratio = logratio.exp()
                with torch.no_grad():
                    approx_kl = ((ratio - 1) - logratio).mean()
                    clipfrac = ((ratio - 1.0).abs() > clip_coef).float().mean().item()
                mb_advantages = b_advantages[mb_inds]
                mb_advantages = (mb_advantages - mb_advantages.mean()) / (mb_advantages.std() + 1e-8)
                pg_loss1 = -mb_advantages * ratio
                pg_loss2 = -mb_advantages * torch.clamp(ratio, 1 - clip_coef, 1 + clip_coef)
                pg_loss = torch.max(pg_loss1, pg_loss2).mean()
                newvalue = newvalue.view(-1)
                v_loss_unclipped = (newvalue - b_returns[mb_inds]) ** 2
                v_clipped = b_values[mb_inds] + torch.clamp(
                    newvalue - b_values[mb_inds], -clip_coef, clip_coef)
                v_loss_clipped = (v_clipped - b_returns[mb_inds]) ** 2
                v_loss = 0.5 * torch.max(v_loss_unclipped, v_loss_clipped).mean()
                entropy_loss = entropy.mean()
                loss = pg_loss - ent_coef * entropy_loss + v_loss * vf_coef
                optimizer.zero_grad()
                loss.backward()
                grad_norm = nn.utils.clip_grad_norm_(agent.parameters(), 0.5)
                optimizer.step()
                log.append({"loss": loss.item(), "pg": pg_loss.item(), "v": v_loss.item(),
                            "ent": entropy_loss.item(), "kl": approx_kl.item(),
                            "clipfrac": clipfrac, "grad_norm": grad_norm.item()})
    log.append({"lr": optimizer.param_groups[0]["lr"]})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
