/* The config's key types: for each kind of row in the key table (config.c), how its text
 * becomes its field and back, how its value is written as JSON, what the help table says it
 * accepts, and the invariants its rows must keep.
 *
 * Each key type is one row of `key_types[]`: its parser, its formatter, its JSON form, its help
 * text and its rows' invariants, which every reader and writer dispatches through; adding a
 * type is adding a row. Beyond scalars there are four compound types: int lists (model.layers),
 * double lists (prune.layer_targets, which may be empty), N:M pairs (prune.nm, two int fields)
 * and an enum whose one tagged value takes an integer argument (prune.rewind = none | init |
 * epoch:N, an enum field and an int field).
 *
 * Every value the setters accept can be written back as INI and read again bit for bit:
 * doubles (alone or in lists) are printed as the shortest decimal that reads back the same (at
 * most 17 digits) and paths that an INI line could not hold (control characters, a ';' that
 * would start a comment) are refused up front. The one exception is length: a path, or a
 * prune.layer_targets list of many long decimals, longer than an INI line allows (197
 * characters with the key) can be set with --set but not written to an INI file that loads
 * again. */
#include "config-impl.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "occam/json.h"
/* ---- small helpers ---------------------------------------------------------------------- */

static void *field_ptr(occam_config *cfg, size_t off) { return (char *)cfg + off; }
static const void *field_cptr(const occam_config *cfg, size_t off)
{
    return (const char *)cfg + off;
}

/* "[1, 1000000]" or "(0, 100]". */
static void fmt_bounds(char *buf, size_t cap, const config_key *k)
{
    char lo[25], hi[25]; /* any double: occam_error_spell_double */
    occam_error_spell_double(lo, sizeof lo, k->lo);
    occam_error_spell_double(hi, sizeof hi, k->hi);
    snprintf(buf, cap, "%c%s, %s%c", (k->open & OPEN_LO) ? '(' : '[', lo, hi,
             (k->open & OPEN_HI) ? ')' : ']');
}

static bool in_bounds(const config_key *k, double v)
{
    if (!(v >= k->lo && v <= k->hi)) /* NaN fails too */
        return false;
    return !((k->open & OPEN_LO) && v == k->lo) && !((k->open & OPEN_HI) && v == k->hi);
}

/* Trims s in place and returns the first non-blank character. */
char *config_trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* ---- lexical helpers --------------------------------------------------------------------- */

/* Decimal integer, optional sign, nothing else. Returns false if malformed; saturates (and
 * lets the bounds check complain) on overflow. */
bool occam_config_integer(const char *s, int64_t *out)
{
    const char *p = (*s == '+' || *s == '-') ? s + 1 : s;
    if (!*p)
        return false;
    for (const char *q = p; *q; q++)
        if (!isdigit((unsigned char)*q))
            return false;
    *out = strtoll(s, NULL, 10);
    return true;
}

/* Decimal floating point only: the character check rules out hex, inf, nan and blanks that
 * strtod would accept; the end pointer rules out trailing garbage such as "1.5.2". */
bool occam_config_number(const char *s, double *out)
{
    if (!*s || strspn(s, "0123456789+-.eE") != strlen(s))
        return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end)
        return false;
    /* Overflow gives ±HUGE_VAL, which the bounds reject; underflow gives the nearest
     * subnormal, the value written as well as a double holds it, or 0, which the key parsers
     * refuse for a nonzero literal (underflows). */
    *out = v;
    return true;
}

/* Whether s is valid UTF-8: the JSON writer would replace bad bytes, so the config it wrote
 * would not be the one given. */
