/*
 * Resolved geometry of DepthToSpace / SpaceToDepth (ir_infer_image.c),
 * shared by shape inference, the interpreter and the lowering.
 */
#ifndef LOOM_IR_IMAGE_H
#define LOOM_IR_IMAGE_H

#include "ir_infer.h"

/* The space side is [n, c, h b, w b], the depth side [n, c b^2, h, w]. */
typedef struct ir_d2s_geom {
    int64_t n, c, h, w, b;
    bool crd; /* DepthToSpace mode CRD (else DCR, which SpaceToDepth inverts) */
} ir_d2s_geom;

/* Resolves a DepthToSpace or SpaceToDepth node whose input shape is known;
 * reports to d (when not NULL) a bad blocksize, mode or shape. */
loom_status ir_depth_to_space_geometry(const ir_graph *g, const ir_node *n, ir_d2s_geom *geom,
                                       ir_diag *d);
/* The element correspondence as a 6-D walk [n, c, h, i, w, j] (i, j in
 * the block): element strides of the space side and of the depth side. */
void ir_d2s_strides(const ir_d2s_geom *m, int64_t dims[6], int64_t space[6], int64_t depth[6]);

/* MeanVarianceNormalization's statistics: reduced[i] for the axes (the
 * attribute, default {0, 2, 3}), gstride[i] the stride of axis i in the
 * tensor of statistics (the input's shape with reduced dims 1; 0 along
 * reduced axes), *groups its size and *count the elements per group.
 * Reports a bad axis to d. */
loom_status ir_mvn_geometry(const ir_graph *g, const ir_node *n, bool reduced[IR_MAX_RANK],
                            int64_t gstride[IR_MAX_RANK], int64_t *groups, int64_t *count,
                            ir_diag *d);

#endif
