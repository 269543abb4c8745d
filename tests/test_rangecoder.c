/* Range coder tests. Every stream is round-tripped and its size is compared with the ideal,
 * the sum of -log2(freq/total) for symbol streams and log2 C(n,k) (via lgamma) for masks.
 *   - For long streams the size must stay within 1% + 64 bits of the ideal.
 *   - A mask's frequencies are exact, so it may come out below log2 C(n,k) only by the tiny
 *     leftover gain: at most 0.01%.
 * A valid stream must be consumed to exactly len + 7 bytes. Truncation and garbage must never
 * read out of bounds (run this under ASan), and they must be flagged where the byte count makes
 * that certain. Tables are checked against hand-worked largest-remainder splits. The test
 * carries its own splitmix64 generator so that it links against the coder alone. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kept.h"

#include "occam/error.h"
#include "../src/mdl/rangecoder.h"

typedef struct prng {
    uint64_t s;
} prng;

static uint64_t prng_next(prng *g)
{
    uint64_t z = (g->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n), n > 0; the modulo bias is irrelevant for test data. */
static uint64_t prng_below(prng *g, uint64_t n) { return prng_next(g) % n; }

static double prng_uniform(prng *g) { return (double)(prng_next(g) >> 11) * 0x1p-53; }

static double log2_binom(size_t n, size_t k)
{
    return (lgamma((double)n + 1) - lgamma((double)k + 1) - lgamma((double)(n - k) + 1)) /
           log(2.0);
}

/* The encoded size must be within 1% + 64 bits of the ideal. It can come out slightly below
 * the ideal: the last symbol of every total absorbs the floor leftover, so a freq-1 last bin
 * at a large total is coded with up to 8 bits less than -log2(1/total). */
static void check_size(const char *what, size_t len, double ideal)
{
    double bits = 8.0 * (double)len;
    fprintf(stderr, "rangecoder %-34s ideal %12.1f bits, actual %10.0f, over %+8.1f (%.4f%%)\n",
            what, ideal, bits, bits - ideal, ideal > 0 ? 100 * (bits - ideal) / ideal : 0.0);
    cr_expect(bits >= ideal * 0.99 - 64, "%s: %.0f bits vs ideal %.3f", what, bits, ideal);
    cr_expect(bits <= ideal * 1.01 + 64, "%s: %.0f bits vs ideal %.3f", what, bits, ideal);
}

/* A fully decoded valid stream is consumed to exactly len + 7 and is neither overrun nor
 * corrupt. */
static void check_clean_end(const occam_rc_dec *d, size_t len)
{
    cr_expect_eq(d->pos, len + 7, "consumed %zu of %zu", d->pos, len);
    cr_expect(!occam_rc_dec_overrun(d));
    cr_expect(!occam_rc_dec_corrupt(d));
}

/* ---- raw intervals and bits -------------------------------------------------------------- */

Test(rangecoder, empty_stream)
{
    occam_rc_enc e;
    occam_rc_enc_init(&e);
    cr_assert_eq(occam_rc_enc_finish(&e), OCCAM_OK);
    cr_assert_eq(e.len, 1);
    cr_expect_eq(e.buf[0], 0);
    occam_rc_dec d;
    occam_rc_dec_init(&d, e.buf, e.len);
    check_clean_end(&d, e.len);
    occam_rc_enc_free(&e);
    occam_rc_enc_free(NULL);
}

typedef struct interval {
    uint32_t lo, freq, total;
} interval;

/* Random intervals under totals from 1 to 2^32 - 1, including the extremes, so that the
 * last-symbol leftover, freq = total and freq = 1 at the largest total are all exercised. */
Test(rangecoder, raw_intervals_mixed_totals)
{
    const size_t n = 200000;
    static const uint32_t fixed[] = {1, 2, 3, 255, 256, 65536, 1u << 24, (1u << 24) + 1,
                                     OCCAM_RC_TOTAL_MAX};
    interval *iv = malloc(sizeof *iv * n);
    prng g = {1};
    double ideal = 0;
    occam_rc_enc e;
    occam_rc_enc_init(&e);
    for (size_t i = 0; i < n; i++) {
        uint32_t total = prng_below(&g, 4) ? fixed[prng_below(&g, 9)]
                                           : 1 + (uint32_t)prng_below(&g, OCCAM_RC_TOTAL_MAX);
        uint32_t lo = (uint32_t)prng_below(&g, total), freq;
        switch (prng_below(&g, 4)) {
        case 0: freq = 1; break;
        case 1: freq = total - lo; break; /* the last symbol: takes the leftover */
        default: freq = 1 + (uint32_t)prng_below(&g, total - lo); break;
        }
        iv[i] = (interval){lo, freq, total};
        ideal += log2((double)total / freq);
        cr_assert_eq(occam_rc_encode(&e, lo, freq, total), OCCAM_OK);
    }
    cr_assert_eq(occam_rc_enc_finish(&e), OCCAM_OK);
    check_size("raw intervals", e.len, ideal);

    occam_rc_dec d;
    occam_rc_dec_init(&d, e.buf, e.len);
    for (size_t i = 0; i < n; i++) {
        uint32_t t = occam_rc_decode_freq(&d, iv[i].total);
        cr_assert(t >= iv[i].lo && t - iv[i].lo < iv[i].freq, "symbol %zu: target %u in [%u,+%u)",
                  i, t, iv[i].lo, iv[i].freq);
        occam_rc_decode_update(&d, iv[i].lo, iv[i].freq, iv[i].total);
    }
    check_clean_end(&d, e.len);
    occam_rc_enc_free(&e);
    free(iv);
}

