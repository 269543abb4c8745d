/* The BLIS wrapper against a naive triple loop, for every transpose combination and for
 * leading dimensions wider than the matrices (the strided views the trainer uses); its small
 * products against their defining sums and against BLIS itself. */
#include <criterion/criterion.h>
#include <blis.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../src/runtime/gemm_small.h"
#include "blis_kernels.h"
#include "occam/gemm.h"
#include "occam/rng.h"

/* Naive triple loop with double accumulation: the reference occam_gemm is checked against. */
static void gemm_ref(bool ta, bool tb, int m, int n, int k, float alpha, const float *A, int lda,
                     const float *B, int ldb, float beta, float *C, int ldc)
{
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double acc = 0;
            for (int p = 0; p < k; p++) {
                double a = ta ? A[(size_t)p * lda + i] : A[(size_t)i * lda + p];
                double b = tb ? B[(size_t)j * ldb + p] : B[(size_t)p * ldb + j];
                acc += a * b;
            }
            float *c = &C[(size_t)i * ldc + j];
            /* beta = 0 must not read C (it may hold NaN), as in BLAS. */
            *c = (float)(alpha * acc + (beta == 0.0f ? 0.0 : (double)beta * *c));
        }
}

static void fill(float *a, size_t n, occam_rng *r)
{
    for (size_t i = 0; i < n; i++) a[i] = (float)(occam_rng_uniform(r) * 2.0 - 1.0);
}

static void check_case(bool ta, bool tb, int m, int n, int k, int pad, float alpha, float beta)
{
    occam_rng r = occam_rng_seed(7, (uint64_t)(m * 1000 + n * 10 + k));
    int arows = ta ? k : m, acols = ta ? m : k, brows = tb ? n : k, bcols = tb ? k : n;
    int lda = acols + pad, ldb = bcols + pad, ldc = n + pad;
    float *A = malloc(sizeof(float) * (size_t)arows * lda);
    float *B = malloc(sizeof(float) * (size_t)brows * ldb);
    float *C = malloc(sizeof(float) * (size_t)m * ldc);
    float *R = malloc(sizeof(float) * (size_t)m * ldc);
    fill(A, (size_t)arows * lda, &r);
    fill(B, (size_t)brows * ldb, &r);
    fill(C, (size_t)m * ldc, &r);
    for (size_t i = 0; i < (size_t)m * ldc; i++) R[i] = C[i];
    occam_gemm(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
    gemm_ref(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, R, ldc);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < ldc; j++) {
            float got = C[(size_t)i * ldc + j], want = R[(size_t)i * ldc + j];
            /* |error| of a float dot product of length k with |terms| <= 1: ~k·eps. */
            cr_assert(fabsf(got - want) <= 1e-5f * (float)(k + 1),
                      "ta=%d tb=%d m=%d n=%d k=%d pad=%d: C[%d][%d] = %g, reference %g", ta, tb,
                      m, n, k, pad, i, j, got, want);
        }
    free(A);
    free(B);
    free(C);
    free(R);
}

Test(gemm, all_transposes_and_strides)
{
    occam_gemm_init();
    const int shapes[][3] = {{1, 1, 1}, {3, 5, 7}, {64, 300, 784}, {17, 10, 100}, {100, 33, 64}};
    for (int s = 0; s < 5; s++)
        for (int t = 0; t < 4; t++)
            for (int pad = 0; pad <= 3; pad += 3)
                check_case(t & 1, t & 2, shapes[s][0], shapes[s][1], shapes[s][2], pad, 1.0f,
                           0.0f);
}

/* occam_dgemm against naive double loops: every transpose, a padded leading dimension, alpha
 * and beta, to 1e-12 relative (products of order 1 summed over k ≤ 300). */
