/* The .occ file: the two-part code of a model, actually sent.
 *
 * Layout (little-endian), version 9:
 *   header (structure only, not counted in the model bits; well under 1 KB):
 *     "OCCAMMDL", u32 version, u64 file bytes (all of it, checksum included),
 *     u32 layers L, u32 width[L+1] (the widths coded), u32 declared[L+1] (the model.layers the
 *     model was built with: wider hidden layers when neurons were pruned), u32 task,
 *     u32 activation, u32 data.normalize, u32 data.normalize_targets (0 or 1): the scaling
 *     the weights were trained under, which an eval or predict has to use again, u32 grid
 *     (the inputs' image width, 0 when they are not an image; it divides width[0]), u64 rows
 *     and u32 rows_crc: the training rows the model was trained on, whose statistics those
 *     scalings took (their count and occam_dataset_crc, as a safetensors checkpoint records
 *     them in "occam.train_rows"; compress copies its checkpoint's), both 0 for unknown (a
 *     checkpoint that did not record them; a training set has rows),
 *     per layer: u64 active weights k, u8 prior components, u8 pinned, i32 qlo, i32 qhi,
 *     i32 bqlo, i32 bqhi (the biases' bin indices)
 *   payload (what the two-part model bits count):
 *     per layer: f32 δ, the prior's free parameters as f32 (Gaussian: μ, σ; mixture: π_1..,
 *     μ_1.. (μ_0 pinned at 0), σ_0..), u8 bias shift j, the biases' Gaussian (μ, σ) as f32;
 *     then one range-coded stream: first every layer's mask, live units first (maskcode.h:
 *     layer 0 sends its inputs' live units, every layer its outputs', each as a count and an
 *     enumerative set, then, for layer 0 on an image grid, a bit naming the grid code
 *     (gridcode.h), and unless it is used a bit naming its code and its k kept weights among
 *     those between live units, all at once or row by row, enumeratively: bit i with P(1) =
 *     k_left / n_left); then per layer the active weights' bin indices q under a frequency
 *     table built from the prior's bin masses over [qlo, qhi] (layer 0 on a grid: first a
 *     bit, and when it is set each |q| under the table of the folded masses P(q) + P(−q) over
 *     [0, max(|qlo|, |qhi|)], then each nonzero q's sign by its grid neighbours'), and the
 *     biases' bin indices at step
 *     δ·2^−j under their Gaussian's table over [bqlo, bqhi], only those of the output layer
 *     and of hidden units that keep a weight going out (the others are 0 when read). A span
 *     of more than 2^16 bins has a table of at most 2^16 symbols, each a group of
 *     consecutive bins under the group's mass, and each index sends its place in its group
 *     after its group's symbol, uniformly (span).
 *   trailer: u64 CRC-64 (the XZ variant) of every byte before it.
 * The reader checks the magic, the version, the length and the CRC before it decodes a single
 * field, so a damaged file (one flipped bit anywhere, a truncation) is refused with a message,
 * never decoded into another model. A forged file (its checksum made to match) gets the
 * decoder's checks: its bias ranges (and a Gaussian prior's weight ranges) are checked against
 * what the Gaussian's own values can reach (gauss_holds), and no table has more than 2^16
 * symbols (half a second for 15 layers of 8-component priors), so a few hundred forged bytes
 * cannot make a read take seconds. A version 6 or 7 mask must name as live exactly the units
 * that keep a weight (occam_mask_units_check), so a stream cannot decode to a model whose
 * units it misnames. (A version 7 layer sent in its longer code, all at once where row by row
 * is shorter or the reverse, is read: refusing it would hang a valid file on a floating-point
 * comparison of two costs near a tie.) Versions 1 and 2 (float32 biases) are not read.
 * Version 6 interleaves the layers (a layer's mask, weights and biases, then the next's),
 * sends each mask all at once without a bit naming the code, and every bias. Version 5 is
 * version 6 with the plain mask code: each layer's k kept weights among all n, log2 C(n, k)
 * bits. Version 4 is version 5 with a table symbol per bin however wide the span (the writer
 * allowed 2^24 bins, a second or more per table): it is read while its tables cost at most
 * LEGACY_WORK prior evaluations in all. Version 3 is version 4 without the two scaling fields:
 * it is read (a compressed model is not to be lost to a format change), and its scaling
 * cannot be checked (occam_occ_data.known). Version 7 is version 8 without the grid field and
 * its bits: the stream of a version 8 file with grid 0. Version 8 is version 9 without the
 * training rows' fingerprint (rows unknown: occam_occ_data.rows_known), the same stream.
 * The decoder rebuilds the same tables from the same float32 parameters, so the weights it
 * gets, q·δ, are the quantised weights the data code was computed with. */
#include "occam/occfile.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "occam/fsutil.h"
#include "occam/mem.h"
#include "occam/outfile.h"
#include "gridcode.h"
#include "maskcode.h"
#include "rangecoder.h"

#define MAGIC "OCCAMMDL"
#define VERSION 9u
/* version 5: version 6 with the plain mask code (log2 C(n, k) per layer); still read */
#define VERSION_GROUPED 5u
/* the first version whose masks send their live units first (maskcode.h) */
#define VERSION_UNITS 6u
/* the first version that sends every mask first, a mask row by row when that is shorter, and
 * no bias of a unit without an outgoing weight (maskcode.h) */
#define VERSION_ROWS 7u
/* the first version with the inputs' image width, by which layer 0's mask and values may be
 * sent (gridcode.h) */
#define VERSION_GRID 8u
/* the first version with the training rows' fingerprint (count and CRC; 0 and 0: unknown) */
#define VERSION_TRAIN_ROWS 9u
/* version 3: version 4 without the scaling fields; still read, its scaling taken on trust */
#define VERSION_UNSCALED 3u
/* magic, version, file length: what must be there before anything else can be checked */
#define PREFIX 20u
#define TRAILER 8u
#define TABLE_TOTAL (1u << 24)
/* The most symbols a frequency table holds (versions 5 to 7): a wider span groups its bins
 * (span). A table costs the reader a prior evaluation per symbol (about 0.2 us), so this
 * bounds what a 200-byte forged header can make it do: the 2^24 bins versions 3 and 4
 * allowed took seconds per table. */
