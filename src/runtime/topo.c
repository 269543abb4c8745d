/* Topology discovery (hwloc) and the thread placement plan.
 *
 * occam_topo_open loads one hwloc topology and flattens what the plan needs into arrays: the
 * cores in logical order, each with its NUMA node, package and PUs (OS indices, first PU
 * first). The plan never touches hwloc again, so it is pure arithmetic and the tests check it
 * on synthetic machines.
 *
 * hwloc 2 hangs NUMA nodes beside the cores as memory children, not above them. So a core
 * belongs to the first node (by logical index) whose cpuset holds the core's cpuset. Nodes
 * without PUs (memory-only, such as HBM or CXL) get no cores and never get a thread. A
 * description without cores (e.g. "numa:2 pu:4") treats each PU as a core.
 *
 * Both placements come from one "core order": compact walks node 0's cores, then node 1's, and
 * so on; spread takes the next unused core of each node in turn. Thread t < cores goes to the
 * first PU of core order[t]. Oversubscribed thread t goes to PU (t / cores) of core
 * order[t % cores], modulo that core's PU count, so SMT siblings fill before threads wrap.
 *
 * When occam binds, the plan keeps to the CPUs the process was started on (`taskset`,
 * `numactl --physcpubind`, a batch system's binding): a core with none of them gets no thread,
 * and a thread goes only to its core's PUs in that mask. The mask is read once, at the first
 * occam_topo_open, before occam has bound anything: binding the main thread shrinks its own
 * mask, and a later plan in the same process (each point of a `select` grid) must not take
 * that one PU for the machine. The topology itself stays whole, so NUMA nodes and the plan of
 * a run occam does not bind (mpirun's per-core binding, OpenMP's places) are unchanged. */
#include "occam/topo.h"

#include "occam/cpumask.h"
#include "occam/fsutil.h"

#include "occam/team.h"

#include <errno.h>
#include <fcntl.h>
#include <hwloc.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "occam/json.h"

struct occam_topo {
    hwloc_topology_t hw;
    occam_topo_info info;
    char *source;
    occam_topo_node *node; /* [info.nodes] */
    int ncores;            /* cores with at least one PU (== info.cores) */
    int *core_index;       /* [ncores] the core's number, shown: occam's own, in tree order */
    int *core_node;        /* [ncores] logical NUMA node */
    int *core_package;     /* [ncores] logical package, -1 if none */
    int *core_first;       /* [ncores + 1] start of the core's PUs in pu_os */
    int *pu_os;            /* [info.pus] PU OS indices grouped by core */
};

static const char *placement_name(occam_placement p)
{
    return p == OCCAM_PLACE_SPREAD ? "spread" : "compact";
}

static const char *bind_name(occam_bind b) { return b == OCCAM_BIND_CORE ? "core" : "none"; }

/* ---- discovery ---------------------------------------------------------------------------- */

static int nobjs(hwloc_topology_t hw, hwloc_obj_type_t type)
{
    int n = hwloc_get_nbobjs_by_type(hw, type);
    return n > 0 ? n : 0; /* -1: several depths (cannot happen for these types) */
}

static occam_topo_cache cache_of(hwloc_topology_t hw, hwloc_obj_type_t type)
{
    occam_topo_cache c = {0, nobjs(hw, type)};
    hwloc_obj_t o = c.count ? hwloc_get_obj_by_type(hw, type, 0) : NULL;
    if (o && o->attr) c.size = o->attr->cache.size;
    return c;
}

/* The logical index of the first NUMA node whose cpuset holds cpuset; else the first that
 * overlaps it; else 0. */
static int node_holding(hwloc_topology_t hw, int nodes, hwloc_const_cpuset_t cpuset)
{
    for (int pass = 0; pass < 2; pass++)
        for (int n = 0; n < nodes; n++) {
            hwloc_obj_t o = hwloc_get_obj_by_type(hw, HWLOC_OBJ_NUMANODE, (unsigned)n);
            if (!o || !o->cpuset || hwloc_bitmap_iszero(o->cpuset)) continue;
            if (pass == 0 ? hwloc_bitmap_isincluded(cpuset, o->cpuset)
                          : hwloc_bitmap_intersects(cpuset, o->cpuset))
                return n;
        }
    return 0;
}

