/* `occam select`: MDL picks the model. Every point of a grid of configs (the base config, its
 * --set overrides, then the point's --grid values) is trained from the same seed, its
 * description length L = L(model) + L(data | model) is computed on the training set, and the
 * point with the smallest L is named. No validation split is used and the test metric is never
 * looked at to choose: it is printed beside L so a reader can see how well the choice did.
 *
 * Every point's config is built and validated, and every point's data loaded and checked
 * against its model's widths, before the first one trains, so a bad key or value, a
 * combination the config refuses, a data file that cannot be read or a model.layers that does
 * not fit the data is exit 2 before any work, not after the points before it trained. A point
 * whose training
 * fails (a loss that diverges) is recorded as failed and the grid goes on: it is simply not
 * chosen. Points run one at a time, each with runtime.threads threads. The table and the
 * report are in select_out.c. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "cli.h"
#include "occam/comm.h"
#include "grid.h"
#include "select-impl.h"
#include "occam/checkpoint.h"
#include "occam/clock.h"
#include "occam/fit.h"
#include "occam/gemm.h"
#include "occam/outfile.h"
#include "occam/team.h"
#include "occam/train.h"

static const char usage[] =
    "usage: occam select CONFIG --grid section.key=v1,v2,... [--grid ...]...\n"
    "                           [--set section.key=value]... [--threads N] [--report FILE]\n"
    "                           [--save FILE] [--verbose]\n"
    "\n"
    "Trains every point of the grid, computes each one's description length\n"
    "L = L(model) + L(data | model) in bits on the training set, prints a table (the point's\n"
    "values, code, L, model bits, data bits, train and test metric) and names the point with\n"
    "the smallest L. No validation split is used, and the test metric plays no part in the\n"
    "choice.\n"
    "  --grid key=v1,v2,...     one axis of the grid (repeatable, up to 16); the points are all\n"
    "                           combinations, the first --grid varying slowest, at most 256.\n"
    "                           A list-valued key writes its entries with ':' for ',':\n"
    "                           --grid model.layers=30:10:2,30:50:2 is 30,10,2 and 30,50,2\n"
    "  --set section.key=value  override a config key for every point (the grid's values are\n"
    "                           applied after these)\n"
    "  --threads N              worker threads per point (0 = all cores); overrides\n"
    "                           runtime.threads\n"
    "  --report FILE            write the JSON report: points[] (each with set, code, total_bits,\n"
    "                           model_bits, data_bits, train, test), best (the shortest point's\n"
    "                           index); 'occam plot FILE' draws L against the grid\n"
    "  --save FILE              write the shortest point's model (safetensors)\n"
    "  --verbose                print every epoch's loss, not only one line per point\n"
    "Each point is coded with mdl.model_code, except that noisy weights (noise.enabled) are\n"
    "always coded with bits-back (what their training minimises), and a deterministic point\n"
    "whose mdl.model_code is bits-back with two-part. The totals of different codes compare:\n"
    "each is a code length of the same training data in bits. So every point must code the\n"
    "same labels or targets at one precision: a grid over the rows (data.samples,\n"
    "data.holdout, data.seed, another data.train), over mdl.target_precision, or one putting\n"
    "the count code beside another, is refused. Points are trained without checkpoints. A\n"
    "point whose training fails is marked failed and not chosen. SIGINT, SIGTERM, SIGUSR1,\n"
    "SIGHUP or SIGXCPU stops after the current step: the table and the report\n"
    "cover the finished points, and the exit status is 128 + the signal (130 for SIGINT).\n"
    "Exit status 0 ok (at least one point trained), 1 runtime failure, 2 bad usage/config.\n";

/* The code a point's L is computed with. Noisy weights are distributions, and the bits-back
 * code is the length their training minimised; a two-part code of their means would ignore
 * it. A deterministic model cannot be coded bits-back. */
static occam_model_code point_code(const occam_config *cfg)
{
    if (cfg->noise.enabled) return OCCAM_MDL_BITS_BACK;
    return cfg->mdl.model_code == OCCAM_MDL_BITS_BACK ? OCCAM_MDL_TWO_PART : cfg->mdl.model_code;
}

/* The base config: defaults, the file, --set in order, --threads. Not validated: a grid value
 * may be what makes it valid (noise.enabled for a bits-back code). */
