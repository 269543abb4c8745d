/* Description length of a trained model (see include/occam/dl.h), the model's side: the count
 * code, the two-part code (priors fitted and rounded to float32, per-layer quantisation steps
 * from the posterior or from a search over a grid) and bits-back (Σ KL, the biases' code, the
 * scale of the posterior widths); occam_dl_compute, which adds the data code (dl_data.c); the
 * table and JSON writers; the checks. */
#include "dl-impl.h"
#include "gridcode.h"
#include "maskcode.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "occam/clock.h"
#include "occam/codes.h"
#include "occam/comm.h"
#include "occam/gemm.h"
#include "occam/mem.h"
#include "occam/noisy.h"
#include "occam/sum.h"

/* ---- model codes ----------------------------------------------------------------------- */

void occam_dl_prior_round(occam_prior *p)
{
    double rest = 0.0;
    for (int c = 0; c < p->k; c++) {
        p->mu[c] = (float)p->mu[c];
        p->sigma[c] = (float)p->sigma[c];
        if (c > 0) {
            p->pi[c] = (float)p->pi[c];
            rest += p->pi[c];
        }
    }
    if (p->pinned0) p->mu[0] = 0.0;
    /* A fit that gives π0 ≈ 0 (no active weight near zero) rounds the others up to a sum just
     * over 1 (1/3 and 2/3 as float32 add to 1 + 3e-8): π0 would be a negative weight, in the
     * report and in the code, so it stops at 0. */
    p->pi[0] = p->k == 1 ? 1.0 : fmax(0.0, 1.0 - rest);
}

static int prior_params(const occam_prior *p)
{
    /* Gaussian: μ, σ. Mixture: K weights (K−1 free), K means (one pinned), K deviations. */
    return p->k == 1 ? 2 : (p->k - 1) + (p->k - (p->pinned0 ? 1 : 0)) + p->k;
}

/* Two-part bits of layer l's values at step delta (prior already fitted). */
static double layer_value_bits(const occam_model *m, int l, double delta, const occam_prior *p,
                               int threads)
{
    size_t n = (size_t)m->lay.width[l] * m->lay.width[l + 1];
    return occam_codes_value_bits(m->params + m->lay.w_off[l],
                                m->mask ? m->mask + m->lay.w_off[l] : NULL, n, delta, p, threads);
}

/* Steps are float32 values (the file stores them so), so the decoder rebuilds exactly the
 * quantised weights the data code used. */
static double step(double delta) { return (double)(float)delta; }

static void quantize_layer(float *q, const occam_model *m, int l, double delta)
{
    size_t n = (size_t)m->lay.width[l] * m->lay.width[l + 1];
    occam_codes_quantize(q + m->lay.w_off[l], m->params + m->lay.w_off[l],
                       m->mask ? m->mask + m->lay.w_off[l] : NULL, n, delta);
}

static double active_std(const occam_model *m, int l)
{
    size_t n = (size_t)m->lay.width[l] * m->lay.width[l + 1];
    const float *w = m->params + m->lay.w_off[l];
    const uint8_t *mk = m->mask ? m->mask + m->lay.w_off[l] : NULL;
    double s = 0, ss = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!mk || mk[i]) {
            s += w[i];
            ss += (double)w[i] * w[i];
            k++;
        }
    if (k == 0) return 1.0;
    double var = ss / (double)k - (s / (double)k) * (s / (double)k);
    /* floored like the posterior step: weights that weight decay drove into float32's
     * denormals (decay 3 at lr 0.01 on a 2-unit layer) had a spread whose finer steps rounded
     * to a step of 0 in float */
    return var > 0 ? fmax(sqrt(var), 1e-6) : 1e-3;
}

bool occam_dl_posterior_precision(const occam_dl_params *p, const occam_model *m)
{
    return m->rho && !(p->weight_precision > 0) && (p->precision == OCCAM_PRECISION_POSTERIOR ||
                      p->precision == OCCAM_PRECISION_AUTO);
}

/* Bayesian compression's precision (Louizos, Ullrich & Welling 2017): a weight known to ±σ
 * is sent to about that precision. Layer l's step is the geometric mean of its active
 * weights' posterior σ (1e-3 if none): the typical width, not swayed by a few wide ones. On
 * configs/noisy_sparse.ini (40 epochs) it gave 85,532 model bits at test accuracy 0.876 as
 * coded, against the δ search's 86,506 at 0.873; half that step cost 95,019 bits for 0.877,
 * twice it 76,339 bits for 0.867. */
static double posterior_step(const occam_model *m, int l)
{
    const occam_layout *lay = &m->lay;
    size_t n = (size_t)lay->width[l] * lay->width[l + 1], k = 0;
    double sl = 0.0;
    for (size_t i = lay->w_off[l]; i < lay->w_off[l] + n; i++)
        if (!m->mask || m->mask[i]) {
            sl += log(occam_noise_sigma(m->rho[i]));
            k++;
        }
    /* floored an order below the σ floor training keeps (1e-6), which no trained layer
     * reaches: a loaded σ of 1e-18 made bins so narrow that q ± δ/2 were equal (an abort),
     * and one of 1e-9 put 10^9 bins in the .occ coder's range (a hang) */
    return k ? fmax(exp(sl / (double)k), 1e-7) : 1e-3;
}

/* Whether two blocks of rows × wide floats, the searches' caches of a layer's rows (the bias
 * shifts' and the weight steps'), fit within a quarter of the memory available, shared by the
 * ranks on this host (each caches all the search rows, and each measures before the others
 * allocate). They are search rows × the widest hidden layer (8 GB for 10,000 rows of a
 * 100,000-unit layer, whose model is 5 MB): Linux grants a larger allocation and kills the
 * process that touches it, at the end of a training run. Without them each candidate runs the
 * whole net: the same bits, more time. (The data code's own scratch, rows of every layer for
 * each thread's chunk, is left to the rest of the memory.) */
static bool rows_cache_fits(size_t rows, size_t wide)
{
    int ranks = occam_comm_world()->local_size;
    size_t room = occam_mem_available() / 4 / (size_t)(ranks > 1 ? ranks : 1) /
                  (2 * sizeof(float));
    return wide > 0 && rows <= room / wide;
}

