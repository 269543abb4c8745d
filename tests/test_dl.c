/* Description lengths end to end: the data code against a plain double-precision reference
 * and bitwise identical for 1, 2 and 3 threads; the .occ file round-trips the quantised model
 * exactly, and its size matches the reported two-part model bits. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "occam/checkpoint.h"
#include "occam/codes.h"
#include "occam/config.h"
#include "occam/data.h"
#include "occam/dl.h"
#include "occam/fit.h"
#include "occam/mem.h"
#include "occam/model.h"
#include "occam/noisy.h"
#include "occam/occfile.h"
#include "occam/prune.h"
#include "occam/rng.h"
#include "occam/train.h"
#include "occam/trainer.h"
#include "tmpdir.h"
#include "../src/mdl/maskcode.h"

/* The data term, asserted to have had its scratch. */
static double data_bits(const occam_model *m, const float *params, const occam_dataset *ds,
                        size_t rows, double target_precision, int threads)
{
    double bits = NAN;
    cr_assert_eq(occam_dl_data_bits(m, params, ds, rows, target_precision, threads, &bits),
                 OCCAM_OK);
    return bits;
}

typedef struct rig {
    occam_config cfg;
    occam_dataset train, test;
    occam_model m;
} rig;

/* configs/blobs.ini with overlapping blobs (the data code is not ~0) on `samples` rows. */
static void rig_blobs(rig *r, int samples)
{
    occam_error err;
    occam_config_defaults(&r->cfg);
    cr_assert_eq(occam_config_load(&r->cfg, "configs/blobs.ini", &err), OCCAM_OK, "%s", err.msg);
    r->cfg.data.spread = 0.6;
    r->cfg.data.samples = samples;
}

