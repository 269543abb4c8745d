/* maskcode.h — private to src/mdl: the mask code of .occ versions 6 and 7 and of the
 * description length, which sends whole units before weights.
 *
 * A pruned or sparse network's zeros are not scattered at random: a hidden unit either keeps
 * some of its weights or loses them all, in both of its layers at once (the sparse prior kills
 * 212 of LeNet's 300 first hidden units), and an input that never varies loses its whole
 * column. So the mask is sent in two steps.
 *   1. Per boundary b between layers (b = 0 the inputs ... b = L the outputs), the units that
 *      are live: those with a kept weight coming in (row u of W_{b-1}) or going out (column u
 *      of W_b). Their count a_b is sent uniformly over [0, width_b] (log2(width_b + 1) bits),
 *      then which they are, enumeratively (log2 C(width_b, a_b) bits). A boundary next to a
 *      dense layer (k = n) has every unit live and sends nothing.
 *   2. Per layer, its k kept weights among the a_{l+1} × a_l weights between live units, in
 *      the shorter of two ways, named by one bit (version 7; version 6 had only the first):
 *      - all at once, enumeratively (log2 C(a_{l+1} a_l, k) bits, where the plain code took
 *        log2 C(n, k));
 *      - row by row: each live output unit's count r of kept weights uniformly over
 *        [0, a_l], then which, enumeratively (log2(a_l + 1) + log2 C(a_l, r) bits per row).
 *        Units whose fan-in differs (the sparse LeNet's first layer keeps 1 input for one
 *        unit and 147 for another) cost less so: 1,559 bits less there.
 * Layer l's share is its mask (2), its output boundary's units (1), and for layer 0 the
 * inputs' as well; the layers' shares add up to the whole. A mask with every unit live costs
 * log2(width + 1) bits more per boundary sent than the plain code; a network of dead units
 * costs far less.
 *
 * Biases (version 7): a hidden unit's bias reaches the outputs only through its kept outgoing
 * weights. The bias of a unit with none is not sent (the decoder sets it to 0), nor counted
 * in the description length: occam_mask_bias_needed names the biases that are. */
#ifndef OCCAM_MASKCODE_H
#define OCCAM_MASKCODE_H

#include <stdbool.h>
#include <stdint.h>

#include "occam/model.h"
#include "rangecoder.h"

/* The live units of every boundary of a model with the given mask and kept counts k[l], in one
 * flat array: boundary b's width[b] flags start at live + off[b]. */
typedef struct occam_mask_units {
    uint8_t *live;                     /* Σ width[b] flags, 0 or 1 */
    size_t off[OCCAM_MAX_LAYERS + 1];  /* boundary b's flags start at live + off[b] */
    uint64_t count[OCCAM_MAX_LAYERS + 1];
    bool sent[OCCAM_MAX_LAYERS + 1];   /* false: next to a dense layer, every unit live */
    bool rows;                         /* false: version 6 (no row-by-row code, no flag) */
    bool by_rows[OCCAM_MAX_LAYERS];    /* layer l's mask sent row by row */
    int grid_w;                        /* > 0: the inputs are an image this wide (version 8),
                                          and layer 0 may be sent by its grid (gridcode.h) */
    bool by_grid;                      /* layer 0's mask sent by its grid neighbours */
    double mask_bits[OCCAM_MAX_LAYERS];/* the writer's: layer l's mask (2) in bits, flag included */
} occam_mask_units;

/* Finds the live units, and for each masked layer the shorter of its two codes. k[l] must be
 * n wherever mask is NULL (a model without a mask keeps every weight). OCCAM_ERR_RUNTIME when
 * out of memory (u->live is then NULL). */
int occam_mask_units_find(occam_mask_units *u, const occam_layout *lay, const uint8_t *mask,
                          const uint64_t *k);
/* The same, for inputs that are an image grid_w pixels wide (0: not an image; else it divides
 * the input width): layer 0 then has a third code, by its grid neighbours (gridcode.h), and
 * its mask starts with a bit naming whether it is used (version 8). */
int occam_mask_units_find_grid(occam_mask_units *u, const occam_layout *lay,
                               const uint8_t *mask, const uint64_t *k, int grid_w);
void occam_mask_units_free(occam_mask_units *u);

/* Layer l's share of the mask code in bits (see above). */
double occam_mask_units_bits(const occam_mask_units *u, const occam_layout *lay,
                             const uint64_t *k, int l);

/* Sends layer l's share: boundary 0's units when l = 0, boundary l+1's, then, if k[l] < n,
 * the layer's mask: for layer 0 with u->grid_w (version 8) a bit naming the grid code, and if
 * it is used the mask by it; otherwise, with u->rows (version 7) a bit naming its code and
 * the mask all at once or row by row (u->by_rows[l]), otherwise (version 6) all at once.
 * The mask must be the one u was found from (the writer may set u->by_grid to its own
 * choice). */
int occam_mask_units_encode(occam_rc_enc *e, const occam_mask_units *u, const occam_layout *lay,
                            const uint8_t *mask, const uint64_t *k, int l);

/* The reader's side: u from occam_mask_units_init (every boundary next to a dense layer marked
 * not sent, its units live; rows false for a version 6 stream; the caller sets grid_w from a
 * version 8 header), then layer by layer. Writes
 * layer l's mask (0/1) into mask + w_off[l]. OCCAM_ERR_INPUT when k[l] is more kept weights
 * than the live units have between them, or the rows' counts do not add up to k[l] (a
 * damaged file). */
int occam_mask_units_init(occam_mask_units *u, const occam_layout *lay, const uint64_t *k,
                          bool rows);
int occam_mask_units_decode(occam_rc_dec *d, occam_mask_units *u, const occam_layout *lay,
                            uint8_t *mask, const uint64_t *k, int l);
/* After the last layer: OCCAM_ERR_INPUT unless the units the stream named live are exactly
 * those that keep a weight in the decoded mask (a forged stream can name a dead unit live,
 * which decodes to a model whose own file is another), OCCAM_ERR_RUNTIME out of memory. */
int occam_mask_units_check(const occam_mask_units *u, const occam_layout *lay,
                           const uint8_t *mask, const uint64_t *k);

/* need (lay->nparams flags, laid out as the parameters): need[b_off[l] + o] = 1 when layer l's
 * bias o is sent: always for the output layer, and for a hidden unit when it keeps a weight
 * going out (column o of W_{l+1}; every unit if mask is NULL). The weights' flags are 0. */
void occam_mask_bias_needed(const occam_layout *lay, const uint8_t *mask, uint8_t *need);

#endif
