/* noisy-impl.h — private to src/nn: the prior of noisy weights and its KL gradients. */
#ifndef OCCAM_NOISY_IMPL_H
#define OCCAM_NOISY_IMPL_H

#include "occam/config.h"
#include "occam/mdl.h"
#include "occam/model.h"

static inline double noisy_softplus(double r) { return r > 20 ? r : log1p(exp(r)); }
static inline double noisy_sigmoid(double r) { return 1.0 / (1.0 + exp(-r)); }
static inline double noisy_softplus_inv(double s) { return s > 20 ? s : log(expm1(s)); }

/* Re-fits layer l's prior to its active weights' (μ, σ): a Gaussian N(0, s²) with s² = mean of
 * μ² + σ² (unless noise.prior_sigma fixes s), or a few EM steps of the mixture from its current
 * state (component 0 pinned at 0), with each weight's own variance added to the spread. */
void noisy_prior_refit(occam_prior *p, const occam_model *m, int l, const occam_config *cfg,
                       bool first);

/* A prior's per-component constants, computed once per refit so that the per-weight KL
 * gradient costs one exp per component: log π_c − log s_c, 1/s_c², m_c. */
typedef struct noisy_cache {
    int k;
    float lw[OCCAM_PRIOR_MAX], inv_s2[OCCAM_PRIOR_MAX], mu[OCCAM_PRIOR_MAX];
} noisy_cache;

void noisy_cache_init(noisy_cache *c, const occam_prior *p);

/* As noisy_kl_grad, from the cache, in single precision (the hot path of the update). */
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

/* ∂KL(q‖p)/∂μ and ∂KL/∂σ for q = N(μ, σ²). Gaussian prior: exact. Mixture: the expected log
 * prior is expanded to second order around μ (E_q[−ln p(w)] ≈ −ln p(μ) + σ²/2 Σ_c r_c/s_c²),
 * so the mean is pulled towards the components that claim it (soft weight sharing). */
void noisy_kl_grad(const occam_prior *p, double mu, double sigma, double *dmu, double *dsigma);

#endif
