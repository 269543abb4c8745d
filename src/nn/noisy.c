/* Priors of noisy weights: per-epoch refits and KL gradients (see noisy-impl.h). */
#include <math.h>
#include <string.h>

#include "noisy-impl.h"
#include "occam/gemm.h"
#include "occam/noisy.h"

void noisy_kl_grad(const occam_prior *p, double mu, double sigma, double *dmu, double *dsigma)
{
    if (p->k == 1) {
        double s2 = p->sigma[0] * p->sigma[0];
        *dmu = (mu - p->mu[0]) / s2;
        *dsigma = -1.0 / sigma + sigma / s2;
        return;
    }
    double logw[OCCAM_PRIOR_MAX], mx = -INFINITY;
    for (int c = 0; c < p->k; c++) {
        double z = (mu - p->mu[c]) / p->sigma[c];
        logw[c] = log(p->pi[c]) - log(p->sigma[c]) - 0.5 * z * z;
        if (logw[c] > mx) mx = logw[c];
    }
    double tot = 0.0;
    for (int c = 0; c < p->k; c++) tot += exp(logw[c] - mx);
    double gm = 0.0, curv = 0.0;
    for (int c = 0; c < p->k; c++) {
        double r = exp(logw[c] - mx) / tot, s2 = p->sigma[c] * p->sigma[c];
        gm += r * (mu - p->mu[c]) / s2;
        curv += r / s2;
    }
    *dmu = gm;
    *dsigma = -1.0 / sigma + sigma * curv;
}

/* Soft weight sharing: the zero component keeps a fixed, large mixing proportion
 * (noise.zero_weight; the others share the rest in their fitted ratio) and at most a tenth of
 * the weights' spread as its width. Left free, EM lets the other components absorb every weight
 * and the zero component's weight collapses: then nothing is pulled to zero. */
static double zero_weight = 0.9;

static void pin_zero_component(occam_prior *p, double spread)
{
    if (p->k < 2 || !p->pinned0) return;
    double rest = 0.0;
    for (int c = 1; c < p->k; c++) rest += p->pi[c];
    for (int c = 1; c < p->k; c++)
        p->pi[c] = rest > 0 ? (1.0 - zero_weight) * p->pi[c] / rest : (1.0 - zero_weight) / (p->k - 1);
    p->pi[0] = zero_weight;
    double cap = 0.1 * spread;
    if (p->sigma[0] > cap && cap > 0) p->sigma[0] = cap;
}

/* RMS of the active weights (1 if none): the spread the zero component's width is capped by. */
static double active_rms(const float *w, const uint8_t *mk, size_t n)
{
    double ss = 0.0;
    size_t act = 0;
    for (size_t i = 0; i < n; i++)
        if (!mk || mk[i]) {
            ss += (double)w[i] * w[i];
            act++;
        }
    return act ? sqrt(ss / (double)act) : 1.0;
}