/* White-box: the interval straddles the carry point (the window's 2^64) iff low + range > 2^64. */
static bool straddles(const occam_rc_enc *e) { return e->low != 0 && 0 - e->low < e->range; }

/* Long carry. The test reads the encoder's private low/range fields. It first zooms on 1/2
 * with middle thirds, so the interval straddles 0x80 00 ... and the stream begins 0x7F.
 * Each following step then picks, out of 2^16, a 2-bin interval that still straddles that
 * point. Every byte shifted out is then 0xFF, because low sits just below the carry point.
 * Finally the top bin is coded until low crosses the point. The whole 0xFF run must turn into
 * 0x00, the 0x7F must turn into 0x80, and the stream must still decode. */
Test(rangecoder, carry_through_long_ff_run)
{
    enum { T = 1 << 16, STEPS = 3000 };
    occam_rc_enc e;
    occam_rc_enc_init(&e);
    interval iv[40 + STEPS + 10 + 1000];
    size_t n = 0;
    while (!(e.len >= 1 && straddles(&e))) {
        cr_assert_lt(n, 40, "zoom on 1/2 did not straddle");
        iv[n++] = (interval){1, 1, 3};
        cr_assert_eq(occam_rc_encode(&e, 1, 1, 3), OCCAM_OK);
    }
    cr_assert_eq(e.buf[0], 0x7F);
    for (int s = 0; s < STEPS; s++) {
        uint64_t b = 0 - e.low, r = e.range / T, c = (b - 1) / r;
        if (c > T - 2) c = T - 2;
        iv[n++] = (interval){(uint32_t)c, 2, T};
        cr_assert_eq(occam_rc_encode(&e, (uint32_t)c, 2, T), OCCAM_OK);
        cr_assert(straddles(&e), "step %d lost the straddle", s);
    }
    size_t run = e.len;
    cr_assert_gt(run, STEPS, "expected about 2 bytes per step, got %zu", run);
    for (size_t i = 1; i < run; i++) cr_assert_eq(e.buf[i], 0xFF, "byte %zu", i);
    for (int s = 0; e.buf[0] == 0x7F; s++) {
        cr_assert_lt(s, 10, "the top bin never carried");
        iv[n++] = (interval){T - 1, 1, T};
        cr_assert_eq(occam_rc_encode(&e, T - 1, 1, T), OCCAM_OK);
    }
    cr_assert_eq(e.buf[0], 0x80);
    for (size_t i = 1; i < run; i++) cr_assert_eq(e.buf[i], 0x00, "byte %zu after carry", i);
    prng g = {2};
    for (int s = 0; s < 1000; s++) {
        uint32_t lo = (uint32_t)prng_below(&g, 1000);
        iv[n++] = (interval){lo, 1, 1000};
        cr_assert_eq(occam_rc_encode(&e, lo, 1, 1000), OCCAM_OK);
    }
    cr_assert_eq(occam_rc_enc_finish(&e), OCCAM_OK);
    occam_rc_dec d;
    occam_rc_dec_init(&d, e.buf, e.len);
    for (size_t i = 0; i < n; i++) {
        uint32_t t = occam_rc_decode_freq(&d, iv[i].total);
        cr_assert(t >= iv[i].lo && t - iv[i].lo < iv[i].freq, "symbol %zu", i);
        occam_rc_decode_update(&d, iv[i].lo, iv[i].freq, iv[i].total);
    }
    check_clean_end(&d, e.len);
    occam_rc_enc_free(&e);
}

Test(rangecoder, bits_random_probabilities)
{
    const size_t n = 200000;
    uint32_t *p1 = malloc(sizeof *p1 * n), *tot = malloc(sizeof *tot * n);
    uint8_t *b = malloc(n);
    prng g = {3};
    double ideal = 0;
    occam_rc_enc e;
    occam_rc_enc_init(&e);
    for (size_t i = 0; i < n; i++) {
        tot[i] = 2 + (uint32_t)prng_below(&g, prng_below(&g, 2) ? 1000 : OCCAM_RC_TOTAL_MAX - 2);
        p1[i] = 1 + (uint32_t)prng_below(&g, tot[i] - 1);
        b[i] = prng_uniform(&g) < (double)p1[i] / tot[i]; /* drawn from the coded distribution */
        ideal += -log2((double)(b[i] ? p1[i] : tot[i] - p1[i]) / tot[i]);
        cr_assert_eq(occam_rc_encode_bit(&e, b[i], p1[i], tot[i]), OCCAM_OK);
    }
    cr_assert_eq(occam_rc_enc_finish(&e), OCCAM_OK);
    check_size("bits, random p", e.len, ideal);
    occam_rc_dec d;
    occam_rc_dec_init(&d, e.buf, e.len);
    for (size_t i = 0; i < n; i++) cr_assert_eq(occam_rc_decode_bit(&d, p1[i], tot[i]), b[i]);
    check_clean_end(&d, e.len);
    occam_rc_enc_free(&e);
    free(p1);
    free(tot);
    free(b);
}

