/* `occam predict`: batch prediction with a saved model on new rows.
 *
 * The input is either an IDX file of unsigned bytes (an images file such as
 * t10k-images-idx3-ubyte, gzipped or raw, told apart by its magic number) or a numeric CSV. A
 * CSV row holds the features alone when it has as many cells as the model has inputs; with one
 * more cell, the column data.label names is taken to be the label (or target) and dropped, so
 * the config's own test file can be fed in unchanged. data.header decides the header row, as
 * for training.
 *
 * The rows are normalised exactly as the training data was: occam scales with statistics of
 * the training set, so the training set is loaded without normalisation and
 * occam_data_normalize applies its statistics to the input (skipped when data.normalize =
 * none). The model runs on the sparse inference engine, which picks CSR or dense per layer.
 *
 * Output is CSV with a header: classification writes `label,p_0,...,p_{k-1}` (the argmax and
 * the softmax probabilities), regression `y_0,...,y_{k-1}`. A bad input file is exit 2 with a
 * message naming the file and its line (CSV) or record (IDX). */
#include <errno.h>
#include <float.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "cli.h"
#include "occam/checkpoint.h"
#include "occam/data.h"
#include "occam/gemm.h"
#include "occam/mem.h"
#include "occam/model.h"
#include "occam/sparse.h"

#define PREDICT_IDX_MAX_RECORDS (UINT64_C(1) << 31)
#define PREDICT_QUOTE_MAX 40 /* characters of a bad cell quoted in a message */

static const char usage[] =
    "usage: occam predict CONFIG --checkpoint FILE --input FILE [--output FILE]\n"
    "                     [--set section.key=value]... [--threads N]\n"
    "\n"
    "Predicts with the weights in FILE (as written by 'occam train --save') on the rows of\n"
    "--input: an IDX file of unsigned bytes (e.g. t10k-images-idx3-ubyte[.gz]) or a numeric CSV\n"
    "whose rows are the features, optionally with the label column data.label names (it is\n"
    "dropped). Rows are normalised with the training set's statistics, as in training.\n"
    "Writes CSV to --output (default stdout): 'label,p_0,...,p_{k-1}' per row for\n"
    "classification (the predicted class and the softmax probabilities), 'y_0,...' for\n"
    "regression.\n";


/* ---- input: IDX (zlib reads gzipped and raw files and pipes alike) ----------------------- */

static int predict_gz_error(gzFile gz, const char *path, occam_error *err)
{
    int code = 0;
    const char *msg = gzerror(gz, &code);
    if (code == Z_ERRNO)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: read error: %s", path, strerror(errno));
    return occam_error_set(err, code == Z_MEM_ERROR ? OCCAM_ERR_RUNTIME : OCCAM_ERR_INPUT,
                           "%s: corrupt gzip stream (%s)", path, msg);
}

/* Reads exactly len bytes; *got tells how many arrived before the end. */
static int predict_gz_read(gzFile gz, const char *path, void *buf, size_t len, size_t *got,
                           occam_error *err)
{
    *got = 0;
    while (*got < len) {
        size_t want = len - *got < (1u << 30) ? len - *got : (1u << 30);
        int r = gzread(gz, (unsigned char *)buf + *got, (unsigned)want);
        if (r < 0) return predict_gz_error(gz, path, err);
        if (r == 0) break;
        *got += (size_t)r;
    }
    return OCCAM_OK;
}

/* An IDX file of unsigned bytes with at least 2 dimensions: records × (the rest), each record
 * one row of `inputs` features. */
