/* noisy-impl.h — private to src/nn: the prior of noisy weights and its KL gradients, and the
 * trainer's noisy-weight state with the stages of its step (forward, backward, update). */
#ifndef OCCAM_NOISY_IMPL_H
#define OCCAM_NOISY_IMPL_H

#include <math.h>

#include "occam/prior.h"
#include "occam/model.h"
#include "occam/noisy.h"
#include "occam/optim.h"
#include "occam/rng.h"

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

/* ---- the trainer's noisy weights (noise.enabled) ----------------------------------------- */

/* What the trainer keeps for noisy weights besides the model's μ (params) and ρ (rho). The
 * whole-batch arrays are split by rows among the threads like the trainer's own. */
typedef struct noisy_state {
    float *var;                    /* lay.nparams: σ² of every active weight, 0 elsewhere */
    float *eps[OCCAM_MAX_LAYERS];  /* rows × width[l+1]: the noise sample, then dL/dZvar */
    float *sd[OCCAM_MAX_LAYERS];   /* rows × width[l+1]: sqrt of the pre-activation variance */
    float *sq;                     /* rows × sqw: squared inputs, then dV·σ² */
    size_t sqw;                    /* row stride of sq: the widest layer, the same for every
                                      layer, so that threads' row blocks never overlap */
    float *mom1r, *mom2r;          /* optimiser moments of ρ (mom2r: adam only) */
    occam_rng *rng;                /* [threads] noise streams */
    int threads;
    occam_prior prior[OCCAM_MAX_LAYERS];
    noisy_cache cache[OCCAM_MAX_LAYERS]; /* the priors' constants for the update */
    double kappa;                  /* β·kl_scale / N: the KL's weight per training row */
} noisy_state;

/* The state for m, batch buffers of `rows` rows and `threads` noise streams: ρ (if m has none:
 * softplus⁻¹(noise.init_sigma)), σ², the priors' first fit. NULL when memory runs out. */
noisy_state *noisy_state_create(occam_model *m, const occam_noise_params *np, bool adam,
                                size_t rows, int threads);
void noisy_state_free(noisy_state *s);

/* κ for `epoch` of `rows` training rows (see occam_trainer_begin_epoch), and after the first
 * epoch the priors' refit. */
void noisy_begin_epoch(noisy_state *s, const occam_model *m, const occam_noise_params *np,
                       int epoch, size_t rows, double last_loss);
/* The priors' constants and σ², from the priors and ρ (after a restore). */
void noisy_sync(noisy_state *s, const occam_model *m);
/* σ² = 0 where the mask is 0. */
void noisy_apply_mask(noisy_state *s, const occam_model *m);

/* The step's stages on thread t's batch rows [lo, lo + m); act and dz are the trainer's
 * whole-batch arrays per layer (rows × width[l+1]).
 *
 * Forward: act[l] rows as occam_noise_forward from x (m, width[0]), the noise from thread t's
 * stream; sd and ε kept in s for the backward pass. */
void noisy_forward(float *const *act, noisy_state *s, const float *x, const occam_model *mdl,
                   int t, size_t lo, int m);

/* Backward through one noisy layer for m rows, after its forward:
 *   dmu (nout, nin) = dZᵀ·X,   db (nout) = Σ_rows dZ,
 *   eps (m, nout) <- dV = dZ ⊙ ε / (2·sd)  (ε is consumed),
 *   dvar (nout, nin) = dVᵀ·X²,
 *   dx (m, nin) = dZ·μ + 2X ⊙ (dV·σ²) = dL/dX, unless dx is NULL (the input layer's);
 * dz, sd (m, nout), x (m, nin), mu, var (nout, nin); sq (m, nin) is scratch. */
void noisy_layer_backward(float *dmu, float *db, float *dvar, float *dx, float *eps, float *sq,
                          const float *dz, const float *x, const float *sd, const float *mu,
                          const float *var, int m, int nin, int nout);

/* Backward: into part (2 · lay.nparams, [dμ and db | dσ²]) this thread's gradient, every
 * layer from the top (act's derivative applied to dL/dX, into dz of the layer below); with
 * m = 0 the gradient is zero. x is the batch's input array (rows × width[0]). */
void noisy_backward(float *part, float *const *dz, noisy_state *s, float *const *act,
                    const float *x, const occam_model *mdl, size_t lo, int m);

/* The update of the noisy weights in [off, off + len) (one layer's weights), fused with the
 * reduction of the threads' parts (2 · lay.nparams each):
 *   g_μ = Σ dμ + κ·∂KL/∂μ,  g_ρ = (Σ dσ²·2σ + κ·∂KL/∂σ)·sigmoid(ρ),
 * then opt on μ (m->params, moments mom1, mom2) and on ρ (m->rho, s's moments), then σ²
 * refreshed for the next forward pass. */
void noisy_update(occam_model *m, float *mom1, float *mom2, noisy_state *s,
                  const occam_optim *opt, const float *const *parts, int nparts, size_t off,
                  size_t len);

/* The ρ gradient of weights [off, off + len) without an update: g[i] (indexed like rho) =
 * Σ_u parts[u][np + i] · 2σ · sigmoid(ρ_i), summed in double in thread order. */
void noisy_rho_grad(float *g, const float *const *parts, const float *rho, int nparts,
                    size_t np, size_t off, size_t len);

#endif