Test(gemm, double_all_transposes_against_naive_loops)
{
    occam_gemm_init();
    const int shapes[][3] = {{1, 1, 1}, {4, 2048, 37}, {64, 3, 300}, {17, 10, 100}};
    occam_rng r = occam_rng_seed(3, 0);
    for (int s = 0; s < 4; s++)
        for (int t = 0; t < 4; t++) {
            bool ta = t & 1, tb = t & 2;
            int m = shapes[s][0], n = shapes[s][1], k = shapes[s][2], pad = 2;
            int lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
            double *A = malloc(sizeof(double) * (ta ? k : m) * lda),
                   *B = malloc(sizeof(double) * (tb ? n : k) * ldb),
                   *C = malloc(sizeof(double) * m * ldc), *R = malloc(sizeof(double) * m * ldc);
            for (int i = 0; i < (ta ? k : m) * lda; i++) A[i] = occam_rng_normal(&r);
            for (int i = 0; i < (tb ? n : k) * ldb; i++) B[i] = occam_rng_normal(&r);
            for (int i = 0; i < m * ldc; i++) C[i] = R[i] = occam_rng_normal(&r);
            occam_dgemm(ta, tb, m, n, k, 0.75, A, lda, B, ldb, -0.5, C, ldc);
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++) {
                    double acc = 0.0, mag = 0.0;
                    for (int p = 0; p < k; p++) {
                        double a = ta ? A[p * lda + i] : A[i * lda + p];
                        double b = tb ? B[j * ldb + p] : B[p * ldb + j];
                        acc += a * b, mag += fabs(a * b);
                    }
                    double want = 0.75 * acc - 0.5 * R[i * ldc + j];
                    cr_assert(fabs(C[i * ldc + j] - want) <= 1e-12 * (mag + fabs(R[i * ldc + j])),
                              "shape %d, transposes %d, (%d, %d): %.17g against %.17g", s, t, i, j,
                              C[i * ldc + j], want);
                }
            for (int i = 0; i < m; i++) /* the padding is left alone */
                for (int j = n; j < ldc; j++) cr_assert(C[i * ldc + j] == R[i * ldc + j]);
            free(A), free(B), free(C), free(R);
        }
}

Test(gemm, alpha_beta_accumulate)
{
    occam_gemm_init();
    for (int t = 0; t < 4; t++) check_case(t & 1, t & 2, 9, 11, 13, 2, 0.5f, 1.5f);
}

Test(gemm, beta_zero_ignores_nan_in_c)
{
    occam_gemm_init();
    float A[4] = {1, 2, 3, 4}, B[4] = {1, 0, 0, 1}, C[4] = {NAN, NAN, NAN, NAN};
    occam_gemm(false, false, 2, 2, 2, 1.0f, A, 2, B, 2, 0.0f, C, 2);
    for (int i = 0; i < 4; i++) cr_assert_float_eq(C[i], A[i], 0.0f);
}

/* Under AddressSanitizer occam_gemm reports an operand that runs past its allocation before it
 * multiplies: neither its own loop (left uninstrumented, for speed) nor BLIS (never
 * instrumented) would see A's reads past its end. ASan ends the process with exit 1 after its
 * report, which goes to /dev/null here: the suite's log would read like a failure. Without
 * ASan there is nothing to test. */
static void a_one_short(bool small)
{
#if defined(__SANITIZE_ADDRESS__)
    occam_gemm_init();
    int m = small ? 4 : 200, n = small ? 5 : 210, k = small ? 6 : 300;
#ifdef __FMA__ /* without FMA every product is BLIS's: the check runs before either path */
    cr_assert_eq(gemm_small_takes(m, n, k, 1.0f, 0.0f), small);
#endif
    float *A = calloc((size_t)m * k - 1, sizeof *A), *B = calloc((size_t)k * n, sizeof *B);
    float *C = calloc((size_t)m * n, sizeof *C);
    cr_assert(A && B && C);
    int null = open("/dev/null", O_WRONLY);
    cr_assert(null >= 0 && dup2(null, 2) == 2);
    occam_gemm(false, false, m, n, k, 1.0f, A, k, B, n, 0.0f, C, n);
    cr_assert_fail("A one float short was not reported");
#else
    (void)small;
    cr_skip_test("needs AddressSanitizer");
#endif
}

