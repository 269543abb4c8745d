/* The data-parallel MLP step: per-thread shards through forward and backward with
 * single-threaded BLIS, then a fused owner-slice reduction and optimiser update. See
 * include/occam/trainer.h for the design; the comments here say why the details are so. */
#include "occam/trainer.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "occam/gemm.h"
#include "occam/kernels.h"
#include "occam/mem.h"
#include "occam/team.h"

/* Rows a worker can hold at once in evaluation, where there is no batch to split. */
#define EVAL_ROWS 256

/* One thread's buffers. Aligned to a cache line so the per-thread results written during a
 * step never share a line with another thread's. */
typedef struct worker {
    _Alignas(64) float *x;      /* cap × width[0]: the gathered input rows */
    float *a[OCCAM_MAX_LAYERS]; /* a[l]: cap × width[l+1], output of layer l after its activation */
    float *d[2];                /* cap × max width: dZ / dA ping-pong */
    int32_t *label;             /* cap: classify labels */
    float *target;              /* cap × outputs: regress targets */
    float *grad;                /* lay.nparams: this thread's partial gradient */
    double loss;                /* this step's summed loss over the shard */
    int64_t correct;
    size_t lo, hi;              /* owner slice of the flat parameter array */
    int ok;                     /* allocation succeeded */
} worker;

struct occam_trainer {
    occam_model *model;
    occam_optim opt;
    int threads;
    size_t cap;            /* rows per worker buffer */
    int maxw;              /* widest layer */
    float *mom1, *mom2;    /* optimiser moments (mom2: adam only), lay.nparams each */
    worker *w;             /* threads workers */
    const float **parts;   /* w[u].grad for u = 0..threads-1, for the reduction */
};

int occam_trainer_threads(const occam_trainer *tr) { return tr->threads; }
occam_optim *occam_trainer_optim(occam_trainer *tr) { return &tr->opt; }

static void worker_free(worker *w)
{
    free(w->x);
    for (int l = 0; l < OCCAM_MAX_LAYERS; l++) free(w->a[l]);
    free(w->d[0]);
    free(w->d[1]);
    free(w->label);
    free(w->target);
    free(w->grad);
}

/* Runs on the owning thread: its buffers are first touched, so placed, where it runs. */
static void worker_alloc(worker *w, const occam_layout *lay, size_t cap, int maxw)
{
    int L = lay->nlayers, outw = lay->width[L];
    w->x = occam_alloc_zero(cap * (size_t)lay->width[0], sizeof(float));
    int ok = w->x != NULL;
    for (int l = 0; l < L; l++) {
        w->a[l] = occam_alloc_zero(cap * (size_t)lay->width[l + 1], sizeof(float));
        ok &= w->a[l] != NULL;
    }
    for (int i = 0; i < 2; i++) {
        w->d[i] = occam_alloc_zero(cap * (size_t)maxw, sizeof(float));
        ok &= w->d[i] != NULL;
    }
    w->label = occam_alloc_zero(cap, sizeof(int32_t));
    w->target = occam_alloc_zero(cap * (size_t)outw, sizeof(float));
    w->grad = occam_alloc_zero(lay->nparams, sizeof(float));
    ok &= w->label && w->target && w->grad;
    w->ok = ok;
}

void occam_trainer_free(occam_trainer *tr)
{
    if (!tr) return;
    if (tr->w)
        for (int t = 0; t < tr->threads; t++) worker_free(&tr->w[t]);
    free(tr->w);
    free(tr->parts);
    free(tr->mom1);
    free(tr->mom2);
    free(tr);
}

int occam_trainer_create(occam_trainer **out, occam_model *model, const occam_config *cfg,
                         int threads, occam_error *err)
{
    OCCAM_ASSERT(threads >= 1);
    *out = NULL;
    occam_blas_init(); /* before any team starts */
    occam_trainer *tr = calloc(1, sizeof *tr);
    if (!tr) return occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory for the trainer");
    const occam_layout *lay = &model->lay;
    tr->model = model;
    tr->threads = threads;
    occam_optim_init(&tr->opt, cfg);
    size_t shard = ((size_t)cfg->train.batch + (size_t)threads - 1) / (size_t)threads;
    tr->cap = shard > EVAL_ROWS ? shard : EVAL_ROWS;
    for (int l = 0; l <= lay->nlayers; l++)
        if (lay->width[l] > tr->maxw) tr->maxw = lay->width[l];
    tr->mom1 = occam_alloc_zero(lay->nparams, sizeof(float));
    tr->mom2 = cfg->train.optimizer == OCCAM_OPT_ADAM
                   ? occam_alloc_zero(lay->nparams, sizeof(float)) : NULL;
    tr->w = occam_alloc_zero((size_t)threads, sizeof(worker));
    tr->parts = calloc((size_t)threads, sizeof *tr->parts);
    int ok = tr->mom1 && tr->w && tr->parts &&
             (cfg->train.optimizer != OCCAM_OPT_ADAM || tr->mom2);
    if (ok) {
#pragma omp parallel num_threads(threads) default(none) shared(tr, lay)
        {
            int t = omp_get_thread_num();
            worker *w = &tr->w[t];
            worker_alloc(w, lay, tr->cap, tr->maxw);
            occam_split_aligned(lay->nparams, OCCAM_SEG_ALIGN, t, tr->threads, &w->lo, &w->hi);
        }
        for (int t = 0; t < threads; t++) {
            ok &= tr->w[t].ok;
            tr->parts[t] = tr->w[t].grad;
        }
    }
    if (!ok) {
        occam_trainer_free(tr);
        return occam_error_set(err, OCCAM_ERR_RUNTIME,
                               "out of memory for %d worker buffers of %zu rows", threads,
                               (size_t)cfg->train.batch);
    }
    *out = tr;
    return OCCAM_OK;
}

