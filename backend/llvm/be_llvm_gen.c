/*
 * Loop IR -> LLVM IR: one function NAME_run_v(inputs, outputs, workspace)
 * per loop function, built with the LLVM C API. Buffers become pointers
 * computed once in the entry block (inputs/outputs from the argument
 * arrays, arena slices at their planned offsets in the workspace,
 * constants in the weights blob); loops become bottom-tested counted loops
 * with an i64 induction variable; locals become allocas that SROA promotes.
 *
 * Semantics are docs/loop-ir.md's, the same as the C emitter's: values of
 * dtype bool are i8 0/1 in registers; integer arithmetic wraps in the
 * dtype's width; float min/max ignore a NaN operand (llvm.minnum/maxnum,
 * C's fminf/fmaxf); round is half to even; fast_exp / fast_tanh are the
 * runtime's algorithm (runtime/loomrt.h) generated inline, operation for
 * operation, so the results are bit-identical to the C backend's. No
 * fast-math flags: results match the C backend built with -std=c99.
 */
#include <stdint.h>
#include <string.h>

#include "be_llvm_internal.h"
#include "loop_walk.h"

typedef struct gen {
    const loop_func *f;
    const be_llvm_weights *w;
    LLVMContextRef ctx;
    LLVMModuleRef mod;
    LLVMBuilderRef b;
    LLVMValueRef fn;
    LLVMValueRef *base;   /* by buffer id: pointer to element 0 */
    LLVMValueRef *locals; /* by local id: alloca */
    LLVMValueRef *vars;   /* by loop variable id: the current induction value */
    LLVMTypeRef i1, i8, i16, i32, i64, f32, f64, ptr;
    LLVMValueRef in, out, ws, blob; /* the model's arguments, the weights */
    const char *cpu, *features;
    /* parallel loops: the enclosing loops' variables, the context the
     * model passes (an alloca in its entry block) and its type */
    int *outer;
    int n_outer, max_outer, n_par;
    LLVMValueRef par_ctx;
    LLVMTypeRef par_ctx_type;
    ir_diag *d;
    int step;             /* the step being generated (data-error record) */
    bool failed;
} gen;

static bool is_float(ir_dtype t)
{
    return t == IR_DTYPE_F32 || t == IR_DTYPE_F64;
}

static bool is_unsigned(ir_dtype t)
{
    return t == IR_DTYPE_U8 || t == IR_DTYPE_BOOL;
}

/* The register (and storage) type of a dtype. */
static LLVMTypeRef type_of(gen *g, ir_dtype t)
{
    switch (t) {
    case IR_DTYPE_F32: return g->f32;
    case IR_DTYPE_F64: return g->f64;
    case IR_DTYPE_I64: return g->i64;
    case IR_DTYPE_I32: return g->i32;
    case IR_DTYPE_I8:
    case IR_DTYPE_U8:
    case IR_DTYPE_BOOL: return g->i8;
    case IR_DTYPE_F16:
    case IR_DTYPE_BF16: return g->i16; /* bit patterns */
    case IR_DTYPE_COUNT: break;
    }
    return g->i8;
}

static void fail(gen *g, const char *what, int kind)
{
    if (!g->failed)
        ir_diag_errorf(g->d, "%s: internal error: the LLVM backend has no code for %s %d",
                       g->f->name, what, kind);
    g->failed = true;
}

static LLVMValueRef ci64(gen *g, int64_t v)
{
    return LLVMConstInt(g->i64, (unsigned long long)v, 1);
}

static LLVMValueRef ci32(gen *g, uint32_t v)
{
    return LLVMConstInt(g->i32, v, 0);
}

static LLVMValueRef cf32(gen *g, float v)
{
    return LLVMConstReal(g->f32, v);
}

/* Calls an overloaded intrinsic (llvm.maxnum, llvm.smax, ...) on type t. */
static LLVMValueRef intrinsic(gen *g, const char *name, LLVMTypeRef t, LLVMValueRef *args,
                              unsigned n)
{
    unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
    LLVMValueRef fn = LLVMGetIntrinsicDeclaration(g->mod, id, &t, 1);
    LLVMTypeRef fty = LLVMIntrinsicGetType(g->ctx, id, &t, 1);
    return LLVMBuildCall2(g->b, fty, fn, args, n, "");
}

/* Declares (once) and calls an external function. */
static LLVMValueRef call_named(gen *g, const char *name, LLVMTypeRef ret, LLVMValueRef *args,
                               unsigned n)
{
    LLVMTypeRef params[LOOP_ABI_MAX_ARGS];
    for (unsigned k = 0; k < n; k++)
        params[k] = LLVMTypeOf(args[k]);
    LLVMTypeRef fty = LLVMFunctionType(ret, params, n, 0);
    LLVMValueRef fn = LLVMGetNamedFunction(g->mod, name);
    if (!fn)
        fn = LLVMAddFunction(g->mod, name, fty);
    return LLVMBuildCall2(g->b, fty, fn, args, n, "");
}

/* libm: NAMEf for f32, NAME for f64. */
static LLVMValueRef libm(gen *g, const char *name, ir_dtype t, LLVMValueRef *args, unsigned n)
{
    char full[32];
    snprintf(full, sizeof full, "%s%s", name, t == IR_DTYPE_F32 ? "f" : "");
    return call_named(g, full, type_of(g, t), args, n);
}

static LLVMValueRef bool_of(gen *g, LLVMValueRef i1)
{
    return LLVMBuildZExt(g->b, i1, g->i8, "");
}

/* C's truth of a scalar: v != 0. */
static LLVMValueRef truth(gen *g, LLVMValueRef v, ir_dtype t)
{
    if (is_float(t))
        return LLVMBuildFCmp(g->b, LLVMRealUNE, v, LLVMConstNull(type_of(g, t)), "");
    return LLVMBuildICmp(g->b, LLVMIntNE, v, LLVMConstNull(type_of(g, t)), "");
}

/* ---- the runtime's fast math, inline (runtime/loomrt.h) ---- */

static LLVMValueRef bits(gen *g, LLVMValueRef f)
{
    return LLVMBuildBitCast(g->b, f, g->i32, "");
}

static LLVMValueRef flt(gen *g, LLVMValueRef u)
{
    return LLVMBuildBitCast(g->b, u, g->f32, "");
}

static LLVMValueRef fmul(gen *g, LLVMValueRef a, LLVMValueRef b)
{
    return LLVMBuildFMul(g->b, a, b, "");
}

static LLVMValueRef fadd(gen *g, LLVMValueRef a, LLVMValueRef b)
{
    return LLVMBuildFAdd(g->b, a, b, "");
}

static LLVMValueRef fsub(gen *g, LLVMValueRef a, LLVMValueRef b)
{
    return LLVMBuildFSub(g->b, a, b, "");
}