static int predict_read_idx(gzFile gz, const char *path, const unsigned char *magic,
                            int inputs, occam_dataset *out, occam_error *err)
{
    unsigned ndims = magic[3];
    if (magic[2] != 0x08)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "%s: IDX data type 0x%02x is not supported (only unsigned bytes, "
                               "0x08)",
                               path, magic[2]);
    if (ndims < 2 || ndims > 4)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "%s: IDX file has %u dimensions; expected records × features "
                               "(2 to 4 dimensions)",
                               path, ndims);
    unsigned char hdr[16];
    size_t got;
    int rc = predict_gz_read(gz, path, hdr, 4 * ndims, &got, err);
    if (rc != OCCAM_OK) return rc;
    if (got < 4 * ndims)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: truncated IDX header", path);
    uint64_t dim[4], size = 1;
    for (unsigned i = 0; i < ndims; i++) {
        const unsigned char *p = hdr + 4 * i;
        dim[i] = (uint64_t)p[0] << 24 | (uint64_t)p[1] << 16 | (uint64_t)p[2] << 8 | p[3];
        if (i > 0 && size <= (uint64_t)inputs) size *= dim[i];
    }
    if (dim[0] == 0 || dim[0] > PREDICT_IDX_MAX_RECORDS)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "%s: %" PRIu64 " records (expected 1 to 2^31)", path, dim[0]);
    if (size != (uint64_t)inputs)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "%s: records of %" PRIu64 "%s values, but the model takes %d inputs "
                               "(model.layers)",
                               path, size, size > (uint64_t)inputs ? " or more" : "", inputs);
    size_t n = (size_t)dim[0], d = (size_t)inputs;
    out->x = occam_alloc(n, d * sizeof(float));
    unsigned char *rec = malloc(d);
    if (!out->x || !rec) {
        free(rec);
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: out of memory for %zu records", path,
                               n);
    }
    out->n = n;
    out->d = d;
    for (size_t i = 0; i < n && rc == OCCAM_OK; i++) {
        rc = predict_gz_read(gz, path, rec, d, &got, err);
        if (rc == OCCAM_OK && got < d)
            rc = occam_error_set(err, OCCAM_ERR_INPUT,
                                 "%s: truncated: record %zu of %zu is incomplete", path, i, n);
        for (size_t j = 0; rc == OCCAM_OK && j < d; j++) out->x[i * d + j] = (float)rec[j];
    }
    if (rc == OCCAM_OK) {
        unsigned char extra;
        rc = predict_gz_read(gz, path, &extra, 1, &got, err);
        if (rc == OCCAM_OK && got)
            rc = occam_error_set(err, OCCAM_ERR_INPUT,
                                 "%s: unexpected data after the last record (%zu)", path, n - 1);
    }
    free(rec);
    return rc;
}

/* ---- CSV input --------------------------------------------------------------------------- */

typedef struct predict_csv {
    const char *path;
    gzFile gz;
    const unsigned char *pre; /* bytes already read (the format probe), consumed first */
    size_t npre;
    char *line;
    size_t cap, lineno;
    double *cell;
    size_t ncell, cell_cap;
    size_t bad;      /* first cell that is not a number, or SIZE_MAX */
    const char *bad_text;
    int bad_len;
} predict_csv;

/* Splits the line into numbers; remembers the first cell that is not one. */
static int predict_csv_split(predict_csv *r, char *s, occam_error *err)
{
    r->ncell = 0;
    r->bad = SIZE_MAX;
    for (;;) {
        char *comma = strchr(s, ',');
        if (comma) *comma = '\0';
        if (r->ncell == r->cell_cap) {
            size_t cap = r->cell_cap ? 2 * r->cell_cap : 256;
            double *p = realloc(r->cell, cap * sizeof *p);
            if (!p) return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: out of memory", r->path);
            r->cell = p;
            r->cell_cap = cap;
        }
        while (*s == ' ' || *s == '\t') s++;
        char *e = s + strlen(s);
        while (e > s && (e[-1] == ' ' || e[-1] == '\t')) e--;
        char *end = s;
        double v = e > s ? strtod(s, &end) : 0.0;
        if ((e == s || end != e) && r->bad == SIZE_MAX) {
            r->bad = r->ncell;
            r->bad_text = s;
            r->bad_len = e - s < PREDICT_QUOTE_MAX ? (int)(e - s) : PREDICT_QUOTE_MAX;
        }
        r->cell[r->ncell++] = v;
        if (!comma) return OCCAM_OK;
        s = comma + 1;
    }
}

