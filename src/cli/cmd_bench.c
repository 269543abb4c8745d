/* `occam bench train`: throughput of the training step beside the BLIS sgemm ceiling, both
 * measured in this process, so the ratio is free of machine-to-machine noise.
 *
 * FLOP model (shared with perf/torch_peer.py): per sample, forward 2·Σ in·out, weight
 * gradients 2·Σ in·out, input gradients 2·Σ in·out over every layer but the first. Biases,
 * activations and the loss are not counted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "occam/data.h"
#include "occam/fit.h"
#include "occam/gemm.h"
#include "occam/json.h"
#include "occam/model.h"
#include "occam/team.h"
#include "occam/runtime.h"
#include "occam/trainer.h"
#include "occam/clock.h"
#include "occam/mem.h"

#define USAGE_MEMORY                                                                         \
    "usage: occam bench memory [--threads N]\n"                                               \
    "Memory bandwidth (STREAM triad, 128 MiB arrays per thread), one JSON line.\n"
#define USAGE_GEMM                                                                           \
    "usage: occam bench gemm M N K [THREADS [--blis-threads]]\n"                              \
    "Single-threaded sgemm GFLOP/s, each of THREADS threads on its own matrices; with\n"      \
    "--blis-threads, one M×N×K product threaded by BLIS itself over THREADS threads.\n"

static const char usage[] =
    "usage: occam bench train CONFIG [--set section.key=value]... [--threads N]\n"
    "\n"
    "Trains CONFIG's model for 1 warm-up epoch plus train.epochs timed epochs and prints one\n"
    "JSON line: median samples/s and GFLOP/s, and the sgemm rate on the same threads (each\n"
    "thread multiplying its own matrices single-threaded, as occam does: by BLIS, or by\n"
    "occam's own loop for small products), for the model's largest forward GEMM per thread\n"
    "and for a 1024×1024×1024 product.\n"
    "\n" USAGE_MEMORY "\n" USAGE_GEMM "\n"
    "usage: occam bench select [--n N | --input FILE | --lenet] [--k K] [--threads T]\n"
    "                          [--repeats R] [--dump FILE]\n"
    "Exact parallel selection of the k-th smallest |x| (see 'occam bench select --help').\n"
    "\n"
    "usage: occam bench infer CONFIG --checkpoint FILE [--set section.key=value]...\n"
    "                         [--threads N] [--repeats R] [--threshold D]\n"
    "Sparse inference engine vs the dense BLIS path on the test set (see 'occam bench infer --help').\n";

/* 'occam bench gemm|memory ... --help' (and 'occam help bench gemm'): print that benchmark's
 * usage, exit 0 (both took --help for a wrong argument count: exit 2, usage on stderr). */
static bool wants_help(int argc, char **argv)
{
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return true;
    return false;
}

