/* Parallel exact selection against a sort-based reference: copy every score with its position,
 * qsort by (value, position), take the k-th, count below and ties, and mark the first k as the
 * pruned set. Every case runs with 1, 2, 3 and 4 threads (oversubscribing is fine here) and
 * under several tunings that force each path (bracket hit at lo / between / at hi, bracket
 * missed, radix passes only, gather late, finish by passes or serially); results and masks
 * must be identical across all of them. OpenMP threads start only inside Test bodies
 * (Criterion forks per test and libgomp is not fork-safe). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "occam/rng.h"
#include "occam/select.h"

#define MAXSEG 8

typedef struct item {
    float v;
    uint64_t pos;
} item;

static int cmp_item(const void *a, const void *b)
{
    const item *x = a, *y = b;
    if (x->v < y->v) return -1;
    if (x->v > y->v) return 1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

typedef struct ref {
    occam_select_result r;
    uint8_t *mask; /* concatenated, 0 = selected */
} ref;

static ref reference(float *const *seg, const size_t *len, int nseg, uint64_t k)
{
    uint64_t n = 0;
    for (int s = 0; s < nseg; s++) n += len[s];
    item *a = malloc(sizeof *a * (n ? n : 1));
    uint64_t p = 0;
    for (int s = 0; s < nseg; s++)
        for (size_t i = 0; i < len[s]; i++, p++) a[p] = (item){seg[s][i], p};
    qsort(a, n, sizeof *a, cmp_item);
    ref f = {.mask = malloc(n ? n : 1)};
    memset(f.mask, 1, n);
    for (uint64_t i = 0; i < k; i++) f.mask[a[i].pos] = 0;
    f.r.k = k;
    f.r.value = k ? a[k - 1].v : 0.0f;
    for (uint64_t i = 0; i < k; i++) f.r.below += a[i].v < f.r.value;
    f.r.ties = k - f.r.below;
    free(a);
    return f;
}

static const occam_select_opts variants[] = {
    {0},                                                    /* defaults */
    {.sample_min_n = UINT64_MAX},                           /* radix passes only */
    {.sample_min_n = 1, .sample = 512},                     /* bracket on small data */
    {.sample_min_n = 1, .sample = 64, .cap = 8},            /* bracket overflows */
    {.sample_min_n = 1, .sample = 256, .margin = -1},       /* narrow bracket: misses */
    {.sample_min_n = UINT64_MAX, .serial_max = 1, .cap = 64}, /* late gather, all 32 bits */
    {.sample_min_n = 1, .sample = 4096, .serial_max = 1},   /* bracket, then passes to the end */
};
#define NVARIANTS (int)(sizeof variants / sizeof variants[0])

/* Runs every variant and thread count; returns a bitmask of the bracket outcomes seen. */
static unsigned check(const char *what, float *const *seg, const size_t *len, int nseg, uint64_t k)
{
    uint64_t n = 0;
    for (int s = 0; s < nseg; s++) n += len[s];
    ref f = reference(seg, len, nseg, k);
    uint8_t *mk[MAXSEG];
    for (int s = 0; s < nseg; s++) mk[s] = malloc(len[s] ? len[s] : 1);
    unsigned seen = 0;
    occam_select_result first = {0};
    for (int v = 0; v < NVARIANTS; v++)
        for (int t = 1; t <= 4; t++) {
            occam_select_result r;
            occam_select_trace tr;
            occam_error err = {0};
            int rc = occam_select_ex((const float *const *)seg, len, nseg, k, t, &variants[v], &r,
                                     &tr, &err);
            cr_assert_eq(rc, 0, "%s: variant %d threads %d: %s", what, v, t, err.msg);
            seen |= 1u << tr.bracket;
            cr_assert(r.k == k && r.value == f.r.value && r.below == f.r.below &&
                          r.ties == f.r.ties,
                      "%s (n=%llu k=%llu) variant %d threads %d: value %a below %llu ties %llu; "
                      "reference %a %llu %llu",
                      what, (unsigned long long)n, (unsigned long long)k, v, t, r.value,
                      (unsigned long long)r.below, (unsigned long long)r.ties, f.r.value,
                      (unsigned long long)f.r.below, (unsigned long long)f.r.ties);
            if (v == 0 && t == 1) first = r;
            cr_assert(memcmp(&r.value, &first.value, sizeof r.value) == 0,
                      "%s: value bits differ between runs", what);
            if (v != 0) continue; /* masks depend only on the result: check them once per t */
            for (int s = 0; s < nseg; s++) memset(mk[s], 7, len[s]);
            uint64_t zeros = occam_select_mask(mk, (const float *const *)seg, len, nseg, &r, t);
            cr_assert_eq(zeros, k, "%s threads %d: %llu zeros, k = %llu", what, t,
                         (unsigned long long)zeros, (unsigned long long)k);
            uint64_t p = 0;
            for (int s = 0; s < nseg; s++)
                for (size_t i = 0; i < len[s]; i++, p++)
                    cr_assert_eq(mk[s][i], f.mask[p], "%s threads %d: mask[%d][%zu] = %d, want %d",
                                 what, t, s, i, mk[s][i], f.mask[p]);
        }
    for (int s = 0; s < nseg; s++) free(mk[s]);
    free(f.mask);
    return seen;
}

