/*
 * loom run: runs the model on .npy inputs in the reference interpreter, or
 * compiled to C and built with the system compiler (--backend=c), prints
 * each output (integers exactly, floats to 6 digits) and with --output
 * writes DIR/NAME.npy per output.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "loom_cli.h"
#include "loomrt.h"

/* Turns a tensor name into a file name: [A-Za-z0-9._-] kept, others '_'. */
static void safe_name(const char *name, char *buf, size_t size)
{
    size_t i = 0;
    for (; name[i] && i + 1 < size; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        buf[i] = ok ? c : '_';
    }
    buf[i] = '\0';
    if (i == 0 || strcmp(buf, ".") == 0 || strcmp(buf, "..") == 0)
        snprintf(buf, size, "output");
}

/* Prints value i of an output. */
static void print_value(ir_dtype t, const void *data, int64_t i)
{
    switch (t) {
    case IR_DTYPE_F32: printf("%.6g", ((const float *)data)[i]); break;
    case IR_DTYPE_F64: printf("%.6g", ((const double *)data)[i]); break;
    case IR_DTYPE_I64: printf("%" PRId64, ((const int64_t *)data)[i]); break;
    case IR_DTYPE_I32: printf("%" PRId32, ((const int32_t *)data)[i]); break;
    case IR_DTYPE_I8: printf("%d", ((const int8_t *)data)[i]); break;
    case IR_DTYPE_U8: printf("%u", ((const uint8_t *)data)[i]); break;
    case IR_DTYPE_BOOL: printf("%s", ((const uint8_t *)data)[i] ? "true" : "false"); break;
    case IR_DTYPE_F16: printf("%.6g", loomrt_f16_to_f32(((const uint16_t *)data)[i])); break;
    case IR_DTYPE_BF16: printf("%.6g", loomrt_bf16_to_f32(((const uint16_t *)data)[i])); break;
    case IR_DTYPE_COUNT: break;
    }
}

/* Prints an output's name, type and up to 16 values. */
static void print_output(const ir_value *v, const void *data)
{
    char shape[128];
    ir_shape_format(&v->shape, shape, sizeof shape);
    printf("%s: %s%s = [", v->name, ir_dtype_name(v->dtype), shape);
    int64_t n = ir_shape_numel(&v->shape);
    for (int64_t i = 0; i < n && i < 16; i++) {
        fputs(i ? ", " : "", stdout);
        print_value(v->dtype, data, i);
    }
    printf(n > 16 ? ", ... (%lld values)]\n" : "]\n", (long long)n);
}

/* False (with a message) when two outputs would be written to one file. */
static bool distinct_files(const char *dir, const ir_graph *g)
{
    for (int i = 0; i < g->n_outputs; i++)
        for (int k = 0; k < i; k++) {
            char a[256], b[256];
            safe_name(g->outputs[i]->name, a, sizeof a);
            safe_name(g->outputs[k]->name, b, sizeof b);
            if (strcmp(a, b) == 0) {
                fprintf(stderr, "loom: outputs \"%s\" and \"%s\" would both be written to %s/%s.npy\n",
                        g->outputs[k]->name, g->outputs[i]->name, dir, a);
                return false;
            }
        }
    return true;
}

/* Writes every output to DIR/NAME.npy. */
static bool write_outputs(const char *dir, const ir_graph *g, void *const *bufs, ir_diag *d)
{
    if (!cli_make_dirs(dir))
        return false;
    for (int i = 0; i < g->n_outputs; i++) {
        char name[256], path[4096];
        safe_name(g->outputs[i]->name, name, sizeof name);
        snprintf(path, sizeof path, "%s/%s.npy", dir, name);
        loom_status st = fe_npy_write(path, g->outputs[i]->dtype, &g->outputs[i]->shape,
                                      bufs[i], d);
        if (st) {
            cli_report(d, path, "writing", st);
            return false;
        }
    }
    return true;
}

/* Compiles the model through libloom for --backend and runs it once;
 * false after printing why not. */
static bool run_built(const cli_opts *o, ir_graph *g, const void **in, void **out, ir_diag *d)
{
    cli_built bm = {0};
    loom_status st = cli_build(g, o, &bm, d);
    if (st)
        cli_report(d, o->model, "building", st);
    bool ok = !st && cli_built_run(o, &bm, in, out);
    cli_built_free(&bm);
    return ok;
}