/* ---- the biases' code ----------------------------------------------------------------------
 * Biases are parameters like the weights: each layer's are quantised at a step base·2^−j and
 * sent under a Gaussian fitted to them (its two parameters as float32, j as a byte). j runs over
 * 0..BIAS_SHIFTS and minimises the layer's bias bits plus the data bits on mdl.search_rows rows
 * (scaled to the set), layer by layer with the earlier layers' choices in place. Biases need
 * finer steps than weights (a bias moves a unit's whole pre-activation), hence the shifts. */
enum { BIAS_SHIFTS = 8 };

static double layer_bias_bits(const occam_model *m, int l, const uint8_t *need, double delta,
                              const occam_prior *p, int threads)
{
    const occam_layout *lay = &m->lay;
    return occam_codes_value_bits(m->params + lay->b_off[l], need, (size_t)lay->width[l + 1],
                                  delta, p, threads) +
           2 * 32.0 + 8.0;
}

/* Layer l over the rows [lo, hi) of a search, in the data code's chunks: its product into z
 * (from its inputs, or the data), its bias and activation from z into out (in place when they
 * are one array), or both (advance_chunk). The step and bias searches run a layer once for the
 * candidates of the layers after it. */
typedef struct layer_rows {
    const occam_model *m;
    const float *params;
    const occam_dataset *ds;
    int l;
    const float *in; /* layer l's inputs (rows × width[l]), or NULL: the data */
    float *z;        /* rows × width[l+1]: the product */
    float *out;      /* rows × width[l+1]: the layer's output (may be z) */
} layer_rows;

static double product_chunk(void *vctx, int t, size_t lo, size_t hi)
{
    (void)t;
    const layer_rows *b = vctx;
    const occam_layout *lay = &b->m->lay;
    const float *x = b->in ? b->in + lo * (size_t)lay->width[b->l] : b->ds->x + lo * b->ds->d;
    occam_model_layer_product(lay, b->params, b->l, x, (int)(hi - lo),
                              b->z + lo * (size_t)lay->width[b->l + 1]);
    return 0.0;
}

static double finish_chunk(void *vctx, int t, size_t lo, size_t hi)
{
    (void)t;
    const layer_rows *b = vctx;
    const occam_layout *lay = &b->m->lay;
    size_t w = (size_t)lay->width[b->l + 1];
    if (b->out != b->z) memcpy(b->out + lo * w, b->z + lo * w, (hi - lo) * w * sizeof(float));
    occam_model_layer_finish(lay, b->m->act, b->params, b->l, (int)(hi - lo), b->out + lo * w);
    return 0.0;
}

/* The whole layer, as occam_model_forward_layers runs it: the product, then the rest in place. */
static double advance_chunk(void *vctx, int t, size_t lo, size_t hi)
{
    product_chunk(vctx, t, lo, hi);
    return finish_chunk(vctx, t, lo, hi);
}

/* q: the parameters the data code uses (weights as coded; biases replaced here: those not
 * sent, of units without an outgoing weight (maskcode.h), by 0, as a decoder has them).
 * A bias candidate changes its layer's output only, so the layer's product is taken once and
 * each candidate's data code starts after it; and the layers before run once, not per
 * candidate. On LeNet the 27 candidates each ran the whole net (1.3 s of mdl's 1.5). The bits
 * are those of the whole-net code (the same chunks, the same sums). Without the scratch, each
 * candidate runs the whole net. */
static int code_biases(occam_dl *dl, const occam_model *m, const occam_dl_params *p,
                       const occam_dataset *train, int threads, float *q, const double *base)
{
    const occam_layout *lay = &m->lay;
    size_t rows = p->search_rows ? (size_t)p->search_rows : train->n;
    if (rows > train->n) rows = train->n;
    double scale = (double)train->n / (double)rows;
    uint8_t *needs = occam_alloc(lay->nparams, 1);
    if (dl_scratch_agreed(needs != NULL) != OCCAM_OK) {
        free(needs);
        return OCCAM_ERR_RUNTIME;
    }
    /* two hidden layers' worth of rows: a layer's product, and its output (a candidate's, then
     * the chosen one's: the next layer's input, which its own product reads before any of its
     * candidates writes there); the last layer never splits */
    size_t wide = 0;
    for (int l = 1; l < lay->nlayers; l++)
        wide = (size_t)lay->width[l] > wide ? (size_t)lay->width[l] : wide;
    bool fits = rows_cache_fits(rows, wide);
    float *z = fits ? occam_alloc(rows * wide, sizeof(float)) : NULL;
    float *h = fits ? occam_alloc(rows * wide, sizeof(float)) : NULL;
    bool cached = z && h;
    const float *in = NULL; /* layer l's inputs: the data for layer 0 */
    occam_mask_bias_needed(lay, m->mask, needs);
    int rc = OCCAM_OK;
    for (int l = 0; l < lay->nlayers && rc == OCCAM_OK; l++) {
        occam_dl_layer *y = &dl->layer[l];
        size_t nb = (size_t)lay->width[l + 1];
        const float *b = m->params + lay->b_off[l];
        const uint8_t *need = needs + lay->b_off[l];
        /* a layer with no bias to send still sends its Gaussian: any one will do */
        if (occam_prior_fit(&y->bias_prior, 1, false, b, nb, need, 1e-6, NULL) != OCCAM_OK)
            y->bias_prior = occam_prior_gauss(0.0, 1.0);
        occam_dl_prior_round(&y->bias_prior);
        bool split = cached && l + 1 < lay->nlayers;
        layer_rows bc = {.m = m, .params = q, .ds = train, .l = l, .in = in, .z = z, .out = h};
        if (split) occam_sum_chunked(threads, rows, DATA_CHUNK, product_chunk, &bc);
        double best = INFINITY;
        for (int j = 0; j <= BIAS_SHIFTS && rc == OCCAM_OK; j++) {
            double d = (double)(float)ldexp(base[l], -j), data;
            occam_codes_quantize(q + lay->b_off[l], b, need, nb, d);
            if (split) occam_sum_chunked(threads, rows, DATA_CHUNK, finish_chunk, &bc);
            rc = split    ? dl_data_bits_from(m, q, train, rows, l + 1, h, p->target_precision,
                                              threads, &data)
                 : cached ? dl_data_bits_from(m, q, train, rows, l, in, p->target_precision,
                                              threads, &data)
                          : occam_dl_data_bits(m, q, train, rows, p->target_precision, threads,
                                               &data);
            if (rc != OCCAM_OK) break;
            double bits = layer_bias_bits(m, l, need, d, &y->bias_prior, threads);
            /* j = 0 always stands, so a data code that is not finite (residuals beyond
             * float32: occam_dl_compute refuses it) still leaves a valid step */
            if (j == 0 || bits + data * scale < best) {
                best = bits + data * scale;
                y->bias_shift = j;
                y->bias_delta = d;
                y->bias_bits = bits;
            }
        }
        /* no step chosen when the first candidate's data code found no scratch: quantising
         * at the unset step of 0 aborted on occam_codes_quantize's assertion */
        if (rc != OCCAM_OK) break;
        occam_codes_quantize(q + lay->b_off[l], b, need, nb, y->bias_delta);
        if (split) { /* layer l+1's inputs, at the chosen biases */
            occam_sum_chunked(threads, rows, DATA_CHUNK, finish_chunk, &bc);
            in = h;
        }
    }
    free(needs), free(z), free(h);
    return rc == OCCAM_OK ? OCCAM_OK : OCCAM_ERR_RUNTIME;
}