static uint32_t f2u(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

/* Horner's rule p = p * x + c[k], as loomrt_expf/tanhf write it. */
static LLVMValueRef horner(gen *g, LLVMValueRef x, const float *c, int n)
{
    LLVMValueRef p = cf32(g, c[0]);
    for (int k = 1; k < n; k++)
        p = fadd(g, fmul(g, p, x), cf32(g, c[k]));
    return p;
}

/* loomrt_expf: clamp on the bits, Cephes polynomial, 2^n in two steps,
 * NaN passed through. */
static LLVMValueRef fast_exp(gen *g, LLVMValueRef x)
{
    static const float c[] = {1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f,
                              4.1665795894e-2f, 1.6666665459e-1f, 5.0000001201e-1f};
    LLVMBuilderRef b = g->b;
    LLVMValueRef ux = bits(g, x);
    LLVMValueRef cu = intrinsic(g, "llvm.umin", g->i32, (LLVMValueRef[]){ux, ci32(g, f2u(-103.9721f))}, 2);
    LLVMValueRef cs = intrinsic(g, "llvm.smin", g->i32, (LLVMValueRef[]){cu, ci32(g, f2u(128.0f))}, 2);
    LLVMValueRef xc = flt(g, cs);
    LLVMValueRef t = fadd(g, fmul(g, xc, cf32(g, 1.44269504089f)), cf32(g, 12582912.0f));
    LLVMValueRef n = fsub(g, t, cf32(g, 12582912.0f));
    LLVMValueRef r = fadd(g, fsub(g, xc, fmul(g, n, cf32(g, 0.693359375f))),
                          fmul(g, n, cf32(g, 2.12194440e-4f)));
    LLVMValueRef p = horner(g, r, c, 6);
    p = fadd(g, fadd(g, fmul(g, fmul(g, p, r), r), r), cf32(g, 1.0f));
    LLVMValueRef ni = LLVMBuildSub(b, bits(g, t), ci32(g, f2u(12582912.0f)), "");
    LLVMValueRef n1 = LLVMBuildAShr(b, ni, ci32(g, 1), "");
    LLVMValueRef s1 = flt(g, LLVMBuildShl(b, LLVMBuildAdd(b, n1, ci32(g, 127), ""), ci32(g, 23), ""));
    LLVMValueRef n2 = LLVMBuildSub(b, ni, n1, "");
    LLVMValueRef s2 = flt(g, LLVMBuildShl(b, LLVMBuildAdd(b, n2, ci32(g, 127), ""), ci32(g, 23), ""));
    LLVMValueRef y = fmul(g, fmul(g, p, s1), s2);
    LLVMValueRef nan = LLVMBuildICmp(b, LLVMIntUGT, LLVMBuildAnd(b, ux, ci32(g, 0x7fffffffu), ""),
                                     ci32(g, 0x7f800000u), "");
    return flt(g, LLVMBuildSelect(b, nan, ux, bits(g, y), ""));
}

/* loomrt_tanhf: odd polynomial below 0.625, else 1 - 2 / (exp(2|x|) + 1),
 * selected on the bits of |x|; the sign put back last. */
static LLVMValueRef fast_tanh(gen *g, LLVMValueRef x)
{
    static const float c[] = {-5.70498872745e-3f, 2.06390887954e-2f, -5.37397155531e-2f,
                              1.33314422036e-1f, -3.33332819422e-1f};
    LLVMBuilderRef b = g->b;
    LLVMValueRef ux = bits(g, x);
    LLVMValueRef ua = LLVMBuildAnd(b, ux, ci32(g, 0x7fffffffu), "");
    LLVMValueRef a = flt(g, ua), z = fmul(g, a, a);
    LLVMValueRef p = horner(g, z, c, 5);
    LLVMValueRef small = fadd(g, fmul(g, fmul(g, p, z), a), a);
    LLVMValueRef e = fast_exp(g, fmul(g, cf32(g, 2.0f), a));
    LLVMValueRef large = fsub(g, cf32(g, 1.0f), LLVMBuildFDiv(b, cf32(g, 2.0f), fadd(g, e, cf32(g, 1.0f)), ""));
    LLVMValueRef lt = LLVMBuildICmp(b, LLVMIntULT, ua, ci32(g, f2u(0.625f)), "");
    LLVMValueRef t = LLVMBuildSelect(b, lt, bits(g, small), bits(g, large), "");
    return flt(g, LLVMBuildOr(b, t, LLVMBuildAnd(b, ux, ci32(g, 0x80000000u), ""), ""));
}

/* ---- expressions ---- */

static LLVMValueRef gen_expr(gen *g, const loop_expr *x);

/* An integer value of dtype t widened to i64 as C's (int64_t) does. */
static LLVMValueRef to_i64(gen *g, LLVMValueRef v, ir_dtype t)
{
    if (is_float(t))
        return LLVMBuildFreeze(g->b, LLVMBuildFPToSI(g->b, v, g->i64, ""), "");
    if (t == IR_DTYPE_I64)
        return v;
    return LLVMBuildIntCast2(g->b, v, g->i64, !is_unsigned(t), "");
}

/* sum(coef * var) + offset + dyn_coef * dyn, in i64 (no signed overflow:
 * the verifier keeps indices inside their buffers). */
static LLVMValueRef gen_index(gen *g, const loop_index *idx)
{
    LLVMValueRef v = NULL;
    for (int k = 0; k < idx->n; k++) {
        LLVMValueRef t = g->vars[idx->var[k]];
        if (idx->coef[k] != 1)
            t = LLVMBuildNSWMul(g->b, t, ci64(g, idx->coef[k]), "");
        v = v ? LLVMBuildNSWAdd(g->b, v, t, "") : t;
    }
    if (idx->dyn) {
        LLVMValueRef t = to_i64(g, gen_expr(g, idx->dyn), idx->dyn->dtype);
        if (idx->dyn_coef != 1)
            t = LLVMBuildNSWMul(g->b, t, ci64(g, idx->dyn_coef), "");
        v = v ? LLVMBuildNSWAdd(g->b, v, t, "") : t;
    }
    if (!v)
        return ci64(g, idx->offset);
    return idx->offset ? LLVMBuildNSWAdd(g->b, v, ci64(g, idx->offset), "") : v;
}

static LLVMValueRef elem_ptr(gen *g, const loop_buf *buf, const loop_index *idx)
{
    LLVMValueRef i = gen_index(g, idx);
    return LLVMBuildInBoundsGEP2(g->b, type_of(g, buf->dtype), g->base[buf->id], &i, 1, "");
}

static LLVMValueRef gen_const(gen *g, const loop_expr *x)
{
    if (x->dtype == IR_DTYPE_F32)
        return cf32(g, (float)x->c.f);
    if (x->dtype == IR_DTYPE_F64)
        return LLVMConstReal(g->f64, x->c.f);
    return LLVMConstInt(type_of(g, x->dtype), (unsigned long long)x->c.i, 1);
}

/* bf16 bits (i16) <-> f32 as loomrt_bf16_to_f32 / loomrt_f32_to_bf16:
 * round to nearest even, NaN kept quiet. */
static LLVMValueRef gen_bf16_cast(gen *g, LLVMValueRef v, bool to_bf16)
{
    LLVMBuilderRef b = g->b;
    LLVMValueRef c16 = LLVMConstInt(g->i32, 16, 0);
    if (!to_bf16)
        return LLVMBuildBitCast(b, LLVMBuildShl(b, LLVMBuildZExt(b, v, g->i32, ""), c16, ""),
                                g->f32, "");
    LLVMValueRef u = LLVMBuildBitCast(b, v, g->i32, "");
    LLVMValueRef hi = LLVMBuildLShr(b, u, c16, "");
    LLVMValueRef odd = LLVMBuildAnd(b, hi, LLVMConstInt(g->i32, 1, 0), "");
    LLVMValueRef bias = LLVMBuildAdd(b, odd, LLVMConstInt(g->i32, 0x7fff, 0), "");
    LLVMValueRef rounded = LLVMBuildLShr(b, LLVMBuildAdd(b, u, bias, ""), c16, "");
    LLVMValueRef quiet = LLVMBuildOr(b, hi, LLVMConstInt(g->i32, 0x40, 0), "");
    LLVMValueRef nan = LLVMBuildFCmp(b, LLVMRealUNO, v, v, "");
    return LLVMBuildTrunc(b, LLVMBuildSelect(b, nan, quiet, rounded, ""), g->i16, "");
}

/* f16 bits (i16) <-> f32 through LLVM's half: fpext is exact, fptrunc
 * rounds to nearest even and keeps NaN and infinities (IEEE 754). */
static LLVMValueRef gen_f16_cast(gen *g, LLVMValueRef v, bool to_f16)
{
    LLVMTypeRef half = LLVMHalfTypeInContext(g->ctx);
    if (!to_f16)
        return LLVMBuildFPExt(g->b, LLVMBuildBitCast(g->b, v, half, ""), g->f32, "");
    return LLVMBuildBitCast(g->b, LLVMBuildFPTrunc(g->b, v, half, ""), g->i16, "");
}

/* cast<to>(v) as C's conversions; float -> integer is frozen (lowering
 * guards out-of-range values, whose C conversion is undefined). f16 and
 * bf16 convert to and from f32 only (the loop verifier checks). */
static LLVMValueRef gen_cast(gen *g, LLVMValueRef v, ir_dtype from, ir_dtype to)
{
    LLVMTypeRef t = type_of(g, to);
    if (from == to)
        return v;
    if (from == IR_DTYPE_F16 || to == IR_DTYPE_F16)
        return gen_f16_cast(g, v, to == IR_DTYPE_F16);
    if (from == IR_DTYPE_BF16 || to == IR_DTYPE_BF16)
        return gen_bf16_cast(g, v, to == IR_DTYPE_BF16);
    if (is_float(from) && is_float(to))
        return LLVMBuildFPCast(g->b, v, t, "");
    if (is_float(from))
        return LLVMBuildFreeze(g->b, is_unsigned(to) ? LLVMBuildFPToUI(g->b, v, t, "")
                                                     : LLVMBuildFPToSI(g->b, v, t, ""), "");
    if (is_float(to))
        return is_unsigned(from) ? LLVMBuildUIToFP(g->b, v, t, "") : LLVMBuildSIToFP(g->b, v, t, "");
    return LLVMBuildIntCast2(g->b, v, t, !is_unsigned(from), "");
}

/* Float unary ops: LLVM intrinsics where LLVM has one, else libm. */
static LLVMValueRef gen_unary_float(gen *g, const loop_expr *x, LLVMValueRef a)
{
    static const char *intr[LOOP_UNOP_COUNT] = {
        [LOOP_UNOP_ABS] = "llvm.fabs",     [LOOP_UNOP_SQRT] = "llvm.sqrt",
        [LOOP_UNOP_EXP] = "llvm.exp",      [LOOP_UNOP_LOG] = "llvm.log",
        [LOOP_UNOP_FLOOR] = "llvm.floor",  [LOOP_UNOP_CEIL] = "llvm.ceil",
        [LOOP_UNOP_ROUND] = "llvm.roundeven", /* ONNX Round: half to even */
        [LOOP_UNOP_SIN] = "llvm.sin",      [LOOP_UNOP_COS] = "llvm.cos",
    };
    static const char *lib[LOOP_UNOP_COUNT] = {
        [LOOP_UNOP_ERF] = "erf", [LOOP_UNOP_TANH] = "tanh", [LOOP_UNOP_LOG1P] = "log1p",
        [LOOP_UNOP_TAN] = "tan", [LOOP_UNOP_ASIN] = "asin", [LOOP_UNOP_ACOS] = "acos",
        [LOOP_UNOP_ATAN] = "atan", [LOOP_UNOP_SINH] = "sinh", [LOOP_UNOP_COSH] = "cosh",
        [LOOP_UNOP_ASINH] = "asinh", [LOOP_UNOP_ACOSH] = "acosh", [LOOP_UNOP_ATANH] = "atanh",
        [LOOP_UNOP_EXPM1] = "expm1",
    };
    LLVMTypeRef t = type_of(g, x->dtype);
    if (x->op == LOOP_UNOP_NEG)
        return LLVMBuildFNeg(g->b, a, "");
    if (x->op == LOOP_UNOP_FAST_EXP && x->dtype == IR_DTYPE_F32)
        return fast_exp(g, a);
    if (x->op == LOOP_UNOP_FAST_TANH && x->dtype == IR_DTYPE_F32)
        return fast_tanh(g, a);
    if (x->op == LOOP_UNOP_FAST_EXP)
        return intrinsic(g, "llvm.exp", t, &a, 1);
    if (x->op == LOOP_UNOP_FAST_TANH)
        return libm(g, "tanh", x->dtype, &a, 1);
    if (x->op == LOOP_UNOP_NOT)
        return bool_of(g, LLVMBuildFCmp(g->b, LLVMRealOEQ, a, LLVMConstNull(t), ""));
    if (intr[x->op])
        return intrinsic(g, intr[x->op], t, &a, 1);
    if (lib[x->op])
        return libm(g, lib[x->op], x->dtype, &a, 1);
    fail(g, "the float unary op", x->op);
    return a;
}

static LLVMValueRef gen_unary(gen *g, const loop_expr *x)
{
    LLVMValueRef a = gen_expr(g, x->a);
    if (is_float(x->dtype))
        return gen_unary_float(g, x, a);
    LLVMTypeRef t = type_of(g, x->dtype);
    switch (x->op) {
    case LOOP_UNOP_NEG: return LLVMBuildNeg(g->b, a, "");
    case LOOP_UNOP_NOT: return bool_of(g, LLVMBuildICmp(g->b, LLVMIntEQ, a, LLVMConstNull(t), ""));
    case LOOP_UNOP_ABS:
        if (is_unsigned(x->dtype))
            return a;
        return LLVMBuildSelect(g->b, LLVMBuildICmp(g->b, LLVMIntSLT, a, LLVMConstNull(t), ""),
                               LLVMBuildNeg(g->b, a, ""), a, "");
    default: return a; /* floor/ceil/round of integers are identities */
    }
}

/* Integer min/max as C's a > b ? a : b, signed or unsigned. */
static LLVMValueRef int_minmax(gen *g, int op, LLVMValueRef a, LLVMValueRef b, ir_dtype t)
{
    const char *name = op == LOOP_BINOP_MAX ? (is_unsigned(t) ? "llvm.umax" : "llvm.smax")
                                            : (is_unsigned(t) ? "llvm.umin" : "llvm.smin");
    return intrinsic(g, name, type_of(g, t), (LLVMValueRef[]){a, b}, 2);
}

static LLVMValueRef gen_compare(gen *g, int op, LLVMValueRef a, LLVMValueRef b, ir_dtype t)
{
    /* C: ordered comparisons are false on NaN, != is true */
    static const LLVMRealPredicate fp[LOOP_BINOP_COUNT] = {
        [LOOP_BINOP_LT] = LLVMRealOLT, [LOOP_BINOP_LE] = LLVMRealOLE, [LOOP_BINOP_GT] = LLVMRealOGT,
        [LOOP_BINOP_GE] = LLVMRealOGE, [LOOP_BINOP_EQ] = LLVMRealOEQ, [LOOP_BINOP_NE] = LLVMRealUNE,
    };
    static const LLVMIntPredicate sp[LOOP_BINOP_COUNT] = {
        [LOOP_BINOP_LT] = LLVMIntSLT, [LOOP_BINOP_LE] = LLVMIntSLE, [LOOP_BINOP_GT] = LLVMIntSGT,
        [LOOP_BINOP_GE] = LLVMIntSGE, [LOOP_BINOP_EQ] = LLVMIntEQ,  [LOOP_BINOP_NE] = LLVMIntNE,
    };
    static const LLVMIntPredicate up[LOOP_BINOP_COUNT] = {
        [LOOP_BINOP_LT] = LLVMIntULT, [LOOP_BINOP_LE] = LLVMIntULE, [LOOP_BINOP_GT] = LLVMIntUGT,
        [LOOP_BINOP_GE] = LLVMIntUGE, [LOOP_BINOP_EQ] = LLVMIntEQ,  [LOOP_BINOP_NE] = LLVMIntNE,
    };
    if (is_float(t))
        return bool_of(g, LLVMBuildFCmp(g->b, fp[op], a, b, ""));
    return bool_of(g, LLVMBuildICmp(g->b, is_unsigned(t) ? up[op] : sp[op], a, b, ""));
}

/* pow of integers goes through double, as the C emitter's pow() call. */
static LLVMValueRef gen_pow(gen *g, LLVMValueRef a, LLVMValueRef b, ir_dtype t, ir_dtype rt)
{
    if (is_float(t))
        return intrinsic(g, "llvm.pow", type_of(g, t), (LLVMValueRef[]){a, b}, 2);
    LLVMValueRef da = gen_cast(g, a, t, IR_DTYPE_F64), db = gen_cast(g, b, t, IR_DTYPE_F64);
    LLVMValueRef r = intrinsic(g, "llvm.pow", g->f64, (LLVMValueRef[]){da, db}, 2);
    return gen_cast(g, r, IR_DTYPE_F64, rt);
}

/* Integer division in LLVM executes even where the loop IR selects the
 * other value (select is eager here, C's ?: is lazy), and x86 traps on
 * a zero divisor and on INT_MIN / -1; such divisors become 1. Where
 * lowering guards the division, the guarded result is discarded anyway. */
static LLVMValueRef safe_divisor(gen *g, LLVMValueRef a, LLVMValueRef b, ir_dtype t)
{
    LLVMTypeRef ty = type_of(g, t);
    LLVMValueRef one = LLVMConstInt(ty, 1, 0), zero = LLVMConstNull(ty);
    LLVMValueRef bad = LLVMBuildICmp(g->b, LLVMIntEQ, b, zero, "");
    if (!is_unsigned(t)) {
        LLVMValueRef min = LLVMConstInt(ty, 1ull << (LLVMGetIntTypeWidth(ty) - 1), 0);
        LLVMValueRef ovf = LLVMBuildAnd(g->b, LLVMBuildICmp(g->b, LLVMIntEQ, a, min, ""),
                                        LLVMBuildICmp(g->b, LLVMIntEQ, b, LLVMConstAllOnes(ty), ""),
                                        "");
        bad = LLVMBuildOr(g->b, bad, ovf, "");
    }
    return LLVMBuildSelect(g->b, bad, one, b, "");
}

static LLVMValueRef gen_binary(gen *g, const loop_expr *x)
{
    LLVMValueRef a = gen_expr(g, x->a), b = gen_expr(g, x->b);
    ir_dtype t = x->a->dtype;
    bool fl = is_float(t), un = is_unsigned(t);
    LLVMBuilderRef B = g->b;
    switch ((loop_binop)x->op) {
    case LOOP_BINOP_ADD: return fl ? LLVMBuildFAdd(B, a, b, "") : LLVMBuildAdd(B, a, b, "");
    case LOOP_BINOP_SUB: return fl ? LLVMBuildFSub(B, a, b, "") : LLVMBuildSub(B, a, b, "");
    case LOOP_BINOP_MUL: return fl ? LLVMBuildFMul(B, a, b, "") : LLVMBuildMul(B, a, b, "");
    case LOOP_BINOP_DIV:
        if (fl)
            return LLVMBuildFDiv(B, a, b, "");
        b = safe_divisor(g, a, b, t);
        return un ? LLVMBuildUDiv(B, a, b, "") : LLVMBuildSDiv(B, a, b, "");
    case LOOP_BINOP_REM:
        if (fl)
            return LLVMBuildFRem(B, a, b, "");
        b = safe_divisor(g, a, b, t);
        return un ? LLVMBuildURem(B, a, b, "") : LLVMBuildSRem(B, a, b, "");
    case LOOP_BINOP_MAX:
    case LOOP_BINOP_MIN:
        if (fl) /* fmaxf/fminf: a NaN operand is ignored */
            return intrinsic(g, x->op == LOOP_BINOP_MAX ? "llvm.maxnum" : "llvm.minnum",
                             type_of(g, t), (LLVMValueRef[]){a, b}, 2);
        return int_minmax(g, x->op, a, b, t);
    case LOOP_BINOP_POW: return gen_pow(g, a, b, t, x->dtype);
    case LOOP_BINOP_LT:
    case LOOP_BINOP_LE:
    case LOOP_BINOP_GT:
    case LOOP_BINOP_GE:
    case LOOP_BINOP_EQ:
    case LOOP_BINOP_NE: return gen_compare(g, x->op, a, b, t);
    case LOOP_BINOP_AND:
    case LOOP_BINOP_OR: {
        /* C's && and ||: both sides are side-effect free and in bounds */
        LLVMValueRef ta = truth(g, a, t), tb = truth(g, b, x->b->dtype);
        return bool_of(g, x->op == LOOP_BINOP_AND ? LLVMBuildAnd(B, ta, tb, "") : LLVMBuildOr(B, ta, tb, ""));
    }
    case LOOP_BINOP_COUNT: break;
    }
    fail(g, "the binary op", x->op);
    return a;
}

static LLVMValueRef gen_expr(gen *g, const loop_expr *x)
{
    switch (x->kind) {
    case LOOP_EXPR_CONST: return gen_const(g, x);
    case LOOP_EXPR_VAR: return g->vars[x->id];
    case LOOP_EXPR_LOCAL:
        return LLVMBuildLoad2(g->b, type_of(g, x->dtype), g->locals[x->id], "");
    case LOOP_EXPR_LOAD:
        return LLVMBuildLoad2(g->b, type_of(g, x->buf->dtype), elem_ptr(g, x->buf, &x->idx), "");
    case LOOP_EXPR_UNARY: return gen_unary(g, x);
    case LOOP_EXPR_BINARY: return gen_binary(g, x);
    case LOOP_EXPR_SELECT: {
        LLVMValueRef c = truth(g, gen_expr(g, x->a), x->a->dtype);
        LLVMValueRef a = gen_expr(g, x->b), b = gen_expr(g, x->c3);
        return LLVMBuildSelect(g->b, c, a, b, "");
    }
    case LOOP_EXPR_CAST: return gen_cast(g, gen_expr(g, x->a), x->a->dtype, x->dtype);
    }
    fail(g, "the expression kind", x->kind);
    return LLVMGetUndef(type_of(g, x->dtype));
}

/* ---- statements ---- */

static void gen_block(gen *g, const loop_block *blk);

static LLVMValueRef slice_ptr(gen *g, const loop_slice *s)
{
    return elem_ptr(g, s->buf, &s->idx);
}

/* Runtime calls: the function and arguments loop_call_abi lists, as the
 * C emitter's emit_call passes them. */
static void gen_call(gen *g, const loop_stmt *s)
{
    loop_abi_arg abi[LOOP_ABI_MAX_ARGS];
    LLVMValueRef args[LOOP_ABI_MAX_ARGS];
    const char *fn;
    int n = loop_call_abi(s, &fn, abi);
    if (n < 0) {
        fail(g, "the kernel", (int)s->kernel);
        return;
    }
    for (int k = 0; k < n; k++) {
        switch (abi[k].kind) {
        case LOOP_ABI_PTR: args[k] = slice_ptr(g, abi[k].slice); break;
        case LOOP_ABI_NULL:
            args[k] = LLVMConstPointerNull(LLVMPointerTypeInContext(g->ctx, 0));
            break;
        case LOOP_ABI_I32: args[k] = ci32(g, (uint32_t)abi[k].i); break;
        case LOOP_ABI_I64: args[k] = ci64(g, abi[k].i); break;
        case LOOP_ABI_F32: args[k] = cf32(g, (float)abi[k].f); break;
        }
    }
    call_named(g, fn, LLVMVoidTypeInContext(g->ctx), args, (unsigned)n);
}

/* for (i = 0; i < extent; i++) as a bottom-tested loop (extent >= 1). */
static void gen_par(gen *g, const loop_stmt *s);

static void gen_for(gen *g, const loop_stmt *s)
{
    if (s->extent <= 0)
        return;
    if (s->parallel) {
        gen_par(g, s);
        return;
    }
    LLVMBasicBlockRef pre = LLVMGetInsertBlock(g->b);
    LLVMBasicBlockRef body = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "loop");
    LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "loop.end");
    LLVMBuildBr(g->b, body);
    LLVMPositionBuilderAtEnd(g->b, body);
    LLVMValueRef i = LLVMBuildPhi(g->b, g->i64, "i");
    g->vars[s->var] = i;
    g->outer[g->n_outer++] = s->var;
    gen_block(g, &s->body);
    g->n_outer--;
    LLVMBasicBlockRef latch = LLVMGetInsertBlock(g->b);
    LLVMValueRef next = LLVMBuildNUWAdd(g->b, i, ci64(g, 1), "");
    LLVMSetNSW(next, 1);
    LLVMValueRef more = LLVMBuildICmp(g->b, LLVMIntULT, next, ci64(g, s->extent), "");
    LLVMBuildCondBr(g->b, more, body, done);
    LLVMValueRef in_vals[2] = {ci64(g, 0), next};
    LLVMBasicBlockRef in_blocks[2] = {pre, latch};
    LLVMAddIncoming(i, in_vals, in_blocks, 2);
    LLVMPositionBuilderAtEnd(g->b, done);
}

