/* The figure of an `occam select` report: the description length of every grid point (total,
 * model and data bits) in the upper panel, the train and test metric in the lower one, both
 * against the point's index with its values as the tick labels (the value alone for a one-key
 * grid). The shortest point, the one select chose, is circled in both. Points without bits (failed,
 * or not trained) are gaps. */
#include "plot-impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LABEL_MAX 48 /* tick labels are cut to this many bytes */

typedef struct sel_point {
    double v[5]; /* total_bits, model_bits, data_bits, train, test; NaN: none */
    char label[LABEL_MAX];
} sel_point;

typedef struct sel_report {
    const char *path;
    bool regress;
    size_t n;
    sel_point *pt;
    long best;          /* -1: none */
    char keys[256];     /* the grid's keys, for the axis label */
} sel_report;

static const char *const sel_names[5] = {"total_bits", "model_bits", "data_bits", "train",
                                         "test"};

/* Control characters in text bound for select.dat made '?' (and '"' too when quote): a
 * newline in a grid key ended the header's comment line, and the rest of the key was read as a
 * point of the figure. */
static void label_clean(char *s, bool quote)
{
    for (; *s; s++)
        if ((quote && *s == '"') || (unsigned char)*s < 0x20 || *s == 0x7f) *s = '?';
}

/* Drops a UTF-8 sequence cut short at the end of s, as snprintf leaves one when it truncates:
 * a label of 100 'é' ended in a lone 0xc3 byte in select.dat and in the figure. */
static void label_cut_utf8(char *s)
{
    size_t n = strlen(s), i = n;
    while (i > 0 && ((unsigned char)s[i - 1] & 0xc0) == 0x80) i--;
    if (i == 0) return;
    unsigned char lead = (unsigned char)s[i - 1];
    size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
    if (n - (i - 1) < need) s[i - 1] = 0;
}

/* Appends sep and text to buf (cut to cap, never inside a UTF-8 character), then makes its
 * control characters '?' (and '"' when quote). */
static void label_append(char *buf, size_t cap, const char *sep, const char *text, bool quote)
{
    size_t len = strlen(buf);
    snprintf(buf + len, cap - len, "%s%s", sep, text);
    label_cut_utf8(buf);
    label_clean(buf, quote);
}

/* A value of `set` as a tick label: as written, with '"' and control characters (which would
 * end the .dat file's quoted column or its line) made '?'. */
static void label_add(char *buf, size_t cap, const occam_json_value *v, bool first)
{
    char text[LABEL_MAX];
    if (v->type == OCCAM_JSON_STRING) snprintf(text, sizeof text, "%s", v->str);
    else if (v->type == OCCAM_JSON_BOOL)
        snprintf(text, sizeof text, "%s", v->boolean ? "true" : "false");
    else if (v->type == OCCAM_JSON_NUMBER && v->is_integer)
        snprintf(text, sizeof text, "%lld", (long long)v->integer);
    else if (v->type == OCCAM_JSON_NUMBER) snprintf(text, sizeof text, "%.6g", v->number);
    else snprintf(text, sizeof text, "?");
    label_append(buf, cap, first ? "" : " / ", text, true); /* a cut text ends buf: cut there */
}

static int sel_point_load(sel_report *r, const occam_json_value *e, size_t i, occam_error *err)
{
    if (e->type != OCCAM_JSON_OBJECT)
        return plot_input_err(err, r->path, "points[%zu]: expected an object", i);
    const occam_json_value *set = occam_json_get(e, "set");
    if (!set || set->type != OCCAM_JSON_OBJECT)
        return plot_input_err(err, r->path, "points[%zu].set: expected an object", i);
    sel_point *pt = &r->pt[i];
    /* A point that failed or was not trained has no bits and is a gap in every panel; its
     * tick label was its values alone, as for a point drawn. The status heads the label, so a
     * cut takes the values, not it ("failed: 100"). */
    const occam_json_value *st = occam_json_get(e, "status");
    if (st && st->type == OCCAM_JSON_STRING && strcmp(st->str, "done") != 0) {
        label_append(pt->label, sizeof pt->label, "", st->str, true);
        label_append(pt->label, sizeof pt->label, "", ": ", true);
    }
    for (size_t k = 0; k < set->count; k++) {
        label_add(pt->label, sizeof pt->label, &set->members[k].value, k == 0);
        if (i == 0)
            label_append(r->keys, sizeof r->keys, k ? ", " : "", set->members[k].key, false);
    }
    for (int k = 0; k < 5; k++) {
        const occam_json_value *v = occam_json_get(e, sel_names[k]);
        pt->v[k] = NAN;
        if (!v || v->type == OCCAM_JSON_NULL) continue;
        if (v->type != OCCAM_JSON_NUMBER)
            return plot_input_err(err, r->path, "points[%zu].%s: expected a number or null", i,
                                  sel_names[k]);
        if (isfinite(v->number) && !plot_drawable(v->number))
            return plot_input_err(err, r->path, "points[%zu].%s = %g " PLOT_RANGE, i,
                                  sel_names[k], v->number);
        pt->v[k] = v->number;
    }
    return OCCAM_OK;
}

