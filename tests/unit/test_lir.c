/*
 * Unit tests of the text IR (ir_print / ir_parse) and the verifier:
 * round trips of graphs built through the API, exact parse diagnostics with
 * carets, and each kind of verifier problem.
 */
#include <stdlib.h>

#include "ir_text.h"
#include "testlib.h"

/* ---- helpers ---- */

static char *print_str(const ir_graph *g, bool elide)
{
    ir_print_opts o = {.elide_constants = elide};
    char *s = ir_print_string(g, &o, NULL);
    cr_assert(s, "printing failed");
    return s;
}

static ir_graph *parse_ok(const char *text)
{
    ir_diag d;
    ir_diag_init(&d);
    ir_graph *g = NULL;
    loom_status st = ir_parse(text, strlen(text), "t.lir", &g, &d);
    cr_assert_eq(st, LOOM_STATUS_OK, "parse failed:\n%s\ntext:\n%s", d.text ? d.text : "", text);
    cr_assert(g);
    ir_diag_free(&d);
    return g;
}

/* Prints g, parses the text, prints again: both texts must be equal.
 * Returns the text (ir_free it) and the reparsed graph in *back. */
static char *roundtrip(const ir_graph *g, ir_graph **back)
{
    char *t1 = print_str(g, false);
    ir_graph *g2 = parse_ok(t1);
    char *t2 = print_str(g2, false);
    cr_assert_str_eq(t2, t1, "print(parse(x)) != x");
    ir_free(t2);
    if (back)
        *back = g2;
    else
        ir_graph_free(g2);
    return t1;
}

/* Parsing must fail with exactly the diagnostic text want. */
static void parse_fails_with(const char *text, const char *want)
{
    ir_diag d;
    ir_diag_init(&d);
    ir_graph *g = (ir_graph *)1;
    loom_status st = ir_parse(text, strlen(text), "t.lir", &g, &d);
    cr_assert_neq(st, LOOM_STATUS_OK, "parse unexpectedly succeeded:\n%s", text);
    cr_assert_null(g);
    cr_assert_str_eq(d.text ? d.text : "", want, "for input:\n%s", text);
    ir_diag_free(&d);
}

/* Parsing must fail; returns the diagnostics (ir_diag_free them). */
static ir_diag parse_fails(const char *text)
{
    ir_diag d;
    ir_diag_init(&d);
    ir_graph *g = NULL;
    loom_status st = ir_parse(text, strlen(text), "t.lir", &g, &d);
    cr_assert_neq(st, LOOM_STATUS_OK, "parse unexpectedly succeeded:\n%s", text);
    cr_assert_null(g);
    cr_assert(d.text);
    return d;
}

static void assert_contains(const char *hay, const char *needle)
{
    cr_assert(hay && strstr(hay, needle), "\"%s\" not found in:\n%s", needle, hay ? hay : "");
}

/* Runs the verifier; returns its status and leaves the messages in *d. */
static loom_status verify(ir_graph *g, ir_diag *d)
{
    ir_diag_init(d);
    return ir_verify(g, d);
}

/* ---- round trips through the API ---- */

/* Conv: int, ints, string; LeakyRelu: float; LSTM: floats, strings and an
 * empty floats list; Constant: tensor; Transpose: an empty ints list. */
Test(lir, roundtrip_every_attribute_kind)
{
    ir_graph *g = tl_graph("attrs");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 4, (int64_t[]){1, 2, 5, 5});
    ir_value *w = tl_input(g, "w", IR_DTYPE_F32, 4, (int64_t[]){4, 1, 3, 3});
    ir_node *conv = tl_node(g, IR_OP_CONV, "conv", 2, (ir_value *[]){x, w}, 1, "c");
    ir_node_set_int(g, conv, "group", 2);
    ir_node_set_ints(g, conv, "kernel_shape", (int64_t[]){3, 3}, 2);
    ir_node_set_ints(g, conv, "pads", (int64_t[]){1, 1, 1, 1}, 4);
    ir_node_set_string(g, conv, "auto_pad", "NOTSET");
    ir_node *lr = tl_node(g, IR_OP_LEAKY_RELU, "lr", 1, (ir_value *[]){conv->outputs[0]}, 1, "l");
    ir_node_set_float(g, lr, "alpha", 0.1f);

    ir_value *sx = tl_input(g, "seq", IR_DTYPE_F32, 3, (int64_t[]){2, 1, 3});
    ir_value *sw = tl_input(g, "W", IR_DTYPE_F32, 3, (int64_t[]){1, 8, 3});
    ir_value *sr = tl_input(g, "R", IR_DTYPE_F32, 3, (int64_t[]){1, 8, 2});
    ir_node *lstm = tl_node(g, IR_OP_LSTM, "lstm", 3, (ir_value *[]){sx, sw, sr}, 3, "Y", "", "Yc");
    ir_node_set_strings(g, lstm, "activations",
                        (const char *const[]){"HardSigmoid", "Tanh", "Tanh"}, 3);
    ir_node_set_floats(g, lstm, "activation_alpha", (float[]){0.25f}, 1);
    ir_node_set_floats(g, lstm, "activation_beta", NULL, 0);
    ir_node_set_int(g, lstm, "hidden_size", 2);
    ir_node_set_string(g, lstm, "direction", "forward");

    ir_node *k = tl_node(g, IR_OP_CONSTANT, "k", 0, NULL, 1, "k");
    ir_value *t = ir_graph_detached_value(g, "value", IR_DTYPE_I64);
    ir_value_set_shape(t, 1, (int64_t[]){2});
    t->data = ir_arena_memdup(&g->arena, (int64_t[]){-7, INT64_MAX}, 16);
    ir_node_set_tensor(g, k, "value", t);

    ir_value *s = tl_input(g, "s", IR_DTYPE_F32, 0, NULL);
    ir_node *tr = tl_node(g, IR_OP_TRANSPOSE, "tr", 1, (ir_value *[]){s}, 1, "st");
    ir_node_set_ints(g, tr, "perm", NULL, 0);
    tl_infer_ok(g);

    ir_graph *g2;
    char *text = roundtrip(g, &g2);
    assert_contains(text, "%c: f32[1,4,5,5] = Conv(%x, %w) {group = 2, kernel_shape = [3, 3], "
                          "pads = [1, 1, 1, 1], auto_pad = \"NOTSET\"} @conv\n");
    assert_contains(text, "%l: f32[1,4,5,5] = LeakyRelu(%c) {alpha = 0.1} @lr\n");
    assert_contains(text, "%Y: f32[2,1,1,2], _, %Yc: f32[1,1,2] = LSTM(%seq, %W, %R) "
                          "{activations = [\"HardSigmoid\", \"Tanh\", \"Tanh\"], "
                          "activation_alpha = [0.25], activation_beta = [], hidden_size = 2, "
                          "direction = \"forward\"} @lstm\n");
    assert_contains(text, "%k: i64[2] = Constant() {value = tensor<i64[2]> "
                          "[-7, 9223372036854775807]}\n");
    assert_contains(text, "%st: f32[] = Transpose(%s) {perm = []} @tr\n");

    /* the reparsed graph holds the same attributes */
    ir_node *lstm2 = g2->nodes[2];
    const char *const *names;
    const float *alphas;
    cr_assert_eq(ir_attr_strings(lstm2, "activations", &names), 3);
    cr_assert_str_eq(names[0], "HardSigmoid");
    cr_assert_eq(ir_attr_floats(lstm2, "activation_alpha", &alphas), 1);
    cr_assert_eq(alphas[0], 0.25f);
    cr_assert_eq(ir_node_find_attr(lstm2, "activation_beta")->kind, IR_ATTR_FLOATS);
    cr_assert_eq(ir_node_find_attr(g2->nodes[4], "perm")->kind, IR_ATTR_INTS);
    cr_assert_eq(ir_attr_float(g2->nodes[1], "alpha", 0), 0.1f);
    cr_assert_null(lstm2->outputs[1]);
    ir_free(text);
    ir_graph_free(g2);
    ir_graph_free(g);
}

