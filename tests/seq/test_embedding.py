"""Embedding and EmbeddingBag against PyTorch: lookups, dense gradients
(padding_idx, scale_grad_by_freq), max_norm renormalisation, bags (sum with
per-sample weights, mean, max, 2-D input, include_last_offset), from_pretrained,
errors; the gradient does not depend on the thread count."""
import numpy as np
import pytest

import fastnn
import fastnn.nn as fnn
import fastnn.nn.functional as F
from fastnn import _core


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("pad", [None, 3, -1])
@pytest.mark.parametrize("freq", [False, True])
def test_embedding_matches_torch(torch, H, dtype, pad, freq):
    tdt = torch.float64 if dtype == np.float64 else torch.float32
    r = np.random.default_rng(0)
    w = r.standard_normal((10, 6)).astype(dtype)
    idx = np.array([[1, 2, 3, 9], [3, 3, 2, 0]])
    tw, fw = torch.tensor(w, requires_grad=True), fastnn.tensor(w, requires_grad=True)
    a = torch.nn.functional.embedding(torch.tensor(idx), tw, padding_idx=pad,
                                      scale_grad_by_freq=freq)
    b = F.embedding(fastnn.tensor(idx), fw, padding_idx=pad, scale_grad_by_freq=freq)
    assert tuple(b.shape) == (2, 4, 6)
    H.close(a, b, dtype)
    g = r.standard_normal(a.shape).astype(dtype)
    (a * torch.tensor(g, dtype=tdt)).sum().backward()
    (b * fastnn.tensor(g)).sum().backward()
    H.close(tw.grad, fw.grad, dtype)


def test_embedding_max_norm_renormalises_in_place(torch):
    r = np.random.default_rng(1)
    w = r.standard_normal((8, 4)) * 3
    idx = np.array([1, 5, 5, 7])
    tw, fw = torch.tensor(w.copy()), fastnn.tensor(w.copy())
    for nt in (2.0, 1.0):
        a = torch.nn.functional.embedding(torch.tensor(idx), tw, max_norm=1.5, norm_type=nt)
        b = F.embedding(fastnn.tensor(idx), fw, max_norm=1.5, norm_type=nt)
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-12)
        np.testing.assert_allclose(fw.numpy(), tw.numpy(), rtol=1e-12)
    assert np.array_equal(fw.numpy()[0], w[0])        # rows not looked up are untouched


def test_embedding_module(torch, H):
    tm = torch.nn.Embedding(10, 4, padding_idx=2)
    fm = fnn.Embedding(10, 4, padding_idx=2)
    assert np.all(fm.weight.detach().numpy()[2] == 0)
    assert list(fm.state_dict()) == ["weight"]
    H.load(tm, fm, np.float32)
    idx = np.array([[2, 3], [9, 2]])
    H.close(tm(torch.tensor(idx)), fm(fastnn.tensor(idx)), np.float32)
    assert repr(fm) == "Embedding(10, 4, padding_idx=2)"
    from fastnn.nn.modules.sparse import Embedding
    assert Embedding is fnn.Embedding


def test_from_pretrained():
    w = fastnn.tensor(np.arange(12, dtype=np.float32).reshape(4, 3))
    e = fnn.Embedding.from_pretrained(w)
    assert not e.weight.requires_grad
    assert np.array_equal(e(fastnn.tensor([3])).numpy(), [[9, 10, 11]])
    e2 = fnn.Embedding.from_pretrained(w, freeze=False, padding_idx=0)
    assert e2.weight.requires_grad and e2.padding_idx == 0
    with pytest.raises(AssertionError):
        fnn.Embedding.from_pretrained(fastnn.zeros(3))


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("pad", [None, 2])
def test_embedding_bag_matches_torch(torch, H, mode, pad):
    r = np.random.default_rng(2)
    w = r.standard_normal((10, 5))
    tw, fw = torch.tensor(w, requires_grad=True), fastnn.tensor(w, requires_grad=True)
    idx = np.array([1, 2, 4, 5, 4, 3, 2, 9, 2])
    offs = np.array([0, 4, 4, 7])
    psw = r.standard_normal(9) if mode == "sum" else None
    tp = torch.tensor(psw, requires_grad=True) if psw is not None else None
    fp = fastnn.tensor(psw, requires_grad=True) if psw is not None else None
    a = torch.nn.functional.embedding_bag(torch.tensor(idx), tw, torch.tensor(offs), mode=mode,
                                          padding_idx=pad, per_sample_weights=tp)
    b = F.embedding_bag(fastnn.tensor(idx), fw, fastnn.tensor(offs), mode=mode,
                        padding_idx=pad, per_sample_weights=fp)
    H.close(a, b, np.float64)
    g = r.standard_normal(a.shape)
    (a * torch.tensor(g)).sum().backward()
    (b * fastnn.tensor(g)).sum().backward()
    H.close(tw.grad, fw.grad, np.float64)
    if tp is not None:
        H.close(tp.grad, fp.grad, np.float64)


