/* Dataset lifetime and the config-driven loader.
 *
 * occam_data_load is the one place that knows which config keys feed which reader. After
 * reading it checks the data against the model before any weight is allocated: the input
 * layer must match the feature count and the output layer the class (or target) count, with
 * messages that name the key and the file, because a mismatch there is a config mistake.
 * Normalisation (features, then regression targets) comes last, so it sees exactly the rows
 * that will be trained on. On failure both datasets are freed and zeroed. */
#include "occam/data.h"
#include "occam/mem.h"
#include "occam/safetensors.h"
#include "input.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <errno.h>
#include <unistd.h>

#define LOAD_SOURCE_MAX (OCCAM_PATH_MAX + 16)

uint32_t occam_dataset_crc(const occam_dataset *ds)
{
    uint32_t crc = occam_st_crc32(0, ds->x, ds->n * ds->d * sizeof(float));
    if (ds->label) crc = occam_st_crc32(crc, ds->label, ds->n * sizeof(int32_t));
    if (ds->y) crc = occam_st_crc32(crc, ds->y, ds->n * (size_t)ds->targets * sizeof(float));
    return crc;
}

/* Target i of ds (row-major, targets a row) in its original units. */
static double target_orig(const occam_dataset *ds, size_t i)
{
    size_t j = i % (size_t)ds->targets;
    return ds->y_scale ? ds->y_shift[j] + ds->y_scale[j] * (double)ds->y[i] : (double)ds->y[i];
}

int occam_coded_rows_copy(occam_coded_rows *c, const occam_dataset *ds, occam_error *err)
{
    *c = (occam_coded_rows){.n = ds->n, .classes = ds->classes, .targets = ds->targets};
    size_t ny = ds->y ? ds->n * (size_t)ds->targets : 0;
    c->label = ds->label ? malloc(ds->n * sizeof *c->label + 1) : NULL;
    c->y = ny ? malloc(ny * sizeof *c->y) : NULL;
    c->tol = ny ? calloc((size_t)ds->targets, sizeof *c->tol) : NULL;
    if ((ds->label && !c->label) || (ny && (!c->y || !c->tol))) {
        occam_coded_rows_free(c);
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory for a copy of the labels");
    }
    if (c->label) memcpy(c->label, ds->label, ds->n * sizeof *c->label);
    for (size_t i = 0; i < ny; i++) {
        size_t j = i % (size_t)ds->targets;
        c->y[i] = target_orig(ds, i);
        c->tol[j] = fmax(c->tol[j], 8 * FLT_EPSILON * fabs(c->y[i]));
    }
    return OCCAM_OK;
}

bool occam_coded_rows_same(const occam_coded_rows *c, const occam_dataset *ds)
{
    if (c->n != ds->n || c->classes != ds->classes || c->targets != ds->targets ||
        !c->label != !ds->label || !c->y != !ds->y)
        return false;
    if (c->label && memcmp(c->label, ds->label, c->n * sizeof *c->label)) return false;
    for (size_t i = 0; c->y && i < c->n * (size_t)c->targets; i++) {
        double a = c->y[i], b = target_orig(ds, i);
        if (!(fabs(a - b) <= c->tol[i % (size_t)c->targets])) return false;
    }
    return true;
}

void occam_coded_rows_free(occam_coded_rows *c)
{
    free(c->label);
    free(c->y);
    free(c->tol);
    c->label = NULL;
    c->y = c->tol = NULL;
}

void occam_dataset_free(occam_dataset *ds)
{
    if (!ds) return;
    free(ds->x);
    free(ds->label);
    free(ds->y);
    free(ds->y_shift);
    free(ds->y_scale);
    free(ds->y_var);
    free(ds->names);
    free(ds->label_name);
    *ds = (occam_dataset){0};
}

/* The name of column j: the j-th of the NUL-terminated strings. */
static const char *column_name(const char *names, size_t j)
{
    while (j--) names += strlen(names) + 1;
    return names;
}

const char *occam_dataset_column_name(const occam_dataset *ds, size_t j)
{
    return ds->names && j < ds->d ? column_name(ds->names, j) : NULL;
}

