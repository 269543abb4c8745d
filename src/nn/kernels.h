/* kernels.h — private to src/nn: the element-wise kernels of an MLP step, each fused into one pass.
 *
 * Conventions (llm.c style): outputs first, then inputs, then sizes; every matrix is m rows
 * (samples) by n columns (units), row-major. Activations are stored after the nonlinearity:
 * each derivative is computed from the output (relu: a > 0; tanh: 1 - a²; sigmoid: a(1 - a)),
 * so no pre-activation copy is kept. */
#ifndef OCCAM_KERNELS_H
#define OCCAM_KERNELS_H

#include <stdint.h>

#include "occam/model.h"

/* z (m,n) <- act(z + b), b (n). */
void occam_bias_act_forward(float *restrict z, const float *restrict b, int m, int n,
                            occam_act act);
/* z (m,n) <- z + b: the linear output layer. */
void occam_bias_forward(float *restrict z, const float *restrict b, int m, int n);
/* d (m,n) <- d ⊙ act'(a), with a (m,n) the stored activation: dA becomes dZ in place. */
void occam_act_backward(float *restrict d, const float *restrict a, int m, int n, occam_act act);
/* db (n) <- Σ_rows dz (m,n), dz with row stride ld >= n (a column block of a wider matrix). */
void occam_bias_backward(float *restrict db, const float *restrict dz, int m, int n, int ld);

/* Softmax cross-entropy over logits z (m,n) with labels (m). If dz is non-NULL it receives
 * (softmax(z) - onehot) · scale (dz may equal z). Adds the summed loss (nats) to *loss and
 * the number of rows whose argmax equals the label to *correct. */
void occam_softmax_xent(float *dz, const float *z, const int32_t *restrict label, int m, int n,
                        float scale, double *restrict loss, int64_t *restrict correct);

/* Squared error of y (m,n) against targets t (m,n). If dy is non-NULL it receives
 * 2 (y - t) · scale (dy may equal y). Adds Σ (y - t)² to *sse. */
void occam_mse(float *dy, const float *y, const float *restrict t, int m, int n, float scale,
               double *restrict sse);

#endif
