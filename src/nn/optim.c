/* SGD (momentum, Nesterov) and Adam, fused with the owner-slice gradient reduction; and the
 * learning-rate schedules. */
#include "occam/optim.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* Elements per block: the summed gradient of a block stays in L1 between the reduction and the
 * update, and each inner loop is a plain vectorisable stream. */
#define BLOCK 512

void occam_optim_init(occam_optim *o, const occam_optim_params *p)
{
    o->kind = p->optimizer;
    /* + 0.0f turns a -0 (train.weight_decay = -0, kept with its sign in the config) into 0,
     * so that it updates the weights bit for bit as 0 does (a gradient of -0 and w > 0: g +
     * -0·w stays -0, g + 0·w is +0), and so for the other coefficients that may be 0:
     * occam select shares the two points' run (occam_config_drop_inert) */
    o->lr = (float)p->lr;
    o->momentum = (float)p->momentum + 0.0f;
    o->nesterov = p->nesterov;
    o->beta1 = (float)p->beta1 + 0.0f;
    o->beta2 = (float)p->beta2 + 0.0f;
    o->eps = (float)p->eps;
    o->weight_decay = (float)p->weight_decay + 0.0f;
    o->t = 0;
}

static void sum_parts(float *restrict g, const float *const *parts, int nparts, size_t off,
                      size_t n)
{
    const float *restrict p0 = parts[0] + off;
    for (size_t i = 0; i < n; i++) g[i] = p0[i];
    for (int u = 1; u < nparts; u++) {
        const float *restrict pu = parts[u] + off;
        for (size_t i = 0; i < n; i++) g[i] += pu[i];
    }
}

/* Zeroes w, m (and v) where the mask is 0: one pass over a block still in L1. */
static void apply_mask(float *restrict w, float *restrict m, float *restrict v,
                       const uint8_t *restrict mk, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float keep = (float)mk[i];
        w[i] *= keep;
        m[i] *= keep;
    }
    if (v)
        for (size_t i = 0; i < n; i++) v[i] *= (float)mk[i];
}

/* Adam's second moment in float32 overflowed for gradients past about 1.8e19 (g² past
 * FLT_MAX; (1 - β2)·g·g past it at once beyond about 6e20): v became inf, and the step
 * m/sqrt(v) 0, the weight frozen, or NaN. Below these bounds b2·v + (1 - b2)·g·g cannot
 * overflow, whatever β2: an entry at them is left as it was by the float loop and stepped by
 * adam_wide, every other entry by the float loop, so ordinary numbers are unchanged bit for
 * bit. (A NaN fails both comparisons: it stays in the float loop, and NaN, as before.) */
#define ADAM_WIDE_G 1e19f
#define ADAM_WIDE_V 1e38f

/* Adam's step in double for the entries i of a block with wide[i] set (g: the summed gradient,
 * without decay; w, m, v: as before the step). m and v are stored saturated at ±FLT_MAX, and
 * the step is taken with this step's v unsaturated. A v saturated by an earlier step is below
 * the true one, so v is also held at least at the bound m gives it (Cauchy-Schwarz on the two
 * moving averages: m² <= (1-β1)²/(1-β2) · Σ_{j<t} (β1²/β2)^j · v, which every true v meets):
 * a step is then at most a small factor of lr (about 7.3 for the default betas, 1 at the first
 * step) instead of m/sqrt(FLT_MAX). */
