/* Run configuration: one table of keys, one setter, three writers.
 *
 * Every key lives in `keys[]` below as (section, key, type, bounds, default text, field offset,
 * help), in the spirit of Redis's config table. Everything else is generic code driven by that
 * table: the defaults are applied by parsing each default text through the same setter that
 * parses the INI file and `--set` (so a bad default is caught, and aborts, at startup); the INI
 * writer, the JSON writers and the help table walk the rows in order. Adding a section
 * ([mdl], ...) is adding struct fields and rows; rows of one section must be contiguous,
 * and that, unique names and valid defaults are checked by table_check() on every
 * occam_config_defaults() call. Each row's field offset is type-checked at compile time by the
 * *_KEY macros, so a row cannot point a double parser at an int.
 *
 * Parsing is strict, unlike darknet's: unknown sections and keys (with a "did you mean"),
 * duplicates, empty values, trailing garbage, hex, inf/nan and out-of-range numbers are errors
 * with "PATH:LINE: ..." messages, and the first error wins. inih does the tokenising; we feed it
 * through our own fgets reader, which (because inih reads a line, handles it, then reads the
 * next) knows the current line number, refuses lines longer than inih's buffer (inih would
 * silently split them), reports empty [unknown] sections (inih only calls us for keys) and
 * text after a header's ']' (inih ignores it), and stops the parse at the first error. inih's
 * multi-line continuation (an indented line after a key) is rejected: only there does the
 * handler see the value start at the line's first non-blank character.
 *
 * A load works on a copy and commits only on success, so a failed load or --set leaves the
 * caller's config untouched.
 *
 * What a row's type does with its text (parse, format, JSON, the help table's "allowed"
 * column, the row's invariants) is in config_types.c; which keys a run reads under the rest of
 * the config (occam_config_drop_inert and its kin) is in config_inert.c; config-impl.h holds
 * what the three files share.
 *
 * Checks that span keys belong to the modules the keys configure (occam_data_check and the
 * like); occam_config_validate runs them after re-checking every field through the table. */
#include "occam/config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <ini.h>

#include "config-impl.h"
#include "occam/noisy.h"
#include "occam/train.h"

/* ---- the table -------------------------------------------------------------------------- */
/* offsetof(occam_config, f), refusing to compile unless the field has type T. */
#define FIELD(f, T) \
    (offsetof(occam_config, f) + 0 * sizeof(char[_Generic(((occam_config *)0)->f, T: 1)]))
/* As FIELD for enums: the setter stores through an int *, so the enum must be int-sized. */
#define ENUM_FIELD(f, T) \
    (FIELD(f, T) + 0 * sizeof(char[sizeof(((occam_config *)0)->f) == sizeof(int) ? 1 : -1]))
#define PATH_FIELD(f) \
    (FIELD(f, char *) + \
     0 * sizeof(char[sizeof(((occam_config *)0)->f) == OCCAM_PATH_MAX ? 1 : -1]))
#define ARRAY_LEN(f) ((int)(sizeof(((occam_config *)0)->f) / sizeof(((occam_config *)0)->f[0])))

#define ROW(s_, k_, t_, off_, d_, h_) \
    .section = s_, .key = k_, .type = t_, .off = off_, .def = d_, .help = h_
#define INT_KEY(s_, k_, f_, lo_, hi_, d_, h_) \
    { ROW(s_, k_, KEY_INT, FIELD(f_, int), d_, h_), .lo = lo_, .hi = hi_ }
#define INT64_KEY(s_, k_, f_, lo_, hi_, d_, h_) \
    { ROW(s_, k_, KEY_INT64, FIELD(f_, int64_t), d_, h_), .lo = lo_, .hi = hi_ }
#define UINT64_KEY(s_, k_, f_, d_, h_) \
    { ROW(s_, k_, KEY_UINT64, FIELD(f_, uint64_t), d_, h_) }
#define DOUBLE_KEY(s_, k_, f_, lo_, hi_, open_, d_, h_) \
    { ROW(s_, k_, KEY_DOUBLE, FIELD(f_, double), d_, h_), .lo = lo_, .hi = hi_, .open = open_ }
#define BOOL_KEY(s_, k_, f_, d_, h_) { ROW(s_, k_, KEY_BOOL, FIELD(f_, bool), d_, h_) }
#define ENUM_KEY(s_, k_, f_, T_, names_, d_, h_) \
    { ROW(s_, k_, KEY_ENUM, ENUM_FIELD(f_, T_), d_, h_), .names = names_ }
#define PATH_KEY(s_, k_, f_, d_, h_) { ROW(s_, k_, KEY_PATH, PATH_FIELD(f_), d_, h_) }
#define LIST_KEY(s_, k_, f_, n_, min_n_, lo_, hi_, d_, h_)                                  \
    { ROW(s_, k_, KEY_LIST, FIELD(f_, int *), d_, h_), .off2 = FIELD(n_, int),            \
      .min_count = min_n_, .max_count = ARRAY_LEN(f_), .len = ARRAY_LEN(f_), .lo = lo_,   \
      .hi = hi_ }
#define LABEL_KEY(s_, k_, f_, name_, hi_, d_, h_)                                       \
    { ROW(s_, k_, KEY_LABEL, FIELD(f_, int), d_, h_), .lo = 1, .hi = hi_,                 \
      .off2 = FIELD(name_, char *) +                                                      \
              0 * sizeof(char[sizeof(((occam_config *)0)->name_) == OCCAM_LABEL_NAME_MAX ? 1 \
                                                                                           : -1]) }
#define DLIST_KEY(s_, k_, f_, n_, min_n_, max_n_, lo_, hi_, open_, d_, h_)                  \
    { ROW(s_, k_, KEY_DLIST, FIELD(f_, double *), d_, h_), .off2 = FIELD(n_, int),        \
      .min_count = min_n_, .max_count = max_n_, .len = ARRAY_LEN(f_), .lo = lo_, .hi = hi_, \
      .open = open_ }
#define NM_KEY(s_, k_, n_, m_, lo_, hi_, d_, h_) \
    { ROW(s_, k_, KEY_NM, FIELD(n_, int), d_, h_), .off2 = FIELD(m_, int), .lo = lo_, .hi = hi_ }
#define TAGGED_KEY(s_, k_, f_, T_, names_, tag_, arg_, lo_, hi_, d_, h_)                   \
    { ROW(s_, k_, KEY_TAGGED, ENUM_FIELD(f_, T_), d_, h_), .names = names_, .tag = tag_,  \
      .off2 = FIELD(arg_, int), .lo = lo_, .hi = hi_ }

static const char *const header_names[] = {
    [OCCAM_CSV_HEADER_AUTO] = "auto", [OCCAM_CSV_HEADER_YES] = "yes",
    [OCCAM_CSV_HEADER_NO] = "no", NULL};
static const char *const task_names[] = {
    [OCCAM_TASK_CLASSIFY] = "classify", [OCCAM_TASK_REGRESS] = "regress", NULL};
static const char *const norm_names[] = {
    [OCCAM_NORM_NONE] = "none", [OCCAM_NORM_SCALE] = "scale",
    [OCCAM_NORM_STANDARDIZE] = "standardize", NULL};
static const char *const act_names[] = {
    [OCCAM_ACT_RELU] = "relu", [OCCAM_ACT_TANH] = "tanh", [OCCAM_ACT_SIGMOID] = "sigmoid", NULL};
static const char *const init_names[] = {
    [OCCAM_INIT_HE] = "he", [OCCAM_INIT_XAVIER] = "xavier", NULL};
static const char *const opt_names[] = {[OCCAM_OPT_SGD] = "sgd", [OCCAM_OPT_ADAM] = "adam", NULL};
static const char *const sched_names[] = {
    [OCCAM_SCHED_CONSTANT] = "constant", [OCCAM_SCHED_STEP] = "step",
    [OCCAM_SCHED_COSINE] = "cosine", NULL};