void noisy_prior_refit(occam_prior *p, const occam_model *m, int l, const occam_config *cfg,
                       bool first)
{
    zero_weight = cfg->noise.zero_weight;
    const occam_layout *lay = &m->lay;
    size_t n = (size_t)lay->width[l] * lay->width[l + 1];
    const float *w = m->params + lay->w_off[l], *rho = m->rho + lay->w_off[l];
    const uint8_t *mk = m->mask ? m->mask + lay->w_off[l] : NULL;
    if (cfg->noise.prior == OCCAM_PRIOR_GAUSSIAN) {
        double ss = 0.0;
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            if (mk && !mk[i]) continue;
            double s = noisy_softplus(rho[i]);
            ss += (double)w[i] * w[i] + s * s;
            k++;
        }
        double sd = cfg->noise.prior_sigma > 0 ? cfg->noise.prior_sigma
                                               : sqrt(k ? ss / (double)k : 1.0);
        *p = occam_prior_gauss(0.0, sd > 1e-6 ? sd : 1e-6);
        return;
    }
    if (first) {
        occam_error err;
        if (occam_prior_fit(p, cfg->noise.components, true, w, n, mk, 1e-4, &err) != OCCAM_OK) {
            *p = occam_prior_gauss(0.0, 0.1);
            return;
        }
        pin_zero_component(p, active_rms(w, mk, n));
        return;
    }
    double spread = active_rms(w, mk, n);
    /* EM steps from the current mixture; every weight brings its own variance σ². */
    for (int it = 0; it < 5; it++) {
        double sr[OCCAM_PRIOR_MAX] = {0}, srm[OCCAM_PRIOR_MAX] = {0}, srv[OCCAM_PRIOR_MAX] = {0};
        for (size_t i = 0; i < n; i++) {
            if (mk && !mk[i]) continue;
            double lw[OCCAM_PRIOR_MAX], mx = -INFINITY, tot = 0.0;
            for (int c = 0; c < p->k; c++) {
                double z = (w[i] - p->mu[c]) / p->sigma[c];
                lw[c] = log(p->pi[c]) - log(p->sigma[c]) - 0.5 * z * z;
                if (lw[c] > mx) mx = lw[c];
            }
            for (int c = 0; c < p->k; c++) tot += (lw[c] = exp(lw[c] - mx));
            double s = noisy_softplus(rho[i]);
            for (int c = 0; c < p->k; c++) {
                double r = lw[c] / tot;
                sr[c] += r;
                srm[c] += r * w[i];
            }
            for (int c = 0; c < p->k; c++) {
                double r = lw[c] / tot, d = w[i] - p->mu[c];
                srv[c] += r * (d * d + s * s);
            }
        }
        double total = 0.0;
        for (int c = 0; c < p->k; c++) total += sr[c];
        if (total <= 0.0) return;
        for (int c = 0; c < p->k; c++) {
            /* a component nobody claims keeps its place but gets (almost) no weight */
            p->pi[c] = sr[c] > 1e-12 ? sr[c] / total : 1e-12;
            if (sr[c] < 1e-12) continue;
            if (!(c == 0 && p->pinned0)) p->mu[c] = srm[c] / sr[c];
            double v = srv[c] / sr[c];
            p->sigma[c] = sqrt(v > 1e-8 ? v : 1e-8);
        }
        pin_zero_component(p, spread);
    }
}

void occam_noise_prior_fit(occam_prior *p, const occam_model *m, int l, const occam_config *cfg,
                           bool first)
{
    noisy_prior_refit(p, m, l, cfg, first);
}

double occam_noise_sigma(float rho) { return noisy_softplus(rho); }

void occam_noise_layer_forward(float *z, float *sd, float *eps, float *sq, const float *x, int m,
                               int nin, int nout, const float *mu, const float *var,
                               occam_rng *r)
{
    size_t xn = (size_t)m * nin, zn = (size_t)m * nout;
    occam_gemm(false, true, m, nout, nin, 1.0f, x, nin, mu, nin, 0.0f, z, nout);
    for (size_t i = 0; i < xn; i++) sq[i] = x[i] * x[i];
    occam_gemm(false, true, m, nout, nin, 1.0f, sq, nin, var, nin, 0.0f, sd, nout);
    for (size_t i = 0; i < zn; i++) {
        /* the floor keeps dL/dvar = dL/dZ·ε/(2·sd) finite where an input row is all zero */
        sd[i] = sqrtf(sd[i] + 1e-12f);
        eps[i] = (float)occam_rng_normal(r);
        z[i] += sd[i] * eps[i];
    }
}

void noisy_cache_init(noisy_cache *c, const occam_prior *p)
{
    c->k = p->k;
    for (int j = 0; j < p->k; j++) {
        c->lw[j] = (float)((p->k == 1 ? 0.0 : log(p->pi[j])) - log(p->sigma[j]));
        c->inv_s2[j] = (float)(1.0 / (p->sigma[j] * p->sigma[j]));
        c->mu[j] = (float)p->mu[j];
    }
}
