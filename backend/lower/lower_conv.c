/*
 * Lowering of the convolution family: Conv, ConvTranspose, MaxPool,
 * AveragePool, GlobalAveragePool and BatchNormalization (inference form).
 * Geometry comes from ir_conv_geometry, as in shape inference and the
 * interpreter (ir/interp/interp_conv.c), so pads and sizes agree exactly.
 *
 * f32 Conv and ConvTranspose are GEMMs. A 3x3 stride-1 Conv with constant
 * weights, enough channels and a large enough plane runs by Winograd's
 * F(2x2, 3x3) (loomrt_conv2d_winograd, the weights transformed here, at
 * compile time): 16 GEMMs of transformed tiles instead of one 2.25 times
 * as long; one read only by a 2x2, stride 2 MaxPool runs inside it, each
 * output tile a window (loomrt_conv2d_winograd_maxpool, conv_pool_user),
 * as a direct Conv of few channels read only by a MaxPool does
 * (loomrt_conv2d_direct_maxpool). Another 1-D or 2-D Conv that needs an
 * unfolding is an implicit GEMM (loomrt_conv2d: the unfolded image made
 * an L2-sized block of packed panels at a time and multiplied at once).
 * Otherwise Conv unfolds each image with im2col (the runtime kernel for
 * 1-D and 2-D outputs of more than 49 positions, a loop nest for smaller
 * ones and for 3-D and up) and multiplies W[g] [M/g, C/g*k] by the
 * columns [C/g*k, out]; a 1x1 stride-1 unpadded Conv, or a window over
 * the whole image, multiplies W by the image itself. ConvTranspose with
 * overlapping windows runs by output phases (conv_transpose_phases: one
 * stride-1 Conv per phase, interleaved into y), one from a single input
 * position as one GEMM straight into y;
 * otherwise it multiplies W[g]^T into columns [M/g*k, in] and scatters
 * them into the output (col2im), a bias written into the output first
 * and the GEMM accumulating onto it (beta = 1).
 *
 * Depthwise Conv (one input channel per group) is not a GEMM: as GEMMs
 * it would be one-row products over a k-times im2col copy. f32 1-D and 2-D
 * ones run by loomrt_dwconv, a 1x1 Conv before one that only it reads
 * runs inside it (loomrt_pwdw, pwdw_user), and one whose output only a 1x1
 * Conv reads runs inside that (loomrt_dwpw, dwpw_user); others are direct
 * loop nests. f64 Conv and ConvTranspose have no GEMM kernel in the runtime and
 * are direct loop nests too (the slow path), with a double accumulator.
 *
 * Pools and direct Conv are loop nests over the output positions with a
 * local accumulator and the window taps innermost. The output box is split
 * per dim into the interior, whose windows lie inside the input, and the
 * borders before and after it (split_regions), one nest each: the interior
 * has no guards (the compiler unrolls the taps and vectorizes along the
 * row), a border tap is guarded by an `if` only along its border dims (for
 * AveragePool's count_include_pad divisor, the padded input).
 */
#include <assert.h>
#include <math.h>
#include <stdio.h>

#include "loomrt.h"
#include "lower_internal.h"

/* Conv's x[n, g, ci, o..., k...] index has 3 + 2 * nsp terms: that bounds
 * the spatial rank the lowering handles. */
#define MAX_SPATIAL ((LOOP_MAX_TERMS - 3) / 2)

/* ---- small builders ---- */

/* Opens `for var < extent` in *b and moves *b into its body; returns the
 * variable, or -1 (no loop) when extent is 1. */
static int open_loop(lower_ctx *c, loop_block **b, int64_t extent)
{
    if (extent == 1)
        return -1;
    int v = loop_var_new(c->f);
    *b = &loop_for(c->f, *b, v, extent)->body;
    return v;
}

/* Adds coef * var to idx unless var is -1 (a loop of extent 1). */
static void term(loop_index *idx, int var, int64_t coef)
{
    if (var >= 0)
        loop_idx_add(idx, var, coef);
}

/* The index coef * var + offset. */
static loop_index at_var(int var, int64_t coef, int64_t offset)
{
    loop_index idx = loop_idx_const(offset);
    term(&idx, var, coef);
    return idx;
}

static int64_t box_size(const int64_t *ext, int n)
{
    int64_t s = 1;
    for (int i = 0; i < n; i++)
        s *= ext[i];
    return s;
}

/* idx += scale * (row-major offset of loop vars v[0..n) in the box ext). */
static void add_box(loop_index *idx, int n, const int *v, const int64_t *ext, int64_t scale)
{
    int64_t str[IR_MAX_RANK];
    for (int i = n - 1; i >= 0; i--) {
        str[i] = scale;
        scale *= ext[i];
    }
    for (int i = 0; i < n; i++) /* outer dims first: terms read in loop order */
        term(idx, v[i], str[i]);
}

/* idx += scale * (row-major offset of positions start[i] + v[i] in the box
 * ext). */
static void add_box_at(loop_index *idx, int n, const int *v, const int64_t *start,
                       const int64_t *ext, int64_t scale)
{
    add_box(idx, n, v, ext, scale);
    for (int i = n - 1; i >= 0; i--) {
        idx->offset += start[i] * scale;
        scale *= ext[i];
    }
}

/* idx += flat offset of the affine positions pos[0..n) in the box ext,
 * row-major or column-major. */
static void add_flat(loop_index *idx, int n, const loop_index *pos, const int64_t *ext,
                     bool col_major)
{
    int64_t str[IR_MAX_RANK], s = 1;
    for (int k = 0; k < n; k++) {
        int i = col_major ? k : n - 1 - k;
        str[i] = s;
        s *= ext[i];
    }
    for (int i = 0; i < n; i++) { /* outer dims first: terms read in loop order */
        for (int t = 0; t < pos[i].n; t++)
            loop_idx_add(idx, pos[i].var[t], pos[i].coef[t] * str[i]);
        idx->offset += pos[i].offset * str[i];
    }
}

static loop_expr *const_i(lower_ctx *c, int64_t v)
{
    return loop_const_i(c->f, IR_DTYPE_I64, v);
}

/* The variable part of idx (offset left out) as an i64 expression; NULL
 * if it has no terms. */
static loop_expr *index_vars(lower_ctx *c, const loop_index *idx)
{
    loop_expr *e = NULL;
    for (int k = 0; k < idx->n; k++) {
        loop_expr *t = loop_var(c->f, idx->var[k]);
        if (idx->coef[k] != 1)
            t = lower_bin(c, LOOP_BINOP_MUL, t, const_i(c, idx->coef[k]));
        e = e ? lower_bin(c, LOOP_BINOP_ADD, e, t) : t;
    }
    return e;
}

/* The whole of idx as an i64 expression. */
static loop_expr *index_expr(lower_ctx *c, const loop_index *idx)
{
    loop_expr *e = index_vars(c, idx);
    if (!e)
        return const_i(c, idx->offset);
    return idx->offset ? lower_bin(c, LOOP_BINOP_ADD, e, const_i(c, idx->offset)) : e;
}

/* a && b, where NULL stands for true. */
static loop_expr *and_expr(lower_ctx *c, loop_expr *a, loop_expr *b)
{
    if (!a || !b)
        return a ? a : b;
    return lower_bin(c, LOOP_BINOP_AND, a, b);
}

/* Appends `local = local + v`. */
static void accumulate(lower_ctx *c, loop_block *b, int local, loop_expr *v)
{
    loop_set(c->f, b, local, lower_bin(c, LOOP_BINOP_ADD, loop_local_read(c->f, local), v));
}

/* A load converted to dtype t when the buffer holds another dtype. */
static loop_expr *load_as(lower_ctx *c, loop_buf *b, loop_index idx, ir_dtype t)
{
    loop_expr *e = loop_load(c->f, b, idx);
    return b->dtype == t ? e : loop_cast(c->f, t, e);
}

/* ---- window taps ---- */

/* The taps of a window: per spatial dim the tap loop var k[i] (-1 for a
 * kernel extent of 1) and the position o[i]*stride + k[i]*dilation -
 * pad_begin it reaches, with the position's range over all iterations. For
 * Conv and pools o runs over the output and the position is in the input;
 * for ConvTranspose o runs over the input and the position is in the
 * output. */
typedef struct window {
    int nsp;
    int k[IR_MAX_RANK];
    loop_index pos[IR_MAX_RANK];
    int64_t min[IR_MAX_RANK], max[IR_MAX_RANK];
} window;

/* Allocates the tap variables (the caller opens their loops) for window
 * origins start[i] + o[i], o[i] < ext[i] (o[i] -1 when ext[i] is 1). */
static void window_init(lower_ctx *c, window *w, const ir_conv_geom *gm, const int *o,
                        const int64_t *start, const int64_t *ext)
{
    w->nsp = gm->nsp;
    for (int i = 0; i < gm->nsp; i++) {
        int64_t s = gm->stride[i], d = gm->dilation[i], pb = gm->pad_begin[i];
        w->k[i] = gm->kernel[i] > 1 ? loop_var_new(c->f) : -1;
        w->pos[i] = at_var(o[i], s, start[i] * s - pb);
        term(&w->pos[i], w->k[i], d);
        w->min[i] = start[i] * s - pb;
        w->max[i] = (start[i] + ext[i] - 1) * s + (gm->kernel[i] - 1) * d - pb;
    }
}

/* A box of window origins: [start[i], start[i] + ext[i]) per dim. */
typedef struct region {
    int64_t start[IR_MAX_RANK], ext[IR_MAX_RANK];
} region;

#define MAX_REGIONS 81 /* 3^MAX_SPATIAL */
_Static_assert(MAX_SPATIAL <= 4, "MAX_REGIONS must be 3^MAX_SPATIAL or more");

/* Splits the output box of a forward window along each dim into the
 * outputs before, inside and after the interior, whose taps all land in
 * the input; r[] receives the non-empty boxes of the product, in row-major
 * order. Returns their count. The interior box needs no guards, the
 * borders only along their border dims. */
static int split_regions(const ir_conv_geom *gm, region *r)
{
    int64_t cut[IR_MAX_RANK][4];
    int count = 0, total = 1;
    for (int i = 0; i < gm->nsp; i++) {
        int64_t s = gm->stride[i], out = gm->out[i];
        int64_t last = gm->in[i] - 1 + gm->pad_begin[i] - (gm->kernel[i] - 1) * gm->dilation[i];
        int64_t a = (gm->pad_begin[i] + s - 1) / s; /* first o with o*s - pb >= 0 */
        int64_t b = last < 0 ? 0 : last / s + 1;    /* past the last with all taps < in */
        a = a < out ? a : out;
        b = b < a ? a : b < out ? b : out;
        cut[i][0] = 0, cut[i][1] = a, cut[i][2] = b, cut[i][3] = out;
        total *= 3;
    }
    for (int code = 0; code < total; code++) {
        bool empty = false;
        for (int i = gm->nsp - 1, rest = code; i >= 0; i--, rest /= 3) {
            int part = rest % 3;
            r[count].start[i] = cut[i][part];
            r[count].ext[i] = cut[i][part + 1] - cut[i][part];
            empty |= r[count].ext[i] == 0;
        }
        count += !empty;
    }
    return count;
}

/* True if along some dim no tap ever lands in [lo, hi). */
static bool window_never(const window *w, const int64_t *lo, const int64_t *hi)
{
    for (int i = 0; i < w->nsp; i++)
        if (w->max[i] < lo[i] || w->min[i] >= hi[i])
            return true;
    return false;
}

/* True if some tap position can leave [lo, hi). */
static bool window_leaves(const window *w, const int64_t *lo, const int64_t *hi)
{
    for (int i = 0; i < w->nsp; i++)
        if (w->min[i] < lo[i] || w->max[i] >= hi[i])
            return true;
    return false;
}

/* lo <= pos < hi along the dims in the bit mask `dims` where the position
 * can leave [lo, hi); NULL when it never does. Dims that are never inside
 * are the caller's to rule out first (window_never). */
static loop_expr *window_guard(lower_ctx *c, const window *w, unsigned dims, const int64_t *lo,
                               const int64_t *hi)
{
    loop_expr *cond = NULL;
    for (int i = 0; i < w->nsp; i++) {
        if (!(dims >> i & 1u))
            continue;
        /* without variable terms min == max, so a needed guard would mean
         * the dim is never inside */
        assert(w->pos[i].n > 0 || (w->min[i] >= lo[i] && w->max[i] < hi[i]));
        int64_t off = w->pos[i].offset;
        if (w->min[i] < lo[i]) /* vars + off >= lo */
            cond = and_expr(c, cond, lower_bin(c, LOOP_BINOP_GE, index_vars(c, &w->pos[i]),
                                         const_i(c, lo[i] - off)));
        if (w->max[i] >= hi[i]) /* vars + off < hi */
            cond = and_expr(c, cond, lower_bin(c, LOOP_BINOP_LT, index_vars(c, &w->pos[i]),
                                         const_i(c, hi[i] - off)));
    }
    return cond;
}

/* Opens loop var v of extent ext (v -1: none) in b and, with lo/hi, the
 * guard that keeps dim i of w in [lo, hi); returns the inner block. */
static loop_block *open_guarded(lower_ctx *c, loop_block *b, int v, int64_t ext, const window *w,
                                int i, const int64_t *lo, const int64_t *hi)
{
    if (v >= 0)
        b = &loop_for(c->f, b, v, ext)->body;
    loop_expr *g = lo ? window_guard(c, w, 1u << i, lo, hi) : NULL;
    return g ? &loop_if(c->f, b, g)->body : b;
}

/* Opens the tap loops of w in b, each followed by the guard of its dim when
 * lo/hi are given (so a tap row that misses skips the inner loops).
 * Returns the innermost block. */
static loop_block *window_open(lower_ctx *c, loop_block *b, const window *w, const ir_conv_geom *gm,
                               const int64_t *lo, const int64_t *hi)
{
    for (int i = 0; i < w->nsp; i++)
        b = open_guarded(c, b, w->k[i], gm->kernel[i], w, i, lo, hi);
    return b;
}

/* ---- runtime kernel calls ---- */

/* The 2-D window of a 1-D or 2-D geometry, 1-D as H = 1: h, w are gm->in
 * and oh, ow gm->out, i.e. the image and output grid of Conv, the input
 * grid and the image of ConvTranspose. */
