/* The set-up every computing subcommand shares: data, model (initialised or loaded from a
 * checkpoint), the placed runtime and the trainer, built in that order and torn down in
 * reverse. */
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "cli.h"
#include "occam/checkpoint.h"
#include "occam/comm.h"
#include "occam/fit.h"
#include "occam/dl.h"
#include "occam/gemm.h"
#include "occam/occfile.h"
#include "occam/outfile.h"

/* ---- the ranks train the same thing ------------------------------------------------------
 * Under mpirun every rank reads its own config and data, and every collective of a step assumes
 * they are the same: a rank with other rows, another batch or another model.layers waited for
 * the others forever (or died in MPI). So before the first collective the ranks compare a hash
 * of each config line and of the data, and a rank that differs from rank 0 stops them all,
 * naming the key. What a rank may set for itself is left out: its threads and their placement
 * (runtime.* but runtime.grad), where its files are (data.path, data.train, data.test) and the
 * checkpoint folder (rank 0 alone writes). */

static uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ull; /* FNV-1a */
    return h;
}

/* The arrays through zlib's crc32, folded into the FNV state: FNV-1a's byte-serial multiply
 * chain took 0.52 s on Fashion-MNIST's 219 MB of pixels in a loop by itself, crc32 0.08 s;
 * a 2-rank, 1-epoch run starts 0.16 s sooner (median wall 5.73 s against 5.89).
 * 32 bits of it are plenty to catch ranks that read different files by mistake. */
static uint64_t hash_array(uint64_t h, const void *p, size_t n)
{
    uint32_t crc = (uint32_t)crc32_z(0, p, n);
    return hash_bytes(h, &crc, sizeof crc);
}

static uint64_t hash_dataset(uint64_t h, const occam_dataset *ds)
{
    size_t shape[5] = {ds->n, ds->d, (size_t)ds->classes, (size_t)ds->targets,
                       (size_t)ds->grid_w}; /* grid_w: the model code's image grid */
    h = hash_bytes(h, shape, sizeof shape);
    if (ds->x) h = hash_array(h, ds->x, ds->n * ds->d * sizeof(float));
    if (ds->label) h = hash_array(h, ds->label, ds->n * sizeof(int32_t));
    if (ds->y) h = hash_array(h, ds->y, ds->n * (size_t)ds->targets * sizeof(float));
    return h;
}

/* The weights the ranks start from: loaded from a checkpoint, or initialised from train.seed. */
static uint64_t hash_model(uint64_t h, const occam_model *m)
{
    size_t n = m->lay.nparams;
    h = hash_bytes(h, &n, sizeof n);
    if (m->params) h = hash_array(h, m->params, n * sizeof(float));
    h = hash_bytes(h, (const uint8_t[]){m->mask != NULL, m->rho != NULL}, 2);
    if (m->mask) h = hash_array(h, m->mask, n);
    if (m->rho) h = hash_array(h, m->rho, n * sizeof(float));
    return h;
}

bool cli_rank_local(const char *key)
{
    static const char *const own[] = {"data.path", "data.train", "data.test",
                                      "train.checkpoint_dir"};
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
        if (!strcmp(key, own[i])) return true;
    return !strncmp(key, "runtime.", 8) && strcmp(key, "runtime.grad") != 0;
}

/* The effective config's lines as "section.key = value", rank-local keys left out; *n lines.
 * NULL when out of memory. */
static char **config_lines(const occam_config *cfg, int *n)
{
    char *text = NULL, **lines = NULL, section[64] = "";
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) return NULL;
    occam_config_write_ini(cfg, f);
    fclose(f);
    *n = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '[') {
            snprintf(section, sizeof section, "%.*s", (int)strcspn(line + 1, "]"), line + 1);
            continue;
        }
        char key[160];
        snprintf(key, sizeof key, "%s.%.*s", section, (int)strcspn(line, " ="), line);
        if (!line[0] || line[0] == ';' || line[0] == '#' || cli_rank_local(key)) continue;
        char **grown = realloc(lines, sizeof *lines * (size_t)(*n + 1));
        size_t need = strlen(section) + strlen(line) + 2;
        char *copy = grown ? malloc(need) : NULL;
        if (grown) lines = grown;
        if (!copy) break;
        snprintf(copy, need, "%s.%s", section, line);
        lines[(*n)++] = copy;
    }
    free(text);
    return lines;
}

/* Every rank calls it at the same point, whatever its rc: OCCAM_OK, or on the ranks that
 * differ from rank 0 an input error naming the first key that does, or the data. */
