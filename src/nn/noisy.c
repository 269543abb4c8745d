/* Noisy weights (Hinton & van Camp; see occam/noisy.h and noisy-impl.h): the priors' per-epoch
 * refits and KL gradients, the forward pass with the local reparameterisation (shared with the
 * description length), and the trainer's noisy stages: its state, backward pass and update. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "noisy-impl.h"
#include "occam/gemm.h"
#include "kernels.h"
#include "occam/mem.h"
#include "occam/noisy.h"
#include "vmath.h"

static int pinned(const occam_prior *p, int c) { return c == 0 && p->pinned0 && p->k > 1; }

int occam_noise_responsibilities(const occam_prior *p, double mu, double *r)
{
    double mx = -INFINITY, tot = 0.0;
    int best = 0;
    for (int c = 0; c < p->k; c++) {
        double z = (mu - p->mu[c]) / p->sigma[c];
        r[c] = (p->k == 1 ? 0.0 : log(p->pi[c])) - log(p->sigma[c]) - 0.5 * z * z;
        if (r[c] > mx) {
            mx = r[c];
            best = c;
        }
    }
    for (int c = 0; c < p->k; c++) tot += r[c] = exp(r[c] - mx);
    for (int c = 0; c < p->k; c++) r[c] /= tot;
    return best;
}

double noisy_kl_bound(const occam_prior *p, double mu, double sigma, const double *rho,
                      noisy_kl_grad *g)
{
    int k = p->k;
    double u = -log(sigma) - 0.5, s2 = sigma * sigma;
    double free_r = 0.0, free_pi = 0.0, curv = 0.0, gmu = 0.0;
    for (int c = 0; c < k; c++) {
        double v = 1.0 / (p->sigma[c] * p->sigma[c]), d = mu - p->mu[c], r = rho[c];
        if (r > 0.0)
            u += r * ((k == 1 ? 0.0 : -log(p->pi[c])) + log(p->sigma[c]) + 0.5 * (d * d + s2) * v +
                      log(r));
        if (!g) continue;
        gmu += r * d * v;
        curv += r * v;
        g->m[c] = pinned(p, c) ? 0.0 : -r * d * v;
        g->log_s[c] = r * (1.0 - (d * d + s2) * v);
        if (!pinned(p, c)) {
            free_r += r;
            free_pi += p->pi[c];
        }
    }
    if (!g) return u;
    g->mu = gmu;
    g->sigma = -1.0 / sigma + sigma * curv;
    /* ∂U/∂ln π_c = −ρ_c; π over the free components is (1 − π_fixed)·softmax(η) */
    for (int c = 0; c < k; c++)
        g->logit[c] = pinned(p, c) || k == 1 ? 0.0 : -rho[c] + p->pi[c] / free_pi * free_r;
    return u;
}

double noisy_kl(const occam_prior *p, double mu, double sigma, noisy_kl_grad *g)
{
    double r[OCCAM_PRIOR_MAX];
    occam_noise_responsibilities(p, mu, r);
    return noisy_kl_bound(p, mu, sigma, r, g);
}

/* Soft weight sharing: the zero component keeps a fixed, large mixing proportion
 * (noise.zero_weight; the others share the rest in their fitted ratio). Left free, EM lets the
 * other components absorb every weight and the zero component's weight collapses: then nothing
 * is pulled to zero. Its width is EM's, as the Gaussian prior's is MacKay's: it starts as wide
 * as the initial weights and narrows as the weights the data do not hold shrink. (A width capped
 * at a tenth of the weights' RMS from the start pulled weights to zero before the data could
 * hold them, and left the rest at their initial values under wide components: on union, a net
 * of the majority class at 1,632 bits-back model bits against 316 for the Gaussian.) That cap
 * is noise.zero_cap, a compression prior's choice: cap > 0 bounds the width at every fit. */
static void pin_zero_component(occam_prior *p, double zero_weight, double cap)
{
    if (p->k < 2 || !p->pinned0) return;
    double rest = 0.0;
    for (int c = 1; c < p->k; c++) rest += p->pi[c];
    for (int c = 1; c < p->k; c++)
        p->pi[c] = rest > 0 ? (1.0 - zero_weight) * p->pi[c] / rest : (1.0 - zero_weight) / (p->k - 1);
    p->pi[0] = zero_weight;
    if (cap > 0.0 && p->sigma[0] > cap) p->sigma[0] = cap; /* noise.zero_cap */
}

/* The weights a prior is fitted to: layer l's, or (one prior for the network) every layer's,
 * as segments of the parameter vector. */
typedef struct {
    const float *w, *rho;
    const uint8_t *mk;
    size_t n;
} weight_seg;

static int prior_segments(weight_seg *seg, const occam_model *m, int l, bool all)
{
    const occam_layout *lay = &m->lay;
    int k = 0;
    for (int j = all ? 0 : l; j < (all ? lay->nlayers : l + 1); j++, k++) {
        size_t o = lay->w_off[j];
        seg[k] = (weight_seg){m->params + o, m->rho + o, m->mask ? m->mask + o : NULL,
                              (size_t)lay->width[j] * lay->width[j + 1]};
    }
    return k;
}

/* RMS of the active weights (1 if none): the scale of the gradient refit's mean steps. */
static double active_rms(const weight_seg *seg, int nseg)
{
    double ss = 0.0;
    size_t act = 0;
    for (int s = 0; s < nseg; s++)
        for (size_t i = 0; i < seg[s].n; i++)
            if (!seg[s].mk || seg[s].mk[i]) {
                ss += (double)seg[s].w[i] * seg[s].w[i];
                act++;
            }
    return act ? sqrt(ss / (double)act) : 1.0;
}

/* noise.prior_update = gradient: Adam steps on the mean of K(μ_i, σ_i; p) over the active
 * weights, in the mixture's free parameters θ = (m_c, ln s_c, η_c). Means move in units of the
 * weights' RMS, so one learning rate suits every layer. Serial and in a fixed order. */
