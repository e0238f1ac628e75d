/*
 * The three weights modes in one program (tests/emit/weights_modes.sh):
 * one model compiled as m_inline (--weights=inline: hex-float arrays),
 * m_incbin (--weights=incbin: m_incbin.weights.bin linked through
 * m_incbin.weights.S) and m_file (--weights=file: m_file.weights.bin read
 * here and passed to the run function). All three must give bit-identical
 * outputs (the code is the same, only where the weights live differs) that
 * match the interpreter's (`loom run --output`).
 *
 * usage: weights_modes INPUT.npy REFERENCE.npy m_file.weights.bin
 */
#include "m_file.h"
#include "m_incbin.h"
#include "m_inline.h"
#include "npy_check.h"

#define ATOL 1e-5
#define RTOL 1e-4

/* One output buffer per mode, NaN-filled so an unwritten value fails. */
static float *nan_buffer(int64_t n)
{
    float *p = nc_alloc((size_t)n * sizeof(float));
    memset(p, 0xff, (size_t)n * sizeof(float));
    return p;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s INPUT REFERENCE WEIGHTS_BIN\n", argv[0]);
        return 2;
    }
    _Static_assert(M_INLINE_OUTPUT0_SIZE == M_INCBIN_OUTPUT0_SIZE &&
                       M_INLINE_OUTPUT0_SIZE == M_FILE_OUTPUT0_SIZE &&
                       M_INLINE_WORKSPACE_BYTES == M_INCBIN_WORKSPACE_BYTES &&
                       M_INLINE_WORKSPACE_BYTES == M_FILE_WORKSPACE_BYTES,
                   "one model in three modes: same outputs, same workspace");
    const int64_t n = M_INLINE_OUTPUT0_SIZE;
    float *in = nc_read_npy(argv[1], M_INLINE_INPUT0_SIZE);
    float *ref = nc_read_npy(argv[2], n);
    size_t wbytes;
    void *weights = nc_read_file(argv[3], &wbytes);
    if (wbytes != M_FILE_WEIGHTS_BYTES) {
        fprintf(stderr, "%s: %zu bytes, M_FILE_WEIGHTS_BYTES is %lld\n", argv[3], wbytes,
                (long long)M_FILE_WEIGHTS_BYTES);
        return 1;
    }
    float *out_inline = nan_buffer(n), *out_incbin = nan_buffer(n), *out_file = nan_buffer(n);
    void *ws = nc_alloc(M_INLINE_WORKSPACE_BYTES);
    if (m_inline_run(in, out_inline, ws) != 0 || m_incbin_run(in, out_incbin, ws) != 0 ||
        m_file_run(weights, in, out_file, ws) != 0) {
        fprintf(stderr, "a run function failed\n");
        return 1;
    }
    int64_t bad = nc_compare("inline", out_inline, ref, n, ATOL, RTOL);
    bad += nc_compare("incbin", out_incbin, ref, n, ATOL, RTOL);
    bad += nc_compare("file", out_file, ref, n, ATOL, RTOL);
    if (memcmp(out_inline, out_incbin, (size_t)n * sizeof(float)) != 0) {
        fprintf(stderr, "incbin and inline outputs differ\n");
        bad++;
    }
    if (memcmp(out_inline, out_file, (size_t)n * sizeof(float)) != 0) {
        fprintf(stderr, "file and inline outputs differ\n");
        bad++;
    }
    /* the array entry point of the file mode takes the weights first too */
    const void *ins[] = {in};
    void *outs[] = {out_file};
    memset(out_file, 0xff, (size_t)n * sizeof(float));
    if (m_file_run_v(weights, ins, outs, ws) != 0 ||
        memcmp(out_inline, out_file, (size_t)n * sizeof(float)) != 0) {
        fprintf(stderr, "m_file_run_v differs from m_file_run\n");
        bad++;
    }
    free(in), free(ref), free(weights), free(ws);
    free(out_inline), free(out_incbin), free(out_file);
    return bad ? 1 : 0;
}