static loop_conv2d conv2d_of(const ir_conv_geom *gm, int64_t channels)
{
    int h = gm->nsp - 2, w = gm->nsp - 1; /* h is -1 for 1-D */
    return (loop_conv2d){
        .channels = channels,
        .h = h >= 0 ? gm->in[h] : 1,
        .w = gm->in[w],
        .kh = h >= 0 ? gm->kernel[h] : 1,
        .kw = gm->kernel[w],
        .oh = h >= 0 ? gm->out[h] : 1,
        .ow = gm->out[w],
        .pad_t = h >= 0 ? gm->pad_begin[h] : 0,
        .pad_l = gm->pad_begin[w],
        .stride_h = h >= 0 ? gm->stride[h] : 1,
        .stride_w = gm->stride[w],
        .dil_h = h >= 0 ? gm->dilation[h] : 1,
        .dil_w = gm->dilation[w],
    };
}

/* IM2COL or COL2IM of a 1-D or 2-D geometry (conv2d_of). */
static void call_unfold(lower_ctx *c, loop_block *b, loop_kernel k, const ir_conv_geom *gm,
                        int64_t channels, loop_slice src, loop_slice dst)
{
    loop_call_unfold(c->f, b, k, &(loop_unfold){.src = src, .dst = dst, .g = conv2d_of(gm, channels)});
}

/* ---- Conv and ConvTranspose ---- */

/* A Conv or ConvTranspose node's operands and sizes. */
typedef struct conv_op {
    const ir_node *node;
    bool fused; /* an epilogue (activation, residual) follows: bias applied there */
    ir_conv_geom gm;
    loop_buf *x, *w, *b, *y; /* b is NULL without a bias */
    ir_dtype t;
    int64_t batch, c, m, cg, mg; /* N, input and output channels, per group */
    int64_t isp, osp, ksp;       /* spatial sizes: input, output, kernel */
    int64_t y_off;               /* where the output starts in y (a phase's in scratch) */
} conv_op;

/* y's elements from one image to the next: M * osp, or the Concat's
 * image when y is a strided view of its slice (lower_concat_strided). */
static int64_t conv_y_stride(const conv_op *op)
{
    return op->y->alias_stride ? op->y->alias_stride : op->m * op->osp;
}

/* Reports a spatial rank beyond MAX_SPATIAL. */
static loom_status check_rank(lower_ctx *c, const ir_node *n, int nsp)
{
    if (nsp <= MAX_SPATIAL)
        return LOOM_STATUS_OK;
    ir_diag_node(c->d, c->g, n, "%d spatial dims; the lowering handles at most %d", nsp,
                 MAX_SPATIAL);
    return LOOM_STATUS_UNSUPPORTED;
}

/* Resolves geometry, buffers and sizes; op->x is the buffer of x_buf
 * (n's input, or what a fused producer reads instead). */
static loom_status conv_setup_from(lower_ctx *c, const ir_node *n, const ir_value *x_buf,
                                   conv_op *op)
{
    loom_status st = ir_conv_geometry(c->g, n, &op->gm, c->d);
    if (!st)
        st = check_rank(c, n, op->gm.nsp);
    if (st)
        return st;
    const ir_value *x = n->inputs[0], *y = n->outputs[0];
    op->node = n;
    op->y_off = 0;
    op->fused = ir_epilogue_present(n);
    op->t = x->dtype;
    op->x = lower_buf(c, x_buf);
    op->w = lower_buf(c, n->inputs[1]);
    op->b = ir_input(n, 2) ? lower_buf(c, n->inputs[2]) : NULL;
    op->y = lower_buf(c, y);
    op->batch = x->shape.dims[0];
    op->c = x->shape.dims[1];
    op->m = y->shape.dims[1];
    op->cg = op->c / op->gm.group;
    op->mg = op->m / op->gm.group;
    op->isp = box_size(op->gm.in, op->gm.nsp);
    op->osp = box_size(op->gm.out, op->gm.nsp);
    op->ksp = box_size(op->gm.kernel, op->gm.nsp);
    return LOOM_STATUS_OK;
}

static loom_status conv_setup(lower_ctx *c, const ir_node *n, conv_op *op)
{
    return conv_setup_from(c, n, n->inputs[0], op);
}

/* The epilogue of op's kernel call: the node's fused one, or only the
 * bias for an output phase of ConvTranspose (no node: the node's own
 * epilogue comes when the phases are interleaved). */
static loop_epilogue conv_epilogue(lower_ctx *c, const conv_op *op, loop_index bias_idx,
                                   loop_index res_idx)
{
    if (!op->node)
        return (loop_epilogue){.bias = {op->b, bias_idx}, .bias_rs = 1};
    return lower_kernel_epilogue(c, op->node, op->b, bias_idx, 1, 0, res_idx);
}

/* y[n, m, :] = B[m], or 0 without a bias. */
static void fill_bias(lower_ctx *c, loop_block *b, const conv_op *op)
{
    int vn = open_loop(c, &b, op->batch), vm = open_loop(c, &b, op->m);
    int vp = open_loop(c, &b, op->osp);
    loop_index yi = at_var(vn, op->m * op->osp, 0);
    term(&yi, vm, op->osp);
    term(&yi, vp, 1);
    loop_expr *v = op->b ? loop_load(c->f, op->b, at_var(vm, 1, 0)) : loop_const_f(c->f, op->t, 0);
    loop_store(c->f, b, op->y, yi, v);
}

/* True if every spatial dim has kernel 1, stride 1 and no padding: the
 * window is the identity (out == in). */
static bool is_pointwise(const ir_conv_geom *gm)
{
    for (int i = 0; i < gm->nsp; i++)
        if (gm->kernel[i] != 1 || gm->stride[i] != 1 || gm->pad_begin[i] != 0 ||
            gm->pad_end[i] != 0 || gm->out[i] != gm->in[i])
            return false;
    return true;
}

/* Loop vars for the dims of ext (-1 for extents of 1); loops not opened. */
static void new_vars(lower_ctx *c, int n, const int64_t *ext, int *vars)
{
    for (int i = 0; i < n; i++)
        vars[i] = ext[i] > 1 ? loop_var_new(c->f) : -1;
}

/* im2col as a loop nest (3-D and up): col[(ci, k...), (o...)] =
 * x[n, ci, o*s + k*d - pad], 0 in the padding. Taps outside, output
 * positions inside, so the store walks col's rows. */
static void im2col_nest(lower_ctx *c, loop_block *b, const conv_op *op, int vn, loop_buf *col)
{
    const ir_conv_geom *gm = &op->gm;
    int64_t lo[IR_MAX_RANK] = {0};
    int vc = open_loop(c, &b, op->c), o[IR_MAX_RANK];
    window w;
    int64_t zero[IR_MAX_RANK] = {0};
    new_vars(c, gm->nsp, gm->out, o);
    window_init(c, &w, gm, o, zero, gm->out);
    b = window_open(c, b, &w, gm, NULL, NULL);
    for (int i = 0; i < gm->nsp; i++)
        b = open_guarded(c, b, o[i], gm->out[i], &w, i, NULL, NULL);
    loop_index ci = at_var(vc, op->ksp * op->osp, 0), xi = at_var(vn, op->c * op->isp, 0);
    add_box(&ci, gm->nsp, w.k, gm->kernel, op->osp);
    add_box(&ci, gm->nsp, o, gm->out, 1);
    term(&xi, vc, op->isp);
    add_flat(&xi, gm->nsp, w.pos, gm->in, false);
    if (window_never(&w, lo, gm->in)) {
        loop_store(c->f, b, col, ci, loop_const_f(c->f, op->t, 0));
        return;
    }
    loop_expr *g = window_guard(c, &w, ~0u, lo, gm->in);
    if (g) {
        loop_store(c->f, b, col, ci, loop_const_f(c->f, op->t, 0));
        b = &loop_if(c->f, b, g)->body;
    }
    loop_store(c->f, b, col, ci, loop_load(c->f, op->x, xi));
}

/* Products over small planes run transposed at any size: with few
 * output positions per weight, the untransposed GEMM's packing of the
 * weights on every call (OpenBLAS's, or the runtime's reading them in
 * place once per 32 positions) costs nearly as much as the arithmetic,
 * where the transposed one reads them once, packed at compile time, in
 * the order it uses them. Measured on Zen 4, one thread: alone with warm
 * caches 512 x 49 x K products gain 1.07-1.33x from K 2048 and are
 * within 5% either way from K 320 to 960; in the models, where the
 * weights come from memory, resnet18's 4608-deep layers gain 1.15-1.25x,
 * its 256-deep 1x1 downsampling 1.35x, mobilenet_v2's 7x7 1x1 layers
 * (K 160 to 960) 1.1-1.3x. Since the transposed tiles store in
 * registers, planes up to 16x16 gain too: squeezenet1_1's 13x13 layers,
 * its classifier (1000 x 169 x 512) 1870 -> 1692 us and its squeezes
 * 10-20%, the whole model 2-4%, mobilenet_v2 (14x14 layers) 1.5-3%,
 * resnet18 and the U-Net within the noise. */
#define CONV_T_MAX_OUT 256
#define CONV_T_MIN_DEPTH 128

/* The deep products over small planes above (constant f32 weights, the
 * output channels padding the kernel's panels by at most a quarter). */
static bool conv_small_plane(const conv_op *op, int64_t kdim)
{
    int64_t nr = LOOMRT_SGEMM_NR, mpad = (op->mg + nr - 1) / nr * nr;
    return op->osp <= CONV_T_MAX_OUT && kdim >= CONV_T_MIN_DEPTH && op->w->data &&
           op->w->dtype == IR_DTYPE_F32 && 4 * mpad <= 5 * op->mg;
}

/* Whether Conv's GEMMs run transposed, y^T [out, M/g] = col^T W[g]^T
 * with W^T packed at compile time: for the deep products over small
 * planes (conv_small_plane), and when the output plane is narrower than
 * one 16-column panel of the kernel (late layers of small images), most of
 * each panel would be padding, while the channels fill them. Not for
 * short K, where the transposed stores of y would cost as much as the
 * products. */
static bool conv_transposes(const conv_op *op, int64_t kdim)
{
    int64_t nr = LOOMRT_SGEMM_NR, mpad = (op->mg + nr - 1) / nr * nr;
    if (conv_small_plane(op, kdim))
        return true;
    return op->osp < nr && kdim >= 32 && op->osp * mpad < op->mg * nr &&
           lower_packs(op->w, op->osp, op->mg, kdim);
}

/* The transposed GEMM of conv_transposes: per group, with op(A) = col^T
 * (col [K, out] read transposed), B = W[g]^T packed, C = y[n, g] written
 * transposed; the bias is then per column of the product. */
static void call_sgemm_t(lower_ctx *c, loop_block *b, const conv_op *op, const loop_sgemm *g,
                         int vg)
{
    int64_t ps = loomrt_sgemm_packed_size(g->m, g->k);
    loop_buf *wp = lower_pack_b(c, op->w, true, g->m, g->k, g->k, 0, op->gm.group, g->m * g->k);
    loop_epilogue epi = g->epi;
    epi.bias_rs = 0;
    epi.bias_cs = 1;
    loop_call_sgemm_packed(c->f, b,
                           &(loop_sgemm_packed){.a = g->b, .bp = {wp, at_var(vg, ps, 0)},
                                                .c = g->c, .m = g->n, .n = g->m, .k = g->k,
                                                .lda = g->ldb, .ldc = g->ldc, .trans_a = true,
                                                .trans_c = true, .alpha = 1.0, .beta = g->beta,
                                                .epi = epi});
}

/* Output planes up to this size are unfolded by a loop nest (im2col_nest)
 * that the C compiler specializes to the shape, not by the runtime's
 * im2col, whose set-up per channel and tap is amortized over the plane:
 * measured on Zen 4, one thread, 4x4 outputs of 16 channels (a 4x4
 * stride-2 window) 2.0-2.4x faster, resnet18's 7x7 planes 1.07x, 3x3
 * planes 1.01x; 8x8 planes of 32 channels 1.03x slower. */
#define CONV_NEST_MAX_OUT 49

/* True if the window covers the whole (unpadded) image once: one output
 * position, whose unfolded column is the image itself. */
static bool is_whole_image(const ir_conv_geom *gm)
{
    for (int i = 0; i < gm->nsp; i++)
        if (gm->out[i] != 1 || gm->kernel[i] != gm->in[i] || gm->dilation[i] != 1 ||
            gm->pad_begin[i] != 0 || gm->pad_end[i] != 0)
            return false;
    return true;
}

/* The call record of a one-group convolution kernel (loop_conv and its
 * kinds) inside new loops over images and groups: x, y and the bias at
 * the group's offsets, w at wstep floats per group (the weights as given,
 * or packed for the kernel), scratch (may be NULL) shared, the fused
 * epilogue attached. */
static loop_conv conv_group_call(lower_ctx *c, loop_block **b, const conv_op *op, loop_buf *w,
                                 int64_t wstep, loop_buf *scratch)
{
    int vn = open_loop(c, b, op->batch), vg = open_loop(c, b, op->gm.group);
    loop_conv cv = {.x = {op->x, at_var(vn, op->c * op->isp, 0)},
                    .w = {w, at_var(vg, wstep, 0)},
                    .y = {op->y, at_var(vn, conv_y_stride(op), op->y_off)},
                    .scratch = {scratch, loop_idx_const(0)}, .m = op->mg,
                    .g = conv2d_of(&op->gm, op->cg)};
    term(&cv.x.idx, vg, op->cg * op->isp);
    term(&cv.y.idx, vg, op->mg * op->osp);
    cv.epi = conv_epilogue(c, op, at_var(vg, op->mg, 0), cv.y.idx);
    return cv;
}

/* Whether conv_gemm's runtime unfolding and transposed product run as
 * one call (conv_t): 1-D and 2-D windows over planes unfolded by the
 * runtime whose products run transposed, and the pointwise ones whose
 * product the runtime packs x^T for (loomrt_sgemm_packs_at: on AVX-512
 * its tiles otherwise read a cache line per row of K; squeezenet1_1's
 * classifier, 512 -> 1000 over 13x13, 1101 -> 1077 us in the model on
 * one thread). Below that, conv_t would multiply x in place as the
 * transposed product does, with a split of its own. */
static bool conv_t_fits(const conv_op *op, int64_t kdim)
{
    return op->gm.nsp <= 2 && op->osp > CONV_NEST_MAX_OUT && !is_whole_image(&op->gm) &&
           (!is_pointwise(&op->gm) || loomrt_sgemm_packs_at(op->mg, kdim)) &&
           conv_transposes(op, kdim);
}