/* Checks a spread of k, including 0, 1, n - 1 and n. */
static unsigned check_ks(const char *what, float *const *seg, const size_t *len, int nseg)
{
    uint64_t n = 0;
    for (int s = 0; s < nseg; s++) n += len[s];
    uint64_t ks[] = {0, 1, 2, n / 10, n / 3, n / 2, n - n / 7, n - 1, n};
    unsigned seen = 0;
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++)
        if (ks[i] <= n) seen |= check(what, seg, len, nseg, ks[i]);
    return seen;
}

static float *normals(size_t n, uint64_t stream)
{
    occam_rng r = occam_rng_seed(11, stream);
    float *a = malloc(sizeof *a * (n ? n : 1));
    for (size_t i = 0; i < n; i++) a[i] = (float)occam_rng_normal(&r);
    return a;
}

Test(select, random_normal)
{
    size_t len[] = {10007};
    float *a = normals(len[0], 1);
    float *seg[] = {a};
    unsigned seen = check_ks("normal", seg, len, 1);
    cr_assert(seen & (1u << OCCAM_SELECT_NO_SAMPLE));
    cr_assert(seen & (1u << OCCAM_SELECT_BETWEEN));
    cr_assert(seen & (1u << OCCAM_SELECT_OVERFLOW));
    free(a);
}

Test(select, bracket_misses)
{
    /* A bracket of +-2 sample ranks around the estimate misses often, on either side; the
     * radix passes that follow must still be exact. Several data sets, since one sample's
     * errors are correlated across k. */
    const occam_select_opts narrow = {.sample_min_n = 1, .sample = 256, .margin = -1};
    size_t len[] = {6007};
    unsigned seen = 0;
    for (uint64_t d = 0; d < 8; d++) {
        float *a = normals(len[0], 300 + d);
        float *seg[] = {a};
        for (uint64_t j = 1; j < 12; j++) {
            uint64_t k = j * len[0] / 12;
            ref f = reference(seg, len, 1, k);
            for (int t = 1; t <= 2; t++) {
                occam_select_result r;
                occam_select_trace tr;
                occam_error err = {0};
                cr_assert_eq(occam_select_ex((const float *const *)seg, len, 1, k, t, &narrow, &r,
                                             &tr, &err),
                             0, "%s", err.msg);
                seen |= 1u << tr.bracket;
                cr_assert(r.value == f.r.value && r.below == f.r.below && r.ties == f.r.ties,
                          "data %llu k %llu threads %d", (unsigned long long)d,
                          (unsigned long long)k, t);
            }
            free(f.mask);
        }
        free(a);
    }
    cr_assert(seen & (1u << OCCAM_SELECT_BELOW_LO));
    cr_assert(seen & (1u << OCCAM_SELECT_ABOVE_HI));
    cr_assert(seen & (1u << OCCAM_SELECT_BETWEEN));
}

Test(select, absolute_values)
{
    size_t len[] = {20001};
    float *a = normals(len[0], 2);
    for (size_t i = 0; i < len[0]; i++) a[i] = fabsf(a[i]);
    float *seg[] = {a};
    check_ks("abs", seg, len, 1);
    free(a);
}

Test(select, all_equal)
{
    size_t len[] = {5003};
    float *a = malloc(sizeof *a * len[0]);
    for (size_t i = 0; i < len[0]; i++) a[i] = 0.25f;
    float *seg[] = {a};
    unsigned seen = check_ks("equal", seg, len, 1);
    cr_assert(seen & ((1u << OCCAM_SELECT_AT_LO) | (1u << OCCAM_SELECT_AT_HI)));
    free(a);
}