static void gen_if(gen *g, const loop_stmt *s)
{
    LLVMValueRef c = truth(g, gen_expr(g, s->cond), s->cond->dtype);
    LLVMBasicBlockRef then = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "then");
    LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "endif");
    LLVMBuildCondBr(g->b, c, then, done);
    LLVMPositionBuilderAtEnd(g->b, then);
    gen_block(g, &s->body);
    LLVMBuildBr(g->b, done);
    LLVMPositionBuilderAtEnd(g->b, done);
}

/* A data check (docs/loop-ir.md): unless cond, write the error record
 * {code, step} at the workspace's error_offset and return code. */
static void gen_check(gen *g, const loop_stmt *s)
{
    LLVMValueRef c = truth(g, gen_expr(g, s->cond), s->cond->dtype);
    LLVMBasicBlockRef fail = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "data_error");
    LLVMBasicBlockRef ok = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "checked");
    LLVMBuildCondBr(g->b, c, ok, fail);
    LLVMPositionBuilderAtEnd(g->b, fail);
    LLVMValueRef off = LLVMConstInt(g->i64, (unsigned long long)g->f->error_offset, 0);
    LLVMValueRef rec = LLVMBuildGEP2(g->b, g->i8, g->ws, &off, 1, "");
    LLVMValueRef code = LLVMConstInt(g->i32, (unsigned long long)s->error, 0);
    LLVMBuildStore(g->b, code, rec);
    LLVMValueRef one = LLVMConstInt(g->i64, 1, 0);
    LLVMBuildStore(g->b, LLVMConstInt(g->i32, (unsigned long long)g->step, 0),
                   LLVMBuildGEP2(g->b, g->i32, rec, &one, 1, ""));
    LLVMBuildRet(g->b, code);
    LLVMPositionBuilderAtEnd(g->b, ok);
}