/* conv_gemm's im2col and transposed product as one loomrt_conv2d_t per
 * image and group, which on several threads has each unfold and multiply
 * a run of output rows itself (the product reads what its own core
 * wrote). */
static void conv_t(lower_ctx *c, loop_block *b, const conv_op *op, int64_t kdim)
{
    loop_conv2d g = conv2d_of(&op->gm, op->cg);
    loop_buf *wp = lower_pack_b(c, op->w, true, op->mg, kdim, kdim, 0, op->gm.group,
                                op->mg * kdim);
    loop_buf *col = lower_scratch(c, "col", IR_DTYPE_F32,
                                  loomrt_conv2d_t_scratch(g.channels, op->mg, g.h, g.w, g.kh,
                                                          g.kw, g.oh, g.ow, g.pad_t, g.pad_l,
                                                          g.stride_h, g.stride_w));
    loop_conv_t ct = conv_group_call(c, &b, op, wp, loomrt_sgemm_packed_size(op->mg, kdim), col);
    loop_call_conv_t(c->f, b, &ct);
}

/* f32 Conv as GEMMs: per image one im2col of all channels (none for a
 * pointwise window or one over the whole image), then per group W[g]
 * [M/g, C/g*k] x col[g] [C/g*k, out] into y[n, g*M/g...]; the SGEMM
 * applies the bias and the fused epilogue to its output tiles. The
 * transposed products over planes the runtime unfolds are one call each
 * (conv_t). */
static void conv_gemm(lower_ctx *c, loop_block *b, const conv_op *op)
{
    const ir_conv_geom *gm = &op->gm;
    int64_t kdim = op->cg * op->ksp;
    if (conv_t_fits(op, kdim)) {
        conv_t(c, b, op, kdim);
        return;
    }
    int vn = open_loop(c, &b, op->batch);
    loop_slice src = {op->x, at_var(vn, op->c * op->isp, 0)};
    if (!is_pointwise(gm) && !is_whole_image(gm)) {
        loop_slice col = {lower_scratch(c, "col", IR_DTYPE_F32, op->c * op->ksp * op->osp),
                          loop_idx_const(0)};
        if (gm->nsp <= 2 && op->osp > CONV_NEST_MAX_OUT)
            call_unfold(c, b, LOOP_KERNEL_IM2COL, gm, op->c, src, col);
        else
            im2col_nest(c, b, op, vn, col.buf);
        src = col;
    }
    int vg = open_loop(c, &b, gm->group);
    loop_sgemm ga = {.a = {op->w, at_var(vg, op->mg * kdim, 0)}, .b = src,
                     .c = {op->y, at_var(vn, conv_y_stride(op), op->y_off)}, .m = op->mg,
                     .n = op->osp, .k = kdim, .lda = kdim, .ldb = op->osp, .ldc = op->osp,
                     .alpha = 1.0};
    term(&ga.b.idx, vg, kdim * op->osp);
    term(&ga.c.idx, vg, op->mg * op->osp);
    ga.epi = conv_epilogue(c, op, at_var(vg, op->mg, 0), ga.c.idx);
    if (conv_transposes(op, kdim))
        call_sgemm_t(c, b, op, &ga, vg);
    else
        loop_call_sgemm(c->f, b, &ga);
}

/* The smallest output plane and depth (C/g * kernel taps) run as an
 * implicit GEMM: measured on resnet18's and squeezenet's layers (AVX2,
 * one thread), narrower planes lose (the weights are read again for every
 * panel, where im2col + GEMM packs them once) and so do shallower ones
 * (the unfolding per panel costs more than the GEMM it feeds). */
#define CONV_IMPLICIT_MIN_OUT 768
#define CONV_IMPLICIT_MIN_DEPTH 128

/* Whether an f32 Conv runs as an implicit GEMM (conv_implicit): 1-D and
 * 2-D windows that need an unfolding (not pointwise), wide and deep
 * enough, with planes whose offsets fit the kernel's 32-bit lanes. */
static bool conv_implicit_fits(const conv_op *op)
{
    return op->gm.nsp <= 2 && !is_pointwise(&op->gm) && op->osp >= CONV_IMPLICIT_MIN_OUT &&
           op->cg * op->ksp >= CONV_IMPLICIT_MIN_DEPTH && op->isp <= INT32_MAX;
}

/* A constant buffer for the weights of every group packed for a kernel,
 * size floats each, named after the weights and what; its data in *data. */
static loop_buf *conv_packed_buf(lower_ctx *c, const conv_op *op, const char *what,
                                 int64_t size, float **data)
{
    *data = ir_arena_alloc(&c->f->arena, (size_t)(size * op->gm.group) * sizeof(float));
    loop_buf *packed = loop_buf_new(c->f, lower_const_name(c, op->w->name, what), LOOP_BUF_CONST,
                                    IR_DTYPE_F32, size * op->gm.group);
    packed->data = *data;
    return packed;
}

/* The constant weights of every group packed now for a kernel: group j's
 * [M/g, C/g * taps] by pack(w_j, M/g, arg, out_j) into size floats each. */
static loop_buf *conv_pack_weights(lower_ctx *c, const conv_op *op, const char *what,
                                   int64_t arg, int64_t size,
                                   void (*pack)(const float *, int64_t, int64_t, float *))
{
    float *data;
    loop_buf *packed = conv_packed_buf(c, op, what, size, &data);
    const float *w = op->w->data;
    for (int64_t j = 0; j < op->gm.group; j++)
        pack(w + j * op->mg * op->cg * op->ksp, op->mg, arg, data + j * size);
    return packed;
}

/* f32 1-D or 2-D Conv as an implicit GEMM: per image and group one
 * loomrt_conv2d, which unfolds a block of output positions at a time
 * straight into packed panels and multiplies it by W[g] [M/g, C/g*k]
 * while it is in cache, the bias and the fused epilogue in registers. */
static void conv_implicit(lower_ctx *c, loop_block *b, const conv_op *op)
{
    loop_conv2d g = conv2d_of(&op->gm, op->cg);
    loop_buf *scratch = lower_scratch(c, "cols", IR_DTYPE_F32,
                                      loomrt_conv2d_scratch(g.channels, g.kh, g.kw, g.oh, g.ow));
    loop_conv cv = conv_group_call(c, &b, op, op->w, op->mg * op->cg * op->ksp, scratch);
    loop_call_conv(c->f, b, &cv);
}

/* Winograd F(2x2, 3x3) pays from this many output tiles (2x2 outputs)
 * and channels in and out per group: measured against loomrt_conv2d on
 * resnet18's, squeezenet's and smaller layers (Zen 4, AVX-512, one
 * thread), 1.2-1.8x faster from 8 channels and 32 tiles, slower with 3
 * input channels (the products are too shallow) and on 3x3 planes. Since
 * its products run transposed on few tiles (loomrt_winograd.c), the 7x7
 * planes (16 tiles) gain too, against the transposed packed product they
 * took before: alone, warm, 16 -> 16 channels 4.2 -> 3.3 us, 128 -> 128
 * 141 -> 94, 512 -> 512 2209 -> 1689; in resnet18, whose three such
 * layers now read weights 16/9 as large (+22 MB), the model 26.9 -> 24.6
 * ms on one thread. 5x5 planes (9 tiles, 25 of 36 outputs used) lose on
 * 32 and 64 channels. */
#define CONV_WINOGRAD_MIN_TILES 16
#define CONV_WINOGRAD_MIN_CHANNELS 8

/* With fewer input channels per group than CONV_WINOGRAD_DEEP, the 16
 * products are that shallow and the transforms' cost per tile the larger
 * part: Winograd then needs CONV_WINOGRAD_SHALLOW_TILES tiles. Measured
 * (`loom bench` of one Conv + Relu, 3x3 pad 1, one thread, us, Winograd
 * -> the other kernels): 8 -> 16 channels over 12x12 (36 tiles) 5.2 ->
 * 4.3, 14x14 7.1 -> 5.9, 16x16 (64) 6.6 -> 7.1, 20x20 11.6 -> 10.9,
 * 28x28 20.5 -> 21.0; 8 -> 32 over 16x16 11.6 -> 13.1; 12 -> 16 over
 * 12x12 6.6 -> 6.0; 16 -> 16 over 12x12 8.1 -> 8.2 (a tie, kept). cnn_ts
 * (8 -> 16 channels, 12x12 outputs) at batch 2: 20.1 -> 17.8 us. */
#define CONV_WINOGRAD_DEEP 16
#define CONV_WINOGRAD_SHALLOW_TILES 64

/* Whether an f32 Conv runs by Winograd's F(2x2, 3x3) (conv_winograd):
 * 2-D, 3x3, strides and dilations 1, constant weights, enough channels
 * and tiles (more with few input channels), planes whose columns fit 32
 * bits. */
static bool conv_winograd_fits(const conv_op *op)
{
    const ir_conv_geom *gm = &op->gm;
    if (gm->nsp != 2 || !op->w->data || op->w->dtype != IR_DTYPE_F32 ||
        op->cg < CONV_WINOGRAD_MIN_CHANNELS || op->mg < CONV_WINOGRAD_MIN_CHANNELS)
        return false;
    for (int i = 0; i < 2; i++)
        if (gm->kernel[i] != 3 || gm->stride[i] != 1 || gm->dilation[i] != 1)
            return false;
    int64_t tiles = (gm->out[0] + 1) / 2 * ((gm->out[1] + 1) / 2);
    int64_t min =
        op->cg < CONV_WINOGRAD_DEEP ? CONV_WINOGRAD_SHALLOW_TILES : CONV_WINOGRAD_MIN_TILES;
    return tiles >= min && op->isp <= INT32_MAX &&
           op->osp <= INT32_MAX; /* columns in 32-bit vector lanes */
}

/* The weights of every group transformed now (loomrt_winograd_pack) for
 * an oh x ow output plane, *us floats each. */
static loop_buf *winograd_weights(lower_ctx *c, const conv_op *op, int64_t oh, int64_t ow,
                                  int64_t *us)
{
    *us = loomrt_winograd_packed_size(op->mg, op->cg, oh, ow);
    float *data;
    loop_buf *u = conv_packed_buf(c, op, "winograd", *us, &data);
    for (int64_t j = 0; j < op->gm.group; j++)
        loomrt_winograd_pack((const float *)op->w->data + j * op->mg * op->cg * op->ksp, op->mg,
                             op->cg, oh, ow, data + j * *us);
    return u;
}

/* The blocks of Winograd scratch a convolution of batch images gets: one
 * a thread the code is compiled for at batch 1, whose image the threads
 * split; one at batch > 1, whose images go to the threads in slot loops
 * (conv_image_slots), each with a scratch of its own. */
static int64_t winograd_blocks(const lower_ctx *c, int64_t batch)
{
    return batch == 1 ? c->threads : 1;
}

/* f32 3x3 Conv by Winograd's F(2x2, 3x3): the weights of each group
 * transformed now (loomrt_winograd_pack), then per image and group one
 * loomrt_conv2d_winograd, the bias and the fused epilogue applied as the
 * outputs are written. */
static void conv_winograd(lower_ctx *c, loop_block *b, const conv_op *op)
{
    loop_conv2d g = conv2d_of(&op->gm, op->cg);
    int64_t us, blocks = winograd_blocks(c, op->batch);
    loop_buf *u = winograd_weights(c, op, g.oh, g.ow, &us);
    loop_buf *scratch = lower_scratch(
        c, "wino", IR_DTYPE_F32, blocks * loomrt_winograd_scratch(op->cg, op->mg, g.oh, g.ow));
    loop_winograd wg = conv_group_call(c, &b, op, u, us, scratch);
    wg.blocks = blocks;
    loop_call_winograd(c->f, b, &wg);
}

/* The direct kernel (loomrt_conv2d_direct) takes convolutions with at
 * most this many input channels per group: measured against loomrt_conv2d
 * (Zen 4, one thread, AVX-512 and AVX2) on the first convolutions of
 * resnet18, squeezenet and mobilenet_v2 (3 channels, 1.6-2.7x faster) and
 * on 8 and 16 channels at 112x112 (1.4-1.7x); deeper ones are GEMMs.
 * With fewer than 16 output channels or an unfolded image (C/g * taps *
 * outputs) under CONV_DIRECT_MIN_COL floats, im2col + SGEMM is faster
 * (the column stays in L2), measured with a Relu fused, Zen 4, one
 * thread, direct -> GEMM: 3x3 windows over 56x56 planes 3 -> 32 channels
 * 88 -> 80 us, 3 -> 16 43 -> 40, 1 -> 8 23 -> 13; 3 -> 8 at 112x112 135
 * -> 128 (also with AVX2: cnn's 1 -> 8 at 28x28 14-21 -> 8.5 us); while
 * 1 -> 32 at 112x112 (113k floats unfolded) 153 -> 170 and 3 -> 32 at
 * 80x80 (173k) 152 -> 170 keep the direct kernel. So do the deep
 * products over small planes (conv_small_plane), whose rows fill a
 * quarter or half of its 16-pixel chunks: dcgan_discriminator's
 * 16-channel 4x4 layer to 4x4 outputs (depth 256) 26 -> 20 us, its
 * 8-channel one to 8x8 (depth 128) 16 -> 12 us (two images). */
#define CONV_DIRECT_MAX_CHANNELS 16
#define CONV_DIRECT_MIN_OUT 16
#define CONV_DIRECT_MIN_COL (3 << 15)

/* Whether an f32 Conv runs by loomrt_conv2d_direct (conv_blocked): 1-D
 * or 2-D, constant weights (packed now), few input channels per group, 16
 * output channels or more, a large unfolded image, not pointwise nor a
 * deep product over a small plane, a window the kernel takes
 * (loomrt_conv2d_direct_fits; its offsets are 64-bit). */
static bool conv_blocked_fits(const conv_op *op)
{
    loop_conv2d g = conv2d_of(&op->gm, op->cg);
    return op->gm.nsp <= 2 && op->w->data && op->w->dtype == IR_DTYPE_F32 &&
           !is_pointwise(&op->gm) && op->cg <= CONV_DIRECT_MAX_CHANNELS &&
           op->mg >= CONV_DIRECT_MIN_OUT && !conv_small_plane(op, op->cg * op->ksp) &&
           op->cg * op->ksp * op->osp >= CONV_DIRECT_MIN_COL &&
           loomrt_conv2d_direct_fits(g.channels, g.kh, g.kw, g.stride_w, g.dil_w);
}

