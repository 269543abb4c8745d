/* The inert-key rules: which keys a training run reads under the rest of its config. Resetting
 * the others to their defaults (occam_config_drop_inert) makes two configs that train the same
 * run compare equal; occam_config_key_applies and occam_config_inert_difference ask the same
 * rules.
 *
 * Keys that only some configs read, and when they are read in a training run and its
 * description length (what train and select compute). Each rule names its key's field and a
 * predicate of the rest of the config; a key whose predicate is false is read by no code path
 * of train or select (checked against data.c, dl.c and noisy.c), so any value of it gives the
 * same run. Each reason starts with the key it resets.
 *
 * data.*: occam_data_load reads the keys of its source only (load_idx: data.path; load_csv:
 * data.train, data.test, data.label, data.header; load_blobs: data.samples, test_samples,
 * features, classes, spread, seed; peptide: samples, test_samples, features, target_noise,
 * seed), data.test and test_samples only without data.holdout (load_read), and
 * occam_data_normalize_targets returns at once without targets. occam predict reads
 * data.label and data.header for its own CSV input, whatever data.source says.
 *
 * mdl.*: occam_dl_compute reads the keys of its code only (count: bits_per_weight; two-part:
 * prior, components under mog, weight_precision, precision unless a fixed step is set; bits-
 * back: samples under a mixture prior, data_samples, seed; every code but count: search_rows)
 * and mdl.target_precision only for regression.
 *
 * prune.*: run/train.c builds a pruner only under a schedule, and reads prune.steps under
 * iterative and mdl (oneshot is one step), prune.finetune_epochs under the stepped schedules,
 * prune.start, end and every under agp, and prune.score_events under oneshot and iterative
 * (none has no events, agp is never scored, mdl always). The pruner (prune.c) scores weights
 * by prune.method (prune.batches for taylor and obd's gradients, prune.seed for those and
 * random), all but under neuron granularity, which scores units by their norms; prune.bias
 * under weight granularity only (nm keeps N of every M inputs of a row and prunes no bias: the
 * rule said it applied there). It selects by prune.target, prune.scope and prune.min_keep,
 * with prune.layer_targets under scope = layer, all but under nm granularity, which keeps
 * prune.nm's N of M instead (its events record 1 - N/M: they recorded prune.target, and an
 * iterative run's climbed to 0.9 while the sparsity stayed 0.39). Under neuron granularity
 * the last entry of prune.layer_targets, the output layer's, must be -1 or 0
 * (occam_prune_check): no unit of the output layer is removed, and any value was taken and
 * ignored. Nothing else reads them: the mdl, compress, eval and predict commands load a
 * checkpoint's own prune.granularity only for hidden layers narrower than its model.layers,
 * which no run without a schedule saves.
 *
 * train.*: occam_optim_init and occam_optim_update read train.momentum and train.nesterov under
 * sgd only, train.beta1, beta2 and eps under adam only; occam_optim_lr_at reads train.step_epochs
 * and gamma under the step schedule only, train.lr_min under cosine only.
 *
 * noise.*: the mixture's keys apply to the sparse prior too: its bits-back code puts the
 * survivors under a mixture (dl.c's bits_back). noise.seed is read only by a sampled data
 * term (occam_noise_samples). */
#include "occam/config.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "config-impl.h"
#include "occam/noisy.h"

static bool src_idx(const occam_config *c) { return c->data.source == OCCAM_SOURCE_IDX; }
static bool src_csv(const occam_config *c) { return c->data.source == OCCAM_SOURCE_CSV; }
static bool src_blobs(const occam_config *c) { return c->data.source == OCCAM_SOURCE_BLOBS; }
static bool src_peptide(const occam_config *c) { return c->data.source == OCCAM_SOURCE_PEPTIDE; }
static bool src_generated(const occam_config *c) { return src_blobs(c) || src_peptide(c); }
/* data.holdout's rows test: no test file is read, no test row generated */
static bool csv_tested(const occam_config *c) { return src_csv(c) && c->data.holdout == 0; }
static bool generated_tested(const occam_config *c)
{
    return src_generated(c) && c->data.holdout == 0;
}
static bool task_regress(const occam_config *c) { return c->data.task == OCCAM_TASK_REGRESS; }
static bool code_count(const occam_config *c) { return c->mdl.model_code == OCCAM_MDL_COUNT; }
static bool code_two_part(const occam_config *c)
{
    return c->mdl.model_code == OCCAM_MDL_TWO_PART;
}
static bool code_bits_back(const occam_config *c)
{
    return c->mdl.model_code == OCCAM_MDL_BITS_BACK;
}
static bool code_not_count(const occam_config *c) { return !code_count(c); }
static bool two_part_mog(const occam_config *c)
{
    return code_two_part(c) && c->mdl.prior == OCCAM_PRIOR_MOG;
}
static bool two_part_step_chosen(const occam_config *c) /* as occam_dl_posterior_precision */
{
    return code_two_part(c) && !(c->mdl.weight_precision > 0);
}
/* the bits-back code's prior is noise.prior's (the sparse prior's survivors go under a
 * mixture); a Gaussian's KL is exact, a mixture's is sampled (occam_codes_kl_bits_total) */