Test(lir, roundtrip_quoted_names)
{
    static const char *const names[] = {
        "/layer1/Conv_output_0", "onnx::Conv_123", "a b", "", "q\"b\\s", "tab\tnl\n",
        "\x01\x7f", "h\xc3\xa9llo", "plain_name.0",
    };
    ir_graph *g = tl_graph("my graph/1");
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        ir_value *x = tl_input(g, names[i], IR_DTYPE_F32, 1, (int64_t[]){2});
        char out[64];
        snprintf(out, sizeof out, "%s:relu", names[i]);
        tl_node(g, IR_OP_RELU, names[i], 1, (ir_value *[]){x}, 1, out);
        ir_graph_add_output(g, g->nodes[i]->outputs[0]);
    }
    tl_infer_ok(g);
    ir_graph *g2;
    char *text = roundtrip(g, &g2);
    assert_contains(text, "graph @\"my graph/1\"(%\"/layer1/Conv_output_0\": f32[2], "
                          "%\"onnx::Conv_123\": f32[2], %\"a b\": f32[2], %\"\": f32[2], "
                          "%\"q\\\"b\\\\s\": f32[2], %\"tab\\tnl\\n\": f32[2], "
                          "%\"\\01\\7F\": f32[2], %\"h\xc3\xa9llo\": f32[2], "
                          "%plain_name.0: f32[2]) {\n");
    assert_contains(text, "%\"/layer1/Conv_output_0:relu\": f32[2] = "
                          "Relu(%\"/layer1/Conv_output_0\") @\"/layer1/Conv_output_0\"\n");
    assert_contains(text, "%\":relu\": f32[2] = Relu(%\"\") @\"\"\n");
    cr_assert_str_eq(g2->name, "my graph/1");
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        cr_assert_str_eq(g2->inputs[i]->name, names[i]);
        cr_assert_str_eq(g2->nodes[i]->name, names[i]);
    }
    ir_free(text);
    ir_graph_free(g2);
    ir_graph_free(g);
}

/* Omitted inputs (middle and trailing) and omitted outputs print as _. */
Test(lir, roundtrip_omitted_operands)
{
    ir_graph *g = tl_graph("omit");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 1, (int64_t[]){3});
    ir_value *hi = tl_const_f32(g, "hi", 0, NULL, (float[]){6.0f});
    tl_node(g, IR_OP_CLIP, "c", 3, (ir_value *[]){x, NULL, hi}, 1, "c");
    tl_node(g, IR_OP_DROPOUT, "d", 3, (ir_value *[]){g->nodes[0]->outputs[0], NULL, NULL}, 2,
            "d", "");
    tl_infer_ok(g);
    ir_graph *g2;
    char *text = roundtrip(g, &g2);
    cr_assert_str_eq(text, "graph @omit(%x: f32[3]) {\n"
                           "  %hi: f32[] = const [6.0]\n"
                           "  %c: f32[3] = Clip(%x, _, %hi)\n"
                           "  %d: f32[3], _ = Dropout(%c, _, _)\n"
                           "  return %d\n"
                           "}\n");
    cr_assert_eq(g2->nodes[1]->n_inputs, 3);
    cr_assert_null(g2->nodes[1]->inputs[2]);
    cr_assert_eq(g2->nodes[1]->n_outputs, 2);
    ir_free(text);
    ir_graph_free(g2);
    ir_graph_free(g);
}

