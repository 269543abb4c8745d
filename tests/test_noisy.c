/* Noisy weights: gradients of μ and ρ against finite differences with the noise sample held
 * fixed, the KL gradients against their closed forms, and the paper's effect on a small noisy
 * task (noisy weights generalise better than a deterministic fit). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../src/nn/noisy-impl.h"
#include "occam/config.h"
#include "occam/data.h"
#include "occam/fit.h"
#include "occam/model.h"
#include "occam/team.h"
#include "occam/trainer.h"

/* The loss (and gradient) with the noise streams restarted, so every call sees the same noise:
 * the streams are set through the state view, as a resumed checkpoint sets them. */
static double loss_at(occam_trainer *tr, const occam_dataset *ds, const uint32_t *idx, size_t n,
                      float *g)
{
    double loss = 0.0;
    occam_trainer_state s;
    occam_trainer_state_view(tr, &s);
    for (int t = 0; t < s.threads; t++) s.noise_rng[t] = occam_rng_seed(77, (uint64_t)t);
    occam_trainer_gradient(tr, ds, idx, n, g, &loss);
    return loss / (double)n;
}

/* Defaults with noisy weights and a three-layer model of widths w[0..3). */
static occam_config noisy_config(const int *w)
{
    occam_config cfg;
    occam_config_defaults(&cfg);
    memcpy(cfg.model.layers, w, 3 * sizeof *w);
    cfg.model.nlayers = 3;
    cfg.noise.enabled = true;
    return cfg;
}

/* A model of cfg's widths, Xavier-initialised from seed, with ρ = 0 (σ = ln 2). */
static void noisy_model(occam_model *m, const occam_config *cfg, uint64_t seed)
{
    occam_error err;
    cr_assert_eq(occam_model_create(m, &cfg->model, cfg->data.task, &err), OCCAM_OK);
    occam_model_init(m, OCCAM_INIT_XAVIER, seed);
    m->rho = calloc(m->lay.nparams, sizeof(float));
    cr_assert(m->rho);
}

/* The trainer's μ and ρ gradients (expected NLL + KL) against central differences of its loss,
 * for a prior of the given kind. */
