"""Writes the opset 1-6 fixtures of tests/unit/test_onnx_legacy.c: small
models in the older operator forms loom maps onto its IR (NAME.onnx with
NAME.in<i>.npy inputs and the NAME.out.npy output numpy computes from the
operator's definition at that opset), and models it must reject
(NAME.onnx only). Run from anywhere: python3 tests/onnx/legacy/make_legacy.py
"""
import os

import numpy as np
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(7)
T = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.int64): TensorProto.INT64,
     np.dtype(np.int32): TensorProto.INT32}


def save(name, opset, nodes, inputs, out, inits=(), out_dtype=np.float32):
    """inputs: list of (name, array); out: expected output array or None
    for a model that must be rejected (then its shape is not declared)."""
    vis = [helper.make_tensor_value_info(n, T[a.dtype], a.shape) for n, a in inputs]
    ot = T[np.dtype(out.dtype if out is not None else out_dtype)]
    y = helper.make_tensor_value_info("y", ot, out.shape if out is not None else None)
    g = helper.make_graph(nodes, name, vis, [y],
                          initializer=[numpy_helper.from_array(a, n) for n, a in inits])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], ir_version=3)
    with open(os.path.join(HERE, name + ".onnx"), "wb") as f:
        f.write(m.SerializeToString())
    if out is not None:
        for i, (_, a) in enumerate(inputs):
            np.save(os.path.join(HERE, f"{name}.in{i}.npy"), a)
        np.save(os.path.join(HERE, name + ".out.npy"), out)


def f32(*shape):
    return np.round(rng.uniform(-2, 2, shape), 2).astype(np.float32)


# Add-6 broadcast=1 axis=1: B [3,4] lines up with A's dims 1-2
a, b = f32(2, 3, 4, 5), f32(3, 4)
save("add_axis", 6, [helper.make_node("Add", ["a", "b"], ["y"], broadcast=1, axis=1)],
     [("a", a), ("b", b)], a + b[None, :, :, None])
# Mul-1 with consumed_inputs, B constant [3] at axis 1 of A [2,3,2]
a, b = f32(2, 3, 2), f32(3)
save("mul_axis_const", 1,
     [helper.make_node("Mul", ["a", "b"], ["y"], broadcast=1, axis=1, consumed_inputs=[0, 0])],
     [("a", a)], a * b[None, :, None], inits=[("b", b)])
# Sub-6 broadcast=1 without axis: trailing dims, as numpy
a, b = f32(2, 3), f32(3)
save("sub_suffix", 6, [helper.make_node("Sub", ["a", "b"], ["y"], broadcast=1)],
     [("a", a), ("b", b)], a - b)
# Add-6 legacy broadcast whose B does not fit A at axis
save("add_axis_bad", 6, [helper.make_node("Add", ["a", "b"], ["y"], broadcast=1, axis=2)],
     [("a", f32(2, 3, 4)), ("b", f32(3, 4))], None)
# Reshape-1: shape attribute, consumed_inputs
a = f32(2, 3, 2)
save("reshape_attr", 1, [helper.make_node("Reshape", ["a"], ["y"], shape=[3, -1],
                                          consumed_inputs=[0])],
     [("a", a)], a.reshape(3, -1))
# Cast-5: `to` as a type name
a = np.array([1.7, -2.5, 300.25], np.float32)
save("cast_string", 5, [helper.make_node("Cast", ["a"], ["y"], to="INT32")],
     [("a", a)], a.astype(np.int32))
save("cast_string_bad", 5, [helper.make_node("Cast", ["a"], ["y"], to="COMPLEX64")],
     [("a", a)], None)
# Concat-3: axis defaults to 1
a, b = f32(2, 1), f32(2, 3)
save("concat_default", 3, [helper.make_node("Concat", ["a", "b"], ["y"])],
     [("a", a), ("b", b)], np.concatenate([a, b], 1))
# BatchNormalization-6 is_test=1 (inference) and without is_test (training)
x = f32(2, 3, 2, 2)
sc, bi, me, va = f32(3), f32(3), f32(3), np.abs(f32(3)) + 0.5
bn = lambda **k: helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"],  # noqa
                                  epsilon=1e-3, momentum=0.9, **k)
want = (x - me[:, None, None]) / np.sqrt(va[:, None, None] + 1e-3) * sc[:, None, None] \
    + bi[:, None, None]
save("bn_test", 6, [bn(is_test=1)], [("x", x)], want.astype(np.float32),
     inits=[("s", sc), ("b", bi), ("m", me), ("v", va)])
save("bn_train", 6, [bn()], [("x", x)], None,
     inits=[("s", sc), ("b", bi), ("m", me), ("v", va)])
# Dropout-6 is_test=1 is the identity; without is_test it drops at random
x = f32(2, 3)
save("dropout_test", 6, [helper.make_node("Dropout", ["x"], ["y"], is_test=1, ratio=0.3)],
     [("x", x)], x)
save("dropout_train", 6, [helper.make_node("Dropout", ["x"], ["y"], ratio=0.3)], [("x", x)],
     None)
# Pad-1: `paddings` attribute
x = f32(2, 3)
save("pad_paddings", 1, [helper.make_node("Pad", ["x"], ["y"], paddings=[0, 1, 1, 0],
                                          mode="constant", value=-1.0)],
     [("x", x)], np.pad(x, ((0, 1), (1, 0)), constant_values=-1.0))
# Tile-1: tiles and axis inputs (not supported)
save("tile_v1", 5, [helper.make_node("Tile", ["x", "t", "ax"], ["y"])], [("x", x)], None,
     inits=[("t", np.array([2], np.int64)), ("ax", np.array([0], np.int64))])
# an op used before it existed: Range-11 in an opset 8 model
save("range_opset8", 8, [helper.make_node("Range", ["s", "l", "d"], ["y"])], [], None,
     inits=[("s", np.array(0, np.int64)), ("l", np.array(4, np.int64)),
            ("d", np.array(1, np.int64))], out_dtype=np.int64)
# an opset newer than loom reads
x = f32(2)
save("opset22", 22, [helper.make_node("Relu", ["x"], ["y"])], [("x", x)], None)