/* ---- tables ------------------------------------------------------------------------------ */

static uint32_t table_freq(const occam_rc_table *t, int32_t v)
{
    return t->cum[v - t->lo + 1] - t->cum[v - t->lo];
}

/* The ideal code length of v under the table, -log2(freq / total); INFINITY outside [lo, hi]. */
static double table_bits(const occam_rc_table *t, int32_t v)
{
    if (v < t->lo || v > t->hi) return INFINITY;
    return -log2((double)table_freq(t, v) / (double)t->total);
}

/* Hand-worked splits: each symbol gets 1, then rest = total - nsym is shared by the largest
 * remainder. */
Test(rangecoder, table_largest_remainder)
{
    occam_rc_table t;
    /* rest 10: shares 5, 3, 2 exactly -> 6, 4, 3 */
    cr_assert_eq(occam_rc_table_from_probs(&t, 0, 2, (double[]){0.5, 0.3, 0.2}, 13), OCCAM_OK);
    cr_expect_eq(t.cum[0], 0);
    cr_expect_eq(table_freq(&t, 0), 6);
    cr_expect_eq(table_freq(&t, 1), 4);
    cr_expect_eq(table_freq(&t, 2), 3);
    cr_expect_eq(t.cum[3], 13);
    occam_rc_table_free(&t);
    /* rest 7: shares 0.7, 4.2, 2.1 -> floors 0, 4, 2, one left goes to remainder 0.7 */
    cr_assert_eq(occam_rc_table_from_probs(&t, -1, 1, (double[]){0.1, 0.6, 0.3}, 10), OCCAM_OK);
    cr_expect_eq(table_freq(&t, -1), 2);
    cr_expect_eq(table_freq(&t, 0), 5);
    cr_expect_eq(table_freq(&t, 1), 3);
    occam_rc_table_free(&t);
    /* equal remainders: the lower symbols win the two left over */
    const double third = 1.0 / 3;
    cr_assert_eq(occam_rc_table_from_probs(&t, 5, 7, (double[]){third, third, third}, 5),
                 OCCAM_OK);
    cr_expect_eq(table_freq(&t, 5), 2);
    cr_expect_eq(table_freq(&t, 6), 2);
    cr_expect_eq(table_freq(&t, 7), 1);
    occam_rc_table_free(&t);
    /* sum < 1 is normalised: {0.2, 0.2} behaves like {0.5, 0.5} */
    cr_assert_eq(occam_rc_table_from_probs(&t, 0, 1, (double[]){0.2, 0.2}, 100), OCCAM_OK);
    cr_expect_eq(table_freq(&t, 0), 50);
    cr_expect_eq(table_freq(&t, 1), 50);
    occam_rc_table_free(&t);
    /* all zero: uniform, ties to the lower symbols */
    cr_assert_eq(occam_rc_table_from_probs(&t, 0, 2, (double[]){0, 0, 0}, 8), OCCAM_OK);
    cr_expect_eq(table_freq(&t, 0), 3);
    cr_expect_eq(table_freq(&t, 1), 3);
    cr_expect_eq(table_freq(&t, 2), 2);
    cr_expect_float_eq(table_bits(&t, 2), 2.0, 1e-12);
    cr_expect_float_eq(table_bits(&t, 0), log2(8.0 / 3), 1e-12);
    cr_expect(isinf(table_bits(&t, 3)));
    cr_expect(isinf(table_bits(&t, -1)));
    occam_rc_table_free(&t);
    /* nsym == total: every frequency is exactly 1 */
    cr_assert_eq(occam_rc_table_from_probs(&t, 0, 3, (double[]){0.97, 0.01, 0.01, 0.01}, 4),
                 OCCAM_OK);
    for (int v = 0; v <= 3; v++) cr_expect_eq(table_freq(&t, v), 1);
    occam_rc_table_free(&t);
    occam_rc_table_free(NULL);
}

/* The sort-based largest-remainder split the coder used, as a reference for its linear-time
 * selection: the left-over counts go to the largest remainders, lower symbol first on ties. */
typedef struct ref_share {
    double rem;
    size_t idx;
} ref_share;

static int ref_cmp(const void *a, const void *b)
{
    const ref_share *x = a, *y = b;
    if (x->rem != y->rem) return x->rem > y->rem ? -1 : 1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

static void ref_freqs(const double *p, size_t n, uint32_t total, uint32_t *freq)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += p[i];
    ref_share *sh = malloc(n * sizeof *sh);
    cr_assert(sh);
    uint64_t rest = total - n, given = 0;
    for (size_t i = 0; i < n; i++) {
        double x = sum > 0 ? (double)rest * (p[i] / sum) : (double)rest / (double)n;
        freq[i] = 1 + (uint32_t)floor(x);
        given += (uint64_t)floor(x);
        sh[i] = (ref_share){x - floor(x), i};
    }
    qsort(sh, n, sizeof *sh, ref_cmp);
    for (uint64_t j = 0; given < rest; j = (j + 1) % n, given++) freq[sh[j].idx]++;
    free(sh);
}

