/* Exact parallel selection of the k smallest scores across segments, in place.
 *
 * Keys. A float's bits become an unsigned key with the same order (occam/floatkey.h); NaN
 * keys fall outside [key(-Inf), key(+Inf)] and are refused.
 *
 * Work split. The segments are treated as one concatenated index space [0, n) that is cut into
 * one contiguous range per thread (occam_team_split_aligned), so "thread order" is position
 * order. Each thread walks the pieces of the segments that its range covers; nothing is copied.
 *
 * Algorithm: one team per call (occam_team_run), barriers between phases.
 *  1. Bracket (n >= sample_min_n, default 2^16). A stratified sample of about n^(2/3) keys
 *     (clusters of 64 consecutive scores, so it costs a few thousand random cache lines) gives
 *     two order statistics lo <= hi, five standard deviations either side of rank k·s/n. One
 *     pass over the data, AVX-512 where available and memory-bound, counts keys < lo, <= lo and
 *     <= hi and compresses the keys strictly between into per-thread buffers (about 1% of n at
 *     n = 10^8). If the k-th is lo, hi or a candidate, the data is never read again; ties at lo
 *     or hi (say, thousands of already-pruned zeros) are counted, never gathered. A miss or an
 *     overflowing buffer still says which interval holds the k-th.
 *  2. Radix passes over an interval of keys: the digit is the offset from the interval's low
 *     end, shifted so that at most 2048 buckets cover it. Each thread histograms its own part
 *     into a private, cache-line-aligned histogram; after a barrier every thread sums the
 *     histograms in thread order (integer adds, identical everywhere) and picks the bucket
 *     holding the k-th. Passes over the data gather the surviving keys into the buffers as soon
 *     as each thread's share fits; passes over buffers compact them in place. Histograms are
 *     double-buffered, so one barrier per pass suffices.
 *  3. Finish. Once at most serial_max candidates remain, thread 0 collects them and finishes
 *     with a serial radix select.
 * The result is the exact k-th key, so it does not depend on the thread count or the sample;
 * the sample only decides how fast we get there. occam_select_mask breaks ties by position:
 * per-thread tie counts, an exclusive prefix over threads in order, a quota per thread. */
#include "occam/select.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "occam/floatkey.h"
#include "occam/mem.h"
#include "occam/rng.h"
#include "occam/team.h"

#define DIGIT_BITS 11
#define NBUCKET (1u << DIGIT_BITS)
#define SPLIT_ALIGN 16        /* a cache line of floats */
#define SAMPLE_CHUNK 256      /* sample clusters per RNG stream */
#define SAMPLE_CLUSTER 64     /* consecutive scores per sample cluster: 4 cache lines */
#define SAMPLE_SEED 0x5e1ec7u
#define DEFAULT_MARGIN 5.0    /* bracket half-width in standard deviations of the sample rank */
#define DEFAULT_SAMPLE_MIN_N (1u << 16)
#define DEFAULT_SERIAL_MAX 16384u

#define KEY_NEG_INF 0x007FFFFFu
#define KEY_POS_INF 0xFF800000u

static inline uint32_t key_is_nan(uint32_t key)
{
    return key - KEY_NEG_INF > KEY_POS_INF - KEY_NEG_INF;
}

/* ---- serial pieces ------------------------------------------------------------------- */

/* The rank-th smallest (1-based) of a[0..m); *below gets how many of the m are strictly
 * smaller. MSD radix with up to 11-bit digits that start at the highest bit in which the
 * remaining keys differ (their min and max tell), so clustered keys lose no pass to shared
 * leading bits. Destroys a (buckets are compacted in place). */
static uint32_t small_select(uint32_t *a, size_t m, uint64_t rank, uint64_t *below)
{
    OCCAM_ASSERT(rank >= 1 && rank <= m);
    uint64_t under = 0;
    uint32_t mn = UINT32_MAX, mx = 0;
    for (size_t i = 0; i < m; i++) {
        mn = a[i] < mn ? a[i] : mn;
        mx = a[i] > mx ? a[i] : mx;
    }
    while (m > 32 && mn != mx) {
        unsigned top = 31u - (unsigned)__builtin_clz(mn ^ mx); /* highest differing bit */
        unsigned width = top + 1 < DIGIT_BITS ? top + 1 : DIGIT_BITS, shift = top + 1 - width;
        uint32_t dmask = (1u << width) - 1;
        size_t cnt[NBUCKET];
        memset(cnt, 0, sizeof *cnt << width);
        for (size_t i = 0; i < m; i++) cnt[(a[i] >> shift) & dmask]++;
        uint32_t b = 0;
        for (; rank > cnt[b]; b++) {
            rank -= cnt[b];
            under += cnt[b];
        }
        size_t w = 0;
        for (size_t i = 0; i < m; i++) {
            uint32_t key = a[i];
            a[w] = key;
            w += ((key >> shift) & dmask) == b;
        }
        m = w;
        mn = UINT32_MAX;
        mx = 0;
        for (size_t i = 0; i < m; i++) {
            mn = a[i] < mn ? a[i] : mn;
            mx = a[i] > mx ? a[i] : mx;
        }
    }
    if (mn == mx) { /* all remaining keys are equal */
        if (below) *below = under;
        return mn;
    }
    for (size_t i = 1; i < m; i++) {
        uint32_t key = a[i];
        size_t j = i;
        for (; j > 0 && a[j - 1] > key; j--) a[j] = a[j - 1];
        a[j] = key;
    }
    uint32_t v = a[rank - 1];
    for (size_t i = 0; i < m && a[i] < v; i++) under++;
    if (below) *below = under;
    return v;
}

