/* Code lengths: which weights survive (log2 C(n, k)), what they are (quantised values under a
 * prior), how far the data miss (Gaussian residual code), and the bits-back cost of noisy
 * weights (KL to the prior).
 *
 * Every per-weight sum goes through occam_sum_chunked with the fixed chunk OCCAM_SUM_CHUNK, so a
 * score is bitwise the same for any thread count; the Monte-Carlo KL draws weight i's samples
 * from the stream occam_rng_seed(seed, i) for the same reason.
 *
 * log2 C(n, k) is not lgamma(n+1) - lgamma(k+1) - lgamma(n-k+1): at n = 1e12 those terms are
 * ~3e13 and their difference keeps only ~3 decimal digits when k is small. Stirling's series
 * is instead rearranged so that the large terms cancel analytically: with m = n - k,
 *   ln C = k ln(n/k) - m log1p(-k/n) + ½ ln(n/(k m)) - ln√(2π) + δ(n) - δ(k) - δ(m),
 * where δ(x) = ln x! - ((x+½) ln x - x + ln√(2π)) is small (series for x >= 20, lgamma below).
 * Both leading terms are positive, so no digits are lost.
 *
 * The Gaussian KL is written as x²/2 + (x - log1p x) + d²/2 with x = σq/σp - 1 and
 * d = (μq - μp)/σp, and x - log1p x by its series near 0, so q ≈ p gives a KL accurate to the
 * last digits rather than a difference of nearly equal logs. */
#include "occam/codes.h"
#include "occam/sum.h"

#include <float.h>
#include <stdint.h>
#include <math.h>

#define LN_SQRT_2PI 0.91893853320467274178032973640562
#define LN2 0.69314718055994530941723212145818

/* ---- log2 C(n, k) ------------------------------------------------------------------------ */

static double stirling_delta(double x)
{
    if (x >= 20.0) { /* next term 691/(360360 x^11) < 1e-17 */
        double u = 1.0 / x, u2 = u * u;
        return u * (1.0 / 12 - u2 * (1.0 / 360 - u2 * (1.0 / 1260 - u2 * (1.0 / 1680 -
                                                                        u2 / 1188))));
    }
    return lgamma(x + 1.0) - ((x + 0.5) * log(x) - x + LN_SQRT_2PI);
}

double occam_codes_log2_binomial(uint64_t n, uint64_t k)
{
    OCCAM_ASSERT(k <= n);
    uint64_t m = n - k;
    if (k > m) { /* symmetric by construction: always work with the smaller side */
        uint64_t t = k;
        k = m;
        m = t;
    }
    if (k == 0) return 0.0;
    double dn = (double)n, dk = (double)k, dm = (double)m;
    if (k == 1) return log2(dn);
    double ln_nk = log(dn / dk);
    double lnc = dk * ln_nk - dm * log1p(-dk / dn) + 0.5 * (ln_nk - log(dm)) - LN_SQRT_2PI +
                 stirling_delta(dn) - stirling_delta(dk) - stirling_delta(dm);
    return lnc / LN2;
}

/* ---- quantised values -------------------------------------------------------------------- */

void occam_codes_quantize(float *dst, const float *w, const uint8_t *mask, size_t n,
                        double delta)
{
    OCCAM_ASSERT(delta > 0);
    for (size_t i = 0; i < n; i++)
        /* + 0.0 turns round's −0 into +0, the zero a decoder's integer bin index gives */
        dst[i] = mask && !mask[i] ? 0.0f : (float)((round((double)w[i] / delta) + 0.0) * delta);
}

typedef struct value_ctx {
    const float *w;
    const uint8_t *mask;
    double delta;
    const occam_prior *p;
} value_ctx;

/* A layer's weights fall in a few hundred bins at most, so each chunk remembers the bits of
 * the bins it has seen (direct-mapped by bin index): the same values as computing each one
 * afresh, added in the same order, at a fraction of the cost. */
#define BIN_MEMO 256

static double value_chunk(void *ctx, int t, size_t lo, size_t hi)
{
    (void)t;
    const value_ctx *c = ctx;
    double memo_q[BIN_MEMO], memo_bits[BIN_MEMO];
    for (int j = 0; j < BIN_MEMO; j++) memo_q[j] = NAN;
    double s = 0;
    for (size_t i = lo; i < hi; i++) {
        if (c->mask && !c->mask[i]) continue;
        double q = round((double)c->w[i] / c->delta);
        /* |q| is below 2^63 unless δ is absurdly small; the slot is then any slot. */
        int slot = fabs(q) < 0x1p62 ? (int)((long long)q & (BIN_MEMO - 1)) : 0;
        if (memo_q[slot] != q) { /* NaN never compares equal: empty slots miss */
            memo_q[slot] = q;
            /* A .occ file holds bin indices in 32 bits, so a value past |q| = 2^31 − 1 cannot
             * be sent: mdl counted a finite length (a weight of 5 at mdl.weight_precision =
             * 1e-9) that compress then refused to write. Such a value, like one past 2^52
             * where a bin has no width left in double (a weight of 3e38 at a step of 5e-4 made
             * lo == hi and tripped the prior's assertion), lies beyond any code length, which
             * is written as DBL_MAX. */
            double blo = (q - 0.5) * c->delta, bhi = (q + 0.5) * c->delta;
            memo_bits[slot] = blo < bhi && fabs(q) <= INT32_MAX
                                  ? occam_prior_bin_bits(c->p, blo, bhi)
                                  : DBL_MAX;
        }
        s += memo_bits[slot];
    }
    return s;
}

