/* occam/json.h — a small streaming JSON writer and a strict recursive-descent parser.
 *
 * The writer emits to a FILE * as the caller walks its data (begin/end object and array, key,
 * value). It keeps one "needs a comma" flag per open container, so it never buffers the
 * document. Misuse, such as a value where a key is due, unbalanced ends or nesting deeper than
 * OCCAM_JSON_MAX_DEPTH, is a programmer bug and hits OCCAM_ASSERT. Stream errors are sticky in
 * the FILE; check them once with occam_json_finish.
 *
 * The parser builds a tree of occam_json_value from a length-delimited buffer. It is strict
 * RFC 8259: no trailing commas, comments, leading zeros or bare words. It accepts only the four
 * JSON whitespace characters and only valid UTF-8 (no overlongs, surrogates or lone surrogate
 * escapes). Control characters must be escaped, and nothing may follow the value. It also
 * rejects duplicate keys within one object, because every occam consumer looks members up by
 * name. Nesting is limited to OCCAM_JSON_PARSE_DEPTH, so the recursion depth is bounded.
 *
 * Numbers go through printf/strtod, so both sides assume the "C" numeric locale (occam never
 * calls setlocale). */
#ifndef OCCAM_JSON_H
#define OCCAM_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "occam/error.h"

/* ---- writer ---------------------------------------------------------------------------- */

#define OCCAM_JSON_MAX_DEPTH 32

typedef struct occam_json {
    FILE *out;
    int depth;                             /* open containers */
    bool need_comma[OCCAM_JSON_MAX_DEPTH]; /* container at depth d+1 already has an item */
    bool is_object[OCCAM_JSON_MAX_DEPTH];  /* container at depth d+1 is an object */
    bool after_key;                        /* a key was written; its value is due */
    bool top_done;                         /* the top-level value has been written */
    bool pretty;                           /* newline + 2-space indent per level */
} occam_json;

/* Starts a document on out. Compact output is `{"a":[1,2]}`; pretty output puts every member
 * and element on its own line with a 2-space indent and writes ": " after keys. Empty containers
 * are `{}` / `[]` in both modes. No trailing newline is written. */
void occam_json_init(occam_json *j, FILE *out, bool pretty);
void occam_json_begin_object(occam_json *j);
void occam_json_end_object(occam_json *j);
void occam_json_begin_array(occam_json *j);
void occam_json_end_array(occam_json *j);
/* Object key; the next call must write its value. */
void occam_json_key(occam_json *j, const char *key);
/* A string value, escaped as for occam_json_escape. */
void occam_json_string(occam_json *j, const char *s);
/* The shortest decimal that reads back as the same double (at most 17 significant digits).
 * NaN and infinities are written as null. */
void occam_json_number(occam_json *j, double v);
void occam_json_int(occam_json *j, int64_t v);
void occam_json_uint(occam_json *j, uint64_t v);
void occam_json_bool(occam_json *j, bool v);
void occam_json_null(occam_json *j);
/* A value given as ready-made JSON text (e.g. a serialised config), copied verbatim; in
 * pretty mode it is not re-indented. Text that does not parse as one JSON value is a programmer
 * bug and hits OCCAM_ASSERT, so the document stays valid. */
void occam_json_raw(occam_json *j, const char *json_text);
/* Checks that every container was closed, then flushes. Returns 0, or -1 if the stream
 * reported an error on any write so far (ferror) or while flushing. */
int occam_json_finish(occam_json *j);

/* Escapes src (NUL-terminated, expected UTF-8) into dst as the body of a JSON string, without
 * the surrounding quotes, and NUL-terminates it. '"' and '\\' are backslash-escaped. \b \f \n
 * \r \t use their short forms and other control characters become \u00XX. Bytes that are not
 * valid UTF-8 become \ufffd, so the output is always valid JSON. Returns the length written
 * (excluding the NUL), or -1 if it does not fit in cap bytes; dst then holds "" when cap > 0. */
int occam_json_escape(char *dst, size_t cap, const char *src);

/* ---- parser ---------------------------------------------------------------------------- */

#define OCCAM_JSON_PARSE_DEPTH 64

typedef enum {
    OCCAM_JSON_NULL,
    OCCAM_JSON_BOOL,
    OCCAM_JSON_NUMBER,
    OCCAM_JSON_STRING,
    OCCAM_JSON_ARRAY,
    OCCAM_JSON_OBJECT,
} occam_json_type;

typedef struct occam_json_value occam_json_value;
typedef struct occam_json_member occam_json_member;

struct occam_json_value {
    occam_json_type type;
    bool boolean;               /* BOOL */
    bool is_integer;            /* NUMBER written without fraction/exponent and fitting int64 */
    double number;              /* NUMBER (always set, also for integers) */
    int64_t integer;            /* NUMBER, exact, when is_integer */
    char *str;                  /* STRING: decoded UTF-8, NUL-terminated */
    size_t len;                 /* STRING: byte length (str may hold \0 from \u0000) */
    size_t count;               /* ARRAY: elements; OBJECT: members */
    occam_json_value *items;    /* ARRAY elements */
    occam_json_member *members; /* OBJECT members, in document order, keys unique */
};

struct occam_json_member {
    char *key;      /* decoded, NUL-terminated */
    size_t key_len; /* byte length (key may hold \0 from \u0000) */
    occam_json_value value;
};

/* Parses text[0..len) as one JSON document into *out. On success returns OCCAM_OK and the caller
 * owns the tree (free with occam_json_free). On failure *out is a NULL value and the function
 * returns OCCAM_ERR_INPUT with err->msg "byte N: what is wrong" (N is the 0-based offset),
 * or OCCAM_ERR_RUNTIME with "out of memory". Callers prefix the message with the source name. */
int occam_json_parse(occam_json_value *out, const char *text, size_t len, occam_error *err);

/* As occam_json_parse, but refuses (OCCAM_ERR_INPUT, "byte N: more than M values ...") a
 * document of more than max_values values (every number, string, literal, array and object
 * counts one; keys do not). The tree takes about 64 bytes a value, so a reader of untrusted
 * files bounds its memory by what its format can hold: 100 MB of "[0,0,0,..." is 50 million
 * values, 3.2 GB as a tree. */
int occam_json_parse_limited(occam_json_value *out, const char *text, size_t len,
                             size_t max_values, occam_error *err);
/* Frees everything v owns and resets it to a NULL value; v itself is not freed. NULL is fine. */
void occam_json_free(occam_json_value *v);
/* The value of member key in an object, or NULL if v is not an object or has no such key. */
const occam_json_value *occam_json_get(const occam_json_value *v, const char *key);

#endif