size_t occam_dataset_find_column(const occam_dataset *ds, const char *name)
{
    const char *nm = ds->names;
    for (size_t j = 0; nm && j < ds->d; j++, nm += strlen(nm) + 1)
        if (!strcmp(nm, name)) return j;
    return SIZE_MAX;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Whether the d names of a and b are the same multiset (one a reordering of the other). */
static bool same_names(const char *a, const char *b, size_t d)
{
    const char **sa = malloc(2 * d * sizeof *sa);
    if (!sa) return false;
    const char **sb = sa + d;
    for (size_t j = 0; j < d; j++, a += strlen(a) + 1, b += strlen(b) + 1) sa[j] = a, sb[j] = b;
    qsort(sa, d, sizeof *sa, name_cmp);
    qsort(sb, d, sizeof *sb, name_cmp);
    bool same = true;
    for (size_t j = 0; j < d && same; j++) same = !strcmp(sa[j], sb[j]);
    free(sa);
    return same;
}

typedef struct {
    const char *s;
    size_t j;
} named_col;

static int named_cmp(const void *a, const void *b)
{
    const named_col *x = a, *y = b;
    int c = strcmp(x->s, y->s);
    return c ? c : (x->j > y->j) - (x->j < y->j);
}

/* Whether the d names are numbers in a common wrapping: one prefix (maybe none) and digits, as
 * pandas (0, 1, ...), R (V1, V2, ...) and spreadsheets (Column1, ...) name columns by place.
 * Empty names are passed over; at least two must be there. */
static bool positional_names(const char *names, size_t d)
{
    const char *prefix = NULL;
    size_t plen = 0, seen = 0;
    for (size_t j = 0; j < d; j++, names += strlen(names) + 1) {
        size_t n = strlen(names), k = n;
        while (k > 0 && names[k - 1] >= '0' && names[k - 1] <= '9') k--;
        if (!n) continue;
        if (k == n) return false; /* no digits at its end */
        if (!prefix) prefix = names, plen = k;
        else if (k != plen || memcmp(names, prefix, k)) return false;
        seen++;
    }
    return seen >= 2;
}

/* Whether a name of ds (not empty) is in another place among ref's names than its own, where
 * ref holds another name: *at its place in ds, *was its (first) place in ref. A header whose
 * names are the training header's moved along by a column (a row index in front, one column left
 * out) is then caught, though the two are not one reordering of the other. False when memory
 * runs short: the names are then only noted. */
static bool misplaced_name(const char *ref, const char *ds, size_t d, size_t *at, size_t *was)
{
    named_col *r = malloc(d * sizeof *r);
    if (!r) return false;
    const char *a = ref;
    for (size_t j = 0; j < d; j++, a += strlen(a) + 1) r[j] = (named_col){a, j};
    qsort(r, d, sizeof *r, named_cmp);
    bool found = false;
    const char *b = ds;
    a = ref;
    for (size_t j = 0; j < d && !found; j++, a += strlen(a) + 1, b += strlen(b) + 1) {
        if (!b[0] || !strcmp(a, b)) continue;
        size_t lo = 0, hi = d; /* the first of ref's names not below b */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (strcmp(r[mid].s, b) < 0) lo = mid + 1;
            else hi = mid;
        }
        if (lo < d && !strcmp(r[lo].s, b)) found = true, *at = j, *was = r[lo].j;
    }
    free(r);
    return found;
}

/* Whether a header cell reads as a number a data cell may hold: decimal (not C's hexadecimal),
 * finite and within float32's range ("nan", "inf" and "1e39" are refused in a row, so a line
 * holding them is no data row). */
static bool numeric_name(const char *s, double *v)
{
    char *end;
    if (!s[0] || strpbrk(s, "xX")) return false;
    *v = strtod(s, &end);
    return !*end && isfinite(*v) && fabs(*v) <= FLT_MAX;
}

/* Whether each cell of a header line reads as a number, as a data cell does, and, in *counts,
 * whether they are plain integers counting 0, 1, 2, ... or 1, 2, 3, ... along the line (the
 * header pandas writes for unnamed columns). The line is the d feature names with, when label
 * is not NULL, the label's name put back at its 1-based column label_col (at the end if that
 * is past them): a word there makes the line no data row, and pandas' numbers count across
 * it. */
