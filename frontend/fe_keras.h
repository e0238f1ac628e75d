/*
 * The Keras reader's shared half (frontend/fe_keras*.c): the context a
 * model is built in, the weights store (HDF5), the node-building helpers
 * and the layer converters. Not a public header: fe.h has the entry point.
 *
 * Layout: Keras tensors are channels_last. A Keras tensor of rank 3 to 5
 * may be held in the graph "channels first" (fk_tensor.cf): its value is
 * the Keras tensor with the last axis moved to position 1, the NCHW form
 * the ONNX ops (Conv, pooling, BatchNormalization) want. Ops that keep
 * the layout (activations, elementwise merges, convolutions) never
 * transpose; a Transpose back is made only where a layer needs the Keras
 * order (Flatten, Dense, Reshape, outputs), so a CNN has one at its input
 * and one before its Flatten.
 */
#ifndef LOOM_FE_KERAS_H
#define LOOM_FE_KERAS_H

#include <cjson/cJSON.h>

#include "fe.h"

/* The weights of a model: a Keras 3 .weights.h5 (layers/<path>/vars/<i>,
 * found by the layer name each vars group carries) or a legacy whole-model
 * .h5 (model_weights/<layer>/ with the weight_names attribute). */
typedef struct fk_weights fk_weights;

/* Opens the HDF5 file at path (or the in-memory image when image is not
 * NULL; path then only names it in messages). */
loom_status fk_weights_open(const char *path, const void *image, size_t len, fk_weights **out,
                            ir_diag *d);
void fk_weights_free(fk_weights *w);
/* The legacy .h5's model_config attribute (JSON text, ir_malloc'd), or
 * NULL with a diagnostic. */
char *fk_weights_legacy_config(fk_weights *w, ir_diag *d);
/* Reads member of the Keras zip held in memory (zip, zip_len; read from
 * path) into ir_malloc'd memory, NUL-terminated. */
loom_status fk_zip_read(const char *path, const void *zip, size_t zip_len, const char *member,
                        char **data, size_t *len, ir_diag *d);

/* A Keras tensor in the graph. */
typedef struct fk_tensor {
    ir_value *v;
    bool cf; /* held channels first: see the file comment */
} fk_tensor;

#define FK_MAX_IO 32

typedef struct fk_ctx {
    ir_graph *g;
    ir_diag *d;
    const char *path;         /* the model file, for messages */
    fk_weights *w;
    const char *const *dims;  /* --dim pins: batch=N, INPUT=d0,d1,... */
    loom_status status;       /* first error */
    /* the layer being converted */
    const char *layer, *cls;
    const cJSON *cfg;
    const char *wprefix;      /* sub-path of its weights (nested layers) */
    int wnext;                /* next weight ordinal (legacy .h5) */
} fk_ctx;

/* A layer converter: ins -> outs (*n_out set); false after reporting. */
typedef bool (*fk_layer_fn)(fk_ctx *c, const fk_tensor *ins, int n_in, fk_tensor *outs,
                            int *n_out);

/* The converter of a Keras class name, or NULL when unsupported. */
fk_layer_fn fk_layer_lookup(const char *cls);

/* ---- errors and config fields (fe_keras_build.c) ---- */

/* Reports "FILE: layer "NAME" (Class): message" and records st. */
void fk_error(fk_ctx *c, loom_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const cJSON *fk_field(const fk_ctx *c, const char *key);
/* Typed config fields with defaults (a null field is the default); a field
 * of the wrong type is an error. */
bool fk_cfg_bool(fk_ctx *c, const char *key, bool def);
double fk_cfg_num(fk_ctx *c, const char *key, double def);
int64_t fk_cfg_int(fk_ctx *c, const char *key, int64_t def);
const char *fk_cfg_str(fk_ctx *c, const char *key, const char *def);
/* An int or a list of n ints into out (an int is repeated n times); false
 * when absent (out untouched) or malformed (reported). */
bool fk_cfg_ints(fk_ctx *c, const char *key, int64_t *out, int n);
/* Errors unless the option has one of the accepted values: for options
 * loom does not implement ("data_format", "channels_last"). */
bool fk_require_str(fk_ctx *c, const char *key, const char *want, const char *def);

/* ---- graph building ---- */

/* Adds node op over ins with n_out fresh outputs named after the layer,
 * infers their shapes; returns output 0, NULL on error. outs may be NULL. */
ir_value *fk_node(fk_ctx *c, ir_op op, ir_value *const *ins, int n_in, int n_out,
                  ir_value **outs);
/* Shape inference of the node that made y, once its attributes are set;
 * returns y, or NULL after reporting. */
ir_value *fk_infer(fk_ctx *c, ir_value *y);
ir_value *fk_gelu(fk_ctx *c, ir_value *x, bool approximate);
ir_value *fk_unary(fk_ctx *c, ir_op op, ir_value *x);
ir_value *fk_binary(fk_ctx *c, ir_op op, ir_value *a, ir_value *b);
/* An f32 constant of the given shape copied from data (zeros when NULL). */
ir_value *fk_const(fk_ctx *c, const char *what, int rank, const int64_t *dims, const float *data);
ir_value *fk_scalar(fk_ctx *c, float x);
ir_value *fk_const_i64(fk_ctx *c, const char *what, int n, const int64_t *vals);
ir_value *fk_transpose(fk_ctx *c, ir_value *x, const int64_t *perm);
ir_value *fk_reshape(fk_ctx *c, ir_value *x, int rank, const int64_t *dims);
/* The Keras-order value of t (a Transpose when t is held channels first). */
ir_value *fk_keras_order(fk_ctx *c, fk_tensor t);
/* t held channels first (a Transpose when it is not); rank 3 to 5. */
ir_value *fk_channels_first(fk_ctx *c, fk_tensor t);
/* The Keras shape of t. */
ir_shape fk_shape(const fk_tensor *t);
/* Keras axis (negative counts from the end) -> axis of t's value; -1 and
 * an error when out of range. */
int fk_axis(fk_ctx *c, const fk_tensor *t, int64_t axis);
/* Applies a Keras activation (a name or a serialized function) to x. */
ir_value *fk_activation(fk_ctx *c, ir_value *x, const cJSON *act, int channel_axis);
/* The activation named by the config field key ("activation"). */
ir_value *fk_cfg_activation(fk_ctx *c, ir_value *x, const char *key, int channel_axis);

/* ---- weights ---- */

/* Weight index of the current layer (under sub, a nested layer's path such
 * as "cell" or "forward_layer/cell", or NULL) as f32 of exactly the given
 * shape; NULL after reporting (missing, wrong shape). Weights must be asked
 * for in the layer's own order (layer.weights), as the legacy .h5 lists
 * them by position. The data lives in the graph arena. */
float *fk_weight(fk_ctx *c, const char *sub, int index, int rank, const int64_t *dims);

/* ---- layer groups ---- */
fk_layer_fn fk_layer_lookup_rnn(const char *cls);
fk_layer_fn fk_layer_lookup_merge(const char *cls);

#endif