/* Random tables, with repeated probabilities (tied remainders: the lower symbol first), zeros,
 * remainders that share their upper bits, and sizes up to 2^17 symbols, agree with the
 * reference count for count: files written with the sort-based split decode the same. */
Test(rangecoder, table_split_matches_a_sort_based_reference)
{
    prng g = {12345};
    TEST_KEPT(double, p, 1 << 17);
    TEST_KEPT(uint32_t, want, 1 << 17);
    for (int trial = 0; trial < 60; trial++) {
        size_t n = 1 + prng_next(&g) % (trial < 50 ? 3000 : (1u << 17));
        uint32_t total = (uint32_t)(n + prng_next(&g) % (trial % 3 ? 1000 : (1u << 24)));
        int kind = trial % 4;
        for (size_t i = 0; i < n; i++) {
            uint64_t r = prng_next(&g);
            if (kind == 0) p[i] = (double)(r >> 11) / 9007199254740992.0;
            else if (kind == 1) p[i] = (double)(r % 4); /* few distinct values: many ties */
            else if (kind == 2) p[i] = r % 3 ? 0.0 : 1.0 + 1e-12 * (double)(r % 7);
            else p[i] = exp(-0.001 * (double)((int64_t)i - (int64_t)n / 2) *
                            (double)((int64_t)i - (int64_t)n / 2)); /* a Gaussian's bins */
        }
        double sum = 0;
        for (size_t i = 0; i < n; i++) sum += p[i];
        for (size_t i = 0; sum > 0 && i < n; i++) p[i] /= sum;
        ref_freqs(p, n, total, want);
        occam_rc_table t;
        cr_assert_eq(occam_rc_table_from_probs(&t, -7, (int32_t)n - 8, p, total), OCCAM_OK);
        for (size_t i = 0; i < n; i++)
            cr_assert_eq(t.cum[i + 1] - t.cum[i], want[i], "trial %d (n %zu, total %u): symbol "
                         "%zu has %u, the reference %u", trial, n, total, i,
                         t.cum[i + 1] - t.cum[i], want[i]);
        occam_rc_table_free(&t);
    }
}

Test(rangecoder, table_bad_arguments)
{
    occam_rc_table t;
    double p[4] = {0.25, 0.25, 0.25, 0.25};
    cr_expect_eq(occam_rc_table_from_probs(&t, 1, 0, p, 100), OCCAM_ERR_INPUT);
    cr_expect_null(t.cum);
    cr_expect_eq(occam_rc_table_from_probs(&t, 0, 3, p, 3), OCCAM_ERR_INPUT); /* nsym > total */
    cr_expect_eq(occam_rc_table_from_probs(&t, 0, 3, (double[]){0.5, 0.5, 0.5, 0}, 100),
                 OCCAM_ERR_INPUT);
    cr_expect_eq(occam_rc_table_from_probs(&t, 0, 3, (double[]){0.5, -0.1, 0.5, 0}, 100),
                 OCCAM_ERR_INPUT);
    cr_expect_eq(occam_rc_table_from_probs(&t, 0, 3, (double[]){0.5, NAN, 0, 0}, 100),
                 OCCAM_ERR_INPUT);
    cr_expect_eq(occam_rc_table_from_probs(&t, 0, 3, (double[]){0.5, INFINITY, 0, 0}, 100),
                 OCCAM_ERR_INPUT);
    cr_expect_null(t.cum);
    occam_rc_table_free(&t);
    /* and a symbol outside the table is refused without touching the stream */
    cr_assert_eq(occam_rc_table_from_probs(&t, -1, 2, p, 1000), OCCAM_OK);
    occam_rc_enc e;
    occam_rc_enc_init(&e);
    cr_expect_eq(occam_rc_encode_sym(&e, &t, 3), OCCAM_ERR_INPUT);
    cr_expect_eq(occam_rc_encode_sym(&e, &t, -2), OCCAM_ERR_INPUT);
    cr_expect_eq(occam_rc_encode_sym(&e, &t, INT32_MIN), OCCAM_ERR_INPUT);
    cr_expect_eq(e.len, 0);
    cr_expect_eq(e.status, OCCAM_OK);
    occam_rc_enc_free(&e);
    occam_rc_table_free(&t);
}

/* A quantised-weight-like table on [-2000, 2000]. The core is Gaussian, one band of bins has
 * probabilities 1e-4 .. 1e-9, and the far tails are exactly 0. The stream is drawn from p,
 * with 1 symbol in 50 forced to be uniform over the range, so the freq-1 bins really get
 * coded. */
#define SK_LO (-2000)
#define SK_HI 2000
#define SK_N (SK_HI - SK_LO + 1)

static void skewed_probs(double *p)
{
    double s = 0;
    for (int v = SK_LO; v <= SK_HI; v++) {
        double x = v / 20.0;
        p[v - SK_LO] = fabs(x) < 8 ? exp(-0.5 * x * x) : 0;
        s += p[v - SK_LO];
    }
    for (int i = 0; i < SK_N; i++) p[i] *= 0.99 / s;
    for (int j = 0; j < 60; j++) p[300 + j] = pow(10.0, -4 - 5.0 * j / 59); /* 1e-4 .. 1e-9 */
}

