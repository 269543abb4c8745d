/* The full training state in a safetensors file (see include/occam/trainstate.h). */
#include "occam/trainstate.h"

#include <dirent.h>
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "occam/checkpoint.h"
#include "occam/fsutil.h"
#include "occam/gemm.h"
#include "occam/occfile.h"
#include "occam/outfile.h"
#include "occam/prior.h"
#include "occam/safetensors.h"
#include "occam/version.h"


/* run.i64 and run.f64: the counters, by position. */
enum {
    I_EPOCHS, I_STEPS, I_OPT_T, I_PHASE, I_PHASE_EPOCHS, I_PHASE_STEP, I_EPOCH_STEP, I_CORRECT,
    I_SEEN, I_THREADS, I_NROWS, I_EVENTS, I_BEST, I_DENSE_WEIGHTS, I_DENSE_HIDDEN, I_N
};
enum { F_LOSS_SUM, F_EPOCH_SECONDS, F_KAPPA, F_TRAIN_SECONDS, F_BEST_TOTAL, F_DENSE_BITS, F_N };
enum { HIST_COLS = 11, EVENT_COLS = 13, PRIOR_COLS = 2 + 3 * OCCAM_PRIOR_MAX };

static void history_row(const occam_epoch_stats *s, double *r)
{
    double v[HIST_COLS] = {s->epoch, s->lr, s->train_loss, s->train_accuracy, (double)s->test.n,
                           s->test.loss, s->test.accuracy, s->test.mse, s->test.relative_error,
                           s->seconds, s->samples_per_second};
    memcpy(r, v, sizeof v);
}

static void history_read(occam_epoch_stats *s, const double *r)
{
    *s = (occam_epoch_stats){.epoch = (int)r[0], .lr = r[1], .train_loss = r[2],
                             .train_accuracy = r[3],
                             .test = {.n = (size_t)r[4], .loss = r[5], .accuracy = r[6],
                                      .mse = r[7], .relative_error = r[8]},
                             .seconds = r[9], .samples_per_second = r[10]};
}

/* The columns cols[0..n) of row r of a saved table hold whole counts in [0, max]. */
static int check_counts(const char *path, const char *name, const double *row, int64_t r,
                        const int *cols, int n, double max, occam_error *err)
{
    for (int i = 0; i < n; i++) {
        double x = row[cols[i]];
        if (!(x >= 0 && x <= max && x == floor(x)))
            return occam_error_set(err, OCCAM_ERR_INPUT, "%s: %s row %lld column %d is %g, not "
                                   "a count (file damaged)", path, name, (long long)r, cols[i], x);
    }
    return OCCAM_OK;
}

static void event_row(const occam_prune_event *e, double *r)
{
    double v[EVENT_COLS] = {e->step, e->epoch, (double)e->opt_step, e->target, e->sparsity,
                            (double)e->weights_active, e->hidden_units, e->select_seconds,
                            e->train_loss, e->test_metric, e->model_bits, e->data_bits,
                            e->total_bits};
    memcpy(r, v, sizeof v);
}

static void event_read(occam_prune_event *e, const double *r)
{
    *e = (occam_prune_event){.step = (int)r[0], .epoch = (int)r[1], .opt_step = (int64_t)r[2],
                             .target = r[3], .sparsity = r[4], .weights_active = (int64_t)r[5],
                             .hidden_units = (int)r[6], .select_seconds = r[7],
                             .train_loss = r[8], .test_metric = r[9], .model_bits = r[10],
                             .data_bits = r[11], .total_bits = r[12]};
}

static void prior_row(const occam_prior *p, double *r)
{
    memset(r, 0, PRIOR_COLS * sizeof *r);
    r[0] = p->k;
    r[1] = p->pinned0;
    for (int c = 0; c < p->k; c++) {
        r[2 + c] = p->pi[c];
        r[2 + OCCAM_PRIOR_MAX + c] = p->mu[c];
        r[2 + 2 * OCCAM_PRIOR_MAX + c] = p->sigma[c];
    }
}

/* The inverse of prior_row; false (q unspecified) if the row is not a valid mixture. */
#define PRIOR_SIGMA_LEAST 5.43e-20 /* 1/√FLT_MAX, rounded up */
static bool prior_read(occam_prior *q, const double *r)
{
    if (!(r[0] >= 1 && r[0] <= OCCAM_PRIOR_MAX && r[0] == floor(r[0]))) return false;
    memset(q, 0, sizeof *q);
    q->k = (int)r[0];
    q->pinned0 = r[1] != 0;
    bool ok = true;
    for (int c = 0; c < q->k; c++) {
        q->pi[c] = r[2 + c];
        q->mu[c] = r[2 + OCCAM_PRIOR_MAX + c];
        q->sigma[c] = r[2 + 2 * OCCAM_PRIOR_MAX + c];
        /* a width whose 1/σ² overflows the KL's float32 (no run that went on writes one) or
         * wider than any float32 weight: 1e-300 loaded, and the first steps' weights turned
         * NaN, the message blaming the learning rate */
        ok &= q->pi[c] >= 0 && q->pi[c] <= 1 && isfinite(q->mu[c]) &&
              q->sigma[c] >= PRIOR_SIGMA_LEAST && q->sigma[c] <= FLT_MAX;
    }
    return ok;
}

/* A value for a message: NaN as "nan" whatever its sign bit ("%g" may print "-nan"). */
static const char *num_text(double x, char *buf, size_t cap)
{
    if (isnan(x)) snprintf(buf, cap, "nan");
    else snprintf(buf, cap, "%g", x);
    return buf;
}

/* run.f64's entries hold what the writer puts there: the seconds and κ (the KL's weight per
 * row, β·kl_scale·c/N, written as 0 without noisy weights) are finite and >= 0; the epoch's
 * loss sum (a sum of finite step losses, of either sign) and the dense model's length (0
 * until scored) are finite; the shortest length so far is +inf until the mdl schedule has
 * scored a model (0 in other schedules), never NaN or -inf. Anything else is damage, and a run
 * going on from it diverges or chooses wrongly. */
static int check_run_f64(const char *path, const double *fv, occam_error *err)
{
    static const char *const what[F_N] = {
        [F_LOSS_SUM] = "the epoch's loss sum", [F_EPOCH_SECONDS] = "the epoch's seconds",
        [F_KAPPA] = "κ, the KL's weight", [F_TRAIN_SECONDS] = "the training seconds",
        [F_BEST_TOTAL] = "the shortest description length",
        [F_DENSE_BITS] = "the dense model's description length"};
    for (int i = 0; i < F_N; i++) {
        double x = fv[i];
        bool ok = i == F_BEST_TOTAL                       ? !isnan(x) && x != -INFINITY
                  : i == F_LOSS_SUM || i == F_DENSE_BITS ? isfinite(x)
                                                          : isfinite(x) && x >= 0;
        char t[32];
        if (!ok)
            return occam_error_set(err, OCCAM_ERR_INPUT, "%s: tensor 'run.f64' has %s at index "
                                   "%d (%s), a value no run writes (file damaged)", path,
                                   num_text(x, t, sizeof t), i, what[i]);
    }
    return OCCAM_OK;
}

/* Adam's second moments (optim.m2, optim.m2_rho) are means of squares: a negative one makes
 * the step's square root NaN; so is the σ fixed point's curvature average (optim.m1_rho when
 * σ is not trained by gradient). (-0.0 compares equal to 0 and is let through.) */
static int check_mean_of_squares(const occam_st_file *f, const char *name, const char *what,
                                 const float *v, int64_t n, occam_error *err)
{
    for (int64_t i = 0; v && i < n; i++)
        if (v[i] < 0)
            return occam_error_set(err, OCCAM_ERR_INPUT, "%s: tensor '%s' has a negative value "
                                   "(%g) at index %lld, but %s is a mean of squares (file "
                                   "damaged)", f->path, name, (double)v[i], (long long)i, what);
    return OCCAM_OK;
}

/* noise.level is {ln σ_y, its first moment, its second moment}: ln σ_y may be 0 (σ_y = 1, where
 * every run starts) or negative, but σ_y² = exp(2 ln σ_y), which the level's step divides the
 * float32 residuals' squares by, must be a positive normal float32; the second moment is
 * Adam's (a mean of squares, 0 under SGD) and >= 0. The values are already finite. */
static int check_noise_level(const char *path, const float *lvl, occam_error *err)
{
    const double lo = 0.5 * log(FLT_MIN), hi = 0.5 * log(FLT_MAX);
    if (!(lvl[0] >= lo && lvl[0] <= hi))
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: tensor 'noise.level' has %g at index "
                               "0 (ln σ_y, the regression noise level): σ_y² = %g is not a "
                               "normal float32 (ln σ_y must be in [%.1f, %.1f]; file damaged)",
                               path, (double)lvl[0], exp(2.0 * lvl[0]), lo, hi);
    if (lvl[2] < 0)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: tensor 'noise.level' has a negative "
                               "value (%g) at index 2, the noise level's second moment, a mean "
                               "of squares (file damaged)", path, (double)lvl[2]);
    return OCCAM_OK;
}

/* ---- save ----------------------------------------------------------------------------------- */

