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
 * caller's config untouched. Every value the setters accept can be written back as INI and read
 * again bit for bit: doubles (alone or in lists) are printed as the shortest decimal that reads
 * back the same (at most 17 digits) and paths that an INI line could not hold (control
 * characters, a ';' that would start a comment) are refused up front. The one exception is
 * length: a path, or a prune.layer_targets list of many long decimals, longer than an INI line
 * allows (197 characters with the key) can be set with --set but not written to an INI file that
 * loads again.
 *
 * Each key type is one row of `key_types[]`: its parser, its formatter, its JSON form, its help
 * text and its rows' invariants, which every reader and writer dispatches through; adding a
 * type is adding a row. Beyond scalars there are four compound types: int lists (model.layers),
 * double lists (prune.layer_targets, which may be empty), N:M pairs (prune.nm, two int fields)
 * and an enum whose one tagged value takes an integer argument (prune.rewind = none | init |
 * epoch:N, an enum field and an int field).
 *
 * Checks that span keys belong to the modules the keys configure (occam_data_check and the
 * like); occam_config_validate runs them after re-checking every field through the table. */
#include "occam/config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <ini.h>

#include "occam/json.h"
#include "occam/noisy.h"

/* ---- the table -------------------------------------------------------------------------- */

typedef enum {
    KEY_INT,    /* int, bounds [lo, hi] */
    KEY_INT64,  /* int64_t, bounds [lo, hi] */
    KEY_UINT64, /* uint64_t, full range (seeds) */
    KEY_DOUBLE, /* double, bounds with optional open ends */
    KEY_BOOL,   /* bool: true/false/yes/no/1/0 */
    KEY_ENUM,   /* int-sized enum, value = index into names */
    KEY_PATH,   /* char[OCCAM_PATH_MAX] */
    KEY_LIST,   /* int[n] + int count: comma-separated, each entry in [lo, hi] */
    KEY_LABEL,  /* int: first | last | column in [lo, hi] */
    KEY_DLIST,  /* double[n] + int count: comma-separated, each entry in bounds like KEY_DOUBLE;
                   may be empty when min_count is 0 */
    KEY_NM,     /* int N + int M: "N:M" with lo <= N < M <= hi */
    KEY_TAGGED, /* int-sized enum + int argument: a name, or names[tag] ":" N with N in [lo, hi] */
} key_type;

enum { OPEN_LO = 1, OPEN_HI = 2 }; /* exclusive bounds for doubles */

typedef struct config_key {
    const char *section;
    const char *key;
    key_type type;
    size_t off;               /* offset of the field in occam_config */
    size_t off2;              /* second field: the entry count (KEY_LIST, KEY_DLIST), M
                                 (KEY_NM) or the argument (KEY_TAGGED) */
    int min_count, max_count; /* KEY_LIST, KEY_DLIST: allowed number of entries */
    int len;                  /* KEY_LIST, KEY_DLIST: array length (>= max_count) */
    double lo, hi;            /* numbers, list entries, label columns, N:M, tagged argument */
    unsigned open;            /* KEY_DOUBLE, KEY_DLIST: OPEN_LO | OPEN_HI */
    const char *const *names; /* KEY_ENUM, KEY_TAGGED: NULL-terminated, index = enum value */
    int tag;                  /* KEY_TAGGED: the enum value written as "name:N" */
    const char *def;          /* default, as text: parsed by the same setter as any value */
    const char *help;
} config_key;

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
#define LABEL_KEY(s_, k_, f_, hi_, d_, h_) \
    { ROW(s_, k_, KEY_LABEL, FIELD(f_, int), d_, h_), .lo = 1, .hi = hi_ }
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
    LABEL_KEY("data", "label", data.label, 1000000, "last",
              "csv: label column: first, last or a 1-based column number"),
    ENUM_KEY("data", "header", data.header, occam_csv_header, header_names, "auto",
             "csv: is the first row a header (auto: if any cell is not a number)"),
    ENUM_KEY("data", "task", data.task, occam_task, task_names, "classify",
             "classify (integer labels) or regress (real targets: csv or peptide)"),
    ENUM_KEY("data", "normalize", data.normalize, occam_norm, norm_names, "scale",
             "input scaling from training statistics: none, scale by max |x|, or per-feature "
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
            "write the full training state every N epochs (0 = only on SIGINT/SIGTERM)"),
    INT_KEY("train", "checkpoint_keep", train.checkpoint_keep, 1, 1000000, "3",
            "checkpoints kept in train.checkpoint_dir (the oldest are removed)"),
    PATH_KEY("train", "checkpoint_dir", train.checkpoint_dir, "checkpoints",
             "folder of the training-state checkpoints (ckpt-eEPOCH-sSTEP.safetensors)"),

    INT_KEY("runtime", "threads", runtime.threads, 0, 4096, "0", "worker threads, 0 = all cores"),
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
            "agp: epoch the ramp reaches prune.target at (>= prune.start)"),
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
    UINT64_KEY("prune", "seed", prune.seed, "1", "random method seed"),
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
    ENUM_KEY("mdl", "prior", mdl.prior, occam_prior_kind, prior_names, "mog",
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
               "sparse prior: weights with log α = ln(σ²/μ²) above this are masked (after the "
               "warm-up, every epoch)"),
    UINT64_KEY("noise", "seed", noise.seed, "1", "noise sample seed"),
};

enum { NKEYS = sizeof keys / sizeof keys[0] };

/* Room for any formatted value: a full path, a list, a number. */
enum { VALUE_MAX = OCCAM_PATH_MAX + 64, DETAIL_MAX = 256 };

/* ---- small helpers ---------------------------------------------------------------------- */