static int32_t draw(prng *g, const double *cdf)
{
    double u = prng_uniform(g) * cdf[SK_N - 1];
    size_t a = 0, b = SK_N - 1;
    while (a < b) { /* first i with cdf[i] > u */
        size_t m = (a + b) / 2;
        if (cdf[m] > u) b = m;
        else a = m + 1;
    }
    return SK_LO + (int32_t)a;
}

static void skewed_round_trip(uint32_t total, const char *label)
{
    static double p[SK_N], cdf[SK_N];
    skewed_probs(p);
    double acc = 0;
    for (int i = 0; i < SK_N; i++) cdf[i] = acc += p[i];
    occam_rc_table t;
    cr_assert_eq(occam_rc_table_from_probs(&t, SK_LO, SK_HI, p, total), OCCAM_OK);
    uint64_t sum = 0;
    for (int v = SK_LO; v <= SK_HI; v++) {
        uint32_t f = table_freq(&t, v);
        cr_assert_geq(f, 1);
        sum += f;
        double share = (double)(total - SK_N) * p[v - SK_LO] / acc;
        cr_assert(fabs(f - 1 - share) < 1, "v %d: freq %u, share %.3f", v, f, share);
        if (p[v - SK_LO] == 0) cr_assert_eq(f, 1, "zero-probability bin %d", v);
    }
    cr_assert_eq(sum, total);
    if (total == 1u << 20) { /* 1e-9 * 2^20 ~ 0.001: the rarest bin is coded at frequency 1 */
        cr_expect_eq(table_freq(&t, SK_LO + 359), 1);
        cr_expect_float_eq(table_bits(&t, SK_LO + 359), 20.0, 1e-12);
    }

    const size_t n = 200000;
    int32_t *v = malloc(sizeof *v * n);
    prng g = {4};
    double ideal = 0;
    occam_rc_enc e;
    occam_rc_enc_init(&e);
    for (size_t i = 0; i < n; i++) {
        v[i] = i % 50 == 0 ? SK_LO + (int32_t)prng_below(&g, SK_N) : draw(&g, cdf);
        ideal += table_bits(&t, v[i]);
        cr_assert_eq(occam_rc_encode_sym(&e, &t, v[i]), OCCAM_OK);
    }
    cr_assert_eq(occam_rc_enc_finish(&e), OCCAM_OK);
    check_size(label, e.len, ideal);
    occam_rc_dec d;
    occam_rc_dec_init(&d, e.buf, e.len);
    for (size_t i = 0; i < n; i++) cr_assert_eq(occam_rc_decode_sym(&d, &t), v[i], "symbol %zu", i);
    check_clean_end(&d, e.len);
    occam_rc_enc_free(&e);
    occam_rc_table_free(&t);
    free(v);
}

Test(rangecoder, skewed_table_2p20) { skewed_round_trip(1u << 20, "skewed table, total 2^20"); }
Test(rangecoder, skewed_table_2p24) { skewed_round_trip(1u << 24, "skewed table, total 2^24"); }
Test(rangecoder, skewed_table_max) { skewed_round_trip(OCCAM_RC_TOTAL_MAX, "skewed table, total 2^32-1"); }

/* ---- masks ------------------------------------------------------------------------------- */

/* A random n-bit mask with exactly k ones (partial Fisher–Yates over positions). */
static uint8_t *random_mask(prng *g, size_t n, size_t k)
{
    uint8_t *m = calloc(n ? n : 1, 1);
    size_t *pos = malloc(sizeof *pos * (n ? n : 1));
    for (size_t i = 0; i < n; i++) pos[i] = i;
    for (size_t i = 0; i < k; i++) {
        size_t j = i + (size_t)prng_below(g, n - i);
        size_t tmp = pos[i];
        pos[i] = pos[j];
        pos[j] = tmp;
        m[pos[i]] = 1;
    }
    free(pos);
    return m;
}

/* Round trip of one mask with max_total; returns the encoded size in bytes. */
static size_t mask_round_trip(const uint8_t *m, size_t n, size_t k, uint32_t max_total)
{
    occam_rc_enc e;
    occam_rc_enc_init(&e);
    cr_assert_eq(occam_rc_encode_mask_ex(&e, m, n, k, max_total), OCCAM_OK);
    cr_assert_eq(occam_rc_enc_finish(&e), OCCAM_OK);
    uint8_t *out = malloc(n ? n : 1);
    memset(out, 0xAA, n);
    occam_rc_dec d;
    occam_rc_dec_init(&d, e.buf, e.len);
    cr_assert_eq(occam_rc_decode_mask_ex(&d, out, n, k, max_total), OCCAM_OK);
    cr_assert(n == 0 || memcmp(out, m, n) == 0, "mask n=%zu k=%zu differs", n, k);
    check_clean_end(&d, e.len);
    size_t len = e.len;
    occam_rc_enc_free(&e);
    free(out);
    return len;
}