static bool utf8_valid(const unsigned char *s)
{
    while (*s) {
        int n;
        unsigned c = *s;
        if (c < 0x80)
            n = 0;
        else if (c >= 0xC2 && c <= 0xDF)
            n = 1;
        else if (c >= 0xE0 && c <= 0xEF)
            n = 2;
        else if (c >= 0xF0 && c <= 0xF4)
            n = 3;
        else
            return false;
        uint32_t cp = n == 0 ? c : c & (0x3Fu >> n);
        for (int i = 1; i <= n; i++) {
            if ((s[i] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (s[i] & 0x3F);
        }
        if ((n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
            (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
            return false;
        s += n + 1;
    }
    return true;
}

/* ---- the key types: text -> field (parse), field -> text (format) ------------------------ */

/* Each parser reads value (already trimmed) into k's field of cfg. On failure it leaves cfg
 * unchanged, writes what is wrong into detail ("must be in (0, 100]") and returns false. Each
 * formatter writes text that its parser reads back identically. */

/* A decimal integer within the row's bounds. */
static bool bounded_int(const config_key *k, const char *s, int64_t *v, char *detail, size_t cap)
{
    if (!occam_config_integer(s, v)) {
        snprintf(detail, cap, "not an integer");
        return false;
    }
    if (!in_bounds(k, (double)*v)) {
        char b[96];
        fmt_bounds(b, sizeof b, k);
        snprintf(detail, cap, "must be in %s", b);
        return false;
    }
    return true;
}

static bool int_parse(const config_key *k, const char *s, occam_config *cfg, char *detail,
                      size_t cap)
{
    int64_t v;
    if (!bounded_int(k, s, &v, detail, cap))
        return false;
    *(int *)field_ptr(cfg, k->off) = (int)v;
    return true;
}

static void int_format(const config_key *k, const occam_config *cfg, char *buf, size_t cap)
{
    snprintf(buf, cap, "%d", *(const int *)field_cptr(cfg, k->off));
}

static bool int64_parse(const config_key *k, const char *s, occam_config *cfg, char *detail,
                        size_t cap)
{
    int64_t v;
    if (!bounded_int(k, s, &v, detail, cap))
        return false;
    *(int64_t *)field_ptr(cfg, k->off) = v;
    return true;
}

static void int64_format(const config_key *k, const occam_config *cfg, char *buf, size_t cap)
{
    snprintf(buf, cap, "%" PRId64, *(const int64_t *)field_cptr(cfg, k->off));
}

static bool uint64_parse(const config_key *k, const char *s, occam_config *cfg, char *detail,
                         size_t cap)
{
    if (strspn(s, "0123456789") != strlen(s)) {
        snprintf(detail, cap, "not an unsigned integer");
        return false;
    }
    errno = 0;
    unsigned long long v = strtoull(s, NULL, 10);
    if (errno == ERANGE) {
        snprintf(detail, cap, "must be at most %" PRIu64, UINT64_MAX);
        return false;
    }
    *(uint64_t *)field_ptr(cfg, k->off) = (uint64_t)v;
    return true;
}

static void uint64_format(const config_key *k, const occam_config *cfg, char *buf, size_t cap)
{
    snprintf(buf, cap, "%" PRIu64, *(const uint64_t *)field_cptr(cfg, k->off));
}

/* A literal with a nonzero digit before its exponent that reads as 0: below the least
 * double (1e-400). Where 0 means "automatic" (mdl.weight_precision: search; noise.prior_sigma:
 * learned) it switched mode without a word (found by the third hostile-input sweep). */
static bool underflows(const char *s, double v)
{
    if (v != 0) return false;
    for (; *s && *s != 'e' && *s != 'E'; s++)
        if (*s >= '1' && *s <= '9') return true;
    return false;
}

#define UNDERFLOW_DETAIL "nonzero but below the least double (about 5e-324), so it would read " \
                         "as 0; write 0 if 0 is meant"

static bool double_parse(const config_key *k, const char *s, occam_config *cfg, char *detail,
                         size_t cap)
{
    double v;
    if (!occam_config_number(s, &v)) {
        snprintf(detail, cap, "not a decimal number");
        return false;
    }
    if (underflows(s, v)) {
        snprintf(detail, cap, UNDERFLOW_DETAIL);
        return false;
    }
    if (!in_bounds(k, v)) {
        char b[96];
        fmt_bounds(b, sizeof b, k);
        snprintf(detail, cap, "must be in %s", b);
        return false;
    }
    *(double *)field_ptr(cfg, k->off) = v;
    return true;
}

static void double_format(const config_key *k, const occam_config *cfg, char *buf, size_t cap)
{
    occam_error_spell_double(buf, cap, *(const double *)field_cptr(cfg, k->off));
}

static bool bool_parse(const config_key *k, const char *s, occam_config *cfg, char *detail,
                       size_t cap)
{
    bool v;
    if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "1"))
        v = true;
    else if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "0"))
        v = false;
    else {
        snprintf(detail, cap, "expected true, false, yes, no, 1 or 0");
        return false;
    }
    *(bool *)field_ptr(cfg, k->off) = v;
    return true;
}

static void bool_format(const config_key *k, const occam_config *cfg, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", *(const bool *)field_cptr(cfg, k->off) ? "true" : "false");
}

static int name_count(const config_key *k)
{
    int n = 0;
    while (k->names[n])
        n++;
    return n;
}

static bool enum_parse(const config_key *k, const char *s, occam_config *cfg, char *detail,
                       size_t cap)
{
    for (int i = 0; k->names[i]; i++) {
        if (!strcmp(s, k->names[i])) {
            *(int *)field_ptr(cfg, k->off) = i;
            return true;
        }
    }
    int n = snprintf(detail, cap, "expected one of ");
    for (int i = 0; k->names[i] && n >= 0 && (size_t)n < cap; i++)
        n += snprintf(detail + n, cap - (size_t)n, "%s%s", i ? ", " : "", k->names[i]);
    return false;
}

static void enum_format(const config_key *k, const occam_config *cfg, char *buf, size_t cap)
{
    int v = *(const int *)field_cptr(cfg, k->off);
    /* An out-of-range value (set by code, not by us) prints as a number, which
     * occam_config_validate then rejects through config_key_parse. */
    if (v >= 0 && v < name_count(k))
        snprintf(buf, cap, "%s", k->names[v]);
    else
        snprintf(buf, cap, "%d", v);
}

/* Whether text s of n bytes may be a path's or a name's value: shorter than max, no control
 * characters, nothing an INI file would read otherwise; detail says why not. */
static bool text_value_ok(const char *s, size_t n, size_t max, char *detail, size_t cap)
{
    if (n >= max) {
        snprintf(detail, cap, "too long: %zu characters (max %zu)", n, max - 1);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        /* C0, DEL, and the C1 controls U+0080..U+009F (UTF-8 0xC2 0x80..0x9F): some terminals
         * obey U+009B as CSI, and a path is echoed as it is (--print-config, select's labels). */
        if (c < 0x20 || c == 0x7F ||
            (c == 0xC2 && (unsigned char)s[i + 1] >= 0x80 && (unsigned char)s[i + 1] <= 0x9F)) {
            snprintf(detail, cap, "contains a control character");
            return false;
        }
        /* INI reads ';' at the start of a value or after a blank as a comment: such a path
         * could be set with --set but not written to an INI file and read back. */
        if (c == ';' && (i == 0 || isspace((unsigned char)s[i - 1]))) {
            snprintf(detail, cap, "contains a ';' at its start or after a blank, which INI "
                                  "files read as a comment");
            return false;
        }
    }
    if (n > 0 && (isspace((unsigned char)s[0]) || isspace((unsigned char)s[n - 1]))) {
        snprintf(detail, cap, "starts or ends with a blank");
        return false;
    }
    /* INI values take no quotes: train = "x.csv" looked for a file named with them ("cannot
     * open", no word of why), and an output would have been made so */
    if (n >= 2 && (s[0] == '"' || s[0] == '\'') && s[n - 1] == s[0]) {
        snprintf(detail, cap, "is in quotes, which are part of an INI value: write it without "
                              "them");
        return false;
    }
    if (!utf8_valid((const unsigned char *)s)) {
        snprintf(detail, cap, "is not valid UTF-8");
        return false;
    }
    return true;
}

static bool path_parse(const config_key *k, const char *s, occam_config *cfg, char *detail,
                       size_t cap)
{
    size_t n = strlen(s);
    if (!text_value_ok(s, n, OCCAM_PATH_MAX, detail, cap)) return false;
    /* Clear the whole buffer so configs holding equal values compare equal with memcmp. */
    char *dst = field_ptr(cfg, k->off);
    memset(dst, 0, OCCAM_PATH_MAX);
    memcpy(dst, s, n);
    return true;
}

static void path_format(const config_key *k, const occam_config *cfg, char *buf, size_t cap)
{
    const char *p = field_cptr(cfg, k->off);
    snprintf(buf, cap, "%.*s", (int)strnlen(p, OCCAM_PATH_MAX), p);
}

/* first, last, a column number, or else the name of the column in the file's header (a name
 * that reads as a whole number is a column number, and "first" and "last" are the words). */
static bool label_parse(const config_key *k, const char *s, occam_config *cfg, char *detail,
                        size_t cap)
{
    int64_t v;
    char *name = field_ptr(cfg, k->off2);
    size_t n = strlen(s);
    if (!strcmp(s, "first"))
        v = OCCAM_LABEL_FIRST;
    else if (!strcmp(s, "last"))
        v = OCCAM_LABEL_LAST;
    else if (occam_config_integer(s, &v)) {
        if (!in_bounds(k, (double)v)) {
            snprintf(detail, cap, "expected first, last, a column number from %.0f to %.0f or "
                     "a name from the file's header", k->lo, k->hi);
            return false;
        }
    } else {
        if (n == 0) {
            snprintf(detail, cap, "expected first, last, a column number or a name from the "
                     "file's header");
            return false;
        }
        if (!text_value_ok(s, n, OCCAM_LABEL_NAME_MAX, detail, cap)) return false;
        memset(name, 0, OCCAM_LABEL_NAME_MAX); /* for memcmp, as paths */
        memcpy(name, s, n);
        *(int *)field_ptr(cfg, k->off) = OCCAM_LABEL_NAMED;
        return true;
    }
    memset(name, 0, OCCAM_LABEL_NAME_MAX);
    *(int *)field_ptr(cfg, k->off) = (int)v;
    return true;
}

static void label_format(const config_key *k, const occam_config *cfg, char *buf, size_t cap)
{
    int v = *(const int *)field_cptr(cfg, k->off);
    const char *name = field_cptr(cfg, k->off2);
    if (v == OCCAM_LABEL_FIRST)
        snprintf(buf, cap, "first");
    else if (v == OCCAM_LABEL_LAST)
        snprintf(buf, cap, "last");
    else if (v == OCCAM_LABEL_NAMED)
        snprintf(buf, cap, "%.*s", (int)strnlen(name, OCCAM_LABEL_NAME_MAX), name);
    else
        snprintf(buf, cap, "%d", v);
}

/* Comma-separated entries: integers (KEY_LIST) or decimals (KEY_DLIST), each within the row's
 * bounds. An empty value is no entries; config_key_parse lets it through only when min_count is
 * 0. */
static bool list_parse(const config_key *k, const char *s, occam_config *cfg, char *detail,
                       size_t cap)
{
    double vals[64]; /* int entries are within INT range (table_check), so exact as doubles */
    OCCAM_ASSERT(k->max_count <= (int)(sizeof vals / sizeof vals[0]));
    char buf[VALUE_MAX];
    if (strlen(s) >= sizeof buf) {
        snprintf(detail, cap, "too long");
        return false;
    }
    strcpy(buf, s);
    int n = 0;
    for (char *item = buf; *buf;) {
        char *comma = strchr(item, ',');
        if (comma)
            *comma = '\0';
        if (n == k->max_count) {
            snprintf(detail, cap, "more than %d entries", k->max_count);
            return false;
        }
        char *t = config_trim(item);
        if (!*t) {
            snprintf(detail, cap, "entry %d is empty", n + 1);
            return false;
        }
        double v;
        if (k->type == KEY_LIST) {
            int64_t iv;
            if (!occam_config_integer(t, &iv)) {
                snprintf(detail, cap, "entry %d (%.40s) is not an integer", n + 1, t);
                return false;
            }
            v = (double)iv; /* saturated or huge values fail the bounds below */
        } else if (!occam_config_number(t, &v)) {
            snprintf(detail, cap, "entry %d (%.40s) is not a decimal number", n + 1, t);
            return false;
        } else if (underflows(t, v)) {
            snprintf(detail, cap, "entry %d (%.40s) is " UNDERFLOW_DETAIL, n + 1, t);
            return false;
        }
        if (!in_bounds(k, v)) {
            char b[96];
            fmt_bounds(b, sizeof b, k);
            snprintf(detail, cap, "entry %d (%.40s) must be in %s", n + 1, t, b);
            return false;
        }
        vals[n++] = v;
        if (!comma)
            break;
        item = comma + 1;
    }
    if (n < k->min_count) {
        snprintf(detail, cap, "needs %d to %d comma-separated entries, got %d", k->min_count,
                 k->max_count, n);
        return false;
    }
    /* Clear the whole array, so configs holding equal lists compare equal with memcmp. */
    if (k->type == KEY_LIST) {
        int *dst = field_ptr(cfg, k->off);
        memset(dst, 0, (size_t)k->len * sizeof *dst);
        for (int i = 0; i < n; i++)
            dst[i] = (int)vals[i];
    } else {
        double *dst = field_ptr(cfg, k->off);
        memset(dst, 0, (size_t)k->len * sizeof *dst);
        memcpy(dst, vals, (size_t)n * sizeof *dst);
    }
    *(int *)field_ptr(cfg, k->off2) = n;
    return true;
}

/* A list row's entry count, or 0 if it is outside [0, max_count] (only code can set that). */
static int list_count(const config_key *k, const occam_config *cfg)
{
    int n = *(const int *)field_cptr(cfg, k->off2);
    return n >= 0 && n <= k->max_count ? n : 0;
}

static void list_format(const config_key *k, const occam_config *cfg, char *buf, size_t cap)
{
    /* A corrupt count (set by code) prints as "", and occam_config_validate reports the count
     * before it gets here. */
    const void *p = field_cptr(cfg, k->off);
    int n = list_count(k, cfg), len = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && len >= 0 && (size_t)len < cap; i++) {
        char d[40];
        if (k->type == KEY_LIST)
            snprintf(d, sizeof d, "%d", ((const int *)p)[i]);
        else
            occam_error_spell_double(d, sizeof d, ((const double *)p)[i]);
        len += snprintf(buf + len, cap - (size_t)len, "%s%s", i ? "," : "", d);
    }
}