/* One constant per dtype with its extreme values, compared bit for bit. */
Test(lir, constants_every_dtype_bit_exact)
{
    uint32_t f32_bits[] = {0x7fc00000, 0xffc00000, 0x7fc00001, 0xff800001, 0x7f800000,
                           0xff800000, 0x80000000, 0x00000000, 0x00000001, 0x7f7fffff,
                           0x3dcccccd, 0x3f800000, 0xc0490fdb, 0x00800000, 0x807fffff};
    uint64_t f64_bits[] = {UINT64_C(0x7ff8000000000000), UINT64_C(0xfff8000000000000),
                           UINT64_C(0x7ff0000000000001), UINT64_C(0x8000000000000000),
                           UINT64_C(0x0000000000000001), UINT64_C(0x7fefffffffffffff),
                           UINT64_C(0x3fb999999999999a), UINT64_C(0xfff0000000000000)};
    int64_t i64[] = {INT64_MIN, -1, 0, INT64_MAX};
    int32_t i32[] = {INT32_MIN, -5, INT32_MAX};
    int8_t i8[] = {-128, 0, 127};
    uint8_t u8[] = {0, 1, 255};
    uint8_t b[] = {1, 0, 1};
    ir_graph *g = tl_graph("consts");
    ir_value *c[7] = {
        tl_const(g, "f32", IR_DTYPE_F32, 1, (int64_t[]){15}, f32_bits),
        tl_const(g, "f64", IR_DTYPE_F64, 1, (int64_t[]){8}, f64_bits),
        tl_const(g, "i64", IR_DTYPE_I64, 2, (int64_t[]){2, 2}, i64),
        tl_const(g, "i32", IR_DTYPE_I32, 1, (int64_t[]){3}, i32),
        tl_const(g, "i8", IR_DTYPE_I8, 1, (int64_t[]){3}, i8),
        tl_const(g, "u8", IR_DTYPE_U8, 1, (int64_t[]){3}, u8),
        tl_const(g, "b", IR_DTYPE_BOOL, 1, (int64_t[]){3}, b),
    };
    for (int i = 0; i < 7; i++)
        ir_graph_add_output(g, c[i]);
    ir_graph *g2;
    char *text = roundtrip(g, &g2);
    cr_assert_str_eq(
        text,
        "graph @consts() {\n"
        "  %f32: f32[15] = const [nan, -nan, nan(0x7fc00001), nan(0xff800001), inf, -inf, "
        "-0.0, 0.0, 1e-45, 3.4028235e+38, 0.1, 1.0, -3.1415927, 1.1754944e-38, "
        "-1.1754942e-38]\n"
        "  %f64: f64[8] = const [nan, -nan, nan(0x7ff0000000000001), -0.0, 5e-324, "
        "1.7976931348623157e+308, 0.1, -inf]\n"
        "  %i64: i64[2,2] = const [-9223372036854775808, -1, 0, 9223372036854775807]\n"
        "  %i32: i32[3] = const [-2147483648, -5, 2147483647]\n"
        "  %i8: i8[3] = const [-128, 0, 127]\n"
        "  %u8: u8[3] = const [0, 1, 255]\n"
        "  %b: bool[3] = const [true, false, true]\n"
        "  return %f32, %f64, %i64, %i32, %i8, %u8, %b\n"
        "}\n");
    for (int i = 0; i < 7; i++) {
        ir_value *v = ir_graph_find_value(g2, c[i]->name);
        cr_assert(v && v->data);
        cr_assert_eq(v->dtype, c[i]->dtype);
        cr_assert(ir_shape_equal(&v->shape, &c[i]->shape));
        cr_assert(memcmp(v->data, c[i]->data, ir_value_bytes(v)) == 0, "%s differs", v->name);
    }
    ir_free(text);
    ir_graph_free(g2);
    ir_graph_free(g);
}

/* xorshift64*, so the test sees the same values every run. */
static uint64_t next_random(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * UINT64_C(2685821657736338717);
}

/* Random bit patterns (NaN payloads, denormals, everything) survive. */
Test(lir, random_float_bits_roundtrip)
{
    ir_graph *g = tl_graph("fuzz");
    uint64_t seed = UINT64_C(0x9e3779b97f4a7c15);
    for (int k = 0; k < 200; k++) {
        uint32_t f[16];
        uint64_t d[16];
        for (int i = 0; i < 16; i++) {
            d[i] = next_random(&seed);
            f[i] = (uint32_t)(d[i] >> 32);
        }
        char name[16];
        snprintf(name, sizeof name, "f%d", k);
        ir_graph_add_output(g, tl_const(g, name, IR_DTYPE_F32, 1, (int64_t[]){16}, f));
        snprintf(name, sizeof name, "d%d", k);
        ir_graph_add_output(g, tl_const(g, name, IR_DTYPE_F64, 1, (int64_t[]){16}, d));
    }
    ir_graph *g2;
    char *text = roundtrip(g, &g2);
    cr_assert_null(strstr(text, "hex\""), "16-element constants print inline");
    for (int i = 0; i < g->n_values; i++)
        cr_assert(memcmp(g->values[i]->data, g2->values[i]->data, ir_value_bytes(g->values[i])) ==
                      0,
                  "%s differs", g->values[i]->name);
    ir_free(text);
    ir_graph_free(g2);
    ir_graph_free(g);
}

/* Above IR_PRINT_INLINE_MAX elements: exact hex bytes, or <elided>, which
 * parses back as zeros. */