static void check_mu_rho_gradients(occam_prior_kind prior)
{
    int w[] = {5, 7, 4};
    occam_config cfg = noisy_config(w);
    cfg.noise.prior = prior;
    cfg.model.activation = OCCAM_ACT_TANH;
    cfg.train.batch = 8;
    cfg.noise.init_sigma = 0.3;
    cfg.noise.data_term = OCCAM_NOISE_DATA_SAMPLE; /* ρ enters the loss only when sampled */
    occam_model m;
    occam_error err;
    cr_assert_eq(occam_model_create(&m, &cfg.model, cfg.data.task, &err), OCCAM_OK);
    occam_model_init(&m, OCCAM_INIT_XAVIER, 5);
    occam_trainer *tr;
    cr_assert_eq(occam_trainer_create(&tr, &m, occam_config_trainer(&cfg), 1, NULL, &err), OCCAM_OK, "%s", err.msg);
    occam_dataset ds = {0};
    ds.n = 8;
    ds.d = 5;
    ds.classes = 4;
    ds.x = malloc(sizeof(float) * 40);
    ds.label = malloc(sizeof(int32_t) * 8);
    occam_rng r = occam_rng_seed(3, 3);
    for (int i = 0; i < 40; i++) ds.x[i] = (float)occam_rng_normal(&r);
    for (int i = 0; i < 8; i++) ds.label[i] = i % 4;
    uint32_t idx[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    size_t np = m.lay.nparams;
    float *g = calloc(2 * np, sizeof(float)), *scratch = calloc(2 * np, sizeof(float));
    loss_at(tr, &ds, idx, 8, g);
    const float h = 2e-3f;
    int checked = 0;
    for (int l = 0; l < 2; l++)
        for (size_t i = m.lay.w_off[l]; i < m.lay.w_off[l] + (size_t)w[l] * w[l + 1]; i += 3) {
            for (int which = 0; which < 2; which++) {
                float *p = which ? &m.rho[i] : &m.params[i];
                float keep = *p;
                /* σ² changes with ρ: the trainer caches it, so refresh through a re-create */
                *p = keep + h;
                occam_trainer_free(tr);
                occam_trainer_create(&tr, &m, occam_config_trainer(&cfg), 1, NULL, &err);
                double lp = loss_at(tr, &ds, idx, 8, scratch);
                *p = keep - h;
                occam_trainer_free(tr);
                occam_trainer_create(&tr, &m, occam_config_trainer(&cfg), 1, NULL, &err);
                double lm = loss_at(tr, &ds, idx, 8, scratch);
                *p = keep;
                double fd = (lp - lm) / (2.0 * h), an = g[which ? np + i : i];
                cr_assert(fabs(fd - an) <= 2e-3 + 3e-2 * fabs(fd),
                          "layer %d %s[%zu]: analytic %.6g, finite difference %.6g", l,
                          which ? "rho" : "mu", i - m.lay.w_off[l], an, fd);
                checked++;
            }
        }
    cr_assert(checked > 20);
    occam_trainer_free(tr);
    free(g);
    free(scratch);
    free(ds.x);
    free(ds.label);
    occam_model_free(&m);
}

Test(noisy, mu_and_rho_gradients_match_finite_differences)
{
    check_mu_rho_gradients(OCCAM_PRIOR_GAUSSIAN);
}

Test(noisy, mu_and_rho_gradients_match_finite_differences_mixture)
{
    check_mu_rho_gradients(OCCAM_PRIOR_MOG);
}

Test(noisy, kl_gradients)
{
    /* Gaussian prior: K is the KL, ln(s/σ) + (σ² + (μ−m)²)/(2s²) − 1/2, exactly */
    occam_prior p = occam_prior_gauss(0.2, 0.5);
    double mu = 0.7, sg = 0.1, h = 1e-6;
#define KL(a, b) (log(0.5 / (b)) + ((b) * (b) + ((a) - 0.2) * ((a) - 0.2)) / (2 * 0.25) - 0.5)
    noisy_kl_grad g;
    double k = noisy_kl(&p, mu, sg, &g);
    cr_assert(fabs(k - KL(mu, sg)) < 1e-12, "%.17g vs %.17g", k, KL(mu, sg));
    cr_assert(fabs(g.mu - (KL(mu + h, sg) - KL(mu - h, sg)) / (2 * h)) < 1e-6);
    cr_assert(fabs(g.sigma - (KL(mu, sg + h) - KL(mu, sg - h)) / (2 * h)) < 1e-5);
#undef KL
}

/* The mixture prior with mixing logits η over the free components (π of a pinned component
 * fixed): π_c = (1 − π_fixed)·softmax(η)_c. */
static void set_logits(occam_prior *p, const double *eta)
{
    double fixed = p->pinned0 ? p->pi[0] : 0.0, mx = -INFINITY, z = 0.0;
    int c0 = p->pinned0 ? 1 : 0;
    for (int c = c0; c < p->k; c++) mx = fmax(mx, eta[c]);
    for (int c = c0; c < p->k; c++) z += exp(eta[c] - mx);
    for (int c = c0; c < p->k; c++) p->pi[c] = (1.0 - fixed) * exp(eta[c] - mx) / z;
}

/* Every partial derivative of the bound U at fixed responsibilities, in μ, σ and the prior's
 * means, log-widths and mixing logits, against central differences in double; at weights near,
 * between and far from components, with and without a pinned zero component. */
Test(noisy, kl_and_prior_parameter_gradients_match_finite_differences)
{
    const double h = 1e-6;
    const double pts[][2] = {{0.01, 0.02}, {0.31, 0.05}, {-0.2, 0.1}, {1.4, 0.3}, {0.0, 0.001}};
    for (int pin = 0; pin < 2; pin++)
        for (size_t t = 0; t < sizeof pts / sizeof pts[0]; t++) {
            occam_prior p = {.k = 3, .pi = {0.6, 0.3, 0.1}, .mu = {0.0, 0.4, -0.3},
                             .sigma = {0.05, 0.15, 0.2}, .pinned0 = pin};
            double eta[3] = {log(0.6), log(0.3), log(0.1)};
            double mu = pts[t][0], sg = pts[t][1];
            noisy_kl_grad g;
            double rho[3];
            occam_noise_responsibilities(&p, mu, rho);
            cr_assert_eq(noisy_kl(&p, mu, sg, &g), noisy_kl_bound(&p, mu, sg, rho, NULL));
            double fd, an;
#define CHECK(what, expr_p, expr_m)                                                         \
    do {                                                                                    \
        double fp_ = (expr_p), fm_ = (expr_m);                                              \
        fd = (fp_ - fm_) / (2 * h);                                                         \
        cr_assert(fabs(fd - an) <= 1e-6 + 1e-5 * fabs(fd),                                  \
                  "pin %d, μ %g σ %g: %s analytic %.9g, finite difference %.9g", pin, mu, sg, \
                  what, an, fd);                                                            \
    } while (0)
            an = g.mu;
            CHECK("μ", noisy_kl_bound(&p, mu + h, sg, rho, NULL), noisy_kl_bound(&p, mu - h, sg, rho, NULL));
            an = g.sigma;
            CHECK("σ", noisy_kl_bound(&p, mu, sg + h, rho, NULL), noisy_kl_bound(&p, mu, sg - h, rho, NULL));
            for (int c = 0; c < 3; c++) {
                occam_prior q = p;
                char name[32];
                an = g.m[c];
                snprintf(name, sizeof name, "m_%d", c);
                if (pin && c == 0) cr_assert_eq(an, 0.0, "the pinned mean has no gradient");
                else {
                    q.mu[c] = p.mu[c] + h;
                    double kp = noisy_kl_bound(&q, mu, sg, rho, NULL);
                    q.mu[c] = p.mu[c] - h;
                    CHECK(name, kp, noisy_kl_bound(&q, mu, sg, rho, NULL));
                    q = p;
                }
                an = g.log_s[c];
                snprintf(name, sizeof name, "ln s_%d", c);
                q.sigma[c] = p.sigma[c] * exp(h);
                double kp = noisy_kl_bound(&q, mu, sg, rho, NULL);
                q.sigma[c] = p.sigma[c] * exp(-h);
                CHECK(name, kp, noisy_kl_bound(&q, mu, sg, rho, NULL));
                q = p;
                an = g.logit[c];
                snprintf(name, sizeof name, "η_%d", c);
                if (pin && c == 0) {
                    cr_assert_eq(an, 0.0, "the pinned π has no gradient");
                    continue;
                }
                double e2[3];
                memcpy(e2, eta, sizeof e2);
                e2[c] = eta[c] + h;
                set_logits(&q, e2);
                kp = noisy_kl_bound(&q, mu, sg, rho, NULL);
                e2[c] = eta[c] - h;
                set_logits(&q, e2);
                CHECK(name, kp, noisy_kl_bound(&q, mu, sg, rho, NULL));
            }
#undef CHECK
            /* the update's single-precision path agrees with the double one */
            noisy_cache cache;
            noisy_cache_init(&cache, &p, false);
            float fm, fs, fmu = (float)mu, fsg = (float)sg;
            noisy_kl_grad_block(&cache, &fmu, &fsg, &fm, &fs, NULL, 1);
            cr_assert(fabs(fm - g.mu) <= 1e-4 * fabs(g.mu) + 1e-3, "fast ∂μ %g vs %g", fm, g.mu);
            cr_assert(fabs(fs - g.sigma) <= 1e-4 * fabs(g.sigma) + 1e-3, "fast ∂σ %g vs %g", fs,
                      g.sigma);
        }
}

/* U bounds the true KL(q‖p) of a mixture (here by quadrature) from above, for any σ, and is
 * close to it when σ is small against the components' widths: the regime trained weights
 * reach. */
Test(noisy, kl_approximation_against_quadrature)
{
    occam_prior p = {.k = 3, .pi = {0.7, 0.2, 0.1}, .mu = {0.0, 0.4, -0.3},
                     .sigma = {0.05, 0.15, 0.2}, .pinned0 = true};
    const double pts[][2] = {{0.01, 0.005}, {0.35, 0.01}, {-0.1, 0.01}, {0.8, 0.02}, {0.1, 0.2},
                              {0.0, 0.1}};
    for (size_t t = 0; t < sizeof pts / sizeof pts[0]; t++) {
        double mu = pts[t][0], sg = pts[t][1], sum = 0.0;
        const int n = 200000;
        double lo = mu - 12 * sg, dx = 24 * sg / n;
        for (int i = 0; i <= n; i++) {
            double x = lo + i * dx, z = (x - mu) / sg;
            double lq = -0.5 * z * z - log(sg) - 0.5 * log(2 * M_PI);
            sum += (i == 0 || i == n ? 0.5 : 1.0) * exp(lq) * (lq - occam_prior_log_pdf(&p, x));
        }
        double quad = sum * dx, k = noisy_kl(&p, mu, sg, NULL);
        cr_assert(k >= quad - 1e-9, "μ %g σ %g: U %.9g below the KL %.9g", mu, sg, k, quad);
        if (sg <= 0.01)
            cr_assert(k - quad < 0.02 * fabs(quad) + 1e-3, "μ %g σ %g: U %.6g, quadrature %.6g", mu,
                      sg, k, quad);
    }
}

/* A 40-50-2 model under a 3-component mixture per layer whose layer 0 holds weights in clusters
 * at 0 (70%), 0.5 and -0.4, each spread by `spread`, with σ drawn in [σ_lo, σ_lo + σ_span). */
static occam_config clustered_layer(occam_model *m, uint64_t seed, double spread, double sigma_lo,
                                    double sigma_span)
{
    int w[] = {40, 50, 2};
    occam_config cfg = noisy_config(w);
    cfg.noise.prior = OCCAM_PRIOR_MOG;
    cfg.noise.components = 3;
    cfg.noise.prior_scope = OCCAM_PRIOR_SCOPE_LAYER; /* layer 0's weights only */
    occam_error err;
    cr_assert_eq(occam_model_create(m, &cfg.model, cfg.data.task, &err), OCCAM_OK);
    occam_rng r = occam_rng_seed(seed, seed);
    m->rho = calloc(m->lay.nparams, sizeof(float));
    for (size_t i = 0; i < 40 * 50; i++) {
        double u = occam_rng_uniform(&r), c = u < 0.7 ? 0.0 : u < 0.85 ? 0.5 : -0.4;
        m->params[m->lay.w_off[0] + i] = (float)(c + spread * occam_rng_normal(&r));
        double sg = sigma_lo + (sigma_span > 0 ? sigma_span * occam_rng_uniform(&r) : 0.0);
        m->rho[m->lay.w_off[0] + i] = (float)noisy_softplus_inv(sg);
    }
    return cfg;
}

/* noise.prior_update = gradient: the Adam steps lower Σ K over a layer whose weights sit in
 * clusters, keep the zero component pinned (mean 0, π fixed) and move the free means to the
 * clusters. */
Test(noisy, gradient_prior_refit_lowers_the_kl)
{
    occam_model m;
    occam_config cfg = clustered_layer(&m, 9, 0.02, 0.01, 0.0);
    cfg.noise.prior_update = OCCAM_PRIOR_UPDATE_GRADIENT;
    cfg.noise.prior_steps = 200;
    size_t n = 40 * 50;
    occam_prior p = {.k = 3, .pi = {0.9, 0.05, 0.05}, .mu = {0.0, 0.2, -0.2},
                     .sigma = {0.03, 0.3, 0.3}, .pinned0 = true};
    double before = 0.0, after = 0.0;
    for (size_t i = 0; i < n; i++)
        before += noisy_kl(&p, m.params[i], 0.01, NULL);
    occam_noise_prior_fit(&p, &m, 0, &cfg.noise, false);
    for (size_t i = 0; i < n; i++)
        after += noisy_kl(&p, m.params[i], 0.01, NULL);
    cr_assert(after < before - 0.5 * n, "Σ K: %g before, %g after", before, after);
    cr_assert_eq(p.mu[0], 0.0);
    cr_assert_float_eq(p.pi[0], cfg.noise.zero_weight, 1e-12);
    cr_assert_float_eq(p.pi[0] + p.pi[1] + p.pi[2], 1.0, 1e-12);
    int hi = p.mu[1] > p.mu[2] ? 1 : 2;
    cr_assert(fabs(p.mu[hi] - 0.5) < 0.05 && fabs(p.mu[3 - hi] + 0.4) < 0.05,
              "means %g %g", p.mu[1], p.mu[2]);
    occam_model_free(&m);
}

/* The mixture's EM refit against five plain EM steps in double: responsibilities at the means,
 * each weight bringing its σ², means, then widths about the *new* means, and the zero
 * component's mixing proportion pinned. The refit once took the widths about the old means: a
 * component that moved came out wider by the shift². */
Test(noisy, em_prior_refit_matches_plain_em_in_double)
{
    occam_model m;
    occam_config cfg = clustered_layer(&m, 5, 0.05, 0.01, 0.02);
    size_t n = 40 * 50;
    const float *wt = m.params + m.lay.w_off[0];
    const float *rho = m.rho + m.lay.w_off[0];
    /* components started off the clusters: a free one moves by about 0.15 */
    occam_prior p = {.k = 3, .pi = {0.9, 0.05, 0.05}, .mu = {0.0, 0.25, -0.2},
                     .sigma = {0.1, 0.3, 0.3}, .pinned0 = true}, q = p;
    occam_noise_prior_fit(&p, &m, 0, &cfg.noise, false);
    double zw = cfg.noise.zero_weight, moved = 0.0;
    for (int it = 0; it < 5; it++) {
        double sr[3] = {0}, srm[3] = {0}, srv[3] = {0}, mu[3], rr[3], tot = 0.0;
        for (size_t i = 0; i < n; i++) {
            occam_noise_responsibilities(&q, wt[i], rr);
            for (int c = 0; c < 3; c++) {
                sr[c] += rr[c];
                srm[c] += rr[c] * wt[i];
            }
        }
        for (int c = 0; c < 3; c++) {
            mu[c] = c == 0 ? 0.0 : srm[c] / sr[c];
            tot += sr[c];
        }
        for (size_t i = 0; i < n; i++) { /* a second pass, about the new means */
            occam_noise_responsibilities(&q, wt[i], rr);
            double sg = noisy_softplus(rho[i]);
            for (int c = 0; c < 3; c++)
                srv[c] += rr[c] * ((wt[i] - mu[c]) * (wt[i] - mu[c]) + sg * sg);
        }
        for (int c = 0; c < 3; c++) {
            if (it == 0) moved = fmax(moved, fabs(mu[c] - q.mu[c]));
            q.mu[c] = mu[c];
            q.sigma[c] = sqrt(srv[c] / sr[c]);
        }
        double rest = (sr[1] + sr[2]) / tot;
        q.pi[0] = zw;
        for (int c = 1; c < 3; c++) q.pi[c] = (1.0 - zw) * (sr[c] / tot) / rest;
    }
    cr_assert(moved > 0.1, "the first step moved the means by %g only", moved);
    for (int c = 0; c < 3; c++) {
        cr_assert_float_eq(p.mu[c], q.mu[c], 1e-9, "mean %d: %.12g, EM %.12g", c, p.mu[c], q.mu[c]);
        cr_assert_float_eq(p.sigma[c], q.sigma[c], 1e-9, "width %d: %.12g, EM %.12g", c,
                           p.sigma[c], q.sigma[c]);
        cr_assert_float_eq(p.pi[c], q.pi[c], 1e-9, "weight %d: %.12g, EM %.12g", c, p.pi[c],
                           q.pi[c]);
    }
    occam_model_free(&m);
}

/* Overlapping blobs: a deterministic fit overfits; noisy weights with a Gaussian prior give a
 * lower test loss (the paper's Table 1 effect, in miniature). */
/* A run on the blobs task: configs/blobs.ini with Adam at lr 0.005 (the caller adjusts cfg
 * between blobs_config and blobs_train), trained on 2 threads. */
typedef struct blobs_run {
    occam_config cfg;
    occam_dataset train, test;
    occam_model m;
    occam_trainer *tr;
} blobs_run;

static void blobs_config(blobs_run *r)
{
    occam_error err;
    occam_config_defaults(&r->cfg);
    cr_assert_eq(occam_config_load(&r->cfg, "configs/blobs.ini", &err), OCCAM_OK);
    r->cfg.train.optim.optimizer = OCCAM_OPT_ADAM;
    r->cfg.train.optim.lr = 0.005;
}

static void blobs_train(blobs_run *r)
{
    occam_error err;
    cr_assert_eq(occam_data_load(&r->cfg.data, occam_config_inputs(&r->cfg), occam_config_outputs(&r->cfg), &r->train, &r->test, &err), OCCAM_OK);
    cr_assert_eq(occam_model_create(&r->m, &r->cfg.model, r->cfg.data.task, &err), OCCAM_OK);
    occam_model_init(&r->m, r->cfg.model.init, r->cfg.train.seed);
    cr_assert_eq(occam_trainer_create(&r->tr, &r->m, occam_config_trainer(&r->cfg), 2, NULL, &err), OCCAM_OK);
    occam_fit_result res;
    cr_assert_eq(occam_fit(r->tr, &r->cfg, &r->train, &r->test, &res, NULL, NULL, &err),
                 OCCAM_OK, "%s", err.msg);
    occam_fit_result_free(&res);
}

static void blobs_free(blobs_run *r)
{
    occam_trainer_free(r->tr);
    occam_model_free(&r->m);
    occam_dataset_free(&r->train);
    occam_dataset_free(&r->test);
}

Test(noisy, noisy_weights_generalise_better)
{
    double test_loss[2];
    for (int noisy = 0; noisy < 2; noisy++) {
        blobs_run r;
        blobs_config(&r);
        r.cfg.data.spread = 0.6;
        r.cfg.train.epochs = 40;
        r.cfg.noise.enabled = noisy;
        r.cfg.noise.prior = OCCAM_PRIOR_GAUSSIAN;
        blobs_train(&r);
        occam_eval ev;
        occam_trainer_eval(r.tr, &r.test, &ev);
        test_loss[noisy] = ev.loss;
        blobs_free(&r);
    }
    cr_assert(test_loss[1] < 0.95 * test_loss[0], "noisy test loss %.4f, deterministic %.4f",
              test_loss[1], test_loss[0]);
}

/* SGD's semi-implicit prior step: a prior a thousand times narrower than the weights at a
 * learning rate where lr·κ/s² is in the hundreds (explicit steps diverge within an epoch)
 * trains, and pulls the weights in to the prior's width. */
Test(noisy, sgd_step_is_stable_under_a_narrow_prior)
{
    blobs_run r;
    blobs_config(&r);
    r.cfg.train.optim.optimizer = OCCAM_OPT_SGD;
    r.cfg.train.optim.lr = 0.5;
    r.cfg.train.optim.momentum = 0.9;
    r.cfg.train.epochs = 3;
    r.cfg.noise.enabled = true;
    r.cfg.noise.prior = OCCAM_PRIOR_GAUSSIAN;
    r.cfg.noise.prior_sigma = 1e-3;
    r.cfg.noise.warmup_epochs = 0;
    blobs_train(&r); /* asserts that the fit succeeded: no divergence */
    const occam_layout *lay = &r.m.lay;
    double ss = 0.0;
    for (int l = 0; l < lay->nlayers; l++)
        for (size_t i = 0; i < (size_t)lay->width[l] * lay->width[l + 1]; i++) {
            float w = r.m.params[lay->w_off[l] + i];
            cr_assert(isfinite(w));
            ss += (double)w * w;
        }
    double rms = sqrt(ss / (double)lay->nweights);
    cr_assert(rms < 5e-3, "weights' RMS %.3g against the prior's width 1e-3", rms);
    blobs_free(&r);
}

#include "occam/dl.h"

/* The bits-back code (Σ KL by closed form or Monte Carlo, expected NLL over seeded noise
 * samples) is the same to the bit for 1, 2 and 3 threads. */
Test(noisy, bits_back_is_thread_count_independent)
{
    for (int prior = 0; prior < 2; prior++) {
        blobs_run r;
        blobs_config(&r);
        r.cfg.data.spread = 0.6;
        r.cfg.train.epochs = 3;
        r.cfg.noise.enabled = true;
        r.cfg.noise.prior = prior ? OCCAM_PRIOR_MOG : OCCAM_PRIOR_GAUSSIAN;
        r.cfg.mdl.model_code = OCCAM_MDL_BITS_BACK;
        r.cfg.mdl.samples = 16;
        blobs_train(&r);
        occam_dl a, b, c;
        occam_error err;
        cr_assert_eq(occam_dl_compute(&a, &r.m, &r.cfg.mdl, &r.cfg.noise, &r.train, 1, NULL, &err), OCCAM_OK,
                     "%s", err.msg);
        cr_assert_eq(occam_dl_compute(&b, &r.m, &r.cfg.mdl, &r.cfg.noise, &r.train, 2, NULL, &err), OCCAM_OK);
        cr_assert_eq(occam_dl_compute(&c, &r.m, &r.cfg.mdl, &r.cfg.noise, &r.train, 3, NULL, &err), OCCAM_OK);
        cr_assert(a.model_bits > 0 && a.data_bits > 0);
        cr_assert(memcmp(&a.total_bits, &b.total_bits, sizeof(double)) == 0 &&
                      memcmp(&a.total_bits, &c.total_bits, sizeof(double)) == 0,
                  "prior %d: %.17g %.17g %.17g", prior, a.total_bits, b.total_bits, c.total_bits);
        blobs_free(&r);
    }
}

/* The mixture prior does not leave weights the data do not need where they started. A
 * hundred rows at SGD lr 0.001 (issue 13's small-data recipe): the Gaussian prior's net costs
 * 831 bits-back model bits; the mixture's cost 3,249 when its zero component was capped at a
 * tenth of the weights' spread from the first epoch (the initial weights stayed under wide
 * components at ~3 nats each, as on the real union set), and 990 now. */
Test(noisy, mixture_costs_about_what_the_gaussian_does_on_small_data)
{
    double bits[2];
    for (int prior = 0; prior < 2; prior++) {
        blobs_run r;
        blobs_config(&r);
        r.cfg.data.samples = 100;
        r.cfg.train.optim.optimizer = OCCAM_OPT_SGD;
        r.cfg.train.optim.lr = 0.001;
        r.cfg.train.optim.momentum = 0.9;
        r.cfg.train.batch = 16;
        r.cfg.train.epochs = 300;
        r.cfg.noise.enabled = true;
        r.cfg.noise.prior = prior ? OCCAM_PRIOR_MOG : OCCAM_PRIOR_GAUSSIAN;
        r.cfg.mdl.model_code = OCCAM_MDL_BITS_BACK;
        blobs_train(&r);
        occam_dl d;
        occam_error err;
        cr_assert_eq(occam_dl_compute(&d, &r.m, &r.cfg.mdl, &r.cfg.noise, &r.train, 2, NULL,
                                      &err), OCCAM_OK, "%s", err.msg);
        bits[prior] = d.model_bits;
        blobs_free(&r);
    }
    cr_assert(bits[1] < 1.5 * bits[0], "model bits: mixture %.0f, Gaussian %.0f", bits[1],
              bits[0]);
}

/* Two noisy runs with the same seed and thread count are bit-identical (this caught a race in
 * the per-thread scratch rows). */
/* Bits-back sends q with its σ scaled by the best t = 2^−j: doubling every trained σ halves
 * the chosen t and reaches (up to float rounding of σ) the same code; inflating σ 16-fold
 * costs at most the part of the search it cannot reach. */
Test(noisy, bits_back_searches_the_posterior_width_scale)
{
    blobs_run r;
    blobs_config(&r);
    r.cfg.data.spread = 0.6;
    r.cfg.train.epochs = 3;
    r.cfg.noise.enabled = true;
    r.cfg.mdl.model_code = OCCAM_MDL_BITS_BACK;
    r.cfg.mdl.samples = 16;
    blobs_train(&r);
    occam_dl a, b;
    occam_error err;
    cr_assert_eq(occam_dl_compute(&a, &r.m, &r.cfg.mdl, &r.cfg.noise, &r.train, 2, NULL, &err),
                 OCCAM_OK, "%s", err.msg);
    int j = 0;
    while (j < 7 && ldexp(1.0, -j) != a.sigma_scale) j++;
    cr_assert(j < 6, "σ scale %g is not one of 2^0 .. 2^-5", a.sigma_scale);
    const occam_layout *lay = &r.m.lay;
    for (int l = 0; l < lay->nlayers; l++)
        for (size_t i = lay->w_off[l]; i < lay->w_off[l] + (size_t)lay->width[l] * lay->width[l + 1]; i++)
            r.m.rho[i] = (float)occam_noise_rho(2.0 * occam_noise_sigma(r.m.rho[i]));
    cr_assert_eq(occam_dl_compute(&b, &r.m, &r.cfg.mdl, &r.cfg.noise, &r.train, 2, NULL, &err),
                 OCCAM_OK, "%s", err.msg);
    cr_assert(b.sigma_scale == a.sigma_scale / 2, "scales %g, then %g", a.sigma_scale,
              b.sigma_scale);
    cr_assert(fabs(b.total_bits - a.total_bits) <= 1e-3 * a.total_bits, "%.6f bits, then %.6f",
              a.total_bits, b.total_bits);
    blobs_free(&r);
}

/* The bits-back model code of a Gaussian prior for the network, rebuilt by hand in double: at
 * the chosen scale t = 2^−j every weight's posterior width is t·σ, the prior's width is the
 * evidence width s² = mean(μ² + σ²) over every layer's weights (σ as the scaled ρ gives it),
 * sent as float32 with its mean 0, and each layer's value bits are Σ KL(N(μ, (tσ)²) ‖ N(0, s²))
 * / ln 2 = Σ (ln(s/tσ) + ((tσ)² + μ²)/(2s²) − ½) / ln 2 (nats to bits once, not twice or not
 * at all). The prior's two parameters are charged once, with the first layer (one prior for the
 * network), and naming the scale log2 7 bits. */
/* Returns the scale's j. */
static int check_gaussian_bits_back(blobs_run *r)
{
    occam_dl dl;
    occam_error err;
    cr_assert_eq(occam_dl_compute(&dl, &r->m, &r->cfg.mdl, &r->cfg.noise, &r->train, 2, NULL,
                                  &err), OCCAM_OK, "%s", err.msg);
    int j = 0;
    while (j < 7 && ldexp(1.0, -j) != dl.sigma_scale) j++;
    cr_assert(j < 7, "σ scale %g", dl.sigma_scale);
    const occam_layout *lay = &r->m.lay;
    cr_assert(!r->m.mask);
    /* the scaled widths, as the code forms them, and the evidence width over the network */
    double ss = 0.0;
    size_t act = 0;
    for (int l = 0; l < lay->nlayers; l++)
        for (size_t i = lay->w_off[l]; i < lay->w_off[l] + (size_t)lay->width[l] * lay->width[l + 1];
             i++) {
            float sg = (float)occam_noise_sigma(r->m.rho[i]);
            float st = j ? (float)(ldexp(1.0, -j) * sg) : sg;
            double sr = occam_noise_sigma(j ? (float)occam_noise_rho(st) : r->m.rho[i]);
            ss += (double)r->m.params[i] * r->m.params[i] + sr * sr;
            act++;
        }
    double s = (double)(float)sqrt(ss / (double)act), model = log2(7.0);
    for (int l = 0; l < lay->nlayers; l++) {
        double kl = 0.0;
        for (size_t i = lay->w_off[l]; i < lay->w_off[l] + (size_t)lay->width[l] * lay->width[l + 1];
             i++) {
            float sg = (float)occam_noise_sigma(r->m.rho[i]);
            double st = j ? (float)(ldexp(1.0, -j) * sg) : sg, mu = r->m.params[i];
            kl += log(s / st) + (st * st + mu * mu) / (2.0 * s * s) - 0.5;
        }
        const occam_dl_layer *y = &dl.layer[l];
        cr_assert(y->prior.k == 1 && y->prior.mu[0] == 0.0 && y->prior.sigma[0] == s,
                  "layer %d: prior N(%g, %.9g²), want N(0, %.9g²)", l, y->prior.mu[0],
                  y->prior.sigma[0], s);
        cr_assert(fabs(y->value_bits - kl / log(2.0)) <= 1e-9 * fabs(kl / log(2.0)) + 1e-9,
                  "layer %d: %.12g bits, naive %.12g", l, y->value_bits, kl / log(2.0));
        cr_assert(y->overhead_bits == (l == 0 ? 64.0 : 0.0), "layer %d: overhead %g", l,
                  y->overhead_bits);
        cr_assert(y->mask_bits == 0.0);
        model += y->mask_bits + y->value_bits + y->overhead_bits + y->bias_bits;
    }
    cr_assert(fabs(dl.model_bits - model) <= 1e-9 * model, "%.12g vs %.12g", dl.model_bits, model);
    cr_assert(dl.total_bits == dl.model_bits + dl.data_bits);
    return j;
}

/* As trained, and with every σ 16 times wider, which the code sends at a smaller scale. */
Test(noisy, bits_back_gaussian_kl_adds_up_to_a_naive_sum)
{
    blobs_run r;
    blobs_config(&r);
    r.cfg.train.epochs = 2;
    r.cfg.noise.enabled = true;
    r.cfg.noise.prior = OCCAM_PRIOR_GAUSSIAN;
    r.cfg.mdl.model_code = OCCAM_MDL_BITS_BACK;
    blobs_train(&r);
    int j0 = check_gaussian_bits_back(&r);
    const occam_layout *lay = &r.m.lay;
    for (int l = 0; l < lay->nlayers; l++)
        for (size_t i = lay->w_off[l]; i < lay->w_off[l] + (size_t)lay->width[l] * lay->width[l + 1];
             i++)
            r.m.rho[i] = (float)occam_noise_rho(16.0 * occam_noise_sigma(r.m.rho[i]));
    int j1 = check_gaussian_bits_back(&r);
    cr_assert(j1 > j0, "scales 2^-%d, then 2^-%d", j0, j1);
    blobs_free(&r);
}

Test(noisy, same_seed_is_bit_identical)
{
    float *w[4];
    size_t np = 0;
    for (int run = 0; run < 4; run++) { /* runs 0, 1: the Gaussian prior; 2, 3: the mixture */
        blobs_run r;
        blobs_config(&r);
        r.cfg.train.epochs = 3;
        r.cfg.noise.enabled = true;
        r.cfg.noise.prior = run < 2 ? OCCAM_PRIOR_GAUSSIAN : OCCAM_PRIOR_MOG;
        if (run >= 2) { /* and SGD: the semi-implicit prior step */
            r.cfg.train.optim.optimizer = OCCAM_OPT_SGD;
            r.cfg.train.optim.lr = 0.05;
            r.cfg.train.optim.momentum = 0.9;
        }
        blobs_train(&r);
        np = r.m.lay.nparams;
        w[run] = malloc(2 * np * sizeof(float));
        memcpy(w[run], r.m.params, np * sizeof(float));
        memcpy(w[run] + np, r.m.rho, np * sizeof(float));
        blobs_free(&r);
    }
    cr_assert(memcmp(w[0], w[1], 2 * np * sizeof(float)) == 0, "Gaussian prior: runs differ");
    cr_assert(memcmp(w[2], w[3], 2 * np * sizeof(float)) == 0, "mixture prior: runs differ");
    cr_assert(memcmp(w[0], w[2], 2 * np * sizeof(float)) != 0, "the priors gave one model");
    for (int run = 0; run < 4; run++) free(w[run]);
}

/* The Gaussian prior's evidence width s² = mean of μ² + σ² over the active weights: per layer,
 * or (noise.prior_scope = network) one width over every layer's, against a naive sum. */
Test(noisy, gaussian_width_per_layer_or_network)
{
    int w[] = {6, 5, 3};
    occam_config cfg = noisy_config(w);
    occam_model m;
    occam_error err;
    noisy_model(&m, &cfg, 4);
    cr_assert_eq(occam_model_mask_enable(&m, &err), OCCAM_OK);
    m.mask[m.lay.w_off[1] + 2] = 0; /* a pruned weight counts nowhere */
    double ss[2] = {0}, all = 0;
    size_t k[2] = {0};
    for (int l = 0; l < 2; l++)
        for (size_t i = 0; i < (size_t)w[l] * w[l + 1]; i++) {
            size_t o = m.lay.w_off[l] + i;
            m.params[o] *= l ? 3.0f : 1.0f; /* layers of different spread */
            m.rho[o] = (float)noisy_softplus_inv(0.01 + 0.001 * (double)i);
            if (!m.mask[o]) continue;
            double sg = noisy_softplus(m.rho[o]);
            ss[l] += (double)m.params[o] * m.params[o] + sg * sg;
            k[l]++;
        }
    all = (ss[0] + ss[1]) / (double)(k[0] + k[1]);
    occam_prior p;
    for (int l = 0; l < 2; l++) {
        cfg.noise.prior_scope = OCCAM_PRIOR_SCOPE_LAYER;
        occam_noise_prior_fit(&p, &m, l, &cfg.noise, false);
        cr_assert(p.k == 1 && fabs(p.sigma[0] - sqrt(ss[l] / (double)k[l])) < 1e-12,
                  "layer %d: s %.15g", l, p.sigma[0]);
        for (int sc = 0; sc < 2; sc++) { /* network, and auto, which is network here */
            cfg.noise.prior_scope = sc ? OCCAM_PRIOR_SCOPE_AUTO : OCCAM_PRIOR_SCOPE_NETWORK;
            occam_noise_prior_fit(&p, &m, l, &cfg.noise, false);
            cr_assert(p.k == 1 && fabs(p.sigma[0] - sqrt(all)) < 1e-12, "layer %d: s %.15g", l,
                      p.sigma[0]);
        }
    }
    occam_model_free(&m);
}

/* The soft-weight-sharing refit: π sums to 1 and the zero component keeps noise.zero_weight and
 * its place at 0, even when few weights claim some components. */
Test(noisy, mixture_refit_keeps_the_zero_component)
{
    int w[] = {4, 3, 1};
    occam_config cfg = noisy_config(w);
    cfg.noise.prior = OCCAM_PRIOR_MOG;
    cfg.noise.zero_weight = 0.8;
    occam_model m;
    occam_error err;
    cr_assert_eq(occam_model_create(&m, &cfg.model, cfg.data.task, &err), OCCAM_OK);
    occam_model_init(&m, OCCAM_INIT_XAVIER, 2);
    m.rho = calloc(m.lay.nparams, sizeof(float));
    for (int first = 1; first >= 0; first--)
        for (int l = 0; l < 2; l++) {
            occam_prior p;
            if (!first) occam_noise_prior_fit(&p, &m, l, &cfg.noise, true);
            occam_noise_prior_fit(&p, &m, l, &cfg.noise, first);
            double sum = 0;
            for (int c = 0; c < p.k; c++) sum += p.pi[c];
            cr_assert(fabs(sum - 1.0) < 1e-9, "layer %d: π sums to %.12g", l, sum);
            cr_assert(fabs(p.pi[0] - 0.8) < 1e-12 && p.mu[0] == 0.0 && p.pinned0);
        }
    occam_model_free(&m);
}

/* noise.zero_cap bounds the zero component's width at that fraction of the weights' RMS, at the
 * first fit and at EM's and the gradient's refits; 0 leaves the refit's width, which on
 * weights spread like these (π₀ pinned at 0.9) is wider. A tiny cap stops at
 * OCCAM_NOISE_SIGMA_MIN: 1e-20 of the RMS made 1/s² infinite in the float32 KL math (the loss
 * NaN at the second epoch, "training diverged"), and 5e-324 times the RMS became 0, no cap at
 * all, without a word. */
Test(noisy, zero_cap_bounds_the_zero_component)
{
    int w[] = {8, 6, 2};
    occam_config cfg = noisy_config(w);
    cfg.noise.prior = OCCAM_PRIOR_MOG;
    cfg.noise.prior_scope = OCCAM_PRIOR_SCOPE_LAYER;
    occam_model m;
    noisy_model(&m, &cfg, 5);
    double ss = 0.0;
    for (int i = 0; i < 48; i++) ss += (double)m.params[i] * m.params[i];
    double rms = sqrt(ss / 48.0);
    for (int upd = 0; upd < 2; upd++) {
        cfg.noise.prior_update = upd ? OCCAM_PRIOR_UPDATE_GRADIENT : OCCAM_PRIOR_UPDATE_EM;
        for (int capped = 0; capped < 2; capped++) {
            cfg.noise.zero_cap = capped ? 0.1 : 0.0;
            occam_prior p;
            for (int first = 1; first >= 0; first--) {
                occam_noise_prior_fit(&p, &m, 0, &cfg.noise, first);
                if (capped)
                    cr_assert(p.sigma[0] <= 0.1 * rms * (1 + 1e-12),
                              "update %d, first %d: zero width %g, RMS %g", upd, first,
                              p.sigma[0], rms);
                else if (!first) /* the refit, with π₀ pinned at 0.9, widens it */
                    cr_assert(p.sigma[0] > 0.1 * rms, "update %d: zero width %g", upd,
                              p.sigma[0]);
            }
        }
        const double tiny[] = {1e-20, 4.9406564584124654e-324};
        for (size_t c = 0; c < sizeof tiny / sizeof *tiny; c++) {
            cfg.noise.zero_cap = tiny[c];
            occam_prior p;
            for (int first = 1; first >= 0; first--) {
                occam_noise_prior_fit(&p, &m, 0, &cfg.noise, first);
                cr_assert_eq(p.sigma[0], OCCAM_NOISE_SIGMA_MIN, "update %d, cap %g, first %d: "
                             "zero width %g", upd, tiny[c], first, p.sigma[0]);
                cr_assert(isfinite((float)(1.0 / (p.sigma[0] * p.sigma[0]))));
            }
        }
    }
    occam_model_free(&m);
}

/* Whether two priors are the same, bit for bit, in their parameters. */
static bool same_prior(const occam_prior *a, const occam_prior *b)
{
    if (a->k != b->k || a->pinned0 != b->pinned0) return false;
    for (int c = 0; c < a->k; c++)
        if (a->pi[c] != b->pi[c] || a->mu[c] != b->mu[c] || a->sigma[c] != b->sigma[c])
            return false;
    return true;
}

/* One mixture for the network (noise.prior_scope = network, mog's default): fitted to every
 * layer's active weights, pooled; the same prior, bit for bit, as a layer's own fit to those
 * weights laid end to end in one layer; and occam_noise_priors_fit gives it to every layer. */
Test(noisy, mixture_for_the_network_pools_every_layer)
{
    int w[] = {6, 5, 3}, w1[] = {45, 1, 1}; /* 30 + 15 weights, and a first layer of 45 */
    occam_config cfg = noisy_config(w), cfg1 = noisy_config(w1);
    cfg.noise.prior = cfg1.noise.prior = OCCAM_PRIOR_MOG;
    cfg1.noise.prior_scope = OCCAM_PRIOR_SCOPE_LAYER;
    occam_model m, m1;
    occam_error err;
    noisy_model(&m, &cfg, 4);
    noisy_model(&m1, &cfg1, 4);
    cr_assert_eq(occam_model_mask_enable(&m, &err), OCCAM_OK);
    cr_assert_eq(occam_model_mask_enable(&m1, &err), OCCAM_OK);
    size_t j = 0;
    for (int l = 0; l < 2; l++)
        for (size_t i = 0; i < (size_t)w[l] * w[l + 1]; i++, j++) {
            size_t o = m.lay.w_off[l] + i;
            m.params[o] *= l ? 3.0f : 1.0f;
            m.rho[o] = (float)noisy_softplus_inv(0.01 + 0.002 * (double)i);
            m.mask[o] = (j % 7) != 3;
            m1.params[j] = m.params[o];
            m1.rho[j] = m.rho[o];
            m1.mask[j] = m.mask[o];
        }
    occam_prior p[2], q, r; /* r too lives across the loop: the refit starts from its fit */
    for (int first = 1; first >= 0; first--) {
        occam_noise_priors_fit(p, &m, &cfg.noise, first);
        occam_noise_prior_fit(&q, &m1, 0, &cfg1.noise, first);
        for (int l = 0; l < 2; l++) {
            cr_assert_eq(p[l].k, 3);
            cr_assert(same_prior(&p[l], &q), "first %d, layer %d: another prior",
                      first, l);
        }
        occam_noise_prior_fit(&r, &m, 1, &cfg.noise, first); /* any layer's fit is the one */
        cr_assert(same_prior(&r, &q), "first %d: layer 1's own fit differs", first);
    }
    cfg.noise.prior_scope = OCCAM_PRIOR_SCOPE_LAYER; /* and per layer, each its own */
    occam_noise_priors_fit(p, &m, &cfg.noise, true);
    cr_assert(!same_prior(&p[0], &p[1]), "per-layer mixtures are equal");
    occam_model_free(&m);
    occam_model_free(&m1);
}

Test(noisy, peptide_data_and_holdout)
{
    occam_config cfg;
    occam_error err;
    occam_config_defaults(&cfg);
    cr_assert_eq(occam_config_load(&cfg, "configs/hinton93.ini", &err), OCCAM_OK, "%s", err.msg);
    cfg.data.normalize_targets = false; /* targets as generated, comparable across the loads */
    occam_dataset a, b, c, d;
    cr_assert_eq(occam_data_load(&cfg.data, occam_config_inputs(&cfg), occam_config_outputs(&cfg), &a, &b, &err), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(a.n, 105u);
    cr_assert_eq(b.n, 420u);
    cr_assert_eq(a.d, 128u);
    cfg.data.holdout = 21;
    cr_assert_eq(occam_data_load(&cfg.data, occam_config_inputs(&cfg), occam_config_outputs(&cfg), &c, &d, &err), OCCAM_OK);
    cr_assert_eq(c.n, 84u);
    cr_assert_eq(d.n, 21u);
    /* the held-out rows are the last 21 training rows (normalised with the 84 kept) */
    cr_assert_float_eq(d.y[0], a.y[84], 0);
    cr_assert_float_eq(d.y[20], a.y[104], 0);
    occam_dataset_free(&a);
    occam_dataset_free(&b);
    occam_dataset_free(&c);
    occam_dataset_free(&d);
}

#include "occam/noisy.h"

/* The local reparameterisation draws pre-activations with the mean and variance that sampling
 * the weights themselves gives: x·μᵀ and x²·σ²ᵀ, checked by Monte Carlo both ways. */
Test(noisy, local_reparameterisation_matches_weight_sampling)
{
    enum { IN = 3, OUT = 2, S = 200000 };
    const float x[IN] = {0.5f, -1.0f, 2.0f};
    const float mu[OUT * IN] = {0.1f, 0.2f, -0.3f, 1.0f, 0.0f, 0.5f};
    const float sg[OUT * IN] = {0.2f, 0.1f, 0.05f, 0.3f, 0.4f, 0.01f};
    float var[OUT * IN];
    for (int i = 0; i < OUT * IN; i++) var[i] = sg[i] * sg[i];
    occam_rng r = occam_rng_seed(9, 1), rw = occam_rng_seed(9, 2);
    double m1[OUT] = {0}, m2[OUT] = {0}, w1[OUT] = {0}, w2[OUT] = {0};
    float z[OUT], sd[OUT], e[OUT], sq[IN];
    occam_noise_normals nz = {.r = &r};
    for (int s = 0; s < S; s++) {
        occam_noise_layer_forward(z, sd, e, sq, x, mu, var, 1, IN, OUT, &nz);
        for (int o = 0; o < OUT; o++) {
            m1[o] += z[o];
            m2[o] += (double)z[o] * z[o];
            double zw = 0; /* the same pre-activation from sampled weights */
            for (int i = 0; i < IN; i++)
                zw += x[i] * (mu[o * IN + i] + sg[o * IN + i] * occam_rng_normal(&rw));
            w1[o] += zw;
            w2[o] += zw * zw;
        }
    }
    for (int o = 0; o < OUT; o++) {
        double mean = 0, v = 0;
        for (int i = 0; i < IN; i++) {
            mean += x[i] * mu[o * IN + i];
            v += x[i] * x[i] * var[o * IN + i];
        }
        double lm = m1[o] / S, lv = m2[o] / S - lm * lm, wm = w1[o] / S, wv = w2[o] / S - wm * wm;
        double se = sqrt(v / S);
        cr_assert(fabs(lm - mean) < 5 * se && fabs(wm - mean) < 5 * se,
                  "unit %d mean: local %g, weights %g, exact %g", o, lm, wm, mean);
        cr_assert(fabs(lv - v) < 0.02 * v && fabs(wv - v) < 0.02 * v,
                  "unit %d variance: local %g, weights %g, exact %g", o, lv, wv, v);
    }
}

/* Every draw takes both normals of each Box–Muller pair. With pairs (the description length)
 * an odd count's unused sine partner carries over, so the sequence does not depend on how the
 * draws are split into calls; without (the trainer, whose checkpoints hold the generator and
 * nothing else) it is dropped, and the next call starts on a fresh pair. */
Test(noisy, paired_normals_do_not_depend_on_the_split)
{
    enum { N = 11 };
    occam_rng a = occam_rng_seed(4, 4), b = occam_rng_seed(4, 4), c = occam_rng_seed(4, 4);
    occam_noise_normals whole = {.r = &a, .pairs = true}, split = {.r = &b, .pairs = true};
    occam_noise_normals single = {.r = &c};
    float w[N], s[N], one[N];
    occam_noise_draw(w, &whole, N);
    occam_noise_draw(s, &split, 3);
    occam_noise_draw(s + 3, &split, 0);
    occam_noise_draw(s + 3, &split, 1);
    occam_noise_draw(s + 4, &split, N - 4);
    cr_assert_eq(memcmp(w, s, sizeof w), 0);
    /* without pairs: 4 (two pairs), 3 (two pairs, one normal dropped), then 4 */
    occam_noise_draw(one, &single, 4);
    occam_noise_draw(one + 4, &single, 3);
    occam_noise_draw(one + 7, &single, 4);
    cr_assert_eq(memcmp(one, w, 7 * sizeof *w), 0);
    cr_assert(!single.have);
    occam_rng d = occam_rng_seed(4, 4);
    float ref[12];
    occam_noise_normals again = {.r = &d, .pairs = true};
    occam_noise_draw(ref, &again, 12);
    cr_assert_eq(memcmp(one + 7, ref + 8, 4 * sizeof *ref), 0, "the odd call used two pairs");
    cr_assert_eq(memcmp(&c, &d, sizeof c), 0, "one generator draw per pair");
}

/* The description length computes layer 0's moments once per block of rows and passes them
 * in (mean0): the pass is then bit for bit the one that computes them itself. */
Test(noisy, forward_from_precomputed_first_layer_is_the_same_pass)
{
    int w[] = {6, 5, 3};
    occam_config cfg = noisy_config(w);
    cfg.model.activation = OCCAM_ACT_TANH;
    occam_model m;
    occam_error err;
    cr_assert_eq(occam_model_create(&m, &cfg.model, cfg.data.task, &err), OCCAM_OK);
    occam_model_init(&m, OCCAM_INIT_XAVIER, 2);
    enum { R = 4 };
    float *var = calloc(m.lay.nparams, sizeof(float));
    occam_rng r = occam_rng_seed(8, 8);
    for (size_t i = 0; i < m.lay.nparams; i++) var[i] = (float)(0.05 * occam_rng_uniform(&r));
    float x[R * 6], z[2][2][R * 5], sd[2][2][R * 5], eps[2][2][R * 5], sq[R * 6];
    float mean0[R * 5], sd0[R * 5];
    for (int i = 0; i < R * 6; i++) x[i] = (float)occam_rng_normal(&r);
    for (int v = 0; v < 2; v++) {
        occam_rng nr = occam_rng_seed(5, 5);
        occam_noise_normals nz = {.r = &nr, .pairs = true};
        float *zp[2] = {z[v][0], z[v][1]}, *sp[2] = {sd[v][0], sd[v][1]};
        float *ep[2] = {eps[v][0], eps[v][1]};
        if (v == 1) {
            occam_noise_layer_moments(mean0, sd0, sq, x, m.params + m.lay.w_off[0],
                                      var + m.lay.w_off[0], R, 6, 5);
            sp[0] = sd0;
        }
        occam_noise_forward(zp, sp, ep, sq, x, v == 1 ? mean0 : NULL, &m, var, R, &nz);
    }
    cr_assert_eq(memcmp(sd[0][0], sd0, sizeof sd0), 0);
    cr_assert_eq(memcmp(z[0][0], z[1][0], sizeof z[0][0]), 0);
    cr_assert_eq(memcmp(z[0][1], z[1][1], R * 3 * sizeof(float)), 0);
    free(var);
    occam_model_free(&m);
}

/* occam_noise_responsibilities sums to one and names the component with the largest
 * responsibility (what the run report counts for the zero component). */
Test(noisy, responsibilities_name_the_most_responsible_component)
{
    occam_prior p = {.k = 3, .pi = {0.8, 0.1, 0.1}, .mu = {0.0, 0.5, -0.5},
                     .sigma = {0.02, 0.2, 0.2}, .pinned0 = true};
    const double at[] = {0.0, 0.01, 0.3, -0.45, 2.0};
    const int want[] = {0, 0, 1, 2, 1};
    for (int i = 0; i < 5; i++) {
        double r[OCCAM_PRIOR_MAX];
        int best = occam_noise_responsibilities(&p, at[i], r);
        cr_assert_eq(best, want[i], "μ = %g: component %d", at[i], best);
        cr_assert_float_eq(r[0] + r[1] + r[2], 1.0, 1e-12);
        for (int c = 0; c < 3; c++) cr_assert(r[c] <= r[best]);
    }
}

/* noise.data_term = expansion: one step's curvature is the mean of the squared per-row
 * gradients (each row's gradient from occam_trainer_gradient on that row alone), and the next
 * epoch's σ is the fixed point σ² = 1/(C_p + ĥ/(c·κ)) with the bias-corrected average ĥ. */
Test(noisy, expansion_curvature_and_sigma_fixed_point)
{
    int w[] = {5, 7, 4};
    occam_config cfg = noisy_config(w);
    cfg.model.activation = OCCAM_ACT_TANH;
    cfg.train.batch = 8;
    cfg.noise.prior = OCCAM_PRIOR_GAUSSIAN;
    cfg.noise.warmup_epochs = 0;
    occam_model m;
    occam_error err;
    cr_assert_eq(occam_model_create(&m, &cfg.model, cfg.data.task, &err), OCCAM_OK);
    occam_model_init(&m, OCCAM_INIT_XAVIER, 5);
    occam_trainer *tr;
    cr_assert_eq(occam_trainer_create(&tr, &m, occam_config_trainer(&cfg), 1, NULL, &err), OCCAM_OK, "%s", err.msg);
    occam_dataset ds = {.n = 8, .d = 5, .classes = 4};
    ds.x = malloc(sizeof(float) * 40);
    ds.label = malloc(sizeof(int32_t) * 8);
    occam_rng r = occam_rng_seed(3, 4);
    for (int i = 0; i < 40; i++) ds.x[i] = (float)occam_rng_normal(&r);
    for (int i = 0; i < 8; i++) ds.label[i] = i % 4;
    size_t np = m.lay.nparams;
    double *ref = calloc(np, sizeof(double));
    float *g = calloc(2 * np, sizeof(float));
    for (uint32_t row = 0; row < 8; row++) {
        double loss = 0.0;
        occam_trainer_gradient(tr, &ds, &row, 1, g, &loss);
        for (size_t i = 0; i < np; i++) ref[i] += (double)g[i] * g[i] / 8.0;
    }
    occam_trainer_begin_epoch(tr, 0, &ds);
    uint32_t idx[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    double loss = 0.0;
    int64_t correct = 0;
    occam_trainer_step(tr, &ds, idx, 8, &loss, &correct);
    occam_trainer_state st;
    occam_trainer_state_view(tr, &st);
    const double d = NOISY_CURV_DECAY;
    for (int l = 0; l < 2; l++)
        for (size_t i = m.lay.w_off[l]; i < m.lay.w_off[l] + (size_t)w[l] * w[l + 1]; i++)
            cr_assert(fabs(st.mom1_rho[i] - (1 - d) * ref[i]) <= 1e-6 + 1e-4 * (1 - d) * ref[i],
                      "weight %zu: curvature %.8g, squared row gradients give %.8g", i,
                      st.mom1_rho[i], (1 - d) * ref[i]);
    occam_trainer_begin_epoch(tr, 1, &ds); /* β = 1: κ = 1/N, c = 1 for classes */
    for (int l = 0; l < 2; l++) {
        const occam_prior *p = occam_trainer_prior(tr, l);
        for (size_t i = m.lay.w_off[l]; i < m.lay.w_off[l] + (size_t)w[l] * w[l + 1]; i++) {
            double h = st.mom1_rho[i] / (1 - d), want = 1.0 / (1.0 / (p->sigma[0] * p->sigma[0]) + h * 8.0);
            double got = occam_noise_sigma(m.rho[i]);
            cr_assert(fabs(got * got - want) <= 1e-5 * want, "weight %zu: σ² %.8g, fixed point %.8g", i, got * got, want);
        }
    }
    occam_trainer_free(tr);
    free(ref);
    free(g);
    free(ds.x);
    free(ds.label);
    occam_model_free(&m);
}

/* The learned regression noise level: the step on ln σ_y follows the derivative of the data
 * code's nats per value, f(s) = E[r²]/(2e^{2s}) + s, against a central difference in double,
 * sampled (E[r²] = mse) and expanded (E[r²] = mse + β·γ·σ_y²/(N·K) per value). */
Test(noisy, noise_level_gradient_matches_finite_differences)
{
    occam_optim_params op = {.optimizer = OCCAM_OPT_SGD, .lr = 0.1, .momentum = 0.0};
    occam_optim opt;
    occam_optim_init(&opt, &op);
    for (int expanded = 0; expanded < 2; expanded++)
        for (double s0 = -1.0; s0 <= 1.0; s0 += 0.5) {
            noisy_state st = {.regress = true, .sample = !expanded, .rows = 100, .beta = 0.7,
                              .batch = 16};
            for (int k = 0; k < NOISY_GAMMA_N; k++) st.gamma[k] = 12.5; /* flat in σ_y */
            st.level[0] = (float)s0;
            double sse = 16 * 0.37, values = 16;
            double extra = expanded ? st.beta * 12.5 * 16 / (100.0 * values) : 0.0;
            double s = st.level[0];
            /* the code's derivative holds E[r²] at the current σ_y (the expansion's term is
             * evaluated there), so the difference quotient freezes it too */
            double fd = (sse / values + extra * exp(2 * s)) * (-exp(-2 * s)) + 1.0;
            double e2 = sse / values + extra * exp(2 * s);
            double fd2 = (e2 / (2 * exp(2 * (s + 1e-5))) + (s + 1e-5) -
                          e2 / (2 * exp(2 * (s - 1e-5))) - (s - 1e-5)) / 2e-5;
            noisy_level_step(&st, &opt, sse, (size_t)values);
            double g = (s - st.level[0]) / 0.1;
            cr_assert(fabs(g - fd) < 1e-5 * (1 + fabs(fd)), "s %.2f: step gradient %.8g, closed form %.8g", s0, g, fd);
            cr_assert(fabs(g - fd2) < 1e-4 * (1 + fabs(fd2)), "s %.2f: step gradient %.8g, finite difference %.8g", s0, g, fd2);
        }
}

/* The sparse prior's KL approximation: its derivative in log α against a central difference,
 * the single-precision gradients in μ and σ against the chain rule through log α, its limit
 * (0 as α → ∞) and its monotone decrease in α. */
Test(noisy, sparse_kl_gradients_match_finite_differences)
{
    double prev = INFINITY;
    for (double la = -12.0; la <= 12.0; la += 0.25) {
        double dk, h = 1e-5, fd = (occam_noise_sparse_kl(la + h, NULL) -
                                  occam_noise_sparse_kl(la - h, NULL)) / (2 * h);
        double k = occam_noise_sparse_kl(la, &dk);
        cr_assert(fabs(dk - fd) < 1e-7 + 1e-6 * fabs(fd), "log α %.2f: %.10g vs %.10g", la, dk, fd);
        cr_assert(k < prev && k > -1e-12, "log α %.2f: KL %.6g after %.6g", la, k, prev);
        prev = k;
    }
    cr_assert(occam_noise_sparse_kl(40.0, NULL) < 1e-8);
    for (float mu = -0.7f; mu <= 0.7f; mu += 0.35f)
        for (float sg = 0.01f; sg < 1.0f; sg *= 3.0f) {
            if (fabsf(mu) < 1e-3f) continue; /* μ = 0 is log α = ∞: masked, never stepped */
            float dmu, dsig;
            noisy_cache sc;
            noisy_cache_init(&sc, &(occam_prior){.k = 1, .pi = {1}, .sigma = {1}}, true);
            noisy_kl_grad_block(&sc, &mu, &sg, &dmu, &dsig, NULL, 1);
            double la = log((double)sg * sg) - log((double)mu * mu), dk;
            occam_noise_sparse_kl(la, &dk);
            cr_assert(fabs(dmu - dk * -2.0 / mu) <= 1e-4 * fabs(dk * 2.0 / mu) + 1e-6, "μ %g σ %g", mu, sg);
            cr_assert(fabs(dsig - dk * 2.0 / sg) <= 1e-4 * fabs(dk * 2.0 / sg) + 1e-6, "μ %g σ %g", mu, sg);
        }
    /* σ far below |μ| (noise.init_sigma = 1e-15 down to its floor 1e-37, where σ² underflows
     * float32): log α → −∞, s(1 − s) → 0 and dk → −½, so ∂/∂μ → 1/μ and ∂/∂σ → −1/σ. These were NaN (e^−(k2 + k3·la) overflowed: ∞·0), and training stopped with
     * "the loss became NaN" at a config value in range. */
    for (float sg = 1e-12f; sg >= 1e-37f; sg *= 1e-5f) {
        float mu = 0.05f, dmu, dsig;
        noisy_cache sc;
        noisy_cache_init(&sc, &(occam_prior){.k = 1, .pi = {1}, .sigma = {1}}, true);
        noisy_kl_grad_block(&sc, &mu, &sg, &dmu, &dsig, NULL, 1);
        cr_assert(isfinite(dmu) && isfinite(dsig), "σ %g: ∂μ %g ∂σ %g", sg, dmu, dsig);
        cr_assert(fabs(dmu - 1.0 / mu) <= 1e-4 / mu, "σ %g: ∂μ %g, want 1/μ", sg, dmu);
        cr_assert(fabs(dsig + 1.0 / sg) <= 1e-4 / sg, "σ %g: ∂σ %g, want −1/σ", sg, dsig);
    }
}

/* ∫ ln|x| N(x; 1, a²) dx over x from 0 to sign·L, by the trapezoid rule in u with x = sign·u³
 * (dx = 3u² du): the integrand 9u² ln u · N vanishes at the log's singularity, x = 0. */
static double log_abs_side(double a, double sign)
{
    double len = sign > 0 ? 1.0 + 12.0 * a : 12.0 * a - 1.0;
    if (len <= 0.0) return 0.0;
    int n = 400000;
    double top = cbrt(len), h = top / n, sum = 0.0;
    for (int i = 1; i <= n; i++) {
        double u = i * h, x = sign * u * u * u, z = (x - 1.0) / a;
        sum += (i == n ? 0.5 : 1.0) * 9.0 * u * u * log(u) * exp(-0.5 * z * z) /
               (a * sqrt(2.0 * M_PI));
    }
    return sum * h;
}

/* The sparse prior's KL against the true KL of q = N(μ, σ²) to the log-uniform prior
 * (Molchanov et al. 2017, eq. 9: −KL = ½ log α − E_{ε~N(1, α)} ln|ε| + C): by quadrature,
 * K(log α) = E ln|1 + √α·ε| − ½ log α + (γ_E + ln 2)/2, ε ~ N(0, 1), the constant the one that
 * makes it 0 as α → ∞, where the approximation is 0 too. The paper's fit (k1, k2, k3) is
 * within 0.01 nats of it everywhere (its largest miss is 0.0094 at log α = −3.5), and as
 * α → 0 both grow like −½ log α with constants k1 = 0.63576 and (γ_E + ln 2)/2 = 0.63518. A
 * wrong constant, a factor of 2 on either term or a sign of log α would be off by far more. */
Test(noisy, sparse_kl_against_the_log_uniform_kl_by_quadrature)
{
    const double euler_gamma = 0.57721566490153286;
    double worst = 0.0;
    for (double la = -10.0; la <= 10.0; la += 0.5) {
        double a = exp(0.5 * la);
        double e = log_abs_side(a, 1.0) + log_abs_side(a, -1.0);
        double truth = e - 0.5 * la + 0.5 * (euler_gamma + log(2.0));
        double k = occam_noise_sparse_kl(la, NULL);
        cr_assert(fabs(k - truth) < 0.01, "log α %.1f: %.6f vs the true KL %.6f", la, k, truth);
        worst = fmax(worst, fabs(k - truth));
    }
    cr_assert(worst > 0.005, "the approximation's known error (0.0094) did not show: %g", worst);
}

/* The Gaussian prior's KL, which the trainer's bound is exactly, against quadrature of
 * ∫ q ln(q/p) by the trapezoid rule over ±12 posterior widths. */
Test(noisy, gaussian_kl_against_quadrature)
{
    occam_prior p = occam_prior_gauss(0.0, 0.4);
    double mus[] = {-1.0, 0.0, 0.3}, sgs[] = {0.01, 0.1, 0.5};
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++) {
            double mu = mus[a], sg = sgs[b], sum = 0.0;
            int n = 200000;
            double lo = mu - 12 * sg, dx = 24 * sg / n;
            for (int i = 0; i <= n; i++) {
                double x = lo + i * dx, z = (x - mu) / sg;
                double lq = -0.5 * z * z - log(sg) - 0.5 * log(2 * M_PI);
                double lp = -0.5 * x * x / (0.4 * 0.4) - log(0.4) - 0.5 * log(2 * M_PI);
                sum += (i == 0 || i == n ? 0.5 : 1.0) * exp(lq) * (lq - lp) * dx;
            }
            double k = noisy_kl(&p, mu, sg, NULL);
            cr_assert(fabs(k - sum) < 1e-6 * (1 + fabs(sum)), "μ %g σ %g: %.10g vs quadrature %.10g", mu, sg, k, sum);
        }
}

/* The update's vectorised KL gradient (noisy_kl_grad_block) against the double noisy_kl and
 * occam_noise_sparse_kl, over weights from −3 to 3 and σ from 10⁻⁴ to 3 (both extremes against
 * the widths), for a Gaussian, mixtures of 2 to OCCAM_PRIOR_MAX components (pinned or not) and
 * the sparse prior. The mixture's ∂/∂μ sums terms of both signs, so its error is measured
 * against the sum of their magnitudes Σ r_c |μ − m_c|/s_c² (∂/∂σ: 1/σ + σ Σ r_c/s_c²), the
 * Gaussian's likewise (one term), the sparse prior's relative to its values. Also: a block gives the bits of
 * one-weight calls (no lane sees another), and without σ the same ∂/∂μ. */
static double kl_block_check(const noisy_cache *c, const occam_prior *p, bool sparse)
{
    enum { NM = 61, NS = 9 };
    float mu[NM * NS], sg[NM * NS], dm[NM * NS], ds[NM * NS], dm0[NM * NS];
    size_t n = 0;
    for (int a = 0; a < NM; a++)
        for (int b = 0; b < NS; b++, n++) {
            mu[n] = (float)(-3.0 + 6.0 * a / (NM - 1) + (a == NM / 2 ? 1e-3 : 0.0));
            sg[n] = (float)(1e-4 * pow(3e4, (double)b / (NS - 1)));
        }
    float cp[NM * NS];
    double worst = 0.0;
    for (size_t at = 0; at < n; at += NOISY_BLOCK) {
        size_t k = n - at < NOISY_BLOCK ? n - at : NOISY_BLOCK;
        noisy_kl_grad_block(c, mu + at, sg + at, dm + at, ds + at, NULL, k);
        if (!sparse) noisy_kl_grad_block(c, mu + at, NULL, dm0 + at, NULL, cp + at, k);
    }
    for (size_t i = 0; i < n; i++) {
        float one_m, one_s;
        noisy_kl_grad_block(c, mu + i, sg + i, &one_m, &one_s, NULL, 1);
        cr_assert(memcmp(&one_m, dm + i, sizeof one_m) == 0 &&
                  memcmp(&one_s, ds + i, sizeof one_s) == 0, "weight %zu: block ≠ single", i);
        if (!sparse) cr_assert(memcmp(dm0 + i, dm + i, sizeof *dm) == 0, "∂μ without σ");
        if (!sparse) { /* the prior's curvature Σ r_c/s_c² for the semi-implicit SGD step */
            double r[OCCAM_PRIOR_MAX], want = 0.0;
            occam_noise_responsibilities(p, mu[i], r);
            for (int j = 0; j < p->k; j++) want += r[j] / (p->sigma[j] * p->sigma[j]);
            cr_assert(fabs(cp[i] - want) <= 1e-5 * want, "weight %zu: C_p %.9g, want %.9g", i,
                      (double)cp[i], want);
        }
        double gm, gs, scale_m, scale_s, floor_m = 0.0;
        if (sparse) {
            double m2 = (double)mu[i] * mu[i] + 1e-30, la = log((double)sg[i] * sg[i]) - log(m2), dk;
            occam_noise_sparse_kl(la, &dk);
            gm = dk * -2.0 * mu[i] / m2;
            gs = dk * 2.0 / sg[i];
            scale_m = fabs(gm);
            scale_s = fabs(gs);
        } else {
            noisy_kl_grad g;
            double r[OCCAM_PRIOR_MAX];
            noisy_kl(p, mu[i], sg[i], &g);
            occam_noise_responsibilities(p, mu[i], r);
            gm = g.mu;
            gs = g.sigma;
            scale_m = 0.0, scale_s = 1.0 / sg[i];
            floor_m = 0.0;
            for (int j = 0; j < p->k; j++) {
                double v = 1.0 / (p->sigma[j] * p->sigma[j]);
                scale_m += r[j] * fabs(mu[i] - p->mu[j]) * v;
                /* the prior mean's own rounding to float, an error no tolerance covers */
                floor_m += r[j] * 0x1p-23 * fabs(p->mu[j]) * v;
                scale_s += sg[i] * r[j] * v;
            }
        }
        double em = fmax(fabs(dm[i] - gm) - floor_m, 0.0) / fmax(scale_m, 1e-30);
        double es = fabs(ds[i] - gs) / scale_s;
        cr_assert(em <= 4e-6 && es <= 4e-6, "μ %g σ %g: ∂μ %.9g vs %.9g, ∂σ %.9g vs %.9g",
                  (double)mu[i], (double)sg[i], (double)dm[i], gm, (double)ds[i], gs);
        worst = fmax(worst, fmax(em, es));
    }
    return worst;
}

Test(noisy, kl_grad_block_matches_the_double_kl)
{
    noisy_cache c;
    occam_prior g = occam_prior_gauss(0.1, 0.4);
    noisy_cache_init(&c, &g, false);
    cr_assert_eq(c.kind, NOISY_KL_GAUSS);
    double worst = kl_block_check(&c, &g, false);
    cr_log_info("KL block, gaussian: max error %.3g (relative)", worst);
    for (int k = 2; k <= OCCAM_PRIOR_MAX; k++)
        for (int pin = 0; pin < 2; pin++) {
            occam_prior p = {.k = k, .pinned0 = pin};
            for (int j = 0; j < k; j++) {
                p.pi[j] = (j == 0 ? 0.5 : 0.5 / (k - 1));
                p.mu[j] = j == 0 && pin ? 0.0 : -1.0 + 2.0 * j / (k - 1);
                p.sigma[j] = j == 0 ? 0.01 : 0.05 + 0.1 * j;
            }
            noisy_cache_init(&c, &p, false);
            cr_assert_eq(c.kind, NOISY_KL_MIXTURE);
            double e = kl_block_check(&c, &p, false);
            cr_log_info("KL block, %d components%s: max error %.3g (of the terms' magnitude)", k,
                        pin ? ", pinned" : "", e);
            worst = fmax(worst, e);
        }
    noisy_cache_init(&c, &g, true);
    cr_assert_eq(c.kind, NOISY_KL_SPARSE);
    double e = kl_block_check(&c, NULL, true);
    cr_log_info("KL block, sparse: max error %.3g (relative)", e);
}

/* Bayesian compression's pruning: exactly the weights with ln(σ²/μ²) above the threshold are
 * masked and zeroed; the others and the biases keep their values. */
Test(noisy, low_snr_mask_matches_log_alpha)
{
    int w[] = {3, 4, 2};
    occam_config cfg = noisy_config(w);
    occam_model m;
    occam_error err;
    noisy_model(&m, &cfg, 9);
    occam_rng r = occam_rng_seed(5, 5);
    for (size_t i = 0; i < m.lay.nparams; i++) m.rho[i] = (float)(occam_rng_normal(&r) - 2.0);
    float *before = malloc(m.lay.nparams * sizeof(float));
    memcpy(before, m.params, m.lay.nparams * sizeof(float));
    long want = 0;
    for (int l = 0; l < 2; l++)
        for (size_t i = m.lay.w_off[l]; i < m.lay.w_off[l] + (size_t)w[l] * w[l + 1]; i++) {
            double s = occam_noise_sigma(m.rho[i]);
            want += log(s * s / ((double)m.params[i] * m.params[i])) > 1.0;
        }
    cr_assert(want > 0 && want < 20, "%ld", want);
    cr_assert_eq(occam_noise_mask_low_snr(&m, 1.0, &err), want);
    for (int l = 0; l < 2; l++) {
        for (size_t i = m.lay.w_off[l]; i < m.lay.w_off[l] + (size_t)w[l] * w[l + 1]; i++) {
            double s = occam_noise_sigma(m.rho[i]);
            bool low = log(s * s / ((double)before[i] * before[i])) > 1.0;
            cr_assert_eq(m.mask[i], !low, "weight %zu", i);
            cr_assert(m.params[i] == (low ? 0.0f : before[i]));
        }
        for (int o = 0; o < w[l + 1]; o++)
            cr_assert(m.params[m.lay.b_off[l] + o] == before[m.lay.b_off[l] + o]);
    }
    cr_assert_eq(occam_noise_mask_low_snr(&m, 1.0, &err), 0); /* nothing left to mask */
    free(before);
    occam_model_free(&m);
}

/* The model's outputs for one row in double: the reference the Gauss–Newton and rebalancing
 * tests compare against. */
static void forward_double(const occam_model *m, const double *x, double *out)
{
    const occam_layout *lay = &m->lay;
    double a[64], z[64];
    for (int u = 0; u < lay->width[0]; u++) a[u] = x[u];
    for (int l = 0; l < lay->nlayers; l++) {
        int in = lay->width[l], o = lay->width[l + 1];
        for (int j = 0; j < o; j++) {
            double s = m->params[lay->b_off[l] + j];
            for (int u = 0; u < in; u++) s += (double)m->params[lay->w_off[l] + (size_t)j * in + u] * a[u];
            z[j] = l + 1 == lay->nlayers      ? s
                   : m->act == OCCAM_ACT_RELU    ? (s > 0 ? s : 0)
                   : m->act == OCCAM_ACT_SIGMOID ? 1.0 / (1.0 + exp(-s))
                                                 : tanh(s);
        }
        memcpy(a, z, sizeof(double) * o);
    }
    memcpy(out, a, sizeof(double) * lay->width[lay->nlayers]);
}

/* The double forward pass at x with parameter q at keep + h (into up) and keep - h (into dn),
 * each as float32 holds it; returns the step between the two. Parameter q is left at keep - h:
 * the caller restores it. */
static double central_pair(occam_model *m, size_t q, float keep, double h, const double *x,
                           double *up, double *dn)
{
    m->params[q] = (float)(keep + h);
    double hp = (double)m->params[q] - keep;
    forward_double(m, x, up);
    m->params[q] = (float)(keep - h);
    double hm = keep - (double)m->params[q];
    forward_double(m, x, dn);
    return hp + hm;
}

/* The inverse of the n×n SPD matrix a (Gauss–Jordan, no pivoting needed), into inv. */
static void spd_inverse(const double *a, int n, double *inv)
{
    double *t = malloc(sizeof(double) * n * 2 * n);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < 2 * n; j++) t[i * 2 * n + j] = j < n ? a[i * n + j] : (j - n == i);
    for (int c = 0; c < n; c++) {
        double p = t[c * 2 * n + c];
        for (int j = 0; j < 2 * n; j++) t[c * 2 * n + j] /= p;
        for (int i = 0; i < n; i++) {
            if (i == c) continue;
            double f = t[i * 2 * n + c];
            for (int j = 0; j < 2 * n; j++) t[i * 2 * n + j] -= f * t[c * 2 * n + j];
        }
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) inv[i * n + j] = t[i * 2 * n + n + j];
    free(t);
}

/* The Gauss–Newton γ of src/nn/dof.c against tr(H (H + βP)⁻¹) in weight space: H = JᵀJ/σ_y²
 * over every row and output, J by central differences of a double forward pass, P the
 * per-layer prior precisions; at the table's centre and two other noise levels, for ReLU and
 * tanh nets with two outputs: to 1e-4 on 7 rows (row space), on 300 (600 row-outputs, in
 * weight space) and on 1,500 (an even spread of NOISY_DOF_CAP / 2 rows scaled by 1500/1024,
 * in weight space). */
Test(noisy, gauss_newton_gamma_matches_the_weight_space_trace)
{
    int w[] = {4, 6, 2}, K = 2;
    for (int pass = 0; pass < 6; pass++) {
        int act = pass % 2, N = pass < 2 ? 7 : pass < 4 ? 300 : 1500;
        int n = N <= NOISY_DOF_CAP / K ? N : NOISY_DOF_CAP / K;
        occam_config cfg = noisy_config(w);
        cfg.data.task = OCCAM_TASK_REGRESS;
        cfg.model.activation = act ? OCCAM_ACT_TANH : OCCAM_ACT_RELU;
        occam_model m;
        noisy_model(&m, &cfg, 11 + act);
        occam_rng r = occam_rng_seed(5, act);
        for (size_t i = 0; i < m.lay.nparams; i++) m.params[i] += (float)(0.3 * occam_rng_normal(&r));
        occam_dataset ds = {.n = (size_t)N, .d = 4, .targets = K};
        ds.x = malloc(sizeof(float) * N * 4);
        for (int i = 0; i < N * 4; i++) ds.x[i] = (float)occam_rng_normal(&r);
        occam_prior prior[2] = {occam_prior_gauss(0, 0.7), occam_prior_gauss(0, 1.3)};
        double beta = 0.6, sy2 = 0.25, table[NOISY_GAMMA_N];
        noisy_dof *g = noisy_dof_create(&m, (size_t)N);
        cr_assert(g);
        cr_assert_eq(noisy_dof_rows(&m.lay, (size_t)N), n);
        noisy_dof_table(table, g, &m, prior, &ds, beta, sy2, NOISY_GAMMA_N, NOISY_GAMMA_STEP, 1);
        int P = 4 * 6 + 6 * 2;
        double *J = calloc((size_t)n * K * P, sizeof(double)), x[4], up[2], dn[2];
        for (int p = 0; p < P; p++) {
            size_t q = p < 24 ? m.lay.w_off[0] + p : m.lay.w_off[1] + (p - 24);
            float keep = m.params[q];
            double h = 1e-5 * fmax(1.0, fabs(keep)); /* small: no ReLU kink within reach */
            for (int i = 0; i < n; i++) {
                size_t row = (size_t)((double)i * N / n);
                for (int u = 0; u < 4; u++) x[u] = ds.x[row * 4 + u];
                double step = central_pair(&m, q, keep, h, x, up, dn);
                for (int k = 0; k < K; k++) J[((size_t)i * K + k) * P + p] = (up[k] - dn[k]) / step;
            }
            m.params[q] = keep;
        }
        for (int c = -8; c <= 8; c += 8) { /* table points 8, 16 (the centre) and 24 */
            double s2 = sy2 * exp(2.0 * NOISY_GAMMA_STEP * c);
            double *A = calloc((size_t)P * P, sizeof(double)), *H = calloc((size_t)P * P, sizeof(double)),
                   *inv = malloc(sizeof(double) * P * P);
            for (int a = 0; a < P; a++)
                for (int b = 0; b < P; b++) {
                    double s = 0.0;
                    for (int rk = 0; rk < n * K; rk++) s += J[(size_t)rk * P + a] * J[(size_t)rk * P + b];
                    H[a * P + b] = A[a * P + b] = s * N / n / s2;
                }
            for (int a = 0; a < P; a++) {
                double sd = a < 24 ? 0.7 : 1.3;
                A[a * P + a] += beta / (sd * sd);
            }
            spd_inverse(A, P, inv);
            double gam = 0.0;
            for (int a = 0; a < P; a++)
                for (int b = 0; b < P; b++) gam += H[a * P + b] * inv[b * P + a];
            double got = table[NOISY_GAMMA_N / 2 + c];
            cr_assert(fabs(got - gam) <= 1e-4 * fmax(1.0, gam),
                      "act %d, %d rows, point %d: γ %.10g, weight-space trace %.10g", act, N, c,
                      got, gam);
            free(A), free(H), free(inv);
        }
        cr_assert(table[0] > table[NOISY_GAMMA_N / 2] && table[NOISY_GAMMA_N / 2] > table[NOISY_GAMMA_N - 1]);
        cr_assert(table[0] < (double)(n * K), "γ %.6g must stay below the %d row-outputs", table[0], n * K);
        /* a near-exact fit (σ_y² = 1e-18): the trace's cancellation is clamped to the rank */
        noisy_dof_table(table, g, &m, prior, &ds, beta, 1e-18, NOISY_GAMMA_N, NOISY_GAMMA_STEP, 1);
        for (int k = 0; k < NOISY_GAMMA_N; k++)
            cr_assert(isfinite(table[k]) && table[k] >= 0.0 && table[k] <= (double)(n * K),
                      "point %d: γ %g", k, table[k]);
        noisy_dof_free(g);
        free(J), free(ds.x);
        occam_model_free(&m);
    }
}

/* A tanh d-h-1 regression net (Xavier from model_seed, its parameters then moved by jitter
 * times normal draws of rng) and N rows of normal inputs drawn next from rng. */
static void tanh_regression(occam_model *m, occam_dataset *ds, int d, int h, int N,
                            uint64_t model_seed, occam_rng *rng, double jitter)
{
    int w[] = {d, h, 1};
    occam_config cfg = noisy_config(w);
    cfg.data.task = OCCAM_TASK_REGRESS;
    cfg.model.activation = OCCAM_ACT_TANH;
    noisy_model(m, &cfg, model_seed);
    for (size_t i = 0; jitter != 0.0 && i < m->lay.nparams; i++)
        m->params[i] += (float)(jitter * occam_rng_normal(rng));
    *ds = (occam_dataset){.n = (size_t)N, .d = (size_t)d, .targets = 1};
    ds->x = malloc(sizeof(float) * (size_t)N * d);
    for (int i = 0; i < N * d; i++) ds->x[i] = (float)occam_rng_normal(rng);
}

/* Past NOISY_DOF_ROWS row-outputs, against the exact trace, for tanh nets at five noise levels
 * from γ near min(N, W) to γ near 0: over the rows, M − tr((I + tG)⁻¹) with G = J(βP)⁻¹Jᵀ/σ_y²,
 * or where the weights are fewer, W − tr((I + tH)⁻¹) with H = (βP)^(−1/2)JᵀJ(βP)^(−1/2)/σ_y²
 * (the same nonzero eigenvalues), J analytic:
 * - 20-20-1 on 400 rows (420 weights): exact in weight space, to 1e-6, with the tridiagonal
 *   form's scratch past NOISY_DOF_ROWS;
 * - 20-60-1 on 400 rows (1,260 weights): estimated over the rows, to 2%; the Gram's rank, 400,
 *   is far past the Lanczos steps, so no probe's Krylov space closes;
 * - 20-30-1 on 1,000 rows (630 weights): estimated over the weights, to 2% (over the rows, the
 *   Gram's 370-dimensional null space had the Gauss rule count γ 20–70% high).
 * Monotone; the same bits on a second call (fixed probes), on a team of 1, 2 or 3 threads. */
Test(noisy, gamma_past_the_exact_rows_matches_the_exact_trace)
{
    enum { D = 20 };
    static const int cases[3][2] = {{20, 400}, {60, 400}, {30, 1000}}; /* hidden, rows */
    for (int cs = 0; cs < 3; cs++) {
        int H = cases[cs][0], N = cases[cs][1], W = D * H + H;
        bool est = W > NOISY_DOF_WEIGHTS, wsp = W < N; /* the reference's space */
        occam_model m;
        occam_dataset ds;
        occam_rng r = occam_rng_seed(9, 1);
        tanh_regression(&m, &ds, D, H, N, 23, &r, 0.5);
        occam_prior prior[2] = {occam_prior_gauss(0, 0.4), occam_prior_gauss(0, 0.9)};
        double beta = 0.8, sy2 = est ? 0.05 : 0.02, table[NOISY_GAMMA_N], again[NOISY_GAMMA_N];
        noisy_dof *g = noisy_dof_create(&m, (size_t)N);
        cr_assert(g);
        noisy_dof_table(table, g, &m, prior, &ds, beta, sy2, NOISY_GAMMA_N, NOISY_GAMMA_STEP, 1);
        for (int nt = 1; nt <= 3; nt++) { /* the estimate's team: 3 threads on 2 cores too */
            noisy_dof_table(again, g, &m, prior, &ds, beta, sy2, NOISY_GAMMA_N, NOISY_GAMMA_STEP,
                            nt);
            cr_assert(memcmp(table, again, sizeof table) == 0,
                      "a second call on %d threads must give the same bits", nt);
        }
        /* J̃ (row i, weight k), each layer's columns scaled by its prior's σ/√β:
         * ∂f/∂W1[j][u] = W2[j]·tanh'(z_j)·x_u, ∂f/∂W2[j] = tanh(z_j) */
        const float *W1 = m.params + m.lay.w_off[0], *b1 = m.params + m.lay.b_off[0],
                    *W2 = m.params + m.lay.w_off[1];
        double *J = malloc(sizeof(double) * N * W), c0 = 0.4 / sqrt(beta), c1 = 0.9 / sqrt(beta);
        for (int i = 0; i < N; i++)
            for (int j = 0; j < H; j++) {
                double z = b1[j];
                for (int u = 0; u < D; u++) z += (double)W1[j * D + u] * ds.x[i * D + u];
                double a = tanh(z);
                J[(size_t)i * W + D * H + j] = c1 * a;
                for (int u = 0; u < D; u++)
                    J[(size_t)i * W + j * D + u] = c0 * W2[j] * (1.0 - a * a) * ds.x[i * D + u];
            }
        int n = wsp ? W : N;
        double *G = malloc(sizeof(double) * n * n), *A = malloc(sizeof(double) * n * n),
               *inv = malloc(sizeof(double) * n * n);
        for (int a = 0; a < n; a++)
            for (int b = 0; b < n; b++) {
                double s = 0.0;
                if (wsp)
                    for (int i = 0; i < N; i++) s += J[(size_t)i * W + a] * J[(size_t)i * W + b];
                else
                    for (int k = 0; k < W; k++) s += J[(size_t)a * W + k] * J[(size_t)b * W + k];
                G[a * n + b] = s / sy2;
            }
        for (int c = -16; c <= 16; c += 8) {
            double t = exp(-2.0 * NOISY_GAMMA_STEP * c);
            for (int i = 0; i < n * n; i++) A[i] = t * G[i] + (i / n == i % n);
            spd_inverse(A, n, inv);
            double gam = n;
            for (int i = 0; i < n; i++) gam -= inv[i * n + i];
            double got = table[NOISY_GAMMA_N / 2 + c];
            cr_assert(fabs(got - gam) <= (est ? 0.02 : 1e-6) * gam,
                      "20-%d-1 on %d rows, point %d: γ %.6f, exact %.6f", H, N, c, got, gam);
        }
        for (int k = 1; k < NOISY_GAMMA_N; k++) cr_assert(table[k] <= table[k - 1], "point %d", k);
        cr_assert(table[0] > 0.5 * table[NOISY_GAMMA_N - 1] + 0.1 * (n < N ? n : N),
                  "γ %.1f .. %.1f", table[0], table[NOISY_GAMMA_N - 1]);
        free(G), free(A), free(inv), free(J), free(ds.x);
        noisy_dof_free(g);
        occam_model_free(&m);
    }
}

/* A γ table made by thread 0 of another team alone (the other thread returns at once), asked
 * for a team of 2: it cannot start one there, so it runs on that thread, and its barriers must
 * not bind to the outer team (they did, and thread 0 waited at the first for ever). Both
 * estimate paths, over the rows (the Gram built on the team first) and over the weights; the
 * bits of the table made outside any team. */
typedef struct lone_table {
    const occam_model *m;
    const occam_dataset *ds;
    const occam_prior *prior;
    noisy_dof *g;
    double table[NOISY_GAMMA_N];
} lone_table;

static void lone_table_worker(void *ctx, int t, int nt)
{
    (void)nt;
    lone_table *lt = ctx;
    if (t == 0)
        noisy_dof_table(lt->table, lt->g, lt->m, lt->prior, lt->ds, 0.8, 0.05, NOISY_GAMMA_N,
                        NOISY_GAMMA_STEP, 2);
}

Test(noisy, gamma_table_inside_a_team_runs_on_its_thread_alone, .timeout = 60)
{
    static const int cases[2][2] = {{60, 400}, {30, 1000}}; /* hidden, rows (20 inputs) */
    for (int cs = 0; cs < 2; cs++) {
        occam_model m;
        occam_dataset ds;
        occam_rng r = occam_rng_seed(9, 1);
        tanh_regression(&m, &ds, 20, cases[cs][0], cases[cs][1], 23, &r, 0.5);
        occam_prior prior[2] = {occam_prior_gauss(0, 0.4), occam_prior_gauss(0, 0.9)};
        lone_table lt = {.m = &m, .ds = &ds, .prior = prior};
        lt.g = noisy_dof_create(&m, (size_t)cases[cs][1]);
        cr_assert(lt.g);
        double ref[NOISY_GAMMA_N];
        noisy_dof_table(ref, lt.g, &m, prior, &ds, 0.8, 0.05, NOISY_GAMMA_N, NOISY_GAMMA_STEP, 1);
        occam_error err = {0};
        cr_assert_eq(occam_team_run(2, NULL, lone_table_worker, &lt, &err), OCCAM_OK, "%s",
                     err.msg);
        cr_assert(memcmp(ref, lt.table, sizeof ref) == 0, "case %d: γ %.6f against %.6f", cs,
                  lt.table[NOISY_GAMMA_N / 2], ref[NOISY_GAMMA_N / 2]);
        cr_assert(ref[NOISY_GAMMA_N / 2] > 10.0, "case %d: γ %.6f", cs, ref[NOISY_GAMMA_N / 2]);
        noisy_dof_free(lt.g);
        free(ds.x);
        occam_model_free(&m);
    }
}

/* Scratch sized for more training rows than the table is then made from (occam_trainer_params
 * .rows is a hint) works on the rows it is given: a 6-10-1 net (70 weights) sized for 400 rows
 * (weight space) and given 100 (the exact trace in row space, whose Gram the weight-space
 * scratch once lacked: a store through NULL), and a 20-30-1 net (630 weights, the estimate)
 * sized for 400 and given 100 and 300; each the bits of scratch sized for its own rows. */
Test(noisy, gamma_from_fewer_rows_than_the_scratch_was_sized_for)
{
    static const struct {
        int d, h, n;
    } cases[] = {{6, 10, 100}, {20, 30, 100}, {20, 30, 300}};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        int N = cases[c].n;
        occam_model m;
        occam_dataset ds;
        occam_rng r = occam_rng_seed(4, 1);
        tanh_regression(&m, &ds, cases[c].d, cases[c].h, N, 5, &r, 0.0);
        occam_prior prior[2] = {occam_prior_gauss(0, 0.5), occam_prior_gauss(0, 1.1)};
        double big[NOISY_GAMMA_N], own[NOISY_GAMMA_N];
        noisy_dof *g = noisy_dof_create(&m, 400), *h = noisy_dof_create(&m, (size_t)N);
        cr_assert(g && h);
        noisy_dof_table(big, g, &m, prior, &ds, 0.7, 0.1, NOISY_GAMMA_N, NOISY_GAMMA_STEP, 1);
        noisy_dof_table(own, h, &m, prior, &ds, 0.7, 0.1, NOISY_GAMMA_N, NOISY_GAMMA_STEP, 1);
        cr_assert(memcmp(big, own, sizeof big) == 0, "case %zu: γ %.6f, %.6f", c, big[16], own[16]);
        noisy_dof_free(g), noisy_dof_free(h);
        free(ds.x);
        occam_model_free(&m);
    }
}

