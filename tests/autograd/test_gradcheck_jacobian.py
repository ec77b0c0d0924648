"""gradcheck / gradgradcheck as torch.autograd's: the whole Jacobian of
every differentiable output (a backward that sends gradients to the wrong
elements fails even when their sum is right), keyword-only options,
raise_exception, nondet_tol, fast_mode, and the errors."""
import numpy as np
import pytest

import fastnn
from fastnn.testing import requires_torch


def _functions(M):
    class Swapped(M.autograd.Function):
        """y = 2 x, but the backward flips the gradient's order."""
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g.flip(0) * 2

    class Good(M.autograd.Function):
        @staticmethod
        def forward(ctx, x, w):
            ctx.save_for_backward(x, w)
            return x * w, (x * w).argmax()

        @staticmethod
        def backward(ctx, g, gi):
            x, w = ctx.saved_tensors
            return (g * w if ctx.needs_input_grad[0] else None,
                    g * x if ctx.needs_input_grad[1] else None)

    class Noisy(M.autograd.Function):
        calls = [0]

        @staticmethod
        def forward(ctx, x):
            return x * 3

        @staticmethod
        def backward(ctx, g):
            Noisy.calls[0] += 1
            return g * (3 + 1e-9 * Noisy.calls[0])     # never twice the same

    return Swapped, Good, Noisy


@pytest.mark.parametrize("fast_mode", [False, True])
def test_jacobian_checked_not_just_the_sum_like_torch(fast_mode):
    torch = requires_torch()
    got = {}
    for M in (torch, fastnn):
        Swapped, Good, _ = _functions(M)
        x = M.tensor([0.5, -1.0, 2.0], dtype=M.float64, requires_grad=True)
        w = M.tensor([1.5, 0.25, -3.0], dtype=M.float64, requires_grad=True)
        got[M.__name__] = (
            M.autograd.gradcheck(Swapped.apply, (x,), raise_exception=False,
                                 fast_mode=fast_mode),
            M.autograd.gradcheck(lambda a, b: Good.apply(a, b), (x, w), eps=1e-6, atol=1e-5,
                                 fast_mode=fast_mode),
            M.autograd.gradcheck(lambda a: Good.apply(a, w.detach())[0], (x,),
                                 fast_mode=fast_mode))
    assert got["fastnn"] == got["torch"] == (False, True, True)
    with pytest.raises(fastnn.GradcheckError, match="Jacobian mismatch for output 0"):
        Swapped, _, _ = _functions(fastnn)
        fastnn.autograd.gradcheck(Swapped.apply,
                                  (fastnn.tensor([0.5, -1.0, 2.0], dtype=fastnn.float64,
                                                 requires_grad=True),))


def test_options_are_keyword_only_and_errors_match_torch():
    torch = requires_torch()
    for M in (torch, fastnn):
        x = M.ones(2, dtype=M.float64, requires_grad=True)
        with pytest.raises(TypeError):
            M.autograd.gradcheck(lambda t: t * 2, (x,), 1e-6)
        with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
            M.autograd.gradcheck(lambda t: t * 2, (M.ones(2, dtype=M.float64),))
        _, _, Noisy = _functions(M)
        with pytest.raises(RuntimeError, match="not reentrant"):
            M.autograd.gradcheck(Noisy.apply, (x,))
        assert M.autograd.gradcheck(Noisy.apply, (x,), nondet_tol=1e-6)
        assert M.autograd.gradgradcheck(lambda t: (t ** 3).sum(), (x,),
                                        raise_exception=False)
