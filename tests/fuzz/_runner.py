"""Child process of the op fuzzer: runs the Hypothesis search of each op
named on the command line and appends one JSON line per op to ``--out``.

Before each example it writes the op and the example's description to
``--progress`` (overwritten, flushed), so when the compiled core crashes
the parent (tests/fuzz/conftest.py) reports the case that did it.

Usage: python _runner.py --out R.jsonl --progress P.txt --examples N [op ...]
"""
import argparse
import json
import os
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import _harness  # noqa: E402
from _opcases import CASES  # noqa: E402


class Progress:
    def __init__(self, path):
        self.f = open(path, "w")

    def write(self, text):
        self.f.seek(0)
        self.f.write(text)
        self.f.truncate()
        self.f.flush()


def _describe(e):
    notes = "\n".join(getattr(e, "__notes__", []))
    tb = "".join(traceback.format_exception(e)[-4:]) if not isinstance(e, _harness.Finding) else ""
    return f"{type(e).__name__}: {e}\n{notes}\n{tb}"


def run_op(name, n_examples, progress):
    build = CASES[name]
    state = dict(examples=0, lenient=[])

    fixed = os.environ.get("FASTNN_FUZZ_SEED")   # another search than CI's, reproducible

    @settings(max_examples=n_examples, derandomize=fixed is None, database=None, deadline=None,
              suppress_health_check=list(HealthCheck), print_blob=False,
              phases=[Phase.explicit, Phase.generate, Phase.shrink])
    @given(st.data())
    def search(data):
        c = build(data)
        progress.write(f"{name}: {c.describe()}")
        state["examples"] += 1
        seed = state["examples"]
        _harness.check(c, seed, state["lenient"])

    if fixed is not None:
        search = seed(int(fixed))(search)
    try:
        search()
        status, detail = "ok", ""
    except Exception as e:  # a finding (after shrinking) or a harness error
        status = "fail"
        detail = "\n".join(_describe(x) for x in getattr(e, "exceptions", [e]))
    return dict(op=name, status=status, examples=state["examples"], detail=detail,
                lenient=sorted(set(state["lenient"]))[:20], n_lenient=len(state["lenient"]))


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--progress", required=True)
    ap.add_argument("--examples", type=int, default=50)
    ap.add_argument("ops", nargs="*")
    a = ap.parse_args(argv)
    import fastnn
    fastnn.set_num_threads(1)
    progress = Progress(a.progress)
    with open(a.out, "a") as out:
        for name in a.ops or list(CASES):
            progress.write(f"{name}: (starting)")
            res = run_op(name, a.examples, progress)
            out.write(json.dumps(res) + "\n")
            out.flush()
    progress.write("")


if __name__ == "__main__":
    main()
