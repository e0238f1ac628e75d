#!/usr/bin/env python3
"""Writes the small ONNX models that tests/unit/test_onnx.c reads into
tests/onnx/fixtures/. The outputs are committed; rerun this script (needs the
onnx and numpy pip packages) only to change them:

    python3 tests/onnx/make_fixtures.py
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


def model(nodes, inputs, outputs, inits=(), opset=13, name="g", extra_opsets=()):
    graph = helper.make_graph(nodes, name, inputs, outputs, initializer=list(inits))
    opsets = [helper.make_opsetid("", opset)] + [helper.make_opsetid(d, v) for d, v in extra_opsets]
    m = helper.make_model(graph, opset_imports=opsets, producer_name="loom-fixtures")
    m.ir_version = 8
    return m


def save(m, fname):
    with open(os.path.join(OUT, fname), "wb") as f:
        f.write(m.SerializeToString())


def f32(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def typed(name, dtype, dims, field, values):
    """A TensorProto with its payload in the typed repeated field `field`."""
    t = TensorProto()
    t.name, t.data_type = name, dtype
    t.dims.extend(dims)
    getattr(t, field).extend(values)
    return t


def external(name, dims, location, offset, length):
    t = TensorProto()
    t.name, t.data_type = name, TensorProto.FLOAT
    t.dims.extend(dims)
    t.data_location = TensorProto.EXTERNAL
    for k, v in (("location", location), ("offset", str(offset)), ("length", str(length))):
        e = t.external_data.add()
        e.key, e.value = k, v
    return t


def init_forms():
    """Every inline storage form of an initializer, Constant-node forms, and a
    graph input that is also an initializer (a constant)."""
    inits = [
        numpy_helper.from_array(np.array([[1.5, -2.0], [3.25, 4.0]], np.float32), "raw_f32"),
        typed("float_data", TensorProto.FLOAT, [3], "float_data", [0.5, 1.5, -2.5]),
        typed("int64_data", TensorProto.INT64, [2], "int64_data", [-7, 1 << 40]),
        typed("int32_data", TensorProto.INT32, [3], "int32_data", [-1, 0, 123456]),
        typed("double_data", TensorProto.DOUBLE, [2], "double_data", [0.1, -1e300]),
        typed("int8_data", TensorProto.INT8, [2], "int32_data", [-128, 127]),
        typed("uint8_data", TensorProto.UINT8, [2], "int32_data", [0, 255]),
        typed("bool_data", TensorProto.BOOL, [3], "int32_data", [1, 0, 1]),
        numpy_helper.from_array(np.array([7, 8], np.int64), "raw_i64"),
        numpy_helper.from_array(np.array(2.0, np.float32), "in_and_init"),
    ]
    nodes = [
        helper.make_node("Constant", [], ["c_tensor"],
                         value=numpy_helper.from_array(np.array([9, 10], np.int32))),
        helper.make_node("Constant", [], ["c_float"], value_float=0.25),
        helper.make_node("Constant", [], ["c_floats"], value_floats=[1.0, 2.0]),
        helper.make_node("Constant", [], ["c_int"], value_int=-3),
        helper.make_node("Constant", [], ["c_ints"], value_ints=[4, 5, 6]),
        helper.make_node("Mul", ["x", "in_and_init"], ["y"]),
    ]
    outs = [f32("y", [2])] + [
        helper.make_tensor_value_info(n, t, None) for n, t in [
            ("raw_f32", TensorProto.FLOAT), ("float_data", TensorProto.FLOAT),
            ("int64_data", TensorProto.INT64), ("int32_data", TensorProto.INT32),
            ("double_data", TensorProto.DOUBLE), ("int8_data", TensorProto.INT8),
            ("uint8_data", TensorProto.UINT8), ("bool_data", TensorProto.BOOL),
            ("raw_i64", TensorProto.INT64), ("c_tensor", TensorProto.INT32),
            ("c_float", TensorProto.FLOAT), ("c_floats", TensorProto.FLOAT),
            ("c_int", TensorProto.INT64), ("c_ints", TensorProto.INT64)]]
    save(model(nodes, [f32("x", [2]), f32("in_and_init", [])], outs, inits), "init_forms.onnx")


def external_data():
    """Initializers in external.bin: one at an aligned offset (mmapped), one at
    an odd offset (read), and models whose references must be refused."""
    a = np.arange(16, dtype=np.float32)
    b = np.array([-1.0, 2.5, 100.0], np.float32)
    with open(os.path.join(OUT, "external.bin"), "wb") as f:
        f.write(a.tobytes() + b"\0" * 4 + b.tobytes())  # a at 0, b at 68
    x = [f32("x", [3])]
    save(model([helper.make_node("Add", ["x", "b"], ["y"])], x, [f32("y", [3]), f32("a", [16])],
               [external("a", [16], "external.bin", 0, 64), external("b", [3], "external.bin", 68, 12)]),
         "external.onnx")
    save(model([helper.make_node("Add", ["x", "b"], ["y"])], x, [f32("y", [3])],
               [external("b", [3], "../fixtures/external.bin", 0, 12)]), "external_escape.onnx")
    save(model([helper.make_node("Add", ["x", "b"], ["y"])], x, [f32("y", [3])],
               [external("b", [3], "external.bin", 72, 12)]), "external_short.onnx")


def symbolic():
    """Inputs with a dim_param ("batch", shared), and one with an unknown dim."""
    nodes = [helper.make_node("Add", ["x", "x"], ["y"]), helper.make_node("Relu", ["z"], ["w"])]
    ins = [f32("x", ["batch", 3]), f32("z", ["batch", None])]
    save(model(nodes, ins, [f32("y", ["batch", 3]), f32("w", ["batch", None])]), "symbolic.onnx")


def unsupported():
    """Several problems at once: ops loom lacks (default and custom domain), an
    unknown attribute, a Cast to f16 and an f16 initializer (which load since
    f16 is a storage type; only the other three are reported)."""
    nodes = [
        helper.make_node("Relu", ["x"], ["r"]),
        helper.make_node("Det", ["r"], ["up"], name="Det_12"),
        helper.make_node("FusedThing", ["up"], ["f"], domain="com.example"),
        helper.make_node("LeakyRelu", ["f"], ["l"], name="lrelu", alpha=0.1, beta=2.0),
        helper.make_node("Cast", ["l"], ["h"], name="to_half", to=TensorProto.FLOAT16),
        helper.make_node("Add", ["h", "half"], ["y"], name="add"),
    ]
    inits = [numpy_helper.from_array(np.array([1.0], np.float16), "half")]
    m = model(nodes, [f32("x", [1, 1, 2, 2])], [helper.make_tensor_value_info("y", TensorProto.FLOAT16, None)],
              inits, extra_opsets=[("com.example", 1)])
    save(m, "unsupported.onnx")


def dynamic_shapes():
    """Ops whose output shape depends on input values (NonZero, Unique): each
    node is reported, all in one run."""
    nodes = [
        helper.make_node("NonZero", ["x"], ["nz"], name="nonzero"),
        helper.make_node("Relu", ["x"], ["r"], name="relu"),
        helper.make_node("Unique", ["r"], ["u"], name="unique"),
    ]
    outs = [helper.make_tensor_value_info(n, t, None) for n, t in
            [("nz", TensorProto.INT64), ("u", TensorProto.FLOAT)]]
    save(model(nodes, [f32("x", [6])], outs), "dynamic_shapes.onnx")


def shape_chain():
    """torch.onnx-style x.view(x.size(0), -1): Shape -> Gather -> Unsqueeze ->
    Concat -> Reshape; after loading only the Reshape remains."""
    nodes = [
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("Gather", ["s", "zero"], ["n"], axis=0),
        helper.make_node("Unsqueeze", ["n", "axes0"], ["n1"]),
        helper.make_node("Concat", ["n1", "minus1"], ["shape"], axis=0),
        helper.make_node("Reshape", ["x", "shape"], ["y"]),
        helper.make_node("Relu", ["y"], ["z"]),
    ]
    inits = [numpy_helper.from_array(np.array(0, np.int64), "zero"),
             numpy_helper.from_array(np.array([0], np.int64), "axes0"),
             numpy_helper.from_array(np.array([-1], np.int64), "minus1")]
    save(model(nodes, [f32("x", [2, 3, 4])], [f32("z", [2, 12])], inits), "shape_chain.onnx")


def legacy():
    """Opset 11 forms: Softmax coerces to 2-D, Unsqueeze takes axes as an
    attribute; unnamed nodes; Clip with an omitted optional input (opset 11
    takes min/max as inputs)."""
    nodes = [
        helper.make_node("Softmax", ["x"], ["s"]),
        helper.make_node("Unsqueeze", ["s"], ["u"], axes=[0]),
        helper.make_node("Clip", ["u", "", "hi"], ["y"], name="clip"),
    ]
    inits = [numpy_helper.from_array(np.array(0.5, np.float32), "hi")]
    save(model(nodes, [f32("x", [2, 3])], [f32("y", [1, 2, 3])], inits, opset=11), "legacy.onnx")
    save(model([helper.make_node("Relu", ["x"], ["y"])], [f32("x", [2])], [f32("y", [2])], opset=6),
         "opset6.onnx")


def reshape_input():
    """Reshape whose target shape is a graph input (bound at load time)."""
    shape = helper.make_tensor_value_info("shape", TensorProto.INT64, [2])
    save(model([helper.make_node("Reshape", ["x", "shape"], ["y"])], [f32("x", [2, 3]), shape],
               [f32("y", None)]), "reshape_input.onnx")


def tensor_file():
    """A TensorProto file like the backend tests' input_0.pb."""
    t = numpy_helper.from_array(np.array([[1, 2], [3, 4]], np.int32), "t")
    with open(os.path.join(OUT, "tensor.pb"), "wb") as f:
        f.write(t.SerializeToString())


