/* Feature normalisation with training-set statistics only, applied to train and test alike
 * (using test statistics would leak the test set into the model).
 *
 * Standardisation works on blocks of NORM_BLOCK features: for each block it walks all rows,
 * reading each row's contiguous run of the block, accumulating in double. The per-block sums
 * live on the stack, so the function needs no allocation and cannot fail, and the row-major
 * data is still read in contiguous runs. Mean and the population standard deviation come from
 * two passes (sum, then sum of squared deviations), which is exact for constant columns. */
#include "occam/data.h"

#include <math.h>
#include <stdbool.h>

#define NORM_BLOCK 64

static bool norm_has_rows(const occam_dataset *ds) { return ds && ds->n > 0; }

static void norm_scale(occam_dataset *train, occam_dataset *test)
{
    float m = 0.0f;
    for (size_t k = 0; k < train->n * train->d; k++) m = fmaxf(m, fabsf(train->x[k]));
    if (m == 0.0f) return;
    for (size_t k = 0; k < train->n * train->d; k++) train->x[k] /= m;
    if (norm_has_rows(test))
        for (size_t k = 0; k < test->n * test->d; k++) test->x[k] /= m;
}

/* mean[b] and std[b] of features j0 .. j0+nb of ds (std 0 becomes 1). */
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
    for (size_t b = 0; b < nb; b++) {
        std[b] = sqrt(std[b] / (double)ds->n);
        if (std[b] == 0.0) std[b] = 1.0;
    }
}

static void norm_block_apply(occam_dataset *ds, size_t j0, size_t nb, const double *mean,
                             const double *std)
{
    for (size_t i = 0; i < ds->n; i++) {
        float *x = ds->x + i * ds->d + j0;
        for (size_t b = 0; b < nb; b++) x[b] = (float)((x[b] - mean[b]) / std[b]);
    }
}

static void norm_standardize(occam_dataset *train, occam_dataset *test)
{
    double mean[NORM_BLOCK], std[NORM_BLOCK];
    for (size_t j0 = 0; j0 < train->d; j0 += NORM_BLOCK) {
        size_t nb = train->d - j0 < NORM_BLOCK ? train->d - j0 : NORM_BLOCK;
        norm_block_stats(train, j0, nb, mean, std);
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
    case OCCAM_NORM_SCALE: norm_scale(train, test); return;
    case OCCAM_NORM_STANDARDIZE: norm_standardize(train, test); return;
    }
    OCCAM_ASSERT(!"unknown normalisation mode");
}