typedef struct tensor_list {
    occam_st_tensor t[OCCAM_CHECKPOINT_TENSORS_MAX + 24];
    char names[OCCAM_CHECKPOINT_TENSORS_MAX][32];
    int n;
} tensor_list;

static void add(tensor_list *l, const char *name, occam_st_dtype dt, int ndim, int64_t d0,
                int64_t d1, const void *data)
{
    OCCAM_ASSERT(l->n < (int)(sizeof l->t / sizeof l->t[0]));
    l->t[l->n++] = (occam_st_tensor){name, dt, ndim, {d0, d1}, data};
}

static char state_build[32]; /* occam_state_set_build's, or "" */

void occam_state_set_build(const char *id)
{
    snprintf(state_build, sizeof state_build, "%s", id ? id : "");
}

int occam_state_save(const char *path, const occam_train_view *v, occam_error *err)
{
    const occam_model *m = v->m;
    const occam_fit_result *res = v->res;
    const occam_prune_log *log = v->log;
    size_t n = m->lay.nparams;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(m->params[i]) || (m->rho && !isfinite(m->rho[i])))
            return occam_error_set(err, OCCAM_ERR_RUNTIME,
                                   "training diverged: a weight is %s after %d epochs and %lld "
                                   "steps; %s not written, the older checkpoints are kept",
                                   isnan(m->rho && !isfinite(m->rho[i]) ? m->rho[i] : m->params[i])
                                       ? "NaN" : "infinite",
                                   res->epochs, (long long)res->steps, path);
    occam_trainer_state ts;
    occam_trainer_state_view(v->tr, &ts);

    tensor_list *l = calloc(1, sizeof *l);
    int ne = res->epochs, nev = log->n, L = m->lay.nlayers;
    double *hist = malloc(sizeof(double) * HIST_COLS * (size_t)(ne ? ne : 1));
    double *evs = malloc(sizeof(double) * EVENT_COLS * (size_t)(nev ? nev : 1));
    double pri[OCCAM_MAX_LAYERS * PRIOR_COLS];
    char *json = malloc(OCCAM_CONFIG_JSON_MAX);
    if (!l || !hist || !evs || !json) {
        free(l), free(hist), free(evs), free(json);
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: out of memory", path);
    }
    if (occam_config_to_json(v->cfg, json, OCCAM_CONFIG_JSON_MAX) < 0) {
        free(l), free(hist), free(evs), free(json);
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: config too large for metadata", path);
    }
    l->n = occam_checkpoint_tensors(m, l->t, l->names);
    add(l, "optim.m1", OCCAM_ST_F32, 1, (int64_t)n, 0, ts.mom1);
    if (ts.mom2) add(l, "optim.m2", OCCAM_ST_F32, 1, (int64_t)n, 0, ts.mom2);
    if (ts.mom1_rho) add(l, "optim.m1_rho", OCCAM_ST_F32, 1, (int64_t)n, 0, ts.mom1_rho);
    if (ts.mom2_rho) add(l, "optim.m2_rho", OCCAM_ST_F32, 1, (int64_t)n, 0, ts.mom2_rho);
    if (ts.noise_rng) add(l, "noise.rng", OCCAM_ST_U64, 2, ts.threads, 4, ts.noise_rng);
    if (ts.noise_level) add(l, "noise.level", OCCAM_ST_F32, 1, 3, 0, ts.noise_level);
    if (ts.noise_terms)
        add(l, "noise.terms", OCCAM_ST_F64, 1, OCCAM_NOISE_TERMS, 0, ts.noise_terms);
    if (ts.prior) {
        for (int k = 0; k < L; k++) prior_row(&ts.prior[k], pri + k * PRIOR_COLS);
        add(l, "noise.priors", OCCAM_ST_F64, 2, L, PRIOR_COLS, pri);
    }
    add(l, "fit.perm", OCCAM_ST_U32, 1, (int64_t)res->nrows, 0, res->perm);
    add(l, "fit.rng", OCCAM_ST_U64, 1, 4, 0, res->rng.s);
    for (int e = 0; e < ne; e++) history_row(&res->history[e], hist + e * HIST_COLS);
    add(l, "fit.history", OCCAM_ST_F64, 2, ne, HIST_COLS, hist);
    const occam_fit_pos *p = &res->pos;
    int64_t iv[I_N] = {
        [I_EPOCHS] = res->epochs, [I_STEPS] = res->steps, [I_OPT_T] = *ts.opt_t,
        [I_PHASE] = p->phase, [I_PHASE_EPOCHS] = p->phase_epochs,
        [I_PHASE_STEP] = p->phase_step, [I_EPOCH_STEP] = p->epoch_step,
        [I_CORRECT] = p->correct, [I_SEEN] = (int64_t)p->seen, [I_THREADS] = ts.threads,
        [I_NROWS] = (int64_t)res->nrows, [I_EVENTS] = log->n, [I_BEST] = log->best,
        [I_DENSE_WEIGHTS] = log->dense_weights, [I_DENSE_HIDDEN] = log->dense_hidden};
    double fv[F_N] = {[F_LOSS_SUM] = p->loss_sum, [F_EPOCH_SECONDS] = p->epoch_seconds,
                      [F_KAPPA] = ts.kappa ? *ts.kappa : 0.0,
                      [F_TRAIN_SECONDS] = res->train_seconds,
                      [F_BEST_TOTAL] = v->best_total ? *v->best_total : 0.0,
                      [F_DENSE_BITS] = log->dense_total_bits};
    add(l, "run.i64", OCCAM_ST_I64, 1, I_N, 0, iv);
    add(l, "run.f64", OCCAM_ST_F64, 1, F_N, 0, fv);
    for (int e = 0; e < nev; e++) event_row(&log->ev[e], evs + e * EVENT_COLS);
    add(l, "prune.events", OCCAM_ST_F64, 2, nev, EVENT_COLS, evs);
    if (v->snapshot) add(l, "prune.snapshot", OCCAM_ST_F32, 1, (int64_t)n, 0, v->snapshot);
    if (v->best_params) {
        add(l, "prune.best_params", OCCAM_ST_F32, 1, (int64_t)n, 0, v->best_params);
        add(l, "prune.best_mask", OCCAM_ST_U8, 1, (int64_t)n, 0, v->best_mask);
    }
    char *groups = occam_trainer_grouping(v->tr);
    char *rank_threads = occam_trainer_rank_threads(v->tr);
    if (!groups || !rank_threads) {
        free(l), free(hist), free(evs), free(json), free(groups), free(rank_threads);
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory writing %s", path);
    }
    char widths[16 * OCCAM_MAX_LAYERS], nthreads[16], nranks[16], where[160];
    occam_checkpoint_widths(m, widths, sizeof widths);
    snprintf(nthreads, sizeof nthreads, "%d", ts.threads);
    snprintf(nranks, sizeof nranks, "%d", occam_trainer_ranks(v->tr));
    if (p->epoch_step)
        snprintf(where, sizeof where, "epoch %d, after step %lld of the epoch (%lld in all)",
                 res->epochs + 1, (long long)p->epoch_step, (long long)res->steps);
    else
        snprintf(where, sizeof where, "after epoch %d (%lld steps)", res->epochs,
                 (long long)res->steps);
    occam_st_meta meta[] = {{"format", OCCAM_STATE_FORMAT}, {"occam.version", OCCAM_VERSION},
                            {"occam.build", state_build},
                            {"occam.layers", widths},       {"occam.threads", nthreads},
                            {"occam.position", where},      {"occam.ranks", nranks},
                            {"occam.blis", occam_trainer_kernels(v->tr)},
                            {"occam.run", res->run_id},
                            {"occam.data", res->data_crc},
                            {"occam.train_rows", res->train_rows}, {"occam.nodes", groups},
                            {"occam.rank_threads", rank_threads},
                            {"occam.arith", occam_trainer_arith()}, {"config", json}};
    int rc = occam_st_write(path, l->t, l->n, meta, (int)(sizeof meta / sizeof meta[0]), err);
    free(l), free(hist), free(evs), free(json), free(groups), free(rank_threads);
    return rc;
}

/* ---- the checkpoint folder ------------------------------------------------------------------ */

typedef struct ckpt_file {
    long long steps;
    int epoch;
    char name[256];
} ckpt_file;

static int by_steps(const void *a, const void *b)
{
    const ckpt_file *x = a, *y = b;
    if (x->steps != y->steps) return x->steps < y->steps ? -1 : 1;
    return x->epoch < y->epoch ? -1 : x->epoch > y->epoch;
}

/* The decimal number at *s, digits only (no sign or blanks, which strtoll would take), if it is
 * at most max; *s moves past it. */
static bool parse_digits(const char **s, long long max, long long *out)
{
    if (**s < '0' || **s > '9') return false;
    char *end;
    errno = 0;
    long long v = strtoll(*s, &end, 10);
    if (errno == ERANGE || v > max) return false;
    *s = end;
    *out = v;
    return true;
}

/* s is a whole number in [0, max]. */
static bool parse_count(const char *s, long long max, int64_t *out)
{
    long long v;
    if (!parse_digits(&s, max, &v) || *s) return false;
    *out = v;
    return true;
}

