/* occam/data.h — datasets in memory, their readers, generators and normalisation.
 *
 * A dataset is row-major float32 features, 64-byte aligned, plus either integer class labels
 * (classify) or float32 targets (regress). Readers validate everything before a single value is
 * trusted: a bad file is OCCAM_ERR_INPUT with a message naming the file and, where known, the
 * record (IDX) or line (CSV). A reader never leaves a half-filled dataset behind: on failure the
 * output is freed and zeroed. */
#ifndef OCCAM_DATA_H
#define OCCAM_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "occam/error.h"
#include "occam/fsutil.h"

typedef enum { OCCAM_SOURCE_IDX, OCCAM_SOURCE_CSV, OCCAM_SOURCE_BLOBS, OCCAM_SOURCE_PEPTIDE }
    occam_source;
typedef enum { OCCAM_TASK_CLASSIFY, OCCAM_TASK_REGRESS } occam_task;
typedef enum { OCCAM_NORM_NONE, OCCAM_NORM_SCALE, OCCAM_NORM_STANDARDIZE } occam_norm;
typedef enum { OCCAM_CSV_HEADER_AUTO, OCCAM_CSV_HEADER_YES, OCCAM_CSV_HEADER_NO } occam_csv_header;

/* data.label: a 1-based column number, or one of these. */
#define OCCAM_LABEL_FIRST 1
#define OCCAM_LABEL_LAST (-1)
/* Not a data.label value: a CSV of features only, no label column (the rows `occam predict`
 * reads). */
#define OCCAM_LABEL_NONE (-2)
/* data.label names its column by the header's name (occam_data_params.label_name; in
 * occam_csv_opts, label_name): the file must have a header holding that name once. */
#define OCCAM_LABEL_NAMED (-3)
/* The longest data.label name, in bytes with its NUL. */
#define OCCAM_LABEL_NAME_MAX 256

/* The [data] section: where the rows come from and how they are prepared. */
typedef struct occam_data_params {
    occam_source source;        /* data.source = idx | csv | blobs | peptide */
    char path[OCCAM_PATH_MAX];  /* data.path: folder holding the four IDX files */
    char train[OCCAM_PATH_MAX]; /* data.train: CSV training file */
    char test[OCCAM_PATH_MAX];  /* data.test: CSV test file */
    int label;                  /* data.label = first | last | N (1-based column) | NAME */
    char label_name[OCCAM_LABEL_NAME_MAX]; /* data.label's NAME (label = OCCAM_LABEL_NAMED) */
    occam_csv_header header;    /* data.header = auto | yes | no */
    occam_task task;            /* data.task = classify | regress */
    occam_norm normalize;       /* data.normalize = none | scale | standardize */
    bool normalize_targets;     /* data.normalize_targets: regress: standardise the targets */
    int64_t samples;            /* data.samples: blobs training rows */
    int64_t test_samples;       /* data.test_samples: blobs test rows */
    int features;               /* data.features: blobs input dimension */
    int classes;                /* data.classes: blobs class count */
    double spread;              /* data.spread: std of the blob centres (unit-variance blobs) */
    uint64_t seed;              /* data.seed: blobs / peptide generator seed */
    double target_noise;        /* data.target_noise: peptide target noise std */
    int64_t holdout;            /* data.holdout: hold out the last K training rows as the
                                   test set (validation split for tuning) */
} occam_data_params;

/* occam_dataset.row_index */
enum { OCCAM_ROW_INDEX_NONE, OCCAM_ROW_INDEX_COUNTS, OCCAM_ROW_INDEX_NAMES };