static int base_config(const cli_opts *o, occam_config *cfg, occam_error *err)
{
    occam_config_defaults(cfg);
    int rc = occam_gemm_check_env(err); /* before BLIS reads it: it aborts on a bad value */
    if (rc == OCCAM_OK) rc = occam_config_load(cfg, o->config, err);
    for (int i = 0; rc == OCCAM_OK && i < o->nsets; i++) rc = occam_config_set(cfg, o->sets[i], err);
    if (rc == OCCAM_OK && o->threads >= 0) cfg->runtime.threads = o->threads;
    return rc;
}

/* A grid over a key that does not apply under the point's other values (train.weight_decay
 * with noise.enabled = true: the issue's own decay x noise grid; data.path with blobs;
 * mdl.components under mdl.prior = gaussian) trained the same run once per value, and so did
 * one over equal numbers (train.weight_decay=0,-0). Each point whose effective config (its
 * inert keys reset and its numbers compared by value: occam_config_drop_inert) equals an
 * earlier one's is marked to take that point's result instead of training again. */
static int find_same_runs(select_run *s, occam_error *err)
{
    int n = s->g.npoints, rc = OCCAM_OK;
    char **js = calloc((size_t)n, sizeof *js), *buf = malloc(OCCAM_CONFIG_JSON_MAX);
    uint32_t *h = calloc((size_t)n, sizeof *h);
    if (!js || !h || !buf) rc = occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory");
    for (int p = 0; rc == OCCAM_OK && p < n; p++) {
        select_point *pt = &s->pt[p];
        occam_config c = pt->cfg;
        pt->inert = NULL;
        while (occam_config_drop_inert(&c)) continue;
        pt->data = c.data;
        pt->same_as = -1;
        int len = occam_config_to_json(&c, buf, OCCAM_CONFIG_JSON_MAX);
        if (len < 0) continue; /* cannot compare: train it */
        js[p] = strdup(buf);
        if (!js[p]) {
            rc = occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory");
            break;
        }
        h[p] = (uint32_t)crc32_z(0, (const unsigned char *)buf, (size_t)len);
        for (int k = 0; k < p && pt->same_as < 0; k++)
            if (js[k] && h[k] == h[p] && s->pt[k].threads == pt->threads && !strcmp(js[k], js[p])) {
                pt->same_as = k;
                /* a key the two differ in, not one both set (mdl.bits_per_weight for all) */
                pt->inert = occam_config_inert_difference(&pt->cfg, &s->pt[k].cfg);
                /* what is left to differ: a number's sign of zero (a grid over 0,-0) */
                if (!pt->inert && memcmp(&pt->cfg, &s->pt[k].cfg, sizeof pt->cfg))
                    pt->inert = "the values are equal numbers (-0 trains as 0 does)";
            }
    }
    for (int p = 0; js && p < n; p++) free(js[p]);
    free(js);
    free(h);
    free(buf);
    return rc;
}

/* Every point's config, validated: a refusal names the point and its values. */
static int build_points(select_run *s, occam_error *err)
{
    int asked = 0; /* the most threads a point asked for (0: every one automatic) */
    int automatic = 0; /* the automatic team of the points that take it */
    s->pt = calloc((size_t)s->g.npoints, sizeof *s->pt);
    if (!s->pt) return occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory");
    for (int p = 0; p < s->g.npoints; p++) {
        select_point *pt = &s->pt[p];
        pt->cfg = s->base;
        grid_label(&s->g, p, pt->label, sizeof pt->label);
        occam_error e = {0};
        int rc = grid_apply(&s->g, p, &pt->cfg, &e);
        pt->cfg.mdl.model_code = point_code(&pt->cfg);
        /* the training check's refusal of this code (occam_train_check) blamed
         * prune.schedule's pairing with mdl.model_code, which the user had left at two-part
         * (and occam train takes the point as it is) */
        if (rc == OCCAM_OK && pt->cfg.noise.enabled && pt->cfg.prune.schedule == OCCAM_PRUNE_MDL)
            rc = occam_error_set(&e, OCCAM_ERR_INPUT,
                                 "prune.schedule = mdl with noise.enabled = true: select codes a "
                                 "noisy point bits-back (what its training minimises), and the "
                                 "mdl schedule cannot keep its shortest model by that code (it "
                                 "scores with two-part or count); train such a point alone with "
                                 "occam train");
        if (rc == OCCAM_OK && (rc = occam_config_validate(&pt->cfg, &e)) != OCCAM_OK &&
            !grid_names_key(&s->g, e.msg)) /* the label names a grid key's value */
            occam_config_locate(&e, s->o->config, s->o->sets, s->o->nsets);
        if (rc == OCCAM_OK) {
            rc = occam_dl_check_trained(&pt->cfg.mdl, pt->cfg.noise.enabled, &e);
            if (rc == OCCAM_OK) rc = occam_train_check(&pt->cfg, &e);
            if (rc != OCCAM_OK && !grid_names_key(&s->g, e.msg))
                occam_config_locate(&e, s->o->config, s->o->sets, s->o->nsets);
        }
        if (rc == OCCAM_OK)
            rc = occam_team_resolve(pt->cfg.runtime.threads, pt->cfg.runtime.oversubscribe,
                                    cli_threads_origin(),
                                    &pt->threads, &e);
        if (rc != OCCAM_OK)
            return occam_error_set(err, rc, "select %d/%d (%s): %s", p + 1, s->g.npoints,
                                   pt->label, e.msg);
        pt->code = pt->cfg.mdl.model_code;
        pt->total_bits = pt->model_bits = pt->data_bits = NAN;
        pt->train_metric = pt->test_metric = NAN;
        if (pt->cfg.runtime.threads > 0 && pt->threads > asked) asked = pt->threads;
        if (pt->cfg.runtime.threads == 0) automatic = pt->threads;
    }
    if (automatic > 0) cli_say_omp_num_threads(automatic);
    /* the most threads a point asked for, past a container's CPU quota: said once, as train
     * says it (cli_setup) */
    if (asked > 0) cli_say_quota(asked);
    return find_same_runs(s, err);
}

