/* `occam bench select`: speed of exact k-smallest selection (the pruning threshold).
 *
 * The default input is 10^8 scores |x|, x standard normal from occam_rng (seed 1, one stream per
 * 65536-score chunk, so the data does not depend on the thread count); --input reads raw
 * little-endian float32 and selects on the absolute values; --dump writes the scores used as raw
 * float32, for perf/select_peer.py to time numpy.partition on the same bits. --lenet times a
 * LeNet-300-100-sized selection plus the mask update (three segments of 235200, 30000 and 1000).
 *
 * Before timing, the answer is verified exactly and cheaply: v is the k-th smallest iff
 * #{x < v} < k <= #{x <= v}, so one parallel counting pass checks value, below and ties (and
 * the mask's zero count for --lenet). The report is the median of R runs beside the ceiling: a
 * streaming read of the same scores on the same threads, measured in this run. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "occam/clock.h"
#include "occam/comm.h"
#include "occam/error.h"
#include "occam/mem.h"
#include "occam/outfile.h"
#include "occam/rng.h"
#include "occam/select.h"
#include "occam/team.h"

int cmd_bench_select(int argc, char **argv);

static const char usage[] =
    "usage: occam bench select [--n N | --input FILE | --lenet] [--k K] [--threads T]\n"
    "                          [--repeats R] [--dump FILE]\n"
    "\n"
    "Times exact selection of the K smallest of N scores (default N = 10^8 values |x|, x\n"
    "standard normal, seed 1; K = N/2; T = all cores; R = 5) and prints one JSON line with the\n"
    "median seconds, GB/s of scores scanned and the streaming-read ceiling of the same threads.\n"
    "  --input FILE  raw little-endian float32 scores; selects on their absolute values\n"
    "  --dump FILE   write the scores used (after |.|) as raw float32, e.g. for\n"
    "                perf/select_peer.py\n"
    "  --lenet       LeNet-300-100 sizes (235200 + 30000 + 1000 weights in three segments);\n"
    "                times selection plus the mask update\n";

#define GEN_CHUNK 65536

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static int parse_u64(const char *s, const char *opt, uint64_t lo, uint64_t *out, occam_error *err)
{
    double d; /* read as the config reads numbers: 1e8 is taken, 0x10 is not */
    if (!occam_config_number(s, &d) || !(d >= (double)lo) || d > 1.8e19 || d != floor(d))
        return occam_error_set(err, OCCAM_ERR_INPUT, "bench select: %s '%s': expected an integer >= %llu",
                               opt, s, (unsigned long long)lo);
    *out = (uint64_t)d;
    return OCCAM_OK;
}

typedef struct gen_team {
    float *x;
    size_t n;
} gen_team;

static void gen_worker(void *ctx, int t, int nt)
{
    const gen_team *g = ctx;
    size_t lo, hi;
    occam_team_split_rows((g->n + GEN_CHUNK - 1) / GEN_CHUNK, t, nt, &lo, &hi);
    for (size_t c = lo; c < hi; c++) {
        occam_rng r = occam_rng_seed(1, c);
        size_t end = (c + 1) * GEN_CHUNK < g->n ? (c + 1) * GEN_CHUNK : g->n;
        for (size_t i = c * GEN_CHUNK; i < end; i++) g->x[i] = fabsf((float)occam_rng_normal(&r));
    }
}

/* n scores, or NULL with err set: more than the machine has available is refused before the
 * pages are touched (under overcommit malloc said yes, and the OOM killer ended the run). */
static float *alloc_scores(size_t n, occam_error *err)
{
    size_t avail = occam_mem_available();
    float *x = n <= avail / sizeof *x ? occam_alloc(n, sizeof *x) : NULL;
    if (!x)
        occam_error_set(err, OCCAM_ERR_RUNTIME, "bench select: out of memory for %zu scores "
                        "(%.1f GiB available)", n, (double)avail / (1 << 30));
    return x;
}

/* x is (n): |standard normal|, chunk c from stream c of seed 1. */
static int generate(float *x, size_t n, int threads, occam_error *err)
{
    gen_team g = {x, n};
    return occam_team_run(threads, NULL, gen_worker, &g, err);
}