typedef struct occam_dataset {
    float *x;       /* n × d features, row-major, 64-byte aligned */
    int32_t *label; /* classify: n labels in [0, classes); else NULL */
    float *y;       /* regress: n × targets, row-major; else NULL (both NULL: features only) */
    size_t n;       /* rows */
    size_t d;       /* features per row */
    int classes;    /* classify: class count; regress: 0 */
    int targets;    /* regress: target columns; classify: 0 */
    /* Regress with standardised targets (occam_data_normalize_targets): per target column, the
     * stored y is (y_orig - y_shift[j]) / y_scale[j] with the training set's mean and std.
     * Both NULL: the targets are in their original units. */
    double *y_shift, *y_scale;
    /* With them, per target column, the variance of the targets as read, in double: the
     * relative error's denominator. Taken before the standardisation, whose float32 can make
     * distinct targets one (test targets 2 apart under a training std of 2e29 read as "do not
     * vary"). NULL: computed from y. It describes the n rows it came with: a copy cut to
     * fewer rows (a chunk of a description length) must not take it for theirs. */
    double *y_var;
    /* IDX images (records × rows × cols): cols, the width of the image whose pixels the
     * features are, in raster order (d = rows × cols); 0 for other data. The model code sends
     * the first layer's weights by their neighbours on it (occam/dl.h). */
    int grid_w;
    /* csv: the first feature column has an empty header name and counts the rows from 0 or 1
     * (OCCAM_ROW_INDEX_COUNTS), as the row index pandas' to_csv and R's write.csv write by
     * default, or holds a different whole number on each of 10 or more rows
     * (OCCAM_ROW_INDEX_NAMES: such an index after rows were dropped, as R's na.omit and
     * pandas' dropna leave it, or shuffled). It is read as a feature, like any column; the
     * commands say so. */
    int row_index;
    /* csv under data.header = auto: the first line is no header but numbers the columns, 0, 1,
     * 2, ... (or 1, 2, 3, ...) in 3 or more plain integers, as pandas writes the header of a
     * table whose columns have no names (to_csv(index=False) of a frame made from an array),
     * or in 4 or more that step evenly otherwise (years: 1990, 2000, ...). It is
     * read as a data row, as the rule says; the commands say so, from numbered_from by
     * numbered_step. */
    bool numbered_first;
    double numbered_from, numbered_step;
    /* csv read with occam_csv_opts.skip under data.header = auto: the first line's only text
     * is in the skipped column, and the line is read as a row (the commands say so). */
    bool text_label_first;
    /* csv: the first column (1-based in the file; 0: none) whose values float32 keeps to fewer
     * than 256 steps across their range as written, coarse_lo to coarse_hi (1e8 + x, x in ±2,
     * reads as 1e8): the commands say so. */
    size_t coarse_col;
    double coarse_lo, coarse_hi;
    /* csv: the first feature column (1-based in the file; 0: none) quoted in every row while
     * another feature is not, as R's write.csv writes a factor: a category read as a number?
     * The commands say so. */
    size_t quoted_col, quoted_feature; /* the latter 1-based among the features */
    /* Set by data.normalize = scale on training data other than images: the feature (1-based;
     * 0: none) whose largest |x| was the furthest below the largest of all, by more than 100
     * times (squashed_ratio), so that one scale left it near 0: the commands say so. */
    size_t squashed_col;
    double squashed_ratio;
    /* Set by occam_data_normalize: how many features are constant over the training rows
     * (and so become 0 in every row under standardize, and keep that value in every row
     * under scale), the first of them (1-based; 0: none) and its value: the commands
     * say so. */
    size_t const_cols, const_col;
    double const_val;
    /* csv with a header row: the feature columns' names in order (the label's left out), d
     * NUL-terminated strings one after another; NULL without a header. */
    char *names;
    /* csv with a label column: its 1-based column in the file (0: none), and with a header
     * its name (NULL otherwise): the commands say which column is learnt. */
    size_t label_col;
    char *label_name;
    /* csv: the first line is the header because it holds data.label's name (a header of
     * numbers, 850,fat,852, is then no data row in disguise) */
    bool named_header;
} occam_dataset;

/* Feature j's name from a CSV header (0-based, the label left out), or NULL without one. It walks
 * the names before j: a loop over every column takes occam_dataset_find_column. */
const char *occam_dataset_column_name(const occam_dataset *ds, size_t j);

/* The first feature column named `name` (0-based), or SIZE_MAX when none is (or no header). */
size_t occam_dataset_find_column(const occam_dataset *ds, const char *name);

/* The distance between neighbouring float32 values at magnitude m (> 0, finite): 8 at 1e8. */
double occam_float_step(double m);

/* Frees the arrays and zeroes the struct. Accepts NULL and already-freed datasets. */
void occam_dataset_free(occam_dataset *ds);

/* A checksum of ds's rows as loaded and scaled: inputs, then labels or targets. Two sets with
 * the same one train alike (and give the same input scaling to test rows). */
