# Custom autograd Functions as the "Extending PyTorch" notes write them, used
# inside a model and checked with gradcheck in double precision: the
# LinearFunction of the docs (ctx.save_for_backward, ctx.needs_input_grad,
# an optional bias) wrapped in a Module; a top-k pooling Function returning
# values and indices (ctx.mark_non_differentiable on the indices,
# ctx.set_materialize_grads(False), a @once_differentiable backward that
# scatters); a MulConstant in the forward / setup_context style; a clamp
# with a straight-through backward; and an in-place Function with
# ctx.mark_dirty.  gradcheck / gradgradcheck on each, then training.
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.autograd import Function, gradcheck, gradgradcheck
from torch.autograd.function import once_differentiable


class LinearFunction(Function):
    # Note that forward, setup_context, and backward are @staticmethods
    @staticmethod
    def forward(ctx, input, weight, bias=None):
        ctx.save_for_backward(input, weight, bias)
        output = input.mm(weight.t())
        if bias is not None:
            output += bias.unsqueeze(0).expand_as(output)
        return output

    # This function has only a single output, so it gets only one gradient
    @staticmethod
    def backward(ctx, grad_output):
        input, weight, bias = ctx.saved_tensors
        grad_input = grad_weight = grad_bias = None
        # These needs_input_grad checks are optional and there only to
        # improve efficiency.
        if ctx.needs_input_grad[0]:
            grad_input = grad_output.mm(weight)
        if ctx.needs_input_grad[1]:
            grad_weight = grad_output.t().mm(input)
        if bias is not None and ctx.needs_input_grad[2]:
            grad_bias = grad_output.sum(0)
        return grad_input, grad_weight, grad_bias


class MyLinear(nn.Module):
    def __init__(self, input_features, output_features, bias=True):
        super().__init__()
        self.input_features = input_features
        self.output_features = output_features
        self.weight = nn.Parameter(torch.empty(output_features, input_features))
        if bias:
            self.bias = nn.Parameter(torch.empty(output_features))
        else:
            # You should always register all possible parameters, but the
            # optional ones can be None if you want.
            self.register_parameter("bias", None)
        self.weight.data.uniform_(-0.1, 0.1)
        if self.bias is not None:
            self.bias.data.uniform_(-0.1, 0.1)

    def forward(self, input):
        return LinearFunction.apply(input, self.weight, self.bias)

    def extra_repr(self):
        return "input_features={}, output_features={}, bias={}".format(
            self.input_features, self.output_features, self.bias is not None)


class TopKPool(Function):
    """Mean of the k largest entries of each row, and their indices."""

    @staticmethod
    def forward(ctx, x, k):
        values, indices = x.topk(k, dim=-1)
        ctx.mark_non_differentiable(indices)
        ctx.save_for_backward(indices)
        ctx.set_materialize_grads(False)
        ctx.shape = x.shape
        ctx.k = k
        return values.mean(-1), indices

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out, grad_indices):
        if grad_out is None:
            return None, None
        (indices,) = ctx.saved_tensors
        grad = torch.zeros(ctx.shape, dtype=grad_out.dtype)
        src = (grad_out / ctx.k).unsqueeze(-1).expand(*indices.shape)
        grad.scatter_(-1, indices, src)
        return grad, None


class MulConstant(Function):
    @staticmethod
    def forward(tensor, constant):
        return tensor * constant

    @staticmethod
    def setup_context(ctx, inputs, output):
        # ctx is a context object that can be used to stash information
        # for backward computation
        tensor, constant = inputs
        ctx.constant = constant

    @staticmethod
    def backward(ctx, grad_output):
        # We return as many input gradients as there were arguments.
        # Gradients of non-Tensor arguments to forward must be None.
        return grad_output * ctx.constant, None


class ClampSTE(Function):
    @staticmethod
    def forward(ctx, x, lo, hi):
        return x.clamp(lo, hi)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, None, None