static double flops_per_sample(const occam_layout *lay)
{
    double f = 0;
    for (int l = 0; l < lay->nlayers; l++) {
        double mn = (double)lay->width[l] * lay->width[l + 1];
        f += 4.0 * mn + (l > 0 ? 2.0 * mn : 0.0);
    }
    return f;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int run(const cli_opts *o, occam_error *err)
{
    occam_config cfg;
    int threads;
    int rc = cli_setup(o, &cfg, &threads, err);
    if (rc) return rc;
    int timed = cfg.train.epochs;
    cfg.train.epochs = timed + 1;
    cli_session ss;
    occam_fit_result fit = {0};
    rc = cli_session_open(&ss, &cfg, threads, NULL, err);
    if (rc) return rc;
    threads = ss.threads; /* automatic: at most one per core of the topology */
    occam_trainer *tr = ss.tr;
    const occam_model *model = &ss.model;
    const occam_dataset *train = &ss.train;
    const char *arch = ss.arch;
    rc = occam_fit(tr, &cfg, train, NULL, &fit, NULL, NULL, err);
    if (rc == OCCAM_OK) {
        double secs[1024];
        int n = timed < 1024 ? timed : 1024;
        for (int e = 0; e < n; e++) secs[e] = fit.history[e + 1].seconds;
        qsort(secs, (size_t)n, sizeof secs[0], cmp_double);
        double med = n % 2 ? secs[n / 2] : 0.5 * (secs[n / 2 - 1] + secs[n / 2]);
        double sps = (double)train->n / med;
        double gflops = sps * flops_per_sample(&model->lay) / 1e9;
        /* The ceiling: the model's largest forward GEMM at this thread's shard size. */
        const occam_layout *lay = &model->lay;
        /* a batch past the rows takes them all: the trainer's shards are of the rows */
        size_t rows = (size_t)cfg.train.batch < train->n ? (size_t)cfg.train.batch : train->n;
        int shard = (int)((rows + (size_t)threads - 1) / (size_t)threads), big = 0;
        for (int l = 1; l < lay->nlayers; l++)
            if ((double)lay->width[l] * lay->width[l + 1] >
                (double)lay->width[big] * lay->width[big + 1])
                big = l;
        double ceil_layer = 0, ceil_square = 0;
        rc = occam_gemm_rate(shard, lay->width[big + 1], lay->width[big], threads, 15,
                             &ceil_layer, err);
        if (rc == OCCAM_OK) rc = occam_gemm_rate(1024, 1024, 1024, threads, 7, &ceil_square, err);
        /* CONFIG as a JSON string: a quote, backslash, tab or stray byte in its name went out
         * raw, and the line did not parse */
        size_t cap = 6 * strlen(o->config) + 1; /* at most 6 bytes per input byte */
        char *config = rc == OCCAM_OK ? malloc(cap) : NULL;
        if (rc == OCCAM_OK && (!config || occam_json_escape(config, cap, o->config) < 0))
            rc = occam_error_set(err, OCCAM_ERR_RUNTIME, "bench train: out of memory");
        if (rc == OCCAM_OK) {
            double ceiling = ceil_layer > ceil_square ? ceil_layer : ceil_square;
            double ph[OCCAM_PHASES], ph_total = 0;
            occam_trainer_phases(tr, ph);
            for (int p = 0; p < OCCAM_PHASES; p++) ph_total += ph[p];
            int owner_layers = 0;
            for (int l = 0; l < lay->nlayers; l++)
                owner_layers += occam_trainer_layer_owner(tr, l);
            printf("{\"bench\": \"train\", \"config\": \"%s\", \"threads\": %d, "
                   "\"blis_arch\": \"%s\", \"batch\": %d, \"layers\": [",
                   config, threads, arch, cfg.train.batch);
            for (int l = 0; l <= lay->nlayers; l++) printf("%s%d", l ? ", " : "", lay->width[l]);
            printf("], \"samples\": %zu, \"epochs_timed\": %d, \"seconds\": %.6f, "
                   "\"samples_per_second\": %.1f, \"gflops\": %.2f, "
                   "\"sgemm_gflops_layer\": %.2f, \"sgemm_gflops_1024\": %.2f, "
                   "\"fraction_of_sgemm\": %.3f, \"owner_layers\": %d, \"phase_fraction\": "
                   "{\"forward\": %.4f, \"backward\": %.4f, \"wait\": %.4f, \"update\": %.4f}, "
                   "\"step_ms\": %.4f, \"ranks\": %d, \"comm_fraction\": %.4f}\n",
                   train->n, n, med, sps, gflops, ceil_layer, ceil_square, gflops / ceiling,
                   owner_layers, ph[0] / ph_total, ph[1] / ph_total, ph[2] / ph_total,
                   ph[3] / ph_total, 1e3 * ph_total / (double)fit.steps,
                   occam_trainer_ranks(tr), occam_trainer_comm_seconds(tr) / ph_total);
        }
        free(config);
    }
    occam_fit_result_free(&fit);
    cli_session_close(&ss);
    return rc;
}

/* STREAM-style triad a = b + s·c on per-thread arrays (first-touched by their thread), the
 * memory-bandwidth ceiling of the reduction and update phases. Bytes counted: 3 per element
 * touched (2 reads, 1 write; write-allocate traffic is not counted, as in STREAM). */
typedef struct memory_team {
    size_t n;      /* floats per array */
    double *times; /* thread 0's time per repetition */
    int ok;        /* cleared (atomically) by any thread without its arrays */
} memory_team;

enum { MEMORY_REPS = 7 };

static void memory_worker(void *ctx, int t, int nt)
{
    (void)nt;
    memory_team *mt = ctx;
    size_t n = mt->n;
    float *a = occam_alloc(n, sizeof(float)), *b = occam_alloc(n, sizeof(float)),
          *c = occam_alloc(n, sizeof(float));
    if (!a || !b || !c) {
#pragma omp atomic write
        mt->ok = 0;
    } else {
        for (size_t i = 0; i < n; i++) a[i] = 0.0f, b[i] = 1.0f, c[i] = 2.0f;
    }
#pragma omp barrier
    int go;
#pragma omp atomic read
    go = mt->ok;
    for (int r = 0; r < MEMORY_REPS && go; r++) {
#pragma omp barrier
        double t0 = occam_clock_now();
        for (size_t i = 0; i < n; i++) a[i] = b[i] + 0.5f * c[i];
#pragma omp barrier
        if (t == 0) mt->times[r] = occam_clock_now() - t0;
    }
    free(a);
    free(b);
    free(c);
}

static int bench_memory(int threads, occam_error *err)
{
    double times[MEMORY_REPS];
    /* 32 Mi floats = 128 MiB per array per thread */
    memory_team mt = {(size_t)32 << 20, times, 1};
    /* the arrays are first-touched: past what the machine has, the OOM killer ended the run
     * (or a neighbour), malloc never failed (--threads 99 on 24 GiB: 37 GiB) */
    double need = 3.0 * sizeof(float) * (double)mt.n * threads;
    double avail = (double)occam_mem_available(); /* reads /proc and the cgroup's files: once */
    if (need > avail)
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "bench memory: out of memory: %d threads' "
                               "arrays need %.1f GiB, %.1f GiB available; use fewer threads "
                               "(--threads)", threads, need / (1 << 30), avail / (1 << 30));
    int rc = occam_team_run(threads, NULL, memory_worker, &mt, err);
    if (rc != OCCAM_OK) return rc;
    if (!mt.ok) return occam_error_set(err, OCCAM_ERR_RUNTIME, "bench memory: out of memory");
    qsort(times, MEMORY_REPS, sizeof times[0], cmp_double);
    double gbs = 3.0 * sizeof(float) * (double)mt.n * threads / times[MEMORY_REPS / 2] / 1e9;
    printf("{\"bench\": \"memory\", \"threads\": %d, \"triad_gb_per_s\": %.2f, "
           "\"per_thread_gb_per_s\": %.2f}\n", threads, gbs, gbs / threads);
    return OCCAM_OK;
}