/* Splits "a:b" at its first ':' into trimmed halves in buf. False if there is no ':' or s does
 * not fit. */
static bool split_colon(const char *s, char *buf, size_t cap, char **a, char **b)
{
    if (strlen(s) >= cap)
        return false;
    strcpy(buf, s);
    char *colon = strchr(buf, ':');
    if (!colon)
        return false;
    *colon = '\0';
    *a = config_trim(buf);
    *b = config_trim(colon + 1);
    return true;
}

/* "N:M" (blanks allowed around either number) with lo <= N < M <= hi. */
static bool nm_parse(const config_key *k, const char *s, occam_config *cfg, char *detail,
                     size_t cap)
{
    char buf[64], *a, *b;
    int64_t n, m;
    if (!split_colon(s, buf, sizeof buf, &a, &b) || !occam_config_integer(a, &n) ||
        !occam_config_integer(b, &m)) {
        snprintf(detail, cap, "expected N:M, two integers with %.0f <= N < M <= %.0f (e.g. 2:4)",
                 k->lo, k->hi);
        return false;
    }
    if (!(n >= k->lo && n < m && m <= k->hi)) {
        snprintf(detail, cap, "expected %.0f <= N < M <= %.0f", k->lo, k->hi);
        return false;
    }
    *(int *)field_ptr(cfg, k->off) = (int)n;
    *(int *)field_ptr(cfg, k->off2) = (int)m;
    return true;
}

