/* The JSON run report (see include/occam/report.h for the field list). */
#include "occam/report.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "occam/comm.h"
#include "occam/dl.h"
#include "occam/json.h"
#include "occam/noisy.h"
#include "occam/outfile.h"
#include "occam/prune.h"
#include "occam/version.h"


static void write_eval(occam_json *j, const char *key, const occam_eval *ev, occam_task task)
{
    occam_json_key(j, key);
    if (!ev || ev->n == 0) {
        occam_json_null(j);
        return;
    }
    occam_json_begin_object(j);
    occam_json_key(j, "samples");
    occam_json_uint(j, ev->n);
    occam_json_key(j, "loss");
    occam_json_number(j, ev->loss);
    if (task == OCCAM_TASK_CLASSIFY) {
        occam_json_key(j, "accuracy");
        occam_json_number(j, ev->accuracy);
    } else {
        occam_json_key(j, "mse");
        occam_json_number(j, ev->mse);
        occam_json_key(j, "relative_error");
        occam_json_number(j, ev->relative_error);
    }
    occam_json_end_object(j);
}

static void write_history(occam_json *j, const occam_fit_result *fit, occam_task task)
{
    occam_json_key(j, "history");
    occam_json_begin_array(j);
    for (int e = 0; fit && e < fit->epochs; e++) {
        const occam_epoch_stats *st = &fit->history[e];
        occam_json_begin_object(j);
        occam_json_key(j, "epoch");
        occam_json_int(j, st->epoch);
        occam_json_key(j, "lr");
        occam_json_number(j, st->lr);
        occam_json_key(j, "train_loss");
        occam_json_number(j, st->train_loss);
        if (task == OCCAM_TASK_CLASSIFY) {
            occam_json_key(j, "train_accuracy");
            occam_json_number(j, st->train_accuracy);
        }
        if (st->test.n) {
            occam_json_key(j, "test_loss");
            occam_json_number(j, st->test.loss);
            occam_json_key(j, task == OCCAM_TASK_CLASSIFY ? "test_accuracy" : "test_relative_error");
            occam_json_number(j, task == OCCAM_TASK_CLASSIFY ? st->test.accuracy
                                                             : st->test.relative_error);
        }
        occam_json_key(j, "seconds");
        occam_json_number(j, st->seconds);
        occam_json_key(j, "samples_per_second");
        occam_json_number(j, st->samples_per_second);
        occam_json_end_object(j);
    }
    occam_json_end_array(j);
}

static void write_layers(occam_json *j, const occam_model *m)
{
    occam_json_key(j, "layers");
    occam_json_begin_array(j);
    for (int l = 0; l < m->lay.nlayers; l++) {
        size_t n = (size_t)m->lay.width[l] * m->lay.width[l + 1];
        size_t a = occam_model_active_weights(m, l);
        occam_json_begin_object(j);
        occam_json_key(j, "layer");
        occam_json_int(j, l);
        occam_json_key(j, "in");
        occam_json_int(j, m->lay.width[l]);
        occam_json_key(j, "out");
        occam_json_int(j, m->lay.width[l + 1]);
        occam_json_key(j, "weights");
        occam_json_uint(j, n);
        occam_json_key(j, "active");
        occam_json_uint(j, a);
        occam_json_key(j, "sparsity");
        occam_json_number(j, 1.0 - (double)a / (double)n);
        occam_json_end_object(j);
    }
    occam_json_end_array(j);
}

static void write_prune(occam_json *j, const occam_prune_log *log, occam_task task, bool mdl)
{
    occam_json_key(j, "prune");
    if (!log || log->n == 0) {
        occam_json_null(j);
        return;
    }
    occam_json_begin_object(j);
    occam_json_key(j, "dense_weights");
    occam_json_int(j, log->dense_weights);
    occam_json_key(j, "dense_hidden_units");
    occam_json_int(j, log->dense_hidden);
    if (log->dense_total_bits > 0) {
        occam_json_key(j, "dense_total_bits");
        occam_json_number(j, log->dense_total_bits);
    }
    if (mdl) {
        occam_json_key(j, "best_event");
        if (log->best < 0 && !(log->dense_total_bits > 0))
            occam_json_null(j); /* no model had a code: none was chosen, the last was kept */
        else
            occam_json_int(j, log->best + 1); /* 0 = the dense model */
    }
    occam_json_key(j, "events");
    occam_json_begin_array(j);
    for (int i = 0; i < log->n; i++) {
        const occam_prune_event *ev = &log->ev[i];
        occam_json_begin_object(j);
        occam_json_key(j, "step");
        occam_json_int(j, ev->step);
        occam_json_key(j, "epoch");
        occam_json_int(j, ev->epoch);
        occam_json_key(j, "target");
        occam_json_number(j, ev->target);
        occam_json_key(j, "sparsity");
        occam_json_number(j, ev->sparsity);
        occam_json_key(j, "weights_active");
        occam_json_int(j, ev->weights_active);
        occam_json_key(j, "hidden_units");
        occam_json_int(j, ev->hidden_units);
        occam_json_key(j, "train_loss");
        occam_json_number(j, ev->train_loss);
        occam_json_key(j, task == OCCAM_TASK_CLASSIFY ? "test_accuracy" : "test_relative_error");
        occam_json_number(j, ev->test_metric);
        occam_json_key(j, "select_seconds");
        occam_json_number(j, ev->select_seconds);
        if (ev->total_bits > 0) {
            occam_json_key(j, "model_bits");
            occam_json_number(j, ev->model_bits);
            occam_json_key(j, "data_bits");
            occam_json_number(j, ev->data_bits);
            occam_json_key(j, "total_bits");
            occam_json_number(j, ev->total_bits);
        }
        occam_json_end_object(j);
    }
    occam_json_end_array(j);
    occam_json_end_object(j);
}

