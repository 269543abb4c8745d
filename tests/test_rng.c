/* The random numbers every other module's reproducibility rests on: streams are deterministic
 * and distinct, the uniform, integer and normal draws have the right distributions (moments and
 * chi-square against the exact probabilities), the Box–Muller pair's first value is
 * occam_rng_normal's, and a shuffle is a permutation. Tolerances are about 5 standard errors. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "occam/rng.h"

Test(rng, streams_are_deterministic_and_distinct)
{
    occam_rng a = occam_rng_seed(42, 3), b = occam_rng_seed(42, 3);
    occam_rng c = occam_rng_seed(42, 4), d = occam_rng_seed(43, 3);
    int same_c = 0, same_d = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = occam_rng_next(&a);
        cr_assert_eq(x, occam_rng_next(&b), "draw %d differs for the same seed and stream", i);
        same_c += x == occam_rng_next(&c);
        same_d += x == occam_rng_next(&d);
    }
    cr_assert(same_c == 0 && same_d == 0, "%d, %d equal draws across streams", same_c, same_d);
}

Test(rng, uniform_moments_and_range)
{
    occam_rng r = occam_rng_seed(1, 0);
    size_t n = 1000000;
    double s = 0, ss = 0, lo = 1, hi = 0;
    for (size_t i = 0; i < n; i++) {
        double u = occam_rng_uniform(&r);
        cr_assert(u >= 0 && u < 1, "%.17g outside [0, 1)", u);
        s += u;
        ss += u * u;
        lo = fmin(lo, u);
        hi = fmax(hi, u);
    }
    double mean = s / (double)n, var = ss / (double)n - mean * mean;
    cr_assert(fabs(mean - 0.5) < 5 * sqrt(1.0 / 12 / (double)n), "mean %g", mean);
    cr_assert(fabs(var - 1.0 / 12) < 5 * sqrt(1.0 / 180 / (double)n), "variance %g", var);
    cr_assert(lo < 1e-5 && hi > 1 - 1e-5);
}

/* Chi-square of `counts` (k cells, n draws) against equal probabilities; the statistic has mean
 * k − 1 and standard deviation sqrt(2(k − 1)). */
static double chi_square_equal(const size_t *counts, int k, size_t n)
{
    double e = (double)n / k, x = 0;
    for (int j = 0; j < k; j++) x += (counts[j] - e) * (counts[j] - e) / e;
    return x;
}

Test(rng, below_is_unbiased)
{
    /* 3 and 7 do not divide 2^64, 2^63 + 1 is the worst case for the multiply-shift bias (half
     * of the raw draws would be rejected); its top and bottom halves must be equally likely. */
    occam_rng r = occam_rng_seed(2, 0);
    int ks[2] = {3, 7};
    for (int t = 0; t < 2; t++) {
        size_t counts[7] = {0}, n = 700000;
        for (size_t i = 0; i < n; i++) {
            uint64_t v = occam_rng_below(&r, (uint64_t)ks[t]);
            cr_assert(v < (uint64_t)ks[t]);
            counts[v]++;
        }
        double x = chi_square_equal(counts, ks[t], n);
        cr_assert(x < ks[t] - 1 + 5 * sqrt(2.0 * (ks[t] - 1)), "k=%d chi-square %g", ks[t], x);
    }
    uint64_t big = (1ull << 63) + 1;
    size_t half[2] = {0}, n = 200000;
    for (size_t i = 0; i < n; i++) {
        uint64_t v = occam_rng_below(&r, big);
        cr_assert(v < big);
        half[v >= big / 2]++;
    }
    cr_assert(chi_square_equal(half, 2, n) < 1 + 5 * sqrt(2.0), "%zu vs %zu", half[0], half[1]);
    cr_assert_eq(occam_rng_below(&r, 1), 0);
}

/* P(Z < z) for the standard normal. */
static double phi_cdf(double z) { return 0.5 * erfc(-z / sqrt(2.0)); }

