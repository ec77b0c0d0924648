"""Grid, random and Bayesian hyperparameter search on Optuna.

Design
------
All three searches share one loop (:func:`_run_trials`) over an Optuna study,
and differ only in the sampler: ``GridSampler``-like enumeration, Optuna's
``RandomSampler`` and ``TPESampler``. The loop is ask/tell rather than
``study.optimize`` so that a non-finite objective value is recorded as a
*failed* trial (Optuna would accept +-inf) and so that grid points are taken
from the study's queue of waiting trials.

Grid search enqueues every grid point once as a WAITING trial when the study
is created; each worker then claims a waiting trial by moving it to RUNNING
through the storage (``set_trial_state_values`` returns False when another
worker claimed it first: an atomic compare-and-set in the RDB and journal
storages). A grid point therefore runs exactly once however many processes or
machines share the study — unlike Optuna's ``GridSampler``, which may repeat
points when workers run concurrently.

Scale-out: ``storage`` is an RDB URL (``postgresql://...``, ``sqlite:///...``)
or a file path (an Optuna journal file), so workers on many machines join one
study by name. ``n_jobs > 1`` starts worker *processes* (multiprocessing,
``spawn``), each with ``fastnn.set_num_threads(max(1, cores // n_jobs))`` so
the machine is not oversubscribed; without a storage they share a temporary
journal file, copied into memory at the end. Worker processes need an
objective that can be imported by name (a module-level function).
"""
import inspect
import math
import multiprocessing
import os
import shutil
import tempfile
import time
import uuid

from ._optuna import journal_file_storage, require_optuna
from .space import normalize_space

__all__ = ["grid_search", "random_search", "bayes_search", "SearchResult", "ResultTable"]

_GRID_SIZE_ATTR = "fastnn_grid_size"


# ----------------------------------------------------------------------------- results

class ResultTable(list):
    """Rows (dicts) sorted best first: ``number``, ``params``, ``value``, ``state``,
    ``epochs``, ``seconds``. ``str(table)`` is a plain-text table."""

    def __str__(self):
        if not self:
            return "(no trials)"
        names = []
        for row in self:
            names += [k for k in row["params"] if k not in names]
        head = ["trial"] + names + ["value", "state", "epochs", "seconds"]
        body = []
        for row in self:
            cells = [str(row["number"])]
            cells += [_fmt(row["params"].get(k, "")) for k in names]
            cells += [_fmt(row["value"]), row["state"],
                      "" if row["epochs"] is None else str(row["epochs"]),
                      "" if row["seconds"] is None else f"{row['seconds']:.2f}"]
            body.append(cells)
        widths = [max(len(h), *(len(r[i]) for r in body)) for i, h in enumerate(head)]
        line = lambda cells: "  ".join(c.rjust(w) for c, w in zip(cells, widths))  # noqa: E731
        rule = "  ".join("-" * w for w in widths)
        return "\n".join([line(head), rule] + [line(r) for r in body])


def _fmt(v):
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


class SearchResult:
    """What a search returns.

    Attributes
    ----------
    table : ResultTable
        One row per trial, completed trials first and sorted by value (best
        first), then pruned trials (by their last reported value), then failed ones.
    best_params : dict or None
        Parameters of the best completed trial (None when no trial completed).
    best_value : float or None
    best_trial : optuna.trial.FrozenTrial or None
    study : optuna.Study
        The underlying study, for everything else Optuna offers.
    """

    def __init__(self, study, space):
        optuna = require_optuna()
        self.study = study
        self.direction = study.direction.name.lower()
        self._space = space
        state = optuna.trial.TrialState
        trials = study.get_trials(deepcopy=False)
        maximize = self.direction == "maximize"

        def key(t):
            rank = {state.COMPLETE: 0, state.PRUNED: 1}.get(t.state, 2)
            v = t.value if rank < 2 and t.value is not None else math.inf
            if maximize and rank < 2 and t.value is not None:
                v = -v
            return (rank, v, t.number)

        self.table = ResultTable(self._row(t) for t in sorted(trials, key=key))
        done = [t for t in trials if t.state == state.COMPLETE]
        best = None
        if done:
            best = (max if maximize else min)(done, key=lambda t: (t.value, -t.number))
        self.best_trial = best
        self.best_value = None if best is None else best.value
        self.best_params = None if best is None else self._decode(best.params)

    def _decode(self, params):
        out = {}
        for k, v in params.items():
            dist = self._space.get(k)
            out[k] = dist.decode(v) if dist is not None else v
        return out

    def _row(self, t):
        epochs = t.user_attrs.get("epochs")
        if epochs is None and t.intermediate_values:
            epochs = len(t.intermediate_values)
        seconds = t.duration.total_seconds() if t.duration is not None else None
        return {"number": t.number, "params": self._decode(t.params), "value": t.value,
                "state": t.state.name.lower(), "epochs": epochs, "seconds": seconds}

    def __str__(self):
        head = f"{len(self.table)} trials ({self.direction})"
        if self.best_params is not None:
            head += f"; best value {self.best_value:.6g} with {self.best_params}"
        return head + "\n" + str(self.table)

    def __repr__(self):
        return (f"SearchResult(n_trials={len(self.table)}, best_value={self.best_value!r}, "
                f"best_params={self.best_params!r})")


