/* The owner-slice reduction, flat and NUMA-hierarchical, against a serial double-precision
 * reference for every thread count from 1 to 8 and several node maps. */
#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "occam/reduce.h"
#include "occam/rng.h"

typedef struct sink {
    float *out;
    int *hits; /* how many times each element was applied */
    int tag_of_weights;
} sink;

static void apply_sum(void *ctx, int tag, const float *const *parts, int nparts, size_t off,
                      size_t len)
{
    sink *s = ctx;
    for (size_t i = off; i < off + len; i++) {
        float v = 0;
        for (int u = 0; u < nparts; u++) v += parts[u][i];
        s->out[i] = v;
        s->hits[i] += 1 + (tag == 1 ? 0 : 100); /* bias-tagged elements count 101 */
    }
}

static void run_case(int threads, const int *node_of, size_t n)
{
    occam_reduce_plan plan;
    occam_error err;
    cr_assert_eq(occam_reduce_plan_init(&plan, threads, node_of, &err), OCCAM_OK, "%s", err.msg);
    float **parts = malloc(sizeof(float *) * (size_t)threads);
    double *ref = calloc(n, sizeof(double));
    occam_rng r = occam_rng_seed(3, (uint64_t)threads);
    for (int u = 0; u < threads; u++) {
        parts[u] = malloc(sizeof(float) * n);
        for (size_t i = 0; i < n; i++) {
            parts[u][i] = (float)occam_rng_normal(&r);
            ref[i] += parts[u][i];
        }
    }
    /* Two ranges with a hole between them, like two layers' weights and bias. */
    size_t cut = n / 3, hole = n > 64 ? 16 : 1;
    occam_range ranges[2] = {{0, cut, 1}, {cut + hole, n - cut - hole, 0}};
    sink s = {calloc(n, sizeof(float)), calloc(n, sizeof(int)), 1};
#pragma omp parallel num_threads(threads) default(none) shared(plan, parts, ranges, s)
    occam_reduce_run(&plan, omp_get_thread_num(), parts, ranges, 2, apply_sum, &s);
    for (size_t i = 0; i < n; i++) {
        bool in_hole = i >= cut && i < cut + hole;
        int want_hits = in_hole ? 0 : (i < cut ? 1 : 101);
        cr_assert_eq(s.hits[i], want_hits, "T=%d element %zu applied %d times", threads, i,
                     s.hits[i]);
        if (!in_hole)
            cr_assert(fabs(s.out[i] - ref[i]) <= 1e-5 * (1 + fabs(ref[i])),
                      "T=%d nodes=%d element %zu: %g vs %g", threads, plan.nodes, i, s.out[i],
                      ref[i]);
    }
    for (int u = 0; u < threads; u++) free(parts[u]);
    free(parts);
    free(ref);
    free(s.out);
    free(s.hits);
    occam_reduce_plan_free(&plan);
}

Test(reduce, flat_every_thread_count)
{
    for (int t = 1; t <= 8; t++) run_case(t, NULL, 1000 + 37 * (size_t)t);
}

Test(reduce, hierarchical_every_thread_count)
{
    for (int t = 1; t <= 8; t++) {
        int node_of[8];
        for (int nodes = 1; nodes <= t && nodes <= 4; nodes++) {
            for (int u = 0; u < t; u++) node_of[u] = u % nodes; /* spread */
            run_case(t, node_of, 4099);
            for (int u = 0; u < t; u++) node_of[u] = u * nodes / t; /* compact */
            run_case(t, node_of, 333);
        }
    }
}

Test(reduce, plan_leaders_and_ranks)
{
    int node_of[6] = {1, 0, 1, 0, 2, 2};
    occam_reduce_plan p;
    occam_error err;
    cr_assert_eq(occam_reduce_plan_init(&p, 6, node_of, &err), OCCAM_OK);
    cr_assert_eq(p.nodes, 3);
    cr_assert_eq(p.leader[0], 1);
    cr_assert_eq(p.leader[1], 0);
    cr_assert_eq(p.leader[2], 4);
    cr_assert_eq(p.rank[2], 1);
    cr_assert_eq(p.rank[3], 1);
    cr_assert_eq(p.node_size[2], 2);
    occam_reduce_plan_free(&p);
    int gap[2] = {0, 2}; /* node 1 has no thread */
    cr_assert_eq(occam_reduce_plan_init(&p, 2, gap, &err), OCCAM_ERR_RUNTIME);
}

Test(reduce, tiny_arrays_with_many_threads)
{
    for (int t = 1; t <= 8; t++) run_case(t, NULL, 17);
}