#if defined(__SANITIZE_ADDRESS__)
#define ASAN_EXIT 1 /* ASan's exit status after a report */
#else
#define ASAN_EXIT 0 /* the skip */
#endif

Test(gemm, asan_reports_a_short_a_of_a_small_product, .exit_code = ASAN_EXIT)
{
    a_one_short(true);
}

Test(gemm, asan_reports_a_short_a_of_a_blis_product, .exit_code = ASAN_EXIT)
{
    a_one_short(false);
}

Test(gemm, k_zero_scales_c)
{
    occam_gemm_init();
    float A[1] = {5}, B[1] = {5}, C[4] = {1, 2, 3, 4};
    occam_gemm(false, false, 2, 2, 0, 1.0f, A, 1, B, 2, 0.5f, C, 2);
    for (int i = 0; i < 4; i++) cr_assert_float_eq(C[i], 0.5f * (float)(i + 1), 0.0f);
}

Test(gemm, picks_a_vector_kernel_set_on_x86)
{
    bool user_choice = getenv("BLIS_ARCH_TYPE") != NULL;
    const char *arch = occam_gemm_init();
    cr_assert(arch && *arch);
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx2") && !user_choice)
        cr_assert_str_neq(arch, "generic", "BLIS fell back to its generic kernels");
#endif
}

/* ---- the small-product loop (src/runtime/gemm_small.c) ------------------------------------ */

/* Each element as the small loop defines it: fused multiply-adds over k in order from +0, then
 * added to C when beta = 1 (C unread when beta = 0). */
static void gemm_seq(bool ta, bool tb, int m, int n, int k, const float *A, int lda,
                     const float *B, int ldb, float beta, float *C, int ldc)
{
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            float acc = 0.0f;
            for (int p = 0; p < k; p++)
                acc = fmaf(ta ? A[(size_t)p * lda + i] : A[(size_t)i * lda + p],
                           tb ? B[(size_t)j * ldb + p] : B[(size_t)p * ldb + j], acc);
            float *c = &C[(size_t)i * ldc + j];
            *c = beta == 0.0f ? acc : *c + acc;
        }
}

/* Shapes across the loop's tiles (4 rows by 16 columns, k up to 256) and both sides of its
 * size limits, with signed zeros among the values. */
static const int small_shapes[][3] = {{1, 1, 1},   {3, 5, 7},    {4, 16, 1},  {5, 17, 2},
                                      {8, 50, 10}, {16, 50, 10}, {50, 10, 8}, {1, 50, 8},
                                      {10, 1, 50}, {7, 33, 256}, {64, 32, 64}, {65, 32, 64},
                                      {2, 3, 257}};

static void fill_signed_zeros(float *a, size_t n, occam_rng *r)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t u = occam_rng_next(r);
        a[i] = u % 7 == 0 ? (u % 2 ? -0.0f : 0.0f) : (float)(occam_rng_uniform(r) * 2.0 - 1.0);
    }
}

/* op(A), op(B) and C (with R, C's copy for the reference) of one product, each leading
 * dimension padded by pad, every value from fill_signed_zeros. */
typedef struct small_case {
    float *A, *B, *C, *R;
    int lda, ldb, ldc;
    size_t nc;
} small_case;

static small_case small_case_new(bool ta, bool tb, int m, int n, int k, int pad, occam_rng *r)
{
    small_case c = {.lda = (ta ? m : k) + pad, .ldb = (tb ? k : n) + pad, .ldc = n + pad};
    size_t na = (size_t)(ta ? k : m) * c.lda, nb = (size_t)(tb ? n : k) * c.ldb;
    c.nc = (size_t)m * c.ldc;
    c.A = malloc(sizeof(float) * na), c.B = malloc(sizeof(float) * nb);
    c.C = malloc(sizeof(float) * c.nc), c.R = malloc(sizeof(float) * c.nc);
    fill_signed_zeros(c.A, na, r);
    fill_signed_zeros(c.B, nb, r);
    fill_signed_zeros(c.C, c.nc, r);
    memcpy(c.R, c.C, sizeof(float) * c.nc);
    return c;
}

