"""Fixtures of the sequence-model tests: PyTorch (skips without it) and
helpers to move weights and compare results."""
import numpy as np
import pytest

import fastnn
from fastnn.testing import requires_torch


@pytest.fixture
def torch():
    t = requires_torch()
    t.manual_seed(0)
    fastnn.manual_seed(0)
    return t


class Helpers:
    """Weight copies and comparisons between a torch and a fastnn model."""

    @staticmethod
    def load(tm, fm, dtype):
        sd = {k: v.detach().numpy() for k, v in tm.state_dict().items()}
        assert [(k, tuple(v.shape)) for k, v in sd.items()] == \
            [(k, tuple(v.shape)) for k, v in fm.state_dict().items()]
        fm.load_state_dict(sd)
        return fm.double() if dtype == np.float64 else fm

    @staticmethod
    def close(a, b, dtype, rtol=None, atol=None):
        a = a.detach().numpy() if hasattr(a, "detach") else np.asarray(a)
        b = b.detach().numpy() if hasattr(b, "detach") else np.asarray(b)
        assert a.shape == b.shape, (a.shape, b.shape)
        if dtype == np.float64:
            np.testing.assert_allclose(b, a, rtol=rtol or 1e-9, atol=atol or 1e-10)
        else:
            np.testing.assert_allclose(b, a, rtol=rtol or 2e-4, atol=atol or 2e-5)

    @staticmethod
    def grads(tm, fm, dtype):
        fp = dict(fm.named_parameters())
        n = 0
        for name, p in tm.named_parameters():
            if p.grad is None:
                continue
            Helpers.close(p.grad, fp[name].grad, dtype)
            n += 1
        assert n > 0


@pytest.fixture
def H():
    return Helpers
