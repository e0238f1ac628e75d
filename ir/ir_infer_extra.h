/*
 * Resolved geometry of the ops in ir_infer_extra.c (ConstantOfShape, Range,
 * Trilu, Pad, Tile, GatherElements, Min/Max/Sum/Mean, Mod, logic, IsNaN /
 * IsInf, the unary math and activations) shared by shape inference, the
 * interpreter (ir/interp/interp_extra.c) and the lowering (backend/lower/lower_extra.c)
 * so that all three read attributes and constant inputs alike.
 */
#ifndef LOOM_IR_INFER_EXTRA_H
#define LOOM_IR_INFER_EXTRA_H

#include "ir_infer.h"

typedef enum ir_pad_mode {
    IR_PAD_CONSTANT,
    IR_PAD_REFLECT,
    IR_PAD_EDGE,
    IR_PAD_WRAP
} ir_pad_mode;

/* Pad after resolving the attribute form (Pad-2: pads, value, mode) or the
 * input form (Pad-11: pads input, optional constant_value; Pad-18: optional
 * axes): per input dim, elements added at the begin and the end (negative
 * values crop). value is the fill of constant mode (as double; 0 when
 * absent); value_input is set when it comes from a runtime input. */
typedef struct ir_pad_geom {
    ir_pad_mode mode;
    int rank;
    int64_t begin[IR_MAX_RANK];
    int64_t end[IR_MAX_RANK];
    double value;
    const ir_value *value_input; /* constant_value input, or NULL */
} ir_pad_geom;

/* Resolves a Pad node whose input shapes are known; reports to d (when not
 * NULL) and returns an error status for bad or non-constant pads, modes
 * loom lacks and pads reflect / wrap cannot satisfy. */
loom_status ir_pad_geometry(const ir_graph *g, const ir_node *n, ir_pad_geom *geom, ir_diag *d);

/* The source index along one dim of size n for output index o of a padded
 * dim (begin pad b, mode m): -1 when the element is the constant fill. The
 * geometry guarantees reflect and wrap need at most one reflection. */
static inline int64_t ir_pad_source(ir_pad_mode m, int64_t o, int64_t b, int64_t n)
{
    int64_t i = o - b;
    if (i >= 0 && i < n)
        return i;
    switch (m) {
    case IR_PAD_CONSTANT: return -1;
    case IR_PAD_EDGE: return i < 0 ? 0 : n - 1;
    case IR_PAD_REFLECT: return i < 0 ? -i : 2 * (n - 1) - i;
    case IR_PAD_WRAP: return i < 0 ? i + n : i - n;
    }
    return -1;
}

/* Trilu-14: the diagonal offset k (input 1, default 0) when it is constant;
 * false when it is given at run time. */
bool ir_trilu_k(const ir_node *n, int64_t *k);

/* Tile-13: the repeats per dim (constant input 1); false when not
 * constant or of the wrong length. */
bool ir_tile_repeats(const ir_node *n, int64_t repeats[IR_MAX_RANK]);

/* The two float attributes of a parameterized unary op with ONNX's
 * defaults: Elu/Celu/ThresholdedRelu alpha (1); Selu alpha and gamma
 * (1.6732632, 1.0507010); Shrink bias and lambd (0, 0.5). Others: 0, 0. */
void ir_unary_params(const ir_node *n, double *a, double *b);

#endif
