/* The unit-first mask code (src/mdl/maskcode.h) against naive loops: which units are live, what
 * each layer's share costs (log2 C by lgamma in double, the shorter of all at once and row by
 * row), which biases are sent, and that every mask round-trips through the range coder in about
 * as many bits as it says, in version 7's code and in version 6's. Masks are drawn with dead
 * units, dense layers, empty layers, rows of one density or of many, and everything between. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "occam/error.h"
#include "occam/model.h"
#include "occam/rng.h"
#include "../src/mdl/maskcode.h"

static double lbinom(double n, double k)
{
    return (lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1)) / log(2.0);
}

typedef struct net {
    occam_layout lay;
    uint8_t *mask; /* lay.nparams flags; the weights' regions only are used */
    uint64_t k[OCCAM_MAX_LAYERS];
} net;

static uint64_t n_of(const net *t, int l)
{
    return (uint64_t)t->lay.width[l] * (uint64_t)t->lay.width[l + 1];
}

/* A random net of 1-4 layers and widths 1-30. Each unit of a boundary is dead with one of three
 * rates; each layer is dense, empty, or keeps weights between units alive with a random
 * density, one for the layer or (mode 4) one per row, which the row-by-row code wins on. */
static void net_draw(net *t, occam_rng *g)
{
    int L = 1 + (int)occam_rng_below(g, 4), w[OCCAM_MAX_LAYERS + 1];
    for (int b = 0; b <= L; b++) w[b] = 1 + (int)occam_rng_below(g, 30);
    occam_layout_init(&t->lay, w, L + 1);
    t->mask = calloc(t->lay.nparams, 1);
    cr_assert(t->mask);
    static const double dead_rate[3] = {0.0, 0.3, 0.8};
    uint8_t alive[OCCAM_MAX_LAYERS + 1][32];
    for (int b = 0; b <= L; b++) {
        double pd = dead_rate[occam_rng_below(g, 3)];
        for (int u = 0; u < w[b]; u++) alive[b][u] = occam_rng_uniform(g) >= pd;
    }
    for (int l = 0; l < L; l++) {
        int mode = (int)occam_rng_below(g, 5); /* 0 dense, 1 empty, else a density */
        double p = occam_rng_uniform(g);
        uint8_t *mk = t->mask + t->lay.w_off[l];
        t->k[l] = 0;
        for (int o = 0; o < w[l + 1]; o++) {
            if (mode == 4) p = pow(occam_rng_uniform(g), 3);
            for (int i = 0; i < w[l]; i++) {
                int on = mode == 0 || (mode > 1 && alive[l + 1][o] && alive[l][i] &&
                                       occam_rng_uniform(g) < p);
                mk[(size_t)o * w[l] + i] = (uint8_t)on;
                t->k[l] += (uint64_t)on;
            }
        }
    }
}

/* Naive: unit u of boundary b is live when a kept weight comes in or goes out. */
static int live_ref(const net *t, int b, int u)
{
    int L = t->lay.nlayers;
    if (b >= 1)
        for (int i = 0; i < t->lay.width[b - 1]; i++)
            if (t->mask[t->lay.w_off[b - 1] + (size_t)u * t->lay.width[b - 1] + i]) return 1;
    if (b < L)
        for (int o = 0; o < t->lay.width[b + 1]; o++)
            if (t->mask[t->lay.w_off[b] + (size_t)o * t->lay.width[b] + u]) return 1;
    return 0;
}

static int sent_ref(const net *t, int b)
{
    int L = t->lay.nlayers;
    return !((b >= 1 && t->k[b - 1] == n_of(t, b - 1)) || (b < L && t->k[b] == n_of(t, b)));
}

static double count_ref(const net *t, int b)
{
    double a = 0;
    for (int u = 0; u < t->lay.width[b]; u++) a += sent_ref(t, b) ? live_ref(t, b, u) : 1;
    return a;
}

static double units_ref(const net *t, int b)
{
    double w = t->lay.width[b];
    return sent_ref(t, b) ? log2(w + 1) + lbinom(w, count_ref(t, b)) : 0.0;
}