/* bench gemm's THREADS and bench memory's --threads are taken as asked, past the cores too (a
 * scaling study may want that): say so past the CPUs this process may use (occam_team_cores
 * counts CPUs: hyperthreads too), since such a rate is a share of one, not a ceiling */
static void note_shared_cores(const char *bench, long threads)
{
    int cores = occam_team_cores();
    if (cores > 0 && threads > cores)
        fprintf(stderr, "occam: note: bench %s: %ld threads share the %d CPU%s this process may "
                "use; the rate is theirs together, not a ceiling per CPU\n", bench, threads,
                cores, cores == 1 ? "" : "s");
}

/* Parses a whole number in [lo, hi], written in decimal as the config writes one (no blanks),
 * or returns -1. */
static long parse_long(const char *s, long lo, long hi)
{
    int64_t v;
    return occam_config_integer(s, &v) && v >= lo && v <= hi ? (long)v : -1;
}

/* occam bench gemm M N K [THREADS]: single-threaded sgemm per thread, as occam calls it. */
static int bench_gemm(int argc, char **argv, occam_error *err)
{
    if (wants_help(argc, argv)) {
        fputs(USAGE_GEMM, stdout);
        return OCCAM_OK;
    }
    long d[4] = {0, 0, 0, 1};
    bool mt = argc == 7 && strcmp(argv[6], "--blis-threads") == 0;
    int nargs = argc - 2 - (mt ? 1 : 0);
    if (nargs != 3 && nargs != 4)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "usage: occam bench gemm M N K [THREADS [--blis-threads]]");
    static const char *const names[4] = {"M", "N", "K", "THREADS"};
    for (int i = 0; i < nargs; i++)
        if ((d[i] = parse_long(argv[2 + i], 1, 1 << 16)) < 0)
            return occam_error_set(err, OCCAM_ERR_INPUT, "bench gemm: %s = '%s': expected a "
                                   "whole number from 1 to 65536", names[i], argv[2 + i]);
    int rc = occam_gemm_check_env(err);
    /* OpenMP's limits and places first, as every other command meets them (OMP_THREAD_LIMIT=1
     * with 2 threads was 'OpenMP gave 1 thread', exit 1, here alone; a place naming a missing
     * CPU was refused after the note on shared cores) */
    int nt;
    if (rc == OCCAM_OK) rc = occam_team_resolve((int)d[3], true, "bench gemm: THREADS", &nt, err);
    if (rc != OCCAM_OK) return rc;
    note_shared_cores("gemm", d[3]);
    double gf;
    rc = mt ? occam_gemm_rate_blis_mt((int)d[0], (int)d[1], (int)d[2], (int)d[3], 9, &gf, err)
            : occam_gemm_rate((int)d[0], (int)d[1], (int)d[2], (int)d[3], 9, &gf, err);
    if (rc != OCCAM_OK) return rc;
    printf("{\"bench\": \"gemm\", \"mode\": \"%s\", \"m\": %ld, \"n\": %ld, \"k\": %ld, "
           "\"threads\": %ld, \"blis_arch\": \"%s\", \"gflops\": %.2f, "
           "\"gflops_per_thread\": %.2f}\n", mt ? "blis-threads" : "per-thread", d[0], d[1],
           d[2], d[3], occam_gemm_init(), gf, gf / (double)d[3]);
    return OCCAM_OK;
}