/* Fills the flat arrays from the loaded hwloc topology. */
static int collect(occam_topo *tp, occam_error *err)
{
    hwloc_topology_t hw = tp->hw;
    occam_topo_info *in = &tp->info;
    in->this_system = hwloc_topology_is_thissystem(hw) == 1;
    in->packages = nobjs(hw, HWLOC_OBJ_PACKAGE);
    in->nodes = nobjs(hw, HWLOC_OBJ_NUMANODE);
    in->pus = nobjs(hw, HWLOC_OBJ_PU);
    in->l1d = cache_of(hw, HWLOC_OBJ_L1CACHE);
    in->l2 = cache_of(hw, HWLOC_OBJ_L2CACHE);
    in->l3 = cache_of(hw, HWLOC_OBJ_L3CACHE);
    if (in->nodes == 0 || in->pus == 0) /* defensive: hwloc 2 always has both */
        return occam_error_set(err, OCCAM_ERR_INPUT, "topology %s has %s", tp->source,
                               in->pus ? "no NUMA node" : "no PU");

    /* At most one "core" per PU: a PU outside every Core object (a topology without cores,
     * or an XML that hangs some PUs straight under a package) is a core of its own. */
    int ncand = in->pus;
    tp->node = calloc((size_t)in->nodes, sizeof *tp->node);
    tp->core_index = malloc((size_t)ncand * sizeof(int));
    tp->core_node = malloc((size_t)ncand * sizeof(int));
    tp->core_package = malloc((size_t)ncand * sizeof(int));
    tp->core_first = malloc(((size_t)ncand + 1) * sizeof(int));
    tp->pu_os = malloc((size_t)in->pus * sizeof(int));
    if (!tp->node || !tp->core_index || !tp->core_node || !tp->core_package || !tp->core_first ||
        !tp->pu_os)
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory reading the topology");

    for (int n = 0; n < in->nodes; n++) {
        hwloc_obj_t o = hwloc_get_obj_by_type(hw, HWLOC_OBJ_NUMANODE, (unsigned)n);
        tp->node[n].os_index = (int)o->os_index;
        if (hwloc_bitmap_list_asprintf(&tp->node[n].cpuset, o->cpuset) < 0)
            return occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory reading the topology");
    }

    /* PUs in logical (tree) order, so a core's PUs come together; each PU belongs to the Core
     * that is its ancestor in the tree, not to every Core whose cpuset claims it (an XML hwloc
     * accepts may give a core a cpuset wider than its children) */
    int npu = 0, nc = 0;
    hwloc_obj_t cur = NULL;
    for (int i = 0; i < in->pus; i++) {
        hwloc_obj_t pu = hwloc_get_obj_by_type(hw, HWLOC_OBJ_PU, (unsigned)i);
        hwloc_obj_t core = hwloc_get_ancestor_obj_by_type(hw, HWLOC_OBJ_CORE, pu);
        hwloc_obj_t owner = core ? core : pu;
        if (owner != cur) {
            hwloc_obj_t pkg = hwloc_get_ancestor_obj_by_type(hw, HWLOC_OBJ_PACKAGE, pu);
            tp->core_index[nc] = nc;
            tp->core_node[nc] = node_holding(hw, in->nodes, owner->cpuset);
            tp->core_package[nc] = pkg ? (int)pkg->logical_index : -1;
            tp->core_first[nc] = npu;
            tp->node[tp->core_node[nc]].cores++;
            nc++;
            cur = owner;
        }
        tp->pu_os[npu++] = (int)pu->os_index;
    }
    tp->core_first[nc] = npu;
    for (int c = 0; c < nc; c++)
        tp->node[tp->core_node[c]].pus += tp->core_first[c + 1] - tp->core_first[c];
    tp->ncores = in->cores = nc;
    in->node = tp->node;
    if (nc == 0)
        return occam_error_set(err, OCCAM_ERR_INPUT, "topology %s has no usable core",
                               tp->source);
    return OCCAM_OK;
}

/* libxml2 refuses an in-memory document over 10,000,000 bytes ("Huge input lookup"), which a
 * machine of some 12,000 PUs exports; hwloc's own parser has no such limit. hwloc reads its
 * switch once a process, at the first XML it parses, so a big file decides before that. A
 * choice the user made in the environment stands. */
static void xml_parser_for(int len)
{
    if (len > 10000000 && !getenv("HWLOC_LIBXML") && !getenv("HWLOC_LIBXML_IMPORT"))
        setenv("HWLOC_LIBXML_IMPORT", "0", 0);
}

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* As many PUs as a plan has threads at most (--threads goes to 4096). Loading and flattening
 * a synthetic topology takes time that grows faster than its size: 4096 PUs take under a
 * second, 16384 nearly a minute, and "package:100000 core:100000 pu:100" never ended. */
#define TOPO_SYNTHETIC_MAX_PUS 4096

/* The PUs a synthetic description makes: the product of its levels' arities ("type:N" or
 * "N", attributes in parentheses and memory children in brackets skipped), saturating at
 * ULLONG_MAX. A level hwloc would reject may count as anything: hwloc refuses it after. */
static unsigned long long topo_synthetic_pus(const char *d)
{
    unsigned long long pus = 1;
    for (const char *t = d; *t;) {
        while (*t == ' ' || *t == '\t') t++;
        if (!*t) break;
        const char *colon = NULL, *start = t;
        int depth = 0;
        for (; *t && (depth > 0 || (*t != ' ' && *t != '\t')); t++) {
            if (*t == '(' || *t == '[') depth++;
            else if ((*t == ')' || *t == ']') && depth > 0) depth--;
            else if (*t == ':' && depth == 0 && !colon) colon = t;
        }
        if (*start == '[') continue; /* a memory child: no PUs */
        const char *num = colon ? colon + 1 : start;
        if (*num < '0' || *num > '9') continue;
        unsigned long long n = strtoull(num, NULL, 10);
        pus = n && pus > ULLONG_MAX / n ? ULLONG_MAX : pus * n;
    }
    return pus;
}

enum { TOPO_XML_MAX = 64 << 20 }; /* bytes: a 4,096-PU export is a few MB */

/* The XML file read whole, NUL-terminated (*len counts the NUL, as hwloc's own exports do).
 * hwloc would open it by name itself: a FIFO without a writer blocked that open, before the
 * run's signal handling could end it, swallowing the first SIGINT. Opened without blocking,
 * such a FIFO reads as empty; a pipe with a writer (/dev/stdin, <(lstopo --of xml)) is read
 * to its end. */
