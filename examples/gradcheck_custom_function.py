"""A user-defined op: write forward and backward, then check the backward
against central differences with ``fastnn.gradcheck`` (in float64).

    python examples/gradcheck_custom_function.py
"""
import numpy as np

import fastnn


class Swish(fastnn.autograd.Function):
    """swish(x) = x * sigmoid(beta * x), with a learnable beta."""

    @staticmethod
    def forward(ctx, x, beta):
        s = (x * beta).sigmoid()
        ctx.save_for_backward(x, beta, s)
        return x * s

    @staticmethod
    def backward(ctx, grad):
        x, beta, s = ctx.saved_tensors
        ds = s * (1 - s)                       # sigmoid'(beta x)
        gx = grad * (s + x * beta * ds)
        gbeta = (grad * x * x * ds).sum()
        return gx, gbeta


class BrokenSwish(Swish):
    """The same op with a deliberate mistake in the backward."""

    @staticmethod
    def backward(ctx, grad):
        x, beta, s = ctx.saved_tensors
        return grad * s, (grad * x * s).sum()


def main():
    rng = np.random.default_rng(0)
    x = fastnn.tensor(rng.normal(size=(4, 5)), requires_grad=True)      # float64
    beta = fastnn.tensor(np.array(1.3), requires_grad=True)
    upstream = fastnn.tensor(rng.normal(size=(4, 5)))                  # random upstream grad

    ok = fastnn.gradcheck(lambda x, b: (Swish.apply(x, b) * upstream).sum(), [x, beta])
    print(f"Swish gradcheck passed: {ok}")

    try:
        fastnn.gradcheck(lambda x, b: (BrokenSwish.apply(x, b) * upstream).sum(), [x, beta])
        print("BrokenSwish gradcheck passed (unexpected!)")
    except fastnn.GradcheckError as e:
        print(f"BrokenSwish gradcheck failed as expected: {str(e).splitlines()[0]}")

    y = Swish.apply(x, beta)
    (y * upstream).sum().backward()
    print(f"d/dbeta = {float(np.asarray(beta.grad)):.6f}")


if __name__ == "__main__":
    main()
