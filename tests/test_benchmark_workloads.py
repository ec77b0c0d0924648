"""benchmarks/ defines every workload PERF.md names, and some benchmark file
uses each (the benchmarks themselves run with ``pytest benchmarks``)."""
import glob
import importlib.util
import os

import pytest

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks")

PERF_NAMES = [
    "gemm_1024", "gemm_conv_fwd", "gemm_conv_bwd_data", "gemm_conv_bwd_weight", "gemm_linear",
    "conv_cifar64", "conv_first", "conv_batch1", "conv_deep", "maxpool", "batchnorm",
    "linear_mlp", "adam_1m", "sgdm_1m", "mlp_train", "cnn_train", "cnn_train_b8",
    "cnn_infer_b1", "cnn_infer_b64", "depthwise3x3", "convT4x4s2", "layernorm", "gelu",
    "lstm_train", "transformer_train",
]


@pytest.fixture(scope="module")
def workloads():
    path = os.path.join(BENCH, "workloads.py")
    if not os.path.exists(path):
        pytest.skip("needs the source checkout (benchmarks/)")
    spec = importlib.util.spec_from_file_location("fastnn_bench_workloads", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_every_perf_workload_is_named(workloads):
    missing = [n for n in PERF_NAMES if n not in workloads.WORKLOADS]
    assert not missing, missing


def test_workload_shapes_match_perf(workloads):
    assert workloads.CONV["conv_cifar64"] == (64, 64, 32, 32, 64, 3, 3, 1, 1)
    assert workloads.GEMM["gemm_conv_fwd"] == dict(M=65536, N=64, K=576, trans_a=False,
                                                    trans_b=True)
    assert workloads.LINEAR["linear_mlp"] == (128, 784, 256)
    assert workloads.TRAIN["cnn_train_b8"][2] == 8


def test_models_build_and_run(workloads):
    import numpy as np

    import fastnn
    m = workloads.cnn(fastnn.nn).eval()
    with fastnn.no_grad():
        out = m(fastnn.tensor(np.zeros((2, 3, 32, 32), np.float32)))
    assert out.shape == (2, 10)
    assert sum(p.numel() for p in m.parameters()) == sum(
        p.numel() for p in workloads.cnn(fastnn.nn).parameters())
    assert workloads.mlp(fastnn.nn)(fastnn.zeros(3, 784)).shape == (3, 10)


def test_each_workload_family_has_a_benchmark(workloads):
    text = "".join(open(p).read() for p in glob.glob(os.path.join(BENCH, "bench_*.py")))
    for family in ("GEMM", "CONV", "MAXPOOL", "BATCHNORM", "LINEAR", "MODELS"):
        assert f"from workloads import" in text and family in text, family
    for name in ("adam", "sgd", "mlp_train", "cnn_train", "cnn_infer"):
        assert name in text, name
