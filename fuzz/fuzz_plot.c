/* libFuzzer harness for what `occam plot` reads: a report of `occam train` or `occam select`
 * (occam_plot_report), a scaling CSV (occam_plot_scaling), a checkpoint (occam_plot_masks) and
 * a report beside a checkpoint (occam_plot_check_pair).
 *
 * Input layout: byte 0 picks the reader (its value mod 4: report, scaling CSV, checkpoint, pair)
 * and the rest is the file. For a pair, bytes 1-2 are the report's length n (little-endian),
 * then come the report's n bytes and the checkpoint. A checkpoint gets its checksum fixed up
 * (fuzz_fix_safetensors) so that mutations reach the readers behind it.
 *
 * Every entry point is called with check_only: it reads and checks the input as for drawing
 * and returns before it makes the output folder or runs gnuplot. So nothing is drawn, no
 * thread is started, and the output folder, in a temporary folder of its own, must never
 * appear (a gnuplot command that does not exist would fail the call if one were looked for).
 * Beyond "no crash, no leak, an honest status", a report the entry point takes must load
 * (plot_report_load) into sound arrays, and one whose load fails must be refused with the
 * load's message. */
#include <dirent.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../src/cli/plot-impl.h"
#include "fuzz_util.h"

static char tmp_dir[4096];
static char out_dir[4096 + 16];
static char gnuplot[4096 + 16];

static void remove_tmp(void) { rmdir(tmp_dir); }

/* An empty temporary folder of our own, and an output folder and a gnuplot inside it that do
 * not exist. */
static void tmp_open(void)
{
    if (tmp_dir[0]) return;
    const char *dirs[3] = {"/dev/shm", getenv("TMPDIR"), "/tmp"};
    for (int i = 0; i < 3 && !tmp_dir[0]; i++) {
        if (!dirs[i] || !dirs[i][0] || access(dirs[i], W_OK) != 0) continue;
        snprintf(tmp_dir, sizeof tmp_dir, "%s/occam-fuzz-plot-XXXXXX", dirs[i]);
        if (!mkdtemp(tmp_dir)) tmp_dir[0] = 0;
    }
    FUZZ_CHECK(tmp_dir[0]);
    atexit(remove_tmp);
    snprintf(out_dir, sizeof out_dir, "%s/out", tmp_dir);
    snprintf(gnuplot, sizeof gnuplot, "%s/gnuplot", tmp_dir);
}

/* Nothing was written: the temporary folder is still empty. And nothing was looked for
 * beyond the input: with check_only, a failure other than running out of memory is the
 * input's (the missing gnuplot, or a folder that could not be made, would be runtime errors). */
