"""Expected values for tests/unit/test_ops_extra.c, computed with onnxruntime.

Usage: python3 tests/unit/gen_test_ops_extra.py > block.inc, then replace the
"expected values" block of test_ops_extra.c with block.inc. The inputs are
written out here (small, exact in f32) and in the C file; each case is a
one-node ONNX model run on onnxruntime's CPU provider, and its output is
printed as a C array named want_<case>.
"""
import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

ONNX_TYPES = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.float64): TensorProto.DOUBLE,
              np.dtype(np.int64): TensorProto.INT64, np.dtype(np.int32): TensorProto.INT32,
              np.dtype(np.bool_): TensorProto.BOOL, np.dtype(np.uint8): TensorProto.UINT8}
out = []


def carr(name, a):
    a = np.asarray(a)
    if a.dtype == np.bool_:
        out.append(f"static const uint8_t {name}[{a.size}] = {{"
                   + ", ".join(str(int(v)) for v in a.ravel()) + "};")
    elif a.dtype in (np.int32, np.int64):
        ct = "int32_t" if a.dtype == np.int32 else "int64_t"
        out.append(f"static const {ct} {name}[{a.size}] = {{"
                   + ", ".join(str(int(v)) for v in a.ravel()) + "};")
    else:
        def lit(v):
            if np.isnan(v):
                return "NAN"
            if np.isinf(v):
                return "INFINITY" if v > 0 else "-INFINITY"
            return repr(float(v)) + ("f" if a.dtype == np.float32 else "")
        ct = "float" if a.dtype == np.float32 else "double"
        body = ", ".join(lit(v) for v in a.ravel())
        out.append(f"static const {ct} {name}[{a.size}] = {{{body}}};")


def run(name, op, ins, attrs=None, opset=20, consts=(), yt=None):
    """ins: list of (name, array); names in consts become initializers; the
    output has dtype yt (default: input 0's)."""
    vis, inits, feeds = [], [], {}
    for nm, a in ins:
        if nm in consts:
            inits.append(numpy_helper.from_array(a, nm))
        else:
            vis.append(helper.make_tensor_value_info(nm, ONNX_TYPES[a.dtype], a.shape))
            feeds[nm] = a
    node = helper.make_node(op, [nm for nm, _ in ins], ["y"], **(attrs or {}))
    y = helper.make_tensor_value_info("y", ONNX_TYPES[np.dtype(yt or ins[0][1].dtype)], None)
    g = helper.make_graph([node], name, vis, [y], initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], ir_version=10)
    sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    carr("want_" + name, sess.run(None, feeds)[0])


f32 = np.float32
x34 = np.arange(12, dtype=f32).reshape(3, 4) - 5.5
run("cos_value", "ConstantOfShape", [("s", np.array([2, 3], np.int64))],
    {"value": numpy_helper.from_array(np.array([7], np.int64))}, consts=("s",), yt=np.int64)
run("range_f32", "Range", [("a", np.array(1, f32)), ("b", np.array(3.5, f32)),
                           ("c", np.array(0.75, f32))], consts=("a", "b", "c"))
run("range_i64", "Range", [("a", np.array(10, np.int64)), ("b", np.array(4, np.int64)),
                           ("c", np.array(-2, np.int64))], consts=("a", "b", "c"))
run("trilu_upper_k1", "Trilu", [("x", x34), ("k", np.array(1, np.int64))], consts=("k",))
run("trilu_lower_km1", "Trilu", [("x", x34), ("k", np.array(-1, np.int64))], {"upper": 0},
    consts=("k",))
x233 = np.arange(18, dtype=f32).reshape(2, 3, 3) + 1
run("trilu_batch_k", "Trilu", [("x", x233), ("k", np.array(1, np.int64))], {"upper": 0})
x23 = np.array([[1, 2, 3], [4, 5, 6]], f32)
run("pad_constant", "Pad", [("x", x23), ("p", np.array([0, 1, 2, 0], np.int64)),
                            ("v", np.array(1.5, f32))], {"mode": "constant"}, consts=("p", "v"))
run("pad_reflect", "Pad", [("x", x34), ("p", np.array([1, 2, 2, 3], np.int64))],
    {"mode": "reflect"}, consts=("p",))
run("pad_edge", "Pad", [("x", x34), ("p", np.array([2, 1, 1, 3], np.int64))],
    {"mode": "edge"}, consts=("p",))
run("pad_wrap", "Pad", [("x", x34), ("p", np.array([1, 2, 2, 3], np.int64))],
    {"mode": "wrap"}, consts=("p",))
run("pad_crop", "Pad", [("x", x34), ("p", np.array([-1, 2, 1, -1], np.int64))],
    {"mode": "constant"}, consts=("p",))