/* The learned noise level settles where σ_y² = mse/(1 − βγ(σ_y)/N) even where γ at the
 * starting level is above N (the old constant-γ step had a pole there and ran away): γ here is
 * the diagonal's form Σ_j d_j e^(−4δ)/(p + d_j e^(−4δ)), 150 weights over 100 rows. */
Test(noisy, noise_level_settles_where_gamma_passes_the_rows)
{
    occam_optim_params op = {.optimizer = OCCAM_OPT_SGD, .lr = 0.05, .momentum = 0.0};
    occam_optim opt;
    occam_optim_init(&opt, &op);
    noisy_state st = {.regress = true, .sample = false, .rows = 100, .beta = 1.0, .batch = 16};
    st.gamma_at = 0.0;
    for (int k = 0; k < NOISY_GAMMA_N; k++) {
        double t = exp(-4.0 * NOISY_GAMMA_STEP * (k - NOISY_GAMMA_N / 2)), s = 0.0;
        for (int j = 0; j < 150; j++) s += 20.0 * t / (1.0 + 20.0 * t);
        st.gamma[k] = s;
    }
    cr_assert(st.gamma[NOISY_GAMMA_N / 2] > 140.0);
    double mse = 0.04;
    for (int i = 0; i < 20000; i++) noisy_level_step(&st, &opt, 16 * mse, 16);
    double lv = st.level[0], sy2 = exp(2.0 * lv);
    cr_assert(isfinite(lv) && lv < 2.0 * NOISY_GAMMA_STEP * NOISY_GAMMA_N, "level %g", lv);
    /* the table's γ at the final level, linearly between its points */
    double x = lv / NOISY_GAMMA_STEP + NOISY_GAMMA_N / 2;
    int k = (int)x;
    double gam = st.gamma[k] + (x - k) * (st.gamma[k + 1] - st.gamma[k]);
    double resid = 1.0 - mse / sy2 - gam / 100.0;
    cr_assert(fabs(resid) < 1e-3, "level %g: 1 − mse/σ² − γ/N = %g (γ %g)", lv, resid, gam);
    cr_assert(gam < 100.0);
}

