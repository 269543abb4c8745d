/* occam/codes.h — code lengths in bits (Hinton & van Camp 1993: L = L(model) + L(data | model)):
 *   - the cost of saying *which* weights survive pruning, log2 C(n, k);
 *   - the cost of quantised weights under a prior;
 *   - the Gaussian misfit code for regression residuals;
 *   - the bits-back cost of noisy weights, KL(q || p), closed form for a Gaussian prior and
 *     Monte Carlo for a mixture.
 * Natural-log quantities (the KLs) say "nats" in their names' comments; everything returned as
 * a code length is in bits. Totals over the flat parameter array go through occam_sum_chunked,
 * so a score is bitwise the same for any thread count. */
#ifndef OCCAM_CODES_H
#define OCCAM_CODES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "occam/prior.h"
#include "occam/rng.h"


/* log2 C(n, k): the bits to name which k of n weights survive (uniform over subsets).
 * Exactly 0 for k = 0 and k = n; exactly symmetric in k <-> n-k; k = 1 gives log2 n.
 * Otherwise Stirling's series written without cancellation (k ln(n/k) - m log1p(-k/n) ...),
 * relative error ~1e-15 for any n < 2^53. k <= n (asserted). */
double occam_codes_log2_binomial(uint64_t n, uint64_t k);

/* ---- value codes ------------------------------------------------------------------------- */

/* dst[i] = q·delta with q = round(w[i]/delta) (ties away from zero); masked entries get 0.
 * dst may equal w. delta > 0 (asserted). mask may be NULL. */
void occam_codes_quantize(float *dst, const float *w, const uint8_t *mask, size_t n,
                        double delta);

/* Σ over active weights of occam_prior_bin_bits(p, (q - 1/2)δ, (q + 1/2)δ), q as above: the
 * bits to send every surviving weight to precision δ under prior p. Summed by occam_sum_chunked
 * (chunk OCCAM_SUM_CHUNK): bitwise identical for every thread count. */
double occam_codes_value_bits(const float *w, const uint8_t *mask, size_t n, double delta,
                            const occam_prior *p, int threads);

/* -log2(N(r; 0, σ²) · δ): the bits for a regression residual r sent to precision δ under a
 * Gaussian misfit model. It is the usual "density times bin width" approximation of the bin
 * mass, valid when δ << σ (it is negative when δ > σ√(2π), where the approximation is
 * meaningless). Computed in log space: finite for any finite r, σ > 0, δ > 0. */
double occam_codes_gauss_bits(double residual, double sigma, double delta);

/* ---- bits-back (noisy weights) ----------------------------------------------------------- */

/* KL(N(mu_q, sigma_q²) || N(mu_p, sigma_p²)) in NATS, closed form, written so that it stays
 * accurate (no cancellation) when q ≈ p. sigmas > 0. */
double occam_codes_kl_gauss(double mu_q, double sigma_q, double mu_p, double sigma_p);

/* Monte-Carlo estimate of KL(N(mu_q, sigma_q²) || p) in NATS: the entropy of q is exact, and
 * the cross-entropy -E_q[ln p(w)] is averaged over `samples` points w = mu_q ± sigma_q·ε
 * (antithetic pairs, ε from r; an odd count ends with a single +ε). Deterministic given r's
 * state; r is advanced. samples >= 1. */
double occam_codes_kl_mog_mc(double mu_q, double sigma_q, const occam_prior *p, int samples,
                           occam_rng *r);

/* Σ over active weights of KL(N(mu[i], sigma[i]²) || p) / ln 2: the bits-back cost of the
 * weights, in BITS. Closed form when p->k == 1; otherwise occam_codes_kl_mog_mc with `samples`
 * samples and the generator occam_rng_seed(seed, i) for weight i, so the result depends on
 * (seed, index) only. Summed by occam_sum_chunked: bitwise identical for every thread count. */
double occam_codes_kl_bits_total(const float *mu, const float *sigma, const uint8_t *mask,
                               size_t n, const occam_prior *p, int samples, uint64_t seed,
                               int threads);

#endif