static int ranks_agree_on_inputs(const occam_config *cfg, const cli_session *s, int rc,
                                 occam_error *err)
{
    const occam_comm *w = occam_comm_world();
    if (w->size <= 1 || !w->mpi) return rc;
    int n = 0;
    char **lines = config_lines(cfg, &n);
    size_t per = (size_t)n + 1;
    uint64_t *mine = calloc(per, sizeof *mine), *all = calloc(per * (size_t)w->size, sizeof *all);
    if (!lines || !mine || !all) occam_comm_abort(1); /* the others wait in the allgather */
    const uint64_t basis = 0xcbf29ce484222325ull;
    for (int i = 0; i < n; i++) mine[i] = hash_bytes(basis, lines[i], strlen(lines[i]));
    if (rc == OCCAM_OK) mine[n] = hash_dataset(hash_dataset(basis, &s->train), &s->test);
    occam_comm_allgather_bytes(w, mine, all, per * sizeof *mine);
    for (size_t i = 0; rc == OCCAM_OK && i < per; i++) {
        if (all[i] == mine[i]) continue;
        if (i < (size_t)n)
            rc = occam_error_set(err, OCCAM_ERR_INPUT, "rank %d: %s differs from rank 0's; "
                                 "every rank must train the same config (only runtime.* but "
                                 "runtime.grad, the data paths and train.checkpoint_dir may "
                                 "differ)", w->rank, lines[i]);
        else if (all[i]) /* rank 0 loaded its data */
            rc = occam_error_set(err, OCCAM_ERR_INPUT, "rank %d: its data (%zu training rows "
                                 "and %zu test rows of %zu features) differ from rank 0's; "
                                 "every rank must read the same rows", w->rank, s->train.n,
                                 s->test.n, s->train.d);
    }
    for (int i = 0; i < n; i++) free(lines[i]);
    free(lines);
    free(mine);
    free(all);
    return rc;
}

/* Every rank calls it: whether this rank's hash (of a loaded input; rc not OK: none) differs
 * from rank 0's, when rank 0 has one. */
static bool differs_from_rank_0(const occam_comm *w, uint64_t mine, int rc)
{
    uint64_t first = rc == OCCAM_OK ? mine : 0;
    occam_comm_bcast(w, &first, sizeof first, 0);
    return rc == OCCAM_OK && first && mine != first;
}

int cli_ranks_same_model(const occam_model *m, const char *from, int rc, occam_error *err)
{
    const occam_comm *w = occam_comm_world();
    if (w->size <= 1 || !w->mpi) return rc;
    if (differs_from_rank_0(w, rc == OCCAM_OK ? hash_model(0xcbf29ce484222325ull, m) : 0, rc))
        rc = occam_error_set(err, OCCAM_ERR_INPUT, "rank %d: its model (%s) differs from rank "
                             "0's; every rank must start from the same weights", w->rank, from);
    return rc;
}

int cli_ranks_same_state(uint64_t tensors_hash, const char *from, int rc, occam_error *err)
{
    const occam_comm *w = occam_comm_world();
    if (w->size <= 1 || !w->mpi) return rc;
    if (differs_from_rank_0(w, rc == OCCAM_OK ? tensors_hash | 1 : 0, rc))
        rc = occam_error_set(err, OCCAM_ERR_INPUT, "rank %d: its training state (%s) differs "
                             "from rank 0's (its place in the run, optimiser moments or random "
                             "streams, if not its weights); every rank must resume the same "
                             "state", w->rank, from);
    return rc;
}

int cli_ranks_same_rows(const occam_dataset *ds, const char *from, int rc, occam_error *err)
{
    const occam_comm *w = occam_comm_world();
    if (w->size <= 1 || !w->mpi) return rc;
    if (differs_from_rank_0(w, rc == OCCAM_OK ? hash_dataset(0xcbf29ce484222325ull, ds) : 0, rc))
        rc = occam_error_set(err, OCCAM_ERR_INPUT, "rank %d: its rows (%s: %zu of %zu features) "
                             "differ from rank 0's; every rank must read the same rows", w->rank,
                             from, ds->n, ds->d);
    return rc;
}

static void loading_ended(void); /* with the signal handling, below */


