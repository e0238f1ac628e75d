/*
 * Unit tests of the ONNX reader (frontend/fe_onnx.c) on the tiny models that
 * tests/onnx/make_fixtures.py writes into tests/onnx/fixtures/.
 */
#include <stdlib.h>

#include "fe_onnx.h"
#include "testlib.h"

#define FIXTURES LOOM_SOURCE_DIR "/tests/onnx/fixtures/"

/* Loads a fixture; returns the status and leaves the messages in *d. */
static loom_status load(const char *name, const char *const *dims, ir_graph **g, ir_diag *d)
{
    ir_diag_init(d);
    return fe_onnx_load(name, dims, g, d);
}

static ir_graph *load_ok(const char *path, const char *const *dims)
{
    ir_diag d;
    ir_graph *g = NULL;
    loom_status st = load(path, dims, &g, &d);
    cr_assert_eq(st, LOOM_STATUS_OK, "%s: %s", path, d.text ? d.text : "");
    cr_assert(g);
    ir_diag_free(&d);
    return g;
}

/* Loading must fail with status st and exactly the text want. */
static void load_fails(const char *path, const char *const *dims, loom_status st,
                       const char *want)
{
    ir_diag d;
    ir_graph *g = (ir_graph *)1;
    loom_status got = load(path, dims, &g, &d);
    cr_assert_eq(got, st, "status %s, want %s: %s", loom_status_name(got), loom_status_name(st),
                 d.text ? d.text : "");
    cr_assert_null(g);
    cr_assert_str_eq(d.text ? d.text : "", want);
    ir_diag_free(&d);
}

static const ir_value *value(const ir_graph *g, const char *name, ir_dtype t)
{
    const ir_value *v = ir_graph_find_value(g, name);
    cr_assert(v, "no value %s", name);
    cr_assert_eq(v->dtype, t, "%s: dtype %s", name, ir_dtype_name(v->dtype));
    cr_assert(ir_value_is_const(v), "%s is not constant", name);
    return v;
}

Test(onnx, initializer_storage_forms)
{
    ir_graph *g = load_ok(FIXTURES "init_forms.onnx", NULL);
    const float *raw = value(g, "raw_f32", IR_DTYPE_F32)->data;
    tl_assert_shape(ir_graph_find_value(g, "raw_f32"), 2, (int64_t[]){2, 2});
    cr_assert(raw[0] == 1.5f && raw[1] == -2.0f && raw[2] == 3.25f && raw[3] == 4.0f);
    const float *fd = value(g, "float_data", IR_DTYPE_F32)->data;
    cr_assert(fd[0] == 0.5f && fd[1] == 1.5f && fd[2] == -2.5f);
    const int64_t *i64 = value(g, "int64_data", IR_DTYPE_I64)->data;
    cr_assert(i64[0] == -7 && i64[1] == (int64_t)1 << 40);
    const int32_t *i32 = value(g, "int32_data", IR_DTYPE_I32)->data;
    cr_assert(i32[0] == -1 && i32[1] == 0 && i32[2] == 123456);
    const double *f64 = value(g, "double_data", IR_DTYPE_F64)->data;
    cr_assert(f64[0] == 0.1 && f64[1] == -1e300);
    const int8_t *i8 = value(g, "int8_data", IR_DTYPE_I8)->data;
    cr_assert(i8[0] == -128 && i8[1] == 127);
    const uint8_t *u8 = value(g, "uint8_data", IR_DTYPE_U8)->data;
    cr_assert(u8[0] == 0 && u8[1] == 255);
    const uint8_t *b = value(g, "bool_data", IR_DTYPE_BOOL)->data;
    cr_assert(b[0] == 1 && b[1] == 0 && b[2] == 1);
    const int64_t *ri = value(g, "raw_i64", IR_DTYPE_I64)->data;
    cr_assert(ri[0] == 7 && ri[1] == 8);
    ir_graph_free(g);
}

