/* occam/team.h — how many threads, and who owns what.
 *
 * All threading policy lives in the runtime: the trainer asks here how many threads to start
 * and how to split rows and parameters between them. The split functions are pure, so tests can
 * check them without starting a thread. */
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

/* Cores this process may run on (its CPU affinity mask). */
int occam_team_cores(void);

/* Resolves runtime.threads: 0 means all cores; more threads than cores is refused unless
 * `oversubscribe`. `origin` names the setting in the message (e.g. "runtime.threads"). */
int occam_team_resolve(int requested, bool oversubscribe, const char *origin, int *threads,
                       occam_error *err);

/* Rows [*lo, *hi) of n for thread t of nt: contiguous, sizes differ by at most one. */
void occam_split_rows(size_t n, int t, int nt, size_t *lo, size_t *hi);

/* Part t of [0, n) in units of `align` elements (a cache line of floats), contiguous and
 * ordered by t; the last part takes the remainder. */
void occam_split_aligned(size_t n, size_t align, int t, int nt, size_t *lo, size_t *hi);

#endif
