/* occam/team.h — how many threads, who owns what, and the one place a team is started.
 *
 * All threading policy lives in the runtime: callers ask here how many threads to start, start
 * them with occam_team_run (every OpenMP parallel region in occam goes through it) and split
 * rows and parameters between them. The split functions are pure, so tests can check them
 * without starting a thread. */
#ifndef OCCAM_TEAM_H
#define OCCAM_TEAM_H

#include <stdbool.h>
#include <stddef.h>

#include "occam/error.h"

/* Where a team runs. node_of[t] is thread t's NUMA group (0..groups-1; NULL: one group); it
 * shapes the reduction and, with runtime.weights = replicate, which weight copy a thread reads.
 * bind(ctx, t), if set, is called by thread t before it first touches its buffers. */
typedef struct occam_affinity {
    const int *node_of;
    void (*bind)(void *ctx, int t);
    void *ctx;
} occam_affinity;

/* Cores this process may run on (its CPU affinity mask and OpenMP's places). */
int occam_team_cores(void);

/* OpenMP's limit on the threads of every team (OMP_THREAD_LIMIT; INT_MAX when unset). */
int occam_team_thread_limit(void);

/* The CPUs a cgroup CPU quota lets this process use, rounded up: the smallest over its cgroup
 * and their ancestors of cgroup v2's cpu.max ("QUOTA PERIOD") or v1's cpu.cfs_quota_us /
 * cpu.cfs_period_us. 0 when no quota applies or none can be read. proc_cgroup is the process's
 * /proc/self/cgroup, fs_root the cgroup mount (/sys/fs/cgroup); tests pass a fake tree. A
 * container limited to 2 CPUs on a 64-core host sees all 64 in its affinity mask. */
int occam_team_cgroup_cpus(const char *proc_cgroup, const char *fs_root);

/* Whether a team of nt threads may start in this environment: OpenMP's places (OMP_PLACES,
 * GOMP_CPU_AFFINITY) must name CPUs this machine has, and the worker stack OMP_STACKSIZE (or
 * GOMP_STACKSIZE) sets must not be below 64K, where BLIS's kernels would overflow it (one
 * thread runs on the main stack and always may). Else OCCAM_ERR_INPUT naming the variable.
 * occam_team_resolve and occam_team_run check it. */
int occam_team_check_env(int nt, occam_error *err);

/* Whether OMP_PROC_BIND's first item is false: OpenMP binds no thread, whatever OMP_PLACES or
 * GOMP_CPU_AFFINITY say. Read from the environment. */
bool occam_team_binding_off(void);

/* Resolves runtime.threads: 0 means all cores; more threads than cores is refused unless
 * `oversubscribe`. `origin` names the setting in the message (e.g. "runtime.threads"). */
int occam_team_resolve(int requested, bool oversubscribe, const char *origin, int *threads,
                       occam_error *err);

/* The work of thread t of a team of nt (0 <= t < nt). It may synchronise the team with
 * `#pragma omp barrier`: an orphaned barrier binds to occam_team_run's region, so every
 * thread must reach the same barriers. Several threads run it at once on the same ctx. */
typedef void (*occam_team_fn)(void *ctx, int t, int nt);

/* Runs fn(ctx, t, nt) once for every t in [0, nt), on a team of exactly nt threads (OpenMP's
 * dynamic adjustment is switched off first), each thread first calling aff->bind(aff->ctx, t)
 * if aff and aff->bind are set (aff->node_of is not used here). Returns when every thread is
 * done. nt >= 1 (asserted); nt == 1 still opens a region of one thread, so a barrier in fn
 * never binds to an enclosing team.
 * When OpenMP gives fewer threads than nt (OMP_THREAD_LIMIT, or a team started inside
 * another's worker while nesting is off, OpenMP's default) no thread runs fn and it fails
 * with OCCAM_ERR_RUNTIME, naming both counts: code that splits work by nt never runs on a
 * short team. Callers that promise not to fail can take that as a cue to run their serial
 * path instead. A team larger than any before first checks that its new threads' stacks can be
 * mapped: OCCAM_ERR_RUNTIME "out of memory: cannot start N threads ..." when not, where
 * libgomp would end the process. */
int occam_team_run(int nt, const occam_affinity *aff, occam_team_fn fn, void *ctx,
                   occam_error *err);

/* Whether the caller is inside a team (a worker of occam_team_run): for the asserts of code that
 * starts its own team and so must not be nested. */
bool occam_team_in_parallel(void);

/* Rows [*lo, *hi) of n for thread t of nt: contiguous, sizes differ by at most one. */
void occam_team_split_rows(size_t n, int t, int nt, size_t *lo, size_t *hi);

/* Part t of [0, n) in units of `align` elements (a cache line of floats), contiguous and
 * ordered by t; the last part takes the remainder. */
void occam_team_split_aligned(size_t n, size_t align, int t, int nt, size_t *lo, size_t *hi);

#endif