/* f32 Conv with few input channels: the weights of each group packed now
 * in blocks of output channels (loomrt_conv2d_direct_pack), then per image
 * and group one loomrt_conv2d_direct, the bias and the fused epilogue in
 * registers. */
static void conv_blocked(lower_ctx *c, loop_block *b, const conv_op *op)
{
    int64_t k = op->cg * op->ksp, ps = loomrt_conv2d_direct_packed_size(op->mg, k);
    loop_buf *wp = conv_pack_weights(c, op, "blocked", k, ps, loomrt_conv2d_direct_pack);
    loop_conv_direct cd = conv_group_call(c, &b, op, wp, ps, NULL);
    loop_call_conv_direct(c->f, b, &cd);
}

/* Direct Conv over the output box r: y[n, g*M/g + mm, o] = B + sum over ci
 * and the taps inside the input of x[n, g*C/g + ci, pos] *
 * W[g*M/g + mm, ci, k], the taps innermost so that in the interior the
 * compiler unrolls them and vectorizes along the output row. */
static void conv_direct_region(lower_ctx *c, loop_block *b, const conv_op *op, const region *r,
                               const int *v)
{
    const ir_conv_geom *gm = &op->gm;
    int64_t lo[IR_MAX_RANK] = {0};
    int vn = v[0], vg = v[1], vm = v[2], o[IR_MAX_RANK];
    for (int i = 0; i < gm->nsp; i++)
        o[i] = open_loop(c, &b, r->ext[i]);
    int acc = loop_local_new(c->f, op->t);
    loop_index bi = at_var(vg, op->mg, 0);
    term(&bi, vm, 1);
    loop_set(c->f, b, acc, op->b ? loop_load(c->f, op->b, bi) : loop_const_f(c->f, op->t, 0));
    window w;
    window_init(c, &w, gm, o, r->start, r->ext);
    if (!window_never(&w, lo, gm->in)) {
        loop_block *in = b;
        int vc = open_loop(c, &in, op->cg);
        in = window_open(c, in, &w, gm, lo, gm->in);
        loop_index xi = at_var(vn, op->c * op->isp, 0);
        term(&xi, vg, op->cg * op->isp);
        term(&xi, vc, op->isp);
        add_flat(&xi, gm->nsp, w.pos, gm->in, false);
        loop_index wi = at_var(vg, op->mg * op->cg * op->ksp, 0);
        term(&wi, vm, op->cg * op->ksp);
        term(&wi, vc, op->ksp);
        add_box(&wi, gm->nsp, w.k, gm->kernel, 1);
        accumulate(c, in, acc,
                   lower_bin(c, LOOP_BINOP_MUL, loop_load(c->f, op->x, xi), loop_load(c->f, op->w, wi)));
    }
    loop_index yi = at_var(vn, conv_y_stride(op), op->y_off);
    term(&yi, vg, op->mg * op->osp);
    term(&yi, vm, op->osp);
    add_box_at(&yi, gm->nsp, o, r->start, gm->out, 1);
    loop_expr *sum = loop_local_read(c->f, acc);
    loop_store(c->f, b, op->y, yi, op->node ? lower_epilogue_value(c, b, op->node, sum, yi) : sum);
}

/* Direct Conv: for f64 (no f64 GEMM kernel) and for depthwise convolutions
 * (one input channel per group), which as GEMMs would be M/g-row products
 * over an im2col copy k times the input. Loops over images, groups and
 * output channels, then one nest per region of the output. */
static void conv_direct(lower_ctx *c, loop_block *b, const conv_op *op)
{
    region r[MAX_REGIONS];
    int nr = split_regions(&op->gm, r), v[3];
    v[0] = open_loop(c, &b, op->batch);
    v[1] = open_loop(c, &b, op->gm.group);
    v[2] = open_loop(c, &b, op->mg);
    for (int k = 0; k < nr; k++)
        conv_direct_region(c, b, op, &r[k], v);
}

/* f32 depthwise Conv of 1 or 2 spatial dims (one input channel per
 * group): per image one loomrt_dwconv over all channels, with the bias
 * and the fused epilogue applied to each finished row. */
static void conv_depthwise(lower_ctx *c, loop_block *b, const conv_op *op)
{
    loop_conv2d g = conv2d_of(&op->gm, op->m);
    loop_buf *scratch = lower_scratch(
        c, "dw", IR_DTYPE_F32,
        loomrt_dwconv_scratch(g.kh, g.kw, g.oh, g.ow, g.stride_h, g.stride_w, g.dil_h, g.dil_w));
    int vn = open_loop(c, &b, op->batch);
    loop_index yi = at_var(vn, conv_y_stride(op), op->y_off);
    loop_dwconv d = {.x = {op->x, at_var(vn, op->c * op->isp, 0)}, .w = {op->w, loop_idx_const(0)},
                     .y = {op->y, yi}, .scratch = {scratch, loop_idx_const(0)}, .mult = op->mg,
                     .g = g};
    d.epi = conv_epilogue(c, op, loop_idx_const(0), yi);
    loop_call_dwconv(c->f, b, &d);
}

/* ---- a pointwise convolution fused into the depthwise one after it ----
 * MobileNet's inverted residual blocks expand a few channels into many by
 * a 1x1 Conv whose only reader is a depthwise Conv. As one loomrt_pwdw
 * the expanded channels are computed a band of rows at a time where the
 * depthwise kernel reads them, in its channel-blocked layout: the
 * expanded tensor (4.8 MB in mobilenet_v2's second block) is neither
 * stored nor read back, nor transposed into the blocked layout. */

/* The largest expanded tensor (the 1x1 Conv's output, bytes) that is
 * stored whole and read back rather than computed inside the depthwise
 * Conv: one that fits a core's L2 comes back from it, and the 1x1 Conv
 * then runs as one GEMM over the whole plane, while inside loomrt_pwdw
 * it goes a band of rows at a time, in vectors of a row's pixels, which
 * leave lanes idle on rows of 14 or 7. mobilenet_v2 on Zen 3 (AVX2), one
 * thread: its 14x14 and 7x7 blocks (451 and 188 KB) stored 10.63 ->
 * 10.13 ms; the 28x28 ones too (602 KB) 10.12, the 56x56 ones too (1.8
 * MB) 10.57, none fused 10.43. */
#define PWDW_STORED_MAX (512 * 1024)

/* Whether Conv n (its geometry resolved without reporting) is 2-D, f32
 * and depthwise with one output channel per input channel, as
 * loomrt_pwdw takes it. */
static bool pwdw_depthwise(const ir_graph *g, const ir_node *n)
{
    ir_conv_geom gm;
    const ir_value *x = n->inputs[0];
    if (n->op != IR_OP_CONV || x->dtype != IR_DTYPE_F32 || ir_conv_geometry(g, n, &gm, NULL) ||
        gm.nsp != 2 || x->shape.rank != 4 || n->outputs[0]->shape.rank != 4)
        return false;
    int64_t ch = x->shape.dims[1];
    return ch > 0 && gm.group == ch && n->outputs[0]->shape.dims[1] == ch &&
           gm.stride[1] <= LOOMRT_DW_MAX_STRIDE;
}

/* The node that alone reads n's output, as its input 0, when n's
 * epilogue adds no residual: the one that may run n inside it
 * (pwdw_user, dwpw_user, conv_pool_user ask what else it must be);
 * else NULL. */
static const ir_node *sole_reader(const lower_ctx *c, const ir_node *n)
{
    ir_epilogue e;
    ir_epilogue_of(n, &e);
    const ir_value *y = n->outputs[0];
    const ir_node *user = ir_value_single_user(c->g, y);
    return !e.residual && user && user->inputs[0] == y ? user : NULL;
}

/* The depthwise Conv that runs 1x1 Conv n inside it (loomrt_pwdw), or
 * NULL: n f32, 2-D, pointwise, one group, constant weights, no residual
 * in its epilogue, its output read only by that Conv, as its input, and
 * per image larger than PWDW_STORED_MAX. */
static const ir_node *pwdw_user(const lower_ctx *c, const ir_node *n)
{
    ir_conv_geom gm;
    const ir_value *x = n->inputs[0], *y = n->outputs[0];
    if (n->op != IR_OP_CONV || x->dtype != IR_DTYPE_F32 || !n->inputs[1]->data ||
        ir_conv_geometry(c->g, n, &gm, NULL) || gm.nsp != 2 || gm.group != 1 ||
        !is_pointwise(&gm))
        return NULL;
    const ir_node *user = sole_reader(c, n);
    if (!user || !pwdw_depthwise(c->g, user))
        return NULL;
    int64_t bytes = 4;
    for (int i = 1; i < y->shape.rank; i++)
        bytes *= y->shape.dims[i];
    return bytes <= PWDW_STORED_MAX ? NULL : user;
}

/* The operands of 1x1 Conv pw (m x k, K = k) running inside d: its
 * weights packed now, its bias and activation. */
static void pwdw_operands(lower_ctx *c, loop_dwconv *d, const ir_node *pw, int64_t m, int64_t k)
{
    loop_buf *w_pw = lower_buf(c, pw->inputs[1]);
    loop_buf *b_pw = ir_input(pw, 2) ? lower_buf(c, pw->inputs[2]) : NULL;
    d->pw = (loop_slice){lower_pack_b(c, w_pw, true, m, k, k, 0, 1, m * k), loop_idx_const(0)};
    d->pw_k = k;
    d->pw_epi = lower_kernel_epilogue(c, pw, b_pw, loop_idx_const(0), 1, 0, loop_idx_const(0));
}

/* Depthwise Conv n with the 1x1 Conv pw before it, as one loomrt_pwdw
 * per image. */
static loom_status conv_pwdw(lower_ctx *c, loop_block *b, const ir_node *n, const ir_node *pw)
{
    conv_op op;
    loom_status st = conv_setup_from(c, n, pw->inputs[0], &op);
    if (st)
        return st;
    loop_conv2d g = conv2d_of(&op.gm, op.m);
    int64_t k = pw->inputs[0]->shape.dims[1];
    loop_buf *scratch = lower_scratch(c, "dw", IR_DTYPE_F32,
                                      loomrt_pwdw_scratch(g.h, g.w, g.kh, g.kw, g.oh, g.ow,
                                                          g.stride_h, g.stride_w, g.dil_h,
                                                          g.dil_w));
    int vn = open_loop(c, &b, op.batch);
    loop_index yi = at_var(vn, op.m * op.osp, 0);
    loop_dwconv d = {.x = {op.x, at_var(vn, k * op.isp, 0)}, .w = {op.w, loop_idx_const(0)},
                     .y = {op.y, yi}, .scratch = {scratch, loop_idx_const(0)}, .mult = 1,
                     .g = g};
    d.epi = conv_epilogue(c, &op, loop_idx_const(0), yi);
    pwdw_operands(c, &d, pw, op.m, k);
    loop_call_dwconv(c->f, b, &d);
    return LOOM_STATUS_OK;
}

/* ---- a depthwise convolution fused into the 1x1 one after it ----
 * The blocks of MobileNet end by a 1x1 Conv (the projection) reading
 * only the depthwise Conv's output. As one loomrt_dwpw the depthwise
 * outputs go a band of rows at a time into scratch, where the
 * projection's GEMM reads them from L2 (mobilenet_v2's second block
 * writes and reads back 1.6 MB otherwise); the 1x1 Conv before the
 * depthwise one, when it runs inside it (pwdw_user), goes along. */

/* The 1x1 Conv that runs depthwise Conv n inside it (loomrt_dwpw), or
 * NULL: n as loomrt_pwdw takes it (pwdw_depthwise), no residual in its
 * epilogue, its output read only by that Conv, as its input, the Conv
 * f32, 2-D, pointwise, one group, over a plane larger than
 * CONV_T_MAX_OUT (smaller ones run transposed, their weights packed at
 * compile time: mobilenet_v2's 576 -> 160 at 7x7 ran 5% slower fused),
 * and the depthwise kernels' band of all n's channels within
 * loomrt_dwpw's (loomrt_dwpw_fits: a band cut shorter would compute the
 * 1x1 Conv before it on more overlapping rows; alone on Zen 3,
 * mobilenet_v2's 24 -> 144 -> 24 at 56x56 ran 9% slower fused, 32 -> 192
 * -> 32 at 28x28 12%). */
static const ir_node *dwpw_user(const lower_ctx *c, const ir_node *n)
{
    ir_conv_geom gm, pm;
    if (!pwdw_depthwise(c->g, n) || ir_conv_geometry(c->g, n, &gm, NULL))
        return NULL;
    const ir_value *y = n->outputs[0];
    const ir_node *user = sole_reader(c, n);
    if (!user || user->op != IR_OP_CONV || ir_conv_geometry(c->g, user, &pm, NULL) ||
        pm.nsp != 2 || pm.group != 1 || !is_pointwise(&pm) ||
        pm.out[0] * pm.out[1] <= CONV_T_MAX_OUT || user->outputs[0]->shape.rank != 4)
        return NULL;
    loop_conv2d g = conv2d_of(&gm, y->shape.dims[1]);
    return loomrt_dwpw_fits(g.channels, g.kh, g.kw, g.oh, g.ow, g.stride_h, g.stride_w, g.dil_h,
                            g.dil_w)
               ? user
               : NULL;
}

/* Depthwise Conv dw with the 1x1 Conv pj after it (and the 1x1 Conv
 * before it, when that runs inside it), as one loomrt_dwpw per image. */
