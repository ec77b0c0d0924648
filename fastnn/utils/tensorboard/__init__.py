"""``fastnn.utils.tensorboard``: PyTorch's ``SummaryWriter`` for the
training curves scripts log (``torch.utils.tensorboard``), writing
TensorBoard event files itself (no TensorFlow, protobuf or tensorboard
package needed to write them; ``tensorboard --logdir runs`` reads them).

Supported: ``add_scalar``, ``add_scalars`` (one sub-run per key, as
PyTorch's), ``add_histogram`` (PyTorch's default 'tensorflow' buckets, or
NumPy ``bins``), ``add_histogram_raw``, ``add_text``, ``add_image`` /
``add_images`` (PNG), ``flush``, ``close``, the context manager; the default
``runs/<date>_<host><comment>`` directory and the event-file names are
PyTorch's.  ``add_graph`` warns and writes nothing; the other
``add_*`` methods (figures, video, audio, embeddings, meshes, PR curves,
hparams) raise NotImplementedError.

Examples
--------
>>> import tempfile
>>> from fastnn.utils.tensorboard import SummaryWriter
>>> with SummaryWriter(tempfile.mkdtemp()) as w:
...     for step in range(3):
...         w.add_scalar("loss", 1.0 / (step + 1), step)
"""
import os
import socket
import time
import warnings
from datetime import datetime

import numpy as np

from . import _record as R

__all__ = ["SummaryWriter", "FileWriter"]

_COUNTER = [0]


def _np(x):
    """A number, a Tensor (also a torch tensor) or an array as an ndarray."""
    if hasattr(x, "detach"):
        x = x.detach()
    if hasattr(x, "numpy"):
        x = x.numpy()
    return np.asarray(x)


class FileWriter:
    """One event file in ``log_dir`` (created now, with the version record)."""

    def __init__(self, log_dir, max_queue=10, flush_secs=120, filename_suffix=""):
        os.makedirs(log_dir, exist_ok=True)
        self._log_dir = str(log_dir)
        _COUNTER[0] += 1
        name = "events.out.tfevents.%010d.%s.%s.%s%s" % (
            time.time(), socket.gethostname(), os.getpid(), _COUNTER[0], filename_suffix)
        self._path = os.path.join(self._log_dir, name)
        self._file = open(self._path, "wb")
        self._max_queue, self._flush_secs = max_queue, flush_secs
        self._pending, self._last_flush = 0, time.time()
        self.add_event(R.event(time.time(), file_version="brain.Event:2"))
        self.flush()

    def get_logdir(self):
        return self._log_dir

    def add_event(self, event_bytes):
        if self._file is None:
            raise RuntimeError("SummaryWriter: the writer is closed")
        self._file.write(R.tfrecord(event_bytes))
        self._pending += 1
        if self._pending >= self._max_queue or time.time() - self._last_flush >= self._flush_secs:
            self.flush()

    def add_summary(self, summary_bytes, global_step=None, walltime=None):
        walltime = time.time() if walltime is None else walltime
        step = None if global_step is None else int(global_step)
        self.add_event(R.event(walltime, step, summary=summary_bytes))

    def flush(self):
        if self._file is not None:
            self._file.flush()
            self._pending, self._last_flush = 0, time.time()

    def close(self):
        if self._file is not None:
            self._file.close()
            self._file = None


def _default_bins():
    """PyTorch's default histogram buckets ('tensorflow'): +-1e-12 * 1.1**k
    up to 1e20, and 0."""
    v, pos = 1e-12, []
    while v < 1e20:
        pos.append(v)
        v *= 1.1
    return [-b for b in reversed(pos)] + [0] + pos


