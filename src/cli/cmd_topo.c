/* `occam topo`: show the topology and the thread placement plan, without training.
 *
 * CONFIG is optional here (the defaults describe "all cores, compact, bind to cores"), so this
 * command parses its own options instead of using cli_parse, which requires CONFIG. The settings
 * come from the same places as for a run (defaults, CONFIG, --set in order, --threads) and go
 * through the same table, so what it prints is what `occam train` with the same arguments
 * would do, the automatic thread count included; on a synthetic or XML topology 0 means one
 * per core of it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "occam/team.h"
#include "occam/comm.h"
#include "occam/model.h"
#include "occam/runtime.h"
#include "occam/trainer.h"
#include "occam/config.h"
#include "occam/json.h"
#include "occam/topo.h"

static const char usage[] =
    "usage: occam topo [CONFIG] [--threads N] [--set section.key=value]... [--json]\n"
    "\n"
    "Shows the machine's topology (packages, NUMA nodes, cores, PUs, caches) and where N\n"
    "threads would run: thread -> PU -> core -> NUMA node, and the reduction tree (each node's\n"
    "lowest-numbered thread leads it). N = 0, the default, means what a run here takes (the\n"
    "CPUs this process may use, OMP_NUM_THREADS, OpenMP's places; at most one per core), or\n"
    "one thread per core of a synthetic or XML topology; more threads than cores needs\n"
    "runtime.oversubscribe = true.\n"
    "\n"
    "Keys: runtime.threads, runtime.placement = compact|spread, runtime.bind = none|core,\n"
    "runtime.oversubscribe, runtime.topology = \"synthetic:<hwloc description>\" (e.g.\n"
    "\"synthetic:package:2 numa:2 core:4 pu:1\") or \"xml:<file>\"; when it is empty,\n"
    "$HWLOC_SYNTHETIC, then $HWLOC_XMLFILE, then this machine. Threads are bound only on this\n"
    "machine, and not when OMP_PLACES or OMP_PROC_BIND is set.\n"
    "\n"
    "  --json   one JSON object instead of text\n";

typedef struct buffer_table {
    const occam_topo *tp;
    const occam_topo_plan *plan;
} buffer_table;

static void print_buffer(void *ctx, const char *name, const void *addr, size_t bytes, int t)
{
    const buffer_table *bt = ctx;
    int planned = bt->plan->slot[t >= 0 ? t : 0].node;
    int actual = occam_topo_node_of(bt->tp, addr, bytes);
    char where[32];
    if (actual == OCCAM_TOPO_NODE_MIXED) snprintf(where, sizeof where, "several");
    else if (actual < 0) snprintf(where, sizeof where, "unknown");
    else snprintf(where, sizeof where, "%d", actual);
    char who[16];
    if (t >= 0) snprintf(who, sizeof who, "%d", t);
    else snprintf(who, sizeof who, "main");
    printf("  %-24s %7s %8d %8s %12zu\n", name, who, planned, where, bytes);
}

#define TOPO_BUFFERS_MAX_THREADS 64

/* Builds the config's model and a trainer on the planned team (threads bound as a run would
 * bind them), then lists every buffer with the node it should be on and the node the OS says
 * its pages are on. */

