/* occam/config.h — the run configuration: one struct, filled from an INI file through one
 * table of keys (section, key, type, bounds, default, help), and overridable with
 * `--set section.key=value` through the same table and the same checks.
 *
 * Errors: unknown sections or keys, duplicate keys, malformed numbers, out-of-range values and
 * bad enum names are all OCCAM_ERR_INPUT with a message "FILE:LINE: ..." (for --set:
 * "--set section.key: ..."). */
#ifndef OCCAM_CONFIG_H
#define OCCAM_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "occam/error.h"

#define OCCAM_MAX_LAYERS 16
#define OCCAM_PATH_MAX 1024

typedef enum { OCCAM_SOURCE_IDX, OCCAM_SOURCE_CSV, OCCAM_SOURCE_BLOBS, OCCAM_SOURCE_PEPTIDE }
    occam_source;
typedef enum { OCCAM_TASK_CLASSIFY, OCCAM_TASK_REGRESS } occam_task;
typedef enum { OCCAM_NORM_NONE, OCCAM_NORM_SCALE, OCCAM_NORM_STANDARDIZE } occam_norm;
typedef enum { OCCAM_ACT_RELU, OCCAM_ACT_TANH, OCCAM_ACT_SIGMOID } occam_act;
typedef enum { OCCAM_INIT_HE, OCCAM_INIT_XAVIER } occam_init;
typedef enum { OCCAM_OPT_SGD, OCCAM_OPT_ADAM } occam_opt;
typedef enum { OCCAM_SCHED_CONSTANT, OCCAM_SCHED_STEP, OCCAM_SCHED_COSINE } occam_sched;
typedef enum { OCCAM_GRAD_AUTO, OCCAM_GRAD_SHARD, OCCAM_GRAD_OWNER } occam_grad;
typedef enum { OCCAM_BIND_CORE, OCCAM_BIND_NONE } occam_bind;
typedef enum { OCCAM_PLACE_COMPACT, OCCAM_PLACE_SPREAD } occam_placement;
typedef enum { OCCAM_WEIGHTS_LOCAL, OCCAM_WEIGHTS_REPLICATE, OCCAM_WEIGHTS_INTERLEAVE } occam_weights;
typedef enum { OCCAM_PRUNE_NONE, OCCAM_PRUNE_ONESHOT, OCCAM_PRUNE_ITERATIVE, OCCAM_PRUNE_AGP,
               OCCAM_PRUNE_MDL }
    occam_prune_schedule;
typedef enum { OCCAM_IMP_MAGNITUDE, OCCAM_IMP_TAYLOR, OCCAM_IMP_OBD, OCCAM_IMP_RANDOM,
               OCCAM_IMP_SNR }
    occam_prune_method;
typedef enum { OCCAM_GRAN_WEIGHT, OCCAM_GRAN_NEURON, OCCAM_GRAN_NM } occam_granularity;
typedef enum { OCCAM_SCOPE_GLOBAL, OCCAM_SCOPE_LAYER } occam_scope;
typedef enum { OCCAM_REWIND_NONE, OCCAM_REWIND_INIT, OCCAM_REWIND_EPOCH } occam_rewind;
typedef enum { OCCAM_MDL_TWO_PART, OCCAM_MDL_COUNT, OCCAM_MDL_BITS_BACK } occam_model_code;
typedef enum { OCCAM_PRIOR_GAUSSIAN, OCCAM_PRIOR_MOG } occam_prior_kind;
typedef enum { OCCAM_PRIOR_UPDATE_EM, OCCAM_PRIOR_UPDATE_GRADIENT } occam_prior_update;
typedef enum { OCCAM_CSV_HEADER_AUTO, OCCAM_CSV_HEADER_YES, OCCAM_CSV_HEADER_NO } occam_csv_header;

/* data.label: a 1-based column number, or one of these. */
#define OCCAM_LABEL_FIRST 1
#define OCCAM_LABEL_LAST (-1)

