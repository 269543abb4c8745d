/* occam/sparse.h — inference on a pruned model: sparse layers in CSR, dense ones through BLIS.
 *
 * occam_sparse_create compiles a model into an inference engine. A weight is stored when it is
 * active (mask 1, or no mask) and nonzero; a layer whose density (stored / in·out) is below
 * the threshold is kept in CSR, every other layer as a dense masked copy multiplied by BLIS.
 * Neuron pruning needs nothing special: its layers are simply narrower. The engine copies what
 * it needs, so the model may change or go away afterwards.
 *
 * The forward pass works on blocks of rows held transposed (features × rows), so the CSR
 * kernel is, for each output unit and each of its nonzeros w_oj, a vector update of a block of
 * rows: y[o, rows] += w_oj · x[j, rows]. That vectorises over rows with no gather, and the
 * output of one layer is already the transposed input of the next. When no layer is sparse
 * enough for CSR the engine runs the dense path below instead. One OpenMP region per call
 * splits the rows statically between the threads; each row's result is independent of the
 * thread count.
 *
 * occam_sparse_dense_forward is the yardstick and the reference: occam_model_forward_rows (one BLIS call
 * per layer) over row blocks, in parallel. It reads the model's parameters as they are, so it
 * relies on the trainer's invariant that pruned weights are zero (occam_trainer_apply_mask). */
#ifndef OCCAM_SPARSE_H
#define OCCAM_SPARSE_H

#include <stddef.h>

#include "occam/error.h"
#include "occam/model.h"

/* Default CSR/dense crossover: below this density CSR is faster. Measured per layer, dense
 * (BLIS) against CSR in this engine on 8192 rows, AMD Zen 5 (AVX-512, BLIS skx), 1 and 2
 * threads: 784 × 300 and 2048 × 2048 cross at 0.37 (CSR 1.3x faster at 0.3, 2x at 0.2, 5-6x
 * at 0.05); 300 × 100 at 0.43. Layers with few outputs (10) favour CSR at any density, as BLIS
 * runs them far below its peak; they are cheap either way. */
#define OCCAM_SPARSE_THRESHOLD_DEFAULT 0.37

typedef enum occam_sparse_format {
    OCCAM_SPARSE_DENSE,
    OCCAM_SPARSE_CSR,
} occam_sparse_format;

typedef struct occam_sparse_layer_info {
    int in, out;                /* widths */
    size_t nnz;                 /* stored weights: active and nonzero */
    double density;             /* nnz / (in · out) */
    occam_sparse_format format; /* CSR iff density < the engine's threshold */
} occam_sparse_layer_info;

typedef struct occam_sparse occam_sparse;

/* Builds the engine for m. density_threshold must be >= 0 (0: every layer dense; above 1:
 * every layer CSR); OCCAM_ERR_INPUT otherwise, OCCAM_ERR_RUNTIME when memory runs out. */
int occam_sparse_create(occam_sparse **out, const occam_model *m, double density_threshold,
                        occam_error *err);
/* Accepts NULL. */
void occam_sparse_free(occam_sparse *s);

/* out (n × outputs) = the model's output for x (n × inputs): logits for classification, the
 * last layer is linear. Runs one team of `threads` threads (OCCAM_ERR_RUNTIME if OpenMP starts
 * a smaller one). Grows the engine's per-thread scratch on the first call with more threads
 * than before: OCCAM_ERR_RUNTIME if that runs out of memory. Not reentrant for one engine. */
int occam_sparse_forward(occam_sparse *s, const float *x, size_t n, float *out, int threads,
                         occam_error *err);

int occam_sparse_nlayers(const occam_sparse *s);
occam_sparse_layer_info occam_sparse_layer(const occam_sparse *s, int l);
double occam_sparse_threshold(const occam_sparse *s);
/* "csr" or "dense". */
const char *occam_sparse_format_name(occam_sparse_format f);

/* The dense BLIS path: out (n × outputs) = forward of x (n × inputs) with m's parameters, by
 * occam_model_forward_rows over blocks of rows, `threads` threads. OCCAM_ERR_RUNTIME when the
 * scratch cannot be allocated or OpenMP starts a smaller team. */
int occam_sparse_dense_forward(const occam_model *m, const float *x, size_t n, float *out, int threads,
                        occam_error *err);

/* Largest |a - b| over n rows of k values, each row scaled by its largest |b| (rows of b that
 * are all zero are compared absolutely). */
double occam_sparse_max_rel_diff(const float *a, const float *b, size_t n, int k);

/* Index of the largest of the k values (the first on ties). */
int occam_sparse_argmax(const float *v, int k);

#endif