static bool bits_back_sampled(const occam_config *c)
{
    return code_bits_back(c) && c->noise.prior != OCCAM_PRIOR_GAUSSIAN;
}
static bool noise_off(const occam_config *c) { return !c->noise.enabled; }
static bool noise_mixture(const occam_config *c) { return c->noise.prior != OCCAM_PRIOR_GAUSSIAN; }
static bool noise_mog(const occam_config *c) { return c->noise.prior == OCCAM_PRIOR_MOG; }
static bool noise_gradient(const occam_config *c)
{
    return noise_mog(c) && c->noise.prior_update == OCCAM_PRIOR_UPDATE_GRADIENT;
}
static bool noise_gaussian(const occam_config *c) { return c->noise.prior == OCCAM_PRIOR_GAUSSIAN; }
static bool noise_sparse(const occam_config *c) { return c->noise.prior == OCCAM_PRIOR_SPARSE; }
static bool noise_shared(const occam_config *c) { return !noise_sparse(c); }
/* the sparse prior masks by it as it trains; the two-part code at the posterior precision
 * (occam_dl_posterior_precision) measures the model with those weights masked too */
static bool noise_log_alpha(const occam_config *c)
{
    return noise_sparse(c) || (two_part_step_chosen(c) && c->mdl.precision != OCCAM_PRECISION_SEARCH);
}
/* noise.seed seeds the weight samples of the noisy forward pass (noisy.c's noisy_forward),
 * which only a sampled data term draws: the expansion draws none, and the bits-back code's
 * samples are mdl.seed's */
static bool noise_sampled(const occam_config *c) { return occam_noise_samples(&c->noise); }
static bool noise_rebalanced(const occam_config *c) /* as occam_trainer_begin_epoch reads it */
{
    return occam_noise_one_prior(&c->noise) && c->model.activation == OCCAM_ACT_RELU;
}

static bool opt_sgd(const occam_config *c) { return c->train.optim.optimizer == OCCAM_OPT_SGD; }
static bool opt_adam(const occam_config *c) { return c->train.optim.optimizer == OCCAM_OPT_ADAM; }
static bool sched_step(const occam_config *c) { return c->train.optim.schedule == OCCAM_SCHED_STEP; }
static bool sched_cosine(const occam_config *c)
{
    return c->train.optim.schedule == OCCAM_SCHED_COSINE;
}

static bool prune_on(const occam_config *c) { return c->prune.schedule != OCCAM_PRUNE_NONE; }
static bool prune_stepped(const occam_config *c)
{
    return c->prune.schedule == OCCAM_PRUNE_ITERATIVE || c->prune.schedule == OCCAM_PRUNE_MDL;
}
static bool prune_finetuned(const occam_config *c)
{
    return prune_stepped(c) || c->prune.schedule == OCCAM_PRUNE_ONESHOT;
}
static bool prune_agp(const occam_config *c) { return c->prune.schedule == OCCAM_PRUNE_AGP; }
static bool prune_scored(const occam_config *c) /* as occam_prune_to: weights and nm */
{
    return prune_on(c) && c->prune.granularity != OCCAM_GRAN_NEURON;
}
static bool prune_selected(const occam_config *c) /* prune_weights and prune_neurons */
{
    return prune_on(c) && c->prune.granularity != OCCAM_GRAN_NM;
}
static bool prune_unstructured(const occam_config *c) /* prune.c's add_layer, check_scores */
{
    return prune_on(c) && c->prune.granularity == OCCAM_GRAN_WEIGHT;
}
static bool prune_per_layer(const occam_config *c) /* prune.c's layer_target */
{
    return prune_selected(c) && c->prune.scope == OCCAM_SCOPE_LAYER;
}
static bool prune_nm(const occam_config *c)
{
    return prune_on(c) && c->prune.granularity == OCCAM_GRAN_NM;
}
static bool prune_gradient(const occam_config *c) /* as occam_pruner_create's need_g */
{
    return prune_scored(c) &&
           (c->prune.method == OCCAM_IMP_TAYLOR || c->prune.method == OCCAM_IMP_OBD);
}
static bool prune_seeded(const occam_config *c)
{
    return prune_gradient(c) || (prune_scored(c) && c->prune.method == OCCAM_IMP_RANDOM);
}
static bool prune_scores_events(const occam_config *c) /* as occam_train_run's score */
{
    return prune_on(c) && c->prune.schedule != OCCAM_PRUNE_AGP &&
           c->prune.schedule != OCCAM_PRUNE_MDL;
}

