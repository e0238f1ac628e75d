/*
 * The Keras weights store, read with libhdf5 (Debian's libhdf5-dev), and
 * the .keras zip, read with libzip.
 *
 * Keras 3 weights (.weights.h5, and model.weights.h5 inside a .keras):
 *   layers/<path>/vars            attribute "name" = the layer's name
 *   layers/<path>/vars/<i>        the i-th variable of the layer
 *   layers/<path>/<sub>/vars/<i>  a nested layer's (an LSTM's "cell")
 * <path> is derived from the class name, so layers are found by the name
 * attribute. Legacy whole-model .h5 (keras.saving.legacy):
 *   model_weights/<layer>         attribute "weight_names": paths, in order
 *   /                             attribute "model_config": the JSON config
 * HDF5's own error printing is switched off; every failure is reported
 * through the diagnostic with the file and the dataset path.
 */
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include <hdf5.h>

#include "fe_keras.h"

struct fk_weights {
    hid_t file;
    const char *path;
    bool legacy;
    /* Keras 3: layer name -> group path (both ir_malloc'd) */
    char **names, **groups;
    int n, cap;
};

/* Keeps (name, group) in w's map; false when out of memory. */
static bool map_add(fk_weights *w, const char *name, const char *group)
{
    if (w->n == w->cap) {
        int cap = w->cap ? 2 * w->cap : 16;
        char **a = ir_realloc(w->names, (size_t)cap * sizeof *a);
        if (a)
            w->names = a;
        char **b = a ? ir_realloc(w->groups, (size_t)cap * sizeof *b) : NULL;
        if (!b)
            return false;
        w->groups = b;
        w->cap = cap;
    }
    size_t ln = strlen(name) + 1, lg = strlen(group) + 1;
    char *n = ir_malloc(ln), *gp = ir_malloc(lg);
    if (!n || !gp) {
        ir_free(n);
        ir_free(gp);
        return false;
    }
    w->names[w->n] = memcpy(n, name, ln);
    w->groups[w->n++] = memcpy(gp, group, lg);
    return true;
}

/* A string attribute (variable or fixed length) of object obj, ir_malloc'd;
 * NULL when absent or not a string. */
static char *read_str_attr(hid_t obj, const char *name)
{
    if (H5Aexists(obj, name) <= 0)
        return NULL;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    hid_t t = a < 0 ? -1 : H5Aget_type(a);
    char *out = NULL;
    if (t >= 0 && H5Tget_class(t) == H5T_STRING) {
        if (H5Tis_variable_str(t) > 0) {
            char *s = NULL;
            hid_t mt = H5Tcopy(t);
            if (H5Aread(a, mt, &s) >= 0 && s) {
                size_t n = strlen(s) + 1;
                out = ir_malloc(n);
                if (out)
                    memcpy(out, s, n);
                H5free_memory(s);
            }
            H5Tclose(mt);
        } else {
            size_t n = H5Tget_size(t);
            out = ir_calloc(n + 1, 1);
            if (out && H5Aread(a, t, out) < 0) {
                ir_free(out);
                out = NULL;
            }
        }
    }
    if (t >= 0)
        H5Tclose(t);
    if (a >= 0)
        H5Aclose(a);
    return out;
}

typedef struct scan_state {
    fk_weights *w;
    bool nomem;
} scan_state;

/* H5Literate callback over layers/: maps the vars group's name attribute. */
static herr_t scan_layer(hid_t group, const char *child, const H5L_info_t *info, void *arg)
{
    (void)info;
    scan_state *s = arg;
    char path[1024];
    snprintf(path, sizeof path, "%s/vars", child);
    if (H5Lexists(group, child, H5P_DEFAULT) <= 0 || H5Lexists(group, path, H5P_DEFAULT) <= 0)
        return 0;
    hid_t vars = H5Gopen2(group, path, H5P_DEFAULT);
    if (vars < 0)
        return 0;
    char *name = read_str_attr(vars, "name");
    H5Gclose(vars);
    snprintf(path, sizeof path, "layers/%s", child);
    if (name && !map_add(s->w, name, path))
        s->nomem = true;
    ir_free(name);
    return s->nomem ? 1 : 0;
}

/* Builds the layer-name map of a Keras 3 weights file. */
static loom_status scan_layers(fk_weights *w, ir_diag *d)
{
    if (H5Lexists(w->file, "layers", H5P_DEFAULT) <= 0)
        return LOOM_STATUS_OK; /* a model without layers that hold weights */
    hid_t g = H5Gopen2(w->file, "layers", H5P_DEFAULT);
    if (g < 0) {
        ir_diag_errorf(d, "%s: \"layers\" is not an HDF5 group", w->path);
        return LOOM_STATUS_INVALID_MODEL;
    }
    scan_state s = {w, false};
    H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, NULL, scan_layer, &s);
    H5Gclose(g);
    if (s.nomem) {
        ir_diag_errorf(d, "%s: out of memory", w->path);
        return LOOM_STATUS_NOMEM;
    }
    return LOOM_STATUS_OK;
}

