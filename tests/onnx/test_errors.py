"""Clear errors: ops with no export, graphs a recording cannot express,
and corrupt or hostile ONNX files (truncated, wrong opset, unknown ops,
huge declared shapes, external data outside the model's directory), which
must fail fast with OnnxImportError, never crash, hang or allocate."""
import io
import os

import numpy as np
import pytest

import fastnn
import fastnn.nn as nn
import fastnn.nn.functional as F
from fastnn.onnx import OnnxExporterError, OnnxImportError, UnsupportedOperatorError

from ._util import Fn, export_bytes, onnx, randn

helper, TP = onnx.helper, onnx.TensorProto


def _export(model, *xs, **kw):
    f = io.BytesIO()
    fastnn.onnx.export(model, tuple(fastnn.tensor(x) for x in xs), f, **kw)
    return f.getvalue()


# ------------------------------------------------------------------ export
def test_unsupported_ops_are_all_named():
    model = Fn(lambda s, x: x.cumprod(-1) + F.l1_loss(x, x * 2.0))
    with pytest.raises(UnsupportedOperatorError) as e:
        _export(model, randn(2, 3))
    msg = str(e.value)
    assert "CumprodFn" in msg and "PointwiseLossFn" in msg and "test_errors.py" in msg


def test_user_function_is_looked_through():
    class Swish(fastnn.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * fastnn.sigmoid(x)

        @staticmethod
        def backward(ctx, g):
            raise NotImplementedError

    model = Fn(lambda s, x: Swish.apply(s.lin(x)), lin=nn.Linear(3, 2))
    data = _export(model, randn(2, 3))
    types = [n.op_type for n in onnx.load_from_string(data).graph.node]
    assert types == ["Gemm", "Sigmoid", "Mul"]


def test_user_function_on_arrays_is_an_error():
    class Opaque(fastnn.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return fastnn.tensor(np.tanh(x.detach().numpy()))

        @staticmethod
        def backward(ctx, g):
            return g

    with pytest.raises(OnnxExporterError):
        _export(Fn(lambda s, x: Opaque.apply(x * 2.0) + 1.0), randn(2, 3))


def test_value_dependent_control_flow_is_an_error():
    model = Fn(lambda s, x: x.exp() if x.max().item() > 1.0 else -x)
    with pytest.raises(OnnxExporterError, match="control flow"):
        _export(model, np.ones((2, 10), np.float32))


def test_size_dependent_control_flow_is_an_error():
    model = Fn(lambda s, x: x.exp() if x.shape[0] > 2 else -x)
    with pytest.raises(OnnxExporterError, match="control flow"):
        _export(model, randn(2, 3), dynamic_axes={"input": {0: "b"}})


def test_constant_computed_from_the_input_is_an_error():
    model = Fn(lambda s, x: x + float(x.mean().item()))
    with pytest.raises(OnnxExporterError, match="changed with the input"):
        _export(model, randn(2, 3))


def test_batch_dependent_zeros_become_constant_of_shape():
    model = Fn(lambda s, x: fastnn.cat([x, fastnn.zeros(x.shape[0], 2)], dim=1))
    data = _export(model, randn(2, 3), dynamic_axes={"input": {0: "b"}})
    proto = onnx.load_from_string(data)
    assert "ConstantOfShape" in [n.op_type for n in proto.graph.node]
    from ._util import session
    out = session(data).run(None, {"input": randn(6, 3)})[0]
    assert out.shape == (6, 5) and np.all(out[:, 3:] == 0)


def test_dropout_in_training_mode_is_an_error():
    with pytest.raises(OnnxExporterError, match="training"):
        _export(Fn(lambda s, x: F.dropout(x, 0.5, training=True)), randn(2, 3))


def test_max_pool_indices_are_an_error():
    with pytest.raises(OnnxExporterError, match="return_indices"):
        _export(Fn(lambda s, x: F.max_pool2d(x, 2, return_indices=True)[0]),
                randn(1, 1, 4, 4))


def test_bad_arguments():
    with pytest.raises(ValueError, match="opset"):
        _export(nn.ReLU(), randn(2, 3), opset_version=9)
    with pytest.raises(ValueError, match="dynamic_axes"):
        _export(nn.ReLU(), randn(2, 3), dynamic_axes={"x": [0]})
    with pytest.raises(ValueError, match="axis 5"):
        _export(nn.ReLU(), randn(2, 3), dynamic_axes={"input": [5]})
    with pytest.raises(TypeError):
        _export(nn.ReLU(), "not a tensor")


def test_export_without_a_file_returns_the_model():
    proto = fastnn.onnx.export(nn.Linear(3, 2), fastnn.randn(2, 3))
    assert isinstance(proto, onnx.ModelProto) and proto.graph.node[0].op_type == "Gemm"


def test_model_mode_is_restored():
    model = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5)).train()
    _export(model, randn(2, 3))
    assert model.training and model[1].training


