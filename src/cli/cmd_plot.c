/* `occam plot`: figures (PNG, through gnuplot) and their data from a run report, a checkpoint
 * or a scaling CSV. The drawing lives in src/cli/plot_*.c (see plot-impl.h); this file only
 * parses the command line. Its options differ from the computing subcommands' (no CONFIG), so
 * it has its own getopt_long table instead of cli_parse. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>

#include "cli.h"
#include "occam/comm.h"
#include "occam/outfile.h"
#include "plot.h"

static const char usage[] =
    "usage: occam plot [REPORT.json] [--checkpoint FILE] [--scaling CSV] --out DIR\n"
    "\n"
    "Writes NAME.dat (the numbers) and NAME.png (900x600, drawn by gnuplot) into DIR, which is\n"
    "created if missing, and prints one line per file written.\n"
    "  REPORT.json        a report from 'occam train --report':\n"
    "                       learning        loss and accuracy per epoch, prune steps marked\n"
    "                       prune_accuracy  test accuracy against sparsity (if it pruned)\n"
    "                       mdl_bits        model, data and total bits against sparsity\n"
    "                                       (prune.schedule = mdl, or\n"
    "                                       prune.score_events = true)\n"
    "                       weights         weight histogram and fitted priors (if the report\n"
    "                                       has weight_histogram)\n"
    "                     or a report from 'occam select --report':\n"
    "                       select          total, model and data bits per grid point, with\n"
    "                                       the train and test metric, the shortest circled\n"
    "  --checkpoint FILE  a model saved with --save: mask_L, layer L's mask as an image;\n"
    "                     with a report, it must have the report's layer widths\n"
    "  --scaling CSV      perf/scaling.sh's CSV: scaling, speedup against threads\n"
    "At least one input is needed. gnuplot (Debian: gnuplot-nox) must be on PATH.\n";

/* Whether path can be read twice, once to check it and once to draw it: a regular file, or a
 * name that does not open (which the check then reports). */
static bool rereadable(const char *path)
{
    struct stat st;
    return stat(path, &st) != 0 || S_ISREG(st.st_mode);
}

static int run(int argc, char **argv, occam_error *err)
{
    static const struct option longopts[] = {
        {"out", required_argument, NULL, 'o'},
        {"checkpoint", required_argument, NULL, 'c'},
        {"scaling", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *report = NULL, *checkpoint = NULL, *scaling = NULL, *out = NULL;
    optind = 0; /* GNU: full re-initialisation */
    opterr = 0;
    int c, idx = 0;
    const char *given[128] = {0};
    while ((c = getopt_long(argc, argv, "h", longopts, &idx)) != -1) {
        if (cli_option_once(given, c, "plot", longopts[idx].name, err)) return OCCAM_ERR_INPUT;
        switch (c) {
        case 'o': out = optarg; break;
        case 'c': checkpoint = optarg; break;
        case 's': scaling = optarg; break;
        case 'h': fputs(usage, stdout); return OCCAM_OK;
        default:
            return occam_error_set(err, OCCAM_ERR_INPUT, "plot: unknown option or missing value: "
                                   "%s (see 'occam plot --help')", argv[optind - 1]);
        }
    }
    if (optind < argc) report = argv[optind++];
    if (optind < argc)
        return occam_error_set(err, OCCAM_ERR_INPUT, "plot: unexpected argument '%s'",
                               argv[optind]);
    if (!report && !checkpoint && !scaling)
        return occam_error_set(err, OCCAM_ERR_INPUT, "plot: nothing to plot: give REPORT.json, "
                               "--checkpoint FILE or --scaling CSV (see 'occam plot --help')");
    if (!out) return occam_error_set(err, OCCAM_ERR_INPUT, "plot: missing --out DIR");
    /* The output folder, before any input is read: a name gnuplot cannot take, or a folder
     * that cannot be made, is bad usage. */
    int rc = occam_plot_check_name(out, "--out", err);
    if (rc == OCCAM_OK) rc = occam_outfile_check_dir(out, "--out", err);
    if (rc) return rc;
    occam_plot_params p = {.out_dir = out, .gnuplot = NULL, .log = stdout,
                           .inputs = {report, checkpoint, scaling}};
    /* the pair is checked from the report, which is then read again to draw it: a pipe has
     * nothing left the second time (a FIFO waited for a writer for ever) */
    if (rc == OCCAM_OK && report && checkpoint && !rereadable(report))
        rc = occam_error_set(err, OCCAM_ERR_INPUT, "plot: %s is not a regular file, and with "
                             "--checkpoint the report is read twice (to check the pair, then to "
                             "draw it): write it to a file first", cli_shown(report));
    /* a checkpoint of another model beside the report's figures would be drawn as if it were
     * the report's: refused before anything is drawn */
    if (rc == OCCAM_OK && report && checkpoint)
        rc = occam_plot_check_pair(report, checkpoint, err);
    /* The inputs drawn after the first are read and checked before it is drawn: a missing or
     * bad --scaling CSV, or an .occ as --checkpoint, after a good report wrote the report's
     * figures and then exited 2. A scaling CSV that is not a regular file (a pipe) cannot be
     * read twice, and is checked as it is drawn; a checkpoint must be a regular file. */
    p.check_only = true;
    if (rc == OCCAM_OK && checkpoint && report) rc = occam_plot_masks(checkpoint, p, err);
    if (rc == OCCAM_OK && scaling && (report || checkpoint) && rereadable(scaling))
        rc = occam_plot_scaling(scaling, p, err);
    p.check_only = false;
    if (rc == OCCAM_OK && report) rc = occam_plot_report(report, p, err);
    if (rc == OCCAM_OK && checkpoint) rc = occam_plot_masks(checkpoint, p, err);
    if (rc == OCCAM_OK && scaling) rc = occam_plot_scaling(scaling, p, err);
    return rc;
}

/* Under mpirun rank 0 alone plots, as it alone writes every other output: every rank drew the
 * same figures into its own --out, and every rank said the same error (a missing report was
 * said twice under -np 2, once as rank 1's). The others wait for its status. */
int cmd_plot(int argc, char **argv)
{
    /* rank 0 alone reads the arguments and plots: the others' must be the same, but for the
     * folder of --out (rank 1 alone given --bogus or other inputs ran, exit 0) */
    static const char *const out[] = {"--out", NULL};
    char action[CLI_ACTION_MAX];
    cli_action_args(action, sizeof action, argc, argv, out);
    int same = cli_same_action(action);
    if (same) return same;
    occam_error err = {0};
    int rc = occam_comm_is_root(occam_comm_world()) ? run(argc, argv, &err) : OCCAM_OK;
    return cli_end(rc, &err);
}
