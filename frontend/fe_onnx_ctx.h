/*
 * Internal interface of the ONNX reader between fe_onnx.c (model, nodes,
 * inference and load-time folding) and fe_onnx_control.c (If, Loop and
 * Scan, expanded into ordinary nodes while the graph is built): the reader's
 * state, the name scopes of subgraphs, and the entry points the expansion
 * calls back into.
 */
#ifndef LOOM_FE_ONNX_CTX_H
#define LOOM_FE_ONNX_CTX_H

#include "fe_onnx_pb.h"

typedef struct pin {
    const char *name;  /* input name or dim_param */
    const char *value; /* "1,3,224,224" or "4" */
    const char *text;  /* the whole entry, for messages */
    bool used;
} pin;

/* A legacy broadcast (Add-1/6 with broadcast=1 and axis) waiting for the
 * shapes that fix its Unsqueeze (see legacy_broadcast). */
typedef struct legacy_bcast {
    ir_node *unsqueeze;       /* B -> B with trailing 1s */
    const ir_value *a;        /* the binary op's A */
    int64_t axis;
    const Onnx__NodeProto *np;
    const char *name;
} legacy_bcast;

/* The names of one subgraph instance (an If branch, one Loop or Scan
 * iteration): ONNX names defined in it map to graph values with fresh
 * names under prefix; names it does not define resolve in the enclosing
 * scopes, then in the main graph (outer-scope references). */
typedef struct fe_onnx_scope {
    struct fe_onnx_scope *parent;
    const char *prefix;
    const char **names;
    ir_value **values;
    int n, cap;
} fe_onnx_scope;

typedef struct onnx_ctx {
    ir_graph *g;
    ir_diag *d;
    const Onnx__ModelProto *m;
    const char *base_dir; /* folder of the model, for external data */
    int64_t opset;        /* default domain version; 0 when not imported */
    pin *pins;
    int n_pins;
    const fe_binding *binds;
    int n_binds;
    bool *bind_used;
    legacy_bcast *bcasts;
    int n_bcasts, cap_bcasts;
    fe_onnx_scope *scope; /* innermost subgraph being built; NULL: main graph */
    int n_inferred;       /* nodes g->nodes[0..n_inferred) are inferred */
    loom_status status;   /* most severe error so far */
} onnx_ctx;

/* Records an error status; an invalid model outranks unsupported features. */
void fe_onnx_note(onnx_ctx *c, loom_status st);
/* Reports a problem with node np named name, as every node error reads:
 *   FILE: node "NAME" (OpType): message (domain D, opset N) */
void fe_onnx_node_error(onnx_ctx *c, loom_status st, const Onnx__NodeProto *np, const char *name,
                        const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* The attribute called name of np, or NULL. */
const Onnx__AttributeProto *fe_onnx_proto_attr(const Onnx__NodeProto *np, const char *name);

/* The value an ONNX name denotes in the current scope, or NULL. */
ir_value *fe_onnx_lookup(onnx_ctx *c, const char *name);
/* Defines ONNX name in the current scope as a new value (in a subgraph
 * under a fresh graph name); NULL when the scope already defines it. */
ir_value *fe_onnx_define(onnx_ctx *c, const char *name, ir_dtype dtype);
/* Makes name denote v in the current scope (a subgraph's inputs). */
void fe_onnx_scope_bind(onnx_ctx *c, const char *name, ir_value *v);

/* Builds initializer t / node np (index k of its graph) in the current
 * scope, or reports why it cannot. */
void fe_onnx_convert_initializer(onnx_ctx *c, const Onnx__TensorProto *t);
void fe_onnx_convert_node(onnx_ctx *c, const Onnx__NodeProto *np, int k);
/* Defines the outputs of a node that is not built, so later nodes report
 * their own problems rather than undefined names. */
void fe_onnx_placeholder_outputs(onnx_ctx *c, const Onnx__NodeProto *np);
/* Infers (and folds, when their inputs are constant) the nodes built since
 * the last call. Returns false, with the problem reported, when inference
 * fails or an earlier error stops it. */
bool fe_onnx_infer_pending(onnx_ctx *c);

/* Expands If, Loop or Scan node np (fe_onnx_control.c). */
void fe_onnx_convert_control(onnx_ctx *c, const Onnx__NodeProto *np, const char *name);

#endif
