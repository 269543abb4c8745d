/* occam/gemm.h — the one door to BLIS (and, for small products, past it).
 *
 * occam_gemm is C = alpha·op(A)·op(B) + beta·C on row-major float32 with leading dimensions,
 * run single-threaded by the calling worker (a per-call BLIS runtime object set to one thread):
 * parallelism comes from occam's own team, never from BLIS, so cores are never oversubscribed.
 *
 * occam_gemm_init must run once, before any worker thread starts. It also picks BLIS's kernel
 * set: Debian's BLIS 0.9 does not recognise newer CPUs (AMD Zen 4/5, recent Intel) and falls back
 * to its portable "generic" kernels, four times slower than its AVX-512 ones on such machines.
 * Unless the user has set BLIS_ARCH_TYPE, occam chooses by CPU features: AVX-512 (F, DQ, BW, VL)
 * selects skx, AVX2 + FMA selects haswell, anything else is left to BLIS. */
#ifndef OCCAM_GEMM_H
#define OCCAM_GEMM_H

#include <stdbool.h>

#include "occam/error.h"

/* Idempotent. Returns the name of the kernel set BLIS is using (e.g. "skx"). A BLIS_ARCH_TYPE
 * that occam_gemm_check_env refuses is dropped here with a warning (BLIS would abort on it). */
const char *occam_gemm_init(void);

/* Checks BLIS_ARCH_TYPE before BLIS reads it: unset, -1, or a kernel set this BLIS has and this
 * CPU can run, given by number (BLIS's arch_t) or by name ("skx", "haswell", ...; a name is
 * rewritten as its number, which is all BLIS 0.9 reads). Anything else is OCCAM_ERR_INPUT
 * naming the variable and the values this machine accepts: BLIS itself would abort on an
 * unknown value, and die on an illegal instruction with kernels the CPU cannot run. */
int occam_gemm_check_env(occam_error *err);

/* Whether occam_gemm_init overrode BLIS's own CPU detection. */
bool occam_gemm_arch_overridden(void);

/* Whether occam_gemm gives small products to its own loop (src/runtime/gemm_small.h): only on
 * a build with FMA, and only beside BLIS kernel sets whose bits the loop's are (skx, haswell,
 * zen, zen2, zen3, excavator: tested), so that no result depends on which of the two took a
 * product; with sandybridge, penryn or generic every product goes to BLIS. Calls
 * occam_gemm_init. */
bool occam_gemm_small_loop(void);

/* BLIS allocates its packing buffers from a shared pool that grows, by malloc, whenever more
 * threads pack at the same time than ever before, and it aborts the process when that malloc
 * fails. Call this serially before a team of `threads` threads multiplies: the first time a
 * team is that large it checks that the buffers can be had (OCCAM_ERR_RUNTIME "out of memory
 * ..." when not), then has that many threads multiply at once, so the pool holds a set per
 * thread before any work starts. Afterwards it is one comparison. Every entry point that
 * starts a multiplying team calls it (trainer, sparse and dense inference, the description
 * length), so a short machine fails with a message, not an abort. */
int occam_gemm_prepare(int threads, occam_error *err);

/* C (m×n, ldc) = alpha · op(A) · op(B) + beta · C, all row-major.
 * op(A) is m×k: A is m×k (lda ≥ k) or, if ta, k×m (lda ≥ m). op(B) is k×n likewise.
 * Single-threaded. m, n or k may be 0 (k = 0 scales C by beta).
 * Small products (alpha = 1, beta 0 or 1, k ≤ 256, at most 2^17 multiply-adds and 2^13
 * elements of C, on a build with FMA) skip BLIS, whose per-call cost is ten times their
 * arithmetic: occam's own loop sums each element by fused multiply-adds in k's order, the
 * bits BLIS's skx kernels give (src/runtime/gemm_small.h). */
void occam_gemm(bool ta, bool tb, int m, int n, int k, float alpha, const float *A, int lda,
                const float *B, int ldb, float beta, float *C, int ldc);

/* occam_gemm in double: the same contract (row-major, single-threaded, deterministic for a
 * given kernel set). For sums that float32 would round away (a Gram matrix whose eigenvalues
 * span many decades). */
void occam_dgemm(bool ta, bool tb, int m, int n, int k, double alpha, const double *A, int lda,
                 const double *B, int ldb, double beta, double *C, int ldc);


/* Measures single-threaded sgemm GFLOP/s for an m×n×k product on `threads` threads, each on
 * its own matrices at once (the per-core ceiling times the thread count, as occam_gemm runs
 * it: a small product by occam's own loop, the rest by BLIS): *gflops is the median of `reps`
 * timed calls after one warm-up. Used by benchmarks.
 * OCCAM_ERR_RUNTIME when the matrices do not fit or the team cannot be started at full size. */
int occam_gemm_rate(int m, int n, int k, int threads, int reps, double *gflops, occam_error *err);

/* BLIS's own multithreaded sgemm: one m×n×k product split by BLIS over `threads` threads
 * (its OpenMP team), called from a single thread. *gflops is the median of `reps` calls. This
 * is the yardstick for occam's own scaling: what BLIS itself gains from more cores.
 * OCCAM_ERR_RUNTIME when the matrices do not fit or the threads cannot be started. */
int occam_gemm_rate_blis_mt(int m, int n, int k, int threads, int reps, double *gflops,
                            occam_error *err);

#endif
