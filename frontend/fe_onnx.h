/*
 * ONNX helpers beyond fe_onnx_load (declared in fe.h), used by the
 * conformance runner and tests: reading a TensorProto file (the backend test
 * data format) and listing a model's op types without building a graph.
 */
#ifndef LOOM_FE_ONNX_H
#define LOOM_FE_ONNX_H

#include "fe.h"

/* fe_onnx_load with n_binds inputs replaced by constants, as a compiler
 * with static shapes needs for inputs that feed shapes (Reshape's shape,
 * Slice's starts, ...). A binding that names no graph input is an error. */
loom_status fe_onnx_load_bound(const char *path, const char *const *dims,
                               const fe_binding *binds, int n_binds, ir_graph **out,
                               ir_diag *d);
/* fe_onnx_load_bound from len bytes at buf, named source in messages;
 * external data relative to base_dir (NULL: "."). */
loom_status fe_onnx_load_memory(const void *buf, size_t len, const char *source,
                                const char *base_dir, const char *const *dims,
                                const fe_binding *binds, int n_binds, ir_graph **out,
                                ir_diag *d);

/* Reads a serialized TensorProto from path into a new constant value that
 * lives in g's arena but is not listed in g->values (named after the tensor,
 * or after the file when the tensor has no name). Reports to d and returns
 * an error status; *out is NULL on error. */
loom_status fe_onnx_read_tensor(const char *path, ir_graph *g, ir_value **out, ir_diag *d);
/* Same; with u16_as_bf16 a UINT16 tensor is read as bf16 bit patterns (the
 * ONNX 1.12 node tests store bfloat16 data so, numpy having no bfloat16). */
loom_status fe_onnx_read_tensor_ex(const char *path, ir_graph *g, bool u16_as_bf16, ir_value **out,
                                   ir_diag *d);

/* Writes the distinct op types of the model's main graph, in order of first
 * use and separated by spaces, into buf (always NUL-terminated); ops of a
 * domain other than the default one are written "domain:Op". Returns the
 * number of distinct ops, or -1 (with a message in d) when the file cannot
 * be read or parsed. */
int fe_onnx_list_ops(const char *path, char *buf, size_t size, ir_diag *d);
/* The IR op an ONNX op name (default domain) loads as, the older names
 * included; IR_OP_COUNT when loom lacks it. */
ir_op fe_onnx_op(const char *op_type);

/* True for the control-flow ops (If, Loop, Scan) the reader expands into
 * ordinary nodes at load time rather than mapping them to an IR op. */
bool fe_onnx_is_control(const char *op_type);
#endif
