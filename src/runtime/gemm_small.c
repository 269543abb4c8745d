/* Small products without BLIS's per-call cost: see gemm_small.h. */
#include "gemm_small.h"

#include <math.h>
#include <stddef.h>

#include "occam/error.h"

/* The fuzzers' build (clang -O1 with sanitizers) cannot vectorise the loop marked simd below
 * and says so; gcc's -O3 needs the mark to keep the four rows' sums in registers (without it
 * a 32 × 64 × 64 product took 2.7 times as long). */
#ifdef __clang__
#pragma clang diagnostic ignored "-Wpass-failed"
#endif

/* A tile of C is GEMM_SMALL_MR rows by GEMM_SMALL_NB columns: four rows of sixteen floats, one
 * AVX-512 register (two AVX2 ones) per row. op(B)'s columns of a tile are copied first into a
 * k × 16 block on the stack (16 KiB at k = 256), zero-padded past n, so the inner loop reads
 * it in order whatever B's layout; copying changes no value. */
enum { GEMM_SMALL_MR = 4, GEMM_SMALL_NB = 16 };

bool gemm_small_takes(int m, int n, int k, float alpha, float beta)
{
#ifdef __FMA__
    size_t outs = (size_t)m * (size_t)n;
    return alpha == 1.0f && (beta == 0.0f || beta == 1.0f) && k >= 1 && k <= GEMM_SMALL_KMAX &&
           m >= 1 && n >= 1 && outs <= GEMM_SMALL_OUTS && outs * (size_t)k <= GEMM_SMALL_MACS;
#else
    (void)m, (void)n, (void)k, (void)alpha, (void)beta;
    return false;
#endif
}

/* Not instrumented by the sanitizers: their checks on every load kept the loop from
 * vectorising, and it took 80% of a sanitized training run (a 300-epoch run on blobs: 4.0 s,
 * against 0.7 s uninstrumented). occam_gemm checks the whole extent of each operand under
 * AddressSanitizer before it multiplies, by either path, so an operand past its allocation is
 * still reported, as it is for BLIS (never instrumented). */
OCCAM_GEMM_SMALL_UNCHECKED
void gemm_small(bool ta, bool tb, int m, int n, int k, const float *A, int lda, const float *B,
                int ldb, float beta, float *C, int ldc)
{
    enum { MR = GEMM_SMALL_MR, NB = GEMM_SMALL_NB };
    OCCAM_ASSERT(k >= 1 && k <= GEMM_SMALL_KMAX); /* the tile below holds k rows */
    _Alignas(64) float bt[GEMM_SMALL_KMAX * NB];
    /* op(A)(i, p) = A[i·ai + p·ap] */
    size_t ai = ta ? 1 : (size_t)lda, ap = ta ? (size_t)lda : 1;
    for (int j0 = 0; j0 < n; j0 += NB) {
        int nb = n - j0 < NB ? n - j0 : NB;
        for (int p = 0; p < k; p++)
            for (int j = 0; j < NB; j++)
                bt[p * NB + j] = j >= nb ? 0.0f
                                 : tb    ? B[(size_t)(j0 + j) * ldb + p]
                                         : B[(size_t)p * ldb + j0 + j];
        for (int i0 = 0; i0 < m; i0 += MR) {
            int mr = m - i0 < MR ? m - i0 : MR;
            /* rows past m repeat the last one: their sums are made and never stored */
            const float *a[MR];
            for (int r = 0; r < MR; r++) a[r] = A + (size_t)(i0 + (r < mr ? r : mr - 1)) * ai;
            _Alignas(64) float acc[MR][NB] = {{0}};
            for (int p = 0; p < k; p++) {
                const float *b = bt + p * NB;
                for (int r = 0; r < MR; r++) {
                    float x = a[r][(size_t)p * ap];
#pragma omp simd
                    for (int j = 0; j < NB; j++) acc[r][j] = fmaf(x, b[j], acc[r][j]);
                }
            }
            for (int r = 0; r < mr; r++) {
                float *c = C + (size_t)(i0 + r) * ldc + j0;
                if (nb == NB && beta == 0.0f)
                    for (int j = 0; j < NB; j++) c[j] = acc[r][j];
                else if (nb == NB)
                    for (int j = 0; j < NB; j++) c[j] = c[j] + acc[r][j];
                else if (beta == 0.0f)
                    for (int j = 0; j < nb; j++) c[j] = acc[r][j];
                else
                    for (int j = 0; j < nb; j++) c[j] = c[j] + acc[r][j];
            }
        }
    }
}
