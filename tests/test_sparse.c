/* The sparse inference engine against a double-precision masked reference and the dense BLIS
 * path: random masks at densities 0 to 1, every activation, 1 to 3 threads, both kernels
 * forced at every density, the format choice, a model with removed neurons, and the CSV that
 * `occam predict` writes (through the built binary, $OCCAM_BIN). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "occam/checkpoint.h"
#include "occam/config.h"
#include "occam/mem.h"
#include "occam/model.h"
#include "occam/rng.h"
#include "occam/sparse.h"
#include "shell.h"

#define TOL 1e-5

/* ---- models and the reference ------------------------------------------------------------ */

/* A model of the given widths with random weights and biases; with density < 1 (or always,
 * if force_mask) a random mask keeps each weight with probability `density`, and 1 bias in 4
 * is masked too. Masked parameters keep their (nonzero) values: the engine must obey the mask,
 * not rely on zeros. */
static void make_model(occam_model *m, const int *w, int nw, occam_act act, double density,
                       uint64_t seed)
{
    memset(m, 0, sizeof *m);
    occam_layout_init(&m->lay, w, nw);
    m->act = act;
    m->task = OCCAM_TASK_CLASSIFY;
    m->params = occam_alloc_zero(m->lay.nparams, sizeof(float));
    cr_assert(m->params);
    occam_rng r = occam_rng_seed(seed, 1);
    for (int l = 0; l < m->lay.nlayers; l++) {
        size_t nwts = (size_t)w[l] * w[l + 1];
        double sd = 1.0 / sqrt(w[l] * density + 1);
        for (size_t i = 0; i < nwts; i++)
            m->params[m->lay.w_off[l] + i] = (float)(sd * occam_rng_normal(&r));
        for (int o = 0; o < w[l + 1]; o++)
            m->params[m->lay.b_off[l] + o] = (float)(0.1 * occam_rng_normal(&r));
    }
    if (density >= 1.0) return;
    occam_error err;
    cr_assert_eq(occam_model_mask_enable(m, &err), OCCAM_OK);
    memset(m->mask, 0, m->lay.nparams);
    for (int l = 0; l < m->lay.nlayers; l++) {
        size_t nwts = (size_t)w[l] * w[l + 1];
        for (size_t i = 0; i < nwts; i++)
            m->mask[m->lay.w_off[l] + i] = occam_rng_uniform(&r) < density;
        for (int o = 0; o < w[l + 1]; o++)
            m->mask[m->lay.b_off[l] + o] = occam_rng_below(&r, 4) != 0;
    }
}

/* The trainer's invariant (occam_trainer_apply_mask): masked parameters are zero. */
static void zero_masked(occam_model *m)
{
    if (!m->mask) return;
    for (size_t i = 0; i < m->lay.nparams; i++)
        if (!m->mask[i]) m->params[i] = 0.0f;
}

static double act_ref(double z, occam_act a)
{
    switch (a) {
    case OCCAM_ACT_RELU: return z > 0 ? z : 0;
    case OCCAM_ACT_TANH: return tanh(z);
    case OCCAM_ACT_SIGMOID: return 1.0 / (1.0 + exp(-z));
    }
    return z;
}

/* Masked forward pass in double, row by row. */
static void ref_forward(const occam_model *m, const float *x, size_t n, float *out)
{
    const occam_layout *lay = &m->lay;
    int maxw = 0;
    for (int l = 0; l <= lay->nlayers; l++) maxw = lay->width[l] > maxw ? lay->width[l] : maxw;
    double *a = malloc(sizeof(double) * maxw), *b = malloc(sizeof(double) * maxw);
    cr_assert(a && b);
    for (size_t i = 0; i < n; i++) {
        for (int j = 0; j < lay->width[0]; j++) a[j] = x[i * lay->width[0] + j];
        for (int l = 0; l < lay->nlayers; l++) {
            int in = lay->width[l], nout = lay->width[l + 1];
            for (int o = 0; o < nout; o++) {
                size_t bi = lay->b_off[l] + o;
                double z = !m->mask || m->mask[bi] ? m->params[bi] : 0.0;
                for (int j = 0; j < in; j++) {
                    size_t wi = lay->w_off[l] + (size_t)o * in + j;
                    if (!m->mask || m->mask[wi]) z += (double)m->params[wi] * a[j];
                }
                b[o] = l + 1 < lay->nlayers ? act_ref(z, m->act) : z;
            }
            double *t = a;
            a = b;
            b = t;
        }
        for (int o = 0; o < lay->width[lay->nlayers]; o++)
            out[i * lay->width[lay->nlayers] + o] = (float)a[o];
    }
    free(a);
    free(b);
}