static bool numeric_line(const char *names, size_t d, const char *label, size_t label_col,
                         bool *counts)
{
    size_t cells = d + (label != NULL);
    size_t at = label ? (label_col >= 1 && label_col <= cells ? label_col - 1 : d) : cells;
    *counts = cells > 0;
    long first = 0;
    for (size_t j = 0; j < cells; j++) {
        const char *s = j == at ? label : names;
        if (j != at) names += strlen(names) + 1;
        double v;
        if (!numeric_name(s, &v)) return false;
        bool plain = strspn(s, "0123456789") == strlen(s);
        if (j == 0) first = plain && (v == 0 || v == 1) ? (long)v : -1;
        *counts = *counts && plain && first >= 0 && v == (double)(first + (long)j);
    }
    return cells > 0;
}

/* numeric_line over the d names alone */
static bool numeric_names(const char *names, size_t d, bool *counts)
{
    return numeric_line(names, d, NULL, 0, counts);
}

/* ds's header line, its label's name included */
static bool numeric_header(const occam_dataset *ds, bool *counts)
{
    return ds->names && numeric_line(ds->names, ds->d, ds->label_name, ds->label_col, counts);
}

bool occam_dataset_numeric_header(const occam_dataset *ds)
{
    bool counts; /* a header made by data.label's name is one, numbers or not */
    return !ds->named_header && numeric_header(ds, &counts) && !counts;
}

int occam_data_check_columns(const occam_dataset *ref, const char *ref_path,
                             const occam_dataset *ds, const char *path, char *note, size_t cap,
                             occam_error *err)
{
    if (cap) note[0] = 0;
    if (ref->grid_w > 0 && ds->grid_w > 0 && ref->grid_w != ds->grid_w)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s holds images %d pixels wide, but %s "
                               "holds %d: the pixels do not line up", path, ds->grid_w,
                               ref_path, ref->grid_w);
    if (!ref->names || !ds->names || ref->d != ds->d) return OCCAM_OK;
    /* one walk along both (a header may name 10^5 columns) */
    size_t j = 0;
    const char *na = ds->names, *nb = ref->names;
    for (; j < ds->d && !strcmp(na, nb); j++) na += strlen(na) + 1, nb += strlen(nb) + 1;
    if (j == ds->d) return OCCAM_OK;
    char a[4 * 40 + 4], b[4 * 40 + 4];
    occam_error_quote(a, sizeof a, na, strlen(na), 40);
    occam_error_quote(b, sizeof b, nb, strlen(nb), 40);
    /* A "header" of numbers only (data.header = yes) where ref's names its columns is the
     * file's first data row: it was dropped without a word, a test set a row short and
     * predict's output a row fewer than its input. Numbers counting the columns (pandas'
     * header of unnamed columns) are a header still. */
    bool counts, ref_counts;
    if (numeric_header(ds, &counts) && !counts &&
        !numeric_names(ref->names, ref->d, &ref_counts)) {
        occam_error_quote(a, sizeof a, ds->names, strlen(ds->names), 40);
        occam_error_quote(b, sizeof b, ref->names, strlen(ref->names), 40);
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: data.header = yes takes its first "
                               "line for a header, but that line holds only numbers (feature 1 "
                               "\"%s\") where %s's header names the columns (\"%s\"): it is "
                               "a data row, which would be dropped; give the file the training "
                               "header, or set data.header = auto", path, a, ref_path, b);
    }
    if (same_names(ref->names, ds->names, ds->d))
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: its header names the columns of %s "
                               "in another order: feature %zu is \"%s\" here, \"%s\" there; "
                               "put them in the training order", path, ref_path, j + 1, a, b);
    /* names that number the columns by place on both sides (V2..V5 of a table whose V1 was the
     * label, then V1..V4 of the new rows) say nothing of the order: only other names can be
     * misplaced (x,x1,x2 against x1,x2,x3 is refused: one side is named).
     * But an unnamed first column on one side only is the mark of a row index (R's write.csv,
     * pandas' to_csv): the names beside it were moved along by it, numbers or not (x1..x4
     * against "", x1..x3 was taken for other names, and the rows were predicted shifted) */
    bool row_index = !ref->names[0] != !ds->names[0];
    bool by_place = !row_index && positional_names(ref->names, ref->d) &&
                    positional_names(ds->names, ds->d);
    size_t at, was;
    if (!by_place && misplaced_name(ref->names, ds->names, ds->d, &at, &was)) {
        const char *n = column_name(ds->names, at);
        occam_error_quote(a, sizeof a, n, strlen(n), 40);
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: its header's feature %zu is \"%s\", "
                               "feature %zu in %s: the columns do not line up (a row-index "
                               "column in front, or one left out?); write the features as in "
                               "training, or rename the header if these are other columns",
                               path, at + 1, a, was + 1, ref_path);
    }
    if (cap)
        snprintf(note, cap, "%s: its header's feature %zu is \"%s\", \"%s\" in %s: other "
                 "names, taken to be the same columns in the same order", path, j + 1, a, b,
                 ref_path);
    return OCCAM_OK;
}

