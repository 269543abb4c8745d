/* select-impl.h — what `occam select`'s two files share: the run's state (cmd_select.c trains
 * it) and its outputs, the table and the JSON report (select_out.c). */
#ifndef OCCAM_CLI_SELECT_IMPL_H
#define OCCAM_CLI_SELECT_IMPL_H

#include <stdbool.h>
#include <stdio.h>

#include "cli.h"
#include "grid.h"
#include "occam/config.h"
#include "occam/data.h"
#include "occam/dl.h"
#include "occam/error.h"

typedef enum { POINT_PENDING, POINT_DONE, POINT_FAILED } select_state;

typedef struct select_point {
    occam_config cfg;        /* base + the point's values, validated; mdl.model_code its code */
    int threads;
    char label[512];         /* "key=value key=value" */
    select_state state;
    char msg[OCCAM_ERROR_MAX]; /* POINT_FAILED: why */
    occam_model_code code;
    double total_bits, model_bits, data_bits;  /* NaN until done */
    double train_metric, test_metric;          /* accuracy or relative error; NaN: none */
    double seconds;          /* training and scoring */
    int same_as;             /* -1, or the earlier point whose run this is: the two differ only
                                in keys that do not apply (occam_config_drop_inert) */
    const char *inert;       /* same_as >= 0: which key, and why */
    occam_data_params data;  /* cfg.data with the keys its source does not read at their
                                defaults (occam_config_drop_inert): equal for one data set */
    size_t rows;             /* its training rows */
    bool coded_other;        /* its data code codes other labels or targets than point 0's */
} select_point;

/* The data set last loaded, with the point it was loaded for: the points whose data.* keys
 * (those their source reads) and model input and output widths are equal share it. One is
 * held at a time. */
typedef struct select_data {
    const select_point *pt;  /* the point they were loaded for; NULL: none */
    occam_dataset train, test;
} select_data;

typedef struct select_run {
    const cli_opts *o;
    occam_config base;       /* defaults, file, --set, --threads: before the grid */
    grid g;
    select_point *pt;        /* [g.npoints] */
    select_data data;
    occam_coded_rows coded;  /* what point 0's data code codes: every point's must match */
    int best;                /* the shortest done point, -1: none */
    bool interrupted;        /* the grid ended early: a signal, or a point that could not
                                be set up */
    int save_rc;             /* --save: the last write's status (the best point's model) */
    int saved;               /* --save: the point whose model the file holds, -1: none (after
                                a failed write of a shorter point, an earlier one's) */
    char save_msg[OCCAM_ERROR_MAX];
    int save_fd;             /* --save written in place (a pipe, a device, /dev/stdout): a
                                memory file that holds the best point's model until the end,
                                -1 otherwise */
} select_run;

/* The lines before training: the base config's summary and changed keys, the grid's shape. */
void select_print_header(const select_run *s, FILE *out);

/* The table, one row per point, then the shortest point and the notes. */
void select_print_table(const select_run *s, FILE *out);

/* --save's status and --report, written even when the other failed (cli_outputs_write). */
int select_write_outputs(select_run *s, occam_error *err);

#endif
