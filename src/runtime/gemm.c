/* BLIS wrapper: kernel-set selection, single-threaded sgemm (small products by occam's own
 * loop, gemm_small.c), a naive reference and a ceiling probe. All BLIS calls in occam go
 * through this file. */
#include "occam/gemm.h"

#include "occam/clock.h"

#include <blis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gemm_small.h"
#ifdef OCCAM_GEMM_ASAN
#include <sanitizer/asan_interface.h>
#endif
#include "occam/error.h"
#include "occam/mem.h"
#include "occam/team.h"

static bool arch_overridden;
static bool blas_ready;
static bool small_agrees; /* set by occam_gemm_init: the small loop gives BLIS's bits here */

/* ---- BLIS_ARCH_TYPE ---------------------------------------------------------------------- */

/* CPU features a kernel set needs: BLIS's own tests when it picks one by itself. BLIS takes
 * BLIS_ARCH_TYPE on trust, and a kernel set this build lacks makes it abort, one this CPU
 * cannot run dies on an illegal instruction. */
enum {
    GEMM_SSE3 = 1 << 0,
    GEMM_SSSE3 = 1 << 1,
    GEMM_AVX = 1 << 2,
    GEMM_FMA = 1 << 3,
    GEMM_AVX2 = 1 << 4,
    GEMM_FMA4 = 1 << 5,
    GEMM_AVX512 = 1 << 6, /* F, DQ, BW and VL */
    GEMM_AVX512PF = 1 << 7,
};

typedef struct gemm_arch {
    int id;         /* BLIS's arch_t */
    unsigned needs; /* GEMM_* */
} gemm_arch;

/* The kernel sets this BLIS was built with (its BLIS_CONFIG_* macros). */
static const gemm_arch gemm_archs[] = {
#ifdef BLIS_CONFIG_SKX
    {BLIS_ARCH_SKX, GEMM_AVX | GEMM_FMA | GEMM_AVX2 | GEMM_AVX512},
#endif
#ifdef BLIS_CONFIG_KNL
    {BLIS_ARCH_KNL, GEMM_AVX | GEMM_FMA | GEMM_AVX2 | GEMM_AVX512PF},
#endif
#ifdef BLIS_CONFIG_HASWELL
    {BLIS_ARCH_HASWELL, GEMM_AVX | GEMM_FMA | GEMM_AVX2},
#endif
#ifdef BLIS_CONFIG_SANDYBRIDGE
    {BLIS_ARCH_SANDYBRIDGE, GEMM_AVX},
#endif
#ifdef BLIS_CONFIG_PENRYN
    {BLIS_ARCH_PENRYN, GEMM_SSE3 | GEMM_SSSE3},
#endif
#ifdef BLIS_CONFIG_ZEN3
    {BLIS_ARCH_ZEN3, GEMM_AVX | GEMM_FMA | GEMM_AVX2},
#endif
#ifdef BLIS_CONFIG_ZEN2
    {BLIS_ARCH_ZEN2, GEMM_AVX | GEMM_FMA | GEMM_AVX2},
#endif
#ifdef BLIS_CONFIG_ZEN
    {BLIS_ARCH_ZEN, GEMM_AVX | GEMM_FMA | GEMM_AVX2},
#endif
#ifdef BLIS_CONFIG_EXCAVATOR
    {BLIS_ARCH_EXCAVATOR, GEMM_AVX | GEMM_FMA | GEMM_AVX2},
#endif
#ifdef BLIS_CONFIG_STEAMROLLER
    {BLIS_ARCH_STEAMROLLER, GEMM_AVX | GEMM_FMA | GEMM_FMA4},
#endif
#ifdef BLIS_CONFIG_PILEDRIVER
    {BLIS_ARCH_PILEDRIVER, GEMM_AVX | GEMM_FMA | GEMM_FMA4},
#endif
#ifdef BLIS_CONFIG_BULLDOZER
    {BLIS_ARCH_BULLDOZER, GEMM_AVX | GEMM_FMA4},
#endif
#ifdef BLIS_CONFIG_THUNDERX2
    {BLIS_ARCH_THUNDERX2, 0},
#endif
#ifdef BLIS_CONFIG_CORTEXA57
    {BLIS_ARCH_CORTEXA57, 0},
#endif
#ifdef BLIS_CONFIG_CORTEXA53
    {BLIS_ARCH_CORTEXA53, 0},
#endif
#ifdef BLIS_CONFIG_POWER9
    {BLIS_ARCH_POWER9, 0},
#endif
#ifdef BLIS_CONFIG_GENERIC
    {BLIS_ARCH_GENERIC, 0},
#endif
};
#define GEMM_NARCHS (int)(sizeof gemm_archs / sizeof gemm_archs[0])

