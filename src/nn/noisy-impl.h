/* noisy-impl.h — private to src/nn: the prior of noisy weights and its KL gradients, and the
 * trainer's noisy-weight state with the stages of its step (forward, backward, update). */
#ifndef OCCAM_NOISY_IMPL_H
#define OCCAM_NOISY_IMPL_H

#include <math.h>

#include "dof.h"
#include "occam/prior.h"
#include "occam/model.h"
#include "occam/noisy.h"
#include "occam/optim.h"
#include "occam/rng.h"

static inline double noisy_softplus(double r) { return r > 20 ? r : log1p(exp(r)); }
static inline double noisy_sigmoid(double r) { return 1.0 / (1.0 + exp(-r)); }
static inline double noisy_softplus_inv(double s) { return s > 20 ? s : log(expm1(s)); }
/* The update's weights per block (the stack arrays of noisy_update and noisy_kl_grad_block). */
enum { NOISY_BLOCK = 512 };

/* How a layer's KL gradient is computed: a single Gaussian in closed form, a mixture through
 * its responsibilities, the sparse prior through log α (noisy_kl_grad_block). */
typedef enum { NOISY_KL_GAUSS, NOISY_KL_MIXTURE, NOISY_KL_SPARSE } noisy_kl_kind;

/* The table of γ against the noise level (see noisy_level_step): 33 points, ln σ_y ± 2. */
#define NOISY_GAMMA_N 33
#define NOISY_GAMMA_STEP 0.125

/* A prior's per-component constants, computed once per refit so that the per-weight KL
 * gradient costs one exp per component: log π_c − log s_c, 1/s_c², m_c. */
typedef struct noisy_cache {
    noisy_kl_kind kind;
    int k;
    float lw[OCCAM_PRIOR_MAX], inv_s2[OCCAM_PRIOR_MAX], mu[OCCAM_PRIOR_MAX];
} noisy_cache;

/* The constants of p, kind NOISY_KL_GAUSS (k = 1) or NOISY_KL_MIXTURE; with sparse, kind
 * NOISY_KL_SPARSE (which reads none of them). */
void noisy_cache_init(noisy_cache *c, const occam_prior *p, bool sparse);

/* The per-weight KL the trainer minimises, for q = N(μ, σ²) and the layer's prior p = Σ π_c
 * N(m_c, s_c²): the variational (Jensen) upper bound, for responsibilities ρ (Σ ρ_c = 1),
 *
 *   U(μ, σ; ρ, p) = −H(q) + Σ_c ρ_c E_q[−ln(π_c N(w; m_c, s_c²)/ρ_c)]
 *                 = −ln σ − 1/2 + Σ_c ρ_c (−ln π_c + ln s_c + ((μ − m_c)² + σ²)/(2 s_c²) + ln ρ_c)
 *                 ≥ KL(q‖p),
 *
 * exact for a single Gaussian. The trainer takes ρ_c = r_c(μ), the components' responsibilities
 * for the mean, and holds them fixed while it steps μ, σ (and, with noise.prior_update =
 * gradient, the prior): an E-step, then exact gradients of U. U is then within O(σ⁴) of the KL
 * when σ is small against the widths. (The ρ that minimise U weight r_c(μ) by e^{−σ²/(2 s_c²)};
 * they leave every weight whose σ exceeds the zero component's width outside it, so nothing is
 * pulled to zero: on configs/hinton93.ini relative error 0.99 instead of 0.18.) */
typedef struct noisy_kl_grad {
    double mu, sigma;                 /* ∂K/∂μ, ∂K/∂σ */
    double m[OCCAM_PRIOR_MAX];        /* ∂K/∂m_c (0 for the pinned zero component) */
    double log_s[OCCAM_PRIOR_MAX];    /* ∂K/∂ln s_c */
    double logit[OCCAM_PRIOR_MAX];    /* ∂K/∂η_c, π = softmax(η) over the free components, the
                                         pinned component's π fixed (0 for it) */
} noisy_kl_grad;

/* U(μ, σ; ρ, p); with g, also its gradient at fixed ρ in μ, σ and every prior parameter. */
double noisy_kl_bound(const occam_prior *p, double mu, double sigma, const double *rho,
                      noisy_kl_grad *g);