static const char *const grad_names[] = {
    [OCCAM_GRAD_AUTO] = "auto", [OCCAM_GRAD_SHARD] = "shard", [OCCAM_GRAD_OWNER] = "owner", NULL};
static const char *const bind_names[] = {
    [OCCAM_BIND_CORE] = "core", [OCCAM_BIND_NONE] = "none", NULL};
static const char *const placement_names[] = {
    [OCCAM_PLACE_COMPACT] = "compact", [OCCAM_PLACE_SPREAD] = "spread", NULL};
static const char *const weights_names[] = {
    [OCCAM_WEIGHTS_LOCAL] = "local", [OCCAM_WEIGHTS_REPLICATE] = "replicate",
    [OCCAM_WEIGHTS_INTERLEAVE] = "interleave", NULL};

static const char *const prune_schedule_names[] = {
    [OCCAM_PRUNE_NONE] = "none", [OCCAM_PRUNE_ONESHOT] = "oneshot",
    [OCCAM_PRUNE_ITERATIVE] = "iterative", [OCCAM_PRUNE_AGP] = "agp", [OCCAM_PRUNE_MDL] = "mdl", NULL};
static const char *const prune_method_names[] = {
    [OCCAM_IMP_MAGNITUDE] = "magnitude", [OCCAM_IMP_TAYLOR] = "taylor", [OCCAM_IMP_OBD] = "obd",
    [OCCAM_IMP_RANDOM] = "random", [OCCAM_IMP_SNR] = "snr", NULL};
static const char *const granularity_names[] = {
    [OCCAM_GRAN_WEIGHT] = "weight", [OCCAM_GRAN_NEURON] = "neuron", [OCCAM_GRAN_NM] = "nm", NULL};
static const char *const scope_names[] = {
    [OCCAM_SCOPE_GLOBAL] = "global", [OCCAM_SCOPE_LAYER] = "layer", NULL};
static const char *const rewind_names[] = {
    [OCCAM_REWIND_NONE] = "none", [OCCAM_REWIND_INIT] = "init", [OCCAM_REWIND_EPOCH] = "epoch",
    NULL};

static const char *const prior_names[] = {
    [OCCAM_PRIOR_GAUSSIAN] = "gaussian", [OCCAM_PRIOR_MOG] = "mog",
    [OCCAM_PRIOR_SPARSE] = "sparse", NULL};
/* mdl.prior: the two-part code's priors (the log-uniform sparse prior is improper and codes
 * nothing: a noise.prior only; --config-keys offered it and the config then refused it) */
static const char *const code_prior_names[] = {
    [OCCAM_PRIOR_GAUSSIAN] = "gaussian", [OCCAM_PRIOR_MOG] = "mog", NULL};
_Static_assert(OCCAM_PRIOR_SPARSE == 2, "code_prior_names ends where sparse would be");
static const char *const precision_names[] = {
    [OCCAM_PRECISION_AUTO] = "auto", [OCCAM_PRECISION_SEARCH] = "search",
    [OCCAM_PRECISION_POSTERIOR] = "posterior", NULL};
static const char *const data_term_names[] = {
    [OCCAM_NOISE_DATA_AUTO] = "auto", [OCCAM_NOISE_DATA_EXPANSION] = "expansion",
    [OCCAM_NOISE_DATA_SAMPLE] = "sample", NULL};
static const char *const prior_scope_names[] = {
    [OCCAM_PRIOR_SCOPE_LAYER] = "layer", [OCCAM_PRIOR_SCOPE_NETWORK] = "network",
    [OCCAM_PRIOR_SCOPE_AUTO] = "auto", NULL};
static const char *const prior_update_names[] = {
    [OCCAM_PRIOR_UPDATE_EM] = "em", [OCCAM_PRIOR_UPDATE_GRADIENT] = "gradient", NULL};