static int show_buffers(const occam_config *cfg, const occam_topo *tp, const occam_topo_plan *plan,
                        occam_error *err)
{
    /* The table starts the planned team for real: a synthetic machine's thousand cores would
     * be a thousand threads here (2 GB and seconds for "package:16 core:64 pu:4"), all to
     * print "actual = unknown". A small one (a few threads over this machine's cores) is
     * still shown. */
    int here = occam_team_cores();
    if (!occam_topo_describe(tp)->this_system && plan->threads > TOPO_BUFFERS_MAX_THREADS &&
        plan->threads > here) {
        printf("\nbuffers    not shown: the plan's %d threads would oversubscribe this "
               "machine's %d cores, and the topology is not this system\n", plan->threads,
               here);
        return OCCAM_OK;
    }
    occam_model model = {0};
    occam_runtime rt = {0};
    occam_trainer *tr = NULL;
    occam_config c = *cfg;
    c.runtime.threads = plan->threads;
    int rc = occam_model_create(&model, &c.model, c.data.task, err);
    if (rc == OCCAM_OK) rc = occam_runtime_open(&rt, &c.runtime, plan->threads, NULL, err);
    if (rc == OCCAM_OK) {
        occam_runtime_place_weights(&rt, model.params, model.lay.nparams * sizeof(float));
        occam_trainer_params tp = occam_config_trainer(&c);
        tp.comm = NULL; /* this rank's buffers alone: no collective, whatever the others do */
        rc = occam_trainer_create(&tr, &model, tp, plan->threads, &rt.affinity, err);
    }
    if (rc == OCCAM_OK) {
        printf("\nbuffers    model %d layers, batch %d, runtime.weights = %s%s\n",
               model.lay.nlayers, c.train.batch,
               c.runtime.weights == OCCAM_WEIGHTS_REPLICATE ? "replicate"
               : c.runtime.weights == OCCAM_WEIGHTS_INTERLEAVE ? "interleave" : "local",
               occam_topo_describe(tp)->this_system ? "" : " (not this system: actual = unknown)");
        printf("  %-24s %7s %8s %8s %12s\n", "buffer", "thread", "planned", "actual", "bytes");
        buffer_table bt = {tp, plan};
        occam_trainer_buffers(tr, print_buffer, &bt);
    }
    occam_trainer_free(tr);
    occam_runtime_close(&rt);
    occam_model_free(&model);
    return rc;
}

/* Under mpirun (plan NULL: this rank could not make one): each rank writes its plan (with its host and the cores it was given) into
 * memory, and rank 0 prints them all in rank order, each rank's text sent by a broadcast from
 * it. Every rank takes part even when its own plan failed (an empty text), so none waits. */
static int show_ranks(const occam_config *cfg, const occam_topo *tp, const occam_topo_plan *plan,
                      bool json, occam_error *err)
{
    const occam_comm *w = occam_comm_world();
    char *text = NULL, host[256];
    size_t len = 0;
    occam_comm_host(host, sizeof host);
    FILE *mem = open_memstream(&text, &len), *out = stdout;
    int rc = mem ? OCCAM_OK : occam_error_set(err, OCCAM_ERR_RUNTIME, "topo: out of memory");
    if (rc == OCCAM_OK && !plan) fclose(mem); /* this rank's plan failed: it says why itself */
    if (rc == OCCAM_OK && plan) {
        stdout = mem; /* show_buffers and the writers print to stdout */
        if (json) {
            char esc[6 * sizeof host + 1]; /* each byte at most \u00XX */
            occam_json_escape(esc, sizeof esc, host);
            printf("{\"rank\": %d, \"ranks\": %d, \"host\": \"%s\", \"local_rank\": %d, "
                   "\"local_ranks\": %d, \"plan\": ", w->rank, w->size, esc, w->local_rank,
                   w->local_size);
            occam_topo_write_json(tp, plan, stdout);
            printf("}");
        } else {
            printf("== rank %d of %d on %s (local rank %d of %d", w->rank, w->size, host,
                   w->local_rank, w->local_size);
            /* the plan's cores only where occam binds to them: a rank mpirun bound runs on
             * its own CPUs, which the table's "cpus" line gives (rank 1 said "cores 0") */
            for (int t = 0; plan->binds && t < plan->threads; t++)
                printf("%s%d", t ? "," : ": cores ", plan->slot[t].core);
            printf(") ==\n");
            occam_topo_write_text(tp, plan, stdout);
            rc = show_buffers(cfg, tp, plan, err);
        }
        stdout = out;
        fclose(mem);
    }
    int64_t *lens = calloc((size_t)w->size, sizeof *lens);
    int64_t mine = text ? (int64_t)len : 0;
    if (!lens) occam_comm_abort(OCCAM_ERR_RUNTIME);
    occam_comm_allgather_bytes(w, &mine, lens, sizeof mine);
    errno = 0; /* from here on only stdout's writes set it: the reason of a failed one */
    if (json) printf("[");
    bool any = false;
    for (int r = 0; r < w->size; r++) {
        char *t = r == w->rank ? text : malloc((size_t)lens[r] + 1);
        if (!t && lens[r] + 1 > 0 && r != w->rank) occam_comm_abort(OCCAM_ERR_RUNTIME);
        occam_comm_bcast(w, t, (size_t)lens[r], r);
        if (json && any && lens[r]) printf(",\n"); /* a rank without a plan has no object */
        fwrite(t, 1, (size_t)lens[r], stdout);
        any |= lens[r] > 0;
        if (r != w->rank) free(t);
    }
    if (json) printf("]\n");
    free(lens);
    free(text);
    int wrote = cli_stdout_check("topo", err);
    return wrote ? wrote : rc;
}