Test(select, heavy_ties)
{
    /* Mostly pruned zeros plus two other values: the bracket lands on tied values. */
    size_t len[] = {7001, 3002};
    occam_rng r = occam_rng_seed(3, 0);
    const float vals[3] = {0.0f, 0.5f, -1.5f};
    float *a = malloc(sizeof *a * len[0]), *b = malloc(sizeof *b * len[1]);
    for (size_t i = 0; i < len[0]; i++) a[i] = vals[occam_rng_below(&r, 3)];
    for (size_t i = 0; i < len[1]; i++) b[i] = vals[occam_rng_below(&r, 3)];
    float *seg[] = {a, b};
    unsigned seen = check_ks("ties3", seg, len, 2);
    cr_assert(seen & (1u << OCCAM_SELECT_AT_LO));
    cr_assert(seen & (1u << OCCAM_SELECT_AT_HI));
    free(a);
    free(b);
}

Test(select, subnormals)
{
    size_t len[] = {4099};
    occam_rng r = occam_rng_seed(4, 0);
    float *a = malloc(sizeof *a * len[0]);
    for (size_t i = 0; i < len[0]; i++) {
        uint32_t bits = (uint32_t)occam_rng_below(&r, 0x00800000u); /* exponent 0: subnormal */
        if (occam_rng_below(&r, 2)) bits |= 0x80000000u;
        if (i % 5 == 0) bits = 0x00800000u; /* FLT_MIN */
        memcpy(&a[i], &bits, sizeof bits);
    }
    float *seg[] = {a};
    check_ks("subnormal", seg, len, 1);
    free(a);
}

Test(select, signed_zeros)
{
    size_t len[] = {3001, 17};
    occam_rng r = occam_rng_seed(5, 0);
    float *a = malloc(sizeof *a * len[0]), *b = malloc(sizeof *b * len[1]);
    const float vals[4] = {0.0f, -0.0f, 1.0f, -1.0f};
    for (size_t i = 0; i < len[0]; i++) a[i] = vals[occam_rng_below(&r, 4)];
    for (size_t i = 0; i < len[1]; i++) b[i] = vals[occam_rng_below(&r, 2)];
    float *seg[] = {a, b};
    check_ks("zeros", seg, len, 2);
    free(a);
    free(b);
}

Test(select, negative_values)
{
    size_t len[] = {9001};
    float *a = normals(len[0], 6);
    for (size_t i = 0; i < len[0]; i++) a[i] = -fabsf(a[i]) - 1e-3f;
    float *seg[] = {a};
    check_ks("negative", seg, len, 1);
    free(a);
}

Test(select, infinities)
{
    size_t len[] = {2003};
    float *a = normals(len[0], 7);
    for (size_t i = 0; i < len[0]; i += 7) a[i] = i % 2 ? INFINITY : -INFINITY;
    float *seg[] = {a};
    check_ks("inf", seg, len, 1);
    for (size_t i = 0; i < len[0]; i++) a[i] = INFINITY;
    check_ks("all +inf", seg, len, 1);
    for (size_t i = 0; i < len[0]; i++) a[i] = -INFINITY;
    check_ks("all -inf", seg, len, 1);
    free(a);
}

Test(select, single_score)
{
    float x = -2.5f;
    float *seg[] = {&x};
    size_t len[] = {1};
    check("n=1 k=0", seg, len, 1, 0);
    check("n=1 k=1", seg, len, 1, 1);
}

Test(select, uneven_and_empty_segments)
{
    /* LeNet-like proportions, scaled down, with empty segments in between and at the ends. */
    size_t len[] = {0, 2352, 0, 300, 10, 0, 1, 0};
    float *seg[8];
    for (int s = 0; s < 8; s++) {
        seg[s] = normals(len[s], 100 + (uint64_t)s);
        for (size_t i = 0; i < len[s]; i++) seg[s][i] = fabsf(seg[s][i]) * (float)(s + 1);
    }
    check_ks("segments", seg, len, 8);
    for (int s = 0; s < 8; s++) free(seg[s]);
}

Test(select, sizes_not_multiple_of_threads)
{
    const size_t sizes[] = {1, 3, 17, 67};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        float *a = normals(n, n);
        size_t len[] = {n};
        float *seg[] = {a};
        check_ks("small n", seg, len, 1);
        free(a);
    }
}

