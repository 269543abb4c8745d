/* The scaling figure (occam_plot_scaling) from perf/scaling.sh's CSV: speedup against threads,
 * one panel per study, one colour per model, the BLIS sgemm speedup dashed.
 *
 * The CSV has a header and text columns (study, model), which src/data/csv.c's numeric reader
 * does not take, so it is read here: lines split at commas (no quoting: the script writes
 * none), columns found by name in the header, the other columns ignored. */
#include "plot-impl.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CSV_MAX_FIELDS 64
/* perf/scaling.sh writes a few dozen rows over two studies. The grouping below is quadratic in
 * the rows, and a 64 MiB CSV of 3 million rows in one group, or of as many studies, never
 * finished (2*10^5 rows took 48 s, or longer than a minute as 2*10^5 models). */
#define SCALING_MAX_ROWS 4096
#define SCALING_MAX_STUDIES 16 /* panels */

typedef struct scale_row {
    char study[64], model[64];
    double threads, speedup, sgemm;
} scale_row;

enum { C_STUDY, C_MODEL, C_THREADS, C_SPEEDUP, C_SGEMM, C_N };

typedef struct scale_table {
    const char *path;
    int col[C_N]; /* field index of each wanted column */
    int ncols;    /* fields in the header; 0 before it */
    scale_row *rows;
    size_t n, cap;
} scale_table;

/* ---- reading the CSV --------------------------------------------------------------------- */

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
    if (!plot_drawable(v))
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s:%d: %s '%s' " PLOT_RANGE, path, line,
                               col, s);
    *out = v;
    return OCCAM_OK;
}

static int scaling_header(scale_table *t, char **field, int nf, int lineno, occam_error *err)
{
    static const char *want[C_N] = {"study", "model", "threads", "speedup", "sgemm_speedup"};
    t->ncols = nf;
    for (int k = 0; k < C_N; k++) {
        t->col[k] = -1;
        for (int i = 0; i < nf; i++)
            if (!strcmp(field[i], want[k])) t->col[k] = i;
        if (t->col[k] < 0)
            return occam_error_set(err, OCCAM_ERR_INPUT, "%s:%d: no '%s' column in the header",
                                   t->path, lineno, want[k]);
    }
    return OCCAM_OK;
}

static int scaling_row(scale_table *t, char **field, int nf, int lineno, occam_error *err)
{
    if (nf != t->ncols)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s:%d: %d fields, the header has %d",
                               t->path, lineno, nf, t->ncols);
    if (t->n == SCALING_MAX_ROWS)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s:%d: more than %d data rows (a scaling "
                               "study has a few dozen)", t->path, lineno, SCALING_MAX_ROWS);
    if (t->n == t->cap) {
        scale_row *nr = realloc(t->rows, (t->cap *= 2) * sizeof *t->rows);
        if (!nr) return plot_oom(err);
        t->rows = nr;
    }
    scale_row *r = &t->rows[t->n];
    const char *study = field[t->col[C_STUDY]], *model = field[t->col[C_MODEL]];
    if (strlen(study) >= sizeof r->study || strlen(model) >= sizeof r->model)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s:%d: study or model name too long",
                               t->path, lineno);
    /* a title and a .dat comment line: a control byte (a tab, an escape, a lone CR) would
     * garble both, or end the comment line early */
    for (int k = 0; k < 2; k++)
        for (const unsigned char *p = (const unsigned char *)(k ? model : study); *p; p++)
            if (*p < 0x20 || *p == 0x7f)
                return occam_error_set(err, OCCAM_ERR_INPUT, "%s:%d: the %s name has a control "
                                       "byte (0x%02x)", t->path, lineno, k ? "model" : "study",
                                       *p);
    strcpy(r->study, study);
    strcpy(r->model, model);
    int rc;
    if ((rc = csv_num(t->path, lineno, "threads", field[t->col[C_THREADS]], false, &r->threads,
                      err)) ||
        (rc = csv_num(t->path, lineno, "speedup", field[t->col[C_SPEEDUP]], false, &r->speedup,
                      err)) ||
        (rc = csv_num(t->path, lineno, "sgemm_speedup", field[t->col[C_SGEMM]], true, &r->sgemm,
                      err)))
        return rc;
    if (!(r->threads >= 1))
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s:%d: threads must be at least 1", t->path,
                               lineno);
    t->n++;
    return OCCAM_OK;
}

/* One line, its end already cut: the header if none was seen yet, else a row. */
static int scaling_line(scale_table *t, char *s, int lineno, occam_error *err)
{
    size_t l = strlen(s);
    if (l && s[l - 1] == '\r') s[--l] = 0;
    if (!l) return OCCAM_OK;
    char *field[CSV_MAX_FIELDS];
    int nf = csv_split(s, field, CSV_MAX_FIELDS);
    if (nf > CSV_MAX_FIELDS)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s:%d: more than %d columns", t->path,
                               lineno, CSV_MAX_FIELDS);
    return t->ncols ? scaling_row(t, field, nf, lineno, err)
                    : scaling_header(t, field, nf, lineno, err);
}

