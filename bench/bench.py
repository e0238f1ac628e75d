#!/usr/bin/env python3
"""Times loom's AOT-compiled models against onnxruntime, side by side.

For every model (the examples, the exported models in tests/models, the
large exported ones in $LOOM_LARGE_MODELS and the CNNs with a batch dim in
$LOOM_BATCHED_MODELS (bench/export_batched.py) when set), both engines run
in the same process tree, back to back, on the same input, at each thread
count of --threads (default 1,2; onnxruntime's intra-op threads set to the
same count), and the CNNs and the transformer encoder at each batch of
--batches (default 1,8,32). One table: per model, batch and thread count,
the model's MFLOP, median latencies (--stat min: the fastest run's), the
ratio loom / onnxruntime (below 1
means loom is faster) per -O level of --levels (default 0,3: before and
after the graph passes, docs/passes.md) and for the --standalone build,
and loom's speedup over its own 1-thread time, and both engines' GFLOP/s
as a percentage of the FP32 peak (one core's, measured by bench/fma_peak.c,
times the thread count). loom is timed by
`loom bench --json` (in-process timing of the compiled run function);
onnxruntime by timing session.run in this process.

    python3 bench/bench.py                    # all models, 1 and 2 threads
    python3 bench/bench.py --runs 50 --models mnist_cnn,lstm
    python3 bench/bench.py --levels 3 --threads 1 --no-standalone
    python3 bench/bench.py --stat min       # on a busy machine

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


def model_mflop(model, feeds):
    """Multiply-adds x 2 of the Conv, ConvTranspose, Gemm and MatMul nodes,
    in millions, from ONNX shape inference with the inputs' shapes; None
    when the shapes do not resolve."""
    m = onnx.load(model, load_external_data=False) if isinstance(model, str) else \
        onnx.load_from_string(model)
    for vi in m.graph.input:
        if vi.name in feeds:
            dims = vi.type.tensor_type.shape.dim
            for d, n in zip(dims, feeds[vi.name].shape):
                d.ClearField("dim_param")
                d.dim_value = int(n)
    try:
        m = onnx.shape_inference.infer_shapes(m)
    except Exception:  # noqa: BLE001 (a model the checker rejects: no count)
        return None
    shapes = {t.name: list(t.dims) for t in m.graph.initializer}
    for vi in list(m.graph.input) + list(m.graph.value_info) + list(m.graph.output):
        dims = vi.type.tensor_type.shape.dim
        if all(d.HasField("dim_value") for d in dims):
            shapes[vi.name] = [d.dim_value for d in dims]
    flop = 0
    for n in m.graph.node:
        ins = [shapes.get(x) for x in n.input[:2]]
        out = shapes.get(n.output[0])
        if None in ins or out is None:
            if n.op_type in ("Conv", "ConvTranspose", "Gemm", "MatMul"):
                return None
            continue
        if n.op_type == "Conv":
            flop += 2 * np.prod(out) * np.prod(ins[1][1:])
        elif n.op_type == "ConvTranspose":
            flop += 2 * np.prod(ins[0]) * np.prod(ins[1][1:])
        elif n.op_type == "Gemm":
            trans_a = any(a.name == "transA" and a.i for a in n.attribute)
            flop += 2 * np.prod(out) * ins[0][0 if trans_a else 1]
        elif n.op_type == "MatMul":
            flop += 2 * np.prod(out) * ins[0][-1]
    return float(flop) / 1e6


def time_ort(model_bytes, feeds, runs, threads=1, budget_ms=4000.0, stat=np.median):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    sess = ort.InferenceSession(model_bytes, opts, providers=["CPUExecutionProvider"])
    for _ in range(3):
        t0 = time.perf_counter()
        sess.run(None, feeds)
        once = (time.perf_counter() - t0) * 1e3
    runs = run_count(runs, once, budget_ms)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        sess.run(None, feeds)
        times.append((time.perf_counter() - t0) * 1e3)
    return float(stat(times))


# A cell's runs take at least this long: 30 runs of a 50 us model span
# 1.5 ms, and one preemption on a shared machine moves their median by 2x.
MIN_CELL_MS = 250.0
# and at most this many runs
MAX_RUNS = 20000


def run_count(runs, once_ms, budget_ms):
    """runs, fewer (not under 5) when they would take over budget_ms, more
    (up to MAX_RUNS) when they would take under MIN_CELL_MS."""
    once_ms = max(once_ms, 1e-3)
    if runs * once_ms < MIN_CELL_MS:
        return min(MAX_RUNS, int(MIN_CELL_MS / once_ms) + 1)
    return max(5, min(runs, int(budget_ms / once_ms)))


def time_loom(loom, model, inputs, runs, dims=(), level=3, threads=1, standalone=False,
              extra=()):
    """`loom bench --json` of model at -O{level}, extra options appended."""
    cmd = [loom, "bench", model, "--json", "--threads", str(threads), "--runs", str(runs),
           "--min-time", str(int(MIN_CELL_MS)), f"-O{level}", *extra]
    if standalone:
        cmd.append("--standalone")
    for d in dims:
        cmd += ["--dim", d]
    for name, path in inputs.items():
        cmd += ["--input", f"{name}={path}"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


# Families timed at every batch of --batches (their input's axis 0 is the
# dim "batch"); the others at the batch their dims.txt pins.
BATCHED = ("resnet18", "mobilenet_v2", "squeezenet1_1", "unet", "transformer_encoder")


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


def find_models():
    """(name, folder, model file, onnx for ort, dims) of every benchmark
    model (the last two None: the model file itself, its dims.txt)."""
    models = []
    for d in sorted(os.listdir(os.path.join(ROOT, "examples"))):
        if os.path.isfile(os.path.join(ROOT, "examples", d, "model.json")):
            models.append((d, os.path.join(ROOT, "examples", d), "model.json", None, None))
    onnx_roots = [os.path.join(ROOT, "tests", "models")]
    for var in ("LOOM_LARGE_MODELS", "LOOM_BATCHED_MODELS"):
        if os.environ.get(var):
            onnx_roots.append(os.environ[var])
    for root in onnx_roots:
        for d in sorted(os.listdir(root)):
            if os.path.isfile(os.path.join(root, d, "model.onnx")):
                models.append((d, os.path.join(root, d), "model.onnx", None, None))
    return models


def batch_axes(model_file):
    """Inputs whose axis 0 is the symbolic dim "batch"."""
    if not model_file.endswith(".onnx"):
        return set()
    m = onnx.load(model_file, load_external_data=False)
    return {vi.name for vi in m.graph.input
            if vi.type.tensor_type.shape.dim
            and vi.type.tensor_type.shape.dim[0].dim_param == "batch"}


def batched_case(folder, inputs, dims, axes, batch, tmp):
    """Inputs (paths) and dims for batch: each batched input is its first
    sample repeated, written to tmp."""
    paths, feeds = {}, {}
    for k, v in inputs.items():
        a = np.load(v)
        if k in axes:
            a = np.repeat(a[:1], batch, axis=0)
            v = os.path.join(tmp, f"{os.path.basename(folder)}_{k}_{batch}.npy")
            np.save(v, a)
        paths[k], feeds[k] = v, a
    dims = [d for d in dims if not d.startswith("batch=")] + [f"batch={batch}"]
    return paths, feeds, dims


def fma_peak(tmp):
    """One core's FP32 peak in GFLOP/s, measured by bench/fma_peak.c (None
    when it cannot be built or the CPU has no AVX2+FMA)."""
    exe = os.path.join(tmp, "fma_peak")
    cc = os.environ.get("CC", "cc").split()
    try:
        subprocess.run(cc + ["-O2", "-o", exe, os.path.join(ROOT, "bench", "fma_peak.c"),
                             "-I" + os.path.join(ROOT, "runtime"),
                             os.path.join(ROOT, "runtime", "loomrt_cpu.c")],
                       check=True, capture_output=True, text=True)
        out = subprocess.run([exe], check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return float(out.split(":")[1].split()[0])


def geo(xs):
    return float(np.exp(np.mean(np.log(xs)))) if xs else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--loom", default=os.path.join(ROOT, "build", "loom"))
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--models", default="", help="comma-separated model names")
    ap.add_argument("--levels", default="0,3",
                    help="comma-separated -O levels to time loom at (0: before the passes)")
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    ap.add_argument("--stat", choices=("median", "min"), default="median",
                    help="latency of a cell: the median of its runs, or the fastest (steadier "
                         "on a shared machine, where a slow spell can cover a whole cell)")
    ap.add_argument("--batches", default="1,8,32",
                    help="batches for the CNNs and the transformer encoder")
    ap.add_argument("--keras", action="store_true",
                    help="also the Keras test models, from .keras and from Keras's ONNX export")
    ap.add_argument("--no-standalone", action="store_true",
                    help="skip the --standalone build (no OpenBLAS)")
    args = ap.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    thread_counts = [int(x) for x in args.threads.split(",")]
    batches = [int(x) for x in args.batches.split(",")]
    models = find_models()
    tmp = tempfile.mkdtemp(prefix="loom-bench-")
    if args.keras:
        models += keras_models(tmp)
    if args.models:
        models = [m for m in models if m[0] in args.models.split(",")]
    peak = fma_peak(tmp)
    print(f"command: {' '.join(sys.argv)}")
    if peak:
        print(f"FP32 peak of one core (bench/fma_peak.c): {peak:.1f} GFLOP/s; '%pk' is "
              f"loom -O{levels[-1]}'s and onnxruntime's GFLOP/s over the peak times the "
              f"thread count")
    print(f"onnxruntime {ort.__version__} at the same thread count; {args.stat} of "
          f"{args.runs} runs (fewer for slow cells, and as many as fill {MIN_CELL_MS:.0f} ms "
          f"for fast ones); ratios are loom / onnxruntime latency, "
          f"'sa' is --standalone at -O{levels[-1]}, 'x1->t' loom -O{levels[-1]}'s speedup "
          f"over its 1-thread time\n")
    head = "".join(f" {'-O%d ms' % lv:>9}" for lv in levels)
    head += (" " + f"{'sa ms':>9}") * (not args.no_standalone) + f" {'ort ms':>9}"
    head += "".join(f" {'-O%d/ort' % lv:>8}" for lv in levels)
    head += (" " + f"{'sa/ort':>8}") * (not args.no_standalone) + f" {'x1->t':>6}"
    head += f" {'%pk':>5} {'ort%pk':>6}" * (peak is not None)
    print(f"{'model':<28} {'batch':>5} {'thr':>3} {'MFLOP':>8}{head}")
    ratios = {(lv, t): [] for lv in levels + ["sa"] for t in thread_counts}
    slow = []  # models over 50 MFLOP that 2 threads did not speed up
    for name, folder, file, ort_file, keras_pins in models:
        model = os.path.join(folder, file)
        inputs = {f[len("input_"):-4]: os.path.join(folder, f)
                  for f in sorted(os.listdir(folder)) if f.startswith("input_")}
        dims = []
        if os.path.isfile(os.path.join(folder, "dims.txt")):
            with open(os.path.join(folder, "dims.txt")) as f:
                dims = [line.strip() for line in f if line.strip()]
        if ort_file:
            dims, onnx_model = keras_pins, ort_file
        elif file.endswith(".json"):
            onnx_model = json_to_onnx(model).SerializeToString()
        else:
            onnx_model = model  # a path: keeps external data beside it working
        axes = batch_axes(model) if name.startswith(BATCHED) else set()
        for batch in batches if axes else [None]:
            if batch is None:
                paths, feeds, pins = inputs, {k: np.load(v) for k, v in inputs.items()}, dims
            else:
                paths, feeds, pins = batched_case(folder, inputs, dims, axes, batch, tmp)
            mflop = model_mflop(onnx_model, feeds)
            shown = batch if batch is not None else "-"
            one = None
            for t in thread_counts:
                ort_ms = time_ort(onnx_model, feeds, args.runs, t,
                                  stat=np.min if args.stat == "min" else np.median)
                runs = run_count(args.runs, ort_ms, 4000.0)
                try:
                    loom = {lv: time_loom(args.loom, model, paths, runs, pins, lv, t)
                            for lv in levels}
                    if not args.no_standalone:
                        loom["sa"] = time_loom(args.loom, model, paths, runs, pins, levels[-1],
                                               t, True)
                except subprocess.CalledProcessError as e:
                    print(f"{name:<28} loom failed: {e.stderr.strip().splitlines()[-1:]}")
                    break
                keys = levels + ([] if args.no_standalone else ["sa"])
                key = args.stat + "_ms"
                best = loom[levels[-1]][key]
                one = best if t == 1 else one
                speedup = one / best if one else float("nan")
                row = "".join(f" {loom[k][key]:>9.3f}" for k in keys) + f" {ort_ms:>9.3f}"
                for k in keys:
                    ratios[(k, t)].append(loom[k][key] / ort_ms)
                    row += f" {ratios[(k, t)][-1]:>8.2f}"
                row += f" {speedup:>6.2f}"
                if peak is not None:
                    for ms in (best, ort_ms):
                        pk = 100.0 * mflop / ms / (peak * t) if mflop else None
                        row += f" {pk:>5.0f}" if pk is not None else f" {'?':>5}"
                fl = f"{mflop:>8.1f}" if mflop is not None else f"{'?':>8}"
                print(f"{name:<28} {shown:>5} {t:>3} {fl}{row}", flush=True)
                if t > 1 and mflop and mflop > 50 and speedup <= 1.0:
                    slow.append(f"{name} batch {shown} ({t} threads: x{speedup:.2f})")
    print()
    for (k, t), r in ratios.items():
        if r:
            what = f"-O{k}" if k != "sa" else "standalone"
            print(f"{what:>10}, {t} thread{'s' if t > 1 else ''}: {len(r)} cells, loom/ort "
                  f"geometric mean {geo(r):.2f}, worst {max(r):.2f}")
    print("models over 50 MFLOP not faster on more threads: " + (", ".join(slow) or "none"))


if __name__ == "__main__":
    main()