/* cli_session_open, or with `train` not NULL cli_session_open_with. */
static int session_open(cli_session *s, const occam_config *cfg, int threads,
                        const char *checkpoint, const occam_dataset *train,
                        const occam_dataset *test, occam_error *err)
{
    memset(s, 0, sizeof *s);
    s->cfg = *cfg;
    s->threads = threads;
    s->arch = occam_gemm_init();
    int rc = occam_model_create(&s->model, &s->cfg.model, s->cfg.data.task, err);
    if (rc == OCCAM_OK) {
        if (checkpoint) rc = cli_check_config(checkpoint, &s->cfg, err);
        if (checkpoint && rc == OCCAM_OK) rc = occam_checkpoint_load(checkpoint, &s->model, err);
        else occam_model_init(&s->model, s->cfg.model.init, s->cfg.train.seed);
        s->file_sigma = checkpoint && s->model.rho; /* before the trainer makes its own */
    }
    if (rc == OCCAM_OK && train) {
        s->train = *train;
        s->test = *test;
        s->borrowed = true;
    } else if (rc == OCCAM_OK) {
        rc = occam_data_load(&s->cfg.data, occam_config_inputs(&s->cfg),
                             occam_config_outputs(&s->cfg), &s->train, &s->test, err);
    }
    /* The model's training rows, as its file records them: another set (a changed data.train,
     * data.holdout or data.seed) scales the inputs by other statistics, and eval, predict and
     * mdl ran on without a word (probabilities changed; a blobs model tested on another task
     * at accuracy 0.29) */
    if (rc == OCCAM_OK && checkpoint && !train)
        cli_note_trained_rows(checkpoint, &s->cfg, &s->train, ", and a description length codes "
                              "these rows");
    /* the topology is read while loading too: an XML pipe whose writer never closes must end
     * on the first signal, as a data pipe does */
    if (rc == OCCAM_OK) rc = occam_runtime_open(&s->rt, &s->cfg.runtime, threads,
                                                    cli_threads_origin(), err);
    loading_ended();
    if (rc == OCCAM_OK) s->threads = threads = s->rt.plan.threads; /* one per core at most */
    rc = ranks_agree_on_inputs(&s->cfg, s, rc, err);
    /* each rank would score its share of the rows with its own weights, and the sums mix
     * them into nobody's result */
    char from[OCCAM_ERROR_MAX / 2];
    snprintf(from, sizeof from, "%s%s", checkpoint ? "--checkpoint " : "initialised from "
             "train.seed", checkpoint ? checkpoint : "");
    rc = cli_ranks_same_model(&s->model, from, rc, err);
    /* Under mpirun every rank opens its session, and a checkpoint or data set one rank cannot
     * read stops them all here, before the trainer's first collective (its ranks' thread
     * counts): a rank that skipped it would pair its next agreement with that allgather, and
     * the ranks went on to wait for each other forever. */
    int all = cli_agree(rc, err);
    if (all == OCCAM_OK) {
        occam_runtime_place_weights(&s->rt, s->model.params, s->model.lay.nparams * sizeof(float));
        /* A batch past the training rows takes all of them every step: buffers sized for the
         * batch held rows that never come (549 MB for a batch of 2^20 over blobs's 1,000 rows,
         * 27 MB at 1,000), and a wide model was refused for memory it would never use. The
         * run is the one at batch = the rows, bit for bit. */
        occam_trainer_params tp = occam_config_trainer(&s->cfg);
        if (s->train.n > 0 && (size_t)tp.batch > s->train.n) tp.batch = (int)s->train.n;
        tp.rows = s->train.n;
        rc = occam_trainer_create(&s->tr, &s->model, tp, threads, &s->rt.affinity, err);
        if (rc == OCCAM_OK) occam_runtime_report_notices(&s->rt);
        all = cli_agree(rc, err); /* the trainer's allocations, after every rank's allgather */
    }
    /* a rank whose own open worked closes it too */
    if (all != OCCAM_OK) cli_session_close(s);
    return all;
}

void cli_note_trained_rows(const char *checkpoint, const occam_config *cfg,
                           const occam_dataset *train, const char *also)
{
    char why[96];
    /* under data.normalize = none (and no scaled targets) nothing is scaled by them */
    bool inputs = cfg->data.normalize != OCCAM_NORM_NONE;
    bool targets = cfg->data.task == OCCAM_TASK_REGRESS && cfg->data.normalize_targets;
    const char *what = inputs && targets ? "inputs and targets"
                       : inputs          ? "inputs"
                       : targets         ? "targets"
                                         : NULL;
    char scaled[96] = "";
    if (what)
        snprintf(scaled, sizeof scaled, ": the %s are scaled by these rows' statistics, not its "
                 "own", what);
    if (occam_comm_is_root(occam_comm_world()) &&
        !occam_checkpoint_same_rows(checkpoint, train, why, sizeof why))
        fprintf(stderr, "occam: note: %s was trained on other training rows than this config "
                "loads (%s)%s%s\n", cli_shown(checkpoint), why, scaled, also);
}