def save_tensor(arr, fname, dtype=None):
    """A TensorProto file; dtype overrides the element type (bf16 bits)."""
    t = numpy_helper.from_array(arr, fname.split(".")[0])
    if dtype is not None:
        t.data_type = dtype
    with open(os.path.join(OUT, fname), "wb") as f:
        f.write(t.SerializeToString())


def bf16_bits(x):
    """float32 -> bfloat16 bit patterns, round to nearest even (numpy only)."""
    u = x.astype(np.float32).view(np.uint32).astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def half():
    """f16 and bf16 storage: a small MLP-like graph whose weights, input and
    output are half. half_f16's reference output comes from onnxruntime;
    half_bf16 (onnxruntime has no bf16 CPU kernels for these ops) from numpy
    in f32, rounded to bf16 per op as the ONNX ops define."""
    import onnxruntime as ort

    rng = np.random.default_rng(11)
    w = rng.standard_normal((8, 5)).astype(np.float32)
    b = rng.standard_normal((5,)).astype(np.float32)
    x = rng.standard_normal((3, 8)).astype(np.float32)
    F16, BF16 = TensorProto.FLOAT16, TensorProto.BFLOAT16
    nodes = [helper.make_node("MatMul", ["x", "w"], ["m"]), helper.make_node("Add", ["m", "b"], ["a"]),
             helper.make_node("Relu", ["a"], ["r"]), helper.make_node("Cast", ["r"], ["r32"], to=1),
             helper.make_node("Sigmoid", ["r32"], ["s"]), helper.make_node("Cast", ["s"], ["sh"], to=F16),
             helper.make_node("Max", ["r", "sh"], ["y"])]
    io = lambda name, t, dims: helper.make_tensor_value_info(name, t, dims)
    inits = [numpy_helper.from_array(w.astype(np.float16), "w"),
             numpy_helper.from_array(b.astype(np.float16), "b")]  # raw_data
    m = model(nodes, [io("x", F16, [3, 8])], [io("y", F16, [3, 5]), io("r32", 1, [3, 5])], inits)
    save(m, "half_f16.onnx")
    y, r32 = ort.InferenceSession(m.SerializeToString()).run(None, {"x": x.astype(np.float16)})
    save_tensor(x.astype(np.float16), "half_f16_x.pb")
    save_tensor(y, "half_f16_y.pb")
    save_tensor(r32, "half_f16_r32.pb")
    # bf16: initializers in int32_data, output rounded per op
    bf = lambda a: (bf16_bits(a).astype(np.uint32) << 16).view(np.float32)
    nodes = [helper.make_node("Mul", ["x", "w"], ["m"]), helper.make_node("Add", ["m", "b"], ["y"])]
    wb = rng.standard_normal((3, 5)).astype(np.float32)
    inits = []
    for name, a in (("w", wb), ("b", b)):  # the bit patterns in int32_data
        t = TensorProto(name=name, data_type=BF16, dims=list(a.shape))
        t.int32_data.extend(bf16_bits(a).astype(np.int32).ravel().tolist())
        inits.append(t)
    save(model(nodes, [io("x", BF16, [3, 5])], [io("y", BF16, [3, 5])], inits), "half_bf16.onnx")
    xb = rng.standard_normal((3, 5)).astype(np.float32)
    yb = bf(bf(bf(xb) * bf(wb)) + bf(b))
    save_tensor(bf16_bits(xb), "half_bf16_x.pb", BF16)
    save_tensor(bf16_bits(yb), "half_bf16_y.pb", BF16)


def main():
    os.makedirs(OUT, exist_ok=True)
    half()
    tensor_file()
    reshape_input()
    init_forms()
    external_data()
    symbolic()
    unsupported()
    dynamic_shapes()
    shape_chain()
    legacy()


if __name__ == "__main__":
    main()