Test(lir, large_constants_hex_and_elided)
{
    float w[IR_PRINT_INLINE_MAX + 1];
    for (int i = 0; i <= IR_PRINT_INLINE_MAX; i++)
        w[i] = (float)i - 0.5f;
    uint8_t odd_bool[2] = {2, 0};
    ir_graph *g = tl_graph("big");
    ir_value *cw = tl_const_f32(g, "w", 1, (int64_t[]){IR_PRINT_INLINE_MAX + 1}, w);
    ir_value *cb = tl_const(g, "b", IR_DTYPE_BOOL, 1, (int64_t[]){2}, odd_bool);
    ir_graph_add_output(g, cw);
    ir_graph_add_output(g, cb);
    ir_graph *g2;
    char *text = roundtrip(g, &g2);
    assert_contains(text, "%w: f32[17] = const hex\"000000bf0000003f0000c03f");
    assert_contains(text, "%b: bool[2] = const hex\"0200\"\n");
    cr_assert(memcmp(ir_graph_find_value(g2, "w")->data, w, sizeof w) == 0);
    cr_assert(memcmp(ir_graph_find_value(g2, "b")->data, odd_bool, 2) == 0);

    char *elided = print_str(g, true);
    assert_contains(elided, "%w: f32[17] = const <elided>\n");
    assert_contains(elided, "%b: bool[2] = const hex\"0200\"\n");
    ir_graph *g3 = parse_ok(elided);
    ir_value *z = ir_graph_find_value(g3, "w");
    cr_assert(z->data && z->shape.dims[0] == IR_PRINT_INLINE_MAX + 1);
    for (int i = 0; i <= IR_PRINT_INLINE_MAX; i++)
        cr_assert_eq(((float *)z->data)[i], 0.0f);
    char *again = print_str(g3, true);
    cr_assert_str_eq(again, elided, "elided output round-trips");
    ir_free(again);
    ir_free(elided);
    ir_free(text);
    ir_graph_free(g3);
    ir_graph_free(g2);
    ir_graph_free(g);
}

/* ir_print and ir_print_string agree; printing twice gives the same bytes. */
Test(lir, print_is_deterministic)
{
    const char *src = "graph @g(%x: f32[2,3]) {\n"
                      "  %w: f32[3] = const [1.0, 2.0, 3.0]\n"
                      "  %y: f32[2,3] = Add(%x, %w)\n"
                      "  %z: f32[2,3] = Relu(%y) @act\n"
                      "  return %z\n"
                      "}\n";
    ir_graph *g = parse_ok(src);
    char *a = print_str(g, false), *b = print_str(g, false);
    cr_assert_str_eq(a, src);
    cr_assert_str_eq(b, src);
    FILE *f = tmpfile();
    cr_assert(f);
    cr_assert_eq(ir_print(g, NULL, f), LOOM_STATUS_OK);
    rewind(f);
    char buf[512] = "";
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    cr_assert_str_eq(buf, src);
    ir_free(a);
    ir_free(b);
    ir_graph_free(g);
}

/* Comments and free layout are accepted; the output is canonical. */
Test(lir, parse_accepts_comments_and_layout)
{
    ir_graph *g = parse_ok("// leading comment\n"
                           "graph @g ( %x : f32 [ 2 ] ) { // header\n"
                           "  %y = Neg(%x)   %z\n"
                           "    = Abs ( %y )\n"
                           "  // between\n"
                           "  return %z // end\n"
                           "} // after\n");
    char *t = print_str(g, false);
    cr_assert_str_eq(t, "graph @g(%x: f32[2]) {\n"
                        "  %y: f32[2] = Neg(%x)\n"
                        "  %z: f32[2] = Abs(%y)\n"
                        "  return %z\n"
                        "}\n");
    ir_free(t);
    ir_graph_free(g);
}

/* ---- parse errors: exact text, caret under the column ---- */

Test(lir, error_unknown_op)
{
    parse_fails_with("graph @g(%x: f32[2]) {\n  %y = Relux(%x)\n  return %y\n}\n",
                     "t.lir:2:8: error: unknown op 'Relux'\n"
                     "  %y = Relux(%x)\n"
                     "       ^\n");
}

Test(lir, error_unknown_attribute)
{
    parse_fails_with("graph @g(%x: f32[2]) {\n  %y = Relu(%x) {alpha = 0.5}\n  return %y\n}\n",
                     "t.lir:2:18: error: unknown attribute 'alpha' for Relu\n"
                     "  %y = Relu(%x) {alpha = 0.5}\n"
                     "                 ^\n");
}

Test(lir, error_wrong_attribute_kind)
{
    parse_fails_with("graph @g(%x: f32[2]) {\n  %y = LeakyRelu(%x) {alpha = 1}\n  return %y\n}\n",
                     "t.lir:2:31: error: attribute 'alpha' of LeakyRelu must be float, got int\n"
                     "  %y = LeakyRelu(%x) {alpha = 1}\n"
                     "                              ^\n");
    parse_fails_with("graph @g(%x: f32[2]) {\n  %y = LeakyRelu(%x) {alpha = []}\n  return %y\n}\n",
                     "t.lir:2:31: error: attribute 'alpha' of LeakyRelu must be float, got ints\n"
                     "  %y = LeakyRelu(%x) {alpha = []}\n"
                     "                              ^\n");
}

Test(lir, error_undefined_value)
{
    parse_fails_with("graph @g(%x: f32[2]) {\n  %y = Relu(%z)\n  return %y\n}\n",
                     "t.lir:2:13: error: use of undefined value %z\n"
                     "  %y = Relu(%z)\n"
                     "            ^\n");
    /* a node cannot use its own result */
    parse_fails_with("graph @g(%x: f32[2]) {\n  %y = Relu(%y)\n  return %y\n}\n",
                     "t.lir:2:13: error: use of undefined value %y\n"
                     "  %y = Relu(%y)\n"
                     "            ^\n");
}

Test(lir, error_duplicate_definition)
{
    parse_fails_with("graph @g(%x: f32[2]) {\n  %y = Relu(%x)\n  %y = Neg(%x)\n  return %y\n}\n",
                     "t.lir:3:3: error: redefinition of %y (first defined on line 2)\n"
                     "  %y = Neg(%x)\n"
                     "  ^\n");
    parse_fails_with("graph @g(%\"a b\": f32[2], %\"a b\": f32[2]) {\n  return\n}\n",
                     "t.lir:1:26: error: redefinition of %\"a b\" (first defined on line 1)\n"
                     "graph @g(%\"a b\": f32[2], %\"a b\": f32[2]) {\n"
                     "                         ^\n");
}

