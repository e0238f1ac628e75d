/*
 * Unit tests of the JSON model reader and writer (frontend/fe_json.c,
 * frontend/fe_json_write.c). Malformed inputs with their exact messages are
 * in the corpus (tests/diag, test_diag_corpus.c); this file covers what
 * loads, round trips, determinism, atomic writes and out-of-memory.
 */
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fe.h"
#include "fe_safetensors.h"
#include "leak_check.h"
#include "testlib.h"

#define DIAG_DIR LOOM_SOURCE_DIR "/tests/diag"

static const char *tmp(const char *name)
{
    static char buf[8][512];
    static int k;
    char *p = buf[k++ % 8];
    snprintf(p, 512, "%s/json_%s", LOOM_TEST_TMP, name);
    return p;
}

/* Loads text; must succeed. base_dir may be NULL. */
static ir_graph *load_ok(const char *text, const char *base_dir)
{
    ir_diag d;
    ir_diag_init(&d);
    ir_graph *g = NULL;
    loom_status st = fe_json_load_string(text, strlen(text), "t.json", base_dir, &g, &d);
    cr_assert_eq(st, LOOM_STATUS_OK, "load failed: %s", d.text ? d.text : "");
    cr_assert(g);
    ir_diag_free(&d);
    return g;
}

/* Loading text must fail with st and a diagnostic equal to want. */
static void load_fails(const char *text, loom_status st, const char *want)
{
    ir_diag d;
    ir_diag_init(&d);
    ir_graph *g = NULL;
    loom_status got = fe_json_load_string(text, strlen(text), "t.json", NULL, &g, &d);
    cr_assert_eq(got, st, "status %s, want %s: %s", loom_status_name(got), loom_status_name(st),
                 d.text ? d.text : "");
    cr_assert_null(g);
    cr_assert_str_eq(d.text ? d.text : "", want);
    ir_diag_free(&d);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    size_t got = fread(s, 1, (size_t)n, f);
    s[got] = '\0';
    fclose(f);
    if (len)
        *len = got;
    return s;
}

static const ir_node *find_node(const ir_graph *g, const char *name)
{
    for (int i = 0; i < g->n_nodes; i++)
        if (strcmp(g->nodes[i]->name, name) == 0)
            return g->nodes[i];
    cr_assert_fail("no node %s", name);
    return NULL;
}

/* ---- loading ---- */

static const char *small_model =
    "{\"format\": \"loom-graph\", \"version\": 1, \"name\": \"small\",\n"
    " \"inputs\": [{\"name\": \"x\", \"dtype\": \"f32\", \"shape\": [2, 3]}],\n"
    " \"outputs\": [\"y\", \"s\"],\n"
    " \"initializers\": [\n"
    "   {\"name\": \"bias\", \"dtype\": \"f32\", \"shape\": [3], \"data\": [1, 2.5, \"-inf\"]},\n"
    "   {\"name\": \"unused\", \"dtype\": \"i64\", \"shape\": [1], \"data\": [7]}],\n"
    " \"nodes\": [\n"
    "   {\"op\": \"Add\", \"name\": \"add\", \"inputs\": [\"x\", \"bias\"], \"outputs\": [\"a\"]},\n"
    "   {\"op\": \"LeakyRelu\", \"inputs\": [\"a\"], \"outputs\": [\"y\"], \"attrs\": {\"alpha\": 1}},\n"
    "   {\"op\": \"Softmax\", \"inputs\": [\"y\"], \"outputs\": [\"s\"], \"attrs\": {\"axis\": -1}}\n"
    " ]}\n";