/* Whether any point has a finite value k (sel_names) for k in [k0, k1). */
static bool sel_any(const sel_report *r, int k0, int k1)
{
    for (size_t i = 0; i < r->n; i++)
        for (int k = k0; k < k1; k++)
            if (isfinite(r->pt[i].v[k])) return true;
    return false;
}

/* A tick step of about four intervals over [lo, hi], 1, 2 or 5 times a power of ten. A panel
 * is a third of the figure's height, and gnuplot's own step put ten or eleven labels in it
 * ("3200, 3000, ..., 1400" bits, about 14 pixels apart), touching one another. */
static double sel_tick_step(double lo, double hi)
{
    double raw = (hi - lo) / 4, m = pow(10, floor(log10(raw)));
    return raw <= m ? m : raw <= 2 * m ? 2 * m : raw <= 5 * m ? 5 * m : 10 * m;
}

/* A panel whose values k0..k1-1 are all missing gets a fixed y range: gnuplot cannot autoscale
 * an axis without a point and fails the whole figure. One whose values are all equal (one
 * grid point, or every point at accuracy 1) is an empty range that gnuplot warns about on
 * stderr and pads by 1%: it is centred on the value instead. Otherwise the range is
 * autoscaled, with sel_tick_step's ticks on a linear axis and a tick every few decades on a
 * log one (logy; its caller sets the log scale and its format). Each panel starts from
 * gnuplot's ticks and format, so none inherits the one above's. */
static void sel_yrange(FILE *f, const sel_report *r, int k0, int k1, bool logy, double most)
{
    fputs("set ytics autofreq\nset format y '% h'\n", f);
    if (!sel_any(r, k0, k1)) {
        fputs("set yrange [0:1]\n", f);
        return;
    }
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < r->n; i++)
        for (int k = k0; k < k1; k++) {
            double v = r->pt[i].v[k];
            if (!isfinite(v)) continue;
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
    plot_gp_yrange(f, lo, hi, 0.0, most);
    if (plot_gp_flat(lo, hi)) return;
    if (logy) { /* a tick every decade, or every few when they are more than four; hi / lo
                 * overflows for bits from 1e-300 to 1e300 */
        double per = ceil((log10(hi) - log10(lo)) / 4);
        if (per > 1) { /* listed: given as 'set ytics 1e9', gnuplot's minor ticks between
                        * bits 1e-30 and 4000 took it over a minute, and longer the wider */
            fputs("set ytics (", f);
            for (double e = per * ceil(log10(lo) / per); e <= log10(hi); e += per)
                fprintf(f, "%s%.9g", e > per * ceil(log10(lo) / per) ? ", " : "", pow(10, e));
            fputs(")\n", f);
        }
        return;
    }
    /* yfix: the range is the values' and the offsets' (sel_axes), not widened to the next
     * tick, which put a tick of relative error at -0.5. The labels get the step's decimals:
     * gnuplot's six significant digits labelled every tick of L from 846080.1 to 846080.6
     * "846080". */
    double step = sel_tick_step(lo, hi), big = fmax(fabs(lo), fabs(hi));
    int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    fprintf(f, "set autoscale yfix\nset ytics %.9g\n", step);
    /* '% h' (six significant digits) above 1e7, unless the ticks need more to differ: L of
     * about 1.2e7 over a range of one bit labelled every tick 1.23457e+07 */
    if ((big < 1e7 || step < big * 1e-5) && dec <= 9) fprintf(f, "set format y '%%.%df'\n", dec);
}

