/* Numeric CSV reader, for training data (a label or target column) and for the rows `occam
 * predict` reads (features only).
 *
 * The file is read twice, through zlib (which inflates a gzipped file and passes a raw one
 * through), a line at a time into a buffer that grows to the longest line: the first pass
 * validates every row and counts them, the second fills arrays allocated once at the exact
 * size. This keeps the peak memory at the dataset itself, with no growing buffer to copy, at
 * the cost of parsing twice; CSV inputs are small next to the training they feed.
 *
 * A row is cells separated by commas. Each cell must parse completely with strtod (surrounding
 * spaces and tabs allowed) to a finite value that fits a float. Blank lines are skipped, "\r\n"
 * line endings and a UTF-8 byte-order mark are accepted. The first non-blank line fixes the
 * cell count and is a header when opts->header says so (auto: when any of its cells is not a
 * number). Messages are "PATH:LINE: ..." with 1-based physical line numbers and 1-based
 * column numbers. Features only (OCCAM_LABEL_NONE) differs in nothing but what is stored: every
 * cell is a feature, so a row may have a single cell, and there is no label to check. */
#include "occam/data.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "occam/mem.h"

#define CSV_NONE SIZE_MAX
#define CSV_QUOTE_MAX 40 /* cell text quoted in messages is cut to this many characters */
#define CSV_LINE_MIN 4096
#define CSV_CHUNK (64u * 1024u) /* bytes inflated (or read) at a time */

typedef struct csv_cell {
    double v;
    const char *text; /* cell without surrounding blanks, for messages */
    int len;
    bool ok; /* parsed fully as a number */
} csv_cell;

typedef struct csv_reader {
    const char *path;
    gzFile gz;
    unsigned char *chunk; /* CSV_CHUNK bytes from gzread; [pos, have) not yet consumed */
    size_t pos, have;
    char *line;
    size_t line_cap;
    size_t lineno;
    csv_cell *cell; /* the current row */
    size_t ncell;
    size_t cell_cap;
    size_t bad; /* first cell that is not a number, or CSV_NONE */
} csv_reader;

typedef struct csv_shape {
    size_t cols;  /* cells per row */
    size_t label; /* 0-based label column, or CSV_NONE (features only) */
    size_t rows;  /* data rows */
    size_t first; /* line of the first row (header or data) */
    bool header;
} csv_shape;

static bool csv_blank(char c) { return c == ' ' || c == '\t'; }

/* Parses s..stop (stop points at ',' or the terminating NUL) as one number. */
static void csv_parse_cell(csv_cell *c, char *s, char *stop)
{
    while (s < stop && csv_blank(*s)) s++;
    char *e = stop;
    while (e > s && csv_blank(e[-1])) e--;
    c->text = s;
    c->len = e - s > CSV_QUOTE_MAX ? CSV_QUOTE_MAX : (int)(e - s);
    char *end = s;
    c->v = s < e ? strtod(s, &end) : 0.0;
    c->ok = s < e && end == e;
}

static int csv_grow_cells(csv_reader *r, occam_error *err)
{
    size_t cap = r->cell_cap ? 2 * r->cell_cap : 64;
    csv_cell *p = realloc(r->cell, cap * sizeof *p);
    if (!p) return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: out of memory", r->path);
    r->cell = p;
    r->cell_cap = cap;
    return OCCAM_OK;
}

/* Splits the NUL-terminated line s..end into r->cell. */
static int csv_split(csv_reader *r, char *s, char *end, occam_error *err)
{
    r->ncell = 0;
    r->bad = CSV_NONE;
    for (char *p = s;;) {
        char *comma = memchr(p, ',', (size_t)(end - p));
        char *stop = comma ? comma : end;
        if (r->ncell == r->cell_cap) {
            int rc = csv_grow_cells(r, err);
            if (rc != OCCAM_OK) return rc;
        }
        csv_cell *c = &r->cell[r->ncell];
        csv_parse_cell(c, p, stop);
        if (!c->ok && r->bad == CSV_NONE) r->bad = r->ncell;
        r->ncell++;
        if (!comma) return OCCAM_OK;
        p = comma + 1;
    }
}

static int csv_read_error(const csv_reader *r, int status, int errnum, occam_error *err)
{
    return occam_error_set(err, status, "%s:%zu: read error: %s", r->path, r->lineno + 1,
                           strerror(errnum));
}

/* Why zlib stopped before the end: an I/O error, or a damaged or cut-short gzip stream. */
static int csv_gz_error(const csv_reader *r, occam_error *err)
{
    int code = 0;
    const char *msg = gzerror(r->gz, &code);
    if (code == Z_ERRNO) return csv_read_error(r, OCCAM_ERR_INPUT, errno, err);
    if (code == Z_MEM_ERROR) return csv_read_error(r, OCCAM_ERR_RUNTIME, ENOMEM, err);
    /* zlib prefixes the message with the path; we already print it. */
    size_t plen = strlen(r->path);
    if (strncmp(msg, r->path, plen) == 0 && strncmp(msg + plen, ": ", 2) == 0) msg += plen + 2;
    return occam_error_set(err, OCCAM_ERR_INPUT, "%s:%zu: corrupt gzip stream: %s", r->path,
                           r->lineno + 1, msg);
}

