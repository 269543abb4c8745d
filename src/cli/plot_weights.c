/* The weights figure: each weight histogram of a report with the fitted prior drawn over it, as
 * the expected count per bin (the prior's mass in the bin times the histogram's total) and as
 * a smooth curve. A pooled histogram is compared with the layers' priors mixed in proportion to
 * their active weights; a per-layer histogram with its layer's prior. */
#include "plot-impl.h"

#include <math.h>

#define CURVE_SAMPLES 8 /* per bin, so the drawn prior is smooth even over wide bins */

/* The prior a histogram is compared with: layers [first, last)'s priors, each weighted by its
 * active weights (equally when the report lacks k); a layer without a prior (no weight left)
 * has none to add. n is 0 when no layer has one. */
typedef struct prior_mix {
    const plot_prior_layer *layer;
    int n;
    double w[PLOT_MAX_LAYERS];
} prior_mix;

static void prior_mix_init(prior_mix *m, const plot_report *r, int first, int last)
{
    m->layer = r->layers + first;
    m->n = last - first;
    double sum = 0;
    for (int l = 0; l < m->n; l++) {
        double k = m->layer[l].k;
        m->w[l] = m->layer[l].prior.k == 0 ? 0.0 : isfinite(k) && k > 0 ? k : 1.0;
        sum += m->w[l];
    }
    if (sum == 0) m->n = 0;
    for (int l = 0; l < m->n; l++) m->w[l] /= sum;
}

static double prior_mix_mass(const prior_mix *m, double lo, double hi)
{
    double e = 0;
    for (int l = 0; l < m->n; l++)
        if (m->w[l] > 0)
            e += m->w[l] * (occam_prior_cdf(&m->layer[l].prior, hi) -
                            occam_prior_cdf(&m->layer[l].prior, lo));
    return m->n ? e : NAN;
}

static double prior_mix_pdf(const prior_mix *m, double x)
{
    double e = 0;
    for (int l = 0; l < m->n; l++)
        if (m->w[l] > 0) e += m->w[l] * occam_prior_pdf(&m->layer[l].prior, x);
    return m->n ? e : NAN;
}

/* Histogram s's two blocks: its bins with the prior's expected counts, then the prior curve.
 * Returns the tallest of its bins and of their expected counts (the panel's y range). */
static double weights_blocks(FILE *f, const plot_report *r, int s)
{
    const plot_histogram *h = &r->hist[s];
    prior_mix mix;
    prior_mix_init(&mix, r, r->hist_per_layer ? s : 0, r->hist_per_layer ? s + 1 : r->nl);
    double total = 0, top = 0;
    for (size_t i = 0; i < h->n; i++) total += h->counts[i];
    char what[32];
    if (r->hist_per_layer)
        snprintf(what, sizeof what, "layer %d", s);
    else
        snprintf(what, sizeof what, "all layers");
    fprintf(f, "%s# %s: bins\n# lo hi centre count prior_expected\n", s ? "\n\n" : "", what);
    for (size_t i = 0; i < h->n; i++) {
        double lo = h->edges[i], hi = h->edges[i + 1], e = total * prior_mix_mass(&mix, lo, hi);
        plot_dat_row(f, (double[]){lo, hi, 0.5 * (lo + hi), h->counts[i], e}, 5);
        top = fmax(top, fmax(h->counts[i], isfinite(e) ? e : 0)); /* NaN: no prior */
    }
    fprintf(f, "\n\n# %s: prior curve\n# x prior_density_times_total_times_bin_width\n", what);
    for (size_t i = 0; i < h->n; i++) {
        double lo = h->edges[i], wd = h->edges[i + 1] - lo;
        for (int j = 0; j <= CURVE_SAMPLES; j++) {
            if (j == CURVE_SAMPLES && i + 1 < h->n) break; /* next bin's first sample */
            double x = lo + wd * j / CURVE_SAMPLES;
            plot_dat_row(f, (double[]){x, total * wd * prior_mix_pdf(&mix, x)}, 2);
        }
    }
    return top;
}