static unsigned gemm_cpu_features(void)
{
    unsigned f = 0;
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("sse3")) f |= GEMM_SSE3;
    if (__builtin_cpu_supports("ssse3")) f |= GEMM_SSSE3;
    if (__builtin_cpu_supports("avx")) f |= GEMM_AVX;
    if (__builtin_cpu_supports("fma")) f |= GEMM_FMA;
    if (__builtin_cpu_supports("avx2")) f |= GEMM_AVX2;
    if (__builtin_cpu_supports("fma4")) f |= GEMM_FMA4;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
        f |= GEMM_AVX512;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512pf"))
        f |= GEMM_AVX512PF;
#else
    f = ~0u; /* no x86 kernel set is built in; the others' needs are not checked */
#endif
    return f;
}

/* "0 (skx), 3 (haswell), ...": the values this CPU can use. */
static void gemm_arch_list(char *buf, size_t cap)
{
    unsigned have = gemm_cpu_features();
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i < GEMM_NARCHS && n < cap; i++)
        if ((gemm_archs[i].needs & ~have) == 0)
            n += (size_t)snprintf(buf + n, cap - n, "%s%d (%s)", n ? ", " : "", gemm_archs[i].id,
                                  bli_arch_string((arch_t)gemm_archs[i].id));
}

int occam_gemm_check_env(occam_error *err)
{
    const char *v = getenv("BLIS_ARCH_TYPE");
    if (!v || blas_ready) return OCCAM_OK; /* unset, or BLIS has read it already */
    if (!*v) { /* set empty: taken as unset (BLIS would read it as 0, skx) */
        unsetenv("BLIS_ARCH_TYPE");
        return OCCAM_OK;
    }
    char shown[64];
    occam_error_quote(shown, sizeof shown, v, strlen(v), 16);
    int found = -1;
    char *end;
    long id = strtol(v, &end, 10);
    bool number = end != v && *end == '\0';
    if (number && id == -1) return OCCAM_OK; /* BLIS's own "not set": it detects */
    for (int i = 0; i < GEMM_NARCHS && found < 0; i++)
        if (number ? id == gemm_archs[i].id
                   : !strcasecmp(v, bli_arch_string((arch_t)gemm_archs[i].id)))
            found = i;
    char list[512];
    gemm_arch_list(list, sizeof list);
    if (found < 0)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "BLIS_ARCH_TYPE=%s: not a kernel set of this BLIS; use one of %s "
                               "(a number or its name), or unset it to let occam choose",
                               shown, list);
    const char *name = bli_arch_string((arch_t)gemm_archs[found].id);
    if (gemm_archs[found].needs & ~gemm_cpu_features())
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "BLIS_ARCH_TYPE=%s: the %s kernels need instructions this CPU "
                               "lacks; use one of %s, or unset it to let occam choose",
                               shown, name, list);
    if (!number) { /* BLIS 0.9 reads numbers only */
        char buf[16];
        snprintf(buf, sizeof buf, "%d", gemm_archs[found].id);
        setenv("BLIS_ARCH_TYPE", buf, 1);
    }
    return OCCAM_OK;
}

