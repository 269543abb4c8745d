/* `occam mdl`: the description length of a saved model, per layer, in bits. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "occam/checkpoint.h"
#include "occam/comm.h"
#include "occam/dl.h"
#include "occam/json.h"
#include "occam/mem.h"
#include "occam/occfile.h"
#include "occam/outfile.h"

static const char usage[] =
    "usage: occam mdl CONFIG --checkpoint FILE [--code two-part|count|bits-back] [--set ...]...\n"
    "                        [--threads N] [--json]\n"
    "\n"
    "Prints the description length L = L(model) + L(data | model) of the saved model in bits:\n"
    "per layer n, k, the quantisation step, the fitted prior, mask bits and value bits, then\n"
    "the totals; and the test accuracy of the model as coded (quantised weights). --json prints\n"
    "one JSON object: mdl (model_code, model_bits, data_bits, total_bits and a layers array),\n"
    "test_accuracy as coded (test_relative_error for regression), unquantized_test_metric,\n"
    "the same metric with the unquantised weights, and trained_test_metric, the model's as\n"
    "trained (they differ when the code masks a noisy model's low-SNR weights).\n";

/* Noisy models coded by their posterior (mdl.precision auto or posterior): occam_dl_compute
 * measured the code with the weights of log α above noise.log_alpha masked and without, and
 * kept the shorter. When it masked them, the model here is masked the same way, so the file
 * compress writes and the unquantised metric are of the model the code describes; *trained
 * is first ds evaluated as trained, before the mask (left as it is when nothing is masked).
 * Every rank calls this after agreeing on the code (the evaluation is a collective, and
 * low_snr_masked the same on every rank). */
static int mask_low_snr(cli_session *ss, const occam_config *cfg, const occam_dl *dl,
                        const occam_dataset *ds, occam_eval *trained, occam_error *err)
{
    if (!dl->low_snr) return OCCAM_OK;
    if (dl->low_snr_masked) {
        occam_trainer_eval(ss->tr, ds, trained);
        long n = occam_noise_mask_low_snr(&ss->model, cfg->noise.log_alpha, err);
        if (n < 0) return err->status;
        occam_trainer_sync(ss->tr);
    }
    if (occam_comm_is_root(occam_comm_world()))
        fprintf(stderr, "%s the %zu weight%s with log α > %g (signal-to-noise below %.3g): the "
                "code %s (%.0f bits against %.0f)\n", dl->low_snr_masked ? "masked" : "kept",
                dl->low_snr, dl->low_snr == 1 ? "" : "s", cfg->noise.log_alpha,
                exp(-cfg->noise.log_alpha / 2),
                dl->low_snr_masked ? "is shorter masked" : "was longer masked",
                dl->low_snr_masked ? dl->total_bits : dl->low_snr_other_bits,
                dl->low_snr_masked ? dl->low_snr_other_bits : dl->total_bits);
    return OCCAM_OK;
}

/* "; NUM as trained, before the N weights of log α > T were masked" when the code masked
 * them (the unquantised weights are then not the trained ones), else "". */
static const char *as_trained(char *buf, size_t cap, const occam_dl *dl, double log_alpha,
                              const char *num)
{
    buf[0] = '\0';
    if (dl->low_snr_masked)
        snprintf(buf, cap, "; %s as trained, before the %zu weight%s of log α > %g were "
                 "masked", num, dl->low_snr, dl->low_snr == 1 ? "" : "s", log_alpha);
    return buf;
}

/* A file without σ (a deterministic model, or an .occ file) loaded with noise.enabled has
 * σ = noise.init_sigma, set by the trainer: a code by those widths (bits-back, or steps at the
 * posterior precision) would describe a posterior that was never trained. */
static int need_file_sigma(const cli_session *ss, const occam_config *cfg, const char *file,
                           occam_error *err)
{
    bool bits_back = cfg->mdl.model_code == OCCAM_MDL_BITS_BACK;
    if (ss->file_sigma || !(bits_back || (cfg->mdl.model_code == OCCAM_MDL_TWO_PART &&
                                          occam_dl_posterior_precision(&cfg->mdl, &ss->model))))
        return OCCAM_OK;
    return occam_error_set(err, OCCAM_ERR_INPUT, "%s holds no posterior widths σ (the "
                           "file of a model trained without noise.enabled, or an .occ file, has "
                           "none), so %s has none to code it by (%s)", file,
                           bits_back ? "the bits-back code" : "mdl.precision = auto",
                           bits_back ? "use --code two-part with noise.enabled = false"
                                     : "set noise.enabled = false, or mdl.precision = search");
}