double occam_float_step(double m)
{
    int e = ilogb(m < FLT_MIN ? FLT_MIN : m); /* below FLT_MIN: the subnormals' fixed step */
    return ldexp(1.0, e - 23);
}

void occam_dataset_drop_name(occam_dataset *ds, size_t col)
{
    if (!ds->names) return;
    char *at = (char *)column_name(ds->names, col), *next = at + strlen(at) + 1;
    const char *end = column_name(ds->names, ds->d); /* d names before the drop */
    memmove(at, next, (size_t)(end - next));
}


static int load_same_width(const occam_dataset *train, const occam_dataset *test,
                           const char *train_path, const char *test_path, occam_error *err)
{
    if (test->n == 0 || test->d == train->d) return OCCAM_OK;
    return occam_error_set(err, OCCAM_ERR_INPUT, "%s has %zu features per row but %s has %zu",
                           train_path, train->d, test_path, test->d);
}

static const char *const idx_stem[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                        "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};

int occam_data_files(const occam_data_params *p, occam_data_file files[4])
{
    int n = 0;
    if (p->source == OCCAM_SOURCE_CSV) {
        const char *key[2] = {"data.train", "data.test"}, *path[2] = {p->train, p->test};
        for (int i = 0; i < 2; i++)
            if (path[i][0]) {
                files[n].key = key[i];
                snprintf(files[n++].path, sizeof files->path, "%s", path[i]);
            }
    } else if (p->source == OCCAM_SOURCE_IDX && p->path[0]) {
        for (int i = 0; i < 4; i++) {
            occam_error e;
            files[n].key = "data.path";
            if (occam_idx_find(files[n].path, sizeof files->path, p->path, idx_stem[i], &e) ==
                OCCAM_OK)
                n++;
        }
    }
    return n;
}

static int load_idx(const occam_data_params *p, int outputs, occam_dataset *train, occam_dataset *test,
                    char *src, occam_error *err)
{
    char path[4][OCCAM_PATH_MAX + 8];
    int files = p->holdout > 0 ? 2 : 4; /* held-out rows test: the test files are not read */
    for (int i = 0; i < files; i++) {
        int rc = occam_idx_find(path[i], sizeof path[i], p->path, idx_stem[i], err);
        if (rc != OCCAM_OK) return rc;
    }
    snprintf(src, LOAD_SOURCE_MAX, "%s", path[0]);
    int classes = outputs;
    uint32_t shape[2][2];
    int rc = data_idx_load(train, path[0], path[1], classes, shape[0], err);
    if (files == 2) return rc;
    if (rc == OCCAM_OK) rc = data_idx_load(test, path[2], path[3], classes, shape[1], err);
    if (rc == OCCAM_OK) rc = load_same_width(train, test, path[0], path[2], err);
    /* Images of one size in another shape (28×28 against 14×56) flatten to the same width and
     * would train and test as if the pixels lined up. */
    if (rc == OCCAM_OK && (shape[0][0] != shape[1][0] || shape[0][1] != shape[1][1]))
        rc = occam_error_set(err, OCCAM_ERR_INPUT, "%s holds %" PRIu32 "×%" PRIu32 " images "
                             "but %s holds %" PRIu32 "×%" PRIu32 ": the pixels do not line up",
                             path[0], shape[0][0], shape[0][1], path[2], shape[1][0],
                             shape[1][1]);
    return rc;
}

/* A file the config names that cannot be read: the key as well as the path, and for a
 * relative path the folder it was looked for in, the current directory (not the config's:
 * "small.csv: cannot open" named neither). Open's own message where the check passes, or where
 * the process is short of files or memory. */
static int csv_readable(const char *key, const char *path, occam_error *err)
{
    if (access(path, R_OK) == 0) return OCCAM_OK;
    int e = errno;
    if (e == EMFILE || e == ENFILE || e == ENOMEM) return OCCAM_OK;
    char cwd[OCCAM_PATH_MAX];
    if (path[0] != '/' && getcwd(cwd, sizeof cwd))
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s = %s: cannot open: %s (a relative "
                               "path is read from the current directory, %s)", key, path,
                               strerror(e), cwd);
    return occam_error_set(err, OCCAM_ERR_INPUT, "%s = %s: cannot open: %s", key, path,
                           strerror(e));
}

static int load_csv(const occam_data_params *p, int outputs, occam_dataset *train, occam_dataset *test,
                    char *src, occam_error *err)
{
    /* data.classes belongs to blobs; for a file the output layer says how many classes. */
    const occam_csv_opts opts = {
        .label = p->label,
        .label_name = p->label_name,
        .header = p->header,
        .task = p->task,
        .classes = outputs,
    };
    snprintf(src, LOAD_SOURCE_MAX, "%s", p->train);
    /* both before either loads: a missing test file was said after a large training file */
    int rc = csv_readable("data.train", p->train, err);
    if (rc == OCCAM_OK && p->test[0]) rc = csv_readable("data.test", p->test, err);
    if (rc == OCCAM_OK) rc = occam_csv_load(train, p->train, &opts, err);
    if (rc != OCCAM_OK || p->test[0] == '\0') return rc;
    occam_csv_opts topts = opts; /* the test rows' cells are the training rows' */
    topts.cols = train->d + (p->label != OCCAM_LABEL_NONE);
    topts.cols_of = p->train;
    /* a named label is found by its name in the test file's header too; a test file without
     * one takes the training file's column */
    if (p->label == OCCAM_LABEL_NAMED) topts.label_fallback = train->label_col;
    rc = occam_csv_load(test, p->test, &topts, err);
    /* a reordered test file would test a model on shuffled inputs; other names pass */
    if (rc == OCCAM_OK) rc = occam_data_check_columns(train, p->train, test, p->test, NULL, 0, err);
    return rc;
}

static int load_blobs(const occam_data_params *p, occam_dataset *train, occam_dataset *test,
                      char *src, occam_error *err)
{
    snprintf(src, LOAD_SOURCE_MAX, "blobs");
    if (p->samples < 0)
        return occam_error_set(err, OCCAM_ERR_INPUT, "data.samples: must be >= 1");
    if (p->test_samples < 0)
        return occam_error_set(err, OCCAM_ERR_INPUT, "data.test_samples: must be >= 0");
    return occam_blobs_make(train, test, (size_t)p->samples,
                            (size_t)p->test_samples, p->features,
                            p->classes, p->spread, p->seed, err);
}

/* The model's input and output widths must match what was read from `src`. */
static int load_check_model(int in, int out, const occam_dataset *train, const char *src,
                            bool csv, occam_error *err)
{
    /* A CSV row holds one regression target, data.label's column, and every other cell is a
     * feature: a model.layers that ends in several outputs (a table of several targets, as
     * sklearn's linnerud) was told only that its input width was off. */
    const char *several = csv && !train->label && out > 1
                              ? "a CSV row holds one regression target, the data.label "
                                "column, and occam reads every other column as a feature "
                                "(train one model a target)"
                              : "";
    char outw[48] = "";
    if (*several) snprintf(outw, sizeof outw, ", and its output width %d is not 1", out);
    /* the note that names a row index comes after the load, which this ends: say it here */
    if (in < 0 || (size_t)in != train->d)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "model.layers: input width %d does not match the data's %zu "
                               "features (%s)%s%s%s%s",
                               in, train->d, src, outw,
                               train->row_index
                                   ? "; they count its first column, which has no name and "
                                     "holds a row index as R's write.csv and pandas' to_csv "
                                     "write by default? write the file without it (R: "
                                     "row.names = FALSE; pandas: index=False)"
                                   : "",
                               *several ? "; " : "", several);
    if (train->label && out != train->classes)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "model.layers: output width %d does not match the data's %d "
                               "classes (%s)",
                               out, train->classes, src);
    if (!train->label && out != train->targets)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "model.layers: output width %d does not match the data's %d "
                               "regression targets (%s)%s%s",
                               out, train->targets, src, *several ? ": " : "", several);
    return OCCAM_OK;
}