static void small_case_free(small_case *c)
{
    free(c->A), free(c->B), free(c->C), free(c->R);
}

/* The loop's sums bit for bit (called directly, so a product BLIS would give the same bits
 * for cannot hide it): every transpose, padded leading dimensions, beta 0 and 1, signed
 * zeros, tails of both tile sides, k = 1 and 256. */
Test(gemm, small_products_are_ordered_fused_sums)
{
    occam_rng r = occam_rng_seed(11, 0);
    for (size_t s = 0; s < sizeof small_shapes / sizeof *small_shapes; s++)
        for (int t = 0; t < 8; t++) {
            bool ta = t & 1, tb = t & 2;
            float beta = (t & 4) ? 1.0f : 0.0f;
            int m = small_shapes[s][0], n = small_shapes[s][1], k = small_shapes[s][2];
            if (k > GEMM_SMALL_KMAX) continue;
            small_case c = small_case_new(ta, tb, m, n, k, 1, &r);
            gemm_small(ta, tb, m, n, k, c.A, c.lda, c.B, c.ldb, beta, c.C, c.ldc);
            gemm_seq(ta, tb, m, n, k, c.A, c.lda, c.B, c.ldb, beta, c.R, c.ldc);
            cr_assert(memcmp(c.C, c.R, sizeof(float) * c.nc) == 0,
                      "%d×%d×%d ta=%d tb=%d beta=%g: not the ordered fused sums", m, n, k, ta, tb,
                      beta);
            small_case_free(&c);
        }
}

/* Which products occam_gemm gives the loop: its limits, each just inside and just past. */
Test(gemm, small_products_limits)
{
#ifndef __FMA__
    cr_assert(!gemm_small_takes(8, 50, 10, 1.0f, 0.0f), "a build without FMA takes none");
#else
    cr_assert(gemm_small_takes(8, 50, 10, 1.0f, 0.0f) && gemm_small_takes(8, 50, 10, 1.0f, 1.0f));
    cr_assert(!gemm_small_takes(8, 50, 10, 0.5f, 0.0f) && !gemm_small_takes(8, 50, 10, 1.0f, 2.0f));
    cr_assert(gemm_small_takes(1, 1, 256, 1.0f, 0.0f) && !gemm_small_takes(1, 1, 257, 1.0f, 0.0f));
    cr_assert(!gemm_small_takes(8, 50, 0, 1.0f, 0.0f) && !gemm_small_takes(0, 50, 10, 1.0f, 0.0f));
    /* 2^17 multiply-adds, then one row more */
    cr_assert(gemm_small_takes(32, 64, 64, 1.0f, 0.0f));
    cr_assert(!gemm_small_takes(32, 64, 65, 1.0f, 0.0f));
    /* 2^13 elements of C, then one column more */
    cr_assert(gemm_small_takes(64, 128, 16, 1.0f, 0.0f));
    cr_assert(!gemm_small_takes(64, 129, 1, 1.0f, 0.0f));
    cr_assert(!gemm_small_takes(8193, 1, 1, 1.0f, 0.0f));
#endif
}

/* The small loop is used only where its sums are BLIS's: not beside the generic kernels,
 * whose sums are not fused; beside occam's own choice on a CPU with FMA (skx or haswell), yes. */
Test(gemm, small_loop_only_beside_kernels_that_sum_as_it_does)
{
    use_blis_kernels("generic");
    cr_assert(!occam_gemm_small_loop());
}

Test(gemm, small_loop_beside_occams_own_choice_of_kernels)
{
    unsetenv("BLIS_ARCH_TYPE");
    const char *arch = occam_gemm_init();
#ifdef __FMA__
    if (strcmp(arch, "skx") && strcmp(arch, "haswell"))
        cr_skip_test("BLIS runs its %s kernels here", arch);
    if (strcmp(bli_info_get_version_str(), "0.9.0"))
        cr_skip_test("BLIS %s: gemm.c's table is for 0.9.0", bli_info_get_version_str());
    cr_assert(occam_gemm_small_loop(), "%s", arch);
#else
    cr_assert(!occam_gemm_small_loop(), "%s: a build without FMA has no small loop", arch);
#endif
}