/* noise.rebalance: the function and every output stay; each hidden unit moves toward equal
 * in- and out-norms by at most NOISY_REBALANCE_MAX, reaching it when close enough; the prior's
 * Σ μ² does not grow; the moments move with their parameters (first moments ÷ the factor,
 * Adam's second ÷ its square); ρ is not touched. */
Test(noisy, rebalancing_keeps_the_function_and_lowers_the_prior_cost)
{
    int w[] = {5, 7, 3};
    for (int adam = 0; adam < 2; adam++) {
        occam_config cfg = noisy_config(w);
        occam_model m;
        noisy_model(&m, &cfg, 21);
        const occam_layout *lay = &m.lay;
        for (int j = 0; j < 7; j++) { /* units from far out of balance to balanced */
            double f = j == 0 ? 6.0 : j == 1 ? 0.2 : j == 2 ? 1.03 : 1.0 + 0.3 * j;
            for (int u = 0; u < 5; u++) m.params[lay->w_off[0] + j * 5 + u] *= (float)f;
            m.params[lay->b_off[0] + j] = (float)(0.1 * j - 0.2);
        }
        for (size_t i = 0; i < lay->nparams; i++) m.rho[i] = (float)noisy_softplus_inv(0.05 + 0.001 * (double)(i % 17));
        size_t np = lay->nparams;
        float *m1 = malloc(np * sizeof(float)), *m2 = adam ? malloc(np * sizeof(float)) : NULL;
        float *p0 = malloc(np * sizeof(float)), *r0 = malloc(np * sizeof(float));
        for (size_t i = 0; i < np; i++) {
            m1[i] = 0.01f * (float)(i % 11) - 0.05f;
            if (m2) m2[i] = 1e-4f * (float)(1 + i % 5);
        }
        memcpy(p0, m.params, np * sizeof(float));
        memcpy(r0, m.rho, np * sizeof(float));
        float *m10 = malloc(np * sizeof(float));
        memcpy(m10, m1, np * sizeof(float));
        double x[5] = {0.3, -1.2, 0.8, 0.05, -0.4}, before[3], after[3];
        forward_double(&m, x, before);
        noisy_rebalance(&m, m1, m2);
        forward_double(&m, x, after);
        for (int k = 0; k < 3; k++)
            cr_assert(fabs(after[k] - before[k]) <= 1e-5 * (1.0 + fabs(before[k])), "output %d: %.9g, was %.9g", k, after[k], before[k]);
        double sum0 = 0.0, sum1 = 0.0;
        for (int j = 0; j < 7; j++) {
            double a0 = 0, b0 = 0, a1 = 0, b1 = 0;
            for (int u = 0; u <= 5; u++) {
                size_t q = u < 5 ? lay->w_off[0] + j * 5 + u : lay->b_off[0] + j;
                a0 += (double)p0[q] * p0[q], a1 += (double)m.params[q] * m.params[q];
            }
            for (int k = 0; k < 3; k++) {
                size_t q = lay->w_off[1] + k * 7 + j;
                b0 += (double)p0[q] * p0[q], b1 += (double)m.params[q] * m.params[q];
            }
            double c = sqrt(a1 / a0), want = pow(b0 / a0, 0.25);
            double lim = fmin(fmax(want, 1.0 / NOISY_REBALANCE_MAX), NOISY_REBALANCE_MAX);
            cr_assert(fabs(c - lim) < 1e-5, "unit %d: c %.9g, expected %.9g", j, c, lim);
            if (fabs(log(want)) < log(NOISY_REBALANCE_MAX))
                cr_assert(fabs(a1 - b1) < 1e-4 * (a1 + b1), "unit %d: not balanced (%g, %g)", j, a1, b1);
            sum0 += a0 + b0, sum1 += a1 + b1;
            /* an in-weight, the bias and an out-weight: first moments (gradients) ÷ their
             * parameter's factor, Adam's second ÷ its square; σ is left to the fixed point */
            size_t qs[3] = {lay->w_off[0] + j * 5, lay->b_off[0] + j, lay->w_off[1] + j};
            for (int z = 0; z < 3; z++) {
                size_t q = qs[z];
                double f = z < 2 ? 1.0 / c : c;
                cr_assert(fabs(m1[q] - m10[q] * f) <= 1e-7 + 1e-5 * fabs(m10[q] * f),
                          "unit %d, %d: moment %.9g from %.9g", j, z, m1[q], m10[q]);
                cr_assert(m.rho[q] == r0[q]);
            }
        }
        cr_assert(sum1 < sum0, "Σ μ² %.9g, was %.9g", sum1, sum0);
        free(m1), free(m2), free(p0), free(r0), free(m10);
        occam_model_free(&m);
    }
}

