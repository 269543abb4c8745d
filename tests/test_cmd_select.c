/* Tests for `occam select` (src/cli/cmd_select.c, select_out.c, grid.c).
 *
 * The grid in-process: the order of the points (the first --grid varies slowest), the ':'
 * separator of list-valued keys (and colons kept for others), the values the points set, the
 * refusals with the key they name, and how values are written to JSON. The command end to end
 * through the built binary ($OCCAM_BIN, default build/occam) on small blobs grids: the
 * report's fields against the table, best = the argmin of total_bits, the codes of noisy and
 * deterministic points, bad grids refused with exit 2 before anything trains, a diverging
 * point marked failed while the rest are chosen from, and SIGINT (exit 130, the finished
 * points in the report). */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../src/cli/grid.h"
#include "../src/cli/plot.h"
#include "occam/json.h"
#include "kept.h"
#include "shell.h"
#include "tmpdir.h"

static char tmpdir[256];
static char out[1 << 16];

static void setup(void) { tmpdir_make(tmpdir, sizeof tmpdir, "select"); }
static void teardown(void) { tmpdir_remove(tmpdir); }

TestSuite(select_cmd, .init = setup, .fini = teardown);

/* ---- the grid ------------------------------------------------------------------------------ */

static int parse(grid *g, occam_error *err, int n, ...)
{
    const char *specs[CLI_MAX_GRIDS];
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++) specs[i] = va_arg(ap, const char *);
    va_end(ap);
    occam_config base;
    occam_config_defaults(&base);
    return grid_parse(g, specs, n, &base, err);
}