static void choose_arch(void)
{
    occam_error err;
    if (occam_gemm_check_env(&err) != OCCAM_OK) {
        /* The command line refuses such a value before anything runs (cli_setup); a caller
         * that did not ask gets occam's choice and a warning, not BLIS's abort. */
        fprintf(stderr, "occam: warning: %s; ignoring it\n", err.msg);
        unsetenv("BLIS_ARCH_TYPE");
    }
    if (getenv("BLIS_ARCH_TYPE")) return; /* the user's choice wins */
#if defined(__x86_64__)
    __builtin_cpu_init();
    int id = -1;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
        id = BLIS_ARCH_SKX;
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        id = BLIS_ARCH_HASWELL;
    if (id >= 0) {
        char buf[16];
        snprintf(buf, sizeof buf, "%d", id);
        setenv("BLIS_ARCH_TYPE", buf, 0);
        arch_overridden = true;
    }
#endif
}

/* BLIS's own product, on the calling thread, by its packed ("conventional") kernels only.
 * Its small/unpacked (sup) kernels, which the haswell and zen sets have for small and skinny
 * products, sum each element in another order than the packed kernels, and BLIS picks them by
 * the product's shape: a thread's share of a product then rounded by the thread count (the
 * owner path's weights at 1 and 2 threads differed in 3,517 of layer 0's 6,000 under haswell).
 * The packed kernels sum each element over k in blocks of BLIS's KC for the kernel set, the
 * same whatever m and n. */
static void blis_sgemm(bool ta, bool tb, int m, int n, int k, float alpha, const float *A,
                       int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
    /* A fresh runtime object per call: BLIS reads its thread count from here, never from the
     * global setting, so a call from inside occam's team stays on this thread. */
    rntm_t rntm = BLIS_RNTM_INITIALIZER;
    bli_rntm_set_num_threads(1, &rntm);
    bli_rntm_disable_l3_sup(&rntm);
    bli_sgemm_ex(ta ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE, tb ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE,
                 m, n, k, &alpha, (float *)A, lda, 1, (float *)B, ldb, 1, &beta, C, ldc, 1,
                 NULL, &rntm);
}

/* Whether the small loop's sums (ordered fused multiply-adds from +0, k ≤ GEMM_SMALL_KMAX) are
 * those of BLIS's packed kernels in the set `arch`, bit for bit: then which of the two takes a
 * product (by its size, so by a thread's share of it) changes no result. The sets whose kernels
 * fuse and sum k in order within a block of KC ≥ 256, each checked against BLIS on this CPU by
 * tests/test_gemm.c (one test per set). Not sandybridge, penryn or generic (not fused), nor the
 * sets no test here could run (knl, the FMA4 ones), nor any set of another BLIS release (its
 * kernels and blocks may differ): there every product goes to BLIS. (A probe at start-up would
 * multiply through BLIS before occam_gemm_prepare has checked that its buffers can be had, and
 * BLIS aborts when their malloc fails.) */
static bool small_matches_blis(const char *arch)
{
    static const char *const fused[] = {"skx", "haswell", "zen", "zen2", "zen3", "excavator"};
    if (!gemm_small_takes(1, 1, 1, 1.0f, 0.0f)) return false; /* a build without FMA */
    if (strcmp(bli_info_get_version_str(), "0.9.0")) return false; /* the table's release */
    for (size_t i = 0; i < sizeof fused / sizeof *fused; i++)
        if (!strcmp(arch, fused[i])) return true;
    return false;
}

const char *occam_gemm_init(void)
{
    if (!blas_ready) {
        choose_arch();
        bli_init();
        blas_ready = true;
        small_agrees = small_matches_blis(bli_arch_string(bli_arch_query_id()));
    }
    return bli_arch_string(bli_arch_query_id());
}

bool occam_gemm_small_loop(void)
{
    occam_gemm_init();
    return small_agrees;
}

bool occam_gemm_arch_overridden(void) { return arch_overridden; }

/* The largest team the pool has been grown for. Read and written only by serial code. */
static int prepared_threads;

typedef struct prepare_team {
    size_t share; /* bytes each thread must be able to hold at once (0: the pool only) */
    int k;        /* the multiply's inner dimension: its length in time */
    int ok;       /* cleared (atomically) by any thread that could not */
} prepare_team;

