/* Training-state checkpoints: a run stopped at any step and resumed from its checkpoint ends
 * with the same bits as a run never stopped (dense, Adam with noisy weights, every prune
 * schedule); another thread count resumes and says so; shape changes, corrupt files, a full
 * disk and diverged weights are refused without touching what is already saved. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <malloc.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tmpdir.h"
#include "occam/checkpoint.h"
#include "occam/config.h"
#include "occam/data.h"
#include "occam/fit.h"
#include "occam/model.h"
#include "occam/prune.h"
#include "occam/safetensors.h"
#include "occam/train.h"
#include "occam/trainer.h"
#include "occam/trainstate.h"

static char dir[256];

static void setup(void) { tmpdir_make(dir, sizeof dir, "resume"); }

static void teardown(void) { tmpdir_remove(dir); }

TestSuite(resume, .init = setup, .fini = teardown);

/* configs/blobs.ini, short. */
static occam_config blobs(int epochs)
{
    occam_config cfg;
    occam_error err;
    occam_config_defaults(&cfg);
    cr_assert_eq(occam_config_load(&cfg, "configs/blobs.ini", &err), OCCAM_OK, "%s", err.msg);
    cfg.train.epochs = epochs;
    cfg.train.optim.schedule = OCCAM_SCHED_COSINE;
    snprintf(cfg.train.checkpoint_dir, sizeof cfg.train.checkpoint_dir, "%s/ckpt", dir);
    return cfg;
}

/* One run's outcome. */
typedef struct outcome {
    int rc;
    occam_model m;
    occam_fit_result res;
    occam_prune_log log;
    char last[4096];   /* the checkpoint written when stopped */
    char note[OCCAM_ERROR_MAX]; /* the resume's note */
    char unread[1024];          /* its changed keys the run does not read */
} outcome;

typedef struct stopper {
    occam_state_writer wr;
    occam_state_reader rd;
    int64_t stop_at, steps;
} stopper;

static void count_steps(void *user, const occam_progress *p)
{
    stopper *s = user;
    if (p->end_of_epoch) return;
    if (++s->steps == s->stop_at) occam_fit_request_stop(SIGINT);
}

static int ckpt(void *ctx, const occam_train_view *v, bool interrupted, occam_error *err)
{
    return occam_state_checkpoint(&((stopper *)ctx)->wr, v, interrupted, err);
}

static int restore(void *ctx, const occam_train_view *v, occam_error *err)
{
    return occam_state_restore(&((stopper *)ctx)->rd, v, err);
}

/* The NUMA group of each thread for the next runs (NULL: one group). */
static const int *run_node_of;

/* Trains cfg on `threads` threads, from `resume_from` if not NULL, asking for a stop after
 * optimiser step `stop_at` (0: never). */