/* Moments and a 20-cell chi-square against the exact normal cell probabilities. */
static void check_normal(const double *x, size_t n, const char *what)
{
    double s = 0, s2 = 0, s3 = 0, s4 = 0;
    for (size_t i = 0; i < n; i++) {
        s += x[i];
        s2 += x[i] * x[i];
        s3 += x[i] * x[i] * x[i];
        s4 += x[i] * x[i] * x[i] * x[i];
    }
    double N = (double)n, mean = s / N, var = s2 / N, skew = s3 / N, kurt = s4 / N;
    cr_assert(fabs(mean) < 5 / sqrt(N), "%s: mean %g", what, mean);
    cr_assert(fabs(var - 1) < 5 * sqrt(2 / N), "%s: variance %g", what, var);
    cr_assert(fabs(skew) < 5 * sqrt(15 / N), "%s: third moment %g", what, skew);
    cr_assert(fabs(kurt - 3) < 5 * sqrt(96 / N), "%s: fourth moment %g", what, kurt);
    /* cells: (−inf, −2.25], 18 of width 0.25, (2.25, inf) */
    size_t counts[20] = {0};
    for (size_t i = 0; i < n; i++) {
        int c = (int)floor((x[i] + 2.25) / 0.25) + 1;
        counts[c < 0 ? 0 : c > 19 ? 19 : c]++;
    }
    double chi = 0;
    for (int c = 0; c < 20; c++) {
        double a = c == 0 ? -INFINITY : -2.25 + 0.25 * (c - 1);
        double b = c == 19 ? INFINITY : -2.25 + 0.25 * c;
        double e = N * (phi_cdf(b) - phi_cdf(a));
        chi += (counts[c] - e) * (counts[c] - e) / e;
    }
    cr_assert(chi < 19 + 5 * sqrt(38.0), "%s: chi-square %g over 20 cells", what, chi);
}

Test(rng, normal_and_pair_distribution)
{
    size_t n = 500000;
    double *a = malloc(n * sizeof(double)), *b = malloc(n * sizeof(double));
    occam_rng r = occam_rng_seed(5, 1), q = occam_rng_seed(5, 1);
    double cross = 0;
    for (size_t i = 0; i < n; i++) {
        double single = occam_rng_normal(&q);
        occam_rng_normal_pair(&r, &a[i], &b[i]);
        cr_assert(memcmp(&single, &a[i], sizeof single) == 0,
                  "draw %zu: the pair's first %.17g, occam_rng_normal %.17g", i, a[i], single);
        cross += a[i] * b[i];
    }
    cr_assert(memcmp(&r, &q, sizeof r) == 0, "a pair must use the state one normal uses");
    check_normal(a, n, "occam_rng_normal");
    check_normal(b, n, "the pair's second");
    cr_assert(fabs(cross / (double)n) < 5 / sqrt((double)n), "the pair correlates: %g",
              cross / (double)n);
    free(a);
    free(b);
}

Test(rng, shuffle_is_a_permutation_and_uniform)
{
    occam_rng r = occam_rng_seed(9, 0);
    uint32_t p[1000];
    for (uint32_t i = 0; i < 1000; i++) p[i] = i;
    occam_rng_shuffle_u32(&r, p, 1000);
    int seen[1000] = {0}, fixed = 0;
    for (int i = 0; i < 1000; i++) {
        cr_assert(p[i] < 1000 && !seen[p[i]]++, "not a permutation at %d", i);
        fixed += p[i] == (uint32_t)i;
    }
    cr_assert(fixed < 10, "%d fixed points (about 1 expected)", fixed);
    /* all 6 orders of 3 items, equally often */
    size_t counts[6] = {0}, n = 600000;
    for (size_t t = 0; t < n; t++) {
        uint32_t v[3] = {0, 1, 2};
        occam_rng_shuffle_u32(&r, v, 3);
        counts[v[0] * 2 + (v[1] > v[2])]++;
    }
    double x = chi_square_equal(counts, 6, n);
    cr_assert(x < 5 + 5 * sqrt(10.0), "chi-square %g over the 6 orders", x);
}
