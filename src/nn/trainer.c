/* The data-parallel MLP step. See include/occam/trainer.h for the design; the comments here
 * say why the details are so.
 *
 * Buffers. Inputs, activations and output gradients live in whole-batch arrays, one per layer;
 * thread t's shard is the row range occam_team_split_rows(batch, t) of each, first touched by t. Shards
 * are contiguous, so an owner-path thread can multiply over the whole batch (k = batch) with
 * one GEMM, and a layer's dZ is never overwritten while another thread may still read it (each
 * layer has its own dZ array).
 *
 * Two weight-gradient paths, chosen per layer (runtime.grad):
 *   shard — thread t computes dW over its own rows into its partial array; after the step's
 *           barrier the partials are reduced (occam_reduce_run) and the optimiser applied to
 *           each reduced slice in the same pass.
 *   owner — after a barrier (dZ of the layer complete for every row), thread t computes rows
 *           [o_lo, o_hi) of dW over the whole batch straight into the shared gradient; no
 *           reduction. Its value does not depend on the thread count.
 * Cost model for auto (bytes moved per step, T threads, batch B, layer in → out):
 *   shard: each thread writes an in·out partial and the reduction reads T of them: 2·T·in·out
 *   owner: each thread re-reads the layer's whole input and dZ: T·B·(in + out)
 * so a layer takes the owner path when B·(in + out) < 2·in·out, and always with one thread
 * (there is nothing to reduce). The owner path costs one barrier per layer.
 * With R > 1 ranks the network decides, bytes received per rank per step:
 *   shard: an allreduce of the layer's gradient, 2·(R−1)/R·P_l (P_l = in·out + out)
 *   owner: allgathers of the layer's input and dZ rows and of the updated rows,
 *          (R−1)/R·(B·(in + out) + P_l)   (the input layer's X is not sent: every rank has it)
 * so a layer takes the owner path when B·(in + out) < P_l (B·out < P_l for the input layer).
 *
 * Ranks. Rank r's rows of a batch are occam_comm_share(nrows, r); its threads split those. The
 * batch buffers hold the whole batch on every rank, so the owner path can gather every rank's
 * rows into place. MPI is called by thread 0 only, between barriers. */
#include "occam/trainer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "noisy-impl.h"
#include "occam/clock.h"
#include "occam/comm.h"
#include "occam/gemm.h"
#include "kernels.h"
#include "vmath.h"
#include "occam/mem.h"
#include "occam/noisy.h"
#include "occam/reduce.h"
#include "occam/team.h"

/* The reduction's range tags: weights (decayed), biases, and the noisy weights' second halves
 * ([dσ² | squared row gradients] of the parts), which are only summed, and read by the update
 * of their weights' range. */
enum { RANGE_BIASES = 0, RANGE_WEIGHTS = 1, RANGE_NOISY_SECOND = 2 };

/* Rows per thread in evaluation, where there is no batch to split. */
#define EVAL_ROWS 256

/* Per-thread results of a step, one cache line each so that threads never share a line. */
typedef struct thread_out {
    _Alignas(64) double loss;
    int64_t correct;
} thread_out;

struct occam_trainer {
    occam_model *model;
    occam_optim opt;
    int threads;
    size_t rows;                   /* rows of the batch buffers */
    float *x;                      /* rows × width[0] */
    float *act[OCCAM_MAX_LAYERS];  /* rows × width[l+1]: output of layer l */
    float *dz[OCCAM_MAX_LAYERS];   /* rows × width[l+1]: dLoss/dZ of layer l */
    int32_t *label;                /* rows */
    float *target;                 /* rows × outputs */
    float **partial;               /* [threads] lay.nparams: shard-path partial gradients */
    float *grad;                   /* lay.nparams (2· with noise): owner-path gradients; with
                                      ranks also the rank's reduced shard-path gradient */
    float *mom1, *mom2;            /* optimiser moments (mom2: adam only) */
    bool owner[OCCAM_MAX_LAYERS];  /* weight-gradient path of each layer */
    occam_range ranges[3 * OCCAM_MAX_LAYERS]; /* shard-path segments, for the reduction */
    int nranges;
    occam_reduce_plan plan;
    occam_affinity pl;             /* binding hook and NUMA groups */
    float **replica;               /* [plan.nodes] weight copies (replicate); [0] = params */
    thread_out *out;               /* [threads] */
    double phase[OCCAM_PHASES];    /* seconds per phase, thread 0's view */
    double comm_sec;               /* seconds thread 0 spent in MPI inside steps */
    int ok;                        /* first-touch allocation succeeded on every thread */
    occam_trainer_params p;        /* what it was created with */
    const occam_comm *comm;        /* NULL or one rank: alone */
    int rank, ranks;
    occam_rng *all_rng;            /* noisy weights, ranks > 1: every rank's noise streams */
    int stream0, streams;          /* this rank's first noise stream, and the world's (ranks
                                      may run different thread counts) */
    size_t *rng_bytes;             /* ranks > 1: [ranks] bytes of each rank's streams */
    char *world_groups;            /* ranks > 1: every rank's grouping (gather_groupings) */
    char *kernels;                 /* ranks > 1: the ranks' BLIS kernel sets (rank_kernels) */
    /* noisy weights (noise.enabled), else NULL: shard path only; partial[t] holds [dμ | dσ²] */
    noisy_state *noise;
};

int occam_trainer_threads(const occam_trainer *tr) { return tr->threads; }
int occam_trainer_ranks(const occam_trainer *tr) { return tr->ranks; }

/* This rank's grouping, as occam_trainer_grouping describes it. */
static char *rank_grouping(const occam_trainer *tr)
{
    const occam_reduce_plan *p = &tr->plan;
    bool matters = p->nodes > 1 && tr->nranges > 0;
    size_t cap = matters ? (size_t)p->threads * 12 + 1 : 2;
    char *s = malloc(cap);
    if (!s) return NULL;
    if (!matters) return memcpy(s, "1", 2);
    size_t k = 0;
    for (int t = 0; t < p->threads; t++)
        k += (size_t)snprintf(s + k, cap - k, "%s%d", t ? "," : "", p->node_of[t]);
    return s;
}

/* The ranks' kernel sets as occam_trainer_kernels says them, malloc'd (NULL: out of memory).
 * A collective: every rank calls it once, before anything that can fail on one rank. */
static char *rank_kernels(const occam_trainer *tr)
{
    enum { NAME = 24 };
    char mine[NAME] = {0}, all[tr->ranks][NAME];
    snprintf(mine, sizeof mine, "%s", occam_gemm_init());
    occam_comm_allgather_bytes(tr->comm, mine, all, NAME);
    int same = 1;
    for (int r = 1; r < tr->ranks; r++) same &= strcmp(all[r], all[0]) == 0;
    int n = same ? 1 : tr->ranks;
    size_t cap = (size_t)n * NAME, k = 0;
    char *s = malloc(cap);
    for (int r = 0; s && r < n; r++)
        k += (size_t)snprintf(s + k, cap - k, "%s%s", r ? "," : "", all[r]);
    return s;
}

