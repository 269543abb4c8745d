/* occam/trainer.h — the data-parallel training step and evaluation.
 *
 * A trainer owns T workers (one per thread) and the optimiser state. Under mpirun each of the
 * R ranks has one, all called with the same global batch: rank r takes its contiguous share of
 * the batch's rows (occam_comm_share) and its threads split that share. One step is one OpenMP
 * team:
 *   1. each thread gathers its shard of the minibatch's rows, runs forward and backward with
 *      single-threaded BLIS calls (no dX for the input layer). Per layer, the weight gradient
 *      is either a per-thread partial over the shard (shard path) or, after a barrier, a block
 *      of output rows over the whole batch (owner path, no reduction needed);
 *   2. one barrier;
 *   3. owner-path rows are updated by the thread that computed them; shard-path partials are
 *      reduced over owner slices (flat, or NUMA-hierarchical) in a fixed order, with the
 *      optimiser applied in the same pass.
 * The sums are in a fixed order, so a run is bitwise reproducible for a given seed and thread
 * count. Nothing is allocated inside a step.
 *
 * Across ranks (thread 0 calls MPI between barriers, inside the step's one team):
 *   owner layers — each layer's input rows and dZ rows are allgathered before its dW, so rank r
 *     computes its fixed block of dW's output rows over the whole batch and updates them; the
 *     updated rows are allgathered after the update. A row's gradient is the same GEMM over the
 *     same batch whoever computes it, so R ranks × T threads give the weights of 1 rank × T'
 *     threads, bit for bit, for any R, T, T'. The optimiser moments stay with the rows' owner
 *     until occam_trainer_gather_state collects them (checkpoints, neuron pruning).
 *   shard layers — the rank's threads reduce their partials (as above) into one gradient; the
 *     ranks' gradients are reduce-scattered, each rank updates its share and the shares are
 *     allgathered (the same bits on every rank, but rounded differently for each world size).
 *     Noisy weights allreduce instead and every rank updates all of them. */
#ifndef OCCAM_TRAINER_H
#define OCCAM_TRAINER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "occam/comm.h"
#include "occam/data.h"
#include "occam/error.h"
#include "occam/model.h"
#include "occam/noisy.h"
#include "occam/optim.h"
#include "occam/rng.h"
#include "occam/runtime.h"
#include "occam/team.h"

/* What the trainer needs to know, composed from the config by occam_config_trainer. */
typedef struct occam_trainer_params {
    int batch;                /* train.batch: rows per step at most */
    occam_optim_params optim; /* the optimiser and its schedule */
    occam_noise_params noise; /* noisy weights (noise.enabled) */
    occam_grad grad;          /* runtime.grad: per-layer weight-gradient path */
    occam_weights weights;    /* runtime.weights: replicate copies the weights per NUMA group */
    const occam_comm *comm;   /* the ranks sharing each batch; NULL: this process alone */
    bool regress;             /* data.task = regress */
    size_t rows;              /* the training rows (0: unknown): they size a noisy regression
                                 net's Gauss–Newton scratch (its γ counts them) */
} occam_trainer_params;

typedef struct occam_trainer occam_trainer;


/* Regression figures are in the targets' original units: with standardised targets
 * (data.normalize_targets) the squared errors and the variance are scaled back per target. */
typedef struct occam_eval {
    size_t n;              /* rows evaluated */
    double loss;           /* mean per row: cross-entropy (nats) or squared error summed over outputs */
    double accuracy;       /* classify: fraction of argmax hits */
    double mse;            /* regress: mean squared error per output */
    double relative_error; /* regress: mse / variance of the targets */
} occam_eval;

/* Creates a trainer for `model` (which it borrows) with `threads` workers; rows per step at most
 * p.batch. pl may be NULL (one NUMA group, no binding). OCCAM_ERR_RUNTIME when memory runs out
 * or OpenMP does not give the team the size asked for, and before allocating anything when
 * occam_trainer_bytes is more than occam_mem_available (each allocation passed Linux's
 * overcommit check, and touching them got the process killed, with no message). */
int occam_trainer_create(occam_trainer **out, occam_model *model, occam_trainer_params p,
                         int threads, const occam_affinity *pl, occam_error *err);

/* The bytes occam_trainer_create allocates for a model of layout lay (its parameters, mask and
 * σ's aside, which the model holds): the batch's buffers, the gradient, the optimiser's moments,
 * each thread's partial gradient and the noisy weights' state; a lower bound (not the replicas
 * of runtime.weights = replicate, nor BLIS's packing buffers). In double: it may pass SIZE_MAX. */
