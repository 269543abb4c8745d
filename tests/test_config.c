/* Tests for the config module: defaults, a full file, every error class with its exact line
 * number, --set, the INI round trip (write_ini then load gives the same struct, bit for bit),
 * the JSON writers, the help table and the cross-key checks, both through occam_config_validate
 * and as the modules' own check functions (occam_data_check and the like).
 *
 * Config files are written to /tmp with mkstemp. Error tests compare the whole message after
 * the "PATH:LINE: " prefix where the wording is part of the contract (the examples in
 * config.h and the module brief), and check that a failed load leaves the config untouched. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "occam/config.h"
#include "occam/train.h"
#include "occam/json.h"

/* ---- helpers ------------------------------------------------------------------------------- */

/* Writes text to a new file under /tmp; returns its malloc'd path. */
static char *temp_file(const char *text)
{
    char tmpl[] = "/tmp/occam_test_config_XXXXXX";
    int fd = mkstemp(tmpl);
    cr_assert(fd >= 0, "mkstemp failed");
    size_t n = strlen(text);
    cr_assert_eq(write(fd, text, n), (ssize_t)n);
    close(fd);
    char *path = strdup(tmpl);
    cr_assert_not_null(path);
    return path;
}

static void remove_file(char *path)
{
    unlink(path);
    free(path);
}

static int load_text(occam_config *cfg, const char *text, occam_error *err)
{
    char *path = temp_file(text);
    int rc = occam_config_load(cfg, path, err);
    remove_file(path);
    return rc;
}

/* Loads text over the defaults and expects "PATH:LINE: WANT" (exact) or a message with that
 * prefix containing want (!exact). A failed load must leave the config as it was. */
static void check_error(const char *text, int line, const char *want, bool exact)
{
    occam_config cfg, ref;
    occam_config_defaults(&cfg);
    occam_config_defaults(&ref);
    occam_error err = {0};
    char *path = temp_file(text);
    int rc = occam_config_load(&cfg, path, &err);
    char prefix[256];
    snprintf(prefix, sizeof prefix, "%s:%d: ", path, line);
    remove_file(path);
    cr_assert_eq(rc, OCCAM_ERR_INPUT, "load of <<%s>> gave %d, want an input error", text, rc);
    cr_assert_eq(err.status, OCCAM_ERR_INPUT);
    size_t np = strlen(prefix);
    cr_assert(strncmp(err.msg, prefix, np) == 0, "message '%s' does not start with '%s'",
              err.msg, prefix);
    if (exact)
        cr_assert_str_eq(err.msg + np, want);
    else
        cr_assert(strstr(err.msg + np, want), "message '%s' lacks '%s'", err.msg, want);
    cr_assert(memcmp(&cfg, &ref, sizeof cfg) == 0, "a failed load changed the config");
}

static void check_set_error(const char *assignment, const char *want)
{
    occam_config cfg, ref;
    occam_config_defaults(&cfg);
    occam_config_defaults(&ref);
    occam_error err = {0};
    cr_assert_eq(occam_config_set(&cfg, assignment, &err), OCCAM_ERR_INPUT, "--set %s",
                 assignment);
    cr_assert_str_eq(err.msg, want);
    cr_assert(memcmp(&cfg, &ref, sizeof cfg) == 0, "a failed --set changed the config");
}

static void set_ok(occam_config *cfg, const char *assignment)
{
    occam_error err = {0};
    int rc = occam_config_set(cfg, assignment, &err);
    cr_assert_eq(rc, OCCAM_OK, "--set %s: %s", assignment, err.msg);
}

/* Field by field, so a failure names the field (memcmp is checked separately). */
static void assert_config_equal(const occam_config *a, const occam_config *b)
{
    cr_assert_eq(a->data.source, b->data.source);
    cr_assert_str_eq(a->data.path, b->data.path);
    cr_assert_str_eq(a->data.train, b->data.train);
    cr_assert_str_eq(a->data.test, b->data.test);
    cr_assert_eq(a->data.label, b->data.label);
    cr_assert_str_eq(a->data.label_name, b->data.label_name);
    cr_assert_eq(a->data.header, b->data.header);
    cr_assert_eq(a->data.task, b->data.task);
    cr_assert_eq(a->data.normalize, b->data.normalize);
    cr_assert_eq(a->data.normalize_targets, b->data.normalize_targets);
    cr_assert_eq(a->data.samples, b->data.samples);
    cr_assert_eq(a->data.test_samples, b->data.test_samples);
    cr_assert_eq(a->data.features, b->data.features);
    cr_assert_eq(a->data.classes, b->data.classes);
    cr_assert(memcmp(&a->data.spread, &b->data.spread, sizeof(double)) == 0, "data.spread");
    cr_assert_eq(a->data.seed, b->data.seed);
    cr_assert_eq(a->model.nlayers, b->model.nlayers);
    for (int i = 0; i < OCCAM_MAX_LAYERS; i++)
        cr_assert_eq(a->model.layers[i], b->model.layers[i], "model.layers[%d]", i);
    cr_assert_eq(a->model.activation, b->model.activation);
    cr_assert_eq(a->model.init, b->model.init);
    cr_assert_eq(a->train.epochs, b->train.epochs);
    cr_assert_eq(a->train.batch, b->train.batch);
    cr_assert_eq(a->train.optim.optimizer, b->train.optim.optimizer);
    const double *da[] = {&a->train.optim.lr, &a->train.optim.momentum, &a->train.optim.beta1, &a->train.optim.beta2,
                          &a->train.optim.eps, &a->train.optim.weight_decay, &a->train.optim.gamma,
                          &a->train.optim.lr_min};
    const double *db[] = {&b->train.optim.lr, &b->train.optim.momentum, &b->train.optim.beta1, &b->train.optim.beta2,
                          &b->train.optim.eps, &b->train.optim.weight_decay, &b->train.optim.gamma,
                          &b->train.optim.lr_min};
    for (size_t i = 0; i < sizeof da / sizeof da[0]; i++)
        cr_assert(memcmp(da[i], db[i], sizeof(double)) == 0, "train double #%zu: %.17g != %.17g",
                  i, *da[i], *db[i]);
    cr_assert_eq(a->train.optim.nesterov, b->train.optim.nesterov);
    cr_assert_eq(a->train.optim.schedule, b->train.optim.schedule);
    cr_assert_eq(a->train.optim.step_epochs, b->train.optim.step_epochs);
    cr_assert_eq(a->train.seed, b->train.seed);
    cr_assert_eq(a->runtime.threads, b->runtime.threads);
    cr_assert_eq(a->runtime.oversubscribe, b->runtime.oversubscribe);
    cr_assert_eq(a->runtime.grad, b->runtime.grad);
    cr_assert_eq(a->runtime.bind, b->runtime.bind);
    cr_assert_eq(a->runtime.placement, b->runtime.placement);
    cr_assert_eq(a->runtime.weights, b->runtime.weights);
    cr_assert_str_eq(a->runtime.topology, b->runtime.topology);
    cr_assert_eq(a->prune.schedule, b->prune.schedule);
    cr_assert_eq(a->prune.method, b->prune.method);
    cr_assert_eq(a->prune.granularity, b->prune.granularity);
    cr_assert_eq(a->prune.scope, b->prune.scope);
    cr_assert(memcmp(&a->prune.target, &b->prune.target, sizeof(double)) == 0, "prune.target");
    cr_assert_eq(a->prune.nlayer_target, b->prune.nlayer_target);
    for (int i = 0; i < OCCAM_MAX_LAYERS; i++)
        cr_assert(memcmp(&a->prune.layer_target[i], &b->prune.layer_target[i],
                         sizeof(double)) == 0,
                  "prune.layer_target[%d]: %.17g != %.17g", i, a->prune.layer_target[i],
                  b->prune.layer_target[i]);
    cr_assert_eq(a->prune.min_keep, b->prune.min_keep);
    cr_assert_eq(a->prune.steps, b->prune.steps);
    cr_assert_eq(a->prune.finetune_epochs, b->prune.finetune_epochs);
    cr_assert_eq(a->prune.start, b->prune.start);
    cr_assert_eq(a->prune.end, b->prune.end);
    cr_assert_eq(a->prune.every, b->prune.every);
    cr_assert_eq(a->prune.nm_n, b->prune.nm_n);
    cr_assert_eq(a->prune.nm_m, b->prune.nm_m);
    cr_assert_eq(a->prune.batches, b->prune.batches);
    cr_assert_eq(a->prune.bias, b->prune.bias);
    cr_assert_eq(a->prune.rewind, b->prune.rewind);
    cr_assert_eq(a->prune.rewind_epoch, b->prune.rewind_epoch);
    cr_assert_eq(a->prune.seed, b->prune.seed);
}

/* write_ini to a file, then load that file over fresh defaults. */
static void round_trip(const occam_config *cfg, occam_config *back)
{
    char tmpl[] = "/tmp/occam_test_config_XXXXXX";
    int fd = mkstemp(tmpl);
    cr_assert(fd >= 0);
    FILE *f = fdopen(fd, "w");
    cr_assert_not_null(f);
    occam_config_write_ini(cfg, f);
    cr_assert_eq(fclose(f), 0);
    occam_config_defaults(back);
    occam_error err = {0};
    int rc = occam_config_load(back, tmpl, &err);
    unlink(tmpl);
    cr_assert_eq(rc, OCCAM_OK, "reloading write_ini output: %s", err.msg);
}

static char *ini_text(const occam_config *cfg)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_not_null(f);
    occam_config_write_ini(cfg, f);
    fclose(f);
    return buf;
}

/* The effective config as it is stored in files (safetensors metadata, reports). */
static char *json_text(const occam_config *cfg)
{
    char *buf = malloc(OCCAM_CONFIG_JSON_MAX);
    cr_assert_not_null(buf);
    cr_assert_gt(occam_config_to_json(cfg, buf, OCCAM_CONFIG_JSON_MAX), 0);
    return buf;
}

/* ---- defaults and valid files ------------------------------------------------------------- */

/* Keys that do not apply: train.weight_decay under noise.enabled is reset and named; without
 * noise, or at its default, nothing is reset. */
Test(config, drop_inert_resets_decay_under_noise_only)
{
    occam_config c;
    occam_config_defaults(&c);
    c.train.optim.weight_decay = 0.1;
    cr_assert_null(occam_config_drop_inert(&c));
    cr_assert_eq(c.train.optim.weight_decay, 0.1);
    c.noise.enabled = true;
    const char *why = occam_config_drop_inert(&c);
    cr_assert(why && !strncmp(why, "train.weight_decay does not apply", 33), "%s", why);
    cr_assert_eq(c.train.optim.weight_decay, 0);
    cr_assert_null(occam_config_drop_inert(&c), "already at its default");
    occam_config d;
    occam_config_defaults(&d);
    d.noise.enabled = true;
    char a[1 << 16], b[1 << 16];
    cr_assert_geq(occam_config_to_json(&c, a, sizeof a), 0);
    cr_assert_geq(occam_config_to_json(&d, b, sizeof b), 0);
    cr_assert_str_eq(a, b, "the reset config equals one that never set the key");
    /* noise off: every noise.* key is reset */
    occam_config e;
    occam_config_defaults(&e);
    e.noise.prior = OCCAM_PRIOR_MOG;
    e.noise.seed = 7;
    why = occam_config_drop_inert(&e);
    cr_assert(why && strstr(why, "noise.* keys do not apply"), "%s", why);
    cr_assert_eq(e.noise.prior, d.noise.prior);
    cr_assert_eq(e.noise.seed, 1);
    cr_assert_null(occam_config_drop_inert(&e));
    /* runtime.grad: noisy weights take the shard path whatever it says (owner was dropped
     * without a word, its bits then following ranks × threads) */
    occam_config g;
    occam_config_defaults(&g);
    g.runtime.grad = OCCAM_GRAD_OWNER;
    cr_assert_null(occam_config_drop_inert(&g));
    cr_assert(occam_config_key_applies(&g, "runtime.grad"));
    g.noise.enabled = true;
    cr_assert_not(occam_config_key_applies(&g, "runtime.grad"));
    why = occam_config_drop_inert(&g);
    cr_assert(why && !strncmp(why, "runtime.grad does not apply with noise.enabled = true", 53),
              "%s", why);
    cr_assert_eq(g.runtime.grad, OCCAM_GRAD_AUTO);
}

/* With noise, the noise.* keys the chosen prior never reads are reset and named, one per call
 * (noise.zero_cap under a Gaussian prior was taken without a word); the keys it reads stay.
 * The mixture's keys stay under the sparse prior, whose bits-back code uses a mixture. */
Test(config, drop_inert_resets_noise_keys_the_prior_does_not_read)
{
    static const struct {
        occam_prior_kind prior;
        const char *reset[8];
    } want[] = {
        {OCCAM_PRIOR_GAUSSIAN, {"noise.components", "noise.zero_weight", "noise.zero_cap",
                                "noise.prior_update", "noise.prior_steps", "noise.log_alpha",
                                "noise.rebalance"}},
        {OCCAM_PRIOR_MOG, {"noise.prior_steps", "noise.prior_sigma", "noise.log_alpha",
                           "noise.rebalance"}},
        {OCCAM_PRIOR_SPARSE, {"noise.prior_update", "noise.prior_steps", "noise.prior_sigma",
                              "noise.prior_scope", "noise.rebalance"}},
    };
    for (size_t t = 0; t < sizeof want / sizeof *want; t++) {
        occam_config c;
        occam_config_defaults(&c);
        c.noise.enabled = true;
        c.noise.prior = want[t].prior;
        c.mdl.precision = OCCAM_PRECISION_SEARCH; /* the code does not read noise.log_alpha */
        cr_assert_null(occam_config_drop_inert(&c), "defaults: nothing to reset");
        c.noise.components = 5;
        c.noise.zero_weight = 0.5;
        c.noise.zero_cap = 0.1;
        c.noise.prior_update = want[t].prior == OCCAM_PRIOR_MOG ? OCCAM_PRIOR_UPDATE_EM
                                                                : OCCAM_PRIOR_UPDATE_GRADIENT;
        c.noise.prior_steps = 7;
        c.noise.prior_sigma = 0.3;
        c.noise.log_alpha = 1;
        c.noise.prior_scope = OCCAM_PRIOR_SCOPE_LAYER;
        c.noise.rebalance = false;
        occam_config set = c;
        int n = 0;
        for (const char *why; (why = occam_config_drop_inert(&c)); n++) {
            cr_assert_lt(n, 8, "prior %d: no end", (int)want[t].prior);
            const char *key = want[t].reset[n];
            cr_assert(key && !strncmp(why, key, strlen(key)) && why[strlen(key)] == ' ',
                      "prior %d, reset %d: %s (want %s)", (int)want[t].prior, n, why,
                      key ? key : "none");
        }
        cr_assert_null(want[t].reset[n], "prior %d: %s was not reset", (int)want[t].prior,
                       want[t].reset[n]);
        occam_config d;
        occam_config_defaults(&d);
        bool mixture = want[t].prior != OCCAM_PRIOR_GAUSSIAN;
        cr_assert_eq(c.noise.zero_cap, mixture ? set.noise.zero_cap : d.noise.zero_cap);
        cr_assert_eq(c.noise.zero_weight, mixture ? set.noise.zero_weight : d.noise.zero_weight);
        cr_assert_eq(c.noise.components, mixture ? set.noise.components : d.noise.components);
        cr_assert_eq(c.noise.prior_sigma, want[t].prior == OCCAM_PRIOR_GAUSSIAN ? 0.3 : 0.0);
        cr_assert_eq(c.noise.log_alpha, want[t].prior == OCCAM_PRIOR_SPARSE ? 1.0
                                                                            : d.noise.log_alpha);
        cr_assert_eq(c.noise.prior_scope, want[t].prior == OCCAM_PRIOR_SPARSE
                                              ? d.noise.prior_scope : OCCAM_PRIOR_SCOPE_LAYER);
    }
    /* the two-part code at the posterior precision (the default, auto) measures the model with
     * the weights of log α above noise.log_alpha masked, under every prior */
    for (int pr = OCCAM_PRIOR_GAUSSIAN; pr <= OCCAM_PRIOR_MOG; pr++) {
        occam_config c;
        occam_config_defaults(&c);
        c.noise.enabled = true;
        c.noise.prior = (occam_prior_kind)pr;
        c.noise.log_alpha = 1;
        cr_assert_null(occam_config_drop_inert(&c), "prior %d: log_alpha is read", pr);
        c.mdl.weight_precision = 0.01; /* a fixed step: not the posterior precision */
        const char *why = occam_config_drop_inert(&c);
        cr_assert(why && !strncmp(why, "noise.log_alpha ", 16), "prior %d: %s", pr, why);
    }
    /* noise.seed seeds the weight samples, which only a sampled data term draws: under the
     * expansion (auto with a Gaussian or mixture prior) it changed nothing without a word,
     * and select trained each of its values */
    for (int pr = OCCAM_PRIOR_GAUSSIAN; pr <= OCCAM_PRIOR_SPARSE; pr++)
        for (int dt = OCCAM_NOISE_DATA_AUTO; dt <= OCCAM_NOISE_DATA_SAMPLE; dt++) {
            if (pr == OCCAM_PRIOR_SPARSE && dt == OCCAM_NOISE_DATA_EXPANSION) continue;
            occam_config c;
            occam_config_defaults(&c);
            c.noise.enabled = true;
            c.noise.prior = (occam_prior_kind)pr;
            c.noise.data_term = (occam_noise_data_term)dt;
            c.noise.seed = 7;
            const char *why = occam_config_drop_inert(&c);
            bool sampled = dt == OCCAM_NOISE_DATA_SAMPLE ||
                           (dt == OCCAM_NOISE_DATA_AUTO && pr == OCCAM_PRIOR_SPARSE);
            if (sampled) cr_assert_null(why, "prior %d, data term %d: %s", pr, dt, why);
            else cr_assert(why && !strncmp(why, "noise.seed ", 11) && c.noise.seed == 1,
                           "prior %d, data term %d: %s", pr, dt, why ? why : "not reset");
        }
    /* (prior_scope = layer above: rebalance is not read) one prior for the network, ReLU:
     * rebalance is read; under tanh it is not */
    occam_config c;
    occam_config_defaults(&c);
    c.noise.enabled = true;
    c.noise.rebalance = false;
    cr_assert_null(occam_config_drop_inert(&c));
    c.model.activation = OCCAM_ACT_TANH;
    const char *why = occam_config_drop_inert(&c);
    cr_assert(why && !strncmp(why, "noise.rebalance ", 16), "%s", why);
    cr_assert(c.noise.rebalance);
}

