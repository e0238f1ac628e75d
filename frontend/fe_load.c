/*
 * fe_load_model: picks the reader by the file's extension (.json, .onnx,
 * .lir) so tools and the host API accept any supported model format.
 */
#include <string.h>
#include <strings.h>

#include "fe.h"
#include "ir_text.h"

/* True when path ends in ext (compared ignoring case). */
static bool has_ext(const char *path, const char *ext)
{
    size_t n = strlen(path), e = strlen(ext);
    return n > e && strcasecmp(path + n - e, ext) == 0;
}

loom_status fe_load_model(const char *path, const char *const *dims, ir_graph **out, ir_diag *d)
{
    *out = NULL;
    if (has_ext(path, ".onnx"))
        return fe_onnx_load(path, dims, out, d);
    if (dims && dims[0]) {
        ir_diag_errorf(d, "%s: dim pins apply to ONNX models only (%s has static shapes)", path,
                       has_ext(path, ".lir") ? ".lir" : "this format");
        return LOOM_STATUS_INVALID_ARG;
    }
    if (has_ext(path, ".json"))
        return fe_json_load(path, out, d);
    if (has_ext(path, ".lir"))
        return ir_parse_file(path, out, d);
    ir_diag_errorf(d, "%s: unknown model format (expected .json, .onnx or .lir)", path);
    return LOOM_STATUS_INVALID_ARG;
}
