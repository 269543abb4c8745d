/* Owner-slice reduction, flat or NUMA-hierarchical (see include/occam/reduce.h). */
#include "occam/reduce.h"

#include <stdlib.h>
#include <string.h>

#include "occam/mem.h"
#include "occam/team.h"

int occam_reduce_plan_init(occam_reduce_plan *p, int threads, const int *node_of,
                           occam_error *err)
{
    memset(p, 0, sizeof *p);
    p->threads = threads;
    p->nodes = 1;
    for (int t = 0; node_of && t < threads; t++)
        if (node_of[t] + 1 > p->nodes) p->nodes = node_of[t] + 1;
    int n = p->nodes;
    p->node_of = calloc((size_t)threads, sizeof(int));
    p->rank = calloc((size_t)threads, sizeof(int));
    p->members = calloc((size_t)threads, sizeof(int));
    p->node_size = calloc((size_t)n, sizeof(int));
    p->leader = calloc((size_t)n, sizeof(int));
    p->first = calloc((size_t)n + 1, sizeof(int));
    if (!p->node_of || !p->rank || !p->members || !p->node_size || !p->leader || !p->first) {
        occam_reduce_plan_free(p);
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory for the reduction plan");
    }
    for (int t = 0; t < threads; t++) {
        int g = node_of ? node_of[t] : 0;
        if (g < 0) {
            occam_reduce_plan_free(p);
            return occam_error_set(err, OCCAM_ERR_RUNTIME, "thread %d has no NUMA node", t);
        }
        p->node_of[t] = g;
        p->rank[t] = p->node_size[g]++;
    }
    for (int g = 0; g < n; g++) {
        if (p->node_size[g] == 0) {
            occam_reduce_plan_free(p);
            return occam_error_set(err, OCCAM_ERR_RUNTIME, "NUMA node %d has no thread", g);
        }
        p->first[g + 1] = p->first[g] + p->node_size[g];
    }
    for (int t = threads - 1; t >= 0; t--) p->leader[p->node_of[t]] = t;
    for (int t = 0; t < threads; t++)
        p->members[p->first[p->node_of[t]] + p->rank[t]] = t;
    return OCCAM_OK;
}

void occam_reduce_plan_free(occam_reduce_plan *p)
{
    if (!p) return;
    free(p->node_of);
    free(p->rank);
    free(p->members);
    free(p->node_size);
    free(p->leader);
    free(p->first);
    memset(p, 0, sizeof *p);
}

/* Calls fn on each part of the concatenated-range interval [a, b) that lies in a range. */
typedef void (*piece_fn)(void *ctx, const occam_range *r, size_t off, size_t len);

static void for_pieces(const occam_range *ranges, int nranges, size_t a, size_t b, piece_fn fn,
                       void *ctx)
{
    size_t base = 0;
    for (int i = 0; i < nranges && base < b; i++) {
        size_t lo = a > base ? a : base, hi = b < base + ranges[i].len ? b : base + ranges[i].len;
        if (lo < hi) fn(ctx, &ranges[i], ranges[i].off + (lo - base), hi - lo);
        base += ranges[i].len;
    }
}

typedef struct node_sum_ctx {
    float *const *parts;
    const int *members;
    int count;
} node_sum_ctx;

static void node_sum_piece(void *vctx, const occam_range *r, size_t off, size_t len)
{
    (void)r;
    const node_sum_ctx *c = vctx;
    float *restrict dst = c->parts[c->members[0]] + off;
    for (int u = 1; u < c->count; u++) {
        const float *restrict src = c->parts[c->members[u]] + off;
        for (size_t i = 0; i < len; i++) dst[i] += src[i];
    }
}

typedef struct apply_ctx {
    occam_reduce_apply apply;
    void *ctx;
    const float *const *parts;
    int nparts;
} apply_ctx;

static void apply_piece(void *vctx, const occam_range *r, size_t off, size_t len)
{
    const apply_ctx *c = vctx;
    c->apply(c->ctx, r->tag, c->parts, c->nparts, off, len);
}

void occam_reduce_run(const occam_reduce_plan *p, int t, float *const *parts,
                      const occam_range *ranges, int nranges, occam_reduce_apply apply,
                      void *ctx)
{
    size_t total = 0;
    for (int i = 0; i < nranges; i++) total += ranges[i].len;
    /* Slices are cut on cache lines of the concatenated space; ranges start on cache lines of
     * the flat array (the layout aligns every segment), so pieces rarely share a line. */
    size_t lo, hi;
    if (p->nodes == 1) {
        occam_team_split_aligned(total, OCCAM_LINE_FLOATS, t, p->threads, &lo, &hi);
        apply_ctx ac = {apply, ctx, (const float *const *)parts, p->threads};
        for_pieces(ranges, nranges, lo, hi, apply_piece, &ac);
        return;
    }
    int g = p->node_of[t];
    occam_team_split_aligned(total, OCCAM_LINE_FLOATS, p->rank[t], p->node_size[g], &lo, &hi);
    node_sum_ctx nc = {parts, p->members + p->first[g], p->node_size[g]};
    for_pieces(ranges, nranges, lo, hi, node_sum_piece, &nc);
#pragma omp barrier
    const float *leaders[p->nodes];
    for (int n = 0; n < p->nodes; n++) leaders[n] = parts[p->leader[n]];
    occam_team_split_aligned(total, OCCAM_LINE_FLOATS, t, p->threads, &lo, &hi);
    apply_ctx ac = {apply, ctx, leaders, p->nodes};
    for_pieces(ranges, nranges, lo, hi, apply_piece, &ac);
}
