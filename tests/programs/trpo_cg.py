# TRPO as the classic single-file implementations write it, on a hand-written
# gridworld: a Categorical policy over a batch of states, the KL between the
# old (detached) and new policy by torch.distributions.kl_divergence, the
# Fisher-vector product by double backward (torch.autograd.grad with
# create_graph=True, then grad of (grad . v)), conjugate gradient on flat
# vectors, nn.utils.parameters_to_vector / vector_to_parameters, and a
# backtracking line search under torch.no_grad(); the value function is
# fitted by LBFGS with a closure.
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
from torch.distributions import Categorical, kl_divergence
from torch.nn.utils import parameters_to_vector, vector_to_parameters


class GridWorld:
    """5x5 grid, start top-left, goal bottom-right; actions up/down/left/right."""
    MOVES = [(-1, 0), (1, 0), (0, -1), (0, 1)]

    def reset(self):
        self.pos, self.t = (0, 0), 0
        return self.obs()

    def obs(self):
        o = np.zeros(25, dtype=np.float32)
        o[self.pos[0] * 5 + self.pos[1]] = 1.0
        return o

    def step(self, a):
        dr, dc = self.MOVES[a]
        self.pos = (min(max(self.pos[0] + dr, 0), 4), min(max(self.pos[1] + dc, 0), 4))
        self.t += 1
        done = self.pos == (4, 4) or self.t >= 30
        return self.obs(), (1.0 if self.pos == (4, 4) else -0.02), done


class PolicyValue(nn.Module):
    def __init__(self):
        super().__init__()
        self.policy = nn.Sequential(nn.Linear(25, 32), nn.Tanh(), nn.Linear(32, 4))
        self.value = nn.Sequential(nn.Linear(25, 32), nn.Tanh(), nn.Linear(32, 1))


Net = PolicyValue


def conjugate_gradient(Avp, b, nsteps=10, residual_tol=1e-10):
    x = torch.zeros(b.size())
    r, p = b.clone(), b.clone()
    rdotr = torch.dot(r, r)
    for i in range(nsteps):
        _Avp = Avp(p)
        alpha = rdotr / torch.dot(p, _Avp)
        x += alpha * p
        r -= alpha * _Avp
        new_rdotr = torch.dot(r, r)
        p = r + (new_rdotr / rdotr) * p
        rdotr = new_rdotr
        if rdotr < residual_tol:
            break
    return x


def main(workdir):
    model = PolicyValue()
    model.load_state_dict(torch.load(os.path.join(workdir, "init.pt")))
    policy, value = model.policy, model.value
    env, max_kl, damping, gamma = GridWorld(), 0.02, 0.1, 0.97
    rng = np.random.default_rng(0)
    log = []
    for it in range(4):
        states, actions, rewards, masks = [], [], [], []
        while len(states) < 120:
            s, done = env.reset(), False
            while not done:
                with torch.no_grad():
                    probs = torch.softmax(policy(torch.from_numpy(s)), -1).numpy().astype(np.float64)
                a = int(rng.choice(4, p=probs / probs.sum()))
                s2, r, done = env.step(a)
                states.append(s); actions.append(a); rewards.append(r); masks.append(0.0 if done else 1.0)
                s = s2
        states = torch.tensor(np.array(states))
        actions = torch.tensor(actions)
        returns = torch.zeros(len(rewards))
        R = 0.0
        for t in reversed(range(len(rewards))):
            R = rewards[t] + gamma * R * masks[t]
            returns[t] = R
        # value function by LBFGS on the returns
        v_opt = torch.optim.LBFGS(value.parameters(), lr=0.5, max_iter=10)

        def closure():
            v_opt.zero_grad()
            loss = (value(states).squeeze(1) - returns).pow(2).mean()
            loss.backward()
            return loss
        v_loss = v_opt.step(closure).item()
        with torch.no_grad():
            adv = returns - value(states).squeeze(1)
            adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        params = list(policy.parameters())
        old_dist = Categorical(logits=policy(states).detach())
        old_logp = old_dist.log_prob(actions)

        def surrogate():
            logp = Categorical(logits=policy(states)).log_prob(actions)
            return (torch.exp(logp - old_logp) * adv).mean()

        def mean_kl():
            return kl_divergence(old_dist, Categorical(logits=policy(states))).mean()

        def fisher_vector_product(v):
            grads = torch.autograd.grad(mean_kl(), params, create_graph=True)
            flat_grad_kl = torch.cat([g.view(-1) for g in grads])
            kl_v = (flat_grad_kl * v).sum()
            grads = torch.autograd.grad(kl_v, params)
            return torch.cat([g.contiguous().view(-1) for g in grads]) + v * damping

        loss = surrogate()
        g = parameters_to_vector(torch.autograd.grad(loss, params))
        stepdir = conjugate_gradient(fisher_vector_product, g)
        shs = 0.5 * (stepdir * fisher_vector_product(stepdir)).sum()
        full_step = stepdir * torch.sqrt(max_kl / shs)
        old_params = parameters_to_vector(params).detach().clone()
        expected = (g * full_step).sum().item()
        accepted = -1
        with torch.no_grad():
            for k, frac in enumerate(0.5 ** np.arange(8)):
                vector_to_parameters(old_params + frac * full_step, params)
                improve = surrogate().item() - loss.item()
                if improve > 0 and mean_kl().item() <= max_kl * 1.5:
                    accepted = k
                    break
            else:
                vector_to_parameters(old_params, params)
        log.append({"it": it, "loss": v_loss, "surrogate": loss.item(), "g_norm": g.norm().item(),
                    "shs": shs.item(), "expected": expected, "accepted": accepted,
                    "kl": mean_kl().item(), "n": len(rewards)})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
