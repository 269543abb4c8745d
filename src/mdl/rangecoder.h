/* rangecoder.h — private to src/mdl: a range coder that turns MDL code lengths into real bytes.
 *
 * The MDL score adds up ideal code lengths, -log2 p per mask bit or quantised weight. This
 * module writes those codes out, so a reported description length can be checked against a
 * real encoding whose size is within a few bits of the ideal.
 *
 * The coder is an arithmetic/range coder after G. N. N. Martin, "Range encoding: an algorithm
 * for removing redundancy from a digitised message" (1979). The interval [low, low + range) is
 * held with a 64-bit low and a 64-bit range. After every symbol, range is renormalised into
 * [2^56, 2^64) by shifting out one byte at a time. Symbol intervals are scaled by
 * r = floor(range / total), so the precision lost per symbol is below total / 2^56 ≤ 2^-24 of
 * the interval, which is negligible. The part of the range that the floor leaves over goes to
 * the last symbol of the table, so no range is wasted.
 *
 * A carry out of low is added straight into the bytes already written (walking back over any
 * 0xFF bytes). Because the whole output stays in memory, this needs neither Subbotin's
 * carryless trick nor a cache/pending-byte counter.
 *
 * Totals. Any total in [1, OCCAM_RC_TOTAL_MAX = 2^32 - 1] is exact, and it can change from one
 * symbol to the next. A table can therefore give a rare bin a frequency of 1 out of 2^32, which
 * is a probability of about 2.3e-10.
 *
 * Stream framing. The encoder always ends with exactly one flush byte. The decoder starts by
 * loading 8 bytes and reads 1 byte per renormalising shift. Past the end of the buffer it reads
 * zeros, which is safe. For a valid stream whose symbols have all been decoded, the decoder has
 * consumed exactly len + 7 bytes (this is the flush slack). Consuming more is reported by
 * occam_rc_dec_overrun(). So a stream cut short by even one byte is detected once all of its
 * symbols have been decoded. Decoding garbage never reads outside the buffer and always returns
 * in-range symbols. Almost every byte string decodes as some symbol sequence, so the byte
 * count, via overrun, is the real check that a stream is garbage or truncated.
 *
 * Failure conventions. Functions that return int return OCCAM_OK, OCCAM_ERR_RUNTIME (out of
 * memory; sticky in the encoder, so every later call returns it too), or OCCAM_ERR_INPUT (bad
 * caller data, such as a symbol outside its table or a mask whose count of ones is not k). An
 * input error leaves the stream unchanged. An empty interval, or a probability of exactly 0 or
 * 1, is a programmer bug and hits OCCAM_ASSERT. */
#ifndef OCCAM_RANGECODER_H
#define OCCAM_RANGECODER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest total accepted by every coding call. */
#define OCCAM_RC_TOTAL_MAX UINT32_MAX

/* ---- encoder ---------------------------------------------------------------------------- */

/* After occam_rc_enc_finish, buf[0..len) is the encoded stream. buf is owned by the encoder
 * and released by occam_rc_enc_free. The other fields are private. */
typedef struct occam_rc_enc {
    uint8_t *buf;
    size_t len;
    size_t cap;
    uint64_t low;
    uint64_t range;
    int status;    /* first failure, sticky */
    bool finished;
} occam_rc_enc;

/* Empty encoder. Nothing is allocated until the first byte is written, so this cannot fail. */
void occam_rc_enc_init(occam_rc_enc *e);
/* Codes the symbol interval [cum_lo, cum_lo + freq) of [0, total). Needs freq >= 1,
 * cum_lo + freq <= total and total <= OCCAM_RC_TOTAL_MAX (asserted). Costs
 * log2(total / freq) bits, within 2^-24 relative. The last symbol (cum_lo + freq == total)
 * takes the rounding leftover, so it can cost slightly less. Returns OCCAM_ERR_RUNTIME if out
 * of memory. */
int occam_rc_encode(occam_rc_enc *e, uint32_t cum_lo, uint32_t freq, uint32_t total);
/* Codes one bit, where p1 is the frequency of a 1 out of total. Needs 0 < p1 < total
 * (asserted). If the exact probability would be 0 or 1, the bit carries no information, and
 * the caller must not code it at all (the decoder knows it already). 0 takes [0, total - p1)
 * and 1 takes [total - p1, total). */
int occam_rc_encode_bit(occam_rc_enc *e, int bit, uint32_t p1, uint32_t total);
/* Writes the single flush byte. After this, buf/len hold the stream, and only
 * occam_rc_enc_free may follow. Returns the sticky status. */
int occam_rc_enc_finish(occam_rc_enc *e);
/* Frees the buffer. Accepts NULL. The encoder may be re-initialised afterwards. */
void occam_rc_enc_free(occam_rc_enc *e);

/* ---- decoder ---------------------------------------------------------------------------- */

/* Reads buf[0..len) without owning it. Fields are private. Use the predicates below. */
typedef struct occam_rc_dec {
    const uint8_t *buf;
    size_t len;
    size_t pos;     /* bytes consumed, counting the zeros fed past the end */
    uint64_t code;  /* stream value minus low, always < range */
    uint64_t range;
    uint64_t r;     /* range / total from the last occam_rc_decode_freq */
    uint32_t total; /* total of the pending decode_freq, 0 if none */
    bool corrupt;
} occam_rc_dec;

