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

#include "occam/data.h"
#include "occam/dl.h"
#include "occam/error.h"
#include "occam/fsutil.h"
#include "occam/model.h"
#include "occam/noisy.h"
#include "occam/optim.h"
#include "occam/prune.h"
#include "occam/runtime.h"
#include "occam/trainer.h"

/* The [train] section: the run's length, batch, seeds and checkpoints; its optimiser and
 * learning-rate keys (train.optimizer, lr, momentum, ...) are the optimiser's own params. */
typedef struct occam_train_params {
    int epochs;               /* train.epochs */
    int batch;                /* train.batch */
    occam_optim_params optim; /* train.optimizer, train.lr, ... (occam/optim.h) */
    uint64_t seed;            /* train.seed: init and shuffling */
    int checkpoint_every;     /* train.checkpoint_every: epochs between checkpoints, 0 = off */
    int checkpoint_keep;      /* train.checkpoint_keep: the last N are kept */
    char checkpoint_dir[OCCAM_PATH_MAX]; /* train.checkpoint_dir */
} occam_train_params;

/* The whole run configuration: one section per module, each the module's own params struct. */
typedef struct occam_config {
    occam_data_params data;
    occam_model_params model;
    occam_train_params train;
    occam_runtime_params runtime;
    occam_prune_params prune;
    occam_dl_params mdl;
    occam_noise_params noise;
} occam_config;

/* Fills cfg with every key's default. */
void occam_config_defaults(occam_config *cfg);

/* Parses an INI file on top of the current values of cfg (call occam_config_defaults first).
 * Unknown sections/keys, duplicates, malformed or out-of-range values and lines longer than the
 * parser's limit fail with "PATH:LINE: ...". */
int occam_config_load(occam_config *cfg, const char *path, occam_error *err);

/* Applies one "section.key=value" override through the same table and checks. */
int occam_config_set(occam_config *cfg, const char *assignment, occam_error *err);
/* Whether a --set assignment ("section.key=value", read as occam_config_set reads it) names
 * section.key. */
bool occam_config_set_names(const char *assignment, const char *section, const char *key);

/* Whether "section.key" names a list-valued key (model.layers, prune.layer_targets: entries
 * separated by commas); false for any other name, unknown ones included. */
bool occam_config_key_is_list(const char *name);

/* Numbers as the table reads them, for options outside it that should read them the same way.
 * occam_config_integer: a decimal integer with an optional sign and nothing else (saturating
 * on overflow, for the caller's bounds to refuse). occam_config_number: decimal digits, signs,
 * a point and an exponent only, so no hex ("0x10"), inf, nan or blanks, which strtod and
 * strtol also take. Both return false for anything else and leave *out alone then. */
bool occam_config_integer(const char *s, int64_t *out);
bool occam_config_number(const char *s, double *out);

/* Resets to their defaults the keys that have no effect under the rest of cfg, so that two
 * configs that train the same run compare equal: train.weight_decay when noise.enabled (noisy
 * weights are regularised by their prior; the optimiser is not given the decay), every
 * noise.* key when not (the trainer builds no noise state), and with noise the noise.* keys
 * the chosen prior does not read (noise.zero_cap under a Gaussian prior, noise.prior_sigma
 * under a mixture, noise.log_alpha under any but sparse, ...); the data.* keys of other sources
 * (data.path unless data.source = idx, data.samples with a file, ...); the mdl.* keys the code
 * does not read (mdl.components unless two-part with mdl.prior = mog, mdl.bits_per_weight
 * unless count, ...); the prune.* keys the schedule and granularity do not read (every one
 * but prune.schedule and prune.score_events under schedule = none, prune.steps unless
 * iterative or mdl, prune.nm unless granularity = nm, prune.method under neuron granularity,
 * ...). Resets one key (or, without noise, the whole [noise] section) per call
 * and says which and why (a phrase starting with the key, or for the section "the noise.*
 * keys"), or NULL when none is left away from its default: call it until NULL. The last call
 * also writes every number equal to 0 as 0 (a -0 trains as 0 does). */