static void gen_stmt(gen *g, const loop_stmt *s)
{
    switch (s->kind) {
    case LOOP_STMT_FOR: gen_for(g, s); return;
    case LOOP_STMT_IF: gen_if(g, s); return;
    case LOOP_STMT_CHECK: gen_check(g, s); return;
    case LOOP_STMT_STORE:
        LLVMBuildStore(g->b, gen_expr(g, s->value), elem_ptr(g, s->buf, &s->idx));
        return;
    case LOOP_STMT_SET: LLVMBuildStore(g->b, gen_expr(g, s->value), g->locals[s->local]); return;
    case LOOP_STMT_CALL: gen_call(g, s); return;
    }
    /* a statement kind added to loop_ir.h without code here fails loudly */
    fail(g, "the statement kind", (int)s->kind);
}

static void gen_block(gen *g, const loop_block *blk)
{
    for (int k = 0; k < blk->n && !g->failed; k++)
        gen_stmt(g, blk->stmts[k]);
}

/* ---- the function ---- */

/* The storage a view finally refers to. */
static const loop_buf *root_of(const loop_buf *b)
{
    while (b->alias)
        b = b->alias;
    return b;
}

/* Pointer to element 0 of a buffer that owns its storage. */
static LLVMValueRef buffer_base(gen *g, const loop_buf *b)
{
    LLVMValueRef in = g->in, out = g->out, ws = g->ws, blob = g->blob, idx;
    switch (b->kind) {
    case LOOP_BUF_INPUT:
    case LOOP_BUF_OUTPUT:
        idx = ci64(g, b->io_index);
        return LLVMBuildLoad2(g->b, g->ptr,
                              LLVMBuildInBoundsGEP2(g->b, g->ptr, b->kind == LOOP_BUF_INPUT ? in : out,
                                                    &idx, 1, ""),
                              b->name);
    case LOOP_BUF_ARENA:
        idx = ci64(g, b->offset);
        return LLVMBuildInBoundsGEP2(g->b, g->i8, ws, &idx, 1, b->name);
    case LOOP_BUF_CONST:
        if (g->w->offset[b->id] < 0)
            return LLVMConstPointerNull(g->ptr); /* never referenced */
        idx = ci64(g, g->w->offset[b->id]);
        return LLVMBuildInBoundsGEP2(g->b, g->i8, blob, &idx, 1, b->name);
    }
    fail(g, "the buffer kind", (int)b->kind);
    return LLVMConstPointerNull(g->ptr);
}

