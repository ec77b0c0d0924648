"""nn.Ensemble: combining members' outputs."""
import numpy as np
import pytest

import fastnn
from fastnn import nn


def _members(m=4, n_in=5, n_out=3, seed=0):
    fastnn.manual_seed(seed)
    return [nn.Linear(n_in, n_out) for _ in range(m)]


def _np_out(member, x):
    return x @ member.weight.detach().numpy().T + member.bias.detach().numpy()


def _np_softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def test_mean_averages_outputs_and_backpropagates_to_every_member(rng):
    members = _members()
    ens = nn.Ensemble(members)
    x = rng.standard_normal((6, 5)).astype(np.float32)
    out = ens(fastnn.tensor(x))
    ref = np.mean([_np_out(m, x) for m in members], axis=0)
    np.testing.assert_allclose(out.detach().numpy(), ref, rtol=1e-5, atol=1e-6)
    R = rng.standard_normal((6, 3)).astype(np.float32)
    (out * fastnn.tensor(R)).sum().backward()
    for m in members:  # d/dW of mean(x W_i^T) = R^T x / M
        np.testing.assert_allclose(m.weight.grad, R.T @ x / len(members), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(m.bias.grad, R.sum(0) / len(members), rtol=1e-4, atol=1e-5)


def test_mean_proba_sum_none_and_vote(rng):
    members = _members(m=5)
    x = rng.standard_normal((7, 5)).astype(np.float32)
    outs = np.stack([_np_out(m, x) for m in members])
    p = nn.Ensemble(members, reduction="mean_proba")(fastnn.tensor(x))
    np.testing.assert_allclose(p.detach().numpy(), np.mean([_np_softmax(o) for o in outs], axis=0),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(p.detach().numpy().sum(1), 1, rtol=1e-5)
    s = nn.Ensemble(members, reduction="sum")(fastnn.tensor(x))
    np.testing.assert_allclose(s.detach().numpy(), outs.sum(0), rtol=1e-5, atol=1e-5)
    st = nn.Ensemble(members, reduction="none")(fastnn.tensor(x))
    assert st.shape == (5, 7, 3)
    np.testing.assert_allclose(st.detach().numpy(), outs, rtol=1e-5, atol=1e-6)
    v = nn.Ensemble(members, reduction="vote")(fastnn.tensor(x))
    assert v.dtype == np.int64 and v.shape == (7,)
    votes = outs.argmax(axis=2)
    expected = [np.bincount(votes[:, i], minlength=3).argmax() for i in range(7)]
    np.testing.assert_array_equal(v.detach().numpy(), expected)


def test_container_protocol_state_dict_and_modes():
    members = _members(m=3)
    ens = nn.Ensemble(members)
    assert len(ens) == 3 and ens[1] is members[1] and list(ens) == members
    sd = ens.state_dict()
    assert sorted(sd) == sorted(f"models.{i}.{k}" for i in range(3) for k in ("weight", "bias"))
    other = nn.Ensemble(_members(m=3, seed=9))
    other.load_state_dict(sd)
    np.testing.assert_array_equal(other[2].weight.detach().numpy(), members[2].weight.detach().numpy())
    assert len(list(ens.parameters())) == 6
    ens.eval()
    assert all(not m.training for m in members)
    assert "reduction='mean'" in repr(ens)


@pytest.mark.parametrize("args", [([],), ("not modules",), ([nn.Linear(2, 2), 3],),
                                  (nn.Linear(2, 2),), ([nn.Linear(2, 2)], "median")])
def test_bad_arguments(args):
    with pytest.raises(ValueError):
        nn.Ensemble(*args)


def test_members_with_different_output_shapes_raise():
    ens = nn.Ensemble([nn.Linear(4, 3), nn.Linear(4, 2)])
    with pytest.raises(ValueError, match="different shapes"):
        ens(fastnn.randn(2, 4))
    with pytest.raises(ValueError, match="mean_proba"):
        nn.Ensemble([nn.Identity(), nn.Identity()], reduction="mean_proba")(fastnn.randn(4))


def test_ensemble_of_noisy_models_beats_the_average_member(rng):
    # Members = the true linear map plus independent noise; averaging cancels the noise.
    W = rng.standard_normal((3, 5)).astype(np.float32)
    members = []
    for _ in range(8):
        m = nn.Linear(5, 3)
        m.weight.data[...] = W + rng.standard_normal(W.shape).astype(np.float32)
        m.bias.data[...] = 0
        members.append(m)
    x = rng.standard_normal((200, 5)).astype(np.float32)
    y = (x @ W.T).argmax(1)
    acc = lambda out: float((out.detach().numpy().argmax(1) == y).mean())  # noqa: E731
    member_accs = [acc(m(fastnn.tensor(x))) for m in members]
    ens_acc = acc(nn.Ensemble(members, reduction="mean_proba")(fastnn.tensor(x)))
    assert ens_acc > np.mean(member_accs)


def test_example_ensemble_digits_beats_average_member():
    import os
    import runpy
    fastnn.set_num_threads(1)  # tiny MLPs (the conftest fixture restores the count)
    path = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "ensemble_digits.py")
    main = runpy.run_path(path, run_name="example")["main"]
    member_acc, ens_acc = main(n_members=4, epochs=3, verbose=False)
    assert len(member_acc) == 4 and min(member_acc) > 0.85
    assert ens_acc > np.mean(member_acc)