static void refit_gradient(occam_prior *p, const weight_seg *seg, int nseg, double spread,
                           int steps, double zero_weight, double cap)
{
    enum { NP = 3 * OCCAM_PRIOR_MAX };
    const double lr = 0.02, b1 = 0.9, b2 = 0.999;
    double m1[NP] = {0}, m2[NP] = {0};
    int k = p->k;
    double eta[OCCAM_PRIOR_MAX];
    for (int c = 0; c < k; c++) eta[c] = log(p->pi[c] > 1e-300 ? p->pi[c] : 1e-300);
    double fixed = 0.0;
    for (int c = 0; c < k; c++)
        if (pinned(p, c)) fixed += p->pi[c];
    for (int it = 1; it <= steps; it++) {
        double gs[NP] = {0};
        size_t act = 0;
        for (int s = 0; s < nseg; s++)
            for (size_t i = 0; i < seg[s].n; i++) {
                if (seg[s].mk && !seg[s].mk[i]) continue;
                noisy_kl_grad g;
                noisy_kl(p, seg[s].w[i], noisy_softplus(seg[s].rho[i]), &g);
                for (int c = 0; c < k; c++) {
                    gs[c] += g.m[c] * spread;
                    gs[OCCAM_PRIOR_MAX + c] += g.log_s[c];
                    gs[2 * OCCAM_PRIOR_MAX + c] += g.logit[c];
                }
                act++;
            }
        if (!act) return;
        double step[NP];
        for (int j = 0; j < NP; j++) {
            double gj = gs[j] / (double)act;
            m1[j] = b1 * m1[j] + (1 - b1) * gj;
            m2[j] = b2 * m2[j] + (1 - b2) * gj * gj;
            double mh = m1[j] / (1 - pow(b1, it)), vh = m2[j] / (1 - pow(b2, it));
            step[j] = lr * mh / (sqrt(vh) + 1e-12);
        }
        double emax = -INFINITY, esum = 0.0;
        for (int c = 0; c < k; c++) {
            if (!pinned(p, c)) p->mu[c] -= step[c] * spread;
            double ls = log(p->sigma[c]) - step[OCCAM_PRIOR_MAX + c];
            p->sigma[c] = fmax(exp(ls), 1e-4 * spread);
            if (pinned(p, c)) continue;
            eta[c] -= step[2 * OCCAM_PRIOR_MAX + c];
            emax = eta[c] > emax ? eta[c] : emax;
        }
        for (int c = 0; c < k; c++)
            if (!pinned(p, c)) esum += exp(eta[c] - emax);
        for (int c = 0; c < k; c++)
            if (!pinned(p, c)) p->pi[c] = (1.0 - fixed) * exp(eta[c] - emax) / esum;
        pin_zero_component(p, zero_weight, cap);
    }
}

/* The mixture's first fit, to μ of the segments: from one contiguous copy when there are
 * several, one per layer. occam_prior_fit's status: OCCAM_ERR_RUNTIME when the copy or the
 * fit's scratch cannot be had. (Fitting layer 0's weights alone instead, as this once did,
 * gave the network a prior that depended on the free memory, without a word.) */
static int first_fit(occam_prior *p, const weight_seg *seg, int nseg, int k)
{
    if (nseg == 1)
        return occam_prior_fit(p, k, true, seg[0].w, seg[0].n, seg[0].mk, 1e-4, NULL);
    size_t n = 0;
    bool masked = false;
    for (int s = 0; s < nseg; s++) {
        n += seg[s].n;
        masked |= seg[s].mk != NULL;
    }
    float *w = malloc(n * sizeof *w);
    uint8_t *mk = masked ? malloc(n) : NULL;
    if (!w || (masked && !mk)) {
        free(w);
        free(mk);
        return OCCAM_ERR_RUNTIME;
    }
    for (size_t s = 0, o = 0; s < (size_t)nseg; o += seg[s].n, s++) {
        memcpy(w + o, seg[s].w, seg[s].n * sizeof *w);
        if (mk) {
            if (seg[s].mk) memcpy(mk + o, seg[s].mk, seg[s].n);
            else memset(mk + o, 1, seg[s].n);
        }
    }
    int rc = occam_prior_fit(p, k, true, w, n, mk, 1e-4, NULL);
    free(w);
    free(mk);
    return rc;
}

