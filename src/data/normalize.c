/* Feature and target normalisation with training-set statistics only, applied to train and
 * test alike (using test statistics would leak the test set into the model).
 *
 * Standardisation works on blocks of NORM_BLOCK features: for each block it walks all rows,
 * reading each row's contiguous run of the block, accumulating in double. The per-block sums
 * live on the stack, so the function needs no allocation and cannot fail, and the row-major
 * data is still read in contiguous runs. Mean and the population standard deviation come from
 * two passes (sum, then sum of squared deviations), which is exact for constant columns. */
#include "occam/data.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "occam/mem.h"

#define NORM_BLOCK 64

static bool norm_has_rows(const occam_dataset *ds) { return ds && ds->n > 0; }

/* Under scale, a feature whose largest |x| is this many times below the largest of all ends
 * up near 0 beside the others: ages (to 80) beside incomes (to 2e5) learned nothing (relative
 * error 1.02 against 0.013 standardised) without a word. Records the worst such feature in
 * train (squashed_col), unless most features reach within NORM_NEAR of the largest: then the
 * features share one unit (pixels, from IDX or a CSV of them) and a rarely inked edge pixel is
 * no sign of another. IDX images are left alone. (With NORM_SQUASH for near, a soil table whose
 * five readings reach within 8-20x of the largest hid its three pH columns, 440x below it:
 * relative error 0.56 under scale against 0.22 standardised.) */
#define NORM_SQUASH 100.0f
#define NORM_NEAR 10.0f

static void norm_squashed(occam_dataset *train, float m)
{
    train->squashed_col = 0;
    if (train->grid_w > 0) return;
    float colmax[NORM_BLOCK];
    double worst = 0.0; /* in double: 1 over a subnormal maximum overflows float (1/inf) */
    size_t live = 0, near = 0; /* features with a value; of them, within NORM_SQUASH of m */
    for (size_t j0 = 0; j0 < train->d; j0 += NORM_BLOCK) {
        size_t nb = train->d - j0 < NORM_BLOCK ? train->d - j0 : NORM_BLOCK;
        for (size_t b = 0; b < nb; b++) colmax[b] = 0.0f;
        for (size_t i = 0; i < train->n; i++) {
            const float *x = train->x + i * train->d + j0;
            for (size_t b = 0; b < nb; b++) colmax[b] = fmaxf(colmax[b], fabsf(x[b]));
        }
        for (size_t b = 0; b < nb; b++) {
            if (colmax[b] == 0.0f) continue;
            live++;
            double ratio = (double)m / colmax[b];
            near += ratio <= NORM_NEAR;
            if (ratio > NORM_SQUASH && ratio > worst) {
                worst = ratio;
                train->squashed_col = j0 + b + 1;
                train->squashed_ratio = worst;
            }
        }
    }
    if (2 * near > live) train->squashed_col = 0;
}

static void norm_scale(occam_dataset *train, occam_dataset *test)
{
    float m = 0.0f;
    for (size_t k = 0; k < train->n * train->d; k++) m = fmaxf(m, fabsf(train->x[k]));
    if (m == 0.0f) return;
    norm_squashed(train, m);
    for (size_t k = 0; k < train->n * train->d; k++) train->x[k] /= m;
    if (norm_has_rows(test))
        for (size_t k = 0; k < test->n * test->d; k++) test->x[k] /= m;
}

/* mean[b] and std[b] of features j0 .. j0+nb of ds (std 0 for a constant feature). */
static void norm_block_stats(const occam_dataset *ds, size_t j0, size_t nb, double *mean,
                             double *std)
{
    for (size_t b = 0; b < nb; b++) mean[b] = std[b] = 0.0;
    for (size_t i = 0; i < ds->n; i++) {
        const float *x = ds->x + i * ds->d + j0;
        for (size_t b = 0; b < nb; b++) mean[b] += x[b];
    }
    for (size_t b = 0; b < nb; b++) mean[b] /= (double)ds->n;
    for (size_t i = 0; i < ds->n; i++) {
        const float *x = ds->x + i * ds->d + j0;
        for (size_t b = 0; b < nb; b++) std[b] += (x[b] - mean[b]) * (x[b] - mean[b]);
    }
    for (size_t b = 0; b < nb; b++) std[b] = sqrt(std[b] / (double)ds->n);
}