/* Is name "ckpt-e<epoch>-s<steps>.safetensors", an epoch an int holds and steps a long long
 * does? Then *epoch, *steps. A name past them (sscanf's %d was undefined there, and read
 * ckpt-e99999999999 as epoch 1215752191) is no checkpoint of a run: the clean-up leaves it be,
 * as it does any other file. */
static bool ckpt_name(const char *name, int *epoch, long long *steps)
{
    long long e;
    const char *p = name;
    if (strncmp(p, "ckpt-e", 6)) return false;
    p += 6;
    if (!parse_digits(&p, INT_MAX, &e) || strncmp(p, "-s", 2)) return false;
    p += 2;
    if (!parse_digits(&p, LLONG_MAX, steps) || strcmp(p, ".safetensors")) return false;
    *epoch = (int)e;
    return true;
}

static bool run_id_ok(const char *s)
{
    size_t n = strspn(s, "0123456789abcdef");
    return n == 16 && s[16] == 0;
}

/* The run that wrote checkpoint `path` (its "occam.run"), read from the header alone; false
 * for a file without one (an older release's), that cannot be read, or that is not a regular
 * file (a FIFO named like a checkpoint hung the clean-up in open()). */
static bool ckpt_run_of(const char *path, char id[17])
{
    return occam_st_peek_meta(path, "occam.run", id, 17) && run_id_ok(id);
}

/* Names depend only on the epoch and the step, so another run's checkpoint (a rerun with one
 * setting changed writes the same names) would be replaced by this run's: it is renamed first,
 * to ckpt-e0003-s000000096.RUN.safetensors (RUN its occam.run, or "older"), a name the
 * clean-up never touches, and the run says so. */
static int set_aside(const char *path, const char *run, occam_error *err)
{
    struct stat st;
    char id[17];
    if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode)) return OCCAM_OK;
    bool named = ckpt_run_of(path, id);
    if (named && !strcmp(id, run)) return OCCAM_OK; /* this run's own: replaced */
    size_t stem = strlen(path) - strlen(".safetensors");
    char aside[sizeof ((occam_state_writer *)0)->last + 32];
    for (int k = 0; k < 100; k++) {
        char n[8] = "";
        if (k) snprintf(n, sizeof n, "-%d", k);
        snprintf(aside, sizeof aside, "%.*s.%s%s.safetensors", (int)stem, path,
                 named ? id : "older", n);
        if (lstat(aside, &st) != 0) break;
    }
    if (rename(path, aside) != 0)
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: another run's checkpoint could not "
                               "be set aside before this run's replaced it: %s", path,
                               strerror(errno));
    fprintf(stderr, "occam: note: %s was %s's; it is kept as %s\n", path,
            named ? "another run" : "an older or unreadable run", aside);
    return OCCAM_OK;
}

/* Keeps this run's newest `keep` checkpoints, and always `just` (the one just written, which
 * files of a branch it was resumed back from can outnumber in steps); removes temporary files
 * that writers killed mid-write left behind (occam_outfile_remove_stale). Other runs'
 * checkpoints, and an older release's without a name, are never removed: a later, unrelated
 * run in the default folder deleted the first run's final states without a word. Counts the
 * others in *others, and this run's past the one just written in *later. A failure to list or
 * remove is reported on stderr, never fatal: the new checkpoint is already safe. */
static void tidy(const char *dir, int keep, const char *just, const char *run, size_t *others,
                 size_t *later, size_t *unread)
{
    *others = *later = *unread = 0;
    int just_ep = 0;
    long long just_st = 0;
    (void)ckpt_name(just, &just_ep, &just_st);
    DIR *d = opendir(dir);
    if (!d) return;
    ckpt_file *f = NULL;
    size_t nf = 0, cap = 0;
    struct dirent *e;
    char path[4096];
    while ((e = readdir(d))) {
        int ep;
        long long st;
        const char *tmp = strstr(e->d_name, ".safetensors.tmp.");
        if (!strncmp(e->d_name, "ckpt-", 5) && tmp) {
            (void)occam_outfile_remove_stale(dirfd(d), e->d_name,
                                             tmp + strlen(".safetensors.tmp."));
            continue;
        }
        if (!ckpt_name(e->d_name, &ep, &st) || strlen(e->d_name) >= sizeof f->name ||
            !strcmp(e->d_name, just))
            continue;
        char id[17];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        errno = 0;
        if (!ckpt_run_of(path, id) || strcmp(id, run)) {
            /* out of descriptors (ulimit -n) is no other run's file: said apart, kept */
            if (errno == EMFILE || errno == ENFILE) ++*unread;
            else ++*others;
            continue;
        }
        *later += st > just_st;
        if (nf == cap) {
            cap = cap ? 2 * cap : 16;
            ckpt_file *g = realloc(f, cap * sizeof *f);
            if (!g) break;
            f = g;
        }
        f[nf].epoch = ep;
        f[nf].steps = st;
        strcpy(f[nf].name, e->d_name);
        nf++;
    }
    closedir(d);
    if (nf + 1 > (size_t)keep) {
        qsort(f, nf, sizeof *f, by_steps);
        for (size_t i = 0; i + (size_t)keep < nf + 1; i++) {
            snprintf(path, sizeof path, "%s/%s", dir, f[i].name);
            if (unlink(path) != 0)
                fprintf(stderr, "occam: warning: could not remove old checkpoint %s: %s\n", path,
                        strerror(errno));
            else /* one past this one removed now: the note counted it as kept */
                *later -= f[i].steps > just_st;
        }
    }
    free(f);
}

/* Creates the folder and takes its lock, once per run; waits up to wait_seconds for another
 * holder. */
static int lock_folder(occam_state_writer *w, double wait_seconds, occam_error *err)
{
    /* The folder renamed or removed during the run (each checkpoint makes it again): the lock
     * held the old folder's file, and a second run took the new one and wrote beside this
     * run's checkpoints. It is taken again, here; another run's is then a refusal. */
    if (w->locked && !occam_fsutil_lock_still_held(w->dir, w->lock_fd)) {
        /* the last checkpoint went with the old folder: not named as if it were here */
        w->last[0] = 0;
        w->moved = true;
        int fd = -1;
        occam_error taken = {0};
        if (occam_fsutil_lock_dir(w->dir, "train.checkpoint_dir", 0, &fd, &taken) != OCCAM_OK)
            return occam_error_set(err, OCCAM_ERR_RUNTIME, "train.checkpoint_dir '%s' was moved "
                                   "or removed during the run, and its lock cannot be taken "
                                   "again: %s", w->dir, taken.msg);
        occam_fsutil_unlock_dir(w->lock_fd);
        w->lock_fd = fd;
        fprintf(stderr, "occam: note: train.checkpoint_dir '%s' was moved or removed during "
                "the run; its lock is taken again, and the checkpoints before go on in the "
                "folder's new place\n", w->dir);
    }
    if (w->locked) return OCCAM_OK;
    int rc = occam_fsutil_make_dir(w->dir, "train.checkpoint_dir", err);
    if (rc == OCCAM_OK)
        rc = occam_fsutil_lock_dir(w->dir, "train.checkpoint_dir", 0, &w->lock_fd, err);
    if (rc == OCCAM_ERR_INPUT && wait_seconds > 0 && occam_fsutil_lock_busy(w->dir)) {
        /* a stop's save waiting on another run said nothing for its 10 s */
        fprintf(stderr, "occam: %s; waiting up to %.0f s for it\n", err->msg, wait_seconds);
        rc = occam_fsutil_lock_dir(w->dir, "train.checkpoint_dir", wait_seconds, &w->lock_fd,
                                   err);
    }
    w->locked = rc == OCCAM_OK;
    return rc;
}

int occam_state_writer_open(occam_state_writer *w, occam_error *err)
{
    if (w->every > 0) return lock_folder(w, 0, err);
    /* A run that saves only when stopped takes the lock then; another run holding the folder
     * now would make that save wait, and fail after 10 s, with nothing said before. */
    if (occam_fsutil_lock_busy(w->dir))
        fprintf(stderr, "occam: note: train.checkpoint_dir '%s' is in use by another occam run: "
                "a stop signal saves this run's state there, and would wait up to 10 s for that "
                "run; give this run its own train.checkpoint_dir\n", w->dir);
    return OCCAM_OK;
}

void occam_state_writer_close(occam_state_writer *w)
{
    if (w->locked) occam_fsutil_unlock_dir(w->lock_fd);
    w->locked = false;
    w->lock_fd = -1;
}

bool occam_state_checkpoint_due(const occam_state_writer *w, const occam_train_view *v,
                                bool interrupted)
{
    return interrupted || (w->every > 0 && v->res->epochs % w->every == 0);
}