Test(json, loads_a_small_model)
{
    ir_graph *g = load_ok(small_model, NULL);
    cr_assert_str_eq(g->name, "small");
    cr_assert_str_eq(g->source, "t.json");
    cr_assert_eq(g->n_inputs, 1);
    cr_assert_eq(g->n_nodes, 3);
    cr_assert_eq(g->n_outputs, 2);
    cr_assert_str_eq(g->outputs[1]->name, "s");
    /* default node names are <Op>_<index> */
    const ir_node *lr = find_node(g, "LeakyRelu_1");
    cr_assert_eq(lr->op, IR_OP_LEAKY_RELU);
    /* JSON 1 for a float attribute is a float */
    const ir_attr *alpha = ir_node_find_attr(lr, "alpha");
    cr_assert(alpha);
    cr_assert_eq(alpha->kind, IR_ATTR_FLOAT);
    cr_assert_float_eq(alpha->u.f, 1.0f, 0);
    cr_assert_eq(ir_attr_int(find_node(g, "Softmax_2"), "axis", 0), -1);
    ir_value *bias = ir_graph_find_value(g, "bias");
    cr_assert(bias && ir_value_is_const(bias));
    const float *b = bias->data;
    cr_assert(b[0] == 1 && b[1] == 2.5f && isinf(b[2]) && b[2] < 0);
    cr_assert_null(ir_graph_find_value(g, "unused"), "an unused initializer became a value");
    tl_assert_shape(ir_graph_find_value(g, "s"), 2, (int64_t[]){2, 3});
    ir_graph_free(g);
    assert_no_leaks();
}

Test(json, nodes_listed_out_of_order_are_sorted)
{
    ir_graph *g = load_ok(
        "{\"format\": \"loom-graph\", \"version\": 1,\n"
        " \"inputs\": [{\"name\": \"x\", \"dtype\": \"f32\", \"shape\": [4]}],\n"
        " \"outputs\": [\"z\"],\n"
        " \"nodes\": [\n"
        "   {\"op\": \"Add\", \"name\": \"last\", \"inputs\": [\"b\", \"a\"], \"outputs\": [\"z\"]},\n"
        "   {\"op\": \"Sigmoid\", \"name\": \"mid\", \"inputs\": [\"a\"], \"outputs\": [\"b\"]},\n"
        "   {\"op\": \"Relu\", \"name\": \"first\", \"inputs\": [\"x\"], \"outputs\": [\"a\"]},\n"
        "   {\"op\": \"Neg\", \"name\": \"side\", \"inputs\": [\"x\"], \"outputs\": [\"unused\"]}\n"
        " ]}", NULL);
    cr_assert_str_eq(g->name, "t", "default name is the file name without extension");
    cr_assert_eq(g->n_nodes, 4);
    cr_assert_str_eq(g->nodes[0]->name, "first");
    cr_assert_str_eq(g->nodes[1]->name, "mid");
    cr_assert_str_eq(g->nodes[2]->name, "last");
    cr_assert_str_eq(g->nodes[3]->name, "side");
    ir_graph_free(g);
    assert_no_leaks();
}

Test(json, omitted_operands_tensor_attributes_and_exact_int64)
{
    ir_graph *g = load_ok(
        "{\"format\": \"loom-graph\", \"version\": 1, \"name\": \"ops\",\n"
        " \"inputs\": [{\"name\": \"x\", \"dtype\": \"f32\", \"shape\": [2, 2]},\n"
        "            {\"name\": \"i\", \"dtype\": \"i64\", \"shape\": [2]}],\n"
        " \"outputs\": [\"y\", \"j\"],\n"
        " \"initializers\": [{\"name\": \"big\", \"dtype\": \"i64\", \"shape\": [2],\n"
        "                   \"data\": [9223372036854775807, -9223372036854775808]}],\n"
        " \"nodes\": [\n"
        "   {\"op\": \"Constant\", \"name\": \"k\", \"outputs\": [\"hi\"],\n"
        "    \"attrs\": {\"value\": {\"dtype\": \"f32\", \"shape\": [], \"data\": [0.5]}}},\n"
        "   {\"op\": \"Clip\", \"name\": \"clip\", \"inputs\": [\"x\", \"\", \"hi\"], \"outputs\": [\"y\"]},\n"
        "   {\"op\": \"Add\", \"name\": \"add\", \"inputs\": [\"i\", \"big\"], \"outputs\": [\"j\"]}\n"
        " ]}", NULL);
    const ir_node *clip = find_node(g, "clip");
    cr_assert_eq(clip->n_inputs, 3);
    cr_assert_null(clip->inputs[1], "\"\" is an omitted operand");
    cr_assert_str_eq(clip->inputs[2]->name, "hi");
    const ir_attr *v = ir_node_find_attr(find_node(g, "k"), "value");
    cr_assert(v && v->kind == IR_ATTR_TENSOR);
    cr_assert_eq(v->u.tensor->shape.rank, 0);
    cr_assert_eq(*(const float *)v->u.tensor->data, 0.5f);
    const int64_t *big = ir_graph_find_value(g, "big")->data;
    cr_assert_eq(big[0], INT64_MAX);
    cr_assert_eq(big[1], INT64_MIN);
    cr_assert_eq(ir_graph_find_value(g, "j")->dtype, IR_DTYPE_I64);
    ir_graph_free(g);
    assert_no_leaks();
}

