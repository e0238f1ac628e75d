/* Unit tests of the IR core: arena, allocation hook, values, attributes. */
#include "leak_check.h"
#include "testlib.h"

Test(ir, op_table_lookup)
{
    cr_assert_eq(ir_op_lookup("Conv"), IR_OP_CONV);
    cr_assert_eq(ir_op_lookup("NoSuchOp"), IR_OP_COUNT);
    cr_assert_str_eq(ir_op_name(IR_OP_LAYER_NORMALIZATION), "LayerNormalization");
    ir_attr_kind k;
    cr_assert(ir_op_attr_kind(IR_OP_CONV, "group", &k));
    cr_assert_eq(k, IR_ATTR_INT);
    cr_assert(ir_op_attr_kind(IR_OP_CONV, "pads", &k));
    cr_assert_eq(k, IR_ATTR_INTS);
    cr_assert(ir_op_attr_kind(IR_OP_LSTM, "activations", &k));
    cr_assert_eq(k, IR_ATTR_STRINGS);
    cr_assert_not(ir_op_attr_kind(IR_OP_CONV, "group_", &k));
    cr_assert_not(ir_op_attr_kind(IR_OP_RELU, "alpha", &k));
}

Test(ir, dtypes)
{
    cr_assert_eq(ir_dtype_lookup("f32"), IR_DTYPE_F32);
    cr_assert_eq(ir_dtype_lookup("bool"), IR_DTYPE_BOOL);
    cr_assert_eq(ir_dtype_lookup("f16"), IR_DTYPE_F16);
    cr_assert_eq(ir_dtype_lookup("bf16"), IR_DTYPE_BF16);
    cr_assert_eq(ir_dtype_lookup("f8"), IR_DTYPE_COUNT);
    cr_assert_eq(ir_dtype_from_onnx(10), IR_DTYPE_F16);
    cr_assert_eq(ir_dtype_from_onnx(16), IR_DTYPE_BF16);
    cr_assert_eq(ir_dtype_size(IR_DTYPE_BF16), 2);
    cr_assert_eq(ir_dtype_size(IR_DTYPE_I64), 8);
    cr_assert_eq(ir_dtype_from_onnx(1), IR_DTYPE_F32);
    cr_assert_eq(ir_dtype_to_onnx(IR_DTYPE_BOOL), 9);
}

Test(ir, values_and_names)
{
    ir_graph *g = tl_graph("g");
    ir_value *a = ir_graph_add_value(g, "a", IR_DTYPE_F32);
    cr_assert(a);
    cr_assert_null(ir_graph_add_value(g, "a", IR_DTYPE_F32));
    for (int i = 0; i < 1000; i++) {
        char name[32];
        snprintf(name, sizeof name, "v%d", i);
        cr_assert(ir_graph_add_value(g, name, IR_DTYPE_F32));
    }
    cr_assert_eq(ir_graph_find_value(g, "a"), a);
    cr_assert_str_eq(ir_graph_find_value(g, "v777")->name, "v777");
    ir_value *b = ir_graph_new_value(g, "a", IR_DTYPE_F32);
    cr_assert_str_eq(b->name, "a.1");
    ir_graph_free(g);
}

Test(ir, attributes)
{
    ir_graph *g = tl_graph("g");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 1, (int64_t[]){4});
    ir_node *n = tl_node(g, IR_OP_LEAKY_RELU, "lr", 1, (ir_value *[]){x}, 1, "y");
    ir_node_set_float(g, n, "alpha", 0.25f);
    cr_assert_float_eq(ir_attr_float(n, "alpha", 0.01f), 0.25f, 0);
    ir_node_set_float(g, n, "alpha", 0.5f);
    cr_assert_eq(n->n_attrs, 1);
    cr_assert_eq(ir_attr_int(n, "alpha", 7), 7, "kind mismatch falls back to default");
    ir_node_set_ints(g, n, "xs", (int64_t[]){1, 2, 3}, 3);
    const int64_t *xs;
    cr_assert_eq(ir_attr_ints(n, "xs", &xs), 3);
    cr_assert_eq(xs[2], 3);
    ir_node_remove_attr(n, "alpha");
    cr_assert_null(ir_node_find_attr(n, "alpha"));
    cr_assert_eq(n->n_attrs, 1);
    ir_graph_free(g);
}

Test(ir, allocation_failure_is_reported)
{
    /* allocation k fails for k = 0, 1, ... until building the graph needs
     * fewer than k allocations: each failure makes ir_graph_new return NULL
     * or the arena jump to IR_TRY, and nothing leaks */
    volatile long k = 0;
    for (;; k++) {
        long before = ir_alloc_count();
        ir_alloc_fail_after(k);
        ir_graph *volatile g = ir_graph_new("g", "f");
        jmp_buf jb;
        volatile bool failed = g == NULL;
        if (g && IR_TRY(&g->arena, jb)) {
            for (int i = 0; i < 100; i++) {
                char name[16];
                snprintf(name, sizeof name, "v%d", i);
                ir_graph_add_value(g, name, IR_DTYPE_F32);
            }
        } else {
            failed = true;
        }
        ir_alloc_fail_after(-1);
        bool injected = ir_alloc_count() - before > k;
        cr_assert_eq(failed, injected, "allocation %ld: %s", (long)k,
                     failed ? "failed without an injected failure" : "failure not reported");
        ir_graph_free(g);
        if (!injected)
            break;
    }
    cr_assert_gt(k, 1, "only %ld allocation failures were injected", (long)k);
    assert_no_leaks();
}

Test(ir, allocation_hook_fails_from_the_nth_allocation)
{
    ir_alloc_fail_after(2);
    void *a = ir_malloc(8), *b = ir_calloc(1, 8), *c = ir_malloc(8), *d = ir_realloc(NULL, 8);
    ir_alloc_fail_after(-1);
    cr_assert(a && b, "allocations before the Nth must succeed");
    cr_assert(!c && !d, "the Nth allocation and those after it must fail");
    void *e = ir_malloc(8);
    cr_assert(e, "ir_alloc_fail_after(-1) must stop the failures");
    ir_free(a);
    ir_free(b);
    ir_free(e);
}

Test(ir, shape_bytes_overflow)
{
    ir_shape s = {.rank = 3, .dims = {INT64_C(1) << 40, INT64_C(1) << 40, 4}};
    size_t b;
    cr_assert_not(ir_shape_bytes(&s, IR_DTYPE_F32, &b));
    ir_shape t = {.rank = 2, .dims = {3, 4}};
    cr_assert(ir_shape_bytes(&t, IR_DTYPE_F32, &b));
    cr_assert_eq(b, 48);
}

Test(ir, diag_format)
{
    ir_graph *g = tl_graph("g");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 1, (int64_t[]){4});
    ir_node *n = tl_node(g, IR_OP_RELU, "conv3", 1, (ir_value *[]){x}, 1, "y");
    ir_diag d;
    ir_diag_init(&d);
    ir_diag_node(&d, g, n, "kernel_shape has %d dims, input has %d", 3, 2);
    cr_assert_str_eq(d.text, "test.lir: node \"conv3\" (Relu): kernel_shape has 3 dims, input has 2\n");
    cr_assert_eq(d.n_errors, 1);
    ir_diag_free(&d);
    ir_graph_free(g);
}