Test(rangecoder, mask_edge_counts)
{
    static const size_t ns[] = {0, 1, 2, 3, 64, 1000, 100003, 1000000};
    prng g = {5};
    for (size_t a = 0; a < sizeof ns / sizeof *ns; a++) {
        size_t n = ns[a];
        size_t ks[] = {0, 1, n ? n - 1 : 0, n, n / 2};
        for (size_t b = 0; b < 5; b++) {
            size_t k = ks[b] > n ? n : ks[b];
            uint8_t *m = random_mask(&g, n, k);
            size_t len = mask_round_trip(m, n, k, OCCAM_RC_TOTAL_MAX);
            double ideal = log2_binom(n, k);
            if (k == 0 || k == n) cr_expect_eq(len, 1, "k=%zu of n=%zu needs only the flush", k, n);
            char label[64];
            snprintf(label, sizeof label, "mask n=%zu k=%zu", n, k);
            if (n >= 100000) check_size(label, len, ideal);
            else cr_expect(8.0 * len >= ideal - 1e-6 && 8.0 * len <= ideal + 16, "%s: %zu bytes",
                           label, len);
            free(m);
        }
    }
}

Test(rangecoder, mask_random_sizes)
{
    prng g = {6};
    for (int rep = 0; rep < 12; rep++) {
        size_t n = 1 + (size_t)prng_below(&g, 1000000);
        size_t k = rep % 3 == 0 ? (size_t)prng_below(&g, n / 100 + 1) : (size_t)prng_below(&g, n + 1);
        uint8_t *m = random_mask(&g, n, k);
        size_t len = mask_round_trip(m, n, k, OCCAM_RC_TOTAL_MAX);
        double ideal = log2_binom(n, k);
        cr_expect(8.0 * len >= ideal * (1 - 1e-4) - 1 && 8.0 * len <= ideal * 1.01 + 64,
                  "n=%zu k=%zu: %zu bytes vs ideal %.1f bits", n, k, len, ideal);
        if (rep < 3) {
            char label[64];
            snprintf(label, sizeof label, "mask random n=%zu k=%zu", n, k);
            check_size(label, len, ideal);
        }
        free(m);
    }
}

/* Every mask of up to 12 bits: enumerative codes must be exact on tiny inputs as well. */
Test(rangecoder, mask_exhaustive_small)
{
    uint8_t m[12];
    for (size_t n = 0; n <= sizeof m; n++)
        for (uint32_t bits = 0; bits < 1u << n; bits++) {
            size_t k = 0;
            /* i < sizeof m is implied by n <= sizeof m; saying it keeps gcc's
             * -Wstringop-overflow (under -fsanitize) from seeing a write past m. */
            for (size_t i = 0; i < n && i < sizeof m; i++) k += m[i] = (bits >> i) & 1;
            mask_round_trip(m, n, k, OCCAM_RC_TOTAL_MAX);
            mask_round_trip(m, n, k, 4); /* coarse quantisation once n_left > 4 */
        }
}

/* Naive reference for the quantised mask model: the ideal bits when P(1) = k_left / n_left is
 * rounded to the nearest q / max_total (clamped to [1, max_total - 1]) once n_left > max_total. */
static double mask_model_bits(const uint8_t *m, size_t n, size_t k, uint32_t max_total)
{
    double bits = 0;
    size_t k_left = k;
    for (size_t i = 0; k_left != 0 && k_left != n - i; i++) {
        double n_left = (double)(n - i), p1 = (double)k_left, total = n_left;
        if (n - i > max_total) {
            total = max_total;
            p1 = fmin(fmax(floor((double)k_left / n_left * total + 0.5), 1), total - 1);
        }
        bits += -log2((m[i] ? p1 : total - p1) / total);
        k_left -= m[i] != 0;
    }
    return bits;
}

/* Coarser quantisation of P(1) (n = 10^6 > max_total) still round-trips. The coder must
 * meet the quantised model's own ideal, and the model's cost over log2 C(n,k) is printed.
 * With 2^16 the model stays within 1% + 64 bits of log2 C(n,k). With 2^12 and k = 10, P is
 * clamped to 1/4096 against a true 1e-5, which costs about 240 bits, so only the round trip
 * and the model ideal are checked there. */
Test(rangecoder, mask_quantised_totals)
{
    prng g = {7};
    const size_t n = 1000000;
    static const size_t ks[] = {10, 1000, 100000, 500000};
    static const uint32_t qs[] = {1u << 12, 1u << 16};
    for (size_t a = 0; a < 4; a++) {
        uint8_t *m = random_mask(&g, n, ks[a]);
        double ideal = log2_binom(n, ks[a]);
        for (size_t b = 0; b < 2; b++) {
            size_t len = mask_round_trip(m, n, ks[a], qs[b]);
            double model = mask_model_bits(m, n, ks[a], qs[b]);
            char label[64];
            snprintf(label, sizeof label, "mask k=%zu, P quantised to 2^%d", ks[a],
                     b ? 16 : 12);
            fprintf(stderr, "rangecoder %-34s log2 C(n,k) %.1f, model %+.1f bits over it\n",
                    label, ideal, model - ideal);
            check_size(label, len, model);
            if (qs[b] == 1u << 16)
                cr_expect(8.0 * len <= ideal * 1.01 + 64, "%s: %zu bytes vs log2 C %.1f", label,
                          len, ideal);
        }
        free(m);
    }
}