static outcome run(const occam_config *cfg, int threads, int64_t stop_at, const char *resume_from)
{
    outcome o = {0};
    occam_error err = {0};
    occam_dataset train, test;
    occam_fit_clear_stop();
    cr_assert_eq(occam_data_load(&cfg->data, occam_config_inputs(cfg), occam_config_outputs(cfg), &train, &test, &err), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(occam_model_create(&o.m, &cfg->model, cfg->data.task, &err), OCCAM_OK);
    occam_model_init(&o.m, cfg->model.init, cfg->train.seed);
    occam_trainer *tr;
    occam_affinity aff = {.node_of = run_node_of};
    cr_assert_eq(occam_trainer_create(&tr, &o.m, occam_config_trainer(cfg), threads,
                                      run_node_of ? &aff : NULL, &err), OCCAM_OK);
    stopper s = {.wr = {.dir = cfg->train.checkpoint_dir, .every = cfg->train.checkpoint_every,
                        .keep = cfg->train.checkpoint_keep},
                 .rd = {.path = resume_from},
                 .stop_at = stop_at};
    occam_train_io io = {.progress = count_steps, .user = &s, .checkpoint = ckpt,
                       .restore = resume_from ? restore : NULL, .ctx = &s};
    o.rc = occam_train_run(tr, &o.m, cfg, &train, &test, &o.res, &o.log, &io, &err);
    occam_state_writer_close(&s.wr); /* the next run in this process takes the folder's lock */
    if (o.rc != OCCAM_OK && o.rc < OCCAM_STOPPED) snprintf(o.note, sizeof o.note, "%s", err.msg);
    else snprintf(o.note, sizeof o.note, "%s", s.rd.note);
    snprintf(o.unread, sizeof o.unread, "%s", s.rd.unread);
    snprintf(o.last, sizeof o.last, "%s", s.wr.last);
    occam_trainer_free(tr);
    occam_dataset_free(&train);
    occam_dataset_free(&test);
    return o;
}

/* A run stopped by SIGINT after step `at`, with its state saved. */
static outcome stopped_at(const occam_config *cfg, int threads, int64_t at)
{
    outcome o = run(cfg, threads, at, NULL);
    cr_assert_eq(o.rc, OCCAM_STOPPED + SIGINT, "stop at %lld: status %d", (long long)at, o.rc);
    cr_assert(o.last[0], "no checkpoint written on the stop");
    return o;
}

static void outcome_free(outcome *o)
{
    occam_model_free(&o->m);
    occam_fit_result_free(&o->res);
    occam_prune_log_free(&o->log);
}

/* The stopped-and-resumed run ends bit-identical to the straight one: widths, parameters, ρ,
 * masks, history (timings aside) and prune log. Returns the hidden units the stopped run's
 * model had (fewer than model.layers' once neurons were pruned). */
static int same_bits(const occam_config *cfg, int threads, int64_t stop_at)
{
    outcome a = run(cfg, threads, 0, NULL);
    cr_assert_eq(a.rc, OCCAM_OK, "%s", a.note);
    outcome b = stopped_at(cfg, threads, stop_at);
    outcome c = run(cfg, threads, 0, b.last);
    cr_assert_eq(c.rc, OCCAM_OK, "%s", c.note);
    cr_assert_str_empty(c.note, "%s", c.note);
    int hidden = 0;
    for (int l = 0; l <= a.m.lay.nlayers; l++) {
        cr_assert_eq(a.m.lay.width[l], c.m.lay.width[l], "layer %d's width", l);
        if (l > 0 && l < a.m.lay.nlayers) hidden += b.m.lay.width[l];
    }
    size_t n = a.m.lay.nparams;
    cr_assert_eq(c.m.lay.nparams, n);
    cr_assert(!memcmp(a.m.params, c.m.params, n * sizeof(float)), "weights differ");
    cr_assert_eq(!a.m.rho, !c.m.rho);
    if (a.m.rho) cr_assert(!memcmp(a.m.rho, c.m.rho, n * sizeof(float)), "ρ differs");
    cr_assert_eq(!a.m.mask, !c.m.mask);
    if (a.m.mask) cr_assert(!memcmp(a.m.mask, c.m.mask, n), "masks differ");
    cr_assert_eq(a.res.epochs, c.res.epochs);
    cr_assert_eq(a.res.steps, c.res.steps);
    for (int e = 0; e < a.res.epochs; e++) {
        const occam_epoch_stats *x = &a.res.history[e], *y = &c.res.history[e];
        cr_assert(x->train_loss == y->train_loss && x->test.accuracy == y->test.accuracy &&
                      x->lr == y->lr && x->test.loss == y->test.loss,
                  "epoch %d: loss %.17g vs %.17g", e + 1, x->train_loss, y->train_loss);
    }
    cr_assert_eq(a.log.n, c.log.n);
    cr_assert_eq(a.log.best, c.log.best);
    for (int i = 0; i < a.log.n; i++) {
        const occam_prune_event *x = &a.log.ev[i], *y = &c.log.ev[i];
        cr_assert(x->weights_active == y->weights_active && x->test_metric == y->test_metric &&
                      x->total_bits == y->total_bits && x->epoch == y->epoch &&
                      x->opt_step == y->opt_step,
                  "prune event %d differs", i + 1);
        cr_assert_eq(x->hidden_units, y->hidden_units, "prune event %d's units", i + 1);
    }
    outcome_free(&a);
    outcome_free(&b);
    outcome_free(&c);
    return hidden;
}

/* A rerun with one setting changed writes the same names: the first run's checkpoints were
 * replaced. Now each is renamed aside first, NAME.RUN.safetensors, and still loads; a FIFO
 * named like a checkpoint is never opened for its run's name (the clean-up hung in open()). */
Test(resume, another_runs_checkpoint_of_the_same_name_is_set_aside)
{
    occam_config cfg = blobs(2);
    cfg.train.checkpoint_every = 1;
    outcome a = run(&cfg, 1, 0, NULL);
    cr_assert_eq(a.rc, OCCAM_OK, "%s", a.note);
    char fifo[1200];
    snprintf(fifo, sizeof fifo, "%s/ckpt-e0009-s000000001.safetensors",
             cfg.train.checkpoint_dir);
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    cfg.train.optim.lr *= 2;
    outcome b = run(&cfg, 1, 0, NULL);
    cr_assert_eq(b.rc, OCCAM_OK, "%s", b.note);
    cr_assert_str_eq(a.last, b.last); /* the same name */
    int aside = 0;
    DIR *h = opendir(cfg.train.checkpoint_dir);
    cr_assert(h);
    for (struct dirent *e; (e = readdir(h));) {
        size_t n = strlen(e->d_name);
        if (strncmp(e->d_name, "ckpt-e0002-s000000064.", 22) || n != 22 + 16 + 12) continue;
        aside++;
        char p[1400];
        snprintf(p, sizeof p, "%s/%s", cfg.train.checkpoint_dir, e->d_name);
        occam_model m;
        occam_error err = {0};
        cr_assert_eq(occam_model_create(&m, &cfg.model, cfg.data.task, &err), OCCAM_OK);
        cr_assert_eq(occam_checkpoint_load(p, &m, &err), OCCAM_OK, "%s", err.msg);
        occam_model_free(&m);
    }
    closedir(h);
    cr_assert_eq(aside, 1, "the first run's last checkpoint was not kept aside");
    cr_assert_eq(access(fifo, F_OK), 0, "the FIFO was removed");
    outcome_free(&a);
    outcome_free(&b);
}

Test(resume, dense_sgd_mid_epoch_is_bit_identical)
{
    occam_config cfg = blobs(4);
    same_bits(&cfg, 2, 50); /* 32 steps an epoch: inside epoch 2 */
    same_bits(&cfg, 1, 32); /* at an epoch's last step */
}

Test(resume, noisy_adam_is_bit_identical)
{
    occam_config cfg = blobs(4);
    cfg.train.optim.optimizer = OCCAM_OPT_ADAM;
    cfg.train.optim.lr = 0.005;
    cfg.noise.enabled = true;
    cfg.model.layers[1] = 300; /* enough weights that a σ² cache rebuilt in double would show */
    cfg.noise.warmup_epochs = 2;
    same_bits(&cfg, 2, 70);
    cfg.noise.warmup_epochs = 5;
    same_bits(&cfg, 2, 65); /* the first step of epoch 3, inside the warm-up */
}

/* The mixture prior (its EM state is checkpointed) under SGD's semi-implicit prior step. */
Test(resume, noisy_mixture_sgd_is_bit_identical)
{
    occam_config cfg = blobs(4);
    cfg.train.optim.optimizer = OCCAM_OPT_SGD;
    cfg.train.optim.lr = 0.05;
    cfg.train.optim.momentum = 0.9;
    cfg.noise.enabled = true;
    cfg.noise.prior = OCCAM_PRIOR_MOG;
    cfg.noise.warmup_epochs = 2;
    same_bits(&cfg, 2, 70);
}

/* Noisy regression under the default Gaussian (one width, the units' rebalancing, the
 * Gauss–Newton γ table behind the learned noise level), stopped inside an epoch after the
 * warm-up, under SGD and Adam. */
Test(resume, noisy_regression_mid_epoch_is_bit_identical)
{
    static const char *const sets[] = {
        "data.source=peptide", "data.task=regress", "data.features=12", "data.samples=64",
        "data.test_samples=32", "model.layers=12,10,1", "model.activation=relu",
        "train.batch=16", "train.epochs=8", "train.lr=0.01", "train.momentum=0.9",
        "noise.enabled=true", "noise.warmup_epochs=2"};
    for (int adam = 0; adam < 2; adam++) {
        occam_config cfg = blobs(8);
        occam_error err;
        for (size_t i = 0; i < sizeof sets / sizeof *sets; i++)
            cr_assert_eq(occam_config_set(&cfg, sets[i], &err), OCCAM_OK, "%s", err.msg);
        cfg.train.optim.optimizer = adam ? OCCAM_OPT_ADAM : OCCAM_OPT_SGD;
        cr_assert_eq(occam_config_validate(&cfg, &err), OCCAM_OK, "%s", err.msg);
        same_bits(&cfg, 2, 18); /* 4 steps an epoch: inside epoch 5, rebalanced at its start */
        same_bits(&cfg, 1, 13); /* the first step of epoch 4 */
        if (adam) continue;
        cfg.train.epochs = 22; /* the γ table is made at epochs 3, 4, 6, 9, 13 and 19 */
        same_bits(&cfg, 2, 70); /* inside epoch 17 (0-based), whose table epoch 13 made */
        same_bits(&cfg, 2, 68); /* at the end of epoch 16: epoch 17 does not remake it */
    }
}

Test(resume, iterative_pruning_with_rewind_is_bit_identical)
{
    occam_config cfg = blobs(3);
    cfg.prune.schedule = OCCAM_PRUNE_ITERATIVE;
    cfg.prune.steps = 3;
    cfg.prune.finetune_epochs = 2;
    cfg.prune.target = 0.8;
    cfg.prune.rewind = OCCAM_REWIND_EPOCH;
    cfg.prune.rewind_epoch = 1;
    same_bits(&cfg, 2, 40);      /* in the dense phase */
    same_bits(&cfg, 2, 96 + 70); /* in the second fine-tuning */
}

Test(resume, mdl_and_agp_schedules_are_bit_identical)
{
    occam_config cfg = blobs(2);
    cfg.prune.schedule = OCCAM_PRUNE_MDL;
    cfg.prune.steps = 2;
    cfg.prune.finetune_epochs = 1;
    same_bits(&cfg, 2, 64 + 10); /* after the dense model was scored */
    /* Stopped in the dense phase, before any model was scored: the state holds the copy of
     * the shortest model as it is then, which was uninitialised memory (a mask byte of 64, so
     * the resume refused the run's own checkpoint as damaged, and two runs wrote different
     * files). M_PERTURB makes every allocation start as garbage, as a reused block would. */
    mallopt(M_PERTURB, 0xbf);
    same_bits(&cfg, 2, 10);
    mallopt(M_PERTURB, 0);
    cfg = blobs(4);
    cfg.prune.schedule = OCCAM_PRUNE_AGP;
    cfg.prune.start = 1;
    cfg.prune.end = 3;
    cfg.prune.every = 8;
    same_bits(&cfg, 2, 70);
}

/* blobs whose hidden units prune.schedule = sched removes (prune.granularity = neuron): 32
 * steps an epoch, 50 hidden units. */
static occam_config neurons(int epochs, int sched)
{
    occam_config cfg = blobs(epochs);
    cfg.prune.schedule = sched;
    cfg.prune.granularity = OCCAM_GRAN_NEURON;
    cfg.prune.steps = 3;
    cfg.prune.finetune_epochs = 1;
    cfg.prune.target = 0.6;
    return cfg;
}

/* A run whose neurons were pruned saves its model at the narrower widths, and the resume
 * refused that state ("a run whose neurons were pruned cannot be resumed"): a long fine-tuning
 * lost everything since the last checkpoint before the prune. It continues now at the saved
 * widths, bit for bit, stopped before the first prune, between prune steps, and in the
 * fine-tuning after the last, at 1 and 2 threads. */
Test(resume, neuron_pruned_runs_resume_bit_identically, .timeout = 120)
{
    occam_config cfg = neurons(2, OCCAM_PRUNE_ITERATIVE); /* prunes after steps 64, 96, 128 */
    cr_assert_eq(same_bits(&cfg, 2, 40), 50);      /* the dense phase */
    cr_assert_eq(same_bits(&cfg, 2, 64 + 10), 40); /* after the first prune */
    cr_assert_eq(same_bits(&cfg, 1, 96 + 20), 30); /* after the second */
    cr_assert_eq(same_bits(&cfg, 2, 96), 40);      /* the last step before the second */
    cr_assert_eq(same_bits(&cfg, 1, 150), 20);     /* in the last fine-tuning */
    /* two hidden layers, Adam's moments, one prune and a longer fine-tuning */
    cfg = neurons(2, OCCAM_PRUNE_ONESHOT);
    cfg.prune.finetune_epochs = 3;
    cfg.model.nlayers = 4;
    cfg.model.layers[1] = 64;
    cfg.model.layers[2] = 32;
    cfg.model.layers[3] = 3;
    cfg.train.optim.optimizer = OCCAM_OPT_ADAM;
    cfg.train.optim.lr = 0.005;
    cr_assert_lt(same_bits(&cfg, 2, 64 + 45), 96);
    cr_assert_lt(same_bits(&cfg, 1, 64 + 1), 96);
    /* prune.finetune_epochs = 0 with its events scored: stopped between two back-to-back
     * prune steps */
    cfg = neurons(2, OCCAM_PRUNE_ITERATIVE);
    cfg.prune.finetune_epochs = 0;
    cfg.prune.score_events = true;
    cr_assert_eq(same_bits(&cfg, 2, 64), 50);
}

/* agp removes units every prune.every steps inside its ramp: stopped between two of them, in
 * the middle of an epoch, and after the ramp. */
Test(resume, neuron_pruned_agp_run_resumes_bit_identically, .timeout = 120)
{
    occam_config cfg = neurons(4, OCCAM_PRUNE_AGP);
    cfg.prune.start = 1;
    cfg.prune.end = 3;
    cfg.prune.every = 8;
    cr_assert_lt(same_bits(&cfg, 2, 32 + 21), 50);
    cr_assert_eq(same_bits(&cfg, 1, 100), 20);
    cfg.runtime.grad = OCCAM_GRAD_SHARD; /* the shard path's reduction over the new layout */
    cfg.model.layers[1] = 300;
    cr_assert_lt(same_bits(&cfg, 2, 32 + 45), 300);
}

/* prune.finetune_epochs = 0: the prune steps follow one another with no epoch between them.
 * A stop that came during one step's evaluation or scoring was taken at the next step's
 * check and saved the schedule's phase with the dense phase's place in it (phase 1, 3 epochs
 * of it): the run's own resume refused its checkpoint ("does not fit this config's
 * schedule"). A stop cannot be asked for in-process at that moment, so the state is saved
 * where such a run ends, the same place, and resumed. */
Test(resume, prune_steps_without_fine_tuning_save_a_position_that_fits)
{
    for (int mdl = 0; mdl < 2; mdl++) {
        occam_config cfg = blobs(3);
        cfg.prune.schedule = mdl ? OCCAM_PRUNE_MDL : OCCAM_PRUNE_ITERATIVE;
        cfg.prune.steps = 3;
        cfg.prune.finetune_epochs = 0;
        outcome a = run(&cfg, 1, 0, NULL);
        cr_assert_eq(a.rc, OCCAM_OK, "%s", a.note);

        occam_error err = {0};
        occam_dataset train, test;
        occam_fit_clear_stop();
        cr_assert_eq(occam_data_load(&cfg.data, occam_config_inputs(&cfg),
                                     occam_config_outputs(&cfg), &train, &test, &err), OCCAM_OK);
        occam_model m;
        cr_assert_eq(occam_model_create(&m, &cfg.model, cfg.data.task, &err), OCCAM_OK);
        occam_model_init(&m, cfg.model.init, cfg.train.seed);
        occam_trainer *tr;
        cr_assert_eq(occam_trainer_create(&tr, &m, occam_config_trainer(&cfg), 1, NULL, &err),
                     OCCAM_OK);
        occam_fit_result res;
        occam_prune_log log;
        occam_train_io io = {0};
        cr_assert_eq(occam_train_run(tr, &m, &cfg, &train, &test, &res, &log, &io, &err),
                     OCCAM_OK, "%s", err.msg);
        cr_assert_eq(res.pos.phase, 3);
        size_t n = m.lay.nparams;
        float *best = calloc(n, sizeof(float));
        uint8_t *mask = calloc(n, 1);
        double total = a.log.best >= 0 ? a.log.ev[a.log.best].total_bits : INFINITY;
        occam_train_view v = {.cfg = &cfg, .m = &m, .tr = tr, .res = &res, .log = &log};
        if (mdl) { /* the copy holds the model the run kept */
            memcpy(best, m.params, n * sizeof(float));
            memcpy(mask, m.mask, n);
            v.best_params = best;
            v.best_mask = mask;
            v.best_total = &total;
        }
        char path[1200];
        snprintf(path, sizeof path, "%s/between-steps.safetensors", dir);
        cr_assert_eq(occam_state_save(path, &v, &err), OCCAM_OK, "%s", err.msg);
        free(best);
        free(mask);
        occam_trainer_free(tr);
        occam_model_free(&m);
        occam_fit_result_free(&res);
        occam_prune_log_free(&log);
        occam_dataset_free(&train);
        occam_dataset_free(&test);

        outcome c = run(&cfg, 1, 0, path);
        cr_assert_eq(c.rc, OCCAM_OK, "%s", c.note);
        cr_assert_str_empty(c.note, "%s", c.note);
        cr_assert(!memcmp(a.m.params, c.m.params, n * sizeof(float)), "weights differ");
        cr_assert(!memcmp(a.m.mask, c.m.mask, n), "masks differ");
        cr_assert_eq(a.log.n, c.log.n);
        outcome_free(&a);
        outcome_free(&c);
    }
}

Test(resume, another_thread_count_resumes_and_says_so)
{
    occam_config cfg = blobs(3);
    outcome b = stopped_at(&cfg, 2, 40);
    outcome c = run(&cfg, 1, 0, b.last);
    cr_assert_eq(c.rc, OCCAM_OK, "%s", c.note);
    cr_assert(strstr(c.note, "2 threads in all (ranks × threads), this one has 1"), "%s", c.note);
    cr_assert_eq(c.res.epochs, 3);
    cr_assert(c.res.history[2].test.accuracy > 0.9, "%g", c.res.history[2].test.accuracy);
    outcome_free(&b);
    outcome_free(&c);
}

/* The shard path's sums, grouped by NUMA node, add the same partials in another order under
 * another grouping (another placement, CPU mask or machine). A resume under another one said
 * "it continues bit-identically". */
Test(resume, another_numa_grouping_says_so)
{
    occam_config cfg = blobs(3);
    cfg.runtime.grad = OCCAM_GRAD_SHARD;
    static const int two[] = {0, 1};
    run_node_of = two;
    outcome b = stopped_at(&cfg, 2, 40);
    outcome c = run(&cfg, 2, 0, b.last); /* the same grouping: no note */
    cr_assert_eq(c.rc, OCCAM_OK, "%s", c.note);
    cr_assert_str_eq(c.note, "");
    run_node_of = NULL;
    outcome d = run(&cfg, 2, 0, b.last);
    cr_assert_eq(d.rc, OCCAM_OK, "%s", d.note);
    cr_assert(strstr(d.note, "the checkpoint's threads summed their gradients grouped by NUMA "
                             "node as 0,1, this run's as one group"), "note: %s", d.note);
    outcome_free(&b);
    outcome_free(&c);
    outcome_free(&d);
}

/* runtime.oversubscribe only permits a thread count (compared on its own), and
 * runtime.weights = replicate or interleave only places the weights' memory: the same bits.
 * A resume that changed either said "the run continues, but not bit-identically". */
Test(resume, runtime_keys_that_keep_the_bits_are_quiet)
{
    occam_config cfg = blobs(3);
    outcome a = run(&cfg, 2, 0, NULL);
    cr_assert_eq(a.rc, OCCAM_OK, "%s", a.note);
    outcome b = stopped_at(&cfg, 2, 40);
    occam_config other = cfg;
    other.runtime.oversubscribe = !cfg.runtime.oversubscribe;
    other.runtime.weights = OCCAM_WEIGHTS_REPLICATE;
    outcome c = run(&other, 2, 0, b.last);
    cr_assert_eq(c.rc, OCCAM_OK, "%s", c.note);
    cr_assert_str_empty(c.note, "note: %s", c.note);
    cr_assert_str_empty(c.unread, "unread: %s", c.unread);
    cr_assert(!memcmp(a.m.params, c.m.params, a.m.lay.nparams * sizeof(float)),
              "weights differ");
    outcome_free(&a);
    outcome_free(&b);
    outcome_free(&c);
}

Test(resume, changed_keys_are_noted_and_shape_changes_refused)
{
    occam_config cfg = blobs(3);
    outcome b = stopped_at(&cfg, 2, 40);
    occam_config lr = cfg;
    lr.train.optim.lr = 0.01;
    outcome c = run(&lr, 2, 0, b.last);
    cr_assert_eq(c.rc, OCCAM_OK, "%s", c.note);
    cr_assert(strstr(c.note, "train.lr changed from 0.05 to 0.01"), "note: %s", c.note);
    occam_config wide = cfg;
    wide.model.layers[1] = 60;
    outcome d = run(&wide, 2, 0, b.last);
    cr_assert_eq(d.rc, OCCAM_ERR_INPUT);
    cr_assert(strstr(d.note, "model.layers = [20,50,3], this config has [20,60,3]"), "%s",
              d.note);
    occam_config adam = cfg;
    adam.train.optim.optimizer = OCCAM_OPT_ADAM;
    outcome e = run(&adam, 2, 0, b.last);
    cr_assert_eq(e.rc, OCCAM_ERR_INPUT);
    cr_assert(strstr(e.note, "train.optimizer"), "%s", e.note);
    occam_config fewer = cfg;
    fewer.data.samples = 900;
    outcome f = run(&fewer, 2, 0, b.last);
    cr_assert_eq(f.rc, OCCAM_ERR_INPUT);
    cr_assert(strstr(f.note, "training set had"), "%s", f.note);
    outcome_free(&b);
    outcome_free(&c);
    outcome_free(&d);
    outcome_free(&e);
    outcome_free(&f);
}

/* cfg stopped after step `at` and resumed as `changed`: refused as an input error whose note
 * holds `says`. */
static void resume_refused(const occam_config *cfg, const occam_config *changed, int64_t at,
                           const char *says)
{
    outcome b = stopped_at(cfg, 1, at);
    outcome c = run(changed, 1, 0, b.last);
    cr_assert_eq(c.rc, OCCAM_ERR_INPUT);
    cr_assert(strstr(c.note, says), "%s", c.note);
    outcome_free(&c);
    outcome_free(&b);
}

/* cfg stopped after step `at` and resumed as `changed`: it continues, names each of `unread`
 * (NULL-terminated) among the changed keys it does not read, has nothing else to note, and
 * ends bit for bit as cfg's run that never stopped. */
static void resumes_unread(const occam_config *cfg, const occam_config *changed, int64_t at,
                           const char *const *unread)
{
    outcome whole = run(cfg, 1, 0, NULL);
    cr_assert_eq(whole.rc, OCCAM_OK, "%s", whole.note);
    outcome b = stopped_at(cfg, 1, at);
    outcome c = run(changed, 1, 0, b.last);
    cr_assert_eq(c.rc, OCCAM_OK, "%s", c.note);
    for (; *unread; unread++) cr_assert(strstr(c.unread, *unread), "%s", c.unread);
    cr_assert_str_empty(c.note, "bit for bit: %s", c.note);
    cr_assert_eq(c.log.n, whole.log.n);
    cr_assert_eq(memcmp(c.m.params, whole.m.params, whole.m.lay.nparams * sizeof(float)), 0,
                 "the resumed run differs from the whole one");
    outcome_free(&c);
    outcome_free(&b);
    outcome_free(&whole);
}

/* A fixed key the checkpoint's run does not read blocks nothing: noise.components under the
 * Gaussian prior (it sizes a mixture) and noise.prior without noise were refused as "a resume
 * cannot change the model's shape". The resume is noted and ends bit for bit as the run that
 * never stopped; under the mixture prior, where noise.components sizes the state, it is still
 * refused. */
Test(resume, fixed_keys_the_run_does_not_read_do_not_block_it)
{
    occam_config cfg = blobs(3);
    cfg.noise.enabled = true;
    cfg.noise.warmup_epochs = 1;
    occam_config five = cfg;
    five.noise.components = 5;
    resumes_unread(&cfg, &five, 40,
                   (const char *const[]){"noise.components changed from 3 to 5", NULL});
    /* without noise, no noise.* key is read: noise.prior may change */
    occam_config dense = blobs(3);
    snprintf(dense.train.checkpoint_dir, sizeof dense.train.checkpoint_dir, "%s/ckpt2", dir);
    outcome d = stopped_at(&dense, 1, 40);
    occam_config mog = dense;
    mog.noise.prior = OCCAM_PRIOR_MOG;
    outcome e = run(&mog, 1, 0, d.last);
    cr_assert_eq(e.rc, OCCAM_OK, "%s", e.note);
    outcome_free(&e);
    outcome_free(&d);
    /* the mixture reads it: refused */
    occam_config mix = cfg;
    mix.noise.prior = OCCAM_PRIOR_MOG;
    snprintf(mix.train.checkpoint_dir, sizeof mix.train.checkpoint_dir, "%s/ckpt3", dir);
    occam_config mix5 = mix;
    mix5.noise.components = 5;
    resume_refused(&mix, &mix5, 40, "noise.components = 3, this config has 5");
}

/* The prune keys that decide a state's layout are unread without the schedule that reads
 * them: a dense run stopped and resumed with prune.granularity, prune.rewind and prune.steps
 * changed was refused ("a resume cannot change the model's shape"), and so was an agp run with
 * prune.steps changed. Each is now noted as unread and ends bit for bit as the run that never
 * stopped; an iterative run, which reads prune.steps, still refuses a new one. */
Test(resume, prune_keys_the_run_does_not_read_do_not_block_it)
{
    occam_config cfg = blobs(3);
    occam_config other = cfg;
    other.prune.granularity = OCCAM_GRAN_NEURON;
    other.prune.rewind = OCCAM_REWIND_INIT;
    other.prune.steps = 7;
    resumes_unread(&cfg, &other, 40,
                   (const char *const[]){"prune.granularity changed from weight to neuron",
                                         "prune.rewind changed from none to init",
                                         "prune.steps changed from 5 to 7", NULL});
    /* agp reads no prune.steps */
    occam_config agp = blobs(4);
    agp.prune.schedule = OCCAM_PRUNE_AGP;
    agp.prune.start = 1;
    agp.prune.end = 3;
    agp.prune.every = 8;
    snprintf(agp.train.checkpoint_dir, sizeof agp.train.checkpoint_dir, "%s/ckpt2", dir);
    occam_config agp3 = agp;
    agp3.prune.steps = 3;
    resumes_unread(&agp, &agp3, 70,
                   (const char *const[]){"prune.steps changed from 5 to 3", NULL});
    /* iterative reads it: refused */
    occam_config it = blobs(2);
    it.prune.schedule = OCCAM_PRUNE_ITERATIVE;
    it.prune.steps = 2;
    it.prune.finetune_epochs = 1;
    snprintf(it.train.checkpoint_dir, sizeof it.train.checkpoint_dir, "%s/ckpt3", dir);
    occam_config it3 = it;
    it3.prune.steps = 3;
    resume_refused(&it, &it3, 40, "prune.steps = 2, this config has 3");
}

static void copy_file(const char *from, const char *to, long truncate_at, long flip_at)
{
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    cr_assert(a && b);
    int ch;
    long i = 0;
    while ((ch = fgetc(a)) != EOF && (truncate_at < 0 || i < truncate_at)) {
        fputc(i == flip_at ? ch ^ 0x10 : ch, b);
        i++;
    }
    fclose(a);
    fclose(b);
}

static long file_size(const char *p)
{
    struct stat st;
    cr_assert_eq(stat(p, &st), 0, "%s", p);
    return (long)st.st_size;
}

Test(resume, corrupt_or_foreign_files_are_refused)
{
    occam_config cfg = blobs(2);
    outcome b = stopped_at(&cfg, 2, 40);
    long size = file_size(b.last);
    char bad[512];
    snprintf(bad, sizeof bad, "%s/bad.safetensors", dir);
    struct {
        long truncate, flip;
        const char *needle;
    } cases[] = {{size - 100, -1, "bad.safetensors"},
                 {size / 2, -1, "bad.safetensors"},
                 {4, -1, "bad.safetensors"},
                 {-1, size - 3, "checksum"},
                 {-1, 20, "bad.safetensors"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        copy_file(b.last, bad, cases[i].truncate, cases[i].flip);
        outcome c = run(&cfg, 2, 0, bad);
        cr_assert_eq(c.rc, OCCAM_ERR_INPUT, "case %zu: status %d", i, c.rc);
        cr_assert(strstr(c.note, cases[i].needle), "case %zu: %s", i, c.note);
        outcome_free(&c);
    }
    /* a weights file is not a training state */
    occam_error err;
    snprintf(bad, sizeof bad, "%s/weights.safetensors", dir);
    cr_assert_eq(occam_checkpoint_save(bad, &b.m, &cfg, NULL, &err), OCCAM_OK);
    outcome d = run(&cfg, 2, 0, bad);
    cr_assert_eq(d.rc, OCCAM_ERR_INPUT);
    cr_assert(strstr(d.note, "not a training state"), "%s", d.note);
    outcome_free(&d);
    /* but a training state is a weights file */
    occam_model m;
    cr_assert_eq(occam_model_create(&m, &cfg.model, cfg.data.task, &err), OCCAM_OK);
    cr_assert_eq(occam_checkpoint_load(b.last, &m, &err), OCCAM_OK, "%s", err.msg);
    cr_assert(!memcmp(m.params, b.m.params, m.lay.nparams * sizeof(float)));
    occam_model_free(&m);
    outcome_free(&b);
}

/* What a rewrite of a state changes (every member may be zero). */
typedef struct state_edit {
    const char *drop;            /* a tensor left out */
    const char *cut;             /* text removed from the saved config (a state written by an
                                    older occam) */
    const occam_st_tensor *swap; /* tensors put in place of those of their names */
    int nswap;
    const occam_st_meta *set;    /* metadata put in place of those of their keys */
    int nset;
} state_edit;

/* Rewrites the safetensors file `from` as `to` as e says, and without the checksum, which the
 * rewrite would break (a file without one is accepted). */
static void edit_state(const char *from, const char *to, const state_edit *e)
{
    occam_st_file f;
    occam_error err = {0};
    cr_assert_eq(occam_st_open(&f, from, &err), OCCAM_OK, "%s", err.msg);
    occam_st_tensor t[64];
    occam_st_meta meta[16];
    int nt = 0, nm = 0;
    cr_assert(f.ntensors <= 64 && f.nmeta <= 16);
    for (int i = 0; i < f.ntensors; i++) {
        const occam_st_tensor_view *x = &f.tensors[i];
        if (e->drop && !strcmp(x->name, e->drop)) continue;
        t[nt] = (occam_st_tensor){x->name, x->dtype, x->ndim, {0}, x->data};
        memcpy(t[nt].shape, x->shape, sizeof t[0].shape);
        for (int k = 0; k < e->nswap; k++)
            if (!strcmp(x->name, e->swap[k].name)) t[nt] = e->swap[k];
        nt++;
    }
    cr_assert_eq(nt, f.ntensors - !!e->drop, "no tensor %s in %s", e->drop, from);
    static char config[65536];
    for (int i = 0; i < f.nmeta; i++) {
        if (!strcmp(f.meta[i].key, OCCAM_ST_CHECKSUM_KEY)) continue;
        meta[nm] = f.meta[i];
        if (e->cut && !strcmp(f.meta[i].key, "config")) {
            const char *v = f.meta[i].value, *at = strstr(v, e->cut);
            cr_assert(at && strlen(v) < sizeof config, "no '%s' in the saved config", e->cut);
            snprintf(config, sizeof config, "%.*s%s", (int)(at - v), v, at + strlen(e->cut));
            meta[nm].value = config;
        }
        for (int k = 0; k < e->nset; k++)
            if (!strcmp(f.meta[i].key, e->set[k].key)) meta[nm].value = e->set[k].value;
        nm++;
    }
    cr_assert_eq(occam_st_write(to, t, nt, meta, nm, &err), OCCAM_OK, "%s", err.msg);
    occam_st_close(&f);
}

static void rewrite_state(const char *from, const char *to, const char *drop, const char *cut)
{
    edit_state(from, to, &(state_edit){.drop = drop, .cut = cut});
}

/* A stopped run's state (noisy weights or not) with its metadata `key` set to `value` resumes
 * saying `want` (NULL: no note holding `absent`); the state as written resumes without a note
 * holding `absent`. */
static void resume_notes_meta(bool noisy, const char *key, const char *value, const char *want,
                              const char *absent)
{
    occam_config cfg = blobs(3);
    cfg.noise.enabled = noisy;
    cfg.noise.warmup_epochs = 1;
    outcome b = stopped_at(&cfg, 1, 40);
    char other[512];
    snprintf(other, sizeof other, "%s/other.safetensors", dir);
    const occam_st_meta set = {key, value};
    edit_state(b.last, other, &(state_edit){.set = &set, .nset = 1});
    outcome c = run(&cfg, 1, 0, other);
    cr_assert_eq(c.rc, OCCAM_OK, "%s", c.note);
    if (want) cr_assert(strstr(c.note, want), "note: %s", c.note);
    else cr_assert_null(strstr(c.note, absent), "note: %s", c.note);
    outcome_free(&c);
    outcome d = run(&cfg, 1, 0, b.last); /* as written: no note */
    cr_assert_eq(d.rc, OCCAM_OK, "%s", d.note);
    cr_assert_null(strstr(d.note, absent), "note: %s", d.note);
    outcome_free(&d);
    outcome_free(&b);
}

/* A state written with another kernel set (moved from an AVX-512 host to an AVX2 one) says so:
 * the kernels round differently, and the resume said it continued bit-identically. */
Test(resume, a_state_from_other_kernels_says_so)
{
    resume_notes_meta(false, "occam.blis", "generic-elsewhere", "the checkpoint was written with "
                      "BLIS's generic-elsewhere kernels, this run uses ", "kernels");
}

/* The same for a noisy state another build's vector math wrote (one for a CPU without FMA
 * takes libm's), with the same sources and BLIS kernels: the resume said it continued
 * bit-identically, and did not (other-machines sweep). Only the noisy step uses it: a
 * deterministic state resumes without the note, bit-identically (it said it would not). */
Test(resume, a_state_from_another_builds_arithmetic_says_so)
{
    char want[256];
    snprintf(want, sizeof want, "the checkpoint's build took its vector math from "
             "libm-elsewhere, this one from %s", occam_trainer_arith());
    resume_notes_meta(true, "occam.arith", "libm-elsewhere", want, "vector math");
    resume_notes_meta(false, "occam.arith", "libm-elsewhere", NULL, "vector math");
}

/* A state another build wrote (an older occam, other sources or flags) says so: the resume said
 * it continued bit-identically, whatever occam wrote it (found by a hostile-input sweep). A
 * state of this build, or one from before the key, has no such note. */
Test(resume, a_state_from_another_build_says_so)
{
    occam_state_set_build("this-build");
    resume_notes_meta(false, "occam.build", "older-build", "the checkpoint was written by occam "
                      "build older-build, this is build this-build (other sources or flags: the "
                      "arithmetic may differ)", "occam build");
    resume_notes_meta(false, "occam.build", "", NULL, "occam build");
}

/* A mixture-prior state from before noise.zero_cap (one mixture per layer, its zero component
 * capped) resumes under today's mixture, and says so: the same keys mean another prior now. */
Test(resume, an_old_mixture_state_says_the_prior_changed)
{
    occam_config cfg = blobs(3);
    cfg.noise.enabled = true;
    cfg.noise.prior = OCCAM_PRIOR_MOG;
    cfg.noise.warmup_epochs = 1;
    outcome b = stopped_at(&cfg, 1, 40);
    char old[512];
    snprintf(old, sizeof old, "%s/old.safetensors", dir);
    rewrite_state(b.last, old, NULL, "\"zero_cap\": 0, ");
    outcome c = run(&cfg, 1, 0, old);
    cr_assert_eq(c.rc, OCCAM_OK, "%s", c.note);
    cr_assert(strstr(c.note, "the state was saved before noise.prior = mog became one mixture "
                             "for the network"), "note: %s", c.note);
    outcome_free(&c);
    outcome d = run(&cfg, 1, 0, b.last); /* today's state: no such note */
    cr_assert_eq(d.rc, OCCAM_OK, "%s", d.note);
    cr_assert_null(strstr(d.note, "saved before"), "note: %s", d.note);
    outcome_free(&d);
    outcome_free(&b);
}

/* A noisy run's state without its σ (layers.L.weight_rho) is damaged: the model's own load
 * takes a file without them (a deterministic model has none), and the run used to go on
 * from noise.init_sigma, saying it continued bit-identically. */
Test(resume, noisy_state_without_sigma_is_refused)
{
    occam_config cfg = blobs(3);
    cfg.noise.enabled = true;
    cfg.noise.warmup_epochs = 1;
    outcome b = stopped_at(&cfg, 1, 40);
    char bad[512];
    snprintf(bad, sizeof bad, "%s/nosigma.safetensors", dir);
    rewrite_state(b.last, bad, "layers.0.weight_rho", NULL);
    outcome c = run(&cfg, 1, 0, bad);
    cr_assert_eq(c.rc, OCCAM_ERR_INPUT, "status %d: %s", c.rc, c.note);
    cr_assert(strstr(c.note, "nosigma.safetensors: tensor 'layers.0.weight_rho' is missing"),
              "%s", c.note);
    outcome_free(&c);
    /* the same rewrite keeping σ resumes */
    rewrite_state(b.last, bad, NULL, NULL);
    outcome d = run(&cfg, 1, 0, bad);
    cr_assert_eq(d.rc, OCCAM_OK, "%s", d.note);
    outcome_free(&d);
    outcome_free(&b);
}

/* run.i64's entries by position (src/run/trainstate.c): steps, the world's threads, prune
 * events. */
enum { RUN_I64_N = 15, RUN_STEPS = 1, RUN_THREADS = 9, RUN_EVENTS = 11 };

/* A copy of the state's tensor `name` (caller frees), of *bytes bytes. */
static void *tensor_copy(const char *path, const char *name, size_t *bytes)
{
    occam_st_file f;
    occam_error err = {0};
    cr_assert_eq(occam_st_open(&f, path, &err), OCCAM_OK, "%s", err.msg);
    const occam_st_tensor_view *t = occam_st_find(&f, name);
    cr_assert_not_null(t, "%s: no %s", path, name);
    void *copy = malloc(t->nbytes ? t->nbytes : 1);
    cr_assert_not_null(copy);
    memcpy(copy, t->data, t->nbytes);
    *bytes = t->nbytes;
    occam_st_close(&f);
    return copy;
}

/* The state at `from` as `to`, with run.i64[RUN_STEPS] = steps (if >= 0), its prune events
 * `events` copies of its last one, and its metadata `set` (nset). */
static void forge_counts(const char *from, const char *to, int64_t steps, int64_t events,
                         int64_t threads, const occam_st_meta *set, int nset)
{
    size_t bytes;
    int64_t *iv = tensor_copy(from, "run.i64", &bytes);
    cr_assert_eq(bytes, RUN_I64_N * sizeof *iv);
    double *had = tensor_copy(from, "prune.events", &bytes), *ev = had;
    size_t cols = 13, rows = bytes / (cols * sizeof(double));
    if (steps >= 0) iv[RUN_STEPS] = steps;
    if (threads > 0) iv[RUN_THREADS] = threads;
    if (events >= 0) {
        cr_assert(rows > 0, "%s: no prune event to copy", from);
        ev = malloc((size_t)events * cols * sizeof(double));
        cr_assert_not_null(ev);
        for (int64_t e = 0; e < events; e++)
            memcpy(ev + e * cols, had + (rows - 1) * cols, cols * sizeof(double));
        iv[RUN_EVENTS] = events;
        rows = (size_t)events;
    }
    const occam_st_tensor swap[] = {
        {"run.i64", OCCAM_ST_I64, 1, {RUN_I64_N}, iv},
        {"prune.events", OCCAM_ST_F64, 2, {(int64_t)rows, (int64_t)cols}, ev}};
    edit_state(from, to, &(state_edit){.swap = swap, .nswap = 2, .set = set, .nset = nset});
    if (ev != had) free(ev);
    free(had);
    free(iv);
}

/* The saved config's text with `from` replaced by `to`, written as `dst` from `src`. */
static void forge_config(const char *src, const char *dst, const char *from, const char *to)
{
    occam_st_file f;
    occam_error err = {0};
    cr_assert_eq(occam_st_open(&f, src, &err), OCCAM_OK, "%s", err.msg);
    static char config[65536];
    const char *v = occam_st_meta_get(&f, "config"), *at = v ? strstr(v, from) : NULL;
    cr_assert(at && strlen(v) < sizeof config, "no '%s' in the saved config", from);
    snprintf(config, sizeof config, "%.*s%s%s", (int)(at - v), v, to, at + strlen(from));
    occam_st_close(&f);
    const occam_st_meta set = {"config", config};
    edit_state(src, dst, &(state_edit){.set = &set, .nset = 1});
}

/* Widths no run of the config writes stay refused, naming the key: a hidden layer wider than
 * model.layers gives it, narrower ones without neuron pruning, a model its own prune log does
 * not account for; and a resume that changes prune.granularity, as before. */
Test(resume, widths_no_run_of_the_config_writes_are_refused)
{
    occam_config cfg = neurons(2, OCCAM_PRUNE_ITERATIVE);
    outcome b = stopped_at(&cfg, 1, 64 + 10);
    cr_assert_eq(b.m.lay.width[1], 40);
    char bad[512];
    snprintf(bad, sizeof bad, "%s/bad.safetensors", dir);
    /* its config says model.layers = 20,30,3, as this run's */
    forge_config(b.last, bad, "\"layers\": [20,50,3]", "\"layers\": [20,30,3]");
    occam_config narrow = cfg;
    narrow.model.layers[1] = 30;
    outcome c = run(&narrow, 1, 0, bad);
    cr_assert_eq(c.rc, OCCAM_ERR_INPUT, "status %d: %s", c.rc, c.note);
    cr_assert(strstr(c.note, "bad.safetensors: the saved model is 20,40,3 wide, but "
                             "model.layers is 20,30,3: hidden layer 1 has 40 units, more than "
                             "the 30 model.layers gives it, which no run of this config writes "
                             "(check model.layers)"), "%s", c.note);
    outcome_free(&c);
    /* its config says weight granularity, as this run's */
    forge_config(b.last, bad, "\"granularity\": \"neuron\"", "\"granularity\": \"weight\"");
    occam_config weight = cfg;
    weight.prune.granularity = OCCAM_GRAN_WEIGHT;
    c = run(&weight, 1, 0, bad);
    cr_assert_eq(c.rc, OCCAM_ERR_INPUT, "status %d: %s", c.rc, c.note);
    cr_assert(strstr(c.note, "the saved model is 20,40,3 wide, but model.layers is 20,50,3: "
                             "narrower hidden layers come only from pruning neurons, and this "
                             "run has prune.granularity = weight"), "%s", c.note);
    outcome_free(&c);
    /* the state itself, resumed under weight granularity: the key is named */
    c = run(&weight, 1, 0, b.last);
    cr_assert_eq(c.rc, OCCAM_ERR_INPUT, "status %d: %s", c.rc, c.note);
    cr_assert(strstr(c.note, "prune.granularity = neuron, this config has weight"), "%s",
              c.note);
    outcome_free(&c);
    /* a prune log whose last event left 45 units, not the model's 40 */
    size_t bytes;
    double *ev = tensor_copy(b.last, "prune.events", &bytes);
    cr_assert_eq(bytes, 13 * sizeof(double));
    ev[6] = 45;
    const occam_st_tensor swap = {"prune.events", OCCAM_ST_F64, 2, {1, 13}, ev};
    edit_state(b.last, bad, &(state_edit){.swap = &swap, .nswap = 1});
    free(ev);
    c = run(&cfg, 1, 0, bad);
    cr_assert_eq(c.rc, OCCAM_ERR_INPUT, "status %d: %s", c.rc, c.note);
    cr_assert(strstr(c.note, "the saved model's hidden layers have 40 units (20,40,3), but its "
                             "last prune event left 45 (file damaged)"), "%s", c.note);
    outcome_free(&c);
    /* and the untouched state resumes */
    c = run(&cfg, 1, 0, b.last);
    cr_assert_eq(c.rc, OCCAM_OK, "%s", c.note);
    outcome_free(&c);
    outcome_free(&b);
}

/* blobs pruned by the agp ramp at every step from the start to epoch `end`. */
static occam_config agp_every_step(int epochs, int end)
{
    occam_config cfg = blobs(epochs);
    cfg.prune.schedule = OCCAM_PRUNE_AGP;
    cfg.prune.start = 0;
    cfg.prune.end = end;
    cfg.prune.every = 1;
    return cfg;
}

/* agp prunes at most once a step, and a run of over 10^6 events wrote states every resume
 * refused: "does not fit this config's schedule" (a fixed cap of 10^6 on the reader, none on
 * the writer). The bound is now the config's ramp: 1000 rows at a batch of 1 over 1001 epochs,
 * pruned every step, make 1,001,000 events; a state of 1,000,001 resumes (and writes 1,000,002
 * on its stop), and under prune.every = 2 it does not fit, saying why. */
Test(resume, an_agp_run_of_over_a_million_prune_events_resumes, .timeout = 300)
{
    occam_config cfg = agp_every_step(1001, 1001);
    cfg.train.batch = 1;
    outcome b = stopped_at(&cfg, 1, 3);
    cr_assert_eq(b.log.n, 3);
    char big[512];
    snprintf(big, sizeof big, "%s/big.safetensors", dir);
    const int64_t many = 1000001;
    forge_counts(b.last, big, many, many, 0, NULL, 0);
    outcome c = run(&cfg, 1, 1, big);
    cr_assert_eq(c.rc, OCCAM_STOPPED + SIGINT, "status %d: %s", c.rc, c.note);
    cr_assert_eq(c.log.n, many + 1);
    cr_assert_eq(c.res.steps, many + 1);
    outcome_free(&c);
    /* a resume may change prune.every (a note says so): the events already made at the old
     * one may outnumber the new ramp's (500,500), and were refused as "more than this config's
     * agp ramp makes" (found by review) */
    occam_config sparse = cfg;
    sparse.prune.every = 2;
    outcome d = run(&sparse, 1, 1, big);
    cr_assert_eq(d.rc, OCCAM_STOPPED + SIGINT, "status %d: %s", d.rc, d.note);
    cr_assert_geq(d.log.n, many);
    outcome_free(&d);
    outcome_free(&b);
}

/* Counts no run writes are the file's fault, not the config's: more agp events than steps,
 * more threads than the ranks that wrote it run (4096 each), no number of ranks. The message
 * said "does not fit this config's schedule: check train.epochs, train.batch and prune.*". */
Test(resume, counts_no_run_writes_are_damage_not_the_configs)
{
    occam_config cfg = agp_every_step(3, 2);
    outcome b = stopped_at(&cfg, 1, 40);
    cr_assert_eq(b.log.n, 40);
    char bad[512];
    snprintf(bad, sizeof bad, "%s/bad.safetensors", dir);
    static const occam_st_meta zero = {"occam.ranks", "0"}, two = {"occam.ranks", "2"};
    static const struct {
        int64_t events, threads;
        const occam_st_meta *ranks;
        const char *says;
    } forged[] = {
        {41, 0, NULL, "holds 41 prune events after 40 steps, which no run writes (file "
                      "damaged)"},
        {-1, 8193, &two, "holds 8193 threads in all for 2 ranks (each runs 1 to 4096), which "
                         "no run writes (file damaged)"},
        {-1, 4097, NULL, "holds 4097 threads in all for 1 rank (each runs 1 to 4096)"},
        {-1, 0, &zero, "metadata occam.ranks = '0' is not a number of ranks (file damaged)"},
    };
    for (size_t i = 0; i < sizeof forged / sizeof *forged; i++) {
        forge_counts(b.last, bad, -1, forged[i].events, forged[i].threads, forged[i].ranks,
                     forged[i].ranks != NULL);
        outcome c = run(&cfg, 1, 0, bad);
        cr_assert_eq(c.rc, OCCAM_ERR_INPUT, "%zu: status %d: %s", i, c.rc, c.note);
        cr_assert(strstr(c.note, forged[i].says), "%zu: %s", i, c.note);
        cr_assert_null(strstr(c.note, "check train.epochs"), "%s", c.note);
        outcome_free(&c);
    }
    outcome_free(&b);
}

/* The state's thread count is the world's, ranks × threads: 2 ranks of 2,500 threads wrote
 * 5000, over the reader's cap of 4096 in all, and no resume took it. The cap is 4096 a rank
 * (runtime.threads' largest), of the ranks the file says wrote it. */
Test(resume, a_world_of_more_than_4096_threads_resumes)
{
    occam_config cfg = blobs(3);
    outcome b = stopped_at(&cfg, 1, 40);
    char wide[512];
    snprintf(wide, sizeof wide, "%s/wide.safetensors", dir);
    static const occam_st_meta two = {"occam.ranks", "2"};
    forge_counts(b.last, wide, -1, -1, 5000, &two, 1);
    outcome c = run(&cfg, 1, 0, wide);
    cr_assert_eq(c.rc, OCCAM_OK, "%s", c.note);
    cr_assert(strstr(c.note, "the checkpoint was written by a run of 5000 threads in all "
                             "(ranks × threads), this one has 1"), "%s", c.note);
    cr_assert_eq(c.res.epochs, 3);
    outcome_free(&c);
    outcome_free(&b);
}

static int count_files(const char *d, const char *prefix)
{
    DIR *h = opendir(d);
    cr_assert(h);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(h)))
        n += !strncmp(e->d_name, prefix, strlen(prefix));
    closedir(h);
    return n;
}