const char *occam_trainer_kernels(const occam_trainer *tr)
{
    return tr->kernels ? tr->kernels : occam_gemm_init();
}

const char *occam_trainer_arith(void)
{
    return vmath_impl();
}

char *occam_trainer_grouping(const occam_trainer *tr)
{
    if (!tr->comm) return rank_grouping(tr);
    return tr->world_groups ? strdup(tr->world_groups) : NULL;
}

/* Every rank's grouping into tr->world_groups, joined by '|' in rank order ("0,0,1,1|1"), or
 * "1" when no rank's depends on it. Collectives: every rank calls it once, whatever its own
 * creation came to (ok false: its part is "1"), so none waits in them alone; it stays NULL
 * when an allocation fails on any rank, which fails the creation. */
static void gather_groupings(occam_trainer *tr, bool ok)
{
    char *mine = ok ? rank_grouping(tr) : NULL;
    const char *part = mine ? mine : "1";
    int len = (int)strlen(part) + 1, lens[tr->ranks];
    occam_comm_allgather_bytes(tr->comm, &len, lens, sizeof len);
    size_t counts[tr->ranks], total = 0;
    for (int r = 0; r < tr->ranks; r++) total += counts[r] = (size_t)lens[r];
    char *all = malloc(total), *out = malloc(total);
    /* the ranks agree first, so that all of them gather, or none */
    if (occam_comm_max_int(tr->comm, !all || !out || (ok && !mine))) {
        free(mine), free(all), free(out);
        return;
    }
    occam_comm_allgatherv_bytes(tr->comm, part, all, counts);
    free(mine);
    bool matters = false;
    size_t k = 0;
    for (int r = 0, at = 0; r < tr->ranks; at += lens[r], r++) {
        matters |= strcmp(all + at, "1") != 0;
        k += (size_t)snprintf(out + k, total - k, "%s%s", r ? "|" : "", all + at);
    }
    if (!matters) memcpy(out, "1", 2);
    free(all);
    tr->world_groups = out;
}

char *occam_trainer_rank_threads(const occam_trainer *tr)
{
    size_t cap = (size_t)tr->ranks * 12 + 1;
    char *s = malloc(cap);
    if (!s) return NULL;
    if (!tr->rng_bytes) {
        snprintf(s, cap, "%d", tr->threads);
        return s;
    }
    size_t k = 0;
    for (int r = 0; r < tr->ranks; r++)
        k += (size_t)snprintf(s + k, cap - k, "%s%zu", r ? "," : "",
                              tr->rng_bytes[r] / sizeof(occam_rng));
    return s;
}

const occam_comm *occam_trainer_comm(const occam_trainer *tr) { return tr->comm; }
occam_optim *occam_trainer_optim(occam_trainer *tr) { return &tr->opt; }
const occam_model *occam_trainer_model(const occam_trainer *tr) { return tr->model; }
bool occam_trainer_layer_owner(const occam_trainer *tr, int l) { return tr->owner[l]; }

void occam_trainer_phases(const occam_trainer *tr, double sec[OCCAM_PHASES])
{
    memcpy(sec, tr->phase, sizeof tr->phase);
}

double occam_trainer_comm_seconds(const occam_trainer *tr) { return tr->comm_sec; }

void occam_trainer_free(occam_trainer *tr)
{
    if (!tr) return;
    free(tr->x);
    for (int l = 0; l < OCCAM_MAX_LAYERS; l++) {
        free(tr->act[l]);
        free(tr->dz[l]);
    }
    free(tr->label);
    free(tr->target);
    if (tr->partial)
        for (int t = 0; t < tr->threads; t++) free(tr->partial[t]);
    free(tr->partial);
    free(tr->grad);
    free(tr->mom1);
    free(tr->mom2);
    free(tr->out);
    free(tr->all_rng);
    free(tr->rng_bytes);
    free(tr->world_groups);
    free(tr->kernels);
    noisy_state_free(tr->noise);
    if (tr->replica)
        for (int g = 1; g < tr->plan.nodes; g++) free(tr->replica[g]);
    free(tr->replica);
    occam_reduce_plan_free(&tr->plan);
    free(tr);
}

/* The per-layer choice of gradient path (see the cost model at the top of this file). */
static bool choose_owner(occam_grad mode, int threads, int ranks, int batch, int l, int in,
                         int out)
{
    if (mode == OCCAM_GRAD_OWNER) return true;
    if (mode == OCCAM_GRAD_SHARD) return false;
    if (ranks > 1) /* the network's bytes decide */
        return (double)batch * ((l > 0 ? in : 0) + out) < (double)in * out + out;
    if (threads == 1) return true;
    return (double)batch * (in + out) < 2.0 * in * out;
}

/* Rows [*lo, *hi) of n that thread t of this rank takes: this rank's share, split among its
 * threads. For a batch's rows and for an owner layer's output rows alike. */
static void thread_rows(const occam_trainer *tr, size_t n, int t, size_t *lo, size_t *hi)
{
    size_t rlo, rhi;
    occam_comm_share(tr->comm, n, tr->rank, &rlo, &rhi);
    occam_team_split_rows(rhi - rlo, t, tr->threads, lo, hi);
    *lo += rlo;
    *hi += rlo;
}

/* Zeroes rows [lo, hi) of a rows × w array: the first touch that places them near thread t. */
static void touch(float *a, size_t lo, size_t hi, int w)
{
    memset(a + lo * (size_t)w, 0, (hi - lo) * (size_t)w * sizeof(float));
}

/* The weights thread t reads: its NUMA group's copy under runtime.weights = replicate. */
static const float *weights_of(const occam_trainer *tr, int t)
{
    return tr->replica ? tr->replica[tr->plan.node_of[t]] : tr->model->params;
}

/* Copies the master weights into thread t's group copy, split among the group's members. */
static void refresh_replica(occam_trainer *tr, int t)
{
    int g = tr->plan.node_of[t];
    if (g == 0) return;
    size_t lo, hi;
    occam_team_split_aligned(tr->model->lay.nparams, OCCAM_SEG_ALIGN, tr->plan.rank[t],
                        tr->plan.node_size[g], &lo, &hi);
    memcpy(tr->replica[g] + lo, tr->model->params + lo, (hi - lo) * sizeof(float));
}

/* Worker of the creating team (bound by the runner first): each thread touches the rows and the
 * partial gradient it will own, so their pages land on its NUMA node. */
static void first_touch(void *ctx, int t, int nt)
{
    (void)nt;
    occam_trainer *tr = ctx;
    const occam_layout *lay = &tr->model->lay;
    if (tr->replica) refresh_replica(tr, t); /* first touch of the group's copy */
    size_t lo, hi;
    occam_team_split_rows(tr->rows, t, tr->threads, &lo, &hi);
    touch(tr->x, lo, hi, lay->width[0]);
    for (int l = 0; l < lay->nlayers; l++) {
        touch(tr->act[l], lo, hi, lay->width[l + 1]);
        touch(tr->dz[l], lo, hi, lay->width[l + 1]);
    }
    tr->partial[t] = occam_alloc_zero(lay->nparams * (tr->noise ? 2 : 1), sizeof(float));
    if (!tr->partial[t]) {
#pragma omp atomic write
        tr->ok = 0;
    }
}