/* ---- bits-back: Σ KL(q‖p), and the posterior widths' scale ------------------------------ */

/* Bits-back at one posterior: model bits Σ KL(q‖p)/ln 2 per layer (priors re-fitted to (μ, σ)
 * by EM whatever noise.prior_update trained with: the code length wants the best-fitting prior,
 * and EM's exact M-steps get closer in a few steps than gradient steps), the biases quantised,
 * data bits the expected NLL under q. sigma[i] is weight i's σ and rho its softplus⁻¹ (the
 * priors' fit reads the model's rho). OCCAM_ERR_RUNTIME when scratch runs out (the priors'
 * first fit's included), agreed by the ranks. */
static int bits_back_at(occam_dl *dl, const occam_model *m, const float *sigma, float *rho,
                        float *var, const occam_dl_params *p, const occam_noise_params *em,
                        const occam_dataset *train, int threads)
{
    const occam_layout *lay = &m->lay;
    for (size_t i = 0; i < lay->nparams; i++)
        var[i] = m->mask && !m->mask[i] ? 0.0f : sigma[i] * sigma[i];
    occam_model mt = *m;
    mt.rho = rho;
    occam_prior pr[OCCAM_MAX_LAYERS];
    if (dl_scratch_agreed(occam_noise_priors_fit(pr, &mt, em, true) == OCCAM_OK) != OCCAM_OK)
        return OCCAM_ERR_RUNTIME;
    occam_noise_priors_fit(pr, &mt, em, false);
    bool one_sent = false;
    for (int l = 0; l < lay->nlayers; l++) {
        occam_dl_layer *y = &dl->layer[l];
        if (!y->k) continue;
        y->prior = pr[l];
        occam_dl_prior_round(&y->prior); /* as sent: 32 bits a parameter */
        y->value_bits = occam_codes_kl_bits_total(m->params + lay->w_off[l], sigma + lay->w_off[l],
                                                m->mask ? m->mask + lay->w_off[l] : NULL,
                                                (size_t)y->n, &y->prior, p->samples,
                                                p->seed + (uint64_t)l, threads);
        /* one prior for the network is sent once, with the first layer that has weights */
        y->overhead_bits = one_sent ? 0.0 : 32.0 * (prior_params(&y->prior));
        one_sent = occam_noise_one_prior(em);
    }
    /* The biases at a precision from the layer's posterior widths (RMS σ of its weights), the
     * shift chosen on the data code at the means; the noisy data code then uses them. */
    double base[OCCAM_MAX_LAYERS];
    for (int l = 0; l < lay->nlayers; l++) {
        double ss = 0.0;
        size_t n = (size_t)dl->layer[l].n, k = 0;
        for (size_t i = lay->w_off[l]; i < lay->w_off[l] + n; i++)
            if (!m->mask || m->mask[i]) {
                ss += (double)sigma[i] * sigma[i];
                k++;
            }
        /* floored where the noise has vanished: a step must stay a normal float */
        base[l] = k && ss > 0 ? fmax(sqrt(ss / (double)k), 1e-6) : 1e-3;
    }
    float *q = occam_alloc(lay->nparams, sizeof(float));
    int rc = dl_scratch_agreed(q != NULL); /* the other ranks go on to the data code's sums */
    if (rc == OCCAM_OK) {
        memcpy(q, m->params, lay->nparams * sizeof(float));
        rc = code_biases(dl, m, p, train, threads, q, base);
    }
    dl->model_bits = 0.0;
    for (int l = 0; l < lay->nlayers; l++) {
        const occam_dl_layer *y = &dl->layer[l];
        dl->model_bits += y->mask_bits + y->value_bits + y->overhead_bits + y->bias_bits;
    }
    occam_model mq = *m;
    mq.params = q;
    if (rc == OCCAM_OK)
        rc = dl_noisy_data_bits(&mq, train, var, p->data_samples, p->seed, p->target_precision,
                             threads, &dl->data_bits);
    free(q);
    dl->total_bits = dl->model_bits + dl->data_bits;
    return rc;
}

/* Bits-back for the trained q and for q with every σ scaled by t = 2^−j, j < SIGMA_SCALES,
 * keeping the shortest: any q is a valid bits-back code, and the sender names its t in
 * log2(SIGMA_SCALES) bits. Training sets σ at the curvature fixed point, which leaves the
 * mean-field samples too wide where the data curvature vanishes, e.g. a classifier that
 * separates its training set: there σ is the prior width, and the sampled data code of cancer
 * cost 16–50 bits per row at t = 1. The scales are tried from t = 1 down while the total
 * falls, with the same noise draws for each, on the first mdl.search_rows rows (scaled up, as
 * the δ search does); the chosen one is then coded on every row. */
enum { SIGMA_SCALES = 7 };

/* st = t·σ and rho = softplus⁻¹(st) for t = 2^−j (j = 0: the model's own). */
static void scale_sigma(float *st, float *rho, const float *sigma, const occam_model *m, int j)
{
    for (size_t i = 0; i < m->lay.nparams; i++) {
        st[i] = j ? (float)(ldexp(1.0, -j) * sigma[i]) : sigma[i];
        rho[i] = j ? (float)occam_noise_rho(st[i]) : m->rho[i];
    }
}