/* The weights blob NAME_weights, a 64-byte aligned constant byte array:
 * defined here ahead of time (private, holding the data), only declared
 * for the JIT, which defines the symbol at the module's copy when it loads
 * the code. The code reaches it through the GOT, once per call of the
 * model or of a parallel body, so a compiled object is the same in every
 * process and can be cached (be_llvm_cache.c). */
static LLVMValueRef weights_blob(gen *g)
{
    char name[512];
    snprintf(name, sizeof name, "%s_weights", g->f->name);
    LLVMValueRef init = NULL, gv;
    if (g->w->global) {
        init = LLVMConstStringInContext2(g->ctx, (const char *)g->w->base, (size_t)g->w->bytes, 1);
        gv = LLVMAddGlobal(g->mod, LLVMTypeOf(init), name);
        LLVMSetInitializer(gv, init);
        LLVMSetLinkage(gv, LLVMPrivateLinkage);
    } else {
        gv = LLVMAddGlobal(g->mod, LLVMArrayType2(g->i8, (uint64_t)g->w->bytes), name);
    }
    LLVMSetGlobalConstant(gv, 1);
    LLVMSetAlignment(gv, 64);
    return gv;
}

/* Pointers to the buffers: all (used NULL) or those marked in used. */
static void gen_bases(gen *g, const bool *used)
{
    const loop_func *f = g->f;
    for (int i = 0; i < f->n_bufs; i++)
        if (!f->bufs[i]->alias && (!used || used[i]))
            g->base[i] = buffer_base(g, f->bufs[i]);
    for (int i = 0; i < f->n_bufs; i++) {
        const loop_buf *b = f->bufs[i];
        if (!b->alias || (used && !used[i]))
            continue;
        g->base[i] = g->base[root_of(b)->id]; /* a view starts where its storage starts */
        if (b->alias_offset) {                /* or inside it */
            LLVMValueRef at = ci64(g, b->alias_offset * (int64_t)ir_dtype_size(b->dtype));
            g->base[i] = LLVMBuildInBoundsGEP2(g->b, g->i8, g->base[i], &at, 1, b->name);
        }
    }
}

