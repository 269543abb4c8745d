/* The training run with its pruning schedule: dense phase, prune events, fine-tuning phases,
 * lottery-ticket rewinding (see include/occam/train.h). */
#include "occam/train.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "occam/checkpoint.h"
#include "occam/dl.h"
#include "occam/mem.h"
#include "occam/safetensors.h"

double occam_train_iterative_target(double final, int k, int steps)
{
    return final * (double)k / (double)steps;
}

double occam_train_agp_target(double final, int64_t t, int64_t t0, int64_t t1)
{
    if (t <= t0) return 0.0;
    if (t >= t1) return final;
    double r = 1.0 - (double)(t - t0) / (double)(t1 - t0);
    return final * (1.0 - r * r * r);
}

/* A rewind's value ("init", "epoch:N") and what it resets the survivors to, for a message. */
static void rewind_text(const occam_prune_params *p, char *name, char *to, size_t cap)
{
    if (p->rewind == OCCAM_REWIND_EPOCH) {
        snprintf(name, cap, "epoch:%d", p->rewind_epoch);
        snprintf(to, cap, "their values after epoch %d", p->rewind_epoch);
    } else {
        snprintf(name, cap, "init");
        snprintf(to, cap, "their initial values");
    }
}

/* agp: a ramp of at least one step that ends within the run (an empty one pruned nothing, one
 * past train.epochs stopped short of prune.target: both without a word). */
static int check_agp(const occam_prune_params *p, int epochs, occam_error *err)
{
    if (p->end == p->start)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "prune.end: %d equals prune.start: the agp ramp from start to end "
                               "is empty and would prune nothing (set prune.end > prune.start, "
                               "or prune.schedule = oneshot to prune once)",
                               p->end);
    /* nm prunes its N of M at the ramp's first prune, whatever the ramp's value: a ramp past
     * the run still gets there, if it starts within it */
    bool nm_reaches = p->granularity == OCCAM_GRAN_NM && p->start < epochs;
    if (p->end > epochs && !nm_reaches) {
        char reach[96] = ": the run would prune nothing";
        if (p->start < epochs)
            snprintf(reach, sizeof reach, ": the run would prune to a sparsity of at most %.4f, "
                     "not to prune.target = %g",
                     occam_train_agp_target(p->target, epochs, p->start, p->end), p->target);
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "prune.end: the agp ramp from prune.start = %d to prune.end = %d "
                               "runs past the last epoch (train.epochs = %d)%s (set prune.end <= "
                               "train.epochs)",
                               p->start, p->end, epochs, reach);
    }
    return OCCAM_OK;
}

/* The mdl schedule keeps its shortest model by a code that scores one: two-part or count. */
static int check_mdl_code(const occam_config *cfg, occam_error *err)
{
    if (cfg->prune.schedule == OCCAM_PRUNE_MDL && cfg->mdl.model_code == OCCAM_MDL_BITS_BACK)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "prune.schedule: mdl scores models with mdl.model_code = two-part "
                               "or count");
    return OCCAM_OK;
}

int occam_train_check(const occam_config *cfg, occam_error *err)
{
    const occam_prune_params *p = &cfg->prune;
    const int epochs = cfg->train.epochs;
    int rc = check_mdl_code(cfg, err);
    if (rc == OCCAM_OK && p->schedule == OCCAM_PRUNE_AGP) rc = check_agp(p, epochs, err);
    if (rc != OCCAM_OK || p->rewind == OCCAM_REWIND_NONE || p->schedule == OCCAM_PRUNE_NONE)
        return rc;
    char name[64], to[64];
    rewind_text(p, name, to, sizeof name);
    if (p->schedule == OCCAM_PRUNE_AGP && p->end >= epochs)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "prune.rewind = %s with prune.schedule = agp and prune.end = "
                               "train.epochs = %d: the ramp's last prune, in epoch %d, resets "
                               "the surviving weights to %s and no epoch trains them again, so "
                               "the run would end with them (set prune.end < train.epochs, or "
                               "prune.rewind = none)",
                               name, epochs, epochs, to);
    /* rewinding to the end of the dense phase resets nothing before any fine-tuning */
    bool noop = p->rewind == OCCAM_REWIND_EPOCH && p->rewind_epoch == epochs;
    if (p->schedule != OCCAM_PRUNE_AGP && p->finetune_epochs == 0 && !noop)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "prune.rewind = %s with prune.finetune_epochs = 0: every prune "
                               "resets the surviving weights to %s and no epoch trains them "
                               "again, so the run would end with them, its training thrown away "
                               "(set prune.finetune_epochs >= 1, or prune.rewind = none)",
                               name, to);
    return OCCAM_OK;
}

