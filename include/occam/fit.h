/* occam/fit.h — the epoch loop: seeded shuffling, the learning-rate schedule, divergence
 * checks, per-epoch evaluation and history, and progress callbacks. */
#ifndef OCCAM_FIT_H
#define OCCAM_FIT_H

#include <stdbool.h>
#include <stdint.h>

#include "occam/config.h"
#include "occam/data.h"
#include "occam/error.h"
#include "occam/trainer.h"

typedef struct occam_epoch_stats {
    int epoch;                 /* 1-based */
    double lr;                 /* learning rate of the epoch's last step */
    double train_loss;         /* mean loss of the epoch's steps, as trained */
    double train_accuracy;     /* classify: running accuracy of the epoch's steps */
    occam_eval test;           /* after the epoch (test.n = 0 without a test set) */
    double seconds;            /* training time of the epoch, evaluation excluded */
    double samples_per_second;
} occam_epoch_stats;

typedef struct occam_fit_result {
    occam_epoch_stats *history; /* one per finished epoch; free with occam_fit_result_free */
    int epochs;
    int64_t steps;
    double train_seconds;       /* Σ epoch seconds */
    double samples_per_second;  /* samples trained / train_seconds */
} occam_fit_result;

/* Called after every step (end_of_epoch false) and after each epoch's evaluation
 * (end_of_epoch true, with that epoch's stats). */
typedef struct occam_progress {
    int epoch, epochs;
    int64_t step, steps_per_epoch;
    double loss;               /* running mean loss of this epoch */
    double samples_per_second; /* this epoch so far */
    double eta_seconds;        /* remaining training time, from this epoch's rate */
    bool end_of_epoch;
    const occam_epoch_stats *stats; /* only at end_of_epoch */
} occam_progress;
typedef void (*occam_progress_fn)(void *user, const occam_progress *p);

/* Trains cfg->train.epochs epochs. A non-finite loss stops the run with OCCAM_ERR_RUNTIME and
 * a message naming the epoch and step; the history up to then is kept in res. */
int occam_fit(occam_trainer *tr, const occam_config *cfg, const occam_dataset *train,
              const occam_dataset *test, occam_fit_result *res, occam_progress_fn progress,
              void *user, occam_error *err);

void occam_fit_result_free(occam_fit_result *res);

/* Monotonic wall-clock seconds. */
double occam_now(void);

#endif
