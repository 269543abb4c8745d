/* Tests for the plots (src/cli/plot_*.c, src/cli/cmd_plot.c).
 *
 * Each test writes its fixtures (a report JSON, a safetensors checkpoint or a scaling CSV) into
 * a fresh temporary folder and draws into a subfolder of it. Every figure is checked twice: the
 * PNG must be a real PNG of 900 x 600 (signature and IHDR), and the .dat must hold the expected
 * number of rows per block with the expected values, computed here independently (prior
 * masses by erf, mask block averages by hand). Which files exist is checked too: a report
 * without prune events gives only learning.*. Error tests cover malformed input
 * (OCCAM_ERR_INPUT naming the file), a missing or failing gnuplot and an unusable output
 * folder (OCCAM_ERR_RUNTIME). Tests that draw need gnuplot on PATH and skip without it. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "../src/cli/plot.h"
#include "occam/outfile.h"
#include "occam/safetensors.h"
#include "kept.h"
#include "shell.h"

/* ---- helpers ----------------------------------------------------------------------------- */

static char tmpdir[64];

static void make_tmpdir(void)
{
    strcpy(tmpdir, "/tmp/occam_plot_XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

static void remove_tmpdir(void) { nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

TestSuite(plot, .init = make_tmpdir, .fini = remove_tmpdir);

static char *in_tmp(const char *name)
{
    static char buf[8][512];
    static int next;
    char *p = buf[next++ % 8];
    snprintf(p, 512, "%s/%s", tmpdir, name);
    return p;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "cannot write %s", path);
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
}

static void need_gnuplot(void)
{
    if (!occam_plot_have_gnuplot(NULL)) {
        remove_tmpdir(); /* a skipped test's .fini does not run */
        cr_skip_test("gnuplot is not on PATH (Debian: gnuplot-nox)");
    }
}

/* Draws into tmpdir/out, logging to a memory stream that *log receives (caller frees). */
static occam_plot_params params(FILE **logf, char **log, size_t *len)
{
    *logf = open_memstream(log, len);
    cr_assert_not_null(*logf);
    return (occam_plot_params){.out_dir = in_tmp("out"), .gnuplot = NULL, .log = *logf};
}

static bool exists(const char *name)
{
    struct stat st;
    return stat(in_tmp(name), &st) == 0;
}

/* Files in tmpdir/out. */
static int count_out_files(void)
{
    DIR *d = opendir(in_tmp("out"));
    if (!d) return 0;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

/* The file must start with the PNG signature and an IHDR chunk of 900 x 600. */
static void check_png(const char *name)
{
    static const unsigned char sig[8] = {0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A};
    unsigned char b[24];
    FILE *f = fopen(in_tmp(name), "rb");
    cr_assert_not_null(f, "%s was not written", name);
    size_t n = fread(b, 1, sizeof b, f);
    fclose(f);
    cr_assert_eq(n, sizeof b, "%s: too short for a PNG", name);
    cr_assert(!memcmp(b, sig, 8), "%s: not a PNG signature", name);
    cr_assert(!memcmp(b + 12, "IHDR", 4), "%s: first chunk is not IHDR", name);
    uint32_t w = (uint32_t)b[16] << 24 | b[17] << 16 | b[18] << 8 | b[19];
    uint32_t h = (uint32_t)b[20] << 24 | b[21] << 16 | b[22] << 8 | b[23];
    cr_assert_eq(w, 900, "%s: width %u", name, w);
    cr_assert_eq(h, 600, "%s: height %u", name, h);
}

/* The pixels of a PNG as pngcairo writes them (8-bit RGB or RGBA, not interlaced), decoded
 * with zlib and the five PNG row filters; *w and *h get its size, the caller frees. */
static unsigned char *read_png_rgb(const char *name, int *w, int *h, int *bpp)
{
    FILE *f = fopen(in_tmp(name), "rb");
    cr_assert_not_null(f, "%s was not written", name);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    rewind(f);
    unsigned char *b = malloc((size_t)size), *z = malloc((size_t)size);
    cr_assert(b && z && fread(b, 1, (size_t)size, f) == (size_t)size);
    fclose(f);
    size_t zn = 0;
    *w = *h = *bpp = 0;
    for (long at = 8; at + 12 <= size;) {
        uint32_t n = (uint32_t)b[at] << 24 | b[at + 1] << 16 | b[at + 2] << 8 | b[at + 3];
        const unsigned char *type = b + at + 4, *data = b + at + 8;
        if (!memcmp(type, "IHDR", 4)) {
            *w = data[0] << 24 | data[1] << 16 | data[2] << 8 | data[3];
            *h = data[4] << 24 | data[5] << 16 | data[6] << 8 | data[7];
            cr_assert(data[8] == 8 && (data[9] == 2 || data[9] == 6) && data[12] == 0,
                      "%s: not 8-bit RGB(A), non-interlaced", name);
            *bpp = data[9] == 2 ? 3 : 4;
        } else if (!memcmp(type, "IDAT", 4)) {
            memcpy(z + zn, data, n);
            zn += n;
        }
        at += 12 + (long)n;
    }
    size_t stride = (size_t)*w * *bpp + 1;
    uLongf raw_len = stride * *h;
    unsigned char *raw = malloc(raw_len), *px = malloc(raw_len);
    cr_assert(raw && px);
    cr_assert_eq(uncompress(raw, &raw_len, z, zn), Z_OK, "%s: bad image data", name);
    cr_assert_eq(raw_len, stride * *h);
    size_t row = stride - 1;
    for (int y = 0; y < *h; y++) {
        const unsigned char *in = raw + y * stride + 1;
        unsigned char *out = px + y * row, *up = y ? out - row : NULL;
        for (size_t x = 0; x < row; x++) {
            int a = x >= (size_t)*bpp ? out[x - *bpp] : 0, u = up ? up[x] : 0;
            int c = up && x >= (size_t)*bpp ? up[x - *bpp] : 0, p = a + u - c;
            int pa = abs(p - a), pb = abs(p - u), pc = abs(p - c);
            int pred[5] = {0, a, u, (a + u) / 2, pa <= pb && pa <= pc ? a : pb <= pc ? u : c};
            cr_assert_leq(in[-1], 4, "%s: row %d has filter %d", name, y, in[-1]);
            out[x] = (unsigned char)(in[x] + pred[in[-1]]);
        }
    }
    free(b), free(z), free(raw);
    return px;
}

/* Nothing drawn may touch the image's outermost rows and columns: a key, a tick label or an
 * axis label that does was cut off by the image's edge. Ink is a pixel with a channel below
 * 0xc0 (the background is white, the grid #d8d8d8). */
static void check_png_uncut(const char *name)
{
    int w = 0, h = 0, bpp = 0;
    unsigned char *px = read_png_rgb(name, &w, &h, &bpp);
    const char *side[4] = {"left", "right", "top", "bottom"};
    for (int s = 0; s < 4; s++) {
        int n = s < 2 ? h : w, ink = 0;
        for (int i = 0; i < n; i++) {
            int x = s == 0 ? 0 : s == 1 ? w - 1 : i, y = s < 2 ? i : s == 2 ? 0 : h - 1;
            const unsigned char *p = px + ((size_t)y * w + x) * bpp;
            ink += p[0] < 0xc0 || p[1] < 0xc0 || p[2] < 0xc0;
        }
        cr_assert_eq(ink, 0, "%s: %d pixels drawn on its %s edge (cut off there)", name, ink,
                     side[s]);
    }
    free(px);
}

#define MAX_ROWS 1200
#define MAX_COLS 320

typedef struct dat {
    int rows, cols[MAX_ROWS];
    double v[MAX_ROWS][MAX_COLS];
} dat;

/* One dat per test process, on the heap (3 MB: in .bss, nine of them made up most of the test
 * binary's 38 MB there, which LeakSanitizer scanned, page by page, as every test ended). */
static dat *the_dat(void)
{
    static dat *one;
    if (!one) one = malloc(sizeof *one);
    cr_assert_not_null(one, "no memory for a dat");
    return one;
}

/* Reads block `block` of a .dat file (blocks are separated by two blank lines, gnuplot's
 * `index`); comment lines are skipped. */
static void read_dat(dat *d, const char *name, int block)
{
    FILE *f = fopen(in_tmp(name), "r");
    cr_assert_not_null(f, "%s was not written", name);
    memset(d, 0, sizeof *d);
    static char line[16384];
    int blanks = 0, b = 0;
    bool seen = false;
    while (fgets(line, sizeof line, f)) {
        char *s = line;
        while (*s == ' ') s++;
        if (*s == '\n' || !*s) {
            blanks++;
            continue;
        }
        if (*s == '#') continue;
        if (seen && blanks >= 2) b++;
        blanks = 0;
        seen = true;
        if (b != block) continue;
        cr_assert_lt(d->rows, MAX_ROWS);
        int c = 0;
        for (char *end; *s && *s != '\n' && *s != '"'; s = end) { /* a label ends the numbers */
            double x = strtod(s, &end);
            cr_assert_neq(end, s, "%s: bad number in '%s'", name, line);
            cr_assert_lt(c, MAX_COLS);
            d->v[d->rows][c++] = x;
            while (*end == ' ') end++;
        }
        d->cols[d->rows++] = c;
    }
    fclose(f);
}

static void near(double got, double want, double tol, const char *what)
{
    cr_assert(fabs(got - want) <= tol, "%s: got %.10g, want %.10g", what, got, want);
}

static double Phi(double x, double mu, double sigma)
{
    return 0.5 * (1.0 + erf((x - mu) / (sigma * sqrt(2.0))));
}

/* ---- fixtures ---------------------------------------------------------------------------- */

#define HISTORY                                                                                   \
    "\"history\": ["                                                                              \
    "{\"epoch\": 1, \"lr\": 0.1, \"train_loss\": 0.9, \"train_accuracy\": 0.6,"                   \
    " \"test_loss\": 0.8, \"test_accuracy\": 0.65, \"seconds\": 1, \"samples_per_second\": 10},"  \
    "{\"epoch\": 2, \"lr\": 0.1, \"train_loss\": 0.5, \"train_accuracy\": 0.8,"                   \
    " \"test_loss\": 0.55, \"test_accuracy\": 0.78, \"seconds\": 1, \"samples_per_second\": 10}," \
    "{\"epoch\": 3, \"lr\": 0.1, \"train_loss\": 0.4, \"train_accuracy\": 0.85,"                  \
    " \"test_loss\": 0.5, \"test_accuracy\": 0.8, \"seconds\": 1, \"samples_per_second\": 10}]"

#define PRUNE                                                                                   \
    "\"prune\": {\"dense_weights\": 400, \"dense_hidden_units\": 10,"                           \
    " \"dense_total_bits\": 9000, \"best_event\": 2, \"events\": ["                             \
    "{\"step\": 1, \"epoch\": 1, \"target\": 0.5, \"sparsity\": 0.5, \"weights_active\": 200,"  \
    " \"hidden_units\": 10, \"train_loss\": 0.5, \"test_accuracy\": 0.78,"                      \
    " \"select_seconds\": 0.001, \"model_bits\": 5000, \"data_bits\": 1000,"                    \
    " \"total_bits\": 6000},"                                                                   \
    "{\"step\": 2, \"epoch\": 2, \"target\": 0.9, \"sparsity\": 0.9, \"weights_active\": 40,"   \
    " \"hidden_units\": 10, \"train_loss\": 0.4, \"test_accuracy\": 0.8,"                       \
    " \"select_seconds\": 0.001, \"model_bits\": 1500, \"data_bits\": 1200,"                    \
    " \"total_bits\": 2700}]}"

/* Layer 0: N(0, 1) with 300 active weights; layer 1: N(1, 0.5^2) with 100. */
#define MDL                                                                                       \
    "\"mdl\": {\"model_code\": \"two-part\", \"model_bits\": 1500, \"data_bits\": 1200,"          \
    " \"total_bits\": 2700, \"layers\": ["                                                        \
    "{\"in\": 20, \"out\": 15, \"n\": 300, \"k\": 300, \"delta\": 0.1, \"prior\": "               \
    "{\"components\": 1, \"pi\": [1], \"mu\": [0], \"sigma\": [1]}},"                             \
    "{\"in\": 15, \"out\": 10, \"n\": 150, \"k\": 100, \"delta\": 0.1, \"prior\": "               \
    "{\"components\": 2, \"pi\": [0.5, 0.5], \"mu\": [1, 1], \"sigma\": [0.5, 0.5]}}]}"

#define HIST_POOLED                                                                              \
    "\"weight_histogram\": {\"edges\": [-2, -1, 0, 1, 2, 3], \"counts\": [40, 110, 120, 90, 40]}"

#define HIST_LAYERS                                                                              \
    "\"weight_histogram\": [{\"edges\": [-1, 0, 1], \"counts\": [150, 150]},"                    \
    " {\"edges\": [0, 0.5, 1, 1.5, 2], \"counts\": [20, 30, 30, 20]}]"

static const char *write_report(const char *name, const char *body)
{
    char *path = in_tmp(name);
    char text[16384];
    snprintf(text, sizeof text,
             "{\"command\": \"train\", \"config\": {\"data\": {\"task\": \"classify\"}}, %s}",
             body);
    write_text(path, text);
    return path;
}

/* ---- report figures ---------------------------------------------------------------------- */

/* Plots report `rep` into out/ and asserts success. */
static void plot_ok(const char *rep)
{
    FILE *logf;
    char *log;
    size_t len;
    occam_error err = {0};
    int rc = occam_plot_report(rep, params(&logf, &log, &len), &err);
    fclose(logf);
    free(log);
    cr_assert_eq(rc, OCCAM_OK, "%s", err.msg);
}

/* tmpdir/name's text (static, up to 64 KiB; the next call overwrites it). */
static const char *read_tmp_text(const char *name)
{
    static char text[1 << 16];
    FILE *f = fopen(in_tmp(name), "r");
    cr_assert_not_null(f, "%s", name);
    text[fread(text, 1, sizeof text - 1, f)] = 0;
    fclose(f);
    return text;
}

Test(plot, full_report_draws_every_figure_with_its_numbers)
{
    need_gnuplot();
    const char *rep = write_report("r.json", HISTORY ", " PRUNE ", " MDL ", " HIST_POOLED);
    FILE *logf;
    char *log;
    size_t len;
    occam_error err = {0};
    int rc = occam_plot_report(rep, params(&logf, &log, &len), &err);
    fclose(logf);
    cr_assert_eq(rc, OCCAM_OK, "%s", err.msg);
    static const char *names[] = {"learning", "prune_accuracy", "mdl_bits", "weights"};
    int lines = 0;
    for (char *s = log; (s = strchr(s, '\n')); s++) lines++;
    cr_assert_eq(lines, 8, "one line per file written:\n%s", log);
    for (int i = 0; i < 4; i++) {
        char png[64], dat_name[64];
        snprintf(png, sizeof png, "out/%s.png", names[i]);
        snprintf(dat_name, sizeof dat_name, "out/%s.dat", names[i]);
        check_png(png);
        cr_assert(exists(dat_name), "%s missing", dat_name);
        cr_assert(strstr(log, png + 4), "log does not name %s:\n%s", png, log);
    }
    free(log);
    cr_assert_eq(count_out_files(), 8);

    dat *d = the_dat();
    /* learning: epoch, train loss, test loss, train accuracy, test accuracy */
    read_dat(d, "out/learning.dat", 0);
    cr_assert_eq(d->rows, 3);
    static const double want[3][5] = {{1, 0.9, 0.8, 0.6, 0.65},
                                      {2, 0.5, 0.55, 0.8, 0.78},
                                      {3, 0.4, 0.5, 0.85, 0.8}};
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(d->cols[i], 5);
        for (int k = 0; k < 5; k++) near(d->v[i][k], want[i][k], 1e-12, "learning.dat");
    }
    /* prune_accuracy: step, epoch, sparsity, test accuracy */
    read_dat(d, "out/prune_accuracy.dat", 0);
    cr_assert_eq(d->rows, 2);
    cr_assert_eq(d->cols[0], 4);
    near(d->v[0][2], 0.5, 0, "sparsity 1");
    near(d->v[0][3], 0.78, 1e-12, "accuracy 1");
    near(d->v[1][2], 0.9, 0, "sparsity 2");
    near(d->v[1][3], 0.8, 1e-12, "accuracy 2");
    /* mdl_bits: the dense model at sparsity 0 (total only), then the events */
    read_dat(d, "out/mdl_bits.dat", 0);
    cr_assert_eq(d->rows, 3);
    near(d->v[0][0], 0, 0, "dense sparsity");
    cr_assert(isnan(d->v[0][1]) && isnan(d->v[0][2]), "dense model/data bits are not in reports");
    near(d->v[0][3], 9000, 0, "dense total");
    static const double bits[2][4] = {{0.5, 5000, 1000, 6000}, {0.9, 1500, 1200, 2700}};
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < 4; k++) near(d->v[i + 1][k], bits[i][k], 1e-9, "mdl_bits.dat");
    /* weights: bins with the pooled prior's expected count, weighted 3:1 by active weights */
    read_dat(d, "out/weights.dat", 0);
    cr_assert_eq(d->rows, 5);
    static const double edges[6] = {-2, -1, 0, 1, 2, 3}, counts[5] = {40, 110, 120, 90, 40};
    for (int i = 0; i < 5; i++) {
        double lo = edges[i], hi = edges[i + 1];
        double mass = 0.75 * (Phi(hi, 0, 1) - Phi(lo, 0, 1)) +
                      0.25 * (Phi(hi, 1, 0.5) - Phi(lo, 1, 0.5));
        near(d->v[i][0], lo, 0, "lo");
        near(d->v[i][1], hi, 0, "hi");
        near(d->v[i][3], counts[i], 0, "count");
        near(d->v[i][4], 400 * mass, 1e-6, "prior expected count");
    }
    /* the sampled curve: 8 points per bin plus the last edge */
    read_dat(d, "out/weights.dat", 1);
    cr_assert_eq(d->rows, 5 * 8 + 1);
    near(d->v[0][0], -2, 0, "curve start");
    near(d->v[40][0], 3, 0, "curve end");
    double pdf0 = 0.75 * exp(-0.5) / sqrt(2 * M_PI) + 0.25 * exp(-0.5 * 4 / 0.25) / (0.5 * sqrt(2 * M_PI));
    near(d->v[8][0], -1, 1e-15, "curve x at the second edge");
    near(d->v[8][1], 400 * 1 * pdf0, 1e-6, "curve = total x width x density");
}

Test(plot, report_without_prune_events_gives_only_learning)
{
    need_gnuplot();
    const char *rep = write_report("r.json", HISTORY ", \"prune\": null");
    plot_ok(rep);
    check_png("out/learning.png");
    cr_assert(exists("out/learning.dat"));
    cr_assert_eq(count_out_files(), 2, "only learning.dat and learning.png");
}

Test(plot, weights_skipped_without_histogram_others_drawn)
{
    need_gnuplot();
    const char *rep = write_report("r.json", HISTORY ", " PRUNE ", " MDL);
    plot_ok(rep);
    check_png("out/learning.png");
    check_png("out/prune_accuracy.png");
    check_png("out/mdl_bits.png");
    cr_assert(!exists("out/weights.png") && !exists("out/weights.dat"));
    cr_assert_eq(count_out_files(), 6);
}

/* The count code writes each layer's prior as {"components": 0, "pi": [], ...} beside
 * per-layer weight histograms: plot refused occam's own report ("components: expected 1 to
 * 8"), and with mdl null (or no prior) the histograms ("2 per-layer entries, but 0 layers have
 * a prior"). Now the layers count as without a prior and weights.png is skipped. */
Test(plot, count_code_report_draws_learning_and_skips_weights)
{
    need_gnuplot();
    const char *layer = "{\"in\": 2, \"out\": 2, \"n\": 4, \"k\": 4, \"delta\": 0, "
                        "\"prior\": {\"components\": 0, \"pi\": [], \"mu\": [], "
                        "\"sigma\": []}}";
    const char *hist = "{\"layer\": %d, \"edges\": [-1, 0, 1], \"counts\": [2, 2]}";
    char body[4096], h0[128], h1[128];
    snprintf(h0, sizeof h0, hist, 0);
    snprintf(h1, sizeof h1, hist, 1);
    snprintf(body, sizeof body,
             HISTORY ", \"weight_histogram\": [%s, %s], \"mdl\": {\"model_code\": \"count\", "
             "\"layers\": [%s, %s]}",
             h0, h1, layer, layer);
    plot_ok(write_report("r.json", body));
    check_png("out/learning.png");
    cr_assert(!exists("out/weights.png"));
    cr_assert_eq(count_out_files(), 2);

    snprintf(body, sizeof body, HISTORY ", \"weight_histogram\": [%s, %s], \"mdl\": null", h0,
             h1);
    plot_ok(write_report("e.json", body));
    cr_assert_eq(count_out_files(), 2);
}

Test(plot, events_without_bits_draw_no_mdl_figure)
{
    need_gnuplot();
    /* An iterative-pruning report: events without model/data/total bits, no dense bits. */
    const char *rep = write_report(
        "r.json", HISTORY ", \"prune\": {\"dense_weights\": 400, \"events\": ["
                  "{\"step\": 1, \"epoch\": 2, \"sparsity\": 0.25, \"test_accuracy\": 0.7}]}");
    plot_ok(rep);
    check_png("out/prune_accuracy.png");
    cr_assert(!exists("out/mdl_bits.png"));
    dat *d = the_dat();
    read_dat(d, "out/prune_accuracy.dat", 0);
    cr_assert_eq(d->rows, 1);
    near(d->v[0][2], 0.25, 0, "sparsity");
    cr_assert_eq(count_out_files(), 4);
}

/* Bits at the ends of the doubles: the log axis's tics stepped a power of ten that never
 * passed 1.5 * 1.7e308 (infinite) and, from 5e-324, started at 0; occam plot hung. */
Test(plot, bits_at_the_ends_of_the_doubles_still_draw, .timeout = 60)
{
    need_gnuplot();
    static const char *const ends[2] = {"1.7e308", "5e-324"};
    for (int k = 0; k < 2; k++) {
        char body[2048], name[24];
        snprintf(body, sizeof body, HISTORY ", \"prune\": {\"dense_total_bits\": 5000, "
                 "\"events\": [{\"step\": 1, \"epoch\": 2, \"sparsity\": 0.5, "
                 "\"test_accuracy\": 0.7, \"total_bits\": %s},"
                 "{\"step\": 2, \"epoch\": 3, \"sparsity\": 0.8, \"test_accuracy\": 0.7,"
                 " \"total_bits\": 2400}]}", ends[k]);
        snprintf(name, sizeof name, "r%d.json", k);
        plot_ok(write_report(name, body));
        check_png("out/mdl_bits.png");
        dat *d = the_dat();
        read_dat(d, "out/mdl_bits.dat", 0);
        cr_assert_eq(d->rows, 3, "%s", ends[k]);
    }
}

/* A dashed line per prune step: gnuplot takes quadratic time over its arrows, and a report of
 * 10^5 steps took 46 s (3 million, which a 64 MiB report holds, would not finish). */
Test(plot, a_hundred_thousand_prune_steps_draw_in_seconds, .timeout = 20)
{
    need_gnuplot();
    const char *rep = in_tmp("r.json");
    FILE *f = fopen(rep, "w");
    cr_assert_not_null(f);
    fputs("{\"command\": \"train\", " HISTORY ", \"prune\": {\"events\": [", f);
    for (int i = 0; i < 100000; i++)
        fprintf(f, "%s\n{\"step\": %d, \"epoch\": %d, \"sparsity\": %.6f, "
                   "\"test_accuracy\": 0.7}", i ? "," : "", i + 1, 1 + i % 3, i / 1e5);
    fputs("]}}", f);
    cr_assert_eq(fclose(f), 0);
    plot_ok(rep);
    check_png("out/learning.png");
    check_png("out/prune_accuracy.png");
}

Test(plot, per_layer_histograms_one_panel_each)
{
    need_gnuplot();
    const char *rep = write_report("r.json", HISTORY ", " MDL ", " HIST_LAYERS);
    plot_ok(rep);
    check_png("out/weights.png");
    dat *d = the_dat();
    /* block 2 = layer 1's bins: its own prior N(1, 0.5^2), total 100 */
    read_dat(d, "out/weights.dat", 2);
    cr_assert_eq(d->rows, 4);
    for (int i = 0; i < 4; i++) {
        double lo = 0.5 * i, hi = lo + 0.5;
        near(d->v[i][4], 100 * (Phi(hi, 1, 0.5) - Phi(lo, 1, 0.5)), 1e-6, "layer 1 expected");
    }
    read_dat(d, "out/weights.dat", 0);
    cr_assert_eq(d->rows, 2);
    near(d->v[0][4], 300 * (Phi(0, 0, 1) - Phi(-1, 0, 1)), 1e-6, "layer 0 expected");
    read_dat(d, "out/weights.dat", 3);
    cr_assert_eq(d->rows, 4 * 8 + 1);
}

/* ---- report errors ----------------------------------------------------------------------- */

Test(plot, invalid_json_is_input_error_naming_the_file)
{
    const char *rep = in_tmp("broken.json");
    write_text(rep, "{\"history\": [1, 2,]}");
    occam_error err = {0};
    occam_plot_params p = {.out_dir = in_tmp("out")};
    cr_assert_eq(occam_plot_report(rep, p, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, rep), "message should name %s: %s", rep, err.msg);
    cr_assert(strstr(err.msg, "byte"), "%s", err.msg);
    cr_assert(!exists("out"), "nothing is written for bad input");

    const char *missing = in_tmp("missing.json");
    cr_assert_eq(occam_plot_report(missing, p, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, missing), "%s", err.msg);
}

/* A folder given as the report or the scaling CSV opens for reading and fails at its first
 * read (EISDIR): the message said only "read failed"; now it gives the system's reason, like
 * every other reader's "cannot open: Is a directory". */
Test(plot, a_folder_as_input_says_why_it_cannot_be_read)
{
    occam_plot_params p = {.out_dir = in_tmp("out")};
    occam_error err = {0};
    const char *dir = in_tmp("folder.json");
    cr_assert_eq(mkdir(dir, 0755), 0, "%s", strerror(errno));
    cr_assert_eq(occam_plot_report(dir, p, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "folder.json: cannot read: Is a directory"), "%s", err.msg);
    cr_assert_eq(occam_plot_scaling(dir, p, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "folder.json: cannot read: Is a directory"), "%s", err.msg);
    cr_assert(!exists("out"));
}

/* A writer child that sends `byte` to the FIFO at path until the reader goes away. */
static pid_t feed_forever(const char *path, char byte)
{
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        signal(SIGPIPE, SIG_DFL);
        static char buf[1 << 16];
        memset(buf, byte, sizeof buf);
        FILE *f = fopen(path, "w");
        while (f && fwrite(buf, 1, sizeof buf, f) == sizeof buf) continue;
        _exit(0);
    }
    return pid;
}