static void adam_wide(const occam_optim *o, float *restrict w, float *restrict m,
                      float *restrict v, const float *restrict g, const unsigned char *wide,
                      size_t n, float wd, float step, float bc2s, float eps)
{
    const double b1 = o->beta1, b2 = o->beta2, c1 = 1.0f - o->beta1, c2 = 1.0f - o->beta2;
    const double t = (double)(o->t + 1), r = b1 * b1 / b2;
    const double sum = r == 1.0 ? t : (1.0 - pow(r, t)) / (1.0 - r);
    /* v >= floor_m2 · m²; no bound under β2 = 0 (v is this step's g² alone) */
    const double floor_m2 = b2 > 0 && sum < INFINITY ? c2 / (c1 * c1 * sum) : 0;
    for (size_t i = 0; i < n; i++) {
        if (!wide[i]) continue;
        const double gi = g[i] + wd * w[i]; /* as the float loop's gi, which it is */
        double md = b1 * m[i] + c1 * gi;
        double vd = b2 * v[i] + c2 * gi * gi;
        /* saturated by comparisons, which pass a NaN on: fmin and fmax return their other
         * argument for a NaN, and a NaN gradient on a saturated entry stored m = +FLT_MAX */
        m[i] = (float)(md > FLT_MAX ? FLT_MAX : md < -FLT_MAX ? -FLT_MAX : md);
        v[i] = (float)(vd > FLT_MAX ? FLT_MAX : vd);
        if (floor_m2 * md * md > vd) vd = floor_m2 * md * md;
        w[i] -= (float)((double)step * bc2s * md / (sqrt(vd) + eps));
    }
}

void occam_optim_update(const occam_optim *o, float *restrict w, float *restrict m,
                        float *restrict v, const float *const *parts, int nparts, size_t off,
                        size_t len, bool decay, const uint8_t *restrict mask)
{
    float g[BLOCK];
    const float wd = decay ? o->weight_decay : 0.0f, lr = o->lr;
    /* Adam's bias corrections, folded into one step size and one epsilon. */
    const double t1 = (double)(o->t + 1);
    const float bc1 = (float)(1.0 - pow(o->beta1, t1));
    const float bc2s = (float)sqrt(1.0 - pow(o->beta2, t1));
    for (size_t b = 0; b < len; b += BLOCK) {
        size_t n = len - b < BLOCK ? len - b : BLOCK;
        size_t o0 = off + b;
        sum_parts(g, parts, nparts, o0, n);
        float *restrict wb = w + o0, *restrict mb = m + o0;
        if (o->kind == OCCAM_OPT_SGD) {
            const float mu = o->momentum;
            if (o->nesterov) {
                for (size_t i = 0; i < n; i++) {
                    float gi = g[i] + wd * wb[i];
                    mb[i] = mu * mb[i] + gi;
                    wb[i] -= lr * (gi + mu * mb[i]);
                }
            } else {
                for (size_t i = 0; i < n; i++) {
                    float gi = g[i] + wd * wb[i];
                    mb[i] = mu * mb[i] + gi;
                    wb[i] -= lr * mb[i];
                }
            }
        } else {
            float *restrict vb = v + o0;
            const float b1 = o->beta1, b2 = o->beta2;
            const float step = lr / bc1, eps = o->eps * bc2s;
            unsigned char wide[BLOCK];
            int any = 0;
            for (size_t i = 0; i < n; i++) {
                float gi = g[i] + wd * wb[i];
                float mi = b1 * mb[i] + (1.0f - b1) * gi;
                float vi = b2 * vb[i] + (1.0f - b2) * gi * gi;
                /* lr·m̂/(sqrt(v̂)+ε) = (lr/bc1)·m / (sqrt(v)/bc2s + ε) = step·m·bc2s/(sqrt(v)+ε·bc2s) */
                float wn = wb[i] - step * bc2s * mi / (sqrtf(vi) + eps);
                /* an entry at the bounds keeps its w, m and v for adam_wide */
                int wi = (fabsf(gi) >= ADAM_WIDE_G) | (vb[i] >= ADAM_WIDE_V);
                mb[i] = wi ? mb[i] : mi;
                vb[i] = wi ? vb[i] : vi;
                wb[i] = wi ? wb[i] : wn;
                wide[i] = (unsigned char)wi;
                any |= wi;
            }
            if (any) adam_wide(o, wb, mb, vb, g, wide, n, wd, step, bc2s, eps);
        }
        if (mask) apply_mask(wb, mb, o->kind == OCCAM_OPT_ADAM ? v + o0 : NULL, mask + o0, n);
    }
}

