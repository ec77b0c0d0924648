"""Random bad and odd arguments to the issue-14 losses, resampling ops,
optimisers and schedules end as Python exceptions, never a crash (run in a
subprocess so a crash fails the test instead of killing the run)."""
from fastnn.testing import run_python

FUZZ = r'''
import warnings
import numpy as np
import fastnn, fastnn.nn.functional as F
from fastnn import _core
from fastnn.optim import lr_scheduler as S
warnings.simplefilter("ignore")
rng = np.random.default_rng(0)
VALUES = [None, 0, -1, 1, 2, 3, 1.5, -0.5, 1e9, float("nan"), "x", (2, 2), (0, 3), [1, -1],
          np.zeros(0), np.ones((2, 3), np.float32), np.ones((2, 3, 4, 4)),
          np.arange(6).reshape(2, 3), np.array([-100, 1]), np.ones(3, np.int32), True]
def arr():
    kind = rng.integers(5)
    shape = tuple(int(s) for s in rng.integers(0, 4, rng.integers(0, 5)))
    if kind == 0:
        return rng.integers(-3, 5, shape)
    if kind == 1:
        return rng.standard_normal(shape).astype(np.float32)
    return VALUES[rng.integers(len(VALUES))]
FNS = [F.cross_entropy, F.nll_loss, F.binary_cross_entropy, F.binary_cross_entropy_with_logits,
       F.l1_loss, F.mse_loss, F.smooth_l1_loss, F.huber_loss, F.kl_div, F.poisson_nll_loss,
       F.gaussian_nll_loss, F.hinge_embedding_loss, F.margin_ranking_loss,
       F.cosine_embedding_loss, F.triplet_margin_loss, F.multi_margin_loss, F.soft_margin_loss,
       F.multilabel_soft_margin_loss, F.interpolate, F.pixel_shuffle, F.pixel_unshuffle,
       F.one_hot, F.normalize, F.cosine_similarity, F.pairwise_distance, F.dropout1d,
       F.dropout2d, F.alpha_dropout]
KW = ["weight", "ignore_index", "label_smoothing", "reduction", "pos_weight", "beta", "delta",
      "margin", "p", "size", "scale_factor", "mode", "align_corners", "dim", "eps", "var",
      "log_target", "swap", "full", "training"]
bad = 0
for i in range(3000):
    fn = FNS[rng.integers(len(FNS))]
    args = [arr() for _ in range(rng.integers(0, 4))]
    kw = {KW[j]: arr() for j in rng.integers(0, len(KW), rng.integers(0, 3))}
    if rng.random() < 0.3:
        kw["mode"] = ["nearest", "bilinear", "linear", "nearest-exact", "bicubic"][rng.integers(5)]
    try:
        out = fn(*args, **kw)
        if hasattr(out, "requires_grad") and out.requires_grad:
            out.sum().backward()
    except (ValueError, TypeError, IndexError, RuntimeError, NotImplementedError,
            MemoryError, OverflowError, ZeroDivisionError, KeyError):
        bad += 1
for name in ("Adadelta", "Adamax", "NAdam", "RAdam", "Adam", "LBFGS"):
    for v in VALUES:
        try:
            getattr(fastnn.optim, name)([fastnn.nn.Parameter(np.zeros(2))], lr=v)
        except (ValueError, TypeError):
            bad += 1
for name in ("LambdaLR", "OneCycleLR", "CyclicLR", "CosineAnnealingWarmRestarts", "LinearLR",
             "PolynomialLR", "MultiStepLR", "ConstantLR"):
    for v in VALUES:
        opt = fastnn.optim.SGD([fastnn.nn.Parameter(np.zeros(2))], lr=0.1, momentum=0.9)
        try:
            s = getattr(S, name)(opt, v)
            for _ in range(3):
                s.step()
        except (ValueError, TypeError, ZeroDivisionError, KeyError, AttributeError):
            bad += 1
print("DONE", bad)
'''


def test_fuzzed_arguments_never_crash():
    r = run_python(FUZZ, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "DONE" in r.stdout
