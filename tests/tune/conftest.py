"""Fixtures shared by the tune tests."""
import importlib
import sys
import textwrap

import pytest

WORKER_MODULE = textwrap.dedent('''
    import os, time, fastnn

    _first = True

    def objective(params, trial):
        # Record which process ran which grid point and its thread budget.
        global _first
        log = os.environ["FASTNN_TUNE_LOG"]
        with open(log, "a") as f:
            f.write(f"{os.getpid()} {params['a']} {params['b']} {fastnn.get_num_threads()}\\n")
        if _first:  # let the other worker start, so that both really run concurrently
            _first = False
            deadline = time.time() + 20
            while time.time() < deadline:
                with open(log) as f:
                    if len({ln.split()[0] for ln in f if ln.strip()}) >= 2:
                        break
                time.sleep(0.05)
        time.sleep(0.02)
        return (params["a"] - 2) ** 2 + params["b"]
''')


@pytest.fixture
def worker_objective(tmp_path, monkeypatch):
    """A module-level objective the worker processes can import, and the log
    file where each call writes: pid, a, b, the worker's thread count."""
    mod_dir = tmp_path / "mods"
    mod_dir.mkdir()
    name = "fastnn_tune_test_objective"
    (mod_dir / f"{name}.py").write_text(WORKER_MODULE)
    monkeypatch.syspath_prepend(str(mod_dir))
    log = tmp_path / "calls.log"
    monkeypatch.setenv("FASTNN_TUNE_LOG", str(log))
    mod = importlib.import_module(name)
    yield mod.objective, log
    sys.modules.pop(name, None)
