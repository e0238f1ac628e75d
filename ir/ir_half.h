/*
 * f16 and bf16 as storage types. loom computes in f32: a model's f16/bf16
 * values stay half only where they are stored (graph inputs, outputs,
 * initializers, the operands of Cast), and every other op is widened, its
 * half operands converted to f32 by inserted Casts and its results
 * converted back by Casts after it. ONNX's f16 ops give the result
 * rounded to f16, which is what converting the f32 result gives (one
 * rounding per op; onnxruntime's CPU kernels also compute most f16 ops in
 * f32). Readers call these while inferring the graph node by node.
 */
#ifndef LOOM_IR_HALF_H
#define LOOM_IR_HALF_H

#include "ir.h"

/* Op n reads its f16/bf16 operands through f32: a Cast to f32 is inserted
 * before n for each (n's Cast itself is left alone). Returns the half dtype
 * found, IR_DTYPE_COUNT when n has none, and the number of nodes inserted
 * in *inserted. */
ir_dtype ir_half_widen_inputs(ir_graph *g, ir_node *n, int *inserted);

/* After n's inference: each f32 output of n becomes an f32 temporary that a
 * Cast inserted after n converts to half, the dtype ONNX gives the output.
 * A constant output moves its data to the temporary. Returns the number of
 * Casts inserted. */
int ir_half_narrow_outputs(ir_graph *g, ir_node *n, ir_dtype half);

#endif