/* ---- parallel loops ---- */

/* The deepest nest of loops around a parallel loop of b (*max), and
 * whether b has one. */
static bool par_depth(const loop_block *b, int depth, int *max)
{
    bool any = false;
    for (int k = 0; k < b->n; k++) {
        const loop_stmt *s = b->stmts[k];
        if (s->kind == LOOP_STMT_FOR && s->parallel) {
            *max = depth > *max ? depth : *max;
            any = true;
        } else if (s->kind == LOOP_STMT_FOR || s->kind == LOOP_STMT_IF) {
            any |= par_depth(&s->body, depth + (s->kind == LOOP_STMT_FOR), max);
        }
    }
    return any;
}

/* The context the model hands its parallel loops, {inputs, outputs,
 * workspace, enclosing loops' variables}, as an alloca in the entry block
 * (the builder's position); none without parallel loops. */
static void gen_par_ctx(gen *g)
{
    bool any = false;
    for (int s = 0; s < g->f->n_steps; s++)
        any |= par_depth(&g->f->steps[s]->body, 0, &g->max_outer);
    if (!any)
        return;
    LLVMTypeRef fields[4] = {g->ptr, g->ptr, g->ptr,
                             LLVMArrayType2(g->i64, (uint64_t)(g->max_outer ? g->max_outer : 1))};
    g->par_ctx_type = LLVMStructTypeInContext(g->ctx, fields, 4, 0);
    g->par_ctx = LLVMBuildAlloca(g->b, g->par_ctx_type, "par");
}

/* Address of the context's field (and element j of the variables). */
static LLVMValueRef par_field(gen *g, LLVMValueRef ctx, unsigned field, int j)
{
    LLVMValueRef idx[3] = {ci32(g, 0), ci32(g, field), ci64(g, j)};
    return LLVMBuildInBoundsGEP2(g->b, g->par_ctx_type, ctx, idx, field == 3 ? 3 : 2, "");
}

/* Entry block: workspace check, buffer pointers, locals. */
static void gen_prologue(gen *g)
{
    const loop_func *f = g->f;
    LLVMBasicBlockRef entry = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "entry");
    LLVMBasicBlockRef run = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "run");
    LLVMBasicBlockRef bad = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "no_workspace");
    LLVMPositionBuilderAtEnd(g->b, bad);
    LLVMBuildRet(g->b, LLVMConstInt(g->i32, (unsigned long long)-1, 1));
    LLVMPositionBuilderAtEnd(g->b, entry);
    for (int i = 0; i < f->n_locals; i++) {
        LLVMTypeRef t = type_of(g, f->locals[i].dtype);
        g->locals[i] = LLVMBuildAlloca(g->b, t, "");
        LLVMBuildStore(g->b, LLVMConstNull(t), g->locals[i]);
    }
    g->in = LLVMGetParam(g->fn, 0);
    g->out = LLVMGetParam(g->fn, 1);
    g->ws = LLVMGetParam(g->fn, 2);
    gen_par_ctx(g);
    LLVMValueRef missing = LLVMBuildICmp(g->b, LLVMIntEQ, g->ws, LLVMConstPointerNull(g->ptr), "");
    if (f->workspace_bytes)
        LLVMBuildCondBr(g->b, missing, bad, run);
    else
        LLVMBuildBr(g->b, run);
    LLVMPositionBuilderAtEnd(g->b, run);
    g->blob = g->w->bytes ? weights_blob(g) : NULL;
    gen_bases(g, NULL);
}

