/* Weight priors: a Gaussian or a mixture of Gaussians (Hinton & van Camp's adaptive prior),
 * its density, its CDF, the bits of a quantisation bin, and an EM fit.
 *
 * Bin masses are the delicate part. A surviving weight 40σ out in a component's tail has a
 * mass near 1e-350, below the smallest double, and a narrow bin's CDF(hi) - CDF(lo) loses
 * every digit to cancellation long before that. So each component's mass is computed as a
 * logarithm, by one of three routes chosen from the bin's shape in that component's units
 * (a = (lo-μ)/σ, b = (hi-μ)/σ, midpoint m, width Δ):
 *   - narrow (Δ·(|m|+1) <= 1/2): ln φ(m) + ln ∫ exp(-m t - t²/2) dt over [-Δ/2, Δ/2]. The
 *     integrand is within e^{±0.3} of 1, so 5-point Gauss–Legendre (exact to degree 9) is
 *     accurate to ~1e-15 and ln φ(m) = -m²/2 - ln√(2π) never underflows;
 *   - wide and straddling the mean: ½(erf(b/√2) + erf(-a/√2)), two positive terms;
 *   - wide and in a tail (after reflecting to 0 <= a < b): ln Q(a) + ln(1 - Q(b)/Q(a)) with
 *     ln Q from erfc below 30σ and from the asymptotic series beyond, where the log ratio is
 *     formed analytically so that -a²/2 never cancels against -b²/2.
 * The components are then combined by log-sum-exp.
 *
 * EM is serial and runs over the active weights sorted ascending (the sort also gives the
 * initial quantiles), so the fit is a pure function of the multiset of active weights. The
 * M-step accumulates moments about the previous means, which keeps the variance update free
 * of the Σw² - Nμ² cancellation. */
#include "occam/prior.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "occam/floatkey.h"
#include "occam/mem.h"

#define LN_SQRT_2PI 0.91893853320467274178032973640562
#define LN2 0.69314718055994530941723212145818
#define SQRT1_2 0.70710678118654752440084436210485
/* Beyond this many σ, ln Q(z) comes from the asymptotic series (erfc is still accurate here,
 * but underflows to subnormals by ~37σ). */
#define TAIL_Z 30.0
#define EM_MAX_ITER 200
#define EM_TOL 1e-8

static void prior_check(const occam_prior *p)
{
    OCCAM_ASSERT(p && p->k >= 1 && p->k <= OCCAM_PRIOR_MAX);
    for (int j = 0; j < p->k; j++) OCCAM_ASSERT(p->sigma[j] > 0);
}

/* A one-component prior is a Gaussian whatever pi[0] says. */
static double weight_of(const occam_prior *p, int j) { return p->k == 1 ? 1.0 : p->pi[j]; }

occam_prior occam_prior_gauss(double mu, double sigma)
{
    OCCAM_ASSERT(sigma > 0);
    occam_prior p = {.k = 1};
    p.pi[0] = 1.0;
    p.mu[0] = mu;
    p.sigma[0] = sigma;
    return p;
}

double occam_prior_cdf(const occam_prior *p, double x)
{
    prior_check(p);
    double s = 0;
    for (int j = 0; j < p->k; j++)
        s += weight_of(p, j) * 0.5 * erfc(-(x - p->mu[j]) / p->sigma[j] * SQRT1_2);
    return s;
}

double occam_prior_pdf(const occam_prior *p, double x)
{
    prior_check(p);
    double s = 0;
    for (int j = 0; j < p->k; j++) {
        double z = (x - p->mu[j]) / p->sigma[j];
        s += weight_of(p, j) * exp(-0.5 * z * z - LN_SQRT_2PI) / p->sigma[j];
    }
    return s;
}

/* ln Σ exp(l[j]) over the finite entries; -inf if there are none. */
static double log_sum_exp(const double *l, int k)
{
    double mx = -INFINITY;
    for (int j = 0; j < k; j++)
        if (l[j] > mx) mx = l[j];
    if (mx == -INFINITY) return mx;
    double s = 0;
    for (int j = 0; j < k; j++)
        if (l[j] > -INFINITY) s += exp(l[j] - mx);
    return mx + log(s);
}

double occam_prior_log_pdf(const occam_prior *p, double x)
{
    prior_check(p);
    double l[OCCAM_PRIOR_MAX];
    for (int j = 0; j < p->k; j++) {
        double wj = weight_of(p, j), z = (x - p->mu[j]) / p->sigma[j];
        l[j] = wj > 0 ? log(wj) - log(p->sigma[j]) - LN_SQRT_2PI - 0.5 * z * z : -INFINITY;
    }
    return log_sum_exp(l, p->k);
}