static int read_xml(const char *origin, const char *shown, const char *path, char **buf,
                    int *len, occam_error *err)
{
    struct stat st;
    bool known = stat(path, &st) == 0;
    if (known && S_ISDIR(st.st_mode))
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s = \"%s\": is a folder, not an XML "
                               "file", origin, shown);
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s = \"%s\": cannot open (%s)", origin,
                               shown, strerror(errno));
    (void)occam_fsutil_blocking(fd); /* a writer's data is waited for */
    size_t n = 0, cap = 1 << 16;
    char *b = malloc(cap);
    int rc = b ? OCCAM_OK : occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory");
    while (rc == OCCAM_OK) {
        if (n + 1 == cap) {
            char *nb = cap < TOPO_XML_MAX ? realloc(b, cap *= 2) : NULL;
            if (!nb) {
                rc = occam_error_set(err, OCCAM_ERR_INPUT, "%s = \"%s\": larger than %d MiB, "
                                     "more than a topology's XML", origin, shown,
                                     TOPO_XML_MAX >> 20);
                break;
            }
            b = nb;
        }
        ssize_t got = read(fd, b + n, cap - 1 - n);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0)
            rc = occam_error_set(err, OCCAM_ERR_INPUT, "%s = \"%s\": cannot read (%s)", origin,
                                 shown, strerror(errno));
        if (got <= 0) break;
        n += (size_t)got;
    }
    close(fd);
    if (rc == OCCAM_OK && n == 0)
        rc = occam_error_set(err, OCCAM_ERR_INPUT, "%s = \"%s\": is empty%s", origin, shown,
                             known && S_ISFIFO(st.st_mode) ? " (a FIFO with no writer?)" : "");
    if (rc != OCCAM_OK) {
        free(b);
        return rc;
    }
    b[n] = 0;
    *buf = b;
    *len = (int)n + 1;
    return OCCAM_OK;
}

/* The CPU mask the process started with (see the top of the file); NULL if unreadable. */
static cpu_set_t *start_mask;
static size_t start_mask_size;
static pthread_once_t start_mask_once = PTHREAD_ONCE_INIT;

static void read_start_mask(void) { start_mask = occam_cpumask_self(&start_mask_size); }

/* Is OS processor `os` in the process's starting mask (true when it is unknown)? */
static bool pu_allowed(int os)
{
    return !start_mask || occam_cpumask_has(start_mask, start_mask_size, os);
}

int occam_topo_open(occam_topo **out, const char *spec, occam_error *err)
{
    pthread_once(&start_mask_once, read_start_mask);
    enum { REAL, SYNTHETIC, XML } kind = REAL;
    const char *origin = "runtime.topology", *shown = spec ? spec : "", *arg = "";
    *out = NULL;
    if (!spec || !*spec) {
        /* hwloc would read these itself; choosing here fixes the precedence and the source. */
        const char *e;
        if ((e = getenv("HWLOC_SYNTHETIC"))) {
            kind = SYNTHETIC, origin = "HWLOC_SYNTHETIC", shown = arg = e;
        } else if ((e = getenv("HWLOC_XMLFILE"))) {
            kind = XML, origin = "HWLOC_XMLFILE", shown = arg = e;
        }
    } else if (has_prefix(spec, "synthetic:")) {
        kind = SYNTHETIC, arg = spec + strlen("synthetic:");
    } else if (has_prefix(spec, "xml:")) {
        kind = XML, arg = spec + strlen("xml:");
    } else {
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "runtime.topology = \"%s\": expected \"\" (this machine), "
                               "\"synthetic:<hwloc description>\" or \"xml:<file>\"", spec);
    }
    if (kind != REAL && !*arg)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s = \"%s\": the %s is empty", origin,
                               shown, kind == XML ? "XML file name" : "synthetic description");

    occam_topo *tp = calloc(1, sizeof *tp);
    size_t cap = strlen(arg) + sizeof "synthetic:this system"; /* room for either form */
    if (tp) tp->source = malloc(cap);
    if (!tp || !tp->source) {
        occam_topo_free(tp);
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory loading the topology");
    }
    const char *prefix = kind == REAL ? "this system" : kind == XML ? "xml:" : "synthetic:";
    snprintf(tp->source, cap, "%s%s", prefix, arg);
    tp->info.source = tp->source;
    if (hwloc_topology_init(&tp->hw) != 0) { /* leaves tp->hw NULL */
        occam_topo_free(tp);
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "hwloc: cannot initialise a topology");
    }

    int rc = OCCAM_OK;
    unsigned long long pus = kind == SYNTHETIC ? topo_synthetic_pus(arg) : 0;
    char *xml = NULL; /* kept until the load has parsed it */
    int xml_len = 0;
    if (kind == XML) rc = read_xml(origin, shown, arg, &xml, &xml_len, err);
    if (kind == XML && rc == OCCAM_OK) xml_parser_for(xml_len);
    if (rc != OCCAM_OK) {
        /* read_xml said why */
    } else if (pus > TOPO_SYNTHETIC_MAX_PUS)
        rc = occam_error_set(err, OCCAM_ERR_INPUT,
                             "%s = \"%s\": describes %llu PUs, more than the %d a synthetic "
                             "topology may have", origin, shown, pus, TOPO_SYNTHETIC_MAX_PUS);
    else if (kind == SYNTHETIC && hwloc_topology_set_synthetic(tp->hw, arg) != 0)
        rc = occam_error_set(err, OCCAM_ERR_INPUT,
                             "%s = \"%s\": hwloc rejects the synthetic description (expected "
                             "levels such as \"package:2 numa:2 core:4 pu:1\")", origin, shown);
    else if (kind == XML && hwloc_topology_set_xmlbuffer(tp->hw, xml, xml_len) != 0)
        rc = occam_error_set(err, OCCAM_ERR_INPUT, "%s = \"%s\": hwloc cannot read XML (%s)",
                             origin, shown, strerror(errno));
    else if (hwloc_topology_load(tp->hw) != 0)
        /* HWLOC_COMPONENTS=stop (or a list naming no discovery component) leaves hwloc nothing
         * to discover with: the variable is named, an input of the environment's */
        rc = kind == REAL && getenv("HWLOC_COMPONENTS") && *getenv("HWLOC_COMPONENTS")
                 ? occam_error_set(err, OCCAM_ERR_INPUT, "hwloc: cannot discover this machine's "
                                   "topology (%s) with HWLOC_COMPONENTS = \"%s\", which chooses "
                                   "its discovery components; fix or unset it", strerror(errno),
                                   getenv("HWLOC_COMPONENTS"))
             : kind == REAL
                 ? occam_error_set(err, OCCAM_ERR_RUNTIME, "hwloc: cannot discover this "
                                   "machine's topology (%s)", strerror(errno))
                 : occam_error_set(err, OCCAM_ERR_INPUT, "%s = \"%s\": hwloc cannot load %s (%s)",
                                   origin, shown, kind == XML ? "this XML file" : "it",
                                   strerror(errno));
    free(xml);
    if (rc == OCCAM_OK) rc = collect(tp, err);
    if (rc != OCCAM_OK) {
        occam_topo_free(tp);
        return rc;
    }
    *out = tp;
    return OCCAM_OK;
}