static void nm_format(const config_key *k, const occam_config *cfg, char *buf, size_t cap)
{
    snprintf(buf, cap, "%d:%d", *(const int *)field_cptr(cfg, k->off),
             *(const int *)field_cptr(cfg, k->off2));
}

/* One of the names, or names[tag] ":" N (blanks allowed around N) with N in [lo, hi]. The
 * argument is 0 for the untagged names, so equal settings compare equal with memcmp. */
static bool tagged_parse(const config_key *k, const char *s, occam_config *cfg, char *detail,
                         size_t cap)
{
    for (int i = 0; k->names[i]; i++) {
        if (i != k->tag && !strcmp(s, k->names[i])) {
            *(int *)field_ptr(cfg, k->off) = i;
            *(int *)field_ptr(cfg, k->off2) = 0;
            return true;
        }
    }
    char buf[64], *a, *b;
    int64_t v;
    if (split_colon(s, buf, sizeof buf, &a, &b) && !strcmp(a, k->names[k->tag]) &&
        occam_config_integer(b, &v) && v >= k->lo && v <= k->hi) {
        *(int *)field_ptr(cfg, k->off) = k->tag;
        *(int *)field_ptr(cfg, k->off2) = (int)v;
        return true;
    }
    /* "expected none, init or epoch:N with N in [0, 1000000]" */
    int nn = name_count(k);
    int len = snprintf(detail, cap, "expected ");
    for (int i = 0; i < nn && len >= 0 && (size_t)len < cap; i++)
        len += snprintf(detail + len, cap - (size_t)len, "%s%s%s",
                        i == 0 ? "" : i == nn - 1 ? " or " : ", ", k->names[i],
                        i == k->tag ? ":N" : "");
    if (len >= 0 && (size_t)len < cap)
        snprintf(detail + len, cap - (size_t)len, " with N in [%.0f, %.0f]", k->lo, k->hi);
    return false;
}