static int bits_back(occam_dl *dl, const occam_model *m, const occam_dl_params *p,
                     const occam_noise_params *noise, const occam_dataset *train, int threads,
                     occam_error *err)
{
    const occam_layout *lay = &m->lay;
    if (!m->rho)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "mdl.model_code = bits-back needs a noisy-weight model "
                               "(noise.enabled = true, or a checkpoint saved from one: layers.L.weight_rho)");
    float *sigma = occam_alloc(lay->nparams, sizeof(float));
    float *st = occam_alloc(lay->nparams, sizeof(float));
    float *rho = occam_alloc(lay->nparams, sizeof(float));
    float *var = occam_alloc(lay->nparams, sizeof(float));
    if (dl_scratch_agreed(sigma && st && rho && var) != OCCAM_OK) {
        free(sigma);
        free(st);
        free(rho);
        free(var);
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory");
    }
    for (size_t i = 0; i < lay->nparams; i++) sigma[i] = (float)occam_noise_sigma(m->rho[i]);
    occam_noise_params em = *noise;
    em.prior_update = OCCAM_PRIOR_UPDATE_EM;
    if (em.prior == OCCAM_PRIOR_SPARSE) { /* improper: the surviving weights go under a
                                             mixture, a layer's own (training shared none) */
        em.prior = OCCAM_PRIOR_MOG;
        em.prior_scope = OCCAM_PRIOR_SCOPE_LAYER;
    }
    double t0 = occam_clock_now();
    const occam_dl start = *dl;
    occam_dataset sub = *train;
    if (p->search_rows && (size_t)p->search_rows < sub.n) {
        sub.n = (size_t)p->search_rows;
        sub.y_var = NULL; /* the full set's */
    }
    double up = (double)train->n / (double)sub.n, best = INFINITY;
    int rc = OCCAM_OK, pick = 0;
    for (int j = 0; j < SIGMA_SCALES; j++) {
        occam_dl c = start;
        scale_sigma(st, rho, sigma, m, j);
        rc = bits_back_at(&c, m, st, rho, var, p, &em, &sub, threads);
        double total = c.model_bits + c.data_bits * up;
        if (rc != OCCAM_OK || (j > 0 && !(total < best))) break; /* past the shortest */
        best = total;
        pick = j;
        *dl = c;
    }
    if (rc == OCCAM_OK && sub.n < train->n) { /* the chosen scale on every row */
        *dl = start;
        scale_sigma(st, rho, sigma, m, pick);
        rc = bits_back_at(dl, m, st, rho, var, p, &em, train, threads);
    }
    dl->sigma_scale = ldexp(1.0, -pick);
    dl->model_bits += log2((double)SIGMA_SCALES);
    dl->total_bits = dl->model_bits + dl->data_bits;
    dl->seconds = occam_clock_now() - t0;
    free(sigma);
    free(st);
    free(rho);
    free(var);
    if (rc != OCCAM_OK)
        return occam_error_set(err, rc, "out of memory for the bits-back code's scratch (%d "
                               "threads)", threads);
    return OCCAM_OK;
}

/* ---- the δ search ----------------------------------------------------------------------
 *
 * Per layer, δ comes from a geometric grid σ_l · 2^(−c/2), c = 2..20 (σ_l: the spread of the
 * layer's active weights), and minimises the layer's value bits plus the data bits on
 * mdl.search_rows rows scaled to the whole set, the other layers held at their current steps.
 * At most two coordinate sweeps over the layers.
 *
 * Scanning all 19 points costs 19 forward passes per layer per sweep. Over c the cost is
 * mostly valley-shaped (the value bits grow by about half a bit per weight per step, while the
 * data bits' excess over the unquantised model shrinks like δ²), so each layer walks from
 * where it stands instead: from c = 2 in the first sweep, from its last choice in the second,
 * towards cheaper points, passing over up to SEARCH_PATIENCE dearer ones in a row. The
 * patience is for small layers, whose cost is not smooth: hinton93's 4-weight output layer
 * costs 761.1, 761.2, 745.5, 725.5 bits at c = 2, 3, 4, 5, and stopping at the first step
 * up gave 35 bits more in all. A sweep that moves no layer ends the search: another would
 * repeat its evaluations. On LeNet every layer's best step is σ_l/2 (c = 2, the grid's edge),
 * so the search costs 3 evaluations per layer instead of 38. The tests check the walk against
 * the full scan.
 *
 * Why the grid stops at σ_l/2: coarser steps lower L further on LeNet (at δ = σ_l, 130,385
 * bits against 140,347 for the 95%-sparse model) but cost 0.85 points of test accuracy as
 * coded. The edge is a guard on accuracy, not a choice of the code length.
 *
 * While layer l is searched, the layers before it do not change, so their output on the
 * search rows is computed once (one layer's forward pass, from the previous layer's) and
 * every candidate runs only layers l.. on. If those buffers cannot be had, each candidate
 * runs the whole forward pass instead: the same bits, more time. They are asked for only
 * where they fit (rows_cache_fits). */

enum { GRID_LO = 2, GRID_HI = 20, GRID_START = 2, SEARCH_PATIENCE = 2 };

typedef struct search {
    const occam_model *m;
    const occam_dataset *train;
    double target_precision, scale, sd;
    size_t rows;
    int threads, l;
    const occam_prior *prior;
    float *q;            /* quantised parameters: layer l is rewritten per candidate */
    const float *in;     /* layer l's inputs on the search rows, or NULL: from the data */
    double cost[GRID_HI + 1];
    bool out_of_memory;  /* a candidate's data code could not get its scratch */
} search;

static double grid_step(double sd, int c) { return step(sd * pow(2.0, -0.5 * c)); }

static double search_cost(search *s, int c)
{
    if (isnan(s->cost[c])) {
        double d = grid_step(s->sd, c);
        quantize_layer(s->q, s->m, s->l, d);
        int first = s->in ? s->l : 0;
        double data = INFINITY;
        if (dl_data_bits_from(s->m, s->q, s->train, s->rows, first, s->in, s->target_precision,
                           s->threads, &data) != OCCAM_OK)
            s->out_of_memory = true;
        s->cost[c] = layer_value_bits(s->m, s->l, d, s->prior, s->threads) + s->scale * data;
    }
    return s->cost[c];
}

/* From `start`, looks each way for a cheaper grid point, passing over up to SEARCH_PATIENCE
 * costlier ones in a row before giving up on that direction; returns the cheapest point seen
 * (ties go to the one seen first). */
static int search_walk(search *s, int start)
{
    for (int c = 0; c <= GRID_HI; c++) s->cost[c] = NAN;
    int best = start;
    search_cost(s, best);
    for (int dir = -1; dir <= 1; dir += 2) {
        int misses = 0;
        for (int c = best + dir; c >= GRID_LO && c <= GRID_HI && misses < SEARCH_PATIENCE;
             c += dir) {
            if (search_cost(s, c) < s->cost[best]) {
                best = c;
                misses = 0;
            } else {
                misses++;
            }
        }
    }
    return best;
}

