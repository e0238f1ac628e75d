/*
 * loom: the command-line driver. Each command lives in its own file
 * (tools/loom_cmd_*.c) with its usage text and takes exactly the options
 * the shared table in tools/loom_cli.c gives it; this file dispatches, and
 * prints the overall usage and the version. Exit codes (docs/cli.md):
 *   0 success, 1 bad model/data or failed run (diagnostics on stderr),
 *   2 wrong usage.
 */
#include <stdio.h>
#include <string.h>

#include "be.h"
#include "loom_cli.h"

static const char usage_text[] =
    "usage: loom <command> [options]\n"
    "       loom --version\n"
    "\n"
    "commands:\n"
    "  inspect MODEL     print the model as text IR and a summary\n"
    "  run MODEL         run the model in the reference interpreter (or compiled)\n"
    "  convert MODEL     write the model in another format\n"
    "  compile MODEL     compile the model to C (NAME.c + NAME.h + runtime)\n"
    "  bench MODEL       time the compiled model (or the interpreter)\n"
    "  help [COMMAND]    show help for a command\n"
    "\n"
    "MODEL is a .json (loom model format), .onnx or .lir file.\n"
    "Exit codes: 0 success, 1 bad model or data, 2 wrong usage.\n";

static const cli_command *const commands[] = {
    &cli_inspect, &cli_run, &cli_convert, &cli_compile, &cli_bench, NULL,
};

static const cli_command *find_command(const char *name)
{
    for (int i = 0; commands[i]; i++)
        if (strcmp(commands[i]->name, name) == 0)
            return commands[i];
    return NULL;
}

/* loom help [COMMAND] */
static int help(int argc, char **argv)
{
    if (argc > 3) {
        fprintf(stderr, "loom: help takes one command\n%s", usage_text);
        return EXIT_USAGE;
    }
    if (argc < 3) {
        fputs(usage_text, stdout);
        return 0;
    }
    const cli_command *c = find_command(argv[2]);
    if (!c) {
        fprintf(stderr, "loom: no help for \"%s\": not a command\n%s", argv[2], usage_text);
        return EXIT_USAGE;
    }
    fputs(c->help, stdout);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    bool help_flag = strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0;
    if ((help_flag || strcmp(cmd, "--version") == 0) && argc > 2) {
        fprintf(stderr, "loom: %s takes no arguments\n%s", cmd, usage_text);
        return EXIT_USAGE;
    }
    if (help_flag) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        cli_print_version("loom");
        return 0;
    }
    if (strcmp(cmd, "help") == 0)
        return help(argc, argv);
    const cli_command *c = find_command(cmd);
    if (!c) {
        fprintf(stderr, "loom: unknown command \"%s\"\n%s", cmd, usage_text);
        return EXIT_USAGE;
    }
    cli_opts o = {.runs = 20, .threads = 1};
    int rc = cli_parse(argc, argv, c, &o);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (c->check && (rc = c->check(&o)))
        return rc;
    ir_diag d;
    ir_diag_init(&d);
    double t0 = be_now_ms();
    ir_graph *g = cli_load(&o, &d);
    if (g && o.time)
        fprintf(stderr, "time: load %.1f ms\n", be_now_ms() - t0);
    rc = g ? c->run(&o, g, &d) : EXIT_BAD_INPUT;
    ir_graph_free(g);
    ir_diag_free(&d);
    return rc;
}