/* data.holdout = K: the last K training rows become the test set (a validation split). */
static int load_holdout(const occam_data_params *p, occam_dataset *train, occam_dataset *test,
                        occam_error *err)
{
    size_t k = (size_t)p->holdout;
    if (k >= train->n)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "data.holdout: %zu leaves no training rows (%zu rows)", k,
                               train->n);
    occam_dataset v = {0};
    size_t keep = train->n - k, d = train->d, t = (size_t)train->targets;
    v.n = k;
    v.d = d;
    v.classes = train->classes;
    v.targets = train->targets;
    v.x = occam_alloc(k * d, sizeof(float));
    if (train->label) v.label = occam_alloc(k, sizeof(int32_t));
    if (train->y) v.y = occam_alloc(k * t, sizeof(float));
    if (!v.x || (train->label && !v.label) || (train->y && !v.y)) {
        occam_dataset_free(&v);
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory for the holdout rows");
    }
    memcpy(v.x, train->x + keep * d, k * d * sizeof(float));
    if (v.label) memcpy(v.label, train->label + keep, k * sizeof(int32_t));
    if (v.y) memcpy(v.y, train->y + keep * t, k * t * sizeof(float));
    train->n = keep;
    occam_dataset_free(test);
    *test = v;
    return OCCAM_OK;
}

