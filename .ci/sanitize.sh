#!/usr/bin/env bash
# Sanitizer job: builds fastnn a second time, in a copy of this tree (the
# normal build is untouched), with AddressSanitizer + UndefinedBehaviorSanitizer
# and OpenMP on (FASTNN_SANITIZE=1, see setup.py), then runs the kernel, op,
# autograd, nn, optim, serialization and reliability tests under it with the
# ASan runtime preloaded and 2 threads.  Any finding aborts the test process,
# so it fails this script.  See docs/testing.md.
#
#   bash .ci/sanitize.sh            # from a checkout, in a venv with the test extras
#
# Leak detection is off: CPython keeps interned objects, module state and
# arenas alive until exit by design, so LeakSanitizer would report thousands of
# "leaks" that are not fastnn's.  torch is never imported (FASTNN_TEST_NO_TORCH:
# its own uninstrumented libraries trip ASan), so the PyTorch comparisons skip.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
PY=${PYTHON:-python}
CC=${CC:-gcc}
ASAN_LIB=$("$CC" -print-file-name=libasan.so)
# libstdc++ right after it: C++ extensions that throw (matplotlib's ft2font)
# need ASan's __cxa_throw interceptor, which only finds libstdc++ if it is
# loaded when the runtime starts
CXX_LIB=$("$CC" -print-file-name=libstdc++.so)
if [ ! -e "$ASAN_LIB" ]; then
    echo "sanitize: $CC has no libasan.so (got '$ASAN_LIB')" >&2
    exit 1
fi
WORK=${FASTNN_SANITIZE_DIR:-$(mktemp -d -t fastnn-sanitize-XXXXXX)}
mkdir -p "$WORK/src"
# a copy without the normal build's products
tar -C "$SRC" --exclude=./.git --exclude=./build --exclude='*.so' --exclude='__pycache__' \
    -cf - . | tar -C "$WORK/src" -xf -
cd "$WORK/src"
START=$(date +%s)
echo "sanitize: building with ASan + UBSan + OpenMP in $WORK/src"
FASTNN_SANITIZE=1 "$PY" setup.py build_ext --inplace -j 2 -q >"$WORK/build.log" 2>&1 \
    || { tail -40 "$WORK/build.log"; exit 1; }
grep -q "fastnn: OpenMP enabled; sanitizers: -fsanitize=address,undefined" "$WORK/build.log" \
    || { echo "sanitize: the build did not enable OpenMP with the sanitizers:"; grep "fastnn:" "$WORK/build.log"; exit 1; }
BUILT=$(date +%s)

export LD_PRELOAD="$ASAN_LIB"
[ ! -e "$CXX_LIB" ] || LD_PRELOAD="$ASAN_LIB $CXX_LIB"
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export FASTNN_NUM_THREADS=2 OMP_NUM_THREADS=2
export FASTNN_TEST_NO_TORCH=1
export PYTHONPATH="$WORK/src"
# the instrumented copy is the one imported, and it is instrumented
"$PY" - <<'EOF'
import os, sys
import fastnn
here = os.path.realpath(os.environ["PYTHONPATH"])
assert os.path.realpath(fastnn.__file__).startswith(here), fastnn.__file__
assert fastnn._core.openmp_enabled(), "sanitizer build without OpenMP"
so = open(fastnn._core.__file__, "rb").read()
assert b"__asan_" in so and b"__ubsan_" in so, "the extension is not instrumented"
assert "torch" not in sys.modules
EOF

# (the tests marked slow -- the soak, the SIGKILL loops -- stay out, and those
# marked forks: a DataLoader worker forked while another thread of the test
# process holds ASan's allocator lock deadlocks in its first malloc -- GCC 12's
# libasan takes no such lock around fork -- and its parent waits for it for
# ever: seen once, test_worker_seeding_and_info, in the twenty-second session.
# They are Python IPC around the same collate; the main suite runs them.)
TESTS=(tests/kernels tests/ops tests/autograd tests/nn tests/optim tests/tensor tests/seq
       tests/data tests/utils tests/train
       tests/test_serialization.py tests/test_serialization_modules.py tests/reliability)