void occam_rc_dec_init(occam_rc_dec *d, const uint8_t *buf, size_t len);
/* First half of decoding a symbol. Returns the target t in [0, total). The caller finds the
 * symbol whose interval [cum_lo, cum_lo + freq) contains t, then calls
 * occam_rc_decode_update with that interval and the same total. */
uint32_t occam_rc_decode_freq(occam_rc_dec *d, uint32_t total);
void occam_rc_decode_update(occam_rc_dec *d, uint32_t cum_lo, uint32_t freq, uint32_t total);
/* Decodes a bit coded by occam_rc_encode_bit with the same p1 and total (0 < p1 < total). */
int occam_rc_decode_bit(occam_rc_dec *d, uint32_t p1, uint32_t total);
/* True if more bytes were consumed than the stream plus the 7-byte flush slack. Once true, it
 * stays true, and the symbols decoded are not those of a complete valid stream. */
bool occam_rc_dec_overrun(const occam_rc_dec *d);
/* True if the decoder state left the coding interval. That happens when decode_update gets an
 * interval that does not hold the target from decode_freq, or when the stream starts with
 * 8 bytes of 0xFF, which no encoder writes. The state is clamped and decoding stays safe. */
bool occam_rc_dec_corrupt(const occam_rc_dec *d);

/* ---- enumerative mask code ---------------------------------------------------------------
 * An n-bit mask with exactly k ones is coded bit by bit. Bit i is 1 with probability
 * k_left / n_left (the ones, and the bits, not yet coded). Coding stops as soon as that
 * probability is 0 or 1, because the rest of the mask is then determined. The product of the
 * probabilities is k!(n-k)!/n! = 1/C(n,k), so the ideal length is exactly log2 C(n,k) bits
 * (T. Cover, "Enumerative source encoding", 1973). While n_left <= max_total, the frequencies
 * k_left / n_left are coded exactly, so the real size is log2 C(n,k) plus the flush and a
 * few bits of rounding. Above max_total, P(1) is rounded to the nearest p / max_total, clamped
 * to [1, max_total - 1]. The plain functions use max_total = OCCAM_RC_TOTAL_MAX. The _ex forms
 * exist to measure what a coarser quantisation would cost. Mask bytes are read as 0 or
 * non-zero, and decoded masks are written as 0/1. */
/* Returns OCCAM_ERR_INPUT if k > n or the mask does not have exactly k ones (the stream is
 * left unchanged), and OCCAM_ERR_RUNTIME if out of memory. */
int occam_rc_encode_mask(occam_rc_enc *e, const uint8_t *mask, size_t n, size_t k);
int occam_rc_encode_mask_ex(occam_rc_enc *e, const uint8_t *mask, size_t n, size_t k,
                            uint32_t max_total);
/* Writes mask[0..n), which always has exactly k ones. Returns OCCAM_ERR_INPUT if k > n (and
 * then writes nothing). Check occam_rc_dec_overrun once the stream is fully decoded. */
int occam_rc_decode_mask(occam_rc_dec *d, uint8_t *mask, size_t n, size_t k);
int occam_rc_decode_mask_ex(occam_rc_dec *d, uint8_t *mask, size_t n, size_t k,
                            uint32_t max_total);

/* ---- integer symbols from a frequency table ---------------------------------------------- */

/* Symbol v in [lo, hi] has interval [cum[v - lo], cum[v - lo + 1]). cum has hi - lo + 2
 * entries, is strictly increasing, and runs from cum[0] = 0 to cum[hi - lo + 1] = total. */
typedef struct occam_rc_table {
    int32_t lo, hi;
    uint32_t *cum;
    uint32_t total;
} occam_rc_table;

/* Builds a table for the probabilities p[0..hi-lo] (each finite and >= 0, sum <= 1 + 1e-6).
 * Every symbol gets frequency 1, so that any value in range can be coded. The remaining
 * total - (hi - lo + 1) is shared in proportion to p, using largest-remainder rounding with
 * ties going to the lower symbol. This is deterministic for the same inputs. If all p are
 * zero, the share is uniform. Needs hi >= lo and hi - lo + 1 <= total. Returns
 * OCCAM_ERR_INPUT on bad arguments and OCCAM_ERR_RUNTIME if out of memory. On failure,
 * t->cum is NULL. */
int occam_rc_table_from_probs(occam_rc_table *t, int32_t lo, int32_t hi, const double *p,
                              uint32_t total);
/* Returns OCCAM_ERR_INPUT if v is outside [lo, hi] (the stream is left unchanged), and
 * OCCAM_ERR_RUNTIME if out of memory. */
int occam_rc_encode_sym(occam_rc_enc *e, const occam_rc_table *t, int32_t v);
/* Always returns a value in [lo, hi], even on garbage input. */
int32_t occam_rc_decode_sym(occam_rc_dec *d, const occam_rc_table *t);
/* Frees cum. Accepts NULL, and a table whose build failed. */
void occam_rc_table_free(occam_rc_table *t);

#endif
