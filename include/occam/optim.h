/* occam/optim.h — optimisers and learning-rate schedules.
 *
 * The update is fused with the gradient reduction: a thread that owns a slice of the flat
 * parameter array sums every thread's partial gradient for that slice, in thread order (so the
 * result is reproducible), adds L2 decay and applies the optimiser, all in one pass over the
 * slice. Nothing else touches that slice during the update, so no locks are needed. */
#ifndef OCCAM_OPTIM_H
#define OCCAM_OPTIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "occam/error.h"

typedef enum { OCCAM_OPT_SGD, OCCAM_OPT_ADAM } occam_opt;
typedef enum { OCCAM_SCHED_CONSTANT, OCCAM_SCHED_STEP, OCCAM_SCHED_COSINE } occam_sched;

/* The optimiser's and the learning-rate schedule's keys of the [train] section. */
typedef struct occam_optim_params {
    occam_opt optimizer;      /* train.optimizer = sgd | adam */
    double lr;                /* train.lr */
    double momentum;          /* train.momentum (sgd) */
    bool nesterov;            /* train.nesterov (sgd) */
    double beta1, beta2, eps; /* train.beta1, train.beta2, train.eps (adam) */
    double weight_decay;      /* train.weight_decay: L2, added to the gradient */
    occam_sched schedule;     /* train.schedule = constant | step | cosine */
    int step_epochs;          /* train.step_epochs: step schedule period */
    double gamma;             /* train.gamma: step schedule factor */
    double lr_min;            /* train.lr_min: cosine floor */
} occam_optim_params;

typedef struct occam_optim {
    occam_opt kind;
    float lr;          /* this step's learning rate (set from the schedule) */
    float momentum;    /* sgd */
    bool nesterov;     /* sgd */
    float beta1, beta2, eps; /* adam */
    float weight_decay;      /* L2 coefficient, applied to weights (not biases) */
    int64_t t;         /* updates done so far; adam's bias correction uses t + 1 */
} occam_optim;

void occam_optim_init(occam_optim *o, const occam_optim_params *p);

/* One fused reduce + update over [off, off + len) of the flat arrays:
 *   g = Σ_u parts[u][i] (u = 0..nparts-1, in order) + decay·w[i]
 *   sgd:  m = μm + g;  w -= lr·(nesterov ? g + μm : m)
 *   adam: m = β1 m + (1-β1) g;  v = β2 v + (1-β2) g²;  w -= lr·m̂ / (sqrt(v̂) + ε)
 * `decay` selects whether weight decay applies to this segment. v is unused by sgd.
 * mask (flat, may be NULL): where it is 0, w, m and v are set to 0 after the update, so a
 * pruned weight, its gradient and its optimiser state stay zero. */
void occam_optim_update(const occam_optim *o, float *restrict w, float *restrict m,
                        float *restrict v, const float *const *parts, int nparts, size_t off,
                        size_t len, bool decay, const uint8_t *restrict mask);

/* Learning rate at global step `step` of `total` steps (`steps_per_epoch` per epoch). */
double occam_optim_lr_at(const occam_optim_params *p, int64_t step, int64_t total,
                         int64_t steps_per_epoch);

/* The checks that span keys: the cosine schedule's train.lr_min is at most train.lr, and the
 * used optimiser's keys keep their bounds in float32, the precision it steps in (train.lr > 0,
 * momentum, beta1, beta2 < 1, eps not vanishing). Messages name the key. */
int occam_optim_check(const occam_optim_params *p, occam_error *err);

#endif
