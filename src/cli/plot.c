/* Figures drawn by gnuplot from reports, checkpoints and scaling CSVs (see occam/plot.h).
 *
 * Each figure goes through the same three stages. First the input is read into plain arrays and
 * checked, so every complaint about the input comes before any file is written. Then the numbers
 * are written to NAME.dat, and last a gnuplot script that plots NAME.dat into NAME.png is piped
 * to gnuplot. The script is built in memory (open_memstream) and sent in one write, so a gnuplot
 * that is missing or fails is seen at pclose as an exit status, never half-way through a script.
 *
 * Scripts use single-quoted gnuplot strings, in which only '' needs escaping. That makes any
 * folder name safe to embed, and the terminal is `noenhanced`, so underscores in titles and file
 * names print as themselves. */
#include "plot.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "occam/fsutil.h"
#include "occam/json.h"
#include "occam/prior.h"
#include "occam/safetensors.h"

#define GP_TERMINAL "set terminal pngcairo size 900,600 font 'Sans,11' noenhanced\n"
#define NO_INDEX SIZE_MAX
#define PLOT_MAX_LAYERS 64 /* layers with a prior a report may list */

/* ---- small helpers ---------------------------------------------------------------------- */

static int input_err(occam_error *err, const char *file, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int input_err(occam_error *err, const char *file, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return occam_error_set(err, OCCAM_ERR_INPUT, "%s: %s", file, msg);
}

static int oom(occam_error *err)
{
    return occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory");
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* Reads a whole file (any size, pipes included) and NUL-terminates it. */
static int read_text(const char *path, char **text, size_t *len, occam_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) return input_err(err, path, "cannot read: %s", strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            fclose(f);
            return oom(err);
        }
        n += fread(buf + n, 1, cap - n - 1, f);
        if (n < cap - 1) break;
        cap *= 2;
        char *nb = realloc(buf, cap);
        if (!nb) free(buf);
        buf = nb;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return input_err(err, path, "read failed");
    }
    buf[n] = 0;
    *text = buf;
    *len = n;
    return OCCAM_OK;
}

/* ---- output: folder, .dat files, gnuplot ------------------------------------------------ */

typedef struct plot_ctx {
    const char *dir;
    const char *gnuplot;
    FILE *log;
} plot_ctx;

bool occam_plot_have_gnuplot(const char *cmd)
{
    if (!cmd) cmd = "gnuplot";
    if (strchr(cmd, '/')) return access(cmd, X_OK) == 0;
    const char *path = getenv("PATH");
    if (!path || !*cmd) return false;
    char full[PATH_MAX];
    for (const char *p = path;;) {
        const char *colon = strchr(p, ':');
        size_t len = colon ? (size_t)(colon - p) : strlen(p);
        /* An empty PATH entry means the current folder. */
        int w = len ? snprintf(full, sizeof full, "%.*s/%s", (int)len, p, cmd)
                    : snprintf(full, sizeof full, "./%s", cmd);
        if (w > 0 && (size_t)w < sizeof full && access(full, X_OK) == 0) return true;
        if (!colon) return false;
        p = colon + 1;
    }
}

/* Checks the gnuplot command and prepares the output folder: the steps shared by every entry
 * point once its input has been read. */
static int ctx_open(plot_ctx *c, const occam_plot_params *p, occam_error *err)
{
    OCCAM_ASSERT(p->out_dir);
    c->dir = p->out_dir;
    c->gnuplot = p->gnuplot ? p->gnuplot : "gnuplot";
    c->log = p->log;
    if (!occam_plot_have_gnuplot(c->gnuplot))
        return occam_error_set(err, OCCAM_ERR_RUNTIME,
                               "cannot draw plots: '%s' is not an executable on PATH (install "
                               "Debian's gnuplot-nox, e.g. with 'make deps')", c->gnuplot);
    return occam_make_dir(c->dir, "--out", err);
}

static int out_path(const plot_ctx *c, const char *name, const char *ext, char *path,
                    occam_error *err)
{
    int w = snprintf(path, PATH_MAX, "%s/%s.%s", c->dir, name, ext);
    if (w < 0 || w >= PATH_MAX)
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: output path too long", c->dir);
    return OCCAM_OK;
}

static void logf_wrote(const plot_ctx *c, const char *path)
{
    if (c->log) fprintf(c->log, "wrote %s\n", path);
}

typedef struct dat_file {
    FILE *f;
    char path[PATH_MAX];
} dat_file;

static int dat_open(dat_file *d, const plot_ctx *c, const char *name, occam_error *err)
{
    int rc = out_path(c, name, "dat", d->path, err);
    if (rc) return rc;
    d->f = fopen(d->path, "w");
    if (!d->f)
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: cannot write: %s", d->path,
                               strerror(errno));
    return OCCAM_OK;
}

static int dat_close(dat_file *d, const plot_ctx *c, occam_error *err)
{
    int bad = ferror(d->f);
    if (fclose(d->f) != 0) bad = 1;
    d->f = NULL;
    if (bad)
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: write failed: %s", d->path,
                               strerror(errno));
    logf_wrote(c, d->path);
    return OCCAM_OK;
}

/* One value, space-separated; gnuplot reads "NaN" as a missing point. */
static void dat_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, " %.9g", v);
    else
        fputs(" NaN", f);
}

/* A script being written: terminal and output are set by gp_open. */
typedef struct gp_script {
    FILE *f;
    char *buf;
    size_t len;
    char png[PATH_MAX];
} gp_script;

/* s as a single-quoted gnuplot string. */
static void gp_str(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'') fputc('\'', f);
        fputc(*s, f);
    }
    fputc('\'', f);
}

static int gp_open(gp_script *g, const plot_ctx *c, const char *name, occam_error *err)
{
    int rc = out_path(c, name, "png", g->png, err);
    if (rc) return rc;
    g->buf = NULL;
    g->len = 0;
    g->f = open_memstream(&g->buf, &g->len);
    if (!g->f) return oom(err);
    fputs(GP_TERMINAL, g->f);
    fputs("set output ", g->f);
    gp_str(g->f, g->png);
    fputs("\nset grid lc rgb '#d8d8d8'\nset key box opaque samplen 2\n", g->f);
    return OCCAM_OK;
}

/* Sends the script to gnuplot and waits for it. The PNG must exist afterwards. */
static int gp_run(gp_script *g, const plot_ctx *c, occam_error *err)
{
    fputs("unset output\n", g->f);
    bool built = !ferror(g->f);
    fclose(g->f);
    g->f = NULL;
    if (!built) {
        free(g->buf);
        return oom(err);
    }
    /* Writing to a gnuplot that has already died must be an error status, not a signal. */
    struct sigaction ign = {.sa_handler = SIG_IGN}, old;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, &old);
    fflush(NULL); /* the child inherits our unflushed stdio buffers otherwise */
    FILE *p = popen(c->gnuplot, "w");
    int rc = OCCAM_OK;
    if (!p) {
        rc = occam_error_set(err, OCCAM_ERR_RUNTIME, "cannot start '%s': %s", c->gnuplot,
                             strerror(errno));
    } else {
        bool sent = fwrite(g->buf, 1, g->len, p) == g->len && fflush(p) == 0;
        int st = pclose(p);
        if (st == -1)
            rc = occam_error_set(err, OCCAM_ERR_RUNTIME, "'%s': %s", c->gnuplot, strerror(errno));
        else if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
            rc = occam_error_set(err, OCCAM_ERR_RUNTIME, "cannot run '%s' (install gnuplot-nox)",
                                 c->gnuplot);
        else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            rc = occam_error_set(err, OCCAM_ERR_RUNTIME,
                                 "gnuplot ('%s') failed drawing %s (%s %d; its messages are above)",
                                 c->gnuplot, g->png, WIFEXITED(st) ? "exit status" : "signal",
                                 WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
        else if (!sent)
            rc = occam_error_set(err, OCCAM_ERR_RUNTIME, "could not send the script to '%s'",
                                 c->gnuplot);
    }
    sigaction(SIGPIPE, &old, NULL);
    free(g->buf);
    g->buf = NULL;
    struct stat st;
    if (rc == OCCAM_OK && (stat(g->png, &st) != 0 || st.st_size == 0))
        rc = occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: gnuplot exited without writing it",
                             g->png);
    if (rc == OCCAM_OK) logf_wrote(c, g->png);
    return rc;
}

