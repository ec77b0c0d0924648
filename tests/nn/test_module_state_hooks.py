"""Module state-dict machinery as PyTorch's: _load_from_state_dict overrides
(renaming old keys), state-dict and load hooks, get/set_extra_state, and
set_submodule / to_empty / _apply / compile; atomic loading is kept."""
import numpy as np
import pytest

import fastnn
from fastnn.testing import requires_torch


def _net(M):
    class Old(M.nn.Module):
        """Renames the pre-version-2 key 'w' to 'weight' when loading."""

        def __init__(self):
            super().__init__()
            self.weight = M.nn.Parameter(M.zeros(3))
            self.counter = 0

        def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict,
                                  missing_keys, unexpected_keys, error_msgs):
            old = prefix + "w"
            if old in state_dict:
                state_dict[prefix + "weight"] = state_dict.pop(old)
            super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                          missing_keys, unexpected_keys, error_msgs)

        def get_extra_state(self):
            return {"counter": self.counter}

        def set_extra_state(self, state):
            self.counter = state["counter"]

    return M.nn.Sequential(M.nn.Linear(2, 3), Old())


def test_load_from_state_dict_override_and_extra_state_match_torch():
    torch = requires_torch()
    out = {}
    for M in (torch, fastnn):
        net = _net(M)
        net[1].counter = 7
        sd = net.state_dict()
        keys = list(sd)
        assert sd["1._extra_state"] == {"counter": 7}
        net2 = _net(M)
        sd2 = {k: v for k, v in sd.items()}
        sd2["1.w"] = sd2.pop("1.weight")            # an old checkpoint
        res = net2.load_state_dict(sd2)
        out[M.__name__] = (keys, net2[1].counter, list(res.missing_keys),
                           list(res.unexpected_keys))
        assert "1.w" in sd2                          # the caller's dict is not changed
    assert out["fastnn"] == out["torch"]


def test_state_dict_and_load_hooks_match_torch():
    torch = requires_torch()
    out = {}
    for M in (torch, fastnn):
        log = []
        net = M.nn.Sequential(M.nn.Linear(2, 2), M.nn.Linear(2, 1))
        net[0].register_state_dict_pre_hook(lambda m, prefix, kv: log.append(("pre", prefix)))
        net.register_state_dict_post_hook(lambda m, sd, prefix, meta: log.append(
            ("post", len(sd))))
        h = net[1]._register_state_dict_hook(lambda m, sd, prefix, meta: sd.update(
            {prefix + "extra": M.ones(1)}))
        sd = net.state_dict()
        h.remove()
        net.register_load_state_dict_pre_hook(
            lambda m, sd, prefix, meta, strict, mk, uk, em: sd.pop(prefix + "1.extra", None))

        def post(m, keys):
            log.append(("loadpost", list(keys.missing_keys), list(keys.unexpected_keys)))
            keys.missing_keys.clear()
        net[0].register_load_state_dict_post_hook(post)
        del sd["0.bias"]
        net.load_state_dict(sd)                        # strict: the post hook cleared it
        out[M.__name__] = (log, list(net.state_dict()))
    assert out["fastnn"] == out["torch"]


def test_loading_stays_atomic_with_the_recursive_pass():
    net = fastnn.nn.Sequential(fastnn.nn.Linear(2, 2), fastnn.nn.Linear(2, 1))
    before = [p.detach().numpy().copy() for p in net.parameters()]
    sd = {k: v + 1 for k, v in net.state_dict().items()}
    sd["1.weight"] = fastnn.ones(3, 3)
    with pytest.raises(fastnn.ShapeError, match="size mismatch for 1.weight"):
        net.load_state_dict(sd)
    for a, p in zip(before, net.parameters()):
        np.testing.assert_array_equal(a, p.detach().numpy())
    with pytest.raises(KeyError, match="Unexpected key"):
        net.load_state_dict({**net.state_dict(), "zzz": fastnn.ones(1)})


def test_set_submodule_to_empty_apply_compile():
    torch = requires_torch()
    for M in (torch, fastnn):
        net = M.nn.Sequential(M.nn.Linear(2, 2), M.nn.Sequential(M.nn.ReLU()))
        net.set_submodule("1.0", M.nn.Tanh())
        assert isinstance(net[1][0], M.nn.Tanh)
        with pytest.raises(AttributeError):
            net.set_submodule("1.5", M.nn.Tanh(), strict=True)
        w = net[0].weight
        net._apply(lambda t: t * 2)
        assert net[0].weight is w
        net.to_empty(device="cpu")
        assert net[0].weight.shape == (2, 2)
        assert net.compile() is None


def test_batchnorm_checkpoint_without_num_batches_tracked_matches_torch():
    # PyTorch fills num_batches_tracked missing from a state_dict without
    # version metadata (old checkpoints, dicts rebuilt by a comprehension)
    # with the module's count; fastnn reported it missing, so strict loading
    # raised where PyTorch loads.
    torch = pytest.importorskip("torch")
    res = []
    for m in (torch, fastnn):
        net = m.nn.Sequential(m.nn.Conv2d(1, 2, 3), m.nn.BatchNorm2d(2))
        net(m.ones(2, 1, 4, 4))                              # count 1
        sd = {k: v for k, v in net.state_dict().items() if "num_batches" not in k}
        r = net.load_state_dict(sd)                          # strict: must not raise
        res.append((list(r.missing_keys), list(r.unexpected_keys),
                    int(net[1].num_batches_tracked)))
    assert res[1] == res[0] == ([], [], 1)


def test_load_state_dict_honours_torch_metadata_version():
    # with PyTorch's _metadata (version 2) the key is reported missing, as in PyTorch
    torch = pytest.importorskip("torch")
    ts = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2)).state_dict()
    del ts["1.num_batches_tracked"]
    want = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3),
                               torch.nn.BatchNorm2d(2)).load_state_dict(ts, strict=False)
    got = fastnn.nn.Sequential(fastnn.nn.Conv2d(1, 2, 3),
                               fastnn.nn.BatchNorm2d(2)).load_state_dict(ts, strict=False)
    assert list(got.missing_keys) == list(want.missing_keys) == ["1.num_batches_tracked"]


def test_non_persistent_buffers_set_matches_torch():
    # PyTorch code reads and edits module._non_persistent_buffers_set (e.g.
    # checkpoint loaders); fastnn had no such attribute
    torch = pytest.importorskip("torch")
    res = []
    for m in (torch, fastnn):
        mod = m.nn.Module()
        mod.register_buffer("pe", m.ones(3), persistent=False)
        mod.register_buffer("keep", m.zeros(2))
        before = set(mod._non_persistent_buffers_set)
        mod._non_persistent_buffers_set.add("keep")        # edits take effect
        keys = list(mod.state_dict().keys())
        mod._non_persistent_buffers_set.discard("keep")
        mod._non_persistent_buffers_set.discard("pe")
        res.append((before, keys, list(mod.state_dict().keys())))
    assert res[1] == res[0] == ({"pe"}, [], ["pe", "keep"])