Test(onnx, constant_nodes_and_initializer_inputs)
{
    ir_graph *g = load_ok(FIXTURES "init_forms.onnx", NULL);
    const int32_t *ct = value(g, "c_tensor", IR_DTYPE_I32)->data;
    cr_assert(ct[0] == 9 && ct[1] == 10);
    const ir_value *cf = value(g, "c_float", IR_DTYPE_F32);
    cr_assert(cf->shape.rank == 0 && *(const float *)cf->data == 0.25f);
    const float *cfs = value(g, "c_floats", IR_DTYPE_F32)->data;
    cr_assert(cfs[0] == 1.0f && cfs[1] == 2.0f);
    const ir_value *ci = value(g, "c_int", IR_DTYPE_I64);
    cr_assert(ci->shape.rank == 0 && *(const int64_t *)ci->data == -3);
    const ir_value *cis = value(g, "c_ints", IR_DTYPE_I64);
    tl_assert_shape(cis, 1, (int64_t[]){3});
    cr_assert_eq(((const int64_t *)cis->data)[2], 6);
    /* Constant nodes become values; the input that is an initializer is a
     * constant, so x is the only graph input and Mul the only node */
    cr_assert_eq(g->n_inputs, 1);
    cr_assert_str_eq(g->inputs[0]->name, "x");
    value(g, "in_and_init", IR_DTYPE_F32);
    cr_assert_eq(g->n_nodes, 1);
    cr_assert_eq(g->nodes[0]->op, IR_OP_MUL);
    cr_assert_str_eq(g->nodes[0]->name, "Mul_5", "unnamed nodes get <Op>_<index>");
    float x[2] = {1, -3};
    void *outs[16];
    cr_assert_eq(g->n_outputs, 15);
    for (int i = 0; i < g->n_outputs; i++)
        outs[i] = calloc(1, ir_value_bytes(g->outputs[i]) + 1);
    tl_run(g, (const void *[]){x}, outs);
    cr_assert(((float *)outs[0])[0] == 2.0f && ((float *)outs[0])[1] == -6.0f);
    cr_assert_eq(((int64_t *)outs[14])[1], 5, "a constant output is copied out");
    for (int i = 0; i < g->n_outputs; i++)
        free(outs[i]);
    ir_graph_free(g);
}

Test(onnx, external_data)
{
    ir_graph *g = load_ok(FIXTURES "external.onnx", NULL);
    const float *a = value(g, "a", IR_DTYPE_F32)->data; /* offset 0: mapped */
    for (int i = 0; i < 16; i++)
        cr_assert_eq(a[i], (float)i);
    const float *b = value(g, "b", IR_DTYPE_F32)->data; /* offset 68: read */
    cr_assert(b[0] == -1.0f && b[1] == 2.5f && b[2] == 100.0f);
    ir_graph_free(g);
    load_fails(FIXTURES "external_escape.onnx", NULL, LOOM_STATUS_INVALID_MODEL,
               FIXTURES "external_escape.onnx: initializer \"b\": external data location "
                        "\"../fixtures/external.bin\" must be a relative path inside the "
                        "model's folder\n");
    load_fails(FIXTURES "external_short.onnx", NULL, LOOM_STATUS_INVALID_MODEL,
               FIXTURES "external_short.onnx: initializer \"b\": external data [72, +12) lies "
                        "past the end of " FIXTURES "external.bin (80 bytes)\n");
}

Test(onnx, symbolic_dims_pinned)
{
    ir_graph *g = load_ok(FIXTURES "symbolic.onnx", (const char *[]){"batch=2", "z=2,5", NULL});
    tl_assert_shape(ir_graph_find_value(g, "x"), 2, (int64_t[]){2, 3});
    tl_assert_shape(ir_graph_find_value(g, "z"), 2, (int64_t[]){2, 5});
    tl_assert_shape(ir_graph_find_value(g, "w"), 2, (int64_t[]){2, 5});
    ir_graph_free(g);
}

Test(onnx, symbolic_dims_unpinned)
{
    load_fails(FIXTURES "symbolic.onnx", NULL, LOOM_STATUS_UNSUPPORTED,
               FIXTURES "symbolic.onnx: input \"x\" dim 0 (\"batch\") is symbolic; pin it with "
                        "--dim batch=N or --input-shape x=d0,d1,...\n"
               FIXTURES "symbolic.onnx: input \"z\" dim 0 (\"batch\") is symbolic; pin it with "
                        "--dim batch=N or --input-shape z=d0,d1,...\n"
               FIXTURES "symbolic.onnx: input \"z\" dim 1 is unknown; pin the shape with "
                        "--input-shape z=d0,d1,...\n");
}