Test(lir, error_bad_dtype)
{
    parse_fails_with("graph @g(%x: f8e4[2]) {\n  return %x\n}\n",
                     "t.lir:1:14: error: unknown dtype 'f8e4'\n"
                     "graph @g(%x: f8e4[2]) {\n"
                     "             ^\n");
}

Test(lir, error_malformed_numbers)
{
    parse_fails_with("graph @g() {\n  %w: f32[2] = const [1.5, 2.x]\n  return %w\n}\n",
                     "t.lir:2:28: error: malformed number '2.x'\n"
                     "  %w: f32[2] = const [1.5, 2.x]\n"
                     "                           ^\n");
    parse_fails_with("graph @g() {\n  %w: i8[1] = const [200]\n  return %w\n}\n",
                     "t.lir:2:22: error: 200 is out of range for i8\n"
                     "  %w: i8[1] = const [200]\n"
                     "                     ^\n");
    parse_fails_with("graph @g() {\n  %w: i64[1] = const [9223372036854775808]\n  return %w\n}\n",
                     "t.lir:2:23: error: integer '9223372036854775808' is out of range\n"
                     "  %w: i64[1] = const [9223372036854775808]\n"
                     "                      ^\n");
    parse_fails_with("graph @g() {\n  %w: f32[1] = const [1e39]\n  return %w\n}\n",
                     "t.lir:2:23: error: '1e39' is out of range for f32\n"
                     "  %w: f32[1] = const [1e39]\n"
                     "                      ^\n");
    parse_fails_with("graph @g() {\n  %w: f32[1] = const [nan(0x3f800000)]\n  return %w\n}\n",
                     "t.lir:2:27: error: nan(...) needs the hex bits of a f32 NaN\n"
                     "  %w: f32[1] = const [nan(0x3f800000)]\n"
                     "                          ^\n");
}

Test(lir, error_strings)
{
    parse_fails_with("graph @g(%x: f32[1,1,3,3]) {\n"
                     "  %y = AveragePool(%x) {auto_pad = \"SAME\n"
                     "  return %y\n}\n",
                     "t.lir:2:36: error: unterminated string\n"
                     "  %y = AveragePool(%x) {auto_pad = \"SAME\n"
                     "                                   ^\n");
    parse_fails_with("graph @g(%\"a\\q\": f32[1]) {\n  return\n}\n",
                     "t.lir:1:13: error: invalid escape sequence in string\n"
                     "graph @g(%\"a\\q\": f32[1]) {\n"
                     "            ^\n");
}

Test(lir, error_constant_payloads)
{
    parse_fails_with("graph @g() {\n  %w: f32[3] = const [1.0, 2.0]\n  return %w\n}\n",
                     "t.lir:2:22: error: constant has 2 elements, its type has 3\n"
                     "  %w: f32[3] = const [1.0, 2.0]\n"
                     "                     ^\n");
    parse_fails_with("graph @g() {\n  %w: u8[2] = const hex\"00zz\"\n  return %w\n}\n",
                     "t.lir:2:27: error: invalid hex digit 'z'\n"
                     "  %w: u8[2] = const hex\"00zz\"\n"
                     "                          ^\n");
    parse_fails_with("graph @g() {\n  %w: u8[2] = const hex\"00\"\n  return %w\n}\n",
                     "t.lir:2:21: error: hex data has 1 bytes, the type needs 2\n"
                     "  %w: u8[2] = const hex\"00\"\n"
                     "                    ^\n");
}

Test(lir, error_structure)
{
    parse_fails_with("graph @g() {\n}\n",
                     "t.lir:2:1: error: expected 'return' before the end of the graph\n"
                     "}\n"
                     "^\n");
    parse_fails_with("graph @g() {\n  return\n}\ngraph @h() {\n  return\n}\n",
                     "t.lir:4:1: error: expected end of input after the graph, got 'graph'\n"
                     "graph @h() {\n"
                     "^\n");
    parse_fails_with("graph @g(%x: f32[2]) {\n  %y = Add(%x)\n  return %y\n}\n",
                     "t.lir:2:8: error: Add takes 2 operands, got 1\n"
                     "  %y = Add(%x)\n"
                     "       ^\n");
    parse_fails_with("", "t.lir:1:1: error: expected 'graph', got end of input\n\n^\n");
}

/* Tabs in the source line are kept in the caret line so it lines up. */
Test(lir, error_caret_after_tab)
{
    parse_fails_with("graph @g(%x: f32[2]) {\n\t%y = Relux(%x)\n\treturn %y\n}\n",
                     "t.lir:2:7: error: unknown op 'Relux'\n"
                     "\t%y = Relux(%x)\n"
                     "\t     ^\n");
}

/* A piece of a larger file reports whole-file line numbers. */
Test(lir, error_line_offset)
{
    const char *text = "graph @g(%x: f32[2]) {\n  %y = Relux(%x)\n  return %y\n}\n";
    ir_diag d;
    ir_diag_init(&d);
    ir_graph *g = NULL;
    cr_assert_eq(ir_parse_at_line(text, strlen(text), "big.lir", 41, &g, &d),
                 LOOM_STATUS_INVALID_MODEL);
    cr_assert_null(g);
    cr_assert_str_eq(d.text, "big.lir:42:8: error: unknown op 'Relux'\n"
                             "  %y = Relux(%x)\n"
                             "       ^\n");
    ir_diag_free(&d);
}

