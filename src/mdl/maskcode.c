/* The mask code that sends whole units first (see maskcode.h). */
#include "maskcode.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "occam/codes.h"
#include "occam/mem.h"
#include "gridcode.h"

static uint64_t layer_n(const occam_layout *lay, int l)
{
    return (uint64_t)lay->width[l] * (uint64_t)lay->width[l + 1];
}

/* Boundary b is sent unless a layer next to it is dense: then every unit of it is live. */
static void mark_sent(occam_mask_units *u, const occam_layout *lay, const uint64_t *k)
{
    int L = lay->nlayers;
    size_t off = 0;
    for (int b = 0; b <= L; b++) {
        bool dense = (b >= 1 && k[b - 1] == layer_n(lay, b - 1)) ||
                     (b < L && k[b] == layer_n(lay, b));
        u->sent[b] = !dense;
        u->off[b] = off;
        off += (size_t)lay->width[b];
    }
}

static size_t units_total(const occam_layout *lay)
{
    size_t t = 0;
    for (int b = 0; b <= lay->nlayers; b++) t += (size_t)lay->width[b];
    return t;
}

int occam_mask_units_init(occam_mask_units *u, const occam_layout *lay, const uint64_t *k,
                          bool rows)
{
    *u = (occam_mask_units){.rows = rows};
    mark_sent(u, lay, k);
    u->live = occam_alloc(units_total(lay), 1);
    if (!u->live) return OCCAM_ERR_RUNTIME;
    memset(u->live, 1, units_total(lay));
    for (int b = 0; b <= lay->nlayers; b++) u->count[b] = (uint64_t)lay->width[b];
    return OCCAM_OK;
}

/* Layer l's mask between live units: all at once, or row by row (maskcode.h), in bits. */
static double flat_bits(const occam_mask_units *u, const uint64_t *k, int l)
{
    return occam_codes_log2_binomial(u->count[l] * u->count[l + 1], k[l]);
}

static double rows_bits(const occam_mask_units *u, const occam_layout *lay, const uint8_t *mask,
                        int l)
{
    int in = lay->width[l];
    const uint8_t *mk = mask + lay->w_off[l], *lo = u->live + u->off[l + 1];
    uint64_t a = u->count[l];
    double bits = 0.0;
    for (int o = 0; o < lay->width[l + 1]; o++) {
        if (!lo[o]) continue;
        uint64_t r = 0;
        for (int i = 0; i < in; i++) r += mk[(size_t)o * in + i] != 0;
        bits += log2((double)a + 1.0) + occam_codes_log2_binomial(a, r);
    }
    return bits;
}

/* Layer 0's mask by its grid neighbours (gridcode.h), in bits. */
static double grid_bits(const occam_mask_units *u, const occam_layout *lay, const uint8_t *mask)
{
    occam_grid_coder c;
    occam_grid_coder_init(&c, NULL, NULL);
    occam_grid_mask_code(&c, mask + lay->w_off[0], lay->width[0], lay->width[1],
                         u->live + u->off[0], u->live + u->off[1], u->grid_w);
    return c.bits;
}

/* Each masked layer's shorter code (ties: all at once), and its bits with the flags': one, and
 * for layer 0 on a grid one more, which names the grid code (alone when it is used). */
static void choose_codes(occam_mask_units *u, const occam_layout *lay, const uint8_t *mask,
                         const uint64_t *k)
{
    for (int l = 0; l < lay->nlayers; l++) {
        if (k[l] == layer_n(lay, l)) continue;
        double flat = flat_bits(u, k, l), rows = rows_bits(u, lay, mask, l);
        u->by_rows[l] = rows < flat;
        u->mask_bits[l] = 1.0 + (u->by_rows[l] ? rows : flat);
        if (l > 0 || !u->grid_w) continue;
        double grid = grid_bits(u, lay, mask);
        u->by_grid = grid < u->mask_bits[l];
        u->mask_bits[l] = 1.0 + (u->by_grid ? grid : u->mask_bits[l]);
    }
}

int occam_mask_units_find(occam_mask_units *u, const occam_layout *lay, const uint8_t *mask,
                          const uint64_t *k)
{
    return occam_mask_units_find_grid(u, lay, mask, k, 0);
}