static float *random_rows(size_t n, int d, uint64_t seed)
{
    float *x = occam_alloc(n, (size_t)d * sizeof(float));
    cr_assert(x);
    occam_rng r = occam_rng_seed(seed, 7);
    for (size_t i = 0; i < n * (size_t)d; i++) x[i] = (float)occam_rng_normal(&r);
    return x;
}

/* Engine at `threshold` on `threads` threads vs the reference: within TOL of each row's scale
 * and the same argmax on every row. */
static void check_engine(const occam_model *m, const float *x, size_t n, const float *want,
                         double threshold, int threads, const char *what)
{
    int k = m->lay.width[m->lay.nlayers];
    float *y = occam_alloc(n, (size_t)k * sizeof(float));
    cr_assert(y);
    occam_sparse *s;
    occam_error err;
    cr_assert_eq(occam_sparse_create(&s, m, threshold, &err), OCCAM_OK, "%s", err.msg);
    /* Twice: the second call reuses the scratch grown by the first. */
    for (int rep = 0; rep < 2; rep++) {
        memset(y, 0xff, n * (size_t)k * sizeof(float)); /* NaN: every output must be written */
        cr_assert_eq(occam_sparse_forward(s, x, n, y, threads, &err), OCCAM_OK, "%s", err.msg);
        double d = occam_sparse_max_rel_diff(y, want, n, k);
        cr_assert(d <= TOL, "%s, threshold %g, %d threads: max relative difference %g", what,
                  threshold, threads, d);
        for (size_t i = 0; i < n; i++)
            cr_assert_eq(occam_sparse_argmax(y + i * k, k), occam_sparse_argmax(want + i * k, k),
                         "%s: row %zu", what, i);
    }
    occam_sparse_free(s);
    free(y);
}

/* ---- tests -------------------------------------------------------------------------------- */

/* Odd widths (tails of the 8-wide transposes) and 301 rows: full blocks, a short block, and
 * with 3 threads, uneven shards. */
Test(sparse, matches_reference_and_dense_path)
{
    static const int w[] = {37, 64, 29, 5};
    static const double density[] = {0, 0.01, 0.1, 0.5, 1};
    static const occam_act acts[] = {OCCAM_ACT_RELU, OCCAM_ACT_TANH, OCCAM_ACT_SIGMOID};
    const size_t n = 301;
    float *x = random_rows(n, w[0], 3);
    float *want = malloc(sizeof(float) * n * 5), *dense = malloc(sizeof(float) * n * 5);
    cr_assert(want && dense);
    for (int a = 0; a < 3; a++)
        for (int di = 0; di < 5; di++) {
            occam_model m;
            make_model(&m, w, 4, acts[a], density[di], 100 + (uint64_t)di);
            ref_forward(&m, x, n, want);
            char what[64];
            snprintf(what, sizeof what, "act %d, density %g", (int)acts[a], density[di]);
            for (int t = 1; t <= 3; t++) {
                /* default choice, every layer dense, every layer CSR */
                check_engine(&m, x, n, want, OCCAM_SPARSE_THRESHOLD_DEFAULT, t, what);
                check_engine(&m, x, n, want, 0.0, t, what);
                check_engine(&m, x, n, want, 2.0, t, what);
            }
            /* The dense BLIS path, on parameters that honour the mask as a trained model's do. */
            zero_masked(&m);
            for (int t = 1; t <= 3; t++) {
                occam_error err;
                cr_assert_eq(occam_sparse_dense_forward(&m, x, n, dense, t, &err), OCCAM_OK);
                double d = occam_sparse_max_rel_diff(dense, want, n, 5);
                cr_assert(d <= TOL, "dense path, %s, %d threads: %g", what, t, d);
            }
            occam_model_free(&m);
        }
    free(x);
    free(want);
    free(dense);
}

/* A NaN input reaches the outputs through relu layers, CSR and dense alike: the fused CSR relu
 * made it 0, so the row's prediction was the output biases' (found by a hostile-input sweep).
 * The other rows are untouched. */