/* The range of the positive values a plot will show, to choose a log axis when they span
 * decades. A zero or negative value rules a log axis out: it would be dropped. */
typedef struct span {
    double lo, hi;
    bool nonpos;
} span;

static void span_add(span *s, double x)
{
    if (!isfinite(x)) return;
    if (x <= 0) {
        s->nonpos = true;
    } else {
        if (x < s->lo) s->lo = x;
        if (x > s->hi) s->hi = x;
    }
}

static bool span_wants_log(const span *s, double ratio)
{
    return !s->nonpos && s->hi > ratio * s->lo;
}

/* ---- the report ------------------------------------------------------------------------- */

enum { H_EPOCH, H_TRAIN_LOSS, H_TEST_LOSS, H_TRAIN_METRIC, H_TEST_METRIC, H_COLS };
enum { E_STEP, E_EPOCH, E_SPARSITY, E_TEST_METRIC, E_MODEL_BITS, E_DATA_BITS, E_TOTAL_BITS,
       E_COLS };

typedef struct histogram {
    size_t n;       /* bins */
    double *edges;  /* n + 1, increasing */
    double *counts; /* n */
} histogram;

typedef struct prior_layer {
    int in, out;
    double k; /* active weights: the prior's share of a pooled histogram (NaN: unknown) */
    occam_prior prior;
} prior_layer;

typedef struct report {
    const char *path;
    bool regress;
    size_t nh;
    double (*h)[H_COLS]; /* history rows; NaN = absent */
    size_t ne;
    double (*ev)[E_COLS]; /* prune events */
    bool has_bits;
    double dense_bits; /* prune.dense_total_bits, NaN when absent */
    int best_event;    /* prune.best_event: 0 = dense, i = events[i-1]; -1 when absent */
    int nl;
    prior_layer *layers; /* mdl.layers with a prior */
    int nhist;           /* 0, 1 (pooled) or nl (one per layer) */
    bool hist_per_layer;
    histogram *hist;
} report;

static void report_free(report *r)
{
    free(r->h);
    free(r->ev);
    free(r->layers);
    for (int i = 0; i < r->nhist; i++) {
        free(r->hist[i].edges);
        free(r->hist[i].counts);
    }
    free(r->hist);
    memset(r, 0, sizeof *r);
}

static void where_fmt(char *buf, size_t cap, const char *ctx, size_t i, const char *key)
{
    if (i == NO_INDEX)
        snprintf(buf, cap, "%s.%s", ctx, key);
    else
        snprintf(buf, cap, "%s[%zu].%s", ctx, i, key);
}

/* Member key of obj as a number. Absent or null is NaN, or an error when required. */
static int get_num(const report *r, const occam_json_value *obj, const char *ctx, size_t i,
                   const char *key, bool required, double *out, occam_error *err)
{
    const occam_json_value *v = occam_json_get(obj, key);
    char where[160];
    if (!v || v->type == OCCAM_JSON_NULL) {
        *out = NAN;
        if (!required) return OCCAM_OK;
        where_fmt(where, sizeof where, ctx, i, key);
        return input_err(err, r->path, "%s is missing", where);
    }
    if (v->type != OCCAM_JSON_NUMBER) {
        where_fmt(where, sizeof where, ctx, i, key);
        return input_err(err, r->path, "%s: expected a number", where);
    }
    *out = v->number;
    return OCCAM_OK;
}

/* An array of finite numbers, copied into a fresh double array (caller frees). */
static int get_num_array(const report *r, const occam_json_value *v, const char *where,
                         double **out, size_t *n, occam_error *err)
{
    if (!v || v->type != OCCAM_JSON_ARRAY)
        return input_err(err, r->path, "%s: expected an array of numbers", where);
    double *a = malloc((v->count ? v->count : 1) * sizeof *a);
    if (!a) return oom(err);
    for (size_t i = 0; i < v->count; i++) {
        if (v->items[i].type != OCCAM_JSON_NUMBER || !isfinite(v->items[i].number)) {
            free(a);
            return input_err(err, r->path, "%s[%zu]: expected a finite number", where, i);
        }
        a[i] = v->items[i].number;
    }
    *out = a;
    *n = v->count;
    return OCCAM_OK;
}

/* The array at key, or NULL when absent or null; any other type is an error. */
static int get_array(const report *r, const occam_json_value *obj, const char *key,
                     const char *where, const occam_json_value **out, occam_error *err)
{
    const occam_json_value *v = occam_json_get(obj, key);
    *out = NULL;
    if (!v || v->type == OCCAM_JSON_NULL) return OCCAM_OK;
    if (v->type != OCCAM_JSON_ARRAY) return input_err(err, r->path, "%s: expected an array", where);
    *out = v;
    return OCCAM_OK;
}

static int check_object(const report *r, const occam_json_value *v, const char *ctx, size_t i,
                        occam_error *err)
{
    if (v->type == OCCAM_JSON_OBJECT) return OCCAM_OK;
    if (i == NO_INDEX) return input_err(err, r->path, "%s: expected an object", ctx);
    return input_err(err, r->path, "%s[%zu]: expected an object", ctx, i);
}

static int parse_history(report *r, const occam_json_value *root, occam_error *err)
{
    const occam_json_value *a;
    int rc = get_array(r, root, "history", "history", &a, err);
    if (rc || !a || a->count == 0) return rc;
    r->h = malloc(a->count * sizeof *r->h);
    if (!r->h) return oom(err);
    const char *metric = r->regress ? "test_relative_error" : "test_accuracy";
    for (size_t i = 0; i < a->count; i++) {
        const occam_json_value *e = &a->items[i];
        double *row = r->h[i];
        if ((rc = check_object(r, e, "history", i, err)) ||
            (rc = get_num(r, e, "history", i, "epoch", true, &row[H_EPOCH], err)) ||
            (rc = get_num(r, e, "history", i, "train_loss", false, &row[H_TRAIN_LOSS], err)) ||
            (rc = get_num(r, e, "history", i, "test_loss", false, &row[H_TEST_LOSS], err)) ||
            (rc = get_num(r, e, "history", i, "train_accuracy", false, &row[H_TRAIN_METRIC], err)) ||
            (rc = get_num(r, e, "history", i, metric, false, &row[H_TEST_METRIC], err)))
            return rc;
        r->nh++;
    }
    return OCCAM_OK;
}