typedef struct occam_config {
    struct {
        occam_source source;        /* data.source = idx | csv | blobs | peptide */
        char path[OCCAM_PATH_MAX];  /* data.path: folder holding the four IDX files */
        char train[OCCAM_PATH_MAX]; /* data.train: CSV training file */
        char test[OCCAM_PATH_MAX];  /* data.test: CSV test file */
        int label;                  /* data.label = first | last | N (1-based column) */
        occam_csv_header header;    /* data.header = auto | yes | no */
        occam_task task;            /* data.task = classify | regress */
        occam_norm normalize;       /* data.normalize = none | scale | standardize */
        int64_t samples;            /* data.samples: blobs training rows */
        int64_t test_samples;       /* data.test_samples: blobs test rows */
        int features;               /* data.features: blobs input dimension */
        int classes;                /* data.classes: blobs class count */
        double spread;              /* data.spread: std of the blob centres (unit-variance blobs) */
        uint64_t seed;              /* data.seed: blobs / peptide generator seed */
        double target_noise;        /* data.target_noise: peptide target noise std */
        int64_t holdout;            /* data.holdout: hold out the last K training rows as the
                                       test set (validation split for tuning) */
    } data;
    struct {
        int layers[OCCAM_MAX_LAYERS]; /* model.layers = 784,300,100,10 */
        int nlayers;                  /* number of entries in layers (>= 2) */
        occam_act activation;         /* model.activation = relu | tanh | sigmoid */
        occam_init init;              /* model.init = he | xavier */
    } model;
    struct {
        int epochs;               /* train.epochs */
        int batch;                /* train.batch */
        occam_opt optimizer;      /* train.optimizer = sgd | adam */
        double lr;                /* train.lr */
        double momentum;          /* train.momentum (sgd) */
        bool nesterov;            /* train.nesterov (sgd) */
        double beta1, beta2, eps; /* train.beta1, train.beta2, train.eps (adam) */
        double weight_decay;      /* train.weight_decay: L2, added to the gradient */
        occam_sched schedule;     /* train.schedule = constant | step | cosine */
        int step_epochs;          /* train.step_epochs: step schedule period */
        double gamma;             /* train.gamma: step schedule factor */
        double lr_min;            /* train.lr_min: cosine floor */
        uint64_t seed;            /* train.seed: init and shuffling */
        int checkpoint_every;     /* train.checkpoint_every: epochs between checkpoints, 0 = off */
        int checkpoint_keep;      /* train.checkpoint_keep: the last N are kept */
        char checkpoint_dir[OCCAM_PATH_MAX]; /* train.checkpoint_dir */
    } train;
    struct {
        int threads;       /* runtime.threads: 0 = all cores */
        bool oversubscribe; /* runtime.oversubscribe: allow more threads than cores */
        occam_grad grad;    /* runtime.grad = auto | shard | owner: weight-gradient path */
        occam_bind bind;    /* runtime.bind = core | none */
        occam_placement placement;   /* runtime.placement = compact | spread */
        occam_weights weights;       /* runtime.weights = local | replicate | interleave */
        char topology[OCCAM_PATH_MAX]; /* runtime.topology = "" | synthetic:<desc> | xml:<path> */
    } runtime;
    struct {
        occam_prune_schedule schedule;  /* prune.schedule = none | oneshot | iterative | agp | mdl */
        occam_prune_method method;      /* prune.method = magnitude | taylor | obd | random */
        occam_granularity granularity;  /* prune.granularity = weight | neuron | nm */
        occam_scope scope;              /* prune.scope = global | layer */
        double target;                  /* prune.target: final sparsity in [0, 1) (neuron:
                                           fraction of hidden units removed) */
        double layer_target[OCCAM_MAX_LAYERS]; /* prune.layer_targets: per-layer overrides,
                                           one per weight layer, -1 = use prune.target */
        int nlayer_target;              /* entries in layer_target (0 = no overrides) */
        int64_t min_keep;               /* prune.min_keep: weights (neurons) kept per layer */
        int steps;                      /* prune.steps: iterative prune steps */
        int finetune_epochs;            /* prune.finetune_epochs: after each iterative step */
        int start, end;                 /* prune.start, prune.end: agp ramp, in epochs */
        int every;                      /* prune.every: agp, optimiser steps between prunes */
        int nm_n, nm_m;                 /* prune.nm = N:M, keep N of every M along the input */
        int batches;                    /* prune.batches: taylor/obd gradient batches */
        bool bias;                      /* prune.bias: prune biases too (weight granularity) */
        bool score_events;              /* prune.score_events: description length per event */
        occam_rewind rewind;            /* prune.rewind = none | init | epoch:N */
        int rewind_epoch;               /* N of epoch:N */
        uint64_t seed;                  /* prune.seed: random method and its tie-free draws */
    } prune;
    struct {
        occam_model_code model_code;    /* mdl.model_code = two-part | count | bits-back */
        double bits_per_weight;         /* mdl.bits_per_weight: count code (default 32) */
        double weight_precision;        /* mdl.weight_precision: quantisation step; 0 = chosen
                                           per layer to minimise the total */
        occam_prior_kind prior;         /* mdl.prior = gaussian | mog (two-part values) */
        int components;                 /* mdl.components: mog components (one pinned at 0) */
        double target_precision;        /* mdl.target_precision: regression target step δ */
        int samples;                    /* mdl.samples: Monte-Carlo draws per weight (mog KL) */
        int data_samples;               /* mdl.data_samples: noise samples for the expected NLL */
        int search_rows;                /* mdl.search_rows: training rows used while searching
                                           the quantisation steps (0 = all) */
        uint64_t seed;                  /* mdl.seed */
    } mdl;
    struct {
        bool enabled;                   /* noise.enabled: noisy weights (Hinton & van Camp) */
        occam_prior_kind prior;         /* noise.prior = gaussian | mog */
        int components;                 /* noise.components: mog components (0 pinned at 0) */
        double prior_sigma;             /* noise.prior_sigma: gaussian; 0 = learned per layer */
        double init_sigma;              /* noise.init_sigma: initial σ of every weight */
        int warmup_epochs;              /* noise.warmup_epochs: β from 0 to 1 over these */
        double kl_scale;                /* noise.kl_scale: multiplies β (1 = the paper's cost) */
        double zero_weight;             /* noise.zero_weight: mog, fixed π of the zero component */
        occam_prior_update prior_update; /* noise.prior_update = em | gradient */
        int prior_steps;                /* noise.prior_steps: gradient steps per epoch */
        uint64_t seed;                  /* noise.seed: the noise samples */
    } noise;
} occam_config;

