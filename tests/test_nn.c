/* Kernels, gradients, optimisers and schedules against simple references: every layer and
 * loss is checked against central finite differences of a double-precision forward pass. */
#include <criterion/criterion.h>
#include <float.h>
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

/* Adam's v was float32: a gradient past about 1.8e19 made g² (or (1 - β2)·g·g, past about
 * 6e20) overflow, v inf, and the step m/sqrt(v) 0 (the weight frozen) or NaN. Gradients from 1e21
 * to 1e38, and one of 1e19 over steps as v grows past FLT_MAX, beside ordinary ones in the
 * same block, then ordinary gradients for 50 steps: every update finite, the first step
 * lr·sign(g) as true Adam's, later ones within 10·lr (v is saturated in float), the ordinary
 * entries as the float formula gives. */
Test(nn, adam_with_huge_gradients_steps_finitely)
{
    occam_config cfg;
    occam_config_defaults(&cfg);
    cfg.train.optim.optimizer = OCCAM_OPT_ADAM;
    cfg.train.optim.lr = 0.01;
    occam_optim o;
    occam_optim_init(&o, &cfg.train.optim);
    enum { N = 8 };
    static const float huge[N] = {1e21f, -3e25f, 1e30f, -1e38f, 2e19f, 0.5f, -0.25f, 3.0f};
    float gh[N], w[N], m[N] = {0}, v[N] = {0}, p0[N];
    for (int i = 0; i < N; i++) w[i] = 1.0f, p0[i] = gh[i] = huge[i];
    const float *parts[1] = {p0};
    for (int step = 0; step < 100; step++) {
        if (step == 50) /* then ordinary gradients of the same signs, v still saturated */
            for (int i = 0; i < 5; i++) p0[i] = gh[i] = huge[i] > 0 ? 1.0f : -1.0f;
        float w0[N], m0[N], v0[N];
        memcpy(w0, w, sizeof w);
        memcpy(m0, m, sizeof m);
        memcpy(v0, v, sizeof v);
        occam_optim_update(&o, w, m, v, parts, 1, 0, N, false, NULL);
        for (int i = 0; i < N; i++) {
            double dw = w[i] - w0[i];
            cr_assert(isfinite(w[i]) && isfinite(m[i]) && isfinite(v[i]),
                      "step %d g %g: w %g m %g v %g", step, gh[i], w[i], m[i], v[i]);
            /* against the gradient, by about lr: exactly lr·sign(g) at the first step */
            cr_assert(dw * gh[i] < 0, "step %d g %g: dw %g", step, gh[i], dw);
            if (step == 0)
                cr_assert(fabs(fabs(dw) - 0.01) < 1e-6, "g %g: dw %g", gh[i], dw);
            cr_assert(fabs(dw) < 0.1, "step %d g %g: dw %g", step, gh[i], dw);
            if (i >= 5) { /* ordinary gradients: the float formula itself */
                float b1 = o.beta1, b2 = o.beta2, g = gh[i];
                float mi = b1 * m0[i] + (1.0f - b1) * g, vi = b2 * v0[i] + (1.0f - b2) * g * g;
                float bc1 = (float)(1.0 - pow(b1, step + 1)), bc2s = (float)sqrt(1.0 - pow(b2, step + 1));
                float wi = w0[i] - o.lr / bc1 * bc2s * mi / (sqrtf(vi) + o.eps * bc2s);
                cr_assert(m[i] == mi && v[i] == vi && w[i] == wi, "step %d g %g", step, g);
            }
        }
        o.t++;
    }
}

/* A NaN gradient is NaN in w, m and v, as the float loop gives it, also on an entry whose v
 * is at the bound and so goes through adam_wide: its saturation by fmin/fmax turned the NaN
 * into m = +FLT_MAX and v = FLT_MAX, a finite state for a diverged weight (and the sign of m
 * made up). */
