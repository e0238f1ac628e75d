#!/usr/bin/env python3
"""Where a compiled model's time goes, step by step, beside onnxruntime's
per-node profile.

Compiles MODEL to C with `loom compile`, puts a timer before every step
of the run function (the emitted C marks each with a comment naming the
node and its op), builds it like `loom bench` does (-O3 -march=native
-mtune=generic, OpenBLAS unless --standalone), runs it and prints each
step's mean time over the runs, the largest first, and the totals per op.
With --ort it also prints onnxruntime's per-node kernel times (its own
profiler, same thread count) and totals per op type: onnxruntime names
nodes after their outputs and fuses some, so compare by op and by order.

  python3 bench/step_times.py MODEL.onnx [--loom build/loom] [--threads N]
                              [--runs N] [--top N] [--standalone] [--ort]
                              [--dim NAME=N ...]

Wall time per step on the calling thread: with several threads a step
counts until its parallel parts are done. The timers cost about 50 ns a
step, so the sum is a little above `loom bench`'s latency.
"""
import argparse
import collections
import json
import os
import re
import subprocess
import sys
import tempfile

OPENBLAS_INC = "/usr/include/x86_64-linux-gnu/openblas-pthread"

STEP = re.compile(r"^    /\* (.*) \((\w+)\) \*/$")
IO = re.compile(r'^/\* (input|output) (\d+): "(.*)" (\w+)\[(.*)\] \*/$')

TIMERS = """#define _POSIX_C_SOURCE 200809L
#include <time.h>
static double step_t[%(n)d];
static int step_last = -1;
static double step_t0;
static double step_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}
#define STEP_MARK(i)                                                       \\
    do {                                                                   \\
        double n_ = step_now();                                            \\
        if (step_last >= 0)                                                \\
            step_t[step_last] += n_ - step_t0;                             \\
        step_last = (i);                                                   \\
        step_t0 = n_;                                                      \\
    } while (0)
double *step_times_get(void);
double *step_times_get(void)
{
    STEP_MARK(-1);
    return step_t;
}
"""

DRIVER = """#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "%(name)s.h"
double *step_times_get(void);
int main(int argc, char **argv)
{
    int runs = atoi(argv[1]), threads = atoi(argv[2]);
    void *in[%(nin)d + 1], *out[%(nout)d + 1];
%(inputs)s    for (int i = 0; i < %(nout)d; i++)
        out[i] = calloc(osz[i] ? osz[i] : 1, 8);
    void *ws = NULL;
    if (posix_memalign(&ws, 64, %(upper)s_WORKSPACE_BYTES + 64) != 0)
        return 1;
    for (int r = 0; r < 5; r++)
        if (%(name)s_run_threads(threads, NULL, NULL, (const void *const *)in, out, ws) != 0)
            return 1;
    double *t = step_times_get();
    memset(t, 0, sizeof(double) * %(n)d);
    for (int r = 0; r < runs; r++) {
        %(name)s_run_threads(threads, NULL, NULL, (const void *const *)in, out, ws);
        step_times_get();
    }
    for (int i = 0; i < %(n)d; i++)
        printf("%%d %%.3f\\n", i, t[i] / runs * 1e6);
    return 0;
}
"""


# A driver's inputs (in[], float ones filled by a fixed pattern) and the
# sizes of its outputs (osz[]); io_fields fills the %(...)s it takes.
INPUTS = """    size_t isz[] = {%(isz)s 0}, osz[] = {%(osz)s 0};
    int iflt[] = {%(iflt)s 0};
    for (int i = 0; i < %(nin)d; i++) {
        in[i] = calloc(isz[i] ? isz[i] : 1, 8);
        for (size_t k = 0; iflt[i] && k < isz[i]; k++)
            ((float *)in[i])[k] = (float)((k * 2654435761u) %% 2000) / 1000.0f - 1.0f;
    }
"""


def io_fields(ins, outs):
    """The DRIVER fields of ins and outs (io_sizes), INPUTS among them."""
    f = {"nin": len(ins), "nout": len(outs),
         "isz": "".join("%d, " % n for n, _ in ins),
         "iflt": "".join("%d, " % f for _, f in ins),
         "osz": "".join("%d, " % n for n, _ in outs)}
    f["inputs"] = INPUTS % f
    return f


def instrument(src):
    """The emitted C with a timer before each step, and the steps."""
    steps, lines = [], []
    for line in src.split("\n"):
        m = STEP.match(line)
        if m:
            lines.append("    STEP_MARK(%d);" % len(steps))
            steps.append((m.group(1), m.group(2)))
        lines.append(line)
    if not steps:
        sys.exit("step_times: no step comments in the emitted C")
    return TIMERS % {"n": len(steps)} + "\n".join(lines), steps


