/* Reading a run report (the JSON of `occam train --report`) into a plot_report: the history
 * rows, the prune events, the layers' fitted priors and the weight histogram(s). Only the
 * members the figures use are read, and each is checked, so a malformed report is refused with
 * a message naming the file and the member before anything is drawn. */
#include "plot-impl.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "occam/json.h"

#define NO_INDEX SIZE_MAX
#define PLOT_MAX_BINS 65536 /* per weight histogram; occam train writes 101 */

void plot_report_free(plot_report *r)
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

const char *plot_report_metric(const plot_report *r)
{
    return r->regress ? "test_relative_error" : "test_accuracy";
}

/* The member's name for messages: ctx.key, ctx[i].key, or without a key ctx or ctx[i]. */
static void where_fmt(char *buf, size_t cap, const char *ctx, size_t i, const char *key)
{
    int w = i == NO_INDEX ? snprintf(buf, cap, "%s", ctx) : snprintf(buf, cap, "%s[%zu]", ctx, i);
    if (key && w >= 0 && (size_t)w < cap) snprintf(buf + w, cap - (size_t)w, ".%s", key);
}

/* Member key of obj as a number. Absent or null is NaN, or an error when required. */
static int get_num(const plot_report *r, const occam_json_value *obj, const char *ctx, size_t i,
                   const char *key, bool required, double *out, occam_error *err)
{
    const occam_json_value *v = occam_json_get(obj, key);
    char where[160];
    if (!v || v->type == OCCAM_JSON_NULL) {
        *out = NAN;
        if (!required) return OCCAM_OK;
        where_fmt(where, sizeof where, ctx, i, key);
        return plot_input_err(err, r->path, "%s is missing", where);
    }
    if (v->type != OCCAM_JSON_NUMBER) {
        where_fmt(where, sizeof where, ctx, i, key);
        return plot_input_err(err, r->path, "%s: expected a number", where);
    }
    *out = v->number;
    return OCCAM_OK;
}

/* Member key as an integer in [lo, hi]: *out keeps its value when the member is absent or
 * null. A double outside int's range was cast to int regardless (undefined; a layer of 1e300
 * inputs was titled -2147483648), and a fraction was cut. */
static int get_int(const plot_report *r, const occam_json_value *obj, const char *ctx, size_t i,
                   const char *key, int lo, int hi, int *out, occam_error *err)
{
    double v;
    int rc = get_num(r, obj, ctx, i, key, false, &v, err);
    if (rc || isnan(v)) return rc;
    if (!(v >= lo && v <= hi) || v != floor(v)) {
        char where[160];
        where_fmt(where, sizeof where, ctx, i, key);
        return plot_input_err(err, r->path, "%s: expected an integer from %d to %d", where, lo,
                              hi);
    }
    *out = (int)v;
    return OCCAM_OK;
}

/* An array of finite numbers, copied into a fresh double array (caller frees). */
static int get_num_array(const plot_report *r, const occam_json_value *v, const char *where,
                         double **out, size_t *n, occam_error *err)
{
    if (!v || v->type != OCCAM_JSON_ARRAY)
        return plot_input_err(err, r->path, "%s: expected an array of numbers", where);
    double *a = malloc((v->count ? v->count : 1) * sizeof *a);
    if (!a) return plot_oom(err);
    for (size_t i = 0; i < v->count; i++) {
        if (v->items[i].type != OCCAM_JSON_NUMBER || !isfinite(v->items[i].number)) {
            free(a);
            return plot_input_err(err, r->path, "%s[%zu]: expected a finite number", where, i);
        }
        a[i] = v->items[i].number;
    }
    *out = a;
    *n = v->count;
    return OCCAM_OK;
}

/* The array at key, or NULL when absent or null; any other type is an error. */
static int get_array(const plot_report *r, const occam_json_value *obj, const char *key,
                     const char *where, const occam_json_value **out, occam_error *err)
{
    const occam_json_value *v = occam_json_get(obj, key);
    *out = NULL;
    if (!v || v->type == OCCAM_JSON_NULL) return OCCAM_OK;
    if (v->type != OCCAM_JSON_ARRAY)
        return plot_input_err(err, r->path, "%s: expected an array", where);
    *out = v;
    return OCCAM_OK;
}

static int check_object(const plot_report *r, const occam_json_value *v, const char *ctx,
                        size_t i, occam_error *err)
{
    if (v->type == OCCAM_JSON_OBJECT) return OCCAM_OK;
    char where[160];
    where_fmt(where, sizeof where, ctx, i, NULL);
    return plot_input_err(err, r->path, "%s: expected an object", where);
}

