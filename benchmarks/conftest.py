"""Benchmarks: pytest-benchmark, run with
``pytest benchmarks --benchmark-only``.  Threads are pinned per benchmark."""
import os
import sys
import time

import pytest

import fastnn

# the benchmark files import their workload definitions from workloads.py
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


_last = {"numpy": False}


@pytest.fixture(autouse=True)
def _restore_threads(request):
    # After a threaded NumPy product OpenBLAS's workers spin for about 2^28
    # cycles (70-130 ms) before they sleep, each holding a core: a 2-thread
    # benchmark started in that window waits on its second thread (the
    # 0.3 ms Linear product measured 1.5 ms, at worst 9).  Let them sleep.
    if _last["numpy"]:
        time.sleep(0.15)
    _last["numpy"] = "numpy" in request.node.name
    n = fastnn.get_num_threads()
    yield
    fastnn.set_num_threads(n)