/* The config's data, and its model initialised. */
static void rig_load(rig *r)
{
    occam_error err;
    cr_assert_eq(occam_data_load(&r->cfg.data, occam_config_inputs(&r->cfg), occam_config_outputs(&r->cfg), &r->train, &r->test, &err), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(occam_model_create(&r->m, &r->cfg.model, r->cfg.data.task, &err), OCCAM_OK);
    occam_model_init(&r->m, r->cfg.model.init, r->cfg.train.seed);
}

static void rig_train(rig *r)
{
    occam_error err;
    rig_load(r);
    occam_trainer *tr;
    cr_assert_eq(occam_trainer_create(&tr, &r->m, occam_config_trainer(&r->cfg), 2, NULL, &err), OCCAM_OK);
    occam_fit_result res;
    occam_prune_log log;
    cr_assert_eq(occam_train_run(tr, &r->m, &r->cfg, &r->train, &r->test, &res, &log, NULL,
                                 &err), OCCAM_OK, "%s", err.msg);
    occam_fit_result_free(&res);
    occam_prune_log_free(&log);
    occam_trainer_free(tr);
}

/* Noisy weights on `samples` blobs rows, unpruned, trained for `epochs`, coded bits-back with
 * `draws` noise samples per row for the data term. */
static void rig_noisy_blobs(rig *r, int samples, int epochs, int draws)
{
    rig_blobs(r, samples);
    r->cfg.train.epochs = epochs;
    r->cfg.prune.schedule = OCCAM_PRUNE_NONE;
    r->cfg.noise.enabled = true;
    r->cfg.mdl.model_code = OCCAM_MDL_BITS_BACK;
    r->cfg.mdl.data_samples = draws;
    rig_train(r);
}

/* A blobs model on `samples` training rows, trained briefly and pruned to 60%. */
static void rig_up_rows(rig *r, int samples)
{
    rig_blobs(r, samples);
    r->cfg.train.epochs = 3;
    r->cfg.prune.schedule = OCCAM_PRUNE_ONESHOT;
    r->cfg.prune.target = 0.6;
    r->cfg.prune.finetune_epochs = 1;
    r->cfg.mdl.search_rows = 300;
    rig_train(r);
}

/* configs/hinton93.ini: 128-4-1 regression, 105 rows, no mask; as shipped (standardised
 * targets) or with the targets in their own units. */
static void rig_up_hinton93(rig *r, bool standardised_targets)
{
    occam_error err;
    occam_config_defaults(&r->cfg);
    cr_assert_eq(occam_config_load(&r->cfg, "configs/hinton93.ini", &err), OCCAM_OK, "%s",
                 err.msg);
    r->cfg.data.normalize_targets = standardised_targets;
    rig_train(r);
}

static void rig_up(rig *r) { rig_up_rows(r, 1000); }

static void rig_down(rig *r)
{
    occam_model_free(&r->m);
    occam_dataset_free(&r->train);
    occam_dataset_free(&r->test);
}

Test(dl, data_bits_match_a_double_reference_and_any_thread_count)
{
    rig r;
    rig_up(&r);
    double b1 = data_bits(&r.m, r.m.params, &r.train, 0, 0.01, 1);
    double b2 = data_bits(&r.m, r.m.params, &r.train, 0, 0.01, 2);
    double b3 = data_bits(&r.m, r.m.params, &r.train, 0, 0.01, 3);
    cr_assert(memcmp(&b1, &b2, sizeof b1) == 0 && memcmp(&b1, &b3, sizeof b1) == 0,
              "data bits differ across thread counts: %.17g %.17g %.17g", b1, b2, b3);
    /* reference: the same float logits, −log2 softmax in double, summed serially */
    const occam_layout *lay = &r.m.lay;
    float *out[OCCAM_MAX_LAYERS];
    for (int l = 0; l < lay->nlayers; l++)
        out[l] = malloc(sizeof(float) * r.train.n * (size_t)lay->width[l + 1]);
    occam_model_forward_rows(lay, r.m.act, r.m.params, r.train.x, (int)r.train.n, out);
    double ref = 0;
    int k = lay->width[lay->nlayers];
    for (size_t i = 0; i < r.train.n; i++) {
        const float *z = out[lay->nlayers - 1] + i * (size_t)k;
        double mx = z[0], s = 0;
        for (int j = 1; j < k; j++) mx = fmax(mx, z[j]);
        for (int j = 0; j < k; j++) s += exp(z[j] - mx);
        ref += (log(s) + mx - z[r.train.label[i]]) / log(2.0);
    }
    cr_assert(ref > 1.0, "the reference data code should be non-trivial (%g)", ref);
    /* The two GEMMs' float logits may round apart: BLIS's generic kernels put the sums 1.6e-9
     * of them apart (exact on skx and haswell). 1e-6 of 376 bits is 4e-4 bits. */
    cr_assert(fabs(b1 - ref) <= 1e-6 * ref, "data bits %.12g, reference %.12g", b1, ref);
    for (int l = 0; l < lay->nlayers; l++) free(out[l]);
    rig_down(&r);
}

Test(dl, two_part_total_is_thread_count_independent)
{
    rig r;
    rig_up(&r);
    occam_dl a, b;
    occam_error err;
    cr_assert_eq(occam_dl_compute(&a, &r.m, &r.cfg.mdl, &r.cfg.noise, &r.train, 1, NULL, &err), OCCAM_OK, "%s",
                 err.msg);
    cr_assert_eq(occam_dl_compute(&b, &r.m, &r.cfg.mdl, &r.cfg.noise, &r.train, 3, NULL, &err), OCCAM_OK);
    cr_assert(memcmp(&a.total_bits, &b.total_bits, sizeof(double)) == 0, "%.17g vs %.17g",
              a.total_bits, b.total_bits);
    cr_assert(memcmp(&a.model_bits, &b.model_bits, sizeof(double)) == 0);
    /* the mask is sent unit by unit (maskcode.h, tested against naive loops in
     * test_maskcode.c): each layer's share, adding up to at most the plain code's log2 C(n, k),
     * the live units' counts and a bit per layer naming its code */
    uint64_t k[OCCAM_MAX_LAYERS] = {0};
    double plain = 0, counts = log2(r.m.lay.width[0] + 1.0), sent = 0;
    for (int l = 0; l < a.nlayers; l++) {
        k[l] = a.layer[l].k;
        cr_assert_eq(a.layer[l].k, occam_model_active_weights(&r.m, l));
        plain += occam_codes_log2_binomial(a.layer[l].n, a.layer[l].k);
        counts += log2(r.m.lay.width[l + 1] + 1.0) + 1;
    }
    occam_mask_units u;
    cr_assert_eq(occam_mask_units_find(&u, &r.m.lay, r.m.mask, k), OCCAM_OK);
    for (int l = 0; l < a.nlayers; l++) {
        cr_assert(fabs(a.layer[l].mask_bits - occam_mask_units_bits(&u, &r.m.lay, k, l)) < 1e-9);
        sent += a.layer[l].mask_bits;
    }
    occam_mask_units_free(&u);
    cr_assert(sent > 0 && sent <= plain + counts + 1e-9, "mask %.1f bits, plain %.1f", sent,
              plain);
    /* the count code is what it says, and its layers' rows add up to it (they said no bits
     * for the weights and 32 a bias, whatever bits_per_weight) */
    r.cfg.mdl.model_code = OCCAM_MDL_COUNT;
    r.cfg.mdl.bits_per_weight = 8;
    cr_assert_eq(occam_dl_compute(&a, &r.m, &r.cfg.mdl, &r.cfg.noise, &r.train, 2, NULL, &err), OCCAM_OK);
    uint64_t active = 0;
    for (int l = 0; l < r.m.lay.nlayers; l++) {
        uint64_t k = occam_model_active_weights(&r.m, l);
        cr_assert_float_eq(a.layer[l].value_bits, 8.0 * (double)k, 1e-9);
        cr_assert_float_eq(a.layer[l].bias_bits, 8.0 * r.m.lay.width[l + 1], 1e-9);
        active += k + (uint64_t)r.m.lay.width[l + 1];
    }
    cr_assert_float_eq(a.model_bits, 8.0 * (double)active, 1e-9);
    rig_down(&r);
}

/* Weights of 1e16 throughout a layer (a damaged or hand-made checkpoint: all equal, so the
 * step search starts from its floor) lie beyond any code length at every step it tries: an
 * input error naming the layer, not an abort in the prior (lo == hi) or "total bits inf". */
Test(dl, a_model_code_past_any_length_is_an_input_error)
{
    rig r;
    rig_up_rows(&r, 200);
    const occam_layout *lay = &r.m.lay;
    int l = lay->nlayers - 1;
    for (size_t i = 0; i < (size_t)lay->width[l] * lay->width[l + 1]; i++)
        r.m.params[lay->w_off[l] + i] = 1e16f;
    occam_dl dl;
    occam_error err = {0};
    cr_assert_eq(occam_dl_compute(&dl, &r.m, &r.cfg.mdl, &r.cfg.noise, &r.train, 1, NULL, &err),
                 OCCAM_ERR_INPUT, "%s", err.msg);
    char want[64];
    snprintf(want, sizeof want, "layer %d's parameters lie beyond any code length", l);
    cr_assert(strstr(err.msg, "the model code's length is not finite") && strstr(err.msg, want),
              "%s", err.msg);
    rig_down(&r);
}

/* One parameter beyond any code length costs DBL_MAX bits, finite: alone, it gave a model
 * length of 1.8e308 that mdl and train printed as a 309-digit number (exit 0); only two or
 * more summed to inf and were refused. A bias of 1e8 at a step of 1e-9 (2^52 steps is 4.5e6):
 * the message names the biases and their step, the weights' δ. */
Test(dl, one_parameter_past_any_code_length_is_an_input_error)
{
    rig r;
    rig_up_rows(&r, 200);
    const occam_layout *lay = &r.m.lay;
    r.m.params[lay->b_off[0]] = 1e8f;
    r.cfg.mdl.weight_precision = 1e-9;
    occam_dl dl;
    occam_error err = {0};
    cr_assert_eq(occam_dl_compute(&dl, &r.m, &r.cfg.mdl, &r.cfg.noise, &r.train, 1, NULL, &err),
                 OCCAM_ERR_INPUT, "%g bits", dl.model_bits);
    cr_assert(strstr(err.msg, "layer 0's biases lie beyond any code length at their step") &&
              strstr(err.msg, "the weights' step δ (mdl.weight_precision = 1e-09)"), "%s",
              err.msg);
    rig_down(&r);
}

/* Under bits-back the weights have no step; the biases' is the layer's RMS posterior σ (times
 * 2^−shift). A noisy model whose σ fell to 1e-6 beside a bias of 1e8 was refused "at step 0"
 * with a hint at mdl.weight_precision, which the bits-back code does not read (a config
 * sweep's find). */
Test(dl, a_bits_back_bias_past_any_code_length_names_the_posterior_step)
{
    rig r;
    occam_error err = {0};
    rig_noisy_blobs(&r, 200, 1, 1);
    for (size_t i = 0; i < r.m.lay.nparams; i++) r.m.rho[i] = logf(expm1f(1e-6f));
    r.m.params[r.m.lay.b_off[0]] = 1e8f;
    occam_dl dl;
    cr_assert_eq(occam_dl_compute(&dl, &r.m, &r.cfg.mdl, &r.cfg.noise, &r.train, 1, NULL, &err),
                 OCCAM_ERR_INPUT, "%g bits", dl.model_bits);
    cr_assert(strstr(err.msg, "layer 0's biases lie beyond any code length at their step") &&
              strstr(err.msg, "the layer's RMS posterior σ") &&
              !strstr(err.msg, "weight_precision") && !strstr(err.msg, "step 0 "),
              "%s", err.msg);
    rig_down(&r);
}

/* A weight of 5 at mdl.weight_precision = 1e-9 is 5e9 bins from 0, past the 32-bit bin
 * indices a .occ file holds: mdl counted it (exit 0) and compress refused to write it. The
 * count now refuses it too, naming the key; a weight of 2 (2e9 bins) is still coded. */
Test(dl, a_weight_past_the_files_bin_range_is_an_input_error)
{
    rig r;
    rig_up_rows(&r, 200);
    r.cfg.mdl.weight_precision = 1e-9;
    size_t i = r.m.lay.w_off[0];
    while (r.m.mask && !r.m.mask[i]) i++; /* a weight the 60% pruning kept */
    float *w = &r.m.params[i];
    occam_dl dl;
    occam_error err = {0};
    *w = 2.0f;
    cr_assert_eq(occam_dl_compute(&dl, &r.m, &r.cfg.mdl, &r.cfg.noise, &r.train, 1, NULL, &err),
                 OCCAM_OK, "%s", err.msg);
    *w = 5.0f;
    cr_assert_eq(occam_dl_compute(&dl, &r.m, &r.cfg.mdl, &r.cfg.noise, &r.train, 1, NULL, &err),
                 OCCAM_ERR_INPUT, "%g bits", dl.model_bits);
    cr_assert(strstr(err.msg, "layer 0's parameters lie beyond any code length") &&
              strstr(err.msg, "32-bit bin indices") && strstr(err.msg, "mdl.weight_precision"),
              "%s", err.msg);
    rig_down(&r);
}

/* A NaN output (an overflow inside the network: inf − inf) made the classification data code
 * NaN, and the message printed it as '(-nan bits)'. */
Test(dl, a_nan_data_code_is_named_not_printed_as_minus_nan)
{
    rig r;
    rig_up_rows(&r, 200);
    const occam_layout *lay = &r.m.lay;
    for (size_t i = 0; i < (size_t)lay->width[0] * lay->width[1]; i++)
        r.m.params[lay->w_off[0] + i] = i % 2 ? -3e38f : 3e38f;
    r.cfg.mdl.model_code = OCCAM_MDL_COUNT;
    occam_dl dl;
    occam_error err = {0};
    cr_assert_eq(occam_dl_compute(&dl, &r.m, &r.cfg.mdl, &r.cfg.noise, &r.train, 1, NULL, &err),
                 OCCAM_ERR_INPUT, "%g bits", dl.data_bits);
    cr_assert(strstr(err.msg, "the data code's length is not finite (NaN bits: an output is "
                              "NaN)"), "%s", err.msg);
    cr_assert(!strstr(err.msg, "nan"), "%s", err.msg);
    rig_down(&r);
}

/* A layer that weight decay drove into float32's denormals (decay 3 at lr 0.01 on a 2-unit
 * net did) has a spread so small that its finer quantisation steps rounded to 0 in float: an
 * abort in the quantiser. Now the step search starts from a floored spread, every weight of the
 * layer codes as 0, and the total is finite. */
Test(dl, a_layer_of_denormal_weights_codes_as_zeros)
{
    rig r;
    rig_up_rows(&r, 200);
    const occam_layout *lay = &r.m.lay;
    int l = lay->nlayers - 1;
    size_t n = (size_t)lay->width[l] * lay->width[l + 1];
    for (size_t i = 0; i < n; i++) r.m.params[lay->w_off[l] + i] = (i % 2 ? 1e-40f : -3e-41f);
    occam_dl dl;
    occam_error err = {0};
    cr_assert_eq(occam_dl_compute(&dl, &r.m, &r.cfg.mdl, &r.cfg.noise, &r.train, 1, NULL, &err),
                 OCCAM_OK, "%s", err.msg);
    cr_assert(isfinite(dl.total_bits) && dl.layer[l].delta > 0, "%g bits, step %g",
              dl.total_bits, dl.layer[l].delta);
    float *q = occam_alloc(lay->nparams, sizeof(float));
    cr_assert(q);
    occam_codes_quantize(q, r.m.params + lay->w_off[l], NULL, n, dl.layer[l].delta);
    for (size_t i = 0; i < n; i++) cr_assert_eq(q[i], 0.0f);
    free(q);
    rig_down(&r);
}

/* Writes r's model under dl to path (a mkstemp template, left in place), checks that the
 * payload is the two-part model bits within the coder's rounding, and reads it into *back. */
static void occ_write_read(rig *r, const occam_dl *dl, char *path, occam_occ_sizes *sz,
                           occam_model *back)
{
    occam_error err;
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    close(fd);
    cr_assert_eq(occam_occ_write(path, &r->m, &r->cfg.model, &(occam_occ_data){0}, dl, sz, &err),
                 OCCAM_OK, "%s", err.msg);
    double pay = 8.0 * (double)sz->payload_bytes;
    cr_assert(fabs(pay - dl->model_bits) <= 0.01 * dl->model_bits + 64,
              "payload %g bits, two-part model bits %g", pay, dl->model_bits);
    cr_assert_eq(occam_model_create(back, &r->cfg.model, r->cfg.data.task, &err), OCCAM_OK);
    cr_assert_eq(occam_occ_read(path, back, &err), OCCAM_OK, "%s", err.msg);
}

Test(dl, occ_round_trips_exactly_and_matches_the_reported_bits)
{
    rig r;
    rig_up(&r);
    occam_dl dl;
    occam_error err;
    float *q = occam_alloc(r.m.lay.nparams, sizeof(float));
    cr_assert_eq(occam_dl_compute(&dl, &r.m, &r.cfg.mdl, &r.cfg.noise, &r.train, 2, q, &err), OCCAM_OK, "%s",
                 err.msg);
    char path[] = "/tmp/occam-dl-XXXXXX";
    occam_occ_sizes sz;
    occam_model back;
    occ_write_read(&r, &dl, path, &sz, &back);
    cr_assert(sz.header_bytes <= 1024, "header %zu bytes", sz.header_bytes);
    cr_assert_eq(back.lay.nparams, r.m.lay.nparams);
    for (size_t i = 0; i < r.m.lay.nparams; i++)
        cr_assert(memcmp(&back.params[i], &q[i], sizeof(float)) == 0,
                  "decoded parameter %zu is %.9g, the quantised model's %.9g", i, back.params[i],
                  q[i]);
    cr_assert(memcmp(back.mask, r.m.mask, r.m.lay.nparams) == 0, "decoded masks differ");
    /* a damaged file is refused, never half-loaded */
    FILE *f = fopen(path, "r+b");
    fseek(f, (long)sz.header_bytes + 5, SEEK_SET);
    fputc(0x5a, f);
    fclose(f);
    cr_assert_eq(occam_occ_read(path, &back, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, path), "%s", err.msg);
    unlink(path);
    occam_model_free(&back);
    free(q);
    rig_down(&r);
}

/* A layer with no weight left still has its δ in the file (the biases' base step): the code
 * counts those 32 bits, which it left out, so the file's payload was 32 bits over the two-part
 * model bits per empty layer. Here the payload's excess over the counted bits is the same with
 * layer 0 emptied as without, to the range coder's byte. */
Test(dl, occ_every_field_of_an_empty_layer_is_counted)
{
    rig r;
    rig_up(&r);
    occam_error err;
    occam_dl dl;
    double excess[2];
    for (int empty = 0; empty < 2; empty++) {
        if (empty) {
            const occam_layout *lay = &r.m.lay;
            size_t n = (size_t)lay->width[0] * lay->width[1];
            memset(r.m.mask + lay->w_off[0], 0, n);
            memset(r.m.params + lay->w_off[0], 0, n * sizeof(float));
        }
        cr_assert_eq(occam_dl_compute(&dl, &r.m, &r.cfg.mdl, &r.cfg.noise, &r.train, 1, NULL,
                                      &err), OCCAM_OK, "%s", err.msg);
        cr_assert_eq(dl.layer[0].k, empty ? 0u : dl.layer[0].k);
        char path[] = "/tmp/occam-dl-XXXXXX";
        occam_occ_sizes sz;
        occam_model back;
        occ_write_read(&r, &dl, path, &sz, &back);
        excess[empty] = 8.0 * (double)sz.payload_bytes - dl.model_bits;
        unlink(path);
        occam_model_free(&back);
    }
    cr_assert(fabs(excess[1] - excess[0]) <= 16, "payload over the model bits: %g bits with an "
              "empty layer, %g without", excess[1], excess[0]);
    rig_down(&r);
}

/* Format version 7 on a mask that exercises it: layer 0's first unit keeps every input and
 * three others one each (row by row is the shorter code), and a quarter of the hidden units
 * keep a weight going out, not those three (the biases of all but that quarter are not sent). The file decodes to the quantised
 * model bit for bit, the unsent biases 0 in both, and its payload is the bits counted. */
Test(dl, occ_version_7_rows_and_unsent_biases_round_trip)
{
    rig r;
    rig_up(&r);
    occam_model *m = &r.m;
    const occam_layout *lay = &m->lay;
    cr_assert_eq(lay->nlayers, 2);
    int in = lay->width[0], h = lay->width[1], out = lay->width[2];
    uint8_t *m0 = m->mask + lay->w_off[0], *m1 = m->mask + lay->w_off[1];
    for (int o = 0; o < h; o++)
        for (int i = 0; i < in; i++)
            m0[(size_t)o * in + i] = (uint8_t)(o == 0 || (o >= h / 4 && o < h / 4 + 3 &&
                                                          i == o % in));
    for (int o = 0; o < out; o++)
        for (int u = 0; u < h; u++) m1[(size_t)o * h + u] = (uint8_t)(u < h / 4);
    for (size_t i = 0; i < lay->nparams; i++)
        if (!m->mask[i]) m->params[i] = 0.0f;
    for (int l = 0; l < 2; l++) m->params[lay->b_off[l]] += 0.5f; /* biases that are not 0 */
    for (int u = 0; u < h; u++) m->params[lay->b_off[0] + (size_t)u] = 0.25f + 0.01f * (float)u;
    uint64_t k[2] = {occam_model_active_weights(m, 0), occam_model_active_weights(m, 1)};
    occam_mask_units u;
    cr_assert_eq(occam_mask_units_find(&u, lay, m->mask, k), OCCAM_OK);
    cr_assert(u.by_rows[0], "layer 0 should go row by row");
    occam_mask_units_free(&u);
    occam_dl dl;
    occam_error err;
    float *q = occam_alloc(lay->nparams, sizeof(float));
    cr_assert_eq(occam_dl_compute(&dl, m, &r.cfg.mdl, &r.cfg.noise, &r.train, 2, q, &err),
                 OCCAM_OK, "%s", err.msg);
    char path[] = "/tmp/occam-dl7-XXXXXX";
    occam_occ_sizes sz;
    occam_model back;
    occ_write_read(&r, &dl, path, &sz, &back);
    cr_assert(memcmp(back.params, q, lay->nparams * sizeof(float)) == 0);
    cr_assert(memcmp(back.mask, m->mask, lay->nparams) == 0);
    int unsent = 0;
    for (int v = 0; v < h; v++)
        if (v >= h / 4) {
            cr_assert_eq(back.params[lay->b_off[0] + (size_t)v], 0.0f, "bias %d", v);
            unsent++;
        } else {
            cr_assert_neq(back.params[lay->b_off[0] + (size_t)v], 0.0f, "bias %d", v);
        }
    cr_assert(unsent > 0);
    unlink(path);
    occam_model_free(&back);
    free(q);
    rig_down(&r);
}

/* Version 8 on inputs that are an image (occam_dataset.grid_w; here the blobs' 20 features
 * read as 4 × 5): layer 0 keeps a blob of pixels per unit, its weights positive on the left
 * and negative on the right, so the grid code (src/mdl/gridcode.h) sends both its mask and its
 * values in fewer bits than the plain codes. The file decodes to the quantised model bit for
 * bit, and its payload is the bits counted; without a grid the same model is coded as before. */
static uint8_t *slurp(const char *path, size_t *size);
static void occ_reseal(uint8_t *buf, size_t size);

/* The blobs rig's 20 inputs as a 4 × 5 image: each first-layer unit keeps a 3 × 2 blob,
 * weights positive in the image's two left columns and negative elsewhere. */
static void rig_grid(rig *r)
{
    rig_up(r);
    occam_model *m = &r->m;
    const occam_layout *lay = &m->lay;
    int in = lay->width[0], h = lay->width[1], w = 5;
    cr_assert_eq(in, 20);
    uint8_t *m0 = m->mask + lay->w_off[0];
    float *w0 = m->params + lay->w_off[0];
    for (int o = 0; o < h; o++) {
        int x0 = o % 3, y0 = o % 2;
        for (int i = 0; i < in; i++) {
            int x = i % w, y = i / w;
            size_t a = (size_t)o * in + (size_t)i;
            m0[a] = (uint8_t)(x >= x0 && x < x0 + 3 && y >= y0 && y < y0 + 2);
            float mag = 0.3f + 0.02f * (float)((o * 7 + i) % 11);
            w0[a] = m0[a] ? (x < 2 ? mag : -mag) : 0.0f;
        }
    }
    r->train.grid_w = w;
}

Test(dl, occ_version_8_image_grid_code_round_trips)
{
    rig r;
    rig_grid(&r);
    occam_model *m = &r.m;
    const occam_layout *lay = &m->lay;
    int w = r.train.grid_w;
    occam_dl plain, grid;
    occam_error err;
    r.train.grid_w = 0;
    cr_assert_eq(occam_dl_compute(&plain, m, &r.cfg.mdl, &r.cfg.noise, &r.train, 2, NULL, &err),
                 OCCAM_OK, "%s", err.msg);
    cr_assert_eq(plain.grid_w, 0);
    cr_assert(!plain.layer[0].grid_signs);
    r.train.grid_w = w;
    float *q = occam_alloc(lay->nparams, sizeof(float));
    cr_assert_eq(occam_dl_compute(&grid, m, &r.cfg.mdl, &r.cfg.noise, &r.train, 2, q, &err),
                 OCCAM_OK, "%s", err.msg);
    cr_assert_eq(grid.grid_w, w);
    cr_assert(grid.layer[0].grid_mask, "the mask's grid code was not taken");
    cr_assert(grid.layer[0].grid_signs, "the signs' grid code was not taken");
    cr_assert(grid.layer[0].mask_bits < plain.layer[0].mask_bits, "mask %g bits, plain %g",
              grid.layer[0].mask_bits, plain.layer[0].mask_bits);
    cr_assert(grid.layer[0].value_bits < plain.layer[0].value_bits, "values %g bits, plain %g",
              grid.layer[0].value_bits, plain.layer[0].value_bits);
    cr_assert_eq(grid.layer[1].mask_bits, plain.layer[1].mask_bits);
    cr_assert_eq(grid.layer[1].value_bits, plain.layer[1].value_bits);
    cr_log_info("layer 0 on a 4 x 5 grid: mask %.0f bits (plain %.0f), values %.0f (plain %.0f)",
                grid.layer[0].mask_bits, plain.layer[0].mask_bits, grid.layer[0].value_bits,
                plain.layer[0].value_bits);
    char path[] = "/tmp/occam-dl8-XXXXXX";
    occam_occ_sizes sz;
    occam_model back;
    occ_write_read(&r, &grid, path, &sz, &back);
    cr_assert(memcmp(back.params, q, lay->nparams * sizeof(float)) == 0,
              "the decoded model is not the quantised one");
    cr_assert(memcmp(back.mask, m->mask, lay->nparams) == 0);
    unlink(path);
    occam_model_free(&back);
    /* without the grid: the plain codes, read back as exactly */
    char path2[] = "/tmp/occam-dl8p-XXXXXX";
    r.train.grid_w = 0;
    cr_assert_eq(occam_dl_compute(&plain, m, &r.cfg.mdl, &r.cfg.noise, &r.train, 2, q, &err),
                 OCCAM_OK, "%s", err.msg);
    occ_write_read(&r, &plain, path2, &sz, &back);
    cr_assert(memcmp(back.params, q, lay->nparams * sizeof(float)) == 0);
    unlink(path2);
    occam_model_free(&back);
    free(q);
    rig_down(&r);
}

/* The writer sends layer 0 as dl chose, and the reader follows the flags: each of the four
 * choices (mask by grid or not, signs by grid or not) decodes to the quantised model bit for
 * bit, at steps whose span fits a table and at a step of 1e-6 (about 10^6 bins, grouped). A
 * forged header whose signed span leaves out bins the stream sends (the grid's signs could
 * reach past it: |q| is coded on the folded span) is refused, not decoded. */
Test(dl, occ_version_8_either_choice_round_trips_and_a_bin_past_the_header_is_refused)
{
    rig r;
    rig_grid(&r);
    occam_model *m = &r.m;
    const occam_layout *lay = &m->lay;
    occam_error err;
    float *q = occam_alloc(lay->nparams, sizeof(float));
    for (int fine = 0; fine < 2; fine++) {
        r.cfg.mdl.weight_precision = fine ? 1e-6 : 0;
        occam_dl dl;
        cr_assert_eq(occam_dl_compute(&dl, m, &r.cfg.mdl, &r.cfg.noise, &r.train, 2, q, &err),
                     OCCAM_OK, "%s", err.msg);
        cr_assert(dl.layer[0].grid_mask && dl.layer[0].grid_signs);
        size_t coded[4];
        for (int choice = 0; choice < 4; choice++) {
            dl.layer[0].grid_mask = choice & 1;
            dl.layer[0].grid_signs = (choice & 2) != 0;
            char path[] = "/tmp/occam-dl8c-XXXXXX";
            int fd = mkstemp(path);
            cr_assert(fd >= 0);
            close(fd);
            occam_occ_sizes sz;
            cr_assert_eq(occam_occ_write(path, m, &r.cfg.model, &(occam_occ_data){0}, &dl, &sz,
                                         &err), OCCAM_OK, "%s", err.msg);
            coded[choice] = sz.coded_bytes;
            occam_model back;
            cr_assert_eq(occam_model_create(&back, &r.cfg.model, r.cfg.data.task, &err),
                         OCCAM_OK);
            cr_assert_eq(occam_occ_read(path, &back, &err), OCCAM_OK, "%s", err.msg);
            cr_assert(memcmp(back.params, q, lay->nparams * sizeof(float)) == 0,
                      "step %s, choice %d: the decoded model is not the quantised one",
                      fine ? "1e-6" : "searched", choice);
            cr_assert(memcmp(back.mask, m->mask, lay->nparams) == 0);
            occam_model_free(&back);
            if (fine || choice != 3) {
                unlink(path);
                continue;
            }
            /* layer 0's qlo (at 80 + 10) or qhi (80 + 14), whichever is nearer 0, set to 0:
             * the folded span stays, the stream decodes as written, and its bins of that sign
             * lie outside the header's span */
            size_t size;
            uint8_t *buf = slurp(path, &size);
            int32_t lo, hi;
            memcpy(&lo, buf + 80 + 10, 4);
            memcpy(&hi, buf + 80 + 14, 4);
            cr_assert(lo < 0 && hi > 0, "the rig's weights have both signs: [%d, %d]", lo, hi);
            memset(buf + 80 + (hi >= -lo ? 10 : 14), 0, 4);
            occ_reseal(buf, size);
            tmpdir_spit(path, buf, size);
            free(buf);
            cr_assert_eq(occam_model_create(&back, &r.cfg.model, r.cfg.data.task, &err),
                         OCCAM_OK);
            cr_assert_eq(occam_occ_read(path, &back, &err), OCCAM_ERR_INPUT);
            cr_assert(strstr(err.msg, path) && strstr(err.msg, "coded stream is damaged"), "%s",
                      err.msg);
            occam_model_free(&back);
            unlink(path);
        }
        /* the writer sent what dl chose: each grid code shortens this model's stream (dl's
         * own choice, both, is the shortest) */
        cr_assert(coded[1] < coded[0] && coded[3] < coded[2] && coded[2] < coded[0] &&
                  coded[3] < coded[1], "step %s: coded bytes %zu, %zu, %zu, %zu",
                  fine ? "1e-6" : "searched", coded[0], coded[1], coded[2], coded[3]);
    }
    free(q);
    rig_down(&r);
}

/* A span wider than a table (2^16 symbols; here about 2·10^6 bins at a step of 1e-6) groups
 * its bins, a symbol per group under the prior's mass of the group, then the bin's place in
 * it: under either prior it decodes to the quantised model exactly, with no field more in the
 * header, and costs about what the prior's own bins do. Up to version 4 the table had a symbol
 * per bin, up to 2^24 of them: a second per table to write or read, and a 200-byte forged
 * header could ask for several. */
Test(dl, occ_a_span_wider_than_a_table_round_trips_in_groups_of_bins, .timeout = 120)
{
    for (int kind = 0; kind < 2; kind++) {
        rig r;
        rig_up(&r);
        r.cfg.mdl.weight_precision = 1e-6;
        r.cfg.mdl.prior = kind ? OCCAM_PRIOR_GAUSSIAN : OCCAM_PRIOR_MOG;
        occam_dl dl;
        occam_error err;
        float *q = occam_alloc(r.m.lay.nparams, sizeof(float));
        cr_assert_eq(occam_dl_compute(&dl, &r.m, &r.cfg.mdl, &r.cfg.noise, &r.train, 2, q, &err),
                     OCCAM_OK, "%s", err.msg);
        const occam_layout *lay = &r.m.lay;
        float lo = INFINITY, hi = -INFINITY;
        for (size_t i = 0; i < (size_t)lay->width[0] * lay->width[1]; i++)
            if (r.m.mask[lay->w_off[0] + i]) {
                lo = fminf(lo, q[lay->w_off[0] + i]);
                hi = fmaxf(hi, q[lay->w_off[0] + i]);
            }
        cr_assert((hi - lo) / dl.layer[0].delta > 1e6, "layer 0 spans %g bins",
                  (hi - lo) / dl.layer[0].delta);
        char path[] = "/tmp/occam-dl-XXXXXX";
        int fd = mkstemp(path);
        cr_assert(fd >= 0);
        close(fd);
        occam_occ_sizes sz;
        cr_assert_eq(occam_occ_write(path, &r.m, &r.cfg.model, &(occam_occ_data){0}, &dl, &sz,
                                     &err), OCCAM_OK, "%s", err.msg);
        /* 80 bytes of front, 26 per layer and the 8-byte trailer, as at any step */
        cr_assert_eq(sz.header_bytes, 80 + 2 * 26 + 8, "header %zu bytes", sz.header_bytes);
        double pay = 8.0 * (double)sz.payload_bytes;
        cr_assert(fabs(pay - dl.model_bits) <= 0.01 * dl.model_bits + 64,
                  "prior %d: payload %g bits, two-part model bits %g", kind, pay, dl.model_bits);
        occam_model back;
        cr_assert_eq(occam_model_create(&back, &r.cfg.model, r.cfg.data.task, &err), OCCAM_OK);
        cr_assert_eq(occam_occ_read(path, &back, &err), OCCAM_OK, "%s", err.msg);
        for (size_t i = 0; i < lay->nparams; i++)
            cr_assert(memcmp(&back.params[i], &q[i], sizeof(float)) == 0,
                      "prior %d: decoded parameter %zu is %.9g, the quantised model's %.9g", kind,
                      i, back.params[i], q[i]);
        cr_assert(memcmp(back.mask, r.m.mask, lay->nparams) == 0, "decoded masks differ");
        unlink(path);
        occam_model_free(&back);
        free(q);
        rig_down(&r);
    }
}

/* The search's cost for layer l at grid point c, computed the plain way: quantise the layer,
 * its value bits under the fitted prior, and the data bits of the whole forward pass on the
 * search rows, scaled to the set. */
static double plain_cost(const rig *r, const occam_dl *dl, float *q, int l, double sd, int c)
{
    const occam_layout *lay = &r->m.lay;
    size_t n = (size_t)lay->width[l] * lay->width[l + 1];
    double d = (double)(float)(sd * pow(2.0, -0.5 * c));
    const float *w = r->m.params + lay->w_off[l];
    const uint8_t *mk = r->m.mask ? r->m.mask + lay->w_off[l] : NULL;
    occam_codes_quantize(q + lay->w_off[l], w, mk, n, d);
    size_t rows = (size_t)r->cfg.mdl.search_rows;
    if (rows == 0 || rows > r->train.n) rows = r->train.n;
    return occam_codes_value_bits(w, mk, n, d, &dl->layer[l].prior, 1) +
           (double)r->train.n / (double)rows *
               data_bits(&r->m, q, &r->train, rows, r->cfg.mdl.target_precision, 1);
}

static double layer_sd(const rig *r, int l)
{
    const occam_layout *lay = &r->m.lay;
    size_t n = (size_t)lay->width[l] * lay->width[l + 1], k = 0;
    double s = 0, ss = 0;
    for (size_t i = 0; i < n; i++)
        if (!r->m.mask || r->m.mask[lay->w_off[l] + i]) {
            double w = r->m.params[lay->w_off[l] + i];
            s += w;
            ss += w * w;
            k++;
        }
    double var = ss / (double)k - (s / (double)k) * (s / (double)k);
    return var > 0 ? sqrt(var) : 1e-3;
}

/* The δ search walks downhill over its grid and reuses the earlier layers' outputs; the
 * reference scans the whole grid (c = 2..20) for each layer with a full forward pass, in the
 * same coordinate sweeps (all layers start at c = 2; at most two sweeps, stopping after one
 * that moves nothing). They must choose the same steps, and the reported bits must be what
 * those steps give. With 20,000 rows the output layer's best step is inside the grid, so the
 * walk has somewhere to go; hinton93's 4-weight output layer, trained on raw targets, has a
 * plateau (c = 2 and 3 cost the same to 0.03 bits) before its best step at c = 5, which a walk
 * that stops at the first step up misses. hinton93 as shipped (standardised targets, whose
 * data code scales the residuals back) must match the scan too. */
Test(dl, delta_search_matches_a_full_grid_scan)
{
    const char *name[4] = {"blobs, 1000 rows", "blobs, 20000 rows", "hinton93, raw targets",
                           "hinton93"};
    for (int t = 0; t < 4; t++) {
#if defined(__SANITIZE_ADDRESS__)
        if (t == 1) continue; /* 20,000 rows: the same code as 1,000, 15 s under ASan */
#endif
        rig r;
        if (t < 2) {
            rig_up_rows(&r, t ? 20000 : 1000);
            r.cfg.mdl.search_rows = t ? 5000 : 250;
        } else {
            rig_up_hinton93(&r, t == 3);
        }
        occam_dl dl;
        occam_error err;
        cr_assert_eq(occam_dl_compute(&dl, &r.m, &r.cfg.mdl, &r.cfg.noise, &r.train, 2, NULL, &err), OCCAM_OK,
                     "%s", err.msg);
        const occam_layout *lay = &r.m.lay;
        int L = lay->nlayers, choice[OCCAM_MAX_LAYERS];
        double sd[OCCAM_MAX_LAYERS];
        float *q = malloc(lay->nparams * sizeof(float));
        memcpy(q, r.m.params, lay->nparams * sizeof(float));
        for (int l = 0; l < L; l++) {
            sd[l] = layer_sd(&r, l);
            choice[l] = 2;
            size_t n = (size_t)lay->width[l] * lay->width[l + 1];
            occam_codes_quantize(q + lay->w_off[l], r.m.params + lay->w_off[l],
                               r.m.mask ? r.m.mask + lay->w_off[l] : NULL, n,
                               (double)(float)(sd[l] * 0.5));
        }
        bool moved = true, interior = false;
        for (int sweep = 0; sweep < 2 && moved; sweep++) {
            moved = false;
            for (int l = 0; l < L; l++) {
                int best = 2;
                double best_cost = INFINITY;
                for (int c = 2; c <= 20; c++) {
                    double cost = plain_cost(&r, &dl, q, l, sd[l], c);
                    if (cost < best_cost) {
                        best_cost = cost;
                        best = c;
                    }
                }
                moved |= best != choice[l];
                choice[l] = best;
                interior |= best > 2 && best < 20;
                plain_cost(&r, &dl, q, l, sd[l], best); /* leaves the layer quantised at best */
            }
        }
        for (int l = 0; l < L; l++) {
            double want = (double)(float)(sd[l] * pow(2.0, -0.5 * choice[l]));
            cr_assert(dl.layer[l].delta == want, "%s, layer %d: δ %.9g, full scan %.9g (c=%d)",
                      name[t], l, dl.layer[l].delta, want, choice[l]);
        }
        if (t == 1 || t == 2)
            cr_assert(interior, "%s: no layer's best step was inside the grid", name[t]);
        /* the reported code is the one these steps give */
        double model = 0;
        for (int l = 0; l < L; l++) {
            size_t n = (size_t)lay->width[l] * lay->width[l + 1];
            double vb = occam_codes_value_bits(r.m.params + lay->w_off[l],
                                             r.m.mask ? r.m.mask + lay->w_off[l] : NULL, n,
                                             dl.layer[l].delta, &dl.layer[l].prior, 3);
            cr_assert(memcmp(&vb, &dl.layer[l].value_bits, sizeof vb) == 0, "layer %d", l);
            model += dl.layer[l].mask_bits + vb + dl.layer[l].overhead_bits + dl.layer[l].bias_bits;
        }
        cr_assert(fabs(model - dl.model_bits) <= 1e-9 * dl.model_bits);
        /* the biases as their code sends them: at their step, under their Gaussian, those of
         * units with an outgoing weight */
        uint8_t *needs = malloc(lay->nparams);
        occam_mask_bias_needed(lay, r.m.mask, needs);
        for (int l = 0; l < L; l++) {
            size_t nb = (size_t)lay->width[l + 1];
            const float *b = r.m.params + lay->b_off[l];
            double bb = occam_codes_value_bits(b, needs + lay->b_off[l], nb, dl.layer[l].bias_delta,
                                               &dl.layer[l].bias_prior, 3) + 72.0;
            cr_assert(fabs(bb - dl.layer[l].bias_bits) <= 1e-9 * bb, "layer %d bias bits", l);
            cr_assert(dl.layer[l].bias_delta == (double)(float)ldexp(dl.layer[l].delta,
                                                                    -dl.layer[l].bias_shift));
            occam_codes_quantize(q + lay->b_off[l], b, NULL, nb, dl.layer[l].bias_delta);
        }
        free(needs);
        double data = data_bits(&r.m, q, &r.train, 0, r.cfg.mdl.target_precision, 1);
        cr_assert(memcmp(&data, &dl.data_bits, sizeof data) == 0, "data bits %.17g vs %.17g", data,
                  dl.data_bits);
        free(q);
        rig_down(&r);
    }
}

/* Bits-back (noisy weights) on blobs: the same bits for 1 and 3 threads, and as the noise
 * vanishes (every σ ≈ 0) the expected data code tends to the deterministic one: the noisy
 * forward pass the data code shares with the trainer reads the right weights, biases and
 * activations. */
Test(dl, bits_back_is_thread_count_independent_and_tends_to_the_plain_data_code)
{
    rig r;
    occam_error err;
    rig_noisy_blobs(&r, 700, 3, 3); /* not a whole number of the data code's row chunks */
    occam_dl a, b;
    cr_assert_eq(occam_dl_compute(&a, &r.m, &r.cfg.mdl, &r.cfg.noise, &r.train, 1, NULL, &err),
                 OCCAM_OK, "%s", err.msg);
    cr_assert_eq(occam_dl_compute(&b, &r.m, &r.cfg.mdl, &r.cfg.noise, &r.train, 3, NULL, &err),
                 OCCAM_OK, "%s", err.msg);
    cr_assert(memcmp(&a.data_bits, &b.data_bits, sizeof(double)) == 0, "%.17g vs %.17g",
              a.data_bits, b.data_bits);
    cr_assert(memcmp(&a.total_bits, &b.total_bits, sizeof(double)) == 0);
    for (size_t i = 0; i < r.m.lay.nparams; i++) r.m.rho[i] = -40.0f;
    cr_assert_eq(occam_dl_compute(&a, &r.m, &r.cfg.mdl, &r.cfg.noise, &r.train, 2, NULL, &err),
                 OCCAM_OK, "%s", err.msg);
    double plain = data_bits(&r.m, r.m.params, &r.train, 0, r.cfg.mdl.target_precision, 2);
    cr_assert(plain > 1.0, "the plain data code should be non-trivial (%g)", plain);
    cr_assert(fabs(a.data_bits - plain) <= 1e-3 * plain, "bits-back data %.12g, plain %.12g",
              a.data_bits, plain);
    rig_down(&r);
}

/* ---- regression targets: the data code is in their original units -------------------------- */

/* A 4-6-1 tanh regression on 300 rows (more than one of the data code's row chunks) whose
 * targets are in the hundreds, as read (raw) and standardised (std); m predicts in
 * standardised units, m_orig is the same function in original units (its output layer scaled
 * by the targets' std and shifted by their mean). */
typedef struct reg_rig {
    occam_config cfg;
    occam_dataset raw, std;
    occam_model m, m_orig;
    double s, shift;
} reg_rig;

static void reg_up(reg_rig *r, bool noisy)
{
    enum { N = 300, D = 4 };
    occam_error err;
    occam_config_defaults(&r->cfg);
    int widths[] = {D, 6, 1};
    memcpy(r->cfg.model.layers, widths, sizeof widths);
    r->cfg.model.nlayers = 3;
    r->cfg.model.activation = OCCAM_ACT_TANH;
    r->cfg.data.task = OCCAM_TASK_REGRESS;
    r->cfg.mdl.target_precision = 0.01;
    occam_dataset *d[2] = {&r->raw, &r->std};
    occam_rng g = occam_rng_seed(21, 4);
    for (int u = 0; u < 2; u++)
        *d[u] = (occam_dataset){.n = N, .d = D, .targets = 1,
                                .x = occam_alloc(N * D, sizeof(float)),
                                .y = occam_alloc(N, sizeof(float))};
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < D; j++) r->raw.x[i * D + j] = (float)occam_rng_normal(&g);
        const float *x = r->raw.x + i * D;
        r->raw.y[i] = (float)(180.0 + 60.0 * tanh(x[0]) - 25.0 * x[1] + 8.0 * occam_rng_normal(&g));
    }
    memcpy(r->std.x, r->raw.x, N * D * sizeof(float));
    memcpy(r->std.y, r->raw.y, N * sizeof(float));
    cr_assert_eq(occam_data_normalize_targets(&r->std, NULL, &err), OCCAM_OK, "%s", err.msg);
    r->s = r->std.y_scale[0];
    r->shift = r->std.y_shift[0];
    cr_assert(r->s > 30.0, "targets std %g", r->s);

    occam_model *mm[2] = {&r->m, &r->m_orig};
    for (int u = 0; u < 2; u++) {
        cr_assert_eq(occam_model_create(mm[u], &r->cfg.model, r->cfg.data.task, &err), OCCAM_OK);
        occam_model_init(mm[u], OCCAM_INIT_XAVIER, 5);
    }
    const occam_layout *lay = &r->m.lay;
    /* a rough fit in standardised units: output ≈ 0.8·tanh(x0) - 0.35·x1 through the hidden
     * units 0 and 1 (the rest keep their random weights) */
    r->m.params[lay->w_off[0] + 0 * D + 0] = 1.0f;
    r->m.params[lay->w_off[0] + 1 * D + 1] = 0.4f;
    r->m.params[lay->w_off[1] + 0] = 1.4f;
    r->m.params[lay->w_off[1] + 1] = -1.0f;
    r->m.params[lay->b_off[1]] = 0.05f;
    memcpy(r->m_orig.params, r->m.params, lay->nparams * sizeof(float));
    for (int o = 0; o < lay->width[1]; o++)
        r->m_orig.params[lay->w_off[1] + o] = (float)(r->m.params[lay->w_off[1] + o] * r->s);
    r->m_orig.params[lay->b_off[1]] = (float)(r->m.params[lay->b_off[1]] * r->s + r->shift);
    if (!noisy) return;
    /* noisy weights with σ ≈ 0: the bits-back data code tends to the plain one */
    r->cfg.noise.enabled = true;
    r->cfg.mdl.model_code = OCCAM_MDL_BITS_BACK;
    r->cfg.mdl.data_samples = 2;
    for (int u = 0; u < 2; u++) {
        mm[u]->rho = occam_alloc(lay->nparams, sizeof(float));
        for (size_t i = 0; i < lay->nparams; i++) mm[u]->rho[i] = -40.0f;
    }
}

