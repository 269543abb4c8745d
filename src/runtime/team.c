/* Thread count resolution, the team runner every parallel region goes through, and the pure
 * work splits used by every parallel pass. */
#include "occam/team.h"

#include "occam/comm.h"
#include "occam/cpumask.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <omp.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

/* Place p's CPU ids into a malloc'd array (*ids; free it); how many (0 for none, or out of
 * memory). CPUs past 1,023 count: a fixed cpu_set_t would drop them. */
static int place_cpus(int p, int **ids)
{
    int n = omp_get_place_num_procs(p);
    *ids = n > 0 ? malloc((size_t)n * sizeof **ids) : NULL;
    if (!*ids) return 0;
    omp_get_place_proc_ids(p, *ids);
    return n;
}

static int by_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* With OpenMP binding threads (OMP_PROC_BIND, OMP_PLACES, GOMP_CPU_AFFINITY), a team gets no
 * more CPUs than its places hold: threads beyond them share CPUs. OMP_PROC_BIND=master, or
 * OMP_PLACES={0} on 2 cores, put both threads of the default team on one CPU and ran 45 times
 * slower. The distinct CPUs of the places (a place such as a socket holds many; for master,
 * the initial thread's place alone); INT_MAX when OpenMP does not bind. */
static int team_place_cap(void)
{
    omp_proc_bind_t b = omp_get_proc_bind();
    if (b == omp_proc_bind_false) return INT_MAX;
    int places = omp_get_num_places(), first = 0;
    if (b == omp_proc_bind_master) { /* the whole team in the initial thread's place */
        first = omp_get_place_num();
        if (first < 0) return INT_MAX;
        places = first + 1;
    }
    if (places <= 0) return INT_MAX;
    size_t total = 0;
    for (int p = first; p < places; p++) {
        int n = omp_get_place_num_procs(p);
        total += n > 0 ? (size_t)n : 0;
    }
    int *all = total ? malloc(total * sizeof *all) : NULL;
    if (!all) return INT_MAX;
    size_t k = 0;
    for (int p = first; p < places; p++) {
        int *ids, n = place_cpus(p, &ids);
        for (int i = 0; i < n && k < total; i++)
            if (ids[i] >= 0) all[k++] = ids[i];
        free(ids);
    }
    qsort(all, k, sizeof *all, by_int);
    int cpus = 0;
    for (size_t i = 0; i < k; i++) cpus += i == 0 || all[i] != all[i - 1];
    free(all);
    return cpus > 0 ? cpus : INT_MAX;
}

/* The next item of an OMP_PROC_BIND list at *q, lower case, into word[16] (empty when longer
 * than any word libgomp knows); *q moves past it and the blanks after it. */
static void bind_item(const char **q, char word[16])
{
    while (isspace((unsigned char)**q)) (*q)++;
    size_t n = 0;
    for (; **q && **q != ',' && !isspace((unsigned char)**q); (*q)++)
        if (n < 16) word[n++] = (char)tolower((unsigned char)**q);
    word[n < 16 ? n : 0] = 0;
    while (isspace((unsigned char)**q)) (*q)++;
}

bool occam_team_binding_off(void)
{
    const char *q = getenv("OMP_PROC_BIND");
    char w[16];
    if (!q) return false;
    bind_item(&q, w);
    return strcmp(w, "false") == 0;
}

/* OpenMP's binding variables that libgomp rejects, with a warning of its own, and then runs
 * without: OMP_PLACES naming no CPU this machine has ("{5},{6}" on 2 CPUs) or
 * OMP_PROC_BIND = "sideways". occam said "OpenMP owns thread binding", and nothing bound the
 * threads. An empty value reads as unset, as libgomp reads it. */
static int team_check_binding_vars(occam_error *err)
{
    static const char *const words[] = {"false", "true", "master", "primary", "close", "spread"};
    /* an empty value: libgomp warns that it is invalid and runs without it, as for every
     * other variable it reads (OMP_NUM_THREADS, OMP_THREAD_LIMIT, ...): refused alike */
    static const char *const binding_vars[] = {"OMP_PROC_BIND", "OMP_PLACES", "GOMP_CPU_AFFINITY"};
    for (size_t i = 0; i < sizeof binding_vars / sizeof binding_vars[0]; i++) {
        const char *v = getenv(binding_vars[i]);
        const char *q = v;
        while (q && isspace((unsigned char)*q)) q++;
        if (q && !*q)
            return occam_error_set(err, OCCAM_ERR_INPUT, "%s = \"%s\": empty (libgomp only warns "
                                   "that it is invalid); set it or unset it", binding_vars[i], v);
    }
    const char *pb = getenv("OMP_PROC_BIND");
    if (pb && *pb) {
        /* every item of the list must be a word libgomp knows; true and false stand alone
         * (libgomp ignores "true,false" or "spread,false" with a warning, and its threads ran
         * unbound while occam said OpenMP bound them) */
        const char *q = pb;
        for (int item = 0;; item++) {
            char w[16];
            bind_item(&q, w);
            bool known = false;
            for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
                known |= strcmp(w, words[i]) == 0;
            bool alone = !strcmp(w, "true") || !strcmp(w, "false");
            if (!known || (*q && *q != ',') || (alone && (item > 0 || *q)))
                return occam_error_set(err, OCCAM_ERR_INPUT, "OMP_PROC_BIND = \"%s\": expected "
                                       "true, false, primary, master, close or spread, or a "
                                       "list of the last four; fix or unset it", pb);
            if (!*q) break;
            q++;
        }
    }
    static const char *const place_vars[] = {"OMP_PLACES", "GOMP_CPU_AFFINITY"};
    for (size_t i = 0; i < 2; i++) {
        const char *pl = getenv(place_vars[i]);
        if (pl && *pl && !occam_team_binding_off() && omp_get_num_places() <= 0)
            return occam_error_set(err, OCCAM_ERR_INPUT, "%s = \"%s\": OpenMP can use none of "
                                   "its places (libgomp may say why above); fix or unset it",
                                   place_vars[i], pl);
    }
    return OCCAM_OK;
}

/* libgomp's whole numbers, as its parse_unsigned_long reads them: blanks, strtoul's number
 * (a sign allowed: "-0" is 0, "-1" wraps past LONG_MAX), blanks; invalid past LONG_MAX, and at 0
 * unless zero_ok. */
static bool omp_whole(const char *s, bool zero_ok)
{
    while (isspace((unsigned char)*s)) s++;
    if (!*s) return false;
    errno = 0;
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || (long)v < (zero_ok ? 0 : 1)) return false;
    while (isspace((unsigned char)*end)) end++;
    return !*end;
}

