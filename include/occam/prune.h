/* occam/prune.h — pruning while training: importance scores, exact selection, masks, the
 * three granularities and the prune log.
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
 * The schedules that decide when to prune (prune.schedule) are the training run's: see
 * occam/train.h. */
#ifndef OCCAM_PRUNE_H
#define OCCAM_PRUNE_H

#include <stdbool.h>
#include <stdint.h>

#include "occam/data.h"
#include "occam/error.h"
#include "occam/model.h"
#include "occam/trainer.h"

typedef enum { OCCAM_PRUNE_NONE, OCCAM_PRUNE_ONESHOT, OCCAM_PRUNE_ITERATIVE, OCCAM_PRUNE_AGP,
               OCCAM_PRUNE_MDL }
    occam_prune_schedule;
typedef enum { OCCAM_IMP_MAGNITUDE, OCCAM_IMP_TAYLOR, OCCAM_IMP_OBD, OCCAM_IMP_RANDOM,
               OCCAM_IMP_SNR }
    occam_prune_method;
typedef enum { OCCAM_GRAN_WEIGHT, OCCAM_GRAN_NEURON, OCCAM_GRAN_NM } occam_granularity;
typedef enum { OCCAM_SCOPE_GLOBAL, OCCAM_SCOPE_LAYER } occam_scope;
typedef enum { OCCAM_REWIND_NONE, OCCAM_REWIND_INIT, OCCAM_REWIND_EPOCH } occam_rewind;

/* The [prune] section. The schedule's keys (schedule, steps, finetune_epochs, start, end,
 * every, rewind, score_events) are read by the training run (run/train.c); the others here. */
typedef struct occam_prune_params {
    occam_prune_schedule schedule; /* prune.schedule = none | oneshot | iterative | agp | mdl */
    occam_prune_method method;     /* prune.method = magnitude | taylor | obd | random | snr */
    occam_granularity granularity; /* prune.granularity = weight | neuron | nm */
    occam_scope scope;             /* prune.scope = global | layer */
    double target;                 /* prune.target: final sparsity in [0, 1) (neuron:
                                      fraction of hidden units removed) */
    double layer_target[OCCAM_MAX_LAYERS]; /* prune.layer_targets: per-layer overrides,
                                      one per weight layer, -1 = use prune.target */
    int nlayer_target;             /* entries in layer_target (0 = no overrides) */
    int64_t min_keep;              /* prune.min_keep: weights (neurons) kept per layer */
    int steps;                     /* prune.steps: iterative prune steps */
    int finetune_epochs;           /* prune.finetune_epochs: after each iterative step */
    int start, end;                /* prune.start, prune.end: agp ramp, in epochs */
    int every;                     /* prune.every: agp, optimiser steps between prunes */
    int nm_n, nm_m;                /* prune.nm = N:M, keep N of every M along the input */
    int batches;                   /* prune.batches: taylor/obd gradient batches */
    bool bias;                     /* prune.bias: prune biases too (weight granularity) */
    bool score_events;             /* prune.score_events: description length per event */
    occam_rewind rewind;           /* prune.rewind = none | init | epoch:N */
    int rewind_epoch;              /* N of epoch:N */
    uint64_t seed;                 /* prune.seed: random method and its tie-free draws */
} occam_prune_params;

typedef struct occam_prune_event {
    int step;                  /* 1-based */
    int epoch;                 /* epochs trained before this prune */
    int64_t opt_step;          /* optimiser steps before this prune */
    double target;             /* cumulative target aimed at: of the weights (with
                                  prune.layer_targets, their weight-weighted mean), of the
                                  hidden units for neuron, 1 - N/M for nm */
    double sparsity;           /* achieved weight sparsity against the dense model */
    int64_t weights_active;    /* weights left */
    int hidden_units;          /* hidden units left */
    double select_seconds;     /* scores + selection + mask update */
    double train_loss;         /* after the fine-tuning that follows (agp: at the event) */
    double test_metric;        /* test accuracy (classify) or relative error (regress) */
    double model_bits, data_bits, total_bits; /* schedule = mdl: L after the fine-tuning */
} occam_prune_event;