/* A bits-back length under another noise.prior than the model was trained under is a valid
 * code, but not the one its training minimised (a Gaussian-trained blobs net: 1,665 bits under
 * the sparse prior against 1,291): said, not refused. */
static void note_other_prior(const char *checkpoint, const occam_config *cfg)
{
    char was[32];
    if (occam_comm_is_root(occam_comm_world()) &&
        occam_checkpoint_other_prior(checkpoint, cfg, was, sizeof was))
        fprintf(stderr, "occam: note: %s was trained under noise.prior = %s; its bits-back "
                "length here is under this config's prior, a valid code but not the one its "
                "training minimised (set noise.prior = %s)\n", cli_shown(checkpoint), was, was);
}

/* Bits-back parts summed over layers: 0 KL (+ prior overhead), 1 mask, 2 biases. */
static double bb_sum(const occam_dl *d, int part)
{
    double s = 0.0;
    for (int l = 0; l < d->nlayers; l++)
        s += part == 0 ? d->layer[l].value_bits + d->layer[l].overhead_bits
             : part == 1 ? d->layer[l].mask_bits
                         : d->layer[l].bias_bits;
    return s;
}

static void swap_params(float *a, float *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float t = a[i];
        a[i] = b[i];
        b[i] = t;
    }
}

/* ds evaluated with the model's weights (*dense) and with the coded weights q (*coded; NULL: the
 * model's own, as a bits-back code sends them). The weights trade places with q and back, the
 * NUMA replicas synced each time (runtime.weights = replicate), so nothing is allocated: every
 * rank calls this (the evaluations are collectives), and nothing in it may fail on one alone. */
static void eval_as_coded(cli_session *ss, float *q, const occam_dataset *ds, occam_eval *dense,
                          occam_eval *coded)
{
    size_t n = ss->model.lay.nparams;
    occam_trainer_eval(ss->tr, ds, dense);
    if (!q) {
        *coded = *dense;
        return;
    }
    swap_params(ss->model.params, q, n);
    occam_trainer_sync(ss->tr);
    occam_trainer_eval(ss->tr, ds, coded);
    swap_params(ss->model.params, q, n);
    occam_trainer_sync(ss->tr);
}