/* Copies rows idx[0..m) of ds into the worker's input (and label/target) buffers. */
static void gather(worker *w, const occam_dataset *ds, const uint32_t *idx, size_t m)
{
    size_t d = ds->d;
    for (size_t i = 0; i < m; i++) {
        memcpy(w->x + i * d, ds->x + (size_t)idx[i] * d, d * sizeof(float));
        if (ds->label) w->label[i] = ds->label[idx[i]];
        if (ds->y)
            memcpy(w->target + i * (size_t)ds->targets, ds->y + (size_t)idx[i] * ds->targets,
                   (size_t)ds->targets * sizeof(float));
    }
}

/* Forward pass of m rows from x (m × width[0], row stride width[0]) into w->a[]. */
static void forward(const occam_model *mdl, worker *w, const float *x, int m)
{
    const occam_layout *lay = &mdl->lay;
    const float *in = x;
    for (int l = 0; l < lay->nlayers; l++) {
        int nin = lay->width[l], nout = lay->width[l + 1];
        const float *W = mdl->params + lay->w_off[l];
        const float *b = mdl->params + lay->b_off[l];
        /* Z (m,out) = X (m,in) · Wᵀ (in,out) */
        occam_gemm(false, true, m, nout, nin, 1.0f, in, nin, W, nin, 0.0f, w->a[l], nout);
        if (l + 1 < lay->nlayers)
            occam_bias_act_forward(w->a[l], b, m, nout, mdl->act);
        else
            occam_bias_forward(w->a[l], b, m, nout);
        in = w->a[l];
    }
}

/* Loss of the m rows in the worker's output layer against its labels/targets, adding to
 * w->loss and w->correct. With `scale` != 0 the output gradient (times scale) goes to w->d[0]. */
static void loss(const occam_model *mdl, worker *w, const int32_t *label, const float *target,
                 int m, float scale)
{
    const occam_layout *lay = &mdl->lay;
    int L = lay->nlayers, nout = lay->width[L];
    float *dz = scale != 0.0f ? w->d[0] : NULL;
    if (mdl->task == OCCAM_TASK_CLASSIFY)
        occam_softmax_xent(dz, w->a[L - 1], label, m, nout, scale, &w->loss, &w->correct);
    else
        occam_mse(dz, w->a[L - 1], target, m, nout, scale, &w->loss);
}

/* Backward pass of m rows from the output gradient in w->d[0] into grad (flat layout). */
static void backward(const occam_model *mdl, worker *w, int m, float *grad)
{
    const occam_layout *lay = &mdl->lay;
    int cur = 0;
    for (int l = lay->nlayers - 1; l >= 0; l--) {
        int nin = lay->width[l], nout = lay->width[l + 1];
        const float *in = l > 0 ? w->a[l - 1] : w->x;
        const float *dz = w->d[cur];
        /* dW (out,in) = dZᵀ (out,m) · X (m,in) */
        occam_gemm(true, false, nout, nin, m, 1.0f, dz, nout, in, nin, 0.0f,
                   grad + lay->w_off[l], nin);
        occam_bias_backward(grad + lay->b_off[l], dz, m, nout);
        if (l == 0) break; /* the input layer needs no dX */
        /* dA (m,in) = dZ (m,out) · W (out,in), then dZ of the layer below in place */
        float *da = w->d[cur ^ 1];
        occam_gemm(false, false, m, nin, nout, 1.0f, dz, nout, mdl->params + lay->w_off[l], nin,
                   0.0f, da, nin);
        occam_act_backward(da, w->a[l - 1], m, nin, mdl->act);
        cur ^= 1;
    }
}

/* Forward + loss + backward of this thread's shard of idx[0..nrows); scale = 1/nrows makes
 * the partials sum to the mean gradient. */