uint32_t occam_dataset_crc(const occam_dataset *ds);

/* What a data code codes, kept to compare data sets by: the row count, and the labels (with
 * the class count) or the targets in their original units (whatever data.normalize_targets did
 * to them). The inputs are left out: the code sends the labels given them, so two sets that
 * differ only in their inputs code the same thing. */
typedef struct occam_coded_rows {
    size_t n;
    int classes, targets;
    int32_t *label; /* n, or NULL */
    double *y;      /* n × targets in original units, or NULL */
    double *tol;    /* per target: how far two float32 forms of one column may differ */
} occam_coded_rows;
/* A copy of ds's; OCCAM_ERR_RUNTIME when memory runs out. */
int occam_coded_rows_copy(occam_coded_rows *c, const occam_dataset *ds, occam_error *err);
/* Whether ds codes what c holds: the same rows, labels equal, targets equal to float32's
 * precision at their column's largest magnitude (standardising a target and back moves it by an
 * ulp of that or so). */
bool occam_coded_rows_same(const occam_coded_rows *c, const occam_dataset *ds);
void occam_coded_rows_free(occam_coded_rows *c);

/* Whether ds's columns line up with ref's, which a model was trained on (both d wide): a CSV
 * header naming the same columns in another order, or IDX images of another width, is
 * OCCAM_ERR_INPUT naming both files and the first column out of place; so is a header one of
 * whose names is another column's in ref (the names moved along by a row index or a column left
 * out), unless both headers number their columns by place (0, 1, ...; V1, V2, ...) and neither
 * has an unnamed first column the other lacks (a row index's mark). Names that differ
 * otherwise (renamed, other spellings) are no proof of a wrong order: OCCAM_OK, with the first
 * difference described in note (cap bytes; "" when none). A "header" of ds that holds only
 * numbers (data.header = yes), not counting the columns, where ref's names them, is its first
 * data row: OCCAM_ERR_INPUT. A side without names or grid is not compared. */
int occam_data_check_columns(const occam_dataset *ref, const char *ref_path,
                             const occam_dataset *ds, const char *path, char *note, size_t cap,
                             occam_error *err);

/* Whether ds's header (data.header = yes) holds only numbers a data row may hold, its label's
 * name included, not counting the columns (0, 1, 2, ... or 1, 2, 3, ... across the whole line:
 * pandas' header of unnamed columns): most likely the file's first data row, which a header is
 * not read as. */
bool occam_dataset_numeric_header(const occam_dataset *ds);

/* Drops feature column col (0-based) from ds->names, when it has names (the x values are the
 * caller's). */
void occam_dataset_drop_name(occam_dataset *ds, size_t col);

/* IDX (MNIST / Fashion-MNIST) images (ubyte, 3-D) + labels (ubyte, 1-D), gzipped or raw (zlib
 * reads both). Pixels become floats 0..255 (normalisation is a separate step). Labels must be
 * < classes. Checks: magic numbers, dimensions, truncation, trailing bytes, count agreement. */
int occam_idx_load(occam_dataset *out, const char *images_path, const char *labels_path,
                   int classes, occam_error *err);

/* Features only, no labels: an IDX file of unsigned bytes with 2 to 4 dims (records × the rest,
 * so an images file or a plain n × d matrix), gzipped or raw, one record per row. The header,
 * size, truncation, trailing-byte and gzip checks and their messages are occam_idx_load's. */
int occam_idx_load_features(occam_dataset *out, const char *path, occam_error *err);

/* Finds "<dir>/<stem>" or "<dir>/<stem>.gz"; writes the path found into buf. */
int occam_idx_find(char *buf, size_t cap, const char *dir, const char *stem, occam_error *err);

/* The most rows any data source gives (IDX records, blobs rows, CSV rows): a run's epoch order
 * holds row numbers as uint32. */
#define OCCAM_DATA_ROWS_MAX ((size_t)1 << 31)