/* ' ("name")' for feature j of ds from its CSV header (shortened, control bytes shown), or
 * "" without one. */
static void column_label(char *buf, size_t size, const occam_dataset *ds, size_t j)
{
    const char *nm = occam_dataset_column_name(ds, j);
    char q[4 * 40 + 4];
    buf[0] = 0;
    if (!nm) return;
    occam_error_quote(q, sizeof q, nm, strlen(nm), 40);
    snprintf(buf, size, " (\"%s\")", q);
}

void cli_label_text(char *buf, size_t cap, const occam_dataset *ds)
{
    buf[0] = 0;
    if (!ds->label_col) return;
    char q[4 * 40 + 4] = "";
    if (ds->label_name) occam_error_quote(q, sizeof q, ds->label_name, strlen(ds->label_name), 40);
    snprintf(buf, cap, ", label column %zu%s%s%s", ds->label_col, ds->label_name ? " (\"" : "",
             q, ds->label_name ? "\")" : "");
}

/* "data.train (PATH)" into who; an IDX or generated source has no file under data.train, and
 * its set is named instead ("the training set"). */
static void note_who(char *who, size_t cap, const char *what, const char *path)
{
    if (path && path[0]) snprintf(who, cap, "%s (%.*s)", what, OCCAM_PATH_MAX, path);
    else snprintf(who, cap, "the %s set", strcmp(what, "data.test") ? "training" : "test");
}

void cli_note_csv(const char *what, const char *path, const occam_dataset *ds)
{
    if (!occam_comm_is_root(occam_comm_world())) return;
    char who[OCCAM_PATH_MAX + 64];
    note_who(who, sizeof who, what, path);
    if (ds->row_index)
        fprintf(stderr, "occam: note: %s: its first column has no name and %s: a row "
                "index, as pandas' to_csv and R's write.csv write by default%s? occam reads it "
                "as a feature; write the file without it (pandas: index=False; R: row.names = "
                "FALSE)\n",
                who,
                ds->row_index == OCCAM_ROW_INDEX_COUNTS
                    ? "counts the rows one by one"
                    : "holds a different whole number on every row",
                ds->row_index == OCCAM_ROW_INDEX_COUNTS
                    ? ""
                    : ", left with gaps or out of order after rows were dropped (R's na.omit, "
                      "pandas' dropna) or shuffled");
    if (occam_dataset_numeric_header(ds)) {
        char first[4 * 40 + 4];
        occam_error_quote(first, sizeof first, ds->names, strlen(ds->names), 40);
        /* the row lost is the training set's, the test set's or a prediction */
        const char *lost = !strcmp(what, "data.train") ? "it is not trained on"
                           : !strcmp(what, "data.test") ? "it is not tested on"
                                                        : "it gets no prediction";
        fprintf(stderr, "occam: note: %s: data.header = yes takes its first line for a header, "
                "but that line holds only numbers (feature 1 \"%s\"): if it is a data row, %s; "
                "data.header = auto reads a line of numbers as a row\n",
                who, first, lost);
    }
    if (ds->text_label_first)
        fprintf(stderr, "occam: note: %s: its first line's only text is in column %zu, "
                "data.label's, which is not read: occam reads the line as a row (a new row "
                "whose outcome is unknown); if it is a header, set data.header = yes\n",
                who, ds->label_col);
    bool pandas = occam_numbered_like_pandas(ds->numbered_from, ds->numbered_step);
    if (ds->numbered_first && pandas)
        fprintf(stderr, "occam: note: %s: its first line numbers the columns, 0, 1, 2, ... (or "
                "1, 2, 3, ...), as pandas writes the header of a table whose columns have no "
                "names: data.header = auto reads a line of numbers as data, so occam reads it as "
                "a row; if it is a header, set data.header = yes\n",
                who);
    else if (ds->numbered_first)
        fprintf(stderr, "occam: note: %s: its first line numbers the columns, %.17g, %.17g, "
                "%.17g, ..., as a header of years or other numbers does: data.header = auto "
                "reads a line of numbers as data, so occam reads it as a row; if it is a "
                "header, set data.header = yes\n",
                who, ds->numbered_from, ds->numbered_from + ds->numbered_step,
                ds->numbered_from + 2 * ds->numbered_step);
    if (ds->coarse_col) {
        double lo = ds->coarse_lo, hi = ds->coarse_hi;
        double step = occam_float_step(fmax(fabs(lo), fabs(hi)));
        double n = floor((hi - lo) / step);
        char span[48];
        if (n < 1) snprintf(span, sizeof span, "less than one step");
        else snprintf(span, sizeof span, "about %.0f step%s", n, n == 1 ? "" : "s");
        fprintf(stderr, "occam: note: %s: column %zu runs from %.10g to %.10g, and "
                "float32, occam's number type, keeps steps of %g there: its range spans %s, "
                "so much of what it holds is lost; subtract a constant from the column (or "
                "change its units) first\n",
                who, ds->coarse_col, lo, hi, step, span);
    }
    if (ds->quoted_col) {
        char name[200];
        column_label(name, sizeof name, ds, ds->quoted_feature - 1);
        fprintf(stderr, "occam: note: %s: column %zu%s is quoted in every row and other "
                "features are not, as R's write.csv writes a factor: a category or an "
                "identifier read as a number? occam reads its codes as quantities; write a "
                "category as one 0/1 column per value, and leave identifiers out\n",
                who, ds->quoted_col, name);
    }
    if (ds->const_cols) {
        /* float32's value in its fewest digits: 10.66 read as float was said as 10.65999985,
         * and 20190101 as 2.01901e+07 */
        char val[40];
        double v = ds->const_val;
        if (v == floor(v) && fabs(v) < 1e15) snprintf(val, sizeof val, "%.0f", v);
        else
            for (int p = 6; p <= 9; p++)
                if (snprintf(val, sizeof val, "%.*g", p, v) > 0 &&
                    (float)strtod(val, NULL) == (float)v)
                    break;
        char name[200];
        column_label(name, sizeof name, ds, ds->const_col - 1);
        char which[512];
        bool one = ds->const_cols == 1;
        if (one)
            snprintf(which, sizeof which, "feature %zu of %zu%s (the label not counted) is "
                     "%s in every training row", ds->const_col, ds->d, name, val);
        else
            snprintf(which, sizeof which, "%zu of the %zu features (the label not counted) are "
                     "constant over the training rows (the first, feature %zu%s, is %s)",
                     ds->const_cols, ds->d, ds->const_col, name, val);
        fprintf(stderr, "occam: note: %s: %s: occam holds %s at %s training value in every "
                "row, test and predicted rows included (data.normalize = standardize: at 0), "
                "since the training rows say nothing about what %s\n", who, which,
                one ? "it" : "them", one ? "its" : "their", one ? "it does" : "they do");
    }
    if (ds->squashed_col) {
        char name[200], ratio[32];
        column_label(name, sizeof name, ds, ds->squashed_col - 1);
        snprintf(ratio, sizeof ratio, ds->squashed_ratio < 1e9 ? "%.0f" : "%.3g",
                 ds->squashed_ratio);
        fprintf(stderr, "occam: note: %s: data.normalize = scale divides every feature by "
                "the largest |x| of all, and feature %zu of %zu%s (the label not counted) "
                "reaches only 1/%s of it, so it stays near 0 beside the others; "
                "data.normalize = standardize scales each feature by its own spread\n",
                who, ds->squashed_col, ds->d, name, ratio);
    }
}