/* The shard-path segments and each layer's path, from the current layout. */
static void plan_paths(occam_trainer *tr, occam_grad mode, int batch)
{
    const occam_layout *lay = &tr->model->lay;
    tr->nranges = 0;
    for (int l = 0; l < lay->nlayers; l++) {
        tr->owner[l] = !tr->noise && choose_owner(mode, tr->threads, tr->ranks, batch, l,
                                                  lay->width[l], lay->width[l + 1]);
        if (!tr->owner[l]) {
            size_t w = (size_t)lay->width[l] * lay->width[l + 1];
            tr->ranges[tr->nranges++] = (occam_range){lay->w_off[l], w, RANGE_WEIGHTS};
            tr->ranges[tr->nranges++] = (occam_range){lay->b_off[l], (size_t)lay->width[l + 1],
                                                      RANGE_BIASES};
            /* noisy weights read the second halves of the parts through their weights'
             * range: a NUMA-hierarchical reduction must sum those into the group leaders too */
            if (tr->noise && tr->plan.nodes > 1)
                tr->ranges[tr->nranges++] =
                    (occam_range){lay->nparams + lay->w_off[l], w, RANGE_NOISY_SECOND};
        }
    }
}

/* The other NUMA groups' copies of the weights, from the master (between steps). */
static void copy_replicas(occam_trainer *tr)
{
    const occam_model *m = tr->model;
    for (int g = 1; tr->replica && g < tr->plan.nodes; g++)
        memcpy(tr->replica[g], m->params, m->lay.nparams * sizeof(float));
}

static void gather_parts(occam_trainer *tr, float *a, const occam_layout *lay);

/* Every rank's part of the moments (in layout lay), onto every rank. */
static void gather_moments(occam_trainer *tr, const occam_layout *lay)
{
    if (tr->ranks <= 1) return;
    gather_parts(tr, tr->mom1, lay);
    if (tr->mom2) gather_parts(tr, tr->mom2, lay);
}

void occam_trainer_gather_state(occam_trainer *tr)
{
    if (tr->ranks <= 1) return;
    gather_moments(tr, &tr->model->lay);
    if (tr->noise)
        occam_comm_allgatherv_bytes(tr->comm, tr->noise->rng, tr->all_rng, tr->rng_bytes);
}

void occam_trainer_relayout(occam_trainer *tr, const occam_layout *old,
                            const uint8_t *const *keep)
{
    gather_moments(tr, old); /* the moments are compacted whole */
    occam_layout_compact(tr->mom1, sizeof(float), old, &tr->model->lay, keep);
    if (tr->mom2) occam_layout_compact(tr->mom2, sizeof(float), old, &tr->model->lay, keep);
    plan_paths(tr, tr->p.grad, tr->p.batch);
    copy_replicas(tr); /* the layout changed under them */
}

void occam_trainer_replan(occam_trainer *tr)
{
    /* noisy weights cache per-weight state in the old layout; neuron pruning never has them */
    OCCAM_ASSERT(!tr->noise);
    plan_paths(tr, tr->p.grad, tr->p.batch);
    copy_replicas(tr);
}

void occam_trainer_reset_optim(occam_trainer *tr)
{
    size_t n = tr->model->lay.nparams;
    memset(tr->mom1, 0, n * sizeof(float));
    if (tr->mom2) memset(tr->mom2, 0, n * sizeof(float));
    tr->opt.t = 0;
}

void occam_trainer_apply_mask(occam_trainer *tr)
{
    const occam_model *m = tr->model;
    if (!m->mask) return;
    for (size_t i = 0; i < m->lay.nparams; i++)
        if (!m->mask[i]) {
            m->params[i] = 0.0f;
            tr->mom1[i] = 0.0f;
            if (tr->mom2) tr->mom2[i] = 0.0f;
        }
    if (tr->noise) noisy_apply_mask(tr->noise, m);
    copy_replicas(tr); /* or the next step's other groups would run the unpruned weights */
}

void occam_trainer_begin_epoch(occam_trainer *tr, int epoch, const occam_dataset *train)
{
    if (!tr->noise) return;
    const occam_noise_params *np = &tr->p.noise;
    if (np->rebalance && occam_noise_one_prior(np) && tr->model->act == OCCAM_ACT_RELU &&
        epoch > np->warmup_epochs) {
        noisy_rebalance(tr->model, tr->mom1, tr->mom2);
        copy_replicas(tr);
    }
    noisy_begin_epoch(tr->noise, tr->model, &tr->p.noise, epoch, train, tr->opt.t,
                      tr->threads);
    if (tr->comm && tr->noise->regress) {
        /* rank 0's γ table for every rank (the others no longer make one): each made its own,
         * by BLIS, and ranks on other kernels (said at start-up) differed in its last bits,
         * then in σ_y's steps */
        occam_comm_bcast(tr->comm, tr->noise->terms, sizeof tr->noise->terms, 0);
        noisy_terms_load(tr->noise);
    }
    if (tr->noise->masked) occam_trainer_apply_mask(tr); /* the sparse prior dropped weights */
}

double occam_trainer_noise_level(const occam_trainer *tr)
{
    return tr->noise && tr->noise->regress ? exp((double)tr->noise->level[0]) : 0.0;
}

void occam_trainer_state_view(occam_trainer *tr, occam_trainer_state *s)
{
    *s = (occam_trainer_state){.mom1 = tr->mom1, .mom2 = tr->mom2, .threads = tr->streams,
                               .opt_t = &tr->opt.t};
    if (!tr->noise) return;
    s->mom1_rho = tr->noise->mom1r;
    s->mom2_rho = tr->noise->mom2r;
    s->curvature = !tr->noise->var_grad;
    s->noise_rng = tr->all_rng ? tr->all_rng : tr->noise->rng;
    s->prior = tr->noise->prior;
    s->kappa = &tr->noise->kappa;
    s->noise_level = tr->noise->regress ? tr->noise->level : NULL;
    s->noise_terms = tr->noise->regress ? tr->noise->terms : NULL;
}

void occam_trainer_sync(occam_trainer *tr)
{
    if (tr->all_rng) /* this rank's streams, from the whole run's */
        memcpy(tr->noise->rng, tr->all_rng + tr->stream0,
               sizeof(occam_rng) * (size_t)tr->threads);
    if (tr->noise) noisy_sync(tr->noise, tr->model);
    copy_replicas(tr);
}

const occam_prior *occam_trainer_prior(const occam_trainer *tr, int l)
{
    return tr->noise ? &tr->noise->prior[l] : NULL;
}

