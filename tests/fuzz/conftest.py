"""Fuzzing fixtures: the op fuzzer runs in child processes so a crash of the
compiled core is a test failure, not the end of the session.

``FASTNN_FUZZ_EXAMPLES`` sets the Hypothesis examples per op (default
``CI_EXAMPLES``), ``FASTNN_FUZZ_MUTATIONS`` the file mutations of the
serialization fuzzer (default in test_fuzz_files.py).  The search is
derandomised, so a CI run is reproducible.  At the end of the session a
line ``fuzz: N examples over M ops, K files mutated, findings F`` is
printed.
"""
import json
import os
import subprocess
import sys
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:  # the helper modules _harness, _opcases, _mutate
    sys.path.insert(0, HERE)
CI_EXAMPLES = 60
OP_TIMEOUT = 600  # seconds for one op's whole search: a hang is a finding

STATS = {"ops": {}, "mutations": 0, "mutation_findings": 0}


def examples_per_op():
    return int(os.environ.get("FASTNN_FUZZ_EXAMPLES", CI_EXAMPLES))


def _child_env():
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(HERE))
    env["PYTHONPATH"] = os.pathsep.join([root] + [p for p in env.get("PYTHONPATH", "").split(
        os.pathsep) if p])
    env.setdefault("FASTNN_NUM_THREADS", "1")
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def run_ops(ops, n_examples):
    """Runs the op searches in a child; after a crash or a hang the child is
    restarted on the ops that remain.  Returns {op: result dict}."""
    results = {}
    todo = list(ops)
    with tempfile.TemporaryDirectory() as tmp:
        out, prog = os.path.join(tmp, "r.jsonl"), os.path.join(tmp, "p.txt")
        while todo:
            cmd = [sys.executable, os.path.join(HERE, "_runner.py"), "--out", out,
                   "--progress", prog, "--examples", str(n_examples)] + todo
            timeout = OP_TIMEOUT * len(todo)
            try:
                p = subprocess.run(cmd, env=_child_env(), capture_output=True, text=True,
                                   timeout=timeout)
                rc, err = p.returncode, p.stderr
            except subprocess.TimeoutExpired as e:
                rc, err = "timeout", (e.stderr or b"")
                err = err.decode() if isinstance(err, bytes) else err
            if os.path.exists(out):
                with open(out) as f:
                    for line in f:
                        r = json.loads(line)
                        results[r["op"]] = r
            todo = [op for op in todo if op not in results]
            if rc == 0 and not todo:
                break
            if not todo:
                break
            last = open(prog).read() if os.path.exists(prog) else ""
            op = last.split(":", 1)[0] if last else todo[0]
            op = op if op in todo else todo[0]
            what = "hung (timeout)" if rc == "timeout" else f"crashed (exit status {rc})"
            results[op] = dict(op=op, status="fail", examples=0, n_lenient=0, lenient=[],
                               detail=f"the child process {what} on\n  {last}\n"
                                      f"stderr tail:\n{err[-2000:]}")
            todo.remove(op)
    return results


@pytest.fixture(scope="session")
def op_results():
    import fastnn.testing
    fastnn.testing.requires_torch()  # PyTorch is the oracle
    import _opcases
    res = run_ops(list(_opcases.CASES), examples_per_op())
    STATS["ops"].update(res)
    return res


def pytest_terminal_summary(terminalreporter):
    ops = STATS["ops"]
    if not ops and not STATS["mutations"]:
        return
    n = sum(r["examples"] for r in ops.values())
    bad = sum(r["status"] != "ok" for r in ops.values()) + STATS["mutation_findings"]
    lenient = sum(r["n_lenient"] for r in ops.values())
    tr = terminalreporter
    tr.write_sep("-", "fuzz")
    for name, r in sorted(ops.items()):
        tr.write_line(f"  {name:34s} {r['examples']:6d} examples  {r['status']}"
                      + (f"  ({r['n_lenient']} accepted where torch refuses)"
                         if r["n_lenient"] else ""))
    tr.write_line(f"fuzz: {n} examples over {len(ops)} ops, {STATS['mutations']} files mutated, "
                  f"findings {bad} ({lenient} calls fastnn accepts and torch refuses)")
