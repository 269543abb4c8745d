/* libFuzzer harness for the CSV reader (occam_csv_load).
 *
 * Input layout: byte 0 picks the options (bits 0-1: header auto / yes / no / auto; bit 2:
 * regress instead of classify; bits 3-7: the label column, 0 = last), byte 1 is the class count
 * minus 1, and the rest is the file. A load that succeeds must hold n rows of d finite floats
 * and, for classification, labels below the class count; for regression, finite targets. */
#include <float.h>
#include <math.h>
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
    if (rc != OCCAM_OK) {
        FUZZ_CHECK(!ds.x && !ds.label && !ds.y && ds.n == 0 && ds.d == 0);
        return 0;
    }
    check_dataset(&ds, &o);
    occam_dataset_free(&ds);
    return 0;
}