int occam_state_checkpoint(void *writer, const occam_train_view *v, bool interrupted,
                           occam_error *err)
{
    occam_state_writer *w = writer;
    int epoch = v->res->epochs;
    if (!occam_state_checkpoint_due(w, v, interrupted)) return OCCAM_OK;
    int rc = occam_fsutil_make_dir(w->dir, "train.checkpoint_dir", err); /* it may have gone */
    /* Only a run that checkpoints on a signal alone comes here without the lock: another such
     * run may be saving too, so wait for it. */
    if (rc == OCCAM_OK) rc = lock_folder(w, interrupted ? 10.0 : 0, err);
    char path[sizeof w->last];
    if (rc == OCCAM_OK) {
        int len = snprintf(path, sizeof path, "%s/ckpt-e%04d-s%09lld.safetensors", w->dir,
                           epoch, (long long)v->res->steps);
        if (len < 0 || (size_t)len >= sizeof path)
            rc = occam_error_set(err, OCCAM_ERR_INPUT, "train.checkpoint_dir: path too long");
    }
    if (rc == OCCAM_OK) rc = set_aside(path, v->res->run_id, err);
    if (rc == OCCAM_OK) rc = occam_state_save(path, v, err);
    /* a stop's save that failed (a lock another run holds, a full disk) says what was lost:
     * a full disk said only the file's path */
    if (rc != OCCAM_OK && interrupted) {
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err->msg);
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "the training state was not saved: %s",
                               why);
    }
    if (rc != OCCAM_OK) return rc;
    strcpy(w->last, path);
    fprintf(stderr, "checkpoint %s\n", path);
    size_t others = 0, later = 0, unread = 0;
    tidy(w->dir, w->keep, strrchr(path, '/') + 1, v->res->run_id, &others, &later, &unread);
    if (unread && !w->noted_unread)
        fprintf(stderr, "occam: warning: %s: %zu checkpoint file%s could not be opened to read "
                "whose they are (out of file descriptors): kept, and train.checkpoint_keep is "
                "not honoured while that lasts\n",
                w->dir, unread, unread == 1 ? "" : "s");
    if (others && !w->noted_others)
        fprintf(stderr, "occam: note: %s also holds %zu checkpoint file%s not of this run (other "
                "runs', an older release's or unreadable ones): they are kept (one with a name "
                "this run writes is renamed first); give each run its own "
                "train.checkpoint_dir\n", w->dir, others, others == 1 ? "" : "s");
    if (later && !w->noted_later)
        fprintf(stderr, "occam: note: %s holds %zu checkpoint%s of this run past this one, "
                "from before it was resumed from an earlier one: they are kept until this run "
                "replaces them or its own outnumber them, and the newest file may be theirs\n",
                w->dir, later, later == 1 ? "" : "s");
    w->noted_others |= others > 0;
    w->noted_unread |= unread > 0;
    w->noted_later |= later > 0;
    return OCCAM_OK;
}

/* ---- restore -------------------------------------------------------------------------------- */

/* The tensor `name` with dtype dt and shape [d0] (ndim 1) or [d0, d1]; NULL and err set if it is
 * missing or differs (an empty tensor's data is "", never NULL). */
static const void *need(const occam_st_file *f, const char *name, occam_st_dtype dt, int ndim,
                        int64_t d0, int64_t d1, occam_error *err)
{
    const int64_t shape[2] = {d0, d1};
    const void *data = NULL;
    if (occam_st_expect(f, name, dt, ndim, shape, &data, err) != OCCAM_OK) return NULL;
    return data ? data : (const void *)"";
}

/* A config value as text: numbers in their shortest exact form, lists as [a,b], strings bare. */
static void value_text(const occam_json_value *v, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = 0;
    switch (v->type) {
    case OCCAM_JSON_NUMBER:
        if (v->is_integer) {
            snprintf(buf, cap, "%lld", (long long)v->integer);
        } else {
            for (int digits = 6; digits <= 17; digits++) {
                snprintf(buf, cap, "%.*g", digits, v->number);
                if (strtod(buf, NULL) == v->number) break;
            }
        }
        return;
    case OCCAM_JSON_STRING: /* in quotes where it would read as several in a list of
                             * changes, or as nothing: a label named "income, $", a path "" */
        snprintf(buf, cap, !v->str[0] || strpbrk(v->str, ",;") ? "\"%s\"" : "%s", v->str);
        return;
    case OCCAM_JSON_BOOL: snprintf(buf, cap, "%s", v->boolean ? "true" : "false"); return;
    case OCCAM_JSON_ARRAY:
        len = (size_t)snprintf(buf, cap, "[");
        for (size_t i = 0; i < v->count && len < cap; i++) {
            char item[64];
            value_text(&v->items[i], item, sizeof item);
            len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? "," : "", item);
        }
        if (len < cap) snprintf(buf + len, cap - len, "]");
        return;
    default: snprintf(buf, cap, "?"); return;
    }
}

/* Keys a resume may not change: they decide the model's shape or the layout of the state.
 * One the run does not read (noise.components under noise.prior = gaussian, noise.prior
 * without noise, prune.granularity and prune.rewind without a prune.schedule, prune.steps
 * unless iterative or mdl: occam_config_key_applies) decides neither, and only gets a note.
 * The keys it depends on are fixed themselves, and compared first (noise.enabled,
 * noise.prior, prune.schedule), so the checkpoint's config and this one agree on it. */
static const char *const fixed_keys[] = {
    "model.layers", "train.optimizer", "noise.enabled", "noise.prior", "noise.components",
    "prune.schedule", "prune.granularity", "prune.rewind", "prune.steps", "train.batch", NULL};
/* Keys that do not change the run's arithmetic: the thread count is compared on its own (the
 * state's, with its NUMA grouping), runtime.oversubscribe only permits a count, and
 * runtime.weights only places the weights' memory (replicated and interleaved weights give the
 * same bits, tested). */
static const char *const quiet_keys[] = {
    "runtime.threads", "runtime.oversubscribe", "runtime.weights", "train.checkpoint_every",
    "train.checkpoint_keep", "train.checkpoint_dir", NULL};

/* Keys read only to start a run: the initial weights (model.init, train.seed) and the shuffle
 * stream (train.seed) are in the state (its tensors, fit.rng; prune.snapshot for a rewind to
 * init), so a resume that changes them continues bit for bit. It said "not bit-identically". */
static const char *const start_keys[] = {"model.init", "train.seed", NULL};

static bool listed(const char *const *list, const char *key)
{
    for (; *list; list++)
        if (!strcmp(*list, key)) return true;
    return false;
}

/* Appends a printf-formatted item to buf (cap bytes: r->note or r->unread), "; "-separated;
 * drops what does not fit. */
static void list_printf(char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void list_printf(char *buf, size_t cap, const char *fmt, ...)
{
    size_t len = strlen(buf);
    if (len + 8 >= cap) return;
    if (len) len += (size_t)snprintf(buf + len, cap - len, "; ");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + len, cap - len, fmt, ap);
    va_end(ap);
}

/* Whether two train.batch values (as value_text writes them) both take all `rows` training
 * rows: a batch past the rows is sized by them, so they are the same run. */
static bool batches_take_all(const char *was, const char *is, size_t rows)
{
    char *e1, *e2;
    long long a = strtoll(was, &e1, 10), b = strtoll(is, &e2, 10);
    return *was && *is && !*e1 && !*e2 && rows > 0 && a >= (long long)rows &&
           b >= (long long)rows;
}

/* Compares the saved config with this run's (of `rows` training rows), key by key: a fixed key
 * that changed is refused, others are noted (in r->unread when the run does not read them). */
