/* The first layer's grid code (src/mdl/gridcode.h) against naive references: the causal
 * neighbourhood against 2-D indexing, the code lengths against a Krichevsky–Trofimov estimator
 * in double (counts kept per context in a plain table), the folded bins against the sum of the
 * prior's two bin masses, and every mask and sign sequence through the range coder and back,
 * in about as many bits as measured. Grids are 1 to 9 wide and 1 to 7 high, with dead units
 * and inputs, and masks smooth (blobs) or scattered. */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "occam/error.h"
#include "occam/model.h"
#include "occam/prior.h"
#include "occam/rng.h"
#include "../src/mdl/gridcode.h"
#include "../src/mdl/maskcode.h"

/* state of (y, x) on an h × w grid, 0 off the grid */
static int at(const uint8_t *s, int w, int y, int x)
{
    return y < 0 || x < 0 || x >= w ? 0 : s[y * w + x];
}

Test(gridcode, the_context_is_the_four_causal_neighbours)
{
    occam_rng g = occam_rng_seed(11, 0);
    for (int trial = 0; trial < 200; trial++) {
        int w = 1 + (int)occam_rng_below(&g, 9), h = 1 + (int)occam_rng_below(&g, 7);
        int base = trial % 2 ? 3 : 2;
        uint8_t s[63];
        for (int i = 0; i < w * h; i++) s[i] = (uint8_t)occam_rng_below(&g, (uint64_t)base);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                int want = at(s, w, y, x - 1) + base * at(s, w, y - 1, x) +
                           base * base * at(s, w, y - 1, x - 1) +
                           base * base * base * at(s, w, y - 1, x + 1);
                cr_assert_eq(occam_grid_context(s, (size_t)(y * w + x), w, base), want,
                             "%d × %d grid, (%d, %d), base %d", w, h, y, x, base);
            }
    }
}

/* A KT estimator per context in double: −log2((n_b + 1/2) / (n + 1)). */
typedef struct kt {
    double n[OCCAM_GRID_SIGN_MODELS][2];
    double bits;
} kt;

static void kt_code(kt *k, int ctx, int bit)
{
    double *n = k->n[ctx];
    k->bits -= log2((n[bit] + 0.5) / (n[0] + n[1] + 1.0));
    n[bit] += 1.0;
}

/* A mask over `out` units of a w × h grid: per unit, blobs (rectangles) or scattered bits;
 * some units and inputs dead (all their bits 0). */
static void draw_mask(occam_rng *g, uint8_t *mk, uint8_t *live_in, uint8_t *live_out, int w,
                      int h, int out, bool smooth)
{
    int in = w * h;
    memset(mk, 0, (size_t)in * (size_t)out);
    for (int i = 0; i < in; i++) live_in[i] = occam_rng_uniform(g) < 0.85;
    for (int o = 0; o < out; o++) {
        live_out[o] = occam_rng_uniform(g) < 0.8;
        if (!live_out[o]) continue;
        uint8_t *row = mk + (size_t)o * (size_t)in;
        if (smooth) {
            int x0 = (int)occam_rng_below(g, (uint64_t)w);
            int y0 = (int)occam_rng_below(g, (uint64_t)h);
            int x1 = x0 + (int)occam_rng_below(g, (uint64_t)(w - x0)) + 1;
            int y1 = y0 + (int)occam_rng_below(g, (uint64_t)(h - y0)) + 1;
            for (int y = y0; y < y1; y++)
                for (int x = x0; x < x1; x++) row[y * w + x] = 1;
        } else {
            for (int i = 0; i < in; i++) row[i] = occam_rng_uniform(g) < 0.3;
        }
        for (int i = 0; i < in; i++) row[i] &= live_in[i];
    }
}

