/* occam/select.h — exact parallel selection of the k smallest importance scores.
 *
 * Pruning ranks every weight of the network by a score and removes the k smallest. The layers
 * live as separate segments of one flat array, so selection takes a list of segments and works
 * on them in place: no concatenated copy, no full sort. The answer is exact (the true k-th
 * smallest float, compared as floats: -0 == +0) and independent of the thread count, and ties at
 * the threshold are broken by position (segment order, then index), so the selected set is a
 * pure function of the scores and k. NaN scores are refused; ±Inf are ordered as usual.
 *
 * Both calls start their own team of `threads` threads (occam_team_run) and must not be called
 * from inside a parallel region. Scratch is allocated once per call. */
#ifndef OCCAM_SELECT_H
#define OCCAM_SELECT_H

#include <stddef.h>
#include <stdint.h>

#include "occam/error.h"

typedef struct occam_select_result {
    uint64_t k;      /* how many are selected (the k smallest) */
    float value;     /* the k-th smallest score (the threshold; +0 for a zero); 0 if k == 0 */
    uint64_t below;  /* number of scores strictly less than value */
    uint64_t ties;   /* scores equal to value that are selected (k - below), first in position order */
} occam_select_result;

/* seg[i] has len[i] floats (len[i] may be 0); n = Σ len. Selects the k smallest, 0 <= k <= n.
 * Fails with OCCAM_ERR_INPUT when n == 0, k > n or any score is NaN (the message names the first
 * NaN's segment and index); OCCAM_ERR_RUNTIME when scratch cannot be allocated or OpenMP
 * starts a smaller team than `threads`. */
int occam_select(const float *const *seg, const size_t *len, int nseg, uint64_t k, int threads,
                 occam_select_result *out, occam_error *err);

/* mask[i][j] = 0 for the selected elements (every score < r->value, then the first r->ties
 * scores == r->value in position order) and 1 for the rest, for r from occam_select on the same
 * scores. Returns the number of zeros written, which equals r->k when r belongs to these scores
 * (callers check it). Same result for every thread count; never fails (without scratch, or
 * on a short team, it runs serially). */
uint64_t occam_select_mask(uint8_t *const *mask, const float *const *seg, const size_t *len,
                           int nseg, const occam_select_result *r, int threads);

/* round(fraction × n), halves away from zero, computed exactly (no double rounding of the
 * product). fraction must lie in [0, 1]. */
uint64_t occam_select_count(double fraction, uint64_t n);

/* ---- expert interface: tuning knobs and a trace of the path taken (tests, benchmarks) ---- */

/* Zero-initialised fields mean "default". */
typedef struct occam_select_opts {
    uint64_t sample_min_n; /* bracket with a sample when n >= this (default 1 << 16);
                              UINT64_MAX never samples (pure radix passes) */
    uint32_t sample;       /* sample size (default: about n^(2/3), clamped) */
    uint64_t serial_max;   /* candidates finished by one thread (default 16384) */
    uint64_t cap;          /* per-thread candidate buffer, in keys (default: sized for the
                              expected candidates with a wide margin) */
    double margin;         /* bracket half-width in standard deviations of the sample rank
                              (default 5; negative: none, so that tests can force misses) */
} occam_select_opts;

enum {
    OCCAM_SELECT_NO_SAMPLE = 0, /* radix passes from the start */
    OCCAM_SELECT_AT_LO,         /* the k-th is the sample's lower bracket key */
    OCCAM_SELECT_BETWEEN,       /* the k-th is among the gathered candidates */
    OCCAM_SELECT_AT_HI,         /* the k-th is the sample's upper bracket key */
    OCCAM_SELECT_BELOW_LO,      /* missed below: radix passes over the data under lo */
    OCCAM_SELECT_ABOVE_HI,      /* missed above: radix passes over the data above hi */
    OCCAM_SELECT_OVERFLOW,      /* too many candidates for a buffer: passes over the data */
};

typedef struct occam_select_trace {
    int bracket;      /* OCCAM_SELECT_*: how the sample's bracket fared */
    int data_passes;  /* passes over all n scores (the bracket pass included) */
    int buf_passes;   /* radix passes over gathered candidates */
    uint64_t serial;  /* candidates finished by one thread (0: the radix passes resolved it) */
} occam_select_trace;

/* occam_select with tuning (opts may be NULL) and an optional trace. */
int occam_select_ex(const float *const *seg, const size_t *len, int nseg, uint64_t k, int threads,
                    const occam_select_opts *opts, occam_select_result *out,
                    occam_select_trace *trace, occam_error *err);

#endif