static double flat_ref(const net *t, int l)
{
    return lbinom(count_ref(t, l) * count_ref(t, l + 1), (double)t->k[l]);
}

/* Row by row: each live output's count uniformly over [0, a], then which of the a live inputs. */
static double rows_ref(const net *t, int l)
{
    double a = count_ref(t, l), bits = 0;
    for (int o = 0; o < t->lay.width[l + 1]; o++) {
        if (!live_ref(t, l + 1, o)) continue;
        double r = 0;
        for (int i = 0; i < t->lay.width[l]; i++)
            r += t->mask[t->lay.w_off[l] + (size_t)o * t->lay.width[l] + i];
        bits += log2(a + 1) + lbinom(a, r);
    }
    return bits;
}

/* version 7 (rows): one bit names the shorter of the two; version 6: all at once */
static double share_ref(const net *t, int l, bool rows)
{
    double bits = (l == 0 ? units_ref(t, 0) : 0.0) + units_ref(t, l + 1);
    if (t->k[l] < n_of(t, l))
        bits += rows ? 1 + fmin(flat_ref(t, l), rows_ref(t, l)) : flat_ref(t, l);
    return bits;
}

/* Naive: a bias is sent for an output, or for a unit with a kept weight going out. */
static int need_ref(const net *t, int l, int o)
{
    if (l + 1 == t->lay.nlayers) return 1;
    for (int j = 0; j < t->lay.width[l + 2]; j++)
        if (t->mask[t->lay.w_off[l + 1] + (size_t)j * t->lay.width[l + 1] + o]) return 1;
    return 0;
}

/* Every layer's share of a net of L layers under u, into e (initialised here; the caller
 * frees it). */
static void encode_all(occam_rc_enc *e, const occam_mask_units *u, const occam_layout *lay,
                       const uint8_t *mask, const uint64_t *k)
{
    occam_rc_enc_init(e);
    for (int l = 0; l < lay->nlayers; l++)
        cr_assert_eq(occam_mask_units_encode(e, u, lay, mask, k, l), OCCAM_OK);
    cr_assert_eq(occam_rc_enc_finish(e), OCCAM_OK);
}

/* Encodes every layer's share under u (rows as u says), decodes it back with a reader's units
 * of that version, and checks the masks and units that come back; the stream's bytes. */
static size_t round_trip(const net *t, const occam_mask_units *u, int rep)
{
    int L = t->lay.nlayers;
    occam_rc_enc e;
    encode_all(&e, u, &t->lay, t->mask, t->k);
    occam_mask_units v;
    cr_assert_eq(occam_mask_units_init(&v, &t->lay, t->k, u->rows), OCCAM_OK);
    uint8_t *back = malloc(t->lay.nparams);
    memset(back, 1, t->lay.nparams); /* as the reader starts: a dense layer stays all ones */
    occam_rc_dec d;
    occam_rc_dec_init(&d, e.buf, e.len);
    for (int l = 0; l < L; l++)
        cr_assert_eq(occam_mask_units_decode(&d, &v, &t->lay, back, t->k, l), OCCAM_OK);
    cr_assert(!occam_rc_dec_overrun(&d) && !d.corrupt);
    for (int l = 0; l < L; l++) {
        cr_assert(memcmp(back + t->lay.w_off[l], t->mask + t->lay.w_off[l], n_of(t, l)) == 0,
                  "rep %d layer %d (rows %d)", rep, l, u->rows);
        if (u->rows && t->k[l] < n_of(t, l)) cr_assert_eq(v.by_rows[l], u->by_rows[l]);
    }
    for (int b = 0; b <= L; b++) cr_assert_eq(v.count[b], u->count[b]);
    cr_assert_eq(occam_mask_units_check(&v, &t->lay, back, t->k), OCCAM_OK);
    free(back);
    occam_mask_units_free(&v);
    size_t len = e.len;
    occam_rc_enc_free(&e);
    return len;
}

