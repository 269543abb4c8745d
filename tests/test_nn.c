/* Kernels, gradients, optimisers and schedules against simple references: every layer and
 * loss is checked against central finite differences of a double-precision forward pass. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "occam/config.h"
#include "occam/data.h"
#include "../src/nn/kernels.h"
#include "occam/model.h"
#include "occam/optim.h"
#include "occam/rng.h"
#include "occam/trainer.h"

/* ---- a double-precision reference MLP ----------------------------------------------------- */

static double act_d(double x, occam_act a)
{
    switch (a) {
    case OCCAM_ACT_RELU: return x > 0 ? x : 0;
    case OCCAM_ACT_TANH: return tanh(x);
    case OCCAM_ACT_SIGMOID: return 1.0 / (1.0 + exp(-x));
    }
    return x;
}

/* The outputs for input row x, in double, parameters p in the flat layout: into buf[return]. */
static int ref_forward(const occam_layout *lay, const double *p, occam_act act, const float *x,
                       double buf[2][64])
{
    for (int j = 0; j < lay->width[0]; j++) buf[0][j] = x[j];
    int cur = 0;
    for (int l = 0; l < lay->nlayers; l++) {
        int in = lay->width[l], out = lay->width[l + 1];
        for (int o = 0; o < out; o++) {
            double z = p[lay->b_off[l] + o];
            for (int i = 0; i < in; i++) z += p[lay->w_off[l] + (size_t)o * in + i] * buf[cur][i];
            buf[cur ^ 1][o] = l + 1 < lay->nlayers ? act_d(z, act) : z;
        }
        cur ^= 1;
    }
    return cur;
}

/* Mean loss over the dataset, all in double, parameters p in the flat layout. */
static double ref_loss(const occam_layout *lay, const double *p, occam_act act, occam_task task,
                       const occam_dataset *ds)
{
    double total = 0;
    double buf[2][64];
    for (size_t r = 0; r < ds->n; r++) {
        int cur = ref_forward(lay, p, act, ds->x + r * ds->d, buf);
        int k = lay->width[lay->nlayers];
        if (task == OCCAM_TASK_CLASSIFY) {
            double mx = buf[cur][0], s = 0;
            for (int j = 1; j < k; j++) mx = fmax(mx, buf[cur][j]);
            for (int j = 0; j < k; j++) s += exp(buf[cur][j] - mx);
            total += log(s) + mx - buf[cur][ds->label[r]];
        } else {
            for (int j = 0; j < k; j++) {
                double e = buf[cur][j] - ds->y[r * (size_t)k + j];
                total += e * e;
            }
        }
    }
    return total / (double)ds->n;
}

static void make_data(occam_dataset *ds, size_t n, int d, int k, occam_task task, uint64_t seed)
{
    occam_rng r = occam_rng_seed(seed, 99);
    memset(ds, 0, sizeof *ds);
    ds->n = n;
    ds->d = (size_t)d;
    ds->x = malloc(sizeof(float) * n * (size_t)d);
    for (size_t i = 0; i < n * (size_t)d; i++) ds->x[i] = (float)occam_rng_normal(&r);
    if (task == OCCAM_TASK_CLASSIFY) {
        ds->classes = k;
        ds->label = malloc(sizeof(int32_t) * n);
        for (size_t i = 0; i < n; i++) ds->label[i] = (int32_t)occam_rng_below(&r, (uint64_t)k);
    } else {
        ds->targets = k;
        ds->y = malloc(sizeof(float) * n * (size_t)k);
        for (size_t i = 0; i < n * (size_t)k; i++) ds->y[i] = (float)occam_rng_normal(&r);
    }
}