int occam_noise_prior_fit(occam_prior *p, const occam_model *m, int l,
                          const occam_noise_params *np, bool first)
{
    double zero_weight = np->zero_weight;
    if (np->prior == OCCAM_PRIOR_SPARSE) { /* no parameters: a placeholder for the files */
        *p = occam_prior_gauss(0.0, 1.0);
        return OCCAM_OK;
    }
    weight_seg seg[OCCAM_MAX_LAYERS];
    int nseg = prior_segments(seg, m, l, occam_noise_one_prior(np));
    if (np->prior == OCCAM_PRIOR_GAUSSIAN) {
        /* MacKay's evidence width: s² = mean of μ² + σ² over the layer, or the network */
        double ss = 0.0;
        size_t k = 0;
        for (int s = 0; s < nseg; s++)
            for (size_t i = 0; i < seg[s].n; i++) {
                if (seg[s].mk && !seg[s].mk[i]) continue;
                double sg = noisy_softplus(seg[s].rho[i]);
                ss += (double)seg[s].w[i] * seg[s].w[i] + sg * sg;
                k++;
            }
        double sd = np->prior_sigma > 0 ? np->prior_sigma
                                               : sqrt(k ? ss / (double)k : 1.0);
        *p = occam_prior_gauss(0.0, sd > OCCAM_NOISE_PRIOR_SIGMA_MIN ? sd
                                                                     : OCCAM_NOISE_PRIOR_SIGMA_MIN);
        return OCCAM_OK;
    }
    bool by_gradient = !first && np->prior_update == OCCAM_PRIOR_UPDATE_GRADIENT;
    /* the weights' RMS scales the gradient's steps and the cap: one more pass, only for them */
    double spread = by_gradient || np->zero_cap > 0 ? active_rms(seg, nseg) : 1.0;
    /* no narrower than OCCAM_NOISE_SIGMA_MIN: a cap of 1e-20 made 1/s² infinite in float32 and
     * the loss NaN ("training diverged"), and one of 5e-324 became 0, no cap, without a word */
    double cap = np->zero_cap > 0 ? fmax(np->zero_cap * spread, OCCAM_NOISE_SIGMA_MIN) : 0.0;
    if (first) {
        int rc = first_fit(p, seg, nseg, np->components);
        if (rc == OCCAM_ERR_RUNTIME) return rc;
        if (rc != OCCAM_OK) { /* no active weight to fit: a placeholder until there are */
            *p = occam_prior_gauss(0.0, 0.1);
            return OCCAM_OK;
        }
        pin_zero_component(p, zero_weight, cap);
        return OCCAM_OK;
    }
    if (by_gradient) {
        refit_gradient(p, seg, nseg, spread, np->prior_steps, zero_weight, cap);
        return OCCAM_OK;
    }
    /* EM steps from the current mixture; every weight brings its own variance σ². */
    for (int it = 0; it < 5; it++) {
        double sr[OCCAM_PRIOR_MAX] = {0}, srm[OCCAM_PRIOR_MAX] = {0}, srv[OCCAM_PRIOR_MAX] = {0};
        for (int s = 0; s < nseg; s++)
            for (size_t i = 0; i < seg[s].n; i++) {
                if (seg[s].mk && !seg[s].mk[i]) continue;
                double r[OCCAM_PRIOR_MAX], w = seg[s].w[i], sg = noisy_softplus(seg[s].rho[i]);
                occam_noise_responsibilities(p, w, r);
                for (int c = 0; c < p->k; c++) {
                    double d = w - p->mu[c];
                    sr[c] += r[c];
                    srm[c] += r[c] * w;
                    srv[c] += r[c] * (d * d + sg * sg);
                }
            }
        double total = 0.0;
        for (int c = 0; c < p->k; c++) total += sr[c];
        if (total <= 0.0) return OCCAM_OK;
        for (int c = 0; c < p->k; c++) {
            /* a component nobody claims keeps its place but gets (almost) no weight */
            p->pi[c] = sr[c] > 1e-12 ? sr[c] / total : 1e-12;
            if (sr[c] < 1e-12) continue;
            /* srv holds the spread around the old mean: the new mean's is that less the
             * shift², the M-step's width (about the old mean, a moving component came out
             * wider by the shift²) */
            double shift = 0.0;
            if (!(c == 0 && p->pinned0)) {
                double mu = srm[c] / sr[c];
                shift = mu - p->mu[c];
                p->mu[c] = mu;
            }
            double v = srv[c] / sr[c] - shift * shift;
            p->sigma[c] = sqrt(v > 1e-8 ? v : 1e-8);
        }
        pin_zero_component(p, zero_weight, cap);
    }
    return OCCAM_OK;
}


int occam_noise_priors_fit(occam_prior *p, const occam_model *m, const occam_noise_params *np,
                           bool first)
{
    bool one = occam_noise_one_prior(np);
    int rc = OCCAM_OK;
    for (int l = 0; l < m->lay.nlayers && rc == OCCAM_OK; l++) {
        if (one && l > 0) p[l] = p[0];
        else rc = occam_noise_prior_fit(&p[l], m, l, np, first);
    }
    return rc;
}

double occam_noise_sigma(float rho) { return noisy_softplus(rho); }

double occam_noise_rho(double sigma) { return noisy_softplus_inv(sigma); }

size_t occam_noise_low_snr(const occam_model *m, double log_alpha, uint8_t *mask, float *params)
{
    if (!m->rho) return 0;
    const occam_layout *lay = &m->lay;
    size_t n = 0;
    for (int l = 0; l < lay->nlayers; l++) {
        size_t w = (size_t)lay->width[l] * lay->width[l + 1];
        for (size_t i = lay->w_off[l]; i < lay->w_off[l] + w; i++) {
            if (m->mask && !m->mask[i]) continue;
            double sg = noisy_softplus(m->rho[i]), mu = m->params[i];
            if (2.0 * log(sg) - log(mu * mu + 1e-30) > log_alpha) {
                if (mask) mask[i] = 0;
                if (params) params[i] = 0.0f;
                n++;
            }
        }
    }
    return n;
}

long occam_noise_mask_low_snr(occam_model *m, double log_alpha, occam_error *err)
{
    if (!m->rho) return 0;
    if (occam_model_mask_enable(m, err) != OCCAM_OK) return -1;
    return (long)occam_noise_low_snr(m, log_alpha, m->mask, m->params);
}

bool occam_noise_one_prior(const occam_noise_params *np)
{
    return np->prior != OCCAM_PRIOR_SPARSE && np->prior_scope != OCCAM_PRIOR_SCOPE_LAYER;
}

bool occam_noise_samples(const occam_noise_params *np)
{
    return np->data_term == OCCAM_NOISE_DATA_SAMPLE ||
           (np->data_term == OCCAM_NOISE_DATA_AUTO && np->prior == OCCAM_PRIOR_SPARSE);
}

double occam_noise_sparse_kl(double la, double *dk)
{
    const double k1 = 0.63576, k2 = 1.87320, k3 = 1.48695;
    double s = 1.0 / (1.0 + exp(-(k2 + k3 * la)));
    /* ½ ln(1 + e^{−la}), stable for either sign */
    double soft = la > 0 ? 0.5 * log1p(exp(-la)) : 0.5 * (-la + log1p(exp(la)));
    if (dk) *dk = -k1 * k3 * s * (1.0 - s) - 0.5 / (1.0 + exp(la));
    return k1 - k1 * s + soft;
}

void noisy_cache_init(noisy_cache *c, const occam_prior *p, bool sparse)
{
    c->kind = sparse ? NOISY_KL_SPARSE : p->k == 1 ? NOISY_KL_GAUSS : NOISY_KL_MIXTURE;
    c->k = p->k;
    for (int j = 0; j < p->k; j++) {
        c->lw[j] = (float)((p->k == 1 ? 0.0 : log(p->pi[j])) - log(p->sigma[j]));
        c->inv_s2[j] = (float)(1.0 / (p->sigma[j] * p->sigma[j]));
        c->mu[j] = (float)p->mu[j];
    }
}

_Static_assert(OCCAM_PRIOR_MAX <= VMATH_MIX_MAX, "vmath's mixture sums take every prior");

/* The mixture's gradient at its responsibilities r_c ∝ π_c N(μ; m_c, s_c²) for the mean: the
 * responsibility-weighted sums from vmath, then the quotients. */
