/* Tests for topology discovery and the thread placement plan.
 *
 * Plans are checked thread by thread (PU, core, node, package) against the placement worked out
 * by hand on hwloc synthetic machines: one node, two packages of two nodes, four nodes with SMT,
 * and a description without cores. They cover thread counts that do not divide the cores, the
 * oversubscription refusal and its SMT-first wrap, the source precedence (spec, then
 * $HWLOC_SYNTHETIC, then $HWLOC_XMLFILE, then this machine, with an XML round trip) and bad
 * specs. On this machine: binding one thread and reading back the affinity, the OpenMP owner
 * notices, and where a touched buffer lives. The JSON form must parse and hold the fields.
 *
 * Every test starts from a clean environment (no HWLOC_* or OMP_* binding variables); Criterion
 * runs each test in its own process, so setenv inside a test cannot leak. No OpenMP here. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <hwloc.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "occam/json.h"
#include "occam/team.h"
#include "occam/topo.h"

static void clean_env(void)
{
    static const char *const vars[] = {"HWLOC_SYNTHETIC", "HWLOC_XMLFILE",  "HWLOC_FSROOT",
                                       "HWLOC_THISSYSTEM", "OMP_PLACES", "OMP_PROC_BIND",
                                       "GOMP_CPU_AFFINITY"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) unsetenv(vars[i]);
}

TestSuite(topo, .init = clean_env);

static occam_topo *open_ok(const char *spec)
{
    occam_topo *tp = NULL;
    occam_error err = {0};
    int rc = occam_topo_open(&tp, spec, &err);
    cr_assert_eq(rc, OCCAM_OK, "open(%s): %s", spec ? spec : "NULL", err.msg);
    cr_assert_not_null(tp);
    return tp;
}

static void plan_ok(occam_topo_plan *plan, const occam_topo *tp, int threads,
                    occam_placement placement, bool oversubscribe)
{
    occam_error err = {0};
    occam_topo_params p = {.threads = threads, .placement = placement, .bind = OCCAM_BIND_CORE,
                           .oversubscribe = oversubscribe};
    int rc = occam_topo_plan_create(plan, tp, p, &err);
    cr_assert_eq(rc, OCCAM_OK, "plan(%d threads): %s", threads, err.msg);
}

static void check_slot(const occam_topo_plan *plan, int t, int pu, int core, int node, int package)
{
    const occam_topo_slot *s = &plan->slot[t];
    cr_assert_eq(s->thread, t);
    cr_assert_eq(s->pu, pu, "thread %d: pu %d, expected %d", t, s->pu, pu);
    cr_assert_eq(s->core, core, "thread %d: core %d, expected %d", t, s->core, core);
    cr_assert_eq(s->node, node, "thread %d: node %d, expected %d", t, s->node, node);
    cr_assert_eq(s->package, package, "thread %d: package %d, expected %d", t, s->package,
                 package);
}

/* Node sizes and leaders, plus: members of each node ascending and on that node. */
static void check_nodes(const occam_topo_plan *plan, const int *size, const int *leader)
{
    int total = 0;
    for (int n = 0; n < plan->nodes; n++) {
        cr_assert_eq(plan->node_size[n], size[n], "node %d: %d threads, expected %d", n,
                     plan->node_size[n], size[n]);
        cr_assert_eq(plan->leader[n], leader[n], "node %d: leader %d, expected %d", n,
                     plan->leader[n], leader[n]);
        cr_assert_eq(plan->first[n], total);
        for (int i = plan->first[n]; i < plan->first[n + 1]; i++) {
            cr_assert_eq(plan->slot[plan->members[i]].node, n);
            if (i > plan->first[n]) cr_assert_lt(plan->members[i - 1], plan->members[i]);
        }
        total += size[n];
    }
    cr_assert_eq(total, plan->threads);
}

static const char *const TWO_BY_TWO = "package:2 numa:2 core:4 pu:1";

/* ---- synthetic machines ------------------------------------------------------------------ */

Test(topo, one_node_two_cores)
{
    occam_topo *tp = open_ok("synthetic:pack:1 core:2 pu:1");
    const occam_topo_info *in = occam_topo_describe(tp);
    cr_assert_str_eq(in->source, "synthetic:pack:1 core:2 pu:1");
    cr_assert(!in->this_system);
    cr_assert_eq(in->packages, 1);
    cr_assert_eq(in->nodes, 1);
    cr_assert_eq(in->cores, 2);
    cr_assert_eq(in->pus, 2);
    cr_assert_str_eq(in->node[0].cpuset, "0-1");
    cr_assert_eq(in->node[0].cores, 2);

    for (int pl = 0; pl < 2; pl++) {
        occam_topo_plan plan;
        plan_ok(&plan, tp, 0, (occam_placement)pl, false); /* 0 = one per core */
        cr_assert_eq(plan.threads, 2);
        check_slot(&plan, 0, 0, 0, 0, 0);
        check_slot(&plan, 1, 1, 1, 0, 0);
        check_nodes(&plan, (int[]){2}, (int[]){0});
        /* Not this system: the plan is shown, never bound. */
        cr_assert(!plan.binds);
        cr_assert(strstr(plan.notice, "not this system"), "%s", plan.notice);
        cr_assert_eq(occam_topo_bind_self(tp, &plan, 1, NULL), OCCAM_OK);
        occam_topo_plan_free(&plan);
        cr_assert_null(plan.slot);
    }
    occam_topo_free(tp);
}