static void *field_ptr(occam_config *cfg, size_t off) { return (char *)cfg + off; }
static const void *field_cptr(const occam_config *cfg, size_t off)
{
    return (const char *)cfg + off;
}

/* Shortest "%.*g" (15 to 17 significant digits) that strtod reads back as exactly v. The tries go
 * to a local buffer: trying in buf makes GCC's UBSan build warn of a null buf. */
static void fmt_double(char *buf, size_t cap, double v)
{
    char t[40]; /* "%.17g" of any double fits */
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(t, sizeof t, "%.*g", prec, v);
        if (strtod(t, NULL) == v)
            break;
    }
    snprintf(buf, cap, "%s", t);
}

/* "[1, 1000000]" or "(0, 100]". */
static void fmt_bounds(char *buf, size_t cap, const config_key *k)
{
    char lo[40], hi[40];
    fmt_double(lo, sizeof lo, k->lo);
    fmt_double(hi, sizeof hi, k->hi);
    snprintf(buf, cap, "%c%s, %s%c", (k->open & OPEN_LO) ? '(' : '[', lo, hi,
             (k->open & OPEN_HI) ? ')' : ']');
}

static bool in_bounds(const config_key *k, double v)
{
    if (!(v >= k->lo && v <= k->hi)) /* NaN fails too */
        return false;
    return !((k->open & OPEN_LO) && v == k->lo) && !((k->open & OPEN_HI) && v == k->hi);
}

static const char *skip_space(const char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    return s;
}

/* Trims s in place and returns the first non-blank character. */
static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* ---- lexical helpers --------------------------------------------------------------------- */

/* Decimal integer, optional sign, nothing else. Returns false if malformed; saturates (and
 * lets the bounds check complain) on overflow. */
bool occam_config_integer(const char *s, int64_t *out)
{
    const char *p = (*s == '+' || *s == '-') ? s + 1 : s;
    if (!*p)
        return false;
    for (const char *q = p; *q; q++)
        if (!isdigit((unsigned char)*q))
            return false;
    *out = strtoll(s, NULL, 10);
    return true;
}

/* Decimal floating point only: the character check rules out hex, inf, nan and blanks that
 * strtod would accept; the end pointer rules out trailing garbage such as "1.5.2". */
bool occam_config_number(const char *s, double *out)
{
    if (!*s || strspn(s, "0123456789+-.eE") != strlen(s))
        return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end)
        return false;
    /* Overflow gives ±HUGE_VAL, which the bounds reject; underflow gives the nearest
     * subnormal or zero, which is the value the user wrote as well as a double can hold it. */
    *out = v;
    return true;
}

/* Whether s is valid UTF-8: the JSON writer would replace bad bytes, so the config it wrote
 * would not be the one given. */
