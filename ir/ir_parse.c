/*
 * The .lir parser (grammar in docs/ir.md): a hand-written lexer and a
 * recursive-descent parser that builds the graph through the ir.h API, then
 * runs shape inference and the verifier.
 *
 * Errors carry `file:line:col: error: message`, the source line and a caret
 * under the column. Syntax errors stop the parse (longjmp to parse_guarded);
 * errors that leave the text well-formed (unknown op, unknown attribute,
 * wrong attribute kind, undefined value, redefinition, unknown dtype, wrong
 * arity) are recorded and parsing goes on, so one run reports all of them.
 * Arena exhaustion longjmps to the same place and becomes LOOM_STATUS_NOMEM.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir_text.h"
#include "loomrt.h"

typedef enum tok_kind {
    TK_EOF,
    TK_IDENT,  /* graph, const, Conv, f32, inf, ... */
    TK_VALUE,  /* %name or %"name" */
    TK_SYMBOL, /* @name or @"name" */
    TK_INT,    /* 12, -3, 0x7fc00001 */
    TK_FLOAT,  /* 1.0, -2.5e-3 */
    TK_STRING, /* "text" */
    TK_HEX,    /* hex"00ff" */
    TK_PUNCT   /* ( ) { } [ ] , : = < > - */
} tok_kind;

/* A place in the source, for diagnostics. */
typedef struct loc {
    const char *at;
    const char *line_start;
    int line; /* line number in the whole file */
} loc;

typedef struct token {
    tok_kind kind;
    loc where;
    const char *start; /* the whole token */
    size_t len;
    const char *body;  /* name of VALUE/SYMBOL, inside of quotes for STRING/HEX */
    size_t blen;
    bool quoted;       /* VALUE/SYMBOL: body is a string literal with escapes */
    bool hex;          /* INT written as 0x... */
} token;

/* A node output type written in the text, checked after inference. */
typedef struct decl {
    ir_value *v;
    ir_dtype dtype;
    ir_shape shape;
    loc where;
} decl;

typedef struct parser {
    const char *end;
    const char *filename;
    const char *pos, *line_start; /* lexer position */
    int line;
    token tok;                    /* current token */
    ir_graph *g;
    ir_diag *d;
    int n_errors;
    jmp_buf jb;                   /* syntax errors (2) and arena exhaustion (1) */
    int *def_line;                /* per value id: line of its definition */
    int def_cap;
    decl *decls;
    int n_decls, cap_decls;
} parser;

/* ---- diagnostics ---- */

/* Records `file:line:col: error: msg`, the source line and a caret. */
static void report(parser *p, loc w, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    const char *eol = w.line_start;
    while (eol < p->end && *eol != '\n')
        eol++;
    if (eol > w.line_start && eol[-1] == '\r')
        eol--;
    const char *at = w.at < eol ? w.at : eol;
    /* show at most 80 bytes either side of the column */
    const char *from = at - w.line_start > 80 ? at - 80 : w.line_start;
    const char *to = eol - at > 80 ? at + 80 : eol;
    char caret[96];
    size_t k = 0;
    for (const char *c = from; c < at && k + 2 < sizeof caret; c++)
        caret[k++] = *c == '\t' ? '\t' : ' ';
    caret[k++] = '^';
    caret[k] = '\0';
    ir_diag_errorf(p->d, "%s:%d:%d: error: %s\n%.*s\n%s", p->filename, w.line,
                   (int)(w.at - w.line_start) + 1, msg, (int)(to - from), from, caret);
    p->n_errors++;
}