static int scaling_load(scale_table *t, const char *path, occam_error *err)
{
    memset(t, 0, sizeof *t);
    t->path = path;
    char *text;
    size_t len;
    int rc = plot_read_text(path, &text, &len, err);
    if (rc) return rc;
    t->cap = 16;
    t->rows = malloc(t->cap * sizeof *t->rows);
    if (!t->rows) rc = plot_oom(err);
    int lineno = 0;
    for (char *s = text, *next; rc == OCCAM_OK && s && *s; s = next) {
        next = strchr(s, '\n');
        if (next) *next++ = 0;
        rc = scaling_line(t, s, ++lineno, err);
    }
    free(text);
    if (rc == OCCAM_OK && !t->ncols)
        rc = plot_input_err(err, path, "empty file (expected a CSV header)");
    if (rc == OCCAM_OK && !t->n) rc = plot_input_err(err, path, "no data rows");
    if (rc) free(t->rows);
    return rc;
}

/* ---- grouping ---------------------------------------------------------------------------- */

/* Groups (study, model) in order of first appearance, each with its rows sorted by threads; a
 * study is a panel and a model a colour, both numbered in order of first appearance. */
typedef struct scale_groups {
    size_t n;              /* groups */
    size_t nstudies;
    size_t *ord;           /* row indices, group after group */
    size_t *start;         /* n + 1: group g is ord[start[g] .. start[g + 1]) */
    size_t *study, *model; /* per group */
} scale_groups;

static void groups_free(scale_groups *g)
{
    free(g->ord);
    free(g->start);
    free(g->study);
    free(g->model);
}

static bool same_group(const scale_row *a, const scale_row *b)
{
    return !strcmp(a->study, b->study) && !strcmp(a->model, b->model);
}

/* Appends the rows of row i's group to ord from *k on, sorted by threads. A stable insertion
 * sort: the files are a few dozen rows. */
static void group_collect(scale_groups *g, const scale_table *t, size_t i, size_t *k)
{
    size_t first = *k;
    for (size_t j = i; j < t->n; j++) {
        if (!same_group(&t->rows[j], &t->rows[i])) continue;
        size_t at = (*k)++;
        while (at > first && t->rows[g->ord[at - 1]].threads > t->rows[j].threads) {
            g->ord[at] = g->ord[at - 1];
            at--;
        }
        g->ord[at] = j;
    }
}

static int scaling_group(scale_groups *g, const scale_table *t, occam_error *err)
{
    const scale_row *rows = t->rows;
    size_t n = t->n, nm = 0;
    memset(g, 0, sizeof *g);
    g->ord = malloc(n * sizeof *g->ord);
    g->start = malloc((n + 1) * sizeof *g->start);
    g->study = malloc(n * sizeof *g->study);
    g->model = malloc(n * sizeof *g->model);
    if (!g->ord || !g->start || !g->study || !g->model) return plot_oom(err);
    for (size_t i = 0, k = 0; i < n; i++) {
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++) seen = same_group(&rows[j], &rows[i]);
        if (seen) continue;
        g->start[g->n] = k;
        group_collect(g, t, i, &k);
        size_t s = g->nstudies, mo = nm;
        for (size_t h = 0; h < g->n; h++) {
            if (!strcmp(rows[g->ord[g->start[h]]].study, rows[i].study)) s = g->study[h];
            if (!strcmp(rows[g->ord[g->start[h]]].model, rows[i].model)) mo = g->model[h];
        }
        if (s == g->nstudies && ++g->nstudies > SCALING_MAX_STUDIES)
            return occam_error_set(err, OCCAM_ERR_INPUT, "%s: more than %d studies (one panel "
                                   "each)", t->path, SCALING_MAX_STUDIES);
        if (mo == nm) nm++;
        g->study[g->n] = s;
        g->model[g->n++] = mo;
        g->start[g->n] = k;
    }
    return OCCAM_OK;
}

/* ---- the figure -------------------------------------------------------------------------- */

