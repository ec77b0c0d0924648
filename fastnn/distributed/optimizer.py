"""Starting every rank identical (parameter and optimiser-state broadcast)
and keeping them identical (``DistributedOptimizer``: bucketed gradient
averaging with non-blocking allreduce)."""
import contextlib
import time
import weakref
import zlib

import numpy as np

from . import _comm

__all__ = ["broadcast_parameters", "broadcast_optimizer_state", "DistributedOptimizer"]


def _as_named_arrays(obj):
    """(name, ndarray) pairs behind a Module, a state dict, or an iterable of
    Tensors / (name, Tensor) pairs."""
    if hasattr(obj, "named_parameters") and hasattr(obj, "named_buffers"):
        items = list(obj.named_parameters()) + list(obj.named_buffers())
    elif isinstance(obj, dict):
        items = list(obj.items())
    else:
        items = []
        for i, it in enumerate(obj):
            items.append(it if isinstance(it, tuple) and len(it) == 2 else (str(i), it))
    out = []
    for name, v in items:
        a = v if isinstance(v, np.ndarray) else getattr(v, "_array", None)
        if not isinstance(a, np.ndarray):
            raise TypeError(f"broadcast_parameters: {name!r} is a {type(v).__name__}, "
                            f"not a Tensor or ndarray")
        out.append((str(name), a))
    return out


def broadcast_parameters(model_or_state, root=0):
    """Copies the parameters and buffers of rank ``root`` into every other
    rank's, in place (into each ``p._array``), so all replicas start equal.

    Arrays of one dtype travel packed in one message.

    Parameters
    ----------
    model_or_state : Module, dict of name -> Tensor/ndarray, or iterable of Tensors
        A Module contributes its parameters and buffers (``running_mean`` ...).
    root : int

    Examples
    --------
    >>> import fastnn, fastnn.distributed as dist
    >>> model = fastnn.nn.Linear(3, 2)
    >>> dist.broadcast_parameters(model)
    """
    w = _comm._ensure()
    _comm._check_root(root, "broadcast_parameters")
    if w.size == 1:
        return
    named = _as_named_arrays(model_or_state)
    # Same names and shapes everywhere, or the packed layout would differ.
    sig = ";".join(f"{n}:{a.dtype.str}:{a.shape}" for n, a in named)
    bad = _comm.allreduce(float(_comm.broadcast_object(sig, root) != sig), op="max")
    if bad:
        raise ValueError(f"broadcast_parameters: the ranks' models differ from rank {root}'s "
                         f"(names, shapes or dtypes; rank {w.rank} has {len(named)} arrays)")
    by_dtype = {}
    for _, a in named:
        by_dtype.setdefault(a.dtype.str, []).append(a)
    for dt in sorted(by_dtype):
        arrs = by_dtype[dt]
        flat = np.empty(sum(a.size for a in arrs), np.dtype(dt))
        if w.rank == root:
            np.concatenate([a.ravel() for a in arrs], out=flat) if arrs else None
        w.comm.Bcast(flat, root=root)
        if w.rank != root:
            off = 0
            for a in arrs:
                a[...] = flat[off:off + a.size].reshape(a.shape)
                off += a.size


def broadcast_optimizer_state(optimizer, root=0):
    """Makes every rank's optimiser state (momentum buffers, Adam moments,
    step counts, learning rates) equal to rank ``root``'s, through the
    optimiser's ``state_dict()`` / ``load_state_dict()``.

    Use after loading a checkpoint on rank 0 only; a fresh optimiser has
    nothing to send but the hyper-parameters.

    Examples
    --------
    >>> import fastnn, fastnn.distributed as dist
    >>> class Opt:                      # anything with state_dict/load_state_dict
    ...     def state_dict(self): return {"state": {}, "param_groups": [{"lr": 0.1, "params": [0]}]}
    ...     def load_state_dict(self, sd): pass
    >>> dist.broadcast_optimizer_state(Opt())
    """
    if isinstance(optimizer, DistributedOptimizer):
        optimizer = optimizer.optimizer
    if not (hasattr(optimizer, "state_dict") and hasattr(optimizer, "load_state_dict")):
        raise TypeError("broadcast_optimizer_state: the optimizer needs state_dict() and "
                        f"load_state_dict(); {type(optimizer).__name__} has not")
    w = _comm._ensure()
    _comm._check_root(root, "broadcast_optimizer_state")
    if w.size == 1:
        return
    sd = optimizer.state_dict() if w.rank == root else None
    sd = _comm.broadcast_object(sd, root)
    if w.rank != root:
        optimizer.load_state_dict(sd)