/* A report is read whole, but not without bound: an endless line (what /dev/zero gives) stops
 * at the line limit, endless short lines at the size limit, both input errors (exit 2) naming
 * the file, with nothing written; the scaling CSV goes through the same reader. */
Test(plot, endless_input_is_an_input_error)
{
    occam_plot_params p = {.out_dir = in_tmp("out")};
    const char *fifo = in_tmp("fifo");
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    const struct {
        char byte;
        const char *what;
    } cases[] = {{'\0', ":1: line longer than 1048576 bytes"},
                 {'\n', ": larger than 64 MiB, the most plot reads (a train report grows by about "
                       "300 bytes an epoch"}};
    for (int c = 0; c < 2; c++)
        for (int scaling = 0; scaling < 2; scaling++) {
            pid_t pid = feed_forever(fifo, cases[c].byte);
            occam_error err = {0};
            int rc = scaling ? occam_plot_scaling(fifo, p, &err) : occam_plot_report(fifo, p, &err);
            cr_assert_eq(rc, OCCAM_ERR_INPUT, "%s", err.msg);
            char want[1024];
            snprintf(want, sizeof want, "%s%s", fifo, cases[c].what);
            cr_assert(strstr(err.msg, want), "%s lacks %s", err.msg, want);
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
        }
    cr_assert(!exists("out"));
}