static void check_gradient(occam_act act, occam_task task, int threads)
{
    occam_config cfg;
    occam_config_defaults(&cfg);
    int widths[] = {5, 7, 6, 4};
    memcpy(cfg.model.layers, widths, sizeof widths);
    cfg.model.nlayers = 4;
    cfg.model.activation = act;
    cfg.data.task = task;
    cfg.train.batch = 9;
    occam_model m;
    occam_error err;
    cr_assert_eq(occam_model_create(&m, &cfg.model, cfg.data.task, &err), OCCAM_OK);
    occam_model_init(&m, OCCAM_INIT_XAVIER, 3);
    occam_rng r = occam_rng_seed(5, 1);
    for (int l = 0; l < m.lay.nlayers; l++) /* non-zero biases, so their gradients matter */
        for (int o = 0; o < m.lay.width[l + 1]; o++)
            m.params[m.lay.b_off[l] + o] = (float)(0.2 * occam_rng_normal(&r));
    occam_dataset ds;
    make_data(&ds, 9, 5, 4, task, 11);
    occam_trainer *tr;
    cr_assert_eq(occam_trainer_create(&tr, &m, occam_config_trainer(&cfg), threads, NULL, &err), OCCAM_OK, "%s", err.msg);
    uint32_t idx[9];
    for (int i = 0; i < 9; i++) idx[i] = (uint32_t)i;
    float *g = calloc(m.lay.nparams, sizeof(float));
    double loss = 0;
    occam_trainer_gradient(tr, &ds, idx, 9, g, &loss);

    double *p = malloc(sizeof(double) * m.lay.nparams);
    for (size_t i = 0; i < m.lay.nparams; i++) p[i] = m.params[i];
    double l0 = ref_loss(&m.lay, p, act, task, &ds);
    cr_assert(fabs(loss / 9.0 - l0) < 1e-5 * (1 + fabs(l0)), "loss %g vs reference %g",
              loss / 9.0, l0);
    const double h = 1e-6;
    int checked = 0;
    for (int l = 0; l < m.lay.nlayers; l++) {
        size_t segs[2][2] = {{m.lay.w_off[l], (size_t)m.lay.width[l] * m.lay.width[l + 1]},
                             {m.lay.b_off[l], (size_t)m.lay.width[l + 1]}};
        for (int s = 0; s < 2; s++)
            for (size_t i = segs[s][0]; i < segs[s][0] + segs[s][1]; i++) {
                double keep = p[i];
                p[i] = keep + h;
                double lp = ref_loss(&m.lay, p, act, task, &ds);
                p[i] = keep - h;
                double lm = ref_loss(&m.lay, p, act, task, &ds);
                p[i] = keep;
                double fd = (lp - lm) / (2 * h);
                cr_assert(fabs(fd - g[i]) <= 2e-4 + 2e-3 * fabs(fd),
                          "act %d task %d layer %d %s[%zu]: analytic %.7g, finite difference %.7g",
                          act, task, l, s ? "bias" : "weight",
                          i - segs[s][0], g[i], fd);
                checked++;
            }
    }
    cr_assert_eq((size_t)checked, m.lay.nweights + m.lay.nbiases);
    free(p);
    free(g);
    occam_trainer_free(tr);
    occam_dataset_free(&ds);
    occam_model_free(&m);
}

Test(nn, gradient_relu_xent) { check_gradient(OCCAM_ACT_RELU, OCCAM_TASK_CLASSIFY, 1); }
Test(nn, gradient_tanh_xent) { check_gradient(OCCAM_ACT_TANH, OCCAM_TASK_CLASSIFY, 1); }
Test(nn, gradient_sigmoid_xent) { check_gradient(OCCAM_ACT_SIGMOID, OCCAM_TASK_CLASSIFY, 1); }
Test(nn, gradient_relu_mse) { check_gradient(OCCAM_ACT_RELU, OCCAM_TASK_REGRESS, 1); }
Test(nn, gradient_tanh_mse) { check_gradient(OCCAM_ACT_TANH, OCCAM_TASK_REGRESS, 1); }
Test(nn, gradient_sigmoid_mse) { check_gradient(OCCAM_ACT_SIGMOID, OCCAM_TASK_REGRESS, 1); }
/* The same gradient from uneven shards (9 rows over 2 and 4 threads). */
/* With standardised targets the evaluation reports original units: its mse and relative
 * error equal a double-precision forward pass whose outputs are de-standardised by hand
 * (z·scale + shift) against the targets as they were, with two targets of very different
 * scales, at 1 and 3 threads. */