void occam_topo_free(occam_topo *tp)
{
    if (!tp) return;
    if (tp->node)
        for (int n = 0; n < tp->info.nodes; n++) free(tp->node[n].cpuset);
    free(tp->node);
    free(tp->core_index);
    free(tp->core_node);
    free(tp->core_package);
    free(tp->core_first);
    free(tp->pu_os);
    if (tp->hw) hwloc_topology_destroy(tp->hw);
    free(tp->source);
    free(tp);
}

const occam_topo_info *occam_topo_describe(const occam_topo *tp) { return &tp->info; }

/* ---- plan ----------------------------------------------------------------------------------- */

/* The PUs of core c a thread may take: all of them, or (masked) those in the starting mask. */
static int core_pus_allowed(const occam_topo *tp, int c, bool masked)
{
    int n = 0;
    for (int i = tp->core_first[c]; i < tp->core_first[c + 1]; i++)
        n += !masked || pu_allowed(tp->pu_os[i]);
    return n;
}

/* The OS index of the k-th of those PUs. */
static int core_pu(const occam_topo *tp, int c, int k, bool masked)
{
    for (int i = tp->core_first[c]; i < tp->core_first[c + 1]; i++)
        if ((!masked || pu_allowed(tp->pu_os[i])) && k-- == 0) return tp->pu_os[i];
    OCCAM_ASSERT(0 && "k is below core_pus_allowed");
    return tp->pu_os[tp->core_first[c]];
}

/* order[ncores]: the cores in the sequence threads take them. start[nodes + 1] and
 * scratch[ncores] are work space. */
static void core_order(const occam_topo *tp, occam_placement placement, int *order, int *start,
                       int *scratch)
{
    int nodes = tp->info.nodes, nc = tp->ncores, k = 0;
    /* Compact order, and where each node's run of it starts. */
    for (int n = 0; n < nodes; n++) {
        start[n] = k;
        for (int c = 0; c < nc; c++)
            if (tp->core_node[c] == n) order[k++] = c;
    }
    start[nodes] = k;
    OCCAM_ASSERT(k == nc);
    if (placement == OCCAM_PLACE_COMPACT) return;
    /* Spread: deal the nodes' runs out round-robin; nodes that run out drop out. */
    memcpy(scratch, order, (size_t)nc * sizeof(int));
    k = 0;
    for (int round = 0; k < nc; round++)
        for (int n = 0; n < nodes; n++)
            if (start[n] + round < start[n + 1]) order[k++] = scratch[start[n] + round];
}