/* libgomp's stack sizes, as its parse_stacksize reads them: a whole number, then one of B, K,
 * M or G (K when none), the size within an unsigned long. A negative one it takes as a huge
 * size (and then fails to start threads: "-5B"), so it is refused here too; "-0" is 0, which
 * libgomp, and occam, ignore as under its 16K minimum. */
static bool omp_stacksize(const char *s, size_t *bytes)
{
    while (isspace((unsigned char)*s)) s++;
    if (!*s) return false;
    errno = 0;
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || (*s == '-' && v != 0)) return false;
    while (isspace((unsigned char)*end)) end++;
    int shift = 10;
    if (*end) {
        switch (tolower((unsigned char)*end)) {
        case 'b': shift = 0; break;
        case 'k': break;
        case 'm': shift = 20; break;
        case 'g': shift = 30; break;
        default: return false;
        }
        end++;
        while (isspace((unsigned char)*end)) end++;
    }
    if (*end || ((v << shift) >> shift) != v) return false;
    *bytes = (size_t)(v << shift);
    return true;
}

/* One of two words, either case, blanks around it. */
static bool omp_word(const char *s, const char *a, const char *b)
{
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1])) n--;
    return (n == strlen(a) && !strncasecmp(s, a, n)) || (n == strlen(b) && !strncasecmp(s, b, n));
}

/* OpenMP's other variables that shape occam's teams, where libgomp calls a value invalid (an
 * empty one too) and only warns: OMP_THREAD_LIMIT=1x ran the default team of 2, OMP_STACKSIZE=
 * 32KB took the default stack, each with only libgomp's warning, exit 0. GOMP_STACKSIZE is
 * read only without a valid OMP_STACKSIZE, as libgomp reads it. */
