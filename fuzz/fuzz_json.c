/* libFuzzer harness for the JSON parser (occam_json_parse) and the writer behind it.
 *
 * The input is the document. Beyond "no crash, no leak, an honest status", a parse that fails
 * must leave a NULL value and name a byte inside the input; a parse that succeeds must give a
 * sound tree (strings NUL-terminated at their length and valid UTF-8, finite numbers whose
 * integer agrees with them, unique keys that occam_json_get finds, nesting within
 * OCCAM_JSON_PARSE_DEPTH), and the tree written back with the writer (compact or pretty, byte 0
 * picks) must parse to the same tree: that is how every report and checkpoint header is made and
 * read again. The input as a C string also goes through occam_json_escape, whose output quoted
 * must parse back to the same bytes (or U+FFFD where they were not UTF-8). */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "occam/json.h"

/* Whether s[0..n) is valid UTF-8, decoded independently of the parser (RFC 3629 table). */
static bool utf8_valid(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        size_t k;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c < 0x80) k = 1;
        else if (c >= 0xC2 && c <= 0xDF) k = 2;
        else if (c == 0xE0) k = 3, lo = 0xA0;
        else if (c == 0xED) k = 3, hi = 0x9F;
        else if (c >= 0xE1 && c <= 0xEF) k = 3;
        else if (c == 0xF0) k = 4, lo = 0x90;
        else if (c >= 0xF1 && c <= 0xF3) k = 4;
        else if (c == 0xF4) k = 4, hi = 0x8F;
        else return false;
        if (n - i < k) return false;
        for (size_t j = 1; j < k; j++) {
            unsigned char b = s[i + j];
            if (b < (j == 1 ? lo : 0x80) || b > (j == 1 ? hi : 0xBF)) return false;
        }
        i += k;
    }
    return true;
}

/* Checks the tree; returns its container depth (a scalar is 0). *nul is set when a string or
 * key holds a \u0000, which the NUL-terminated writer cannot carry. */
static int check_tree(const occam_json_value *v, bool *nul)
{
    int depth = 0;
    switch (v->type) {
    case OCCAM_JSON_NULL:
    case OCCAM_JSON_BOOL: break;
    case OCCAM_JSON_NUMBER:
        FUZZ_CHECK(isfinite(v->number));
        if (v->is_integer) FUZZ_CHECK(v->number == (double)v->integer);
        break;
    case OCCAM_JSON_STRING:
        FUZZ_CHECK(v->str && v->str[v->len] == '\0');
        FUZZ_CHECK(utf8_valid((const unsigned char *)v->str, v->len));
        *nul |= strlen(v->str) != v->len;
        break;
    case OCCAM_JSON_ARRAY:
        FUZZ_CHECK(v->count == 0 || v->items);
        for (size_t i = 0; i < v->count; i++) {
            int d = check_tree(&v->items[i], nul);
            if (d > depth) depth = d;
        }
        depth++;
        break;
    case OCCAM_JSON_OBJECT:
        FUZZ_CHECK(v->count == 0 || v->members);
        for (size_t i = 0; i < v->count; i++) {
            const occam_json_member *m = &v->members[i];
            FUZZ_CHECK(m->key && m->key[m->key_len] == '\0');
            FUZZ_CHECK(utf8_valid((const unsigned char *)m->key, m->key_len));
            for (size_t j = 0; j < i; j++)
                FUZZ_CHECK(v->members[j].key_len != m->key_len ||
                           memcmp(v->members[j].key, m->key, m->key_len) != 0);
            if (strlen(m->key) == m->key_len)
                FUZZ_CHECK(occam_json_get(v, m->key) == &m->value);
            else
                *nul = true;
            int d = check_tree(&m->value, nul);
            if (d > depth) depth = d;
        }
        depth++;
        break;
    default: FUZZ_CHECK(!"a value of no known type");
    }
    return depth;
}

static void write_tree(occam_json *j, const occam_json_value *v)
{
    switch (v->type) {
    case OCCAM_JSON_NULL: occam_json_null(j); break;
    case OCCAM_JSON_BOOL: occam_json_bool(j, v->boolean); break;
    case OCCAM_JSON_NUMBER:
        if (v->is_integer) occam_json_int(j, v->integer);
        else occam_json_number(j, v->number);
        break;
    case OCCAM_JSON_STRING: occam_json_string(j, v->str); break;
    case OCCAM_JSON_ARRAY:
        occam_json_begin_array(j);
        for (size_t i = 0; i < v->count; i++) write_tree(j, &v->items[i]);
        occam_json_end_array(j);
        break;
    case OCCAM_JSON_OBJECT:
        occam_json_begin_object(j);
        for (size_t i = 0; i < v->count; i++) {
            occam_json_key(j, v->members[i].key);
            write_tree(j, &v->members[i].value);
        }
        occam_json_end_object(j);
        break;
    }
}

/* b, parsed from a written a, is the same tree. A number written as an integer is the same
 * integer; any other number reads back with the same bits (the writer's shortest form), though
 * "1.0" comes back an integer. */