static void mixture_grad(const noisy_cache *c, const float *restrict mu,
                         const float *restrict sigma, float *restrict dmu,
                         float *restrict dsigma, float *restrict cp, size_t n)
{
    float tot[NOISY_BLOCK], gm[NOISY_BLOCK], curv[NOISY_BLOCK];
    vmath_mixture_sums(tot, gm, curv, mu, c->k, c->lw, c->mu, c->inv_s2, n);
    for (size_t i = 0; i < n; i++) dmu[i] = gm[i] / tot[i];
    for (size_t i = 0; dsigma && i < n; i++)
        dsigma[i] = -1.0f / sigma[i] + sigma[i] * curv[i] / tot[i];
    for (size_t i = 0; cp && i < n; i++) cp[i] = curv[i] / tot[i];
}

/* The sparse prior's gradient (Molchanov et al.'s approximation, occam_noise_sparse_kl) through
 * log α = ln σ² − ln μ²: two logs and two exps per weight, each a vmath pass. */
static void sparse_grad(const float *restrict mu, const float *restrict sigma,
                        float *restrict dmu, float *restrict dsigma, size_t n)
{
    const float k1 = 0.63576f, k2 = 1.87320f, k3 = 1.48695f;
    float mu2[NOISY_BLOCK], la[NOISY_BLOCK], ls[NOISY_BLOCK], e1[NOISY_BLOCK], e2[NOISY_BLOCK];
    if (n == 0) return;
    for (size_t i = 0; i < n; i++) {
        mu2[i] = mu[i] * mu[i] + 1e-30f;
        ls[i] = sigma[i] * sigma[i];
    }
    vmath_log(ls, ls, n);
    vmath_log(la, mu2, n);
    for (size_t i = 0; i < n; i++) {
        la[i] = ls[i] - la[i];
        /* e^−(k2 + k3·la) and e^la stay finite: a σ far below |μ| (noise.init_sigma = 1e-15,
         * or σ² under float32's range, la = −∞) made e1 infinite and s(1 − s) ∞·0 = NaN, where
         * its limit e1/(1 + e1)² is 0 */
        e1[i] = -(k2 + k3 * la[i]);
        e1[i] = e1[i] > 80.0f ? 80.0f : e1[i];
        e2[i] = la[i] > 80.0f ? 80.0f : la[i];
    }
    vmath_exp(e1, e1, n);
    vmath_exp(e2, e2, n);
    for (size_t i = 0; i < n; i++) {
        /* s(1 − s) with 1 − s = e1·s: no cancellation where s → 1 */
        float sg = 1.0f / (1.0f + e1[i]);
        float dk = -k1 * k3 * sg * (e1[i] * sg) - 0.5f / (1.0f + e2[i]);
        dmu[i] = dk * -2.0f * mu[i] / mu2[i];
        dsigma[i] = dk * 2.0f / sigma[i];
    }
}

void noisy_kl_grad_block(const noisy_cache *c, const float *mu, const float *sigma, float *dmu,
                         float *dsigma, float *cp, size_t n)
{
    OCCAM_ASSERT(n <= NOISY_BLOCK && (sigma || !dsigma));
    switch (c->kind) {
    case NOISY_KL_GAUSS: {
        const float m0 = c->mu[0], v = c->inv_s2[0];
        for (size_t i = 0; i < n; i++) dmu[i] = (mu[i] - m0) * v;
        for (size_t i = 0; dsigma && i < n; i++) dsigma[i] = -1.0f / sigma[i] + sigma[i] * v;
        for (size_t i = 0; cp && i < n; i++) cp[i] = v;
        return;
    }
    case NOISY_KL_MIXTURE:
        mixture_grad(c, mu, sigma, dmu, dsigma, cp, n);
        return;
    case NOISY_KL_SPARSE:
        OCCAM_ASSERT(sigma && dsigma && !cp);
        sparse_grad(mu, sigma, dmu, dsigma, n);
        return;
    }
}

/* ---- the forward pass ------------------------------------------------------------------- */

void occam_noise_draw(float *eps, occam_noise_normals *nz, size_t n)
{
    size_t i = 0;
    if (n > 0 && nz->have) {
        eps[i++] = (float)nz->spare;
        nz->have = false;
    }
    size_t pairs = (n - i) / 2;
    vmath_normals(eps + i, nz->r, pairs);
    i += 2 * pairs;
    if (i < n) { /* an odd count: the last pair's sine partner is kept, or dropped */
        float two[2];
        vmath_normals(two, nz->r, 1);
        eps[i] = two[0];
        nz->spare = two[1];
        nz->have = nz->pairs;
    }
}

void occam_noise_layer_moments(float *mean, float *sd, float *sq, const float *x, const float *mu,
                               const float *var, int m, int nin, int nout)
{
    size_t xn = (size_t)m * nin, zn = (size_t)m * nout;
    occam_gemm(false, true, m, nout, nin, 1.0f, x, nin, mu, nin, 0.0f, mean, nout);
    for (size_t i = 0; i < xn; i++) sq[i] = x[i] * x[i];
    occam_gemm(false, true, m, nout, nin, 1.0f, sq, nin, var, nin, 0.0f, sd, nout);
    for (size_t i = 0; i < zn; i++) sd[i] = sqrtf(sd[i] + 1e-12f);
}

/* z (n) = mean + sd ⊙ eps, eps (n) drawn from nz; z may be mean. */
static void layer_sample(float *z, float *eps, const float *mean, const float *sd, size_t n,
                         occam_noise_normals *nz)
{
    occam_noise_draw(eps, nz, n);
    for (size_t i = 0; i < n; i++) z[i] = mean[i] + sd[i] * eps[i];
}

void occam_noise_layer_forward(float *z, float *sd, float *eps, float *sq, const float *x,
                               const float *mu, const float *var, int m, int nin, int nout,
                               occam_noise_normals *nz)
{
    occam_noise_layer_moments(z, sd, sq, x, mu, var, m, nin, nout);
    layer_sample(z, eps, z, sd, (size_t)m * nout, nz);
}

