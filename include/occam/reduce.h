/* occam/reduce.h — the gradient reduction: every thread's partial array summed, in a fixed
 * order, and handed slice by slice to an apply callback (the optimiser update), so reduction
 * and update are one pass.
 *
 * One NUMA node (or no topology): thread t owns slice t of the reduced index space and sums
 * all T partials for it, in thread order.
 * Several nodes: two levels. First, inside each node, an owner-slice reduce-scatter: member r
 * of node g sums its node's partials for its piece and writes the node sum into the node
 * leader's buffer (in place; nobody else touches that piece). One barrier. Then thread t sums
 * the node leaders' buffers, in node order, for its slice of the whole space. Only the
 * leaders' buffers cross the interconnect, and each thread reads N-1 remote pieces of its own
 * slice: (N-1)/N of the gradient bytes cross, once.
 *
 * The reduced space is a list of ranges of the flat parameter array (the layers whose
 * gradients were computed as per-thread partials); slices are cut on 16-float (cache-line)
 * boundaries of that space. */
#ifndef OCCAM_REDUCE_H
#define OCCAM_REDUCE_H

#include <stddef.h>

#include "occam/error.h"

typedef struct occam_range {
    size_t off, len; /* [off, off + len) of the flat arrays */
    int tag;         /* passed to apply (e.g. weights vs biases) */
} occam_range;

typedef struct occam_reduce_plan {
    int threads, nodes;
    int *node_of;   /* [threads] node of each thread */
    int *rank;      /* [threads] index of the thread within its node */
    int *node_size; /* [nodes] */
    int *leader;    /* [nodes] lowest-numbered thread on the node */
    int *members;   /* [threads] threads grouped by node, each group in thread order */
    int *first;     /* [nodes + 1] start of each node's group in members */
} occam_reduce_plan;

/* node_of may be NULL (one node). Node numbers must be 0..nodes-1 with none empty. */
int occam_reduce_plan_init(occam_reduce_plan *p, int threads, const int *node_of,
                           occam_error *err);
void occam_reduce_plan_free(occam_reduce_plan *p);

typedef void (*occam_reduce_apply)(void *ctx, int tag, const float *const *parts, int nparts,
                                   size_t off, size_t len);

/* Called by every thread t of a team of p->threads threads, after a barrier that made all
 * partials complete. parts[u] is thread u's partial array (the leaders' are overwritten with
 * node sums when nodes > 1). Contains one barrier when nodes > 1, none otherwise; apply is
 * called only on thread t's own slice. */
void occam_reduce_run(const occam_reduce_plan *p, int t, float *const *parts,
                      const occam_range *ranges, int nranges, occam_reduce_apply apply,
                      void *ctx);

#endif