Test(sparse, a_nan_reaches_the_outputs_through_relu)
{
    static const int w[] = {7, 12, 9, 3};
    const size_t n = 20;
    occam_model m;
    make_model(&m, w, 4, OCCAM_ACT_RELU, 1.0, 7);
    float *x = random_rows(n, w[0], 5), *y = malloc(sizeof(float) * n * 3);
    cr_assert(y);
    x[(size_t)4 * w[0] + 2] = NAN;
    for (int f = 0; f < 2; f++) { /* every layer CSR, every layer dense */
        occam_sparse *s = NULL;
        occam_error err;
        cr_assert_eq(occam_sparse_create(&s, &m, f ? 0.0 : 2.0, &err), OCCAM_OK, "%s", err.msg);
        cr_assert_eq(occam_sparse_forward(s, x, n, y, 1, &err), OCCAM_OK, "%s", err.msg);
        for (size_t r = 0; r < n; r++)
            for (int k = 0; k < 3; k++)
                cr_assert(r == 4 ? isnan(y[r * 3 + k]) : isfinite(y[r * 3 + k]),
                          "%s: row %zu output %d: %g", f ? "dense" : "CSR", r, k, y[r * 3 + k]);
        occam_sparse_free(s);
    }
    free(x);
    free(y);
    occam_model_free(&m);
}

/* CSR and dense layers in one model (the blocked path's BLIS layers, and activations after
 * them) in both orders. */
Test(sparse, mixed_formats)
{
    static const int w[] = {37, 64, 29, 5};
    static const double layer_density[2][3] = {{0.05, 0.8, 0.1}, {0.8, 0.05, 0.9}};
    static const occam_act acts[] = {OCCAM_ACT_RELU, OCCAM_ACT_TANH, OCCAM_ACT_SIGMOID};
    const size_t n = 300;
    float *x = random_rows(n, w[0], 5);
    float *want = malloc(sizeof(float) * n * 5);
    cr_assert(want);
    for (int a = 0; a < 3; a++)
        for (int v = 0; v < 2; v++) {
            occam_model m;
            make_model(&m, w, 4, acts[a], 1.0, 40 + (uint64_t)v);
            occam_error err;
            cr_assert_eq(occam_model_mask_enable(&m, &err), OCCAM_OK);
            occam_rng r = occam_rng_seed(77, (uint64_t)v);
            for (int l = 0; l < 3; l++)
                for (size_t i = 0; i < (size_t)w[l] * w[l + 1]; i++)
                    m.mask[m.lay.w_off[l] + i] = occam_rng_uniform(&r) < layer_density[v][l];
            ref_forward(&m, x, n, want);
            occam_sparse *s;
            cr_assert_eq(occam_sparse_create(&s, &m, 0.37, &err), OCCAM_OK);
            for (int l = 0; l < 3; l++)
                cr_assert_eq(occam_sparse_layer(s, l).format,
                             layer_density[v][l] < 0.37 ? OCCAM_SPARSE_CSR : OCCAM_SPARSE_DENSE,
                             "layer %d", l);
            occam_sparse_free(s);
            for (int t = 1; t <= 3; t++) check_engine(&m, x, n, want, 0.37, t, "mixed");
            occam_model_free(&m);
        }
    free(x);
    free(want);
}

/* Sparse and dense paths agree on the same model (the check `occam bench infer` makes), and
 * the result does not depend on the thread count at all: each row is computed alone. */
Test(sparse, thread_count_independent)
{
    static const int w[] = {100, 80, 10};
    const size_t n = 517;
    occam_model m;
    make_model(&m, w, 3, OCCAM_ACT_RELU, 0.1, 9);
    zero_masked(&m);
    float *x = random_rows(n, w[0], 4);
    float *y1 = malloc(sizeof(float) * n * 10), *y = malloc(sizeof(float) * n * 10);
    occam_sparse *s;
    occam_error err;
    cr_assert_eq(occam_sparse_create(&s, &m, OCCAM_SPARSE_THRESHOLD_DEFAULT, &err), OCCAM_OK);
    cr_assert_eq(occam_sparse_forward(s, x, n, y1, 1, &err), OCCAM_OK);
    for (int t = 2; t <= 3; t++) {
        cr_assert_eq(occam_sparse_forward(s, x, n, y, t, &err), OCCAM_OK);
        cr_assert_eq(memcmp(y, y1, sizeof(float) * n * 10), 0, "%d threads differ", t);
    }
    cr_assert_eq(occam_sparse_dense_forward(&m, x, n, y, 2, &err), OCCAM_OK);
    cr_assert(occam_sparse_max_rel_diff(y1, y, n, 10) <= TOL);
    /* n = 0 and n = 1 */
    cr_assert_eq(occam_sparse_forward(s, x, 0, y, 2, &err), OCCAM_OK);
    cr_assert_eq(occam_sparse_forward(s, x, 1, y, 3, &err), OCCAM_OK);
    cr_assert_eq(memcmp(y, y1, sizeof(float) * 10), 0);
    occam_sparse_free(s);
    occam_model_free(&m);
    free(x);
    free(y1);
    free(y);
}