/* ---- history and prune events ------------------------------------------------------------ */

static int parse_history(plot_report *r, const occam_json_value *root, occam_error *err)
{
    const occam_json_value *a;
    int rc = get_array(r, root, "history", "history", &a, err);
    if (rc || !a || a->count == 0) return rc;
    r->h = malloc(a->count * sizeof *r->h);
    if (!r->h) return plot_oom(err);
    static const char *keys[H_COLS] = {"epoch", "train_loss", "test_loss", "train_accuracy",
                                       NULL};
    for (size_t i = 0; i < a->count; i++) {
        const occam_json_value *e = &a->items[i];
        if ((rc = check_object(r, e, "history", i, err))) return rc;
        for (int k = 0; k < H_COLS; k++) {
            const char *key = k == H_TEST_METRIC ? plot_report_metric(r) : keys[k];
            if ((rc = get_num(r, e, "history", i, key, k == H_EPOCH, &r->h[i][k], err)))
                return rc;
            /* the learning curves' ranges are gnuplot's own (the bits' figures set theirs) */
            if (isfinite(r->h[i][k]) && !plot_drawable(r->h[i][k])) {
                char where[160];
                where_fmt(where, sizeof where, "history", i, key);
                return plot_input_err(err, r->path, "%s = %g " PLOT_RANGE, where, r->h[i][k]);
            }
        }
        r->nh++;
    }
    return OCCAM_OK;
}

static int parse_events(plot_report *r, const occam_json_value *a, occam_error *err)
{
    r->ev = malloc(a->count * sizeof *r->ev);
    if (!r->ev) return plot_oom(err);
    static const char *keys[E_COLS] = {"step", "epoch", "sparsity", NULL, "model_bits",
                                       "data_bits", "total_bits"};
    const char *ctx = "prune.events";
    for (size_t i = 0; i < a->count; i++) {
        const occam_json_value *e = &a->items[i];
        int rc = check_object(r, e, ctx, i, err);
        if (rc) return rc;
        for (int k = 0; k < E_COLS; k++) {
            const char *key = k == E_TEST_METRIC ? plot_report_metric(r) : keys[k];
            if ((rc = get_num(r, e, ctx, i, key, k == E_SPARSITY, &r->ev[i][k], err))) return rc;
        }
        if (isfinite(r->ev[i][E_TOTAL_BITS])) r->has_bits = true;
        r->ne++;
    }
    return OCCAM_OK;
}

static int parse_prune(plot_report *r, const occam_json_value *root, occam_error *err)
{
    r->dense_bits = NAN;
    r->best_event = -1;
    const occam_json_value *p = occam_json_get(root, "prune");
    if (!p || p->type == OCCAM_JSON_NULL) return OCCAM_OK;
    int rc = check_object(r, p, "prune", NO_INDEX, err);
    const occam_json_value *a;
    if (rc || (rc = get_num(r, p, "prune", NO_INDEX, "dense_total_bits", false, &r->dense_bits,
                            err)) ||
        (rc = get_array(r, p, "events", "prune.events", &a, err)))
        return rc;
    /* a best_event naming no event (or half of one) was ignored, and the kept model's circle
     * left out of mdl_bits.png without a word */
    int nev = a ? (int)(a->count < INT_MAX ? a->count : INT_MAX) : 0;
    if ((rc = get_int(r, p, "prune", NO_INDEX, "best_event", 0, nev, &r->best_event, err)) ||
        !a || a->count == 0)
        return rc;
    return parse_events(r, a, err);
}

/* ---- priors and weight histograms ----------------------------------------------------------- */

static int parse_prior(const plot_report *r, const occam_json_value *pv, size_t l, occam_prior *p,
                       occam_error *err)
{
    char where[96];
    snprintf(where, sizeof where, "mdl.layers[%zu].prior", l);
    int rc = check_object(r, pv, where, NO_INDEX, err);
    double kd = NAN;
    if (rc || (rc = get_num(r, pv, where, NO_INDEX, "components", true, &kd, err))) return rc;
    if (!(kd >= 1 && kd <= OCCAM_PRIOR_MAX) || kd != floor(kd))
        return plot_input_err(err, r->path, "%s.components: expected 1 to %d", where,
                              OCCAM_PRIOR_MAX);
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
            return plot_input_err(err, r->path, "%s has %zu entries, components is %d", w, n,
                                  p->k);
        }
        memcpy(dst[a], v, n * sizeof *v);
        free(v);
    }
    double sum = 0;
    for (int j = 0; j < p->k; j++) {
        if (!(p->sigma[j] > 0) || !(p->pi[j] >= 0))
            return plot_input_err(err, r->path, "%s: component %d needs sigma > 0 and pi >= 0",
                                  where, j);
        sum += p->pi[j];
    }
    /* weights of a mixture: occam writes them summing to 1, and weights summing to 1e308 made
     * expected counts past any axis (gnuplot: "y axis range undefined or overflow") */
    for (int j = 0; j < p->k && sum > 0; j++) p->pi[j] /= sum;
    return OCCAM_OK;
}

