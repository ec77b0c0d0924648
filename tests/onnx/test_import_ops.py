"""The import table, operator by operator: one-node (or few-node) ONNX
graphs built with onnx.helper, run by ONNX Runtime and by the imported
fastnn module; the outputs must agree (float32: 1e-5)."""
import numpy as np
import pytest

import fastnn

from ._util import onnx, randn, session

helper, TP, nph = onnx.helper, onnx.TensorProto, onnx.numpy_helper


def _const(name, value, dtype=np.int64):
    return nph.from_array(np.asarray(value, dtype=dtype), name)


def graph(nodes, inputs, inits=(), opset=17, n_out=1):
    """A model of ``nodes`` over float inputs {name: shape}; outputs y0.. ."""
    ins = [helper.make_tensor_value_info(n, TP.FLOAT if a.dtype.kind == "f" else
                                         (TP.BOOL if a.dtype == np.bool_ else TP.INT64),
                                         list(a.shape)) for n, a in inputs.items()]
    outs = [onnx.ValueInfoProto(name=f"y{i}" if n_out > 1 else "y") for i in range(n_out)]
    g = helper.make_graph(nodes, "t", ins, outs, list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    inferred = onnx.shape_inference.infer_shapes(m, strict_mode=True)
    for o, io in zip(m.graph.output, inferred.graph.output):
        o.CopyFrom(io)
    return m


def run_both(model, inputs, atol=1e-5):
    data = model.SerializeToString()
    ref = session(data).run(None, inputs)
    mod = fastnn.onnx.import_model(data).eval()
    with fastnn.no_grad():
        got = mod(*[fastnn.tensor(v) for v in inputs.values()])
    got = got if isinstance(got, tuple) else (got,)
    assert len(got) == len(ref)
    for r, g in zip(ref, got):
        g = g.detach().numpy()
        assert g.shape == r.shape, (g.shape, r.shape)
        if r.dtype.kind == "f":
            np.testing.assert_allclose(g, r, rtol=1e-5, atol=atol)
        else:
            np.testing.assert_array_equal(g, r)


X = randn(2, 3, 6, 7)
V = randn(2, 5)


def one(op, attrs=None, extra=(), inits=(), x=None, opset=17, n_out=1):
    """(model, inputs) of a single ``op`` node on input x plus constant inputs."""
    x = X if x is None else x
    outs = ["y"] if n_out == 1 else [f"y{i}" for i in range(n_out)]
    node = helper.make_node(op, ["x", *extra], outs, **(attrs or {}))
    return graph([node], {"x": x}, inits, opset, n_out), {"x": x}


CASES = {
    "gemm_trans_alpha": lambda: (graph(
        [helper.make_node("Gemm", ["a", "b", "c"], ["y"], transA=1, alpha=0.5, beta=2.0)],
        {"a": randn(4, 3), "b": randn(4, 5)}, [nph.from_array(randn(1, 5), "c")]),
        {"a": randn(4, 3), "b": randn(4, 5)}),
    "matmul_batched": lambda: (graph([helper.make_node("MatMul", ["a", "b"], ["y"])],
                                     {"a": randn(2, 3, 4), "b": randn(4, 5)}),
                               {"a": randn(2, 3, 4), "b": randn(4, 5)}),
    "pad_constant": lambda: one("Pad", extra=["p", "v"], inits=[
        _const("p", [0, 0, 1, 2, 0, 0, 2, 1]), _const("v", 1.5, np.float32)]),
    "pad_reflect": lambda: one("Pad", {"mode": "reflect"}, ["p"],
                               [_const("p", [0, 0, 2, 1, 0, 0, 1, 3])]),
    "pad_edge_axes": lambda: one("Pad", {"mode": "edge"}, ["p", "", "ax"],
                                 [_const("p", [2, 1, 0, 3]), _const("ax", [2, -1])], opset=18),
    "pad_wrap": lambda: one("Pad", {"mode": "wrap"}, ["p"],
                            [_const("p", [0, 0, 1, 2, 0, 0, 2, 1])], opset=19),
    "pad_crop": lambda: one("Pad", extra=["p"], inits=[_const("p", [0, 0, -1, 2, 0, 0, 1, -2])]),
    "slice_steps": lambda: one("Slice", extra=["s", "e", "a", "st"], inits=[
        _const("s", [5, 1]), _const("e", [-100, 6]), _const("a", [3, 2]), _const("st", [-2, 2])]),
    "split_outputs": lambda: one("Split", {"axis": 3, "num_outputs": 3}, opset=18, n_out=3),
    "split_sizes": lambda: one("Split", {"axis": 2}, ["s"], [_const("s", [1, 5])], n_out=2),
    "reduce_mean_attr": lambda: one("ReduceMean", {"axes": [1, 3], "keepdims": 0}),
    "reduce_max_input": lambda: one("ReduceMax", {"keepdims": 1}, ["a"], [_const("a", [-1])],
                                    opset=18),
    "reduce_sum_all": lambda: one("ReduceSum", {"keepdims": 0}),
    "reduce_l2": lambda: one("ReduceL2", {"axes": [2]}),
    "reduce_logsumexp": lambda: one("ReduceLogSumExp", {"axes": [1]}),
    "reduce_prod": lambda: one("ReduceProd", {"axes": [1, 2]}, x=randn(2, 3, 2) * 0.5 + 1),
    "reduce_sumsquare": lambda: one("ReduceSumSquare", {"axes": [3]}),
    "argmax_last": lambda: one("ArgMax", {"axis": 1, "keepdims": 0, "select_last_index": 1},
                               x=np.round(X)),
    "argmin": lambda: one("ArgMin", {"axis": -1}),
    "cumsum_excl_rev": lambda: one("CumSum", {"exclusive": 1, "reverse": 1}, ["a"],
                                   [_const("a", 2)]),
    "depth_to_space_dcr": lambda: one("DepthToSpace", {"blocksize": 2}, x=randn(2, 8, 3, 4)),
    "depth_to_space_crd": lambda: one("DepthToSpace", {"blocksize": 2, "mode": "CRD"},
                                      x=randn(2, 8, 3, 4)),
    "space_to_depth": lambda: one("SpaceToDepth", {"blocksize": 2}, x=randn(2, 3, 4, 6)),
    "trilu": lambda: one("Trilu", {"upper": 0}, ["k"], [_const("k", 1)]),
    "tile": lambda: one("Tile", extra=["r"], inits=[_const("r", [1, 2, 1, 3])]),
    "expand": lambda: one("Expand", extra=["s"], inits=[_const("s", [3, 1, 1, 1, 1])]),
    "transpose": lambda: one("Transpose", {"perm": [0, 2, 3, 1]}),
    "flatten": lambda: one("Flatten", {"axis": 2}),
    "squeeze_unsqueeze": lambda: (graph([
        helper.make_node("Unsqueeze", ["x", "a"], ["u"]),
        helper.make_node("Squeeze", ["u", "b"], ["y"])], {"x": X},
        [_const("a", [0, 5]), _const("b", [0])]), {"x": X}),
    "shape_gather_reshape": lambda: (graph([
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("Gather", ["s", "i"], ["d"], axis=0),
        helper.make_node("Concat", ["d", "m"], ["t"], axis=0),
        helper.make_node("Reshape", ["x", "t"], ["y"])], {"x": X},
        [_const("i", [0]), _const("m", [-1])]), {"x": X}),
    "gather_elements": lambda: one("GatherElements", {"axis": 1}, ["i"],
                                   [_const("i", [[1, 0, 4], [2, 2, 0]])], x=V),
    "gather_scalar": lambda: one("Gather", {"axis": 2}, ["i"], [_const("i", -1)]),
    "where_compare": lambda: (graph([
        helper.make_node("Greater", ["x", "z"], ["c"]),
        helper.make_node("Not", ["c"], ["n"]),
        helper.make_node("Where", ["n", "x", "z"], ["y"])], {"x": V},
        [nph.from_array(np.zeros(5, np.float32), "z")]), {"x": V}),
    "constant_of_shape_range": lambda: (graph([
        helper.make_node("Range", ["a", "b", "c"], ["r"]),
        helper.make_node("Cast", ["r"], ["rf"], to=TP.FLOAT),
        helper.make_node("ConstantOfShape", ["s"], ["z"],
                         value=nph.from_array(np.array([2.0], np.float32))),
        helper.make_node("Add", ["z", "rf"], ["t"]),
        helper.make_node("Mul", ["x", "t"], ["y"])], {"x": V},
        [_const("a", 0), _const("b", 5), _const("c", 1), _const("s", [2, 5])]), {"x": V}),
    "clip": lambda: one("Clip", extra=["lo", "hi"],
                        inits=[_const("lo", -0.5, np.float32), _const("hi", 0.3, np.float32)]),
    "softmax_axis": lambda: one("Softmax", {"axis": 1}),
    "logsoftmax": lambda: one("LogSoftmax"),
    "hardsigmoid_general": lambda: one("HardSigmoid", {"alpha": 0.3, "beta": 0.4}),
    "selu_general": lambda: one("Selu", {"alpha": 1.2, "gamma": 0.9}),
    "thresholded_relu": lambda: one("ThresholdedRelu", {"alpha": 0.5}),
    "prelu_broadcast": lambda: one("PRelu", extra=["s"],
                                   inits=[nph.from_array(randn(3, 1, 1), "s")]),
    "prelu_elementwise": lambda: one("PRelu", extra=["s"], inits=[nph.from_array(randn(7), "s")]),
    "mean_sum_max": lambda: (graph([
        helper.make_node("Mean", ["x", "x2", "x"], ["a"]),
        helper.make_node("Sum", ["a", "x2"], ["b"]),
        helper.make_node("Max", ["b", "x"], ["y"])], {"x": V, "x2": randn(1, 5)}),
        {"x": V, "x2": randn(1, 5)}),
    "div_int": lambda: (graph([helper.make_node("Div", ["a", "b"], ["y"])],
                              {"a": np.array([7, -7, 6], np.int64)},
                              [_const("b", [2, 2, -4])]), {"a": np.array([7, -7, 6], np.int64)}),
    "resize_nearest_scales": lambda: one("Resize", {"mode": "nearest",
                                                    "coordinate_transformation_mode":
                                                    "asymmetric", "nearest_mode": "floor"},
                                         ["", "s"], [_const("s", [1, 1, 2, 1.5], np.float32)]),
    "resize_linear_sizes": lambda: one("Resize", {"mode": "linear",
                                                  "coordinate_transformation_mode":
                                                  "pytorch_half_pixel"}, ["", "", "s"],
                                       [_const("s", [2, 3, 9, 5])]),
    "resize_align_corners": lambda: one("Resize", {"mode": "linear",
                                                   "coordinate_transformation_mode":
                                                   "align_corners"}, ["", "", "s"],
                                        [_const("s", [2, 3, 11, 13])]),
    "conv_same_upper": lambda: one("Conv", {"auto_pad": "SAME_UPPER", "strides": [2, 2]}, ["w"],
                                   [nph.from_array(randn(4, 3, 2, 2), "w")]),
    "conv_asym_pads": lambda: one("Conv", {"pads": [0, 1, 2, 0]}, ["w", "b"],
                                  [nph.from_array(randn(4, 3, 3, 3), "w"),
                                   nph.from_array(randn(4), "b")]),
    "conv_1d": lambda: one("Conv", {"pads": [1, 1], "strides": [2]}, ["w"],
                           [nph.from_array(randn(4, 3, 3), "w")], x=randn(2, 3, 9)),
    "maxpool_asym": lambda: one("MaxPool", {"kernel_shape": [3, 2], "pads": [1, 0, 2, 1],
                                            "strides": [2, 1]}),
    "maxpool_1d": lambda: one("MaxPool", {"kernel_shape": [3], "strides": [2]},
                              x=randn(2, 3, 9)),
    "avgpool_exclude_pad": lambda: one("AveragePool", {"kernel_shape": [3, 3],
                                                       "pads": [1, 1, 1, 1], "strides": [2, 2]}),
    "avgpool_asym_exclude": lambda: one("AveragePool", {"kernel_shape": [2, 3],
                                                        "pads": [0, 2, 1, 0]}),
    "avgpool_include_pad": lambda: one("AveragePool", {"kernel_shape": [3, 3],
                                                       "pads": [1, 1, 1, 1],
                                                       "count_include_pad": 1}),
    "global_pools": lambda: (graph([
        helper.make_node("GlobalAveragePool", ["x"], ["a"]),
        helper.make_node("GlobalMaxPool", ["x"], ["b"]),
        helper.make_node("Add", ["a", "b"], ["y"])], {"x": X}), {"x": X}),
    "instance_norm": lambda: one("InstanceNormalization", {"epsilon": 1e-3}, ["s", "b"],
                                 [nph.from_array(randn(3), "s"), nph.from_array(randn(3), "b")]),
    "group_norm_18": lambda: one("GroupNormalization", {"num_groups": 2, "epsilon": 1e-4},
                                 ["s", "b"], [nph.from_array(randn(2), "s"),
                                              nph.from_array(randn(2), "b")],
                                 x=randn(2, 4, 3, 3), opset=18),
    "group_norm_21": lambda: one("GroupNormalization", {"num_groups": 2}, ["s", "b"],
                                 [nph.from_array(randn(4), "s"), nph.from_array(randn(4), "b")],
                                 x=randn(2, 4, 3, 3), opset=21),
    "layer_norm_axis": lambda: one("LayerNormalization", {"axis": 2, "epsilon": 1e-3},
                                   ["s", "b"], [nph.from_array(randn(6, 7), "s"),
                                                nph.from_array(randn(6, 7), "b")]),
    "lrn": lambda: one("LRN", {"size": 3, "alpha": 1e-3, "beta": 0.7, "bias": 1.5}),
    "einsum": lambda: (graph([helper.make_node("Einsum", ["a", "b"], ["y"],
                                               equation="bij,bkj->bik")],
                             {"a": randn(2, 3, 4), "b": randn(2, 5, 4)}),
                       {"a": randn(2, 3, 4), "b": randn(2, 5, 4)}),
    "topk": lambda: one("TopK", {"axis": 1}, ["k"], [_const("k", [2])], x=V, n_out=2),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_import_op(name):
    model, inputs = CASES[name]()
    run_both(model, inputs)


def test_imported_graph_differentiates_through_shape_ops():
    model, inputs = CASES["pad_reflect"]()
    mod = fastnn.onnx.import_model(model.SerializeToString())
    x = fastnn.tensor(inputs["x"], requires_grad=True)
    mod(x).sum().backward()
    # every input pixel is counted once, plus once for each reflected copy
    assert x.grad.numpy().min() >= 1 and x.grad.numpy().sum() > x.detach().numpy().size
