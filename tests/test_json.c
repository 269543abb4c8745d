/* Tests for the JSON writer and parser.
 *
 * Writer tests compare exact output strings, captured with open_memstream, for nesting,
 * pretty-printing, escaping and number formatting. Parser tests check decoded values,
 * including \u escapes, surrogate pairs and int64 edges. They also run a table of malformed
 * documents, each of which must fail with OCCAM_ERR_INPUT and a message naming the byte
 * offset. Last, writer output must parse back to the strings that went in. */
#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "occam/json.h"

typedef struct capture {
    char *buf;
    size_t size;
    FILE *f;
    occam_json j;
} capture;

static void cap_open(capture *c, bool pretty)
{
    c->buf = NULL;
    c->size = 0;
    c->f = open_memstream(&c->buf, &c->size);
    cr_assert_not_null(c->f);
    occam_json_init(&c->j, c->f, pretty);
}

/* Finishes the document and returns the text (caller frees). */
static char *cap_close(capture *c)
{
    cr_assert_eq(occam_json_finish(&c->j), 0);
    cr_assert_eq(fclose(c->f), 0);
    return c->buf;
}

/* {"a":1,"b":[true,false,null],"c":{"d":"x","e":[]},"f":{},"g":[[1],[2,3]]} */
static void write_sample(occam_json *j)
{
    occam_json_begin_object(j);
    occam_json_key(j, "a");
    occam_json_int(j, 1);
    occam_json_key(j, "b");
    occam_json_begin_array(j);
    occam_json_bool(j, true);
    occam_json_bool(j, false);
    occam_json_null(j);
    occam_json_end_array(j);
    occam_json_key(j, "c");
    occam_json_begin_object(j);
    occam_json_key(j, "d");
    occam_json_string(j, "x");
    occam_json_key(j, "e");
    occam_json_begin_array(j);
    occam_json_end_array(j);
    occam_json_end_object(j);
    occam_json_key(j, "f");
    occam_json_begin_object(j);
    occam_json_end_object(j);
    occam_json_key(j, "g");
    occam_json_begin_array(j);
    occam_json_begin_array(j);
    occam_json_int(j, 1);
    occam_json_end_array(j);
    occam_json_begin_array(j);
    occam_json_int(j, 2);
    occam_json_int(j, 3);
    occam_json_end_array(j);
    occam_json_end_array(j);
    occam_json_end_object(j);
}

Test(json, writer_compact_nesting)
{
    capture c;
    cap_open(&c, false);
    write_sample(&c.j);
    char *s = cap_close(&c);
    cr_expect_str_eq(s, "{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"x\",\"e\":[]},\"f\":{},"
                        "\"g\":[[1],[2,3]]}");
    free(s);
}

Test(json, writer_pretty_nesting)
{
    capture c;
    cap_open(&c, true);
    write_sample(&c.j);
    char *s = cap_close(&c);
    cr_expect_str_eq(s, "{\n"
                        "  \"a\": 1,\n"
                        "  \"b\": [\n"
                        "    true,\n"
                        "    false,\n"
                        "    null\n"
                        "  ],\n"
                        "  \"c\": {\n"
                        "    \"d\": \"x\",\n"
                        "    \"e\": []\n"
                        "  },\n"
                        "  \"f\": {},\n"
                        "  \"g\": [\n"
                        "    [\n"
                        "      1\n"
                        "    ],\n"
                        "    [\n"
                        "      2,\n"
                        "      3\n"
                        "    ]\n"
                        "  ]\n"
                        "}");
    free(s);
}

Test(json, writer_top_level_scalar)
{
    capture c;
    cap_open(&c, true);
    occam_json_string(&c.j, "solo");
    char *s = cap_close(&c);
    cr_expect_str_eq(s, "\"solo\"");
    free(s);
}

Test(json, writer_raw_value)
{
    capture c;
    cap_open(&c, true);
    occam_json_begin_object(&c.j);
    occam_json_key(&c.j, "config");
    occam_json_raw(&c.j, "{\"lr\":0.1,\"layers\":[784,10]}");
    occam_json_key(&c.j, "list");
    occam_json_begin_array(&c.j);
    occam_json_raw(&c.j, " 1 ");
    occam_json_raw(&c.j, "null");
    occam_json_end_array(&c.j);
    occam_json_end_object(&c.j);
    char *s = cap_close(&c);
    cr_expect_str_eq(s, "{\n  \"config\": {\"lr\":0.1,\"layers\":[784,10]},\n  \"list\": [\n     1 ,"
                        "\n    null\n  ]\n}");
    free(s);
}