Test(gridcode, mask_bits_are_kt_per_context_and_the_mask_round_trips)
{
    occam_rng g = occam_rng_seed(12, 0);
    for (int trial = 0; trial < 300; trial++) {
        int w = 1 + (int)occam_rng_below(&g, 9), h = 1 + (int)occam_rng_below(&g, 7);
        int in = w * h, out = 1 + (int)occam_rng_below(&g, 12);
        bool smooth = trial % 2 == 0;
        uint8_t *mk = malloc((size_t)in * out), *back = malloc((size_t)in * out);
        uint8_t live_in[63], live_out[12];
        draw_mask(&g, mk, live_in, live_out, w, h, out, smooth);
        kt ref = {0};
        uint64_t kept = 0;
        for (int o = 0; o < out; o++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    const uint8_t *row = mk + (size_t)o * in;
                    kept += row[y * w + x];
                    if (!live_out[o] || !live_in[y * w + x]) continue;
                    int ctx = at(row, w, y, x - 1) + 2 * at(row, w, y - 1, x) +
                              4 * at(row, w, y - 1, x - 1) + 8 * at(row, w, y - 1, x + 1);
                    kt_code(&ref, ctx, row[y * w + x]);
                }
        occam_grid_coder c;
        occam_grid_coder_init(&c, NULL, NULL);
        occam_grid_mask_code(&c, mk, in, out, live_in, live_out, w);
        cr_assert(fabs(c.bits - ref.bits) <= 1e-9 * (1 + ref.bits),
                  "trial %d: %.12g bits, KT %.12g", trial, c.bits, ref.bits);
        occam_rc_enc e;
        occam_rc_enc_init(&e);
        occam_grid_coder_init(&c, &e, NULL);
        occam_grid_mask_code(&c, mk, in, out, live_in, live_out, w);
        cr_assert_eq(c.rc, OCCAM_OK);
        cr_assert_eq(occam_rc_enc_finish(&e), OCCAM_OK);
        cr_assert(8.0 * (double)e.len <= ref.bits + 16, "trial %d: %zu bytes for %.1f bits", trial,
                  e.len, ref.bits);
        occam_rc_dec d;
        occam_rc_dec_init(&d, e.buf, e.len);
        occam_grid_coder_init(&c, NULL, &d);
        memset(back, 0xAA, (size_t)in * out);
        cr_assert_eq(occam_grid_mask_read(&c, back, in, out, live_in, live_out, w), kept);
        cr_assert(!occam_rc_dec_overrun(&d) && !occam_rc_dec_corrupt(&d));
        cr_assert(memcmp(back, mk, (size_t)in * out) == 0, "trial %d: the mask differs", trial);
        occam_rc_enc_free(&e);
        free(mk);
        free(back);
    }
}

static occam_prior mixture(void)
{
    occam_prior p = {.k = 3, .pinned0 = true};
    double pi[3] = {0.5, 0.3, 0.2}, mu[3] = {0.0, -0.4, 0.7}, sg[3] = {0.05, 0.3, 0.2};
    for (int j = 0; j < 3; j++) {
        p.pi[j] = pi[j];
        p.mu[j] = mu[j];
        p.sigma[j] = sg[j];
    }
    return p;
}

/* |q| costs the mass of both of its bins (bin 0 once), under an asymmetric mixture. */
Test(gridcode, a_folded_bin_costs_the_mass_of_both_bins)
{
    occam_prior p = mixture();
    double delta = 0.05;
    for (int q = -40; q <= 40; q++) {
        double one = exp2(-occam_prior_bin_bits(&p, (q - 0.5) * delta, (q + 0.5) * delta));
        double other = exp2(-occam_prior_bin_bits(&p, (-q - 0.5) * delta, (-q + 0.5) * delta));
        double want = -log2(q == 0 ? one : one + other);
        double got = occam_grid_folded_bits(&p, q, delta);
        cr_assert(fabs(got - want) <= 1e-9 * (1 + fabs(want)), "q %d: %.12g bits, want %.12g", q,
                  got, want);
    }
    /* past 2^52 bins a bin has no width: beyond any code length; nor can a file, whose bin
     * indices are 32-bit, send one past 2^31 - 1 */
    cr_assert_eq(occam_grid_folded_bits(&p, 0x1p60, delta), DBL_MAX);
    cr_assert_eq(occam_grid_folded_bits(&p, 0x1p31, 1e-9), DBL_MAX);
    cr_assert_eq(occam_grid_folded_bits(&p, -0x1p31, 1e-9), DBL_MAX);
    cr_assert(occam_grid_folded_bits(&p, 0x1p31 - 1, 1e-9) < 1e3);
}