static int compare_config(occam_state_reader *r, const occam_st_file *f,
                          const occam_config *cfg, size_t rows, occam_error *err)
{
    const char *saved = occam_st_meta_get(f, "config");
    if (!saved)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: no config in the metadata", f->path);
    char *now = malloc(OCCAM_CONFIG_JSON_MAX);
    if (!now) return occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory");
    occam_json_value a = {0}, b = {0};
    occam_error e2;
    int rc = OCCAM_OK;
    if (occam_config_to_json(cfg, now, OCCAM_CONFIG_JSON_MAX) < 0)
        rc = occam_error_set(err, OCCAM_ERR_RUNTIME, "config too large");
    else if (occam_json_parse(&a, saved, strlen(saved), &e2) != OCCAM_OK ||
             a.type != OCCAM_JSON_OBJECT)
        rc = occam_error_set(err, OCCAM_ERR_INPUT, "%s: the saved config is not a JSON object",
                             f->path);
    else if (occam_json_parse(&b, now, strlen(now), &e2) != OCCAM_OK)
        rc = occam_error_set(err, OCCAM_ERR_RUNTIME, "config JSON: %s", e2.msg);
    for (size_t i = 0; rc == OCCAM_OK && i < b.count; i++) {
        const occam_json_member *sec = &b.members[i];
        const occam_json_value *old_sec = occam_json_get(&a, sec->key);
        for (size_t j = 0; rc == OCCAM_OK && j < sec->value.count; j++) {
            const occam_json_member *k = &sec->value.members[j];
            const occam_json_value *old = old_sec ? occam_json_get(old_sec, k->key) : NULL;
            char key[128], was[512] = "(absent)", is[512];
            snprintf(key, sizeof key, "%s.%s", sec->key, k->key);
            if (old) value_text(old, was, sizeof was);
            value_text(&k->value, is, sizeof is);
            if (!strcmp(was, is) || listed(quiet_keys, key)) continue;
            bool applies = occam_config_key_applies(cfg, key) && !listed(start_keys, key);
            /* the position in the epoch and the learning-rate schedule count steps of
             * train.batch rows: another batch skipped or repeated up to half an epoch's rows
             * and ran a cosine schedule past its end, with only "not bit-identically" said */
            if (!strcmp(key, "train.batch") && batches_take_all(was, is, rows))
                list_printf(r->unread, sizeof r->unread, "%s changed from %s to %s (both take "
                            "all %zu training rows)", key, was, is, rows);
            else if (listed(fixed_keys, key) && applies)
                rc = occam_error_set(err, OCCAM_ERR_INPUT,
                                     "%s: the checkpoint was trained with %s = %s, this config "
                                     "has %s; a resume cannot change %s", f->path, key, was, is,
                                     strcmp(key, "train.batch")
                                         ? "the model's shape or the training state's layout"
                                         : "the batch: the run's position and learning-rate "
                                           "schedule count its steps");
            else if (applies && !strncmp(key, "mdl.", 4) && !occam_train_scores_steps(cfg))
                /* the description length at the end alone reads it: said "not
                 * bit-identically" of mdl.model_code = count */
                list_printf(r->at_end, sizeof r->at_end, "%s changed from %s to %s", key, was,
                            is);
            else if (applies)
                list_printf(r->note, sizeof r->note, "%s changed from %s to %s", key, was,
                            is);
            else if (occam_config_bits_back_reads(cfg, key)) /* the weights stay bit for bit */
                list_printf(r->bits_back, sizeof r->bits_back, "%s changed from %s to %s", key,
                            was, is);

            else /* no code path of the run reads it: the run stays bit for bit */
                list_printf(r->unread, sizeof r->unread, "%s changed from %s to %s", key, was,
                            is);
        }
    }
    /* a mixture state saved before noise.zero_cap existed trained one mixture per layer with
     * its zero component capped; the same keys now mean another prior */
    const occam_json_value *old_noise = rc == OCCAM_OK ? occam_json_get(&a, "noise") : NULL;
    if (old_noise && !occam_json_get(old_noise, "zero_cap") && cfg->noise.enabled &&
        cfg->noise.prior == OCCAM_PRIOR_MOG)
        list_printf(r->note, sizeof r->note, "the state was saved before noise.prior = mog "
                    "became one mixture for the network with its zero component uncapped; it "
                    "continues under that one (the old prior: noise.prior_scope = layer, "
                    "noise.zero_cap = 0.1)");
    occam_json_free(&a);
    occam_json_free(&b);
    free(now);
    return rc;
}

/* A rank runs at most this many threads (runtime.threads, --threads); the state's count is
 * the world's, ranks × threads. */
#define STATE_RANK_THREADS 4096

/* run.i64 against itself, the file's world size and its prune schedule (a key a resume cannot
 * change): counts no run writes, whatever the rest of its config, are damage. false, with what
 * in why. */
static bool counts_written(const int64_t *iv, int64_t n, int64_t ranks, int sched, char *why,
                           size_t cap)
{
    const int64_t ne = iv[I_EPOCHS], steps = iv[I_STEPS], nev = iv[I_EVENTS];
    if (ne < 0 || iv[I_PHASE] < 0 || iv[I_PHASE_EPOCHS] < 0 || iv[I_PHASE_EPOCHS] > ne ||
        iv[I_EPOCH_STEP] < 0)
        snprintf(why, cap, "a position of %lld epochs done, phase %lld, epoch %lld of it, step "
                 "%lld of the epoch", (long long)ne, (long long)iv[I_PHASE],
                 (long long)iv[I_PHASE_EPOCHS], (long long)iv[I_EPOCH_STEP]);
    else if (steps < 0 || iv[I_PHASE_STEP] < 0 || iv[I_PHASE_STEP] > steps || iv[I_OPT_T] < 0 ||
             iv[I_OPT_T] > steps) /* Adam's t restarts at each prune phase, the phase's count
                                     with it */
        snprintf(why, cap, "%lld steps, %lld of them in the phase and %lld the optimiser's",
                 (long long)steps, (long long)iv[I_PHASE_STEP], (long long)iv[I_OPT_T]);
    else if (iv[I_SEEN] < 0 || iv[I_SEEN] > n || iv[I_CORRECT] < 0 || iv[I_CORRECT] > n)
        snprintf(why, cap, "%lld rows seen in the epoch and %lld right, of %lld",
                 (long long)iv[I_SEEN], (long long)iv[I_CORRECT], (long long)n);
    else if (iv[I_THREADS] < ranks || iv[I_THREADS] > STATE_RANK_THREADS * ranks)
        snprintf(why, cap, "%lld threads in all for %lld rank%s (each runs 1 to %d)",
                 (long long)iv[I_THREADS], (long long)ranks, ranks == 1 ? "" : "s",
                 STATE_RANK_THREADS);
    else if (nev < 0 || nev > INT_MAX || (sched == OCCAM_PRUNE_AGP && nev > steps))
        snprintf(why, cap, "%lld prune events after %lld steps", (long long)nev,
                 (long long)steps);
    else if (sched != OCCAM_PRUNE_AGP && nev != iv[I_PHASE]) /* one event opens each phase */
        snprintf(why, cap, "%lld prune events in phase %lld", (long long)nev,
                 (long long)iv[I_PHASE]);
    else if (iv[I_DENSE_HIDDEN] < 0 || iv[I_DENSE_HIDDEN] > INT_MAX || iv[I_DENSE_WEIGHTS] < 0)
        snprintf(why, cap, "a dense model of %lld weights and %lld hidden units",
                 (long long)iv[I_DENSE_WEIGHTS], (long long)iv[I_DENSE_HIDDEN]);
    else if (iv[I_BEST] < -1 || iv[I_BEST] >= (nev > 0 ? nev : 1))
        snprintf(why, cap, "the kept model at prune event %lld of %lld", (long long)iv[I_BEST],
                 (long long)nev);
    else
        return true;
    return false;
}

/* The saved position is one this config's schedule can reach, so that continuing from it stays
 * inside the history and the row order (the counts are already known to be ones a run writes:
 * counts_written). */
static bool position_fits(const occam_config *cfg, const occam_fit_result *res, const int64_t *iv)
{
    const int64_t n = (int64_t)res->nrows, spe = occam_fit_steps_per_epoch(cfg, res->nrows);
    int sched = cfg->prune.schedule;
    int64_t phases = sched == OCCAM_PRUNE_ONESHOT ? 1
                     : sched == OCCAM_PRUNE_ITERATIVE || sched == OCCAM_PRUNE_MDL ? cfg->prune.steps
                                                                                  : 0;
    int64_t ne = iv[I_EPOCHS], phase = iv[I_PHASE], pe = iv[I_PHASE_EPOCHS];
    int64_t es = iv[I_EPOCH_STEP], steps = iv[I_STEPS];
    if (phase > phases || ne > res->capacity) return false;
    int64_t len = phase == 0 ? cfg->train.epochs : cfg->prune.finetune_epochs;
    if (pe > len || ne - pe + len > res->capacity) return false;
    if (es > spe || (es > 0 && pe >= len)) return false;
    /* Steps are bounded by the run's epochs at one row a step (train.batch may change on a
     * resume, so not by this batch): a forged count near INT64_MAX overflowed the counters and
     * the learning-rate schedule. */
    /* agp's events are bounded by the steps (counts_written), not by this config's ramp: a
     * resume may change prune.every, start and end (a note says so), and the events the run
     * already made at the old ones can outnumber the new ramp's */
    return steps <= (int64_t)res->capacity * n;
}

/* The widths in a state's metadata "occam.layers" ("20,25,3"): how many, or -1 if it is not a
 * list of at most max widths of 1 to 1000000 units. */
static int parse_widths(const char *s, int *w, int max)
{
    long long x;
    for (int k = 0; k < max && parse_digits(&s, 1000000, &x) && x >= 1;) {
        w[k++] = (int)x;
        if (!*s) return k;
        if (*s++ != ',') return -1;
    }
    return -1;
}

/* The saved model's widths (fw, its metadata occam.layers) against this run's (now, text in
 * have: model.layers'): the same, or what prune.granularity = neuron leaves of them (the
 * inputs and outputs as they are, each hidden layer as wide or narrower, none empty), the
 * widths the run then continues at. Anything else no run of this config writes, and is
 * refused naming the key. *saved: the file's layout. */