run("pad_axes", "Pad", [("x", x34), ("p", np.array([1, 2], np.int64)), ("v", np.array(-1, f32)),
                        ("ax", np.array([-1], np.int64))], consts=("p", "v", "ax"))
run("pad_v2", "Pad", [("x", x23)], {"pads": [1, 0, 0, 2], "value": 2.5}, opset=2)
run("tile", "Tile", [("x", x23), ("r", np.array([2, 2], np.int64))], consts=("r",))
run("gather_elements", "GatherElements",
    [("x", x34), ("i", np.array([[0, -1], [2, 1], [-4, 3]], np.int64))], {"axis": 1})
run("gather_elements_ax0", "GatherElements",
    [("x", x34), ("i", np.array([[2, 0, 1, -1]], np.int32))], {"axis": 0})
a = np.array([[1, np.nan, 3], [-4, 5, -6]], f32)
b = np.array([2, 2, np.nan], f32)
cc = np.array([[0], [7]], f32)
run("max3", "Max", [("a", a), ("b", b), ("c", cc)])
run("min3", "Min", [("a", a), ("b", b), ("c", cc)])
run("sum3", "Sum", [("a", a), ("b", b), ("c", cc)])
run("mean2", "Mean", [("a", x23), ("c", cc)])
run("max_i64", "Max", [("a", np.array([3, -7, 5], np.int64)), ("b", np.array([-1, 2, 9], np.int64))])
ma = np.array([7, -7, 7, -7, 5, 0], np.int64)
mb = np.array([3, 3, -3, -3, -5, 4], np.int64)
run("mod_int", "Mod", [("a", ma), ("b", mb)])
run("fmod_int", "Mod", [("a", ma), ("b", mb)], {"fmod": 1})
run("fmod_f32", "Mod", [("a", np.array([7.5, -7.5, 7.5, -0.25], f32)),
                        ("b", np.array([2, 2, -2, 0.1], f32))], {"fmod": 1})
ba = np.array([[True, False, True], [False, False, True]])
bb = np.array([True, False, False])
run("not", "Not", [("a", ba)])
run("and", "And", [("a", ba), ("b", bb)])
run("or", "Or", [("a", ba), ("b", bb)])
run("xor", "Xor", [("a", ba), ("b", bb)])
sp = np.array([1.5, np.nan, np.inf, -np.inf, 0, -2], f32)
run("isnan", "IsNaN", [("x", sp)], yt=np.bool_)
run("isinf", "IsInf", [("x", sp)], yt=np.bool_)
run("isinf_pos", "IsInf", [("x", sp)], {"detect_negative": 0}, yt=np.bool_)
run("isinf_neg", "IsInf", [("x", sp)], {"detect_positive": 0}, yt=np.bool_)
u = np.array([-3.75, -1.5, -0.5, 0, 0.25, 1, 2.5, 30, -30, 100], f32)
for op in ["Sin", "Cos", "Floor", "Ceil", "Softplus"]:
    run(op.lower(), op, [("x", u)], opset=13)
run("gelu", "Gelu", [("x", u)])
run("gelu_tanh", "Gelu", [("x", u)], {"approximate": "tanh"})
run("sin_f64", "Sin", [("x", u.astype(np.float64))], opset=13)
v = np.array([-0.9, -0.5, -0.25, 0, 0.25, 0.5, 0.75, 0.9], f32)
for op in ["Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Atanh"]:
    run(op.lower(), op, [("x", v)])
run("acosh", "Acosh", [("x", np.array([1, 1.5, 2, 3.75, 10, 100], f32))])
for op in ["Round", "Sign", "Elu", "Selu", "Celu", "ThresholdedRelu", "HardSwish", "Softsign",
           "Shrink"]:
    run(op.lower(), op, [("x", u)])
run("elu_a", "Elu", [("x", u)], {"alpha": 0.5})
run("selu_ag", "Selu", [("x", u)], {"alpha": 2.0, "gamma": 3.0})
run("celu_a", "Celu", [("x", u)], {"alpha": 2.0})
run("thresholdedrelu_a", "ThresholdedRelu", [("x", u)], {"alpha": -0.5})
run("shrink_bl", "Shrink", [("x", u)], {"bias": 1.5, "lambd": 1.0})
run("sign_i64", "Sign", [("x", np.array([-7, 0, 3, -1, 9, 0], np.int64))])
run("prelu", "PRelu", [("x", x34 - 0.25), ("s", np.array([0.5, -2, 0.25, 3], f32))], opset=16)
run("prelu_i64", "PRelu", [("x", np.array([[-3, 2, -1], [4, -5, 0]], np.int64)),
                           ("s", np.array([[2], [-3]], np.int64))], opset=16)

print("/* ---- expected values (tests/unit/gen_test_ops_extra.py, onnxruntime "
      + ort.__version__ + ") ---- */")
print("\n".join(out))
print("/* ---- end of expected values ---- */")
