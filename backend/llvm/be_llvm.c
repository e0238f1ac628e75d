/*
 * The LLVM backend's driver (be_llvm.h): target machine for the host CPU
 * (name and features, so loops vectorize with the widest units the CPU
 * has), the new pass manager (LLVMRunPasses "default<O2>", O3 on request),
 * then an object file, linked in-process by ORC LLJIT or written out (or
 * the IR as text). Runtime kernels and libm resolve through an explicit
 * absolute-symbol map (be_llvm_symbols); constants are copied once into a
 * module-owned blob that the JIT defines as the symbol NAME_weights, so no
 * megabytes of data pass through LLVM and the object does not depend on
 * the process: it is kept in an on-disk cache (be_llvm_cache.c) under a
 * hash of the unoptimized module and every setting that shapes the
 * machine code (cache_key), and a later compilation of the same program
 * links the stored object instead of running LLVM's passes and codegen.
 */
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <llvm-c/BitWriter.h>
#include <llvm-c/Core.h>
#include <llvm-c/Error.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Orc.h>
#include <llvm-c/Support.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>

#include "be.h"
#include "be_llvm_internal.h"

struct be_llvm_module {
    LLVMOrcLLJITRef jit;
    be_llvm_run_fn run;
    unsigned char *weights; /* the constants the code points into */
    int64_t workspace_bytes;
    be_llvm_times times;
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static bool init_ok;

/* Initializes the native target once per process. Ordered (strict)
 * floating-point reductions let the loop vectorizer vectorize a loop
 * whose sum must keep the loop IR's order, as gcc does for the C backend:
 * softmax's exp-and-sum loop ran scalar without it, the JIT 1.4-1.6x
 * slower than C on the attention models. LLVM offers it only as a
 * process-wide option (on by default for AArch64 alone), set here once,
 * before any compilation reads it; parse errors go nowhere (llvm::nulls),
 * so an LLVM without the option compiles on, unvectorized. docs/jit.md
 * "Process-wide LLVM state". */
static const char *const llvm_args[] = {"loom", "-force-ordered-reductions"};

static void init_llvm(void)
{
    init_ok = !LLVMInitializeNativeTarget() && !LLVMInitializeNativeAsmPrinter();
    LLVMParseCommandLineOptions(2, llvm_args, NULL);
}

/* Reports an LLVM error (consuming it); always returns false. */
static bool llvm_error(LLVMErrorRef err, const char *what, const loop_func *f, ir_diag *d)
{
    char *msg = LLVMGetErrorMessage(err);
    ir_diag_errorf(d, "%s: LLVM %s failed: %s", f->name, what, msg);
    LLVMDisposeErrorMessage(msg);
    return false;
}

static LLVMCodeGenOptLevel codegen_level(const be_llvm_opts *o)
{
    static const LLVMCodeGenOptLevel levels[] = {LLVMCodeGenLevelNone, LLVMCodeGenLevelLess,
                                                 LLVMCodeGenLevelDefault,
                                                 LLVMCodeGenLevelAggressive};
    return levels[o->opt_level];
}

/* Vector gathers and scatters are microcoded on AMD Zen and slow on Intel
 * since the GDS mitigation; LLVM's cost model still picks them for
 * transposes (a scatter per 8 floats), where gcc, which builds the C
 * backend's code, uses plain loads and stores. */
static const char no_gather[] = ",+prefer-no-gather,+prefer-no-scatter";

/* A target machine for the host: its triple, CPU name and features. */
static LLVMTargetMachineRef host_machine(const be_llvm_opts *o, const loop_func *f, ir_diag *d)
{
    char *triple = LLVMGetDefaultTargetTriple(), *err = NULL;
    char *cpu = LLVMGetHostCPUName(), *features = LLVMGetHostCPUFeatures();
    size_t n = strlen(features) + sizeof no_gather;
    char *tuned = ir_malloc(n);
    bool oom = !tuned;
    LLVMTargetRef target;
    LLVMTargetMachineRef tm = NULL;
    if (oom)
        ir_diag_errorf(d, "%s: out of memory in the LLVM backend", f->name);
    else if (LLVMGetTargetFromTriple(triple, &target, &err))
        ir_diag_errorf(d, "%s: no LLVM target for %s: %s", f->name, triple, err);
    else if (snprintf(tuned, n, "%s%s", features, no_gather) > 0)
        tm = LLVMCreateTargetMachine(target, triple, cpu, tuned, codegen_level(o),
                                     LLVMRelocPIC, LLVMCodeModelDefault);
    ir_free(tuned);
    if (!tm && !err && !oom)
        ir_diag_errorf(d, "%s: cannot create an LLVM target machine for %s", f->name, triple);
    LLVMDisposeMessage(err);
    LLVMDisposeMessage(triple);
    LLVMDisposeMessage(cpu);
    LLVMDisposeMessage(features);
    return tm;
}

/* Generates the (unoptimized) module for f in ctx, for tm. */
static LLVMModuleRef gen_module(const loop_func *f, const be_llvm_opts *o,
                                const be_llvm_weights *w, LLVMContextRef ctx,
                                LLVMTargetMachineRef tm, be_llvm_times *t, ir_diag *d)
{
    double t0 = be_now_ms();
    LLVMModuleRef mod = LLVMModuleCreateWithNameInContext(f->name, ctx);
    char *triple = LLVMGetTargetMachineTriple(tm);
    LLVMTargetDataRef layout = LLVMCreateTargetDataLayout(tm);
    char *layout_text = LLVMCopyStringRepOfTargetData(layout);
    LLVMSetTarget(mod, triple);
    LLVMSetDataLayout(mod, layout_text);
    char *cpu = LLVMGetTargetMachineCPU(tm), *features = LLVMGetTargetMachineFeatureString(tm);
    loom_status st = be_llvm_gen(f, mod, w, cpu, features, o->threads, d);
    LLVMDisposeMessage(cpu);
    LLVMDisposeMessage(features);
    LLVMDisposeMessage(layout_text);
    LLVMDisposeTargetData(layout);
    LLVMDisposeMessage(triple);
    t->irgen_ms = be_now_ms() - t0;
    if (st != LOOM_STATUS_OK) {
        LLVMDisposeModule(mod);
        return NULL;
    }
    return mod;
}

/* The pass pipeline o asks for ("" with no_opt). */
static void pipeline_text(const be_llvm_opts *o, char *out, size_t size)
{
    snprintf(out, size, o->no_opt ? "" : "default<O%d>", o->opt_level);
}

/* Runs the pass pipeline on mod for tm. */
static bool optimize_module(LLVMModuleRef mod, const be_llvm_opts *o, LLVMTargetMachineRef tm,
                            const loop_func *f, be_llvm_times *t, ir_diag *d)
{
    if (o->no_opt)
        return true;
    double t0 = be_now_ms();
    char passes[32];
    pipeline_text(o, passes, sizeof passes);
    LLVMPassBuilderOptionsRef po = LLVMCreatePassBuilderOptions();
    LLVMPassBuilderOptionsSetLoopVectorization(po, o->opt_level >= 2);
    LLVMPassBuilderOptionsSetSLPVectorization(po, o->opt_level >= 2);
    LLVMErrorRef err = LLVMRunPasses(mod, passes, tm, po);
    LLVMDisposePassBuilderOptions(po);
    t->opt_ms = be_now_ms() - t0;
    return err ? llvm_error(err, "optimization", f, d) : true;
}

/* default<O2>: on the exported models as fast as O3 (bench/jit_vs_c.sh)
 * at a third of O3's compile time (GPT block: 0.9 s against 2.3 s CPU). */
#define BE_LLVM_DEFAULT_OPT 2

static be_llvm_opts resolve_opts(const be_llvm_opts *opts)
{
    be_llvm_opts o = opts ? *opts : (be_llvm_opts){0};
    if (o.opt_level <= 0 || o.opt_level > 3)
        o.opt_level = BE_LLVM_DEFAULT_OPT;
    return o;
}

/* Defines be_llvm_symbols in the JIT's main library, and NAME_weights at
 * weights when there are constants. */
static bool define_symbols(LLVMOrcLLJITRef jit, const loop_func *f, const void *weights,
                           ir_diag *d)
{
    size_t n = 0;
    while (be_llvm_symbols[n].name)
        n++;
    LLVMOrcCSymbolMapPair *pairs = ir_calloc(n + 1, sizeof *pairs);
    if (!pairs) {
        ir_diag_errorf(d, "%s: out of memory in the LLVM backend", f->name);
        return false;
    }
    for (size_t k = 0; k < n; k++) {
        pairs[k].Name = LLVMOrcLLJITMangleAndIntern(jit, be_llvm_symbols[k].name);
        pairs[k].Sym.Address = (LLVMOrcExecutorAddress)(uintptr_t)be_llvm_symbols[k].fn;
        pairs[k].Sym.Flags.GenericFlags =
            LLVMJITSymbolGenericFlagsExported | LLVMJITSymbolGenericFlagsCallable;
    }
    if (weights) {
        char name[512];
        snprintf(name, sizeof name, "%s_weights", f->name);
        pairs[n].Name = LLVMOrcLLJITMangleAndIntern(jit, name);
        pairs[n].Sym.Address = (LLVMOrcExecutorAddress)(uintptr_t)weights;
        pairs[n++].Sym.Flags.GenericFlags = LLVMJITSymbolGenericFlagsExported;
    }
    LLVMOrcMaterializationUnitRef mu = LLVMOrcAbsoluteSymbols(pairs, n);
    ir_free(pairs);
    LLVMErrorRef err = LLVMOrcJITDylibDefine(LLVMOrcLLJITGetMainJITDylib(jit), mu);
    if (err) {
        LLVMOrcDisposeMaterializationUnit(mu);
        return llvm_error(err, "symbol definition", f, d);
    }
    return true;
}

static void dispose_jit(LLVMOrcLLJITRef jit)
{
    LLVMErrorRef err = jit ? LLVMOrcDisposeLLJIT(jit) : NULL;
    if (err)
        LLVMConsumeError(err);
}

/* A new LLJIT for the host (its own target machine) with the runtime and
 * the weights of m defined. */
static LLVMOrcLLJITRef create_jit(const be_llvm_module *m, const loop_func *f,
                                  const be_llvm_opts *o, ir_diag *d)
{
    LLVMTargetMachineRef tm = host_machine(o, f, d);
    if (!tm)
        return NULL;
    LLVMOrcLLJITBuilderRef builder = LLVMOrcCreateLLJITBuilder();
    LLVMOrcLLJITBuilderSetJITTargetMachineBuilder(
        builder, LLVMOrcJITTargetMachineBuilderCreateFromTargetMachine(tm));
    LLVMOrcLLJITRef jit = NULL;
    LLVMErrorRef err = LLVMOrcCreateLLJIT(&jit, builder);
    if (err) {
        llvm_error(err, "JIT creation", f, d);
        return NULL;
    }
    if (!define_symbols(jit, f, m->weights, d)) {
        dispose_jit(jit);
        return NULL;
    }
    return jit;
}

/* Copies the constants into m->weights (the JIT defines NAME_weights
 * there); fills w's layout. */
static bool copy_weights(be_llvm_module *m, const loop_func *f, be_llvm_weights *w,
                         int64_t *offset, ir_diag *d)
{
    w->offset = offset;
    w->bytes = be_llvm_weights_layout(f, offset);
    if (!w->bytes)
        return true;
    m->weights = aligned_alloc(64, (size_t)w->bytes);
    if (!m->weights) {
        ir_diag_errorf(d, "%s: out of memory for %lld bytes of weights", f->name,
                       (long long)w->bytes);
        return false;
    }
    be_llvm_weights_fill(f, offset, m->weights);
    return true;
}

/* Hashes into key everything that decides mod's machine code: loom's and
 * LLVM's versions, the target (triple, CPU, features), the pipeline, the
 * opt level, the thread count, LLVM's process-wide options and the
 * unoptimized module itself (as bitcode: the loop program, buffer
 * offsets, kernel calls; not the weights, which the code reaches by
 * symbol). A setting added to host_machine or optimize_module belongs
 * here too. */
static void cache_key(LLVMModuleRef mod, LLVMTargetMachineRef tm, const be_llvm_opts *o,
                      be_hash *key)
{
    unsigned major, minor, patch;
    LLVMGetVersion(&major, &minor, &patch);
    char *triple = LLVMGetTargetMachineTriple(tm), *cpu = LLVMGetTargetMachineCPU(tm);
    char *features = LLVMGetTargetMachineFeatureString(tm), passes[32];
    pipeline_text(o, passes, sizeof passes);
    be_hash_init(key);
    be_hash_str(key, "loom " LOOM_PROJECT_VERSION " jit object, pic, default code model");
    be_hash_u64(key, (uint64_t)major << 32 | minor << 16 | patch);
    be_hash_str(key, triple);
    be_hash_str(key, cpu);
    be_hash_str(key, features);
    be_hash_str(key, passes);
    be_hash_u64(key, (uint64_t)o->opt_level);
    be_hash_u64(key, (uint64_t)o->threads);
    for (size_t k = 0; k < sizeof llvm_args / sizeof *llvm_args; k++)
        be_hash_str(key, llvm_args[k]);
    LLVMMemoryBufferRef bc = LLVMWriteBitcodeToMemoryBuffer(mod);
    be_hash_bytes(key, LLVMGetBufferStart(bc), LLVMGetBufferSize(bc));
    LLVMDisposeMemoryBuffer(bc);
    LLVMDisposeMessage(triple);
    LLVMDisposeMessage(cpu);
    LLVMDisposeMessage(features);
}

/* Adds obj (taken over) to m's JIT and looks up NAME_run_v, which links
 * it. */
static bool link_object(be_llvm_module *m, const loop_func *f, LLVMMemoryBufferRef obj,
                        ir_diag *d)
{
    LLVMErrorRef err =
        LLVMOrcLLJITAddObjectFile(m->jit, LLVMOrcLLJITGetMainJITDylib(m->jit), obj);
    if (err)
        return llvm_error(err, "adding the object", f, d);
    char name[512];
    snprintf(name, sizeof name, "%s_run_v", f->name);
    LLVMOrcExecutorAddress addr = 0;
    if ((err = LLVMOrcLLJITLookup(m->jit, &addr, name)))
        return llvm_error(err, "linking", f, d);
    m->run = (be_llvm_run_fn)(uintptr_t)addr;
    return true;
}

/* Links the object the cache holds under key into m. False when there is
 * none or it does not link (stored by a loom whose key missed a change);
 * then m gets a fresh JIT (m->jit NULL, with d, if that fails). */
static bool link_cached(be_llvm_module *m, const loop_func *f, const be_llvm_opts *o,
                        const be_hash *key, ir_diag *d)
{
    LLVMMemoryBufferRef obj = be_llvm_cache_load(key);
    if (!obj)
        return false;
    ir_diag quiet;
    ir_diag_init(&quiet);
    bool ok = link_object(m, f, obj, &quiet);
    ir_diag_free(&quiet);
    if (!ok) {
        dispose_jit(m->jit);
        m->jit = create_jit(m, f, o, d);
    }
    return ok;
}

/* Optimizes mod and compiles it to an object in memory (NULL on error). */
static LLVMMemoryBufferRef compile_object(LLVMModuleRef mod, const be_llvm_opts *o,
                                          LLVMTargetMachineRef tm, const loop_func *f,
                                          be_llvm_times *t, ir_diag *d)
{
    if (!optimize_module(mod, o, tm, f, t, d))
        return NULL;
    char *err = NULL;
    LLVMMemoryBufferRef obj = NULL;
    if (LLVMTargetMachineEmitToMemoryBuffer(tm, mod, LLVMObjectFile, &err, &obj)) {
        ir_diag_errorf(d, "%s: LLVM code generation failed: %s", f->name, err ? err : "");
        obj = NULL;
    }
    LLVMDisposeMessage(err);
    return obj;
}

/* Gives m the machine code of mod: the cached object when the cache holds
 * one, else compiled (and stored when the cache is on). */
static bool machine_code(be_llvm_module *m, const loop_func *f, const be_llvm_opts *o,
                         LLVMModuleRef mod, LLVMTargetMachineRef tm, ir_diag *d)
{
    double t0 = be_now_ms();
    be_llvm_times *t = &m->times;
    bool cache = be_llvm_cache_on(o), ok = false;
    be_hash key;
    if (cache) {
        cache_key(mod, tm, o, &key);
        ok = link_cached(m, f, o, &key, d);
        t->cache = ok ? BE_LLVM_CACHE_HIT : BE_LLVM_CACHE_STORED;
    }
    LLVMMemoryBufferRef obj = NULL;
    if (!ok && m->jit && (obj = compile_object(mod, o, tm, f, t, d))) {
        if (cache && !be_llvm_cache_store(&key, LLVMGetBufferStart(obj), LLVMGetBufferSize(obj)))
            t->cache = BE_LLVM_CACHE_UNWRITABLE;
        ok = link_object(m, f, obj, d);
    }
    t->codegen_ms = be_now_ms() - t0 - t->opt_ms;
    return ok;
}

static loom_status jit_compile(be_llvm_module *m, const loop_func *f, const be_llvm_opts *o,
                               ir_diag *d)
{
    int64_t *offset = ir_calloc((size_t)f->n_bufs + 1, sizeof *offset);
    be_llvm_weights w = {0};
    if (!offset || !copy_weights(m, f, &w, offset, d)) {
        if (!offset)
            ir_diag_errorf(d, "%s: out of memory in the LLVM backend", f->name);
        ir_free(offset);
        return LOOM_STATUS_NOMEM;
    }
    loom_status st = LOOM_STATUS_INTERNAL;
    LLVMTargetMachineRef tm = host_machine(o, f, d);
    LLVMContextRef ctx = LLVMContextCreate();
    if (tm && (m->jit = create_jit(m, f, o, d))) {
        LLVMModuleRef mod = gen_module(f, o, &w, ctx, tm, &m->times, d);
        if (mod && machine_code(m, f, o, mod, tm, d))
            st = LOOM_STATUS_OK;
        if (mod)
            LLVMDisposeModule(mod);
    }
    LLVMContextDispose(ctx);
    if (tm)
        LLVMDisposeTargetMachine(tm);
    ir_free(offset);
    return st;
}

loom_status be_llvm_jit(const loop_func *f, const be_llvm_opts *opts, be_llvm_module **out,
                        ir_diag *d)
{
    *out = NULL;
    pthread_once(&init_once, init_llvm);
    if (!init_ok) {
        ir_diag_errorf(d, "%s: LLVM has no native target on this machine", f->name);
        return LOOM_STATUS_UNSUPPORTED;
    }
    be_llvm_module *m = ir_calloc(1, sizeof *m);
    if (!m) {
        ir_diag_errorf(d, "%s: out of memory in the LLVM backend", f->name);
        return LOOM_STATUS_NOMEM;
    }
    be_llvm_opts o = resolve_opts(opts);
    m->workspace_bytes = f->workspace_bytes;
    loom_status st = jit_compile(m, f, &o, d);
    if (st != LOOM_STATUS_OK) {
        be_llvm_free(m);
        return st;
    }
    *out = m;
    return LOOM_STATUS_OK;
}

be_llvm_run_fn be_llvm_entry(const be_llvm_module *m)
{
    return m->run;
}

int64_t be_llvm_workspace_bytes(const be_llvm_module *m)
{
    return m->workspace_bytes;
}

const be_llvm_times *be_llvm_times_of(const be_llvm_module *m)
{
    return &m->times;
}

void be_llvm_free(be_llvm_module *m)
{
    if (!m)
        return;
    dispose_jit(m->jit);
    free(m->weights);
    ir_free(m);
}

/* ---- ahead of time ---- */

/* Writes mod as text IR or an object file for tm. */
static bool write_module(LLVMModuleRef mod, LLVMTargetMachineRef tm, be_llvm_emit_kind kind,
                         const char *path, const loop_func *f, ir_diag *d)
{
    char *err = NULL;
    bool failed = kind == BE_LLVM_EMIT_IR
                      ? LLVMPrintModuleToFile(mod, path, &err)
                      : LLVMTargetMachineEmitToFile(tm, mod, path, LLVMObjectFile, &err);
    if (failed)
        ir_diag_errorf(d, "%s: cannot write %s: %s", f->name, path, err ? err : "LLVM error");
    LLVMDisposeMessage(err);
    return !failed;
}

loom_status be_llvm_emit(const loop_func *f, const be_llvm_opts *opts, be_llvm_emit_kind kind,
                         const char *path, be_llvm_times *times, ir_diag *d)
{
    pthread_once(&init_once, init_llvm);
    if (!init_ok) {
        ir_diag_errorf(d, "%s: LLVM has no native target on this machine", f->name);
        return LOOM_STATUS_UNSUPPORTED;
    }
    be_llvm_opts o = resolve_opts(opts);
    be_llvm_times t = {0};
    int64_t *offset = ir_calloc((size_t)f->n_bufs + 1, sizeof *offset);
    be_llvm_weights w = {.global = true, .offset = offset};
    unsigned char *blob = NULL;
    if (offset && (w.bytes = be_llvm_weights_layout(f, offset)) > 0 &&
        (blob = ir_calloc(1, (size_t)w.bytes)))
        be_llvm_weights_fill(f, offset, blob);
    w.base = blob;
    if (!offset || (w.bytes && !blob)) {
        ir_free(offset);
        ir_diag_errorf(d, "%s: out of memory in the LLVM backend", f->name);
        return LOOM_STATUS_NOMEM;
    }
    loom_status st = LOOM_STATUS_INTERNAL;
    LLVMTargetMachineRef tm = host_machine(&o, f, d);
    LLVMContextRef ctx = LLVMContextCreate();
    LLVMModuleRef mod = tm ? gen_module(f, &o, &w, ctx, tm, &t, d) : NULL;
    if (mod && !optimize_module(mod, &o, tm, f, &t, d)) {
        LLVMDisposeModule(mod);
        mod = NULL;
    }
    if (mod) {
        double t0 = be_now_ms();
        st = write_module(mod, tm, kind, path, f, d) ? LOOM_STATUS_OK : LOOM_STATUS_IO;
        t.codegen_ms = be_now_ms() - t0;
        LLVMDisposeModule(mod);
    }
    LLVMContextDispose(ctx);
    if (tm)
        LLVMDisposeTargetMachine(tm);
    ir_free(blob);
    ir_free(offset);
    if (times)
        *times = t;
    return st;
}
