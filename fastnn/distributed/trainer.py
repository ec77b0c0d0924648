"""``make_distributed(trainer)``: data-parallel ``fastnn.train.Trainer``."""
import functools

from . import _comm
from .optimizer import DistributedOptimizer, broadcast_optimizer_state, broadcast_parameters

__all__ = ["make_distributed"]


def _loader_sampler(loader):
    s = getattr(loader, "sampler", None)
    return s if hasattr(s, "set_epoch") else None


def make_distributed(trainer, root=0, **optimizer_kwargs):
    """Turns a ``fastnn.train.Trainer`` into a data-parallel one, in place.

    * the optimiser is wrapped in :class:`DistributedOptimizer` (gradients
      averaged across ranks before each step; ``optimizer_kwargs`` go to it);
    * the model's parameters and buffers and the optimiser state are
      broadcast from ``root``, so every rank starts identical;
    * each epoch, the train loader's ``DistributedSampler`` (if it has one)
      gets ``set_epoch``;
    * the epoch's training loss and metrics and ``evaluate()``'s results are
      averaged across ranks before the History, the scheduler and the
      callbacks see them, so ``EarlyStopping``, ``ReduceLROnPlateau`` and
      ``ModelCheckpoint`` decide the same on every rank;
    * only rank 0 shows the progress bar and writes checkpoints
      (``ModelCheckpoint`` and ``save_checkpoint`` do nothing elsewhere).

    Give each rank its shard with
    ``DataLoader(ds, batch_size=B // world, sampler=DistributedSampler(ds))``.
    In a world of one only the (no-op) wrapping happens.

    Returns
    -------
    Trainer
        The same trainer.

    Examples
    --------
    >>> import fastnn, fastnn.distributed as dist
    >>> from fastnn.train import Trainer
    >>> model = fastnn.nn.Linear(4, 3)
    >>> t = dist.make_distributed(Trainer(model, "cross_entropy",
    ...                                   fastnn.optim.SGD(model.parameters(), lr=0.1)))
    """
    if getattr(trainer, "_fastnn_distributed", False):
        return trainer
    for attr in ("model", "optimizer", "evaluate", "_train_epoch", "callbacks"):
        if not hasattr(trainer, attr):
            raise TypeError(f"make_distributed: expected a fastnn.train.Trainer, "
                            f"{type(trainer).__name__} has no {attr!r}")
    w = _comm._ensure()
    _comm._check_root(root, "make_distributed")
    if not isinstance(trainer.optimizer, DistributedOptimizer):
        trainer.optimizer = DistributedOptimizer(trainer.optimizer, **optimizer_kwargs)
    broadcast_parameters(trainer.model, root=root)
    if hasattr(trainer.optimizer.optimizer, "state_dict"):
        broadcast_optimizer_state(trainer.optimizer, root=root)

    train_epoch = trainer._train_epoch

    @functools.wraps(train_epoch)
    def _train_epoch(loader, epoch):
        s = _loader_sampler(loader)
        if s is not None:
            s.set_epoch(epoch)
        logs, bar, postfix = train_epoch(loader, epoch)
        logs.update(_comm.reduce_metrics(logs))
        return logs, bar, postfix

    evaluate = trainer.evaluate

    @functools.wraps(evaluate)
    def _evaluate(loader):
        return _comm.reduce_metrics(evaluate(loader))

    trainer._train_epoch = _train_epoch
    trainer.evaluate = _evaluate
    if w.rank != root:
        trainer.progress = False
        trainer.save_checkpoint = lambda *a, **k: None
        for cb in trainer.callbacks:
            if type(cb).__name__ == "ModelCheckpoint":
                cb.on_epoch_end = lambda *a, **k: None
    trainer._fastnn_distributed = True
    return trainer