# ----------------------------------------------------------------------------- storage

def _is_url(storage):
    return isinstance(storage, str) and "://" in storage


def _make_storage(storage):
    """None -> None (in memory); URL -> RDBStorage; path -> journal file storage."""
    optuna = require_optuna()
    if storage is None or isinstance(storage, optuna.storages.BaseStorage):
        return storage
    if _is_url(storage):
        return optuna.storages.RDBStorage(storage)
    if isinstance(storage, (str, os.PathLike)):
        return journal_file_storage(os.fspath(storage))
    raise ValueError(f"storage must be None, an RDB URL or a journal file path, got {storage!r}")


def _make_sampler(kind, seed, n_trials, sampler_kwargs):
    optuna = require_optuna()
    if kind == "bayes":
        kw = {"n_startup_trials": max(1, min(10, (n_trials or 20) // 2))}
        kw.update(sampler_kwargs)
        return optuna.samplers.TPESampler(seed=seed, **kw)
    # Grid points come from the queue of waiting trials; the sampler is never asked.
    return optuna.samplers.RandomSampler(seed=seed, **sampler_kwargs)


def _make_pruner(pruner):
    optuna = require_optuna()
    if pruner is None or pruner == "median":
        # Optuna's MedianPruner, but judging no trial on its first two epochs:
        # early learning curves cross too often for a fair comparison.
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=2)
    if pruner is False or pruner == "none":
        return optuna.pruners.NopPruner()
    if isinstance(pruner, optuna.pruners.BasePruner):
        return pruner
    raise ValueError(f"pruner must be None, 'median', 'none'/False or an optuna pruner, got {pruner!r}")


# ----------------------------------------------------------------------------- trial loop

def _call_objective(objective, params, trial):
    try:
        n = len([p for p in inspect.signature(objective).parameters.values()
                 if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)])
    except (TypeError, ValueError):
        n = 2
    return objective(params, trial) if n >= 2 else objective(params)


def _claim_waiting_trial(study):
    """Moves one WAITING trial to RUNNING and returns its id, or None when none is left.

    This is what ``Study.ask`` does first, minus its fallback of creating a
    fresh trial: it must go through the study's own storage object (Optuna
    wraps an RDB storage in a cache that must see the trial)."""
    optuna = require_optuna()
    state = optuna.trial.TrialState
    storage = study._storage
    study_id = storage.get_study_id_from_name(study.study_name)
    for t in storage.get_all_trials(study_id, deepcopy=False, states=(state.WAITING,)):
        try:
            if storage.set_trial_state_values(t._trial_id, state=state.RUNNING):
                return t._trial_id
        except optuna.exceptions.UpdateFinishedTrialError:
            continue
    return None


def _run_one(study, trial, objective, space, catch):
    optuna = require_optuna()
    state = optuna.trial.TrialState
    try:
        params = {name: dist.suggest(trial, name) for name, dist in space.items()}
        value = _call_objective(objective, params, trial)
    except optuna.TrialPruned:
        study.tell(trial, state=state.PRUNED)
        return
    except catch as exc:
        trial.set_user_attr("fail_reason", f"{type(exc).__name__}: {exc}")
        study.tell(trial, state=state.FAIL)
        return
    except BaseException:
        study.tell(trial, state=state.FAIL)
        raise
    try:
        value = float(value)
    except (TypeError, ValueError):
        value = None
    if value is None or not math.isfinite(value):
        trial.set_user_attr("fail_reason", "objective returned a non-finite or non-numeric value")
        study.tell(trial, state=state.FAIL)
        return
    study.tell(trial, value)


def _run_trials(study, objective, space, kind, n_trials, timeout, catch):
    """One worker's loop: grid -> until the queue is empty; else n_trials trials."""
    optuna = require_optuna()
    start = time.monotonic()
    done = 0
    while True:
        if timeout is not None and time.monotonic() - start >= timeout:
            break
        if kind == "grid":
            trial_id = _claim_waiting_trial(study)
            if trial_id is None:
                break
            trial = optuna.trial.Trial(study, trial_id)
        else:
            if done >= n_trials:
                break
            trial = study.ask()
        _run_one(study, trial, objective, space, catch)
        done += 1


def _worker_main(cfg):
    """Entry point of a worker process (spawn): join the study by name and run trials."""
    import fastnn
    optuna = require_optuna()
    fastnn.set_num_threads(cfg["n_threads"])
    if not cfg["verbose"]:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = _make_storage(cfg["storage"])
    sampler = _make_sampler(cfg["kind"], cfg["seed"], cfg["n_trials_total"], cfg["sampler_kwargs"])
    study = optuna.load_study(study_name=cfg["study_name"], storage=storage, sampler=sampler,
                              pruner=_make_pruner(cfg["pruner"]))
    _run_trials(study, cfg["objective"], cfg["space"], cfg["kind"], cfg["n_trials"],
                cfg["timeout"], cfg["catch"])


def _cores():
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _enqueue_grid(study, storage, space, fn):
    """Creates the grid's waiting trials once per study (the study's creator does it)."""
    import itertools
    names = list(space)
    grids = [space[n].grid_values() for n in names]
    points = list(itertools.product(*grids))
    attrs = study.user_attrs
    if _GRID_SIZE_ATTR in attrs:
        if attrs[_GRID_SIZE_ATTR] != len(points):
            raise ValueError(f"{fn}: study {study.study_name!r} holds a grid of "
                             f"{attrs[_GRID_SIZE_ATTR]} points, this space has {len(points)}")
        return
    for p in points:
        study.enqueue_trial({n: space[n].encode(v) for n, v in zip(names, p)})
    study.set_user_attr(_GRID_SIZE_ATTR, len(points))


def _create_or_join(optuna, storage, study_name, direction, sampler, pruner, kind, space, fn):
    """Creates the study, or joins it when it exists (another machine made it)."""
    try:
        study = optuna.create_study(storage=storage, sampler=sampler, pruner=pruner,
                                    study_name=study_name, direction=direction)
        created = True
    except optuna.exceptions.DuplicatedStudyError:
        study = optuna.load_study(study_name=study_name, storage=storage, sampler=sampler,
                                  pruner=pruner)
        created = False
        if study.direction.name.lower() != direction:
            raise ValueError(f"{fn}: study {study_name!r} exists with direction "
                             f"{study.direction.name.lower()!r}, not {direction!r}")
    if kind == "grid":
        if created:
            _enqueue_grid(study, storage, space, fn)
        else:  # wait (briefly) for the creator to finish enqueueing the grid
            deadline = time.monotonic() + 60.0
            while _GRID_SIZE_ATTR not in study.user_attrs and time.monotonic() < deadline:
                time.sleep(0.2)
            _enqueue_grid(study, storage, space, fn)
    return study


def _validate_search(kind, objective, space, direction, n_trials, seed, n_jobs, timeout,
                     catch, fn):
    """Checks a search's arguments; returns (space, n_jobs, catch) normalised."""
    if not callable(objective):
        raise TypeError(f"{fn}: objective must be callable, got {type(objective).__name__}")
    space = normalize_space(space, fn)
    if direction not in ("minimize", "maximize"):
        raise ValueError(f"{fn}: direction must be 'minimize' or 'maximize', got {direction!r}")
    if kind != "grid":
        if isinstance(n_trials, bool) or not isinstance(n_trials, int) or n_trials < 1:
            raise ValueError(f"{fn}: n_trials must be a positive int, got {n_trials!r}")
    else:
        for name, dist in space.items():
            dist.grid_values()  # raises ValueError for continuous ranges
    if n_jobs == -1:
        n_jobs = _cores()
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs < 1:
        raise ValueError(f"{fn}: n_jobs must be a positive int or -1, got {n_jobs!r}")
    if timeout is not None and not timeout > 0:
        raise ValueError(f"{fn}: timeout must be positive seconds or None, got {timeout!r}")
    catch = tuple(catch) if isinstance(catch, (list, tuple)) else (catch,)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise ValueError(f"{fn}: seed must be None or an int, got {seed!r}")
    return space, n_jobs, catch


def _search(kind, objective, space, direction, n_trials, seed, storage, study_name, n_jobs,
            pruner, timeout, catch, verbose, sampler_kwargs, fn):
    space, n_jobs, catch = _validate_search(kind, objective, space, direction, n_trials, seed,
                                            n_jobs, timeout, catch, fn)
    if n_jobs > 1:
        _check_importable(objective, fn)

    optuna = require_optuna()
    if not isinstance(sampler_kwargs, dict):
        raise ValueError(f"{fn}: sampler_kwargs must be a dict, got {sampler_kwargs!r}")
    old_verbosity = optuna.logging.get_verbosity()
    if not verbose:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
    tmpdir = None
    try:
        if n_jobs > 1 and storage is None:
            tmpdir = tempfile.mkdtemp(prefix="fastnn-tune-")
            storage = os.path.join(tmpdir, "journal.log")
        if n_jobs > 1 and not (_is_url(storage) or isinstance(storage, (str, os.PathLike))):
            raise ValueError(f"{fn}: n_jobs > 1 needs storage as an RDB URL or a journal file path, "
                             f"got {storage!r}")
        if study_name is None:
            study_name = f"fastnn-{kind}-{uuid.uuid4().hex[:12]}"
        storage_obj = _make_storage(storage)
        if storage_obj is None:
            storage_obj = optuna.storages.InMemoryStorage()
        pruner_obj = _make_pruner(pruner)
        sampler = _make_sampler(kind, seed, n_trials, sampler_kwargs)
        study = _create_or_join(optuna, storage_obj, study_name, direction, sampler, pruner_obj,
                                kind, space, fn)
        if n_jobs == 1:
            _run_trials(study, objective, space, kind, n_trials, timeout, catch)
        else:
            _run_workers(kind, objective, space, n_trials, seed, storage, study_name, n_jobs,
                         pruner, timeout, catch, verbose, sampler_kwargs, fn)
        if tmpdir is not None:  # bring the study home, then drop the temporary journal
            mem = optuna.storages.InMemoryStorage()
            optuna.copy_study(from_study_name=study_name, from_storage=storage_obj, to_storage=mem)
            study = optuna.load_study(study_name=study_name, storage=mem)
        else:
            study = optuna.load_study(study_name=study_name, storage=storage_obj)
        return SearchResult(study, space)
    finally:
        optuna.logging.set_verbosity(old_verbosity)
        if tmpdir is not None:
            shutil.rmtree(tmpdir, ignore_errors=True)


def _check_importable(objective, fn):
    qual = getattr(objective, "__qualname__", None)
    if qual is None or "<locals>" in qual or "<lambda>" in qual:
        raise ValueError(f"{fn}: n_jobs > 1 runs the objective in worker processes, which import "
                         f"it by name: define it at module level (got {objective!r})")


def _run_workers(kind, objective, space, n_trials, seed, storage, study_name, n_jobs, pruner,
                 timeout, catch, verbose, sampler_kwargs, fn):
    ctx = multiprocessing.get_context("spawn")
    n_threads = max(1, _cores() // n_jobs)
    procs = []
    for i in range(n_jobs):
        share = None
        if kind != "grid":
            share = n_trials // n_jobs + (1 if i < n_trials % n_jobs else 0)
            if share == 0:
                continue
        cfg = {"kind": kind, "objective": objective, "space": space, "n_trials": share,
               "n_trials_total": n_trials,
               # each worker gets its own stream: the same seed would repeat samples
               "seed": None if seed is None else seed + i,
               "storage": os.fspath(storage), "study_name": study_name, "pruner": pruner,
               "timeout": timeout, "catch": catch, "verbose": verbose,
               "sampler_kwargs": sampler_kwargs, "n_threads": n_threads}
        p = ctx.Process(target=_worker_main, args=(cfg,), name=f"fastnn-tune-{i}")
        p.start()
        procs.append(p)
    failed = []
    for p in procs:
        p.join()
        if p.exitcode != 0:
            failed.append((p.name, p.exitcode))
    if failed:
        raise RuntimeError(f"{fn}: worker process(es) failed: {failed} (see their traceback above)")


# ----------------------------------------------------------------------------- public API

_COMMON_DOC = """
    objective : callable
        ``objective(params, trial) -> float`` (or ``objective(params)``): trains
        with the hyperparameters ``params`` (a dict) and returns the validation
        metric. ``trial`` is the Optuna trial, for :class:`PruningCallback` or
        ``trial.report``. A non-finite or non-numeric value is recorded as a
        failed trial and the search goes on; raising ``optuna.TrialPruned``
        records the trial as pruned.
    space : dict
        Name -> distribution (:func:`choice`, :func:`uniform`, :func:`loguniform`,
        :func:`quniform`, :func:`randint`, ...; a list means ``choice``).
    direction : {'minimize', 'maximize'}
    storage : None, str or path
        None keeps the study in memory; an RDB URL (``postgresql://user@host/db``,
        ``sqlite:///file.db``) or a file path (an Optuna journal file, fine on a
        shared filesystem) lets processes on many machines join one study: start
        the same search with the same ``study_name`` on each.
    study_name : str, optional
        Name of the study in ``storage`` (a fresh one is generated when None).
    n_jobs : int
        Worker processes on this machine (-1: one per core); each uses
        ``cores // n_jobs`` fastnn threads. The objective must then be importable
        by name (a module-level function). Without ``storage`` the workers share a
        temporary journal file.
    pruner : None, 'median', 'none' or an optuna pruner
        Stops hopeless trials from their reported per-epoch values. Default:
        ``MedianPruner(n_startup_trials=5, n_warmup_steps=2)`` (a trial is
        stopped, from its third epoch on, when its value is worse than the
        median of earlier trials at the same epoch).
    timeout : float, optional
        Seconds after which a worker starts no new trial.
    catch : exception type or tuple
        Exceptions from the objective recorded as failed trials (others stop the search).
    verbose : bool
        Keep Optuna's per-trial log lines (off by default).

    Returns
    -------
    SearchResult
        ``.table`` (sorted best first), ``.best_params``, ``.best_value``, ``.study``.
"""


def _with_common_doc(fn):
    fn.__doc__ = fn.__doc__.replace("    {common}\n", _COMMON_DOC.lstrip("\n"))
    return fn


@_with_common_doc
def grid_search(objective, space, direction="minimize", storage=None, study_name=None, n_jobs=1,
                pruner=None, timeout=None, catch=(), verbose=False):
    """Tries every combination of the space's values exactly once.

    Every dimension must be discrete: :func:`choice`, :func:`quniform`,
    :func:`randint`, :func:`qrandint`. Each grid point runs once, even with many
    worker processes or machines sharing the study.

    Parameters
    ----------
    {common}
    Examples
    --------
    >>> from fastnn import tune
    >>> r = tune.grid_search(lambda p: (p["x"] - 2) ** 2, {"x": tune.choice([0, 1, 2, 3])})
    >>> r.best_params, len(r.table)
    ({'x': 2}, 4)
    """
    return _search("grid", objective, space, direction, None, None, storage, study_name, n_jobs,
                   pruner, timeout, catch, verbose, {}, "grid_search")


@_with_common_doc
def random_search(objective, space, n_trials, seed=None, direction="minimize", storage=None,
                  study_name=None, n_jobs=1, pruner=None, timeout=None, catch=(), verbose=False):
    """Samples ``n_trials`` independent configurations (Optuna's RandomSampler).

    With a ``seed`` and ``n_jobs=1`` the sequence of configurations is
    reproducible; with ``n_jobs > 1`` worker ``i`` uses ``seed + i``.

    Parameters
    ----------
    {common}
    Examples
    --------
    >>> from fastnn import tune
    >>> r = tune.random_search(lambda p: (p["x"] - 2) ** 2, {"x": tune.uniform(-5, 5)},
    ...                        n_trials=20, seed=0)
    >>> len(r.table), r.best_value < 1
    (20, True)
    """
    return _search("random", objective, space, direction, n_trials, seed, storage, study_name,
                   n_jobs, pruner, timeout, catch, verbose, {}, "random_search")


@_with_common_doc
def bayes_search(objective, space, n_trials, seed=None, direction="minimize", storage=None,
                 study_name=None, n_jobs=1, pruner=None, timeout=None, catch=(), verbose=False,
                 n_startup_trials=None):
    """Bayesian optimisation with Optuna's TPE sampler (Tree-structured Parzen Estimator).

    The first ``n_startup_trials`` (default ``min(10, n_trials // 2)``) are
    random; later ones are drawn where good configurations have been found.
    Reproducible with a ``seed`` and ``n_jobs=1``.

    Parameters
    ----------
    {common}
    Examples
    --------
    >>> from fastnn import tune
    >>> r = tune.bayes_search(lambda p: (p["x"] - 2) ** 2, {"x": tune.uniform(-5, 5)},
    ...                       n_trials=20, seed=0)
    >>> r.best_value < 0.5
    True
    """
    kw = {}
    if n_startup_trials is not None:
        if isinstance(n_startup_trials, bool) or not isinstance(n_startup_trials, int) \
                or n_startup_trials < 0:
            raise ValueError(f"bayes_search: n_startup_trials must be an int >= 0, "
                             f"got {n_startup_trials!r}")
        kw["n_startup_trials"] = n_startup_trials
    return _search("bayes", objective, space, direction, n_trials, seed, storage, study_name,
                   n_jobs, pruner, timeout, catch, verbose, kw, "bayes_search")
