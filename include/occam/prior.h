/* occam/prior.h — weight priors: a Gaussian or a mixture of up to OCCAM_PRIOR_MAX Gaussians,
 * fitted by EM, their densities, and the cost in bits of a quantised weight (the prior's mass
 * in its quantisation bin). Shared by the noisy weights (nn/) and the description length
 * (mdl/), so it lives below both. */
#ifndef OCCAM_PRIOR_H
#define OCCAM_PRIOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "occam/error.h"

/* noise.prior and mdl.prior. */
/* sparse (noise.prior only): the log-uniform prior of sparse variational dropout (Molchanov,
 * Ashukha & Vetrov 2017); it has no parameters and is improper, so the description length
 * codes such a model under a fitted mixture instead. */
typedef enum { OCCAM_PRIOR_GAUSSIAN, OCCAM_PRIOR_MOG, OCCAM_PRIOR_SPARSE } occam_prior_kind;


#define OCCAM_PRIOR_MAX 8

/* Σ_j pi[j] N(mu[j], sigma[j]^2), j < k. k = 1 is a plain Gaussian (pi[0] = 1). pinned0 says
 * component 0's mean was held at 0 during fitting (a "pruned weights live here" spike). */
typedef struct occam_prior {
    int k;
    double pi[OCCAM_PRIOR_MAX], mu[OCCAM_PRIOR_MAX], sigma[OCCAM_PRIOR_MAX];
    bool pinned0;
} occam_prior;

/* A single Gaussian N(mu, sigma^2) (sigma > 0). */
occam_prior occam_prior_gauss(double mu, double sigma);

double occam_prior_cdf(const occam_prior *p, double x);
double occam_prior_pdf(const occam_prior *p, double x);
/* ln pdf(x), by log-sum-exp: finite wherever the density underflows double. */
double occam_prior_log_pdf(const occam_prior *p, double x);

/* -log2 (CDF(hi) - CDF(lo)), lo < hi (asserted; either may be infinite): the bits to send a
 * value known to lie in [lo, hi). Each component's mass is taken in log space: narrow bins
 * (width·(|z|+1) <= 1/2 in that component's units) by 5-point Gauss–Legendre on the density
 * relative to its value at the midpoint, so neither cancellation nor underflow occurs; wide
 * bins by erf near the mode and by log Q(z) (erfc, or its asymptotic series beyond 30σ) in
 * the tails. Components are combined by log-sum-exp. Finite for every finite input; results
 * beyond DBL_MAX (only for |x|/σ > ~1e154) are clamped to DBL_MAX. */
double occam_prior_bin_bits(const occam_prior *p, double lo, double hi);

/* Fits p to the active weights w[i] (mask NULL or mask[i] = 1).
 * k = 1: mean and standard deviation (mean held at 0 if pin_zero).
 * k > 1: EM for a 1-D mixture. Initialisation is deterministic: means at the quantiles
 * (j + 1/2)/k of the active weights, sigmas at std/k, equal weights; with pin_zero,
 * component 0 has mean 0 (kept exactly 0 by every M-step) and starts at sigma = std/10, and
 * the other means sit at the quantiles (j - 1/2)/(k - 1). Iterates until the mean
 * log-likelihood improves by less than 1e-8 nats per weight, at most 200 iterations (about
 * 3 s for k = 8 and 3e5 weights when components overlap and EM crawls). Sigmas are floored
 * at sigma_floor. A component whose responsibility vanishes keeps pi = 0. Serial.
 * Errors: OCCAM_ERR_INPUT for k outside [1, OCCAM_PRIOR_MAX], sigma_floor not > 0, a
 * non-finite active weight, or no active weights; OCCAM_ERR_RUNTIME when out of memory
 * (k > 1 only: a Gaussian fit allocates nothing, so the .occ writer's biases always get one).
 * p is written only on success. */
int occam_prior_fit(occam_prior *p, int k, bool pin_zero, const float *w, size_t n,
                    const uint8_t *mask, double sigma_floor, occam_error *err);

#endif
