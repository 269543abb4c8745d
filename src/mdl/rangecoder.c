/* Range coder: a 64-bit arithmetic coder in the style of Martin (1979), with carry propagation
 * into the output buffer, plus the enumerative mask code and table-driven integer symbols that
 * the MDL module builds on.
 *
 * State. The encoder keeps its current interval as [low, low + range), where low and range are
 * 64-bit "window" values. The bytes already written are the higher-order digits of low.
 * Invariant: after every symbol, range lies in [2^56, 2^64).
 *   - Coding [c, c + f) of total sets r = floor(range / total), low += r*c, and
 *     range = r*f. The last symbol (c + f == total) gets range - r*c instead, so no range is
 *     wasted.
 *   - When low += r*c wraps past 2^64, the carry goes into the written bytes: they are
 *     incremented from the end until one of them does not overflow.
 *   - Each shift writes the top byte of low.
 * The flush writes one byte, the top byte of low rounded up to a multiple of 2^56. That value
 * lies in [low, low + 2^56), which is inside [low, low + range). Any bytes after it read as
 * zero, which is exactly what the decoder feeds itself past the end.
 *
 * The decoder tracks code = (stream value - low) with the same range, so it needs no low of
 * its own. Normalisation reads one byte per shift, mirroring the encoder, and that is what
 * makes the consumed-byte count exact (see the header). */
#include "rangecoder.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "occam/error.h"

#define RC_TOP ((uint64_t)1 << 56) /* range is renormalised to >= RC_TOP */
#define RC_SLACK 7                 /* decoder preload (8) minus encoder flush (1) */

/* ---- encoder ---------------------------------------------------------------------------- */

void occam_rc_enc_init(occam_rc_enc *e) { *e = (occam_rc_enc){.range = UINT64_MAX}; }

void occam_rc_enc_free(occam_rc_enc *e)
{
    if (!e) return;
    free(e->buf);
    e->buf = NULL;
    e->len = e->cap = 0;
}

/* Makes room for `extra` more bytes. On failure, records OCCAM_ERR_RUNTIME and returns it. */
static int enc_reserve(occam_rc_enc *e, size_t extra)
{
    if (e->cap - e->len >= extra) return OCCAM_OK;
    size_t cap = e->cap ? e->cap : 256;
    while (cap - e->len < extra) {
        if (cap > SIZE_MAX / 2) return e->status = OCCAM_ERR_RUNTIME;
        cap *= 2;
    }
    uint8_t *p = realloc(e->buf, cap);
    if (!p) return e->status = OCCAM_ERR_RUNTIME;
    e->buf = p;
    e->cap = cap;
    return OCCAM_OK;
}

/* Adds 1 to the number held by the bytes already written. The interval always stays inside
 * [0, 1) of the whole stream, so the carry is always absorbed by some byte. Each 0xFF turned
 * into 0x00 here can only become 0xFF again through another carry, so the cost is amortised
 * O(1). */
static void enc_carry(occam_rc_enc *e)
{
    for (size_t i = e->len; i > 0; i--)
        if (++e->buf[i - 1] != 0) return;
    OCCAM_ASSERT(0 && "range coder carry past the first byte");
}

/* Narrows to [cum_lo, cum_lo + freq) out of total, with r = range / total already computed.
 * Needs 8 bytes of reserve: range >= r >= 2^24 afterwards, so at most 4 shifts happen. */
static inline void enc_narrow(occam_rc_enc *e, uint64_t r, uint32_t cum_lo, uint32_t freq,
                              uint32_t total)
{
    uint64_t base = r * cum_lo;
    uint64_t low = e->low + base;
    if (low < base) enc_carry(e);
    e->low = low;
    e->range = (uint64_t)cum_lo + freq == total ? e->range - base : r * freq;
    while (e->range < RC_TOP) {
        e->buf[e->len++] = (uint8_t)(e->low >> 56);
        e->low <<= 8;
        e->range <<= 8;
    }
}

int occam_rc_encode(occam_rc_enc *e, uint32_t cum_lo, uint32_t freq, uint32_t total)
{
    OCCAM_ASSERT(!e->finished);
    OCCAM_ASSERT(freq > 0 && (uint64_t)cum_lo + freq <= total);
    if (e->status) return e->status;
    if (enc_reserve(e, 8)) return e->status;
    enc_narrow(e, e->range / total, cum_lo, freq, total);
    return OCCAM_OK;
}

int occam_rc_encode_bit(occam_rc_enc *e, int bit, uint32_t p1, uint32_t total)
{
    OCCAM_ASSERT(p1 > 0 && p1 < total);
    return bit ? occam_rc_encode(e, total - p1, p1, total)
               : occam_rc_encode(e, 0, total - p1, total);
}