static bool utf8_valid(const unsigned char *s)
{
    while (*s) {
        int n;
        unsigned c = *s;
        if (c < 0x80)
            n = 0;
        else if (c >= 0xC2 && c <= 0xDF)
            n = 1;
        else if (c >= 0xE0 && c <= 0xEF)
            n = 2;
        else if (c >= 0xF0 && c <= 0xF4)
            n = 3;
        else
            return false;
        uint32_t cp = n == 0 ? c : c & (0x3Fu >> n);
        for (int i = 1; i <= n; i++) {
            if ((s[i] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (s[i] & 0x3F);
        }
        if ((n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
            (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
            return false;
        s += n + 1;
    }
    return true;
}

/* ---- the key types: text -> field (parse), field -> text (format) ------------------------ */

/* Each parser reads value (already trimmed) into k's field of cfg. On failure it leaves cfg
 * unchanged, writes what is wrong into detail ("must be in (0, 100]") and returns false. Each
 * formatter writes text that its parser reads back identically. */

/* A decimal integer within the row's bounds. */
static bool bounded_int(const config_key *k, const char *s, int64_t *v, char *detail, size_t cap)
{
    if (!occam_config_integer(s, v)) {
        snprintf(detail, cap, "not an integer");
        return false;
    }
    if (!in_bounds(k, (double)*v)) {
        char b[96];
        fmt_bounds(b, sizeof b, k);
        snprintf(detail, cap, "must be in %s", b);
        return false;
    }
    return true;
}

static bool int_parse(const config_key *k, const char *s, occam_config *cfg, char *detail,
                      size_t cap)
{
    int64_t v;
    if (!bounded_int(k, s, &v, detail, cap))
        return false;
    *(int *)field_ptr(cfg, k->off) = (int)v;
    return true;
}

static void int_format(const config_key *k, const occam_config *cfg, char *buf, size_t cap)
{
    snprintf(buf, cap, "%d", *(const int *)field_cptr(cfg, k->off));
}

static bool int64_parse(const config_key *k, const char *s, occam_config *cfg, char *detail,
                        size_t cap)
{
    int64_t v;
    if (!bounded_int(k, s, &v, detail, cap))
        return false;
    *(int64_t *)field_ptr(cfg, k->off) = v;
    return true;
}

static void int64_format(const config_key *k, const occam_config *cfg, char *buf, size_t cap)
{
    snprintf(buf, cap, "%" PRId64, *(const int64_t *)field_cptr(cfg, k->off));
}

static bool uint64_parse(const config_key *k, const char *s, occam_config *cfg, char *detail,
                         size_t cap)
{
    if (strspn(s, "0123456789") != strlen(s)) {
        snprintf(detail, cap, "not an unsigned integer");
        return false;
    }
    errno = 0;
    unsigned long long v = strtoull(s, NULL, 10);
    if (errno == ERANGE) {
        snprintf(detail, cap, "must be at most %" PRIu64, UINT64_MAX);
        return false;
    }
    *(uint64_t *)field_ptr(cfg, k->off) = (uint64_t)v;
    return true;
}

static void uint64_format(const config_key *k, const occam_config *cfg, char *buf, size_t cap)
{
    snprintf(buf, cap, "%" PRIu64, *(const uint64_t *)field_cptr(cfg, k->off));
}

static bool double_parse(const config_key *k, const char *s, occam_config *cfg, char *detail,
                         size_t cap)
{
    double v;
    if (!occam_config_number(s, &v)) {
        snprintf(detail, cap, "not a decimal number");
        return false;
    }
    if (!in_bounds(k, v)) {
        char b[96];
        fmt_bounds(b, sizeof b, k);
        snprintf(detail, cap, "must be in %s", b);
        return false;
    }
    *(double *)field_ptr(cfg, k->off) = v;
    return true;
}

static void double_format(const config_key *k, const occam_config *cfg, char *buf, size_t cap)
{
    fmt_double(buf, cap, *(const double *)field_cptr(cfg, k->off));
}

static bool bool_parse(const config_key *k, const char *s, occam_config *cfg, char *detail,
                       size_t cap)
{
    bool v;
    if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "1"))
        v = true;
    else if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "0"))
        v = false;
    else {
        snprintf(detail, cap, "expected true, false, yes, no, 1 or 0");
        return false;
    }
    *(bool *)field_ptr(cfg, k->off) = v;
    return true;
}

static void bool_format(const config_key *k, const occam_config *cfg, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", *(const bool *)field_cptr(cfg, k->off) ? "true" : "false");
}

static int name_count(const config_key *k)
{
    int n = 0;
    while (k->names[n])
        n++;
    return n;
}

static bool enum_parse(const config_key *k, const char *s, occam_config *cfg, char *detail,
                       size_t cap)
{
    for (int i = 0; k->names[i]; i++) {
        if (!strcmp(s, k->names[i])) {
            *(int *)field_ptr(cfg, k->off) = i;
            return true;
        }
    }
    int n = snprintf(detail, cap, "expected one of ");
    for (int i = 0; k->names[i] && n >= 0 && (size_t)n < cap; i++)
        n += snprintf(detail + n, cap - (size_t)n, "%s%s", i ? ", " : "", k->names[i]);
    return false;
}

static void enum_format(const config_key *k, const occam_config *cfg, char *buf, size_t cap)
{
    int v = *(const int *)field_cptr(cfg, k->off);
    /* An out-of-range value (set by code, not by us) prints as a number, which
     * occam_config_validate then rejects through key_parse. */
    if (v >= 0 && v < name_count(k))
        snprintf(buf, cap, "%s", k->names[v]);
    else
        snprintf(buf, cap, "%d", v);
}

static bool path_parse(const config_key *k, const char *s, occam_config *cfg, char *detail,
                       size_t cap)
{
    size_t n = strlen(s);
    if (n >= OCCAM_PATH_MAX) {
        snprintf(detail, cap, "too long: %zu characters (max %d)", n, OCCAM_PATH_MAX - 1);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        /* C0, DEL, and the C1 controls U+0080..U+009F (UTF-8 0xC2 0x80..0x9F): some terminals
         * obey U+009B as CSI, and a path is echoed as it is (--print-config, select's labels). */
        if (c < 0x20 || c == 0x7F ||
            (c == 0xC2 && (unsigned char)s[i + 1] >= 0x80 && (unsigned char)s[i + 1] <= 0x9F)) {
            snprintf(detail, cap, "contains a control character");
            return false;
        }
        /* INI reads ';' at the start of a value or after a blank as a comment: such a path
         * could be set with --set but not written to an INI file and read back. */
        if (c == ';' && (i == 0 || isspace((unsigned char)s[i - 1]))) {
            snprintf(detail, cap, "contains a ';' at its start or after a blank, which INI "
                                  "files read as a comment");
            return false;
        }
    }
    if (n > 0 && (isspace((unsigned char)s[0]) || isspace((unsigned char)s[n - 1]))) {
        snprintf(detail, cap, "starts or ends with a blank");
        return false;
    }
    if (!utf8_valid((const unsigned char *)s)) {
        snprintf(detail, cap, "is not valid UTF-8");
        return false;
    }
    /* Clear the whole buffer so configs holding equal values compare equal with memcmp. */
    char *dst = field_ptr(cfg, k->off);
    memset(dst, 0, OCCAM_PATH_MAX);
    memcpy(dst, s, n);
    return true;
}

static void path_format(const config_key *k, const occam_config *cfg, char *buf, size_t cap)
{
    const char *p = field_cptr(cfg, k->off);
    snprintf(buf, cap, "%.*s", (int)strnlen(p, OCCAM_PATH_MAX), p);
}

static bool label_parse(const config_key *k, const char *s, occam_config *cfg, char *detail,
                        size_t cap)
{
    int64_t v;
    if (!strcmp(s, "first"))
        v = OCCAM_LABEL_FIRST;
    else if (!strcmp(s, "last"))
        v = OCCAM_LABEL_LAST;
    else if (!occam_config_integer(s, &v) || !in_bounds(k, (double)v)) {
        snprintf(detail, cap, "expected first, last or a column number from %.0f to %.0f", k->lo,
                 k->hi);
        return false;
    }
    *(int *)field_ptr(cfg, k->off) = (int)v;
    return true;
}

static void label_format(const config_key *k, const occam_config *cfg, char *buf, size_t cap)
{
    int v = *(const int *)field_cptr(cfg, k->off);
    if (v == OCCAM_LABEL_FIRST)
        snprintf(buf, cap, "first");
    else if (v == OCCAM_LABEL_LAST)
        snprintf(buf, cap, "last");
    else
        snprintf(buf, cap, "%d", v);
}

/* Comma-separated entries: integers (KEY_LIST) or decimals (KEY_DLIST), each within the row's
 * bounds. An empty value is no entries; key_parse lets it through only when min_count is 0. */
static bool list_parse(const config_key *k, const char *s, occam_config *cfg, char *detail,
                       size_t cap)
{
    double vals[64]; /* int entries are within INT range (table_check), so exact as doubles */
    OCCAM_ASSERT(k->max_count <= (int)(sizeof vals / sizeof vals[0]));
    char buf[VALUE_MAX];
    if (strlen(s) >= sizeof buf) {
        snprintf(detail, cap, "too long");
        return false;
    }
    strcpy(buf, s);
    int n = 0;
    for (char *item = buf; *buf;) {
        char *comma = strchr(item, ',');
        if (comma)
            *comma = '\0';
        if (n == k->max_count) {
            snprintf(detail, cap, "more than %d entries", k->max_count);
            return false;
        }
        char *t = trim(item);
        if (!*t) {
            snprintf(detail, cap, "entry %d is empty", n + 1);
            return false;
        }
        double v;
        if (k->type == KEY_LIST) {
            int64_t iv;
            if (!occam_config_integer(t, &iv)) {
                snprintf(detail, cap, "entry %d (%.40s) is not an integer", n + 1, t);
                return false;
            }
            v = (double)iv; /* saturated or huge values fail the bounds below */
        } else if (!occam_config_number(t, &v)) {
            snprintf(detail, cap, "entry %d (%.40s) is not a decimal number", n + 1, t);
            return false;
        }
        if (!in_bounds(k, v)) {
            char b[96];
            fmt_bounds(b, sizeof b, k);
            snprintf(detail, cap, "entry %d (%.40s) must be in %s", n + 1, t, b);
            return false;
        }
        vals[n++] = v;
        if (!comma)
            break;
        item = comma + 1;
    }
    if (n < k->min_count) {
        snprintf(detail, cap, "needs %d to %d comma-separated entries, got %d", k->min_count,
                 k->max_count, n);
        return false;
    }
    /* Clear the whole array, so configs holding equal lists compare equal with memcmp. */
    if (k->type == KEY_LIST) {
        int *dst = field_ptr(cfg, k->off);
        memset(dst, 0, (size_t)k->len * sizeof *dst);
        for (int i = 0; i < n; i++)
            dst[i] = (int)vals[i];
    } else {
        double *dst = field_ptr(cfg, k->off);
        memset(dst, 0, (size_t)k->len * sizeof *dst);
        memcpy(dst, vals, (size_t)n * sizeof *dst);
    }
    *(int *)field_ptr(cfg, k->off2) = n;
    return true;
}

/* A list row's entry count, or 0 if it is outside [0, max_count] (only code can set that). */
static int list_count(const config_key *k, const occam_config *cfg)
{
    int n = *(const int *)field_cptr(cfg, k->off2);
    return n >= 0 && n <= k->max_count ? n : 0;
}

static void list_format(const config_key *k, const occam_config *cfg, char *buf, size_t cap)
{
    /* A corrupt count (set by code) prints as "", and occam_config_validate reports the count
     * before it gets here. */
    const void *p = field_cptr(cfg, k->off);
    int n = list_count(k, cfg), len = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && len >= 0 && (size_t)len < cap; i++) {
        char d[40];
        if (k->type == KEY_LIST)
            snprintf(d, sizeof d, "%d", ((const int *)p)[i]);
        else
            fmt_double(d, sizeof d, ((const double *)p)[i]);
        len += snprintf(buf + len, cap - (size_t)len, "%s%s", i ? "," : "", d);
    }
}