Test(json, writer_raw_rejects_invalid, .signal = SIGABRT)
{
    capture c;
    cap_open(&c, false);
    occam_json_raw(&c.j, "{\"a\":}");
}

Test(json, writer_escaping)
{
    capture c;
    cap_open(&c, false);
    occam_json_begin_object(&c.j);
    occam_json_key(&c.j, "k\"ey");
    occam_json_string(&c.j, "q\" b\\ s/ \b\f\n\r\t \x01\x1f\x7f caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    occam_json_key(&c.j, "bad");
    /* lone continuation byte, truncated 2-byte sequence, overlong '/', UTF-16 surrogate */
    occam_json_string(&c.j, "a\x80" "b\xc3" "c\xc0\xaf" "d\xed\xa0\x80");
    occam_json_end_object(&c.j);
    char *s = cap_close(&c);
    cr_expect_str_eq(s, "{\"k\\\"ey\":\"q\\\" b\\\\ s/ \\b\\f\\n\\r\\t \\u0001\\u001f\x7f "
                        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\","
                        "\"bad\":\"a\\ufffdb\\ufffdc\\ufffd\\ufffdd\\ufffd\\ufffd\\ufffd\"}");
    free(s);
}

Test(json, writer_numbers)
{
    capture c;
    cap_open(&c, false);
    occam_json_begin_array(&c.j);
    occam_json_number(&c.j, 0.1);
    occam_json_number(&c.j, 1.0 / 3.0);
    occam_json_number(&c.j, 1.5);
    occam_json_number(&c.j, -0.0);
    occam_json_number(&c.j, 0.0);
    occam_json_number(&c.j, 1e300);
    occam_json_number(&c.j, 123456789.0);
    occam_json_number(&c.j, 5e-324);
    occam_json_number(&c.j, NAN);
    occam_json_number(&c.j, INFINITY);
    occam_json_number(&c.j, -INFINITY);
    occam_json_int(&c.j, INT64_MIN);
    occam_json_int(&c.j, INT64_MAX);
    occam_json_uint(&c.j, UINT64_MAX);
    occam_json_end_array(&c.j);
    char *s = cap_close(&c);
    cr_expect_str_eq(s, "[0.1,0.3333333333333333,1.5,-0,0,1e+300,123456789,5e-324,"
                        "null,null,null,"
                        "-9223372036854775808,9223372036854775807,18446744073709551615]");
    free(s);
}

Test(json, number_shortest_round_trips)
{
    /* Every printed double must read back bit-identical. */
    double vals[] = { 0.1, 0.2, 0.3, 2.0 / 3.0, 1e-7, 123.456, 6.02214076e23, 1.7976931348623157e308,
                      2.2250738585072014e-308, 3.141592653589793 };
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        capture c;
        cap_open(&c, false);
        occam_json_number(&c.j, vals[i]);
        char *s = cap_close(&c);
        cr_expect_eq(strtod(s, NULL), vals[i], "%s", s);
        free(s);
    }
}

Test(json, escape_buffer)
{
    char buf[64];
    cr_expect_eq(occam_json_escape(buf, sizeof buf, "a\"b\\c\nd\x02"), 16);
    cr_expect_str_eq(buf, "a\\\"b\\\\c\\nd\\u0002");
    cr_expect_eq(occam_json_escape(buf, sizeof buf, ""), 0);
    cr_expect_str_eq(buf, "");
    /* "ab\n" escapes to 4 bytes: needs cap 5 for the NUL. */
    cr_expect_eq(occam_json_escape(buf, 5, "ab\n"), 4);
    cr_expect_str_eq(buf, "ab\\n");
    cr_expect_eq(occam_json_escape(buf, 4, "ab\n"), -1);
    cr_expect_str_eq(buf, "");
    cr_expect_eq(occam_json_escape(buf, 3, "ab\n"), -1); /* fails in the middle of an escape */
    cr_expect_eq(occam_json_escape(buf, 0, "x"), -1);
    cr_expect_eq(occam_json_escape(buf, 0, ""), -1);
    cr_expect_eq(occam_json_escape(buf, sizeof buf, "\xff"), 6);
    cr_expect_str_eq(buf, "\\ufffd");
}

/* ---- parser ---------------------------------------------------------------------------- */

static void parse_ok(occam_json_value *v, const char *text)
{
    occam_error err = { 0 };
    int rc = occam_json_parse(v, text, strlen(text), &err);
    cr_assert_eq(rc, OCCAM_OK, "parsing %s: %s", text, err.msg);
}