#define RULE(key, f, applies, why)                                                          \
    {key, offsetof(occam_config, f), sizeof(((occam_config *)0)->f), applies, key " " why}
/* a key of two adjacent fields (prune.nm's N and M, prune.rewind's epoch) */
#define RULE_SPAN(key, f, g, applies, why)                                                  \
    {key, offsetof(occam_config, f),                                                        \
     offsetof(occam_config, g) + sizeof(((occam_config *)0)->g) - offsetof(occam_config, f),  \
     applies, key " " why}
#define ADJACENT(f, g) (offsetof(occam_prune_params, g) == \
                        offsetof(occam_prune_params, f) + sizeof(((occam_prune_params *)0)->f))
_Static_assert(ADJACENT(layer_target, nlayer_target) && ADJACENT(nm_n, nm_m) &&
                   ADJACENT(rewind, rewind_epoch),
               "a RULE_SPAN's fields have no padding between them");
#undef ADJACENT
static const struct inert_rule {
    const char *key;
    size_t off, size;
    bool (*applies)(const occam_config *);
    const char *why;
} inert_rules[] = {
    RULE("data.path", data.path, src_idx, "applies only to data.source = idx"),
    RULE("data.train", data.train, src_csv, "applies only to data.source = csv"),
    RULE("data.test", data.test, csv_tested,
         "applies only to data.source = csv without data.holdout (the held-out rows test)"),
    RULE("data.label", data.label, src_csv,
         "applies only to data.source = csv in training (occam predict still reads it for a "
         "CSV --input)"),
    RULE("data.header", data.header, src_csv,
         "applies only to data.source = csv in training (occam predict still reads it for a "
         "CSV --input)"),
    RULE("data.normalize_targets", data.normalize_targets, task_regress,
         "applies only to data.task = regress"),
    RULE("data.samples", data.samples, src_generated,
         "applies only to data.source = blobs or peptide"),
    RULE("data.test_samples", data.test_samples, generated_tested,
         "applies only to data.source = blobs or peptide without data.holdout (the held-out "
         "rows test)"),
    RULE("data.features", data.features, src_generated,
         "applies only to data.source = blobs or peptide (a file's rows set the width)"),
    RULE("data.classes", data.classes, src_blobs,
         "applies only to data.source = blobs (a file's classes are model.layers' last width)"),
    RULE("data.spread", data.spread, src_blobs, "applies only to data.source = blobs"),
    RULE("data.seed", data.seed, src_generated, "applies only to data.source = blobs or peptide"),
    RULE("data.target_noise", data.target_noise, src_peptide,
         "applies only to data.source = peptide"),
    RULE("prune.method", prune.method, prune_scored,
         "applies only under a prune.schedule, with prune.granularity = weight or nm (neurons "
         "are scored by their norms)"),
    RULE("prune.granularity", prune.granularity, prune_on,
         "does not apply with prune.schedule = none"),
    RULE("prune.scope", prune.scope, prune_selected,
         "applies only under a prune.schedule, with prune.granularity = weight or neuron (nm "
         "keeps N of every M)"),
    RULE("prune.target", prune.target, prune_selected,
         "applies only under a prune.schedule, with prune.granularity = weight or neuron (nm "
         "keeps N of every M)"),
    RULE_SPAN("prune.layer_targets", prune.layer_target, prune.nlayer_target, prune_per_layer,
              "applies only under a prune.schedule, with prune.scope = layer and "
              "prune.granularity = weight or neuron"),
    RULE("prune.min_keep", prune.min_keep, prune_selected,
         "applies only under a prune.schedule, with prune.granularity = weight or neuron (nm "
         "keeps N of every M)"),
    RULE("prune.steps", prune.steps, prune_stepped,
         "applies only to prune.schedule = iterative or mdl"),
    RULE("prune.finetune_epochs", prune.finetune_epochs, prune_finetuned,
         "applies only to prune.schedule = oneshot, iterative or mdl"),
    RULE("prune.start", prune.start, prune_agp, "applies only to prune.schedule = agp"),
    RULE("prune.end", prune.end, prune_agp, "applies only to prune.schedule = agp"),
    RULE("prune.every", prune.every, prune_agp, "applies only to prune.schedule = agp"),
    RULE_SPAN("prune.nm", prune.nm_n, prune.nm_m, prune_nm,
              "applies only under a prune.schedule, with prune.granularity = nm"),
    RULE("prune.batches", prune.batches, prune_gradient,
         "applies only under a prune.schedule, with prune.method = taylor or obd and "
         "prune.granularity = weight or nm"),
    RULE("prune.bias", prune.bias, prune_unstructured,
         "applies only under a prune.schedule, with prune.granularity = weight (neuron "
         "pruning removes a unit's bias with the unit; nm keeps N of every M inputs and prunes "
         "no bias)"),
    RULE_SPAN("prune.rewind", prune.rewind, prune.rewind_epoch, prune_on,
              "does not apply with prune.schedule = none"),
    RULE("prune.seed", prune.seed, prune_seeded,
         "applies only under a prune.schedule, with prune.method = random, taylor or obd and "
         "prune.granularity = weight or nm"),
    RULE("prune.score_events", prune.score_events, prune_scores_events,
         "applies only to prune.schedule = oneshot or iterative (none has no events, agp is "
         "never scored, mdl always)"),
    RULE("mdl.bits_per_weight", mdl.bits_per_weight, code_count,
         "applies only to mdl.model_code = count"),
    RULE("mdl.weight_precision", mdl.weight_precision, code_two_part,
         "applies only to mdl.model_code = two-part"),
    RULE("mdl.precision", mdl.precision, two_part_step_chosen,
         "applies only to mdl.model_code = two-part with mdl.weight_precision = 0 (a fixed "
         "step replaces it)"),
    RULE("mdl.prior", mdl.prior, code_two_part,
         "applies only to mdl.model_code = two-part (bits-back codes under noise.prior)"),
    RULE("mdl.components", mdl.components, two_part_mog,
         "applies only to mdl.model_code = two-part with mdl.prior = mog"),
    RULE("mdl.target_precision", mdl.target_precision, task_regress,
         "applies only to data.task = regress"),
    RULE("mdl.samples", mdl.samples, bits_back_sampled,
         "applies only to mdl.model_code = bits-back with noise.prior = mog or sparse (a "
         "Gaussian prior's KL is exact)"),
    RULE("mdl.data_samples", mdl.data_samples, code_bits_back,
         "applies only to mdl.model_code = bits-back"),
    RULE("mdl.search_rows", mdl.search_rows, code_not_count,
         "does not apply with mdl.model_code = count"),
    RULE("mdl.seed", mdl.seed, code_bits_back, "applies only to mdl.model_code = bits-back"),
    RULE("train.momentum", train.optim.momentum, opt_sgd, "applies only to train.optimizer = sgd"),
    RULE("train.nesterov", train.optim.nesterov, opt_sgd, "applies only to train.optimizer = sgd"),
    RULE("train.beta1", train.optim.beta1, opt_adam, "applies only to train.optimizer = adam"),
    RULE("train.beta2", train.optim.beta2, opt_adam, "applies only to train.optimizer = adam"),
    RULE("train.eps", train.optim.eps, opt_adam, "applies only to train.optimizer = adam"),
    RULE("train.step_epochs", train.optim.step_epochs, sched_step,
         "applies only to train.schedule = step"),
    RULE("train.gamma", train.optim.gamma, sched_step, "applies only to train.schedule = step"),
    RULE("train.lr_min", train.optim.lr_min, sched_cosine,
         "applies only to train.schedule = cosine"),
    RULE("train.weight_decay", train.optim.weight_decay, noise_off,
         "does not apply with noise.enabled = true (the prior regularises noisy weights)"),
    RULE("noise.components", noise.components, noise_mixture,
         "does not apply with noise.prior = gaussian (it sizes a mixture prior)"),
    RULE("noise.zero_weight", noise.zero_weight, noise_mixture,
         "does not apply with noise.prior = gaussian (a mixture prior's zero component)"),
    RULE("noise.zero_cap", noise.zero_cap, noise_mixture,
         "does not apply with noise.prior = gaussian (a mixture prior's zero component)"),
    RULE("noise.prior_update", noise.prior_update, noise_mog, "applies only to noise.prior = mog"),
    RULE("noise.prior_steps", noise.prior_steps, noise_gradient,
         "applies only to noise.prior = mog with noise.prior_update = gradient"),
    RULE("noise.prior_sigma", noise.prior_sigma, noise_gaussian,
         "applies only to noise.prior = gaussian"),
    RULE("noise.log_alpha", noise.log_alpha, noise_log_alpha,
         "applies only to noise.prior = sparse (which masks by it as it trains) or to the "
         "two-part code at the posterior precision (mdl.model_code = two-part, mdl.precision = "
         "auto or posterior, mdl.weight_precision = 0), which is measured with and without "
         "masking by it"),
    RULE("noise.prior_scope", noise.prior_scope, noise_shared,
         "does not apply with noise.prior = sparse (it has no parameters)"),
    RULE("noise.seed", noise.seed, noise_sampled,
         "applies only to noise.data_term = sample, or auto with noise.prior = sparse (the "
         "expansion draws no weight samples)"),
    RULE("noise.rebalance", noise.rebalance, noise_rebalanced,
         "applies only to one prior for the network (noise.prior = gaussian or mog, "
         "noise.prior_scope = network or auto) with model.activation = relu"),
    /* trainer.c takes the shard path for every layer of a noisy model: runtime.grad = owner
     * was dropped without a word, and its bits then followed ranks × threads */
    RULE("runtime.grad", runtime.grad, noise_off,
         "does not apply with noise.enabled = true (noisy weights always take the shard path: "
         "their σ caches and per-epoch fixed point read every weight, so their bits follow the "
         "ranks × threads)"),
};
#undef RULE
#undef RULE_SPAN