static void set_attr(gen *g, const char *key, const char *value)
{
    LLVMAttributeRef a = LLVMCreateStringAttribute(g->ctx, key, (unsigned)strlen(key), value,
                                                   (unsigned)strlen(value));
    LLVMAddAttributeAtIndex(g->fn, LLVMAttributeFunctionIndex, a);
}

/* Adds the function NAME of type fty as g->fn, with the host CPU's
 * attributes. */
static void add_function_typed(gen *g, const char *name, LLVMTypeRef fty)
{
    g->fn = LLVMAddFunction(g->mod, name, fty);
    set_attr(g, "target-cpu", g->cpu);
    set_attr(g, "target-features", g->features);
    /* LLVM's default on AVX-512 parts is 256-bit vectors */
    set_attr(g, "prefer-vector-width", "512");
    unsigned nounwind = LLVMGetEnumAttributeKindForName("nounwind", 8);
    LLVMAddAttributeAtIndex(g->fn, LLVMAttributeFunctionIndex,
                            LLVMCreateEnumAttribute(g->ctx, nounwind, 0));
}

/* Adds the function NAME (params as NAME_run_v's) as g->fn. */
static void add_function(gen *g, const char *name)
{
    LLVMTypeRef params[3] = {g->ptr, g->ptr, g->ptr};
    add_function_typed(g, name, LLVMFunctionType(g->i32, params, 3, 0));
}

/* Ahead of time: the exported constant `const int64_t NAME_workspace_bytes`,
 * the emitted header's NAME_WORKSPACE_BYTES, so a host program sizes the
 * workspace without a header. */
static void add_workspace_size(gen *g)
{
    char name[512];
    snprintf(name, sizeof name, "%s_workspace_bytes", g->f->name);
    LLVMValueRef gv = LLVMAddGlobal(g->mod, g->i64, name);
    LLVMSetInitializer(gv, LLVMConstInt(g->i64, (unsigned long long)g->f->workspace_bytes, 0));
    LLVMSetGlobalConstant(gv, 1);
}

/* NAME_run_v(inputs, outputs, workspace): the model on threads threads,
 * the calling thread's count set around it and restored (the runtime's
 * loomrt_threads_swap; the C backend's NAME_run does the same). */
static void add_entry(gen *g, int threads)
{
    char name[512];
    snprintf(name, sizeof name, "%s_run_v", g->f->name);
    LLVMTypeRef params[3] = {g->ptr, g->ptr, g->ptr};
    LLVMTypeRef fty = LLVMFunctionType(g->i32, params, 3, 0);
    LLVMValueRef model = g->fn;
    add_function(g, name); /* the model is inlined here */
    LLVMPositionBuilderAtEnd(g->b, LLVMAppendBasicBlockInContext(g->ctx, g->fn, "entry"));
    LLVMValueRef count = LLVMConstInt(g->i32, (unsigned long long)(threads > 0 ? threads : 1), 0);
    LLVMValueRef prev = call_named(g, "loomrt_threads_swap", g->i32, &count, 1);
    LLVMValueRef args[3] = {LLVMGetParam(g->fn, 0), LLVMGetParam(g->fn, 1),
                            LLVMGetParam(g->fn, 2)};
    LLVMValueRef status = LLVMBuildCall2(g->b, fty, model, args, 3, "");
    call_named(g, "loomrt_threads_swap", g->i32, &prev, 1);
    LLVMBuildRet(g->b, status);
}

typedef struct par_use {
    bool *buf, *local;
} par_use;

static void par_use_buf(loop_walker *w, const loop_buf *b)
{
    ((par_use *)w->ctx)->buf[b->id] = true;
}

static void par_use_expr(loop_walker *w, const loop_expr *x)
{
    if (x->kind == LOOP_EXPR_LOCAL)
        ((par_use *)w->ctx)->local[x->id] = true;
}

static void par_use_stmt(loop_walker *w, const loop_stmt *s)
{
    if (s->kind == LOOP_STMT_SET)
        ((par_use *)w->ctx)->local[s->local] = true;
}

/* The outlined body's entry: the model's arguments and the enclosing
 * loops' variables read from the context, its own locals and buffer
 * pointers (those the body uses). */
static void gen_par_entry(gen *g, const par_use *u)
{
    LLVMValueRef ctx = LLVMGetParam(g->fn, 0);
    g->in = LLVMBuildLoad2(g->b, g->ptr, par_field(g, ctx, 0, 0), "inputs");
    g->out = LLVMBuildLoad2(g->b, g->ptr, par_field(g, ctx, 1, 0), "outputs");
    g->ws = LLVMBuildLoad2(g->b, g->ptr, par_field(g, ctx, 2, 0), "workspace");
    for (int j = 0; j < g->n_outer; j++)
        g->vars[g->outer[j]] = LLVMBuildLoad2(g->b, g->i64, par_field(g, ctx, 3, j), "");
    for (int i = 0; i < g->f->n_locals; i++) {
        if (!u->local[i])
            continue;
        LLVMTypeRef t = type_of(g, g->f->locals[i].dtype);
        g->locals[i] = LLVMBuildAlloca(g->b, t, "");
        LLVMBuildStore(g->b, LLVMConstNull(t), g->locals[i]);
    }
    for (int i = 0; i < g->f->n_bufs; i++)
        if (u->buf[i] && g->f->bufs[i]->alias)
            u->buf[root_of(g->f->bufs[i])->id] = true;
    gen_bases(g, u->buf);
}

/* The loop over [lo, hi) of the outlined body (top tested: a host's
 * parallel-for may hand out an empty range). */
static void gen_par_loop(gen *g, const loop_stmt *s)
{
    LLVMValueRef lo = LLVMGetParam(g->fn, 1), hi = LLVMGetParam(g->fn, 2);
    LLVMBasicBlockRef pre = LLVMGetInsertBlock(g->b);
    LLVMBasicBlockRef body = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "par.loop");
    LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "par.end");
    LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntSLT, lo, hi, ""), body, done);
    LLVMPositionBuilderAtEnd(g->b, body);
    LLVMValueRef i = LLVMBuildPhi(g->b, g->i64, "i");
    g->vars[s->var] = i;
    gen_block(g, &s->body);
    LLVMBasicBlockRef latch = LLVMGetInsertBlock(g->b);
    LLVMValueRef next = LLVMBuildNSWAdd(g->b, i, ci64(g, 1), "");
    LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntSLT, next, hi, ""), body, done);
    LLVMValueRef in_vals[2] = {lo, next};
    LLVMBasicBlockRef in_blocks[2] = {pre, latch};
    LLVMAddIncoming(i, in_vals, in_blocks, 2);
    LLVMPositionBuilderAtEnd(g->b, done);
    LLVMBuildRet(g->b, ci32(g, 0));
}

/* Parallel loop s's body as the internal function NAME_parK(ctx, lo, hi)
 * (the runtime's loomrt_range_fn), generated with the model's state put
 * aside; u gets what the body references. */