static const char *weights_model =
    "{\"format\": \"loom-graph\", \"version\": 1, \"name\": \"w\",\n"
    " \"inputs\": [{\"name\": \"x\", \"dtype\": \"f32\", \"shape\": [4]}],\n"
    " \"outputs\": [\"y\"],\n"
    " \"weights\": \"st_valid.safetensors\",\n"
    " \"nodes\": [{\"op\": \"Mul\", \"name\": \"mul\", \"inputs\": [\"x\", \"w\"], \"outputs\": [\"y\"]}]}";

Test(json, weights_come_from_a_mapped_safetensors_file)
{
    /* st_valid.safetensors also holds an unused F16 tensor: ignored */
    ir_graph *g = load_ok(weights_model, DIAG_DIR);
    ir_value *w = ir_graph_find_value(g, "w");
    cr_assert(w && ir_value_is_const(w));
    const float *p = w->data;
    cr_assert(p[0] == 1 && p[3] == 4);
    cr_assert_null(ir_graph_find_value(g, "unused_half"));
    cr_assert_not_null(g->mappings, "weights are used in place from the mapping");
    ir_graph_free(g);
    assert_no_leaks();
}

Test(json, misaligned_weights_are_copied)
{
    /* header of odd length: the data section starts at an odd offset */
    char hdr[128] = "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}";
    if (strlen(hdr) % 2 == 0)
        strcat(hdr, " ");
    size_t h = strlen(hdr);
    unsigned char buf[256] = {(unsigned char)h};
    memcpy(buf + 8, hdr, h);
    float vals[4] = {1, 2, 3, 4};
    memcpy(buf + 8 + h, vals, 16);
    FILE *f = fopen(tmp("odd.safetensors"), "wb");
    fwrite(buf, 1, 8 + h + 16, f);
    fclose(f);
    char text[1024];
    snprintf(text, sizeof text, "%s", weights_model);
    char *at = strstr(text, "st_valid");
    memcpy(at, "json_odd", 8);
    ir_graph *g = load_ok(text, LOOM_TEST_TMP);
    ir_value *w = ir_graph_find_value(g, "w");
    cr_assert_eq((uintptr_t)w->data % 4, 0);
    cr_assert_eq(memcmp(w->data, vals, 16), 0);
    ir_graph_free(g);
    assert_no_leaks();
}

Test(json, loading_a_file_resolves_weights_next_to_it)
{
    ir_diag d;
    ir_diag_init(&d);
    ir_graph *g = NULL;
    /* st_name_clash.json is a corpus case; st_valid.json does not exist */
    cr_assert_eq(fe_json_load(DIAG_DIR "/no_such_model.json", &g, &d), LOOM_STATUS_IO);
    cr_assert(strstr(d.text, "no_such_model.json: cannot open: No such file or directory"));
    ir_diag_clear(&d);
    FILE *f = fopen(tmp("model_w.json"), "wb");
    char text[1024];
    snprintf(text, sizeof text, "%s", weights_model);
    memcpy(strstr(text, "st_valid"), "json_odd", 8);
    fputs(text, f);
    fclose(f);
    /* json_odd.safetensors is written by misaligned_weights_are_copied;
     * write our own copy so the test stands alone */
    float w[4] = {1, 2, 3, 4};
    fe_st_entry e = {"w", IR_DTYPE_F32, {1, {4}}, w};
    cr_assert_eq(fe_st_write(tmp("odd.safetensors"), &e, 1, &d), LOOM_STATUS_OK);
    cr_assert_eq(fe_json_load(tmp("model_w.json"), &g, &d), LOOM_STATUS_OK, "%s", d.text);
    cr_assert_str_eq(g->name, "w");
    ir_graph_free(g);
    ir_diag_free(&d);
    assert_no_leaks();
}

