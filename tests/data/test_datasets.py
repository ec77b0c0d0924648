import gzip
import hashlib
import http.server
import io
import os
import tarfile
import threading

import numpy as np
import pytest

from fastnn.data import (ChecksumError, load_cifar10, load_digits, load_mnist,
                         read_cifar10_binary, read_idx)


def test_digits_shape_dtype_values():
    x, y = load_digits()
    assert x.shape == (1797, 1, 8, 8) and x.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert x.min() == 0 and x.max() == 16
    np.testing.assert_array_equal(x, np.round(x))
    np.testing.assert_array_equal(np.bincount(y), [178, 182, 177, 183, 181, 182, 181, 179,
                                                   174, 180])
    # The first sample of the UCI/scikit-learn set is a zero.
    assert y[0] == 0
    np.testing.assert_array_equal(x[0, 0, 0], [0, 0, 5, 13, 9, 1, 0, 0])


def test_digits_match_sklearn_when_installed():
    datasets = pytest.importorskip("sklearn.datasets")
    d = datasets.load_digits()
    x, y = load_digits()
    np.testing.assert_array_equal(x.reshape(1797, 64), d.data)
    np.testing.assert_array_equal(y, d.target)


# ---------------------------------------------------------------- IDX
def _idx(arr, code=0x08):
    arr = np.asarray(arr)
    hdr = bytes([0, 0, code, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    return hdr + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def test_read_idx_formats(tmp_path):
    imgs = np.random.default_rng(0).integers(0, 256, size=(4, 28, 28), dtype=np.uint8)
    p = tmp_path / "imgs.gz"
    p.write_bytes(gzip.compress(_idx(imgs)))
    np.testing.assert_array_equal(read_idx(str(p)), imgs)
    ints = np.array([[1, -2], [300000, 4]], dtype=np.int32)
    np.testing.assert_array_equal(read_idx(_idx(ints, 0x0C)), ints)
    f = np.array([1.5, -2.25], dtype=np.float32)
    np.testing.assert_array_equal(read_idx(_idx(f, 0x0D)), f)


def test_read_idx_rejects_bad_files():
    good = _idx(np.zeros((2, 3), np.uint8))
    with pytest.raises(ValueError, match="truncated"):
        read_idx(good[:-1])
    with pytest.raises(ValueError, match="magic"):
        read_idx(b"\x01\x02\x08\x01" + good[4:])
    with pytest.raises(ValueError, match="type code"):
        read_idx(b"\x00\x00\x07\x01" + good[4:])


# ---------------------------------------------------------------- CIFAR binary
def _cifar_records(n, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, size=n).astype(np.uint8)
    pix = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
    return np.concatenate([labels[:, None], pix], 1).tobytes(), labels, pix


def test_read_cifar10_binary(tmp_path):
    raw, labels, pix = _cifar_records(5, 0)
    p = tmp_path / "b.bin"
    p.write_bytes(raw)
    x, y = read_cifar10_binary(str(p))
    assert x.shape == (5, 3, 32, 32) and x.dtype == np.uint8
    np.testing.assert_array_equal(y, labels)
    # channel-major: the first 1024 bytes are red, row by row
    np.testing.assert_array_equal(x[2, 0, 1], pix[2, 32:64])
    np.testing.assert_array_equal(x[2, 2, 31], pix[2, 3072 - 32:])
    with pytest.raises(ValueError, match="records"):
        read_cifar10_binary(raw[:-5])


# ---------------------------------------------------------------- downloads
def _mnist_files(d, n=6):
    rng = np.random.default_rng(1)
    out = {}
    for prefix, m in (("train", n), ("t10k", n - 2)):
        imgs = rng.integers(0, 256, size=(m, 28, 28), dtype=np.uint8)
        labs = rng.integers(0, 10, size=m).astype(np.uint8)
        for name, arr in ((f"{prefix}-images-idx3-ubyte.gz", imgs),
                          (f"{prefix}-labels-idx1-ubyte.gz", labs)):
            data = gzip.compress(_idx(arr))
            (d / name).write_bytes(data)
            out[name] = (arr, "sha256:" + hashlib.sha256(data).hexdigest())
    return out


class _Server:
    """A tiny HTTP server on 127.0.0.1 serving one directory, stopped on exit."""

    def __init__(self, directory):
        handler = lambda *a, **k: _Quiet(*a, directory=str(directory), **k)  # noqa: E731
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.timeout = 5
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.requests = 0

    def __enter__(self):
        self.thread.start()
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_mnist_download_over_http_and_cache(tmp_path):
    srv_dir = tmp_path / "srv"
    srv_dir.mkdir()
    files = _mnist_files(srv_dir)
    sums = {k: v[1] for k, v in files.items()}
    cache = tmp_path / "cache"
    with _Server(srv_dir) as url:
        x, y = load_mnist(str(cache), train=True, mirrors=["http://127.0.0.1:1/nothing/", url],
                          checksums=sums)
    assert x.shape == (6, 1, 28, 28) and x.dtype == np.float32 and y.dtype == np.int64
    imgs = files["train-images-idx3-ubyte.gz"][0]
    np.testing.assert_allclose(x[:, 0], imgs / 255.0, rtol=1e-6)
    assert 0.0 <= x.min() and x.max() <= 1.0
    np.testing.assert_array_equal(y, files["train-labels-idx1-ubyte.gz"][0])
    assert (cache / "mnist" / "train-images-idx3-ubyte.gz").exists()
    # Served from the cache now: no server, no download allowed.
    x2, _ = load_mnist(str(cache), train=True, download=False, checksums=sums)
    np.testing.assert_array_equal(x, x2)


def test_mnist_file_url_and_test_split(tmp_path):
    srv_dir = tmp_path / "srv"
    srv_dir.mkdir()
    files = _mnist_files(srv_dir)
    sums = {k: v[1] for k, v in files.items()}
    x, y = load_mnist(str(tmp_path / "c"), train=False, mirrors=srv_dir.as_uri() + "/",
                      checksums=sums)
    assert x.shape == (4, 1, 28, 28)
    np.testing.assert_array_equal(y, files["t10k-labels-idx1-ubyte.gz"][0])


def test_mnist_env_var_mirror(tmp_path, monkeypatch):
    srv_dir = tmp_path / "srv"
    srv_dir.mkdir()
    files = _mnist_files(srv_dir)
    monkeypatch.setenv("FASTNN_MNIST_MIRRORS", srv_dir.as_uri() + "/")
    x, _ = load_mnist(str(tmp_path / "c"), checksums={k: v[1] for k, v in files.items()})
    assert len(x) == 6


def test_checksum_mismatch_removes_file(tmp_path):
    srv_dir = tmp_path / "srv"
    srv_dir.mkdir()
    _mnist_files(srv_dir)
    cache = tmp_path / "c"
    # The official MD5s do not match the test's files.
    with pytest.raises(ChecksumError, match="checksum mismatch"):
        load_mnist(str(cache), mirrors=srv_dir.as_uri() + "/")
    leftovers = list((cache / "mnist").iterdir()) if (cache / "mnist").exists() else []
    assert leftovers == []
    assert issubclass(ChecksumError, ValueError)


def test_corrupted_cached_file_is_detected(tmp_path):
    srv_dir = tmp_path / "srv"
    srv_dir.mkdir()
    files = _mnist_files(srv_dir)
    sums = {k: v[1] for k, v in files.items()}
    cache = tmp_path / "c"
    load_mnist(str(cache), mirrors=srv_dir.as_uri() + "/", checksums=sums)
    f = cache / "mnist" / "train-images-idx3-ubyte.gz"
    f.write_bytes(f.read_bytes()[:-10])
    with pytest.raises(ChecksumError):
        load_mnist(str(cache), download=False, checksums=sums)
    assert not f.exists()
    # With download=True the damaged file is fetched again.
    x, _ = load_mnist(str(cache), mirrors=srv_dir.as_uri() + "/", checksums=sums)
    assert len(x) == 6


def test_missing_file_without_download(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_mnist(str(tmp_path), download=False)
    with pytest.raises(FileNotFoundError):
        load_cifar10(str(tmp_path), download=False)


def test_unreachable_mirror_raises_oserror(tmp_path):
    with pytest.raises(OSError, match="could not download"):
        load_mnist(str(tmp_path), mirrors=(tmp_path / "nope").as_uri() + "/")


def _cifar_archive(path):
    parts = {}
    with tarfile.open(path, "w:gz") as tf:
        for i, name in enumerate([f"data_batch_{k}.bin" for k in range(1, 6)] +
                                 ["test_batch.bin"]):
            raw, labels, pix = _cifar_records(3 if name != "test_batch.bin" else 2, 10 + i)
            info = tarfile.TarInfo("cifar-10-batches-bin/" + name)
            info.size = len(raw)
            tf.addfile(info, io.BytesIO(raw))
            parts[name] = (labels, pix)
        info = tarfile.TarInfo("cifar-10-batches-bin/batches.meta.txt")
        info.size = 3
        tf.addfile(info, io.BytesIO(b"cat"))
    return parts


def test_cifar10_download_http_and_parse(tmp_path):
    srv_dir = tmp_path / "srv"
    srv_dir.mkdir()
    arch = srv_dir / "cifar-10-binary.tar.gz"
    parts = _cifar_archive(arch)
    md5 = "md5:" + hashlib.md5(arch.read_bytes()).hexdigest()
    cache = tmp_path / "c"
    with _Server(srv_dir) as url:
        x, y = load_cifar10(str(cache), train=True, url=url + "cifar-10-binary.tar.gz",
                            checksum=md5)
    assert x.shape == (15, 3, 32, 32) and x.dtype == np.float32 and y.dtype == np.int64
    want_y = np.concatenate([parts[f"data_batch_{k}.bin"][0] for k in range(1, 6)])
    np.testing.assert_array_equal(y, want_y)
    np.testing.assert_allclose(x[0].reshape(-1), parts["data_batch_1.bin"][1][0] / 255.0,
                               rtol=1e-6)
    xt, yt = load_cifar10(str(cache), train=False, download=False, checksum=md5)
    assert xt.shape == (2, 3, 32, 32)
    np.testing.assert_array_equal(yt, parts["test_batch.bin"][0])


def test_cifar10_checksum_mismatch_file_url(tmp_path, monkeypatch):
    arch = tmp_path / "cifar-10-binary.tar.gz"
    _cifar_archive(arch)
    monkeypatch.setenv("FASTNN_CIFAR10_URL", arch.as_uri())
    cache = tmp_path / "c"
    with pytest.raises(ChecksumError, match="mismatch"):
        load_cifar10(str(cache))     # official MD5 vs the test's archive
    assert not (cache / "cifar10" / "cifar-10-binary.tar.gz").exists()
    sha = "sha256:" + hashlib.sha256(arch.read_bytes()).hexdigest()
    x, _ = load_cifar10(str(cache), checksum=sha)
    assert x.shape == (15, 3, 32, 32)
