/* libFuzzer harness for the .occ reader (occam_occ_read) into a 4-3-2 model.
 *
 * Input layout: byte 0 is the mode, the rest is the file. With bit 0 of the mode set, the
 * harness rewrites the file-length field and the trailing CRC-64 to match the bytes (when the
 * file starts with the magic and is long enough), so most inputs get past the integrity checks
 * and the fuzzer explores the header fields, the payload parser, the priors and the range
 * decoder; with it clear the file goes in as it is, so the magic, version, length and checksum
 * checks are fuzzed too.
 *
 * A decode that succeeds must agree with its own header: per layer exactly k active weights,
 * mask bytes 0 or 1, pruned weights 0, finite weights, widths that fit the model. A failed one
 * must leave the model as it was. The layout is documented in src/mdl/occfile.c. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "occam/config.h"
#include "occam/model.h"
#include "occam/occfile.h"

#define HEAD_FIXED 24 /* magic, version, file length, L */
#define HEAD_LAYER 26 /* per layer: u64 k, u8 components, u8 pinned, i32 qlo, qhi, bqlo, bqhi */

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t le64(const uint8_t *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }

/* Bytes of task, activation, (versions 4 on) the data scaling (normalize, normalize_targets),
 * (version 8 on) the inputs' image width and (version 9 on) the training rows (u64 count, u32
 * CRC); version 3 files, still read, lack the scaling. */
static size_t head_mid(const uint8_t *f)
{
    uint32_t v = le32(f + 8);
    return v == 3 ? 8 : v < 8 ? 16 : v < 9 ? 20 : 32;
}

/* Header length for L layers: the fixed part, widths and declared widths, head_mid, the
 * per-layer fields. 0 if the file cannot hold it and the checksum, or L is out of range. */
static size_t header_len(const uint8_t *f, size_t n)
{
    if (n < HEAD_FIXED) return 0;
    uint32_t L = le32(f + 20);
    if (L < 1 || L >= OCCAM_MAX_LAYERS) return 0;
    size_t h = HEAD_FIXED + 8 * ((size_t)L + 1) + head_mid(f) + HEAD_LAYER * (size_t)L;
    return h + 8 <= n ? h : 0;
}

/* The decoded model against the file's header (f[0..n) is the file that was read). */
static void check_model(const occam_model *m, const uint8_t *f, size_t n)
{
    const occam_layout *lay = &m->lay;
    FUZZ_CHECK(lay->nlayers == 2 && lay->width[0] == 4 && lay->width[2] == 2);
    FUZZ_CHECK(lay->width[1] >= 1 && lay->width[1] <= 3 && m->mask);
    FUZZ_CHECK(header_len(f, n) != 0 && le64(f + 12) == n);
    const uint8_t *per_layer = f + HEAD_FIXED + 8 * (lay->nlayers + 1) + head_mid(f);
    for (int l = 0; l < lay->nlayers; l++) {
        FUZZ_CHECK(le32(f + HEAD_FIXED + 4 * l) == (uint32_t)lay->width[l]);
        uint64_t k = le64(per_layer + HEAD_LAYER * l), ones = 0;
        size_t nw = (size_t)lay->width[l] * lay->width[l + 1];
        const uint8_t *mk = m->mask + lay->w_off[l];
        const float *w = m->params + lay->w_off[l];
        for (size_t i = 0; i < nw; i++) {
            FUZZ_CHECK(mk[i] <= 1);
            FUZZ_CHECK(mk[i] || w[i] == 0.0f);
            FUZZ_CHECK(isfinite(w[i]));
            ones += mk[i];
        }
        FUZZ_CHECK(ones == k);
    }
    /* version 7 sends no bias of a hidden unit without a kept weight going out: it reads as 0 */
    if (le32(f + 8) >= 7) {
        int h = lay->width[1];
        const uint8_t *out = m->mask + lay->w_off[1];
        for (int u = 0; u < h; u++) {
            bool goes_out = false;
            for (int o = 0; o < lay->width[2]; o++) goes_out |= out[(size_t)o * h + u] != 0;
            FUZZ_CHECK(goes_out || m->params[lay->b_off[0] + (size_t)u] == 0.0f);
        }
    }
    fuzz_touch(m->params, lay->nparams * sizeof *m->params);
    fuzz_touch(m->mask, lay->nparams);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    size_t n = size - 1;
    uint8_t *file = malloc(n ? n : 1);
    FUZZ_CHECK(file != NULL);
    memcpy(file, data + 1, n);
    if (data[0] & 1) fuzz_fix_occ(file, n);
    const char *path = fuzz_file_write(0, file, n);

    occam_model m;
    occam_error err = {0};
    FUZZ_CHECK(occam_model_create(&m, &fuzz_config_4_3_2()->model, fuzz_config_4_3_2()->data.task, &err) == OCCAM_OK);
    for (size_t i = 0; i < m.lay.nparams; i++) m.params[i] = (float)i + 0.5f;
    occam_model before = m;
    int rc = occam_occ_read(path, &m, &err);
    fuzz_check_status("occam_occ_read", rc, &err, path);
    if (rc != OCCAM_OK) {
        FUZZ_CHECK(memcmp(&m, &before, sizeof m) == 0);
        for (size_t i = 0; i < m.lay.nparams; i++) FUZZ_CHECK(m.params[i] == (float)i + 0.5f);
    } else {
        check_model(&m, file, n);
    }
    occam_model_free(&m);
    free(file);
    return 0;
}