/* Opens the file, from memory when image is set (the core driver, under
 * a name no file has: HDF5 refuses an image named like an existing file). */
static hid_t open_file(const char *path, const void *image, size_t len)
{
    if (!image)
        return H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    hid_t f = -1;
    char name[1200];
    snprintf(name, sizeof name, "%s/model.weights.h5", path);
    if (fapl >= 0 && H5Pset_fapl_core(fapl, 1 << 20, 0) >= 0 &&
        H5Pset_file_image(fapl, (void *)image, len) >= 0)
        f = H5Fopen(name, H5F_ACC_RDONLY, fapl);
    if (fapl >= 0)
        H5Pclose(fapl);
    return f;
}

loom_status fk_weights_open(const char *path, const void *image, size_t len, fk_weights **out,
                            ir_diag *d)
{
    *out = NULL;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (!image && H5Fis_hdf5(path) <= 0) {
        FILE *f = fopen(path, "rb");
        if (f)
            fclose(f);
        ir_diag_errorf(d, "%s: %s", path, f ? "not an HDF5 file (or truncated)"
                                            : "cannot open the weights file");
        return f ? LOOM_STATUS_INVALID_MODEL : LOOM_STATUS_IO;
    }
    fk_weights *w = ir_calloc(1, sizeof *w);
    if (!w) {
        ir_diag_errorf(d, "%s: out of memory", path);
        return LOOM_STATUS_NOMEM;
    }
    w->path = path;
    w->file = open_file(path, image, len);
    if (w->file < 0) {
        ir_free(w);
        ir_diag_errorf(d, "%s: not a readable HDF5 file (truncated or corrupt)", path);
        return LOOM_STATUS_INVALID_MODEL;
    }
    w->legacy = H5Lexists(w->file, "model_weights", H5P_DEFAULT) > 0 ||
                H5Aexists(w->file, "model_config") > 0;
    loom_status st = w->legacy ? LOOM_STATUS_OK : scan_layers(w, d);
    if (st) {
        fk_weights_free(w);
        return st;
    }
    *out = w;
    return LOOM_STATUS_OK;
}

void fk_weights_free(fk_weights *w)
{
    if (!w)
        return;
    for (int i = 0; i < w->n; i++) {
        ir_free(w->names[i]);
        ir_free(w->groups[i]);
    }
    ir_free(w->names);
    ir_free(w->groups);
    if (w->file >= 0)
        H5Fclose(w->file);
    ir_free(w);
}

char *fk_weights_legacy_config(fk_weights *w, ir_diag *d)
{
    char *s = read_str_attr(w->file, "model_config");
    if (!s)
        ir_diag_errorf(d, "%s: no model_config attribute: an HDF5 file of weights only, not a "
                       "whole Keras model (give the model's .json or .keras)", w->path);
    return s;
}

/* The dataset path of weight (sub, index) of layer under Keras 3 naming,
 * or false with a diagnostic. */
static bool keras3_path(fk_ctx *c, const char *sub, int index, char *buf, size_t size)
{
    fk_weights *w = c->w;
    for (int i = 0; i < w->n; i++)
        if (strcmp(w->names[i], c->layer) == 0) {
            snprintf(buf, size, "%s/%s%s%s%svars/%d", w->groups[i], c->wprefix ? c->wprefix : "",
                     c->wprefix ? "/" : "", sub ? sub : "", sub ? "/" : "", index);
            return true;
        }
    fk_error(c, LOOM_STATUS_INVALID_MODEL, "%s has no weights for this layer (no vars group "
             "named \"%s\")", w->path, c->layer);
    return false;
}

/* The dataset path of the layer's next weight in a legacy .h5. */
static bool legacy_path(fk_ctx *c, int ordinal, char *buf, size_t size)
{
    fk_weights *w = c->w;
    char group[600];
    snprintf(group, sizeof group, "model_weights/%s", c->layer);
    hid_t g = H5Lexists(w->file, "model_weights", H5P_DEFAULT) > 0 &&
                      H5Lexists(w->file, group, H5P_DEFAULT) > 0
                  ? H5Gopen2(w->file, group, H5P_DEFAULT)
                  : -1;
    hid_t a = g >= 0 && H5Aexists(g, "weight_names") > 0 ? H5Aopen(g, "weight_names", H5P_DEFAULT)
                                                          : -1;
    hid_t sp = a >= 0 ? H5Aget_space(a) : -1;
    hssize_t n = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : 0;
    bool ok = false;
    if (ordinal < n) {
        char **names = ir_calloc((size_t)n, sizeof *names);
        hid_t t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, H5T_VARIABLE);
        if (names && H5Aread(a, t, names) >= 0) {
            snprintf(buf, size, "%s/%s", group, names[ordinal]);
            ok = true;
            H5Dvlen_reclaim(t, sp, H5P_DEFAULT, names);
        }
        H5Tclose(t);
        ir_free(names);
    }
    if (sp >= 0)
        H5Sclose(sp);
    if (a >= 0)
        H5Aclose(a);
    if (g >= 0)
        H5Gclose(g);
    if (!ok)
        fk_error(c, LOOM_STATUS_INVALID_MODEL, "%s: weight %d is missing (model_weights/%s "
                 "lists %lld)", w->path, ordinal, c->layer, (long long)n);
    return ok;
}