Test(select_cmd, grid_points_first_axis_slowest_and_list_separator)
{
    grid g;
    occam_error err = {0};
    cr_assert_eq(parse(&g, &err, 3, "train.lr=0.1,0.2", "model.layers=4:3:2,4:5:2",
                       "prune.nm=2:4,1:4"), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(g.npoints, 8);
    /* point p = 4·lr + 2·layers + nm */
    static const char *want[8][3] = {
        {"0.1", "4,3,2", "2:4"}, {"0.1", "4,3,2", "1:4"}, {"0.1", "4,5,2", "2:4"},
        {"0.1", "4,5,2", "1:4"}, {"0.2", "4,3,2", "2:4"}, {"0.2", "4,3,2", "1:4"},
        {"0.2", "4,5,2", "2:4"}, {"0.2", "4,5,2", "1:4"}};
    for (int p = 0; p < 8; p++)
        for (int a = 0; a < 3; a++)
            cr_assert_str_eq(grid_value(&g, p, a), want[p][a], "point %d axis %d", p, a);
    char label[256];
    grid_label(&g, 6, label, sizeof label);
    cr_assert_str_eq(label, "train.lr=0.2 model.layers=4,5,2 prune.nm=2:4");

    occam_config cfg;
    occam_config_defaults(&cfg);
    cr_assert_eq(grid_apply(&g, 3, &cfg, &err), OCCAM_OK, "%s", err.msg);
    cr_assert_float_eq(cfg.train.optim.lr, 0.1, 1e-15);
    cr_assert_eq(cfg.model.nlayers, 3);
    cr_assert(cfg.model.layers[0] == 4 && cfg.model.layers[1] == 5 && cfg.model.layers[2] == 2);
    cr_assert(cfg.prune.nm_n == 1 && cfg.prune.nm_m == 4);
    grid_free(&g);
}

/* err->msg must hold every needle. */
static void refused(int rc, const occam_error *err, const char *a, const char *b)
{
    cr_assert_eq(rc, OCCAM_ERR_INPUT, "status %d: %s", rc, err->msg);
    cr_assert(strstr(err->msg, a), "'%s' not in: %s", a, err->msg);
    if (b) cr_assert(strstr(err->msg, b), "'%s' not in: %s", b, err->msg);
}

Test(select_cmd, grid_refusals_name_the_key)
{
    grid g;
    occam_error err = {0};
    refused(parse(&g, &err, 0), &err, "at least one --grid", NULL);
    refused(parse(&g, &err, 1, "train.lr"), &err, "--grid train.lr", "section.key=v1");
    refused(parse(&g, &err, 1, "lr=0.1"), &err, "--grid lr=0.1", "section.key=v1");
    refused(parse(&g, &err, 1, "train.lrr=0.1"), &err, "unknown key 'lrr'", "did you mean 'lr'");
    refused(parse(&g, &err, 1, "train.lr=0.1,fast"), &err, "train.lr", "'fast'");
    refused(parse(&g, &err, 1, "train.lr=0.1,-1"), &err, "train.lr", "'-1'");
    refused(parse(&g, &err, 1, "train.lr=0.1,,0.2"), &err, "value 2 of train.lr is empty", NULL);
    refused(parse(&g, &err, 1, "train.lr="), &err, "value 1 of train.lr is empty", NULL);
    refused(parse(&g, &err, 1, "train.lr=0.1,0.1"), &err, "'0.1' twice", NULL);
    refused(parse(&g, &err, 2, "train.lr=0.1", "train.lr=0.2"), &err,
            "train.lr is already a grid key", NULL);
    /* select's points are not checkpointed: such a grid trained one point over and over */
    refused(parse(&g, &err, 1, "train.checkpoint_dir=a,b"), &err, "train.checkpoint_dir",
            "without checkpoints");
    refused(parse(&g, &err, 1, "train.checkpoint_every=0,1"), &err, "train.checkpoint_every",
            "without checkpoints");
    /* a list written with commas is three values, and "10" alone is too short a model.layers */
    refused(parse(&g, &err, 1, "model.layers=10,50,1"), &err, "model.layers", "'10'");
    /* ... and the message says so (it said only "needs 2 to 16 comma-separated entries") */
    refused(parse(&g, &err, 1, "model.layers=10,50,1"), &err, "model.layers",
            "writes its entries with ':'");
    refused(parse(&g, &err, 3, "train.lr=1,2,3,4,5,6,7", "train.momentum=0,0.1,0.2,0.3,0.4,0.5,0.6",
                  "train.seed=1,2,3,4,5,6"), &err, "7 x 7 x 6", "more than 256 points");
    cr_assert_eq(parse(&g, &err, 2, "train.lr=1,2,3,4,5,6,7,8", "train.seed=" "1,2,3,4,5,6,7,8,"
                       "9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32"),
                 OCCAM_OK, "%s", err.msg); /* 256 exactly */
    cr_assert_eq(g.npoints, 256);
    grid_free(&g);
}

/* A --set of a grid key would be replaced by the grid's value at every point without a word:
 * refused, naming both, however the config table's spaces are placed; other --set pass. */
Test(select_cmd, set_of_a_grid_key_is_refused)
{
    grid g;
    occam_error err = {0};
    cr_assert_eq(parse(&g, &err, 2, "train.lr=0.1,0.2", " train . momentum =0,0.5"), OCCAM_OK,
                 "%s", err.msg);
    const char *ok[] = {"train.epochs=3", "noise.enabled=true", "train.lrx=1"};
    cr_assert_eq(grid_check_sets(&g, ok, 3, &err), OCCAM_OK, "%s", err.msg);
    const char *lr[] = {"train.epochs=3", "train.lr=0.5"};
    cr_assert_eq(grid_check_sets(&g, lr, 2, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "--set train.lr=0.5: train.lr is a grid key (--grid "
                              "train.lr=0.1,0.2)"), "%s", err.msg);
    const char *mom[] = {"train .momentum= 0.9"};
    cr_assert_eq(grid_check_sets(&g, mom, 1, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "train.momentum is a grid key"), "%s", err.msg);
    grid_free(&g);
    refused(parse(&g, &err, 2, "train.lr=0.1", " train.lr =0.2"), &err,
            "train.lr is already a grid key", NULL);
}

/* The key and values of a --grid lose the blanks around them, as the config table's parser
 * drops them: ' model.layers = 4:8:3 , 4:6:3' was refused ("entry 1 (4:8:3) is not an
 * integer": the untrimmed key was not seen as a list key, so its ':' stayed), and
 * ' train.lr = 0.1 , 0.2' went into the table, the report and the plot as the key ' train.lr '
 * with the strings ' 0.1 ' and ' 0.2' for values. */
Test(select_cmd, grid_key_and_values_lose_their_blanks)
{
    grid g;
    occam_error err = {0};
    cr_assert_eq(parse(&g, &err, 2, " model.layers = 4:8:3 , 4:6:3", " train . lr = 0.1 ,\t0.2 "),
                 OCCAM_OK, "%s", err.msg);
    cr_assert_eq(g.npoints, 4);
    cr_assert_str_eq(g.axis[0].key, "model.layers");
    cr_assert_str_eq(g.axis[1].key, "train.lr");
    cr_assert_str_eq(grid_value(&g, 3, 0), "4,6,3");
    cr_assert_str_eq(grid_value(&g, 3, 1), "0.2");
    char label[256];
    grid_label(&g, 0, label, sizeof label);
    cr_assert_str_eq(label, "model.layers=4,8,3 train.lr=0.1");
    grid_free(&g);
    refused(parse(&g, &err, 1, "train.lr=0.1, ,0.2"), &err, "value 2 of train.lr is empty", NULL);
    refused(parse(&g, &err, 1, "train.lr=0.1, 0.1"), &err, "'0.1' twice", NULL);
    cr_assert_null(strstr(err.msg, "':'"), "%s", err.msg);
    /* a list written with ','s that repeats an entry: the repeat, and how lists are written
     * (it said only "takes the value '3' twice": found by the third hostile-input sweep) */
    refused(parse(&g, &err, 1, "model.layers=3,8,3"), &err,
            "--grid model.layers=3,8,3: model.layers takes the value '3' twice (in --grid, ',' "
            "separates the values; a list-valued key writes its entries with ':', e.g. 30:10:2)",
            NULL);
    refused(parse(&g, &err, 1, "model.layers=3:8:3,3:8:3"), &err,
            "model.layers takes the value '3,8,3' twice", NULL);
    cr_assert_null(strstr(err.msg, "':'"), "%s", err.msg);
}

/* Values written differently that set the same config would train one point twice. */
Test(select_cmd, grid_refuses_equal_values_written_differently)
{
    grid g;
    occam_error err = {0};
    refused(parse(&g, &err, 1, "train.lr=1e-3,0.001"), &err,
            "--grid train.lr=1e-3,0.001: train.lr takes the values '1e-3' and '0.001', which are "
            "the same value", NULL);
    refused(parse(&g, &err, 2, "train.lr=0.1", "train.momentum=0.5,0,0.0"), &err,
            "train.momentum takes the values '0' and '0.0'", NULL);
    refused(parse(&g, &err, 1, "train.seed=7,07"), &err, "train.seed takes the values '7' and "
            "'07'", NULL);
    refused(parse(&g, &err, 1, "model.layers=4:3:2,4:5:2,4: 3 :2"), &err,
            "model.layers takes the values '4,3,2' and '4, 3 ,2'", NULL);
    /* near but not equal is two points */
    cr_assert_eq(parse(&g, &err, 1, "train.lr=0.001,0.0010000001"), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(g.npoints, 2);
    grid_free(&g);
}

static void json_of(const char *value, const char *want)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    occam_json j;
    occam_json_init(&j, f, false);
    grid_json_value(&j, value);
    cr_assert_eq(occam_json_finish(&j), 0);
    fclose(f);
    cr_assert_str_eq(buf, want, "value '%s'", value);
    free(buf);
}

Test(select_cmd, grid_values_as_json)
{
    json_of("0", "0");
    json_of("1e-3", "1e-3");
    json_of("-0.25", "-0.25");
    json_of("18446744073709551615", "18446744073709551615"); /* a seed keeps its digits */
    json_of("true", "true");
    json_of("false", "false");
    json_of("yes", "\"yes\"");
    json_of("01", "\"01\"");
    json_of("1.", "\"1.\"");
    json_of(".5", "\".5\"");
    json_of("0x10", "\"0x10\"");
    json_of("1e999", "\"1e999\"");
    json_of("30,50,2", "\"30,50,2\"");
    json_of("epoch:3", "\"epoch:3\"");
}

/* ---- the command end to end ---------------------------------------------------------------- */

/* Runs the shell command (stdout and stderr into out); its exit status, -1 after a signal. */
static int shell(const char *cmd) { return shell_run(cmd, out, sizeof out, NULL); }

/* `occam select configs/blobs.ini` on a small, quick set-up, then ARGS. */
static int select_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int select_run(const char *fmt, ...)
{
    char args[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    return shell_occam(out, sizeof out, "select configs/blobs.ini --threads 1 --set "
                       "data.samples=200 --set data.test_samples=100 --set train.epochs=2 %s",
                       args);
}

static const char *path(const char *name) { return tmpdir_path(tmpdir, name); }

static void load_json(const char *file, occam_json_value *root)
{
    FILE *f = fopen(file, "r");
    cr_assert(f, "%s was not written", file);
    TEST_KEPT(char, text, 1 << 20);
    size_t n = fread(text, 1, (1 << 20), f);
    fclose(f);
    occam_error err = {0};
    cr_assert_eq(occam_json_parse(root, text, n, &err), OCCAM_OK, "%s: %s", file, err.msg);
}

static const occam_json_value *member(const occam_json_value *v, const char *key,
                                      occam_json_type type)
{
    const occam_json_value *m = occam_json_get(v, key);
    cr_assert(m, "no member %s", key);
    cr_assert_eq(m->type, type, "member %s has type %d", key, m->type);
    return m;
}

static double number(const occam_json_value *v, const char *key)
{
    return member(v, key, OCCAM_JSON_NUMBER)->number;
}

/* The row of point p in the table: it starts with p right-aligned in 5 columns. */
static const char *table_row(int p)
{
    static char needle[16];
    snprintf(needle, sizeof needle, "\n%5d  ", p);
    const char *row = strstr(out, needle);
    cr_assert(row, "no row for point %d in: %s", p, out);
    return row + 1;
}

Test(select_cmd, report_fields_best_is_argmin_and_the_table_names_it)
{
    const char *rep = path("r.json");
    cr_assert_eq(select_run("--grid train.weight_decay=0,0.01 --grid model.layers=20:8:3,20:16:3 "
                            "--report %s", rep), 0, "%s", out);
    occam_json_value root;
    load_json(rep, &root);
    cr_assert_str_eq(member(&root, "command", OCCAM_JSON_STRING)->str, "select");
    cr_assert_str_eq(member(&root, "metric", OCCAM_JSON_STRING)->str, "accuracy");
    cr_assert_eq(member(&root, "grid", OCCAM_JSON_ARRAY)->count, 2);
    const occam_json_value *pts = member(&root, "points", OCCAM_JSON_ARRAY);
    cr_assert_eq(pts->count, 4);
    int argmin = -1;
    double lmin = INFINITY;
    for (int p = 0; p < 4; p++) {
        const occam_json_value *pt = &pts->items[p];
        const occam_json_value *set = member(pt, "set", OCCAM_JSON_OBJECT);
        cr_assert_eq(set->count, 2);
        cr_assert_str_eq(set->members[0].key, "train.weight_decay");
        cr_assert_eq(set->members[0].value.type, OCCAM_JSON_NUMBER);
        cr_assert_float_eq(set->members[0].value.number, p < 2 ? 0 : 0.01, 1e-15);
        cr_assert_str_eq(member(set, "model.layers", OCCAM_JSON_STRING)->str,
                         p % 2 ? "20,16,3" : "20,8,3");
        cr_assert_str_eq(member(pt, "status", OCCAM_JSON_STRING)->str, "done");
        cr_assert_str_eq(member(pt, "code", OCCAM_JSON_STRING)->str, "two-part");
        double total = number(pt, "total_bits"), model = number(pt, "model_bits");
        double data = number(pt, "data_bits");
        cr_assert(model > 0 && data >= 0, "point %d: model %g data %g", p, model, data);
        cr_assert(fabs(total - (model + data)) <= 1e-9 * total, "point %d: %.17g != %.17g + %.17g",
                  p, total, model, data);
        double test = number(pt, "test"), train = number(pt, "train");
        cr_assert(test >= 0 && test <= 1 && train >= 0 && train <= 1);
        if (total < lmin) {
            lmin = total;
            argmin = p;
        }
        /* the table's row holds the same L, to its one decimal */
        char l[32];
        snprintf(l, sizeof l, "%.1f", total);
        const char *row = table_row(p), *eol = strchr(row, '\n');
        const char *hit = strstr(row, l);
        cr_assert(hit && hit < eol, "point %d: L %s not in its row: %s", p, l, out);
    }
    const occam_json_value *best = member(&root, "best", OCCAM_JSON_NUMBER);
    cr_assert_eq(best->integer, argmin);
    cr_assert_eq(member(&root, "interrupted", OCCAM_JSON_BOOL)->boolean, false);
    member(&root, "config", OCCAM_JSON_OBJECT);
    char line[64];
    snprintf(line, sizeof line, "shortest: point %d (", argmin);
    cr_assert(strstr(out, line), "%s", out);
    const char *row = table_row(argmin);
    const char *mark = strstr(row, "<- shortest");
    cr_assert(mark && mark < strchr(row, '\n'), "%s", out);
    cr_assert_eq(strstr(mark + 1, "<- shortest"), NULL, "two rows marked: %s", out);
    occam_json_free(&root);
    /* `occam plot` takes the report: select.dat and select.png, nothing else */
    if (!occam_plot_have_gnuplot(NULL)) return;
    const char *bin = shell_occam_bin();
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s plot %s --out %s 2>&1 && ls %s", bin, rep, path("fig"),
             path("fig"));
    cr_assert_eq(shell(cmd), 0, "%s", out);
    cr_assert(strstr(out, "wrote ") && strstr(out, "select.png\nselect.dat\nselect.png\n"), "%s",
              out);
}

/* The decay x noise grid: weight decay does not apply to noisy weights, so the noisy points
 * after the first take its run (same_as, the same numbers, 0 s) instead of training again, and
 * their numbers are what `occam train` gives for that point on its own. A grid that lists the
 * decay first in the other order shares the same way. */
Test(select_cmd, points_that_differ_in_inert_keys_share_one_run)
{
    const char *rep = path("r.json");
    cr_assert_eq(select_run("--grid noise.enabled=false,true --grid train.weight_decay=0.1,0,1 "
                            "--report %s", rep), 0, "%s", out);
    cr_assert(strstr(out, "points 4, 5 took point 3's run, not trained again: "
                          "train.weight_decay does not apply with noise.enabled = true"),
              "%s", out);
    occam_json_value root;
    load_json(rep, &root);
    const occam_json_value *pts = member(&root, "points", OCCAM_JSON_ARRAY);
    cr_assert_eq(pts->count, 6);
    for (int p = 0; p < 4; p++)
        cr_assert_null(occam_json_get(&pts->items[p], "same_as"), "point %d", p);
    double bits3 = number(&pts->items[3], "total_bits");
    for (int p = 4; p < 6; p++) {
        cr_assert_eq(member(&pts->items[p], "same_as", OCCAM_JSON_NUMBER)->integer, 3);
        cr_assert_eq(number(&pts->items[p], "total_bits"), bits3, "point %d", p);
        cr_assert_eq(number(&pts->items[p], "test"), number(&pts->items[3], "test"));
        cr_assert_eq(number(&pts->items[p], "seconds"), 0);
    }
    /* the deterministic points did train: decay changes them */
    cr_assert_neq(number(&pts->items[0], "total_bits"), number(&pts->items[2], "total_bits"));
    occam_json_free(&root);
    /* point 5 (noise on, decay 1) trained alone: the same bits, and train says decay is unused */
    const char *one = path("one.json");
    cr_assert_eq(shell_occam(out, sizeof out, "train configs/blobs.ini --threads 1 --set "
                             "data.samples=200 --set data.test_samples=100 --set train.epochs=2 "
                             "--set noise.enabled=true --set train.weight_decay=1 --set "
                             "mdl.model_code=bits-back --report %s", one), 0, "%s", out);
    cr_assert(strstr(out, "occam: note: train.weight_decay does not apply with noise.enabled = "
                          "true"), "%s", out);
    occam_json_value r1;
    load_json(one, &r1);
    double alone = number(member(&r1, "mdl", OCCAM_JSON_OBJECT), "total_bits");
    occam_json_free(&r1);
    cr_assert_eq(alone, bits3, "trained alone: %.17g bits, in the grid %.17g", alone, bits3);
}

/* With noise off no noise.* key reaches the trainer: a deterministic run with all of them set
 * away from their defaults gives the same numbers as one without, and select shares it. */
Test(select_cmd, noise_keys_do_not_apply_without_noise)
{
    static const char *common = "train configs/blobs.ini --threads 1 --set data.samples=200 "
                                "--set data.test_samples=100 --set train.epochs=2";
    double bits[2], test[2];
    for (int k = 0; k < 2; k++) {
        const char *rep = path(k ? "b.json" : "a.json");
        cr_assert_eq(shell_occam(out, sizeof out, "%s --report %s %s", common, rep,
                                 k ? "--set noise.prior=mog --set noise.components=5 --set "
                                     "noise.prior_sigma=0.3 --set noise.init_sigma=0.2 --set "
                                     "noise.warmup_epochs=1 --set noise.kl_scale=2 --set "
                                     "noise.zero_weight=0.5 --set noise.prior_update=gradient "
                                     "--set noise.seed=9 --set noise.log_alpha=1 --set "
                                     "noise.rebalance=false --set noise.data_term=sample" : ""),
                     0, "%s", out);
        cr_assert_null(strstr(out, "occam: note:"), "no note with noise off: %s", out);
        occam_json_value r;
        load_json(rep, &r);
        bits[k] = number(member(&r, "mdl", OCCAM_JSON_OBJECT), "total_bits");
        test[k] = number(member(&r, "test", OCCAM_JSON_OBJECT), "accuracy");
        occam_json_free(&r);
    }
    cr_assert_eq(bits[0], bits[1]);
    cr_assert_eq(test[0], test[1]);
    cr_assert_eq(select_run("--grid noise.enabled=false,true --grid noise.prior=gaussian,mog "
                            "--report %s", path("r.json")), 0, "%s", out);
    cr_assert(strstr(out, "point 1 took point 0's run, not trained again: the noise.* keys do "
                          "not apply with noise.enabled = false"), "%s", out);
}

/* `occam <common>` alone and with `extra`, keys it does not read: alone it notes nothing, with
 * them it notes each of `notes` (NULL-terminated), and both give the same total bits. */
static void unread_keys_noted(const char *common, const char *extra, const char *const *notes)
{
    double bits[2];
    for (int k = 0; k < 2; k++) {
        const char *rep = path(k ? "b.json" : "a.json");
        cr_assert_eq(shell_occam(out, sizeof out, "%s --report %s %s", common, rep,
                                 k ? extra : ""), 0, "%s", out);
        for (int i = 0; k && notes[i]; i++) {
            char note[256];
            snprintf(note, sizeof note, "occam: note: %s", notes[i]);
            cr_assert(strstr(out, note), "no '%s' in: %s", note, out);
        }
        if (!k) cr_assert_null(strstr(out, "occam: note:"), "%s", out);
        occam_json_value r;
        load_json(rep, &r);
        bits[k] = number(member(&r, "mdl", OCCAM_JSON_OBJECT), "total_bits");
        occam_json_free(&r);
    }
    cr_assert_eq(bits[0], bits[1], "%s: %.17g bits, alone %.17g", extra, bits[1], bits[0]);
}

/* With noise, a key the chosen prior never reads (noise.zero_cap and the other mixture keys
 * under the Gaussian prior) was taken without a word: occam train now names each one in a
 * note, the run is the one without them, and select shares it. */
Test(select_cmd, noise_keys_the_prior_does_not_read_are_noted_and_shared)
{
    static const char *common = "train configs/blobs.ini --threads 1 --set data.samples=200 "
                                "--set data.test_samples=100 --set train.epochs=2 --set "
                                "noise.enabled=true --set noise.warmup_epochs=1 --set "
                                "mdl.model_code=bits-back";
    static const char *const notes[] = {"noise.zero_weight ", "noise.zero_cap ",
                                        "noise.log_alpha ", NULL};
    unread_keys_noted(common, "--set noise.zero_cap=0.1 --set noise.zero_weight=0.5 --set "
                              "noise.log_alpha=1", notes);
    cr_assert_eq(select_run("--set noise.enabled=true --grid noise.zero_cap=0,0.1 --report %s",
                            path("r.json")), 0, "%s", out);
    cr_assert(strstr(out, "point 1 took point 0's run, not trained again: noise.zero_cap does "
                          "not apply with noise.prior = gaussian"), "%s", out);
}

/* Points whose effective configs are equal trained twice: -0 and 0 (the config keeps the sign,
 * the trainer does not see it), a data.* key the source does not read (data.path with blobs)
 * and an mdl.* key the code does not read (mdl.components under mdl.prior = gaussian). Each
 * later point now takes the first one's run, and says why; train names the unread keys. */
Test(select_cmd, points_equal_in_effect_share_one_run)
{
    cr_assert_eq(select_run("--grid train.weight_decay=0,-0,0.01 --report %s", path("d.json")),
                 0, "%s", out);
    cr_assert(strstr(out, "point 1 took point 0's run, not trained again: the values are equal "
                          "numbers (-0 trains as 0 does)"), "%s", out);
    occam_json_value root;
    load_json(path("d.json"), &root);
    const occam_json_value *pts = member(&root, "points", OCCAM_JSON_ARRAY);
    cr_assert_eq(member(&pts->items[1], "same_as", OCCAM_JSON_NUMBER)->integer, 0);
    cr_assert_null(occam_json_get(&pts->items[2], "same_as"));
    occam_json_free(&root);
    cr_assert_eq(select_run("--grid data.path=/nonexistent/a,/nonexistent/b"), 0, "%s", out);
    cr_assert(strstr(out, "point 1 took point 0's run, not trained again: data.path applies "
                          "only to data.source = idx"), "%s", out);
    cr_assert_eq(select_run("--set mdl.prior=gaussian --grid mdl.components=2,5"), 0, "%s", out);
    cr_assert(strstr(out, "point 1 took point 0's run, not trained again: mdl.components "
                          "applies only to mdl.model_code = two-part with mdl.prior = mog"),
              "%s", out);
    /* train alone: each unread key is named, and the numbers are the run without it */
    static const char *const notes[] = {"data.path applies only to data.source = idx",
                                        "mdl.bits_per_weight applies only to",
                                        "mdl.seed applies only to mdl.model_code = bits-back",
                                        NULL};
    unread_keys_noted("train configs/blobs.ini --threads 1 --set data.samples=200 --set "
                      "data.test_samples=100 --set train.epochs=2",
                      "--set data.path=/nonexistent --set mdl.seed=5 --set "
                      "mdl.bits_per_weight=8 --set train.weight_decay=-0", notes);
}

Test(select_cmd, noisy_points_are_coded_bits_back)
{
    const char *rep = path("r.json");
    /* the base says bits-back: the deterministic point falls back to two-part */
    cr_assert_eq(select_run("--set mdl.model_code=bits-back --set mdl.samples=4 "
                            "--grid noise.enabled=false,true --report %s --save %s", rep,
                            path("m.safetensors")), 0, "%s", out);
    occam_json_value root;
    load_json(rep, &root);
    const occam_json_value *pts = member(&root, "points", OCCAM_JSON_ARRAY);
    cr_assert_str_eq(member(&pts->items[0], "code", OCCAM_JSON_STRING)->str, "two-part");
    cr_assert_str_eq(member(&pts->items[1], "code", OCCAM_JSON_STRING)->str, "bits-back");
    cr_assert_eq(member(&pts->items[0], "set", OCCAM_JSON_OBJECT)->members[0].value.type,
                 OCCAM_JSON_BOOL);
    cr_assert(strstr(out, "different model codes (two-part, bits-back)"), "%s", out);
    int best = (int)member(&root, "best", OCCAM_JSON_NUMBER)->integer;
    char saved[64], acc[64];
    snprintf(saved, sizeof saved, "(point %d)", best);
    cr_assert(strstr(out, saved), "%s", out);
    snprintf(acc, sizeof acc, "accuracy %.4f", number(&pts->items[best], "test"));
    occam_json_free(&root);
    /* --save holds the best point's model: eval with its settings gives its test accuracy */
    const char *bin = shell_occam_bin();
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s eval configs/blobs.ini --threads 1 --set data.samples=200 "
             "--set data.test_samples=100 --set noise.enabled=%s --checkpoint %s 2>&1", bin,
             best ? "true" : "false", path("m.safetensors"));
    cr_assert_eq(shell(cmd), 0, "%s", out);
    cr_assert(strstr(out, acc), "'%s' not in: %s", acc, out);
}

