/* End-to-end training in-process: accuracy on the blobs task, bitwise reproducibility for a
 * fixed seed and thread count, and agreement between thread counts. */
#include <criterion/criterion.h>
#include <limits.h>
#include <malloc.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blis_kernels.h"
#include "occam/config.h"
#include "occam/data.h"
#include "occam/fit.h"
#include "occam/gemm.h"
#include "occam/model.h"
#include "occam/prune.h"
#include "occam/train.h"
#include "occam/trainer.h"

static void blobs_config(occam_config *cfg)
{
    occam_config_defaults(cfg);
    occam_error err;
    cr_assert_eq(occam_config_load(cfg, "configs/blobs.ini", &err), OCCAM_OK, "%s", err.msg);
}

/* Trains cfg on its data with `threads` threads; returns the model (caller frees) and the
 * final test evaluation. */
/* Loads cfg's data and creates its model and a trainer of `threads` threads, thread t in
 * group node_of[t] (NULL: one group). */
static occam_trainer *open_run(const occam_config *cfg, int threads, const int *node_of,
                               occam_model *m, occam_dataset *tr_ds, occam_dataset *te_ds)
{
    occam_error err;
    cr_assert_eq(occam_data_load(&cfg->data, occam_config_inputs(cfg), occam_config_outputs(cfg), tr_ds, te_ds, &err), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(occam_model_create(m, &cfg->model, cfg->data.task, &err), OCCAM_OK);
    occam_model_init(m, cfg->model.init, cfg->train.seed);
    occam_trainer *tr;
    occam_affinity pl = {node_of, NULL, NULL};
    cr_assert_eq(occam_trainer_create(&tr, m, occam_config_trainer(cfg), threads, &pl, &err), OCCAM_OK, "%s",
                 err.msg);
    return tr;
}

static void train_nodes(const occam_config *cfg, int threads, const int *node_of,
                        occam_model *m, occam_eval *test_ev)
{
    occam_error err;
    occam_dataset tr_ds, te_ds;
    occam_trainer *tr = open_run(cfg, threads, node_of, m, &tr_ds, &te_ds);
    occam_fit_result res;
    cr_assert_eq(occam_fit(tr, cfg, &tr_ds, &te_ds, &res, NULL, NULL, &err), OCCAM_OK, "%s",
                 err.msg);
    cr_assert_eq(res.epochs, cfg->train.epochs);
    occam_trainer_eval(tr, &te_ds, test_ev);
    occam_fit_result_free(&res);
    occam_trainer_free(tr);
    occam_dataset_free(&tr_ds);
    occam_dataset_free(&te_ds);
}

static void train(const occam_config *cfg, int threads, occam_model *m, occam_eval *test_ev)
{
    train_nodes(cfg, threads, NULL, m, test_ev);
}

Test(train, blobs_reach_95_percent)
{
    occam_config cfg;
    blobs_config(&cfg);
    occam_model m;
    occam_eval ev;
    train(&cfg, 2, &m, &ev);
    cr_assert_eq(ev.n, 300u);
    cr_assert(ev.accuracy >= 0.95, "blobs test accuracy %.4f < 0.95", ev.accuracy);
    occam_model_free(&m);
}

Test(train, same_seed_is_bit_identical)
{
    occam_config cfg;
    blobs_config(&cfg);
    cfg.train.epochs = 5;
    cfg.train.optim.optimizer = OCCAM_OPT_ADAM;
    cfg.train.optim.lr = 0.01;
    cfg.train.batch = 50; /* 25 rows per thread */
    occam_model a, b;
    occam_eval ea, eb;
    train(&cfg, 2, &a, &ea);
    train(&cfg, 2, &b, &eb);
    cr_assert(memcmp(a.params, b.params, a.lay.nparams * sizeof(float)) == 0,
              "two runs with the same seed and thread count differ");
    cr_assert(ea.loss == eb.loss);
    occam_model_free(&a);
    occam_model_free(&b);
}

Test(train, different_seed_differs)
{
    occam_config cfg;
    blobs_config(&cfg);
    cfg.train.epochs = 1;
    occam_model a, b;
    occam_eval ea, eb;
    train(&cfg, 1, &a, &ea);
    cfg.train.seed = 2;
    train(&cfg, 1, &b, &eb);
    cr_assert(memcmp(a.params, b.params, a.lay.nparams * sizeof(float)) != 0);
    occam_model_free(&a);
    occam_model_free(&b);
}

static void compare_threads(occam_opt opt, occam_act act)
{
    occam_config cfg;
    blobs_config(&cfg);
    cfg.train.epochs = 2;
    cfg.train.optim.optimizer = opt;
    cfg.train.optim.lr = opt == OCCAM_OPT_ADAM ? 0.002 : 0.02;
    cfg.model.activation = act;
    occam_model a, b;
    occam_eval ea, eb;
    train(&cfg, 1, &a, &ea);
    train(&cfg, 2, &b, &eb);
    double maxw = 0, maxd = 0;
    for (size_t i = 0; i < a.lay.nparams; i++) {
        maxw = fmax(maxw, fabs(a.params[i]));
        maxd = fmax(maxd, fabs((double)a.params[i] - b.params[i]));
    }
    cr_assert(maxd <= 1e-5 * maxw, "1 vs 2 threads: max |Δw| = %g, max |w| = %g", maxd, maxw);
    cr_assert(fabs(ea.loss - eb.loss) <= 1e-5 * fabs(ea.loss), "test loss %.9g vs %.9g", ea.loss,
              eb.loss);
    occam_model_free(&a);
    occam_model_free(&b);
}

Test(train, one_vs_two_threads_sgd) { compare_threads(OCCAM_OPT_SGD, OCCAM_ACT_RELU); }
Test(train, one_vs_two_threads_adam) { compare_threads(OCCAM_OPT_ADAM, OCCAM_ACT_TANH); }

Test(train, divergence_is_reported)
{
    occam_config cfg;
    blobs_config(&cfg);
    cfg.train.optim.lr = 90.0;
    cfg.train.optim.momentum = 0.99;
    cfg.data.spread = 1000.0;
    occam_error err;
    occam_dataset tr_ds, te_ds;
    cr_assert_eq(occam_data_load(&cfg.data, occam_config_inputs(&cfg), occam_config_outputs(&cfg), &tr_ds, &te_ds, &err), OCCAM_OK, "%s", err.msg);
    occam_model m;
    cr_assert_eq(occam_model_create(&m, &cfg.model, cfg.data.task, &err), OCCAM_OK);
    occam_model_init(&m, cfg.model.init, cfg.train.seed);
    occam_trainer *tr;
    cr_assert_eq(occam_trainer_create(&tr, &m, occam_config_trainer(&cfg), 1, NULL, &err), OCCAM_OK);
    occam_fit_result res;
    int rc = occam_fit(tr, &cfg, &tr_ds, &te_ds, &res, NULL, NULL, &err);
    cr_assert_eq(rc, OCCAM_ERR_RUNTIME);
    cr_assert(strstr(err.msg, "epoch") && strstr(err.msg, "step"), "message: %s", err.msg);
    occam_fit_result_free(&res);
    occam_trainer_free(tr);
    occam_model_free(&m);
    occam_dataset_free(&tr_ds);
    occam_dataset_free(&te_ds);
}

/* Trains blobs for `epochs` after spoil() changed the model, which must fail as divergence
 * with a message holding `want` and `also`. */
static void expect_fit_divergence_at(int epochs, int batch, void (*spoil)(occam_model *),
                                     const char *want, const char *also)
{
    occam_config cfg;
    blobs_config(&cfg);
    cfg.train.epochs = epochs;
    if (batch) cfg.train.batch = batch;
    occam_error err;
    occam_dataset tr_ds, te_ds;
    occam_model m;
    occam_trainer *tr = open_run(&cfg, 1, NULL, &m, &tr_ds, &te_ds);
    spoil(&m);
    occam_trainer_sync(tr);
    occam_fit_result res;
    int rc = occam_fit(tr, &cfg, &tr_ds, &te_ds, &res, NULL, NULL, &err);
    cr_assert_eq(rc, OCCAM_ERR_RUNTIME, "exit %d: %s", rc, err.msg);
    cr_assert(strstr(err.msg, want) && strstr(err.msg, also), "message: %s", err.msg);
    occam_fit_result_free(&res);
    occam_trainer_free(tr);
    occam_model_free(&m);
    occam_dataset_free(&tr_ds);
    occam_dataset_free(&te_ds);
}

static void expect_fit_divergence(int epochs, void (*spoil)(occam_model *), const char *want,
                                  const char *also)
{
    expect_fit_divergence_at(epochs, 0, spoil, want, also);
}

static void nan_unit(occam_model *m)
{
    int nin = m->lay.width[0];
    for (int i = 0; i < nin; i++) m->params[m->lay.w_off[0] + (size_t)3 * nin + i] = NAN;
}

/* A NaN weight: a ReLU output 0 for a NaN input, so a unit whose weights were NaN was dead,
 * the loss stayed finite and the step's divergence check never fired. Adam at lr 3 with
 * beta2 = 0 got there on a real set (mroz) and train exited 0, saving a model that eval, mdl
 * and predict refuse; a check of the weights after each epoch caught it ("layer 0's weights
 * became NaN in epoch 1 while the loss stayed finite"). ReLU now keeps a NaN, so the first
 * step's loss says it. Here one hidden unit's weights are NaN from the start. */
Test(train, a_nan_weight_is_divergence_at_the_first_step)
{
    expect_fit_divergence(2, nan_unit, "training diverged: the loss became NaN at epoch 1, "
                                       "step 1", "train.lr");
}

static void dead_bias(occam_model *m) { m->params[m->lay.b_off[0] + 2] = -INFINITY; }

/* The same for a bias, which feeds no unit: the message said 'the units they feed are dead'
 * of it (found as 'layer 1's biases became infinite'). A −inf bias makes its unit dead, 0
 * without a NaN, and the loss finite; its first update makes it NaN (0 · −inf), which the
 * second step's loss now says. With one step an epoch, the epoch's check of the parameters
 * says it first: a dead or saturated unit is what hides a parameter from the loss. */
Test(train, a_non_finite_bias_is_divergence)
{
    expect_fit_divergence(1, dead_bias, "training diverged: the loss became NaN at epoch 1, "
                          "step 2", "train.lr");
    expect_fit_divergence_at(1, 1000, dead_bias, "training diverged: layer 0's biases became ",
                             "while the loss stayed finite (dead or saturated units kept them "
                             "from it)");
}

static double max_rel_diff(const occam_model *a, const occam_model *b)
{
    double maxw = 0, maxd = 0;
    for (size_t i = 0; i < a->lay.nparams; i++) {
        maxw = fmax(maxw, fabs(a->params[i]));
        maxd = fmax(maxd, fabs((double)a->params[i] - b->params[i]));
    }
    return maxd / maxw;
}

/* cfg trained on the owner path at th[0], th[1] and th[2] threads: the same bits. */
static void owner_same_bits(occam_config *cfg, const int th[3], const char *kernels)
{
    cfg->runtime.grad = OCCAM_GRAD_OWNER;
    occam_model m[3];
    occam_eval ev[3];
    for (int i = 0; i < 3; i++) train(cfg, th[i], &m[i], &ev[i]);
    for (int i = 1; i < 3; i++)
        cr_assert(memcmp(m[0].params, m[i].params, m[0].lay.nparams * sizeof(float)) == 0,
                  "owner path, %s kernels: %d threads differ from %d (max rel diff %g)",
                  kernels, th[i], th[0], max_rel_diff(&m[0], &m[i]));
    for (int i = 0; i < 3; i++) occam_model_free(&m[i]);
}

/* The owner path computes every weight gradient over the whole batch in one GEMM per row
 * block: its result does not depend on the thread count, to the bit. */
Test(train, owner_path_is_bitwise_identical_for_1_2_4_threads)
{
    occam_config cfg;
    blobs_config(&cfg);
    cfg.train.epochs = 3;
    cfg.train.batch = 50;
    owner_same_bits(&cfg, (const int[3]){1, 2, 4}, occam_gemm_init());
}

/* The same on other BLIS kernel sets, with dW's products on both sides of the small loop's
 * limit (20-300-3 at batch 64: 300 × 20 × 64 on one thread and 150 × 20 × 64 on two go to
 * BLIS, 100 × 20 × 64 on three to the loop). Before, 3 threads differed from 1 in 1,551 of
 * 7,232 parameters under haswell (BLIS's shape-picked small/unpacked kernels and the loop sum
 * otherwise than its packed ones) and in 1,553 under generic (not fused). Each set in its own
 * test: BLIS reads BLIS_ARCH_TYPE once. */
static void owner_threads_on(const char *arch)
{
    use_blis_kernels(arch);
    occam_config cfg;
    blobs_config(&cfg);
    cfg.model.layers[1] = 300;
    cfg.train.epochs = 2;
    cfg.train.batch = 64;
    cfg.runtime.oversubscribe = true;
    owner_same_bits(&cfg, (const int[3]){1, 2, 3}, arch);
}

Test(train, owner_path_is_bitwise_identical_for_any_threads_under_haswell_kernels)
{
    owner_threads_on("haswell");
}

Test(train, owner_path_is_bitwise_identical_for_any_threads_under_generic_kernels)
{
    owner_threads_on("generic");
}

Test(train, shard_and_owner_paths_agree)
{
    occam_config cfg;
    blobs_config(&cfg);
    cfg.train.epochs = 2;
    cfg.train.optim.lr = 0.02;
    occam_model a, b;
    occam_eval ea, eb;
    cfg.runtime.grad = OCCAM_GRAD_SHARD;
    train(&cfg, 2, &a, &ea);
    cfg.runtime.grad = OCCAM_GRAD_OWNER;
    train(&cfg, 2, &b, &eb);
    cr_assert(max_rel_diff(&a, &b) <= 1e-5, "shard vs owner: %g", max_rel_diff(&a, &b));
    occam_model_free(&a);
    occam_model_free(&b);
}

/* The two-level reduction (4 threads on 2 "nodes") against the flat one. */
Test(train, hierarchical_reduction_agrees_with_flat)
{
    occam_config cfg;
    blobs_config(&cfg);
    cfg.train.epochs = 2;
    cfg.train.optim.lr = 0.02;
    cfg.runtime.grad = OCCAM_GRAD_SHARD;
    int spread[4] = {0, 1, 0, 1};
    occam_model a, b;
    occam_eval ea, eb;
    train(&cfg, 4, &a, &ea);
    train_nodes(&cfg, 4, spread, &b, &eb);
    cr_assert(max_rel_diff(&a, &b) <= 1e-5, "hierarchical vs flat: %g", max_rel_diff(&a, &b));
    occam_model_free(&a);
    occam_model_free(&b);
}

/* The same with noisy weights, whose update also reads the parts' second halves (dσ² for the
 * sparse prior, the squared row gradients for the others): the two-level reduction must sum
 * those into the group leaders too. Before it did, the mixture prior's model came out
 * materially different on 2 groups (hinton93: 1,628 against 1,458 model bits). */
Test(train, hierarchical_reduction_agrees_with_flat_for_noisy_weights)
{
    int spread[4] = {0, 1, 0, 1};
    const occam_prior_kind priors[2] = {OCCAM_PRIOR_MOG, OCCAM_PRIOR_SPARSE};
    for (int k = 0; k < 2; k++) {
        occam_config cfg;
        blobs_config(&cfg);
        cfg.train.epochs = 3;
        cfg.noise.enabled = true;
        cfg.noise.prior = priors[k];
        cfg.noise.warmup_epochs = 1;
        occam_model a, b;
        occam_eval ea, eb;
        train(&cfg, 4, &a, &ea);
        train_nodes(&cfg, 4, spread, &b, &eb);
        cr_assert(max_rel_diff(&a, &b) <= 1e-5, "prior %d: hierarchical vs flat: %g", k,
                  max_rel_diff(&a, &b));
        for (size_t i = 0; i < a.lay.nparams; i++)
            cr_assert(fabsf(a.rho[i] - b.rho[i]) <= 1e-4f * (1.0f + fabsf(a.rho[i])),
                      "prior %d: rho[%zu] %g vs %g", k, i, a.rho[i], b.rho[i]);
        occam_model_free(&a);
        occam_model_free(&b);
    }
}

/* Replicated weights (one copy per NUMA group, refreshed after every update) give the same bits
 * as one shared copy with the same groups. */
Test(train, replicated_weights_match_shared)
{
    occam_config cfg;
    blobs_config(&cfg);
    cfg.train.epochs = 2;
    int spread[4] = {0, 1, 0, 1};
    occam_model a, b;
    occam_eval ea, eb;
    train_nodes(&cfg, 4, spread, &a, &ea);
    cfg.runtime.weights = OCCAM_WEIGHTS_REPLICATE;
    train_nodes(&cfg, 4, spread, &b, &eb);
    cr_assert(memcmp(a.params, b.params, a.lay.nparams * sizeof(float)) == 0);
    cr_assert(ea.loss == eb.loss);
    occam_model_free(&a);
    occam_model_free(&b);
}

/* The same with pruning, by weights and by neurons: after each prune (and each relayout) the
 * other group's copy must be refreshed, or its threads run the unpruned weights for a step. */
static void prune_nodes(const occam_config *cfg, occam_model *m)
{
    occam_error err;
    occam_dataset tr_ds, te_ds;
    int spread[4] = {0, 1, 0, 1};
    occam_trainer *tr = open_run(cfg, 4, spread, m, &tr_ds, &te_ds);
    occam_fit_result res;
    occam_prune_log log;
    cr_assert_eq(occam_train_run(tr, m, cfg, &tr_ds, &te_ds, &res, &log, NULL, &err), OCCAM_OK,
                 "%s", err.msg);
    occam_fit_result_free(&res);
    occam_prune_log_free(&log);
    occam_trainer_free(tr);
    occam_dataset_free(&tr_ds);
    occam_dataset_free(&te_ds);
}

/* prune.schedule = mdl keeps its shortest model by a two-part or count code: occam_train_check
 * refuses bits-back for train and select, and occam_train_run itself for a library caller
 * that did not ask (occam_config_validate took it once the check moved: occam mdl --code
 * bits-back scores such a model). */
Test(train, the_mdl_schedule_refuses_the_bits_back_code)
{
    occam_config cfg;
    blobs_config(&cfg);
    cfg.train.epochs = 2;
    cfg.noise.enabled = true;
    cfg.prune.schedule = OCCAM_PRUNE_MDL;
    cfg.mdl.model_code = OCCAM_MDL_BITS_BACK;
    occam_error err = {0};
    cr_assert_eq(occam_config_validate(&cfg, &err), OCCAM_OK, "%s", err.msg);
    occam_model m;
    occam_dataset tr_ds, te_ds;
    occam_trainer *tr = open_run(&cfg, 1, NULL, &m, &tr_ds, &te_ds);
    occam_fit_result res;
    occam_prune_log log;
    cr_assert_eq(occam_train_run(tr, &m, &cfg, &tr_ds, &te_ds, &res, &log, NULL, &err),
                 OCCAM_ERR_INPUT);
    cr_assert_str_eq(err.msg, "prune.schedule: mdl scores models with mdl.model_code = two-part "
                              "or count");
    occam_fit_result_free(&res);
    occam_prune_log_free(&log);
    occam_trainer_free(tr);
    occam_model_free(&m);
    occam_dataset_free(&tr_ds);
    occam_dataset_free(&te_ds);
}

Test(train, replicated_weights_match_shared_through_pruning)
{
    occam_granularity gran[2] = {OCCAM_GRAN_WEIGHT, OCCAM_GRAN_NEURON};
    for (int g = 0; g < 2; g++) {
        occam_config cfg;
        blobs_config(&cfg);
        cfg.train.epochs = 2;
        cfg.prune.schedule = OCCAM_PRUNE_ITERATIVE;
        cfg.prune.granularity = gran[g];
        cfg.prune.target = 0.5;
        cfg.prune.steps = 2;
        cfg.prune.finetune_epochs = 1;
        occam_model a, b;
        prune_nodes(&cfg, &a);
        cfg.runtime.weights = OCCAM_WEIGHTS_REPLICATE;
        prune_nodes(&cfg, &b);
        cr_assert_eq(a.lay.nparams, b.lay.nparams);
        cr_assert(memcmp(a.params, b.params, a.lay.nparams * sizeof(float)) == 0,
                  "granularity %d: replicated weights differ from shared after pruning", g);
        occam_model_free(&a);
        occam_model_free(&b);
    }
}

/* The history grows as epochs finish: a run planned for 10^8 epochs (prune.steps = 1000 ×
 * prune.finetune_epochs = 100000) allocated 88 bytes for each at its start, 8.8 GB, and
 * under a 4 GB limit refused to begin with "out of memory for 1000 row indices". Here a plan of
 * INT_MAX epochs (189 GB up front) trains its first 3. */
Test(train, the_history_grows_with_the_epochs_not_the_plan)
{
    occam_config cfg;
    blobs_config(&cfg);
    cfg.train.epochs = 3;
    occam_error err;
    occam_dataset tr_ds, te_ds;
    occam_model m;
    occam_trainer *tr = open_run(&cfg, 1, NULL, &m, &tr_ds, &te_ds);
    occam_fit_result res;
    cr_assert_eq(occam_fit_begin(&res, &cfg, tr_ds.n, INT_MAX, &err), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(occam_fit_epochs(tr, &cfg, &tr_ds, &te_ds, 3, &res, NULL, &err), OCCAM_OK,
                 "%s", err.msg);
    cr_assert_eq(res.epochs, 3);
    cr_assert_lt(res.history_cap, 1000);
    for (int e = 0; e < 3; e++) {
        cr_assert_eq(res.history[e].epoch, e + 1);
        cr_assert(res.history[e].train_loss > 0 && isfinite(res.history[e].train_loss));
        cr_assert_eq(res.history[e].test.n, te_ds.n);
    }
    /* a reservation past the plan is honoured; one beyond memory says what it was for */
    cr_assert_eq(occam_fit_history_reserve(&res, 5000, &err), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(res.history[2].epoch, 3);
    cr_assert_eq(res.history[4999].epoch, 0);
#if !defined(__SANITIZE_ADDRESS__) /* ASan ends the process on a request of 189 GB */
    int cap = res.history_cap;
    cr_assert_eq(occam_fit_history_reserve(&res, INT_MAX, &err), OCCAM_ERR_RUNTIME);
    cr_assert_str_eq(err.msg, "out of memory for the history of 2147483647 epochs "
                              "(188978560936 bytes)");
    cr_assert_eq(res.history_cap, cap);
#endif
    occam_fit_result_free(&res);
    occam_trainer_free(tr);
    occam_model_free(&m);
    occam_dataset_free(&tr_ds);
    occam_dataset_free(&te_ds);
}

#ifdef __SANITIZE_ADDRESS__
/* libasan's (sanitizer/allocator_interface.h, which gcc's packages here do not ship) */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

/* The heap's bytes in use: glibc's count, or ASan's, whose allocator glibc's does not see. */
static double heap_bytes(void)
{
#ifdef __SANITIZE_ADDRESS__
    return (double)__sanitizer_get_current_allocated_bytes();
#else
    struct mallinfo2 m = mallinfo2();
    return (double)(m.uordblks + m.hblkhd);
#endif
}

/* The bytes the trainer allocates, as the heap counts them: occam_trainer_bytes, which the
 * trainer checks against the memory available before allocating, is a lower bound of them and
 * within a few percent (a batch of 4,096 through 10^6 hidden units was 16 GB a buffer, and
 * touching buffers past the machine's memory got the process killed with no message). For
 * SGD and for Adam with noisy weights, one thread and two, and a noisy regression net, whose
 * Gauss–Newton scratch its 1,000 training rows size (33 MB). */
Test(train, trainer_bytes_bound_what_the_trainer_allocates)
{
    static const struct {
        bool noise, adam;
        int threads, batch;
        size_t regress_rows;
    } cases[] = {{false, false, 1, 32, 0}, {true, true, 2, 512, 0}, {true, false, 1, 2000, 0},
                 {true, false, 2, 64, 1000}};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        occam_config cfg;
        blobs_config(&cfg);
        int layers[] = {20, 700, 300, 3};
        memcpy(cfg.model.layers, layers, sizeof layers);
        cfg.model.nlayers = 4;
        cfg.noise.enabled = cases[c].noise;
        cfg.train.optim.optimizer = cases[c].adam ? OCCAM_OPT_ADAM : OCCAM_OPT_SGD;
        cfg.train.batch = cases[c].batch;
        if (cases[c].regress_rows) cfg.data.task = OCCAM_TASK_REGRESS;
        occam_error err;
        occam_model m;
        cr_assert_eq(occam_model_create(&m, &cfg.model, cfg.data.task, &err), OCCAM_OK);
        occam_model_init(&m, cfg.model.init, cfg.train.seed);
        occam_trainer_params p = occam_config_trainer(&cfg);
        p.rows = cases[c].regress_rows;
        double est = occam_trainer_bytes(&m.lay, p, cases[c].threads);
        cr_assert(!cases[c].regress_rows || est > 33e6, "case %zu: %.0f bytes", c, est);
        occam_trainer *tr;
        /* BLIS's packing buffers, a few MB a thread whatever the model, are not the trainer's */
        cr_assert_eq(occam_gemm_prepare(cases[c].threads, &err), OCCAM_OK, "%s", err.msg);
        double before = heap_bytes();
        cr_assert_eq(occam_trainer_create(&tr, &m, p, cases[c].threads, NULL, &err), OCCAM_OK,
                     "%s", err.msg);
        double after = heap_bytes();
        /* the model's σ's (ρ), which a noisy trainer allocates into the model, are the model's */
        double rho = cases[c].noise ? (double)m.lay.nparams * sizeof(float) : 0;
        double got = after - before - rho;
        cr_assert(est <= got && got <= 1.05 * est + (1 << 20),
                  "case %zu: estimated %.0f bytes, allocated %.0f", c, est, got);
        occam_trainer_free(tr);
        occam_model_free(&m);
    }
}