void occam_noise_forward(float *const *z, float *const *sd, float *const *eps, float *sq,
                         const float *x, const float *mean0, const occam_model *mdl,
                         const float *var, int m, occam_noise_normals *nz)
{
    const occam_layout *lay = &mdl->lay;
    const float *in = x;
    for (int l = 0; l < lay->nlayers; l++) {
        int nin = lay->width[l], nout = lay->width[l + 1];
        if (l == 0 && mean0)
            layer_sample(z[0], eps[0], mean0, sd[0], (size_t)m * nout, nz);
        else
            occam_noise_layer_forward(z[l], sd[l], eps[l], sq, in, mdl->params + lay->w_off[l],
                                      var + lay->w_off[l], m, nin, nout, nz);
        if (l + 1 < lay->nlayers)
            occam_bias_act_forward(z[l], mdl->params + lay->b_off[l], m, nout, mdl->act);
        else
            occam_bias_forward(z[l], mdl->params + lay->b_off[l], m, nout);
        in = z[l];
    }
}

/* ---- the trainer's noisy weights ------------------------------------------------------- */

void noisy_state_free(noisy_state *s)
{
    if (!s) return;
    free(s->sigma);
    free(s->dsigma);
    free(s->var);
    for (int l = 0; l < OCCAM_MAX_LAYERS; l++) {
        free(s->eps[l]);
        free(s->sd[l]);
    }
    free(s->sq);
    free(s->mom1r);
    free(s->mom2r);
    free(s->rng);
    noisy_dof_free(s->dof);
    free(s);
}

/* σ = softplus(ρ), dσ/dρ and σ² (0 where masked) of weights [off, off + n): the one place they
 * are computed, so the update, the σ fixed point, the first step and a restore agree bit for
 * bit. */
static void refresh_sigma(noisy_state *s, const occam_model *m, size_t off, size_t n)
{
    float *restrict sg = s->sigma + off, *restrict var = s->var + off;
    const uint8_t *mk = m->mask ? m->mask + off : NULL;
    vmath_softplus(sg, s->dsigma + off, m->rho + off, n);
    for (size_t i = 0; i < n; i++) var[i] = sg[i] * sg[i];
    for (size_t i = 0; mk && i < n; i++)
        if (!mk[i]) var[i] = 0.0f;
}

noisy_state *noisy_state_create(occam_model *m, const occam_noise_params *np, bool adam,
                                size_t rows, size_t train_rows, int threads, int stream0)
{
    const occam_layout *lay = &m->lay;
    size_t n = lay->nparams;
    if (!m->rho) {
        m->rho = occam_alloc_zero(n, sizeof(float));
        if (!m->rho) return NULL;
        float r0 = fmaxf((float)noisy_softplus_inv(np->init_sigma), NOISY_RHO_MIN);
        for (int l = 0; l < lay->nlayers; l++)
            for (size_t i = 0; i < (size_t)lay->width[l] * lay->width[l + 1]; i++)
                m->rho[lay->w_off[l] + i] = r0;
    }
    noisy_state *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->threads = threads;
    s->regress = m->task == OCCAM_TASK_REGRESS;
    s->sample = occam_noise_samples(np);
    s->sparse = np->prior == OCCAM_PRIOR_SPARSE;
    s->var_grad = s->sparse;
    s->sigma = occam_alloc_zero(n, sizeof(float));
    s->dsigma = occam_alloc_zero(n, sizeof(float));
    s->var = occam_alloc_zero(n, sizeof(float));
    s->mom1r = occam_alloc_zero(n, sizeof(float));
    s->mom2r = adam ? occam_alloc_zero(n, sizeof(float)) : NULL;
    int maxw = 0;
    for (int l = 0; l <= lay->nlayers; l++) maxw = lay->width[l] > maxw ? lay->width[l] : maxw;
    s->sqw = (size_t)maxw;
    s->sq = occam_alloc(rows * s->sqw, sizeof(float));
    s->rng = calloc((size_t)threads, sizeof *s->rng);
    bool gn = s->regress && !s->sample && np->prior == OCCAM_PRIOR_GAUSSIAN;
    s->dof = gn ? noisy_dof_create(m, train_rows) : NULL;
    int ok = s->sigma && s->dsigma && s->var && s->mom1r && s->sq && s->rng &&
             (!adam || s->mom2r) && (!gn || s->dof);
    for (int l = 0; ok && l < lay->nlayers; l++) {
        s->eps[l] = occam_alloc(rows * (size_t)lay->width[l + 1], sizeof(float));
        s->sd[l] = occam_alloc(rows * (size_t)lay->width[l + 1], sizeof(float));
        ok = s->eps[l] && s->sd[l];
    }
    if (!ok) {
        noisy_state_free(s);
        return NULL;
    }
    for (int t = 0; t < s->threads; t++) /* one noise stream per thread of the world */
        s->rng[t] = occam_rng_seed(np->seed, 0x6e6f697365ull + (uint64_t)(stream0 + t));
    if (occam_noise_priors_fit(s->prior, m, np, true) != OCCAM_OK) {
        noisy_state_free(s);
        return NULL;
    }
    for (int l = 0; l < lay->nlayers; l++) {
        noisy_cache_init(&s->cache[l], &s->prior[l], s->sparse);
        refresh_sigma(s, m, lay->w_off[l], (size_t)lay->width[l] * lay->width[l + 1]);
    }
    return s;
}

/* The prior's curvature at μ for the σ fixed point: Σ_c r_c(μ)/s_c² (1/s² for a Gaussian). */
static double prior_curvature(const occam_prior *p, double mu)
{
    if (p->k == 1) return 1.0 / (p->sigma[0] * p->sigma[0]);
    double r[OCCAM_PRIOR_MAX], c = 0.0;
    occam_noise_responsibilities(p, mu, r);
    for (int j = 0; j < p->k; j++) c += r[j] / (p->sigma[j] * p->sigma[j]);
    return c;
}

double noisy_loss_unit(const noisy_state *s)
{
    return s->regress ? 2.0 * exp(2.0 * (double)s->level[0]) : 1.0;
}

/* γ comes from the Gauss–Newton matrix (dof.h) where its prior is one Gaussian per layer and
 * no mask cuts weights out (s->dof exists for regression only); else from the σ fixed point's
 * diagonal. */
static bool dof_applies(const noisy_state *s, const occam_model *m)
{
    return s->dof && !m->mask && s->beta > 0.0;
}

