/*
 * loom inspect: prints the model as text IR and a summary (parameters,
 * FLOPs, op histogram, tensor memory). Large constants print elided with
 * their value range (the output stays valid .lir); --weights prints them in
 * full, --summary-only skips the IR.
 */
#include <stdio.h>

#include "ir_stats.h"
#include "ir_text.h"
#include "loom_cli.h"

static void print_bytes(const char *label, int64_t bytes)
{
    printf("  %-22s %lld bytes (%.2f MiB)\n", label, (long long)bytes,
           (double)bytes / (1024.0 * 1024.0));
}

/* The summary block. */
static void print_summary(const ir_graph *g)
{
    ir_stats s;
    ir_graph_stats(g, &s);
    printf("// summary of %s (%s)\n", g->name, g->source);
    printf("  %-22s %d\n", "nodes", g->n_nodes);
    printf("  %-22s %lld\n", "parameters", (long long)s.params);
    printf("  %-22s %lld (%.3f GFLOP)\n", "FLOPs", (long long)s.flops, (double)s.flops / 1e9);
    print_bytes("weights", s.param_bytes);
    print_bytes("inputs + outputs", s.io_bytes);
    print_bytes("activations (sum)", s.activation_bytes);
    print_bytes("largest activation", s.largest_activation_bytes);
    printf("  ops:\n");
    for (int op = 0; op < IR_OP_COUNT; op++)
        if (s.op_count[op])
            printf("    %-20s %d\n", ir_op_name((ir_op)op), s.op_count[op]);
}

static int cmd_inspect(const cli_opts *o, ir_graph *g, ir_diag *d)
{
    (void)d;
    int rc = 0;
    if (!o->summary_only) {
        ir_print_opts popts = {.elide_constants = !o->show_weights,
                               .constant_ranges = !o->show_weights};
        if (ir_print(g, &popts, stdout) != LOOM_STATUS_OK) {
            fprintf(stderr, "loom: cannot write the IR to stdout\n");
            rc = EXIT_BAD_INPUT;
        }
        printf("\n");
    }
    if (!rc)
        print_summary(g);
    return rc;
}

const cli_command cli_inspect = {
    .name = "inspect",
    .bit = CLI_INSPECT,
    .run = cmd_inspect,
    .help =
        "usage: loom inspect MODEL [--summary-only] [--weights]\n"
        "                          [--dim NAME=N]... [--input-shape IN=D,D,...]...\n"
        "                          [--const IN=FILE.npy]... [--keras-weights FILE]\n"
        "Prints the model as text IR (.lir) and a summary: parameters, FLOPs,\n"
        "op histogram and tensor memory. Constants of more than 16 values print\n"
        "as <elided> with their range; --weights prints them in full.\n",
};
