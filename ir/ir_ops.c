/*
 * The op table generated from IR_OPS, name lookup and attribute schemas.
 */
#include <string.h>

#include "ir.h"

const ir_op_info ir_op_table[IR_OP_COUNT] = {
#define IR_OP_INFO(e, name, mi, ma, mo, mao, fn, attrs) {name, mi, ma, mo, mao, attrs},
    IR_OPS(IR_OP_INFO)
#undef IR_OP_INFO
};

/* Every row of IR_OPS must be consistent: at least 0 inputs and outputs,
 * max -1 (variadic) or at least min. (The table's size cannot disagree
 * with the enum: both come from IR_OPS.) A row that breaks this stops the
 * build here. */
#define IR_OP_ARITY_OK(e, name, mi, ma, mo, mao, fn, attrs) \
    &&(mi) >= 0 && (mo) >= 0 && ((ma) == -1 || (ma) >= (mi)) && ((mao) == -1 || (mao) >= (mo))
_Static_assert(1 IR_OPS(IR_OP_ARITY_OK), "an IR_OPS row has inconsistent arities");
#undef IR_OP_ARITY_OK

const char *ir_op_name(ir_op op)
{
    return (unsigned)op < IR_OP_COUNT ? ir_op_table[op].name : "?";
}

ir_op ir_op_lookup(const char *name)
{
    for (int i = 0; i < IR_OP_COUNT; i++)
        if (strcmp(ir_op_table[i].name, name) == 0)
            return (ir_op)i;
    return IR_OP_COUNT;
}

/* Parses one schema kind code ("i", "is", ...). */
static bool attr_kind_code(const char *code, size_t len, ir_attr_kind *kind)
{
    static const struct { const char *code; ir_attr_kind kind; } codes[] = {
        {"i", IR_ATTR_INT},     {"f", IR_ATTR_FLOAT},   {"s", IR_ATTR_STRING},
        {"is", IR_ATTR_INTS},   {"fs", IR_ATTR_FLOATS}, {"ss", IR_ATTR_STRINGS},
        {"t", IR_ATTR_TENSOR},
    };
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (strlen(codes[i].code) == len && memcmp(codes[i].code, code, len) == 0) {
            *kind = codes[i].kind;
            return true;
        }
    return false;
}

bool ir_op_attr_kind(ir_op op, const char *name, ir_attr_kind *kind)
{
    if ((unsigned)op >= IR_OP_COUNT)
        return false;
    size_t nlen = strlen(name);
    const char *p = ir_op_table[op].attrs;
    while (*p) {
        while (*p == ' ')
            p++;
        const char *colon = strchr(p, ':');
        if (!colon)
            break;
        const char *end = colon + 1;
        while (*end && *end != ' ')
            end++;
        if ((size_t)(colon - p) == nlen && memcmp(p, name, nlen) == 0)
            return attr_kind_code(colon + 1, (size_t)(end - colon - 1), kind);
        p = end;
    }
    return false;
}

const char *ir_attr_kind_name(ir_attr_kind k)
{
    static const char *names[IR_ATTR_KIND_COUNT] = {"int",    "float",   "string", "ints",
                                                    "floats", "strings", "tensor"};
    return (unsigned)k < IR_ATTR_KIND_COUNT ? names[k] : "?";
}