static void tagged_format(const config_key *k, const occam_config *cfg, char *buf, size_t cap)
{
    int v = *(const int *)field_cptr(cfg, k->off);
    if (v == k->tag)
        snprintf(buf, cap, "%s:%d", k->names[v], *(const int *)field_cptr(cfg, k->off2));
    else if (v >= 0 && v < name_count(k))
        snprintf(buf, cap, "%s", k->names[v]);
    else /* out of range: a number, which validation rejects */
        snprintf(buf, cap, "%d", v);
}

/* ---- the key types: JSON ------------------------------------------------------------------ */

void config_sink_printf(sink *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = s->len < s->cap ? s->cap - s->len : 0;
    int n = vsnprintf(room ? s->buf + s->len : NULL, room, fmt, ap);
    if (n > 0)
        s->len += (size_t)n;
    va_end(ap);
}

/* str as a quoted JSON string, escaped by base/json.c like every other JSON string occam writes.
 * A string that does not fit just moves the count to the end: the caller then reports that the
 * whole did not fit. */
static void json_string(sink *s, const char *str)
{
    config_sink_printf(s, "\"");
    size_t room = s->len < s->cap ? s->cap - s->len : 0;
    int n = room ? occam_json_escape(s->buf + s->len, room, str) : -1;
    s->len = n >= 0 ? s->len + (size_t)n : s->cap;
    config_sink_printf(s, "\"");
}

