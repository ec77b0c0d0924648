"""Real datasets: the bundled 8x8 digits, MNIST and CIFAR-10.

``load_digits`` reads the copy of the UCI "Optical Recognition of Handwritten
Digits" test set (1,797 images, as distributed with scikit-learn under BSD-3,
see ``README.md`` next to this file) that ships inside the package, so it
works offline.

``load_mnist`` and ``load_cifar10`` download the official archives once into
a cache directory, verify their checksums, and parse the IDX format and the
CIFAR-10 *binary* version.  Nothing is ever unpickled.  Download locations can
be overridden (for mirrors, or for tests with a local server or ``file://``
URLs) with the ``mirrors``/``url`` arguments or the ``FASTNN_MNIST_MIRRORS``
(comma-separated base URLs) and ``FASTNN_CIFAR10_URL`` environment variables.
"""
import io
import os
import shutil
import tempfile

import numpy as np

from .. import _config

# gzip, hashlib, tarfile and urllib.request (which pulls in ssl, http and
# email) are imported inside the functions that use them: they cost more to
# import than the rest of fastnn, and ``import fastnn`` must stay light.

__all__ = ["load_digits", "load_mnist", "load_cifar10", "read_idx", "read_cifar10_binary",
           "default_cache_dir", "ChecksumError"]

_HERE = os.path.dirname(os.path.abspath(__file__))


class ChecksumError(ValueError):
    """A downloaded or cached file does not match its published checksum."""


def default_cache_dir():
    """``$FASTNN_DATA`` or ``$XDG_CACHE_HOME/fastnn`` or ``~/.cache/fastnn``
    (read when called, by fastnn._config's rule, so it can change at run time)."""
    default = os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "fastnn")
    return _config.parse("path", "FASTNN_DATA", default)


# ---------------------------------------------------------------- digits
def load_digits():
    """The 1,797 real 8x8 handwritten digits (UCI / scikit-learn), bundled.

    Returns
    -------
    images : ndarray, float32, shape (1797, 1, 8, 8)
        Pixel values 0..16.
    labels : ndarray, int64, shape (1797,)
        Classes 0..9.

    Examples
    --------
    >>> from fastnn.data import load_digits
    >>> x, y = load_digits()
    >>> x.shape, y.dtype.name, int(x.max())
    ((1797, 1, 8, 8), 'int64', 16)
    """
    with np.load(os.path.join(_HERE, "digits.npz"), allow_pickle=False) as z:
        images = z["images"].astype(np.float32).reshape(-1, 1, 8, 8)
        labels = z["labels"].astype(np.int64)
    return images, labels


