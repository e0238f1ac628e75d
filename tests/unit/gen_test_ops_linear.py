"""Expected values for tests/unit/test_ops_linear.c, computed with onnxruntime.

Usage: python3 tests/unit/gen_test_ops_linear.py > block.inc, then replace the
"expected values" block of test_ops_linear.c with block.inc (the output is
deterministic: fixed seed, inputs rounded to two decimals).

Each case builds a one-node ONNX model with onnx.helper, runs it on
onnxruntime's CPU provider and prints the inputs and outputs as C arrays.
layout=1 RNN cases run onnxruntime with layout 0 (it has no layout=1 kernel)
on transposed inputs and transpose the outputs with numpy.
"""
import sys
import numpy as np
import onnxruntime as ort
from onnx import helper, TensorProto

rng = np.random.default_rng(20240611)
out = []

def rnd(*shape, scale=1.0):
    return np.round(rng.uniform(-1, 1, shape) * scale, 2).astype(np.float32)

def carr(name, a):
    a = np.asarray(a)
    if a.dtype in (np.int32, np.int64):
        body = ", ".join(str(int(v)) for v in a.ravel())
        ct = "int32_t" if a.dtype == np.int32 else "int64_t"
        out.append(f"static const {ct} {name}[{a.size}] = {{{body}}};")
        return
    if a.dtype == np.float64:
        body = ", ".join(repr(float(v)) for v in a.ravel())
        out.append(f"static const double {name}[{a.size}] = {{{body}}};")
        return
    vals = []
    for v in a.astype(np.float32).ravel():
        t = np.format_float_scientific(v, unique=True, trim="0") if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e6) \
            else np.format_float_positional(v, unique=True, trim="0")
        assert np.float32(float(t)) == v
        vals.append(t)
    lines, cur = [], "   "
    for v in vals:
        t = " " + v + "f,"
        if len(cur) + len(t) > 96:
            lines.append(cur); cur = "   "
        cur += t
    lines.append(cur)
    out.append(f"static const float {name}[{a.size}] = {{ /* {list(a.shape)} */\n" + "\n".join(lines) + "\n};")

def run(op, ins, attrs, nout, opset):
    names, feeds, vis = [], {}, []
    for nm, a in ins:
        if a is None:
            names.append(""); continue
        names.append(nm)
        dt = {np.dtype(np.int32): TensorProto.INT32, np.dtype(np.int64): TensorProto.INT64,
              np.dtype(np.float64): TensorProto.DOUBLE}.get(a.dtype, TensorProto.FLOAT)
        vis.append(helper.make_tensor_value_info(nm, dt, a.shape)); feeds[nm] = a
    outs = [f"o{i}" for i in range(nout)]
    n = helper.make_node(op, names, outs, **attrs)
    xt = vis[0].type.tensor_type.elem_type  # outputs have X's dtype (stats: stash_type float)
    ot = [xt if i == 0 or op != "LayerNormalization" else TensorProto.FLOAT for i in range(nout)]
    g = helper.make_graph([n], "g", vis, [helper.make_tensor_value_info(o, t, None) for o, t in zip(outs, ot)])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    s = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    return s.run(None, feeds)

def case(prefix, op, ins, attrs, nout, opset=14, outnames=("Y", "Y_h", "Y_c"), inputs=True):
    out.append(f"/* {prefix}: {op}-{opset} {attrs}{'' if inputs else ' on sm_axis1_X'} */")
    res = run(op, ins, attrs, nout, opset)
    for nm, a in ins:
        if a is not None and inputs:
            carr(f"{prefix}_{nm}", a)
    for i, r in enumerate(res):
        carr(f"{prefix}_{outnames[i]}", r)
    out.append("")

# ---- Gemm ----
case("gemm_t", "Gemm", [("A", rnd(3, 2)), ("B", rnd(4, 3)), ("C", rnd(4))],
     dict(transA=1, transB=1, alpha=0.5, beta=2.0), 1, 13, ("Y",))