#define TABLE_BINS ((int64_t)1 << 16)
/* The most prior evaluations (bins times prior components, over all tables) spent on building
 * a version 3 or 4 file's tables, which have an entry per bin (the writer allowed 2^24 bins
 * per table, which only a step far finer than the weights reached): about a second. Blobs
 * models' files at mdl.weight_precision = 1e-6 need 1.1e7 (20-50-3) and 1.4e7 (20-3). */
#define LEGACY_WORK ((double)(1 << 24))

/* A growable byte buffer with little-endian writers. */
typedef struct bytes {
    uint8_t *p;
    size_t len, cap;
    int oom;
} bytes;

static void put(bytes *b, const void *src, size_t n)
{
    if (b->oom) return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n) cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, src, n);
    b->len += n;
}
static void put_u8(bytes *b, uint8_t v) { put(b, &v, 1); }
static void put_u32(bytes *b, uint32_t v)
{
    uint8_t s[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put(b, s, 4);
}
static void put_u64(bytes *b, uint64_t v)
{
    put_u32(b, (uint32_t)v);
    put_u32(b, (uint32_t)(v >> 32));
}
static void put_f32(bytes *b, double v)
{
    float f = (float)v;
    uint32_t u;
    memcpy(&u, &f, 4);
    put_u32(b, u);
}

/* A bounds-checked reader. */
typedef struct reader {
    const uint8_t *p;
    size_t len, at;
    int bad;
} reader;

static const uint8_t *take(reader *r, size_t n)
{
    if (r->bad || r->len - r->at < n) {
        r->bad = 1;
        return NULL;
    }
    const uint8_t *p = r->p + r->at;
    r->at += n;
    return p;
}
static uint32_t get_u32(reader *r)
{
    const uint8_t *s = take(r, 4);
    return s ? (uint32_t)s[0] | (uint32_t)s[1] << 8 | (uint32_t)s[2] << 16 | (uint32_t)s[3] << 24
             : 0;
}
static uint64_t get_u64(reader *r)
{
    uint64_t lo = get_u32(r);
    return lo | (uint64_t)get_u32(r) << 32;
}
static uint8_t get_u8(reader *r)
{
    const uint8_t *s = take(r, 1);
    return s ? s[0] : 0;
}
static double get_f32(reader *r)
{
    uint32_t u = get_u32(r);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* The prior's free parameters, in file order (see the header comment). */
static void put_prior(bytes *b, const occam_prior *p)
{
    if (p->k == 1) {
        put_f32(b, p->mu[0]);
        put_f32(b, p->sigma[0]);
        return;
    }
    for (int c = 1; c < p->k; c++) put_f32(b, p->pi[c]);
    for (int c = p->pinned0 ? 1 : 0; c < p->k; c++) put_f32(b, p->mu[c]);
    for (int c = 0; c < p->k; c++) put_f32(b, p->sigma[c]);
}

static void get_prior(reader *r, occam_prior *p, int k, bool pinned)
{
    memset(p, 0, sizeof *p);
    p->k = k;
    p->pinned0 = pinned;
    if (k == 1) {
        p->mu[0] = get_f32(r);
        p->sigma[0] = get_f32(r);
    } else {
        for (int c = 1; c < k; c++) p->pi[c] = get_f32(r);
        for (int c = pinned ? 1 : 0; c < k; c++) p->mu[c] = get_f32(r);
        for (int c = 0; c < k; c++) p->sigma[c] = get_f32(r);
    }
    occam_dl_prior_round(p); /* implied π0 and pinned μ0, exactly as the encoder had them */
}

/* Whether a decoded prior is usable: the prior code asserts σ > 0, so a damaged file must be
 * caught here (an encoder's priors always pass). */
static bool prior_ok(const occam_prior *p)
{
    for (int c = 0; c < p->k; c++)
        if (!isfinite(p->pi[c]) || !isfinite(p->mu[c]) || !isfinite(p->sigma[c]) ||
            !(p->sigma[c] > 0))
            return false;
    return true;
}

/* The bins [lo, hi] one layer's weights (or biases) take, grouped `per` consecutive bins to a
 * symbol of their table so that a table holds at most TABLE_BINS symbols: a bin is sent as its
 * group's symbol, under the prior's mass of the group, then as its place in the group, each
 * place equally likely. That costs within a rounding of the bin's own prior bits where the
 * prior is about flat across a group (per·δ well under its σ). A span of at most TABLE_BINS
 * bins (always, in versions 3 and 4) has a symbol per bin: the table versions 3 and 4 had. */
typedef struct span {
    int32_t lo, hi;
    uint32_t per;
} span;

static int64_t span_bins(const span *s) { return (int64_t)s->hi - s->lo + 1; }
static int64_t span_symbols(const span *s) { return (span_bins(s) + s->per - 1) / s->per; }
/* The bins of symbol i (the last group may be short). */
static uint32_t group_bins(const span *s, int64_t i)
{
    int64_t left = span_bins(s) - i * (int64_t)s->per;
    return (uint32_t)(left < (int64_t)s->per ? left : (int64_t)s->per);
}

/* [lo, hi] with the fewest bins per symbol that keep its table within TABLE_BINS. */
static span span_of(int32_t lo, int32_t hi)
{
    span s = {lo, hi, 1};
    int64_t bins = span_bins(&s);
    if (bins > TABLE_BINS) s.per = (uint32_t)((bins + TABLE_BINS - 1) / TABLE_BINS);
    return s;
}

/* The frequency table of s under prior p at step delta: symbol i has the prior mass of its
 * group of bins; folded (s the bins of |q|, from 0), also that of their mirror images, bin 0
 * once (folded_span). */
static int value_table(occam_rc_table *t, const occam_prior *p, double delta, const span *s,
                       bool folded)
{
    size_t n = (size_t)span_symbols(s);
    double *prob = malloc(n * sizeof *prob);
    if (!prob) return OCCAM_ERR_RUNTIME;
    for (size_t i = 0; i < n; i++) {
        double a = (double)s->lo + (double)i * s->per, b = a + group_bins(s, (int64_t)i);
        double lo = (a - 0.5) * delta, hi = (b - 0.5) * delta;
        if (!folded) prob[i] = exp2(-occam_prior_bin_bits(p, lo, hi));
        else if (a == 0) prob[i] = exp2(-occam_prior_bin_bits(p, -hi, hi));
        else prob[i] = exp2(-occam_prior_bin_bits(p, lo, hi)) +
                       exp2(-occam_prior_bin_bits(p, -hi, -lo));
    }
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += prob[i];
    if (sum > 1.0)
        for (size_t i = 0; i < n; i++) prob[i] /= sum;
    int rc = occam_rc_table_from_probs(t, 0, (int32_t)(n - 1), prob, TABLE_TOTAL);
    free(prob);
    return rc;
}

/* Codes bin q of span s through its table t: its group's symbol, then its place in the group. */
static int encode_value(occam_rc_enc *e, const occam_rc_table *t, const span *s, int32_t q)
{
    if (q < s->lo || q > s->hi) return OCCAM_ERR_INPUT;
    int64_t at = (int64_t)q - s->lo, i = at / s->per;
    int rc = occam_rc_encode_sym(e, t, (int32_t)i);
    uint32_t g = group_bins(s, i);
    if (rc == OCCAM_OK && g > 1) rc = occam_rc_encode(e, (uint32_t)(at - i * s->per), 1, g);
    return rc;
}

/* The bin encode_value coded; always one of s's. */
static int32_t decode_value(occam_rc_dec *d, const occam_rc_table *t, const span *s)
{
    int64_t i = occam_rc_decode_sym(d, t);
    uint32_t g = group_bins(s, i), u = 0;
    if (g > 1) {
        u = occam_rc_decode_freq(d, g);
        occam_rc_decode_update(d, u, 1, g);
    }
    return (int32_t)((int64_t)s->lo + i * s->per + u);
}

static int32_t qindex(float w, double delta) { return (int32_t)round((double)w / delta); }

/* The bins of |q| for bins s: [0, max(|lo|, |hi|)]; false when that leaves int32. */
static bool folded_span(const span *s, span *f)
{
    int64_t lo = s->lo, hi = s->hi, most = -lo > hi ? -lo : hi; /* lo <= hi */
    if (most > INT32_MAX) return false;
    *f = span_of(0, (int32_t)most);
    return true;
}

/* Layer 0's kept weights (in × out, row-major) on an image grid `width` wide: every |q|
 * through the folded table, in order, then the nonzero ones' signs by their grid neighbours'
 * (gridcode.h). */
static int encode_grid_values(occam_rc_enc *e, const float *w, const uint8_t *mk, int in,
                              int out, const occam_prior *p, double delta, const span *f,
                              int width)
{
    size_t n = (size_t)in * (size_t)out;
    occam_rc_table t = {0};
    int rc = value_table(&t, p, delta, f, true);
    int32_t *q = rc == OCCAM_OK ? occam_alloc_zero(n, sizeof *q) : NULL;
    if (rc == OCCAM_OK && !q) rc = OCCAM_ERR_RUNTIME;
    for (size_t i = 0; i < n && rc == OCCAM_OK; i++)
        if (!mk || mk[i]) {
            q[i] = qindex(w[i], delta); /* within ±INT32_MAX: folded_span held */
            rc = encode_value(e, &t, f, q[i] < 0 ? -q[i] : q[i]);
        }
    if (rc == OCCAM_OK) {
        occam_grid_coder c;
        occam_grid_coder_init(&c, e, NULL);
        occam_grid_signs_code(&c, q, in, out, width);
        rc = c.rc;
    }
    free(q);
    occam_rc_table_free(&t);
    return rc;
}

/* The span of the quantisation indices of n values (those mk keeps; none kept: [0, 0]) at step
 * delta; false when they leave int32 (a step far finer than the values). */
static bool q_range(const float *v, const uint8_t *mk, size_t n, double delta, span *s)
{
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++)
        if (!mk || mk[i]) {
            double q = round((double)v[i] / delta);
            lo = fmin(lo, q);
            hi = fmax(hi, q);
        }
    *s = span_of(0, 0);
    if (lo > hi) return true;
    if (!(lo >= INT32_MIN && hi <= INT32_MAX)) return false;
    *s = span_of((int32_t)lo, (int32_t)hi);
    return true;
}

/* CRC-64/XZ (ECMA-182 polynomial, reflected, all-ones start and end): a 64-bit CRC catches
 * every error of one bit, two bits, or a burst up to 64 bits long. The table is rebuilt per
 * call (2 KB of work) so that the function stays free of shared state. */
static uint64_t crc64_update(uint64_t crc, const uint8_t *p, size_t n)
{
    uint64_t table[256];
    for (unsigned i = 0; i < 256; i++) {
        uint64_t c = i;
        for (int b = 0; b < 8; b++) c = c & 1 ? c >> 1 ^ 0xC96C5795D7870F42ull : c >> 1;
        table[i] = c;
    }
    crc = ~crc;
    for (size_t i = 0; i < n; i++) crc = table[(crc ^ p[i]) & 0xFF] ^ crc >> 8;
    return ~crc;
}

uint64_t occam_occ_checksum(const void *data, size_t n) { return crc64_update(0, data, n); }

int occam_occ_write(const char *path, const occam_model *m, const occam_model_params *declared,
                    const occam_occ_data *data, const occam_dl *dl, occam_occ_sizes *sizes,
                    occam_error *err)
{
    const occam_layout *lay = &m->lay;
    int L = lay->nlayers;
    if (dl->code != OCCAM_MDL_TWO_PART)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: only the two-part code can be written",
                               path);
    OCCAM_ASSERT(!declared || declared->nlayers == L + 1);
    /* the biases sent (occam_mask_bias_needed), layer l's at need + b_off[l] */
    uint8_t *need = occam_alloc(lay->nparams, 1);
    if (!need) return occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory");
    occam_mask_bias_needed(lay, m->mask, need);
    span ws[OCCAM_MAX_LAYERS], bs[OCCAM_MAX_LAYERS], fs = span_of(0, 0); /* fs: layer 0's |q| */
    for (int l = 0; l < L; l++) {
        const occam_dl_layer *y = &dl->layer[l];
        size_t n = (size_t)lay->width[l] * lay->width[l + 1];
        const float *w = m->params + lay->w_off[l], *b = m->params + lay->b_off[l];
        const uint8_t *mk = m->mask ? m->mask + lay->w_off[l] : NULL;
        bool wok = q_range(w, mk, n, y->delta, &ws[l]) &&
                   !(l == 0 && dl->grid_w && y->grid_signs && !folded_span(&ws[0], &fs));
        size_t nb = (size_t)lay->width[l + 1];
        if (!wok || !q_range(b, need + lay->b_off[l], nb, y->bias_delta, &bs[l])) {
            free(need);
            return occam_error_set(err, OCCAM_ERR_INPUT, "cannot write %s: the model's layer "
                                   "%d %s, at step %g, need bin indices beyond the 32-bit range "
                                   "(a step far finer than the values, or values grown huge, "
                                   "as by a training that diverged)", path, l,
                                   wok ? "biases" : "weights", wok ? y->bias_delta : y->delta);
        }
    }
    uint64_t kept[OCCAM_MAX_LAYERS] = {0};
    for (int l = 0; l < L; l++) kept[l] = dl->layer[l].k;
    occam_mask_units units;
    if (occam_mask_units_find_grid(&units, lay, m->mask, kept, dl->grid_w) != OCCAM_OK) {
        free(need);
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory");
    }
    units.by_grid = dl->grid_w && dl->layer[0].grid_mask; /* dl's choice, which it counted */
    bytes pay = {0}, head = {0};
    occam_rc_enc e;
    occam_rc_enc_init(&e);
    int rc = OCCAM_OK;
    /* every layer's mask first: a layer's biases need the next layer's */
    for (int l = 0; l < L && rc == OCCAM_OK; l++)
        rc = occam_mask_units_encode(&e, &units, lay, m->mask, kept, l);
    for (int l = 0; l < L && rc == OCCAM_OK; l++) {
        const occam_dl_layer *y = &dl->layer[l];
        put_f32(&pay, y->delta);
        if (y->k) put_prior(&pay, &y->prior);
        put_u8(&pay, (uint8_t)y->bias_shift);
        put_prior(&pay, &y->bias_prior);
        size_t n = (size_t)y->n;
        const uint8_t *mk = m->mask ? m->mask + lay->w_off[l] : NULL;
        occam_rc_table t;
        if (rc == OCCAM_OK && y->k && l == 0 && dl->grid_w)
            rc = occam_rc_encode(&e, y->grid_signs, 1, 2);
        if (rc == OCCAM_OK && y->k && l == 0 && dl->grid_w && y->grid_signs) {
            rc = encode_grid_values(&e, m->params + lay->w_off[0], mk, lay->width[0],
                                    lay->width[1], &y->prior, y->delta, &fs, dl->grid_w);
        } else if (rc == OCCAM_OK && y->k) {
            rc = value_table(&t, &y->prior, y->delta, &ws[l], false);
            const float *w = m->params + lay->w_off[l];
            for (size_t i = 0; i < n && rc == OCCAM_OK; i++)
                if (!mk || mk[i]) rc = encode_value(&e, &t, &ws[l], qindex(w[i], y->delta));
            occam_rc_table_free(&t);
        }
        if (rc != OCCAM_OK) continue;
        rc = value_table(&t, &y->bias_prior, y->bias_delta, &bs[l], false);
        const float *b = m->params + lay->b_off[l];
        for (int o = 0; o < lay->width[l + 1] && rc == OCCAM_OK; o++)
            if (need[lay->b_off[l] + (size_t)o])
                rc = encode_value(&e, &t, &bs[l], qindex(b[o], y->bias_delta));
        occam_rc_table_free(&t);
    }
    if (rc == OCCAM_OK) rc = occam_rc_enc_finish(&e);
    if (rc == OCCAM_OK) {
        put_u64(&pay, e.len);
        put(&pay, e.buf, e.len);
        put(&head, MAGIC, 8);
        put_u32(&head, VERSION);
        put_u64(&head, 0); /* the file's length, filled in below */
        put_u32(&head, (uint32_t)L);
        for (int l = 0; l <= L; l++) put_u32(&head, (uint32_t)lay->width[l]);
        for (int l = 0; l <= L; l++)
            put_u32(&head, (uint32_t)(declared ? declared->layers[l] : lay->width[l]));
        put_u32(&head, (uint32_t)m->task);
        put_u32(&head, (uint32_t)m->act);
        put_u32(&head, (uint32_t)data->normalize);
        put_u32(&head, data->normalize_targets ? 1u : 0u);
        put_u32(&head, (uint32_t)dl->grid_w);
        bool rows = data->rows_known && data->rows > 0;
        put_u64(&head, rows ? data->rows : 0);
        put_u32(&head, rows ? data->rows_crc : 0);
        for (int l = 0; l < L; l++) {
            put_u64(&head, dl->layer[l].k);
            put_u8(&head, (uint8_t)dl->layer[l].prior.k);
            put_u8(&head, dl->layer[l].prior.pinned0);
            put_u32(&head, (uint32_t)ws[l].lo);
            put_u32(&head, (uint32_t)ws[l].hi);
            put_u32(&head, (uint32_t)bs[l].lo);
            put_u32(&head, (uint32_t)bs[l].hi);
        }
        /* The checksum travels at the end of pay, so the file is head then pay. */
        if (!pay.oom && !head.oom) {
            uint64_t total = (uint64_t)head.len + pay.len + TRAILER;
            for (int b = 0; b < 8; b++) head.p[12 + b] = (uint8_t)(total >> (8 * b));
            put_u64(&pay, crc64_update(occam_occ_checksum(head.p, head.len), pay.p, pay.len));
        }
        if (pay.oom || head.oom) rc = occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory");
    } else {
        occam_error_set(err, rc, "%s: range coding failed", path);
    }
    if (rc == OCCAM_OK) {
        /* temporary file, then rename (occam/outfile.h): never half-overwritten */
        occam_outfile o;
        rc = occam_outfile_open(&o, path, err);
        if (rc == OCCAM_OK && occam_outfile_write(&o, head.p, head.len))
            occam_outfile_write(&o, pay.p, pay.len);
        if (rc == OCCAM_OK) rc = occam_outfile_commit(&o, err);
    }
    if (rc == OCCAM_OK && sizes) {
        sizes->header_bytes = head.len + TRAILER;
        sizes->payload_bytes = pay.len - TRAILER;
        sizes->coded_bytes = e.len;
    }
    free(pay.p);
    free(head.p);
    free(need);
    occam_rc_enc_free(&e);
    occam_mask_units_free(&units);
    return rc;
}