static int check_saved_widths(const occam_st_file *f, const char *fw, const char *have,
                              const occam_config *cfg, const occam_layout *now,
                              occam_layout *saved, occam_error *err)
{
    const char *path = f->path;
    int w[OCCAM_MAX_LAYERS], L = now->nlayers;
    int nw = fw ? parse_widths(fw, w, OCCAM_MAX_LAYERS) : -1;
    if (nw < 0)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: metadata occam.layers = '%.40s' is "
                               "not a list of widths (file damaged)", path, fw ? fw : "(none)");
    if (nw != L + 1)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: the saved model is %s wide, %d weight "
                               "layer%s, but model.layers = %s has %d (check model.layers)",
                               path, fw, nw - 1, nw == 2 ? "" : "s", have, L);
    if (w[0] != now->width[0] || w[L] != now->width[L])
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: the saved model is %s wide, but "
                               "model.layers is %s: its inputs or outputs differ, which no run "
                               "of this config writes (check model.layers)", path, fw, have);
    bool narrower = false;
    for (int h = 1; h < L; h++) {
        if (w[h] > now->width[h])
            return occam_error_set(err, OCCAM_ERR_INPUT, "%s: the saved model is %s wide, but "
                                   "model.layers is %s: hidden layer %d has %d units, more than "
                                   "the %d model.layers gives it, which no run of this config "
                                   "writes (check model.layers)", path, fw, have, h, w[h],
                                   now->width[h]);
        narrower |= w[h] < now->width[h];
    }
    const occam_prune_params *p = &cfg->prune;
    if (narrower && (p->schedule == OCCAM_PRUNE_NONE || p->granularity != OCCAM_GRAN_NEURON))
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: the saved model is %s wide, but "
                               "model.layers is %s: narrower hidden layers come only from "
                               "pruning neurons, and this run has %s", path, fw, have,
                               p->schedule == OCCAM_PRUNE_NONE ? "prune.schedule = none"
                               : p->granularity == OCCAM_GRAN_NM ? "prune.granularity = nm"
                                                                 : "prune.granularity = weight");
    /* the moments and copies are checked against these widths' layout: a record that is not
     * the tensors' would be taken for their shapes being wrong */
    for (int l = 0; l < L; l++) {
        char name[32];
        snprintf(name, sizeof name, "layers.%d.weight", l);
        const occam_st_tensor_view *t = occam_st_find(f, name);
        if (t && (t->ndim != 2 || t->shape[0] != w[l + 1] || t->shape[1] != w[l]))
            return occam_error_set(err, OCCAM_ERR_INPUT, "%s: the metadata says the layers are "
                                   "%s, but tensor '%s' is not %d × %d (file damaged)", path, fw,
                                   name, w[l + 1], w[l]);
    }
    occam_layout_init(saved, w, nw);
    return OCCAM_OK;
}

int occam_state_restore(void *reader, const occam_train_view *v, occam_error *err)
{
    occam_state_reader *r = reader;
    r->note[0] = 0;
    r->unread[0] = 0;
    r->bits_back[0] = 0;
    r->at_end[0] = 0;
    r->tensors_hash = 0;
    /* Its magic would read as a safetensors header length ("truncated, or not a safetensors
     * file: header says 5495602439501595471 bytes"): say what the file is instead. */
    if (occam_occ_is(r->path))
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "%s: an .occ file (occam compress), not a training state: resume "
                               "from a file train.checkpoint_every or an interrupt wrote",
                               r->path);
    occam_st_file f;
    int rc = occam_st_open(&f, r->path, err);
    if (rc != OCCAM_OK) return rc;
    const char *path = r->path, *fmt = occam_st_meta_get(&f, "format");
    occam_model *m = v->m;
    occam_fit_result *res = v->res;
    occam_trainer_state ts;
    occam_trainer_state_view(v->tr, &ts);
    const int L = m->lay.nlayers;
    char widths[16 * OCCAM_MAX_LAYERS];
    occam_checkpoint_widths(m, widths, sizeof widths);
    const char *fw = occam_st_meta_get(&f, "occam.layers");
    const int64_t *iv = NULL;
    const double *fv = NULL, *hist = NULL, *evs = NULL, *pri = NULL, *terms = NULL;
    const float *m1 = NULL, *m2 = NULL, *m1r = NULL, *m2r = NULL, *snap = NULL, *bestp = NULL, *lvl = NULL;
    const uint64_t *nrng = NULL, *frng = NULL;
    const uint32_t *perm = NULL;
    const uint8_t *bestm = NULL;
    int64_t saved_threads = 0, ne = 0, nev = 0;

    if (!fmt || strcmp(fmt, OCCAM_STATE_FORMAT))
        rc = occam_error_set(err, OCCAM_ERR_INPUT,
                             "%s: not a training state (format '%s'): resume from a file "
                             "train.checkpoint_every or an interrupt wrote; a weights file "
                             "(--save) loads with --checkpoint", path, fmt ? fmt : "none");
    if (rc == OCCAM_OK) rc = compare_config(r, &f, v->cfg, res->nrows, err);
    if (rc == OCCAM_OK) rc = occam_checkpoint_check_targets_st(&f, v->cfg, err);
    /* The state's tensors are at the saved widths: narrower than model.layers once neurons
     * were pruned, and the run goes on at them. */
    occam_layout saved = m->lay;
    if (rc == OCCAM_OK) rc = check_saved_widths(&f, fw, widths, v->cfg, &m->lay, &saved, err);
    const int64_t n = (int64_t)saved.nparams;
    /* the world that wrote it: a file without the key was written by one process */
    const char *sr = occam_st_meta_get(&f, "occam.ranks");
    int64_t saved_ranks = 1;
    if (rc == OCCAM_OK && sr && (!parse_count(sr, INT_MAX, &saved_ranks) || saved_ranks < 1))
        rc = occam_error_set(err, OCCAM_ERR_INPUT, "%s: metadata occam.ranks = '%.40s' is not "
                             "a number of ranks (file damaged)", path, sr);
    char why[256];
    if (rc == OCCAM_OK && (iv = need(&f, "run.i64", OCCAM_ST_I64, 1, I_N, 0, err)) &&
        (fv = need(&f, "run.f64", OCCAM_ST_F64, 1, F_N, 0, err))) {
        saved_threads = iv[I_THREADS];
        ne = iv[I_EPOCHS];
        nev = iv[I_EVENTS];
        if (iv[I_NROWS] != (int64_t)res->nrows)
            rc = occam_error_set(err, OCCAM_ERR_INPUT,
                                 "%s: the checkpoint's training set had %lld rows, this run's "
                                 "has %zu (check data.*)", path, (long long)iv[I_NROWS],
                                 res->nrows);
        else if (!counts_written(iv, (int64_t)res->nrows, saved_ranks, v->cfg->prune.schedule,
                                 why, sizeof why))
            rc = occam_error_set(err, OCCAM_ERR_INPUT, "%s: the run's position (run.i64) holds "
                                 "%s, which no run writes (file damaged)", path, why);
        else if (!position_fits(v->cfg, res, iv))
            rc = occam_error_set(err, OCCAM_ERR_INPUT,
                                 "%s: the run's position (%lld epochs done, phase %lld, epoch "
                                 "%lld of it, step %lld of the epoch) does not fit this config's "
                                 "schedule (%d epochs planned: check train.epochs, "
                                 "train.batch and prune.*)", path, (long long)ne,
                                 (long long)iv[I_PHASE], (long long)iv[I_PHASE_EPOCHS],
                                 (long long)iv[I_EPOCH_STEP], res->capacity);
    } else if (rc == OCCAM_OK) {
        rc = OCCAM_ERR_INPUT;
    }
    occam_prior priors[OCCAM_MAX_LAYERS]; /* noise.priors, decoded while checked */