Test(select_cmd, bad_grids_exit_2_before_training)
{
    static const struct {
        const char *args, *needle;
    } cases[] = {
        {"", "at least one --grid"},
        {"--grid train.lrr=0.1,0.2", "train.lrr"},
        {"--grid train.lr=0.1,slow", "train.lr"},
        {"--grid train.lr=0.1 --grid train.lr=0.2", "already a grid key"},
        {"--grid model.layers=20:8:3,20:8:4", "select 2/2 (model.layers=20,8,4)"},
        {"--grid train.lr=0.1 --report /nonexistent/dir/r.json", "--report"},
        {"--grid train.lr=0.1 --set train.lrr=1", "--set train.lrr"},
        {"--grid train.lr=0.1 --threads x", "--threads x"},
        /* --threads overrides runtime.threads, says the help; a grid over it won silently
         * (point 2 ran 2 threads under --threads 1), found by the CLI sweep */
        {"--grid runtime.threads=1,2", "--threads 1: runtime.threads is a grid key (--grid "
                                       "runtime.threads=1,2)"},
        /* a later point's topology was opened only when the point began, after point 1 had
         * trained (found by the third hostile-input sweep) */
        {"--grid 'runtime.topology=synthetic:pack:1 core:1 pu:1,synthetic:junk'",
         "select 2/2 (runtime.topology=synthetic:junk): runtime.topology = \"synthetic:junk\": "
         "hwloc rejects the synthetic description"},
        /* select codes noisy points bits-back, which the mdl schedule cannot score by: the
         * refusal named mdl.model_code, left at two-part, with which occam train runs it */
        {"--set prune.schedule=mdl --set prune.steps=1 --grid noise.enabled=false,true",
         "select 2/2 (noise.enabled=true): prune.schedule = mdl with noise.enabled = true: "
         "select codes a noisy point bits-back"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cr_assert_eq(select_run("%s", cases[i].args), 2, "%s: %s", cases[i].args, out);
        cr_assert(strstr(out, cases[i].needle), "%s: '%s' not in: %s", cases[i].args,
                  cases[i].needle, out);
        cr_assert_null(strstr(out, "select 1/"), "%s trained: %s", cases[i].args, out);
    }
}

/* A CSV of 60 rows, 4 features and a class label (0 or 1) last. */
static void write_csv(const char *file, unsigned seed)
{
    FILE *f = fopen(file, "w");
    cr_assert(f, "cannot write %s", file);
    for (int i = 0; i < 60; i++) {
        unsigned h = seed * 2654435761u + (unsigned)i * 40503u;
        int c = i % 2;
        for (int j = 0; j < 4; j++)
            fprintf(f, "%.3f,", c + (double)((h >> (4 * j)) % 97) / 97.0);
        fprintf(f, "%d\n", c);
    }
    fclose(f);
}

/* `occam select` on the CSV data.train = the file, then ARGS; a prefix "CMD |" feeds stdin. */
static int select_csv(const char *pipe_from, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int select_csv(const char *pipe_from, const char *fmt, ...)
{
    char args[2048], cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    const char *bin = shell_occam_bin();
    /* model.layers fits the CSVs, unless a grid sets it (a --set of a grid key is refused) */
    snprintf(cmd, sizeof cmd, "%s%s%s select configs/blobs.ini --threads 1 --set data.source=csv "
             "--set data.label=last %s --set train.epochs=2 %s 2>&1",
             pipe_from ? pipe_from : "", pipe_from ? " | " : "", bin,
             strstr(args, "--grid model.layers=") ? "" : "--set model.layers=4,3,2", args);
    return shell(cmd);
}

/* Every point's data is loaded and checked against its model before any point trains: a later
 * point whose file is missing, or whose model.layers does not fit the data, refuses the whole
 * grid (exit 2, naming the point) instead of failing after the points before it trained, with
 * no table and no report lost. Points on the same data load it once: a grid over train.lr
 * reads a pipe (data.train = /dev/stdin) once, where each point used to read it again. */
Test(select_cmd, every_points_data_is_checked_before_training)
{
    char good[512], other[512];
    snprintf(good, sizeof good, "%s", path("a.csv"));
    snprintf(other, sizeof other, "%s", path("b.csv"));
    write_csv(good, 1);
    write_csv(other, 2);
    const char *rep = path("r.json");
    char want[1024];
    cr_assert_eq(select_csv(NULL, "--grid data.train=%s,%s --report %s", good,
                            path("missing.csv"), rep), 2, "%s", out);
    snprintf(want, sizeof want, "select 2/2 (data.train=%s): data.train = %s: cannot open",
             path("missing.csv"), path("missing.csv"));
    cr_assert(strstr(out, want), "'%s' not in: %s", want, out);
    cr_assert(strstr(out, "no point was trained"), "%s", out);
    cr_assert_null(strstr(out, "select 1/"), "a point trained: %s", out);
    cr_assert_neq(access(rep, F_OK), 0, "a report was written");

    cr_assert_eq(select_csv(NULL, "--set data.train=%s --grid train.lr=0.1,0.2 "
                            "--grid model.layers=4:3:2,5:3:2", good), 2, "%s", out);
    cr_assert(strstr(out, "select 2/4 (train.lr=0.1 model.layers=5,3,2): model.layers: "
                          "input width 5 does not match the data's 4 features"), "%s", out);
    cr_assert_null(strstr(out, "select 1/"), "a point trained: %s", out);

    /* two data sets, each loaded for its points */
    cr_assert_eq(select_csv(NULL, "--grid data.train=%s,%s --grid train.lr=0.1,0.2", good, other),
                 0, "%s", out);
    cr_assert(strstr(out, "select 4/4"), "%s", out);
    /* one data set, read once */
    char cat[600];
    snprintf(cat, sizeof cat, "cat %s", good);
    cr_assert_eq(select_csv(cat, "--set data.train=/dev/stdin --grid train.lr=0.1,0.2,0.3"), 0,
                 "%s", out);
    cr_assert(strstr(out, "select 3/3"), "%s", out);
}

/* A grid over several data sets reads each twice (the preflight, then the training): a FIFO
 * among them was consumed by the first read and its second open waited for a writer forever
 * (SIGTERM does not end a blocked open). Refused before any point trains, naming the key; one
 * data set read once from a pipe still works (the test above). */
Test(select_cmd, a_fifo_in_a_grid_of_data_sets_is_refused, .timeout = 60)
{
    char good[512], fifo[512], cmd[4096];
    snprintf(good, sizeof good, "%s", path("a.csv"));
    snprintf(fifo, sizeof fifo, "%s", path("f.csv"));
    write_csv(good, 1);
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    const char *bin = shell_occam_bin();
    snprintf(cmd, sizeof cmd, "timeout -k 2 20 %s select configs/blobs.ini --threads 1 "
             "--set data.source=csv --set data.label=last --set model.layers=4,3,2 "
             "--set train.epochs=2 --grid data.train=%s,%s 2>&1", bin, good, fifo);
    cr_assert_eq(shell(cmd), 2, "%s", out);
    char want[700];
    snprintf(want, sizeof want, "data.train = %s is not a regular file", fifo);
    cr_assert(strstr(out, want), "'%s' not in: %s", want, out);
    cr_assert_null(strstr(out, "select 1/"), "a point trained: %s", out);
}

/* A point that took an earlier one's run was said to do so because of the first key it does
 * not read, even one both points share: with mdl.bits_per_weight = 8 set for every point (the
 * two-part and bits-back codes never read it), the decay x noise grid's point 3 "took point
 * 1's run: mdl.bits_per_weight applies only to mdl.model_code = count". The reason is now a
 * key whose value the two points differ in. The progress line names the earlier run by its own
 * count from 1 ("select 2/4"), not by the table's index from 0, which read as another line. */
Test(select_cmd, a_shared_run_names_the_key_the_points_differ_in)
{
    cr_assert_eq(select_run("--set mdl.bits_per_weight=8 --grid train.weight_decay=0,0.1 "
                            "--grid noise.enabled=false,true"), 0, "%s", out);
    cr_assert(strstr(out, "point 3 took point 1's run, not trained again: train.weight_decay "
                          "does not apply with noise.enabled = true"), "%s", out);
    cr_assert(strstr(out, "not trained: the same run as select 2/4 (train.weight_decay does not "
                          "apply"), "%s", out);
    /* the key set at the earlier point only */
    cr_assert_eq(select_run("--set noise.enabled=true --set noise.zero_weight=0.5 --grid "
                            "noise.zero_cap=0.1,0"), 0, "%s", out);
    cr_assert(strstr(out, "point 1 took point 0's run, not trained again: noise.zero_cap does "
                          "not apply"), "%s", out);
}

/* A grid over a data.* key the source does not read (data.path or data.samples with a CSV)
 * is one data set, and select shares its points' run; but its preflight counted two data sets
 * and refused a pipe ("a grid over 2 data sets reads each twice"). The points now load it
 * once, from the pipe. */
Test(select_cmd, a_data_key_the_source_does_not_read_is_one_data_set)
{
    char good[512], cat[600];
    snprintf(good, sizeof good, "%s", path("a.csv"));
    write_csv(good, 1);
    snprintf(cat, sizeof cat, "cat %s", good);
    cr_assert_eq(select_csv(cat, "--set data.train=/dev/stdin --grid data.path=/x,/y "
                            "--grid data.samples=100,200"), 0, "%s", out);
    cr_assert(strstr(out, "select 4/4"), "%s", out);
    cr_assert(strstr(out, "points 1, 2, 3 took point 0's run, not trained again: data.path "
                          "applies only to data.source = idx"), "%s", out);
    /* no data.test: no test metric, shown as '-' (it printed nan) */
    cr_assert_null(strstr(out, "nan"), "%s", out);
    cr_assert(strstr(out, "          -  <- shortest\n"), "%s", out);
    const char *choice = strstr(out, "shortest: point 0");
    cr_assert(choice && strstr(choice, ")\npoints 1, 2, 3"), "%s", out);
    cr_assert_null(strstr(out, "test_acc 0"), "%s", out);
}

Test(select_cmd, a_diverging_point_fails_and_is_not_chosen)
{
    const char *rep = path("r.json");
    cr_assert_eq(select_run("--set data.spread=1000 --set train.momentum=0.99 "
                            "--grid train.lr=90,0.001 --report %s", rep), 0, "%s", out);
    occam_json_value root;
    load_json(rep, &root);
    const occam_json_value *pts = member(&root, "points", OCCAM_JSON_ARRAY);
    cr_assert_str_eq(member(&pts->items[0], "status", OCCAM_JSON_STRING)->str, "failed");
    cr_assert(strstr(member(&pts->items[0], "error", OCCAM_JSON_STRING)->str, "diverged"));
    member(&pts->items[0], "total_bits", OCCAM_JSON_NULL);
    cr_assert_eq(member(&root, "best", OCCAM_JSON_NUMBER)->integer, 1);
    cr_assert(strstr(table_row(0), "failed: "), "%s", out);
    occam_json_free(&root);

    /* every point failing is a runtime failure, the report written all the same */
    cr_assert_eq(select_run("--set data.spread=1000 --set train.momentum=0.99 "
                            "--grid train.lr=90,80 --report %s", rep), 1, "%s", out);
    cr_assert(strstr(out, "every point failed"), "%s", out);
    load_json(rep, &root);
    member(&root, "best", OCCAM_JSON_NULL);
    occam_json_free(&root);
    /* with --save too: the points trained and failed, which the message used to deny ('no
     * point was trained'), without saying that every point failed */
    const char *st = path("m.st");
    cr_assert_eq(select_run("--set data.spread=1000 --set train.momentum=0.99 "
                            "--grid train.lr=90,80 --save %s", st), 1, "%s", out);
    cr_assert(strstr(out, "select: every point failed; none was chosen; the shortest point's "
                          "model could not be written"), "%s", out);
    cr_assert(strstr(out, "no point was trained and scored, so there is no model to save"),
              "%s", out);
    cr_assert_neq(access(st, F_OK), 0, "a model was saved");
}

/* Runs `occam select configs/blobs.ini --threads 1 ARGS` in the background, sends it SIGINT
 * once its stderr has a line matching the grep pattern `seen` (then `pause` seconds more), and
 * returns its exit status, its stdout then stderr in `out`. */
static int select_until_signal(const char *args, const char *seen, const char *pause)
{
    const char *bin = shell_occam_bin();
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "e=%s/err; %s select configs/blobs.ini --threads 1 %s >%s/out 2>$e & pid=$!; "
             "until grep -q '%s' $e 2>/dev/null || ! kill -0 $pid; do sleep 0.01; done; "
             "sleep %s; kill -INT $pid; wait $pid; st=$?; cat %s/out $e; exit $st",
             tmpdir, bin, args, tmpdir, seen, pause, tmpdir);
    return shell(cmd);
}

Test(select_cmd, sigint_exits_130_with_the_finished_points)
{
    const char *rep = path("r.json");
    char args[1024];
    /* the signal goes once point 1 of 2 has finished and point 2, 100000 epochs long, trains */
    snprintf(args, sizeof args, "--set data.samples=200 --grid train.epochs=1,100000 --report %s",
             rep);
    cr_assert_eq(select_until_signal(args, "^select 1/2", "0"), 130, "%s", out);
    cr_assert(strstr(out, "stopped by signal 2") && strstr(out, "1 of 2 points finished"), "%s",
              out);
    cr_assert(strstr(table_row(1), "not trained"), "%s", out);
    occam_json_value root;
    load_json(rep, &root);
    cr_assert_eq(member(&root, "interrupted", OCCAM_JSON_BOOL)->boolean, true);
    cr_assert_eq(member(&root, "best", OCCAM_JSON_NUMBER)->integer, 0);
    const occam_json_value *pts = member(&root, "points", OCCAM_JSON_ARRAY);
    cr_assert_str_eq(member(&pts->items[1], "status", OCCAM_JSON_STRING)->str, "not trained");
    member(&pts->items[1], "total_bits", OCCAM_JSON_NULL);
    occam_json_free(&root);
}

/* A stop with --save written in place (a full device here, made with mknod): the shortest
 * model is held until the end and sent then, and when that send failed the message still said
 * "--save holds point 0's model" beside "the shortest point's model could not be written". */
Test(select_cmd, a_stop_says_save_holds_a_model_only_if_it_was_written)
{
    const char *full = path("full");
    if (mknod(full, S_IFCHR | 0666, makedev(1, 7)) != 0) {
        teardown(); /* a skipped test's .fini does not run */
        cr_skip_test("mknod is not allowed here: %s", strerror(errno));
    }
    char args[1024];
    snprintf(args, sizeof args, "--set data.samples=200 --grid train.epochs=1,100000 --save %s",
             full);
    cr_assert_eq(select_until_signal(args, "^select 1/2", "0"), 130, "%s", out);
    cr_assert(strstr(out, "1 of 2 points finished; the shortest point's model could not be "
                          "written: ") && strstr(out, "No space left on device"), "%s", out);
    cr_assert(!strstr(out, "holds point"), "%s", out);
}

/* A point that cannot be set up (its buffers do not fit the address space) ended select at
 * once: no table, no report, and --save already replaced by an earlier point's model beside
 * another run's report (found by a resource sweep). Now the grid ends as a stop ends it: the
 * table and report of the finished points, exit 1, and the message says what --save holds.
 * ASan's shadow cannot run under an address-space limit. The second point's 36 million weights
 * (144 MB, and as much again for their gradient) fit 300 MB under no kernel set: 20-3000-3000-3
 * fitted beside BLIS's sandybridge kernels, whose packing blocks are smaller. */
Test(select_cmd, a_point_that_cannot_be_set_up_ends_the_grid_as_a_stop_does)
{
#if defined(__SANITIZE_ADDRESS__)
    teardown(); /* a skipped test's .fini does not run */
    cr_skip_test("an address-space limit cannot be combined with AddressSanitizer");
#else
    const char *bin = shell_occam_bin();
    const char *rep = path("r.json");
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "ulimit -v 300000; %s select configs/blobs.ini --threads 2 "
             "--set runtime.oversubscribe=true --set train.epochs=1 "
             "--set train.lr=0.001 --grid model.layers=20:50:3,20:6000:6000:3 --report %s "
             "--save %s 2>&1", bin, rep, path("m.st"));
    cr_assert_eq(shell(cmd), 1, "%s", out);
    cr_assert(strstr(out, "out of memory") && strstr(out, "1 of 2 points finished; --save "
                                                          "holds point 0's model"), "%s", out);
    cr_assert(strstr(table_row(1), "not trained"), "%s", out);
    occam_json_value root;
    load_json(rep, &root);
    cr_assert_eq(member(&root, "interrupted", OCCAM_JSON_BOOL)->boolean, true);
    cr_assert_eq(member(&root, "best", OCCAM_JSON_NUMBER)->integer, 0);
    occam_json_free(&root);
#endif
}

