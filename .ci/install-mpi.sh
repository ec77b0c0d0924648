#!/usr/bin/env bash
# Installs an MPI implementation and mpi4py for fastnn.distributed's tests.
#
# Idempotent: does nothing when `mpi4py` imports and `mpiexec -n 2` runs a
# two-rank Allreduce.  Fast path: the MPICH and mpi4py binary wheels from PyPI
# (about 10 s, no compiler; mpi4py >= 4 wheels load the `mpich` wheel's
# libmpi).  Fallback: Debian's MPICH packages and mpi4py built from source.
# Exits non-zero when no working MPI could be installed.
set -u

PY=${PYTHON:-python}

check() {
    local tmp
    tmp=$(mktemp -d) || return 1
    cat > "$tmp/check.py" <<'PYEOF'
from mpi4py import MPI
import numpy as np
c = MPI.COMM_WORLD
a = np.full(3, c.rank + 1.0)
b = np.empty_like(a)
c.Allreduce(a, b)
assert c.size == 2 and b[0] == 3.0, (c.size, b)
PYEOF
    local mpiexec
    mpiexec=$("$PY" -c "import shutil,sys,os; p=shutil.which('mpiexec', path=os.path.dirname(sys.executable)+os.pathsep+os.environ.get('PATH','')); print(p or '')" 2>/dev/null)
    [ -n "$mpiexec" ] || { rm -rf "$tmp"; return 1; }
    OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 \
        timeout 60 "$mpiexec" -n 2 "$PY" "$tmp/check.py" >/dev/null 2>&1
    local rc=$?
    rm -rf "$tmp"
    return $rc
}

if "$PY" -c "import mpi4py" 2>/dev/null && check; then
    echo "install-mpi: MPI and mpi4py already work"
    exit 0
fi

echo "install-mpi: trying the mpich + mpi4py wheels from PyPI"
if "$PY" -m pip install -q "mpi4py>=4.0" "mpich>=4.1" && check; then
    echo "install-mpi: ok (PyPI wheels)"
    exit 0
fi

echo "install-mpi: wheels failed; trying Debian's MPICH packages"
export DEBIAN_FRONTEND=noninteractive
"$PY" -m pip uninstall -q -y mpich mpi4py >/dev/null 2>&1
if apt-get update -qq && apt-get install -y -qq mpich libmpich-dev >/dev/null \
        && "$PY" -m pip install -q --no-binary=mpi4py "mpi4py>=3.1" && check; then
    echo "install-mpi: ok (Debian MPICH)"
    exit 0
fi

echo "install-mpi: FAILED to install a working MPI + mpi4py" >&2
exit 1