/* Each writes k's value as JSON; text is its INI spelling (config_key_format). Numbers and
 * bools are JSON numbers and bools, enums and paths strings, lists arrays (of ints or doubles);
 * the label is "first", "last" or a column number, as in the INI file; N:M ("2:4") and tagged
 * enums ("epoch:3") are strings in their INI spelling. */
static void json_plain(sink *s, const config_key *k, const occam_config *cfg, const char *text)
{
    (void)k;
    (void)cfg;
    config_sink_printf(s, "%s", text); /* integers and bools print the same in INI and JSON */
}

static void json_quoted(sink *s, const config_key *k, const occam_config *cfg, const char *text)
{
    (void)k;
    (void)cfg;
    json_string(s, text);
}

static void json_label(sink *s, const config_key *k, const occam_config *cfg, const char *text)
{
    int v = *(const int *)field_cptr(cfg, k->off);
    if (v != OCCAM_LABEL_FIRST && v != OCCAM_LABEL_LAST && v != OCCAM_LABEL_NAMED)
        config_sink_printf(s, "%s", text);
    else
        json_string(s, text);
}

static void json_double(sink *s, const config_key *k, const occam_config *cfg, const char *text)
{
    /* NaN and infinities only get here if validation was skipped. */
    config_sink_printf(s, "%s", isfinite(*(const double *)field_cptr(cfg, k->off)) ? text : "null");
}