int occam_rc_enc_finish(occam_rc_enc *e)
{
    OCCAM_ASSERT(!e->finished);
    e->finished = true;
    if (e->status) return e->status;
    if (enc_reserve(e, 1)) return e->status;
    uint64_t v = e->low + (RC_TOP - 1); /* top byte of v = low rounded up to k * 2^56 */
    if (v < e->low) enc_carry(e);
    e->buf[e->len++] = (uint8_t)(v >> 56);
    return OCCAM_OK;
}

/* ---- decoder ---------------------------------------------------------------------------- */

static inline uint64_t dec_byte(occam_rc_dec *d)
{
    size_t p = d->pos++;
    return p < d->len ? d->buf[p] : 0; /* past the end: zeros, counted in pos */
}

static inline void dec_normalise(occam_rc_dec *d)
{
    while (d->range < RC_TOP) {
        d->code = d->code << 8 | dec_byte(d);
        d->range <<= 8;
    }
}

void occam_rc_dec_init(occam_rc_dec *d, const uint8_t *buf, size_t len)
{
    *d = (occam_rc_dec){.buf = buf, .len = len, .range = UINT64_MAX};
    for (int i = 0; i < 8; i++) d->code = d->code << 8 | dec_byte(d);
    if (d->code >= d->range) { /* defensive: 8 bytes of 0xFF, which no encoder emits */
        d->corrupt = true;
        d->code = d->range - 1;
    }
}

uint32_t occam_rc_decode_freq(occam_rc_dec *d, uint32_t total)
{
    OCCAM_ASSERT(total > 0);
    d->r = d->range / total;
    d->total = total;
    uint64_t t = d->code / d->r;
    return t < total ? (uint32_t)t : total - 1; /* above r*total: the last symbol's leftover */
}

void occam_rc_decode_update(occam_rc_dec *d, uint32_t cum_lo, uint32_t freq, uint32_t total)
{
    OCCAM_ASSERT(d->total == total && "occam_rc_decode_update without a matching decode_freq");
    OCCAM_ASSERT(freq > 0 && (uint64_t)cum_lo + freq <= total);
    uint64_t base = d->r * cum_lo;
    d->range = (uint64_t)cum_lo + freq == total ? d->range - base : d->r * freq;
    /* Defensive: for a target from decode_freq, base <= code < base + range. */
    if (d->code < base) {
        d->corrupt = true;
        d->code = 0;
    } else {
        d->code -= base;
    }
    if (d->code >= d->range) {
        d->corrupt = true;
        d->code = d->range - 1;
    }
    d->total = 0;
    dec_normalise(d);
}

int occam_rc_decode_bit(occam_rc_dec *d, uint32_t p1, uint32_t total)
{
    OCCAM_ASSERT(p1 > 0 && p1 < total);
    /* Same arithmetic as encode_bit, with one division: 1 iff code >= r * (total - p1). */
    uint64_t split = d->range / total * (total - p1);
    int bit = d->code >= split;
    if (bit) {
        d->code -= split;
        d->range -= split;
    } else {
        d->range = split;
    }
    dec_normalise(d);
    return bit;
}

bool occam_rc_dec_overrun(const occam_rc_dec *d)
{
    return d->pos > d->len && d->pos - d->len > RC_SLACK;
}

bool occam_rc_dec_corrupt(const occam_rc_dec *d) { return d->corrupt; }

/* ---- enumerative mask code --------------------------------------------------------------- */

/* P(1) = k_left / n_left as a frequency pair, with 0 < k_left < n_left. It is exact when
 * n_left fits in max_total. Otherwise it is rounded to the nearest p / max_total and kept in
 * [1, max_total - 1]. Encoder and decoder run the same double arithmetic, so they agree
 * bit for bit. */
static inline void mask_prob(size_t n_left, size_t k_left, uint32_t max_total, uint32_t *p1,
                             uint32_t *total)
{
    if (n_left <= max_total) {
        *p1 = (uint32_t)k_left;
        *total = (uint32_t)n_left;
        return;
    }
    double q = floor((double)k_left / (double)n_left * (double)max_total + 0.5);
    if (q < 1) q = 1;
    if (q > (double)max_total - 1) q = (double)max_total - 1;
    *p1 = (uint32_t)q;
    *total = max_total;
}

