/* plot.h — figures from a run report, a checkpoint or a scaling CSV, drawn by gnuplot.
 *
 * Every figure is two files in the output folder: NAME.dat, the numbers plotted (whitespace
 * separated, a '#' header naming the columns, "NaN" for a missing value), and NAME.png, drawn
 * by piping a script to gnuplot with `set terminal pngcairo size 900,600`. The .dat file is
 * the record: a reader can re-plot it with any tool, and the tests check its rows.
 *
 * Figures from a report written by `occam train --report`:
 * - learning:       loss and accuracy (or relative error) per epoch, prune steps as vertical
 *                   lines (up to 1000 of them); drawn when history[] is not empty;
 * - prune_accuracy: test accuracy against sparsity after each prune step; when prune.events[];
 * - mdl_bits:       model, data and total bits against sparsity (the dense model at 0); when the
 *                   events carry bits (prune.schedule = mdl);
 * - weights:        the weight histogram with each layer's fitted prior drawn over it; when the
 *                   report has mdl.layers[].prior and weight_histogram (otherwise a one-line
 *                   notice on stderr). weight_histogram is {"edges": [n+1], "counts": [n]} for
 *                   all layers pooled, or an array of such objects, one per layer (one panel
 *                   each).
 * From a report written by `occam select --report` (its command is "select"):
 * - select:         total, model and data bits against the grid point (x: the point's index,
 *                   tick labels its values), the train and test metric in a second panel, the
 *                   shortest point circled; a point without bits is a gap, its tick label
 *                   headed by its status ("failed: 100").
 * From a checkpoint (safetensors, `--save`): mask_L for each layer L, the mask downsampled to
 * at most 300 x 300 cells, each the fraction of kept weights in its block. The mask is the U8
 * tensor layers.L.weight_mask, or |w| != 0 when the file has none. Given with a report, the
 * checkpoint must have the report's layer widths (occam_plot_check_pair).
 * From a scaling CSV (perf/scaling.sh): scaling, speedup against threads per study and model,
 * with the BLIS sgemm speedup dashed.
 *
 * Inputs are read and checked before anything is drawn, so a bad input writes no files. Every
 * file goes through occam/outfile.h: a failed .dat or PNG leaves nothing behind. An output
 * folder whose name holds a control character is refused (OCCAM_ERR_INPUT).
 * Errors: an unreadable or malformed input is OCCAM_ERR_INPUT with a message naming the file
 * (and the JSON member, CSV line or tensor). A folder that cannot be created or written, a
 * missing gnuplot, or gnuplot failing is OCCAM_ERR_RUNTIME. gnuplot's own messages go to
 * stderr. While the script is written to the pipe SIGPIPE is ignored (and then restored), so
 * a gnuplot that dies early is reported, not fatal. */
#ifndef OCCAM_PLOT_H
#define OCCAM_PLOT_H

#include <stdbool.h>
#include <stdio.h>

#include "occam/error.h"

#define OCCAM_PLOT_MASK_CELLS 300 /* mask images are at most this many cells on a side */

typedef struct occam_plot_params {
    const char *out_dir; /* created (with its parents) if missing */
    const char *gnuplot; /* shell command that reads a script on stdin; NULL = "gnuplot" */
    FILE *log;           /* one line per file written; NULL = silent */
    const char *inputs[3]; /* the run's input files (NULL: none), never written over: an
                              output that is one of them is refused, OCCAM_ERR_INPUT */
    bool check_only;       /* read and check the input as for drawing, then return: no
                              folder is made and nothing is written */
} occam_plot_params;

/* Draws the report figures listed above into p.out_dir. */
int occam_plot_report(const char *report_path, occam_plot_params p, occam_error *err);

/* Draws mask_L.dat/.png for every layer of a safetensors checkpoint. */
int occam_plot_masks(const char *checkpoint_path, occam_plot_params p, occam_error *err);

/* Whether a checkpoint plotted beside a report is of the report's model: OCCAM_ERR_INPUT,
 * naming both files and the first weight layer that differs, when its layers.L.weight shapes
 * are not those of the report's layers[] (each one's in and out). A report without layers[] (a
 * report of occam select: its points may differ in model.layers) cannot be checked: a note on
 * stderr says so, and OCCAM_OK. Reads both files; cmd_plot calls it before drawing either. */
int occam_plot_check_pair(const char *report_path, const char *checkpoint_path,
                          occam_error *err);

/* Draws scaling.dat/.png from a CSV with a header row holding at least the columns study,
 * model, threads, speedup and sgemm_speedup (any order; others are ignored), and at most 4096
 * data rows over at most 16 studies. */
int occam_plot_scaling(const char *csv_path, occam_plot_params p, occam_error *err);

/* OCCAM_ERR_INPUT "WHAT NAME: ..." if name holds a control character (a byte below 0x20, or
 * 0x7f): gnuplot reads the file names it is given as part of its script, where a newline would
 * start a command of the name's choosing, and an input's name heads each .dat file in a comment,
 * which a newline would end, the rest of the name read as data. Each entry point checks its
 * input's name so. */
int occam_plot_check_name(const char *name, const char *what, occam_error *err);

/* True if cmd (NULL = "gnuplot") names an executable: a path containing '/', or a name found
 * on $PATH. */
bool occam_plot_have_gnuplot(const char *cmd);

#endif