/* Allocates the outputs, runs the model, prints and writes them. */
static int run_graph(const cli_opts *o, ir_graph *g, const fe_npy *arrays, ir_diag *d)
{
    const void **in = ir_calloc((size_t)g->n_inputs + 1, sizeof *in);
    void **out = ir_calloc((size_t)g->n_outputs + 1, sizeof *out);
    bool ok = in && out;
    if (!ok)
        fprintf(stderr, "loom: out of memory\n");
    for (int i = 0; ok && i < g->n_inputs; i++)
        in[i] = arrays[i].data;
    for (int i = 0; ok && i < g->n_outputs; i++)
        ok = (out[i] = cli_alloc_value(g->outputs[i], "output")) != NULL;
    ok = ok && run_built(o, g, in, out, d);
    for (int i = 0; ok && i < g->n_outputs; i++)
        print_output(g->outputs[i], out[i]);
    ok = ok && (!o->output || write_outputs(o->output, g, out, d));
    for (int i = 0; out && i < g->n_outputs; i++)
        ir_free(out[i]);
    ir_free(out);
    ir_free(in);
    return ok ? 0 : EXIT_BAD_INPUT;
}

static int check_run(const cli_opts *o)
{
    if (o->backend && strcmp(o->backend, "c") != 0 && strcmp(o->backend, "interp") != 0 &&
        !cli_is_jit(o))
        return cli_usage_error(o->cmd, "unknown --backend=%s (interp, c or jit)", o->backend);
    if (o->time && !cli_is_jit(o))
        return cli_usage_error(o->cmd, "%s", "--time applies to --backend=jit");
    if (o->standalone && !(o->backend && strcmp(o->backend, "c") == 0))
        return cli_usage_error(o->cmd, "%s", "--standalone applies to --backend=c");
    if (o->threads_given && o->threads != 1 && !(o->backend && strcmp(o->backend, "interp") != 0))
        return cli_usage_error(o->cmd, "%s", "--threads applies to --backend=c|jit; the "
                                             "interpreter runs on one thread");
    return 0;
}

static int cmd_run(const cli_opts *o, ir_graph *g, ir_diag *d)
{
    fe_npy *arrays = ir_calloc((size_t)g->n_inputs + 1, sizeof *arrays);
    int rc = EXIT_BAD_INPUT;
    if (!arrays)
        fprintf(stderr, "loom: out of memory\n");
    else if ((!o->output || distinct_files(o->output, g)) &&
             cli_read_inputs(o, g, arrays, true, d))
        rc = run_graph(o, g, arrays, d);
    for (int i = 0; arrays && i < g->n_inputs; i++)
        fe_npy_free(&arrays[i]);
    ir_free(arrays);
    return rc;
}

const cli_command cli_run = {
    .name = "run",
    .bit = CLI_RUN,
    .check = check_run,
    .run = cmd_run,
    .help =
        "usage: loom run MODEL --input NAME=FILE.npy ... [--output DIR]\n"
        "                      [--backend=interp|c|jit] [--standalone] [--time]\n"
        "                      [--threads N]\n"
        "                      [-O0|-O1|-O2|-O3] [--disable-pass=NAME]...\n"
        "                      [--dim NAME=N]... [--input-shape IN=D,D,...]...\n"
        "                      [--const IN=FILE.npy]... [--keras-weights FILE]\n"
        "Runs MODEL in the reference interpreter on .npy inputs (with one graph\n"
        "input, --input FILE.npy is enough), prints each output and, with\n"
        "--output (or -o), writes DIR/OUTPUT.npy per output (characters outside\n"
        "[A-Za-z0-9._-] in names become '_'). --backend=c compiles the model to C,\n"
        "builds it with the system compiler ($CC) and runs that instead;\n"
        "--standalone builds it with the portable runtime instead of OpenBLAS.\n"
        "--backend=jit compiles it in-process through LLVM; --time prints the\n"
        "compile phases' times (passes, lowering, LLVM optimization, code generation).\n"
        "--threads N runs the compiled model's kernels on N threads (default 1).\n"
        "--const binds a graph input to a constant when the model is loaded.\n",
};
