"""out= on the factories and cat/stack (it used to be accepted and ignored:
the target kept its old values), and the deprecated add_(alpha, other)
form that PyTorch's older examples use."""
import warnings

import numpy as np
import pytest

import fastnn
from fastnn.testing import requires_torch


def _script(L):
    res = []
    r = L.full((4,), -7.0)
    q = L.cat([L.ones(2), L.zeros(2)], out=r)
    res += [r.tolist(), q is r]
    r = L.full((4,), -7.0)
    res += [L.zeros(4, out=r).tolist(), r.tolist()]
    r = L.full((2, 2), -7.0)
    L.stack([L.ones(2), L.zeros(2)], out=r)
    res.append(r.tolist())
    r = L.full((3,), -7.0)
    L.arange(3.0, out=r)
    res.append(r.tolist())
    r = L.empty(3, dtype=L.long)
    L.arange(3, out=r)
    res.append((r.tolist(), str(r.dtype).split(".")[-1]))
    r = L.empty(2, dtype=L.long)
    L.zeros(2, out=r)
    res.append(str(r.dtype).split(".")[-1])
    r = L.empty(0)
    L.ones(2, 3, out=r)
    res.append(list(r.shape))
    r = L.empty(5)
    L.linspace(0, 1, 5, out=r)
    res.append([round(v, 5) for v in r.tolist()])
    r = L.empty(2, 2)
    L.eye(2, out=r)
    res.append(r.tolist())
    r = L.empty(3)
    L.full((3,), 2.5, out=r)
    res.append(r.tolist())
    r = L.empty(3)
    L.randn(3, out=r)
    res.append(list(r.shape))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x = L.ones(2)
        x.add_(-0.5, L.ones(2))
        z = L.ones(2)
        z.sub_(3, L.ones(2))
        res += [x.tolist(), L.ones(2).add(2, L.ones(2)).tolist(), z.tolist()]
    return res


def test_out_and_legacy_forms_match_torch():
    torch = requires_torch()
    assert _script(fastnn) == _script(torch)


def test_out_writes_into_the_target():
    r = fastnn.full((4,), -7.0)
    assert fastnn.cat([fastnn.ones(2), fastnn.zeros(2)], out=r) is r
    np.testing.assert_array_equal(r.numpy(), [1, 1, 0, 0])
    assert fastnn.zeros(3, out=r) is r and r.shape == (3,) and not r.numpy().any()
    with pytest.raises(RuntimeError):      # a float result into an int tensor
        fastnn.cat([fastnn.ones(2)], out=fastnn.empty(2, dtype=fastnn.long))


def test_deprecated_alpha_form_warns_and_checks():
    x = fastnn.ones(2)
    with pytest.warns(UserWarning, match="deprecated"):
        x.add_(-0.5, fastnn.ones(2))
    np.testing.assert_array_equal(x.numpy(), [0.5, 0.5])
    with pytest.raises(TypeError):
        x.add_(1, 2)