static const config_key keys[] = {
    ENUM_KEY("data", "source", data.source, occam_source, occam_data_source_names, "idx",
             "where the data comes from: IDX files, a CSV file or generated blobs"),
    PATH_KEY("data", "path", data.path, "/usr/share/datasets/fashion-mnist",
             "idx: folder holding the four IDX files"),
    PATH_KEY("data", "train", data.train, "", "csv: training file"),
    PATH_KEY("data", "test", data.test, "", "csv: test file"),
    LABEL_KEY("data", "label", data.label, data.label_name, 1000000, "last",
              "csv: label column: first, last, a 1-based column number or the header's name"),
    ENUM_KEY("data", "header", data.header, occam_csv_header, header_names, "auto",
             "csv: is the first row a header (auto: if a cell is a name, not a number or a gap "
             "such as NA; numbers beside one gone wrong, 2x or O.5, are refused)"),
    ENUM_KEY("data", "task", data.task, occam_task, task_names, "classify",
             "classify (integer labels) or regress (real targets: csv or peptide)"),
    ENUM_KEY("data", "normalize", data.normalize, occam_norm, norm_names, "scale",
             "input scaling from training statistics: none, scale all by one max |x|, or per-feature "
             "standardize"),
    BOOL_KEY("data", "normalize_targets", data.normalize_targets, "true",
             "regress: standardise each target with the training mean and std; training runs in "
             "standardised units, predictions, errors and bits are in the original units (no "
             "effect on classify)"),
    INT64_KEY("data", "samples", data.samples, 1, 1e9, "1000", "blobs: training rows"),
    INT64_KEY("data", "test_samples", data.test_samples, 1, 1e9, "300", "blobs: test rows"),
    INT_KEY("data", "features", data.features, 1, 1e6, "20",
            "blobs: input dimension (must equal model.layers[0])"),
    INT_KEY("data", "classes", data.classes, 2, 100000, "3",
            "blobs: class count (must equal the last model.layers entry)"),
    DOUBLE_KEY("data", "spread", data.spread, 0, 1e6, 0, "3.0",
               "blobs: std of the class centres (each blob has unit variance)"),
    UINT64_KEY("data", "seed", data.seed, "42", "blobs: generator seed"),
    DOUBLE_KEY("data", "target_noise", data.target_noise, 0, 1e6, 0, "0.5",
               "peptide: standard deviation of the noise added to the targets"),
    INT64_KEY("data", "holdout", data.holdout, 0, 1000000000, "0",
              "hold out the last K training rows as the test set (a validation split for "
              "tuning; the real test set is then not used)"),

    LIST_KEY("model", "layers", model.layers, model.nlayers, 2, 1, 1e6, "784,300,100,10",
             "layer widths, input first and output last"),
    ENUM_KEY("model", "activation", model.activation, occam_act, act_names, "relu",
             "hidden-layer activation"),
    ENUM_KEY("model", "init", model.init, occam_init, init_names, "he", "weight initialisation"),

    INT_KEY("train", "epochs", train.epochs, 1, 1e6, "20", "passes over the training set"),
    INT_KEY("train", "batch", train.batch, 1, 1 << 20, "128", "minibatch size"),
    ENUM_KEY("train", "optimizer", train.optim.optimizer, occam_opt, opt_names, "sgd", "optimiser"),
    DOUBLE_KEY("train", "lr", train.optim.lr, 0, 100, OPEN_LO, "0.1", "learning rate"),
    DOUBLE_KEY("train", "momentum", train.optim.momentum, 0, 1, OPEN_HI, "0.9", "sgd: momentum"),
    BOOL_KEY("train", "nesterov", train.optim.nesterov, "false", "sgd: Nesterov momentum"),
    DOUBLE_KEY("train", "beta1", train.optim.beta1, 0, 1, OPEN_HI, "0.9",
               "adam: first-moment decay"),
    DOUBLE_KEY("train", "beta2", train.optim.beta2, 0, 1, OPEN_HI, "0.999",
               "adam: second-moment decay"),
    DOUBLE_KEY("train", "eps", train.optim.eps, 0, 1, OPEN_LO, "1e-8", "adam: denominator epsilon"),
    DOUBLE_KEY("train", "weight_decay", train.optim.weight_decay, 0, 100, 0, "0",
               "L2 coefficient on weights (not biases), added to the gradient; unused with "
               "noise.enabled = true, whose prior regularises"),
    ENUM_KEY("train", "schedule", train.optim.schedule, occam_sched, sched_names, "constant",
             "learning-rate schedule"),
    INT_KEY("train", "step_epochs", train.optim.step_epochs, 1, 1e6, "10",
            "step: epochs between learning-rate drops"),
    DOUBLE_KEY("train", "gamma", train.optim.gamma, 0, 1, OPEN_LO, "0.1",
               "step: factor applied at each drop"),
    DOUBLE_KEY("train", "lr_min", train.optim.lr_min, 0, 100, 0, "0",
               "cosine: final learning rate (at most train.lr)"),
    UINT64_KEY("train", "seed", train.seed, "1", "weight init and shuffling seed"),
    INT_KEY("train", "checkpoint_every", train.checkpoint_every, 0, 1000000, "0",
            "write the full training state every N epochs (0 = only when a signal stops the run)"),
    INT_KEY("train", "checkpoint_keep", train.checkpoint_keep, 1, 1000000, "3",
            "checkpoints kept in train.checkpoint_dir (the run's oldest are removed)"),
    PATH_KEY("train", "checkpoint_dir", train.checkpoint_dir, "checkpoints",
             "folder of the training-state checkpoints (ckpt-eEPOCH-sSTEP.safetensors)"),

    INT_KEY("runtime", "threads", runtime.threads, 0, 4096, "0",
            "worker threads, 0 = all cores (or OMP_NUM_THREADS if fewer)"),
    BOOL_KEY("runtime", "oversubscribe", runtime.oversubscribe, "false",
             "allow more threads than cores"),
    ENUM_KEY("runtime", "grad", runtime.grad, occam_grad, grad_names, "auto",
             "weight gradients: shard (per-thread partials, reduced) or owner (each thread "
             "computes its rows over the whole batch); auto picks per layer by a cost model"),
    ENUM_KEY("runtime", "bind", runtime.bind, occam_bind, bind_names, "core",
             "pin each thread to a core (ignored when OMP_PLACES or OMP_PROC_BIND is set)"),
    ENUM_KEY("runtime", "placement", runtime.placement, occam_placement, placement_names,
             "compact", "thread placement: fill a NUMA node first, or round-robin across nodes"),
    ENUM_KEY("runtime", "weights", runtime.weights, occam_weights, weights_names, "local",
             "weight memory: one copy (local), one copy per NUMA node (replicate), or pages "
             "spread across nodes (interleave)"),
    PATH_KEY("runtime", "topology", runtime.topology, "",
             "topology override: synthetic:<hwloc synthetic string> or xml:<file>; empty = "
             "this machine (HWLOC_SYNTHETIC / HWLOC_XMLFILE also apply)"),

    ENUM_KEY("prune", "schedule", prune.schedule, occam_prune_schedule, prune_schedule_names,
             "none",
             "when to prune: never, once after train.epochs, in prune.steps steps with "
             "fine-tuning, Zhu & Gupta's gradual cubic ramp, or mdl (iterative steps, keeping the "
             "model with the smallest description length)"),
    ENUM_KEY("prune", "method", prune.method, occam_prune_method, prune_method_names,
             "magnitude",
             "importance: |w|, |w·g| (gradient averaged over prune.batches batches), w²·H_ii "
             "(diagonal empirical Fisher: mean squared gradient over prune.batches batches), "
             "random (baseline), or snr: |μ|/σ of noisy weights"),
    ENUM_KEY("prune", "granularity", prune.granularity, occam_granularity, granularity_names,
             "weight",
             "unstructured weights, whole hidden units (removed from the computation), or N:M "
             "along each row's input dimension"),
    ENUM_KEY("prune", "scope", prune.scope, occam_scope, scope_names, "global",
             "one threshold across layers, or the same fraction in each layer"),
    DOUBLE_KEY("prune", "target", prune.target, 0, 1, OPEN_HI, "0.9",
               "final sparsity (neuron granularity: fraction of hidden units removed)"),
    DLIST_KEY("prune", "layer_targets", prune.layer_target, prune.nlayer_target, 0,
              OCCAM_MAX_LAYERS - 1, -1, 1, OPEN_HI, "",
              "scope = layer: final sparsity of each weight layer, one entry per weight layer "
              "(-1 = prune.target); empty = prune.target everywhere"),
    INT64_KEY("prune", "min_keep", prune.min_keep, 0, 1e12, "0",
              "weights (or neurons) always kept per layer"),
    INT_KEY("prune", "steps", prune.steps, 1, 1000, "5",
            "iterative and mdl: prune steps, each followed by prune.finetune_epochs"),
    INT_KEY("prune", "finetune_epochs", prune.finetune_epochs, 0, 100000, "2",
            "oneshot/iterative/mdl: fine-tuning epochs after each prune"),
    INT_KEY("prune", "start", prune.start, 0, 1000000, "0", "agp: epoch the ramp starts at"),
    INT_KEY("prune", "end", prune.end, 0, 1000000, "10",
            "agp: epoch the ramp reaches prune.target at (> prune.start, <= train.epochs)"),
    INT_KEY("prune", "every", prune.every, 1, 1e9, "100", "agp: optimiser steps between prunes"),
    NM_KEY("prune", "nm", prune.nm_n, prune.nm_m, 1, 64, "2:4",
           "nm: keep N of every M consecutive inputs in each row"),
    INT_KEY("prune", "batches", prune.batches, 1, 100000, "8",
            "taylor/obd: minibatches the gradient statistics average over"),
    BOOL_KEY("prune", "bias", prune.bias, "false", "prune biases too (weight granularity)"),
    TAGGED_KEY("prune", "rewind", prune.rewind, occam_rewind, rewind_names, OCCAM_REWIND_EPOCH,
               prune.rewind_epoch, 0, 1000000, "none",
               "after each prune, reset the surviving weights to their initial values or their "
               "values after epoch N, and clear the optimiser state (lottery ticket)"),
    UINT64_KEY("prune", "seed", prune.seed, "1",
               "seed of prune.method = random and of taylor/obd's minibatch draws"),
    BOOL_KEY("prune", "score_events", prune.score_events, "false",
             "compute the description length L (mdl.model_code) of the dense model and after "
             "every prune step's fine-tuning, for the report and the MDL plot (always on for "
             "schedule = mdl; not for agp or none)"),

    ENUM_KEY("mdl", "model_code", mdl.model_code, occam_model_code, occam_dl_code_names,
             "two-part",
             "model code: two-part (masks + quantised values under fitted priors, in bits), "
             "count (active parameters x mdl.bits_per_weight) or bits-back (noisy weights: KL)"),
    DOUBLE_KEY("mdl", "bits_per_weight", mdl.bits_per_weight, 0, 64, OPEN_LO, "32",
               "count code: bits per active parameter"),
    DOUBLE_KEY("mdl", "weight_precision", mdl.weight_precision, 0, 1000, 0, "0",
               "two-part: quantisation step of the weights (0, or at least 1e-9); 0 = "
               "chosen per layer as mdl.precision says"),
    ENUM_KEY("mdl", "precision", mdl.precision, occam_precision, precision_names, "auto",
             "two-part steps per layer: search (minimise model + data bits), posterior (the "
             "geometric mean of the layer's posterior σ: Bayesian compression, noisy models "
             "only) or auto (posterior for a noisy-weight model, else search)"),
    ENUM_KEY("mdl", "prior", mdl.prior, occam_prior_kind, code_prior_names, "mog",
             "two-part: prior the quantised values are coded under, fitted per layer"),
    INT_KEY("mdl", "components", mdl.components, 2, 8, "3",
            "mog prior: components (component 0 is pinned at zero)"),
    DOUBLE_KEY("mdl", "target_precision", mdl.target_precision, 0, 1e6, OPEN_LO, "0.01",
               "regression: the step targets are quantised to for the data code"),
    INT_KEY("mdl", "samples", mdl.samples, 1, 1000000, "100",
            "bits-back with a mog or sparse noise.prior: Monte-Carlo draws per weight for the KL"),
    INT_KEY("mdl", "data_samples", mdl.data_samples, 1, 10000, "8",
            "bits-back: noise samples per training row for the expected NLL under q"),
    INT_KEY("mdl", "search_rows", mdl.search_rows, 0, 1000000000, "10000",
            "training rows used while searching quantisation steps (0 = all; the reported "
            "total always uses all)"),
    UINT64_KEY("mdl", "seed", mdl.seed, "1", "Monte-Carlo seed"),

    BOOL_KEY("noise", "enabled", noise.enabled, "false",
             "noisy weights: each weight is a Gaussian N(μ, σ²), trained by the local "
             "reparameterisation with loss = expected NLL + β·KL(q‖p)/N"),
    ENUM_KEY("noise", "prior", noise.prior, occam_prior_kind, prior_names, "gaussian",
             "prior p(w) per layer: gaussian N(0, s²) (MacKay's evidence width), or mog, a "
             "mixture with one component pinned at 0 (soft weight sharing), their parameters "
             "re-fitted every epoch; or sparse, the log-uniform prior of sparse variational "
             "dropout (Molchanov et al. 2017)"),
    INT_KEY("noise", "components", noise.components, 2, 8, "3", "mog prior: components"),
    DOUBLE_KEY("noise", "prior_sigma", noise.prior_sigma, 0, 100, 0, "0",
               "gaussian prior: s, 0 or at least 1e-6; 0 = learned (per noise.prior_scope)"),
    ENUM_KEY("noise", "prior_scope", noise.prior_scope, occam_prior_scope, prior_scope_names,
             "auto",
             "gaussian and mog priors: one per layer, or one for the whole network, which pins "
             "the balance between layers (per-layer priors drift along the ReLU rescaling at "
             "high learning rates); auto = network (the sparse prior has no parameters)"),
    BOOL_KEY("noise", "rebalance", noise.rebalance, "true",
             "one prior for the network, ReLU: after the warm-up, each epoch moves every "
             "hidden unit toward the rescaling (in-weights × c, out-weights ÷ c) with equal "
             "in and out norms, by at most ×1.1; the function is unchanged and a Gaussian's KL "
             "falls (no effect with per-layer priors, the sparse prior or other activations)"),
    DOUBLE_KEY("noise", "init_sigma", noise.init_sigma, 1e-37, 10, 0, "0.01",
               "initial σ of every weight (from 1e-37: training keeps σ = softplus(ρ) a "
               "normal float32, ρ >= -87)"),
    INT_KEY("noise", "warmup_epochs", noise.warmup_epochs, 0, 1000000, "5",
            "epochs over which β rises linearly from 0 to 1"),
    DOUBLE_KEY("noise", "kl_scale", noise.kl_scale, 0, 1e6, 0, "1",
               "multiplies β: 1 is the description-length cost"),
    DOUBLE_KEY("noise", "zero_weight", noise.zero_weight, 0, 1, OPEN_LO | OPEN_HI, "0.9",
               "mog: fixed mixing proportion of the zero component (soft weight sharing)"),
    DOUBLE_KEY("noise", "zero_cap", noise.zero_cap, 0, 1, 0, "0",
               "mog: caps the zero component's width at this fraction of the weights' RMS, from "
               "the first epoch (a compression prior: small weights go to zero early, at some "
               "cost in bits on small data); 0 = no cap, EM's width"),
    ENUM_KEY("noise", "prior_update", noise.prior_update, occam_prior_update,
             prior_update_names, "em",
             "how the mog prior is re-fitted each epoch: em (five EM steps) or gradient "
             "(Adam steps on the summed KL: means, log-widths, mixing logits)"),
    INT_KEY("noise", "prior_steps", noise.prior_steps, 1, 100000, "30",
            "prior_update = gradient: steps per epoch"),
    ENUM_KEY("noise", "data_term", noise.data_term, occam_noise_data_term, data_term_names,
             "auto",
             "the expected data cost E_q[L]: expansion (at the means plus ½Σ h·σ², h the "
             "curvature; σ set to its minimiser each epoch) or sample (the noisy forward pass, "
             "local reparameterisation); auto = sample for the sparse prior, else expansion"),
    DOUBLE_KEY("noise", "log_alpha", noise.log_alpha, -20, 20, 0, "3",
               "weights with log α = ln(σ²/μ²) above this are masked: by the sparse prior (after "
               "the warm-up, every epoch); by the two-part code at the posterior precision, where "
               "that codes shorter"),
    UINT64_KEY("noise", "seed", noise.seed, "1", "noise sample seed"),
};