static void reg_down(reg_rig *r)
{
    occam_model_free(&r->m);
    occam_model_free(&r->m_orig);
    occam_dataset_free(&r->raw);
    occam_dataset_free(&r->std);
}

/* 32 bits for σ, then Σ −log2(N(r; 0, σ²)·δ) with σ the RMS residual as a float32 (the value
 * sent), written out in double from residuals in original units: the standardised model's
 * float outputs de-standardised by hand against the targets as read. */
static double reg_reference_bits(const reg_rig *r, double delta)
{
    const occam_layout *lay = &r->m.lay;
    size_t n = r->std.n;
    float *out[OCCAM_MAX_LAYERS];
    for (int l = 0; l < lay->nlayers; l++) out[l] = malloc(sizeof(float) * n * lay->width[l + 1]);
    occam_model_forward_rows(lay, r->m.act, r->m.params, r->std.x, (int)n, out);
    double *res = malloc(n * sizeof(double)), ss = 0, bits = 0;
    for (size_t i = 0; i < n; i++) {
        res[i] = (out[lay->nlayers - 1][i] * r->s + r->shift) - r->raw.y[i];
        ss += res[i] * res[i];
    }
    double sigma = (float)fmax(sqrt(ss / (double)n), delta);
    bits = 32;
    for (size_t i = 0; i < n; i++) {
        double density = exp(-res[i] * res[i] / (2 * sigma * sigma)) / (sqrt(2 * M_PI) * sigma);
        bits -= log2(density * delta);
    }
    for (int l = 0; l < lay->nlayers; l++) free(out[l]);
    free(res);
    return bits;
}

