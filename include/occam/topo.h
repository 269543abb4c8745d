/* occam/topo.h — the machine's shape (packages, NUMA nodes, cores, PUs, caches) and where each
 * worker thread runs on it.
 *
 * Discovery goes through hwloc. The topology can be this machine, a synthetic description in
 * hwloc's syntax ("package:2 numa:2 core:4 pu:1") or an XML export, so a placement for a big
 * NUMA box can be planned, shown and tested on a laptop. Precedence: the explicit spec
 * (runtime.topology = "" | "synthetic:<description>" | "xml:<path>"), then $HWLOC_SYNTHETIC,
 * then $HWLOC_XMLFILE, then this machine.
 *
 * The plan is pure: one thread per core (the core's first PU), cores taken node by node
 * (compact) or round-robin across nodes (spread). It also names each node's reduction leader,
 * its lowest-numbered thread. Threads are bound only when the topology is this system, bind is
 * core and OpenMP does not own binding (OMP_PLACES, OMP_PROC_BIND, GOMP_CPU_AFFINITY). Every
 * other case yields a notice and an unbound run, never a failure.
 *
 * A loaded occam_topo is only read after occam_topo_open, so worker threads may call
 * occam_topo_bind_self and occam_topo_node_of concurrently. */
#ifndef OCCAM_TOPO_H
#define OCCAM_TOPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "occam/error.h"

typedef enum { OCCAM_BIND_CORE, OCCAM_BIND_NONE } occam_bind;           /* runtime.bind */
typedef enum { OCCAM_PLACE_COMPACT, OCCAM_PLACE_SPREAD } occam_placement; /* runtime.placement */

/* Returned by occam_topo_bind_self when the thread could not be bound. It is a warning, not an
 * exit status: print err->msg once and carry on unbound. */
#define OCCAM_TOPO_WARN 3

/* Returned by occam_topo_node_of when the pages span several NUMA nodes. */
#define OCCAM_TOPO_NODE_MIXED (-2)

typedef struct occam_topo occam_topo;

typedef struct occam_topo_node {
    int os_index;   /* the OS's number for the node */
    int cores, pus; /* cores and PUs assigned to this node (0 for a memory-only node) */
    char *cpuset;   /* PUs of the node as an OS-index list, e.g. "0-3,8" */
} occam_topo_node;

/* One cache level: size of one cache in bytes (0 if unknown) and how many there are. */
typedef struct occam_topo_cache {
    uint64_t size;
    int count;
} occam_topo_cache;

typedef struct occam_topo_info {
    const char *source;  /* "this system", "synthetic:<description>" or "xml:<path>" */
    bool this_system;    /* hwloc says the topology describes the running machine */
    int packages;        /* 0 when the description has none */
    int nodes, cores, pus;
    const occam_topo_node *node; /* [nodes], by logical index */
    occam_topo_cache l1d, l2, l3;
} occam_topo_info;

/* Loads a topology. spec is NULL or "" (then $HWLOC_SYNTHETIC, $HWLOC_XMLFILE, this machine),
 * "synthetic:<description>" or "xml:<path>". A bad spec, description or file is
 * OCCAM_ERR_INPUT naming runtime.topology or the environment variable; out of memory or a
 * failing discovery of this machine is OCCAM_ERR_RUNTIME. *out is NULL on failure. */
int occam_topo_open(occam_topo **out, const char *spec, occam_error *err);
/* NULL is fine. */
void occam_topo_free(occam_topo *tp);
/* The summary collected at open; valid until occam_topo_free. */
const occam_topo_info *occam_topo_describe(const occam_topo *tp);

/* ---- placement plan --------------------------------------------------------------------- */

typedef struct occam_topo_params {
    int threads;               /* 0 = one per core of the topology (of the process's CPU
                                  mask, when occam binds) */
    occam_placement placement;
    occam_bind bind;
    bool oversubscribe;        /* allow more threads than cores */
    const char *origin;        /* names the thread count in messages; NULL = "runtime.threads" */
    int share, shares;         /* ranks on one host: this one takes part `share` of `shares` of
                                  the cores, contiguous in placement order (shares 0 or 1: all) */
} occam_topo_params;

