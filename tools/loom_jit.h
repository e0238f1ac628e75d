/*
 * The CLI's seam to the LLVM backend's ahead-of-time output
 * (backend/llvm/be_llvm.h): `loom compile --emit=llvm|obj`. `run` and
 * `bench --backend=jit` compile through libloom (loom_cli.h cli_build).
 */
#ifndef LOOM_TOOLS_JIT_H
#define LOOM_TOOLS_JIT_H

#include "be_llvm.h"
#include "ir.h"
#include "lower.h"
#include "passes.h"

/* Compiles g and writes the optimized LLVM IR (kind "llvm") or an object
 * file (kind "obj") defining NAME_run_v to path. */
loom_status tool_jit_emit(ir_graph *g, const pass_options *po, const lower_opts *lo, int threads,
                          const char *name, const char *kind, const char *path, ir_diag *d);

#endif