/* The data code of a model trained on standardised targets is in original units: it equals a
 * plain double reference computed from de-standardised predictions, and the bits of the same
 * function coded in original units (no standardisation at all), for any thread count; coding
 * the standardised residuals as they are would be n·log2(scale) bits short. */
Test(dl, regression_data_bits_are_in_the_targets_original_units)
{
    reg_rig r;
    reg_up(&r, false);
    const double delta = r.cfg.mdl.target_precision;
    double b1 = data_bits(&r.m, r.m.params, &r.std, 0, delta, 1);
    double b3 = data_bits(&r.m, r.m.params, &r.std, 0, delta, 3);
    cr_assert(memcmp(&b1, &b3, sizeof b1) == 0, "%.17g vs %.17g", b1, b3);
    double ref = reg_reference_bits(&r, delta);
    cr_assert(ref > 300 * 5.0, "a non-trivial code (%g bits)", ref);
    cr_assert(fabs(b1 - ref) <= 1e-7 * ref, "data bits %.12g, reference %.12g", b1, ref);
    double orig = data_bits(&r.m_orig, r.m_orig.params, &r.raw, 0, delta, 2);
    cr_assert(fabs(b1 - orig) <= 1e-6 * orig, "standardised %.12g, original units %.12g", b1, orig);
    /* the residuals in standardised units, coded as they are, would miss n·log2(scale) bits */
    double *scale = r.std.y_scale, *shift = r.std.y_shift;
    r.std.y_scale = r.std.y_shift = NULL;
    double unscaled = data_bits(&r.m, r.m.params, &r.std, 0, delta, 2);
    r.std.y_scale = scale;
    r.std.y_shift = shift;
    double want = 300 * log2(r.s);
    cr_assert(fabs(b1 - unscaled - want) <= 1e-6 * b1, "difference %.9g, n·log2(s) %.9g",
              b1 - unscaled, want);
    reg_down(&r);
}