/* Readable-but-wrong statements are all reported in one parse. */
Test(lir, error_several_at_once)
{
    ir_diag d = parse_fails("graph @g(%x: f32[2]) {\n"
                            "  %a = Relux(%x)\n"
                            "  %b = Relu(%nope) {alpha = 0.5}\n"
                            "  %a = Neg(%x)\n"
                            "  %c: f17[2] = Neg(%x)\n"
                            "  return %b, %missing\n"
                            "}\n");
    cr_assert_eq(d.n_errors, 6, "%s", d.text);
    assert_contains(d.text, "t.lir:2:8: error: unknown op 'Relux'\n");
    assert_contains(d.text, "t.lir:3:13: error: use of undefined value %nope\n");
    assert_contains(d.text, "t.lir:3:21: error: unknown attribute 'alpha' for Relu\n");
    assert_contains(d.text, "t.lir:4:3: error: redefinition of %a (first defined on line 2)\n");
    assert_contains(d.text, "t.lir:5:7: error: unknown dtype 'f17'\n");
    assert_contains(d.text, "t.lir:6:14: error: use of undefined value %missing\n");
    ir_diag_free(&d);
}

/* A written result type must equal the inferred one. */
Test(lir, error_written_type_differs)
{
    parse_fails_with("graph @g(%x: f32[2]) {\n  %y: f32[3] = Relu(%x)\n  return %y\n}\n",
                     "t.lir:2:3: error: type f32[3] is written, but shape inference gives f32[2]\n"
                     "  %y: f32[3] = Relu(%x)\n"
                     "  ^\n");
}

/* Shape inference errors use the node format. */
Test(lir, error_from_inference_uses_node_format)
{
    ir_diag d = parse_fails("graph @g(%x: f32[2], %w: f32[3]) {\n"
                            "  %y = Add(%x, %w) @\"my add\"\n"
                            "  return %y\n"
                            "}\n");
    cr_assert(strncmp(d.text, "t.lir: node \"my add\" (Add): ", 28) == 0, "%s", d.text);
    ir_diag_free(&d);
}

/* Every allocation point fails cleanly: NOMEM, no graph, no leak (ASan). */
Test(lir, parse_out_of_memory)
{
    const char *text = "graph @g(%x: f32[1,2,4,4], %w: f32[3,2,3,3]) {\n"
                       "  %b: f32[3] = const [0.5, 1.0, -1.0]\n"
                       "  %c = Conv(%x, %w, %b) {kernel_shape = [3, 3], pads = [1, 1, 1, 1]}\n"
                       "  %k = Constant() {value = tensor<i64[2]> [3, 16]}\n"
                       "  %r = Reshape(%c, %k)\n"
                       "  %s = Shape(%r)\n"
                       "  return %r, %s\n"
                       "}\n";
    bool succeeded = false;
    long nomem = 0;
    for (long k = 0; k < 2000 && !succeeded; k++) {
        ir_diag d;
        ir_diag_init(&d);
        ir_graph *g = (ir_graph *)1;
        ir_alloc_fail_after(k);
        loom_status st = ir_parse(text, strlen(text), "t.lir", &g, &d);
        ir_alloc_fail_after(-1);
        if (st == LOOM_STATUS_OK) {
            succeeded = true;
            cr_assert(g);
            ir_graph_free(g);
        } else {
            cr_assert_eq(st, LOOM_STATUS_NOMEM, "allocation %ld: %s: %s", k,
                         loom_status_name(st), d.text ? d.text : "");
            cr_assert_null(g);
            nomem++;
        }
        ir_diag_free(&d);
    }
    cr_assert(succeeded);
    cr_assert_gt(nomem, 2, "only %ld allocation failures were injected", nomem);
}

Test(lir, parse_file)
{
    char path[512];
    snprintf(path, sizeof path, "%s/test_lir_parse_file.lir", LOOM_TEST_TMP);
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fputs("graph @g(%x: f32[2]) {\n  %y = Relu(%x)\n  return %y\n}\n", f);
    fclose(f);
    ir_diag d;
    ir_diag_init(&d);
    ir_graph *g = NULL;
    cr_assert_eq(ir_parse_file(path, &g, &d), LOOM_STATUS_OK, "%s", d.text ? d.text : "");
    cr_assert_str_eq(g->source, path);
    cr_assert_eq(g->n_nodes, 1);
    ir_graph_free(g);
    remove(path);
    cr_assert_eq(ir_parse_file(path, &g, &d), LOOM_STATUS_IO);
    cr_assert_null(g);
    assert_contains(d.text, "error: cannot open: No such file or directory");
    ir_diag_free(&d);
}

/* Mutated text (bytes changed, dropped, duplicated, cut short) is either
 * a valid graph that round-trips, or rejected with a located message; it
 * never crashes (the ASan build runs this too). */
Test(lir, mutated_input_never_crashes)
{
    const char *base =
        "graph @m(%x: f32[1,2,4,4], %\"w 1\": f32[3,2,3,3]) {\n"
        "  %b: f32[3] = const [0.5, nan(0x7fc00001), -inf]\n"
        "  %h: u8[17] = const hex\"000102030405060708090a0b0c0d0e0f10\"\n"
        "  %c = Conv(%x, %\"w 1\", %b) {kernel_shape = [3, 3], pads = [1, 1, 1, 1]}\n"
        "  %k = Constant() {value = tensor<i64[2]> [3, 16]}\n"
        "  %r, _ = Dropout(%c, _, _) {ratio = 0.5} @\"drop\\01\"\n"
        "  %s = Reshape(%r, %k)\n"
        "  return %s, %h\n"
        "}\n";
    static const char alphabet[] = "%@\"\\[](){}<>,:=_-.0123456789abefxnt \n/";
    size_t n = strlen(base);
    char *buf = ir_malloc(2 * n + 2);
    cr_assert(buf);
    uint64_t seed = 12345;
    for (int iter = 0; iter < 3000; iter++) {
        memcpy(buf, base, n);
        size_t len = n;
        for (int m = 0; m <= iter % 3 && len > 0; m++) {
            size_t at = next_random(&seed) % len;
            switch (next_random(&seed) % 4) {
            case 0: buf[at] = alphabet[next_random(&seed) % (sizeof alphabet - 1)]; break;
            case 1: memmove(buf + at, buf + at + 1, len - at - 1); len--; break;
            case 2: memmove(buf + at + 1, buf + at, len - at); len++; break;
            default: len = at; break;
            }
        }
        ir_diag d;
        ir_diag_init(&d);
        ir_graph *g = NULL;
        loom_status st = ir_parse(buf, len, "t.lir", &g, &d);
        if (st == LOOM_STATUS_OK) {
            char *t = roundtrip(g, NULL);
            ir_free(t);
            ir_graph_free(g);
        } else {
            cr_assert_null(g);
            cr_assert(d.n_errors > 0 && d.text && strncmp(d.text, "t.lir", 5) == 0,
                      "iteration %d: status %s with diagnostics \"%s\"", iter,
                      loom_status_name(st), d.text ? d.text : "");
        }
        ir_diag_free(&d);
    }
    ir_free(buf);
}