/* Reads dataset path as f32 of the expected shape into the graph arena. */
static float *read_dataset(fk_ctx *c, const char *path, int rank, const int64_t *dims)
{
    fk_weights *w = c->w;
    /* H5Lexists needs each parent to exist: check them one by one */
    bool exists = true;
    char part[1024];
    for (const char *p = strchr(path, '/'); exists; p = strchr(p + 1, '/')) {
        snprintf(part, sizeof part, "%.*s", p ? (int)(p - path) : (int)strlen(path), path);
        exists = H5Lexists(w->file, part, H5P_DEFAULT) > 0;
        if (!p)
            break;
    }
    hid_t ds = exists ? H5Dopen2(w->file, path, H5P_DEFAULT) : -1;
    if (ds < 0) {
        fk_error(c, LOOM_STATUS_INVALID_MODEL, "%s: weight %s is missing", w->path, path);
        return NULL;
    }
    hid_t sp = H5Dget_space(ds);
    int r = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    hsize_t hd[IR_MAX_RANK] = {0};
    bool same = r == rank && r <= IR_MAX_RANK && H5Sget_simple_extent_dims(sp, hd, NULL) == r;
    for (int i = 0; same && i < r; i++)
        same = (int64_t)hd[i] == dims[i];
    float *data = NULL;
    if (!same) {
        ir_shape want = {.rank = rank}, got = {.rank = r > 0 && r <= IR_MAX_RANK ? r : 0};
        if (rank > 0)
            memcpy(want.dims, dims, (size_t)rank * sizeof *dims);
        for (int i = 0; i < got.rank; i++)
            got.dims[i] = (int64_t)hd[i];
        char a[128], b[128];
        ir_shape_format(&want, a, sizeof a);
        ir_shape_format(&got, b, sizeof b);
        fk_error(c, LOOM_STATUS_INVALID_MODEL, "%s: weight %s has shape %s, the config implies %s",
                 w->path, path, b, a);
    } else {
        size_t n = 1;
        for (int i = 0; i < rank; i++)
            n *= (size_t)dims[i];
        data = ir_arena_array(&c->g->arena, n ? n : 1, sizeof *data);
        if (n && H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) {
            fk_error(c, LOOM_STATUS_INVALID_MODEL, "%s: cannot read weight %s as float32",
                     w->path, path);
            data = NULL;
        }
    }
    if (sp >= 0)
        H5Sclose(sp);
    H5Dclose(ds);
    return data;
}

float *fk_weight(fk_ctx *c, const char *sub, int index, int rank, const int64_t *dims)
{
    char path[1200];
    int ordinal = c->wnext++;
    bool ok = c->w->legacy ? legacy_path(c, ordinal, path, sizeof path)
                           : keras3_path(c, sub, index, path, sizeof path);
    return ok ? read_dataset(c, path, rank, dims) : NULL;
}

loom_status fk_zip_read(const char *path, const void *zip, size_t zip_len, const char *member,
                        char **data, size_t *len, ir_diag *d)
{
    *data = NULL;
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(zip, zip_len, 0, &ze);
    zip_t *z = src ? zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &ze) : NULL;
    if (!z) {
        ir_diag_errorf(d, "%s: not a readable .keras zip: %s", path, zip_error_strerror(&ze));
        zip_error_fini(&ze);
        zip_source_free(src);
        return LOOM_STATUS_INVALID_MODEL;
    }
    zip_error_fini(&ze);
    zip_stat_t st;
    zip_file_t *f = NULL;
    loom_status status = LOOM_STATUS_INVALID_MODEL;
    if (zip_stat(z, member, 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE)) {
        ir_diag_errorf(d, "%s: the .keras zip has no %s", path, member);
    } else if (!(*data = ir_malloc(st.size + 1))) {
        ir_diag_errorf(d, "%s: out of memory reading %s", path, member);
        status = LOOM_STATUS_NOMEM;
    } else if (!(f = zip_fopen(z, member, 0)) ||
               zip_fread(f, *data, st.size) != (zip_int64_t)st.size) {
        ir_diag_errorf(d, "%s: cannot read %s from the zip: %s", path, member,
                       f ? zip_file_strerror(f) : zip_strerror(z));
    } else {
        (*data)[st.size] = '\0';
        *len = st.size;
        status = LOOM_STATUS_OK;
    }
    if (f)
        zip_fclose(f);
    zip_discard(z);
    if (status) {
        ir_free(*data);
        *data = NULL;
    }
    return status;
}