/* The δ search codes quantised candidates of the weights; of huge trained weights one can
 * output NaN (inf·0 in a layer: SGD at lr 10 on a 15-layer net, colgpa), which made σ NaN and
 * aborted train in the Gaussian code ('sigma > 0 && delta > 0'). Such a data code is now past
 * any length (+inf), which the search passes over and occam_dl_compute refuses. */
Test(dl, a_nan_output_makes_the_data_code_infinite_not_an_abort)
{
    reg_rig r;
    reg_up(&r, false);
    const occam_layout *lay = &r.m.lay;
    float *q = malloc(lay->nparams * sizeof(float));
    cr_assert(q);
    memcpy(q, r.m.params, lay->nparams * sizeof(float));
    q[lay->b_off[1]] = NAN;
    double bits = data_bits(&r.m, q, &r.std, 0, r.cfg.mdl.target_precision, 1);
    cr_assert(bits == INFINITY, "%g bits", bits);
    free(q);
    reg_down(&r);
}

/* Every model code computes its data term that way: count and two-part (with the quantised
 * weights it reports), and bits-back, whose expected NLL under q tends to the plain code as σ
 * vanishes and matches the same function coded in original units. */
Test(dl, regression_codes_all_use_the_original_units)
{
    reg_rig r;
    reg_up(&r, false);
    const double delta = r.cfg.mdl.target_precision;
    occam_dl dl;
    occam_error err;
    r.cfg.mdl.model_code = OCCAM_MDL_COUNT;
    cr_assert_eq(occam_dl_compute(&dl, &r.m, &r.cfg.mdl, &r.cfg.noise, &r.std, 2, NULL, &err),
                 OCCAM_OK, "%s", err.msg);
    double plain = data_bits(&r.m, r.m.params, &r.std, 0, delta, 1);
    cr_assert(memcmp(&dl.data_bits, &plain, sizeof plain) == 0, "count: %.17g vs %.17g",
              dl.data_bits, plain);
    r.cfg.mdl.model_code = OCCAM_MDL_TWO_PART;
    float *q = occam_alloc(r.m.lay.nparams, sizeof(float));
    cr_assert_eq(occam_dl_compute(&dl, &r.m, &r.cfg.mdl, &r.cfg.noise, &r.std, 2, q, &err),
                 OCCAM_OK, "%s", err.msg);
    double coded = data_bits(&r.m, q, &r.std, 0, delta, 1);
    cr_assert(memcmp(&dl.data_bits, &coded, sizeof coded) == 0, "two-part: %.17g vs %.17g",
              dl.data_bits, coded);
    cr_assert(fabs(coded - plain) <= 0.05 * plain, "two-part %g, unquantised %g", coded, plain);
    free(q);
    reg_down(&r);

    reg_up(&r, true);
    occam_dl a, b;
    cr_assert_eq(occam_dl_compute(&a, &r.m, &r.cfg.mdl, &r.cfg.noise, &r.std, 1, NULL, &err),
                 OCCAM_OK, "%s", err.msg);
    cr_assert_eq(occam_dl_compute(&b, &r.m_orig, &r.cfg.mdl, &r.cfg.noise, &r.raw, 3, NULL, &err),
                 OCCAM_OK, "%s", err.msg);
    cr_assert(fabs(a.data_bits - plain) <= 1e-6 * plain, "bits-back %.12g, plain %.12g",
              a.data_bits, plain);
    cr_assert(fabs(a.data_bits - b.data_bits) <= 1e-6 * plain,
              "bits-back standardised %.12g, original units %.12g", a.data_bits, b.data_bits);
    reg_down(&r);
}

/* ---- the .occ file cannot lie: checksum, truncation, version, widths --------------------- */

/* A 20-6-3 model's .occ file, and what the tests need of it. */
typedef struct occ_fixture {
    rig r;
    char path[64];
    size_t size;
    uint8_t *good; /* the file's bytes */
} occ_fixture;

static uint8_t *small_occ(rig *r, int hidden, const occam_model_params *declared, char *path,
                          size_t *size);

static void occ_up(occ_fixture *x) { x->good = small_occ(&x->r, 6, NULL, x->path, &x->size); }

static void occ_down(occ_fixture *x)
{
    unlink(x->path);
    free(x->good);
    rig_down(&x->r);
}

/* A small pruned blobs model (20-hidden-3), its two-part code written to a fresh file in path
 * (declared: the model.layers to record, NULL for the model's own). Returns the file's bytes. */
static uint8_t *small_occ(rig *r, int hidden, const occam_model_params *declared, char *path,
                          size_t *size)
{
    occam_error err;
    rig_blobs(r, 300);
    r->cfg.model.layers[1] = hidden;
    r->cfg.train.epochs = 2;
    r->cfg.prune.schedule = OCCAM_PRUNE_ONESHOT;
    r->cfg.prune.target = 0.5;
    r->cfg.prune.finetune_epochs = 1;
    rig_train(r);
    occam_dl dl;
    cr_assert_eq(occam_dl_compute(&dl, &r->m, &r->cfg.mdl, &r->cfg.noise, &r->train, 1, NULL,
                                  &err), OCCAM_OK, "%s", err.msg);
    strcpy(path, "/tmp/occam-occ-XXXXXX");
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    close(fd);
    occam_occ_sizes sz;
    cr_assert_eq(occam_occ_write(path, &r->m, declared, &(occam_occ_data){0}, &dl, &sz, &err), OCCAM_OK, "%s", err.msg);
    FILE *f = fopen(path, "rb");
    cr_assert(f);
    uint8_t *buf = malloc(sz.header_bytes + sz.payload_bytes + 1);
    *size = fread(buf, 1, sz.header_bytes + sz.payload_bytes + 1, f);
    fclose(f);
    cr_assert_eq(*size, sz.header_bytes + sz.payload_bytes);
    return buf;
}


/* Reads path into a fresh model of widths w: the status, the message in err. A refusal must
 * leave the model untouched. */
static int read_into(const char *path, const int *w, int nw, occam_error *err)
{
    occam_model_params p = {.nlayers = nw, .activation = OCCAM_ACT_RELU};
    memcpy(p.layers, w, sizeof(int) * (size_t)nw);
    occam_model m;
    cr_assert_eq(occam_model_create(&m, &p, OCCAM_TASK_CLASSIFY, err), OCCAM_OK);
    for (size_t i = 0; i < m.lay.nparams; i++) m.params[i] = 0.25f;
    occam_model before = m;
    int rc = occam_occ_read(path, &m, err);
    if (rc != OCCAM_OK) {
        cr_assert(memcmp(&m, &before, sizeof m) == 0, "a refused file changed the model");
        for (size_t i = 0; i < m.lay.nparams; i++) cr_assert_eq(m.params[i], 0.25f);
    }
    occam_model_free(&m);
    return rc;
}

Test(dl, occ_checksum_is_crc64_xz)
{
    cr_assert_eq(occam_occ_checksum("123456789", 9), 0x995DC9BBDF1939FAull);
    cr_assert_eq(occam_occ_checksum("", 0), 0);
}

/* Every single-bit flip anywhere in the file (magic, version, length, widths, per-layer
 * fields, payload, the checksum itself) is refused with OCCAM_ERR_INPUT naming the file. */
Test(dl, occ_every_single_bit_flip_is_refused, .timeout = 120)
{
    occ_fixture x;
    occ_up(&x);
    const int w[3] = {20, 6, 3};
    occam_error err = {0};
    cr_assert_eq(read_into(x.path, w, 3, &err), OCCAM_OK, "%s", err.msg);
    uint8_t *bad = malloc(x.size);
    int refused = 0, by_crc = 0;
    for (size_t i = 0; i < x.size; i++)
        for (int b = 0; b < 8; b++) {
            memcpy(bad, x.good, x.size);
            bad[i] ^= (uint8_t)(1u << b);
            tmpdir_spit(x.path, bad, x.size);
            err = (occam_error){0};
            int rc = read_into(x.path, w, 3, &err);
            cr_assert_eq(rc, OCCAM_ERR_INPUT, "byte %zu bit %d: status %d (%s)", i, b, rc,
                         err.msg);
            cr_assert(!strncmp(err.msg, x.path, strlen(x.path)), "byte %zu bit %d: %s", i, b,
                      err.msg);
            refused++;
            by_crc += strstr(err.msg, "checksum mismatch") != NULL;
        }
    cr_assert_eq(refused, (int)(8 * x.size));
    /* all but the magic, version and length fields' flips are the checksum's to catch, and
     * one of the version's: a flip of version 9 gives 8, which is read (and its checksum then
     * fails), or 1, 11, 13, 25 or more, none of them read */
    cr_assert_eq(by_crc, (int)(8 * (x.size - 20)) + 1, "%d of %zu flips by the checksum",
                 by_crc, 8 * x.size);
    cr_log_info("%d single-bit flips of a %zu-byte .occ file: all refused", refused, x.size);
    free(bad);
    occ_down(&x);
}

/* Every proper prefix is refused as truncated, with the sizes in the message. */
Test(dl, occ_truncation_at_every_length_says_truncated)
{
    occ_fixture x;
    occ_up(&x);
    const int w[3] = {20, 6, 3};
    for (size_t n = 0; n < x.size; n++) {
        tmpdir_spit(x.path, x.good, n);
        occam_error err = {0};
        cr_assert_eq(read_into(x.path, w, 3, &err), OCCAM_ERR_INPUT, "%zu bytes: %s", n,
                     err.msg);
        char want[128];
        if (n < 20)
            snprintf(want, sizeof want, ": truncated: %zu bytes, an .occ file has at least 28", n);
        else
            snprintf(want, sizeof want, ": truncated: the file has %zu bytes, its header says %zu",
                     n, x.size);
        cr_assert(strstr(err.msg, want), "%zu bytes: got '%s', want '%s'", n, err.msg, want);
    }
    occ_down(&x);
}

/* A file's first 20 bytes (magic, version, length) are checked against its size before the rest
 * is read: a 2 GB file was read whole to be refused, and one larger than the memory was "out of
 * memory" (a runtime failure, exit 1) for a bad file. Sparse files of 1 TiB: no memory holds
 * them. */
Test(dl, occ_a_huge_file_is_refused_from_its_first_bytes)
{
    char path[64];
    strcpy(path, "/tmp/occam-occ-XXXXXX");
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    close(fd);
    const int w[3] = {20, 6, 3};
    const off_t tib = (off_t)1 << 40;
    cr_assert_eq(truncate(path, tib), 0); /* zeros */
    occam_error err = {0};
    cr_assert_eq(read_into(path, w, 3, &err), OCCAM_ERR_INPUT, "%s", err.msg);
    cr_assert(strstr(err.msg, ": not an occam .occ file"), "%s", err.msg);
    /* "OCCAMMDL", version 9, a length of 28 bytes (little-endian) */
    uint8_t head[20] = {'O', 'C', 'C', 'A', 'M', 'M', 'D', 'L', 9, 0, 0, 0, 28};
    tmpdir_spit(path, head, sizeof head);
    cr_assert_eq(truncate(path, tib), 0);
    cr_assert_eq(read_into(path, w, 3, &err), OCCAM_ERR_INPUT, "%s", err.msg);
    cr_assert(strstr(err.msg, ": the file has 1099511627776 bytes, its header says 28"), "%s",
              err.msg);
    unlink(path);
}

/* Writes x's file with bytes [at, at + n) replaced, and reads it into a 20-6-3 model: the
 * status, which must be a refusal, and the message in err. */
static void expect_refused(const occ_fixture *x, size_t at, const void *with, size_t n,
                           size_t size, const char *want)
{
    uint8_t *bad = malloc(size > x->size ? size : x->size);
    memcpy(bad, x->good, x->size);
    memcpy(bad + at, with, n);
    tmpdir_spit(x->path, bad, size);
    free(bad);
    occam_error err = {0};
    cr_assert_eq(read_into(x->path, (const int[]){20, 6, 3}, 3, &err), OCCAM_ERR_INPUT, "%s",
                 err.msg);
    cr_assert(strstr(err.msg, want), "got '%s', want '%s'", err.msg, want);
}

