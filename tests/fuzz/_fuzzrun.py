"""State and child-process plumbing shared by the fuzz tests and their
conftest (one module, so the counters printed at the end are the ones the
tests filled in)."""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CI_EXAMPLES = 400   # per op group: about 60 s for all of them on this machine
OP_TIMEOUT = 600  # seconds for one op's whole search: a hang is a finding

STATS = {"ops": {}, "mutations": 0, "mutation_findings": 0}


def examples_per_op():
    return int(os.environ.get("FASTNN_FUZZ_EXAMPLES", CI_EXAMPLES))


def child_env():
    # the fastnn under test (installed, or built in place), not the source
    # tree: CI tests an installed fastnn from an unbuilt checkout
    import fastnn
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.abspath(fastnn.__file__)))
    env["PYTHONPATH"] = os.pathsep.join([root] + [p for p in env.get("PYTHONPATH", "").split(
        os.pathsep) if p])
    env.setdefault("FASTNN_NUM_THREADS", "1")
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def run_ops(ops, n_examples, env=None):
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
                p = subprocess.run(cmd, env=dict(child_env(), **(env or {})),
                                   capture_output=True, text=True,
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
