"""Which of several equal elements PyTorch's CPU ``sort`` (``stable=False``),
``topk`` and ``kthvalue`` put where.

Their order among ties is not a stable sort's: PyTorch sorts (value, index)
pairs with the C++ library's ``std::sort`` (introsort: median-of-three
quicksort down to runs of 16, heapsort past a depth of 2 log2 n, a final
insertion sort), picks ``topk`` with ``std::partial_sort`` (k * 64 <= n) or
``std::nth_element`` followed by ``std::sort`` of the first k - 1, and
``kthvalue`` with its own median-of-three quickselect.  Those algorithms are
deterministic, so the order is reproduced here by running the same steps
(as the GNU C++ library, which PyTorch's Linux wheels are built with,
specifies them) on integer ranks of the values: NaN ranks above every
number, as PyTorch's comparators put it.

This is plain Python, so ``sorting.py`` calls it only for the rows where
the result depends on it (ties, or ``topk(sorted=False)``), and only up to
``BUDGET`` elements a call; beyond that a stable order is returned.
"""
import numpy as np

BUDGET = 1 << 16          # elements per call reordered in Python


def ranks(row, descending):
    """Integer keys whose '<' is PyTorch's comparator for ``row`` (1-D)."""
    nan = np.isnan(row) if row.dtype.kind == "f" else None
    vals = np.where(nan, np.inf, row) if nan is not None and nan.any() else row
    _, r = np.unique(vals, return_inverse=True)
    r = r.astype(np.int64).reshape(-1)
    if nan is not None and nan.any():
        r[nan] = r.max() + 1                   # NaN above +inf, NaNs equal
    return (-r if descending else r).tolist()


def _lg(n):
    return n.bit_length() - 1


# -------------------------------------------------- GNU libstdc++'s steps
def _move_median_to_first(a, result, x, y, z):
    if a[x][0] < a[y][0]:
        if a[y][0] < a[z][0]:
            m = y
        elif a[x][0] < a[z][0]:
            m = z
        else:
            m = x
    elif a[x][0] < a[z][0]:
        m = x
    elif a[y][0] < a[z][0]:
        m = z
    else:
        m = y
    a[result], a[m] = a[m], a[result]


def _unguarded_partition(a, first, last, pivot):
    p = a[pivot][0]
    while True:
        while a[first][0] < p:
            first += 1
        last -= 1
        while p < a[last][0]:
            last -= 1
        if not first < last:
            return first
        a[first], a[last] = a[last], a[first]
        first += 1