Test(json, syntax_errors_have_line_and_column)
{
    load_fails("{\n  \"format\": \"loom-graph\",\n  \"version\" 1\n}", LOOM_STATUS_INVALID_MODEL,
               "t.json:3:13: invalid JSON: expected ':' after the key\n");
    load_fails("{\"a\": [1, 2,]}", LOOM_STATUS_INVALID_MODEL,
               "t.json:1:13: invalid JSON: trailing comma before ']'\n");
    load_fails("{\"a\": 1} {}", LOOM_STATUS_INVALID_MODEL,
               "t.json:1:10: invalid JSON: unexpected text after the end of the document\n");
    load_fails("{\"a\": \"\\q\"}", LOOM_STATUS_INVALID_MODEL,
               "t.json:1:8: invalid JSON: invalid escape in string\n");
    load_fails("{\"a\": -x}", LOOM_STATUS_INVALID_MODEL, "t.json:1:8: invalid JSON: invalid number\n");
    load_fails("{\"a\": tru}", LOOM_STATUS_INVALID_MODEL, "t.json:1:7: invalid JSON: expected a value\n");
    ir_diag d;
    ir_diag_init(&d);
    ir_graph *g = NULL;
    cr_assert_eq(fe_json_load_string("{\"a\":\0 1}", 9, "t.json", NULL, &g, &d),
                 LOOM_STATUS_INVALID_MODEL);
    cr_assert_str_eq(d.text, "t.json:1:6: invalid JSON: NUL byte in the text\n");
    ir_diag_free(&d);
    assert_no_leaks();
}

Test(json, float_attributes_accept_integers_and_special_values)
{
    ir_graph *g = load_ok(
        "{\"format\": \"loom-graph\", \"version\": 1, \"inputs\": [{\"name\": \"x\", \"dtype\": \"f32\","
        " \"shape\": [3]}], \"outputs\": [\"y\"], \"nodes\": [{\"op\": \"HardSigmoid\", \"name\": \"h\","
        " \"inputs\": [\"x\"], \"outputs\": [\"y\"], \"attrs\": {\"alpha\": \"inf\", \"beta\": -2}}]}",
        NULL);
    const ir_node *h = find_node(g, "h");
    cr_assert(isinf(ir_attr_float(h, "alpha", 0)));
    cr_assert_float_eq(ir_attr_float(h, "beta", 0), -2.0f, 0);
    ir_graph_free(g);
    assert_no_leaks();
}

/* The complete example of docs/model-format.md loads, with weights of the
 * shapes the text gives, to the shapes the text gives. */
Test(json, the_documented_example_loads)
{
    char *doc = slurp(LOOM_SOURCE_DIR "/docs/model-format.md", NULL);
    char *start = strstr(doc, "```json\n");
    cr_assert(start, "no json example in docs/model-format.md");
    start += 8;
    char *end = strstr(start, "```");
    cr_assert(end);
    *end = '\0';
    static float conv_w[8 * 9], conv_b[8], fc_w[10 * 1568], fc_b[10];
    fe_st_entry e[] = {
        {"conv1.weight", IR_DTYPE_F32, {4, {8, 1, 3, 3}}, conv_w},
        {"conv1.bias", IR_DTYPE_F32, {1, {8}}, conv_b},
        {"fc.weight", IR_DTYPE_F32, {2, {10, 1568}}, fc_w},
        {"fc.bias", IR_DTYPE_F32, {1, {10}}, fc_b},
    };
    ir_diag d;
    ir_diag_init(&d);
    mkdir(LOOM_TEST_TMP "/json_doc", 0777);
    cr_assert_eq(fe_st_write(LOOM_TEST_TMP "/json_doc/mnist_cnn.safetensors", e, 4, &d), LOOM_STATUS_OK);
    ir_graph *g = load_ok(start, LOOM_TEST_TMP "/json_doc");
    cr_assert_str_eq(g->name, "mnist_cnn");
    cr_assert_eq(find_node(g, "Relu_1")->op, IR_OP_RELU);
    tl_assert_shape(ir_graph_find_value(g, "r1"), 4, (int64_t[]){1, 8, 28, 28});
    tl_assert_shape(ir_graph_find_value(g, "p1"), 4, (int64_t[]){1, 8, 14, 14});
    tl_assert_shape(ir_graph_find_value(g, "flat"), 2, (int64_t[]){1, 1568});
    tl_assert_shape(ir_graph_find_value(g, "probs"), 2, (int64_t[]){1, 10});
    ir_graph_free(g);
    ir_diag_free(&d);
    free(doc);
    assert_no_leaks();
}