static int parse_prune(report *r, const occam_json_value *root, occam_error *err)
{
    r->dense_bits = NAN;
    r->best_event = -1;
    const occam_json_value *p = occam_json_get(root, "prune");
    if (!p || p->type == OCCAM_JSON_NULL) return OCCAM_OK;
    int rc = check_object(r, p, "prune", NO_INDEX, err);
    double best = NAN;
    if (rc || (rc = get_num(r, p, "prune", NO_INDEX, "dense_total_bits", false, &r->dense_bits,
                            err)) ||
        (rc = get_num(r, p, "prune", NO_INDEX, "best_event", false, &best, err)))
        return rc;
    const occam_json_value *a;
    if ((rc = get_array(r, p, "events", "prune.events", &a, err)) || !a || a->count == 0)
        return rc;
    if (isfinite(best) && best >= 0 && best <= (double)a->count) r->best_event = (int)best;
    r->ev = malloc(a->count * sizeof *r->ev);
    if (!r->ev) return oom(err);
    static const char *keys[E_COLS] = {"step", "epoch", "sparsity", NULL, "model_bits",
                                       "data_bits", "total_bits"};
    const char *ctx = "prune.events";
    for (size_t i = 0; i < a->count; i++) {
        const occam_json_value *e = &a->items[i];
        if ((rc = check_object(r, e, ctx, i, err))) return rc;
        for (int k = 0; k < E_COLS; k++) {
            const char *key = k == E_TEST_METRIC
                                  ? (r->regress ? "test_relative_error" : "test_accuracy")
                                  : keys[k];
            if ((rc = get_num(r, e, ctx, i, key, k == E_SPARSITY, &r->ev[i][k], err))) return rc;
        }
        if (isfinite(r->ev[i][E_TOTAL_BITS])) r->has_bits = true;
        r->ne++;
    }
    return OCCAM_OK;
}

static int parse_prior(report *r, const occam_json_value *pv, size_t l, occam_prior *p,
                       occam_error *err)
{
    char where[96];
    snprintf(where, sizeof where, "mdl.layers[%zu].prior", l);
    int rc = check_object(r, pv, where, NO_INDEX, err);
    double kd = NAN;
    if (rc || (rc = get_num(r, pv, where, NO_INDEX, "components", true, &kd, err))) return rc;
    if (!(kd >= 1 && kd <= OCCAM_PRIOR_MAX) || kd != floor(kd))
        return input_err(err, r->path, "%s.components: expected 1 to %d", where, OCCAM_PRIOR_MAX);
    memset(p, 0, sizeof *p);
    p->k = (int)kd;
    static const char *names[3] = {"pi", "mu", "sigma"};
    double *dst[3] = {p->pi, p->mu, p->sigma};
    for (int a = 0; a < 3; a++) {
        char w[128];
        snprintf(w, sizeof w, "%s.%s", where, names[a]);
        double *v;
        size_t n;
        if ((rc = get_num_array(r, occam_json_get(pv, names[a]), w, &v, &n, err))) return rc;
        if (n != (size_t)p->k) {
            free(v);
            return input_err(err, r->path, "%s has %zu entries, components is %d", w, n, p->k);
        }
        memcpy(dst[a], v, n * sizeof *v);
        free(v);
    }
    for (int j = 0; j < p->k; j++)
        if (!(p->sigma[j] > 0) || !(p->pi[j] >= 0))
            return input_err(err, r->path, "%s: component %d needs sigma > 0 and pi >= 0", where,
                             j);
    return OCCAM_OK;
}

static int parse_histogram(report *r, const occam_json_value *v, const char *where, histogram *h,
                           occam_error *err)
{
    int rc = check_object(r, v, where, NO_INDEX, err);
    if (rc) return rc;
    char w[128];
    size_t ne, nc;
    snprintf(w, sizeof w, "%s.edges", where);
    if ((rc = get_num_array(r, occam_json_get(v, "edges"), w, &h->edges, &ne, err))) return rc;
    snprintf(w, sizeof w, "%s.counts", where);
    if ((rc = get_num_array(r, occam_json_get(v, "counts"), w, &h->counts, &nc, err))) return rc;
    h->n = nc;
    if (nc == 0 || ne != nc + 1)
        return input_err(err, r->path, "%s: needs n >= 1 counts and n + 1 edges (has %zu and %zu)",
                         where, nc, ne);
    for (size_t i = 0; i < nc; i++) {
        if (!(h->edges[i + 1] > h->edges[i]))
            return input_err(err, r->path, "%s.edges[%zu]: edges must increase", where, i + 1);
        if (h->counts[i] < 0)
            return input_err(err, r->path, "%s.counts[%zu]: negative count", where, i);
    }
    return OCCAM_OK;
}

static int parse_weights(report *r, const occam_json_value *root, occam_error *err)
{
    const occam_json_value *mdl = occam_json_get(root, "mdl"), *layers = NULL;
    int rc;
    if (mdl && mdl->type != OCCAM_JSON_NULL) {
        if ((rc = check_object(r, mdl, "mdl", NO_INDEX, err)) ||
            (rc = get_array(r, mdl, "layers", "mdl.layers", &layers, err)))
            return rc;
    }
    if (layers && layers->count > PLOT_MAX_LAYERS)
        return input_err(err, r->path, "mdl.layers: %zu layers, at most %d are supported",
                         layers->count, PLOT_MAX_LAYERS);
    if (layers && layers->count) {
        r->layers = calloc(layers->count, sizeof *r->layers);
        if (!r->layers) return oom(err);
        for (size_t l = 0; l < layers->count; l++) {
            const occam_json_value *e = &layers->items[l];
            if ((rc = check_object(r, e, "mdl.layers", l, err))) return rc;
            const occam_json_value *pv = occam_json_get(e, "prior");
            if (!pv || pv->type == OCCAM_JSON_NULL) { /* a count code has no priors */
                r->nl = 0;
                break;
            }
            prior_layer *y = &r->layers[r->nl];
            double in = NAN, out = NAN;
            if ((rc = get_num(r, e, "mdl.layers", l, "in", false, &in, err)) ||
                (rc = get_num(r, e, "mdl.layers", l, "out", false, &out, err)) ||
                (rc = get_num(r, e, "mdl.layers", l, "k", false, &y->k, err)) ||
                (rc = parse_prior(r, pv, l, &y->prior, err)))
                return rc;
            y->in = isfinite(in) ? (int)in : 0;
            y->out = isfinite(out) ? (int)out : 0;
            r->nl++;
        }
    }
    const occam_json_value *wh = occam_json_get(root, "weight_histogram");
    if (!wh || wh->type == OCCAM_JSON_NULL) return OCCAM_OK;
    size_t n = wh->type == OCCAM_JSON_ARRAY ? wh->count : 1;
    r->hist_per_layer = wh->type == OCCAM_JSON_ARRAY;
    if (r->hist_per_layer && n != (size_t)r->nl)
        return input_err(err, r->path,
                         "weight_histogram has %zu per-layer entries, but %d layers have a prior "
                         "in mdl.layers", n, r->nl);
    if (n == 0) return OCCAM_OK;
    r->hist = calloc(n, sizeof *r->hist);
    if (!r->hist) return oom(err);
    for (size_t i = 0; i < n; i++) {
        char where[64];
        if (r->hist_per_layer)
            snprintf(where, sizeof where, "weight_histogram[%zu]", i);
        else
            snprintf(where, sizeof where, "weight_histogram");
        r->nhist++;
        if ((rc = parse_histogram(r, r->hist_per_layer ? &wh->items[i] : wh, where, &r->hist[i],
                                  err)))
            return rc;
    }
    return OCCAM_OK;
}