enum { NKEYS = sizeof keys / sizeof keys[0] };

/* ---- small helpers ---------------------------------------------------------------------- */

static const char *skip_space(const char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    return s;
}

/* ---- lookup with suggestions ------------------------------------------------------------ */

/* Levenshtein distance, for "did you mean"; INT_MAX for names too long to bother with. */
static int edit_distance(const char *a, const char *b)
{
    enum { N = 64 };
    size_t m = strlen(a), n = strlen(b);
    if (m >= N || n >= N)
        return INT_MAX;
    int row[N];
    for (size_t j = 0; j <= n; j++)
        row[j] = (int)j;
    for (size_t i = 1; i <= m; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= n; j++) {
            int up = row[j];
            int best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[n];
}

/* A typo, not a different word: at most 2 edits, and at most half the longer name. */
static bool close_enough(const char *typed, const char *candidate, int d)
{
    size_t len = strlen(typed) > strlen(candidate) ? strlen(typed) : strlen(candidate);
    return d <= 2 && (size_t)(2 * d) <= len;
}

static bool section_known(const char *section, size_t len)
{
    for (int i = 0; i < NKEYS; i++)
        if (strlen(keys[i].section) == len && !strncmp(keys[i].section, section, len))
            return true;
    return false;
}

/* Longest message (beyond its "PATH:LINE" or "--set" prefix) about a config line, and the
 * most of a line's text a syntax error quotes. */
enum { CONFIG_MSG_MAX = 2048, CONFIG_ECHO_MAX = 80 };

/* A section or key name as typed, for a message: quoted, and no more than CONFIG_ECHO_MAX
 * bytes of it (a --set key of 5000 bytes filled the message, and its reason, "unknown key",
 * was cut off). buf holds NAME_SHOWN bytes. */
enum { NAME_SHOWN = 4 * CONFIG_ECHO_MAX + 4 };
static const char *name_shown(char *buf, const char *name)
{
    return occam_error_quote(buf, NAME_SHOWN, name, strlen(name), CONFIG_ECHO_MAX);
}

static void unknown_section(char *why, size_t cap, const char *section)
{
    char text[NAME_SHOWN];
    const char *shown = name_shown(text, section); /* the section as printed */
    const char *best = NULL;
    int best_d = INT_MAX;
    for (int i = 0; i < NKEYS; i++) {
        int d = edit_distance(section, keys[i].section);
        if (d < best_d && close_enough(section, keys[i].section, d)) {
            best = keys[i].section;
            best_d = d;
        }
    }
    if (best) {
        snprintf(why, cap, "unknown section [%s] (did you mean [%s]?)", shown, best);
        return;
    }
    int n = snprintf(why, cap, "unknown section [%s] (sections:", shown);
    for (int i = 0; i < NKEYS && n >= 0 && (size_t)n < cap; i++)
        if (i == 0 || strcmp(keys[i].section, keys[i - 1].section))
            n += snprintf(why + n, cap - (size_t)n, "%s %s", i ? "," : "", keys[i].section);
    if (n >= 0 && (size_t)n < cap)
        snprintf(why + n, cap - (size_t)n, ")");
}

/* The row for section.key, or NULL with why = "unknown key 'x' in [s] (did you mean 'y'?)"
 * and the like. */
static const config_key *key_find(const char *section, const char *key, char *why, size_t cap)
{
    for (int i = 0; i < NKEYS; i++)
        if (!strcmp(keys[i].section, section) && !strcmp(keys[i].key, key))
            return &keys[i];
    if (*section && !section_known(section, strlen(section))) {
        unknown_section(why, cap, section);
        return NULL;
    }
    char key_text[NAME_SHOWN];
    const char *shown = name_shown(key_text, key); /* the key as printed */
    /* The right key in the wrong section is a common slip: say where it belongs. */
    for (int i = 0; i < NKEYS; i++) {
        if (!strcmp(keys[i].key, key)) {
            if (*section)
                snprintf(why, cap, "unknown key '%s' in [%s] (it belongs in [%s])", shown,
                         section, keys[i].section);
            else
                snprintf(why, cap, "key '%s' is outside any section (it belongs in [%s])", shown,
                         keys[i].section);
            return NULL;
        }
    }
    if (!*section) {
        snprintf(why, cap, "key '%s' is outside any section", shown);
        return NULL;
    }
    const char *best = NULL;
    int best_d = INT_MAX;
    for (int i = 0; i < NKEYS; i++) {
        if (strcmp(keys[i].section, section))
            continue;
        /* Keys are case-sensitive; a case slip is the closest match of all. */
        int d = strcasecmp(key, keys[i].key) ? edit_distance(key, keys[i].key) : 0;
        if (d < best_d && close_enough(key, keys[i].key, d)) {
            best = keys[i].key;
            best_d = d;
        }
    }
    if (best)
        snprintf(why, cap, "unknown key '%s' in [%s] (did you mean '%s'?)", shown, section, best);
    else
        snprintf(why, cap, "unknown key '%s' in [%s]", shown, section);
    return NULL;
}

/* ---- defaults ---------------------------------------------------------------------------- */

/* The table's own invariants; a failure is a programmer bug in the rows above. */
static void table_check(void)
{
    for (int i = 0; i < NKEYS; i++) {
        const config_key *k = &keys[i];
        for (int j = 0; j < i; j++) {
            OCCAM_ASSERT(strcmp(k->section, keys[j].section) || strcmp(k->key, keys[j].key));
            /* A section's rows are contiguous: the writers emit one header per run. */
            if (!strcmp(k->section, keys[j].section))
                OCCAM_ASSERT(!strcmp(k->section, keys[i - 1].section));
        }
        config_key_ops(k)->rules(k);
    }
}

void occam_config_defaults(occam_config *cfg)
{
    table_check();
    memset(cfg, 0, sizeof *cfg); /* padding and unused list entries too, for memcmp */
    for (int i = 0; i < NKEYS; i++) {
        char detail[DETAIL_MAX];
        if (!config_key_parse(&keys[i], keys[i].def, cfg, detail, sizeof detail)) {
            fprintf(stderr, "occam: internal error: default %s.%s = %s: %s\n", keys[i].section,
                    keys[i].key, keys[i].def, detail);
            abort();
        }
    }
}

/* ---- INI loading ------------------------------------------------------------------------- */

typedef struct load_state {
    occam_config cfg;       /* working copy, committed on success */
    const char *path;
    FILE *f;
    int line;               /* lines read so far: inih handles each line before reading on */
    const char *buf;        /* inih's line buffer, as last filled by load_read */
    int first_line[NKEYS];  /* line each key was set on, 0 = not yet */
    int err_line;           /* line of the first error, 0 = none */
    occam_error e;
    /* inih's line buffer is 200 bytes (Debian's build); a path key takes OCCAM_PATH_MAX - 1.
     * A longer "key = value" line reaches inih as "key =" and a marker, and the handler takes
     * the value from here (load_read). */
    char text[OCCAM_PATH_MAX + 256];
    const char *long_value; /* the current line's value when it was too long for inih */
} load_state;

/* What inih is given in place of a value too long for its buffer: a byte no value can hold. */
#define LONG_VALUE_MARK "\x1f"


/* OCCAM_ERR_INPUT "PREFIX" "MSG", where MSG holds text from the user's line or --set argument:
 * its bytes are quoted (occam_error_quote), so a binary file cannot drive the terminal. */
static int config_vfail(occam_error *err, const char *prefix, const char *fmt, va_list ap)
{
    /* formatted whole, then shortened as every message is (the middle gives way, marked
     * "..."): a 3,000-byte value cut the message at CONFIG_MSG_MAX, its closing quote lost */
    char msg[CONFIG_MSG_MAX], shown[4 * CONFIG_MSG_MAX];
    va_list aq;
    va_copy(aq, ap);
    int n = vsnprintf(msg, sizeof msg, fmt, aq);
    va_end(aq);
    char *full = n >= (int)sizeof msg ? malloc((size_t)n + 1) : NULL;
    if (full) {
        vsnprintf(full, (size_t)n + 1, fmt, ap);
        occam_error_shorten(full, sizeof msg);
        memcpy(msg, full, strlen(full) + 1);
        free(full);
    }
    occam_error_quote(shown, sizeof shown, msg, strlen(msg), sizeof msg);
    return occam_error_set(err, OCCAM_ERR_INPUT, "%s%s", prefix, shown);
}

static int set_fail(occam_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A --set argument's error: "--set ..." with the argument's bytes quoted. */
static int set_fail(occam_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = config_vfail(err, "--set ", fmt, ap);
    va_end(ap);
    return rc;
}

static int load_fail(load_state *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Records "PATH:LINE: ..." unless an earlier error is recorded. Returns 0 for inih. */
static int load_fail(load_state *st, const char *fmt, ...)
{
    if (st->err_line)
        return 0;
    char prefix[OCCAM_ERROR_MAX];
    snprintf(prefix, sizeof prefix, "%s:%d: ", st->path, st->line);
    va_list ap;
    va_start(ap, fmt);
    config_vfail(&st->e, prefix, fmt, ap);
    va_end(ap);
    st->err_line = st->line;
    return 0;
}

/* The first character inih looks at on the current line (it skips a UTF-8 BOM on line 1). */
static const char *line_start(const load_state *st)
{
    const char *p = st->buf;
    if (st->line == 1 && !strncmp(p, "\xEF\xBB\xBF", 3))
        p += 3;
    return p;
}

/* inih reports a "[section]" header only through the keys under it, so an empty unknown
 * section would pass unnoticed: look at headers here. The scan mirrors inih's: the name runs
 * to ']', and a ';' after a blank starts a comment (then inih reports a syntax error). */
static void check_section_line(load_state *st)
{
    const char *p = skip_space(line_start(st));
    if (*p != '[')
        return;
    const char *q = p + 1;
    bool was_space = false;
    while (*q && *q != ']' && !(was_space && *q == ';')) {
        was_space = isspace((unsigned char)*q);
        q++;
    }
    if (*q != ']')
        return;
    char name[128], why[DETAIL_MAX];
    snprintf(name, sizeof name, "%.*s", (int)(q - p - 1), p + 1);
    /* inih ignores anything after the ']'; we allow only a comment. */
    const char *rest = skip_space(q + 1);
    if (*rest && *rest != ';') {
        size_t n = strlen(rest);
        while (n > 0 && isspace((unsigned char)rest[n - 1]))
            n--;
        load_fail(st, "unexpected text after [%s]: %.*s", name, (int)n, rest);
        return;
    }
    if (section_known(p + 1, (size_t)(q - p - 1)))
        return;
    unknown_section(why, sizeof why, name);
    load_fail(st, "%s", why);
}

/* Like inih's scan: the first of chars (NULL: none), or an inline comment (';' after a blank),
 * or the end. */
static char *scan_to(char *s, const char *chars)
{
    bool was_space = false;
    while (*s && !(chars && strchr(chars, *s)) && !(was_space && *s == ';')) {
        was_space = isspace((unsigned char)*s);
        s++;
    }
    return s;
}

/* A "key = value" line too long for inih's buffer (num bytes): str gets the line up to its
 * '=' (or ':') and the marker, st->long_value the value as inih would have cut it (inline
 * comment and outer blanks off). False when the line is no such line. */
static bool pass_long_value(load_state *st, char *str, int num)
{
    char *line = st->text, *start = (char *)skip_space(line_start(st));
    if (*start == ';' || *start == '#') { /* a long comment: nothing to pass on */
        snprintf(str, (size_t)num, "#\n");
        return true;
    }
    char *eq = scan_to(start, "=:");
    /* the line up to '=', the marker, '\n' and the NUL must fit */
    if ((*eq != '=' && *eq != ':') || eq == start ||
        (size_t)(eq - line) + 1 + sizeof LONG_VALUE_MARK + 1 > (size_t)num)
        return false;
    /* inih cuts an inline comment from just after the '=' (so "= ; x" is empty), then blanks */
    char *end = scan_to(eq + 1, NULL), *value = (char *)skip_space(eq + 1);
    if (value > end) value = end;
    while (end > value && isspace((unsigned char)end[-1]))
        end--;
    *end = 0;
    snprintf(str, (size_t)num, "%.*s" LONG_VALUE_MARK "\n", (int)(eq - line + 1), line);
    st->long_value = value;
    return true;
}

/* inih's reader: fgets into occam's own line plus line counting, the length limits and the stop
 * at the first error. num is inih's buffer size; a line it gets must leave room for "\r\n\0". */
static char *load_read(char *str, int num, void *stream)
{
    load_state *st = stream;
    OCCAM_ASSERT(num > 3);
    if (st->err_line)
        return NULL;
    char *line = st->text;
    const int cap = (int)sizeof st->text;
    errno = 0;
    if (!fgets(line, cap, st->f)) {
        if (ferror(st->f)) {
            int e = errno;
            st->line++;
            load_fail(st, "read error: %s", strerror(e));
        }
        return NULL;
    }
    st->line++;
    st->buf = line;
    st->long_value = NULL;
    size_t n = strlen(line), len = n;
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    bool eol = n > 0 && line[n - 1] == '\n';
    if (!eol && !feof(st->f) && n < (size_t)cap - 1) {
        load_fail(st, "line contains a NUL byte");
        return NULL;
    }
    if ((!eol && !feof(st->f)) || len > (size_t)cap - 3) {
        load_fail(st, "line too long (max %d characters)", cap - 3);
        return NULL;
    }
    /* one line end, whatever it was ("\r\r\r\n" too): what is copied into inih's buffer below
     * is then at most len + 2 bytes (a run of '\r's overflowed it) */
    n = len;
    if (eol) line[n++] = '\n';
    line[n] = 0;
    check_section_line(st);
    if (st->err_line)
        return NULL;
    if (len <= (size_t)num - 3)
        memcpy(str, line, n + 1);
    else if (!pass_long_value(st, str, num)) {
        load_fail(st, "line too long (max %d characters, or %d for a key's value)", num - 3,
                  cap - 3);
        return NULL;
    }
    st->buf = str; /* what inih parses, whose pointers the handler gets */
    return str;
}

static int load_handler(void *user, const char *section, const char *name, const char *value)
{
    load_state *st = user;
    if (st->err_line)
        return 0;
    /* A continuation line is the only case where inih's value starts at the line's first
     * non-blank character; in "key = value" the key comes first. */
    const char *first = skip_space(line_start(st));
    if (first > line_start(st) && value == first)
        return load_fail(st, "indented line continues key '%s', and continuation lines are "
                             "not supported (remove the indentation)", name);
    if (st->long_value && !strcmp(value, LONG_VALUE_MARK))
        value = st->long_value;
    char why[DETAIL_MAX];
    const config_key *k = key_find(section, name, why, sizeof why);
    if (!k)
        return load_fail(st, "%s", why);
    int idx = (int)(k - keys);
    if (st->first_line[idx])
        return load_fail(st, "duplicate key '%s' in [%s] (first set on line %d)", name, section,
                         st->first_line[idx]);
    st->first_line[idx] = st->line;
    if (!config_key_parse(k, value, &st->cfg, why, sizeof why)) {
        if (!*value)
            return load_fail(st, "%s.%s: %s", k->section, k->key, why);
        /* inih ends a value at " ;" (an inline comment), not at " #" */
        const char *hash = strchr(value, '#');
        bool comment = hash && hash > value && isspace((unsigned char)hash[-1]);
        return load_fail(st, "%s.%s = %s: %s%s", k->section, k->key, value, why,
                         comment ? " (a comment after the value? it must start with ';', or "
                                   "go on a line of its own)"
                                 : "");
    }
    return 1;
}

/* inih only returns the number of a line it could not parse; fetch its text for the message.
 * Best effort: an unseekable file just gets the line number. */
static void syntax_error(load_state *st, int line, occam_error *err)
{
    char *text = st->text; /* as long as any line load_read took */
    text[0] = '\0';
    if (fseek(st->f, 0, SEEK_SET) == 0) {
        clearerr(st->f);
        for (int i = 1; i <= line; i++)
            if (!fgets(text, sizeof st->text, st->f)) {
                text[0] = '\0';
                break;
            }
        text[strcspn(text, "\r\n")] = '\0';
    }
    const char *t = text;
    if (line == 1 && !strncmp(t, "\xEF\xBB\xBF", 3))
        t += 3;
    t = skip_space(t);
    const char *what = *t == '[' ? "section header without a closing ']'"
                                 : "expected 'key = value' or '[section]'";
    char shown[4 * CONFIG_ECHO_MAX + 4];
    if (*t)
        occam_error_set(err, OCCAM_ERR_INPUT, "%s:%d: syntax error: %s: %s", st->path, line,
                        what, occam_error_quote(shown, sizeof shown, t, strlen(t), CONFIG_ECHO_MAX));
    else
        occam_error_set(err, OCCAM_ERR_INPUT, "%s:%d: syntax error: %s", st->path, line, what);
}

/* Parses the open file f (path, for messages) over the config `from` into st (zeroed):
 * occam_config_load's status; on OCCAM_OK, st->cfg and st->first_line hold the result. */
static int load_stream(load_state *st, FILE *f, const char *path, const occam_config *from,
                       occam_error *err)
{
    st->cfg = *from;
    st->path = path;
    st->f = f;
    int ret = ini_parse_stream(load_read, st, load_handler, st);
    if (ret < 0) /* only with a heap line buffer */
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: out of memory", path);
    if (ret > 0 && (st->err_line == 0 || ret < st->err_line)) {
        syntax_error(st, ret, err); /* inih's own error came first */
        return OCCAM_ERR_INPUT;
    }
    if (st->err_line) return occam_error_set(err, st->e.status, "%s", st->e.msg);
    return OCCAM_OK;
}

int occam_config_load(occam_config *cfg, const char *path, occam_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f) return occam_error_open(err, path, errno);
    struct stat sb;
    if (fstat(fileno(f), &sb) == 0 && S_ISDIR(sb.st_mode)) {
        fclose(f);
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: cannot open: %s", path,
                               strerror(EISDIR));
    }
    load_state *st = calloc(1, sizeof *st); /* ~5 KB: keep it off small thread stacks */
    if (!st) {
        fclose(f);
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: out of memory", path);
    }
    int rc = load_stream(st, f, path, cfg, err);
    if (rc == OCCAM_OK) *cfg = st->cfg;
    fclose(f);
    free(st);
    return rc;
}

bool occam_config_message_names(const char *msg, const char *name)
{
    size_t n = strlen(name);
    return !strncmp(msg, name, n) && (!msg[n] || strchr(" :=", msg[n]));
}

/* The key msg is about (occam_config_message_names), NULL if none. */
static const config_key *key_opening(const char *msg)
{
    for (int i = 0; i < NKEYS; i++) {
        size_t ns = strlen(keys[i].section);
        if (!strncmp(msg, keys[i].section, ns) && msg[ns] == '.' &&
            occam_config_message_names(msg + ns + 1, keys[i].key))
            return &keys[i];
    }
    return NULL;
}

/* The line of path that set key k (read again, as occam_config_load reads it), 0 when none
 * did, the file no longer loads, or it is no regular file: a FIFO's open waits for a writer
 * that has gone (the run hung), and a pipe has nothing left to read. */
static int key_line(const char *path, const config_key *k)
{
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) return 0;
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    load_state *st = calloc(1, sizeof *st);
    occam_config defaults;
    occam_config_defaults(&defaults);
    occam_error ignored;
    int line = st && load_stream(st, f, path, &defaults, &ignored) == OCCAM_OK
                   ? st->first_line[k - keys]
                   : 0;
    free(st);
    fclose(f);
    return line;
}

