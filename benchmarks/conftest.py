"""Benchmarks: pytest-benchmark, run with
``pytest benchmarks --benchmark-only``.  Threads are pinned per benchmark."""
import pytest

import fastnn


@pytest.fixture(autouse=True)
def _restore_threads():
    n = fastnn.get_num_threads()
    yield
    fastnn.set_num_threads(n)