/* OCCAM_ERR_RUNTIME if a candidate's data code could not get its scratch. */
static int search_deltas(occam_dl *dl, const occam_model *m, const occam_dl_params *p,
                         const occam_dataset *train, int threads, float *q)
{
    const occam_layout *lay = &m->lay;
    int L = lay->nlayers, choice[OCCAM_MAX_LAYERS];
    search s = {.m = m, .train = train, .target_precision = p->target_precision,
                .threads = threads, .q = q};
    s.rows = p->search_rows ? (size_t)p->search_rows : train->n;
    if (s.rows > train->n) s.rows = train->n;
    s.scale = (double)train->n / (double)s.rows;
    size_t hidden = 0;
    for (int l = 1; l < L; l++)
        hidden = (size_t)lay->width[l] > hidden ? (size_t)lay->width[l] : hidden;
    float *buf[2] = {NULL, NULL};
    if (L > 1 && rows_cache_fits(s.rows, hidden)) {
        buf[0] = occam_alloc(s.rows * hidden, sizeof(float));
        buf[1] = occam_alloc(s.rows * hidden, sizeof(float));
    }
    bool cached = buf[0] && buf[1];
    for (int l = 0; l < L; l++) {
        choice[l] = GRID_START;
        dl->layer[l].delta = grid_step(active_std(m, l), GRID_START);
        quantize_layer(q, m, l, dl->layer[l].delta);
    }
    bool moved = true;
    for (int sweep = 0; sweep < 2 && moved; sweep++) {
        s.in = NULL;
        moved = false;
        for (int l = 0; l < L; l++) {
            if (dl->layer[l].k > 0) {
                s.l = l;
                s.sd = active_std(m, l);
                s.prior = &dl->layer[l].prior;
                int c = search_walk(&s, choice[l]);
                moved |= c != choice[l];
                choice[l] = c;
                dl->layer[l].delta = grid_step(s.sd, choice[l]);
                quantize_layer(q, m, l, dl->layer[l].delta);
            }
            if (cached && l + 1 < L) { /* layer l+1's inputs, for its candidates */
                layer_rows a = {.m = m, .params = q, .ds = train, .l = l, .in = s.in,
                                .z = buf[l % 2], .out = buf[l % 2]};
                occam_sum_chunked(threads, s.rows, DATA_CHUNK, advance_chunk, &a);
                s.in = buf[l % 2];
            }
        }
    }
    free(buf[0]);
    free(buf[1]);
    return s.out_of_memory ? OCCAM_ERR_RUNTIME : OCCAM_OK;
}

/* A masked (pruned, or dropped by the sparse prior) weight is exactly 0: which ones are is
 * sent unit by unit, then weight by weight (maskcode.h). The ranks agree on running out. */
static int mask_bits(occam_dl *dl, const occam_model *m)
{
    uint64_t k[OCCAM_MAX_LAYERS] = {0};
    for (int l = 0; l < m->lay.nlayers; l++) k[l] = dl->layer[l].k;
    occam_mask_units u;
    int rc = dl_scratch_agreed(
        occam_mask_units_find_grid(&u, &m->lay, m->mask, k, dl->grid_w) == OCCAM_OK);
    for (int l = 0; l < m->lay.nlayers && rc == OCCAM_OK; l++)
        dl->layer[l].mask_bits = occam_mask_units_bits(&u, &m->lay, k, l);
    dl->layer[0].grid_mask = rc == OCCAM_OK && u.by_grid && k[0] < dl->layer[0].n;
    occam_mask_units_free(&u);
    return rc;
}

int occam_dl_grid_w(const occam_model *m, const occam_dataset *train)
{
    int gw = train->grid_w, in = m->lay.width[0];
    return gw > 0 && (size_t)in == train->d && in % gw == 0 ? gw : 0;
}

/* Layer 0 on an image grid: its values as |q| under the folded prior and signs by their
 * neighbours (src/mdl/gridcode.h) when that is shorter, with the bit that names the choice.
 * The step search above measured the plain code. */
static int grid_values(occam_dl *dl, const occam_model *m)
{
    occam_dl_layer *y = &dl->layer[0];
    double grid = 0;
    int rc = dl_scratch_agreed(occam_grid_value_bits(m->params + m->lay.w_off[0],
                                                     m->mask ? m->mask + m->lay.w_off[0] : NULL,
                                                     y->in, y->out,
                                                     y->delta, &y->prior, dl->grid_w,
                                                     &grid) == OCCAM_OK);
    if (rc != OCCAM_OK) return rc;
    y->grid_signs = grid < y->value_bits;
    y->value_bits = 1.0 + (y->grid_signs ? grid : y->value_bits);
    return OCCAM_OK;
}