/* Whether the bins [qlo, qhi] of n values at step delta can be those of values a Gaussian p was
 * fitted to: the writer fits the biases' Gaussian (and the weights' under mdl.prior =
 * gaussian) to the very values it codes, so μ² + σ² is their mean square (σ floored, which
 * only widens it), and no one of n values exceeds sqrt(n · mean square) in size. A wider range
 * is a damaged or forged header, refused before its table is built. Mixtures: not checked. */
static bool gauss_holds(const occam_prior *p, uint64_t n, double delta, const span *s)
{
    if (p->k != 1 || n == 0) return true;
    double most = sqrt((double)n * (p->mu[0] * p->mu[0] + p->sigma[0] * p->sigma[0])) *
                  (1.0 + 1e-5) / delta + 1.0; /* + 1e-5: the float32 rounding of μ, σ and δ */
    return (double)s->lo >= -most && (double)s->hi <= most;
}

/* Decodes n values (those with mk[i] = 1, or all if mk is NULL) at step delta under p's table
 * over span s into w. */
static int decode_values(occam_rc_dec *d, float *w, const uint8_t *mk, size_t n,
                         const occam_prior *p, double delta, const span *s, const char *path,
                         uint32_t l, occam_error *err)
{
    occam_rc_table t;
    int rc = value_table(&t, p, delta, s, false);
    if (rc != OCCAM_OK)
        return occam_error_set(err, rc, rc == OCCAM_ERR_RUNTIME ? "%s: out of memory"
                                                                 : "%s: layer %u value range is bad",
                               path, l);
    bool finite = true;
    for (size_t i = 0; i < n; i++)
        if (!mk || mk[i]) {
            w[i] = (float)((double)decode_value(d, &t, s) * delta);
            finite &= isfinite(w[i]) != 0;
        }
    occam_rc_table_free(&t);
    if (!finite || occam_rc_dec_overrun(d) || occam_rc_dec_corrupt(d))
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: coded stream is damaged", path);
    return OCCAM_OK;
}

