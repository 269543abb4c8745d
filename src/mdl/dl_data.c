/* The data code of the description length (see include/occam/dl.h): the bits of the training
 * rows' labels or targets given the coded model, −log2 softmax for classes and a Gaussian misfit
 * at the target precision for regression, over fixed row chunks (DATA_CHUNK) whose sums are
 * the same for any thread count and world size. Two kinds: deterministic, at the coded
 * parameters (the two-part and count codes, the δ and bias searches), and bits-back's expected
 * NLL under q, with the noisy forward pass that draws it. The model codes are in dl.c. */
#include "dl-impl.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "occam/comm.h"
#include "occam/codes.h"
#include "occam/mem.h"
#include "occam/noisy.h"
#include "occam/rng.h"
#include "occam/sum.h"

/* The data code's sums over the training rows are shared by the ranks of the run (mpirun): each
 * sums its share of the chunks, and the chunk sums meet in the same tree, so the bits are the
 * same at any world size. Every rank computes a description length at the same points of a
 * run (they run the same schedule), as the collective needs. */
#define DATA_RANKS occam_comm_world()

int dl_scratch_agreed(bool ok)
{
    return occam_comm_max_int(DATA_RANKS, !ok) ? OCCAM_ERR_RUNTIME : OCCAM_OK;
}
#define LN2 0.69314718055994530942


/* ---- data code ------------------------------------------------------------------------- */

typedef struct data_ctx {
    const occam_model *m;
    const float *params;
    const occam_dataset *ds;
    float **ws;        /* [threads] DATA_CHUNK × Σ widths of activations */
    float *resid;      /* regression: n × targets residuals (pass 1 output) */
    double sigma, delta;
    int first;         /* the forward pass starts at this layer... */
    const float *in;   /* ...from these inputs (rows × width[first]); ds->x when first is 0 */
} data_ctx;

static void chunk_forward(const data_ctx *c, int t, size_t lo, int m, float **out)
{
    const occam_layout *lay = &c->m->lay;
    float *ws = c->ws[t];
    for (int l = c->first; l < lay->nlayers; l++) {
        out[l] = ws;
        ws += (size_t)DATA_CHUNK * lay->width[l + 1];
    }
    const float *x = c->first == 0 ? c->ds->x + lo * c->ds->d
                                   : c->in + lo * (size_t)lay->width[c->first];
    occam_model_forward_layers(lay, c->m->act, c->params, c->first, lay->nlayers, x, m, out);
}

/* Σ −log2 softmax(z)[y] over rows [lo, hi), in double, in row order. */
static double class_bits(void *vctx, int t, size_t lo, size_t hi)
{
    const data_ctx *c = vctx;
    const occam_layout *lay = &c->m->lay;
    int k = lay->width[lay->nlayers];
    float *out[OCCAM_MAX_LAYERS];
    chunk_forward(c, t, lo, (int)(hi - lo), out);
    const float *z = out[lay->nlayers - 1];
    double bits = 0.0;
    for (size_t r = 0; r < hi - lo; r++) {
        const float *zr = z + r * (size_t)k;
        double mx = zr[0], s = 0.0;
        for (int j = 1; j < k; j++) mx = fmax(mx, zr[j]);
        for (int j = 0; j < k; j++) s += exp((double)zr[j] - mx);
        bits += (log(s) + mx - (double)zr[c->ds->label[lo + r]]) / LN2;
    }
    return bits;
}

/* Residual i of a row (i < targets) in the targets' original units: with standardised
 * targets, output and target are both in standardised units, and the scale turns their
 * difference back (the shift cancels). So δ and σ are in original units, whatever
 * data.normalize_targets says, and the bits are comparable across the setting. */
static double reg_residual(const occam_dataset *ds, float out, float target, size_t i)
{
    double r = (double)out - target;
    return ds->y_scale ? r * ds->y_scale[i] : r;
}