/* occam_config_drop_inert resets exactly the keys of `reset` (NULL-terminated, at most max),
 * in that order, each of which occam_config_key_applies says the config does not read. */
static void resets_in_order(occam_config *c, const char *const *reset, int max, size_t t)
{
    occam_config set = *c;
    int n = 0;
    for (const char *why; (why = occam_config_drop_inert(c)); n++) {
        cr_assert_lt(n, max, "case %zu: no end", t);
        const char *key = reset[n];
        cr_assert(key && !strncmp(why, key, strlen(key)) && why[strlen(key)] == ' ',
                  "case %zu, reset %d: %s (want %s)", t, n, why, key ? key : "none");
        cr_assert_not(occam_config_key_applies(&set, key), "%s", key);
    }
    cr_assert_null(reset[n], "case %zu: %s was not reset", t, reset[n]);
}

/* The data.* keys of another source were taken without a word, and select trained a grid over
 * data.path with data.source = blobs once per value: each is now reset and named, one per
 * call; the keys the source reads stay. */
Test(config, drop_inert_resets_data_keys_the_source_does_not_read)
{
    static const struct {
        occam_source source;
        occam_task task;
        const char *reset[14];
    } want[] = {
        {OCCAM_SOURCE_IDX, OCCAM_TASK_CLASSIFY,
         {"data.train", "data.test", "data.label", "data.header", "data.normalize_targets",
          "data.samples", "data.test_samples", "data.features", "data.classes", "data.spread",
          "data.seed", "data.target_noise"}},
        {OCCAM_SOURCE_CSV, OCCAM_TASK_REGRESS,
         {"data.path", "data.samples", "data.test_samples", "data.features", "data.classes",
          "data.spread", "data.seed", "data.target_noise"}},
        {OCCAM_SOURCE_BLOBS, OCCAM_TASK_CLASSIFY,
         {"data.path", "data.train", "data.test", "data.label", "data.header",
          "data.normalize_targets", "data.target_noise"}},
        {OCCAM_SOURCE_PEPTIDE, OCCAM_TASK_REGRESS,
         {"data.path", "data.train", "data.test", "data.label", "data.header", "data.classes",
          "data.spread"}},
    };
    for (size_t t = 0; t < sizeof want / sizeof *want; t++) {
        occam_config c;
        occam_config_defaults(&c);
        c.data.source = want[t].source;
        c.data.task = want[t].task;
        cr_assert_null(occam_config_drop_inert(&c), "defaults: nothing to reset");
        snprintf(c.data.path, sizeof c.data.path, "/elsewhere");
        snprintf(c.data.train, sizeof c.data.train, "a.csv");
        snprintf(c.data.test, sizeof c.data.test, "b.csv");
        c.data.label = 2;
        c.data.header = OCCAM_CSV_HEADER_YES;
        c.data.normalize_targets = false;
        c.data.samples = 77;
        c.data.test_samples = 33;
        c.data.features = 9;
        c.data.classes = 4;
        c.data.spread = 1.5;
        c.data.seed = 5;
        c.data.target_noise = 0.1;
        resets_in_order(&c, want[t].reset, 13, t);
        cr_assert_eq(c.data.source, want[t].source);
        cr_assert_eq(c.data.samples, want[t].source >= OCCAM_SOURCE_BLOBS ? 77 : 1000);
        cr_assert_str_eq(c.data.path, want[t].source == OCCAM_SOURCE_IDX
                                          ? "/elsewhere" : "/usr/share/datasets/fashion-mnist");
        cr_assert(occam_config_key_applies(&c, "data.normalize"));
        cr_assert(occam_config_key_applies(&c, "data.holdout"));
    }
}

/* An mdl.* key the model code does not read (mdl.components under mdl.prior = gaussian) was
 * taken without a word: each is now reset and named; the code's own keys stay. */
Test(config, drop_inert_resets_mdl_keys_the_code_does_not_read)
{
    static const struct {
        occam_model_code code;
        occam_prior_kind mdl_prior;
        bool fixed_step;
        occam_task task;
        const char *reset[11];
    } want[] = {
        {OCCAM_MDL_TWO_PART, OCCAM_PRIOR_GAUSSIAN, false, OCCAM_TASK_CLASSIFY,
         {"mdl.bits_per_weight", "mdl.components", "mdl.target_precision", "mdl.samples",
          "mdl.data_samples", "mdl.seed"}},
        {OCCAM_MDL_TWO_PART, OCCAM_PRIOR_MOG, true, OCCAM_TASK_REGRESS,
         {"mdl.bits_per_weight", "mdl.precision", "mdl.samples", "mdl.data_samples",
          "mdl.seed"}},
        {OCCAM_MDL_COUNT, OCCAM_PRIOR_GAUSSIAN, true, OCCAM_TASK_CLASSIFY,
         {"mdl.weight_precision", "mdl.precision", "mdl.prior", "mdl.components",
          "mdl.target_precision", "mdl.samples", "mdl.data_samples", "mdl.search_rows",
          "mdl.seed"}},
        {OCCAM_MDL_BITS_BACK, OCCAM_PRIOR_GAUSSIAN, true, OCCAM_TASK_CLASSIFY,
         {"mdl.bits_per_weight", "mdl.weight_precision", "mdl.precision", "mdl.prior",
          "mdl.components", "mdl.target_precision", "mdl.samples"}},
    };
    for (size_t t = 0; t < sizeof want / sizeof *want; t++) {
        occam_config c;
        occam_config_defaults(&c);
        c.noise.enabled = true; /* noise.prior = gaussian: the bits-back KL is exact */
        c.mdl.model_code = want[t].code;
        c.data.task = want[t].task;
        c.data.source = want[t].task == OCCAM_TASK_REGRESS ? OCCAM_SOURCE_PEPTIDE
                                                            : OCCAM_SOURCE_BLOBS;
        cr_assert_null(occam_config_drop_inert(&c), "defaults: nothing to reset");
        c.mdl.bits_per_weight = 16;
        c.mdl.weight_precision = want[t].fixed_step ? 0.01 : 0;
        c.mdl.precision = OCCAM_PRECISION_SEARCH;
        c.mdl.prior = want[t].mdl_prior;
        c.mdl.components = 5;
        c.mdl.target_precision = 0.5;
        c.mdl.samples = 7;
        c.mdl.data_samples = 3;
        c.mdl.search_rows = 50;
        c.mdl.seed = 9;
        resets_in_order(&c, want[t].reset, 10, t);
        cr_assert_eq(c.mdl.model_code, want[t].code);
    }
    /* bits-back under a mixture samples its KL: mdl.samples is read */
    occam_config c;
    occam_config_defaults(&c);
    c.noise.enabled = true;
    c.noise.prior = OCCAM_PRIOR_MOG;
    c.mdl.model_code = OCCAM_MDL_BITS_BACK;
    c.mdl.samples = 7;
    cr_assert_null(occam_config_drop_inert(&c));
    cr_assert_eq(c.mdl.samples, 7);
    cr_assert(occam_config_key_applies(&c, "mdl.samples"));
}

/* train.beta1 under sgd, train.momentum under adam, train.gamma unless the step schedule and
 * train.lr_min unless cosine were taken without a word, and select trained a grid over one of
 * them once per value (identical rows). Each is now reset and named; the keys read stay. */
Test(config, drop_inert_resets_train_keys_the_optimiser_does_not_read)
{
    static const struct {
        occam_opt opt;
        occam_sched sched;
        const char *reset[8];
    } want[] = {
        {OCCAM_OPT_SGD, OCCAM_SCHED_CONSTANT,
         {"train.beta1", "train.beta2", "train.eps", "train.step_epochs", "train.gamma",
          "train.lr_min"}},
        {OCCAM_OPT_ADAM, OCCAM_SCHED_STEP,
         {"train.momentum", "train.nesterov", "train.lr_min"}},
        {OCCAM_OPT_SGD, OCCAM_SCHED_COSINE,
         {"train.beta1", "train.beta2", "train.eps", "train.step_epochs", "train.gamma"}},
    };
    for (size_t t = 0; t < sizeof want / sizeof *want; t++) {
        occam_config c;
        occam_config_defaults(&c);
        c.train.optim.optimizer = want[t].opt;
        c.train.optim.schedule = want[t].sched;
        cr_assert_null(occam_config_drop_inert(&c), "defaults: nothing to reset");
        c.train.optim.momentum = 0.5;
        c.train.optim.nesterov = true;
        c.train.optim.beta1 = 0.5;
        c.train.optim.beta2 = 0.9;
        c.train.optim.eps = 1e-6;
        c.train.optim.step_epochs = 3;
        c.train.optim.gamma = 0.5;
        c.train.optim.lr_min = 0.01;
        resets_in_order(&c, want[t].reset, 8, t);
        cr_assert_eq(c.train.optim.optimizer, want[t].opt);
    }
}

/* The prune.* keys were all read, whatever prune.schedule said: a grid over prune.steps with
 * prune.schedule = none trained once per value, and a resume refused a changed
 * prune.granularity without pruning. Each key the schedule and granularity do not read is now
 * reset and named, one per call; the keys they read stay. */
Test(config, drop_inert_resets_prune_keys_the_schedule_does_not_read)
{
    static const struct {
        occam_prune_schedule schedule;
        occam_granularity granularity;
        occam_prune_method method;
        occam_scope scope;
        const char *reset[18];
    } want[] = {
        {OCCAM_PRUNE_NONE, OCCAM_GRAN_NM, OCCAM_IMP_TAYLOR, OCCAM_SCOPE_LAYER,
         {"prune.method", "prune.granularity", "prune.scope", "prune.target",
          "prune.layer_targets", "prune.min_keep", "prune.steps", "prune.finetune_epochs",
          "prune.start", "prune.end", "prune.every", "prune.nm", "prune.batches", "prune.bias",
          "prune.rewind", "prune.seed", "prune.score_events"}},
        {OCCAM_PRUNE_ITERATIVE, OCCAM_GRAN_NEURON, OCCAM_IMP_TAYLOR, OCCAM_SCOPE_LAYER,
         {"prune.method", "prune.start", "prune.end", "prune.every", "prune.nm",
          "prune.batches", "prune.bias", "prune.seed"}},
        /* nm keeps N of every M: it read prune.target only to record it in its events, and
         * pruned no bias (both keys said they applied) */
        {OCCAM_PRUNE_AGP, OCCAM_GRAN_NM, OCCAM_IMP_OBD, OCCAM_SCOPE_LAYER,
         {"prune.scope", "prune.target", "prune.layer_targets", "prune.min_keep", "prune.steps",
          "prune.finetune_epochs", "prune.bias", "prune.score_events"}},
        {OCCAM_PRUNE_MDL, OCCAM_GRAN_WEIGHT, OCCAM_IMP_RANDOM, OCCAM_SCOPE_GLOBAL,
         {"prune.layer_targets", "prune.start", "prune.end", "prune.every", "prune.nm",
          "prune.batches", "prune.score_events"}},
        {OCCAM_PRUNE_ONESHOT, OCCAM_GRAN_WEIGHT, OCCAM_IMP_MAGNITUDE, OCCAM_SCOPE_LAYER,
         {"prune.steps", "prune.start", "prune.end", "prune.every", "prune.nm", "prune.batches",
          "prune.seed"}},
    };
    for (size_t t = 0; t < sizeof want / sizeof *want; t++) {
        occam_config c;
        occam_config_defaults(&c);
        c.prune.schedule = want[t].schedule;
        cr_assert_null(occam_config_drop_inert(&c), "defaults: nothing to reset");
        c.prune.granularity = want[t].granularity;
        c.prune.method = want[t].method;
        c.prune.scope = want[t].scope;
        c.prune.target = 0.5;
        c.prune.nlayer_target = 2;
        c.prune.layer_target[0] = 0.5;
        c.prune.layer_target[1] = -1;
        c.prune.min_keep = 3;
        c.prune.steps = 7;
        c.prune.finetune_epochs = 4;
        c.prune.start = 2;
        c.prune.end = 5;
        c.prune.every = 9;
        c.prune.nm_n = 1;
        c.prune.bias = true;
        c.prune.batches = 3;
        c.prune.rewind = OCCAM_REWIND_EPOCH;
        c.prune.rewind_epoch = 1;
        c.prune.seed = 5;
        c.prune.score_events = true;
        occam_config set = c;
        resets_in_order(&c, want[t].reset, 17, t);
        cr_assert_eq(c.prune.schedule, want[t].schedule);
        cr_assert(occam_config_key_applies(&c, "prune.schedule"));
        occam_config d;
        occam_config_defaults(&d);
        /* the two-field keys are reset whole, and kept whole */
        bool none = want[t].schedule == OCCAM_PRUNE_NONE;
        cr_assert_eq(c.prune.rewind_epoch, none ? d.prune.rewind_epoch : 1);
        cr_assert_eq(c.prune.rewind, none ? d.prune.rewind : set.prune.rewind);
        bool nm = !none && want[t].granularity == OCCAM_GRAN_NM;
        cr_assert_eq(c.prune.nm_n, nm ? 1 : d.prune.nm_n);
        cr_assert_eq(c.prune.nm_m, d.prune.nm_m);
        bool per_layer = !none && want[t].granularity != OCCAM_GRAN_NM &&
                         want[t].scope == OCCAM_SCOPE_LAYER;
        cr_assert_eq(c.prune.nlayer_target, per_layer ? 2 : 0);
        cr_assert_eq(c.prune.layer_target[0], per_layer ? 0.5 : 0);
    }
}

/* 0 and -0 train alike: -0 (kept with its sign where it is set) compares as 0 once the inert
 * keys are dropped, so select shares their run; without noise no noise.* key applies, which is
 * what lets a resume change noise.prior there. */