/* σ_i² = 1 / (C_p(μ_i) + ĥ_i / (c·κ)): see noisy-impl.h. Sets ρ (the model's record of σ) and
 * σ² from ρ, as every restore derives it. For regression without the Gauss–Newton γ, also the
 * diagonal's table of γ against the noise level. */
static void sigma_fixed_point(noisy_state *s, occam_model *m, int64_t steps)
{
    const occam_layout *lay = &m->lay;
    double corr = 1.0 - pow(NOISY_CURV_DECAY, (double)steps), ck = noisy_loss_unit(s) * s->kappa;
    bool diag = s->regress && !dof_applies(s, m);
    /* c·κ = β(2σ_y²)²/N for regression: at ln σ_y + δ the data's precision is d·e^(−4δ) */
    double scale[NOISY_GAMMA_N];
    for (int k = 0; diag && k < NOISY_GAMMA_N; k++) {
        s->gamma[k] = 0.0;
        scale[k] = exp(-4.0 * NOISY_GAMMA_STEP * (k - NOISY_GAMMA_N / 2));
    }
    if (diag) s->gamma_at = s->level[0];
    for (int l = 0; l < lay->nlayers; l++) {
        size_t w = (size_t)lay->width[l] * lay->width[l + 1];
        for (size_t i = lay->w_off[l]; i < lay->w_off[l] + w; i++) {
            double sg = NOISY_SIGMA_MIN;
            if (ck > 0.0) {
                double d = (double)s->mom1r[i] / corr / ck, p = prior_curvature(&s->prior[l],
                                                                               m->params[i]);
                sg = fmax(sqrt(1.0 / (p + d)), NOISY_SIGMA_MIN);
                if (diag && (!m->mask || m->mask[i]))
                    for (int k = 0; k < NOISY_GAMMA_N; k++)
                        s->gamma[k] += d * scale[k] / (p + d * scale[k]);
            }
            m->rho[i] = (float)noisy_softplus_inv(sg);
        }
        refresh_sigma(s, m, lay->w_off[l], w);
    }
}

/* γ at ln σ_y = at, linear between the table's points; below it held at its first, above it
 * falling as e^(−2δ) past the last (γ's slowest decay, the Gauss–Newton form's), so that the
 * level's step turns back however far it has gone. */
static double gamma_at_level(const noisy_state *s, double at)
{
    double x = (at - s->gamma_at) / NOISY_GAMMA_STEP + NOISY_GAMMA_N / 2;
    if (!(x > 0.0)) return s->gamma[0];
    if (x >= NOISY_GAMMA_N - 1)
        return s->gamma[NOISY_GAMMA_N - 1] *
               exp(-2.0 * NOISY_GAMMA_STEP * (x - (NOISY_GAMMA_N - 1)));
    int k = (int)x;
    return s->gamma[k] + (x - k) * (s->gamma[k + 1] - s->gamma[k]);
}

void noisy_begin_epoch(noisy_state *s, occam_model *m, const occam_noise_params *np, int epoch,
                       const occam_dataset *train, int64_t steps, int threads)
{
    size_t rows = train->n;
    double beta = np->warmup_epochs > 0 ? fmin(1.0, (double)epoch / (double)np->warmup_epochs)
                                        : 1.0;
    s->beta = beta * np->kl_scale;
    s->kappa = s->beta * noisy_loss_unit(s) / (double)(rows ? rows : 1);
    s->rows = rows;
    if (epoch > 0) occam_noise_priors_fit(s->prior, m, np, false); /* a refit allocates nothing */
    /* the sparse prior's weights with log α above the threshold leave through the mask (the
     * pruning machinery's; the trainer then zeroes their moments and σ²); the model's mask
     * was enabled with the trainer, so this cannot fail */
    if (s->sparse && epoch >= np->warmup_epochs && epoch > 0) {
        long n = occam_noise_mask_low_snr(m, np->log_alpha, NULL);
        s->masked = n > 0 ? (size_t)n : 0;
    }
    /* before the first step there is no curvature yet: σ stays at noise.init_sigma */
    if (!s->var_grad && steps > 0) {
        sigma_fixed_point(s, m, steps);
        if (dof_applies(s, m) && !s->borrow_table &&
            noisy_dof_due(s->dof, m, rows, epoch, np->warmup_epochs)) {
            noisy_dof_table(s->gamma, s->dof, m, s->prior, train, s->beta,
                            exp(2.0 * (double)s->level[0]), NOISY_GAMMA_N, NOISY_GAMMA_STEP,
                            threads);
            s->gamma_at = s->level[0];
        }
    }
    for (int l = 0; l < m->lay.nlayers; l++)
        noisy_cache_init(&s->cache[l], &s->prior[l], s->sparse);
    s->terms[0] = s->beta;
    s->terms[1] = (double)s->rows;
    s->terms[2] = s->gamma_at;
    memcpy(s->terms + 3, s->gamma, sizeof s->gamma);
}

void noisy_level_step(noisy_state *s, const occam_optim *opt, double sse, size_t values)
{
    if (!s->regress || values == 0) return;
    /* nats per target value: E_q[r²]/(2σ_y²) + ln σ_y; its derivative in ln σ_y. Sampled, the
     * residuals carry the weights' noise; expanded, E_q[r²] = r(μ)² + Σ_i (∂f/∂w_i)² σ_i², and
     * with (∂f/∂w_i)² = h_i/(4σ_y²) and h_i σ_i² = c·κ·γ_i that sum is β·σ_y²·γ/N per row,
     * γ = Σ γ_i the well-determined parameters: σ_y² → mse/(1 − βγ/(N·K)), MacKay's (1992)
     * noise estimate with N − γ degrees of freedom.
     * γ is read at the current σ_y from the table the epoch's start made (from the Gauss–Newton
     * matrix, dof.h, or else the diagonal): γ falls as σ_y grows, so the step has a root. Held
     * at its start-of-epoch value, a γ above N·K/β made the derivative negative at every σ_y
     * and the level ran away within the epoch. */
    double sy2 = exp(2.0 * (double)s->level[0]), mse = sse / (double)values;
    if (!s->sample && s->rows > 0)
        mse += s->beta * gamma_at_level(s, (double)s->level[0]) * sy2 * (double)s->batch /
               ((double)s->rows * (double)values);
    float g = (float)(1.0 - mse / sy2);
    const float *gp[1] = {&g};
    occam_optim_update(opt, &s->level[0], &s->level[1], &s->level[2], gp, 1, 0, 1, false, NULL);
}