LOG="$WORK/pytest.log"
# --capture=sys: pytest captures Python's output only, so a sanitizer report
# (written to file descriptor 2 by the runtime, just before it aborts) reaches
# the log instead of vanishing with pytest's capture file
set +e
"$PY" -m pytest -q -p no:cacheprovider --capture=sys -m "not slow and not forks" "${TESTS[@]}" 2>&1 | tee "$LOG" | tail -15
RC=${PIPESTATUS[0]}
set -e
END=$(date +%s)
FINDINGS=$(grep -cE "SUMMARY: (Address|UndefinedBehavior)Sanitizer" "$LOG" || true)
SUMMARY=$(grep -E "^[0-9]+ (passed|failed)|^=+ .*(passed|failed|error)" "$LOG" | tail -1)
LINE="sanitizers (ASan+UBSan, OpenMP, 2 threads): ${SUMMARY:-no pytest summary}; findings = $FINDINGS (build $((BUILT - START)) s, tests $((END - BUILT)) s)"
echo "$LINE"
[ -z "${FASTNN_CI_SUMMARY:-}" ] || echo "$LINE" >>"$FASTNN_CI_SUMMARY"
if [ "$RC" -ne 0 ] || [ "$FINDINGS" -ne 0 ]; then
    echo "sanitize: FAILED (pytest exit $RC, $FINDINGS sanitizer reports); log: $LOG" >&2
    grep -B2 -A30 -m3 -E "ERROR: AddressSanitizer|runtime error:" "$LOG" >&2 || true
    exit 1
fi

# --- ThreadSanitizer on a serial build: the Python-thread tests ---
# With OpenMP, TSan reports every hand-over across an OpenMP barrier as a
# race (libgomp is not built with TSan, so its barriers are invisible to it;
# docs/testing.md): the OpenMP build is not run under TSan.  A serial build
# (FASTNN_NO_OPENMP=1) still checks what Python threads share in C -- the
# buffer cache, the workspace caches, grad mode -- with kernels running in
# several Python threads at once (they release the GIL).
TSAN_LIB=$("$CC" -print-file-name=libtsan.so)
if [ -e "$TSAN_LIB" ] && [ -z "${FASTNN_SANITIZE_NO_TSAN:-}" ]; then
    mkdir -p "$WORK/tsan"
    tar -C "$WORK/src" --exclude=./build --exclude='*.so' --exclude='__pycache__' -cf - . \
        | tar -C "$WORK/tsan" -xf -
    cd "$WORK/tsan"
    T0=$(date +%s)
    env -u LD_PRELOAD FASTNN_NO_OPENMP=1 FASTNN_SANITIZE=thread "$PY" setup.py build_ext --inplace -j 2 -q \
        >"$WORK/build-tsan.log" 2>&1 || { tail -40 "$WORK/build-tsan.log"; exit 1; }
    grep -q "sanitizers: -fsanitize=thread" "$WORK/build-tsan.log" \
        || { echo "sanitize: the TSan build is not instrumented"; exit 1; }
    T1=$(date +%s)
    TLOG="$WORK/pytest-tsan.log"
    set +e
    LD_PRELOAD="$TSAN_LIB $CXX_LIB" TSAN_OPTIONS=halt_on_error=1:report_signal_unsafe=0 \
        ASAN_OPTIONS= PYTHONPATH="$WORK/tsan" \
        "$PY" -m pytest -q -p no:cacheprovider --capture=sys tests/reliability/test_threads.py \
        2>&1 | tee "$TLOG" | tail -5
    TRC=${PIPESTATUS[0]}
    set -e
    T2=$(date +%s)
    TFIND=$(grep -c "SUMMARY: ThreadSanitizer" "$TLOG" || true)
    TSUM=$(grep -E "^[0-9]+ (passed|failed)|^=+ .*(passed|failed|error)" "$TLOG" | tail -1)
    LINE="ThreadSanitizer (serial build, Python threads): ${TSUM:-no pytest summary}; findings = $TFIND (build $((T1 - T0)) s, tests $((T2 - T1)) s)"
    echo "$LINE"
    [ -z "${FASTNN_CI_SUMMARY:-}" ] || echo "$LINE" >>"$FASTNN_CI_SUMMARY"
    if [ "$TRC" -ne 0 ] || [ "$TFIND" -ne 0 ]; then
        echo "sanitize: ThreadSanitizer FAILED (pytest exit $TRC, $TFIND reports); log: $TLOG" >&2
        grep -A30 -m2 "WARNING: ThreadSanitizer" "$TLOG" >&2 || true
        exit 1
    fi
fi
[ -n "${FASTNN_SANITIZE_DIR:-}" ] || rm -rf "$WORK"