Test(rangecoder, mask_bad_arguments)
{
    uint8_t m[8] = {0, 1, 0, 2, 0, 0, 0, 1}; /* 3 non-zero bytes */
    occam_rc_enc e;
    occam_rc_enc_init(&e);
    cr_expect_eq(occam_rc_encode_mask(&e, m, 8, 2), OCCAM_ERR_INPUT);
    cr_expect_eq(occam_rc_encode_mask(&e, m, 8, 9), OCCAM_ERR_INPUT);
    cr_expect_eq(e.len, 0);
    cr_expect_eq(occam_rc_encode_mask(&e, m, 8, 3), OCCAM_OK); /* non-zero counts as 1 */
    cr_assert_eq(occam_rc_enc_finish(&e), OCCAM_OK);
    occam_rc_dec d;
    occam_rc_dec_init(&d, e.buf, e.len);
    uint8_t out[8];
    cr_expect_eq(occam_rc_decode_mask(&d, out, 8, 9), OCCAM_ERR_INPUT);
    cr_expect_eq(d.pos, 8); /* nothing decoded */
    cr_assert_eq(occam_rc_decode_mask(&d, out, 8, 3), OCCAM_OK);
    for (int i = 0; i < 8; i++) cr_expect_eq(out[i], m[i] != 0);
    check_clean_end(&d, e.len);
    occam_rc_enc_free(&e);
}

/* ---- mixed streams, truncation, garbage, determinism ------------------------------------ */

/* One stream holding a mask, table symbols and bits in turn, the way a model file would. */
static void encode_mixed(occam_rc_enc *e, const uint8_t *m, size_t n, size_t k,
                         const occam_rc_table *t, const int32_t *v, size_t nv)
{
    occam_rc_enc_init(e);
    cr_assert_eq(occam_rc_encode_mask(e, m, n, k), OCCAM_OK);
    for (size_t i = 0; i < nv; i++) {
        cr_assert_eq(occam_rc_encode_sym(e, t, v[i]), OCCAM_OK);
        cr_assert_eq(occam_rc_encode_bit(e, v[i] & 1, 3, 7), OCCAM_OK);
    }
    cr_assert_eq(occam_rc_enc_finish(e), OCCAM_OK);
}

/* Decodes what encode_mixed wrote from buf[0..len). Returns whether the values matched. */
static bool decode_mixed(const uint8_t *buf, size_t len, const uint8_t *m, size_t n, size_t k,
                         const occam_rc_table *t, const int32_t *v, size_t nv, occam_rc_dec *d)
{
    uint8_t *out = malloc(n);
    occam_rc_dec_init(d, buf, len);
    cr_assert_eq(occam_rc_decode_mask(d, out, n, k), OCCAM_OK);
    size_t ones = 0;
    for (size_t i = 0; i < n; i++) ones += out[i];
    cr_assert_eq(ones, k, "decoded masks always have k ones");
    bool same = memcmp(out, m, n) == 0;
    for (size_t i = 0; i < nv; i++) {
        int32_t x = occam_rc_decode_sym(d, t);
        cr_assert(x >= t->lo && x <= t->hi);
        same &= x == v[i];
        same &= occam_rc_decode_bit(d, 3, 7) == (v[i] & 1);
    }
    free(out);
    return same;
}

Test(rangecoder, truncated_streams_report_overrun)
{
    prng g = {8};
    const size_t n = 20000, k = 300, nv = 5000;
    uint8_t *m = random_mask(&g, n, k);
    double p[256], s = 0;
    for (int i = 0; i < 256; i++) s += p[i] = exp(-i / 30.0);
    for (int i = 0; i < 256; i++) p[i] /= s;
    occam_rc_table t;
    cr_assert_eq(occam_rc_table_from_probs(&t, -128, 127, p, 1u << 16), OCCAM_OK);
    int32_t *v = malloc(sizeof *v * nv);
    for (size_t i = 0; i < nv; i++) v[i] = -128 + (int32_t)prng_below(&g, 256);
    occam_rc_enc e;
    encode_mixed(&e, m, n, k, &t, v, nv);

    occam_rc_dec d;
    cr_expect(decode_mixed(e.buf, e.len, m, n, k, &t, v, nv, &d));
    check_clean_end(&d, e.len);
    /* A copy is used so that ASan catches any read past the shortened length. */
    const size_t cuts[] = {1, 2, 7, 8, 9, 100, e.len / 2, e.len - 1, e.len};
    for (size_t c = 0; c < sizeof cuts / sizeof *cuts; c++) {
        size_t len = e.len - cuts[c];
        uint8_t *copy = malloc(len ? len : 1);
        if (len) memcpy(copy, e.buf, len);
        decode_mixed(copy, len, m, n, k, &t, v, nv, &d);
        cr_expect(occam_rc_dec_overrun(&d), "cut %zu bytes of %zu: overrun not reported",
                  cuts[c], e.len);
        free(copy);
    }
    occam_rc_enc_free(&e);
    occam_rc_table_free(&t);
    free(v);
    free(m);
}