/* occam_noise_layer_moments' values against naive loops in double (the local reparameterisation
 * test pins them only to Monte Carlo's 2%): mean = x·μᵀ and sd = sqrt(x²·σ²ᵀ + 1e-12), for the
 * small-product loop's shapes with odd sizes and a product past it (nin = 300 > 256: BLIS), a
 * row of zeros (sd is the floor's 1e-6, finite for dL/dvar = dL/dZ·ε/(2·sd)) and zero variances;
 * each within the float sums' error, (nin + 4)·2⁻²³ of Σ|terms| (of sd: relative). The layer's
 * sample is z = mean + sd·ε with those moments and the ε it returns, the normals of the same
 * stream. */
Test(noisy, layer_moments_match_naive_loops_in_double)
{
    static const int shapes[][3] = {{1, 1, 1}, {3, 5, 7}, {5, 17, 33}, {4, 300, 9}};
    occam_rng r = occam_rng_seed(31, 7);
    for (size_t c = 0; c < sizeof shapes / sizeof *shapes; c++) {
        int m = shapes[c][0], nin = shapes[c][1], nout = shapes[c][2];
        size_t xn = (size_t)m * nin, wn = (size_t)nout * nin, zn = (size_t)m * nout;
        float *x = malloc(xn * sizeof(float)), *mu = malloc(wn * sizeof(float));
        float *var = malloc(wn * sizeof(float)), *sq = malloc(xn * sizeof(float));
        float *mean = malloc(zn * sizeof(float)), *sd = malloc(zn * sizeof(float));
        float *z = malloc(zn * sizeof(float)), *sd2 = malloc(zn * sizeof(float));
        float *eps = malloc(zn * sizeof(float)), *ref = malloc(zn * sizeof(float));
        for (size_t i = 0; i < xn; i++) /* the last row all zero when there are several */
            x[i] = m > 1 && i >= xn - (size_t)nin ? 0.0f : (float)occam_rng_normal(&r);
        for (size_t i = 0; i < wn; i++) {
            mu[i] = (float)(0.5 * occam_rng_normal(&r));
            var[i] = i % 3 == 1 ? 0.0f : (float)(0.1 * occam_rng_uniform(&r));
        }
        occam_noise_layer_moments(mean, sd, sq, x, mu, var, m, nin, nout);
        for (int i = 0; i < m; i++)
            for (int o = 0; o < nout; o++) {
                double a = 0, mag = 0, v = 0;
                for (int u = 0; u < nin; u++) {
                    double xu = x[(size_t)i * nin + u], t = xu * mu[(size_t)o * nin + u];
                    a += t, mag += fabs(t), v += xu * xu * var[(size_t)o * nin + u];
                }
                double want = sqrt(v + 1e-12), got = sd[(size_t)i * nout + o];
                double gm = mean[(size_t)i * nout + o];
                cr_assert(fabs(gm - a) <= (nin + 4) * 0x1p-23 * mag,
                          "%d×%d×%d (%d, %d): mean %.9g, want %.9g", m, nin, nout, i, o, gm, a);
                cr_assert(fabs(got - want) <= (nin + 4) * 0x1p-23 * want,
                          "%d×%d×%d (%d, %d): sd %.9g, want %.9g", m, nin, nout, i, o, got, want);
                if (m > 1 && i == m - 1) cr_assert(fabs(got - 1e-6) <= 1e-12, "floor %g", got);
            }
        occam_rng nr = occam_rng_seed(2, (uint64_t)c), nr2 = nr;
        occam_noise_normals nz = {.r = &nr}, nz2 = {.r = &nr2};
        occam_noise_layer_forward(z, sd2, eps, sq, x, mu, var, m, nin, nout, &nz);
        occam_noise_draw(ref, &nz2, zn);
        cr_assert(memcmp(sd2, sd, zn * sizeof(float)) == 0);
        cr_assert(memcmp(eps, ref, zn * sizeof(float)) == 0);
        for (size_t i = 0; i < zn; i++) {
            float want = mean[i] + sd[i] * eps[i];
            cr_assert(z[i] == want, "%d×%d×%d, %zu: z %.9g, want %.9g", m, nin, nout, i, z[i],
                      want);
        }
        free(x), free(mu), free(var), free(sq), free(mean), free(sd), free(z), free(sd2);
        free(eps), free(ref);
    }
}