static int run(const cli_opts *o, occam_error *err)
{
    occam_config cfg;
    int threads;
    int rc = cli_setup(o, &cfg, &threads, err);
    if (rc) return rc;
    if (!o->checkpoint) return occam_error_set(err, OCCAM_ERR_INPUT, "mdl: missing --checkpoint FILE");
    cli_note_inert(&cfg, "mdl.");
    cli_session ss;
    rc = cli_session_open(&ss, &cfg, threads, o->checkpoint, err);
    if (rc) return rc;
    threads = ss.threads; /* automatic: at most one per core of the topology */
    if (cfg.mdl.model_code != OCCAM_MDL_COUNT) cli_note_other_grid(o->checkpoint, &ss);
    if (cfg.mdl.model_code == OCCAM_MDL_BITS_BACK) note_other_prior(o->checkpoint, &cfg);
    rc = need_file_sigma(&ss, &cfg, o->checkpoint, err);
    occam_dl dl;
    float *q = occam_alloc(ss.model.lay.nparams, sizeof(float));
    if (!q) rc = occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory");
    /* a rank without its copy skipped the description length, whose sums the others then
     * waited in for ever: the ranks go on together */
    rc = cli_agree(rc, err);
    /* a refusal of a key's value (mdl.precision = posterior of a model without σ) says where
     * the value came from, as the config's own checks do */
    if (rc == OCCAM_OK &&
        (rc = occam_dl_compute(&dl, &ss.model, &cfg.mdl, &cfg.noise, &ss.train, threads, q,
                               err)) != OCCAM_OK)
        occam_config_locate(err, o->config, o->sets, o->nsets);
    /* the ranks go on together into the evaluations, which are collectives, or stop together */
    rc = cli_agree(rc, err);
    occam_eval ev_trained = {0};
    if (rc == OCCAM_OK) rc = cli_agree(mask_low_snr(&ss, &cfg, &dl, &ss.test, &ev_trained, err),
                                       err);
    if (rc == OCCAM_OK) {
        /* The test accuracy of the model as coded: evaluate with the quantised weights. */
        occam_eval ev_dense, ev_coded;
        eval_as_coded(&ss, cfg.mdl.model_code == OCCAM_MDL_TWO_PART ? q : NULL, &ss.test,
                      &ev_dense, &ev_coded);
        if (!dl.low_snr_masked) ev_trained = ev_dense; /* the same weights */
        double acc_d = occam_eval_metric(&ev_dense, cfg.data.task);
        double acc_c = occam_eval_metric(&ev_coded, cfg.data.task);
        double acc_t = occam_eval_metric(&ev_trained, cfg.data.task);
        /* relative error over targets that do not vary is undefined: it printed 'nan' */
        bool by_mse = ev_coded.n && isnan(acc_c) && !isnan(ev_coded.mse) &&
                      cfg.data.task != OCCAM_TASK_CLASSIFY;
        char trained[200], num[40], mc[24], md[24];
        if (by_mse) snprintf(num, sizeof num, "%.6g", ev_trained.mse);
        else cli_metric(num, sizeof num, acc_t);
        as_trained(trained, sizeof trained, &dl, cfg.noise.log_alpha, num);
        const char *metric = cfg.data.task == OCCAM_TASK_CLASSIFY ? "test_accuracy" : "test_relative_error";
        if (o->json) {
            occam_json j;
            errno = 0; /* from here on only stdout's writes set it: a failed one's reason */
            occam_json_init(&j, stdout, false);
            occam_json_begin_object(&j);
            occam_json_key(&j, "mdl");
            occam_dl_write_json(&dl, &j);
            occam_json_key(&j, metric);
            occam_json_number(&j, acc_c);
            occam_json_key(&j, "unquantized_test_metric");
            occam_json_number(&j, acc_d);
            occam_json_key(&j, "trained_test_metric");
            occam_json_number(&j, acc_t);
            occam_json_end_object(&j);
            occam_json_finish(&j);
            putchar('\n');
            rc = cli_stdout_check("mdl", err);
        } else {
            occam_dl_write_table(&dl, stdout);
            if (by_mse)
                printf("%s: undefined (the test targets do not vary); test mse %.6g as coded "
                       "(%.6g with the unquantised weights%s)\n", metric, ev_coded.mse,
                       ev_dense.mse, trained);
            else if (ev_coded.n)
                printf("%s %s as coded (%s with the unquantised weights%s)\n", metric,
                       cli_metric(mc, sizeof mc, acc_c), cli_metric(md, sizeof md, acc_d),
                       trained);
            else
                printf("%s: none (no test set)\n", metric);
            /* bits-back's time is its σ-scale search, the Monte Carlo KL with the data codes:
             * it was labelled the data code's (mdl.samples 10 against 100: 2.6 s against 8.9) */
            printf("description length computed in %.3f s on %d thread%s (%s over %zu rows: "
                   "%.3f s)\n", dl.total_seconds, threads, threads == 1 ? "" : "s",
                   cfg.mdl.model_code == OCCAM_MDL_BITS_BACK
                       ? "the bits-back code, Monte Carlo KL and σ-scale search included,"
                       : "the data code",
                   dl.rows, dl.seconds);
        }
    }
    free(q);
    cli_session_close(&ss);
    return rc;
}

int cmd_mdl(int argc, char **argv)
{
    return cli_command(argc, argv, CLI_SET | CLI_THREADS | CLI_CHECKPOINT | CLI_JSON | CLI_CODE, usage, run);
}

/* The training loss of the model as the file holds it (weights q) beside the unquantised one's,
 * and a note when coding lost much of the fit: steps at the posterior precision can be too
 * coarse for a dense posterior, whose many small weights carry the signal together (LeNet
 * under the Gaussian prior: training loss 0.29 unquantised, 1.0 as coded). *trained is the
 * model as trained: after the low-SNR mask (dl->low_snr_masked), not the unquantised weights,
 * and the rise is measured from it (a 100-row regression: 116.5 as trained, 155.1 masked and
 * unquantised, 155.3 as coded, and no note, as 155.3 is not 1.25 × 155.1). Every rank calls
 * it (see eval_as_coded). */