/* Whether points a and b train on the same data: equal data.* keys, those their source reads
 * (the config compares with memcmp: a grid over data.path with a CSV is one data set), and
 * model widths, which occam_data_load checks the data against. */
static bool same_data(const select_point *a, const select_point *b)
{
    return !memcmp(&a->data, &b->data, sizeof a->data) &&
           occam_config_inputs(&a->cfg) == occam_config_inputs(&b->cfg) &&
           occam_config_outputs(&a->cfg) == occam_config_outputs(&b->cfg);
}

static void data_free(select_data *d)
{
    occam_dataset_free(&d->train);
    occam_dataset_free(&d->test);
    d->pt = NULL;
}

/* s->data becomes point pt's data, loaded unless it is already there; the set it held is
 * freed first, so no more than one is in memory. */
static int load_data(select_run *s, const select_point *pt, occam_error *err)
{
    select_data *d = &s->data;
    if (d->pt && same_data(d->pt, pt)) return OCCAM_OK;
    data_free(d);
    const occam_config *cfg = &pt->cfg;
    int rc = occam_data_load(&cfg->data, occam_config_inputs(cfg), occam_config_outputs(cfg),
                             &d->train, &d->test, err);
    if (rc == OCCAM_OK) d->pt = pt;
    return rc;
}

/* Whether the topology runtime.topology = spec names (or, for "", the environment's) is read
 * from a pipe or FIFO, which reads once: to check it before the run would leave the run
 * nothing. */
static bool topology_reads_once(const char *spec)
{
    const char *path = NULL;
    if (!strncmp(spec, "xml:", 4)) path = spec + 4;
    else if (!*spec && !getenv("HWLOC_SYNTHETIC")) path = getenv("HWLOC_XMLFILE");
    struct stat st;
    return path && stat(path, &st) == 0 && !S_ISREG(st.st_mode);
}

static bool same_placement(const occam_runtime_params *a, int ta, const occam_runtime_params *b,
                           int tb)
{
    return ta == tb && a->oversubscribe == b->oversubscribe && a->bind == b->bind &&
           a->placement == b->placement && !strcmp(a->topology, b->topology);
}

/* A grid over runtime.*: each later point's topology and thread plan, as its run will open
 * them (no thread starts). A bad runtime.topology = synthetic:junk was found only when its
 * point began, after the points before it had trained (found by the third hostile-input
 * sweep); point 0's is found at once anyway, and one read from a pipe is left to its run. */
static int preflight_runtime(select_run *s, occam_error *err)
{
    bool runtime = false;
    for (int a = 0; a < s->g.naxes; a++) runtime |= !strncmp(s->g.axis[a].key, "runtime.", 8);
    for (int p = 1; runtime && p < s->g.npoints; p++) {
        const select_point *pt = &s->pt[p];
        bool checked = false;
        for (int q = 0; q < p && !checked; q++)
            checked = same_placement(&s->pt[q].cfg.runtime, s->pt[q].threads, &pt->cfg.runtime,
                                     pt->threads);
        if (checked || topology_reads_once(pt->cfg.runtime.topology)) continue;
        occam_runtime rt;
        occam_error e = {0};
        int rc = occam_runtime_open(&rt, &pt->cfg.runtime, pt->threads, cli_threads_origin(),
                                    &e);
        if (rc != OCCAM_OK)
            return occam_error_set(err, rc, "select %d/%d (%s): %s; no point was trained",
                                   p + 1, s->g.npoints, pt->label, e.msg);
        occam_runtime_close(&rt);
    }
    return OCCAM_OK;
}