/* The values' measure: Σ folded bits of |q| over the kept weights + each nonzero q's sign by
 * KT per context of its neighbours' signs (none, +, −), row by row. Weights smooth in sign
 * cost fewer bits than the same magnitudes with random signs. */
Test(gridcode, value_bits_are_folded_magnitudes_and_kt_signs)
{
    occam_rng g = occam_rng_seed(13, 0);
    occam_prior p = mixture();
    for (int trial = 0; trial < 100; trial++) {
        int w = 1 + (int)occam_rng_below(&g, 9), h = 1 + (int)occam_rng_below(&g, 7);
        int in = w * h, out = 1 + (int)occam_rng_below(&g, 12);
        double delta = 0.01 + 0.1 * occam_rng_uniform(&g);
        float *wt = malloc(sizeof(float) * (size_t)in * out);
        uint8_t *mk = malloc((size_t)in * out), live_in[63], live_out[12];
        draw_mask(&g, mk, live_in, live_out, w, h, out, true);
        for (int o = 0; o < out; o++)
            for (int i = 0; i < in; i++) {
                int x = i % w;
                double mag = fabs(occam_rng_normal(&g)) * 0.3;
                bool neg = trial % 2 ? x >= w / 2 : occam_rng_uniform(&g) < 0.5;
                wt[(size_t)o * in + i] = (float)(neg ? -mag : mag);
            }
        kt ref = {0};
        double mags = 0;
        for (int o = 0; o < out; o++) {
            uint8_t s[63] = {0};
            for (int i = 0; i < in; i++) {
                size_t a = (size_t)o * in + (size_t)i;
                if (!mk[a]) continue;
                double q = round((double)wt[a] / delta);
                mags += occam_grid_folded_bits(&p, q, delta);
                if (q == 0) continue;
                s[i] = q > 0 ? 1 : 2;
                int y = i / w, x = i % w;
                int ctx = at(s, w, y, x - 1) + 3 * at(s, w, y - 1, x) +
                          9 * at(s, w, y - 1, x - 1) + 27 * at(s, w, y - 1, x + 1);
                kt_code(&ref, ctx, q < 0);
            }
        }
        double got = 0;
        cr_assert_eq(occam_grid_value_bits(wt, mk, in, out, delta, &p, w, &got), OCCAM_OK);
        double want = mags + ref.bits;
        cr_assert(fabs(got - want) <= 1e-9 * (1 + want), "trial %d: %.12g bits, want %.12g",
                  trial, got, want);
        /* NULL mask: every weight */
        memset(mk, 1, (size_t)in * out);
        double all_mask = 0, all_null = 0;
        cr_assert_eq(occam_grid_value_bits(wt, mk, in, out, delta, &p, w, &all_mask), OCCAM_OK);
        cr_assert_eq(occam_grid_value_bits(wt, NULL, in, out, delta, &p, w, &all_null), OCCAM_OK);
        cr_assert_eq(all_mask, all_null);
        free(wt);
        free(mk);
    }
}

/* Through the unit-first mask code: on a grid, layer 0 is sent by its grid neighbours when
 * that is shorter (blobs), otherwise as before, one bit dearer, and it round-trips either way. */