/* Writes a valid checksum over bytes [0, size - 8) of an .occ file's bytes into its last 8: a
 * forged file, which only the decoder's own checks can refuse. */
static void occ_reseal(uint8_t *buf, size_t size)
{
    uint64_t crc = occam_occ_checksum(buf, size - 8);
    for (int b = 0; b < 8; b++) buf[size - 8 + b] = (uint8_t)(crc >> (8 * b));
}

Test(dl, occ_magic_version_and_length_messages)
{
    occ_fixture x;
    occ_up(&x);
    expect_refused(&x, 0, "X", 1, x.size, ": not an occam .occ file");
    expect_refused(&x, 8, "\x01", 1, x.size, ": .occ format version 1 is not supported (this "
                   "occam reads versions 3 to 9; compress the model again)"); /* the old format */
    expect_refused(&x, 8, "\x0a", 1, x.size, ": .occ format version 10 is not supported");
    char want[128];
    snprintf(want, sizeof want, ": the file has %zu bytes, its header says %zu (extra bytes",
             x.size + 4, x.size);
    expect_refused(&x, x.size, "junk", 4, x.size + 4, want);

    /* a checksum that matches damaged contents is no longer the writer's: the decoder still
     * validates (here: a width of 0) */
    uint8_t *bad = malloc(x.size);
    memcpy(bad, x.good, x.size);
    memset(bad + 24, 0, 4); /* width[0] */
    occ_reseal(bad, x.size);
    expect_refused(&x, 0, bad, x.size, x.size, ": bad width");
    /* data.normalize after the widths, task and activation: 24 + 2 * 3 * 4 + 8 */
    memcpy(bad, x.good, x.size);
    bad[56] = 7;
    occ_reseal(bad, x.size);
    expect_refused(&x, 0, bad, x.size, x.size, ": the header's data scaling is damaged "
                   "(data.normalize 7, data.normalize_targets 0)");
    /* the inputs' image width after them (version 8): it must divide the 20 inputs */
    memcpy(bad, x.good, x.size);
    bad[64] = 7;
    occ_reseal(bad, x.size);
    expect_refused(&x, 0, bad, x.size, x.size, ": the header's image width 7 does not divide "
                   "the 20 inputs (header damaged)");
    memcpy(bad, x.good, x.size);
    bad[66] = 1; /* 65,536 */
    occ_reseal(bad, x.size);
    expect_refused(&x, 0, bad, x.size, x.size, ": the header's image width 65536 does not");
    /* the training rows after it (version 9): u64 count, u32 CRC; 0 rows is "unknown", which
     * has no CRC */
    memcpy(bad, x.good, x.size);
    memset(bad + 68, 0, 8);
    bad[76] = 0xab;
    occ_reseal(bad, x.size);
    expect_refused(&x, 0, bad, x.size, x.size, ": the header's training rows are damaged (0 "
                   "rows with checksum ");
    free(bad);
    occ_down(&x);
}

/* A forged header (checksum resealed) that declares 2^24 quantisation bins for a layer made the
 * reader build and decode with a table of 2^24 bins, seconds per table (a minute with more
 * layers), before it found the stream damaged. Now no table has more than 2^16 symbols
 * (version 5 groups the bins of a wider span), a version 3 or 4 file whose tables (a symbol
 * per bin) would take more than 2^24 prior evaluations in all is refused from the header, and
 * a bias range that the biases' own Gaussian (fitted to them) cannot reach is refused too. A
 * range the writer could have written still loads. */
Test(dl, occ_bin_ranges_the_file_cannot_hold_are_refused_from_the_header)
{
    occ_fixture x;
    occ_up(&x);
    const int w[3] = {20, 6, 3};
    /* per layer after the front (64 bytes up to version 7, 68 in version 8, which adds the
     * image width, 80 in version 9, which adds the training rows): u64 k, u8 components, u8
     * pinned, i32 qlo, qhi, bqlo, bqhi; version 4 is version 5 with a table symbol per bin,
     * the same bytes for spans of at most 2^16 bins; the version 9 file becomes one of them
     * without its image width and training rows */
    static const struct {
        size_t lo, hi;
        int bins;
        uint8_t version;
        const char *want;
    } cases[] = {
        {64 + 10, 64 + 14, 1 << 24, 4, "this version 4 file's tables have an entry per "
                                       "quantisation bin and take"},
        {64 + 26 + 18, 64 + 26 + 22, 1 << 16, 5, "layer 1's quantisation range reaches past "
                                                 "what its values' Gaussian allows (header "
                                                 "damaged)"},
    };
    uint8_t *bad = malloc(x.size);
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        size_t size = x.size - 16;
        memcpy(bad, x.good, 64);
        memcpy(bad + 64, x.good + 80, size - 64);
        for (int b = 0; b < 8; b++) bad[12 + b] = (uint8_t)((uint64_t)size >> (8 * b));
        bad[8] = cases[c].version;
        int32_t lo;
        memcpy(&lo, bad + cases[c].lo, 4);
        int32_t hi = lo + cases[c].bins - 1;
        memcpy(bad + cases[c].hi, &hi, 4);
        occ_reseal(bad, size);
        tmpdir_spit(x.path, bad, size);
        occam_error err = {0};
        cr_assert_eq(read_into(x.path, w, 3, &err), OCCAM_ERR_INPUT, "case %zu: %s", c, err.msg);
        cr_assert(!strncmp(err.msg, x.path, strlen(x.path)) && strstr(err.msg, cases[c].want),
                  "case %zu: got '%s', want '%s'", c, err.msg, cases[c].want);
    }
    /* the bound is not tight: one more bin either way is a range the stream still holds */
    memcpy(bad, x.good, x.size);
    int32_t hi;
    memcpy(&hi, bad + 80 + 14, 4);
    hi++;
    memcpy(bad + 80 + 14, &hi, 4);
    occ_reseal(bad, x.size);
    tmpdir_spit(x.path, bad, x.size);
    occam_error err = {0};
    int rc = read_into(x.path, w, 3, &err);
    cr_assert(rc == OCCAM_OK || !strstr(err.msg, "quantisation range"), "%s", err.msg);
    free(bad);

    /* a version 5 span of 2^31 bins has a table of 2^16 symbols (2^15 bins each): the stream
     * then decodes to other bins, or is found damaged */
    uint8_t *big = malloc(x.size);
    memcpy(big, x.good, x.size);
    int32_t lo = -(1 << 30), top = (1 << 30) - 1;
    memcpy(big + 80 + 10, &lo, 4);
    memcpy(big + 80 + 14, &top, 4);
    occ_reseal(big, x.size);
    tmpdir_spit(x.path, big, x.size);
    err = (occam_error){0};
    rc = read_into(x.path, w, 3, &err);
    cr_assert(rc == OCCAM_OK || (rc == OCCAM_ERR_INPUT && strstr(err.msg, x.path)), "%d: %s", rc,
              err.msg);
    free(big);
    occ_down(&x);
}

/* Version 3 is version 4 without the two scaling fields after the activation, version 4 is
 * version 5 with a table symbol per bin, and version 5 is version 6 with the plain mask code.
 * Such files are read, to the same model, with the scaling of version 3 unknown: a format change
 * must not lose the compressed models users have (it refused them, 'compress the model again',
 * which needs the model the .occ was made from). tests/data/v5_pruned.occ was written by
 * occam's version 5 writer (the commit before version 6) from tests/data/v5_pruned.safetensors,
 * a 20-6-3 blobs model pruned to 80%, by 'occam train configs/blobs.ini S --save ST' and
 * 'occam compress configs/blobs.ini S --checkpoint ST --out OCC', S being '--set
 * data.spread=0.6 --set data.samples=300 --set model.layers=20,6,3 --set train.epochs=2 --set
 * prune.schedule=oneshot --set prune.target=0.8 --set prune.finetune_epochs=1 --threads 1'. */
#define V5_OCC "tests/data/v5_pruned.occ"
#define V6_OCC "tests/data/v6_pruned.occ"
/* written by the version 7 writer (commit 00cd171) from the same checkpoint, same command */
#define V7_OCC "tests/data/v7_pruned.occ"

static uint8_t *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    cr_assert(f, "%s", path);
    uint8_t *buf = malloc(1 << 16);
    *size = fread(buf, 1, 1 << 16, f);
    fclose(f);
    cr_assert(*size > 0 && *size < (1 << 16));
    return buf;
}

static void read_20_6_3(const char *path, occam_model *m)
{
    occam_model_params mp = {.nlayers = 3, .layers = {20, 6, 3}, .activation = OCCAM_ACT_RELU};
    occam_error err = {0};
    cr_assert_eq(occam_model_create(m, &mp, OCCAM_TASK_CLASSIFY, &err), OCCAM_OK);
    cr_assert_eq(occam_occ_read(path, m, &err), OCCAM_OK, "%s: %s", path, err.msg);
    cr_assert(m->mask);
}

static void same_model(const occam_model *a, const occam_model *b)
{
    cr_assert_eq(a->lay.nparams, b->lay.nparams);
    cr_assert(memcmp(a->params, b->params, a->lay.nparams * sizeof(float)) == 0);
    cr_assert(memcmp(a->mask, b->mask, a->lay.nparams) == 0);
}

/* The version 5, 6 and 7 files decode to the very model version 8 codes from the same weights
 * (blobs: no image grid, so version 8 sends what version 7 sent, and the version 7 file reads
 * to it exactly): the same quantised weights and the same mask, sent three ways, and the same
 * biases but for those versions 7 and 8 do not send (units without an outgoing weight: 0,
 * which no output can tell). tests/data/v6_pruned.occ was written by the version 6 writer (commit 65b0d99) from the
 * same checkpoint with the same command. */
Test(dl, version_5_6_and_7_files_read_to_the_model_version_8_codes)
{
    rig r;
    occam_error err;
    rig_blobs(&r, 300);
    r.cfg.model.layers[1] = 6;
    rig_load(&r);
    cr_assert_eq(occam_checkpoint_load("tests/data/v5_pruned.safetensors", &r.m, &err), OCCAM_OK,
                 "%s", err.msg);
    occam_dl dl;
    cr_assert_eq(occam_dl_compute(&dl, &r.m, &r.cfg.mdl, &r.cfg.noise, &r.train, 1, NULL, &err),
                 OCCAM_OK, "%s", err.msg);
    char path[] = "/tmp/occam-occ7-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    close(fd);
    cr_assert_eq(occam_occ_write(path, &r.m, NULL, &(occam_occ_data){0}, &dl, NULL, &err),
                 OCCAM_OK, "%s", err.msg);
    occam_model a, b, c, d;
    read_20_6_3(path, &a);
    read_20_6_3(V5_OCC, &b);
    read_20_6_3(V6_OCC, &c);
    read_20_6_3(V7_OCC, &d);
    same_model(&b, &c);
    same_model(&a, &d); /* version 7: the same code as version 8 without a grid */
    cr_assert(memcmp(a.mask, b.mask, a.lay.nparams) == 0);
    const occam_layout *lay = &a.lay;
    int unsent = 0;
    uint8_t *needs = malloc(lay->nparams);
    occam_mask_bias_needed(lay, a.mask, needs);
    for (int l = 0; l < lay->nlayers; l++) {
        size_t n = (size_t)lay->width[l] * lay->width[l + 1];
        cr_assert(memcmp(a.params + lay->w_off[l], b.params + lay->w_off[l],
                         n * sizeof(float)) == 0, "layer %d weights", l);
        const uint8_t *need = needs + lay->b_off[l];
        for (int o = 0; o < lay->width[l + 1]; o++) {
            float want = need[o] ? b.params[lay->b_off[l] + (size_t)o] : 0.0f;
            cr_assert_eq(a.params[lay->b_off[l] + (size_t)o], want, "layer %d bias %d", l, o);
            unsent += !need[o];
        }
    }
    cr_assert(unsent > 0, "the fixture has a hidden unit without an outgoing weight");
    free(needs);
    unlink(path);
    occam_model_free(&a);
    occam_model_free(&b);
    occam_model_free(&c);
    occam_model_free(&d);
    rig_down(&r);
}

/* Fills 64 KB of the stack below the caller with `v`: what a later call finds in locals it
 * forgot to set. */
__attribute__((noinline)) static void dirty_stack(uint8_t v)
{
    volatile uint8_t junk[1 << 16];
    for (size_t i = 0; i < sizeof junk; i++) junk[i] = v;
}

/* A version 8 file whose first layer was sent by both grid codes, kept so that a later format
 * still reads it: tests/data/v8_432_grid.occ, written by `build/fuzz_seed_grid` (fuzz/seed_grid.c)
 * at commit 9e2f0b6: a 4-3-2 model on 2 × 2 images whose unit 0 keeps the top row (+, +), unit
 * 1 the left column (−, −) and unit 2 the diagonal (+, −), each weight 0.4 + 0.1·i in size,
 * decoding to exactly the bins it was written with. */