static int load_read(const occam_data_params *params, int outputs, occam_dataset *train,
                     occam_dataset *test, char *src, occam_error *err)
{
    /* With data.holdout the training rows' last ones test: data.test and data.test_samples
     * were read or generated, then thrown away (a missing data.test failed the run; 2e7
     * test_samples took 550 MB) */
    occam_data_params held = *params;
    const occam_data_params *p = params;
    if (params->holdout > 0) {
        held.test[0] = '\0';
        held.test_samples = 0;
        p = &held;
    }
    switch (p->source) {
    case OCCAM_SOURCE_IDX: return load_idx(p, outputs, train, test, src, err);
    case OCCAM_SOURCE_CSV: return load_csv(p, outputs, train, test, src, err);
    case OCCAM_SOURCE_BLOBS: return load_blobs(p, train, test, src, err);
    case OCCAM_SOURCE_PEPTIDE:
        snprintf(src, LOAD_SOURCE_MAX, "peptide");
        return occam_peptide_make(train, test, (size_t)p->samples,
                                  (size_t)p->test_samples, p->features,
                                  p->target_noise, p->seed, err);
    }
    return occam_error_set(err, OCCAM_ERR_INPUT, "data.source: unknown source %d",
                           (int)p->source);
}

/* The test rows after normalisation with the training statistics (the training rows cannot
 * leave the float32 range: standardised, |z| <= sqrt(n); scaled, |x| <= 1). Held-out rows are
 * the training file's last ones, counted as such. */
static int load_check_test(const occam_data_params *p, const occam_dataset *train,
                           const occam_dataset *test, const char *src, occam_error *err)
{
    if (p->holdout > 0)
        return occam_data_check_normalized(test, p->normalize, src, train->n, err);
    const char *name = p->source == OCCAM_SOURCE_CSV && p->test[0] ? p->test : src;
    return occam_data_check_normalized(test, p->normalize, name, 0, err);
}