/* The segment holding global position g < off[nseg]: the largest s with off[s] <= g. */
static int seg_of(const uint64_t *off, int nseg, uint64_t g)
{
    int lo = 0, hi = nseg;
    while (hi - lo > 1) {
        int mid = lo + (hi - lo) / 2;
        if (off[mid] <= g) lo = mid;
        else hi = mid;
    }
    return lo;
}

/* Runs the statement that follows once per piece of the global range [g0, g1): segment s,
 * local indices [i0, i1) (empty pieces of empty segments included). */
#define FOR_PIECES(off, nseg, g0, g1, s, i0, i1)                                              \
    for (int s = (g0) < (g1) ? seg_of(off, nseg, g0) : (nseg); s < (nseg) && off[s] < (g1); s++) \
        for (size_t i0 = (size_t)((g0) > off[s] ? (g0)-off[s] : 0),                            \
                    i1 = (size_t)(((g1) < off[s + 1] ? (g1) : off[s + 1]) - off[s]),           \
                    once_ = 1;                                                                 \
             once_; once_ = 0)

/* ---- kernels ------------------------------------------------------------------------- */

typedef struct bracket_acc {
    uint64_t lt_lo, le_lo, le_hi, between;
    uint32_t nan;
} bracket_acc;

/* x is (m). Counts keys < lo, <= lo, <= hi and NaNs; appends keys in (lo, hi) to buf while
 * fewer than cap are stored, counting all of them (buf has cap + 16 slots: the vector version
 * stores 16 lanes at a time). This pass reads all n scores, so it must run at memory speed:
 * counts stay in vector lanes and candidates, about 1 in 100, are compressed out without a
 * branch. */
#if defined(__AVX512F__)
static void bracket_piece(const float *restrict x, size_t m, uint32_t lo, uint32_t hi,
                          uint32_t *restrict buf, uint64_t cap, bracket_acc *a)
{
    const uint32_t base = lo + 1, width = hi > lo ? hi - lo - 1 : 0; /* (lo, hi) = base + [0, width) */
    const __m512i sign = _mm512_set1_epi32(INT32_MIN), zero = _mm512_setzero_si512();
    const __m512i one = _mm512_set1_epi32(1);
    const __m512i vlo = _mm512_set1_epi32((int32_t)lo), vhi = _mm512_set1_epi32((int32_t)hi);
    const __m512i vbase = _mm512_set1_epi32((int32_t)base), vwidth = _mm512_set1_epi32((int32_t)width);
    const __m512i vninf = _mm512_set1_epi32((int32_t)KEY_NEG_INF);
    const __m512i vrange = _mm512_set1_epi32((int32_t)(KEY_POS_INF - KEY_NEG_INF));
    uint64_t lt_lo = 0, le_lo = 0, le_hi = 0, nb = a->between;
    __mmask16 nanm = 0;
    size_t i = 0;
    while (m - i >= 16) {
        /* 32-bit lane counters, emptied at least every 2^24 vectors */
        size_t vecs = (m - i) / 16 < ((size_t)1 << 24) ? (m - i) / 16 : ((size_t)1 << 24);
        size_t end = i + 16 * vecs;
        __m512i c0 = zero, c1 = zero, c3 = zero;
        for (; i < end; i += 16) {
            __m512i u = _mm512_loadu_si512(x + i);
            u = _mm512_mask_mov_epi32(u, _mm512_cmpeq_epi32_mask(u, sign), zero); /* -0 -> +0 */
            __m512i key = _mm512_xor_si512(u, _mm512_or_si512(_mm512_srai_epi32(u, 31), sign));
            c0 = _mm512_mask_add_epi32(c0, _mm512_cmplt_epu32_mask(key, vlo), c0, one);
            c1 = _mm512_mask_add_epi32(c1, _mm512_cmple_epu32_mask(key, vlo), c1, one);
            c3 = _mm512_mask_add_epi32(c3, _mm512_cmple_epu32_mask(key, vhi), c3, one);
            nanm |= _mm512_cmpgt_epu32_mask(_mm512_sub_epi32(key, vninf), vrange);
            __mmask16 in = _mm512_cmplt_epu32_mask(_mm512_sub_epi32(key, vbase), vwidth);
            _mm512_storeu_si512(buf + (nb < cap ? nb : cap), _mm512_maskz_compress_epi32(in, key));
            nb += (unsigned)__builtin_popcount(in);
        }
        lt_lo += (uint32_t)_mm512_reduce_add_epi32(c0);
        le_lo += (uint32_t)_mm512_reduce_add_epi32(c1);
        le_hi += (uint32_t)_mm512_reduce_add_epi32(c3);
    }
    uint32_t nan = nanm != 0;
    for (; i < m; i++) {
        uint32_t key = occam_float_key(x[i]);
        lt_lo += key < lo;
        le_lo += key <= lo;
        le_hi += key <= hi;
        nan |= key_is_nan(key);
        buf[nb < cap ? nb : cap] = key;
        nb += key - base < width;
    }
    a->lt_lo += lt_lo;
    a->le_lo += le_lo;
    a->le_hi += le_hi;
    a->between = nb;
    a->nan |= nan;
}
#else
/* Portable version: a vectorisable pass over CHUNK scores counts and writes one flag byte per
 * score; the flags are then scanned 8 at a time for the rare candidates. */
