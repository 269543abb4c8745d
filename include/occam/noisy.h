/* occam/noisy.h — noisy weights: their priors and their forward pass, shared by the trainer,
 * the description length and the run report.
 * A weight is q = N(μ, σ²) with σ = softplus(ρ) (model->rho); each layer has a prior p,
 * a Gaussian N(0, s²) or a mixture with component 0 pinned at zero (see src/nn/noisy.c). */
#ifndef OCCAM_NOISY_H
#define OCCAM_NOISY_H

#include <stdbool.h>

#include "occam/model.h"
#include "occam/prior.h"
#include "occam/rng.h"

typedef enum { OCCAM_PRIOR_UPDATE_EM, OCCAM_PRIOR_UPDATE_GRADIENT } occam_prior_update;
/* noise.prior_scope: one prior per layer, or one for the whole network (the Gaussian's width,
 * the mixture's components); auto is network (the sparse prior has no parameters to share). */
typedef enum {
    OCCAM_PRIOR_SCOPE_LAYER,
    OCCAM_PRIOR_SCOPE_NETWORK,
    OCCAM_PRIOR_SCOPE_AUTO
} occam_prior_scope;

/* noise.data_term: how training evaluates the expected data cost E_q[L(w)].
 *   expansion: at the means, plus the second-order term ½ Σ_i h_i σ_i² of its Taylor
 *              expansion (h: the curvature, from squared per-row gradients); the forward
 *              pass is deterministic and σ is the term's exact minimiser (src/nn/noisy-impl.h).
 *   sample:    by sampling the weights with the local reparameterisation (Hinton & van Camp's
 *              noisy forward pass). */
typedef enum {
    OCCAM_NOISE_DATA_AUTO, /* sample for the sparse prior (its σ is trained by the sampled
                              gradient), expansion otherwise */
    OCCAM_NOISE_DATA_EXPANSION,
    OCCAM_NOISE_DATA_SAMPLE
} occam_noise_data_term;

/* The noise level's terms a checkpoint keeps (occam_trainer_state.noise_terms): β, N, and a
 * table of 33 values of γ against the level, with the level it is centred at. */
#define OCCAM_NOISE_TERMS 36

/* The narrowest Gaussian prior: a learned width stops here, and noise.prior_sigma may not ask
 * for less (occam_config_validate refuses it, naming the key). */
#define OCCAM_NOISE_PRIOR_SIGMA_MIN 1e-6
/* The narrowest width noise.zero_cap gives the mixture's zero component. The KL's vector math
 * holds 1/s² in float32, which overflows below s = 5.4e-20. */
#define OCCAM_NOISE_SIGMA_MIN 1e-18

/* The [noise] section. */
typedef struct occam_noise_params {
    bool enabled;                    /* noise.enabled: noisy weights (Hinton & van Camp) */
    occam_prior_kind prior;          /* noise.prior = gaussian | mog | sparse */
    int components;                  /* noise.components: mog components (0 pinned at 0) */
    double prior_sigma;              /* noise.prior_sigma: gaussian; 0 = learned */
    occam_prior_scope prior_scope;   /* noise.prior_scope: gaussian and mog, one prior per
                                        layer or one for the network (auto: network) */
    bool rebalance;                  /* noise.rebalance: one prior for the network, ReLU units:
                                        move each hidden unit to its balanced rescaling each
                                        epoch */
    double init_sigma;               /* noise.init_sigma: initial σ of every weight */
    int warmup_epochs;               /* noise.warmup_epochs: β from 0 to 1 over these */
    double kl_scale;                 /* noise.kl_scale: multiplies β (1 = the paper's cost) */
    double zero_weight;              /* noise.zero_weight: mog, fixed π of the zero component */
    double zero_cap;                 /* noise.zero_cap: mog, the zero component's width at most
                                        this fraction of the weights' RMS (0: no cap) */
    occam_prior_update prior_update; /* noise.prior_update = em | gradient */
    int prior_steps;                 /* noise.prior_steps: gradient steps per epoch */
    uint64_t seed;                   /* noise.seed: the noise samples */
    occam_noise_data_term data_term; /* noise.data_term = auto | expansion | sample */
    double log_alpha;                /* noise.log_alpha: sparse prior, weights whose
                                        log α = log σ²/μ² exceeds it are masked */
} occam_noise_params;

/* The sparse prior's KL(q‖p) approximation in nats for log α = ln(σ²/μ²) (Molchanov et al.
 * 2017, eq. 14, up to its constant): k1 − k1·sigmoid(k2 + k3·log α) + ½·ln(1 + 1/α), with
 * k1 = 0.63576, k2 = 1.87320, k3 = 1.48695; and its derivative in log α into *dk if not NULL.
 * Zero at log α → ∞; grows like −½ log α as α → 0. */
double occam_noise_sparse_kl(double log_alpha, double *dk);

/* Whether training samples the weights: noise.data_term = sample, or auto with the sparse
 * prior. */
bool occam_noise_samples(const occam_noise_params *np);

/* Whether one prior serves the whole network: noise.prior = gaussian or mog, and
 * noise.prior_scope = network or auto. */
bool occam_noise_one_prior(const occam_noise_params *np);

/* Re-fits layer l's prior to its active weights' (μ, σ), or with one prior for the network
 * (occam_noise_one_prior) to every layer's, so that all layers get the same prior: a Gaussian
 * N(0, s²) with s² = mean of μ² + σ² (unless noise.prior_sigma fixes s), or the mixture
 * (component 0 pinned at 0, its π fixed at noise.zero_weight, its width at most
 * noise.zero_cap × the weights' RMS when that is > 0). first = true fits the mixture to μ by
 * EM from scratch; otherwise it moves from its current state by five EM steps with each
 * weight's own variance added to the spread (noise.prior_update = em) or by
 * noise.prior_steps Adam steps down the gradient of Σ_i K(μ_i, σ_i; p) (= gradient).
 * Errors: OCCAM_ERR_RUNTIME when the first fit runs out of memory (for one prior for the
 * network it copies every layer's weights); p is then unchanged. A refit (first = false)
 * allocates nothing and cannot fail. */
