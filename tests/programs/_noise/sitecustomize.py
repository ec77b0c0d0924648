"""Test harness only: when FASTNN_PROGRAM_NOISE is set, ``randn`` and
``randn_like`` of torch and of fastnn (imported as torch) draw the same
numbers (from one seeded NumPy generator), and so do the samples of
``distributions.Categorical`` (each library's own ``sample`` still runs, for
its shape and dtype; the values are then drawn by inverse CDF from the shared
generator), ``distributions.Normal.sample`` and ``rsample`` (loc + scale * a
shared normal draw), ``distributions.Beta.sample`` (MixUp's partners and
weights), ``randint`` (a diffusion model's timesteps), ``randperm`` and
``multinomial`` (inverse CDF with replacement, the exponential race
without), so a program that
samples noise, actions, negatives or minibatch orders computes the same
losses under both libraries.  A library's own sampling code called from these
(its ``sample`` drawing through its ``multinomial``, say) keeps its own
generator, so the shared sequence is the same for both.  The programs
themselves are not changed."""
import builtins
import os

if os.environ.get("FASTNN_PROGRAM_NOISE"):
    import numpy as np

    _rng = np.random.default_rng(int(os.environ["FASTNN_PROGRAM_NOISE"]))
    _orig_import = builtins.__import__
    _done = set()

    def _patch(mod):
        own = {"randn": mod.randn, "randperm": mod.randperm, "multinomial": mod.multinomial}
        inside = [0]     # a library's own sample runs on its own generator

        def own_call(fn, *args):
            inside[0] += 1
            try:
                return fn(*args)
            finally:
                inside[0] -= 1

        def randn(*size, **kw):
            if inside[0]:
                return own["randn"](*size, **kw)
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
            out = own_call(own_sample, self, sample_shape)
            p = np.asarray(self.probs.detach().numpy(), dtype=np.float64)
            cdf = np.cumsum(p, axis=-1)
            cdf /= cdf[..., -1:]
            u = _rng.random(tuple(out.shape) + (1,))
            idx = np.minimum((cdf <= u).sum(axis=-1), p.shape[-1] - 1)
            return mod.from_numpy(np.array(idx, dtype=np.int64).reshape(tuple(out.shape)))

        categorical.sample = sample

        normal = mod.distributions.Normal
        own_normal_sample = normal.sample

        def normal_sample(self, sample_shape=()):
            out = own_call(own_normal_sample, self, sample_shape)
            eps = randn(*tuple(out.shape))
            with mod.no_grad():
                return (self.loc.detach() + self.scale.detach() * eps).to(out.dtype)

        normal.sample = normal_sample
        own_normal_rsample = normal.rsample

        def normal_rsample(self, sample_shape=()):
            out = own_call(own_normal_rsample, self, sample_shape)
            return self.loc + self.scale * randn(*tuple(out.shape)).to(out.dtype)

        normal.rsample = normal_rsample

        def randperm(n, *args, **kw):
            if inside[0]:
                return own["randperm"](n, *args, **kw)
            dtype = kw.get("dtype") or mod.int64
            return mod.from_numpy(_rng.permutation(int(n))).to(dtype)

        def multinomial(input, num_samples, replacement=False, **kw):
            if inside[0]:
                return own["multinomial"](input, num_samples, replacement, **kw)
            p = np.asarray(input.detach().double().numpy(), dtype=np.float64)
            p2 = p.reshape(-1, p.shape[-1])
            rows = []
            for w in p2:
                if replacement:
                    cdf = np.cumsum(w)
                    cdf /= cdf[-1]
                    u = _rng.random(num_samples)
                    rows.append(np.minimum((cdf[None, :] <= u[:, None]).sum(-1), len(w) - 1))
                else:
                    key = _rng.exponential(size=len(w)) / np.where(w > 0, w, np.nan)
                    key = np.where(np.isnan(key), np.inf, key)
                    rows.append(np.argsort(key, kind="stable")[:num_samples])
            out = np.array(rows, dtype=np.int64)
            if p.ndim == 1:
                out = out[0]
            return mod.from_numpy(out)

        def randint(*args, **kw):
            if inside[0] or "generator" in kw:
                return own["randint"](*args, **kw)
            args = list(args)
            size = kw.pop("size", None)
            if size is None:
                size = args.pop()
            low, high = (0, args[0]) if len(args) == 1 else (args[0], args[1])
            low, high = kw.get("low", low), kw.get("high", high)
            a = _rng.integers(int(low), int(high), size=tuple(int(s) for s in size))
            return mod.from_numpy(a.astype(np.int64)).to(kw.get("dtype") or mod.int64)

        own["randint"] = mod.randint
        mod.randperm, mod.multinomial, mod.randint = randperm, multinomial, randint

        beta = mod.distributions.Beta
        own_beta_sample = beta.sample

        def beta_sample(self, sample_shape=()):
            out = own_call(own_beta_sample, self, sample_shape)
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