def test_embedding_bag_2d_and_last_offset_and_module(torch, H):
    tm = torch.nn.EmbeddingBag(10, 3, mode="sum", include_last_offset=True)
    fm = H.load(tm, fnn.EmbeddingBag(10, 3, mode="sum", include_last_offset=True), np.float32)
    idx, offs = np.array([1, 2, 4, 5, 4]), np.array([0, 2, 5])
    H.close(tm(torch.tensor(idx), torch.tensor(offs)), fm(fastnn.tensor(idx), fastnn.tensor(offs)),
            np.float32)
    tm2 = torch.nn.EmbeddingBag(10, 3)
    fm2 = H.load(tm2, fnn.EmbeddingBag(10, 3), np.float32)
    idx2 = np.array([[1, 2, 3], [4, 4, 9]])
    H.close(tm2(torch.tensor(idx2)), fm2(fastnn.tensor(idx2)), np.float32)


def test_embedding_errors():
    w = fastnn.randn(5, 3)
    with pytest.raises(IndexError, match="out of range"):
        F.embedding(fastnn.tensor([0, 5]), w)
    with pytest.raises(IndexError):
        F.embedding(fastnn.tensor([-1]), w)
    with pytest.raises(TypeError, match="Long, Int"):
        F.embedding(fastnn.tensor([0.0, 1.0]), w)
    with pytest.raises(ValueError, match="Padding_idx"):
        F.embedding(fastnn.tensor([0]), w, padding_idx=7)
    with pytest.raises(ValueError, match="offsets\\[0\\]"):
        F.embedding_bag(fastnn.tensor([0, 1]), w, fastnn.tensor([1]))
    with pytest.raises(ValueError, match="offsets has to be None"):
        F.embedding_bag(fastnn.tensor([[0, 1]]), w, fastnn.tensor([0]))
    with pytest.raises(NotImplementedError, match="per_sample_weights"):
        F.embedding_bag(fastnn.tensor([0, 1]), w, fastnn.tensor([0]), mode="mean",
                        per_sample_weights=fastnn.ones(2))
    with pytest.raises(IndexError):
        F.embedding_bag(fastnn.tensor([0, 9]), w, fastnn.tensor([0]))
    with pytest.raises(AssertionError):
        fnn.Embedding(4, 2, padding_idx=4)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradient_threads_bitwise(dtype):
    r = np.random.default_rng(4)
    n, num, D = 1200, 50, 128              # n * D above the serial cut-off
    idx = r.integers(0, num, n).astype(np.int64)
    dy = r.standard_normal((n, D)).astype(dtype)
    outs = [_core.embedding_bwd(idx, dy, np.empty((num, D), dtype), 3, None, nt)
            for nt in (1, 2)]
    assert np.array_equal(outs[0], outs[1])
    ref = np.zeros((num, D))
    np.add.at(ref, idx, dy.astype(np.float64))
    ref[3] = 0
    np.testing.assert_allclose(outs[0], ref, rtol=1e-4, atol=1e-4)
    offs = np.arange(0, n + 1, 12, dtype=np.int64)
    bags = [_core.embedding_bag_bwd(idx, offs, None, 1, -1, None,
                                    dy[:len(offs) - 1].copy(), np.empty((num, D), dtype), nt)
            for nt in (1, 2)]
    assert np.array_equal(bags[0], bags[1])


def test_gradcheck_embedding_and_bags():
    fastnn.manual_seed(0)
    w = fastnn.randn(6, 3, dtype="float64", requires_grad=True)
    idx = fastnn.tensor([[1, 2, 2], [5, 0, 1]])
    assert fastnn.gradcheck(lambda w: F.embedding(idx, w) ** 2, [w])   # (padding_idx: no grad)
    flat, offs = fastnn.tensor([1, 2, 4, 5, 4, 3]), fastnn.tensor([0, 2, 2])
    psw = fastnn.randn(6, dtype="float64", requires_grad=True)
    assert fastnn.gradcheck(lambda w, p: F.embedding_bag(flat, w, offs, mode="sum",
                                                         per_sample_weights=p) ** 2, [w, psw])
    for mode in ("mean", "max"):
        assert fastnn.gradcheck(lambda w: F.embedding_bag(flat, w, offs, mode=mode) ** 2, [w])


