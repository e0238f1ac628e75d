/*
 * GELU fusion: the decomposed GELU that exporters write becomes one
 * Gelu-20 node (ONNX Gelu, opset 20), lowered as one elementwise loop.
 *   exact  0.5 x (1 + erf(x / sqrt 2))                 approximate "none"
 *   tanh   0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))  approximate "tanh"
 * The argument of Erf is Div(x, sqrt 2) or Mul(x, 1/sqrt 2); that of Tanh
 * is Mul(Add(x, Mul(x^3, 0.044715)), sqrt(2/pi)) with x^3 as Pow(x, 3) or
 * Mul(x, Mul(x, x)). After Add(., 1) the product with x and 0.5 is matched
 * in the three orders torch writes: ((. * x) * 0.5), (. * (x * 0.5)) and
 * ((. * 0.5) * x). Operands commute; constants are f32 or f64 scalars
 * within 1e-5 of their value. Every intermediate must be read only by the
 * next node of the pattern (nothing else would see its value otherwise),
 * and x must be f32.
 */
#include <math.h>
#include <stdio.h>

#include "ir_infer.h"
#include "pass_match.h"
#include "passes.h"

#define GELU_TOL 1e-5
#define SQRT_2_OVER_PI 0.7978845608028654 /* sqrt(2 / pi) */
#define GELU_MAX_CHAIN 12

typedef struct gelu_chain {
    ir_node *nodes[GELU_MAX_CHAIN];
    int n;
} gelu_chain;

static void chain_push(gelu_chain *c, ir_node *n)
{
    c->nodes[c->n++] = n;
}

/* n's output is read only by the node `by`. */
static bool only_read_by(const ir_graph *g, const ir_node *n, const ir_node *by)
{
    return n && ir_value_single_user(g, n->outputs[0]) == by;
}

/* The x of Erf's argument x / sqrt 2 (or x * 1/sqrt 2), pushed onto c. */
static ir_value *erf_head(const ir_graph *g, ir_node *erf, gelu_chain *c)
{
    ir_node *d = erf->inputs[0]->producer;
    if (!only_read_by(g, d, erf) || d->n_inputs != 2)
        return NULL;
    bool div = d->op == IR_OP_DIV && pass_const_near(d->inputs[1], sqrt(2.0), GELU_TOL);
    ir_value *x = NULL;
    if (div)
        x = d->inputs[0];
    else if (d->op == IR_OP_MUL && pass_const_near(d->inputs[1], sqrt(0.5), GELU_TOL))
        x = d->inputs[0];
    else if (d->op == IR_OP_MUL && pass_const_near(d->inputs[0], sqrt(0.5), GELU_TOL))
        x = d->inputs[1];
    if (x)
        chain_push(c, d);
    return x;
}

/* x^3 computed from x by cube (Pow(x, 3) or Mul(x, Mul(x, x))), pushed. */
static bool cube_of(const ir_graph *g, ir_node *cube, const ir_value *x, gelu_chain *c)
{
    if (!cube)
        return false;
    if (cube->op == IR_OP_POW && cube->inputs[0] == x && pass_const_near(cube->inputs[1], 3, 0)) {
        chain_push(c, cube);
        return true;
    }
    ir_value *sq = pass_other_operand(cube, IR_OP_MUL, x);
    ir_node *sqn = sq ? sq->producer : NULL;
    if (!sqn || sqn->op != IR_OP_MUL || sqn->inputs[0] != x || sqn->inputs[1] != x ||
        !only_read_by(g, sqn, cube))
        return false;
    chain_push(c, sqn);
    chain_push(c, cube);
    return true;
}