/* Regression reports say so in config.data.task; without a config, by their member names. */
static bool report_is_regress(const occam_json_value *root)
{
    const occam_json_value *t =
        occam_json_get(occam_json_get(occam_json_get(root, "config"), "data"), "task");
    if (t && t->type == OCCAM_JSON_STRING) return strcmp(t->str, "regress") == 0;
    const occam_json_value *h = occam_json_get(root, "history");
    if (h && h->type == OCCAM_JSON_ARRAY && h->count)
        return occam_json_get(&h->items[0], "test_relative_error") != NULL;
    return false;
}

static int report_load(report *r, const char *path, occam_error *err)
{
    memset(r, 0, sizeof *r);
    r->path = path;
    char *text;
    size_t len;
    int rc = read_text(path, &text, &len, err);
    if (rc) return rc;
    occam_json_value root;
    rc = occam_json_parse(&root, text, len, err);
    free(text);
    if (rc) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        return occam_error_set(err, rc, "%s: %s", path, msg);
    }
    if (root.type != OCCAM_JSON_OBJECT)
        rc = input_err(err, path, "expected a JSON object (a report from 'occam train --report')");
    if (rc == OCCAM_OK) {
        r->regress = report_is_regress(&root);
        if ((rc = parse_history(r, &root, err)) == OCCAM_OK &&
            (rc = parse_prune(r, &root, err)) == OCCAM_OK)
            rc = parse_weights(r, &root, err);
    }
    occam_json_free(&root);
    if (rc) report_free(r);
    return rc;
}

/* ---- report figures --------------------------------------------------------------------- */

static bool any_finite(const double *v, size_t n, size_t stride)
{
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i * stride])) return true;
    return false;
}

static int plot_learning(const plot_ctx *c, const report *r, occam_error *err)
{
    dat_file d;
    int rc = dat_open(&d, c, "learning", err);
    if (rc) return rc;
    fprintf(d.f, "# %s: history\n# epoch train_loss test_loss train_accuracy %s\n", r->path,
            r->regress ? "test_relative_error" : "test_accuracy");
    for (size_t i = 0; i < r->nh; i++) {
        for (int k = 0; k < H_COLS; k++) dat_num(d.f, r->h[i][k]);
        fputc('\n', d.f);
    }
    if ((rc = dat_close(&d, c, err))) return rc;

    bool have[H_COLS];
    for (int k = 0; k < H_COLS; k++) have[k] = any_finite(&r->h[0][k], r->nh, H_COLS);
    bool loss_panel = have[H_TRAIN_LOSS] || have[H_TEST_LOSS];
    bool metric_panel = have[H_TRAIN_METRIC] || have[H_TEST_METRIC];
    const char *style = r->nh > 60 ? "lines lw 2" : "linespoints pt 7 ps 0.6 lw 2";

    gp_script g;
    if ((rc = gp_open(&g, c, "learning", err))) return rc;
    FILE *f = g.f;
    fprintf(f, "set multiplot layout %d,1 title ", loss_panel + metric_panel);
    gp_str(f, r->ne ? "Learning curves (dashed: prune steps)" : "Learning curves");
    fputs(" font ',13'\n", f);
    /* Fixed margins keep the two panels' epoch axes aligned; the key sits right of the data. */
    fputs("set lmargin at screen 0.10\nset rmargin at screen 0.75\n"
          "set key at screen 0.77, graph 1 left top vertical Left reverse\n"
          "set xlabel 'epoch'\nset autoscale xfix\nset offsets 0.5, 0.5, graph 0.06, graph 0.06\n",
          f);
    if (r->nh < 20) fputs("set xtics 1\n", f);
    for (size_t i = 0; i < r->ne; i++)
        if (isfinite(r->ev[i][E_EPOCH]))
            fprintf(f, "set arrow from %.9g, graph 0 to %.9g, graph 1 nohead dt 2 lc rgb "
                       "'gray40' back\n", r->ev[i][E_EPOCH], r->ev[i][E_EPOCH]);
    const char *prune_key = r->ne ? ", NaN with lines dt 2 lc rgb 'gray40' title 'prune step'"
                                  : "";
    if (loss_panel) {
        /* Losses that fall by decades (separable data) read better on a log axis. */
        span sp = {INFINITY, 0, false};
        for (size_t i = 0; i < r->nh; i++) {
            span_add(&sp, r->h[i][H_TRAIN_LOSS]);
            span_add(&sp, r->h[i][H_TEST_LOSS]);
        }
        bool logy = span_wants_log(&sp, 100.0);
        if (logy) fputs("set logscale y\nset format y '%g'\n", f);
        fprintf(f, "set ylabel '%s'\nset title 'loss'\nplot ",
                r->regress ? (logy ? "loss (log scale)" : "loss")
                           : (logy ? "loss (nats, log scale)" : "loss (nats)"));
        bool first = true;
        if (have[H_TRAIN_LOSS]) {
            gp_str(f, d.path);
            fprintf(f, " using 1:2 with %s lc rgb '#1f77b4' title 'train loss'", style);
            first = false;
        }
        if (have[H_TEST_LOSS]) {
            fputs(first ? "" : ", ", f);
            gp_str(f, d.path);
            fprintf(f, " using 1:3 with %s lc rgb '#d62728' title 'test loss'", style);
        }
        fprintf(f, "%s\nunset logscale y\nset format y '%% h'\n", prune_key);
    }
    if (metric_panel) {
        fprintf(f, "set ylabel '%s'\nset title '%s'\nplot ",
                r->regress ? "relative error (fraction)" : "accuracy (fraction correct)",
                r->regress ? "relative error" : "accuracy");
        bool first = true;
        if (have[H_TRAIN_METRIC]) {
            gp_str(f, d.path);
            fprintf(f, " using 1:4 with %s lc rgb '#1f77b4' title 'train accuracy'", style);
            first = false;
        }
        if (have[H_TEST_METRIC]) {
            fputs(first ? "" : ", ", f);
            gp_str(f, d.path);
            fprintf(f, " using 1:5 with %s lc rgb '#d62728' title '%s'", style,
                    r->regress ? "test relative error" : "test accuracy");
        }
        fprintf(f, "%s\n", prune_key);
    }
    fputs("unset multiplot\n", f);
    return gp_run(&g, c, err);
}

