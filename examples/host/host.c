/*
 * A host program on libloom: loads a model, compiles it (backend c by
 * default, or interp / jit), reads one f32 .npy input and prints the class
 * with the highest score and its value.
 *   host MODEL INPUT.npy [interp|c|jit]
 * Built against the installed library: find_package(loom) or pkg-config.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <loom.h>

/* Reads the data of a little-endian f32 .npy (version 1 to 3) into buf. */
static int read_npy(const char *path, void *buf, size_t bytes)
{
    FILE *f = fopen(path, "rb");
    unsigned char head[12];
    int ok = f && fread(head, 1, 10, f) == 10 && memcmp(head, "\x93NUMPY", 6) == 0;
    long len = 0;
    if (ok && head[6] == 1) {
        len = head[8] | head[9] << 8;
    } else if (ok && fread(head + 10, 1, 2, f) == 2) {
        len = head[8] | head[9] << 8 | (long)head[10] << 16 | (long)head[11] << 24;
    } else {
        ok = 0;
    }
    ok = ok && fseek(f, len, SEEK_CUR) == 0 && fread(buf, 1, bytes, f) == bytes;
    if (f)
        fclose(f);
    return ok;
}

static loom_backend backend_named(const char *s)
{
    return !s || strcmp(s, "c") == 0 ? LOOM_BACKEND_C
           : strcmp(s, "jit") == 0   ? LOOM_BACKEND_JIT
                                     : LOOM_BACKEND_INTERP;
}

/* Runs the compiled model once and prints the best class. */
static int classify(const loom_compiled *c, const char *input, loom_diag *dg)
{
    loom_tensor_info in, out;
    if (loom_input_info(c, 0, &in, dg) || loom_output_info(c, 0, &out, dg))
        return 1;
    float *x = malloc(in.bytes), *y = malloc(out.bytes);
    loom_workspace *w = NULL;
    int rc = !x || !y || !read_npy(input, x, in.bytes);
    if (rc)
        fprintf(stderr, "host: cannot read %zu bytes of f32 input from %s\n", in.bytes, input);
    const void *ins[1] = {x};
    void *outs[1] = {y};
    if (!rc && (loom_workspace_new(c, &w, dg) || loom_run(c, w, ins, 1, outs, 1, dg)))
        rc = 1;
    size_t best = 0;
    for (size_t i = 1; !rc && i < out.bytes / sizeof *y; i++)
        best = y[i] > y[best] ? i : best;
    if (!rc)
        printf("%s: class %zu (%s %.4f)\n", input, best, out.name, y[best]);
    loom_workspace_free(w);
    free(x);
    free(y);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: host MODEL INPUT.npy [interp|c|jit]\n");
        return 2;
    }
    loom_diag dg = {0};
    loom_model *m = NULL;
    loom_compiled *c = NULL;
    loom_compile_options o = loom_compile_options_default();
    o.backend = backend_named(argc > 3 ? argv[3] : NULL);
    int rc = loom_model_load(argv[1], NULL, &m, &dg) || loom_compile(m, &o, &c, &dg);
    loom_model_free(m);
    if (!rc)
        rc = classify(c, argv[2], &dg);
    if (dg.code)
        fprintf(stderr, "host: %s: %s\n", loom_status_name(dg.code), dg.message);
    loom_compiled_free(c);
    return rc;
}
