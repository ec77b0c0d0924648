"""The fuzz harness can fail: a crash in the child is reported with its
case and the other ops still run; a wrong number is a finding."""
import pytest

import _fuzzrun

pytest.importorskip("hypothesis", reason="hypothesis is not installed")


def test_a_crash_is_reported_and_the_remaining_ops_still_run():
    pytest.importorskip("torch")
    res = _fuzzrun.run_ops(["relu", "__crash__", "__wrong__", "sigmoid"], 20,
                           env={"FASTNN_FUZZ_SELFTEST": "1"})
    assert res["relu"]["status"] == "ok" and res["sigmoid"]["status"] == "ok"
    crash = res["__crash__"]
    assert crash["status"] == "fail" and "crashed" in crash["detail"]
    assert "__crash__: args=(" in crash["detail"]   # the case that crashed is named
    wrong = res["__wrong__"]
    assert wrong["status"] == "fail" and "values differ" in wrong["detail"]