/* Every point's data loads and fits its model (a grid over data.train naming a missing file,
 * or a model.layers whose input width is not the data's, is refused whole) before any point
 * trains. A point whose data keys and widths are an earlier one's has been checked with it;
 * the data are loaded once per such group, one set at a time, and the last one loaded stays
 * for the points that train on it (a grid over train.lr loads its data once in all). */
static int preflight(select_run *s, occam_error *err)
{
    int rc = OCCAM_OK, groups = 0;
    for (int p = 0; p < s->g.npoints; p++) {
        bool seen = false;
        for (int q = 0; q < p && !seen; q++) seen = same_data(&s->pt[q], &s->pt[p]);
        groups += !seen;
    }
    for (int p = 0; p < s->g.npoints && rc == OCCAM_OK; p++) {
        const occam_config *cfg = &s->pt[p].cfg;
        bool checked = false;
        for (int q = 0; q < p && !checked; q++) checked = same_data(&s->pt[q], &s->pt[p]);
        if (checked) continue;
        occam_error e = {0};
        /* With more than one data set each is read twice, here and again to train: a FIFO or
         * pipe has nothing left the second time, and its open waited for a writer forever. */
        const char *files[2] = {cfg->data.train, cfg->data.test};
        struct stat st;
        for (int f = 0; groups > 1 && cfg->data.source == OCCAM_SOURCE_CSV && f < 2; f++)
            if (rc == OCCAM_OK && files[f][0] && stat(files[f], &st) == 0 && !S_ISREG(st.st_mode))
                rc = occam_error_set(&e, OCCAM_ERR_INPUT, "%s = %s is not a regular file: a "
                                     "pipe or FIFO reads once, and a grid over %d data sets reads "
                                     "each twice (to check it, then to train)",
                                     f ? "data.test" : "data.train", files[f], groups);
        if (rc == OCCAM_OK) rc = load_data(s, &s->pt[p], &e);
        /* point 0's group comes first: what it codes is kept to compare the others with */
        if (rc == OCCAM_OK && p == 0) rc = occam_coded_rows_copy(&s->coded, &s->data.train, &e);
        for (int q = p; rc == OCCAM_OK && q < s->g.npoints; q++)
            if (q == p || same_data(&s->pt[q], &s->pt[p])) {
                s->pt[q].rows = s->data.train.n;
                s->pt[q].coded_other = !occam_coded_rows_same(&s->coded, &s->data.train);
            }
        /* A note about a file is said once: a grid over data.test (or the inputs' scaling
         * of another file) read the same training file again and repeated its notes. */
        bool train_said = false, test_said = false;
        for (int q = 0; q < p; q++) {
            const occam_config *c = &s->pt[q].cfg;
            bool same_train = !strcmp(c->data.train, cfg->data.train) &&
                              c->data.normalize == cfg->data.normalize;
            train_said |= same_train;
            test_said |= same_train && !strcmp(c->data.test, cfg->data.test);
        }
        if (rc == OCCAM_OK) {
            if (!train_said) {
                cli_note_csv("data.train", cfg->data.train, &s->data.train);
                cli_note_targets(cfg->data.train, &s->data.train, cfg->mdl.target_precision);
            }
            if (!test_said) {
                cli_note_csv("data.test", cfg->data.test, &s->data.test);
                cli_note_classes(&s->data.train, &s->data.test);
            }
        }
        if (rc != OCCAM_OK)
            occam_error_set(err, rc, "select %d/%d (%s): %s; no point was trained", p + 1,
                            s->g.npoints, s->pt[p].label, e.msg);
    }
    return rc;
}

/* The lengths compare only as codes of one thing: the same training rows' labels or targets,
 * at one precision, each by a code of the model. A grid over data.samples, data.holdout or
 * data.train picked the point with the fewest rows; one over mdl.target_precision the
 * coarsest; the count code (a fixed number of bits a weight) was ranked against bits-back.
 * A grid may change the model, its training and its inputs, not what is coded. */