void occam_config_locate(occam_error *err, const char *path, const char *const *sets,
                         int nsets)
{
    const config_key *k = key_opening(err->msg);
    if (!k) return;
    bool by_set = false;
    for (int i = 0; i < nsets; i++) by_set |= occam_config_set_names(sets[i], k->section, k->key);
    int line = !by_set && path ? key_line(path, k) : 0;
    if (!by_set && line <= 0) return;
    char msg[OCCAM_ERROR_MAX];
    memcpy(msg, err->msg, sizeof msg);
    /* formatted whole: occam_error_set shortens a long path, never the ":LINE: " after it */
    if (by_set) occam_error_set(err, err->status, "--set %s", msg);
    else occam_error_set(err, err->status, "%s:%d: %s", path, line, msg);
}

/* ---- --set -------------------------------------------------------------------------------- */

/* Splits "section.key=value" (a copy, cut in place) into its trimmed parts; false when it has
 * no '=', no '.' before it, or an empty section or key. */
static bool split_assignment(char *copy, char **section, char **key, char **value)
{
    char *eq = strchr(copy, '=');
    char *dot = eq ? memchr(copy, '.', (size_t)(eq - copy)) : NULL;
    if (!eq || !dot) return false;
    *eq = '\0';
    *dot = '\0';
    *section = config_trim(copy);
    *key = config_trim(dot + 1);
    *value = config_trim(eq + 1);
    return **section && **key;
}