/* Regression pass 1: residuals of rows [lo, hi) into c->resid; returns their Σ r². */
static double reg_residuals(void *vctx, int t, size_t lo, size_t hi)
{
    const data_ctx *c = vctx;
    const occam_layout *lay = &c->m->lay;
    size_t k = (size_t)lay->width[lay->nlayers];
    float *out[OCCAM_MAX_LAYERS];
    chunk_forward(c, t, lo, (int)(hi - lo), out);
    const float *y = out[lay->nlayers - 1];
    double ss = 0.0;
    for (size_t i = 0; i < (hi - lo) * k; i++) {
        double r = reg_residual(c->ds, y[i], c->ds->y[lo * k + i], i % k);
        c->resid[lo * k + i] = (float)r;
        ss += r * r;
    }
    return ss;
}

/* The regression code's σ: the RMS residual of `count` residuals of Σ r² = ss, at least δ (a
 * perfect fit), as the float32 the receiver is sent first (SIGMA_BITS; the code over the
 * residuals is then decodable). NaN or inf for outputs that are. */
enum { SIGMA_BITS = 32 };
static double sent_sigma(double ss, size_t count, double delta)
{
    double sigma = sqrt(ss / (double)count);
    if (sigma < delta) sigma = delta;
    return sigma < FLT_MAX ? (double)(float)sigma : sigma == sigma ? INFINITY : sigma;
}

/* Regression pass 2: Σ −log2(N(r; 0, σ²)·δ) over residuals [lo, hi). */
static double reg_bits(void *vctx, int t, size_t lo, size_t hi)
{
    (void)t;
    const data_ctx *c = vctx;
    double bits = 0.0;
    for (size_t i = lo; i < hi; i++) bits += occam_codes_gauss_bits(c->resid[i], c->sigma, c->delta);
    return bits;
}

/* One block of n floats per thread, or NULL (nothing left allocated) when memory runs out. */
static float **thread_blocks(int threads, size_t n)
{
    float **b = calloc((size_t)threads, sizeof *b);
    if (!b) return NULL;
    for (int t = 0; t < threads; t++)
        if (!(b[t] = occam_alloc(n, sizeof(float)))) {
            for (int u = 0; u < t; u++) free(b[u]);
            free(b);
            return NULL;
        }
    return b;
}

static void free_blocks(float **b, int threads)
{
    if (!b) return;
    for (int t = 0; t < threads; t++) free(b[t]);
    free(b);
}

int dl_data_bits_from(const occam_model *m, const float *params, const occam_dataset *ds,
                      size_t rows, int first, const float *in, double target_precision,
                      int threads, double *bits)
{
    size_t n = rows && rows < ds->n ? rows : ds->n;
    const occam_layout *lay = &m->lay;
    size_t per = 0;
    for (int l = 0; l < lay->nlayers; l++) per += (size_t)DATA_CHUNK * lay->width[l + 1];
    data_ctx c = {.m = m, .params = params, .ds = ds, .delta = target_precision, .first = first,
                  .in = in};
    size_t k = (size_t)lay->width[lay->nlayers];
    c.ws = thread_blocks(threads, per);
    if (m->task != OCCAM_TASK_CLASSIFY) c.resid = occam_alloc(n * k, sizeof(float));
    int rc = dl_scratch_agreed(c.ws && (m->task == OCCAM_TASK_CLASSIFY || c.resid));
    if (rc == OCCAM_OK && m->task == OCCAM_TASK_CLASSIFY) {
        rc = occam_sum_chunked_ranks(DATA_RANKS, threads, n, DATA_CHUNK, class_bits, &c, bits);
    } else if (rc == OCCAM_OK) {
        double ss = 0.0, fit = 0.0;
        rc = occam_sum_chunked_ranks(DATA_RANKS, threads, n, DATA_CHUNK, reg_residuals, &c, &ss);
        c.sigma = sent_sigma(ss, n * k, target_precision);
        /* An output that is NaN or infinite (a quantised candidate of huge weights: inf·0 in
         * a layer; SGD at lr 10 on a 15-layer net) makes σ NaN or inf, which the Gaussian
         * code asserted against: the data code is then past any length, as class_bits gives
         * for a NaN logit, and occam_dl_compute refuses it (the δ search passes over it). σ
         * is the same on every rank, so they all take the same branch. */
        if (rc == OCCAM_OK && c.sigma < INFINITY)
            rc = occam_sum_chunked_ranks(DATA_RANKS, threads, n * k, DATA_CHUNK * k, reg_bits,
                                         &c, &fit);
        if (rc == OCCAM_OK) *bits = c.sigma < INFINITY ? SIGMA_BITS + fit : INFINITY;
    }
    free(c.resid);
    free_blocks(c.ws, threads);
    return rc;
}

