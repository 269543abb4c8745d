/* libFuzzer harness for the CSV reader (occam_csv_load).
 *
 * Input layout: byte 0 picks the options (bits 0-1: header auto / yes / no / auto; bit 2:
 * regress instead of classify; bits 3-7: the label column, 0 = last), byte 1 is the class count
 * minus 1, and the rest is the file. A load that succeeds must hold n rows of d finite floats
 * and, for classification, labels below the class count; for regression, finite targets.
 *
 * Every file is also read features only (OCCAM_LABEL_NONE, `occam predict`'s mode), which is
 * never stricter: where the labelled load succeeds it must too, with the label column back
 * among the features, and where it fails the labelled load fails with the same message or a
 * message about the label. `predict`'s loader (occam_features_load), where it takes the file for
 * CSV, must give exactly what the features-only load gives. A header's names are the same in
 * both once the label's is dropped, and the column check passes them. */
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "occam/data.h"

static void check_dataset(const occam_dataset *ds, const occam_csv_opts *o)
{
    FUZZ_CHECK(ds->n > 0 && ds->d > 0 && ds->x && (uintptr_t)ds->x % 64 == 0);
    for (size_t i = 0; i < ds->n * ds->d; i++) FUZZ_CHECK(isfinite(ds->x[i]));
    if (o->task == OCCAM_TASK_CLASSIFY) {
        FUZZ_CHECK(ds->label && !ds->y && ds->classes == o->classes && ds->targets == 0);
        for (size_t i = 0; i < ds->n; i++)
            FUZZ_CHECK(ds->label[i] >= 0 && ds->label[i] < o->classes);
    } else {
        FUZZ_CHECK(ds->y && !ds->label && ds->classes == 0 && ds->targets == 1);
        for (size_t i = 0; i < ds->n; i++) FUZZ_CHECK(isfinite(ds->y[i]));
    }
}

/* The end of d names one after another (the byte after the last one's NUL). */
static const char *names_end(const char *names, size_t d)
{
    while (d--) names += strlen(names) + 1;
    return names;
}

/* fo: the features-only load of the file ds (opts o) came from; fo may have its label's name
 * dropped. */
static void check_features(occam_dataset *fo, const occam_dataset *ds, const occam_csv_opts *o)
{
    FUZZ_CHECK(fo->n == ds->n && fo->d == ds->d + 1);
    size_t label = o->label == OCCAM_LABEL_LAST ? ds->d : (size_t)o->label - 1;
    /* the header's names: the same header, so the same names once the label's is dropped */
    FUZZ_CHECK(!fo->names == !ds->names);
    if (ds->names) {
        occam_dataset_drop_name(fo, label);
        size_t len = (size_t)(names_end(ds->names, ds->d) - ds->names);
        FUZZ_CHECK((size_t)(names_end(fo->names, ds->d) - fo->names) == len);
        FUZZ_CHECK(memcmp(fo->names, ds->names, len) == 0);
        char note[64];
        occam_error e = {0};
        int rc = occam_data_check_columns(fo, "a", ds, "b", note, sizeof note, &e);
        FUZZ_CHECK(rc == OCCAM_OK && note[0] == 0);
    }
    for (size_t i = 0; i < ds->n; i++) {
        const float *f = fo->x + i * fo->d, *x = ds->x + i * ds->d;
        for (size_t j = 0; j < fo->d; j++) {
            float want = j < label ? x[j] : j > label ? x[j - 1]
                       : ds->label ? (float)ds->label[i] : ds->y[i];
            FUZZ_CHECK(f[j] == want);
        }
    }
}

/* occam_features_load (`predict`'s one-read loader) on a file it takes for CSV: the very
 * result of the features-only CSV load (frc, ferr, fo). */
static void sniffed(const char *path, occam_csv_header header, int frc, const occam_error *ferr,
                    const occam_dataset *fo)
{
    occam_dataset sd;
    memset(&sd, 0xA5, sizeof sd);
    occam_error serr = {0};
    bool idx = true;
    int src = occam_features_load(&sd, path, header, OCCAM_LABEL_NONE, NULL, 0, &idx, &serr);
    fuzz_check_status("occam_features_load", src, &serr, path);
    if (!idx) {
        FUZZ_CHECK(src == frc && strcmp(serr.msg, ferr->msg) == 0);
        FUZZ_CHECK(sd.n == fo->n && sd.d == fo->d);
        if (src == OCCAM_OK) FUZZ_CHECK(memcmp(sd.x, fo->x, sd.n * sd.d * sizeof *sd.x) == 0);
    }
    if (src != OCCAM_OK) FUZZ_CHECK(!sd.x && !sd.label && !sd.y && sd.n == 0 && sd.d == 0);
    occam_dataset_free(&sd);
}

/* The same loader skipping column `skip` of rows of skip_cols cells (predict's label column,
 * never read): a clean status, and one feature fewer than the row's cells when it applied. */