_Static_assert(OCCAM_NOISE_TERMS == 3 + NOISY_GAMMA_N, "the checkpoint's noise terms");

void noisy_terms_load(noisy_state *s)
{
    s->beta = s->terms[0];
    s->rows = (size_t)s->terms[1];
    s->gamma_at = s->terms[2];
    memcpy(s->gamma, s->terms + 3, sizeof s->gamma);
}

void noisy_sync(noisy_state *s, const occam_model *m)
{
    if (s->regress) noisy_terms_load(s); /* a checkpoint keeps them (classification none) */
    const occam_layout *lay = &m->lay;
    for (int l = 0; l < lay->nlayers; l++) {
        noisy_cache_init(&s->cache[l], &s->prior[l], s->sparse);
        refresh_sigma(s, m, lay->w_off[l], (size_t)lay->width[l] * lay->width[l + 1]);
    }
}

/* in-weights and bias of hidden unit j of layer l+1 × c, its out-weights ÷ c, with their
 * optimiser moments (both optimisers' first moments hold gradients, which scale inversely) */
static void rescale_unit(occam_model *m, float *mom1, float *mom2, int l, int j, double c)
{
    const occam_layout *lay = &m->lay;
    int in = lay->width[l], h = lay->width[l + 1], out = lay->width[l + 2];
    for (int side = 0; side < 2; side++) {
        double f = side ? 1.0 / c : c; /* a parameter's factor; its gradient's is 1/f */
        int cnt = side ? out : in + 1;
        for (int i = 0; i < cnt; i++) {
            size_t q = side ? lay->w_off[l + 1] + (size_t)i * h + j
                            : i < in ? lay->w_off[l] + (size_t)j * in + i : lay->b_off[l] + j;
            m->params[q] = (float)(m->params[q] * f);
            mom1[q] = (float)(mom1[q] / f);
            if (mom2) mom2[q] = (float)(mom2[q] / (f * f));
        }
    }
}

void noisy_rebalance(occam_model *m, float *mom1, float *mom2)
{
    const occam_layout *lay = &m->lay;
    for (int l = 0; l + 1 < lay->nlayers; l++) {
        int in = lay->width[l], h = lay->width[l + 1], out = lay->width[l + 2];
        for (int j = 0; j < h; j++) {
            double bias = m->params[lay->b_off[l] + (size_t)j], a = bias * bias, b = 0.0;
            for (int i = 0; i < in; i++) {
                double w = m->params[lay->w_off[l] + (size_t)j * in + i];
                a += w * w;
            }
            for (int k = 0; k < out; k++) {
                double w = m->params[lay->w_off[l + 1] + (size_t)k * h + j];
                b += w * w;
            }
            if (!(a > 0.0 && b > 0.0)) continue; /* a unit cut off has no balance */
            double c = fmin(fmax(pow(b / a, 0.25), 1.0 / NOISY_REBALANCE_MAX), NOISY_REBALANCE_MAX);
            rescale_unit(m, mom1, mom2, l, j, c);
        }
    }
}

void noisy_apply_mask(noisy_state *s, const occam_model *m)
{
    for (size_t i = 0; m->mask && i < m->lay.nparams; i++)
        if (!m->mask[i]) s->var[i] = 0.0f;
}

void noisy_forward(float *const *act, noisy_state *s, const float *x, const occam_model *mdl,
                   int t, size_t lo, int m)
{
    const occam_layout *lay = &mdl->lay;
    float *z[OCCAM_MAX_LAYERS], *sd[OCCAM_MAX_LAYERS], *eps[OCCAM_MAX_LAYERS];
    for (int l = 0; l < lay->nlayers; l++) {
        size_t at = lo * (size_t)lay->width[l + 1];
        z[l] = act[l] + at;
        sd[l] = s->sd[l] + at;
        eps[l] = s->eps[l] + at;
    }
    occam_noise_normals nz = {.r = &s->rng[t]};
    occam_noise_forward(z, sd, eps, s->sq + lo * s->sqw, x, NULL, mdl, s->var, m, &nz);
}

void noisy_layer_backward(float *dmu, float *db, float *dvar, float *dx, float *eps, float *sq,
                          const float *dz, const float *x, float *sd, const float *mu,
                          const float *var, int m, int nin, int nout, bool var_grad)
{
    size_t zn = (size_t)m * nout, xn = (size_t)m * nin;
    occam_gemm(true, false, nout, nin, m, 1.0f, dz, nout, x, nin, 0.0f, dmu, nin);
    occam_bias_backward(db, dz, m, nout, nout);
    for (size_t i = 0; i < zn; i++) eps[i] = dz[i] * eps[i] / (2.0f * sd[i]);
    for (size_t i = 0; i < xn; i++) sq[i] = x[i] * x[i];
    const float *left = eps;
    if (!var_grad) { /* sd is spent: it takes dZ² */
        for (size_t i = 0; i < zn; i++) sd[i] = dz[i] * dz[i];
        left = sd;
    }
    occam_gemm(true, false, nout, nin, m, 1.0f, left, nout, sq, nin, 0.0f, dvar, nin);
    if (!dx) return;
    occam_gemm(false, false, m, nin, nout, 1.0f, dz, nout, mu, nin, 0.0f, dx, nin);
    occam_gemm(false, false, m, nin, nout, 1.0f, eps, nout, var, nin, 0.0f, sq, nin);
    for (size_t i = 0; i < xn; i++) dx[i] += 2.0f * x[i] * sq[i];
}