/* The x of Tanh's argument sqrt(2/pi) (x + 0.044715 x^3), pushed onto c. */
static ir_value *tanh_head(const ir_graph *g, ir_node *t, gelu_chain *c)
{
    ir_node *k = t->inputs[0]->producer;
    if (!only_read_by(g, k, t) || k->op != IR_OP_MUL)
        return NULL;
    int ci = pass_const_near(k->inputs[1], SQRT_2_OVER_PI, GELU_TOL) ? 1 : 0;
    if (!pass_const_near(k->inputs[ci], SQRT_2_OVER_PI, GELU_TOL))
        return NULL;
    ir_node *s = k->inputs[1 - ci]->producer;
    if (!only_read_by(g, s, k) || s->op != IR_OP_ADD)
        return NULL;
    for (int side = 0; side < 2; side++) {
        ir_value *x = s->inputs[side];
        ir_node *q = s->inputs[1 - side]->producer;
        ir_value *cube = NULL;
        if (pass_const_near(pass_other_operand(q, IR_OP_MUL, q ? q->inputs[0] : NULL), 0.044715,
                            GELU_TOL))
            cube = q->inputs[0];
        else if (q && q->op == IR_OP_MUL && pass_const_near(q->inputs[0], 0.044715, GELU_TOL))
            cube = q->inputs[1];
        int mark = c->n;
        if (cube && only_read_by(g, q, s) && cube_of(g, cube->producer, x, c) &&
            only_read_by(g, cube->producer, q)) {
            chain_push(c, q);
            chain_push(c, s);
            chain_push(c, k);
            return x;
        }
        c->n = mark;
    }
    return NULL;
}

/* Mul(a, b) with one operand v: the other one when it is the constant
 * 0.5 (want_half) or x (otherwise). */
static bool mul_by(const ir_node *m, const ir_value *v, const ir_value *x, bool want_half)
{
    ir_value *o = pass_other_operand(m, IR_OP_MUL, v);
    return want_half ? pass_const_near(o, 0.5, GELU_TOL) : o == x;
}

/* After core (Erf or Tanh): Add(., 1), then the product with x and 0.5;
 * pushes the nodes and returns true when they match. */
static bool gelu_tail(const ir_graph *g, ir_node *core, const ir_value *x, gelu_chain *c)
{
    ir_node *a = pass_single_user(g, core, IR_OP_ADD);
    if (!a || !pass_const_near(pass_other_operand(a, IR_OP_ADD, core->outputs[0]), 1, GELU_TOL))
        return false;
    chain_push(c, a);
    ir_node *m1 = pass_single_user(g, a, IR_OP_MUL);
    if (!m1)
        return false;
    ir_value *o = pass_other_operand(m1, IR_OP_MUL, a->outputs[0]);
    ir_node *h = o ? o->producer : NULL;
    if (h && h->op == IR_OP_MUL && mul_by(h, x, x, true) && only_read_by(g, h, m1)) {
        chain_push(c, h); /* a * (x * 0.5) */
        chain_push(c, m1);
        return true;
    }
    bool half_first = pass_const_near(o, 0.5, GELU_TOL);
    if (!half_first && o != x)
        return false;
    ir_node *m2 = pass_single_user(g, m1, IR_OP_MUL);
    if (!mul_by(m2, m1->outputs[0], x, !half_first))
        return false;
    chain_push(c, m1);
    chain_push(c, m2);
    return true;
}

/* Sorts the chain into execution order (ids are the node positions). */
static void chain_sort(gelu_chain *c)
{
    for (int i = 1; i < c->n; i++)
        for (int j = i; j > 0 && c->nodes[j - 1]->id > c->nodes[j]->id; j--) {
            ir_node *t = c->nodes[j];
            c->nodes[j] = c->nodes[j - 1];
            c->nodes[j - 1] = t;
        }
}

/* Fuses the GELU around core (an Erf or Tanh node); true if it did. */
static bool fuse_at(ir_graph *g, ir_node *core, ir_diag *d, loom_status *st)
{
    gelu_chain c = {.n = 0};
    bool tanh_form = core->op == IR_OP_TANH;
    ir_value *x = tanh_form ? tanh_head(g, core, &c) : erf_head(g, core, &c);
    if (!x || x->dtype != IR_DTYPE_F32)
        return false;
    chain_push(&c, core);
    if (!gelu_tail(g, core, x, &c))
        return false;
    chain_sort(&c);
    ir_node *n = pass_replace_chain(g, c.nodes, c.n, IR_OP_GELU, &x, 1);
    if (tanh_form)
        ir_node_set_string(g, n, "approximate", "tanh");
    *st = ir_infer_node(g, n, d);
    return true;
}

loom_status pass_fuse_gelu(ir_graph *g, ir_diag *d)
{
    return pass_fuse_each(g, IR_OP_ERF, IR_OP_TANH, fuse_at, d);
}