/* A stop asked for during the last point's description length (over a second here: 2
 * million weights) found no next point to stop before: it went unheard and the run exited 0,
 * and a second Ctrl-C killed it before --save. Now the handler says at once that it was
 * heard, the table and every output are written, and the exit is 130. */
Test(select_cmd, a_signal_during_the_last_point_writes_the_outputs_then_stops,
     .timeout = 120)
{
    const char *rep = path("r.json");
    char args[1024];
    snprintf(args, sizeof args, "--set model.layers=20,1500,1500,3 --set train.epochs=1 "
             "--set train.optimizer=adam --set train.lr=0.001 --set data.samples=256 "
             "--set data.test_samples=30 --grid train.seed=1 --verbose --report %s --save %s",
             rep, path("m.st"));
    cr_assert_eq(select_until_signal(args, "epoch 1/1", "0.05"), 130, "%s", out);
    cr_assert(strstr(out, "stopped by signal 2 after the last point had trained; 1 of 1 "
                          "points finished, with every output written"), "%s", out);
    cr_assert(strstr(out, "saved  "), "%s", out);
    occam_json_value root;
    load_json(rep, &root);
    cr_assert_eq(member(&root, "interrupted", OCCAM_JSON_BOOL)->boolean, false);
    cr_assert_eq(member(&root, "best", OCCAM_JSON_NUMBER)->integer, 0);
    occam_json_free(&root);
}