typedef struct occam_csv_opts {
    int label;               /* 1-based column, OCCAM_LABEL_LAST, OCCAM_LABEL_NAMED or
                                OCCAM_LABEL_NONE */
    const char *label_name;  /* label or skip = OCCAM_LABEL_NAMED: the header's name for it */
    /* label = OCCAM_LABEL_NAMED: a first line that is no header and lacks the name takes this
     * 1-based column instead (a test file without a header: the training file's column; 0:
     * refused as any file without the name is) */
    size_t label_fallback;
    occam_csv_header header; /* auto: the first row is a header if any cell is not a number */
    occam_task task;         /* classify: integer labels in [0, classes); regress: real target;
                                ignored with OCCAM_LABEL_NONE */
    int classes;             /* classify only */
    size_t rows_max;         /* data rows taken at most (0: OCCAM_DATA_ROWS_MAX) */
    /* With OCCAM_LABEL_NONE and skip_cols >= 2: in a file of skip_cols cells a row, column
     * `skip` (1-based, OCCAM_LABEL_LAST or OCCAM_LABEL_NAMED) is neither parsed nor stored
     * (new rows' unknown outcome: NA, blank or any text), and label_col and label_name say
     * which it was. A named one is the header's cell of that name; a file without a header
     * then cannot say which column it is, and is refused. */
    int skip;
    size_t skip_cols;
    /* Cells a row must have (0: any), checked on the first line, before a label is read: a
     * test file's are the training file's (cols_of, its path). A test file with a column more
     * said "label 126 out of range", its label being read from another column. */
    size_t cols;
    const char *cols_of;
} occam_csv_opts;

/* The longest CSV line, in bytes without its '\n': a longer one is OCCAM_ERR_INPUT
 * "PATH:LINE: line longer than N bytes", found before more than this is held in memory. */
#define OCCAM_CSV_LINE_MAX (1 << 20)

/* Numeric CSV, gzipped or raw (comma-separated; blank lines skipped; optional header). Every
 * row must have the same number of cells; every cell must parse fully as a finite number; a row
 * past opts->rows_max is OCCAM_ERR_INPUT "PATH:LINE: more than N data rows".
 * With label = OCCAM_LABEL_NONE every cell is a feature (d = cells per row, one or more) and
 * the dataset has neither labels nor targets; the checks and messages are the same. The file
 * is read once, front to back, so it may be a pipe, a FIFO or /dev/stdin. */
int occam_csv_load(occam_dataset *out, const char *path, const occam_csv_opts *opts,
                   occam_error *err);

/* Whether a first line numbered from `from` by `step` (occam_dataset.numbered_first) counts
 * 0, 1, 2, ... or 1, 2, 3, ..., as pandas numbers the columns of a table without names. */
static inline bool occam_numbered_like_pandas(double from, double step)
{
    return (from == 0 || from == 1) && step == 1;
}

/* Features only, from an IDX file (as occam_idx_load_features) or a CSV (as occam_csv_load
 * with OCCAM_LABEL_NONE, `header`, `skip`, `skip_name` (for OCCAM_LABEL_NAMED: label_name)
 * and `skip_cols`), told apart by the first bytes of
 * the (inflated) data: every IDX file starts with two 0 bytes, no text does. The input is
 * opened and read once, so it may be a pipe, a FIFO or /dev/stdin. *is_idx says which reader
 * took it. */
int occam_features_load(occam_dataset *out, const char *path, occam_csv_header header,
                        int skip, const char *skip_name, size_t skip_cols, bool *is_idx,
                        occam_error *err);

/* The pruning notebook's Gaussian blobs, done right: `classes` centres drawn once from
 * N(0, spread²·I), then train and test rows drawn from the *same* centres with unit variance,
 * classes balanced (row i has class i % classes before shuffling), rows shuffled. n_test may be
 * 0 (test is then left empty and zeroed); bad sizes are OCCAM_ERR_INPUT naming the data.* key. */
int occam_blobs_make(occam_dataset *train, occam_dataset *test, size_t n_train, size_t n_test,
                     int features, int classes, double spread, uint64_t seed, occam_error *err);

/* A synthetic regression shaped like Hinton & van Camp's peptide task: `features` inputs
 * x ~ N(0, 1), and a target that is a smooth nonlinear function of the first five,
 *   y = tanh(x0 + x1) + 0.8 tanh(x2 − x3) + 0.5 x4 + noise · N(0, 1),
 * so most inputs are irrelevant (a 4-tanh-unit network can represent it exactly). Train rows first, then test rows, from one seeded stream. */
