#!/usr/bin/env python3
"""Two builds of loom on one model, their runs interleaved in one process.

Compiles MODEL with each loom binary to its one-file form (`loom compile
--standalone`, named a and b), links both into one driver and runs them
alternately, the order swapped every run, then prints per build the
fastest run and the median and the ratios b / a (below 1: the second
build's code is faster). On a shared machine a slow spell moves whole
`loom bench` runs by tens of percent; runs this finely interleaved share
it, and A/A (one build twice) reads within 1-2%. With --steps both are
built with bench/step_times.py's timers and the steps whose median time
moved most are printed too.

  python3 bench/ab_builds.py OLD_LOOM NEW_LOOM MODEL [--threads N]
                             [--runs N] [--steps] [--top N] [--openblas]
                             [--dim NAME=N ...]

OLD_LOOM may be a worktree's build of an older commit (git worktree add
/tmp/old REV, then cmake and make its loom): each binary writes the
runtime of its own source tree into the one-file form.

With --openblas both are the default builds instead (the runtime beside
the model, OpenBLAS linked): each build's model and runtime are linked
into one relocatable object whose symbols but the model's own (a_*,
b_*) are made local (ld -r, objcopy), so the two runtimes do not clash.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import step_times  # noqa: E402  (instrument, io_sizes, io_fields)

DRIVER = """#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "a.h"
#include "b.h"
%(steps_decl)s
static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}
static int cmp(const void *x, const void *y)
{
    double u = *(const double *)x, v = *(const double *)y;
    return u < v ? -1 : u > v;
}
static double *rec[2]; /* with the steps: run r's step i at rec[w][r * steps + i] */
static double run(int which, int r, int threads, const void *const *in, void *const *out,
                  void *ws)
{
    double t = now();
    int st = which ? b_run_threads(threads, NULL, NULL, in, out, ws)
                   : a_run_threads(threads, NULL, NULL, in, out, ws);
    if (st != 0)
        exit(1);
    t = now() - t;
%(steps_take)s
    return t;
}
int main(int argc, char **argv)
{
    int runs = atoi(argv[1]), threads = atoi(argv[2]);
    void *in[%(nin)d + 1], *out[2][%(nout)d + 1], *ws[2];
%(inputs)s    for (int w = 0; w < 2; w++)
        for (int i = 0; i < %(nout)d; i++)
            out[w][i] = calloc(osz[i] ? osz[i] : 1, 8);
    if (posix_memalign(&ws[0], 64, A_WORKSPACE_BYTES + 64) ||
        posix_memalign(&ws[1], 64, B_WORKSPACE_BYTES + 64))
        return 1;
    double *t[2] = {calloc((size_t)runs, 8), calloc((size_t)runs, 8)};
    for (int r = 0; r < 5; r++)
        for (int w = 0; w < 2; w++)
            run(w, -1, threads, (const void *const *)in, out[w], ws[w]);
%(steps_reset)s
    for (int r = 0; r < runs; r++)
        for (int k = 0; k < 2; k++) {
            int w = (r + k) %% 2;
            t[w][r] = run(w, r, threads, (const void *const *)in, out[w], ws[w]);
        }
    for (int w = 0; w < 2; w++) {
        qsort(t[w], (size_t)runs, 8, cmp);
        printf("%%.6f %%.6f\\n", t[w][0] * 1e3, t[w][runs / 2] * 1e3);
    }
%(steps_print)s
    return 0;
}
"""

STEPS = {
    "steps_decl": "double *step_times_get_a(void);\ndouble *step_times_get_b(void);",
    "steps_take": "    double *s = which ? step_times_get_b() : step_times_get_a();\n"
                  "    if (r >= 0)\n"
                  "        memcpy(rec[which] + (size_t)r * %(n)d, s, sizeof(double) * %(n)d);\n"
                  "    memset(s, 0, sizeof(double) * %(n)d);",
    "steps_reset": "    for (int w = 0; w < 2; w++)\n"
                   "        rec[w] = calloc((size_t)runs * %(n)d, sizeof(double));",
    "steps_print": "    double *col = calloc((size_t)runs, sizeof(double));\n"
                   "    for (int i = 0; i < %(n)d; i++)\n"
                   "        for (int w = 0; w < 2; w++) {\n"
                   "            for (int r = 0; r < runs; r++)\n"
                   "                col[r] = rec[w][(size_t)r * %(n)d + i];\n"
                   "            qsort(col, (size_t)runs, 8, cmp);\n"
                   "            printf(\"%%.3f%%c\", col[runs / 2] * 1e6, w ? '\\n' : ' ');\n"
                   "        }",
}


def link_apart(cc, name, work):
    """The default build in work/name (model, runtime, weights) as one
    object work/name.o whose only global definitions are name_*."""
    d = os.path.join(work, name)
    objs = []
    for f in sorted(os.listdir(d)):
        if f.endswith(".c") or f.endswith(".S"):
            o = os.path.join(d, f + ".o")
            subprocess.run(cc + ["-std=c99", "-O3", "-march=native", "-mtune=generic",
                                 "-DLOOMRT_USE_CBLAS", "-I" + step_times.OPENBLAS_INC, "-I" + d,
                                 "-c", f, "-o", o], check=True, cwd=d)
            objs.append(o)
    merged = os.path.join(work, name + ".o")
    subprocess.run(["ld", "-r", "-o", merged] + objs, check=True)
    subprocess.run(["objcopy", "--wildcard", "-G", name + "_*", "-G", "step_times_get_" + name,
                    merged], check=True)
    shutil.copy(os.path.join(d, name + ".h"), os.path.join(work, name + ".h"))


def build(args, work):
    """Compiles both builds and the driver; the steps' names."""
    steps = None
    cc = os.environ.get("CC", "cc").split()
    for name, loom in (("a", args.old), ("b", args.new)):
        c = os.path.join(work, name, name + ".c") if args.openblas else \
            os.path.join(work, name + ".c")
        os.makedirs(os.path.dirname(c), exist_ok=True)
        cmd = [loom, "compile", args.model, "-o", c, "--name", name,
               "--threads", str(args.threads)]  # compiled for the count it runs on
        if not args.openblas:
            cmd.append("--standalone")
        for d in args.dim:
            cmd += ["--dim", d]
        subprocess.run(cmd, check=True)
        if args.steps:
            src, st = step_times.instrument(open(c).read())
            if steps is not None and [s for s, _ in st] != [s for s, _ in steps]:
                sys.exit("ab_builds: the two builds' steps differ; compare without --steps")
            steps = st
            open(c, "w").write(src.replace("step_times_get", "step_times_get_" + name))
        if args.openblas:
            link_apart(cc, name, work)
    ins, outs = step_times.io_sizes(open(os.path.join(work, "a.h")).read())
    parts = {k: "" for k in STEPS}
    if args.steps:
        parts = {k: v % {"n": len(steps)} for k, v in STEPS.items()}
    drv = os.path.join(work, "driver.c")
    open(drv, "w").write(DRIVER % dict(parts, **step_times.io_fields(ins, outs)))
    srcs = [os.path.join(work, f) for f in sorted(os.listdir(work))
            if f.endswith(".c") or f.endswith(".S") or f.endswith(".o")]
    libs = ["-lopenblas"] if args.openblas else []
    subprocess.run(cc + ["-std=c99", "-O3", "-march=native", "-mtune=generic", "-I" + work,
                         "-o", os.path.join(work, "ab")] + srcs + libs + ["-lm", "-lpthread"],
                   check=True, cwd=work)
    return steps


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("model")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--steps", action="store_true", help="also the steps' times, both builds")
    ap.add_argument("--openblas", action="store_true",
                    help="the default builds (OpenBLAS linked), not --standalone")
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--dim", action="append", default=[], metavar="NAME=N",
                    help="pins a symbolic input dim (loom compile --dim)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="loom-ab-") as work:
        steps = build(args, work)
        out = subprocess.run([os.path.join(work, "ab"), str(args.runs), str(args.threads)],
                             check=True, capture_output=True, text=True).stdout.split("\n")
    (a_min, a_med), (b_min, b_med) = [map(float, line.split()) for line in out[:2]]
    print("%s, %d thread%s, %d interleaved runs each (ms): a %.3f min %.3f median, "
          "b %.3f min %.3f median; b/a %.3f min, %.3f median" % (
              os.path.basename(os.path.dirname(os.path.abspath(args.model))), args.threads,
              "" if args.threads == 1 else "s", args.runs, a_min, a_med, b_min, b_med,
              b_min / a_min, b_med / a_med))
    if steps:
        rows = [(name, op, *map(float, line.split()))
                for (name, op), line in zip(steps, out[2:2 + len(steps)])]
        print("steps (median us, a -> b), the %d that moved most; all: %.1f -> %.1f" % (
            args.top, sum(r[2] for r in rows), sum(r[3] for r in rows)))
        for name, op, a, b in sorted(rows, key=lambda r: -abs(r[3] - r[2]))[:args.top]:
            print("  %9.1f %9.1f %+8.1f  %-18s %s" % (a, b, b - a, op, name))


if __name__ == "__main__":
    main()