/* Numbers gnuplot cannot draw (a loss of 5e-324 has no range to widen; 1e308 overflows it)
 * passed the checks and failed in gnuplot, exit 1 with its words alone: now an input error
 * naming the member, the column or the point. Zero is drawable. A scaling CSV of one thread
 * count drew an empty x range and failed too; it draws. */
Test(plot, numbers_beyond_a_figure_name_the_member)
{
    need_gnuplot();
    static char out[1024];
    snprintf(out, sizeof out, "%s", in_tmp("out")); /* in_tmp's buffer is reused */
    occam_plot_params p = {.out_dir = out};
    occam_error err = {0};
    static const struct {
        const char *v, *shown;
    } bad[] = {{"5e-324", "4.94066e-324"}, {"1e308", "1e+308"}, {"-1e301", "-1e+301"}};
    for (int i = 0; i < 3; i++) {
        char body[256], want[128];
        snprintf(body, sizeof body, "\"history\": [{\"epoch\": 1, \"train_loss\": %s}, "
                 "{\"epoch\": 2, \"train_loss\": 0.5}]", bad[i].v);
        cr_assert_eq(occam_plot_report(write_report("a.json", body), p, &err), OCCAM_ERR_INPUT);
        snprintf(want, sizeof want, "history[0].train_loss = %s is beyond what a figure can draw",
                 bad[i].shown);
        cr_assert(strstr(err.msg, want), "%s", err.msg);
    }
    cr_assert_eq(occam_plot_report(write_report("z.json", "\"history\": [{\"epoch\": 1, "
                                                "\"train_loss\": 0}, {\"epoch\": 2, "
                                                "\"train_loss\": 0}]"), p, &err), OCCAM_OK,
                 "%s", err.msg);
    write_text(in_tmp("s.csv"), "study,model,threads,speedup,sgemm_speedup\n"
                                "strong,lenet,1,1e308,1\n");
    cr_assert_eq(occam_plot_scaling(in_tmp("s.csv"), p, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "s.csv:2: speedup '1e308' is beyond"), "%s", err.msg);
    write_text(in_tmp("one.csv"), "study,model,threads,speedup,sgemm_speedup\n"
                                  "strong,lenet,1,1,1\n");
    cr_assert_eq(occam_plot_scaling(in_tmp("one.csv"), p, &err), OCCAM_OK, "%s", err.msg);
}

/* The prior is drawn scaled by the histogram's total: counts of 1e308 summed to inf, and
 * gnuplot failed weights.png (exit 1, "all points y value undefined") after learning.png was
 * drawn. A total within a figure's range still draws. */
Test(plot, a_histogram_total_beyond_a_figure_names_the_member)
{
    need_gnuplot();
    occam_error err = {0};
    const char *rep = write_report("a.json", HISTORY ", " MDL ", \"weight_histogram\": "
                                   "{\"edges\": [-1, 0, 1], \"counts\": [1e308, 1e308]}");
    occam_plot_params p = {.out_dir = in_tmp("out")};
    cr_assert_eq(occam_plot_report(rep, p, &err), OCCAM_ERR_INPUT, "%s", err.msg);
    cr_assert(strstr(err.msg, "a.json: weight_histogram.counts: their total inf is beyond "
                              "what a figure can draw"), "%s", err.msg);
    cr_assert(!exists("out"));
    rep = write_report("b.json", HISTORY ", " MDL ", \"weight_histogram\": "
                       "{\"edges\": [-1, 0, 1], \"counts\": [1e299, 1e299]}");
    plot_ok(rep);
    check_png("out/weights.png");
}

Test(plot, wrong_member_types_name_the_member)
{
    occam_plot_params p = {.out_dir = in_tmp("out")};
    occam_error err = {0};
    const char *rep = write_report(
        "a.json", "\"history\": [{\"epoch\": 1, \"train_loss\": 0.5}, {\"epoch\": 2, \"train_loss\": \"x\"}]");
    cr_assert_eq(occam_plot_report(rep, p, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "history[1].train_loss"), "%s", err.msg);

    rep = write_report("b.json", HISTORY ", \"prune\": {\"events\": [{\"step\": 1}]}");
    cr_assert_eq(occam_plot_report(rep, p, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "prune.events[0].sparsity is missing"), "%s", err.msg);

    rep = write_report("c.json", HISTORY ", " MDL ", \"weight_histogram\": {\"edges\": [0, 1], "
                                 "\"counts\": [1, 2]}");
    cr_assert_eq(occam_plot_report(rep, p, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "weight_histogram"), "%s", err.msg);

    rep = write_report("d.json", "\"mdl\": {\"layers\": [{\"k\": 3, \"prior\": {\"components\": 2, "
                                 "\"pi\": [1], \"mu\": [0], \"sigma\": [1]}}]}");
    cr_assert_eq(occam_plot_report(rep, p, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "mdl.layers[0].prior.pi has 1 entries"), "%s", err.msg);

    /* A JSON object with nothing to draw (another program's, or an eval report) drew
     * nothing and returned OCCAM_OK (exit 0). */
    write_text(in_tmp("f.json"), "{\"epochs\": [{\"epoch\": 1, \"loss\": 0.5}]}");
    cr_assert_eq(occam_plot_report(in_tmp("f.json"), p, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "f.json: nothing to plot"), "%s", err.msg);
    /* epochs without a loss or metric drew an empty learning.png, exit 0 */
    rep = write_report("h.json", "\"history\": [{\"epoch\": 1}, {\"epoch\": 2, \"lr\": 0.1}]");
    cr_assert_eq(occam_plot_report(rep, p, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "h.json: nothing to plot"), "%s", err.msg);
    rep = write_report("g.json", "\"train\": {\"samples\": 100, \"loss\": 0.4}");
    cr_assert_eq(occam_plot_report(rep, p, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "g.json: nothing to plot"), "%s", err.msg);

    write_text(in_tmp("e.json"), "[1, 2]");
    cr_assert_eq(occam_plot_report(in_tmp("e.json"), p, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "expected a JSON object"), "%s", err.msg);
    cr_assert(!exists("out"));
}

/* A layer width beyond int was cast to int regardless (undefined: 1e300 inputs were titled
 * -2147483648), and a best_event naming no event was ignored, the kept model's circle left out
 * without a word. */
Test(plot, impossible_widths_and_best_event_name_the_member)
{
    occam_plot_params p = {.out_dir = in_tmp("out")};
    occam_error err = {0};
    const char *rep = write_report("a.json", HISTORY ", \"mdl\": {\"layers\": [{\"in\": 1e300, "
                                   "\"out\": 3, \"k\": 3, \"prior\": {\"components\": 1, "
                                   "\"pi\": [1], \"mu\": [0], \"sigma\": [1]}}]}, " HIST_POOLED);
    cr_assert_eq(occam_plot_report(rep, p, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "a.json: mdl.layers[0].in: expected an integer from 1 to"), "%s",
              err.msg);
    static const char *const best[3] = {"-1", "3", "1.5"};
    for (int i = 0; i < 3; i++) {
        char body[4096];
        snprintf(body, sizeof body, HISTORY ", \"prune\": {\"best_event\": %s, \"events\": ["
                 "{\"step\": 1, \"epoch\": 1, \"sparsity\": 0.5, \"total_bits\": 10},"
                 "{\"step\": 2, \"epoch\": 2, \"sparsity\": 0.8, \"total_bits\": 9}]}",
                 best[i]);
        rep = write_report("b.json", body);
        cr_assert_eq(occam_plot_report(rep, p, &err), OCCAM_ERR_INPUT, "best_event %s", best[i]);
        cr_assert(strstr(err.msg, "b.json: prune.best_event: expected an integer from 0 to 2"),
                  "%s", err.msg);
    }
    cr_assert(!exists("out"));
}

/* An input's name heads its figures' .dat files in a comment: a newline in it ended the comment,
 * and the rest of the name ("1 2 3 4 5") was drawn as one more epoch. */
Test(plot, an_input_name_with_a_newline_is_refused)
{
    occam_plot_params p = {.out_dir = in_tmp("out")};
    occam_error err = {0};
    const char *rep = write_report("r\n1 2 3 4 5 .json", HISTORY);
    cr_assert_eq(occam_plot_report(rep, p, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "REPORT.json: the name holds a control character (byte 0x0a"),
              "%s", err.msg);
    const char *csv = in_tmp("s\n1 2 3.csv");
    write_text(csv, "study,model,threads,speedup,sgemm_speedup\nstrong,lenet,1,1,1\n");
    cr_assert_eq(occam_plot_scaling(csv, p, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "--scaling: the name holds a control character"), "%s", err.msg);
    cr_assert(!exists("out"));
}

/* Every bin is 9 rows of weights.dat: a 64 MiB report of 6 million bins wrote 800 MB and took
 * gnuplot a minute. */
Test(plot, a_histogram_of_millions_of_bins_is_refused)
{
    occam_plot_params p = {.out_dir = in_tmp("out")};
    occam_error err = {0};
    const char *rep = in_tmp("r.json");
    FILE *f = fopen(rep, "w");
    cr_assert_not_null(f);
    fputs("{\"command\": \"train\", " HISTORY ", " MDL ", \"weight_histogram\": {\"edges\": [",
          f);
    for (int i = 0; i <= 65537; i++) fprintf(f, "%s%d", i ? ",\n" : "", i);
    fputs("], \"counts\": [", f);
    for (int i = 0; i < 65537; i++) fprintf(f, "%s1", i ? ",\n" : "");
    fputs("]}}", f);
    cr_assert_eq(fclose(f), 0);
    cr_assert_eq(occam_plot_report(rep, p, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "r.json: weight_histogram: 65537 bins, at most 65536"), "%s",
              err.msg);
    cr_assert(!exists("out"));
}

/* ---- the report of `occam select` -------------------------------------------------------- */

/* Three points over two keys: point 1 is the shortest, point 2 failed (no numbers). */
#define SELECT_POINTS                                                                            \
    "\"points\": ["                                                                              \
    "{\"index\": 0, \"set\": {\"train.weight_decay\": 0, \"model.layers\": \"30,50,2\"},"        \
    " \"total_bits\": 7000, \"model_bits\": 6990, \"data_bits\": 10, \"train\": 1,"             \
    " \"test\": 0.95},"                                                                          \
    "{\"index\": 1, \"set\": {\"train.weight_decay\": 1e-3, \"model.layers\": \"30,\\\"10,2\"},"  \
    " \"total_bits\": 6500, \"model_bits\": 6400, \"data_bits\": 100, \"train\": 0.9,"          \
    " \"test\": 0.92},"                                                                          \
    "{\"index\": 2, \"set\": {\"train.weight_decay\": 3, \"model.layers\": \"30,50,2\"},"        \
    " \"total_bits\": null, \"model_bits\": null, \"data_bits\": null, \"train\": null,"        \
    " \"test\": null, \"error\": \"diverged\"}]"

static const char *write_select(const char *name, const char *body)
{
    char *path = in_tmp(name);
    char text[16384];
    snprintf(text, sizeof text, "{\"command\": \"select\", \"metric\": \"accuracy\", %s}", body);
    write_text(path, text);
    return path;
}

Test(plot, select_report_draws_bits_per_grid_point)
{
    need_gnuplot();
    plot_ok(write_select("s.json", SELECT_POINTS ", \"best\": 1"));
    cr_assert_eq(count_out_files(), 2); /* select.dat and select.png, none of train's figures */
    check_png("out/select.png");
    dat d;
    read_dat(&d, "out/select.dat", 0);
    cr_assert_eq(d.rows, 3);
    static const double want[2][6] = {{0, 7000, 6990, 10, 1, 0.95}, {1, 6500, 6400, 100, 0.9, 0.92}};
    for (int i = 0; i < 3; i++) cr_assert_eq(d.cols[i], 6, "row %d", i);
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < 6; k++) near(d.v[i][k], want[i][k], 1e-9, "select.dat");
    cr_assert_eq(d.v[2][0], 2);
    for (int k = 1; k < 6; k++) cr_assert(isnan(d.v[2][k]), "failed point, column %d", k);
    /* each row ends with its values as the tick label; a '"' in a value cannot end the column */
    const char *text = read_tmp_text("out/select.dat");
    cr_assert(strstr(text, " \"0 / 30,50,2\"\n"), "%s", text);
    cr_assert(strstr(text, " \"0.001 / 30,?10,2\"\n"), "%s", text);
    cr_assert(strstr(text, "train.weight_decay, model.layers"), "%s", text);
}