void noisy_backward(float *part, float *const *dz, noisy_state *s, float *const *act,
                    const float *x, const occam_model *mdl, size_t lo, int m)
{
    const occam_layout *lay = &mdl->lay;
    float *part2 = part + lay->nparams;
    for (int l = lay->nlayers - 1; l >= 0; l--) {
        int nin = lay->width[l], nout = lay->width[l + 1];
        size_t wo = lay->w_off[l], bo = lay->b_off[l];
        if (m == 0) {
            memset(part + wo, 0, (size_t)nin * nout * sizeof(float));
            memset(part + bo, 0, (size_t)nout * sizeof(float));
            memset(part2 + wo, 0, (size_t)nin * nout * sizeof(float));
            continue;
        }
        const float *in = (l > 0 ? act[l - 1] : x) + lo * (size_t)nin;
        float *dx = l > 0 ? dz[l - 1] + lo * (size_t)nin : NULL;
        size_t at = lo * (size_t)nout;
        noisy_layer_backward(part + wo, part + bo, part2 + wo, dx, s->eps[l] + at,
                             s->sq + lo * s->sqw, dz[l] + at, in, s->sd[l] + at,
                             mdl->params + wo, s->var + wo, m, nin, nout, s->var_grad);
        if (dx) occam_act_backward(dx, act[l - 1] + lo * (size_t)nin, m, nin, mdl->act);
    }
}

void noisy_update(occam_model *m, float *mom1, float *mom2, noisy_state *s,
                  const occam_optim *opt, const float *const *parts, int nparts, size_t off,
                  size_t len)
{
    const occam_layout *lay = &m->lay;
    int l = 0;
    while (l + 1 < lay->nlayers && off >= lay->w_off[l + 1]) l++;
    const noisy_cache *pc = &s->cache[l];
    const size_t np = lay->nparams;
    const float kappa = (float)s->kappa, d = (float)NOISY_CURV_DECAY, bsz = (float)s->batch;
    /* SGD steps μ semi-implicitly in the prior (see noisy-impl.h); Adam's steps are bounded */
    const bool implicit = opt->kind == OCCAM_OPT_SGD && !s->sparse && kappa > 0.0f;
    const float lk = opt->lr * kappa;
    float gmu[NOISY_BLOCK], g2[NOISY_BLOCK], kmu[NOISY_BLOCK], ksg[NOISY_BLOCK], cp[NOISY_BLOCK];
    for (size_t b = 0; b < len; b += NOISY_BLOCK) {
        size_t n = len - b < NOISY_BLOCK ? len - b : NOISY_BLOCK, o0 = off + b;
        const float *restrict sg = s->sigma + o0, *restrict sig = s->dsigma + o0;
        /* the threads' parts summed in thread order: Σ dμ, and Σ dσ² (var_grad) or the
         * squared row gradients */
        for (size_t i = 0; i < n; i++) {
            gmu[i] = parts[0][o0 + i];
            g2[i] = parts[0][np + o0 + i];
        }
        for (int u = 1; u < nparts; u++)
            for (size_t i = 0; i < n; i++) {
                gmu[i] += parts[u][o0 + i];
                g2[i] += parts[u][np + o0 + i];
            }
        if (kappa > 0.0f) {
            /* the KL's ∂/∂σ only where σ is trained by its gradient */
            noisy_kl_grad_block(pc, m->params + o0, s->var_grad ? sg : NULL, kmu,
                                s->var_grad ? ksg : NULL, implicit ? cp : NULL, n);
            for (size_t i = 0; i < n; i++) gmu[i] += kappa * kmu[i];
            for (size_t i = 0; implicit && i < n; i++) gmu[i] /= 1.0f + lk * cp[i];
        }
        if (s->var_grad) { /* g2 becomes g_ρ */
            if (kappa > 0.0f)
                for (size_t i = 0; i < n; i++)
                    g2[i] = (g2[i] * 2.0f * sg[i] + kappa * ksg[i]) * sig[i];
            else
                for (size_t i = 0; i < n; i++) g2[i] = g2[i] * 2.0f * sg[i] * sig[i];
        } else {
            float *restrict h = s->mom1r + o0;
            for (size_t i = 0; i < n; i++) h[i] = d * h[i] + (1.0f - d) * bsz * g2[i];
        }
        const float *pm[1] = {gmu}, *pr[1] = {g2};
        const uint8_t *mk = m->mask ? m->mask + o0 : NULL;
        occam_optim_update(opt, m->params + o0, mom1 + o0, mom2 ? mom2 + o0 : NULL, pm, 1, 0, n,
                           false, mk);
        if (!s->var_grad) continue;
        occam_optim_update(opt, m->rho + o0, s->mom1r + o0, s->mom2r ? s->mom2r + o0 : NULL, pr,
                           1, 0, n, false, mk);
        float *restrict r = m->rho + o0;
        for (size_t i = 0; i < n; i++) /* a NaN stays NaN: the loss check reports it */
            if (r[i] < NOISY_RHO_MIN) r[i] = NOISY_RHO_MIN;
        refresh_sigma(s, m, o0, n);
    }
}

void noisy_curvature(float *part2, float *const *dz, noisy_state *s, float *const *act,
                     const float *x, const occam_model *mdl, size_t lo, int m)
{
    const occam_layout *lay = &mdl->lay;
    for (int l = 0; l < lay->nlayers; l++) {
        int nin = lay->width[l], nout = lay->width[l + 1];
        float *dst = part2 + lay->w_off[l];
        if (m == 0) {
            memset(dst, 0, (size_t)nin * nout * sizeof(float));
            continue;
        }
        const float *in = (l > 0 ? act[l - 1] : x) + lo * (size_t)nin;
        const float *d = dz[l] + lo * (size_t)nout;
        float *sq = s->sq + lo * s->sqw, *d2 = s->sd[l] + lo * (size_t)nout;
        size_t xn = (size_t)m * nin, zn = (size_t)m * nout;
        for (size_t i = 0; i < xn; i++) sq[i] = in[i] * in[i];
        for (size_t i = 0; i < zn; i++) d2[i] = d[i] * d[i];
        occam_gemm(true, false, nout, nin, m, 1.0f, d2, nout, sq, nin, 0.0f, dst, nin);
    }
}

void noisy_rho_grad(float *g, const float *const *parts, const float *rho, int nparts,
                    size_t np, size_t off, size_t len)
{
    for (size_t i = off; i < off + len; i++) {
        double s = 0.0;
        for (int u = 0; u < nparts; u++) s += parts[u][np + i];
        g[i] = (float)(s * 2.0 * noisy_softplus(rho[i]) * noisy_sigmoid(rho[i]));
    }
}
