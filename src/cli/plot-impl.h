/* plot-impl.h — what the plot files (src/cli/plot_*.c) share; cmd_plot.c uses plot.h only.
 *
 * Each figure goes through the same three stages. First its input is read into plain arrays
 * and checked, so every complaint about the input comes before any file is written
 * (plot_input.c, plot_report.c, and the readers in plot_masks.c and plot_scaling.c). Then the
 * numbers are written to NAME.dat, and last a gnuplot script that plots NAME.dat into NAME.png
 * is piped to gnuplot (plot_gnuplot.c). The drawing is in plot_figures.c (learning,
 * prune_accuracy, mdl_bits), plot_weights.c, plot_masks.c and plot_scaling.c. */
#ifndef OCCAM_PLOT_IMPL_H
#define OCCAM_PLOT_IMPL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "occam/error.h"
#include "occam/json.h"
#include "occam/outfile.h"
#include "occam/prior.h"
#include "plot.h"

/* ---- inputs (plot_input.c) ----------------------------------------------------------------- */

/* OCCAM_ERR_INPUT with the message "FILE: ...". */
int plot_input_err(occam_error *err, const char *file, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* OCCAM_ERR_RUNTIME "out of memory". */
int plot_oom(occam_error *err);
/* Whether gnuplot can draw v: zero, or 1e-300 to 1e300 in size. Beyond that its ranges overflow
 * or cannot be widened ("all points y value undefined", "y_min should not equal y_max"): exit
 * 1 with gnuplot's words, naming no field. PLOT_RANGE says so in a message. */
bool plot_drawable(double v);
#define PLOT_RANGE "is beyond what a figure can draw (zero, or 1e-300 to 1e300 in size)"

/* Reads a whole file (any size, pipes included) and NUL-terminates it; the caller frees. */
int plot_read_text(const char *path, char **text, size_t *len, occam_error *err);

/* The file parsed as JSON (occam_json_free it); a syntax error's message is prefixed with the
 * path. */
int plot_read_json(const char *path, occam_json_value *root, occam_error *err);

/* ---- outputs: folder, .dat files, gnuplot (plot_gnuplot.c) -------------------------------- */

typedef struct plot_ctx {
    const char *dir;
    const char *gnuplot;
    FILE *log;
    const char *const *inputs; /* occam_plot_params.inputs */
} plot_ctx;

/* Checks the gnuplot command and prepares the output folder: the steps shared by every entry
 * point once its input has been read. */
int plot_ctx_open(plot_ctx *c, const occam_plot_params *p, occam_error *err);

typedef struct plot_dat {
    FILE *f;
    char path[PATH_MAX];
    occam_outfile out; /* f is out.f: written to a temporary file, renamed at close */
} plot_dat;

/* Opens DIR/NAME.dat; plot_dat_close checks the writes, puts the file in place (or removes
 * what was written, on failure) and logs it. */
int plot_dat_open(plot_dat *d, const plot_ctx *c, const char *name, occam_error *err);
int plot_dat_close(plot_dat *d, const plot_ctx *c, occam_error *err);

/* One value, space-separated; gnuplot reads "NaN" as a missing point. */
void plot_dat_num(FILE *f, double v);

/* n values and the newline ending the row. */
void plot_dat_row(FILE *f, const double *v, int n);

/* A script being written to memory. plot_gp_run puts the terminal and the output, a temporary
 * file beside NAME.png, in front of it. */
typedef struct plot_gp {
    FILE *f;
    char *buf;
    size_t len;
    char png[PATH_MAX];
} plot_gp;

int plot_gp_open(plot_gp *g, const plot_ctx *c, const char *name, occam_error *err);

/* Sends the script to gnuplot and waits for it. The PNG must exist afterwards; it replaces
 * NAME.png only then, so a failed or short drawing leaves no partial PNG. */
int plot_gp_run(plot_gp *g, const plot_ctx *c, occam_error *err);

/* s as a single-quoted gnuplot string: ' doubled, and a control character, which would end
 * the string and start a command (a newline) or garble it, written as '?'. File names with
 * control characters never get here (occam_plot_check_name). */
void plot_gp_str(FILE *f, const char *s);

/* The data file's quoted path, then fmt: one plot element, e.g. " using 1:2 with lines". */
void plot_gp_data(FILE *f, const char *dat_path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Whether values spanning [lo, hi] are one value to a figure: equal, or within 1e-7 of their
 * size. gnuplot takes a range narrower than about 1e-8 of its values as empty (it warns on
 * stderr and pads it by 1%: a loss that moved by 4e-16 between epochs), and its tick labels
 * have 6 significant digits, which could not tell such values apart anyway. */
bool plot_gp_flat(double lo, double hi);

/* The y range of a panel whose finite values span [lo, hi] and can lie only in [least, most]
 * (0 and 1 for an accuracy, 0 and INFINITY for a loss or bits): autoscaled, or, when they are
 * flat (plot_gp_flat), centred on them, within [least, most] (every accuracy 1 had its axis run
 * to 1.05, every loss 0 from -1). Never for a log axis. */
void plot_gp_yrange(FILE *f, double lo, double hi, double least, double most);

/* The tick label format of a bits axis whose positive values span [lo, hi]: gnuplot's SI
 * prefixes with a whole mantissa ("5k", "200k", "1M") on a log axis from one bit to 10^15,
 * whose ticks are 1, 2 and 5 times a power of ten; '%g' otherwise. On a linear axis the
 * mantissa was rounded ("3k, 2k, 2k, 2k, 1k" for ticks 500 bits apart), below one bit the
 * prefixes are milli and micro ("500m", "1m" bits: millions to a reader beside "1k"), and
 * past 10^18 they run out ("50e+252"). */
const char *plot_gp_bits_format(bool logy, double lo, double hi);

/* "set multiplot layout ROWS,COLS" with a title in the figure-title font. */
void plot_gp_multiplot(FILE *f, int rows, int cols, const char *title);

/* ---- the run report (plot_report.c) --------------------------------------------------------- */

#define PLOT_MAX_LAYERS 64 /* layers with a prior a report may list */

/* Columns of a history row and of a prune event; NaN marks an absent value. */
enum { H_EPOCH, H_TRAIN_LOSS, H_TEST_LOSS, H_TRAIN_METRIC, H_TEST_METRIC, H_COLS };
enum { E_STEP, E_EPOCH, E_SPARSITY, E_TEST_METRIC, E_MODEL_BITS, E_DATA_BITS, E_TOTAL_BITS,
       E_COLS };

typedef struct plot_histogram {
    size_t n;       /* bins */
    double *edges;  /* n + 1, increasing */
    double *counts; /* n */
} plot_histogram;

typedef struct plot_prior_layer {
    int in, out;
    double k; /* active weights: the prior's share of a pooled histogram (NaN: unknown) */
    occam_prior prior; /* k = 0: none, a layer with no weight left to code */
} plot_prior_layer;

typedef struct plot_report {
    const char *path;
    bool select;       /* a report of `occam select`: nothing else is read (plot_select) */
    bool regress;
    size_t nh;
    double (*h)[H_COLS]; /* history rows */
    size_t ne;
    double (*ev)[E_COLS]; /* prune events */
    bool has_bits;
    double dense_bits; /* prune.dense_total_bits, NaN when absent */
    int best_event;    /* prune.best_event: 0 = dense, i = events[i-1]; -1 when absent */
    char code[16];            /* mdl.model_code ("two-part", "bits-back"); "" when absent */
    int nl;
    plot_prior_layer *layers; /* mdl.layers, when any has a prior */
    int nhist;                /* 0, 1 (pooled) or nl (one per layer) */
    bool hist_per_layer;
    plot_histogram *hist;
} plot_report;

/* Reads and checks a report written by `occam train --report`; on failure nothing is kept. A
 * report of `occam select` only sets r->select. */
int plot_report_load(plot_report *r, const char *path, occam_error *err);
void plot_report_free(plot_report *r);

/* The report's name for the test metric: "test_relative_error" or "test_accuracy". */
const char *plot_report_metric(const plot_report *r);

/* ---- the report of `occam select` (plot_select.c) ---------------------------------------- */

/* select.dat/.png: total, model and data bits against the grid point, and the train and test
 * metric below them, the shortest point marked. Reads and checks the report first. */
int plot_select(const char *path, const occam_plot_params *p, occam_error *err);

/* ---- the report's figures ----------------------------------------------------------------- */

/* weights.dat/.png: the histogram(s) with the fitted priors (plot_weights.c). */
int plot_weights(const plot_ctx *c, const plot_report *r, occam_error *err);

#endif
