/* occam/report.h — the JSON run report.
 *
 * Fields (stable names, external scripts read them): command, version, config (the effective
 * config), threads, blis_arch, params_total, weights_total, weights_active, sparsity,
 * train.{loss,accuracy}, test.{loss, accuracy | relative_error, mse}, timing.{train_seconds,
 * samples_per_second}, history[] (one object per epoch), layers[] (per-layer widths, weights,
 * active weights and sparsity), prune.events[] when pruning, mdl.{model_code, model_bits,
 * data_bits, total_bits, layers[]}, weight_histogram[] (per layer, active weights: edges and
 * counts), noise.layers[] (noisy weights: the fitted prior and the fraction of weights whose
 * most responsible component is the zero one). */
#ifndef OCCAM_REPORT_H
#define OCCAM_REPORT_H

#include "occam/config.h"
#include "occam/dl.h"
#include "occam/error.h"
#include "occam/fit.h"
#include "occam/json.h"
#include "occam/model.h"
#include "occam/prune.h"
#include "occam/trainer.h"

typedef struct occam_report {
    const char *command;          /* "train" or "eval" */
    const occam_config *cfg;
    const occam_model *model;
    int threads;
    const char *blis_arch;
    const occam_eval *train;      /* may be NULL */
    const occam_eval *test;       /* may be NULL or have n = 0 */
    const occam_fit_result *fit;  /* may be NULL (eval) */
    const occam_prune_log *prune; /* may be NULL */
    const occam_dl *mdl;          /* description length, may be NULL */
    const occam_trainer *trainer;        /* for the noisy weights' priors, may be NULL */
    const char *resumed_from;     /* train --resume: the state it continued, else NULL */
    const char *resume_changes;   /* how the resumed run differs from the saved one ("" none) */
} occam_report;

/* Writes the report to path (occam/outfile.h: atomically, or in place for a device or FIFO).
 * OCCAM_ERR_RUNTIME with "PATH: ..." if it cannot be written. */
int occam_report_write(const char *path, const occam_report *r, occam_error *err);

/* The writer behind it, for other reports (`occam select`'s): serialises cfg, opens path as
 * above, calls body with the stream and the config's JSON text (for a "config" member), and
 * commits the file. The same errors as occam_report_write. */
int occam_report_write_json(const char *path, const occam_config *cfg,
                            void (*body)(occam_json *j, const char *config_json, const void *ctx),
                            const void *ctx, occam_error *err);

#endif