double occam_optim_lr_at(const occam_optim_params *p, int64_t step, int64_t total,
                         int64_t steps_per_epoch)
{
    double lr = p->lr;
    switch (p->schedule) {
    case OCCAM_SCHED_CONSTANT: return lr;
    case OCCAM_SCHED_STEP: {
        int64_t epoch = step / (steps_per_epoch > 0 ? steps_per_epoch : 1);
        return lr * pow(p->gamma, (double)(epoch / p->step_epochs));
    }
    case OCCAM_SCHED_COSINE: {
        /* Per-step cosine from lr at step 0 to lr_min after the last step. */
        double frac = total > 0 ? (double)step / (double)total : 0.0;
        double lo = p->lr_min;
        return lo + (lr - lo) * 0.5 * (1.0 + cos(3.14159265358979323846 * frac));
    }
    }
    return lr;
}

/* The optimiser steps in float32 (occam_optim_init narrows its doubles), so a bound must hold
 * after rounding: β1 = 0.99999999999 is 1.0f, which made Adam's bias correction 1 − β1^t
 * zero and its first step NaN ("try a smaller train.lr"); β2 the same through 1 − β2^t; an
 * ε that vanishes in float32 (1e-300) divided 0 by 0 wherever a gradient and its moments
 * were 0 (a dead unit), giving NaN weights. The name of the first such key, else NULL; *v is
 * its value and *why what rounding does to it. */
static const char *float_bound(const occam_optim_params *p, double *v, const char **why)
{
    *why = "rounds to 0 in float32, the precision the optimiser steps in: no step would move "
           "a weight; use a larger value";
    if (!((float)p->lr > 0.0f)) return *v = p->lr, "train.lr";
    *why = "rounds to 1 in float32, the precision the optimiser steps in (SGD's velocity "
           "would never decay); use at most 0.99999994";
    if (p->optimizer == OCCAM_OPT_SGD && !((float)p->momentum < 1.0f))
        return *v = p->momentum, "train.momentum";
    if (p->optimizer != OCCAM_OPT_ADAM) return NULL;
    *why = "rounds to 1 in float32, the precision the optimiser steps in (Adam's bias "
           "correction 1 - beta^t would be 0 and its steps NaN); use at most 0.99999994";
    if (!((float)p->beta1 < 1.0f)) return *v = p->beta1, "train.beta1";
    if (!((float)p->beta2 < 1.0f)) return *v = p->beta2, "train.beta2";
    /* ε is folded with the smallest bias correction, sqrt(1 − β2) at the first step, as
     * occam_optim_update does */
    *why = "vanishes in float32, the precision the optimiser steps in (Adam would divide 0 by "
           "0 wherever a gradient is 0, and the weight would be NaN); use at least 1e-30";
    float bc2s = (float)sqrt(1.0 - (double)(float)p->beta2);
    if (!((float)p->eps * bc2s > 0.0f)) return *v = p->eps, "train.eps";
    return NULL;
}

int occam_optim_check(const occam_optim_params *p, occam_error *err)
{
    double v;
    const char *why, *key = float_bound(p, &v, &why);
    if (key) {
        char a[40];
        occam_error_spell_double(a, sizeof a, v);
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s = %s %s", key, a, why);
    }
    if (p->schedule == OCCAM_SCHED_COSINE && p->lr_min > p->lr) {
        char a[40], b[40];
        occam_error_spell_double(a, sizeof a, p->lr_min);
        occam_error_spell_double(b, sizeof b, p->lr);
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "train.lr_min: %s exceeds train.lr = %s (the cosine schedule "
                               "decays from lr to lr_min)",
                               a, b);
    }
    return OCCAM_OK;
}