Test(maskcode, live_units_and_bits_match_naive_loops_and_masks_round_trip)
{
    occam_rng g = occam_rng_seed(7, 0);
    int by_rows = 0, flat = 0;
    for (int rep = 0; rep < 400; rep++) {
        net t;
        net_draw(&t, &g);
        int L = t.lay.nlayers;
        occam_mask_units u;
        cr_assert_eq(occam_mask_units_find(&u, &t.lay, t.mask, t.k), OCCAM_OK);
        cr_assert(u.rows);
        for (int b = 0; b <= L; b++) {
            cr_assert_eq(u.sent[b], sent_ref(&t, b), "rep %d boundary %d", rep, b);
            cr_assert_eq((double)u.count[b], count_ref(&t, b), "rep %d boundary %d", rep, b);
            for (int i = 0; i < t.lay.width[b]; i++)
                cr_assert_eq(u.live[u.off[b] + (size_t)i], u.sent[b] ? live_ref(&t, b, i) : 1);
        }
        uint8_t *need = malloc(t.lay.nparams);
        occam_mask_bias_needed(&t.lay, t.mask, need);
        for (int l = 0; l < L; l++)
            for (int o = 0; o < t.lay.width[l + 1]; o++)
                cr_assert_eq(need[t.lay.b_off[l] + (size_t)o], need_ref(&t, l, o),
                             "rep %d layer %d bias %d", rep, l, o);
        free(need);
        for (int version = 7; version >= 6; version--) {
            u.rows = version == 7;
            double total = 0;
            for (int l = 0; l < L; l++) {
                double bits = occam_mask_units_bits(&u, &t.lay, t.k, l);
                double want = share_ref(&t, l, u.rows);
                cr_assert(fabs(bits - want) < 1e-9 * (1 + bits), "rep %d layer %d version %d: "
                          "%.12g against %.12g", rep, l, version, bits, want);
                if (u.rows && t.k[l] < n_of(&t, l)) {
                    cr_assert_eq(u.by_rows[l], rows_ref(&t, l) < flat_ref(&t, l));
                    u.by_rows[l] ? by_rows++ : flat++;
                }
                total += bits;
            }
            size_t len = round_trip(&t, &u, rep);
            /* the coder's frequencies are exact: a flush byte and a few bits of rounding over */
            cr_assert(8.0 * (double)len >= total - 1 && 8.0 * (double)len <= total + 24,
                      "rep %d version %d: %zu bytes for %.1f bits", rep, version, len, total);
        }
        occam_mask_units_free(&u);
        free(t.mask);
    }
    /* both codes were drawn, each often */
    cr_assert(by_rows > 50 && flat > 50, "row by row %d, all at once %d", by_rows, flat);
}

/* With every unit live and rows of one density the code pays log2(width + 1) per boundary it
 * sends over the plain log2 C(n, k), and a bit per layer for the choice of code; with dead
 * units it pays far less than the plain code. */
