/* The report's figures (occam_plot_report): learning curves per epoch, test accuracy against
 * sparsity after each prune step, and the description length against sparsity; the weight
 * histograms are in plot_weights.c. Each figure writes its .dat file from the plot_report and
 * then draws it; which figures a report gets is decided in occam_plot_report. */
#include "plot-impl.h"

#include <math.h>
#include <string.h>

#include "cli.h"

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

static bool any_finite(const double *v, size_t n, size_t stride)
{
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i * stride])) return true;
    return false;
}

/* ---- learning: loss and accuracy per epoch ---------------------------------------------- */

#define PLOT_MAX_STEP_LINES 1000 /* prune steps marked in learning.png */

static int learning_dat(const plot_ctx *c, const plot_report *r, plot_dat *d, occam_error *err)
{
    int rc = plot_dat_open(d, c, "learning", err);
    if (rc) return rc;
    fprintf(d->f, "# %s: history\n# epoch train_loss test_loss train_accuracy %s\n", r->path,
            plot_report_metric(r));
    for (size_t i = 0; i < r->nh; i++) plot_dat_row(d->f, r->h[i], H_COLS);
    return plot_dat_close(d, c, err);
}

/* A panel's train and test curves (history columns k_train and k_test), those it has. */
static void learning_curves(FILE *f, const char *dat, const char *style, const bool *have,
                            int k_train, const char *train_title, int k_test,
                            const char *test_title)
{
    static const char *color[2] = {"#1f77b4", "#d62728"};
    const int k[2] = {k_train, k_test};
    const char *title[2] = {train_title, test_title};
    bool first = true;
    for (int j = 0; j < 2; j++) {
        if (!have[k[j]]) continue;
        fputs(first ? "" : ", ", f);
        plot_gp_data(f, dat, " using 1:%d with %s lc rgb '%s' title '%s'", k[j] + 1, style,
                     color[j], title[j]);
        first = false;
    }
}

/* A history panel's y range: centred where its values are all one (accuracy 1 every epoch),
 * within [0, most]. */
static void history_yrange(FILE *f, const plot_report *r, int k_train, int k_test, double most)
{
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < r->nh; i++) {
        const double v[2] = {r->h[i][k_train], r->h[i][k_test]};
        for (int j = 0; j < 2; j++)
            if (isfinite(v[j])) lo = fmin(lo, v[j]), hi = fmax(hi, v[j]);
    }
    plot_gp_yrange(f, lo, hi, 0.0, most);
}

/* Losses that fall by decades (separable data) read better on a log axis. */
static void learning_loss_panel(FILE *f, const plot_report *r, const char *dat, const bool *have,
                                const char *style, const char *prune_key)
{
    span sp = {INFINITY, 0, false};
    for (size_t i = 0; i < r->nh; i++) {
        span_add(&sp, r->h[i][H_TRAIN_LOSS]);
        span_add(&sp, r->h[i][H_TEST_LOSS]);
    }
    bool logy = span_wants_log(&sp, 100.0);
    if (logy) fputs("set logscale y\nset format y '%g'\n", f);
    history_yrange(f, r, H_TRAIN_LOSS, H_TEST_LOSS, INFINITY);
    /* a regression's loss is the mean squared error in the targets' own units (fit.c) */
    fprintf(f, "set ylabel '%s'\nset title '%s'\nplot ",
            r->regress ? (logy ? "target units² (log scale)" : "target units²")
                       : (logy ? "loss (nats, log scale)" : "loss (nats)"),
            r->regress ? "loss: mean squared error" : "loss");
    learning_curves(f, dat, style, have, H_TRAIN_LOSS, "train loss", H_TEST_LOSS, "test loss");
    fprintf(f, "%s\nunset logscale y\nset format y '%% h'\n", prune_key);
}