Test(gridcode, the_mask_code_takes_the_grid_when_shorter_and_round_trips)
{
    occam_rng g = occam_rng_seed(14, 0);
    int chose[2] = {0, 0};
    for (int trial = 0; trial < 60; trial++) {
        int w = 4 + (int)occam_rng_below(&g, 6), h = 4 + (int)occam_rng_below(&g, 4);
        int widths[3] = {w * h, 8 + (int)occam_rng_below(&g, 20), 3};
        occam_layout lay;
        occam_layout_init(&lay, widths, 3);
        uint8_t *mask = calloc(lay.nparams, 1), *back = calloc(lay.nparams, 1);
        uint8_t live_in[81], live_out[28];
        bool smooth = trial % 2 == 0;
        draw_mask(&g, mask + lay.w_off[0], live_in, live_out, w, h, widths[1], smooth);
        memset(mask + lay.w_off[1], 1, (size_t)widths[1] * 3);
        uint64_t k[2] = {0, (uint64_t)widths[1] * 3};
        for (size_t i = 0; i < (size_t)widths[0] * widths[1]; i++) k[0] += mask[lay.w_off[0] + i];
        if (k[0] == 0) {
            free(mask);
            free(back);
            continue;
        }
        occam_mask_units plain, grid;
        cr_assert_eq(occam_mask_units_find(&plain, &lay, mask, k), OCCAM_OK);
        cr_assert_eq(occam_mask_units_find_grid(&grid, &lay, mask, k, w), OCCAM_OK);
        double pb = occam_mask_units_bits(&plain, &lay, k, 0),
               gb = occam_mask_units_bits(&grid, &lay, k, 0);
        cr_assert(gb <= pb + 1.0 + 1e-9, "trial %d: %g bits on the grid, %g without", trial, gb,
                  pb);
        if (!grid.by_grid) cr_assert(fabs(gb - pb - 1.0) < 1e-9);
        chose[smooth] += grid.by_grid;
        occam_rc_enc e;
        occam_rc_enc_init(&e);
        for (int l = 0; l < 2; l++)
            cr_assert_eq(occam_mask_units_encode(&e, &grid, &lay, mask, k, l), OCCAM_OK);
        cr_assert_eq(occam_rc_enc_finish(&e), OCCAM_OK);
        double all = occam_mask_units_bits(&grid, &lay, k, 0) +
                     occam_mask_units_bits(&grid, &lay, k, 1);
        cr_assert(8.0 * (double)e.len <= all + 24, "trial %d: %zu bytes for %.1f bits", trial,
                  e.len, all);
        occam_rc_dec d;
        occam_rc_dec_init(&d, e.buf, e.len);
        occam_mask_units v;
        cr_assert_eq(occam_mask_units_init(&v, &lay, k, true), OCCAM_OK);
        v.grid_w = w;
        for (int l = 0; l < 2; l++)
            cr_assert_eq(occam_mask_units_decode(&d, &v, &lay, back, k, l), OCCAM_OK);
        cr_assert_eq(v.by_grid, grid.by_grid);
        cr_assert(!occam_rc_dec_overrun(&d));
        cr_assert(memcmp(back + lay.w_off[0], mask + lay.w_off[0],
                         (size_t)widths[0] * widths[1]) == 0, "trial %d", trial);
        cr_assert_eq(occam_mask_units_check(&v, &lay, back, k), OCCAM_OK);
        /* the same stream told one kept weight more is refused, not decoded short */
        uint64_t told[2] = {k[0] + 1, k[1]};
        if (grid.by_grid && told[0] <= (uint64_t)widths[0] * widths[1]) {
            occam_rc_dec_init(&d, e.buf, e.len);
            occam_mask_units f;
            cr_assert_eq(occam_mask_units_init(&f, &lay, told, true), OCCAM_OK);
            f.grid_w = w;
            cr_assert_eq(occam_mask_units_decode(&d, &f, &lay, back, told, 0), OCCAM_ERR_INPUT);
            occam_mask_units_free(&f);
        }
        occam_mask_units_free(&v);
        occam_mask_units_free(&plain);
        occam_mask_units_free(&grid);
        occam_rc_enc_free(&e);
        free(mask);
        free(back);
    }
    /* blobs take the grid code nearly always; scattered bits mostly do not */
    cr_assert(chose[1] >= 25, "the grid code on %d of 30 smooth masks", chose[1]);
    cr_assert(chose[0] <= 15, "the grid code on %d of 30 scattered masks", chose[0]);
}
