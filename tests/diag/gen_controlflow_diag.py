#!/usr/bin/env python3
"""Writes the ONNX control-flow cases of the malformed-input corpus
(tests/diag/cf_*.onnx): If, Loop and Scan that loom cannot expand at
compile time. Their diagnostics are the .err files beside them
(LOOM_UPDATE_GOLDEN=1 build/tests/unit_diag_corpus regenerates those).
The outputs are committed; rerun (needs the onnx pip package) only to
change them:

    python3 tests/diag/gen_controlflow_diag.py
"""
import os

import numpy as np
from onnx import TensorProto, helper, numpy_helper

OUT = os.path.dirname(os.path.abspath(__file__))


def save(name, nodes, inputs, outputs, inits=(), opset=13):
    g = helper.make_graph(nodes, name, inputs, outputs, initializer=list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)],
                          producer_name="loom-diag")
    m.ir_version = 8
    with open(os.path.join(OUT, f"{name}.onnx"), "wb") as f:
        f.write(m.SerializeToString())


def f32(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def scalar(name, dtype, value):
    return numpy_helper.from_array(np.array(value, dtype=dtype), name)


def add_body(extra_nodes=(), cond_out="cond_in"):
    """Loop body (i, cond_in, y_in) -> (cond_out, y_out = y_in + 1)."""
    nodes = [helper.make_node("Add", ["y_in", "one"], ["y_out"]),
             helper.make_node("Identity", [cond_out], ["cond_out"])]
    return helper.make_graph(
        list(extra_nodes) + nodes, "body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []), f32("y_in", [2])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []), f32("y_out", [2])],
        initializer=[scalar("one", np.float32, [1.0, 1.0])])


def main():
    branch = lambda n, v: helper.make_graph(  # noqa: E731
        [helper.make_node("Constant", [], [n], value=numpy_helper.from_array(
            np.array([v], np.float32)))], n, [], [f32(n, [1])])
    # If on a condition computed from a graph input at run time
    save("cf_if_dynamic_cond",
         [helper.make_node("ReduceSum", ["x"], ["s"], keepdims=0),
          helper.make_node("Greater", ["s", "zero"], ["c"]),
          helper.make_node("If", ["c"], ["y"], name="choose",
                           then_branch=branch("t", 1.0), else_branch=branch("e", 2.0))],
         [f32("x", [3])], [f32("y", [1])], [scalar("zero", np.float32, 0.0)])
    # Loop whose trip count is a graph input
    save("cf_loop_dynamic_trip",
         [helper.make_node("Loop", ["n", "", "y0"], ["y"], name="steps", body=add_body())],
         [helper.make_tensor_value_info("n", TensorProto.INT64, []), f32("y0", [2])],
         [f32("y", [2])])
    # Loop whose body computes its condition from the data
    data_cond = [helper.make_node("ReduceSum", ["y_in"], ["s"], keepdims=0),
                 helper.make_node("Less", ["s", "ten"], ["go"])]
    body = add_body(data_cond, cond_out="go")
    body.initializer.append(scalar("ten", np.float32, 10.0))
    save("cf_loop_data_cond",
         [helper.make_node("Loop", ["n", "", "y0"], ["y"], name="until", body=body)],
         [f32("y0", [2])], [f32("y", [2])], [scalar("n", np.int64, 8)])
    # Loop with a constant but huge trip count
    save("cf_loop_too_large",
         [helper.make_node("Loop", ["n", "", "y0"], ["y"], name="huge", body=add_body())],
         [f32("y0", [2])], [f32("y", [2])], [scalar("n", np.int64, 1000000)])


if __name__ == "__main__":
    main()
