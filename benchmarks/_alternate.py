"""Side-by-side timing for the ``python benchmarks/bench_<op>.py`` ratio
tables: the implementations run in alternation, round after round, so a
change in the machine's load hits all of them alike; each gets the median
of its per-round medians."""
import time

import numpy as np


def alternate(fns, rounds=7, reps=5):
    """{name: median seconds} of the callables in ``fns`` (name -> fn)."""
    for f in fns.values():
        f()
    per = {k: [] for k in fns}
    for _ in range(rounds):
        for k, f in fns.items():
            ts = []
            for _ in range(reps):
                t = time.perf_counter()
                f()
                ts.append(time.perf_counter() - t)
            per[k].append(float(np.median(ts)))
    return {k: float(np.median(v)) for k, v in per.items()}


def report(title, times, base="fastnn"):
    """Prints each time and its ratio to ``base``'s (lower is faster)."""
    ref = times[base]
    print(f"{title}: " + ", ".join(f"{k} {v * 1e3:.2f} ms ({v / ref:.2f}x {base})"
                                   for k, v in times.items()))
