/*
 * The Keras reader: Keras 3 models in their three file forms, as the same
 * graph IR the other readers make (docs/keras.md).
 *   NAME.keras    a zip of config.json, metadata.json, model.weights.h5
 *   NAME.json     model.to_json(), weights from NAME.weights.h5 beside it
 *                 or the file given (--keras-weights)
 *   NAME.h5       the legacy whole model: model_config attribute + weights
 * Phases: read the config; list every layer class loom lacks in one error;
 * make the graph inputs (None batch = 1 unless pinned); convert the layers
 * in order (Sequential) or as their inputs become available (Functional,
 * where a shared layer is called once per inbound node); make the outputs
 * in Keras order (channels last); infer and verify. Node names are the
 * Keras layer names, so `loom inspect` shows where each node came from.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fe_keras.h"

#define MAX_CALLS 4096

/* One call of a layer (a Functional inbound node) and its outputs. */
typedef struct fk_call {
    const cJSON *layer; /* the layer's JSON */
    const cJSON *node;  /* its inbound node, NULL for Sequential/InputLayer */
    const char *name;
    int index;          /* which call of the layer */
    bool done;
    fk_tensor outs[FK_MAX_IO];
    int n_out;
} fk_call;

typedef struct fk_model {
    fk_ctx c;
    cJSON *root;
    const cJSON *config; /* root.config */
    fk_call *calls;
    int n_calls;
} fk_model;

/* ---- inputs ---- */

static bool has_ext(const char *path, const char *ext)
{
    size_t n = strlen(path), e = strlen(ext);
    return n > e && strcasecmp(path + n - e, ext) == 0;
}

/* The pin "key=..." among --dim values, or NULL. */
static const char *find_pin(const fk_ctx *c, const char *key)
{
    size_t n = strlen(key);
    for (int i = 0; c->dims && c->dims[i]; i++)
        if (strncmp(c->dims[i], key, n) == 0 && c->dims[i][n] == '=')
            return c->dims[i] + n + 1;
    return NULL;
}

/* ir_dtype of a Keras dtype name; COUNT when unsupported. */
static ir_dtype keras_dtype(const char *s)
{
    if (!s || !strcmp(s, "float32"))
        return IR_DTYPE_F32;
    if (!strcmp(s, "int32"))
        return IR_DTYPE_I32;
    if (!strcmp(s, "int64"))
        return IR_DTYPE_I64;
    return IR_DTYPE_COUNT;
}

/* Fills s from a batch_shape list: None batch = the batch pin or 1, other
 * None dims need the whole shape pinned (INPUT=d0,d1,...). */
static bool input_shape(fk_ctx *c, const char *name, const cJSON *bs, ir_shape *s)
{
    const char *whole = find_pin(c, name), *batch = find_pin(c, "batch");
    int r = cJSON_GetArraySize(bs);
    if (!cJSON_IsArray(bs) || r < 1 || r > IR_MAX_RANK) {
        fk_error(c, LOOM_STATUS_INVALID_MODEL, "batch_shape is not a list of 1 to %d dims",
                 IR_MAX_RANK);
        return false;
    }
    s->rank = r;
    int i = 0;
    for (const cJSON *e = bs->child; e; e = e->next, i++) {
        bool none = cJSON_IsNull(e);
        if (!none && (!cJSON_IsNumber(e) || e->valuedouble < 0)) {
            fk_error(c, LOOM_STATUS_INVALID_MODEL, "batch_shape has a bad dim");
            return false;
        }
        s->dims[i] = none ? (i == 0 ? (batch ? atoll(batch) : 1) : -1) : (int64_t)e->valuedouble;
    }
    if (whole) {
        int k = 0;
        for (const char *p = whole; *p && k < IR_MAX_RANK; k++) {
            char *end;
            long long v = strtoll(p, &end, 10);
            if (end == p || v < 0)
                break;
            s->dims[k] = v;
            p = *end == ',' ? end + 1 : end;
        }
        if (k != r) {
            fk_error(c, LOOM_STATUS_INVALID_ARG, "--input-shape %s=%s: the input has rank %d",
                     name, whole, r);
            return false;
        }
    }
    for (i = 0; i < r; i++)
        if (s->dims[i] < 1) {
            fk_error(c, LOOM_STATUS_INVALID_ARG, "dim %d is None: pin the shape with "
                     "--input-shape %s=D,D,...", i, name);
            return false;
        }
    return true;
}

