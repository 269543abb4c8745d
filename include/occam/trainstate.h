/* occam/trainstate.h — the whole training state in one safetensors checkpoint, to resume a run.
 *
 * Besides the model's tensors (as occam_checkpoint_save names them, so numpy readers and `occam
 * eval --checkpoint` open these files too), a state file holds:
 *   optim.m1, optim.m2            the optimiser's moments (flat, nparams; m2 for adam)
 *   optim.m1_rho, optim.m2_rho    noisy weights: the moments of ρ
 *   noise.rng                     noisy weights: each thread's noise stream (threads × 4, U64)
 *   noise.priors                  noisy weights: each layer's prior (k, pinned, π, m, s)
 *   fit.perm, fit.rng             the epoch's shuffled row order and the shuffling stream
 *   fit.history                   one row per finished epoch (the report's history)
 *   run.i64, run.f64              counters: epochs, steps, the schedule's phase, the place in
 *                                 the epoch, its running sums, the KL weight, ...
 *   prune.events                  the prune log so far
 *   prune.snapshot                prune.rewind: the weights rewound to
 *   prune.best_params/best_mask   prune.schedule = mdl: the shortest model so far
 * and in __metadata__: "format" = "occam-state", the version, the widths, the effective config
 * as JSON, the thread count and the position in words, plus the writer's CRC-32 of every
 * tensor byte. Writes are atomic (see occam/safetensors.h).
 *
 * Resuming with the same config and thread count continues bit-identically: the same weights,
 * history and results as a run never stopped. A run whose neurons were pruned
 * (prune.granularity = neuron) saved its model at narrower widths than model.layers, and
 * continues at them. */
#ifndef OCCAM_TRAINSTATE_H
#define OCCAM_TRAINSTATE_H

#include <stdbool.h>

#include "occam/error.h"
#include "occam/train.h"

#define OCCAM_STATE_FORMAT "occam-state"

/* Writes the run's state to path, atomically. Refuses (OCCAM_ERR_RUNTIME, nothing written)
 * when a weight is NaN or infinite. */
int occam_state_save(const char *path, const occam_train_view *v, occam_error *err);

/* The program's build (its sources and compiler flags, hashed: `occam --version`), recorded in
 * every state it writes as occam.build; a resume from another build's state says the
 * arithmetic may differ (it said "continues bit-identically" of a state an older occam wrote).
 * Unset (a library user, the tests): none is recorded, and none compared. */
void occam_state_set_build(const char *id);

/* Periodic and on-signal checkpoints into a folder, for occam_train_io.checkpoint. */
typedef struct occam_state_writer {
    const char *dir;   /* train.checkpoint_dir (created when first needed) */
    int every;         /* train.checkpoint_every: epochs; 0 = only when interrupted */
    int keep;          /* train.checkpoint_keep */
    char last[4096];   /* the last good checkpoint (written, or resumed from), "" if none */
    bool locked;       /* this run holds dir's lock (lock_fd, -1 on a file system without) */
    int lock_fd;
    bool moved;        /* dir was moved or removed during the run: `last` went with it */
    bool noted_others, noted_later, noted_unread; /* the notes on other runs' (or unreadable)
                                                     files were printed */
} occam_state_writer;

/* One run per checkpoint folder. A run that writes checkpoints every few epochs calls this
 * before it starts: it creates dir and takes its lock (occam_fsutil_lock_dir), so a second run
 * on the same folder stops at once with OCCAM_ERR_INPUT naming the PID of the first. With
 * every = 0 it does nothing; occam_state_checkpoint then takes the lock before it writes. */
int occam_state_writer_open(occam_state_writer *w, occam_error *err);
/* Releases the folder's lock, if held. */
void occam_state_writer_close(occam_state_writer *w);

/* occam_train_io.checkpoint: at every `every`-th epoch, or when interrupted, writes
 * DIR/ckpt-eEPOCH-sSTEP.safetensors (EPOCH = epochs finished, STEP = optimiser steps), then
 * removes all but the newest `keep` such files of this run (its "occam.run", kept across
 * resumes; other runs' files are never removed, and noted once) and stray temporary files of
 * dead writers.
 * Prints the file it wrote to stderr. */
int occam_state_checkpoint(void *writer, const occam_train_view *v, bool interrupted,
                           occam_error *err);
/* Whether occam_state_checkpoint would write now (a stop, or every `every` epochs): for a caller
 * that must prepare the state first on every rank. */
bool occam_state_checkpoint_due(const occam_state_writer *w, const occam_train_view *v,
                                bool interrupted);

/* Restores a run from a state file, for occam_train_io.restore. */
typedef struct occam_state_reader {
    const char *path;
    char note[2048];   /* filled in: how the resumed run differs from the saved one (thread
                          count, changed config keys), "" when it continues bit-identically */
    char unread[1024]; /* filled in: the changed config keys this run does not read
                          (occam_config_key_applies), which change nothing, or "" */
    char bits_back[512]; /* filled in: the changed keys only a noisy run's bits-back line at
                            the end reads (mdl.samples, ... under another mdl.model_code),
                            which change no weight, or "" */
    char at_end[512]; /* filled in: the changed mdl.* keys only the description length at
                         the run's end reads (no prune step scores by it), which change no
                         weight, or "" */
    uint64_t tensors_hash; /* filled in: a hash of every tensor the state holds (position,
                              optimiser moments, shuffle and noise streams), for ranks to check
                              that they resume the same state */
    char world[160];   /* filled in: how the world size (mpirun's ranks) changed, or "". With
                          runtime.grad = owner on every layer (without noise) the run still
                          continues bit-identically; with shard layers the sums round
                          differently */
} occam_state_reader;

/* occam_train_io.restore. Validates everything before it changes anything: the file (see
 * occam_st_open), its format, the config (a key that changes the model's shape or the state's
 * layout is refused, naming the key), the saved widths (model.layers', or under neuron pruning
 * narrower hidden layers that the prune log accounts for), the training set's size, and every
 * tensor's dtype and shape. Then fills the model (re-laid out at the saved widths, in its own
 * buffers), trainer, fit result, prune log and schedule buffers and sets v->res->resuming.
 * Errors are OCCAM_ERR_INPUT with "PATH: ..." messages. */
int occam_state_restore(void *reader, const occam_train_view *v, occam_error *err);

#endif
