#!/usr/bin/env python3
"""Times loom's AOT-compiled models against onnxruntime, side by side.

For every model (the examples, the exported models in tests/models, and the
large exported ones in $LOOM_LARGE_MODELS when set),
both engines run single-threaded in the same process tree, back to back, on
the same input, and the table reports median latency, the ratio
loom / onnxruntime (below 1 means loom is faster) and loom's workspace
(arena) size. loom runs once per -O level of --levels (default 0,3: before
and after the graph passes, docs/passes.md), so each row shows what the
passes bought, and the summary gives the geometric mean per level. loom is timed by `loom bench --json` (in-process timing of the
compiled run function); onnxruntime by timing session.run in this process.

    python3 bench/bench.py                    # all examples
    python3 bench/bench.py --runs 50 --models mnist_cnn,lstm
    python3 bench/bench.py --levels 3         # after the passes only

Keras models (tests/keras/*/model.keras, with --keras or `make bench`
when keras is installed) run twice: loom reading the .keras file (row
keras_NAME) and loom reading the same network exported to ONNX by Keras
(model.export(format="onnx"), torch backend; row keras_NAME.onnx);
onnxruntime runs that ONNX file for both rows. The two loom columns show
whether the Keras reader's graph is as fast as the ONNX one.

A loom JSON model is converted to an equivalent ONNX model for onnxruntime
(ONNX op and attribute names are loom's; attribute types come from the ONNX
schemas). Needs numpy, onnx, onnxruntime (pip); `make bench` installs them.
"""

import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import AttributeProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ST_DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32,
             "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_}
LOOM_DTYPES = {"f32": np.float32, "f64": np.float64, "i64": np.int64, "i32": np.int32,
               "i8": np.int8, "u8": np.uint8, "bool": np.bool_}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        arr = np.frombuffer(data[8 + n + b:8 + n + e], dtype=ST_DTYPES[info["dtype"]])
        out[name] = arr.reshape(info["shape"])
    return out


def onnx_attr(op, name, value):
    schema = onnx.defs.get_schema(op)
    kind = schema.attributes[name].type
    if kind == AttributeProto.FLOAT:
        return helper.make_attribute(name, float(value))
    if kind == AttributeProto.FLOATS:
        return helper.make_attribute(name, [float(v) for v in value])
    if kind == AttributeProto.INT:
        return helper.make_attribute(name, int(value))
    if kind == AttributeProto.INTS:
        return helper.make_attribute(name, [int(v) for v in value])
    if kind == AttributeProto.TENSOR:
        arr = np.array(value["data"], dtype=LOOM_DTYPES[value["dtype"]]).reshape(value["shape"])
        return helper.make_attribute(name, numpy_helper.from_array(arr))
    return helper.make_attribute(name, value)


def json_to_onnx(path):
    """An ONNX model equal to the loom JSON model at path."""
    with open(path) as f:
        m = json.load(f)
    folder = os.path.dirname(path)
    weights = read_safetensors(os.path.join(folder, m["weights"])) if m.get("weights") else {}
    inits = {name: numpy_helper.from_array(np.ascontiguousarray(a), name)
             for name, a in weights.items()}
    for i in m.get("initializers", []):
        arr = np.array(i["data"], dtype=LOOM_DTYPES[i["dtype"]]).reshape(i["shape"])
        inits[i["name"]] = numpy_helper.from_array(arr, i["name"])
    nodes = []
    for k, n in enumerate(m["nodes"]):
        node = helper.make_node(n["op"], n["inputs"], n["outputs"], name=n.get("name", f"n{k}"))
        node.attribute.extend(onnx_attr(n["op"], a, v) for a, v in n.get("attrs", {}).items())
        nodes.append(node)
    elem = {"f32": onnx.TensorProto.FLOAT, "i64": onnx.TensorProto.INT64}
    inputs = [helper.make_tensor_value_info(i["name"], elem[i["dtype"]], i["shape"])
              for i in m["inputs"]]
    outputs = [helper.make_tensor_value_info(o, onnx.TensorProto.FLOAT, None) for o in m["outputs"]]
    used = {x for n in m["nodes"] for x in n["inputs"]}
    graph = helper.make_graph(nodes, m["name"], inputs, outputs,
                              [t for name, t in sorted(inits.items()) if name in used])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def time_ort(model_bytes, feeds, runs, stat=np.median):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    sess = ort.InferenceSession(model_bytes, opts, providers=["CPUExecutionProvider"])
    for _ in range(3):
        sess.run(None, feeds)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        sess.run(None, feeds)
        times.append((time.perf_counter() - t0) * 1e3)
    return float(stat(times))


KERAS_EXPORT = """
import os, sys
os.environ.setdefault("KERAS_BACKEND", "torch")
import keras, numpy as np
m = keras.models.load_model(sys.argv[1])
xs = [np.load(p) for p in sys.argv[3:]]
m(xs if len(xs) > 1 else xs[0])
m.export(sys.argv[2], format="onnx")
"""