static void json_list(sink *s, const config_key *k, const occam_config *cfg, const char *text)
{
    (void)k;
    (void)cfg;
    config_sink_printf(s, "[%s]", text);
}

static void json_dlist(sink *s, const config_key *k, const occam_config *cfg, const char *text)
{
    (void)text; /* entry by entry, for the non-finite ones */
    const double *v = field_cptr(cfg, k->off);
    config_sink_printf(s, "[");
    for (int j = 0, n = list_count(k, cfg); j < n; j++) {
        char d[40];
        occam_error_spell_double(d, sizeof d, v[j]);
        config_sink_printf(s, "%s%s", j ? "," : "", isfinite(v[j]) ? d : "null");
    }
    config_sink_printf(s, "]");
}

/* ---- the key types: the help table's "allowed" column -------------------------------------- */

/* What a key accepts: "[1, 1000000]", "idx|csv|blobs", ... */
static void bounds_allowed(const config_key *k, char *buf, size_t cap)
{
    fmt_bounds(buf, cap, k);
}

static void uint64_allowed(const config_key *k, char *buf, size_t cap)
{
    (void)k;
    snprintf(buf, cap, "[0, 2^64-1]");
}

static void bool_allowed(const config_key *k, char *buf, size_t cap)
{
    (void)k;
    snprintf(buf, cap, "true|false");
}

static void enum_allowed(const config_key *k, char *buf, size_t cap)
{
    int n = 0;
    buf[0] = '\0';
    for (int i = 0; k->names[i] && n >= 0 && (size_t)n < cap; i++)
        n += snprintf(buf + n, cap - (size_t)n, "%s%s", i ? "|" : "", k->names[i]);
}

static void path_allowed(const config_key *k, char *buf, size_t cap)
{
    (void)k;
    snprintf(buf, cap, "max %d chars", OCCAM_PATH_MAX - 1);
}

static void list_allowed(const config_key *k, char *buf, size_t cap)
{
    char b[64];
    fmt_bounds(b, sizeof b, k);
    snprintf(buf, cap, "%d-%d x %s", k->min_count, k->max_count, b);
}

static void label_allowed(const config_key *k, char *buf, size_t cap)
{
    snprintf(buf, cap, "first|last|%.0f..%.0f|NAME", k->lo, k->hi);
}

static void nm_allowed(const config_key *k, char *buf, size_t cap)
{
    snprintf(buf, cap, "%.0f <= N < M <= %.0f", k->lo, k->hi);
}

static void tagged_allowed(const config_key *k, char *buf, size_t cap)
{
    char b[64];
    int n = 0;
    buf[0] = '\0';
    for (int i = 0; k->names[i] && n >= 0 && (size_t)n < cap; i++) {
        if (i == k->tag)
            snprintf(b, sizeof b, ":%.0f..%.0f", k->lo, k->hi);
        n += snprintf(buf + n, cap - (size_t)n, "%s%s%s", i ? "|" : "", k->names[i],
                      i == k->tag ? b : "");
    }
}

/* ---- the key types: each row's invariants (a failure is a bug in the rows above) ---------- */