/* ---- verifier ---- */

/* x -> Relu -> y -> Neg -> z, inferred, outputs marked. */
static ir_graph *small_graph(void)
{
    ir_graph *g = tl_graph("v");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 1, (int64_t[]){2});
    ir_node *r = tl_node(g, IR_OP_RELU, "y", 1, (ir_value *[]){x}, 1, "y");
    tl_node(g, IR_OP_NEG, "z", 1, (ir_value *[]){r->outputs[0]}, 1, "z");
    tl_infer_ok(g);
    return g;
}

Test(verify, accepts_a_good_graph)
{
    ir_graph *g = small_graph();
    ir_diag d;
    cr_assert_eq(verify(g, &d), LOOM_STATUS_OK, "%s", d.text ? d.text : "");
    cr_assert_eq(d.n_errors, 0);
    ir_diag_free(&d);
    ir_graph_free(g);
}

Test(verify, arity)
{
    ir_graph *g = small_graph();
    ir_value *x = g->inputs[0];
    tl_node(g, IR_OP_ADD, "a", 3, (ir_value *[]){x, x, x}, 1, "a");
    tl_node(g, IR_OP_CLIP, "c", 2, (ir_value *[]){NULL, x}, 1, "c");
    ir_diag d;
    cr_assert_eq(verify(g, &d), LOOM_STATUS_INVALID_MODEL);
    cr_assert_str_eq(d.text, "test.lir: node \"a\" (Add): has 3 inputs, expected 2\n"
                             "test.lir: node \"c\" (Clip): required input 0 is missing\n");
    ir_diag_free(&d);
    ir_graph_free(g);
}

Test(verify, attributes)
{
    ir_graph *g = small_graph();
    ir_node_set_float(g, g->nodes[0], "alpha", 0.5f);     /* Relu has no attributes */
    ir_node *n = tl_node(g, IR_OP_LEAKY_RELU, "l", 1, (ir_value *[]){g->inputs[0]}, 1, "l");
    ir_node_set_int(g, n, "alpha", 1);                    /* must be float */
    ir_diag d;
    cr_assert_eq(verify(g, &d), LOOM_STATUS_INVALID_MODEL);
    cr_assert_str_eq(d.text, "test.lir: node \"y\" (Relu): unknown attribute \"alpha\"\n"
                             "test.lir: node \"l\" (LeakyRelu): attribute \"alpha\" must be "
                             "float, not int\n");
    ir_diag_free(&d);
    ir_graph_free(g);
}

/* Nodes out of order, a cycle, and a value nobody defines. */
Test(verify, use_before_definition_and_cycles)
{
    ir_graph *g = tl_graph("v");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 1, (int64_t[]){2});
    ir_value *a = ir_graph_add_value(g, "a", IR_DTYPE_F32);
    ir_value *b = ir_graph_add_value(g, "b", IR_DTYPE_F32);
    ir_value *c = ir_graph_add_value(g, "c", IR_DTYPE_F32);
    ir_value *q = ir_graph_add_value(g, "q", IR_DTYPE_F32);
    for (int i = 1; i <= 3; i++) /* a, b, c as inference would have them */
        ir_value_set_shape(g->values[i], 1, (int64_t[]){2});
    ir_graph_add_node(g, IR_OP_NEG, "n1", (ir_value *[]){a}, 1, (ir_value *[]){b}, 1);
    ir_graph_add_node(g, IR_OP_RELU, "n2", (ir_value *[]){x}, 1, (ir_value *[]){a}, 1);
    ir_graph_add_node(g, IR_OP_ADD, "n3", (ir_value *[]){b, c}, 2, (ir_value *[]){c}, 1);
    ir_graph_add_node(g, IR_OP_ABS, "n4", (ir_value *[]){q}, 1, (ir_value *[]){NULL}, 1);
    ir_graph_add_output(g, c);
    ir_diag d;
    cr_assert_eq(verify(g, &d), LOOM_STATUS_INVALID_MODEL);
    cr_assert_str_eq(d.text,
                     "test.lir: node \"n1\" (Neg): input 0 \"a\" is used before node \"n2\" "
                     "defines it\n"
                     "test.lir: node \"n3\" (Add): input 1 \"c\" is used before node \"n3\" "
                     "defines it\n"
                     "test.lir: node \"n4\" (Abs): required output 0 is missing\n"
                     "test.lir: node \"n4\" (Abs): input 0 \"q\" is never defined\n");
    cr_assert_eq(d.n_errors, 4);
    ir_diag_free(&d);
    ir_graph_free(g);
}