Test(resume, keeps_the_newest_checkpoints_and_clears_dead_writers_leftovers)
{
    occam_config cfg = blobs(5);
    cfg.train.checkpoint_every = 1;
    cfg.train.checkpoint_keep = 2;
    cr_assert_eq(mkdir(cfg.train.checkpoint_dir, 0777), 0);
    char stale[1200];
    /* pid 2^22 + 1 is above Linux's pid_max: no such process */
    snprintf(stale, sizeof stale, "%s/ckpt-e0001-s000000001.safetensors.tmp.4194305",
             cfg.train.checkpoint_dir);
    FILE *f = fopen(stale, "w");
    cr_assert(f);
    fputs("half a file", f);
    fclose(f);
    outcome a = run(&cfg, 2, 0, NULL);
    cr_assert_eq(a.rc, OCCAM_OK, "%s", a.note);
    cr_assert_eq(count_files(cfg.train.checkpoint_dir, "ckpt-"), 2);
    char want[1200];
    snprintf(want, sizeof want, "%s/ckpt-e0005-s000000160.safetensors", cfg.train.checkpoint_dir);
    cr_assert_str_eq(a.last, want);
    snprintf(want, sizeof want, "%s/ckpt-e0004-s000000128.safetensors", cfg.train.checkpoint_dir);
    cr_assert_eq(access(want, R_OK), 0, "%s", want);
    cr_assert_neq(access(stale, F_OK), 0, "the dead writer's temporary file is still there");
    outcome_free(&a);
}