Test(select, large_default_path, .timeout = 120)
{
    /* Above the default sampling threshold: the path production uses. */
    size_t len[] = {1500007, 600001, 3};
    float *seg[3];
    for (int s = 0; s < 3; s++) {
        seg[s] = normals(len[s], 200 + (uint64_t)s);
        for (size_t i = 0; i < len[s]; i++) seg[s][i] = fabsf(seg[s][i]);
    }
    uint64_t n = len[0] + len[1] + len[2];
    uint64_t ks[] = {1, n / 20, n / 2, n - 1};
    for (int i = 0; i < 4; i++) {
        ref f = reference(seg, len, 3, ks[i]);
        for (int t = 1; t <= 4; t++) {
            occam_select_result r;
            occam_select_trace tr;
            occam_error err = {0};
            cr_assert_eq(occam_select_ex((const float *const *)seg, len, 3, ks[i], t, NULL, &r,
                                         &tr, &err),
                         0, "%s", err.msg);
            cr_assert_eq(tr.bracket, OCCAM_SELECT_BETWEEN, "k=%llu threads %d: bracket %d",
                         (unsigned long long)ks[i], t, tr.bracket);
            cr_assert_eq(tr.data_passes, 1);
            cr_assert(r.value == f.r.value && r.below == f.r.below && r.ties == f.r.ties);
        }
        free(f.mask);
    }
    for (int s = 0; s < 3; s++) free(seg[s]);
}

Test(select, errors)
{
    occam_select_result r;
    occam_error err = {0};
    size_t zero[] = {0, 0};
    float x[5] = {1, 2, 3, 4, 5};
    const float *seg[] = {x, x};
    cr_assert_eq(occam_select(seg, zero, 0, 0, 2, &r, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "empty"), "%s", err.msg);
    err = (occam_error){0};
    cr_assert_eq(occam_select(seg, zero, 2, 0, 2, &r, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "empty"), "%s", err.msg);
    size_t five[] = {5};
    cr_assert_eq(occam_select(seg, five, 1, 6, 2, &r, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "k = 6"), "%s", err.msg);

    /* NaN anywhere, whatever k and path: the first one in position order is named. */
    size_t len[] = {1000, 0, 3000};
    float *a = normals(len[0], 8), *b = normals(len[2], 9);
    b[1234] = NAN;
    b[2000] = -NAN;
    a[999] = INFINITY;
    const float *s3[] = {a, NULL, b};
    for (int v = 0; v < NVARIANTS; v++)
        for (int t = 1; t <= 3; t++) {
            uint64_t ks[] = {0, 1, 2000, 4000};
            for (int i = 0; i < 4; i++) {
                err = (occam_error){0};
                int rc = occam_select_ex(s3, len, 3, ks[i], t, &variants[v], &r, NULL, &err);
                cr_assert_eq(rc, OCCAM_ERR_INPUT, "variant %d t %d k %llu", v, t,
                             (unsigned long long)ks[i]);
                cr_assert_str_eq(err.msg, "select: score NaN at segment 2 index 1234");
            }
        }
    b[1234] = 0;
    err = (occam_error){0};
    cr_assert_eq(occam_select(s3, len, 3, 17, 2, &r, &err), OCCAM_ERR_INPUT);
    cr_assert_str_eq(err.msg, "select: score NaN at segment 2 index 2000");
    free(a);
    free(b);
}

Test(select, count_rounding)
{
    cr_assert_eq(occam_select_count(0.95, 266200), 252890);
    cr_assert_eq(occam_select_count(0.5, 3), 2);
    cr_assert_eq(occam_select_count(0.5, 5), 3);
    cr_assert_eq(occam_select_count(0.5, 1), 1);
    cr_assert_eq(occam_select_count(0.25, 2), 1);
    /* 0.3 and 0.7 are a hair below their decimals: the exact products are just under x.5,
     * where a double product would round up to exactly x.5. */
    cr_assert_eq(occam_select_count(0.3, 5), 1);
    cr_assert_eq(occam_select_count(0.7, 5), 3);
    cr_assert_eq(occam_select_count(0.1, 5), 1); /* 0.1 is a hair above */
    cr_assert_eq(occam_select_count(0.0, 100), 0);
    cr_assert_eq(occam_select_count(1.0, 100), 100);
    cr_assert_eq(occam_select_count(1.0, UINT64_MAX), UINT64_MAX);
    cr_assert_eq(occam_select_count(0.5, UINT64_MAX), UINT64_C(1) << 63);
    cr_assert_eq(occam_select_count(0x1p-70, UINT64_MAX), 0);
    cr_assert_eq(occam_select_count(0x1p-60, UINT64_MAX), 16);
    cr_assert_eq(occam_select_count(5e-324, UINT64_MAX), 0);
    cr_assert_eq(occam_select_count(0.9, 0), 0);
}
