/* gridcode.h — private to src/mdl: the first layer's mask and weight signs, coded by their
 * neighbours on the input's image grid (.occ version 8).
 *
 * When the inputs are the pixels of an image (IDX files of records × rows × cols), a first-layer
 * unit's incoming weights form a picture of that image's shape, and the pictures are smooth: a
 * sparse unit keeps blobs of pixels, not scattered ones, and neighbouring kept weights mostly
 * share a sign. The plain codes (maskcode.h, and a table per value) cannot see that. Here
 * each bit is coded under an adaptive binary model chosen by its already-sent neighbours on
 * the grid (left, up, up-left, up-right: the causal neighbourhood of raster order):
 *   - mask: for each live unit (row of W_0), for each live input in raster order, the kept
 *     bit under one of 16 models (the 4 neighbours' kept bits; a dead input or one off the
 *     grid counts as not kept);
 *   - signs: each kept weight's bin index q is sent as |q| under the prior's folded mass
 *     P(q) + P(−q) (occfile.c), all of the layer's in raster order; then each nonzero q's sign,
 *     in the same order, under one of 81 models (each neighbour none, positive or negative).
 * On the sparse LeNet-300-100 of configs/noisy_sparse.ini, layer 0's mask costs 24,828 bits
 * instead of 29,850 (row by row) and its values 16,149 instead of 18,662.
 *
 * A model counts in integers (Krichevsky–Trofimov: both counts start at 1/2, held doubled),
 * so the encoder, the decoder and the code length (−log2 of the same ratios, summed in one
 * fixed order) agree exactly; counts are halved past 2^20, which only a layer of millions of
 * weights reaches. Whether a layer uses these codes is the writer's choice per layer (a flag
 * bit): a grid that does not help costs one bit. */
#ifndef OCCAM_GRIDCODE_H
#define OCCAM_GRIDCODE_H

#include <stddef.h>
#include <stdint.h>

#include "occam/prior.h"
#include "rangecoder.h"

#define OCCAM_GRID_MASK_MODELS 16
#define OCCAM_GRID_SIGN_MODELS 81

/* One pass of a code: it measures (enc and dec NULL: bits adds up −log2 p), writes (enc) or
 * reads (dec) the bits. rc is the first failure of the encoder (OCCAM_ERR_RUNTIME). */
typedef struct occam_grid_coder {
    occam_rc_enc *enc;
    occam_rc_dec *dec;
    double bits;
    int rc;
    uint32_t count[OCCAM_GRID_SIGN_MODELS][2]; /* doubled KT counts of 0s and 1s per model */
} occam_grid_coder;

/* A coder with every model fresh; enc and dec may both be NULL (measure). */
void occam_grid_coder_init(occam_grid_coder *c, occam_rc_enc *enc, occam_rc_dec *dec);

/* Codes one bit under model ctx and updates it; returns the bit (the decoded one when reading;
 * bit is then ignored). */
int occam_grid_bit(occam_grid_coder *c, int ctx, int bit);

/* The causal neighbourhood of input i on a grid `width` wide, from the row's states s (one
 * per input, each below `base`): left + base·up + base²·up-left + base³·up-right, a
 * neighbour off the grid counting as 0. Mask: states 0/1, base 2; signs: 0 none, 1 positive,
 * 2 negative, base 3. */
int occam_grid_context(const uint8_t *s, size_t i, int width, int base);

/* Layer 0's mask between live units (`in` inputs, `out` units; live_in/live_out flags) by
 * context: measures or writes mk's bits. */
void occam_grid_mask_code(occam_grid_coder *c, const uint8_t *mk, int in, int out,
                          const uint8_t *live_in, const uint8_t *live_out, int width);
/* Reads it into mk (in·out bytes, 0/1, the dead ones 0): the count of kept weights it read. */
uint64_t occam_grid_mask_read(occam_grid_coder *c, uint8_t *mk, int in, int out,
                              const uint8_t *live_in, const uint8_t *live_out, int width);

/* The signs of layer 0's bin indices q (in × out, row-major; 0 where a weight is masked or
 * quantised to 0): each nonzero one, in order, under the model its four causal neighbours'
 * signs choose. Measures or writes them; reading, q holds each |q| and gets its sign. */
void occam_grid_signs_code(occam_grid_coder *c, int32_t *q, int in, int out, int width);

/* The bits of bin |q| under p's folded mass at step delta: P(0) for q = 0, else
 * P(q) + P(−q), each P a bin's mass (occam_prior_bin_bits). */
double occam_grid_folded_bits(const occam_prior *p, double q, double delta);

/* Layer 0's kept weights (w, mask: in·out, row-major; mask NULL keeps all) quantised at
 * delta, measured as the grid code sends them: Σ folded bits of |q| + the signs' bits
 * (occam_grid_signs_code), into *bits (DBL_MAX when a value lies past any code length).
 * OCCAM_ERR_RUNTIME when out of memory. */
int occam_grid_value_bits(const float *w, const uint8_t *mask, int in, int out, double delta,
                          const occam_prior *p, int width, double *bits);

#endif
