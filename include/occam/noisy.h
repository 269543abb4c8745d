/* occam/noisy.h — noisy weights' priors, shared by the trainer and the description length.
 * A weight is q = N(μ, σ²) with σ = softplus(ρ) (model->rho); each layer has a prior p,
 * a Gaussian N(0, s²) or a mixture with component 0 pinned at zero (see src/nn/noisy.c). */
#ifndef OCCAM_NOISY_H
#define OCCAM_NOISY_H

#include <stdbool.h>

#include "occam/model.h"
#include "occam/prior.h"
#include "occam/rng.h"

typedef enum { OCCAM_PRIOR_UPDATE_EM, OCCAM_PRIOR_UPDATE_GRADIENT } occam_prior_update;

/* The [noise] section. */
typedef struct occam_noise_params {
    bool enabled;                    /* noise.enabled: noisy weights (Hinton & van Camp) */
    occam_prior_kind prior;          /* noise.prior = gaussian | mog */
    int components;                  /* noise.components: mog components (0 pinned at 0) */
    double prior_sigma;              /* noise.prior_sigma: gaussian; 0 = learned per layer */
    double init_sigma;               /* noise.init_sigma: initial σ of every weight */
    int warmup_epochs;               /* noise.warmup_epochs: β from 0 to 1 over these */
    double kl_scale;                 /* noise.kl_scale: multiplies β (1 = the paper's cost) */
    double zero_weight;              /* noise.zero_weight: mog, fixed π of the zero component */
    occam_prior_update prior_update; /* noise.prior_update = em | gradient */
    int prior_steps;                 /* noise.prior_steps: gradient steps per epoch */
    uint64_t seed;                   /* noise.seed: the noise samples */
} occam_noise_params;

/* Re-fits layer l's prior to its active weights' (μ, σ): a Gaussian N(0, s²) with s² = mean of
 * μ² + σ² (unless noise.prior_sigma fixes s), or the mixture (component 0 pinned at 0, its π
 * fixed at noise.zero_weight, its width capped at a tenth of the weights' RMS). first = true
 * fits the mixture to μ by EM from scratch; otherwise it moves from its current state by five
 * EM steps with each weight's own variance added to the spread (noise.prior_update = em) or by
 * noise.prior_steps Adam steps down the gradient of Σ_i K(μ_i, σ_i; p) (= gradient). */
void occam_noise_prior_fit(occam_prior *p, const occam_model *m, int l,
                           const occam_noise_params *np, bool first);

/* One layer of the noisy forward pass (local reparameterisation), for m rows:
 *   z (m, nout) = x·μᵀ + sqrt(x²·σ²ᵀ)·ε,  ε ~ N(0, 1) from r,
 * sd (m, nout) receives sqrt(x²·σ²ᵀ) (floored), eps (m, nout) the draws; sq (m, nin) is
 * scratch. mu and var are the layer's out×in means and variances. No bias, no activation. */
void occam_noise_layer_forward(float *z, float *sd, float *eps, float *sq, const float *x, int m,
                               int nin, int nout, const float *mu, const float *var,
                               occam_rng *r);

/* σ = softplus(ρ). */
double occam_noise_sigma(float rho);

#endif
