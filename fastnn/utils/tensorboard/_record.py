"""The bytes TensorBoard reads, written without TensorFlow or protobuf: the
protocol-buffer wire format for the few messages a ``SummaryWriter`` emits
(``Event``, ``Summary``, ``HistogramProto``, ``Image``, ``TensorProto``),
and the TFRecord framing of an event file (length, masked CRC-32C of the
length, data, masked CRC-32C of the data).  Field numbers are those of
TensorFlow's ``event.proto`` / ``summary.proto``."""
import struct
import zlib

import numpy as np

# ----------------------------------------------------------- CRC-32C


def _crc_table():
    poly = 0x82F63B78                   # Castagnoli, reflected
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc_table()


def crc32c(data):
    c = 0xFFFFFFFF
    t = _TABLE
    for b in data:
        c = t[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def masked_crc32c(data):
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def tfrecord(data):
    """One TFRecord: the framing TensorBoard's reader checks."""
    head = struct.pack("<Q", len(data))
    return (head + struct.pack("<I", masked_crc32c(head)) + data +
            struct.pack("<I", masked_crc32c(data)))


# -------------------------------------------------------- wire format


def _varint(n):
    n &= (1 << 64) - 1                  # negative int64 as two's complement
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _key(field, wire):
    return _varint((field << 3) | wire)


def f_varint(field, n):
    return _key(field, 0) + _varint(int(n))


def f_double(field, x):
    return _key(field, 1) + struct.pack("<d", float(x))


def f_float(field, x):
    return _key(field, 5) + struct.pack("<f", float(x))


def f_bytes(field, b):
    if isinstance(b, str):
        b = b.encode("utf-8")
    return _key(field, 2) + _varint(len(b)) + b


def f_packed_doubles(field, xs):
    return f_bytes(field, np.asarray(xs, dtype="<f8").tobytes())


# ----------------------------------------------------------- messages


def event(wall_time, step=None, file_version=None, summary=None):
    """``Event``: wall_time 1, step 2, file_version 3, summary 5."""
    out = f_double(1, wall_time)
    if step is not None:
        out += f_varint(2, step)
    if file_version is not None:
        out += f_bytes(3, file_version)
    if summary is not None:
        out += f_bytes(5, summary)
    return out


def summary(*values):
    """``Summary``: repeated Value value = 1."""
    return b"".join(f_bytes(1, v) for v in values)


def value_scalar(tag, x):
    """``Summary.Value``: tag 1, simple_value 2."""
    return f_bytes(1, tag) + f_float(2, x)


def value_histo(tag, histo):
    return f_bytes(1, tag) + f_bytes(5, histo)


def value_image(tag, height, width, colorspace, png):
    img = f_varint(1, height) + f_varint(2, width) + f_varint(3, colorspace) + f_bytes(4, png)
    return f_bytes(1, tag) + f_bytes(4, img)


def value_text(tag, text):
    """A text summary as TensorBoard's text plugin stores it: a DT_STRING
    tensor of shape [1] with the plugin's metadata."""
    metadata = f_bytes(1, f_bytes(1, "text") + f_bytes(2, b""))   # plugin_data
    shape = f_bytes(2, f_varint(1, 1))                           # dim { size: 1 }
    tensor = f_varint(1, 7) + f_bytes(2, shape) + f_bytes(8, text)  # DT_STRING = 7
    return f_bytes(1, tag) + f_bytes(9, metadata) + f_bytes(8, tensor)


def histogram(mn, mx, num, total, sum_squares, limits, counts):
    """``HistogramProto``: min 1, max 2, num 3, sum 4, sum_squares 5,
    bucket_limit 6, bucket 7 (packed doubles)."""
    return (f_double(1, mn) + f_double(2, mx) + f_double(3, num) + f_double(4, total) +
            f_double(5, sum_squares) + f_packed_doubles(6, limits) +
            f_packed_doubles(7, counts))


def png(image):
    """A PNG file of an (H, W, C) uint8 array, C in 1, 3, 4 (no filtering)."""
    h, w, c = image.shape
    color = {1: 0, 3: 2, 4: 6}[c]
    raw = b"".join(b"\x00" + image[i].tobytes() for i in range(h))

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, color, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