int occam_rc_encode_mask_ex(occam_rc_enc *e, const uint8_t *mask, size_t n, size_t k,
                            uint32_t max_total)
{
    OCCAM_ASSERT(!e->finished && max_total >= 2);
    if (k > n) return OCCAM_ERR_INPUT;
    size_t ones = 0;
    for (size_t i = 0; i < n; i++) ones += mask[i] != 0;
    if (ones != k) return OCCAM_ERR_INPUT;
    if (e->status) return e->status;
    size_t k_left = k;
    /* Stop once k_left is 0 or equal to n - i: the rest of the mask is then determined. */
    for (size_t i = 0; k_left != 0 && k_left != n - i; i++) {
        uint32_t p1, total;
        mask_prob(n - i, k_left, max_total, &p1, &total);
        if (occam_rc_encode_bit(e, mask[i], p1, total)) return e->status;
        k_left -= mask[i] != 0;
    }
    return OCCAM_OK;
}

int occam_rc_encode_mask(occam_rc_enc *e, const uint8_t *mask, size_t n, size_t k)
{
    return occam_rc_encode_mask_ex(e, mask, n, k, OCCAM_RC_TOTAL_MAX);
}

int occam_rc_decode_mask_ex(occam_rc_dec *d, uint8_t *mask, size_t n, size_t k,
                            uint32_t max_total)
{
    OCCAM_ASSERT(max_total >= 2);
    if (k > n) return OCCAM_ERR_INPUT;
    size_t k_left = k, i = 0;
    for (; k_left != 0 && k_left != n - i; i++) {
        uint32_t p1, total;
        mask_prob(n - i, k_left, max_total, &p1, &total);
        mask[i] = (uint8_t)occam_rc_decode_bit(d, p1, total);
        k_left -= mask[i];
    }
    memset(mask + i, k_left != 0, n - i); /* the determined tail: all ones or all zeros */
    return OCCAM_OK;
}

int occam_rc_decode_mask(occam_rc_dec *d, uint8_t *mask, size_t n, size_t k)
{
    return occam_rc_decode_mask_ex(d, mask, n, k, OCCAM_RC_TOTAL_MAX);
}

/* ---- frequency tables -------------------------------------------------------------------- */

typedef struct share {
    double rem; /* fractional part of the ideal share */
    size_t idx;
} share;

/* Largest remainder first, lower symbol first on ties: a total order, so the result does not
 * depend on the qsort implementation. */