/* Layer 0's kept weights as encode_grid_values sent them; each bin must lie in the header's
 * span s of the signed bins (the folded span f and a free sign can reach outside it only in a
 * damaged stream). */
static int decode_grid_values(occam_rc_dec *d, float *w, const uint8_t *mk, int in, int out,
                              const occam_prior *p, double delta, const span *s, const span *f,
                              int width, const char *path, occam_error *err)
{
    size_t n = (size_t)in * (size_t)out;
    occam_rc_table t = {0};
    int rc = value_table(&t, p, delta, f, true);
    int32_t *q = rc == OCCAM_OK ? occam_alloc_zero(n, sizeof *q) : NULL;
    if (!q) {
        occam_rc_table_free(&t);
        return occam_error_set(err, rc == OCCAM_ERR_INPUT ? rc : OCCAM_ERR_RUNTIME,
                               rc == OCCAM_ERR_INPUT ? "%s: layer 0 value range is bad"
                                                     : "%s: out of memory", path);
    }
    for (size_t i = 0; i < n; i++)
        if (mk[i]) q[i] = decode_value(d, &t, f); /* |q|: at most INT32_MAX (folded_span) */
    occam_rc_table_free(&t);
    occam_grid_coder c;
    occam_grid_coder_init(&c, NULL, d);
    occam_grid_signs_code(&c, q, in, out, width);
    bool ok = true;
    for (size_t i = 0; i < n; i++)
        if (mk[i]) {
            w[i] = (float)((double)q[i] * delta);
            ok &= isfinite(w[i]) && q[i] >= s->lo && q[i] <= s->hi;
        }
    free(q);
    if (!ok || occam_rc_dec_overrun(d) || occam_rc_dec_corrupt(d))
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: coded stream is damaged", path);
    return OCCAM_OK;
}