Test(nn, adam_nan_gradient_stays_nan_in_the_wide_path)
{
    occam_config cfg;
    occam_config_defaults(&cfg);
    cfg.train.optim.optimizer = OCCAM_OPT_ADAM;
    occam_optim o;
    occam_optim_init(&o, &cfg.train.optim);
    o.t = 5;
    float w[2] = {1.0f, 1.0f}, m[2] = {-5.0f, -5.0f}, v[2] = {3e38f, 1.0f}, g[2] = {NAN, NAN};
    const float *parts[1] = {g};
    occam_optim_update(&o, w, m, v, parts, 1, 0, 2, false, NULL);
    for (int i = 0; i < 2; i++)
        cr_assert(isnan(w[i]) && isnan(m[i]) && isnan(v[i]), "entry %d: w %g m %g v %g", i,
                  w[i], m[i], v[i]);
}

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

/* ---- edge cases of the element-wise kernels and the optimiser ------------------------------ */

/* Softmax cross-entropy against log-sum-exp in double over widths 1 (one class: loss 0, no
 * gradient), 2, 7 and 11 and logits up to ±1e4, with dz separate and in place (dz == z, as the
 * header allows): the same bits either way. */
Test(nn, softmax_xent_matches_double_for_any_width_and_in_place)
{
    const int widths[] = {1, 2, 7, 11};
    occam_rng r = occam_rng_seed(41, 3);
    for (size_t w = 0; w < sizeof widths / sizeof *widths; w++) {
        enum { M = 5 };
        int n = widths[w];
        float z[M * 11], zin[M * 11], dz[M * 11];
        int32_t y[M];
        for (int i = 0; i < M * n; i++)
            z[i] = (float)(occam_rng_normal(&r) * (i % 3 == 0 ? 1e4 : i % 3 == 1 ? 1.0 : 30.0));
        for (int i = 0; i < M; i++) y[i] = (int32_t)occam_rng_below(&r, (uint64_t)n);
        memcpy(zin, z, sizeof z);
        double loss = 0, loss2 = 0;
        int64_t ok = 0, ok2 = 0;
        occam_softmax_xent(dz, z, y, M, n, 0.25f, &loss, &ok);
        occam_softmax_xent(zin, zin, y, M, n, 0.25f, &loss2, &ok2);
        cr_assert(memcmp(&loss, &loss2, sizeof loss) == 0 && ok == ok2, "width %d", n);
        cr_assert_eq(memcmp(dz, zin, sizeof(float) * M * n), 0, "width %d: in place differs", n);
        double want = 0, tol = 0;
        int64_t right = 0;
        for (int i = 0; i < M; i++) {
            const float *zi = z + i * n;
            double mx = zi[0], s = 0, spread = 0;
            int arg = 0;
            for (int j = 1; j < n; j++)
                if (zi[j] > mx) mx = zi[j], arg = j;
            for (int j = 0; j < n; j++) s += exp((double)zi[j] - mx);
            for (int j = 0; j < n; j++) spread = fmax(spread, mx - zi[j]);
            want += log(s) + mx - zi[y[i]];
            /* occam_softmax_xent rounds z_j − max to float before it widens it: half an ulp
             * of the largest difference for the label's term, as much again through the sum
             * (logits of 1e4 lose ~1e-3 nats a row; those of a trained net, ~1e-6) */
            tol += 0x1p-23 * spread;
            right += arg == y[i];
            for (int j = 0; j < n; j++) {
                double g = (exp((double)zi[j] - mx) / s - (j == y[i])) * 0.25;
                cr_assert(fabs(dz[i * n + j] - g) <= 1e-7, "width %d row %d col %d: %g vs %g",
                          n, i, j, dz[i * n + j], g);
            }
        }
        cr_assert(fabs(loss - want) <= tol + 1e-12 * (1 + fabs(want)), "width %d: %.17g vs %.17g",
                  n, loss, want);
        cr_assert_eq(ok, right, "width %d", n);
        if (n == 1) cr_assert(loss == 0 && ok == M && dz[0] == 0.0f, "one class costs nothing");
    }
}

/* A NaN or infinite logit anywhere in a row makes the loss non-finite, never a finite number
 * that would hide the divergence; a finite row beside it is unaffected in dz. */
