"""Every OpenMP region of the kernels is driven in parallel by the tests.

A thread-invariance test that compares 1 with 2 threads on an input below
the serial cut-off compares two serial runs and proves nothing.  Each
region's site (``FNN_NOTE_PARALLEL`` before its pragma, or a ``FNN_SLICES``
/ ``FNN_MULTI_DRIVER`` invocation) counts the calls that asked for a team
of more than one thread (``fastnn._core.parallel_regions()``).  This test
runs the thread tests (``-k "thread or parallel"``) in a child process and
fails for any site of csrc/ they never drove in parallel.
"""
import json
import os
import re
import subprocess
import sys

import pytest

import fastnn
from fastnn import _core

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CSRC = os.path.join(ROOT, "csrc")
_SITE = re.compile(r"^\s*(FNN_NOTE_PARALLEL\(|FNN_SLICES\(|FNN_MULTI_DRIVER\()")
# sites whose kernels belong to branches being merged (listed so the test
# stays honest about them; remove an entry once its tests drive the site)
PENDING = set()


def source_sites():
    """{"file:line"} of every parallel region in csrc/ (macro definitions
    excluded: their uses are the sites)."""
    sites = set()
    for name in sorted(os.listdir(CSRC)):
        if not name.endswith((".c", ".inc", ".h")):
            continue
        with open(os.path.join(CSRC, name)) as f:
            for i, line in enumerate(f, 1):
                # (a line of a macro body ends with a backslash: its uses are the sites)
                if _SITE.match(line) and not line.rstrip().endswith("\\"):
                    sites.add(f"{name}:{i}")
    return sites


def _basename_keys(counts):
    return {os.path.basename(k.rsplit(":", 1)[0]) + ":" + k.rsplit(":", 1)[1]: v
            for k, v in counts.items()}


@pytest.mark.skipif(not _core.openmp_enabled(), reason="serial build: no parallel regions")
def test_a_parallel_call_is_counted_and_a_serial_one_is_not():
    x = fastnn.randn(300_000)
    fastnn.set_num_threads(1)
    _core.parallel_regions_reset()
    x.relu()
    assert not any(_core.parallel_regions().values())
    fastnn.set_num_threads(2)
    x.relu()
    hit = {k: v for k, v in _basename_keys(_core.parallel_regions()).items() if v}
    assert len(hit) == 1 and list(hit)[0].startswith("elementwise.inc:")
    _core.parallel_regions_reset()
    fastnn.randn(1000).relu()                # below the cut-off: serial
    assert not any(_core.parallel_regions().values())


def test_sites_are_found_in_the_sources():
    sites = source_sites()
    assert len(sites) > 30
    assert any(s.startswith("elementwise.inc:") for s in sites)


@pytest.mark.skipif(not _core.openmp_enabled(), reason="serial build: no parallel regions")
def test_thread_tests_drive_every_parallel_region(tmp_path):
    report = tmp_path / "regions.json"
    # the child imports the fastnn under test (installed or built in place):
    # its directory first on the path, and the child runs outside the checkout
    parent = os.path.dirname(os.path.dirname(os.path.abspath(fastnn.__file__)))
    env = dict(os.environ, FASTNN_PARALLEL_REPORT=str(report))
    env["PYTHONPATH"] = parent + os.pathsep + env.get("PYTHONPATH", "")
    tests = os.path.join(ROOT, "tests")
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                        "--rootdir", ROOT, "-k", "thread or parallel",
                        "--ignore", os.path.abspath(__file__), tests],
                       cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    hits = _basename_keys(json.loads(report.read_text()))
    missing = sorted(s for s in source_sites() - PENDING if not hits.get(s))
    assert not missing, ("parallel regions no thread test drives with 2 threads above the "
                         f"serial cut-off: {missing}")