/* weights.dat; each histogram's tallest bin or expected count into top[s]. */
static int weights_dat(const plot_ctx *c, const plot_report *r, plot_dat *d, double *top,
                       occam_error *err)
{
    int rc = plot_dat_open(d, c, "weights", err);
    if (rc) return rc;
    fprintf(d->f, "# %s: weight histograms and the fitted priors\n"
                  "# per histogram two blocks (gnuplot index 2s and 2s+1): the bins with the\n"
                  "# prior's expected count (its mass in the bin times the histogram total), then\n"
                  "# the prior's density sampled %d times per bin, scaled the same way\n",
            r->path, CURVE_SAMPLES);
    for (int s = 0; s < r->nhist; s++) top[s] = weights_blocks(d->f, r, s);
    return plot_dat_close(d, c, err);
}

int plot_weights(const plot_ctx *c, const plot_report *r, occam_error *err)
{
    plot_dat d;
    double top[PLOT_MAX_LAYERS];
    int rc = weights_dat(c, r, &d, top, err);
    if (rc) return rc;

    plot_gp g;
    if ((rc = plot_gp_open(&g, c, "weights", err))) return rc;
    FILE *f = g.f;
    int n = r->nhist, cols = n <= 2 ? n : (n + 1) / 2, rows = n <= 2 ? 1 : 2;
    char title[96];
    snprintf(title, sizeof title, "Weights and the fitted priors%s%s%s",
             *r->code ? " of the " : "", r->code, *r->code ? " code" : "");
    plot_gp_multiplot(f, rows, cols, title);
    fprintf(f, "set xlabel 'weight value'\nset ylabel 'weights per bin'\n"
               "set style fill solid 0.5 noborder\nset key top right Left reverse%s\n",
            n > 1 ? " font ',9' spacing 0.9 width -4" : "");
    for (int s = 0; s < n; s++) {
        /* A layer with no weight left has no prior and an empty histogram: its panel says so,
         * with a y range of its own (all zeros is an empty range) and no prior curve. */
        bool prior = true;
        if (r->hist_per_layer) {
            const plot_prior_layer *y = &r->layers[s];
            prior = y->prior.k > 0;
            if (prior)
                fprintf(f, "set title 'layer %d: %d → %d, %d-component prior'\n", s, y->in,
                        y->out, y->prior.k);
            else
                fprintf(f, "set title 'layer %d: %d → %d, no weight left (no prior)'\n", s,
                        y->in, y->out);
        } else {
            fprintf(f, "set title 'all %d layers pooled (prior: the layer priors weighted by "
                       "their active weights)'\n", r->nl);
        }
        /* The y range ends above the tallest bin or bin's expected count: the smooth curve is
         * the density times the bin width, and a prior component narrower than a bin rose far
         * above any count a bin can expect (9,100 over one weight left of a 99.9%-pruned
         * layer), flattening the histogram under it. Past the range it is clipped. Headroom
         * above the tallest for the key, which is opaque: in the half-height panels of two
         * rows its two lines are a fifth of the panel, and 12% left the peak of
         * configs/default.ini's first layer under it. */
        if (top[s] > 0)
            fprintf(f, "set yrange [0:%.17g]\n", top[s] * (rows > 1 ? 1.35 : 1.12));
        else
            fputs("set yrange [0:1]\n", f);
        fputs("plot ", f);
        plot_gp_data(f, d.path, " index %d using 3:4:($2-$1) with boxes lc rgb '#7fa7d0' "
                                "title 'weights'", 2 * s);
        if (prior) {
            fputs(", ", f);
            plot_gp_data(f, d.path, " index %d using 1:2 with lines lw 2 lc rgb '#d62728' "
                                    "title 'fitted prior (expected count)'", 2 * s + 1);
        }
        fputc('\n', f);
    }
    fputs("unset multiplot\n", f);
    return plot_gp_run(&g, c, err);
}
