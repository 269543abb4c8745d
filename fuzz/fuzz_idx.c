/* libFuzzer harness for the IDX reader (occam_idx_load).
 *
 * Input layout: byte 0 is the mode (bit 0: write both files gzipped; bits 1..7: the class
 * count minus 1, 1..128), bytes 1-2 are a big-endian split position, and the rest is the images
 * file followed by the labels file, cut at (split mod (rest length + 1)). Gzipped files are
 * written with zlib's gzopen, so the reader's gzip path sees well-formed streams most of the
 * time and the fuzzer spends its effort on the IDX structure inside them; damaged gzip streams
 * come from the raw mode (a raw file starting with the gzip magic is inflated too).
 *
 * A load that succeeds must agree with the bytes the harness wrote: n × d pixels, exactly the
 * header's counts, every label below the class count.
 *
 * The images file is also read features only (occam_idx_load_features, `occam predict`'s
 * reader), which takes ubyte files of 2 to 4 dims: where the labelled load succeeds it must
 * too, with the same pixels, and where the labelled load fails on the images file for any
 * reason but its magic number, it must fail with the same message. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "fuzz_util.h"
#include "occam/data.h"

static const char *write_gz(int slot, const uint8_t *data, size_t size)
{
    const char *path = fuzz_file_empty(slot);
    gzFile gz = gzopen(path, "wb1");
    FUZZ_CHECK(gz != NULL);
    FUZZ_CHECK(size == 0 || gzwrite(gz, data, (unsigned)size) == (int)size);
    FUZZ_CHECK(gzclose(gz) == Z_OK);
    return path;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* A successful load matches the files byte for byte. */
static void check_dataset(const occam_dataset *ds, const uint8_t *img, size_t img_len,
                          const uint8_t *lab, size_t lab_len, int classes)
{
    FUZZ_CHECK(img_len >= 16 && lab_len >= 8);
    uint32_t n = be32(img + 4), rows = be32(img + 8), cols = be32(img + 12);
    FUZZ_CHECK(be32(img) == 0x803 && be32(lab) == 0x801 && be32(lab + 4) == n);
    FUZZ_CHECK(ds->n == n && ds->d == (size_t)rows * cols && ds->n > 0 && ds->d > 0);
    FUZZ_CHECK(img_len == 16 + ds->n * ds->d && lab_len == 8 + ds->n);
    FUZZ_CHECK(ds->x && ds->label && !ds->y && ds->classes == classes && ds->targets == 0);
    FUZZ_CHECK((uintptr_t)ds->x % 64 == 0);
    for (size_t i = 0; i < ds->n * ds->d; i++) FUZZ_CHECK(ds->x[i] == (float)img[16 + i]);
    for (size_t i = 0; i < ds->n; i++) {
        FUZZ_CHECK(ds->label[i] >= 0 && ds->label[i] < classes);
        FUZZ_CHECK(ds->label[i] == lab[8 + i]);
    }
}

/* Whether msg is about path alone: "PATH: ..." (the paths are /proc/self/fd/N, so one may be a
 * prefix of the other). */
static bool about(const char *msg, const char *path)
{
    size_t n = strlen(path);
    return strncmp(msg, path, n) == 0 && msg[n] == ':';
}

static void features_only(const char *img_path, const uint8_t *img, size_t img_len, bool exact,
                          int rc, const occam_error *err, const occam_dataset *ds)
{
    occam_dataset fo;
    memset(&fo, 0xA5, sizeof fo);
    occam_error ferr = {0};
    int frc = occam_idx_load_features(&fo, img_path, &ferr);
    fuzz_check_status("occam_idx_load_features", frc, &ferr, img_path);
    if (rc == OCCAM_OK)
        FUZZ_CHECK(frc == OCCAM_OK && fo.n == ds->n && fo.d == ds->d &&
                   memcmp(fo.x, ds->x, fo.n * fo.d * sizeof *fo.x) == 0);
    else if (err->status == OCCAM_ERR_INPUT && about(err->msg, img_path) &&
             !strstr(err->msg, "IDX magic") && !strstr(err->msg, "not an IDX file"))
        FUZZ_CHECK(frc == OCCAM_ERR_INPUT && strcmp(ferr.msg, err->msg) == 0);
    if (frc != OCCAM_OK) {
        FUZZ_CHECK(strstr(ferr.msg, img_path));
        FUZZ_CHECK(!fo.x && !fo.label && !fo.y && fo.n == 0 && fo.d == 0);
        return;
    }
    FUZZ_CHECK(fo.n > 0 && fo.d > 0 && fo.x && (uintptr_t)fo.x % 64 == 0);
    FUZZ_CHECK(!fo.label && !fo.y && fo.classes == 0 && fo.targets == 0);
    if (exact) { /* the reader saw what the harness wrote: magic 0x0802..0x0804, dims, pixels */
        FUZZ_CHECK(img_len >= 4 && be32(img) >= 0x802 && be32(img) <= 0x804);
        size_t head = 4 + 4 * (size_t)img[3];
        FUZZ_CHECK(img_len == head + fo.n * fo.d);
        for (size_t i = 0; i < fo.n * fo.d; i++) FUZZ_CHECK(fo.x[i] == (float)img[head + i]);
    } else {
        fuzz_touch(fo.x, fo.n * fo.d * sizeof *fo.x);
    }
    occam_dataset_free(&fo);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3) return 0;
    int gz = data[0] & 1, classes = (data[0] >> 1) + 1;
    size_t rest = size - 3, split = ((size_t)data[1] << 8 | data[2]) % (rest + 1);
    const uint8_t *img = data + 3, *lab = data + 3 + split;
    size_t img_len = split, lab_len = rest - split;
    const char *img_path = gz ? write_gz(0, img, img_len) : fuzz_file_write(0, img, img_len);
    const char *lab_path = gz ? write_gz(1, lab, lab_len) : fuzz_file_write(1, lab, lab_len);

    occam_dataset ds;
    memset(&ds, 0xA5, sizeof ds); /* the reader must not rely on a zeroed output */
    occam_error err = {0};
    int rc = occam_idx_load(&ds, img_path, lab_path, classes, &err);
    fuzz_check_status("occam_idx_load", rc, &err, NULL);
    /* A raw file that happens to be gzip data is inflated by the reader; compare only what
     * the harness knows the reader saw. */
    bool img_raw = gz || img_len < 2 || img[0] != 0x1f || img[1] != 0x8b;
    bool lab_raw = gz || lab_len < 2 || lab[0] != 0x1f || lab[1] != 0x8b;
    features_only(img_path, img, img_len, img_raw, rc, &err, &ds);
    if (rc != OCCAM_OK) {
        /* Every message names one of the two files. */
        FUZZ_CHECK(strstr(err.msg, img_path) || strstr(err.msg, lab_path));
        /* A failed load leaves a freed, zeroed dataset. */
        FUZZ_CHECK(!ds.x && !ds.label && !ds.y && ds.n == 0 && ds.d == 0);
        return 0;
    }
    if (img_raw && lab_raw)
        check_dataset(&ds, img, img_len, lab, lab_len, classes);
    else {
        for (size_t i = 0; i < ds.n; i++) FUZZ_CHECK(ds.label[i] >= 0 && ds.label[i] < classes);
        fuzz_touch(ds.x, ds.n * ds.d * sizeof *ds.x);
    }
    occam_dataset_free(&ds);
    FUZZ_CHECK(!ds.x && !ds.label && ds.n == 0);
    return 0;
}
