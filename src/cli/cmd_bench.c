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
#include "occam/model.h"
#include "occam/trainer.h"

static const char usage[] =
    "usage: occam bench train CONFIG [--set section.key=value]... [--threads N]\n"
    "\n"
    "Trains CONFIG's model for 1 warm-up epoch plus train.epochs timed epochs and prints one\n"
    "JSON line: median samples/s and GFLOP/s, and the BLIS sgemm rate on the same threads\n"
    "(each thread multiplying its own matrices single-threaded, as occam does), for the\n"
    "model's largest forward GEMM per thread and for a 1024×1024×1024 product.\n";

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
    const char *arch = occam_blas_init();
    occam_dataset train = {0}, test = {0};
    occam_model model = {0};
    occam_trainer *tr = NULL;
    occam_fit_result fit = {0};
    rc = occam_data_load(&cfg, &train, &test, err);
    if (rc == OCCAM_OK) rc = occam_model_create(&model, &cfg, err);
    if (rc == OCCAM_OK) {
        occam_model_init(&model, cfg.model.init, cfg.train.seed);
        rc = occam_trainer_create(&tr, &model, &cfg, threads, NULL, err);
    }
    if (rc == OCCAM_OK) rc = occam_fit(tr, &cfg, &train, NULL, &fit, NULL, NULL, err);
    if (rc == OCCAM_OK) {
        double secs[1024];
        int n = timed < 1024 ? timed : 1024;
        for (int e = 0; e < n; e++) secs[e] = fit.history[e + 1].seconds;
        qsort(secs, (size_t)n, sizeof secs[0], cmp_double);
        double med = n % 2 ? secs[n / 2] : 0.5 * (secs[n / 2 - 1] + secs[n / 2]);
        double sps = (double)train.n / med;
        double gflops = sps * flops_per_sample(&model.lay) / 1e9;
        /* The ceiling: the model's largest forward GEMM at this thread's shard size. */
        const occam_layout *lay = &model.lay;
        int shard = (cfg.train.batch + threads - 1) / threads, big = 0;
        for (int l = 1; l < lay->nlayers; l++)
            if ((double)lay->width[l] * lay->width[l + 1] >
                (double)lay->width[big] * lay->width[big + 1])
                big = l;
        double ceil_layer = occam_gemm_rate(shard, lay->width[big + 1], lay->width[big], threads, 15);
        double ceil_square = occam_gemm_rate(1024, 1024, 1024, threads, 7);
        double ceiling = ceil_layer > ceil_square ? ceil_layer : ceil_square;
        printf("{\"bench\": \"train\", \"config\": \"%s\", \"threads\": %d, \"blis_arch\": \"%s\", "
               "\"batch\": %d, \"layers\": [", o->config, threads, arch, cfg.train.batch);
        for (int l = 0; l <= lay->nlayers; l++) printf("%s%d", l ? ", " : "", lay->width[l]);
        printf("], \"samples\": %zu, \"epochs_timed\": %d, \"seconds\": %.6f, "
               "\"samples_per_second\": %.1f, \"gflops\": %.2f, "
               "\"sgemm_gflops_layer\": %.2f, \"sgemm_gflops_1024\": %.2f, "
               "\"fraction_of_sgemm\": %.3f}\n",
               train.n, n, med, sps, gflops, ceil_layer, ceil_square, gflops / ceiling);
    }
    occam_fit_result_free(&fit);
    occam_trainer_free(tr);
    occam_model_free(&model);
    occam_dataset_free(&train);
    occam_dataset_free(&test);
    return rc;
}

int cmd_bench(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "train") != 0) {
        if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
            fputs(usage, stdout);
            return 0;
        }
        fprintf(stderr, "occam: bench: expected 'train' (see 'occam bench --help')\n");
        return OCCAM_ERR_INPUT;
    }
    cli_opts o;
    occam_error err = {0};
    int rc = cli_parse(argc - 1, argv + 1, CLI_SET | CLI_THREADS, &o, &err);
    if (rc) return cli_fail(&err);
    if (o.help) {
        fputs(usage, stdout);
        return 0;
    }
    rc = run(&o, &err);
    return rc ? cli_fail(&err) : 0;
}