Test(json, parse_document)
{
    occam_json_value v;
    parse_ok(&v, " {\"name\": \"x\", \"n\": [1, -2, 3.5, 1e2, -0, 0.25e-1], \"ok\": true,\r\n"
                 "\t\"no\": false, \"nil\": null, \"o\": {\"inner\": []}} \n");
    cr_assert_eq(v.type, OCCAM_JSON_OBJECT);
    cr_assert_eq(v.count, 6);
    cr_expect_str_eq(v.members[0].key, "name");
    const occam_json_value *name = occam_json_get(&v, "name");
    cr_assert_not_null(name);
    cr_expect_eq(name->type, OCCAM_JSON_STRING);
    cr_expect_str_eq(name->str, "x");
    const occam_json_value *n = occam_json_get(&v, "n");
    cr_assert_eq(n->type, OCCAM_JSON_ARRAY);
    cr_assert_eq(n->count, 6);
    cr_expect(n->items[0].is_integer && n->items[0].integer == 1 && n->items[0].number == 1.0);
    cr_expect(n->items[1].is_integer && n->items[1].integer == -2);
    cr_expect(!n->items[2].is_integer && n->items[2].number == 3.5);
    cr_expect(!n->items[3].is_integer && n->items[3].number == 100.0);
    cr_expect(n->items[4].is_integer && n->items[4].integer == 0 && signbit(n->items[4].number));
    cr_expect_eq(n->items[5].number, 0.025);
    cr_expect(occam_json_get(&v, "ok")->type == OCCAM_JSON_BOOL && occam_json_get(&v, "ok")->boolean);
    cr_expect(occam_json_get(&v, "no")->type == OCCAM_JSON_BOOL && !occam_json_get(&v, "no")->boolean);
    cr_expect_eq(occam_json_get(&v, "nil")->type, OCCAM_JSON_NULL);
    const occam_json_value *o = occam_json_get(&v, "o");
    cr_expect(o->type == OCCAM_JSON_OBJECT && o->count == 1);
    cr_expect(occam_json_get(o, "inner")->type == OCCAM_JSON_ARRAY);
    cr_expect_eq(occam_json_get(o, "inner")->count, 0);
    cr_expect_null(occam_json_get(&v, "missing"));
    cr_expect_null(occam_json_get(n, "name")); /* not an object */
    occam_json_free(&v);
    cr_expect_eq(v.type, OCCAM_JSON_NULL);
    occam_json_free(&v); /* idempotent */
}

Test(json, parse_string_escapes)
{
    occam_json_value v;
    parse_ok(&v, "[\"a\\\"b\\\\c\\/d\\be\\ff\\ng\\rh\\ti\", \"\\u00e9\\u20AC\", "
                 "\"\\ud83d\\ude00\", \"x\\u0000y\", \"caf\xc3\xa9 \xf0\x9f\x98\x80\", \"\"]");
    cr_assert_eq(v.count, 6);
    cr_expect_str_eq(v.items[0].str, "a\"b\\c/d\be\ff\ng\rh\ti");
    cr_expect_str_eq(v.items[1].str, "\xc3\xa9\xe2\x82\xac");
    cr_expect_str_eq(v.items[2].str, "\xf0\x9f\x98\x80");
    cr_expect_eq(v.items[3].len, 3);
    cr_expect(memcmp(v.items[3].str, "x\0y", 4) == 0);
    cr_expect_str_eq(v.items[4].str, "caf\xc3\xa9 \xf0\x9f\x98\x80");
    cr_expect_eq(v.items[5].len, 0);
    cr_expect_str_eq(v.items[5].str, "");
    occam_json_free(&v);
}

Test(json, parse_integer_edges)
{
    occam_json_value v;
    parse_ok(&v, "[9223372036854775807, -9223372036854775808, 9223372036854775808, "
                 "-9223372036854775809, 123456789012345678901234567890, 1.0, 1E3]");
    cr_expect(v.items[0].is_integer && v.items[0].integer == INT64_MAX);
    cr_expect(v.items[1].is_integer && v.items[1].integer == INT64_MIN);
    cr_expect(!v.items[2].is_integer && v.items[2].number == 9223372036854775808.0);
    cr_expect(!v.items[3].is_integer);
    cr_expect(!v.items[4].is_integer && v.items[4].number > 1.2e29);
    cr_expect(!v.items[5].is_integer && v.items[5].number == 1.0);
    cr_expect(!v.items[6].is_integer && v.items[6].number == 1000.0);
    occam_json_free(&v);
}