static int share_cmp(const void *a, const void *b)
{
    const share *x = a, *y = b;
    if (x->rem != y->rem) return x->rem > y->rem ? -1 : 1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

/* A remainder in [0, 1) as a key that orders like it (non-negative doubles order as their
 * bit patterns; + 0.0 turns a −0 into +0). */
static uint64_t rem_key(double r)
{
    r += 0.0;
    uint64_t k;
    memcpy(&k, &r, sizeof k);
    return k;
}

/* The r-th largest key (1 <= r <= n) of rem[0..n), by radix selection on 16-bit digits, most
 * significant first: four passes over rem, whatever the values (a sort by remainder was most
 * of the time of reading a layer of millions of bins). */
static uint64_t kth_largest(const double *rem, size_t n, size_t r, size_t *count)
{
    uint64_t prefix = 0, mask = 0;
    for (int shift = 48; shift >= 0; shift -= 16) {
        memset(count, 0, sizeof *count << 16);
        for (size_t i = 0; i < n; i++) {
            uint64_t k = rem_key(rem[i]);
            if ((k & mask) == prefix) count[(k >> shift) & 0xffff]++;
        }
        size_t d = 0xffff;
        while (count[d] < r) r -= count[d--];
        prefix |= (uint64_t)d << shift;
        mask |= (uint64_t)0xffff << shift;
    }
    return prefix;
}

/* Gives one more count to each of the r symbols first in share_cmp's order (0 < r < nsym):
 * those whose remainder beats the r-th largest, then the lowest symbols of those that tie it. */
static int give_largest(uint32_t *freq, const double *rem, size_t nsym, size_t r)
{
    size_t *count = malloc(sizeof *count << 16);
    if (!count) return OCCAM_ERR_RUNTIME;
    uint64_t t = kth_largest(rem, nsym, r, count);
    free(count);
    size_t above = 0;
    for (size_t i = 0; i < nsym; i++)
        if (rem_key(rem[i]) > t) {
            freq[i]++;
            above++;
        }
    for (size_t i = 0, tie = r - above; i < nsym && tie > 0; i++)
        if (rem_key(rem[i]) == t) {
            freq[i]++;
            tie--;
        }
    return OCCAM_OK;
}

/* The rare case where rounding gave out more than rest: take back one count at a time from the
 * smallest remainders, never below 1 (the order of share_cmp, read from its end). */
static int take_back(uint32_t *freq, const double *rem, size_t nsym, int64_t left)
{
    share *sh = malloc(sizeof *sh * nsym);
    if (!sh) return OCCAM_ERR_RUNTIME;
    for (size_t i = 0; i < nsym; i++) sh[i] = (share){rem[i], i};
    qsort(sh, nsym, sizeof *sh, share_cmp);
    for (size_t j = nsym; left < 0;) {
        j = j ? j - 1 : nsym - 1;
        if (freq[sh[j].idx] > 1) {
            freq[sh[j].idx]--;
            left++;
        }
    }
    free(sh);
    return OCCAM_OK;
}

int occam_rc_table_from_probs(occam_rc_table *t, int32_t lo, int32_t hi, const double *p,
                              uint32_t total)
{
    *t = (occam_rc_table){.lo = lo, .hi = hi, .total = total};
    if (hi < lo) return OCCAM_ERR_INPUT;
    uint64_t nsym = (uint64_t)((int64_t)hi - lo) + 1;
    if (nsym > total) return OCCAM_ERR_INPUT;
    double sum = 0;
    for (size_t i = 0; i < nsym; i++) {
        if (!isfinite(p[i]) || p[i] < 0) return OCCAM_ERR_INPUT;
        sum += p[i];
    }
    if (sum > 1 + 1e-6) return OCCAM_ERR_INPUT;

    uint32_t *cum = malloc(sizeof *cum * (nsym + 1));
    double *rem = malloc(sizeof *rem * nsym);
    if (!cum || !rem) {
        free(cum);
        free(rem);
        return OCCAM_ERR_RUNTIME;
    }
    /* Frequencies first go into cum[1..nsym]; the prefix sums come last. Each symbol gets 1
     * plus the floor of its ideal share of the rest; what is left of the rest goes one count
     * each to the largest remainders, lower symbol first on ties (largest remainder). */
    uint64_t rest = total - nsym, given = 0;
    uint32_t *freq = cum + 1;
    for (size_t i = 0; i < nsym; i++) {
        double x = sum > 0 ? (double)rest * (p[i] / sum) : (double)rest / (double)nsym;
        double f = floor(x);
        freq[i] = 1 + (uint32_t)f;
        given += (uint64_t)f;
        rem[i] = x - f;
    }
    /* Normally 0 <= rest - given < nsym; whole rounds and the take-back only guard against
     * rounding in the shares. */
    int64_t left = (int64_t)rest - (int64_t)given;
    int rc = OCCAM_OK;
    if (left >= (int64_t)nsym)
        for (size_t i = 0; i < nsym; i++) freq[i] += (uint32_t)((uint64_t)left / nsym);
    if (left > 0 && (uint64_t)left % nsym)
        rc = give_largest(freq, rem, nsym, (uint64_t)left % nsym);
    else if (left < 0)
        rc = take_back(freq, rem, nsym, left);
    free(rem);
    if (rc != OCCAM_OK) {
        free(cum);
        return rc;
    }
    uint64_t acc = 0;
    cum[0] = 0;
    for (size_t i = 1; i <= nsym; i++) {
        acc += cum[i];
        cum[i] = (uint32_t)acc;
    }
    OCCAM_ASSERT(acc == total);
    t->cum = cum;
    return OCCAM_OK;
}

void occam_rc_table_free(occam_rc_table *t)
{
    if (!t) return;
    free(t->cum);
    t->cum = NULL;
}

int occam_rc_encode_sym(occam_rc_enc *e, const occam_rc_table *t, int32_t v)
{
    if (v < t->lo || v > t->hi) return OCCAM_ERR_INPUT;
    size_t s = (size_t)((int64_t)v - t->lo);
    return occam_rc_encode(e, t->cum[s], t->cum[s + 1] - t->cum[s], t->total);
}

int32_t occam_rc_decode_sym(occam_rc_dec *d, const occam_rc_table *t)
{
    uint32_t target = occam_rc_decode_freq(d, t->total);
    /* Largest s with cum[s] <= target. cum is strictly increasing and cum[nsym] = total. */
    size_t a = 0, b = (size_t)((int64_t)t->hi - t->lo) + 1;
    while (b - a > 1) {
        size_t m = a + (b - a) / 2;
        if (t->cum[m] <= target) a = m;
        else b = m;
    }
    occam_rc_decode_update(d, t->cum[a], t->cum[a + 1] - t->cum[a], t->total);
    return (int32_t)((int64_t)t->lo + (int64_t)a);
}