static void eval_original_units(int threads)
{
    occam_config cfg;
    occam_config_defaults(&cfg);
    int widths[] = {5, 7, 2};
    memcpy(cfg.model.layers, widths, sizeof widths);
    cfg.model.nlayers = 3;
    cfg.model.activation = OCCAM_ACT_TANH;
    cfg.data.task = OCCAM_TASK_REGRESS;
    occam_model m;
    occam_error err;
    cr_assert_eq(occam_model_create(&m, &cfg.model, cfg.data.task, &err), OCCAM_OK);
    occam_model_init(&m, OCCAM_INIT_XAVIER, 3);
    occam_dataset tr, te;
    make_data(&tr, 40, 5, 2, OCCAM_TASK_REGRESS, 11);
    make_data(&te, 300, 5, 2, OCCAM_TASK_REGRESS, 12);
    const double shift[2] = {200.0, -0.5}, scale[2] = {80.0, 0.01};
    for (int u = 0; u < 2; u++) {
        occam_dataset *ds = u ? &te : &tr;
        for (size_t i = 0; i < ds->n * 2; i++)
            ds->y[i] = (float)(shift[i % 2] + scale[i % 2] * ds->y[i]);
    }
    float *orig = malloc(te.n * 2 * sizeof(float));
    memcpy(orig, te.y, te.n * 2 * sizeof(float));
    cr_assert_eq(occam_data_normalize_targets(&tr, &te, &err), OCCAM_OK, "%s", err.msg);

    occam_trainer *tr_;
    cr_assert_eq(occam_trainer_create(&tr_, &m, occam_config_trainer(&cfg), threads, NULL, &err),
                 OCCAM_OK, "%s", err.msg);
    occam_eval ev;
    occam_trainer_eval(tr_, &te, &ev);

    double *p = malloc(sizeof(double) * m.lay.nparams);
    for (size_t i = 0; i < m.lay.nparams; i++) p[i] = m.params[i];
    double sse = 0, mean[2] = {0}, var = 0, buf[2][64];
    for (size_t r = 0; r < te.n; r++) {
        int cur = ref_forward(&m.lay, p, m.act, te.x + r * te.d, buf);
        for (int j = 0; j < 2; j++) {
            double y = buf[cur][j] * te.y_scale[j] + te.y_shift[j];
            sse += (y - orig[r * 2 + j]) * (y - orig[r * 2 + j]);
            mean[j] += orig[r * 2 + j] / (double)te.n;
        }
    }
    for (size_t r = 0; r < te.n; r++)
        for (int j = 0; j < 2; j++) var += pow(orig[r * 2 + j] - mean[j], 2) / (double)te.n / 2;
    double mse = sse / (double)(te.n * 2);
    cr_assert(fabs(ev.mse - mse) <= 1e-5 * mse, "mse %.9g, reference %.9g", ev.mse, mse);
    cr_assert(fabs(ev.loss - 2 * mse) <= 1e-5 * mse, "loss %.9g, reference %.9g", ev.loss, 2 * mse);
    cr_assert(fabs(ev.relative_error - mse / var) <= 1e-5 * mse / var,
              "relative error %.9g, reference %.9g", ev.relative_error, mse / var);
    cr_assert(mse > 100.0, "the errors are in original units (mse %g)", mse);
    free(p);
    free(orig);
    occam_trainer_free(tr_);
    occam_dataset_free(&tr);
    occam_dataset_free(&te);
    occam_model_free(&m);
}

Test(nn, eval_reports_standardised_targets_in_original_units_1_thread) { eval_original_units(1); }
Test(nn, eval_reports_standardised_targets_in_original_units_3_threads) { eval_original_units(3); }

Test(nn, gradient_sharded_2_threads) { check_gradient(OCCAM_ACT_TANH, OCCAM_TASK_CLASSIFY, 2); }
Test(nn, gradient_sharded_4_threads) { check_gradient(OCCAM_ACT_RELU, OCCAM_TASK_REGRESS, 4); }

/* ---- element-wise kernels ---------------------------------------------------------------- */

Test(nn, softmax_xent_values)
{
    float z[6] = {1, 2, 3, 0, 0, 0}, dz[6];
    int32_t y[2] = {2, 1};
    double loss = 0;
    int64_t correct = 0;
    occam_softmax_xent(dz, z, y, 2, 3, 0.5f, &loss, &correct);
    double s = exp(1) + exp(2) + exp(3);
    double want = (log(s) - 3) + log(3.0);
    cr_assert(fabs(loss - want) < 1e-12, "loss %.15g want %.15g", loss, want);
    cr_assert_eq(correct, 1); /* row 0 argmax 2 = label; row 1 ties pick column 0 */
    cr_assert(fabsf(dz[2] - (float)((exp(3) / s - 1) * 0.5)) < 1e-7f);
    cr_assert(fabsf(dz[3] - (float)(0.5 / 3)) < 1e-7f);
    cr_assert(fabsf(dz[4] - (float)((1.0 / 3 - 1) * 0.5)) < 1e-7f);
}

Test(nn, softmax_xent_is_stable_for_large_logits)
{
    float z[2] = {1000.0f, -1000.0f};
    int32_t y[1] = {1};
    double loss = 0;
    int64_t c = 0;
    occam_softmax_xent(NULL, z, y, 1, 2, 0, &loss, &c);
    cr_assert(fabs(loss - 2000.0) < 1e-9, "loss %g", loss);
}

