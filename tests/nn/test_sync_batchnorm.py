"""nn.SyncBatchNorm in one process (PyTorch's falls back to batch norm over
the local batch, as fastnn's always does), convert_sync_batchnorm as DDP
scripts call it, and PyTorch's module path torch.nn.modules.utils."""
import numpy as np
import pytest

import fastnn
import fastnn.nn as nn
from fastnn.testing import requires_torch


def _model(m):
    return m.Sequential(m.Conv2d(2, 3, 3), m.BatchNorm2d(3), m.ReLU(),
                        m.Sequential(m.Flatten(), m.Linear(12, 4), m.BatchNorm1d(4, momentum=None)),
                        m.InstanceNorm2d(3))


def test_convert_sync_batchnorm_matches_torch():
    torch = requires_torch()
    f, t = _model(nn), _model(torch.nn)
    f[1].running_mean._array[...] = 0.5                  # state that must carry over
    t.load_state_dict({k: torch.from_numpy(np.array(v.numpy())) for k, v in
                       f.state_dict().items()})
    f.eval()
    t.eval()
    fs = nn.SyncBatchNorm.convert_sync_batchnorm(f)
    ts = torch.nn.SyncBatchNorm.convert_sync_batchnorm(t)
    kinds = [type(m).__name__ for m in fs.modules()]
    assert kinds == [type(m).__name__ for m in ts.modules()]
    assert kinds.count("SyncBatchNorm") == 2 and "InstanceNorm2d" in kinds
    assert list(fs.state_dict()) == list(ts.state_dict())
    assert fs[1].weight is f[1].weight and not fs[1].training
    assert fs[3][2].momentum is None and repr(fs[1]) == repr(ts[1])
    x = np.random.default_rng(0).standard_normal((5, 2, 4, 4)).astype(np.float32)
    for mode in (False, True):
        fs.train(mode)
        ts.train(mode)
        got = fs[:2](fastnn.tensor(x))
        want = ts[:2](torch.from_numpy(x))
        np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-5,
                                   atol=1e-5)
    np.testing.assert_allclose(fs[1].running_var.numpy(), ts[1].running_var.numpy(), rtol=1e-5)
    assert int(fs[1].num_batches_tracked.item()) == int(ts[1].num_batches_tracked.item()) == 1


def test_sync_batchnorm_module_and_errors():
    m = nn.SyncBatchNorm(4, eps=1e-3, process_group=None)
    assert sorted(m.state_dict()) == ["bias", "num_batches_tracked", "running_mean",
                                      "running_var", "weight"]
    for shape in [(3, 4), (3, 4, 5), (3, 4, 2, 2)]:
        assert m(fastnn.randn(*shape)).shape == shape
    with pytest.raises(ValueError):
        m(fastnn.randn(4))
    bn = nn.BatchNorm1d(3)
    assert isinstance(nn.SyncBatchNorm.convert_sync_batchnorm(bn), nn.SyncBatchNorm)
    no_bias = nn.SyncBatchNorm.convert_sync_batchnorm(nn.BatchNorm1d(3, bias=False))
    assert no_bias.bias is None and list(no_bias.state_dict())[0] == "weight"


def test_module_paths_match_torch():
    torch = requires_torch()
    from fastnn.nn.modules.utils import _ntuple, _pair, _quadruple, _reverse_repeat_tuple, \
        _single, _triple
    from torch.nn.modules import utils as tu
    for v in (3, (1, 2), [4, 5, 6]):
        assert _single(v) == tu._single(v) and _pair(v) == tu._pair(v)
        assert _triple(v) == tu._triple(v) and _quadruple(v) == tu._quadruple(v)
        assert _ntuple(5)(v) == tu._ntuple(5)(v)
    assert _reverse_repeat_tuple((1, 2), 2) == tu._reverse_repeat_tuple((1, 2), 2)
    assert issubclass(nn.SyncBatchNorm, fastnn.nn.modules.normalization._BatchNorm)
    assert fastnn.nn.modules.utils is not fastnn.nn.utils