/* Density is active-and-nonzero weights over in·out; CSR iff density < threshold. */
Test(sparse, formats_follow_density)
{
    static const int w[] = {50, 40, 30, 20, 10};
    occam_model m;
    make_model(&m, w, 5, OCCAM_ACT_RELU, 1.0, 5);
    occam_error err;
    cr_assert_eq(occam_model_mask_enable(&m, &err), OCCAM_OK);
    /* Layer l keeps the first keep[l] weights of its flat W; one kept weight of layer 3 is an
     * exact zero, which is not stored either. */
    static const double frac[] = {0.02, 0.2, 0.6, 1.0};
    size_t want_nnz[4];
    for (int l = 0; l < 4; l++) {
        size_t nwts = (size_t)w[l] * w[l + 1], keep = (size_t)(frac[l] * (double)nwts);
        for (size_t i = 0; i < nwts; i++) m.mask[m.lay.w_off[l] + i] = i < keep;
        want_nnz[l] = keep;
    }
    m.params[m.lay.w_off[3] + 7] = 0.0f;
    want_nnz[3]--;
    static const double thresholds[] = {0.0, 0.1, OCCAM_SPARSE_THRESHOLD_DEFAULT, 0.7, 1.0, 1.5};
    for (int ti = 0; ti < 6; ti++) {
        occam_sparse *s;
        cr_assert_eq(occam_sparse_create(&s, &m, thresholds[ti], &err), OCCAM_OK);
        cr_assert_eq(occam_sparse_nlayers(s), 4);
        cr_assert_eq(occam_sparse_threshold(s), thresholds[ti]);
        for (int l = 0; l < 4; l++) {
            occam_sparse_layer_info li = occam_sparse_layer(s, l);
            cr_assert_eq(li.in, w[l]);
            cr_assert_eq(li.out, w[l + 1]);
            cr_assert_eq(li.nnz, want_nnz[l], "layer %d: nnz %zu", l, li.nnz);
            cr_assert_float_eq(li.density, (double)want_nnz[l] / (w[l] * w[l + 1]), 1e-12);
            occam_sparse_format f = li.density < thresholds[ti] ? OCCAM_SPARSE_CSR
                                                                 : OCCAM_SPARSE_DENSE;
            cr_assert_eq(li.format, f, "layer %d, density %g, threshold %g", l, li.density,
                         thresholds[ti]);
        }
        occam_sparse_free(s);
    }
    cr_assert_str_eq(occam_sparse_format_name(OCCAM_SPARSE_CSR), "csr");
    cr_assert_str_eq(occam_sparse_format_name(OCCAM_SPARSE_DENSE), "dense");
    /* The default sits where CSR stops paying off, between 10% and 50% density. */
    cr_assert(OCCAM_SPARSE_THRESHOLD_DEFAULT > 0.1 && OCCAM_SPARSE_THRESHOLD_DEFAULT < 0.5);
    occam_sparse *s;
    cr_assert_eq(occam_sparse_create(&s, &m, -0.1, &err), OCCAM_ERR_INPUT);
    cr_assert_null(s);
    cr_assert_eq(occam_sparse_create(&s, &m, NAN, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "threshold"), "%s", err.msg);
    occam_sparse_free(NULL);
    occam_model_free(&m);
}

/* Neuron pruning compacts the layout; the narrower model must compute what the wide one does
 * with the removed units' rows, columns and biases zeroed (relu(0) = 0 contributes nothing). */