Test(nn, mse_values)
{
    float yv[4] = {1, 2, 3, 4}, t[4] = {0, 2, 5, 4}, d[4];
    double sse = 0;
    occam_mse(d, yv, t, 2, 2, 0.25f, &sse);
    cr_assert(fabs(sse - 5.0) < 1e-12);
    float want[4] = {0.5f, 0, -1.0f, 0};
    for (int i = 0; i < 4; i++) cr_assert_float_eq(d[i], want[i], 1e-7f);
}

Test(nn, bias_act_forward_and_backward)
{
    for (int a = 0; a < 3; a++) {
        float z[6] = {-1, 0.5f, 2, 3, -4, 0.25f}, b[3] = {0.5f, -1, 0}, d[6] = {1, 2, 3, 4, 5, 6};
        float z0[6];
        memcpy(z0, z, sizeof z);
        occam_bias_act_forward(z, b, 2, 3, (occam_act)a);
        for (int i = 0; i < 6; i++) {
            double pre = (double)z0[i] + b[i % 3];
            cr_assert(fabs(z[i] - act_d(pre, (occam_act)a)) < 1e-6, "act %d i %d", a, i);
        }
        float dd[6];
        memcpy(dd, d, sizeof d);
        occam_act_backward(dd, z, 2, 3, (occam_act)a);
        for (int i = 0; i < 6; i++) {
            double pre = (double)z0[i] + b[i % 3], h = 1e-6;
            double deriv = (act_d(pre + h, (occam_act)a) - act_d(pre - h, (occam_act)a)) / (2 * h);
            cr_assert(fabs(dd[i] - d[i] * deriv) < 1e-4 * (1 + fabs(d[i] * deriv)),
                      "act %d i %d: %g vs %g", a, i, dd[i], d[i] * deriv);
        }
    }
}

Test(nn, bias_backward_sums_columns)
{
    float dz[6] = {1, 2, 3, 4, 5, 6}, db[3];
    occam_bias_backward(db, dz, 2, 3, 3);
    cr_assert_float_eq(db[0], 5.0f, 0);
    cr_assert_float_eq(db[1], 7.0f, 0);
    cr_assert_float_eq(db[2], 9.0f, 0);
    occam_bias_backward(db, dz + 1, 2, 2, 3); /* a column block */
    cr_assert_float_eq(db[0], 7.0f, 0);
    cr_assert_float_eq(db[1], 9.0f, 0);
}

/* ---- optimisers -------------------------------------------------------------------------- */

static void optim_case(occam_opt kind, bool nesterov, bool decay)
{
    occam_config cfg;
    occam_config_defaults(&cfg);
    cfg.train.optim.optimizer = kind;
    cfg.train.optim.nesterov = nesterov;
    cfg.train.optim.lr = 0.1;
    cfg.train.optim.momentum = 0.8;
    cfg.train.optim.weight_decay = 0.01;
    occam_optim o;
    occam_optim_init(&o, &cfg.train.optim);
    enum { N = 1100 }; /* more than one internal block */
    static float w[N], m[N], v[N], p0[N], p1[N];
    static double rw[N], rm[N], rv[N];
    occam_rng r = occam_rng_seed(1, 2);
    for (int i = 0; i < N; i++) {
        w[i] = (float)occam_rng_normal(&r);
        rw[i] = w[i];
        m[i] = v[i] = 0;
        rm[i] = rv[i] = 0;
    }
    const float *parts[2] = {p0, p1};
    for (int step = 0; step < 5; step++) {
        for (int i = 0; i < N; i++) {
            p0[i] = (float)occam_rng_normal(&r);
            p1[i] = (float)occam_rng_normal(&r);
        }
        occam_optim_update(&o, w, m, v, parts, 2, 0, N, decay, NULL);
        o.t++;
        double wd = decay ? 0.01 : 0.0, mu = 0.8, lr = 0.1;
        for (int i = 0; i < N; i++) {
            double g = (double)p0[i] + p1[i] + wd * rw[i];
            if (kind == OCCAM_OPT_SGD) {
                rm[i] = mu * rm[i] + g;
                rw[i] -= lr * (nesterov ? g + mu * rm[i] : rm[i]);
            } else {
                rm[i] = 0.9 * rm[i] + 0.1 * g;
                rv[i] = 0.999 * rv[i] + 0.001 * g * g;
                double mh = rm[i] / (1 - pow(0.9, step + 1)), vh = rv[i] / (1 - pow(0.999, step + 1));
                rw[i] -= lr * mh / (sqrt(vh) + 1e-8);
            }
        }
    }
    for (int i = 0; i < N; i++)
        cr_assert(fabs(w[i] - rw[i]) < 1e-4 * (1 + fabs(rw[i])), "kind %d i %d: %g vs %g", kind,
                  i, w[i], rw[i]);
}