/* Makes the graph input of an InputLayer config (batch_shape, dtype). */
static bool make_input(fk_ctx *c, const char *name, const cJSON *cfg, fk_tensor *out)
{
    const cJSON *bs = cJSON_GetObjectItemCaseSensitive(cfg, "batch_shape");
    if (!bs)
        bs = cJSON_GetObjectItemCaseSensitive(cfg, "batch_input_shape");
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(cfg, "dtype");
    ir_dtype t = keras_dtype(cJSON_IsString(dt) ? dt->valuestring : NULL);
    if (t == IR_DTYPE_COUNT) {
        fk_error(c, LOOM_STATUS_UNSUPPORTED, "input dtype %s is not supported (float32, int32, "
                 "int64)", dt->valuestring);
        return false;
    }
    ir_shape s;
    if (!bs) {
        fk_error(c, LOOM_STATUS_INVALID_MODEL, "no batch_shape: the input shape is unknown");
        return false;
    }
    if (!input_shape(c, name, bs, &s))
        return false;
    ir_value *v = ir_graph_add_value(c->g, name, t);
    if (!v) {
        fk_error(c, LOOM_STATUS_INVALID_MODEL, "two inputs named \"%s\"", name);
        return false;
    }
    ir_value_set_shape(v, s.rank, s.dims);
    ir_graph_add_input(c->g, v);
    *out = (fk_tensor){v, false};
    return true;
}

/* ---- layers ---- */