bool occam_config_set_names(const char *assignment, const char *section, const char *key)
{
    char *copy = strdup(assignment), *s, *k, *v;
    bool named = copy && split_assignment(copy, &s, &k, &v) && !strcmp(s, section) &&
                 !strcmp(k, key);
    free(copy);
    return named;
}

int occam_config_set(occam_config *cfg, const char *assignment, occam_error *err)
{
    char *copy = strdup(assignment);
    if (!copy)
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "--set: out of memory");
    int rc = OCCAM_OK;
    char *section, *key, *value;
    if (!split_assignment(copy, &section, &key, &value)) {
        rc = set_fail(err, "%s: expected section.key=value", assignment);
        goto out;
    }
    char why[DETAIL_MAX];
    const config_key *k = key_find(section, key, why, sizeof why);
    if (!k) {
        char section_text[NAME_SHOWN], key_text[NAME_SHOWN];
        rc = set_fail(err, "%s.%s: %s", name_shown(section_text, section),
                      name_shown(key_text, key), why);
        goto out;
    }
    occam_config next = *cfg;
    if (!config_key_parse(k, value, &next, why, sizeof why)) {
        /* The value is echoed quoted, so even a newline in it keeps the message one line. */
        if (*value)
            rc = set_fail(err, "%s.%s: %s (got '%s')", section, key, why, value);
        else
            rc = set_fail(err, "%s.%s: %s", section, key, why);
        goto out;
    }
    *cfg = next;