/* A reader of stdout that leaves early: 'occam select ... --report R | head -1' trained every
 * point, then the table's write to the closed pipe killed the process (SIGPIPE, exit 141)
 * before the report, written after the table, was (found by the CLI sweep). Now the write
 * fails instead, the model and the report are written, and the run exits 1 saying stdout
 * failed. The same for a closed stdout ('occam eval ... >&-' exited 0, its result lost). */
Test(select_cmd, a_reader_gone_from_stdout_loses_no_output, .timeout = 120)
{
    const char *bin = shell_occam_bin();
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "{ %s select configs/blobs.ini --threads 1 --set data.samples=200 "
             "--set train.epochs=2 --grid train.lr=0.01,0.02,0.03,0.04,0.05,0.06 --save %s "
             "--report %s 2>%s; echo $? >%s; } | true; cat %s %s", bin, path("m.st"),
             path("r.json"), path("err"), path("rc"), path("rc"), path("err"));
    int sig = 0, rc = shell_run(cmd, out, sizeof out, &sig);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert_eq(atoi(out), 1, "exit status %s", out);
    cr_assert(strstr(out, "occam: select: writing to standard output failed: Broken pipe"),
              "%s", out);
    occam_json_value root;
    load_json(path("r.json"), &root); /* written, and whole */
    cr_assert_not_null(occam_json_get(&root, "best"));
    occam_json_free(&root);
    cr_assert_eq(access(path("m.st"), F_OK), 0, "no model: %s", out);
    snprintf(cmd, sizeof cmd, "%s eval configs/blobs.ini --threads 1 --set data.samples=200 "
             "--checkpoint %s 2>&1 >&-", bin, path("m.st"));
    cr_assert_eq(shell_run(cmd, out, sizeof out, &sig), 1, "%s", out);
    cr_assert(strstr(out, "occam: eval: writing to standard output failed"), "%s", out);
}