/* ln S(z), S(z) = Q(z)·z/φ(z) = Σ_i (-1)^i (2i-1)!!/z^{2i}, for z >= TAIL_Z: 12 terms leave a
 * relative error below 1e-22 at z = 30. S(∞) = 1. */
static double log_series(double z)
{
    double u = 1.0 / (z * z), term = 1.0, s = 1.0;
    for (int i = 1; i <= 12; i++) {
        term *= -(2.0 * i - 1.0) * u;
        s += term;
    }
    return log(s);
}

/* ln Q(z) = ln P(Z > z), z >= 0. */
static double log_upper(double z)
{
    if (z < TAIL_Z) return log(0.5 * erfc(z * SQRT1_2));
    return -0.5 * z * z - log(z) - LN_SQRT_2PI + log_series(z);
}

/* 5-point Gauss–Legendre on [-1, 1]: nodes ±sqrt(5 ∓ 2 sqrt(10/7))/3 and 0. */
static const double GL_X[2] = {0.53846931010568309103631442070021,
                               0.90617984593866399279762687829939};
static const double GL_W[3] = {0.56888888888888888888888888888889,
                               0.47862867049936646804129151483564,
                               0.23692688505618908751426404071992};

/* ln of the standard normal mass of [a, b] (a < b), see the file comment. */
static double std_log_mass(double lo, double hi, double mu, double sigma)
{
    double a = (lo - mu) / sigma, b = (hi - mu) / sigma;
    double width = (hi - lo) / sigma;
    double m = (0.5 * lo + 0.5 * hi - mu) / sigma;
    if (isfinite(width) && width * (fabs(m) + 1.0) <= 0.5) {
        /* ∫_{-h}^{h} e^{-mt - t²/2} dt with t = h·x; pairs ±x give 2 e^{-t²/2} cosh(mt). */
        double h = 0.5 * width, s = GL_W[0];
        for (int i = 0; i < 2; i++) {
            double t = h * GL_X[i];
            s += 2.0 * GL_W[i + 1] * exp(-0.5 * t * t) * cosh(m * t);
        }
        /* ln h from the unscaled width: (hi - lo)/σ may underflow where its log does not. */
        double log_h = log(hi - lo) - log(sigma) - LN2;
        return -0.5 * m * m - LN_SQRT_2PI + log_h + log(s);
    }
    if (b <= 0) { /* reflect into the upper half: mass of [-b, -a] */
        double t = a;
        a = -b;
        b = -t;
    }
    if (a < 0) return log(0.5 * (erf(b * SQRT1_2) + erf(-a * SQRT1_2)));
    double la = log_upper(a), d; /* d = ln Q(b) - ln Q(a) < 0 */
    if (a >= TAIL_Z)
        d = -0.5 * width * (a + b) - log1p(width / a) + log_series(b) - log_series(a);
    else
        d = log_upper(b) - la;
    return la + log(-expm1(d));
}

double occam_prior_bin_bits(const occam_prior *p, double lo, double hi)
{
    prior_check(p);
    OCCAM_ASSERT(lo < hi); /* also rejects NaN */
    double l[OCCAM_PRIOR_MAX];
    for (int j = 0; j < p->k; j++) {
        double wj = weight_of(p, j);
        l[j] = wj > 0 ? log(wj) + std_log_mass(lo, hi, p->mu[j], p->sigma[j]) : -INFINITY;
    }
    double bits = -log_sum_exp(l, p->k) / LN2;
    if (!(bits < DBL_MAX)) return DBL_MAX; /* a mass below e^{-DBL_MAX}: |z| > ~1e154 */
    /* A mass of 1 + rounding must not become a negative code length (or -0). */
    return bits > 0 ? bits : 0.0;
}

/* ---- fitting ----------------------------------------------------------------------------- */

static int cmp_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

/* Sorts x ascending. Its values are floats (weights), so they sort as 32-bit keys
 * (occam/floatkey.h; −0 comes back as +0). Four 8-bit LSD radix passes: on LeNet's first
 * layer 10× faster than qsort. qsort if the scratch cannot be had. */