int occam_topo_plan_create(occam_topo_plan *plan, const occam_topo *tp, occam_topo_params p,
                           occam_error *err)
{
    memset(plan, 0, sizeof *plan);
    const char *origin = p.origin ? p.origin : "runtime.threads";
    int nc = tp->ncores, nodes = tp->info.nodes;
    if (p.threads < 0)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s = %d: must be >= 0 (0 = one per core)",
                               origin, p.threads);
    plan->binds = occam_topo_bind_owner(tp, p.bind, plan->notice, sizeof plan->notice);
    /* Binding keeps to the process's starting mask: only cores with a PU in it take threads
     * (all of them if it holds none of the topology's, which cannot happen on this system). */
    bool masked = false;
    int usable = nc;
    if (plan->binds && start_mask) {
        usable = 0;
        for (int c = 0; c < nc; c++) usable += core_pus_allowed(tp, c, true) > 0;
        masked = usable > 0;
        if (!masked) usable = nc;
    }
    /* This rank's cores: its contiguous part of the placement order (all of it alone); a rank
     * left without one (more ranks than cores, oversubscribed) wraps onto core share mod nc. */
    int shares = p.shares > 1 ? p.shares : 1, share = shares > 1 ? p.share : 0;
    size_t clo, chi;
    occam_team_split_rows((size_t)usable, share, shares, &clo, &chi);
    int ncs = (int)(chi - clo);
    int nt = p.threads ? p.threads : ncs > 0 ? ncs : 1;
    if (nt > ncs && !p.oversubscribe) {
        bool shrunk = masked && usable < nc; /* the mask leaves out some of the cores */
        char cores[96];
        if (shrunk)
            snprintf(cores, sizeof cores, "the %d core%s of its CPU mask, of %d on the host",
                     usable, usable == 1 ? "" : "s", nc);
        else
            snprintf(cores, sizeof cores, "its %d core%s", usable, usable == 1 ? "" : "s");
        if (shares > 1)
            return occam_error_set(err, OCCAM_ERR_INPUT,
                                   "%s = %d: more threads than the %d core%s rank %d of this "
                                   "host gets (%d ranks share %s); set runtime.oversubscribe "
                                   "= true to allow it", origin, nt, ncs, ncs == 1 ? "" : "s",
                                   share, shares, cores);
        if (shrunk)
            return occam_error_set(err, OCCAM_ERR_INPUT,
                                   "%s = %d: more threads than the %d core%s this process may "
                                   "run on (its CPU mask, as taskset or a batch system set it, "
                                   "holds %d of the machine's %d cores, one thread each); set "
                                   "runtime.oversubscribe = true to allow it", origin, nt, usable,
                                   usable == 1 ? "" : "s", usable, nc);
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "%s = %d: more threads than the %d core%s of the topology (%s); "
                               "set runtime.oversubscribe = true to allow it",
                               origin, nt, nc, nc == 1 ? "" : "s", tp->source);
    }
    if (ncs == 0) {
        clo = (size_t)(share % usable);
        ncs = 1;
    }

    plan->slot = malloc((size_t)nt * sizeof *plan->slot);
    plan->members = malloc((size_t)nt * sizeof(int));
    plan->node_size = calloc((size_t)nodes, sizeof(int));
    plan->leader = malloc((size_t)nodes * sizeof(int));
    plan->first = malloc(((size_t)nodes + 1) * sizeof(int));
    int *order = malloc(2 * (size_t)nc * sizeof(int)); /* the order, then scratch */
    int *start = malloc(((size_t)nodes + 1) * sizeof(int));
    if (!plan->slot || !plan->members || !plan->node_size || !plan->leader || !plan->first ||
        !order || !start) {
        free(order);
        free(start);
        occam_topo_plan_free(plan);
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory planning %d threads", nt);
    }
    plan->threads = nt;
    plan->nodes = nodes;
    plan->placement = p.placement;
    plan->bind = p.bind;
    core_order(tp, p.placement, order, start, order + nc);
    if (masked) { /* the order without the cores outside the mask */
        int k = 0;
        for (int i = 0; i < nc; i++)
            if (core_pus_allowed(tp, order[i], true) > 0) order[k++] = order[i];
        OCCAM_ASSERT(k == usable);
    }

    for (int t = 0; t < nt; t++) {
        int c = order[(int)clo + t % ncs], npus = core_pus_allowed(tp, c, masked);
        occam_topo_slot *s = &plan->slot[t];
        s->thread = t;
        s->pu = core_pu(tp, c, (t / ncs) % npus, masked);
        s->core = tp->core_index[c];
        s->node = tp->core_node[c];
        s->package = tp->core_package[c];
        plan->node_size[s->node]++;
    }
    plan->first[0] = 0;
    for (int n = 0; n < nodes; n++) plan->first[n + 1] = plan->first[n] + plan->node_size[n];
    memcpy(start, plan->first, ((size_t)nodes + 1) * sizeof(int)); /* fill cursors */
    for (int t = 0; t < nt; t++) plan->members[start[plan->slot[t].node]++] = t;
    for (int n = 0; n < nodes; n++)
        plan->leader[n] = plan->node_size[n] ? plan->members[plan->first[n]] : -1;
    free(order);
    free(start);
    return OCCAM_OK;
}

void occam_topo_plan_free(occam_topo_plan *plan)
{
    if (!plan) return;
    free(plan->slot);
    free(plan->members);
    free(plan->node_size);
    free(plan->leader);
    free(plan->first);
    memset(plan, 0, sizeof *plan);
}

int occam_topo_plan_groups(const occam_topo_plan *plan, int *node_of)
{
    int groups = 0;
    for (int n = 0; n < plan->nodes; n++) {
        if (!plan->node_size[n]) continue;
        for (int i = plan->first[n]; i < plan->first[n + 1]; i++)
            node_of[plan->members[i]] = groups;
        groups++;
    }
    return groups;
}