/* U at ρ = r(μ), and its gradient (at fixed ρ) if g: what the trainer minimises. */
double noisy_kl(const occam_prior *p, double mu, double sigma, noisy_kl_grad *g);

/* dmu[i] = ∂K/∂μ and dsigma[i] = ∂K/∂σ at (mu[i], sigma[i]), i < n ≤ NOISY_BLOCK, from the
 * cache in single precision: the hot path of the update, vectorised (vmath). By kind:
 *   gauss:   (μ − m)/s², −1/σ + σ/s²;
 *   mixture: the same with the responsibilities r_c(μ) of noisy_kl, Σ r_c (μ − m_c)/s_c² and
 *            −1/σ + σ Σ r_c/s_c² (Σ r_c = 1);
 *   sparse:  occam_noise_sparse_kl's dK/d log α at log α = ln σ² − ln(μ² + 10⁻³⁰), times
 *            ∂ log α/∂μ = −2μ/(μ² + 10⁻³⁰) and ∂ log α/∂σ = 2/σ.
 * sigma and dsigma may be NULL (the Gaussian and the mixture only): ∂K/∂μ alone, which does
 * not depend on σ there. With cp (the Gaussian and the mixture only), also the prior's
 * curvature cp[i] = C_p(μ_i) = Σ_c r_c/s_c² (1/s² for a Gaussian).
 *
 * SGD steps μ semi-implicitly in the prior: the gradient g + κ∇K is divided by
 * 1 + lr·κ·C_p(μ). Without momentum that is the step μ⁺ = μ − lr·(g + κC_p·(μ⁺ − m)) with the
 * KL's pull taken at the new point (backward Euler in the prior's quadratic, responsibilities
 * held); with momentum the buffer accumulates the divided gradients. Either way the
 * stationary points are those of g + κ∇K (the divisor is ≥ 1), and the prior's share of the
 * curvature the step sees stays below 1/lr, inside heavy-ball's bound 2(1 + momentum)/lr,
 * however narrow a component is. C_p is Σ_c r_c/s_c² (the same as the σ fixed point's): the
 * curvature at fixed responsibilities, always positive, where the exact Hessian of −ln p can
 * be negative between components. Explicit steps diverged with the mixture at lr 0.01 on
 * fair, boston and randhie splits of perf/realdata_table.py: zero components about 0.01 wide
 * with κ up to 0.1 while the noise level was high (lr·κ/s₀² ≈ 10). Adam's steps are bounded
 * by lr and stay explicit. */
void noisy_kl_grad_block(const noisy_cache *c, const float *mu, const float *sigma, float *dmu,
                         float *dsigma, float *cp, size_t n);

/* ---- the trainer's noisy weights (noise.enabled) ----------------------------------------- */

/* What the trainer keeps for noisy weights besides the model's μ (params) and ρ (rho). The
 * whole-batch arrays are split by rows among the threads like the trainer's own. */