static void learning_metric_panel(FILE *f, const plot_report *r, const char *dat,
                                  const bool *have, const char *style, const char *prune_key)
{
    history_yrange(f, r, H_TRAIN_METRIC, H_TEST_METRIC, r->regress ? INFINITY : 1.0);
    fprintf(f, "set ylabel '%s'\nset title '%s'\nplot ",
            r->regress ? "relative error (fraction)" : "accuracy (fraction correct)",
            r->regress ? "relative error" : "accuracy");
    learning_curves(f, dat, style, have, H_TRAIN_METRIC, "train accuracy", H_TEST_METRIC,
                    r->regress ? "test relative error" : "test accuracy");
    fprintf(f, "%s\n", prune_key);
}

static int plot_learning(const plot_ctx *c, const plot_report *r, occam_error *err)
{
    plot_dat d;
    int rc = learning_dat(c, r, &d, err);
    if (rc) return rc;
    bool have[H_COLS];
    for (int k = 0; k < H_COLS; k++) have[k] = any_finite(&r->h[0][k], r->nh, H_COLS);
    bool loss_panel = have[H_TRAIN_LOSS] || have[H_TEST_LOSS];
    bool metric_panel = have[H_TRAIN_METRIC] || have[H_TEST_METRIC];
    const char *style = r->nh > 60 ? "lines lw 2" : "linespoints pt 7 ps 0.6 lw 2";

    plot_gp g;
    if ((rc = plot_gp_open(&g, c, "learning", err))) return rc;
    FILE *f = g.f;
    /* One arrow per prune step: gnuplot finds each new arrow's tag by walking the ones before
     * it, so 10^5 steps took 46 s and a report of 3 million would not finish; beyond a few
     * hundred the lines would only shade the panel anyway. */
    bool steps = r->ne && r->ne <= PLOT_MAX_STEP_LINES;
    if (r->ne > PLOT_MAX_STEP_LINES)
        fprintf(stderr, "occam: %s has %zu prune steps; learning.png marks none (at most %d)\n",
                cli_shown(r->path), r->ne, PLOT_MAX_STEP_LINES);
    plot_gp_multiplot(f, loss_panel + metric_panel, 1,
                      steps ? "Learning curves (dashed: prune steps)" : "Learning curves");
    /* Fixed margins keep the two panels' epoch axes aligned; the key sits right of the data.
     * They leave room for tick labels of nine characters beside the y label and for the key
     * "test relative error": at 0.10 and 0.77, "6e+250" cut the y label at the image's left
     * edge, "0.52348" pushed it off, and that key ran past the right edge. */
    fputs("set lmargin at screen 0.13\nset rmargin at screen 0.72\n"
          "set key at screen 0.74, graph 1 left top vertical Left reverse\n"
          "set xlabel 'epoch'\nset autoscale xfix\nset offsets 0.5, 0.5, graph 0.06, graph 0.06\n",
          f);
    if (r->nh < 20) fputs("set xtics 1\n", f);
    /* One epoch is an empty range to autoscale (gnuplot warns and pads it by 1%): centre it. */
    if (r->nh == 1 && isfinite(r->h[0][H_EPOCH]))
        fprintf(f, "set xrange [%.9g:%.9g]\n", r->h[0][H_EPOCH] - 1, r->h[0][H_EPOCH] + 1);
    for (size_t i = 0; steps && i < r->ne; i++)
        if (isfinite(r->ev[i][E_EPOCH]))
            fprintf(f, "set arrow from %.9g, graph 0 to %.9g, graph 1 nohead dt 2 lc rgb "
                       "'gray40' back\n", r->ev[i][E_EPOCH], r->ev[i][E_EPOCH]);
    const char *prune_key = steps ? ", NaN with lines dt 2 lc rgb 'gray40' title 'prune step'"
                                  : "";
    if (loss_panel) learning_loss_panel(f, r, d.path, have, style, prune_key);
    if (metric_panel) learning_metric_panel(f, r, d.path, have, style, prune_key);
    fputs("unset multiplot\n", f);
    return plot_gp_run(&g, c, err);
}

/* ---- prune_accuracy: test accuracy against sparsity ------------------------------------- */