void cli_note_classes(const occam_dataset *train, const occam_dataset *test)
{
    if (!occam_comm_is_root(occam_comm_world()) || !train->label || train->classes < 2) return;
    int k = train->classes;
    size_t *seen = calloc((size_t)k, sizeof *seen);
    if (!seen) return; /* a note is not worth failing the run for */
    for (size_t i = 0; i < train->n; i++) seen[train->label[i]]++;
    int missing = 0, first = -1;
    for (int c = 0; c < k; c++)
        if (!seen[c] && !missing++) first = c;
    size_t rows = 0; /* test rows of a class no training row has */
    if (missing && test && test->label && test->classes == k)
        for (size_t i = 0; i < test->n; i++) rows += !seen[test->label[i]];
    free(seen);
    if (!missing) return;
    char also[96] = "";
    if (rows)
        snprintf(also, sizeof also, "; %zu test row%s %s such a class, and cannot be right",
                 rows, rows == 1 ? "" : "s", rows == 1 ? "has" : "have");
    fprintf(stderr, "occam: note: %d of the %d classes (the first: %d) %s no training row: "
            "the net only learns never to predict %s%s\n",
            missing, k, first, missing == 1 ? "has" : "have", missing == 1 ? "it" : "them",
            also);
}

/* The data code quantises each target to δ = mdl.target_precision and floors its σ at δ: on
 * targets that span less than δ (a rate in 1e-8 units at the default 0.01) every residual,
 * even the mean's, lies within one step, the data bits come out the same for every fit, and
 * the description length ranked models by their size alone without a word. The span, not the
 * standard deviation: a target of 0.03 on 5% of the rows and 0 elsewhere has a standard
 * deviation of 0.007 and still codes fits apart. */