/* ---- writing ---- */

/* Checks that a and b are the same graph: inputs, outputs, nodes with
 * operands and attributes, constant data and inferred shapes. */
static void assert_same_graph(const ir_graph *a, const ir_graph *b)
{
    cr_assert_str_eq(a->name, b->name);
    cr_assert_eq(a->n_inputs, b->n_inputs);
    for (int i = 0; i < a->n_inputs; i++) {
        cr_assert_str_eq(a->inputs[i]->name, b->inputs[i]->name);
        cr_assert_eq(a->inputs[i]->dtype, b->inputs[i]->dtype);
        cr_assert(ir_shape_equal(&a->inputs[i]->shape, &b->inputs[i]->shape));
    }
    cr_assert_eq(a->n_outputs, b->n_outputs);
    for (int i = 0; i < a->n_outputs; i++)
        cr_assert_str_eq(a->outputs[i]->name, b->outputs[i]->name);
    cr_assert_eq(a->n_nodes, b->n_nodes);
    for (int k = 0; k < a->n_nodes; k++) {
        const ir_node *x = a->nodes[k], *y = b->nodes[k];
        cr_assert_eq(x->op, y->op);
        cr_assert_str_eq(x->name, y->name);
        cr_assert_eq(x->n_inputs, y->n_inputs);
        cr_assert_eq(x->n_outputs, y->n_outputs);
        for (int i = 0; i < x->n_inputs; i++) {
            const ir_value *u = x->inputs[i], *v = y->inputs[i];
            cr_assert_eq(!u, !v);
            if (!u)
                continue;
            cr_assert_str_eq(u->name, v->name);
            cr_assert_eq(u->dtype, v->dtype);
            cr_assert(ir_shape_equal(&u->shape, &v->shape), "%s: shape differs", u->name);
            cr_assert_eq(!u->data, !v->data);
            if (u->data && !u->producer)
                cr_assert_eq(memcmp(u->data, v->data, ir_value_bytes(u)), 0, "%s: data differs", u->name);
        }
        for (int i = 0; i < x->n_outputs; i++) {
            cr_assert_eq(!x->outputs[i], !y->outputs[i]);
            if (x->outputs[i])
                cr_assert_str_eq(x->outputs[i]->name, y->outputs[i]->name);
        }
        cr_assert_eq(x->n_attrs, y->n_attrs, "%s: attribute count", x->name);
        for (int i = 0; i < x->n_attrs; i++) {
            const ir_attr *p = &x->attrs[i], *q = &y->attrs[i];
            cr_assert_str_eq(p->name, q->name);
            cr_assert_eq(p->kind, q->kind);
            cr_assert_eq(p->n, q->n);
            if (p->kind == IR_ATTR_INT)
                cr_assert_eq(p->u.i, q->u.i);
            else if (p->kind == IR_ATTR_FLOAT)
                cr_assert(memcmp(&p->u.f, &q->u.f, 4) == 0);
            else if (p->kind == IR_ATTR_STRING)
                cr_assert_str_eq(p->u.s, q->u.s);
            else if (p->kind == IR_ATTR_INTS)
                cr_assert(p->n == 0 || !memcmp(p->u.ints, q->u.ints, (size_t)p->n * 8));
            else if (p->kind == IR_ATTR_FLOATS)
                cr_assert(p->n == 0 || !memcmp(p->u.floats, q->u.floats, (size_t)p->n * 4));
            else if (p->kind == IR_ATTR_TENSOR) {
                cr_assert_eq(p->u.tensor->dtype, q->u.tensor->dtype);
                cr_assert(ir_shape_equal(&p->u.tensor->shape, &q->u.tensor->shape));
                cr_assert(!memcmp(p->u.tensor->data, q->u.tensor->data, ir_value_bytes(p->u.tensor)));
            }
        }
    }
}

/* A model that uses constants of every dtype, awkward float values, an
 * omitted operand, a tensor attribute and a node named "". */