Test(topo, two_packages_compact)
{
    occam_topo *tp = open_ok("synthetic:package:2 numa:2 core:4 pu:1");
    const occam_topo_info *in = occam_topo_describe(tp);
    cr_assert_eq(in->packages, 2);
    cr_assert_eq(in->nodes, 4);
    cr_assert_eq(in->cores, 16);
    cr_assert_eq(in->pus, 16);
    cr_assert_str_eq(in->node[2].cpuset, "8-11");
    occam_topo_plan plan;
    plan_ok(&plan, tp, 16, OCCAM_PLACE_COMPACT, false);
    for (int t = 0; t < 16; t++) check_slot(&plan, t, t, t, t / 4, t / 8);
    check_nodes(&plan, (int[]){4, 4, 4, 4}, (int[]){0, 4, 8, 12});
    occam_topo_plan_free(&plan);

    /* 5 threads compact: node 0 fills first; nodes 2 and 3 get no leader. */
    plan_ok(&plan, tp, 5, OCCAM_PLACE_COMPACT, false);
    for (int t = 0; t < 5; t++) check_slot(&plan, t, t, t, t / 4, 0);
    check_nodes(&plan, (int[]){4, 1, 0, 0}, (int[]){0, 4, -1, -1});
    int node_of[5];
    cr_assert_eq(occam_topo_plan_groups(&plan, node_of), 2);
    cr_assert_arr_eq(node_of, ((int[]){0, 0, 0, 0, 1}), sizeof node_of);
    occam_topo_plan_free(&plan);
    occam_topo_free(tp);
}

/* The acceptance case: HWLOC_SYNTHETIC, 16 threads, spread -> 4 per node, leaders 0..3. */
Test(topo, acceptance_env_spread_16)
{
    cr_assert_eq(setenv("HWLOC_SYNTHETIC", TWO_BY_TWO, 1), 0);
    occam_topo *tp = open_ok("");
    const occam_topo_info *in = occam_topo_describe(tp);
    cr_assert_str_eq(in->source, "synthetic:package:2 numa:2 core:4 pu:1");
    cr_assert_eq(in->nodes, 4);
    occam_topo_plan plan;
    plan_ok(&plan, tp, 16, OCCAM_PLACE_SPREAD, false);
    for (int t = 0; t < 16; t++) {
        int node = t % 4, core = node * 4 + t / 4;
        check_slot(&plan, t, core, core, node, node / 2);
    }
    check_nodes(&plan, (int[]){4, 4, 4, 4}, (int[]){0, 1, 2, 3});
    for (int n = 0; n < 4; n++)
        for (int i = 0; i < 4; i++) cr_assert_eq(plan.members[plan.first[n] + i], n + 4 * i);
    int node_of[16];
    cr_assert_eq(occam_topo_plan_groups(&plan, node_of), 4);
    for (int t = 0; t < 16; t++) cr_assert_eq(node_of[t], t % 4);
    occam_topo_plan_free(&plan);
    occam_topo_free(tp);
}

Test(topo, spread_uneven)
{
    occam_topo *tp = open_ok("synthetic:package:2 numa:2 core:4 pu:1");
    occam_topo_plan plan;
    plan_ok(&plan, tp, 5, OCCAM_PLACE_SPREAD, false);
    check_slot(&plan, 0, 0, 0, 0, 0);
    check_slot(&plan, 1, 4, 4, 1, 0);
    check_slot(&plan, 2, 8, 8, 2, 1);
    check_slot(&plan, 3, 12, 12, 3, 1);
    check_slot(&plan, 4, 1, 1, 0, 0);
    check_nodes(&plan, (int[]){2, 1, 1, 1}, (int[]){0, 1, 2, 3});
    occam_topo_plan_free(&plan);

    plan_ok(&plan, tp, 3, OCCAM_PLACE_SPREAD, false);
    check_nodes(&plan, (int[]){1, 1, 1, 0}, (int[]){0, 1, 2, -1});
    occam_topo_plan_free(&plan);

    plan_ok(&plan, tp, 10, OCCAM_PLACE_SPREAD, false);
    check_nodes(&plan, (int[]){3, 3, 2, 2}, (int[]){0, 1, 2, 3});
    check_slot(&plan, 9, 6, 6, 1, 0); /* round 2, node 1: its third core */
    occam_topo_plan_free(&plan);
    occam_topo_free(tp);
}

