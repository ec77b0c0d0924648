"""Inference of exported models: fastnn against ONNX Runtime running the
graph fastnn exported (``fastnn.onnx.export``), same threads (2: fastnn's
``set_num_threads``, ORT's ``intra_op_num_threads``), eval mode, no grad.
Models: the digits CNN (``fastnn.cli.build_digits_cnn``, 8x8 inputs) and
PERF.md's ``cnn`` (3x32x32); batch 1 and 64.  The two outputs are compared
outside the timed region.

``python benchmarks/bench_onnx.py [threads]`` prints the ratio table
(medians of alternating runs, ``_alternate.py``); under pytest-benchmark
each case is one entry of group ``onnx_<model>_b<batch>``.
"""
import io
import os
import sys

import numpy as np
import pytest

import fastnn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from workloads import MODELS  # noqa: E402

THREADS = int(os.environ.get("FASTNN_BENCH_THREADS", "2"))   # PERF.md: 2 threads
CASES = {"digits_cnn": (1, 8, 8), "cnn": (3, 32, 32)}


def _model(name):
    fastnn.manual_seed(0)
    if name == "digits_cnn":
        from fastnn.cli import build_digits_cnn
        return build_digits_cnn().eval()
    return MODELS["cnn"](fastnn.nn).eval()


def setup(name, batch, threads=THREADS):
    """(fastnn runner, onnxruntime runner) on the same input, each with
    ``threads`` threads; checks that they agree."""
    ort = pytest.importorskip("onnxruntime") if "pytest" in sys.modules else \
        __import__("onnxruntime")
    fastnn.set_num_threads(threads)
    model = _model(name)
    x = np.random.default_rng(0).standard_normal((batch,) + CASES[name]).astype(np.float32)
    f = io.BytesIO()
    fastnn.onnx.export(model, fastnn.tensor(x), f, dynamic_axes={"input": {0: "batch"}})
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    # ORT's pool threads spin for a while after each run; timed in
    # alternation with fastnn they would steal its cores (and fastnn's
    # OpenMP threads ORT's), so spinning is off for a like-for-like timing
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    sess = ort.InferenceSession(f.getvalue(), so, providers=["CPUExecutionProvider"])
    xt = fastnn.tensor(x)

    def run_fastnn():
        with fastnn.no_grad():
            return model(xt)

    feed = {"input": x}

    def run_ort():
        return sess.run(None, feed)[0]

    np.testing.assert_allclose(run_ort(), run_fastnn().numpy(), rtol=1e-4, atol=1e-4)
    return run_fastnn, run_ort


@pytest.mark.parametrize("batch", [1, 64])
@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("lib", ["fastnn", "onnxruntime"])
def test_onnx_inference(benchmark, lib, name, batch):
    pytest.importorskip("onnx")
    benchmark.group = f"onnx_{name}_b{batch}"
    run_f, run_o = setup(name, batch)
    benchmark(run_f if lib == "fastnn" else run_o)


def main(threads=THREADS):
    from _alternate import alternate
    print(f"fastnn {fastnn.__version__} vs onnxruntime, {threads} thread(s), medians of "
          "alternating runs (ratio = fastnn time / onnxruntime time; <= 1: fastnn as fast)")
    for name in sorted(CASES):
        for batch in (1, 64):
            run_f, run_o = setup(name, batch, threads)
            reps = 200 if batch == 1 else 20
            t = alternate({"fastnn": run_f, "onnxruntime": run_o}, rounds=9, reps=reps)
            print(f"{name:11s} batch {batch:2d}: fastnn {t['fastnn'] * 1e6:9.1f} us, "
                  f"onnxruntime {t['onnxruntime'] * 1e6:9.1f} us, "
                  f"ratio {t['fastnn'] / t['onnxruntime']:.2f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else THREADS)
