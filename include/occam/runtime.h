/* occam/runtime.h — from a config to a placed team: the topology, the thread plan, the NUMA
 * groups that shape the reduction, and the binding hook the trainer's threads call before they
 * first touch their buffers. One owner of binding: if OMP_PLACES / OMP_PROC_BIND /
 * GOMP_CPU_AFFINITY is set, OpenMP binds and occam says so; a failed bind is one notice and the
 * run goes on. */
#ifndef OCCAM_RUNTIME_H
#define OCCAM_RUNTIME_H

#include "occam/config.h"
#include "occam/error.h"
#include "occam/model.h"
#include "occam/topo.h"
#include "occam/trainer.h"

typedef struct occam_runtime {
    occam_topo *tp;
    occam_topo_plan plan;
    int *node_of;            /* [threads] NUMA group of each thread */
    int groups;              /* NUMA nodes that have threads */
    occam_affinity affinity;   /* what the trainer takes */
    char notice[512];        /* binding / placement notices, "" if none */
    int bind_failed;         /* threads whose bind the OS refused */
} occam_runtime;

/* Opens the topology named by cfg->runtime.topology (or the environment, or this machine) and
 * plans `threads` threads on it. */
int occam_runtime_open(occam_runtime *rt, const occam_config *cfg, int threads, occam_error *err);
void occam_runtime_close(occam_runtime *rt);

/* Applies runtime.weights = interleave to the model's parameters (no-op otherwise). */
void occam_runtime_place_weights(occam_runtime *rt, const occam_config *cfg, occam_model *m);

/* Prints the notices gathered so far (once) to stderr, prefixed "occam: ". */
void occam_runtime_report_notices(occam_runtime *rt);

#endif
