/*
 * loom's graph IR: values (tensors with a dtype, a static shape and optional
 * constant data) and nodes (an op from ir_ops.h with typed attributes), owned
 * by a graph whose arena is freed at once.
 *
 * Memory: everything a graph holds lives in its arena. Arena allocation never
 * returns NULL: on failure it longjmps to the handler the caller installed with
 * IR_TRY (see below). All allocation goes through ir_malloc so a test can make
 * the Nth allocation fail (ir_alloc_fail_after).
 */
#ifndef LOOM_IR_H
#define LOOM_IR_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ir_ops.h"
#include "loom.h"

/* ---- allocation hook (ir_alloc.c) ---- */

void *ir_malloc(size_t size);
void *ir_calloc(size_t count, size_t size);
void *ir_realloc(void *ptr, size_t size);
void ir_free(void *ptr);
/* Replaces malloc/realloc/free under the hook (loom_set_allocator); any
 * NULL restores the C library's. Not thread-safe: set it before loading. */
void ir_alloc_set_hooks(void *(*m)(size_t), void *(*r)(void *, size_t), void (*f)(void *));
/* Test hook: allocation number n (0 = the next one) and all after it fail.
 * n < 0 switches failure off. */
void ir_alloc_fail_after(long n);
/* Number of allocations made through the hook so far (for tests). */
long ir_alloc_count(void);
/* Test hook: every single allocation larger than max_bytes fails, as under
 * a memory limit (the fuzz targets use it so a tiny input that declares a
 * huge tensor exercises the out-of-memory paths). 0 switches it off. */
void ir_alloc_limit(size_t max_bytes);
/* Checked size arithmetic: return false on overflow. */
bool ir_mul_size(size_t a, size_t b, size_t *out);
bool ir_add_size(size_t a, size_t b, size_t *out);

/* ---- arena (ir_arena.c) ---- */

typedef struct ir_chunk ir_chunk;
typedef struct ir_arena {
    ir_chunk *head;
    jmp_buf *oom;       /* where allocation failure longjmps; must be set */
    size_t bytes;       /* total bytes handed out */
} ir_arena;

void ir_arena_init(ir_arena *a);
void ir_arena_free(ir_arena *a);
/* Zeroed, 16-byte aligned memory; never NULL (longjmps to a->oom). */
void *ir_arena_alloc(ir_arena *a, size_t size);
/* count * size with overflow check (overflow is treated as out of memory). */
void *ir_arena_array(ir_arena *a, size_t count, size_t size);
/* Returns arr (n elements of size elem, capacity *cap) or a copy with room
 * for one more, doubling *cap; the old array stays in the arena. */