/* Splits "a:b" at its first ':' into trimmed halves in buf. False if there is no ':' or s does
 * not fit. */
static bool split_colon(const char *s, char *buf, size_t cap, char **a, char **b)
{
    if (strlen(s) >= cap)
        return false;
    strcpy(buf, s);
    char *colon = strchr(buf, ':');
    if (!colon)
        return false;
    *colon = '\0';
    *a = trim(buf);
    *b = trim(colon + 1);
    return true;
}

/* "N:M" (blanks allowed around either number) with lo <= N < M <= hi. */
static bool nm_parse(const config_key *k, const char *s, occam_config *cfg, char *detail,
                     size_t cap)
{
    char buf[64], *a, *b;
    int64_t n, m;
    if (!split_colon(s, buf, sizeof buf, &a, &b) || !occam_config_integer(a, &n) ||
        !occam_config_integer(b, &m)) {
        snprintf(detail, cap, "expected N:M, two integers with %.0f <= N < M <= %.0f (e.g. 2:4)",
                 k->lo, k->hi);
        return false;
    }
    if (!(n >= k->lo && n < m && m <= k->hi)) {
        snprintf(detail, cap, "expected %.0f <= N < M <= %.0f", k->lo, k->hi);
        return false;
    }
    *(int *)field_ptr(cfg, k->off) = (int)n;
    *(int *)field_ptr(cfg, k->off2) = (int)m;
    return true;
}

static void nm_format(const config_key *k, const occam_config *cfg, char *buf, size_t cap)
{
    snprintf(buf, cap, "%d:%d", *(const int *)field_cptr(cfg, k->off),
             *(const int *)field_cptr(cfg, k->off2));
}

/* One of the names, or names[tag] ":" N (blanks allowed around N) with N in [lo, hi]. The
 * argument is 0 for the untagged names, so equal settings compare equal with memcmp. */
