/* gemm_small.h — occam's own loop for small products (internal to src/runtime).
 *
 * A BLIS call costs about 4–8 µs before any arithmetic (its object interface, a control tree
 * it mallocs, its pools' locks and a nested OpenMP region): ten times the arithmetic of the
 * products a small network makes (8 × 50 × 10 is 4,000 multiply-adds), and 1.4 to 2.4 times
 * that when a second thread of the process calls BLIS too. occam_gemm sends such products
 * here instead.
 *
 * The loop's arithmetic is fixed: each element of C is its own sum, over k in order, of fused
 * multiply-adds from +0 (then, for beta = 1, added to C). That is what BLIS's packed skx,
 * haswell and zen kernels compute within their block of k (256 to 480; the loop takes k ≤
 * 256), bit for bit, so the results do not depend on which path a product takes. occam_gemm
 * uses the loop only beside the kernel sets listed in gemm.c (each tested against BLIS:
 * occam_gemm_small_loop). */
#ifndef OCCAM_GEMM_SMALL_H
#define OCCAM_GEMM_SMALL_H

#include <stdbool.h>

/* The products the loop takes: alpha = 1, beta 0 or 1, 1 ≤ k ≤ GEMM_SMALL_KMAX, at most
 * GEMM_SMALL_MACS multiply-adds and GEMM_SMALL_OUTS elements of C, on a build for a CPU with
 * FMA (without it fmaf is a slow library call). Past 2^13 elements of C BLIS is faster
 * whatever k (perf/gemm_small.sh: 256 × 256 × 2 takes the loop 1.7 times BLIS's time, while
 * 64 × 128 × 16 takes it three fifths); the limit on multiply-adds is conservative (at 2^18,
 * 64 × 64 × 64, the loop still won; at 2^21 BLIS does). */
enum { GEMM_SMALL_KMAX = 256, GEMM_SMALL_MACS = 1 << 17, GEMM_SMALL_OUTS = 1 << 13 };

bool gemm_small_takes(int m, int n, int k, float alpha, float beta);

/* Whether this build runs under AddressSanitizer (gcc's macro, clang's feature test). */
#if defined(__SANITIZE_ADDRESS__)
#define OCCAM_GEMM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define OCCAM_GEMM_ASAN 1
#endif
#endif
#if defined(__GNUC__)
#define OCCAM_GEMM_SMALL_UNCHECKED __attribute__((no_sanitize("address", "undefined")))
#else
#define OCCAM_GEMM_SMALL_UNCHECKED
#endif

/* C (m×n, ldc) = op(A)·op(B) + beta·C as occam_gemm; only for products gemm_small_takes. */
void gemm_small(bool ta, bool tb, int m, int n, int k, const float *A, int lda, const float *B,
                int ldb, float beta, float *C, int ldc);

#endif
