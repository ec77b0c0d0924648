"""``History``: what ``Trainer.fit`` returns."""

__all__ = ["History"]


class History:
    """Per-epoch logs of a training run.

    Attributes
    ----------
    history : dict of str -> list
        ``loss``, each metric, ``val_loss`` and ``val_<metric>`` (with
        validation data) and ``lr``, one entry per epoch.
    epoch : list of int
        Epoch indices (0-based, continuing across resumed runs).
    """

    def __init__(self, history=None, epoch=None):
        self.history = {k: list(v) for k, v in (history or {}).items()}
        self.epoch = list(epoch or [])

    def append(self, epoch, logs):
        self.epoch.append(int(epoch))
        for k, v in logs.items():
            self.history.setdefault(k, []).append(v)

    def __len__(self):
        return len(self.epoch)

    def __getitem__(self, key):
        return self.history[key]

    def __repr__(self):
        return f"History(epochs={len(self.epoch)}, keys={sorted(self.history)})"

    def plot(self, path, keys=None):
        """Writes a PNG of the learning curves (loss, and each metric, with
        their validation counterparts) to ``path``.

        Requires matplotlib: ``pip install fastnn[plot]``.
        """
        try:   # a Figure with the Agg canvas: no pyplot, no change of the user's backend
            from matplotlib.backends.backend_agg import FigureCanvasAgg
            from matplotlib.figure import Figure
            from matplotlib.ticker import MaxNLocator
        except ImportError:
            raise ImportError("History.plot needs matplotlib, an optional dependency: "
                              "pip install fastnn[plot]") from None
        base = [k for k in self.history if not k.startswith("val_") and k != "lr"]
        if keys is not None:
            base = [k for k in keys if k in self.history]
        if not base:
            raise ValueError("History.plot: nothing to plot (no epochs recorded)")
        fig = Figure(figsize=(5 * len(base), 3.6))
        FigureCanvasAgg(fig)
        axes = fig.subplots(1, len(base), squeeze=False)
        for ax, k in zip(axes[0], base):
            xs = [e + 1 for e in self.epoch] or list(range(1, len(self.history[k]) + 1))
            ax.plot(xs[:len(self.history[k])], self.history[k], marker="o", label=k)
            if "val_" + k in self.history:
                v = self.history["val_" + k]
                ax.plot(xs[:len(v)], v, marker="o", label="val_" + k)
            ax.set_xlabel("epoch")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_title(k)
            ax.grid(alpha=0.3)
            ax.legend()
        fig.tight_layout()
        fig.savefig(path, format="png", dpi=100)
        return path
