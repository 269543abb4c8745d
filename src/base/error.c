/* Error records: a formatted message plus the status that becomes the exit code, and the two
 * things every message needs to stay readable: a length limit that keeps the reason (the end)
 * and quoting of echoed input bytes. */
#include "occam/error.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A path keeps at least this many characters when its middle gives way. */
#define ERROR_PATH_KEEP 24

static bool error_word_break(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\'' || c == '"';
}

/* Paths past this many in one message keep their middles. */
#define ERROR_PATHS 32

/* The runs without blanks or quotes that hold a '/' (where paths are), in order: at most
 * ERROR_PATHS of them. */
static int error_paths(const char *text, size_t n, size_t *at, size_t *len)
{
    int k = 0;
    for (size_t i = 0; i < n && k < ERROR_PATHS; i++) {
        size_t j = i;
        bool slash = false;
        while (j < n && !error_word_break(text[j])) slash |= text[j++] == '/';
        if (slash) {
            at[k] = i;
            len[k++] = j - i;
        }
        i = j;
    }
    return k;
}

/* Characters saved by cutting every path longer than `to` down to `to` (its "..." included). */
static size_t error_saved(const size_t *len, int k, size_t to)
{
    size_t saved = 0;
    for (int i = 0; i < k; i++)
        if (len[i] > to) saved += len[i] - to;
    return saved;
}

/* Replaces text[at + head, at + len - tail) (n characters in all) with "..."; returns the new
 * length. */
static size_t error_cut(char *text, size_t n, size_t at, size_t len, size_t head, size_t tail)
{
    memcpy(text + at + head, "...", 3);
    memmove(text + at + head + 3, text + at + len - tail, n - (at + len - tail) + 1);
    return n - (len - head - tail) + 3;
}

void occam_error_shorten(char *text, size_t cap)
{
    OCCAM_ASSERT(cap > 8);
    size_t n = strlen(text);
    if (n < cap) return;
    /* The longest paths give way first, evenly: each is cut to the longest length `to` that
     * saves enough, but to no fewer than ERROR_PATH_KEEP characters and its "...". */
    size_t at[ERROR_PATHS], len[ERROR_PATHS], excess = n - (cap - 1);
    int k = error_paths(text, n, at, len);
    size_t lo = ERROR_PATH_KEEP + 3, hi = lo;
    for (int i = 0; i < k; i++) hi = len[i] > hi ? len[i] : hi;
    if (error_saved(len, k, lo) >= excess) {
        while (lo < hi) { /* the largest `to` in [lo, hi] that still saves enough */
            size_t mid = lo + (hi - lo + 1) / 2;
            if (error_saved(len, k, mid) >= excess) lo = mid;
            else hi = mid - 1;
        }
    }
    for (int i = k - 1; i >= 0; i--) /* from the end, so earlier offsets hold */
        if (len[i] > lo) {
            /* More of the end: the file name and any ":LINE:" follow the folders. */
            size_t keep = lo - 3, head = keep / 3;
            n = error_cut(text, n, at[i], len[i], head, keep - head);
        }
    if (n >= cap) {
        size_t keep = cap - 1 - 3, head = keep / 2;
        error_cut(text, n, 0, n, head, keep - head);
    }
}

/* The rare message longer than msg: formatted whole on the heap, then shortened. */
static void error_set_long(occam_error *err, size_t n, const char *fmt, va_list ap)
{
    char *full = malloc(n + 1);
    if (!full) {
        /* No room to do better: the head that fitted, marked as cut. */
        memcpy(err->msg + sizeof err->msg - 4, "...", 4);
        return;
    }
    vsnprintf(full, n + 1, fmt, ap);
    occam_error_shorten(full, sizeof err->msg);
    memcpy(err->msg, full, strlen(full) + 1);
    free(full);
}

int occam_error_open(occam_error *err, const char *path, int e)
{
    bool short_of = e == EMFILE || e == ENFILE || e == ENOMEM;
    return occam_error_set(err, short_of ? OCCAM_ERR_RUNTIME : OCCAM_ERR_INPUT,
                           "%s: cannot open: %s", path, strerror(e));
}

int occam_error_set(occam_error *err, int status, const char *fmt, ...)
{
    if (err) {
        va_list ap, again;
        va_start(ap, fmt);
        va_copy(again, ap);
        int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        if (n >= (int)sizeof err->msg) error_set_long(err, (size_t)n, fmt, again);
        va_end(again);
        err->status = status;
    }
    return status;
}

/* Bytes of the UTF-8 character at s (at most `left` bytes) that may be shown as they are: 1
 * for printable ASCII, 2 to 4 for a well-formed sequence that is not a C1 control, 0 for a
 * byte to escape. */
static size_t error_shown(const unsigned char *s, size_t left)
{
    if (s[0] >= 0x20 && s[0] < 0x7f) return 1;
    size_t k;
    unsigned char lo = 0x80, hi = 0xbf;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        k = 2;
        if (s[0] == 0xc2) lo = 0xa0; /* U+0080..U+009F are the C1 controls */
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        k = 3;
        if (s[0] == 0xe0) lo = 0xa0;
        if (s[0] == 0xed) hi = 0x9f; /* no surrogates */
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        k = 4;
        if (s[0] == 0xf0) lo = 0x90;
        if (s[0] == 0xf4) hi = 0x8f;
    } else {
        return 0;
    }
    if (left < k || s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i < k; i++)
        if (s[i] < 0x80 || s[i] > 0xbf) return 0;
    return k;
}

char *occam_error_quote(char *dst, size_t cap, const char *src, size_t len, size_t most)
{
    OCCAM_ASSERT(cap >= 8);
    const unsigned char *s = (const unsigned char *)src;
    size_t o = 0, i = 0;
    while (i < len && i < most) {
        char piece[8];
        size_t k = error_shown(s + i, len - i), plen = k;
        if (k) memcpy(piece, s + i, k);
        else plen = (size_t)snprintf(piece, sizeof piece, "\\x%02X", s[i]);
        if (o + plen + 4 > cap) break; /* keep room for "..." */
        memcpy(dst + o, piece, plen);
        o += plen;
        i += k ? k : 1;
    }
    if (i < len) {
        memcpy(dst + o, "...", 3);
        o += 3;
    }
    dst[o] = '\0';
    return dst;
}

char *occam_error_spell_double(char *buf, size_t cap, double v)
{
    char t[40]; /* "%.17g" of any double fits; tried here, not in buf (GCC's UBSan build warns
                 * of a null buf) */
    for (int prec = fpclassify(v) == FP_SUBNORMAL ? 1 : 15; prec <= 17; prec++) {
        snprintf(t, sizeof t, "%.*g", prec, v);
        if (strtod(t, NULL) == v) break;
    }
    snprintf(buf, cap, "%s", t);
    return buf;
}