void cli_note_targets(const char *path, const occam_dataset *train, double target_precision)
{
    if (!occam_comm_is_root(occam_comm_world()) || !train->y || train->targets <= 0 ||
        !train->n)
        return;
    size_t k = (size_t)train->targets;
    char who[OCCAM_PATH_MAX + 64];
    for (size_t j = 0; j < k; j++) {
        double lo = INFINITY, hi = -INFINITY;
        for (size_t i = 0; i < train->n; i++) {
            lo = fmin(lo, train->y[i * k + j]);
            hi = fmax(hi, train->y[i * k + j]);
        }
        /* in the targets' units: the stored ones may be standardised */
        double scale = occam_dataset_target_scale(train, (int)j);
        double span = (hi - lo) * scale;
        /* The other end: a step finer than float32 resolves the targets (they are read, and
         * stored, as float32) buys digits the data do not have, about log2(resolution / δ)
         * bits a row (mdl.target_precision = 1e-300 gave some 990). Each row by its own
         * resolution: judged by the largest |target| alone, three outliers among 197 targets
         * below 10 drew "9 bits a row", which only those three paid. */
        double shift = train->y_shift ? train->y_shift[j] : 0.0, extra = 0.0, res_big = 0.0;
        for (size_t i = 0; i < train->n; i++) {
            double v = train->y[i * k + j], orig = v * scale + shift;
            double res = fmax(v != 0.0 ? ldexp(1.0, ilogb(v) - 23) * scale : 0.0,
                              orig != 0.0 ? ldexp(1.0, ilogb(orig) - 23) : 0.0);
            if (!isfinite(res) || !(res > 2 * target_precision)) continue;
            extra += log2(res) - log2(target_precision); /* the ratio overflows at 4e-324 */
            res_big = fmax(res_big, res);
        }
        extra /= (double)train->n;
        if (extra >= 1.0) {
            note_who(who, sizeof who, "data.train", path);
            char tp[25];
            fprintf(stderr, "occam: note: mdl.target_precision = %s is finer than float32, "
                    "which occam reads targets as, resolves target %zu of %s (a step of %.3g "
                    "near its largest value): the data code pays about %.0f bits a row, "
                    "averaged over the rows, for digits the data do not have; set it to the "
                    "precision the targets are measured to\n",
                    occam_error_spell_double(tp, sizeof tp, target_precision), j + 1, who,
                    res_big, extra);
            return;
        }
        if (!(span > 0.0) || span >= target_precision) continue; /* a constant target: said */
        note_who(who, sizeof who, "data.train", path);
        fprintf(stderr, "occam: note: %s: target %zu spans %.3g (from its least to its "
                "greatest over the training rows), less than mdl.target_precision = %g, the "
                "step the data code sends targets to: every residual from a fit within that "
                "span lies within one step, so the data bits are about the same for every fit "
                "and the description length ranks models by their size alone; set "
                "mdl.target_precision to the precision the targets are measured to (below "
                "%.3g)\n",
                who, j + 1, span, target_precision, span);
        return;
    }
}

int cli_session_open(cli_session *s, const occam_config *cfg, int threads,
                     const char *checkpoint, occam_error *err)
{
    return session_open(s, cfg, threads, checkpoint, NULL, NULL, err);
}

int cli_session_open_with(cli_session *s, const occam_config *cfg, int threads,
                          const occam_dataset *train, const occam_dataset *test,
                          occam_error *err)
{
    return session_open(s, cfg, threads, NULL, train, test, err);
}

void cli_session_close(cli_session *s)
{
    occam_trainer_free(s->tr);
    occam_runtime_close(&s->rt);
    occam_model_free(&s->model);
    if (!s->borrowed) {
        occam_dataset_free(&s->train);
        occam_dataset_free(&s->test);
    }
    s->train = s->test = (occam_dataset){0};
    s->tr = NULL;
}

/* SIGINT, SIGTERM, SIGUSR1, SIGHUP and SIGXCPU ask the run to stop after its step; a second
 * one more than a second after the first stops it at once, removing the temporary file of a
 * save or checkpoint it interrupts (main's handler, which these replace, would have). */
static volatile sig_atomic_t loading, training_ended, outputs_final, many_ranks, late_ignored,
    not_root;