case("gemm_col", "Gemm", [("A", rnd(2, 3)), ("B", rnd(3, 4)), ("C", rnd(2, 1))], {}, 1, 13, ("Y",))
case("gemm_noc", "Gemm", [("A", rnd(2, 3)), ("B", rnd(3, 2))], dict(alpha=1.5), 1, 13, ("Y",))
# ---- MatMul ----
case("mm_batch", "MatMul", [("A", rnd(2, 1, 2, 3)), ("B", rnd(3, 3, 2))], {}, 1, 13, ("Y",))
case("mm_vec_a", "MatMul", [("A", rnd(3)), ("B", rnd(2, 3, 4))], {}, 1, 13, ("Y",))
case("mm_vec_b", "MatMul", [("A", rnd(2, 2, 3)), ("B", rnd(3))], {}, 1, 13, ("Y",))
case("mm_i64", "MatMul", [("A", rng.integers(-50, 50, (2, 3)).astype(np.int64)),
                          ("B", rng.integers(-50, 50, (3, 2)).astype(np.int64))], {}, 1, 13, ("Y",))
# ---- Softmax ----
sx = rnd(2, 3, 4, scale=3.0)
sx[1, 2, :] = [1000.0, 1001.0, 1002.0, 999.5]  # stability: exp would overflow without max
case("sm_axis1", "Softmax", [("X", sx)], dict(axis=1), 1, 13, ("Y",))
case("lsm_last", "LogSoftmax", [("X", sx)], {}, 1, 13, ("Y",), inputs=False)
case("sm_legacy", "Softmax", [("X", sx)], {}, 1, 11, ("Y",), inputs=False)
case("lsm_legacy", "LogSoftmax", [("X", sx)], dict(axis=2), 1, 11, ("Y",), inputs=False)
case("sm_f64", "Softmax", [("X", rng.uniform(-3, 3, (2, 3)))], {}, 1, 13, ("Y",))
# ---- LayerNormalization ----
case("ln_axis1", "LayerNormalization", [("X", rnd(2, 3, 4, scale=2)), ("S", rnd(3, 4)), ("B", rnd(3, 4))],
     dict(axis=1, epsilon=1e-3), 3, 17, ("Y", "Mean", "InvStd"))
case("ln_last", "LayerNormalization", [("X", rnd(2, 3, scale=2)), ("S", rnd(3))], {}, 1, 17, ("Y",))

# ---- LSTM ----
S, B, I, H = 3, 2, 3, 2
case("lstm_bi", "LSTM", [("X", rnd(S, B, I)), ("W", rnd(2, 4 * H, I)), ("R", rnd(2, 4 * H, H)),
                         ("B", rnd(2, 8 * H)), ("sl", None), ("h0", rnd(2, B, H)), ("c0", rnd(2, B, H)),
                         ("P", rnd(2, 3 * H))],
     dict(hidden_size=H, direction="bidirectional"), 3)
case("lstm_rev", "LSTM", [("X", rnd(S, B, I, scale=2)), ("W", rnd(1, 4 * H, I)), ("R", rnd(1, 4 * H, H)),
                          ("B", rnd(1, 8 * H)), ("sl", np.array([0, 2], np.int32)), ("h0", rnd(1, B, H))],
     dict(hidden_size=H, direction="reverse", input_forget=1, clip=0.6), 3)
case("lstm_acts", "LSTM", [("X", rnd(S, B, I)), ("W", rnd(2, 4 * H, I)), ("R", rnd(2, 4 * H, H)),
                           ("B", rnd(2, 8 * H))],
     dict(hidden_size=H, direction="bidirectional",
          activations=["HardSigmoid", "Elu", "Softsign", "Sigmoid", "ScaledTanh", "Affine"],
          activation_alpha=[0.3, 0.9, 0.8, 0.6], activation_beta=[0.4, 1.2, 0.1]), 3)
