/* occam_gemm's small-product loop against BLIS on the same products (see perf/gemm_small.sh):
 * per shape, the median time of a call by each path (the loop called directly, also past the
 * limits where occam_gemm sends a product to BLIS), their ratio, and whether the two gave the
 * same bits. Both run single-threaded here; with THREADS = 2 a second thread of the
 * process calls the same path at the same time (as occam's team does), each on its own
 * matrices. */
#include <blis.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/runtime/gemm_small.h"
#include "occam/clock.h"
#include "occam/gemm.h"

static void blis_call(int m, int n, int k, const float *A, const float *B, float *C)
{
    float one = 1.0f, zero = 0.0f;
    rntm_t rntm = BLIS_RNTM_INITIALIZER;
    bli_rntm_set_num_threads(1, &rntm);
    bli_rntm_disable_l3_sup(&rntm); /* as occam_gemm calls BLIS */
    bli_sgemm_ex(BLIS_NO_TRANSPOSE, BLIS_TRANSPOSE, m, n, k, &one, (float *)A, k, 1, (float *)B,
                 k, 1, &zero, C, n, 1, NULL, &rntm);
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median over 9 rounds of the time per call, in µs, of `reps` calls by one path. */
static double time_path(int path, int threads, int m, int n, int k, float **A, float **B,
                        float **C, long reps)
{
    double t[9];
    for (int round = 0; round < 9; round++) {
        double t0 = 0, t1 = 0;
#pragma omp parallel num_threads(threads)
        {
            int id = omp_get_thread_num();
#pragma omp barrier
#pragma omp master
            t0 = occam_clock_now();
            for (long r = 0; r < reps; r++) {
                if (path) blis_call(m, n, k, A[id], B[id], C[id]);
                else gemm_small(false, true, m, n, k, A[id], k, B[id], k, 0.0f, C[id], n);
            }
#pragma omp barrier
#pragma omp master
            t1 = occam_clock_now();
        }
        t[round] = (t1 - t0) / (double)reps * 1e6;
    }
    qsort(t, 9, sizeof *t, cmp);
    return t[4];
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    if (threads < 1 || threads > 2) threads = 1;
    printf("# BLIS kernels %s, %d thread%s calling at once; op(A)·op(B)ᵀ as a layer's forward; "
           "occam_gemm %s the loop\n", occam_gemm_init(), threads, threads > 1 ? "s" : "",
           occam_gemm_small_loop() ? "uses" : "does not use");
    /* A 10-50-1 net's shard of 8 or 16 rows, LeNet's last layers at 64 rows, products with
     * k of 1 to 4 (a first layer of one or two inputs, a shard of a few rows), and sizes on
     * both sides of the loop's limits (2^17 multiply-adds, 2^13 elements of C). */
    static const int shapes[][3] = {
        {8, 50, 10},   {16, 50, 10},   {8, 1, 50},     {64, 10, 100}, {64, 100, 10},
        {32, 64, 64},  {64, 128, 16},  {256, 512, 1},  {128, 1024, 1}, {256, 256, 2},
        {128, 256, 4}, {512, 64, 4},   {64, 64, 64},   {64, 128, 128}, {128, 128, 128}};
    printf("%-16s %9s %9s %7s %s\n", "m×n×k", "blis_us", "loop_us", "ratio", "same bits");
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        int m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
        float *A[2], *B[2], *C[2], *R = malloc(sizeof(float) * m * n);
        for (int t = 0; t < 2; t++) {
            A[t] = malloc(sizeof(float) * m * k), B[t] = malloc(sizeof(float) * n * k);
            C[t] = malloc(sizeof(float) * m * n);
            for (int i = 0; i < m * k; i++) A[t][i] = (float)((i * 37 % 101) - 50) / 50.0f;
            for (int i = 0; i < n * k; i++) B[t][i] = (float)((i * 53 % 97) - 48) / 48.0f;
        }
        blis_call(m, n, k, A[0], B[0], R);
        gemm_small(false, true, m, n, k, A[0], k, B[0], k, 0.0f, C[0], n);
        bool same = memcmp(R, C[0], sizeof(float) * m * n) == 0;
        long reps = 2000000L / (m * n * k / 64 + 50) + 10;
        double b = time_path(1, threads, m, n, k, A, B, C, reps);
        double o = time_path(0, threads, m, n, k, A, B, C, reps);
        char name[32];
        snprintf(name, sizeof name, "%d×%d×%d", m, n, k);
        printf("%-16s %9.2f %9.2f %7.2f %s%s\n", name, b, o, o / b, same ? "yes" : "NO",
               gemm_small_takes(m, n, k, 1.0f, 0.0f) ? "" : " (occam_gemm: BLIS)");
        for (int t = 0; t < 2; t++) free(A[t]), free(B[t]), free(C[t]);
        free(R);
    }
    return 0;
}