static void shard_gradient(occam_trainer *tr, int t, const occam_dataset *ds,
                           const uint32_t *idx, size_t nrows)
{
    worker *w = &tr->w[t];
    const occam_model *mdl = tr->model;
    size_t lo, hi;
    occam_split_rows(nrows, t, tr->threads, &lo, &hi);
    int m = (int)(hi - lo);
    w->loss = 0.0;
    w->correct = 0;
    if (m == 0) {
        memset(w->grad, 0, mdl->lay.nparams * sizeof(float));
        return;
    }
    gather(w, ds, idx + lo, (size_t)m);
    forward(mdl, w, w->x, m);
    loss(mdl, w, w->label, w->target, m, 1.0f / (float)nrows);
    backward(mdl, w, m, w->grad);
}

/* The owner pass: thread t reduces and updates its slice, segment by segment so that weight
 * decay applies to weights only and the zero padding between segments is never touched. */
static void owner_update(occam_trainer *tr, int t)
{
    const worker *w = &tr->w[t];
    const occam_layout *lay = &tr->model->lay;
    float *p = tr->model->params;
    for (int l = 0; l < lay->nlayers; l++) {
        size_t segs[2][2] = {
            {lay->w_off[l], lay->w_off[l] + (size_t)lay->width[l] * lay->width[l + 1]},
            {lay->b_off[l], lay->b_off[l] + (size_t)lay->width[l + 1]},
        };
        for (int s = 0; s < 2; s++) {
            size_t a = segs[s][0] > w->lo ? segs[s][0] : w->lo;
            size_t b = segs[s][1] < w->hi ? segs[s][1] : w->hi;
            if (a < b)
                occam_optim_update(&tr->opt, p, tr->mom1, tr->mom2, tr->parts, tr->threads, a,
                                   b - a, s == 0);
        }
    }
}

static void collect(const occam_trainer *tr, double *loss_sum, int64_t *correct)
{
    /* Thread order: the same sum every run. */
    for (int t = 0; t < tr->threads; t++) {
        *loss_sum += tr->w[t].loss;
        *correct += tr->w[t].correct;
    }
}

void occam_trainer_step(occam_trainer *tr, const occam_dataset *ds, const uint32_t *idx,
                        size_t nrows, double *loss_sum, int64_t *correct)
{
    OCCAM_ASSERT(nrows <= tr->cap * (size_t)tr->threads);
#pragma omp parallel num_threads(tr->threads) default(none) shared(tr, ds, idx, nrows)
    {
        int t = omp_get_thread_num();
        shard_gradient(tr, t, ds, idx, nrows);
#pragma omp barrier
        owner_update(tr, t);
    }
    tr->opt.t++;
    collect(tr, loss_sum, correct);
}

void occam_trainer_gradient(occam_trainer *tr, const occam_dataset *ds, const uint32_t *idx,
                            size_t nrows, float *grad, double *loss_sum)
{
    OCCAM_ASSERT(nrows <= tr->cap * (size_t)tr->threads);
#pragma omp parallel num_threads(tr->threads) default(none) shared(tr, ds, idx, nrows, grad)
    {
        int t = omp_get_thread_num();
        shard_gradient(tr, t, ds, idx, nrows);
#pragma omp barrier
        const worker *w = &tr->w[t];
        for (size_t i = w->lo; i < w->hi; i++) {
            float g = 0.0f;
            for (int u = 0; u < tr->threads; u++) g += tr->parts[u][i];
            grad[i] = g;
        }
    }
    int64_t correct = 0;
    collect(tr, loss_sum, &correct);
}

void occam_trainer_eval(occam_trainer *tr, const occam_dataset *ds, occam_eval *ev)
{
    memset(ev, 0, sizeof *ev);
    if (ds->n == 0) return;
    const occam_model *mdl = tr->model;
#pragma omp parallel num_threads(tr->threads) default(none) shared(tr, ds, mdl)
    {
        int t = omp_get_thread_num();
        worker *w = &tr->w[t];
        size_t lo, hi;
        occam_split_rows(ds->n, t, tr->threads, &lo, &hi);
        w->loss = 0.0;
        w->correct = 0;
        /* Rows are contiguous here, so the forward pass reads the dataset in place. */
        for (size_t r = lo; r < hi; r += tr->cap) {
            int m = (int)(hi - r < tr->cap ? hi - r : tr->cap);
            forward(mdl, w, ds->x + r * ds->d, m);
            loss(mdl, w, ds->label ? ds->label + r : NULL,
                 ds->y ? ds->y + r * (size_t)ds->targets : NULL, m, 0.0f);
        }
    }
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
         * relative error), in double, serially: it is O(n) once per evaluation. */
        double var = 0.0;
        for (int j = 0; j < k; j++) {
            double mean = 0.0, ss = 0.0;
            for (size_t i = 0; i < ds->n; i++) mean += ds->y[i * (size_t)k + j];
            mean /= (double)ds->n;
            for (size_t i = 0; i < ds->n; i++) {
                double r = ds->y[i * (size_t)k + j] - mean;
                ss += r * r;
            }
            var += ss / (double)ds->n;
        }
        var /= k;
        ev->relative_error = var > 0.0 ? ev->mse / var : 0.0;
    }
}