static int plot_prune_accuracy(const plot_ctx *c, const report *r, occam_error *err)
{
    /* The dense reference: the test metric at the epoch of the first prune, if it is in the
     * history (the last epoch before any weight was removed). */
    double dense = NAN, dense_epoch = r->ev[0][E_EPOCH];
    for (size_t i = 0; i < r->nh; i++)
        if (r->h[i][H_EPOCH] == dense_epoch) dense = r->h[i][H_TEST_METRIC];
    const char *metric = r->regress ? "test relative error" : "test accuracy";

    dat_file d;
    int rc = dat_open(&d, c, "prune_accuracy", err);
    if (rc) return rc;
    fprintf(d.f, "# %s: prune.events\n# dense model (epoch %.9g) %s:", r->path, dense_epoch,
            metric);
    dat_num(d.f, dense);
    fprintf(d.f, "\n# step epoch sparsity %s\n",
            r->regress ? "test_relative_error" : "test_accuracy");
    for (size_t i = 0; i < r->ne; i++) {
        dat_num(d.f, r->ev[i][E_STEP]);
        dat_num(d.f, r->ev[i][E_EPOCH]);
        dat_num(d.f, r->ev[i][E_SPARSITY]);
        dat_num(d.f, r->ev[i][E_TEST_METRIC]);
        fputc('\n', d.f);
    }
    if ((rc = dat_close(&d, c, err))) return rc;

    gp_script g;
    if ((rc = gp_open(&g, c, "prune_accuracy", err))) return rc;
    FILE *f = g.f;
    fprintf(f, "set title '%s after each prune step and its fine-tuning%s' font ',13'\n"
               "set xlabel 'sparsity (fraction of weights pruned)'\n"
               "set ylabel '%s'\nset xrange [0:1]\nset xtics 0.1\n"
               "set autoscale yfix\nset offsets 0, 0, graph 0.1, graph 0.1\n"
               "set key outside right top vertical Left reverse\n"
               "set style textbox opaque noborder margins 1, 1\n",
            r->regress ? "Test relative error" : "Test accuracy",
            r->ne <= 20 ? " (labels: step)" : "",
            r->regress ? metric : "test accuracy (fraction correct)");
    /* The reference line first, so the step labels' boxes are drawn over it. */
    fputs("plot ", f);
    if (isfinite(dense))
        fprintf(f, "%.9g with lines dt 2 lw 2 lc rgb 'gray40' title 'dense model (epoch %.9g)', ",
                dense, dense_epoch);
    gp_str(f, d.path);
    fprintf(f, " using 3:4 with linespoints pt 7 ps 1 lw 2 lc rgb '#d62728' title '%s'", metric);
    if (r->ne <= 20) {
        fputs(", ", f);
        gp_str(f, d.path);
        fputs(" using 3:4:(sprintf('%d', $1)) with labels boxed offset 0,1.2 tc rgb 'gray20' "
              "notitle", f);
    }
    fputc('\n', f);
    return gp_run(&g, c, err);
}

static int plot_mdl_bits(const plot_ctx *c, const report *r, occam_error *err)
{
    dat_file d;
    int rc = dat_open(&d, c, "mdl_bits", err);
    if (rc) return rc;
    fprintf(d.f, "# %s: description length per prune step (sparsity 0: the dense model)\n"
                 "# sparsity model_bits data_bits total_bits step\n", r->path);
    span sp = {INFINITY, 0, false};
    span_add(&sp, r->dense_bits);
    if (isfinite(r->dense_bits)) {
        fputs(" 0 NaN NaN", d.f);
        dat_num(d.f, r->dense_bits);
        fputs(" 0\n", d.f);
    }
    for (size_t i = 0; i < r->ne; i++) {
        if (!isfinite(r->ev[i][E_TOTAL_BITS])) continue;
        dat_num(d.f, r->ev[i][E_SPARSITY]);
        for (int k = E_MODEL_BITS; k <= E_TOTAL_BITS; k++) {
            dat_num(d.f, r->ev[i][k]);
            span_add(&sp, r->ev[i][k]);
        }
        dat_num(d.f, r->ev[i][E_STEP]);
        fputc('\n', d.f);
    }
    if ((rc = dat_close(&d, c, err))) return rc;

    gp_script g;
    if ((rc = gp_open(&g, c, "mdl_bits", err))) return rc;
    FILE *f = g.f;
    bool logy = span_wants_log(&sp, 20.0);
    if (logy) { /* tics at 1, 2 and 5 per decade: a tight range then still has several */
        fputs("set logscale y\nset ytics (", f);
        bool first = true;
        for (double dec = pow(10, floor(log10(sp.lo))); dec <= 1.5 * sp.hi; dec *= 10)
            for (int m = 0; m < 3; m++) {
                double v = dec * (double[]){1, 2, 5}[m];
                if (v < sp.lo / 1.5 || v > sp.hi * 1.5) continue;
                fprintf(f, "%s%.9g", first ? "" : ", ", v);
                first = false;
            }
        fputs(")\n", f);
    }
    fprintf(f, "set title 'Description length: L = L(model) + L(data | model)' font ',13'\n"
               "set xlabel 'sparsity (fraction of weights pruned)'\n"
               "set ylabel '%s'\nset format y '%%.0s%%c'\nset xrange [0:1]\nset xtics 0.1\n"
               "set offsets 0, 0, graph 0.05, graph 0.05\nset rmargin at screen 0.65\nset autoscale yfix\n"
               "set key at screen 0.67, graph 1 left top vertical Left reverse\n",
            logy ? "bits (log scale)" : "bits");
    /* The kept model (smallest total), when the report names it. */
    double kx = NAN, ky = NAN;
    if (r->best_event == 0) {
        kx = 0;
        ky = r->dense_bits;
    } else if (r->best_event > 0) {
        kx = r->ev[r->best_event - 1][E_SPARSITY];
        ky = r->ev[r->best_event - 1][E_TOTAL_BITS];
    }
    fputs("plot ", f);
    gp_str(f, d.path);
    fputs(" using 1:4 with linespoints pt 7 ps 1 lw 3 lc rgb 'black' "
          "title 'total bits (model + data)', ", f);
    gp_str(f, d.path);
    fputs(" using 1:2 with linespoints pt 5 ps 0.8 lw 2 lc rgb '#1f77b4' title 'model bits', ", f);
    gp_str(f, d.path);
    fputs(" using 1:3 with linespoints pt 9 ps 0.9 lw 2 lc rgb '#2ca02c' title 'data bits'", f);
    if (isfinite(r->dense_bits))
        fprintf(f, ", '+' using (0):(%.9g) every ::0::0 with points pt 4 ps 2 lw 2 lc rgb 'black' "
                   "title 'dense model (total bits)'", r->dense_bits);
    if (isfinite(kx) && isfinite(ky))
        fprintf(f, ", '+' using (%.9g):(%.9g) every ::0::0 with points pt 6 ps 3 lw 2 "
                   "lc rgb '#d62728' title 'kept model (smallest total)'", kx, ky);
    fputc('\n', f);
    return gp_run(&g, c, err);
}

/* The prior a histogram is compared with: layers [first, last)'s priors, each weighted by its
 * active weights (equally when the report lacks k). */
typedef struct prior_mix {
    const prior_layer *layer;
    int n;
    double w[PLOT_MAX_LAYERS];
} prior_mix;

static void prior_mix_init(prior_mix *m, const report *r, int first, int last)
{
    m->layer = r->layers + first;
    m->n = last - first;
    double sum = 0;
    for (int l = 0; l < m->n; l++) {
        double k = m->layer[l].k;
        m->w[l] = isfinite(k) && k > 0 ? k : 1.0;
        sum += m->w[l];
    }
    for (int l = 0; l < m->n; l++) m->w[l] /= sum;
}

static double prior_mix_mass(const prior_mix *m, double lo, double hi)
{
    double e = 0;
    for (int l = 0; l < m->n; l++)
        e += m->w[l] * (occam_prior_cdf(&m->layer[l].prior, hi) -
                        occam_prior_cdf(&m->layer[l].prior, lo));
    return e;
}

static double prior_mix_pdf(const prior_mix *m, double x)
{
    double e = 0;
    for (int l = 0; l < m->n; l++) e += m->w[l] * occam_prior_pdf(&m->layer[l].prior, x);
    return e;
}

#define CURVE_SAMPLES 8 /* per bin, so the drawn prior is smooth even over wide bins */