bool occam_occ_is(const char *path)
{
    FILE *f = occam_fsutil_open_read(path);
    char m[8];
    bool yes = f && fread(m, 1, 8, f) == 8 && memcmp(m, MAGIC, 8) == 0;
    if (f) fclose(f);
    return yes;
}

static int check_prefix(const char *path, const uint8_t *buf, size_t len, uint32_t *vers,
                        occam_error *err);

/* The whole file, which must be a regular one: its size bounds what is read. Its first PREFIX
 * bytes are checked against its size first (check_prefix): a file that is no .occ file, or
 * whose header gives another length, is refused for the cost of those bytes, not its size (a
 * 2 GB one took 2 GB and 7 s; one larger than the memory was "out of memory", exit 1). */
static uint8_t *slurp(const char *path, size_t *len, occam_error *err)
{
    FILE *f = occam_fsutil_open_read(path);
    if (!f) {
        occam_error_open(err, path, errno);
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        occam_error_set(err, OCCAM_ERR_INPUT, "%s: not a regular file", path);
        fclose(f);
        return NULL;
    }
    size_t n = (size_t)st.st_size, have = n < PREFIX ? n : PREFIX;
    uint8_t head[PREFIX];
    uint32_t version;
    if (fread(head, 1, have, f) != have) {
        occam_error_set(err, ferror(f) ? OCCAM_ERR_RUNTIME : OCCAM_ERR_INPUT,
                        ferror(f) ? "%s: read failed" : "%s: the file changed while being read",
                        path);
        fclose(f);
        return NULL;
    }
    if (check_prefix(path, head, n, &version, err) != OCCAM_OK) {
        fclose(f);
        return NULL;
    }
    uint8_t *p = malloc(n + 1); /* + 1: a file that grew while read shows as longer */
    if (!p) {
        fclose(f);
        occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: out of memory (%zu bytes)", path, n);
        return NULL;
    }
    memcpy(p, head, have);
    size_t got = have + fread(p + have, 1, n + 1 - have, f);
    bool bad = ferror(f) != 0;
    fclose(f);
    if (bad || got != n) {
        free(p);
        occam_error_set(err, bad ? OCCAM_ERR_RUNTIME : OCCAM_ERR_INPUT,
                        bad ? "%s: read failed" : "%s: the file changed while being read", path);
        return NULL;
    }
    *len = n;
    return p;
}

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int b = 7; b >= 0; b--) v = v << 8 | p[b];
    return v;
}

/* The checks that need no decoding, in the order that names the damage best: the magic, the
 * version, the length (check_prefix: they read only the first PREFIX bytes of a file of len
 * bytes), then the CRC over everything. */