# layout 1: onnxruntime only runs layout 0, so transpose around it
x1, w1, r1, b1 = rnd(B, S, I), rnd(2, 4 * H, I), rnd(2, 4 * H, H), rnd(2, 8 * H)
h1, c1 = rnd(B, 2, H), rnd(B, 2, H)
sl1 = np.array([3, 2], np.int32)
res = run("LSTM", [("X", x1.transpose(1, 0, 2).copy()), ("W", w1), ("R", r1), ("B", b1), ("sl", sl1),
                   ("h0", h1.transpose(1, 0, 2).copy()), ("c0", c1.transpose(1, 0, 2).copy())],
          dict(hidden_size=H, direction="bidirectional"), 3, 14)
out.append("/* lstm_l1: LSTM-14 layout=1 bidirectional, sequence_lens; onnxruntime run at layout 0 on"
           " transposed tensors */")
for nm, a in [("X", x1), ("W", w1), ("R", r1), ("B", b1), ("sl", sl1), ("h0", h1), ("c0", c1),
              ("Y", res[0].transpose(2, 0, 1, 3)), ("Y_h", res[1].transpose(1, 0, 2)),
              ("Y_c", res[2].transpose(1, 0, 2))]:
    carr("lstm_l1_" + nm, a)
out.append("")

# ---- GRU ----
case("gru_bi", "GRU", [("X", rnd(S, B, I)), ("W", rnd(2, 3 * H, I)), ("R", rnd(2, 3 * H, H)),
                       ("B", rnd(2, 6 * H)), ("sl", None), ("h0", rnd(2, B, H))],
     dict(hidden_size=H, direction="bidirectional", linear_before_reset=0), 2)
case("gru_lbr", "GRU", [("X", rnd(S, B, I)), ("W", rnd(2, 3 * H, I)), ("R", rnd(2, 3 * H, H)),
                        ("B", rnd(2, 6 * H)), ("sl", None), ("h0", rnd(2, B, H))],
     dict(hidden_size=H, direction="bidirectional", linear_before_reset=1), 2)
case("gru_rev", "GRU", [("X", rnd(S, B, I, scale=2)), ("W", rnd(1, 3 * H, I)), ("R", rnd(1, 3 * H, H)),
                        ("B", rnd(1, 6 * H)), ("sl", np.array([2, 0], np.int32)), ("h0", rnd(1, B, H))],
     dict(hidden_size=H, direction="reverse", linear_before_reset=1, clip=0.5,
          activations=["HardSigmoid", "Relu"], activation_alpha=[0.25], activation_beta=[0.45]), 2)

# ---- RNN ----
case("rnn_rev", "RNN", [("X", rnd(S, B, I)), ("W", rnd(1, H, I)), ("R", rnd(1, H, H)),
                        ("B", rnd(1, 2 * H)), ("sl", None), ("h0", rnd(1, B, H))],
     dict(hidden_size=H, direction="reverse"), 2)
case("rnn_bi", "RNN", [("X", rnd(S, B, I, scale=2)), ("W", rnd(2, H, I)), ("R", rnd(2, H, H)),
                       ("B", rnd(2, 2 * H)), ("sl", np.array([3, 2], np.int32))],
     dict(hidden_size=H, direction="bidirectional", activations=["LeakyRelu", "ThresholdedRelu"],
          activation_alpha=[0.2, 0.1]), 2)
case("rnn_sp", "RNN", [("X", rnd(S, B, I)), ("W", rnd(1, H, I)), ("R", rnd(1, H, H))],
     dict(hidden_size=H, activations=["Softplus"], clip=0.7), 2)
xr, wr, rr, hr = rnd(B, S, I), rnd(1, H, I), rnd(1, H, H), rnd(B, 1, H)
res = run("RNN", [("X", xr.transpose(1, 0, 2).copy()), ("W", wr), ("R", rr), ("B", None), ("sl", None),
                  ("h0", hr.transpose(1, 0, 2).copy())], dict(hidden_size=H), 2, 14)
out.append("/* rnn_l1: RNN-14 layout=1 forward; onnxruntime run at layout 0 on transposed tensors */")
for nm, a in [("X", xr), ("W", wr), ("R", rr), ("h0", hr), ("Y", res[0].transpose(2, 0, 1, 3)),
              ("Y_h", res[1].transpose(1, 0, 2))]:
    carr("rnn_l1_" + nm, a)
out.append("")

print("\n".join(out))