static void sort_floats(double *x, size_t n)
{
    uint32_t *key = occam_alloc(n, sizeof(uint32_t)), *tmp = occam_alloc(n, sizeof(uint32_t));
    if (!key || !tmp) {
        free(key);
        free(tmp);
        qsort(x, n, sizeof(double), cmp_double);
        return;
    }
    for (size_t i = 0; i < n; i++) key[i] = occam_float_key((float)x[i]);
    for (int shift = 0; shift < 32; shift += 8) {
        size_t count[257] = {0};
        for (size_t i = 0; i < n; i++) count[((key[i] >> shift) & 0xff) + 1]++;
        for (int b = 0; b < 256; b++) count[b + 1] += count[b];
        for (size_t i = 0; i < n; i++) tmp[count[(key[i] >> shift) & 0xff]++] = key[i];
        uint32_t *t = key;
        key = tmp;
        tmp = t;
    }
    for (size_t i = 0; i < n; i++) x[i] = occam_key_float(key[i]);
    free(key);
    free(tmp);
}

/* Linear-interpolated quantile q of sorted x[0..n). */
static double quantile(const double *x, size_t n, double q)
{
    double pos = q * (double)(n - 1);
    size_t i = (size_t)pos;
    if (i + 1 >= n) return x[n - 1];
    double f = pos - (double)i;
    return x[i] + f * (x[i + 1] - x[i]);
}

/* Runs of nearly equal weights, for EM: consecutive sorted values, at most GROUP_MAX of them,
 * spanning at most sd / GROUP_SPAN. Each run keeps its count, its mean and its scatter
 * Σ(x − mean)², so the M-step's moments about any μ are exact; only the responsibilities are
 * taken at the run's mean instead of at each member. Across a run a component's log-density
 * changes by at most span·|x − μ|/σ²: 0.09 for a component as narrow as sd/30 and a weight 3σ
 * from it. Taking it at the mean cancels the first-order error, so the run's total is off by
 * about 0.09²/24 ≈ 3e-4 there and by far less almost everywhere else; the test against plain
 * EM bounds the fitted parameters' error at 1e-5. A run of one is the weight itself, bit for
 * bit, so small or spread-out sets fit exactly as without runs. On LeNet's 235,200-weight
 * first layer EM makes 200 passes; over its ~7,400 runs they cost 30× less. */
#define GROUP_MAX 1024
#define GROUP_SPAN 1024.0

typedef struct em_groups {
    size_t n;
    double *count, *mean, *m2;
} em_groups;

static bool em_group(em_groups *g, const double *x, size_t n, double sd)
{
    g->count = occam_alloc(n, sizeof(double));
    g->mean = occam_alloc(n, sizeof(double));
    g->m2 = occam_alloc(n, sizeof(double));
    if (!g->count || !g->mean || !g->m2) {
        free(g->count);
        free(g->mean);
        free(g->m2);
        return false;
    }
    double span = sd / GROUP_SPAN;
    g->n = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && j - i < GROUP_MAX && x[j] - x[i] <= span) j++;
        double c = (double)(j - i), s = 0.0, m2 = 0.0;
        for (size_t t = i; t < j; t++) s += x[t];
        double mean = j - i == 1 ? x[i] : s / c;
        for (size_t t = i; t < j; t++) m2 += (x[t] - mean) * (x[t] - mean);
        g->count[g->n] = c;
        g->mean[g->n] = mean;
        g->m2[g->n] = m2;
        g->n++;
        i = j;
    }
    return true;
}