static int check_prefix(const char *path, const uint8_t *buf, size_t len, uint32_t *vers,
                        occam_error *err)
{
    size_t have = len < 8 ? len : 8;
    if (memcmp(buf, MAGIC, have) != 0)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "%s: not an occam .occ file (it does not start with \"" MAGIC
                               "\")", path);
    if (len < 12)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: truncated: %zu bytes, an .occ file "
                               "has at least %u", path, len, PREFIX + TRAILER);
    uint32_t version = (uint32_t)buf[8] | (uint32_t)buf[9] << 8 | (uint32_t)buf[10] << 16 |
                       (uint32_t)buf[11] << 24;
    *vers = version;
    if (version < VERSION_UNSCALED || version > VERSION)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: .occ format version %u is not "
                               "supported (this occam reads versions %u to %u%s)", path,
                               version, VERSION_UNSCALED, VERSION,
                               version < VERSION ? "; compress the model again" : "");
    if (len < PREFIX)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: truncated: %zu bytes, an .occ file "
                               "has at least %u", path, len, PREFIX + TRAILER);
    uint64_t total = le64(buf + 12);
    if (len < total)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: truncated: the file has %zu bytes, "
                               "its header says %llu", path, len, (unsigned long long)total);
    if (len > total || total < PREFIX + TRAILER)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: the file has %zu bytes, its header "
                               "says %llu (extra bytes at the end, or a damaged header)", path,
                               len, (unsigned long long)total);
    return OCCAM_OK;
}

static int check_file(const char *path, const uint8_t *buf, size_t len, uint32_t *vers,
                      occam_error *err)
{
    int rc = check_prefix(path, buf, len, vers, err);
    if (rc != OCCAM_OK) return rc;
    uint64_t want = le64(buf + len - TRAILER), got = occam_occ_checksum(buf, len - TRAILER);
    if (got != want)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: checksum mismatch: the file says "
                               "%016llx, its bytes give %016llx (file damaged)", path,
                               (unsigned long long)want, (unsigned long long)got);
    return OCCAM_OK;
}

/* The coded widths against the config's (m's, created from model.layers): equal, or a
 * neuron-pruned model of exactly that model.layers (declared), whose hidden layers may be
 * narrower. */
static int check_shape(const char *path, const occam_model *m, uint32_t L, const int *width,
                       const int *declared, uint32_t task, uint32_t act, occam_error *err)
{
    const occam_layout *cl = &m->lay;
    if ((int)L != cl->nlayers)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: the file has %u weight layers, "
                               "model.layers has %d", path, L, cl->nlayers);
    /* named as the other files' checks name them: key, both values, the fix */
    static const char *const tasks[] = {[OCCAM_TASK_CLASSIFY] = "classify",
                                        [OCCAM_TASK_REGRESS] = "regress", NULL};
    static const char *const acts[] = {[OCCAM_ACT_RELU] = "relu", [OCCAM_ACT_TANH] = "tanh",
                                       [OCCAM_ACT_SIGMOID] = "sigmoid", NULL};
    const struct {
        const char *key;
        const char *const *names;
        uint32_t file, cfg, count;
    } pick[2] = {{"data.task", tasks, task, (uint32_t)m->task, 2},
                 {"model.activation", acts, act, (uint32_t)m->act, 3}};
    for (int i = 0; i < 2; i++) {
        if (pick[i].file == pick[i].cfg) continue;
        if (pick[i].file >= pick[i].count)
            return occam_error_set(err, OCCAM_ERR_INPUT, "%s: the coded model's %s is unknown "
                                   "(code %u; a damaged header)", path, pick[i].key,
                                   pick[i].file);
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: the coded model's %s is %s, the "
                               "config's %s; set %s = %s", path, pick[i].key,
                               pick[i].names[pick[i].file], pick[i].names[pick[i].cfg],
                               pick[i].key, pick[i].names[pick[i].file]);
    }
    bool pruned_from_cfg = true;
    for (uint32_t l = 0; l <= L; l++) pruned_from_cfg &= declared[l] == cl->width[l];
    for (uint32_t l = 0; l <= L; l++) {
        bool hidden = l > 0 && l < L;
        if (width[l] == cl->width[l] || (pruned_from_cfg && hidden && width[l] < cl->width[l]))
            continue;
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: layer %u has %d units in the file but "
                               "model.layers says %d", path, l, width[l], cl->width[l]);
    }
    return OCCAM_OK;
}

/* The header's fields before the per-layer ones. */
typedef struct front {
    uint32_t version;
    uint32_t L;
    int width[OCCAM_MAX_LAYERS], declared[OCCAM_MAX_LAYERS];
    uint32_t task, act;
    occam_occ_data data;
    int grid_w; /* version 8 on: the inputs' image width, 0 if they are not an image */
} front;

/* Reads path whole, checks it (check_file) and reads the front of its header into h, leaving r
 * after it. NULL when the file cannot be read (*rc is the error's status); otherwise its bytes,
 * *rc the first check that failed (a front cut short is left to the caller: r->bad). */
static uint8_t *read_front(const char *path, reader *r, front *h, int *rc, occam_error *err)
{
    *h = (front){0}; /* a version 3 file returns before the later fields are read */
    size_t len;
    uint8_t *buf = slurp(path, &len, err);
    if (!buf) {
        *rc = err->status;
        return NULL;
    }
    uint32_t version = VERSION;
    *rc = check_file(path, buf, len, &version, err);
    h->version = version;
    *r = (reader){buf, *rc == OCCAM_OK ? len - TRAILER : 0, PREFIX, *rc != OCCAM_OK};
    h->L = get_u32(r);
    if (*rc == OCCAM_OK && (h->L < 1 || h->L >= OCCAM_MAX_LAYERS))
        *rc = occam_error_set(err, OCCAM_ERR_INPUT, "%s: %u weight layers (occam has 1 to %d)",
                              path, h->L, OCCAM_MAX_LAYERS - 1);
    for (int pass = 0; pass < 2; pass++) {
        int *to = pass ? h->declared : h->width;
        for (uint32_t l = 0; *rc == OCCAM_OK && l <= h->L; l++) {
            uint32_t w = get_u32(r);
            if (w < 1 || w > 1000000)
                *rc = occam_error_set(err, OCCAM_ERR_INPUT, "%s: bad width", path);
            to[l] = (int)w;
        }
    }
    h->task = get_u32(r);
    h->act = get_u32(r);
    h->data = (occam_occ_data){.known = false};
    if (version == VERSION_UNSCALED) return buf; /* its scaling was not recorded */
    uint32_t norm = get_u32(r), targets = get_u32(r);
    if (*rc == OCCAM_OK && !r->bad && (norm > OCCAM_NORM_STANDARDIZE || targets > 1))
        *rc = occam_error_set(err, OCCAM_ERR_INPUT, "%s: the header's data scaling is damaged "
                              "(data.normalize %u, data.normalize_targets %u)", path, norm,
                              targets);
    h->data = (occam_occ_data){.known = true, .normalize = (occam_norm)norm,
                               .normalize_targets = targets == 1};
    h->grid_w = 0;
    if (version < VERSION_GRID) return buf;
    uint32_t grid = get_u32(r);
    if (*rc == OCCAM_OK && !r->bad && grid && (grid > (uint32_t)h->width[0] ||
                                                (uint32_t)h->width[0] % grid != 0))
        *rc = occam_error_set(err, OCCAM_ERR_INPUT, "%s: the header's image width %u does not "
                              "divide the %d inputs (header damaged)", path, grid, h->width[0]);
    h->grid_w = (int)grid;
    h->data.grid_known = true;
    h->data.grid_w = (int)grid;
    if (version < VERSION_TRAIN_ROWS) return buf; /* its training rows were not recorded */
    uint64_t rows = get_u64(r);
    uint32_t rows_crc = get_u32(r);
    if (*rc == OCCAM_OK && !r->bad && !rows && rows_crc)
        *rc = occam_error_set(err, OCCAM_ERR_INPUT, "%s: the header's training rows are "
                              "damaged (0 rows with checksum %08x)", path, (unsigned)rows_crc);
    h->data.rows_known = rows > 0;
    h->data.rows = rows;
    h->data.rows_crc = rows_crc;
    return buf;
}