static int plot_weights(const plot_ctx *c, const report *r, occam_error *err)
{
    dat_file d;
    int rc = dat_open(&d, c, "weights", err);
    if (rc) return rc;
    fprintf(d.f, "# %s: weight histograms and the fitted priors\n"
                 "# per histogram two blocks (gnuplot index 2s and 2s+1): the bins with the\n"
                 "# prior's expected count (its mass in the bin times the histogram total), then\n"
                 "# the prior's density sampled %d times per bin, scaled the same way\n",
            r->path, CURVE_SAMPLES);
    for (int s = 0; s < r->nhist; s++) {
        const histogram *h = &r->hist[s];
        prior_mix mix;
        prior_mix_init(&mix, r, r->hist_per_layer ? s : 0, r->hist_per_layer ? s + 1 : r->nl);
        double total = 0;
        for (size_t i = 0; i < h->n; i++) total += h->counts[i];
        char what[32];
        if (r->hist_per_layer)
            snprintf(what, sizeof what, "layer %d", s);
        else
            snprintf(what, sizeof what, "all layers");
        fprintf(d.f, "%s# %s: bins\n# lo hi centre count prior_expected\n", s ? "\n\n" : "",
                what);
        for (size_t i = 0; i < h->n; i++) {
            double lo = h->edges[i], hi = h->edges[i + 1];
            dat_num(d.f, lo);
            dat_num(d.f, hi);
            dat_num(d.f, 0.5 * (lo + hi));
            dat_num(d.f, h->counts[i]);
            dat_num(d.f, total * prior_mix_mass(&mix, lo, hi));
            fputc('\n', d.f);
        }
        fprintf(d.f, "\n\n# %s: prior curve\n# x prior_density_times_total_times_bin_width\n",
                what);
        for (size_t i = 0; i < h->n; i++) {
            double lo = h->edges[i], wd = h->edges[i + 1] - lo;
            for (int j = 0; j <= CURVE_SAMPLES; j++) {
                if (j == CURVE_SAMPLES && i + 1 < h->n) break; /* next bin's first sample */
                double x = lo + wd * j / CURVE_SAMPLES;
                dat_num(d.f, x);
                dat_num(d.f, total * wd * prior_mix_pdf(&mix, x));
                fputc('\n', d.f);
            }
        }
    }
    if ((rc = dat_close(&d, c, err))) return rc;

    gp_script g;
    if ((rc = gp_open(&g, c, "weights", err))) return rc;
    FILE *f = g.f;
    int n = r->nhist, cols = n <= 2 ? n : (n + 1) / 2, rows = n <= 2 ? 1 : 2;
    fprintf(f, "set multiplot layout %d,%d title 'Weights and the fitted priors of the two-part "
               "code' font ',13'\n", rows, cols);
    fprintf(f, "set xlabel 'weight value'\nset ylabel 'weights per bin'\n"
               "set style fill solid 0.5 noborder\nset key top right Left reverse%s\n"
               "set offsets 0, 0, graph 0.12, 0\n",
            n > 1 ? " font ',9' spacing 0.9 width -4" : "");
    for (int s = 0; s < n; s++) {
        if (r->hist_per_layer) {
            const prior_layer *y = &r->layers[s];
            fprintf(f, "set title 'layer %d: %d → %d, %d-component prior'\n", s, y->in, y->out,
                    y->prior.k);
        } else {
            fprintf(f, "set title 'all %d layers pooled (prior: the layer priors weighted by "
                       "their active weights)'\n", r->nl);
        }
        fputs("plot ", f);
        gp_str(f, d.path);
        fprintf(f, " index %d using 3:4:($2-$1) with boxes lc rgb '#7fa7d0' title 'weights', ",
                2 * s);
        gp_str(f, d.path);
        fprintf(f, " index %d using 1:2 with lines lw 2 lc rgb '#d62728' "
                   "title 'fitted prior (expected count)'\n", 2 * s + 1);
    }
    fputs("unset multiplot\n", f);
    return gp_run(&g, c, err);
}

int occam_plot_report(const char *report_path, occam_plot_params p, occam_error *err)
{
    report r;
    int rc = report_load(&r, report_path, err);
    if (rc) return rc;
    plot_ctx c;
    rc = ctx_open(&c, &p, err);
    if (rc == OCCAM_OK && r.nh) rc = plot_learning(&c, &r, err);
    if (rc == OCCAM_OK && !r.nh)
        fprintf(stderr, "occam: %s has no history; learning.png skipped\n", report_path);
    if (rc == OCCAM_OK && r.ne) rc = plot_prune_accuracy(&c, &r, err);
    if (rc == OCCAM_OK && r.has_bits) rc = plot_mdl_bits(&c, &r, err);
    if (rc == OCCAM_OK && !r.has_bits)
        fprintf(stderr, "occam: %s has no description lengths per prune step (prune.schedule = "
                "mdl, or prune.score_events = true); mdl_bits.png skipped\n", report_path);
    if (rc == OCCAM_OK) {
        if (r.nhist && r.nl)
            rc = plot_weights(&c, &r, err);
        else
            fprintf(stderr, "occam: %s has no %s; weights.png skipped\n", report_path,
                    r.nl ? "weight_histogram" : "mdl.layers[].prior");
    }
    report_free(&r);
    return rc;
}

/* ---- masks from a checkpoint ------------------------------------------------------------ */

typedef struct mask_img {
    int rows, cols; /* of the weight matrix: out x in */
    int br, bc;     /* block size */
    int nr, nc;     /* cells */
    size_t kept;
    double *cell;   /* nr x nc, fraction kept */
} mask_img;

/* Downsamples layer l's mask (or |w| != 0) into blocks of at most OCCAM_PLOT_MASK_CELLS a side. */
static int mask_build(mask_img *m, const occam_st_file *f, int l, occam_error *err)
{
    char name[64];
    snprintf(name, sizeof name, "layers.%d.weight", l);
    const occam_st_tensor_view *w = occam_st_find(f, name);
    if (!w || w->dtype != OCCAM_ST_F32 || w->ndim != 2)
        return input_err(err, f->path, "tensor '%s' is missing or not a 2-D F32 matrix", name);
    snprintf(name, sizeof name, "layers.%d.weight_mask", l);
    const occam_st_tensor_view *mk = occam_st_find(f, name);
    if (mk && (mk->dtype != OCCAM_ST_U8 || mk->ndim != 2 || mk->shape[0] != w->shape[0] ||
               mk->shape[1] != w->shape[1]))
        return input_err(err, f->path, "tensor '%s' should be U8 of shape [%lld,%lld]", name,
                         (long long)w->shape[0], (long long)w->shape[1]);
    if (w->shape[0] < 1 || w->shape[1] < 1 || w->shape[0] > INT_MAX || w->shape[1] > INT_MAX)
        return input_err(err, f->path, "tensor 'layers.%d.weight' has an unusable shape", l);
    memset(m, 0, sizeof *m);
    m->rows = (int)w->shape[0];
    m->cols = (int)w->shape[1];
    m->br = (m->rows + OCCAM_PLOT_MASK_CELLS - 1) / OCCAM_PLOT_MASK_CELLS;
    m->bc = (m->cols + OCCAM_PLOT_MASK_CELLS - 1) / OCCAM_PLOT_MASK_CELLS;
    m->nr = (m->rows + m->br - 1) / m->br;
    m->nc = (m->cols + m->bc - 1) / m->bc;
    m->cell = calloc((size_t)m->nr * m->nc, sizeof *m->cell);
    if (!m->cell) return oom(err);
    const float *wv = w->data;
    const uint8_t *mv = mk ? mk->data : NULL;
    for (int i = 0; i < m->rows; i++)
        for (int j = 0; j < m->cols; j++) {
            size_t at = (size_t)i * m->cols + j;
            bool kept = mv ? mv[at] != 0 : wv[at] != 0.0f;
            m->kept += kept;
            m->cell[(size_t)(i / m->br) * m->nc + j / m->bc] += kept;
        }
    /* Average over the block's real extent: the last row and column of blocks may be short. */
    for (int a = 0; a < m->nr; a++)
        for (int b = 0; b < m->nc; b++) {
            int h = (a + 1) * m->br <= m->rows ? m->br : m->rows - a * m->br;
            int wd = (b + 1) * m->bc <= m->cols ? m->bc : m->cols - b * m->bc;
            m->cell[(size_t)a * m->nc + b] /= (double)h * wd;
        }
    return OCCAM_OK;
}