#define HIST_BINS 101

/* Per layer, a histogram of the active weights (μ for noisy weights) over [−max|w|, max|w|]. */
static void write_histogram(occam_json *j, const occam_model *m)
{
    occam_json_key(j, "weight_histogram");
    occam_json_begin_array(j);
    for (int l = 0; l < m->lay.nlayers; l++) {
        size_t n = (size_t)m->lay.width[l] * m->lay.width[l + 1];
        const float *w = m->params + m->lay.w_off[l];
        const uint8_t *mk = m->mask ? m->mask + m->lay.w_off[l] : NULL;
        double mx = 0.0;
        for (size_t i = 0; i < n; i++)
            if (!mk || mk[i]) mx = fmax(mx, fabs(w[i]));
        if (mx == 0.0) mx = 1.0;
        uint64_t counts[HIST_BINS] = {0};
        for (size_t i = 0; i < n; i++) {
            if (mk && !mk[i]) continue;
            int b = (int)((w[i] + mx) / (2.0 * mx) * HIST_BINS);
            counts[b < 0 ? 0 : b >= HIST_BINS ? HIST_BINS - 1 : b]++;
        }
        occam_json_begin_object(j);
        occam_json_key(j, "layer");
        occam_json_int(j, l);
        occam_json_key(j, "edges");
        occam_json_begin_array(j);
        for (int b = 0; b <= HIST_BINS; b++) occam_json_number(j, -mx + 2.0 * mx * b / HIST_BINS);
        occam_json_end_array(j);
        occam_json_key(j, "counts");
        occam_json_begin_array(j);
        for (int b = 0; b < HIST_BINS; b++) occam_json_uint(j, counts[b]);
        occam_json_end_array(j);
        occam_json_end_object(j);
    }
    occam_json_end_array(j);
}

/* The noisy weights' fitted priors, and how many weights the zero component claims. */
static void write_noise(occam_json *j, const occam_report *r)
{
    occam_json_key(j, "noise");
    const occam_model *m = r->model;
    if (!r->trainer || !m->rho || !occam_trainer_prior(r->trainer, 0)) {
        occam_json_null(j);
        return;
    }
    occam_json_begin_object(j);
    occam_json_key(j, "layers");
    occam_json_begin_array(j);
    uint64_t zero_all = 0, active_all = 0;
    for (int l = 0; l < m->lay.nlayers; l++) {
        const occam_prior *p = occam_trainer_prior(r->trainer, l);
        size_t n = (size_t)m->lay.width[l] * m->lay.width[l + 1];
        const float *w = m->params + m->lay.w_off[l];
        const uint8_t *mk = m->mask ? m->mask + m->lay.w_off[l] : NULL;
        uint64_t zero = 0, active = 0;
        double snr_sum = 0.0;
        for (size_t i = 0; i < n; i++) {
            if (mk && !mk[i]) continue;
            active++;
            double resp[OCCAM_PRIOR_MAX];
            zero += occam_noise_responsibilities(p, w[i], resp) == 0 && p->k > 1;
            snr_sum += fabs(w[i]) / occam_noise_sigma(m->rho[m->lay.w_off[l] + i]);
        }
        zero_all += zero;
        active_all += active;
        occam_json_begin_object(j);
        occam_json_key(j, "layer");
        occam_json_int(j, l);
        occam_dl_write_prior(j, p);
        occam_json_key(j, "zero_component_fraction");
        occam_json_number(j, active ? (double)zero / (double)active : 0.0);
        occam_json_key(j, "mean_snr");
        occam_json_number(j, active ? snr_sum / (double)active : 0.0);
        occam_json_end_object(j);
    }
    occam_json_end_array(j);
    occam_json_key(j, "zero_component_fraction");
    occam_json_number(j, active_all ? (double)zero_all / (double)active_all : 0.0);
    /* regression: the learned noise level σ_y of the data code, in standardised target units */
    double level = occam_trainer_noise_level(r->trainer);
    if (level > 0.0) {
        occam_json_key(j, "level");
        occam_json_number(j, level);
    }
    occam_json_end_object(j);
}