static int prune_accuracy_dat(const plot_ctx *c, const plot_report *r, double dense,
                              const char *metric, plot_dat *d, occam_error *err)
{
    int rc = plot_dat_open(d, c, "prune_accuracy", err);
    if (rc) return rc;
    fprintf(d->f, "# %s: prune.events\n# dense model (epoch %.9g) %s:", r->path, r->ev[0][E_EPOCH],
            metric);
    plot_dat_num(d->f, dense);
    fprintf(d->f, "\n# step epoch sparsity %s\n", plot_report_metric(r));
    for (size_t i = 0; i < r->ne; i++) plot_dat_row(d->f, r->ev[i], E_TEST_METRIC + 1);
    return plot_dat_close(d, c, err);
}

static int plot_prune_accuracy(const plot_ctx *c, const plot_report *r, occam_error *err)
{
    /* The dense reference: the test metric at the epoch of the first prune, if it is in the
     * history (the last epoch before any weight was removed). */
    double dense = NAN, dense_epoch = r->ev[0][E_EPOCH];
    for (size_t i = 0; i < r->nh; i++)
        if (r->h[i][H_EPOCH] == dense_epoch) dense = r->h[i][H_TEST_METRIC];
    const char *metric = r->regress ? "test relative error" : "test accuracy";
    plot_dat d;
    int rc = prune_accuracy_dat(c, r, dense, metric, &d, err);
    if (rc) return rc;

    plot_gp g;
    if ((rc = plot_gp_open(&g, c, "prune_accuracy", err))) return rc;
    FILE *f = g.f;
    fprintf(f, "set title '%s after each prune step and its fine-tuning%s' font ',13'\n"
               "set xlabel 'sparsity (fraction of weights pruned)'\n"
               "set ylabel '%s'\nset xrange [-0.02:1.02]\nset xtics 0.1\n"
               "set autoscale yfix\nset offsets 0, 0, graph 0.1, graph 0.1\n"
               "set key outside right top vertical Left reverse\n"
               "set style textbox opaque noborder margins 1, 1\n",
            r->regress ? "Test relative error" : "Test accuracy",
            r->ne <= 20 ? " (labels: step)" : "",
            r->regress ? metric : "test accuracy (fraction correct)");
    /* Every step at one accuracy (1 after each prune of a separable task) is an empty range:
     * gnuplot warned on stderr and padded it by 1%. It is centred as the other panels' are. */
    double lo = dense, hi = dense;
    for (size_t i = 0; i < r->ne; i++)
        if (isfinite(r->ev[i][E_TEST_METRIC]))
            lo = fmin(lo, r->ev[i][E_TEST_METRIC]), hi = fmax(hi, r->ev[i][E_TEST_METRIC]);
    if (plot_gp_flat(lo, hi)) plot_gp_yrange(f, lo, hi, 0.0, r->regress ? INFINITY : 1.0);
    /* The reference line first, so the step labels' boxes are drawn over it. */
    fputs("plot ", f);
    if (isfinite(dense))
        fprintf(f, "%.9g with lines dt 2 lw 2 lc rgb 'gray40' title 'dense model (epoch %.9g)', ",
                dense, dense_epoch);
    plot_gp_data(f, d.path, " using 3:4 with linespoints pt 7 ps 1 lw 2 lc rgb '#d62728' "
                            "title '%s'", metric);
    if (r->ne <= 20) {
        fputs(", ", f);
        plot_gp_data(f, d.path, " using 3:4:(sprintf('%%d', $1)) with labels boxed offset 0,1.2 "
                                "tc rgb 'gray20' notitle");
    }
    fputc('\n', f);
    return plot_gp_run(&g, c, err);
}

/* ---- mdl_bits: description length against sparsity ------------------------------------- */