out:
    free(copy);
    return rc;
}

bool occam_config_key_is_list(const char *name)
{
    for (int i = 0; i < NKEYS; i++) {
        size_t n = strlen(keys[i].section);
        if (!strncmp(name, keys[i].section, n) && name[n] == '.' &&
            !strcmp(name + n + 1, keys[i].key))
            return keys[i].type == KEY_LIST || keys[i].type == KEY_DLIST;
    }
    return false;
}

/* ---- cross-key validation ----------------------------------------------------------------- */

int occam_config_validate(const occam_config *cfg, occam_error *err)
{
    /* Fields may have been set by code rather than parsed: re-check each one through the
     * table, so no out-of-range value gets past this point. */
    occam_config scratch = *cfg;
    for (int i = 0; i < NKEYS; i++) {
        char value[VALUE_MAX], why[DETAIL_MAX];
        if (keys[i].type == KEY_LIST || keys[i].type == KEY_DLIST) {
            int n = *(const int *)((const char *)cfg + keys[i].off2);
            if (n < 0 || n > keys[i].max_count)
                return occam_error_set(err, OCCAM_ERR_INPUT,
                                       "%s.%s: entry count %d is outside [0, %d]",
                                       keys[i].section, keys[i].key, n, keys[i].max_count);
        }
        config_key_format(&keys[i], cfg, value, sizeof value);
        if (!config_key_parse(&keys[i], value, &scratch, why, sizeof why))
            return occam_error_set(err, OCCAM_ERR_INPUT, "%s.%s%s%s: %s", keys[i].section,
                                   keys[i].key, *value ? " = " : "", value, why);
    }
    /* The modules' own checks, in an order that fixes which error a config failing several
     * reports (hence the prune checks in two parts, around the code's). */
    const occam_model_params *m = &cfg->model;
    int rc = occam_data_check(&cfg->data, occam_config_inputs(cfg), occam_config_outputs(cfg), err);
    if (rc == OCCAM_OK)
        rc = occam_optim_check(&cfg->train.optim, err);
    if (rc == OCCAM_OK)
        rc = occam_prune_check(&cfg->prune, m->layers, m->nlayers, cfg->train.epochs,
                               cfg->noise.enabled, err);
    if (rc == OCCAM_OK)
        rc = occam_dl_check(&cfg->mdl, cfg->noise.enabled, err);
    if (rc == OCCAM_OK && cfg->noise.enabled && cfg->noise.prior == OCCAM_PRIOR_SPARSE &&
        cfg->noise.prior_scope == OCCAM_PRIOR_SCOPE_NETWORK)
        rc = occam_error_set(err, OCCAM_ERR_INPUT,
                             "noise.prior_scope = network: the sparse prior has no parameters "
                             "to share (use gaussian or mog)");
    if (rc == OCCAM_OK && cfg->noise.enabled && cfg->noise.prior == OCCAM_PRIOR_SPARSE &&
        cfg->noise.data_term == OCCAM_NOISE_DATA_EXPANSION)
        rc = occam_error_set(err, OCCAM_ERR_INPUT,
                             "noise.data_term = expansion: the sparse prior trains σ by the "
                             "sampled gradient (use sample or auto)");
    /* 1e-300 was taken and trained as 1e-6 without a word */
    if (rc == OCCAM_OK && cfg->noise.prior_sigma > 0 &&
        cfg->noise.prior_sigma < OCCAM_NOISE_PRIOR_SIGMA_MIN)
        rc = occam_error_set(err, OCCAM_ERR_INPUT,
                             "noise.prior_sigma: %g is narrower than the %g a Gaussian prior "
                             "is kept at; use 0 (learned) or a width of at least %g",
                             cfg->noise.prior_sigma, OCCAM_NOISE_PRIOR_SIGMA_MIN,
                             OCCAM_NOISE_PRIOR_SIGMA_MIN);
    if (rc == OCCAM_OK)
        rc = occam_prune_check_late(&cfg->prune, err);
    return rc;
}