static void prepare_worker(void *ctx, int t, int nt)
{
    (void)t;
    (void)nt;
    prepare_team *pt = ctx;
    enum { M = 512, N = 512 };
    size_t K = (size_t)pt->k;
    void *probe = pt->share ? malloc(pt->share) : NULL;
    float *buf = occam_alloc_zero((size_t)M * K + K * N + (size_t)M * N, sizeof(float));
    if ((pt->share && !probe) || !buf) {
#pragma omp atomic write
        pt->ok = 0;
    }
#pragma omp barrier /* every share is held at once: together they must fit */
    free(probe);
#pragma omp barrier
    int go;
#pragma omp atomic read
    go = pt->ok;
    if (go)
        occam_gemm(false, false, M, N, (int)K, 1.0f, buf, (int)K, buf + M * K, N, 0.0f,
                   buf + M * K + K * N, N);
    free(buf);
}

/* Whether BLIS's pools of A and B blocks hold a block for each of `threads` at once (read in
 * serial code, between teams). */
static bool pool_holds(int threads)
{
    pba_t *pba = bli_pba_query();
    return bli_pool_num_blocks(&pba->pools[0]) >= (siz_t)threads &&
           bli_pool_num_blocks(&pba->pools[1]) >= (siz_t)threads;
}

int occam_gemm_prepare(int threads, occam_error *err)
{
    if (threads <= prepared_threads) return OCCAM_OK;
    occam_gemm_init();
    /* BLIS sizes its pool blocks for the largest datatype's blocking, whatever is multiplied
     * (17 MB for B with the skx kernels, against 4.7 MB for float's own KC × NC). */
    cntx_t *cntx = bli_gks_query_cntx();
    size_t block_a = 0, block_b = 0;
    num_t dts[4] = {BLIS_FLOAT, BLIS_DOUBLE, BLIS_SCOMPLEX, BLIS_DCOMPLEX};
    for (int d = 0; d < 4; d++) {
        size_t mc = (size_t)bli_cntx_get_blksz_max_dt(dts[d], BLIS_MC, cntx);
        size_t kc = (size_t)bli_cntx_get_blksz_max_dt(dts[d], BLIS_KC, cntx);
        size_t nc = (size_t)bli_cntx_get_blksz_max_dt(dts[d], BLIS_NC, cntx);
        size_t sz = (size_t)bli_dt_size(dts[d]);
        if (mc * kc * sz > block_a) block_a = mc * kc * sz;
        if (kc * nc * sz > block_b) block_b = kc * nc * sz;
    }
    /* Per thread: an A and a B block, twice over, plus slack for BLIS's bookkeeping. Every
     * thread allocates its share, all shares are held at once, then freed; then all threads
     * multiply at once, ~0.5 ms each (far longer than the barrier's skew), so every thread
     * holds an A and a B block at the same moment and the pool grows to a set each. (The CLI
     * keeps glibc to one arena, so no thread's first malloc reserves address space of its own
     * behind these checks' backs: see src/cli/main.c.) */
    size_t share = 2 * (block_a + block_b) + ((size_t)8 << 20);
    prepare_team pt = {share, 256, 1};
    int rc = occam_team_run(threads, NULL, prepare_worker, &pt, err);
    /* Threads that share a CPU (a busy machine, taskset) need not overlap in a 0.5 ms
     * multiply: one returned its blocks before the other began, the pool kept one set, and
     * BLIS grew it in the first training step, where a failed malloc is its abort (exit 134
     * under ulimit -v). The pool is read, and the multiply made longer until the scheduler
     * interleaves the threads (its slices are a few ms). */
    static const int again[] = {256, 1024, 4096}; /* the short one once more first: cheap */
    for (int i = 0; i < 3 && rc == OCCAM_OK && pt.ok && !pool_holds(threads); i++) {
        prepare_team longer = {0, again[i], 1}; /* at most 2 × 8 MiB a thread, 20 ms or so */
        rc = occam_team_run(threads, NULL, prepare_worker, &longer, err);
        if (!longer.ok) break; /* no room for a longer one: the first step may grow the pool */
    }
    if (rc != OCCAM_OK) return rc;
    if (!pt.ok)
        return occam_error_set(err, OCCAM_ERR_RUNTIME,
                               "out of memory: BLIS needs about %zu MiB of packing buffers for "
                               "%d thread%s; free memory%s",
                               (share * (size_t)threads) >> 20, threads, threads == 1 ? "" : "s",
                               threads == 1 ? "" : " or use fewer threads (--threads)");
    prepared_threads = threads;
    return OCCAM_OK;
}