static void check_same(const occam_json_value *a, const occam_json_value *b)
{
    FUZZ_CHECK(a->type == b->type && a->count == b->count);
    switch (a->type) {
    case OCCAM_JSON_NULL: break;
    case OCCAM_JSON_BOOL: FUZZ_CHECK(a->boolean == b->boolean); break;
    case OCCAM_JSON_NUMBER:
        if (a->is_integer) FUZZ_CHECK(b->is_integer && a->integer == b->integer);
        else FUZZ_CHECK(memcmp(&a->number, &b->number, sizeof a->number) == 0);
        break;
    case OCCAM_JSON_STRING:
        FUZZ_CHECK(a->len == b->len && memcmp(a->str, b->str, a->len) == 0);
        break;
    case OCCAM_JSON_ARRAY:
        for (size_t i = 0; i < a->count; i++) check_same(&a->items[i], &b->items[i]);
        break;
    case OCCAM_JSON_OBJECT:
        for (size_t i = 0; i < a->count; i++) {
            const occam_json_member *x = &a->members[i], *y = &b->members[i];
            FUZZ_CHECK(x->key_len == y->key_len && memcmp(x->key, y->key, x->key_len) == 0);
            check_same(&x->value, &y->value);
        }
        break;
    }
}

static void check_round_trip(const occam_json_value *v, bool pretty)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    FUZZ_CHECK(mem != NULL);
    occam_json j;
    occam_json_init(&j, mem, pretty);
    write_tree(&j, v);
    FUZZ_CHECK(occam_json_finish(&j) == 0);
    FUZZ_CHECK(fclose(mem) == 0);
    occam_json_value again;
    occam_error err = {0};
    int rc = occam_json_parse(&again, buf, len, &err);
    if (rc != OCCAM_OK) {
        fprintf(stderr, "fuzz: the written JSON does not parse: %s\n--- written:\n%s\n", err.msg,
                buf);
        abort();
    }
    check_same(v, &again);
    occam_json_free(&again);
    free(buf);
}

/* occam_json_escape of text (a C string): quoted, it parses to text again, or to text with
 * each byte that is not UTF-8 replaced by U+FFFD. */
static void check_escape(const char *text)
{
    size_t n = strlen(text);
    size_t cap = 6 * n + 3;
    char *esc = malloc(cap);
    FUZZ_CHECK(esc != NULL);
    esc[0] = '"';
    int k = occam_json_escape(esc + 1, cap - 2, text);
    FUZZ_CHECK(k >= 0 && (size_t)k < cap - 2 && strlen(esc + 1) == (size_t)k);
    esc[k + 1] = '"';
    occam_json_value v;
    occam_error err = {0};
    int rc = occam_json_parse(&v, esc, (size_t)k + 2, &err);
    if (rc != OCCAM_OK) {
        fprintf(stderr, "fuzz: an escaped string does not parse: %s\n", err.msg);
        abort();
    }
    FUZZ_CHECK(v.type == OCCAM_JSON_STRING);
    if (utf8_valid((const unsigned char *)text, n))
        FUZZ_CHECK(v.len == n && memcmp(v.str, text, n) == 0);
    else
        FUZZ_CHECK(strstr(v.str, "\xEF\xBF\xBD") != NULL);
    occam_json_free(&v);
    /* a buffer one byte short fails, and leaves "" */
    if (k > 0) {
        FUZZ_CHECK(occam_json_escape(esc, (size_t)k, text) == -1 && esc[0] == '\0');
    }
    free(esc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    occam_json_value v;
    memset(&v, 0xA5, sizeof v); /* the parser must not rely on a zeroed output */
    occam_error err = {0};
    int rc = occam_json_parse(&v, (const char *)data, size, &err);
    fuzz_check_status("occam_json_parse", rc, &err, NULL);
    if (rc != OCCAM_OK) {
        occam_json_value null = {0};
        FUZZ_CHECK(memcmp(&v, &null, sizeof v) == 0);
        size_t at;
        if (rc == OCCAM_ERR_INPUT)
            FUZZ_CHECK(sscanf(err.msg, "byte %zu: ", &at) == 1 && at <= size);
    } else {
        bool nul = false;
        int depth = check_tree(&v, &nul);
        FUZZ_CHECK(depth <= OCCAM_JSON_PARSE_DEPTH);
        /* the writer nests at most OCCAM_JSON_MAX_DEPTH deep and writes C strings */
        if (!nul && depth <= OCCAM_JSON_MAX_DEPTH) check_round_trip(&v, size && data[0] & 1);
        occam_json_free(&v);
        FUZZ_CHECK(v.type == OCCAM_JSON_NULL && v.str == NULL && v.items == NULL &&
                   v.members == NULL);
    }
    char *text = malloc(size + 1);
    FUZZ_CHECK(text != NULL);
    memcpy(text, data, size);
    text[size] = '\0';
    check_escape(text);
    free(text);
    return 0;
}