#define CHUNK 1024
static void bracket_piece(const float *restrict x, size_t m, uint32_t lo, uint32_t hi,
                          uint32_t *restrict buf, uint64_t cap, bracket_acc *a)
{
    const uint32_t base = lo + 1, width = hi > lo ? hi - lo - 1 : 0; /* (lo, hi) = base + [0, width) */
    uint64_t lt_lo = 0, le_lo = 0, le_hi = 0, nb = a->between;
    uint32_t nan = 0;
    _Alignas(OCCAM_ALIGN) uint8_t f[CHUNK];
    for (size_t i = 0; i < m; i += CHUNK) {
        size_t len = m - i < CHUNK ? m - i : CHUNK;
        const float *restrict y = x + i;
        uint32_t c0 = 0, c1 = 0, c3 = 0, bad = 0;
        if (len < CHUNK) memset(f, 0, sizeof f);
        for (size_t j = 0; j < len; j++) {
            uint32_t key = occam_float_key(y[j]);
            c0 += key < lo;
            c1 += key <= lo;
            c3 += key <= hi;
            bad |= key_is_nan(key);
            f[j] = key - base < width;
        }
        lt_lo += c0;
        le_lo += c1;
        le_hi += c3;
        nan |= bad;
        for (size_t w = 0; w < CHUNK; w += 8) {
            uint64_t word;
            memcpy(&word, f + w, 8);
            for (; word; word &= word - 1) {
                size_t j = w + ((unsigned)__builtin_ctzll(word) >> 3);
                buf[nb < cap ? nb : cap] = occam_float_key(y[j]);
                nb++;
            }
        }
    }
    a->lt_lo += lt_lo;
    a->le_lo += le_lo;
    a->le_hi += le_hi;
    a->between = nb;
    a->nan |= nan;
}
#endif

/* The radix passes narrow an interval of keys [ilo, ilo + range]. Its digit is the offset
 * from ilo shifted right so that at most NBUCKET buckets cover the interval: every bucket is
 * used however narrow the interval (a prefix digit would waste most of them on the candidates
 * of a bracket, which sit between two arbitrary keys). */

/* x is (m). Histogram of (key - ilo) >> shift over keys in [ilo, ilo + range]. */
static void hist_data(const float *restrict x, size_t m, uint32_t ilo, uint32_t range,
                      unsigned shift, uint64_t *restrict hist)
{
    for (size_t i = 0; i < m; i++) {
        uint32_t d = occam_float_key(x[i]) - ilo;
        if (d <= range) hist[d >> shift]++;
    }
}

/* As hist_data, also appending the keys in the interval to out; returns how many. */
static size_t gather_data(uint32_t *restrict out, const float *restrict x, size_t m,
                          uint32_t ilo, uint32_t range, unsigned shift, uint64_t *restrict hist)
{
    size_t w = 0;
    for (size_t i = 0; i < m; i++) {
        uint32_t key = occam_float_key(x[i]), d = key - ilo;
        if (d <= range) {
            hist[d >> shift]++;
            out[w++] = key;
        }
    }
    return w;
}

/* buf is (m). Keeps the keys in the interval (in place, in order) and histograms them. */
static size_t pass_buf(uint32_t *restrict buf, size_t m, uint32_t ilo, uint32_t range,
                       unsigned shift, uint64_t *restrict hist)
{
    size_t w = 0;
    for (size_t i = 0; i < m; i++) {
        uint32_t key = buf[i], d = key - ilo, in = d <= range;
        hist[in ? d >> shift : 0] += in;
        buf[w] = key;
        w += in;
    }
    return w;
}

/* buf is (m). Keeps the keys in the interval, in place; returns how many. */
static size_t filter_buf(uint32_t *restrict buf, size_t m, uint32_t ilo, uint32_t range)
{
    size_t w = 0;
    for (size_t i = 0; i < m; i++) {
        uint32_t key = buf[i];
        buf[w] = key;
        w += key - ilo <= range;
    }
    return w;
}

/* ---- the parallel selection ---------------------------------------------------------- */

