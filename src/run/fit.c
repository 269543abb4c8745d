/* The epoch loop around the training step: phases of epochs, each with the learning-rate
 * schedule restarted, sharing one shuffling stream and one history. */
#include "occam/fit.h"

#include "occam/clock.h"
#include "occam/comm.h"

#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* Stream of train.seed used for the epoch shuffles (initialisation uses others). */
#define SHUFFLE_STREAM 0x5348554646ull

static volatile sig_atomic_t stop_signal;

void occam_fit_request_stop(int sig) { stop_signal = sig > 0 ? sig : 1; }
int occam_fit_stop_requested(void) { return (int)stop_signal; }
void occam_fit_clear_stop(void) { stop_signal = 0; }

int occam_fit_stop_agreed(const occam_comm *c)
{
    if (!c || c->size <= 1) return (int)stop_signal;
    /* mpirun forwards a signal to every rank, but not at the same instant: all stop at the
     * first step boundary where any has it, with the same signal. The agreement is not
     * written into stop_signal: that records this rank's own signals, and the handler takes
     * a second one as "stop at once" (cli/session.c), which the signal still on its way to
     * this rank is not. */
    return occam_comm_max_int(c, (int)stop_signal);
}

void occam_fit_result_free(occam_fit_result *res)
{
    if (!res) return;
    free(res->history);
    free(res->perm);
    memset(res, 0, sizeof *res);
}

/* A run's name, unique in practice: from the kernel's random source, or else the clock and the
 * process id. It names the run's checkpoints, not anything it computes. */
static void new_run_id(char out[17])
{
    uint64_t v = 0;
    if (getrandom(&v, sizeof v, GRND_NONBLOCK) != (ssize_t)sizeof v) {
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        v = ((uint64_t)t.tv_sec * 1000000007u) ^ (uint64_t)t.tv_nsec ^
            ((uint64_t)getpid() << 40);
    }
    snprintf(out, 17, "%016llx", (unsigned long long)v);
}

int occam_fit_begin(occam_fit_result *res, const occam_config *cfg, size_t n, int capacity,
                    occam_error *err)
{
    memset(res, 0, sizeof *res);
    res->perm = malloc((n ? n : 1) * sizeof *res->perm);
    if (!res->perm)
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory for %zu row indices", n);
    for (size_t i = 0; i < n; i++) res->perm[i] = (uint32_t)i;
    res->nrows = n;
    res->capacity = capacity;
    res->rng = occam_rng_seed(cfg->train.seed, SHUFFLE_STREAM);
    new_run_id(res->run_id);
    return OCCAM_OK;
}

int64_t occam_fit_steps_per_epoch(const occam_config *cfg, size_t nrows)
{
    size_t batch = (size_t)cfg->train.batch;
    return (int64_t)((nrows + batch - 1) / batch);
}

int occam_fit_history_reserve(occam_fit_result *res, int epochs, occam_error *err)
{
    if (epochs <= res->history_cap) return OCCAM_OK;
    /* doubling, from 64 epochs, never past the planned ones (unless asked for more) */
    int cap = res->history_cap ? res->history_cap : 64;
    while (cap < epochs) cap = cap > INT_MAX / 2 ? INT_MAX : 2 * cap;
    if (cap > res->capacity) cap = res->capacity > epochs ? res->capacity : epochs;
    occam_epoch_stats *h = realloc(res->history, (size_t)cap * sizeof *h);
    if (!h)
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory for the history of %d "
                               "epochs (%zu bytes)", epochs, (size_t)cap * sizeof *h);
    memset(h + res->history_cap, 0, (size_t)(cap - res->history_cap) * sizeof *h);
    res->history = h;
    res->history_cap = cap;
    return OCCAM_OK;
}

/* The loss of the steps is in the units trained in; the history and the progress reports
 * carry it in the targets' original units (loss_scale: occam_dataset_loss_scale, 1 for
 * classification and unscaled targets), so every figure a user sees is in those units. */
static void report_step(const occam_fit_hooks *h, const occam_fit_result *res, int epoch,
                        int64_t s, int64_t spe, double loss, size_t seen, double t0, size_t batch)
{
    double dt = occam_clock_now() - t0, sps = dt > 0 ? (double)seen / dt : 0.0;
    double left = ((double)(res->capacity - epoch) * (double)spe + (double)(spe - s - 1)) *
                  (double)batch;
    occam_progress p = {.epoch = epoch + 1, .epochs = res->capacity, .step = s + 1,
                        .steps_per_epoch = spe, .loss = loss / (double)seen,
                        .samples_per_second = sps, .eta_seconds = sps > 0 ? left / sps : 0.0};
    h->progress(h->user, &p);
}