def test_torch_style_keywords_are_accepted(tmp_path):
    fastnn.onnx.export(nn.Linear(3, 2), fastnn.randn(2, 3), tmp_path / "m.onnx",
                       export_params=True, verbose=False, training=None,
                       do_constant_folding=True, keep_initializers_as_inputs=False,
                       dynamo=False, input_names=["x"], output_names=["y"],
                       dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
    proto = onnx.load(str(tmp_path / "m.onnx"))
    assert [i.name for i in proto.graph.input] == ["x"]
    assert proto.graph.output[0].type.tensor_type.shape.dim[0].dim_param == "batch"


# ------------------------------------------------------------------ import
def _good():
    data, _ = export_bytes(nn.Sequential(nn.Linear(4, 3), nn.ReLU()), [randn(2, 4)])
    return data


def _model(nodes, inits=(), inputs=None, outputs=None, opset=17):
    inputs = inputs or [helper.make_tensor_value_info("x", TP.FLOAT, [2, 3])]
    outputs = outputs or [helper.make_tensor_value_info("y", TP.FLOAT, None)]
    g = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])


def _bytes(m):
    return m.SerializeToString()


def _raw_tensor(name, dims, raw, dtype=TP.FLOAT):
    """A TensorProto built field by field (helper.make_tensor refuses the
    inconsistent ones these tests need)."""
    t = TP()
    t.name, t.data_type = name, dtype
    t.dims.extend(dims)
    t.raw_data = raw
    return t


@pytest.mark.parametrize("cut", [0.1, 0.5, 0.9, 0.99])
def test_truncated_file(tmp_path, cut):
    data = _good()
    p = tmp_path / "t.onnx"
    p.write_bytes(data[:int(len(data) * cut)])
    with pytest.raises(OnnxImportError):
        fastnn.onnx.load(p)


@pytest.mark.parametrize("seed", range(5))
def test_random_bytes(seed):
    data = np.random.default_rng(seed).integers(0, 256, 2000, dtype=np.uint8).tobytes()
    with pytest.raises(OnnxImportError):
        fastnn.onnx.import_model(data)


def test_empty_missing_and_directory(tmp_path):
    (tmp_path / "e.onnx").write_bytes(b"")
    for p in (tmp_path / "e.onnx", tmp_path / "missing.onnx", tmp_path):
        with pytest.raises(OnnxImportError):
            fastnn.onnx.load(p)


@pytest.mark.parametrize("opset", [9, 12, 22])
def test_wrong_opset(opset):
    m = _model([helper.make_node("Relu", ["x"], ["y"])], opset=opset)
    with pytest.raises(OnnxImportError, match=f"opset {opset}"):
        fastnn.onnx.import_model(_bytes(m))


def test_unknown_ops_are_all_listed():
    nodes = [helper.make_node("FooBar", ["x"], ["a"]),
             helper.make_node("Attention", ["a"], ["b"], domain="com.microsoft"),
             helper.make_node("FooBar", ["b"], ["y"])]
    m = _model(nodes)
    m.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    with pytest.raises(OnnxImportError) as e:
        fastnn.onnx.import_model(_bytes(m))
    assert "FooBar (x2)" in str(e.value) and "com.microsoft::Attention" in str(e.value)


def test_subgraphs_are_refused():
    then = helper.make_graph([helper.make_node("Relu", ["x"], ["t"])], "then", [],
                             [helper.make_tensor_value_info("t", TP.FLOAT, None)])
    node = helper.make_node("If", ["c"], ["y"], then_branch=then, else_branch=then)
    m = _model([node], inputs=[helper.make_tensor_value_info("c", TP.BOOL, [])])
    with pytest.raises(OnnxImportError, match="If"):
        fastnn.onnx.import_model(_bytes(m))


def test_undefined_inputs_and_cycles():
    nodes = [helper.make_node("Relu", ["z"], ["a"]), helper.make_node("Relu", ["a"], ["z"]),
             helper.make_node("Relu", ["x"], ["y"])]
    with pytest.raises(OnnxImportError, match="'z'"):
        fastnn.onnx.import_model(_bytes(_model(nodes)))


def test_huge_declared_initializer():
    t = _raw_tensor("w", [100000, 100000, 1000], b"\0" * 16)
    m = _model([helper.make_node("Add", ["x", "w"], ["y"])], inits=[t])
    with pytest.raises(OnnxImportError, match="declares shape"):
        fastnn.onnx.import_model(_bytes(m))