typedef struct occam_topo_slot {
    int thread;
    int pu;      /* OS index of the PU */
    int core;    /* logical index of the core (of the PU when the topology has no cores) */
    int node;    /* logical index of the NUMA node */
    int package; /* logical index of the package, -1 if the topology has none */
} occam_topo_slot;

typedef struct occam_topo_plan {
    int threads, nodes;
    occam_placement placement;
    occam_bind bind;
    bool binds;          /* occam binds the threads (see occam_topo_bind_owner) */
    char notice[160];    /* why threads are not bound despite bind = core, or "" */
    occam_topo_slot *slot; /* [threads], slot[t].thread == t */
    int *node_size;      /* [nodes] threads on each node */
    int *leader;         /* [nodes] lowest-numbered thread on the node, -1 if none */
    int *first;          /* [nodes + 1] start of each node's group in members */
    int *members;        /* [threads] threads grouped by node, each group in thread order */
} occam_topo_plan;

/* Places p.threads threads. When occam binds (plan->binds), only the cores with a PU in the CPU
 * mask the process started with count, and threads go only to PUs in it (taskset, numactl, a
 * batch system's binding). More threads than cores is OCCAM_ERR_INPUT unless p.oversubscribe;
 * then the extra threads go to the cores' further PUs (SMT siblings) in the same core order, and
 * wrap around when those run out. Out of memory is OCCAM_ERR_RUNTIME. On failure the plan holds
 * nothing to free. */
int occam_topo_plan_create(occam_topo_plan *plan, const occam_topo *tp, occam_topo_params p,
                           occam_error *err);
/* Frees the arrays and zeroes the plan; NULL or a zeroed plan is fine. */
void occam_topo_plan_free(occam_topo_plan *plan);

/* Numbers the nodes that have threads 0, 1, ... in node order and writes each thread's number
 * into node_of[plan->threads]; returns how many such nodes there are. This is the node_of that
 * occam_reduce_plan_init takes. */
int occam_topo_plan_groups(const occam_topo_plan *plan, int *node_of);

/* ---- binding and memory location -------------------------------------------------------- */

/* Decides who binds threads. True if occam does: bind is core, the topology is this system and
 * none of OMP_PLACES, OMP_PROC_BIND, GOMP_CPU_AFFINITY is set. Otherwise false, and notice
 * (cap bytes) holds a one-line reason such as "OMP_PLACES is set: OpenMP owns thread binding;
 * runtime.bind ignored" ("" when bind is none). */
bool occam_topo_bind_owner(const occam_topo *tp, occam_bind bind, char *notice, size_t cap);

/* Binds the calling thread to slot[thread].pu; each OpenMP thread calls it for itself, with an
 * err of its own. Does nothing and returns OCCAM_OK when !plan->binds. If the OS refuses,
 * returns OCCAM_TOPO_WARN with a message naming the thread and PU: the run goes on unbound. */
int occam_topo_bind_self(const occam_topo *tp, const occam_topo_plan *plan, int thread,
                         occam_error *err);

/* The logical index of the NUMA node holding the pages of [addr, addr + len), or
 * OCCAM_TOPO_NODE_MIXED when they span several nodes, or -1 when unknown (not this system, pages
 * not touched yet, or the OS cannot tell). */
int occam_topo_node_of(const occam_topo *tp, const void *addr, size_t len);

/* Spreads the pages of [addr, addr + len) round-robin over all NUMA nodes (runtime.weights =
 * interleave). A no-op on one node or a topology that is not this system; OCCAM_TOPO_WARN with a
 * message if the OS refuses (the run goes on with the pages where they are). */
int occam_topo_interleave(const occam_topo *tp, void *addr, size_t len, occam_error *err);

/* ---- output ----------------------------------------------------------------------------- */

/* One JSON object (pretty-printed, then a newline): source, this_system, packages, nodes,
 * cores, pus, caches, placement, bind, binds, notice, threads, reduction. Stream errors are
 * left in the FILE for the caller's ferror. */
void occam_topo_write_json(const occam_topo *tp, const occam_topo_plan *plan, FILE *out);
/* The same for people: topology summary, the thread -> PU -> core -> node table and the
 * reduction tree. */
void occam_topo_write_text(const occam_topo *tp, const occam_topo_plan *plan, FILE *out);

#endif