class ScaleInplace(Function):
    @staticmethod
    def forward(ctx, x, s):
        ctx.s = s
        x.mul_(s)
        ctx.mark_dirty(x)
        return x

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.s, None


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 3, padding=1)
        self.fc1 = MyLinear(8 * 8, 32)
        self.fc2 = MyLinear(32 + 8, 10, bias=False)

    def forward(self, x):
        h = F.relu(self.conv(x))                       # (N, 8, 8, 8)
        n = h.size(0)
        pooled, idx = TopKPool.apply(h.view(n, 8, 64), 4)    # (N, 8)
        flat = h.mean(1).view(n, 64)
        z = ClampSTE.apply(self.fc1(flat), -3.0, 3.0)
        z = ScaleInplace.apply(z, 0.5)
        z = MulConstant.apply(F.relu(z), 2.0)
        return self.fc2(torch.cat([z, pooled], 1)), idx


def main(workdir):
    torch.manual_seed(0)
    log = []
    # gradcheck in double on small inputs (fixed values from NumPy)
    rng = np.random.default_rng(0)
    inp = torch.from_numpy(rng.standard_normal((5, 4))).requires_grad_()
    w = torch.from_numpy(rng.standard_normal((3, 4))).requires_grad_()
    b = torch.from_numpy(rng.standard_normal(3)).requires_grad_()
    xk = torch.from_numpy(rng.permutation(24).reshape(2, 3, 4) / 7.0).requires_grad_()
    checks = {
        "linear": gradcheck(LinearFunction.apply, (inp, w, b), eps=1e-6, atol=1e-4),
        "linear_nobias": gradcheck(LinearFunction.apply, (inp, w), eps=1e-6, atol=1e-4),
        "linear_gg": gradgradcheck(LinearFunction.apply, (inp, w, b)),
        "topk": gradcheck(lambda t: TopKPool.apply(t, 2)[0], (xk,)),
        "mulconst": gradcheck(lambda t: MulConstant.apply(t, 2.5), (inp,)),
        "mulconst_gg": gradgradcheck(lambda t: MulConstant.apply(t, 2.5), (inp,)),
        "ste_wrong": gradcheck(lambda t: ClampSTE.apply(t, -0.5, 0.5), (inp,),
                               raise_exception=False),
    }
    log.append(checks)
    v, i = TopKPool.apply(xk, 2)
    log.append({"v_req": v.requires_grad, "i_req": i.requires_grad,
                "i_dtype": str(i.dtype), "grad_fn": type(v.grad_fn).__name__})
    try:
        g, = torch.autograd.grad(v.sum(), xk, create_graph=True)
        g.sum().backward()
        once = "no error"
    except RuntimeError:
        once = "RuntimeError"
    a = torch.ones(3, requires_grad=True)
    c = a.clone()
    out = ScaleInplace.apply(c, 3.0)
    out.sum().backward()
    log.append({"once_differentiable": once, "dirty_same": out is c,
                "dirty_grad": a.grad.tolist()})

    d = np.load(os.path.join(workdir, "digits.npz"))
    x = torch.from_numpy(d["images"].astype(np.float32) / 16.0)
    y = torch.from_numpy(d["labels"].astype(np.int64))
    model = Net()
    model.load_state_dict(torch.load(os.path.join(workdir, "init.pt"), map_location="cpu"))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for step in range(24):
        xb, yb = x[(step % 12) * 64:(step % 12 + 1) * 64], y[(step % 12) * 64:(step % 12 + 1) * 64]
        out, idx = model(xb)
        loss = F.cross_entropy(out, yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        log.append({"loss": loss.item(), "w_grad": model.fc1.weight.grad.norm().item(),
                    "idx_sum": int(idx.sum())})
    with torch.no_grad():
        out, _ = model(x[1400:])
        acc = (out.argmax(1) == y[1400:]).float().mean().item()
    log.append({"acc": acc, "repr": repr(model.fc2)})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
