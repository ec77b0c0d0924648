"""Callbacks: hooks the Trainer calls around epochs and steps.

A callback overrides any of ``on_train_begin(trainer)``,
``on_epoch_begin(trainer, epoch)``, ``on_batch_end(trainer, step, logs)``,
``on_epoch_end(trainer, epoch, logs)`` and ``on_train_end(trainer)``; it may
set ``trainer.stop_training = True`` to end ``fit`` after the current epoch.
``monitored_keys(trainer)`` lets the Trainer reject unknown monitor names
before any training is done.
"""
import math
import os

import numpy as np

__all__ = ["Callback", "EarlyStopping", "ModelCheckpoint", "LambdaCallback"]


class Callback:
    """Base class of Trainer callbacks (every hook does nothing)."""

    def on_train_begin(self, trainer):
        pass

    def on_epoch_begin(self, trainer, epoch):
        pass

    def on_batch_end(self, trainer, step, logs):
        pass

    def on_epoch_end(self, trainer, epoch, logs):
        pass

    def on_train_end(self, trainer):
        pass

    def monitored_keys(self, trainer):
        return ()


class LambdaCallback(Callback):
    """A callback from plain functions, e.g. ``LambdaCallback(on_epoch_end=f)``."""

    def __init__(self, **hooks):
        for name, fn in hooks.items():
            if not hasattr(Callback, name) or not name.startswith("on_"):
                raise ValueError(f"LambdaCallback: unknown hook {name!r}")
            setattr(self, name, fn)


def _resolve_mode(monitor, mode, who):
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{who}: mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode != "auto":
        return mode
    name = monitor[4:] if monitor.startswith("val_") else monitor
    return "max" if ("acc" in name or name in ("auc", "f1", "precision", "recall")) else "min"


class _Monitor(Callback):
    def __init__(self, monitor, mode, min_delta, who):
        if not isinstance(monitor, str) or not monitor:
            raise ValueError(f"{who}: monitor must be a metric name such as 'val_loss', got "
                             f"{monitor!r}")
        self.monitor = monitor
        self.mode = _resolve_mode(monitor, mode, who)
        self.min_delta = abs(float(min_delta))
        self.who = who

    def monitored_keys(self, trainer):
        return (self.monitor,)

    def _value(self, logs):
        if self.monitor not in logs:
            raise ValueError(f"{self.who}: monitor {self.monitor!r} is not among the logged "
                             f"values {sorted(logs)}")
        return float(logs[self.monitor])

    def _better(self, value, best):
        if best is None:
            return not math.isnan(value)
        if self.mode == "min":
            return value < best - self.min_delta
        return value > best + self.min_delta


class EarlyStopping(_Monitor):
    """Stops training when ``monitor`` has not improved for ``patience`` epochs.

    Parameters
    ----------
    monitor : str
        A logged value: ``'loss'``, ``'val_loss'``, ``'accuracy'``, ``'val_accuracy'``...
    patience : int
        Epochs without improvement before stopping.
    min_delta : float
        Smallest change that counts as an improvement.
    restore_best : bool
        At the end of training, load the weights of the best epoch back into the model.
    mode : {'auto', 'min', 'max'}
        Whether lower or higher is better; ``'auto'`` picks ``'max'`` for
        accuracies and ``'min'`` otherwise.

    Attributes
    ----------
    best, best_epoch, stopped_epoch, wait

    Examples
    --------
    >>> from fastnn.train import EarlyStopping
    >>> es = EarlyStopping(monitor='val_loss', patience=3)
    """

    def __init__(self, monitor="val_loss", patience=5, min_delta=0.0, restore_best=True,
                 mode="auto"):
        super().__init__(monitor, mode, min_delta, "EarlyStopping")
        if isinstance(patience, bool) or not isinstance(patience, (int, np.integer)) \
                or patience < 0:
            raise ValueError(f"EarlyStopping: patience must be an int >= 0, got {patience!r}")
        self.patience = int(patience)
        self.restore_best = bool(restore_best)
        # Keras spelling.
        self.restore_best_weights = self.restore_best

    def on_train_begin(self, trainer):
        self.best = None
        self.best_epoch = None
        self.best_state = None
        self.wait = 0
        self.stopped_epoch = None

    def on_epoch_end(self, trainer, epoch, logs):
        value = self._value(logs)
        if self._better(value, self.best):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best:
                self.best_state = {k: np.array(v._array, copy=True)
                                   for k, v in trainer.model.state_dict().items()}
            return
        self.wait += 1
        if self.wait > self.patience:
            self.stopped_epoch = epoch
            trainer.stop_training = True

    def on_train_end(self, trainer):
        if self.restore_best and self.best_state is not None:
            trainer.model.load_state_dict(self.best_state)


class ModelCheckpoint(_Monitor):
    """Saves the model with ``fastnn.save`` at the end of epochs.

    Parameters
    ----------
    path : str
        File to write; may contain ``{epoch}`` and any logged name, e.g.
        ``'ckpt-{epoch:02d}-{val_loss:.3f}.fnn'``.
    monitor : str
        Value compared across epochs when ``save_best_only``.
    save_best_only : bool
        Write only when ``monitor`` improved (otherwise every epoch).
    save_weights_only : bool
        Write ``model.state_dict()`` (loadable with ``model.load_state_dict(fastnn.load(path))``);
        when False, the full Trainer checkpoint (model, optimizer, scheduler,
        epoch, history), loadable with ``Trainer.load_checkpoint``.
    mode : {'auto', 'min', 'max'}

    Attributes
    ----------
    best, best_epoch, last_path
    """

    def __init__(self, path, monitor="val_loss", save_best_only=True, save_weights_only=True,
                 mode="auto", min_delta=0.0):
        super().__init__(monitor, mode, min_delta, "ModelCheckpoint")
        self.path = os.fspath(path)
        self.save_best_only = bool(save_best_only)
        self.save_weights_only = bool(save_weights_only)
        self.best = None
        self.best_epoch = None
        self.last_path = None

    def monitored_keys(self, trainer):
        return (self.monitor,) if self.save_best_only else ()

    def on_epoch_end(self, trainer, epoch, logs):
        if self.save_best_only:
            value = self._value(logs)
            if not self._better(value, self.best):
                return
            self.best, self.best_epoch = value, epoch
        path = self.path.format(epoch=epoch + 1, **logs) if "{" in self.path else self.path
        d = os.path.dirname(os.path.abspath(path))
        os.makedirs(d, exist_ok=True)
        if self.save_weights_only:
            from ..serialization import save
            save(trainer.model.state_dict(), path)
        else:
            trainer.save_checkpoint(path)
        self.last_path = path