/* Reads the next line, its '\n' included, into r->line; NUL bytes are kept, as getline keeps
 * them. *len is -1 at the end of the file. Whole chunks and memchr, not a call per byte: this
 * is most of the time a large CSV takes to load. */
static int csv_getline(csv_reader *r, ssize_t *len, occam_error *err)
{
    size_t n = 0;
    for (bool done = false; !done;) {
        if (r->pos == r->have) {
            int got = gzread(r->gz, r->chunk, CSV_CHUNK);
            if (got < 0) return csv_gz_error(r, err);
            r->pos = 0;
            r->have = (size_t)got;
            if (got == 0) {
                /* A stream cut short still gives what it had; it is an error at its end, so
                 * the message names the line where the data stopped. */
                int code = 0;
                gzerror(r->gz, &code);
                if (code != Z_OK) return csv_gz_error(r, err);
                break;
            }
        }
        const unsigned char *s = r->chunk + r->pos;
        const unsigned char *nl = memchr(s, '\n', r->have - r->pos);
        size_t take = nl ? (size_t)(nl - s) + 1 : r->have - r->pos;
        done = nl != NULL;
        if (n + take + 1 > r->line_cap) {
            size_t cap = r->line_cap ? r->line_cap : CSV_LINE_MIN;
            while (n + take + 1 > cap) cap *= 2;
            char *p = realloc(r->line, cap);
            if (!p) return csv_read_error(r, OCCAM_ERR_RUNTIME, ENOMEM, err);
            r->line = p;
            r->line_cap = cap;
        }
        memcpy(r->line + n, s, take);
        n += take;
        r->pos += take;
    }
    *len = n ? (ssize_t)n : -1;
    if (n) r->line[n] = '\0';
    return OCCAM_OK;
}

/* Reads lines up to the next non-blank one and splits it; *got is false at the end. */
static int csv_next(csv_reader *r, bool *got, occam_error *err)
{
    for (;;) {
        ssize_t len = -1;
        int rc = csv_getline(r, &len, err);
        *got = false;
        if (rc != OCCAM_OK || len < 0) return rc;
        r->lineno++;
        char *s = r->line, *end = s + len;
        if (end > s && end[-1] == '\n') *--end = '\0';
        if (end > s && end[-1] == '\r') *--end = '\0';
        if (r->lineno == 1 && end - s >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) s += 3;
        char *p = s;
        while (p < end && csv_blank(*p)) p++;
        if (p == end) continue;
        *got = true;
        return csv_split(r, s, end, err);
    }
}

static int csv_error_cell(const csv_reader *r, size_t col, const char *what, occam_error *err)
{
    const csv_cell *c = &r->cell[col];
    return occam_error_set(err, OCCAM_ERR_INPUT, "%s:%zu: column %zu: \"%.*s\" %s", r->path,
                           r->lineno, col + 1, c->len, c->text, what);
}

/* The first non-blank line: decides the header and the columns. */
static int csv_first(const csv_reader *r, const occam_csv_opts *o, csv_shape *sh,
                     occam_error *err)
{
    sh->first = r->lineno;
    sh->cols = r->ncell;
    sh->header = o->header == OCCAM_CSV_HEADER_YES ||
                 (o->header == OCCAM_CSV_HEADER_AUTO && r->bad != CSV_NONE);
    sh->label = CSV_NONE;
    if (o->label == OCCAM_LABEL_NONE) return OCCAM_OK;
    if (sh->cols < 2)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "%s:%zu: need at least 2 cells per row (features and a label), "
                               "found %zu",
                               r->path, r->lineno, sh->cols);
    if (o->label != OCCAM_LABEL_LAST && (size_t)o->label > sh->cols)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "%s:%zu: data.label: column %d is out of range: rows have %zu "
                               "cells",
                               r->path, r->lineno, o->label, sh->cols);
    sh->label = o->label == OCCAM_LABEL_LAST ? sh->cols - 1 : (size_t)o->label - 1;
    return OCCAM_OK;
}

/* Checks one data row against the shape and the options. */
static int csv_check_row(const csv_reader *r, const occam_csv_opts *o, const csv_shape *sh,
                         occam_error *err)
{
    if (r->ncell != sh->cols)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s:%zu: expected %zu cells, found %zu",
                               r->path, r->lineno, sh->cols, r->ncell);
    if (r->bad != CSV_NONE) return csv_error_cell(r, r->bad, "is not a number", err);
    for (size_t j = 0; j < r->ncell; j++)
        if (!isfinite(r->cell[j].v) || fabs(r->cell[j].v) > FLT_MAX)
            return csv_error_cell(r, j, "is not a finite float32 value", err);
    if (sh->label == CSV_NONE || o->task != OCCAM_TASK_CLASSIFY) return OCCAM_OK;
    double v = r->cell[sh->label].v;
    if (v != floor(v)) return csv_error_cell(r, sh->label, "is not an integer label", err);
    if (v < 0 || v >= o->classes)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s:%zu: label %.0f out of range [0, %d)",
                               r->path, r->lineno, v, o->classes);
    return OCCAM_OK;
}