static int comparable(const select_run *s, occam_error *err)
{
    const select_point *a = &s->pt[0];
    for (int p = 1; p < s->g.npoints; p++) {
        const select_point *b = &s->pt[p];
        const char *why = NULL;
        char detail[256] = "";
        if (b->coded_other) {
            why = "code different training data";
            int ka = occam_config_outputs(&a->cfg), kb = occam_config_outputs(&b->cfg);
            if (a->rows != b->rows)
                snprintf(detail, sizeof detail, " (%zu rows against %zu)", a->rows, b->rows);
            else if (a->cfg.data.task == OCCAM_TASK_CLASSIFY && ka != kb)
                /* the same labels, as letters of another alphabet: it said "other labels" */
                snprintf(detail, sizeof detail, " (labels of %d classes against %d: the "
                         "model's last width is the class count)", ka, kb);
            else
                snprintf(detail, sizeof detail, " (other labels or targets in the same %zu "
                         "rows)", a->rows);
        } else if (a->cfg.data.task == OCCAM_TASK_REGRESS &&
                   a->cfg.mdl.target_precision != b->cfg.mdl.target_precision) {
            why = "code the targets at different precisions";
            snprintf(detail, sizeof detail, " (mdl.target_precision = %g against %g: the data "
                     "bits differ by about log2 of their ratio a target, whatever the fit)",
                     a->cfg.mdl.target_precision, b->cfg.mdl.target_precision);
        } else if ((a->code == OCCAM_MDL_COUNT) != (b->code == OCCAM_MDL_COUNT) ||
                   (a->code == OCCAM_MDL_COUNT &&
                    a->cfg.mdl.bits_per_weight != b->cfg.mdl.bits_per_weight)) {
            why = "are measured by different yardsticks";
            snprintf(detail, sizeof detail, " (the count code charges mdl.bits_per_weight bits "
                     "a weight, a number chosen, not a code of the weights: use mdl.model_code "
                     "= two-part, or one count code for every point)");
        }
        if (why)
            return occam_error_set(err, OCCAM_ERR_INPUT, "select: points 0 (%s) and %d (%s) %s%s, "
                                   "so their description lengths do not compare; a grid may "
                                   "change the model, its training and its inputs, not what is "
                                   "coded; no point was trained", a->label, p, b->label, why,
                                   detail);
    }
    return OCCAM_OK;
}

/* --verbose: one line per epoch. */
static void on_epoch(void *user, const occam_progress *p)
{
    const occam_config *cfg = user;
    if (!p->end_of_epoch) return;
    /* one write for the line, as train's: a stop signal's message cannot land inside it */
    char test[64] = "", m[24], loss[24];
    if (p->stats->test.n && cfg->data.task == OCCAM_TASK_CLASSIFY)
        snprintf(test, sizeof test, "  test_acc %.4f", p->stats->test.accuracy);
    else if (p->stats->test.n)
        snprintf(test, sizeof test, "  test_rel_err %s",
                 cli_metric(m, sizeof m, p->stats->test.relative_error));
    fprintf(stderr, "  epoch %d/%d  loss %s%s\n", p->epoch, p->epochs,
            cli_metric(loss, sizeof loss, p->stats->train_loss), test);
}

/* The trained point's metrics and description length. */
static int score_point(select_point *pt, cli_session *ss, occam_error *err)
{
    occam_eval ev;
    occam_trainer_eval(ss->tr, &ss->train, &ev);
    pt->train_metric = occam_eval_metric(&ev, pt->cfg.data.task);
    occam_trainer_eval(ss->tr, &ss->test, &ev);
    pt->test_metric = occam_eval_metric(&ev, pt->cfg.data.task);
    occam_dl dl;
    int rc = occam_dl_compute(&dl, &ss->model, &pt->cfg.mdl, &pt->cfg.noise, &ss->train,
                              pt->threads, NULL, err);
    if (rc != OCCAM_OK) return rc;
    if (!isfinite(dl.total_bits))
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "the description length is not finite");
    pt->total_bits = dl.total_bits;
    pt->model_bits = dl.model_bits;
    pt->data_bits = dl.data_bits;
    return OCCAM_OK;
}

/* A point that scored shorter than every earlier one is the best so far; with --save its model
 * replaces the file, so the file always holds the best point's model. A --save written in place
 * cannot be replaced: each model went after the last (`--save /dev/stdout` gave three models in
 * a row, which no reader takes), so there it replaces the memory file save_fd's contents, which
 * select_write_outputs sends at the end. */
