/* occam/dl.h — the description length of a trained model, in bits:
 *   L = L(model) + L(data | model)
 *
 * Data code: classification, Σ −log2 p(y_i | x_i) over the training set; regression, each
 * target quantised to δ (mdl.target_precision) costs −log2(N(r; 0, σ²)·δ) with σ the RMS
 * residual. r, σ and δ are in the targets' original units: with standardised targets
 * (data.normalize_targets) a residual is scaled back by its target's y_scale, which is the
 * same as coding the standardised residual at step δ/y_scale, so the bits do not depend on the
 * setting. Every sum is an occam_sum_chunked over fixed chunks of rows, so the bits are the same
 * to the last bit for any thread count.
 *
 * Model codes (mdl.model_code):
 *   count     (active weights + biases) × mdl.bits_per_weight — the pruning notebook's view,
 *             made unit-consistent;
 *   two-part  per layer: the mask, live units first (src/mdl/maskcode.h); each active weight
 *             quantised to a step δ_l (mdl.weight_precision, or chosen per layer to
 *             minimise the total) costs −log2 of its bin's mass under a prior fitted to the
 *             layer's surviving weights (Gaussian, or a mixture with one component pinned at
 *             0); 32 bits for every prior parameter and δ; each layer's biases are
 *             quantised at δ·2^−j (j in 0..8 chosen to minimise their bits plus the data
 *             bits) and sent under a Gaussian fitted to them, all but those of hidden units
 *             without a kept weight going out, which are 0 (no output can tell). The data
 *             term is then computed with the quantised weights and biases.
 *             occam compress writes exactly this code. Bits-back codes the biases the same
 *             way, from the layer's RMS posterior σ instead of δ. */
#ifndef OCCAM_DL_H
#define OCCAM_DL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "occam/data.h"
#include "occam/error.h"
#include "occam/json.h"
#include "occam/prior.h"
#include "occam/model.h"
#include "occam/noisy.h"

typedef enum { OCCAM_MDL_TWO_PART, OCCAM_MDL_COUNT, OCCAM_MDL_BITS_BACK } occam_model_code;

/* mdl.precision: the two-part code's quantisation steps. search: per layer, minimising the
 * total (see dl.c); posterior: the geometric mean of the layer's posterior σ (a noisy-weight
 * model only; Bayesian compression); auto: posterior for a noisy-weight model, else search.
 * mdl.weight_precision > 0 fixes the step instead, for every layer. */
typedef enum { OCCAM_PRECISION_AUTO, OCCAM_PRECISION_SEARCH, OCCAM_PRECISION_POSTERIOR }
    occam_precision;

/* The [mdl] section. */
typedef struct occam_dl_params {
    occam_model_code model_code; /* mdl.model_code = two-part | count | bits-back */
    double bits_per_weight;      /* mdl.bits_per_weight: count code (default 32) */
    double weight_precision;     /* mdl.weight_precision: quantisation step; 0 = chosen
                                    per layer as mdl.precision says */
    occam_precision precision;   /* mdl.precision = auto | search | posterior */
    occam_prior_kind prior;      /* mdl.prior = gaussian | mog (two-part values) */
    int components;              /* mdl.components: mog components (one pinned at 0) */
    double target_precision;     /* mdl.target_precision: regression target step δ */
    int samples;                 /* mdl.samples: Monte-Carlo draws per weight (mog KL) */
    int data_samples;            /* mdl.data_samples: noise samples for the expected NLL */
    int search_rows;             /* mdl.search_rows: training rows used while searching
                                    the quantisation steps (0 = all) */
    uint64_t seed;               /* mdl.seed */
} occam_dl_params;

typedef struct occam_dl_layer {
    int in, out;
    uint64_t n, k;        /* weights, active weights */
    double delta;         /* quantisation step (two-part) */
    occam_prior prior;    /* prior fitted to the active weights (two-part) */
    double mask_bits;     /* which weights are kept, live units first (src/mdl/maskcode.h) */
    double value_bits;    /* Σ −log2 bin mass of the quantised active weights (two-part,
                             layer 0 on an image grid: the shorter of that and |q| under the
                             folded prior plus the signs by their neighbours, with a bit
                             naming which) */
    bool grid_mask;       /* layer 0 on an image grid: its mask is sent by its grid
                             neighbours (src/mdl/gridcode.h), the shorter code */
    bool grid_signs;      /* two-part, layer 0 on an image grid: its values are sent as |q|
                             and a sign coded by the grid neighbours' (src/mdl/gridcode.h) */
    double overhead_bits; /* 32 per prior parameter and per δ (bits-back: no δ, and one
                             prior for the network is counted once, at its first layer
                             with active weights) */
    double bias_bits;     /* the biases' code: quantised at bias_delta and sent under
                             bias_prior (a Gaussian fitted to them), plus 2 × 32 bits for it
                             and 8 for bias_shift (count: 32 per bias) */
    int bias_shift;       /* the biases' step is base·2^−bias_shift (base: δ for two-part,
                             the weights' RMS posterior σ for bits-back), the shift in 0..8
                             chosen to minimise bias bits + data bits */
    double bias_delta;
    occam_prior bias_prior;
} occam_dl_layer;