#ifdef OCCAM_GEMM_ASAN
/* Under AddressSanitizer: the first byte of the ROWS × COLS matrix at p (leading dimension
 * ld) that is not the program's to touch is read here, so that ASan reports it with the
 * caller's stack. Neither BLIS nor gemm_small is instrumented, and a product past its
 * operands' ends went unseen before (BLIS's side) or cost the sanitized tests their time
 * (gemm_small's, checked load by load). One scan of each operand's shadow (an eighth of
 * its bytes), small beside the multiply. */
static void operand_in_bounds(const void *p, size_t rows, size_t cols, size_t ld, size_t esize)
{
    if (rows == 0 || cols == 0) return;
    char *bad = __asan_region_is_poisoned((void *)p, ((rows - 1) * ld + cols) * esize);
    if (bad) (void)*(volatile char *)bad;
}

static void operands_in_bounds(bool ta, bool tb, size_t m, size_t n, size_t k, const void *A,
                               size_t lda, const void *B, size_t ldb, const void *C, size_t ldc,
                               size_t esize)
{
    operand_in_bounds(A, ta ? k : m, ta ? m : k, lda, esize);
    operand_in_bounds(B, tb ? n : k, tb ? k : n, ldb, esize);
    operand_in_bounds(C, m, n, ldc, esize);
}
#define OPERANDS_IN_BOUNDS(ta, tb, m, n, k, A, lda, B, ldb, C, ldc, esize)                     \
    operands_in_bounds(ta, tb, (size_t)(m), (size_t)(n), (size_t)(k), A, (size_t)(lda), B,     \
                       (size_t)(ldb), C, (size_t)(ldc), esize)
#else
#define OPERANDS_IN_BOUNDS(ta, tb, m, n, k, A, lda, B, ldb, C, ldc, esize) ((void)0)
#endif