double occam_trainer_bytes(const occam_layout *lay, occam_trainer_params p, int threads);

/* After the model lost hidden units (neuron pruning; model->lay is already the new layout):
 * compacts the optimiser moments the same way and re-plans the per-layer gradient paths. The
 * buffers, sized for the old widths, are large enough. */
void occam_trainer_relayout(occam_trainer *tr, const occam_layout *old,
                            const uint8_t *const *keep);

/* After the model's layout was replaced by narrower widths whose moments are written next (a
 * resumed run whose neurons were pruned; model->lay is already the new layout): re-plans the
 * per-layer gradient paths as occam_trainer_relayout does, the same for the same widths, but
 * moves no moments and, unlike it, calls no other rank. Not for noisy weights. */
void occam_trainer_replan(occam_trainer *tr);

/* Start of epoch `epoch` (0-based) over `rows` training rows: with noisy weights, sets
 * β = min(1, epoch / noise.warmup_epochs) and the KL's weight (for regression scaled by 2σ_y²,
 * σ_y the learned noise level), re-fits the priors and re-sets σ from the curvature (see
 * src/nn/noisy-impl.h). A no-op otherwise. */
void occam_trainer_begin_epoch(occam_trainer *tr, int epoch, const occam_dataset *train);
/* The learned regression noise level σ_y of noisy weights (standardised target units), or 0
 * without noise or for classification. */
double occam_trainer_noise_level(const occam_trainer *tr);
/* The prior of layer l's noisy weights, or NULL without noise. */
const struct occam_prior *occam_trainer_prior(const occam_trainer *tr, int l);

/* Zeroes the optimiser moments and step count (lottery-ticket rewind). */
void occam_trainer_reset_optim(occam_trainer *tr);
/* Zeroes parameters and moments where the model's mask is 0 (right after a prune). */
void occam_trainer_apply_mask(occam_trainer *tr);

/* The trainer's state a checkpoint must hold to continue bit-identically, as pointers into the
 * trainer (read them to save; write through them, then call occam_trainer_sync, to restore). */
typedef struct occam_trainer_state {
    float *mom1, *mom2;         /* optimiser moments of the parameters (nparams; mom2: adam) */
    float *mom1_rho, *mom2_rho; /* noisy weights: moments of ρ (nparams), else NULL */
    bool curvature;             /* mom1_rho holds the σ fixed point's running mean of squared
                                   gradients (noise.data_term = expansion), not a moment */
    occam_rng *noise_rng;       /* noisy weights: one noise stream per thread of every rank
                                   (rank-major), else NULL; see occam_trainer_gather_state */
    int threads;                /* threads in all, over every rank (the noise streams) */
    struct occam_prior *prior;  /* noisy weights: one prior per layer, else NULL */
    double *kappa;              /* noisy weights: the KL's weight this epoch */
    float *noise_level;         /* noisy regression: ln σ_y and its two optimiser moments (3),
                                   else NULL */
    double *noise_terms;        /* noisy regression: what the epoch's start fixed for the noise
                                   level's steps (β, N and the table of γ against σ_y;
                                   OCCAM_NOISE_TERMS), else NULL */
    int64_t *opt_t;             /* optimiser updates so far */
} occam_trainer_state;
void occam_trainer_state_view(occam_trainer *tr, occam_trainer_state *s);
/* Under several ranks, completes what each rank holds only in part, so that the state view
 * reads the whole run's state on every rank: the optimiser moments of the owner layers' rows
 * and of the shard layers' shares (each rank updates only its part) and every rank's noise
 * streams (the view's noise_rng then holds all of them, rank after rank, and .threads counts
 * them). A collective: every rank calls it. A no-op on one rank. */
void occam_trainer_gather_state(occam_trainer *tr);
/* Re-derives what the trainer caches from the model and the state: σ² from ρ and the mask, the
 * priors' constants, the NUMA replicas of the weights. Call after changing either outside a
 * step. */
void occam_trainer_sync(occam_trainer *tr);

/* Calls fn for every buffer the trainer owns: its name, address, bytes, and the thread that
 * first touched it (-1: touched by the creating thread; for row-sharded buffers one call per
 * thread's rows). Used by `occam topo` to show where memory lives. */
typedef void (*occam_buffer_fn)(void *ctx, const char *name, const void *addr, size_t bytes,
                                int thread);
void occam_trainer_buffers(const occam_trainer *tr, occam_buffer_fn fn, void *ctx);
/* Accepts NULL. */
void occam_trainer_free(occam_trainer *tr);