static loom_status conv_dwpw(lower_ctx *c, loop_block *b, const ir_node *dw, const ir_node *pj)
{
    const ir_node *pw = dw->inputs[0]->producer;
    if (pw && pwdw_user(c, pw) != dw)
        pw = NULL;
    conv_op op;
    loom_status st = conv_setup_from(c, dw, pw ? pw->inputs[0] : dw->inputs[0], &op);
    if (st)
        return st;
    loop_conv2d g = conv2d_of(&op.gm, op.m);
    int64_t k = pw ? pw->inputs[0]->shape.dims[1] : 0, m = pj->outputs[0]->shape.dims[1];
    loop_buf *scratch = lower_scratch(c, "dw", IR_DTYPE_F32,
                                      loomrt_dwpw_scratch(g.channels, g.h, g.w, g.kh, g.kw, g.oh,
                                                          g.ow, g.stride_h, g.stride_w, g.dil_h,
                                                          g.dil_w));
    loop_buf *b_pj = ir_input(pj, 2) ? lower_buf(c, pj->inputs[2]) : NULL;
    int vn = open_loop(c, &b, op.batch);
    loop_index yi = at_var(vn, m * op.osp, 0);
    loop_dwconv d = {.x = {op.x, at_var(vn, (pw ? k : op.c) * op.isp, 0)},
                     .w = {op.w, loop_idx_const(0)},
                     .y = {lower_buf(c, pj->outputs[0]), yi},
                     .scratch = {scratch, loop_idx_const(0)},
                     .mult = 1,
                     .g = g,
                     .pj = {lower_buf(c, pj->inputs[1]), loop_idx_const(0)},
                     .pj_m = m};
    d.epi = conv_epilogue(c, &op, loop_idx_const(0), loop_idx_const(0));
    d.pj_epi = lower_kernel_epilogue(c, pj, b_pj, loop_idx_const(0), 1, 0, yi);
    if (pw)
        pwdw_operands(c, &d, pw, op.m, k);
    loop_call_dwconv(c->f, b, &d);
    return LOOM_STATUS_OK;
}

/* Appends a Conv to b by the fastest path that takes it. */
static void conv_emit(lower_ctx *c, loop_block *b, const conv_op *op)
{
    bool f32 = op->t == IR_DTYPE_F32, depthwise = op->gm.group > 1 && op->cg == 1;
    if (f32 && depthwise && op->gm.nsp <= 2 &&
        op->gm.stride[op->gm.nsp - 1] <= LOOMRT_DW_MAX_STRIDE)
        conv_depthwise(c, b, op);
    else if (f32 && !depthwise && conv_winograd_fits(op))
        conv_winograd(c, b, op);
    else if (f32 && !depthwise && conv_blocked_fits(op))
        conv_blocked(c, b, op);
    else if (f32 && !depthwise && conv_implicit_fits(op))
        conv_implicit(c, b, op);
    else if (f32 && !depthwise)
        conv_gemm(c, b, op);
    else
        conv_direct(c, b, op);
}

static const ir_node *conv_pool_user(lower_ctx *c, const ir_node *n, bool *winograd);

/* The loops over the images of a batch of y (the step's top-level loops
 * of its batch's extent) whose kernels share a scratch run in slots, a
 * scratch copy each (loop_split_slots): c->threads of them (at most
 * LOOMRT_MAX_THREADS: no run has more threads), at least 2, or one per
 * image when the batch is smaller. Every convolution path rewrites its
 * scratch for each image before reading it. Measured alone
 * (bench/winograd_batch.c, Winograd on squeezenet1_1's expand3x3 at
 * batch 8): two threads on an image each 1.93-1.97x one thread,
 * splitting each image 1.59-1.62x. */
static void conv_image_slots(lower_ctx *c, loop_block *b, const ir_value *y)
{
    int64_t batch = y->shape.dims[0], slots = c->threads > 2 ? c->threads : 2;
    slots = batch < slots ? batch : slots;
    for (int k = 0; k < b->n && slots >= 2; k++) {
        int n = b->n;
        if (b->stmts[k]->kind == LOOP_STMT_FOR && b->stmts[k]->extent == batch &&
            loop_split_slots(c->f, b, b->stmts[k], slots))
            k += b->n - n; /* past the images after the slots' */
    }
}

/* ONNX Conv-11. */
loom_status lower_conv(lower_ctx *c, const ir_node *n, loop_step *step)
{
    bool winograd;
    if (pwdw_user(c, n) || dwpw_user(c, n) || conv_pool_user(c, n, &winograd))
        return LOOM_STATUS_OK; /* runs inside its user */
    const ir_node *pw = n->inputs[0]->producer;
    loom_status st;
    if (pw && dwpw_user(c, pw) == n) {
        st = conv_dwpw(c, &step->body, pw, n);
    } else if (pw && pwdw_user(c, pw) == n) {
        st = conv_pwdw(c, &step->body, n, pw);
    } else {
        ir_epilogue e;
        ir_epilogue_of(n, &e);
        if (!e.residual) /* the residual is read at y's index: dense */
            lower_concat_strided(c, n->outputs[0]);
        conv_op op;
        st = conv_setup(c, n, &op);
        if (!st)
            conv_emit(c, &step->body, &op);
    }
    if (!st && n->outputs[0]->shape.rank > 0)
        conv_image_slots(c, &step->body, n->outputs[0]);
    return st;
}

/* Opens the scatter loops of ConvTranspose in b: taps outside, input
 * positions inside, each input loop followed by its dim's guard that the
 * output position lands in [0, out). NULL if no tap ever lands. */
static loop_block *scatter_open(lower_ctx *c, loop_block *b, const conv_op *op, window *w,
                                int *iv)
{
    const ir_conv_geom *gm = &op->gm;
    int64_t lo[IR_MAX_RANK] = {0};
    new_vars(c, gm->nsp, gm->in, iv);
    window_init(c, w, gm, iv, lo, gm->in);
    if (window_never(w, lo, gm->out))
        return NULL;
    b = window_open(c, b, w, gm, NULL, NULL);
    for (int i = 0; i < gm->nsp; i++)
        b = open_guarded(c, b, iv[i], gm->in[i], w, i, lo, gm->out);
    return b;
}

/* y[n, g*M/g + mm, pos] index of a scatter into the output. */
static loop_index scatter_target(const conv_op *op, const window *w, int vn, int vg, int vm)
{
    loop_index yi = at_var(vn, op->m * op->osp, 0);
    term(&yi, vg, op->mg * op->osp);
    term(&yi, vm, op->osp);
    add_flat(&yi, op->gm.nsp, w->pos, op->gm.out, false);
    return yi;
}

/* col2im as a loop nest (3-D and up): y[n, g*M/g + mm, pos] +=
 * col[(mm, k...), (i...)] for the taps that land in the output. */
static void col2im_nest(lower_ctx *c, loop_block *b, const conv_op *op, int vn, int vg,
                        loop_buf *col)
{
    const ir_conv_geom *gm = &op->gm;
    int vm = open_loop(c, &b, op->mg), iv[IR_MAX_RANK];
    window w;
    b = scatter_open(c, b, op, &w, iv);
    if (!b)
        return;
    loop_index ci = at_var(vm, op->ksp * op->isp, 0);
    add_box(&ci, gm->nsp, w.k, gm->kernel, op->isp);
    add_box(&ci, gm->nsp, iv, gm->in, 1);
    loop_index yi = scatter_target(op, &w, vn, vg, vm);
    loop_store(c->f, b, op->y, yi,
               lower_bin(c, LOOP_BINOP_ADD, loop_load(c->f, op->y, yi), loop_load(c->f, col, ci)));
}

/* f32 ConvTranspose as GEMMs: per image and group, W[g]^T [M/g*k, C/g] x
 * x[n, g] [C/g, in] into columns that col2im adds onto the bias; a
 * pointwise window multiplies straight into y. */
static void conv_transpose_gemm(lower_ctx *c, loop_block *b, const conv_op *op)
{
    const ir_conv_geom *gm = &op->gm;
    bool pointwise = is_pointwise(gm);
    if (op->b || !pointwise)
        fill_bias(c, b, op);
    int64_t rows = op->mg * op->ksp;
    loop_buf *col = pointwise ? NULL : lower_scratch(c, "col", IR_DTYPE_F32, rows * op->isp);
    int vn = open_loop(c, &b, op->batch), vg = open_loop(c, &b, gm->group);
    loop_sgemm ga = {.a = {op->w, at_var(vg, op->cg * rows, 0)},
                     .b = {op->x, at_var(vn, op->c * op->isp, 0)},
                     .m = rows, .n = op->isp, .k = op->cg, .lda = rows, .ldb = op->isp,
                     .trans_a = true, .alpha = 1.0};
    term(&ga.b.idx, vg, op->cg * op->isp);
    loop_index yi = at_var(vn, op->m * op->osp, 0);
    term(&yi, vg, op->mg * op->osp);
    if (pointwise) {
        ga.c = (loop_slice){op->y, yi};
        ga.ldc = op->osp;
        ga.beta = op->b ? 1.0 : 0.0;
        loop_call_sgemm(c->f, b, &ga);
        return;
    }
    ga.c = (loop_slice){col, loop_idx_const(0)};
    ga.ldc = op->isp;
    loop_call_sgemm(c->f, b, &ga);
    if (gm->nsp <= 2)
        call_unfold(c, b, LOOP_KERNEL_COL2IM, gm, op->mg, (loop_slice){col, loop_idx_const(0)},
                    (loop_slice){op->y, yi});
    else
        col2im_nest(c, b, op, vn, vg, col);
}

/* f64 ConvTranspose, direct scatter: y[n, g*M/g + mm, i*s + k*d - pad] +=
 * x[n, g*C/g + ci, i] * W[g*C/g + ci, mm, k] where it lands in y. */
static void conv_transpose_direct(lower_ctx *c, loop_block *b, const conv_op *op)
{
    const ir_conv_geom *gm = &op->gm;
    fill_bias(c, b, op);
    int vn = open_loop(c, &b, op->batch), vg = open_loop(c, &b, gm->group);
    int vm = open_loop(c, &b, op->mg), vc = open_loop(c, &b, op->cg), iv[IR_MAX_RANK];
    window w;
    b = scatter_open(c, b, op, &w, iv);
    if (!b)
        return;
    loop_index xi = at_var(vn, op->c * op->isp, 0);
    term(&xi, vg, op->cg * op->isp);
    term(&xi, vc, op->isp);
    add_box(&xi, gm->nsp, iv, gm->in, 1);
    loop_index wi = at_var(vg, op->cg * op->mg * op->ksp, 0);
    term(&wi, vc, op->mg * op->ksp);
    term(&wi, vm, op->ksp);
    add_box(&wi, gm->nsp, w.k, gm->kernel, 1);
    loop_index yi = scatter_target(op, &w, vn, vg, vm);
    loop_expr *prod = lower_bin(c, LOOP_BINOP_MUL, loop_load(c->f, op->x, xi), loop_load(c->f, op->w, wi));
    loop_store(c->f, b, op->y, yi, lower_bin(c, LOOP_BINOP_ADD, loop_load(c->f, op->y, yi), prod));
}

/* ConvTranspose by output phases: along a dim of stride s, the outputs
 * o = q*s + r (one phase per r < s, q < n) receive the taps k = k0 + j*s
 * (j < taps) from the inputs i = q + base - j only. Each phase is thus a
 * stride-1 Conv over the whole input with the phase's taps reversed, its
 * window starting taps - 1 - base before input 0: s^D Convs with as many
 * multiply-adds in all as the GEMM into columns, run by the Conv kernels
 * (packed weights, fused bias), their outputs then interleaved into y
 * with the node's epilogue, and no col2im scatter. */
typedef struct phase_dim {
    int64_t r, n, k0, taps, pad_begin, pad_end;
} phase_dim;

/* Phase r of dim i; false when it is not a Conv the phases take (an
 * output no tap reaches, a window wider than the input, nothing to do). */
static bool phase_dim_of(const ir_conv_geom *gm, int i, int64_t r, phase_dim *p)
{
    int64_t s = gm->stride[i], pb = gm->pad_begin[i];
    p->r = r;
    p->n = gm->out[i] > r ? (gm->out[i] - r + s - 1) / s : 0;
    p->k0 = (r + pb) % s;
    p->taps = gm->kernel[i] > p->k0 ? (gm->kernel[i] - p->k0 + s - 1) / s : 0;
    int64_t base = (r + pb - p->k0) / s;
    p->pad_begin = p->taps - 1 - base;
    p->pad_end = p->n + base - gm->in[i];
    return p->n >= 1 && p->taps >= 1 && p->taps <= gm->in[i] && p->pad_begin >= 0 &&
           p->pad_end <= p->taps - 1;
}

/* The number of phases: the product of the strides. */
static int phase_count(const ir_conv_geom *gm)
{
    int count = 1;
    for (int i = 0; i < gm->nsp; i++)
        count *= (int)gm->stride[i];
    return count;
}

/* Phase `code`'s dims (codes row-major over the dims' remainders); false
 * if one does not fit. */
static bool phase_of(const ir_conv_geom *gm, int code, phase_dim *pd)
{
    bool ok = true;
    for (int i = gm->nsp - 1; i >= 0; i--) {
        ok &= phase_dim_of(gm, i, code % gm->stride[i], &pd[i]);
        code /= (int)gm->stride[i];
    }
    return ok;
}

/* Strides up to this many phases per dim (more would be many small Convs). */
#define CONV_T_MAX_PHASE_STRIDE 4

/* Whether an f32 ConvTranspose runs by output phases: 1-D or 2-D,
 * constant weights (rearranged now), no dilation, no negative pad,
 * overlapping windows (a kernel wider than its stride along some dim:
 * otherwise col2im is a plain copy, and U-Net's 2x2 stride-2 layers ran
 * 3% slower by phases), and every phase a Conv over the input (so no
 * output keeps only the bias, and the input is no smaller than the
 * phase's window: dcgan's first layer, a 4x4 window over a 1x1 input,
 * stays a GEMM into columns). The phases unfold the input (C/g * k
 * values per input position) where the GEMM into columns writes M/g * k:
 * with output channels fewer than half the input channels that costs
 * more than the scatter saves (64 -> 3 channels, 4x4 stride 2 over 32x32:
 * 104-110 -> 525-534 us). Measured on Zen 4, one thread, with a Relu:
 * 64 -> 64 channels 3x3 stride 1 over 32x32 988-999 -> 400-411 us (the
 * phase is a Winograd Conv), 256 -> 128 4x4 stride 2 over 8x8 864-918
 * -> 726-849 us, 128 -> 64 over 16x16 783-785 -> 764-867, dcgan's
 * 32 -> 16 and 16 -> 8 layers 13.5-17.8 -> 12.7-13.8 us (two images). */