/* A noisy regression net of the n widths w and activation act (noisy_model's seed), its
 * parameters moved by N(0, 0.25) draws from r: the γ tests' nets. */
static void gamma_net(occam_model *m, const int *w, int n, occam_act act, uint64_t seed,
                      occam_rng *r)
{
    occam_config cfg;
    occam_config_defaults(&cfg);
    memcpy(cfg.model.layers, w, (size_t)n * sizeof *w);
    cfg.model.nlayers = n;
    cfg.noise.enabled = true;
    cfg.data.task = OCCAM_TASK_REGRESS;
    cfg.model.activation = act;
    noisy_model(m, &cfg, seed);
    for (size_t i = 0; i < m->lay.nparams; i++) m->params[i] += (float)(0.5 * occam_rng_normal(r));
}

/* γ of a net with two hidden layers (the Jacobian's back-propagation through a hidden-to-hidden
 * layer, and the sigmoid's derivative: the tests above have one hidden layer, ReLU or tanh) and
 * two outputs, against tr(H (H + βP)⁻¹) in weight space as above (J by central differences of a
 * double forward pass, P three per-layer precisions): 9 rows (18 row-outputs: the exact trace
 * over the rows) and 200 (400: over the 43 weights), to 1e-4 at three noise levels. */
Test(noisy, gamma_of_a_two_hidden_layer_sigmoid_net_matches_the_weight_space_trace)
{
    enum { D = 3, K = 2, P = 3 * 5 + 5 * 4 + 4 * 2 };
    const int w[] = {D, 5, 4, K};
    for (int pass = 0; pass < 2; pass++) {
        int N = pass ? 200 : 9;
        occam_model m;
        occam_rng r = occam_rng_seed(6, (uint64_t)pass);
        gamma_net(&m, w, 4, OCCAM_ACT_SIGMOID, 17, &r);
        occam_dataset ds = {.n = (size_t)N, .d = D, .targets = K};
        ds.x = malloc(sizeof(float) * N * D);
        for (int i = 0; i < N * D; i++) ds.x[i] = (float)occam_rng_normal(&r);
        const double sdl[3] = {0.7, 1.3, 0.9};
        occam_prior prior[3] = {occam_prior_gauss(0, sdl[0]), occam_prior_gauss(0, sdl[1]),
                                occam_prior_gauss(0, sdl[2])};
        double beta = 0.6, sy2 = 0.3, table[NOISY_GAMMA_N];
        noisy_dof *g = noisy_dof_create(&m, (size_t)N);
        cr_assert(g);
        noisy_dof_table(table, g, &m, prior, &ds, beta, sy2, NOISY_GAMMA_N, NOISY_GAMMA_STEP, 1);
        double *J = calloc((size_t)N * K * P, sizeof(double)), x[D], up[K], dn[K];
        int layer_of[P];
        for (int p = 0, l = 0, q0 = 0; p < P; p++) {
            while (p - q0 >= w[l] * w[l + 1]) q0 += w[l] * w[l + 1], l++;
            layer_of[p] = l;
            size_t q = m.lay.w_off[l] + (size_t)(p - q0);
            float keep = m.params[q];
            double h = 1e-5 * fmax(1.0, fabs(keep));
            for (int i = 0; i < N; i++) {
                for (int u = 0; u < D; u++) x[u] = ds.x[i * D + u];
                double step = central_pair(&m, q, keep, h, x, up, dn);
                for (int k = 0; k < K; k++) J[((size_t)i * K + k) * P + p] = (up[k] - dn[k]) / step;
            }
            m.params[q] = keep;
        }
        for (int c = -8; c <= 8; c += 8) {
            double s2 = sy2 * exp(2.0 * NOISY_GAMMA_STEP * c);
            double *A = malloc(sizeof(double) * P * P), *H = malloc(sizeof(double) * P * P);
            double *inv = malloc(sizeof(double) * P * P), gam = 0.0;
            for (int a = 0; a < P; a++)
                for (int b = 0; b < P; b++) {
                    double s = 0.0;
                    for (int rk = 0; rk < N * K; rk++)
                        s += J[(size_t)rk * P + a] * J[(size_t)rk * P + b];
                    H[a * P + b] = A[a * P + b] = s / s2;
                }
            for (int a = 0; a < P; a++) A[a * P + a] += beta / pow(sdl[layer_of[a]], 2);
            spd_inverse(A, P, inv);
            for (int a = 0; a < P; a++)
                for (int b = 0; b < P; b++) gam += H[a * P + b] * inv[b * P + a];
            double got = table[NOISY_GAMMA_N / 2 + c];
            cr_assert(fabs(got - gam) <= 1e-4 * fmax(1.0, gam),
                      "%d rows, point %d: γ %.10g, weight-space trace %.10g", N, c, got, gam);
            cr_assert(gam > 1.0, "%d rows, point %d: γ %g is too small to tell", N, c, gam);
            free(A), free(H), free(inv);
        }
        noisy_dof_free(g);
        free(J), free(ds.x);
        occam_model_free(&m);
    }
}