/* A later run in the same folder keeps to its own checkpoints: a second, unrelated run in the
 * default folder deleted the first one's final states without a word. A resumed run goes on
 * under its name and still tidies the files from before its resume. */
Test(resume, a_run_removes_only_its_own_checkpoints)
{
    occam_config cfg = blobs(5);
    cfg.train.checkpoint_every = 1;
    cfg.train.checkpoint_keep = 2;
    outcome a = run(&cfg, 1, 0, NULL); /* e1..e5 written, e4 and e5 kept */
    cr_assert_eq(a.rc, OCCAM_OK, "%s", a.note);
    cr_assert_eq(count_files(cfg.train.checkpoint_dir, "ckpt-"), 2);
    occam_config other = blobs(3);
    other.train.checkpoint_every = 1;
    other.train.checkpoint_keep = 1;
    other.train.batch = 50; /* other steps: other names */
    snprintf(other.train.checkpoint_dir, sizeof other.train.checkpoint_dir, "%s",
             cfg.train.checkpoint_dir);
    outcome b = run(&other, 1, 0, NULL);
    cr_assert_eq(b.rc, OCCAM_OK, "%s", b.note);
    cr_assert_eq(access(a.last, R_OK), 0, "the first run's last checkpoint was removed");
    cr_assert_eq(count_files(cfg.train.checkpoint_dir, "ckpt-"), 2 + 1);
    /* the first run resumed (to 7 epochs) removes its own e4 and e5 as it goes, never b's */
    cfg.train.epochs = 7;
    outcome c = run(&cfg, 1, 0, a.last);
    cr_assert_eq(c.rc, OCCAM_OK, "%s", c.note);
    cr_assert_eq(access(a.last, F_OK), -1, "the run's own older checkpoint was kept");
    cr_assert_eq(access(b.last, R_OK), 0, "the other run's checkpoint was removed");
    cr_assert_eq(count_files(cfg.train.checkpoint_dir, "ckpt-"), 2 + 1);
    outcome_free(&a);
    outcome_free(&b);
    outcome_free(&c);
}