#define NEED(var, ...)                                                                       \
    do {                                                                                     \
        if (rc == OCCAM_OK && !((var) = need(&f, __VA_ARGS__, err))) rc = OCCAM_ERR_INPUT;   \
    } while (0)
    NEED(m1, "optim.m1", OCCAM_ST_F32, 1, n, 0);
    if (ts.mom2) NEED(m2, "optim.m2", OCCAM_ST_F32, 1, n, 0);
    if (ts.mom1_rho) NEED(m1r, "optim.m1_rho", OCCAM_ST_F32, 1, n, 0);
    if (ts.mom2_rho) NEED(m2r, "optim.m2_rho", OCCAM_ST_F32, 1, n, 0);
    /* The model's load takes a file without σ (a deterministic model has none) and the run
     * would go on from noise.init_sigma: a noisy run's state must carry them. */
    if (rc == OCCAM_OK && ts.mom1_rho && !occam_st_find(&f, "layers.0.weight_rho"))
        rc = occam_error_set(err, OCCAM_ERR_INPUT, "%s: tensor 'layers.0.weight_rho' is "
                             "missing: the run trains noisy weights (file damaged)", path);
    if (ts.noise_level) NEED(lvl, "noise.level", OCCAM_ST_F32, 1, 3, 0);
    /* noise.terms came in later: a checkpoint from before it resumes at an epoch's start,
     * which re-derives them, but not inside an epoch, whose steps read them */
    if (rc == OCCAM_OK && ts.noise_terms &&
        (iv[I_EPOCH_STEP] > 0 || occam_st_find(&f, "noise.terms")))
        NEED(terms, "noise.terms", OCCAM_ST_F64, 1, OCCAM_NOISE_TERMS, 0);
    for (int i = 0; rc == OCCAM_OK && terms && i < OCCAM_NOISE_TERMS; i++)
        if (!isfinite(terms[i]) || terms[i] < (i == 2 ? -1e9 : 0.0))
            rc = occam_error_set(err, OCCAM_ERR_INPUT, "%s: noise.terms[%d] = %g is not a "
                                 "valid noise-level term", path, i, terms[i]);
    /* What an epoch's start writes there (noisy_begin_epoch): β, at most noise.kl_scale's
     * most; N, the training rows (0 only before the first epoch began); the γ table, each
     * entry a count of well-determined weights. The steps inside the epoch read them as they
     * are: N = 7 or 1e300 (cast to size_t: undefined) trained other bits while the resume
     * said it continued bit-identically. */
    if (rc == OCCAM_OK && terms) {
        double rows = (double)res->nrows, most = (double)saved.nweights;
        if (terms[0] > 1e6)
            rc = occam_error_set(err, OCCAM_ERR_INPUT, "%s: noise.terms[0] = %g (β, the KL's "
                                 "weight) is more than noise.kl_scale allows (1e6), a value no "
                                 "run writes (file damaged)", path, terms[0]);
        else if (terms[1] != rows && (terms[1] != 0.0 || iv[I_EPOCH_STEP] > 0))
            rc = occam_error_set(err, OCCAM_ERR_INPUT, "%s: noise.terms[1] = %g (the rows the "
                                 "KL is shared over) is not the state's %zu training rows, a "
                                 "value no run writes (file damaged)", path, terms[1],
                                 res->nrows);
        for (int i = 3; rc == OCCAM_OK && i < OCCAM_NOISE_TERMS; i++)
            if (terms[i] > most)
                rc = occam_error_set(err, OCCAM_ERR_INPUT, "%s: noise.terms[%d] = %g (a point "
                                     "of the γ table) is more than the model's %zu weights, a "
                                     "value no run writes (file damaged)", path, i, terms[i],
                                     saved.nweights);
    }
    if (ts.prior) {
        NEED(nrng, "noise.rng", OCCAM_ST_U64, 2, saved_threads, 4); /* a stream per thread */
        NEED(pri, "noise.priors", OCCAM_ST_F64, 2, L, PRIOR_COLS);
        for (int k = 0; rc == OCCAM_OK && k < L; k++)
            if (!prior_read(&priors[k], pri + k * PRIOR_COLS))
                rc = occam_error_set(err, OCCAM_ERR_INPUT, "%s: noise.priors: layer %d's prior "
                                     "is not a valid mixture (weights in [0, 1], finite means, "
                                     "widths from %g to %g; file damaged)", path, k,
                                     PRIOR_SIGMA_LEAST, (double)FLT_MAX);
    }
    NEED(perm, "fit.perm", OCCAM_ST_U32, 1, (int64_t)res->nrows, 0);
    NEED(frng, "fit.rng", OCCAM_ST_U64, 1, 4, 0);
    NEED(hist, "fit.history", OCCAM_ST_F64, 2, ne, HIST_COLS);
    NEED(evs, "prune.events", OCCAM_ST_F64, 2, nev, EVENT_COLS);
    if (v->snapshot) NEED(snap, "prune.snapshot", OCCAM_ST_F32, 1, n, 0);
    if (v->best_params) {
        NEED(bestp, "prune.best_params", OCCAM_ST_F32, 1, n, 0);
        NEED(bestm, "prune.best_mask", OCCAM_ST_U8, 1, n, 0);
    }