static void int_rules(const config_key *k)
{
    OCCAM_ASSERT(k->lo >= INT_MIN && k->hi <= INT_MAX && k->open == 0);
}

static void int64_rules(const config_key *k) { OCCAM_ASSERT(k->open == 0); }

static void double_rules(const config_key *k)
{
    OCCAM_ASSERT(k->lo < k->hi || (k->lo == k->hi && k->open == 0));
}

static void enum_rules(const config_key *k) { OCCAM_ASSERT(k->names && k->names[0]); }

static void count_rules(const config_key *k)
{
    /* list_parse's buffer holds 64 entries; the count is a separate int field. */
    OCCAM_ASSERT(0 <= k->min_count && k->min_count <= k->max_count && k->max_count <= k->len &&
                 k->max_count <= 64);
    OCCAM_ASSERT(k->off2 != k->off);
}

static void list_rules(const config_key *k)
{
    int_rules(k);
    count_rules(k);
}

static void dlist_rules(const config_key *k)
{
    count_rules(k);
    double_rules(k);
}

static void nm_rules(const config_key *k)
{
    int_rules(k);
    /* some N < M must fit, and no N or M is 0 */
    OCCAM_ASSERT(k->lo >= 1 && k->lo < k->hi && k->off2 != k->off);
}

static void tagged_rules(const config_key *k)
{
    int_rules(k);
    enum_rules(k);
    OCCAM_ASSERT(k->tag >= 0 && k->tag < name_count(k) && k->lo <= k->hi && k->off2 != k->off);
}

static void no_rules(const config_key *k) { (void)k; }

/* ---- the key types' table ------------------------------------------------------------------ */

static const key_type_ops key_types[] = {
    [KEY_INT] = {"int", false, int_parse, int_format, json_plain, bounds_allowed, int_rules},
    [KEY_INT64] = {"int64", false, int64_parse, int64_format, json_plain, bounds_allowed,
                   int64_rules},
    [KEY_UINT64] = {"uint64", false, uint64_parse, uint64_format, json_plain, uint64_allowed,
                    no_rules},
    [KEY_DOUBLE] = {"double", false, double_parse, double_format, json_double, bounds_allowed,
                    double_rules},
    [KEY_BOOL] = {"bool", false, bool_parse, bool_format, json_plain, bool_allowed, no_rules},
    [KEY_ENUM] = {"enum", false, enum_parse, enum_format, json_quoted, enum_allowed,
                  enum_rules},
    [KEY_PATH] = {"path", true, path_parse, path_format, json_quoted, path_allowed, no_rules},
    [KEY_LIST] = {"int list", false, list_parse, list_format, json_list, list_allowed,
                  list_rules},
    [KEY_LABEL] = {"label", false, label_parse, label_format, json_label, label_allowed,
                   int_rules},
    [KEY_DLIST] = {"double list", true, list_parse, list_format, json_dlist, list_allowed,
                   dlist_rules},
    [KEY_NM] = {"N:M", false, nm_parse, nm_format, json_quoted, nm_allowed, nm_rules},
    [KEY_TAGGED] = {"enum:N", false, tagged_parse, tagged_format, json_quoted, tagged_allowed,
                    tagged_rules},
};

const key_type_ops *config_key_ops(const config_key *k)
{
    OCCAM_ASSERT((size_t)k->type < sizeof key_types / sizeof key_types[0] &&
                 key_types[k->type].parse);
    return &key_types[k->type];
}

/* Parses value (already trimmed) into k's field of cfg; see the parsers above. */
bool config_key_parse(const config_key *k, const char *value, occam_config *cfg, char *detail,
                      size_t cap)
{
    const key_type_ops *t = config_key_ops(k);
    if (!*value && !(t->empty_ok && k->min_count == 0)) {
        snprintf(detail, cap, "empty value");
        return false;
    }
    return t->parse(k, value, cfg, detail, cap);
}

void config_key_format(const config_key *k, const occam_config *cfg, char *buf, size_t cap)
{
    config_key_ops(k)->format(k, cfg, buf, cap);
}
