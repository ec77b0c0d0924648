"""Invalid hyper-parameters and inputs raise clear errors naming the argument;
bad arrays reaching the compiled core raise instead of crashing."""
import numpy as np
import pytest

import fastnn
from fastnn.testing import run_python


def _p():
    return [fastnn.nn.Parameter(np.ones(3))]


@pytest.mark.parametrize("name,kw,arg", [
    ("SGD", dict(lr=-0.1), "lr"),
    ("SGD", dict(lr=0.1, momentum=-0.5), "momentum"),
    ("SGD", dict(lr=0.1, weight_decay=-1), "weight_decay"),
    ("SGD", dict(lr=0.1, nesterov=True), "nesterov"),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "dampening"),
    ("Adagrad", dict(lr=-1), "lr"),
    ("Adagrad", dict(eps=-1e-10), "eps"),
    ("Adagrad", dict(lr_decay=-0.1), "lr_decay"),
    ("Adagrad", dict(weight_decay=-0.1), "weight_decay"),
    ("Adagrad", dict(initial_accumulator_value=-1.0), "initial_accumulator_value"),
    ("RMSprop", dict(lr=-1e-3), "lr"),
    ("RMSprop", dict(alpha=-0.5), "alpha"),
    ("RMSprop", dict(eps=-1.0), "eps"),
    ("RMSprop", dict(momentum=-0.1), "momentum"),
    ("RMSprop", dict(weight_decay=-0.1), "weight_decay"),
    ("Adam", dict(lr=-1e-3), "lr"),
    ("Adam", dict(betas=(1.0, 0.999)), "betas"),
    ("Adam", dict(betas=(0.9, -0.1)), "betas"),
    ("Adam", dict(betas=(0.9, 1.5)), "betas"),
    ("Adam", dict(eps=-1e-8), "eps"),
    ("Adam", dict(weight_decay=-1e-2), "weight_decay"),
    ("AdamW", dict(betas=(-0.1, 0.999)), "betas"),
    ("AdamW", dict(lr=float("nan")), "lr"),
    ("RandomSearch", dict(std=-1.0), "std"),
    ("RandomLocalSearch", dict(step_size=-1.0), "step_size"),
])
def test_invalid_hyperparameters(name, kw, arg):
    with pytest.raises(ValueError, match=arg):
        getattr(fastnn.optim, name)(_p(), **kw)


def test_invalid_group_value_is_checked_too():
    with pytest.raises(ValueError, match="lr"):
        fastnn.optim.SGD([{"params": _p(), "lr": -1.0}], lr=0.1)


def test_empty_and_wrong_params():
    with pytest.raises(ValueError, match="empty parameter list"):
        fastnn.optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        fastnn.optim.Adam(iter([]))
    with pytest.raises(TypeError, match="iterable"):
        fastnn.optim.SGD(fastnn.nn.Parameter(np.ones(2)), lr=0.1)
    with pytest.raises(TypeError, match="Tensors"):
        fastnn.optim.SGD([np.ones(2)], lr=0.1)
    with pytest.raises(TypeError, match="ordered"):
        fastnn.optim.SGD([{"params": set(_p())}], lr=0.1)
    x = fastnn.tensor(np.ones(2), requires_grad=True)
    with pytest.raises(ValueError, match="non-leaf"):
        fastnn.optim.SGD([x * 2], lr=0.1)


def test_non_contiguous_data_is_a_clear_error():
    p = fastnn.nn.Parameter(np.ones((4, 4)))
    opt = fastnn.optim.SGD([p], lr=0.1)
    p.data = np.ones((4, 8))[:, ::2]
    p.grad = np.ones((4, 4))
    with pytest.raises(ValueError, match="contiguous"):
        opt.step()


def test_gradient_shape_mismatch_is_a_clear_error():
    p = fastnn.nn.Parameter(np.ones(4))
    opt = fastnn.optim.Adam([p])
    with pytest.raises(RuntimeError, match="assigned grad has data of a different size"):
        p.grad = np.ones(5)                   # refused on assignment, as in PyTorch
    p.grad = np.ones(4)
    p.grad._array = np.ones(5)                # forced behind the check: the step refuses
    with pytest.raises(ValueError, match="gradient"):
        opt.step()


def test_non_contiguous_or_mistyped_grad_is_accepted():
    p = fastnn.nn.Parameter(np.ones(4, np.float32))
    opt = fastnn.optim.SGD([p], lr=0.5)
    p.grad = np.ones(8)[::2]                  # float64, strided
    opt.step()
    np.testing.assert_array_equal(p.detach().numpy(), np.full(4, 0.5, np.float32))
    assert p.detach().numpy().dtype == np.float32


def test_core_rejects_bad_arrays_without_crashing():
    r = run_python("""
import numpy as np
from fastnn import _core as C
errs = []
p = np.ones(10, np.float32); g = np.ones(10, np.float32)
for call in [
    lambda: C.sgd_step([p], [np.ones(9, np.float32)], None, 0.1),
    lambda: C.sgd_step([p], [g.astype(np.float64)], None, 0.1),
    lambda: C.sgd_step([p], [g], None, 0.1, momentum=0.9),
    lambda: C.sgd_step([p], [g, g], None, 0.1),
    lambda: C.sgd_step([p.astype(np.int32)], [g], None, 0.1),
    lambda: C.sgd_step([np.ones(20, np.float32)[::2]], [g], None, 0.1),
    lambda: C.adam_step([p], [g], [np.zeros(10, np.float32)], [np.zeros(3, np.float32)], 1.0),
    lambda: C.adam_step([p], [g], [p.copy()], [p.copy()], 0.0),
    lambda: C.rmsprop_step([p], [g], [p.copy()], None, None, 0.1, momentum=0.5),
    lambda: C.rmsprop_step([p], [g], [p.copy()], None, None, 0.1, centered=True),
    lambda: C.adagrad_step([p], [g], ["x"], 0.1),
]:
    try:
        call()
        errs.append("no error")
    except (ValueError, TypeError) as e:
        errs.append(type(e).__name__)
ro = np.ones(10, np.float32); ro.flags.writeable = False
try:
    C.sgd_step([ro], [g], None, 0.1); errs.append("no error")
except ValueError:
    errs.append("ValueError")
print(",".join(errs))
""")
    assert r.returncode == 0, r.stderr
    out = r.stdout.strip().split(",")
    assert len(out) == 12 and "no error" not in out, out


def test_empty_param_group_is_allowed_as_torch():
    # a "no weight decay" group can be empty (a model without biases); PyTorch
    # accepts it, fastnn raised
    torch = pytest.importorskip("torch")
    out = {}
    for M in (torch, fastnn):
        w = M.nn.Parameter(M.ones(3))
        opt = M.optim.AdamW([{"params": [w], "weight_decay": 0.1},
                             {"params": [], "weight_decay": 0.0}], lr=0.1)
        opt.add_param_group({"params": []})
        w.grad = M.ones(3)
        opt.step()
        sched = M.optim.lr_scheduler.StepLR(opt, 1, gamma=0.5)
        sched.step()
        sd = opt.state_dict()
        opt2 = M.optim.AdamW([{"params": [M.nn.Parameter(M.ones(3))]}, {"params": []},
                              {"params": []}], lr=0.1)
        opt2.load_state_dict(sd)
        out[M.__name__] = (w.detach().numpy().tolist(), [g["params"] for g in sd["param_groups"]],
                           sched.get_last_lr(), repr(opt).count("Parameter Group"),
                           repr(opt).count("\n\n"))
    assert out["fastnn"] == out["torch"]