int64_t occam_train_agp_events(const occam_config *cfg, size_t nrows)
{
    if (cfg->prune.schedule != OCCAM_PRUNE_AGP) return 0;
    int64_t spe = occam_fit_steps_per_epoch(cfg, nrows);
    /* the part of the ramp the run reaches: under nm a ramp may end after the run */
    int end = cfg->prune.end < cfg->train.epochs ? cfg->prune.end : cfg->train.epochs;
    int64_t ramp = spe * (end - cfg->prune.start), every = cfg->prune.every;
    /* agp_step: a prune at every `every` steps after the ramp's start, and at its end */
    return ramp <= 0 ? 0 : ramp / every + (ramp % every != 0);
}

bool occam_train_scores_steps(const occam_config *cfg)
{
    /* without a schedule there are no steps, and the report has no prune section to carry
     * them; agp's steps are too many to score */
    int sched = cfg->prune.schedule;
    return sched == OCCAM_PRUNE_MDL || (cfg->prune.score_events && sched != OCCAM_PRUNE_AGP &&
                                        sched != OCCAM_PRUNE_NONE);
}

int occam_train_total_epochs(const occam_config *cfg)
{
    switch (cfg->prune.schedule) {
    case OCCAM_PRUNE_ONESHOT: return cfg->train.epochs + cfg->prune.finetune_epochs;
    case OCCAM_PRUNE_ITERATIVE:
    case OCCAM_PRUNE_MDL:
        return cfg->train.epochs + cfg->prune.steps * cfg->prune.finetune_epochs;
    case OCCAM_PRUNE_NONE:
    case OCCAM_PRUNE_AGP: break;
    }
    return cfg->train.epochs;
}

typedef struct run {
    occam_trainer *tr;
    occam_model *m;
    const occam_config *cfg;
    const occam_dataset *train, *test;
    occam_fit_result *res;
    occam_prune_log *log;
    occam_pruner *pruner;
    occam_fit_hooks hooks;
    float *snapshot;        /* rewind target (flat, current layout) */
    occam_layout snap_lay;  /* layout the snapshot is in */
    int64_t agp_t0, agp_t1; /* agp ramp in optimiser steps */
    const occam_train_io *io;
    occam_train_view view;
} run;

static occam_prune_event *new_event(run *r)
{
    occam_prune_log *log = r->log;
    if (log->n == INT_MAX) return NULL;
    if (log->n == log->cap) {
        int cap = !log->cap ? 16 : log->cap > INT_MAX / 2 ? INT_MAX : 2 * log->cap;
        occam_prune_event *ev = realloc(log->ev, sizeof *ev * (size_t)cap);
        if (!ev) return NULL;
        log->ev = ev;
        log->cap = cap;
    }
    occam_prune_event *ev = &log->ev[log->n++];
    memset(ev, 0, sizeof *ev);
    ev->step = log->n;
    ev->epoch = r->res->epochs;
    ev->opt_step = r->res->steps;
    return ev;
}

/* Resets the surviving weights to the snapshot (the mask keeps pruned ones at zero) and
 * clears the optimiser state. */
static void rewind_weights(run *r)
{
    occam_model *m = r->m;
    OCCAM_ASSERT(m->lay.nparams == r->snap_lay.nparams);
    memcpy(m->params, r->snapshot, m->lay.nparams * sizeof(float));
    occam_trainer_reset_optim(r->tr);
    occam_trainer_apply_mask(r->tr);
    occam_trainer_sync(r->tr);
}

/* A prune to prune.target's ramp at `progress` (target: the ramp's value there). */
static int prune_event(run *r, double target, double progress, occam_prune_event **out,
                       occam_error *err)
{
    occam_prune_event *ev = new_event(r);
    if (!ev && r->log->n == INT_MAX)
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "the prune log is full (%d events): "
                               "raise prune.every", INT_MAX);
    if (!ev) return occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory for the prune log");
    int rc = occam_prune_to(r->pruner, r->m, r->tr, r->train, target, progress, ev, err);
    if (rc != OCCAM_OK) { /* no event took place: train would print it as one of 0 weights */
        r->log->n--;
        return rc;
    }
    /* the last event's: the run says it once, not at every step */
    snprintf(r->log->note, sizeof r->log->note, "%s", occam_pruner_note(r->pruner));
    ev->sparsity = 1.0 - (double)ev->weights_active / (double)r->log->dense_weights;
    if (r->snapshot && r->cfg->prune.rewind != OCCAM_REWIND_NONE) rewind_weights(r);
    *out = ev;
    return OCCAM_OK;
}

