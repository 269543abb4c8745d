/* JSON for reports, metadata and safetensors headers: a streaming writer and a strict parser.
 *
 * The writer and occam_json_escape share one routine, escape_one, which turns the next
 * character of a string into its JSON form. So a string always gets the same escaping whether
 * it goes to a stream or a buffer, and invalid UTF-8 never reaches a file: the routine
 * replaces such bytes with \ufffd.
 *
 * The parser is a recursive descent over a length-delimited buffer. It never reads past
 * len, and it needs no NUL terminator, because safetensors headers are raw bytes from a file.
 * Every node is zeroed before it is parsed and counted before it is filled. So on failure,
 * freeing the partly built tree is always safe, and one occam_json_free at the top releases
 * everything. Each object's duplicate-key check sorts the keys, so a hostile header with a
 * million keys costs O(n log n) and not O(n^2). */
#include "occam/json.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- UTF-8 ----------------------------------------------------------------------------- */

/* Length (1..4) of the valid UTF-8 sequence at the start of s[0..n) (n >= 1), storing its code
 * point; 0 if the bytes are not valid UTF-8 (bad lead byte, truncated, overlong, surrogate, or
 * above U+10FFFF). */
static int utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    int len;
    uint32_t v, min;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2, v = c & 0x1Fu, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3, v = c & 0x0Fu, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4, v = c & 0x07u, min = 0x10000;
    } else {
        return 0; /* continuation byte, 0xC0/0xC1 (always overlong) or 0xF5.. */
    }
    if ((size_t)len > n) return 0;
    for (int i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        v = v << 6 | (s[i] & 0x3Fu);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
    *cp = v;
    return len;
}