static int team_check_omp_values(occam_error *err)
{
    static const struct {
        const char *name, *expected;
        int kind; /* 0 whole > 0, 1 whole >= 0, 2 stack size, 3 active|passive, 4 true|false */
    } vars[] = {
        {"OMP_THREAD_LIMIT", "a positive whole number", 0},
        {"OMP_MAX_ACTIVE_LEVELS", "a whole number", 1},
        {"OMP_STACKSIZE", "a whole number, then B, K, M or G (K when none), as 64K or 8M", 2},
        {"GOMP_STACKSIZE", "a whole number, then B, K, M or G (K when none), as 64K or 8M", 2},
        {"OMP_WAIT_POLICY", "active or passive", 3},
        {"OMP_DYNAMIC", "true or false", 4},
    };
    size_t bytes;
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i].name);
        if (!v) continue;
        if (!strcmp(vars[i].name, "GOMP_STACKSIZE") && getenv("OMP_STACKSIZE"))
            continue; /* OMP_STACKSIZE, checked above, is valid: libgomp never reads this one */
        bool ok = vars[i].kind == 0   ? omp_whole(v, false)
                  : vars[i].kind == 1 ? omp_whole(v, true)
                  : vars[i].kind == 2 ? omp_stacksize(v, &bytes)
                  : vars[i].kind == 3 ? omp_word(v, "active", "passive")
                                      : omp_word(v, "true", "false");
        if (!ok)
            return occam_error_set(err, OCCAM_ERR_INPUT, "%s = \"%s\": expected %s (libgomp "
                                   "only warns that it is invalid); fix or unset it",
                                   vars[i].name, v, vars[i].expected);
    }
    return OCCAM_OK;
}

/* CPUs the quota in dir allows (0: none, or unreadable). v2: cpu.max "max 100000" or
 * "200000 100000"; v1: cpu.cfs_quota_us (-1: none) over cpu.cfs_period_us. */
static int cgroup_dir_cpus(const char *dir)
{
    char path[4096 + 32];
    long long quota = -1, period = 0;
    snprintf(path, sizeof path, "%s/cpu.max", dir);
    FILE *f = fopen(path, "r");
    if (f) {
        char q[32] = "";
        if (fscanf(f, "%31s %lld", q, &period) != 2 || !strcmp(q, "max")) quota = -1;
        else quota = strtoll(q, NULL, 10);
        fclose(f);
    } else {
        snprintf(path, sizeof path, "%s/cpu.cfs_quota_us", dir);
        if ((f = fopen(path, "r"))) {
            if (fscanf(f, "%lld", &quota) != 1) quota = -1;
            fclose(f);
        }
        snprintf(path, sizeof path, "%s/cpu.cfs_period_us", dir);
        if (quota > 0 && (f = fopen(path, "r"))) {
            if (fscanf(f, "%lld", &period) != 1) period = 0;
            fclose(f);
        }
    }
    if (quota <= 0 || period <= 0) return 0;
    long long cpus = (quota + period - 1) / period;
    return cpus > INT_MAX ? INT_MAX : (int)cpus;
}

/* The smallest quota of dir (= mount + cgroup path) and its ancestors up to the mount. */
static int cgroup_path_cpus(const char *mount, const char *cg)
{
    char dir[4096];
    int n = snprintf(dir, sizeof dir, "%s%s", mount, cg);
    if (n < 0 || (size_t)n >= sizeof dir) return 0;
    size_t root = strlen(mount);
    int best = 0;
    for (;;) {
        int c = cgroup_dir_cpus(dir);
        if (c > 0 && (best == 0 || c < best)) best = c;
        char *slash = strrchr(dir, '/');
        if (!slash || (size_t)(slash - dir) < root) break;
        *slash = 0;
    }
    return best;
}