static void check_nothing_written(int rc, const occam_error *err)
{
    FUZZ_CHECK(rc != OCCAM_ERR_RUNTIME || strstr(err->msg, "out of memory"));
    DIR *d = opendir(tmp_dir);
    FUZZ_CHECK(d != NULL);
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        FUZZ_CHECK(!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."));
    closedir(d);
}

static occam_plot_params params(const char *in0, const char *in1)
{
    return (occam_plot_params){.out_dir = out_dir, .gnuplot = gnuplot, .log = NULL,
                               .inputs = {in0, in1, NULL}, .check_only = true};
}

static void check_histogram(const plot_histogram *h)
{
    FUZZ_CHECK(h->n >= 1 && h->edges && h->counts);
    for (size_t i = 0; i < h->n; i++) {
        FUZZ_CHECK(isfinite(h->edges[i]) && h->edges[i + 1] > h->edges[i]);
        FUZZ_CHECK(isfinite(h->counts[i]) && h->counts[i] >= 0);
    }
}

/* plot_report_load's promises: rows of finite or NaN (absent) numbers, an epoch in each
 * history row, a sparsity in each event, priors of 1 to OCCAM_PRIOR_MAX components with
 * sigma > 0, no or one pooled histogram, or one per layer with a prior. */
static void check_report(const plot_report *r)
{
    FUZZ_CHECK(!r->nh || r->h);
    for (size_t i = 0; i < r->nh; i++) {
        FUZZ_CHECK(isfinite(r->h[i][H_EPOCH]));
        for (int k = 0; k < H_COLS; k++) FUZZ_CHECK(!isinf(r->h[i][k]));
    }
    FUZZ_CHECK(!r->ne || r->ev);
    for (size_t i = 0; i < r->ne; i++) {
        FUZZ_CHECK(isfinite(r->ev[i][E_SPARSITY]));
        for (int k = 0; k < E_COLS; k++) FUZZ_CHECK(!isinf(r->ev[i][k]));
    }
    FUZZ_CHECK(r->best_event >= -1 && (size_t)(r->best_event + 1) <= r->ne + 1);
    FUZZ_CHECK(r->nl >= 0 && r->nl <= PLOT_MAX_LAYERS && (!r->nl || r->layers));
    /* a layer pruned away has no prior (k = 0); layers are kept only if one has */
    bool any_prior = false;
    for (int l = 0; l < r->nl; l++) {
        const occam_prior *p = &r->layers[l].prior;
        FUZZ_CHECK(r->layers[l].in >= 0 && r->layers[l].out >= 0);
        FUZZ_CHECK(p->k >= 0 && p->k <= OCCAM_PRIOR_MAX);
        any_prior |= p->k > 0;
        for (int j = 0; j < p->k; j++)
            FUZZ_CHECK(p->sigma[j] > 0 && isfinite(p->sigma[j]) && p->pi[j] >= 0 &&
                       isfinite(p->pi[j]) && isfinite(p->mu[j]));
    }
    FUZZ_CHECK(r->nl == 0 || any_prior);
    FUZZ_CHECK(r->nhist >= 0 && (!r->nhist || r->hist));
    if (r->hist_per_layer) FUZZ_CHECK(r->nhist == 0 || r->nhist == r->nl);
    else FUZZ_CHECK(r->nhist <= 1);
    for (int i = 0; i < r->nhist; i++) check_histogram(&r->hist[i]);
}

static void report(const char *path)
{
    occam_error err = {0};
    int rc = occam_plot_report(path, params(path, NULL), &err);
    fuzz_check_status("occam_plot_report", rc, &err, path);
    check_nothing_written(rc, &err);
    plot_report r;
    memset(&r, 0xA5, sizeof r); /* the loader must not rely on a zeroed output */
    occam_error lerr = {0};
    int lrc = plot_report_load(&r, path, &lerr);
    fuzz_check_status("plot_report_load", lrc, &lerr, path);
    if (lrc != OCCAM_OK) {
        FUZZ_CHECK(rc == lrc && strcmp(err.msg, lerr.msg) == 0);
        FUZZ_CHECK(!r.h && !r.ev && !r.layers && !r.hist && !r.nh && !r.ne && !r.nl);
        return;
    }
    if (!r.select) check_report(&r);
    plot_report_free(&r);
}

static void scaling(const char *path)
{
    occam_error err = {0};
    int rc = occam_plot_scaling(path, params(path, NULL), &err);
    fuzz_check_status("occam_plot_scaling", rc, &err, path);
    check_nothing_written(rc, &err);
}

static void masks(const char *path)
{
    occam_error err = {0};
    int rc = occam_plot_masks(path, params(path, NULL), &err);
    fuzz_check_status("occam_plot_masks", rc, &err, path);
    check_nothing_written(rc, &err);
}

static ssize_t discard(void *cookie, const char *buf, size_t n)
{
    (void)cookie, (void)buf;
    return (ssize_t)n;
}

static void pair(const char *report_path, const char *checkpoint_path)
{
    /* a report without layers[] gets a note on stderr: not for every input of a campaign (a
     * sanitizer writes to descriptor 2, not through stderr) */
    static FILE *none;
    if (!none) none = fopencookie(NULL, "w", (cookie_io_functions_t){.write = discard});
    FUZZ_CHECK(none != NULL);
    FILE *real = stderr;
    stderr = none;
    occam_error err = {0};
    int rc = occam_plot_check_pair(report_path, checkpoint_path, &err);
    stderr = real;
    fuzz_check_status("occam_plot_check_pair", rc, &err, NULL);
    if (rc == OCCAM_ERR_INPUT)
        FUZZ_CHECK(strstr(err.msg, report_path) || strstr(err.msg, checkpoint_path));
    check_nothing_written(rc, &err);
}

/* A copy of data[0..n) with its safetensors checksum fixed up, written to scratch slot. */
static const char *write_fixed(int slot, const uint8_t *data, size_t n)
{
    uint8_t *fixed = malloc(n ? n : 1);
    FUZZ_CHECK(fixed != NULL);
    memcpy(fixed, data, n);
    fuzz_fix_safetensors(fixed, n);
    const char *path = fuzz_file_write(slot, fixed, n);
    free(fixed);
    return path;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    tmp_open();
    const uint8_t *file = data + 1;
    size_t n = size - 1;
    switch (data[0] & 3) {
    case 0: report(fuzz_file_write(0, file, n)); break;
    case 1: scaling(fuzz_file_write(0, file, n)); break;
    case 2: masks(write_fixed(0, file, n)); break;
    case 3: {
        if (n < 2) return 0;
        size_t rn = (size_t)file[0] | (size_t)file[1] << 8;
        if (rn > n - 2) rn = n - 2;
        const char *rp = fuzz_file_write(0, file + 2, rn);
        pair(rp, write_fixed(1, file + 2 + rn, n - 2 - rn));
        break;
    }
    }
    return 0;
}