typedef struct sel_slot {
    _Alignas(OCCAM_ALIGN) bracket_acc br; /* bracket pass */
    uint64_t bm;                          /* keys in this thread's buffer */
    uint64_t nanpos;                      /* first NaN in this thread's range, or UINT64_MAX */
} sel_slot;

typedef struct sel_ctx {
    const float *const *seg;
    int nseg;
    const uint64_t *off; /* off[s] = global position of seg[s][0]; off[nseg] = n */
    uint64_t n, k;
    /* bracket: sample size, sample ranks (0-based) of lo and hi, each possibly open */
    uint32_t s, cl, rlo, rhi; /* cl: cluster length */
    int lo_open, hi_open;
    uint32_t *samp, *samp2;
    uint32_t lo, hi;
    /* scratch */
    sel_slot *slot;
    uint64_t *hist; /* [2][threads][NBUCKET] */
    uint32_t *buf;  /* [threads][stride] */
    size_t stride;
    uint64_t cap, serial_max;
    uint32_t *fin; /* [serial_max] */
    /* result, written by thread 0 */
    int nan;
    uint64_t nanpos;
    uint32_t vkey;
    uint64_t below;
    occam_select_trace trace;
} sel_ctx;

static void split(const sel_ctx *c, int t, int nt, uint64_t *g0, uint64_t *g1)
{
    size_t lo, hi;
    occam_team_split_aligned((size_t)c->n, SPLIT_ALIGN, t, nt, &lo, &hi);
    *g0 = lo;
    *g1 = hi;
}

static uint64_t first_nan(const sel_ctx *c, uint64_t g0, uint64_t g1)
{
    FOR_PIECES(c->off, c->nseg, g0, g1, s, i0, i1)
    {
        const float *x = c->seg[s];
        for (size_t i = i0; i < i1; i++)
            if (key_is_nan(occam_float_key(x[i]))) return c->off[s] + i;
    }
    return UINT64_MAX;
}

/* Every thread: find the first NaN (all threads must call it, it has a barrier). */
static void nan_report(sel_ctx *c, int t, int nt, uint64_t g0, uint64_t g1)
{
    c->slot[t].nanpos = first_nan(c, g0, g1);
#pragma omp barrier
    if (t == 0) {
        uint64_t p = UINT64_MAX;
        for (int u = 0; u < nt; u++)
            if (c->slot[u].nanpos < p) p = c->slot[u].nanpos;
        c->nan = p != UINT64_MAX;
        c->nanpos = p;
    }
}

/* c->s / c->cl clusters of cl consecutive scores, cluster j at a random place in stratum j
 * (the j-th of s / cl equal parts of [0, n)). Whole cache lines, so the sample costs a random
 * line per cl keys rather than per key. Each run of SAMPLE_CHUNK clusters has its own RNG
 * stream: the same sample for every thread count. */
static void sample_draw(sel_ctx *c, int t, int nt)
{
    const uint32_t cl = c->cl, ncl = c->s / cl;
    const uint64_t q = c->n / ncl, r = c->n % ncl;
    const uint32_t nch = (ncl + SAMPLE_CHUNK - 1) / SAMPLE_CHUNK;
    for (uint32_t ch = (uint32_t)t; ch < nch; ch += (uint32_t)nt) {
        occam_rng rng = occam_rng_seed(SAMPLE_SEED, ch);
        uint32_t j1 = (uint64_t)(ch + 1) * SAMPLE_CHUNK < ncl ? (ch + 1) * SAMPLE_CHUNK : ncl;
        for (uint32_t j = ch * SAMPLE_CHUNK; j < j1; j++) {
            /* r·j < 2^64 because r, j < 2^32 */
            uint64_t a = q * j + r * j / ncl, b = q * (j + 1) + r * (j + 1) / ncl;
            uint64_t g = a + occam_rng_below(&rng, b - a);
            if (g > c->n - cl) g = c->n - cl;
            int s = seg_of(c->off, c->nseg, g);
            uint32_t *out = c->samp + (size_t)j * cl, *out2 = c->samp2 + (size_t)j * cl;
            for (uint32_t i = 0; i < cl; i++, g++) {
                while (g >= c->off[s + 1]) s++;
                out[i] = out2[i] = occam_float_key(c->seg[s][g - c->off[s]]);
            }
        }
    }
}