/* tr((I + tG)⁻¹) and, for the P columns of Z (n × P, column c at Z + c·n), Σ_c z_cᵀ(I + tG)⁻¹z_c,
 * by a Cholesky factor L of I + tG (n × n, row-major, positive definite): tr = ‖L⁻¹‖²_F. */
static void shifted_inverse_traces(const double *G, int n, double t, const double *Z, int P,
                                   double *tr, double *quad)
{
    double *L = calloc((size_t)n * n, sizeof(double)), *y = malloc(sizeof(double) * n);
    for (int j = 0; j < n; j++)
        for (int i = j; i < n; i++) {
            double s = t * G[(size_t)i * n + j] + (i == j);
            for (int k = 0; k < j; k++) s -= L[(size_t)i * n + k] * L[(size_t)j * n + k];
            L[(size_t)i * n + j] = i == j ? sqrt(s) : s / L[(size_t)j * n + j];
        }
    *tr = 0.0;
    for (int c = 0; c < n; c++) /* L y = e_c: y is zero above c */
        for (int i = c; i < n; i++) {
            double s = i == c;
            for (int k = c; k < i; k++) s -= L[(size_t)i * n + k] * y[k];
            y[i] = s / L[(size_t)i * n + i];
            *tr += y[i] * y[i];
        }
    *quad = 0.0;
    for (int c = 0; c < P; c++) /* ‖L⁻¹z‖² */
        for (int i = 0; i < n; i++) {
            double s = Z[(size_t)c * n + i];
            for (int k = 0; k < i; k++) s -= L[(size_t)i * n + k] * y[k];
            y[i] = s / L[(size_t)i * n + i];
            *quad += y[i] * y[i];
        }
    free(L), free(y);
}