static int run(const cli_opts *o, occam_error *err)
{
    occam_config cfg;
    occam_config_defaults(&cfg);
    int rc = o->config ? occam_config_load(&cfg, o->config, err) : OCCAM_OK;
    for (int i = 0; rc == OCCAM_OK && i < o->nsets; i++)
        rc = occam_config_set(&cfg, o->sets[i], err);
    if (rc == OCCAM_OK && o->threads >= 0) cfg.runtime.threads = o->threads;
    if (rc == OCCAM_OK && (rc = occam_config_validate(&cfg, err)) != OCCAM_OK)
        occam_config_locate(err, o->config, o->sets, o->nsets);
    /* under mpirun a config or topology that fails on some ranks only: every rank stops here
     * (the others went on into show_ranks' gather, and Open MPI aborted on the mismatch) */
    if ((rc = cli_agree(rc, err)) != OCCAM_OK) return rc;

    occam_topo *tp = NULL;
    rc = cli_agree(occam_topo_open(&tp, cfg.runtime.topology, err), err);
    if (rc) {
        occam_topo_free(tp);
        return rc;
    }
    occam_topo_plan plan;
    const occam_comm *w = occam_comm_world();
    const char *ranks_bind = NULL; /* as the run binds: mpirun's binding may own it */
    occam_topo_params p = {.threads = cfg.runtime.threads, .placement = cfg.runtime.placement,
                           .bind = occam_runtime_rank_bind(cfg.runtime.bind, &ranks_bind),
                           .oversubscribe = cfg.runtime.oversubscribe,
                           .origin = o->threads >= 0 ? "--threads" : "runtime.threads",
                           .share = w->cores_shared ? w->local_rank : 0,
                           .shares = w->cores_shared ? w->local_size : 1};
    /* On this machine the automatic count is the run's: the team's CPUs (the CPU mask,
     * OMP_NUM_THREADS, OpenMP's places), at most one per core. A synthetic or XML machine is
     * planned one thread per core of it. */
    if (p.threads == 0 && occam_topo_describe(tp)->this_system) {
        int team = 0;
        p.origin = "runtime.threads (0: this process's cores)";
        rc = occam_team_resolve(0, p.oversubscribe, p.origin, &team, err);
        p.threads = team;
        if (rc == OCCAM_OK) p.threads = occam_runtime_cap_auto(tp, p); /* as the run caps it */
    }
    if (rc == OCCAM_OK) rc = occam_topo_plan_create(&plan, tp, p, err);
    else memset(&plan, 0, sizeof plan);
    if (rc == OCCAM_OK && ranks_bind && !plan.notice[0])
        snprintf(plan.notice, sizeof plan.notice, "%s", ranks_bind);
    if (w->size > 1) { /* every rank's plan, printed by rank 0; every rank takes part */
        int rc2 = show_ranks(&cfg, tp, rc == OCCAM_OK ? &plan : NULL, o->json, err);
        if (rc == OCCAM_OK) rc = rc2;
        occam_topo_plan_free(&plan);
    } else if (rc == OCCAM_OK) {
        errno = 0; /* from here on only stdout's writes set it: the reason of a failed one */
        if (o->json)
            occam_topo_write_json(tp, &plan, stdout);
        else {
            occam_topo_write_text(tp, &plan, stdout);
            rc = show_buffers(&cfg, tp, &plan, err);
        }
        int wrote = cli_stdout_check("topo", err);
        if (wrote) rc = wrote;
        occam_topo_plan_free(&plan);
    }
    occam_topo_free(tp);
    return rc;
}

int cmd_topo(int argc, char **argv)
{
    return cli_command(argc, argv, CLI_SET | CLI_THREADS | CLI_JSON | CLI_CONFIG_OPTIONAL, usage,
                       run);
}