typedef struct noisy_state {
    float *sigma;                  /* lay.nparams: σ = softplus(ρ) of every weight, 0 for biases */
    float *dsigma;                 /* lay.nparams: dσ/dρ = sigmoid(ρ), the same way */
    float *var;                    /* lay.nparams: σ² of every active weight, 0 elsewhere */
    float *eps[OCCAM_MAX_LAYERS];  /* rows × width[l+1]: the noise sample, then dL/dZvar */
    float *sd[OCCAM_MAX_LAYERS];   /* rows × width[l+1]: sqrt of the pre-activation variance,
                                      then (curvature pass) dZ² */
    float *sq;                     /* rows × sqw: squared inputs, then dV·σ² */
    size_t sqw;                    /* row stride of sq: the widest layer, the same for every
                                      layer, so that threads' row blocks never overlap */
    float *mom1r, *mom2r;          /* gradient-trained σ (var_grad): optimiser moments of ρ
                                      (mom2r: adam only). Otherwise mom1r is the curvature: an
                                      average of the squared per-row gradients (see below) */
    occam_rng *rng;                /* [threads] noise streams */
    int threads;
    occam_prior prior[OCCAM_MAX_LAYERS];
    noisy_cache cache[OCCAM_MAX_LAYERS]; /* the priors' constants for the update */
    double kappa;                  /* β·kl_scale·c / N: the KL's weight per training row, in
                                      the trainer's loss units (c: see noisy_loss_unit) */
    double beta;                   /* this epoch's β·kl_scale */
    bool var_grad;                 /* the backward's second half is ∂L/∂σ² (the ρ gradient)
                                      instead of the squared per-row gradients */
    int batch;                     /* rows of the step in flight */
    bool sample;                   /* the forward pass samples the weights (noise.data_term) */
    bool sparse;                   /* noise.prior = sparse: log-uniform prior, σ by gradient */
    size_t masked;                 /* sparse: weights the last epoch start masked */
    bool regress;                  /* the model regresses: the noise level below is learned */
    size_t rows;                   /* N, the training rows of this epoch */
    double gamma[NOISY_GAMMA_N];   /* Σ_i γ_i, γ_i = (h_i/cκ)/(C_p + h_i/cκ) ∈ [0, 1]: how many
                                      weights the data determine, tabled at ln σ_y = gamma_at
                                      + NOISY_GAMMA_STEP·(k − NOISY_GAMMA_N/2) (set with σ
                                      each epoch; see noisy_level_step) */
    double gamma_at;               /* ln σ_y where the table is centred */
    bool borrow_table;             /* another rank's γ table replaces this one's each epoch (the
                                      trainer broadcasts rank 0's): it is not made here */
    double terms[OCCAM_NOISE_TERMS]; /* β, N, gamma_at and the γ table as the last epoch start
                                      set them: what noisy_level_step reads, in the order the
                                      checkpoint keeps; noisy_sync takes them back */
    noisy_dof *dof;                /* regression with a Gaussian prior, expanded: scratch for
                                      γ from the Gauss–Newton matrix (see dof.h); else NULL */
    float level[3];                /* regression: ln σ_y, the data noise level in the
                                      standardised target units, and its optimiser moments */
} noisy_state;

/* The state for m, batch buffers of `rows` rows, `train_rows` training rows (0: unknown; they
 * size the Gauss–Newton scratch, dof.h) and `threads` noise streams (streams
 * stream0 .. stream0 + threads - 1 of noise.seed: a rank's threads take their places among the
 * world's): ρ (if m has none: softplus⁻¹(noise.init_sigma)), σ², the priors' first fit. NULL
 * when memory runs out. */
noisy_state *noisy_state_create(occam_model *m, const occam_noise_params *np, bool adam,
                                size_t rows, size_t train_rows, int threads, int stream0);
void noisy_state_free(noisy_state *s);

/* How σ is trained (noise.prior = gaussian or mog).
 *
 * The objective per training row, in the trainer's loss units, is L + κ·KL(q‖p) with
 * κ = β·c/N: L is the row's loss (cross-entropy in nats; squared error for regression, which is
 * c = 2σ_y² times the nats r²/(2σ_y²) of the data code with noise level σ_y, learned below).
 * Stepping ρ down its reparameterised gradient, as Hinton & van Camp did, barely moves σ on
 * small data: with N = 100 and SGD at lr 0.001, κ·∂KL/∂ρ ≈ σ·κ/σ is ~0.01 per step, so σ
 * stayed at its initial 0.01 for all 300 epochs, the KL acted as a weight decay of strength
 * 1/s², the learned prior width s followed the shrinking means down, and the network
 * collapsed to the mean (relative error 1.0 on diabetes).
 *
 * Instead σ is set where ∂/∂σ² of the objective vanishes. With Price's theorem the data term's
 * derivative is half its curvature, approximated by the squared per-row gradients (the
 * empirical Fisher, Gauss–Newton for a converged fit) h_i = mean_r (∂L_r/∂μ_i)², so
 *   σ_i² = 1 / (C_p(μ_i) + h_i/(c·κ)),  C_p(μ) = Σ_c r_c(μ)/s_c² (1/s² for a Gaussian):
 * the posterior precision is the prior's plus the data's, the variational Gauss–Newton fixed
 * point (Khan et al. 2018, VOGN). h is a running average over steps (decay NOISY_CURV_DECAY,
 * bias-corrected), kept in mom1r and checkpointed with it; σ is re-set once per epoch, with the
 * prior's refit, from the new κ (so it grows with β in the warm-up), and stored as ρ: σ²
 * derives from ρ as on every restore, so a resumed run is bit-identical. The priors' EM then
 * sees each weight's uncertainty, and the learned s² = mean(μ² + σ²) is MacKay's evidence
 * update, which does not collapse: weights the data does not need keep σ ≈ s. */