const char *occam_config_drop_inert(occam_config *cfg);

/* Whether some code path of a training run (train, select: its data, the trainer, the
 * description length) reads "section.key" under cfg: false exactly for the keys
 * occam_config_drop_inert would reset there; true for unknown names. */
bool occam_config_key_applies(const occam_config *cfg, const char *name);

/* Whether "section.key" is read only by the bits-back line occam train prints at the end of a
 * noisy run beside its mdl.model_code's length (mdl.samples under a mixture prior,
 * mdl.data_samples, mdl.seed): a key no weight depends on, which the line does. */
bool occam_config_bits_back_reads(const occam_config *cfg, const char *name);

/* The reason occam_config_drop_inert gives for the first key (in its order) that a does not
 * read and whose value differs in b, or NULL if there is none: why two configs that train the
 * same run differ, rather than a key they both set. */
const char *occam_config_inert_difference(const occam_config *a, const occam_config *b);

/* Whether why, a reason occam_config_drop_inert returned, is the whole [noise] section's under
 * noise.enabled = false (a [noise] left in a file but switched off, which train does not
 * note). */
bool occam_config_inert_is_noise_off(const char *why);

/* Checks after all sources are applied: every field again through the table (code may have set
 * it), then the modules' checks that span keys (occam_data_check, occam_optim_check,
 * occam_prune_check, occam_dl_check, occam_prune_check_late, in that order: e.g. csv needs
 * data.train, blobs classes must match the output layer). Messages name the key; the first
 * failing check is reported. */
int occam_config_validate(const occam_config *cfg, occam_error *err);

/* Puts where the value came from in front of err's message when the message opens with a
 * key's name ("train.lr = ...", "noise.prior_scope: ..."), as the load's own errors do: "--set "
 * when the last of sets[0..nsets) to name the key set it, else "PATH:LINE: " when the file at
 * path (NULL: none) set it. Otherwise (a default, or no key named) err is left as it is. For
 * occam_config_validate's errors, which come after the sources are applied. */
void occam_config_locate(occam_error *err, const char *path, const char *const *sets,
                         int nsets);

/* Whether msg opens with the key name ("section.key") followed by a blank, ':', '=' or its
 * end: a message about that key, not one whose name it begins (train.lr, train.lr_min). */
bool occam_config_message_names(const char *msg, const char *name);

/* Writes the effective config as INI text (every key, in table order). */
void occam_config_write_ini(const occam_config *cfg, FILE *out);

/* Writes only the keys whose value differs from the default, under their [section] headers.
 * Returns how many. */
int occam_config_write_ini_changed(const occam_config *cfg, FILE *out);

/* One line naming what the run is: source, task, layers, activation, optimiser, lr, batch,
 * epochs, noise, prune schedule and model code, as key=value words. Cut to fit cap. */
void occam_config_summary(const occam_config *cfg, char *buf, size_t cap);

/* Room enough for occam_config_to_json of any config. */
#define OCCAM_CONFIG_JSON_MAX (64 * 1024)

/* Writes the effective config as a JSON object into buf (for safetensors metadata, whose values
 * must be strings: the caller escapes). Returns the length written, or -1 if it did not fit. */
int occam_config_to_json(const occam_config *cfg, char *buf, size_t cap);

/* The help table: one line per key with type, bounds, default and help text. */
void occam_config_write_help(FILE *out);

/* ---- composition: the config's sections as the modules' parameters ---------------------- */

/* The trainer's: [train] batch and optimiser, [noise], runtime.grad and runtime.weights. */
occam_trainer_params occam_config_trainer(const occam_config *cfg);
/* The model's input and output widths (model.layers' first and last). */
int occam_config_inputs(const occam_config *cfg);
int occam_config_outputs(const occam_config *cfg);

#endif
