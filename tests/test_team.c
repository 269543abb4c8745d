/* The team runner: every thread number handed out once with the team's size, barriers inside a
 * worker, the bind hook before the work, and a short team refused before any work runs.
 * Criterion forks each test, so the OpenMP threads started here live in the test's child. */
#include <criterion/criterion.h>
#include <omp.h>
#include <string.h>

#include "occam/team.h"

enum { MAX_T = 8 };

typedef struct seen {
    int calls[MAX_T]; /* fn calls per thread number */
    int nt[MAX_T];    /* the nt each thread was handed */
    int bound[MAX_T]; /* bind calls per thread number */
    int bound_first[MAX_T];
    int wrong; /* calls with t out of range */
} seen;

static void record(void *ctx, int t, int nt)
{
    seen *s = ctx;
    if (t < 0 || t >= MAX_T) {
#pragma omp atomic
        s->wrong++;
        return;
    }
#pragma omp atomic
    s->calls[t]++;
    s->nt[t] = nt;
    s->bound_first[t] = s->bound[t];
}

static void bind_hook(void *ctx, int t)
{
    seen *s = ctx;
#pragma omp atomic
    s->bound[t]++;
}

Test(team, hands_every_thread_number_once)
{
    for (int nt = 1; nt <= 4; nt++) {
        seen s = {0};
        occam_error err = {0};
        cr_assert_eq(occam_team_run(nt, NULL, record, &s, &err), OCCAM_OK, "%s", err.msg);
        cr_assert_eq(s.wrong, 0);
        for (int t = 0; t < MAX_T; t++) {
            cr_assert_eq(s.calls[t], t < nt ? 1 : 0, "nt %d: thread %d ran %d times", nt, t,
                         s.calls[t]);
            if (t < nt) cr_assert_eq(s.nt[t], nt);
        }
    }
}

Test(team, binds_each_thread_before_its_work)
{
    seen s = {0};
    occam_affinity aff = {NULL, bind_hook, &s};
    occam_error err = {0};
    cr_assert_eq(occam_team_run(3, &aff, record, &s, &err), OCCAM_OK, "%s", err.msg);
    for (int t = 0; t < 3; t++) {
        cr_assert_eq(s.bound[t], 1, "thread %d bound %d times", t, s.bound[t]);
        cr_assert_eq(s.bound_first[t], 1, "thread %d worked before it was bound", t);
    }
    /* An affinity without a hook binds nothing. */
    occam_affinity none = {NULL, NULL, NULL};
    seen s2 = {0};
    cr_assert_eq(occam_team_run(2, &none, record, &s2, &err), OCCAM_OK);
    cr_assert_eq(s2.calls[0] + s2.calls[1], 2);
}

Test(team, team_is_full_size_with_dynamic_adjustment_asked_for)
{
    omp_set_dynamic(1); /* OpenMP could then shrink the team; the runner switches it off */
    seen s = {0};
    occam_error err = {0};
    cr_assert_eq(occam_team_run(4, NULL, record, &s, &err), OCCAM_OK, "%s", err.msg);
    for (int t = 0; t < 4; t++) cr_assert_eq(s.calls[t], 1);
}

typedef struct rounds {
    int slot[MAX_T];
    int bad;
} rounds;

/* Each round every thread writes its slot, waits, checks every slot, waits again: a barrier
 * that did not hold shows as a slot of the wrong round. */
static void barrier_rounds(void *ctx, int t, int nt)
{
    rounds *r = ctx;
    for (int round = 1; round <= 50; round++) {
        r->slot[t] = round * 100 + t;
#pragma omp barrier
        for (int u = 0; u < nt; u++)
            if (r->slot[u] != round * 100 + u) {
#pragma omp atomic
                r->bad++;
            }
#pragma omp barrier
    }
}