#define NOISY_CURV_DECAY 0.99
#define NOISY_SIGMA_MIN 1e-6
/* The lowest ρ training keeps, wherever σ is not set by the fixed point above: at the start
 * (the config keeps noise.init_sigma >= 1e-37 above it; the floor also covers a state built
 * without the config's checks) and under the sampled gradient (noise.data_term = sample, the
 * sparse prior), whose steps are not bounded (lr 0.1 on unscaled targets took ρ to −5431).
 * softplus(−87) ≈ 1.6e-38 is still a normal float32; below about −88 σ is denormal or 0,
 * which the bits-back code asserted against (sigma_q > 0: train lost the model) and which the
 * model loader refuses as a damaged file (every command then refused what train saved). No
 * trained σ comes near it: the floor changes nothing else. */
#define NOISY_RHO_MIN (-87.0f)

/* c: the trainer's loss units per nat of data code, 2σ_y² for regression, 1 for classes. */
double noisy_loss_unit(const noisy_state *s);

/* β and κ for `epoch` of `rows` training rows after `steps` optimiser steps; after the first
 * epoch the priors' refit, then (after any step) σ from the curvature as above, and for
 * regression, when due, the γ table (dof.h) on a team of `threads` (the same bits for any). */
void noisy_begin_epoch(noisy_state *s, occam_model *m, const occam_noise_params *np, int epoch,
                       const occam_dataset *train, int64_t steps, int threads);

/* The learned regression noise level: one optimiser step on ln σ_y (one σ_y for every target
 * column: the targets are standardised) down the derivative of the data code's nats per target
 * value, 1 − (sse/values)/σ_y², sse the step's squared residuals of the noisy forward pass
 * over `values` targets. No-op for classification. */
void noisy_level_step(noisy_state *s, const occam_optim *opt, double sse, size_t values);
/* β, N, the γ table and its centre from s->terms (a checkpoint's, or rank 0's broadcast). */
void noisy_terms_load(noisy_state *s);
/* The priors' constants, σ, dσ/dρ and σ², from the priors and ρ (after a restore), as the
 * update and the σ fixed point compute them, and the noise level's terms from s->terms: a run
 * resumed inside an epoch continues with the very bits. */
void noisy_sync(noisy_state *s, const occam_model *m);
/* σ² = 0 where the mask is 0 (σ stays softplus(ρ)). */
void noisy_apply_mask(noisy_state *s, const occam_model *m);

/* noise.rebalance. A ReLU unit computes the same function when its in-weights and bias are
 * multiplied by c > 0 and its out-weights divided by c, and so does a noisy one with σ scaled
 * alike; only the prior cost moves. Under one Gaussian width s that cost is
 * (c²·a + b/c²)/(2s²) for the unit's squared in- and out-norms a and b (the bias, coded under
 * a prior too, counted with the in-weights), least at c⁴ = b/a, where the two are equal.
 * SGD does not find that point: the data term is flat along the rescaling, so only the prior's
 * pull moves a unit there, at rate lr/(N s²) (at lr 0.001 the width was still falling at
 * epoch 1000), and at lr 0.01 per-layer widths drifted along it instead (noise.prior_scope). This moves every hidden unit toward its balance, by at most a
 * factor NOISY_REBALANCE_MAX an epoch: a step of ×2 an epoch let SGD at lr 0.01 fall into the
 * collapse to the mean on some splits. The optimisers' moments are carried with their
 * parameters (both first moments hold gradients: ÷ c on the in-side; Adam's second ÷ c²).
 * σ and the curvature average behind it are left as they are, and the epoch's σ fixed point
 * re-derives σ (the Gaussian's σ always comes from it): the weights the data leave free keep
 * σ ≈ s whatever their unit's scale, and a curvature average rescaled with the units
 * compounded whenever SGD pulled a unit back out of balance between epochs (at lr 0.01 the
 * nets then collapsed to the mean on three sets). Call before noisy_begin_epoch. */
