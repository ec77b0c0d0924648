"""Scale-out through an RDB: two worker processes share one study in a PostgreSQL database.

The fixture starts a throw-away PostgreSQL server (Debian's ``postgresql``
package; installed with apt-get once when missing) on 127.0.0.1 and a free port,
with a temporary data directory owned by the ``postgres`` user, and stops it
afterwards. The test is skipped, with the reason, only when no server can run.
"""
import glob
import importlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile

import pytest

optuna = pytest.importorskip("optuna", reason="fastnn.tune needs optuna (pip install fastnn[tune])")

from fastnn import tune  # noqa: E402


def _pg_bindir():
    for pattern in ("/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/*/bin"):
        for d in sorted(glob.glob(pattern), reverse=True):
            if os.path.exists(os.path.join(d, "initdb")) and os.path.exists(os.path.join(d, "pg_ctl")):
                return d
    return None


def _ensure_postgres():
    d = _pg_bindir()
    if d is None and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-q", "postgresql"], capture_output=True,
                       timeout=600, env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        d = _pg_bindir()
    return d


def _ensure_driver():
    """Optuna's RDB storage needs SQLAlchemy and a PostgreSQL driver (psycopg2)."""
    missing = []
    for mod, pkg in (("sqlalchemy", "sqlalchemy"), ("psycopg2", "psycopg2-binary")):
        try:
            importlib.import_module(mod)
        except ImportError:
            missing.append(pkg)
    if missing:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", *missing],
                       capture_output=True, timeout=600)
        importlib.invalidate_caches()
        for mod in ("sqlalchemy", "psycopg2"):
            try:
                importlib.import_module(mod)
            except ImportError:
                return f"{mod} is not installed and could not be installed (pip install {missing})"
    return None


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    bindir = _ensure_postgres()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (Debian package 'postgresql') are not installed "
                    "and apt-get could not install them")
    reason = _ensure_driver()
    if reason:
        pytest.skip(reason)
    as_root = os.geteuid() == 0
    if as_root:
        try:
            import pwd
            pw = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run the server as")
        prefix = ["runuser", "-u", "postgres", "--"] if shutil.which("runuser") else None
        if prefix is None:
            pytest.skip("running as root and runuser is missing: cannot start PostgreSQL as 'postgres'")
    else:
        prefix = []
    base = tempfile.mkdtemp(prefix="fastnn-pg-", dir="/tmp")
    data = os.path.join(base, "data")
    log = os.path.join(base, "server.log")
    if as_root:
        os.chown(base, pw.pw_uid, pw.pw_gid)
    port = _free_port()

    def run(*cmd, check=True):
        return subprocess.run(prefix + list(cmd), capture_output=True, text=True, timeout=120,
                              check=check, cwd=base)

    started = False
    try:
        run(os.path.join(bindir, "initdb"), "-D", data, "-U", "postgres", "--auth=trust",
            "-E", "UTF8", "--no-sync")
        run(os.path.join(bindir, "pg_ctl"), "-D", data, "-l", log, "-w", "-t", "60",
            "-o", f"-h 127.0.0.1 -p {port} -k {base} -c fsync=off", "start")
        started = True
        run(os.path.join(bindir, "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U",
            "postgres", "fastnn_tune")
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        out = getattr(exc, "stderr", "") or ""
        if started:
            run(os.path.join(bindir, "pg_ctl"), "-D", data, "-m", "immediate", "stop", check=False)
        shutil.rmtree(base, ignore_errors=True)
        pytest.skip(f"could not start a PostgreSQL server: {exc} {out.strip()[-500:]}")
    try:
        yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}/fastnn_tune"
    finally:
        run(os.path.join(bindir, "pg_ctl"), "-D", data, "-m", "fast", "-w", "stop", check=False)
        shutil.rmtree(base, ignore_errors=True)


def test_two_workers_share_a_postgres_study(postgres_url, worker_objective):
    objective, log = worker_objective
    space = {"a": tune.randint(0, 4), "b": tune.choice([0, 1])}
    r = tune.grid_search(objective, space, storage=postgres_url, study_name="pg-grid", n_jobs=2)
    lines = [ln.split() for ln in log.read_text().splitlines()]
    points = [(int(a), int(b)) for _, a, b, _ in lines]
    assert len(points) == 8 == len(set(points))  # every grid point exactly once
    assert len({pid for pid, *_ in lines}) == 2
    assert r.best_params == {"a": 2, "b": 0} and r.best_value == 0
    # The study lives in the database: another "machine" sees it by name.
    study = optuna.load_study(study_name="pg-grid", storage=postgres_url)
    assert len(study.trials) == 8
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)

    assert "pg-grid" in optuna.get_all_study_names(postgres_url)