static int trainer_oom(int threads, int batch, occam_error *err)
{
    return occam_error_set(err, OCCAM_ERR_RUNTIME,
                           "out of memory for %d threads' buffers (batch %d)", threads, batch);
}

/* The rows the batch buffers hold: a step's, or an evaluation chunk per thread. */
static size_t trainer_rows(int batch, int threads)
{
    size_t b = (size_t)batch, eval = (size_t)threads * EVAL_ROWS;
    return b > eval ? b : eval;
}

double occam_trainer_bytes(const occam_layout *lay, occam_trainer_params p, int threads)
{
    double rows = (double)trainer_rows(p.batch, threads), P = (double)lay->nparams, units = 0;
    int L = lay->nlayers, maxw = lay->width[0];
    for (int l = 1; l <= L; l++) {
        units += lay->width[l];
        maxw = lay->width[l] > maxw ? lay->width[l] : maxw;
    }
    bool noise = p.noise.enabled, adam = p.optim.optimizer == OCCAM_OPT_ADAM;
    /* x, act and dz; labels and targets */
    double f = rows * (lay->width[0] + 2 * units + 1 + lay->width[L]);
    /* the gradient and each thread's partial (θ and ρ when noisy); momentum, Adam's second */
    f += P * (noise ? 2 : 1) * (1.0 + threads) + P * (adam ? 2 : 1);
    /* σ, dσ, var and ρ's moments; the squares' row buffer, ε and the sampled sd per layer */
    if (noise) f += P * (adam ? 5 : 4) + rows * (maxw + 2 * units);
    /* a noisy regression net's Gauss–Newton scratch (noisy_state_create's condition) */
    bool gn = noise && p.regress && !occam_noise_samples(&p.noise) &&
              p.noise.prior == OCCAM_PRIOR_GAUSSIAN;
    return f * sizeof(float) + (gn ? noisy_dof_bytes(lay, p.rows) : 0.0);
}

int occam_trainer_create(occam_trainer **out, occam_model *model, occam_trainer_params p,
                         int threads, const occam_affinity *pl, occam_error *err)
{
    OCCAM_ASSERT(threads >= 1);
    *out = NULL;
    occam_gemm_init(); /* before any team starts */
    occam_trainer *tr = calloc(1, sizeof *tr);
    if (!tr) return occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory for the trainer");
    const occam_layout *lay = &model->lay;
    tr->model = model;
    tr->threads = threads;
    tr->p = p;
    tr->comm = p.comm && p.comm->size > 1 ? p.comm : NULL;
    tr->rank = tr->comm ? tr->comm->rank : 0;
    tr->ranks = tr->comm ? tr->comm->size : 1;
    tr->stream0 = 0;
    tr->streams = threads;
    if (tr->comm) {
        /* First, before anything that can fail on one rank only: the ranks' thread counts
         * (they may differ when a host's cores do not divide evenly), which place each rank's
         * noise streams among the world's. */
        int counts[tr->ranks];
        occam_comm_allgather_bytes(tr->comm, &threads, counts, sizeof threads);
        tr->rng_bytes = calloc((size_t)tr->ranks, sizeof *tr->rng_bytes);
        tr->streams = 0;
        for (int r = 0; r < tr->ranks; r++) {
            if (r == tr->rank) tr->stream0 = tr->streams;
            tr->streams += counts[r];
            if (tr->rng_bytes) tr->rng_bytes[r] = sizeof(occam_rng) * (size_t)counts[r];
        }
        tr->kernels = rank_kernels(tr);
    }
    occam_optim_init(&tr->opt, &p.optim);
    tr->rows = trainer_rows(p.batch, threads);
    int L = lay->nlayers, outw = lay->width[L];
    /* Past the memory this process may fill, each allocation below still succeeded (Linux
     * overcommits) and touching them got the process killed, with no message: a batch of 4,096
     * rows through a hidden layer of 10^6 units is 16 GB a buffer. Nothing is allocated then;
     * the ranks still meet in the collectives below. */
    double need = occam_trainer_bytes(lay, p, threads), avail = (double)occam_mem_available();
    bool fits = need <= avail;
    int ok = fits;
    tr->x = fits ? occam_alloc(tr->rows * (size_t)lay->width[0], sizeof(float)) : NULL;
    ok &= tr->x != NULL;
    for (int l = 0; ok && l < L; l++) {
        tr->act[l] = occam_alloc(tr->rows * (size_t)lay->width[l + 1], sizeof(float));
        tr->dz[l] = occam_alloc(tr->rows * (size_t)lay->width[l + 1], sizeof(float));
        ok &= tr->act[l] && tr->dz[l];
    }
    if (p.noise.enabled && p.noise.prior == OCCAM_PRIOR_SPARSE && ok) /* it masks weights */
        ok = occam_model_mask_enable(model, NULL) == OCCAM_OK;
    if (p.noise.enabled && ok) {
        tr->noise = noisy_state_create(model, &p.noise, p.optim.optimizer == OCCAM_OPT_ADAM,
                                       tr->rows, p.rows, threads, tr->stream0);
        ok = tr->noise != NULL;
        if (ok) tr->noise->borrow_table = tr->ranks > 1 && tr->rank != 0; /* begin_epoch's */
        if (ok && tr->ranks > 1) {
            tr->all_rng = calloc((size_t)tr->streams, sizeof *tr->all_rng);
            ok = tr->all_rng != NULL && tr->rng_bytes != NULL;
        }
    }
    ok &= !tr->comm || tr->rng_bytes != NULL; /* each rank's thread count, for checkpoints */
    ok &= !tr->comm || tr->kernels != NULL;   /* and kernel set */
    if (ok) {
        tr->label = occam_alloc_zero(tr->rows, sizeof(int32_t));
        tr->target = occam_alloc_zero(tr->rows * (size_t)outw, sizeof(float));
        tr->grad = occam_alloc_zero(lay->nparams * (tr->noise ? 2 : 1), sizeof(float));
        tr->mom1 = occam_alloc_zero(lay->nparams, sizeof(float));
        tr->mom2 = p.optim.optimizer == OCCAM_OPT_ADAM
                       ? occam_alloc_zero(lay->nparams, sizeof(float)) : NULL;
        tr->partial = calloc((size_t)threads, sizeof *tr->partial);
        tr->out = occam_alloc_zero((size_t)threads, sizeof(thread_out));
        ok &= tr->label && tr->target && tr->grad && tr->mom1 && tr->partial && tr->out &&
              (p.optim.optimizer != OCCAM_OPT_ADAM || tr->mom2);
    }
    if (pl) tr->pl = *pl;
    int rc = ok      ? occam_reduce_plan_init(&tr->plan, threads, tr->pl.node_of, err)
             : fits  ? trainer_oom(threads, p.batch, err)
                     : occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory: the trainer of "
                                       "this model (%zu parameters, batch %d, %d thread%s) needs "
                                       "at least %.1f GiB, %.1f GiB available; use a smaller "
                                       "model.layers or train.batch, or fewer threads "
                                       "(--threads)", lay->nparams, p.batch, threads,
                                       threads == 1 ? "" : "s",
                                       need / (1 << 30), avail / (1 << 30));
    if (rc == OCCAM_OK) plan_paths(tr, p.grad, p.batch); /* after the plan: its node count */
    if (tr->comm) {
        gather_groupings(tr, rc == OCCAM_OK);
        ok &= tr->world_groups != NULL; /* for checkpoints */
    }
    if (rc == OCCAM_OK && p.weights == OCCAM_WEIGHTS_REPLICATE && tr->plan.nodes > 1) {
        tr->replica = calloc((size_t)tr->plan.nodes, sizeof *tr->replica);
        ok &= tr->replica != NULL;
        for (int g = 1; ok && g < tr->plan.nodes; g++) {
            tr->replica[g] = occam_alloc(lay->nparams, sizeof(float));
            ok &= tr->replica[g] != NULL;
        }
        if (ok) tr->replica[0] = model->params;
    }
    if (rc == OCCAM_OK && ok) rc = occam_gemm_prepare(threads, err);
    if (rc == OCCAM_OK && ok) {
        /* The one team size check: later teams of this trainer are the same size, started
         * from the same (non-parallel) caller. */
        tr->ok = 1;
        rc = occam_team_run(threads, &tr->pl, first_touch, tr, err);
        ok = tr->ok;
    }
    if (!ok || rc != OCCAM_OK) {
        occam_trainer_free(tr);
        return rc != OCCAM_OK ? rc : trainer_oom(threads, p.batch, err);
    }
    *out = tr;
    return OCCAM_OK;
}