/* A grid key holding a newline ended select.dat's header comment, and the rest of it was
 * read as one more point: a report of two points was drawn with three. */
Test(plot, a_newline_in_a_grid_key_adds_no_point)
{
    need_gnuplot();
#define KEY_NL "\"k\\n5 1 1 1 1 1 \\\"x\\\"\""
#define NUMBERS "\"total_bits\": 3, \"model_bits\": 2, \"data_bits\": 1, \"train\": 1, \"test\": 1"
    plot_ok(write_select("s.json", "\"points\": [{\"set\": {" KEY_NL ": 0}, " NUMBERS "},"
                         " {\"set\": {" KEY_NL ": 1}, " NUMBERS "}], \"best\": 0"));
#undef KEY_NL
#undef NUMBERS
    dat *d = the_dat();
    read_dat(d, "out/select.dat", 0);
    cr_assert_eq(d->rows, 2);
}

/* Plots rep with fd 2 sent to a file, which gnuplot inherits (this test's process is its
 * own: Criterion forks one per test), and fails on any gnuplot warning found there. */
static void plot_ok_quietly(const char *rep)
{
    fflush(stderr);
    int saved = dup(2);
    int fd = open(in_tmp("gp.err"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    cr_assert(saved >= 0 && fd >= 0);
    cr_assert_eq(dup2(fd, 2), 2);
    close(fd);
    plot_ok(rep);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    FILE *f = fopen(in_tmp("gp.err"), "r");
    cr_assert_not_null(f);
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    cr_assert(!strstr(buf, "Warning") && !strstr(buf, "warning"), "%s: gnuplot said: %s", rep,
              buf);
}

/* A two-part report of a model pruned until a layer had no weight left (blobs under
 * prune.target = 0.999: layer 1's prior is {"components": 0}, its histogram all zeros) was
 * read as a count code's: weights.png skipped with "has no mdl.layers[].prior", though layer
 * 0 has one. Each layer now gets its panel; the empty one says it has no prior and draws no
 * prior curve. */
Test(plot, a_layer_pruned_away_keeps_the_weights_figure)
{
    need_gnuplot();
    plot_ok_quietly(write_report("r.json", HISTORY ", \"weight_histogram\": [{\"layer\": 0,"
                                 " \"edges\": [-1, 0, 1], \"counts\": [1, 0]}, {\"layer\": 1,"
                                 " \"edges\": [-1, 0, 1], \"counts\": [0, 0]}], \"mdl\":"
                                 " {\"model_code\": \"two-part\", \"layers\": [{\"in\": 20,"
                                 " \"out\": 50, \"k\": 1, \"prior\": {\"components\": 1, \"pi\":"
                                 " [1], \"mu\": [-0.5], \"sigma\": [0.5]}}, {\"in\": 50, \"out\":"
                                 " 3, \"k\": 0, \"prior\": {\"components\": 0, \"pi\": [], \"mu\":"
                                 " [], \"sigma\": []}}]}"));
    check_png("out/weights.png");
    dat *d = the_dat();
    read_dat(d, "out/weights.dat", 0); /* layer 0's bins, against N(-0.5, 0.5^2) */
    cr_assert_eq(d->rows, 2);
    near(d->v[0][4], Phi(0, -0.5, 0.5) - Phi(-1, -0.5, 0.5), 1e-9, "layer 0 expected count");
    read_dat(d, "out/weights.dat", 2); /* layer 1's: no prior to expect anything */
    cr_assert_eq(d->rows, 2);
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(d->v[i][3], 0);
        cr_assert(isnan(d->v[i][4]), "layer 1 has no prior, row %d", i);
    }
}

/* Flat figures: gnuplot cannot autoscale an empty range and warned "empty x range [1:1]" (a
 * report of one epoch, once per panel) or "empty y range" (a select report of one grid point,
 * or of points all at accuracy 1; a history at accuracy 1 every epoch). Each such range is now
 * centred on its value. */
Test(plot, flat_figures_draw_without_gnuplot_warnings)
{
    need_gnuplot();
    plot_ok_quietly(write_report("r.json", "\"history\": [{\"epoch\": 1, \"lr\": 0.1,"
                                 " \"train_loss\": 0.9, \"train_accuracy\": 0.6, \"test_loss\":"
                                 " 0.8, \"test_accuracy\": 0.65, \"seconds\": 1,"
                                 " \"samples_per_second\": 10}], \"prune\": null"));
    check_png("out/learning.png");
    /* every epoch at accuracy 1 and one loss: both panels' y ranges are empty */
    plot_ok_quietly(write_report("r1.json", "\"history\": [{\"epoch\": 1, \"lr\": 0.1,"
                                 " \"train_loss\": 0.5, \"train_accuracy\": 1, \"test_loss\":"
                                 " 0.5, \"test_accuracy\": 1, \"seconds\": 1,"
                                 " \"samples_per_second\": 10}, {\"epoch\": 2, \"lr\": 0.1,"
                                 " \"train_loss\": 0.5, \"train_accuracy\": 1, \"test_loss\":"
                                 " 0.5, \"test_accuracy\": 1, \"seconds\": 1,"
                                 " \"samples_per_second\": 10}], \"prune\": null"));
    check_png("out/learning.png");
    /* every prune step at accuracy 1, as the dense model: prune_accuracy.png's range is empty */
    plot_ok_quietly(write_report("r2.json", "\"history\": [{\"epoch\": 1, \"train_loss\": 0.5,"
                                 " \"test_accuracy\": 1}], \"prune\": {\"events\": [{\"step\":"
                                 " 1, \"epoch\": 1, \"sparsity\": 0.5, \"test_accuracy\": 1},"
                                 " {\"step\": 2, \"epoch\": 2, \"sparsity\": 0.9,"
                                 " \"test_accuracy\": 1}]}"));
    check_png("out/prune_accuracy.png");
    plot_ok_quietly(write_select("one.json", "\"points\": [{\"set\": {\"k\": 0}, \"total_bits\":"
                                 " 4164, \"model_bits\": 4100, \"data_bits\": 64, \"train\": 1,"
                                 " \"test\": 1}], \"best\": 0"));
    check_png("out/select.png");
    plot_ok_quietly(write_select("flat.json", "\"points\": [{\"set\": {\"k\": 0}, \"total_bits\":"
                                 " 10, \"model_bits\": 5, \"data_bits\": 5, \"train\": 1,"
                                 " \"test\": 1}, {\"set\": {\"k\": 1}, \"total_bits\": 12,"
                                 " \"model_bits\": 5, \"data_bits\": 7, \"train\": 1, \"test\":"
                                 " 1}], \"best\": 0"));
    check_png("out/select.png");
}

/* Draws rep (a report, or with masks a checkpoint's masks) with a gnuplot that first appends
 * its script to tmpdir/script.gp, and returns that text (static; every figure's script, in
 * the order drawn). */
static const char *plot_script_of(const char *rep, bool masks)
{
    static char wrapper[600];
    snprintf(wrapper, sizeof wrapper, "%s/gp.sh", tmpdir);
    char text[800];
    snprintf(text, sizeof text, "#!/bin/sh\ntee -a '%s/script.gp' | gnuplot\n", tmpdir);
    write_text(wrapper, text);
    cr_assert_eq(chmod(wrapper, 0700), 0);
    remove(in_tmp("script.gp"));
    occam_plot_params p = {.out_dir = in_tmp("out"), .gnuplot = wrapper};
    occam_error err = {0};
    cr_assert_eq(masks ? occam_plot_masks(rep, p, &err) : occam_plot_report(rep, p, &err),
                 OCCAM_OK, "%s", err.msg);
    return read_tmp_text("script.gp");
}

static const char *plot_script(const char *rep) { return plot_script_of(rep, false); }

/* A signal to occam alone (kill PID, not the terminal's Ctrl-C to the whole group) while gnuplot
 * draws: occam removed the temporary PNG and died, and gnuplot, drawing on, created it again
 * (a hostile-input sweep found 4 of 20 SIGTERMs leaving a whole prune_accuracy.png.tmp.*). The
 * handler now ends gnuplot's process group first. This gnuplot writes its output, says so, and
 * writes it again a second later, as a slow figure's drawing would. */
Test(plot, a_signal_to_occam_alone_leaves_no_temporary_figure, .timeout = 60)
{
    char wrapper[600], text[1200];
    snprintf(wrapper, sizeof wrapper, "%s/gp.sh", tmpdir);
    snprintf(text, sizeof text,
             "#!/bin/sh\nout=$(sed -n \"s/^set output '\\(.*\\)'$/\\1/p\" | head -n 1)\n"
             "echo drawn > \"$out\"; touch '%s/drawing'; sleep 1; echo again > \"$out\"\n",
             tmpdir);
    write_text(wrapper, text);
    cr_assert_eq(chmod(wrapper, 0700), 0);
    const char *rep = write_report("r.json", HISTORY);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        occam_outfile_catch_signals(false);
        occam_plot_params p = {.out_dir = in_tmp("out"), .gnuplot = wrapper};
        occam_error err = {0};
        _exit(occam_plot_report(rep, p, &err) == OCCAM_OK ? 0 : 1);
    }
    for (int i = 0; i < 1000 && !exists("drawing"); i++) usleep(10000);
    cr_assert(exists("drawing"), "the fake gnuplot never ran");
    kill(pid, SIGTERM);
    int st = 0;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM, "status %d", st);
    usleep(1500000); /* past the fake gnuplot's second write */
    DIR *d = opendir(in_tmp("out"));
    cr_assert_not_null(d);
    for (struct dirent *e; (e = readdir(d));)
        cr_assert_null(strstr(e->d_name, ".tmp."), "left behind: %s", e->d_name);
    closedir(d);
}

/* Bits axes were labelled with gnuplot's SI prefixes and no decimals ('%.0s%c') whatever
 * their range. On mdl_bits.png's linear axis the mantissa was rounded: hinton93.ini pruned
 * under prune.schedule = mdl (L from 3007 to 1896 bits) had ticks 500 bits apart labelled "3k,
 * 2k, 2k, 2k, 1k". On a log axis a model that fits has data bits below one, and those ticks
 * read "500m", "5m", "1m" bits, milli to gnuplot and millions to a reader beside "1k" and "5k"
 * (a blobs run pruned under prune.schedule = mdl; a select grid over train.weight_decay).
 * Past 10^18 the prefixes ran out ("50e+252"). Those axes are now labelled with '%g' (2500,
 * 0.005); a log axis of bits from 1 to 10^15, whose ticks are 1, 2 and 5 times a power of ten,
 * keeps the prefixes. */
Test(plot, bits_axes_label_each_tick_with_its_value)
{
    need_gnuplot();
    const char *s = plot_script(write_report("r.json", "\"prune\": {\"dense_total_bits\": 4163,"
                                             " \"best_event\": 1, \"events\": [{\"step\": 1,"
                                             " \"epoch\": 1, \"sparsity\": 0.5, \"model_bits\":"
                                             " 4251, \"data_bits\": 0.0049, \"total_bits\":"
                                             " 4251.0049}]}"));
    cr_assert(strstr(s, "'Description length"), "%s", s);
    cr_assert(!strstr(s, "%c"), "an SI prefix for 0.0049 bits: %s", s);
    cr_assert(strstr(s, "set format y '%g'"), "%s", s);
    s = plot_script(write_report("r2.json", "\"prune\": {\"dense_total_bits\": 4163,"
                                 " \"best_event\": 1, \"events\": [{\"step\": 1, \"epoch\": 1,"
                                 " \"sparsity\": 0.5, \"model_bits\": 4251, \"data_bits\": 12,"
                                 " \"total_bits\": 4263}]}"));
    cr_assert(strstr(s, "set logscale y"), "%s", s);
    cr_assert(strstr(s, "set format y '%.0s%c'"), "bits of 12 to 4263 keep the prefixes: %s", s);
    /* a linear axis (hinton93.ini's numbers) */
    s = plot_script(write_report("r3.json", "\"prune\": {\"dense_total_bits\": 3007,"
                                 " \"best_event\": 2, \"events\": [{\"step\": 1, \"epoch\": 1,"
                                 " \"sparsity\": 0.45, \"model_bits\": 1657, \"data_bits\": 804,"
                                 " \"total_bits\": 2461}, {\"step\": 2, \"epoch\": 2, \"sparsity\":"
                                 " 0.9, \"model_bits\": 1070, \"data_bits\": 827, \"total_bits\":"
                                 " 1897}]}"));
    cr_assert(!strstr(s, "set logscale y"), "%s", s);
    cr_assert(!strstr(s, "%c"), "rounded mantissas on a linear axis: %s", s);
    s = plot_script(write_select("s.json", "\"points\": [{\"set\": {\"k\": 0}, \"total_bits\":"
                                 " 4163, \"model_bits\": 4163, \"data_bits\": 0.0065, \"train\": 1,"
                                 " \"test\": 1}, {\"set\": {\"k\": 1}, \"total_bits\": 1494,"
                                 " \"model_bits\": 1483, \"data_bits\": 11, \"train\": 1,"
                                 " \"test\": 1}], \"best\": 1"));
    cr_assert(strstr(s, "set logscale y"), "%s", s);
    cr_assert(!strstr(s, "%c"), "an SI prefix for 0.0065 bits: %s", s);
}