static int read_scores(const char *path, float **x, size_t *n, occam_error *err)
{
    /* sized by seeking: a FIFO would block its open for a writer and has no size, a folder
     * "seeks" to LONG_MAX */
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
        return occam_error_set(err, OCCAM_ERR_INPUT, "bench select: --input %s: not a regular "
                               "file (%s)", path, S_ISDIR(st.st_mode) ? "a folder"
                               : S_ISFIFO(st.st_mode) ? "a FIFO" : "a device or socket");
    FILE *f = fopen(path, "rb");
    if (!f)
        return occam_error_set(err, OCCAM_ERR_INPUT, "bench select: cannot open %s: %s", path,
                               strerror(errno));
    long bytes = -1;
    if (fseek(f, 0, SEEK_END) == 0) bytes = ftell(f);
    if (bytes <= 0 || bytes % 4 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "bench select: %s: size %ld is not a positive multiple of 4 "
                               "(raw float32 expected)", path, bytes);
    }
    *n = (size_t)bytes / 4;
    *x = alloc_scores(*n, err);
    if (!*x) {
        fclose(f);
        return err->status;
    }
    size_t got = fread(*x, sizeof **x, *n, f);
    fclose(f);
    if (got != *n)
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "bench select: %s: short read", path);
    for (size_t i = 0; i < *n; i++) {
        uint32_t u;
        memcpy(&u, &(*x)[i], 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        u = __builtin_bswap32(u);
#endif
        u &= 0x7FFFFFFFu; /* |x| */
        memcpy(&(*x)[i], &u, 4);
        if (isnan((*x)[i])) {
            free(*x);
            *x = NULL;
            return occam_error_set(err, OCCAM_ERR_INPUT, "bench select: %s: score %zu (byte "
                                   "%zu) is NaN: scores are magnitudes to rank", path, i, 4 * i);
        }
    }
    return OCCAM_OK;
}

static int dump_scores(const char *path, const float *x, size_t n, occam_error *err)
{
    return occam_outfile_write_all(path, x, n * sizeof *x, err);
}

typedef struct count_slot {
    _Alignas(OCCAM_ALIGN) uint64_t lt, eq;
} count_slot;

typedef struct count_team {
    const float *const *seg;
    const size_t *len;
    int nseg;
    float v;
    count_slot *slot;
} count_team;

static void count_worker(void *ctx, int t, int nt)
{
    const count_team *c = ctx;
    uint64_t a = 0, b = 0;
    for (int s = 0; s < c->nseg; s++) {
        size_t lo, hi;
        occam_team_split_aligned(c->len[s], 16, t, nt, &lo, &hi);
        const float *x = c->seg[s];
        for (size_t i = lo; i < hi; i++) {
            a += x[i] < c->v;
            b += x[i] == c->v;
        }
    }
    c->slot[t].lt = a;
    c->slot[t].eq = b;
}

/* #{x < v} and #{x == v} over all segments, with per-thread partials summed in order. Also the
 * streaming-read pass that gives the ceiling. */
static int count_lt_eq(const float *const *seg, const size_t *len, int nseg, float v,
                       int threads, count_slot *slot, uint64_t *lt, uint64_t *eq,
                       occam_error *err)
{
    count_team c = {seg, len, nseg, v, slot};
    int rc = occam_team_run(threads, NULL, count_worker, &c, err);
    if (rc != OCCAM_OK) return rc;
    *lt = *eq = 0;
    for (int u = 0; u < threads; u++) {
        *lt += slot[u].lt;
        *eq += slot[u].eq;
    }
    return OCCAM_OK;
}

static const char *bracket_name(int b)
{
    switch (b) {
    case OCCAM_SELECT_AT_LO: return "at_lo";
    case OCCAM_SELECT_BETWEEN: return "between";
    case OCCAM_SELECT_AT_HI: return "at_hi";
    case OCCAM_SELECT_BELOW_LO: return "below_lo";
    case OCCAM_SELECT_ABOVE_HI: return "above_hi";
    case OCCAM_SELECT_OVERFLOW: return "overflow";
    default: return "none";
    }
}

typedef struct bench_args {
    uint64_t n, k;
    int have_n, have_k, lenet, threads, repeats;
    const char *input, *dump;
} bench_args;

