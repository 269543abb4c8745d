/* occam/prune.h — pruning while training: importance scores, exact selection, masks, the
 * three granularities and the schedules.
 *
 * Sparsity is always cumulative and exact: pruning to target s over n prunable weights leaves
 * exactly round(s·n) of them pruned (occam_select_count), ties at the threshold broken by
 * position, the same for any thread count. Pruned weights score below every live weight
 * (-1; live scores are >= 0), so they are selected first and never come back. Masks live in
 * the model (flat layout, like the weights); the optimiser keeps masked weights and their
 * moments at zero.
 *
 * Granularity:
 *   weight — unstructured, scope global (one threshold) or layer (a fraction per layer, with
 *            prune.layer_targets overrides); prune.min_keep weights survive in every layer.
 *   neuron — whole hidden units, scored by the L2 norm of their incoming and outgoing weights;
 *            a pruned unit is removed from the layout, so the GEMMs really shrink.
 *   nm     — in every row, each group of M consecutive inputs keeps its N best scores.
 * Schedules (prune.schedule): oneshot (after train.epochs, then prune.finetune_epochs),
 * iterative (prune.steps steps to targets s·k/steps, each followed by fine-tuning), agp
 * (Zhu & Gupta: s_t = s·(1 - (1 - (t - t0)/(t1 - t0))³) every prune.every steps between epochs
 * prune.start and prune.end). Each fine-tuning phase restarts the learning-rate schedule.
 * mdl (the steps of iterative; after each step's fine-tuning the description length L is
 * computed with mdl.model_code, and at the end the model with the smallest L, the dense one
 * included, is restored: the code length picks the sparsity).
 * prune.rewind = init | epoch:N resets the surviving weights to that snapshot after each prune
 * (lottery-ticket rewinding) and clears the optimiser state. */
#ifndef OCCAM_PRUNE_H
#define OCCAM_PRUNE_H

#include <stdint.h>

#include "occam/config.h"
#include "occam/data.h"
#include "occam/error.h"
#include "occam/fit.h"
#include "occam/model.h"
#include "occam/trainer.h"

typedef struct occam_prune_event {
    int step;                  /* 1-based */
    int epoch;                 /* epochs trained before this prune */
    int64_t opt_step;          /* optimiser steps before this prune */
    double target;             /* cumulative target (weights, or hidden units for neuron) */
    double sparsity;           /* achieved weight sparsity against the dense model */
    int64_t weights_active;    /* weights left */
    int hidden_units;          /* hidden units left */
    double select_seconds;     /* scores + selection + mask update */
    double train_loss;         /* after the fine-tuning that follows (agp: at the event) */
    double test_metric;        /* test accuracy (classify) or relative error (regress) */
    double model_bits, data_bits, total_bits; /* schedule = mdl: L after the fine-tuning */
} occam_prune_event;

typedef struct occam_prune_log {
    occam_prune_event *ev;
    int n, cap;
    int best;                  /* schedule = mdl: index of the kept event, -1 = the dense model */
    double dense_total_bits;   /* schedule = mdl: L of the dense model */
    int64_t dense_weights;     /* weights of the unpruned model */
    int dense_hidden;          /* hidden units of the unpruned model */
} occam_prune_log;

void occam_prune_log_free(occam_prune_log *log);

/* Cumulative target of iterative step k (1-based) of `steps`. */
double occam_prune_iterative_target(double final, int k, int steps);
/* Zhu & Gupta's cubic ramp at optimiser step t, from 0 at t0 to `final` at t1. */
double occam_prune_agp_target(double final, int64_t t, int64_t t0, int64_t t1);

typedef struct occam_pruner occam_pruner;

int occam_pruner_create(occam_pruner **out, const occam_config *cfg, const occam_model *m,
                        occam_error *err);
void occam_pruner_free(occam_pruner *p);
/* A resumed run: `events` prune events already happened (they seed prune.method = random). */
void occam_pruner_resume(occam_pruner *p, int events);

/* Prunes the model to cumulative `target` as cfg->prune says (scores from the training data
 * for taylor/obd). Neuron pruning changes m->lay and re-lays out the trainer. Fills ev's
 * target, sparsity, weights_active, hidden_units and select_seconds. */
int occam_prune_to(occam_pruner *p, occam_model *m, occam_trainer *tr,
                   const occam_dataset *train, double target, occam_prune_event *ev,
                   occam_error *err);

/* Everything a run's checkpoint holds besides what the model and trainer own, as pointers into
 * the running schedule (read to save, write to restore). */
typedef struct occam_run_view {
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
} occam_run_view;

/* How a run talks to its caller. Every member may be zero. */
typedef struct occam_run_io {
    occam_progress_fn progress;
    void *user;
    /* Called after every epoch with interrupted = false, and once with true when a stop
     * request (occam_fit_request_stop) ends the run early; a non-OK status stops the run. */
    int (*checkpoint)(void *ctx, const occam_run_view *v, bool interrupted, occam_error *err);
    /* Called once before training, once the schedule's buffers exist: fills the view from a
     * checkpoint and sets v->res->resuming (with v->res->pos where to continue). */
    int (*restore)(void *ctx, const occam_run_view *v, occam_error *err);
    void *ctx;
} occam_run_io;

/* The whole run: dense training, then the schedule's prune events and fine-tuning phases
 * (or just dense training when prune.schedule = none). res holds the per-epoch history of all
 * phases; log the prune events. io may be NULL. A stop request ends it with OCCAM_STOPPED +
 * the signal, after the checkpoint callback has saved the state. */
int occam_train_run(occam_trainer *tr, occam_model *m, const occam_config *cfg,
                    const occam_dataset *train, const occam_dataset *test, occam_fit_result *res,
                    occam_prune_log *log, const occam_run_io *io, occam_error *err);

/* Epochs the run will train in all (dense plus fine-tuning). */
int occam_train_total_epochs(const occam_config *cfg);

#endif
