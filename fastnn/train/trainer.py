"""``Trainer``: the training loop, with metrics, callbacks and checkpoints.

One epoch: ``model.train()``; for each batch ``zero_grad``, forward, loss,
``backward``, ``step``; the loss and metrics are averaged over samples.  With
validation data the model is then evaluated in ``eval()`` mode under
``no_grad``.  The epoch's logs go to the History, then the scheduler steps
(plateau schedulers receive the monitored value), then callbacks run.

Checkpoints (``save_checkpoint``/``load_checkpoint``) hold the model, the
optimizer, the scheduler, the epoch count, the history, the shuffling state
of the training DataLoader and fastnn's random state, so a resumed run
continues exactly as if it had not stopped (at a fixed thread count).
"""
import inspect
import math
import os
import sys
import time

import numpy as np

from .. import _config
from ..autograd import no_grad
from .._tensor import Tensor, _wrap_data
from .callbacks import Callback
from .history import History
from .metrics import get_metric

__all__ = ["Trainer"]


def _tensor(x):
    if isinstance(x, Tensor):
        return x
    return _wrap_data(x)


def _split_batch(batch):
    if isinstance(batch, dict):
        return batch["input"], batch.get("target")
    if isinstance(batch, (tuple, list)):
        if len(batch) == 1:
            return batch[0], None
        return batch[0], batch[1]
    return batch, None


def _loss_from_name(name):
    from ..nn import functional as F
    table = {"cross_entropy": F.cross_entropy, "mse": F.mse_loss, "mse_loss": F.mse_loss,
             "bce_with_logits": F.binary_cross_entropy_with_logits}
    if name not in table:
        raise ValueError(f"Trainer: unknown loss {name!r}; use one of {sorted(table)} or a "
                         "callable loss_fn(output, target)")
    return table[name]


def _is_plateau(scheduler):
    if "plateau" in type(scheduler).__name__.lower():
        return True
    try:
        params = inspect.signature(scheduler.step).parameters
    except (TypeError, ValueError):
        return False
    return "metrics" in params or "metric" in params


class _Bar:
    """A tqdm bar when enabled, otherwise a no-op (tqdm imported lazily)."""

    def __init__(self, enabled, total, desc):
        self.bar = None
        if enabled:
            try:
                from tqdm.auto import tqdm
            except ImportError:       # tqdm is a dependency, but never fail training over it
                return
            try:   # a terminal that reports no width (0 columns) would get an empty bar
                sized = os.get_terminal_size(sys.stdout.fileno()).columns > 0
            except (OSError, ValueError, AttributeError):
                sized = False
            self.bar = tqdm(total=total, desc=desc, unit="batch", leave=True,
                            file=sys.stdout, dynamic_ncols=sized,
                            ncols=None if sized else 100, nrows=None if sized else 40)

    def update(self, postfix):
        if self.bar is not None:
            self.bar.set_postfix(postfix, refresh=False)
            self.bar.update(1)

    def close(self, postfix=None):
        if self.bar is not None:
            if postfix:
                self.bar.set_postfix(postfix, refresh=True)
            self.bar.close()


