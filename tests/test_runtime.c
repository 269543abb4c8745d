/* The placed runtime on this machine: a trainer built through occam_runtime puts every buffer
 * on the node its owning thread was planned on (checked with the OS's answer, through hwloc). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "occam/config.h"
#include "occam/model.h"
#include "occam/runtime.h"
#include "occam/topo.h"
#include "occam/trainer.h"

typedef struct check {
    const occam_runtime *rt;
    int buffers, known;
} check;

static void on_buffer(void *ctx, const char *name, const void *addr, size_t bytes, int t)
{
    check *c = ctx;
    c->buffers++;
    int planned = c->rt->plan.slot[t >= 0 ? t : 0].node;
    int actual = occam_topo_node_of(c->rt->tp, addr, bytes);
    if (actual < 0) return; /* the OS could not tell (e.g. pages not resident) */
    c->known++;
    cr_assert_eq(actual, planned, "%s of thread %d on node %d, planned %d", name, t, actual,
                 planned);
}

Test(runtime, buffers_live_on_their_threads_nodes)
{
    occam_config cfg;
    occam_config_defaults(&cfg);
    cfg.runtime.threads = 2; /* a team of 2 on a machine of any size (a 1-CPU one too) */
    cfg.runtime.oversubscribe = true;
    occam_error err;
    occam_model m;
    cr_assert_eq(occam_model_create(&m, &cfg.model, cfg.data.task, &err), OCCAM_OK);
    occam_runtime rt;
    cr_assert_eq(occam_runtime_open(&rt, &cfg.runtime, 2, NULL, &err), OCCAM_OK, "%s", err.msg);
    occam_trainer *tr;
    cr_assert_eq(occam_trainer_create(&tr, &m, occam_config_trainer(&cfg), 2, &rt.affinity, &err), OCCAM_OK);
    check c = {&rt, 0, 0};
    occam_trainer_buffers(tr, on_buffer, &c);
    cr_assert(c.buffers >= 2 * 8 + 3, "only %d buffers listed", c.buffers);
    cr_assert(c.known > 0, "hwloc could not locate any buffer");
    occam_trainer_free(tr);
    occam_runtime_close(&rt);
    occam_model_free(&m);
}

/* The default runtime keys on the synthetic topology `shape`, with tweak (if any) applied. */
static occam_runtime_params synthetic(const char *shape, void (*tweak)(occam_runtime_params *))
{
    occam_config cfg;
    occam_config_defaults(&cfg);
    snprintf(cfg.runtime.topology, sizeof cfg.runtime.topology, "synthetic:%s", shape);
    if (tweak) tweak(&cfg.runtime);
    return cfg.runtime;
}

/* Opens the runtime of p for `threads` threads; it must succeed. */
static void open_ok(occam_runtime *rt, const occam_runtime_params *p, int threads)
{
    occam_error err;
    cr_assert_eq(occam_runtime_open(rt, p, threads, NULL, &err), OCCAM_OK, "%s", err.msg);
}

static void spread(occam_runtime_params *p) { p->placement = OCCAM_PLACE_SPREAD; }
static void oversubscribe(occam_runtime_params *p) { p->oversubscribe = true; }

Test(runtime, synthetic_topology_groups_threads_by_node)
{
    occam_runtime_params p = synthetic("numa:2 core:2 pu:1", spread);
    occam_runtime rt;
    open_ok(&rt, &p, 4);
    cr_assert_eq(rt.groups, 2);
    int want[4] = {0, 1, 0, 1};
    for (int t = 0; t < 4; t++) cr_assert_eq(rt.node_of[t], want[t]);
    cr_assert_null(rt.affinity.bind, "a synthetic topology must not bind threads");
    cr_assert(strstr(rt.notice, "not this system"), "notice: %s", rt.notice);
    occam_runtime_close(&rt);
}

/* runtime.oversubscribe permits a count above the cores; it does not raise the automatic one.
 * With it set, runtime.threads = 0 took every CPU the team had (both hyperthreads of each
 * core) instead of one per core, so setting it changed the thread count, and the bits, of a
 * default run on any machine with hyperthreads. */
Test(runtime, oversubscribe_leaves_the_automatic_count_at_one_per_core)
{
    occam_runtime_params p = synthetic("core:2 pu:2", oversubscribe);
    occam_runtime rt;
    /* the team's automatic count: 4 CPUs (occam_team_resolve) */
    open_ok(&rt, &p, 4);
    cr_assert_eq(rt.plan.threads, 2, "automatic count %d on 2 cores", rt.plan.threads);
    occam_runtime_close(&rt);
    /* a count asked for is still allowed past the cores */
    p.threads = 4;
    open_ok(&rt, &p, 4);
    cr_assert_eq(rt.plan.threads, 4);
    occam_runtime_close(&rt);
}
