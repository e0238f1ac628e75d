#!/usr/bin/env python3
"""Writes the control-flow models of the end-to-end tests, built with
onnx.helper (tests/models/cf_*: model.onnx, input_<name>.npy and
onnxruntime's outputs as expected_<name>.npy, as scripts/export_torch.py
writes them):

  cf_scan_axes    Scan-16 with two states, scan inputs along axis 1 and
                  (reversed) axis 0, scan outputs stacked along axis 1
                  (reversed) and axis -1;
  cf_loop_nested  a top-level If on a condition computed from a shape, a
                  Loop with a constant trip count whose body reads
                  outer-scope weights, computes its condition from the
                  iteration number and holds an If on the iteration's
                  parity; a scan output stacked per iteration.

The outputs are committed; rerun (needs onnx, numpy, onnxruntime) only to
change them:  python3 scripts/gen_controlflow_models.py
"""
import os
import shutil

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "models")
rng = np.random.default_rng(7)


def f32(name, shape=None):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def const(name, value, dtype=np.float32):
    return numpy_helper.from_array(np.array(value, dtype=dtype), name)


def write(name, graph, opset, feeds):
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                          producer_name="loom-tests")
    m.ir_version = 8
    folder = os.path.join(OUT, name)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    path = os.path.join(folder, "model.onnx")
    with open(path, "wb") as f:
        f.write(m.SerializeToString())
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    for k, v in feeds.items():
        np.save(os.path.join(folder, f"input_{k}.npy"), v)
    for o, v in zip(sess.get_outputs(), sess.run(None, feeds)):
        np.save(os.path.join(folder, f"expected_{o.name}.npy"), v)
    print(name, [o.name for o in sess.get_outputs()])


def scan_axes():
    body = helper.make_graph(
        [helper.make_node("Mul", ["a_t", "b_t"], ["ab"]),
         helper.make_node("Add", ["acc", "ab"], ["acc_out"]),
         helper.make_node("Max", ["peak", "a_t"], ["peak_out"]),
         helper.make_node("Tanh", ["acc_out"], ["y1"]),
         helper.make_node("Sub", ["a_t", "b_t"], ["y2"])],
        "body", [f32("acc", [2, 3]), f32("peak", [2, 3]), f32("a_t", [2, 3]), f32("b_t", [2, 3])],
        [f32("acc_out", [2, 3]), f32("peak_out", [2, 3]), f32("y1", [2, 3]), f32("y2", [2, 3])])
    scan = helper.make_node(
        "Scan", ["acc0", "peak0", "a", "b"], ["acc", "peak", "ys1", "ys2"], name="scan",
        body=body, num_scan_inputs=2, scan_input_axes=[1, 0], scan_input_directions=[0, 1],
        scan_output_axes=[1, -1], scan_output_directions=[1, 0])
    g = helper.make_graph([scan], "cf_scan_axes",
                          [f32("acc0", [2, 3]), f32("peak0", [2, 3]), f32("a", [2, 5, 3]),
                           f32("b", [5, 2, 3])],
                          [f32("acc"), f32("peak"), f32("ys1"), f32("ys2")])
    feeds = {"acc0": rng.standard_normal((2, 3)), "peak0": rng.standard_normal((2, 3)),
             "a": rng.standard_normal((2, 5, 3)), "b": rng.standard_normal((5, 2, 3))}
    write("cf_scan_axes", g, 16, {k: v.astype(np.float32) for k, v in feeds.items()})


def loop_nested():
    parity = lambda op, n: helper.make_graph(  # noqa: E731
        [helper.make_node(op, ["h", "x_in"], [n])], n, [], [f32(n)])
    body = helper.make_graph(
        [helper.make_node("MatMul", ["x_in", "w"], ["xw"]),
         helper.make_node("Cast", ["i"], ["fi"], to=TensorProto.FLOAT),
         helper.make_node("Add", ["xw", "fi"], ["h0"]),
         helper.make_node("Tanh", ["h0"], ["h"]),
         helper.make_node("Mod", ["i", "two"], ["odd"]),
         helper.make_node("Equal", ["odd", "zero"], ["even"]),
         helper.make_node("If", ["even"], ["x_out"], name="parity",
                          then_branch=parity("Add", "sum"), else_branch=parity("Mul", "prod")),
         helper.make_node("Less", ["i", "limit"], ["go"]),
         helper.make_node("ReduceSum", ["x_out"], ["total"], keepdims=0)],
        "body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("c", TensorProto.BOOL, []), f32("x_in", [2, 3])],
        [helper.make_tensor_value_info("go", TensorProto.BOOL, []), f32("x_out", [2, 3]),
         f32("total", [])],
        initializer=[const("two", 2, np.int64), const("zero", 0, np.int64),
                     const("limit", 10, np.int64)])
    top_if = helper.make_graph([helper.make_node("Neg", ["x"], ["neg"])], "then", [],
                               [f32("neg", [2, 3])])
    top_else = helper.make_graph([helper.make_node("Abs", ["x"], ["abs"])], "else", [],
                                 [f32("abs", [2, 3])])
    nodes = [helper.make_node("Shape", ["x"], ["shape"]),
             helper.make_node("Gather", ["shape", "one"], ["cols"], axis=0),
             helper.make_node("Greater", ["cols", "two"], ["big"]),
             helper.make_node("If", ["big"], ["x0"], name="sign", then_branch=top_if,
                              else_branch=top_else),
             helper.make_node("Loop", ["trips", "", "x0"], ["x_final", "totals"], name="steps",
                              body=body)]
    g = helper.make_graph(nodes, "cf_loop_nested", [f32("x", [2, 3])],
                          [f32("x_final"), f32("totals")],
                          initializer=[const("w", rng.standard_normal((3, 3)) * 0.5),
                                       const("one", 1, np.int64),
                                       const("two", 2, np.int64),
                                       const("trips", 4, np.int64)])
    write("cf_loop_nested", g, 13, {"x": rng.standard_normal((2, 3)).astype(np.float32)})


if __name__ == "__main__":
    scan_axes()
    loop_nested()
