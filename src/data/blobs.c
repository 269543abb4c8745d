/* Gaussian blobs: a synthetic classification set with a known optimum.
 *
 * The pruning notebook drew separate centres for its train and test sets, so the test set
 * measured nothing. Here the centres are drawn once, and train and test rows are drawn around
 * the same centres. Each purpose has its own rng stream derived from the seed (centres, train
 * rows, test rows), so changing n_test leaves the training set bit-for-bit unchanged.
 *
 * Rows are balanced (row i has class i % classes) and then shuffled. Because rows are drawn
 * independently given their class, shuffling the class sequence first and then drawing each
 * row for its class gives the same distribution as shuffling finished rows, without moving
 * them. */
#include "occam/data.h"

#include <math.h>
#include <stdlib.h>

#include "occam/mem.h"
#include "occam/rng.h"


enum { BLOBS_STREAM_CENTRES, BLOBS_STREAM_TRAIN, BLOBS_STREAM_TEST };

static int blobs_check(size_t n_train, size_t n_test, int features, int classes, double spread,
                       occam_error *err)
{
    if (n_train == 0)
        return occam_error_set(err, OCCAM_ERR_INPUT, "data.samples: must be >= 1");
    if (n_train > OCCAM_DATA_ROWS_MAX)
        return occam_error_set(err, OCCAM_ERR_INPUT, "data.samples: %zu exceeds 2^31 rows",
                               n_train);
    if (n_test > OCCAM_DATA_ROWS_MAX)
        return occam_error_set(err, OCCAM_ERR_INPUT, "data.test_samples: %zu exceeds 2^31 rows",
                               n_test);
    if (features < 1)
        return occam_error_set(err, OCCAM_ERR_INPUT, "data.features: %d must be >= 1", features);
    if (classes < 2)
        return occam_error_set(err, OCCAM_ERR_INPUT, "data.classes: %d must be >= 2", classes);
    if (!isfinite(spread) || spread < 0)
        return occam_error_set(err, OCCAM_ERR_INPUT, "data.spread: %g must be finite and >= 0",
                               spread);
    return OCCAM_OK;
}

/* centre is classes × features, drawn from N(0, spread²·I). */
static void blobs_centres(double *centre, int features, int classes, double spread,
                          uint64_t seed)
{
    occam_rng rng = occam_rng_seed(seed, BLOBS_STREAM_CENTRES);
    for (size_t k = 0; k < (size_t)classes * (size_t)features; k++)
        centre[k] = spread * occam_rng_normal(&rng);
}

/* Fills ds with n rows around the given centres, using rng stream `stream` of seed; key is
 * the config key that asked for the n rows, for the message when they do not fit. */
static int blobs_draw(occam_dataset *ds, size_t n, const char *key, const double *centre,
                      int features, int classes, uint64_t seed, uint64_t stream,
                      occam_error *err)
{
    if (n == 0) return OCCAM_OK;
    /* drawn, so touched: past the memory this process may fill the allocation still succeeded
     * (Linux overcommits), and the kernel killed the process with no message */
    double need = (double)n * ((double)features * sizeof(float) + sizeof(int32_t));
    double avail = (double)occam_mem_available();
    if (need > avail)
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "blobs: out of memory: %zu rows of %d "
                               "features need %.1f GiB, %.1f GiB available; use fewer "
                               "%s or data.features", n, features, need / (1 << 30),
                               avail / (1 << 30), key);
    ds->x = occam_alloc(n, (size_t)features * sizeof(float));
    ds->label = occam_alloc(n, sizeof(int32_t));
    if (!ds->x || !ds->label)
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "blobs: out of memory for %zu rows", n);
    ds->n = n;
    ds->d = (size_t)features;
    ds->classes = classes;

    occam_rng rng = occam_rng_seed(seed, stream);
    for (size_t i = 0; i < n; i++) ds->label[i] = (int32_t)(i % (size_t)classes);
    /* int32_t and uint32_t may alias (C11 6.5p7), and the values are non-negative. */
    occam_rng_shuffle_u32(&rng, (uint32_t *)ds->label, n);
    for (size_t i = 0; i < n; i++) {
        const double *c = centre + (size_t)ds->label[i] * ds->d;
        float *x = ds->x + i * ds->d;
        for (size_t j = 0; j < ds->d; j++) x[j] = (float)(c[j] + occam_rng_normal(&rng));
    }
    return OCCAM_OK;
}

int occam_blobs_make(occam_dataset *train, occam_dataset *test, size_t n_train, size_t n_test,
                     int features, int classes, double spread, uint64_t seed, occam_error *err)
{
    *train = (occam_dataset){0};
    *test = (occam_dataset){0};
    int rc = blobs_check(n_train, n_test, features, classes, spread, err);
    if (rc != OCCAM_OK) return rc;
    double *centre = malloc((size_t)classes * (size_t)features * sizeof *centre);
    if (!centre) return occam_error_set(err, OCCAM_ERR_RUNTIME, "blobs: out of memory");
    blobs_centres(centre, features, classes, spread, seed);
    rc = blobs_draw(train, n_train, "data.samples", centre, features, classes, seed,
                    BLOBS_STREAM_TRAIN, err);
    if (rc == OCCAM_OK) /* the refusal names the test rows' key */
        rc = blobs_draw(test, n_test, "data.test_samples", centre, features, classes, seed,
                        BLOBS_STREAM_TEST, err);
    free(centre);
    if (rc != OCCAM_OK) {
        occam_dataset_free(train);
        occam_dataset_free(test);
    }
    return rc;
}