/* occam bench memory [--threads N]: no CONFIG. */
static int bench_memory_args(int argc, char **argv, occam_error *err)
{
    if (wants_help(argc, argv)) {
        fputs(USAGE_MEMORY, stdout);
        return OCCAM_OK;
    }
    long threads = 0;
    bool ok = argc == 2 || (argc == 4 && strcmp(argv[2], "--threads") == 0);
    if (argc == 6 && !strcmp(argv[2], "--threads") && !strcmp(argv[4], "--threads"))
        return occam_error_set(err, OCCAM_ERR_INPUT, "bench memory: --threads given twice "
                               "('%s', then '%s'); give it once", argv[3], argv[5]);
    if (!ok)
        return occam_error_set(err, OCCAM_ERR_INPUT, "usage: occam bench memory [--threads N]");
    if (argc == 4 && (threads = parse_long(argv[3], 0, 4096)) < 0)
        return occam_error_set(err, OCCAM_ERR_INPUT, "bench memory: --threads '%s': expected a "
                               "whole number from 0 to 4096", argv[3]);
    int nt;
    int rc = occam_team_resolve((int)threads, true, "--threads", &nt, err);
    if (rc) return rc;
    note_shared_cores("memory", nt);
    return bench_memory(nt, err);
}

/* Under mpirun every rank runs the same benchmark and rank 0 prints it. bench gemm and bench
 * memory call no collective: they end in cli_end, so that an error every rank meets is said
 * once (each rank said it, rank 1 naming itself). */
int cmd_bench(int argc, char **argv)
{
    /* under mpirun every rank runs the same benchmark */
    char action[CLI_ACTION_MAX];
    const char *sub = argc >= 2 ? argv[1] : "";
    /* those without a config, each argument (bench train and infer compare theirs in
     * cli_command, where some keys may differ between ranks): rank 1 alone given other sizes
     * or a --dump ran them, exit 0 */
    static const char *const dump[] = {"--dump", NULL};
    if (!strcmp(sub, "gemm") || !strcmp(sub, "memory") || !strcmp(sub, "select"))
        cli_action_args(action, sizeof action, argc, argv, dump);
    else
        snprintf(action, sizeof action, "bench %s", sub);
    int same = cli_same_action(action);
    if (same) return same;
    if (argc >= 2 && strcmp(argv[1], "select") == 0) return cmd_bench_select(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "infer") == 0) return cmd_bench_infer(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "gemm") == 0) {
        occam_error err = {0};
        return cli_end(bench_gemm(argc, argv, &err), &err);
    }
    if (argc >= 2 && strcmp(argv[1], "memory") == 0) {
        occam_error err = {0};
        return cli_end(bench_memory_args(argc, argv, &err), &err);
    }
    if (argc < 2 || strcmp(argv[1], "train") != 0) {
        if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
            fputs(usage, stdout);
            return 0;
        }
        fprintf(stderr, "occam: bench: expected train, memory, gemm, select or infer%s%s%s "
                "(see 'occam bench --help')\n", argc >= 2 ? " (got '" : "",
                argc >= 2 ? cli_shown(argv[1]) : "", argc >= 2 ? "')" : "");
        return OCCAM_ERR_INPUT;
    }
    return cli_command(argc - 1, argv + 1, CLI_SET | CLI_THREADS, usage, run);
}
