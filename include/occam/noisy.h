/* occam/noisy.h — noisy weights' priors, shared by the trainer and the description length.
 * A weight is q = N(μ, σ²) with σ = softplus(ρ) (model->rho); each layer has a prior p,
 * a Gaussian N(0, s²) or a mixture with component 0 pinned at zero (see src/nn/noisy.c). */
#ifndef OCCAM_NOISY_H
#define OCCAM_NOISY_H

#include <stdbool.h>

#include "occam/config.h"
#include "occam/mdl.h"
#include "occam/model.h"
#include "occam/rng.h"

/* Fits layer l's prior to its active weights' (μ, σ) as noise.* says: first = true starts from
 * scratch (EM on μ), otherwise a few EM steps from *p including each weight's own variance. */
void occam_noise_prior_fit(occam_prior *p, const occam_model *m, int l, const occam_config *cfg,
                           bool first);

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
