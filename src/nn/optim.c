/* SGD (momentum, Nesterov) and Adam, fused with the owner-slice gradient reduction; and the
 * learning-rate schedules. */
#include "occam/optim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* Elements per block: the summed gradient of a block stays in L1 between the reduction and the
 * update, and each inner loop is a plain vectorisable stream. */
#define BLOCK 512

void occam_optim_init(occam_optim *o, const occam_optim_params *p)
{
    o->kind = p->optimizer;
    o->lr = (float)p->lr;
    o->momentum = (float)p->momentum;
    o->nesterov = p->nesterov;
    o->beta1 = (float)p->beta1;
    o->beta2 = (float)p->beta2;
    o->eps = (float)p->eps;
    o->weight_decay = (float)p->weight_decay;
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
            for (size_t i = 0; i < n; i++) {
                float gi = g[i] + wd * wb[i];
                mb[i] = b1 * mb[i] + (1.0f - b1) * gi;
                vb[i] = b2 * vb[i] + (1.0f - b2) * gi * gi;
                /* lr·m̂/(sqrt(v̂)+ε) = (lr/bc1)·m / (sqrt(v)/bc2s + ε) = step·m·bc2s/(sqrt(v)+ε·bc2s) */
                wb[i] -= step * bc2s * mb[i] / (sqrtf(vb[i]) + eps);
            }
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

/* v as the config files spell it: the shortest of 15 to 17 significant digits that reads back
 * as v, so a message quotes the value as the user wrote it. */
static void spell_double(char *buf, size_t cap, double v)
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

int occam_optim_check(const occam_optim_params *p, occam_error *err)
{
    if (p->schedule == OCCAM_SCHED_COSINE && p->lr_min > p->lr) {
        char a[40], b[40];
        spell_double(a, sizeof a, p->lr_min);
        spell_double(b, sizeof b, p->lr);
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "train.lr_min: %s exceeds train.lr = %s (the cosine schedule "
                               "decays from lr to lr_min)",
                               a, b);
    }
    return OCCAM_OK;
}