static int predict_csv_getc(predict_csv *r)
{
    if (r->npre) {
        r->npre--;
        return *r->pre++;
    }
    return gzgetc(r->gz);
}

/* Reads one line (without its '\n') into r->line; *len = -1 at the end of the file. Through
 * zlib, so a gzipped CSV or a pipe reads as well as a plain file. */
static int predict_csv_getline(predict_csv *r, ssize_t *len, occam_error *err)
{
    size_t n = 0;
    int c;
    while ((c = predict_csv_getc(r)) != -1 && c != '\n') {
        if (c == 0)
            return occam_error_set(err, OCCAM_ERR_INPUT, "%s:%zu: NUL byte in a text line",
                                   r->path, r->lineno + 1);
        if (n + 1 >= r->cap) {
            size_t cap = r->cap ? 2 * r->cap : 4096;
            char *p = realloc(r->line, cap);
            if (!p) return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: out of memory", r->path);
            r->line = p;
            r->cap = cap;
        }
        r->line[n++] = (char)c;
    }
    if (c == -1) {
        int code = 0;
        gzerror(r->gz, &code);
        if (code != Z_OK && code != Z_BUF_ERROR) return predict_gz_error(r->gz, r->path, err);
        if (n == 0) {
            *len = -1;
            return OCCAM_OK;
        }
    }
    if (!r->line) { /* an empty first line */
        r->line = malloc(1);
        if (!r->line) return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: out of memory", r->path);
        r->cap = 1;
    }
    r->line[n] = '\0';
    *len = (ssize_t)n;
    return OCCAM_OK;
}

/* The next non-blank line, split; *got false at the end of the file. */
static int predict_csv_next(predict_csv *r, bool *got, occam_error *err)
{
    for (;;) {
        ssize_t len = -1;
        int rc = predict_csv_getline(r, &len, err);
        if (rc != OCCAM_OK) return rc;
        if (len < 0) {
            *got = false;
            return OCCAM_OK;
        }
        r->lineno++;
        char *s = r->line;
        while (len > 0 && s[len - 1] == '\r') s[--len] = '\0';
        if (r->lineno == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0) s += 3;
        if (s[strspn(s, " \t")] == '\0') continue;
        *got = true;
        return predict_csv_split(r, s, err);
    }
}

/* Which cell (0-based) is the label, given `cols` cells: data.label. */
static int predict_label_col(const occam_config *cfg, const predict_csv *r, size_t cols,
                             size_t *label, occam_error *err)
{
    int l = cfg->data.label;
    if (l == OCCAM_LABEL_LAST) {
        *label = cols - 1;
        return OCCAM_OK;
    }
    if (l < 1 || (size_t)l > cols)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "%s:%zu: data.label: column %d is out of range: rows have %zu "
                               "cells",
                               r->path, r->lineno, l, cols);
    *label = (size_t)l - 1;
    return OCCAM_OK;
}

