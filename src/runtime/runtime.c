/* Topology + plan + binding hook for the trainer (see include/occam/runtime.h). */
#include "occam/runtime.h"

#include "occam/comm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Appends "; msg" (or msg), truncating at the buffer's end. */
static void append_notice(occam_runtime *rt, const char *msg)
{
    size_t len = strlen(rt->notice), cap = sizeof rt->notice;
    if (!*msg || len + 3 >= cap) return;
    if (len) {
        memcpy(rt->notice + len, "; ", 2);
        len += 2;
    }
    size_t n = strlen(msg);
    if (n > cap - 1 - len) n = cap - 1 - len;
    memcpy(rt->notice + len, msg, n);
    rt->notice[len + n] = 0;
}

/* Called by trainer thread t before it touches its buffers. */
static void bind_hook(void *ctx, int t)
{
    occam_runtime *rt = ctx;
    /* On the heap: a worker's stack may be small (OMP_STACKSIZE), and the record is not. */
    occam_error *err = calloc(1, sizeof *err);
    if (occam_topo_bind_self(rt->tp, &rt->plan, t, err) != OCCAM_OK) {
        int first;
#pragma omp atomic capture
        first = rt->bind_failed++;
        if (first == 0) {
#pragma omp critical(occam_runtime_notice)
            append_notice(rt, err ? err->msg : "runtime.bind: a thread could not be bound");
        }
    }
    free(err);
}

occam_bind occam_runtime_rank_bind(occam_bind bind, const char **why)
{
    const occam_comm *w = occam_comm_world();
    *why = NULL;
    if (w->local_size > 1 && !w->cores_shared && bind == OCCAM_BIND_CORE) {
        *why = "mpirun bound this rank to its own CPUs: runtime.bind left to it";
        return OCCAM_BIND_NONE;
    }
    return bind;
}

int occam_runtime_cap_auto(const occam_topo *t, occam_topo_params p)
{
    /* The automatic count is one thread per CPU the process may use, the plan's one per core:
     * on a machine with hyperthreads (8 CPUs, 4 cores) the default run was refused ("more
     * threads than the 4 cores of the topology"). Automatic, it takes at most the cores. */
    occam_topo_params probe = p;
    probe.threads = 0; /* the plan's own count: one per core of this rank's part */
    occam_topo_plan cores;
    occam_error ignored;
    if (occam_topo_plan_create(&cores, t, probe, &ignored) == OCCAM_OK) {
        if (cores.threads < p.threads) p.threads = cores.threads;
        occam_topo_plan_free(&cores);
    }
    return p.threads;
}

int occam_runtime_open(occam_runtime *rt, const occam_runtime_params *p, int threads,
                       const char *origin, occam_error *err)
{
    memset(rt, 0, sizeof *rt);
    rt->params = *p;
    int rc = occam_topo_open(&rt->tp, p->topology, err);
    if (rc != OCCAM_OK) return rc;
    /* Ranks on one host: left on the same CPUs by mpirun (--bind-to none), they divide the
     * host's cores between them and occam pins each rank's threads in its part; bound apart
     * by mpirun (its default for 2 ranks), each keeps mpirun's CPUs, its thread count is
     * theirs (occam_team_cores) and occam does not re-bind. The same rule as team.c's. */
    const occam_comm *w = occam_comm_world();
    bool divide = w->local_size > 1 && w->cores_shared;
    /* the count came from this process's cores when runtime.threads = 0: the message said
     * "runtime.threads = 2" to a user who had set nothing, and to one who gave --threads 2 */
    occam_topo_params tp = {threads, p->placement, p->bind, p->oversubscribe,
                            p->threads == 0 ? "runtime.threads (0: this process's cores)" : origin,
                            divide ? w->local_rank : 0, divide ? w->local_size : 1};
    const char *why = NULL;
    tp.bind = occam_runtime_rank_bind(p->bind, &why);
    if (why) append_notice(rt, why);
    /* one per core whatever runtime.oversubscribe says: it permits a count past the cores, it
     * does not ask for one (with it set, the automatic team took both hyperthreads of each core) */
    if (p->threads == 0) tp.threads = occam_runtime_cap_auto(rt->tp, tp);
    rc = occam_topo_plan_create(&rt->plan, rt->tp, tp, err);
    if (rc == OCCAM_OK) {
        rt->node_of = calloc((size_t)rt->plan.threads, sizeof(int));
        if (!rt->node_of) rc = occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory");
    }
    if (rc != OCCAM_OK) {
        occam_runtime_close(rt);
        return rc;
    }
    rt->groups = occam_topo_plan_groups(&rt->plan, rt->node_of);
    append_notice(rt, rt->plan.notice);
    rt->affinity = (occam_affinity){rt->node_of, rt->plan.binds ? bind_hook : NULL, rt};
    return OCCAM_OK;
}

void occam_runtime_close(occam_runtime *rt)
{
    if (!rt) return;
    occam_topo_plan_free(&rt->plan);
    occam_topo_free(rt->tp);
    free(rt->node_of);
    memset(rt, 0, sizeof *rt);
}

void occam_runtime_place_weights(occam_runtime *rt, void *params, size_t bytes)
{
    if (rt->params.weights != OCCAM_WEIGHTS_INTERLEAVE) return;
    occam_error err = {0};
    if (occam_topo_interleave(rt->tp, params, bytes, &err) != OCCAM_OK)
        append_notice(rt, err.msg);
}

void occam_runtime_report_notices(occam_runtime *rt)
{
    if (rt->bind_failed > 1) {
        char more[64];
        snprintf(more, sizeof more, "(%d threads could not be bound)", rt->bind_failed);
        append_notice(rt, more);
    }
    /* said once a process: select opens a runtime per point, and said the same binding note
     * at every point under mpirun (serial code only) */
    static char said[sizeof rt->notice];
    if (rt->notice[0] && strcmp(rt->notice, said) != 0) {
        fprintf(stderr, "occam: %s\n", rt->notice);
        memcpy(said, rt->notice, sizeof said);
    }
    rt->notice[0] = 0;
}