enum { OCCAM_PRUNE_NOTE_MAX = 512 };

/* total_bits (or dense_total_bits) of a model that was scored but that no code describes (a
 * parameter beyond any code length); 0 is a model not scored. */
#define OCCAM_PRUNE_UNCODED (-1.0)

typedef struct occam_prune_log {
    occam_prune_event *ev;
    int n, cap;
    int best;                  /* schedule = mdl: index of the kept event, -1 = the dense model */
    double dense_total_bits;   /* schedule = mdl: L of the dense model (OCCAM_PRUNE_UNCODED: none) */
    int64_t dense_weights;     /* weights of the unpruned model */
    int dense_hidden;          /* hidden units of the unpruned model */
    char note[OCCAM_PRUNE_NOTE_MAX]; /* why the last event fell short of its target ("" when it
                                  did not, or when no event of this process took place) */
} occam_prune_log;

void occam_prune_log_free(occam_prune_log *log);

typedef struct occam_pruner occam_pruner;

/* batch: rows per gradient batch (taylor/obd); noisy: the model has noisy weights (their
 * gradient buffer holds dρ too). */
int occam_pruner_create(occam_pruner **out, const occam_prune_params *p, int batch, bool noisy,
                        const occam_model *m, occam_error *err);
void occam_pruner_free(occam_pruner *p);
/* A resumed run: `events` prune events already happened (they seed prune.method = random). */
void occam_pruner_resume(occam_pruner *p, int events);

/* Prunes the model to cumulative `target` as the pruner's params say (scores from the training data
 * for taylor/obd). `progress` in [0, 1] is how far the schedule's ramp is (target is
 * prune.target's ramp at it): prune.layer_targets' entries are scaled by it. Neuron pruning
 * changes m->lay and re-lays out the trainer. Fills ev's target (what the step aimed at),
 * weights_active, hidden_units and select_seconds; occam_pruner_note says whether it fell
 * short. */
int occam_prune_to(occam_pruner *p, occam_model *m, occam_trainer *tr,
                   const occam_dataset *train, double target, double progress,
                   occam_prune_event *ev, occam_error *err);
/* Why the last occam_prune_to fell short of the target it aimed at (prune.min_keep, a layer's
 * last unit, N:M groups narrower than M), with what it reached; "" when it did not. */
const char *occam_pruner_note(const occam_pruner *p);

/* [prune]'s checks that span keys, against the model's widths (layers[0..nlayers)),
 * train.epochs and noise.enabled: the agp ramp runs forwards; prune.layer_targets has one entry
 * per weight layer (or none), each -1 or in [0, 1), and under neuron granularity with layer
 * scope the last (the output layer's) -1 or 0; neuron pruning needs a hidden layer; the rewind
 * epoch is within the run; snr needs noisy weights; and neither noisy weights nor schedule = mdl
 * go with neuron pruning. They hold whatever prune.schedule is (except the agp ramp's), so a
 * config does not turn invalid when pruning is switched on later. Messages name the key. (The
 * schedule's checks against the run's length are occam_train_check's.) */
int occam_prune_check(const occam_prune_params *p, const int *layers, int nlayers, int epochs,
                      bool noise_enabled, occam_error *err);
/* The rest of them: rewinding needs weight or nm granularity. A second call so that a config
 * failing several checks keeps reporting the same first one, the model code's (occam_dl_check)
 * before it. (That schedule = mdl needs a model code that scores a model, two-part or count,
 * is occam_train_check's: occam mdl --code bits-back scores a model trained under that
 * schedule, which it does not run.) */
int occam_prune_check_late(const occam_prune_params *p, occam_error *err);

#endif