Test(config, drop_inert_compares_numbers_by_value)
{
    occam_config a, b;
    occam_config_defaults(&a);
    occam_config_defaults(&b);
    occam_error err = {0};
    /* prune.layer_targets is read under a schedule with prune.scope = layer */
    for (occam_config *x = &a; x; x = x == &a ? &b : NULL) {
        cr_assert_eq(occam_config_set(x, "prune.schedule=oneshot", &err), OCCAM_OK);
        cr_assert_eq(occam_config_set(x, "prune.scope=layer", &err), OCCAM_OK);
    }
    cr_assert_eq(occam_config_set(&b, "train.weight_decay=-0", &err), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(occam_config_set(&b, "prune.layer_targets=-0,0.5", &err), OCCAM_OK, "%s",
                 err.msg);
    cr_assert_eq(occam_config_set(&a, "prune.layer_targets=0,0.5", &err), OCCAM_OK, "%s",
                 err.msg);
    cr_assert(signbit(b.train.optim.weight_decay), "the value keeps its sign");
    cr_assert_null(occam_config_drop_inert(&a));
    cr_assert_null(occam_config_drop_inert(&b));
    cr_assert_not(signbit(b.train.optim.weight_decay));
    cr_assert_not(signbit(b.prune.layer_target[0]));
    char ja[1 << 16], jb[1 << 16];
    cr_assert_geq(occam_config_to_json(&a, ja, sizeof ja), 0);
    cr_assert_geq(occam_config_to_json(&b, jb, sizeof jb), 0);
    cr_assert_str_eq(ja, jb);
    cr_assert_not(occam_config_key_applies(&a, "noise.prior"));
    cr_assert(occam_config_key_applies(&a, "noise.enabled"));
    cr_assert(occam_config_key_applies(&a, "model.layers"));
    a.noise.enabled = true;
    cr_assert(occam_config_key_applies(&a, "noise.prior"));
    cr_assert_not(occam_config_key_applies(&a, "noise.components"));
}

Test(config, defaults)
{
    occam_config c;
    occam_config_defaults(&c);
    cr_assert_eq(c.data.source, OCCAM_SOURCE_IDX);
    cr_assert_str_eq(c.data.path, "/usr/share/datasets/fashion-mnist");
    cr_assert_str_eq(c.data.train, "");
    cr_assert_str_eq(c.data.test, "");
    cr_assert_eq(c.data.label, OCCAM_LABEL_LAST);
    cr_assert_eq(c.data.header, OCCAM_CSV_HEADER_AUTO);
    cr_assert_eq(c.data.task, OCCAM_TASK_CLASSIFY);
    cr_assert_eq(c.data.normalize, OCCAM_NORM_SCALE);
    cr_assert(c.data.normalize_targets);
    cr_assert_eq(c.data.samples, 1000);
    cr_assert_eq(c.data.test_samples, 300);
    cr_assert_eq(c.data.features, 20);
    cr_assert_eq(c.data.classes, 3);
    cr_assert_eq(c.data.spread, 3.0);
    cr_assert_eq(c.data.seed, 42);
    cr_assert_eq(c.model.nlayers, 4);
    int layers[] = {784, 300, 100, 10};
    for (int i = 0; i < 4; i++)
        cr_assert_eq(c.model.layers[i], layers[i]);
    for (int i = 4; i < OCCAM_MAX_LAYERS; i++)
        cr_assert_eq(c.model.layers[i], 0);
    cr_assert_eq(c.model.activation, OCCAM_ACT_RELU);
    cr_assert_eq(c.model.init, OCCAM_INIT_HE);
    cr_assert_eq(c.train.epochs, 20);
    cr_assert_eq(c.train.batch, 128);
    cr_assert_eq(c.train.optim.optimizer, OCCAM_OPT_SGD);
    cr_assert_eq(c.train.optim.lr, 0.1);
    cr_assert_eq(c.train.optim.momentum, 0.9);
    cr_assert_eq(c.train.optim.nesterov, false);
    cr_assert_eq(c.train.optim.beta1, 0.9);
    cr_assert_eq(c.train.optim.beta2, 0.999);
    cr_assert_eq(c.train.optim.eps, 1e-8);
    cr_assert_eq(c.train.optim.weight_decay, 0.0);
    cr_assert_eq(c.train.optim.schedule, OCCAM_SCHED_CONSTANT);
    cr_assert_eq(c.train.optim.step_epochs, 10);
    cr_assert_eq(c.train.optim.gamma, 0.1);
    cr_assert_eq(c.train.optim.lr_min, 0.0);
    cr_assert_eq(c.train.seed, 1);
    cr_assert_eq(c.runtime.threads, 0);
    cr_assert_eq(c.runtime.oversubscribe, false);
    cr_assert_eq(c.prune.schedule, OCCAM_PRUNE_NONE);
    cr_assert_eq(c.prune.method, OCCAM_IMP_MAGNITUDE);
    cr_assert_eq(c.prune.granularity, OCCAM_GRAN_WEIGHT);
    cr_assert_eq(c.prune.scope, OCCAM_SCOPE_GLOBAL);
    cr_assert_eq(c.prune.target, 0.9);
    cr_assert_eq(c.prune.nlayer_target, 0);
    for (int i = 0; i < OCCAM_MAX_LAYERS; i++)
        cr_assert_eq(c.prune.layer_target[i], 0.0);
    cr_assert_eq(c.prune.min_keep, 0);
    cr_assert_eq(c.prune.steps, 5);
    cr_assert_eq(c.prune.finetune_epochs, 2);
    cr_assert_eq(c.prune.start, 0);
    cr_assert_eq(c.prune.end, 10);
    cr_assert_eq(c.prune.every, 100);
    cr_assert_eq(c.prune.nm_n, 2);
    cr_assert_eq(c.prune.nm_m, 4);
    cr_assert_eq(c.prune.batches, 8);
    cr_assert_eq(c.prune.bias, false);
    cr_assert_eq(c.prune.rewind, OCCAM_REWIND_NONE);
    cr_assert_eq(c.prune.rewind_epoch, 0);
    cr_assert_eq(c.prune.seed, 1);

    occam_error err = {0};
    cr_assert_eq(occam_config_validate(&c, &err), OCCAM_OK, "%s", err.msg);

    /* Deterministic, padding included. */
    occam_config d;
    memset(&d, 0xAB, sizeof d);
    occam_config_defaults(&d);
    cr_assert(memcmp(&c, &d, sizeof c) == 0);
}

static const char full_file[] =
    "; every key, none at its default\n"
    "[data]\n"
    "source = blobs          ; inline comment\n"
    "path = /data/mnist\n"
    "train = /data/train.csv\n"
    "test = /data/test.csv\n"
    "label = 3\n"
    "header = no\n"
    "task = classify\n"
    "normalize = standardize\n"
    "normalize_targets = no\n"
    "samples = 1000000000\n"
    "test_samples = 77\n"
    "features = 64\n"
    "classes = 5\n"
    "spread = 2.5\n"
    "seed = 18446744073709551615\n"
    "\n"
    "# hash comments too\n"
    "[model]\n"
    "layers = 64, 32,16 ,5\n"
    "activation = tanh\n"
    "init = xavier\n"
    "\n"
    "[train]\n"
    "epochs = 3\n"
    "batch = 1048576\n"
    "optimizer = adam\n"
    "lr = 1e-3\n"
    "momentum = 0\n"
    "nesterov = yes\n"
    "beta1 = 0.5\n"
    "beta2 = 0.25\n"
    "eps = 1\n"
    "weight_decay = 5e-4\n"
    "schedule = cosine\n"
    "step_epochs = 7\n"
    "gamma = 1\n"
    "lr_min = 1e-5\n"
    "seed = 0\n"
    "\n"
    "[runtime]\n"
    "threads = 4096\n"
    "oversubscribe = 1\n"
    "\n"
    "[prune]\n"
    "schedule = agp\n"
    "method = obd\n"
    "granularity = nm\n"
    "scope = layer\n"
    "target = 0\n"
    "layer_targets = 0.5, -1 ,0.25\n"
    "min_keep = 1000000000000\n"
    "steps = 1000\n"
    "finetune_epochs = 0\n"
    "start = 1\n"
    "end = 2\n"
    "every = 1000000000\n"
    "nm = 1 : 8\n"
    "batches = 100000\n"
    "bias = yes\n"
    "rewind = epoch:3\n"
    "seed = 0\n";

Test(config, full_file)
{
    occam_config c;
    occam_config_defaults(&c);
    occam_error err = {0};
    cr_assert_eq(load_text(&c, full_file, &err), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(c.data.source, OCCAM_SOURCE_BLOBS);
    cr_assert_str_eq(c.data.path, "/data/mnist");
    cr_assert_str_eq(c.data.train, "/data/train.csv");
    cr_assert_str_eq(c.data.test, "/data/test.csv");
    cr_assert_eq(c.data.label, 3);
    cr_assert_eq(c.data.header, OCCAM_CSV_HEADER_NO);
    cr_assert_eq(c.data.task, OCCAM_TASK_CLASSIFY);
    cr_assert_eq(c.data.normalize, OCCAM_NORM_STANDARDIZE);
    cr_assert(!c.data.normalize_targets);
    cr_assert_eq(c.data.samples, 1000000000);
    cr_assert_eq(c.data.test_samples, 77);
    cr_assert_eq(c.data.features, 64);
    cr_assert_eq(c.data.classes, 5);
    cr_assert_eq(c.data.spread, 2.5);
    cr_assert_eq(c.data.seed, UINT64_MAX);
    cr_assert_eq(c.model.nlayers, 4);
    int layers[] = {64, 32, 16, 5};
    for (int i = 0; i < 4; i++)
        cr_assert_eq(c.model.layers[i], layers[i]);
    cr_assert_eq(c.model.activation, OCCAM_ACT_TANH);
    cr_assert_eq(c.model.init, OCCAM_INIT_XAVIER);
    cr_assert_eq(c.train.epochs, 3);
    cr_assert_eq(c.train.batch, 1 << 20);
    cr_assert_eq(c.train.optim.optimizer, OCCAM_OPT_ADAM);
    cr_assert_eq(c.train.optim.lr, 1e-3);
    cr_assert_eq(c.train.optim.momentum, 0.0);
    cr_assert_eq(c.train.optim.nesterov, true);
    cr_assert_eq(c.train.optim.beta1, 0.5);
    cr_assert_eq(c.train.optim.beta2, 0.25);
    cr_assert_eq(c.train.optim.eps, 1.0);
    cr_assert_eq(c.train.optim.weight_decay, 5e-4);
    cr_assert_eq(c.train.optim.schedule, OCCAM_SCHED_COSINE);
    cr_assert_eq(c.train.optim.step_epochs, 7);
    cr_assert_eq(c.train.optim.gamma, 1.0);
    cr_assert_eq(c.train.optim.lr_min, 1e-5);
    cr_assert_eq(c.train.seed, 0);
    cr_assert_eq(c.runtime.threads, 4096);
    cr_assert_eq(c.runtime.oversubscribe, true);
    cr_assert_eq(c.prune.schedule, OCCAM_PRUNE_AGP);
    cr_assert_eq(c.prune.method, OCCAM_IMP_OBD);
    cr_assert_eq(c.prune.granularity, OCCAM_GRAN_NM);
    cr_assert_eq(c.prune.scope, OCCAM_SCOPE_LAYER);
    cr_assert_eq(c.prune.target, 0.0);
    cr_assert_eq(c.prune.nlayer_target, 3);
    cr_assert_eq(c.prune.layer_target[0], 0.5);
    cr_assert_eq(c.prune.layer_target[1], -1.0);
    cr_assert_eq(c.prune.layer_target[2], 0.25);
    cr_assert_eq(c.prune.layer_target[3], 0.0);
    cr_assert_eq(c.prune.min_keep, 1000000000000);
    cr_assert_eq(c.prune.steps, 1000);
    cr_assert_eq(c.prune.finetune_epochs, 0);
    cr_assert_eq(c.prune.start, 1);
    cr_assert_eq(c.prune.end, 2);
    cr_assert_eq(c.prune.every, 1000000000);
    cr_assert_eq(c.prune.nm_n, 1);
    cr_assert_eq(c.prune.nm_m, 8);
    cr_assert_eq(c.prune.batches, 100000);
    cr_assert_eq(c.prune.bias, true);
    cr_assert_eq(c.prune.rewind, OCCAM_REWIND_EPOCH);
    cr_assert_eq(c.prune.rewind_epoch, 3);
    cr_assert_eq(c.prune.seed, 0);
    /* every key loads, but CSV files named under data.source = blobs would not be read */
    cr_assert_eq(occam_config_validate(&c, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "data.train: names a CSV file, but data.source = blobs does not "
                              "read it"), "%s", err.msg);
    c.data.train[0] = c.data.test[0] = 0;
    cr_assert_eq(occam_config_validate(&c, &err), OCCAM_OK, "%s", err.msg);
}

Test(config, partial_file_keeps_other_values)
{
    occam_config c, ref;
    occam_config_defaults(&c);
    occam_error err = {0};
    set_ok(&c, "train.epochs=99");
    cr_assert_eq(load_text(&c, "[train]\nlr = 0.5\n", &err), OCCAM_OK, "%s", err.msg);
    occam_config_defaults(&ref);
    ref.train.epochs = 99;
    ref.train.optim.lr = 0.5;
    assert_config_equal(&c, &ref);
    cr_assert(memcmp(&c, &ref, sizeof c) == 0);
}

Test(config, empty_file_crlf_bom_and_odd_layout)
{
    occam_config c, ref;
    occam_config_defaults(&c);
    occam_config_defaults(&ref);
    occam_error err = {0};
    cr_assert_eq(load_text(&c, "", &err), OCCAM_OK, "%s", err.msg);
    cr_assert(memcmp(&c, &ref, sizeof c) == 0);

    /* A UTF-8 BOM, CRLF line ends, an indented key right after a header (not a continuation:
     * nothing precedes it in the section), a section repeated, name:value, and ';' inside a
     * value where it is not a comment. */
    const char *text = "\xEF\xBB\xBF[train] ; header comment\r\n"
                       "  epochs = 4\r\n"
                       "[data]\r\n"
                       "path:/a;b\r\n"
                       "[train]\r\n"
                       "batch=9\r\n"
                       "lr = 0.25 ;comment\r\n";
    cr_assert_eq(load_text(&c, text, &err), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(c.train.epochs, 4);
    cr_assert_str_eq(c.data.path, "/a;b");
    cr_assert_eq(c.train.batch, 9);
    cr_assert_eq(c.train.optim.lr, 0.25);

    /* Last line without a newline. */
    cr_assert_eq(load_text(&c, "[train]\nepochs = 6", &err), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(c.train.epochs, 6);
}

Test(config, bool_and_label_spellings)
{
    const char *yes[] = {"true", "yes", "1"}, *no[] = {"false", "no", "0"};
    for (int i = 0; i < 3; i++) {
        occam_config c;
        occam_config_defaults(&c);
        char a[64];
        snprintf(a, sizeof a, "train.nesterov=%s", yes[i]);
        set_ok(&c, a);
        cr_assert(c.train.optim.nesterov);
        snprintf(a, sizeof a, "train.nesterov=%s", no[i]);
        set_ok(&c, a);
        cr_assert(!c.train.optim.nesterov);
    }
    occam_config c;
    occam_config_defaults(&c);
    set_ok(&c, "data.label=first");
    cr_assert_eq(c.data.label, OCCAM_LABEL_FIRST);
    set_ok(&c, "data.label=17");
    cr_assert_eq(c.data.label, 17);
    set_ok(&c, "data.label=last");
    cr_assert_eq(c.data.label, OCCAM_LABEL_LAST);
}

/* data.label may name its column by the file's header (it took first, last or a number only:
 * a user with a header had to count). A name is kept as written, prints and round-trips
 * through INI and JSON as a name (a name starting with a digit too), and is held to a path's
 * rules for text; a number after it leaves no name behind. */
Test(config, label_names_a_column_of_the_header)
{
    occam_config c;
    occam_config_defaults(&c);
    set_ok(&c, "data.label=price");
    cr_assert_eq(c.data.label, OCCAM_LABEL_NAMED);
    cr_assert_str_eq(c.data.label_name, "price");
    set_ok(&c, "data.label=income, $ (1990)");
    cr_assert_str_eq(c.data.label_name, "income, $ (1990)");
    char *ini = ini_text(&c);
    cr_assert(strstr(ini, "\nlabel = income, $ (1990)\n"), "%s", ini);
    free(ini);
    occam_config back;
    round_trip(&c, &back);
    assert_config_equal(&c, &back);
    cr_assert(memcmp(&c, &back, sizeof c) == 0);
    set_ok(&c, "data.label=2nd");
    char *js = json_text(&c);
    cr_assert(strstr(js, "\"label\": \"2nd\""), "%s", js);
    free(js);
    set_ok(&c, "data.label=2020-01"); /* not a whole number: a name */
    cr_assert_str_eq(c.data.label_name, "2020-01");
    set_ok(&c, "data.label=1.5"); /* a wavelength */
    cr_assert_eq(c.data.label, OCCAM_LABEL_NAMED);
    cr_assert_str_eq(c.data.label_name, "1.5");
    set_ok(&c, "data.label=17");
    cr_assert_eq(c.data.label, 17);
    cr_assert_eq(c.data.label_name[0], 0);
    js = json_text(&c);
    cr_assert(strstr(js, "\"label\": 17"), "%s", js);
    free(js);
    occam_config d;
    occam_config_defaults(&d);
    set_ok(&d, "data.label=17");
    cr_assert(memcmp(&c, &d, sizeof c) == 0, "a name set before a number is left behind");
    check_set_error("data.label=\"price\"",
                    "--set data.label: is in quotes, which are part of an INI value: write it "
                    "without them (got '\"price\"')");
    check_set_error("data.label=a\x1b[2Jb",
                    "--set data.label: contains a control character (got 'a\\x1B[2Jb')");
    char longname[OCCAM_LABEL_NAME_MAX + 16];
    memset(longname, 'n', sizeof longname);
    snprintf(longname, sizeof longname, "data.label=");
    longname[strlen(longname)] = 'n';
    longname[sizeof longname - 1] = 0;
    occam_config e;
    occam_config_defaults(&e);
    occam_error err = {0};
    cr_assert_eq(occam_config_set(&e, longname, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "too long: 260 characters (max 255)"), "%s", err.msg);
}

/* ---- load errors, each at its exact line -------------------------------------------------- */

Test(config, error_cannot_open)
{
    occam_config c;
    occam_config_defaults(&c);
    occam_error err = {0};
    const char *path = "/tmp/occam-test-config-does-not-exist.ini";
    cr_assert_eq(occam_config_load(&c, path, &err), OCCAM_ERR_INPUT);
    cr_assert_str_eq(err.msg,
                     "/tmp/occam-test-config-does-not-exist.ini: cannot open: No such file or "
                     "directory");
    cr_assert_eq(occam_config_load(&c, "/tmp", &err), OCCAM_ERR_INPUT);
    cr_assert_str_eq(err.msg, "/tmp: cannot open: Is a directory");
}

Test(config, error_unknown_section)
{
    check_error("[data]\nsource = csv\n\n[foo]\n", 4,
                "unknown section [foo] (sections: data, model, train, runtime, prune, mdl, noise)", true);
    check_error("[train]\n[prun]\nnm = 2:4\n", 2,
                "unknown section [prun] (did you mean [prune]?)", true);
    check_error("[data]\n[trian]\nepochs = 3\n", 2,
                "unknown section [trian] (did you mean [train]?)", true);
    check_error("[data]\n[ train ]\n", 2, "unknown section [ train ]", false);
    check_error("[data]\n[train] epochs = 3\n", 2, "unexpected text after [train]: epochs = 3",
                true);
    check_error("[data]\n[foo] x\n", 2, "unexpected text after [foo]: x", true);
}

Test(config, error_unknown_key)
{
    check_error("[train]\n\nepoch = 3\n", 3,
                "unknown key 'epoch' in [train] (did you mean 'epochs'?)", true);
    check_error("[train]\nLR = 0.1\n", 2, "unknown key 'LR' in [train] (did you mean 'lr'?)",
                true);
    check_error("[train]\nfoo = 1\n", 2, "unknown key 'foo' in [train]", true);
    check_error("[train]\nepochs = 3\nthreads = 4\n", 3,
                "unknown key 'threads' in [train] (it belongs in [runtime])", true);
    check_error("; top\nepochs = 3\n[train]\n", 2,
                "key 'epochs' is outside any section (it belongs in [train])", true);
    check_error("zzz = 3\n", 1, "key 'zzz' is outside any section", true);
    check_error("[prune]\nlayer_target = 0.5\n", 2,
                "unknown key 'layer_target' in [prune] (did you mean 'layer_targets'?)", true);
    check_error("[train]\nrewind = init\n", 2,
                "unknown key 'rewind' in [train] (it belongs in [prune])", true);
}

Test(config, error_duplicate_key)
{
    check_error("[train]\nlr = 0.1\n\n; again\nlr = 0.2\n", 5,
                "duplicate key 'lr' in [train] (first set on line 2)", true);
    check_error("[train]\nepochs = 2\n[data]\nseed = 3\n[train]\nepochs = 2\n", 6,
                "duplicate key 'epochs' in [train] (first set on line 2)", true);
    /* Same key name in two sections is not a duplicate. */
    occam_config c;
    occam_config_defaults(&c);
    occam_error err = {0};
    cr_assert_eq(load_text(&c, "[data]\nseed = 5\n[train]\nseed = 6\n", &err), OCCAM_OK, "%s",
                 err.msg);
    cr_assert_eq(c.data.seed, 5);
    cr_assert_eq(c.train.seed, 6);
}

Test(config, error_malformed_numbers)
{
    static const struct {
        const char *line, *want;
    } cases[] = {
        {"epochs = 2x", "train.epochs = 2x: not an integer"},
        {"epochs =", "train.epochs: empty value"},
        {"epochs = ; only a comment", "train.epochs: empty value"},
        {"epochs = 0x10", "train.epochs = 0x10: not an integer"},
        {"epochs = 1.0", "train.epochs = 1.0: not an integer"},
        {"epochs = 1e3", "train.epochs = 1e3: not an integer"},
        {"epochs = 1 2", "train.epochs = 1 2: not an integer"},
        {"epochs = 99999999999999999999", "train.epochs = 99999999999999999999: must be in "
                                          "[1, 1000000]"},
        {"lr = inf", "train.lr = inf: not a decimal number"},
        {"lr = nan", "train.lr = nan: not a decimal number"},
        {"lr = 0x1p-3", "train.lr = 0x1p-3: not a decimal number"},
        {"lr = 1.5.2", "train.lr = 1.5.2: not a decimal number"},
        {"lr = 1e", "train.lr = 1e: not a decimal number"},
        {"lr = .", "train.lr = .: not a decimal number"},
        {"lr = 1e999", "train.lr = 1e999: must be in (0, 100]"},
        {"seed = -1", "train.seed = -1: not an unsigned integer"},
        {"seed = +1", "train.seed = +1: not an unsigned integer"},
        {"seed = 18446744073709551616",
         "train.seed = 18446744073709551616: must be at most 18446744073709551615"},
        {"nesterov = maybe", "train.nesterov = maybe: expected true, false, yes, no, 1 or 0"},
        {"nesterov = True", "train.nesterov = True: expected true, false, yes, no, 1 or 0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[256];
        snprintf(text, sizeof text, "[train]\nbatch = 3\n%s\n", cases[i].line);
        check_error(text, 3, cases[i].want, true);
    }
}

Test(config, error_out_of_range)
{
    check_error("[train]\nepochs = 5\nlr = 0\n", 3, "train.lr = 0: must be in (0, 100]", true);
    check_error("[train]\nlr = 100.0000001\n", 2,
                "train.lr = 100.0000001: must be in (0, 100]", true);
    check_error("[train]\nmomentum = 1\n", 2, "train.momentum = 1: must be in [0, 1)", true);
    check_error("[train]\nmomentum = -0.1\n", 2, "train.momentum = -0.1: must be in [0, 1)",
                true);
    check_error("[train]\neps = 0\n", 2, "train.eps = 0: must be in (0, 1]", true);
    check_error("[train]\nepochs = 0\n", 2, "train.epochs = 0: must be in [1, 1000000]", true);
    check_error("[train]\nbatch = 1048577\n", 2,
                "train.batch = 1048577: must be in [1, 1048576]", true);
    check_error("[data]\nsamples = 1000000001\n", 2,
                "data.samples = 1000000001: must be in [1, 1000000000]", true);
    check_error("[data]\nclasses = 1\n", 2, "data.classes = 1: must be in [2, 100000]", true);
    check_error("[runtime]\nthreads = -1\n", 2, "runtime.threads = -1: must be in [0, 4096]",
                true);
    check_error("[data]\nspread = 1000001\n", 2,
                "data.spread = 1000001: must be in [0, 1000000]", true);
}

/* A nonzero number below the least double read as 0, which is in range, and for keys where 0
 * means automatic it switched the mode without a word: mdl.weight_precision = 1e-400 searched
 * the step per layer, noise.prior_sigma = 1e-400 learned the width (found by the third
 * hostile-input sweep). Zero written any way is still 0, and the least subnormal still reads. */
Test(config, a_nonzero_number_that_underflows_to_0_is_refused)
{
    const char *why = "nonzero but below the least double (about 5e-324), so it would read as "
                      "0; write 0 if 0 is meant";
    char want[256];
    snprintf(want, sizeof want, "mdl.weight_precision = 1e-400: %s", why);
    check_error("[mdl]\nweight_precision = 1e-400\n", 2, want, true);
    snprintf(want, sizeof want, "noise.prior_sigma = -2e-324: %s", why);
    check_error("[noise]\nprior_sigma = -2e-324\n", 2, want, true);
    snprintf(want, sizeof want, "--set prune.layer_targets: entry 2 (1e-999) is %s (got "
             "'0.5,1e-999')", why);
    check_set_error("prune.layer_targets=0.5,1e-999", want);
    occam_config c;
    occam_config_defaults(&c);
    set_ok(&c, "mdl.weight_precision=0e-400");
    cr_assert_eq(c.mdl.weight_precision, 0.0);
    set_ok(&c, "mdl.weight_precision=0.000e5");
    cr_assert_eq(c.mdl.weight_precision, 0.0);
    set_ok(&c, "train.eps=5e-324");
    cr_assert_eq(c.train.optim.eps, 4.9406564584124654e-324);
}

Test(config, error_enum_list_label)
{
    check_error("[data]\nsource = foo\n", 2,
                "data.source = foo: expected one of idx, csv, blobs, peptide", true);
    check_error("[data]\nsource = CSV\n", 2,
                "data.source = CSV: expected one of idx, csv, blobs, peptide", true);
    check_error("[train]\nschedule = linear\n", 2,
                "train.schedule = linear: expected one of constant, step, cosine", true);
    /* a '#' comment after the value is part of it: inih ends values at " ;" only */
    check_error("[data]\ntask = regress   # or classify\n", 2,
                "data.task = regress   # or classify: expected one of classify, regress (a "
                "comment after the value? it must start with ';', or go on a line of its own)",
                true);
    check_error("[data]\nsource = foo#bar\n", 2,
                "data.source = foo#bar: expected one of idx, csv, blobs, peptide", true);
    check_error("[model]\nlayers = 784\n", 2,
                "model.layers = 784: needs 2 to 16 comma-separated entries, got 1", true);
    check_error("[model]\nlayers = 784,,10\n", 2, "model.layers = 784,,10: entry 2 is empty",
                true);
    check_error("[model]\nlayers = 784,10,\n", 2, "model.layers = 784,10,: entry 3 is empty",
                true);
    check_error("[model]\nlayers = 784,0,10\n", 2,
                "model.layers = 784,0,10: entry 2 (0) must be in [1, 1000000]", true);
    check_error("[model]\nlayers = 784,1000001\n", 2,
                "model.layers = 784,1000001: entry 2 (1000001) must be in [1, 1000000]", true);
    check_error("[model]\nlayers = 784,x\n", 2,
                "model.layers = 784,x: entry 2 (x) is not an integer", true);
    check_error("[model]\nlayers = 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17\n", 2,
                "more than 16 entries", false);
    check_error("[data]\nlabel = 0\n", 2,
                "data.label = 0: expected first, last, a column number from 1 to 1000000 or a "
                "name from the file's header",
                true);
    check_error("[data]\nlabel = -3\n", 2, "expected first, last, a column number", false);
    check_error("[data]\ntask = regress\nnormalize_targets = on\n", 3,
                "data.normalize_targets = on: expected true, false, yes, no, 1 or 0", true);

    /* 16 entries is the maximum, and is fine. */
    occam_config c;
    occam_config_defaults(&c);
    set_ok(&c, "model.layers=1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16");
    cr_assert_eq(c.model.nlayers, 16);
    cr_assert_eq(c.model.layers[15], 16);
    set_ok(&c, "model.layers=3,4");
    cr_assert_eq(c.model.nlayers, 2);
    for (int i = 2; i < OCCAM_MAX_LAYERS; i++) /* shorter lists clear the tail */
        cr_assert_eq(c.model.layers[i], 0);
}

Test(config, error_syntax)
{
    check_error("[train]\nepochs 20\n", 2,
                "syntax error: expected 'key = value' or '[section]': epochs 20", true);
    check_error("[train\nepochs = 2\n", 1,
                "syntax error: section header without a closing ']': [train", true);
    /* First error wins, whichever kind comes first. */
    check_error("[train]\nepochs 20\nepoch = 3\n", 2, "syntax error", false);
    check_error("[train]\nepoch = 3\nepochs 20\n", 2, "unknown key 'epoch'", false);
    check_error("[train]\nlr = 0\n[foo]\n", 2, "train.lr = 0", false);
    check_error("[train]\nbad line\n[foo]\n", 2, "syntax error", false);
}

/* Text echoed from a config line or a --set argument cannot drive the terminal: control
 * bytes, DEL and broken UTF-8 come out as \xHH (well-formed UTF-8 as it is), the file and line
 * are kept, and a syntax error quotes at most 80 bytes of its line. */
Test(config, echoed_bytes_are_escaped)
{
    check_error("[data]\nsource = \x1b[31mred\x01\x7f\n", 2,
                "data.source = \\x1B[31mred\\x01\\x7F: expected one of idx, csv, blobs, "
                "peptide", true);
    check_error("[da\x1bta]\n", 1, "unknown section [da\\x1Bta] (did you mean [data]?)", true);
    check_error("[data]\nsourc\x9b = x\n", 2, "unknown key 'sourc\\x9B' in [data]", false);
    check_error("[data]\npath = caf\xc3\xa9\n[x\n", 3,
                "syntax error: section header without a closing ']': [x", true);
    check_error("[data]\nsource = caf\xc3\xa9\xc2\x9b\n", 2,
                "data.source = caf\xc3\xa9\\xC2\\x9B: expected", false);
    char line[300] = "\x01\x02\x03";
    for (int i = 3; i < 150; i++) line[i] = 'z';
    line[150] = '\0';
    char text[400], want[200] = "syntax error: expected 'key = value' or '[section]': "
                                "\\x01\\x02\\x03";
    snprintf(text, sizeof text, "%s\n", line);
    for (int i = 3; i < 80; i++) strcat(want, "z");
    strcat(want, "...");
    check_error(text, 1, want, true);
    check_set_error("data.source=a\x1b" "b\nc",
                    "--set data.source: expected one of idx, csv, blobs, peptide "
                    "(got 'a\\x1Bb\\x0Ac')");
    check_set_error("\x1b[2J", "--set \\x1B[2J: expected section.key=value");
}

Test(config, error_line_too_long)
{
    /* inih's buffer is 200 bytes, which must hold "\r\n\0": 197 characters is its limit. A
     * longer "key = value" line reaches it as the key and a marker, and the value (a path takes
     * 1023 bytes) comes from occam's own 1280-byte line: --print-config of a run given a long
     * path by --set wrote a file that did not load back. */
    static char ok[2048], bad[2048];
    snprintf(ok, sizeof ok, "[data]\npath = /%0189d\n", 0); /* 7 + 190 = 197 chars */
    cr_assert_eq(strlen(strchr(ok, '\n') + 1), 198);
    occam_config c;
    occam_config_defaults(&c);
    occam_error err = {0};
    cr_assert_eq(load_text(&c, ok, &err), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(strlen(c.data.path), 190);
    for (int n = 191; n <= 1023; n += 208) { /* past inih's buffer, to a path's limit */
        snprintf(ok, sizeof ok, "[data]\npath =   /%0*d   ; a comment\r\n", n - 1, 0);
        occam_config_defaults(&c);
        cr_assert_eq(load_text(&c, ok, &err), OCCAM_OK, "%d: %s", n, err.msg);
        cr_assert_eq(strlen(c.data.path), (size_t)n, "%zu", strlen(c.data.path));
        cr_assert_eq(c.data.path[0], '/');
        /* written back, it loads to the same config */
        char *path = temp_file("");
        FILE *f = fopen(path, "w");
        cr_assert(f);
        occam_config_write_ini(&c, f);
        fclose(f);
        occam_config back;
        occam_config_defaults(&back);
        cr_assert_eq(occam_config_load(&back, path, &err), OCCAM_OK, "%s", err.msg);
        remove_file(path);
        cr_assert_str_eq(back.data.path, c.data.path);
    }
    snprintf(bad, sizeof bad, "[data]\npath = /%01023d\n", 0);
    check_error(bad, 2, "data.path = /", false); /* a value of 1024: the key's own limit */
    snprintf(bad, sizeof bad, "[data]\npath = /%01270d\n", 0);
    check_error(bad, 2, "line too long (max 1277 characters)", true);
    /* The same limits with CRLF line ends and at EOF without a newline. */
    snprintf(bad, sizeof bad, "[data]\r\npath = /%01270d\r\n", 0);
    check_error(bad, 2, "line too long (max 1277 characters)", true);
    snprintf(bad, sizeof bad, "[data]\n\n\npath = /%01270d", 0);
    check_error(bad, 4, "line too long (max 1277 characters)", true);
    /* a long line with no key: inih's limit */
    snprintf(bad, sizeof bad, "[data]\n%0300d\nseed = 1\n", 0);
    check_error(bad, 2, "line too long (max 197 characters, or 1277 for a key's value)", true);
    /* a run of '\r's before the '\n' is one line end: only the line without them was held to
     * inih's 200 bytes, and 1,100 of them were copied past its stack buffer (SIGSEGV) */
    snprintf(ok, sizeof ok, "[train]\nepochs = 7");
    memset(ok + strlen(ok), '\r', 1100);
    strcpy(ok + strlen("[train]\nepochs = 7") + 1100, "\nlr = 0.5\r\r\n");
    occam_config_defaults(&c);
    cr_assert_eq(load_text(&c, ok, &err), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(c.train.epochs, 7);
    cr_assert_float_eq(c.train.optim.lr, 0.5, 1e-12);
    /* a long comment is a comment; a long line after a long value is read afresh */
    snprintf(ok, sizeof ok, "[data]\n;%0300d\npath = /%0400d\nseed = 7\n", 0, 0);
    occam_config_defaults(&c);
    cr_assert_eq(load_text(&c, ok, &err), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(strlen(c.data.path), 401);
    cr_assert_eq(c.data.seed, 7);
}

Test(config, error_continuation_line)
{
    check_error("[train]\nlr = 0.1\n  0.2\n", 3,
                "indented line continues key 'lr', and continuation lines are not supported "
                "(remove the indentation)",
                true);
    /* An indented "key = value" after a key is a continuation for inih, not a new key. */
    check_error("[train]\nlr = 0.1\n\tepochs = 5\n", 3, "continuation lines are not supported",
                false);
    /* ... even if it repeats the key. */
    check_error("[train]\nlr = 0.1\n    lr = 0.2\n", 3, "continuation lines are not supported",
                false);
}

Test(config, error_nul_byte)
{
    char text[] = "[train]\nepochs = 2X\n";
    char *path;
    text[18] = '\0'; /* "epochs = 2\0\n" */
    char tmpl[] = "/tmp/occam_test_config_XXXXXX";
    int fd = mkstemp(tmpl);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
    close(fd);
    path = tmpl;
    occam_config c;
    occam_config_defaults(&c);
    occam_error err = {0};
    cr_assert_eq(occam_config_load(&c, path, &err), OCCAM_ERR_INPUT);
    unlink(path);
    cr_assert(strstr(err.msg, ":2: line contains a NUL byte"), "%s", err.msg);
}

/* ---- --set ---------------------------------------------------------------------------------- */

Test(config, set_overrides)
{
    occam_config c;
    occam_config_defaults(&c);
    occam_error err = {0};
    cr_assert_eq(load_text(&c, "[train]\nlr = 0.5\nepochs = 3\n", &err), OCCAM_OK, "%s",
                 err.msg);
    set_ok(&c, "train.lr=0.25");            /* overrides the file */
    set_ok(&c, "  train.epochs =  8  ");    /* blanks around key and value */
    set_ok(&c, "train.epochs=9");           /* last one wins */
    set_ok(&c, "data.path=/x=y.z");         /* '=' and '.' in the value */
    set_ok(&c, "data.train=");              /* empty path */
    set_ok(&c, "model.layers=20, 8,3");
    cr_assert_eq(c.train.optim.lr, 0.25);
    cr_assert_eq(c.train.epochs, 9);
    cr_assert_str_eq(c.data.path, "/x=y.z");
    cr_assert_str_eq(c.data.train, "");
    cr_assert_eq(c.model.nlayers, 3);
    cr_assert_eq(c.model.layers[0], 20);
    cr_assert_eq(c.model.layers[2], 3);
}

Test(config, set_errors)
{
    check_set_error("train.lr", "--set train.lr: expected section.key=value");
    check_set_error("lr=0.1", "--set lr=0.1: expected section.key=value");
    check_set_error(".lr=0.1", "--set .lr=0.1: expected section.key=value");
    check_set_error("train.=0.1", "--set train.=0.1: expected section.key=value");
    check_set_error("foo.bar=1", "--set foo.bar: unknown section [foo] (sections: data, model, "
                                 "train, runtime, prune, mdl, noise)");
    check_set_error("train.epoch=5",
                    "--set train.epoch: unknown key 'epoch' in [train] (did you mean 'epochs'?)");
    check_set_error("train.threads=5",
                    "--set train.threads: unknown key 'threads' in [train] (it belongs in "
                    "[runtime])");
    check_set_error("train.lr=0", "--set train.lr: must be in (0, 100] (got '0')");
    check_set_error("train.epochs=", "--set train.epochs: empty value");
    check_set_error("train.epochs=1x", "--set train.epochs: not an integer (got '1x')");
    check_set_error("data.source=foo",
                    "--set data.source: expected one of idx, csv, blobs, peptide (got 'foo')");
    check_set_error("data.normalize_targets=maybe",
                    "--set data.normalize_targets: expected true, false, yes, no, 1 or 0 (got "
                    "'maybe')");
}

Test(config, set_paths)
{
    occam_config c;
    occam_config_defaults(&c);
    char *a = malloc(OCCAM_PATH_MAX + 32);
    cr_assert_not_null(a);
    /* 1023 characters fit, 1024 do not. */
    int n = snprintf(a, OCCAM_PATH_MAX + 32, "data.path=/");
    memset(a + n, 'p', OCCAM_PATH_MAX - 2);
    a[n + OCCAM_PATH_MAX - 2] = '\0';
    set_ok(&c, a);
    cr_assert_eq(strlen(c.data.path), OCCAM_PATH_MAX - 1);
    strcat(a, "q");
    occam_error err = {0};
    cr_assert_eq(occam_config_set(&c, a, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "--set data.path: too long: 1024 characters (max 1023)"), "%s",
              err.msg);
    free(a);

    /* Paths an INI file could not carry are refused, so write_ini always round-trips. */
    check_set_error("data.path=/a ;b", "--set data.path: contains a ';' at its start or after "
                                       "a blank, which INI files read as a comment (got '/a "
                                       ";b')");
    check_set_error("data.path=;b", "--set data.path: contains a ';' at its start or after a "
                                    "blank, which INI files read as a comment (got ';b')");
    /* The value is echoed with its control bytes and broken UTF-8 quoted as \xHH. */
    check_set_error("data.path=/a\nb", "--set data.path: contains a control character (got "
                                       "'/a\\x0Ab')");
    check_set_error("data.path=/a\tb", "--set data.path: contains a control character (got "
                                       "'/a\\x09b')");
    check_set_error("data.path=/a\xff", "--set data.path: is not valid UTF-8 (got '/a\\xFF')");
    /* C1 controls are valid UTF-8 (U+009B is CSI, which some terminals obey as ESC [), and
     * --print-config, select's labels and the report echo a path as it is. */
    check_set_error("data.path=/a\xc2\x9b" "31mb", "--set data.path: contains a control character "
                                              "(got '/a\\xC2\\x9B31mb')");
    check_set_error("data.path=/a\xc2\x80", "--set data.path: contains a control character "
                                          "(got '/a\\xC2\\x80')");
    set_ok(&c, "data.path=/données/ünï ☃");
    cr_assert_str_eq(c.data.path, "/données/ünï ☃");
    /* INI values take no quotes: train = "x.csv" was looked for with them ("cannot open") */
    check_set_error("data.train=\"x.csv\"", "--set data.train: is in quotes, which are part of "
                                          "an INI value: write it without them (got "
                                          "'\"x.csv\"')");
    check_set_error("data.train='x.csv'", "--set data.train: is in quotes, which are part of an "
                                        "INI value: write it without them (got ''x.csv'')");
    set_ok(&c, "data.train=\"x\".csv");
    set_ok(&c, "data.train=it's.csv");
    set_ok(&c, "data.train=\"");
}

/* ---- round trip ----------------------------------------------------------------------------- */

Test(config, ini_round_trip_defaults)
{
    occam_config c, back;
    occam_config_defaults(&c);
    round_trip(&c, &back);
    assert_config_equal(&c, &back);
    cr_assert(memcmp(&c, &back, sizeof c) == 0);
}

Test(config, ini_round_trip_everything_changed)
{
    occam_config c, back;
    occam_config_defaults(&c);
    occam_error err = {0};
    cr_assert_eq(load_text(&c, full_file, &err), OCCAM_OK, "%s", err.msg);
    set_ok(&c, "data.path=/tmp/with space/it's \"quoted\"/a;b#c=d:e\\f");
    set_ok(&c, "data.test=");
    set_ok(&c, "data.label=first");
    set_ok(&c, "model.layers=7,1000000,1,2,3,4,5,6,7,8,9,10,11,12,13,14");
    /* Doubles that need all 17 digits, subnormals and negative zero. */
    c.train.optim.lr = 0.1 + 0.2;
    c.train.optim.momentum = 1.0 / 3.0;
    c.train.optim.beta1 = nextafter(0.9, 1.0);
    c.train.optim.beta2 = 0.999999999999999;
    c.train.optim.eps = 4.9406564584124654e-324;
    c.train.optim.weight_decay = -0.0;
    c.train.optim.gamma = 2.2250738585072014e-308;
    c.train.optim.lr_min = 99.999999999999986;
    c.data.spread = 123456.789e-3;
    c.data.samples = 999999999;
    c.prune.target = nextafter(1.0, 0.0);

    round_trip(&c, &back);
    assert_config_equal(&c, &back);
    cr_assert(signbit(back.train.optim.weight_decay), "-0 lost its sign");
    cr_assert(memcmp(&c, &back, sizeof c) == 0);

    /* And the text is stable: writing the reloaded config gives the same bytes. */
    char *t1 = ini_text(&c), *t2 = ini_text(&back);
    cr_assert_str_eq(t1, t2);
    cr_assert(strstr(t1, "\n[train]\nepochs = 3\n"), "%s", t1);
    cr_assert(strstr(t1, "lr = 0.30000000000000004\n"), "%s", t1);
    cr_assert(strstr(t1, "momentum = 0.3333333333333333\n"), "%s", t1);
    cr_assert(strstr(t1, "label = first\n"), "%s", t1);
    cr_assert(strstr(t1, "\nnormalize = standardize\nnormalize_targets = false\n"), "%s", t1);
    cr_assert(strstr(t1, "\ntest =\n"), "%s", t1);
    cr_assert(strstr(t1, "\n[prune]\nschedule = agp\nmethod = obd\ngranularity = nm\n"
                         "scope = layer\ntarget = 0.9999999999999999\n"
                         "layer_targets = 0.5,-1,0.25\nmin_keep = 1000000000000\n"),
              "%s", t1);
    cr_assert(strstr(t1, "\nnm = 1:8\n"), "%s", t1);
    cr_assert(strstr(t1, "\nrewind = epoch:3\nseed = 0\n"), "%s", t1);
    free(t1);
    free(t2);
}

Test(config, ini_round_trip_prune_lists)
{
    occam_config c, back;
    occam_config_defaults(&c);
    /* Entries that need all 17 digits, negative zero, a subnormal and the -1 marker. */
    set_ok(&c, "model.layers=8,8,8,8,8");
    set_ok(&c, "prune.layer_targets=0.30000000000000004,-0,4.9406564584124654e-324,-1");
    cr_assert_eq(c.prune.nlayer_target, 4);
    cr_assert(signbit(c.prune.layer_target[1]));
    set_ok(&c, "prune.rewind=init");
    set_ok(&c, "prune.nm=63:64");
    round_trip(&c, &back);
    assert_config_equal(&c, &back);
    cr_assert(signbit(back.prune.layer_target[1]), "-0 lost its sign");
    cr_assert(memcmp(&c, &back, sizeof c) == 0);
    char *t = ini_text(&back);
    cr_assert(strstr(t, "\nlayer_targets = 0.30000000000000004,-0,5e-324,-1\n"),
              "%s", t);
    cr_assert(strstr(t, "\nnm = 63:64\n"), "%s", t);
    cr_assert(strstr(t, "\nrewind = init\n"), "%s", t);
    free(t);

    /* The longest list, 15 entries, with values short enough for an INI line. */
    set_ok(&c, "model.layers=1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16");
    set_ok(&c, "prune.layer_targets=0,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,-1,0.125,0.25,0.375,"
               "0.999");
    cr_assert_eq(c.prune.nlayer_target, 15);
    round_trip(&c, &back);
    cr_assert(memcmp(&c, &back, sizeof c) == 0);

    /* Emptied again: written as "layer_targets =", read back as no entries. */
    set_ok(&c, "prune.layer_targets=");
    cr_assert_eq(c.prune.nlayer_target, 0);
    round_trip(&c, &back);
    cr_assert(memcmp(&c, &back, sizeof c) == 0);
    t = ini_text(&c);
    cr_assert(strstr(t, "\nlayer_targets =\nmin_keep = 0\n"), "%s", t);
    free(t);
}

Test(config, ini_text_short_numbers)
{
    occam_config c;
    occam_config_defaults(&c);
    char *t = ini_text(&c);
    /* Shortest form that reads back exactly, not a blind %.17g. */
    cr_assert(strstr(t, "[data]\nsource = idx\npath = /usr/share/datasets/fashion-mnist\n"
                        "train =\ntest =\nlabel = last\n"),
              "%s", t);
    cr_assert(strstr(t, "\nlr = 0.1\n"), "%s", t);
    cr_assert(strstr(t, "\nbeta2 = 0.999\n"), "%s", t);
    cr_assert(strstr(t, "\neps = 1e-08\n"), "%s", t);
    cr_assert(strstr(t, "\nspread = 3\n"), "%s", t);
    cr_assert(strstr(t, "[model]\nlayers = 784,300,100,10\nactivation = relu\ninit = he\n"),
              "%s", t);
    cr_assert(strstr(t, "\n[runtime]\nthreads = 0\noversubscribe = false\n"), "%s", t);
    free(t);
}

/* ---- JSON ------------------------------------------------------------------------------------ */

Test(config, json)
{
    occam_config c;
    occam_config_defaults(&c);
    set_ok(&c, "data.source=csv");
    set_ok(&c, "data.train=/tmp/a \"b\"\\c.csv");
    set_ok(&c, "data.label=4");
    set_ok(&c, "model.layers=20,64,3");
    set_ok(&c, "train.nesterov=true");
    set_ok(&c, "train.lr=0.05");
    set_ok(&c, "train.seed=18446744073709551615");

    char buf[8192];
    int n = occam_config_to_json(&c, buf, sizeof buf);
    cr_assert_gt(n, 0);
    cr_assert_eq((size_t)n, strlen(buf));
    const char *want[] = {
        "{\"data\": {\"source\": \"csv\", \"path\": \"/usr/share/datasets/fashion-mnist\", ",
        "\"train\": \"/tmp/a \\\"b\\\"\\\\c.csv\"",
        "\"test\": \"\"",
        "\"label\": 4,",
        "\"normalize\": \"scale\", \"normalize_targets\": true,",
        "\"holdout\": 0}, \"model\": {\"layers\": [20,64,3], \"activation\": \"relu\"",
        "\"nesterov\": true",
        "\"lr\": 0.05,",
        "\"eps\": 1e-08,",
        "\"seed\": 18446744073709551615, \"checkpoint_every\": 0, \"checkpoint_keep\": 3, "
        "\"checkpoint_dir\": \"checkpoints\"}, \"runtime\": {\"threads\": 0, ",
        "\"oversubscribe\": false, \"grad\": \"auto\"",
        "\"topology\": \"\"}, \"prune\": {\"schedule\": \"none\", \"method\": "
        "\"magnitude\", \"granularity\": \"weight\", \"scope\": \"global\", \"target\": 0.9, "
        "\"layer_targets\": [], \"min_keep\": 0, \"steps\": 5, \"finetune_epochs\": 2, "
        "\"start\": 0, \"end\": 10, \"every\": 100, \"nm\": \"2:4\", \"batches\": 8, "
        "\"bias\": false, \"rewind\": \"none\", \"seed\": 1, \"score_events\": false}, "
        "\"mdl\": {",
        "\"mdl\": {\"model_code\": \"two-part\", \"bits_per_weight\": 32",
        "\"seed\": 1}}",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        cr_assert(strstr(buf, want[i]), "'%s' not in %s", want[i], buf);
    cr_assert_eq(buf[n - 1], '}');

    /* Too small: -1, and never an overflow. Exactly big enough: fits. */
    char small[64];
    cr_assert_eq(occam_config_to_json(&c, small, sizeof small), -1);
    cr_assert_eq(small[0], '\0');
    char *exact = malloc((size_t)n + 1);
    cr_assert_eq(occam_config_to_json(&c, exact, (size_t)n + 1), n);
    cr_assert_str_eq(exact, buf);
    cr_assert_eq(occam_config_to_json(&c, exact, (size_t)n), -1);
    free(exact);

    /* Every member, in table order. */
    set_ok(&c, "data.label=last");
    char *j = json_text(&c);
    const char *head = "{\"data\": {\"source\": \"csv\", ";
    cr_assert(strncmp(j, head, strlen(head)) == 0, "%s", j);
    cr_assert(strstr(j, "\"train\": \"/tmp/a \\\"b\\\"\\\\c.csv\", "), "%s", j);
    cr_assert(strstr(j, "\"label\": \"last\", "), "%s", j);
    cr_assert(strstr(j, "}, \"model\": {\"layers\": [20,64,3], "), "%s", j);
    cr_assert(strstr(j, "\"oversubscribe\": false, "), "%s", j);
    cr_assert(strstr(j, "\"topology\": \"\"}, \"prune\": {\"schedule\": \"none\", "), "%s", j);
    cr_assert(strstr(j, "\"layer_targets\": [], "), "%s", j);
    cr_assert(strstr(j, "\"nm\": \"2:4\", "), "%s", j);
    size_t jl = strlen(j);
    const char *tail = "\"zero_weight\": 0.9, \"zero_cap\": 0, \"prior_update\": \"em\", "
                       "\"prior_steps\": 30, \"data_term\": \"auto\", \"log_alpha\": 3, \"seed\": 1}}";
    cr_assert(jl > strlen(tail) && !strcmp(j + jl - strlen(tail), tail), "%s", j);
    free(j);
}

/* ---- help ----------------------------------------------------------------------------------- */

Test(config, help)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_not_null(f);
    occam_config_write_help(f);
    fclose(f);
    const char *want[] = {"data.source", "idx|csv|blobs", "train.lr", "(0, 100]", "0.1",
                          "learning rate", "model.layers", "784,300,100,10", "int list",
                          "train.momentum", "[0, 1)", "runtime.oversubscribe", "true|false",
                          "data.train", "\"\"", "first|last|1..1000000|NAME", "uint64",
                          "none|oneshot|iterative|agp", "magnitude|taylor|obd|random",
                          "weight|neuron|nm", "global|layer", "double list", "0-15 x [-1, 1)",
                          "N:M", "1 <= N < M <= 64", "enum:N", "none|init|epoch:0..1000000",
                          "[0, 1000000000000]"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        cr_assert(strstr(buf, want[i]), "'%s' not in help", want[i]);
    /* One line per key, each starting with its name. */
    cr_assert(strstr(buf, "\ntrain.epochs "), "%s", buf);
    cr_assert(strstr(buf, "\nruntime.threads "), "%s", buf);
    cr_assert(strstr(buf, "\n\nprune.schedule "), "%s", buf);
    const char *rows[] = {"prune.layer_targets", "prune.nm", "prune.rewind"};
    const char *types[] = {"double list", "N:M", "enum:N"};
    const char *defs[] = {"\"\"", "2:4", "none"};
    for (int i = 0; i < 3; i++) {
        char *line = strstr(buf, rows[i]);
        cr_assert_not_null(line);
        char *eol = strchr(line, '\n');
        char row[512];
        snprintf(row, sizeof row, "%.*s", (int)(eol - line), line);
        char *t = strstr(row, types[i]), *d = t ? strstr(t + strlen(types[i]), defs[i]) : NULL;
        cr_assert(t && d, "row '%s' lacks type '%s' then default '%s'", row, types[i], defs[i]);
    }
    free(buf);
}

/* ---- validate -------------------------------------------------------------------------------- */

/* With `trains`, occam_train_check's verdict (train and select only) on a config that
 * validates (so eval, mdl and predict still take it); else occam_config_validate's. */
static void check_config(const char *const *sets, size_t n, const char *want, bool trains)
{
    occam_config c;
    occam_config_defaults(&c);
    for (size_t i = 0; i < n; i++)
        set_ok(&c, sets[i]);
    occam_error err = {0};
    int rc = occam_config_validate(&c, &err);
    if (trains) {
        cr_assert_eq(rc, OCCAM_OK, "%s", err.msg);
        rc = occam_train_check(&c, &err);
    }
    if (!want) {
        cr_assert_eq(rc, OCCAM_OK, "%s", err.msg);
        return;
    }
    cr_assert_eq(rc, OCCAM_ERR_INPUT, "expected '%s'", want);
    cr_assert_str_eq(err.msg, want);
}

#define VALIDATE(want, ...)                                                                 \
    do {                                                                                    \
        const char *const sets_[] = {__VA_ARGS__};                                          \
        check_config(sets_, sizeof sets_ / sizeof sets_[0], want, false);                   \
    } while (0)

#define TRAINS(want, ...)                                                                   \
    do {                                                                                    \
        const char *const sets_[] = {__VA_ARGS__};                                          \
        check_config(sets_, sizeof sets_ / sizeof sets_[0], want, true);                    \
    } while (0)

Test(config, validate)
{
    VALIDATE(NULL, "train.epochs=3");
    VALIDATE("data.train: data.source = csv needs the training file", "data.source=csv");
    VALIDATE(NULL, "data.source=csv", "data.train=/d/train.csv", "data.task=regress",
             "model.layers=5,1");
    VALIDATE("data.task: regress needs data.source = csv or peptide (data.source = idx is "
             "classification data)",
             "data.task=regress");
    VALIDATE("data.task: regress needs data.source = csv or peptide (data.source = blobs is "
             "classification data)",
             "data.source=blobs", "data.task=regress", "model.layers=20,3");
    VALIDATE("data.path: data.source = idx needs the IDX folder", "data.path=");
    /* '[data] train = my.csv' without 'source = csv' trained on the default IDX data */
    VALIDATE("data.train: names a CSV file, but data.source = idx does not read it (set "
             "data.source = csv, or leave data.train empty)",
             "data.train=my.csv");
    VALIDATE("data.test: names a CSV file, but data.source = blobs does not read it (set "
             "data.source = csv, or leave data.test empty)",
             "data.source=blobs", "model.layers=20,16,3", "data.test=t.csv");
    VALIDATE(NULL, "data.source=blobs", "model.layers=20,16,3");
    VALIDATE("model.layers: input width 784 does not match data.features = 20",
             "data.source=blobs");
    VALIDATE("model.layers: output width 5 does not match data.classes = 3",
             "data.source=blobs", "model.layers=20,5");
    VALIDATE(NULL, "data.source=blobs", "data.features=2", "data.classes=7", "model.layers=2,7");
    /* idx input width is the data loader's business. */
    VALIDATE(NULL, "model.layers=10,10");
    VALIDATE("train.lr_min: 0.5 exceeds train.lr = 0.1 (the cosine schedule decays from lr to "
             "lr_min)",
             "train.schedule=cosine", "train.lr_min=0.5");
    VALIDATE(NULL, "train.schedule=step", "train.lr_min=0.5");
    VALIDATE(NULL, "noise.enabled=true", "noise.prior_scope=network");
    VALIDATE(NULL, "noise.enabled=true", "noise.prior=mog", "noise.prior_scope=network");
    VALIDATE(NULL, "noise.enabled=true", "noise.prior=mog", "noise.prior_scope=layer");
    VALIDATE("noise.prior_scope = network: the sparse prior has no parameters to share (use "
             "gaussian or mog)",
             "noise.enabled=true", "noise.prior=sparse", "noise.prior_scope=network");
    /* the default scope (auto) is one prior for the network and leaves the sparse prior alone */
    VALIDATE(NULL, "noise.enabled=true", "noise.prior=mog");
    VALIDATE(NULL, "noise.enabled=true", "noise.prior=sparse");
    VALIDATE(NULL, "noise.enabled=true", "noise.prior=sparse", "noise.rebalance=false");
    /* a Gaussian prior narrower than its floor was trained at the floor without a word */
    VALIDATE("noise.prior_sigma: 1e-300 is narrower than the 1e-06 a Gaussian prior is kept at; "
             "use 0 (learned) or a width of at least 1e-06",
             "noise.enabled=true", "noise.prior_sigma=1e-300");
    VALIDATE("noise.prior_sigma: 9.99e-07 is narrower than the 1e-06 a Gaussian prior is kept "
             "at; use 0 (learned) or a width of at least 1e-06",
             "noise.prior_sigma=9.99e-7");
    VALIDATE(NULL, "noise.enabled=true", "noise.prior_sigma=1e-6");
    VALIDATE(NULL, "noise.enabled=true", "noise.prior_sigma=0");
}

/* A cross-key check runs after the file and --set are applied, so its message named the key
 * but not the line: "train.lr = 4.94065645841247e-324 rounds to 0 in float32" for a file's
 * lr = 5e-324 (found by a hostile-input sweep). occam_config_locate puts the file's line, or
 * "--set ", in front, as the load's own errors have it. */
Test(config, a_cross_key_refusal_names_the_line_or_the_set_that_gave_the_value)
{
    char *path = temp_file("[train]\nepochs = 3\n\nlr = 5e-324\n[noise]\nenabled = true\n");
    occam_config c;
    occam_error err = {0};
    char want[256];
    occam_config_defaults(&c);
    cr_assert_eq(occam_config_load(&c, path, &err), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(occam_config_validate(&c, &err), OCCAM_ERR_INPUT);
    occam_config_locate(&err, path, NULL, 0);
    snprintf(want, sizeof want, "%s:4: train.lr = 5e-324 rounds to 0 in float32", path);
    cr_assert(!strncmp(err.msg, want, strlen(want)), "%s", err.msg);

    /* the last --set naming the key gave the value: the file's line is not blamed */
    const char *sets[] = {"train.epochs=2", " train . lr = 1e-320", "train.seed=3"};
    cr_assert_eq(occam_config_set(&c, sets[1], &err), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(occam_config_validate(&c, &err), OCCAM_ERR_INPUT);
    occam_config_locate(&err, path, sets, 3);
    cr_assert(!strncmp(err.msg, "--set train.lr = 1e-320 rounds to 0", 35), "%s", err.msg);

    /* a key the file does not set (a default, or set by code) and a message that opens with
     * no key are left as they are; so is train.lr_min's refusal, which the file's train.lr
     * does not open */
    const char *keep[] = {"train.lr_min: 0.5 exceeds train.lr = 0.1", "train.lrx = 1: no",
                          "model.layers = 784: needs 2", "no key here"};
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
        occam_error_set(&err, OCCAM_ERR_INPUT, "%s", keep[i]);
        occam_config_locate(&err, path, NULL, 0);
        cr_assert_str_eq(err.msg, keep[i]);
    }
    occam_error_set(&err, OCCAM_ERR_INPUT, "noise.prior_scope = network: no");
    occam_config_locate(&err, path, NULL, 0);
    cr_assert_str_eq(err.msg, "noise.prior_scope = network: no");
    occam_error_set(&err, OCCAM_ERR_INPUT, "noise.enabled: yes");
    occam_config_locate(&err, path, NULL, 0);
    snprintf(want, sizeof want, "%s:6: noise.enabled: yes", path);
    cr_assert_str_eq(err.msg, want);
    /* the file gone since: no line to name */
    remove_file(path);
    occam_error_set(&err, OCCAM_ERR_INPUT, "train.lr = 5e-324 rounds");
    occam_config_locate(&err, "/nonexistent/occam.ini", NULL, 0);
    cr_assert_str_eq(err.msg, "train.lr = 5e-324 rounds");
}

Test(config, validate_rechecks_fields_set_by_code)
{
    occam_config c;
    occam_error err = {0};
    occam_config_defaults(&c);
    c.train.optim.lr = 0;
    cr_assert_eq(occam_config_validate(&c, &err), OCCAM_ERR_INPUT);
    cr_assert_str_eq(err.msg, "train.lr = 0: must be in (0, 100]");

    occam_config_defaults(&c);
    c.model.nlayers = 1;
    cr_assert_eq(occam_config_validate(&c, &err), OCCAM_ERR_INPUT);
    cr_assert_str_eq(err.msg,
                     "model.layers = 784: needs 2 to 16 comma-separated entries, got 1");

    occam_config_defaults(&c);
    c.model.nlayers = OCCAM_MAX_LAYERS + 1;
    cr_assert_eq(occam_config_validate(&c, &err), OCCAM_ERR_INPUT);
    cr_assert_str_eq(err.msg, "model.layers: entry count 17 is outside [0, 16]");

    occam_config_defaults(&c);
    c.model.nlayers = 0;
    cr_assert_eq(occam_config_validate(&c, &err), OCCAM_ERR_INPUT);
    cr_assert_str_eq(err.msg, "model.layers: empty value");

    occam_config_defaults(&c);
    c.data.source = (occam_source)7;
    cr_assert_eq(occam_config_validate(&c, &err), OCCAM_ERR_INPUT);
    cr_assert_str_eq(err.msg, "data.source = 7: expected one of idx, csv, blobs, peptide");

    occam_config_defaults(&c);
    c.train.optim.momentum = NAN;
    cr_assert_eq(occam_config_validate(&c, &err), OCCAM_ERR_INPUT);
    cr_assert_str_eq(err.msg, "train.momentum = nan: not a decimal number");

    occam_config_defaults(&c);
    c.data.label = 0;
    cr_assert_eq(occam_config_validate(&c, &err), OCCAM_ERR_INPUT);
}

/* ---- [prune] --------------------------------------------------------------------------------- */

Test(config, prune_values)
{
    occam_config c, ref;
    occam_config_defaults(&c);
    occam_error err = {0};

    /* Double lists: blanks around entries, the bounds, and shorter lists clearing the tail. */
    set_ok(&c, "prune.layer_targets= 0.5 , -1,0.99999999999999989 ");
    cr_assert_eq(c.prune.nlayer_target, 3);
    cr_assert_eq(c.prune.layer_target[0], 0.5);
    cr_assert_eq(c.prune.layer_target[1], -1.0);
    cr_assert_eq(c.prune.layer_target[2], nextafter(1.0, 0.0));
    set_ok(&c, "prune.layer_targets=0.25");
    cr_assert_eq(c.prune.nlayer_target, 1);
    cr_assert_eq(c.prune.layer_target[0], 0.25);
    occam_config_defaults(&ref);
    ref.prune.nlayer_target = 1;
    ref.prune.layer_target[0] = 0.25;
    cr_assert(memcmp(&c, &ref, sizeof c) == 0, "a shorter list left stale entries");
    set_ok(&c, "prune.layer_targets=1e-3,-0.5,0");
    cr_assert_eq(c.prune.layer_target[0], 1e-3);
    cr_assert_eq(c.prune.layer_target[1], -0.5);
    set_ok(&c, "prune.layer_targets=0,0,0,0,0,0,0,0,0,0,0,0,0,0,-1"); /* 15 is the most */
    cr_assert_eq(c.prune.nlayer_target, 15);
    set_ok(&c, "prune.layer_targets=");
    cr_assert_eq(c.prune.nlayer_target, 0);
    set_ok(&c, "prune.layer_targets=   ");
    cr_assert_eq(c.prune.nlayer_target, 0);
    occam_config_defaults(&ref);
    cr_assert(memcmp(&c, &ref, sizeof c) == 0, "an empty list left stale entries");

    /* N:M: the bounds and blanks around either number. */
    set_ok(&c, "prune.nm=1:2");
    cr_assert_eq(c.prune.nm_n, 1);
    cr_assert_eq(c.prune.nm_m, 2);
    set_ok(&c, "prune.nm= 63 : 64 ");
    cr_assert_eq(c.prune.nm_n, 63);
    cr_assert_eq(c.prune.nm_m, 64);
    set_ok(&c, "prune.nm=1:64");
    cr_assert_eq(c.prune.nm_n, 1);
    cr_assert_eq(c.prune.nm_m, 64);

    /* Rewind: the names, epoch:N with blanks, and the argument cleared by the plain names. */
    set_ok(&c, "prune.rewind=epoch:0");
    cr_assert_eq(c.prune.rewind, OCCAM_REWIND_EPOCH);
    cr_assert_eq(c.prune.rewind_epoch, 0);
    set_ok(&c, "prune.rewind=epoch : 1000000");
    cr_assert_eq(c.prune.rewind, OCCAM_REWIND_EPOCH);
    cr_assert_eq(c.prune.rewind_epoch, 1000000);
    set_ok(&c, "prune.rewind=init");
    cr_assert_eq(c.prune.rewind, OCCAM_REWIND_INIT);
    cr_assert_eq(c.prune.rewind_epoch, 0);
    set_ok(&c, "prune.rewind=epoch:12");
    set_ok(&c, "prune.rewind=none");
    cr_assert_eq(c.prune.rewind, OCCAM_REWIND_NONE);
    cr_assert_eq(c.prune.rewind_epoch, 0);

    /* The enums, and the scalar bounds. */
    const char *sets[] = {"prune.schedule=oneshot", "prune.schedule=iterative",
                          "prune.method=taylor",     "prune.method=random",
                          "prune.granularity=neuron", "prune.scope=layer",
                          "prune.target=0",          "prune.min_keep=1000000000000",
                          "prune.steps=1",           "prune.finetune_epochs=100000",
                          "prune.start=1000000",     "prune.end=0",
                          "prune.every=1",           "prune.batches=1",
                          "prune.bias=1",            "prune.seed=18446744073709551615"};
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
        set_ok(&c, sets[i]);
    cr_assert_eq(c.prune.schedule, OCCAM_PRUNE_ITERATIVE);
    cr_assert_eq(c.prune.method, OCCAM_IMP_RANDOM);
    cr_assert_eq(c.prune.granularity, OCCAM_GRAN_NEURON);
    cr_assert_eq(c.prune.scope, OCCAM_SCOPE_LAYER);
    cr_assert_eq(c.prune.min_keep, 1000000000000);
    cr_assert_eq(c.prune.start, 1000000);
    cr_assert_eq(c.prune.end, 0);
    cr_assert_eq(c.prune.bias, true);
    cr_assert_eq(c.prune.seed, UINT64_MAX);

    /* The same spellings from a file, including an empty list with only a comment. */
    occam_config_defaults(&c);
    const char *text = "[prune]\n"
                       "layer_targets = ; none\n"
                       "nm =  3 :7\n"
                       "rewind = epoch : 5\n";
    cr_assert_eq(load_text(&c, text, &err), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(c.prune.nlayer_target, 0);
    cr_assert_eq(c.prune.nm_n, 3);
    cr_assert_eq(c.prune.nm_m, 7);
    cr_assert_eq(c.prune.rewind, OCCAM_REWIND_EPOCH);
    cr_assert_eq(c.prune.rewind_epoch, 5);
}

Test(config, error_prune_types)
{
    static const struct {
        const char *line, *want;
    } cases[] = {
        /* double list */
        {"layer_targets = 0.5,,0.25", "prune.layer_targets = 0.5,,0.25: entry 2 is empty"},
        {"layer_targets = 0.5,", "prune.layer_targets = 0.5,: entry 2 is empty"},
        {"layer_targets = ,", "prune.layer_targets = ,: entry 1 is empty"},
        {"layer_targets = 0.5,1", "prune.layer_targets = 0.5,1: entry 2 (1) must be in [-1, 1)"},
        {"layer_targets = -1.5", "prune.layer_targets = -1.5: entry 1 (-1.5) must be in [-1, 1)"},
        {"layer_targets = 0.5,x", "prune.layer_targets = 0.5,x: entry 2 (x) is not a decimal "
                                  "number"},
        {"layer_targets = nan", "prune.layer_targets = nan: entry 1 (nan) is not a decimal "
                                "number"},
        {"layer_targets = 0x1p-2", "prune.layer_targets = 0x1p-2: entry 1 (0x1p-2) is not a "
                                   "decimal number"},
        {"layer_targets = 0.5 0.25", "prune.layer_targets = 0.5 0.25: entry 1 (0.5 0.25) is "
                                     "not a decimal number"},
        {"layer_targets = 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0",
         "prune.layer_targets = 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0: more than 15 entries"},
        /* N:M */
        {"nm = 4:2", "prune.nm = 4:2: expected 1 <= N < M <= 64"},
        {"nm = 2:2", "prune.nm = 2:2: expected 1 <= N < M <= 64"},
        {"nm = 0:4", "prune.nm = 0:4: expected 1 <= N < M <= 64"},
        {"nm = -1:4", "prune.nm = -1:4: expected 1 <= N < M <= 64"},
        {"nm = 2:65", "prune.nm = 2:65: expected 1 <= N < M <= 64"},
        {"nm = 2:99999999999999999999",
         "prune.nm = 2:99999999999999999999: expected 1 <= N < M <= 64"},
        {"nm = 2", "prune.nm = 2: expected N:M, two integers with 1 <= N < M <= 64 (e.g. 2:4)"},
        {"nm = 2:", "prune.nm = 2:: expected N:M, two integers with 1 <= N < M <= 64 (e.g. 2:4)"},
        {"nm = :4", "prune.nm = :4: expected N:M, two integers with 1 <= N < M <= 64 (e.g. 2:4)"},
        {"nm = 2:4:8",
         "prune.nm = 2:4:8: expected N:M, two integers with 1 <= N < M <= 64 (e.g. 2:4)"},
        {"nm = 2.0:4",
         "prune.nm = 2.0:4: expected N:M, two integers with 1 <= N < M <= 64 (e.g. 2:4)"},
        {"nm = 2/4", "prune.nm = 2/4: expected N:M, two integers with 1 <= N < M <= 64 (e.g. 2:4)"},
        {"nm =", "prune.nm: empty value"},
        /* rewind */
        {"rewind = epoch", "prune.rewind = epoch: expected none, init or epoch:N with N in "
                           "[0, 1000000]"},
        {"rewind = epoch:", "prune.rewind = epoch:: expected none, init or epoch:N with N in "
                            "[0, 1000000]"},
        {"rewind = epoch:-1", "prune.rewind = epoch:-1: expected none, init or epoch:N with N "
                              "in [0, 1000000]"},
        {"rewind = epoch:1000001", "prune.rewind = epoch:1000001: expected none, init or "
                                   "epoch:N with N in [0, 1000000]"},
        {"rewind = epoch:3x", "prune.rewind = epoch:3x: expected none, init or epoch:N with N "
                              "in [0, 1000000]"},
        {"rewind = init:3", "prune.rewind = init:3: expected none, init or epoch:N with N in "
                            "[0, 1000000]"},
        {"rewind = Init", "prune.rewind = Init: expected none, init or epoch:N with N in "
                          "[0, 1000000]"},
        {"rewind = epochs:3", "prune.rewind = epochs:3: expected none, init or epoch:N with N "
                              "in [0, 1000000]"},
        {"rewind =", "prune.rewind: empty value"},
        /* the scalars and enums of the section */
        {"schedule = gradual", "prune.schedule = gradual: expected one of none, oneshot, "
                               "iterative, agp, mdl"},
        {"method = fisher", "prune.method = fisher: expected one of magnitude, taylor, obd, "
                            "random, snr"},
        {"granularity = channel", "prune.granularity = channel: expected one of weight, "
                                  "neuron, nm"},
        {"scope = local", "prune.scope = local: expected one of global, layer"},
        {"target = 1", "prune.target = 1: must be in [0, 1)"},
        {"target = -0.1", "prune.target = -0.1: must be in [0, 1)"},
        {"min_keep = 1000000000001", "prune.min_keep = 1000000000001: must be in [0, "
                                     "1000000000000]"},
        {"steps = 0", "prune.steps = 0: must be in [1, 1000]"},
        {"every = 0", "prune.every = 0: must be in [1, 1000000000]"},
        {"batches = 100001", "prune.batches = 100001: must be in [1, 100000]"},
        {"end = -1", "prune.end = -1: must be in [0, 1000000]"},
        {"bias = on", "prune.bias = on: expected true, false, yes, no, 1 or 0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[256];
        snprintf(text, sizeof text, "; pruning\n[prune]\nstart = 3\n\n%s\nseed = 2\n",
                 cases[i].line);
        check_error(text, 5, cases[i].want, true);
    }
    check_error("[prune]\nnm = 2:4\nrewind = init\n\nnm = 1:4\n", 5,
                "duplicate key 'nm' in [prune] (first set on line 2)", true);
}

Test(config, set_prune_types)
{
    check_set_error("prune.nm=4:2", "--set prune.nm: expected 1 <= N < M <= 64 (got '4:2')");
    check_set_error("prune.nm=2", "--set prune.nm: expected N:M, two integers with 1 <= N < M "
                                  "<= 64 (e.g. 2:4) (got '2')");
    check_set_error("prune.nm=", "--set prune.nm: empty value");
    check_set_error("prune.layer_targets=0.5,2",
                    "--set prune.layer_targets: entry 2 (2) must be in [-1, 1) (got '0.5,2')");
    check_set_error("prune.layer_targets=inf",
                    "--set prune.layer_targets: entry 1 (inf) is not a decimal number (got "
                    "'inf')");
    check_set_error("prune.rewind=epoch",
                    "--set prune.rewind: expected none, init or epoch:N with N in [0, 1000000] "
                    "(got 'epoch')");
    check_set_error("prune.rewind=", "--set prune.rewind: empty value");
    check_set_error("prune.schedule=gradual", "--set prune.schedule: expected one of none, "
                                              "oneshot, iterative, agp, mdl (got 'gradual')");
    check_set_error("prune.layer_target=0.5", "--set prune.layer_target: unknown key "
                                              "'layer_target' in [prune] (did you mean "
                                              "'layer_targets'?)");

    /* A valid --set of each new type overrides a file. */
    occam_config c;
    occam_config_defaults(&c);
    occam_error err = {0};
    cr_assert_eq(load_text(&c, "[prune]\nlayer_targets = 0.1,0.2,0.3\nnm = 1:4\nrewind = init\n",
                           &err),
                 OCCAM_OK, "%s", err.msg);
    set_ok(&c, "prune.layer_targets=-1,0.75,-1");
    set_ok(&c, "prune.nm=4:16");
    set_ok(&c, "prune.rewind=epoch:2");
    cr_assert_eq(c.prune.layer_target[1], 0.75);
    cr_assert_eq(c.prune.nm_n, 4);
    cr_assert_eq(c.prune.nm_m, 16);
    cr_assert_eq(c.prune.rewind, OCCAM_REWIND_EPOCH);
    cr_assert_eq(c.prune.rewind_epoch, 2);
}

Test(config, json_prune)
{
    occam_config c;
    occam_config_defaults(&c);
    set_ok(&c, "prune.schedule=iterative");
    set_ok(&c, "prune.method=taylor");
    set_ok(&c, "prune.layer_targets=0.5,-1,0.25");
    set_ok(&c, "prune.nm=1:8");
    set_ok(&c, "prune.rewind=epoch:3");
    set_ok(&c, "prune.bias=true");
    set_ok(&c, "prune.min_keep=1000000000000");
    char buf[8192];
    int n = occam_config_to_json(&c, buf, sizeof buf);
    cr_assert_gt(n, 0);
    const char *want = "\"prune\": {\"schedule\": \"iterative\", \"method\": \"taylor\", "
                       "\"granularity\": \"weight\", \"scope\": \"global\", \"target\": 0.9, "
                       "\"layer_targets\": [0.5,-1,0.25], \"min_keep\": 1000000000000, "
                       "\"steps\": 5, \"finetune_epochs\": 2, \"start\": 0, \"end\": 10, "
                       "\"every\": 100, \"nm\": \"1:8\", \"batches\": 8, \"bias\": true, "
                       "\"rewind\": \"epoch:3\", \"seed\": 1, \"score_events\": false}, "
                       "\"mdl\": {";
    cr_assert(strstr(buf, want), "JSON lacks the prune section: %s", buf);

    char *j = json_text(&c);
    cr_assert(strstr(j, "\"layer_targets\": [0.5,-1,0.25], "), "%s", j);
    cr_assert(strstr(j, "\"nm\": \"1:8\", "), "%s", j);
    cr_assert(strstr(j, "\"rewind\": \"epoch:3\", "), "%s", j);
    free(j);

    /* Values only code can set: non-finite entries are null, so the JSON stays valid. */
    c.prune.layer_target[0] = NAN;
    c.prune.layer_target[2] = -INFINITY;
    n = occam_config_to_json(&c, buf, sizeof buf);
    cr_assert_gt(n, 0);
    cr_assert(strstr(buf, "\"layer_targets\": [null,-1,null], "), "%s", buf);
    /* A corrupt count gives an empty array, not a read past the field. */
    c.prune.nlayer_target = 99;
    n = occam_config_to_json(&c, buf, sizeof buf);
    cr_assert(strstr(buf, "\"layer_targets\": [], "), "%s", buf);
}

Test(config, validate_prune)
{
    VALIDATE(NULL, "prune.schedule=agp", "prune.start=5", "prune.end=6");
    VALIDATE("prune.end: 3 is before prune.start = 5 (the agp ramp runs from start to end)",
             "prune.schedule=agp", "prune.start=5", "prune.end=3");
    /* Only agp has a ramp. */
    VALIDATE(NULL, "prune.schedule=iterative", "prune.start=5", "prune.end=3");

    VALIDATE(NULL, "prune.layer_targets=0.5,-1,0.25");
    VALIDATE("prune.layer_targets: 2 entries, model.layers has 3 weight layers",
             "prune.layer_targets=0.5,0.5");
    VALIDATE("prune.layer_targets: 1 entry, model.layers has 3 weight layers",
             "prune.layer_targets=0.5");
    VALIDATE("prune.layer_targets: 2 entries, model.layers has 1 weight layer",
             "model.layers=10,10", "prune.layer_targets=0.5,0.5");
    VALIDATE(NULL, "model.layers=10,10", "prune.layer_targets=0.5");
    VALIDATE("prune.layer_targets: 3 entries, model.layers has 2 weight layers",
             "prune.scope=layer", "model.layers=10,5,10", "prune.layer_targets=0.5,0.5,0.5");

    VALIDATE(NULL, "prune.granularity=neuron", "model.layers=10,1,10");
    VALIDATE("prune.granularity: neuron needs a hidden layer (model.layers = 10,3 has none)",
             "prune.granularity=neuron", "model.layers=10,3");
    VALIDATE(NULL, "prune.granularity=nm", "model.layers=10,3");

    VALIDATE(NULL, "prune.rewind=epoch:20");
    VALIDATE(NULL, "prune.rewind=epoch:0", "train.epochs=1");
    VALIDATE("prune.rewind: epoch:21 is after the last training epoch (train.epochs = 20)",
             "prune.rewind=epoch:21");
    VALIDATE("prune.rewind: epoch:2 is after the last training epoch (train.epochs = 1)",
             "prune.schedule=oneshot", "prune.rewind=epoch:2", "train.epochs=1");
    VALIDATE(NULL, "prune.rewind=init", "train.epochs=1");

    /* prune.target is not read without a schedule: 0 is fine either way. */
    VALIDATE(NULL, "prune.schedule=none", "prune.target=0");
    VALIDATE(NULL, "prune.schedule=oneshot", "prune.target=0");
}

Test(config, validate_rechecks_prune_fields_set_by_code)
{
    static const char *const want[] = {
        "prune.nm = 4:2: expected 1 <= N < M <= 64",
        "prune.nm = 0:4: expected 1 <= N < M <= 64",
        "prune.rewind = 9: expected none, init or epoch:N with N in [0, 1000000]",
        "prune.rewind = epoch:-1: expected none, init or epoch:N with N in [0, 1000000]",
        "prune.layer_targets: entry count 16 is outside [0, 15]",
        "prune.layer_targets: entry count -1 is outside [0, 15]",
        "prune.layer_targets = nan,0,0: entry 1 (nan) is not a decimal number",
        "prune.layer_targets = 0,1,0: entry 2 (1) must be in [-1, 1)",
        "prune.target = 1: must be in [0, 1)",
        "prune.schedule = -1: expected one of none, oneshot, iterative, agp, mdl",
        "model.layers: entry count 17 is outside [0, 16]",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        occam_config c;
        occam_error err = {0};
        occam_config_defaults(&c);
        switch (i) {
        case 0: c.prune.nm_n = 4; c.prune.nm_m = 2; break;
        case 1: c.prune.nm_n = 0; break;
        case 2: c.prune.rewind = (occam_rewind)9; break;
        case 3: c.prune.rewind = OCCAM_REWIND_EPOCH; c.prune.rewind_epoch = -1; break;
        case 4: c.prune.nlayer_target = OCCAM_MAX_LAYERS; break;
        case 5: c.prune.nlayer_target = -1; break;
        case 6: c.prune.nlayer_target = 3; c.prune.layer_target[0] = NAN; break;
        case 7: c.prune.nlayer_target = 3; c.prune.layer_target[1] = 1.0; break;
        case 8: c.prune.target = 1.0; break;
        case 9: c.prune.schedule = (occam_prune_schedule)-1; break;
        case 10: c.model.nlayers = OCCAM_MAX_LAYERS + 1; break;
        }
        cr_assert_eq(occam_config_validate(&c, &err), OCCAM_ERR_INPUT, "case %zu", i);
        cr_assert_str_eq(err.msg, want[i], "case %zu", i);
    }
    /* Fields set by code to valid values pass. */
    occam_config c;
    occam_error err = {0};
    occam_config_defaults(&c);
    c.prune.nm_n = 1;
    c.prune.nm_m = 64;
    c.prune.rewind = OCCAM_REWIND_EPOCH;
    c.prune.rewind_epoch = 20;
    c.prune.nlayer_target = 3;
    c.prune.layer_target[1] = -1;
    cr_assert_eq(occam_config_validate(&c, &err), OCCAM_OK, "%s", err.msg);
}

/* ---- the modules' checks, called on their own --------------------------------------------- */

/* rc and message of one check call: NULL want = OCCAM_OK. */
static void check_rc(int rc, const occam_error *err, const char *want)
{
    if (!want) {
        cr_assert_eq(rc, OCCAM_OK, "%s", err->msg);
        return;
    }
    cr_assert_eq(rc, OCCAM_ERR_INPUT, "expected '%s'", want);
    cr_assert_str_eq(err->msg, want);
}

Test(config, data_check)
{
    occam_config c;
    occam_config_defaults(&c);
    occam_data_params d = c.data;
    occam_error err = {0};
    check_rc(occam_data_check(&d, 784, 10, &err), &err, NULL);
    d.path[0] = '\0';
    check_rc(occam_data_check(&d, 784, 10, &err), &err,
             "data.path: data.source = idx needs the IDX folder");
    d = c.data;
    d.source = OCCAM_SOURCE_CSV;
    check_rc(occam_data_check(&d, 784, 10, &err), &err,
             "data.train: data.source = csv needs the training file");
    strcpy(d.train, "/d/train.csv");
    /* one output under softmax: accuracy 1 and 0 data bits whatever the weights */
    check_rc(occam_data_check(&d, 5, 1, &err), &err,
             "model.layers: a classifier needs an output per class, at least 2 (the last entry "
             "is 1); for one real target set data.task = regress");
    check_rc(occam_data_check(&d, 5, 2, &err), &err, NULL);
    d.task = OCCAM_TASK_REGRESS;
    check_rc(occam_data_check(&d, 5, 1, &err), &err, NULL);
    d = c.data;
    d.task = OCCAM_TASK_REGRESS;
    check_rc(occam_data_check(&d, 784, 10, &err), &err,
             "data.task: regress needs data.source = csv or peptide (data.source = idx is "
             "classification data)");
    d.source = OCCAM_SOURCE_PEPTIDE;
    check_rc(occam_data_check(&d, 20, 1, &err), &err, NULL);
    d.task = OCCAM_TASK_CLASSIFY;
    check_rc(occam_data_check(&d, 20, 1, &err), &err,
             "data.task: data.source = peptide is a regression task (set data.task = regress)");
    d.task = OCCAM_TASK_REGRESS;
    d.holdout = d.samples;
    check_rc(occam_data_check(&d, 20, 1, &err), &err,
             "data.holdout: 1000 leaves no training rows (data.samples = 1000)");
    /* idx and csv hold out from the rows they read: their count is not known here. */
    d = c.data;
    d.holdout = d.samples;
    check_rc(occam_data_check(&d, 784, 10, &err), &err, NULL);

    /* blobs against the model's widths, which come in as plain arguments */
    d = c.data;
    d.source = OCCAM_SOURCE_BLOBS;
    check_rc(occam_data_check(&d, 20, 3, &err), &err, NULL);
    check_rc(occam_data_check(&d, 21, 3, &err), &err,
             "model.layers: input width 21 does not match data.features = 20");
    check_rc(occam_data_check(&d, 20, 4, &err), &err,
             "model.layers: output width 4 does not match data.classes = 3");
    /* The other sources leave the widths to their loaders. */
    d.source = OCCAM_SOURCE_IDX;
    check_rc(occam_data_check(&d, 21, 4, &err), &err, NULL);

    cr_assert_str_eq(occam_data_source_names[OCCAM_SOURCE_IDX], "idx");
    cr_assert_str_eq(occam_data_source_names[OCCAM_SOURCE_CSV], "csv");
    cr_assert_str_eq(occam_data_source_names[OCCAM_SOURCE_BLOBS], "blobs");
    cr_assert_str_eq(occam_data_source_names[OCCAM_SOURCE_PEPTIDE], "peptide");
    cr_assert_null(occam_data_source_names[OCCAM_SOURCE_PEPTIDE + 1]);
}

Test(config, optim_check)
{
    occam_config c;
    occam_config_defaults(&c);
    occam_optim_params o = c.train.optim;
    occam_error err = {0};
    check_rc(occam_optim_check(&o, &err), &err, NULL);
    o.lr_min = 20;
    o.lr = 10;
    /* Only the cosine schedule decays to lr_min. */
    check_rc(occam_optim_check(&o, &err), &err, NULL);
    o.schedule = OCCAM_SCHED_COSINE;
    check_rc(occam_optim_check(&o, &err), &err,
             "train.lr_min: 20 exceeds train.lr = 10 (the cosine schedule decays from lr to "
             "lr_min)");
    /* The values as the INI writer spells them: the shortest that reads back the same. */
    o.lr_min = 0.30000000000000004;
    o.lr = 0.3;
    check_rc(occam_optim_check(&o, &err), &err,
             "train.lr_min: 0.30000000000000004 exceeds train.lr = 0.3 (the cosine schedule "
             "decays from lr to lr_min)");
    o.lr_min = o.lr;
    check_rc(occam_optim_check(&o, &err), &err, NULL);
}

/* Values inside a key's documented bounds that the optimiser's float32 rounds onto them:
 * Adam's β1 or β2 of 0.99999999999 (1.0f) made the first step NaN, reported as divergence with
 * "try a smaller train.lr"; ε = 1e-300 (0.0f) gave NaN weights wherever a gradient was 0,
 * which training did not notice. Now refused, naming the key; the optimiser not in use is
 * not checked, and the largest float below 1 and ε = 1e-30 pass. */
Test(config, optim_keys_keep_their_bounds_in_float32)
{
    occam_config c;
    occam_config_defaults(&c);
    occam_error err = {0};
    const char *one = "rounds to 1 in float32, the precision the optimiser steps in (Adam's "
                      "bias correction 1 - beta^t would be 0 and its steps NaN); use at most "
                      "0.99999994";
    char want[400];
    occam_optim_params o = c.train.optim;
    o.optimizer = OCCAM_OPT_ADAM;
    o.beta1 = 0.99999999999;
    snprintf(want, sizeof want, "train.beta1 = 0.99999999999 %s", one);
    check_rc(occam_optim_check(&o, &err), &err, want);
    o.beta1 = 0.99999994;
    check_rc(occam_optim_check(&o, &err), &err, NULL);
    o.beta2 = 0.99999999999;
    snprintf(want, sizeof want, "train.beta2 = 0.99999999999 %s", one);
    check_rc(occam_optim_check(&o, &err), &err, want);
    o.optimizer = OCCAM_OPT_SGD; /* Adam's keys do not matter to SGD */
    check_rc(occam_optim_check(&o, &err), &err, NULL);
    o.momentum = 0.99999999999;
    check_rc(occam_optim_check(&o, &err), &err,
             "train.momentum = 0.99999999999 rounds to 1 in float32, the precision the "
             "optimiser steps in (SGD's velocity would never decay); use at most 0.99999994");
    o = c.train.optim;
    o.optimizer = OCCAM_OPT_ADAM;
    o.eps = 1e-300;
    check_rc(occam_optim_check(&o, &err), &err,
             "train.eps = 1e-300 vanishes in float32, the precision the optimiser steps in "
             "(Adam would divide 0 by 0 wherever a gradient is 0, and the weight would be NaN); "
             "use at least 1e-30");
    o.beta2 = 0.99999994; /* the smallest first bias correction */
    o.eps = 1e-30;
    check_rc(occam_optim_check(&o, &err), &err, NULL);
    o.lr = 1e-300;
    check_rc(occam_optim_check(&o, &err), &err,
             "train.lr = 1e-300 rounds to 0 in float32, the precision the optimiser steps in: "
             "no step would move a weight; use a larger value");
    /* and through the config: train exits 2 at validation, not 1 after a NaN step */
    cr_assert_eq(occam_config_set(&c, "train.optimizer=adam", &err), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(occam_config_set(&c, "train.beta1=0.99999999999", &err), OCCAM_OK, "%s",
                 err.msg);
    cr_assert_eq(occam_config_validate(&c, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "train.beta1 = 0.99999999999 rounds to 1"), "%s", err.msg);
}

Test(config, prune_check)
{
    occam_config c;
    occam_config_defaults(&c);
    const int layers[] = {10, 8, 6, 3}, flat[] = {10, 3};
    occam_prune_params p = c.prune;
    occam_error err = {0};
    check_rc(occam_prune_check(&p, layers, 4, 20, false, &err), &err, NULL);

    p.start = 5;
    p.end = 3;
    check_rc(occam_prune_check(&p, layers, 4, 20, false, &err), &err, NULL);
    p.schedule = OCCAM_PRUNE_AGP;
    check_rc(occam_prune_check(&p, layers, 4, 20, false, &err), &err,
             "prune.end: 3 is before prune.start = 5 (the agp ramp runs from start to end)");

    p = c.prune;
    p.nlayer_target = 2;
    check_rc(occam_prune_check(&p, layers, 4, 20, false, &err), &err,
             "prune.layer_targets: 2 entries, model.layers has 3 weight layers");
    p.nlayer_target = 3;
    check_rc(occam_prune_check(&p, layers, 4, 20, false, &err), &err, NULL);
    check_rc(occam_prune_check(&p, flat, 2, 20, false, &err), &err,
             "prune.layer_targets: 3 entries, model.layers has 1 weight layer");

    p = c.prune;
    p.granularity = OCCAM_GRAN_NEURON;
    check_rc(occam_prune_check(&p, layers, 4, 20, false, &err), &err, NULL);
    check_rc(occam_prune_check(&p, flat, 2, 20, false, &err), &err,
             "prune.granularity: neuron needs a hidden layer (model.layers = 10,3 has none)");

    p = c.prune;
    p.rewind = OCCAM_REWIND_EPOCH;
    p.rewind_epoch = 20;
    check_rc(occam_prune_check(&p, layers, 4, 20, false, &err), &err, NULL);
    check_rc(occam_prune_check(&p, layers, 4, 19, false, &err), &err,
             "prune.rewind: epoch:20 is after the last training epoch (train.epochs = 19)");

    p = c.prune;
    p.method = OCCAM_IMP_SNR;
    check_rc(occam_prune_check(&p, layers, 4, 20, false, &err), &err, NULL);
    p.schedule = OCCAM_PRUNE_ONESHOT;
    check_rc(occam_prune_check(&p, layers, 4, 20, false, &err), &err,
             "prune.method: snr needs noisy weights (noise.enabled = true)");
    check_rc(occam_prune_check(&p, layers, 4, 20, true, &err), &err, NULL);

    p = c.prune;
    p.granularity = OCCAM_GRAN_NEURON;
    check_rc(occam_prune_check(&p, layers, 4, 20, true, &err), &err, NULL);
    p.schedule = OCCAM_PRUNE_ITERATIVE;
    check_rc(occam_prune_check(&p, layers, 4, 20, true, &err), &err,
             "noise.enabled: not supported with prune.granularity = neuron");
    p.schedule = OCCAM_PRUNE_MDL;
    check_rc(occam_prune_check(&p, layers, 4, 20, false, &err), &err,
             "prune.schedule: mdl keeps the best model of the run, which needs one layout (use "
             "prune.granularity = weight or nm)");

    /* The second part: rewinding (the mdl schedule's model code is occam_train_check's). */
    p = c.prune;
    check_rc(occam_prune_check_late(&p, &err), &err, NULL);
    p.schedule = OCCAM_PRUNE_MDL;
    check_rc(occam_prune_check_late(&p, &err), &err, NULL);
    p = c.prune;
    p.rewind = OCCAM_REWIND_INIT;
    p.granularity = OCCAM_GRAN_NEURON;
    check_rc(occam_prune_check_late(&p, &err), &err, NULL);
    p.schedule = OCCAM_PRUNE_ONESHOT;
    check_rc(occam_prune_check_late(&p, &err), &err,
             "prune.rewind: not supported with prune.granularity = neuron (the snapshot has the "
             "dense layers)");
    p.granularity = OCCAM_GRAN_NM;
    check_rc(occam_prune_check_late(&p, &err), &err, NULL);
}

Test(config, dl_check_and_code_names)
{
    occam_config c;
    occam_config_defaults(&c);
    occam_dl_params d = c.mdl;
    occam_error err = {0};
    check_rc(occam_dl_check(&d, false, &err), &err, NULL);
    d.model_code = OCCAM_MDL_BITS_BACK;
    check_rc(occam_dl_check(&d, true, &err), &err, NULL);
    check_rc(occam_dl_check(&d, false, &err), &err,
             "mdl.model_code: bits-back codes noisy weights (set noise.enabled = true)");
    /* a step finer than float32 weights resolve aborted mdl and compress (1e-20: a bin's two
     * edges one double; 1e-300: a float32 step of 0) */
    d = c.mdl;
    d.weight_precision = 1e-9;
    check_rc(occam_dl_check(&d, false, &err), &err, NULL);
    d.weight_precision = 1e-20;
    check_rc(occam_dl_check(&d, false, &err), &err,
             "mdl.weight_precision: 1e-20 is finer than a float32 weight resolves; use 0 "
             "(chosen per layer) or a step of at least 1e-9");

    /* One spelling of the codes, shared by the config and the reports. */
    cr_assert_str_eq(occam_dl_code_name(OCCAM_MDL_TWO_PART), "two-part");
    cr_assert_str_eq(occam_dl_code_name(OCCAM_MDL_COUNT), "count");
    cr_assert_str_eq(occam_dl_code_name(OCCAM_MDL_BITS_BACK), "bits-back");
    cr_assert_str_eq(occam_dl_code_name((occam_model_code)7), "two-part");
    cr_assert_null(occam_dl_code_names[OCCAM_MDL_BITS_BACK + 1]);
    for (int i = 0; occam_dl_code_names[i]; i++) {
        char set[64];
        snprintf(set, sizeof set, "mdl.model_code=%s", occam_dl_code_names[i]);
        set_ok(&c, set);
        cr_assert_eq((int)c.mdl.model_code, i);
    }
}

/* agp settings that never pruned or stopped short of prune.target exited 0 without a word (a
 * config sweep's finds): an empty ramp (start = end), one that starts after the last epoch, and
 * one that ends after it, as the default prune.end = 10 does in any shorter run. */
Test(config, validate_agp_ramp_within_the_run)
{
    TRAINS("prune.end: 5 equals prune.start: the agp ramp from start to end is empty and would "
             "prune nothing (set prune.end > prune.start, or prune.schedule = oneshot to prune "
             "once)",
             "prune.schedule=agp", "prune.start=5", "prune.end=5");
    TRAINS("prune.end: 1 equals prune.start: the agp ramp from start to end is empty and would "
             "prune nothing (set prune.end > prune.start, or prune.schedule = oneshot to prune "
             "once)",
             "prune.schedule=agp", "prune.start=1", "prune.end=1", "train.epochs=3");
    /* 0.9 · (1 - 0.7³): epoch 3 of a ramp over 10 */
    TRAINS("prune.end: the agp ramp from prune.start = 0 to prune.end = 10 runs past the last "
             "epoch (train.epochs = 3): the run would prune to a sparsity of at most 0.5913, not "
             "to prune.target = 0.9 (set prune.end <= train.epochs)",
             "prune.schedule=agp", "train.epochs=3");
    TRAINS("prune.end: the agp ramp from prune.start = 5 to prune.end = 6 runs past the last "
             "epoch (train.epochs = 3): the run would prune nothing (set prune.end <= "
             "train.epochs)",
             "prune.schedule=agp", "prune.start=5", "prune.end=6", "train.epochs=3");
    TRAINS("prune.end: the agp ramp from prune.start = 0 to prune.end = 30 runs past the last "
             "epoch (train.epochs = 20): the run would prune to a sparsity of at most 0.5296, not "
             "to prune.target = 0.55 (set prune.end <= train.epochs)",
             "prune.schedule=agp", "prune.end=30", "prune.target=0.55");
    /* nm prunes its N of M at the ramp's first prune: a ramp past the run still gets there */
    TRAINS(NULL, "prune.schedule=agp", "prune.end=30", "prune.granularity=nm");
    TRAINS("prune.end: the agp ramp from prune.start = 20 to prune.end = 30 runs past the last "
           "epoch (train.epochs = 20): the run would prune nothing (set prune.end <= "
           "train.epochs)",
           "prune.schedule=agp", "prune.start=20", "prune.end=30", "prune.granularity=nm");
    TRAINS(NULL, "prune.schedule=agp", "prune.start=19", "prune.end=20");
    TRAINS(NULL, "prune.schedule=agp", "prune.end=3", "train.epochs=3");
    /* only agp has a ramp */
    TRAINS(NULL, "prune.schedule=iterative", "prune.start=5", "prune.end=5", "train.epochs=3");
    TRAINS(NULL, "prune.end=30");
}

/* prune.rewind with prune.finetune_epochs = 0 reset the survivors after the last prune and
 * nothing trained them again: an iterative run to 0.3 ended with its masked initial weights
 * (loss 1.158, accuracy 0.40 against 0.607 unpruned), exit 0 (a config sweep's find). Under agp
 * the epochs after prune.end are its fine-tuning. epoch:N with N = train.epochs rewinds to the
 * weights the first prune starts from: nothing is lost, and it is taken. */
Test(config, validate_rewind_needs_training_after_it)
{
    TRAINS("prune.rewind = init with prune.finetune_epochs = 0: every prune resets the "
             "surviving weights to their initial values and no epoch trains them again, so the "
             "run would end with them, its training thrown away (set prune.finetune_epochs >= 1, "
             "or prune.rewind = none)",
             "prune.schedule=iterative", "prune.finetune_epochs=0", "prune.rewind=init");
    TRAINS("prune.rewind = epoch:5 with prune.finetune_epochs = 0: every prune resets the "
             "surviving weights to their values after epoch 5 and no epoch trains them again, so "
             "the run would end with them, its training thrown away (set prune.finetune_epochs "
             ">= 1, or prune.rewind = none)",
             "prune.schedule=oneshot", "prune.finetune_epochs=0", "prune.rewind=epoch:5");
    TRAINS("prune.rewind = init with prune.finetune_epochs = 0: every prune resets the "
             "surviving weights to their initial values and no epoch trains them again, so the "
             "run would end with them, its training thrown away (set prune.finetune_epochs >= 1, "
             "or prune.rewind = none)",
             "prune.schedule=mdl", "prune.finetune_epochs=0", "prune.rewind=init");
    TRAINS("prune.rewind = init with prune.schedule = agp and prune.end = train.epochs = 20: "
             "the ramp's last prune, in epoch 20, resets the surviving weights to their initial "
             "values and no epoch trains them again, so the run would end with them (set "
             "prune.end < train.epochs, or prune.rewind = none)",
             "prune.schedule=agp", "prune.end=20", "prune.rewind=init");
    TRAINS(NULL, "prune.schedule=oneshot", "prune.finetune_epochs=0", "prune.rewind=epoch:20");
    TRAINS(NULL, "prune.schedule=oneshot", "prune.finetune_epochs=1", "prune.rewind=init");
    TRAINS(NULL, "prune.schedule=agp", "prune.end=19", "prune.rewind=init",
             "prune.finetune_epochs=0");
    TRAINS(NULL, "prune.finetune_epochs=0", "prune.rewind=init"); /* no schedule reads them */
}

/* prune.layer_targets took any entry in [-1, 1): -0.5 meant -1 (prune.target) without a word.
 * Under neuron granularity the last entry, the output layer's (whose units are never removed),
 * was ignored: 0.5,0.99 pruned as 0.5,0. */
Test(config, validate_layer_targets_entries)
{
    VALIDATE("prune.layer_targets: entry 2 (-0.5) is negative but not -1; an entry is a sparsity "
             "in [0, 1), or -1 for prune.target",
             "prune.layer_targets=0.5,-0.5,-1");
    VALIDATE("prune.layer_targets: entry 1 (-0.999) is negative but not -1; an entry is a "
             "sparsity in [0, 1), or -1 for prune.target",
             "prune.layer_targets=-0.999,0,0", "prune.scope=layer");
    VALIDATE(NULL, "prune.layer_targets=-1,-1,-1");
    VALIDATE(NULL, "prune.layer_targets=0,0.99,-1");
    VALIDATE("prune.layer_targets: entry 3 (0.99) is the output layer's, whose units "
             "prune.granularity = neuron never removes (entry i is the units of hidden layer i); "
             "set it to -1 or 0",
             "prune.granularity=neuron", "prune.scope=layer", "prune.layer_targets=0.5,0.5,0.99");
    VALIDATE(NULL, "prune.granularity=neuron", "prune.scope=layer",
             "prune.layer_targets=0.5,0.5,0");
    VALIDATE(NULL, "prune.granularity=neuron", "prune.scope=layer",
             "prune.layer_targets=0.5,0.5,-1");
    /* global scope reads no entry (a note names the key) */
    VALIDATE(NULL, "prune.granularity=neuron", "prune.layer_targets=0.5,0.5,0.99");
}

/* occam_config_validate runs the checks in one order: a config failing several reports the
 * first, with the model code's check between the two parts of the prune checks. */
Test(config, validate_check_order)
{
    /* g (prune, first part) before h (mdl) */
    VALIDATE("prune.schedule: mdl keeps the best model of the run, which needs one layout (use "
             "prune.granularity = weight or nm)",
             "prune.schedule=mdl", "prune.granularity=neuron", "mdl.model_code=bits-back");
    /* h (mdl) before i and j (prune, second part) */
    VALIDATE("mdl.model_code: bits-back codes noisy weights (set noise.enabled = true)",
             "prune.schedule=iterative", "prune.granularity=neuron", "prune.rewind=init",
             "mdl.model_code=bits-back");
    VALIDATE("prune.rewind: not supported with prune.granularity = neuron (the snapshot has the "
             "dense layers)",
             "prune.schedule=iterative", "prune.granularity=neuron", "prune.rewind=init");
    /* a run's check (occam_train_check): occam mdl --code bits-back scores a noisy model the
     * mdl schedule trained, and was refused */
    VALIDATE(NULL, "prune.schedule=mdl", "noise.enabled=true", "mdl.model_code=bits-back");
    TRAINS("prune.schedule: mdl scores models with mdl.model_code = two-part or count",
           "prune.schedule=mdl", "noise.enabled=true", "mdl.model_code=bits-back");
    /* data before optim before prune */
    VALIDATE("data.path: data.source = idx needs the IDX folder", "data.path=",
             "train.schedule=cosine", "train.lr_min=0.5");
    VALIDATE("train.lr_min: 0.5 exceeds train.lr = 0.1 (the cosine schedule decays from lr to "
             "lr_min)",
             "train.schedule=cosine", "train.lr_min=0.5", "prune.layer_targets=0.5");
}

/* Strings go through base/json.c's escaper: a path set by code with bytes no parser accepts
 * still gives valid JSON, the same from both writers. */
Test(config, json_strings_escaped_by_base_json)
{
    occam_config c;
    occam_config_defaults(&c);
    strcpy(c.data.test, "a\bb\fc\td\x01" "e\xff" "f\"g\\h");
    char buf[OCCAM_CONFIG_JSON_MAX];
    int n = occam_config_to_json(&c, buf, sizeof buf);
    cr_assert_gt(n, 0);
    const char *want = "\"test\": \"a\\bb\\fc\\td\\u0001e\\ufffdf\\\"g\\\\h\"";
    cr_assert(strstr(buf, want), "'%s' not in %s", want, buf);
    occam_json_value v;
    occam_error err = {0};
    cr_assert_eq(occam_json_parse(&v, buf, (size_t)n, &err), OCCAM_OK, "%s", err.msg);
    occam_json_free(&v);
    char *j = json_text(&c);
    cr_assert(strstr(j, want), "'%s' not in %s", want, j);
    free(j);
}

/* A run prints only the changed keys: loading them over the defaults gives the whole config
 * back, bit for bit, and an unchanged config prints nothing. */
Test(config, changed_keys_round_trip)
{
    occam_config c, back, def;
    occam_config_defaults(&def);
    occam_config_defaults(&c);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_not_null(f);
    cr_assert_eq(occam_config_write_ini_changed(&c, f), 0);
    fclose(f);
    cr_assert_eq(len, 0);
    free(buf);

    occam_error err = {0};
    cr_assert_eq(occam_config_set(&c, "train.lr=0.0125", &err), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(occam_config_set(&c, "model.layers=5,7,3", &err), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(occam_config_set(&c, "data.source=blobs", &err), OCCAM_OK, "%s", err.msg);
    char tmpl[] = "/tmp/occam_test_changed_XXXXXX";
    int fd = mkstemp(tmpl);
    cr_assert(fd >= 0);
    f = fdopen(fd, "w");
    cr_assert_eq(occam_config_write_ini_changed(&c, f), 3);
    cr_assert_eq(fclose(f), 0);
    occam_config_defaults(&back);
    int rc = occam_config_load(&back, tmpl, &err);
    unlink(tmpl);
    cr_assert_eq(rc, OCCAM_OK, "%s", err.msg);
    assert_config_equal(&c, &back);
    cr_assert(memcmp(&c, &back, sizeof c) == 0);

    char line[512];
    occam_config_summary(&c, line, sizeof line);
    cr_assert(strstr(line, "data=blobs"), "%s", line);
    cr_assert(strstr(line, "layers=5,7,3"), "%s", line);
    cr_assert(strstr(line, "lr=0.0125"), "%s", line);
    char tiny[12];
    occam_config_summary(&c, tiny, sizeof tiny);
    cr_assert_lt(strlen(tiny), sizeof tiny);
}

/* A value far longer than a message holds: the message was formatted into a fixed buffer and
 * cut at 2,047 bytes, its closing quote and parenthesis lost and no "..." to say so. It is now
 * shortened as every message is, in the middle, and ends as written. */
Test(config, a_very_long_value_keeps_the_end_of_its_message)
{
    static char assignment[3100];
    int n = snprintf(assignment, sizeof assignment, "train.lr=");
    memset(assignment + n, 'x', 3000);
    assignment[n + 3000] = 0;
    occam_config cfg;
    occam_config_defaults(&cfg);
    occam_error err = {0};
    cr_assert_eq(occam_config_set(&cfg, assignment, &err), OCCAM_ERR_INPUT);
    size_t len = strlen(err.msg);
    cr_assert(len > 2 && !strcmp(err.msg + len - 2, "')"), "ends: %s", err.msg + len - 20);
    cr_assert(strstr(err.msg, "..."), "%s", err.msg);
    cr_assert(!strncmp(err.msg, "--set train.lr: ", 16), "%.40s", err.msg);
}