/* weights.png was titled "Weights and the fitted priors of the two-part code" for every
 * report, a bits-back one too (noise.enabled = true, mdl.model_code = bits-back), whose
 * mdl.layers[].prior are the bits-back code's. The title names the report's code. */
Test(plot, the_weights_figure_names_the_reports_code)
{
    need_gnuplot();
    const char *s = plot_script(write_report("bb.json", HIST_POOLED ", \"mdl\": {\"model_code\":"
                                             " \"bits-back\", \"layers\": [{\"in\": 20, \"out\":"
                                             " 15, \"k\": 300, \"prior\": {\"components\": 1,"
                                             " \"pi\": [1], \"mu\": [0], \"sigma\": [1]}}]}"));
    cr_assert(strstr(s, "'Weights and the fitted priors of the bits-back code'"), "%s", s);
    cr_assert(!strstr(s, "two-part"), "%s", s);
    s = plot_script(write_report("tp.json", HIST_LAYERS ", " MDL));
    cr_assert(strstr(s, "'Weights and the fitted priors of the two-part code'"), "%s", s);
}

/* Draws a report of `body` and returns where its first weights panel's y range ends. */
static double weights_yrange_top(const char *body)
{
    const char *s = plot_script(write_report("r.json", body));
    const char *at = strstr(s, "set yrange [0:");
    cr_assert_not_null(at, "%s", s);
    return strtod(at + strlen("set yrange [0:"), NULL);
}

/* weights_yrange_top of one layer's histogram over [-1, 0, 1] with `counts` (10 weights) under
 * a two-component prior of weights pi, means mu and widths sigma (each "[a, b]"). */
static double one_layer_yrange_top(const char *counts, const char *pi, const char *mu,
                                   const char *sigma)
{
    char body[1024];
    snprintf(body, sizeof body, "\"weight_histogram\": {\"edges\": [-1, 0, 1], \"counts\": %s},"
             " \"mdl\": {\"model_code\": \"two-part\", \"layers\": [{\"in\": 2, \"out\": 5,"
             " \"k\": 10, \"prior\": {\"components\": 2, \"pi\": %s, \"mu\": %s, \"sigma\":"
             " %s}}]}", counts, pi, mu, sigma);
    return weights_yrange_top(body);
}

/* weights.png's key is opaque and sits at the top right of each panel, over the headroom the
 * y range leaves above the tallest bin: 12% of the range. In the two rows of panels of a
 * model of three or more layers (configs/default.ini) the key's two lines are a fifth of a
 * panel, and the peak of the first layer's histogram and prior was drawn under it. */
Test(plot, the_weights_key_leaves_the_peak_visible_in_two_rows)
{
    need_gnuplot();
    const char *layer = "{\"in\": 2, \"out\": 2, \"k\": 4, \"prior\": {\"components\": 1,"
                        " \"pi\": [1], \"mu\": [0], \"sigma\": [1]}}";
    const char *hist = "{\"edges\": [-1, 0, 1], \"counts\": [2, 2]}";
    char body[4096];
    snprintf(body, sizeof body, "\"weight_histogram\": [%s, %s, %s], \"mdl\": {\"model_code\":"
             " \"two-part\", \"layers\": [%s, %s, %s]}", hist, hist, hist, layer, layer, layer);
    /* the tallest: the bins' 2 (each bin expects 4 · 0.34) */
    double top = weights_yrange_top(body) / 2 - 1;
    cr_assert_geq(top, 0.3, "headroom %g of the range: the key covers the peak", top);
}

/* A prior's weights are a mixture's: weights of 1e299 each (within the numbers a report may
 * hold) gave expected counts of 1e302 and a y range gnuplot called an overflow. They are
 * taken in proportion, as occam writes them (summing to 1). */
Test(plot, a_prior_s_weights_are_taken_in_proportion)
{
    need_gnuplot();
    double top = one_layer_yrange_top("[4, 6]", "[1e299, 1e299]", "[0.5, -0.5]", "[1, 1]");
    cr_assert(top >= 6 * 1.1 && top <= 6 * 1.13, "y range ends at %g", top);
}

/* The prior curve is the density times the bin width: a component narrower than a bin (the
 * zero spike of a mixture over a 99.9%-pruned layer) rose to 9,100 over one weight, and the
 * autoscaled y range flattened the histogram under it. The range now ends just above the
 * tallest bin or bin's expected count, and the curve is clipped there. */
Test(plot, a_narrow_prior_spike_does_not_flatten_the_histogram)
{
    need_gnuplot();
    double top = one_layer_yrange_top("[1, 9]", "[0.5, 0.5]", "[0.5, 0]", "[0.0001, 1]");
    /* the tallest: bin [0, 1]'s 9 against its expected 10 · (0.5 + 0.5 · 0.34) = 6.7 */
    cr_assert(top >= 9 * 1.1 && top <= 9 * 1.13, "y range ends at %g", top);
}

/* Every figure's axes are to carry their units (README), but a regression report's loss was
 * labelled "loss": it is the mean squared error in the targets' units (history's train_loss
 * is rescaled to them), 350000 for targets in the thousands. */
Test(plot, a_regression_loss_axis_says_what_it_measures)
{
    need_gnuplot();
    write_text(in_tmp("reg.json"), "{\"command\": \"train\", \"config\": {\"data\": {\"task\":"
               " \"regress\"}}, \"history\": [{\"epoch\": 1, \"train_loss\": 350000,"
               " \"test_loss\": 280000, \"test_relative_error\": 0.41}, {\"epoch\": 2,"
               " \"train_loss\": 150000, \"test_loss\": 130000, \"test_relative_error\": 0.2}]}");
    const char *s = plot_script(in_tmp("reg.json"));
    cr_assert(strstr(s, "set ylabel 'target units²'\nset title 'loss: mean squared error'"),
              "%s", s);
}

/* A point that failed (a diverging train.lr) has no bits: it is a gap in every panel, and its
 * tick label was its value alone, as for a point drawn, so nothing told a gap from a point that
 * the figure lost. Its label now starts with its status. */
Test(plot, a_failed_select_point_says_so_under_its_gap)
{
    need_gnuplot();
    plot_ok(write_select("s.json", "\"points\": [{\"set\": {\"train.lr\": 0.05}, \"status\":"
                         " \"done\", \"total_bits\": 4163, \"model_bits\": 4163, \"data_bits\":"
                         " 0.01, \"train\": 1, \"test\": 1}, {\"set\": {\"train.lr\": 100},"
                         " \"status\": \"failed\", \"total_bits\": null, \"model_bits\": null,"
                         " \"data_bits\": null, \"train\": null, \"test\": null, \"error\":"
                         " \"training diverged\"}, {\"set\": {\"train.lr\": 0.01}, \"status\":"
                         " \"not trained\", \"total_bits\": null}], \"best\": 0"));
    const char *text = read_tmp_text("out/select.dat");
    cr_assert(strstr(text, " \"0.05\"\n"), "%s", text);
    cr_assert(strstr(text, " \"failed: 100\"\n"), "%s", text);
    cr_assert(strstr(text, " \"not trained: 0.01\"\n"), "%s", text);
}

/* select.png's three panels are a third of the figure each, and gnuplot chose their ticks as
 * for a full one: hinton93.ini's grid over train.weight_decay and noise.enabled (L from 1403 to
 * 3000 bits) had ten labels on L's axis and eleven on the bits', touching, a relative error
 * axis down to -0.5, and the shortest point on the frame. L from 846080.1 to 846080.6 was
 * labelled "846080" at every tick. Linear panels now get about four intervals, labels with the
 * step's decimals, no widening to the next tick, and headroom. */
static double ytics_step(const char *s, int panel)
{
    const char *at = s;
    for (int i = 0; i <= panel; i++) {
        at = strstr(at, "\nplot ");
        cr_assert_not_null(at, "panel %d: %s", panel, s);
        at++;
    }
    const char *t = NULL; /* the last "set ytics" before this panel's plot */
    for (const char *p = s; (p = strstr(p, "set ytics ")) && p < at; p++) t = p;
    cr_assert_not_null(t, "%s", s);
    return strtod(t + strlen("set ytics "), NULL);
}

Test(plot, select_panels_have_a_few_readable_ticks)
{
    need_gnuplot();
    const char *s = plot_script(write_select("s.json", "\"points\": [{\"set\": {\"k\": 0},"
                                             " \"total_bits\": 3000.4, \"model_bits\": 2240.1,"
                                             " \"data_bits\": 760.4, \"train\": 0.0014, \"test\":"
                                             " 1.7112}, {\"set\": {\"k\": 1}, \"total_bits\":"
                                             " 1403.5, \"model_bits\": 467.6, \"data_bits\":"
                                             " 935.9, \"train\": 0.0697, \"test\": 0.509}],"
                                             " \"best\": 1"));
    cr_assert(strstr(s, "set offsets 0, 0, graph 0.08, graph 0.08"), "%s", s);
    const double range[3] = {3000.4 - 1403.5, 2240.1 - 467.6, 1.7112 - 0.0014};
    for (int panel = 0; panel < 3; panel++) {
        double step = ytics_step(s, panel);
        cr_assert(step > 0 && range[panel] / step <= 5, "panel %d: %g ticks", panel,
                  range[panel] / step);
    }
    cr_assert(strstr(s, "set autoscale yfix\nset ytics 500\nset format y '%.0f'"), "%s", s);
    plot_ok_quietly(write_select("t.json", "\"points\": [{\"set\": {\"k\": 0}, \"total_bits\":"
                                 " 846080.1, \"model_bits\": 800000, \"data_bits\": 46080.1,"
                                 " \"train\": 0.86631, \"test\": 0.86633}, {\"set\": {\"k\": 1},"
                                 " \"total_bits\": 846080.6, \"model_bits\": 800001, \"data_bits\":"
                                 " 46079.6, \"train\": 0.86634, \"test\": 0.86633}], \"best\": 0"));
    s = plot_script(in_tmp("t.json"));
    cr_assert(strstr(s, "set ytics 0.2\nset format y '%.1f'"), "%s", s);
    cr_assert(strstr(s, "set format y '%.5f'"), "%s", s);
    /* a flat bits panel under L's '%.0f' takes gnuplot's format again: "5" at 4.8 and 5.2 */
    s = plot_script(write_select("f.json", "\"points\": [{\"set\": {\"k\": 0}, \"total_bits\":"
                                 " 100, \"model_bits\": 5, \"data_bits\": 5, \"train\": 1,"
                                 " \"test\": 1}, {\"set\": {\"k\": 1}, \"total_bits\": 200,"
                                 " \"model_bits\": 5, \"data_bits\": 5, \"train\": 1, \"test\":"
                                 " 1}], \"best\": 0"));
    const char *bits = strstr(strstr(s, "\nplot ") + 1, "\nplot ");
    const char *reset = strstr(strstr(s, "\nplot ") + 1, "set format y '% h'");
    cr_assert(reset && bits && reset < bits, "%s", s);
    /* every point at accuracy 1: the flat range stops at 1 (it ran to 1.05) */
    cr_assert(strstr(s, "set yrange [0.90000000000000002:1]\n"), "%s", s);
    cr_assert_null(strstr(s, "1.05"), "%s", s);
    /* L of about 1.2e7 over a range of ten bits: labels with the step's digits, not gnuplot's
     * six (1.23457e+07 at every tick) */
    s = plot_script(write_select("big.json", "\"points\": [{\"set\": {\"k\": 0}, \"total_bits\":"
                                 " 12345670.1, \"model_bits\": 12000000, \"data_bits\": 345670.1,"
                                 " \"train\": 0.5, \"test\": 0.6}, {\"set\": {\"k\": 1},"
                                 " \"total_bits\": 12345680.1, \"model_bits\": 12000010,"
                                 " \"data_bits\": 345678.1, \"train\": 0.5, \"test\": 0.7}],"
                                 " \"best\": 0"));
    const char *first = strstr(s, "set autoscale yfix\nset ytics ");
    cr_assert(first, "%s", s);
    first = strchr(first + strlen("set autoscale yfix\nset ytics "), '\n');
    cr_assert(!strncmp(first, "\nset format y '%.0f'", 20), "%s", s);
}

/* learning.png's margins are fixed, to keep its two panels' epoch axes aligned, and left no
 * room: a regression report's key ("test relative error") ran past the image's right edge,
 * and the y axis label was cut at the left edge by tick labels of six characters ("6e+250",
 * "400000" for a regression loss in target units) and gone at seven ("0.52348"). select.png's
 * L panel likewise ("846080"). */
