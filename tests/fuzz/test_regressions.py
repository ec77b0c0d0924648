"""Regression tests for the bugs the fuzzers found, one minimal example each
(see docs/fuzzing.md for the list)."""
import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F


def test_tensor_of_numpy_scalar_keeps_its_dtype():
    # fastnn.tensor(np.float64(x)) gave float32 (np.float64 is a Python float)
    assert fastnn.tensor(np.float64(1.5)).dtype == fastnn.float64
    assert fastnn.tensor(np.float32(1.5)).dtype == fastnn.float32
    assert fastnn.tensor(np.int32(3)).dtype == fastnn.int32
    assert fastnn.tensor(1.5).dtype == fastnn.float32