/* The count code writes each layer's prior as {"components": 0, ...}: no prior, as null is. */
static bool prior_is_none(const occam_json_value *pv)
{
    if (!pv || pv->type == OCCAM_JSON_NULL) return true;
    const occam_json_value *k = pv->type == OCCAM_JSON_OBJECT ? occam_json_get(pv, "components")
                                                              : NULL;
    return k && k->type == OCCAM_JSON_NUMBER && k->number == 0;
}

/* mdl.layers[l]: its shape, active weights and prior (none: prior.k = 0, *has_prior false),
 * appended to r->layers. */
static int parse_layer(plot_report *r, const occam_json_value *e, size_t l, bool *has_prior,
                       occam_error *err)
{
    int rc = check_object(r, e, "mdl.layers", l, err);
    if (rc) return rc;
    const occam_json_value *pv = occam_json_get(e, "prior");
    *has_prior = !prior_is_none(pv);
    plot_prior_layer *y = &r->layers[r->nl];
    y->in = y->out = 0; /* unknown */
    y->prior.k = 0;
    if ((rc = get_int(r, e, "mdl.layers", l, "in", 1, INT_MAX, &y->in, err)) ||
        (rc = get_int(r, e, "mdl.layers", l, "out", 1, INT_MAX, &y->out, err)) ||
        (rc = get_num(r, e, "mdl.layers", l, "k", false, &y->k, err)) ||
        (*has_prior && (rc = parse_prior(r, pv, l, &y->prior, err))))
        return rc;
    r->nl++;
    return OCCAM_OK;
}

static int parse_layers(plot_report *r, const occam_json_value *root, occam_error *err)
{
    const occam_json_value *mdl = occam_json_get(root, "mdl"), *layers = NULL;
    int rc;
    if (mdl && mdl->type != OCCAM_JSON_NULL) {
        if ((rc = check_object(r, mdl, "mdl", NO_INDEX, err)) ||
            (rc = get_array(r, mdl, "layers", "mdl.layers", &layers, err)))
            return rc;
        /* the code whose priors weights.png draws, for its title: a bits-back report's
         * figure was titled "the two-part code" */
        const occam_json_value *code = occam_json_get(mdl, "model_code");
        if (code && code->type == OCCAM_JSON_STRING &&
            (!strcmp(code->str, "two-part") || !strcmp(code->str, "bits-back")))
            snprintf(r->code, sizeof r->code, "%s", code->str);
    }
    if (layers && layers->count > PLOT_MAX_LAYERS)
        return plot_input_err(err, r->path, "mdl.layers: %zu layers, at most %d are supported",
                              layers->count, PLOT_MAX_LAYERS);
    if (!layers || !layers->count) return OCCAM_OK;
    r->layers = calloc(layers->count, sizeof *r->layers);
    if (!r->layers) return plot_oom(err);
    /* The count code has no priors ({"components": 0} in every layer), and its report no
     * weights figure. A two-part or bits-back code has none only for a layer with no weight
     * left (a layer pruned away): that report's figure was skipped too, with "has no
     * mdl.layers[].prior", for a model whose other layers have one. */
    bool any = false;
    for (size_t l = 0; l < layers->count; l++) {
        bool has_prior;
        if ((rc = parse_layer(r, &layers->items[l], l, &has_prior, err))) return rc;
        any |= has_prior;
    }
    if (!any) r->nl = 0;
    return OCCAM_OK;
}