/* Names the clean-up parses: an epoch past an int or steps past a long long are no name a run
 * writes. sscanf's %d read ckpt-e99999999999 as epoch 1215752191 (undefined behaviour), and %lld
 * s99999999999999999999 as LLONG_MAX steps: a copy of this run's state under the first name
 * was removed as its oldest checkpoint, and under the second said to be a checkpoint of this run
 * past the one just written. Both are left be now, as any other file. */
Test(resume, checkpoint_names_past_their_numbers_are_left_alone)
{
    occam_config cfg = blobs(2);
    cfg.train.checkpoint_every = 1;
    cfg.train.checkpoint_keep = 1;
    outcome a = run(&cfg, 1, 0, NULL);
    cr_assert_eq(a.rc, OCCAM_OK, "%s", a.note);
    static const char *const odd[] = {"ckpt-e99999999999-s000000001.safetensors",
                                      "ckpt-e0001-s99999999999999999999.safetensors",
                                      "ckpt-e-001-s000000001.safetensors",
                                      "ckpt-e 001-s000000001.safetensors"};
    char path[sizeof odd / sizeof *odd][1200];
    for (size_t i = 0; i < sizeof odd / sizeof *odd; i++) {
        snprintf(path[i], sizeof path[i], "%s/%s", cfg.train.checkpoint_dir, odd[i]);
        copy_file(a.last, path[i], -1, -1); /* this run's, by its header */
    }
    cfg.train.epochs = 3;
    outcome c = run(&cfg, 1, 0, a.last); /* goes on under the run's name, keeping 1 */
    cr_assert_eq(c.rc, OCCAM_OK, "%s", c.note);
    for (size_t i = 0; i < sizeof odd / sizeof *odd; i++)
        cr_assert_eq(access(path[i], R_OK), 0, "%s was removed", odd[i]);
    cr_assert_eq(access(a.last, F_OK), -1, "the run's own older checkpoint was kept");
    cr_assert_eq(count_files(cfg.train.checkpoint_dir, "ckpt-"), 1 + 4);
    outcome_free(&a);
    outcome_free(&c);
}