static bool conv_transpose_phases_fit(const conv_op *op)
{
    const ir_conv_geom *gm = &op->gm;
    if (op->t != IR_DTYPE_F32 || gm->nsp > 2 || !op->w->data || op->w->dtype != IR_DTYPE_F32 ||
        2 * op->mg < op->cg)
        return false;
    bool overlap = false;
    for (int i = 0; i < gm->nsp; i++) {
        if (gm->dilation[i] != 1 || gm->pad_begin[i] < 0 ||
            gm->stride[i] > CONV_T_MAX_PHASE_STRIDE)
            return false;
        overlap |= gm->kernel[i] > gm->stride[i];
    }
    phase_dim pd[IR_MAX_RANK];
    for (int code = 0; overlap && code < phase_count(gm); code++)
        if (!phase_of(gm, code, pd))
            return false;
    return overlap;
}

/* Phase pd's Conv weights [M, C/g, taps...]: per group j, output channel
 * mm, input channel ci, W[j*C/g + ci, mm, k0 + (taps - 1 - t) * s...]. */
static loop_buf *phase_weights(lower_ctx *c, const conv_op *op, const phase_dim *pd, int code)
{
    const ir_conv_geom *gm = &op->gm;
    int64_t kh = gm->nsp == 2 ? gm->kernel[0] : 1, kw = gm->kernel[gm->nsp - 1];
    const phase_dim one = {.taps = 1}, *ph = gm->nsp == 2 ? &pd[0] : &one, *pw = &pd[gm->nsp - 1];
    int64_t sh = gm->nsp == 2 ? gm->stride[0] : 1, sw = gm->stride[gm->nsp - 1];
    int64_t taps = ph->taps * pw->taps, size = op->m * op->cg * taps;
    float *data = ir_arena_alloc(&c->f->arena, (size_t)size * sizeof(float));
    const float *w = op->w->data;
    for (int64_t j = 0; j < gm->group; j++)
        for (int64_t mm = 0; mm < op->mg; mm++)
            for (int64_t ci = 0; ci < op->cg; ci++)
                for (int64_t th = 0; th < ph->taps; th++)
                    for (int64_t tw = 0; tw < pw->taps; tw++) {
                        int64_t y = ph->k0 + (ph->taps - 1 - th) * sh;
                        int64_t x = pw->k0 + (pw->taps - 1 - tw) * sw;
                        data[((j * op->mg + mm) * op->cg + ci) * taps + th * pw->taps + tw] =
                            w[(((j * op->cg + ci) * op->mg + mm) * kh + y) * kw + x];
                    }
    char what[32];
    snprintf(what, sizeof what, "phase%d", code);
    loop_buf *b = loop_buf_new(c->f, lower_const_name(c, op->w->name, what), LOOP_BUF_CONST,
                               IR_DTYPE_F32, size);
    b->data = data;
    return b;
}

/* y[plane, q*s + r...] = epilogue(ph[phase][plane, q...]), q...
 * over pd's [0, n) and each image and output channel a plane. With `all`
 * (every dim's output a multiple of its stride, so the phases are the
 * same size), ph holds every phase in row-major order and the remainders
 * r run inside their q, so y is written in order; otherwise ph holds
 * phase pd alone, r its remainders. */
static void phase_interleave(lower_ctx *c, loop_block *b, const conv_op *op, loop_buf *ph,
                             const phase_dim *pd, bool all)
{
    const ir_conv_geom *gm = &op->gm;
    int64_t planes = op->batch * op->m, posp = 1, phases = 1;
    for (int i = 0; i < gm->nsp; i++)
        posp *= pd[i].n;
    int vp = open_loop(c, &b, planes);
    loop_index yi = at_var(vp, op->osp, 0), pi = at_var(vp, posp, 0);
    for (int i = 0; i < gm->nsp; i++) {
        int64_t ystr = 1, pstr = 1, phstr = planes * posp;
        for (int k = i + 1; k < gm->nsp; k++) {
            ystr *= gm->out[k];
            pstr *= pd[k].n;
            phstr *= gm->stride[k];
        }
        int vq = open_loop(c, &b, pd[i].n);
        term(&yi, vq, gm->stride[i] * ystr);
        term(&pi, vq, pstr);
        if (all) {
            int vr = open_loop(c, &b, gm->stride[i]);
            term(&yi, vr, ystr);
            term(&pi, vr, phstr);
            phases *= gm->stride[i];
        } else {
            yi.offset += pd[i].r * ystr;
        }
    }
    loop_expr *v = loop_load(c->f, ph, pi);
    loop_store(c->f, b, op->y, yi, lower_epilogue_value(c, b, op->node, v, yi));
}

/* f32 ConvTranspose by output phases (conv_transpose_phases_fit): per
 * phase one Conv into scratch, then the interleaving into y, once for
 * all phases when they are the same size, else after each. */
static void conv_transpose_phases(lower_ctx *c, loop_block *b, const conv_op *op)
{
    const ir_conv_geom *gm = &op->gm;
    int count = phase_count(gm);
    bool all = true;
    for (int i = 0; i < gm->nsp; i++)
        all &= gm->out[i] % gm->stride[i] == 0;
    /* phase 0 is the largest: ceil(out / s) outputs per dim */
    int64_t most = 1, planes = op->batch * op->m;
    for (int i = 0; i < gm->nsp; i++)
        most *= (gm->out[i] + gm->stride[i] - 1) / gm->stride[i];
    phase_dim pd[IR_MAX_RANK];
    loop_buf *ph = lower_scratch(c, "phase", IR_DTYPE_F32, planes * most * (all ? count : 1));
    for (int code = 0; code < count; code++) {
        phase_of(gm, code, pd);
        conv_op p = *op;
        p.node = NULL;
        p.fused = false;
        p.y = ph;
        p.w = phase_weights(c, op, pd, code);
        p.osp = p.ksp = 1;
        for (int i = 0; i < gm->nsp; i++) {
            p.gm.kernel[i] = pd[i].taps;
            p.gm.stride[i] = 1;
            p.gm.pad_begin[i] = pd[i].pad_begin;
            p.gm.pad_end[i] = pd[i].pad_end;
            p.gm.out[i] = pd[i].n;
            p.gm.output_padding[i] = 0;
            p.osp *= pd[i].n;
            p.ksp *= pd[i].taps;
        }
        p.y_off = all ? code * planes * most : 0;
        conv_emit(c, b, &p);
        if (!all)
            phase_interleave(c, b, op, ph, pd, false);
    }
    if (all)
        phase_interleave(c, b, op, ph, pd, true);
}

/* Whether a ConvTranspose reads one input position and writes its whole
 * window as the output (a generator's first layer, from the latent
 * vector): f32, a 1x1... input, no pad, no dilation, output == kernel,
 * no bias or a constant one. Then y[n, g*M/g + mm, k...] = sum over ci of
 * x[n, g*C/g + ci] W[g*C/g + ci, mm, k...]: one GEMM per group over the
 * images, the unfolded columns already in y's order. */
static bool conv_transpose_point_fits(const conv_op *op)
{
    const ir_conv_geom *gm = &op->gm;
    if (op->t != IR_DTYPE_F32 || op->isp != 1 || (op->b && !op->b->data))
        return false;
    for (int i = 0; i < gm->nsp; i++)
        if (gm->pad_begin[i] != 0 || gm->dilation[i] != 1 || gm->out[i] != gm->kernel[i])
            return false;
    return true;
}

/* f32 ConvTranspose of conv_transpose_point_fits: per group Y[N, M/g*k]
 * = X[N, C/g] W[g] [C/g, M/g*k] into y with the fused epilogue; the bias
 * repeated over each channel's k outputs (a constant made now), so that
 * the GEMM adds it per column. */
static void conv_transpose_point_gemm(lower_ctx *c, loop_block *b, const conv_op *op)
{
    int64_t cols = op->mg * op->ksp;
    loop_buf *bias = NULL;
    if (op->b) {
        float *rep = ir_arena_alloc(&c->f->arena, (size_t)(op->m * op->ksp) * sizeof(float));
        const float *bv = op->b->data;
        for (int64_t i = 0; i < op->m * op->ksp; i++)
            rep[i] = bv[i / op->ksp];
        bias = loop_buf_new(c->f, lower_const_name(c, op->b->name, "repeated"), LOOP_BUF_CONST,
                            IR_DTYPE_F32, op->m * op->ksp);
        bias->data = rep;
    }
    int vg = open_loop(c, &b, op->gm.group);
    loop_sgemm ga = {.a = {op->x, at_var(vg, op->cg, 0)},
                     .b = {op->w, at_var(vg, op->cg * cols, 0)},
                     .c = {op->y, at_var(vg, cols, 0)}, .m = op->batch, .n = cols, .k = op->cg,
                     .lda = op->c, .ldb = cols, .ldc = op->m * op->ksp, .alpha = 1.0};
    ga.epi = lower_kernel_epilogue(c, op->node, bias, at_var(vg, cols, 0), 0, 1, ga.c.idx);
    loop_call_sgemm(c->f, b, &ga);
}

/* ONNX ConvTranspose-11: output positions no tap reaches (output_padding,
 * or pad_end < 0 from output_shape) keep the bias. */
loom_status lower_conv_transpose(lower_ctx *c, const ir_node *n, loop_step *step)
{
    conv_op op;
    loom_status st = conv_setup(c, n, &op);
    if (st)
        return st;
    if (conv_transpose_phases_fit(&op)) {
        conv_transpose_phases(c, &step->body, &op);
        return LOOM_STATUS_OK;
    }
    if (conv_transpose_point_fits(&op)) {
        conv_transpose_point_gemm(c, &step->body, &op);
        return LOOM_STATUS_OK;
    }
    if (op.t == IR_DTYPE_F32)
        conv_transpose_gemm(c, &step->body, &op);
    else
        conv_transpose_direct(c, &step->body, &op);
    if (op.fused) /* the bias is in already: col2im accumulates onto it */
        lower_epilogue(c, &step->body, n, op.y, NULL, op.batch, op.m, op.osp);
    return LOOM_STATUS_OK;
}

/* ---- pools ---- */

/* A pool node's geometry and buffers, with the loop over planes (n*C + c)
 * that holds one nest per region of the output. */
typedef struct pool_op {
    ir_conv_geom gm;
    loop_buf *x, *y;
    ir_dtype t;
    int64_t isp, osp;
    int vp;            /* the plane loop's variable, over planes = N * C */
    int64_t planes;
    loop_block *plane;
} pool_op;

/* The output loops of one region and the window at their position. */
typedef struct pool_at {
    int o[IR_MAX_RANK];
    loop_block *body;  /* inside the output loops */
    window w;
    loop_index xi, yi; /* x at the tap, y at the output position */
} pool_at;

/* Opens the loop over planes in b. */
static void pool_planes(lower_ctx *c, loop_block *b, pool_op *op)
{
    op->vp = open_loop(c, &b, op->planes);
    op->plane = b;
}

/* Resolves geometry and buffers and opens the loop over planes in b (none
 * when b is NULL). */
static loom_status pool_setup(lower_ctx *c, const ir_node *n, loop_block *b, pool_op *op)
{
    loom_status st = ir_conv_geometry(c->g, n, &op->gm, c->d);
    if (!st)
        st = check_rank(c, n, op->gm.nsp);
    if (st)
        return st;
    const ir_value *x = n->inputs[0];
    op->x = lower_buf(c, x);
    op->y = lower_buf(c, n->outputs[0]);
    op->t = x->dtype;
    op->isp = box_size(op->gm.in, op->gm.nsp);
    op->osp = box_size(op->gm.out, op->gm.nsp);
    op->planes = x->shape.dims[0] * x->shape.dims[1];
    if (b)
        pool_planes(c, b, op);
    return LOOM_STATUS_OK;
}

/* Opens the output loops of region r in the plane loop and sets up the
 * window there (its tap loops opened by the caller). */
static void pool_open(lower_ctx *c, const pool_op *op, const region *r, pool_at *at)
{
    const ir_conv_geom *gm = &op->gm;
    loop_block *b = op->plane;
    for (int i = 0; i < gm->nsp; i++)
        at->o[i] = open_loop(c, &b, r->ext[i]);
    at->body = b;
    at->yi = at_var(op->vp, op->osp, 0);
    add_box_at(&at->yi, gm->nsp, at->o, r->start, gm->out, 1);
    window_init(c, &at->w, gm, at->o, r->start, r->ext);
    at->xi = at_var(op->vp, op->isp, 0);
    add_flat(&at->xi, gm->nsp, at->w.pos, gm->in, false);
}

/* MaxPool with Indices, the interpreter's rule: the first tap inside the
 * input, then a larger value or a number replacing NaN (ties keep the
 * first); Indices flat into X, row- or column-major over the spatial dims. */
static void max_pool_indices(lower_ctx *c, const pool_op *op, const region *r, loop_buf *ib,
                             bool col_major)
{
    int64_t lo[IR_MAX_RANK] = {0};
    pool_at at;
    pool_open(c, op, r, &at);
    int best = loop_local_new(c->f, op->t), arg = loop_local_new(c->f, IR_DTYPE_I64);
    loop_set(c->f, at.body, best, loop_const_f(c->f, op->t, NAN));
    loop_set(c->f, at.body, arg, const_i(c, -1));
    loop_block *taps = window_open(c, at.body, &at.w, &op->gm, lo, op->gm.in);
    loop_expr *v = loop_load(c->f, op->x, at.xi), *bv = loop_local_read(c->f, best);
    loop_expr *first = lower_bin(c, LOOP_BINOP_LT, loop_local_read(c->f, arg), const_i(c, 0));
    loop_expr *nan_to_num = lower_bin(c, LOOP_BINOP_AND, lower_bin(c, LOOP_BINOP_NE, bv, bv),
                                lower_bin(c, LOOP_BINOP_EQ, v, v));
    loop_expr *cond = lower_bin(c, LOOP_BINOP_OR,
                          lower_bin(c, LOOP_BINOP_OR, first, lower_bin(c, LOOP_BINOP_GT, v, bv)), nan_to_num);
    loop_block *upd = &loop_if(c->f, taps, cond)->body;
    loop_index flat = at_var(op->vp, op->isp, 0);
    add_flat(&flat, op->gm.nsp, at.w.pos, op->gm.in, col_major);
    loop_set(c->f, upd, best, v);
    loop_set(c->f, upd, arg, index_expr(c, &flat));
    loop_store(c->f, at.body, op->y, at.yi, loop_local_read(c->f, best));
    loop_store(c->f, at.body, ib, at.yi, loop_local_read(c->f, arg));
}