/* ---- binding and memory location ------------------------------------------------------------ */

/* The OpenMP variable that has OpenMP bind the team's threads, or NULL: set, not empty, and
 * not under OMP_PROC_BIND = false (which binds nothing). */
static const char *openmp_binder(void)
{
    static const char *const omp_vars[] = {"OMP_PLACES", "OMP_PROC_BIND", "GOMP_CPU_AFFINITY"};
    if (occam_team_binding_off()) return NULL;
    for (size_t i = 0; i < sizeof omp_vars / sizeof omp_vars[0]; i++)
        if (getenv(omp_vars[i]) && *getenv(omp_vars[i])) return omp_vars[i];
    return NULL;
}

bool occam_topo_bind_owner(const occam_topo *tp, occam_bind bind, char *notice, size_t cap)
{
    if (cap) notice[0] = '\0';
    if (bind == OCCAM_BIND_NONE) return false;
    if (!tp->info.this_system) {
        snprintf(notice, cap, "the topology is not this system: placement shown, threads not "
                              "bound; runtime.bind ignored");
        return false;
    }
    /* OMP_PROC_BIND = false binds nothing, whatever the places say: the user asked for no
     * binding, and the notice said "OpenMP owns thread binding" of threads nobody bound. An
     * empty value is unset, for libgomp too. */
    if (occam_team_binding_off()) {
        snprintf(notice, cap, "OMP_PROC_BIND = false: threads are not bound; runtime.bind "
                              "ignored");
        return false;
    }
    const char *var = openmp_binder();
    if (var) {
        snprintf(notice, cap, "%s is set: OpenMP owns thread binding; runtime.bind ignored", var);
        return false;
    }
    return true;
}

int occam_topo_bind_self(const occam_topo *tp, const occam_topo_plan *plan, int thread,
                         occam_error *err)
{
    OCCAM_ASSERT(thread >= 0 && thread < plan->threads);
    if (!plan->binds) return OCCAM_OK;
    int pu = plan->slot[thread].pu;
    hwloc_obj_t obj = hwloc_get_pu_obj_by_os_index(tp->hw, (unsigned)pu);
    if (!obj)
        return occam_error_set(err, OCCAM_TOPO_WARN, "runtime.bind = core: thread %d: PU %d is "
                               "not in the topology; running unbound", thread, pu);
    if (hwloc_set_cpubind(tp->hw, obj->cpuset, HWLOC_CPUBIND_THREAD) != 0) {
        char buf[128];
        const char *why = strerror_r(errno, buf, sizeof buf); /* GNU: thread-safe, returns text */
        return occam_error_set(err, OCCAM_TOPO_WARN, "runtime.bind = core: cannot bind thread "
                               "%d to PU %d (%s); running unbound", thread, pu, why);
    }
    return OCCAM_OK;
}

int occam_topo_node_of(const occam_topo *tp, const void *addr, size_t len)
{
    if (!tp->info.this_system || !addr || !len) return -1;
    hwloc_nodeset_t set = hwloc_bitmap_alloc();
    if (!set) return -1;
    int node = -1;
    if (hwloc_get_area_memlocation(tp->hw, addr, len, set, HWLOC_MEMBIND_BYNODESET) == 0) {
        int w = hwloc_bitmap_weight(set);
        if (w > 1) {
            node = OCCAM_TOPO_NODE_MIXED;
        } else if (w == 1) {
            hwloc_obj_t o = hwloc_get_numanode_obj_by_os_index(
                tp->hw, (unsigned)hwloc_bitmap_first(set));
            if (o) node = (int)o->logical_index;
        }
    }
    hwloc_bitmap_free(set);
    return node;
}

/* ---- output --------------------------------------------------------------------------------- */

/* "node 0: {0,2} -> 0; node 1: {1,3} -> 1; leaders {0,1} -> every thread's slice", malloc'd
 * (NULL if out of memory). */
static char *tree_text(const occam_topo_plan *plan)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (!f) return NULL;
    int groups = 0;
    for (int n = 0; n < plan->nodes; n++) {
        if (!plan->node_size[n]) continue;
        fprintf(f, "%snode %d: {", groups++ ? "; " : "", n);
        for (int i = plan->first[n]; i < plan->first[n + 1]; i++)
            fprintf(f, "%s%d", i > plan->first[n] ? "," : "", plan->members[i]);
        fprintf(f, "} -> %d", plan->leader[n]);
    }
    if (groups > 1) {
        fprintf(f, "; leaders {");
        for (int n = 0, k = 0; n < plan->nodes; n++)
            if (plan->leader[n] >= 0) fprintf(f, "%s%d", k++ ? "," : "", plan->leader[n]);
        fprintf(f, "} -> every thread's slice");
    }
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static void json_cache(occam_json *j, const char *name, occam_topo_cache c)
{
    occam_json_key(j, name);
    if (!c.count || !c.size) {
        occam_json_null(j);
        return;
    }
    occam_json_begin_object(j);
    occam_json_key(j, "size");
    occam_json_uint(j, c.size);
    occam_json_key(j, "count");
    occam_json_int(j, c.count);
    occam_json_end_object(j);
}