static void em_fit(occam_prior *p, int k, bool pin_zero, const double *x, size_t n,
                   const em_groups *g, double sd, double floor)
{
    /* Deterministic start: equal weights, means at quantiles, pinned spike narrow. */
    for (int j = 0; j < k; j++) {
        p->pi[j] = 1.0 / k;
        p->sigma[j] = fmax(sd / k, floor);
        if (pin_zero)
            p->mu[j] = j == 0 ? 0.0 : quantile(x, n, (j - 0.5) / (k - 1));
        else
            p->mu[j] = quantile(x, n, (j + 0.5) / k);
    }
    if (pin_zero) p->sigma[0] = fmax(0.1 * sd, floor);

    double prev = -INFINITY;
    for (int it = 0; it < EM_MAX_ITER; it++) {
        double c[OCCAM_PRIOR_MAX], inv[OCCAM_PRIOR_MAX];
        double nj[OCCAM_PRIOR_MAX] = {0}, s1[OCCAM_PRIOR_MAX] = {0}, s2[OCCAM_PRIOR_MAX] = {0};
        for (int j = 0; j < k; j++) {
            c[j] = p->pi[j] > 0 ? log(p->pi[j]) - log(p->sigma[j]) : -INFINITY;
            inv[j] = 1.0 / p->sigma[j];
        }
        double ll = 0;
        for (size_t i = 0; i < g->n; i++) {
            double l[OCCAM_PRIOR_MAX], mx = -INFINITY, xi = g->mean[i], ci = g->count[i];
            for (int j = 0; j < k; j++) {
                double z = (xi - p->mu[j]) * inv[j];
                l[j] = c[j] - 0.5 * z * z;
                if (l[j] > mx) mx = l[j];
            }
            double tot = 0;
            for (int j = 0; j < k; j++) {
                l[j] = c[j] > -INFINITY ? exp(l[j] - mx) : 0.0;
                tot += l[j];
            }
            ll += ci * (mx + log(tot));
            for (int j = 0; j < k; j++) {
                double r = l[j] / tot, d = xi - p->mu[j];
                nj[j] += ci * r;
                s1[j] += ci * r * d;
                s2[j] += ci * r * d * d + r * g->m2[i]; /* a run of one: r·d·d exactly */
            }
        }
        ll = ll / (double)n - LN_SQRT_2PI; /* mean log-likelihood before this M-step */
        for (int j = 0; j < k; j++) {
            if (!(nj[j] > 0)) { /* a dead component stays dead */
                p->pi[j] = 0.0;
                continue;
            }
            p->pi[j] = nj[j] / (double)n;
            double shift = pin_zero && j == 0 ? 0.0 : s1[j] / nj[j];
            p->mu[j] += shift;
            double var = s2[j] / nj[j] - shift * shift;
            p->sigma[j] = fmax(sqrt(var > 0 ? var : 0.0), floor);
        }
        if (ll - prev < EM_TOL) break;
        prev = ll;
    }
}

int occam_prior_fit(occam_prior *p, int k, bool pin_zero, const float *w, size_t n,
                    const uint8_t *mask, double sigma_floor, occam_error *err)
{
    if (k < 1 || k > OCCAM_PRIOR_MAX)
        return occam_error_set(err, OCCAM_ERR_INPUT, "prior: %d components, need 1..%d", k,
                               OCCAM_PRIOR_MAX);
    if (!(sigma_floor > 0) || !isfinite(sigma_floor))
        return occam_error_set(err, OCCAM_ERR_INPUT, "prior: sigma floor %g must be > 0",
                               sigma_floor);
    size_t na = 0;
    for (size_t i = 0; i < n; i++) {
        if (mask && !mask[i]) continue;
        if (!isfinite(w[i]))
            return occam_error_set(err, OCCAM_ERR_INPUT, "prior: weight %zu is %g", i,
                                   (double)w[i]);
        na++;
    }
    if (na == 0)
        return occam_error_set(err, OCCAM_ERR_INPUT, "prior: no active weights to fit");

    /* The moments straight from w, so that a Gaussian fit allocates nothing and cannot fail
     * for memory: the .occ writer fits the biases' Gaussian with it and has no other prior
     * that covers them (its old fallback, N(0, 1), gave a file whose reader refuses biases
     * beyond that Gaussian's reach; occfile.c's gauss_holds). */
    double mean = 0, ss = 0, sq = 0;
    for (size_t i = 0; i < n; i++)
        if (!mask || mask[i]) mean += w[i];
    mean /= (double)na;
    for (size_t i = 0; i < n; i++)
        if (!mask || mask[i]) {
            double x = w[i];
            ss += (x - mean) * (x - mean);
            sq += x * x;
        }
    double sd = sqrt(ss / (double)na);

    occam_prior q = {.k = k, .pinned0 = pin_zero};
    if (k == 1) {
        q.pi[0] = 1.0;
        q.mu[0] = pin_zero ? 0.0 : mean;
        q.sigma[0] = fmax(pin_zero ? sqrt(sq / (double)na) : sd, sigma_floor);
    } else {
        double *x = occam_alloc(na, sizeof(double));
        if (!x)
            return occam_error_set(err, OCCAM_ERR_RUNTIME, "prior: out of memory for %zu "
                                   "weights", na);
        size_t a = 0;
        for (size_t i = 0; i < n; i++)
            if (!mask || mask[i]) x[a++] = w[i];
        sort_floats(x, na);
        em_groups g;
        if (!em_group(&g, x, na, sd)) {
            free(x);
            return occam_error_set(err, OCCAM_ERR_RUNTIME, "prior: out of memory for %zu weights",
                                   na);
        }
        em_fit(&q, k, pin_zero, x, na, &g, sd, sigma_floor);
        free(g.count);
        free(g.mean);
        free(g.m2);
        free(x);
    }
    *p = q;
    return OCCAM_OK;
}