static int predict_csv_rows(predict_csv *r, const occam_config *cfg, int inputs,
                            occam_dataset *out, occam_error *err)
{
    size_t cols = 0, label = SIZE_MAX, n = 0, cap = 0;
    float *x = NULL;
    bool got, first = true;
    int rc;
    while ((rc = predict_csv_next(r, &got, err)) == OCCAM_OK && got) {
        if (first) {
            first = false;
            cols = r->ncell;
            bool header = cfg->data.header == OCCAM_CSV_HEADER_YES ||
                          (cfg->data.header == OCCAM_CSV_HEADER_AUTO && r->bad != SIZE_MAX);
            if (cols == (size_t)inputs + 1)
                rc = predict_label_col(cfg, r, cols, &label, err);
            else if (cols != (size_t)inputs)
                rc = occam_error_set(err, OCCAM_ERR_INPUT,
                                     "%s:%zu: rows have %zu cells, but the model takes %d inputs "
                                     "(%d with a label column)",
                                     r->path, r->lineno, cols, inputs, inputs + 1);
            if (rc != OCCAM_OK) break;
            if (header) continue;
        }
        if (r->ncell != cols) {
            rc = occam_error_set(err, OCCAM_ERR_INPUT, "%s:%zu: expected %zu cells, found %zu",
                                 r->path, r->lineno, cols, r->ncell);
            break;
        }
        if (r->bad != SIZE_MAX) {
            rc = occam_error_set(err, OCCAM_ERR_INPUT, "%s:%zu: column %zu: \"%.*s\" is not a "
                                 "number", r->path, r->lineno, r->bad + 1, r->bad_len,
                                 r->bad_text);
            break;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 1024;
            float *p = realloc(x, cap * (size_t)inputs * sizeof *p);
            if (!p) {
                rc = occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: out of memory", r->path);
                break;
            }
            x = p;
        }
        float *row = x + n * (size_t)inputs;
        for (size_t j = 0; j < cols && rc == OCCAM_OK; j++) {
            double v = r->cell[j];
            if (!isfinite(v) || fabs(v) > FLT_MAX)
                rc = occam_error_set(err, OCCAM_ERR_INPUT,
                                     "%s:%zu: column %zu: %g is not a finite float32 value",
                                     r->path, r->lineno, j + 1, v);
            else if (j != label)
                *row++ = (float)v;
        }
        if (rc != OCCAM_OK) break;
        n++;
    }
    if (rc == OCCAM_OK && n == 0)
        rc = occam_error_set(err, OCCAM_ERR_INPUT, "%s: no data rows", r->path);
    if (rc != OCCAM_OK) {
        free(x);
        return rc;
    }
    out->x = x;
    out->n = n;
    out->d = (size_t)inputs;
    return OCCAM_OK;
}

/* IDX when the (decompressed) file opens with an IDX magic, 00 00 type ndims; CSV otherwise.
 * The probe's bytes are handed to the CSV reader, so the file is read once (it may be a pipe). */
static int predict_read(const char *path, const occam_config *cfg, int inputs, occam_dataset *out,
                        occam_error *err)
{
    *out = (occam_dataset){0};
    errno = 0;
    gzFile gz = gzopen(path, "rb");
    if (!gz)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: cannot open: %s", path,
                               errno ? strerror(errno) : "out of memory");
    unsigned char magic[4];
    size_t got;
    int rc = predict_gz_read(gz, path, magic, 4, &got, err);
    bool idx = rc == OCCAM_OK && got == 4 && magic[0] == 0 && magic[1] == 0;
    if (rc == OCCAM_OK && idx) rc = predict_read_idx(gz, path, magic, inputs, out, err);
    if (rc == OCCAM_OK && !idx) {
        predict_csv r = {.path = path, .gz = gz, .pre = magic, .npre = got};
        rc = predict_csv_rows(&r, cfg, inputs, out, err);
        free(r.line);
        free(r.cell);
    }
    gzclose(gz);
    if (rc != OCCAM_OK) occam_dataset_free(out);
    return rc;
}

/* Applies the training set's normalisation to the input: loads the training data raw and lets
 * occam_data_normalize carry its statistics over. */
static int predict_normalize(const occam_config *cfg, occam_dataset *in, occam_error *err)
{
    if (cfg->data.normalize == OCCAM_NORM_NONE) return OCCAM_OK;
    occam_config raw = *cfg;
    raw.data.normalize = OCCAM_NORM_NONE;
    occam_dataset train, test;
    int rc = occam_data_load(&raw.data, occam_config_inputs(&raw), occam_config_outputs(&raw), &train, &test, err);
    if (rc != OCCAM_OK) return rc;
    occam_dataset_free(&test);
    OCCAM_ASSERT(train.d == in->d); /* both match model.layers[0] */
    occam_data_normalize(&train, in, cfg->data.normalize);
    occam_dataset_free(&train);
    return OCCAM_OK;
}