/* A feature that is constant over the training rows becomes 0 in every row, test rows
 * included. The training rows say nothing about its effect: its weights get no gradient from
 * the data, so they keep what the initialisation and the regulariser left, and with the
 * former rule, (x - mean) / 1, a test row whose value differs (a dummy column all 0 in 100
 * training rows and 1 in a test row; a digit's edge pixel, 0 in training and 16 in a test
 * image) was multiplied by those arbitrary weights. 0 is what the weights' prior mean
 * predicts. */
static void norm_block_apply(occam_dataset *ds, size_t j0, size_t nb, const double *mean,
                             const double *std)
{
    for (size_t i = 0; i < ds->n; i++) {
        float *x = ds->x + i * ds->d + j0;
        for (size_t b = 0; b < nb; b++)
            x[b] = std[b] > 0.0 ? (float)((x[b] - mean[b]) / std[b]) : 0.0f;
    }
}

/* Under scale, a feature constant over the training rows is held at that value in every test
 * row (and predict's rows): for the reason above, and as standardize's 0 does. A 0/1 dummy
 * all 0 in training and 1 in new rows shifted predictions by a third of the targets' spread,
 * without a word. Counted in const_cols as standardize counts them. (none leaves every value
 * as it is: predict does not even read the training rows under it.) */
static void norm_hold_constant(occam_dataset *train, occam_dataset *test)
{
    double lo[NORM_BLOCK], hi[NORM_BLOCK];
    train->const_cols = train->const_col = 0;
    for (size_t j0 = 0; j0 < train->d; j0 += NORM_BLOCK) {
        size_t nb = train->d - j0 < NORM_BLOCK ? train->d - j0 : NORM_BLOCK;
        for (size_t b = 0; b < nb; b++) lo[b] = hi[b] = train->x[j0 + b];
        for (size_t i = 1; i < train->n; i++) {
            const float *x = train->x + i * train->d + j0;
            for (size_t b = 0; b < nb; b++) {
                lo[b] = fmin(lo[b], x[b]);
                hi[b] = fmax(hi[b], x[b]);
            }
        }
        for (size_t b = 0; b < nb; b++) {
            if (lo[b] != hi[b]) continue;
            if (!train->const_cols++) {
                train->const_col = j0 + b + 1;
                train->const_val = lo[b];
            }
            for (size_t i = 0; norm_has_rows(test) && i < test->n; i++)
                test->x[i * test->d + j0 + b] = (float)lo[b];
        }
    }
}

static void norm_standardize(occam_dataset *train, occam_dataset *test)
{
    double mean[NORM_BLOCK], std[NORM_BLOCK];
    train->const_cols = train->const_col = 0;
    for (size_t j0 = 0; j0 < train->d; j0 += NORM_BLOCK) {
        size_t nb = train->d - j0 < NORM_BLOCK ? train->d - j0 : NORM_BLOCK;
        norm_block_stats(train, j0, nb, mean, std);
        for (size_t b = 0; b < nb; b++) {
            if (std[b] > 0.0) continue;
            if (!train->const_cols++) {
                train->const_col = j0 + b + 1;
                train->const_val = mean[b];
            }
        }
        norm_block_apply(train, j0, nb, mean, std);
        if (norm_has_rows(test)) norm_block_apply(test, j0, nb, mean, std);
    }
}

void occam_data_normalize(occam_dataset *train, occam_dataset *test, occam_norm mode)
{
    if (!norm_has_rows(train)) return;
    if (norm_has_rows(test)) OCCAM_ASSERT(test->d == train->d);
    switch (mode) {
    case OCCAM_NORM_NONE: return;
    case OCCAM_NORM_SCALE:
        norm_hold_constant(train, test);
        norm_scale(train, test);
        return;
    case OCCAM_NORM_STANDARDIZE: norm_standardize(train, test); return;
    }
    OCCAM_ASSERT(!"unknown normalisation mode");
}

const char *occam_norm_name(occam_norm mode)
{
    return mode == OCCAM_NORM_SCALE ? "scale" : mode == OCCAM_NORM_STANDARDIZE ? "standardize"
                                                                               : "none";
}