Test(plot, labels_and_keys_are_not_cut_off_at_the_edges)
{
    need_gnuplot();
    write_text(in_tmp("reg.json"), "{\"command\": \"train\", \"config\": {\"data\": {\"task\":"
               " \"regress\"}}, \"history\": [{\"epoch\": 1, \"train_loss\": 350000,"
               " \"test_loss\": 280000, \"test_relative_error\": 0.41}, {\"epoch\": 2,"
               " \"train_loss\": 15000, \"test_loss\": 30000, \"test_relative_error\": 0.05}]}");
    plot_ok(in_tmp("reg.json"));
    check_png_uncut("out/learning.png");
    plot_ok(write_report("huge.json", "\"history\": [{\"epoch\": 1, \"train_loss\": 5e250,"
                         " \"test_loss\": 1.5e250, \"train_accuracy\": 0.52345, \"test_accuracy\":"
                         " 0.5233}, {\"epoch\": 2, \"train_loss\": 1e250, \"test_loss\": 3e249,"
                         " \"train_accuracy\": 0.52349, \"test_accuracy\": 0.5233}]"));
    check_png_uncut("out/learning.png");
    plot_ok(write_select("s.json", "\"points\": [{\"set\": {\"k\": 0}, \"total_bits\": 846080.1,"
                         " \"model_bits\": 800000, \"data_bits\": 46080.1, \"train\": 0.86631,"
                         " \"test\": 0.86633}, {\"set\": {\"k\": 1}, \"total_bits\": 846080.6,"
                         " \"model_bits\": 800001, \"data_bits\": 46079.6, \"train\": 0.86634,"
                         " \"test\": 0.86633}], \"best\": 0"));
    check_png_uncut("out/select.png");
}

/* A loss that moves only by rounding (1.3921511329342706, then ...704 and ...702: a run at
 * train.lr = 1e-12 without a test set) is not one value, so its range was left to gnuplot,
 * which takes a range narrower than about 1e-8 of its values as empty: "Warning: empty y range
 * [1.39215:1.39215]" on stderr for a run that drew nothing wrong. Likewise a select report whose
 * points' L differ in the 12th digit. */
Test(plot, a_range_of_rounding_noise_draws_without_gnuplot_warnings)
{
    need_gnuplot();
    plot_ok_quietly(write_report("r.json", "\"history\": [{\"epoch\": 1, \"lr\": 1e-12,"
                                 " \"train_loss\": 1.3921511329342706, \"train_accuracy\": 0.524},"
                                 " {\"epoch\": 2, \"lr\": 1e-12, \"train_loss\": "
                                 "1.3921511329342704, \"train_accuracy\": 0.524}, {\"epoch\": 3,"
                                 " \"lr\": 1e-12, \"train_loss\": 1.3921511329342702,"
                                 " \"train_accuracy\": 0.524}], \"prune\": null"));
    check_png("out/learning.png");
    plot_ok_quietly(write_select("s.json", "\"points\": [{\"set\": {\"k\": 0}, \"total_bits\":"
                                 " 846080.35900000001, \"model_bits\": 800000, \"data_bits\":"
                                 " 46080.359000000004, \"train\": 0.9, \"test\": 0.9},"
                                 " {\"set\": {\"k\": 1}, \"total_bits\": 846080.35900001,"
                                 " \"model_bits\": 800000, \"data_bits\": 46080.35900001,"
                                 " \"train\": 0.9, \"test\": 0.9}], \"best\": 0"));
    check_png("out/select.png");
}

/* select.png's bits panel on a log axis takes a tick every few decades, from the decades its
 * values span: log10(hi / lo), which overflowed for model bits near 1e300 beside data bits near
 * 1e-300 (both within what a figure draws), so the script said "set ytics inf" and gnuplot
 * failed the figure ("undefined variable: inf"), exit 1. */
Test(plot, a_log_bits_panel_of_every_decade_draws)
{
    need_gnuplot();
    plot_ok(write_select("s.json", "\"points\": [{\"set\": {\"k\": 0}, \"total_bits\":"
                                 " 9e299, \"model_bits\": 9e299, \"data_bits\": 1e-300,"
                                 " \"train\": 0.9, \"test\": 0.9}, {\"set\": {\"k\": 1},"
                                 " \"total_bits\": 9.1e299, \"model_bits\": 9.1e299,"
                                 " \"data_bits\": 2e-300, \"train\": 0.9, \"test\": 0.9}],"
                                 " \"best\": 0"));
    check_png("out/select.png");
    const char *s = plot_script(in_tmp("s.json"));
    cr_assert(!strstr(s, "inf"), "%s", s);
}

/* A log bits panel spanning more than four decades took a tick every few, given to gnuplot as
 * 'set ytics 1e9': gnuplot then spent over a minute of CPU on select.png for model bits near
 * 4000 and data bits near 1e-30 (a model that fits a separable task), and longer for wider
 * ranges, warning "tick interval too small for machine precision" at the widest. The ticks
 * are now listed. */
Test(plot, a_log_bits_panel_of_many_decades_draws_in_seconds, .timeout = 20)
{
    need_gnuplot();
    plot_ok_quietly(write_select("s.json", "\"points\": [{\"set\": {\"k\": 0}, \"total_bits\":"
                                 " 4000, \"model_bits\": 4000, \"data_bits\": 1e-30,"
                                 " \"train\": 1, \"test\": 1}, {\"set\": {\"k\": 1},"
                                 " \"total_bits\": 4100, \"model_bits\": 4100, \"data_bits\":"
                                 " 2e-30, \"train\": 1, \"test\": 1}], \"best\": 0"));
    check_png("out/select.png");
    plot_ok_quietly(write_select("w.json", "\"points\": [{\"set\": {\"k\": 0}, \"total_bits\":"
                                 " 9e299, \"model_bits\": 9e299, \"data_bits\": 1e-300,"
                                 " \"train\": 0.9, \"test\": 0.9}], \"best\": 0"));
    check_png("out/select.png");
}

/* A panel with no value to draw (the points' train and test metric, or model and data bits,
 * all null; prune events without a test metric) failed the whole figure in gnuplot ("all points
 * y value undefined!"), exit 1; a report whose points all failed has nothing to plot. */
Test(plot, a_panel_without_values_is_drawn_empty_or_skipped)
{
    need_gnuplot();
    plot_ok(write_select("s.json", "\"points\": [{\"set\": {\"k\": 0}, \"total_bits\": 3},"
                         " {\"set\": {\"k\": 1}, \"total_bits\": 4}], \"best\": 0"));
    check_png("out/select.png");
    occam_plot_params p = {.out_dir = in_tmp("out2")};
    occam_error err = {0};
    cr_assert_eq(occam_plot_report(write_select("f.json", "\"points\": [{\"set\": {\"k\": 0},"
                                                " \"total_bits\": null}], \"best\": null"),
                                   p, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "f.json: points: no point has total_bits"), "%s", err.msg);
    plot_ok(write_report("r.json", HISTORY ", \"prune\": {\"events\": [{\"step\": 1, "
                         "\"epoch\": 2, \"sparsity\": 0.5, \"test_accuracy\": null}]}"));
    cr_assert(exists("out/learning.png"));
    cr_assert(!exists("out/prune_accuracy.png"));
}

/* Labels are cut to 47 bytes, and a value of 100 'é' was cut inside its 24th: select.dat and
 * the tick label ended in a lone 0xc3 byte, invalid UTF-8. */
Test(plot, a_long_label_is_cut_between_characters)
{
    need_gnuplot();
    char body[2048], e100[201] = "";
    for (int i = 0; i < 100; i++) strcat(e100, "\xc3\xa9");
    snprintf(body, sizeof body, "\"points\": [{\"set\": {\"k\": \"%s\"}, \"total_bits\": 3, "
             "\"model_bits\": 2, \"data_bits\": 1, \"train\": 1, \"test\": 1}], \"best\": 0",
             e100);
    plot_ok(write_select("s.json", body));
    const char *text = read_tmp_text("out/select.dat");
    const char *q = strstr(text, "\xc3\xa9\"\n");
    cr_assert_not_null(q, "%s", text);
    cr_assert(strstr(text, " \"\xc3\xa9"), "%s", text);
    for (const char *c = strstr(text, " \"\xc3") + 2; c < q + 2; c += 2)
        cr_assert(c[0] == '\xc3' && c[1] == '\xa9', "%s", text);
}

Test(plot, select_report_errors_name_the_member)
{
    FILE *logf;
    char *log;
    size_t len;
    occam_plot_params p = params(&logf, &log, &len);
    occam_error err = {0};
    cr_assert_eq(occam_plot_report(write_select("a.json", "\"points\": []"), p, &err),
                 OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "points: expected a non-empty array"), "%s", err.msg);
    cr_assert_eq(occam_plot_report(write_select("b.json", SELECT_POINTS ", \"best\": 3"), p, &err),
                 OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "best: expected null or a point index below 3"), "%s", err.msg);
    cr_assert_eq(occam_plot_report(write_select("c.json", "\"points\": [{\"set\": {},"
                                                          " \"total_bits\": \"many\"}]"), p, &err),
                 OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "points[0].total_bits"), "%s", err.msg);
    cr_assert_eq(occam_plot_report(write_select("d.json", "\"points\": [{\"total_bits\": 1}]"), p,
                                   &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "d.json: points[0].set"), "%s", err.msg);
    /* a best that select would not have named: it was drawn without its circle (a point
     * with no bits) or circled "shortest" where it is not (found by the CLI sweep) */
    cr_assert_eq(occam_plot_report(write_select("e.json", SELECT_POINTS ", \"best\": 2"), p, &err),
                 OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "e.json: best: point 2 has no total_bits (not trained or failed)"),
              "%s", err.msg);
    cr_assert_eq(occam_plot_report(write_select("f.json", SELECT_POINTS ", \"best\": 0"), p, &err),
                 OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "f.json: best: point 0 (L = 7000 bits) is not the first of least L: "
                              "point 1 has L = 6500 bits"), "%s", err.msg);
    cr_assert(!exists("out"));
    fclose(logf);
    free(log);
}

/* ---- gnuplot and the output folder ------------------------------------------------------- */

Test(plot, missing_gnuplot_is_runtime_error)
{
    const char *rep = write_report("r.json", HISTORY);
    occam_error err = {0};
    occam_plot_params p = {.out_dir = in_tmp("out"), .gnuplot = "/nonexistent/gnuplot"};
    cr_assert_eq(occam_plot_report(rep, p, &err), OCCAM_ERR_RUNTIME);
    cr_assert(strstr(err.msg, "/nonexistent/gnuplot") && strstr(err.msg, "gnuplot-nox"), "%s",
              err.msg);
    cr_assert(!occam_plot_have_gnuplot("/nonexistent/gnuplot"));
    cr_assert(!occam_plot_have_gnuplot("occam-no-such-program"));
    cr_assert(occam_plot_have_gnuplot("sh"));
}

Test(plot, failing_gnuplot_is_runtime_error)
{
    const char *rep = write_report("r.json", HISTORY);
    occam_error err = {0};
    /* `false` exits 1 without reading its input, as a gnuplot that rejects the script would;
     * the write into the dead pipe must not kill us with SIGPIPE. */
    occam_plot_params p = {.out_dir = in_tmp("out"), .gnuplot = "false"};
    cr_assert_eq(occam_plot_report(rep, p, &err), OCCAM_ERR_RUNTIME);
    cr_assert(strstr(err.msg, "failed") && strstr(err.msg, "learning.png"), "%s", err.msg);
    /* A command that exits 0 without drawing is caught too (or, if it was gone before the
     * script was written, the failed write is). */
    p.gnuplot = "true";
    cr_assert_eq(occam_plot_report(rep, p, &err), OCCAM_ERR_RUNTIME);
    cr_assert(strstr(err.msg, "without writing it") || strstr(err.msg, "could not send"), "%s",
              err.msg);
}

Test(plot, unusable_output_folder_is_runtime_error)
{
    need_gnuplot();
    const char *rep = write_report("r.json", HISTORY);
    write_text(in_tmp("file"), "x");
    occam_error err = {0};
    occam_plot_params p = {.out_dir = in_tmp("file/sub")};
    cr_assert_eq(occam_plot_report(rep, p, &err), OCCAM_ERR_RUNTIME);
    cr_assert(strstr(err.msg, "file/sub") || strstr(err.msg, "file"), "%s", err.msg);
    p.out_dir = in_tmp("file");
    cr_assert_eq(occam_plot_report(rep, p, &err), OCCAM_ERR_RUNTIME);
    cr_assert(strstr(err.msg, "not a folder"), "%s", err.msg);
    /* Nested folders that do not exist yet are created. */
    p.out_dir = in_tmp("a/b/c");
    cr_assert_eq(occam_plot_report(rep, p, &err), OCCAM_OK, "%s", err.msg);
    check_png("a/b/c/learning.png");
}

/* ---- masks ------------------------------------------------------------------------------- */

