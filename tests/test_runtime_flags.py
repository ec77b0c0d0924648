"""The process-wide switches (determinism, interop threads, warn-always,
anomaly, legacy autocast queries) report and check as PyTorch's do.  Each
library runs in its own interpreter: the switches are global."""
import json
import subprocess
import sys
import textwrap

import pytest

from fastnn.testing import _PKG_PARENT

SCRIPT = textwrap.dedent('''
    import json, sys, warnings
    warnings.simplefilter("ignore")
    if sys.argv[1] == "fastnn":
        import fastnn as torch
    else:
        import torch
    out = {}
    def err(name, fn):
        try:
            fn()
            out[name] = None
        except Exception as e:
            out[name] = [type(e).__name__, str(e)[:60]]
    out["det_default"] = [torch.are_deterministic_algorithms_enabled(),
                          torch.get_deterministic_debug_mode(),
                          torch.is_deterministic_algorithms_warn_only_enabled()]
    torch.use_deterministic_algorithms(True, warn_only=True)
    out["det_warn"] = [torch.are_deterministic_algorithms_enabled(),
                       torch.get_deterministic_debug_mode(),
                       torch.is_deterministic_algorithms_warn_only_enabled()]
    torch.set_deterministic_debug_mode("error")
    out["det_error"] = [torch.are_deterministic_algorithms_enabled(),
                        torch.get_deterministic_debug_mode()]
    torch.set_deterministic_debug_mode(0)
    out["det_off"] = torch.are_deterministic_algorithms_enabled()
    err("debug_bad_name", lambda: torch.set_deterministic_debug_mode("bogus"))
    err("debug_bad_int", lambda: torch.set_deterministic_debug_mode(3))
    err("interop_zero", lambda: torch.set_num_interop_threads(0))
    err("interop_str", lambda: torch.set_num_interop_threads("a"))
    torch.set_num_interop_threads(2)
    out["interop"] = torch.get_num_interop_threads()
    err("interop_again", lambda: torch.set_num_interop_threads(3))
    out["warn_always"] = [torch.is_warn_always_enabled()]
    torch.set_warn_always(True)
    out["warn_always"].append(torch.is_warn_always_enabled())
    torch.set_anomaly_enabled(True)
    out["anomaly"] = torch.is_anomaly_enabled()
    torch.set_anomaly_enabled(False)
    out["autocast_cpu"] = [torch.is_autocast_cpu_enabled(), str(torch.get_autocast_cpu_dtype())]
    out["flush_denormal_type"] = type(torch.set_flush_denormal(False)).__name__
    print(json.dumps(out))
''')


def _run(lib, tmp_path):
    path = tmp_path / "flags.py"
    path.write_text(SCRIPT)
    env = {"PYTHONPATH": _PKG_PARENT}
    import os
    env = dict(os.environ, **env)
    r = subprocess.run([sys.executable, str(path), lib], capture_output=True, text=True,
                       env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_runtime_flags_match_torch(tmp_path):
    got = _run("fastnn", tmp_path)
    assert got["det_default"] == [False, 0, False] and got["det_warn"] == [True, 1, True]
    pytest.importorskip("torch")
    want = _run("torch", tmp_path)
    for k in want:
        assert got[k] == want[k], (k, got[k], want[k])
