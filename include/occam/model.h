/* occam/model.h — an MLP as one flat parameter array.
 *
 * Layer l (0-based, L = nwidths-1 weight layers) maps width[l] inputs to width[l+1] outputs.
 * Its weight W_l is out×in row-major (PyTorch's nn.Linear convention), its bias b_l has `out`
 * entries. All of them live in one 64-byte aligned float array at offsets w_off[l], b_off[l];
 * each segment starts on a cache line and the gaps are zero. Gradients, optimiser moments (and
 * later masks and noise parameters) use the same offsets in arrays of the same length, so every
 * reduction, update or mask pass is a loop over a flat slice that one thread can own. */
#ifndef OCCAM_MODEL_H
#define OCCAM_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "occam/data.h"
#include "occam/error.h"
#include "occam/mem.h"

#define OCCAM_MAX_LAYERS 16

/* Floats per cache line: segment alignment in the flat layout. */
#define OCCAM_SEG_ALIGN OCCAM_LINE_FLOATS

typedef enum { OCCAM_INIT_HE, OCCAM_INIT_XAVIER } occam_init;
/* model.activation: the hidden layers' nonlinearity (the output layer is linear). */
typedef enum { OCCAM_ACT_RELU, OCCAM_ACT_TANH, OCCAM_ACT_SIGMOID } occam_act;

/* The [model] section. */
typedef struct occam_model_params {
    int layers[OCCAM_MAX_LAYERS]; /* model.layers = 784,300,100,10 */
    int nlayers;                  /* number of entries in layers (>= 2) */
    occam_act activation;         /* model.activation = relu | tanh | sigmoid */
    occam_init init;              /* model.init = he | xavier */
} occam_model_params;

typedef struct occam_layout {
    int nlayers;                     /* weight layers L */
    int width[OCCAM_MAX_LAYERS];     /* width[0] = inputs ... width[L] = outputs */
    size_t w_off[OCCAM_MAX_LAYERS];  /* offset of W_l in the flat array */
    size_t b_off[OCCAM_MAX_LAYERS];  /* offset of b_l */
    size_t nparams;                  /* flat array length (padded) */
    size_t nweights;                 /* Σ in·out */
    size_t nbiases;                  /* Σ out */
} occam_layout;

void occam_layout_init(occam_layout *lay, const int *width, int nwidths);

typedef struct occam_model {
    occam_layout lay;
    occam_act act;   /* hidden activation; the output layer is linear */
    occam_task task; /* classify: softmax cross-entropy; regress: mean squared error */
    float *params;   /* lay.nparams floats */
    uint8_t *mask;   /* lay.nparams: 1 = active, 0 = pruned; NULL while nothing is pruned */
    float *rho;      /* lay.nparams: noisy weights' σ = softplus(ρ) (weights only); or NULL */
} occam_model;

/* Allocates the parameters (zeroed) for p's widths; the output layer's loss is the task's.
 * OCCAM_ERR_RUNTIME on no memory. */
int occam_model_create(occam_model *m, const occam_model_params *p, occam_task task,
                       occam_error *err);
void occam_model_free(occam_model *m);

/* Allocates an all-ones mask if the model has none. OCCAM_ERR_RUNTIME on no memory. */
int occam_model_mask_enable(occam_model *m, occam_error *err);

/* Active (mask = 1) weights of layer l; all of them without a mask. */
size_t occam_model_active_weights(const occam_model *m, int l);

/* Whether every weight, bias and (noisy weights) ρ of m is finite: OCCAM_OK, or
 * OCCAM_ERR_RUNTIME naming the first that is not, as divergence under a finite loss (a ReLU
 * outputs 0 for a NaN input, so the units a NaN weight feeds are dead and the loss goes on):
 * "training diverged: layer L's weights <verb> NaN <when> while the loss stayed finite ...;
 * <advice>", verb and when the caller's ("became", "in epoch 4"; "are", "at prune step 1"),
 * advice too (NULL: "try a smaller train.lr"). */
int occam_model_check_finite(const occam_model *m, const char *verb, const char *when,
                             const char *advice, occam_error *err);

/* Compacts a flat array laid out as `old` into layout `nw` (fewer hidden units), in place:
 * keep[h][j] says whether unit j of hidden layer h (1 <= h < L) survives; NULL rows keep all.
 * elem is the element size (4 for floats, 1 for mask bytes). New offsets never exceed old
 * ones and elements move only towards the front, so one forward pass is safe. */
void occam_layout_compact(void *a, size_t elem, const occam_layout *old, const occam_layout *nw,
                          const uint8_t *const *keep);

/* Seeded initialisation. He: W ~ N(0, 2/in); Xavier: W ~ U(±sqrt(6/(in+out))); biases 0.
 * Each layer draws from its own stream of `seed`, so a layer's values do not depend on the
 * widths of the layers before it. */
void occam_model_init(occam_model *m, occam_init init, uint64_t seed);

/* Forward pass of m rows x (m × width[0]) through the layers with parameters `params` (the
 * model's own, or a quantised copy in the same layout): out[l] receives layer l's output
 * (m × width[l+1], after the activation except for the last layer). Single-threaded (one BLIS
 * call per layer); callable from inside a team. */
void occam_model_forward_rows(const occam_layout *lay, occam_act act, const float *params,
                        const float *x, int m, float *const *out);
/* Layers [first, last) only: x is layer first's input (m × width[first]); out[l] for l in the
 * range receives layer l's output. occam_model_forward_rows is (0, nlayers). */
void occam_model_forward_layers(const occam_layout *lay, occam_act act, const float *params,
                          int first, int last, const float *x, int m, float *const *out);
/* Layer l in two parts, as occam_model_forward_layers runs it (the same bits): its product
 * z = x · W_lᵀ (m × width[l+1]), then its bias and activation (none for the last layer) in
 * place. A caller trying several biases for one layer multiplies once. */
void occam_model_layer_product(const occam_layout *lay, const float *params, int l,
                               const float *x, int m, float *z);
void occam_model_layer_finish(const occam_layout *lay, occam_act act, const float *params, int l,
                              int m, float *z);

#endif