Test(verify, single_definition)
{
    ir_graph *g = small_graph();
    ir_value *x = g->inputs[0], *y = g->nodes[0]->outputs[0];
    ir_graph_add_node(g, IR_OP_ABS, "again", (ir_value *[]){x}, 1, (ir_value *[]){y}, 1);
    ir_graph_add_node(g, IR_OP_ABS, "redef", (ir_value *[]){y}, 1, (ir_value *[]){x}, 1);
    ir_diag d;
    cr_assert_eq(verify(g, &d), LOOM_STATUS_INVALID_MODEL);
    cr_assert_str_eq(d.text,
                     "test.lir: graph input \"x\" is also the output of node \"redef\"\n"
                     "test.lir: node \"y\" (Relu): output 0 \"y\" records another producer\n"
                     "test.lir: node \"again\" (Abs): output 0 \"y\" is already defined\n"
                     "test.lir: node \"redef\" (Abs): output 0 \"x\" is already defined as a "
                     "graph input\n");
    ir_diag_free(&d);
    ir_graph_free(g);
}

Test(verify, graph_outputs_and_value_table)
{
    ir_graph *g = small_graph();
    ir_value *q = ir_graph_add_value(g, "q", IR_DTYPE_F32);
    ir_graph_add_output(g, q);
    g->values[1]->id = 7; /* y */
    g->values[2]->is_input = true; /* z */
    ir_diag d;
    cr_assert_eq(verify(g, &d), LOOM_STATUS_INVALID_MODEL);
    cr_assert_str_eq(d.text,
                     "test.lir: value \"y\" has id 7 but sits at index 1\n"
                     "test.lir: value \"z\" is flagged as an input but is not a graph input\n"
                     "test.lir: node \"y\" (Relu): output 0 \"y\" is not a value of the graph\n"
                     "test.lir: node \"z\" (Neg): input 0 \"y\" is not a value of the graph\n"
                     "test.lir: graph output \"q\" is never defined\n");
    ir_diag_free(&d);
    ir_graph_free(g);
}

/* Recorded shapes and dtypes are compared with a fresh inference, and the
 * recorded ones are left in place. */
Test(verify, shapes_match_inference)
{
    ir_graph *g = small_graph();
    ir_value *y = g->nodes[0]->outputs[0], *z = g->nodes[1]->outputs[0];
    ir_value_set_shape(y, 2, (int64_t[]){2, 1});
    z->dtype = IR_DTYPE_I64;
    ir_diag d;
    cr_assert_eq(verify(g, &d), LOOM_STATUS_INVALID_MODEL);
    cr_assert_str_eq(d.text,
                     "test.lir: node \"y\" (Relu): output 0 \"y\" is f32[2,1] but shape "
                     "inference gives f32[2]\n"
                     "test.lir: node \"z\" (Neg): output 0 \"z\" is i64[2] but shape "
                     "inference gives f32[2,1]\n");
    cr_assert_eq(y->shape.rank, 2, "recorded shape restored");
    cr_assert_eq(z->dtype, IR_DTYPE_I64, "recorded dtype restored");
    ir_diag_free(&d);
    ir_graph_free(g);
}

Test(verify, uninferred_graph)
{
    ir_graph *g = tl_graph("v");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 1, (int64_t[]){2});
    tl_node(g, IR_OP_RELU, "y", 1, (ir_value *[]){x}, 1, "y");
    ir_diag d;
    cr_assert_eq(verify(g, &d), LOOM_STATUS_INVALID_MODEL);
    cr_assert_str_eq(d.text, "test.lir: node \"y\" (Relu): output 0 \"y\" has no shape (shape "
                             "inference has not run)\n");
    cr_assert_not(g->values[1]->shape_known, "verification does not infer");
    ir_diag_free(&d);
    ir_graph_free(g);
}

/* Problems of different kinds in one graph are all reported. */
Test(verify, reports_every_problem)
{
    ir_graph *g = small_graph();
    ir_node_set_int(g, g->nodes[0], "bogus", 1);
    ir_value_set_shape(g->nodes[1]->outputs[0], 1, (int64_t[]){5});
    ir_graph_add_output(g, ir_graph_add_value(g, "ghost", IR_DTYPE_F32));
    ir_value *x = g->inputs[0];
    tl_node(g, IR_OP_MAT_MUL, "mm", 1, (ir_value *[]){x}, 1, "mm");
    ir_diag d;
    cr_assert_eq(verify(g, &d), LOOM_STATUS_INVALID_MODEL);
    cr_assert_eq(d.n_errors, 4, "%s", d.text);
    assert_contains(d.text, "node \"y\" (Relu): unknown attribute \"bogus\"\n");
    assert_contains(d.text, "node \"z\" (Neg): output 0 \"z\" is f32[5] but shape inference "
                            "gives f32[2]\n");
    assert_contains(d.text, "node \"mm\" (MatMul): has 1 inputs, expected 2 to 4\n");
    assert_contains(d.text, "graph output \"ghost\" is never defined\n");
    ir_diag_free(&d);
    ir_graph_free(g);
}

/* Shape and Constant outputs carry data; inference's data must agree. */
Test(verify, shape_op_data)
{
    ir_graph *g = parse_ok("graph @g(%x: f32[2,3]) {\n"
                           "  %s = Shape(%x)\n"
                           "  return %s\n"
                           "}\n");
    ir_value *s = g->nodes[0]->outputs[0];
    cr_assert(s->data);
    ir_diag d;
    cr_assert_eq(verify(g, &d), LOOM_STATUS_OK, "%s", d.text ? d.text : "");
    ir_diag_free(&d);
    ((int64_t *)s->data)[1] = 4;
    cr_assert_eq(verify(g, &d), LOOM_STATUS_INVALID_MODEL);
    cr_assert_str_eq(d.text, "t.lir: node \"s\" (Shape): output 0 \"s\" holds data that differs "
                             "from inference\n");
    ir_diag_free(&d);
    ir_graph_free(g);
}
