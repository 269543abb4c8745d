/* `occam bench infer`: the sparse inference engine against the dense BLIS path on the config's
 * test set.
 *
 * Both paths run the same rows on the same team size. Before anything is timed, the outputs
 * are checked against each other: the predicted labels must be identical and every output
 * within 1e-5 of its row's scale (occam_sparse_max_rel_diff); a mismatch is a runtime failure (exit
 * 1) and nothing is timed, as a fast wrong answer is worth nothing. That run also warms both
 * paths up. Then each runs R times, interleaved (dense, sparse, dense, ...) so that a drift in
 * clock speed hits both alike, and the medians are reported. The ceiling printed beside them
 * (gemm_gflops) is BLIS's single-threaded sgemm rate on the same threads for the model's
 * largest layer at the dense path's block of 1024 rows, measured in the same run. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "occam/checkpoint.h"
#include "occam/data.h"
#include "occam/fit.h"
#include "occam/gemm.h"
#include "occam/clock.h"
#include "occam/mem.h"
#include "occam/model.h"
#include "occam/sparse.h"

#define INFER_REPEATS_MAX 1000
#define INFER_TOLERANCE 1e-5
#define TEXT_(x) #x
#define TEXT(x) TEXT_(x)
#define THRESHOLD_TEXT TEXT(OCCAM_SPARSE_THRESHOLD_DEFAULT)

static const char usage[] =
    "usage: occam bench infer CONFIG --checkpoint FILE [--set section.key=value]...\n"
    "                         [--threads N] [--repeats R] [--threshold D]\n"
    "\n"
    "Times the sparse inference engine against the dense BLIS path on CONFIG's test set with\n"
    "the weights in FILE: median of R runs each (default 11) after one warm-up. The outputs\n"
    "are verified first (identical predicted labels, outputs within 1e-5 of each row's\n"
    "scale). Layers with density below D (default " THRESHOLD_TEXT ") are run in CSR, the others\n"
    "dense. Prints one JSON line per layer (format, density, nonzeros) and a summary line\n"
    "with dense_ms, sparse_ms, speedup, labels_identical and max_rel_diff.\n";

typedef struct infer_opts {
    cli_opts cli;
    int repeats;
    double threshold;
} infer_opts;

static int infer_number(const char *opt, const char *s, double lo, double hi, double *out,
                        occam_error *err)
{
    double v;
    if (!occam_config_number(s, &v) || !(v >= lo && v <= hi))
        return occam_error_set(err, OCCAM_ERR_INPUT, "bench infer: --%s %s: expected a number "
                               "from %g to %g", opt, s, lo, hi);
    *out = v;
    return OCCAM_OK;
}

/* The numbers of --repeats and --threshold (cli_parse keeps them as text). */
static int infer_numbers(const cli_opts *c, infer_opts *o, occam_error *err)
{
    o->cli = *c;
    o->repeats = 11;
    o->threshold = OCCAM_SPARSE_THRESHOLD_DEFAULT;
    double v = 0;
    int rc = OCCAM_OK;
    if (c->repeats) {
        rc = infer_number("repeats", c->repeats, 1, INFER_REPEATS_MAX, &v, err);
        if (rc == OCCAM_OK && v != (int)v)
            rc = occam_error_set(err, OCCAM_ERR_INPUT,
                                 "bench infer: --repeats %s: expected a whole number", c->repeats);
        o->repeats = (int)v;
    }
    if (rc == OCCAM_OK && c->threshold)
        rc = infer_number("threshold", c->threshold, 0, 2, &o->threshold, err);
    if (rc == OCCAM_OK && !c->checkpoint)
        rc = occam_error_set(err, OCCAM_ERR_INPUT, "bench infer: missing --checkpoint FILE");
    return rc;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof v[0], cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* The two paths on the same rows: verify, then time. */
typedef struct infer_run {
    const occam_model *model;
    occam_sparse *sp;
    const occam_dataset *ds;
    int threads, repeats;
    float *dense_out, *sparse_out;
    double dense_ms, sparse_ms, max_rel;
    bool labels_identical;
} infer_run;

static int infer_verify(infer_run *r, occam_error *err)
{
    int k = r->model->lay.width[r->model->lay.nlayers];
    int rc = occam_sparse_dense_forward(r->model, r->ds->x, r->ds->n, r->dense_out, r->threads, err);
    if (rc == OCCAM_OK)
        rc = occam_sparse_forward(r->sp, r->ds->x, r->ds->n, r->sparse_out, r->threads, err);
    if (rc != OCCAM_OK) return rc;
    r->labels_identical = true;
    for (size_t i = 0; i < r->ds->n && r->labels_identical; i++)
        r->labels_identical = occam_sparse_argmax(r->dense_out + i * (size_t)k, k) ==
                              occam_sparse_argmax(r->sparse_out + i * (size_t)k, k);
    r->max_rel = occam_sparse_max_rel_diff(r->sparse_out, r->dense_out, r->ds->n, k);
    return OCCAM_OK;
}

static int infer_time(infer_run *r, occam_error *err)
{
    double *t = malloc(2 * sizeof(double) * (size_t)r->repeats);
    if (!t) return occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory");
    int rc = OCCAM_OK;
    for (int i = 0; i < r->repeats && rc == OCCAM_OK; i++) {
        double t0 = occam_clock_now();
        rc = occam_sparse_dense_forward(r->model, r->ds->x, r->ds->n, r->dense_out, r->threads, err);
        double t1 = occam_clock_now();
        if (rc == OCCAM_OK)
            rc = occam_sparse_forward(r->sp, r->ds->x, r->ds->n, r->sparse_out, r->threads, err);
        double t2 = occam_clock_now();
        t[i] = 1e3 * (t1 - t0);
        t[r->repeats + i] = 1e3 * (t2 - t1);
    }
    if (rc == OCCAM_OK) {
        r->dense_ms = median(t, r->repeats);
        r->sparse_ms = median(t + r->repeats, r->repeats);
    }
    free(t);
    return rc;
}

static int infer_print(const infer_run *r, const occam_config *cfg, occam_error *err)
{
    const occam_layout *lay = &r->model->lay;
    size_t nnz = 0, total = 0;
    int widest = 0;
    for (int l = 0; l < occam_sparse_nlayers(r->sp); l++) {
        occam_sparse_layer_info li = occam_sparse_layer(r->sp, l);
        printf("{\"bench\": \"infer\", \"layer\": %d, \"in\": %d, \"out\": %d, \"format\": \"%s\", "
               "\"density\": %.6g, \"nnz\": %zu}\n",
               l, li.in, li.out, occam_sparse_format_name(li.format), li.density, li.nnz);
        nnz += li.nnz;
        total += (size_t)li.in * li.out;
        if ((size_t)li.in * li.out > (size_t)lay->width[widest] * lay->width[widest + 1])
            widest = l;
    }
    double flops = 2.0 * (double)total * (double)r->ds->n;
    /* The ceiling: BLIS on the largest layer's shape, 1024 rows per call per thread. */
    double gemm;
    int rc = occam_gemm_rate(1024, lay->width[widest + 1], lay->width[widest], r->threads, 5,
                             &gemm, err);
    if (rc != OCCAM_OK) return rc;
    char widths[16 * OCCAM_MAX_LAYERS] = "";
    for (int l = 0, len = 0; l <= lay->nlayers; l++)
        len += snprintf(widths + len, sizeof widths - (size_t)len, "%s%d", l ? "," : "",
                        lay->width[l]);
    printf("{\"bench\": \"infer\", \"rows\": %zu, \"threads\": %d, \"widths\": [%s], "
           "\"threshold\": %g, \"sparsity\": %.6g, \"dense_ms\": %.4g, \"sparse_ms\": %.4g, "
           "\"speedup\": %.4g, \"labels_identical\": %s, \"max_rel_diff\": %.3g, "
           "\"dense_gflops\": %.4g, \"gemm_gflops\": %.4g}\n",
           r->ds->n, r->threads, widths, occam_sparse_threshold(r->sp), 1.0 - (double)nnz / (double)total,
           r->dense_ms, r->sparse_ms, r->dense_ms / r->sparse_ms,
           cfg->data.task == OCCAM_TASK_CLASSIFY ? (r->labels_identical ? "true" : "false")
                                                 : "null",
           r->max_rel, flops / (r->dense_ms * 1e6), gemm);
    fflush(stdout);
    return OCCAM_OK;
}

static int run(const cli_opts *c, occam_error *err)
{
    infer_opts opts, *o = &opts;
    int nrc = infer_numbers(c, o, err);
    if (nrc) return nrc;
    occam_config cfg;
    int threads;
    int rc = cli_setup(&o->cli, &cfg, &threads, err);
    if (rc) return rc;
    occam_gemm_init();
    occam_model model;
    occam_dataset train, test;
    rc = occam_model_create(&model, &cfg.model, cfg.data.task, err);
    if (rc == OCCAM_OK) rc = occam_checkpoint_load(o->cli.checkpoint, &model, err);
    if (rc == OCCAM_OK) rc = occam_data_load(&cfg.data, occam_config_inputs(&cfg),
                                             occam_config_outputs(&cfg), &train, &test, err);
    if (rc != OCCAM_OK) {
        occam_model_free(&model);
        return rc;
    }
    occam_dataset_free(&train);
    if (test.n == 0)
        rc = occam_error_set(err, OCCAM_ERR_INPUT,
                             "bench infer: %s has no test set (data.test is empty)",
                             o->cli.config);
    infer_run r = {.model = &model, .ds = &test, .threads = threads, .repeats = o->repeats};
    if (rc == OCCAM_OK) rc = occam_sparse_create(&r.sp, &model, o->threshold, err);
    size_t k = (size_t)model.lay.width[model.lay.nlayers];
    if (rc == OCCAM_OK) {
        r.dense_out = occam_alloc(test.n, k * sizeof(float));
        r.sparse_out = occam_alloc(test.n, k * sizeof(float));
        if (!r.dense_out || !r.sparse_out)
            rc = occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory for %zu outputs", test.n);
    }
    if (rc == OCCAM_OK) rc = infer_verify(&r, err);
    if (rc == OCCAM_OK) {
        bool labels_ok = cfg.data.task != OCCAM_TASK_CLASSIFY || r.labels_identical;
        if (!labels_ok || !(r.max_rel <= INFER_TOLERANCE))
            rc = occam_error_set(err, OCCAM_ERR_RUNTIME,
                                 "bench infer: the sparse engine disagrees with the dense path "
                                 "(labels identical: %s, max relative difference %.3g, "
                                 "tolerance %g)",
                                 labels_ok ? "yes" : "no", r.max_rel, INFER_TOLERANCE);
    }
    if (rc == OCCAM_OK) rc = infer_time(&r, err);
    if (rc == OCCAM_OK) rc = infer_print(&r, &cfg, err);
    free(r.dense_out);
    free(r.sparse_out);
    occam_sparse_free(r.sp);
    occam_dataset_free(&test);
    occam_model_free(&model);
    return rc;
}

int cmd_bench_infer(int argc, char **argv)
{
    return cli_command(argc, argv,
                       CLI_SET | CLI_THREADS | CLI_CHECKPOINT | CLI_REPEATS | CLI_THRESHOLD, usage,
                       run);
}
