/* occam/runtime.h — from a config to a placed team: the topology, the thread plan, the NUMA
 * groups that shape the reduction, and the binding hook the trainer's threads call before they
 * first touch their buffers. One owner of binding: if OMP_PLACES / OMP_PROC_BIND /
 * GOMP_CPU_AFFINITY is set, OpenMP binds and occam says so; a failed bind is one notice and the
 * run goes on. */
#ifndef OCCAM_RUNTIME_H
#define OCCAM_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>

#include "occam/error.h"
#include "occam/fsutil.h"
#include "occam/team.h"
#include "occam/topo.h"

/* runtime.grad: how each layer's weight gradient is formed (the trainer's choice per layer). */
typedef enum { OCCAM_GRAD_AUTO, OCCAM_GRAD_SHARD, OCCAM_GRAD_OWNER } occam_grad;
/* runtime.weights: where the parameters' pages live on a NUMA machine. */
typedef enum { OCCAM_WEIGHTS_LOCAL, OCCAM_WEIGHTS_REPLICATE, OCCAM_WEIGHTS_INTERLEAVE }
    occam_weights;

/* The [runtime] section. */
typedef struct occam_runtime_params {
    int threads;        /* runtime.threads: 0 = all cores */
    bool oversubscribe; /* runtime.oversubscribe: allow more threads than cores */
    occam_grad grad;    /* runtime.grad = auto | shard | owner: weight-gradient path */
    occam_bind bind;    /* runtime.bind = core | none */
    occam_placement placement;     /* runtime.placement = compact | spread */
    occam_weights weights;         /* runtime.weights = local | replicate | interleave */
    char topology[OCCAM_PATH_MAX]; /* runtime.topology = "" | synthetic:<desc> | xml:<path> */
} occam_runtime_params;

typedef struct occam_runtime {
    occam_runtime_params params;
    occam_topo *tp;
    occam_topo_plan plan;
    int *node_of;            /* [threads] NUMA group of each thread */
    int groups;              /* NUMA nodes that have threads */
    occam_affinity affinity;   /* what the trainer takes */
    char notice[512];        /* binding / placement notices, "" if none */
    int bind_failed;         /* threads whose bind the OS refused */
} occam_runtime;

/* Opens the topology named by p->topology (or the environment, or this machine) and plans
 * `threads` threads on it; under the automatic count (p->threads == 0) at most one per core of
 * the topology (of its cores in the process's CPU mask, when occam binds), so rt->plan.threads
 * may be fewer: the caller runs that many. origin names a count that was given (p->threads > 0)
 * in the plan's messages, e.g. "--threads"; NULL is "runtime.threads". */
int occam_runtime_open(occam_runtime *rt, const occam_runtime_params *p, int threads,
                       const char *origin, occam_error *err);
void occam_runtime_close(occam_runtime *rt);

/* The automatic thread count p.threads (the team's: CPUs, OMP_NUM_THREADS, OpenMP's places)
 * capped at one per core of the plan p would make on t, as occam_runtime_open caps it. */
int occam_runtime_cap_auto(const occam_topo *t, occam_topo_params p);

/* The binding this rank uses for runtime.bind = `bind`: none when mpirun bound the host's ranks
 * apart (its default for 2 ranks), which then owns binding; *why says so (else NULL). `occam
 * topo` plans with it too, so it shows the plan the run uses. */
occam_bind occam_runtime_rank_bind(occam_bind bind, const char **why);

/* Applies runtime.weights = interleave to the parameter array [params, params + bytes) (no-op
 * otherwise). */
void occam_runtime_place_weights(occam_runtime *rt, void *params, size_t bytes);

/* Prints the notices gathered so far (once) to stderr, prefixed "occam: ". */
void occam_runtime_report_notices(occam_runtime *rt);

#endif