static struct timespec first_stop; /* when the first stop signal came (only the handler) */
/* The first stop signal's record: 0 none yet, 1 being written, 2 first_stop holds its time.
 * Two signals pending at once (an impatient double Ctrl-C while the process was stopped) can
 * be handled at once by two threads: both took themselves for the first, and the second's
 * "the same stop" was never said. Lock-free atomics are safe in a handler. */
static atomic_int stop_state;
#define STOP_GRACE_NS 1000000000LL /* a second */

static void die_by(int sig)
{
    occam_outfile_unlink_open();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void on_signal(int sig)
{
    if (loading && !many_ranks) {
        /* Nothing is trained yet: stop at once. Recording the stop for the first step left a
         * run whose data never came (a FIFO no one writes, a pipe) waiting for ever: one
         * SIGTERM from timeout(1) or a service manager did not end it. Under mpirun the ranks
         * agree on their loads' failures and mpirun ends ranks it gives up on (a SIGTERM that
         * this would answer with a second message): the stop is recorded as after loading. */
        char msg[128] = "occam: stopped by signal ";
        size_t k = strlen(msg);
        if (sig >= 10) msg[k++] = (char)('0' + sig / 10 % 10);
        msg[k++] = (char)('0' + sig % 10);
        static const char rest[] = " while the inputs were read; nothing was trained\n";
        memcpy(msg + k, rest, sizeof rest);
        ssize_t w = write(2, msg, strlen(msg));
        (void)w;
        die_by(sig);
        return;
    }
    if (occam_fit_stop_requested() || atomic_load(&stop_state) != 0) {
        /* A second press within STOP_GRACE_NS of the first is the same stop (an impatient double
         * Ctrl-C ended a finished run before its --save, with no word); a later one ends the
         * run at once, saying what it leaves unwritten. SIGXCPU never does: the kernel repeats
         * it every CPU-second past the soft limit, and the hard limit ends the run anyway. */
        if (sig == SIGXCPU) return;
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long long ns = (long long)(now.tv_sec - first_stop.tv_sec) * 1000000000LL +
                       (now.tv_nsec - first_stop.tv_nsec);
        if (atomic_load(&stop_state) == 1 || ns < STOP_GRACE_NS) { /* 1: the first's handler
                                                                      runs now, in another thread */
            static const char same[] = "occam: a second signal within a second of the first: "
                                       "the same stop (one after that second ends the run at "
                                       "once, without saving)\n";
            if (!outputs_final) { /* written, the run's own last words say enough */
                ssize_t w = write(2, same, sizeof same - 1);
                (void)w;
            }
            return;
        }
        if (outputs_final) {
            /* Everything is written: nothing is lost by ending now, so nothing is said. Under
             * mpirun this is the SIGTERM mpirun sends the ranks left once one has ended by the
             * first signal, which said "whatever was still being saved is not written" after
             * every file was whole. */
            die_by(sig);
            return;
        }
        static const char now_msg[] = "occam: a second signal: stopped at once; whatever was "
                                      "still being saved is not written (a checkpoint already "
                                      "written is kept)\n";
        ssize_t w = write(2, now_msg, sizeof now_msg - 1);
        (void)w;
        die_by(sig);
        return;
    }
    if (outputs_final) {
        /* Past the last check: ending by the signal says it was stopped. Under mpirun the
         * ranks agree on that check, and one rank dying by a signal its peers had before
         * theirs aborts the job: a first late signal there is let go, unheard. */
        if (many_ranks && !late_ignored) {
            late_ignored = 1;
            return;
        }
        die_by(sig);
        return;
    }
    int none = 0;
    if (!atomic_compare_exchange_strong(&stop_state, &none, 1)) { /* another thread's is first */
        on_signal(sig);
        return;
    }
    clock_gettime(CLOCK_MONOTONIC, &first_stop); /* async-signal-safe (POSIX) */
    atomic_store(&stop_state, 2);
    occam_fit_request_stop(sig);
    if (training_ended && !not_root) { /* no step will see it soon: say at once that it was
                                           heard (rank 0 alone speaks) */
        static const char note[] = "occam: stop requested after training: the outputs are "
                                   "written first (--save's model comes before the description "
                                   "length; a second signal, a second or more later, stops at "
                                   "once, without the outputs not yet written)\n";
        ssize_t w = write(2, note, sizeof note - 1);
        (void)w;
    }
}

void cli_training_ended(void) { training_ended = 1; }

void cli_outputs_final(void)
{
    cli_stdout_flush();
    fflush(stderr);
    outputs_final = 1;
}

/* The handler only records the request, and reads and writes it interrupts restart: a write
 * to a stalled pipe (`occam train | less`) delays the stop, and a second signal ends the run.
 * While the inputs load (from here to the end of cli_session_open's load) it ends the run at
 * once. These take the signals over even when they were ignored (`occam train ... &` from a
 * script ignores SIGINT): a stop asked for by name is honoured. */
void cli_catch_stop_signals(void)
{
    occam_outfile_set_stop(occam_fit_stop_requested); /* a FIFO output waits no longer */
    many_ranks = occam_comm_world()->size > 1;
    not_root = !occam_comm_is_root(occam_comm_world());
    loading = 1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    /* mpirun forwards SIGUSR1 to every rank (SIGINT and SIGTERM it turns into an abort that
     * SIGKILLs the ranks a second later), as batch systems send it before a time limit */
    sigaction(SIGUSR1, &sa, NULL);
    /* A closed terminal or dropped ssh session (SIGHUP) and a soft CPU-time limit (SIGXCPU,
     * sent so a process may save) ended the run with nothing saved: they stop it as SIGTERM
     * does. A SIGHUP ignored from the start (nohup) stays ignored. */
    struct sigaction old;
    if (sigaction(SIGHUP, NULL, &old) == 0 && old.sa_handler != SIG_IGN)
        sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGXCPU, &sa, NULL);
}

