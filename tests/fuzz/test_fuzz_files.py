"""Mutation fuzzing of fastnn.load (the mutator is _mutate.py): valid
files mutated with a fixed seed, loaded in a child process under a memory
limit; every load must succeed with well-formed data or raise ValueError.
``FASTNN_FUZZ_MUTATIONS`` sets the count (default CI_MUTATIONS)."""
import json
import os
import subprocess
import sys

import pytest

import _fuzzrun as cf

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the memory limit uses RLIMIT_AS and /proc (Linux)")
CI_MUTATIONS = 40000   # about 12 s


def test_mutated_files_load_or_raise_value_error(tmp_path):
    n = int(os.environ.get("FASTNN_FUZZ_MUTATIONS", CI_MUTATIONS))
    out, prog = tmp_path / "r.json", tmp_path / "p.txt"
    cmd = [sys.executable, os.path.join(cf.HERE, "_mutate.py"), "--seed", "0", "--count",
           str(n), "--progress", str(prog), "--out", str(out)]
    try:
        p = subprocess.run(cmd, env=cf.child_env(), capture_output=True, text=True,
                           timeout=max(120, n // 100))
        rc, err = p.returncode, p.stderr
    except subprocess.TimeoutExpired:
        rc, err = "timeout", ""
    last = prog.read_text().split("\n")[0] if prog.exists() else "(none)"
    assert rc == 0, f"the load child {'hung' if rc == 'timeout' else 'crashed'} ({rc}) on " \
                    f"{last}\n(the file's bytes are in hex on the next line of the progress " \
                    f"file)\n{err[-3000:]}"
    r = json.loads(out.read_text())
    cf.STATS["mutations"] += r["mutations"]
    cf.STATS["mutation_findings"] += len(r["findings"])
    assert r["mutations"] == n
    assert r["loaded"] > 0 and r["refused"] > 0   # both paths are exercised
    assert not r["findings"], "\n".join(f"{f['what']}: {f['error']}\n{f.get('trace', '')}"
                                        for f in r["findings"][:10])