int occam_noise_prior_fit(occam_prior *p, const occam_model *m, int l,
                          const occam_noise_params *np, bool first);

/* occam_noise_prior_fit for every layer into p[0..nlayers); with one prior for the network it
 * is fitted once, from p[0], and copied to the other layers. Its first error. */
int occam_noise_priors_fit(occam_prior *p, const occam_model *m, const occam_noise_params *np,
                           bool first);

/* r_c(μ) ∝ π_c N(μ; m_c, s_c²), the components' responsibilities for a weight of mean μ, into
 * r[0..p->k); returns the most responsible component (the first of equals). */
int occam_noise_responsibilities(const occam_prior *p, double mu, double *r);

/* ---- the noisy forward pass (local reparameterisation) --------------------------------------
 * Sampling the weights w ~ N(μ, σ²) makes a layer's pre-activation for input row x Gaussian
 * with mean x·μᵀ and variance x²·σ²ᵀ, so each unit and row draws one ε ~ N(0, 1) instead of
 * one per weight. The trainer keeps sd and ε for its backward pass; the description length
 * (src/mdl/dl_data.c) draws many samples of the same rows and computes layer 0's moments once. */

/* Standard normals for ε, drawn in order, both normals of each Box–Muller pair, a SIMD vector
 * of pairs at a time (one 64-bit draw of r per pair; see src/nn/vmath.h). A call for an odd
 * count leaves the last pair's sine partner over: the description length (pairs = true) keeps
 * it for its next call, so its sequence does not depend on how the draws are split; the
 * trainer (pairs = false) drops it, so its checkpoints hold the generator and nothing else. */
typedef struct occam_noise_normals {
    occam_rng *r;
    bool pairs;
    bool have;    /* pairs: spare is the last pair's unused sine partner */
    double spare;
} occam_noise_normals;

/* eps (n) ~ N(0, 1) from nz: ⌈n/2⌉ pairs, one fewer if a kept partner opens the call. */
void occam_noise_draw(float *eps, occam_noise_normals *nz, size_t n);

/* One noisy layer's pre-activation moments for m rows:
 *   mean (m, nout) = x (m, nin) · μᵀ (nin, nout)
 *   sd (m, nout)   = sqrt(x² (m, nin) · σ²ᵀ (nin, nout) + 1e-12)
 * mu and var are the layer's (nout, nin) means and variances; sq (m, nin) is scratch. The
 * floor keeps dL/dvar = dL/dZ·ε/(2·sd) finite where an input row is all zero. */
void occam_noise_layer_moments(float *mean, float *sd, float *sq, const float *x, const float *mu,
                               const float *var, int m, int nin, int nout);

/* One layer of the noisy forward pass for m rows, the moments and then the sample:
 *   z (m, nout) = x·μᵀ + sd ⊙ ε,  sd (m, nout) as occam_noise_layer_moments,
 *   eps (m, nout) = ε ~ N(0, 1) from nz; sq (m, nin) is scratch. No bias, no activation. */
void occam_noise_layer_forward(float *z, float *sd, float *eps, float *sq, const float *x,
                               const float *mu, const float *var, int m, int nin, int nout,
                               occam_noise_normals *nz);

/* The noisy forward pass of m rows through every layer of mdl: with x_0 = x (m, width[0]) and
 * x_{l+1} = z[l], layer l gives
 *   sd[l] (m, width[l+1]), eps[l] (m, width[l+1])  as occam_noise_layer_forward,
 *   z[l] (m, width[l+1]) = act(x_l·μ_lᵀ + sd[l] ⊙ eps[l] + b_l)  (the last layer: no act),
 * μ and b from mdl->params, σ² from var (lay.nparams, 0 where masked), ε drawn from nz layer
 * by layer, row-major; sq (m, widest layer) is scratch. mean0, if not NULL, is layer 0's x·μᵀ
 * already computed for these rows, with its sd in sd[0] (occam_noise_layer_moments): layer 0
 * then only draws its noise, and x is not read. */
void occam_noise_forward(float *const *z, float *const *sd, float *const *eps, float *sq,
                         const float *x, const float *mean0, const occam_model *mdl,
                         const float *var, int m, occam_noise_normals *nz);

/* Bayesian compression's rule: counts m's active weights whose log α = ln(σ²/μ²) exceeds
 * log_alpha (signal-to-noise |μ|/σ below e^(−log_alpha/2)) and, for each, zeroes mask[i] and
 * params[i] where those (m's flat layout) are not NULL. 0 for a model without σ. */
size_t occam_noise_low_snr(const occam_model *m, double log_alpha, uint8_t *mask, float *params);

/* Bayesian compression's pruning: masks (and zeroes) every active weight whose log α =
 * ln(σ²/μ²) exceeds log_alpha, signal-to-noise |μ|/σ below e^(−log_alpha/2), enabling m's mask
 * if needed. Returns the number masked, or −1 with err set when the mask cannot be had.
 * A model without σ is left alone (0). */
long occam_noise_mask_low_snr(occam_model *m, double log_alpha, occam_error *err);

/* σ = softplus(ρ). */
double occam_noise_sigma(float rho);
/* softplus⁻¹(σ), the ρ of a weight of width σ > 0. */
double occam_noise_rho(double sigma);

#endif
