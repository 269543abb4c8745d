/* occam/fit.h — the epoch loop: seeded shuffling, the learning-rate schedule, divergence
 * checks, per-epoch evaluation and history, and progress callbacks. */
#ifndef OCCAM_FIT_H
#define OCCAM_FIT_H

#include <stdbool.h>
#include <stdint.h>

#include "occam/comm.h"
#include "occam/config.h"
#include "occam/data.h"
#include "occam/error.h"
#include "occam/rng.h"
#include "occam/trainer.h"

typedef struct occam_epoch_stats {
    int epoch;                 /* 1-based */
    double lr;                 /* learning rate of the epoch's last step */
    double train_loss;         /* mean loss of the epoch's steps, as trained (regression:
                                  in the targets' original units) */
    double train_accuracy;     /* classify: running accuracy of the epoch's steps */
    occam_eval test;           /* after the epoch (test.n = 0 without a test set) */
    double seconds;            /* training time of the epoch, evaluation excluded */
    double samples_per_second;
} occam_epoch_stats;

/* Where a run stands inside its current phase: what a checkpoint needs to continue it. */
typedef struct occam_fit_pos {
    int phase;                 /* set by the schedule: 0 = dense, k = fine-tuning after prune k */
    int phase_epochs;          /* epochs finished in this phase */
    int64_t phase_step;        /* optimiser steps done in this phase (the lr schedule's place) */
    int64_t epoch_step;        /* steps done in the current epoch; 0 = at an epoch boundary */
    double loss_sum;           /* the current epoch's running sums */
    int64_t correct;
    size_t seen;
    double epoch_seconds;      /* training time of the current epoch so far */
} occam_fit_pos;

typedef struct occam_fit_result {
    occam_epoch_stats *history; /* one per finished epoch; free with occam_fit_result_free */
    int history_cap;            /* entries allocated: grown as epochs finish */
    int epochs;                 /* finished epochs, over all phases */
    int capacity;               /* epochs planned in all */
    int64_t steps;              /* optimiser steps, over all phases */
    double train_seconds;       /* Σ epoch seconds */
    double samples_per_second;  /* samples trained / train_seconds */
    /* the run's shuffling state, carried from phase to phase */
    uint32_t *perm;
    size_t nrows;
    occam_rng rng;
    occam_fit_pos pos;
    bool resuming;              /* the next occam_fit_epochs continues from pos (a restored
                                   checkpoint) instead of starting its phase */
    char run_id[17];            /* 16 hex digits naming the run, drawn at its start and kept
                                   across resumes: its checkpoints are the ones it may remove */
    char data_crc[9];           /* CRC-32 of the training rows as trained on (8 hex digits),
                                   "" when not taken: a resume compares it */
    char train_rows[32];        /* the same rows as "COUNT:CRC", a saved model's
                                   occam.train_rows (occam/checkpoint.h), "" when not taken */
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

typedef struct occam_fit_hooks {
    occam_progress_fn progress;
    void *user;
    /* Called after every optimiser step with the run's step count; may change the model
     * (pruning). A non-OK status stops the run. */
    int (*after_step)(void *ctx, int64_t steps, occam_error *err);
    /* Called after every epoch (1-based, over the run), its evaluation and the progress
     * report; res->pos is at the epoch boundary. */
    int (*after_epoch)(void *ctx, int epoch, occam_error *err);
    void *ctx;
} occam_fit_hooks;

/* Asks the running fit to stop after its current step (async-signal-safe: for a signal
 * handler); sig is the signal's number, or any positive value. */
void occam_fit_request_stop(int sig);
/* The signal a stop was requested with, 0 if none. */
int occam_fit_stop_requested(void);
/* Forgets a stop request (for a run that continues in the same process, as tests do). */
void occam_fit_clear_stop(void);
/* The stop request every rank of c agrees on: the largest signal any rank has (then also this
 * rank's), 0 if none. A collective under several ranks (every rank calls it at the same step);
 * occam_fit_stop_requested() alone. */
int occam_fit_stop_agreed(const occam_comm *c);

/* Optimiser steps an epoch of nrows rows takes at train.batch (the last batch may be short). */
int64_t occam_fit_steps_per_epoch(const occam_config *cfg, size_t nrows);

/* Prepares res for a run of `capacity` epochs over n training rows. The history is not
 * allocated here but as the epochs come (occam_fit_history_reserve): a plan of 10^8 epochs
 * needs no 8.8 GB to start. */
int occam_fit_begin(occam_fit_result *res, const occam_config *cfg, size_t n, int capacity,
                    occam_error *err);
/* Room in res->history for `epochs` entries (the new ones zeroed); OCCAM_ERR_RUNTIME "out of
 * memory for the history of N epochs" when there is none, res unchanged. */
int occam_fit_history_reserve(occam_fit_result *res, int epochs, occam_error *err);

/* One phase: `epochs` epochs with the learning-rate schedule restarted over them (or, when
 * res->resuming, the rest of the phase from res->pos). A non-finite loss stops the run with
 * OCCAM_ERR_RUNTIME and a message naming the epoch and step; the history up to then is kept in
 * res. After a stop request the current step finishes and OCCAM_STOPPED + sig is returned with
 * res->pos saying where. hooks may be NULL. */
int occam_fit_epochs(occam_trainer *tr, const occam_config *cfg, const occam_dataset *train,
                     const occam_dataset *test, int epochs, occam_fit_result *res,
                     const occam_fit_hooks *hooks, occam_error *err);

/* begin + one phase of cfg->train.epochs epochs. */
int occam_fit(occam_trainer *tr, const occam_config *cfg, const occam_dataset *train,
              const occam_dataset *test, occam_fit_result *res, occam_progress_fn progress,
              void *user, occam_error *err);

void occam_fit_result_free(occam_fit_result *res);

#endif