Test(topo, smt_nodes_and_oversubscription)
{
    occam_topo *tp = open_ok("synthetic:numa:4 core:2 pu:2");
    const occam_topo_info *in = occam_topo_describe(tp);
    cr_assert_eq(in->packages, 0);
    cr_assert_eq(in->nodes, 4);
    cr_assert_eq(in->cores, 8);
    cr_assert_eq(in->pus, 16);
    cr_assert_eq(in->node[3].pus, 4);
    occam_topo_plan plan;

    /* One thread per core, on the core's first PU. */
    plan_ok(&plan, tp, 0, OCCAM_PLACE_COMPACT, false);
    cr_assert_eq(plan.threads, 8);
    for (int t = 0; t < 8; t++) check_slot(&plan, t, 2 * t, t, t / 2, -1);
    check_nodes(&plan, (int[]){2, 2, 2, 2}, (int[]){0, 2, 4, 6});
    occam_topo_plan_free(&plan);

    plan_ok(&plan, tp, 8, OCCAM_PLACE_SPREAD, false);
    for (int t = 0; t < 8; t++) {
        int node = t % 4, core = node * 2 + t / 4;
        check_slot(&plan, t, 2 * core, core, node, -1);
    }
    check_nodes(&plan, (int[]){2, 2, 2, 2}, (int[]){0, 1, 2, 3});
    occam_topo_plan_free(&plan);

    /* More threads than cores: refused, naming the setting and the core count. */
    occam_error err = {0};
    occam_topo_params p = {.threads = 9, .placement = OCCAM_PLACE_COMPACT};
    cr_assert_eq(occam_topo_plan_create(&plan, tp, p, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "runtime.threads = 9"), "%s", err.msg);
    cr_assert(strstr(err.msg, "8 cores"), "%s", err.msg);
    cr_assert(strstr(err.msg, "runtime.oversubscribe"), "%s", err.msg);
    cr_assert_null(plan.slot);
    p.origin = "--threads";
    cr_assert_eq(occam_topo_plan_create(&plan, tp, p, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "--threads = 9"), "%s", err.msg);
    p.threads = -1;
    cr_assert_eq(occam_topo_plan_create(&plan, tp, p, &err), OCCAM_ERR_INPUT);

    /* Allowed: SMT siblings fill next, in the same core order, then threads wrap. */
    plan_ok(&plan, tp, 20, OCCAM_PLACE_COMPACT, true);
    for (int t = 0; t < 8; t++) check_slot(&plan, t, 2 * t, t, t / 2, -1);
    for (int t = 8; t < 16; t++) check_slot(&plan, t, 2 * (t - 8) + 1, t - 8, (t - 8) / 2, -1);
    for (int t = 16; t < 20; t++) check_slot(&plan, t, 2 * (t - 16), t - 16, (t - 16) / 2, -1);
    check_nodes(&plan, (int[]){6, 6, 4, 4}, (int[]){0, 2, 4, 6});
    occam_topo_plan_free(&plan);

    plan_ok(&plan, tp, 12, OCCAM_PLACE_SPREAD, true);
    check_slot(&plan, 8, 1, 0, 0, -1); /* second round starts on core 0's sibling */
    check_slot(&plan, 9, 5, 2, 1, -1);
    check_slot(&plan, 11, 13, 6, 3, -1);
    check_nodes(&plan, (int[]){3, 3, 3, 3}, (int[]){0, 1, 2, 3});
    occam_topo_plan_free(&plan);
    occam_topo_free(tp);
}

/* Without Core objects each PU counts as a core. */
Test(topo, no_cores)
{
    occam_topo *tp = open_ok("synthetic:numa:2 pu:3");
    const occam_topo_info *in = occam_topo_describe(tp);
    cr_assert_eq(in->cores, 6);
    cr_assert_eq(in->pus, 6);
    occam_topo_plan plan;
    plan_ok(&plan, tp, 3, OCCAM_PLACE_SPREAD, false);
    check_slot(&plan, 0, 0, 0, 0, -1);
    check_slot(&plan, 1, 3, 3, 1, -1);
    check_slot(&plan, 2, 1, 1, 0, -1);
    check_nodes(&plan, (int[]){2, 1}, (int[]){0, 1});
    occam_topo_plan_free(&plan);
    occam_topo_free(tp);
}

Test(topo, caches_from_description)
{
    occam_topo *tp = open_ok("synthetic:package:1 l3:1(size=8388608) l2:2(size=1048576) "
                             "l1d:1(size=32768) core:1 pu:2");
    const occam_topo_info *in = occam_topo_describe(tp);
    cr_assert_eq(in->l3.size, 8388608u);
    cr_assert_eq(in->l3.count, 1);
    cr_assert_eq(in->l2.size, 1048576u);
    cr_assert_eq(in->l2.count, 2);
    cr_assert_eq(in->l1d.size, 32768u);
    cr_assert_eq(in->l1d.count, 2);
    cr_assert_eq(in->cores, 2);
    occam_topo_free(tp);

    tp = open_ok("synthetic:pack:1 core:2 pu:1");
    cr_assert_eq(occam_topo_describe(tp)->l2.count, 0);
    occam_topo_free(tp);
}

/* ---- sources and their precedence -------------------------------------------------------- */

/* Writes TWO_BY_TWO as hwloc XML into path. */
static void export_xml(const char *path)
{
    hwloc_topology_t hw;
    cr_assert_eq(hwloc_topology_init(&hw), 0);
    cr_assert_eq(hwloc_topology_set_synthetic(hw, TWO_BY_TWO), 0);
    cr_assert_eq(hwloc_topology_load(hw), 0);
    cr_assert_eq(hwloc_topology_export_xml(hw, path, 0), 0);
    hwloc_topology_destroy(hw);
}

Test(topo, xml_and_precedence)
{
    char path[] = "/tmp/occam-topo-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    export_xml(path);
    char spec[64];
    snprintf(spec, sizeof spec, "xml:%s", path);

    occam_topo *tp = open_ok(spec);
    const occam_topo_info *in = occam_topo_describe(tp);
    cr_assert_str_eq(in->source, spec);
    cr_assert(!in->this_system);
    cr_assert_eq(in->nodes, 4);
    cr_assert_eq(in->cores, 16);
    occam_topo_plan plan;
    plan_ok(&plan, tp, 16, OCCAM_PLACE_SPREAD, false);
    check_nodes(&plan, (int[]){4, 4, 4, 4}, (int[]){0, 1, 2, 3});
    occam_topo_plan_free(&plan);
    occam_topo_free(tp);

    /* $HWLOC_XMLFILE alone. */
    cr_assert_eq(setenv("HWLOC_XMLFILE", path, 1), 0);
    tp = open_ok(NULL);
    cr_assert_str_eq(occam_topo_describe(tp)->source, spec);
    occam_topo_free(tp);

    /* $HWLOC_SYNTHETIC beats $HWLOC_XMLFILE; an explicit spec beats both. */
    cr_assert_eq(setenv("HWLOC_SYNTHETIC", "numa:4 core:2 pu:2", 1), 0);
    tp = open_ok("");
    cr_assert_str_eq(occam_topo_describe(tp)->source, "synthetic:numa:4 core:2 pu:2");
    cr_assert_eq(occam_topo_describe(tp)->cores, 8);
    occam_topo_free(tp);
    tp = open_ok("synthetic:pack:1 core:2 pu:1");
    cr_assert_eq(occam_topo_describe(tp)->cores, 2);
    occam_topo_free(tp);
    unlink(path);
}