static bool tagged_parse(const config_key *k, const char *s, occam_config *cfg, char *detail,
                         size_t cap)
{
    for (int i = 0; k->names[i]; i++) {
        if (i != k->tag && !strcmp(s, k->names[i])) {
            *(int *)field_ptr(cfg, k->off) = i;
            *(int *)field_ptr(cfg, k->off2) = 0;
            return true;
        }
    }
    char buf[64], *a, *b;
    int64_t v;
    if (split_colon(s, buf, sizeof buf, &a, &b) && !strcmp(a, k->names[k->tag]) &&
        occam_config_integer(b, &v) && v >= k->lo && v <= k->hi) {
        *(int *)field_ptr(cfg, k->off) = k->tag;
        *(int *)field_ptr(cfg, k->off2) = (int)v;
        return true;
    }
    /* "expected none, init or epoch:N with N in [0, 1000000]" */
    int nn = name_count(k);
    int len = snprintf(detail, cap, "expected ");
    for (int i = 0; i < nn && len >= 0 && (size_t)len < cap; i++)
        len += snprintf(detail + len, cap - (size_t)len, "%s%s%s",
                        i == 0 ? "" : i == nn - 1 ? " or " : ", ", k->names[i],
                        i == k->tag ? ":N" : "");
    if (len >= 0 && (size_t)len < cap)
        snprintf(detail + len, cap - (size_t)len, " with N in [%.0f, %.0f]", k->lo, k->hi);
    return false;
}

static void tagged_format(const config_key *k, const occam_config *cfg, char *buf, size_t cap)
{
    int v = *(const int *)field_cptr(cfg, k->off);
    if (v == k->tag)
        snprintf(buf, cap, "%s:%d", k->names[v], *(const int *)field_cptr(cfg, k->off2));
    else if (v >= 0 && v < name_count(k))
        snprintf(buf, cap, "%s", k->names[v]);
    else /* out of range: a number, which validation rejects */
        snprintf(buf, cap, "%d", v);
}

/* ---- the key types: JSON ------------------------------------------------------------------ */

/* Output to a fixed buffer, which keeps counting past its end (like snprintf) so the caller
 * can tell whether it fitted. */
typedef struct sink {
    char *buf;
    size_t cap, len;
} sink;