Test(plot, masks_downsampled_by_block_average)
{
    need_gnuplot();
    /* Layer 0: 601 x 3 with a mask keeping every third row: blocks of 3 x 1 (ceil(601/300) = 3)
     * hold one kept row each (1/3), except the last, a single kept row (1). Layer 1: 2 x 4
     * without a mask, so |w| != 0 decides. */
    enum { R0 = 601, C0 = 3 };
    static float w0[R0 * C0];
    static uint8_t m0[R0 * C0];
    for (int i = 0; i < R0; i++)
        for (int j = 0; j < C0; j++) {
            m0[i * C0 + j] = i % 3 == 0;
            w0[i * C0 + j] = m0[i * C0 + j] ? 0.5f : 0.0f;
        }
    float w1[8] = {1, 0, 2, 0, 0, 0, 3, -4}, b0[R0] = {0}, b1[2] = {0};
    occam_st_tensor t[] = {
        {"layers.0.weight", OCCAM_ST_F32, 2, {R0, C0}, w0},
        {"layers.0.bias", OCCAM_ST_F32, 1, {R0}, b0},
        {"layers.0.weight_mask", OCCAM_ST_U8, 2, {R0, C0}, m0},
        {"layers.1.weight", OCCAM_ST_F32, 2, {2, 4}, w1},
        {"layers.1.bias", OCCAM_ST_F32, 1, {2}, b1},
    };
    occam_error err = {0};
    const char *ck = in_tmp("m.safetensors");
    cr_assert_eq(occam_st_write(ck, t, 5, NULL, 0, &err), OCCAM_OK, "%s", err.msg);
    FILE *logf;
    char *log;
    size_t len;
    int rc = occam_plot_masks(ck, params(&logf, &log, &len), &err);
    fclose(logf);
    cr_assert_eq(rc, OCCAM_OK, "%s", err.msg);
    cr_assert(strstr(log, "mask_0.png") && strstr(log, "mask_1.dat"), "%s", log);
    free(log);
    check_png("out/mask_0.png");
    check_png("out/mask_1.png");
    cr_assert_eq(count_out_files(), 4);
    dat *d = the_dat();
    read_dat(d, "out/mask_0.dat", 0);
    cr_assert_eq(d->rows, 201);
    for (int a = 0; a < 201; a++) {
        cr_assert_eq(d->cols[a], 3);
        for (int b = 0; b < 3; b++)
            near(d->v[a][b], a < 200 ? 1.0 / 3 : 1.0, 1e-6, "mask_0 cell");
    }
    read_dat(d, "out/mask_1.dat", 0);
    cr_assert_eq(d->rows, 2);
    static const double want[2][4] = {{1, 0, 1, 0}, {0, 0, 1, 1}};
    for (int a = 0; a < 2; a++) {
        cr_assert_eq(d->cols[a], 4);
        for (int b = 0; b < 4; b++) near(d->v[a][b], want[a][b], 0, "mask_1 cell");
    }
}

/* The mask's title gave its sparsity with two decimals: one weight kept of 300 x 784 (a layer
 * of configs/default.ini) is 99.99957% and read "sparsity 100.00%", with the figure all white
 * but for one speck; one weight pruned read 0.00%. Decimals are added until neither happens. */
Test(plot, a_mask_title_never_rounds_to_all_or_none_pruned)
{
    need_gnuplot();
    enum { R = 300, C = 784 };
    TEST_KEPT(float, w0, R * C);
    TEST_KEPT(float, w1, R * C);
    static float b0[R], b1[C];
    w0[12345] = 0.5f;
    for (int i = 0; i < R * C; i++) w1[i] = i == 777 ? 0.0f : 1.0f;
    occam_st_tensor t[] = {
        {"layers.0.weight", OCCAM_ST_F32, 2, {R, C}, w0},
        {"layers.0.bias", OCCAM_ST_F32, 1, {R}, b0},
        {"layers.1.weight", OCCAM_ST_F32, 2, {C, R}, w1},
        {"layers.1.bias", OCCAM_ST_F32, 1, {C}, b1},
    };
    occam_error err = {0};
    const char *ck = in_tmp("m.safetensors");
    cr_assert_eq(occam_st_write(ck, t, 4, NULL, 0, &err), OCCAM_OK, "%s", err.msg);
    const char *s = plot_script_of(ck, true);
    cr_assert(strstr(s, "sparsity 99.9996%"), "%s", s);
    cr_assert(strstr(s, "sparsity 0.0004%"), "%s", s);
    cr_assert(!strstr(s, "100.00%") && !strstr(s, "sparsity 0.00%"), "%s", s);
}

Test(plot, mask_errors_are_input_errors)
{
    float w[4] = {1, 2, 3, 4};
    uint8_t m[6] = {1};
    occam_st_tensor t[] = {
        {"layers.0.weight", OCCAM_ST_F32, 2, {2, 2}, w},
        {"layers.0.weight_mask", OCCAM_ST_U8, 2, {2, 3}, m},
    };
    occam_error err = {0};
    const char *ck = in_tmp("bad.safetensors");
    cr_assert_eq(occam_st_write(ck, t, 2, NULL, 0, &err), OCCAM_OK, "%s", err.msg);
    occam_plot_params p = {.out_dir = in_tmp("out")};
    cr_assert_eq(occam_plot_masks(ck, p, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, ck) && strstr(err.msg, "layers.0.weight_mask"), "%s", err.msg);
    cr_assert_eq(occam_st_write(ck, t + 1, 1, NULL, 0, &err), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(occam_plot_masks(ck, p, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "layers.0.weight"), "%s", err.msg);
    cr_assert_eq(occam_plot_masks(in_tmp("none.safetensors"), p, &err), OCCAM_ERR_INPUT);
    /* An .occ file (its magic read as a header length) was "truncated: header says
     * 5495602439501595471 bytes"; a report, likewise. Now each says what it is not. */
    const char *occ = in_tmp("m.occ");
    write_text(occ, "OCCAMMDL\x01\x00\x00\x00 and the rest of a compressed model");
    cr_assert_eq(occam_plot_masks(occ, p, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "m.occ: an .occ file (occam compress)"), "%s", err.msg);
    const char *rep = in_tmp("r.json");
    write_text(rep, "{\"command\": \"train\", \"history\": []}");
    cr_assert_eq(occam_plot_masks(rep, p, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "r.json: truncated, or not a safetensors file"), "%s", err.msg);
    cr_assert(!exists("out"));
}

/* ---- scaling ----------------------------------------------------------------------------- */

#define SCALING_HEADER                                                                           \
    "study,model,threads,batch,samples_per_second,gflops,speedup,efficiency,sgemm_gflops,"      \
    "sgemm_speedup,forward,backward,wait,update\n"

Test(plot, scaling_groups_by_study_and_model_sorted_by_threads)
{
    need_gnuplot();
    const char *csv = in_tmp("scaling.csv");
    write_text(csv, SCALING_HEADER
               "strong,lenet,4,128,400,1,3.1,0.775,700,3.5,0.5,0.4,0.01,0.09\n"
               "strong,lenet,1,128,100,1,1,1,200,1,0.5,0.4,0,0.1\n"
               "strong,wide,1,512,10,1,1,1,200,1,0.4,0.5,0,0.1\r\n"
               "strong,lenet,2,128,180,1,1.8,0.9,390,1.95,0.5,0.4,0.01,0.09\n"
               "\n"
               "weak,lenet,1,128,100,1,1,1,200,1,0.5,0.4,0,0.1\n"
               "strong,wide,2,512,19,1,1.9,0.95,400,1.99,0.4,0.5,0,0.1\n"
               "weak,lenet,2,256,196,1,1.96,0.98,392,1.96,0.5,0.4,0,0.1\n");
    FILE *logf;
    char *log;
    size_t len;
    occam_error err = {0};
    int rc = occam_plot_scaling(csv, params(&logf, &log, &len), &err);
    fclose(logf);
    free(log);
    cr_assert_eq(rc, OCCAM_OK, "%s", err.msg);
    check_png("out/scaling.png");
    cr_assert_eq(count_out_files(), 2);
    dat *d = the_dat();
    /* blocks in order of first appearance: strong lenet, strong wide, weak lenet */
    read_dat(d, "out/scaling.dat", 0);
    cr_assert_eq(d->rows, 3);
    static const double lenet[3][3] = {{1, 1, 1}, {2, 1.8, 1.95}, {4, 3.1, 3.5}};
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < 3; k++) near(d->v[i][k], lenet[i][k], 1e-12, "strong lenet");
    read_dat(d, "out/scaling.dat", 1);
    cr_assert_eq(d->rows, 2);
    near(d->v[1][1], 1.9, 1e-12, "strong wide speedup");
    read_dat(d, "out/scaling.dat", 2);
    cr_assert_eq(d->rows, 2);
    near(d->v[1][2], 1.96, 1e-12, "weak lenet sgemm");
    read_dat(d, "out/scaling.dat", 3);
    cr_assert_eq(d->rows, 0);
}

/* A quote in the output folder and in a model name must reach gnuplot escaped; an empty
 * sgemm_speedup is NaN in the .dat (no dashed curve), and the last line may lack its newline. */
Test(plot, scaling_quotes_and_empty_sgemm)
{
    need_gnuplot();
    const char *csv = in_tmp("s.csv");
    write_text(csv, "model,threads,speedup,study,sgemm_speedup\n"
                    "it's,2,1.9,strong,\n"
                    "it's,1,1,strong,");
    FILE *logf;
    char *log;
    size_t len;
    occam_error err = {0};
    occam_plot_params p = params(&logf, &log, &len);
    p.out_dir = in_tmp("o'ut");
    int rc = occam_plot_scaling(csv, p, &err);
    fclose(logf);
    cr_assert_eq(rc, OCCAM_OK, "%s", err.msg);
    cr_assert(strstr(log, "wrote ") && strstr(log, "o'ut/scaling.png"), "%s", log);
    free(log);
    check_png("o'ut/scaling.png");
    dat *d = the_dat();
    read_dat(d, "o'ut/scaling.dat", 0);
    cr_assert_eq(d->rows, 2);
    near(d->v[0][0], 1, 0, "threads sorted");
    near(d->v[1][1], 1.9, 1e-12, "speedup");
    cr_assert(isnan(d->v[0][2]) && isnan(d->v[1][2]), "empty sgemm_speedup should be NaN");
}

Test(plot, scaling_errors_name_file_and_line)
{
    occam_plot_params p = {.out_dir = in_tmp("out")};
    occam_error err = {0};
    const char *csv = in_tmp("s.csv");
    write_text(csv, "study,model,threads,sgemm_speedup\nstrong,lenet,1,1\n");
    cr_assert_eq(occam_plot_scaling(csv, p, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "s.csv:1: no 'speedup' column"), "%s", err.msg);
    write_text(csv, SCALING_HEADER "strong,lenet,1,128,1,1,1,1,1,1,1,1,1,1\n"
                                   "strong,lenet,2,128,1,1,fast,1,1,1,1,1,1,1\n");
    cr_assert_eq(occam_plot_scaling(csv, p, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "s.csv:3: speedup 'fast' is not a number"), "%s", err.msg);
    write_text(csv, SCALING_HEADER "strong,lenet,1,128\n");
    cr_assert_eq(occam_plot_scaling(csv, p, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "s.csv:2: 4 fields, the header has 14"), "%s", err.msg);
    write_text(csv, SCALING_HEADER);
    cr_assert_eq(occam_plot_scaling(csv, p, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "no data rows"), "%s", err.msg);
    /* a control byte in a name would garble the title and end the .dat's comment line */
    write_text(csv, SCALING_HEADER "strong,lenet,1,128,1,1,1,1,1,1,1,1,1,1\n"
                                   "str\rong,lenet,2,128,1,1,1,1,1,1,1,1,1,1\n");
    cr_assert_eq(occam_plot_scaling(csv, p, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "s.csv:3: the study name has a control byte (0x0d)"), "%s",
              err.msg);
    write_text(csv, SCALING_HEADER "strong,le\033net,1,128,1,1,1,1,1,1,1,1,1,1\n");
    cr_assert_eq(occam_plot_scaling(csv, p, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "s.csv:2: the model name has a control byte (0x1b)"), "%s",
              err.msg);
    cr_assert(!exists("out"));
}

/* The grouping is quadratic in the rows: 2*10^5 rows of one study took 48 s, and as many
 * studies (a panel each) did not finish in a minute. Both are refused now. */
Test(plot, a_scaling_csv_of_endless_rows_or_studies_is_refused, .timeout = 20)
{
    occam_plot_params p = {.out_dir = in_tmp("out")};
    occam_error err = {0};
    const char *csv = in_tmp("s.csv");
    FILE *f = fopen(csv, "w");
    cr_assert_not_null(f);
    fputs("study,model,threads,speedup,sgemm_speedup\n", f);
    for (int i = 0; i < 200000; i++) fprintf(f, "strong,lenet,%d,1,1\n", 200000 - i);
    cr_assert_eq(fclose(f), 0);
    cr_assert_eq(occam_plot_scaling(csv, p, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "s.csv:4098: more than 4096 data rows"), "%s", err.msg);
    f = fopen(csv, "w");
    cr_assert_not_null(f);
    fputs("study,model,threads,speedup,sgemm_speedup\n", f);
    for (int i = 0; i < 17; i++) fprintf(f, "s%d,lenet,1,1,1\n", i);
    cr_assert_eq(fclose(f), 0);
    cr_assert_eq(occam_plot_scaling(csv, p, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "s.csv: more than 16 studies"), "%s", err.msg);
    cr_assert(!exists("out"));
}

/* A NUL byte in a plot input is refused with its line, as the data readers refuse it: the
 * scaling CSV's lines were split with strchr, so a NUL ended the file there, and the rows after
 * it were dropped with exit 0 (a study of 1, 2, 4 threads drew 1 and 2). */
Test(plot, a_nul_byte_in_an_input_is_refused_with_its_line)
{
    occam_plot_params p = {.out_dir = in_tmp("out")};
    occam_error err = {0};
    const char *csv = in_tmp("s.csv");
    static const char rows[] = SCALING_HEADER "strong,lenet,1,128,1,1,1,1,1,1,1,1,1,1\n"
                                              "strong,lenet,2,128,1,1,2,1,1,1,1,1,1,1\0\n"
                                              "strong,lenet,4,128,1,1,4,1,1,1,1,1,1,1\n";
    FILE *f = fopen(csv, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(rows, 1, sizeof rows - 1, f), sizeof rows - 1);
    cr_assert_eq(fclose(f), 0);
    cr_assert_eq(occam_plot_scaling(csv, p, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "s.csv:3: line contains a NUL byte (not a text file?)"), "%s",
              err.msg);
    const char *rep = in_tmp("r.json");
    f = fopen(rep, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite("{\n\"history\": []\0}", 1, 18, f), 18);
    cr_assert_eq(fclose(f), 0);
    cr_assert_eq(occam_plot_report(rep, p, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "r.json:2: line contains a NUL byte"), "%s", err.msg);
    cr_assert(!exists("out"));
}