static int dl_compute(occam_dl *dl, const occam_model *m, const occam_dl_params *p,
                      const occam_noise_params *noise, const occam_dataset *train, int threads,
                      float *qparams, occam_error *err)
{
    dl->code = p->model_code;
    dl->nlayers = m->lay.nlayers;
    dl->rows = train->n;
    if (train->n == 0) return occam_error_set(err, OCCAM_ERR_INPUT, "no training data to code");
    const occam_layout *lay = &m->lay;
    dl->grid_w = occam_dl_grid_w(m, train);
    for (int l = 0; l < lay->nlayers; l++) {
        occam_dl_layer *y = &dl->layer[l];
        y->in = lay->width[l];
        y->out = lay->width[l + 1];
        y->n = (uint64_t)y->in * y->out;
        y->k = occam_model_active_weights(m, l);
        y->bias_bits = 32.0 * y->out;
        dl->dense_bits += 32.0 * (double)(y->n + (uint64_t)y->out);
    }
    if (dl->code != OCCAM_MDL_COUNT && mask_bits(dl, m) != OCCAM_OK)
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory");
    if (dl->code == OCCAM_MDL_BITS_BACK) return bits_back(dl, m, p, noise, train, threads, err);
    if (dl->code == OCCAM_MDL_TWO_PART && p->precision == OCCAM_PRECISION_POSTERIOR && !m->rho)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "mdl.precision = posterior needs a noisy-weight model (its σ "
                               "sets the steps); this one has none");
    float *q = NULL;
    if (dl->code == OCCAM_MDL_COUNT) {
        /* every active weight and every bias at bits_per_weight; the layers' rows add up to
         * the total (they said 0 for the weights and 32 a bias, whatever bits_per_weight) */
        for (int l = 0; l < lay->nlayers; l++) {
            occam_dl_layer *y = &dl->layer[l];
            y->value_bits = p->bits_per_weight * (double)y->k;
            y->bias_bits = p->bits_per_weight * (double)y->out;
            dl->model_bits += y->value_bits + y->bias_bits;
        }
    } else {
        q = qparams ? qparams : occam_alloc(lay->nparams, sizeof(float));
        if (dl_scratch_agreed(q != NULL) != OCCAM_OK) {
            if (q != qparams) free(q);
            return occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory");
        }
        memcpy(q, m->params, lay->nparams * sizeof(float));
        int rc = OCCAM_OK;
        for (int l = 0; l < lay->nlayers && rc == OCCAM_OK; l++) {
            occam_dl_layer *y = &dl->layer[l];
            if (y->k == 0) continue;
            bool mog = p->prior == OCCAM_PRIOR_MOG;
            rc = occam_prior_fit(&y->prior, mog ? p->components : 1, mog,
                                 m->params + lay->w_off[l], (size_t)y->n,
                                 m->mask ? m->mask + lay->w_off[l] : NULL, 1e-6, err);
            occam_dl_prior_round(&y->prior);
        }
        /* A mixture's fit allocates: a rank out of memory there returned while the others
         * went on to the step search's sums, and waited in them for ever. */
        if (dl_scratch_agreed(rc == OCCAM_OK) != OCCAM_OK && rc == OCCAM_OK)
            rc = occam_error_set(err, OCCAM_ERR_RUNTIME, "another rank ran out of memory "
                                 "fitting the priors");
        if (rc == OCCAM_OK && occam_dl_posterior_precision(p, m))
            for (int l = 0; l < lay->nlayers; l++) {
                dl->layer[l].delta = step(posterior_step(m, l));
                quantize_layer(q, m, l, dl->layer[l].delta);
            }
        else if (rc == OCCAM_OK && p->weight_precision > 0)
            for (int l = 0; l < lay->nlayers; l++) {
                dl->layer[l].delta = step(p->weight_precision);
                quantize_layer(q, m, l, dl->layer[l].delta);
            }
        else if (rc == OCCAM_OK && search_deltas(dl, m, p, train, threads, q) != OCCAM_OK)
            rc = occam_error_set(err, OCCAM_ERR_RUNTIME,
                                 "out of memory for the data code's scratch (%d threads)",
                                 threads);
        /* A layer without active weights codes no weights at its δ: its δ becomes the
         * biases' base, since the .occ file keeps one step per layer and its reader takes the
         * biases' step as δ·2^−shift. With the δ of the precision rule (1e-3 at the posterior
         * precision, the search's first grid step) compress wrote biases coded at 2^−shift,
         * and eval decoded them at 1e-3·2^−shift: a different model, silently (or 'coded
         * stream is damaged'), once noise.log_alpha masked a whole layer. */
        double base[OCCAM_MAX_LAYERS];
        for (int l = 0; l < lay->nlayers; l++) {
            base[l] = dl->layer[l].k ? dl->layer[l].delta : step(active_std(m, l));
            dl->layer[l].delta = base[l];
        }
        if (rc == OCCAM_OK && code_biases(dl, m, p, train, threads, q, base) != OCCAM_OK)
            rc = occam_error_set(err, OCCAM_ERR_RUNTIME,
                                 "out of memory for the data code's scratch (%d threads)",
                                 threads);
        if (rc != OCCAM_OK) {
            if (q != qparams) free(q);
            return rc;
        }
        for (int l = 0; l < lay->nlayers; l++) {
            occam_dl_layer *y = &dl->layer[l];
            if (y->k) {
                y->value_bits = layer_value_bits(m, l, y->delta, &y->prior, threads);
                y->overhead_bits = 32.0 * (prior_params(&y->prior) + 1);
            } else {
                y->overhead_bits = 32.0; /* δ, the biases' base, which the file keeps */
            }
            if (y->k && l == 0 && dl->grid_w && grid_values(dl, m) != OCCAM_OK) {
                if (q != qparams) free(q);
                return occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory");
            }
            dl->model_bits += y->mask_bits + y->value_bits + y->overhead_bits + y->bias_bits;
        }
    }
    double t0 = occam_clock_now();
    int rc = occam_dl_data_bits(m, q ? q : m->params, train, 0, p->target_precision, threads,
                                &dl->data_bits);
    dl->seconds = occam_clock_now() - t0;
    dl->total_bits = dl->model_bits + dl->data_bits;
    if (q && q != qparams) free(q);
    if (rc != OCCAM_OK)
        return occam_error_set(err, rc, "out of memory for the data code's scratch (%d threads)",
                               threads);
    return OCCAM_OK;
}

/* Bayesian compression masks the weights of low signal-to-noise before coding at the posterior
 * precision. That is not always shorter: a dense posterior (a Gaussian or mixture prior) has
 * many such weights that carry the signal together, and the kept ones' narrower σ set finer
 * steps (LeNet under the mixture's defaults: masked, 222,167 weights gone and the training
 * loss 2.6× higher). So both are measured on a masked view of m, and the shorter kept; the
 * decoder reads the mask either way. */
static int dl_low_snr(occam_dl *dl, const occam_model *m, const occam_dl_params *p,
                      const occam_noise_params *noise, const occam_dataset *train, int threads,
                      float *qparams, occam_error *err)
{
    int rc = dl_compute(dl, m, p, noise, train, threads, qparams, err);
    if (rc != OCCAM_OK || !noise || dl->code != OCCAM_MDL_TWO_PART ||
        !occam_dl_posterior_precision(p, m))
        return rc;
    size_t n = occam_noise_low_snr(m, noise->log_alpha, NULL, NULL);
    if (n == 0) return OCCAM_OK;
    size_t np = m->lay.nparams;
    occam_model v = *m;
    v.params = occam_alloc(np, sizeof(float));
    v.mask = occam_alloc(np, 1);
    float *q = qparams ? occam_alloc(np, sizeof(float)) : NULL;
    /* without the memory for the view, the code as trained stands (the choice is not made) */
    if (dl_scratch_agreed(v.params && v.mask && (q || !qparams)) == OCCAM_OK) {
        memcpy(v.params, m->params, np * sizeof(float));
        if (m->mask) memcpy(v.mask, m->mask, np);
        else memset(v.mask, 1, np);
        occam_noise_low_snr(m, noise->log_alpha, v.mask, v.params);
        occam_dl alt;
        memset(&alt, 0, sizeof alt);
        rc = dl_compute(&alt, &v, p, noise, train, threads, q, err);
        /* a code that is not finite (NaN bits) loses to one that is */
        bool shorter = alt.total_bits < dl->total_bits ||
                       (isnan(dl->total_bits) && !isnan(alt.total_bits));
        if (rc == OCCAM_OK) {
            double other = shorter ? dl->total_bits : alt.total_bits;
            if (shorter) {
                *dl = alt;
                if (q) memcpy(qparams, q, np * sizeof(float));
            }
            dl->low_snr = n;
            dl->low_snr_masked = shorter;
            dl->low_snr_other_bits = other;
        } else if (err) { /* the view's code failed (its scratch): the code as trained stands */
            err->msg[0] = 0;
            err->status = OCCAM_OK;
        }
        rc = OCCAM_OK;
    }
    free(v.params);
    free(v.mask);
    free(q);
    return rc;
}

