/* A synthetic stand-in for Hinton & van Camp's peptide task (see include/occam/data.h): high
 * dimension, few samples, a smooth target of a few inputs. */
#include <math.h>
#include <string.h>

#include "occam/data.h"
#include "occam/mem.h"
#include "occam/rng.h"

static int fill(occam_dataset *ds, size_t n, int features, double noise, occam_rng *r)
{
    memset(ds, 0, sizeof *ds);
    ds->n = n;
    ds->d = (size_t)features;
    ds->targets = 1;
    ds->x = occam_alloc(n * (size_t)features, sizeof(float));
    ds->y = occam_alloc(n ? n : 1, sizeof(float));
    if (!ds->x || !ds->y) return OCCAM_ERR_RUNTIME;
    for (size_t i = 0; i < n; i++) {
        float *x = ds->x + i * (size_t)features;
        for (int j = 0; j < features; j++) x[j] = (float)occam_rng_normal(r);
        double y = tanh(x[0] + x[1]) + 0.8 * tanh(x[2] - x[3]) + 0.5 * x[4];
        ds->y[i] = (float)(y + noise * occam_rng_normal(r));
    }
    return OCCAM_OK;
}

int occam_peptide_make(occam_dataset *train, occam_dataset *test, size_t n_train, size_t n_test,
                       int features, double noise, uint64_t seed, occam_error *err)
{
    if (features < 5)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "data.features: peptide needs at least 5 inputs (got %d)", features);
    if (n_train == 0)
        return occam_error_set(err, OCCAM_ERR_INPUT, "data.samples: peptide needs rows");
    occam_rng r = occam_rng_seed(seed, 0x706570ull);
    int rc = fill(train, n_train, features, noise, &r);
    if (rc == OCCAM_OK) rc = fill(test, n_test, features, noise, &r);
    if (rc != OCCAM_OK) {
        occam_dataset_free(train);
        occam_dataset_free(test);
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory for the peptide data");
    }
    return OCCAM_OK;
}