static void sink_printf(sink *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sink_printf(sink *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = s->len < s->cap ? s->cap - s->len : 0;
    int n = vsnprintf(room ? s->buf + s->len : NULL, room, fmt, ap);
    if (n > 0)
        s->len += (size_t)n;
    va_end(ap);
}

/* str as a quoted JSON string, escaped by base/json.c like every other JSON string occam writes.
 * A string that does not fit just moves the count to the end: the caller then reports that the
 * whole did not fit. */
static void json_string(sink *s, const char *str)
{
    sink_printf(s, "\"");
    size_t room = s->len < s->cap ? s->cap - s->len : 0;
    int n = room ? occam_json_escape(s->buf + s->len, room, str) : -1;
    s->len = n >= 0 ? s->len + (size_t)n : s->cap;
    sink_printf(s, "\"");
}

/* Each writes k's value as JSON; text is its INI spelling (key_format). Numbers and bools are
 * JSON numbers and bools, enums and paths strings, lists arrays (of ints or doubles); the
 * label is "first", "last" or a column number, as in the INI file; N:M ("2:4") and tagged
 * enums ("epoch:3") are strings in their INI spelling. */
static void json_plain(sink *s, const config_key *k, const occam_config *cfg, const char *text)
{
    (void)k;
    (void)cfg;
    sink_printf(s, "%s", text); /* integers and bools print the same in INI and JSON */
}

static void json_quoted(sink *s, const config_key *k, const occam_config *cfg, const char *text)
{
    (void)k;
    (void)cfg;
    json_string(s, text);
}

static void json_label(sink *s, const config_key *k, const occam_config *cfg, const char *text)
{
    (void)k;
    (void)cfg;
    if (isdigit((unsigned char)text[0]))
        sink_printf(s, "%s", text);
    else
        json_string(s, text);
}

static void json_double(sink *s, const config_key *k, const occam_config *cfg, const char *text)
{
    /* NaN and infinities only get here if validation was skipped. */
    sink_printf(s, "%s", isfinite(*(const double *)field_cptr(cfg, k->off)) ? text : "null");
}

static void json_list(sink *s, const config_key *k, const occam_config *cfg, const char *text)
{
    (void)k;
    (void)cfg;
    sink_printf(s, "[%s]", text);
}

static void json_dlist(sink *s, const config_key *k, const occam_config *cfg, const char *text)
{
    (void)text; /* entry by entry, for the non-finite ones */
    const double *v = field_cptr(cfg, k->off);
    sink_printf(s, "[");
    for (int j = 0, n = list_count(k, cfg); j < n; j++) {
        char d[40];
        fmt_double(d, sizeof d, v[j]);
        sink_printf(s, "%s%s", j ? "," : "", isfinite(v[j]) ? d : "null");
    }
    sink_printf(s, "]");
}

/* ---- the key types: the help table's "allowed" column -------------------------------------- */

/* What a key accepts: "[1, 1000000]", "idx|csv|blobs", ... */
static void bounds_allowed(const config_key *k, char *buf, size_t cap)
{
    fmt_bounds(buf, cap, k);
}

static void uint64_allowed(const config_key *k, char *buf, size_t cap)
{
    (void)k;
    snprintf(buf, cap, "[0, 2^64-1]");
}

static void bool_allowed(const config_key *k, char *buf, size_t cap)
{
    (void)k;
    snprintf(buf, cap, "true|false");
}

static void enum_allowed(const config_key *k, char *buf, size_t cap)
{
    int n = 0;
    buf[0] = '\0';
    for (int i = 0; k->names[i] && n >= 0 && (size_t)n < cap; i++)
        n += snprintf(buf + n, cap - (size_t)n, "%s%s", i ? "|" : "", k->names[i]);
}

static void path_allowed(const config_key *k, char *buf, size_t cap)
{
    (void)k;
    snprintf(buf, cap, "max %d chars", OCCAM_PATH_MAX - 1);
}

static void list_allowed(const config_key *k, char *buf, size_t cap)
{
    char b[64];
    fmt_bounds(b, sizeof b, k);
    snprintf(buf, cap, "%d-%d x %s", k->min_count, k->max_count, b);
}

static void label_allowed(const config_key *k, char *buf, size_t cap)
{
    snprintf(buf, cap, "first|last|%.0f..%.0f", k->lo, k->hi);
}

static void nm_allowed(const config_key *k, char *buf, size_t cap)
{
    snprintf(buf, cap, "%.0f <= N < M <= %.0f", k->lo, k->hi);
}

static void tagged_allowed(const config_key *k, char *buf, size_t cap)
{
    char b[64];
    int n = 0;
    buf[0] = '\0';
    for (int i = 0; k->names[i] && n >= 0 && (size_t)n < cap; i++) {
        if (i == k->tag)
            snprintf(b, sizeof b, ":%.0f..%.0f", k->lo, k->hi);
        n += snprintf(buf + n, cap - (size_t)n, "%s%s%s", i ? "|" : "", k->names[i],
                      i == k->tag ? b : "");
    }
}

/* ---- the key types: each row's invariants (a failure is a bug in the rows above) ---------- */

static void int_rules(const config_key *k)
{
    OCCAM_ASSERT(k->lo >= INT_MIN && k->hi <= INT_MAX && k->open == 0);
}

static void int64_rules(const config_key *k) { OCCAM_ASSERT(k->open == 0); }

static void double_rules(const config_key *k)
{
    OCCAM_ASSERT(k->lo < k->hi || (k->lo == k->hi && k->open == 0));
}

static void enum_rules(const config_key *k) { OCCAM_ASSERT(k->names && k->names[0]); }

static void count_rules(const config_key *k)
{
    /* list_parse's buffer holds 64 entries; the count is a separate int field. */
    OCCAM_ASSERT(0 <= k->min_count && k->min_count <= k->max_count && k->max_count <= k->len &&
                 k->max_count <= 64);
    OCCAM_ASSERT(k->off2 != k->off);
}

static void list_rules(const config_key *k)
{
    int_rules(k);
    count_rules(k);
}

static void dlist_rules(const config_key *k)
{
    count_rules(k);
    double_rules(k);
}

static void nm_rules(const config_key *k)
{
    int_rules(k);
    /* some N < M must fit, and no N or M is 0 */
    OCCAM_ASSERT(k->lo >= 1 && k->lo < k->hi && k->off2 != k->off);
}

static void tagged_rules(const config_key *k)
{
    int_rules(k);
    enum_rules(k);
    OCCAM_ASSERT(k->tag >= 0 && k->tag < name_count(k) && k->lo <= k->hi && k->off2 != k->off);
}

static void no_rules(const config_key *k) { (void)k; }

/* ---- the key types' table ------------------------------------------------------------------ */

typedef struct key_type_ops {
    const char *name; /* the help table's type column */
    bool empty_ok;    /* an empty value is the parser's to judge when min_count is 0 */
    bool (*parse)(const config_key *k, const char *s, occam_config *cfg, char *detail,
                  size_t cap);
    void (*format)(const config_key *k, const occam_config *cfg, char *buf, size_t cap);
    void (*json)(sink *s, const config_key *k, const occam_config *cfg, const char *text);
    void (*allowed)(const config_key *k, char *buf, size_t cap);
    void (*rules)(const config_key *k);
} key_type_ops;

static const key_type_ops key_types[] = {
    [KEY_INT] = {"int", false, int_parse, int_format, json_plain, bounds_allowed, int_rules},
    [KEY_INT64] = {"int64", false, int64_parse, int64_format, json_plain, bounds_allowed,
                   int64_rules},
    [KEY_UINT64] = {"uint64", false, uint64_parse, uint64_format, json_plain, uint64_allowed,
                    no_rules},
    [KEY_DOUBLE] = {"double", false, double_parse, double_format, json_double, bounds_allowed,
                    double_rules},
    [KEY_BOOL] = {"bool", false, bool_parse, bool_format, json_plain, bool_allowed, no_rules},
    [KEY_ENUM] = {"enum", false, enum_parse, enum_format, json_quoted, enum_allowed,
                  enum_rules},
    [KEY_PATH] = {"path", true, path_parse, path_format, json_quoted, path_allowed, no_rules},
    [KEY_LIST] = {"int list", false, list_parse, list_format, json_list, list_allowed,
                  list_rules},
    [KEY_LABEL] = {"label", false, label_parse, label_format, json_label, label_allowed,
                   int_rules},
    [KEY_DLIST] = {"double list", true, list_parse, list_format, json_dlist, list_allowed,
                   dlist_rules},
    [KEY_NM] = {"N:M", false, nm_parse, nm_format, json_quoted, nm_allowed, nm_rules},
    [KEY_TAGGED] = {"enum:N", false, tagged_parse, tagged_format, json_quoted, tagged_allowed,
                    tagged_rules},
};

static const key_type_ops *key_ops(const config_key *k)
{
    OCCAM_ASSERT((size_t)k->type < sizeof key_types / sizeof key_types[0] &&
                 key_types[k->type].parse);
    return &key_types[k->type];
}

/* Parses value (already trimmed) into k's field of cfg; see the parsers above. */
static bool key_parse(const config_key *k, const char *value, occam_config *cfg, char *detail,
                      size_t cap)
{
    const key_type_ops *t = key_ops(k);
    if (!*value && !(t->empty_ok && k->min_count == 0)) {
        snprintf(detail, cap, "empty value");
        return false;
    }
    return t->parse(k, value, cfg, detail, cap);
}

static void key_format(const config_key *k, const occam_config *cfg, char *buf, size_t cap)
{
    key_ops(k)->format(k, cfg, buf, cap);
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
        key_ops(k)->rules(k);
    }
}