Test(onnx, bad_dim_pins)
{
    /* x conflicts with its declared dim 3, z still has an unknown dim, n is
     * malformed and k matches nothing; batch=2 is used by z */
    load_fails(FIXTURES "symbolic.onnx", (const char *[]){"batch=2", "x=2,4", "n", "k=1", NULL},
               LOOM_STATUS_INVALID_ARG,
               FIXTURES "symbolic.onnx: dim pin \"n\" is not of the form name=value\n"
               FIXTURES "symbolic.onnx: dim pin \"x=2,4\" conflicts with the declared shape of "
                        "input \"x\"\n"
               FIXTURES "symbolic.onnx: input \"z\" dim 1 is unknown; pin the shape with "
                        "--input-shape z=d0,d1,...\n"
               FIXTURES "symbolic.onnx: dim pin \"k=1\" matches no input and no symbolic dim\n");
}

Test(onnx, unsupported_all_reported)
{
    const char *f = FIXTURES "unsupported.onnx";
    char want[2048];
    snprintf(want, sizeof want,
             "%s: node \"Det_12\" (Det): unsupported op (domain ai.onnx, opset 13)\n"
             "%s: node \"FusedThing_2\" (FusedThing): unsupported op (domain com.example, "
             "opset 1)\n"
             "%s: node \"lrelu\" (LeakyRelu): unsupported attribute \"beta\" (domain ai.onnx, "
             "opset 13)\n",
             f, f, f); /* the f16 Cast and initializer load (f16 storage) */
    load_fails(f, NULL, LOOM_STATUS_UNSUPPORTED, want);
}

Test(onnx, opset_out_of_range)
{
    /* opsets 1-6 are read (tests/unit/test_onnx_legacy.c has the forms) */
    ir_graph *g = load_ok(FIXTURES "opset6.onnx", NULL);
    cr_assert_eq(g->n_nodes, 1);
    ir_graph_free(g);
    const char *f = LOOM_SOURCE_DIR "/tests/onnx/legacy/opset22.onnx";
    char want[512];
    snprintf(want, sizeof want,
             "%s: opset 22 of domain ai.onnx is not supported (loom reads opsets 1 to 21)\n", f);
    load_fails(f, NULL, LOOM_STATUS_UNSUPPORTED, want);
}

Test(onnx, legacy_forms_and_omitted_inputs)
{
    ir_graph *g = load_ok(FIXTURES "legacy.onnx", NULL);
    cr_assert_eq(g->n_nodes, 3);
    const ir_node *sm = g->nodes[0], *un = g->nodes[1], *clip = g->nodes[2];
    cr_assert_eq(sm->op, IR_OP_SOFTMAX);
    cr_assert_str_eq(sm->name, "Softmax_0");
    cr_assert_eq(ir_attr_int(sm, "coerce_2d", 0), 1, "Softmax-11 flattens to 2-D");
    cr_assert_eq(ir_attr_int(sm, "axis", -1), 1, "Softmax-11 defaults to axis 1");
    const int64_t *axes;
    cr_assert_eq(ir_attr_ints(un, "axes", &axes), 1, "Unsqueeze-11 keeps its axes attribute");
    cr_assert_eq(axes[0], 0);
    cr_assert_eq(clip->n_inputs, 3);
    cr_assert_null(clip->inputs[1], "omitted min is NULL");
    cr_assert_str_eq(clip->inputs[2]->name, "hi");
    tl_assert_shape(g->outputs[0], 3, (int64_t[]){1, 2, 3});
    ir_graph_free(g);
}