int occam_data_check_normalized(const occam_dataset *ds, occam_norm mode, const char *name,
                                size_t row0, occam_error *err)
{
    size_t k = ds->y ? (size_t)ds->targets : 0;
    for (size_t i = 0; i < ds->n; i++) {
        for (size_t j = 0; j < ds->d; j++)
            if (!isfinite(ds->x[i * ds->d + j]))
                return occam_error_set(err, OCCAM_ERR_INPUT,
                                       "%s: data row %zu, feature %zu: too far from the "
                                       "training data: data.normalize = %s with the training "
                                       "set's statistics takes it beyond the float32 range",
                                       name, row0 + i + 1, j + 1, occam_norm_name(mode));
        for (size_t j = 0; j < k; j++)
            if (!isfinite(ds->y[i * k + j]))
                return occam_error_set(err, OCCAM_ERR_INPUT,
                                       "%s: data row %zu, target %zu: too far from the "
                                       "training targets: data.normalize_targets with the "
                                       "training set's statistics takes it beyond the float32 "
                                       "range",
                                       name, row0 + i + 1, j + 1);
    }
    return OCCAM_OK;
}

/* ---- targets ------------------------------------------------------------------------------
 * Per target column j of the row-major n × k targets: mean and population std in double, two
 * passes as for the features. The statistics stay with both datasets, because the trainer's
 * evaluation, the data code and `occam predict` each need them to report original units. */

/* Per target column: mean[j] and the population variance var[j] of ds's targets, in double. */
static void target_moments(const occam_dataset *ds, double *mean, double *var)
{
    size_t k = (size_t)ds->targets;
    for (size_t j = 0; j < k; j++) {
        double m = 0.0, ss = 0.0;
        for (size_t i = 0; i < ds->n; i++) m += ds->y[i * k + j];
        m /= (double)ds->n;
        for (size_t i = 0; i < ds->n; i++) ss += (ds->y[i * k + j] - m) * (ds->y[i * k + j] - m);
        mean[j] = m;
        var[j] = ss / (double)ds->n;
    }
}

/* Standardises ds's targets with (shift, scale) and gives it its own copy of them, and var,
 * the variance of its targets as they were. */
static void target_apply(occam_dataset *ds, double *shift, double *scale, double *var)
{
    size_t k = (size_t)ds->targets;
    for (size_t i = 0; i < ds->n; i++)
        for (size_t j = 0; j < k; j++)
            ds->y[i * k + j] = (float)((ds->y[i * k + j] - shift[j]) / scale[j]);
    ds->y_shift = shift;
    ds->y_scale = scale;
    ds->y_var = var;
}

int occam_data_normalize_targets(occam_dataset *train, occam_dataset *test, occam_error *err)
{
    if (!train->y || train->targets <= 0 || train->n == 0) return OCCAM_OK;
    OCCAM_ASSERT(!train->y_shift && !train->y_scale); /* standardised once */
    size_t k = (size_t)train->targets;
    bool with_test = test && test->n > 0 && test->y;
    if (with_test) OCCAM_ASSERT(test->targets == train->targets && !test->y_shift);
    double *a[6] = {0}; /* the training set's shift, scale and variance; the test set's */
    bool ok = true;
    for (int u = 0; u < (with_test ? 6 : 3); u++)
        ok &= (a[u] = occam_alloc(k, sizeof(double))) != NULL;
    if (!ok) {
        for (int u = 0; u < 6; u++) free(a[u]);
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory for %zu target statistics",
                               k);
    }
    target_moments(train, a[0], a[2]);
    for (size_t j = 0; j < k; j++) {
        double s = sqrt(a[2][j]);
        a[1][j] = s > 0.0 ? s : 1.0;
    }
    if (with_test) {
        target_moments(test, a[3], a[5]); /* a[3]: the test mean, then the training one */
        memcpy(a[3], a[0], k * sizeof(double));
        memcpy(a[4], a[1], k * sizeof(double));
        target_apply(test, a[3], a[4], a[5]);
    }
    target_apply(train, a[0], a[1], a[2]);
    return OCCAM_OK;
}

double occam_dataset_target_scale(const occam_dataset *ds, int j)
{
    OCCAM_ASSERT(j >= 0 && (j < ds->targets || !ds->y_scale));
    return ds->y_scale ? ds->y_scale[j] : 1.0;
}

double occam_dataset_loss_scale(const occam_dataset *ds)
{
    if (!ds->y_scale || ds->targets <= 0) return 1.0;
    double s = 0.0;
    for (int j = 0; j < ds->targets; j++) s += ds->y_scale[j] * ds->y_scale[j];
    return s / ds->targets;
}

void occam_data_targets_restore(const occam_dataset *ds, float *y, size_t rows)
{
    if (!ds->y_scale) return;
    size_t k = (size_t)ds->targets;
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < k; j++)
            y[i * k + j] = (float)((double)y[i * k + j] * ds->y_scale[j] + ds->y_shift[j]);
}
