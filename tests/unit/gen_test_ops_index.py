"""Expected values for tests/unit/test_ops_index.c, computed with onnxruntime.

Usage: python3 tests/unit/gen_test_ops_index.py > block.inc, then replace the
"expected values" block of test_ops_index.c with block.inc. Each case is a
one-node ONNX model (inputs written out here and in the C file, small and
exact in f32) run on onnxruntime's CPU provider; every output is printed as
a C array named want_<case> (want_<case>_<k> for output k > 0). One
GridSample case comes from the ONNX reference implementation, where
onnxruntime departs from the spec (see its comment).
"""
import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

TYPES = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.int64): TensorProto.INT64,
         np.dtype(np.int32): TensorProto.INT32}
CTYPES = {np.dtype(np.float32): "float", np.dtype(np.int64): "int64_t",
          np.dtype(np.int32): "int32_t"}


def c_array(name, a):
    a = np.asarray(a)
    if a.dtype == np.float32:
        body = ", ".join(repr(float(v)) + "f" for v in a.ravel())
    else:
        body = ", ".join(str(int(v)) for v in a.ravel())
    print(f"static const {CTYPES[a.dtype]} {name}[{a.size}] = {{{body}}};")


def case(name, op, ins, attrs=None, consts=(), n_out=1, opset=18, spec_reference=False):
    """ins: (name, array) pairs; names in consts become initializers.
    spec_reference: run the ONNX reference implementation instead."""
    vis, inits, feeds = [], [], {}
    for nm, a in ins:
        if nm in consts:
            inits.append(numpy_helper.from_array(a, nm))
        else:
            vis.append(helper.make_tensor_value_info(nm, TYPES[a.dtype], a.shape))
            feeds[nm] = a
    outs = [f"y{k}" for k in range(n_out)]
    node = helper.make_node(op, [nm for nm, _ in ins], outs, **(attrs or {}))
    g = helper.make_graph([node], name, vis,
                          [helper.make_empty_tensor_value_info(o) for o in outs], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], ir_version=9)
    if spec_reference:
        res = ReferenceEvaluator(m).run(None, feeds)
    else:
        res = ort.InferenceSession(m.SerializeToString(),
                                   providers=["CPUExecutionProvider"]).run(None, feeds)
    for k, r in enumerate(res):
        c_array("want_" + name + (f"_{k}" if k else ""), r)


f32, i64, i32 = np.float32, np.int64, np.int32
x234 = np.arange(24, dtype=f32).reshape(2, 3, 4) - 11.5
x34 = np.arange(12, dtype=f32).reshape(3, 4) * 0.5 - 2.5
case("gathernd", "GatherND", [("x", x234), ("i", np.array([[1, -1], [0, 2]], i64))])
case("gathernd_b1", "GatherND", [("x", x234), ("i", np.array([[[2]], [[0]]], i64))],
     {"batch_dims": 1})
case("gathernd_full", "GatherND", [("x", x234), ("i", np.array([[1, 2, 3], [0, 0, 1]], i64))])
upd = np.array([[1, 2, 3], [4, 5, 6], [-7, 8, -9]], f32)
for red in ["none", "add", "mul", "max", "min"]:
    idx = np.array([[2], [0], [3]] if red == "none" else [[2], [0], [2]], i64)
    case("scatternd_" + red, "ScatterND", [("x", x34.reshape(4, 3)), ("i", idx), ("u", upd)],
         {"reduction": red})
eidx = np.array([[1, -1], [0, 2], [2, 2]], i64)
eupd = np.array([[10, 20], [30, -40], [50, -60]], f32)
for red in ["none", "add", "mul", "max", "min"]:
    idx = np.array([[1, -1], [0, 2], [2, 0]], i64) if red == "none" else eidx
    case("scatterel_" + red, "ScatterElements", [("x", x34), ("i", idx), ("u", eupd)],
         {"axis": 1, "reduction": red})
case("scatterel_i32", "ScatterElements",
     [("x", x34), ("i", np.array([[1, -1], [0, 2], [2, 0]], i32)), ("u", eupd)], {"axis": 1})
case("scatterel_ax0", "ScatterElements",
     [("x", x34), ("i", np.array([[2, 0, 1, -1]], i64)), ("u", eupd.reshape(6)[:4].reshape(1, 4))])
oh = np.array([[0, -1, 2], [5, 1, -4]], i64)
ohv = np.array([-1, 3], f32)
case("onehot", "OneHot", [("i", oh), ("d", np.array([4], i64)), ("v", ohv)], consts=("d",))
case("onehot_ax0", "OneHot", [("i", oh), ("d", np.array(4, i64)), ("v", ohv)], {"axis": 0},
     consts=("d",))