static void coded_loss(cli_session *ss, float *q, const occam_dl *dl, const occam_eval *trained)
{
    occam_eval dense, coded;
    eval_as_coded(ss, q, &ss->train, &dense, &coded);
    char masked[200], num[40], mc[24], md[24];
    cli_metric(num, sizeof num, trained->loss);
    printf("training loss %s as coded (%s with the unquantised weights%s)\n",
           cli_metric(mc, sizeof mc, coded.loss), cli_metric(md, sizeof md, dense.loss),
           as_trained(masked, sizeof masked, dl, ss->cfg.noise.log_alpha, num));
    double base = dl->low_snr_masked ? trained->loss : dense.loss;
    if (!(coded.loss > 1.25 * base) || !occam_comm_is_root(occam_comm_world())) return;
    /* A classifier coded down to its classes' frequencies keeps nothing of the net: say so
     * (a 100-row digits set under the noisy default decoded at 0.10 with "steps too coarse") */
    char chance[256] = "";
    const occam_dataset *t = &ss->train;
    if (t->label && t->classes > 1 && t->n) {
        size_t *count = calloc((size_t)t->classes, sizeof *count);
        double h = 0.0;
        int present = 0;
        for (size_t i = 0; count && i < t->n; i++) count[t->label[i]]++;
        for (int c = 0; count && c < t->classes; c++) {
            double p = (double)count[c] / (double)t->n;
            present += count[c] > 0;
            if (count[c]) h -= p * log(p);
        }
        free(count);
        if (present > 1 && coded.loss >= 0.95 * h) /* one class: no frequencies to fall to */
            snprintf(chance, sizeof chance, "; the file's net predicts no better than the "
                     "%zu training rows' class frequencies (loss %.4f)", t->n, h);
    }
    char how[200];
    if (occam_dl_posterior_precision(&ss->cfg.mdl, &ss->model))
        snprintf(how, sizeof how, "steps at the posterior precision cut a dense posterior's "
                 "many small weights; mdl.precision = search chooses them by the data's bits, "
                 "and mdl.weight_precision sets one finer step");
    else if (ss->cfg.mdl.weight_precision > 0)
        snprintf(how, sizeof how, "mdl.weight_precision = %g set the step; a finer one keeps "
                 "more of the fit at more bits", ss->cfg.mdl.weight_precision);
    else
        snprintf(how, sizeof how, "the search took the steps whose model and data bits sum "
                 "least; mdl.weight_precision sets one finer step, which keeps more of the fit "
                 "at more bits");
    if (dl->low_snr_masked) /* the rise in its two parts: the mask's and the steps' */
        fprintf(stderr, "occam: note: coding raised the training loss %.1fx from the model as "
                "trained: masking the %zu weight%s of log α > %g raised it %.2fx, and "
                "quantising the rest %.2fx%s (noise.log_alpha sets the threshold, and a "
                "higher one masks fewer; %s)\n", coded.loss / base, dl->low_snr, dl->low_snr == 1 ? "" : "s",
                ss->cfg.noise.log_alpha, dense.loss / trained->loss, coded.loss / dense.loss,
                chance, how);
    else
        fprintf(stderr, "occam: note: coding raised the training loss %.1fx: the steps are too "
                "coarse for this model%s (%s)\n", coded.loss / base, chance, how);
}

static const char compress_usage[] =
    "usage: occam compress CONFIG --checkpoint FILE --out MODEL.occ [--set ...]... [--threads N]\n"
    "\n"
    "Writes the model's two-part code (masks, quantised weights under per-layer priors, the\n"
    "priors and biases) with a range coder. 'occam eval CONFIG --checkpoint MODEL.occ' loads it\n"
    "and predicts exactly as the quantised model. Prints the file size beside the two-part model\n"
    "bits it should match. The file is always the two-part code: mdl.model_code = count or\n"
    "bits-back is ignored, with a note (occam mdl computes those).\n";