/* The dense model (at sparsity 0) and every event with bits; *sp gets the values' range. */
static int mdl_bits_dat(const plot_ctx *c, const plot_report *r, plot_dat *d, span *sp,
                        occam_error *err)
{
    int rc = plot_dat_open(d, c, "mdl_bits", err);
    if (rc) return rc;
    fprintf(d->f, "# %s: description length per prune step (sparsity 0: the dense model)\n"
                  "# sparsity model_bits data_bits total_bits step\n", r->path);
    span_add(sp, r->dense_bits);
    if (isfinite(r->dense_bits)) {
        fputs(" 0 NaN NaN", d->f);
        plot_dat_num(d->f, r->dense_bits);
        fputs(" 0\n", d->f);
    }
    for (size_t i = 0; i < r->ne; i++) {
        const double *e = r->ev[i];
        if (!isfinite(e[E_TOTAL_BITS])) continue;
        for (int k = E_MODEL_BITS; k <= E_TOTAL_BITS; k++) span_add(sp, e[k]);
        plot_dat_row(d->f, (double[]){e[E_SPARSITY], e[E_MODEL_BITS], e[E_DATA_BITS],
                                      e[E_TOTAL_BITS], e[E_STEP]}, 5);
    }
    return plot_dat_close(d, c, err);
}

/* A log axis with tics at 1, 2 and 5 per decade: a tight range then still has several. The
 * decades are counted by their exponent: stepping a power of ten (dec *= 10 while dec <= 1.5 *
 * hi) never ended when the bits reached 1.2e308 (1.5 * hi is infinite) or fell below 1e-323 (the
 * first decade underflows to 0). */
static void mdl_bits_log_axis(FILE *f, const span *sp)
{
    fputs("set logscale y\nset ytics (", f);
    bool first = true;
    for (int e = (int)floor(log10(sp->lo)); e <= (int)ceil(log10(sp->hi)); e++)
        for (int m = 0; m < 3; m++) {
            double v = pow(10, e) * (double[]){1, 2, 5}[m];
            if (!(v > 0) || !isfinite(v) || v < sp->lo / 1.5 || v > sp->hi * 1.5) continue;
            fprintf(f, "%s%.9g", first ? "" : ", ", v);
            first = false;
        }
    fputs(")\n", f);
}

/* The kept model (smallest total) the report names, as a point of the figure; NaN if none. */
static void mdl_bits_kept(const plot_report *r, double *x, double *y)
{
    *x = *y = NAN;
    if (r->best_event == 0) {
        *x = 0;
        *y = r->dense_bits;
    } else if (r->best_event > 0) {
        *x = r->ev[r->best_event - 1][E_SPARSITY];
        *y = r->ev[r->best_event - 1][E_TOTAL_BITS];
    }
}

static int plot_mdl_bits(const plot_ctx *c, const plot_report *r, occam_error *err)
{
    plot_dat d;
    span sp = {INFINITY, 0, false};
    int rc = mdl_bits_dat(c, r, &d, &sp, err);
    if (rc) return rc;

    plot_gp g;
    if ((rc = plot_gp_open(&g, c, "mdl_bits", err))) return rc;
    FILE *f = g.f;
    bool logy = span_wants_log(&sp, 20.0);
    if (logy) mdl_bits_log_axis(f, &sp);
    fprintf(f, "set title 'Description length: L = L(model) + L(data | model)' font ',13'\n"
               "set xlabel 'sparsity (fraction of weights pruned)'\n"
               "set ylabel '%s'\nset format y '%s'\nset xrange [-0.02:1.02]\nset xtics 0.1\n"
               "set offsets 0, 0, graph 0.05, graph 0.05\nset rmargin at screen 0.65\n"
               "set autoscale yfix\n"
               "set key at screen 0.67, graph 1 left top vertical Left reverse\n",
            logy ? "bits (log scale)" : "bits", plot_gp_bits_format(logy, sp.lo, sp.hi));
    fputs("plot ", f);
    plot_gp_data(f, d.path, " using 1:4 with linespoints pt 7 ps 1 lw 3 lc rgb 'black' "
                            "title 'total bits (model + data)', ");
    plot_gp_data(f, d.path, " using 1:2 with linespoints pt 5 ps 0.8 lw 2 lc rgb '#1f77b4' "
                            "title 'model bits', ");
    plot_gp_data(f, d.path, " using 1:3 with linespoints pt 9 ps 0.9 lw 2 lc rgb '#2ca02c' "
                            "title 'data bits'");
    if (isfinite(r->dense_bits))
        fprintf(f, ", '+' using (0):(%.9g) every ::0::0 with points pt 4 ps 2 lw 2 lc rgb 'black' "
                   "title 'dense model (total bits)'", r->dense_bits);
    double kx, ky;
    mdl_bits_kept(r, &kx, &ky);
    if (isfinite(kx) && isfinite(ky))
        fprintf(f, ", '+' using (%.9g):(%.9g) every ::0::0 with points pt 6 ps 3 lw 2 "
                   "lc rgb '#d62728' title 'kept model (smallest total)'", kx, ky);
    fputc('\n', f);
    return plot_gp_run(&g, c, err);
}