static const char *dtype_model =
    "{\"format\": \"loom-graph\", \"version\": 1, \"name\": \"every \\\"dtype\\\"\",\n"
    " \"inputs\": [{\"name\": \"x\", \"dtype\": \"f32\", \"shape\": [2, 3]}],\n"
    " \"outputs\": [\"o_f32\", \"o_f64\", \"o_i64\", \"o_i32\", \"o_i8\", \"o_u8\", \"o_bool\", \"c\"],\n"
    " \"initializers\": [\n"
    "  {\"name\": \"f32\", \"dtype\": \"f32\", \"shape\": [7], \"data\": [0.1, -0.0, \"nan\", \"inf\", 1e-45, 3.4028235e38, 16777217]},\n"
    "  {\"name\": \"f64\", \"dtype\": \"f64\", \"shape\": [3], \"data\": [0.1, 5e-324, -1.7976931348623157e308]},\n"
    "  {\"name\": \"i64\", \"dtype\": \"i64\", \"shape\": [3], \"data\": [-9223372036854775808, 9007199254740993, 9223372036854775807]},\n"
    "  {\"name\": \"i32\", \"dtype\": \"i32\", \"shape\": [2], \"data\": [-2147483648, 2147483647]},\n"
    "  {\"name\": \"i8\", \"dtype\": \"i8\", \"shape\": [2], \"data\": [-128, 127]},\n"
    "  {\"name\": \"u8\", \"dtype\": \"u8\", \"shape\": [3], \"data\": [0, 1, 255]},\n"
    "  {\"name\": \"bool\", \"dtype\": \"bool\", \"shape\": [2, 1], \"data\": [true, 0]},\n"
    "  {\"name\": \"lo\", \"dtype\": \"f32\", \"shape\": [], \"data\": [-1]}],\n"
    " \"nodes\": [\n"
    "  {\"op\": \"Identity\", \"name\": \"\", \"inputs\": [\"f32\"], \"outputs\": [\"o_f32\"]},\n"
    "  {\"op\": \"Identity\", \"inputs\": [\"f64\"], \"outputs\": [\"o_f64\"]},\n"
    "  {\"op\": \"Identity\", \"inputs\": [\"i64\"], \"outputs\": [\"o_i64\"]},\n"
    "  {\"op\": \"Identity\", \"inputs\": [\"i32\"], \"outputs\": [\"o_i32\"]},\n"
    "  {\"op\": \"Identity\", \"inputs\": [\"i8\"], \"outputs\": [\"o_i8\"]},\n"
    "  {\"op\": \"Identity\", \"inputs\": [\"u8\"], \"outputs\": [\"o_u8\"]},\n"
    "  {\"op\": \"Identity\", \"inputs\": [\"bool\"], \"outputs\": [\"o_bool\"]},\n"
    "  {\"op\": \"Constant\", \"name\": \"k\", \"outputs\": [\"hi\"], \"attrs\": {\"value\":\n"
    "    {\"dtype\": \"f32\", \"shape\": [1], \"data\": [\"-inf\"]}}},\n"
    "  {\"op\": \"Clip\", \"name\": \"clip\", \"inputs\": [\"x\", \"lo\", \"\"], \"outputs\": [\"c\"]},\n"
    "  {\"op\": \"LeakyRelu\", \"name\": \"lr\", \"inputs\": [\"x\"], \"outputs\": [\"unused\"],\n"
    "   \"attrs\": {\"alpha\": 0.2}}\n"
    " ]}\n";

/* Writes g (weights or inline), reloads it and checks it is the same. */
static void round_trip(const ir_graph *g, const char *json, const char *weights)
{
    ir_diag d;
    ir_diag_init(&d);
    cr_assert_eq(fe_json_write(g, json, weights, &d), LOOM_STATUS_OK, "write: %s", d.text);
    ir_graph *g2 = NULL;
    cr_assert_eq(fe_json_load(json, &g2, &d), LOOM_STATUS_OK, "reload: %s", d.text);
    assert_same_graph(g, g2);
    ir_graph_free(g2);
    ir_diag_free(&d);
}