/* The key an inert-key reason starts with. */
static void reason_key(char *key, size_t size, const char *why)
{
    snprintf(key, size, "%.*s", (int)strcspn(why, " "), why);
}

/* Whether the key an inert-key reason names applies to cfg under the description code `code`. */
static bool applies_under(const occam_config *cfg, const char *why, occam_model_code code)
{
    char key[64];
    reason_key(key, sizeof key, why);
    occam_config c = *cfg;
    c.mdl.model_code = code;
    return occam_config_key_applies(&c, key);
}

/* A noisy model's bits-back keys (mdl.samples under a mixture prior, mdl.data_samples,
 * mdl.seed): occam train reads them whatever mdl.model_code says, for the bits-back line it
 * prints beside the configured code (cmd_train.c's print_bits_back). */
static bool train_bits_back_reads(const occam_config *cfg, const char *why)
{
    char key[64];
    reason_key(key, sizeof key, why);
    return occam_config_bits_back_reads(cfg, key);
}

bool cli_compress_reads(const occam_config *cfg, const char *why)
{
    /* the two-part code, as run_compress sets it; then its bits-back line (a noisy model:
     * ss.file_sigma) */
    return applies_under(cfg, why, OCCAM_MDL_TWO_PART) ||
           (cfg->noise.enabled && applies_under(cfg, why, OCCAM_MDL_BITS_BACK));
}

void cli_note_inert(const occam_config *cfg, const char *only)
{
    if (!occam_comm_is_root(occam_comm_world())) return;
    occam_config probe = *cfg;
    for (const char *inert; (inert = occam_config_drop_inert(&probe));) {
        /* [noise] left in a file but switched off: no note */
        if (occam_config_inert_is_noise_off(inert) || (only && strncmp(inert, only, strlen(only))))
            continue;
        /* train's bits-back line of a noisy model reads it: no note ("this run ignores it"
         * was said of mdl.data_samples, which changed that line's data bits) */
        if (!only && train_bits_back_reads(cfg, inert)) continue;
        /* an mdl.* key of another code than this run's may still be one compress reads with
         * this config: "ignored" would be wrong there */
        if (!only && cli_compress_reads(cfg, inert))
            fprintf(stderr, "occam: note: %s; this run ignores it, but occam compress reads it "
                    "(it writes the two-part code whatever mdl.model_code says%s)\n", inert,
                    cfg->noise.enabled ? ", and computes a noisy model's bits-back code beside it"
                                       : "");
        else
            fprintf(stderr, "occam: note: %s; it is ignored\n", inert);
    }
}