def _partition_pivot(a, first, last):
    _move_median_to_first(a, first, first + 1, first + (last - first) // 2, last - 1)
    return _unguarded_partition(a, first + 1, last, first)


def _linear_insert(a, last):
    val = a[last]
    nxt = last - 1
    while nxt >= 0 and val[0] < a[nxt][0]:       # (the bound only matters for NaN keys)
        a[last] = a[nxt]
        last = nxt
        nxt -= 1
    a[last] = val


def _insertion_sort(a, first, last):
    for i in range(first + 1, last):
        if a[i][0] < a[first][0]:
            val = a[i]
            a[first + 1:i + 1] = a[first:i]
            a[first] = val
        else:
            _linear_insert(a, i)


def _push_heap(a, first, hole, top, value):
    parent = (hole - 1) // 2
    while hole > top and a[first + parent][0] < value[0]:
        a[first + hole] = a[first + parent]
        hole = parent
        parent = (hole - 1) // 2
    a[first + hole] = value


def _adjust_heap(a, first, hole, n, value):
    top = second = hole
    while second < (n - 1) // 2:
        second = 2 * (second + 1)
        if a[first + second][0] < a[first + second - 1][0]:
            second -= 1
        a[first + hole] = a[first + second]
        hole = second
    if n % 2 == 0 and second == (n - 2) // 2:
        second = 2 * (second + 1)
        a[first + hole] = a[first + second - 1]
        hole = second - 1
    _push_heap(a, first, hole, top, value)


def _make_heap(a, first, last):
    n = last - first
    if n < 2:
        return
    parent = (n - 2) // 2
    while True:
        _adjust_heap(a, first, parent, n, a[first + parent])
        if parent == 0:
            return
        parent -= 1


def _pop_heap(a, first, last, result):
    value = a[result]
    a[result] = a[first]
    _adjust_heap(a, first, 0, last - first, value)


def _heap_select(a, first, middle, last):
    _make_heap(a, first, middle)
    for i in range(middle, last):
        if a[i][0] < a[first][0]:
            _pop_heap(a, first, middle, i)


def partial_sort(a, first, middle, last):
    """std::partial_sort: the smallest middle - first, sorted, in front."""
    _heap_select(a, first, middle, last)
    while middle - first > 1:
        middle -= 1
        _pop_heap(a, first, middle, middle)


def _introsort_loop(a, first, last, depth):
    while last - first > 16:
        if depth == 0:
            partial_sort(a, first, last, last)
            return
        depth -= 1
        cut = _partition_pivot(a, first, last)
        _introsort_loop(a, cut, last, depth)
        last = cut


def std_sort(a, first, last):
    """std::sort of a[first:last] (pairs compared by their first item)."""
    if last - first < 2:
        return
    _introsort_loop(a, first, last, 2 * _lg(last - first))
    if last - first > 16:
        _insertion_sort(a, first, first + 16)
        for i in range(first + 16, last):
            _linear_insert(a, i)
    else:
        _insertion_sort(a, first, last)


def nth_element(a, first, nth, last):
    """std::nth_element."""
    if first == last or nth == last:
        return
    depth = 2 * _lg(last - first)
    while last - first > 3:
        if depth == 0:
            _heap_select(a, first, nth + 1, last)
            a[first], a[nth] = a[nth], a[first]
            return
        depth -= 1
        cut = _partition_pivot(a, first, last)
        if cut <= nth:
            first = cut
        else:
            last = cut
    _insertion_sort(a, first, last)


# ------------------------------------------------------ PyTorch's kernels
def sort_order(row, descending):
    """The indices PyTorch's ``sort(stable=False)`` gives for one row."""
    a = list(zip(ranks(row, descending), range(len(row))))
    std_sort(a, 0, len(a))
    return [i for _, i in a]


def topk_order(row, k, largest, sorted_):
    """The indices PyTorch's ``topk`` gives for one row."""
    a = list(zip(ranks(row, largest), range(len(row))))
    if k * 64 <= len(a):
        partial_sort(a, 0, k, len(a))
    else:
        nth_element(a, 0, k - 1, len(a))
        if sorted_:
            std_sort(a, 0, k - 1)
    return [i for _, i in a[:k]]


def mode_pick(row):
    """(value, index) PyTorch's ``mode`` gives for one row: (value, index)
    pairs through std::sort by value with C's '<' (so NaN is unordered),
    then the first longest run of equal values (NaN equals nothing) and the
    index of the run's last element in that order."""
    a = list(zip(row.tolist(), range(len(row))))
    std_sort(a, 0, len(a))
    best_len, best, run = 0, 0, 0
    for i in range(len(a)):
        run += 1
        if i == len(a) - 1 or a[i][0] != a[i + 1][0]:
            if run > best_len:
                best_len, best = run, i
            run = 0
    return a[best]


def kth_index(row, k):
    """The index PyTorch's ``kthvalue`` gives (k is 1-based): ATen's
    median-of-three quickselect on the values with NaN largest."""
    a = list(zip(ranks(row, False), range(len(row))))
    k -= 1
    lo, hi = 0, len(a) - 1
    while True:
        if hi <= lo:
            break
        if hi == lo + 1:
            if a[lo][0] > a[hi][0]:
                a[lo], a[hi] = a[hi], a[lo]
            break
        p = lo + (hi - lo) // 2
        a[p], a[lo + 1] = a[lo + 1], a[p]
        if a[lo + 1][0] > a[hi][0]:
            a[lo + 1], a[hi] = a[hi], a[lo + 1]
        if a[lo][0] > a[hi][0]:
            a[lo], a[hi] = a[hi], a[lo]
        if a[lo + 1][0] > a[lo][0]:
            a[lo + 1], a[lo] = a[lo], a[lo + 1]
        i, j = lo + 1, hi
        piv = a[lo][0]
        while True:
            i += 1
            while piv > a[i][0]:
                i += 1
            j -= 1
            while a[j][0] > piv:
                j -= 1
            if j < i:
                break
            a[i], a[j] = a[j], a[i]
        a[lo], a[j] = a[j], a[lo]
        if j <= k:
            lo = i
        if j >= k:
            hi = j - 1
    return a[k][1]