static LLVMValueRef gen_par_fn(gen *g, const loop_stmt *s, par_use *u)
{
    char name[512];
    snprintf(name, sizeof name, "%s_par%d", g->f->name, g->n_par++);
    LLVMValueRef model = g->fn, in = g->in, out = g->out, ws = g->ws;
    LLVMBasicBlockRef at = LLVMGetInsertBlock(g->b);
    loop_walker w = {.stmt = par_use_stmt, .expr = par_use_expr, .buf = par_use_buf, .ctx = u};
    loop_walk_block(&w, &s->body);
    LLVMTypeRef params[3] = {g->ptr, g->i64, g->i64};
    add_function_typed(g, name, LLVMFunctionType(g->i32, params, 3, 0));
    LLVMSetLinkage(g->fn, LLVMInternalLinkage);
    LLVMValueRef fn = g->fn;
    LLVMPositionBuilderAtEnd(g->b, LLVMAppendBasicBlockInContext(g->ctx, g->fn, "entry"));
    gen_par_entry(g, u);
    gen_par_loop(g, s);
    g->fn = model, g->in = in, g->out = out, g->ws = ws;
    LLVMPositionBuilderAtEnd(g->b, at);
    return fn;
}

/* A parallel loop: its body outlined (gen_par_fn), then in the model the
 * context filled and loomrt_parallel_for (a slot loop's
 * loomrt_parallel_slots) over the trip count. The body
 * has no check, so the status is always 0. The model's buffer pointers,
 * locals and enclosing variables are put aside while the body is made. */
static void gen_par(gen *g, const loop_stmt *s)
{
    const loop_func *f = g->f;
    LLVMValueRef *base = g->base, *locals = g->locals, *vars = g->vars;
    par_use u = {ir_calloc((size_t)f->n_bufs + 1, 1), ir_calloc((size_t)f->n_locals + 1, 1)};
    g->base = ir_calloc((size_t)f->n_bufs + 1, sizeof *g->base);
    g->locals = ir_calloc((size_t)f->n_locals + 1, sizeof *g->locals);
    g->vars = ir_calloc((size_t)f->n_vars + 1, sizeof *g->vars);
    LLVMValueRef fn = NULL;
    if (!u.buf || !u.local || !g->base || !g->locals || !g->vars) {
        ir_diag_errorf(g->d, "%s: out of memory in the LLVM backend", f->name);
        g->failed = true;
    } else {
        fn = gen_par_fn(g, s, &u);
    }
    ir_free(u.buf), ir_free(u.local), ir_free(g->base), ir_free(g->locals), ir_free(g->vars);
    g->base = base, g->locals = locals, g->vars = vars;
    if (!fn)
        return;
    LLVMBuildStore(g->b, g->in, par_field(g, g->par_ctx, 0, 0));
    LLVMBuildStore(g->b, g->out, par_field(g, g->par_ctx, 1, 0));
    LLVMBuildStore(g->b, g->ws, par_field(g, g->par_ctx, 2, 0));
    for (int j = 0; j < g->n_outer; j++)
        LLVMBuildStore(g->b, g->vars[g->outer[j]], par_field(g, g->par_ctx, 3, j));
    LLVMValueRef args[3] = {ci64(g, s->extent), fn, g->par_ctx};
    call_named(g, s->slots ? "loomrt_parallel_slots" : "loomrt_parallel_for", g->i32, args, 3);
}

static void gen_types(gen *g)
{
    g->i1 = LLVMInt1TypeInContext(g->ctx);
    g->i8 = LLVMInt8TypeInContext(g->ctx);
    g->i16 = LLVMInt16TypeInContext(g->ctx);
    g->i32 = LLVMInt32TypeInContext(g->ctx);
    g->i64 = LLVMInt64TypeInContext(g->ctx);
    g->f32 = LLVMFloatTypeInContext(g->ctx);
    g->f64 = LLVMDoubleTypeInContext(g->ctx);
    g->ptr = LLVMPointerTypeInContext(g->ctx, 0);
}

loom_status be_llvm_gen(const loop_func *f, LLVMModuleRef mod, const be_llvm_weights *w,
                        const char *cpu, const char *features, int threads, ir_diag *d)
{
    gen g = {.f = f, .w = w, .mod = mod, .ctx = LLVMGetModuleContext(mod), .d = d, .cpu = cpu,
             .features = features};
    g.base = ir_calloc((size_t)f->n_bufs + 1, sizeof *g.base);
    g.locals = ir_calloc((size_t)f->n_locals + 1, sizeof *g.locals);
    g.vars = ir_calloc((size_t)f->n_vars + 1, sizeof *g.vars);
    g.outer = ir_calloc((size_t)f->n_vars + 1, sizeof *g.outer);
    loom_status st = LOOM_STATUS_OK;
    if (!g.base || !g.locals || !g.vars || !g.outer) {
        ir_diag_errorf(d, "%s: out of memory in the LLVM backend", f->name);
        st = LOOM_STATUS_NOMEM;
    } else {
        gen_types(&g);
        g.b = LLVMCreateBuilderInContext(g.ctx);
        char name[512];
        snprintf(name, sizeof name, "%s_model", f->name);
        add_function(&g, name);
        LLVMSetLinkage(g.fn, LLVMInternalLinkage);
        if (w->global)
            add_workspace_size(&g);
        gen_prologue(&g);
        for (int s = 0; s < f->n_steps && !g.failed; s++) {
            g.step = s;
            gen_block(&g, &f->steps[s]->body);
        }
        LLVMBuildRet(g.b, LLVMConstInt(g.i32, 0, 0));
        add_entry(&g, threads);
        LLVMDisposeBuilder(g.b);
        st = g.failed ? LOOM_STATUS_INTERNAL : LOOM_STATUS_OK;
    }
    ir_free(g.base);
    ir_free(g.locals);
    ir_free(g.vars);
    ir_free(g.outer);
    return st;
}

/* ---- the weights blob ---- */

static void mark_buf(loop_walker *w, const loop_buf *b)
{
    int64_t *offset = w->ctx;
    offset[root_of(b)->id] = 0;
}

int64_t be_llvm_weights_layout(const loop_func *f, int64_t *offset)
{
    for (int i = 0; i < f->n_bufs; i++)
        offset[i] = -1;
    loop_walker w = {.buf = mark_buf, .ctx = offset};
    loop_walk_func(f, &w);
    int64_t total = 0;
    for (int i = 0; i < f->n_bufs; i++) {
        const loop_buf *b = f->bufs[i];
        if (b->kind != LOOP_BUF_CONST || b->alias || offset[i] < 0) {
            offset[i] = -1;
            continue;
        }
        offset[i] = total;
        total += (b->numel * (int64_t)ir_dtype_size(b->dtype) + 63) / 64 * 64;
    }
    return total;
}

void be_llvm_weights_fill(const loop_func *f, const int64_t *offset, unsigned char *blob)
{
    for (int i = 0; i < f->n_bufs; i++)
        if (offset[i] >= 0 && f->bufs[i]->data)
            memcpy(blob + offset[i], f->bufs[i]->data,
                   (size_t)f->bufs[i]->numel * ir_dtype_size(f->bufs[i]->dtype));
}