static void keep_if_best(select_run *s, int p, cli_session *ss)
{
    bool best = s->best < 0 || s->pt[p].total_bits < s->pt[s->best].total_bits;
    if (best) s->best = p;
    /* after a failed write the file holds an earlier point's model, or none: a point shorter
     * than that one goes there too, though not the shortest (it was kept from the file) */
    bool better = !best && s->saved != s->best &&
                  (s->saved < 0 || s->pt[p].total_bits < s->pt[s->saved].total_bits);
    if (!best && !better) return;
    if (!s->o->save || !occam_comm_is_root(occam_comm_world())) return; /* rank 0 writes */
    occam_error e = {0};
    char held[32];
    const char *path = s->o->save;
    if (s->save_fd >= 0) { /* written through the descriptor, from its start */
        snprintf(held, sizeof held, "/dev/fd/%d", s->save_fd);
        path = held;
        if (ftruncate(s->save_fd, 0) != 0 || lseek(s->save_fd, 0, SEEK_SET) != 0)
            occam_error_set(&e, OCCAM_ERR_RUNTIME, "%s: %s", path, strerror(errno));
    }
    int rc = e.msg[0] ? OCCAM_ERR_RUNTIME
                      : occam_checkpoint_save(path, &ss->model, &s->pt[p].cfg, &ss->train, &e);
    /* a file is replaced whole or not at all: after a failed write it holds the point it held
     * (said at the end: it was left there as if it were the shortest); the memory file was
     * emptied, and holds none */
    if (rc == OCCAM_OK) s->saved = p;
    else if (s->save_fd >= 0) s->saved = -1;
    if (!best) return; /* save_rc and its message are the shortest point's write */
    s->save_rc = rc;
    size_t n = strlen(path); /* the memory file's messages name --save */
    bool held_msg = path != s->o->save && !strncmp(e.msg, path, n);
    snprintf(s->save_msg, sizeof s->save_msg, "%s%s", held_msg ? s->o->save : "",
             e.msg + (held_msg ? n : 0));
}

static void say_start(const select_run *s, int p)
{
    if (!isatty(2)) return;
    fprintf(stderr, "select %d/%d  %s  training ...", p + 1, s->g.npoints, s->pt[p].label);
    fflush(stderr);
}

static void say_done(const select_run *s, int p)
{
    const select_point *pt = &s->pt[p];
    bool classify = pt->cfg.data.task == OCCAM_TASK_CLASSIFY;
    /* composed first and written in one fprintf (stderr is unbuffered: each call a write), so
     * that a stop signal's message cannot land inside the line */
    char what[OCCAM_ERROR_MAX + 64], test[64] = "", tail[1024];
    if (pt->state == POINT_FAILED)
        snprintf(what, sizeof what, "failed: %s", pt->msg);
    else {
        char m[32] = "-"; /* a metric without a value: the relative error of a constant target */
        if (isfinite(pt->train_metric)) cli_metric(m, sizeof m, pt->train_metric);
        snprintf(what, sizeof what, "L = %.1f bits (%s: model %.1f + data %.1f)  %s %s",
                 pt->total_bits, occam_dl_code_name(pt->code), pt->model_bits, pt->data_bits,
                 classify ? "train_acc" : "train_rel_err", m);
    }
    char tm[24];
    if (pt->state != POINT_FAILED && isfinite(pt->test_metric)) /* none without a test set */
        snprintf(test, sizeof test, "  %s %s", classify ? "test_acc" : "test_rel_err",
                 cli_metric(tm, sizeof tm, pt->test_metric));
    if (pt->same_as >= 0)
        /* counted like these lines, from 1 (the table's point k is line k + 1 here) */
        snprintf(tail, sizeof tail, "  not trained: the same run as select %d/%d (%s)",
                 pt->same_as + 1, s->g.npoints, pt->inert ? pt->inert : "the same config");
    else
        snprintf(tail, sizeof tail, "  %.1f s", pt->seconds);
    fprintf(stderr, "%sselect %d/%d  %s  %s%s%s\n", isatty(2) ? "\r\033[K" : "", p + 1,
            s->g.npoints, pt->label, what, test, tail);
}

/* Trains and scores point p. A failed training or score marks the point failed and is not an
 * error of the run; a stop request is (OCCAM_STOPPED + signal), as is a failure to set the
 * point up (memory runs out, or its data, which preflight read, cannot be read again). */