static void write_body(occam_json *j, const occam_report *r, const char *config_json)
{
    const occam_layout *lay = &r->model->lay;
    occam_task task = r->cfg->data.task;
    occam_json_begin_object(j);
    occam_json_key(j, "command");
    occam_json_string(j, r->command);
    occam_json_key(j, "version");
    occam_json_string(j, OCCAM_VERSION);
    occam_json_key(j, "threads");
    occam_json_int(j, r->threads);
    occam_json_key(j, "ranks"); /* the world size: mpirun's ranks, 1 without it */
    occam_json_int(j, r->trainer ? occam_trainer_ranks(r->trainer) : occam_comm_world()->size);
    occam_json_key(j, "blis_arch");
    occam_json_string(j, r->blis_arch ? r->blis_arch : "unknown");
    if (r->fit && r->fit->run_id[0]) { /* the checkpoints' occam.run */
        occam_json_key(j, "run_id");
        occam_json_string(j, r->fit->run_id);
    }
    if (r->resumed_from) { /* the config below is the resumed run's, not the first's */
        occam_json_key(j, "resumed_from");
        occam_json_string(j, r->resumed_from);
        occam_json_key(j, "resume_changes");
        occam_json_string(j, r->resume_changes ? r->resume_changes : "");
    }
    occam_json_key(j, "params_total");
    occam_json_uint(j, lay->nweights + lay->nbiases);
    /* Totals count the dense model, so sparsity includes removed neurons: the prune log's
     * count in train, else the config's layers (eval of a neuron-pruned file, whose layers are
     * narrower, counted them alone: weights_total 36 and sparsity 0 where train's report of
     * the same model said 72 and 0.5). params_total counts the model as it is. */
    size_t active = 0, total = r->prune && r->prune->dense_weights
                                   ? (size_t)r->prune->dense_weights : lay->nweights;
    if (!(r->prune && r->prune->dense_weights) && r->cfg->model.nlayers == lay->nlayers + 1) {
        occam_layout dense;
        occam_layout_init(&dense, r->cfg->model.layers, r->cfg->model.nlayers);
        if (dense.nweights > total) total = dense.nweights;
    }
    for (int l = 0; l < lay->nlayers; l++) active += occam_model_active_weights(r->model, l);
    occam_json_key(j, "weights_total");
    occam_json_uint(j, total);
    occam_json_key(j, "weights_active");
    occam_json_uint(j, active);
    occam_json_key(j, "sparsity");
    occam_json_number(j, 1.0 - (double)active / (double)total);
    write_layers(j, r->model);
    write_eval(j, "train", r->train, task);
    write_eval(j, "test", r->test, task);
    if (r->fit) {
        occam_json_key(j, "timing");
        occam_json_begin_object(j);
        occam_json_key(j, "train_seconds");
        occam_json_number(j, r->fit->train_seconds);
        occam_json_key(j, "samples_per_second");
        occam_json_number(j, r->fit->samples_per_second);
        occam_json_key(j, "steps");
        occam_json_int(j, r->fit->steps);
        occam_json_end_object(j);
        write_history(j, r->fit, task);
    }
    write_prune(j, r->prune, task, r->cfg->prune.schedule == OCCAM_PRUNE_MDL);
    write_histogram(j, r->model);
    write_noise(j, r);
    occam_json_key(j, "mdl");
    if (r->mdl) occam_dl_write_json(r->mdl, j);
    else occam_json_null(j);
    occam_json_key(j, "config");
    occam_json_raw(j, config_json);
    occam_json_end_object(j);
}

int occam_report_write_json(const char *path, const occam_config *cfg,
                            void (*body)(occam_json *j, const char *config_json, const void *ctx),
                            const void *ctx, occam_error *err)
{
    char *config_json = malloc(OCCAM_CONFIG_JSON_MAX);
    if (!config_json || occam_config_to_json(cfg, config_json, OCCAM_CONFIG_JSON_MAX) < 0) {
        free(config_json);
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: cannot serialise the config", path);
    }
    occam_outfile o;
    int rc = occam_outfile_open(&o, path, err);
    if (rc == OCCAM_OK) {
        occam_json j;
        occam_json_init(&j, o.f, true);
        body(&j, config_json, ctx);
        /* The first failure's errno is the reason commit reports (EFBIG, ENOSPC). */
        if ((occam_json_finish(&j) != 0 || fputc('\n', o.f) == EOF) && !o.error)
            o.error = errno ? errno : EIO;
        rc = occam_outfile_commit(&o, err);
    }
    free(config_json);
    return rc;
}

static void write_run(occam_json *j, const char *config_json, const void *ctx)
{
    write_body(j, ctx, config_json);
}

int occam_report_write(const char *path, const occam_report *r, occam_error *err)
{
    return occam_report_write_json(path, r->cfg, write_run, r, err);
}
