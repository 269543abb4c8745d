/* dl-impl.h — private to src/mdl's description length: what the model codes (dl.c) share with
 * the data code (dl_data.c): its row chunk, the ranks' agreement on scratch, the data code from
 * a layer on (the δ search's candidates) and bits-back's expected NLL under q. */
#ifndef OCCAM_DL_IMPL_H
#define OCCAM_DL_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "occam/dl.h"

/* Rows per chunk of the data code. Fixed, so the chunk boundaries and therefore every partial
 * sum are the same for any thread count. The δ search's layer-by-layer forward passes of the
 * search rows use the same chunks. */
#define DATA_CHUNK 256

/* Whether every rank got its data-code scratch: a rank that runs short must not skip the sums
 * the others enter, so all fail together (a no-op on one rank). OCCAM_OK or OCCAM_ERR_RUNTIME,
 * the same on every rank. */
int dl_scratch_agreed(bool ok);

/* The data code of the first `rows` rows (0: all) into *bits, the forward pass starting at
 * layer `first` from `in` (that layer's inputs for those rows; unused when first is 0).
 * OCCAM_ERR_RUNTIME if the scratch cannot be had. */
int dl_data_bits_from(const occam_model *m, const float *params, const occam_dataset *ds,
                      size_t rows, int first, const float *in, double target_precision,
                      int threads, double *bits);

/* The bits-back data term into *bits: the expected NLL of the rows of ds under q (means
 * m->params, variances var, 0 where masked), the mean over `samples` noise draws seeded by
 * seed; delta is the regression targets' precision. OCCAM_ERR_RUNTIME if the scratch cannot be
 * had. */
int dl_noisy_data_bits(const occam_model *m, const occam_dataset *ds, const float *var,
                       int samples, uint64_t seed, double delta, int threads, double *bits);

#endif