static const char *str_item(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Lists every layer whose class loom lacks, in one error. */
static bool check_classes(fk_ctx *c, const cJSON *layers)
{
    char list[2048] = "";
    size_t len = 0;
    int n = 0;
    for (const cJSON *l = layers ? layers->child : NULL; l; l = l->next) {
        const char *cls = str_item(l, "class_name");
        const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(l, "config");
        const char *name = str_item(cfg, "name");
        if (!cls || (strcmp(cls, "InputLayer") && !fk_layer_lookup(cls))) {
            int k = snprintf(list + len, sizeof list - len, "%s%s \"%s\"", n ? ", " : "",
                             cls ? cls : "(no class_name)", name ? name : "?");
            len = k > 0 && (size_t)k < sizeof list - len ? len + (size_t)k : len;
            n++;
        }
    }
    if (n)
        fk_error(c, LOOM_STATUS_UNSUPPORTED, "%d unsupported Keras layer%s: %s", n,
                 n > 1 ? "s" : "", list);
    return n == 0;
}

/* Converts one call of layer l (config cfg) on ins. */
static bool convert_call(fk_ctx *c, const cJSON *l, const fk_tensor *ins, int n_in,
                         fk_tensor *outs, int *n_out)
{
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(l, "config");
    c->cls = str_item(l, "class_name");
    c->layer = str_item(cfg, "name");
    if (!c->layer)
        c->layer = "?";
    c->cfg = cfg;
    c->wprefix = NULL;
    c->wnext = 0;
    fk_layer_fn fn = fk_layer_lookup(c->cls);
    *n_out = 1;
    for (int i = 0; i < n_in; i++)
        if (!ins[i].v)
            return false;
    bool ok = fn(c, ins, n_in, outs, n_out) && !c->status;
    for (int i = 0; ok && i < *n_out; i++)
        ok = outs[i].v != NULL;
    if (!ok && !c->status)
        fk_error(c, LOOM_STATUS_INVALID_MODEL, "the layer could not be converted");
    return ok;
}

/* The Sequential model's input: its InputLayer, the first layer's
 * batch_shape, or the model's build_input_shape. */
static bool sequential_input(fk_model *m, const cJSON *l, fk_tensor *t)
{
    fk_ctx *c = &m->c;
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(l, "config");
    bool is_input = !strcmp(str_item(l, "class_name"), "InputLayer");
    if (cJSON_GetObjectItemCaseSensitive(cfg, "batch_shape") ||
        cJSON_GetObjectItemCaseSensitive(cfg, "batch_input_shape"))
        return make_input(c, is_input ? c->layer : "input", cfg, t);
    const cJSON *bis = cJSON_GetObjectItemCaseSensitive(m->config, "build_input_shape");
    cJSON *tmp = cJSON_CreateObject();
    if (tmp && bis)
        cJSON_AddItemReferenceToObject(tmp, "batch_shape", (cJSON *)bis);
    bool ok = make_input(c, "input", tmp, t);
    cJSON_Delete(tmp);
    return ok;
}

/* Sequential: layers in order, one tensor flowing through. */
static bool build_sequential(fk_model *m, fk_tensor *out)
{
    fk_ctx *c = &m->c;
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(m->config, "layers");
    if (!check_classes(c, layers))
        return false;
    fk_tensor t = {0};
    bool have = false;
    for (const cJSON *l = layers->child; l; l = l->next) {
        const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(l, "config");
        const char *cls = str_item(l, "class_name");
        c->layer = str_item(cfg, "name");
        c->cls = cls;
        if (!have && !sequential_input(m, l, &t))
            return false;
        if (!have) {
            have = true;
            if (!strcmp(cls, "InputLayer"))
                continue;
        }
        fk_tensor o[FK_MAX_IO];
        int n_out;
        if (!convert_call(c, l, &t, 1, o, &n_out))
            return false;
        t = o[0];
    }
    if (!have) {
        fk_error(c, LOOM_STATUS_INVALID_MODEL, "the Sequential model has no layers");
        return false;
    }
    *out = t;
    return true;
}

/* ---- Functional ---- */

/* The call (layer name, node index), or NULL. */
static fk_call *find_call(fk_model *m, const char *name, int index)
{
    for (int i = 0; i < m->n_calls; i++)
        if (!strcmp(m->calls[i].name, name) && m->calls[i].index == index)
            return &m->calls[i];
    return NULL;
}

/* Resolves keras_history [layer, node, tensor] to a tensor; *ready false
 * when that call has not been converted yet. */
static bool history_tensor(fk_model *m, const cJSON *h, fk_tensor *t, bool *ready)
{
    const cJSON *l = cJSON_GetArrayItem(h, 0), *n = cJSON_GetArrayItem(h, 1),
                *k = cJSON_GetArrayItem(h, 2);
    if (!cJSON_IsString(l) || !cJSON_IsNumber(n) || !cJSON_IsNumber(k)) {
        fk_error(&m->c, LOOM_STATUS_INVALID_MODEL, "a malformed keras_history");
        return false;
    }
    fk_call *call = find_call(m, l->valuestring, (int)n->valuedouble);
    if (!call) {
        fk_error(&m->c, LOOM_STATUS_INVALID_MODEL, "a tensor of layer \"%s\" call %d, which the "
                 "model does not have", l->valuestring, (int)n->valuedouble);
        return false;
    }
    if (!call->done) {
        *ready = false;
        return true;
    }
    int idx = (int)k->valuedouble;
    if (idx < 0 || idx >= call->n_out) {
        fk_error(&m->c, LOOM_STATUS_INVALID_MODEL, "layer \"%s\" has no output %d",
                 l->valuestring, idx);
        return false;
    }
    *t = call->outs[idx];
    return true;
}

/* Collects the Keras tensors in an args/kwargs JSON tree, depth first. */
static bool collect(fk_model *m, const cJSON *v, fk_tensor *ts, int *n, bool *ready)
{
    if (cJSON_IsArray(v)) {
        for (const cJSON *e = v->child; e; e = e->next)
            if (!collect(m, e, ts, n, ready))
                return false;
        return true;
    }
    if (!cJSON_IsObject(v) || !str_item(v, "class_name") ||
        strcmp(str_item(v, "class_name"), "__keras_tensor__"))
        return true;
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(v, "config");
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(cfg, "keras_history");
    if (*n == FK_MAX_IO) {
        fk_error(&m->c, LOOM_STATUS_UNSUPPORTED, "more than %d input tensors", FK_MAX_IO);
        return false;
    }
    return history_tensor(m, h, &ts[*n], ready) && (++*n, true);
}

/* The tensor arguments of a call: args, then the kwargs query/value/key
 * (MultiHeadAttention, Attention); any other tensor kwarg is an error. */
static bool call_inputs(fk_model *m, fk_call *call, fk_tensor *ins, int *n, bool *ready)
{
    *n = 0;
    *ready = true;
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(call->node, "args");
    const cJSON *kw = cJSON_GetObjectItemCaseSensitive(call->node, "kwargs");
    if (!args && cJSON_IsArray(call->node))
        args = call->node; /* older form: [[layer, node, tensor, kwargs], ...] */
    if (!collect(m, args, ins, n, ready))
        return false;
    static const char *const known[] = {"query", "value", "key"};
    for (int k = 0; k < 3; k++)
        if (!collect(m, cJSON_GetObjectItemCaseSensitive(kw, known[k]), ins, n, ready))
            return false;
    for (const cJSON *e = kw ? kw->child : NULL; e; e = e->next) {
        int before = *n;
        bool named = !strcmp(e->string, "query") || !strcmp(e->string, "value") ||
                     !strcmp(e->string, "key");
        if (named)
            continue;
        if (!collect(m, e, ins, n, ready))
            return false;
        if (*n != before) {
            m->c.layer = call->name;
            m->c.cls = str_item(call->layer, "class_name");
            fk_error(&m->c, LOOM_STATUS_UNSUPPORTED, "the tensor argument %s= is not supported",
                     e->string);
            return false;
        }
    }
    return true;
}

/* Lists the calls: InputLayers have one, other layers one per inbound node. */
static bool list_calls(fk_model *m, const cJSON *layers)
{
    m->calls = ir_arena_array(&m->c.g->arena, MAX_CALLS, sizeof *m->calls);
    for (const cJSON *l = layers->child; l; l = l->next) {
        const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(l, "config");
        const char *name = str_item(l, "name") ? str_item(l, "name") : str_item(cfg, "name");
        const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(l, "inbound_nodes");
        int n = cJSON_GetArraySize(nodes);
        for (int k = 0; k < (n ? n : 1); k++) {
            if (m->n_calls == MAX_CALLS || !name) {
                fk_error(&m->c, LOOM_STATUS_INVALID_MODEL, !name ? "a layer without a name"
                         : "more than %d layer calls", MAX_CALLS);
                return false;
            }
            m->calls[m->n_calls++] = (fk_call){.layer = l, .name = name, .index = k,
                                               .node = n ? cJSON_GetArrayItem(nodes, k) : NULL};
        }
    }
    return true;
}

/* Converts call if its inputs are ready; *progress set when it was. */
static bool try_call(fk_model *m, fk_call *call, bool *progress)
{
    fk_ctx *c = &m->c;
    const char *cls = str_item(call->layer, "class_name");
    if (!strcmp(cls, "InputLayer")) {
        c->layer = call->name;
        c->cls = cls;
        const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(call->layer, "config");
        call->done = make_input(c, call->name, cfg, &call->outs[0]);
        call->n_out = 1;
        *progress = true;
        return call->done;
    }
    fk_tensor ins[FK_MAX_IO];
    int n;
    bool ready;
    c->layer = call->name;
    c->cls = cls;
    if (!call_inputs(m, call, ins, &n, &ready))
        return false;
    if (!ready)
        return true;
    *progress = true;
    call->done = convert_call(c, call->layer, ins, n, call->outs, &call->n_out);
    return call->done;
}

/* The model's input_layers / output_layers as a list of histories. */
static const cJSON *history_list(const cJSON *v)
{
    const cJSON *first = cJSON_GetArrayItem(v, 0);
    return cJSON_IsString(first) ? NULL : v; /* a lone history is handled by the caller */
}

/* Functional: converts calls as their inputs become ready; outs gets the
 * model outputs. */
static bool build_functional(fk_model *m, fk_tensor *outs, int *n_out)
{
    fk_ctx *c = &m->c;
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(m->config, "layers");
    if (!cJSON_IsArray(layers) || !check_classes(c, layers) || !list_calls(m, layers))
        return false;
    for (bool progress = true; progress;) {
        progress = false;
        for (int i = 0; i < m->n_calls; i++)
            if (!m->calls[i].done && !try_call(m, &m->calls[i], &progress))
                return false;
    }
    c->layer = NULL;
    for (int i = 0; i < m->n_calls; i++)
        if (!m->calls[i].done) {
            fk_error(c, LOOM_STATUS_INVALID_MODEL, "layer \"%s\" call %d never gets its inputs "
                     "(a cycle or a missing layer)", m->calls[i].name, m->calls[i].index);
            return false;
        }
    const cJSON *ol = cJSON_GetObjectItemCaseSensitive(m->config, "output_layers");
    const cJSON *list = history_list(ol);
    *n_out = 0;
    for (const cJSON *h = list ? list->child : ol; h; h = list ? h->next : NULL) {
        bool ready = true;
        if (*n_out == FK_MAX_IO) {
            fk_error(c, LOOM_STATUS_UNSUPPORTED, "more than %d outputs", FK_MAX_IO);
            return false;
        }
        if (!history_tensor(m, h, &outs[*n_out], &ready))
            return false;
        ++*n_out;
    }
    if (!*n_out)
        fk_error(c, LOOM_STATUS_INVALID_MODEL, "the model has no output_layers");
    return *n_out > 0;
}

/* ---- the model ---- */

/* Makes t a graph output named name (the Keras layer name). */
static void make_output(fk_ctx *c, fk_tensor t, const char *name)
{
    c->layer = name;
    c->cls = "output";
    ir_value *v = fk_keras_order(c, t);
    if (!v)
        return;
    if (strcmp(v->name, name) != 0 || v->is_input || v->is_output) {
        ir_value *y = ir_graph_new_value(c->g, name, v->dtype);
        ir_graph_add_node(c->g, IR_OP_IDENTITY, name, &v, 1, &y, 1);
        fk_infer(c, y);
        v = y;
    }
    ir_graph_add_output(c->g, v);
}

/* The name of output k: its producing layer's (from output_layers). */
static const char *output_name(const fk_model *m, int k)
{
    const cJSON *ol = cJSON_GetObjectItemCaseSensitive(m->config, "output_layers");
    const cJSON *h = history_list(ol) ? cJSON_GetArrayItem(ol, k) : ol;
    const cJSON *l = cJSON_GetArrayItem(h, 0);
    return cJSON_IsString(l) ? l->valuestring : "output";
}

/* The name of a Sequential model's last layer (its output's name). */
static const char *last_layer_name(const fk_model *m)
{
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(m->config, "layers");
    const cJSON *last = cJSON_GetArrayItem(layers, cJSON_GetArraySize(layers) - 1);
    return str_item(cJSON_GetObjectItemCaseSensitive(last, "config"), "name");
}

/* Errors for each pin that names neither the batch nor a graph input. */
static void check_pins(fk_ctx *c)
{
    c->layer = NULL;
    for (int i = 0; c->dims && c->dims[i]; i++) {
        const char *eq = strchr(c->dims[i], '=');
        size_t n = eq ? (size_t)(eq - c->dims[i]) : strlen(c->dims[i]);
        bool known = n == 5 && !strncmp(c->dims[i], "batch", 5);
        for (int k = 0; !known && k < c->g->n_inputs; k++)
            known = strlen(c->g->inputs[k]->name) == n &&
                    !strncmp(c->g->inputs[k]->name, c->dims[i], n);
        if (!known)
            fk_error(c, LOOM_STATUS_INVALID_ARG, "pin \"%s\" names no input (Keras models take "
                     "batch=N and INPUT=d0,d1,...)", c->dims[i]);
    }
}

/* Builds the graph from the parsed config. */
static __attribute__((noinline)) loom_status build(fk_model *m)
{
    fk_ctx *c = &m->c;
    const char *cls = str_item(m->root, "class_name");
    m->config = cJSON_GetObjectItemCaseSensitive(m->root, "config");
    fk_tensor outs[FK_MAX_IO];
    int n_out = 1;
    bool ok;
    if (cls && !strcmp(cls, "Sequential"))
        ok = build_sequential(m, &outs[0]);
    else if (cls && (!strcmp(cls, "Functional") || !strcmp(cls, "Model")))
        ok = build_functional(m, outs, &n_out);
    else {
        fk_error(c, LOOM_STATUS_UNSUPPORTED, "model class \"%s\" is not supported (Sequential, "
                 "Functional)", cls ? cls : "(none)");
        ok = false;
    }
    for (int i = 0; ok && i < n_out; i++) {
        const char *name = cls && !strcmp(cls, "Sequential") ? last_layer_name(m)
                                                             : output_name(m, i);
        make_output(c, outs[i], name ? name : "output");
    }
    if (ok)
        check_pins(c);
    if (c->status)
        return c->status;
    if (!ok)
        return LOOM_STATUS_INVALID_MODEL;
    c->layer = NULL;
    return ir_verify(c->g, c->d);
}

/* Parses the config text; builds the graph with weights w. */
static loom_status load_config(const char *path, const char *text, size_t len, fk_weights *w,
                               const char *const *dims, ir_graph **out, ir_diag *d)
{
    cJSON *root = cJSON_ParseWithLength(text, len);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        ir_diag_errorf(d, "%s: the Keras model config is not valid JSON", path);
        return LOOM_STATUS_INVALID_MODEL;
    }
    ir_graph *g = ir_graph_new(str_item(cJSON_GetObjectItemCaseSensitive(root, "config"), "name")
                                   ? str_item(cJSON_GetObjectItemCaseSensitive(root, "config"),
                                              "name")
                                   : "keras",
                               path);
    if (!g) {
        cJSON_Delete(root);
        ir_diag_errorf(d, "%s: out of memory", path);
        return LOOM_STATUS_NOMEM;
    }
    fk_model m = {.c = {.g = g, .d = d, .path = path, .w = w, .dims = dims}, .root = root};
    loom_status st;
    jmp_buf jb;
    if (IR_TRY(&g->arena, jb)) {
        st = build(&m);
    } else {
        ir_diag_errorf(d, "%s: out of memory", path);
        st = LOOM_STATUS_NOMEM;
    }
    g->arena.oom = NULL;
    cJSON_Delete(root);
    if (st) {
        ir_graph_free(g);
        return st;
    }
    *out = g;
    return LOOM_STATUS_OK;
}