void occam_topo_write_json(const occam_topo *tp, const occam_topo_plan *plan, FILE *out)
{
    const occam_topo_info *in = &tp->info;
    occam_json j;
    occam_json_init(&j, out, true);
    occam_json_begin_object(&j);
    occam_json_key(&j, "source");
    occam_json_string(&j, in->source);
    occam_json_key(&j, "this_system");
    occam_json_bool(&j, in->this_system);
    occam_json_key(&j, "packages");
    occam_json_int(&j, in->packages);
    occam_json_key(&j, "nodes");
    occam_json_begin_array(&j);
    for (int n = 0; n < in->nodes; n++) {
        occam_json_begin_object(&j);
        occam_json_key(&j, "node");
        occam_json_int(&j, n);
        occam_json_key(&j, "os_index");
        occam_json_int(&j, in->node[n].os_index);
        occam_json_key(&j, "cpuset");
        occam_json_string(&j, in->node[n].cpuset);
        occam_json_key(&j, "cores");
        occam_json_int(&j, in->node[n].cores);
        occam_json_key(&j, "pus");
        occam_json_int(&j, in->node[n].pus);
        occam_json_key(&j, "leader");
        if (plan->leader[n] >= 0)
            occam_json_int(&j, plan->leader[n]);
        else
            occam_json_null(&j);
        occam_json_key(&j, "threads");
        occam_json_begin_array(&j);
        for (int i = plan->first[n]; i < plan->first[n + 1]; i++)
            occam_json_int(&j, plan->members[i]);
        occam_json_end_array(&j);
        occam_json_end_object(&j);
    }
    occam_json_end_array(&j);
    occam_json_key(&j, "cores");
    occam_json_int(&j, in->cores);
    occam_json_key(&j, "pus");
    occam_json_int(&j, in->pus);
    occam_json_key(&j, "caches");
    occam_json_begin_object(&j);
    json_cache(&j, "L1d", in->l1d);
    json_cache(&j, "L2", in->l2);
    json_cache(&j, "L3", in->l3);
    occam_json_end_object(&j);
    occam_json_key(&j, "placement");
    occam_json_string(&j, placement_name(plan->placement));
    occam_json_key(&j, "bind");
    occam_json_string(&j, bind_name(plan->bind));
    occam_json_key(&j, "binds");
    occam_json_bool(&j, plan->binds);
    occam_json_key(&j, "notice");
    if (plan->notice[0])
        occam_json_string(&j, plan->notice);
    else
        occam_json_null(&j);
    occam_json_key(&j, "threads");
    occam_json_begin_array(&j);
    for (int t = 0; t < plan->threads; t++) {
        const occam_topo_slot *s = &plan->slot[t];
        occam_json_begin_object(&j);
        occam_json_key(&j, "thread");
        occam_json_int(&j, s->thread);
        occam_json_key(&j, "pu");
        occam_json_int(&j, s->pu);
        occam_json_key(&j, "core");
        occam_json_int(&j, s->core);
        occam_json_key(&j, "node");
        occam_json_int(&j, s->node);
        occam_json_key(&j, "package");
        if (s->package >= 0)
            occam_json_int(&j, s->package);
        else
            occam_json_null(&j);
        occam_json_end_object(&j);
    }
    occam_json_end_array(&j);
    occam_json_key(&j, "reduction");
    occam_json_begin_object(&j);
    occam_json_key(&j, "leaders");
    occam_json_begin_array(&j);
    for (int n = 0; n < plan->nodes; n++)
        if (plan->leader[n] >= 0) occam_json_int(&j, plan->leader[n]);
    occam_json_end_array(&j);
    occam_json_key(&j, "tree");
    char *tree = tree_text(plan);
    if (tree)
        occam_json_string(&j, tree);
    else
        occam_json_null(&j);
    free(tree);
    occam_json_end_object(&j);
    occam_json_end_object(&j);
    occam_json_finish(&j); /* stream errors stay in out for the caller's ferror */
    fputc('\n', out);
}

/* "48 KiB", "1 MiB", "1536 B". */
static void fmt_bytes(char *buf, size_t cap, uint64_t b)
{
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (u < 4 && b >= 1024 && b % 1024 == 0) b /= 1024, u++;
    snprintf(buf, cap, "%llu %s", (unsigned long long)b, unit[u]);
}

static const char *plural(int n) { return n == 1 ? "" : "s"; }

