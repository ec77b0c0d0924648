"""Metrics for the Trainer: functions of (output, target) ndarrays -> float.

Each returns the *mean* over the batch, so the Trainer can average batches
weighted by their size.
"""
import numpy as np

__all__ = ["get_metric", "METRICS", "accuracy", "top5_accuracy", "mae", "mse"]


def accuracy(output, target):
    """Fraction of correct predictions: argmax over classes, or ``output > 0``
    (logits) for a single output column with 0/1 targets."""
    output = np.asarray(output)
    target = np.asarray(target)
    if output.ndim == 1 or (output.ndim == 2 and output.shape[1] == 1):
        pred = (output.reshape(-1) > 0).astype(np.int64)
        return float(np.mean(pred == target.reshape(-1).astype(np.int64)))
    if target.ndim == output.ndim:              # one-hot or probabilities
        target = target.argmax(axis=1)
    return float(np.mean(output.argmax(axis=1) == target))


def top5_accuracy(output, target):
    """Fraction of samples whose class is among the 5 highest scores."""
    output = np.asarray(output)
    k = min(5, output.shape[1])
    top = np.argpartition(-output, k - 1, axis=1)[:, :k]
    return float(np.mean((top == np.asarray(target).reshape(-1, 1)).any(axis=1)))


def mae(output, target):
    """Mean absolute error."""
    return float(np.mean(np.abs(np.asarray(output) - np.asarray(target).reshape(np.shape(output)))))


def mse(output, target):
    """Mean squared error."""
    d = np.asarray(output) - np.asarray(target).reshape(np.shape(output))
    return float(np.mean(d * d))


METRICS = {"accuracy": accuracy, "acc": accuracy, "top5_accuracy": top5_accuracy,
           "mae": mae, "mse": mse}


def get_metric(m):
    """(name, fn) for a metric name or a callable ``fn(output, target) -> float``."""
    if callable(m):
        return getattr(m, "__name__", type(m).__name__), m
    if isinstance(m, str):
        if m in METRICS:
            return ("accuracy" if m == "acc" else m), METRICS[m]
        raise ValueError(f"Trainer: unknown metric {m!r}; known metrics: "
                         f"{', '.join(sorted(METRICS))} (or pass a callable)")
    raise TypeError(f"Trainer: a metric must be a name or a callable, got {type(m).__name__}")