Test(dl, a_version_8_grid_coded_file_reads_to_its_model)
{
    occam_model_params mp = {.nlayers = 3, .layers = {4, 3, 2}, .activation = OCCAM_ACT_RELU};
    occam_model m;
    occam_error err = {0};
    cr_assert_eq(occam_model_create(&m, &mp, OCCAM_TASK_CLASSIFY, &err), OCCAM_OK);
    cr_assert_eq(occam_occ_read("tests/data/v8_432_grid.occ", &m, &err), OCCAM_OK, "%s",
                 err.msg);
    /* as written: bins 2 and 3 of the step δ = 0x1.0482eap-2 (0.4, 0.5 and 0.6 round to
     * 2 bins, 0.7 to 3) */
    static const int keep[3][4] = {{1, 1, 0, 0}, {1, 0, 1, 0}, {1, 0, 0, 1}};
    static const float want[3][4] = {{0x1.0482eap-1f, 0x1.0482eap-1f, 0, 0},
                                     {-0x1.0482eap-1f, 0, -0x1.0482eap-1f, 0},
                                     {0x1.0482eap-1f, 0, 0, -0x1.86c46p-1f}};
    for (int o = 0; o < 3; o++)
        for (int i = 0; i < 4; i++) {
            size_t a = m.lay.w_off[0] + (size_t)o * 4 + (size_t)i;
            cr_assert_eq(m.mask[a], keep[o][i], "unit %d input %d", o, i);
            cr_assert_eq(m.params[a], want[o][i], "unit %d input %d: %a, want %a", o, i,
                         m.params[a], want[o][i]);
        }
    occam_task task;
    occam_occ_data data;
    cr_assert_eq(occam_occ_read_data("tests/data/v8_432_grid.occ", &task, &data, &err),
                 OCCAM_OK);
    cr_assert(data.grid_known && data.grid_w == 2);
    cr_assert(!data.rows_known, "a version 8 file does not record its training rows");
    occam_model_free(&m);
}

/* Version 9 records the training rows the model was trained on (their count and
 * occam_dataset_crc), or that they are unknown; the file is the version 8 one with those 12
 * bytes after its image width, and reads to the same model either way. */
Test(dl, occ_training_rows_round_trip_and_version_8_is_the_same_model_without_them)
{
    occ_fixture x;
    occ_up(&x);
    occam_dl dl;
    occam_error err = {0};
    cr_assert_eq(occam_dl_compute(&dl, &x.r.m, &x.r.cfg.mdl, &x.r.cfg.noise, &x.r.train, 1,
                                  NULL, &err), OCCAM_OK, "%s", err.msg);
    const occam_occ_data cases[] = {
        {.known = true, .rows_known = true, .rows = 300, .rows_crc = 0x8c1e07a2u},
        {.known = true, .rows_known = true, .rows = (uint64_t)1 << 40, .rows_crc = 0xffffffffu},
        {.known = true, .rows_known = true, .rows = 7, .rows_crc = 0},
        {.known = true, .rows_known = false, .rows = 300, .rows_crc = 5}, /* unknown: not sent */
        {.known = true, .rows_known = true, .rows = 0, .rows_crc = 5},    /* no rows: unknown */
    };
    occam_model a, b;
    read_20_6_3(x.path, &a);
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        occam_occ_sizes sz;
        cr_assert_eq(occam_occ_write(x.path, &x.r.m, NULL, &cases[c], &dl, &sz, &err), OCCAM_OK,
                     "%s", err.msg);
        cr_assert_eq(sz.header_bytes, 80 + 2 * 26 + 8, "header %zu bytes", sz.header_bytes);
        occam_task task;
        occam_occ_data d;
        cr_assert_eq(occam_occ_read_data(x.path, &task, &d, &err), OCCAM_OK, "%s", err.msg);
        bool known = cases[c].rows_known && cases[c].rows;
        cr_assert_eq(d.rows_known, known, "case %zu", c);
        if (known)
            cr_assert(d.rows == cases[c].rows && d.rows_crc == cases[c].rows_crc,
                      "case %zu: %llu:%08x", c, (unsigned long long)d.rows, (unsigned)d.rows_crc);
        read_20_6_3(x.path, &b);
        same_model(&a, &b);
        occam_model_free(&b);
        /* as version 8: the same bytes less the 12 of the training rows */
        size_t size;
        uint8_t *v9 = slurp(x.path, &size);
        cr_assert_eq(v9[8], 9);
        uint8_t *v8 = malloc(size);
        size_t n8 = size - 12;
        memcpy(v8, v9, 68);
        memcpy(v8 + 68, v9 + 80, size - 80);
        v8[8] = 8;
        for (int k = 0; k < 8; k++) v8[12 + k] = (uint8_t)((uint64_t)n8 >> (8 * k));
        occ_reseal(v8, n8);
        tmpdir_spit(x.path, v8, n8);
        cr_assert_eq(occam_occ_read_data(x.path, &task, &d, &err), OCCAM_OK, "%s", err.msg);
        cr_assert(d.known && d.grid_known && !d.rows_known, "case %zu", c);
        read_20_6_3(x.path, &b);
        same_model(&a, &b);
        occam_model_free(&b);
        free(v8);
        free(v9);
    }
    occam_model_free(&a);
    occ_down(&x);
}

Test(dl, versions_3_and_4_read_to_the_same_model_with_version_3_scaling_unknown)
{
    size_t size;
    uint8_t *v5 = slurp(V5_OCC, &size);
    size_t n3 = size - 8;
    uint8_t *v3 = malloc(size);
    memcpy(v3, v5, 56); /* magic, version, length, L, widths, declared, task, activation */
    memcpy(v3 + 56, v5 + 64, size - 64);
    v3[8] = 3;
    for (int b = 0; b < 8; b++) v3[12 + b] = (uint8_t)((uint64_t)n3 >> (8 * b));
    occ_reseal(v3, n3);
    char p3[] = "/tmp/occam-occ3-XXXXXX";
    int fd = mkstemp(p3);
    cr_assert(fd >= 0);
    close(fd);
    tmpdir_spit(p3, v3, n3);
    occam_model a, b;
    occam_error err = {0};
    read_20_6_3(V5_OCC, &a);
    read_20_6_3(p3, &b);
    same_model(&a, &b);
    occam_model_free(&b);
    /* again on a stack left full of junk: the header fields version 3 does not have (the
     * scaling, the image width) must not be read from it (the image width was, until the
     * reader zeroed its header first, and a version 3 file then decoded to another model) */
    for (int junk = 0; junk < 4; junk++) {
        dirty_stack((uint8_t)(0x5A + 0x33 * junk));
        read_20_6_3(p3, &b);
        same_model(&a, &b);
        occam_model_free(&b);
    }
    occam_task task;
    occam_occ_data d5, d3;
    cr_assert_eq(occam_occ_read_data(V5_OCC, &task, &d5, &err), OCCAM_OK, "%s", err.msg);
    cr_assert(d5.known);
    cr_assert_eq(occam_occ_read_data(p3, &task, &d3, &err), OCCAM_OK, "%s", err.msg);
    cr_assert(!d3.known);
    cr_assert_eq(task, OCCAM_TASK_CLASSIFY);
    /* version 4 is version 5 with a table symbol per bin, the same bytes for spans of at most
     * 2^16 bins: the same file as version 4 reads to the same model, scaling known */
    uint8_t *v4 = malloc(size);
    memcpy(v4, v5, size);
    v4[8] = 4;
    occ_reseal(v4, size);
    tmpdir_spit(p3, v4, size);
    read_20_6_3(p3, &b);
    same_model(&a, &b);
    occam_model_free(&b);
    cr_assert_eq(occam_occ_read_data(p3, &task, &d3, &err), OCCAM_OK, "%s", err.msg);
    cr_assert(d3.known);
    free(v4);
    /* a flipped bit in a version 3 file is still caught by its checksum */
    v3[n3 - 9] ^= 1;
    tmpdir_spit(p3, v3, n3);
    cr_assert_eq(occam_occ_read(p3, &a, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "checksum mismatch"), "%s", err.msg);
    unlink(p3);
    free(v3);
    free(v5);
    occam_model_free(&a);
}

/* Widths: the config's exactly, or narrower hidden layers when the file says it was pruned
 * from exactly the config's model.layers. */