static int plot_mask(const plot_ctx *c, const char *ckpt, int l, const mask_img *m, bool from_mask,
                     occam_error *err)
{
    char name[32];
    snprintf(name, sizeof name, "mask_%d", l);
    double sparsity = 1.0 - (double)m->kept / ((double)m->rows * m->cols);
    dat_file d;
    int rc = dat_open(&d, c, name, err);
    if (rc) return rc;
    fprintf(d.f, "# %s: layer %d, weight matrix %d x %d (out x in), %s\n"
                 "# %d x %d cells of %d x %d weights; each value is the fraction kept\n",
            ckpt, l, m->rows, m->cols, from_mask ? "weight_mask" : "|w| != 0", m->nr, m->nc,
            m->br, m->bc);
    for (int a = 0; a < m->nr; a++) {
        for (int b = 0; b < m->nc; b++) {
            if (b) fputc(' ', d.f);
            fprintf(d.f, "%.6g", m->cell[(size_t)a * m->nc + b]);
        }
        fputc('\n', d.f);
    }
    if ((rc = dat_close(&d, c, err))) return rc;

    gp_script g;
    if ((rc = gp_open(&g, c, name, err))) return rc;
    FILE *f = g.f;
    fprintf(f, "set title 'Layer %d mask: %d inputs → %d outputs, sparsity %.2f%%%s' "
               "font ',13'\n", l, m->cols, m->rows, 100.0 * sparsity,
            from_mask ? "" : " (from |w| ≠ 0)");
    fprintf(f, "set xlabel 'input unit'\nset ylabel 'output unit'\n"
               "set cblabel 'fraction of weights kept (cell of %d × %d weights)'\n"
               "set cbrange [0:1]\nset palette defined (0 'white', 1 '#08306b')\n"
               "set xrange [0:%d]\nset yrange [%d:0]\nset tics out\nunset grid\n"
               "set key at screen 0.01, screen 0.01 left bottom nobox\n",
            m->br, m->bc, m->cols, m->rows);
    /* A narrow layer gets one tic per unit, at the unit's centre, instead of fractional tics. */
    for (int axis = 0; axis < 2; axis++) {
        int units = axis ? m->rows : m->cols;
        if (units > 12) continue;
        fprintf(f, "set %ctics (", axis ? 'y' : 'x');
        for (int u = 0; u < units; u++) fprintf(f, "%s'%d' %d.5", u ? ", " : "", u, u);
        fputs(")\n", f);
    }
    fputs("plot ", f);
    gp_str(f, d.path);
    fprintf(f, " matrix using (($1 + 0.5) * %d):(($2 + 0.5) * %d):3 with image "
               "title 'dark: weights kept, white: pruned'\n", m->bc, m->br);
    return gp_run(&g, c, err);
}

int occam_plot_masks(const char *checkpoint_path, occam_plot_params p, occam_error *err)
{
    occam_st_file f;
    int rc = occam_st_open(&f, checkpoint_path, err);
    if (rc) return rc;
    int nl = 0;
    for (char name[64];; nl++) {
        snprintf(name, sizeof name, "layers.%d.weight", nl);
        if (!occam_st_find(&f, name)) break;
    }
    mask_img *m = calloc(nl ? nl : 1, sizeof *m);
    if (!m) rc = oom(err);
    if (rc == OCCAM_OK && nl == 0)
        rc = input_err(err, checkpoint_path, "no tensor 'layers.0.weight' (not an occam model?)");
    /* Every layer is read and checked before anything is drawn. */
    for (int l = 0; rc == OCCAM_OK && l < nl; l++) rc = mask_build(&m[l], &f, l, err);
    plot_ctx c;
    if (rc == OCCAM_OK) rc = ctx_open(&c, &p, err);
    for (int l = 0; rc == OCCAM_OK && l < nl; l++) {
        char name[64];
        snprintf(name, sizeof name, "layers.%d.weight_mask", l);
        rc = plot_mask(&c, checkpoint_path, l, &m[l], occam_st_find(&f, name) != NULL, err);
    }
    for (int l = 0; m && l < nl; l++) free(m[l].cell);
    free(m);
    occam_st_close(&f);
    return rc;
}

/* ---- scaling CSV ------------------------------------------------------------------------ */

typedef struct scale_row {
    char study[64], model[64];
    double threads, speedup, sgemm;
} scale_row;

/* Splits line in place at commas into at most max fields; returns the field count. */
static int csv_split(char *line, char **field, int max)
{
    int n = 0;
    for (char *s = line;;) {
        char *comma = strchr(s, ',');
        if (n < max) field[n] = s;
        n++;
        if (!comma) break;
        *comma = 0;
        s = comma + 1;
    }
    return n;
}

static int csv_num(const char *path, int line, const char *col, const char *s, bool allow_empty,
                   double *out, occam_error *err)
{
    if (!*s && allow_empty) {
        *out = NAN;
        return OCCAM_OK;
    }
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno == ERANGE || !isfinite(v))
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s:%d: %s '%s' is not a number", path, line,
                               col, s);
    *out = v;
    return OCCAM_OK;
}

static int scaling_load(const char *path, scale_row **out, size_t *nout, occam_error *err)
{
    char *text;
    size_t len;
    int rc = read_text(path, &text, &len, err);
    if (rc) return rc;
    enum { C_STUDY, C_MODEL, C_THREADS, C_SPEEDUP, C_SGEMM, C_N };
    static const char *want[C_N] = {"study", "model", "threads", "speedup", "sgemm_speedup"};
    int col[C_N], ncols = 0, lineno = 0;
    size_t n = 0, cap = 16;
    scale_row *rows = malloc(cap * sizeof *rows);
    if (!rows) rc = oom(err);
    enum { MAXF = 64 };
    char *field[MAXF];
    for (char *s = text, *next; rc == OCCAM_OK && s && *s; s = next) {
        next = strchr(s, '\n');
        if (next) *next++ = 0;
        lineno++;
        size_t l = strlen(s);
        if (l && s[l - 1] == '\r') s[--l] = 0;
        if (!l) continue;
        int nf = csv_split(s, field, MAXF);
        if (nf > MAXF) {
            rc = occam_error_set(err, OCCAM_ERR_INPUT, "%s:%d: more than %d columns", path, lineno,
                                 MAXF);
            break;
        }
        if (!ncols) { /* the header */
            ncols = nf;
            for (int k = 0; k < C_N && rc == OCCAM_OK; k++) {
                col[k] = -1;
                for (int i = 0; i < nf; i++)
                    if (!strcmp(field[i], want[k])) col[k] = i;
                if (col[k] < 0)
                    rc = occam_error_set(err, OCCAM_ERR_INPUT, "%s:%d: no '%s' column in the header",
                                         path, lineno, want[k]);
            }
            continue;
        }
        if (nf != ncols) {
            rc = occam_error_set(err, OCCAM_ERR_INPUT, "%s:%d: %d fields, the header has %d", path,
                                 lineno, nf, ncols);
            break;
        }
        if (n == cap) {
            scale_row *nr = realloc(rows, (cap *= 2) * sizeof *rows);
            if (!nr) {
                rc = oom(err);
                break;
            }
            rows = nr;
        }
        scale_row *r = &rows[n];
        if (strlen(field[col[C_STUDY]]) >= sizeof r->study ||
            strlen(field[col[C_MODEL]]) >= sizeof r->model) {
            rc = occam_error_set(err, OCCAM_ERR_INPUT, "%s:%d: study or model name too long", path,
                                 lineno);
            break;
        }
        strcpy(r->study, field[col[C_STUDY]]);
        strcpy(r->model, field[col[C_MODEL]]);
        if ((rc = csv_num(path, lineno, "threads", field[col[C_THREADS]], false, &r->threads,
                          err)) ||
            (rc = csv_num(path, lineno, "speedup", field[col[C_SPEEDUP]], false, &r->speedup,
                          err)) ||
            (rc = csv_num(path, lineno, "sgemm_speedup", field[col[C_SGEMM]], true, &r->sgemm,
                          err)))
            break;
        if (!(r->threads >= 1)) {
            rc = occam_error_set(err, OCCAM_ERR_INPUT, "%s:%d: threads must be at least 1", path,
                                 lineno);
            break;
        }
        n++;
    }
    free(text);
    if (rc == OCCAM_OK && !ncols) rc = input_err(err, path, "empty file (expected a CSV header)");
    if (rc == OCCAM_OK && !n) rc = input_err(err, path, "no data rows");
    if (rc) {
        free(rows);
        return rc;
    }
    *out = rows;
    *nout = n;
    return OCCAM_OK;
}

