/*
 * loom convert: writes the model as text IR (.lir) or as loom JSON with its
 * weights in a safetensors file beside it. Missing folders of the outputs
 * are created; files are written to a temporary name and renamed, so an
 * error never leaves a half-written file.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ir_text.h"
#include "loom_cli.h"

/* Writes text IR to path through a temporary file renamed into place. */
static bool write_lir(const ir_graph *g, const char *path)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) {
        fprintf(stderr, "loom: cannot write %s: %s\n", path, strerror(errno));
        return false;
    }
    ir_print_opts popts = {.elide_constants = false};
    int err = ir_print(g, &popts, f) == LOOM_STATUS_OK ? 0 : errno ? errno : EIO;
    if (fclose(f) != 0 && !err)
        err = errno;
    if (!err && rename(tmp, path) != 0)
        err = errno;
    if (err) {
        fprintf(stderr, "loom: cannot write %s: %s\n", path, strerror(err));
        remove(tmp);
    }
    return !err;
}

static int check_convert(const cli_opts *o)
{
    if (!o->output)
        return cli_usage_error(o->cmd, "%s", "no output given (-o OUT.lir or -o OUT.json)");
    bool lir = cli_ends_with(o->output, ".lir");
    if (!lir && !cli_ends_with(o->output, ".json"))
        return cli_usage_error(o->cmd, "cannot tell the format of %s (use .lir or .json)",
                               o->output);
    if (lir && (o->weights_file || o->inline_weights))
        return cli_usage_error(o->cmd, "%s", "--weights-file and --inline-weights apply to .json");
    if (o->weights_file && o->inline_weights)
        return cli_usage_error(o->cmd, "%s", "--weights-file and --inline-weights exclude each other");
    return 0;
}

static int cmd_convert(const cli_opts *o, ir_graph *g, ir_diag *d)
{
    bool lir = cli_ends_with(o->output, ".lir");
    char weights[4096];
    snprintf(weights, sizeof weights, "%.*s.safetensors", (int)(strlen(o->output) - 5), o->output);
    const char *wpath = o->inline_weights ? NULL : o->weights_file ? o->weights_file : weights;
    bool ok = cli_make_parent(o->output) && (lir || !wpath || cli_make_parent(wpath));
    if (ok && lir) {
        ok = write_lir(g, o->output);
    } else if (ok) {
        loom_status st = fe_json_write(g, o->output, wpath, d);
        if (st)
            cli_report(d, o->output, "writing", st);
        ok = !st;
    }
    return ok ? 0 : EXIT_BAD_INPUT;
}

const cli_command cli_convert = {
    .name = "convert",
    .bit = CLI_CONVERT,
    .check = check_convert,
    .run = cmd_convert,
    .help =
        "usage: loom convert MODEL -o OUT.lir|OUT.json [--weights-file OUT.safetensors]\n"
        "                          [--inline-weights] [--dim NAME=N]...\n"
        "                          [--input-shape IN=D,D,...]... [--const IN=FILE.npy]... [--keras-weights FILE]\n"
        "Writes MODEL as text IR or as loom JSON. JSON weights go to a safetensors\n"
        "file beside OUT (OUT with .safetensors) unless --inline-weights.\n"
        "Missing folders are created.\n",
};