/* Reads a whole file into ir_malloc'd memory (NUL-terminated). */
static loom_status read_file(const char *path, char **data, size_t *len, ir_diag *d)
{
    FILE *f = fopen(path, "rb");
    *data = NULL;
    if (!f) {
        ir_diag_errorf(d, "%s: cannot open", path);
        return LOOM_STATUS_IO;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    *data = n >= 0 ? ir_malloc((size_t)n + 1) : NULL;
    bool ok = *data && fread(*data, 1, (size_t)n, f) == (size_t)n;
    fclose(f);
    if (!*data && n >= 0) {
        ir_diag_errorf(d, "%s: out of memory reading the file", path);
        return LOOM_STATUS_NOMEM;
    }
    if (!ok) {
        ir_free(*data);
        *data = NULL;
        ir_diag_errorf(d, "%s: cannot read", path);
        return LOOM_STATUS_IO;
    }
    (*data)[n] = '\0';
    *len = (size_t)n;
    return LOOM_STATUS_OK;
}

bool fe_keras_is_json(const char *text, size_t len)
{
    cJSON *root = cJSON_ParseWithLength(text, len);
    bool yes = root && str_item(root, "class_name") &&
               cJSON_GetObjectItemCaseSensitive(root, "config") &&
               !cJSON_GetObjectItemCaseSensitive(root, "format");
    cJSON_Delete(root);
    return yes;
}

/* NAME.json -> NAME.weights.h5 (ir_malloc'd). */
static char *sibling_weights(const char *path)
{
    size_t n = strlen(path) - 5;
    char *s = ir_malloc(n + sizeof ".weights.h5");
    if (s) {
        memcpy(s, path, n);
        memcpy(s + n, ".weights.h5", sizeof ".weights.h5");
    }
    return s;
}

/* .json + weights */
static loom_status load_json(const char *path, const char *weights, const char *const *dims,
                             ir_graph **out, ir_diag *d)
{
    char *text, *sib = weights ? NULL : sibling_weights(path);
    size_t len;
    loom_status st = read_file(path, &text, &len, d);
    fk_weights *w = NULL;
    if (!st && !weights && !sib)
        st = LOOM_STATUS_NOMEM;
    if (!st) {
        FILE *f = fopen(weights ? weights : sib, "rb");
        if (!f) {
            ir_diag_errorf(d, "%s: the weights file %s is missing (give it with "
                           "--keras-weights FILE)", path, weights ? weights : sib);
            st = LOOM_STATUS_IO;
        } else {
            fclose(f);
            st = fk_weights_open(weights ? weights : sib, NULL, 0, &w, d);
        }
    }
    if (!st)
        st = load_config(path, text, len, w, dims, out, d);
    fk_weights_free(w);
    ir_free(text);
    ir_free(sib);
    return st;
}

/* .keras zip, read whole and opened from memory */
static loom_status load_zip(const char *path, const char *const *dims, ir_graph **out,
                            ir_diag *d)
{
    char *zip = NULL, *text = NULL, *h5 = NULL;
    size_t zlen, len, h5len;
    fk_weights *w = NULL;
    loom_status st = read_file(path, &zip, &zlen, d);
    if (!st)
        st = fk_zip_read(path, zip, zlen, "config.json", &text, &len, d);
    if (!st)
        st = fk_zip_read(path, zip, zlen, "model.weights.h5", &h5, &h5len, d);
    ir_free(zip);
    if (!st)
        st = fk_weights_open(path, h5, h5len, &w, d);
    if (!st)
        st = load_config(path, text, len, w, dims, out, d);
    fk_weights_free(w);
    ir_free(text);
    ir_free(h5);
    return st;
}

/* legacy whole-model .h5 */
static loom_status load_h5(const char *path, const char *const *dims, ir_graph **out,
                           ir_diag *d)
{
    fk_weights *w;
    loom_status st = fk_weights_open(path, NULL, 0, &w, d);
    if (st)
        return st;
    char *text = fk_weights_legacy_config(w, d);
    st = text ? load_config(path, text, strlen(text), w, dims, out, d)
              : LOOM_STATUS_INVALID_MODEL;
    ir_free(text);
    fk_weights_free(w);
    return st;
}

loom_status fe_keras_load(const char *path, const char *weights, const char *const *dims,
                          ir_graph **out, ir_diag *d)
{
    *out = NULL;
    if (has_ext(path, ".keras"))
        return load_zip(path, dims, out, d);
    if (has_ext(path, ".h5"))
        return load_h5(path, dims, out, d);
    return load_json(path, weights, dims, out, d);
}
