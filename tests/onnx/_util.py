"""Helpers of the ONNX tests: export a model, run it in ONNX Runtime at two
batch sizes (one dynamic axis), import it back, compare everything with
fastnn's own outputs.  The tests skip when onnx or onnxruntime is absent."""
import io

import numpy as np
import pytest

import fastnn
import fastnn.nn as nn

onnx = pytest.importorskip("onnx", reason="onnx is not installed (pip install 'fastnn[onnx]')")
ort = pytest.importorskip("onnxruntime",
                          reason="onnxruntime is not installed (pip install 'fastnn[onnx]')")

ATOL = RTOL = 1e-5


class Fn(nn.Module):
    """A module running ``f(*inputs)`` (functional ops under test), holding
    the given submodules / parameters."""

    def __init__(self, f, **parts):
        super().__init__()
        self.f = f
        for k, v in parts.items():
            setattr(self, k, v)

    def forward(self, *xs):
        return self.f(self, *xs)


def session(data, threads=1):
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    return ort.InferenceSession(data, so, providers=["CPUExecutionProvider"])


def _np(t):
    return t.detach().numpy() if isinstance(t, fastnn.Tensor) else np.asarray(t)


def _flat(out):
    if out is None:
        return []
    if isinstance(out, (tuple, list)):
        return [o for x in out for o in _flat(x)]
    return [out]


def export_bytes(model, inputs, dynamic=True, opset=17, **kw):
    names = [f"in{i}" for i in range(len(inputs))]
    f = io.BytesIO()
    dyn = {n: {0: "batch"} for n in names} if dynamic else None
    fastnn.onnx.export(model, tuple(fastnn.tensor(a) for a in inputs), f, input_names=names,
                       dynamic_axes=dyn, opset_version=opset, **kw)
    return f.getvalue(), names


def check(model, make_inputs, batches=(2, 5), opset=17, atol=ATOL, rtol=RTOL,
          check_import=True, dynamic=True):
    """Exports model (eval) with a dynamic batch axis on every input; ONNX
    Runtime's outputs and the re-imported model's outputs must match
    fastnn's for inputs of each batch size.  Returns the ModelProto."""
    model.eval()
    data, names = export_bytes(model, make_inputs(batches[0]), dynamic, opset)
    proto = onnx.load_from_string(data)
    onnx.checker.check_model(proto, full_check=True)
    sess = session(data)
    imported = fastnn.onnx.import_model(data).eval() if check_import else None
    for b in (batches if dynamic else batches[:1]):
        xs = make_inputs(b)
        with fastnn.no_grad():
            ref = [_np(o) for o in _flat(model(*[fastnn.tensor(a) for a in xs]))]
        got = sess.run(None, dict(zip(names, xs)))
        assert len(got) == len(ref)
        for r, o in zip(ref, got):
            assert o.shape == r.shape, (o.shape, r.shape)
            np.testing.assert_allclose(o, r, rtol=rtol, atol=atol)
        if imported is not None:
            with fastnn.no_grad():
                back = [_np(o) for o in _flat(imported(*xs))]
            for r, o in zip(ref, back):
                np.testing.assert_allclose(o, r, rtol=rtol, atol=atol)
    return proto


def randn(*shape, seed=0, scale=1.0):
    return (np.random.default_rng(seed + sum(shape)).standard_normal(shape) *
            scale).astype(np.float32)


def op_types(proto):
    return [n.op_type for n in proto.graph.node]
