/* noisy-impl.h — private to src/nn: the prior of noisy weights and its KL gradients. */
#ifndef OCCAM_NOISY_IMPL_H
#define OCCAM_NOISY_IMPL_H

#include "occam/prior.h"
#include "occam/model.h"
#include "occam/noisy.h"

static inline double noisy_softplus(double r) { return r > 20 ? r : log1p(exp(r)); }
static inline double noisy_sigmoid(double r) { return 1.0 / (1.0 + exp(-r)); }
static inline double noisy_softplus_inv(double s) { return s > 20 ? s : log(expm1(s)); }
/* σ² = softplus(ρ)² in single precision, as every update leaves it in the trainer's cache
 * (restoring a checkpoint must rebuild the cache with these very bits). */
static inline float noisy_var(float rho)
{
    float sg = rho > 30.0f ? rho : log1pf(expf(rho));
    return sg * sg;
}

/* A prior's per-component constants, computed once per refit so that the per-weight KL
 * gradient costs one exp per component: log π_c − log s_c, 1/s_c², m_c. */
typedef struct noisy_cache {
    int k;
    float lw[OCCAM_PRIOR_MAX], inv_s2[OCCAM_PRIOR_MAX], mu[OCCAM_PRIOR_MAX];
} noisy_cache;

void noisy_cache_init(noisy_cache *c, const occam_prior *p);

/* The per-weight KL the trainer minimises, for q = N(μ, σ²) and the layer's prior p = Σ π_c
 * N(m_c, s_c²): the variational (Jensen) upper bound, for responsibilities ρ (Σ ρ_c = 1),
 *
 *   U(μ, σ; ρ, p) = −H(q) + Σ_c ρ_c E_q[−ln(π_c N(w; m_c, s_c²)/ρ_c)]
 *                 = −ln σ − 1/2 + Σ_c ρ_c (−ln π_c + ln s_c + ((μ − m_c)² + σ²)/(2 s_c²) + ln ρ_c)
 *                 ≥ KL(q‖p),
 *
 * exact for a single Gaussian. The trainer takes ρ_c = r_c(μ), the components' responsibilities
 * for the mean, and holds them fixed while it steps μ, σ (and, with noise.prior_update =
 * gradient, the prior): an E-step, then exact gradients of U. U is then within O(σ⁴) of the KL
 * when σ is small against the widths. (The ρ that minimise U weight r_c(μ) by e^{−σ²/(2 s_c²)};
 * they leave every weight whose σ exceeds the zero component's width outside it, so nothing is
 * pulled to zero: on configs/hinton93.ini relative error 0.99 instead of 0.18.) */
typedef struct noisy_kl_grad {
    double mu, sigma;                 /* ∂K/∂μ, ∂K/∂σ */
    double m[OCCAM_PRIOR_MAX];        /* ∂K/∂m_c (0 for the pinned zero component) */
    double log_s[OCCAM_PRIOR_MAX];    /* ∂K/∂ln s_c */
    double logit[OCCAM_PRIOR_MAX];    /* ∂K/∂η_c, π = softmax(η) over the free components, the
                                         pinned component's π fixed (0 for it) */
} noisy_kl_grad;

/* r_c(μ) ∝ π_c N(μ; m_c, s_c²), into r[0..p->k). */
void noisy_responsibilities(const occam_prior *p, double mu, double *r);

/* U(μ, σ; ρ, p); with g, also its gradient at fixed ρ in μ, σ and every prior parameter. */
double noisy_kl_bound(const occam_prior *p, double mu, double sigma, const double *rho,
                      noisy_kl_grad *g);

/* U at ρ = r(μ), and its gradient (at fixed ρ) if g: what the trainer minimises. */
double noisy_kl(const occam_prior *p, double mu, double sigma, noisy_kl_grad *g);

/* ∂K/∂μ and ∂K/∂σ from the cache, in single precision (the hot path of the update). */
static inline void noisy_kl_grad_fast(const noisy_cache *c, float mu, float sigma, float *dmu,
                                      float *dsigma)
{
    if (c->k == 1) {
        *dmu = (mu - c->mu[0]) * c->inv_s2[0];
        *dsigma = -1.0f / sigma + sigma * c->inv_s2[0];
        return;
    }
    float lw[OCCAM_PRIOR_MAX], mx = -INFINITY;
    for (int j = 0; j < c->k; j++) {
        float d = mu - c->mu[j];
        lw[j] = c->lw[j] - 0.5f * d * d * c->inv_s2[j];
        mx = lw[j] > mx ? lw[j] : mx;
    }
    float tot = 0.0f, gm = 0.0f, curv = 0.0f;
    for (int j = 0; j < c->k; j++) {
        float r = expf(lw[j] - mx);
        tot += r;
        gm += r * (mu - c->mu[j]) * c->inv_s2[j];
        curv += r * c->inv_s2[j];
    }
    *dmu = gm / tot;
    *dsigma = -1.0f / sigma + sigma * curv / tot;
}

#endif