/* The interpreter's MaxPool step: v if v > best or best is NaN, so from a
 * NaN start the result is the max of the taps that are numbers, NaN if
 * none is. It is a max over a set (up to which NaN): any grouping of the
 * taps gives the same value. With `split` as two selects (best is NaN ?
 * v : (v > best ? v : best)), else one on (v > best || best != best); GCC
 * 12 vectorizes each form where the other fails or runs slower: the
 * single select in a window's unrolled taps (the two selects left a 2x2
 * window loop scalar, 25x slower), the two in the separable passes' row
 * loops (where the || became branches in the scalar remainders,
 * mispredicted per element: squeezenet1_1's 3x3/2 pools 3x slower). */
static loop_expr *nan_max(lower_ctx *c, int tap, int best, bool split)
{
    loop_expr *v = loop_local_read(c->f, tap), *bv = loop_local_read(c->f, best);
    loop_expr *gt = lower_bin(c, LOOP_BINOP_GT, v, bv), *nan = lower_bin(c, LOOP_BINOP_NE, bv, bv);
    if (split)
        return loop_select(c->f, nan, v, loop_select(c->f, gt, v, bv));
    return loop_select(c->f, lower_bin(c, LOOP_BINOP_OR, gt, nan), v, bv);
}

/* MaxPool values only: best = v if v > best or best is NaN, from NaN: the
 * max of the taps that are numbers, NaN if none (the interpreter's value).
 * A select rather than fmax, so that the interior vectorizes. */
static void max_pool_values(lower_ctx *c, const pool_op *op, const region *r)
{
    int64_t lo[IR_MAX_RANK] = {0};
    pool_at at;
    pool_open(c, op, r, &at);
    int best = loop_local_new(c->f, op->t), tap = loop_local_new(c->f, op->t);
    loop_set(c->f, at.body, best, loop_const_f(c->f, op->t, NAN));
    loop_block *taps = window_open(c, at.body, &at.w, &op->gm, lo, op->gm.in);
    loop_set(c->f, taps, tap, loop_load(c->f, op->x, at.xi));
    loop_set(c->f, taps, best, nan_max(c, tap, best, false));
    loop_store(c->f, at.body, op->y, at.yi, loop_local_read(c->f, best));
}

/* Element coef * var + offset of plane vp's row in the scratch rows (one
 * row of rw per plane, so that the planes' iterations are independent and
 * the plane loop can run in parallel). */
static loop_index row_at(const pool_op *op, int64_t rw, int var, int64_t coef, int64_t offset)
{
    loop_index idx = at_var(var, coef, offset);
    term(&idx, op->vp, rw);
    return idx;
}

/* Separable 2-D MaxPool, pass 1 for output rows [y0, y0 + ny) of plane
 * vp: row[pl + x] = max over the kernel rows inside the image of x[vp, iy,
 * x] for all x; the vertical taps outside the image are skipped (guarded
 * when `border`). row[] starts from the first tap row (interior) or NaN. */
static void sep_rows(lower_ctx *c, const pool_op *op, loop_block *b, int vy, int64_t y0,
                     bool border, loop_buf *row, int64_t rw)
{
    const ir_conv_geom *gm = &op->gm;
    int64_t H = gm->in[0], W = gm->in[1], pl = gm->pad_begin[1];
    int tap = loop_local_new(c->f, op->t), best = loop_local_new(c->f, op->t);
    /* iy = (y0 + oy) * sy + ky * dy - pt */
    loop_index iy = at_var(vy, gm->stride[0], y0 * gm->stride[0] - gm->pad_begin[0]);
    int vx = loop_var_new(c->f);
    loop_index ri = row_at(op, rw, vx, 1, pl);
    if (border) {
        loop_block *ib = &loop_for(c->f, b, vx, W)->body;
        loop_store(c->f, ib, row, ri, loop_const_f(c->f, op->t, NAN));
    }
    for (int64_t ky = border ? 0 : 1; ky < gm->kernel[0]; ky++) {
        loop_index at = iy;
        at.offset += ky * gm->dilation[0];
        loop_block *kb = b;
        if (border && at.n == 0 && (at.offset < 0 || at.offset >= H))
            continue; /* a single row whose tap is outside */
        if (border && at.n > 0) {
            loop_expr *e = index_expr(c, &at);
            kb = &loop_if(c->f, kb, and_expr(c, lower_bin(c, LOOP_BINOP_GE, e, const_i(c, 0)),
                                             lower_bin(c, LOOP_BINOP_LT, e, const_i(c, H))))
                      ->body;
        }
        vx = loop_var_new(c->f);
        kb = &loop_for(c->f, kb, vx, W)->body;
        loop_index xi = at_var(op->vp, op->isp, 0);
        for (int t = 0; t < at.n; t++)
            loop_idx_add(&xi, at.var[t], at.coef[t] * W);
        xi.offset += at.offset * W;
        term(&xi, vx, 1);
        ri = row_at(op, rw, vx, 1, pl);
        loop_expr *v = loop_load(c->f, op->x, xi);
        if (!border && ky == 1) { /* the first tap row */
            loop_index first = xi;
            first.offset -= gm->dilation[0] * W;
            loop_set(c->f, kb, best, loop_load(c->f, op->x, first));
        } else {
            loop_set(c->f, kb, best, loop_load(c->f, row, ri));
        }
        loop_set(c->f, kb, tap, v);
        loop_store(c->f, kb, row, ri, nan_max(c, tap, best, true));
    }
}

/* Pass 2: y[vp, oy, ox] = max over kx of row[ox * sx + kx * dx] (row holds
 * NaN in the padding, which never wins), from the first tap on. */
static void sep_cols(lower_ctx *c, const pool_op *op, loop_block *b, int vy, int64_t y0,
                     loop_buf *row, int64_t rw)
{
    const ir_conv_geom *gm = &op->gm;
    int tap = loop_local_new(c->f, op->t), best = loop_local_new(c->f, op->t);
    int vx = loop_var_new(c->f);
    b = &loop_for(c->f, b, vx, gm->out[1])->body;
    loop_set(c->f, b, best, loop_load(c->f, row, row_at(op, rw, vx, gm->stride[1], 0)));
    for (int64_t kx = 1; kx < gm->kernel[1]; kx++) {
        loop_set(c->f, b, tap,
                 loop_load(c->f, row, row_at(op, rw, vx, gm->stride[1], kx * gm->dilation[1])));
        loop_set(c->f, b, best, nan_max(c, tap, best, true));
    }
    loop_index yi = at_var(op->vp, op->osp, y0 * gm->out[1]);
    term(&yi, vy, gm->out[1]);
    term(&yi, vx, 1);
    loop_store(c->f, b, op->y, yi, loop_local_read(c->f, best));
}

/* 2-D MaxPool (values only) as two 1-D max passes per output row: over the
 * kernel rows into a scratch row padded with NaN, then over the kernel
 * columns: kh + kw taps per output instead of kh * kw, and the first pass
 * reads contiguous rows. Taken for every window of two rows and columns or
 * more, 2x2 too (mnist_cnn's two 2x2/2 pools 9.8 -> 6.9 us against the
 * window loop, whose taps load at a column stride in several rows; the
 * U-Net's within the noise). Output rows split into those whose kernel
 * rows all land in the image (no guards) and the borders. Each plane has
 * its own scratch row, so the plane loop runs in parallel. */
static void max_pool_separable(lower_ctx *c, const pool_op *op)
{
    const ir_conv_geom *gm = &op->gm;
    int64_t W = gm->in[1], pl = gm->pad_begin[1];
    int64_t reach = (gm->out[1] - 1) * gm->stride[1] + (gm->kernel[1] - 1) * gm->dilation[1] + 1;
    int64_t rw = pl + W > reach ? pl + W : reach;
    loop_buf *row = lower_scratch(c, "pool_row", op->t, op->planes * rw);
    int v;
    loop_block *b = op->plane;
    if (pl > 0) { /* the padding of row[] is NaN: it never wins */
        loop_block *pb = &loop_for(c->f, b, v = loop_var_new(c->f), pl)->body;
        loop_store(c->f, pb, row, row_at(op, rw, v, 1, 0), loop_const_f(c->f, op->t, NAN));
    }
    if (rw > pl + W) {
        loop_block *pb = &loop_for(c->f, b, v = loop_var_new(c->f), rw - pl - W)->body;
        loop_store(c->f, pb, row, row_at(op, rw, v, 1, pl + W), loop_const_f(c->f, op->t, NAN));
    }
    region r[MAX_REGIONS];
    ir_conv_geom rows = *gm; /* the split along y only */
    rows.nsp = 1;
    int nr = split_regions(&rows, r);
    for (int k = 0; k < nr; k++) {
        bool border = r[k].start[0] < (gm->pad_begin[0] + gm->stride[0] - 1) / gm->stride[0] ||
                      (r[k].start[0] + r[k].ext[0] - 1) * gm->stride[0] +
                              (gm->kernel[0] - 1) * gm->dilation[0] - gm->pad_begin[0] >=
                          gm->in[0];
        loop_block *rb = b;
        int vy = open_loop(c, &rb, r[k].ext[0]);
        sep_rows(c, op, rb, vy, r[k].start[0], border, row, rw);
        sep_cols(c, op, rb, vy, r[k].start[0], row, rw);
    }
}

/* Whether MaxPool values run by loomrt_maxpool2d: f32, 1-D or 2-D,
 * windows of 9 taps and more or 2x2 at stride 2, a row the kernel takes.
 * It does in vectors what the separable loops do, where GCC 12 left the
 * remainder of every row scalar, a select per element. Measured on Zen 4,
 * one thread, loops -> kernel: squeezenet1_1's 3x3/2 pools over 111, 55
 * and 27 columns 188 -> 146, 112 -> 78, 77 -> 65 us (onnxruntime 131 for
 * all three), resnet18's 3x3/2 over 112 203 -> 157 (117). The 2x2/2
 * pools stayed loops while the kernel stored each row's first pass (the
 * U-Net's over 64 and 32 columns 24 -> 36 and 13 -> 31 us), and while it
 * set up every row (in mnist_cnn's model 3.5 -> 3.7 and 1.8 -> 2.7 us);
 * with a plane at a time in registers (mp_2x2_avx512), Xeon, alone, warm,
 * best of 5000, loops -> kernel: mnist_cnn's 32 planes of 26x26 4.5 ->
 * 1.9 us, 64 of 11x11 2.5 -> 1.2, the U-Net's 32 of 128x128 71-72 -> 61,
 * 64 of 64x64 27-28 -> 16, 128 of 32x32 15.6 -> 8.6. Other windows of
 * fewer taps stay loops. */
static bool max_pool_kernel_fits(const pool_op *op)
{
    loop_conv2d g = conv2d_of(&op->gm, op->planes);
    bool two = g.kh == 2 && g.kw == 2 && g.stride_h == 2 && g.stride_w == 2 && g.dil_h == 1 &&
               g.dil_w == 1;
    return op->t == IR_DTYPE_F32 && op->gm.nsp <= 2 && (g.kh * g.kw >= 9 || two) &&
           g.pad_t >= 0 &&
           loomrt_maxpool2d_fits(g.w, g.kw, g.ow, g.pad_l, g.stride_w, g.dil_w);
}

/* ---- the direct convolution with the max pool after it ----
 * The first convolution of a CNN is often read only by a max pool
 * (squeezenet1_1's, resnet18's: 3.2 MB of output per image). As one
 * loomrt_conv2d_direct_maxpool its rows are computed a band at a time
 * into scratch and pooled from there, never stored whole nor read back.
 * Alone, Xeon, warm, with a Relu (convolution and pool -> fused, means,
 * us): squeezenet1_1's 3 -> 64 channels 3x3/2 then 3x3/2 542 -> 476 on
 * one thread, 280 -> 257 on two; resnet18's 7x7/2 then 3x3/2 padded 1528
 * -> 1401, 794 -> 744; bands of 2, 8 or 16 pooled rows no faster than 4. */

/* ---- the Winograd convolution with the 2x2 max pool after it ----
 * A 2x2, stride 2 pool's windows are Winograd's 2x2 output tiles: as one
 * loomrt_conv2d_winograd_maxpool each tile's four outputs go through the
 * epilogue and only their maximum is stored, and an odd plane's last row
 * and column of tiles, which the pool never reads, are not computed.
 * Alone, Xeon, warm, one thread, best of 3000: mnist_cnn's 32 -> 64
 * channels over 11x11 with a Relu, then its pool, 21.9 -> 14.8 us (25
 * tiles of 36, a quarter of the outputs stored). */

/* Whether Conv op, which runs by Winograd alone (conv_winograd_fits),
 * with MaxPool po after it runs as one loomrt_conv2d_winograd_maxpool:
 * po unpadded, 2x2 at stride 2, its windows inside the convolution's
 * output (floor mode, or ceil mode on even planes). */
static bool winograd_pool_fits(const conv_op *op, const pool_op *po)
{
    loop_conv2d g = conv2d_of(&op->gm, op->cg), p = conv2d_of(&po->gm, op->m);
    return conv_winograd_fits(op) && p.kh == 2 && p.kw == 2 && p.stride_h == 2 &&
           p.stride_w == 2 && p.dil_h == 1 && p.dil_w == 1 && p.pad_t == 0 && p.pad_l == 0 &&
           2 * p.oh <= g.oh && 2 * p.ow <= g.ow;
}

/* The MaxPool that runs Conv n inside it, or NULL: n 2-D, one group, no
 * residual in its epilogue, its output read only by that MaxPool, as its
 * input, which keeps values only (no Indices). *winograd tells which
 * kernel: loomrt_conv2d_direct_maxpool when n runs by the direct kernel
 * (conv_blocked_fits) and the pool by its kernel (max_pool_kernel_fits)
 * in a window the fused kernel takes; else
 * loomrt_conv2d_winograd_maxpool (winograd_pool_fits). */
static const ir_node *conv_pool_user(lower_ctx *c, const ir_node *n, bool *winograd)
{
    *winograd = false;
    ir_conv_geom gm, pm;
    if (n->op != IR_OP_CONV || ir_conv_geometry(c->g, n, &gm, NULL) || gm.nsp != 2 ||
        gm.group != 1)
        return NULL;
    const ir_node *user = sole_reader(c, n);
    if (!user || user->op != IR_OP_MAX_POOL || ir_output(user, 1) ||
        ir_conv_geometry(c->g, user, &pm, NULL) || pm.nsp != 2)
        return NULL;
    conv_op op;
    pool_op po;
    if (conv_setup(c, n, &op))
        return NULL;
    bool direct = conv_blocked_fits(&op);
    if ((!direct && !conv_winograd_fits(&op)) || pool_setup(c, user, NULL, &po))
        return NULL;
    loop_conv2d g = conv2d_of(&gm, op.cg), p = conv2d_of(&pm, op.m);
    if (direct && max_pool_kernel_fits(&po) &&
        loomrt_conv2d_direct_maxpool_fits(g.channels, g.kh, g.kw, g.stride_w, g.dil_w, g.ow,
                                          p.kh, p.kw, p.ow, p.pad_t, p.pad_l, p.stride_h,
                                          p.stride_w, p.dil_h, p.dil_w))
        return user;
    *winograd = winograd_pool_fits(&op, &po);
    return *winograd ? user : NULL;
}