Test(json, write_then_load_gives_the_same_graph)
{
    ir_graph *g = load_ok(dtype_model, NULL);
    round_trip(g, tmp("rt_inline.json"), NULL);
    round_trip(g, tmp("rt_w.json"), tmp("rt_w.safetensors"));
    mkdir(LOOM_TEST_TMP "/json_sub", 0777);
    round_trip(g, tmp("rt_w2.json"), LOOM_TEST_TMP "/json_sub/w.safetensors");
    round_trip(g, LOOM_TEST_TMP "/json_sub/m.json", tmp("rt_up.safetensors"));
    char *text = slurp(tmp("rt_w2.json"), NULL);
    cr_assert(strstr(text, "\"weights\": \"json_sub/w.safetensors\""), "%s", text);
    free(text);
    text = slurp(LOOM_TEST_TMP "/json_sub/m.json", NULL);
    cr_assert(strstr(text, "\"weights\": \"../json_rt_up.safetensors\""), "%s", text);
    free(text);
    ir_graph_free(g);
    assert_no_leaks();
}

Test(json, written_files_are_deterministic)
{
    ir_graph *g = load_ok(dtype_model, NULL);
    ir_diag d;
    ir_diag_init(&d);
    size_t n1, n2, w1, w2;
    cr_assert_eq(fe_json_write(g, tmp("det1.json"), NULL, &d), LOOM_STATUS_OK);
    cr_assert_eq(fe_json_write(g, tmp("det2.json"), NULL, &d), LOOM_STATUS_OK);
    char *a = slurp(tmp("det1.json"), &n1), *b = slurp(tmp("det2.json"), &n2);
    cr_assert(n1 == n2 && memcmp(a, b, n1) == 0);
    /* loading what was written and writing again gives the same text */
    ir_graph *g2 = NULL;
    cr_assert_eq(fe_json_load(tmp("det1.json"), &g2, &d), LOOM_STATUS_OK);
    cr_assert_eq(fe_json_write(g2, tmp("det2.json"), NULL, &d), LOOM_STATUS_OK);
    free(b);
    b = slurp(tmp("det2.json"), &n2);
    cr_assert(n1 == n2 && memcmp(a, b, n1) == 0, "rewrite differs:\n%s\n---\n%s", a, b);
    free(a);
    free(b);
    cr_assert_eq(fe_json_write(g, tmp("detw.json"), tmp("detw1.safetensors"), &d), LOOM_STATUS_OK);
    cr_assert_eq(fe_json_write(g, tmp("detw.json"), tmp("detw2.safetensors"), &d), LOOM_STATUS_OK);
    a = slurp(tmp("detw1.safetensors"), &w1);
    b = slurp(tmp("detw2.safetensors"), &w2);
    cr_assert(w1 == w2 && memcmp(a, b, w1) == 0);
    free(a);
    free(b);
    ir_graph_free(g2);
    ir_graph_free(g);
    ir_diag_free(&d);
    assert_no_leaks();
}

Test(json, writes_the_documented_layout)
{
    ir_graph *g = load_ok(small_model, NULL);
    ir_diag d;
    ir_diag_init(&d);
    cr_assert_eq(fe_json_write(g, tmp("layout.json"), NULL, &d), LOOM_STATUS_OK);
    char *text = slurp(tmp("layout.json"), NULL);
    cr_assert_str_eq(text,
        "{\n"
        "  \"format\": \"loom-graph\",\n"
        "  \"version\": 1,\n"
        "  \"name\": \"small\",\n"
        "  \"inputs\": [\n"
        "    {\"name\": \"x\", \"dtype\": \"f32\", \"shape\": [2, 3]}\n"
        "  ],\n"
        "  \"outputs\": [\"y\", \"s\"],\n"
        "  \"initializers\": [\n"
        "    {\"name\": \"bias\", \"dtype\": \"f32\", \"shape\": [3], \"data\": [1, 2.5, \"-inf\"]}\n"
        "  ],\n"
        "  \"nodes\": [\n"
        "    {\"op\": \"Add\", \"name\": \"add\", \"inputs\": [\"x\", \"bias\"], \"outputs\": [\"a\"]},\n"
        "    {\"op\": \"LeakyRelu\", \"name\": \"LeakyRelu_1\", \"inputs\": [\"a\"], \"outputs\": [\"y\"], \"attrs\": {\"alpha\": 1}},\n"
        "    {\"op\": \"Softmax\", \"name\": \"Softmax_2\", \"inputs\": [\"y\"], \"outputs\": [\"s\"], \"attrs\": {\"axis\": -1}}\n"
        "  ]\n"
        "}\n");
    free(text);
    ir_graph_free(g);
    ir_diag_free(&d);
    assert_no_leaks();
}

