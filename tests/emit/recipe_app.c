/*
 * The user's program of the standalone recipe in docs/emitted-c.md
 * (tests/emit/recipe.sh copies it to app.c and runs the recipe): includes
 * model.h, runs model_run on INPUT.npy and compares the one output with
 * REFERENCE.npy (the interpreter's, `loom run --output`).
 *
 * usage: app INPUT.npy REFERENCE.npy
 */
#include "model.h"
#include "npy_check.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s INPUT.npy REFERENCE.npy\n", argv[0]);
        return 2;
    }
    float *in = nc_read_npy(argv[1], MODEL_INPUT0_SIZE);
    float *ref = nc_read_npy(argv[2], MODEL_OUTPUT0_SIZE);
    float *out = nc_alloc(MODEL_OUTPUT0_SIZE * sizeof(float));
    void *ws = nc_alloc(MODEL_WORKSPACE_BYTES);
    int status = model_run(in, out, ws);
    int64_t bad = status ? 1 : nc_compare("recipe", out, ref, MODEL_OUTPUT0_SIZE, 1e-5, 1e-4);
    if (status)
        fprintf(stderr, "model_run returned %d\n", status);
    free(in), free(ref), free(out), free(ws);
    return bad ? 1 : 0;
}
