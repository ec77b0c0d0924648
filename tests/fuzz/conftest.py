"""Fuzzing fixtures: the op fuzzer runs in child processes so a crash of the
compiled core is a test failure, not the end of the session.

``FASTNN_FUZZ_EXAMPLES`` sets the Hypothesis examples per op (default
``CI_EXAMPLES``), ``FASTNN_FUZZ_MUTATIONS`` the file mutations of the
serialization fuzzer (default in test_fuzz_files.py).  The search is
derandomised, so a CI run is reproducible.  At the end of the session a
line ``fuzz: N examples over M ops, K files mutated, findings F`` is
printed.
"""
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:  # the helper modules _fuzzrun, _harness, _opcases, _hostile
    sys.path.insert(0, HERE)

from _fuzzrun import STATS, examples_per_op, run_ops  # noqa: E402


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
    line = (f"fuzz: {n} examples over {len(ops)} ops, {STATS['mutations']} files mutated, "
            f"findings {bad} ({lenient} calls fastnn accepts and torch refuses)")
    tr.write_line(line)
    summary = os.environ.get("FASTNN_CI_SUMMARY")   # .ci/run prints it at the end
    if summary:
        with open(summary, "a") as f:
            f.write(line + "\n")