static int run_compress(const cli_opts *o, occam_error *err)
{
    occam_config cfg;
    int threads;
    int rc = cli_setup(o, &cfg, &threads, err);
    if (rc) return rc;
    /* rank 0 writes the file, so the others need not name it; a rank that stopped here alone
     * left rank 0 waiting for ever in the agreement below (--out on rank 0 alone) */
    if (!o->checkpoint || (occam_comm_is_root(occam_comm_world()) && !o->out))
        rc = occam_error_set(err, OCCAM_ERR_INPUT,
                             "compress: needs --checkpoint FILE and --out FILE");
    else
        rc = cli_check_output(o->out, "--out", o, &cfg, err);
    /* rank 0's streams decide (cli_check_stream): the ranks go on, or stop, together */
    if (cli_agree(rc, err) != OCCAM_OK) return err->status ? err->status : rc;
    /* An .occ file is the two-part code, bit for bit: the count code has no file form, and
     * bits-back sends a posterior no file here stores. A config that asks for another code
     * (one shared with train or mdl) is not refused, but the value is named as unused. */
    if (cfg.mdl.model_code != OCCAM_MDL_TWO_PART && occam_comm_is_root(occam_comm_world()))
        fprintf(stderr, "occam: note: mdl.model_code = %s is ignored: compress always writes "
                "its own code, the two-part one (an .occ file holds that code%s); occam mdl "
                "computes the others\n", occam_dl_code_name(cfg.mdl.model_code),
                cfg.mdl.model_code == OCCAM_MDL_BITS_BACK
                    ? "; the bits-back model bits of a noisy model are printed beside it"
                    : "");
    cfg.mdl.model_code = OCCAM_MDL_TWO_PART;
    cli_session ss;
    rc = cli_session_open(&ss, &cfg, threads, o->checkpoint, err);
    if (rc) return rc;
    threads = ss.threads; /* automatic: at most one per core of the topology */
    cli_note_other_grid(o->checkpoint, &ss);
    note_other_prior(o->checkpoint, &cfg);
    rc = need_file_sigma(&ss, &cfg, o->checkpoint, err);
    occam_dl dl, bb;
    occam_occ_sizes sz = {0};
    float *q = occam_alloc(ss.model.lay.nparams, sizeof(float));
    if (rc == OCCAM_OK && !q) rc = occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory");
    rc = cli_agree(rc, err); /* as in mdl: the description length's sums span the ranks */
    if (rc == OCCAM_OK &&
        (rc = occam_dl_compute(&dl, &ss.model, &cfg.mdl, &cfg.noise, &ss.train, threads, q,
                               err)) != OCCAM_OK)
        occam_config_locate(err, o->config, o->sets, o->nsets); /* as in mdl */
    rc = cli_agree(rc, err); /* as in mdl */
    occam_eval trained = {0};
    if (rc == OCCAM_OK)
        rc = cli_agree(mask_low_snr(&ss, &cfg, &dl, &ss.train, &trained, err), err);
    if (rc == OCCAM_OK && occam_comm_is_root(occam_comm_world())) { /* rank 0 writes */
        /* the rows the model was trained on, as its checkpoint records them (not this
         * config's: under other ones compress has said so, and the weights are still those
         * rows' statistics'); unknown when it does not */
        occam_occ_data data = {.known = true, .normalize = cfg.data.normalize,
                               .normalize_targets = cfg.data.normalize_targets};
        data.rows_known = occam_checkpoint_train_rows(o->checkpoint, &data.rows, &data.rows_crc);
        rc = occam_occ_write(o->out, &ss.model, &cfg.model, &data, &dl, &sz, err);
    }
    rc = cli_agree(rc, err); /* the ranks go on together (the bits-back code below sums over
                                all of them) or stop together */
    if (rc == OCCAM_OK) {
        double file_bits = 8.0 * (double)(sz.header_bytes + sz.payload_bytes);
        double pay_bits = 8.0 * (double)sz.payload_bytes;
        printf("wrote %s: %zu bytes (header and checksum %zu, payload %zu of which %zu "
               "range-coded)\n", cli_shown(o->out ? o->out : "rank 0's --out"),
               sz.header_bytes + sz.payload_bytes,
               sz.header_bytes, sz.payload_bytes, sz.coded_bytes);
        printf("two-part model bits %.0f, payload bits %.0f: %+.3f%%\n", dl.model_bits, pay_bits,
               100.0 * (pay_bits - dl.model_bits) / dl.model_bits);
        /* a tiny net's header outweighs its weights: "0.5x smaller" read as a gain */
        double ratio = dl.dense_bits / file_bits;
        printf("dense float32 %.0f bytes: %.1fx %s\n", dl.dense_bits / 8.0,
               ratio >= 1.0 ? ratio : 1.0 / ratio, ratio >= 1.0 ? "smaller" : "larger");
        coded_loss(&ss, q, &dl, &trained);
        /* A noisy model: the file against the bits-back code of the same (masked) model. */
        occam_dl_params bp = cfg.mdl;
        bp.model_code = OCCAM_MDL_BITS_BACK;
        if (ss.file_sigma &&
            occam_dl_compute(&bb, &ss.model, &bp, &cfg.noise, &ss.train, threads, NULL, err) ==
                OCCAM_OK)
            printf("bits-back model bits %.0f (KL %.0f, mask %.0f, biases %.0f): the file's "
                   "payload is %+.1f%% (README: \"A noisy model's file against its bits-back "
                   "code\")\n",
                   bb.model_bits, bb_sum(&bb, 0), bb_sum(&bb, 1), bb_sum(&bb, 2),
                   100.0 * (pay_bits - bb.model_bits) / bb.model_bits);
    }
    free(q);
    cli_session_close(&ss);
    return rc;
}

int cmd_compress(int argc, char **argv)
{
    return cli_command(argc, argv, CLI_SET | CLI_THREADS | CLI_CHECKPOINT | CLI_OUT, compress_usage, run_compress);
}