Test(onnx, shape_subgraph_folds_to_one_reshape)
{
    ir_graph *g = load_ok(FIXTURES "shape_chain.onnx", NULL);
    cr_assert_eq(g->n_nodes, 2, "Shape/Gather/Unsqueeze/Concat are folded");
    const ir_node *r = g->nodes[0];
    cr_assert_eq(r->op, IR_OP_RESHAPE);
    const ir_value *shape = r->inputs[1];
    cr_assert(ir_value_is_const(shape) && shape->dtype == IR_DTYPE_I64);
    tl_assert_shape(shape, 1, (int64_t[]){2});
    cr_assert(((const int64_t *)shape->data)[0] == 2 && ((const int64_t *)shape->data)[1] == -1);
    cr_assert_null(shape->producer);
    cr_assert_eq(g->nodes[1]->op, IR_OP_RELU);
    tl_assert_shape(g->outputs[0], 2, (int64_t[]){2, 12});
    /* folded intermediates and the initializers only they read are gone */
    cr_assert_null(ir_graph_find_value(g, "s"));
    cr_assert_null(ir_graph_find_value(g, "zero"));
    cr_assert_eq(g->n_values, 4, "x, shape, y, z");
    float x[24], z[24];
    for (int i = 0; i < 24; i++)
        x[i] = (float)(i % 5) - 2.0f;
    tl_run(g, (const void *[]){x}, (void *[]){z});
    for (int i = 0; i < 24; i++)
        cr_assert_eq(z[i], x[i] > 0 ? x[i] : 0.0f);
    ir_graph_free(g);
}

/* Writes the first n bytes of src to dst. */
static void write_prefix(const char *src, const char *dst, long n)
{
    FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
    cr_assert(in && out);
    for (long i = 0; i < n; i++) {
        int ch = fgetc(in);
        cr_assert_neq(ch, EOF);
        fputc(ch, out);
    }
    fclose(in);
    fclose(out);
}

