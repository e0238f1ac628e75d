#!/usr/bin/env python3
"""Generates loom's seed example models and their reference outputs.

Each model is described once, below, through the small `Model` builder. From
that one description the script writes two twins:

  (a) loom's JSON model format (examples/NAME/model.json) with the weights in
      a safetensors file (examples/NAME/model.safetensors) written by hand
      (8-byte little-endian header length, JSON header with sorted keys, raw
      little-endian data), and
  (b) an ONNX model (opset 17) that onnxruntime runs to produce the reference
      outputs (examples/NAME/expected_OUTPUT.npy) for the inputs
      (examples/NAME/input_INPUT.npy).

The ONNX twin is kept as examples/NAME/model.onnx when its weights are under
1 MB; bigger ones go to a temporary folder (named with --onnx-dir).

Every reference is checked: no NaN/Inf, output not saturated, no intermediate
tensor dead or exploding, and onnxruntime (float32, graph optimizations off)
agrees with onnx's pure-numpy ReferenceEvaluator run on a float64 copy of the
model. The float32 error printed here is what the tolerances in
tests/e2e/test_examples.c are measured against.

Weights come from numpy's PCG64 with a fixed seed per model, so the output
is byte-identical from run to run. Developers run this by hand; the build
never does:

    python3 scripts/gen_examples.py            # all models
    python3 scripts/gen_examples.py lstm       # only the named ones

Needs numpy, onnx and onnxruntime (pip).
"""

import argparse
import json
import math
import os
import struct
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

OPSET = 17
ONNX_IR_VERSION = 8  # the IR version that goes with opset 17
ONNX_COMMIT_LIMIT = 1 << 20  # keep model.onnx only below 1 MB of weights
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

DTYPES = {  # numpy dtype -> (loom dtype, safetensors dtype, ONNX dtype)
    np.dtype(np.float32): ("f32", "F32", TensorProto.FLOAT),
    np.dtype(np.int64): ("i64", "I64", TensorProto.INT64),
}


