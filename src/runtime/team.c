/* Thread count resolution, the team runner every parallel region goes through, and the pure
 * work splits used by every parallel pass. */
#include "occam/team.h"

#include <omp.h>
#include <sched.h>
#include <unistd.h>

int occam_team_cores(void)
{
    /* libgomp's count of the CPUs this process may use, taken before it binds the initial
     * thread: with OMP_PLACES or OMP_PROC_BIND set, the main thread's own affinity mask has
     * already shrunk to one place by the time main() runs. */
    int procs = omp_get_num_procs();
    if (procs > 0) return procs;
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0) return n;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

int occam_team_resolve(int requested, bool oversubscribe, const char *origin, int *threads,
                       occam_error *err)
{
    int cores = occam_team_cores();
    if (requested < 0)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s = %d: must be >= 0 (0 = all cores)",
                               origin, requested);
    if (requested == 0) {
        *threads = cores;
        return OCCAM_OK;
    }
    if (requested > cores && !oversubscribe)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "%s = %d: more threads than the %d cores this process may use; "
                               "set runtime.oversubscribe = true to allow it",
                               origin, requested, cores);
    *threads = requested;
    return OCCAM_OK;
}

int occam_team_run(int nt, const occam_affinity *aff, occam_team_fn fn, void *ctx,
                   occam_error *err)
{
    OCCAM_ASSERT(nt >= 1 && fn);
    /* With dynamic adjustment on, OpenMP may legally start fewer threads than num_threads
     * asks for; off, only the thread limit and nesting can shorten the team. It stays off for
     * the process (OMP_DYNAMIC=true is overridden): every team occam starts needs its size. */
    omp_set_dynamic(0);
    void (*bind)(void *, int) = aff ? aff->bind : NULL;
    void *bind_ctx = aff ? aff->ctx : NULL;
    int got = nt;
#pragma omp parallel num_threads(nt) default(none) shared(got) \
    firstprivate(nt, fn, ctx, bind, bind_ctx)
    {
        /* Every thread reads the same team size, so all of them take the same branch without
         * talking to each other: on a short team none runs fn. */
        int size = omp_get_num_threads(), t = omp_get_thread_num();
        if (size != nt) {
            if (t == 0) got = size;
        } else {
            if (bind) bind(bind_ctx, t);
            fn(ctx, t, nt);
        }
    }
    if (got != nt)
        return occam_error_set(err, OCCAM_ERR_RUNTIME,
                               "OpenMP gave %d thread%s, %d asked for: check OMP_THREAD_LIMIT, "
                               "and that no team is started inside another (nesting is off)",
                               got, got == 1 ? "" : "s", nt);
    return OCCAM_OK;
}

void occam_team_split_rows(size_t n, int t, int nt, size_t *lo, size_t *hi)
{
    size_t q = n / (size_t)nt, r = n % (size_t)nt, ut = (size_t)t;
    *lo = ut * q + (ut < r ? ut : r);
    *hi = *lo + q + (ut < r ? 1 : 0);
}

void occam_team_split_aligned(size_t n, size_t align, int t, int nt, size_t *lo, size_t *hi)
{
    size_t units = (n + align - 1) / align;
    size_t ulo, uhi;
    occam_team_split_rows(units, t, nt, &ulo, &uhi);
    *lo = ulo * align < n ? ulo * align : n;
    *hi = uhi * align < n ? uhi * align : n;
}

bool occam_team_in_parallel(void) { return omp_in_parallel(); }
