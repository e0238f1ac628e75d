/*
 * Two compiled models in one program (tests/emit/two_models.sh): the
 * examples mnist_cnn and gan_discriminator, compiled with
 * `loom compile ... -o DIR/mnist.c` and `-o DIR/discriminator.c`, are
 * linked together with this file (both with the runtime files, or both
 * --standalone, where each carries its own static copy of the runtime).
 * Each runs on its example input, twice with separate workspaces, and
 * its output is compared with the interpreter's (`loom run --output`).
 *
 * usage: two_models MNIST_IN.npy MNIST_REF.npy DISC_IN.npy DISC_REF.npy
 */
#include "discriminator.h"
#include "mnist.h"
#include "npy_check.h"

/* The interpreter sums in another order than OpenBLAS and the portable
 * GEMM: the e2e tolerance of these CNNs (tests/e2e/test_examples.c). */
#define ATOL 1e-5
#define RTOL 1e-4

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s MNIST_IN MNIST_REF DISC_IN DISC_REF\n", argv[0]);
        return 2;
    }
    float *m_in = nc_read_npy(argv[1], MNIST_INPUT0_SIZE);
    float *m_ref = nc_read_npy(argv[2], MNIST_OUTPUT0_SIZE);
    float *d_in = nc_read_npy(argv[3], DISCRIMINATOR_INPUT0_SIZE);
    float *d_ref = nc_read_npy(argv[4], DISCRIMINATOR_OUTPUT0_SIZE);
    float *m_out = nc_alloc(MNIST_OUTPUT0_SIZE * sizeof(float));
    float *d_out = nc_alloc(DISCRIMINATOR_OUTPUT0_SIZE * sizeof(float));
    void *m_ws = nc_alloc(MNIST_WORKSPACE_BYTES);
    void *d_ws = nc_alloc(DISCRIMINATOR_WORKSPACE_BYTES);
    int64_t bad = 0;

    /* interleaved: each model's workspace holds all of its state */
    if (mnist_run(m_in, m_out, m_ws) != 0 || discriminator_run(d_in, d_out, d_ws) != 0) {
        fprintf(stderr, "a run function failed\n");
        return 1;
    }
    bad += nc_compare("mnist", m_out, m_ref, MNIST_OUTPUT0_SIZE, ATOL, RTOL);
    bad += nc_compare("discriminator", d_out, d_ref, DISCRIMINATOR_OUTPUT0_SIZE, ATOL, RTOL);

    /* again through the array entry points, with fresh workspaces filled
     * with garbage: the outputs must not change by a bit */
    float *m_out2 = nc_alloc(MNIST_OUTPUT0_SIZE * sizeof(float));
    float *d_out2 = nc_alloc(DISCRIMINATOR_OUTPUT0_SIZE * sizeof(float));
    void *m_ws2 = nc_alloc(MNIST_WORKSPACE_BYTES);
    void *d_ws2 = nc_alloc(DISCRIMINATOR_WORKSPACE_BYTES);
    memset(m_ws2, 0xa5, MNIST_WORKSPACE_BYTES);
    memset(d_ws2, 0x5a, DISCRIMINATOR_WORKSPACE_BYTES);
    const void *m_ins[] = {m_in}, *d_ins[] = {d_in};
    void *m_outs[] = {m_out2}, *d_outs[] = {d_out2};
    if (discriminator_run_v(d_ins, d_outs, d_ws2) != 0 || mnist_run_v(m_ins, m_outs, m_ws2) != 0) {
        fprintf(stderr, "a _run_v function failed\n");
        return 1;
    }
    if (memcmp(m_out, m_out2, MNIST_OUTPUT0_SIZE * sizeof(float)) != 0 ||
        memcmp(d_out, d_out2, DISCRIMINATOR_OUTPUT0_SIZE * sizeof(float)) != 0) {
        fprintf(stderr, "a second run with another workspace gave other outputs\n");
        bad++;
    }
    if (mnist_run(m_in, m_out, NULL) != -1) {
        fprintf(stderr, "mnist_run with a NULL workspace did not return -1\n");
        bad++;
    }
    free(m_in), free(m_ref), free(d_in), free(d_ref), free(m_out), free(d_out);
    free(m_ws), free(d_ws), free(m_out2), free(d_out2), free(m_ws2), free(d_ws2);
    return bad ? 1 : 0;
}