static void skipped(const char *path, occam_csv_header header, int skip, size_t skip_cols)
{
    occam_dataset sd;
    memset(&sd, 0xA5, sizeof sd);
    occam_error serr = {0};
    bool idx = true;
    int src = occam_features_load(&sd, path, header, skip, NULL, skip_cols, &idx, &serr);
    fuzz_check_status("occam_features_load (skip)", src, &serr, path);
    if (src != OCCAM_OK) FUZZ_CHECK(!sd.x && !sd.label && !sd.y && sd.n == 0 && sd.d == 0);
    if (src == OCCAM_OK && !idx) {
        FUZZ_CHECK(!sd.label && !sd.y && sd.classes == 0 && sd.targets == 0);
        if (sd.label_col) FUZZ_CHECK(sd.d + 1 == skip_cols);
        for (size_t i = 0; i < sd.n * sd.d; i++) FUZZ_CHECK(isfinite(sd.x[i]));
    }
    occam_dataset_free(&sd);
}

static void features_only(const char *path, const occam_csv_opts *o, int rc,
                          const occam_error *err, const occam_dataset *ds)
{
    occam_csv_opts fopts = {.label = OCCAM_LABEL_NONE, .header = o->header};
    occam_dataset fo;
    memset(&fo, 0xA5, sizeof fo);
    occam_error ferr = {0};
    int frc = occam_csv_load(&fo, path, &fopts, &ferr);
    fuzz_check_status("occam_csv_load (features only)", frc, &ferr, path);
    sniffed(path, o->header, frc, &ferr, &fo);
    skipped(path, o->header, o->label, frc == OCCAM_OK ? fo.d : 3);
    if (frc != OCCAM_OK) {
        FUZZ_CHECK(!fo.x && !fo.label && !fo.y && fo.n == 0 && fo.d == 0);
        FUZZ_CHECK(rc != OCCAM_OK);
        FUZZ_CHECK(strcmp(ferr.msg, err->msg) == 0 || strstr(err->msg, "label"));
        return;
    }
    FUZZ_CHECK(fo.n > 0 && fo.d > 0 && fo.x && (uintptr_t)fo.x % 64 == 0);
    FUZZ_CHECK(!fo.label && !fo.y && fo.classes == 0 && fo.targets == 0);
    for (size_t i = 0; i < fo.n * fo.d; i++) FUZZ_CHECK(isfinite(fo.x[i]));
    if (rc == OCCAM_OK) check_features(&fo, ds, o);
    occam_dataset_free(&fo);
}

/* The same file with its label named by the header (data.label = NAME, the name the labelled
 * load read there): a clean status, and where the name finds the same column, the same rows;
 * predict's loader skipping the named column drops it as skipping it by number does. */
static void named(const char *path, const occam_csv_opts *o, int rc, const occam_dataset *ds)
{
    if (rc != OCCAM_OK || !ds->label_name || !ds->label_name[0]) return;
    occam_csv_opts no = *o;
    no.label = OCCAM_LABEL_NAMED;
    no.label_name = ds->label_name;
    occam_dataset nd;
    memset(&nd, 0xA5, sizeof nd);
    occam_error nerr = {0};
    int nrc = occam_csv_load(&nd, path, &no, &nerr);
    fuzz_check_status("occam_csv_load (named)", nrc, &nerr, path);
    if (nrc != OCCAM_OK) FUZZ_CHECK(!nd.x && !nd.label && !nd.y && nd.n == 0 && nd.d == 0);
    if (nrc == OCCAM_OK && nd.label_col == ds->label_col) {
        FUZZ_CHECK(nd.n == ds->n && nd.d == ds->d);
        FUZZ_CHECK(memcmp(nd.x, ds->x, nd.n * nd.d * sizeof *nd.x) == 0);
    }
    occam_dataset_free(&nd);
    occam_dataset sd;
    memset(&sd, 0xA5, sizeof sd);
    occam_error serr = {0};
    bool idx = true;
    int src = occam_features_load(&sd, path, o->header, OCCAM_LABEL_NAMED, ds->label_name,
                                  ds->d + 1, &idx, &serr);
    fuzz_check_status("occam_features_load (named skip)", src, &serr, path);
    if (src != OCCAM_OK) FUZZ_CHECK(!sd.x && !sd.label && !sd.y && sd.n == 0 && sd.d == 0);
    if (src == OCCAM_OK && !idx && sd.label_col) FUZZ_CHECK(sd.d == ds->d);
    occam_dataset_free(&sd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    static const occam_csv_header headers[4] = {OCCAM_CSV_HEADER_AUTO, OCCAM_CSV_HEADER_YES,
                                                OCCAM_CSV_HEADER_NO, OCCAM_CSV_HEADER_AUTO};
    int col = data[0] >> 3;
    occam_csv_opts o = {
        .label = col ? col : OCCAM_LABEL_LAST,
        .header = headers[data[0] & 3],
        .task = data[0] & 4 ? OCCAM_TASK_REGRESS : OCCAM_TASK_CLASSIFY,
        .classes = data[1] + 1,
    };
    const char *path = fuzz_file_write(0, data + 2, size - 2);
    occam_dataset ds;
    memset(&ds, 0xA5, sizeof ds); /* the reader must not rely on a zeroed output */
    occam_error err = {0};
    int rc = occam_csv_load(&ds, path, &o, &err);
    fuzz_check_status("occam_csv_load", rc, &err, path);
    if (rc != OCCAM_OK)
        FUZZ_CHECK(!ds.x && !ds.label && !ds.y && ds.n == 0 && ds.d == 0);
    else
        check_dataset(&ds, &o);
    features_only(path, &o, rc, &err, &ds);
    named(path, &o, rc, &ds);
    occam_dataset_free(&ds);
    return 0;
}