int occam_occ_read_data(const char *path, occam_task *task, occam_occ_data *data,
                        occam_error *err)
{
    reader r;
    front h;
    int rc;
    uint8_t *buf = read_front(path, &r, &h, &rc, err);
    if (rc == OCCAM_OK && r.bad)
        rc = occam_error_set(err, OCCAM_ERR_INPUT, "%s: the header is cut short", path);
    if (rc == OCCAM_OK) {
        *task = (occam_task)h.task;
        *data = h.data;
    }
    free(buf);
    return rc;
}

/* Checks span s of layer l: a version 3 or 4 span has a symbol per bin, a version 5 to 7 one
 * groups its bins (span_of). */
static int check_span(uint32_t version, span *s, const char *path, uint32_t l,
                      occam_error *err)
{
    if (span_bins(s) < 1)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: layer %u header is inconsistent",
                               path, l);
    *s = version < VERSION_GROUPED ? (span){s->lo, s->hi, 1} : span_of(s->lo, s->hi);
    return OCCAM_OK;
}

/* What building a version 3 or 4 file's tables costs: a prior evaluation per bin and prior
 * component (the biases' prior has one), over every table; *worst is the layer that costs the
 * most. Version 5 to 7 tables cost at most TABLE_BINS · OCCAM_PRIOR_MAX each. */
static double legacy_work(const uint64_t *k, const int *pk, const span *ws, const span *bs,
                          uint32_t L, uint32_t *worst)
{
    double all = 0, most = -1;
    for (uint32_t l = 0; l < L; l++) {
        double w = (k[l] ? (double)span_bins(&ws[l]) * pk[l] : 0) + (double)span_bins(&bs[l]);
        if (w > most) {
            most = w;
            *worst = l;
        }
        all += w;
    }
    return all;
}

/* Layer l's mask as the file's version sends it (all ones, as allocated, when it keeps every
 * weight). */
static int read_mask(occam_rc_dec *d, occam_mask_units *u, const occam_layout *lay,
                     uint8_t *mask, const uint64_t *k, uint32_t l, uint32_t version,
                     const char *path, occam_error *err)
{
    size_t n = (size_t)lay->width[l] * lay->width[l + 1];
    if (version < VERSION_UNITS)
        return k[l] < n ? occam_rc_decode_mask(d, mask + lay->w_off[l], n, (size_t)k[l])
                        : OCCAM_OK;
    int rc = occam_mask_units_decode(d, u, lay, mask, k, (int)l);
    if (rc == OCCAM_ERR_INPUT)
        return occam_error_set(err, rc, "%s: layer %u's mask is damaged: its %llu kept weights "
                               "do not fit between its live units%s", path, l,
                               (unsigned long long)k[l],
                               version >= VERSION_GRID  ? " (or its rows' counts, or the kept "
                                                          "weights its grid code sends, do not "
                                                          "add up)"
                               : version >= VERSION_ROWS ? " (or its rows' counts do not add up)"
                                                         : "");
    return rc == OCCAM_OK ? rc : occam_error_set(err, rc, "out of memory");
}

