"""Expected values for tests/unit/test_ops_resize.c, computed with onnxruntime.

Usage: python3 tests/unit/gen_test_ops_resize.py > block.inc, then replace the
"expected values" block of test_ops_resize.c with block.inc. Covers the
Resize forms that Debian's ONNX node tests lack (opset 19: antialias, axes,
keep_aspect_ratio_policy, half_pixel_symmetric) and the other ops of the file
(InstanceNormalization, DepthToSpace/SpaceToDepth, LRN, ...); the input is
the exact f32 ramp x[i] = (i * 7 % 23) - 11 / 4 written out in the C file too.
"""
import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper

out = []


def ramp(shape):
    n = int(np.prod(shape))
    return (((np.arange(n) * 7) % 23 - 11) / 4).astype(np.float32).reshape(shape)


def carr(name, a):
    a = np.asarray(a)
    if a.dtype == np.int64:
        body = ", ".join(str(int(v)) for v in a.ravel())
        out.append(f"static const int64_t {name}[{a.size}] = {{{body}}};")
        return
    body = ", ".join(repr(float(v)) + "f" for v in a.ravel())
    out.append(f"static const float {name}[{a.size}] = {{{body}}};")


def run(name, op, x, attrs=None, consts=(), opset=19, ytype=TensorProto.FLOAT):
    """consts: (input name, numpy array or None for an omitted input)."""
    inits, names = [], ["x"]
    for cname, val in consts:
        if val is None:
            names.append("")
            continue
        names.append(cname)
        inits.append(helper.make_tensor(cname, TensorProto.INT64 if val.dtype == np.int64
                                        else TensorProto.FLOAT, val.shape, val.ravel().tolist()))
    node = helper.make_node(op, names, ["y"], **(attrs or {}))
    g = helper.make_graph([node], name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, x.shape)],
                          [helper.make_tensor_value_info("y", ytype, None)], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 9
    s = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    y = s.run(None, {"x": x})[0]
    out.append(f"/* {name}: shape {list(y.shape)} */")
    carr("want_" + name, y)


f = np.float32
x = ramp((1, 1, 4, 6))
run("aa_linear", "Resize", x, {"mode": "linear", "antialias": 1},
    [("roi", None), ("scales", np.array([1, 1, 0.5, 0.34], f))])
run("aa_cubic", "Resize", x, {"mode": "cubic", "antialias": 1},
    [("roi", None), ("scales", np.array([1, 1, 0.75, 0.5], f))])
run("axes_not_larger", "Resize", x, {"mode": "linear", "axes": [3, 2],
    "keep_aspect_ratio_policy": "not_larger"},
    [("roi", None), ("scales", None), ("sizes", np.array([9, 7], np.int64))])
run("symmetric", "Resize", x, {"mode": "linear",
    "coordinate_transformation_mode": "half_pixel_symmetric"},
    [("roi", None), ("scales", np.array([1, 1, 1.7, 0.6], f))])
run("crop_axes", "Resize", x, {"mode": "cubic", "axes": [2, 3],
    "coordinate_transformation_mode": "tf_crop_and_resize", "extrapolation_value": -3.0},
    [("roi", np.array([-0.2, 0.1, 0.9, 1.3], f)), ("scales", None),
     ("sizes", np.array([5, 4], np.int64))])
print("/* ---- expected values (tests/unit/gen_test_ops_resize.py, onnxruntime "
      + ort.__version__ + ") ---- */")
print("\n".join(out))
print("/* ---- end of expected values ---- */")