Test(nn, sgd_momentum) { optim_case(OCCAM_OPT_SGD, false, true); }
Test(nn, sgd_nesterov) { optim_case(OCCAM_OPT_SGD, true, true); }
Test(nn, sgd_no_decay_on_bias_segments) { optim_case(OCCAM_OPT_SGD, false, false); }
Test(nn, adam) { optim_case(OCCAM_OPT_ADAM, false, true); }

Test(nn, lr_schedules)
{
    occam_config cfg;
    occam_config_defaults(&cfg);
    cfg.train.optim.lr = 0.1;
    cfg.train.optim.schedule = OCCAM_SCHED_CONSTANT;
    cr_assert_float_eq(occam_optim_lr_at(&cfg.train.optim, 77, 100, 10), 0.1, 1e-15);
    cfg.train.optim.schedule = OCCAM_SCHED_STEP;
    cfg.train.optim.step_epochs = 3;
    cfg.train.optim.gamma = 0.5;
    cr_assert_float_eq(occam_optim_lr_at(&cfg.train.optim, 29, 100, 10), 0.1, 1e-15);   /* epoch 2 */
    cr_assert_float_eq(occam_optim_lr_at(&cfg.train.optim, 30, 100, 10), 0.05, 1e-15);  /* epoch 3 */
    cr_assert_float_eq(occam_optim_lr_at(&cfg.train.optim, 65, 100, 10), 0.025, 1e-15); /* epoch 6 */
    cfg.train.optim.schedule = OCCAM_SCHED_COSINE;
    cfg.train.optim.lr_min = 0.01;
    cr_assert_float_eq(occam_optim_lr_at(&cfg.train.optim, 0, 100, 10), 0.1, 1e-15);
    cr_assert_float_eq(occam_optim_lr_at(&cfg.train.optim, 50, 100, 10), 0.055, 1e-15);
    cr_assert_float_eq(occam_optim_lr_at(&cfg.train.optim, 100, 100, 10), 0.01, 1e-15);
    cr_assert_float_eq(occam_optim_lr_at(&cfg.train.optim, 25, 100, 10), 0.01 + 0.09 * 0.5 * (1 + cos(M_PI / 4)),
                       1e-15);
}

/* ---- layout and initialisation ----------------------------------------------------------- */

Test(nn, layout_is_aligned_and_dense)
{
    occam_layout lay;
    int w[] = {784, 300, 100, 10};
    occam_layout_init(&lay, w, 4);
    cr_assert_eq(lay.nweights, 784u * 300 + 300 * 100 + 100 * 10);
    cr_assert_eq(lay.nbiases, 410u);
    for (int l = 0; l < 3; l++) {
        cr_assert_eq(lay.w_off[l] % OCCAM_SEG_ALIGN, 0u);
        cr_assert_eq(lay.b_off[l] % OCCAM_SEG_ALIGN, 0u);
        cr_assert(lay.b_off[l] >= lay.w_off[l] + (size_t)w[l] * w[l + 1]);
    }
    cr_assert(lay.nparams >= lay.b_off[2] + 10 && lay.nparams % OCCAM_SEG_ALIGN == 0);
}

Test(nn, he_init_statistics)
{
    occam_config cfg;
    occam_config_defaults(&cfg);
    occam_model m;
    occam_error err;
    cr_assert_eq(occam_model_create(&m, &cfg.model, cfg.data.task, &err), OCCAM_OK);
    occam_model_init(&m, OCCAM_INIT_HE, 1);
    size_t n = 784 * 300;
    double s = 0, ss = 0;
    for (size_t i = 0; i < n; i++) {
        s += m.params[i];
        ss += (double)m.params[i] * m.params[i];
    }
    double var = ss / n - (s / n) * (s / n);
    cr_assert(fabs(var - 2.0 / 784) < 0.02 * 2.0 / 784, "variance %g, He wants %g", var, 2.0 / 784);
    cr_assert(fabs(s / n) < 3e-4);
    for (int l = 0; l < 3; l++) cr_assert_float_eq(m.params[m.lay.b_off[l]], 0.0f, 0);
    occam_model_free(&m);
}
