/*
 * safetensors files (https://github.com/huggingface/safetensors): an 8-byte
 * little-endian header length N, N bytes of JSON header
 *   {"NAME": {"dtype": "F32", "shape": [2, 3], "data_offsets": [BEGIN, END]},
 *    "__metadata__": {"key": "value"}, ...}
 * then the data section; offsets are relative to its start.
 *
 * The reader maps the file (mmap, copy-on-write) and validates the whole
 * header: every tensor's dtype, shape and offsets, and that tensors do not
 * overlap. A tensor whose dtype loom lacks (F16, BF16, ...) is not an error
 * here (its dtype is IR_DTYPE_COUNT); the caller reports it if it uses it.
 */
#ifndef LOOM_FE_SAFETENSORS_H
#define LOOM_FE_SAFETENSORS_H

#include "fe_jsontext.h"
#include "ir.h"

typedef struct fe_st_tensor {
    const char *name;
    const char *dtype_name; /* as in the header: "F32", "BF16", ... */
    ir_dtype dtype;         /* IR_DTYPE_COUNT when loom does not support it */
    ir_shape shape;
    uint64_t begin, end;    /* byte range in the data section */
    void *data;             /* points into the mapping */
} fe_st_tensor;

typedef struct fe_st_file {
    const char *path;
    fe_st_tensor *tensors;  /* in header order */
    int n_tensors;
    void *map;              /* the whole file, or NULL when empty */
    size_t map_size;
} fe_st_file;

/* Opens and validates path. Tables are allocated in arena a (which must
 * have an OOM handler; fe_st_open catches failures itself and returns
 * LOOM_STATUS_NOMEM). Messages start with "PATH: "; when referrer is not
 * NULL a file that cannot be opened is reported as
 * "REFERRER: cannot open weights file "PATH": reason". On success the caller
 * owns f->map (fe_st_close, or hand it to ir_graph_add_mapping). */
loom_status fe_st_open(const char *path, const char *referrer, ir_arena *a, fe_st_file *f,
                       ir_diag *d);
void fe_st_close(fe_st_file *f);
/* Looks a tensor up by name (linear); NULL when absent. */
const fe_st_tensor *fe_st_find(const fe_st_file *f, const char *name);
/* The safetensors dtype name for an ir_dtype ("F32", ...). */
const char *fe_st_dtype_name(ir_dtype t);
/* The dtypes loom reads, for messages: "F32, F64, I64, I32, I8, U8, BOOL". */
const char *fe_st_supported_dtypes(void);

/* One tensor to write. */
typedef struct fe_st_entry {
    const char *name;
    ir_dtype dtype;
    ir_shape shape;
    const void *data;
} fe_st_entry;

/* Writes the tensors to path (through a temporary file). Tensors are laid
 * out by decreasing element size (stable), the header padded with spaces to
 * 8 bytes, so every tensor's data is aligned to its element size. */
loom_status fe_st_write(const char *path, const fe_st_entry *t, int n, ir_diag *d);
/* The same, but leaves the written file under its temporary name in *w
 * (closed; finish with fe_wfile_commit or fe_wfile_abort). */
loom_status fe_st_write_tmp(const char *path, const fe_st_entry *t, int n, fe_wfile *w,
                            ir_diag *d);

#endif