/* Copies rows idx[0..m) of ds into batch rows [lo, lo + m). */
static void gather(occam_trainer *tr, const occam_dataset *ds, const uint32_t *idx, size_t lo,
                   size_t m)
{
    size_t d = ds->d, k = (size_t)ds->targets;
    for (size_t i = 0; i < m; i++) {
        size_t r = idx[i];
        memcpy(tr->x + (lo + i) * d, ds->x + r * d, d * sizeof(float));
        if (ds->label) tr->label[lo + i] = ds->label[r];
        if (ds->y) memcpy(tr->target + (lo + i) * k, ds->y + r * k, k * sizeof(float));
    }
}

/* Forward pass of batch rows [lo, lo + m), reading inputs from x (row stride width[0]). */
static void forward(occam_trainer *tr, const float *params, const float *x, size_t lo, int m)
{
    const occam_layout *lay = &tr->model->lay;
    float *out[OCCAM_MAX_LAYERS];
    for (int l = 0; l < lay->nlayers; l++) out[l] = tr->act[l] + lo * (size_t)lay->width[l + 1];
    occam_model_forward_rows(lay, tr->model->act, params, x, m, out);
}

/* Loss of batch rows [lo, lo + m) against label/target (indexed from lo), into out. With
 * scale != 0 the output-layer gradient (times scale) goes to dz[L-1]. */
static void loss(occam_trainer *tr, thread_out *o, const int32_t *label, const float *target,
                 size_t lo, int m, float scale)
{
    const occam_model *mdl = tr->model;
    int L = mdl->lay.nlayers, nout = mdl->lay.width[L];
    const float *z = tr->act[L - 1] + lo * (size_t)nout;
    float *dz = scale != 0.0f ? tr->dz[L - 1] + lo * (size_t)nout : NULL;
    if (mdl->task == OCCAM_TASK_CLASSIFY)
        occam_softmax_xent(dz, z, label, m, nout, scale, &o->loss, &o->correct);
    else
        occam_mse(dz, z, target, m, nout, scale, &o->loss);
}

/* Backward pass for thread t, whose rows are [lo, lo + m) of a batch of `batch` rows. */
static void backward(occam_trainer *tr, int t, size_t lo, int m, int batch)
{
    const occam_model *mdl = tr->model;
    const occam_layout *lay = &mdl->lay;
    float *part = tr->partial[t];
    for (int l = lay->nlayers - 1; l >= 0; l--) {
        int nin = lay->width[l], nout = lay->width[l + 1];
        const float *in = l > 0 ? tr->act[l - 1] : tr->x;
        const float *dz = tr->dz[l];
        if (tr->owner[l]) {
            /* Every thread's dZ rows of this layer must be complete: on this rank, then on
             * every rank (with the layer's input rows; the input layer's are gathered from
             * the data set by shard_forward). */
#pragma omp barrier
            if (tr->ranks > 1) {
                if (t == 0) {
                    double c0 = occam_clock_now();
                    occam_comm_allgather_rows(tr->comm, tr->dz[l], (size_t)batch, (size_t)nout);
                    if (l > 0)
                        occam_comm_allgather_rows(tr->comm, tr->act[l - 1], (size_t)batch,
                                                  (size_t)nin);
                    tr->comm_sec += occam_clock_now() - c0;
                }
#pragma omp barrier
            }
            size_t olo, ohi;
            thread_rows(tr, (size_t)nout, t, &olo, &ohi);
            int mo = (int)(ohi - olo);
            if (mo > 0) {
                /* dW[olo:ohi] (mo,in) = dZ[:, olo:ohi]ᵀ (mo,batch) · X (batch,in) */
                occam_gemm(true, false, mo, nin, batch, 1.0f, dz + olo, nout, in, nin, 0.0f,
                           tr->grad + lay->w_off[l] + olo * (size_t)nin, nin);
                occam_bias_backward(tr->grad + lay->b_off[l] + olo, dz + olo, batch, mo, nout);
            }
        } else if (m > 0) {
            /* dW (out,in) = dZᵀ (out,m) · X (m,in) over this thread's rows */
            occam_gemm(true, false, nout, nin, m, 1.0f, dz + lo * (size_t)nout, nout,
                       in + lo * (size_t)nin, nin, 0.0f, part + lay->w_off[l], nin);
            occam_bias_backward(part + lay->b_off[l], dz + lo * (size_t)nout, m, nout, nout);
        } else {
            memset(part + lay->w_off[l], 0, sizeof(float) * (size_t)nin * nout);
            memset(part + lay->b_off[l], 0, sizeof(float) * (size_t)nout);
        }
        if (l == 0 || m == 0) continue; /* the input layer needs no dX */
        /* dA (m,in) = dZ (m,out) · W (out,in), then dZ of the layer below in place */
        float *da = tr->dz[l - 1] + lo * (size_t)nin;
        occam_gemm(false, false, m, nin, nout, 1.0f, dz + lo * (size_t)nout, nout,
                   weights_of(tr, t) + lay->w_off[l], nin, 0.0f, da, nin);
        occam_act_backward(da, tr->act[l - 1] + lo * (size_t)nin, m, nin, mdl->act);
    }
}

static void apply_update(void *ctx, int tag, const float *const *parts, int nparts, size_t off,
                         size_t len)
{
    occam_trainer *tr = ctx;
    occam_optim_update(&tr->opt, tr->model->params, tr->mom1, tr->mom2, parts, nparts, off, len,
                       tag == 1, tr->model->mask);
}