class Model:
    """One model description: inputs with their data, weights (safetensors),
    small inline initializers, nodes in execution order and outputs."""

    def __init__(self, name, seed):
        self.name = name
        self.rng = np.random.default_rng(seed)
        self.inputs = []    # (name, array)
        self.outputs = []   # value names
        self.weights = {}   # name -> array (in the safetensors file)
        self.inits = {}     # name -> array (inline in the JSON)
        self.nodes = []     # dict(op, name, inputs, outputs, attrs)

    def input(self, name, data):
        self.inputs.append((name, np.ascontiguousarray(data)))
        return name

    def weight(self, name, data):
        assert name not in self.weights and name not in self.inits
        self.weights[name] = np.ascontiguousarray(data, dtype=np.float32)
        return name

    def const(self, name, data, dtype=np.float32):
        """A tiny inline constant (shapes, axes, scalars)."""
        if name not in self.inits:
            self.inits[name] = np.asarray(data, dtype=dtype)
        return name

    def node(self, op, name, inputs, outputs, **attrs):
        """Appends a node; returns its only output or the list of outputs."""
        if isinstance(outputs, str):
            outputs = [outputs]
        self.nodes.append(dict(op=op, name=name, inputs=list(inputs),
                               outputs=list(outputs), attrs=attrs))
        return outputs[0] if len(outputs) == 1 else outputs

    def output(self, name):
        self.outputs.append(name)

    # ---- random parameters ----

    def normal(self, shape, std):
        return (self.rng.standard_normal(shape) * std).astype(np.float32)

    def uniform(self, shape, lo, hi):
        return self.rng.uniform(lo, hi, shape).astype(np.float32)

    # ---- layers used by several models ----

    def conv(self, name, x, cin, cout, k, gain=2.0, **attrs):
        """Conv with Kaiming-normal weights (std sqrt(gain / fan_in))."""
        w = self.weight(name + ".weight",
                        self.normal((cout, cin, k, k), math.sqrt(gain / (cin * k * k))))
        b = self.weight(name + ".bias", self.normal((cout,), 0.05))
        return self.node("Conv", name, [x, w, b], name, kernel_shape=[k, k], **attrs)

    def conv_transpose(self, name, x, cin, cout, k, stride, gain=2.0, **attrs):
        """ConvTranspose; each output sums cin * (k/stride)^2 taps, the fan-in
        that sets the Kaiming scale. ONNX weight layout [cin, cout, kh, kw]."""
        fan_in = cin * (k // stride) ** 2
        w = self.weight(name + ".weight", self.normal((cin, cout, k, k), math.sqrt(gain / fan_in)))
        b = self.weight(name + ".bias", self.normal((cout,), 0.05))
        return self.node("ConvTranspose", name, [x, w, b], name, kernel_shape=[k, k],
                         strides=[stride, stride], **attrs)

    def gemm(self, name, x, fin, fout, gain=2.0):
        """Dense layer as Gemm with transB=1 (weight [out, in], PyTorch layout)."""
        w = self.weight(name + ".weight", self.normal((fout, fin), math.sqrt(gain / fin)))
        b = self.weight(name + ".bias", self.normal((fout,), 0.05))
        return self.node("Gemm", name, [x, w, b], name, transB=1)

    def linear(self, name, x, fin, fout, gain=1.0):
        """Dense layer as MatMul by a [in, out] weight, then Add bias."""
        w = self.weight(name + ".weight", self.normal((fin, fout), math.sqrt(gain / fin)))
        b = self.weight(name + ".bias", self.normal((fout,), 0.05))
        y = self.node("MatMul", name + ".matmul", [x, w], name + ".mm")
        return self.node("Add", name + ".add_bias", [y, b], name)

    def batchnorm(self, name, x, c):
        """Inference BatchNormalization with non-trivial random statistics."""
        s = self.weight(name + ".scale", self.uniform((c,), 0.7, 1.3))
        b = self.weight(name + ".bias", self.normal((c,), 0.1))
        m = self.weight(name + ".mean", self.normal((c,), 0.2))
        v = self.weight(name + ".var", self.uniform((c,), 0.5, 2.0))
        return self.node("BatchNormalization", name, [x, s, b, m, v], name, epsilon=1e-5)


# ---------------------------------------------------------------- models

def mnist_cnn():
    """The Keras MNIST CNN: 28 -> 26 -> 13 -> 11 -> 5 -> 3 (valid convs)."""
    m = Model("mnist_cnn", 1001)
    x = m.input("image", m.uniform((1, 1, 28, 28), 0.0, 1.0))
    for i, (cin, cout) in enumerate([(1, 32), (32, 64), (64, 64)], 1):
        x = m.conv(f"conv{i}", x, cin, cout, 3)
        x = m.node("Relu", f"relu{i}", [x], f"relu{i}")
        if i < 3:
            x = m.node("MaxPool", f"pool{i}", [x], f"pool{i}", kernel_shape=[2, 2],
                       strides=[2, 2])
    x = m.node("Flatten", "flatten", [x], "flat", axis=1)
    x = m.gemm("dense1", x, 64 * 3 * 3, 64)
    x = m.node("Relu", "relu_dense1", [x], "relu_dense1")
    x = m.gemm("dense2", x, 64, 10, gain=6.0)
    m.output(m.node("Softmax", "softmax", [x], "probs", axis=-1))
    return m


def lstm():
    """Two stacked LSTM layers (hidden 128) over 32 steps of 16 features,
    sequence-major [32, 1, 16]; a Dense 10 + Softmax at every step. The
    second layer starts from random initial_h/initial_c, which also puts an
    omitted optional operand ("" for sequence_lens) in the model."""
    m = Model("lstm", 1002)
    seq, batch, feat, hidden = 32, 1, 16, 128
    x = m.input("sequence", m.normal((seq, batch, feat), 1.0))
    axes = m.const("squeeze_axes", [1], np.int64)
    fin = feat
    for i in (1, 2):
        p = f"lstm{i}"
        # ONNX LSTM-14: W [dirs, 4H, in], R [dirs, 4H, H], B [dirs, 8H], gates i,o,f,c
        # std 2/sqrt(fan_in): gate pre-activations of order 1 for unit-scale
        # inputs, and past the linear range of sigmoid/tanh for h of ~0.3
        w = m.weight(p + ".W", m.normal((1, 4 * hidden, fin), 2.0 / math.sqrt(fin)))
        r = m.weight(p + ".R", m.normal((1, 4 * hidden, hidden), 2.0 / math.sqrt(hidden)))
        b = m.weight(p + ".B", m.normal((1, 8 * hidden), 0.1))
        ins = [x, w, r, b]
        if i == 2:
            h0 = m.weight(p + ".initial_h", m.normal((1, batch, hidden), 0.3))
            c0 = m.weight(p + ".initial_c", m.normal((1, batch, hidden), 0.3))
            ins += ["", h0, c0]
        y = m.node("LSTM", p, ins, p + ".Y", hidden_size=hidden)  # [seq, dirs, batch, H]
        x = m.node("Squeeze", p + ".squeeze", [y, axes], p + ".out")  # [seq, batch, H]
        fin = hidden
    # the second layer's h has std ~0.2: a head of std 8/sqrt(H) gives
    # logits of order 1, so the softmax is neither flat nor one-hot
    x = m.linear("dense", x, hidden, 10, gain=64.0)
    m.output(m.node("Softmax", "softmax", [x], "probs", axis=-1))
    return m


def gan_generator():
    """DCGAN-style generator: z [1,100] -> Dense 256-512-1024 (LeakyReLU 0.2)
    -> [1,64,4,4] -> ConvTranspose x3 (4x4, stride 2, pad 1) to [1,3,32,32],
    BatchNorm + ReLU after the first two, Tanh at the end."""
    m = Model("gan_generator", 1003)
    x = m.input("z", m.normal((1, 100), 1.0))
    fin = 100
    for i, fout in enumerate([256, 512, 1024], 1):
        x = m.gemm(f"dense{i}", x, fin, fout, gain=2.0 / (1 + 0.2 ** 2))
        x = m.node("LeakyRelu", f"lrelu{i}", [x], f"lrelu{i}", alpha=0.2)
        fin = fout
    shape = m.const("reshape_to_image", [1, 64, 4, 4], np.int64)
    x = m.node("Reshape", "reshape", [x, shape], "features")
    for i, (cin, cout) in enumerate([(64, 32), (32, 16), (16, 3)], 1):
        last = i == 3
        x = m.conv_transpose(f"deconv{i}", x, cin, cout, 4, 2, gain=1.0 if last else 2.0,
                             pads=[1, 1, 1, 1])
        if not last:
            x = m.batchnorm(f"bn{i}", x, cout)
            x = m.node("Relu", f"relu{i}", [x], f"relu{i}")
    m.output(m.node("Tanh", "tanh", [x], "image"))
    return m


def gan_discriminator():
    """DCGAN-style discriminator: [1,3,32,32] -> Conv 3->32 and 32->64 (4x4,
    stride 2, pad 1) with LeakyReLU 0.2 (BatchNorm on the second) -> Flatten
    -> Dense 1 -> Sigmoid."""
    m = Model("gan_discriminator", 1004)
    x = m.input("image", m.uniform((1, 3, 32, 32), -1.0, 1.0))
    lrelu_gain = 2.0 / (1 + 0.2 ** 2)
    x = m.conv("conv1", x, 3, 32, 4, gain=lrelu_gain, strides=[2, 2], pads=[1, 1, 1, 1])
    x = m.node("LeakyRelu", "lrelu1", [x], "lrelu1", alpha=0.2)
    x = m.conv("conv2", x, 32, 64, 4, gain=lrelu_gain, strides=[2, 2], pads=[1, 1, 1, 1])
    x = m.batchnorm("bn2", x, 64)
    x = m.node("LeakyRelu", "lrelu2", [x], "lrelu2", alpha=0.2)
    x = m.node("Flatten", "flatten", [x], "flat", axis=1)
    x = m.gemm("dense", x, 64 * 8 * 8, 1, gain=1.0)
    m.output(m.node("Sigmoid", "sigmoid", [x], "score"))
    return m


def transformer():
    """Two post-norm transformer encoder layers, d_model 64, 4 heads of 16,
    sequence 16, attention and GELU spelled out in plain ONNX ops."""
    m = Model("transformer", 1005)
    seq, d, heads, ff = 16, 64, 4, 256
    dh = d // heads
    x = m.input("embeddings", m.normal((1, seq, d), 1.0))
    split = m.const("shape_split_heads", [1, seq, heads, dh], np.int64)
    merge = m.const("shape_merge_heads", [1, seq, d], np.int64)
    scale = m.const("attn_scale", np.float32(1.0 / math.sqrt(dh)))
    sqrt2 = m.const("gelu_sqrt2", np.float32(math.sqrt(2.0)))
    one = m.const("gelu_one", np.float32(1.0))
    half = m.const("gelu_half", np.float32(0.5))
    for layer in range(2):
        p = f"layer{layer}."
        heads_of = {}
        for t, perm in (("q", [0, 2, 1, 3]), ("k", [0, 2, 3, 1]), ("v", [0, 2, 1, 3])):
            y = m.linear(p + t + "_proj", x, d, d)
            y = m.node("Reshape", p + t + "_split", [y, split], p + t + "_split")
            # q, v -> [1, heads, seq, dh]; k -> k^T [1, heads, dh, seq]
            heads_of[t] = m.node("Transpose", p + t + "_heads", [y], p + t + "_heads", perm=perm)
        s = m.node("MatMul", p + "scores", [heads_of["q"], heads_of["k"]], p + "scores")
        s = m.node("Mul", p + "scale", [s, scale], p + "scaled")
        a = m.node("Softmax", p + "softmax", [s], p + "attn", axis=-1)
        c = m.node("MatMul", p + "context", [a, heads_of["v"]], p + "context")
        c = m.node("Transpose", p + "merge_transpose", [c], p + "context_t", perm=[0, 2, 1, 3])
        c = m.node("Reshape", p + "merge", [c, merge], p + "merged")
        c = m.linear(p + "out_proj", c, d, d)
        x = m.node("Add", p + "residual1", [x, c], p + "residual1")
        x = layernorm(m, p + "norm1", x, d)
        h = m.linear(p + "ffn1", x, d, ff)
        # GELU(h) = h * 0.5 * (1 + erf(h / sqrt 2))
        g = m.node("Div", p + "gelu.div", [h, sqrt2], p + "gelu.div")
        g = m.node("Erf", p + "gelu.erf", [g], p + "gelu.erf")
        g = m.node("Add", p + "gelu.add", [g, one], p + "gelu.add")
        g = m.node("Mul", p + "gelu.mul", [h, g], p + "gelu.mul")
        g = m.node("Mul", p + "gelu.half", [g, half], p + "gelu")
        f = m.linear(p + "ffn2", g, ff, d)
        x = m.node("Add", p + "residual2", [x, f], p + "residual2")
        x = layernorm(m, p + "norm2", x, d, out="hidden" if layer == 1 else None)
    m.output(x)
    return m


def layernorm(m, name, x, d, out=None):
    s = m.weight(name + ".scale", 1.0 + m.normal((d,), 0.1))
    b = m.weight(name + ".bias", m.normal((d,), 0.1))
    return m.node("LayerNormalization", name, [x, s, b], out or name, axis=-1, epsilon=1e-5)


MODELS = {f.__name__: f for f in (mnist_cnn, lstm, gan_generator, gan_discriminator, transformer)}


# ---------------------------------------------------------------- writers

def safetensors_bytes(tensors):
    """Serializes {name: array} as safetensors: sorted keys, data in key
    order, header padded with spaces to a multiple of 8 bytes."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        a = tensors[name]
        raw = a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes(order="C")
        header[name] = {"dtype": DTYPES[a.dtype][1], "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def json_number(x):
    """Exact JSON text for a float32 (the double nearest to it is itself)."""
    return float(x) if isinstance(x, (float, np.floating)) else int(x)


def json_attr(v):
    if isinstance(v, (list, tuple)):
        return [json_attr(e) for e in v]
    if isinstance(v, (float, np.floating)):
        return float(v)
    return v


def model_json(m):
    """loom's JSON model text: one node per line, deterministic."""
    def dump(o):
        return json.dumps(o, separators=(", ", ": "))

    def array(key, items, last=False):
        """A JSON array field with one item per line."""
        end = "]" if last else "],"
        if not items:
            return [f'  "{key}": {end}']
        return [f'  "{key}": [', ",\n".join("    " + dump(i) for i in items), "  " + end]

    ins = [{"name": n, "dtype": DTYPES[a.dtype][0], "shape": list(a.shape)} for n, a in m.inputs]
    inits = [{"name": n, "dtype": DTYPES[a.dtype][0], "shape": list(a.shape),
              "data": [json_number(e) for e in a.reshape(-1)]} for n, a in m.inits.items()]
    nodes = []
    for n in m.nodes:
        o = {"op": n["op"], "name": n["name"], "inputs": n["inputs"], "outputs": n["outputs"]}
        if n["attrs"]:
            o["attrs"] = {k: json_attr(v) for k, v in sorted(n["attrs"].items())}
        nodes.append(o)
    lines = ["{", f'  "format": "loom-graph", "version": 1, "name": {dump(m.name)},']
    lines += array("inputs", ins)
    lines.append(f'  "outputs": {dump(m.outputs)},')
    lines.append('  "weights": "model.safetensors",')
    if inits:
        lines += array("initializers", inits)
    lines += array("nodes", nodes, last=True) + ["}"]
    return "\n".join(lines) + "\n"


def onnx_model(m, float_type=TensorProto.FLOAT):
    """The ONNX twin. float_type DOUBLE gives the float64 copy that the
    ReferenceEvaluator uses as ground truth."""
    fdt = np.float64 if float_type == TensorProto.DOUBLE else np.float32

    def tensor(name, a):
        if a.dtype == np.float32:
            a = a.astype(fdt)
        return numpy_helper.from_array(a, name)

    nodes = [helper.make_node(n["op"], n["inputs"], n["outputs"], name=n["name"], **n["attrs"])
             for n in m.nodes]
    inputs = [helper.make_tensor_value_info(n, float_type if a.dtype == np.float32
                                            else DTYPES[a.dtype][2], list(a.shape))
              for n, a in m.inputs]
    inits = [tensor(k, v) for k, v in sorted(m.weights.items())]
    inits += [tensor(k, v) for k, v in m.inits.items()]
    graph = helper.make_graph(nodes, m.name, inputs, [], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="loom scripts/gen_examples.py")
    model.ir_version = ONNX_IR_VERSION
    # the outputs get the types ONNX infers (strict: any inference error
    # fails), then the whole model is checked
    inferred = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    types = {v.name: v for v in inferred.graph.value_info}
    model.graph.output.extend(types[n] for n in m.outputs)
    onnx.checker.check_model(model, full_check=True)
    return model


# ---------------------------------------------------------------- references

def run_ort(model, feeds, outputs):
    """onnxruntime on CPU with graph optimizations off, so no fusion changes
    the float32 arithmetic of the plain ops."""
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(model.SerializeToString(), so,
                                providers=["CPUExecutionProvider"])
    return sess.run(outputs, feeds)


def all_values(m):
    return [o for n in m.nodes for o in n["outputs"] if o]


def check_intermediates(m):
    """Runs with every node output exposed; flags dead or exploding tensors."""
    model = onnx_model(m)
    names = all_values(m)
    del model.graph.output[:]
    model.graph.output.extend(helper.make_tensor_value_info(n, TensorProto.FLOAT, None)
                              for n in names)
    feeds = dict(m.inputs)
    problems = []
    for name, v in zip(names, run_ort(model, feeds, names)):
        if not np.all(np.isfinite(v)):
            problems.append(f"{name}: not finite")
        elif np.std(v) < 1e-3 and v.size > 1:
            problems.append(f"{name}: std {np.std(v):.2g} (dead)")
        elif np.max(np.abs(v)) > 1e3:
            problems.append(f"{name}: max |x| {np.max(np.abs(v)):.3g} (exploding)")
    return problems


def check_output(name, v):
    """An output must be finite and not saturated (probabilities away from
    0/1 as a whole, tanh away from +-1)."""
    if not np.all(np.isfinite(v)):
        return [f"{name}: not finite"]
    problems = []
    if v.min() >= 0 and v.max() <= 1:   # softmax / sigmoid
        if np.mean((v < 1e-6) | (v > 1 - 1e-6)) > 0.5:
            problems.append(f"{name}: probabilities saturated")
        if v.size > 1 and v.max() - v.min() < 1e-3:
            problems.append(f"{name}: constant")
    if v.min() >= -1 and v.max() <= 1 and np.mean(np.abs(v) > 0.999) > 0.1:
        problems.append(f"{name}: tanh-like output saturated")
    return problems


def float64_truth(m):
    """The outputs of onnx's numpy ReferenceEvaluator on a float64 copy."""
    ref = ReferenceEvaluator(onnx_model(m, TensorProto.DOUBLE))
    feeds = {n: (a.astype(np.float64) if a.dtype == np.float32 else a) for n, a in m.inputs}
    return ref.run(m.outputs, feeds)


def generate(m, onnx_dir):
    out_dir = os.path.join(ROOT, "examples", m.name)
    os.makedirs(out_dir, exist_ok=True)
    weight_bytes = sum(a.nbytes for a in m.weights.values())
    model = onnx_model(m)
    feeds = dict(m.inputs)
    expected = run_ort(model, feeds, m.outputs)
    truth = float64_truth(m)

    problems = check_intermediates(m)
    print(f"{m.name}: {len(m.nodes)} nodes, {weight_bytes / 1e6:.2f} MB of weights")
    for name, got, want in zip(m.outputs, expected, truth):
        problems += check_output(name, got)
        err = np.abs(got.astype(np.float64) - want)
        rel = err / np.maximum(np.abs(want), 1e-30)
        print(f"  {name} {list(got.shape)}: range [{got.min():.4g}, {got.max():.4g}], "
              f"onnxruntime f32 vs float64: max abs {err.max():.3g}, max rel {rel.max():.3g}")
    if problems:
        sys.exit(f"{m.name}: reference is not sane:\n  " + "\n  ".join(problems))

    with open(os.path.join(out_dir, "model.json"), "w") as f:
        f.write(model_json(m))
    with open(os.path.join(out_dir, "model.safetensors"), "wb") as f:
        f.write(safetensors_bytes(m.weights))
    for name, a in m.inputs:
        np.save(os.path.join(out_dir, f"input_{name}.npy"), a)
    for name, a in zip(m.outputs, expected):
        np.save(os.path.join(out_dir, f"expected_{name}.npy"), a)
    onnx_path = os.path.join(out_dir, "model.onnx")
    if weight_bytes >= ONNX_COMMIT_LIMIT:
        if os.path.exists(onnx_path):
            os.remove(onnx_path)
        onnx_path = os.path.join(onnx_dir, m.name + ".onnx")
    onnx.save(model, onnx_path)
    print(f"  wrote {os.path.relpath(out_dir, ROOT)}/, ONNX twin {onnx_path}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("models", nargs="*", metavar="MODEL",
                    help="models to generate (default: all): " + ", ".join(MODELS))
    ap.add_argument("--onnx-dir", help="where ONNX twins over 1 MB go (default: a temp dir)")
    args = ap.parse_args()
    unknown = [n for n in args.models if n not in MODELS]
    if unknown:
        ap.error("unknown model(s): " + ", ".join(unknown))
    onnx_dir = args.onnx_dir or tempfile.mkdtemp(prefix="loom-examples-")
    os.makedirs(onnx_dir, exist_ok=True)
    for name in args.models or MODELS:
        generate(MODELS[name](), onnx_dir)


if __name__ == "__main__":
    main()