static void sel_thread(void *ctx, int t, int nt)
{
    sel_ctx *c = ctx;
    uint64_t g0, g1, maxrange = 0;
    split(c, t, nt, &g0, &g1);
    for (int u = 0; u < nt; u++) {
        uint64_t a, b;
        split(c, u, nt, &a, &b);
        if (b - a > maxrange) maxrange = b - a;
    }
    sel_slot *me = &c->slot[t];
    uint32_t *buf = c->buf + (size_t)t * c->stride;
    me->bm = 0;

    if (c->k == 0) { /* nothing to select, but NaN is still an error */
        nan_report(c, t, nt, g0, g1);
        if (t == 0) c->trace.data_passes = 1;
        return;
    }

    /* Radix state: the k-th is the kk-th smallest of the `total` keys in [ilo, ihi]; `below`
     * keys lie under ilo. */
    int src_buf = 0, nan_pending = 1;
    uint32_t ilo = 0, ihi = UINT32_MAX;
    uint64_t kk = c->k, below = 0, total = c->n;

    if (c->s) {
        sample_draw(c, t, nt);
#pragma omp barrier
        int hi_thread = nt > 1 ? 1 : 0;
        /* small_select destroys its input: each bracket has its own copy of the sample. */
        if (t == hi_thread && !c->hi_open)
            c->hi = small_select(c->samp2, c->s, (uint64_t)c->rhi + 1, NULL);
        if (t == 0 && !c->lo_open) c->lo = small_select(c->samp, c->s, (uint64_t)c->rlo + 1, NULL);
        if (t == 0 && c->lo_open) c->lo = 0;
        if (t == hi_thread && c->hi_open) c->hi = UINT32_MAX;
#pragma omp barrier
        const uint32_t lo = c->lo, hi = c->hi;
        bracket_acc acc = {0};
        FOR_PIECES(c->off, c->nseg, g0, g1, s, i0, i1)
        bracket_piece(c->seg[s] + i0, i1 - i0, lo, hi, buf, c->cap, &acc);
        me->br = acc;
        me->bm = acc.between < c->cap ? acc.between : c->cap;
#pragma omp barrier
        bracket_acc sum = {0};
        int over = 0;
        for (int u = 0; u < nt; u++) {
            const bracket_acc *b = &c->slot[u].br;
            sum.lt_lo += b->lt_lo;
            sum.le_lo += b->le_lo;
            sum.le_hi += b->le_hi;
            sum.between += b->between;
            sum.nan |= b->nan;
            over |= b->between > c->cap;
        }
        if (t == 0) c->trace.data_passes = 1;
        if (sum.nan) {
            nan_report(c, t, nt, g0, g1);
            return;
        }
        nan_pending = 0;
        const uint64_t k = c->k;
        int outcome;
        if (k <= sum.lt_lo) outcome = OCCAM_SELECT_BELOW_LO;
        else if (k <= sum.le_lo) outcome = OCCAM_SELECT_AT_LO;
        else if (k <= sum.le_lo + sum.between) outcome = over ? OCCAM_SELECT_OVERFLOW : OCCAM_SELECT_BETWEEN;
        else if (k <= sum.le_hi) outcome = OCCAM_SELECT_AT_HI;
        else outcome = OCCAM_SELECT_ABOVE_HI;
        if (t == 0) c->trace.bracket = outcome;
        if (outcome == OCCAM_SELECT_AT_LO || outcome == OCCAM_SELECT_AT_HI) {
            if (t == 0) {
                c->vkey = outcome == OCCAM_SELECT_AT_LO ? lo : hi;
                c->below = outcome == OCCAM_SELECT_AT_LO ? sum.lt_lo : sum.le_lo + sum.between;
            }
            return;
        }
        /* A miss still tells which interval holds the k-th: the radix passes start there. */
        if (outcome == OCCAM_SELECT_BELOW_LO) { /* so lo > 0 */
            ihi = lo - 1;
            total = sum.lt_lo;
        } else if (outcome == OCCAM_SELECT_ABOVE_HI) { /* so hi < UINT32_MAX */
            ilo = hi + 1;
            kk = k - sum.le_hi;
            below = sum.le_hi;
            total = c->n - sum.le_hi;
        } else { /* between lo and hi: from the buffers, or from the data if they overflowed */
            src_buf = outcome == OCCAM_SELECT_BETWEEN;
            ilo = lo + 1;
            ihi = hi - 1;
            kk = k - sum.le_lo;
            below = sum.le_lo;
            total = sum.between;
        }
    }

    int gather = maxrange <= c->cap, pass = 0;
    while (ilo != ihi && !(src_buf && total <= c->serial_max)) {
        const uint32_t range = ihi - ilo;
        const unsigned bits = 32u - (unsigned)__builtin_clz(range);
        const unsigned shift = bits > DIGIT_BITS ? bits - DIGIT_BITS : 0;
        const uint32_t nbuck = (range >> shift) + 1;
        uint64_t *hset = c->hist + (size_t)(pass & 1) * (size_t)nt * NBUCKET;
        uint64_t *h = hset + (size_t)t * NBUCKET;
        memset(h, 0, sizeof *h * nbuck);
        if (src_buf) {
            me->bm = pass_buf(buf, me->bm, ilo, range, shift, h);
        } else if (gather) {
            size_t w = 0;
            FOR_PIECES(c->off, c->nseg, g0, g1, s, i0, i1)
            w += gather_data(buf + w, c->seg[s] + i0, i1 - i0, ilo, range, shift, h);
            me->bm = w;
        } else {
            FOR_PIECES(c->off, c->nseg, g0, g1, s, i0, i1)
            hist_data(c->seg[s] + i0, i1 - i0, ilo, range, shift, h);
        }
#pragma omp barrier
        /* Every thread sums the histograms in thread order and reaches the same bucket. */
        uint64_t cum = 0, tot = 0, maxper = 0;
        uint32_t b = 0;
        for (;; b++) {
            OCCAM_ASSERT(b < nbuck);
            tot = maxper = 0;
            for (int u = 0; u < nt; u++) {
                uint64_t v = hset[(size_t)u * NBUCKET + b];
                tot += v;
                if (v > maxper) maxper = v;
            }
            if (cum + tot >= kk) break;
            cum += tot;
        }
        if (nan_pending) {
            /* First pass over the data covers all keys, 2^21 per bucket: NaN keys can only sit
             * in the buckets of -Inf (0..3) and +Inf (2044..2047); look closer only if those
             * are occupied. */
            OCCAM_ASSERT(ilo == 0 && shift == 21);
            nan_pending = 0;
            uint64_t edge = 0;
            for (int u = 0; u < nt; u++)
                for (uint32_t e = 0; e < 4; e++)
                    edge += hset[(size_t)u * NBUCKET + e] + hset[(size_t)u * NBUCKET + NBUCKET - 1 - e];
            if (edge) {
                nan_report(c, t, nt, g0, g1);
#pragma omp barrier
                if (c->nan) return;
            }
        }
        if (t == 0) {
            if (src_buf) c->trace.buf_passes++;
            else c->trace.data_passes++;
        }
        kk -= cum;
        below += cum;
        uint64_t nlo = (uint64_t)ilo + ((uint64_t)b << shift);
        uint64_t nhi = nlo + ((uint64_t)1 << shift) - 1;
        ilo = (uint32_t)nlo;
        ihi = nhi < ihi ? (uint32_t)nhi : ihi;
        total = tot;
        if (!src_buf) {
            if (gather) src_buf = 1;
            else gather = maxper <= c->cap;
        }
        pass++;
    }
    if (ilo == ihi) {
        if (t == 0) {
            c->vkey = ilo;
            c->below = below;
        }
        return;
    }
    /* Serial finish: each thread drops its keys outside the interval, then thread 0 gathers
     * the survivors (at most serial_max) and selects among them. */
    me->bm = filter_buf(buf, me->bm, ilo, ihi - ilo);
#pragma omp barrier
    if (t != 0) return;
    size_t m = 0;
    for (int u = 0; u < nt; u++) m += c->slot[u].bm;
    OCCAM_ASSERT(m == total && m <= c->serial_max);
    m = 0;
    for (int u = 0; u < nt; u++) {
        memcpy(c->fin + m, c->buf + (size_t)u * c->stride, sizeof *c->fin * c->slot[u].bm);
        m += c->slot[u].bm;
    }
    uint64_t under;
    c->vkey = small_select(c->fin, m, kk, &under);
    c->below = below + under;
    c->trace.serial = m;
}