int occam_dl_data_bits(const occam_model *m, const float *params, const occam_dataset *ds,
                       size_t rows, double target_precision, int threads, double *bits)
{
    return dl_data_bits_from(m, params, ds, rows, 0, NULL, target_precision, threads, bits);
}

/* ---- bits-back: the expected NLL under q ------------------------------------------------ */

typedef struct noisy_ctx {
    data_ctx base;
    const float *var;  /* σ² per weight (0 where masked) */
    float **sq;        /* [threads] 3 × DATA_CHUNK × maxw: scratch, sd, ε of the layers */
    float **first;     /* [threads] DATA_CHUNK × 2 × width[1]: layer 0's mean, its noise's sd */
    int maxw;          /* the widest layer */
    int samples;
    uint64_t seed;
} noisy_ctx;

/* The first layer's input is the data, the same for every noise draw, so its mean and the
 * standard deviation of its pre-activations (x·μᵀ and sqrt(x²·σ²ᵀ)) are computed once per chunk
 * of rows, into the thread's `first` block; each draw then only adds its noise. The layers
 * after it see noisy inputs and are recomputed per draw. */
static void noisy_first_layer(const noisy_ctx *c, int t, size_t lo, int rows)
{
    const occam_model *m = c->base.m;
    const occam_layout *lay = &m->lay;
    int nout = lay->width[1];
    float *mean = c->first[t], *sd = mean + (size_t)DATA_CHUNK * nout;
    occam_noise_layer_moments(mean, sd, c->sq[t], c->base.ds->x + lo * c->base.ds->d,
                              m->params + lay->w_off[0], c->var + lay->w_off[0], rows,
                              lay->width[0], nout);
}

/* One noisy forward pass of rows [lo, lo + rows) (occam_noise_forward), noise from nz, after
 * noisy_first_layer for the same rows; returns the output layer (rows × outputs). The layers
 * share one block for their sd and one for their ε: nothing reads them afterwards. */
static const float *dl_noisy_forward(const noisy_ctx *c, int t, size_t lo, int rows,
                                  occam_noise_normals *nz)
{
    const occam_model *m = c->base.m;
    const occam_layout *lay = &m->lay;
    float *out[OCCAM_MAX_LAYERS], *sd[OCCAM_MAX_LAYERS], *eps[OCCAM_MAX_LAYERS];
    float *ws = c->base.ws[t], *sq = c->sq[t];
    size_t per = (size_t)DATA_CHUNK * (size_t)c->maxw;
    for (int l = 0; l < lay->nlayers; l++) {
        out[l] = ws;
        ws += (size_t)DATA_CHUNK * lay->width[l + 1];
        sd[l] = sq + per;
        eps[l] = sq + 2 * per;
    }
    sd[0] = c->first[t] + (size_t)DATA_CHUNK * lay->width[1];
    occam_noise_forward(out, sd, eps, sq, c->base.ds->x + lo * c->base.ds->d, c->first[t], m,
                        c->var, rows, nz);
    return out[lay->nlayers - 1];
}

/* Σ over rows [lo, hi) of the mean over `samples` noise draws of −log2 p(y | x, w ~ q), with
 * the local reparameterisation; the draws are seeded by (seed, lo), so the sum does not depend
 * on which thread computes the chunk. */