class Trainer:
    """Trains a model with a loss, an optimizer and callbacks.

    Parameters
    ----------
    model : fastnn.nn.Module
    loss_fn : callable or str
        ``loss_fn(output, target) -> scalar Tensor`` (e.g. ``nn.CrossEntropyLoss()``),
        or ``'cross_entropy'`` / ``'mse'``.
    optimizer : optimizer
        Anything with ``zero_grad()`` and ``step()`` (``fastnn.optim.*``).
    scheduler : learning-rate scheduler, optional
        Stepped once per epoch; ``ReduceLROnPlateau``-like schedulers
        (``step(metrics)``) receive ``val_loss`` (or ``loss`` without validation data).
    metrics : sequence of str or callable
        ``'accuracy'``, ``'top5_accuracy'``, ``'mae'``, ``'mse'`` or
        ``fn(output_ndarray, target_ndarray) -> float`` (batch mean).
    callbacks : sequence of Callback
        E.g. ``EarlyStopping``, ``ModelCheckpoint``.
    progress : bool or 'always'
        A tqdm progress bar per epoch (loss, metrics, images/s) when stdout
        is a terminal; ``'always'`` forces it, False turns it off.

    Examples
    --------
    >>> import numpy as np, fastnn, fastnn.nn as nn
    >>> from fastnn.data import DataLoader, TensorDataset
    >>> x = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    >>> y = (x[:, 0] > 0).astype(np.int64)
    >>> model = nn.Linear(4, 2)
    >>> opt = fastnn.optim.SGD(model.parameters(), lr=0.5)
    >>> trainer = Trainer(model, nn.CrossEntropyLoss(), opt, progress=False)
    >>> history = trainer.fit(DataLoader(TensorDataset(x, y), batch_size=16), epochs=5)
    >>> trainer.evaluate((x, y))["accuracy"] > 0.9
    True
    """

    def __init__(self, model, loss_fn, optimizer, scheduler=None, metrics=("accuracy",),
                 callbacks=(), progress=True, scheduler_monitor=None):
        from ..nn.modules.module import Module
        if not isinstance(model, Module):
            raise TypeError(f"Trainer: model must be a fastnn.nn.Module, got "
                            f"{type(model).__name__}")
        if isinstance(loss_fn, str):
            loss_fn = _loss_from_name(loss_fn)
        if not callable(loss_fn):
            raise TypeError(f"Trainer: loss_fn must be callable, got {type(loss_fn).__name__}")
        if not (hasattr(optimizer, "step") and hasattr(optimizer, "zero_grad")):
            raise TypeError("Trainer: optimizer must have step() and zero_grad(), got "
                            f"{type(optimizer).__name__}")
        if scheduler is not None and not hasattr(scheduler, "step"):
            raise TypeError("Trainer: scheduler must have step()")
        if isinstance(metrics, str) or callable(metrics):
            metrics = (metrics,)
        self.metrics = [get_metric(m) for m in (metrics or ())]
        names = [n for n, _ in self.metrics]
        if len(set(names)) != len(names) or "loss" in names:
            raise ValueError(f"Trainer: metric names must be unique and not 'loss', got {names}")
        callbacks = list(callbacks or ())
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"Trainer: callbacks must be Callback instances, got "
                                f"{type(cb).__name__}")
        if progress not in (True, False, "always", None):
            raise ValueError(f"Trainer: progress must be True, False or 'always', got "
                             f"{progress!r}")
        self.model = model
        self.loss_fn = loss_fn
        self.optimizer = optimizer
        self.scheduler = scheduler
        self.callbacks = callbacks
        self.progress = progress
        self.scheduler_monitor = scheduler_monitor
        self.history = History()
        self.epoch = 0                  # completed epochs
        self.stop_training = False
        self._train_loader = None
        self._pending_loader_state = None

    # ------------------------------------------------------------- helpers
    def _bar_enabled(self):
        if self.progress == "always":
            return True
        if not self.progress:
            return False
        try:
            return sys.stdout.isatty()
        except (AttributeError, ValueError):
            return False

    def _lr(self):
        groups = getattr(self.optimizer, "param_groups", None)
        if groups:
            return float(groups[0].get("lr", float("nan")))
        lr = getattr(self.optimizer, "lr", None)
        return float(lr) if lr is not None else float("nan")

    def _available_keys(self, has_val):
        keys = ["loss"] + [n for n, _ in self.metrics]
        if has_val:
            keys += ["val_" + k for k in keys]
        return keys + ["lr"]

    def _check_monitors(self, has_val):
        avail = self._available_keys(has_val)
        for cb in self.callbacks:
            for key in cb.monitored_keys(self):
                if key not in avail:
                    hint = (" (val_* values need val_loader=...)"
                            if key.startswith("val_") and not has_val else "")
                    raise ValueError(f"{type(cb).__name__}: unknown monitor {key!r}; "
                                     f"available: {', '.join(avail)}{hint}")
        mon = self.scheduler_monitor
        if mon is not None and mon not in avail:
            raise ValueError(f"Trainer: unknown scheduler_monitor {mon!r}; available: "
                             f"{', '.join(avail)}")

    def _call(self, hook, *args):
        for cb in self.callbacks:
            getattr(cb, hook)(self, *args)

    # ---------------------------------------------------------------- fit
    def fit(self, train_loader, epochs, val_loader=None):
        """Trains for ``epochs`` more epochs; returns the (cumulative) History.

        Parameters
        ----------
        train_loader : iterable of (input, target) batches
            Usually a ``fastnn.data.DataLoader``.
        epochs : int
            Number of epochs to run (counting on from ``self.epoch``).
        val_loader : iterable of batches, optional
            Evaluated after every epoch; its results are logged as ``val_*``.

        Raises
        ------
        RuntimeError
            The loss became NaN or infinite (names the epoch and step).
        ValueError
            Unknown callback monitor, bad ``epochs``.
        """
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
            raise ValueError(f"Trainer.fit: epochs must be an int >= 0, got {epochs!r}")
        self._check_monitors(val_loader is not None)
        self._train_loader = train_loader
        if self._pending_loader_state is not None:
            rng = getattr(train_loader, "_rng", None)
            if rng is not None:
                rng.bit_generator.state = self._pending_loader_state
            self._pending_loader_state = None
        self.stop_training = False
        was_training = self.model.training
        self._call("on_train_begin")
        try:
            for _ in range(int(epochs)):
                epoch = self.epoch
                self._call("on_epoch_begin", epoch)
                lr = self._lr()
                logs, bar, postfix = self._train_epoch(train_loader, epoch)
                try:
                    if val_loader is not None:
                        val = self.evaluate(val_loader)
                        logs.update({"val_" + k: v for k, v in val.items()})
                        postfix.update({"val_" + k: f"{v:.4f}" for k, v in val.items()})
                finally:
                    bar.close(postfix)
                logs["lr"] = lr
                self.history.append(epoch, logs)
                self._step_scheduler(logs)
                self.epoch += 1
                self._call("on_epoch_end", epoch, logs)
                if self.stop_training:
                    break
        finally:
            self.model.train(was_training)
        self._call("on_train_end")
        return self.history

    def _step_scheduler(self, logs):
        s = self.scheduler
        if s is None:
            return
        if _is_plateau(s):
            key = self.scheduler_monitor or ("val_loss" if "val_loss" in logs else "loss")
            s.step(logs[key])
        else:
            s.step()

    def _train_epoch(self, loader, epoch):
        self.model.train()
        try:
            total = len(loader)
        except TypeError:
            total = None
        bar = _Bar(self._bar_enabled(), total, f"epoch {epoch + 1}")
        t0 = time.perf_counter()
        try:
            batches = iter(loader)
        except TypeError:
            bar.close()
            raise TypeError(f"Trainer.fit: train_loader is not iterable "
                            f"({type(loader).__name__})") from None
        try:
            n_seen, loss_sum, metric_sums, postfix = self._train_steps(batches, bar, epoch, t0)
        except BaseException:
            bar.close()
            raise
        elapsed = time.perf_counter() - t0
        if n_seen == 0:
            bar.close()
            raise ValueError("Trainer.fit: the training loader produced no batches")
        self.last_epoch_time = elapsed
        self.last_throughput = n_seen / elapsed if elapsed > 0 else float("inf")
        logs = {"loss": loss_sum / n_seen}
        for i, (name, _) in enumerate(self.metrics):
            logs[name] = metric_sums[i] / n_seen
        return logs, bar, postfix

    def _train_steps(self, batches, bar, epoch, t0):
        model = self.model
        n_seen = 0
        loss_sum = 0.0
        metric_sums = [0.0] * len(self.metrics)
        postfix = {}
        for step, batch in enumerate(batches):
            x, y = _split_batch(batch)
            x = _tensor(x)
            y = _tensor(y) if y is not None else None
            self.optimizer.zero_grad()
            out = model(x)
            loss = self.loss_fn(out, y) if y is not None else self.loss_fn(out)
            lv = float(loss.item() if hasattr(loss, "item") else loss)
            if not math.isfinite(lv):
                raise RuntimeError(f"Trainer: the loss is {lv} at epoch {epoch + 1}, step "
                                   f"{step + 1}; stopping before the weights become NaN "
                                   "(lower the learning rate, check the inputs, or clip "
                                   "gradients)")
            loss.backward()
            self.optimizer.step()
            n = int(x.shape[0])
            n_seen += n
            loss_sum += lv * n
            if self.metrics and y is not None:
                o, t = out._array, y._array
                for i, (_, fn) in enumerate(self.metrics):
                    metric_sums[i] += fn(o, t) * n
            logs = {"loss": loss_sum / n_seen}
            for i, (name, _) in enumerate(self.metrics):
                logs[name] = metric_sums[i] / n_seen
            if bar.bar is not None:
                dt = time.perf_counter() - t0
                postfix = {k: f"{v:.4f}" for k, v in logs.items()}
                postfix["img/s"] = f"{n_seen / dt:.0f}" if dt > 0 else "-"
                bar.update(postfix)
            if self.callbacks:
                self._call("on_batch_end", step, logs)
        return n_seen, loss_sum, metric_sums, postfix

    # ---------------------------------------------------------- inference
    def _as_loader(self, data, batch_size=256):
        from ..data import DataLoader, TensorDataset
        if isinstance(data, (tuple, list)) and data and all(
                isinstance(a, (np.ndarray, Tensor)) for a in data):
            return DataLoader(TensorDataset(*data), batch_size=batch_size)
        return data

    def evaluate(self, loader):
        """Mean loss and metrics over a loader (eval mode, no_grad).

        Returns
        -------
        dict
            ``{'loss': ..., '<metric>': ...}``.
        """
        loader = self._as_loader(loader)
        model = self.model
        was_training = model.training
        model.eval()
        n_seen, loss_sum = 0, 0.0
        sums = [0.0] * len(self.metrics)
        try:
            with no_grad():
                for batch in loader:
                    x, y = _split_batch(batch)
                    x = _tensor(x)
                    out = model(x)
                    n = int(x.shape[0])
                    if y is not None:
                        y = _tensor(y)
                        loss = self.loss_fn(out, y)
                        loss_sum += float(loss.item() if hasattr(loss, "item") else loss) * n
                        for i, (_, fn) in enumerate(self.metrics):
                            sums[i] += fn(out._array, y._array) * n
                    n_seen += n
        finally:
            model.train(was_training)
        if n_seen == 0:
            raise ValueError("Trainer.evaluate: the loader produced no batches")
        res = {"loss": loss_sum / n_seen}
        for i, (name, _) in enumerate(self.metrics):
            res[name] = sums[i] / n_seen
        return res

    def predict(self, x, batch_size=256):
        """The model's outputs for ``x`` (Tensor, ndarray or a loader), in
        eval mode under no_grad, computed in batches; returns one Tensor."""
        model = self.model
        was_training = model.training
        model.eval()
        outs = []
        try:
            with no_grad():
                if isinstance(x, (Tensor, np.ndarray)):
                    arr = x._array if isinstance(x, Tensor) else x
                    for s in range(0, len(arr), batch_size):
                        outs.append(model(_tensor(arr[s:s + batch_size]))._array)
                else:
                    for batch in x:
                        xb, _ = _split_batch(batch)
                        outs.append(model(_tensor(xb))._array)
        finally:
            model.train(was_training)
        if not outs:
            raise ValueError("Trainer.predict: no input samples")
        return Tensor._wrap(np.concatenate(outs))

    # -------------------------------------------------------- checkpoints
    def state_dict(self):
        """Everything needed to resume: model, optimizer, scheduler, epoch,
        history, the train loader's shuffling state and fastnn's RNG state."""
        ckpt = {"model": self.model.state_dict(), "epoch": self.epoch,
                "history": {"history": self.history.history, "epoch": self.history.epoch}}
        if hasattr(self.optimizer, "state_dict"):
            ckpt["optimizer"] = self.optimizer.state_dict()
        if self.scheduler is not None and hasattr(self.scheduler, "state_dict"):
            ckpt["scheduler"] = self.scheduler.state_dict()
        rng = getattr(self._train_loader, "_rng", None)
        if rng is not None:
            ckpt["loader_rng"] = rng.bit_generator.state
        st = _config.state
        ckpt["fastnn_rng"] = {"seed": st.seed, "state": st.rng.bit_generator.state,
                              "dropout_counter": st.dropout_counter}
        return ckpt

    def load_state_dict(self, ckpt):
        """Restores what ``state_dict`` returned (the loader state is applied
        to the loader of the next ``fit``)."""
        if not isinstance(ckpt, dict) or "model" not in ckpt:
            raise ValueError("Trainer.load_state_dict: not a Trainer checkpoint (no 'model')")
        self.model.load_state_dict(ckpt["model"])
        if "optimizer" in ckpt and hasattr(self.optimizer, "load_state_dict"):
            self.optimizer.load_state_dict(ckpt["optimizer"])
        if "scheduler" in ckpt and self.scheduler is not None:
            self.scheduler.load_state_dict(ckpt["scheduler"])
        self.epoch = int(ckpt.get("epoch", 0))
        h = ckpt.get("history") or {}
        self.history = History(h.get("history"), h.get("epoch"))
        self._pending_loader_state = ckpt.get("loader_rng")
        r = ckpt.get("fastnn_rng")
        if r:
            st = _config.state
            st.seed = int(r["seed"])
            st.rng = np.random.default_rng()
            st.rng.bit_generator.state = r["state"]
            st.dropout_counter = int(r["dropout_counter"])

    def save_checkpoint(self, path):
        """Writes ``state_dict()`` with ``fastnn.save`` (atomically)."""
        from ..serialization import save
        save(self.state_dict(), path)

    def load_checkpoint(self, path):
        """Restores a checkpoint written by ``save_checkpoint``; returns the epoch."""
        from ..serialization import load
        self.load_state_dict(load(path))
        return self.epoch