/* ---- writers ------------------------------------------------------------------------------ */

void occam_config_write_ini(const occam_config *cfg, FILE *out)
{
    for (int i = 0; i < NKEYS; i++) {
        if (i == 0 || strcmp(keys[i].section, keys[i - 1].section))
            fprintf(out, "%s[%s]\n", i ? "\n" : "", keys[i].section);
        char value[VALUE_MAX];
        config_key_format(&keys[i], cfg, value, sizeof value);
        fprintf(out, "%s =%s%s\n", keys[i].key, *value ? " " : "", value);
    }
}

int occam_config_write_ini_changed(const occam_config *cfg, FILE *out)
{
    occam_config def;
    occam_config_defaults(&def);
    int changed = 0;
    const char *section = NULL;
    for (int i = 0; i < NKEYS; i++) {
        char value[VALUE_MAX], dvalue[VALUE_MAX];
        config_key_format(&keys[i], cfg, value, sizeof value);
        config_key_format(&keys[i], &def, dvalue, sizeof dvalue);
        if (!strcmp(value, dvalue)) continue;
        if (!section || strcmp(section, keys[i].section)) {
            section = keys[i].section;
            fprintf(out, "[%s]\n", section);
        }
        fprintf(out, "%s =%s%s\n", keys[i].key, *value ? " " : "", value);
        changed++;
    }
    return changed;
}

/* The keys that say what a run is, in the order a reader wants them, with short labels. */
static const struct {
    const char *label, *section, *key;
} summary_keys[] = {
    {"data", "data", "source"},       {"task", "data", "task"},
    {"layers", "model", "layers"},    {"act", "model", "activation"},
    {"opt", "train", "optimizer"},    {"lr", "train", "lr"},
    {"batch", "train", "batch"},      {"epochs", "train", "epochs"},
    {"noise", "noise", "enabled"},    {"prune", "prune", "schedule"},
    {"code", "mdl", "model_code"},
};

void occam_config_summary(const occam_config *cfg, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = 0;
    for (size_t i = 0; i < sizeof summary_keys / sizeof *summary_keys && len < cap; i++)
        for (int k = 0; k < NKEYS; k++) {
            if (strcmp(keys[k].section, summary_keys[i].section) ||
                strcmp(keys[k].key, summary_keys[i].key))
                continue;
            char value[VALUE_MAX];
            config_key_format(&keys[k], cfg, value, sizeof value);
            int n = snprintf(buf + len, cap - len, "%s%s=%s", len ? " " : "",
                             summary_keys[i].label, value);
            len += n > 0 ? (size_t)n : 0;
            break;
        }
}

/* {"data": {"source": "idx", ...}, ...}. Each value is written by its type's json function
 * (see json_plain and the others). */
static void json_write(const occam_config *cfg, sink *s)
{
    config_sink_printf(s, "{");
    for (int i = 0; i < NKEYS; i++) {
        const config_key *k = &keys[i];
        if (i == 0 || strcmp(k->section, keys[i - 1].section))
            config_sink_printf(s, "%s\"%s\": {", i > 0 ? "}, " : "", k->section);
        else
            config_sink_printf(s, ", ");
        config_sink_printf(s, "\"%s\": ", k->key);
        char value[VALUE_MAX];
        config_key_format(k, cfg, value, sizeof value);
        config_key_ops(k)->json(s, k, cfg, value);
    }
    config_sink_printf(s, "}}");
}

int occam_config_to_json(const occam_config *cfg, char *buf, size_t cap)
{
    sink s = {.buf = buf, .cap = cap};
    json_write(cfg, &s);
    if (s.len >= cap || s.len > INT_MAX) {
        if (cap > 0)
            buf[0] = '\0';
        return -1;
    }
    return (int)s.len;
}

void occam_config_write_help(FILE *out)
{
    int wkey = 3, wtype = 4, wdef = 7, wallow = 7;
    char allowed[NKEYS][128];
    for (int i = 0; i < NKEYS; i++) {
        const config_key *k = &keys[i];
        int kl = (int)(strlen(k->section) + 1 + strlen(k->key));
        int dl = *k->def ? (int)strlen(k->def) : 2;
        config_key_ops(k)->allowed(k, allowed[i], sizeof allowed[i]);
        int al = (int)strlen(allowed[i]), tl = (int)strlen(config_key_ops(k)->name);
        wkey = kl > wkey ? kl : wkey;
        wtype = tl > wtype ? tl : wtype;
        wdef = dl > wdef ? dl : wdef;
        wallow = al > wallow ? al : wallow;
    }
    fprintf(out, "Configuration keys: set them in the INI file's [section], or with\n"
                 "--set section.key=value.\n\n");
    fprintf(out, "%-*s  %-*s  %-*s  %-*s  %s\n", wkey, "key", wtype, "type", wdef, "default",
            wallow, "allowed", "meaning");
    for (int i = 0; i < NKEYS; i++) {
        const config_key *k = &keys[i];
        if (i > 0 && strcmp(k->section, keys[i - 1].section))
            fprintf(out, "\n");
        char name[128];
        snprintf(name, sizeof name, "%s.%s", k->section, k->key);
        fprintf(out, "%-*s  %-*s  %-*s  %-*s  %s\n", wkey, name, wtype, config_key_ops(k)->name,
                wdef, *k->def ? k->def : "\"\"", wallow, allowed[i], k->help);
    }
}

/* ---- for the inert-key rules (config_inert.c) ------------------------------------------ */

/* Numbers that are equal train the same: a double written -0 is kept with its sign (it prints
 * back as written), but 0 and -0 are the same value to every comparison, sum and product, and
 * no code path divides by a key that may be 0 or reads a zero's sign (optim.c even rounds the
 * coefficients it keeps to +0), so -0 becomes 0 here. */
void config_zeros_unsigned(occam_config *cfg)
{
    for (int i = 0; i < NKEYS; i++) {
        const config_key *k = &keys[i];
        if (k->type != KEY_DOUBLE && k->type != KEY_DLIST) continue;
        double *v = (double *)((char *)cfg + k->off);
        int n = k->type == KEY_DOUBLE ? 1 : *(const int *)((const char *)cfg + k->off2);
        for (int j = 0; j < n; j++)
            if (v[j] == 0) v[j] = 0.0;
    }
}

/* ---- composition ------------------------------------------------------------------------- */

occam_trainer_params occam_config_trainer(const occam_config *cfg)
{
    return (occam_trainer_params){.comm = occam_comm_world(), .batch = cfg->train.batch, .optim = cfg->train.optim,
                                  .noise = cfg->noise, .grad = cfg->runtime.grad,
                                  .weights = cfg->runtime.weights,
                                  .regress = cfg->data.task == OCCAM_TASK_REGRESS};
}

int occam_config_inputs(const occam_config *cfg)
{
    OCCAM_ASSERT(cfg->model.nlayers >= 2 && cfg->model.nlayers <= OCCAM_MAX_LAYERS);
    return cfg->model.layers[0];
}

int occam_config_outputs(const occam_config *cfg)
{
    OCCAM_ASSERT(cfg->model.nlayers >= 2 && cfg->model.nlayers <= OCCAM_MAX_LAYERS);
    return cfg->model.layers[cfg->model.nlayers - 1];
}
