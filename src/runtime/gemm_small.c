/* Small products without BLIS's per-call cost: see gemm_small.h. */
#include "gemm_small.h"

#include <math.h>
#include <stddef.h>

/* A tile of C is GEMM_SMALL_MR rows by GEMM_SMALL_NB columns: four rows of sixteen floats, one
 * AVX-512 register (two AVX2 ones) per row. op(B)'s columns of a tile are copied first into a
 * k × 16 block on the stack (16 KiB at k = 256), zero-padded past n, so the inner loop reads
 * it in order whatever B's layout; copying changes no value. */
enum { GEMM_SMALL_MR = 4, GEMM_SMALL_NB = 16 };

bool gemm_small_takes(int m, int n, int k, float alpha, float beta)
{
#ifdef __FMA__
    return alpha == 1.0f && (beta == 0.0f || beta == 1.0f) && k >= 1 && k <= GEMM_SMALL_KMAX &&
           m >= 1 && n >= 1 && (size_t)m * (size_t)n * (size_t)k <= GEMM_SMALL_MACS;
#else
    (void)m, (void)n, (void)k, (void)alpha, (void)beta;
    return false;
#endif
}

static inline float op_a(bool ta, const float *A, int lda, int i, int p)
{
    return ta ? A[(size_t)p * lda + i] : A[(size_t)i * lda + p];
}

void gemm_small(bool ta, bool tb, int m, int n, int k, const float *A, int lda, const float *B,
                int ldb, float beta, float *C, int ldc)
{
    enum { MR = GEMM_SMALL_MR, NB = GEMM_SMALL_NB };
    float bt[GEMM_SMALL_KMAX * NB] __attribute__((aligned(64)));
    for (int j0 = 0; j0 < n; j0 += NB) {
        int nb = n - j0 < NB ? n - j0 : NB;
        for (int p = 0; p < k; p++)
            for (int j = 0; j < NB; j++)
                bt[p * NB + j] = j >= nb ? 0.0f
                                 : tb    ? B[(size_t)(j0 + j) * ldb + p]
                                         : B[(size_t)p * ldb + j0 + j];
        for (int i0 = 0; i0 < m; i0 += MR) {
            int mr = m - i0 < MR ? m - i0 : MR;
            float acc[MR][NB] __attribute__((aligned(64))) = {{0}};
            for (int p = 0; p < k; p++) {
                const float *b = bt + p * NB;
                for (int r = 0; r < MR; r++) {
                    float a = r < mr ? op_a(ta, A, lda, i0 + r, p) : 0.0f;
#pragma omp simd
                    for (int j = 0; j < NB; j++) acc[r][j] = fmaf(a, b[j], acc[r][j]);
                }
            }
            for (int r = 0; r < mr; r++) {
                float *c = C + (size_t)(i0 + r) * ldc + j0;
                if (beta == 0.0f)
                    for (int j = 0; j < nb; j++) c[j] = acc[r][j];
                else
                    for (int j = 0; j < nb; j++) c[j] = c[j] + acc[r][j];
            }
        }
    }
}