static int run(const bench_args *a, occam_error *err)
{
    int threads;
    int rc = occam_team_resolve(a->threads, false, "--threads", &threads, err);
    if (rc) return rc;
    float *x = NULL;
    size_t n = 0;
    size_t len[3];
    const float *seg[3];
    int nseg = 1;
    if (a->input) {
        rc = read_scores(a->input, &x, &n, err);
        if (rc) {
            free(x);
            return rc;
        }
    } else {
        n = a->lenet ? 235200 + 30000 + 1000 : (size_t)(a->have_n ? a->n : 100000000u);
        x = alloc_scores(n, err);
        if (!x) return err->status;
        rc = generate(x, n, threads, err);
        if (rc) {
            free(x);
            return rc;
        }
    }
    if (a->lenet) {
        nseg = 3;
        len[0] = 235200;
        len[1] = 30000;
        len[2] = 1000;
    } else {
        len[0] = n;
    }
    for (size_t s = 0, p = 0; s < (size_t)nseg; p += len[s], s++) seg[s] = x + p;
    uint64_t k = a->have_k ? a->k : n / 2;
    uint8_t *mask = NULL;
    uint8_t *mseg[3];
    count_slot *slot = occam_alloc((size_t)threads, sizeof *slot);
    double *sec = malloc(sizeof *sec * (size_t)a->repeats * 4);
    if (!slot || !sec) rc = occam_error_set(err, OCCAM_ERR_RUNTIME, "bench select: out of memory");
    if (!rc && k > n)
        rc = occam_error_set(err, OCCAM_ERR_INPUT, "bench select: --k %llu exceeds n = %zu",
                             (unsigned long long)k, n);
    if (!rc && a->dump) rc = dump_scores(a->dump, x, n, err);
    if (!rc && a->lenet) {
        mask = malloc(n);
        if (!mask) rc = occam_error_set(err, OCCAM_ERR_RUNTIME, "bench select: out of memory");
        for (size_t s = 0, p = 0; !rc && s < (size_t)nseg; p += len[s], s++) mseg[s] = mask + p;
    }

    /* Warm-up run, verified exactly. */
    occam_select_result r = {0};
    occam_select_trace tr = {0};
    if (!rc) rc = occam_select_ex(seg, len, nseg, k, threads, NULL, &r, &tr, err);
    uint64_t lt = 0, eq = 0;
    if (!rc) rc = count_lt_eq(seg, len, nseg, r.value, threads, slot, &lt, &eq, err);
    if (!rc) {
        /* v is the k-th smallest iff #{x < v} < k <= #{x <= v} */
        int ok = k == 0 ? r.k == 0 && r.below == 0 && r.ties == 0
                        : r.k == k && r.below == lt && r.below + r.ties == k && r.ties <= eq &&
                              lt < k && k <= lt + eq;
        if (ok && mask) ok = occam_select_mask(mseg, seg, len, nseg, &r, threads) == k;
        if (!ok)
            rc = occam_error_set(err, OCCAM_ERR_RUNTIME,
                                 "bench select: verification failed: value %.9g below %llu ties "
                                 "%llu, but %llu scores < value and %llu == value",
                                 (double)r.value, (unsigned long long)r.below,
                                 (unsigned long long)r.ties, (unsigned long long)lt,
                                 (unsigned long long)eq);
    }
    if (!rc) {
        int R = a->repeats;
        double *ts = sec, *tm = sec + R, *tb = sec + 2 * R, *tt = sec + 3 * R;
        for (int i = 0; i < R && !rc; i++) {
            double t0 = occam_clock_now();
            occam_select_result q;
            rc = occam_select(seg, len, nseg, k, threads, &q, err);
            double t1 = occam_clock_now();
            if (!rc && mask) occam_select_mask(mseg, seg, len, nseg, &q, threads);
            double t2 = occam_clock_now();
            ts[i] = t1 - t0;
            tm[i] = t2 - t1;
            tt[i] = t2 - t0;
            if (!rc && (q.k != r.k || memcmp(&q.value, &r.value, sizeof q.value) != 0 ||
                        q.below != r.below || q.ties != r.ties))
                rc = occam_error_set(err, OCCAM_ERR_RUNTIME, "bench select: runs disagree");
        }
        for (int i = 0; i < R && !rc; i++) {
            double t0 = occam_clock_now();
            rc = count_lt_eq(seg, len, nseg, r.value, threads, slot, &lt, &eq, err);
            tb[i] = occam_clock_now() - t0;
        }
        if (!rc) {
            double s_sel = median(ts, R), s_mask = median(tm, R), s_read = median(tb, R);
            double secs = median(tt, R); /* select (+ mask with --lenet), per run */
            double bytes = (double)n * 4;
            uint32_t bits;
            memcpy(&bits, &r.value, 4);
            /* an --input score may be infinite: JSON has no inf, so the value is null there
             * and kth_bits (0x7f800000) says what it is */
            char kth[32] = "null";
            if (isfinite(r.value)) snprintf(kth, sizeof kth, "%.9g", (double)r.value);
            printf("{\"bench\": \"select\", \"case\": \"%s\", \"source\": \"%s\", \"n\": %zu, "
                   "\"segments\": %d, \"k\": %llu, \"threads\": %d, \"kth_value\": %s, "
                   "\"kth_bits\": \"0x%08x\", \"below\": %llu, \"ties\": %llu, "
                   "\"bracket\": \"%s\", \"data_passes\": %d, \"repeats\": %d, ",
                   a->lenet ? "lenet" : "flat", a->input ? "file" : "generated", n, nseg,
                   (unsigned long long)k, threads, kth, bits,
                   (unsigned long long)r.below, (unsigned long long)r.ties,
                   bracket_name(tr.bracket), tr.data_passes, R);
            if (mask)
                printf("\"select_seconds\": %.6g, \"mask_seconds\": %.6g, ", s_sel, s_mask);
            printf("\"seconds\": %.6g, \"gb_per_s\": %.3f, \"read_gb_per_s\": %.3f, "
                   "\"fraction_of_read\": %.3f}\n",
                   secs, bytes / secs / 1e9, bytes / s_read / 1e9, s_read / secs);
        }
    }
    free(sec);
    free(slot);
    free(mask);
    free(x);
    return rc;
}

