"""Fixtures of the MPI tests: ``run_mpi(code, n=2, timeout=90, common=True)``
runs a script on n ranks under mpiexec (skipping when MPI is missing)."""
import os
import shutil
import signal
import subprocess
import sys
import textwrap

import pytest

import fastnn

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The ranks import the same fastnn as this test process (the source tree when
# built in place, site-packages when installed).
FASTNN_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(fastnn.__file__)))


def _mpiexec():
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        pytest.skip("mpi4py is not installed (run .ci/install-mpi.sh or pip install fastnn[mpi])")
    path = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    exe = shutil.which("mpiexec", path=path) or shutil.which("mpirun", path=path)
    if exe is None:
        pytest.skip("no mpiexec/mpirun on PATH (run .ci/install-mpi.sh)")
    return exe


def _run_mpi(tmp_path, code, n=2, timeout=90, common=True):
    """Runs ``code`` (after COMMON, unless common=False) on n ranks; returns
    (returncode, stdout, stderr).  The whole process group is killed if it
    outlives ``timeout`` seconds."""
    exe = _mpiexec()
    script = tmp_path / "script.py"
    script.write_text((COMMON if common else "") + textwrap.dedent(code))
    env = dict(os.environ)
    env["PYTHONPATH"] = FASTNN_PARENT + os.pathsep + env.get("PYTHONPATH", "")
    env.update(OMP_NUM_THREADS="1", FASTNN_NUM_THREADS="1", OMPI_ALLOW_RUN_AS_ROOT="1",
               OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_rmaps_base_oversubscribe="1",
               PRTE_MCA_rmaps_default_mapping_policy=":oversubscribe")
    p = subprocess.Popen([exe, "-n", str(n), sys.executable, str(script)], cwd=str(tmp_path),
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        pytest.fail(f"mpiexec did not finish within {timeout} s\nstdout:\n{out}\nstderr:\n{err}")
    return p.returncode, out, err


COMMON = """
import numpy as np
import fastnn
import fastnn.distributed as dist
from fastnn import nn

rank, world = dist.init()
assert world == 2, world
fastnn.set_num_threads(1)


class SGD:
    # A self-contained SGD with momentum and a torch-style state dict.
    def __init__(self, params, lr, momentum=0.0):
        self.param_groups = [{"params": list(params), "lr": lr, "momentum": momentum}]
        self.state = {}

    def zero_grad(self):
        for g in self.param_groups:
            for p in g["params"]:
                p.grad = None

    def step(self):
        for g in self.param_groups:
            for p in g["params"]:
                if p.grad is None:
                    continue
                d = p.grad.numpy()
                if g["momentum"]:
                    buf = self.state.setdefault(id(p), {}).get("momentum_buffer")
                    buf = d.copy() if buf is None else buf * g["momentum"] + d
                    self.state[id(p)]["momentum_buffer"] = buf
                    d = buf
                p.data -= g["lr"] * d

    def _params(self):
        return [p for g in self.param_groups for p in g["params"]]

    def state_dict(self):
        idx = {id(p): i for i, p in enumerate(self._params())}
        return {"state": {idx[k]: dict(v) for k, v in self.state.items()},
                "param_groups": [{"lr": g["lr"], "momentum": g["momentum"],
                                  "params": [idx[id(p)] for p in g["params"]]}
                                 for g in self.param_groups]}

    def load_state_dict(self, sd):
        ps = self._params()
        self.state = {id(ps[int(i)]): {k: np.array(v) for k, v in s.items()}
                      for i, s in sd["state"].items()}
        for g, sg in zip(self.param_groups, sd["param_groups"]):
            g["lr"], g["momentum"] = sg["lr"], sg["momentum"]


def make_model(seed):
    fastnn.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(),
                         nn.Linear(32, 3))


def mse(out, y):
    d = out - fastnn.Tensor(y)
    return (d * d).mean()


def flat(model):
    return np.concatenate([p.detach().numpy().ravel() for p in model.parameters()])


def same_on_all_ranks(a):
    a = np.asarray(a, np.float64)
    return np.array_equal(dist.allreduce(a, "max"), dist.allreduce(a, "min"))
"""



@pytest.fixture
def run_mpi(tmp_path):
    """``run_mpi(code, n=2, timeout=90, common=True) -> (returncode, stdout, stderr)``;
    ``common`` prepends COMMON (imports, init, a reference SGD, helpers)."""
    _mpiexec()
    return lambda code, **kw: _run_mpi(tmp_path, code, **kw)