/* Noisy weights: biases are plain parameters, weights take noisy_update. */
static void apply_noisy(void *ctx, int tag, const float *const *parts, int nparts, size_t off,
                        size_t len)
{
    occam_trainer *tr = ctx;
    if (tag == RANGE_NOISY_SECOND) return;
    if (tag == 0)
        apply_update(ctx, tag, parts, nparts, off, len);
    else
        noisy_update(tr->model, tr->mom1, tr->mom2, tr->noise, &tr->opt, parts, nparts, off, len);
}

/* The reduction's apply under several ranks: the rank's sum of its threads' partials, into
 * grad (and, for noisy weights, the second halves into grad's second half). */
/* dst[off .. off + len) = Σ parts[u][off ..] in part order. */
static void sum_parts(float *dst, const float *const *parts, int nparts, size_t off, size_t len)
{
    for (size_t i = off; i < off + len; i++) {
        float v = parts[0][i];
        for (int u = 1; u < nparts; u++) v += parts[u][i];
        dst[i] = v;
    }
}

static void sum_into_grad(void *ctx, int tag, const float *const *parts, int nparts,
                          size_t off, size_t len)
{
    occam_trainer *tr = ctx;
    if (tag == RANGE_NOISY_SECOND) return; /* copied with its weights' range */
    sum_parts(tr->grad, parts, nparts, off, len);
    if (tr->noise && tag == RANGE_WEIGHTS)
        sum_parts(tr->grad, parts, nparts, tr->model->lay.nparams + off, len);
}

/* After the step's last barrier: owner layers update the rows their thread computed; shard
 * layers are reduced and updated slice by slice. */
static void update(occam_trainer *tr, int t, occam_reduce_apply apply, void *ctx)
{
    const occam_layout *lay = &tr->model->lay;
    const float *gp[1] = {tr->grad};
    for (int l = 0; l < lay->nlayers; l++) {
        if (!tr->owner[l]) continue;
        int nin = lay->width[l];
        size_t olo, ohi;
        thread_rows(tr, (size_t)lay->width[l + 1], t, &olo, &ohi);
        if (ohi == olo) continue;
        apply(ctx, 1, gp, 1, lay->w_off[l] + olo * (size_t)nin, (ohi - olo) * (size_t)nin);
        apply(ctx, 0, gp, 1, lay->b_off[l] + olo, ohi - olo);
    }
    if (tr->ranks == 1) {
        occam_reduce_run(&tr->plan, t, tr->partial, tr->ranges, tr->nranges, apply, ctx);
        return;
    }
    /* Ranks: the rank's sum of its threads' partials into grad, then the ranks' sums: a
     * reduce-scatter, each rank updating only its share of every range and the shares
     * allgathered after the update (gather_updated), so no rank repeats another's update.
     * Noisy weights keep an allreduce and update everything on every rank: their σ caches,
     * curvature and per-epoch fixed point read every weight. */
    /* One thread: its partial is the rank's sum already. */
    float *red = tr->threads == 1 ? tr->partial[0] : tr->grad;
    const float *rp[1] = {red};
    if (tr->threads > 1)
        occam_reduce_run(&tr->plan, t, tr->partial, tr->ranges, tr->nranges, sum_into_grad, tr);
#pragma omp barrier
    size_t np = lay->nparams;
    if (t == 0) {
        double c0 = occam_clock_now();
        for (int i = 0; i < tr->nranges; i++) {
            const occam_range *r = &tr->ranges[i];
            if (r->tag == RANGE_NOISY_SECOND) continue;
            if (!tr->noise) {
                occam_comm_reduce_scatter_sum(tr->comm, red + r->off, r->len);
                continue;
            }
            occam_comm_allreduce_sum(tr->comm, red + r->off, r->len);
            if (r->tag == 1) occam_comm_allreduce_sum(tr->comm, red + np + r->off, r->len);
        }
        tr->comm_sec += occam_clock_now() - c0;
    }
#pragma omp barrier
    for (int i = 0; i < tr->nranges; i++) {
        const occam_range *r = &tr->ranges[i];
        if (r->tag == RANGE_NOISY_SECOND) continue;
        size_t slo = 0, shi = r->len, lo, hi;
        if (!tr->noise) occam_comm_share(tr->comm, r->len, tr->rank, &slo, &shi);
        occam_team_split_aligned(shi - slo, OCCAM_SEG_ALIGN, t, tr->threads, &lo, &hi);
        if (hi > lo) apply(ctx, r->tag, rp, 1, r->off + slo + lo, hi - lo);
    }
}

/* Every rank's part of `a` (a flat parameter-shaped array, in layout lay), onto every rank: the
 * owner layers' rows, and (without noise) the shard ranges' shares. */
static void gather_parts(occam_trainer *tr, float *a, const occam_layout *lay)
{
    for (int l = 0; l < lay->nlayers; l++) {
        size_t nout = (size_t)lay->width[l + 1], nin = (size_t)lay->width[l];
        if (tr->owner[l]) {
            occam_comm_allgather_rows(tr->comm, a + lay->w_off[l], nout, nin);
            occam_comm_allgather_rows(tr->comm, a + lay->b_off[l], nout, 1);
        } else if (!tr->noise) {
            occam_comm_allgather_rows(tr->comm, a + lay->w_off[l], nout * nin, 1);
            occam_comm_allgather_rows(tr->comm, a + lay->b_off[l], nout, 1);
        }
    }
}

/* After every rank's update: the parts other ranks updated (owner rows, shard shares). Thread
 * 0 calls MPI; the barriers around it order it after every thread's update and before any
 * thread reads the weights again. */
static void gather_updated(occam_trainer *tr, int t)
{
    const occam_layout *lay = &tr->model->lay;
    bool any = !tr->noise;
    for (int l = 0; l < lay->nlayers; l++) any |= tr->owner[l];
    if (tr->ranks == 1 || !any) return;
#pragma omp barrier
    if (t == 0) {
        double c0 = occam_clock_now();
        gather_parts(tr, tr->model->params, lay);
        tr->comm_sec += occam_clock_now() - c0;
    }
#pragma omp barrier
}

/* The stages before the step's barrier, for thread t's shard of idx[0..nrows): gather →
 * forward (layer by layer) → loss → backward (from the top layer). Noisy weights take their
 * own forward and backward (noisy.c); the loss is the same. */