Test(rangecoder, garbage_is_safe)
{
    prng g = {9};
    double p[256];
    for (int i = 0; i < 256; i++) p[i] = 1.0 / 256;
    occam_rc_table uniform, skew;
    cr_assert_eq(occam_rc_table_from_probs(&uniform, 0, 255, p, 256), OCCAM_OK);
    for (int i = 0; i < 256; i++) p[i] = i < 4 ? 0.2499999 : 0;
    cr_assert_eq(occam_rc_table_from_probs(&skew, 0, 255, p, OCCAM_RC_TOTAL_MAX), OCCAM_OK);
    uint8_t *mask = malloc(100000);
    for (int rep = 0; rep < 400; rep++) {
        size_t len = (size_t)prng_below(&g, rep < 200 ? 40 : 4000);
        uint8_t *buf = malloc(len ? len : 1);
        int fill = rep % 4; /* random, all 0xFF, all 0x00, random */
        for (size_t i = 0; i < len; i++)
            buf[i] = fill == 1 ? 0xFF : fill == 2 ? 0 : (uint8_t)prng_next(&g);
        occam_rc_dec d;
        /* uniform over 256 symbols: exactly one byte per symbol, so overrun is certain */
        occam_rc_dec_init(&d, buf, len);
        for (size_t i = 0; i < len + 16; i++) {
            int32_t x = occam_rc_decode_sym(&d, &uniform);
            cr_assert(x >= 0 && x <= 255);
        }
        cr_expect(occam_rc_dec_overrun(&d), "len %zu: %zu consumed", len, d.pos);
        /* skewed symbols, a mask and raw bits: values stay in range, no crash */
        occam_rc_dec_init(&d, buf, len);
        for (int i = 0; i < 500; i++) {
            int32_t x = occam_rc_decode_sym(&d, &skew);
            cr_assert(x >= 0 && x <= 255);
            (void)occam_rc_decode_bit(&d, 1, OCCAM_RC_TOTAL_MAX);
        }
        size_t n = 1 + (size_t)prng_below(&g, 100000), k = (size_t)prng_below(&g, n + 1);
        cr_assert_eq(occam_rc_decode_mask(&d, mask, n, k), OCCAM_OK);
        size_t ones = 0;
        for (size_t i = 0; i < n; i++) ones += mask[i];
        cr_assert_eq(ones, k);
        free(buf);
    }
    /* 8 bytes of 0xFF cannot start a valid stream */
    uint8_t ff[8];
    memset(ff, 0xFF, 8);
    occam_rc_dec d;
    occam_rc_dec_init(&d, ff, 8);
    cr_expect(occam_rc_dec_corrupt(&d));
    cr_expect_eq(occam_rc_decode_sym(&d, &uniform), 255);
    free(mask);
    occam_rc_table_free(&uniform);
    occam_rc_table_free(&skew);
}

/* A decode_update whose interval misses the target (a caller bug, or a table that does not
 * match the stream) is clamped and flagged, never undefined. */
Test(rangecoder, mismatched_update_is_flagged)
{
    occam_rc_enc e;
    occam_rc_enc_init(&e);
    for (int i = 0; i < 100; i++) cr_assert_eq(occam_rc_encode(&e, 500, 10, 1000), OCCAM_OK);
    cr_assert_eq(occam_rc_enc_finish(&e), OCCAM_OK);
    occam_rc_dec d;
    occam_rc_dec_init(&d, e.buf, e.len);
    uint32_t t = occam_rc_decode_freq(&d, 1000);
    cr_assert(t >= 500 && t < 510);
    occam_rc_decode_update(&d, 0, 10, 1000); /* below the target */
    cr_expect(occam_rc_dec_corrupt(&d));
    occam_rc_dec_init(&d, e.buf, e.len);
    (void)occam_rc_decode_freq(&d, 1000);
    occam_rc_decode_update(&d, 900, 10, 1000); /* above the target */
    cr_expect(occam_rc_dec_corrupt(&d));
    for (int i = 0; i < 100; i++) (void)occam_rc_decode_bit(&d, 1, 2); /* still safe */
    occam_rc_enc_free(&e);
}

Test(rangecoder, deterministic_output)
{
    prng g = {10};
    const size_t n = 50000, k = 777, nv = 20000;
    uint8_t *m = random_mask(&g, n, k);
    double p[64];
    for (int i = 0; i < 64; i++) p[i] = (i + 1) / 2080.0;
    occam_rc_table t1, t2;
    cr_assert_eq(occam_rc_table_from_probs(&t1, 0, 63, p, 12345), OCCAM_OK);
    cr_assert_eq(occam_rc_table_from_probs(&t2, 0, 63, p, 12345), OCCAM_OK);
    cr_expect_arr_eq(t1.cum, t2.cum, sizeof *t1.cum * 65);
    int32_t *v = malloc(sizeof *v * nv);
    for (size_t i = 0; i < nv; i++) v[i] = (int32_t)prng_below(&g, 64);
    occam_rc_enc a, b;
    encode_mixed(&a, m, n, k, &t1, v, nv);
    encode_mixed(&b, m, n, k, &t2, v, nv);
    cr_assert_eq(a.len, b.len);
    cr_expect_arr_eq(a.buf, b.buf, a.len);
    occam_rc_dec d;
    cr_expect(decode_mixed(a.buf, a.len, m, n, k, &t1, v, nv, &d));
    check_clean_end(&d, a.len);
    occam_rc_enc_free(&a);
    occam_rc_enc_free(&b);
    occam_rc_table_free(&t1);
    occam_rc_table_free(&t2);
    free(v);
    free(m);
}