int occam_occ_read(const char *path, occam_model *m, occam_error *err)
{
    reader r;
    front h;
    int rc;
    uint8_t *buf = read_front(path, &r, &h, &rc, err);
    if (!buf) return rc;
    uint32_t L = h.L;
    const int *width = h.width;
    uint64_t k[OCCAM_MAX_LAYERS] = {0};
    int pk[OCCAM_MAX_LAYERS] = {0};
    bool pinned[OCCAM_MAX_LAYERS] = {0};
    span ws[OCCAM_MAX_LAYERS], bs[OCCAM_MAX_LAYERS];
    for (int l = 0; l < OCCAM_MAX_LAYERS; l++) ws[l] = bs[l] = span_of(0, 0);
    for (uint32_t l = 0; rc == OCCAM_OK && l < L; l++) {
        k[l] = get_u64(&r);
        pk[l] = get_u8(&r);
        pinned[l] = get_u8(&r);
        ws[l].lo = (int32_t)get_u32(&r);
        ws[l].hi = (int32_t)get_u32(&r);
        bs[l].lo = (int32_t)get_u32(&r);
        bs[l].hi = (int32_t)get_u32(&r);
        uint64_t n = (uint64_t)width[l] * (uint64_t)width[l + 1];
        if (!k[l]) ws[l] = span_of(0, 0); /* no weights coded: the span is not used */
        if (k[l] > n || pk[l] > OCCAM_PRIOR_MAX || (k[l] && pk[l] < 1)) {
            rc = occam_error_set(err, OCCAM_ERR_INPUT, "%s: layer %u header is inconsistent",
                                 path, l);
            break;
        }
        rc = check_span(h.version, &ws[l], path, l, err);
        if (rc == OCCAM_OK) rc = check_span(h.version, &bs[l], path, l, err);
    }
    uint32_t worst = 0;
    double work = rc == OCCAM_OK && h.version < VERSION_GROUPED
                      ? legacy_work(k, pk, ws, bs, L, &worst)
                      : 0;
    if (work > LEGACY_WORK)
        rc = occam_error_set(err, OCCAM_ERR_INPUT, "%s: this version %u file's tables have an "
                             "entry per quantisation bin and take %.0f prior evaluations to build "
                             "(layer %u: %lld bins for its weights, %lld for its biases); this "
                             "occam spends at most %.0f, about a second, on one file: compress "
                             "the model again, or read it with the occam that wrote it", path,
                             h.version, work, worst, (long long)span_bins(&ws[worst]),
                             (long long)span_bins(&bs[worst]), (double)LEGACY_WORK);
    if (rc == OCCAM_OK && r.bad)
        rc = occam_error_set(err, OCCAM_ERR_INPUT, "%s: the header is cut short", path);
    if (rc == OCCAM_OK) rc = check_shape(path, m, L, width, h.declared, h.task, h.act, err);
    occam_layout lay;
    float *params = NULL;
    uint8_t *mask = NULL;
    if (rc == OCCAM_OK) {
        occam_layout_init(&lay, width, (int)L + 1);
        params = occam_alloc_zero(lay.nparams, sizeof(float));
        mask = occam_alloc(lay.nparams, 1);
        if (!params || !mask) rc = occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory");
        else memset(mask, 1, lay.nparams);
    }
    double delta[OCCAM_MAX_LAYERS], bdelta[OCCAM_MAX_LAYERS];
    occam_prior prior[OCCAM_MAX_LAYERS], bprior[OCCAM_MAX_LAYERS];
    for (uint32_t l = 0; rc == OCCAM_OK && l < L; l++) {
        delta[l] = get_f32(&r);
        if (k[l]) get_prior(&r, &prior[l], pk[l], pinned[l]);
        int shift = get_u8(&r);
        get_prior(&r, &bprior[l], 1, false);
        bdelta[l] = (double)(float)ldexp(delta[l], -shift);
        if (r.bad || shift > 8 || !(delta[l] > 0) || !isfinite(delta[l]) ||
            (k[l] && !prior_ok(&prior[l])) || !prior_ok(&bprior[l]) || !(bdelta[l] > 0))
            rc = occam_error_set(err, OCCAM_ERR_INPUT, "%s: layer %u parameters are damaged",
                                 path, l);
        else if ((k[l] && !gauss_holds(&prior[l], k[l], delta[l], &ws[l])) ||
                 !gauss_holds(&bprior[l], (uint64_t)width[l + 1], bdelta[l], &bs[l]))
            rc = occam_error_set(err, OCCAM_ERR_INPUT, "%s: layer %u's quantisation range "
                                 "reaches past what its values' Gaussian allows (header "
                                 "damaged)", path, l);
    }
    uint64_t rclen = rc == OCCAM_OK ? get_u64(&r) : 0;
    const uint8_t *stream = rc == OCCAM_OK ? take(&r, (size_t)rclen) : NULL;
    if (rc == OCCAM_OK && (!stream || r.at != r.len))
        rc = occam_error_set(err, OCCAM_ERR_INPUT, "%s: coded stream length is wrong", path);
    occam_rc_dec d;
    if (rc == OCCAM_OK) occam_rc_dec_init(&d, stream, (size_t)rclen);
    occam_mask_units units = {0};
    bool rows = h.version >= VERSION_ROWS;
    if (rc == OCCAM_OK && h.version >= VERSION_UNITS &&
        occam_mask_units_init(&units, &lay, k, rows))
        rc = occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory");
    units.grid_w = h.grid_w;
    /* version 7 sends every mask first and the biases of units with an outgoing weight */
    uint8_t *need = NULL;
    if (rc == OCCAM_OK && rows && !(need = occam_alloc(lay.nparams, 1)))
        rc = occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory");
    for (uint32_t l = 0; rc == OCCAM_OK && rows && l < L; l++)
        rc = read_mask(&d, &units, &lay, mask, k, l, h.version, path, err);
    if (rc == OCCAM_OK && need) occam_mask_bias_needed(&lay, mask, need);
    for (uint32_t l = 0; rc == OCCAM_OK && l < L; l++) {
        size_t n = (size_t)width[l] * width[l + 1];
        uint8_t *mk = mask + lay.w_off[l];
        if (!rows) rc = read_mask(&d, &units, &lay, mask, k, l, h.version, path, err);
        bool grid_signs = false;
        if (rc == OCCAM_OK && k[l] && l == 0 && h.grid_w) {
            grid_signs = occam_rc_decode_freq(&d, 2) != 0;
            occam_rc_decode_update(&d, grid_signs, 1, 2);
        }
        span fs;
        if (grid_signs && !folded_span(&ws[0], &fs))
            rc = occam_error_set(err, OCCAM_ERR_INPUT, "%s: layer 0 header is inconsistent",
                                 path);
        else if (rc == OCCAM_OK && grid_signs)
            rc = decode_grid_values(&d, params + lay.w_off[0], mk, width[0], width[1],
                                    &prior[0], delta[0], &ws[0], &fs, h.grid_w, path, err);
        else if (rc == OCCAM_OK && k[l])
            rc = decode_values(&d, params + lay.w_off[l], mk, n, &prior[l], delta[l], &ws[l],
                               path, l, err);
        if (rc == OCCAM_OK)
            rc = decode_values(&d, params + lay.b_off[l], need ? need + lay.b_off[l] : NULL,
                               (size_t)width[l + 1], &bprior[l], bdelta[l], &bs[l], path, l,
                               err);
    }
    free(need);
    if (rc == OCCAM_OK && h.version >= VERSION_UNITS) {
        rc = occam_mask_units_check(&units, &lay, mask, k);
        if (rc == OCCAM_ERR_INPUT)
            occam_error_set(err, rc, "%s: the mask is damaged: the units it names live are not "
                            "the ones that keep a weight", path);
        else if (rc != OCCAM_OK)
            occam_error_set(err, rc, "out of memory");
    }
    if (rc == OCCAM_OK) {
        free(m->params);
        free(m->mask);
        m->lay = lay;
        m->params = params;
        m->mask = mask;
        params = NULL;
        mask = NULL;
    } else if (err->status == 0) {
        occam_error_set(err, OCCAM_ERR_INPUT, "%s: cannot decode", path);
    }
    occam_mask_units_free(&units);
    free(params);
    free(mask);
    free(buf);
    return rc;
}