/* One block per group; *tmax and *ymax get the largest thread count and speedup. */
static int scaling_dat(const plot_ctx *c, const scale_table *t, const scale_groups *g,
                       plot_dat *d, double *tmax, double *ymax, occam_error *err)
{
    int rc = plot_dat_open(d, c, "scaling", err);
    if (rc) return rc;
    fprintf(d->f, "# %s: speedup over 1 thread; blocks (gnuplot index) per study and model\n",
            t->path);
    for (size_t gi = 0; gi < g->n; gi++) {
        const scale_row *h = &t->rows[g->ord[g->start[gi]]];
        fprintf(d->f, "%s# %s %s\n# threads speedup sgemm_speedup\n", gi ? "\n\n" : "",
                h->study, h->model);
        for (size_t k = g->start[gi]; k < g->start[gi + 1]; k++) {
            const scale_row *r = &t->rows[g->ord[k]];
            plot_dat_row(d->f, (double[]){r->threads, r->speedup, r->sgemm}, 3);
            if (r->threads > *tmax) *tmax = r->threads;
            if (r->speedup > *ymax) *ymax = r->speedup;
            if (isfinite(r->sgemm) && r->sgemm > *ymax) *ymax = r->sgemm;
        }
    }
    return plot_dat_close(d, c, err);
}

/* Group gi's curves: its speedup, and its sgemm speedup dashed when the CSV has one. */
static void scaling_curves(FILE *f, const char *dat, const scale_table *t, const scale_groups *g,
                           size_t gi)
{
    static const char *colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
                                   "#8c564b"};
    const char *model = t->rows[g->ord[g->start[gi]]].model;
    const char *col = colors[g->model[gi] % (sizeof colors / sizeof colors[0])];
    bool any_sgemm = false;
    for (size_t k = g->start[gi]; k < g->start[gi + 1]; k++)
        any_sgemm |= isfinite(t->rows[g->ord[k]].sgemm);
    fputs(", ", f);
    plot_gp_data(f, dat, " index %zu using 1:2 with linespoints pt 7 lw 2 lc rgb '%s' title ",
                 gi, col);
    plot_gp_str(f, model);
    if (any_sgemm) {
        char title[96];
        snprintf(title, sizeof title, "%s sgemm", model);
        fputs(", ", f);
        plot_gp_data(f, dat, " index %zu using 1:3 with lines dt 2 lw 2 lc rgb '%s' title ", gi,
                     col);
        plot_gp_str(f, title);
    }
}

/* Study s's panel: the ideal line, then the curves of its groups. */
static void scaling_panel(FILE *f, const char *dat, const scale_table *t, const scale_groups *g,
                          size_t s)
{
    bool first = true;
    for (size_t gi = 0; gi < g->n; gi++) {
        if (g->study[gi] != s) continue;
        if (first) {
            char title[128];
            snprintf(title, sizeof title, "%s scaling", t->rows[g->ord[g->start[gi]]].study);
            fputs("set title ", f);
            plot_gp_str(f, title);
            fputs("\nplot x with lines lc rgb 'gray60' title 'ideal (linear)'", f);
            first = false;
        }
        scaling_curves(f, dat, t, g, gi);
    }
    fputc('\n', f);
}

static int scaling_draw(const plot_ctx *c, const scale_table *t, const scale_groups *g,
                        occam_error *err)
{
    plot_dat d;
    double tmax = 1, ymax = 1; /* one y range for every panel, so they compare at a glance */
    int rc = scaling_dat(c, t, g, &d, &tmax, &ymax, err);
    if (rc) return rc;
    plot_gp gp;
    if ((rc = plot_gp_open(&gp, c, "scaling", err))) return rc;
    FILE *f = gp.f;
    size_t ns = g->nstudies;
    const char *base = strrchr(t->path, '/');
    char title[PATH_MAX + 64];
    snprintf(title, sizeof title, "Speedup over 1 thread (%s; dashed: BLIS sgemm)",
             base ? base + 1 : t->path);
    plot_gp_multiplot(f, ns <= 3 ? 1 : 2, ns <= 3 ? (int)ns : (int)(ns + 1) / 2, title);
    fprintf(f, "set xlabel 'threads'\nset ylabel 'speedup (× 1 thread)'\n"
               "set xrange [1:%.9g]\nset yrange [0:%.9g]\nset key top left\n",
            tmax > 1 ? tmax : 2, /* one thread count only: [1:1] is an empty range */
            1.1 * (ymax > tmax ? ymax : tmax));
    if (tmax <= 16) fputs("set xtics 1\n", f);
    for (size_t s = 0; s < ns; s++) scaling_panel(f, d.path, t, g, s);
    fputs("unset multiplot\n", f);
    return plot_gp_run(&gp, c, err);
}

int occam_plot_scaling(const char *csv_path, occam_plot_params p, occam_error *err)
{
    scale_table t;
    int rc = occam_plot_check_name(csv_path, "--scaling", err);
    if (rc == OCCAM_OK) rc = scaling_load(&t, csv_path, err);
    if (rc) return rc;
    scale_groups g;
    rc = scaling_group(&g, &t, err);
    plot_ctx c;
    bool draw = rc == OCCAM_OK && !p.check_only;
    if (draw) rc = plot_ctx_open(&c, &p, err);
    if (draw && rc == OCCAM_OK) rc = scaling_draw(&c, &t, &g, err);
    groups_free(&g);
    free(t.rows);
    return rc;
}