#undef NEED
    /* A tensor no version of occam writes: a damaged header or another program's file. */
    static const char *const known[] = {"optim.m1", "optim.m2", "optim.m1_rho", "optim.m2_rho",
                                        "noise.rng", "noise.level", "noise.terms",
                                        "noise.priors", "fit.perm", "fit.rng", "fit.history",
                                        "run.i64", "run.f64", "prune.events", "prune.snapshot",
                                        "prune.best_params", "prune.best_mask"};
    for (int i = 0; rc == OCCAM_OK && i < f.ntensors; i++) {
        const char *name = f.tensors[i].name;
        bool ok = !strncmp(name, "layers.", 7); /* the model's, checked when it loads */
        for (size_t k = 0; !ok && k < sizeof known / sizeof *known; k++) ok = !strcmp(name, known[k]);
        if (!ok)
            rc = occam_error_set(err, OCCAM_ERR_INPUT, "%s: tensor '%s' is not part of a "
                                 "training state (file damaged or from another program)", path,
                                 name);
    }
    /* the shortest point's mask becomes the model's (mdl schedule): 0 and 1 only, as the
     * model's own masks are checked when it loads */
    if (rc == OCCAM_OK && bestm)
        rc = occam_st_check_mask(&f, occam_st_find(&f, "prune.best_mask"), err);
    /* The model's own tensors are checked when it loads; these go into the run as they are. */
    static const char *const floats[] = {"optim.m1", "optim.m2", "optim.m1_rho", "optim.m2_rho", "noise.level",
                                         "prune.snapshot", "prune.best_params"};
    for (size_t i = 0; rc == OCCAM_OK && i < sizeof floats / sizeof *floats; i++) {
        const occam_st_tensor_view *t = occam_st_find(&f, floats[i]);
        if (t) rc = occam_st_check_finite(&f, t, err);
    }
    if (rc == OCCAM_OK) rc = check_run_f64(path, fv, err);
    const char *adam = "Adam's second moment";
    if (rc == OCCAM_OK) rc = check_mean_of_squares(&f, "optim.m2", adam, m2, n, err);
    if (rc == OCCAM_OK) rc = check_mean_of_squares(&f, "optim.m2_rho", adam, m2r, n, err);
    /* σ² = 1/(C_p + h/cκ): a negative h made it negative or infinite, which the fixed point's
     * floor turned into σ = 10⁻⁶ for the rest of the run without a word */
    if (rc == OCCAM_OK && ts.curvature)
        rc = check_mean_of_squares(&f, "optim.m1_rho", "the curvature average behind σ", m1r, n,
                                   err);
    if (rc == OCCAM_OK && lvl) rc = check_noise_level(path, lvl, err);
    /* The counts kept as doubles in the history and the prune log become ints on reading. */
    static const int hist_int[] = {0}, hist_big[] = {4}, event_int[] = {0, 1, 6},
                     event_big[] = {2, 5};
    const double big = 9007199254740992.0; /* 2^53: an int64 count a double holds exactly */
    for (int64_t e = 0; rc == OCCAM_OK && e < ne; e++) {
        const double *row = hist + e * HIST_COLS;
        rc = check_counts(path, "fit.history", row, e, hist_int, 1, INT_MAX, err);
        if (rc == OCCAM_OK) rc = check_counts(path, "fit.history", row, e, hist_big, 1, big, err);
    }
    for (int64_t e = 0; rc == OCCAM_OK && e < nev; e++) {
        const double *row = evs + e * EVENT_COLS;
        rc = check_counts(path, "prune.events", row, e, event_int, 3, INT_MAX, err);
        if (rc == OCCAM_OK) rc = check_counts(path, "prune.events", row, e, event_big, 2, big, err);
    }
    /* The widths are the last prune event's (or model.layers' before the first): a state
     * whose model and log disagree would go on pruning against the wrong count. */
    bool pruned = false;
    int units = 0, left = 0;
    for (int h = 1; h < L; h++) {
        units += saved.width[h];
        left += m->lay.width[h];
        pruned |= saved.width[h] != m->lay.width[h];
    }
    if (rc == OCCAM_OK && nev > 0) left = (int)evs[(nev - 1) * EVENT_COLS + 6];
    if (rc == OCCAM_OK && units != left)
        rc = occam_error_set(err, OCCAM_ERR_INPUT, "%s: the saved model's hidden layers have %d "
                             "units (%s), but %s %d (file damaged)", path, units, fw,
                             nev > 0 ? "its last prune event left" : "no prune event removed "
                             "any of model.layers'", left);
    /* The epoch's order must be a permutation: a repeated row (all zeros) trained on one row
     * and skipped the rest, silently. */
    uint8_t *seen = rc == OCCAM_OK ? calloc(res->nrows ? res->nrows : 1, 1) : NULL;
    if (rc == OCCAM_OK && !seen)
        rc = occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: out of memory checking fit.perm", path);
    for (size_t i = 0; rc == OCCAM_OK && i < res->nrows; i++)
        if (perm[i] >= res->nrows)
            rc = occam_error_set(err, OCCAM_ERR_INPUT, "%s: fit.perm[%zu] = %u is not a row",
                                 path, i, perm[i]);
        else if (seen[perm[i]]++)
            rc = occam_error_set(err, OCCAM_ERR_INPUT, "%s: fit.perm[%zu] = %u repeats a row: "
                                 "the epoch's order is not a permutation (file damaged)", path, i,
                                 perm[i]);
    free(seen);
    /* the history grows with the run: room for the saved one */
    if (rc == OCCAM_OK) rc = occam_fit_history_reserve(res, (int)ne, err);
    /* Everything is checked: from here on nothing fails but the model's own load, which
     * leaves the model untouched when it does. It loads at the saved widths into the model's
     * own buffers (sized for model.layers, which the trainer holds): where the prune step of
     * an uninterrupted run left it. */
    occam_model into = *m;
    into.lay = saved;
    if (rc == OCCAM_OK) rc = occam_checkpoint_load_st(&f, &into, err);
    if (rc != OCCAM_OK) {
        if (into.mask != m->mask) free(into.mask); /* allocated before a later failure */
        if (into.rho != m->rho) free(into.rho);
        occam_st_close(&f);
        return rc;
    }
    *m = into;
    if (pruned) {
        /* the padding between segments reads as zero, as the prune's compaction left it (it
         * holds model.layers' initial values here) */
        const uint8_t *all[OCCAM_MAX_LAYERS] = {0};
        occam_layout_compact(m->params, sizeof(float), &saved, &saved, all);
        if (m->mask) occam_layout_compact(m->mask, 1, &saved, &saved, all);
        occam_trainer_replan(v->tr);
    }
    memcpy(ts.mom1, m1, (size_t)n * sizeof(float));
    if (m2) memcpy(ts.mom2, m2, (size_t)n * sizeof(float));
    if (m1r) memcpy(ts.mom1_rho, m1r, (size_t)n * sizeof(float));
    if (m2r) memcpy(ts.mom2_rho, m2r, (size_t)n * sizeof(float));
    if (lvl) memcpy(ts.noise_level, lvl, 3 * sizeof(float));
    if (terms) memcpy(ts.noise_terms, terms, OCCAM_NOISE_TERMS * sizeof(double));
    *ts.opt_t = iv[I_OPT_T];
    if (ts.prior) {
        memcpy(ts.prior, priors, (size_t)L * sizeof *priors);
        *ts.kappa = fv[F_KAPPA];
        /* Another thread count draws other noise: new streams, derived from the saved ones. */
        for (int t = 0; t < ts.threads; t++) {
            if (saved_threads == ts.threads) {
                memcpy(ts.noise_rng[t].s, nrng + 4 * t, sizeof ts.noise_rng[t].s);
            } else {
                const uint64_t *s0 = nrng + 4 * (t % saved_threads);
                ts.noise_rng[t] = occam_rng_seed(s0[0] ^ s0[1] ^ s0[2] ^ s0[3], (uint64_t)t);
            }
        }
    }
    memcpy(res->perm, perm, res->nrows * sizeof *res->perm);
    memcpy(res->rng.s, frng, sizeof res->rng.s);
    for (int64_t e = 0; e < ne; e++) history_read(&res->history[e], hist + e * HIST_COLS);
    res->epochs = (int)ne;
    res->steps = iv[I_STEPS];
    res->train_seconds = fv[F_TRAIN_SECONDS];
    res->samples_per_second =
        res->train_seconds > 0 ? (double)res->nrows * (double)ne / res->train_seconds : 0.0;
    res->pos = (occam_fit_pos){.phase = (int)iv[I_PHASE], .phase_epochs = (int)iv[I_PHASE_EPOCHS],
                               .phase_step = iv[I_PHASE_STEP], .epoch_step = iv[I_EPOCH_STEP],
                               .loss_sum = fv[F_LOSS_SUM], .correct = iv[I_CORRECT],
                               .seen = (size_t)iv[I_SEEN],
                               .epoch_seconds = fv[F_EPOCH_SECONDS]};
    res->resuming = true;
    occam_prune_log *log = v->log;
    if (nev > log->cap) {
        occam_prune_event *ev = realloc(log->ev, sizeof *ev * (size_t)nev);
        if (!ev) {
            occam_st_close(&f);
            return occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory for the prune log");
        }
        log->ev = ev;
        log->cap = (int)nev;
    }
    for (int64_t e = 0; e < nev; e++) event_read(&log->ev[e], evs + e * EVENT_COLS);
    log->n = (int)nev;
    log->best = (int)iv[I_BEST];
    log->dense_weights = iv[I_DENSE_WEIGHTS];
    log->dense_hidden = (int)iv[I_DENSE_HIDDEN];
    log->dense_total_bits = fv[F_DENSE_BITS];
    if (v->pruner) occam_pruner_resume(v->pruner, (int)nev);
    if (snap) memcpy(v->snapshot, snap, (size_t)n * sizeof(float));
    if (bestp) {
        memcpy(v->best_params, bestp, (size_t)n * sizeof(float));
        memcpy(v->best_mask, bestm, (size_t)n);
        *v->best_total = fv[F_BEST_TOTAL];
    }
    occam_trainer_sync(v->tr);
    int ranks = occam_trainer_ranks(v->tr);
    if (saved_ranks != ranks)
        snprintf(r->world, sizeof r->world, "the world size changed: the checkpoint was written "
                 "by %lld rank%s, this run has %d", (long long)saved_ranks,
                 saved_ranks == 1 ? "" : "s", ranks);
    else
        r->world[0] = 0;
    /* runtime.grad = owner computes the same bits at any thread count and world size (the
     * saved run and this one both took the owner path everywhere); shard-path reductions, which
     * auto may pick for another count, and the noise streams do not. */
    bool any_order = !ts.prior && v->cfg->runtime.grad == OCCAM_GRAD_OWNER;
    if (saved_threads != ts.threads && !any_order)
        list_printf(r->note, sizeof r->note, "the checkpoint was written by a run of %lld "
                    "thread%s in all (ranks × threads), this one has %d",
                    (long long)saved_threads, saved_threads == 1 ? "" : "s", ts.threads);
    /* the threads' NUMA grouping of the shard-path sums (another placement, CPU mask or
     * machine): the same partials added in another order. A file from before the key does not
     * say. */
    const char *nodes = occam_st_meta_get(&f, "occam.nodes");
    char *groups = nodes && !any_order ? occam_trainer_grouping(v->tr) : NULL;
    if (groups && strcmp(nodes, groups))
        list_printf(r->note, sizeof r->note, "the checkpoint's threads summed their gradients "
                    "grouped by NUMA node as %.40s%s, this run's as %.40s%s (node of each thread)",
                    strcmp(nodes, "1") ? nodes : "one group", strlen(nodes) > 40 ? "…" : "",
                    strcmp(groups, "1") ? groups : "one group", strlen(groups) > 40 ? "…" : "");
    free(groups);
    /* as many threads in all on as many ranks, but the ranks' counts in another order (ranks of
     * 2 and 1 threads, resumed as ranks of 1 and 2): the rows are split and summed otherwise.
     * A file from before the key does not say. */
    const char *saved_rt = occam_st_meta_get(&f, "occam.rank_threads");
    char *rank_threads = saved_rt && !any_order && saved_ranks == ranks &&
                                 saved_threads == ts.threads
                             ? occam_trainer_rank_threads(v->tr) : NULL;
    if (rank_threads && strcmp(saved_rt, rank_threads))
        list_printf(r->note, sizeof r->note, "the checkpoint's ranks ran %.40s%s threads each, "
                    "this run's %.40s%s", saved_rt, strlen(saved_rt) > 40 ? "…" : "",
                    rank_threads, strlen(rank_threads) > 40 ? "…" : "");
    free(rank_threads);
    /* another machine's kernels round differently (a state moved from an AVX-512 host to an
     * AVX2 one); a state from before the key does not say which it had */
    const char *blis = occam_st_meta_get(&f, "occam.blis");
    const char *kernels = occam_trainer_kernels(v->tr); /* every rank's, in rank order */
    if (blis && strcmp(blis, kernels))
        list_printf(r->note, sizeof r->note, "the checkpoint was written with BLIS's %.60s%s "
                    "kernels%s, this run uses %.60s%s%s", blis, strlen(blis) > 60 ? "…" : "",
                    strchr(blis, ',') ? " (rank by rank)" : "", kernels,
                    strlen(kernels) > 60 ? "…" : "",
                    strchr(kernels, ',') ? " (rank by rank)" : "");
    /* another build's vector math: one for a CPU without FMA takes libm's functions for the
     * noisy step (the same sources, the same BLIS kernels, and the resume said it continued
     * bit-identically); a state from before the key does not say. Only the noisy step uses
     * it: a deterministic run's resume continues bit-identically (it said it would not). */
    /* another build: other sources or flags may round otherwise (a state an older occam wrote
     * was said to continue bit-identically); a state from before the key does not say */
    const char *build = occam_st_meta_get(&f, "occam.build");
    if (build && *build && *state_build && strcmp(build, state_build))
        list_printf(r->note, sizeof r->note, "the checkpoint was written by occam build %.40s, "
                    "this is build %s (other sources or flags: the arithmetic may differ)", build,
                    state_build);
    const char *arith = occam_st_meta_get(&f, "occam.arith");
    if (arith && strcmp(arith, occam_trainer_arith()) && v->m->rho)
        list_printf(r->note, sizeof r->note, "the checkpoint's build took its vector math from "
                    "%s, this one from %s", arith, occam_trainer_arith());
    const char *data = occam_st_meta_get(&f, "occam.data");
    if (data && *data && res->data_crc[0] && strcmp(data, res->data_crc))
        list_printf(r->note, sizeof r->note, "the training rows differ from the checkpoint's "
                    "(other data, or the same read or scaled otherwise)");
    /* the run goes on under its name: its checkpoints before the resume stay its own */
    const char *run = occam_st_meta_get(&f, "occam.run");
    if (run && run_id_ok(run)) memcpy(res->run_id, run, sizeof res->run_id);
    /* the tensors' bytes: their CRC-32 and, independent of it, their Adler-32 (a second CRC
     * would follow from the first and the length) */
    r->tensors_hash = (uint64_t)occam_st_crc32(0, f.data, f.data_size) << 32 |
                      occam_st_adler32(f.data, f.data_size);
    occam_st_close(&f);
    return OCCAM_OK;
}