int occam_team_cgroup_cpus(const char *proc_cgroup, const char *fs_root)
{
    FILE *f = fopen(proc_cgroup, "r");
    if (!f) return 0;
    char line[4096], mount[4096];
    int best = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2 || c2[1] != '/') continue;
        *c2 = 0;
        const char *ctrl = c1 + 1, *cg = c2 + 1;
        int cpus = 0;
        if (!*ctrl) { /* v2: the unified mount, or its place in a hybrid layout */
            snprintf(mount, sizeof mount, "%s", fs_root);
            cpus = cgroup_path_cpus(mount, cg);
            snprintf(mount, sizeof mount, "%s/unified", fs_root);
            int u = cgroup_path_cpus(mount, cg);
            if (u > 0 && (cpus == 0 || u < cpus)) cpus = u;
        } else { /* v1: the cpu controller's mount, named by its controllers */
            bool has_cpu = false;
            for (const char *t = ctrl; *t;) {
                size_t len = strcspn(t, ",");
                has_cpu |= len == 3 && !strncmp(t, "cpu", 3);
                t += len + (t[len] == ',');
            }
            if (!has_cpu) continue;
            snprintf(mount, sizeof mount, "%s/%s", fs_root, ctrl);
            cpus = cgroup_path_cpus(mount, cg);
            if (cpus == 0) {
                snprintf(mount, sizeof mount, "%s/cpu", fs_root);
                cpus = cgroup_path_cpus(mount, cg);
            }
        }
        if (cpus > 0 && (best == 0 || cpus < best)) best = cpus;
    }
    fclose(f);
    return best;
}

int occam_team_thread_limit(void) { return omp_get_thread_limit(); }

/* The CPUs this process may use (before ranks sharing them divide them). */
static int team_procs(void)
{
    /* libgomp's count of the CPUs this process may use, taken before it binds the initial
     * thread: with OMP_PLACES or OMP_PROC_BIND set, the main thread's own affinity mask has
     * already shrunk to one place by the time main() runs. */
    int procs = omp_get_num_procs();
    if (procs <= 0) {
        size_t size;
        cpu_set_t *set = occam_cpumask_self(&size);
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        procs = set ? CPU_COUNT_S(size, set) : n > 0 ? (int)n : 1;
        if (set) CPU_FREE(set);
    }
    int cap = team_place_cap();
    if (cap < procs) procs = cap > 0 ? cap : 1;
    return procs;
}

int occam_team_cores(void)
{
    int procs = team_procs();
    /* Ranks that mpirun left on the same CPUs divide them: rank i of the host's L takes its
     * share (possibly none: then only runtime.oversubscribe lets it run). */
    const occam_comm *w = occam_comm_world();
    if (w->local_size > 1 && w->cores_shared) {
        size_t lo, hi;
        occam_team_split_rows((size_t)procs, w->local_rank, w->local_size, &lo, &hi);
        return (int)(hi - lo);
    }
    return procs;
}