static int sel_load(sel_report *r, const occam_json_value *root, occam_error *err)
{
    const occam_json_value *m = occam_json_get(root, "metric");
    r->regress = m && m->type == OCCAM_JSON_STRING && !strcmp(m->str, "relative_error");
    const occam_json_value *a = occam_json_get(root, "points");
    if (!a || a->type != OCCAM_JSON_ARRAY || a->count == 0)
        return plot_input_err(err, r->path, "points: expected a non-empty array");
    r->pt = calloc(a->count, sizeof *r->pt);
    if (!r->pt) return plot_oom(err);
    r->n = a->count;
    for (size_t i = 0; i < a->count; i++) {
        int rc = sel_point_load(r, &a->items[i], i, err);
        if (rc) return rc;
    }
    /* gnuplot refuses a plot with no point to draw ("all points y value undefined"), and an
     * occam select whose points all failed wrote such a report: exit 1 with gnuplot's message */
    if (!sel_any(r, 0, 1))
        return plot_input_err(err, r->path, "points: no point has total_bits (every point "
                              "failed or was not trained), so there is nothing to plot");
    const occam_json_value *b = occam_json_get(root, "best");
    r->best = -1;
    if (b && b->type != OCCAM_JSON_NULL) {
        if (b->type != OCCAM_JSON_NUMBER || !b->is_integer || b->integer < 0 ||
            b->integer >= (int64_t)r->n)
            return plot_input_err(err, r->path, "best: expected null or a point index below %zu",
                                  r->n);
        r->best = (long)b->integer;
        /* the circle says "shortest (chosen)": select names the first point of least L, and
         * a report edited to name another was drawn without its circle, or with it on a
         * point that is not the shortest */
        double best = r->pt[r->best].v[0];
        if (!isfinite(best))
            return plot_input_err(err, r->path, "best: point %ld has no total_bits (not trained "
                                  "or failed), so it cannot be the shortest", r->best);
        for (size_t i = 0; i < r->n; i++)
            if (r->pt[i].v[0] < best || (r->pt[i].v[0] == best && (long)i < r->best))
                return plot_input_err(err, r->path, "best: point %ld (L = %.9g bits) is not "
                                      "the first of least L: point %zu has L = %.9g bits", r->best,
                                      best, i, r->pt[i].v[0]);
    }
    return OCCAM_OK;
}

static int sel_dat(const plot_ctx *c, const sel_report *r, plot_dat *d, occam_error *err)
{
    int rc = plot_dat_open(d, c, "select", err);
    if (rc) return rc;
    const char *metric = r->regress ? "relative_error" : "accuracy";
    fprintf(d->f, "# %s: description length per grid point (%s)\n"
                  "# index total_bits model_bits data_bits train_%s test_%s \"values\"\n",
            r->path, r->keys, metric, metric);
    for (size_t i = 0; i < r->n; i++) {
        fprintf(d->f, "%zu", i);
        for (int k = 0; k < 5; k++) plot_dat_num(d->f, r->pt[i].v[k]);
        fprintf(d->f, " \"%s\"\n", r->pt[i].label);
    }
    return plot_dat_close(d, c, err);
}

/* A log axis when every bit count is positive and they span more than 20x: the data bits of a
 * model that fits are often a hundredth of its model bits. *lo and *hi get their range. */
static bool sel_logy(const sel_report *r, double *lo, double *hi)
{
    *lo = INFINITY, *hi = 0;
    for (size_t i = 0; i < r->n; i++)
        for (int k = 0; k < 3; k++) {
            double v = r->pt[i].v[k];
            if (!isfinite(v)) continue;
            if (v <= 0) return false;
            *lo = v < *lo ? v : *lo;
            *hi = v > *hi ? v : *hi;
        }
    return *hi > 20 * *lo;
}

/* The chosen point circled: value k (sel_names) of the best row. */
static void sel_best_marker(FILE *f, const sel_report *r, int k)
{
    if (r->best < 0 || !isfinite(r->pt[r->best].v[k])) return;
    fprintf(f, ", '+' using (%ld):(%.9g) every ::0::0 with points pt 6 ps 3 lw 2 lc rgb "
               "'#d62728' title 'shortest (chosen)'", r->best, r->pt[r->best].v[k]);
}

#define SEL_LABELS 25

/* Three panels stacked on one x axis, placed by hand: the tick labels (the points' values) and
 * the axis label only under the last, which leaves room for them when they are rotated. */
typedef struct sel_frame {
    bool rotate;     /* long labels: rotated, and a deeper bottom margin */
    double bottom, height, gap;
} sel_frame;

static sel_frame sel_frame_of(const sel_report *r)
{
    size_t longest = 0;
    for (size_t i = 0; i < r->n; i++)
        if (strlen(r->pt[i].label) > longest) longest = strlen(r->pt[i].label);
    sel_frame fr = {.rotate = longest * r->n > 60, .gap = 0.035};
    fr.bottom = fr.rotate ? 0.24 : 0.12;
    fr.height = (0.90 - fr.bottom - 2 * fr.gap) / 3;
    return fr;
}

/* Panel i (0 at the top) of the frame. */
static void sel_panel(FILE *f, const sel_frame *fr, int i, const char *ylabel)
{
    double top = 0.90 - i * (fr->height + fr->gap);
    fprintf(f, "set tmargin at screen %.4f\nset bmargin at screen %.4f\nset ylabel '%s'\n",
            top, top - fr->height, ylabel);
}