/* No temporary file of this process (NAME.tmp.PID.N) is left in dir. */
static void assert_no_temporaries(const char *dir)
{
    char pat[64];
    snprintf(pat, sizeof pat, ".tmp.%ld.", (long)getpid());
    DIR *dp = opendir(dir);
    cr_assert(dp);
    for (struct dirent *e; (e = readdir(dp)) != NULL;)
        cr_assert_null(strstr(e->d_name, pat), "temporary file %s left behind", e->d_name);
    closedir(dp);
}

Test(json, failed_writes_leave_no_partial_files)
{
    ir_graph *g = load_ok(small_model, NULL);
    ir_diag d;
    ir_diag_init(&d);
    /* the target is a directory: everything is written, the rename fails */
    mkdir(LOOM_TEST_TMP "/json_isdir.json", 0777);
    cr_assert_eq(fe_json_write(g, LOOM_TEST_TMP "/json_isdir.json", NULL, &d), LOOM_STATUS_IO);
    cr_assert(strstr(d.text, "json_isdir.json: cannot rename the temporary file into place"), "%s", d.text);
    assert_no_temporaries(LOOM_TEST_TMP);
    ir_diag_clear(&d);
    /* the folder does not exist */
    cr_assert_eq(fe_json_write(g, LOOM_TEST_TMP "/json_nodir/m.json", NULL, &d), LOOM_STATUS_IO);
    cr_assert(strstr(d.text, "cannot create"));
    ir_diag_clear(&d);
    cr_assert_eq(fe_json_write(g, LOOM_TEST_TMP "/json_nodir/m.json",
                               LOOM_TEST_TMP "/json_nodir/m.safetensors", &d), LOOM_STATUS_IO);
    struct stat sb;
    cr_assert_neq(stat(LOOM_TEST_TMP "/json_nodir", &sb), 0);
    ir_diag_clear(&d);
    cr_assert_eq(fe_json_write(g, tmp("same"), tmp("same"), &d), LOOM_STATUS_INVALID_ARG);
    ir_graph_free(g);
    ir_diag_free(&d);
    assert_no_leaks();
}

/* ---- out of memory ---- */

Test(json, out_of_memory_at_every_allocation_while_loading)
{
    const char *models[] = {small_model, weights_model, dtype_model};
    for (int m = 0; m < 3; m++) {
        const char *text = models[m];
        long k = 0;
        for (;; k++) {
            ir_diag d;
            ir_diag_init(&d);
            ir_graph *g = NULL;
            long before = ir_alloc_count();
            ir_alloc_fail_after(k);
            loom_status st = fe_json_load_string(text, strlen(text), "t.json", DIAG_DIR, &g, &d);
            ir_alloc_fail_after(-1);
            bool injected = ir_alloc_count() - before > k;
            if (injected) {
                cr_assert_eq(st, LOOM_STATUS_NOMEM, "model %d, allocation %ld: %s: %s", m, k,
                             loom_status_name(st), d.text ? d.text : "");
                cr_assert_null(g);
            } else
                cr_assert_eq(st, LOOM_STATUS_OK);
            ir_graph_free(g);
            ir_diag_free(&d);
            if (!injected)
                break;
        }
        cr_assert_gt(k, 0, "model %d: no allocation failure was injected", m);
    }
    assert_no_leaks();
}

Test(json, out_of_memory_at_every_allocation_while_writing)
{
    ir_graph *g = load_ok(dtype_model, NULL);
    for (int with_weights = 0; with_weights < 2; with_weights++) {
        long k = 0;
        for (;; k++) {
            ir_diag d;
            ir_diag_init(&d);
            long before = ir_alloc_count();
            ir_alloc_fail_after(k);
            loom_status st = fe_json_write(g, tmp("oom.json"),
                                           with_weights ? tmp("oom.safetensors") : NULL, &d);
            ir_alloc_fail_after(-1);
            bool injected = ir_alloc_count() - before > k;
            cr_assert(st == (injected ? LOOM_STATUS_NOMEM : LOOM_STATUS_OK), "allocation %ld: %s", k,
                      d.text ? d.text : "");
            assert_no_temporaries(LOOM_TEST_TMP);
            ir_diag_free(&d);
            if (!injected)
                break;
        }
        cr_assert_gt(k, 0, "no allocation failure was injected while writing");
    }
    ir_graph_free(g);
    assert_no_leaks();
}