/* ---- the command line -------------------------------------------------------------------- */

/* Runs `$OCCAM_BIN plot ARGS` with stdout and stderr captured; returns the exit status. */
static int occam_plot_cli(char *out, size_t cap, const char *env, const char *args)
{
    const char *bin = shell_occam_bin();
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s %s plot %s 2>&1", env, bin, args);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = 0;
    int st = pclose(p);
    cr_assert(WIFEXITED(st), "%s: status %d", cmd, st);
    return WEXITSTATUS(st);
}

Test(plot, cli_exit_codes_and_one_line_per_file)
{
    need_gnuplot();
    static char out[8192];
    char rep[512]; /* in_tmp's buffers are reused */
    snprintf(rep, sizeof rep, "%s", write_report("r.json", HISTORY ", " PRUNE));
    char args[1024];
    snprintf(args, sizeof args, "'%s' --out '%s'", rep, in_tmp("out"));
    cr_assert_eq(occam_plot_cli(out, sizeof out, "", args), 0, "%s", out);
    int lines = 0;
    for (char *s = out; (s = strstr(s, "wrote ")); s++) lines++;
    cr_assert_eq(lines, 6, "%s", out);
    check_png("out/mdl_bits.png");

    write_text(in_tmp("bad.json"), "{");
    snprintf(args, sizeof args, "'%s' --out '%s'", in_tmp("bad.json"), in_tmp("out2"));
    cr_assert_eq(occam_plot_cli(out, sizeof out, "", args), 2, "%s", out);
    cr_assert(strstr(out, in_tmp("bad.json")), "%s", out);

    snprintf(args, sizeof args, "'%s' --out '%s'", rep, in_tmp("out3"));
    cr_assert_eq(occam_plot_cli(out, sizeof out, "PATH=/nonexistent", args), 1, "%s", out);
    cr_assert(strstr(out, "gnuplot"), "%s", out);

    /* An output folder that cannot be made is refused before anything is read (issue 12). */
    write_text(in_tmp("file"), "x");
    snprintf(args, sizeof args, "'%s' --out '%s/sub'", rep, in_tmp("file"));
    cr_assert_eq(occam_plot_cli(out, sizeof out, "", args), 2, "%s", out);

    cr_assert_eq(occam_plot_cli(out, sizeof out, "", "--out x"), 2, "%s", out);
    cr_assert(strstr(out, "nothing to plot"), "%s", out);
    snprintf(args, sizeof args, "'%s'", rep);
    cr_assert_eq(occam_plot_cli(out, sizeof out, "", args), 2, "%s", out);
    cr_assert(strstr(out, "--out"), "%s", out);
}

/* An input inside the output folder under a figure's name was written over: 'occam plot
 * DIR/learning.dat --out DIR' (a report saved under that name) replaced the report with the
 * figure's numbers and exited 0 (found by the CLI sweep; every other command refuses an output
 * that is one of its inputs). Now the figure is refused, exit 2, the input as it was. */
Test(plot, an_output_never_replaces_an_input)
{
    need_gnuplot();
    static char out[8192], rep[512], args[2048], before[1 << 16], after[1 << 16];
    cr_assert_eq(mkdir(in_tmp("out"), 0700), 0);
    snprintf(rep, sizeof rep, "%s", write_report("out/learning.dat", HISTORY ", " PRUNE));
    FILE *f = fopen(rep, "rb");
    cr_assert_not_null(f);
    size_t n = fread(before, 1, sizeof before, f);
    fclose(f);
    snprintf(args, sizeof args, "'%s' --out '%s'", rep, in_tmp("out"));
    cr_assert_eq(occam_plot_cli(out, sizeof out, "", args), 2, "%s", out);
    cr_assert(strstr(out, "/learning.dat lies in it under a name plot writes (.png, .dat), and "
                          "a figure would replace it; choose another folder"), "%s", out);
    f = fopen(rep, "rb");
    cr_assert_not_null(f);
    cr_assert_eq(fread(after, 1, sizeof after, f), n);
    fclose(f);
    cr_assert(!memcmp(before, after, n), "the report changed");
    /* named like a later figure, it stopped the run after the earlier figures were written:
     * a bad input writes nothing (found by the fourth hostile-input sweep) */
    cr_assert_eq(rename(rep, in_tmp("out/weights.png")), 0);
    snprintf(args, sizeof args, "'%s' --out '%s'", in_tmp("out/weights.png"), in_tmp("out"));
    cr_assert_eq(occam_plot_cli(out, sizeof out, "", args), 2, "%s", out);
    cr_assert(strstr(out, "a figure would replace it"), "%s", out);
    cr_assert_null(strstr(out, "wrote "), "%s", out);
    DIR *d = opendir(in_tmp("out"));
    cr_assert_not_null(d);
    int entries = 0;
    for (struct dirent *e; (e = readdir(d));) entries += e->d_name[0] != '.';
    closedir(d);
    cr_assert_eq(entries, 1, "figures were written beside the input");
    cr_assert_eq(rename(in_tmp("out/weights.png"), rep), 0);
    /* the same report from elsewhere draws into that folder */
    snprintf(args, sizeof args, "'%s' --out '%s/sub'", rep, in_tmp("out"));
    cr_assert_eq(occam_plot_cli(out, sizeof out, "", args), 0, "%s", out);
}

/* A 3-4-2 model's checkpoint at path (its first weights 1, the rest 0). */
static void write_3_4_2(const char *path)
{
    float w0[12] = {1}, w1[8] = {1}, b0[4] = {0}, b1[2] = {0};
    occam_st_tensor t[] = {
        {"layers.0.weight", OCCAM_ST_F32, 2, {4, 3}, w0},
        {"layers.0.bias", OCCAM_ST_F32, 1, {4}, b0},
        {"layers.1.weight", OCCAM_ST_F32, 2, {2, 4}, w1},
        {"layers.1.bias", OCCAM_ST_F32, 1, {2}, b1},
    };
    occam_error err = {0};
    cr_assert_eq(occam_st_write(path, t, 4, NULL, 0, &err), OCCAM_OK, "%s", err.msg);
}

/* 'occam plot r.json --checkpoint other.safetensors' drew the masks of another model beside
 * the report's figures, exit 0, without a word. Now a checkpoint whose layer shapes are not
 * those of the report's layers[] is refused (exit 2, naming both files and the first layer
 * that differs) before anything is drawn; the report's own checkpoint passes, and a report
 * that lists no layers (one of occam select) cannot be checked and gets a note. */
Test(plot, a_checkpoint_of_another_model_is_refused)
{
    occam_error err = {0};
    static char ck[512], same[512], other[512], shallow[512], bad[512], none[512];
    snprintf(ck, sizeof ck, "%s", in_tmp("m.safetensors"));
    write_3_4_2(ck);
#define LAYER(l, i, o) "{\"layer\": " #l ", \"in\": " #i ", \"out\": " #o "}"
    snprintf(same, sizeof same, "%s",
             write_report("same.json", HISTORY ", \"layers\": [" LAYER(0, 3, 4) ", "
                                       LAYER(1, 4, 2) "]"));
    snprintf(other, sizeof other, "%s",
             write_report("other.json", HISTORY ", \"layers\": [" LAYER(0, 3, 5) ", "
                                        LAYER(1, 5, 2) "]"));
    snprintf(shallow, sizeof shallow, "%s",
             write_report("shallow.json", HISTORY ", \"layers\": [" LAYER(0, 3, 2) "]"));
    snprintf(bad, sizeof bad, "%s",
             write_report("bad.json", HISTORY ", \"layers\": [" LAYER(0, 3, 4) ", "
                                      "{\"layer\": 1, \"in\": 4.5, \"out\": 2}]"));
    snprintf(none, sizeof none, "%s", write_report("none.json", HISTORY));
#undef LAYER
    cr_assert_eq(occam_plot_check_pair(same, ck, &err), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(occam_plot_check_pair(none, ck, &err), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(occam_plot_check_pair(other, ck, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, other) && strstr(err.msg, ck), "%s", err.msg);
    cr_assert(strstr(err.msg, "the report's is 3-5-2 (its layers[]), the checkpoint's 3-4-2 "
                              "(weight layer 0 is 5 x 3 (out x in) in the report, 4 x 3 in the "
                              "checkpoint)"), "%s", err.msg);
    cr_assert_eq(occam_plot_check_pair(shallow, ck, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "1 weight layer in the report, 2 in the checkpoint"), "%s",
              err.msg);
    cr_assert_eq(occam_plot_check_pair(bad, ck, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "layers[1].in: expected a positive integer"), "%s", err.msg);
    /* the command: exit 2 before anything is drawn */
    static char out[8192], args[2048];
    snprintf(args, sizeof args, "'%s' --checkpoint '%s' --out '%s'", other, ck, in_tmp("out"));
    cr_assert_eq(occam_plot_cli(out, sizeof out, "", args), 2, "%s", out);
    cr_assert(strstr(out, "are different models") && strstr(out, other) && strstr(out, ck),
              "%s", out);
    cr_assert_eq(count_out_files(), 0, "%s", out);
}

/* 'occam plot r.json --scaling missing.csv' (or a malformed CSV, or an .occ file as
 * --checkpoint) drew the report's figures and only then read the second input: exit 2, with
 * the figures of the good input left in --out (found by the hostile-input sweep). plot.h says a
 * bad input writes no files; now every input is read and checked before the first is drawn. */
Test(plot, a_bad_second_input_draws_nothing)
{
    need_gnuplot();
    static char out[8192], args[4096], rep[512], ck[512], occ[512], bad[512], good[512];
    snprintf(ck, sizeof ck, "%s", in_tmp("m.safetensors"));
    write_3_4_2(ck);
    snprintf(rep, sizeof rep, "%s", write_report("r.json", HISTORY ", " PRUNE));
    snprintf(occ, sizeof occ, "%s", in_tmp("m.occ"));
    write_text(occ, "OCCAMMDL, then nothing an .occ file would hold");
    snprintf(bad, sizeof bad, "%s", in_tmp("bad.csv"));
    write_text(bad, SCALING_HEADER "strong,lenet,1,128,1,1,fast,1,1,1,1,1,1,1\n");
    snprintf(good, sizeof good, "%s", in_tmp("good.csv"));
    write_text(good, SCALING_HEADER "strong,lenet,1,128,1,1,1,1,1,1,1,1,1,1\n");
    const char *cases[][3] = {
        {"--scaling", in_tmp("missing.csv"), "cannot read"},
        {"--scaling", bad, "speedup 'fast' is not a number"},
        {"--checkpoint", in_tmp("missing.safetensors"), "cannot open"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(args, sizeof args, "'%s' %s '%s' --out '%s'", rep, cases[i][0], cases[i][1],
                 in_tmp("out"));
        cr_assert_eq(occam_plot_cli(out, sizeof out, "", args), 2, "%s", out);
        cr_assert(strstr(out, cases[i][2]), "%s: %s", args, out);
        cr_assert_eq(count_out_files(), 0, "%s: %s", args, out);
    }
    snprintf(args, sizeof args, "'%s' --checkpoint '%s' --out '%s'", rep, occ, in_tmp("out"));
    cr_assert_eq(occam_plot_cli(out, sizeof out, "", args), 2, "%s", out);
    cr_assert(strstr(out, "an .occ file"), "%s", out);
    cr_assert_eq(count_out_files(), 0, "%s", out);
    /* a report through a pipe beside --checkpoint: read twice (the pair's check, the figures),
     * a FIFO waited for a writer for ever and a pipe read empty the second time; refused
     * from its stat, before it is opened (found by the review) */
    const char *fifo = in_tmp("r.fifo");
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    snprintf(args, sizeof args, "'%s' --checkpoint '%s' --out '%s'", fifo, ck, in_tmp("out"));
    cr_assert_eq(occam_plot_cli(out, sizeof out, "", args), 2, "%s", out);
    cr_assert(strstr(out, "is not a regular file, and with --checkpoint the report is read "
                          "twice"), "%s", out);
    cr_assert_eq(count_out_files(), 0, "%s", out);
    unlink(fifo);
    /* a checkpoint then a bad CSV: no masks either */
    snprintf(args, sizeof args, "--checkpoint '%s' --scaling '%s' --out '%s'", ck, bad,
             in_tmp("out"));
    cr_assert_eq(occam_plot_cli(out, sizeof out, "", args), 2, "%s", out);
    cr_assert_eq(count_out_files(), 0, "%s", out);
    /* all three good: every figure, each once */
    snprintf(args, sizeof args, "'%s' --checkpoint '%s' --scaling '%s' --out '%s'", rep, ck, good,
             in_tmp("out"));
    cr_assert_eq(occam_plot_cli(out, sizeof out, "", args), 0, "%s", out);
    cr_assert(exists("out/learning.png") && exists("out/mask_1.png") &&
                  exists("out/scaling.png"), "%s", out);
    int lines = 0;
    for (char *s = out; (s = strstr(s, "wrote ")); s++) lines++;
    cr_assert_eq(lines, count_out_files(), "%s", out);
}
