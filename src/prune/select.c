/* Exact parallel selection of the k smallest scores across segments, in place.
 *
 * Keys. A float's bits become an unsigned key with the same order: negatives have every bit
 * flipped, non-negatives get the sign bit set, and -0 is first mapped to +0 so the two compare
 * equal as they do as floats. NaN keys fall outside [key(-Inf), key(+Inf)] and are refused.
 *
 * Work split. The segments are treated as one concatenated index space [0, n) that is cut into
 * one contiguous range per thread (occam_split_aligned), so "thread order" is position order.
 * Each thread walks the pieces of the segments that its range covers; nothing is copied.
 *
 * Algorithm (one OpenMP parallel region per call, barriers between phases):
 *  1. Bracket (n >= sample_min_n). A stratified sample of about n^(2/3) keys is drawn and two
 *     of its order statistics, a few standard deviations either side of rank k·s/n, become keys
 *     lo <= hi. One vectorised pass over the data counts keys < lo, <= lo and <= hi, and gathers
 *     keys strictly between lo and hi into per-thread buffers (about 1% of n at n = 10^8). If the
 *     k-th lies at lo, at hi or among the candidates, the data is never read again. Ties at lo
 *     or hi (e.g. thousands of already-pruned zeros) are counted, never gathered.
 *  2. Radix passes. Otherwise (small n, bracket missed, buffer overflow) and on the candidates:
 *     11-bit digits from the top; each thread histograms its own part into a private,
 *     cache-line-aligned histogram; after a barrier every thread sums the histograms in thread
 *     order (integer adds, so identical everywhere), picks the bucket holding the k-th and
 *     narrows the prefix. Passes over the data gather the surviving keys into the per-thread
 *     buffers as soon as they fit; passes over buffers compact them in place. Histograms are
 *     double-buffered, so one barrier per pass suffices.
 *  3. Finish. Once at most serial_max candidates remain, thread 0 collects them and finishes
 *     with a serial 8-bit radix select.
 * The result is the exact k-th key, so it does not depend on the thread count; the sample only
 * decides how fast we get there. Ties are broken by position in occam_select_mask: per-thread
 * tie counts, an exclusive prefix over threads in order, and a quota per thread. */
#include "occam/select.h"

#include <math.h>
#include <omp.h>
#include <string.h>

#include "occam/mem.h"
#include "occam/rng.h"
#include "occam/team.h"

#define DIGIT_BITS 11
#define NBUCKET (1u << DIGIT_BITS)
#define BLOCK 16              /* scores per vector block of the bracket pass */
#define SPLIT_ALIGN 16        /* a cache line of floats */
#define SAMPLE_CHUNK 4096     /* sample slots per RNG stream */
#define SAMPLE_SEED 0x5e1ec7u
#define SAMPLE_Z 5.0          /* bracket half-width in standard deviations of the sample rank */
#define DEFAULT_SAMPLE_MIN_N (1u << 20)
#define DEFAULT_SERIAL_MAX 16384u

#define KEY_NEG_INF 0x007FFFFFu
#define KEY_POS_INF 0xFF800000u

static inline uint32_t key_of(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    u = u == 0x80000000u ? 0u : u; /* -0 sorts with +0 */
    return u ^ (-(u >> 31) | 0x80000000u);
}