double occam_codes_value_bits(const float *w, const uint8_t *mask, size_t n, double delta,
                            const occam_prior *p, int threads)
{
    OCCAM_ASSERT(delta > 0);
    value_ctx c = {w, mask, delta, p};
    return occam_sum_chunked(threads, n, OCCAM_SUM_CHUNK, value_chunk, &c);
}

/* ---- data misfit ------------------------------------------------------------------------- */

double occam_codes_gauss_bits(double residual, double sigma, double delta)
{
    OCCAM_ASSERT(sigma > 0 && delta > 0);
    double z = residual / sigma;
    return (0.5 * z * z + log(sigma) + LN_SQRT_2PI - log(delta)) / LN2;
}

/* ---- bits-back KL ------------------------------------------------------------------------ */

/* x − ln(1 + x) for r = 1 + x > 0, without cancellation near x = 0. Away from it ln r, not
 * log1p(x): for r < 2^−53, x = r − 1 rounds to −1 and log1p(−1) = −inf (a posterior
 * σ ≈ 4e-18 against a prior of width 0.14 then cost infinitely many bits). */
static double x_minus_log1p(double x, double r)
{
    if (fabs(x) < 0.01) { /* Σ_{i>=2} (-1)^i x^i / i; the x^11 term is < 1e-18 relative */
        double s = 0;
        for (int i = 10; i >= 2; i--) s = (i % 2 == 0 ? 1.0 : -1.0) / i + x * s;
        return x * x * s;
    }
    return x - log(r);
}

double occam_codes_kl_gauss(double mu_q, double sigma_q, double mu_p, double sigma_p)
{
    OCCAM_ASSERT(sigma_q > 0 && sigma_p > 0);
    double r = sigma_q / sigma_p, x = r - 1.0, d = (mu_q - mu_p) / sigma_p;
    return 0.5 * x * x + x_minus_log1p(x, r) + 0.5 * d * d;
}

double occam_codes_kl_mog_mc(double mu_q, double sigma_q, const occam_prior *p, int samples,
                           occam_rng *r)
{
    OCCAM_ASSERT(sigma_q > 0 && samples >= 1);
    /* Antithetic pairs cancel the odd part of ln p around mu_q (for a prior that is locally
     * quadratic, all of the linear term), which is most of the sampling noise. */
    double s = 0;
    int i = 0;
    for (; i + 1 < samples; i += 2) {
        double e = sigma_q * occam_rng_normal(r);
        s += occam_prior_log_pdf(p, mu_q + e) + occam_prior_log_pdf(p, mu_q - e);
    }
    if (i < samples) s += occam_prior_log_pdf(p, mu_q + sigma_q * occam_rng_normal(r));
    double neg_entropy = -(LN_SQRT_2PI + 0.5 + log(sigma_q));
    return neg_entropy - s / samples;
}

typedef struct kl_ctx {
    const float *mu, *sigma;
    const uint8_t *mask;
    const occam_prior *p;
    int samples;
    uint64_t seed;
} kl_ctx;

static double kl_chunk(void *ctx, int t, size_t lo, size_t hi)
{
    (void)t;
    const kl_ctx *c = ctx;
    double s = 0;
    for (size_t i = lo; i < hi; i++) {
        if (c->mask && !c->mask[i]) continue;
        if (c->p->k == 1) {
            s += occam_codes_kl_gauss(c->mu[i], c->sigma[i], c->p->mu[0], c->p->sigma[0]);
        } else {
            occam_rng r = occam_rng_seed(c->seed, i);
            s += occam_codes_kl_mog_mc(c->mu[i], c->sigma[i], c->p, c->samples, &r);
        }
    }
    return s;
}

double occam_codes_kl_bits_total(const float *mu, const float *sigma, const uint8_t *mask,
                               size_t n, const occam_prior *p, int samples, uint64_t seed,
                               int threads)
{
    OCCAM_ASSERT(p && p->k >= 1 && p->k <= OCCAM_PRIOR_MAX && p->sigma[0] > 0);
    OCCAM_ASSERT(p->k == 1 || samples >= 1);
    kl_ctx c = {mu, sigma, mask, p, samples, seed};
    return occam_sum_chunked(threads, n, OCCAM_SUM_CHUNK, kl_chunk, &c) / LN2;
}
