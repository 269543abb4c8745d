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
 * header's counts, every label below the class count. */
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
    if (rc != OCCAM_OK) {
        /* Every message names one of the two files. */
        FUZZ_CHECK(strstr(err.msg, img_path) || strstr(err.msg, lab_path));
        /* A failed load leaves a freed, zeroed dataset. */
        FUZZ_CHECK(!ds.x && !ds.label && !ds.y && ds.n == 0 && ds.d == 0);
        return 0;
    }
    /* A raw file that happens to be gzip data is inflated by the reader; compare only what
     * the harness knows the reader saw. */
    bool img_raw = gz || img_len < 2 || img[0] != 0x1f || img[1] != 0x8b;
    bool lab_raw = gz || lab_len < 2 || lab[0] != 0x1f || lab[1] != 0x8b;
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