/* The lengths compare only as codes of the same thing. A grid over the rows coded
 * (data.samples, data.holdout, data.seed, another training file) picked the point with the
 * fewest or easiest rows; one over mdl.target_precision the coarsest targets; the count code
 * (bits_per_weight bits a weight, a number chosen) was ranked against bits-back. Each is
 * refused before anything trains, naming the two points; grids over the inputs' scaling, the
 * test set or the targets' standardisation code the same labels and still run. */
Test(select_cmd, points_must_code_the_same_training_data)
{
    static const struct {
        const char *args, *needle;
    } refused[] = {
        {"--grid data.seed=1,2", "points 0 (data.seed=1) and 1 (data.seed=2) code different "
                                 "training data (other labels or targets in the same 200 rows)"},
        {"--grid data.holdout=0,50", "code different training data (200 rows against 150)"},
        {"--grid noise.enabled=false,true --set mdl.model_code=count",
         "are measured by different yardsticks"},
        {"--grid mdl.bits_per_weight=4,8 --set mdl.model_code=count",
         "are measured by different yardsticks"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        cr_assert_eq(select_run("%s", refused[i].args), 2, "%s: %s", refused[i].args, out);
        cr_assert(strstr(out, refused[i].needle), "%s: %s", refused[i].args, out);
        cr_assert(strstr(out, "no point was trained"), "%s: %s", refused[i].args, out);
    }
    /* the same labels as letters of another alphabet: said as that, not "other labels" */
    write_csv(path("k.csv"), 1);
    cr_assert_eq(select_csv(NULL, "--set data.train=%s --grid model.layers=4:3:2,4:3:3",
                            path("k.csv")), 2, "%s", out);
    cr_assert(strstr(out, "code different training data (labels of 2 classes against 3: the "
                          "model's last width is the class count)"), "%s", out);
    cr_assert_eq(shell_occam(out, sizeof out, "select configs/hinton93.ini --threads 1 --set "
                             "train.epochs=2 --grid mdl.target_precision=0.01,0.1"), 2, "%s", out);
    cr_assert(strstr(out, "code the targets at different precisions (mdl.target_precision = "
                          "0.01 against 0.1"), "%s", out);
    /* the same labels: these compare */
    cr_assert_eq(select_run("--grid data.normalize=none,standardize"), 0, "%s", out);
    cr_assert_eq(select_run("--grid data.spread=0.5 --grid mdl.model_code=count "
                            "--set mdl.bits_per_weight=8"), 0, "%s", out);
    cr_assert_eq(shell_occam(out, sizeof out, "select configs/hinton93.ini --threads 1 --set "
                             "train.epochs=2 --grid data.normalize_targets=true,false"), 0, "%s",
                 out);
}

/* --save written in place (a pipe, /dev/stdout, a FIFO) cannot be replaced, and select wrote
 * each shorter point's model after the last: `--save /dev/stdout > m.st` held three models in a
 * row, which eval refused ("trailing garbage"). The shortest one is held until the end now and
 * written once: the same bytes as a --save to a file, through stdout into a file and through a
 * pipe. */
Test(select_cmd, save_to_a_stream_is_one_model, .timeout = 120)
{
    const char *bin = shell_occam_bin();
    const char *grid = "select configs/blobs.ini --threads 1 --set train.epochs=2 --set "
                       "prune.schedule=oneshot --set prune.finetune_epochs=1 --grid "
                       "prune.target=0,0.5,0.9"; /* each point shorter than the last */
    cr_assert_eq(shell_occam(out, sizeof out, "%s --save %s", grid, path("file.st")), 0, "%s",
                 out);
    cr_assert(strstr(out, "saved  ") && strstr(out, "(point 2)"), "%s", out);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s %s --save /dev/stdout 2>/dev/null > %s && %s %s --save "
             "/dev/stdout 2>/dev/null | cat > %s && cmp %s %s && cmp %s %s", bin, grid,
             path("stdout.st"), bin, grid, path("pipe.st"), path("file.st"), path("stdout.st"),
             path("file.st"), path("pipe.st"));
    int sig = 0;
    cr_assert_eq(shell_run(cmd, out, sizeof out, &sig), 0, "%s", out);
    cr_assert_eq(shell_occam(out, sizeof out, "eval configs/blobs.ini --threads 1 --set "
                             "prune.schedule=oneshot --checkpoint %s", path("stdout.st")), 0,
                 "%s", out);
}