static void csv_store(const csv_reader *r, const csv_shape *sh, occam_dataset *out, size_t row)
{
    float *x = out->x + row * out->d;
    for (size_t j = 0; j < r->ncell; j++)
        if (j != sh->label) *x++ = (float)r->cell[j].v;
    if (sh->label == CSV_NONE) return;
    double v = r->cell[sh->label].v;
    if (out->label) out->label[row] = (int32_t)v;
    if (out->y) out->y[row] = (float)v;
}

static int csv_changed(const csv_reader *r, occam_error *err)
{
    return occam_error_set(err, OCCAM_ERR_INPUT, "%s:%zu: file changed while being read",
                           r->path, r->lineno);
}

/* One pass over the file. With out == NULL it validates and fills *sh; with out it fills the
 * arrays sized by the first pass, and any difference means the file changed under us. */
static int csv_pass(csv_reader *r, const occam_csv_opts *o, csv_shape *sh, occam_dataset *out,
                    occam_error *err)
{
    csv_shape now = {0};
    bool got = false, first = true;
    int rc;
    while ((rc = csv_next(r, &got, err)) == OCCAM_OK && got) {
        if (first) {
            first = false;
            if ((rc = csv_first(r, o, &now, err)) != OCCAM_OK) return rc;
            if (out && now.cols != sh->cols) return csv_changed(r, err);
            if (now.header) continue;
        }
        if ((rc = csv_check_row(r, o, &now, err)) != OCCAM_OK) return rc;
        if (out && now.rows == out->n) return csv_changed(r, err);
        if (out) csv_store(r, &now, out, now.rows);
        now.rows++;
    }
    if (rc != OCCAM_OK) return rc;
    if (out && now.rows != out->n) return csv_changed(r, err);
    if (now.rows == 0)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: no data rows%s", r->path,
                               now.header ? " after the header" : " (the file is empty or blank)");
    *sh = now;
    return OCCAM_OK;
}

static int csv_alloc(occam_dataset *out, const csv_shape *sh, const occam_csv_opts *o,
                     const char *path, occam_error *err)
{
    bool labelled = sh->label != CSV_NONE;
    bool classify = labelled && o->task == OCCAM_TASK_CLASSIFY, regress = labelled && !classify;
    out->n = sh->rows;
    out->d = sh->cols - labelled;
    out->x = occam_alloc(out->n, out->d * sizeof(float));
    if (classify) out->label = occam_alloc(out->n, sizeof(int32_t));
    if (regress) out->y = occam_alloc(out->n, sizeof(float));
    if (!out->x || (classify && !out->label) || (regress && !out->y))
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: out of memory for %zu rows", path,
                               out->n);
    out->classes = classify ? o->classes : 0;
    out->targets = regress ? 1 : 0;
    return OCCAM_OK;
}

static int csv_check_opts(const char *path, const occam_csv_opts *o, occam_error *err)
{
    if (o->label == OCCAM_LABEL_NONE) return OCCAM_OK;
    if (o->label != OCCAM_LABEL_LAST && o->label < 1)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "%s: data.label: column %d is not a 1-based column number", path,
                               o->label);
    if (o->task == OCCAM_TASK_CLASSIFY && o->classes < 1)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: class count %d must be >= 1", path,
                               o->classes);
    return OCCAM_OK;
}

static int csv_read(csv_reader *r, occam_dataset *out, const occam_csv_opts *opts,
                    occam_error *err)
{
    csv_shape sh = {0};
    int rc = csv_pass(r, opts, &sh, NULL, err);
    if (rc == OCCAM_OK) rc = csv_alloc(out, &sh, opts, r->path, err);
    if (rc != OCCAM_OK) return rc;
    if (gzrewind(r->gz) != 0)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "%s: cannot rewind (the CSV reader reads the file twice, so it "
                               "cannot be a pipe)",
                               r->path);
    r->lineno = 0;
    r->pos = r->have = 0;
    return csv_pass(r, opts, &sh, out, err);
}

int occam_csv_load(occam_dataset *out, const char *path, const occam_csv_opts *opts,
                   occam_error *err)
{
    *out = (occam_dataset){0};
    int rc = csv_check_opts(path, opts, err);
    if (rc != OCCAM_OK) return rc;
    csv_reader r = {.path = path};
    errno = 0;
    r.gz = gzopen(path, "rb");
    if (!r.gz)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: cannot open: %s", path,
                               errno ? strerror(errno) : "out of memory");
    r.chunk = malloc(CSV_CHUNK);
    rc = r.chunk ? csv_read(&r, out, opts, err)
                 : occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: out of memory", path);
    gzclose(r.gz);
    free(r.chunk);
    free(r.line);
    free(r.cell);
    if (rc != OCCAM_OK) occam_dataset_free(out);
    return rc;
}
