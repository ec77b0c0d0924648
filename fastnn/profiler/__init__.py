"""``torch.profiler``: time the ops a block runs and the regions it labels.

``profile`` records, while it is active, every op call (each
``autograd.Function.apply``, forward only: its wall time including
argument checks) and every ``record_function`` region, and summarises them
with ``key_averages().table(...)`` as PyTorch's profiler does for the CPU.
``schedule``, ``tensorboard_trace_handler`` and ``export_chrome_trace``
(the Chrome trace-event JSON format) are supported; CUDA activities,
memory and stack recording are accepted and record nothing.
"""
import enum
import json
import os
import threading
import time

__all__ = ["profile", "record_function", "ProfilerActivity", "ProfilerAction", "schedule",
           "tensorboard_trace_handler", "supported_activities"]


class ProfilerActivity(enum.Enum):
    CPU = 0
    CUDA = 1
    XPU = 2
    MTIA = 3


class ProfilerAction(enum.Enum):
    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def supported_activities():
    return {ProfilerActivity.CPU}


def schedule(*, wait, warmup, active, repeat=0, skip_first=0, skip_first_wait=0):
    """The action of each step: skip_first, then cycles of wait / warmup /
    active steps (``repeat`` cycles, 0: forever)."""
    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise ValueError("Invalid profiler schedule arguments")

    def action(step):
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        cycle = wait + warmup + active
        if repeat > 0 and step // cycle >= repeat:
            return ProfilerAction.NONE
        pos = step % cycle
        if pos < wait:
            return ProfilerAction.NONE
        if pos < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD_AND_SAVE if pos == cycle - 1 else ProfilerAction.RECORD
    return action


def tensorboard_trace_handler(dir_name, worker_name=None, use_gzip=False):
    """An on_trace_ready handler writing each trace as Chrome trace JSON into dir_name."""
    def handler(prof):
        os.makedirs(dir_name, exist_ok=True)
        name = worker_name or f"{os.uname().nodename}_{os.getpid()}"
        path = os.path.join(dir_name, f"{name}.{int(time.time() * 1000)}.pt.trace.json")
        prof.export_chrome_trace(path)
    return handler


_ACTIVE = []          # the recording profilers
_LOCK = threading.Lock()


class _Event:
    __slots__ = ("name", "start", "end", "shapes")

    def __init__(self, name, start, end, shapes=None):
        self.name, self.start, self.end, self.shapes = name, start, end, shapes


class _Avg:
    def __init__(self, key):
        self.key = key
        self.count = 0
        self.cpu_time_total = 0.0      # microseconds, as PyTorch
        self.self_cpu_time_total = 0.0

    @property
    def cpu_time(self):
        return self.cpu_time_total / self.count if self.count else 0.0


class _Averages(list):
    def table(self, sort_by=None, row_limit=100, max_name_column_width=55, **kwargs):
        rows = list(self)
        key = {"cpu_time_total": "cpu_time_total", "self_cpu_time_total": "self_cpu_time_total",
               "count": "count", "cpu_time": "cpu_time"}.get(sort_by)
        if key:
            rows.sort(key=lambda a: getattr(a, key), reverse=True)
        rows = rows[:row_limit] if row_limit and row_limit > 0 else rows
        total = sum(a.self_cpu_time_total for a in self) or 1.0
        w = max([len("Name")] + [min(len(a.key), max_name_column_width) for a in rows])
        head = (f"{'Name':<{w}}  {'Self CPU %':>10}  {'Self CPU':>12}  {'CPU total':>12}  "
                f"{'CPU time avg':>12}  {'# of Calls':>10}")
        line = "-" * len(head)
        out = [line, head, line]
        for a in rows:
            out.append(f"{a.key[:w]:<{w}}  {100 * a.self_cpu_time_total / total:>9.2f}%  "
                       f"{_us(a.self_cpu_time_total):>12}  {_us(a.cpu_time_total):>12}  "
                       f"{_us(a.cpu_time):>12}  {a.count:>10}")
        out += [line, f"Self CPU time total: {_us(total)}"]
        return "\n".join(out)

    def __str__(self):
        return self.table()


def _us(v):
    return f"{v / 1000:.3f}ms" if v >= 1000 else f"{v:.3f}us"


