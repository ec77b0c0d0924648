"""Benchmarks: pytest-benchmark, run with
``pytest benchmarks --benchmark-only``.  Threads are pinned per benchmark."""
import os
import sys

import pytest

import fastnn

# the benchmark files import their workload definitions from workloads.py
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(autouse=True)
def _restore_threads():
    n = fastnn.get_num_threads()
    yield
    fastnn.set_num_threads(n)