def test_shipped_corpus_is_the_grammar_output():
    from fastnn.data.corpus import load_tiny_tales, make_tiny_tales
    text = load_tiny_tales()
    assert 250_000 < len(text) < 400_000
    assert text == make_tiny_tales()
    assert text.startswith("The ") and "\" said " in text


@pytest.mark.parametrize("case", ["embedding", "embedding_bag", "module", "one_hot",
                                  "cross_entropy", "nll_loss"])
def test_float_indices_raise_runtime_error_as_torch(torch, case):
    # PyTorch raises RuntimeError for float indices and float class targets
    # (fastnn's error is a TypeError too): `except RuntimeError` catches both
    def make(lib):
        Fl = lib.nn.functional
        w, i = lib.zeros(5, 3), lib.zeros(2, 3)
        {"embedding": lambda: Fl.embedding(i, w),
         "embedding_bag": lambda: Fl.embedding_bag(i, w),
         "module": lambda: lib.nn.Embedding(5, 3)(i),
         "one_hot": lambda: Fl.one_hot(lib.zeros(3)),
         "cross_entropy": lambda: Fl.cross_entropy(lib.zeros(3, 4), lib.zeros(3)),
         "nll_loss": lambda: Fl.nll_loss(lib.zeros(3, 4), lib.zeros(3))}[case]()
    with pytest.raises(RuntimeError):
        make(torch)
    with pytest.raises(RuntimeError):
        make(fastnn)
    with pytest.raises(TypeError):
        make(fastnn)


@pytest.mark.parametrize("case", ["first_offset", "out_of_range", "negative"])
def test_embedding_bag_bad_indices_raise_runtime_error_as_torch(torch, case):
    def make(lib):
        w = lib.zeros(5, 3)
        idx, offs = {"first_offset": ([1, 2], [1]), "out_of_range": ([1, 9], [0]),
                     "negative": ([1, -1], [0])}[case]
        lib.nn.functional.embedding_bag(lib.tensor(idx), w, lib.tensor(offs))
    with pytest.raises(RuntimeError):
        make(torch)
    with pytest.raises(RuntimeError, match="offsets\\[0\\]|valid range"):
        make(fastnn)


def test_embedding_bag_include_last_offset_must_end_at_the_indices():
    # PyTorch's result is undefined when the last offset is not the number of
    # indices; fastnn says why instead of a status code from the core
    w = fastnn.randn(5, 3)
    with pytest.raises(ValueError, match="last offset .* must equal the number of indices"):
        F.embedding_bag(fastnn.tensor([1, 2, 3]), w, fastnn.tensor([0, 1, 2]),
                        include_last_offset=True)
    out = F.embedding_bag(fastnn.tensor([1, 2, 3]), w, fastnn.tensor([0, 1, 3]),
                          include_last_offset=True)
    assert out.shape == (2, 3)


def test_embedding_bag_2d_input_with_2d_per_sample_weights(torch, H):
    # fixed-size bags (2-D input) take per_sample_weights of the input's
    # shape, as PyTorch (fastnn demanded a 1-D (B*L,) tensor)
    w = np.random.default_rng(0).standard_normal((6, 3))
    idx = np.array([[0, 1, 5], [1, 3, 3]])
    ps = np.array([[1.0, 2.0, -1.0], [3.0, 0.5, 4.0]])
    outs = []
    for lib in (torch, fastnn):
        tw, tp = lib.tensor(w, requires_grad=True), lib.tensor(ps, requires_grad=True)
        o = lib.nn.functional.embedding_bag(lib.tensor(idx), tw, mode="sum", per_sample_weights=tp)
        (o * o).sum().backward()
        outs.append((o, tw.grad, tp.grad))
    for a, b in zip(*outs):
        H.close(a, b, np.float64)
    with pytest.raises(ValueError, match="same shape as the input"):
        F.embedding_bag(fastnn.tensor(idx), fastnn.tensor(w), mode="sum",
                        per_sample_weights=fastnn.ones(6, dtype=fastnn.float64))