Test(maskcode, dead_units_are_cheap_and_live_ones_cost_only_their_count)
{
    int w[3] = {100, 50, 10};
    occam_layout lay;
    occam_layout_init(&lay, w, 3);
    uint8_t *mk = calloc(lay.nparams, 1);
    uint64_t k[2] = {0, 0};
    for (int o = 0; o < 50; o++) /* a diagonal band: every unit keeps a weight */
        for (int i = 0; i < 100; i++)
            if ((i + o) % 10 == 0) mk[lay.w_off[0] + (size_t)o * 100 + i] = 1, k[0]++;
    for (int o = 0; o < 10; o++)
        for (int i = 0; i < 50; i++)
            if ((i + o) % 5 == 0) mk[lay.w_off[1] + (size_t)o * 50 + i] = 1, k[1]++;
    occam_mask_units u;
    cr_assert_eq(occam_mask_units_find(&u, &lay, mk, k), OCCAM_OK);
    double plain = lbinom(5000, (double)k[0]) + lbinom(500, (double)k[1]);
    double coded = occam_mask_units_bits(&u, &lay, k, 0) + occam_mask_units_bits(&u, &lay, k, 1);
    cr_assert(!u.by_rows[0] && !u.by_rows[1]);
    cr_assert_float_eq(coded, plain + log2(101) + log2(51) + log2(11) + 2, 1e-6);
    occam_mask_units_free(&u);
    /* now kill 40 of the 50 hidden units, both ways, and 60 of the inputs */
    k[0] = k[1] = 0;
    for (int o = 0; o < 50; o++)
        for (int i = 0; i < 100; i++) {
            uint8_t *x = &mk[lay.w_off[0] + (size_t)o * 100 + i];
            *x = (uint8_t)(*x && o < 10 && i < 40);
            k[0] += *x;
        }
    for (int o = 0; o < 10; o++)
        for (int i = 0; i < 50; i++) {
            uint8_t *x = &mk[lay.w_off[1] + (size_t)o * 50 + i];
            *x = (uint8_t)(*x && i < 10);
            k[1] += *x;
        }
    cr_assert_eq(occam_mask_units_find(&u, &lay, mk, k), OCCAM_OK);
    cr_assert_eq(u.count[0], 40);
    cr_assert_eq(u.count[1], 10);
    plain = lbinom(5000, (double)k[0]) + lbinom(500, (double)k[1]);
    coded = occam_mask_units_bits(&u, &lay, k, 0) + occam_mask_units_bits(&u, &lay, k, 1);
    cr_assert(coded < 0.9 * plain, "coded %.1f, plain %.1f", coded, plain);
    occam_mask_units_free(&u);
    free(mk);
}

/* A stream whose layer claims more kept weights than its live units have between them is a
 * damaged file: an input error, not a write past the mask. */
Test(maskcode, more_kept_weights_than_live_units_hold_is_an_input_error)
{
    int w[2] = {8, 4};
    occam_layout lay;
    occam_layout_init(&lay, w, 2);
    uint8_t *mk = calloc(lay.nparams, 1);
    mk[0] = mk[1] = mk[8 + 1] = 1; /* inputs 0 and 1, outputs 0 and 1: 2 x 2 between them */
    uint64_t k[1] = {3};
    occam_mask_units u;
    cr_assert_eq(occam_mask_units_find(&u, &lay, mk, k), OCCAM_OK);
    occam_rc_enc e;
    encode_all(&e, &u, &lay, mk, k);
    uint64_t forged[1] = {5}; /* 5 > 2 x 2, and < 32: the boundaries are still sent */
    occam_mask_units v;
    cr_assert_eq(occam_mask_units_init(&v, &lay, forged, true), OCCAM_OK);
    uint8_t *back = malloc(lay.nparams);
    occam_rc_dec d;
    occam_rc_dec_init(&d, e.buf, e.len);
    cr_assert_eq(occam_mask_units_decode(&d, &v, &lay, back, forged, 0), OCCAM_ERR_INPUT);
    free(back);
    occam_mask_units_free(&v);
    occam_mask_units_free(&u);
    occam_rc_enc_free(&e);
    free(mk);
}

/* A model without a mask keeps every weight: nothing is sent, and its mask costs nothing. */
Test(maskcode, a_model_without_a_mask_sends_nothing)
{
    int w[4] = {5, 7, 3, 2};
    occam_layout lay;
    occam_layout_init(&lay, w, 4);
    uint64_t k[3] = {35, 21, 6};
    occam_mask_units u;
    cr_assert_eq(occam_mask_units_find(&u, &lay, NULL, k), OCCAM_OK);
    for (int b = 0; b <= 3; b++) {
        cr_assert(!u.sent[b]);
        cr_assert_eq(u.count[b], (uint64_t)w[b]);
    }
    for (int l = 0; l < 3; l++) cr_assert_eq(occam_mask_units_bits(&u, &lay, k, l), 0.0);
    occam_mask_units_free(&u);
}

/* A forged stream that names a dead unit live decodes (its kept weights fit), but to a model
 * whose own file would be another: the check after the last layer refuses it. */