/* A parameter that is NaN or infinite while the loss stays finite: a ReLU (max(x, 0)) outputs
 * 0 for a NaN input, so once a unit's weights are NaN the units it feeds are dead and the
 * loss goes on, finite (Adam at lr 3 with beta2 = 0 left 400 of 900 weights NaN at a loss of
 * 0.78). train then exited 0 and saved a model that eval, mdl and predict refuse. Checked at
 * every epoch's end, before its evaluation and checkpoint: OCCAM_ERR_RUNTIME naming the
 * layer, like the loss's divergence. */
static int check_finite(const occam_model *m, int epoch, const char *advice, occam_error *err)
{
    char when[32];
    snprintf(when, sizeof when, "in epoch %d", epoch + 1);
    return occam_model_check_finite(m, "became", when, advice, err);
}

/* What to change after a divergence. A learning rate is the usual cause, but inputs of 1e30
 * under data.normalize = none diverge at lr 1e-30 too, and were told to lower it. */
#define FIT_RAW_LARGE 1e3

static const char *diverge_advice(const occam_config *cfg, const occam_dataset *train, char *buf,
                                  size_t cap)
{
    float mx = 0.0f, my = 0.0f;
    for (size_t k = 0; k < train->n * train->d; k++) mx = fmaxf(mx, fabsf(train->x[k]));
    bool raw_y = train->y && cfg->data.task == OCCAM_TASK_REGRESS && !cfg->data.normalize_targets;
    for (size_t k = 0; raw_y && k < train->n * (size_t)train->targets; k++)
        my = fmaxf(my, fabsf(train->y[k]));
    if (cfg->data.normalize == OCCAM_NORM_NONE && mx > FIT_RAW_LARGE)
        snprintf(buf, cap, "the inputs reach %.3g under data.normalize = none: set "
                 "data.normalize = standardize, or try a smaller train.lr", (double)mx);
    else if (raw_y && my > FIT_RAW_LARGE)
        snprintf(buf, cap, "the targets reach %.3g under data.normalize_targets = false: set it "
                 "to true, or try a smaller train.lr", (double)my);
    else if (!cfg->noise.enabled && cfg->train.optim.optimizer == OCCAM_OPT_SGD &&
             cfg->train.optim.lr * cfg->train.optim.weight_decay >=
                 2.0 * (1.0 + cfg->train.optim.momentum))
        /* SGD's decay alone, through the momentum, diverges past lr·decay = 2(1 + momentum) */
        snprintf(buf, cap, "try a smaller train.lr or train.weight_decay: at lr x decay = %g, "
                 "past 2(1 + train.momentum) = %g, the decay alone diverges under SGD",
                 cfg->train.optim.lr * cfg->train.optim.weight_decay,
                 2.0 * (1.0 + cfg->train.optim.momentum));
    else
        snprintf(buf, cap, "try a smaller train.lr");
    return buf;
}

/* A loss that explodes but stays finite: SGD at lr 3 on a small regression set took the mean
 * squared error from 1 to 1e24 in 5 epochs, and then to 1e53 and 1e70 at larger rates, and train
 * exited 0, saved the model and printed a 70-digit relative error. The yardstick is the loss of
 * the simplest guess, the same for any seed, batch or resume: outputs of 0 (a regression's
 * mean Σ y² in the units it trains in: with standardised targets, predicting the mean) or a
 * uniform guess over the classes (ln K); an epoch whose mean loss is a million times that, or
 * 1e4 where the guess is free (targets all 0), has diverged. A first step's loss was the
 * yardstick once, and a first batch of targets near 0 stopped healthy runs. */
#define FIT_LOSS_GROWTH 1e6
#define FIT_LOSS_FLOOR 1e-2

static double guess_loss(const occam_dataset *train)
{
    if (!train->y) return log((double)(train->classes > 1 ? train->classes : 2));
    double s = 0.0;
    size_t k = (size_t)train->targets;
    for (size_t i = 0; i < train->n * k; i++) s += (double)train->y[i] * train->y[i];
    return train->n ? s / (double)train->n : 0.0;
}

