/*
 * Internal interface of the ONNX reader between fe_onnx.c (model, graph,
 * nodes, folding) and fe_onnx_tensor.c (files, protobuf decoding through the
 * allocation hook, TensorProto payloads in every storage form). The
 * protobuf-c types come from onnx.pb-c.h, generated at build time from
 * Debian's onnx.proto (see the top-level CMakeLists.txt).
 */
#ifndef LOOM_FE_ONNX_PB_H
#define LOOM_FE_ONNX_PB_H

#include "fe_onnx.h"
#include "onnx.pb-c.h"

/* protobuf-c allocator that routes every allocation through ir_malloc and
 * remembers whether one failed (protobuf-c returns NULL both for corrupt
 * input and for out of memory). */
typedef struct fe_onnx_alloc {
    ProtobufCAllocator pb;
    bool failed;
} fe_onnx_alloc;

void fe_onnx_alloc_init(fe_onnx_alloc *a);

/* Messages nested deeper than this (a ModelProto is level 1) are refused
 * before decoding: protobuf-c recurses once per level and would overflow the
 * stack. 100 is also the limit of protobuf's own parsers (upb's default
 * decode depth), so no model that onnx.load reads is refused. */
#define FE_ONNX_MAX_DEPTH 100

/* True when no message in buf (a message of type desc) is nested deeper
 * than FE_ONNX_MAX_DEPTH. Malformed wire data is left to the decoder. */
bool fe_onnx_nesting_ok(const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len);

/* Reads the whole file at path into an ir_malloc buffer (*len bytes).
 * Reports to d (as "PATH: ...") and returns LOOM_STATUS_IO or NOMEM. */
loom_status fe_onnx_read_file(const char *path, uint8_t **buf, size_t *len, ir_diag *d);

/* Short loom-style name of an ONNX TensorProto.DataType ("f32", "f16",
 * "bf16", "string", ...), "dtype N" for unknown codes (in a static buffer
 * that is overwritten by the next call). */
const char *fe_onnx_dtype_name(int onnx_type);

/* Fills v (dtype, shape, data in g's arena) from the tensor t. what names
 * the tensor in messages (e.g. "initializer \"w\""); base_dir resolves
 * external data (NULL: external data is refused). Reports to d and returns
 * an error status; may longjmp to g's arena handler on out of memory. */
loom_status fe_onnx_tensor_to_value(ir_graph *g, const Onnx__TensorProto *t, const char *what,
                                    const char *base_dir, ir_value *v, ir_diag *d);

#endif