/* A full disk (here: the file-size limit) fails the write with a clear error; the checkpoint
 * already there is untouched and still loads, and no temporary file is left. */
Test(resume, full_disk_keeps_the_existing_checkpoint)
{
    occam_config cfg = blobs(2);
    outcome b = stopped_at(&cfg, 2, 40);
    long size = file_size(b.last);
    FILE *f = fopen(b.last, "rb");
    char *before = malloc((size_t)size);
    cr_assert(f && fread(before, 1, (size_t)size, f) == (size_t)size);
    fclose(f);
    outcome c = run(&cfg, 2, 0, b.last); /* a model and trainer to save from */
    cr_assert_eq(c.rc, OCCAM_OK);
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl = {.rlim_cur = 4096, .rlim_max = RLIM_INFINITY};
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
    occam_error err;
    cr_assert_eq(occam_checkpoint_save(b.last, &c.m, &cfg, NULL, &err), OCCAM_ERR_RUNTIME);
    cr_assert(strstr(err.msg, "write failed"), "%s", err.msg);
    rl.rlim_cur = RLIM_INFINITY;
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
    f = fopen(b.last, "rb");
    char *after = malloc((size_t)size);
    cr_assert(f && fread(after, 1, (size_t)size, f) == (size_t)size && fgetc(f) == EOF);
    fclose(f);
    cr_assert(!memcmp(before, after, (size_t)size), "the old checkpoint changed");
    char d[4200];
    snprintf(d, sizeof d, "%s", b.last);
    *strrchr(d, '/') = 0;
    cr_assert_eq(count_files(d, "ckpt-"), 1, "a temporary file was left behind");
    outcome e = run(&cfg, 2, 0, b.last);
    cr_assert_eq(e.rc, OCCAM_OK, "%s", e.note);
    free(before);
    free(after);
    outcome_free(&b);
    outcome_free(&c);
    outcome_free(&e);
}

Test(resume, diverged_weights_are_never_saved)
{
    occam_config cfg = blobs(2);
    outcome b = stopped_at(&cfg, 1, 40);
    occam_error err;
    occam_trainer *tr;
    cr_assert_eq(occam_trainer_create(&tr, &b.m, occam_config_trainer(&cfg), 1, NULL, &err), OCCAM_OK);
    b.m.params[3] = NAN;
    occam_train_view v = {.cfg = &cfg, .m = &b.m, .tr = tr, .res = &b.res, .log = &b.log};
    char p[600];
    snprintf(p, sizeof p, "%s/nan.safetensors", dir);
    cr_assert_eq(occam_state_save(p, &v, &err), OCCAM_ERR_RUNTIME);
    cr_assert(strstr(err.msg, "diverged") && strstr(err.msg, "NaN"), "%s", err.msg);
    cr_assert_neq(access(p, F_OK), 0);
    occam_trainer_free(tr);
    outcome_free(&b);
}