static bool same_group(const scale_row *a, const scale_row *b)
{
    return !strcmp(a->study, b->study) && !strcmp(a->model, b->model);
}

int occam_plot_scaling(const char *csv_path, occam_plot_params p, occam_error *err)
{
    scale_row *rows;
    size_t n;
    int rc = scaling_load(csv_path, &rows, &n, err);
    if (rc) return rc;
    /* Groups (study, model) in order of first appearance; rows sorted by threads in each. A
     * stable insertion sort: the files are a few dozen rows. */
    size_t *ord = malloc(n * sizeof *ord), *gstart = malloc((n + 1) * sizeof *gstart);
    size_t *study_of = malloc(n * sizeof *study_of), *model_of = malloc(n * sizeof *model_of);
    size_t ng = 0, ns = 0, nm = 0;
    if (!ord || !gstart || !study_of || !model_of) rc = oom(err);
    for (size_t i = 0, k = 0; rc == OCCAM_OK && i < n; i++) {
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++) seen = same_group(&rows[j], &rows[i]);
        if (seen) continue;
        gstart[ng] = k;
        for (size_t j = i; j < n; j++) {
            if (!same_group(&rows[j], &rows[i])) continue;
            size_t at = k++;
            while (at > gstart[ng] && rows[ord[at - 1]].threads > rows[j].threads) {
                ord[at] = ord[at - 1];
                at--;
            }
            ord[at] = j;
        }
        /* Study (panel) and model (colour) indices, in order of first appearance. */
        size_t s = ns, mo = nm;
        for (size_t g = 0; g < ng; g++) {
            if (!strcmp(rows[ord[gstart[g]]].study, rows[i].study)) s = study_of[g];
            if (!strcmp(rows[ord[gstart[g]]].model, rows[i].model)) mo = model_of[g];
        }
        if (s == ns) ns++;
        if (mo == nm) nm++;
        study_of[ng] = s;
        model_of[ng++] = mo;
        gstart[ng] = k;
    }
    plot_ctx c;
    if (rc == OCCAM_OK) rc = ctx_open(&c, &p, err);
    dat_file d;
    if (rc == OCCAM_OK) rc = dat_open(&d, &c, "scaling", err);
    double tmax = 1, ymax = 1; /* one y range for every panel, so they compare at a glance */
    if (rc == OCCAM_OK) {
        fprintf(d.f, "# %s: speedup over 1 thread; blocks (gnuplot index) per study and model\n",
                csv_path);
        for (size_t g = 0; g < ng; g++) {
            const scale_row *h = &rows[ord[gstart[g]]];
            fprintf(d.f, "%s# %s %s\n# threads speedup sgemm_speedup\n", g ? "\n\n" : "",
                    h->study, h->model);
            for (size_t k = gstart[g]; k < gstart[g + 1]; k++) {
                const scale_row *r = &rows[ord[k]];
                dat_num(d.f, r->threads);
                dat_num(d.f, r->speedup);
                dat_num(d.f, r->sgemm);
                fputc('\n', d.f);
                if (r->threads > tmax) tmax = r->threads;
                if (r->speedup > ymax) ymax = r->speedup;
                if (isfinite(r->sgemm) && r->sgemm > ymax) ymax = r->sgemm;
            }
        }
        rc = dat_close(&d, &c, err);
    }
    gp_script g;
    if (rc == OCCAM_OK) rc = gp_open(&g, &c, "scaling", err);
    if (rc == OCCAM_OK) {
        static const char *colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
                                       "#8c564b"};
        FILE *f = g.f;
        int cols = ns <= 3 ? (int)ns : (int)(ns + 1) / 2, prow = ns <= 3 ? 1 : 2;
        fprintf(f, "set multiplot layout %d,%d title ", prow, cols);
        char title[PATH_MAX + 64];
        snprintf(title, sizeof title, "Speedup over 1 thread (%s; dashed: BLIS sgemm)",
                 base_name(csv_path));
        gp_str(f, title);
        fprintf(f, " font ',13'\nset xlabel 'threads'\nset ylabel 'speedup (× 1 thread)'\n"
                   "set xrange [1:%.9g]\nset yrange [0:%.9g]\nset key top left\n", tmax,
                1.1 * (ymax > tmax ? ymax : tmax));
        if (tmax <= 16) fputs("set xtics 1\n", f);
        for (size_t s = 0; s < ns; s++) {
            bool first = true;
            for (size_t gi = 0; gi < ng; gi++) {
                if (study_of[gi] != s) continue;
                const scale_row *h = &rows[ord[gstart[gi]]];
                const char *col = colors[model_of[gi] % (sizeof colors / sizeof colors[0])];
                if (first) {
                    char t[128];
                    snprintf(t, sizeof t, "%s scaling", h->study);
                    fputs("set title ", f);
                    gp_str(f, t);
                    fputs("\nplot x with lines lc rgb 'gray60' title 'ideal (linear)'", f);
                    first = false;
                }
                bool any_sgemm = false;
                for (size_t k = gstart[gi]; k < gstart[gi + 1]; k++)
                    any_sgemm |= isfinite(rows[ord[k]].sgemm);
                fputs(", ", f);
                gp_str(f, d.path);
                fprintf(f, " index %zu using 1:2 with linespoints pt 7 lw 2 lc rgb '%s' title ",
                        gi, col);
                gp_str(f, h->model);
                if (any_sgemm) {
                    char t[96];
                    snprintf(t, sizeof t, "%s sgemm", h->model);
                    fputs(", ", f);
                    gp_str(f, d.path);
                    fprintf(f, " index %zu using 1:3 with lines dt 2 lw 2 lc rgb '%s' title ", gi,
                            col);
                    gp_str(f, t);
                }
            }
            fputc('\n', f);
        }
        fputs("unset multiplot\n", f);
        rc = gp_run(&g, &c, err);
    }
    free(ord);
    free(gstart);
    free(study_of);
    free(model_of);
    free(rows);
    return rc;
}