Test(json, parse_scalars_and_len_delimited)
{
    occam_json_value v;
    parse_ok(&v, "42");
    cr_expect(v.type == OCCAM_JSON_NUMBER && v.integer == 42);
    occam_json_free(&v);
    parse_ok(&v, "\"s\"");
    cr_expect_str_eq(v.str, "s");
    occam_json_free(&v);
    /* The parser honours len: garbage after it is never read. */
    occam_error err = { 0 };
    cr_expect_eq(occam_json_parse(&v, "[1]xyz", 3, &err), OCCAM_OK);
    cr_expect_eq(v.count, 1);
    occam_json_free(&v);
    cr_expect_eq(occam_json_parse(&v, "[1]", 2, &err), OCCAM_ERR_INPUT);
}

typedef struct bad_case {
    const char *text;
    size_t len; /* 0: strlen(text) */
    const char *msg;
} bad_case;

Test(json, parse_rejects_invalid)
{
    static const bad_case cases[] = {
        { "", 0, "byte 0: unexpected end of input" },
        { "   ", 0, "byte 3: unexpected end of input" },
        { "{", 0, "expected a string key" },
        { "[", 0, "unexpected end of input" },
        { "[1,]", 0, "byte 3: unexpected ']'" },
        { "{\"a\":1,}", 0, "byte 7: expected a string key" },
        { "[1 2]", 0, "byte 3: expected ',' or ']'" },
        { "{\"a\" 1}", 0, "byte 5: expected ':'" },
        { "{1:2}", 0, "expected a string key" },
        { "{\"a\":1 \"b\":2}", 0, "expected ',' or '}'" },
        { "[1] x", 0, "byte 4: unexpected 'x' after the JSON value" },
        { "{} {}", 0, "after the JSON value" },
        { "01", 0, "leading zero" },
        { "-01", 0, "leading zero" },
        { "1.", 0, "digit expected after '.'" },
        { ".5", 0, "unexpected '.'" },
        { "+1", 0, "unexpected '+'" },
        { "1e", 0, "digit expected in exponent" },
        { "1e+", 0, "digit expected in exponent" },
        { "-", 0, "digit expected" },
        { "1e999", 0, "out of range" },
        { "NaN", 0, "unexpected 'N'" },
        { "tru", 0, "invalid literal" },
        { "nul", 0, "invalid literal" },
        { "True", 0, "unexpected 'T'" },
        { "\"abc", 0, "byte 0: unterminated string" },
        { "[\"abc\\\"]", 0, "unterminated string" },
        { "\"a\\x\"", 0, "byte 2: invalid escape '\\x'" },
        { "\"\\u12G4\"", 0, "expected 4 hex digits" },
        { "\"\\u12\"", 0, "expected 4 hex digits" },
        { "\"\\ud800\"", 0, "high surrogate" },
        { "\"\\ud800\\u0041\"", 0, "high surrogate" },
        { "\"\\udc00\"", 0, "lone low surrogate" },
        { "\"a\nb\"", 0, "byte 2: control character 0x0a" },
        { "\"a\tb\"", 0, "control character 0x09" },
        { "\"\xff\"", 0, "byte 1: invalid UTF-8" },
        { "\"\xc0\xaf\"", 0, "invalid UTF-8" },      /* overlong '/' */
        { "\"\xed\xa0\x80\"", 0, "invalid UTF-8" },  /* encoded surrogate */
        { "\"\xf4\x90\x80\x80\"", 0, "invalid UTF-8" }, /* above U+10FFFF */
        { "\"\xe2\x82\"", 0, "invalid UTF-8" },      /* truncated */
        { "\"a\0b\"", 5, "control character 0x00" },
        { "[1,\0]", 5, "unexpected byte 0x00" },
        { "\xef\xbb\xbf{}", 0, "unexpected byte 0xef" }, /* BOM */
        { "{\"a\":1,\"b\":2,\"a\":3}", 0, "byte 0: object has duplicate key \"a\"" },
        { "[{\"k\":1,\"k\":1}]", 0, "byte 1: object has duplicate key \"k\"" },
        { "// c\n{}", 0, "unexpected '/'" },
        { "[1,\v2]", 0, "unexpected byte 0x0b" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const bad_case *c = &cases[i];
        size_t len = c->len ? c->len : strlen(c->text);
        occam_json_value v;
        occam_error err = { 0 };
        int rc = occam_json_parse(&v, c->text, len, &err);
        cr_expect_eq(rc, OCCAM_ERR_INPUT, "case %zu (%s) was accepted", i, c->text);
        cr_expect_eq(v.type, OCCAM_JSON_NULL, "case %zu", i);
        cr_expect(strstr(err.msg, c->msg) != NULL, "case %zu (%s): got \"%s\", want \"%s\"", i,
                  c->text, err.msg, c->msg);
        cr_expect(strncmp(err.msg, "byte ", 5) == 0, "case %zu: %s", i, err.msg);
    }
}

static char *nested(int depth, char open, char close)
{
    char *s = malloc((size_t)depth * 2 + 1);
    memset(s, open, (size_t)depth);
    memset(s + depth, close, (size_t)depth);
    s[depth * 2] = '\0';
    return s;
}

Test(json, parse_depth_limit)
{
    occam_json_value v;
    occam_error err = { 0 };
    char *ok = nested(OCCAM_JSON_PARSE_DEPTH, '[', ']');
    cr_expect_eq(occam_json_parse(&v, ok, strlen(ok), &err), OCCAM_OK, "%s", err.msg);
    occam_json_free(&v);
    char *deep = nested(OCCAM_JSON_PARSE_DEPTH + 1, '[', ']');
    cr_expect_eq(occam_json_parse(&v, deep, strlen(deep), &err), OCCAM_ERR_INPUT);
    cr_expect(strstr(err.msg, "byte 64: nesting deeper than 64 levels") != NULL, "%s", err.msg);
    free(ok);
    free(deep);

    /* Far deeper input must not recurse further than the limit. */
    char *huge = nested(100000, '[', ']');
    cr_expect_eq(occam_json_parse(&v, huge, strlen(huge), &err), OCCAM_ERR_INPUT);
    free(huge);

    /* Objects count towards the same limit. */
    size_t n = OCCAM_JSON_PARSE_DEPTH + 1;
    char *obj = malloc(n * 5 + n + 2);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) o += (size_t)sprintf(obj + o, "{\"a\":");
    obj[o++] = '1';
    for (size_t i = 0; i < n; i++) obj[o++] = '}';
    obj[o] = '\0';
    cr_expect_eq(occam_json_parse(&v, obj, o, &err), OCCAM_ERR_INPUT);
    cr_expect(strstr(err.msg, "nesting deeper") != NULL, "%s", err.msg);
    free(obj);
}