int occam_team_resolve(int requested, bool oversubscribe, const char *origin, int *threads,
                       occam_error *err)
{
    int rc = team_check_binding_vars(err);
    if (rc == OCCAM_OK) rc = team_check_omp_values(err);
    if (rc != OCCAM_OK) return rc;
    /* Ranks mpirun left on the same CPUs share them out (occam_team_cores), but OpenMP's
     * binding puts every rank's threads on the first places: both ranks of
     * `OMP_PLACES=cores mpirun --bind-to none -np 2` ran on CPU 0, CPU 1 idle, with only
     * "OpenMP owns thread binding" said. */
    const occam_comm *world = occam_comm_world();
    if (world->local_size > 1 && world->cores_shared && omp_get_proc_bind() != omp_proc_bind_false)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s is set and mpirun left the %d ranks of "
                               "this host on the same CPUs: each rank's OpenMP binds its threads "
                               "from the first place, so the ranks would share CPUs; bind the "
                               "ranks apart (mpirun --bind-to core, or --map-by with PE=N) or "
                               "unset it, and occam divides the host's cores between the ranks",
                               getenv("OMP_PLACES") ? "OMP_PLACES"
                               : getenv("GOMP_CPU_AFFINITY") ? "GOMP_CPU_AFFINITY"
                                                             : "OMP_PROC_BIND",
                               world->local_size);
    int cores = occam_team_cores();
    if (requested < 0)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s = %d: must be >= 0 (0 = all cores)",
                               origin, requested);
    const occam_comm *w = occam_comm_world();
    /* OMP_THREAD_LIMIT caps every team: a larger one started short, and the run failed at its
     * first team with 'OpenMP gave 1 thread, 2 asked for', exit 1 */
    int limit = omp_get_thread_limit();
    /* OMP_NUM_THREADS, a cluster's usual way to size a job's OpenMP teams, sizes the automatic
     * team too (at most the cores: never oversubscribed unless asked); a value libgomp would
     * only warn about is refused. Its first number counts (a list gives nested levels), and
     * every entry of a list must be one (1,foo ran on with libgomp's warning alone). */
    const char *ont = getenv("OMP_NUM_THREADS");
    if (requested == 0 && ont) {
        long first = 0;
        for (const char *q = ont;; q++) {
            while (isspace((unsigned char)*q)) q++;
            if (*q == '+') q++;
            char *end;
            long v = strtol(q, &end, 10);
            while (isspace((unsigned char)*end)) end++;
            if (!isdigit((unsigned char)*q) || (*end && *end != ',') || v < 1 || v > INT_MAX)
                return occam_error_set(err, OCCAM_ERR_INPUT,
                                       "OMP_NUM_THREADS = \"%s\": expected a positive whole "
                                       "number (threads per team), or a list of them; fix or "
                                       "unset it", ont);
            if (!first) first = v;
            if (!*end) break;
            q = end;
        }
        if (first < cores) cores = (int)first;
    }
    if (requested == 0 && cores > 0) {
        /* a container's CPU quota (docker --cpus, a Kubernetes limit) leaves the mask whole:
         * the automatic team takes the CPUs it allows; a count asked for is taken as asked */
        int quota = occam_team_cgroup_cpus("/proc/self/cgroup", "/sys/fs/cgroup");
        if (quota > 0 && quota < cores) cores = quota;
        *threads = cores < limit ? cores : limit;
        return occam_team_check_env(*threads, err);
    }
    int want = requested ? requested : 1; /* no core left for this rank: one thread */
    if (want > cores && !oversubscribe) {
        int procs = team_procs();
        if (w->local_size > 1 && !requested) /* the automatic count, not one the user set */
            return occam_error_set(err, OCCAM_ERR_INPUT,
                                   "%s = 0 (automatic): no core is left for rank %d (%d ranks "
                                   "share the %d CPU%s this process may use); run fewer ranks "
                                   "per host, or set runtime.oversubscribe = true to run it on "
                                   "one thread anyway", origin, w->rank, w->local_size,
                                   procs, procs == 1 ? "" : "s");
        if (w->local_size > 1)
            return occam_error_set(err, OCCAM_ERR_INPUT,
                                   "%s = %d: more threads than the %d core%s rank %d may use "
                                   "(%d ranks share this host); set runtime.oversubscribe = "
                                   "true to allow it", origin, requested, cores,
                                   cores == 1 ? "" : "s", w->rank, w->local_size);
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "%s = %d: more threads than the %d core%s this process may use%s; "
                               "set runtime.oversubscribe = true to allow it",
                               origin, requested, cores, cores == 1 ? "" : "s",
                               team_place_cap() == cores ? " (OpenMP's places: OMP_PLACES, "
                               "OMP_PROC_BIND or GOMP_CPU_AFFINITY)" : "");
    }
    if (want > limit)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s = %d: more threads than "
                               "OMP_THREAD_LIMIT = %d allows; raise or unset it", origin, want,
                               limit);
    *threads = want;
    return occam_team_check_env(want, err);
}

/* The stack libgomp gives each thread it starts: OMP_STACKSIZE (or GOMP_STACKSIZE), a number
 * with an optional B, K, M or G suffix (K when none), else the C library's default for new
 * threads. A value libgomp would reject falls back to the default, as libgomp does. *from
 * names the variable that set it (NULL: the default). */
static size_t team_stack_bytes_from(const char **from)
{
    const char *names[2] = {"OMP_STACKSIZE", "GOMP_STACKSIZE"};
    *from = NULL;
    size_t bytes = 0;
    for (int i = 0; i < 2; i++) {
        const char *s = getenv(names[i]);
        if (s && omp_stacksize(s, &bytes)) { /* as libgomp reads them: the first valid one */
            *from = names[i];
            return bytes;
        }
    }
    pthread_attr_t attr;
    if (pthread_getattr_default_np(&attr) == 0) {
        pthread_attr_getstacksize(&attr, &bytes);
        pthread_attr_destroy(&attr);
    }
    return bytes ? bytes : (size_t)8 << 20;
}

/* BLIS's kernels run on the worker threads' stacks: at 24 KiB they overflow them (a segfault
 * in bli_sgemm at OMP_STACKSIZE=16K or 24K; 32K runs). A stack set under this floor, twice
 * that, is refused before any worker starts; libgomp itself ignores values under 16K and keeps
 * its default, and so does this check. */
enum { TEAM_STACK_FLOOR = 64 << 10, TEAM_STACK_IGNORED = 16 << 10 };