class _Bucket:
    __slots__ = ("params", "offsets", "buf", "pending", "request", "launched", "index")

    def __init__(self, index, params, dtype):
        self.index = index
        self.params = params
        self.offsets = np.cumsum([0] + [p._array.size for p in params]).tolist()
        # Layout: the gradients back to back, then one "has a gradient" flag per
        # parameter (so a parameter with no gradient on every rank keeps None).
        self.buf = np.empty(self.offsets[-1] + len(params), dtype)
        self.pending = len(params)
        self.request = None
        self.launched = False


class DistributedOptimizer:
    """Wraps an optimiser so that ``step()`` first averages the gradients of
    all ranks (Horovod's ``DistributedOptimizer``), then steps.

    The gradients are packed into buckets of about ``bucket_size_mb`` (flat
    buffers, one message each; parameters taken last layer first, the order
    in which the backward produces them) and reduced with non-blocking
    ``Iallreduce``.  From the second step on, a bucket is started from the
    backward pass itself, as soon as all its gradients have been
    accumulated (as many times as in the first step, which is how
    gradient accumulation over several backward passes and shared weights
    are recognised), so communication overlaps the rest of the backward and the
    buckets overlap each other.  Buckets always start in the same order on
    every rank, as MPI collectives require.

    Everything else (``param_groups``, ``state``, ``zero_grad``,
    ``state_dict``, learning-rate schedulers) goes to the wrapped optimiser.

    Parameters
    ----------
    optimizer : optimiser
        Anything with ``step()``, ``zero_grad()`` and ``param_groups``.
    named_parameters : iterable of (name, Parameter), optional
        The parameters to reduce (default: every parameter in
        ``optimizer.param_groups``).
    bucket_size_mb : float
        Target bucket size in MiB (0: one bucket per parameter).
    op : {'mean', 'sum'}
        Average (default, the gradient of the global mean loss) or sum.
    overlap : bool
        Start buckets during the backward pass.

    Notes
    -----
    To change the gradients after they are averaged (e.g. gradient
    clipping), call :meth:`synchronize`, change them, then step inside
    ``with opt.skip_synchronize(): opt.step()``.  Every rank must call
    ``step()`` the same number of times (see ``DistributedSampler``).

    Examples
    --------
    >>> import fastnn, fastnn.distributed as dist
    >>> model = fastnn.nn.Linear(3, 1)
    >>> class SGD:
    ...     def __init__(self, params, lr): self.param_groups = [{"params": list(params), "lr": lr}]
    ...     def zero_grad(self):
    ...         for p in self.param_groups[0]["params"]: p.grad = None
    ...     def step(self):
    ...         for p in self.param_groups[0]["params"]: p.data -= self.param_groups[0]["lr"] * p.grad
    >>> opt = dist.DistributedOptimizer(SGD(model.parameters(), lr=0.1))
    >>> opt.zero_grad(); model(fastnn.ones(4, 3)).sum().backward(); opt.step()
    """

    def __init__(self, optimizer, named_parameters=None, bucket_size_mb=1.0, op="mean",
                 overlap=True):
        if not hasattr(optimizer, "step") or not hasattr(optimizer, "zero_grad"):
            raise TypeError("DistributedOptimizer: optimizer must have step() and zero_grad(), "
                            f"got {type(optimizer).__name__}")
        if op not in ("mean", "sum"):
            raise ValueError(f"DistributedOptimizer: op must be 'mean' or 'sum', got {op!r}")
        if not bucket_size_mb >= 0:
            raise ValueError(f"DistributedOptimizer: bucket_size_mb must be >= 0, "
                             f"got {bucket_size_mb}")
        self.optimizer = optimizer
        self.op = op
        self.overlap = bool(overlap)
        self.bucket_size_mb = float(bucket_size_mb)
        if named_parameters is not None:
            params = [p for _, p in named_parameters]
        else:
            params = [p for g in optimizer.param_groups for p in g["params"]]
        seen, uniq = set(), []
        for p in params:
            if id(p) not in seen and getattr(p, "requires_grad", True):
                seen.add(id(p))
                uniq.append(p)
        self._params = uniq
        self._world = _comm._ensure()
        self._skip_sync = False
        self._synced = False
        self._layout_checked = False
        self._expected = None           # id(p) -> accumulations per step (after step 1)
        self._arrivals = {}
        self._overflow = None
        self._next_launch = 0
        #: Counters: steps reduced, buckets started during the backward,
        #: buckets sent in all, and seconds spent in synchronize() (the part
        #: of the communication that did not overlap the backward).
        self.stats = {"steps": 0, "early_buckets": 0, "buckets": 0, "sync_seconds": 0.0}
        self._buckets = self._make_buckets(uniq) if self._world.size > 1 else []
        self._bucket_of = {id(p): b for b in self._buckets for p in b.params}
        self._hooked = []
        if self._world.size > 1 and self.overlap:
            ref = weakref.ref(self)

            def hook(p, _ref=ref):
                o = _ref()
                if o is not None:
                    o._on_grad(p)
            self._hook = hook
            for p in uniq:
                hooks = getattr(p, "_post_accumulate_grad_hooks", None)
                if hooks is None:
                    hooks = p._post_accumulate_grad_hooks = []
                hooks.append(hook)
                self._hooked.append(p)

    # ------------------------------------------------------------ delegation
    @property
    def param_groups(self):
        return self.optimizer.param_groups

    @property
    def state(self):
        return self.optimizer.state

    @property
    def defaults(self):
        return self.optimizer.defaults

    def state_dict(self):
        return self.optimizer.state_dict()

    def load_state_dict(self, state_dict):
        return self.optimizer.load_state_dict(state_dict)

    def __getattr__(self, name):
        if name == "optimizer":
            raise AttributeError(name)
        return getattr(self.optimizer, name)

    def __repr__(self):
        return (f"DistributedOptimizer({self.optimizer!r}, buckets={len(self._buckets)}, "
                f"world={self._world.size})")

    def remove_hooks(self):
        """Detaches the backward hooks from the parameters."""
        for p in self._hooked:
            hooks = getattr(p, "_post_accumulate_grad_hooks", None)
            if hooks and self._hook in hooks:
                hooks.remove(self._hook)
        self._hooked = []

    def __del__(self):
        try:
            self.remove_hooks()
        except Exception:
            pass

    # ------------------------------------------------------------- buckets
    def _make_buckets(self, params):
        limit = self.bucket_size_mb * (1 << 20)
        buckets, cur, cur_bytes, cur_dt = [], [], 0, None
        for p in reversed(params):              # last layer's gradients come first
            dt = p._array.dtype
            if cur and (dt != cur_dt or cur_bytes + p._array.nbytes > limit):
                buckets.append(_Bucket(len(buckets), cur, cur_dt))
                cur, cur_bytes = [], 0
            cur.append(p)
            cur_dt = dt
            cur_bytes += p._array.nbytes
        if cur:
            buckets.append(_Bucket(len(buckets), cur, cur_dt))
        return buckets

    def _launch(self, b):
        buf, offs = b.buf, b.offsets
        base = offs[-1]
        for i, p in enumerate(b.params):
            g = None if p._grad is None else p._grad._array
            seg = buf[offs[i]:offs[i + 1]]
            if g is None:
                seg.fill(0)
                buf[base + i] = 0
            else:
                seg[...] = np.asarray(getattr(g, "data", g)).reshape(-1)
                buf[base + i] = 1
        b.request = self._world.comm.Iallreduce(self._world.MPI.IN_PLACE, buf,
                                                op=self._world.MPI.SUM)
        b.launched = True

    def _launch_ready(self):
        bs = self._buckets
        while self._next_launch < len(bs) and bs[self._next_launch].pending == 0:
            self._launch(bs[self._next_launch])
            self._next_launch += 1
            self.stats["early_buckets"] += 1

    def _on_grad(self, p):
        if self._skip_sync:
            return
        k = id(p)
        n = self._arrivals.get(k, 0) + 1
        self._arrivals[k] = n
        if self._expected is None:
            return                              # first step: only count
        b = self._bucket_of.get(k)
        if b is None:
            return
        exp = self._expected.get(k, 0)
        if n == exp:
            b.pending -= 1
            self._launch_ready()
            # Poke MPI so that started buckets progress while the backward runs.
            reqs = [x.request for x in self._buckets[:self._next_launch]]
            if reqs:
                self._world.MPI.Request.Testall(reqs)
        elif n > exp and b.launched and self._overflow is None:
            self._overflow = p

    def _reset_step(self):
        self._arrivals = {}
        self._overflow = None
        self._next_launch = 0
        exp = self._expected
        for b in self._buckets:
            b.request = None
            b.launched = False
            b.pending = (len(b.params) if exp is None
                         else sum(1 for p in b.params if exp.get(id(p), 0) > 0))

    def synchronize(self):
        """Finishes averaging the gradients across ranks (``p.grad`` then holds
        the mean over ranks on every rank).  ``step()`` calls it."""
        if self._world.size == 1 or self._synced:
            self._synced = True
            return
        if self._overflow is not None:
            name = self._overflow.shape
            self._reset_step()
            raise RuntimeError(
                f"DistributedOptimizer: a gradient (parameter of shape {name}) was accumulated "
                "after its bucket had been sent (more backward passes, or more uses of "
                "the parameter, than in the first step); pass overlap=False for graphs "
                "that change from step to step")
        MPI = self._world.MPI
        t0 = time.perf_counter()
        if not self._layout_checked:
            self._check_layout()
        for b in self._buckets[self._next_launch:]:
            self._launch(b)
        self._next_launch = len(self._buckets)
        MPI.Request.Waitall([b.request for b in self._buckets])
        scale = 1.0 / self._world.size if self.op == "mean" else 1.0
        for b in self._buckets:
            buf, offs = b.buf, b.offsets
            base = offs[-1]
            for i, p in enumerate(b.params):
                if buf[base + i] == 0:
                    continue                     # no rank had a gradient: keep None
                g = buf[offs[i]:offs[i + 1]].reshape(p._array.shape)
                pg = None if p._grad is None else p._grad._array
                if pg is not None and pg.shape == g.shape and pg.flags.writeable:
                    np.multiply(g, scale, out=pg, casting="unsafe")
                else:
                    p.grad = (g * scale).astype(p._array.dtype, copy=False)
        if self._expected is None and self.overlap:
            self._learn_expected()
        self._synced = True
        st = self.stats
        st["steps"] += 1
        st["buckets"] += len(self._buckets)
        st["sync_seconds"] += time.perf_counter() - t0

    def _check_layout(self):
        # First step only: every rank must reduce the same parameter shapes
        # (else the bucket messages would not match); decided on every rank.
        sig = ";".join(f"{p._array.dtype.str}{p._array.shape}" for b in self._buckets
                       for p in b.params)
        v = float(zlib.crc32(sig.encode()))
        probe = np.array([v, -v, len(self._buckets), -len(self._buckets)], np.float64)
        self._world.comm.Allreduce(self._world.MPI.IN_PLACE, probe, op=self._world.MPI.MAX)
        if probe[0] != -probe[1] or probe[2] != -probe[3]:
            raise RuntimeError("DistributedOptimizer: the ranks' parameters differ in number, "
                               f"shape or dtype (rank {self._world.rank}: "
                               f"{len(self._params)} parameters)")
        self._layout_checked = True

    def _learn_expected(self):
        # First step only, on every rank (a collective): how many accumulations
        # each parameter gets per step, agreed as the maximum over ranks.
        ps = [p for b in self._buckets for p in b.params]
        counts = np.array([self._arrivals.get(id(p), 0) for p in ps], np.int64)
        self._world.comm.Allreduce(self._world.MPI.IN_PLACE, counts, op=self._world.MPI.MAX)
        self._expected = {id(p): int(c) for p, c in zip(ps, counts)}

    @contextlib.contextmanager
    def skip_synchronize(self):
        """Inside this block ``step()`` does not reduce the gradients (use after
        an explicit :meth:`synchronize`)."""
        prev = self._skip_sync
        self._skip_sync = True
        try:
            yield
        finally:
            self._skip_sync = prev

    def step(self, closure=None):
        """Averages the gradients across ranks, then steps the wrapped optimiser.

        A ``closure`` is called once, before the reduction (closures that
        re-evaluate the loss several times, as L-BFGS's, are not supported)."""
        loss = None
        if closure is not None:
            from ..autograd import enable_grad
            with enable_grad():
                loss = closure()
        if not self._skip_sync:
            self.synchronize()
        try:
            self.optimizer.step()
        finally:
            self._synced = False
            self._reset_step()
        return loss

    def zero_grad(self, *args, **kwargs):
        """Zeroes the gradients (through the wrapped optimiser) and starts a new step."""
        self._synced = False
        self._reset_step()
        return self.optimizer.zero_grad(*args, **kwargs)