int occam_dl_compute(occam_dl *dl, const occam_model *m, const occam_dl_params *p,
                     const occam_noise_params *noise, const occam_dataset *train, int threads,
                     float *qparams, occam_error *err)
{
    memset(dl, 0, sizeof *dl);
    double t0 = occam_clock_now();
    int rc = occam_gemm_prepare(threads, err);
    if (rc == OCCAM_OK) rc = dl_low_snr(dl, m, p, noise, train, threads, qparams, err);
    dl->total_seconds = occam_clock_now() - t0;
    /* Targets of ~1e38 are finite floats, but their residuals in original units are not: a
     * data code of inf or NaN bits must not be printed, compared or written as a number. */
    if (rc == OCCAM_OK && !isfinite(dl->data_bits))
        rc = occam_error_set(err, OCCAM_ERR_INPUT, "the data code's length is not finite "
                             "(%s): a residual, the residuals' RMS σ (sent as a float32) or "
                             "an output overflows float32; check the "
                             "range of the training targets and the model's σ",
                             isnan(dl->data_bits) ? "NaN bits: an output is NaN" : "inf bits");
    /* So must a model code past any length: weights a step's bins cannot reach (|w|/δ beyond
     * 2^31 − 1, past the file's 32-bit bin indices, or 2^52, where a bin has no width left in
     * double), e.g. 1e13 in a layer coded at 5e-4, or 5 at mdl.weight_precision = 1e-9.
     * Each such value costs DBL_MAX bits (occam_codes_value_bits), so one of them alone left a
     * finite DBL_MAX: mdl and train printed a 309-digit length and exited 0 (a bias of 1e15 at
     * the posterior step 1e-6, after SGD at lr 10), and only two or more summed to inf. */
    for (int l = 0; rc == OCCAM_OK && !(dl->model_bits < DBL_MAX) && l < dl->nlayers; l++) {
        const occam_dl_layer *y = &dl->layer[l];
        /* the biases' step is the weights' δ or (bits-back, where the weights have no step)
         * the layer's RMS posterior σ, times 2^−shift: a message naming δ and
         * mdl.weight_precision said "at step 0" of a bits-back code, which reads neither */
        if (!(y->bias_bits < DBL_MAX) &&
            y->value_bits + y->mask_bits + y->overhead_bits < DBL_MAX) {
            char base[96];
            if (dl->code == OCCAM_MDL_BITS_BACK)
                snprintf(base, sizeof base, "the layer's RMS posterior σ");
            else if (p->weight_precision > 0)
                snprintf(base, sizeof base, "the weights' step δ (mdl.weight_precision = %g)",
                         p->weight_precision);
            else
                snprintf(base, sizeof base, "the weights' step δ");
            rc = occam_error_set(err, OCCAM_ERR_INPUT, "the model code's length is not finite: "
                                 "layer %d's biases lie beyond any code length at their step "
                                 "%g (values over 2^31 - 1 steps from 0, past the 32-bit bin "
                                 "indices a .occ file holds): the step is %s times 2^-%d, far "
                                 "finer than the biases (a step finer than the values, or "
                                 "biases far larger than the rest, as a diverged run or a "
                                 "damaged file leaves)", l, y->bias_delta, base, y->bias_shift);
        } else if (!(y->value_bits + y->bias_bits + y->mask_bits + y->overhead_bits < DBL_MAX)) {
            rc = occam_error_set(err, OCCAM_ERR_INPUT, "the model code's length is not finite: "
                                 "layer %d's parameters lie beyond any code length at step %g "
                                 "(values over 2^31 - 1 steps from 0, past the 32-bit bin "
                                 "indices a .occ file holds: a step far finer than the values "
                                 "(mdl.weight_precision), or weights or biases far larger than "
                                 "the rest of the layer, as a diverged run or a damaged file "
                                 "leaves)", l, y->delta);
        }
    }
    if (rc == OCCAM_OK && !(dl->model_bits < DBL_MAX))
        rc = occam_error_set(err, OCCAM_ERR_INPUT, "the model code's length is not finite");
    return rc;
}

static void prior_text(char *buf, size_t cap, const occam_prior *p)
{
    if (p->k == 0) {
        snprintf(buf, cap, "-");
        return;
    }
    if (p->k == 1) {
        snprintf(buf, cap, "N(%.3g, %.3g²)", p->mu[0], p->sigma[0]);
        return;
    }
    snprintf(buf, cap, "MoG%d (π0 %.2f, σ0 %.2g)", p->k, p->pi[0], p->sigma[0]);
}