Test(nn, softmax_xent_does_not_hide_a_nan_or_inf_logit)
{
    const float bad[] = {NAN, INFINITY, -INFINITY};
    for (int b = 0; b < 3; b++)
        for (int at = 0; at < 3; at++) {
            float z[6] = {0.5f, -1.0f, 2.0f, 0.5f, -1.0f, 2.0f}, dz[6];
            z[at] = bad[b];
            int32_t y[2] = {1, 1};
            double loss = 0;
            int64_t ok = 0;
            occam_softmax_xent(dz, z, y, 2, 3, 1.0f, &loss, &ok);
            if (b == 2 && at != 1) { /* −inf beside the label's logit: probability 0, exact */
                cr_assert(isfinite(loss), "-inf at %d: %g", at, loss);
                continue;
            }
            cr_assert(!isfinite(loss), "%g at %d: loss %g", (double)bad[b], at, loss);
            double s = exp(0.5) + exp(-1.0) + exp(2.0);
            cr_assert(fabsf(dz[4] - (float)(exp(-1.0) / s - 1)) < 1e-7f, "row 1 untouched");
        }
}

/* Squared error over an odd length (7: no vector multiple) against double, with dy separate
 * and in place (dy == y); a NaN output or target is not hidden. */
Test(nn, mse_matches_double_in_place_and_propagates_nan)
{
    float yv[7] = {1e-3f, -2.5f, 3e4f, 0, -0.0f, 7.25f, 1e-40f};
    float t[7] = {0, 2.5f, -3e4f, 0, 1e-40f, 7.0f, -1e-40f}, dy[7], yin[7];
    memcpy(yin, yv, sizeof yv);
    double sse = 0, sse2 = 0, want = 0;
    occam_mse(dy, yv, t, 1, 7, 0.5f, &sse);
    occam_mse(yin, yin, t, 7, 1, 0.5f, &sse2);
    cr_assert(memcmp(&sse, &sse2, sizeof sse) == 0 && memcmp(dy, yin, sizeof dy) == 0);
    for (int i = 0; i < 7; i++) {
        double r = (double)yv[i] - t[i];
        want += r * r;
        cr_assert(fabs(dy[i] - r) <= 1e-7 * fabs(r) + 1e-45, "i %d: %g vs %g", i, dy[i], r);
    }
    cr_assert(fabs(sse - want) <= 1e-7 * want, "%.17g vs %.17g", sse, want);
    yv[3] = NAN;
    sse = 0;
    occam_mse(dy, yv, t, 1, 7, 0.5f, &sse);
    cr_assert(isnan(sse) && isnan(dy[3]));
    t[3] = NAN;
    yv[3] = 0;
    sse = 0;
    occam_mse(NULL, yv, t, 1, 7, 0.5f, &sse);
    cr_assert(isnan(sse));
}

/* relu keeps a NaN a NaN: it made it 0 (v > 0 ? v : 0), so a hidden unit at inf - inf gave
 * the output bias alone, a finite prediction that predict, eval and the divergence check let
 * pass (found by a hostile-input sweep); every other value is as before, −0 to +0 included.
 * The vector loop (16 values and a tail) and the scalar one. */
Test(nn, relu_keeps_a_nan)
{
    float z[19], b[19] = {0};
    for (int i = 0; i < 19; i++) z[i] = (float)(i - 9);
    z[3] = NAN;
    z[17] = NAN;
    z[5] = -0.0f;
    z[9] = -INFINITY;
    z[11] = INFINITY;
    occam_bias_act_forward(z, b, 1, 19, OCCAM_ACT_RELU);
    for (int i = 0; i < 19; i++) {
        if (i == 3 || i == 17) {
            cr_assert(isnan(z[i]), "%d: %g", i, z[i]);
            continue;
        }
        float want = i == 11 ? INFINITY : i > 9 ? (float)(i - 9) : 0.0f;
        cr_assert(z[i] == want && !signbit(z[i]), "%d: %g, want %g", i, z[i], want);
    }
    float one[1] = {NAN}, nb[1] = {1};
    occam_bias_act_forward(one, nb, 1, 1, OCCAM_ACT_RELU);
    cr_assert(isnan(one[0]));
    float bn[3] = {NAN, -1, 2}, zz[3] = {0, 0, 0}; /* a NaN bias */
    occam_bias_act_forward(zz, bn, 1, 3, OCCAM_ACT_RELU);
    cr_assert(isnan(zz[0]) && zz[1] == 0.0f && zz[2] == 2.0f);
}