Test(onnx, truncated_and_corrupt_files)
{
    const char *src = FIXTURES "shape_chain.onnx", *tmp = LOOM_TEST_TMP "/truncated.onnx";
    FILE *f = fopen(src, "rb");
    cr_assert(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    write_prefix(src, tmp, size - 3);
    char want[512];
    snprintf(want, sizeof want, "%s: not a valid ONNX model (truncated or corrupt protobuf)\n",
             tmp);
    load_fails(tmp, NULL, LOOM_STATUS_INVALID_MODEL, want);
    /* every prefix: an error or (at a field boundary) a smaller valid
     * model, never a crash or a leak */
    for (long n = 0; n < size; n++) {
        write_prefix(src, tmp, n);
        ir_diag d;
        ir_graph *g = NULL;
        loom_status st = load(tmp, NULL, &g, &d);
        cr_assert(st == LOOM_STATUS_OK ? g != NULL : g == NULL);
        cr_assert(st == LOOM_STATUS_OK || d.n_errors > 0, "prefix %ld: silent failure", n);
        ir_graph_free(g);
        ir_diag_free(&d);
    }
    load_fails(LOOM_TEST_TMP "/no_such_model.onnx", NULL, LOOM_STATUS_IO,
               LOOM_TEST_TMP "/no_such_model.onnx: cannot open: No such file or directory\n");
}

Test(onnx, inputs_bound_as_constants)
{
    const char *f = FIXTURES "reshape_input.onnx";
    ir_graph *data = tl_graph("data");
    ir_value *shape = tl_const_i64(data, "shape", 1, (int64_t[]){2}, (int64_t[]){3, -1});
    ir_diag d;
    ir_diag_init(&d);
    ir_graph *g;
    cr_assert_neq(fe_onnx_load(f, NULL, &g, &d), LOOM_STATUS_OK, "shape is not known statically");
    ir_diag_clear(&d);
    fe_binding b = {"shape", shape};
    cr_assert_eq(fe_onnx_load_bound(f, NULL, &b, 1, &g, &d), LOOM_STATUS_OK, "%s",
                 d.text ? d.text : "");
    cr_assert_eq(g->n_inputs, 1, "a bound input is no longer a graph input");
    cr_assert(ir_value_is_const(ir_graph_find_value(g, "shape")));
    tl_assert_shape(g->outputs[0], 2, (int64_t[]){3, 2});
    ir_graph_free(g);
    ir_diag_free(&d);

    fe_binding bad[2] = {{"shape", ir_graph_find_value(data, "shape")}, {"nope", shape}};
    ir_value *f32v = tl_const_f32(data, "f", 1, (int64_t[]){2}, (float[]){3, 2});
    char want[1024];
    snprintf(want, sizeof want, "%s: binding \"nope\" names no graph input\n", f);
    ir_diag_init(&d);
    cr_assert_eq(fe_onnx_load_bound(f, NULL, bad, 2, &g, &d), LOOM_STATUS_INVALID_ARG);
    cr_assert_str_eq(d.text, want);
    ir_diag_clear(&d);
    bad[0].value = f32v;
    snprintf(want, sizeof want,
             "%s: binding f32[2] for input \"shape\" does not fit its declaration\n", f);
    cr_assert_eq(fe_onnx_load_bound(f, NULL, bad, 1, &g, &d), LOOM_STATUS_INVALID_ARG);
    cr_assert_str_eq(d.text, want);
    cr_assert_null(g);
    ir_diag_free(&d);
    ir_graph_free(data);
}

Test(onnx, mutated_files)
{
    /* every byte of small models replaced by a few values: errors or valid
     * models, never a crash (the sanitizer build also checks leaks) */
    const char *files[] = {FIXTURES "shape_chain.onnx", FIXTURES "init_forms.onnx",
                           FIXTURES "unsupported.onnx"};
    const char *tmp = LOOM_TEST_TMP "/mutated.onnx";
    static unsigned char buf[4096];
    for (int f = 0; f < 3; f++) {
        FILE *in = fopen(files[f], "rb");
        cr_assert(in);
        size_t size = fread(buf, 1, sizeof buf, in);
        fclose(in);
        for (size_t i = 0; i < size; i++) {
            unsigned char orig = buf[i];
            for (int m = 0; m < 3; m++) {
                buf[i] = (unsigned char[]){0x00, 0xff, (unsigned char)(orig ^ 0x01)}[m];
                FILE *out = fopen(tmp, "wb");
                cr_assert(out);
                fwrite(buf, 1, size, out);
                fclose(out);
                ir_diag d;
                ir_graph *g = NULL;
                loom_status st = load(tmp, NULL, &g, &d);
                cr_assert(st == LOOM_STATUS_OK ? g != NULL : g == NULL && d.n_errors > 0,
                          "%s byte %zu = %d: status %s without a message", files[f], i, buf[i],
                          loom_status_name(st));
                ir_graph_free(g);
                ir_diag_free(&d);
            }
            buf[i] = orig;
        }
    }
}

Test(onnx, every_allocation_failure)
{
    tl_load_alloc_sweep(FIXTURES "shape_chain.onnx", LOOM_STATUS_OK);
    tl_load_alloc_sweep(FIXTURES "external.onnx", LOOM_STATUS_OK);
    tl_load_alloc_sweep(FIXTURES "unsupported.onnx", LOOM_STATUS_UNSUPPORTED);
}

Test(onnx, tensor_file_and_op_list)
{
    char ops[256];
    ir_diag d;
    ir_diag_init(&d);
    cr_assert_eq(fe_onnx_list_ops(FIXTURES "unsupported.onnx", ops, sizeof ops, &d), 6);
    cr_assert_str_eq(ops, "Relu Det com.example:FusedThing LeakyRelu Cast Add");
    cr_assert_eq(fe_onnx_list_ops(LOOM_TEST_TMP "/no_such_model.onnx", ops, sizeof ops, &d), -1);
    cr_assert_eq(d.n_errors, 1);
    ir_diag_free(&d);
    ir_graph *g = tl_graph("t");
    ir_value *v;
    ir_diag_init(&d);
    cr_assert_eq(fe_onnx_read_tensor(FIXTURES "tensor.pb", g, &v, &d), LOOM_STATUS_OK);
    cr_assert_str_eq(v->name, "t");
    cr_assert_eq(v->dtype, IR_DTYPE_I32);
    tl_assert_shape(v, 2, (int64_t[]){2, 2});
    cr_assert_eq(((const int32_t *)v->data)[3], 4);
    /* raw bytes that are not a TensorProto of a supported dtype */
    cr_assert_neq(fe_onnx_read_tensor(FIXTURES "external.bin", g, &v, &d), LOOM_STATUS_OK);
    cr_assert_null(v);
    cr_assert_gt(d.n_errors, 0);
    ir_diag_free(&d);
    ir_graph_free(g);
}