static double noisy_class_bits(void *vctx, int t, size_t lo, size_t hi)
{
    const noisy_ctx *c = vctx;
    const occam_layout *lay = &c->base.m->lay;
    int rows = (int)(hi - lo), k = lay->width[lay->nlayers];
    occam_rng r = occam_rng_seed(c->seed, (uint64_t)lo);
    occam_noise_normals nz = {.r = &r, .pairs = true};
    noisy_first_layer(c, t, lo, rows);
    double bits = 0.0;
    for (int s = 0; s < c->samples; s++) {
        const float *z = dl_noisy_forward(c, t, lo, rows, &nz);
        for (int i = 0; i < rows; i++) {
            const float *zr = z + (size_t)i * k;
            double mx = zr[0], sum = 0.0;
            for (int j = 1; j < k; j++) mx = fmax(mx, zr[j]);
            for (int j = 0; j < k; j++) sum += exp((double)zr[j] - mx);
            bits += (log(sum) + mx - (double)zr[c->base.ds->label[lo + (size_t)i]]) / LN2;
        }
    }
    return bits / c->samples;
}

/* Regression under q: pass 1 sums r² over the samples, pass 2 the Gaussian misfit bits; both
 * redraw the same noise (seeded by (seed, lo)), so they see the same residuals. */
static double noisy_reg_pass(void *vctx, int t, size_t lo, size_t hi)
{
    const noisy_ctx *c = vctx;
    const occam_layout *lay = &c->base.m->lay;
    int rows = (int)(hi - lo);
    size_t k = (size_t)lay->width[lay->nlayers];
    occam_rng r = occam_rng_seed(c->seed, (uint64_t)lo);
    occam_noise_normals nz = {.r = &r, .pairs = true};
    noisy_first_layer(c, t, lo, rows);
    double acc = 0.0;
    for (int s = 0; s < c->samples; s++) {
        const float *y = dl_noisy_forward(c, t, lo, rows, &nz);
        for (size_t i = 0; i < (size_t)rows * k; i++) {
            double res = reg_residual(c->base.ds, y[i], c->base.ds->y[lo * k + i], i % k);
            acc += c->base.sigma > 0 ? occam_codes_gauss_bits(res, c->base.sigma, c->base.delta)
                                     : res * res;
        }
    }
    return acc / c->samples;
}

int dl_noisy_data_bits(const occam_model *m, const occam_dataset *ds, const float *var,
                       int samples, uint64_t seed, double delta, int threads, double *bits)
{
    const occam_layout *lay = &m->lay;
    size_t per = 0;
    int maxw = 0;
    for (int l = 0; l < lay->nlayers; l++) per += (size_t)DATA_CHUNK * lay->width[l + 1];
    for (int l = 0; l <= lay->nlayers; l++) maxw = lay->width[l] > maxw ? lay->width[l] : maxw;
    noisy_ctx c = {.base = {.m = m, .params = m->params, .ds = ds, .delta = delta}, .var = var,
                   .maxw = maxw, .samples = samples, .seed = seed};
    c.base.ws = thread_blocks(threads, per);
    c.sq = thread_blocks(threads, (size_t)DATA_CHUNK * 3 * (size_t)maxw);
    c.first = thread_blocks(threads, (size_t)DATA_CHUNK * 2 * (size_t)lay->width[1]);
    int rc = dl_scratch_agreed(c.base.ws && c.sq && c.first);
    if (rc == OCCAM_OK && m->task == OCCAM_TASK_CLASSIFY) {
        rc = occam_sum_chunked_ranks(DATA_RANKS, threads, ds->n, DATA_CHUNK, noisy_class_bits, &c,
                                     bits);
    } else if (rc == OCCAM_OK) {
        size_t k = (size_t)lay->width[lay->nlayers];
        double ss = 0.0, fit = 0.0;
        c.base.sigma = 0.0; /* pass 1: Σ r² */
        rc = occam_sum_chunked_ranks(DATA_RANKS, threads, ds->n, DATA_CHUNK, noisy_reg_pass, &c,
                                     &ss);
        c.base.sigma = sent_sigma(ss, ds->n * k, c.base.delta);
        if (rc == OCCAM_OK)
            rc = occam_sum_chunked_ranks(DATA_RANKS, threads, ds->n, DATA_CHUNK, noisy_reg_pass,
                                         &c, &fit);
        if (rc == OCCAM_OK) *bits = SIGMA_BITS + fit;
    }
    free_blocks(c.base.ws, threads);
    free_blocks(c.sq, threads);
    free_blocks(c.first, threads);
    return rc;
}