int occam_data_load(const occam_data_params *p, int inputs, int outputs, occam_dataset *train,
                    occam_dataset *test, occam_error *err)
{
    *train = (occam_dataset){0};
    *test = (occam_dataset){0};
    char src[LOAD_SOURCE_MAX] = "";
    int rc = load_read(p, outputs, train, test, src, err);
    if (rc == OCCAM_OK) rc = load_check_model(inputs, outputs, train, src,
                                                p->source == OCCAM_SOURCE_CSV, err);
    if (rc == OCCAM_OK && p->holdout > 0) rc = load_holdout(p, train, test, err);
    if (rc == OCCAM_OK) occam_data_normalize(train, test, p->normalize);
    if (rc == OCCAM_OK && p->normalize_targets)
        rc = occam_data_normalize_targets(train, test, err);
    if (rc == OCCAM_OK) rc = load_check_test(p, train, test, src, err);
    if (rc != OCCAM_OK) {
        occam_dataset_free(train);
        occam_dataset_free(test);
    }
    return rc;
}

const char *const occam_data_source_names[] = {
    [OCCAM_SOURCE_IDX] = "idx", [OCCAM_SOURCE_CSV] = "csv", [OCCAM_SOURCE_BLOBS] = "blobs",
    [OCCAM_SOURCE_PEPTIDE] = "peptide", NULL};

int occam_data_check(const occam_data_params *p, int inputs, int outputs, occam_error *err)
{
    if (p->source == OCCAM_SOURCE_CSV && !p->train[0])
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "data.train: data.source = csv needs the training file");
    if (p->source == OCCAM_SOURCE_IDX && !p->path[0])
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "data.path: data.source = idx needs the IDX folder");
    /* A CSV file named under another source was never read: '[data] train = my.csv' without
     * 'source = csv' trained on Fashion-MNIST (the default source) with exit 0. The file keys
     * have no other use, so naming one says where the data is to come from. */
    const char *file_key = p->train[0] ? "data.train" : p->test[0] ? "data.test" : NULL;
    if (p->source != OCCAM_SOURCE_CSV && file_key)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "%s: names a CSV file, but data.source = %s does not read it (set "
                               "data.source = csv, or leave %s empty)",
                               file_key, occam_data_source_names[p->source], file_key);
    if (p->task == OCCAM_TASK_REGRESS && p->source != OCCAM_SOURCE_CSV &&
        p->source != OCCAM_SOURCE_PEPTIDE)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "data.task: regress needs data.source = csv or peptide "
                               "(data.source = %s is classification data)",
                               (unsigned)p->source <= OCCAM_SOURCE_PEPTIDE
                                   ? occam_data_source_names[p->source]
                                   : "?");
    if (p->source == OCCAM_SOURCE_PEPTIDE && p->task != OCCAM_TASK_REGRESS)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "data.task: data.source = peptide is a regression task (set "
                               "data.task = regress)");
    if (p->holdout >= p->samples && p->source != OCCAM_SOURCE_IDX &&
        p->source != OCCAM_SOURCE_CSV)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "data.holdout: %lld leaves no training rows (data.samples = %lld)",
                               (long long)p->holdout, (long long)p->samples);
    /* One output under softmax is a probability of 1 whatever the weights: "accuracy 1.0000"
     * and "data 0 bits" with nothing learned, and select ranked such points with the rest. */
    if (p->task == OCCAM_TASK_CLASSIFY && outputs < 2)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "model.layers: a classifier needs an output per class, at least "
                               "2 (the last entry is %d); for one real target set data.task = "
                               "regress", outputs);
    if (p->source == OCCAM_SOURCE_BLOBS) {
        if (inputs != p->features)
            return occam_error_set(err, OCCAM_ERR_INPUT,
                                   "model.layers: input width %d does not match "
                                   "data.features = %d",
                                   inputs, p->features);
        if (outputs != p->classes)
            return occam_error_set(err, OCCAM_ERR_INPUT,
                                   "model.layers: output width %d does not match "
                                   "data.classes = %d",
                                   outputs, p->classes);
    }
    return OCCAM_OK;
}