/* OpenMP's places may name CPUs this machine does not have (a job script's GOMP_CPU_AFFINITY
 * or OMP_PLACES from a bigger node): libgomp then fails to start a team of nt threads on them
 * and ends the process, "libgomp: Thread creation failed: Invalid argument", exit 1. The
 * places such a team takes are checked: the first nt, or every one under spread. A team of
 * one starts no thread, but libgomp binds the initial thread to place 0: GOMP_CPU_AFFINITY=7
 * on a 2-CPU machine ran one thread, unbound and unsaid. */
static int team_check_places(int nt, occam_error *err)
{
    long conf = sysconf(_SC_NPROCESSORS_CONF);
    int places = omp_get_num_places();
    if (conf <= 0 || places <= 0) return OCCAM_OK;
    /* a team of one uses place 0 alone, spread or not */
    if (nt <= 1) places = 1;
    else if (omp_get_proc_bind() != omp_proc_bind_spread && nt < places) places = nt;
    const char *var = getenv("OMP_PLACES") ? "OMP_PLACES"
                      : getenv("GOMP_CPU_AFFINITY") ? "GOMP_CPU_AFFINITY" : "OMP_PROC_BIND";
    for (int p = 0; p < places; p++) {
        int *ids, n = place_cpus(p, &ids), bad = -1;
        for (int i = 0; i < n && bad < 0; i++)
            if (ids[i] < 0 || ids[i] >= conf) bad = ids[i];
        free(ids);
        if (bad >= 0 || n == 0)
            return n == 0 ? occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory reading "
                                            "OpenMP's places")
                          : occam_error_set(err, OCCAM_ERR_INPUT, "%s = %s: place %d names CPU "
                                            "%d, but this machine has CPUs 0 to %ld; fix or "
                                            "unset it", var, getenv(var) ? getenv(var) : "", p,
                                            bad, conf - 1);
    }
    return OCCAM_OK;
}

int occam_team_check_env(int nt, occam_error *err)
{
    const char *from;
    size_t bytes = team_stack_bytes_from(&from);
    int rc = team_check_places(nt, err);
    if (rc != OCCAM_OK) return rc;
    if (nt < 2 || !from || bytes >= TEAM_STACK_FLOOR || bytes < TEAM_STACK_IGNORED)
        return OCCAM_OK;
    return occam_error_set(err, OCCAM_ERR_INPUT, "%s = %s: %zu bytes per worker thread, below "
                           "the %dK occam's threads need (BLIS's kernels overflow smaller "
                           "stacks); raise or unset it, or use --threads 1", from, getenv(from),
                           bytes, TEAM_STACK_FLOOR >> 10);
}

/* The largest team started so far: its threads stay in libgomp's pool, so only a larger team
 * creates threads. Read and written only by serial code. */
static int team_started = 1;

/* Threads that wait until released: all of them alive at once, as a team's are. */
typedef struct gate {
    pthread_mutex_t m;
    pthread_cond_t c;
    int open;
} gate;

static void *wait_at_gate(void *arg)
{
    gate *g = arg;
    pthread_mutex_lock(&g->m);
    while (!g->open) pthread_cond_wait(&g->c, &g->m);
    pthread_mutex_unlock(&g->m);
    return NULL;
}

/* Whether `fresh` more threads can exist at once: a limit on processes and threads (ulimit -u,
 * RLIMIT_NPROC, a container's pids limit) made libgomp end the process without occam's word
 * ("libgomp: Thread creation failed", exit 1), after select's finished points but before its
 * report. 0, or the errno of the first thread that could not be created. */
static int threads_can_start(size_t fresh)
{
    gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
    pthread_t *t = malloc(fresh * sizeof *t);
    if (!t) return ENOMEM;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, (size_t)PTHREAD_STACK_MIN + ((size_t)64 << 10));
    size_t made = 0;
    int e = 0;
    while (made < fresh && !(e = pthread_create(&t[made], &attr, wait_at_gate, &g))) made++;
    pthread_attr_destroy(&attr);
    pthread_mutex_lock(&g.m);
    g.open = 1;
    pthread_cond_broadcast(&g.c);
    pthread_mutex_unlock(&g.m);
    for (size_t i = 0; i < made; i++) pthread_join(t[i], NULL);
    free(t);
    return e;
}