Test(sparse, removed_neurons)
{
    static const int w[] = {20, 16, 12, 3}, nw_w[] = {20, 9, 5, 3};
    const size_t n = 200;
    occam_model wide, narrow;
    make_model(&wide, w, 4, OCCAM_ACT_RELU, 0.4, 21);
    zero_masked(&wide);
    uint8_t keep1[16], keep2[12];
    for (int j = 0, k = 0; j < 16; j++) keep1[j] = (j * 7) % 16 < 9 && k++ < 9;
    for (int j = 0, k = 0; j < 12; j++) keep2[j] = (j * 5) % 12 < 5 && k++ < 5;
    const uint8_t *keep[4] = {NULL, keep1, keep2, NULL};
    /* Narrow copy: compact the parameters and the mask. */
    memset(&narrow, 0, sizeof narrow);
    narrow.act = wide.act;
    narrow.task = wide.task;
    narrow.params = occam_alloc(wide.lay.nparams, sizeof(float));
    narrow.mask = occam_alloc(wide.lay.nparams, 1);
    cr_assert(narrow.params && narrow.mask);
    memcpy(narrow.params, wide.params, wide.lay.nparams * sizeof(float));
    memcpy(narrow.mask, wide.mask, wide.lay.nparams);
    occam_layout_init(&narrow.lay, nw_w, 4);
    occam_layout_compact(narrow.params, sizeof(float), &wide.lay, &narrow.lay, keep);
    occam_layout_compact(narrow.mask, 1, &wide.lay, &narrow.lay, keep);
    /* Wide reference: the removed units zeroed. */
    for (int h = 1; h <= 2; h++) {
        const uint8_t *kp = keep[h];
        int in = w[h - 1], out = w[h], next = w[h + 1];
        for (int u = 0; u < out; u++) {
            if (kp[u]) continue;
            for (int j = 0; j < in; j++)
                wide.params[wide.lay.w_off[h - 1] + (size_t)u * in + j] = 0;
            wide.params[wide.lay.b_off[h - 1] + u] = 0;
            for (int o = 0; o < next; o++) wide.params[wide.lay.w_off[h] + (size_t)o * out + u] = 0;
        }
    }
    float *x = random_rows(n, w[0], 8);
    float *want = malloc(sizeof(float) * n * 3);
    ref_forward(&wide, x, n, want);
    occam_sparse *s;
    occam_error err;
    cr_assert_eq(occam_sparse_create(&s, &narrow, OCCAM_SPARSE_THRESHOLD_DEFAULT, &err), OCCAM_OK);
    cr_assert_eq(occam_sparse_layer(s, 0).out, 9);
    cr_assert_eq(occam_sparse_layer(s, 1).in, 9);
    cr_assert_eq(occam_sparse_layer(s, 1).out, 5);
    cr_assert_eq(occam_sparse_layer(s, 2).in, 5);
    occam_sparse_free(s);
    for (int t = 1; t <= 3; t++) {
        check_engine(&narrow, x, n, want, OCCAM_SPARSE_THRESHOLD_DEFAULT, t, "narrow");
        check_engine(&narrow, x, n, want, 2.0, t, "narrow, all CSR");
        check_engine(&narrow, x, n, want, 0.0, t, "narrow, all dense");
    }
    float *dense = malloc(sizeof(float) * n * 3);
    cr_assert_eq(occam_sparse_dense_forward(&narrow, x, n, dense, 2, &err), OCCAM_OK);
    cr_assert(occam_sparse_max_rel_diff(dense, want, n, 3) <= TOL);
    free(dense);
    free(want);
    free(x);
    occam_model_free(&wide);
    occam_model_free(&narrow);
}

/* ---- occam predict ------------------------------------------------------------------------ */

static int run_occam(char *out, size_t cap, const char *args)
{
    const char *bin = shell_occam_bin();
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s %s 2>&1", bin, args);
    FILE *p = popen(cmd, "r");
    cr_assert(p, "cannot run %s", cmd);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = 0;
    int st = pclose(p);
    cr_assert(WIFEXITED(st), "%s: status %d: %s", cmd, st, out);
    return WEXITSTATUS(st);
}

/* A blobs model (20-50-3, weights written directly), CSV rows of features with and without a
 * label column: the output is a header and one `label,p_0,p_1,p_2` line per row, the label is
 * the argmax of the model's output and the probabilities are its softmax. */
