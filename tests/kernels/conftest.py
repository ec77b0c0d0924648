"""Fixtures shared by the GEMM kernel tests."""
import pytest

import fastnn._core as core
from fastnn.testing.gemm import kernel_paths


@pytest.fixture(params=kernel_paths())
def isa(request):
    """Each kernel path this CPU runs in turn, 'auto' restored after."""
    got = core.gemm_set_isa(request.param)
    assert got == request.param
    try:
        yield got
    finally:
        core.gemm_set_isa("auto")


@pytest.fixture
def packed_only():
    """The direct (unpacked) GEMM path switched off for the test."""
    old = core.gemm_set_direct(False)
    try:
        yield
    finally:
        core.gemm_set_direct(old)