/* The estimate over the rows' Gram with two outputs per row (gram_blas's row-output tiles with
 * K > 1, and its column chunks: 300 rows > GRAM_CHUNK; the estimate tests above have one
 * output): a tanh 20-40-2 net on 300 rows, 600 row-outputs ≤ 880 weights, G from the analytic
 * Jacobian in double (rows i·K + k, each layer's columns scaled by its prior's σ/√β).
 * - 300 distinct rows: against the exact M − tr((I + tG)⁻¹) within 3% (Hutchinson's error with
 *   4 probes, and Lanczos' where 64 steps do not resolve G's spectrum: 0.45% at the ends here);
 * - the rows 24 inputs repeated (G of rank ≤ 48: every probe's Krylov space closes, or its Gauss
 *   and Gauss–Radau rules meet, within the 64 steps): against the estimator itself computed
 *   exactly, M − (M/P)·Σ_c z_cᵀ(I + tG)⁻¹z_c with the probes dof.c draws (NOISY_DOF_SEED's
 *   stream 0, ±1/√M by each draw's top bit, probe after probe), to its quadrature's tolerance
 *   (NOISY_DOF_TOL per probe, of which the mean of the two rules keeps half); a Gram entry out
 *   of place moves it by far more.
 * The same bits on a team of 1, 2 and 3 threads. */
Test(noisy, gamma_estimated_over_two_outputs_matches_its_probes_and_the_exact_trace)
{
    enum { D = 20, H = 40, K = 2, N = 300, M = N * K, W = D * H + H * K, PR = NOISY_DOF_PROBES };
    for (int repeated = 0; repeated < 2; repeated++) {
        const int w[] = {D, H, K};
        occam_model m;
        occam_rng r = occam_rng_seed(9, 2);
        gamma_net(&m, w, 3, OCCAM_ACT_TANH, 29, &r);
        occam_dataset ds = {.n = N, .d = D, .targets = K};
        ds.x = malloc(sizeof(float) * N * D);
        for (int i = 0; i < N * D; i++) ds.x[i] = (float)occam_rng_normal(&r);
        for (int i = 24; repeated && i < N; i++) /* row i ≥ 24 is row 7i mod 24 */
            memcpy(ds.x + i * D, ds.x + (i * 7 % 24) * D, sizeof(float) * D);
        occam_prior prior[2] = {occam_prior_gauss(0, 0.4), occam_prior_gauss(0, 0.9)};
        double beta = 0.8, sy2 = 0.05, table[NOISY_GAMMA_N], again[NOISY_GAMMA_N];
        noisy_dof *g = noisy_dof_create(&m, N);
        cr_assert(g);
        noisy_dof_table(table, g, &m, prior, &ds, beta, sy2, NOISY_GAMMA_N, NOISY_GAMMA_STEP, 1);
        for (int nt = 2; nt <= 3; nt++) {
            noisy_dof_table(again, g, &m, prior, &ds, beta, sy2, NOISY_GAMMA_N, NOISY_GAMMA_STEP,
                            nt);
            cr_assert(memcmp(table, again, sizeof table) == 0, "%d threads: other bits", nt);
        }
        const float *W1 = m.params + m.lay.w_off[0], *b1 = m.params + m.lay.b_off[0];
        const float *W2 = m.params + m.lay.w_off[1];
        double *J = calloc((size_t)M * W, sizeof(double)), c0 = 0.4 / sqrt(beta);
        double c1 = 0.9 / sqrt(beta);
        for (int i = 0; i < N; i++)
            for (int j = 0; j < H; j++) {
                double z = b1[j];
                for (int u = 0; u < D; u++) z += (double)W1[j * D + u] * ds.x[i * D + u];
                double a = tanh(z);
                for (int k = 0; k < K; k++) {
                    double *row = J + ((size_t)i * K + k) * W; /* f_k = Σ_j W2[k][j]·a_j + b2[k] */
                    row[D * H + k * H + j] = c1 * a;
                    for (int u = 0; u < D; u++)
                        row[j * D + u] = c0 * W2[k * H + j] * (1.0 - a * a) * ds.x[i * D + u];
                }
            }
        double *G = malloc(sizeof(double) * M * M), *Z = malloc(sizeof(double) * M * PR);
        for (int a = 0; a < M; a++)
            for (int b = a; b < M; b++) {
                double s = 0.0;
                for (int k = 0; k < W; k++) s += J[(size_t)a * W + k] * J[(size_t)b * W + k];
                G[(size_t)a * M + b] = G[(size_t)b * M + a] = s / sy2;
            }
        occam_rng pr = occam_rng_seed(NOISY_DOF_SEED, 0);
        for (int i = 0; i < M * PR; i++) Z[i] = (occam_rng_next(&pr) >> 63 ? 1.0 : -1.0) / sqrt(M);
        for (int c = -16; c <= 16; c += 8) {
            double t = exp(-2.0 * NOISY_GAMMA_STEP * c), tr, quad;
            shifted_inverse_traces(G, M, t, Z, PR, &tr, &quad);
            double exact = M - tr, probes = M - (double)M * quad / PR;
            double got = table[NOISY_GAMMA_N / 2 + c];
            cr_log_info("rows %s, point %d: γ %.6f, its probes exactly %.6f, exact %.6f",
                        repeated ? "repeated" : "distinct", c, got, probes, exact);
            if (!repeated)
                cr_assert(fabs(got - exact) <= 0.03 * exact, "point %d: γ %.6f, exact %.6f", c,
                          got, exact);
            else
                cr_assert(fabs(got - probes) <= 0.5 * NOISY_DOF_TOL * M,
                          "point %d: γ %.6f, the same probes exactly %.6f", c, got, probes);
        }
        cr_assert(table[NOISY_GAMMA_N / 2] > (repeated ? 20.0 : 300.0), "γ %g is too small",
                  table[NOISY_GAMMA_N / 2]);
        free(J), free(G), free(Z), free(ds.x);
        noisy_dof_free(g);
        occam_model_free(&m);
    }
}

#include "occam/codes.h"

/* A mixture component of weight 0, which EM leaves where a component's responsibility vanished
 * ("a dead component stays dead"), and noisy_cache_init holds as ln π = −inf in float: every
 * code and gradient of the mixture is then the one without it, bit for bit (never NaN), the
 * dead component in the middle of the others and near the weights: the prior's cdf, density,
 * log density and bin mass, the responsibilities, the KL bound and its every gradient, the
 * Monte-Carlo KL from the same draws, the value bits, and the update's vectorised KL gradient
 * and curvature (an odd count, a partial last vector). Pinned and not. */
Test(noisy, a_mixture_component_of_weight_zero_changes_no_code_or_gradient)
{
    for (int pin = 0; pin < 2; pin++) {
        occam_prior p4 = {.k = 4, .pinned0 = pin, .pi = {0.5, 0.3, 0.0, 0.2},
                          .mu = {0.0, -0.6, 0.3, 0.8}, .sigma = {0.05, 0.2, 1e-3, 0.3}};
        occam_prior p3 = {.k = 3, .pinned0 = pin, .pi = {0.5, 0.3, 0.2}, .mu = {0.0, -0.6, 0.8},
                          .sigma = {0.05, 0.2, 0.3}};
        enum { NW = 37 };
        float mu[NW], sg[NW];
        for (int i = 0; i < NW; i++) {
            mu[i] = (float)(-1.5 + 3.0 * i / (NW - 1) + (i == 18 ? 0.3 : 0.0)); /* one at 0.3 */
            sg[i] = (float)(0.01 + 0.02 * (i % 7));
        }
        for (int i = 0; i < NW; i++) {
            double x = mu[i], a = occam_prior_cdf(&p4, x), b = occam_prior_cdf(&p3, x);
            cr_assert(a == b && occam_prior_pdf(&p4, x) == occam_prior_pdf(&p3, x), "x %g", x);
            cr_assert(occam_prior_log_pdf(&p4, x) == occam_prior_log_pdf(&p3, x), "x %g", x);
            cr_assert(occam_prior_bin_bits(&p4, x, x + 1e-3) ==
                      occam_prior_bin_bits(&p3, x, x + 1e-3));
            double r4[OCCAM_PRIOR_MAX], r3[OCCAM_PRIOR_MAX];
            int b4 = occam_noise_responsibilities(&p4, x, r4);
            int b3 = occam_noise_responsibilities(&p3, x, r3);
            cr_assert(b4 == (b3 < 2 ? b3 : b3 + 1) && r4[2] == 0.0, "x %g: %d, %d", x, b4, b3);
            noisy_kl_grad g4, g3;
            double k4 = noisy_kl(&p4, x, sg[i], &g4), k3 = noisy_kl(&p3, x, sg[i], &g3);
            cr_assert(k4 == k3 && g4.mu == g3.mu && g4.sigma == g3.sigma, "x %g: %.17g, %.17g", x,
                      k4, k3);
            for (int c = 0; c < 4; c++) {
                int o = c < 2 ? c : c - 1;
                bool same = c == 2 ? g4.m[c] == 0 && g4.log_s[c] == 0 && g4.logit[c] == 0
                                   : g4.m[c] == g3.m[o] && g4.log_s[c] == g3.log_s[o] &&
                                         g4.logit[c] == g3.logit[o];
                cr_assert(same, "x %g, component %d", x, c);
            }
            occam_rng ra = occam_rng_seed(4, (uint64_t)i), rb = ra;
            double ma = occam_codes_kl_mog_mc(x, sg[i], &p4, 9, &ra);
            double mb = occam_codes_kl_mog_mc(x, sg[i], &p3, 9, &rb);
            cr_assert(ma == mb && isfinite(ma), "x %g: %.17g, %.17g", x, ma, mb);
        }
        double va = occam_codes_value_bits(mu, NULL, NW, 1e-3, &p4, 1);
        cr_assert(va == occam_codes_value_bits(mu, NULL, NW, 1e-3, &p3, 1) && isfinite(va));
        noisy_cache c4, c3;
        noisy_cache_init(&c4, &p4, false);
        noisy_cache_init(&c3, &p3, false);
        float dm4[NW], ds4[NW], cp4[NW], dm3[NW], ds3[NW], cp3[NW];
        noisy_kl_grad_block(&c4, mu, sg, dm4, ds4, NULL, NW);
        noisy_kl_grad_block(&c3, mu, sg, dm3, ds3, NULL, NW);
        for (int i = 0; i < NW; i++)
            cr_assert(dm4[i] == dm3[i] && ds4[i] == ds3[i], "μ %g: ∂μ %g, %g; ∂σ %g, %g",
                      (double)mu[i], dm4[i], dm3[i], ds4[i], ds3[i]);
        noisy_kl_grad_block(&c4, mu, NULL, dm4, NULL, cp4, NW);
        noisy_kl_grad_block(&c3, mu, NULL, dm3, NULL, cp3, NW);
        for (int i = 0; i < NW; i++)
            cr_assert(dm4[i] == dm3[i] && cp4[i] == cp3[i], "μ %g: C_p %g, %g", (double)mu[i],
                      cp4[i], cp3[i]);
    }
}
