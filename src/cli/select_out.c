/* `occam select`'s outputs: the header and the table on stdout, and the JSON report.
 *
 * Report fields (stable names, scripts read them): command ("select"), version, config_file,
 * task, metric ("accuracy" or "relative_error": what train and test hold), grid[] ({key,
 * values[]} per --grid, in order), points[] (one per grid point, in grid order: index, set {key:
 * value}, status "done" | "failed" | "not trained", code, total_bits, model_bits, data_bits,
 * train, test, threads, seconds, error when failed, and same_as, the earlier point whose run
 * it took, when its config differs from that point's only in keys that do not apply (seconds
 * is then 0); numbers are null where there is none),
 * best (the index of the shortest point, null when none), interrupted, and config (the
 * effective config before the grid's values). A value in set is a JSON number or boolean when
 * it is written as one, else a string (grid_json_value). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "select-impl.h"
#include "occam/checkpoint.h"
#include "occam/comm.h"
#include "occam/json.h"
#include "occam/outfile.h"
#include "occam/report.h"
#include "occam/version.h"

static bool classify(const select_run *s) { return s->base.data.task == OCCAM_TASK_CLASSIFY; }

void select_print_header(const select_run *s, FILE *out)
{
    char summary[512];
    occam_config_summary(&s->base, summary, sizeof summary);
    fprintf(out, "# occam select %s: %d point%s over ", cli_shown(s->o->config), s->g.npoints,
            s->g.npoints == 1 ? "" : "s");
    for (int a = 0; a < s->g.naxes; a++)
        fprintf(out, "%s%s (%d)", a ? " x " : "", s->g.axis[a].key, s->g.axis[a].n);
    fprintf(out, ", the first --grid varying slowest\n# before the grid: %s\n"
                 "# changed from the defaults before the grid:\n", cli_shown(summary));
    if (occam_config_write_ini_changed(&s->base, out) == 0) fprintf(out, "# (none)\n");
    fflush(out);
}

/* ---- the table ----------------------------------------------------------------------------- */

static int imax(int a, int b) { return a > b ? a : b; }

static void print_row(const select_run *s, int p, const int *w, int wm, FILE *out)
{
    const select_point *pt = &s->pt[p];
    fprintf(out, "%5d", p);
    for (int a = 0; a < s->g.naxes; a++)
        fprintf(out, "  %-*s", w[a], grid_value(&s->g, p, a));
    fprintf(out, "  %-9s", occam_dl_code_name(pt->code));
    if (pt->state == POINT_PENDING)
        fprintf(out, "  not trained (the grid ended early)\n");
    else if (pt->state == POINT_FAILED)
        fprintf(out, "  failed: %s\n", pt->msg);
    else {
        fprintf(out, "  %11.1f  %11.1f  %11.1f", pt->total_bits, pt->model_bits,
                pt->data_bits);
        /* "-": no test set, or a metric with no value (the relative error of a constant
         * target), which printed as "nan" for the training rows */
        const double m[2] = {pt->train_metric, pt->test_metric};
        char shown[24];
        for (int k = 0; k < 2; k++)
            fprintf(out, "  %*s", wm, isfinite(m[k]) ? cli_metric(shown, sizeof shown, m[k]) : "-");
        fprintf(out, "%s\n", p == s->best ? "  <- shortest" : "");
    }
}

/* Points that took an earlier point's run: a line per earlier point. */
static void print_same_note(const select_run *s, FILE *out)
{
    for (int k = 0; k < s->g.npoints; k++) {
        int n = 0, many = 0;
        const char *why = NULL;
        for (int p = k + 1; p < s->g.npoints; p++)
            many += s->pt[p].same_as == k && s->pt[p].state != POINT_PENDING;
        for (int p = k + 1; p < s->g.npoints; p++) {
            const select_point *pt = &s->pt[p];
            if (pt->same_as != k || pt->state == POINT_PENDING) continue;
            fprintf(out, "%s%d", n++ ? ", " : many > 1 ? "points " : "point ", p);
            why = pt->inert;
        }
        if (n)
            fprintf(out, " took point %d's run, not trained again: %s\n", k,
                    why ? why : "the same config");
    }
}

/* The best test metric of the done points (for the reader: the choice never sees it). */
static int best_by_test(const select_run *s)
{
    int b = -1;
    for (int p = 0; p < s->g.npoints; p++) {
        double m = s->pt[p].test_metric;
        if (s->pt[p].state != POINT_DONE || !isfinite(m)) continue;
        if (b < 0 || (classify(s) ? m > s->pt[b].test_metric : m < s->pt[b].test_metric)) b = p;
    }
    return b;
}