static void error_at(parser *p, loc w, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static _Noreturn void fatal_at(parser *p, loc w, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A recoverable error: recorded, parsing continues. */
static void error_at(parser *p, loc w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(p, w, fmt, ap);
    va_end(ap);
}

/* A syntax error: recorded, parsing stops. */
static _Noreturn void fatal_at(parser *p, loc w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(p, w, fmt, ap);
    va_end(ap);
    longjmp(p->jb, 2);
}

/* Quoted token text for "expected X, got Y" messages. */
static const char *describe(const token *t, char *buf, size_t size)
{
    if (t->kind == TK_EOF)
        return "end of input";
    int n = t->len > 24 ? 24 : (int)t->len;
    snprintf(buf, size, "'%.*s%s'", n, t->start, t->len > 24 ? "..." : "");
    return buf;
}

/* ---- lexer ---- */

static bool is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '.';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static loc here(const parser *p, const char *at)
{
    return (loc){at, p->line_start, p->line};
}

/* Skips blanks, newlines and // comments. */
static void skip_space(parser *p)
{
    while (p->pos < p->end) {
        char c = *p->pos;
        if (c == '\n') {
            p->pos++;
            p->line++;
            p->line_start = p->pos;
        } else if (c == ' ' || c == '\t' || c == '\r') {
            p->pos++;
        } else if (c == '/' && p->pos + 1 < p->end && p->pos[1] == '/') {
            while (p->pos < p->end && *p->pos != '\n')
                p->pos++;
        } else {
            return;
        }
    }
}

/* Scans a string literal starting at the opening quote; validates escapes
 * and sets body/blen to the text between the quotes. */
static void lex_string(parser *p, const char *open, token *t)
{
    const char *c = open + 1;
    for (;;) {
        if (c >= p->end || *c == '\n')
            fatal_at(p, here(p, open), "unterminated string");
        if (*c == '"')
            break;
        if (*c == '\0')
            fatal_at(p, here(p, c), "a string cannot contain a NUL character");
        if (*c == '\\') {
            if (c + 1 < p->end && (c[1] == '\\' || c[1] == '"' || c[1] == 'n' || c[1] == 't')) {
                c += 2;
                continue;
            }
            if (c + 2 < p->end && hex_value(c[1]) >= 0 && hex_value(c[2]) >= 0) {
                if (c[1] == '0' && c[2] == '0')
                    fatal_at(p, here(p, c), "a string cannot contain a NUL character");
                c += 3;
                continue;
            }
            fatal_at(p, here(p, c), "invalid escape sequence in string");
        }
        c++;
    }
    t->body = open + 1;
    t->blen = (size_t)(c - open - 1);
    p->pos = c + 1;
}

/* Checks the text of a number token and sets its kind. */
static void classify_number(parser *p, token *t)
{
    const char *s = t->start, *e = t->start + t->len;
    if (*s == '-' || *s == '+')
        s++;
    if (e - s > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        const char *h = s + 2;
        while (h < e && hex_value(*h) >= 0)
            h++;
        t->kind = TK_INT;
        t->hex = true;
        if (h == e && s == t->start)
            return;
        fatal_at(p, t->where, "malformed number '%.*s'", (int)t->len, t->start);
    }
    const char *c = s;
    while (c < e && is_digit(*c))
        c++;
    bool is_float = false;
    if (c < e && *c == '.') {
        is_float = true;
        for (c++; c < e && is_digit(*c); c++)
            ;
    }
    if (c < e && (*c == 'e' || *c == 'E')) {
        is_float = true;
        c++;
        if (c < e && (*c == '+' || *c == '-'))
            c++;
        const char *digits = c;
        while (c < e && is_digit(*c))
            c++;
        if (c == digits)
            c = s; /* force the error below */
    }
    if (c != e || !is_digit(*s))
        fatal_at(p, t->where, "malformed number '%.*s'", (int)t->len, t->start);
    t->kind = is_float ? TK_FLOAT : TK_INT;
}

/* Scans a number: sign, then name characters, with a sign allowed right
 * after an exponent marker of a decimal number. */
static void lex_number(parser *p, token *t)
{
    const char *c = p->pos;
    if (*c == '-' || *c == '+')
        c++;
    bool hex = c + 1 < p->end && c[0] == '0' && (c[1] == 'x' || c[1] == 'X');
    while (c < p->end) {
        if (is_name_char(*c) || ((*c == '+' || *c == '-') && !hex && (c[-1] == 'e' || c[-1] == 'E')))
            c++;
        else
            break;
    }
    t->len = (size_t)(c - p->pos);
    p->pos = c;
    classify_number(p, t);
}

/* %name, %"name", @name, @"name". */
static void lex_name(parser *p, token *t, tok_kind kind)
{
    const char *c = p->pos + 1;
    if (c < p->end && *c == '"') {
        lex_string(p, c, t);
        t->quoted = true;
    } else {
        while (c < p->end && is_name_char(*c))
            c++;
        if (c == p->pos + 1)
            fatal_at(p, t->where, "expected a name after '%c'", *p->pos);
        t->body = p->pos + 1;
        t->blen = (size_t)(c - p->pos - 1);
        p->pos = c;
    }
    t->kind = kind;
    t->len = (size_t)(p->pos - t->start);
}

/* Reads the next token into p->tok. */
static void next(parser *p)
{
    skip_space(p);
    token *t = &p->tok;
    *t = (token){.kind = TK_EOF, .where = here(p, p->pos), .start = p->pos};
    if (p->pos >= p->end)
        return;
    char c = *p->pos;
    if (c == '%' || c == '@') {
        lex_name(p, t, c == '%' ? TK_VALUE : TK_SYMBOL);
    } else if (c == '"') {
        lex_string(p, p->pos, t);
        t->kind = TK_STRING;
        t->len = (size_t)(p->pos - t->start);
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') {
        const char *e = p->pos;
        while (e < p->end && is_name_char(*e))
            e++;
        t->kind = TK_IDENT;
        t->len = (size_t)(e - p->pos);
        p->pos = e;
        if (t->len == 3 && memcmp(t->start, "hex", 3) == 0 && e < p->end && *e == '"') {
            lex_string(p, e, t);
            t->kind = TK_HEX;
            t->len = (size_t)(p->pos - t->start);
        }
    } else if (is_digit(c) ||
               ((c == '-' || c == '+') && p->pos + 1 < p->end && is_digit(p->pos[1]))) {
        lex_number(p, t);
    } else if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f) {
        fatal_at(p, t->where, "unexpected byte 0x%02x", (unsigned char)c);
    } else if (strchr("(){}[],:=<>-", c)) {
        t->kind = TK_PUNCT;
        t->len = 1;
        p->pos++;
    } else {
        fatal_at(p, t->where, "unexpected character '%c'", c);
    }
}

/* ---- token helpers ---- */

static bool is_punct(const parser *p, char c)
{
    return p->tok.kind == TK_PUNCT && p->tok.start[0] == c;
}

static bool is_ident(const parser *p, const char *word)
{
    size_t n = strlen(word);
    return p->tok.kind == TK_IDENT && p->tok.len == n && memcmp(p->tok.start, word, n) == 0;
}

static void expect_punct(parser *p, char c)
{
    char buf[40];
    if (!is_punct(p, c))
        fatal_at(p, p->tok.where, "expected '%c', got %s", c, describe(&p->tok, buf, sizeof buf));
    next(p);
}

/* The name or string a token holds, unescaped, in the graph arena. */
static char *token_text(parser *p, const token *t)
{
    if (t->kind == TK_IDENT)
        return ir_arena_strndup(&p->g->arena, t->start, t->len);
    if (t->kind != TK_STRING && !t->quoted)
        return ir_arena_strndup(&p->g->arena, t->body, t->blen);
    char *out = ir_arena_alloc(&p->g->arena, t->blen + 1);
    size_t k = 0;
    for (const char *c = t->body; c < t->body + t->blen; c++) {
        if (*c != '\\') {
            out[k++] = *c;
            continue;
        }
        c++;
        if (*c == 'n')
            out[k++] = '\n';
        else if (*c == 't')
            out[k++] = '\t';
        else if (*c == '\\' || *c == '"')
            out[k++] = *c;
        else {
            out[k++] = (char)(hex_value(c[0]) * 16 + hex_value(c[1]));
            c++;
        }
    }
    out[k] = '\0';
    return out;
}

/* Integer value of an INT token (decimal, or hex when allow_hex). */
static int64_t token_int(parser *p, const token *t, bool allow_hex)
{
    char buf[72];
    if (t->kind != TK_INT || (t->hex && !allow_hex))
        fatal_at(p, t->where, "expected an integer, got %s", describe(t, buf, sizeof buf));
    if (t->len >= sizeof buf)
        fatal_at(p, t->where, "integer '%.24s...' is out of range", t->start);
    memcpy(buf, t->start, t->len);
    buf[t->len] = '\0';
    errno = 0;
    int64_t v;
    if (t->hex)
        v = (int64_t)strtoull(buf, NULL, 16);
    else
        v = (int64_t)strtoll(buf, NULL, 10);
    if (errno == ERANGE)
        fatal_at(p, t->where, "integer '%s' is out of range", buf);
    return v;
}

/* ---- numbers in context ---- */

/* The bits of [-]inf, [-]nan or nan(0xBITS) (the current token is inf or
 * nan; neg says a '-' came before it). */
static uint64_t parse_special_float(parser *p, bool neg, bool f64)
{
    bool is_nan = is_ident(p, "nan");
    next(p);
    uint64_t sign = neg ? (f64 ? UINT64_C(1) << 63 : UINT64_C(1) << 31) : 0;
    if (!is_nan)
        return sign | (f64 ? UINT64_C(0x7ff0000000000000) : 0x7f800000u);
    if (neg || !is_punct(p, '('))
        return sign | (f64 ? UINT64_C(0x7ff8000000000000) : 0x7fc00000u);
    next(p);
    token bits_tok = p->tok;
    uint64_t bits = (uint64_t)token_int(p, &bits_tok, true);
    bool ok = bits_tok.hex && (f64 ? ((bits >> 52) & 0x7ff) == 0x7ff && (bits << 12)
                                   : bits <= 0xffffffffu && ((bits >> 23) & 0xff) == 0xff &&
                                         (bits & 0x7fffff));
    if (!ok)
        fatal_at(p, bits_tok.where, "nan(...) needs the hex bits of a %s NaN",
                 f64 ? "f64" : "f32");
    next(p);
    expect_punct(p, ')');
    return bits;
}

/* A float literal: decimal, [-]inf, [-]nan or nan(0xBITS). Returns the
 * value's bits (f32 bits in the low half when !f64). */
static uint64_t parse_float_bits(parser *p, bool f64)
{
    char buf[72];
    loc start = p->tok.where;
    bool neg = is_punct(p, '-');
    if (neg) {
        next(p);
        if (!is_ident(p, "inf") && !is_ident(p, "nan"))
            fatal_at(p, start, "expected inf or nan after '-'");
    }
    if (is_ident(p, "inf") || is_ident(p, "nan"))
        return parse_special_float(p, neg, f64);
    if ((p->tok.kind != TK_FLOAT && p->tok.kind != TK_INT) || p->tok.hex)
        fatal_at(p, start, "expected a float, got %s", describe(&p->tok, buf, sizeof buf));
    if (p->tok.len >= sizeof buf)
        fatal_at(p, start, "number '%.24s...' is too long", p->tok.start);
    memcpy(buf, p->tok.start, p->tok.len);
    buf[p->tok.len] = '\0';
    uint64_t bits = 0;
    if (f64) {
        double x = strtod(buf, NULL);
        if (isinf(x))
            fatal_at(p, start, "'%s' is out of range for f64", buf);
        memcpy(&bits, &x, 8);
    } else {
        float x = strtof(buf, NULL);
        uint32_t b;
        if (isinf(x))
            fatal_at(p, start, "'%s' is out of range for f32", buf);
        memcpy(&b, &x, 4);
        bits = b;
    }
    next(p);
    return bits;
}

static float parse_f32(parser *p)
{
    uint32_t b = (uint32_t)parse_float_bits(p, false);
    float f;
    memcpy(&f, &b, 4);
    return f;
}

/* A decimal integer in [lo, hi]. */
static int64_t parse_int_in(parser *p, int64_t lo, int64_t hi, const char *type)
{
    int64_t v = token_int(p, &p->tok, false);
    if (v < lo || v > hi)
        fatal_at(p, p->tok.where, "%" PRId64 " is out of range for %s", v, type);
    next(p);
    return v;
}

/* ---- types and constant payloads ---- */

/* dtype[d0,d1,...]; an unknown dtype is reported and read as f32. */
static void parse_type(parser *p, ir_dtype *dtype, ir_shape *shape)
{
    char buf[40];
    loc start = p->tok.where;
    if (p->tok.kind != TK_IDENT)
        fatal_at(p, start, "expected a type such as f32[1,3], got %s",
                 describe(&p->tok, buf, sizeof buf));
    char name[16] = "";
    if (p->tok.len < sizeof name)
        memcpy(name, p->tok.start, p->tok.len);
    *dtype = ir_dtype_lookup(name);
    if (*dtype == IR_DTYPE_COUNT) {
        error_at(p, start, "unknown dtype '%.*s'", (int)p->tok.len, p->tok.start);
        *dtype = IR_DTYPE_F32;
    }
    next(p);
    expect_punct(p, '[');
    *shape = (ir_shape){0};
    while (!is_punct(p, ']')) {
        if (shape->rank == IR_MAX_RANK)
            fatal_at(p, p->tok.where, "a shape has at most %d dimensions", IR_MAX_RANK);
        loc dim = p->tok.where;
        int64_t v = token_int(p, &p->tok, false);
        if (v < 0)
            fatal_at(p, dim, "dimension %" PRId64 " is negative", v);
        shape->dims[shape->rank++] = v;
        next(p);
        if (!is_punct(p, ']'))
            expect_punct(p, ',');
    }
    next(p);
    size_t bytes;
    if (!ir_shape_bytes(shape, *dtype, &bytes))
        fatal_at(p, start, "type is too large");
}

/* One element of an inline constant, stored at dst. */
static void parse_element(parser *p, ir_dtype t, unsigned char *dst)
{
    switch (t) {
    case IR_DTYPE_F32: { uint32_t b = (uint32_t)parse_float_bits(p, false); memcpy(dst, &b, 4); break; }
    case IR_DTYPE_F64: { uint64_t b = parse_float_bits(p, true); memcpy(dst, &b, 8); break; }
    case IR_DTYPE_I64: { int64_t v = parse_int_in(p, INT64_MIN, INT64_MAX, "i64"); memcpy(dst, &v, 8); break; }
    case IR_DTYPE_I32: { int32_t v = (int32_t)parse_int_in(p, INT32_MIN, INT32_MAX, "i32"); memcpy(dst, &v, 4); break; }
    case IR_DTYPE_I8: { int8_t v = (int8_t)parse_int_in(p, INT8_MIN, INT8_MAX, "i8"); memcpy(dst, &v, 1); break; }
    case IR_DTYPE_U8: *dst = (unsigned char)parse_int_in(p, 0, UINT8_MAX, "u8"); break;
    case IR_DTYPE_BOOL:
        if (!is_ident(p, "true") && !is_ident(p, "false"))
            fatal_at(p, p->tok.where, "expected true or false");
        *dst = is_ident(p, "true");
        next(p);
        break;
    case IR_DTYPE_F16:
    case IR_DTYPE_BF16: { /* an f32 literal, rounded to the half type */
        uint32_t b = (uint32_t)parse_float_bits(p, false);
        float f;
        memcpy(&f, &b, 4);
        uint16_t h = t == IR_DTYPE_F16 ? loomrt_f32_to_f16(f) : loomrt_f32_to_bf16(f);
        memcpy(dst, &h, 2);
        break;
    }
    case IR_DTYPE_COUNT: break;
    }
}

/* [e0, e1, ...] with exactly numel elements. The buffer grows as elements
 * arrive, so a huge declared type with a short list costs nothing. */
static void *parse_inline(parser *p, ir_dtype t, const ir_shape *shape)
{
    loc open = p->tok.where;
    next(p);
    int64_t numel = ir_shape_numel(shape), count = 0, cap = 16;
    size_t es = ir_dtype_size(t);
    unsigned char *buf = ir_arena_array(&p->g->arena, (size_t)cap, es);
    while (!is_punct(p, ']')) {
        if (count == numel)
            fatal_at(p, p->tok.where, "too many elements: the type has %" PRId64, numel);
        if (count == cap) {
            unsigned char *nb = ir_arena_array(&p->g->arena, (size_t)cap * 2, es);
            memcpy(nb, buf, (size_t)cap * es);
            buf = nb;
            cap *= 2;
        }
        parse_element(p, t, buf + (size_t)count * es);
        count++;
        if (!is_punct(p, ']'))
            expect_punct(p, ',');
    }
    if (count != numel)
        fatal_at(p, open, "constant has %" PRId64 " elements, its type has %" PRId64, count,
                 numel);
    next(p);
    return buf;
}

/* hex"..." holding exactly the payload's bytes. */
static void *parse_hex(parser *p, size_t bytes)
{
    const token *t = &p->tok;
    if (t->blen % 2)
        fatal_at(p, t->where, "hex data has an odd number of digits");
    if (t->blen / 2 != bytes)
        fatal_at(p, t->where, "hex data has %zu bytes, the type needs %zu", t->blen / 2, bytes);
    unsigned char *buf = ir_arena_alloc(&p->g->arena, bytes);
    for (size_t i = 0; i < bytes; i++) {
        int hi = hex_value(t->body[2 * i]), lo = hex_value(t->body[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            const char *bad = t->body + 2 * i + (hi < 0 ? 0 : 1);
            fatal_at(p, (loc){bad, t->where.line_start, t->where.line},
                     "invalid hex digit '%c'", *bad);
        }
        buf[i] = (unsigned char)(hi * 16 + lo);
    }
    next(p);
    return buf;
}

/* The payload of a constant of the given type: [..], hex"..." or <elided>
 * (zero-filled). */
static void *parse_payload(parser *p, ir_dtype t, const ir_shape *shape)
{
    char buf[40];
    size_t bytes = 0;
    ir_shape_bytes(shape, t, &bytes);
    if (is_punct(p, '['))
        return parse_inline(p, t, shape);
    if (p->tok.kind == TK_HEX)
        return parse_hex(p, bytes);
    if (is_punct(p, '<')) {
        next(p);
        if (!is_ident(p, "elided"))
            fatal_at(p, p->tok.where, "expected 'elided' after '<'");
        next(p);
        expect_punct(p, '>');
        return ir_arena_alloc(&p->g->arena, bytes ? bytes : 1);
    }
    fatal_at(p, p->tok.where, "expected constant data ([...], hex\"...\" or <elided>), got %s",
             describe(&p->tok, buf, sizeof buf));
}

/* ---- values ---- */

static void record_def_line(parser *p, const ir_value *v, int line)
{
    if (v->id >= p->def_cap) {
        int cap = p->def_cap ? p->def_cap * 2 : 64;
        while (cap <= v->id)
            cap *= 2;
        int *nl = ir_arena_array(&p->g->arena, (size_t)cap, sizeof *nl);
        if (p->def_cap)
            memcpy(nl, p->def_line, (size_t)p->def_cap * sizeof *nl);
        p->def_line = nl;
        p->def_cap = cap;
    }
    p->def_line[v->id] = line;
}

/* Defines the value a VALUE token names. A redefinition is reported and
 * yields a value outside the graph so that parsing can go on. */
static ir_value *define_value(parser *p, const token *t, ir_dtype dtype)
{
    char *name = token_text(p, t);
    ir_value *old = ir_graph_find_value(p->g, name);
    if (old) {
        error_at(p, t->where, "redefinition of %.*s (first defined on line %d)", (int)t->len,
                 t->start, p->def_line[old->id]);
        return ir_graph_detached_value(p->g, name, dtype);
    }
    ir_value *v = ir_graph_add_value(p->g, name, dtype);
    record_def_line(p, v, t->where.line);
    return v;
}

/* The value a VALUE token uses, or NULL (reported) if it is not defined. */
static ir_value *use_value(parser *p, const token *t)
{
    char buf[128];
    ir_value *v;
    if (!t->quoted && t->blen < sizeof buf) {
        memcpy(buf, t->body, t->blen);
        buf[t->blen] = '\0';
        v = ir_graph_find_value(p->g, buf);
    } else {
        v = ir_graph_find_value(p->g, token_text(p, t));
    }
    if (!v)
        error_at(p, t->where, "use of undefined value %.*s", (int)t->len, t->start);
    return v;
}

static void add_decl(parser *p, ir_value *v, ir_dtype dtype, const ir_shape *shape, loc w)
{
    if (p->n_decls == p->cap_decls) {
        int cap = p->cap_decls ? p->cap_decls * 2 : 64;
        decl *nd = ir_arena_array(&p->g->arena, (size_t)cap, sizeof *nd);
        if (p->n_decls)
            memcpy(nd, p->decls, (size_t)p->n_decls * sizeof *nd);
        p->decls = nd;
        p->cap_decls = cap;
    }
    p->decls[p->n_decls++] = (decl){v, dtype, *shape, w};
}

/* ---- attributes ---- */

static bool is_list_kind(ir_attr_kind k)
{
    return k == IR_ATTR_INTS || k == IR_ATTR_FLOATS || k == IR_ATTR_STRINGS;
}

/* True when the current token starts a float literal. */
static bool at_float(const parser *p)
{
    return p->tok.kind == TK_FLOAT || is_punct(p, '-') || is_ident(p, "inf") ||
           is_ident(p, "nan");
}

/* Grows a list attribute's array by one element slot; returns the slot. */
static void *list_slot(parser *p, void **arr, int n, int *cap, size_t es)
{
    if (n == *cap) {
        int ncap = *cap ? *cap * 2 : 8;
        void *na = ir_arena_array(&p->g->arena, (size_t)ncap, es);
        if (n)
            memcpy(na, *arr, (size_t)n * es);
        *arr = na;
        *cap = ncap;
    }
    return (char *)*arr + (size_t)n * es;
}

/* [e0, e1, ...]: the first element decides ints, floats or strings; an
 * empty list takes the kind `empty_kind`. */
static void parse_list_attr(parser *p, ir_attr *a, ir_attr_kind empty_kind)
{
    char buf[40];
    next(p);
    void *arr = NULL;
    int cap = 0;
    if (is_punct(p, ']'))
        a->kind = empty_kind;
    else if (p->tok.kind == TK_INT)
        a->kind = IR_ATTR_INTS;
    else if (at_float(p))
        a->kind = IR_ATTR_FLOATS;
    else if (p->tok.kind == TK_STRING)
        a->kind = IR_ATTR_STRINGS;
    else
        fatal_at(p, p->tok.where, "expected a list element, got %s",
                 describe(&p->tok, buf, sizeof buf));
    while (!is_punct(p, ']')) {
        if (a->kind == IR_ATTR_INTS) {
            int64_t *slot = list_slot(p, &arr, a->n, &cap, sizeof(int64_t));
            *slot = token_int(p, &p->tok, false);
            next(p);
        } else if (a->kind == IR_ATTR_FLOATS) {
            float *slot = list_slot(p, &arr, a->n, &cap, sizeof(float));
            if (!at_float(p) && p->tok.kind != TK_INT)
                fatal_at(p, p->tok.where, "expected a float, got %s",
                         describe(&p->tok, buf, sizeof buf));
            if (p->tok.kind == TK_INT)
                fatal_at(p, p->tok.where, "expected a float (write %.*s.0), got an integer",
                         (int)p->tok.len, p->tok.start);
            *slot = parse_f32(p);
        } else {
            const char **slot = list_slot(p, &arr, a->n, &cap, sizeof(char *));
            if (p->tok.kind != TK_STRING)
                fatal_at(p, p->tok.where, "expected a string, got %s",
                         describe(&p->tok, buf, sizeof buf));
            *slot = token_text(p, &p->tok);
            next(p);
        }
        a->n++;
        if (!is_punct(p, ']'))
            expect_punct(p, ',');
    }
    next(p);
    if (!arr)
        arr = ir_arena_alloc(&p->g->arena, 8);
    if (a->kind == IR_ATTR_INTS)
        a->u.ints = arr;
    else if (a->kind == IR_ATTR_FLOATS)
        a->u.floats = arr;
    else
        a->u.strings = arr;
}

/* tensor<TYPE> PAYLOAD, kept as a constant value outside the graph. */
static void parse_tensor_attr(parser *p, ir_attr *a)
{
    next(p);
    expect_punct(p, '<');
    ir_dtype t;
    ir_shape s;
    parse_type(p, &t, &s);
    expect_punct(p, '>');
    ir_value *v = ir_graph_detached_value(p->g, a->name, t);
    ir_value_set_shape(v, s.rank, s.dims);
    v->data = parse_payload(p, t, &s);
    a->kind = IR_ATTR_TENSOR;
    a->u.tensor = v;
}

/* An attribute value; its kind follows from the syntax and is checked
 * against `want` (the schema's kind, when known). */
static void parse_attr_value(parser *p, ir_attr *a, bool known, ir_attr_kind want,
                             const char *op)
{
    char buf[40];
    loc start = p->tok.where;
    if (is_ident(p, "tensor"))
        parse_tensor_attr(p, a);
    else if (is_punct(p, '['))
        parse_list_attr(p, a, known && is_list_kind(want) ? want : IR_ATTR_INTS);
    else if (p->tok.kind == TK_INT) {
        a->kind = IR_ATTR_INT;
        a->u.i = token_int(p, &p->tok, false);
        next(p);
    } else if (at_float(p)) {
        a->kind = IR_ATTR_FLOAT;
        a->u.f = parse_f32(p);
    } else if (p->tok.kind == TK_STRING) {
        a->kind = IR_ATTR_STRING;
        a->u.s = token_text(p, &p->tok);
        next(p);
    } else {
        fatal_at(p, start, "expected an attribute value, got %s",
                 describe(&p->tok, buf, sizeof buf));
    }
    if (known && a->kind != want)
        error_at(p, start, "attribute '%s' of %s must be %s, got %s", a->name, op,
                 ir_attr_kind_name(want), ir_attr_kind_name(a->kind));
}

/* {name = value, ...}; returns the attributes in an arena array. */
static ir_attr *parse_attrs(parser *p, ir_op op, int *count)
{
    char buf[40];
    void *arr = NULL;
    ir_attr *attrs = NULL;
    int cap = 0;
    *count = 0;
    next(p);
    while (!is_punct(p, '}')) {
        token name = p->tok;
        if (name.kind != TK_IDENT && name.kind != TK_STRING)
            fatal_at(p, name.where, "expected an attribute name, got %s",
                     describe(&name, buf, sizeof buf));
        ir_attr *a = list_slot(p, &arr, *count, &cap, sizeof *attrs);
        attrs = arr;
        a->name = token_text(p, &name);
        next(p);
        expect_punct(p, '=');
        ir_attr_kind want = IR_ATTR_INT;
        bool known = op < IR_OP_COUNT && ir_op_attr_kind(op, a->name, &want);
        if (op < IR_OP_COUNT && !known)
            error_at(p, name.where, "unknown attribute '%s' for %s", a->name, ir_op_name(op));
        for (int i = 0; i < *count; i++)
            if (strcmp(attrs[i].name, a->name) == 0) {
                error_at(p, name.where, "duplicate attribute '%s'", a->name);
                break;
            }
        parse_attr_value(p, a, known, want, ir_op_name(op));
        (*count)++;
        if (!is_punct(p, '}'))
            expect_punct(p, ',');
    }
    next(p);
    return attrs;
}

static void set_attr(ir_graph *g, ir_node *n, const ir_attr *a)
{
    switch (a->kind) {
    case IR_ATTR_INT: ir_node_set_int(g, n, a->name, a->u.i); break;
    case IR_ATTR_FLOAT: ir_node_set_float(g, n, a->name, a->u.f); break;
    case IR_ATTR_STRING: ir_node_set_string(g, n, a->name, a->u.s); break;
    case IR_ATTR_INTS: ir_node_set_ints(g, n, a->name, a->u.ints, a->n); break;
    case IR_ATTR_FLOATS: ir_node_set_floats(g, n, a->name, a->u.floats, a->n); break;
    case IR_ATTR_STRINGS: ir_node_set_strings(g, n, a->name, a->u.strings, a->n); break;
    case IR_ATTR_TENSOR: ir_node_set_tensor(g, n, a->name, a->u.tensor); break;
    case IR_ATTR_KIND_COUNT: break;
    }
}

/* ---- statements ---- */

/* One result of a statement: %name[: type] or _ for an omitted output. */
typedef struct result {
    token name;
    bool omitted, typed;
    ir_dtype dtype;
    ir_shape shape;
} result;

/* result (, result)* = */
static result *parse_results(parser *p, int *count)
{
    char buf[40];
    void *arr = NULL;
    int cap = 0;
    *count = 0;
    for (;;) {
        result *r = list_slot(p, &arr, *count, &cap, sizeof *r);
        *r = (result){.name = p->tok};
        if (is_ident(p, "_")) {
            r->omitted = true;
            next(p);
        } else if (p->tok.kind == TK_VALUE) {
            next(p);
            if (is_punct(p, ':')) {
                next(p);
                r->typed = true;
                parse_type(p, &r->dtype, &r->shape);
            }
        } else {
            fatal_at(p, p->tok.where, "expected a value name or '_', got %s",
                     describe(&p->tok, buf, sizeof buf));
        }
        (*count)++;
        if (!is_punct(p, ','))
            break;
        next(p);
    }
    expect_punct(p, '=');
    return arr;
}

/* %name: TYPE = const PAYLOAD (the `const` keyword is the current token). */
static void parse_const(parser *p, const result *rs, int n)
{
    if (n != 1 || rs[0].omitted || !rs[0].typed)
        fatal_at(p, rs[0].name.where, "a constant needs exactly one result with a type");
    next(p);
    ir_value *v = define_value(p, &rs[0].name, rs[0].dtype);
    ir_value_set_shape(v, rs[0].shape.rank, rs[0].shape.dims);
    v->data = parse_payload(p, rs[0].dtype, &rs[0].shape);
}

/* "1", "2 to 3" or "at least 1" for arity messages. */
static void arity_text(int lo, int hi, char *buf, size_t size)
{
    if (hi < 0)
        snprintf(buf, size, "at least %d", lo);
    else if (lo == hi)
        snprintf(buf, size, "%d", lo);
    else
        snprintf(buf, size, "%d to %d", lo, hi);
}

static void check_arity(parser *p, loc w, ir_op op, int n_in, int n_out)
{
    const ir_op_info *info = &ir_op_table[op];
    char range[40];
    if (n_in < info->min_inputs || (info->max_inputs >= 0 && n_in > info->max_inputs)) {
        arity_text(info->min_inputs, info->max_inputs, range, sizeof range);
        error_at(p, w, "%s takes %s operand%s, got %d", info->name, range,
                 info->max_inputs == 1 ? "" : "s", n_in);
    }
    if (n_out < info->min_outputs || (info->max_outputs >= 0 && n_out > info->max_outputs)) {
        arity_text(info->min_outputs, info->max_outputs, range, sizeof range);
        error_at(p, w, "%s has %s result%s, got %d", info->name, range,
                 info->max_outputs == 1 ? "" : "s", n_out);
    }
}

/* (operand, ...) where an operand is %name or _ (omitted). */
static ir_value **parse_operands(parser *p, int *count)
{
    char buf[40];
    void *arr = NULL;
    int cap = 0;
    *count = 0;
    expect_punct(p, '(');
    while (!is_punct(p, ')')) {
        ir_value **slot = list_slot(p, &arr, *count, &cap, sizeof *slot);
        if (is_ident(p, "_"))
            *slot = NULL;
        else if (p->tok.kind == TK_VALUE)
            *slot = use_value(p, &p->tok);
        else
            fatal_at(p, p->tok.where, "expected an operand (%%name or _), got %s",
                     describe(&p->tok, buf, sizeof buf));
        (*count)++;
        next(p);
        if (!is_punct(p, ')'))
            expect_punct(p, ',');
    }
    next(p);
    return arr;
}

/* Defines a node's results (after its operands, so %x = Op(%x) is a use of
 * an undefined value) and returns the output array. */
static ir_value **define_results(parser *p, const result *rs, int n)
{
    ir_value **outs = ir_arena_array(&p->g->arena, (size_t)(n ? n : 1), sizeof *outs);
    for (int i = 0; i < n; i++) {
        if (rs[i].omitted)
            continue;
        outs[i] = define_value(p, &rs[i].name, rs[i].typed ? rs[i].dtype : IR_DTYPE_F32);
        if (rs[i].typed)
            add_decl(p, outs[i], rs[i].dtype, &rs[i].shape, rs[i].name.where);
    }
    return outs;
}

/* OP(operands) [{attrs}] [@name] (the op name is the current token). */
static void parse_node(parser *p, const result *rs, int n_out)
{
    token op_tok = p->tok;
    char name[64] = "";
    if (op_tok.len < sizeof name)
        memcpy(name, op_tok.start, op_tok.len);
    ir_op op = ir_op_lookup(name);
    if (op == IR_OP_COUNT)
        error_at(p, op_tok.where, "unknown op '%.*s'", (int)op_tok.len, op_tok.start);
    next(p);
    int n_in, n_attrs = 0;
    ir_value **ins = parse_operands(p, &n_in);
    ir_attr *attrs = is_punct(p, '{') ? parse_attrs(p, op, &n_attrs) : NULL;
    const char *node_name = NULL;
    if (p->tok.kind == TK_SYMBOL) {
        node_name = token_text(p, &p->tok);
        next(p);
    }
    if (op != IR_OP_COUNT)
        check_arity(p, op_tok.where, op, n_in, n_out);
    ir_value **outs = define_results(p, rs, n_out);
    if (op == IR_OP_COUNT)
        return;
    if (!node_name)
        node_name = n_out > 0 && outs[0] ? outs[0]->name : "";
    ir_node *n = ir_graph_add_node(p->g, op, node_name, ins, n_in, outs, n_out);
    for (int i = 0; i < n_attrs; i++)
        set_attr(p->g, n, &attrs[i]);
}

/* return [%a, %b, ...] */
static void parse_return(parser *p)
{
    next(p);
    if (p->tok.kind != TK_VALUE)
        return;
    for (;;) {
        char buf[40];
        if (p->tok.kind != TK_VALUE)
            fatal_at(p, p->tok.where, "expected a value name, got %s",
                     describe(&p->tok, buf, sizeof buf));
        ir_value *v = use_value(p, &p->tok);
        if (v)
            ir_graph_add_output(p->g, v);
        next(p);
        if (!is_punct(p, ','))
            return;
        next(p);
    }
}

/* One statement: a constant, a node, or a node without results. */
static void parse_statement(parser *p)
{
    char buf[40];
    int n = 0;
    result *rs = NULL;
    if (p->tok.kind == TK_VALUE || is_ident(p, "_"))
        rs = parse_results(p, &n);
    if (is_ident(p, "const") && n > 0)
        parse_const(p, rs, n);
    else if (p->tok.kind == TK_IDENT && !is_ident(p, "const"))
        parse_node(p, rs, n);
    else
        fatal_at(p, p->tok.where, "expected %s, got %s",
                 n ? "an op name or 'const'" : "a statement or 'return'",
                 describe(&p->tok, buf, sizeof buf));
}

/* graph @name(%in: TYPE, ...) { statements return ... } */
static void parse_graph(parser *p)
{
    char buf[40];
    if (!is_ident(p, "graph"))
        fatal_at(p, p->tok.where, "expected 'graph', got %s", describe(&p->tok, buf, sizeof buf));
    next(p);
    if (p->tok.kind != TK_SYMBOL)
        fatal_at(p, p->tok.where, "expected the graph name (@name), got %s",
                 describe(&p->tok, buf, sizeof buf));
    p->g->name = token_text(p, &p->tok);
    next(p);
    expect_punct(p, '(');
    while (!is_punct(p, ')')) {
        token name = p->tok;
        if (name.kind != TK_VALUE)
            fatal_at(p, name.where, "expected an input (%%name: type), got %s",
                     describe(&name, buf, sizeof buf));
        next(p);
        expect_punct(p, ':');
        ir_dtype t;
        ir_shape s;
        parse_type(p, &t, &s);
        ir_value *v = define_value(p, &name, t);
        ir_value_set_shape(v, s.rank, s.dims);
        if (v->id >= 0)
            ir_graph_add_input(p->g, v);
        if (!is_punct(p, ')'))
            expect_punct(p, ',');
    }
    next(p);
    expect_punct(p, '{');
    while (!is_ident(p, "return")) {
        if (p->tok.kind == TK_EOF || is_punct(p, '}'))
            fatal_at(p, p->tok.where, "expected 'return' before the end of the graph");
        parse_statement(p);
    }
    parse_return(p);
    expect_punct(p, '}');
    if (p->tok.kind != TK_EOF)
        fatal_at(p, p->tok.where, "expected end of input after the graph, got %s",
                 describe(&p->tok, buf, sizeof buf));
}

/* ---- after parsing ---- */

static void format_type(ir_dtype t, const ir_shape *s, char *buf, size_t size)
{
    char shape[160];
    ir_shape_format(s, shape, sizeof shape);
    snprintf(buf, size, "%s%s", ir_dtype_name(t), shape);
}

/* Node outputs written with a type must match what inference found. */
static void check_decls(parser *p)
{
    for (int i = 0; i < p->n_decls; i++) {
        const decl *dc = &p->decls[i];
        const ir_value *v = dc->v;
        if (v->shape_known && v->dtype == dc->dtype && ir_shape_equal(&v->shape, &dc->shape))
            continue;
        char want[200], got[200];
        format_type(dc->dtype, &dc->shape, want, sizeof want);
        if (v->shape_known)
            format_type(v->dtype, &v->shape, got, sizeof got);
        else
            snprintf(got, sizeof got, "no shape");
        error_at(p, dc->where, "type %s is written, but shape inference gives %s", want, got);
    }
}

/* Parses, then infers and verifies; syntax errors longjmp out of here. */
static loom_status parse_all(parser *p)
{
    next(p);
    parse_graph(p);
    if (p->n_errors)
        return LOOM_STATUS_INVALID_MODEL;
    loom_status st = ir_infer_graph(p->g, p->d);
    if (st != LOOM_STATUS_OK)
        return st;
    check_decls(p);
    if (p->n_errors)
        return LOOM_STATUS_INVALID_MODEL;
    return ir_verify(p->g, p->d);
}

/* The one place that catches longjmps: 1 from the arena, 2 from fatal_at. */
static loom_status parse_guarded(parser *p)
{
    int r = setjmp(p->jb);
    if (r) {
        p->g->arena.oom = NULL;
        if (r == 1) {
            ir_diag_errorf(p->d, "%s: error: out of memory", p->filename);
            return LOOM_STATUS_NOMEM;
        }
        return LOOM_STATUS_INVALID_MODEL;
    }
    p->g->arena.oom = &p->jb;
    loom_status st = parse_all(p);
    p->g->arena.oom = NULL;
    return st;
}

loom_status ir_parse_at_line(const char *text, size_t len, const char *filename, int first_line,
                             ir_graph **out, ir_diag *d)
{
    if (!out)
        return LOOM_STATUS_INVALID_ARG;
    *out = NULL;
    if (!text && len)
        return LOOM_STATUS_INVALID_ARG;
    ir_diag local;
    ir_diag_init(&local);
    parser p = {
        .end = (text ? text : "") + len,
        .filename = filename ? filename : "<input>",
        .pos = text ? text : "",
        .line_start = text ? text : "",
        .line = first_line > 0 ? first_line : 1,
        .d = d ? d : &local,
    };
    p.g = ir_graph_new("", p.filename);
    loom_status st;
    if (!p.g) {
        ir_diag_errorf(p.d, "%s: error: out of memory", p.filename);
        st = LOOM_STATUS_NOMEM;
    } else {
        st = parse_guarded(&p);
        if (st == LOOM_STATUS_OK)
            *out = p.g;
        else
            ir_graph_free(p.g);
    }
    ir_diag_free(&local);
    return st;
}

loom_status ir_parse(const char *text, size_t len, const char *filename, ir_graph **out,
                     ir_diag *d)
{
    return ir_parse_at_line(text, len, filename, 1, out, d);
}

/* Reads a whole file into an ir_malloc'd buffer. */
static loom_status read_file(const char *path, char **text, size_t *len, ir_diag *d)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        ir_diag_errorf(d, "%s: error: cannot open: %s", path, strerror(errno));
        return LOOM_STATUS_IO;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = ir_malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        char *nb = cap * 2 > cap ? ir_realloc(buf, cap * 2) : NULL;
        if (!nb) {
            ir_free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    bool failed = ferror(f);
    fclose(f);
    if (!buf) {
        ir_diag_errorf(d, "%s: error: out of memory reading the file", path);
        return LOOM_STATUS_NOMEM;
    }
    if (failed) {
        ir_free(buf);
        ir_diag_errorf(d, "%s: error: read error", path);
        return LOOM_STATUS_IO;
    }
    *text = buf;
    *len = n;
    return LOOM_STATUS_OK;
}

loom_status ir_parse_file(const char *path, ir_graph **out, ir_diag *d)
{
    if (!out)
        return LOOM_STATUS_INVALID_ARG;
    *out = NULL;
    ir_diag local;
    ir_diag_init(&local);
    char *text = NULL;
    size_t len = 0;
    loom_status st = read_file(path, &text, &len, d ? d : &local);
    if (st == LOOM_STATUS_OK)
        st = ir_parse(text, len, path, out, d ? d : &local);
    ir_free(text);
    ir_diag_free(&local);
    return st;
}