/* Stage 1 on thread t: gather its shard of the batch's rows, the forward pass, the loss. */
static void shard_forward(occam_trainer *tr, int t, const occam_dataset *ds, const uint32_t *idx,
                          size_t nrows)
{
    size_t lo, hi;
    thread_rows(tr, nrows, t, &lo, &hi);
    int m = (int)(hi - lo);
    thread_out *o = &tr->out[t];
    o->loss = 0.0;
    o->correct = 0;
    if (tr->ranks > 1 && tr->owner[0]) {
        /* the input layer's owner path multiplies over every rank's rows: the other ranks'
         * rows come from the data set (every rank holds it) instead of over the network, split
         * among this rank's threads; i < rlo are the rows before this rank's, the rest after */
        size_t rlo, rhi, olo, ohi;
        occam_comm_share(tr->comm, nrows, tr->rank, &rlo, &rhi);
        occam_team_split_rows(nrows - (rhi - rlo), t, tr->threads, &olo, &ohi);
        if (olo < rlo) gather(tr, ds, idx + olo, olo, (ohi < rlo ? ohi : rlo) - olo);
        size_t alo = olo > rlo ? olo : rlo;
        if (ohi > rlo) gather(tr, ds, idx + alo + (rhi - rlo), alo + (rhi - rlo), ohi - alo);
    }
    if (m == 0) return;
    gather(tr, ds, idx + lo, lo, (size_t)m);
    if (tr->noise && tr->noise->sample)
        noisy_forward(tr->act, tr->noise, tr->x + lo * ds->d, tr->model, t, lo, m);
    else
        forward(tr, weights_of(tr, t), tr->x + lo * ds->d, lo, m);
    loss(tr, o, tr->label + lo, tr->target + lo * (size_t)ds->targets, lo, m,
         1.0f / (float)nrows);
}

/* Stage 2 on thread t: the backward pass of its shard (owner-path layers over the whole batch,
 * with their own barriers, so every thread calls it even with no rows). */
static void shard_backward(occam_trainer *tr, int t, size_t nrows)
{
    size_t lo, hi;
    thread_rows(tr, nrows, t, &lo, &hi);
    int m = (int)(hi - lo);
    if (tr->noise && tr->noise->sample) {
        noisy_backward(tr->partial[t], tr->dz, tr->noise, tr->act, tr->x, tr->model, lo, m);
    } else {
        backward(tr, t, lo, m, (int)nrows);
        if (tr->noise) /* the expansion's curvature, into the second half */
            noisy_curvature(tr->partial[t] + tr->model->lay.nparams, tr->dz, tr->noise, tr->act,
                            tr->x, tr->model, lo, m);
    }
}

/* The threads' and then the ranks' losses and hits (outside a team: MPI from the main thread). */
static void collect(const occam_trainer *tr, double *loss_sum, int64_t *correct)
{
    /* Thread order, then rank order: the same sum every run. */
    double l = 0.0;
    int64_t c = 0;
    for (int t = 0; t < tr->threads; t++) {
        l += tr->out[t].loss;
        c += tr->out[t].correct;
    }
    occam_comm_sum_ordered(tr->comm, &l, 1);
    *loss_sum += l;
    *correct += occam_comm_sum_i64(tr->comm, c);
}

/* Runs fn on the trainer's team. Its size was checked when the trainer was created; a short
 * team now means the trainer was driven from inside another parallel region: a programmer
 * error, so it aborts with the runner's message. */
static void run_team(occam_trainer *tr, occam_team_fn fn, void *ctx)
{
    occam_error err; /* written on failure only: not cleared on every step */
    if (occam_team_run(tr->threads, NULL, fn, ctx, &err) != OCCAM_OK) {
        fprintf(stderr, "occam: internal error: %s\n", err.msg);
        OCCAM_ASSERT(!"the trainer's team came out short");
    }
}

/* What a step's, gradient's or evaluation's workers share. */
typedef struct pass {
    occam_trainer *tr;
    const occam_dataset *ds;
    const uint32_t *idx;
    size_t nrows;
    double *stamp;           /* step: thread 0's clock at the start of each phase, and the end */
    void *apply_ctx;         /* gradient: where the reduced gradient goes */
} pass;

/* One step, on thread t: forward, backward, one barrier, then its slice of the reduction with
 * the optimiser update fused in. Thread 0 stamps the start of every phase. */
static void step_worker(void *ctx, int t, int nt)
{
    (void)nt;
    const pass *ps = ctx;
    occam_trainer *tr = ps->tr;
    double *st = t == 0 ? ps->stamp : NULL;
    if (st) st[OCCAM_PHASE_FORWARD] = occam_clock_now();
    shard_forward(tr, t, ps->ds, ps->idx, ps->nrows);
    if (st) st[OCCAM_PHASE_BACKWARD] = occam_clock_now();
    shard_backward(tr, t, ps->nrows);
    if (st) st[OCCAM_PHASE_WAIT] = occam_clock_now();
#pragma omp barrier
    if (st) st[OCCAM_PHASE_UPDATE] = occam_clock_now();
    update(tr, t, tr->noise ? apply_noisy : apply_update, tr);
    gather_updated(tr, t);
    if (tr->replica) {
#pragma omp barrier
        refresh_replica(tr, t);
    }
    if (st) st[OCCAM_PHASES] = occam_clock_now();
}

void occam_trainer_step(occam_trainer *tr, const occam_dataset *ds, const uint32_t *idx,
                        size_t nrows, double *loss_sum, int64_t *correct)
{
    OCCAM_ASSERT(nrows >= 1 && nrows <= tr->rows);
    double stamp[OCCAM_PHASES + 1];
    pass ps = {.tr = tr, .ds = ds, .idx = idx, .nrows = nrows, .stamp = stamp};
    if (tr->noise) tr->noise->batch = (int)nrows;
    run_team(tr, step_worker, &ps);
    for (int p = 0; p < OCCAM_PHASES; p++) tr->phase[p] += stamp[p + 1] - stamp[p];
    double sum = 0.0;
    collect(tr, &sum, correct);
    if (tr->noise)
        noisy_level_step(tr->noise, &tr->opt, sum, nrows * (size_t)ds->targets);
    tr->opt.t++;
    *loss_sum += sum;
}

typedef struct grad_out {
    float *grad;
    const occam_trainer *tr;
} grad_out;

static void apply_copy(void *ctx, int tag, const float *const *parts, int nparts, size_t off,
                       size_t len)
{
    const grad_out *go = ctx;
    if (tag == RANGE_NOISY_SECOND) return; /* read through its weights' range below */
    sum_parts(go->grad, parts, nparts, off, len);
    if (!go->tr->noise || !go->tr->noise->sample || tag != 1) return;
    /* noisy weights: dρ into the second half */
    size_t np = go->tr->model->lay.nparams;
    noisy_rho_grad(go->grad + np, parts, go->tr->model->rho, nparts, np, off, len);
}

/* A step whose update only writes the reduced gradient out: the parameters do not change. */
static void gradient_worker(void *ctx, int t, int nt)
{
    (void)nt;
    const pass *ps = ctx;
    shard_forward(ps->tr, t, ps->ds, ps->idx, ps->nrows);
    shard_backward(ps->tr, t, ps->nrows);
#pragma omp barrier
    update(ps->tr, t, apply_copy, ps->apply_ctx);
}

