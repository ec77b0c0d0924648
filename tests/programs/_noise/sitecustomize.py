"""Test harness only: when FASTNN_PROGRAM_NOISE is set, ``randn`` and
``randn_like`` of torch and of fastnn (imported as torch) draw the same
numbers (from one seeded NumPy generator), and so do the samples of
``distributions.Categorical`` (each library's own ``sample`` still runs, for
its shape and dtype; the values are then drawn by inverse CDF from the shared
generator), so a program that samples noise or actions computes the same
losses under both libraries.  ``randperm``, ``randint`` (a diffusion model's
timesteps) and the samples of ``distributions.Beta`` (MixUp's partners and
weights) are drawn from the same generator too.  The programs themselves are not changed."""
import builtins
import os

if os.environ.get("FASTNN_PROGRAM_NOISE"):
    import numpy as np

    _rng = np.random.default_rng(int(os.environ["FASTNN_PROGRAM_NOISE"]))
    _orig_import = builtins.__import__
    _done = set()

    def _patch(mod):
        def randn(*size, **kw):
            if len(size) == 1 and isinstance(size[0], (tuple, list)):
                size = tuple(size[0])
            a = _rng.standard_normal(tuple(int(s) for s in size)).astype(np.float32)
            return mod.from_numpy(a)

        def randn_like(t, **kw):
            return randn(*tuple(t.shape))

        mod.randn, mod.randn_like = randn, randn_like

        categorical = mod.distributions.Categorical
        own_sample = categorical.sample

        def sample(self, sample_shape=()):
            out = own_sample(self, sample_shape)
            p = np.asarray(self.probs.detach().numpy(), dtype=np.float64)
            cdf = np.cumsum(p, axis=-1)
            cdf /= cdf[..., -1:]
            u = _rng.random(tuple(out.shape) + (1,))
            idx = np.minimum((cdf <= u).sum(axis=-1), p.shape[-1] - 1)
            return mod.from_numpy(np.array(idx, dtype=np.int64).reshape(tuple(out.shape)))

        categorical.sample = sample

        def randperm(n, **kw):
            return mod.from_numpy(_rng.permutation(int(n)).astype(np.int64))

        mod.randperm = randperm

        def randint(*args, size=None, dtype=None, **kw):
            # randint(high, size) or randint(low, high, size)
            if size is None:
                *bounds, size = args
            else:
                bounds = list(args)
            low, high = (0, bounds[0]) if len(bounds) == 1 else bounds
            a = _rng.integers(int(low), int(high), tuple(int(s) for s in size))
            out = mod.from_numpy(a.astype(np.int64))
            return out if dtype is None else out.to(dtype)

        mod.randint = randint

        beta = mod.distributions.Beta
        own_beta_sample = beta.sample

        def beta_sample(self, sample_shape=()):
            out = own_beta_sample(self, sample_shape)
            a = np.asarray(self.concentration1.detach().numpy(), dtype=np.float64)
            b = np.asarray(self.concentration0.detach().numpy(), dtype=np.float64)
            v = _rng.beta(np.broadcast_to(a, tuple(out.shape)), np.broadcast_to(b, tuple(out.shape)))
            return mod.from_numpy(np.array(v, dtype=np.float32).reshape(tuple(out.shape)))

        beta.sample = beta_sample

    _depth = [0]

    def _import(name, *args, **kwargs):
        _depth[0] += 1
        try:
            m = _orig_import(name, *args, **kwargs)
        finally:
            _depth[0] -= 1
        root = name.split(".")[0]
        # patch once the program's own import statement has finished (depth
        # 0), never while the library is still importing itself
        if _depth[0] == 0 and root in ("torch", "fastnn") and root not in _done:
            import sys
            top = sys.modules.get(root)
            if top is not None and hasattr(top, "from_numpy") and hasattr(top, "randn"):
                _done.add(root)
                _patch(top)
        return m

    builtins.__import__ = _import
