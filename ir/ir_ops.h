/*
 * The op table: one X-macro list from which the op enum, the op names, the
 * arities, the attribute schemas and the per-op dispatch (shape inference,
 * interpreter) are generated.
 *
 * Columns: X(ENUM, "OnnxName", min_in, max_in, min_out, max_out, fn, attrs)
 *   max_in / max_out of -1 mean variadic.
 *   fn names the shape-inference function ir_infer_<fn> and the interpreter
 *   kernel interp_<fn>; several ops may share one (all binary arithmetic ops
 *   share "binary").
 *   attrs is the attribute schema: space-separated "name:kind" with kind one
 *   of i (int), f (float), s (string), is (ints), fs (floats), ss (strings),
 *   t (tensor). Attributes outside the schema are rejected by the verifier.
 *
 * Semantics are ONNX's latest (docs/ops.md lists the opset each op follows
 * and the older forms that are accepted). Where an older opset meant
 * something else under the same attributes, frontends record it in an extra
 * attribute: Softmax/LogSoftmax coerce_2d=1 is the opset 1-12 behaviour
 * (flatten to 2-D at axis, default axis 1).
 */
#ifndef LOOM_IR_OPS_H
#define LOOM_IR_OPS_H

#define IR_POOL_ATTRS "auto_pad:s ceil_mode:i dilations:is kernel_shape:is pads:is strides:is"
#define IR_RNN_ATTRS                                                                \
    "activation_alpha:fs activation_beta:fs activations:ss clip:f direction:s " \
    "hidden_size:i layout:i"
#define IR_REDUCE_ATTRS "axes:is keepdims:i noop_with_empty_axes:i"
/* loom's fused epilogue (ir_fused.h): not ONNX; with an extra residual
 * input 3 (and MatMul's bias input 2) on the ops that carry it */
#define IR_EPILOGUE_ATTRS " activation:s activation_alpha:f activation_beta:f"