Test(team, barrier_inside_a_worker_syncs_the_team)
{
    rounds r = {{0}, 0};
    occam_error err = {0};
    cr_assert_eq(occam_team_run(4, NULL, barrier_rounds, &r, &err), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(r.bad, 0, "%d stale reads across a barrier", r.bad);
}

typedef struct nested {
    int inner_nt;           /* the size each inner team asks for */
    int rc[MAX_T];          /* the inner run's status, per outer thread */
    occam_error err[MAX_T]; /* and its message */
    seen inner[MAX_T];      /* the inner workers' calls, per outer thread */
    rounds inner_rounds[MAX_T];
} nested;

static void start_inner(void *ctx, int t, int nt)
{
    (void)nt;
    nested *n = ctx;
    n->rc[t] = occam_team_run(n->inner_nt, NULL, record, &n->inner[t], &n->err[t]);
}

Test(team, short_team_is_refused_before_any_work)
{
    /* A team started inside another's worker gets one thread while nesting is off. */
    omp_set_max_active_levels(1);
    nested n;
    memset(&n, 0, sizeof n);
    n.inner_nt = 2;
    occam_error err = {0};
    cr_assert_eq(occam_team_run(2, NULL, start_inner, &n, &err), OCCAM_OK, "%s", err.msg);
    for (int t = 0; t < 2; t++) {
        cr_assert_eq(n.rc[t], OCCAM_ERR_RUNTIME, "outer thread %d: inner status %d", t, n.rc[t]);
        cr_assert(strstr(n.err[t].msg, "OpenMP gave 1 thread, 2 asked for"), "message: %s",
                  n.err[t].msg);
        for (int u = 0; u < MAX_T; u++)
            cr_assert_eq(n.inner[t].calls[u], 0, "a worker ran on the short team");
    }
}

Test(team, team_of_one_inside_a_worker_runs)
{
    omp_set_max_active_levels(1);
    nested n;
    memset(&n, 0, sizeof n);
    n.inner_nt = 1;
    occam_error err = {0};
    cr_assert_eq(occam_team_run(2, NULL, start_inner, &n, &err), OCCAM_OK, "%s", err.msg);
    for (int t = 0; t < 2; t++) {
        cr_assert_eq(n.rc[t], OCCAM_OK, "%s", n.err[t].msg);
        cr_assert_eq(n.inner[t].calls[0], 1);
        cr_assert_eq(n.inner[t].nt[0], 1);
    }
}

/* Only outer thread 0 starts an inner team of one whose worker waits at barriers: they must bind
 * to the inner region, or thread 0 would wait for a partner that never comes. */
static void lone_barrier(void *ctx, int t, int nt)
{
    (void)nt;
    nested *n = ctx;
    if (t != 0) return;
    n->rc[0] = occam_team_run(1, NULL, barrier_rounds, &n->inner_rounds[0], &n->err[0]);
}

Test(team, barrier_in_a_team_of_one_binds_to_it, .timeout = 20)
{
    omp_set_max_active_levels(1);
    nested n;
    memset(&n, 0, sizeof n);
    occam_error err = {0};
    cr_assert_eq(occam_team_run(2, NULL, lone_barrier, &n, &err), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(n.rc[0], OCCAM_OK, "%s", n.err[0].msg);
    cr_assert_eq(n.inner_rounds[0].bad, 0);
}

Test(team, splits_cover_the_range_in_order)
{
    for (int nt = 1; nt <= 5; nt++) {
        size_t end = 0;
        for (int t = 0; t < nt; t++) {
            size_t lo, hi;
            occam_team_split_rows(17, t, nt, &lo, &hi);
            cr_assert_eq(lo, end);
            cr_assert(hi - lo == 17 / (size_t)nt || hi - lo == 17 / (size_t)nt + 1);
            end = hi;
        }
        cr_assert_eq(end, 17);
        end = 0;
        for (int t = 0; t < nt; t++) {
            size_t lo, hi;
            occam_team_split_aligned(100, 16, t, nt, &lo, &hi);
            cr_assert_eq(lo, end);
            cr_assert(lo % 16 == 0 || lo == 100);
            end = hi;
        }
        cr_assert_eq(end, 100);
    }
}

#include <stdio.h>
#include <sys/stat.h>

#include "tmpdir.h"
#include "../src/cli/cli.h"

/* Writes text to DIR/rel, making its folders. */
static void put(const char *dir, const char *rel, const char *text)
{
    char path[1024], cmd[1200];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    snprintf(cmd, sizeof cmd, "mkdir -p \"$(dirname '%s')\"", path);
    cr_assert_eq(system(cmd), 0);
    tmpdir_spit(path, text, strlen(text));
}

/* A container's CPU quota (docker --cpus=2, a Kubernetes limit) leaves its affinity mask
 * whole: on a 64-core host the automatic team was 64 threads sharing 2 CPUs' time. The quota
 * is read from the process's cgroups (a fake tree here): v2's cpu.max, v1's
 * cpu.cfs_quota_us over cpu.cfs_period_us, the smallest along the path, rounded up. */
Test(team, a_cgroup_cpu_quota_caps_the_cores)
{
    char dir[64], proc[700];
    tmpdir_make(dir, sizeof dir, "cgroup");
    snprintf(proc, sizeof proc, "%s/proc-cgroup", dir);
    /* v2: the parent's 1.5 CPUs (2, rounded up) bound the child's "max" */
    put(dir, "proc-cgroup", "0::/a/b\n");
    put(dir, "fs/a/cpu.max", "150000 100000\n");
    put(dir, "fs/a/b/cpu.max", "max 100000\n");
    char fs[700];
    snprintf(fs, sizeof fs, "%s/fs", dir);
    cr_assert_eq(occam_team_cgroup_cpus(proc, fs), 2);
    /* no quota anywhere */
    put(dir, "fs/a/cpu.max", "max 100000\n");
    cr_assert_eq(occam_team_cgroup_cpus(proc, fs), 0);
    /* v1, the cpu controller mounted with cpuacct: half a CPU is one */
    put(dir, "proc-cgroup", "4:memory:/m\n3:cpu,cpuacct:/x\n0::/\n");
    put(dir, "fs/cpu,cpuacct/x/cpu.cfs_quota_us", "50000\n");
    put(dir, "fs/cpu,cpuacct/x/cpu.cfs_period_us", "100000\n");
    cr_assert_eq(occam_team_cgroup_cpus(proc, fs), 1);
    put(dir, "fs/cpu,cpuacct/x/cpu.cfs_quota_us", "-1\n");
    cr_assert_eq(occam_team_cgroup_cpus(proc, fs), 0);
    /* a hybrid layout's v2 hierarchy under unified/ */
    put(dir, "proc-cgroup", "0::/u\n");
    put(dir, "fs/unified/u/cpu.max", "300000 100000\n");
    cr_assert_eq(occam_team_cgroup_cpus(proc, fs), 3);
    /* unreadable: no quota */
    cr_assert_eq(occam_team_cgroup_cpus("/nonexistent/cgroup", fs), 0);
    tmpdir_remove(dir);
}

/* A count asked for past the quota is taken as asked (only the automatic team is capped), with
 * a note: 4 threads on a quota of 1.5 CPUs shared 2 CPUs' time without a word. */
Test(team, threads_asked_past_a_cpu_quota_get_a_note)
{
    char dir[64], proc[700], fs[700], note[256];
    tmpdir_make(dir, sizeof dir, "cgroup");
    snprintf(proc, sizeof proc, "%s/proc-cgroup", dir);
    snprintf(fs, sizeof fs, "%s/fs", dir);
    put(dir, "proc-cgroup", "0::/a\n");
    put(dir, "fs/a/cpu.max", "150000 100000\n");
    int quota = occam_team_cgroup_cpus(proc, fs);
    cli_quota_note(note, sizeof note, "--threads", 4, quota);
    cr_assert_str_eq(note, "occam: note: --threads = 4 is more than the 2 CPUs this process's "
                           "CPU quota allows (its cgroup's cpu.max, or cpu.cfs_quota_us under "
                           "cgroup v1): the threads share that time, and every step waits for "
                           "the slowest; --threads = 0 takes at most 2\n");
    cli_quota_note(note, sizeof note, "runtime.threads", 2, quota);
    cr_assert_str_eq(note, "");
    cli_quota_note(note, sizeof note, "runtime.threads", 64, 0); /* no quota */
    cr_assert_str_eq(note, "");
    tmpdir_remove(dir);
}