/* An XML source is read whole by occam, without blocking on the open: a FIFO without a
 * writer blocked hwloc's own open before the run's signal handling, so the first SIGINT or
 * SIGTERM was swallowed (the handler restarts the open). Now it reads as empty and is refused
 * at once, as is a folder; a pipe with a writer (/dev/fd/N, as a shell's <(lstopo --of xml)
 * gives) loads. */
Test(topo, an_xml_source_is_read_without_blocking, .timeout = 20)
{
    char dir[64] = "/tmp/occam-topo-XXXXXX", fifo[96], spec[128];
    cr_assert(mkdtemp(dir));
    snprintf(fifo, sizeof fifo, "%s/topo.xml", dir);
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    const char *specs[2][2] = {{fifo, "is empty (a FIFO with no writer?)"},
                               {dir, "is a folder, not an XML file"}};
    for (int i = 0; i < 2; i++) {
        occam_topo *tp = (occam_topo *)1;
        occam_error err = {0};
        snprintf(spec, sizeof spec, "xml:%s", specs[i][0]);
        cr_assert_eq(occam_topo_open(&tp, spec, &err), OCCAM_ERR_INPUT, "%s", spec);
        cr_assert_null(tp);
        cr_assert(strstr(err.msg, specs[i][1]), "%s", err.msg);
    }
    cr_assert_eq(setenv("HWLOC_XMLFILE", fifo, 1), 0);
    unsetenv("HWLOC_SYNTHETIC");
    occam_topo *tp = NULL;
    occam_error err = {0};
    cr_assert_eq(occam_topo_open(&tp, NULL, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "HWLOC_XMLFILE = ") && strstr(err.msg, "FIFO with no writer"), "%s",
              err.msg);
    unsetenv("HWLOC_XMLFILE");
    unlink(fifo);
    rmdir(dir);

    /* a pipe whose writer has written: two packages of two cores, as exported by hwloc */
    hwloc_topology_t hw;
    cr_assert_eq(hwloc_topology_init(&hw), 0);
    cr_assert_eq(hwloc_topology_set_synthetic(hw, "package:2 core:2 pu:1"), 0);
    cr_assert_eq(hwloc_topology_load(hw), 0);
    char *xml;
    int len;
    cr_assert_eq(hwloc_topology_export_xmlbuffer(hw, &xml, &len, 0), 0);
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    cr_assert(len < 60000, "the export (%d bytes) must fit the pipe", len);
    cr_assert_eq(write(fds[1], xml, (size_t)len - 1), len - 1);
    close(fds[1]);
    hwloc_free_xmlbuffer(hw, xml);
    hwloc_topology_destroy(hw);
    snprintf(spec, sizeof spec, "xml:/dev/fd/%d", fds[0]);
    cr_assert_eq(occam_topo_open(&tp, spec, &err), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(occam_topo_describe(tp)->pus, 4);
    occam_topo_free(tp);
    close(fds[0]);
}

Test(topo, bad_sources)
{
    static const struct {
        const char *spec, *needle;
    } cases[] = {
        {"numa:2", "runtime.topology = \"numa:2\": expected"},
        {"synthetic:", "synthetic description is empty"},
        {"synthetic:bogus:3", "hwloc rejects the synthetic description"},
        {"xml:", "XML file name is empty"},
        {"xml:/nonexistent/occam-topo.xml", "runtime.topology = \"xml:/nonexistent/"},
        /* 10^12 PUs: hwloc's load never ended (a hang on a config value); refused first,
         * counting through attributes and memory children, saturating past 2^64 */
        {"synthetic:package:100000 core:100000 pu:100",
         "describes 1000000000000 PUs, more than the 4096"},
        {"synthetic:package:2 [numa(memory=1000000)] core:2049 pu:1(indexes=0,1)",
         "describes 4098 PUs"},
        {"synthetic:4294967296 4294967296 2", "describes 18446744073709551615 PUs"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        occam_topo *tp = (occam_topo *)1;
        occam_error err = {0};
        cr_assert_eq(occam_topo_open(&tp, cases[i].spec, &err), OCCAM_ERR_INPUT, "%s",
                     cases[i].spec);
        cr_assert_null(tp);
        cr_assert(strstr(err.msg, cases[i].needle), "%s: %s", cases[i].spec, err.msg);
    }
    cr_assert_eq(setenv("HWLOC_SYNTHETIC", "nonsense", 1), 0);
    occam_topo *tp = NULL;
    occam_error err = {0};
    cr_assert_eq(occam_topo_open(&tp, NULL, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "HWLOC_SYNTHETIC = \"nonsense\""), "%s", err.msg);
    occam_topo_free(NULL);
    occam_topo_plan_free(NULL);
    /* at the limit, with the same attribute and memory syntax, hwloc still gets it */
    cr_assert_eq(occam_topo_open(&tp, "synthetic:package:2 [numa(memory=1000000)] core:1024 "
                                      "pu:2", &err), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(occam_topo_describe(tp)->pus, 4096);
    occam_topo_free(tp);
}

/* ---- this machine ------------------------------------------------------------------------ */

Test(topo, this_system_binds_one_thread)
{
    occam_topo *tp = open_ok(NULL);
    const occam_topo_info *in = occam_topo_describe(tp);
    cr_assert_str_eq(in->source, "this system");
    cr_assert(in->this_system);
    /* hwloc drops PUs outside the cgroup's cpuset, not those outside a taskset mask */
    cr_assert_geq(in->pus, occam_team_cores());
    cr_assert_geq(in->cores, 1);

    occam_topo_plan plan;
    plan_ok(&plan, tp, 1, OCCAM_PLACE_COMPACT, false);
    cr_assert(plan.binds, "%s", plan.notice);
    cr_assert_str_eq(plan.notice, "");
    occam_error err = {0};
    cr_assert_eq(occam_topo_bind_self(tp, &plan, 0, &err), OCCAM_OK, "%s", err.msg);
    cpu_set_t set;
    cr_assert_eq(sched_getaffinity(0, sizeof set, &set), 0);
    cr_assert_eq(CPU_COUNT(&set), 1);
    cr_assert(CPU_ISSET(plan.slot[0].pu, &set));

    /* A PU the machine does not have: a warning naming it, not a failure. */
    plan.slot[0].pu = 100000;
    cr_assert_eq(occam_topo_bind_self(tp, &plan, 0, &err), OCCAM_TOPO_WARN);
    cr_assert(strstr(err.msg, "thread 0: PU 100000"), "%s", err.msg);
    occam_topo_plan_free(&plan);

    occam_topo_params p = {.threads = 1, .bind = OCCAM_BIND_NONE};
    cr_assert_eq(occam_topo_plan_create(&plan, tp, p, &err), OCCAM_OK);
    cr_assert(!plan.binds);
    cr_assert_str_eq(plan.notice, "");
    occam_topo_plan_free(&plan);
    occam_topo_free(tp);
}

/* Sets every thread's CPU mask, as taskset does for a process (the test runner has threads of
 * its own). */
static void set_process_mask(const cpu_set_t *set)
{
    DIR *d = opendir("/proc/self/task");
    cr_assert_not_null(d);
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.')
            cr_assert_eq(sched_setaffinity((pid_t)atoi(e->d_name), sizeof *set, set), 0);
    closedir(d);
}

/* Under `taskset -c LAST` the plan binds thread 0 to LAST: it bound it to PU 0, outside the mask
 * (two jobs splitting a machine with taskset both ran on CPU 0). The mask is the one the
 * process started with: after thread 0 is bound to one PU, a later plan (the next point of a
 * select grid) still has every PU of the mask. The topology itself stays whole. */
Test(topo, binding_keeps_to_the_starting_mask)
{
    cpu_set_t all;
    cr_assert_eq(sched_getaffinity(0, sizeof all, &all), 0);
    int first = -1, last = -1;
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &all)) last = c, first = first < 0 ? c : first;
    if (CPU_COUNT(&all) < 2) cr_skip_test("one CPU: no smaller mask to run under");
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(last, &one);
    set_process_mask(&one);
    occam_topo *tp = open_ok(NULL);
    cr_assert_eq(occam_topo_describe(tp)->pus, CPU_COUNT(&all), "the topology stays whole");
    occam_topo_plan plan;
    plan_ok(&plan, tp, 1, OCCAM_PLACE_COMPACT, false);
    cr_assert(plan.binds);
    cr_assert_eq(plan.slot[0].pu, last, "thread 0 on PU %d, the mask holds only %d",
                 plan.slot[0].pu, last);
    occam_topo_plan_free(&plan);
    /* Two threads on the mask's one core: refused, naming the mask; allowed oversubscribed,
     * both inside it. */
    occam_error err = {0};
    occam_topo_params p = {.threads = 2, .bind = OCCAM_BIND_CORE};
    cr_assert_eq(occam_topo_plan_create(&plan, tp, p, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "CPU mask"), "%s", err.msg);
    plan_ok(&plan, tp, 2, OCCAM_PLACE_SPREAD, true);
    cr_assert_eq(plan.slot[0].pu, last);
    cr_assert_eq(plan.slot[1].pu, last);
    occam_topo_plan_free(&plan);
    /* Not bound by occam: the plan is the machine's, as before. */
    p = (occam_topo_params){.threads = 1, .bind = OCCAM_BIND_NONE};
    cr_assert_eq(occam_topo_plan_create(&plan, tp, p, &err), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(plan.slot[0].pu, first);
    occam_topo_plan_free(&plan);
    occam_topo_free(tp);
}

/* The mask is read once: binding thread 0 shrinks the main thread's own mask to one PU, and a
 * plan made after it (another topology, another point of a grid) still spans the machine. */
Test(topo, the_starting_mask_is_read_once)
{
    cpu_set_t all;
    cr_assert_eq(sched_getaffinity(0, sizeof all, &all), 0);
    if (CPU_COUNT(&all) < 2) cr_skip_test("one CPU: nothing to shrink");
    occam_topo *tp = open_ok(NULL);
    occam_topo_plan plan;
    plan_ok(&plan, tp, 1, OCCAM_PLACE_COMPACT, false);
    occam_error err = {0};
    cr_assert_eq(occam_topo_bind_self(tp, &plan, 0, &err), OCCAM_OK, "%s", err.msg);
    occam_topo_plan_free(&plan);
    occam_topo_free(tp);
    tp = open_ok(NULL);
    plan_ok(&plan, tp, 2, OCCAM_PLACE_COMPACT, false);
    cr_assert_neq(plan.slot[0].pu, plan.slot[1].pu);
    occam_topo_plan_free(&plan);
    occam_topo_free(tp);
}

Test(topo, openmp_owns_binding)
{
    occam_topo *tp = open_ok(NULL);
    char notice[160];
    cr_assert(occam_topo_bind_owner(tp, OCCAM_BIND_CORE, notice, sizeof notice));
    cr_assert_str_eq(notice, "");
    cr_assert(!occam_topo_bind_owner(tp, OCCAM_BIND_NONE, notice, sizeof notice));
    cr_assert_str_eq(notice, "");

    cr_assert_eq(setenv("OMP_PROC_BIND", "close", 1), 0);
    cr_assert(!occam_topo_bind_owner(tp, OCCAM_BIND_CORE, notice, sizeof notice));
    cr_assert_str_eq(notice, "OMP_PROC_BIND is set: OpenMP owns thread binding; "
                             "runtime.bind ignored");
    cr_assert_eq(setenv("OMP_PLACES", "cores", 1), 0);
    occam_topo_plan plan;
    plan_ok(&plan, tp, 1, OCCAM_PLACE_COMPACT, false);
    cr_assert(!plan.binds);
    cr_assert_str_eq(plan.notice, "OMP_PLACES is set: OpenMP owns thread binding; "
                                  "runtime.bind ignored");
    occam_topo_plan_free(&plan);
    /* OMP_PROC_BIND = false: OpenMP binds nothing, whatever the places; the notice said
     * "OpenMP owns thread binding" */
    cr_assert_eq(setenv("OMP_PROC_BIND", " FALSE", 1), 0);
    cr_assert(!occam_topo_bind_owner(tp, OCCAM_BIND_CORE, notice, sizeof notice));
    cr_assert_str_eq(notice, "OMP_PROC_BIND = false: threads are not bound; runtime.bind "
                             "ignored");
    /* empty values are unset, for libgomp too: occam binds */
    cr_assert_eq(setenv("OMP_PROC_BIND", "", 1), 0);
    cr_assert_eq(setenv("OMP_PLACES", "", 1), 0);
    cr_assert(occam_topo_bind_owner(tp, OCCAM_BIND_CORE, notice, sizeof notice));
    cr_assert_str_eq(notice, "");
    occam_topo_free(tp);
}

Test(topo, node_of_buffers)
{
    occam_topo *tp = open_ok(NULL);
    size_t len = 1 << 22;
    char *buf = malloc(len);
    cr_assert_not_null(buf);
    memset(buf, 1, len); /* first touch places the pages */
    int node = occam_topo_node_of(tp, buf, len);
    if (occam_topo_describe(tp)->nodes == 1)
        cr_assert_eq(node, 0);
    else
        cr_assert(node >= 0 || node == OCCAM_TOPO_NODE_MIXED);
    cr_assert_eq(occam_topo_node_of(tp, buf, 0), -1);
    free(buf);

    /* Never-touched pages have no node yet. */
    void *fresh = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(fresh, MAP_FAILED);
    cr_assert_eq(occam_topo_node_of(tp, fresh, len), -1);
    munmap(fresh, len);
    occam_topo_free(tp);

    char x = 0;
    tp = open_ok("synthetic:numa:2 core:1 pu:1");
    cr_assert_eq(occam_topo_node_of(tp, &x, 1), -1);
    occam_topo_free(tp);
}

/* ---- output ------------------------------------------------------------------------------ */

static char *capture(void (*write)(const occam_topo *, const occam_topo_plan *, FILE *),
                     const occam_topo *tp, const occam_topo_plan *plan, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    cr_assert_not_null(f);
    write(tp, plan, f);
    cr_assert_eq(ferror(f), 0);
    cr_assert_eq(fclose(f), 0);
    return buf;
}

static const occam_json_value *get(const occam_json_value *v, const char *key,
                                   occam_json_type type)
{
    const occam_json_value *m = occam_json_get(v, key);
    cr_assert_not_null(m, "missing \"%s\"", key);
    cr_assert_eq(m->type, type, "\"%s\" has type %d", key, (int)m->type);
    return m;
}

Test(topo, json_fields)
{
    cr_assert_eq(setenv("HWLOC_SYNTHETIC", TWO_BY_TWO, 1), 0);
    occam_topo *tp = open_ok(NULL);
    occam_topo_plan plan;
    plan_ok(&plan, tp, 16, OCCAM_PLACE_SPREAD, false);
    size_t len;
    char *text = capture(occam_topo_write_json, tp, &plan, &len);
    cr_assert_eq(text[len - 1], '\n');
    occam_json_value v;
    occam_error err = {0};
    cr_assert_eq(occam_json_parse(&v, text, len - 1, &err), OCCAM_OK, "%s\n%s", err.msg, text);

    cr_assert_str_eq(get(&v, "source", OCCAM_JSON_STRING)->str,
                     "synthetic:package:2 numa:2 core:4 pu:1");
    cr_assert(!get(&v, "this_system", OCCAM_JSON_BOOL)->boolean);
    cr_assert(!get(&v, "binds", OCCAM_JSON_BOOL)->boolean);
    cr_assert(strstr(get(&v, "notice", OCCAM_JSON_STRING)->str, "not this system"));
    cr_assert_eq(get(&v, "packages", OCCAM_JSON_NUMBER)->integer, 2);
    cr_assert_eq(get(&v, "cores", OCCAM_JSON_NUMBER)->integer, 16);
    cr_assert_eq(get(&v, "pus", OCCAM_JSON_NUMBER)->integer, 16);
    cr_assert_str_eq(get(&v, "placement", OCCAM_JSON_STRING)->str, "spread");
    cr_assert_str_eq(get(&v, "bind", OCCAM_JSON_STRING)->str, "core");
    const occam_json_value *caches = get(&v, "caches", OCCAM_JSON_OBJECT);
    cr_assert_eq(get(caches, "L2", OCCAM_JSON_NULL)->type, OCCAM_JSON_NULL);

    const occam_json_value *nodes = get(&v, "nodes", OCCAM_JSON_ARRAY);
    cr_assert_eq(nodes->count, 4);
    for (int n = 0; n < 4; n++) {
        const occam_json_value *nd = &nodes->items[n];
        cr_assert_eq(get(nd, "node", OCCAM_JSON_NUMBER)->integer, n);
        cr_assert_eq(get(nd, "cores", OCCAM_JSON_NUMBER)->integer, 4);
        cr_assert_eq(get(nd, "pus", OCCAM_JSON_NUMBER)->integer, 4);
        cr_assert_eq(get(nd, "leader", OCCAM_JSON_NUMBER)->integer, n);
        const occam_json_value *th = get(nd, "threads", OCCAM_JSON_ARRAY);
        cr_assert_eq(th->count, 4);
        for (int i = 0; i < 4; i++) cr_assert_eq(th->items[i].integer, n + 4 * i);
    }
    const occam_json_value *threads = get(&v, "threads", OCCAM_JSON_ARRAY);
    cr_assert_eq(threads->count, 16);
    for (int t = 0; t < 16; t++) {
        const occam_json_value *s = &threads->items[t];
        int node = t % 4, core = node * 4 + t / 4;
        cr_assert_eq(get(s, "thread", OCCAM_JSON_NUMBER)->integer, t);
        cr_assert_eq(get(s, "pu", OCCAM_JSON_NUMBER)->integer, core);
        cr_assert_eq(get(s, "core", OCCAM_JSON_NUMBER)->integer, core);
        cr_assert_eq(get(s, "node", OCCAM_JSON_NUMBER)->integer, node);
        cr_assert_eq(get(s, "package", OCCAM_JSON_NUMBER)->integer, node / 2);
    }
    const occam_json_value *red = get(&v, "reduction", OCCAM_JSON_OBJECT);
    const occam_json_value *leaders = get(red, "leaders", OCCAM_JSON_ARRAY);
    cr_assert_eq(leaders->count, 4);
    for (int n = 0; n < 4; n++) cr_assert_eq(leaders->items[n].integer, n);
    cr_assert_str_eq(get(red, "tree", OCCAM_JSON_STRING)->str,
                     "node 0: {0,4,8,12} -> 0; node 1: {1,5,9,13} -> 1; node 2: {2,6,10,14} -> 2; "
                     "node 3: {3,7,11,15} -> 3; leaders {0,1,2,3} -> every thread's slice");
    occam_json_free(&v);
    free(text);
    occam_topo_plan_free(&plan);

    /* A node without threads has a null leader and an empty thread list. */
    plan_ok(&plan, tp, 2, OCCAM_PLACE_COMPACT, false);
    text = capture(occam_topo_write_json, tp, &plan, &len);
    cr_assert_eq(occam_json_parse(&v, text, len - 1, &err), OCCAM_OK, "%s", err.msg);
    const occam_json_value *n1 = &get(&v, "nodes", OCCAM_JSON_ARRAY)->items[1];
    cr_assert_eq(get(n1, "leader", OCCAM_JSON_NULL)->type, OCCAM_JSON_NULL);
    cr_assert_eq(get(n1, "threads", OCCAM_JSON_ARRAY)->count, 0);
    cr_assert_str_eq(get(get(&v, "reduction", OCCAM_JSON_OBJECT), "tree", OCCAM_JSON_STRING)->str,
                     "node 0: {0,1} -> 0");
    occam_json_free(&v);
    free(text);
    occam_topo_plan_free(&plan);
    occam_topo_free(tp);
}

Test(topo, text_form)
{
    occam_topo *tp = open_ok("synthetic:package:2 numa:2 core:4 pu:1");
    occam_topo_plan plan;
    plan_ok(&plan, tp, 5, OCCAM_PLACE_SPREAD, false);
    size_t len;
    char *text = capture(occam_topo_write_text, tp, &plan, &len);
    static const char *const lines[] = {
        "topology   synthetic:package:2 numa:2 core:4 pu:1 (not this system)\n",
        "           2 packages, 4 NUMA nodes, 16 cores, 16 PUs\n",
        "node 1     cpuset 4-7: 4 cores, 4 PUs, 1 thread\n",
        "placement  spread, bind core: 5 threads, not bound\n",
        "     4      1      1      0        0\n",
        "4 nodes, 1 to 2 threads per node",
        "  node 0: 2 threads {0,4} -> leader 0\n",
        "  leaders {0,1,2,3} -> every thread's slice of the sum\n",
        "notice: the topology is not this system",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        cr_assert(strstr(text, lines[i]), "missing \"%s\" in:\n%s", lines[i], text);
    free(text);
    occam_topo_plan_free(&plan);
    occam_topo_free(tp);
}

/* ---- XML that hwloc accepts but that is not shaped as its own exports ----------------------- */

/* One XML object line: type, os index, cpuset and nodeset as hwloc writes them. */
static void xml_obj(FILE *f, const char *type, int os, const char *cpuset, const char *nodeset,
                    bool close)
{
    fprintf(f, "<object type=\"%s\" os_index=\"%d\" cpuset=\"%s\" complete_cpuset=\"%s\" "
            "nodeset=\"%s\" complete_nodeset=\"%s\"%s>\n", type, os, cpuset, cpuset, nodeset,
            nodeset, strcmp(type, "NUMANode") ? "" : " local_memory=\"1073741824\"");
    if (close) fputs("</object>\n", f);
}

/* A new XML file at path (a fresh name under /tmp), its header written; xml_load ends it. */
static FILE *xml_open(char *path, size_t cap)
{
    snprintf(path, cap, "/tmp/occam-topo-XXXXXX");
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    FILE *f = fdopen(fd, "w");
    cr_assert_not_null(f);
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE topology SYSTEM "
          "\"hwloc2.dtd\">\n<topology version=\"2.0\">\n", f);
    return f;
}

/* Ends the file xml_open began and opens it as runtime.topology = xml:path. */
static occam_topo *xml_load(FILE *f, const char *path)
{
    fputs("</topology>\n", f);
    cr_assert_eq(fclose(f), 0);
    char spec[96];
    snprintf(spec, sizeof spec, "xml:%s", path);
    return open_ok(spec);
}

/* A core whose cpuset is wider than its one PU child, beside a core that holds the other PU:
 * hwloc loads it, and the flattening counted PU 1 for both cores and failed an internal
 * assertion (abort). Each PU now belongs to the core above it in the tree. */
Test(topo, a_core_wider_than_its_pus_is_not_counted_twice)
{
    char path[64];
    FILE *f = xml_open(path, sizeof path);
    xml_obj(f, "Machine", 0, "0x3", "0x1", false);
    xml_obj(f, "NUMANode", 0, "0x3", "0x1", true);
    xml_obj(f, "Core", 0, "0x3", "0x1", false);
    xml_obj(f, "PU", 0, "0x1", "0x1", true);
    fputs("</object>\n", f);
    xml_obj(f, "Core", 1, "0x2", "0x1", false);
    xml_obj(f, "PU", 1, "0x2", "0x1", true);
    fputs("</object>\n</object>\n", f);
    occam_topo *tp = xml_load(f, path);
    const occam_topo_info *in = occam_topo_describe(tp);
    cr_assert_eq(in->cores, 2);
    cr_assert_eq(in->pus, 2);
    occam_topo_plan plan;
    plan_ok(&plan, tp, 2, OCCAM_PLACE_COMPACT, false);
    check_slot(&plan, 0, 0, 0, 0, -1);
    check_slot(&plan, 1, 1, 1, 0, -1);
    occam_topo_plan_free(&plan);
    occam_topo_free(tp);
    unlink(path);
}

/* PUs hung straight under a package (no Core object around them) were dropped: the header
 * said 4 PUs and node 1 "0 cores, 0 PUs", and those CPUs never took a thread. Each is now a
 * core of its own. */
Test(topo, pus_outside_every_core_are_cores_of_their_own)
{
    char path[64];
    FILE *f = xml_open(path, sizeof path);
    xml_obj(f, "Machine", 0, "0x0000000f", "0x00000003", false);
    xml_obj(f, "Package", 0, "0x00000003", "0x00000001", false);
    xml_obj(f, "NUMANode", 0, "0x00000003", "0x00000001", true);
    for (int c = 0; c < 2; c++) {
        char cs[16];
        snprintf(cs, sizeof cs, "0x%08x", 1u << c);
        xml_obj(f, "Core", c, cs, "0x00000001", false);
        xml_obj(f, "PU", c, cs, "0x00000001", true);
        fputs("</object>\n", f);
    }
    fputs("</object>\n", f);
    xml_obj(f, "Package", 1, "0x0000000c", "0x00000002", false);
    xml_obj(f, "NUMANode", 1, "0x0000000c", "0x00000002", true);
    xml_obj(f, "PU", 2, "0x00000004", "0x00000002", true);
    xml_obj(f, "PU", 3, "0x00000008", "0x00000002", true);
    fputs("</object>\n</object>\n", f);
    occam_topo *tp = xml_load(f, path);
    const occam_topo_info *in = occam_topo_describe(tp);
    cr_assert_eq(in->cores, 4);
    cr_assert_eq(in->node[1].cores, 2);
    cr_assert_eq(in->node[1].pus, 2);
    occam_topo_plan plan;
    plan_ok(&plan, tp, 4, OCCAM_PLACE_SPREAD, false);
    check_nodes(&plan, (int[]){2, 2}, (int[]){0, 1});
    check_slot(&plan, 1, 2, 2, 1, 1);
    occam_topo_plan_free(&plan);
    occam_topo_free(tp);
    unlink(path);
}

/* libxml2 refuses an in-memory document over 10,000,000 bytes ("Huge input lookup"); hwloc's
 * own export of a machine of some 12,000 PUs is that big, and it was refused. A flat machine
 * of 12,288 cores (each cpuset a word list up to its bit: about 14 MB) now loads. */
Test(topo, an_xml_over_ten_megabytes_loads, .timeout = 60)
{
    enum { N = 12288 };
    char path[64];
    FILE *f = xml_open(path, sizeof path);
    hwloc_bitmap_t all = hwloc_bitmap_alloc(), one = hwloc_bitmap_alloc();
    hwloc_bitmap_set_range(all, 0, N - 1);
    char *s = NULL;
    cr_assert_geq(hwloc_bitmap_asprintf(&s, all), 0);
    xml_obj(f, "Machine", 0, s, "0x1", false);
    xml_obj(f, "NUMANode", 0, s, "0x1", true);
    free(s);
    for (int c = 0; c < N; c++) {
        hwloc_bitmap_only(one, (unsigned)c);
        cr_assert_geq(hwloc_bitmap_asprintf(&s, one), 0);
        xml_obj(f, "Core", c, s, "0x1", false);
        xml_obj(f, "PU", c, s, "0x1", true);
        fputs("</object>\n", f);
        free(s);
    }
    fputs("</object>\n", f);
    cr_assert_gt(ftell(f), 10000000, "the file is %ld bytes", ftell(f));
    occam_topo *tp = xml_load(f, path);
    hwloc_bitmap_free(all), hwloc_bitmap_free(one);
    cr_assert_eq(occam_topo_describe(tp)->cores, N);
    occam_topo_free(tp);
    unlink(path);
}