/* libgomp ends the process (exit 1, "Thread creation failed") when it cannot create a thread,
 * which under a memory limit (ulimit -v) means it cannot map the thread's stack. So before a
 * team grows, the stacks it needs are mapped once and released: if that fails, the run stops
 * here with a message and a status instead. */
static int team_check_stacks(int nt, occam_error *err)
{
    if (nt <= team_started) return OCCAM_OK;
    int rc = occam_team_check_env(nt, err);
    if (rc != OCCAM_OK) return rc;
    /* + a MiB each for the guard page, thread-local storage and libgomp's own records */
    const char *from;
    size_t each = team_stack_bytes_from(&from) + ((size_t)1 << 20);
    size_t fresh = (size_t)(nt - team_started);
    if (each > SIZE_MAX / fresh)
        return occam_error_set(err, OCCAM_ERR_RUNTIME,
                               "out of memory for %d threads' stacks (OMP_STACKSIZE)", nt);
    void *p = mmap(NULL, each * fresh, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (p == MAP_FAILED)
        return occam_error_set(err, OCCAM_ERR_RUNTIME,
                               "out of memory: cannot start %d threads (%zu MiB of thread "
                               "stacks); free memory, use fewer threads (--threads) or a smaller "
                               "OMP_STACKSIZE",
                               nt, (each * fresh) >> 20);
    munmap(p, each * fresh);
    int e = threads_can_start(fresh);
    if (e)
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "cannot start %d threads: %s (a limit on "
                               "processes and threads, as ulimit -u or a container's pids limit "
                               "sets?); use fewer threads (--threads) or raise the limit", nt,
                               strerror(e));
    return OCCAM_OK;
}

int occam_team_run(int nt, const occam_affinity *aff, occam_team_fn fn, void *ctx,
                   occam_error *err)
{
    OCCAM_ASSERT(nt >= 1 && fn);
    int rc = team_check_stacks(nt, err);
    if (rc != OCCAM_OK) return rc;
    /* With dynamic adjustment on, OpenMP may legally start fewer threads than num_threads
     * asks for; off, only the thread limit and nesting can shorten the team. It stays off for
     * the process (OMP_DYNAMIC=true is overridden): every team occam starts needs its size. */
    omp_set_dynamic(0);
    /* OMP_MAX_ACTIVE_LEVELS=0 makes every parallel region a team of one; occam's need one
     * level (a team inside another stays short, and is refused below) */
    if (omp_get_max_active_levels() < 1) omp_set_max_active_levels(1);
    void (*bind)(void *, int) = aff ? aff->bind : NULL;
    void *bind_ctx = aff ? aff->ctx : NULL;
    int got = nt;
#pragma omp parallel num_threads(nt) default(none) shared(got) \
    firstprivate(nt, fn, ctx, bind, bind_ctx)
    {
        /* Every thread reads the same team size, so all of them take the same branch without
         * talking to each other: on a short team none runs fn. */
        int size = omp_get_num_threads(), t = omp_get_thread_num();
        if (size != nt) {
            if (t == 0) got = size;
        } else {
            if (bind) bind(bind_ctx, t);
            fn(ctx, t, nt);
        }
    }
    if (got == nt && nt > team_started) team_started = nt;
    if (got != nt)
        return occam_error_set(err, OCCAM_ERR_RUNTIME,
                               "OpenMP gave %d thread%s, %d asked for: check OMP_THREAD_LIMIT, "
                               "and that no team is started inside another (nesting is off)",
                               got, got == 1 ? "" : "s", nt);
    return OCCAM_OK;
}

void occam_team_split_rows(size_t n, int t, int nt, size_t *lo, size_t *hi)
{
    size_t q = n / (size_t)nt, r = n % (size_t)nt, ut = (size_t)t;
    *lo = ut * q + (ut < r ? ut : r);
    *hi = *lo + q + (ut < r ? 1 : 0);
}

void occam_team_split_aligned(size_t n, size_t align, int t, int nt, size_t *lo, size_t *hi)
{
    size_t units = (n + align - 1) / align;
    size_t ulo, uhi;
    occam_team_split_rows(units, t, nt, &ulo, &uhi);
    *lo = ulo * align < n ? ulo * align : n;
    *hi = uhi * align < n ? uhi * align : n;
}

bool occam_team_in_parallel(void) { return omp_in_parallel(); }
