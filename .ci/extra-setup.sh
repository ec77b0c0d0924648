#!/usr/bin/env bash
# Optional extras for the tests of optional features (tuning, scikit-learn,
# plots, safetensors, MPI).  A failure here only makes those tests skip.
set -uo pipefail
python -m pip install -q "optuna>=3.5" "scikit-learn>=1.2" "matplotlib>=3.5" "safetensors>=0.4" || true