/* ---- the report's entry point ----------------------------------------------------------- */

int occam_plot_report(const char *report_path, occam_plot_params p, occam_error *err)
{
    plot_report r;
    int rc = occam_plot_check_name(report_path, "REPORT.json", err);
    if (rc == OCCAM_OK) rc = plot_report_load(&r, report_path, err);
    if (rc) return rc;
    if (r.select) {
        plot_report_free(&r);
        return plot_select(report_path, &p, err);
    }
    /* A report with none of the figures' members (another program's JSON, or an eval
     * report) drew nothing and exited 0: bad input, and no folder is made for it. */
    /* a history of epochs alone (no loss or metric) drew an empty learning.png, exit 0 */
    bool curves = false;
    for (int k = H_EPOCH + 1; k < H_COLS; k++)
        curves |= r.nh && any_finite(&r.h[0][k], r.nh, H_COLS);
    if (!curves && !r.ne && !r.has_bits && !(r.nhist && r.nl)) {
        plot_report_free(&r);
        return plot_input_err(err, report_path,
                              "nothing to plot: no history with a loss or metric, no "
                              "prune.events, per-step description lengths, or "
                              "weight_histogram with mdl.layers[].prior (a report "
                              "from 'occam train --report' or 'occam select --report' is "
                              "needed)");
    }
    if (p.check_only) {
        plot_report_free(&r);
        return OCCAM_OK;
    }
    plot_ctx c;
    rc = plot_ctx_open(&c, &p, err);
    if (rc == OCCAM_OK && curves) rc = plot_learning(&c, &r, err);
    if (rc == OCCAM_OK && !curves)
        fprintf(stderr, "occam: %s has no %s; learning.png skipped\n", cli_shown(report_path),
                r.nh ? "loss or metric in history" : "history");
    /* events without a test metric (a run without a test set) have no curve to draw, and
     * gnuplot failed the figure: exit 1, "all points y value undefined!" */
    bool have_metric = r.ne && any_finite(&r.ev[0][E_TEST_METRIC], r.ne, E_COLS);
    if (rc == OCCAM_OK && have_metric) rc = plot_prune_accuracy(&c, &r, err);
    if (rc == OCCAM_OK && r.ne && !have_metric)
        fprintf(stderr, "occam: %s has no %s in prune.events; prune_accuracy.png skipped\n",
                cli_shown(report_path), plot_report_metric(&r));
    if (rc == OCCAM_OK && r.has_bits) rc = plot_mdl_bits(&c, &r, err);
    if (rc == OCCAM_OK && !r.has_bits)
        fprintf(stderr, "occam: %s has no description lengths per prune step (prune.schedule = "
                "mdl, or prune.score_events = true); mdl_bits.png skipped\n",
                cli_shown(report_path));
    if (rc == OCCAM_OK) {
        if (r.nhist && r.nl)
            rc = plot_weights(&c, &r, err);
        else
            fprintf(stderr, "occam: %s has no %s; weights.png skipped\n", cli_shown(report_path),
                    r.nl ? "weight_histogram" : "mdl.layers[].prior");
    }
    plot_report_free(&r);
    return rc;
}