Test(json, writer_output_parses_back)
{
    const char *strings[] = { "plain", "q\"\\/", "\b\f\n\r\t\x01\x1f", "caf\xc3\xa9 \xf0\x9f\x98\x80", "" };
    capture c;
    cap_open(&c, true);
    occam_json_begin_object(&c.j);
    for (size_t i = 0; i < 5; i++) {
        occam_json_key(&c.j, strings[i][0] ? strings[i] : "empty");
        occam_json_string(&c.j, strings[i]);
    }
    occam_json_key(&c.j, "pi");
    occam_json_number(&c.j, 3.141592653589793);
    occam_json_end_object(&c.j);
    char *s = cap_close(&c);

    occam_json_value v;
    parse_ok(&v, s);
    cr_assert_eq(v.count, 6);
    for (size_t i = 0; i < 5; i++) {
        cr_expect_str_eq(v.members[i].key, strings[i][0] ? strings[i] : "empty");
        cr_expect_str_eq(v.members[i].value.str, strings[i]);
    }
    cr_expect_eq(occam_json_get(&v, "pi")->number, 3.141592653589793);
    occam_json_free(&v);
    free(s);
}

Test(json, large_object_duplicate_check)
{
    /* 20000 distinct keys parse; the check is O(n log n) so this is quick. */
    size_t n = 20000, o = 0;
    char *text = malloc(n * 24 + 4);
    text[o++] = '{';
    for (size_t i = 0; i < n; i++) o += (size_t)sprintf(text + o, "%s\"k%zu\":%zu", i ? "," : "", i, i);
    text[o++] = '}';
    occam_json_value v;
    occam_error err = { 0 };
    cr_assert_eq(occam_json_parse(&v, text, o, &err), OCCAM_OK, "%s", err.msg);
    cr_expect_eq(v.count, n);
    cr_expect_eq(occam_json_get(&v, "k19999")->integer, 19999);
    occam_json_free(&v);
    free(text);
}

Test(json, parse_limited_counts_values)
{
    /* Every value counts one, keys do not: {"a":[1,"x"],"b":null} is 5 values. */
    const char *t = "{\"a\":[1,\"x\"],\"b\":null}";
    occam_json_value v;
    occam_error err = { 0 };
    cr_assert_eq(occam_json_parse_limited(&v, t, strlen(t), 5, &err), OCCAM_OK, "%s", err.msg);
    cr_expect_eq(v.count, 2);
    occam_json_free(&v);
    cr_assert_eq(occam_json_parse_limited(&v, t, strlen(t), 4, &err), OCCAM_ERR_INPUT);
    cr_expect_str_eq(err.msg, "byte 17: more than 4 values, the limit for this document");
    cr_expect_eq(v.type, OCCAM_JSON_NULL);
}