int occam_peptide_make(occam_dataset *train, occam_dataset *test, size_t n_train, size_t n_test,
                       int features, double noise, uint64_t seed, occam_error *err);

/* Normalises features in place using statistics of `train` only, applied to both (test may be
 * NULL). scale: divide by the training set's max |x| over all features (1 if it is 0);
 * standardize: per feature (x - mean) / std with the training mean/std; a feature constant
 * over the training rows (std 0) becomes 0 in both sets, and under scale it keeps that
 * value in every test row. */
void occam_data_normalize(occam_dataset *train, occam_dataset *test, occam_norm mode);

/* The data.normalize value naming mode: "none", "scale" or "standardize". */
const char *occam_norm_name(occam_norm mode);

/* After occam_data_normalize (and occam_data_normalize_targets) on data other than the
 * training set's own rows: every feature and target of ds must still be a finite float32.
 * The training statistics carry a value far outside the training data beyond that range (a
 * test value of 1e38 against a feature whose training std is 0.1), and an infinite input
 * turns the model's outputs into NaN. OCCAM_ERR_INPUT names `name`, the data row (1-based,
 * counted after `row0` earlier rows of the same file) and the feature or target. */
int occam_data_check_normalized(const occam_dataset *ds, occam_norm mode, const char *name,
                                size_t row0, occam_error *err);

/* Standardises the regression targets in place per target column, (y - mean) / std with the
 * training set's mean and population std (std 0 -> 1), applied to train and test (test may be
 * NULL or empty), and keeps the statistics in both datasets' y_shift / y_scale so that
 * whatever holds either can convert back. Training then runs in standardised units (targets in
 * the hundreds otherwise make SGD diverge); every number shown to a user is converted back.
 * A no-op for a dataset without targets. OCCAM_ERR_RUNTIME if memory runs out (the datasets
 * are then unchanged). */
int occam_data_normalize_targets(occam_dataset *train, occam_dataset *test, occam_error *err);

/* Target j's scale: the original units per standardised unit (y_scale[j], or 1 without
 * standardised targets). */
double occam_dataset_target_scale(const occam_dataset *ds, int j);

/* The factor that turns a squared error summed over the outputs, in standardised units, into
 * original units: the mean over targets of y_scale[j]² (1 without standardised targets). Exact
 * for one target (every reader gives one) or equal scales; otherwise it weighs the targets
 * equally. */
double occam_dataset_loss_scale(const occam_dataset *ds);

/* Model outputs y (rows × ds->targets, standardised units) to original units in place:
 * y·y_scale[j] + y_shift[j]. A no-op without standardised targets. */
void occam_data_targets_restore(const occam_dataset *ds, float *y, size_t rows);

/* A file occam_data_load reads, and the config key that names it. */
typedef struct occam_data_file {
    const char *key; /* "data.train", "data.test" or "data.path" */
    char path[OCCAM_PATH_MAX + 8];
} occam_data_file;

/* The files occam_data_load would read for p, so that no output is written over one: for csv
 * data.train and data.test (when set), for idx the four files under data.path that exist
 * (raw or .gz, as occam_idx_find finds them); none for the generated sources. Fills
 * files[0..4) and returns how many. */
int occam_data_files(const occam_data_params *p, occam_data_file files[4]);

/* Loads train and test sets as p says (idx, csv, blobs or peptide), validates the features and
 * labels against the model's input and output widths, and normalises. For idx and csv
 * classification the class count is `outputs` (data.classes is the blobs count). An empty
 * data.test (csv) gives an empty test set. Regression targets are then standardised when
 * p->normalize_targets (occam_data_normalize_targets); the key has no effect on
 * classification. On failure both datasets are freed and zeroed. */
int occam_data_load(const occam_data_params *p, int inputs, int outputs, occam_dataset *train,
                    occam_dataset *test, occam_error *err);

/* data.source's names, NULL-terminated, index = occam_source. */
extern const char *const occam_data_source_names[];

/* The [data] checks that span keys: csv needs data.train and idx data.path; regress needs csv
 * or peptide data, and peptide data is regression; data.holdout leaves training rows (blobs,
 * peptide); blobs' data.features and data.classes are the model's input and output widths
 * (inputs, outputs: the first and last model.layers). Messages name the key. */
int occam_data_check(const occam_data_params *p, int inputs, int outputs, occam_error *err);

#endif