static void sel_axes(FILE *f, const sel_report *r)
{
    /* room for L's tick labels ("846080.5") beside the y label, which 0.10 cut at the left
     * edge, and for the key "test (not used to choose)", which ended 3 pixels from the right;
     * headroom, so that the shortest point (often the panel's least) is not drawn on the
     * frame */
    fprintf(f, "set lmargin at screen 0.13\nset rmargin at screen 0.66\n"
               "set key at screen 0.68, graph 1 left top vertical Left reverse\n"
               "set xrange [-0.5:%zu.5]\nset xtics 1 format ''\nunset xlabel\n"
               "set offsets 0, 0, graph 0.08, graph 0.08\n", r->n - 1);
}

static void sel_bits_panels(FILE *f, const sel_report *r, const sel_frame *fr, const char *dat)
{
    sel_panel(f, fr, 0, "L (bits)");
    sel_yrange(f, r, 0, 1, false, INFINITY);
    fputs("plot ", f);
    plot_gp_data(f, dat, " using 1:2 with linespoints pt 7 ps 1 lw 3 lc rgb 'black' "
                         "title 'L = model + data bits'");
    sel_best_marker(f, r, 0);
    fputc('\n', f);
    double lo, hi;
    bool logy = sel_logy(r, &lo, &hi);
    sel_panel(f, fr, 1, logy ? "bits (log scale)" : "bits");
    sel_yrange(f, r, 1, 3, logy, INFINITY);
    if (logy) fprintf(f, "set logscale y\nset format y '%s'\n", plot_gp_bits_format(true, lo, hi));
    fputs("plot ", f);
    plot_gp_data(f, dat, " using 1:3 with linespoints pt 5 ps 0.8 lw 2 lc rgb '#1f77b4' "
                         "title 'model bits', ");
    plot_gp_data(f, dat, " using 1:4 with linespoints pt 9 ps 0.9 lw 2 lc rgb '#2ca02c' "
                         "title 'data bits'");
    fputs("\nunset logscale y\nset format y '% h'\n", f);
}

static void sel_metric_panel(FILE *f, const sel_report *r, const sel_frame *fr, const char *dat)
{
    sel_panel(f, fr, 2, r->regress ? "relative error" : "accuracy");
    fprintf(f, "set xtics format '%%s' %s\nset xlabel ",
            fr->rotate ? "rotate by -40 left font ',8'" : "font ',9'");
    plot_gp_str(f, r->keys);
    fputc('\n', f);
    sel_yrange(f, r, 3, 5, false, r->regress ? INFINITY : 1.0);
    fputs("plot ", f);
    /* at most SEL_LABELS labels under the axis, every k-th point's: 50 points' rotated labels
     * were drawn over each other */
    size_t every = r->n > SEL_LABELS ? (r->n + SEL_LABELS - 1) / SEL_LABELS : 1;
    char using[200];
    snprintf(using, sizeof using, " using 1:5:xtic(int($1) %% %zu == 0 ? strcol(7) : '') with "
             "linespoints pt 7 ps 0.8 lw 2 lc rgb '#1f77b4' title 'train', ", every);
    plot_gp_data(f, dat, "%s", using);
    plot_gp_data(f, dat, " using 1:6 with linespoints pt 7 ps 0.8 lw 2 lc rgb '#d62728' "
                         "title 'test (not used to choose)'");
    sel_best_marker(f, r, 4);
    fputc('\n', f);
}

int plot_select(const char *path, const occam_plot_params *p, occam_error *err)
{
    sel_report r = {.path = path, .best = -1};
    occam_json_value root;
    int rc = plot_read_json(path, &root, err);
    if (rc) return rc;
    rc = sel_load(&r, &root, err);
    occam_json_free(&root);
    if (rc == OCCAM_OK && p->check_only) {
        free(r.pt);
        return OCCAM_OK;
    }
    plot_ctx c;
    plot_dat d;
    plot_gp g;
    if (rc == OCCAM_OK) rc = plot_ctx_open(&c, p, err);
    if (rc == OCCAM_OK) rc = sel_dat(&c, &r, &d, err);
    if (rc == OCCAM_OK) rc = plot_gp_open(&g, &c, "select", err);
    if (rc == OCCAM_OK) {
        sel_frame fr = sel_frame_of(&r);
        plot_gp_multiplot(g.f, 3, 1, "occam select: description length per grid point");
        sel_axes(g.f, &r);
        sel_bits_panels(g.f, &r, &fr, d.path);
        sel_metric_panel(g.f, &r, &fr, d.path);
        fputs("unset multiplot\n", g.f);
        rc = plot_gp_run(&g, &c, err);
    }
    free(r.pt);
    return rc;
}