def io_sizes(header):
    """(sizes, is_float) of the inputs and the outputs' sizes."""
    ins, outs = [], []
    for line in header.split("\n"):
        m = IO.match(line)
        if not m:
            continue
        dims = [int(d) for d in m.group(5).split(",") if d.strip()]
        n = 1
        for d in dims:
            n *= d
        (ins if m.group(1) == "input" else outs).append((n, m.group(4) == "f32"))
    return ins, outs


def loom_steps(args, work):
    name = "m"
    c = os.path.join(work, name + ".c")
    cmd = [args.loom, "compile", args.model, "-o", c]
    for d in args.dim:
        cmd += ["--dim", d]
    if args.standalone:
        cmd.append("--standalone")
    subprocess.run(cmd, check=True)
    src, steps = instrument(open(c).read())
    open(c, "w").write(src)
    ins, outs = io_sizes(open(os.path.join(work, name + ".h")).read())
    drv = os.path.join(work, "driver.c")
    open(drv, "w").write(DRIVER % dict(io_fields(ins, outs), name=name, upper=name.upper(),
                                       n=len(steps)))
    srcs = [c, drv] + [os.path.join(work, f) for f in sorted(os.listdir(work))
                       if f.startswith("loomrt_") and f.endswith(".c")]
    srcs += [os.path.join(work, f) for f in os.listdir(work) if f.endswith(".S")]
    cc = os.environ.get("CC", "cc").split()
    build = cc + ["-std=c99", "-O3", "-march=native", "-mtune=generic", "-I" + work,
                  "-o", os.path.join(work, "steps")] + srcs
    if not args.standalone:
        build[1:1] = ["-DLOOMRT_USE_CBLAS", "-I" + OPENBLAS_INC]
        build += ["-lopenblas"]
    subprocess.run(build + ["-lm", "-lpthread"], check=True, cwd=work)
    out = subprocess.run([os.path.join(work, "steps"), str(args.runs), str(args.threads)],
                         check=True, capture_output=True, text=True, cwd=work).stdout
    times = [float(line.split()[1]) for line in out.split("\n") if line.strip()]
    return [(name, op, t) for (name, op), t in zip(steps, times)]


def ort_steps(args, work):
    import numpy as np
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = args.threads
    so.inter_op_num_threads = 1
    so.enable_profiling = True
    so.profile_file_prefix = os.path.join(work, "ort")
    s = ort.InferenceSession(args.model, so, providers=["CPUExecutionProvider"])
    types = {"tensor(float)": np.float32, "tensor(int64)": np.int64, "tensor(int32)": np.int32}
    feeds = {}
    pins = dict(d.split("=", 1) for d in args.dim)
    for i in s.get_inputs():
        shape = [d if isinstance(d, int) else int(pins.get(d, 1)) for d in i.shape]
        feeds[i.name] = np.random.uniform(-1, 1, shape).astype(types.get(i.type, np.float32))
    for _ in range(5 + args.runs):
        s.run(None, feeds)
    per = collections.OrderedDict()
    for e in json.load(open(s.end_profiling())):
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            per.setdefault(e["name"][:-len("_kernel_time")],
                           [e["args"].get("op_name"), []])[1].append(e["dur"])
    # the last args.runs runs of each node
    return [(n, op, sum(d[-args.runs:]) / len(d[-args.runs:])) for n, (op, d) in per.items()]


def report(title, rows, top):
    total = sum(t for _, _, t in rows)
    print("%s: %d steps, %.1f us in all" % (title, len(rows), total))
    for name, op, t in sorted(rows, key=lambda r: -r[2])[:top]:
        print("  %9.1f us %5.1f%%  %-18s %s" % (t, 100 * t / total, op, name))
    by_op = collections.Counter()
    for _, op, t in rows:
        by_op[op] += t
    print("  per op: " + ", ".join("%s %.0f" % (op, t) for op, t in by_op.most_common()))
    print()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model")
    ap.add_argument("--loom", default="build/loom")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--standalone", action="store_true")
    ap.add_argument("--ort", action="store_true", help="also onnxruntime's per-node times")
    ap.add_argument("--dim", action="append", default=[], metavar="NAME=N",
                    help="pins a symbolic input dim (loom compile --dim), for both engines")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="loom-steps-") as work:
        report("loom (%s, %d thread%s, mean of %d runs)" % (
            "standalone" if args.standalone else "openblas", args.threads,
            "" if args.threads == 1 else "s", args.runs), loom_steps(args, work), args.top)
        if args.ort:
            report("onnxruntime (%d thread%s, mean of %d runs)" % (
                args.threads, "" if args.threads == 1 else "s", args.runs),
                ort_steps(args, work), args.top)


if __name__ == "__main__":
    main()