/* A note when the done points were coded differently: their totals still compare. */
static void print_codes_note(const select_run *s, FILE *out)
{
    bool seen[3] = {false, false, false};
    int kinds = 0;
    for (int p = 0; p < s->g.npoints; p++) {
        const select_point *pt = &s->pt[p];
        if (pt->state != POINT_DONE || (unsigned)pt->code >= 3 || seen[pt->code]) continue;
        seen[pt->code] = true;
        kinds++;
    }
    if (kinds < 2) return;
    fprintf(out, "note: the points use different model codes (");
    for (int c = 0, k = 0; c < 3; c++)
        if (seen[c]) fprintf(out, "%s%s", k++ ? ", " : "", occam_dl_code_name((occam_model_code)c));
    fprintf(out, "); each L is a code length of the same training data in bits, so the totals "
                 "compare\n");
}

static void print_choice(const select_run *s, FILE *out)
{
    const char *test = classify(s) ? "test_acc" : "test_rel_err";
    if (s->best < 0) {
        fprintf(out, "shortest: none (no point was trained and scored)\n");
        return;
    }
    const select_point *b = &s->pt[s->best];
    fprintf(out, "shortest: point %d (%s): L = %.1f bits (%s: model %.1f + data %.1f)",
            s->best, b->label, b->total_bits, occam_dl_code_name(b->code), b->model_bits,
            b->data_bits);
    char m[24];
    if (isfinite(b->test_metric))
        fprintf(out, ", %s %s", test, cli_metric(m, sizeof m, b->test_metric));
    fputc('\n', out);
    int t = best_by_test(s);
    if (t >= 0 && s->pt[t].test_metric != b->test_metric)
        fprintf(out, "the grid's best %s, %s, is point %d's (%s); the choice does not look at "
                     "the test set\n", test, cli_metric(m, sizeof m, s->pt[t].test_metric), t,
                s->pt[t].label);
    else if (t >= 0)
        fprintf(out, "the shortest point also has the grid's best %s\n", test);
}

void select_print_table(const select_run *s, FILE *out)
{
    int w[CLI_MAX_GRIDS];
    for (int a = 0; a < s->g.naxes; a++) {
        w[a] = (int)strlen(s->g.axis[a].key);
        for (int i = 0; i < s->g.axis[a].n; i++)
            w[a] = imax(w[a], (int)strlen(s->g.axis[a].values[i]));
    }
    const char *train = classify(s) ? "train_acc" : "train_rel_err";
    const char *test = classify(s) ? "test_acc" : "test_rel_err";
    int wm = (int)strlen(train);
    fprintf(out, "# result\npoint");
    for (int a = 0; a < s->g.naxes; a++) fprintf(out, "  %-*s", w[a], s->g.axis[a].key);
    fprintf(out, "  %-9s  %11s  %11s  %11s  %*s  %*s\n", "code", "L bits", "model bits",
            "data bits", wm, train, wm, test);
    for (int p = 0; p < s->g.npoints; p++) print_row(s, p, w, wm, out);
    print_choice(s, out);
    print_same_note(s, out);
    print_codes_note(s, out);
    fflush(out);
}

/* ---- the JSON report ----------------------------------------------------------------------- */

static void json_num_or_null(occam_json *j, const char *key, double v)
{
    occam_json_key(j, key);
    if (isfinite(v)) occam_json_number(j, v);
    else occam_json_null(j);
}

static void write_point(occam_json *j, const select_run *s, int p)
{
    const select_point *pt = &s->pt[p];
    static const char *status[] = {"not trained", "done", "failed"};
    occam_json_begin_object(j);
    occam_json_key(j, "index");
    occam_json_int(j, p);
    occam_json_key(j, "set");
    occam_json_begin_object(j);
    for (int a = 0; a < s->g.naxes; a++) {
        occam_json_key(j, s->g.axis[a].key);
        grid_json_value(j, grid_value(&s->g, p, a));
    }
    occam_json_end_object(j);
    occam_json_key(j, "status");
    occam_json_string(j, status[pt->state]);
    occam_json_key(j, "code");
    occam_json_string(j, occam_dl_code_name(pt->code));
    json_num_or_null(j, "total_bits", pt->total_bits);
    json_num_or_null(j, "model_bits", pt->model_bits);
    json_num_or_null(j, "data_bits", pt->data_bits);
    json_num_or_null(j, "train", pt->train_metric);
    json_num_or_null(j, "test", pt->test_metric);
    occam_json_key(j, "threads");
    occam_json_int(j, pt->threads);
    json_num_or_null(j, "seconds", pt->state == POINT_PENDING ? NAN : pt->seconds);
    if (pt->state == POINT_FAILED) {
        occam_json_key(j, "error");
        occam_json_string(j, pt->msg);
    }
    if (pt->same_as >= 0) {
        occam_json_key(j, "same_as");
        occam_json_int(j, pt->same_as);
    }
    occam_json_end_object(j);
}

