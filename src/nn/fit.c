/* The epoch loop around the training step. */
#include "occam/fit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "occam/rng.h"

/* Stream of train.seed used for the epoch shuffles (initialisation uses others). */
#define SHUFFLE_STREAM 0x5348554646ull

double occam_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void occam_fit_result_free(occam_fit_result *res)
{
    if (!res) return;
    free(res->history);
    memset(res, 0, sizeof *res);
}

int occam_fit(occam_trainer *tr, const occam_config *cfg, const occam_dataset *train,
              const occam_dataset *test, occam_fit_result *res, occam_progress_fn progress,
              void *user, occam_error *err)
{
    memset(res, 0, sizeof *res);
    const int epochs = cfg->train.epochs;
    const size_t n = train->n, batch = (size_t)cfg->train.batch;
    const int64_t steps_per_epoch = (int64_t)((n + batch - 1) / batch);
    const int64_t total = steps_per_epoch * epochs;
    uint32_t *perm = malloc(n * sizeof *perm);
    res->history = calloc((size_t)epochs, sizeof *res->history);
    if (!perm || !res->history) {
        free(perm);
        occam_fit_result_free(res);
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory for %zu row indices", n);
    }
    for (size_t i = 0; i < n; i++) perm[i] = (uint32_t)i;
    occam_rng rng = occam_rng_seed(cfg->train.seed, SHUFFLE_STREAM);
    occam_optim *opt = occam_trainer_optim(tr);
    int status = OCCAM_OK;
    double samples = 0.0;

    for (int e = 0; e < epochs && status == OCCAM_OK; e++) {
        occam_rng_shuffle_u32(&rng, perm, n);
        double t0 = occam_now(), loss_sum = 0.0;
        int64_t correct = 0;
        size_t seen = 0;
        for (int64_t s = 0; s < steps_per_epoch; s++) {
            size_t lo = (size_t)s * batch, m = n - lo < batch ? n - lo : batch;
            opt->lr = (float)occam_lr_at(cfg, res->steps, total, steps_per_epoch);
            double step_loss = 0.0;
            occam_trainer_step(tr, train, perm + lo, m, &step_loss, &correct);
            res->steps++;
            if (!isfinite(step_loss)) {
                status = occam_error_set(err, OCCAM_ERR_RUNTIME,
                                         "training diverged: the loss became %s at epoch %d, "
                                         "step %lld (learning rate %g); try a smaller train.lr",
                                         isnan(step_loss) ? "NaN" : "infinite", e + 1,
                                         (long long)s + 1, (double)opt->lr);
                break;
            }
            loss_sum += step_loss;
            seen += m;
            if (progress) {
                double dt = occam_now() - t0, sps = dt > 0 ? (double)seen / dt : 0.0;
                double left = (double)(total - res->steps) * (double)batch;
                occam_progress p = {.epoch = e + 1, .epochs = epochs, .step = s + 1,
                                    .steps_per_epoch = steps_per_epoch,
                                    .loss = loss_sum / (double)seen, .samples_per_second = sps,
                                    .eta_seconds = sps > 0 ? left / sps : 0.0};
                progress(user, &p);
            }
        }
        if (status != OCCAM_OK) break;
        double dt = occam_now() - t0;
        occam_epoch_stats *st = &res->history[e];
        st->epoch = e + 1;
        st->lr = opt->lr;
        st->train_loss = loss_sum / (double)n;
        st->train_accuracy = (double)correct / (double)n;
        st->seconds = dt;
        st->samples_per_second = dt > 0 ? (double)n / dt : 0.0;
        if (test && test->n) occam_trainer_eval(tr, test, &st->test);
        res->epochs = e + 1;
        res->train_seconds += dt;
        samples += (double)n;
        if (progress) {
            occam_progress p = {.epoch = e + 1, .epochs = epochs, .step = steps_per_epoch,
                                .steps_per_epoch = steps_per_epoch, .loss = st->train_loss,
                                .samples_per_second = st->samples_per_second,
                                .eta_seconds = (epochs - e - 1) * dt,
                                .end_of_epoch = true, .stats = st};
            progress(user, &p);
        }
    }
    res->samples_per_second = res->train_seconds > 0 ? samples / res->train_seconds : 0.0;
    free(perm);
    return status;
}