void occam_trainer_gradient(occam_trainer *tr, const occam_dataset *ds, const uint32_t *idx,
                            size_t nrows, float *grad, double *loss_sum)
{
    OCCAM_ASSERT(nrows >= 1 && nrows <= tr->rows);
    memset(grad, 0, tr->model->lay.nparams * (tr->noise ? 2 : 1) * sizeof(float));
    grad_out go = {grad, tr};
    pass ps = {.tr = tr, .ds = ds, .idx = idx, .nrows = nrows, .apply_ctx = &go};
    bool var_grad = tr->noise && tr->noise->var_grad;
    if (tr->noise) tr->noise->var_grad = true; /* sampled: the second half is the ρ gradient */
    run_team(tr, gradient_worker, &ps);
    if (tr->noise) tr->noise->var_grad = var_grad;
    /* The ranks' parts of the gradient: owner rows, and shard shares (noisy weights'
     * shard layers were allreduced whole inside the team). */
    if (tr->ranks > 1) gather_parts(tr, grad, &tr->model->lay);
    int64_t correct = 0;
    collect(tr, loss_sum, &correct);
}

/* Evaluation's squared error with standardised targets, in their original units:
 * Σ (scale[j]·(z − t))² over the block's rows, z the outputs (standardised units). */
static void eval_sse_original(const occam_trainer *tr, thread_out *o, const float *target,
                              const double *scale, size_t lo, int m)
{
    int L = tr->model->lay.nlayers, k = tr->model->lay.width[L];
    const float *z = tr->act[L - 1] + lo * (size_t)k;
    double s = 0.0;
    for (int i = 0; i < m; i++)
        for (int j = 0; j < k; j++) {
            float r = z[(size_t)i * k + j] - target[(size_t)i * k + j];
            double d = (double)r * scale[j];
            s += d * d;
        }
    o->loss += s;
}

/* Evaluation on thread t: its contiguous share of this rank's share of the dataset's rows, in
 * blocks of its share of the batch buffers. */
static void eval_worker(void *ctx, int t, int nt)
{
    const pass *ps = ctx;
    occam_trainer *tr = ps->tr;
    const occam_dataset *ds = ps->ds;
    thread_out *o = &tr->out[t];
    size_t lo, hi, chunk = tr->rows / (size_t)nt, base = (size_t)t * chunk;
    thread_rows(tr, ds->n, t, &lo, &hi); /* this rank's share of the rows, then this thread's */
    o->loss = 0.0;
    o->correct = 0;
    /* Dataset rows are contiguous here, so the forward pass reads them in place; the
     * activations go to this thread's block of the batch buffers. */
    for (size_t r = lo; r < hi; r += chunk) {
        int m = (int)(hi - r < chunk ? hi - r : chunk);
        forward(tr, weights_of(tr, t), ds->x + r * ds->d, base, m);
        const float *y = ds->y ? ds->y + r * (size_t)ds->targets : NULL;
        if (y && ds->y_scale) eval_sse_original(tr, o, y, ds->y_scale, base, m);
        else loss(tr, o, ds->label ? ds->label + r : NULL, y, base, m, 0.0f);
    }
}

double occam_eval_metric(const occam_eval *ev, occam_task task)
{
    if (!ev->n) return NAN;
    return task == OCCAM_TASK_CLASSIFY ? ev->accuracy : ev->relative_error;
}

void occam_trainer_eval(occam_trainer *tr, const occam_dataset *ds, occam_eval *ev)
{
    memset(ev, 0, sizeof *ev);
    if (ds->n == 0) return;
    const occam_model *mdl = tr->model;
    pass ps = {.tr = tr, .ds = ds};
    run_team(tr, eval_worker, &ps);
    double lsum = 0.0;
    int64_t correct = 0;
    collect(tr, &lsum, &correct);
    ev->n = ds->n;
    ev->loss = lsum / (double)ds->n;
    if (mdl->task == OCCAM_TASK_CLASSIFY) {
        ev->accuracy = (double)correct / (double)ds->n;
    } else {
        int k = ds->targets;
        ev->mse = lsum / ((double)ds->n * k);
        /* Variance of the targets about their mean (the denominator of Hinton & van Camp's
         * relative error), in double, serially: it is O(n) once per evaluation. Like the
         * squared errors, in the targets' original units; as read, when the standardisation
         * kept it (occam_dataset.y_var). */
        double var = 0.0;
        for (int j = 0; j < k && ds->y_var; j++) var += ds->y_var[j];
        for (int j = 0; j < k && !ds->y_var; j++) {
            double mean = 0.0, ss = 0.0, s = occam_dataset_target_scale(ds, j);
            for (size_t i = 0; i < ds->n; i++) mean += ds->y[i * (size_t)k + j];
            mean /= (double)ds->n;
            for (size_t i = 0; i < ds->n; i++) {
                double r = ds->y[i * (size_t)k + j] - mean;
                ss += r * r;
            }
            var += ss / (double)ds->n * (s * s);
        }
        var /= k;
        /* Targets without spread (a constant column, one row) leave the relative error
         * undefined: NaN (printed as nan, null in JSON, never the best of a select grid),
         * not 0, which read as a perfect fit. */
        ev->relative_error = var > 0.0 ? ev->mse / var : NAN;
    }
}

void occam_trainer_buffers(const occam_trainer *tr, occam_buffer_fn fn, void *ctx)
{
    const occam_layout *lay = &tr->model->lay;
    char name[48];
    for (int t = 0; t < tr->threads; t++) {
        size_t lo, hi;
        occam_team_split_rows(tr->rows, t, tr->threads, &lo, &hi);
        fn(ctx, "inputs (rows)", tr->x + lo * (size_t)lay->width[0],
           (hi - lo) * (size_t)lay->width[0] * sizeof(float), t);
        for (int l = 0; l < lay->nlayers; l++) {
            size_t w = (size_t)lay->width[l + 1];
            snprintf(name, sizeof name, "layer %d activations", l);
            fn(ctx, name, tr->act[l] + lo * w, (hi - lo) * w * sizeof(float), t);
            snprintf(name, sizeof name, "layer %d dZ", l);
            fn(ctx, name, tr->dz[l] + lo * w, (hi - lo) * w * sizeof(float), t);
        }
        fn(ctx, "partial gradient", tr->partial[t], lay->nparams * sizeof(float), t);
    }
    fn(ctx, "weights (master)", tr->model->params, lay->nparams * sizeof(float), -1);
    for (int g = 1; tr->replica && g < tr->plan.nodes; g++) {
        snprintf(name, sizeof name, "weights (replica %d)", g);
        fn(ctx, name, tr->replica[g], lay->nparams * sizeof(float), tr->plan.leader[g]);
    }
    fn(ctx, "owner gradient", tr->grad, lay->nparams * sizeof(float), -1);
    fn(ctx, "optimiser moment 1", tr->mom1, lay->nparams * sizeof(float), -1);
    if (tr->mom2) fn(ctx, "optimiser moment 2", tr->mom2, lay->nparams * sizeof(float), -1);
}