static int check_growth(double loss, double loss_scale, int epoch, float lr,
                        const occam_config *cfg, const occam_dataset *train, occam_error *err)
{
    if (isfinite(loss) && loss <= FIT_LOSS_GROWTH * FIT_LOSS_FLOOR) return OCCAM_OK; /* fast */
    double guess = guess_loss(train);
    if (!(loss > FIT_LOSS_GROWTH * fmax(guess, FIT_LOSS_FLOOR))) return OCCAM_OK;
    char advice[200];
    return occam_error_set(err, OCCAM_ERR_RUNTIME,
                           "training diverged: the mean training loss grew to %.4g in epoch %d "
                           "(learning rate %g), over a million times %.4g, the loss of %s; %s",
                           loss * loss_scale, epoch + 1, (double)lr, guess * loss_scale,
                           !train->y       ? "a uniform guess over the classes"
                           : train->y_shift ? "predicting the training mean"
                                            : "outputs of 0",
                           diverge_advice(cfg, train, advice, sizeof advice));
}

int occam_fit_epochs(occam_trainer *tr, const occam_config *cfg, const occam_dataset *train,
                     const occam_dataset *test, int epochs, occam_fit_result *res,
                     const occam_fit_hooks *hooks, occam_error *err)
{
    static const occam_fit_hooks none = {0};
    const occam_fit_hooks *h = hooks ? hooks : &none;
    const size_t n = train->n, batch = (size_t)cfg->train.batch;
    const double loss_scale = occam_dataset_loss_scale(train);
    const int64_t spe = occam_fit_steps_per_epoch(cfg, n), total = spe * epochs;
    const occam_optim_params *op = &cfg->train.optim;
    occam_optim *opt = occam_trainer_optim(tr);
    occam_fit_pos *pos = &res->pos;
    if (!res->resuming) {
        int phase = pos->phase;
        *pos = (occam_fit_pos){.phase = phase};
    }
    OCCAM_ASSERT(n == res->nrows && res->epochs + epochs - pos->phase_epochs <= res->capacity);

    for (int e = pos->phase_epochs; e < epochs; e++) {
        int epoch = res->epochs; /* 0-based over the run */
        /* its history entry, before the epoch's work: a plan of 10^8 epochs allocated 8.8 GB
         * for them at the start, and a machine without it refused to begin */
        int hrc = occam_fit_history_reserve(res, epoch + 1, err);
        /* every rank stops, or none: one alone would leave the others in the step's
         * collectives */
        if (occam_comm_max_int(occam_trainer_comm(tr), hrc != OCCAM_OK))
            return hrc != OCCAM_OK ? hrc
                                   : occam_error_set(err, OCCAM_ERR_RUNTIME, "another rank ran "
                                                     "out of memory for the epoch history");
        /* the epoch's time counts its start (with noisy weights the priors' refit and σ, and
         * for regression the γ table: up to 0.3 s a table, which the reported time and rate
         * left out) */
        double tb = occam_clock_now();
        bool fresh = !(res->resuming && pos->epoch_step > 0);
        if (fresh) {
            occam_trainer_begin_epoch(tr, epoch, train);
            occam_rng_shuffle_u32(&res->rng, res->perm, n);
            *pos = (occam_fit_pos){.phase = pos->phase, .phase_epochs = e,
                                   .phase_step = pos->phase_step};
        }
        res->resuming = false;
        double t0 = (fresh ? tb : occam_clock_now()) - pos->epoch_seconds;
        for (int64_t s = pos->epoch_step; s < spe; s++) {
            size_t lo = (size_t)s * batch, m = n - lo < batch ? n - lo : batch;
            opt->lr = (float)occam_optim_lr_at(op, pos->phase_step, total, spe);
            double step_loss = 0.0;
            occam_trainer_step(tr, train, res->perm + lo, m, &step_loss, &pos->correct);
            res->steps++;
            pos->phase_step++;
            if (!isfinite(step_loss)) {
                char advice[200];
                return occam_error_set(err, OCCAM_ERR_RUNTIME,
                                       "training diverged: the loss became %s at epoch %d, "
                                       "step %lld (learning rate %g); %s",
                                       isnan(step_loss) ? "NaN" : "infinite", epoch + 1,
                                       (long long)s + 1, (double)opt->lr,
                                       diverge_advice(cfg, train, advice, sizeof advice));
            }
            pos->loss_sum += step_loss;
            pos->seen += m;
            pos->epoch_step = s + 1;
            pos->epoch_seconds = occam_clock_now() - t0;
            if (h->after_step) {
                int rc = h->after_step(h->ctx, res->steps, err);
                if (rc != OCCAM_OK) return rc;
            }
            if (h->progress)
                report_step(h, res, epoch, s, spe, pos->loss_sum * loss_scale, pos->seen, t0,
                            batch);
            int stop = occam_fit_stop_agreed(occam_trainer_comm(tr));
            if (stop && s + 1 < spe)
                return occam_error_set(err, OCCAM_STOPPED + stop,
                                       "stopped by signal %d at epoch %d, step %lld", stop,
                                       epoch + 1, (long long)s + 1);
        }
        double dt = occam_clock_now() - t0;
        char advice[200];
        int frc = check_finite(occam_trainer_model(tr), epoch, NULL, err);
        if (frc != OCCAM_OK) /* again, with the advice: that reads every training value */
            frc = check_finite(occam_trainer_model(tr), epoch,
                               diverge_advice(cfg, train, advice, sizeof advice), err);
        if (frc == OCCAM_OK)
            frc = check_growth(pos->loss_sum / (double)n, loss_scale, epoch, opt->lr, cfg, train,
                               err);
        if (frc != OCCAM_OK) return frc;
        occam_epoch_stats *st = &res->history[epoch];
        st->epoch = epoch + 1;
        st->lr = opt->lr;
        st->train_loss = pos->loss_sum / (double)n * loss_scale;
        st->train_accuracy = (double)pos->correct / (double)n;
        st->seconds = dt;
        st->samples_per_second = dt > 0 ? (double)n / dt : 0.0;
        if (test && test->n) occam_trainer_eval(tr, test, &st->test);
        /* A step's loss is taken before its update, so the last update of an epoch can make
         * the outputs overflow unseen (SGD at lr 30: a step loss of 1.5e6, then 'train loss
         * -nan', exit 0, the model saved). The epoch's test evaluation shows it; the training
         * set, evaluated only then, tells divergence from test rows the model cannot take
         * (values of 3e38 under data.normalize = none), which are left to the commands. */
        if (test && test->n && !isfinite(st->test.loss)) {
            occam_eval te;
            occam_trainer_eval(tr, train, &te);
            if (!isfinite(te.loss))
                return occam_error_set(err, OCCAM_ERR_RUNTIME,
                                       "training diverged: the model's outputs overflow "
                                       "float32 after epoch %d (its training loss is %s, the "
                                       "last step's was finite); %s",
                                       epoch + 1, isnan(te.loss) ? "NaN" : "infinite",
                                       diverge_advice(cfg, train, advice, sizeof advice));
        }
        res->epochs = epoch + 1;
        res->train_seconds += dt;
        res->samples_per_second =
            res->train_seconds > 0 ? (double)n * res->epochs / res->train_seconds : 0.0;
        *pos = (occam_fit_pos){.phase = pos->phase, .phase_epochs = e + 1,
                               .phase_step = pos->phase_step};
        if (h->progress) {
            occam_progress p = {.epoch = epoch + 1, .epochs = res->capacity, .step = spe,
                                .steps_per_epoch = spe, .loss = st->train_loss,
                                .samples_per_second = st->samples_per_second,
                                .eta_seconds = (res->capacity - epoch - 1) * dt,
                                .end_of_epoch = true, .stats = st};
            h->progress(h->user, &p);
        }
        if (h->after_epoch) {
            int rc = h->after_epoch(h->ctx, epoch + 1, err);
            if (rc != OCCAM_OK) return rc;
        }
        int stop = occam_fit_stop_agreed(occam_trainer_comm(tr));
        if (stop && e + 1 < epochs)
            return occam_error_set(err, OCCAM_STOPPED + stop,
                                   "stopped by signal %d after epoch %d", stop, epoch + 1);
    }
    res->resuming = false;
    return OCCAM_OK;
}

int occam_fit(occam_trainer *tr, const occam_config *cfg, const occam_dataset *train,
              const occam_dataset *test, occam_fit_result *res, occam_progress_fn progress,
              void *user, occam_error *err)
{
    int rc = occam_fit_begin(res, cfg, train->n, cfg->train.epochs, err);
    if (rc != OCCAM_OK) return rc;
    occam_fit_hooks h = {.progress = progress, .user = user};
    return occam_fit_epochs(tr, cfg, train, test, cfg->train.epochs, res, &h, err);
}