/* Fills cfg with every key's default. */
void occam_config_defaults(occam_config *cfg);

/* Parses an INI file on top of the current values of cfg (call occam_config_defaults first).
 * Unknown sections/keys, duplicates, malformed or out-of-range values and lines longer than the
 * parser's limit fail with "PATH:LINE: ...". */
int occam_config_load(occam_config *cfg, const char *path, occam_error *err);

/* Applies one "section.key=value" override through the same table and checks. */
int occam_config_set(occam_config *cfg, const char *assignment, occam_error *err);

/* Cross-key checks after all sources are applied (e.g. csv needs data.train, blobs classes must
 * match the output layer). Messages name the key. */
int occam_config_validate(const occam_config *cfg, occam_error *err);

/* Writes the effective config as INI text (every key, in table order). */
void occam_config_write_ini(const occam_config *cfg, FILE *out);

/* Writes the effective config as one JSON object {"data": {...}, "model": {...}, ...}. */
void occam_config_write_json(const occam_config *cfg, FILE *out);

/* Room enough for occam_config_to_json of any config. */
#define OCCAM_CONFIG_JSON_MAX (64 * 1024)

/* Writes the effective config as a JSON object into buf (for safetensors metadata, whose values
 * must be strings: the caller escapes). Returns the length written, or -1 if it did not fit. */
int occam_config_to_json(const occam_config *cfg, char *buf, size_t cap);

/* The help table: one line per key with type, bounds, default and help text. */
void occam_config_write_help(FILE *out);

#endif