static void loading_ended(void) { loading = 0; }

void cli_note_other_grid(const char *checkpoint, const cli_session *s)
{
    occam_task task;
    occam_occ_data was;
    occam_error ignored = {0};
    if (!occam_comm_is_root(occam_comm_world()) || !occam_occ_is(checkpoint) ||
        occam_occ_read_data(checkpoint, &task, &was, &ignored) != OCCAM_OK || !was.grid_known)
        return;
    int now = occam_dl_grid_w(&s->model, &s->train);
    if (was.grid_w == now) return;
    char file[64] = "without an image grid", data[64] = "this data has none";
    if (was.grid_w) snprintf(file, sizeof file, "on an image grid %d pixels wide", was.grid_w);
    if (now) snprintf(data, sizeof data, "this data's is %d pixels wide", now);
    fprintf(stderr, "occam: note: %s was coded %s; %s, so the description lengths computed "
            "here may differ from the file's code\n", cli_shown(checkpoint), file, data);
}

int cli_check_config(const char *checkpoint, const occam_config *cfg, occam_error *err)
{
    bool unchecked;
    int rc = occam_checkpoint_check_config(checkpoint, cfg, &unchecked, err);
    if (rc == OCCAM_OK && unchecked) /* used, and said so once */
        fprintf(stderr, "occam: note: %s is a version 3 .occ file, which does not record the "
                "data.normalize it was trained under; it is used with this config's (%s); "
                "compress the model again to have it checked\n", cli_shown(checkpoint),
                occam_norm_name(cfg->data.normalize));
    return rc;
}

char *cli_metric(char *buf, size_t cap, double v)
{
    snprintf(buf, cap, fabs(v) >= 1e6 ? "%.4g" : "%.4f", v);
    return buf;
}

void cli_print_eval(const char *name, const occam_eval *ev, occam_task task)
{
    char m[24];
    if (!ev->n) return;
    if (task == OCCAM_TASK_CLASSIFY)
        printf("%-5s  loss %.4f  accuracy %.4f  (%zu samples)\n", name, ev->loss, ev->accuracy,
               ev->n);
    else
        printf("%-5s  mse %.6g  relative_error %s  (%zu samples)\n", name, ev->mse,
               cli_metric(m, sizeof m, ev->relative_error), ev->n);
    /* relative error is mse over the targets' variance: none to divide by (a constant target,
     * one row) printed 'nan' without a word */
    if (task != OCCAM_TASK_CLASSIFY && isnan(ev->relative_error) && !isnan(ev->mse))
        fprintf(stderr, "occam: note: the %s targets do not vary (%zu row%s): relative_error "
                "is undefined; mse is the measure\n", name, ev->n, ev->n == 1 ? "" : "s");
}

int cli_check_eval(const char *cmd, const char *set, const occam_eval *ev, occam_task task,
                   occam_error *err)
{
    double v = task == OCCAM_TASK_CLASSIFY ? ev->loss : ev->mse;
    if (!ev->n || !isnan(v)) return OCCAM_OK;
    return occam_error_set(err, OCCAM_ERR_INPUT, "%s: the model's outputs are not numbers on the "
                           "%s set (%s NaN): its values or the model's weights overflow float32 "
                           "in the layers", cmd, set,
                           task == OCCAM_TASK_CLASSIFY ? "loss" : "mse");
}