static inline float float_of(uint32_t key)
{
    uint32_t u = key & 0x80000000u ? key ^ 0x80000000u : ~key;
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

static inline uint32_t key_is_nan(uint32_t key)
{
    return key - KEY_NEG_INF > KEY_POS_INF - KEY_NEG_INF;
}

/* ---- serial pieces ------------------------------------------------------------------- */

/* The rank-th smallest (1-based) of a[0..m), by 8-bit MSD radix; *below gets how many of the m
 * are strictly smaller. Destroys a (buckets are compacted in place). O(4m). */
static uint32_t small_select(uint32_t *a, size_t m, uint64_t rank, uint64_t *below)
{
    OCCAM_ASSERT(rank >= 1 && rank <= m);
    uint64_t under = 0;
    for (unsigned fixed = 0; m > 32 && fixed < 32; fixed += 8) {
        size_t cnt[256] = {0};
        unsigned shift = 24 - fixed;
        for (size_t i = 0; i < m; i++) cnt[(a[i] >> shift) & 255u]++;
        unsigned b = 0;
        for (; rank > cnt[b]; b++) {
            rank -= cnt[b];
            under += cnt[b];
        }
        size_t w = 0;
        for (size_t i = 0; i < m; i++) {
            uint32_t key = a[i];
            a[w] = key;
            w += ((key >> shift) & 255u) == b;
        }
        m = w;
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

/* Iterates the pieces of global range [g0, g1): segment s, local indices [i0, i1). */
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
 * fewer than cap are stored (buf[cap] is a dump slot), counting all of them. */
static void bracket_piece(const float *restrict x, size_t m, uint32_t lo, uint32_t hi,
                          uint32_t *restrict buf, uint64_t cap, bracket_acc *a)
{
    /* key in (lo, hi) <=> key - base < width, one unsigned compare. */
    const uint32_t base = lo + 1, width = hi > lo ? hi - lo - 1 : 0;
    uint64_t lt_lo = 0, le_lo = 0, le_hi = 0, nb = a->between;
    uint32_t nan = 0;
    size_t i = 0;
    for (; i + BLOCK <= m; i += BLOCK) {
        uint32_t c0 = 0, c1 = 0, c3 = 0, any = 0, bad = 0;
        for (int j = 0; j < BLOCK; j++) {
            uint32_t key = key_of(x[i + j]);
            c0 += key < lo;
            c1 += key <= lo;
            c3 += key <= hi;
            any |= key - base < width;
            bad |= key_is_nan(key);
        }
        lt_lo += c0;
        le_lo += c1;
        le_hi += c3;
        nan |= bad;
        if (any)
            for (int j = 0; j < BLOCK; j++) {
                uint32_t key = key_of(x[i + j]);
                buf[nb < cap ? nb : cap] = key;
                nb += key - base < width;
            }
    }
    for (; i < m; i++) {
        uint32_t key = key_of(x[i]);
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

/* x is (m). Histogram of digit (key >> shift) & dmask over keys whose bits from mshift up
 * equal prefix. */
static void hist_data(const float *restrict x, size_t m, uint32_t prefix, unsigned mshift,
                      unsigned shift, uint32_t dmask, uint64_t *restrict hist)
{
    for (size_t i = 0; i < m; i++) {
        uint32_t key = key_of(x[i]);
        if ((uint64_t)key >> mshift == prefix) hist[(key >> shift) & dmask]++;
    }
}

/* As hist_data, also appending the matching keys to out; returns how many. */
static size_t gather_data(uint32_t *restrict out, const float *restrict x, size_t m,
                          uint32_t prefix, unsigned mshift, unsigned shift, uint32_t dmask,
                          uint64_t *restrict hist)
{
    size_t w = 0;
    for (size_t i = 0; i < m; i++) {
        uint32_t key = key_of(x[i]);
        if ((uint64_t)key >> mshift == prefix) {
            hist[(key >> shift) & dmask]++;
            out[w++] = key;
        }
    }
    return w;
}

/* buf is (m). Keeps the keys matching prefix (in place, in order) and histograms them. */
static size_t pass_buf(uint32_t *restrict buf, size_t m, uint32_t prefix, unsigned mshift,
                       unsigned shift, uint32_t dmask, uint64_t *restrict hist)
{
    size_t w = 0;
    for (size_t i = 0; i < m; i++) {
        uint32_t key = buf[i];
        uint32_t match = (uint64_t)key >> mshift == prefix;
        hist[(key >> shift) & dmask] += match;
        buf[w] = key;
        w += match;
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
    uint32_t s, rlo, rhi;
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
    occam_split_aligned((size_t)c->n, SPLIT_ALIGN, t, nt, &lo, &hi);
    *g0 = lo;
    *g1 = hi;
}

static uint64_t first_nan(const sel_ctx *c, uint64_t g0, uint64_t g1)
{
    FOR_PIECES(c->off, c->nseg, g0, g1, s, i0, i1)
    {
        const float *x = c->seg[s];
        for (size_t i = i0; i < i1; i++)
            if (x[i] != x[i]) return c->off[s] + i;
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

static void sample_draw(sel_ctx *c, int t, int nt)
{
    const uint64_t q = c->n / c->s, r = c->n % c->s;
    const uint32_t nch = (c->s + SAMPLE_CHUNK - 1) / SAMPLE_CHUNK;
    for (uint32_t ch = (uint32_t)t; ch < nch; ch += (uint32_t)nt) {
        occam_rng rng = occam_rng_seed(SAMPLE_SEED, ch);
        uint32_t j1 = (ch + 1) * SAMPLE_CHUNK < c->s ? (ch + 1) * SAMPLE_CHUNK : c->s;
        for (uint32_t j = ch * SAMPLE_CHUNK; j < j1; j++) {
            /* stratum j is [j·n/s, (j+1)·n/s); r·j < 2^64 because r, j < 2^32 */
            uint64_t a = q * j + r * j / c->s, b = q * (j + 1) + r * (j + 1) / c->s;
            uint64_t g = a + occam_rng_below(&rng, b - a);
            int s = seg_of(c->off, c->nseg, g);
            c->samp[j] = c->samp2[j] = key_of(c->seg[s][g - c->off[s]]);
        }
    }
}

static void sel_thread(sel_ctx *c, int t, int nt)
{
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

    /* Radix state: keys whose top `fixed` bits equal `prefix` hold the k-th at rank kk among
     * them; `below` keys lie under that prefix range; `total` keys match. */
    int src_buf = 0, nan_pending = 1;
    unsigned fixed = 0;
    uint32_t prefix = 0;
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
        int outcome = OCCAM_SELECT_MISSED;
        if (k <= sum.lt_lo || k > sum.le_hi) outcome = OCCAM_SELECT_MISSED;
        else if (k <= sum.le_lo) outcome = OCCAM_SELECT_AT_LO;
        else if (k <= sum.le_lo + sum.between) outcome = over ? OCCAM_SELECT_MISSED : OCCAM_SELECT_BETWEEN;
        else outcome = OCCAM_SELECT_AT_HI;
        if (t == 0) c->trace.bracket = outcome;
        if (outcome == OCCAM_SELECT_AT_LO || outcome == OCCAM_SELECT_AT_HI) {
            if (t == 0) {
                c->vkey = outcome == OCCAM_SELECT_AT_LO ? lo : hi;
                c->below = outcome == OCCAM_SELECT_AT_LO ? sum.lt_lo : sum.le_lo + sum.between;
            }
            return;
        }
        if (outcome == OCCAM_SELECT_BETWEEN) {
            /* Candidates lie in [lo + 1, hi - 1]: start below their common prefix. */
            uint32_t a = lo + 1, b = hi - 1, diff = a ^ b;
            src_buf = 1;
            fixed = diff ? (unsigned)__builtin_clz(diff) : 32;
            prefix = fixed ? (uint32_t)((uint64_t)a >> (32 - fixed)) : 0;
            kk = k - sum.le_lo;
            below = sum.le_lo;
            total = sum.between;
        }
    }

    int gather = maxrange <= c->cap, pass = 0;
    while (fixed < 32 && !(src_buf && total <= c->serial_max)) {
        unsigned width = 32 - fixed < DIGIT_BITS ? 32 - fixed : DIGIT_BITS;
        unsigned shift = 32 - fixed - width, mshift = 32 - fixed;
        uint32_t dmask = (1u << width) - 1;
        uint64_t *hset = c->hist + (size_t)(pass & 1) * (size_t)nt * NBUCKET;
        uint64_t *h = hset + (size_t)t * NBUCKET;
        memset(h, 0, sizeof *h << width);
        if (src_buf) {
            me->bm = pass_buf(buf, me->bm, prefix, mshift, shift, dmask, h);
        } else if (gather) {
            size_t w = 0;
            FOR_PIECES(c->off, c->nseg, g0, g1, s, i0, i1)
            w += gather_data(buf + w, c->seg[s] + i0, i1 - i0, prefix, mshift, shift, dmask, h);
            me->bm = w;
        } else {
            FOR_PIECES(c->off, c->nseg, g0, g1, s, i0, i1)
            hist_data(c->seg[s] + i0, i1 - i0, prefix, mshift, shift, dmask, h);
        }
#pragma omp barrier
        /* Every thread sums the histograms in thread order and reaches the same bucket. */
        uint64_t cum = 0, tot = 0, maxper = 0;
        uint32_t b = 0;
        for (;; b++) {
            OCCAM_ASSERT(b < (1u << width));
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
            /* First pass over the data (fixed == 0): NaN keys can only sit in the buckets of
             * -Inf (0..3) and +Inf (2044..2047); look closer only if those are occupied. */
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
        prefix = (uint32_t)((uint64_t)prefix << width) | b;
        fixed += width;
        total = tot;
        if (!src_buf) {
            if (gather) src_buf = 1;
            else gather = maxper <= c->cap;
        }
        pass++;
    }

    if (t != 0) return;
    if (fixed == 32) {
        c->vkey = prefix;
        c->below = below;
        return;
    }
    /* Serial finish: the candidates still matching the prefix, from every buffer. */
    unsigned mshift = 32 - fixed;
    size_t m = 0;
    for (int u = 0; u < nt; u++) {
        const uint32_t *bu = c->buf + (size_t)u * c->stride;
        for (size_t i = 0; i < c->slot[u].bm; i++)
            if ((uint64_t)bu[i] >> mshift == prefix) c->fin[m++] = bu[i];
    }
    OCCAM_ASSERT(m == total);
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
    OCCAM_ASSERT(!omp_in_parallel());
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
    uint64_t per = occam_round_up((size_t)(n / (uint64_t)threads) + 1, SPLIT_ALIGN) + SPLIT_ALIGN;
    if (per > n) per = n;
    uint64_t sample_min_n = o.sample_min_n ? o.sample_min_n : DEFAULT_SAMPLE_MIN_N;
    uint64_t cap;
    if (k > 0 && n >= sample_min_n) {
        /* s ≈ n^(2/3) balances drawing the sample against finishing the candidates. */
        double s = o.sample ? (double)o.sample : cbrt((double)n * (double)n);
        if (s < 4096 && !o.sample) s = 4096;
        if (s > (1u << 18) && !o.sample) s = 1u << 18;
        if (s > (double)n) s = (double)n;
        c.s = (uint32_t)s;
        double p = (double)k / (double)n, rc = p * c.s - 0.5;
        double delta = SAMPLE_Z * sqrt(c.s * p * (1 - p)) + 2;
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

    /* One allocation for all scratch, every part on its own cache lines. */
    size_t T = (size_t)threads;
    c.stride = occam_round_up((size_t)cap + 1, SPLIT_ALIGN);
    size_t sz_off = occam_round_up(sizeof(uint64_t) * ((size_t)nseg + 1), OCCAM_ALIGN);
    size_t sz_slot = sizeof(sel_slot) * T;
    size_t sz_hist = sizeof(uint64_t) * 2 * T * NBUCKET;
    size_t sz_buf = sizeof(uint32_t) * T * c.stride;
    size_t sz_samp = occam_round_up(sizeof(uint32_t) * c.s, OCCAM_ALIGN);
    size_t sz_fin = occam_round_up(sizeof(uint32_t) * (size_t)c.serial_max, OCCAM_ALIGN);
    char *mem = occam_alloc(1, sz_off + sz_slot + sz_hist + sz_buf + 2 * sz_samp + sz_fin);
    if (!mem)
        return occam_error_set(err, OCCAM_ERR_RUNTIME,
                               "select: out of memory for scratch (%zu candidate keys/thread)",
                               (size_t)cap);
    char *p = mem;
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

    sel_ctx *cp = &c;
#pragma omp parallel num_threads(threads) default(none) shared(cp)
    sel_thread(cp, omp_get_thread_num(), omp_get_num_threads());

    int rc = OCCAM_OK;
    if (c.nan) {
        int s = seg_of(off, nseg, c.nanpos);
        rc = occam_error_set(err, OCCAM_ERR_INPUT, "select: score NaN at segment %d index %llu",
                             s, (unsigned long long)(c.nanpos - off[s]));
    } else {
        out->k = k;
        out->value = k ? float_of(c.vkey) : 0.0f;
        out->below = k ? c.below : 0;
        out->ties = k - out->below;
        if (trace) *trace = c.trace;
    }
    free(mem);
    return rc;
}

int occam_select(const float *const *seg, const size_t *len, int nseg, uint64_t k, int threads,
                 occam_select_result *out, occam_error *err)
{
    return occam_select_ex(seg, len, nseg, k, threads, NULL, out, NULL, err);
}

/* ---- masks --------------------------------------------------------------------------- */

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

static void mask_thread(mask_ctx *c, int t, int nt)
{
    size_t lo, hi;
    occam_split_aligned((size_t)c->off[c->nseg], SPLIT_ALIGN, t, nt, &lo, &hi);
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
        for (; i < i1 && quota; i++) {
            int take = x[i] == v;
            mk[i] = !(x[i] < v || take);
            quota -= (uint64_t)take;
        }
        for (; i < i1; i++) mk[i] = !(x[i] < v);
    }
}

/* The naive version: one thread, position order. Used when scratch cannot be allocated. */
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
    OCCAM_ASSERT(!omp_in_parallel());
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
    mask_ctx *cp = &c;
    int nt = 1;
#pragma omp parallel num_threads(threads) default(none) shared(cp, nt)
    {
        int t = omp_get_thread_num();
        if (t == 0) nt = omp_get_num_threads();
        mask_thread(cp, t, omp_get_num_threads());
    }
    uint64_t zeros = 0;
    for (int u = 0; u < nt; u++) zeros += c.slot[u].zeros;
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