static void fill_metrics(run *r, occam_prune_event *ev)
{
    const occam_epoch_stats *st = r->res->epochs ? &r->res->history[r->res->epochs - 1] : NULL;
    if (!st) return;
    ev->train_loss = st->train_loss;
    ev->test_metric = occam_eval_metric(&st->test, r->cfg->data.task);
}

/* schedule = mdl: the model with the smallest description length so far */
typedef struct best_model {
    float *params;
    uint8_t *mask;
    double total;
} best_model;

static int score_model(run *r, occam_prune_event *ev, best_model *b, int index, occam_error *err)
{
    occam_dl dl;
    int rc = occam_dl_compute(&dl, r->m, &r->cfg->mdl, &r->cfg->noise, r->train,
                              occam_trainer_threads(r->tr), NULL, err);
    /* A model no code describes (a parameter beyond any code length at its step, an output
     * that overflows: what a run near divergence leaves) is unscored, OCCAM_PRUNE_UNCODED, and
     * never the best; the run goes on. It used to end here with exit 2, losing the model. */
    if (rc == OCCAM_ERR_INPUT) {
        if (ev) ev->total_bits = OCCAM_PRUNE_UNCODED;
        else r->log->dense_total_bits = OCCAM_PRUNE_UNCODED;
        return OCCAM_OK;
    }
    if (rc != OCCAM_OK) return rc;
    if (ev) {
        ev->model_bits = dl.model_bits;
        ev->data_bits = dl.data_bits;
        ev->total_bits = dl.total_bits;
    } else {
        r->log->dense_total_bits = dl.total_bits;
    }
    if (b && dl.total_bits < b->total) {
        size_t n = r->m->lay.nparams;
        b->total = dl.total_bits;
        memcpy(b->params, r->m->params, n * sizeof(float));
        if (r->m->mask) memcpy(b->mask, r->m->mask, n);
        else memset(b->mask, 1, n);
        r->log->best = index;
    }
    return OCCAM_OK;
}

static int agp_step(void *ctx, int64_t steps, occam_error *err)
{
    run *r = ctx;
    int64_t t0 = r->agp_t0, t1 = r->agp_t1, every = r->cfg->prune.every;
    if (steps < t0 || steps > t1) return OCCAM_OK;
    if ((steps - t0) % every != 0 && steps != t1) return OCCAM_OK;
    double target = occam_train_agp_target(r->cfg->prune.target, steps, t0, t1);
    if (steps == t0) return OCCAM_OK; /* the ramp starts at zero */
    occam_prune_event *ev;
    int rc = prune_event(r, target, occam_train_agp_target(1.0, steps, t0, t1), &ev, err);
    if (rc != OCCAM_OK) return rc;
    occam_eval te;
    occam_trainer_eval(r->tr, r->test, &te);
    ev->test_metric = occam_eval_metric(&te, r->cfg->data.task);
    return OCCAM_OK;
}

static int after_epoch(void *ctx, int epoch, occam_error *err)
{
    run *r = ctx;
    if (r->snapshot && r->cfg->prune.rewind == OCCAM_REWIND_EPOCH &&
        epoch == r->cfg->prune.rewind_epoch)
        memcpy(r->snapshot, r->m->params, r->m->lay.nparams * sizeof(float));
    return r->io->checkpoint ? r->io->checkpoint(r->io->ctx, &r->view, false, err) : OCCAM_OK;
}

/* A run that ends early on a stop request: save where it is, then return the stop status
 * (already in err). */
static int stopped(run *r, int rc, occam_error *err)
{
    if (rc < OCCAM_STOPPED || !r->io->checkpoint) return rc;
    occam_error e2;
    int rc2 = r->io->checkpoint(r->io->ctx, &r->view, true, &e2);
    if (rc2 != OCCAM_OK) {
        *err = e2;
        return rc2;
    }
    return rc;
}