static int train_point(select_run *s, int p, occam_error *err)
{
    select_point *pt = &s->pt[p];
    cli_session ss;
    occam_error e = {0};
    int rc = cli_agree(load_data(s, pt, &e), &e); /* checked by preflight */
    if (rc == OCCAM_OK)
        rc = cli_session_open_with(&ss, &pt->cfg, pt->threads, &s->data.train, &s->data.test,
                                   &e);
    if (rc == OCCAM_OK) pt->threads = ss.threads; /* automatic: at most one per core */
    if (rc != OCCAM_OK && !e.msg[0]) { /* under mpirun another rank failed, and says why */
        err->msg[0] = 0;
        err->status = rc;
        return rc;
    }
    if (rc != OCCAM_OK)
        return occam_error_set(err, rc, "select %d/%d (%s): %s", p + 1, s->g.npoints,
                               pt->label, e.msg);
    if (p == 0) {
        char label[256], team[64];
        cli_label_text(label, sizeof label, &ss.train);
        cli_team_text(team, sizeof team, pt->threads, ss.arch); /* every rank gets here */
        fprintf(stderr, "occam: %zu training and %zu test samples%s, %d point%s, %s, "
                "BLIS kernels %s\n", ss.train.n, ss.test.n, label, s->g.npoints,
                s->g.npoints == 1 ? "" : "s", team, ss.arch);
    }
    say_start(s, p);
    if (s->o->verbose) fputc('\n', stderr);
    occam_fit_result fit = {0};
    occam_prune_log plog = {0};
    occam_train_io io = {.progress = s->o->verbose ? on_epoch : NULL, .user = &pt->cfg};
    double t0 = occam_clock_now();
    rc = occam_train_run(ss.tr, &ss.model, &pt->cfg, &ss.train, &ss.test, &fit, &plog, &io, &e);
    bool last = true; /* no point after this one trains: a signal now meets no step */
    for (int q = p + 1; q < s->g.npoints; q++) last &= s->pt[q].same_as >= 0;
    if (last) cli_training_ended();
    if (rc == OCCAM_OK) rc = score_point(pt, &ss, &e);
    pt->seconds = occam_clock_now() - t0;
    if (rc >= OCCAM_STOPPED) {
        if (isatty(2)) fputc('\n', stderr);
        occam_error_set(err, rc, "point %d (%s): %s", p, pt->label, e.msg);
    } else {
        pt->state = rc == OCCAM_OK ? POINT_DONE : POINT_FAILED;
        snprintf(pt->msg, sizeof pt->msg, "%s", e.msg);
        if (rc == OCCAM_OK) keep_if_best(s, p, &ss);
        say_done(s, p);
        rc = OCCAM_OK;
    }
    occam_fit_result_free(&fit);
    occam_prune_log_free(&plog);
    cli_session_close(&ss);
    return rc;
}

/* Point p's result is its same_as point's, trained before it (it cannot be shorter, so the
 * best and the saved model stay the earlier point's). */
static void take_result(select_run *s, int p)
{
    select_point *pt = &s->pt[p];
    const select_point *k = &s->pt[pt->same_as];
    pt->state = k->state;
    memcpy(pt->msg, k->msg, sizeof pt->msg);
    pt->code = k->code;
    pt->total_bits = k->total_bits;
    pt->model_bits = k->model_bits;
    pt->data_bits = k->data_bits;
    pt->train_metric = k->train_metric;
    pt->test_metric = k->test_metric;
    pt->seconds = 0;
    say_done(s, p);
}

/* Trains the points in order until all are done or a stop is requested. */
static int train_all(select_run *s, occam_error *err)
{
    for (int p = 0; p < s->g.npoints; p++) {
        int sig = occam_fit_stop_agreed(occam_comm_world()); /* every rank stops together */
        if (sig) return occam_error_set(err, OCCAM_STOPPED + sig, "stopped by signal %d", sig);
        if (s->pt[p].same_as >= 0) {
            take_result(s, p);
            continue;
        }
        int rc = train_point(s, p, err);
        if (rc) return rc;
    }
    return OCCAM_OK;
}

