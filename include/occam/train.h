/* occam/train.h — the training run: dense training, then the prune schedule's events and
 * fine-tuning phases, with checkpoints and resume hooks. This is where a run lives; the step it
 * repeats is occam_trainer_step (nn/trainer.c), the epoch loop occam_fit_epochs (run/fit.c).
 *
 * Schedules (prune.schedule): none (train.epochs of dense training), oneshot (after
 * train.epochs, one prune, then prune.finetune_epochs), iterative (prune.steps steps to targets
 * s·k/steps, each followed by fine-tuning), agp (Zhu & Gupta's cubic ramp, every prune.every
 * steps between epochs prune.start and prune.end), mdl (the steps of iterative; after each
 * step's fine-tuning the description length L is computed with mdl.model_code, and at the end
 * the model with the smallest L, the dense one included, is restored). Each fine-tuning phase
 * restarts the learning-rate schedule. prune.rewind = init | epoch:N resets the surviving
 * weights to that snapshot after each prune (lottery-ticket rewinding). */
#ifndef OCCAM_TRAIN_H
#define OCCAM_TRAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "occam/config.h"
#include "occam/data.h"
#include "occam/error.h"
#include "occam/fit.h"
#include "occam/model.h"
#include "occam/prune.h"
#include "occam/trainer.h"

/* Cumulative target of iterative step k (1-based) of `steps`. */
double occam_train_iterative_target(double final, int k, int steps);
/* Zhu & Gupta's cubic ramp at optimiser step t, from 0 at t0 to `final` at t1. */
double occam_train_agp_target(double final, int64_t t, int64_t t0, int64_t t1);

/* The schedule's checks, for train and select before they train (not occam_config_validate:
 * eval, mdl and predict of a model trained under an older build's laxer rules still load its
 * config, and occam mdl --code bits-back scores a model the mdl schedule trained): schedule =
 * mdl scores its models with mdl.model_code = two-part or count; and, against the run's
 * length, under agp a ramp
 * of at least one epoch that ends by train.epochs; a rewind (prune.rewind) that some epoch
 * trains after (prune.finetune_epochs >= 1, or under agp prune.end < train.epochs; epoch:N with
 * N = train.epochs resets nothing and needs none). Messages name the keys. */
int occam_train_check(const occam_config *cfg, occam_error *err);

/* At most the prune events prune.schedule = agp makes over a training set of nrows rows: one
 * every prune.every optimiser steps of the ramp from epoch prune.start to prune.end (or the
 * run's end, if sooner), and one at its end (0 under another schedule). The run refuses a count
 * its log cannot hold. */
int64_t occam_train_agp_events(const occam_config *cfg, size_t nrows);

/* Everything a run's checkpoint holds besides what the model and trainer own, as pointers into
 * the running schedule (read to save, write to restore). */
typedef struct occam_train_view {
    const occam_config *cfg;
    occam_model *m;
    occam_trainer *tr;
    occam_fit_result *res;    /* history, shuffling state, position (res->pos) */
    occam_prune_log *log;
    occam_pruner *pruner;     /* NULL without a prune schedule */
    float *snapshot;          /* prune.rewind: the weights rewound to (nparams), else NULL */
    float *best_params;       /* schedule = mdl: the shortest model so far (nparams), else NULL */
    uint8_t *best_mask;
    double *best_total;
} occam_train_view;

/* How a run talks to its caller. Every member may be zero. */
typedef struct occam_train_io {
    occam_progress_fn progress;
    void *user;
    /* Called after every epoch with interrupted = false, and once with true when a stop
     * request (occam_fit_request_stop) ends the run early; a non-OK status stops the run. */
    int (*checkpoint)(void *ctx, const occam_train_view *v, bool interrupted, occam_error *err);
    /* Called once before training, once the schedule's buffers exist: fills the view from a
     * checkpoint and sets v->res->resuming (with v->res->pos where to continue). */
    int (*restore)(void *ctx, const occam_train_view *v, occam_error *err);
    void *ctx;
} occam_train_io;

/* The epochs a run of cfg trains in all: train.epochs, plus its prune schedule's fine-tuning
 * (oneshot: prune.finetune_epochs; iterative and mdl: prune.steps of them). */
int occam_train_total_epochs(const occam_config *cfg);

/* Whether training computes the description length after the dense phase and every prune
 * step: the mdl schedule chooses by it, and prune.score_events reports it beside oneshot's
 * and iterative's steps. Otherwise the mdl.* keys are read at the run's end alone. */
bool occam_train_scores_steps(const occam_config *cfg);

/* The whole run: dense training, then the schedule's prune events and fine-tuning phases
 * (or just dense training when prune.schedule = none). res holds the per-epoch history of all
 * phases; log the prune events. io may be NULL. A stop request ends it with OCCAM_STOPPED +
 * the signal, after the checkpoint callback has saved the state. */
int occam_train_run(occam_trainer *tr, occam_model *m, const occam_config *cfg,
                    const occam_dataset *train, const occam_dataset *test, occam_fit_result *res,
                    occam_prune_log *log, const occam_train_io *io, occam_error *err);


#endif