int occam_select_ex(const float *const *seg, const size_t *len, int nseg, uint64_t k, int threads,
                    const occam_select_opts *opts, occam_select_result *out,
                    occam_select_trace *trace, occam_error *err)
{
    OCCAM_ASSERT(nseg >= 0 && threads >= 1 && out);
    OCCAM_ASSERT(!occam_team_in_parallel());
    occam_select_opts o = opts ? *opts : (occam_select_opts){0};
    uint64_t n = 0;
    for (int s = 0; s < nseg; s++) {
        OCCAM_ASSERT(len[s] == 0 || seg[s]);
        n += len[s];
    }
    if (trace) *trace = (occam_select_trace){0};
    if (n == 0) return occam_error_set(err, OCCAM_ERR_INPUT, "select: empty input (no scores)");
    if (k > n)
        return occam_error_set(err, OCCAM_ERR_INPUT, "select: k = %llu exceeds the %llu scores",
                               (unsigned long long)k, (unsigned long long)n);

    sel_ctx c = {.seg = seg, .nseg = nseg, .n = n, .k = k};
    size_t per_lo, per_hi; /* thread 0's range is the longest */
    occam_team_split_aligned((size_t)n, SPLIT_ALIGN, 0, threads, &per_lo, &per_hi);
    uint64_t per = per_hi - per_lo;
    uint64_t sample_min_n = o.sample_min_n ? o.sample_min_n : DEFAULT_SAMPLE_MIN_N;
    uint64_t cap;
    if (k > 0 && n >= sample_min_n) {
        /* s ≈ n^(2/3) balances drawing the sample against finishing the candidates. */
        double s = o.sample ? (double)o.sample : cbrt((double)n * (double)n);
        if (s < 4096 && !o.sample) s = 4096;
        if (s > (1u << 18) && !o.sample) s = 1u << 18;
        if (s > (double)n) s = (double)n;
        c.cl = s >= SAMPLE_CLUSTER * 64 ? SAMPLE_CLUSTER : 1;
        c.s = (uint32_t)s / c.cl * c.cl;
        double p = (double)k / (double)n, rc = p * c.s - 0.5;
        double margin = o.margin > 0 ? o.margin : o.margin < 0 ? 0 : DEFAULT_MARGIN;
        double delta = margin * sqrt(c.s * p * (1 - p)) + 2;
        double rlo = floor(rc - delta), rhi = ceil(rc + delta);
        c.lo_open = rlo < 0;
        c.hi_open = rhi >= c.s;
        c.rlo = c.lo_open ? 0 : (uint32_t)rlo;
        c.rhi = c.hi_open ? c.s - 1 : (uint32_t)rhi;
        double frac = ((c.hi_open ? c.s : c.rhi) - (c.lo_open ? -1.0 : c.rlo)) / (c.s + 1.0);
        cap = (uint64_t)(1.5 * frac * (double)n) + 4096;
    } else {
        /* Small inputs: gather everything on the first pass. Large ones: once a bucket fits. */
        cap = n < (1u << 22) ? per : (per / 16 > (1u << 20) ? per / 16 : (1u << 20));
    }
    if (o.cap) cap = o.cap;
    if (cap > per) cap = per;
    c.cap = cap;
    c.serial_max = o.serial_max ? o.serial_max : DEFAULT_SERIAL_MAX;
    if (c.serial_max > n) c.serial_max = n;

    /* One allocation for all scratch, every part on its own cache lines. Plain malloc, aligned
     * by hand: glibc does not reuse a freed aligned_alloc block of this size for the next
     * call's identical request, so every call faulted in fresh pages (1500 faults, ~2 ms at
     * n = 10^8); a malloc block is reused. */
    size_t T = (size_t)threads;
    c.stride = occam_round_up((size_t)cap + 16, SPLIT_ALIGN);
    size_t sz_off = occam_round_up(sizeof(uint64_t) * ((size_t)nseg + 1), OCCAM_ALIGN);
    size_t sz_slot = sizeof(sel_slot) * T;
    size_t sz_hist = sizeof(uint64_t) * 2 * T * NBUCKET;
    size_t sz_buf = sizeof(uint32_t) * T * c.stride;
    size_t sz_samp = occam_round_up(sizeof(uint32_t) * c.s, OCCAM_ALIGN);
    size_t sz_fin = occam_round_up(sizeof(uint32_t) * (size_t)c.serial_max, OCCAM_ALIGN);
    char *raw = malloc(sz_off + sz_slot + sz_hist + sz_buf + 2 * sz_samp + sz_fin + OCCAM_ALIGN);
    if (!raw)
        return occam_error_set(err, OCCAM_ERR_RUNTIME,
                               "select: out of memory for scratch (%zu candidate keys/thread)",
                               (size_t)cap);
    char *p = (char *)(((uintptr_t)raw + OCCAM_ALIGN - 1) & ~(uintptr_t)(OCCAM_ALIGN - 1));
    uint64_t *off = (uint64_t *)p;
    p += sz_off;
    c.slot = (sel_slot *)p;
    p += sz_slot;
    c.hist = (uint64_t *)p;
    p += sz_hist;
    c.buf = (uint32_t *)p;
    p += sz_buf;
    c.samp = (uint32_t *)p;
    p += sz_samp;
    c.samp2 = (uint32_t *)p;
    p += sz_samp;
    c.fin = (uint32_t *)p;
    off[0] = 0;
    for (int s = 0; s < nseg; s++) off[s + 1] = off[s] + len[s];
    c.off = off;

    int rc = occam_team_run(threads, NULL, sel_thread, &c, err); /* fails before any work */
    if (rc == OCCAM_OK && c.nan) {
        int s = seg_of(off, nseg, c.nanpos);
        rc = occam_error_set(err, OCCAM_ERR_INPUT, "select: score NaN at segment %d index %llu",
                             s, (unsigned long long)(c.nanpos - off[s]));
    } else if (rc == OCCAM_OK) {
        out->k = k;
        out->value = k ? occam_key_float(c.vkey) : 0.0f;
        out->below = k ? c.below : 0;
        out->ties = k - out->below;
        if (trace) *trace = c.trace;
    }
    free(raw);
    return rc;
}