void occam_gemm(bool ta, bool tb, int m, int n, int k, float alpha, const float *A, int lda,
                const float *B, int ldb, float beta, float *C, int ldc)
{
    if (m == 0 || n == 0) return;
    OPERANDS_IN_BOUNDS(ta, tb, m, n, k, A, lda, B, ldb, C, ldc, sizeof(float));
    if (small_agrees && gemm_small_takes(m, n, k, alpha, beta)) {
        gemm_small(ta, tb, m, n, k, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    blis_sgemm(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

void occam_dgemm(bool ta, bool tb, int m, int n, int k, double alpha, const double *A, int lda,
                 const double *B, int ldb, double beta, double *C, int ldc)
{
    if (m == 0 || n == 0) return;
    OPERANDS_IN_BOUNDS(ta, tb, m, n, k, A, lda, B, ldb, C, ldc, sizeof(double));
    rntm_t rntm = BLIS_RNTM_INITIALIZER; /* one thread, packed kernels: see blis_sgemm */
    bli_rntm_set_num_threads(1, &rntm);
    bli_rntm_disable_l3_sup(&rntm);
    bli_dgemm_ex(ta ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE, tb ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE,
                 m, n, k, &alpha, (double *)A, lda, 1, (double *)B, ldb, 1, &beta, C, ldc, 1,
                 NULL, &rntm);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct rate_team {
    int m, n, k, reps;
    double *times; /* thread 0's time per timed call */
    int ok;        /* cleared (atomically) by any thread without its matrices */
} rate_team;

static void rate_worker(void *ctx, int t, int nt)
{
    (void)nt;
    rate_team *rt = ctx;
    int m = rt->m, n = rt->n, k = rt->k;
    size_t sa = (size_t)m * k, sb = (size_t)k * n, sc = (size_t)m * n;
    float *buf = occam_alloc(sa + sb + sc, sizeof(float)); /* first touch by its user */
    if (!buf) {
#pragma omp atomic write
        rt->ok = 0;
    } else {
        for (size_t i = 0; i < sa + sb + sc; i++) buf[i] = (float)((i * 7 + t) % 13) * 0.01f;
    }
#pragma omp barrier
    int go;
#pragma omp atomic read
    go = rt->ok;
    for (int r = -1; r < rt->reps && go; r++) {
#pragma omp barrier
        double t0 = occam_clock_now();
        occam_gemm(false, false, m, n, k, 1.0f, buf, k, buf + sa, n, 0.0f, buf + sa + sb, n);
#pragma omp barrier
        if (t == 0 && r >= 0) rt->times[r] = occam_clock_now() - t0;
    }
    free(buf);
}

int occam_gemm_rate(int m, int n, int k, int threads, int reps, double *gflops, occam_error *err)
{
    OCCAM_ASSERT(threads >= 1 && reps >= 1 && reps <= 64);
    occam_gemm_init();
    /* every thread fills its own matrices: more than the machine has was not a failed malloc
     * but the OOM killer (bench gemm 65536 65536 1 2 on 24 GiB) */
    double need = ((double)m * k + (double)k * n + (double)m * n) * sizeof(float) * threads;
    double avail = (double)occam_mem_available(); /* reads /proc and the cgroup's files: once */
    if (need > avail)
        return occam_error_set(err, OCCAM_ERR_RUNTIME,
                               "out of memory for %d threads' %dx%dx%d sgemm benchmark matrices "
                               "(%.1f GiB, %.1f GiB available)", threads, m, n, k,
                               need / (1 << 30), avail / (1 << 30));
    double times[64];
    rate_team rt = {m, n, k, reps, times, 1};
    int rc = occam_team_run(threads, NULL, rate_worker, &rt, err);
    if (rc != OCCAM_OK) return rc;
    if (!rt.ok)
        return occam_error_set(err, OCCAM_ERR_RUNTIME,
                               "out of memory for %d threads' %dx%dx%d sgemm benchmark matrices",
                               threads, m, n, k);
    qsort(times, (size_t)reps, sizeof times[0], cmp_double);
    *gflops = 2.0 * m * n * k * threads / times[reps / 2] / 1e9;
    return OCCAM_OK;
}

static void no_work(void *ctx, int t, int nt)
{
    (void)ctx, (void)t, (void)nt;
}

int occam_gemm_rate_blis_mt(int m, int n, int k, int threads, int reps, double *gflops,
                            occam_error *err)
{
    OCCAM_ASSERT(threads >= 1 && reps >= 1 && reps <= 64);
    occam_gemm_init();
    /* BLIS's team comes from libgomp's pool, which ends the process when it cannot start a
     * thread: an empty occam team of that size first checks the stacks fit and fills the pool */
    int rc = occam_team_run(threads, NULL, no_work, NULL, err);
    if (rc != OCCAM_OK) return rc;
    size_t sa = (size_t)m * k, sb = (size_t)k * n, sc = (size_t)m * n;
    float *buf = (sa + sb + sc) * sizeof(float) <= occam_mem_available()
                     ? occam_alloc(sa + sb + sc, sizeof(float))
                     : NULL;
    if (!buf)
        return occam_error_set(err, OCCAM_ERR_RUNTIME,
                               "out of memory for the %dx%dx%d sgemm benchmark matrices", m, n,
                               k);
    for (size_t i = 0; i < sa + sb + sc; i++) buf[i] = (float)((i * 7) % 13) * 0.01f;
    rntm_t rntm = BLIS_RNTM_INITIALIZER;
    bli_rntm_set_num_threads(threads, &rntm);
    float one = 1.0f, zero = 0.0f;
    double times[64];
    for (int r = -1; r < reps; r++) {
        double t0 = occam_clock_now();
        bli_sgemm_ex(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, m, n, k, &one, buf, k, 1, buf + sa, n,
                     1, &zero, buf + sa + sb, n, 1, NULL, &rntm);
        if (r >= 0) times[r] = occam_clock_now() - t0;
    }
    free(buf);
    qsort(times, (size_t)reps, sizeof times[0], cmp_double);
    *gflops = 2.0 * m * n * k / times[reps / 2] / 1e9;
    return OCCAM_OK;
}