int cmd_bench_select(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"n", required_argument, NULL, 'n'},       {"input", required_argument, NULL, 'i'},
        {"k", required_argument, NULL, 'k'},       {"threads", required_argument, NULL, 't'},
        {"repeats", required_argument, NULL, 'r'}, {"dump", required_argument, NULL, 'd'},
        {"lenet", no_argument, NULL, 'l'},         {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bench_args a = {.repeats = 5};
    occam_error err = {0};
    int rc = OCCAM_OK, c;
    uint64_t v = 0;
    optind = 0; /* full reset: main or another subcommand may have used getopt */
    opterr = 0;
    int idx = 0;
    const char *given[128] = {0}; /* an option's value, to refuse a second one */
    while (rc == OCCAM_OK && (c = getopt_long(argc, argv, "", longopts, &idx)) != -1) {
        if ((rc = cli_option_once(given, c, "bench select", longopts[idx].name, &err))) break;
        switch (c) {
        case 'n':
            rc = parse_u64(optarg, "--n", 1, &a.n, &err);
            a.have_n = 1;
            break;
        case 'k':
            rc = parse_u64(optarg, "--k", 0, &a.k, &err);
            a.have_k = 1;
            break;
        case 't':
            rc = parse_u64(optarg, "--threads", 0, &v, &err);
            if (!rc && v > 4096)
                rc = occam_error_set(&err, OCCAM_ERR_INPUT, "bench select: --threads %llu: too many",
                                     (unsigned long long)v);
            a.threads = (int)v;
            break;
        case 'r':
            rc = parse_u64(optarg, "--repeats", 1, &v, &err);
            if (!rc && v > 1000)
                rc = occam_error_set(&err, OCCAM_ERR_INPUT, "bench select: --repeats %llu: at most 1000", (unsigned long long)v);
            a.repeats = (int)v;
            break;
        case 'i': a.input = optarg; break;
        case 'd': a.dump = optarg; break;
        case 'l': a.lenet = 1; break;
        case 'h': fputs(usage, stdout); return 0;
        default:
            rc = occam_error_set(&err, OCCAM_ERR_INPUT, "bench select: unknown or incomplete option '%s'",
                                 argv[optind - 1]);
        }
    }
    if (!rc && optind < argc)
        rc = occam_error_set(&err, OCCAM_ERR_INPUT, "bench select: unexpected argument '%s'", argv[optind]);
    if (!rc && (a.have_n + a.lenet + (a.input != NULL)) > 1)
        rc = occam_error_set(&err, OCCAM_ERR_INPUT, "bench select: --n, --input and --lenet exclude each other");
    if (!rc && a.threads > occam_team_cores())
        rc = occam_error_set(&err, OCCAM_ERR_INPUT,
                             "bench select: --threads %d: more than the %d cores this process may "
                             "use", a.threads, occam_team_cores());
    if (rc) {
        cli_msg_append(&err, " (see 'occam bench select --help')");
        return cli_end(OCCAM_ERR_INPUT, &err);
    }
    /* Under mpirun every rank runs the benchmark (the same arguments: cmd_bench) and rank 0
     * alone writes the dump; an error is said once, by the lowest rank meeting it (rank 1's
     * missing --input was exit 2 without a word, and its --dump was written by rank 1). */
    if (!occam_comm_is_root(occam_comm_world())) a.dump = NULL;
    /* Before the minutes of generating and timing, not after. */
    if (a.dump) rc = occam_outfile_check(a.dump, "bench select: --dump", &err);
    /* the dump is |x|: written over --input it would drop the scores' signs */
    if (!rc && a.dump && a.input && occam_outfile_same(a.dump, a.input))
        rc = occam_error_set(&err, OCCAM_ERR_INPUT, "bench select: --dump %s: the same file as "
                             "--input (%s): writing it would replace an input; choose another "
                             "name", a.dump, a.input);
    if (!rc) rc = run(&a, &err);
    return cli_end(rc, &err);
}
