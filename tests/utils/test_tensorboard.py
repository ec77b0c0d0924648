"""utils.tensorboard.SummaryWriter: the event files it writes decode as
TensorBoard decodes them (TFRecord framing with masked CRC-32C, the
protocol-buffer Event / Summary messages), with PyTorch's tags, steps,
directory layout, histogram buckets and image conversion.  (Checked by
hand against torch.utils.tensorboard's files, which need the tensorboard
package; where it is installed the last test reads both with it.)"""
import os
import struct
import zlib

import numpy as np
import pytest

import fastnn
from fastnn.utils.tensorboard import SummaryWriter
from fastnn.utils.tensorboard import _record as R


def _varint(b, i):
    n = shift = 0
    while True:
        c = b[i]
        i += 1
        n |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return n, i


def _fields(b):
    """{field: [values]} of one message (varints as ints, 64/32-bit as bytes)."""
    out, i = {}, 0
    while i < len(b):
        key, i = _varint(b, i)
        f, wire = key >> 3, key & 7
        if wire == 0:
            v, i = _varint(b, i)
        elif wire == 1:
            v, i = b[i:i + 8], i + 8
        elif wire == 5:
            v, i = b[i:i + 4], i + 4
        else:
            n, i = _varint(b, i)
            v, i = b[i:i + n], i + n
        out.setdefault(f, []).append(v)
    return out


def _events(path):
    data = open(path, "rb").read()
    i, out = 0, []
    while i < len(data):
        head = data[i:i + 8]
        (n,) = struct.unpack("<Q", head)
        assert struct.unpack("<I", data[i + 8:i + 12])[0] == R.masked_crc32c(head)
        body = data[i + 12:i + 12 + n]
        assert struct.unpack("<I", data[i + 12 + n:i + 16 + n])[0] == R.masked_crc32c(body)
        out.append(_fields(body))
        i += 16 + n
    return out


def _event_file(d):
    names = [f for f in os.listdir(d) if f.startswith("events.out.tfevents.")]
    assert len(names) == 1
    return os.path.join(d, names[0])


def _scalars(d):
    out = {}
    for ev in _events(_event_file(d))[1:]:
        for v in _fields(ev[5][0])[1]:
            fv = _fields(v)
            if 2 in fv:
                out.setdefault(fv[1][0].decode(), []).append(
                    (ev[2][0], struct.unpack("<f", fv[2][0])[0]))
    return out


def test_crc32c_known_value():
    assert R.crc32c(b"123456789") == 0xE3069283


def test_scalars_and_file_layout(tmp_path):
    with SummaryWriter(str(tmp_path / "run")) as w:
        for step in range(4):
            w.add_scalar("train/loss", fastnn.tensor(1.0 / (step + 1)), step)
            w.add_scalars("acc", {"train": step * 0.5, "val": step * 0.25}, step)
    d = str(tmp_path / "run")
    first = _events(_event_file(d))[0]
    assert first[3] == [b"brain.Event:2"]
    assert _scalars(d) == {"train/loss": [(s, pytest.approx(1.0 / (s + 1))) for s in range(4)]}
    assert sorted(x for x in os.listdir(d) if os.path.isdir(os.path.join(d, x))) == \
        ["acc_train", "acc_val"]
    assert _scalars(os.path.join(d, "acc_val")) == {"acc": [(s, s * 0.25) for s in range(4)]}


def test_default_log_dir_and_comment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    w = SummaryWriter(comment="_lr0.1")
    w.close()
    (name,) = os.listdir(tmp_path / "runs")
    assert name.endswith("_lr0.1") and w.get_logdir() == os.path.join("runs", name)


def test_histogram_buckets_as_pytorch(tmp_path):
    """PyTorch's default 'tensorflow' buckets: the support's right edges
    plus an empty bucket on the left; min, max, num, sum, sum of squares."""
    v = np.array([-1.0, 0.5, 0.5, 2.0])
    with SummaryWriter(str(tmp_path)) as w:
        w.add_histogram("h", v, 7)
    ev = _events(_event_file(str(tmp_path)))[1]
    val = _fields(_fields(ev[5][0])[1][0])
    h = _fields(val[5][0])
    dbl = [struct.unpack("<d", h[k][0])[0] for k in (1, 2, 3, 4, 5)]
    assert dbl == [-1.0, 2.0, 4.0, 2.0, 5.5] and ev[2] == [7]
    limits = np.frombuffer(h[6][0], "<f8")
    counts = np.frombuffer(h[7][0], "<f8")
    bins = w.default_bins
    want_counts, want_limits = np.histogram(v, bins=bins)
    nz = np.flatnonzero(want_counts)
    assert counts.sum() == 4 and counts[0] == 0
    np.testing.assert_allclose(limits, want_limits[nz[0]:nz[-1] + 2])
    assert len(bins) == 2 * len([b for b in bins if b > 0]) + 1


def test_text_and_images(tmp_path):
    img = np.linspace(0, 1, 2 * 3).reshape(1, 2, 3).astype(np.float32)
    with SummaryWriter(str(tmp_path)) as w:
        w.add_text("note", "hello", 1)
        w.add_image("grey", img, 2)
        w.add_images("batch", np.ones((10, 3, 2, 2), np.float32), 3)
    evs = _events(_event_file(str(tmp_path)))[1:]
    text = _fields(_fields(evs[0][5][0])[1][0])
    assert text[1] == [b"note/text_summary"] and _fields(text[8][0])[8] == [b"hello"]
    im = _fields(_fields(_fields(evs[1][5][0])[1][0])[4][0])
    assert (im[1], im[2], im[3]) == ([2], [3], [3])          # h, w, grey as RGB
    png = im[4][0]
    assert png.startswith(b"\x89PNG")
    raw = zlib.decompress(png[png.index(b"IDAT") + 4:png.index(b"IEND") - 8])
    rows = np.frombuffer(raw, np.uint8).reshape(2, 1 + 9)[:, 1:].reshape(2, 3, 3)
    want = (img[0] * np.float32(255)).clip(0, 255).astype(np.uint8)   # truncated, as PyTorch
    np.testing.assert_array_equal(rows[..., 0], want)
    grid = _fields(_fields(_fields(evs[2][5][0])[1][0])[4][0])
    assert (grid[1], grid[2]) == ([4], [16])                 # rows of up to 8 images


def test_unsupported_and_closed(tmp_path):
    w = SummaryWriter(str(tmp_path))
    with pytest.warns(UserWarning, match="add_graph"):
        w.add_graph(fastnn.nn.Linear(2, 2))
    with pytest.raises(NotImplementedError):
        w.add_hparams({"lr": 0.1}, {"acc": 1.0})
    w.close()
    w.add_scalar("after_close", 1.0, 0)             # reopens, as PyTorch's writer
    w.close()


def test_tensorboard_reads_the_files(tmp_path):
    ea_mod = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    with SummaryWriter(str(tmp_path)) as w:
        w.add_scalar("loss", 0.5, 3)
        w.add_histogram("w", np.arange(10.0), 3)
    ea = ea_mod.EventAccumulator(str(tmp_path))
    ea.Reload()
    assert [(e.step, e.value) for e in ea.Scalars("loss")] == [(3, 0.5)]
    assert ea.Histograms("w")[0].histogram_value.num == 10