void occam_topo_write_text(const occam_topo *tp, const occam_topo_plan *plan, FILE *out)
{
    const occam_topo_info *in = &tp->info;
    fprintf(out, "topology   %s%s\n", in->source, in->this_system ? "" : " (not this system)");
    fprintf(out, "           %d package%s, %d NUMA node%s, %d core%s, %d PU%s\n", in->packages,
            plural(in->packages), in->nodes, plural(in->nodes), in->cores, plural(in->cores),
            in->pus, plural(in->pus));
    const occam_topo_cache *cache[] = {&in->l1d, &in->l2, &in->l3};
    static const char *const cname[] = {"L1d", "L2", "L3"};
    fprintf(out, "caches    ");
    int known = 0;
    for (int i = 0; i < 3; i++) {
        if (!cache[i]->count || !cache[i]->size) continue;
        char sz[32];
        fmt_bytes(sz, sizeof sz, cache[i]->size);
        fprintf(out, "%s %s %s x %d", known++ ? "," : "", cname[i], sz, cache[i]->count);
    }
    fprintf(out, "%s\n", known ? "" : " unknown");
    for (int n = 0; n < in->nodes; n++)
        fprintf(out, "node %-5d cpuset %s: %d core%s, %d PU%s, %d thread%s\n", n,
                in->node[n].cpuset[0] ? in->node[n].cpuset : "(none)", in->node[n].cores,
                plural(in->node[n].cores), in->node[n].pus, plural(in->node[n].pus),
                plan->node_size[n], plural(plan->node_size[n]));
    fprintf(out, "placement  %s, bind %s: %d thread%s, %s\n",
            placement_name(plan->placement), bind_name(plan->bind),
            plan->threads, plural(plan->threads),
            plan->binds ? "each bound to its PU" : "not bound");
    /* Unbound by occam (mpirun's binding, OpenMP's places, or none): the plan's PUs are not
     * where the threads run, and rank 1 of mpirun showed PU 0 while it ran on CPU 1. Its CPUs
     * are the process's mask; the PU and core columns say "-". */
    bool own = plan->binds || !in->this_system;
    const char *omp = own ? NULL : openmp_binder();
    if (omp) /* libgomp narrowed the main thread's mask to place 0 before main(): not the team's */
        fprintf(out, "cpus       OpenMP's places (%s) decide where each thread runs\n", omp);
    else if (!own && start_mask) {
        fprintf(out, "cpus       this process may run on CPUs ");
        long first = -1, n = (long)start_mask_size * 8;
        bool any = false;
        for (long c = 0; c <= n; c++) {
            bool in_mask = c < n && occam_cpumask_has(start_mask, start_mask_size, c);
            if (in_mask && first < 0) first = c;
            if (!in_mask && first >= 0) {
                fprintf(out, "%s%ld", any ? "," : "", first);
                if (c - 1 > first) fprintf(out, "-%ld", c - 1);
                any = true;
                first = -1;
            }
        }
        fprintf(out, "; where each thread runs is %s\n",
                plan->notice[0] ? "not occam's choice (see the notice)" : "the system's choice");
    }

    fprintf(out, "\n%6s %6s %6s %6s %8s\n", "thread", "pu", "core", "node", "package");
    for (int t = 0; t < plan->threads; t++) {
        const occam_topo_slot *s = &plan->slot[t];
        if (own)
            fprintf(out, "%6d %6d %6d %6d ", s->thread, s->pu, s->core, s->node);
        else
            fprintf(out, "%6d %6s %6s %6d ", s->thread, "-", "-", s->node);
        if (s->package >= 0)
            fprintf(out, "%8d\n", s->package);
        else
            fprintf(out, "%8s\n", "-");
    }

    int groups = 0, lo = plan->threads, hi = 0;
    for (int n = 0; n < plan->nodes; n++) {
        if (!plan->node_size[n]) continue;
        groups++;
        lo = plan->node_size[n] < lo ? plan->node_size[n] : lo;
        hi = plan->node_size[n] > hi ? plan->node_size[n] : hi;
    }
    fprintf(out, "\nreduction  ");
    if (groups == 1)
        fprintf(out, "one node: each thread sums all %d partials for its own slice\n",
                plan->threads);
    else if (lo == hi)
        fprintf(out, "%d nodes, %d thread%s per node", groups, lo, plural(lo));
    else
        fprintf(out, "%d nodes, %d to %d threads per node", groups, lo, hi);
    if (groups > 1)
        fprintf(out, ": each node's threads sum into their leader,\n"
                     "           then every thread sums the leaders' buffers for its slice\n");
    for (int n = 0; n < plan->nodes; n++) {
        if (!plan->node_size[n]) continue;
        int size = plan->node_size[n];
        fprintf(out, "  node %d: %d thread%s {", n, size, plural(size));
        for (int i = plan->first[n]; i < plan->first[n + 1]; i++)
            fprintf(out, "%s%d", i > plan->first[n] ? "," : "", plan->members[i]);
        fprintf(out, "} -> leader %d\n", plan->leader[n]);
    }
    if (groups > 1) {
        fprintf(out, "  leaders {");
        for (int n = 0, k = 0; n < plan->nodes; n++)
            if (plan->leader[n] >= 0) fprintf(out, "%s%d", k++ ? "," : "", plan->leader[n]);
        fprintf(out, "} -> every thread's slice of the sum\n");
    }
    if (plan->notice[0]) fprintf(out, "\nnotice: %s\n", plan->notice);
}

int occam_topo_interleave(const occam_topo *tp, void *addr, size_t len, occam_error *err)
{
    if (!tp || !tp->info.this_system || tp->info.nodes < 2 || len == 0) return OCCAM_OK;
    hwloc_nodeset_t all = hwloc_bitmap_dup(hwloc_topology_get_topology_nodeset(tp->hw));
    if (!all) return occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory");
    int rc = hwloc_set_area_membind(tp->hw, addr, len, all, HWLOC_MEMBIND_INTERLEAVE,
                                    HWLOC_MEMBIND_MIGRATE | HWLOC_MEMBIND_BYNODESET);
    hwloc_bitmap_free(all);
    if (rc != 0)
        return occam_error_set(err, OCCAM_TOPO_WARN,
                               "runtime.weights = interleave: the OS refused to interleave %zu "
                               "bytes (%s); weights stay where they were first touched",
                               len, strerror(errno));
    return OCCAM_OK;
}
