"""Pruning from inside the training loop: a Trainer callback that reports to an Optuna trial."""
import math

from ._optuna import require_optuna

from ..train import Callback

__all__ = ["PruningCallback"]


class PruningCallback(Callback):
    """Reports a validation metric to an Optuna trial after each epoch and stops
    hopeless trials.

    Add it to ``fastnn.train.Trainer(..., callbacks=[PruningCallback(trial)])``
    inside a search objective. After every epoch it reports ``monitor`` (read
    from the epoch's logs, or from the trainer's history) with ``trial.report``,
    records the number of epochs run (the ``epochs`` column of the result
    table) and raises ``optuna.TrialPruned`` when the study's pruner says the
    trial cannot catch up; the search records the trial as pruned.

    It can also be driven by hand from a custom loop: ``cb.report(value)``.

    Parameters
    ----------
    trial : optuna.trial.Trial
        The trial passed to the objective.
    monitor : str
        Name of the metric in the epoch logs (``'val_loss'``, ``'val_accuracy'``...).

    Examples
    --------
    >>> def objective(params, trial):                    # doctest: +SKIP
    ...     trainer = Trainer(model, loss_fn, opt, callbacks=[PruningCallback(trial)])
    ...     hist = trainer.fit(train_loader, epochs=20, val_loader=val_loader)
    ...     return min(hist.history["val_loss"])
    """

    def __init__(self, trial, monitor="val_loss"):
        if not isinstance(monitor, str) or not monitor:
            raise ValueError(f"PruningCallback: monitor must be a metric name, got {monitor!r}")
        self.trial = trial
        self.monitor = monitor
        self._step = 0

    def report(self, value, step=None):
        """Reports ``value`` for epoch ``step`` (default: the next one); raises
        ``optuna.TrialPruned`` when the trial should stop."""
        optuna = require_optuna()
        step = self._step if step is None else int(step)
        self._step = step + 1
        value = float(value)
        self.trial.report(value, step)
        self.trial.set_user_attr("epochs", step + 1)
        if self.trial.should_prune():
            raise optuna.TrialPruned(
                f"trial {self.trial.number} pruned after epoch {step + 1}: "
                f"{self.monitor}={value:.6g}" + (" (not finite)" if not math.isfinite(value) else ""))

    def monitored_keys(self, trainer):
        """Lets the Trainer reject an unknown ``monitor`` before training."""
        return (self.monitor,)

    def _lookup(self, trainer, logs):
        if isinstance(logs, dict) and self.monitor in logs:
            return logs[self.monitor]
        hist = getattr(trainer, "history", None)
        hist = getattr(hist, "history", hist)
        if isinstance(hist, dict) and hist.get(self.monitor):
            return hist[self.monitor][-1]
        raise KeyError(f"PruningCallback: metric {self.monitor!r} not found in the epoch logs "
                       f"({sorted(logs) if isinstance(logs, dict) else logs!r}); pass a val_loader "
                       "to fit() or choose another monitor")

    def on_epoch_end(self, *args, **kwargs):
        """Trainer hook: ``on_epoch_end(trainer, epoch, logs)`` (any of them by keyword)."""
        trainer = kwargs.get("trainer")
        epoch = kwargs.get("epoch")
        logs = kwargs.get("logs")
        for a in args:
            if isinstance(a, dict):
                logs = a
            elif isinstance(a, int) and not isinstance(a, bool):
                epoch = a
            elif trainer is None:
                trainer = a
        self.report(self._lookup(trainer, logs), epoch)