#define NOISY_REBALANCE_MAX 1.1
void noisy_rebalance(occam_model *m, float *mom1, float *mom2);

/* The step's stages on thread t's batch rows [lo, lo + m); act and dz are the trainer's
 * whole-batch arrays per layer (rows × width[l+1]).
 *
 * Forward: act[l] rows as occam_noise_forward from x (m, width[0]), the noise from thread t's
 * stream; sd and ε kept in s for the backward pass. */
void noisy_forward(float *const *act, noisy_state *s, const float *x, const occam_model *mdl,
                   int t, size_t lo, int m);

/* Backward through one noisy layer for m rows, after its forward:
 *   dmu (nout, nin) = dZᵀ·X,   db (nout) = Σ_rows dZ,
 *   eps (m, nout) <- dV = dZ ⊙ ε / (2·sd)  (ε is consumed),
 *   dvar (nout, nin) = dVᵀ·X²  (var_grad), or the squared per-row gradients
 *   dvar (nout, nin) = (dZ²)ᵀ·X² = Σ_rows (dZ_r,o·X_r,i)²  (!var_grad; sd is overwritten by dZ²),
 *   dx (m, nin) = dZ·μ + 2X ⊙ (dV·σ²) = dL/dX, unless dx is NULL (the input layer's);
 * dz, sd (m, nout), x (m, nin), mu, var (nout, nin); sq (m, nin) is scratch. */
void noisy_layer_backward(float *dmu, float *db, float *dvar, float *dx, float *eps, float *sq,
                          const float *dz, const float *x, float *sd, const float *mu,
                          const float *var, int m, int nin, int nout, bool var_grad);

/* Backward: into part (2 · lay.nparams, [dμ and db | dσ² or Σ squared row gradients, as
 * s->var_grad says]) this thread's gradient, every
 * layer from the top (act's derivative applied to dL/dX, into dz of the layer below); with
 * m = 0 the gradient is zero. x is the batch's input array (rows × width[0]). */
void noisy_backward(float *part, float *const *dz, noisy_state *s, float *const *act,
                    const float *x, const occam_model *mdl, size_t lo, int m);

/* The update of the noisy weights in [off, off + len) (one layer's weights), fused with the
 * reduction of the threads' parts (2 · lay.nparams each), NOISY_BLOCK weights at a time:
 *   g_μ = Σ dμ + κ·∂KL/∂μ, then opt on μ (m->params, moments mom1, mom2);
 *   var_grad: g_ρ = (Σ dσ²·2σ + κ·∂KL/∂σ)·sigmoid(ρ), σ and sigmoid(ρ) from s (the last
 *   update's softplus of this ρ); opt on ρ (s's moments); then σ, sigmoid and σ² of the new ρ
 *   for the next forward pass and update: one softplus per weight and step;
 *   otherwise: the curvature h ← d·h + (1 − d)·B·Σ parts (B = s->batch, so B·Σ is the mean
 *   squared row gradient: each row's dZ carries 1/B), σ untouched until the next epoch. */
void noisy_update(occam_model *m, float *mom1, float *mom2, noisy_state *s,
                  const occam_optim *opt, const float *const *parts, int nparts, size_t off,
                  size_t len);

/* noise.data_term = expansion: after the deterministic backward pass at the means, the
 * squared per-row gradients into part2 (lay.nparams, indexed like the weights): per layer
 * (dZ²)ᵀ·X² over rows [lo, lo + m), dz and act the trainer's whole-batch arrays; zero when
 * m = 0. s's sq and sd are its scratch. */
void noisy_curvature(float *part2, float *const *dz, noisy_state *s, float *const *act,
                     const float *x, const occam_model *mdl, size_t lo, int m);

/* The ρ gradient of weights [off, off + len) without an update: g[i] (indexed like rho) =
 * Σ_u parts[u][np + i] · 2σ · sigmoid(ρ_i), summed in double in thread order. */
void noisy_rho_grad(float *g, const float *const *parts, const float *rho, int nparts,
                    size_t np, size_t off, size_t len);

#endif