Test(dl, occ_widths_must_be_the_configs_or_neuron_pruned_from_them)
{
    rig r;
    char path[64];
    size_t size;
    occam_model_params declared = {.layers = {20, 6, 3}, .nlayers = 3};
    free(small_occ(&r, 4, &declared, path, &size));
    occam_error err = {0};
    cr_assert_eq(read_into(path, (const int[]){20, 6, 3}, 3, &err), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(read_into(path, (const int[]){20, 4, 3}, 3, &err), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(read_into(path, (const int[]){20, 8, 3}, 3, &err), OCCAM_ERR_INPUT);
    char want[256];
    snprintf(want, sizeof want, "%s: layer 1 has 4 units in the file but model.layers says 8",
             path);
    cr_assert(strstr(err.msg, want), "got '%s', want '%s'", err.msg, want);
    cr_assert_eq(read_into(path, (const int[]){20, 3, 3}, 3, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "layer 1 has 4 units in the file but model.layers says 3"), "%s",
              err.msg);
    cr_assert_eq(read_into(path, (const int[]){20, 6, 6, 3}, 4, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "the file has 2 weight layers, model.layers has 3"), "%s", err.msg);
    unlink(path);
    rig_down(&r);

    /* without the declaration the same narrower model fits only its own widths */
    free(small_occ(&r, 4, NULL, path, &size));
    cr_assert_eq(read_into(path, (const int[]){20, 4, 3}, 3, &err), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(read_into(path, (const int[]){20, 6, 3}, 3, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "layer 1 has 4 units in the file but model.layers says 6"), "%s",
              err.msg);
    unlink(path);
    rig_down(&r);
}

/* A mixture fit with π0 ≈ 0 (no active weight near zero: an MDL-pruned layer of 3 weights)
 * rounds π1 = 1/3 and π2 = 2/3 to float32, which add to 1 + 3e-8: π0 = 1 − Σ was −3e-8, a
 * negative mixture weight in the code, the .occ decoder and the report (which `occam plot`
 * then refused). It stops at 0; a sum below 1 still leaves π0 its exact remainder. */
Test(dl, prior_round_never_makes_a_negative_weight)
{
    occam_prior p = {.k = 3, .pinned0 = true, .pi = {0.0, 1.0 / 3.0, 2.0 / 3.0},
                     .mu = {0.0, -3.2, 3.0}, .sigma = {2.9, 1e-6, 0.74}};
    cr_assert_gt((double)(float)p.pi[1] + (double)(float)p.pi[2], 1.0); /* the premise */
    occam_dl_prior_round(&p);
    cr_assert_eq(p.pi[0], 0.0, "pi0 = %g", p.pi[0]);
    cr_assert_eq(p.pi[1], (double)(float)(1.0 / 3.0));
    occam_prior q = {.k = 2, .pinned0 = true, .pi = {0.75, 0.25}, .mu = {1.0, 2.0},
                     .sigma = {1.0, 2.0}};
    occam_dl_prior_round(&q);
    cr_assert_eq(q.pi[0], 0.75);
    cr_assert_eq(q.mu[0], 0.0);
}

/* Each layer's bias step is the one the whole net's code picks: the shift j in 0..8 that
 * minimises the biases' bits plus the data bits on the search rows (scaled to the set), with
 * the earlier layers' biases as chosen and the later ones' as trained. The search now takes a
 * layer's product once and starts each candidate's data code after it; the reference here runs
 * the whole net per candidate, as the search did before. */
Test(dl, bias_steps_minimise_the_whole_net_code)
{
    rig r;
    rig_blobs(&r, 600);
    r.cfg.model.nlayers = 4;
    memcpy(r.cfg.model.layers, (int[]){20, 30, 20, 3}, 4 * sizeof(int));
    r.cfg.train.epochs = 3;
    r.cfg.mdl.search_rows = 400;
    r.cfg.mdl.weight_precision = 1.0; /* a coarse base: the biases want finer steps */
    rig_train(&r);
    const occam_layout *lay = &r.m.lay;
    float *q = malloc(lay->nparams * sizeof(float)), *ref = malloc(lay->nparams * sizeof(float));
    occam_dl a;
    occam_error err;
    cr_assert_eq(occam_dl_compute(&a, &r.m, &r.cfg.mdl, &r.cfg.noise, &r.train, 2, q, &err),
                 OCCAM_OK, "%s", err.msg);
    double scale = (double)r.train.n / 400.0;
    int shifted = 0;
    for (int l = 0; l < lay->nlayers; l++) {
        size_t nb = (size_t)lay->width[l + 1];
        memcpy(ref, q, lay->nparams * sizeof(float));
        for (int k = l + 1; k < lay->nlayers; k++) /* later layers: as trained */
            memcpy(ref + lay->b_off[k], r.m.params + lay->b_off[k],
                   (size_t)lay->width[k + 1] * sizeof(float));
        int want = 0;
        double best = INFINITY;
        for (int j = 0; j <= 8; j++) {
            double d = (double)(float)ldexp(a.layer[l].delta, -j), data;
            occam_codes_quantize(ref + lay->b_off[l], r.m.params + lay->b_off[l], NULL, nb, d);
            cr_assert_eq(occam_dl_data_bits(&r.m, ref, &r.train, 400,
                                            r.cfg.mdl.target_precision, 1, &data), OCCAM_OK);
            double bits = occam_codes_value_bits(r.m.params + lay->b_off[l], NULL, nb, d,
                                                 &a.layer[l].bias_prior, 1) + 72.0;
            if (j == 0 || bits + data * scale < best) {
                best = bits + data * scale;
                want = j;
            }
        }
        cr_assert_eq(a.layer[l].bias_shift, want, "layer %d: shift %d, the whole net's %d", l,
                     a.layer[l].bias_shift, want);
        cr_assert_float_eq(a.layer[l].bias_delta, (double)(float)ldexp(a.layer[l].delta, -want),
                           0.0);
        shifted += want > 0;
    }
    cr_assert_geq(shifted, 2, "the case should move some layers' biases off the base step");
    free(q), free(ref);
    rig_down(&r);
}

/* The data code where it is known in closed form, at 1 and 3 threads and over a row prefix:
 * a classifier whose logits are all 0 costs log2 k bits a row (k = 2 and 5); a regression that
 * fits constant targets exactly (zero weights, the bias the target: residuals 0, two targets)
 * sends σ = δ as a float32 (32 bits), then ½ log2(2π) + log2(σ/δ) bits a residual. */
Test(dl, data_bits_of_uniform_logits_and_of_a_perfect_fit)
{
    enum { N = 2500 }; /* more than one chunk of rows */
    occam_error err;
    for (int task = 0; task < 2; task++)
        for (int k = 2; k <= 5; k += 3) {
            occam_model_params mp = {.nlayers = 3, .layers = {4, 3, k}, .activation = OCCAM_ACT_TANH};
            occam_task tk = task ? OCCAM_TASK_REGRESS : OCCAM_TASK_CLASSIFY;
            occam_model m;
            cr_assert_eq(occam_model_create(&m, &mp, tk, &err), OCCAM_OK, "%s", err.msg);
            memset(m.params, 0, m.lay.nparams * sizeof(float));
            occam_dataset ds = {.n = N, .d = 4, .x = occam_alloc(N * 4, sizeof(float))};
            occam_rng r = occam_rng_seed(2, 2);
            for (size_t i = 0; i < N * 4; i++) ds.x[i] = (float)occam_rng_normal(&r);
            const float target[5] = {3.25f, -1e3f, 0.0f, 7.0f, 1e-3f};
            if (task) {
                ds.targets = k;
                ds.y = occam_alloc(N * (size_t)k, sizeof(float));
                for (size_t i = 0; i < N * (size_t)k; i++) ds.y[i] = target[i % (size_t)k];
                for (int j = 0; j < k; j++) m.params[m.lay.b_off[1] + j] = target[j];
            } else {
                ds.classes = k;
                ds.label = occam_alloc(N, sizeof(int32_t));
                for (size_t i = 0; i < N; i++) ds.label[i] = (int32_t)(i % (size_t)k);
            }
            const double delta = 0.01;
            const size_t rows[2] = {0, 7};
            for (int ri = 0; ri < 2; ri++) {
                double n = (double)(rows[ri] ? rows[ri] : N), want;
                if (task)
                    want = 32 + n * k * (0.5 * log2(2 * M_PI) + log2((double)(float)delta / delta));
                else
                    want = n * log2((double)k);
                for (int t = 1; t <= 3; t += 2) {
                    double got = data_bits(&m, m.params, &ds, rows[ri], delta, t);
                    cr_assert(fabs(got - want) <= 1e-12 * want, "task %d k %d rows %zu T %d: %.17g vs %.17g",
                              task, k, rows[ri], t, got, want);
                }
            }
            occam_dataset_free(&ds);
            occam_model_free(&m);
        }
}

/* A random net for random_nets_round_trip_through_the_file: 1 to 4 weight layers of 1 to 60
 * units (the inputs sometimes an image), masks dense, empty, random, N:M, with a dead unit or a
 * single weight, or none at all; weights with exact zeros, denormals, one value for a whole
 * layer, or every bias equal; noisy or not; either prior; steps searched or fixed. */
static void random_net(occam_rng *g, occam_model *m, occam_dataset *ds, occam_dl_params *p,
                       occam_noise_params *np)
{
    occam_error err;
    occam_config cfg;
    occam_config_defaults(&cfg);
    int L = 1 + (int)occam_rng_below(g, 4), gw = 0;
    cfg.model.nlayers = L + 1;
    for (int l = 0; l <= L; l++)
        cfg.model.layers[l] = occam_rng_below(g, 4) ? 1 + (int)occam_rng_below(g, 60) : 1;
    if (occam_rng_below(g, 3) == 0) {
        gw = 1 + (int)occam_rng_below(g, 8);
        cfg.model.layers[0] = gw * (1 + (int)occam_rng_below(g, 8));
    }
    occam_task task = occam_rng_below(g, 2) ? OCCAM_TASK_CLASSIFY : OCCAM_TASK_REGRESS;
    cr_assert_eq(occam_model_create(m, &cfg.model, task, &err), OCCAM_OK);
    const occam_layout *lay = &m->lay;
    int outs = lay->width[L];
    *ds = (occam_dataset){.n = 1 + occam_rng_below(g, 60), .d = (size_t)lay->width[0],
                          .grid_w = gw};
    ds->x = occam_alloc(ds->n * ds->d, sizeof(float));
    cr_assert(ds->x);
    for (size_t i = 0; i < ds->n * ds->d; i++)
        ds->x[i] = occam_rng_below(g, 3) ? (float)occam_rng_normal(g) : 0.0f;
    if (task == OCCAM_TASK_CLASSIFY) {
        ds->classes = outs;
        ds->label = malloc(ds->n * sizeof *ds->label);
        for (size_t i = 0; i < ds->n; i++) ds->label[i] = (int32_t)occam_rng_below(g, outs);
    } else {
        ds->targets = outs;
        ds->y = malloc(ds->n * (size_t)outs * sizeof *ds->y);
        for (size_t i = 0; i < ds->n * (size_t)outs; i++) ds->y[i] = (float)occam_rng_normal(g);
    }
    double scale = pow(10.0, -3.0 + 4.0 * occam_rng_uniform(g));
    int wmode = (int)occam_rng_below(g, 5); /* plain, zeros, denormals, one value, equal biases */
    for (int l = 0; l < L; l++) {
        size_t n = (size_t)lay->width[l] * lay->width[l + 1];
        float one = (float)(scale * occam_rng_normal(g)), *w = m->params + lay->w_off[l];
        for (size_t i = 0; i < n; i++) {
            double v = scale * occam_rng_normal(g);
            if (wmode == 1 && occam_rng_below(g, 2)) v = 0.0;
            if (wmode == 2 && occam_rng_below(g, 2)) v = occam_rng_below(g, 2) ? 1e-40 : -3e-42;
            w[i] = wmode == 3 ? one : (float)v;
        }
        for (int o = 0; o < lay->width[l + 1]; o++)
            m->params[lay->b_off[l] + (size_t)o] = wmode == 4 ? one
                                                             : (float)(scale * occam_rng_normal(g));
    }
    if (occam_rng_below(g, 6)) {
        cr_assert_eq(occam_model_mask_enable(m, &err), OCCAM_OK);
        for (int l = 0; l < L; l++) {
            int in = lay->width[l], out = lay->width[l + 1], mode = (int)occam_rng_below(g, 7);
            int M = 2 + (int)occam_rng_below(g, 6), N = 1 + (int)occam_rng_below(g, M - 1);
            int di = (int)occam_rng_below(g, in), dout = (int)occam_rng_below(g, out);
            double keep = occam_rng_uniform(g);
            for (int o = 0; o < out; o++)
                for (int i = 0; i < in; i++) {
                    bool k = mode == 0 ? true
                           : mode == 1 ? false
                           : mode == 2 ? occam_rng_uniform(g) < keep
                           : mode == 3 ? i % M < N
                           : mode == 4 ? i != di && o != dout && occam_rng_below(g, 2)
                           : mode == 5 ? i == di && o == dout
                                       : o % 3 != 0 && occam_rng_uniform(g) < keep;
                    m->mask[lay->w_off[l] + (size_t)o * in + i] = k;
                }
        }
        for (size_t i = 0; i < lay->nparams; i++)
            if (!m->mask[i]) m->params[i] = 0.0f;
    }
    *p = cfg.mdl;
    *np = cfg.noise;
    p->prior = occam_rng_below(g, 2) ? OCCAM_PRIOR_GAUSSIAN : OCCAM_PRIOR_MOG;
    p->search_rows = (int)occam_rng_below(g, 30);
    if (occam_rng_below(g, 4) == 0)
        p->weight_precision = pow(10.0, -6.0 + 5.0 * occam_rng_uniform(g));
    if (occam_rng_below(g, 4) == 0) {
        m->rho = occam_alloc(lay->nparams, sizeof(float));
        cr_assert(m->rho);
        memset(m->rho, 0, lay->nparams * sizeof(float));
        for (int l = 0; l < L; l++)
            for (size_t i = 0; i < (size_t)lay->width[l] * lay->width[l + 1]; i++)
                m->rho[lay->w_off[l] + i] = (float)(log(scale) + occam_rng_normal(g));
        np->enabled = true;
    }
}

/* Round trips over random nets (random_net): the two-part code is the same at 1 and 2 threads
 * (bits and quantised parameters), the file decodes to exactly the quantised parameters and
 * masks, the decoded model's data bits are the code's, and at searched steps the payload is
 * no more than the counted bits plus the file's framing (the stream's length, 64 bits, and
 * the coder's flush). A value out of the code's reach is refused as input, never coded. */
Test(dl, random_nets_round_trip_through_the_file)
{
    occam_rng g = occam_rng_seed(2026, 45);
    /* the first 100 under ASan, which checks memory, not more values: 300 took 31 s there,
     * a twentieth of the sanitizer pass's CPU */
#if defined(__SANITIZE_ADDRESS__)
    const int cases = 100;
#else
    const int cases = 300;
#endif
    for (int c = 0; c < cases; c++) {
        occam_model m, back;
        occam_dataset ds;
        occam_dl_params p;
        occam_noise_params np;
        random_net(&g, &m, &ds, &p, &np);
        const occam_layout *lay = &m.lay;
        float *q1 = occam_alloc(lay->nparams, sizeof(float));
        float *q2 = occam_alloc(lay->nparams, sizeof(float));
        cr_assert(q1 && q2);
        occam_dl d1, d2;
        occam_error err;
        int rc = occam_dl_compute(&d1, &m, &p, &np, &ds, 1, q1, &err);
        cr_assert_eq(occam_dl_compute(&d2, &m, &p, &np, &ds, 2, q2, &err), rc, "case %d", c);
        if (rc == OCCAM_OK) {
            cr_assert(memcmp(&d1.model_bits, &d2.model_bits, sizeof(double)) == 0 &&
                      memcmp(&d1.data_bits, &d2.data_bits, sizeof(double)) == 0, "case %d", c);
            cr_assert(memcmp(q1, q2, lay->nparams * sizeof(float)) == 0, "case %d", c);
            if (d1.low_snr_masked)
                cr_assert_geq(occam_noise_mask_low_snr(&m, np.log_alpha, &err), 0);
            char path[] = "/tmp/occam-dlr-XXXXXX";
            int fd = mkstemp(path);
            cr_assert(fd >= 0);
            close(fd);
            occam_occ_sizes sz;
            cr_assert_eq(occam_occ_write(path, &m, NULL, &(occam_occ_data){0}, &d1, &sz, &err),
                         OCCAM_OK, "case %d: %s", c, err.msg);
            double pay = 8.0 * (double)sz.payload_bytes;
            if (p.weight_precision == 0)
                cr_assert(pay <= d1.model_bits * 1.01 + 80, "case %d: payload %g bits, counted %g",
                          c, pay, d1.model_bits);
            occam_model_params mp = {.nlayers = lay->nlayers + 1};
            memcpy(mp.layers, lay->width, sizeof lay->width);
            cr_assert_eq(occam_model_create(&back, &mp, m.task, &err), OCCAM_OK);
            cr_assert_eq(occam_occ_read(path, &back, &err), OCCAM_OK, "case %d: %s", c, err.msg);
            unlink(path);
            cr_assert(memcmp(back.params, q1, lay->nparams * sizeof(float)) == 0, "case %d", c);
            for (size_t i = 0; i < lay->nparams; i++)
                cr_assert_eq(back.mask ? back.mask[i] : 1, m.mask ? m.mask[i] : 1, "case %d", c);
            double db = data_bits(&back, back.params, &ds, 0, p.target_precision, 2);
            cr_assert(memcmp(&db, &d1.data_bits, sizeof db) == 0, "case %d", c);
            occam_model_free(&back);
        } else {
            cr_assert_eq(rc, OCCAM_ERR_INPUT, "case %d: %s", c, err.msg);
        }
        free(q1);
        free(q2);
        occam_model_free(&m);
        occam_dataset_free(&ds);
    }
}