void occam_config_defaults(occam_config *cfg)
{
    table_check();
    memset(cfg, 0, sizeof *cfg); /* padding and unused list entries too, for memcmp */
    for (int i = 0; i < NKEYS; i++) {
        char detail[DETAIL_MAX];
        if (!key_parse(&keys[i], keys[i].def, cfg, detail, sizeof detail)) {
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
} load_state;


/* OCCAM_ERR_INPUT "PREFIX" "MSG", where MSG holds text from the user's line or --set argument:
 * its bytes are quoted (occam_error_quote), so a binary file cannot drive the terminal. */
static int config_vfail(occam_error *err, const char *prefix, const char *fmt, va_list ap)
{
    char msg[CONFIG_MSG_MAX], shown[4 * CONFIG_MSG_MAX];
    vsnprintf(msg, sizeof msg, fmt, ap);
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

/* inih's reader: fgets plus line counting, the length limit and the stop at the first error.
 * num is inih's buffer size; a line must leave room for "\r\n\0". */
static char *load_read(char *str, int num, void *stream)
{
    load_state *st = stream;
    OCCAM_ASSERT(num > 3);
    if (st->err_line)
        return NULL;
    errno = 0;
    if (!fgets(str, num, st->f)) {
        if (ferror(st->f)) {
            int e = errno;
            st->line++;
            load_fail(st, "read error: %s", strerror(e));
        }
        return NULL;
    }
    st->line++;
    st->buf = str;
    size_t n = strlen(str), len = n;
    while (len > 0 && (str[len - 1] == '\n' || str[len - 1] == '\r'))
        len--;
    bool eol = n > 0 && str[n - 1] == '\n';
    if (!eol && !feof(st->f) && n < (size_t)num - 1) {
        load_fail(st, "line contains a NUL byte");
        return NULL;
    }
    if ((!eol && !feof(st->f)) || len > (size_t)num - 3) {
        load_fail(st, "line too long (max %d characters)", num - 3);
        return NULL;
    }
    check_section_line(st);
    return st->err_line ? NULL : str;
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
    char why[DETAIL_MAX];
    const config_key *k = key_find(section, name, why, sizeof why);
    if (!k)
        return load_fail(st, "%s", why);
    int idx = (int)(k - keys);
    if (st->first_line[idx])
        return load_fail(st, "duplicate key '%s' in [%s] (first set on line %d)", name, section,
                         st->first_line[idx]);
    st->first_line[idx] = st->line;
    if (!key_parse(k, value, &st->cfg, why, sizeof why)) {
        if (!*value)
            return load_fail(st, "%s.%s: %s", k->section, k->key, why);
        return load_fail(st, "%s.%s = %s: %s", k->section, k->key, value, why);
    }
    return 1;
}

/* inih only returns the number of a line it could not parse; fetch its text for the message.
 * Best effort: an unseekable file just gets the line number. */
static void syntax_error(const load_state *st, int line, occam_error *err)
{
    char text[256] = "";
    if (fseek(st->f, 0, SEEK_SET) == 0) {
        clearerr(st->f);
        for (int i = 1; i <= line; i++)
            if (!fgets(text, sizeof text, st->f)) {
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

int occam_config_load(occam_config *cfg, const char *path, occam_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: cannot open: %s", path,
                               strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) == 0 && S_ISDIR(sb.st_mode)) {
        fclose(f);
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: cannot open: %s", path,
                               strerror(EISDIR));
    }
    load_state *st = calloc(1, sizeof *st); /* ~3.5 KB: keep it off small thread stacks */
    if (!st) {
        fclose(f);
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: out of memory", path);
    }
    st->cfg = *cfg;
    st->path = path;
    st->f = f;
    int ret = ini_parse_stream(load_read, st, load_handler, st);
    int rc = OCCAM_OK;
    if (ret < 0) /* only with a heap line buffer */
        rc = occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: out of memory", path);
    else if (ret > 0 && (st->err_line == 0 || ret < st->err_line)) {
        syntax_error(st, ret, err); /* inih's own error came first */
        rc = OCCAM_ERR_INPUT;
    } else if (st->err_line)
        rc = occam_error_set(err, st->e.status, "%s", st->e.msg);
    else
        *cfg = st->cfg;
    fclose(f);
    free(st);
    return rc;
}

/* ---- --set -------------------------------------------------------------------------------- */

int occam_config_set(occam_config *cfg, const char *assignment, occam_error *err)
{
    char *copy = strdup(assignment);
    if (!copy)
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "--set: out of memory");
    int rc = OCCAM_OK;
    char *eq = strchr(copy, '=');
    char *dot = eq ? memchr(copy, '.', (size_t)(eq - copy)) : NULL;
    if (!eq || !dot) {
        rc = set_fail(err, "%s: expected section.key=value", assignment);
        goto out;
    }
    *eq = '\0';
    *dot = '\0';
    char *section = trim(copy), *key = trim(dot + 1), *value = trim(eq + 1);
    if (!*section || !*key) {
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
    if (!key_parse(k, value, &next, why, sizeof why)) {
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
            int n = *(const int *)field_cptr(cfg, keys[i].off2);
            if (n < 0 || n > keys[i].max_count)
                return occam_error_set(err, OCCAM_ERR_INPUT,
                                       "%s.%s: entry count %d is outside [0, %d]",
                                       keys[i].section, keys[i].key, n, keys[i].max_count);
        }
        key_format(&keys[i], cfg, value, sizeof value);
        if (!key_parse(&keys[i], value, &scratch, why, sizeof why))
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
        rc = occam_prune_check_late(&cfg->prune, cfg->mdl.model_code == OCCAM_MDL_BITS_BACK,
                                    err);
    return rc;
}

/* ---- writers ------------------------------------------------------------------------------ */

void occam_config_write_ini(const occam_config *cfg, FILE *out)
{
    for (int i = 0; i < NKEYS; i++) {
        if (i == 0 || strcmp(keys[i].section, keys[i - 1].section))
            fprintf(out, "%s[%s]\n", i ? "\n" : "", keys[i].section);
        char value[VALUE_MAX];
        key_format(&keys[i], cfg, value, sizeof value);
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
        key_format(&keys[i], cfg, value, sizeof value);
        key_format(&keys[i], &def, dvalue, sizeof dvalue);
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
            key_format(&keys[k], cfg, value, sizeof value);
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
    sink_printf(s, "{");
    for (int i = 0; i < NKEYS; i++) {
        const config_key *k = &keys[i];
        if (i == 0 || strcmp(k->section, keys[i - 1].section))
            sink_printf(s, "%s\"%s\": {", i > 0 ? "}, " : "", k->section);
        else
            sink_printf(s, ", ");
        sink_printf(s, "\"%s\": ", k->key);
        char value[VALUE_MAX];
        key_format(k, cfg, value, sizeof value);
        key_ops(k)->json(s, k, cfg, value);
    }
    sink_printf(s, "}}");
}

/* Keys that only some configs read, and when they are read in a training run and its
 * description length (what train and select compute). Each rule names its key's field and a
 * predicate of the rest of the config; a key whose predicate is false is read by no code path
 * of train or select (checked against data.c, dl.c and noisy.c), so any value of it gives the
 * same run. Each reason starts with the key it resets.
 *
 * data.*: occam_data_load reads the keys of its source only (load_idx: data.path; load_csv:
 * data.train, data.test, data.label, data.header; load_blobs: data.samples, test_samples,
 * features, classes, spread, seed; peptide: samples, test_samples, features, target_noise,
 * seed), and occam_data_normalize_targets returns at once without targets. occam predict reads
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
 * random) and prune.bias, all but
 * under neuron granularity, which scores units by their norms; it selects by prune.scope and
 * prune.min_keep, with prune.layer_targets under scope = layer, all but under nm granularity,
 * which keeps prune.nm's N of M instead. prune.target is read under every schedule (the events
 * record it). Nothing else reads them: the mdl, compress, eval and predict commands load a
 * checkpoint's own prune.granularity only for hidden layers narrower than its model.layers,
 * which no run without a schedule saves.
 *
 * noise.*: the mixture's keys apply to the sparse prior too: its bits-back code puts the
 * survivors under a mixture (dl.c's bits_back). noise.log_alpha also masks any noisy model in
 * occam mdl and compress, which take their own config. */
static bool src_idx(const occam_config *c) { return c->data.source == OCCAM_SOURCE_IDX; }
static bool src_csv(const occam_config *c) { return c->data.source == OCCAM_SOURCE_CSV; }
static bool src_blobs(const occam_config *c) { return c->data.source == OCCAM_SOURCE_BLOBS; }
static bool src_peptide(const occam_config *c) { return c->data.source == OCCAM_SOURCE_PEPTIDE; }
static bool src_generated(const occam_config *c) { return src_blobs(c) || src_peptide(c); }
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
static bool noise_rebalanced(const occam_config *c) /* as occam_trainer_begin_epoch reads it */
{
    return occam_noise_one_prior(&c->noise) && c->model.activation == OCCAM_ACT_RELU;
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
    RULE("data.test", data.test, src_csv, "applies only to data.source = csv"),
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
    RULE("data.test_samples", data.test_samples, src_generated,
         "applies only to data.source = blobs or peptide"),
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
    RULE("prune.target", prune.target, prune_on, "does not apply with prune.schedule = none"),
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
    RULE("prune.bias", prune.bias, prune_scored,
         "applies only under a prune.schedule, with prune.granularity = weight or nm"),
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
    RULE("noise.log_alpha", noise.log_alpha, noise_sparse,
         "does not apply in training with noise.prior = gaussian or mog (only the sparse prior "
         "masks weights as it trains; occam mdl and compress still mask by it)"),
    RULE("noise.prior_scope", noise.prior_scope, noise_shared,
         "does not apply with noise.prior = sparse (it has no parameters)"),
    RULE("noise.rebalance", noise.rebalance, noise_rebalanced,
         "applies only to one prior for the network (noise.prior = gaussian or mog, "
         "noise.prior_scope = network or auto) with model.activation = relu"),
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

/* Numbers that are equal train the same: a double written -0 is kept with its sign (it prints
 * back as written), but 0 and -0 are the same value to every comparison, sum and product, and
 * no code path divides by a key that may be 0 or reads a zero's sign (optim.c even rounds the
 * coefficients it keeps to +0), so -0 becomes 0 here. */
static void zeros_unsigned(occam_config *cfg)
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
    zeros_unsigned(cfg);
    return NULL;
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
        key_ops(k)->allowed(k, allowed[i], sizeof allowed[i]);
        int al = (int)strlen(allowed[i]), tl = (int)strlen(key_ops(k)->name);
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
        fprintf(out, "%-*s  %-*s  %-*s  %-*s  %s\n", wkey, name, wtype, key_ops(k)->name, wdef,
                *k->def ? k->def : "\"\"", wallow, allowed[i], k->help);
    }
}

/* ---- composition ------------------------------------------------------------------------- */

occam_trainer_params occam_config_trainer(const occam_config *cfg)
{
    return (occam_trainer_params){.comm = occam_comm_world(), .batch = cfg->train.batch, .optim = cfg->train.optim,
                                  .noise = cfg->noise, .grad = cfg->runtime.grad,
                                  .weights = cfg->runtime.weights};
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