def keras_models(tmp):
    """(name, folder, model file, onnx for ort, dims) for each Keras test
    model, and its ONNX export by Keras; empty when keras is missing."""
    root = os.path.join(ROOT, "tests", "keras")
    out = []
    for d in sorted(os.listdir(root)):
        folder = os.path.join(root, d)
        if not os.path.isfile(os.path.join(folder, "model.keras")):
            continue
        ins = [os.path.join(folder, f) for f in sorted(os.listdir(folder))
               if f.startswith("input_")]
        exported = os.path.join(tmp, d + ".onnx")
        r = subprocess.run([sys.executable, "-c", KERAS_EXPORT, os.path.join(folder, "model.keras"),
                            exported] + ins, capture_output=True, text=True)
        if r.returncode != 0:
            print(f"keras_{d}: ONNX export failed: {r.stderr.strip().splitlines()[-1:]}")
            continue
        out.append(("keras_" + d, folder, "model.keras", exported, []))
        out.append(("keras_" + d + ".onnx", folder, exported, exported, ["batch=1"]))
    return out


def time_loom(loom, model, inputs, runs, dims=(), level=3, extra=()):
    """`loom bench --json` of model at -O{level}, extra options appended."""
    cmd = [loom, "bench", model, "--json", "--threads", "1", "--runs", str(runs), f"-O{level}",
           *extra]
    for d in dims:
        cmd += ["--dim", d]
    for name, path in inputs.items():
        cmd += ["--input", f"{name}={path}"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--loom", default=os.path.join(ROOT, "build", "loom"))
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--models", default="", help="comma-separated model names")
    ap.add_argument("--keras", action="store_true",
                    help="also the Keras models (needs keras 3 and torch)")
    ap.add_argument("--levels", default="0,3",
                    help="comma-separated -O levels to time loom at (0: before the passes)")
    args = ap.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    models = []  # (name, folder, model file)
    for d in sorted(os.listdir(os.path.join(ROOT, "examples"))):
        if os.path.isfile(os.path.join(ROOT, "examples", d, "model.json")):
            models.append((d, os.path.join(ROOT, "examples", d), "model.json", None, None))
    onnx_roots = [os.path.join(ROOT, "tests", "models")]
    if os.environ.get("LOOM_LARGE_MODELS"):
        onnx_roots.append(os.environ["LOOM_LARGE_MODELS"])
    for root in onnx_roots:
        for d in sorted(os.listdir(root)):
            if os.path.isfile(os.path.join(root, d, "model.onnx")):
                models.append((d, os.path.join(root, d), "model.onnx", None, None))
    tmp = tempfile.mkdtemp(prefix="loom-bench-")
    if args.keras:
        models += keras_models(tmp)
    if args.models:
        models = [m for m in models if m[0] in args.models.split(",")]
    print(f"command: {' '.join(sys.argv)}")
    print(f"onnxruntime {ort.__version__}, single thread, median of {args.runs} runs\n")
    head = "".join(f" {'-O%d ms' % lv:>10}" for lv in levels)
    head += f" {'ort ms':>10}" + "".join(f" {'-O%d/ort' % lv:>9}" for lv in levels)
    print(f"{'model':<30}{head} {'arena bytes':>12}")
    ratios = {lv: [] for lv in levels}
    for name, folder, file, ort_file, pins in models:
        model = os.path.join(folder, file)
        inputs = {f[len("input_"):-4]: os.path.join(folder, f)
                  for f in sorted(os.listdir(folder)) if f.startswith("input_")}
        feeds = {k: np.load(v) for k, v in inputs.items()}
        dims = []
        if os.path.isfile(os.path.join(folder, "dims.txt")):
            with open(os.path.join(folder, "dims.txt")) as f:
                dims = [line.strip() for line in f if line.strip()]
        if ort_file:
            dims = pins
            onnx_model = ort_file
        elif file.endswith(".json"):
            onnx_model = json_to_onnx(model).SerializeToString()
        else:
            onnx_model = model  # a path: keeps external data beside it working
        try:
            loom = {lv: time_loom(args.loom, model, inputs, args.runs, dims, lv) for lv in levels}
        except subprocess.CalledProcessError as e:
            print(f"{name:<30} loom failed: {e.stderr.strip().splitlines()[-1:]}")
            continue
        ort_ms = time_ort(onnx_model, feeds, args.runs)
        row = "".join(f" {loom[lv]['median_ms']:>10.4f}" for lv in levels) + f" {ort_ms:>10.4f}"
        for lv in levels:
            ratios[lv].append(loom[lv]["median_ms"] / ort_ms)
            row += f" {ratios[lv][-1]:>9.2f}"
        print(f"{name:<30}{row} {loom[levels[-1]]['workspace_bytes']:>12}")
    for lv in levels:
        if ratios[lv]:
            geo = float(np.exp(np.mean(np.log(ratios[lv]))))
            print(f"\n-O{lv}: {len(ratios[lv])} models: loom/ort geometric mean {geo:.2f}, "
                  f"worst {max(ratios[lv]):.2f}", end="")
    print()


if __name__ == "__main__":
    main()