int occam_select(const float *const *seg, const size_t *len, int nseg, uint64_t k, int threads,
                 occam_select_result *out, occam_error *err)
{
    return occam_select_ex(seg, len, nseg, k, threads, NULL, out, NULL, err);
}

/* ---- masks --------------------------------------------------------------------------- */

#define MASK_CHUNK 512

typedef struct mask_slot {
    _Alignas(OCCAM_ALIGN) uint64_t lt, eq, zeros;
} mask_slot;

typedef struct mask_ctx {
    uint8_t *const *mask;
    const float *const *seg;
    int nseg;
    const uint64_t *off;
    float v;
    uint64_t ties;
    mask_slot *slot;
} mask_ctx;

static void mask_thread(void *ctx, int t, int nt)
{
    mask_ctx *c = ctx;
    size_t lo, hi;
    occam_team_split_aligned((size_t)c->off[c->nseg], SPLIT_ALIGN, t, nt, &lo, &hi);
    const uint64_t g0 = lo, g1 = hi;
    const float v = c->v;
    uint64_t lt = 0, eq = 0;
    FOR_PIECES(c->off, c->nseg, g0, g1, s, i0, i1)
    {
        const float *restrict x = c->seg[s];
        for (size_t i = i0; i < i1; i++) {
            lt += x[i] < v;
            eq += x[i] == v;
        }
    }
    c->slot[t].lt = lt;
    c->slot[t].eq = eq;
#pragma omp barrier
    /* Ties before this thread's range, in position order, take the quota first. */
    uint64_t before = 0;
    for (int u = 0; u < t; u++) before += c->slot[u].eq;
    uint64_t quota = c->ties > before ? c->ties - before : 0;
    if (quota > eq) quota = eq;
    c->slot[t].zeros = lt + quota;
    FOR_PIECES(c->off, c->nseg, g0, g1, s, i0, i1)
    {
        const float *restrict x = c->seg[s];
        uint8_t *restrict mk = c->mask[s];
        size_t i = i0;
        /* While ties remain to be taken: vector chunks that also count their ties, and a
         * scalar fix-up of the chunks that have some. */
        while (i < i1 && quota) {
            size_t end = i1 - i < MASK_CHUNK ? i1 : i + MASK_CHUNK;
            uint32_t ceq = 0;
            for (size_t j = i; j < end; j++) {
                mk[j] = !(x[j] < v);
                ceq += x[j] == v;
            }
            for (size_t j = i; ceq && quota && j < end; j++)
                if (x[j] == v) {
                    mk[j] = 0;
                    quota--;
                    ceq--;
                }
            i = end;
        }
        for (; i < i1; i++) mk[i] = !(x[i] < v);
    }
}