/* The activations and their derivatives where they saturate: sigmoid and tanh of ±100 and ±inf
 * are exactly 0, 1, ±1, and their derivatives from the stored outputs exactly 0 (never NaN);
 * relu at 0 and −0 is 0 with a zero derivative; an odd-length row (vector tail) as the rest. */
Test(nn, activations_saturate_to_exact_values)
{
    float zin[7] = {100, -100, INFINITY, -INFINITY, 0.0f, -0.0f, 1e-30f}, b[7] = {0};
    for (int a = 0; a < 3; a++) {
        float z[7], d[7] = {1, 1, 1, 1, 1, 1, 1};
        memcpy(z, zin, sizeof z);
        occam_bias_act_forward(z, b, 1, 7, (occam_act)a);
        for (int i = 0; i < 7; i++) {
            /* sigmoid(−100) = 3.7e-44 lies below float's normal range: 0 is as good */
            double want = act_d(zin[i], (occam_act)a);
            cr_assert(z[i] == (float)want || (fabs(want) < FLT_MIN && fabs(z[i]) < FLT_MIN),
                      "act %d x %g: %g vs %g", a, zin[i], z[i], want);
        }
        occam_act_backward(d, z, 1, 7, (occam_act)a);
        for (int i = 0; i < 4; i++)
            cr_assert(d[i] == 0.0f || (a == OCCAM_ACT_RELU && zin[i] > 0 && d[i] == 1.0f),
                      "act %d x %g: derivative %g", a, zin[i], d[i]);
        if (a == OCCAM_ACT_RELU) cr_assert(d[4] == 0.0f && d[5] == 0.0f && d[6] == 1.0f);
    }
}

/* One fused update over a slice that starts off the array's origin and crosses the internal
 * block (515 = 512 + 3), from one and from three partial gradients, with a mask: the live
 * entries against double, the masked ones exactly 0 in w, m and v; SGD (plain and Nesterov)
 * and Adam, with and without decay. */
static void optim_slice(occam_opt kind, bool nesterov, int nparts)
{
    enum { N = 1200, OFF = 77, LEN = 515 };
    occam_optim_params op = {.optimizer = kind, .lr = 0.05, .momentum = 0.9, .nesterov = nesterov,
                             .beta1 = 0.8, .beta2 = 0.99, .eps = 1e-6, .weight_decay = 0.1};
    occam_optim o;
    occam_optim_init(&o, &op);
    static float w[N], m[N], v[N], p[3][N], w0[N];
    static uint8_t mk[N];
    occam_rng r = occam_rng_seed(8, (uint64_t)nparts);
    for (int i = 0; i < N; i++) {
        w[i] = w0[i] = (float)occam_rng_normal(&r);
        m[i] = (float)(0.1 * occam_rng_normal(&r));
        v[i] = (float)(0.01 * occam_rng_uniform(&r));
        mk[i] = i % 5 != 2;
        for (int u = 0; u < 3; u++) p[u][i] = (float)occam_rng_normal(&r);
    }
    static float m0[N], v0[N];
    memcpy(m0, m, sizeof m);
    memcpy(v0, v, sizeof v);
    const float *parts[3] = {p[0], p[1], p[2]};
    o.t = 3;
    for (int decay = 0; decay < 2; decay++) {
        memcpy(w, w0, sizeof w);
        memcpy(m, m0, sizeof m);
        memcpy(v, v0, sizeof v);
        occam_optim_update(&o, w, m, v, parts, nparts, OFF, LEN, decay, mk);
        for (int i = 0; i < N; i++) {
            if (i < OFF || i >= OFF + LEN) { /* outside the slice: untouched */
                cr_assert(w[i] == w0[i] && m[i] == m0[i] && v[i] == v0[i], "i %d touched", i);
                continue;
            }
            if (!mk[i]) {
                cr_assert(w[i] == 0.0f && m[i] == 0.0f && (kind == OCCAM_OPT_SGD || v[i] == 0.0f),
                          "masked %d: %g %g %g", i, w[i], m[i], v[i]);
                continue;
            }
            double g = decay ? 0.1 * w0[i] : 0.0, rw = w0[i], rm, rv;
            for (int u = 0; u < nparts; u++) g += p[u][i];
            if (kind == OCCAM_OPT_SGD) {
                rm = 0.9 * m0[i] + g;
                rw -= 0.05 * (nesterov ? g + 0.9 * rm : rm);
                rv = v0[i];
            } else {
                rm = 0.8 * m0[i] + 0.2 * g;
                rv = 0.99 * v0[i] + 0.01 * g * g;
                double mh = rm / (1 - pow(0.8, 4)), vh = rv / (1 - pow(0.99, 4));
                rw -= 0.05 * mh / (sqrt(vh) + 1e-6);
            }
            cr_assert(fabs(w[i] - rw) <= 1e-6 * (1 + fabs(rw)) && fabs(m[i] - rm) <= 1e-6 * (1 + fabs(rm)) &&
                          fabs(v[i] - rv) <= 1e-6 * (1 + fabs(rv)),
                      "kind %d nesterov %d parts %d decay %d i %d: w %.9g vs %.9g, m %.9g vs %.9g",
                      kind, nesterov, nparts, decay, i, w[i], rw, m[i], rm);
        }
    }
}