Test(sparse, predict_csv_format)
{
    char dir[] = "/tmp/occam-sparse-XXXXXX";
    cr_assert(mkdtemp(dir));
    char ckpt[128], in20[128], in21[128], pred[128], bad[128], args[1024];
    snprintf(ckpt, sizeof ckpt, "%s/m.safetensors", dir);
    snprintf(in20, sizeof in20, "%s/x.csv", dir);
    snprintf(in21, sizeof in21, "%s/xy.csv", dir);
    snprintf(pred, sizeof pred, "%s/p.csv", dir);
    snprintf(bad, sizeof bad, "%s/bad.csv", dir);

    occam_config cfg;
    occam_error err;
    occam_config_defaults(&cfg);
    cr_assert_eq(occam_config_load(&cfg, "configs/blobs.ini", &err), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(cfg.data.normalize, OCCAM_NORM_NONE); /* rows go in as written */
    occam_model m;
    cr_assert_eq(occam_model_create(&m, &cfg.model, cfg.data.task, &err), OCCAM_OK);
    occam_model_init(&m, cfg.model.init, 3);
    for (int o = 0; o < 3; o++) m.params[m.lay.b_off[1] + o] = 0.5f * (float)o;
    cr_assert_eq(occam_checkpoint_save(ckpt, &m, &cfg, NULL, &err), OCCAM_OK, "%s", err.msg);

    enum { N = 7 };
    float *x = random_rows(N, 20, 11);
    for (int i = 0; i < N * 20; i++) /* three decimals: exact through "%.3f" and back */
        x[i] = (float)(round(x[i] * 3000.0) / 1000.0);
    float y[N * 3];
    cr_assert_eq(occam_sparse_dense_forward(&m, x, N, y, 1, &err), OCCAM_OK);
    FILE *f20 = fopen(in20, "w"), *f21 = fopen(in21, "w");
    cr_assert(f20 && f21);
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < 20; j++) {
            fprintf(f20, "%s%.3f", j ? "," : "", x[i * 20 + j]);
            fprintf(f21, "%.3f,", x[i * 20 + j]);
        }
        fprintf(f20, "\n");
        fprintf(f21, "%d\n", i % 3); /* data.label = last (the default) */
    }
    fclose(f20);
    fclose(f21);

    static char out[1 << 16];
    for (int v = 0; v < 2; v++) {
        snprintf(args, sizeof args, "predict configs/blobs.ini --checkpoint %s --input %s "
                 "--output %s --threads 2 --set runtime.oversubscribe=true", ckpt,
                 v ? in21 : in20, pred);
        cr_assert_eq(run_occam(out, sizeof out, args), 0, "%s", out);
        FILE *p = fopen(pred, "r");
        cr_assert(p);
        char line[1024];
        cr_assert(fgets(line, sizeof line, p));
        cr_assert_str_eq(line, "label,p_0,p_1,p_2\n");
        for (int i = 0; i < N; i++) {
            cr_assert(fgets(line, sizeof line, p), "row %d missing", i);
            int label;
            double pr[3];
            cr_assert_eq(sscanf(line, "%d,%lf,%lf,%lf", &label, &pr[0], &pr[1], &pr[2]), 4,
                         "row %d: %s", i, line);
            const float *yi = y + i * 3;
            cr_assert_eq(label, occam_sparse_argmax(yi, 3), "row %d", i);
            double mx = fmax(yi[0], fmax(yi[1], yi[2])), s = 0;
            for (int j = 0; j < 3; j++) s += exp(yi[j] - mx);
            for (int j = 0; j < 3; j++)
                cr_assert(fabs(pr[j] - exp(yi[j] - mx) / s) <= 1e-5, "row %d p_%d: %g", i, j,
                          pr[j]);
            cr_assert(fabs(pr[0] + pr[1] + pr[2] - 1.0) <= 1e-5);
        }
        cr_assert_null(fgets(line, sizeof line, p), "extra line: %s", line);
        fclose(p);
    }

    /* Bad input: exit 2, naming the file and the line. */
    FILE *fb = fopen(bad, "w");
    cr_assert(fb);
    fprintf(fb, "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20\n\n"
                "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,oops\n");
    fclose(fb);
    snprintf(args, sizeof args, "predict configs/blobs.ini --checkpoint %s --input %s", ckpt, bad);
    cr_assert_eq(run_occam(out, sizeof out, args), 2, "%s", out);
    char want[256];
    snprintf(want, sizeof want, "%s:3: column 20: \"oops\" is not a number", bad);
    cr_assert(strstr(out, want), "%s", out);

    free(x);
    occam_model_free(&m);
    snprintf(args, sizeof args, "rm -rf '%s'", dir);
    cr_assert_eq(system(args), 0);
}