class SummaryWriter:
    """Writes scalars, histograms, text and images for TensorBoard (see the
    module docstring), PyTorch's arguments and directory layout."""

    def __init__(self, log_dir=None, comment="", purge_step=None, max_queue=10,
                 flush_secs=120, filename_suffix=""):
        if not log_dir:
            now = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", now + "_" + socket.gethostname() + comment)
        self.log_dir = str(log_dir)
        self.purge_step = purge_step
        self.max_queue, self.flush_secs = max_queue, flush_secs
        self.filename_suffix = filename_suffix
        self.file_writer = self.all_writers = None
        self._get_file_writer()
        self.default_bins = _default_bins()

    def _get_file_writer(self):
        if self.all_writers is None or self.file_writer is None:
            self.file_writer = FileWriter(self.log_dir, self.max_queue, self.flush_secs,
                                          self.filename_suffix)
            self.all_writers = {self.file_writer.get_logdir(): self.file_writer}
        return self.file_writer

    def get_logdir(self):
        return self.log_dir

    # ------------------------------------------------------------ scalars
    def add_scalar(self, tag, scalar_value, global_step=None, walltime=None,
                   new_style=False, double_precision=False):
        v = float(_np(scalar_value).reshape(()))
        self._get_file_writer().add_summary(R.summary(R.value_scalar(tag, v)), global_step,
                                            walltime)

    def add_scalars(self, main_tag, tag_scalar_dict, global_step=None, walltime=None):
        """One sub-run per key (``<log_dir>/<main_tag>_<key>``), tag ``main_tag``."""
        walltime = time.time() if walltime is None else walltime
        root = self._get_file_writer().get_logdir()
        for tag, value in tag_scalar_dict.items():
            key = root + "/" + main_tag.replace("/", "_") + "_" + tag
            fw = self.all_writers.get(key)
            if fw is None:
                fw = self.all_writers[key] = FileWriter(key, self.max_queue, self.flush_secs,
                                                        self.filename_suffix)
            fw.add_summary(R.summary(R.value_scalar(main_tag, float(_np(value).reshape(())))),
                           global_step, walltime)

    # --------------------------------------------------------- histograms
    def add_histogram(self, tag, values, global_step=None, bins="tensorflow", walltime=None,
                      max_bins=None):
        if isinstance(bins, str) and bins == "tensorflow":
            bins = self.default_bins
        v = _np(values).astype(float).reshape(-1)
        if v.size == 0:
            raise ValueError("The input has no element.")
        counts, limits = np.histogram(v, bins=bins)
        if max_bins is not None and len(counts) > max_bins:
            sub = len(counts) // max_bins
            if len(counts) % sub:
                counts = np.pad(counts, (0, sub - len(counts) % sub))
            counts = counts.reshape(-1, sub).sum(axis=-1)
            limits = np.concatenate([limits[:-1:sub], limits[-1:]])
        # TensorBoard keeps right bin edges: the support, plus one empty bin left
        cum = np.cumsum(counts > 0)
        start, end = np.searchsorted(cum, [0, cum[-1] - 1], side="right")
        start, end = int(start), int(end) + 1
        counts = counts[start - 1:end] if start > 0 else np.concatenate([[0], counts[:end]])
        limits = limits[start:end + 1]
        histo = R.histogram(v.min(), v.max(), v.size, v.sum(), v.dot(v), limits, counts)
        self._get_file_writer().add_summary(R.summary(R.value_histo(tag, histo)), global_step,
                                            walltime)

    def add_histogram_raw(self, tag, min, max, num, sum, sum_squares, bucket_limits,
                          bucket_counts, global_step=None, walltime=None):
        if len(bucket_limits) != len(bucket_counts):
            raise ValueError("len(bucket_limits) != len(bucket_counts), see the document.")
        histo = R.histogram(min, max, num, sum, sum_squares, bucket_limits, bucket_counts)
        self._get_file_writer().add_summary(R.summary(R.value_histo(tag, histo)), global_step,
                                            walltime)

    # ---------------------------------------------------- text and images
    def add_text(self, tag, text_string, global_step=None, walltime=None):
        self._get_file_writer().add_summary(
            R.summary(R.value_text(tag + "/text_summary", text_string)), global_step, walltime)

    def add_image(self, tag, img_tensor, global_step=None, walltime=None, dataformats="CHW"):
        """``img_tensor`` float in [0, 1] or uint8, laid out as ``dataformats``
        (CHW, HWC or HW); one channel is written as grey RGB."""
        a = _np(img_tensor)
        fmt = dataformats.upper()
        if sorted(fmt) not in (sorted("CHW"), sorted("HW")) or a.ndim != len(fmt):
            raise ValueError(f"add_image: dataformats {dataformats!r} does not match an "
                             f"image of shape {a.shape}")
        if fmt == "HW":
            a = a[:, :, None]
        else:
            a = np.transpose(a, [fmt.index("H"), fmt.index("W"), fmt.index("C")])
        if a.shape[2] == 1:              # grey as RGB, as PyTorch writes it
            a = np.concatenate([a, a, a], 2)
        if a.shape[2] not in (3, 4):
            raise ValueError(f"add_image: {a.shape[2]} channels (1, 3 or 4 expected)")
        # PyTorch's conversion: uint8 as it is, anything else times 255,
        # clipped and truncated
        scale = 1 if a.dtype == np.uint8 else 255
        a = (a.astype(np.float32) * np.float32(scale)).clip(0, 255).astype(np.uint8)
        h, w, c = a.shape
        img = R.png(np.ascontiguousarray(a))
        self._get_file_writer().add_summary(R.summary(R.value_image(tag, h, w, c, img)),
                                            global_step, walltime)

    def add_images(self, tag, img_tensor, global_step=None, walltime=None, dataformats="NCHW"):
        """A batch tiled as PyTorch tiles it: rows of up to 8 images."""
        a = _np(img_tensor)
        fmt = dataformats.upper()
        if a.ndim != 4 or sorted(fmt) != sorted("NCHW"):
            raise ValueError(f"add_images: dataformats {dataformats!r} does not match a "
                             f"batch of shape {a.shape}")
        a = np.transpose(a, [fmt.index(k) for k in "NCHW"])
        if a.shape[1] == 1:
            a = np.concatenate([a, a, a], 1)
        if a.shape[1] != 3:
            raise ValueError(f"add_images: {a.shape[1]} channels (1 or 3 expected)")
        n, c, h, w = a.shape
        cols = min(n, 8)
        rows = int(np.ceil(n / cols))
        grid = np.zeros((c, rows * h, cols * w), a.dtype)
        for i in range(n):
            r, q = divmod(i, cols)
            grid[:, r * h:(r + 1) * h, q * w:(q + 1) * w] = a[i]
        self.add_image(tag, grid, global_step, walltime, "CHW")

    def add_graph(self, model, input_to_model=None, verbose=False, use_strict_trace=True):
        warnings.warn("SummaryWriter.add_graph: fastnn cannot trace a model into a "
                      "TensorBoard graph; nothing was written", UserWarning, stacklevel=2)

    def _unsupported(self, *args, **kwargs):
        raise NotImplementedError("fastnn's SummaryWriter writes scalars, histograms, text and "
                                  "images only")

    add_figure = add_video = add_audio = add_embedding = add_pr_curve = add_pr_curve_raw = \
        add_mesh = add_hparams = add_custom_scalars = add_tensor = add_onnx_graph = \
        add_image_with_boxes = _unsupported

    # ------------------------------------------------------------ closing
    def flush(self):
        for w in (self.all_writers or {}).values():
            w.flush()

    def close(self):
        for w in (self.all_writers or {}).values():
            w.flush()
            w.close()
        self.file_writer = self.all_writers = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