void *ir_arena_grow(ir_arena *a, void *arr, int n, int *cap, size_t elem);
char *ir_arena_strdup(ir_arena *a, const char *s);
char *ir_arena_strndup(ir_arena *a, const char *s, size_t n);
void *ir_arena_memdup(ir_arena *a, const void *p, size_t size);
char *ir_arena_printf(ir_arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * IR_TRY(arena, jb) installs jb as the arena's out-of-memory handler and
 * evaluates to true on the first pass, false after a failed allocation:
 *
 *     jmp_buf jb;
 *     if (!IR_TRY(&g->arena, jb)) { ...report LOOM_STATUS_NOMEM...; }
 *
 * Locals changed between IR_TRY and the longjmp must be volatile.
 * The previous handler is not restored automatically: use ir_arena_set_oom.
 */
#define IR_TRY(arena, jb) (((arena)->oom = &(jb)), setjmp(jb) == 0)
static inline jmp_buf *ir_arena_set_oom(ir_arena *a, jmp_buf *jb)
{
    jmp_buf *old = a->oom;
    a->oom = jb;
    return old;
}

/* ---- diagnostics (ir_diag.c) ---- */

/* A list of error messages, one per line. Never fails: if memory runs out
 * the text is truncated but the count stays right. */
typedef struct ir_diag {
    char *text;
    size_t len, cap;
    int n_errors;
} ir_diag;

void ir_diag_init(ir_diag *d);
void ir_diag_free(ir_diag *d);
void ir_diag_clear(ir_diag *d);
/* Appends one line (a trailing newline is added). */
void ir_diag_errorf(ir_diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ir_diag_verrorf(ir_diag *d, const char *fmt, va_list ap);

/* ---- dtypes and shapes ---- */

#define IR_DTYPES(X)  \
    X(F32, "f32", 4)  \
    X(F64, "f64", 8)  \
    X(I64, "i64", 8)  \
    X(I32, "i32", 4)  \
    X(I8, "i8", 1)    \
    X(U8, "u8", 1)    \
    X(BOOL, "bool", 1)   \
    X(F16, "f16", 2)     \
    X(BF16, "bf16", 2)

typedef enum ir_dtype {
#define IR_DTYPE_ENUM(e, name, size) IR_DTYPE_##e,
    IR_DTYPES(IR_DTYPE_ENUM)
#undef IR_DTYPE_ENUM
    IR_DTYPE_COUNT
} ir_dtype;

const char *ir_dtype_name(ir_dtype t);
size_t ir_dtype_size(ir_dtype t);
/* Looks up "f32", "i64", ...; returns IR_DTYPE_COUNT when unknown. */
ir_dtype ir_dtype_lookup(const char *name);
/* ONNX TensorProto.DataType <-> ir_dtype; IR_DTYPE_COUNT / 0 when unmapped. */
ir_dtype ir_dtype_from_onnx(int onnx_type);
int ir_dtype_to_onnx(ir_dtype t);
/* f16 and bf16 are storage types (ir_half.c): values of those dtypes are
 * converted to f32 by Cast nodes and every other op computes in f32. */
static inline bool ir_dtype_is_half(ir_dtype t) { return t == IR_DTYPE_F16 || t == IR_DTYPE_BF16; }

#define IR_MAX_RANK 8

typedef struct ir_shape {
    int rank;
    int64_t dims[IR_MAX_RANK];
} ir_shape;

/* Number of elements (1 for rank 0). Dims are validated to be >= 0 and the
 * product to fit in int64 when values are created. */
int64_t ir_shape_numel(const ir_shape *s);
bool ir_shape_equal(const ir_shape *a, const ir_shape *b);
/* Writes "[1,3,224,224]" into buf (always NUL-terminated). */
void ir_shape_format(const ir_shape *s, char *buf, size_t size);
/* Row-major strides in elements. */
void ir_shape_strides(const ir_shape *s, int64_t strides[IR_MAX_RANK]);
/* True when numel fits in int64 and numel * elem_size fits in size_t. */
bool ir_shape_bytes(const ir_shape *s, ir_dtype t, size_t *bytes);

/* ---- values, attributes, nodes, graphs ---- */

typedef struct ir_node ir_node;

typedef struct ir_value {
    const char *name;
    ir_dtype dtype;
    ir_shape shape;
    bool shape_known;   /* false until shape inference has run */
    void *data;         /* constant payload (row-major, little-endian) or NULL */
    ir_node *producer;  /* NULL for inputs and constants */
    bool is_input;      /* graph input */
    bool is_output;     /* graph output */
    int id;             /* index in graph->values */
} ir_value;

static inline bool ir_value_is_const(const ir_value *v) { return v->data != NULL; }
/* Bytes of the value's payload. */
size_t ir_value_bytes(const ir_value *v);

typedef enum ir_attr_kind {
    IR_ATTR_INT,
    IR_ATTR_FLOAT,
    IR_ATTR_STRING,
    IR_ATTR_INTS,
    IR_ATTR_FLOATS,
    IR_ATTR_STRINGS,
    IR_ATTR_TENSOR,
    IR_ATTR_KIND_COUNT
} ir_attr_kind;

const char *ir_attr_kind_name(ir_attr_kind k);

typedef struct ir_attr {
    const char *name;
    ir_attr_kind kind;
    int n; /* element count for INTS, FLOATS, STRINGS */
    union {
        int64_t i;
        float f;
        const char *s;
        int64_t *ints;
        float *floats;
        const char **strings;
        ir_value *tensor; /* a constant value not listed in graph->values */
    } u;
} ir_attr;

struct ir_node {
    ir_op op;
    const char *name;    /* from the source model; never NULL ("" allowed) */
    ir_value **inputs;   /* a NULL entry is an omitted optional input */
    int n_inputs;
    ir_value **outputs;  /* a NULL entry is an omitted optional output */
    int n_outputs;
    ir_attr *attrs;
    int n_attrs;
    int id;
};

typedef struct ir_graph {
    ir_arena arena;
    const char *name;
    const char *source;   /* file the graph came from, for diagnostics */
    ir_value **values;    /* every value: inputs, constants, intermediates */
    int n_values, cap_values;
    ir_node **nodes;      /* in execution (topological) order */
    int n_nodes, cap_nodes;
    ir_value **inputs;
    int n_inputs, cap_inputs;
    ir_value **outputs;
    int n_outputs, cap_outputs;
    /* name -> value index (open addressing), rebuilt on growth */
    int *name_index;
    int name_index_cap;
    /* external memory released with the graph (mmapped weights) */
    struct ir_mapping *mappings;
} ir_graph;

/* Creates an empty graph; NULL only if the first allocation fails. */
ir_graph *ir_graph_new(const char *name, const char *source);
void ir_graph_free(ir_graph *g);
/* Registers memory to munmap (addr, len) when the graph is freed. */
void ir_graph_add_mapping(ir_graph *g, void *addr, size_t len);

/* Creates a value with a unique name; NULL if the name is taken. */
ir_value *ir_graph_add_value(ir_graph *g, const char *name, ir_dtype dtype);
ir_value *ir_graph_find_value(const ir_graph *g, const char *name);
/* Creates a value with a fresh name built from base ("base", "base.1", ...). */
ir_value *ir_graph_new_value(ir_graph *g, const char *base, ir_dtype dtype);
void ir_graph_add_input(ir_graph *g, ir_value *v);
void ir_graph_add_output(ir_graph *g, ir_value *v);
/* Appends a node; inputs/outputs arrays are copied. Sets v->producer. */
ir_node *ir_graph_add_node(ir_graph *g, ir_op op, const char *name, ir_value *const *inputs,
                           int n_inputs, ir_value *const *outputs, int n_outputs);
/* Removes nodes for which keep[i] is false and renumbers. */
void ir_graph_compact_nodes(ir_graph *g, const bool *keep);
/* Removes values that are not inputs, outputs, nor referenced by a node. */
void ir_graph_drop_unused_values(ir_graph *g);

/* ---- rewriting in place (ir_rewrite.c) ----
 * Uses are found by scanning the nodes; a graph output counts as a use. */

/* Number of distinct nodes reading v; the first max of them go to users[]
 * in execution order. */
int ir_value_users(const ir_graph *g, const ir_value *v, ir_node **users, int max);
/* Number of operand slots and graph outputs that read v. */
int ir_value_n_uses(const ir_graph *g, const ir_value *v);
/* The only node reading v, or NULL when v has another use (a second
 * operand slot, another node, or being a graph output). */
ir_node *ir_value_single_user(const ir_graph *g, const ir_value *v);
/* Every operand slot and graph output reading from now reads to. */
void ir_replace_all_uses(ir_graph *g, ir_value *from, ir_value *to);
/* Like ir_graph_add_node, but placed just before `before` (appended when
 * before is NULL); node ids are renumbered. */
ir_node *ir_graph_insert_node(ir_graph *g, ir_node *before, ir_op op, const char *name,
                              ir_value *const *inputs, int n_inputs, ir_value *const *outputs,
                              int n_outputs);
/* Removes n from the node list; its outputs lose their producer. Values
 * stay until ir_graph_drop_unused_values. */
void ir_graph_erase_node(ir_graph *g, ir_node *n);

/* A new constant with a fresh name from base and zeroed data of shape. */
ir_value *ir_graph_new_const(ir_graph *g, const char *base, ir_dtype dtype, const ir_shape *shape);
/* Fusion: n takes over output 0 of user (its only consumer, later in the
 * order) and user is erased; n moves to user's place, so operands defined
 * between the two are available to n. */
void ir_node_absorb(ir_graph *g, ir_node *n, ir_node *user);

/* Sets operand i of n, growing the operand list (with omitted inputs)
 * when i is past its end. */
void ir_node_set_input(ir_graph *g, ir_node *n, int i, ir_value *v);

/* A constant value not in graph->values (for tensor attributes). */
ir_value *ir_graph_detached_value(ir_graph *g, const char *name, ir_dtype dtype);

/* Sets the value's shape (and marks it known). */
void ir_value_set_shape(ir_value *v, int rank, const int64_t *dims);

/* Attributes. ir_node_set_* replace an existing attribute of the same name. */
ir_attr *ir_node_find_attr(const ir_node *n, const char *name);
void ir_node_set_int(ir_graph *g, ir_node *n, const char *name, int64_t v);
void ir_node_set_float(ir_graph *g, ir_node *n, const char *name, float v);
void ir_node_set_string(ir_graph *g, ir_node *n, const char *name, const char *v);
void ir_node_set_ints(ir_graph *g, ir_node *n, const char *name, const int64_t *v, int count);
void ir_node_set_floats(ir_graph *g, ir_node *n, const char *name, const float *v, int count);
void ir_node_set_strings(ir_graph *g, ir_node *n, const char *name, const char *const *v,
                         int count);
void ir_node_set_tensor(ir_graph *g, ir_node *n, const char *name, ir_value *v);
void ir_node_remove_attr(ir_node *n, const char *name);

/* Typed getters with defaults. The verifier guarantees kinds match the op's
 * schema, so a getter never sees a mismatched kind in a verified graph. */
int64_t ir_attr_int(const ir_node *n, const char *name, int64_t def);
float ir_attr_float(const ir_node *n, const char *name, float def);
const char *ir_attr_string(const ir_node *n, const char *name, const char *def);
/* Returns the element count (or -1 if absent) and sets *out. */
int ir_attr_ints(const ir_node *n, const char *name, const int64_t **out);
int ir_attr_floats(const ir_node *n, const char *name, const float **out);
int ir_attr_strings(const ir_node *n, const char *name, const char *const **out);

/* Looks up name in the op's schema; returns false if not allowed. */
bool ir_op_attr_kind(ir_op op, const char *name, ir_attr_kind *kind);

/* Diagnostic helpers with the location format used everywhere:
 *   FILE: node "NAME" (Op): message */
void ir_diag_node(ir_diag *d, const ir_graph *g, const ir_node *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void ir_diag_graph(ir_diag *d, const ir_graph *g, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- shape inference (ir_infer.c and ir_infer_*.c) ---- */

/* Infers dtype and shape of n's outputs from its inputs and attributes and,
 * for ops that compute on shapes only (Shape, Constant), their data.
 * Returns LOOM_STATUS_OK or reports to d and returns an error status. */
loom_status ir_infer_node(ir_graph *g, ir_node *n, ir_diag *d);
/* Runs ir_infer_node over all nodes in order; stops at the first failure. */
loom_status ir_infer_graph(ir_graph *g, ir_diag *d);

/* ---- verifier (ir_verify.c) ---- */

/* Checks the structural invariants (arity, attribute schema, topological
 * order, single definition, outputs defined, shapes consistent with
 * inference). Reports every problem found; returns OK or
 * LOOM_STATUS_INVALID_MODEL. */
loom_status ir_verify(ir_graph *g, ir_diag *d);

#endif