static int select_body(select_run *s, occam_error *err)
{
    const cli_opts *o = s->o;
    int rc = base_config(o, &s->base, err);
    if (rc == OCCAM_OK) rc = grid_parse(&s->g, o->grids, o->ngrids, &s->base, err);
    if (rc == OCCAM_OK) rc = grid_check_sets(&s->g, o->sets, o->nsets, err);
    if (rc == OCCAM_OK && o->threads >= 0) { /* the help says --threads overrides the key */
        char option[32];
        snprintf(option, sizeof option, "--threads %d", o->threads);
        rc = grid_check_option(&s->g, option, "runtime.threads", err);
    }
    if (rc == OCCAM_OK) rc = build_points(s, err);
    /* every point's: a grid over data.train may name the output */
    for (int p = 0; rc == OCCAM_OK && p < s->g.npoints; p++)
        rc = cli_check_outputs(o, &s->pt[p].cfg, err);
    cli_catch_stop_signals(); /* before the preflight's data loads; kept until a point starts */
    if (rc == OCCAM_OK) rc = preflight(s, err);
    if (rc == OCCAM_OK) rc = preflight_runtime(s, err);
    if (rc == OCCAM_OK) rc = comparable(s, err);
    /* under mpirun the ranks stop together, before any training: a rank whose own --set,
     * --threads or point failed above left the others waiting here */
    rc = cli_agree(rc, err);
    if (rc != OCCAM_OK) return rc;
    if (o->save && occam_comm_is_root(occam_comm_world()) && occam_outfile_in_place(o->save) &&
        (s->save_fd = memfd_create("occam-select-save", MFD_CLOEXEC)) < 0)
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "select: --save %s: cannot hold the "
                               "model until the end: %s", o->save, strerror(errno));
    select_print_header(s, stdout);
    rc = train_all(s, err);
    /* A point that could not be set up (memory or threads ran out) ends the grid as a stop
     * does: the finished points' table and report are written, and the message says what
     * --save holds. It returned at once, leaving the report of another run beside the model
     * --save had been given as the grid ran. */
    s->interrupted = rc != OCCAM_OK;
    int done = 0;
    for (int p = 0; p < s->g.npoints; p++) done += s->pt[p].state != POINT_PENDING;
    select_print_table(s, stdout);
    occam_error out_err = {0};
    int out_rc = select_write_outputs(s, &out_err);
    /* A stop asked for during the last point (its final steps or its description length) or
     * while the outputs were written found no next point to stop before: it went unheard and
     * the run exited 0. Every point is done, so the table and the outputs are whole; the exit
     * status says it was stopped. */
    cli_outputs_final();
    int late = rc == OCCAM_OK ? occam_fit_stop_agreed(occam_comm_world()) : 0;
    /* another rank's failure, agreed here without its words: that rank says why */
    if (s->interrupted && rc < OCCAM_STOPPED && !err->msg[0]) return rc;
    if (s->interrupted) {
        char why[sizeof err->msg], kept[96] = "";
        snprintf(why, sizeof why, "%s", err->msg);
        if (s->o->save && s->best >= 0 && s->save_rc == OCCAM_OK && /* rank 0 wrote it */
            occam_comm_is_root(occam_comm_world()))
            snprintf(kept, sizeof kept, "; --save holds point %d's model, the shortest of them",
                     s->best);
        else if (s->o->save && s->saved >= 0 && occam_comm_is_root(occam_comm_world()))
            snprintf(kept, sizeof kept, "; --save holds point %d's model, not the shortest "
                     "(point %d's could not be written)", s->saved, s->best);
        return occam_error_set(err, rc, "%s%s; %d of %d points finished%s%s%s",
                               strncmp(why, "select ", 7) ? "select: " : "", why, done,
                               s->g.npoints, kept, out_err.msg[0] ? "; " : "", out_err.msg);
    }
    /* every point failing is the news, before what --save could not do because of it (it
     * used to say 'no point was trained' of points that trained and failed) */
    if (s->best < 0)
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "select: every point failed; none was "
                               "chosen%s%s", out_err.msg[0] ? "; " : "", out_err.msg);
    /* as train's: an output that failed as the run stopped exits 128 + the signal */
    if (out_rc == OCCAM_ERR_RUNTIME && late)
        return occam_error_set(err, OCCAM_STOPPED + late, "%s; select: stopped by signal %d "
                               "after the last point had trained", out_err.msg, late);
    if (out_rc != OCCAM_OK) return occam_error_set(err, out_rc, "%s", out_err.msg);
    if (late)
        return occam_error_set(err, OCCAM_STOPPED + late, "select: stopped by signal %d after "
                               "the last point had trained; %d of %d points finished, with every "
                               "output written", late, s->g.npoints, s->g.npoints);
    return OCCAM_OK;
}

static int run(const cli_opts *o, occam_error *err)
{
    select_run *s = calloc(1, sizeof *s);
    if (!s) return occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory");
    s->o = o;
    cli_threads_given(o);
    s->best = -1;
    s->saved = -1;
    s->save_fd = -1;
    int rc = select_body(s, err);
    if (s->save_fd >= 0) close(s->save_fd);
    data_free(&s->data);
    occam_coded_rows_free(&s->coded);
    grid_free(&s->g);
    free(s->pt);
    free(s);
    return rc;
}

int cmd_select(int argc, char **argv)
{
    return cli_command(argc, argv, CLI_SET | CLI_THREADS | CLI_REPORT | CLI_SAVE | CLI_GRID |
                           CLI_VERBOSE,
                       usage, run);
}