class profile:
    """Records op calls and labelled regions while active (see the module doc)."""

    def __init__(self, *, activities=None, schedule=None, on_trace_ready=None,
                 record_shapes=False, profile_memory=False, with_stack=False,
                 with_flops=False, with_modules=False, experimental_config=None,
                 execution_trace_observer=None, acc_events=False, use_cuda=None):
        self.activities = set(activities) if activities else {ProfilerActivity.CPU}
        self.schedule = schedule
        self.on_trace_ready = on_trace_ready
        self.record_shapes = record_shapes
        self.events = []
        self.step_num = 0
        self._recording = False
        self._t0 = None

    # -- recording ---------------------------------------------------------
    def _action(self):
        return self.schedule(self.step_num) if self.schedule else ProfilerAction.RECORD

    def _set_recording(self, on):
        with _LOCK:
            if on and self not in _ACTIVE:
                _ACTIVE.append(self)
            elif not on and self in _ACTIVE:
                _ACTIVE.remove(self)
            _patch(bool(_ACTIVE))
        self._recording = on

    def start(self):
        self._t0 = time.perf_counter()
        self._set_recording(self._action() in (ProfilerAction.RECORD,
                                               ProfilerAction.RECORD_AND_SAVE))
        return self

    def stop(self):
        self._set_recording(False)
        if self.on_trace_ready is not None and (self.schedule is None or self.events):
            self.on_trace_ready(self)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    def step(self):
        """Ends one step of the schedule: saves the trace after an active cycle."""
        before = self._action()
        self.step_num += 1
        after = self._action()
        if before == ProfilerAction.RECORD_AND_SAVE and self.on_trace_ready is not None:
            self._set_recording(False)
            self.on_trace_ready(self)
            self.events = []
        self._set_recording(after in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE))

    def _add(self, ev):
        if self._recording:
            self.events.append(ev)

    # -- results -----------------------------------------------------------
    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0):
        avgs = {}
        evs = sorted(self.events, key=lambda e: (e.start, -e.end))
        for i, e in enumerate(evs):
            key = e.name if not (group_by_input_shape and e.shapes) else f"{e.name} {e.shapes}"
            a = avgs.get(key)
            if a is None:
                a = avgs[key] = _Avg(key)
            dur = (e.end - e.start) * 1e6
            child = sum((c.end - c.start) * 1e6 for c in _children(evs, i))
            a.count += 1
            a.cpu_time_total += dur
            a.self_cpu_time_total += max(dur - child, 0.0)
        return _Averages(avgs.values())

    def events_(self):
        return list(self.events)

    def export_chrome_trace(self, path):
        t0 = self._t0 or 0.0
        trace = {"traceEvents": [{"name": e.name, "ph": "X", "cat": "cpu_op", "pid": os.getpid(),
                                  "tid": 0, "ts": (e.start - t0) * 1e6,
                                  "dur": (e.end - e.start) * 1e6} for e in self.events]}
        tmp = f"{path}.tmp{os.getpid()}"
        with open(tmp, "w") as f:
            json.dump(trace, f)
        os.replace(tmp, path)


def _children(evs, i):
    """The events directly nested in evs[i] (evs sorted by start)."""
    e = evs[i]
    out, end = [], e.start
    for c in evs[i + 1:]:
        if c.start >= e.end:
            break
        if c.start >= end and c.end <= e.end:
            out.append(c)
            end = c.end
    return out


class record_function:
    """Labels a region (context manager or decorator) in active profiles."""

    def __init__(self, name, args=None):
        self.name = name
        self.start = None

    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        end = time.perf_counter()
        for p in tuple(_ACTIVE):
            p._add(_Event(self.name, self.start, end))
        return False

    def __call__(self, fn):
        def wrapped(*a, **k):
            with record_function(self.name):
                return fn(*a, **k)
        return wrapped


_ORIG = []


def _patch(on):
    """Times every op call while a profile records (Function.apply wrapped)."""
    from .._core import FunctionBase
    from ..autograd.function import Function
    if on and not _ORIG:
        _ORIG.append(Function.__dict__.get("apply"))
        base = FunctionBase.__dict__["apply"]

        def apply(cls, *args, **kwargs):
            t = time.perf_counter()
            try:
                return base.__get__(None, cls)(*args, **kwargs)
            finally:
                end = time.perf_counter()
                name = "fastnn::" + (cls.__name__[:-2] if cls.__name__.endswith("Fn")
                                     else cls.__name__).lower()
                for p in tuple(_ACTIVE):
                    p._add(_Event(name, t, end))
        Function.apply = classmethod(apply)
    elif not on and _ORIG:
        orig = _ORIG.pop()
        if orig is None:
            del Function.apply
        else:
            Function.apply = orig