/* Between phases: a pending stop request ends the run here, at an epoch boundary. */
static int check_stop(run *r, occam_error *err)
{
    int sig = occam_fit_stop_agreed(occam_trainer_comm(r->tr));
    if (!sig) return OCCAM_OK;
    int rc = occam_error_set(err, OCCAM_STOPPED + sig, "stopped by signal %d after epoch %d",
                             sig, r->res->epochs);
    return stopped(r, rc, err);
}

int occam_train_run(occam_trainer *tr, occam_model *m, const occam_config *cfg,
                    const occam_dataset *train, const occam_dataset *test, occam_fit_result *res,
                    occam_prune_log *log, const occam_train_io *io, occam_error *err)
{
    static const occam_train_io no_io = {0};
    memset(log, 0, sizeof *log);
    log->dense_weights = (int64_t)m->lay.nweights;
    log->best = -1;
    for (int h = 1; h < m->lay.nlayers; h++) log->dense_hidden += m->lay.width[h];
    int rc = occam_fit_begin(res, cfg, train->n, occam_train_total_epochs(cfg), err);
    if (rc != OCCAM_OK) return rc;
    run r = {.tr = tr, .m = m, .cfg = cfg, .train = train, .test = test, .res = res, .log = log,
             .io = io ? io : &no_io};
    r.hooks = (occam_fit_hooks){.progress = r.io->progress, .user = r.io->user,
                                .after_epoch = after_epoch, .ctx = &r};
    const int sched = cfg->prune.schedule;
    const bool mdl = sched == OCCAM_PRUNE_MDL;
    const bool score = occam_train_scores_steps(cfg); /* L after the dense phase and each step */
    best_model best = {.total = INFINITY};
    /* occam_train_check refuses it for train and select; a library caller may not have asked */
    rc = check_mdl_code(cfg, err);
    if (rc == OCCAM_OK && sched != OCCAM_PRUNE_NONE)
        rc = occam_pruner_create(&r.pruner, &cfg->prune, cfg->train.batch, cfg->noise.enabled, m,
                                 err);
    if (rc == OCCAM_OK && sched != OCCAM_PRUNE_NONE && cfg->prune.rewind != OCCAM_REWIND_NONE) {
        if (cfg->prune.granularity == OCCAM_GRAN_NEURON) {
            rc = occam_error_set(err, OCCAM_ERR_INPUT,
                                 "prune.rewind: not supported with prune.granularity = neuron");
        } else {
            r.snapshot = occam_alloc(m->lay.nparams, sizeof(float));
            if (!r.snapshot) rc = occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory");
            else memcpy(r.snapshot, m->params, m->lay.nparams * sizeof(float)); /* init */
            r.snap_lay = m->lay;
        }
    }
    if (rc == OCCAM_OK && mdl) {
        /* zeroed: a checkpoint of the dense phase, before any model was scored, writes this
         * copy as it is (best.total is still infinite), and its reader checks the mask holds
         * only 0 and 1 and the values are finite */
        best.params = occam_alloc_zero(m->lay.nparams, sizeof(float));
        best.mask = occam_alloc_zero(m->lay.nparams, 1);
        if (!best.params || !best.mask)
            rc = occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory for a copy of the model "
                                 "(prune.schedule = mdl keeps the shortest one so far)");
    }
    r.view = (occam_train_view){.cfg = cfg, .m = m, .tr = tr, .res = res, .log = log,
                              .pruner = r.pruner, .snapshot = r.snapshot,
                              .best_params = best.params, .best_mask = best.mask,
                              .best_total = mdl ? &best.total : NULL};
    /* the rows the run trains on, for a resume to compare: a training file replaced under the
     * same name (other rows, columns swapped) resumed saying "it continues bit-identically" */
    if (rc == OCCAM_OK && (r.io->checkpoint || r.io->restore)) {
        snprintf(res->data_crc, sizeof res->data_crc, "%08x", (unsigned)occam_dataset_crc(train));
        /* and for eval, predict, mdl and compress on the state (occam_checkpoint_train_rows),
         * which said nothing of other training rows where the final model said so */
        occam_checkpoint_rows_text(res->train_rows, sizeof res->train_rows, train);
    }
    if (rc == OCCAM_OK && r.io->restore) rc = r.io->restore(r.io->ctx, &r.view, err);
    const int start = res->resuming ? res->pos.phase : 0;
    if (rc == OCCAM_OK && sched == OCCAM_PRUNE_AGP) {
        int64_t spe = occam_fit_steps_per_epoch(cfg, train->n);
        r.agp_t0 = spe * cfg->prune.start;
        r.agp_t1 = spe * cfg->prune.end;
        r.hooks.after_step = agp_step;
        /* the prune log counts its events in an int (and a checkpoint's reader bounds them by
         * this count) */
        int64_t events = occam_train_agp_events(cfg, train->n);
        /* the first prune (agp_step) comes prune.every steps into the ramp, or at its end:
         * after the run's last step (every = 100 in a run of 39) it pruned nothing, exit 0 */
        int64_t first = r.agp_t0 + cfg->prune.every < r.agp_t1 ? r.agp_t0 + cfg->prune.every
                                                                 : r.agp_t1,
                last = spe * cfg->train.epochs;
        if (first > last)
            rc = occam_error_set(err, OCCAM_ERR_INPUT, "prune.every: the agp ramp's first prune "
                                 "would come at optimiser step %lld, after the run's last (%lld: "
                                 "%d epochs of %lld steps), so the run would prune nothing; "
                                 "lower prune.every", (long long)first, (long long)last,
                                 cfg->train.epochs, (long long)spe);
        else if (events > INT_MAX)
            rc = occam_error_set(err, OCCAM_ERR_INPUT, "prune.every: the agp ramp would prune "
                                 "%lld times (every %d of its %lld steps), more than the "
                                 "%d events a run can log; raise prune.every",
                                 (long long)events, cfg->prune.every,
                                 (long long)(r.agp_t1 - r.agp_t0), INT_MAX);
    }
    if (rc == OCCAM_OK && start == 0) {
        res->pos.phase = 0;
        rc = stopped(&r, occam_fit_epochs(tr, cfg, train, test, cfg->train.epochs, res, &r.hooks,
                                          err), err);
        if (rc == OCCAM_OK && score)
            rc = score_model(&r, NULL, mdl ? &best : NULL, -1, err);
    }
    if (sched != OCCAM_PRUNE_NONE && sched != OCCAM_PRUNE_AGP) {
        int steps = sched == OCCAM_PRUNE_ONESHOT ? 1 : cfg->prune.steps;
        for (int k = start > 1 ? start : 1; k <= steps && rc == OCCAM_OK; k++) {
            occam_prune_event *ev;
            if (!(res->resuming && k == start)) {
                rc = check_stop(&r, err);
                if (rc != OCCAM_OK) break;
                /* a new phase, at its start: under prune.finetune_epochs = 0 no epoch of it
                 * resets the place (occam_fit_epochs does), and a stop taken at the next
                 * step's check saved the dense phase's, which the resume refused */
                res->pos = (occam_fit_pos){.phase = k};
                double target = occam_train_iterative_target(cfg->prune.target, k, steps);
                rc = prune_event(&r, target, occam_train_iterative_target(1.0, k, steps), &ev,
                                 err);
            }
            if (rc == OCCAM_OK && cfg->prune.finetune_epochs > 0)
                rc = stopped(&r, occam_fit_epochs(tr, cfg, train, test,
                                                  cfg->prune.finetune_epochs, res, &r.hooks, err),
                             err);
            res->resuming = false;
            if (rc == OCCAM_OK) {
                ev = &log->ev[log->n - 1];
                if (cfg->prune.finetune_epochs > 0) {
                    fill_metrics(&r, ev);
                } else {
                    occam_eval te;
                    occam_trainer_eval(tr, test, &te);
                    ev->test_metric = occam_eval_metric(&te, cfg->data.task);
                }
                if (score)
                    rc = score_model(&r, ev, mdl ? &best : NULL, log->n - 1, err);
            }
        }
    }
    if (rc == OCCAM_OK && mdl && best.total < INFINITY) {
        /* the code length picks the model (if none had one, the last is kept) */
        size_t n = m->lay.nparams;
        memcpy(m->params, best.params, n * sizeof(float));
        int rc2 = occam_model_mask_enable(m, err);
        if (rc2 == OCCAM_OK) {
            memcpy(m->mask, best.mask, n);
            occam_trainer_apply_mask(tr);
            occam_trainer_sync(tr);
        }
        rc = rc2;
    }
    free(best.params);
    free(best.mask);
    free(r.snapshot);
    occam_pruner_free(r.pruner);
    return rc;
}