int occam_mask_units_find_grid(occam_mask_units *u, const occam_layout *lay,
                               const uint8_t *mask, const uint64_t *k, int grid_w)
{
    OCCAM_ASSERT(grid_w >= 0 && (grid_w == 0 || lay->width[0] % grid_w == 0));
    int rc = occam_mask_units_init(u, lay, k, true);
    u->grid_w = grid_w;
    if (rc != OCCAM_OK || !mask) return rc;
    int L = lay->nlayers;
    for (int b = 0; b <= L; b++) {
        if (!u->sent[b]) continue;
        uint8_t *live = u->live + u->off[b];
        memset(live, 0, (size_t)lay->width[b]);
        if (b >= 1) { /* a kept weight coming in: row o of W_{b-1} */
            int in = lay->width[b - 1];
            const uint8_t *mk = mask + lay->w_off[b - 1];
            for (int o = 0; o < lay->width[b]; o++)
                for (int i = 0; i < in && !live[o]; i++) live[o] = mk[(size_t)o * in + i] != 0;
        }
        if (b < L) { /* a kept weight going out: column i of W_b */
            int in = lay->width[b];
            const uint8_t *mk = mask + lay->w_off[b];
            for (int o = 0; o < lay->width[b + 1]; o++)
                for (int i = 0; i < in; i++) live[i] |= mk[(size_t)o * in + i] != 0;
        }
        u->count[b] = 0;
        for (int i = 0; i < lay->width[b]; i++) u->count[b] += live[i];
    }
    choose_codes(u, lay, mask, k);
    return OCCAM_OK;
}

void occam_mask_units_free(occam_mask_units *u)
{
    free(u->live);
    u->live = NULL;
}

static double units_bits(const occam_mask_units *u, const occam_layout *lay, int b)
{
    if (!u->sent[b]) return 0.0;
    uint64_t w = (uint64_t)lay->width[b];
    return log2((double)w + 1.0) + occam_codes_log2_binomial(w, u->count[b]);
}

double occam_mask_units_bits(const occam_mask_units *u, const occam_layout *lay,
                             const uint64_t *k, int l)
{
    double bits = (l == 0 ? units_bits(u, lay, 0) : 0.0) + units_bits(u, lay, l + 1);
    if (k[l] < layer_n(lay, l)) bits += u->rows ? u->mask_bits[l] : flat_bits(u, k, l);
    return bits;
}

/* ---- the stream --------------------------------------------------------------------------- */

static int send_units(occam_rc_enc *e, const occam_mask_units *u, const occam_layout *lay,
                      int b)
{
    if (!u->sent[b]) return OCCAM_OK;
    uint32_t w = (uint32_t)lay->width[b];
    int rc = occam_rc_encode(e, (uint32_t)u->count[b], 1, w + 1);
    return rc == OCCAM_OK ? occam_rc_encode_mask(e, u->live + u->off[b], w, u->count[b]) : rc;
}

static int recv_units(occam_rc_dec *d, occam_mask_units *u, const occam_layout *lay, int b)
{
    if (!u->sent[b]) return OCCAM_OK;
    uint32_t w = (uint32_t)lay->width[b];
    uint32_t c = occam_rc_decode_freq(d, w + 1);
    occam_rc_decode_update(d, c, 1, w + 1);
    u->count[b] = c;
    return occam_rc_decode_mask(d, u->live + u->off[b], w, c);
}

/* Visits the weights of W_l between live units, row by row: gathers their kept flags into sub
 * (to = NULL) or writes sub back into to. */
static void between_live(const occam_mask_units *u, const occam_layout *lay, int l,
                         const uint8_t *from, uint8_t *to, uint8_t *sub)
{
    int in = lay->width[l];
    const uint8_t *li = u->live + u->off[l], *lo = u->live + u->off[l + 1];
    size_t j = 0;
    for (int o = 0; o < lay->width[l + 1]; o++) {
        if (!lo[o]) continue;
        for (int i = 0; i < in; i++) {
            if (!li[i]) continue;
            if (to) to[(size_t)o * in + i] = sub[j++];
            else sub[j++] = from[(size_t)o * in + i] != 0;
        }
    }
}

int occam_mask_units_encode(occam_rc_enc *e, const occam_mask_units *u, const occam_layout *lay,
                            const uint8_t *mask, const uint64_t *k, int l)
{
    OCCAM_ASSERT(mask || k[l] == layer_n(lay, l));
    int rc = l == 0 ? send_units(e, u, lay, 0) : OCCAM_OK;
    if (rc == OCCAM_OK) rc = send_units(e, u, lay, l + 1);
    if (rc != OCCAM_OK || k[l] == layer_n(lay, l)) return rc;
    bool grid = l == 0 && u->grid_w, by_grid = grid && u->by_grid;
    if (grid) rc = occam_rc_encode(e, by_grid, 1, 2);
    if (by_grid) {
        occam_grid_coder c;
        occam_grid_coder_init(&c, e, NULL);
        occam_grid_mask_code(&c, mask + lay->w_off[0], lay->width[0], lay->width[1],
                             u->live + u->off[0], u->live + u->off[1], u->grid_w);
        return rc == OCCAM_OK ? c.rc : rc;
    }
    size_t ns = (size_t)(u->count[l] * u->count[l + 1]), a = (size_t)u->count[l];
    uint8_t *sub = occam_alloc(ns ? ns : 1, 1);
    if (!sub) return OCCAM_ERR_RUNTIME;
    between_live(u, lay, l, mask + lay->w_off[l], NULL, sub);
    bool by_rows = u->rows && u->by_rows[l];
    if (u->rows && rc == OCCAM_OK) rc = occam_rc_encode(e, by_rows, 1, 2);
    if (!by_rows) {
        if (rc == OCCAM_OK) rc = occam_rc_encode_mask(e, sub, ns, (size_t)k[l]);
    } else {
        for (size_t j = 0; j < (size_t)u->count[l + 1] && rc == OCCAM_OK; j++) {
            size_t r = 0;
            for (size_t i = 0; i < a; i++) r += sub[j * a + i];
            rc = occam_rc_encode(e, (uint32_t)r, 1, (uint32_t)a + 1);
            if (rc == OCCAM_OK) rc = occam_rc_encode_mask(e, sub + j * a, a, r);
        }
    }
    free(sub);
    return rc;
}

