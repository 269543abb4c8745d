/* occam/mdl.h — code lengths in bits: the Minimum Description Length of a network.
 *
 * occam scores a network by L = L(model) + L(data | model), both in bits (Hinton & van Camp
 * 1993). This module provides the pieces:
 *   - a deterministic parallel sum (every code length over the flat parameter array goes
 *     through it, so a score is bitwise the same for any thread count);
 *   - the cost of saying *which* weights survive pruning, log2 C(n, k);
 *   - weight priors (a Gaussian or a mixture of up to OCCAM_PRIOR_MAX Gaussians, fitted by
 *     EM) and the cost of a quantised weight: the prior's mass in its quantisation bin;
 *   - the Gaussian misfit code for regression residuals;
 *   - the bits-back cost of noisy weights, KL(q || p), closed form for a Gaussian prior and
 *     Monte Carlo for a mixture.
 * Natural-log quantities (the KLs) say "nats" in their names' comments; everything returned
 * as a code length is in bits.
 *
 * Reproducibility contract: occam_mdl_sum cuts the index range into fixed chunks whose size
 * does not depend on the thread count, sums each chunk serially and combines the chunk sums
 * by a fixed pairwise tree. Functions built on it (value bits, KL totals) use the chunk size
 * OCCAM_MDL_CHUNK, so their results depend on the inputs only. */
#ifndef OCCAM_MDL_H
#define OCCAM_MDL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "occam/error.h"
#include "occam/rng.h"

/* Elements per chunk of the code-length sums built on occam_mdl_sum. Changing it changes the
 * last bits of every stored score, so it is part of the format. */
#define OCCAM_MDL_CHUNK 2048

/* ---- deterministic parallel sum ---------------------------------------------------------- */

/* Sum over [lo, hi) of some per-element quantity, accumulated in double, in index order.
 * Called concurrently from several threads with disjoint ranges: it must only read ctx. */
typedef double (*occam_mdl_chunk_fn)(void *ctx, size_t lo, size_t hi);

/* Σ over [0, n): chunk c = [c·chunk, min((c+1)·chunk, n)) is summed by chunk_sum; the chunk
 * sums are combined by the fixed pairwise tree (slots 2i and 2i+1, level by level, an odd
 * last slot carried up). The result is bitwise identical for every thread count.
 * threads > 1 opens its own `omp parallel` region and must not be called from inside one;
 * threads == 1 runs serially without OpenMP (safe anywhere, e.g. inside a team's worker).
 * chunk > 0 and threads >= 1 (asserted). n == 0 gives 0. Never fails: if the slot array
 * cannot be allocated it falls back to the serial path, which gives the same bits. */
double occam_mdl_sum(int threads, size_t n, size_t chunk, occam_mdl_chunk_fn chunk_sum,
                     void *ctx);

/* ---- combinatorial codes ----------------------------------------------------------------- */

/* log2 C(n, k): the bits to name which k of n weights survive (uniform over subsets).
 * Exactly 0 for k = 0 and k = n; exactly symmetric in k <-> n-k; k = 1 gives log2 n.
 * Otherwise Stirling's series written without cancellation (k ln(n/k) - m log1p(-k/n) ...),
 * relative error ~1e-15 for any n < 2^53. k <= n (asserted). */
double occam_mdl_log2_binomial(uint64_t n, uint64_t k);

/* ---- priors ------------------------------------------------------------------------------ */

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
 * non-finite active weight, or no active weights; OCCAM_ERR_RUNTIME when out of memory.
 * p is written only on success. */
int occam_prior_fit(occam_prior *p, int k, bool pin_zero, const float *w, size_t n,
                    const uint8_t *mask, double sigma_floor, occam_error *err);

/* ---- value codes ------------------------------------------------------------------------- */

/* dst[i] = q·delta with q = round(w[i]/delta) (ties away from zero); masked entries get 0.
 * dst may equal w. delta > 0 (asserted). mask may be NULL. */
void occam_mdl_quantize(float *dst, const float *w, const uint8_t *mask, size_t n,
                        double delta);

/* Σ over active weights of occam_prior_bin_bits(p, (q - 1/2)δ, (q + 1/2)δ), q as above: the
 * bits to send every surviving weight to precision δ under prior p. Summed by occam_mdl_sum
 * (chunk OCCAM_MDL_CHUNK): bitwise identical for every thread count. */
double occam_mdl_value_bits(const float *w, const uint8_t *mask, size_t n, double delta,
                            const occam_prior *p, int threads);

/* -log2(N(r; 0, σ²) · δ): the bits for a regression residual r sent to precision δ under a
 * Gaussian misfit model. It is the usual "density times bin width" approximation of the bin
 * mass, valid when δ << σ (it is negative when δ > σ√(2π), where the approximation is
 * meaningless). Computed in log space: finite for any finite r, σ > 0, δ > 0. */
double occam_mdl_gauss_bits(double residual, double sigma, double delta);

/* sqrt(mean((y - t)²)) over n elements (t may be NULL: rms of y). The maximum-likelihood σ
 * for occam_mdl_gauss_bits. 0 for n = 0. Serial, double accumulation. */
double occam_mdl_rms(const float *y, const float *t, size_t n);

/* ---- bits-back (noisy weights) ----------------------------------------------------------- */

/* KL(N(mu_q, sigma_q²) || N(mu_p, sigma_p²)) in NATS, closed form, written so that it stays
 * accurate (no cancellation) when q ≈ p. sigmas > 0. */
double occam_mdl_kl_gauss(double mu_q, double sigma_q, double mu_p, double sigma_p);

/* Monte-Carlo estimate of KL(N(mu_q, sigma_q²) || p) in NATS: the entropy of q is exact, and
 * the cross-entropy -E_q[ln p(w)] is averaged over `samples` points w = mu_q ± sigma_q·ε
 * (antithetic pairs, ε from r; an odd count ends with a single +ε). Deterministic given r's
 * state; r is advanced. samples >= 1. */
double occam_mdl_kl_mog_mc(double mu_q, double sigma_q, const occam_prior *p, int samples,
                           occam_rng *r);

/* Σ over active weights of KL(N(mu[i], sigma[i]²) || p) / ln 2: the bits-back cost of the
 * weights, in BITS. Closed form when p->k == 1; otherwise occam_mdl_kl_mog_mc with `samples`
 * samples and the generator occam_rng_seed(seed, i) for weight i, so the result depends on
 * (seed, index) only. Summed by occam_mdl_sum: bitwise identical for every thread count. */
double occam_mdl_kl_bits_total(const float *mu, const float *sigma, const uint8_t *mask,
                               size_t n, const occam_prior *p, int samples, uint64_t seed,
                               int threads);

#endif
