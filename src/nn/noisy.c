/* Priors of noisy weights: per-epoch refits and KL gradients (see noisy-impl.h). */
#include <math.h>
#include <string.h>

#include "noisy-impl.h"
#include "occam/gemm.h"
#include "occam/noisy.h"

static int pinned(const occam_prior *p, int c) { return c == 0 && p->pinned0 && p->k > 1; }

void noisy_responsibilities(const occam_prior *p, double mu, double *r)
{
    double mx = -INFINITY, tot = 0.0;
    for (int c = 0; c < p->k; c++) {
        double z = (mu - p->mu[c]) / p->sigma[c];
        r[c] = (p->k == 1 ? 0.0 : log(p->pi[c])) - log(p->sigma[c]) - 0.5 * z * z;
        if (r[c] > mx) mx = r[c];
    }
    for (int c = 0; c < p->k; c++) tot += r[c] = exp(r[c] - mx);
    for (int c = 0; c < p->k; c++) r[c] /= tot;
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
    noisy_responsibilities(p, mu, r);
    return noisy_kl_bound(p, mu, sigma, r, g);
}

/* Soft weight sharing: the zero component keeps a fixed, large mixing proportion
 * (noise.zero_weight; the others share the rest in their fitted ratio) and at most a tenth of
 * the weights' spread as its width. Left free, EM lets the other components absorb every weight
 * and the zero component's weight collapses: then nothing is pulled to zero. */
static void pin_zero_component(occam_prior *p, double spread, double zero_weight)
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

/* noise.prior_update = gradient: Adam steps on the mean of K(μ_i, σ_i; p) over the active
 * weights, in the mixture's free parameters θ = (m_c, ln s_c, η_c). Means move in units of the
 * weights' RMS, so one learning rate suits every layer. Serial and in a fixed order. */
static void refit_gradient(occam_prior *p, const float *w, const float *rho, const uint8_t *mk,
                           size_t n, double spread, int steps, double zero_weight)
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
        for (size_t i = 0; i < n; i++) {
            if (mk && !mk[i]) continue;
            noisy_kl_grad g;
            noisy_kl(p, w[i], noisy_softplus(rho[i]), &g);
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
        pin_zero_component(p, spread, zero_weight);
    }
}

void occam_noise_prior_fit(occam_prior *p, const occam_model *m, int l,
                           const occam_noise_params *np, bool first)
{
    double zero_weight = np->zero_weight;
    const occam_layout *lay = &m->lay;
    size_t n = (size_t)lay->width[l] * lay->width[l + 1];
    const float *w = m->params + lay->w_off[l], *rho = m->rho + lay->w_off[l];
    const uint8_t *mk = m->mask ? m->mask + lay->w_off[l] : NULL;
    if (np->prior == OCCAM_PRIOR_GAUSSIAN) {
        double ss = 0.0;
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            if (mk && !mk[i]) continue;
            double s = noisy_softplus(rho[i]);
            ss += (double)w[i] * w[i] + s * s;
            k++;
        }
        double sd = np->prior_sigma > 0 ? np->prior_sigma
                                               : sqrt(k ? ss / (double)k : 1.0);
        *p = occam_prior_gauss(0.0, sd > 1e-6 ? sd : 1e-6);
        return;
    }
    if (first) {
        occam_error err;
        if (occam_prior_fit(p, np->components, true, w, n, mk, 1e-4, &err) != OCCAM_OK) {
            *p = occam_prior_gauss(0.0, 0.1);
            return;
        }
        pin_zero_component(p, active_rms(w, mk, n), zero_weight);
        return;
    }
    double spread = active_rms(w, mk, n);
    if (np->prior_update == OCCAM_PRIOR_UPDATE_GRADIENT) {
        refit_gradient(p, w, rho, mk, n, spread, np->prior_steps, zero_weight);
        return;
    }
    /* EM steps from the current mixture; every weight brings its own variance σ². */
    for (int it = 0; it < 5; it++) {
        double sr[OCCAM_PRIOR_MAX] = {0}, srm[OCCAM_PRIOR_MAX] = {0}, srv[OCCAM_PRIOR_MAX] = {0};
        for (size_t i = 0; i < n; i++) {
            if (mk && !mk[i]) continue;
            double r[OCCAM_PRIOR_MAX];
            noisy_responsibilities(p, w[i], r);
            double s = noisy_softplus(rho[i]);
            for (int c = 0; c < p->k; c++) {
                double d = w[i] - p->mu[c];
                sr[c] += r[c];
                srm[c] += r[c] * w[i];
                srv[c] += r[c] * (d * d + s * s);
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
        pin_zero_component(p, spread, zero_weight);
    }
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