#define IR_OPS(X)                                                                              \
    X(CONV, "Conv", 2, 4, 1, 1, conv,                                                          \
      "auto_pad:s dilations:is group:i kernel_shape:is pads:is strides:is" IR_EPILOGUE_ATTRS)  \
    X(CONV_TRANSPOSE, "ConvTranspose", 2, 4, 1, 1, conv_transpose,                             \
      "auto_pad:s dilations:is group:i kernel_shape:is output_padding:is output_shape:is "    \
      "pads:is strides:is" IR_EPILOGUE_ATTRS)                                                  \
    X(MAX_POOL, "MaxPool", 1, 1, 1, 2, max_pool, IR_POOL_ATTRS " storage_order:i")             \
    X(AVERAGE_POOL, "AveragePool", 1, 1, 1, 1, average_pool,                                   \
      IR_POOL_ATTRS " count_include_pad:i")                                                    \
    X(GLOBAL_AVERAGE_POOL, "GlobalAveragePool", 1, 1, 1, 1, global_average_pool, "")           \
    X(GLOBAL_MAX_POOL, "GlobalMaxPool", 1, 1, 1, 1, global_average_pool, "")                   \
    X(BATCH_NORMALIZATION, "BatchNormalization", 5, 5, 1, 5, batch_normalization,              \
      "epsilon:f momentum:f training_mode:i spatial:i is_test:i")                              \
    X(GEMM, "Gemm", 2, 4, 1, 1, gemm,                                                          \
      "alpha:f beta:f transA:i transB:i broadcast:i" IR_EPILOGUE_ATTRS)                        \
    X(MAT_MUL, "MatMul", 2, 4, 1, 1, mat_mul, IR_EPILOGUE_ATTRS)                               \
    X(SOFTMAX, "Softmax", 1, 1, 1, 1, softmax, "axis:i coerce_2d:i")                                       \
    X(LOG_SOFTMAX, "LogSoftmax", 1, 1, 1, 1, softmax, "axis:i coerce_2d:i")                                \
    X(LAYER_NORMALIZATION, "LayerNormalization", 2, 3, 1, 3, layer_normalization,              \
      "axis:i epsilon:f stash_type:i")                                                         \
    X(LSTM, "LSTM", 3, 8, 0, 3, lstm, IR_RNN_ATTRS " input_forget:i")                          \
    X(GRU, "GRU", 3, 6, 0, 2, gru, IR_RNN_ATTRS " linear_before_reset:i")                      \
    X(RNN, "RNN", 3, 6, 0, 2, rnn, IR_RNN_ATTRS)                                               \
    X(ADD, "Add", 2, 2, 1, 1, binary, "")                                                      \
    X(SUB, "Sub", 2, 2, 1, 1, binary, "")                                                      \
    X(MUL, "Mul", 2, 2, 1, 1, binary, "")                                                      \
    X(DIV, "Div", 2, 2, 1, 1, binary, "")                                                      \
    X(POW, "Pow", 2, 2, 1, 1, binary, "")                                                      \
    X(SQRT, "Sqrt", 1, 1, 1, 1, unary, "")                                                     \
    X(EXP, "Exp", 1, 1, 1, 1, unary, "")                                                       \
    X(LOG, "Log", 1, 1, 1, 1, unary, "")                                                       \
    X(ERF, "Erf", 1, 1, 1, 1, unary, "")                                                       \
    X(NEG, "Neg", 1, 1, 1, 1, unary, "")                                                       \
    X(ABS, "Abs", 1, 1, 1, 1, unary, "")                                                       \
    X(RECIPROCAL, "Reciprocal", 1, 1, 1, 1, unary, "")                                         \
    X(RELU, "Relu", 1, 1, 1, 1, unary, "")                                                     \
    X(LEAKY_RELU, "LeakyRelu", 1, 1, 1, 1, unary, "alpha:f")                                   \
    X(SIGMOID, "Sigmoid", 1, 1, 1, 1, unary, "")                                               \
    X(TANH, "Tanh", 1, 1, 1, 1, unary, "")                                                     \
    X(HARD_SIGMOID, "HardSigmoid", 1, 1, 1, 1, unary, "alpha:f beta:f")                        \
    X(CLIP, "Clip", 1, 3, 1, 1, clip, "min:f max:f")                                           \
    X(WHERE, "Where", 3, 3, 1, 1, where, "")                                                   \
    X(EQUAL, "Equal", 2, 2, 1, 1, compare, "")                                                 \
    X(LESS, "Less", 2, 2, 1, 1, compare, "")                                                   \
    X(GREATER, "Greater", 2, 2, 1, 1, compare, "")                                             \
    X(GREATER_OR_EQUAL, "GreaterOrEqual", 2, 2, 1, 1, compare, "")                             \
    X(LESS_OR_EQUAL, "LessOrEqual", 2, 2, 1, 1, compare, "")                                   \
    X(CAST, "Cast", 1, 1, 1, 1, cast, "to:i saturate:i")                                       \
    X(REDUCE_MEAN, "ReduceMean", 1, 2, 1, 1, reduce, IR_REDUCE_ATTRS)                          \
    X(REDUCE_SUM, "ReduceSum", 1, 2, 1, 1, reduce, IR_REDUCE_ATTRS)                            \
    X(REDUCE_MAX, "ReduceMax", 1, 2, 1, 1, reduce, IR_REDUCE_ATTRS)                            \
    X(IDENTITY, "Identity", 1, 1, 1, 1, identity, "")                                          \
    X(DROPOUT, "Dropout", 1, 3, 1, 2, dropout, "ratio:f seed:i is_test:i")                     \
    X(RESHAPE, "Reshape", 2, 2, 1, 1, reshape, "allowzero:i")                                  \
    X(FLATTEN, "Flatten", 1, 1, 1, 1, flatten, "axis:i")                                       \
    X(TRANSPOSE, "Transpose", 1, 1, 1, 1, transpose, "perm:is")                                \
    X(CONCAT, "Concat", 1, -1, 1, 1, concat, "axis:i")                                         \
    X(SPLIT, "Split", 1, 2, 1, -1, split, "axis:i split:is num_outputs:i")                     \
    X(SLICE, "Slice", 1, 5, 1, 1, slice, "axes:is ends:is starts:is")                          \
    X(GATHER, "Gather", 2, 2, 1, 1, gather, "axis:i")                                          \
    X(SQUEEZE, "Squeeze", 1, 2, 1, 1, squeeze, "axes:is")                                      \
    X(UNSQUEEZE, "Unsqueeze", 1, 2, 1, 1, unsqueeze, "axes:is")                                \
    X(EXPAND, "Expand", 2, 2, 1, 1, expand, "")                                                \
    X(CONSTANT, "Constant", 0, 0, 1, 1, constant,                                              \
      "value:t value_float:f value_floats:fs value_int:i value_ints:is")                       \
    X(SHAPE, "Shape", 1, 1, 1, 1, shape, "start:i end:i")                                      \
    X(SIZE, "Size", 1, 1, 1, 1, size, "")                                                      \
    X(CONSTANT_OF_SHAPE, "ConstantOfShape", 1, 1, 1, 1, constant_of_shape, "value:t")          \
    X(RANGE, "Range", 3, 3, 1, 1, range, "")                                                   \
    X(TRILU, "Trilu", 1, 2, 1, 1, trilu, "upper:i")                                            \
    X(PAD, "Pad", 1, 4, 1, 1, pad, "mode:s pads:is value:f")                                   \
    X(TILE, "Tile", 2, 2, 1, 1, tile, "")                                                      \
    X(GATHER_ELEMENTS, "GatherElements", 2, 2, 1, 1, gather_elements, "axis:i")                \
    X(MIN, "Min", 1, -1, 1, 1, variadic, "")                                                   \
    X(MAX, "Max", 1, -1, 1, 1, variadic, "")                                                   \
    X(SUM, "Sum", 1, -1, 1, 1, variadic, "")                                                   \
    X(MEAN, "Mean", 1, -1, 1, 1, variadic, "")                                                 \
    X(MOD, "Mod", 2, 2, 1, 1, mod, "fmod:i")                                                   \
    X(PRELU, "PRelu", 2, 2, 1, 1, prelu, "")                                                   \
    X(NOT, "Not", 1, 1, 1, 1, logical, "")                                                     \
    X(AND, "And", 2, 2, 1, 1, logical, "")                                                     \
    X(OR, "Or", 2, 2, 1, 1, logical, "")                                                       \
    X(XOR, "Xor", 2, 2, 1, 1, logical, "")                                                     \
    X(IS_NAN, "IsNaN", 1, 1, 1, 1, is_nan_inf, "")                                             \
    X(IS_INF, "IsInf", 1, 1, 1, 1, is_nan_inf, "detect_negative:i detect_positive:i")          \
    X(SIN, "Sin", 1, 1, 1, 1, unary_extra, "")                                                 \
    X(COS, "Cos", 1, 1, 1, 1, unary_extra, "")                                                 \
    X(FLOOR, "Floor", 1, 1, 1, 1, unary_extra, "")                                             \
    X(CEIL, "Ceil", 1, 1, 1, 1, unary_extra, "")                                               \
    X(SOFTPLUS, "Softplus", 1, 1, 1, 1, unary_extra, "")                                       \
    X(GELU, "Gelu", 1, 1, 1, 1, unary_extra, "approximate:s")                                 \
    X(ELU, "Elu", 1, 1, 1, 1, unary_extra, "alpha:f")                                          \
    X(SELU, "Selu", 1, 1, 1, 1, unary_extra, "alpha:f gamma:f")                                \
    X(CELU, "Celu", 1, 1, 1, 1, unary_extra, "alpha:f")                                        \
    X(THRESHOLDED_RELU, "ThresholdedRelu", 1, 1, 1, 1, unary_extra, "alpha:f")                 \
    X(HARD_SWISH, "HardSwish", 1, 1, 1, 1, unary_extra, "")                                    \
    X(SOFTSIGN, "Softsign", 1, 1, 1, 1, unary_extra, "")                                       \
    X(SHRINK, "Shrink", 1, 1, 1, 1, unary_extra, "bias:f lambd:f")                             \
    X(SIGN, "Sign", 1, 1, 1, 1, unary_extra, "")                                               \
    X(ROUND, "Round", 1, 1, 1, 1, unary_extra, "")                                             \
    X(TAN, "Tan", 1, 1, 1, 1, unary_extra, "")                                                 \
    X(ASIN, "Asin", 1, 1, 1, 1, unary_extra, "")                                               \
    X(ACOS, "Acos", 1, 1, 1, 1, unary_extra, "")                                               \
    X(ATAN, "Atan", 1, 1, 1, 1, unary_extra, "")                                               \
    X(SINH, "Sinh", 1, 1, 1, 1, unary_extra, "")                                               \
    X(COSH, "Cosh", 1, 1, 1, 1, unary_extra, "")                                               \
    X(ASINH, "Asinh", 1, 1, 1, 1, unary_extra, "")                                             \
    X(ACOSH, "Acosh", 1, 1, 1, 1, unary_extra, "")                                             \
    X(ATANH, "Atanh", 1, 1, 1, 1, unary_extra, "")                                             \
    X(RESIZE, "Resize", 1, 4, 1, 1, resize,                                                    \
      "antialias:i axes:is coordinate_transformation_mode:s cubic_coeff_a:f exclude_outside:i " \
      "extrapolation_value:f keep_aspect_ratio_policy:s mode:s nearest_mode:s")                \
    X(UPSAMPLE, "Upsample", 1, 2, 1, 1, resize, "mode:s scales:fs")                            \
    X(INSTANCE_NORMALIZATION, "InstanceNormalization", 3, 3, 1, 1, instance_normalization,     \
      "epsilon:f")                                                                             \
    X(DEPTH_TO_SPACE, "DepthToSpace", 1, 1, 1, 1, depth_to_space, "blocksize:i mode:s")        \
    X(SPACE_TO_DEPTH, "SpaceToDepth", 1, 1, 1, 1, depth_to_space, "blocksize:i")               \
    X(LRN, "LRN", 1, 1, 1, 1, lrn, "alpha:f beta:f bias:f size:i")                             \
    X(REDUCE_PROD, "ReduceProd", 1, 2, 1, 1, reduce, IR_REDUCE_ATTRS)                          \
    X(REDUCE_MIN, "ReduceMin", 1, 2, 1, 1, reduce, IR_REDUCE_ATTRS)                            \
    X(REDUCE_L1, "ReduceL1", 1, 2, 1, 1, reduce, IR_REDUCE_ATTRS)                              \
    X(REDUCE_L2, "ReduceL2", 1, 2, 1, 1, reduce, IR_REDUCE_ATTRS)                              \
    X(REDUCE_LOG_SUM, "ReduceLogSum", 1, 2, 1, 1, reduce, IR_REDUCE_ATTRS)                     \
    X(REDUCE_LOG_SUM_EXP, "ReduceLogSumExp", 1, 2, 1, 1, reduce, IR_REDUCE_ATTRS)              \
    X(REDUCE_SUM_SQUARE, "ReduceSumSquare", 1, 2, 1, 1, reduce, IR_REDUCE_ATTRS)               \
    X(ARG_MAX, "ArgMax", 1, 1, 1, 1, arg_max, "axis:i keepdims:i select_last_index:i")       \
    X(ARG_MIN, "ArgMin", 1, 1, 1, 1, arg_max, "axis:i keepdims:i select_last_index:i")       \
    X(HARDMAX, "Hardmax", 1, 1, 1, 1, hardmax, "axis:i coerce_2d:i")                           \
    X(CUM_SUM, "CumSum", 2, 2, 1, 1, cum_sum, "exclusive:i reverse:i")                         \
    X(CAST_LIKE, "CastLike", 2, 2, 1, 1, cast, "saturate:i")                                   \
    X(EYE_LIKE, "EyeLike", 1, 1, 1, 1, eye_like, "dtype:i k:i")                                \
    X(MEAN_VARIANCE_NORMALIZATION, "MeanVarianceNormalization", 1, 1, 1, 1, mvn, "axes:is")   \
    X(GATHER_ND, "GatherND", 2, 2, 1, 1, gather_nd, "batch_dims:i")                           \
    X(SCATTER_ND, "ScatterND", 3, 3, 1, 1, scatter_nd, "reduction:s")                        \
    X(SCATTER_ELEMENTS, "ScatterElements", 3, 3, 1, 1, scatter_elements, "axis:i reduction:s") \
    X(ONE_HOT, "OneHot", 3, 3, 1, 1, one_hot, "axis:i")                                       \
    X(TOP_K, "TopK", 1, 2, 2, 2, top_k, "axis:i k:i largest:i sorted:i")                     \
    X(EINSUM, "Einsum", 1, -1, 1, 1, einsum, "equation:s")                                    \
    X(NLL_LOSS, "NegativeLogLikelihoodLoss", 2, 3, 1, 1, nll_loss,                            \
      "ignore_index:i reduction:s")                                                            \
    X(SCE_LOSS, "SoftmaxCrossEntropyLoss", 2, 3, 1, 2, sce_loss, "ignore_index:i reduction:s") \
    X(REVERSE_SEQUENCE, "ReverseSequence", 2, 2, 1, 1, reverse_sequence,                     \
      "batch_axis:i time_axis:i")                                                              \
    X(MAX_UNPOOL, "MaxUnpool", 2, 3, 1, 1, max_unpool, "kernel_shape:is pads:is strides:is")   \
    X(GRID_SAMPLE, "GridSample", 2, 2, 1, 1, grid_sample,                                     \
      "align_corners:i mode:s padding_mode:s")                                                 \
    /* loom's own (not ONNX): a tree of elementwise ops run as one loop nest \
     * (fuse-elementwise; ir_fused.h documents the program) */               \
    X(FUSED_ELEMENTWISE, "FusedElementwise", 1, -1, 1, 1, fused_elementwise, "program:ss") \
    /* loom's own: softmax(scale Q K^T + mask) V (fuse-attention;         \
     * ir_infer_attention.c states the semantics) */                       \
    X(FUSED_ATTENTION, "FusedAttention", 3, 4, 1, 1, fused_attention, "is_causal:i scale:f") \
    X(ROI_ALIGN, "RoiAlign", 3, 3, 1, 1, roi_align,                                           \
      "coordinate_transformation_mode:s mode:s output_height:i output_width:i "               \
      "sampling_ratio:i spatial_scale:f")

typedef enum ir_op {
#define IR_OP_ENUM(e, name, mi, ma, mo, mao, fn, attrs) IR_OP_##e,
    IR_OPS(IR_OP_ENUM)
#undef IR_OP_ENUM
    IR_OP_COUNT
} ir_op;

/* Static properties of one op, generated from IR_OPS. */
typedef struct ir_op_info {
    const char *name;  /* ONNX op name */
    int min_inputs, max_inputs;   /* max -1: variadic */
    int min_outputs, max_outputs; /* max -1: variadic */
    const char *attrs; /* attribute schema, see above */
} ir_op_info;

extern const ir_op_info ir_op_table[IR_OP_COUNT];

/* Returns the op's ONNX name. */
const char *ir_op_name(ir_op op);
/* Looks up an op by ONNX name; returns IR_OP_COUNT when unknown. */
ir_op ir_op_lookup(const char *name);

#endif
