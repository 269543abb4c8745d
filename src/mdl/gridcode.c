/* The first layer's mask and signs coded by their grid neighbours (see gridcode.h). */
#include "gridcode.h"

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "occam/error.h"
#include "occam/mem.h"

/* Counts are halved once a model's total passes this: the range coder's totals stay far below
 * 2^32, and a model of millions of events still adapts. */
#define COUNT_LIMIT (1u << 20)

void occam_grid_coder_init(occam_grid_coder *c, occam_rc_enc *enc, occam_rc_dec *dec)
{
    memset(c, 0, sizeof *c);
    c->enc = enc;
    c->dec = dec;
    for (int m = 0; m < OCCAM_GRID_SIGN_MODELS; m++) c->count[m][0] = c->count[m][1] = 1;
}

int occam_grid_bit(occam_grid_coder *c, int ctx, int bit)
{
    OCCAM_ASSERT(ctx >= 0 && ctx < OCCAM_GRID_SIGN_MODELS);
    uint32_t *n = c->count[ctx], total = n[0] + n[1];
    if (c->dec) {
        bit = occam_rc_decode_bit(c->dec, n[1], total);
    } else {
        bit = bit != 0;
        if (c->enc) {
            int rc = occam_rc_encode_bit(c->enc, bit, n[1], total);
            if (c->rc == OCCAM_OK) c->rc = rc;
        } else {
            c->bits -= log2((double)n[bit] / (double)total);
        }
    }
    n[bit] += 2;
    if (n[0] + n[1] > COUNT_LIMIT) {
        n[0] = (n[0] + 1) / 2;
        n[1] = (n[1] + 1) / 2;
    }
    return bit;
}

#define OFF_GRID SIZE_MAX

/* The causal neighbours of input i on a grid w wide, in context order: left, up, up-left,
 * up-right; OFF_GRID where there is none. */
static void causal(size_t i, size_t w, size_t nb[4])
{
    size_t x = i % w;
    bool up = i >= w;
    nb[0] = x > 0 ? i - 1 : OFF_GRID;
    nb[1] = up ? i - w : OFF_GRID;
    nb[2] = up && x > 0 ? i - w - 1 : OFF_GRID;
    nb[3] = up && x + 1 < w ? i - w + 1 : OFF_GRID;
}

int occam_grid_context(const uint8_t *s, size_t i, int width, int base)
{
    size_t nb[4];
    causal(i, (size_t)width, nb);
    int ctx = 0;
    for (int k = 3; k >= 0; k--) {
        int v = nb[k] == OFF_GRID ? 0 : s[nb[k]];
        OCCAM_ASSERT(v < base);
        ctx = ctx * base + v;
    }
    return ctx;
}

void occam_grid_mask_code(occam_grid_coder *c, const uint8_t *mk, int in, int out,
                          const uint8_t *live_in, const uint8_t *live_out, int width)
{
    for (int o = 0; o < out; o++) {
        if (!live_out[o]) continue;
        const uint8_t *row = mk + (size_t)o * (size_t)in;
        for (int i = 0; i < in; i++) /* masks hold 0 and 1 (occam_st_check_mask) */
            if (live_in[i])
                occam_grid_bit(c, occam_grid_context(row, (size_t)i, width, 2), row[i] != 0);
    }
}

uint64_t occam_grid_mask_read(occam_grid_coder *c, uint8_t *mk, int in, int out,
                              const uint8_t *live_in, const uint8_t *live_out, int width)
{
    uint64_t kept = 0;
    memset(mk, 0, (size_t)in * (size_t)out);
    for (int o = 0; o < out; o++) {
        if (!live_out[o]) continue;
        uint8_t *row = mk + (size_t)o * (size_t)in;
        for (int i = 0; i < in; i++)
            if (live_in[i]) {
                row[i] = (uint8_t)occam_grid_bit(c, occam_grid_context(row, (size_t)i, width, 2),
                                                 0);
                kept += row[i];
            }
    }
    return kept;
}

/* −log2(2^−a + 2^−b) without underflow; DBL_MAX (past any length) stays so. */
static double log2_sum_bits(double a, double b)
{
    if (a > b) {
        double t = a;
        a = b;
        b = t;
    }
    if (a >= DBL_MAX) return DBL_MAX;
    return a - log2(1.0 + exp2(a - b));
}

double occam_grid_folded_bits(const occam_prior *p, double q, double delta)
{
    q = fabs(q);
    double lo = (q - 0.5) * delta, hi = (q + 0.5) * delta;
    /* past |q| = 2^31 − 1 a file cannot send the bin (its indices are 32-bit), and past 2^52
     * a bin has no width left in double: beyond any code length */
    if (!(lo < hi) || q > INT32_MAX) return DBL_MAX;
    if (q == 0) return occam_prior_bin_bits(p, lo, hi);
    return log2_sum_bits(occam_prior_bin_bits(p, lo, hi), occam_prior_bin_bits(p, -hi, -lo));
}

/* Bins seen before are looked up (direct-mapped by |q|), as occam_codes_value_bits does. */
#define FOLD_MEMO 256

static int sign_of(int32_t q) { return q > 0 ? 1 : q < 0 ? 2 : 0; }

void occam_grid_signs_code(occam_grid_coder *c, int32_t *q, int in, int out, int width)
{
    for (int o = 0; o < out; o++) {
        int32_t *row = q + (size_t)o * (size_t)in;
        for (size_t i = 0; i < (size_t)in; i++) {
            if (!row[i]) continue;
            size_t nb[4];
            causal(i, (size_t)width, nb);
            int ctx = 0;
            for (int k = 3; k >= 0; k--)
                ctx = ctx * 3 + (nb[k] == OFF_GRID ? 0 : sign_of(row[nb[k]]));
            /* reading, row[i] is |q| (the earlier ones already signed) */
            if (occam_grid_bit(c, ctx, row[i] < 0) && c->dec) row[i] = -row[i];
        }
    }
}

int occam_grid_value_bits(const float *w, const uint8_t *mask, int in, int out, double delta,
                          const occam_prior *p, int width, double *bits)
{
    OCCAM_ASSERT(delta > 0);
    size_t n = (size_t)in * (size_t)out;
    int32_t *q = occam_alloc_zero(n ? n : 1, sizeof *q);
    if (!q) return OCCAM_ERR_RUNTIME;
    double memo_q[FOLD_MEMO], memo_bits[FOLD_MEMO];
    for (int j = 0; j < FOLD_MEMO; j++) memo_q[j] = NAN;
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        if (mask && !mask[i]) continue;
        double v = round((double)w[i] / delta), a = fabs(v);
        int slot = a < 0x1p62 ? (int)((long long)a & (FOLD_MEMO - 1)) : 0;
        if (memo_q[slot] != a) { /* NaN never compares equal: empty slots miss */
            memo_q[slot] = a;
            memo_bits[slot] = occam_grid_folded_bits(p, a, delta);
        }
        sum = sum < DBL_MAX && memo_bits[slot] < DBL_MAX ? sum + memo_bits[slot] : DBL_MAX;
        /* past int32 the bits are DBL_MAX already; the sign is all that is kept */
        q[i] = a <= INT32_MAX ? (int32_t)v : v > 0 ? INT32_MAX : -INT32_MAX;
    }
    occam_grid_coder c;
    occam_grid_coder_init(&c, NULL, NULL);
    occam_grid_signs_code(&c, q, in, out, width);
    free(q);
    *bits = sum < DBL_MAX ? sum + c.bits : DBL_MAX;
    return OCCAM_OK;
}