Test(maskcode, a_stream_naming_a_dead_unit_live_is_refused)
{
    int w[3] = {6, 4, 3};
    occam_layout lay;
    occam_layout_init(&lay, w, 3);
    uint8_t *mk = calloc(lay.nparams, 1);
    mk[lay.w_off[0] + 0] = mk[lay.w_off[0] + 6 + 1] = 1;  /* hidden 0 <- input 0, 1 <- 1 */
    mk[lay.w_off[1] + 0] = mk[lay.w_off[1] + 4 + 1] = 1;  /* output 0 <- hidden 0, 1 <- 1 */
    uint64_t k[2] = {2, 2};
    occam_mask_units u;
    cr_assert_eq(occam_mask_units_find(&u, &lay, mk, k), OCCAM_OK);
    cr_assert_eq(u.count[1], 2);
    u.live[u.off[1] + 3] = 1; /* the forgery: hidden unit 3, which keeps nothing */
    u.count[1] = 3;
    occam_rc_enc e;
    encode_all(&e, &u, &lay, mk, k);
    occam_mask_units v;
    cr_assert_eq(occam_mask_units_init(&v, &lay, k, true), OCCAM_OK);
    uint8_t *back = malloc(lay.nparams);
    memset(back, 1, lay.nparams);
    occam_rc_dec d;
    occam_rc_dec_init(&d, e.buf, e.len);
    for (int l = 0; l < 2; l++)
        cr_assert_eq(occam_mask_units_decode(&d, &v, &lay, back, k, l), OCCAM_OK);
    for (int l = 0; l < 2; l++) /* the weights themselves come back */
        cr_assert(memcmp(back + lay.w_off[l], mk + lay.w_off[l], (size_t)(w[l] * w[l + 1])) == 0);
    cr_assert_eq(occam_mask_units_check(&v, &lay, back, k), OCCAM_ERR_INPUT);
    free(back);
    occam_mask_units_free(&v);
    occam_mask_units_free(&u);
    occam_rc_enc_free(&e);
    free(mk);
}

/* A first layer whose units keep very different numbers of inputs is sent row by row (4 rows'
 * counts and 3 single inputs: 39.6 bits, against 166 all at once). Rows' counts that do not add
 * up to the k the header says are a damaged file: an input error whether they fall short of it
 * or run past it. */
Test(maskcode, uneven_rows_go_row_by_row_and_a_wrong_count_is_an_input_error)
{
    int w[2] = {50, 4};
    occam_layout lay;
    occam_layout_init(&lay, w, 2);
    uint8_t *mk = calloc(lay.nparams, 1);
    for (int i = 0; i < 50; i++) mk[i] = 1; /* unit 0 keeps every input */
    for (int o = 1; o < 4; o++) mk[(size_t)o * 50 + (size_t)o * 7] = 1;
    uint64_t k[1] = {53};
    occam_mask_units u;
    cr_assert_eq(occam_mask_units_find(&u, &lay, mk, k), OCCAM_OK);
    cr_assert(u.by_rows[0]);
    double rows = 4 * log2(51) + 3 * log2(50);
    double units = log2(51) + log2(5); /* every unit live: the two counts only */
    cr_assert_float_eq(occam_mask_units_bits(&u, &lay, k, 0), units + 1 + rows, 1e-9);
    cr_assert(1 + rows < lbinom(200, 53));
    occam_rc_enc e;
    encode_all(&e, &u, &lay, mk, k);
    uint8_t *back = malloc(lay.nparams);
    for (uint64_t say = 52; say <= 54; say++) {
        uint64_t told[1] = {say};
        occam_mask_units v;
        cr_assert_eq(occam_mask_units_init(&v, &lay, told, true), OCCAM_OK);
        occam_rc_dec d;
        occam_rc_dec_init(&d, e.buf, e.len);
        int rc = occam_mask_units_decode(&d, &v, &lay, back, told, 0);
        cr_assert_eq(rc, say == 53 ? OCCAM_OK : OCCAM_ERR_INPUT, "k said %llu: %d",
                     (unsigned long long)say, rc);
        if (say == 53) cr_assert(memcmp(back, mk, 200) == 0);
        occam_mask_units_free(&v);
    }
    free(back);
    occam_mask_units_free(&u);
    occam_rc_enc_free(&e);
    free(mk);
}