/* The [noise] section without noise.enabled: the trainer builds no noise state. */
static const char noise_off_why[] = "the noise.* keys do not apply with noise.enabled = false";

bool occam_config_key_applies(const occam_config *cfg, const char *name)
{
    if (!strncmp(name, "noise.", 6) && strcmp(name, "noise.enabled") && !cfg->noise.enabled)
        return false;
    for (size_t i = 0; i < sizeof inert_rules / sizeof *inert_rules; i++)
        if (!strcmp(inert_rules[i].key, name)) return inert_rules[i].applies(cfg);
    return true;
}

bool occam_config_bits_back_reads(const occam_config *cfg, const char *name)
{
    occam_config c = *cfg;
    c.mdl.model_code = OCCAM_MDL_BITS_BACK;
    return cfg->noise.enabled && cfg->mdl.model_code != OCCAM_MDL_BITS_BACK &&
           occam_config_key_applies(&c, name);
}

bool occam_config_inert_is_noise_off(const char *why) { return why == noise_off_why; }

const char *occam_config_inert_difference(const occam_config *a, const occam_config *b)
{
    if (!a->noise.enabled && memcmp(&a->noise, &b->noise, sizeof a->noise))
        return noise_off_why;
    for (size_t i = 0; i < sizeof inert_rules / sizeof *inert_rules; i++) {
        size_t off = inert_rules[i].off;
        if (!inert_rules[i].applies(a) &&
            memcmp((const char *)a + off, (const char *)b + off, inert_rules[i].size))
            return inert_rules[i].why;
    }
    return NULL;
}

const char *occam_config_drop_inert(occam_config *cfg)
{
    occam_config d;
    occam_config_defaults(&d);
    if (!cfg->noise.enabled && memcmp(&cfg->noise, &d.noise, sizeof d.noise)) {
        cfg->noise = d.noise; /* no code reads them */
        return noise_off_why;
    }
    for (size_t i = 0; i < sizeof inert_rules / sizeof *inert_rules; i++) {
        char *f = (char *)cfg + inert_rules[i].off;
        const char *df = (const char *)&d + inert_rules[i].off;
        if (inert_rules[i].applies(cfg) || !memcmp(f, df, inert_rules[i].size)) continue;
        memcpy(f, df, inert_rules[i].size);
        return inert_rules[i].why;
    }
    config_zeros_unsigned(cfg);
    return NULL;
}