void occam_dl_write_table(const occam_dl *dl, FILE *out)
{
    fprintf(out, "model code %s\n", occam_dl_code_name(dl->code));
    fprintf(out, "%5s %6s %6s %9s %9s %10s %-24s %11s %11s %9s %9s\n", "layer", "in", "out", "n",
            "k", "delta", "prior", "mask bits", "value bits", "overhead", "biases");
    for (int l = 0; l < dl->nlayers; l++) {
        const occam_dl_layer *y = &dl->layer[l];
        char pr[64];
        prior_text(pr, sizeof pr, &y->prior);
        fprintf(out, "%5d %6d %6d %9llu %9llu %10.4g %-24s %11.0f %11.0f %9.0f %9.0f\n", l, y->in,
                y->out, (unsigned long long)y->n, (unsigned long long)y->k, y->delta, pr,
                y->mask_bits, y->value_bits, y->overhead_bits, y->bias_bits);
    }
    fprintf(out, "model bits %.0f (%.1f KiB; dense float32 %.1f KiB, %.1fx smaller)\n",
            dl->model_bits, dl->model_bits / 8192.0, dl->dense_bits / 8192.0,
            dl->dense_bits / dl->model_bits);
    fprintf(out, "data bits  %.0f (%zu training rows, %.3f bits/row)\n", dl->data_bits, dl->rows,
            dl->data_bits / (double)dl->rows);
    if (dl->code == OCCAM_MDL_BITS_BACK)
        fprintf(out, "posterior widths sent at %g x the trained sigma\n", dl->sigma_scale);
    const occam_dl_layer *y0 = &dl->layer[0];
    if (dl->grid_w && y0->k && (y0->grid_mask || y0->grid_signs))
        fprintf(out, "layer 0 sends its %s by the neighbours on the %d-pixel-wide input image\n",
                y0->grid_mask && y0->grid_signs ? "mask and signs"
                : y0->grid_mask                 ? "mask"
                                                : "signs",
                dl->grid_w);
    fprintf(out, "total bits %.0f\n", dl->total_bits);
}

void occam_dl_write_prior(occam_json *j, const occam_prior *p)
{
    occam_json_key(j, "components");
    occam_json_int(j, p->k);
    const char *names[3] = {"pi", "mu", "sigma"};
    const double *vals[3] = {p->pi, p->mu, p->sigma};
    for (int a = 0; a < 3; a++) {
        occam_json_key(j, names[a]);
        occam_json_begin_array(j);
        for (int c = 0; c < p->k; c++) occam_json_number(j, vals[a][c]);
        occam_json_end_array(j);
    }
}

void occam_dl_write_json(const occam_dl *dl, occam_json *j)
{
    occam_json_begin_object(j);
    occam_json_key(j, "model_code");
    occam_json_string(j, occam_dl_code_name(dl->code));
    occam_json_key(j, "model_bits");
    occam_json_number(j, dl->model_bits);
    occam_json_key(j, "data_bits");
    occam_json_number(j, dl->data_bits);
    occam_json_key(j, "total_bits");
    occam_json_number(j, dl->total_bits);
    occam_json_key(j, "dense_bits");
    occam_json_number(j, dl->dense_bits);
    if (dl->code == OCCAM_MDL_BITS_BACK) {
        occam_json_key(j, "sigma_scale");
        occam_json_number(j, dl->sigma_scale);
    }
    if (dl->low_snr) {
        occam_json_key(j, "low_snr_weights");
        occam_json_uint(j, dl->low_snr);
        occam_json_key(j, "low_snr_masked");
        occam_json_bool(j, dl->low_snr_masked);
        occam_json_key(j, "low_snr_other_bits");
        occam_json_number(j, dl->low_snr_other_bits);
    }
    occam_json_key(j, "rows");
    occam_json_uint(j, dl->rows);
    occam_json_key(j, "grid_w");
    occam_json_int(j, dl->grid_w);
    occam_json_key(j, "data_seconds");
    occam_json_number(j, dl->seconds);
    occam_json_key(j, "seconds");
    occam_json_number(j, dl->total_seconds);
    occam_json_key(j, "layers");
    occam_json_begin_array(j);
    for (int l = 0; l < dl->nlayers; l++) {
        const occam_dl_layer *y = &dl->layer[l];
        occam_json_begin_object(j);
        occam_json_key(j, "in");
        occam_json_int(j, y->in);
        occam_json_key(j, "out");
        occam_json_int(j, y->out);
        occam_json_key(j, "n");
        occam_json_uint(j, y->n);
        occam_json_key(j, "k");
        occam_json_uint(j, y->k);
        occam_json_key(j, "delta");
        occam_json_number(j, y->delta);
        occam_json_key(j, "prior");
        occam_json_begin_object(j);
        occam_dl_write_prior(j, &y->prior);
        occam_json_end_object(j);
        occam_json_key(j, "mask_bits");
        occam_json_number(j, y->mask_bits);
        occam_json_key(j, "value_bits");
        occam_json_number(j, y->value_bits);
        occam_json_key(j, "overhead_bits");
        occam_json_number(j, y->overhead_bits);
        occam_json_key(j, "bias_bits");
        occam_json_number(j, y->bias_bits);
        occam_json_key(j, "grid_mask");
        occam_json_bool(j, y->grid_mask);
        occam_json_key(j, "grid_signs");
        occam_json_bool(j, y->grid_signs);
        occam_json_end_object(j);
    }
    occam_json_end_array(j);
    occam_json_end_object(j);
}

const char *const occam_dl_code_names[] = {
    [OCCAM_MDL_TWO_PART] = "two-part", [OCCAM_MDL_COUNT] = "count",
    [OCCAM_MDL_BITS_BACK] = "bits-back", NULL};

const char *occam_dl_code_name(occam_model_code c)
{
    return (unsigned)c <= OCCAM_MDL_BITS_BACK ? occam_dl_code_names[c]
                                              : occam_dl_code_names[OCCAM_MDL_TWO_PART];
}

int occam_dl_check_trained(const occam_dl_params *p, bool noise_enabled, occam_error *err)
{
    if (p->model_code == OCCAM_MDL_TWO_PART && p->precision == OCCAM_PRECISION_POSTERIOR &&
        !noise_enabled)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "mdl.precision = posterior takes the steps from the posterior "
                               "σ of noisy weights, and this run trains without them "
                               "(noise.enabled = false): use auto or search, or set "
                               "noise.enabled = true");
    return OCCAM_OK;
}

int occam_dl_check(const occam_dl_params *p, bool noise_enabled, occam_error *err)
{
    if (p->model_code == OCCAM_MDL_BITS_BACK && !noise_enabled)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "mdl.model_code: bits-back codes noisy weights (set "
                               "noise.enabled = true)");
    if (p->prior == OCCAM_PRIOR_SPARSE)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "mdl.prior = sparse: the log-uniform prior is improper and codes "
                               "nothing; mdl.prior takes gaussian or mog (sparse is a noise.prior)");
    /* 1e-20 made a weight's bin q ± δ/2 one double, and 1e-300 a float32 step of 0: both
     * aborted mdl and compress */
    if (p->weight_precision > 0 && p->weight_precision < 1e-9)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "mdl.weight_precision: %g is finer than a float32 weight resolves; "
                               "use 0 (chosen per layer) or a step of at least 1e-9",
                               p->weight_precision);
    return OCCAM_OK;
}