/* Writes code point cp (<= 0x10FFFF, not a surrogate) as UTF-8; returns the byte count. */
static size_t utf8_encode(char *dst, uint32_t cp)
{
    if (cp < 0x80) {
        dst[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        dst[0] = (char)(0xC0 | cp >> 6);
        dst[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        dst[0] = (char)(0xE0 | cp >> 12);
        dst[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        dst[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    dst[0] = (char)(0xF0 | cp >> 18);
    dst[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    dst[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    dst[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* ---- escaping -------------------------------------------------------------------------- */

/* The JSON form of the character starting at s[0..n) (n >= 1) goes to out (at most 6 bytes,
 * unterminated). Returns its length; *used is the number of input bytes consumed. */
static size_t escape_one(const unsigned char *s, size_t n, char out[6], size_t *used)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char c = s[0];
    *used = 1;
    const char *two = NULL;
    switch (c) {
    case '"': two = "\\\""; break;
    case '\\': two = "\\\\"; break;
    case '\b': two = "\\b"; break;
    case '\f': two = "\\f"; break;
    case '\n': two = "\\n"; break;
    case '\r': two = "\\r"; break;
    case '\t': two = "\\t"; break;
    default: break;
    }
    if (two) {
        memcpy(out, two, 2);
        return 2;
    }
    if (c < 0x20) {
        memcpy(out, "\\u00", 4);
        out[4] = hex[c >> 4];
        out[5] = hex[c & 15];
        return 6;
    }
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    uint32_t cp;
    int k = utf8_decode(s, n, &cp);
    if (k == 0) { /* one bad byte becomes one replacement character */
        memcpy(out, "\\ufffd", 6);
        return 6;
    }
    memcpy(out, s, (size_t)k);
    *used = (size_t)k;
    return (size_t)k;
}

int occam_json_escape(char *dst, size_t cap, const char *src)
{
    const unsigned char *s = (const unsigned char *)src;
    size_t n = strlen(src), pos = 0, len = 0;
    while (pos < n) {
        char buf[6];
        size_t used, k = escape_one(s + pos, n - pos, buf, &used);
        if (len + k >= cap || len + k > INT32_MAX) goto overflow;
        memcpy(dst + len, buf, k);
        len += k;
        pos += used;
    }
    if (len >= cap) goto overflow;
    dst[len] = '\0';
    return (int)len;
overflow:
    if (cap > 0) dst[0] = '\0';
    return -1;
}

static void write_string(FILE *out, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t n = strlen(str), pos = 0;
    fputc('"', out);
    while (pos < n) {
        char buf[6];
        size_t used, k = escape_one(s + pos, n - pos, buf, &used);
        fwrite(buf, 1, k, out);
        pos += used;
    }
    fputc('"', out);
}

/* ---- writer ---------------------------------------------------------------------------- */

void occam_json_init(occam_json *j, FILE *out, bool pretty)
{
    memset(j, 0, sizeof *j);
    j->out = out;
    j->pretty = pretty;
}

static void newline_indent(occam_json *j, int level)
{
    fputc('\n', j->out);
    for (int i = 0; i < level; i++) fputs("  ", j->out);
}

/* Separator and indentation before a value; checks that a value is allowed here. */
static void before_value(occam_json *j)
{
    if (j->depth == 0) {
        OCCAM_ASSERT(!j->top_done); /* a document holds exactly one value */
        j->top_done = true;
        return;
    }
    int d = j->depth - 1;
    if (j->is_object[d]) {
        OCCAM_ASSERT(j->after_key); /* object members need occam_json_key first */
        j->after_key = false;
        return;
    }
    if (j->need_comma[d]) fputc(',', j->out);
    if (j->pretty) newline_indent(j, j->depth);
    j->need_comma[d] = true;
}

static void begin(occam_json *j, bool object)
{
    before_value(j);
    OCCAM_ASSERT(j->depth < OCCAM_JSON_MAX_DEPTH);
    fputc(object ? '{' : '[', j->out);
    j->need_comma[j->depth] = false;
    j->is_object[j->depth] = object;
    j->depth++;
}

static void end(occam_json *j, bool object)
{
    OCCAM_ASSERT(j->depth > 0 && j->is_object[j->depth - 1] == object && !j->after_key);
    j->depth--;
    if (j->pretty && j->need_comma[j->depth]) newline_indent(j, j->depth);
    fputc(object ? '}' : ']', j->out);
}

void occam_json_begin_object(occam_json *j) { begin(j, true); }
void occam_json_end_object(occam_json *j) { end(j, true); }
void occam_json_begin_array(occam_json *j) { begin(j, false); }
void occam_json_end_array(occam_json *j) { end(j, false); }

void occam_json_key(occam_json *j, const char *key)
{
    OCCAM_ASSERT(j->depth > 0 && j->is_object[j->depth - 1] && !j->after_key);
    int d = j->depth - 1;
    if (j->need_comma[d]) fputc(',', j->out);
    if (j->pretty) newline_indent(j, j->depth);
    write_string(j->out, key);
    fputs(j->pretty ? ": " : ":", j->out);
    j->need_comma[d] = true;
    j->after_key = true;
}

void occam_json_string(occam_json *j, const char *s)
{
    before_value(j);
    write_string(j->out, s);
}

void occam_json_number(occam_json *j, double v)
{
    before_value(j);
    if (!isfinite(v)) {
        fputs("null", j->out);
        return;
    }
    char buf[40];
    for (int prec = 1; prec <= 17; prec++) { /* 17 digits always round-trip a double */
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) break;
    }
    fputs(buf, j->out);
}


void occam_json_int(occam_json *j, int64_t v)
{
    before_value(j);
    fprintf(j->out, "%" PRId64, v);
}

void occam_json_uint(occam_json *j, uint64_t v)
{
    before_value(j);
    fprintf(j->out, "%" PRIu64, v);
}

void occam_json_bool(occam_json *j, bool v)
{
    before_value(j);
    fputs(v ? "true" : "false", j->out);
}

void occam_json_null(occam_json *j)
{
    before_value(j);
    fputs("null", j->out);
}

void occam_json_raw(occam_json *j, const char *json_text)
{
    occam_json_value check;
    int rc = occam_json_parse(&check, json_text, strlen(json_text), NULL);
    OCCAM_ASSERT(rc != OCCAM_ERR_INPUT); /* out of memory merely skips the check */
    occam_json_free(&check);
    before_value(j);
    fputs(json_text, j->out);
}

int occam_json_finish(occam_json *j)
{
    OCCAM_ASSERT(j->depth == 0 && !j->after_key && j->top_done);
    int rc = fflush(j->out);
    return (rc != 0 || ferror(j->out)) ? -1 : 0;
}

/* ---- parser ---------------------------------------------------------------------------- */

typedef struct parser {
    const unsigned char *s;
    size_t len, pos;
    int depth;
    size_t values, max_values; /* values parsed so far; the caller's limit */
    occam_error *err;
} parser;

static int fail(parser *p, size_t at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(parser *p, size_t at, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return occam_error_set(p->err, OCCAM_ERR_INPUT, "byte %zu: %s", at, what);
}

static int out_of_memory(parser *p) { return occam_error_set(p->err, OCCAM_ERR_RUNTIME, "out of memory"); }

/* Human-readable description of the byte at p->pos, for "unexpected X" messages. */
static const char *describe(const parser *p, char buf[32])
{
    if (p->pos >= p->len) return "end of input";
    unsigned char c = p->s[p->pos];
    if (c >= 0x20 && c < 0x7F)
        snprintf(buf, 32, "'%c'", c);
    else
        snprintf(buf, 32, "byte 0x%02x", c);
    return buf;
}

static bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

static void skip_ws(parser *p)
{
    while (p->pos < p->len) {
        unsigned char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        p->pos++;
    }
}

/* Grows *items (of elem bytes each) so that it holds at least need elements. */
static int reserve(void **items, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return 0;
    size_t n = *cap ? *cap : 4;
    while (n < need) {
        if (n > SIZE_MAX / 2 / elem) return -1;
        n *= 2;
    }
    void *q = realloc(*items, n * elem);
    if (!q) return -1;
    *items = q;
    *cap = n;
    return 0;
}

static int hex4(const unsigned char *s)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = s[i];
        int d = is_digit(c) ? c - '0'
              : (c >= 'a' && c <= 'f') ? c - 'a' + 10
              : (c >= 'A' && c <= 'F') ? c - 'A' + 10
              : -1;
        if (d < 0) return -1;
        v = v << 4 | d;
    }
    return v;
}

/* p->pos is at the opening quote. Decoded strings are never longer than their source text
 * (every escape shrinks or keeps its length), so the buffer is sized from the raw span. */
static int parse_string(parser *p, char **out, size_t *out_len)
{
    const unsigned char *s = p->s;
    size_t start = p->pos, close = start + 1;
    while (close < p->len && s[close] != '"') close += s[close] == '\\' ? 2 : 1;
    if (close >= p->len) return fail(p, start, "unterminated string");

    char *buf = malloc(close - start);
    if (!buf) return out_of_memory(p);
    size_t o = 0, q = start + 1;
    int rc = OCCAM_OK;
    while (q < close) {
        unsigned char c = s[q];
        if (c == '\\') {
            unsigned char e = s[q + 1]; /* q + 1 < close: the scan above skipped it */
            static const char named[] = "\"\\/bfnrt", decoded[] = "\"\\/\b\f\n\r\t";
            const char *simple = e != '\0' ? strchr(named, e) : NULL;
            if (simple) {
                buf[o++] = decoded[simple - named];
                q += 2;
                continue;
            }
            if (e != 'u') {
                if (e >= 0x20 && e < 0x7F)
                    rc = fail(p, q, "invalid escape '\\%c' in string", e);
                else
                    rc = fail(p, q, "invalid escape (backslash before byte 0x%02x) in string", e);
                goto done;
            }
            int cp = q + 6 <= close ? hex4(s + q + 2) : -1;
            if (cp < 0) {
                rc = fail(p, q, "invalid \\u escape: expected 4 hex digits");
                goto done;
            }
            size_t used = 6;
            if (cp >= 0xDC00 && cp <= 0xDFFF) {
                rc = fail(p, q, "invalid \\u escape: lone low surrogate \\u%04x", cp);
                goto done;
            }
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                int lo = (q + 12 <= close && s[q + 6] == '\\' && s[q + 7] == 'u')
                             ? hex4(s + q + 8) : -1;
                if (lo < 0xDC00 || lo > 0xDFFF) {
                    rc = fail(p, q, "invalid \\u escape: high surrogate \\u%04x without a low "
                              "surrogate", cp);
                    goto done;
                }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                used = 12;
            }
            o += utf8_encode(buf + o, (uint32_t)cp);
            q += used;
        } else if (c < 0x20) {
            rc = fail(p, q, "control character 0x%02x in string (must be escaped)", c);
            goto done;
        } else {
            uint32_t cp;
            int k = utf8_decode(s + q, close - q, &cp);
            if (k == 0) {
                rc = fail(p, q, "invalid UTF-8 in string");
                goto done;
            }
            memcpy(buf + o, s + q, (size_t)k);
            o += (size_t)k;
            q += (size_t)k;
        }
    }
    buf[o] = '\0';
done:
    if (rc != OCCAM_OK) {
        free(buf);
        return rc;
    }
    *out = buf;
    *out_len = o;
    p->pos = close + 1;
    return OCCAM_OK;
}

/* RFC 8259 grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int parse_number(parser *p, occam_json_value *v)
{
    const unsigned char *s = p->s;
    size_t start = p->pos, i = start;
    bool neg = false, integral = true;
    if (s[i] == '-') neg = true, i++;
    if (i >= p->len || !is_digit(s[i])) return fail(p, start, "invalid number: digit expected");
    size_t digits = i;
    if (s[i] == '0') {
        i++;
        if (i < p->len && is_digit(s[i])) return fail(p, start, "invalid number: leading zero");
    } else {
        while (i < p->len && is_digit(s[i])) i++;
    }
    size_t digits_end = i;
    if (i < p->len && s[i] == '.') {
        integral = false;
        i++;
        if (i >= p->len || !is_digit(s[i]))
            return fail(p, start, "invalid number: digit expected after '.'");
        while (i < p->len && is_digit(s[i])) i++;
    }
    if (i < p->len && (s[i] == 'e' || s[i] == 'E')) {
        integral = false;
        i++;
        if (i < p->len && (s[i] == '+' || s[i] == '-')) i++;
        if (i >= p->len || !is_digit(s[i]))
            return fail(p, start, "invalid number: digit expected in exponent");
        while (i < p->len && is_digit(s[i])) i++;
    }

    size_t n = i - start;
    char small[64], *tok = n < sizeof small ? small : malloc(n + 1);
    if (!tok) return out_of_memory(p);
    memcpy(tok, s + start, n);
    tok[n] = '\0';
    char *end;
    double d = strtod(tok, &end);
    bool whole = end == tok + n;
    if (tok != small) free(tok);
    OCCAM_ASSERT(whole); /* the JSON grammar is a subset of strtod's */
    if (isinf(d)) return fail(p, start, "number out of range");

    v->type = OCCAM_JSON_NUMBER;
    v->number = d;
    if (integral) {
        uint64_t mag = 0;
        bool fits = true;
        for (size_t k = digits; k < digits_end && fits; k++) {
            unsigned dig = (unsigned)(s[k] - '0');
            if (mag > (UINT64_MAX - dig) / 10) fits = false;
            else mag = mag * 10 + dig;
        }
        if (fits && !neg && mag <= (uint64_t)INT64_MAX) {
            v->is_integer = true;
            v->integer = (int64_t)mag;
        } else if (fits && neg && mag <= (uint64_t)INT64_MAX + 1) {
            v->is_integer = true;
            v->integer = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
        }
    }
    p->pos = i;
    return OCCAM_OK;
}

static int parse_value(parser *p, occam_json_value *v);

static int enter(parser *p)
{
    if (++p->depth > OCCAM_JSON_PARSE_DEPTH)
        return fail(p, p->pos, "nesting deeper than %d levels", OCCAM_JSON_PARSE_DEPTH);
    p->pos++; /* past '[' or '{' */
    skip_ws(p);
    return OCCAM_OK;
}

static int parse_array(parser *p, occam_json_value *v)
{
    v->type = OCCAM_JSON_ARRAY;
    int rc = enter(p);
    if (rc) return rc;
    if (p->pos < p->len && p->s[p->pos] == ']') {
        p->pos++;
        p->depth--;
        return OCCAM_OK;
    }
    size_t cap = 0;
    for (;;) {
        if (reserve((void **)&v->items, &cap, v->count + 1, sizeof *v->items))
            return out_of_memory(p);
        occam_json_value *item = &v->items[v->count++];
        memset(item, 0, sizeof *item);
        if ((rc = parse_value(p, item))) return rc;
        skip_ws(p);
        char what[32];
        if (p->pos < p->len && p->s[p->pos] == ',') {
            p->pos++;
        } else if (p->pos < p->len && p->s[p->pos] == ']') {
            p->pos++;
            break;
        } else {
            return fail(p, p->pos, "expected ',' or ']' in array, got %s", describe(p, what));
        }
    }
    p->depth--;
    return OCCAM_OK;
}

static int member_cmp(const void *a, const void *b)
{
    const occam_json_member *x = *(const occam_json_member *const *)a;
    const occam_json_member *y = *(const occam_json_member *const *)b;
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int c = memcmp(x->key, y->key, n);
    if (c) return c;
    return (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

static int check_unique_keys(parser *p, const occam_json_value *v, size_t at)
{
    if (v->count < 2) return OCCAM_OK;
    const occam_json_member **idx = malloc(v->count * sizeof *idx);
    if (!idx) return out_of_memory(p);
    for (size_t i = 0; i < v->count; i++) idx[i] = &v->members[i];
    qsort(idx, v->count, sizeof *idx, member_cmp);
    int rc = OCCAM_OK;
    for (size_t i = 1; i < v->count && rc == OCCAM_OK; i++) {
        if (member_cmp(&idx[i - 1], &idx[i]) == 0) {
            char name[128];
            if (occam_json_escape(name, sizeof name, idx[i]->key) < 0) strcpy(name, "...");
            rc = fail(p, at, "object has duplicate key \"%s\"", name);
        }
    }
    free(idx);
    return rc;
}

static int parse_object(parser *p, occam_json_value *v)
{
    size_t at = p->pos;
    v->type = OCCAM_JSON_OBJECT;
    int rc = enter(p);
    if (rc) return rc;
    if (p->pos < p->len && p->s[p->pos] == '}') {
        p->pos++;
        p->depth--;
        return OCCAM_OK;
    }
    size_t cap = 0;
    char what[32];
    for (;;) {
        if (p->pos >= p->len || p->s[p->pos] != '"')
            return fail(p, p->pos, "expected a string key in object, got %s", describe(p, what));
        if (reserve((void **)&v->members, &cap, v->count + 1, sizeof *v->members))
            return out_of_memory(p);
        occam_json_member *m = &v->members[v->count++];
        memset(m, 0, sizeof *m);
        if ((rc = parse_string(p, &m->key, &m->key_len))) return rc;
        skip_ws(p);
        if (p->pos >= p->len || p->s[p->pos] != ':')
            return fail(p, p->pos, "expected ':' after object key, got %s", describe(p, what));
        p->pos++;
        if ((rc = parse_value(p, &m->value))) return rc;
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ',') {
            p->pos++;
            skip_ws(p);
        } else if (p->pos < p->len && p->s[p->pos] == '}') {
            p->pos++;
            break;
        } else {
            return fail(p, p->pos, "expected ',' or '}' in object, got %s", describe(p, what));
        }
    }
    p->depth--;
    return check_unique_keys(p, v, at);
}

static int parse_literal(parser *p, const char *word)
{
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
        return fail(p, p->pos, "invalid literal (expected %s)", word);
    p->pos += n;
    return OCCAM_OK;
}

static int parse_value(parser *p, occam_json_value *v)
{
    skip_ws(p);
    char what[32];
    if (p->pos >= p->len) return fail(p, p->pos, "unexpected end of input, expected a value");
    if (++p->values > p->max_values)
        return fail(p, p->pos, "more than %zu values, the limit for this document", p->max_values);
    unsigned char c = p->s[p->pos];
    switch (c) {
    case '{': return parse_object(p, v);
    case '[': return parse_array(p, v);
    case '"':
        v->type = OCCAM_JSON_STRING;
        return parse_string(p, &v->str, &v->len);
    case 't':
        v->type = OCCAM_JSON_BOOL;
        v->boolean = true;
        return parse_literal(p, "true");
    case 'f':
        v->type = OCCAM_JSON_BOOL;
        return parse_literal(p, "false");
    case 'n': return parse_literal(p, "null");
    default:
        if (c == '-' || is_digit(c)) return parse_number(p, v);
        return fail(p, p->pos, "unexpected %s, expected a value", describe(p, what));
    }
}

int occam_json_parse(occam_json_value *out, const char *text, size_t len, occam_error *err)
{
    return occam_json_parse_limited(out, text, len, SIZE_MAX, err);
}

int occam_json_parse_limited(occam_json_value *out, const char *text, size_t len,
                             size_t max_values, occam_error *err)
{
    parser p = { (const unsigned char *)text, len, 0, 0, 0, max_values, err };
    memset(out, 0, sizeof *out);
    int rc = parse_value(&p, out);
    if (rc == OCCAM_OK) {
        skip_ws(&p);
        char what[32];
        if (p.pos < p.len)
            rc = fail(&p, p.pos, "unexpected %s after the JSON value", describe(&p, what));
    }
    if (rc != OCCAM_OK) occam_json_free(out);
    return rc;
}

void occam_json_free(occam_json_value *v)
{
    if (!v) return;
    switch (v->type) {
    case OCCAM_JSON_STRING: free(v->str); break;
    case OCCAM_JSON_ARRAY:
        for (size_t i = 0; i < v->count; i++) occam_json_free(&v->items[i]);
        free(v->items);
        break;
    case OCCAM_JSON_OBJECT:
        for (size_t i = 0; i < v->count; i++) {
            free(v->members[i].key);
            occam_json_free(&v->members[i].value);
        }
        free(v->members);
        break;
    default: break;
    }
    memset(v, 0, sizeof *v);
}

const occam_json_value *occam_json_get(const occam_json_value *v, const char *key)
{
    if (!v || v->type != OCCAM_JSON_OBJECT) return NULL;
    size_t n = strlen(key);
    for (size_t i = 0; i < v->count; i++) {
        const occam_json_member *m = &v->members[i];
        if (m->key_len == n && memcmp(m->key, key, n) == 0) return &m->value;
    }
    return NULL;
}