/* ---- output ------------------------------------------------------------------------------ */

static void predict_write_rows(FILE *f, const float *y, size_t n, int k, bool classify)
{
    for (int j = 0; j < k; j++)
        fprintf(f, "%s%s_%d", j ? "," : (classify ? "label," : ""), classify ? "p" : "y", j);
    fputc('\n', f);
    for (size_t i = 0; i < n; i++) {
        const float *yi = y + i * (size_t)k;
        if (!classify) {
            for (int j = 0; j < k; j++) fprintf(f, "%s%.9g", j ? "," : "", yi[j]);
            fputc('\n', f);
            continue;
        }
        int arg = occam_argmax(yi, k);
        double s = 0.0;
        for (int j = 0; j < k; j++) s += exp((double)yi[j] - yi[arg]);
        fprintf(f, "%d", arg);
        for (int j = 0; j < k; j++) fprintf(f, ",%.6g", exp((double)yi[j] - yi[arg]) / s);
        fputc('\n', f);
    }
}

static int predict_write(const char *path, const float *y, size_t n, int k, bool classify,
                         occam_error *err)
{
    FILE *f = path ? fopen(path, "w") : stdout;
    const char *name = path ? path : "stdout";
    if (!f)
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: cannot open for writing: %s", name,
                               strerror(errno));
    predict_write_rows(f, y, n, k, classify);
    bool bad = ferror(f) != 0;
    if (path ? fclose(f) != 0 : fflush(f) != 0) bad = true;
    if (bad)
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: write failed: %s", name,
                               strerror(errno));
    return OCCAM_OK;
}

/* ---- the command ------------------------------------------------------------------------- */

static int run(const cli_opts *o, occam_error *err)
{
    if (!o->checkpoint)
        return occam_error_set(err, OCCAM_ERR_INPUT, "predict: missing --checkpoint FILE");
    if (!o->input) return occam_error_set(err, OCCAM_ERR_INPUT, "predict: missing --input FILE");
    occam_config cfg;
    int threads;
    int rc = cli_setup(o, &cfg, &threads, err);
    if (rc) return rc;
    occam_blas_init();
    occam_model model;
    occam_dataset in = {0};
    occam_sparse *sp = NULL;
    float *y = NULL;
    rc = occam_model_create(&model, &cfg.model, cfg.data.task, err);
    if (rc == OCCAM_OK) rc = occam_checkpoint_load(o->checkpoint, &model, err);
    int inputs = model.lay.width[0], k = model.lay.width[model.lay.nlayers];
    if (rc == OCCAM_OK) rc = predict_read(o->input, &cfg, inputs, &in, err);
    if (rc == OCCAM_OK) rc = predict_normalize(&cfg, &in, err);
    if (rc == OCCAM_OK)
        rc = occam_sparse_create(&sp, &model, OCCAM_SPARSE_THRESHOLD_DEFAULT, err);
    if (rc == OCCAM_OK) {
        y = occam_alloc(in.n, (size_t)k * sizeof(float));
        if (!y) rc = occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory for %zu outputs", in.n);
    }
    if (rc == OCCAM_OK) rc = occam_sparse_forward(sp, in.x, in.n, y, threads, err);
    if (rc == OCCAM_OK)
        rc = predict_write(o->output, y, in.n, k, cfg.data.task == OCCAM_TASK_CLASSIFY, err);
    free(y);
    occam_sparse_free(sp);
    occam_dataset_free(&in);
    occam_model_free(&model);
    return rc;
}

int cmd_predict(int argc, char **argv)
{
    return cli_command(argc, argv, CLI_SET | CLI_THREADS | CLI_CHECKPOINT | CLI_INPUT | CLI_OUTPUT,
                       usage, run);
}