/* The naive version: one thread, position order. Used when scratch cannot be allocated or the
 * team cannot be started at full size. */
static uint64_t mask_serial(uint8_t *const *mask, const float *const *seg, const size_t *len,
                            int nseg, float v, uint64_t ties)
{
    uint64_t zeros = 0;
    for (int s = 0; s < nseg; s++)
        for (size_t i = 0; i < len[s]; i++) {
            float x = seg[s][i];
            int take = x < v || (x == v && ties > 0);
            ties -= (uint64_t)(take && x == v);
            mask[s][i] = (uint8_t)!take;
            zeros += (uint64_t)take;
        }
    return zeros;
}

uint64_t occam_select_mask(uint8_t *const *mask, const float *const *seg, const size_t *len,
                           int nseg, const occam_select_result *r, int threads)
{
    OCCAM_ASSERT(nseg >= 0 && threads >= 1 && r && r->below + r->ties == r->k);
    OCCAM_ASSERT(!occam_team_in_parallel());
    if (r->k == 0) { /* value is meaningless: keep everything */
        for (int s = 0; s < nseg; s++)
            if (len[s]) memset(mask[s], 1, len[s]);
        return 0;
    }
    size_t sz_off = occam_round_up(sizeof(uint64_t) * ((size_t)nseg + 1), OCCAM_ALIGN);
    char *mem = occam_alloc(1, sz_off + sizeof(mask_slot) * (size_t)threads);
    if (!mem) return mask_serial(mask, seg, len, nseg, r->value, r->ties);
    uint64_t *off = (uint64_t *)mem;
    off[0] = 0;
    for (int s = 0; s < nseg; s++) off[s + 1] = off[s] + len[s];
    mask_ctx c = {.mask = mask, .seg = seg, .nseg = nseg, .off = off, .v = r->value,
                  .ties = r->ties, .slot = (mask_slot *)(mem + sz_off)};
    uint64_t zeros = 0;
    if (occam_team_run(threads, NULL, mask_thread, &c, NULL) == OCCAM_OK) {
        for (int u = 0; u < threads; u++) zeros += c.slot[u].zeros;
    } else {
        /* A short team wrote nothing; this call does not fail, and the serial mask is the
         * same mask. */
        zeros = mask_serial(mask, seg, len, nseg, r->value, r->ties);
    }
    free(mem);
    return zeros;
}

/* ---- counts -------------------------------------------------------------------------- */

__extension__ typedef unsigned __int128 u128;

uint64_t occam_select_count(double fraction, uint64_t n)
{
    OCCAM_ASSERT(fraction >= 0.0 && fraction <= 1.0);
    if (fraction == 0.0 || n == 0) return 0;
    /* fraction = M · 2^(e - 53) exactly, M < 2^53; M·n < 2^117 fits in 128 bits. */
    int e;
    double mant = frexp(fraction, &e);
    uint64_t M = (uint64_t)ldexp(mant, 53);
    int sh = 53 - e; /* >= 52 since fraction <= 1 */
    if (sh >= 128) return 0;
    u128 prod = (u128)M * n;
    return (uint64_t)((prod + ((u128)1 << (sh - 1))) >> sh);
}
