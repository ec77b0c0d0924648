#!/usr/bin/env bash
# Extras for the tests of optional features: tuning (Optuna, PostgreSQL driver),
# scikit-learn, plots, safetensors, ONNX (onnx, onnxruntime), and an MPI with
# mpi4py for the distributed tests (run for real under mpiexec -n 2).  Each step reports its own failure;
# the tests of a missing extra skip with a reason.
set -uo pipefail
cd "$(dirname "$0")/.."
python -m pip install -q "optuna>=3.5" "psycopg2-binary>=2.9" "scikit-learn>=1.2" \
    "matplotlib>=3.5" "safetensors>=0.4" "graphviz>=0.20" "onnx>=1.14" "onnxruntime>=1.16" \
    || echo "note: some optional test extras failed to install"
# Graphviz's dot renders fastnn.viz.graph pictures (the tests of rendering skip without it)
if ! command -v dot >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    (apt-get install -y -q graphviz >/dev/null 2>&1 \
        || (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q graphviz >/dev/null 2>&1)) \
        || echo "note: Graphviz (dot) could not be installed; rendering tests will skip"
fi
bash .ci/install-mpi.sh || echo "note: MPI could not be installed; distributed tests will skip"