static void write_grid(occam_json *j, const grid *g)
{
    occam_json_key(j, "grid");
    occam_json_begin_array(j);
    for (int a = 0; a < g->naxes; a++) {
        occam_json_begin_object(j);
        occam_json_key(j, "key");
        occam_json_string(j, g->axis[a].key);
        occam_json_key(j, "values");
        occam_json_begin_array(j);
        for (int i = 0; i < g->axis[a].n; i++) grid_json_value(j, g->axis[a].values[i]);
        occam_json_end_array(j);
        occam_json_end_object(j);
    }
    occam_json_end_array(j);
}

static void write_body(occam_json *j, const char *config_json, const void *ctx)
{
    const select_run *s = ctx;
    occam_json_begin_object(j);
    occam_json_key(j, "command");
    occam_json_string(j, "select");
    occam_json_key(j, "version");
    occam_json_string(j, OCCAM_VERSION);
    occam_json_key(j, "ranks"); /* the world size, as train's report gives it */
    occam_json_int(j, occam_comm_world()->size);
    occam_json_key(j, "config_file");
    occam_json_string(j, s->o->config);
    occam_json_key(j, "task");
    occam_json_string(j, classify(s) ? "classify" : "regress");
    occam_json_key(j, "metric");
    occam_json_string(j, classify(s) ? "accuracy" : "relative_error");
    write_grid(j, &s->g);
    occam_json_key(j, "points");
    occam_json_begin_array(j);
    for (int p = 0; p < s->g.npoints; p++) write_point(j, s, p);
    occam_json_end_array(j);
    occam_json_key(j, "best");
    if (s->best >= 0) occam_json_int(j, s->best);
    else occam_json_null(j);
    if (s->o->save) { /* the point whose model --save holds: best, unless its write failed */
        occam_json_key(j, "saved");
        if (s->saved >= 0) occam_json_int(j, s->saved);
        else occam_json_null(j);
    }
    occam_json_key(j, "interrupted");
    occam_json_bool(j, s->interrupted);
    occam_json_key(j, "config");
    occam_json_raw(j, config_json);
    occam_json_end_object(j);
}

static int write_report(void *ctx, const char *path, occam_error *err)
{
    const select_run *s = ctx;
    return occam_report_write_json(path, &s->base, write_body, s, err);
}

/* Sends the best point's model from the memory file fd (see keep_if_best) to path, once. */
static int send_held(int fd, const char *path, occam_error *err)
{
    occam_outfile out;
    int rc = occam_outfile_open(&out, path, err);
    if (rc != OCCAM_OK) return rc;
    char buf[1 << 16];
    ssize_t n = lseek(fd, 0, SEEK_SET) == 0 ? 0 : -1;
    while (n >= 0 && (n = read(fd, buf, sizeof buf)) > 0)
        if (!occam_outfile_write(&out, buf, (size_t)n)) break;
    if (n < 0 && !out.error) out.error = errno;
    return occam_outfile_commit(&out, err);
}

/* The model was written as each shorter point appeared (to a stream: held until now, and sent
 * here); this reports how the last write (the best point's) went. */
static int saved_model(void *ctx, const char *path, occam_error *err)
{
    select_run *s = ctx;
    if (s->best < 0) return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: no point was "
                                            "trained and scored, so there is no model to save",
                                            path);
    if (s->save_rc != OCCAM_OK && s->saved >= 0) /* an earlier, longer point's model is there */
        return occam_error_set(err, s->save_rc, "%s; %s holds point %d's model (%.1f bits), "
                               "not the shortest point %d's (%.1f bits)", s->save_msg,
                               path, s->saved, s->pt[s->saved].total_bits, s->best,
                               s->pt[s->best].total_bits);
    if (s->save_rc != OCCAM_OK) return occam_error_set(err, s->save_rc, "%s", s->save_msg);
    if (s->save_fd < 0) return OCCAM_OK;
    /* the last write's status: a stop's message says --save holds the model only if it does */
    s->save_rc = send_held(s->save_fd, path, err);
    if (s->save_rc != OCCAM_OK) s->saved = -1;
    return s->save_rc;
}

int select_write_outputs(select_run *s, occam_error *err)
{
    cli_output outs[] = {{.label = "the shortest point's model", .path = s->o->save,
                          .write = saved_model, .ctx = s},
                         {.label = "the report", .path = s->o->report, .write = write_report,
                          .ctx = s}};
    int rc = cli_outputs_write(outs, 2, err);
    if (s->o->save && outs[0].rc == OCCAM_OK)
        printf("saved  %s (point %d)\n", cli_shown(s->o->save), s->best);
    if (s->o->report && outs[1].rc == OCCAM_OK) printf("report %s\n", cli_shown(s->o->report));
    return rc;
}