# ---------------------------------------------------------------- parsers
_IDX_DTYPES = {0x08: np.dtype(np.uint8), 0x09: np.dtype(np.int8), 0x0B: np.dtype(">i2"),
               0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def _raw_bytes(src):
    """The bytes of src: bytes-like as given, else the contents of the file."""
    if isinstance(src, (bytes, bytearray, memoryview)):
        return bytes(src)
    with open(src, "rb") as f:
        return f.read()


def _read_bytes(src):
    raw = _raw_bytes(src)
    if raw[:2] == b"\x1f\x8b":
        import gzip
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as e:
            where = src if isinstance(src, (str, os.PathLike)) else "input"
            raise ValueError(f"read_idx: corrupted gzip data in {where}: {e}") from None
    return raw


def read_idx(src):
    """Parses an IDX file (as used by MNIST), optionally gzip-compressed.

    Parameters
    ----------
    src : str, path-like or bytes
        File name or the file's bytes.

    Returns
    -------
    ndarray
        Native-endian array with the shape stored in the header.
    """
    raw = _read_bytes(src)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError("read_idx: not an IDX file (bad magic number)")
    code, ndim = raw[2], raw[3]
    if code not in _IDX_DTYPES:
        raise ValueError(f"read_idx: unknown IDX data type code 0x{code:02x}")
    hdr = 4 + 4 * ndim
    if len(raw) < hdr:
        raise ValueError("read_idx: truncated IDX header")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dt = _IDX_DTYPES[code]
    n = int(np.prod(shape, dtype=np.int64)) if shape else 1
    if len(raw) - hdr != n * dt.itemsize:
        raise ValueError(f"read_idx: IDX payload has {len(raw) - hdr} bytes, the header "
                         f"{shape} needs {n * dt.itemsize} (truncated or corrupted file)")
    arr = np.frombuffer(raw, dtype=dt, count=n, offset=hdr).reshape(shape)
    return arr.astype(dt.newbyteorder("="))


_CIFAR_REC = 1 + 3 * 32 * 32


def read_cifar10_binary(src):
    """Parses a CIFAR-10 binary batch: records of 1 label byte + 3072 pixel bytes.

    Returns
    -------
    images : ndarray, uint8, shape (N, 3, 32, 32)
    labels : ndarray, int64, shape (N,)
    """
    raw = _raw_bytes(src)
    if len(raw) == 0 or len(raw) % _CIFAR_REC:
        raise ValueError(f"read_cifar10_binary: {len(raw)} bytes is not a whole number of "
                         f"{_CIFAR_REC}-byte records (truncated or not a CIFAR-10 binary batch)")
    recs = np.frombuffer(raw, dtype=np.uint8).reshape(-1, _CIFAR_REC)
    labels = recs[:, 0].astype(np.int64)
    if labels.max() > 9:
        raise ValueError(f"read_cifar10_binary: label {int(labels.max())} out of range 0..9 "
                         "(not a CIFAR-10 binary batch?)")
    return recs[:, 1:].reshape(-1, 3, 32, 32).copy(), labels


# --------------------------------------------------------------- download
def _hash_file(path, algo):
    import hashlib
    h = hashlib.new(algo)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _verify(path, checksum):
    """checksum: 'md5:<hex>' / 'sha256:<hex>' or a bare hex (length picks the algorithm)."""
    if checksum is None:
        return True
    algo, _, digest = checksum.rpartition(":")
    algo = algo or ("md5" if len(digest) == 32 else "sha256")
    return _hash_file(path, algo) == digest.lower()


def _download(urls, dest, checksum, timeout=60):
    """Fetches the first URL that works into ``dest`` (atomically) and verifies it."""
    d = os.path.dirname(dest)
    os.makedirs(d, exist_ok=True)
    import urllib.request
    errors = []
    for url in urls:
        fd, tmp = tempfile.mkstemp(prefix=".part-", dir=d)
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as r:
                shutil.copyfileobj(r, out, 1 << 20)
        except (OSError, ValueError) as e:
            errors.append(f"{url}: {e}")
            os.unlink(tmp)
            continue
        if not _verify(tmp, checksum):
            os.unlink(tmp)
            raise ChecksumError(f"checksum mismatch for {url}: expected {checksum}; the "
                                "downloaded file was removed (corrupted download or wrong "
                                "mirror)")
        os.replace(tmp, dest)
        return dest
    raise OSError(f"could not download {os.path.basename(dest)}:\n  " + "\n  ".join(errors))


def _fetch(name, cache, urls, checksum, download):
    path = os.path.join(cache, name)
    if os.path.exists(path):
        if _verify(path, checksum):
            return path
        os.remove(path)
        if not download:
            raise ChecksumError(f"checksum mismatch for cached file {path} (removed); call "
                                "again with download=True to fetch it again")
    elif not download:
        raise FileNotFoundError(f"{path} not found and download=False")
    return _download(urls, path, checksum)


def _join(base, name):
    return base + name if base.endswith("/") else base + "/" + name


# ------------------------------------------------------------------ MNIST
MNIST_MIRRORS = ("https://ossci-datasets.s3.amazonaws.com/mnist/",
                 "http://yann.lecun.com/exdb/mnist/")
MNIST_FILES = {
    "train-images-idx3-ubyte.gz": "md5:f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "md5:d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "md5:9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "md5:ec29112dd5afa0611ce80d1b7f02629c",
}


def load_mnist(root=None, train=True, download=True, mirrors=None, checksums=None):
    """MNIST handwritten digits (downloaded once, checksum-verified, IDX parsed).

    Parameters
    ----------
    root : str, optional
        Cache directory (default ``default_cache_dir()``); files go in ``root/mnist``.
    train : bool
        The 60,000 training images, or the 10,000 test images.
    download : bool
        Fetch missing files; otherwise a missing file raises FileNotFoundError.
    mirrors : sequence of str, optional
        Base URLs tried in order (``http(s)://`` or ``file://``); default
        ``$FASTNN_MNIST_MIRRORS`` (comma-separated) or the official mirrors.
    checksums : dict, optional
        File name -> ``'md5:...'``/``'sha256:...'``, overriding the official ones.

    Returns
    -------
    images : ndarray, float32, shape (N, 1, 28, 28), values in [0, 1]
    labels : ndarray, int64, shape (N,)
    """
    cache = os.path.join(root or default_cache_dir(), "mnist")
    if mirrors is None:
        mirrors = _config.parse("list", "FASTNN_MNIST_MIRRORS", None) or MNIST_MIRRORS
    elif isinstance(mirrors, str):
        mirrors = [mirrors]
    sums = dict(MNIST_FILES, **(checksums or {}))
    prefix = "train" if train else "t10k"
    paths = {}
    for kind, tag in (("images", "idx3"), ("labels", "idx1")):
        name = f"{prefix}-{kind}-{tag}-ubyte.gz"
        paths[kind] = _fetch(name, cache, [_join(m, name) for m in mirrors], sums[name],
                             download)
    images, labels = read_idx(paths["images"]), read_idx(paths["labels"])
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise ValueError(f"load_mnist: unexpected shapes {images.shape} and {labels.shape}")
    x = images.astype(np.float32)[:, None]
    x /= 255.0
    return x, labels.astype(np.int64)


# --------------------------------------------------------------- CIFAR-10
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
CIFAR10_CHECKSUM = "md5:c32a1d4ab5d03f1284b67883e8d87530"
_CIFAR_DIR = "cifar-10-batches-bin"
_CIFAR_TRAIN = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
_CIFAR_TEST = ("test_batch.bin",)


def _extract_cifar(archive, out_dir):
    """Extracts only the six expected regular files (no path traversal)."""
    import tarfile
    wanted = {f"{_CIFAR_DIR}/{n}": n for n in _CIFAR_TRAIN + _CIFAR_TEST}
    os.makedirs(out_dir, exist_ok=True)
    found = set()
    try:
        with tarfile.open(archive, "r:gz") as tf:
            for m in tf:
                if m.name in wanted and m.isreg():
                    src = tf.extractfile(m)
                    dest = os.path.join(out_dir, wanted[m.name])
                    fd, tmp = tempfile.mkstemp(prefix=".part-", dir=out_dir)
                    with os.fdopen(fd, "wb") as out:
                        shutil.copyfileobj(src, out, 1 << 20)
                    os.replace(tmp, dest)
                    found.add(m.name)
    except (tarfile.TarError, EOFError, OSError) as e:
        raise ValueError(f"load_cifar10: corrupted archive {archive}: {e}") from None
    missing = sorted(set(wanted) - found)
    if missing:
        raise ValueError(f"load_cifar10: archive {archive} lacks {', '.join(missing)}")


def load_cifar10(root=None, train=True, download=True, url=None, checksum=None):
    """CIFAR-10 from the official *binary* archive (never the pickled version).

    Parameters
    ----------
    root : str, optional
        Cache directory (default ``default_cache_dir()``); files go in ``root/cifar10``.
    train : bool
        The 50,000 training images (5 batches) or the 10,000 test images.
    download : bool
        Fetch the archive when it is missing.
    url : str, optional
        Archive URL (``http(s)://`` or ``file://``); default ``$FASTNN_CIFAR10_URL``
        or the official one.
    checksum : str, optional
        ``'md5:...'``/``'sha256:...'`` of the archive, overriding the official MD5.

    Returns
    -------
    images : ndarray, float32, shape (N, 3, 32, 32), values in [0, 1]
    labels : ndarray, int64, shape (N,)
    """
    cache = os.path.join(root or default_cache_dir(), "cifar10")
    url = url or _config.parse("str", "FASTNN_CIFAR10_URL", None) or CIFAR10_URL
    checksum = checksum or CIFAR10_CHECKSUM
    names = _CIFAR_TRAIN if train else _CIFAR_TEST
    bin_dir = os.path.join(cache, _CIFAR_DIR)
    stamp = os.path.join(bin_dir, ".verified")
    stamp_ok = False
    if os.path.exists(stamp):
        with open(stamp) as f:
            stamp_ok = f.read().strip() == checksum
    if not (stamp_ok and all(os.path.exists(os.path.join(bin_dir, n)) for n in names)):
        archive = _fetch("cifar-10-binary.tar.gz", cache, [url], checksum, download)
        _extract_cifar(archive, bin_dir)
        with open(stamp, "w") as f:
            f.write(checksum)
    xs, ys = [], []
    for n in names:
        x, y = read_cifar10_binary(os.path.join(bin_dir, n))
        xs.append(x)
        ys.append(y)
    x = np.concatenate(xs).astype(np.float32)
    x /= 255.0
    return x, np.concatenate(ys)
