/*
 * Frontends: readers that turn a model file into a verified, shape-inferred
 * graph IR, and the tensor file formats (.npy, safetensors) around them.
 * Every reader reports all problems it can find in one pass to the
 * diagnostic, with the file, node and field, and returns an error status;
 * on error *out is NULL and nothing is leaked.
 */
#ifndef LOOM_FE_H
#define LOOM_FE_H

#include "ir.h"

/* loom's JSON model format (docs/model-format.md), weights from the
 * safetensors file it names (relative to the JSON file's folder) or inline. */
loom_status fe_json_load(const char *path, ir_graph **out, ir_diag *d);
/* Same from text in memory; base_dir resolves the weights file. */
loom_status fe_json_load_string(const char *text, size_t len, const char *source,
                                const char *base_dir, ir_graph **out, ir_diag *d);
/* Writes g as JSON to json_path with its constants in weights_path
 * (safetensors; the JSON names it relative to its own folder). When
 * weights_path is NULL, constants are written inline. */
loom_status fe_json_write(const ir_graph *g, const char *json_path, const char *weights_path,
                          ir_diag *d);

/* ONNX ModelProto (frontend/fe_onnx.c). dims pins symbolic dimensions:
 * entries "name=value" for a dim_param, or "input=1,3,224,224" for a whole
 * input shape; NULL-terminated list, may be NULL. */
loom_status fe_onnx_load(const char *path, const char *const *dims, ir_graph **out, ir_diag *d);

/* Keras 3 models (frontend/fe_keras.c, docs/keras.md): a .keras zip, a
 * legacy whole-model .h5, or model.to_json() text whose weights are the
 * file weights (NULL: NAME.weights.h5 beside NAME.json). dims: "batch=N"
 * for the None batch dim (default 1), "INPUT=d0,d1,..." for a whole input
 * shape. */
loom_status fe_keras_load(const char *path, const char *weights, const char *const *dims,
                          ir_graph **out, ir_diag *d);
/* True when JSON text is a Keras model config rather than loom's format. */
bool fe_keras_is_json(const char *text, size_t len);

/* Loads any supported model by extension (.json, .onnx, .lir, .keras, .h5;
 * a .json is loom's format or a Keras config, told apart by content). */
loom_status fe_load_model(const char *path, const char *const *dims, ir_graph **out, ir_diag *d);

/* A graph input to freeze: it becomes a constant holding value's data
 * (value's dtype must be the input's and its shape fit the declared one). */
typedef struct fe_binding {
    const char *name;
    const ir_value *value;
} fe_binding;

/* fe_load_model with n_binds graph inputs replaced by constants at load
 * time, as a compiler with static shapes needs for inputs that feed shapes
 * (Reshape's shape, Slice's starts, attention masks, ...). ONNX inputs are
 * bound before shape inference, so a bound shape input fixes the shapes it
 * computes; .json and .lir inputs must match their declared type exactly.
 * A binding that names no graph input is an error. */
loom_status fe_load_model_bound(const char *path, const char *const *dims,
                                const fe_binding *binds, int n_binds, ir_graph **out,
                                ir_diag *d);

/* fe_load_model_bound with the weights file of a Keras .json (NULL: the
 * sibling NAME.weights.h5); other formats reject weights. */
loom_status fe_load_model_weights(const char *path, const char *weights, const char *const *dims,
                                  const fe_binding *binds, int n_binds, ir_graph **out,
                                  ir_diag *d);

/* The model formats, for models in memory. */
typedef enum fe_format { FE_FORMAT_JSON, FE_FORMAT_LIR, FE_FORMAT_ONNX } fe_format;

/* fe_load_model_bound for a model of len bytes at data (not kept) in
 * format, named source in messages; base_dir (NULL: ".") resolves a JSON
 * model's weights file and ONNX external data. */
loom_status fe_load_memory_bound(const void *data, size_t len, fe_format format,
                                 const char *source, const char *base_dir,
                                 const char *const *dims, const fe_binding *binds, int n_binds,
                                 ir_graph **out, ir_diag *d);

/* .npy arrays (format version 1.0-3.0, little-endian, C order). */
typedef struct fe_npy {
    ir_dtype dtype;
    ir_shape shape;
    void *data; /* from ir_malloc; fe_npy_free releases it */
} fe_npy;

loom_status fe_npy_read(const char *path, fe_npy *out, ir_diag *d);
loom_status fe_npy_write(const char *path, ir_dtype dtype, const ir_shape *shape, const void *data,
                         ir_diag *d);
void fe_npy_free(fe_npy *a);

#endif
