/* occam/checkpoint.h — a model to and from a safetensors file.
 *
 * Tensors are named as PyTorch names an nn.Sequential of Linear layers, "layers.L.weight"
 * (out × in, float32) and "layers.L.bias" (out), so the file opens with numpy alone (or
 * safetensors.numpy). __metadata__ holds "format" = "occam", "occam.version" and "config", the
 * effective config as JSON. Writes are atomic (temporary file, fsync, rename). */
#ifndef OCCAM_CHECKPOINT_H
#define OCCAM_CHECKPOINT_H

#include <stdint.h>

#include "occam/config.h"
#include "occam/error.h"
#include "occam/model.h"
#include "occam/safetensors.h"

/* train, when not NULL, is the set the model was trained on: its row count and checksum
 * (occam_dataset_crc) are recorded ("occam.train_rows"), for occam_checkpoint_same_rows. */
int occam_checkpoint_save(const char *path, const occam_model *m, const occam_config *cfg,
                          const occam_dataset *train, occam_error *err);

/* The training rows the model in path was trained on, as the file records them: a safetensors
 * file's "occam.train_rows" (their count and occam_dataset_crc), or a version 9 or later .occ
 * file's header (occam_occ_data.rows, which compress copies from its checkpoint). False, with
 * rows and crc untouched, for a file that does not record them (saved before the key, an
 * older .occ file, one whose writer did not know them) or that cannot be read (its loader
 * says why). */
bool occam_checkpoint_train_rows(const char *path, uint64_t *rows, uint32_t *crc);

/* "occam.train_rows"'s text for the training set train ("COUNT:CRC", the CRC in 8 hex digits),
 * as occam_checkpoint_train_rows reads it back; cap of 32 holds any. */
void occam_checkpoint_rows_text(char *buf, size_t cap, const occam_dataset *train);

/* Whether the training set `train` is the one the model in path was trained on, as far as the
 * file says (occam_checkpoint_train_rows): true for a file that does not record it. Otherwise,
 * when they differ, false with what differs in why ("5000 rows then, 200 now"; "as many rows
 * (200), other values"). */
bool occam_checkpoint_same_rows(const char *path, const occam_dataset *train, char *why,
                                size_t cap);

/* Whether the model in path (a safetensors file whose config is recorded) was trained with
 * noise.enabled under another noise.prior than cfg's, whose name then goes into was (cap
 * bytes). False for an .occ file, a file that does not say, or cfg without noise.enabled.
 * A description length under another prior is a valid code, but not the one training
 * minimised: mdl and compress say so. */
bool occam_checkpoint_other_prior(const char *path, const occam_config *cfg, char *was,
                                  size_t cap);

/* Loads weights into m, which must already be created from the config (a safetensors file, or
 * an .occ file by its magic). The file's widths must be m's (model.layers), or, for a model
 * whose own config says its neurons were pruned (prune.granularity = neuron) from exactly this
 * model.layers, have narrower hidden layers, and m is re-laid out to them. A mismatch is
 * OCCAM_ERR_INPUT naming the layer ("PATH: layer 1 has 50 units in the file but model.layers
 * says 300"); so is a NaN or infinite weight, bias or ρ, naming the tensor and the index. On
 * failure m is left unchanged (never half-loaded). */
int occam_checkpoint_load(const char *path, occam_model *m, occam_error *err);
/* The same from an open file (f->path names it in messages). */
int occam_checkpoint_load_st(const occam_st_file *f, occam_model *m, occam_error *err);

/* A regression model predicts in the units of the targets it was trained on: OCCAM_ERR_INPUT
 * naming data.normalize_targets when the file's own config (metadata "config") is a regression
 * trained with another data.normalize_targets than cfg's (false when the key is absent: a file
 * saved before it existed). Passes classification and files without a config. */
int occam_checkpoint_check_targets_st(const occam_st_file *f, const occam_config *cfg,
                                      occam_error *err);
/* Before an eval or predict: the file's own config and cfg agree on the keys that give its
 * weights their meaning (data.task, model.activation, data.normalize, and for a regression
 * data.normalize_targets as above); otherwise OCCAM_ERR_INPUT naming the key and both values.
 * Passes files without a config. An .occ file holds no config: its header's data.normalize
 * and data.normalize_targets are checked here the same way (its loader checks the task and
 * activation it codes); a version 3 .occ file, which does not record them, passes with
 * *unchecked set (unchecked may be NULL), for the caller to say so. */
int occam_checkpoint_check_config(const char *path, const occam_config *cfg, bool *unchecked,
                                  occam_error *err);

/* The model's tensors as occam_checkpoint_save writes them, into t[] with their names stored in
 * names[]; returns how many. The tensors point into m. */
#define OCCAM_CHECKPOINT_TENSORS_MAX (5 * OCCAM_MAX_LAYERS)
int occam_checkpoint_tensors(const occam_model *m, occam_st_tensor *t, char (*names)[32]);
/* "784,300,100,10": the model's actual widths (the "occam.layers" metadata). */
void occam_checkpoint_widths(const occam_model *m, char *buf, size_t cap);

#endif