int occam_trainer_threads(const occam_trainer *tr);
occam_optim *occam_trainer_optim(occam_trainer *tr);
/* The model the trainer steps (the one occam_trainer_create borrowed). */
const occam_model *occam_trainer_model(const occam_trainer *tr);
/* The ranks this trainer's batches are shared with (1 without mpirun), and their
 * communicator (NULL when alone). */
int occam_trainer_ranks(const occam_trainer *tr);
/* How the threads group their gradient sums by NUMA node, as text: "1" when the sums do not
 * depend on it (one node, or no layer on the shard path), else each thread's node in thread
 * order ("0,0,1,1"); under MPI every rank's, joined by '|' in rank order ("0,0,1,1|1"), "1"
 * when no rank's matters. Another grouping adds the same partials in another order. malloc'd;
 * NULL when out of memory. */
char *occam_trainer_grouping(const occam_trainer *tr);
/* Each rank's thread count, in rank order, as text ("2,1"; "2" alone). Ranks may run different
 * counts, and which rank runs how many decides how a batch's rows are split and summed: ranks
 * of 2 and 1 threads and ranks of 1 and 2 have as many threads in all, not the same bits.
 * malloc'd; NULL when out of memory. */
char *occam_trainer_rank_threads(const occam_trainer *tr);

/* BLIS's kernel set, which a run's bits depend on: occam_gemm_init's name when every rank runs
 * the same one (and on one rank), else each rank's in rank order ("skx,haswell": ranks on
 * other CPUs, or a BLIS_ARCH_TYPE on one). A checkpoint records it, so that a resume on ranks
 * of other kernels says so whichever rank's differ (only rank 0's was recorded). */
const char *occam_trainer_kernels(const occam_trainer *tr);

/* What a run's bits depend on in this build, beyond BLIS's kernel set (which occam_gemm_init
 * names): the noisy step's vector math, SLEEF's deterministic functions ("sleef-finz-avx512f",
 * "sleef-finz-avx2": the same bits) or, on a build without FMA, libm's ("libm"). Small products
 * are no such thing: occam's loop takes them only where it gives BLIS's bits. */
const char *occam_trainer_arith(void);
const occam_comm *occam_trainer_comm(const occam_trainer *tr);
/* Whether layer l computes its weight gradient on the owner path (else shard + reduce). */
bool occam_trainer_layer_owner(const occam_trainer *tr, int l);

/* Step phases, as thread 0 sees them: forward (gather, forward, loss), backward (including the
 * owner path's per-layer barriers), wait (the barrier before the update: load imbalance), and
 * update (reduction fused with the optimiser). Seconds summed over all steps so far. */
enum { OCCAM_PHASE_FORWARD, OCCAM_PHASE_BACKWARD, OCCAM_PHASE_WAIT, OCCAM_PHASE_UPDATE,
       OCCAM_PHASES };
void occam_trainer_phases(const occam_trainer *tr, double sec[OCCAM_PHASES]);
/* Of those, the seconds thread 0 spent in MPI (the ranks' allgathers and allreduces, waiting
 * for the slowest rank included); 0 on one rank. */
double occam_trainer_comm_seconds(const occam_trainer *tr);

/* One optimiser step on rows idx[0..nrows) of ds (nrows <= batch). Adds the summed loss and the
 * number of correct argmaxes to *loss_sum and *correct. */
void occam_trainer_step(occam_trainer *tr, const occam_dataset *ds, const uint32_t *idx,
                        size_t nrows, double *loss_sum, int64_t *correct);

/* The mean gradient over rows idx[0..nrows) into grad (lay.nparams floats) and the summed loss;
 * the parameters are not changed. With noisy weights grad must hold 2·lay.nparams floats: with
 * noise.data_term = sample the forward pass samples noise and the second half receives dρ;
 * with the expansion the pass is at the means and the second half is zero. The KL term is not
 * included (it is added in the update). Used by tests and by importance criteria. */
void occam_trainer_gradient(occam_trainer *tr, const occam_dataset *ds, const uint32_t *idx,
                            size_t nrows, float *grad, double *loss_sum);

/* Forward pass over all of ds, in parallel. */
void occam_trainer_eval(occam_trainer *tr, const occam_dataset *ds, occam_eval *ev);

/* The task's metric of ev: accuracy (classify) or relative error (regress); NaN when no row
 * was evaluated (no test set), which reports print as "-" and JSON as null, never as 0. */
double occam_eval_metric(const occam_eval *ev, occam_task task);

#endif