/* Conv n with MaxPool mp after it, as one loomrt_conv2d_direct_maxpool
 * per image, its weights packed now as conv_blocked packs them, or with
 * winograd one loomrt_conv2d_winograd_maxpool, its weights transformed
 * now for the plane mp reads. */
static loom_status conv_pool(lower_ctx *c, loop_block *b, const ir_node *n, const ir_node *mp,
                             bool winograd)
{
    conv_op op;
    pool_op po;
    loom_status st = conv_setup(c, n, &op);
    if (!st)
        st = pool_setup(c, mp, NULL, &po);
    if (st)
        return st;
    loop_conv2d g = conv2d_of(&op.gm, op.cg), p = conv2d_of(&po.gm, op.m);
    loop_buf *w, *scratch;
    int64_t blocks = winograd ? winograd_blocks(c, op.batch) : 0;
    if (winograd) {
        int64_t us;
        w = winograd_weights(c, &op, 2 * p.oh, 2 * p.ow, &us);
        scratch = lower_scratch(c, "wino", IR_DTYPE_F32,
                                blocks * loomrt_winograd_scratch(op.cg, op.m, 2 * p.oh, 2 * p.ow));
    } else {
        int64_t k = op.cg * op.ksp, ps = loomrt_conv2d_direct_packed_size(op.m, k);
        w = conv_pack_weights(c, &op, "blocked", k, ps, loomrt_conv2d_direct_pack);
        scratch = lower_scratch(
            c, "conv_pool", IR_DTYPE_F32,
            loomrt_conv2d_direct_maxpool_scratch(op.m, g.ow, p.kh, p.stride_h, p.dil_h));
    }
    int vn = open_loop(c, &b, op.batch);
    loop_conv_pool cp = {.conv = {.x = {op.x, at_var(vn, op.c * op.isp, 0)},
                                  .w = {w, loop_idx_const(0)},
                                  .y = {po.y, at_var(vn, op.m * po.osp, 0)},
                                  .scratch = {scratch, loop_idx_const(0)},
                                  .m = op.m,
                                  .g = g,
                                  .blocks = blocks},
                         .pool = p};
    cp.conv.epi = conv_epilogue(c, &op, loop_idx_const(0), loop_idx_const(0));
    if (winograd)
        loop_call_winograd_pool(c->f, b, &cp);
    else
        loop_call_conv_pool(c->f, b, &cp);
    return LOOM_STATUS_OK;
}

/* ONNX MaxPool-12: taps in the padding never win. */
loom_status lower_max_pool(lower_ctx *c, const ir_node *n, loop_step *step)
{
    const ir_node *conv = n->inputs[0]->producer;
    bool winograd;
    if (conv && conv_pool_user(c, conv, &winograd) == n) {
        loom_status st = conv_pool(c, &step->body, conv, n, winograd);
        if (!st)
            conv_image_slots(c, &step->body, n->outputs[0]);
        return st;
    }
    pool_op op;
    loom_status st = pool_setup(c, n, NULL, &op);
    if (st)
        return st;
    const ir_value *iv = ir_output(n, 1);
    loop_buf *ib = iv ? lower_buf(c, iv) : NULL;
    if (!ib && max_pool_kernel_fits(&op)) {
        call_unfold(c, &step->body, LOOP_KERNEL_MAXPOOL, &op.gm, op.planes,
                    (loop_slice){op.x, loop_idx_const(0)}, (loop_slice){op.y, loop_idx_const(0)});
        return LOOM_STATUS_OK;
    }
    pool_planes(c, &step->body, &op);
    bool col_major = ir_attr_int(n, "storage_order", 0) != 0;
    int64_t kh = op.gm.kernel[0], kw = op.gm.kernel[op.gm.nsp - 1];
    if (!ib && op.gm.nsp == 2 && kh > 1 && kw > 1) {
        max_pool_separable(c, &op);
        return LOOM_STATUS_OK;
    }
    region r[MAX_REGIONS];
    int nr = split_regions(&op.gm, r);
    for (int k = 0; k < nr; k++) {
        if (ib)
            max_pool_indices(c, &op, &r[k], ib, col_major);
        else
            max_pool_values(c, &op, &r[k]);
    }
    return LOOM_STATUS_OK;
}

/* AveragePool over region r with the interpreter's divisor: the taps
 * inside the input, plus with count_include_pad those in the pads, never
 * those beyond the end pad that a ceil_mode window reaches. It is the
 * kernel size where no tap can leave the counted range (the interior),
 * else counted per window. */
static void average_pool_region(lower_ctx *c, const pool_op *op, const region *r)
{
    const ir_conv_geom *gm = &op->gm;
    int64_t lo[IR_MAX_RANK] = {0}, plo[IR_MAX_RANK], phi[IR_MAX_RANK];
    for (int i = 0; i < gm->nsp; i++) {
        plo[i] = -gm->pad_begin[i];
        phi[i] = gm->in[i] + gm->pad_end[i];
    }
    pool_at at;
    pool_open(c, op, r, &at);
    bool by_pads = gm->count_include_pad;
    const int64_t *clo = by_pads ? plo : lo, *chi = by_pads ? phi : gm->in;
    bool counted = window_leaves(&at.w, clo, chi);
    int sum = loop_local_new(c->f, op->t), cnt = counted ? loop_local_new(c->f, op->t) : -1;
    loop_set(c->f, at.body, sum, loop_const_f(c->f, op->t, 0));
    if (counted)
        loop_set(c->f, at.body, cnt, loop_const_f(c->f, op->t, 0));
    loop_block *taps = window_open(c, at.body, &at.w, gm, clo, chi);
    if (counted)
        accumulate(c, taps, cnt, loop_const_f(c->f, op->t, 1));
    if (by_pads) { /* the counted taps include pads: add only those inside */
        loop_expr *g = window_guard(c, &at.w, ~0u, lo, gm->in);
        if (g)
            taps = &loop_if(c->f, taps, g)->body;
    }
    accumulate(c, taps, sum, loop_load(c->f, op->x, at.xi));
    loop_expr *div = counted ? loop_local_read(c->f, cnt)
                             : loop_const_f(c->f, op->t, (double)box_size(gm->kernel, gm->nsp));
    loop_store(c->f, at.body, op->y, at.yi,
               lower_bin(c, LOOP_BINOP_DIV, loop_local_read(c->f, sum), div));
}

/* ONNX AveragePool-19. */
loom_status lower_average_pool(lower_ctx *c, const ir_node *n, loop_step *step)
{
    pool_op op;
    loom_status st = pool_setup(c, n, &step->body, &op);
    if (st)
        return st;
    region r[MAX_REGIONS];
    int nr = split_regions(&op.gm, r);
    for (int k = 0; k < nr; k++)
        average_pool_region(c, &op, &r[k]);
    return LOOM_STATUS_OK;
}

/* Partial sums per plane of GlobalAveragePool, for planes of at least
 * twice as many elements: one running sum is a chain of dependent adds,
 * which a C compiler may not reorder into vectors; GAP_LANES sums side by
 * side in locals (statements the compiler turns into one vector add, where
 * a scratch row would alias the input) do. Measured on Zen 4, one thread:
 * squeezenet1_1's 1000 planes of 13x13 96 -> 15 us (onnxruntime 29). */
#define GAP_LANES 16

/* The sum of v[lo, hi) as a balanced tree of adds. */
static loop_expr *sum_tree(lower_ctx *c, const int *v, int lo, int hi)
{
    if (hi - lo == 1)
        return loop_local_read(c->f, v[lo]);
    int mid = (lo + hi) / 2;
    return lower_bin(c, LOOP_BINOP_ADD, sum_tree(c, v, lo, mid), sum_tree(c, v, mid, hi));
}

/* The sum of plane vp's sp elements of x (sp >= 2 * GAP_LANES): lane l
 * sums elements l, l + GAP_LANES, ... (the last sp % GAP_LANES elements
 * into the first lanes), then the lanes add up as a tree. */
static loop_expr *plane_sum_lanes(lower_ctx *c, loop_block *b, loop_buf *x, int vp, int64_t sp,
                                  ir_dtype t)
{
    const int64_t L = GAP_LANES, nv = sp / L;
    int lane[GAP_LANES];
    for (int l = 0; l < L; l++) {
        lane[l] = loop_local_new(c->f, t);
        loop_set(c->f, b, lane[l], loop_load(c->f, x, at_var(vp, sp, l)));
    }
    loop_block *vb = b;
    int vv = open_loop(c, &vb, nv - 1);
    for (int l = 0; l < L; l++) {
        loop_index xi = at_var(vp, sp, L + l);
        term(&xi, vv, L);
        accumulate(c, vb, lane[l], loop_load(c->f, x, xi));
    }
    for (int64_t r = 0; r < sp % L; r++)
        accumulate(c, b, lane[r], loop_load(c->f, x, at_var(vp, sp, nv * L + r)));
    return sum_tree(c, lane, 0, (int)L);
}

/* ONNX GlobalAveragePool-1: the mean of each (n, c) plane; GlobalMaxPool-1:
 * its maximum. */
loom_status lower_global_average_pool(lower_ctx *c, const ir_node *n, loop_step *step)
{
    const ir_value *xv = n->inputs[0];
    ir_dtype t = xv->dtype;
    int64_t sp = box_size(xv->shape.dims + 2, xv->shape.rank - 2);
    loop_buf *x = lower_buf(c, xv), *y = lower_buf(c, n->outputs[0]);
    loop_block *b = &step->body;
    int vp = open_loop(c, &b, xv->shape.dims[0] * xv->shape.dims[1]);
    bool gmp = n->op == IR_OP_GLOBAL_MAX_POOL; /* GlobalMaxPool-1: v > m ? v : m */
    if (!gmp && sp >= 2 * GAP_LANES) {
        loop_store(c->f, b, y, at_var(vp, 1, 0),
                   lower_bin(c, LOOP_BINOP_DIV, plane_sum_lanes(c, b, x, vp, sp, t),
                             loop_const_f(c->f, t, (double)sp)));
        return LOOM_STATUS_OK;
    }
    int sum = loop_local_new(c->f, t);
    loop_set(c->f, b, sum, loop_const_f(c->f, t, gmp ? -INFINITY : 0));
    loop_block *in = b;
    int vi = open_loop(c, &in, sp);
    loop_index xi = at_var(vp, sp, 0);
    term(&xi, vi, 1);
    if (gmp) {
        loop_expr *v = lower_bind(c, in, loop_load(c->f, x, xi)), *m = loop_local_read(c->f, sum);
        loop_set(c->f, in, sum, loop_select(c->f, lower_bin(c, LOOP_BINOP_GT, v, m), v, m));
        loop_store(c->f, b, y, at_var(vp, 1, 0), loop_local_read(c->f, sum));
        return LOOM_STATUS_OK;
    }
    accumulate(c, in, sum, loop_load(c->f, x, xi));
    loop_store(c->f, b, y, at_var(vp, 1, 0),
               lower_bin(c, LOOP_BINOP_DIV, loop_local_read(c->f, sum), loop_const_f(c->f, t, (double)sp)));
    return LOOM_STATUS_OK;
}

/* ONNX BatchNormalization-15, inference form. Per channel a = scale /
 * sqrt(var + epsilon) and b = B - mean * a go to a scratch [2, C] once;
 * then y = x * a[c] + b[c] over X viewed as [N, C, S]. */
loom_status lower_batch_normalization(lower_ctx *c, const ir_node *n, loop_step *step)
{
    const ir_value *xv = n->inputs[0];
    const ir_shape *s = &xv->shape;
    ir_dtype t = xv->dtype;
    int64_t ch = s->rank >= 2 ? s->dims[1] : 1;
    int64_t sp = s->rank >= 2 ? box_size(s->dims + 2, s->rank - 2) : 1;
    loop_buf *p[5];
    for (int i = 1; i < 5; i++)
        p[i] = lower_buf(c, n->inputs[i]);
    loop_buf *x = lower_buf(c, xv), *y = lower_buf(c, n->outputs[0]);
    loop_buf *ab = lower_scratch(c, "bn_scale_shift", t, 2 * ch);
    double eps = ir_attr_float(n, "epsilon", 1e-5f);
    loop_block *b = &step->body;
    int vc = open_loop(c, &b, ch);
    loop_index at_c = at_var(vc, 1, 0), at_ch = at_var(vc, 1, ch);
    loop_expr *var = load_as(c, p[4], at_c, t);
    loop_expr *den = loop_unary(c->f, LOOP_UNOP_SQRT,
                                lower_bin(c, LOOP_BINOP_ADD, var, loop_const_f(c->f, t, eps)));
    loop_store(c->f, b, ab, at_c, lower_bin(c, LOOP_BINOP_DIV, load_as(c, p[1], at_c, t), den));
    loop_expr *shift = lower_bin(c, LOOP_BINOP_MUL, load_as(c, p[3], at_c, t), loop_load(c->f, ab, at_c));
    loop_store(c->f, b, ab, at_ch, lower_bin(c, LOOP_BINOP_SUB, load_as(c, p[2], at_c, t), shift));
    b = &step->body;
    int vn = open_loop(c, &b, s->dims[0]);
    vc = open_loop(c, &b, ch);
    int vi = open_loop(c, &b, sp);
    loop_index xi = at_var(vn, ch * sp, 0);
    term(&xi, vc, sp);
    term(&xi, vi, 1);
    loop_expr *scaled = lower_bin(c, LOOP_BINOP_MUL, loop_load(c->f, x, xi),
                            loop_load(c->f, ab, at_var(vc, 1, 0)));
    loop_store(c->f, b, y, xi, lower_bin(c, LOOP_BINOP_ADD, scaled, loop_load(c->f, ab, at_var(vc, 1, ch))));
    return LOOM_STATUS_OK;
}