/* Beside the kernel sets occam_gemm_small_loop names, a product gives the same bits by either
 * path, so the size limit moves no result: BLIS itself (packed kernels, as occam_gemm calls it),
 * called directly, against occam_gemm on the same small products. One test per set: BLIS reads
 * BLIS_ARCH_TYPE once. */
static void small_products_match_blis(const char *arch)
{
    use_blis_kernels(arch);
#ifdef __FMA__
    if (!strcmp(bli_info_get_version_str(), "0.9.0")) /* the release gemm.c's table is for */
        cr_assert(occam_gemm_small_loop(), "%s: the small loop is not used", arch);
#endif
    occam_rng r = occam_rng_seed(12, 0);
    for (size_t s = 0; s < sizeof small_shapes / sizeof *small_shapes; s++)
        for (int t = 0; t < 8; t++) {
            bool ta = t & 1, tb = t & 2;
            float one = 1.0f, beta = (t & 4) ? 1.0f : 0.0f;
            int m = small_shapes[s][0], n = small_shapes[s][1], k = small_shapes[s][2];
            small_case c = small_case_new(ta, tb, m, n, k, 2, &r);
            occam_gemm(ta, tb, m, n, k, 1.0f, c.A, c.lda, c.B, c.ldb, beta, c.C, c.ldc);
            rntm_t rntm = BLIS_RNTM_INITIALIZER;
            bli_rntm_set_num_threads(1, &rntm);
            bli_rntm_disable_l3_sup(&rntm);
            bli_sgemm_ex(ta ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE,
                         tb ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE, m, n, k, &one, c.A, c.lda, 1,
                         c.B, c.ldb, 1, &beta, c.R, c.ldc, 1, NULL, &rntm);
            cr_assert(memcmp(c.C, c.R, sizeof(float) * c.nc) == 0,
                      "%s: %d×%d×%d ta=%d tb=%d beta=%g: other bits than BLIS's", arch, m, n, k,
                      ta, tb, beta);
            small_case_free(&c);
        }
}

Test(gemm, small_products_match_blis_skx_bit_for_bit) { small_products_match_blis("skx"); }
Test(gemm, small_products_match_blis_haswell_bit_for_bit) { small_products_match_blis("haswell"); }
Test(gemm, small_products_match_blis_zen_bit_for_bit) { small_products_match_blis("zen"); }
Test(gemm, small_products_match_blis_zen2_bit_for_bit) { small_products_match_blis("zen2"); }
Test(gemm, small_products_match_blis_zen3_bit_for_bit) { small_products_match_blis("zen3"); }
Test(gemm, small_products_match_blis_excavator_bit_for_bit)
{
    small_products_match_blis("excavator");
}

/* Infinities and NaN in A or B reach C as in the ordered sums (an Inf times a padded zero
 * lane must not leak into a stored element). */
Test(gemm, small_products_carry_inf_and_nan)
{
    occam_gemm_init();
    float A[3 * 2] = {INFINITY, 1, 2, 3, NAN, 1}, B[2 * 3] = {1, 0, 2, 1, 1, 1}, C[9], R[9];
    occam_gemm(false, false, 3, 3, 2, 1.0f, A, 2, B, 3, 0.0f, C, 3);
    gemm_seq(false, false, 3, 3, 2, A, 2, B, 3, 0.0f, R, 3);
    for (int i = 0; i < 9; i++)
        cr_assert(isnan(C[i]) ? isnan(R[i]) : C[i] == R[i], "C[%d] = %g, ordered sums %g", i,
                  C[i], R[i]);
    cr_assert(isnan(C[1]) && isinf(C[0]) && C[3] == 5.0f && C[4] == 3.0f);
}