def test_initializer_with_less_data_than_declared():
    t = _raw_tensor("w", [3, 4], b"\0" * 16)
    m = _model([helper.make_node("Add", ["x", "w"], ["y"])], inits=[t])
    with pytest.raises(OnnxImportError, match="holds"):
        fastnn.onnx.import_model(_bytes(m))


def test_unsupported_data_types():
    for dtype in (TP.STRING, TP.BFLOAT16, TP.COMPLEX64, TP.UINT64):
        t = _raw_tensor("w", [2], b"\0" * 16, dtype)
        m = _model([helper.make_node("Add", ["x", "w"], ["y"])], inits=[t])
        with pytest.raises(OnnxImportError, match="data type"):
            fastnn.onnx.import_model(_bytes(m))


def test_float16_weights_become_float32():
    w = np.array([1.5, -2.0, 0.25], np.float16)
    m = _model([helper.make_node("Add", ["x", "w"], ["y"])],
               inits=[_raw_tensor("w", [3], w.tobytes(), TP.FLOAT16)])
    model = fastnn.onnx.import_model(_bytes(m))
    assert model.w.dtype == np.float32
    np.testing.assert_array_equal(model(np.zeros((2, 3), np.float32)).detach().numpy()[0], w)


def test_negative_dims():
    t = _raw_tensor("w", [-1, 4], b"")
    m = _model([helper.make_node("Add", ["x", "w"], ["y"])], inits=[t])
    with pytest.raises(OnnxImportError, match="negative"):
        fastnn.onnx.import_model(_bytes(m))


def test_huge_runtime_tensor_is_bounded():
    shape = helper.make_tensor("s", TP.INT64, [3], [1 << 20, 1 << 20, 1 << 10])
    m = _model([helper.make_node("ConstantOfShape", ["s"], ["z"]),
                helper.make_node("Add", ["x", "z"], ["y"])], inits=[shape])
    model = fastnn.onnx.import_model(_bytes(m))
    with pytest.raises(OnnxImportError, match="max_elements"):
        model(randn(2, 3))


def _external_model(tmp_path, location, offset=0, length=48):
    t = _raw_tensor("w", [3, 4], b"")
    t.ClearField("raw_data")
    t.data_location = TP.EXTERNAL
    for k, v in (("location", location), ("offset", str(offset)), ("length", str(length))):
        e = t.external_data.add()
        e.key, e.value = k, v
    m = _model([helper.make_node("MatMul", ["x", "w"], ["y"])], inits=[t])
    p = tmp_path / "m.onnx"
    p.write_bytes(_bytes(m))
    return p


def test_external_data_inside_the_directory(tmp_path):
    w = np.arange(12, dtype=np.float32).reshape(3, 4)
    (tmp_path / "w.bin").write_bytes(b"\0" * 8 + w.tobytes())
    model = fastnn.onnx.load(_external_model(tmp_path, "w.bin", offset=8))
    x = randn(2, 3)
    np.testing.assert_allclose(model(x).detach().numpy(), x @ w, rtol=1e-6)


@pytest.mark.parametrize("location", ["../secret.bin", "/etc/passwd", "sub/../../x.bin",
                                      "C:\\x.bin", "link.bin"])
def test_external_data_outside_the_directory(tmp_path, location):
    inner = tmp_path / "model"
    inner.mkdir()
    (tmp_path / "secret.bin").write_bytes(b"\1" * 48)
    os.symlink(tmp_path / "secret.bin", inner / "link.bin")
    with pytest.raises(OnnxImportError, match="outside the model's directory"):
        fastnn.onnx.load(_external_model(inner, location))


def test_external_data_beyond_its_file(tmp_path):
    (tmp_path / "w.bin").write_bytes(b"\0" * 40)
    with pytest.raises(OnnxImportError, match="needs 48 bytes"):
        fastnn.onnx.load(_external_model(tmp_path, "w.bin"))
    with pytest.raises(OnnxImportError, match="missing"):
        fastnn.onnx.load(_external_model(tmp_path, "nothere.bin"))
    with pytest.raises(OnnxImportError, match="external"):
        fastnn.onnx.import_model(_bytes(onnx.load(str(_external_model(tmp_path, "w.bin")),
                                                  load_external_data=False)))


def test_runtime_errors_name_the_node():
    m = _model([helper.make_node("Reshape", ["x", "s"], ["y"])],
               inits=[helper.make_tensor("s", TP.INT64, [2], [4, 4])])
    with pytest.raises(Exception) as e:
        fastnn.onnx.import_model(_bytes(m))(randn(2, 3))
    assert "Reshape" in "".join(getattr(e.value, "__notes__", [])) + str(e.value)