/* Layer l's mask row by row into sub (count[l+1] rows of count[l]): OCCAM_ERR_INPUT unless the
 * rows' counts add up to k. */
static int recv_rows(occam_rc_dec *d, const occam_mask_units *u, int l, uint64_t k,
                     uint8_t *sub)
{
    size_t a = (size_t)u->count[l];
    uint64_t sum = 0;
    int rc = OCCAM_OK;
    for (size_t j = 0; j < (size_t)u->count[l + 1] && rc == OCCAM_OK; j++) {
        uint32_t r = occam_rc_decode_freq(d, (uint32_t)a + 1);
        occam_rc_decode_update(d, r, 1, (uint32_t)a + 1);
        sum += r;
        if (r > a || sum > k) return OCCAM_ERR_INPUT;
        rc = occam_rc_decode_mask(d, sub + j * a, a, r);
    }
    return rc == OCCAM_OK && sum != k ? OCCAM_ERR_INPUT : rc;
}

int occam_mask_units_decode(occam_rc_dec *d, occam_mask_units *u, const occam_layout *lay,
                            uint8_t *mask, const uint64_t *k, int l)
{
    int rc = l == 0 ? recv_units(d, u, lay, 0) : OCCAM_OK;
    if (rc == OCCAM_OK) rc = recv_units(d, u, lay, l + 1);
    if (rc != OCCAM_OK || k[l] == layer_n(lay, l)) return rc;
    uint64_t ns = u->count[l] * u->count[l + 1];
    if (k[l] > ns) return OCCAM_ERR_INPUT;
    if (l == 0 && u->grid_w) {
        u->by_grid = occam_rc_decode_freq(d, 2) != 0;
        occam_rc_decode_update(d, u->by_grid, 1, 2);
        if (u->by_grid) {
            occam_grid_coder c;
            occam_grid_coder_init(&c, NULL, d);
            uint64_t kept = occam_grid_mask_read(&c, mask + lay->w_off[0], lay->width[0],
                                                 lay->width[1], u->live + u->off[0],
                                                 u->live + u->off[1], u->grid_w);
            return kept == k[0] ? OCCAM_OK : OCCAM_ERR_INPUT;
        }
    }
    uint8_t *sub = occam_alloc(ns ? (size_t)ns : 1, 1);
    if (!sub) return OCCAM_ERR_RUNTIME;
    bool by_rows = false;
    if (u->rows) {
        by_rows = occam_rc_decode_freq(d, 2) != 0;
        occam_rc_decode_update(d, by_rows, 1, 2);
        u->by_rows[l] = by_rows;
    }
    rc = by_rows ? recv_rows(d, u, l, k[l], sub)
                 : occam_rc_decode_mask(d, sub, (size_t)ns, (size_t)k[l]);
    uint8_t *mk = mask + lay->w_off[l];
    memset(mk, 0, (size_t)layer_n(lay, l));
    if (rc == OCCAM_OK) between_live(u, lay, l, NULL, mk, sub);
    free(sub);
    return rc;
}

int occam_mask_units_check(const occam_mask_units *u, const occam_layout *lay,
                           const uint8_t *mask, const uint64_t *k)
{
    occam_mask_units found;
    if (occam_mask_units_find(&found, lay, mask, k) != OCCAM_OK) return OCCAM_ERR_RUNTIME;
    int rc = OCCAM_OK;
    for (int b = 0; b <= lay->nlayers && rc == OCCAM_OK; b++)
        if (u->sent[b] && (found.count[b] != u->count[b] ||
                           memcmp(found.live + found.off[b], u->live + u->off[b],
                                  (size_t)lay->width[b]) != 0))
            rc = OCCAM_ERR_INPUT;
    occam_mask_units_free(&found);
    return rc;
}

void occam_mask_bias_needed(const occam_layout *lay, const uint8_t *mask, uint8_t *need)
{
    memset(need, 0, lay->nparams);
    for (int l = 0; l < lay->nlayers; l++) {
        int out = lay->width[l + 1];
        uint8_t *b = need + lay->b_off[l];
        bool all = !mask || l + 1 == lay->nlayers;
        memset(b, all, (size_t)out);
        if (all) continue;
        const uint8_t *mk = mask + lay->w_off[l + 1];
        for (int o = 0; o < lay->width[l + 2]; o++)
            for (int i = 0; i < out; i++) b[i] |= mk[(size_t)o * out + i] != 0;
    }
}