static int parse_histogram(const plot_report *r, const occam_json_value *v, const char *where,
                           plot_histogram *h, occam_error *err)
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
    /* 9 rows of weights.dat per bin: a 64 MiB report of 6 million bins wrote 800 MB of .dat,
     * and gnuplot a minute drawing it */
    if (nc > PLOT_MAX_BINS)
        return plot_input_err(err, r->path, "%s: %zu bins, at most %d are drawn", where, nc,
                              PLOT_MAX_BINS);
    if (nc == 0 || ne != nc + 1)
        return plot_input_err(err, r->path,
                              "%s: needs n >= 1 counts and n + 1 edges (has %zu and %zu)", where,
                              nc, ne);
    for (size_t i = 0; i < nc; i++) {
        if (!(h->edges[i + 1] > h->edges[i]))
            return plot_input_err(err, r->path, "%s.edges[%zu]: edges must increase", where,
                                  i + 1);
        if (h->counts[i] < 0)
            return plot_input_err(err, r->path, "%s.counts[%zu]: negative count", where, i);
    }
    /* The prior is drawn scaled by the counts' total: two counts of 1e308 summed to inf, every
     * point of the prior curve was inf or NaN, and gnuplot failed the figure ("all points y
     * value undefined", exit 1) after the other figures were drawn. */
    double total = 0;
    for (size_t i = 0; i < nc; i++) total += h->counts[i];
    if (total > 1e300)
        return plot_input_err(err, r->path, "%s.counts: their total %g " PLOT_RANGE, where,
                              total);
    return OCCAM_OK;
}

/* weight_histogram: one object (all layers pooled) or an array of one per layer with a prior. */
static int parse_histograms(plot_report *r, const occam_json_value *root, occam_error *err)
{
    const occam_json_value *wh = occam_json_get(root, "weight_histogram");
    if (!wh || wh->type == OCCAM_JSON_NULL) return OCCAM_OK;
    size_t n = wh->type == OCCAM_JSON_ARRAY ? wh->count : 1;
    r->hist_per_layer = wh->type == OCCAM_JSON_ARRAY;
    /* Per-layer histograms are drawn under their layers' priors: without any (an eval report,
     * whose mdl is null, or the count code's) there is nothing to draw them with, and
     * weights.png is skipped, not the report refused. */
    if (r->hist_per_layer && r->nl == 0) return OCCAM_OK;
    if (r->hist_per_layer && n != (size_t)r->nl)
        return plot_input_err(err, r->path,
                              "weight_histogram has %zu per-layer entries, but %d layers have a "
                              "prior in mdl.layers", n, r->nl);
    if (n == 0) return OCCAM_OK;
    r->hist = calloc(n, sizeof *r->hist);
    if (!r->hist) return plot_oom(err);
    for (size_t i = 0; i < n; i++) {
        char where[64];
        where_fmt(where, sizeof where, "weight_histogram", r->hist_per_layer ? i : NO_INDEX,
                  NULL);
        r->nhist++;
        int rc = parse_histogram(r, r->hist_per_layer ? &wh->items[i] : wh, where, &r->hist[i],
                                 err);
        if (rc) return rc;
    }
    return OCCAM_OK;
}

/* ---- the whole report --------------------------------------------------------------------- */

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

int plot_read_json(const char *path, occam_json_value *root, occam_error *err)
{
    char *text;
    size_t len;
    int rc = plot_read_text(path, &text, &len, err);
    if (rc) return rc;
    rc = occam_json_parse(root, text, len, err);
    free(text);
    if (rc) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        return occam_error_set(err, rc, "%s: %s", path, msg);
    }
    return OCCAM_OK;
}

int plot_report_load(plot_report *r, const char *path, occam_error *err)
{
    memset(r, 0, sizeof *r);
    r->path = path;
    occam_json_value root;
    int rc = plot_read_json(path, &root, err);
    if (rc) return rc;
    if (root.type != OCCAM_JSON_OBJECT)
        rc = plot_input_err(err, path,
                            "expected a JSON object (a report from 'occam train --report')");
    const occam_json_value *cmd = occam_json_get(&root, "command");
    if (rc == OCCAM_OK && cmd && cmd->type == OCCAM_JSON_STRING && !strcmp(cmd->str, "select"))
        r->select = true; /* another kind of report: plot_select reads it */
    else if (rc == OCCAM_OK) {
        r->regress = report_is_regress(&root);
        if ((rc = parse_history(r, &root, err)) == OCCAM_OK &&
            (rc = parse_prune(r, &root, err)) == OCCAM_OK &&
            (rc = parse_layers(r, &root, err)) == OCCAM_OK)
            rc = parse_histograms(r, &root, err);
    }
    occam_json_free(&root);
    if (rc) plot_report_free(r);
    return rc;
}