typedef struct occam_dl {
    occam_model_code code;
    int nlayers;
    occam_dl_layer layer[OCCAM_MAX_LAYERS];
    double model_bits, data_bits, total_bits;
    double dense_bits;    /* the dense float32 model: 32 × (weights + biases) of these layers */
    size_t rows;          /* training rows the data code covers */
    int grid_w;           /* > 0: the inputs are an image this many pixels wide (the training
                             set's occam_dataset.grid_w), and layer 0's mask and signs may be
                             coded by their neighbours on it (src/mdl/gridcode.h) */
    double sigma_scale;   /* bits-back: the factor on every posterior σ that gave the
                             shortest code (1 = the trained q; 0 for other codes) */
    double seconds;       /* time to compute the data code for the final model (bits-back:
                             with the σ-scale search) */
    double total_seconds; /* time for all of occam_dl_compute: prior fits, δ search, codes */
    size_t low_snr;       /* two-part at the posterior precision: active weights with log α
                             above noise.log_alpha (Bayesian compression's pruning) */
    bool low_snr_masked;  /* whether the code masks them: both codes are measured and the
                             shorter kept (the mask is sent either way) */
    double low_snr_other_bits; /* the total of the code not kept */
} occam_dl;

/* Computes the description length of m on `train` under p (bits-back re-fits the noisy
 * weights' priors as noise says). With two-part, qparams (if not NULL; lay.nparams floats)
 * receives the quantised parameters the data code used. A noisy model coded at its posterior
 * precision is coded twice when some active weights have log α above noise->log_alpha: as it
 * is, and with those weights masked; the shorter is kept (dl->low_snr_masked says which; m is
 * not changed: a writer of the code masks m by occam_noise_mask_low_snr when it is set). */
int occam_dl_compute(occam_dl *dl, const occam_model *m, const occam_dl_params *p,
                     const occam_noise_params *noise, const occam_dataset *train, int threads,
                     float *qparams, occam_error *err);

/* L(data | model) in bits for `params` (m's layout) on the first `rows` rows of ds (0: all)
 * into *bits: the data term occam_dl_compute uses. OCCAM_ERR_RUNTIME if its per-thread scratch
 * cannot be allocated. */
int occam_dl_data_bits(const occam_model *m, const float *params, const occam_dataset *ds,
                       size_t rows, double target_precision, int threads, double *bits);

/* The image width m's first layer is coded on: train->grid_w when m's inputs are that
 * image's pixels (train->d of them, a whole number of rows), else 0. */
int occam_dl_grid_w(const occam_model *m, const occam_dataset *train);

/* Whether the two-part code takes m's steps from its posterior σ: a noisy-weight model,
 * mdl.precision auto or posterior, and no fixed mdl.weight_precision. */
bool occam_dl_posterior_precision(const occam_dl_params *p, const occam_model *m);

/* Rounds a prior to what a file stores: float32 parameters, the mixture's first weight implied
 * by the others (π0 = max(0, 1 − Σ π_i): float32 rounding may take the sum above 1) and,
 * when pinned, μ0 = 0. The two-part code is computed with
 * the rounded prior, so the file and the reported bits agree. */
void occam_dl_prior_round(occam_prior *p);

/* The per-layer table, as `occam mdl` prints it. */
void occam_dl_write_table(const occam_dl *dl, FILE *out);
/* Writes "components", "pi", "mu" and "sigma" members of p into the open JSON object. */
void occam_dl_write_prior(occam_json *j, const occam_prior *p);

/* One JSON object: model_code, model_bits, data_bits, total_bits, dense_bits, grid_w, layers[]
 * (each with grid_mask and grid_signs: layer 0 sent by its image grid, src/mdl/gridcode.h). */
void occam_dl_write_json(const occam_dl *dl, occam_json *j);

/* mdl.model_code's names, NULL-terminated, index = occam_model_code. */
extern const char *const occam_dl_code_names[];
/* c's name ("two-part" for a value out of range). */
const char *occam_dl_code_name(occam_model_code c);

/* The [mdl] checks that span keys: bits-back codes noisy weights (noise_enabled:
 * noise.enabled). Messages name the key. */
int occam_dl_check(const occam_dl_params *p, bool noise_enabled, occam_error *err);

/* The [mdl] checks for a model the run is about to train, noisy exactly when noise_enabled
 * (train, select): the two-part code at mdl.precision = posterior needs noisy weights. Not part
 * of occam_dl_check: mdl and compress read σ from the model file, whatever noise.enabled says.
 * A run that trained first failed only at its code (train: no description length, or exit 2
 * after the dense phase of prune.schedule = mdl; select: every point, exit 1). */
int occam_dl_check_trained(const occam_dl_params *p, bool noise_enabled, occam_error *err);

#endif
