/*
 * Graph statistics for `loom inspect`: parameter count, FLOPs, op
 * histogram and tensor memory.
 */
#ifndef LOOM_IR_STATS_H
#define LOOM_IR_STATS_H

#include "ir.h"

typedef struct ir_stats {
    int64_t params;            /* elements in constants */
    int64_t param_bytes;       /* bytes of constants */
    int64_t flops;             /* multiply-adds count 2, other ops 1 per element */
    int64_t activation_bytes;  /* sum of non-constant node outputs */
    int64_t largest_activation_bytes;
    int64_t io_bytes;          /* graph inputs and outputs */
    int op_count[IR_OP_COUNT];
} ir_stats;

/* Fills s for a shape-inferred graph. */
void ir_graph_stats(const ir_graph *g, ir_stats *s);
/* FLOPs of one node (2 per multiply-add). */
int64_t ir_node_flops(const ir_graph *g, const ir_node *n);

#endif