case("onehot_f32", "OneHot",
     [("i", np.array([1.7, -1.2, 3.0], f32)), ("d", np.array([3.5], f32)), ("v", ohv)],
     {"axis": -1}, consts=("d",))
tk = np.array([[3, 1, 3, -2, 7], [0, 0, -1, 0, 5], [2, 9, 9, 1, 9]], f32)
case("topk", "TopK", [("x", tk), ("k", np.array([3], i64))], consts=("k",), n_out=2)
case("topk_smallest_ax0", "TopK", [("x", tk), ("k", np.array([2], i64))],
     {"axis": 0, "largest": 0}, consts=("k",), n_out=2)
case("topk_i64", "TopK", [("x", tk.astype(i64)), ("k", np.array([4], i64))], {"largest": 0},
     consts=("k",), n_out=2)
EQUATIONS = [("matmul", "bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
             ("attention", "bhqd,bhkd->bhqk", [(1, 2, 3, 4), (1, 2, 5, 4)]),
             ("transpose", "ij->ji", [(3, 4)]),
             ("trace", "ii", [(4, 4)]),
             ("batch_diag", "...ii ->...i", [(2, 3, 3)]),
             ("inner", "i,i", [(5,), (5,)]),
             ("implicit", "kj,ji", [(3, 4), (4, 2)]),
             ("sum_all", "ijk->", [(2, 3, 4)]),
             ("bcast", "...ij,...jk->...ik", [(2, 1, 2, 3), (1, 3, 3, 4)]),
             ("three", "ij,jk,k->i", [(2, 3), (3, 4), (4,)])]
for name, eq, shapes in EQUATIONS:
    ops = [(f"x{k}", (np.arange(np.prod(s), dtype=f32).reshape(s) % 7 - 3) * 0.5)
           for k, s in enumerate(shapes)]
    case("einsum_" + name, "Einsum", ops, {"equation": eq})
scores = ((np.arange(2 * 4 * 3, dtype=f32).reshape(2, 4, 3) * 7 % 11) - 5) * 0.25
target = np.array([[0, 3, 1], [2, -1, 3]], i64)
weight = np.array([0.5, 2.0, 1.0, 1.5], f32)
for red in ["none", "sum", "mean"]:
    case("nll_" + red, "NegativeLogLikelihoodLoss",
         [("x", scores), ("t", target), ("w", weight)], {"reduction": red, "ignore_index": -1})
case("nll_plain", "NegativeLogLikelihoodLoss", [("x", scores), ("t", np.abs(target))])
case("sce_mean", "SoftmaxCrossEntropyLoss", [("x", scores), ("t", np.abs(target))], n_out=2)
case("sce_ii_w", "SoftmaxCrossEntropyLoss",
     [("x", scores), ("t", np.abs(target)), ("w", weight)],
     {"reduction": "sum", "ignore_index": 2}, n_out=2)
rs = np.arange(12, dtype=f32).reshape(4, 3) - 5
case("revseq_time", "ReverseSequence", [("x", rs), ("l", np.array([4, 1, 2], i64))],
     {"time_axis": 0, "batch_axis": 1})
case("revseq_batch", "ReverseSequence", [("x", rs.reshape(3, 4)), ("l", np.array([1, 4, 3], i64))],
     {"time_axis": 1, "batch_axis": 0})
ux = np.array([[[[5, 6], [7, 8]], [[-1, -2], [-3, -4]]]], f32)
ui = np.array([[[[5, 7], [13, 15]], [[0, 3], [9, 14]]]], i64)
case("unpool", "MaxUnpool", [("x", ux), ("i", ui)], {"kernel_shape": [2, 2], "strides": [2, 2]})
# not with output_shape: onnxruntime reads the indices as flat over output_shape, the ONNX
# reference (and its node test, and loom) as flat over the unpooled shape (docs/ops.md)
gx = (np.arange(2 * 1 * 3 * 4, dtype=f32).reshape(2, 1, 3, 4) % 5 - 2) * 0.5
gg = np.array([[-1.3, -1.0], [-0.6, 0.2], [0.0, 0.0], [0.45, -0.85], [1.0, 1.0], [1.7, 0.3]],
              f32).reshape(1, 2, 3, 2).repeat(2, axis=0) * np.array([1, -1], f32)
for mode in ["linear", "nearest", "cubic"]:
    for pad in ["zeros", "border", "reflection"]:
        for ac in [0, 1]:
            # the ONNX reference: onnxruntime clamps cubic taps but not the coordinate
            # under border padding (PyTorch's way), the spec clamps the coordinate first
            case(f"grid_{mode}_{pad}_{ac}", "GridSample", [("x", gx), ("g", gg)],
                 {"mode": mode, "padding_mode": pad, "align_corners": ac}, opset=20,
                 spec_reference=(mode, pad, ac) == ("cubic", "border", 1))