Test(nn, optim_update_on_an_offset_slice_with_a_mask)
{
    for (int parts = 1; parts <= 3; parts += 2) {
        optim_slice(OCCAM_OPT_SGD, false, parts);
        optim_slice(OCCAM_OPT_SGD, true, parts);
        optim_slice(OCCAM_OPT_ADAM, false, parts);
    }
}

/* The schedules at their edges: step counts epochs as 1 step each when steps_per_epoch is 0
 * and drops at every multiple of step_epochs; cosine with no steps stays at lr, reaches lr_min
 * at the last step and never goes below it or above lr in between. */
Test(nn, lr_schedule_edges)
{
    occam_optim_params p = {.lr = 0.2, .schedule = OCCAM_SCHED_STEP, .step_epochs = 1, .gamma = 0.1};
    cr_assert_float_eq(occam_optim_lr_at(&p, 0, 10, 0), 0.2, 1e-16);
    cr_assert_float_eq(occam_optim_lr_at(&p, 2, 10, 0), 0.2 * 0.01, 1e-16);
    cr_assert_float_eq(occam_optim_lr_at(&p, 3, 10, 1), 0.2 * 1e-3, 1e-17);
    cr_assert_float_eq(occam_optim_lr_at(&p, 9, 10, 5), 0.2 * 0.1, 1e-16);
    p.schedule = OCCAM_SCHED_COSINE;
    p.lr_min = 0.05;
    cr_assert_eq(occam_optim_lr_at(&p, 0, 0, 1), 0.2);
    cr_assert_eq(occam_optim_lr_at(&p, 7, 0, 1), 0.2);
    double prev = INFINITY;
    for (int s = 0; s <= 37; s++) {
        double lr = occam_optim_lr_at(&p, s, 37, 4);
        double want = 0.05 + 0.15 * 0.5 * (1 + cos(M_PI * s / 37.0));
        cr_assert(fabs(lr - want) <= 1e-16 && lr <= prev && lr >= 0.05 && lr <= 0.2, "step %d: %.17g",
                  s, lr);
        prev = lr;
    }
    cr_assert_float_eq(occam_optim_lr_at(&p, 37, 37, 4), 0.05, 1e-16);
    p.lr_min = 0.2; /* lr_min == lr: constant */
    for (int s = 0; s <= 5; s++) cr_assert_float_eq(occam_optim_lr_at(&p, s, 5, 1), 0.2, 1e-16);
}
