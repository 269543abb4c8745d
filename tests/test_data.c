/* Tests for the data module: IDX and CSV readers, blobs, normalisation and the config loader.
 *
 * Every test gets a fresh temporary directory (mkdtemp) for its fixture files, written here
 * with known contents, so each check compares exact values. The corrupt-input tests check the
 * status and that the message names the offending file (and record or line). No OpenMP here:
 * Criterion forks each test and libgomp is not fork-safe. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "occam/config.h"
#include "occam/data.h"
#include "occam/mem.h"
#include "tmpdir.h"

#define FASHION_DIR "/usr/share/datasets/fashion-mnist"

/* ---- fixtures ---------------------------------------------------------------------------- */

static char g_dir[64];

typedef struct path_t {
    char s[256];
} path_t;

typedef struct bytes {
    unsigned char *p;
    size_t len;
} bytes;

static void data_setup(void)
{
    strcpy(g_dir, "/tmp/occam-test-data-XXXXXX");
    cr_assert(mkdtemp(g_dir), "mkdtemp failed");
}

static void data_teardown(void)
{
    DIR *d = opendir(g_dir);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d));) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", g_dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(g_dir);
}

TestSuite(data, .init = data_setup, .fini = data_teardown);

static path_t fixture(const char *name)
{
    path_t p;
    snprintf(p.s, sizeof p.s, "%s/%s", g_dir, name);
    return p;
}

/* Writes len bytes to g_dir/name, gzipped when gz is set. */
static path_t write_bytes(const char *name, const void *data, size_t len, bool gz)
{
    path_t p = fixture(name);
    if (gz) {
        gzFile f = gzopen(p.s, "wb");
        cr_assert(f);
        cr_assert_eq(gzwrite(f, data, (unsigned)len), (int)len);
        cr_assert_eq(gzclose(f), Z_OK);
    } else {
        FILE *f = fopen(p.s, "wb");
        cr_assert(f);
        cr_assert_eq(fwrite(data, 1, len, f), len);
        cr_assert_eq(fclose(f), 0);
    }
    return p;
}

static path_t write_text(const char *name, const char *text)
{
    return write_bytes(name, text, strlen(text), false);
}

static bytes read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert(f);
    fseek(f, 0, SEEK_END);
    bytes b = {.len = (size_t)ftell(f)};
    rewind(f);
    b.p = malloc(b.len);
    cr_assert_eq(fread(b.p, 1, b.len, f), b.len);
    fclose(f);
    return b;
}

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* An IDX file: magic, ndims big-endian dims, then `len` data bytes (which may disagree with
 * the dims, to build broken files). */
static bytes idx_bytes(uint32_t magic, const uint32_t *dim, int ndims, const void *data,
                       size_t len)
{
    bytes b = {.len = 4 + 4 * (size_t)ndims + len};
    b.p = malloc(b.len);
    put_be32(b.p, magic);
    for (int i = 0; i < ndims; i++) put_be32(b.p + 4 + 4 * i, dim[i]);
    if (len) memcpy(b.p + 4 + 4 * ndims, data, len);
    return b;
}

static path_t write_idx_images(const char *name, uint32_t n, uint32_t rows, uint32_t cols,
                               const void *pix, size_t len, bool gz)
{
    const uint32_t dim[3] = {n, rows, cols};
    bytes b = idx_bytes(0x803, dim, 3, pix, len);
    path_t p = write_bytes(name, b.p, b.len, gz);
    free(b.p);
    return p;
}

static path_t write_idx_labels(const char *name, uint32_t n, const void *lab, size_t len,
                               bool gz)
{
    bytes b = idx_bytes(0x801, &n, 1, lab, len);
    path_t p = write_bytes(name, b.p, b.len, gz);
    free(b.p);
    return p;
}

#define assert_msg_has(err, text)                                                             \
    cr_assert(strstr((err).msg, (text)), "message \"%s\" lacks \"%s\"", (err).msg, (text))

static void assert_zeroed(const occam_dataset *ds)
{
    cr_assert(!ds->x && !ds->label && !ds->y && ds->n == 0 && ds->d == 0);
}

/* ---- IDX --------------------------------------------------------------------------------- */

/* 3 images of 2 × 3 pixels and their labels. */
static const unsigned char k_pix[18] = {0,   1, 2, 3, 4, 5, 255, 254, 128,
                                         7,   8, 9, 10, 0, 0, 0, 99, 200};
static const unsigned char k_lab[3] = {9, 0, 4};

static void check_small(const occam_dataset *ds)
{
    cr_assert_eq(ds->n, 3);
    cr_assert_eq(ds->d, 6);
    cr_assert_eq(ds->classes, 10);
    cr_assert_eq(ds->targets, 0);
    cr_assert_null(ds->y);
    cr_assert_eq((uintptr_t)ds->x % OCCAM_ALIGN, 0);
    for (int k = 0; k < 18; k++) cr_assert_eq(ds->x[k], (float)k_pix[k], "pixel %d", k);
    for (int i = 0; i < 3; i++) cr_assert_eq(ds->label[i], k_lab[i], "label %d", i);
}

static void load_small(bool gz_images, bool gz_labels)
{
    path_t img = write_idx_images("img", 3, 2, 3, k_pix, sizeof k_pix, gz_images);
    path_t lab = write_idx_labels("lab", 3, k_lab, sizeof k_lab, gz_labels);
    occam_dataset ds;
    occam_error err = {0};
    cr_assert_eq(occam_idx_load(&ds, img.s, lab.s, 10, &err), OCCAM_OK, "%s", err.msg);
    check_small(&ds);
    cr_assert_eq(ds.grid_w, 3, "2 × 3 images are 3 pixels wide, not %d", ds.grid_w);
    occam_dataset_free(&ds);
    assert_zeroed(&ds);
}

Test(data, idx_raw_values) { load_small(false, false); }
Test(data, idx_gz_values) { load_small(true, true); }
Test(data, idx_mixed_gz_and_raw) { load_small(true, false); }

/* 100 images of 28 × 28 span two 64 KiB chunks. */
static void load_multi_chunk(bool gz)
{
    enum { N = 100, D = 28 * 28 };
    unsigned char *pix = malloc(N * D), lab[N];
    for (int k = 0; k < N * D; k++) pix[k] = (unsigned char)((k * 31 + 7) % 256);
    for (int i = 0; i < N; i++) lab[i] = (unsigned char)(i % 10);
    path_t img = write_idx_images("img", N, 28, 28, pix, N * D, gz);
    path_t lp = write_idx_labels("lab", N, lab, N, gz);
    occam_dataset ds;
    occam_error err = {0};
    cr_assert_eq(occam_idx_load(&ds, img.s, lp.s, 10, &err), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(ds.n, N);
    cr_assert_eq(ds.d, D);
    for (int k = 0; k < N * D; k++) cr_assert_eq(ds.x[k], (float)pix[k], "pixel %d", k);
    for (int i = 0; i < N; i++) cr_assert_eq(ds.label[i], i % 10);
    occam_dataset_free(&ds);
    free(pix);
}

Test(data, idx_multi_chunk_raw) { load_multi_chunk(false); }
Test(data, idx_multi_chunk_gz) { load_multi_chunk(true); }

/* A FIFO fed by a writer process: the bytes it sends, then the end. */
static pid_t feed_fifo(const char *fifo, const void *text, size_t len)
{
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        signal(SIGPIPE, SIG_DFL);
        FILE *f = fopen(fifo, "w");
        bool ok = f && fwrite(text, 1, len, f) == len;
        _exit(f && fclose(f) == 0 && ok ? 0 : 1);
    }
    return pid;
}

static void reap(pid_t pid)
{
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
}

/* Through a pipe the file's length shows only as it is read: the array grows with the data
 * (3000 records of 28 × 28 are past its first room) and ends aligned, with the same values. */
static void features_through_fifo(bool gz)
{
    enum { N = 3000, D = 28 * 28 };
    unsigned char *pix = malloc((size_t)N * D);
    for (size_t k = 0; k < (size_t)N * D; k++) pix[k] = (unsigned char)((k * 31 + 7) % 256);
    const uint32_t dim[3] = {N, 28, 28};
    bytes b = idx_bytes(0x803, dim, 3, pix, (size_t)N * D);
    if (gz) {
        path_t z = write_bytes("img.gz", b.p, b.len, true);
        free(b.p);
        b = read_all(z.s);
    }
    path_t fifo = fixture("fifo");
    cr_assert_eq(mkfifo(fifo.s, 0600), 0);
    pid_t pid = feed_fifo(fifo.s, b.p, b.len);
    occam_dataset ds;
    occam_error err = {0};
    bool idx = false;
    cr_assert_eq(occam_features_load(&ds, fifo.s, OCCAM_CSV_HEADER_AUTO,
                                     OCCAM_LABEL_NONE, NULL, 0, &idx, &err), OCCAM_OK,
                 "%s", err.msg);
    reap(pid);
    cr_assert(idx);
    cr_assert_eq(ds.n, N);
    cr_assert_eq(ds.d, D);
    cr_assert_eq((uintptr_t)ds.x % OCCAM_ALIGN, 0);
    for (size_t k = 0; k < (size_t)N * D; k++) cr_assert_eq(ds.x[k], (float)pix[k], "%zu", k);
    occam_dataset_free(&ds);
    free(pix);
    free(b.p);
}

Test(data, idx_features_through_fifo_raw) { features_through_fifo(false); }
Test(data, idx_features_through_fifo_gz) { features_through_fifo(true); }

/* 56 bytes whose header claims 2^31 records of 20 bytes: "truncated" (exit 2), by the file's
 * size before anything is allocated, from a pipe once its data ends; never "out of memory". */
Test(data, idx_claim_beyond_the_data_is_truncated)
{
    unsigned char data[40];
    memset(data, 7, sizeof data);
    const uint32_t dim[3] = {UINT32_C(1) << 31, 4, 5};
    bytes b = idx_bytes(0x803, dim, 3, data, sizeof data);
    cr_assert_eq(b.len, 56);
    const char *want = "truncated: the header claims 2147483648 records of 20 bytes "
                       "(42949672960 bytes), the file has 40 (it ends in record 2)";
    path_t raw = write_bytes("claim", b.p, b.len, false);
    path_t fifo = fixture("fifo");
    cr_assert_eq(mkfifo(fifo.s, 0600), 0);
    for (int pipe = 0; pipe < 2; pipe++) {
        pid_t pid = pipe ? feed_fifo(fifo.s, b.p, b.len) : 0;
        const char *path = pipe ? fifo.s : raw.s;
        occam_dataset ds;
        occam_error err = {0};
        bool idx = false;
        cr_assert_eq(occam_features_load(&ds, path, OCCAM_CSV_HEADER_AUTO,
                                         OCCAM_LABEL_NONE, NULL, 0, &idx, &err),
                     OCCAM_ERR_INPUT, "%s", err.msg);
        assert_msg_has(err, path);
        assert_msg_has(err, want);
        assert_zeroed(&ds);
        if (pipe) reap(pid);
    }
    path_t gz = write_bytes("claim.gz", b.p, b.len, true);
    occam_dataset ds;
    occam_error err = {0};
    cr_assert_eq(occam_idx_load_features(&ds, gz.s, &err), OCCAM_ERR_INPUT, "%s", err.msg);
    assert_msg_has(err, "truncated: the header claims 2147483648 records of 20 bytes "
                        "(42949672960 bytes), the file has ");
    assert_msg_has(err, " gzip bytes");
    free(b.p);
}

/* Loads img/lab expecting OCCAM_ERR_INPUT with `path` and `text` in the message. */
static void expect_idx_error(const char *img, const char *lab, int classes, const char *path,
                             const char *text)
{
    occam_dataset ds;
    occam_error err = {0};
    cr_assert_eq(occam_idx_load(&ds, img, lab, classes, &err), OCCAM_ERR_INPUT, "msg: %s",
                 err.msg);
    cr_assert_eq(err.status, OCCAM_ERR_INPUT);
    assert_msg_has(err, path);
    if (text) assert_msg_has(err, text);
    assert_zeroed(&ds);
}

static void truncated_images(bool gz)
{
    /* 14 of 18 pixel bytes: records 0 and 1 are whole, record 2 runs out. */
    path_t img = write_idx_images("img", 3, 2, 3, k_pix, 14, gz);
    path_t lab = write_idx_labels("lab", 3, k_lab, 3, false);
    expect_idx_error(img.s, lab.s, 10, img.s,
                     "truncated: the header claims 3 records of 6 bytes (18 bytes), the file "
                     "has 14 (it ends in record 2)");
}

Test(data, idx_truncated_raw) { truncated_images(false); }
Test(data, idx_truncated_gz) { truncated_images(true); }

Test(data, idx_truncated_gzip_stream)
{
    /* A whole IDX file, but the .gz itself cut in half. */
    unsigned char pix[50 * 64];
    for (size_t k = 0; k < sizeof pix; k++) pix[k] = (unsigned char)(k * 7919 >> 3);
    path_t img = write_idx_images("img.gz", 50, 8, 8, pix, sizeof pix, true);
    bytes b = read_all(img.s);
    write_bytes("img.gz", b.p, b.len / 2, false);
    free(b.p);
    unsigned char lab[50] = {0};
    path_t lp = write_idx_labels("lab", 50, lab, sizeof lab, false);
    expect_idx_error(img.s, lp.s, 10, img.s, "truncated");
}

Test(data, idx_truncated_labels)
{
    path_t img = write_idx_images("img", 3, 2, 3, k_pix, sizeof k_pix, false);
    path_t lab = write_idx_labels("lab", 3, k_lab, 1, true);
    expect_idx_error(img.s, lab.s, 10, lab.s,
                     "truncated: the header claims 3 records of 1 byte (3 bytes), the file has "
                     "1 (it ends in record 1)");
}

Test(data, idx_truncated_header)
{
    const unsigned char head[6] = {0, 0, 8, 3, 0, 0};
    path_t img = write_bytes("img", head, sizeof head, false);
    path_t lab = write_idx_labels("lab", 3, k_lab, 3, false);
    expect_idx_error(img.s, lab.s, 10, img.s, "truncated IDX header");
}

Test(data, idx_wrong_magic)
{
    /* A label file where the images should be. */
    path_t img = write_idx_labels("img", 3, k_lab, 3, false);
    path_t lab = write_idx_labels("lab", 3, k_lab, 3, false);
    expect_idx_error(img.s, lab.s, 10, img.s, "0x00000801");
    expect_idx_error(img.s, lab.s, 10, img.s, "expected 0x00000803");
    path_t junk = write_text("junk", "hello, world");
    expect_idx_error(junk.s, lab.s, 10, junk.s, "not an IDX file");
}

Test(data, idx_count_mismatch)
{
    path_t img = write_idx_images("img", 3, 2, 3, k_pix, sizeof k_pix, false);
    path_t lab = write_idx_labels("lab", 2, k_lab, 2, false);
    expect_idx_error(img.s, lab.s, 10, img.s, lab.s);
    expect_idx_error(img.s, lab.s, 10, img.s, "has 3 images");
    expect_idx_error(img.s, lab.s, 10, img.s, "has 2 labels");
}

Test(data, idx_label_out_of_range)
{
    const unsigned char lab[3] = {9, 10, 0};
    path_t img = write_idx_images("img", 3, 2, 3, k_pix, sizeof k_pix, false);
    path_t lp = write_idx_labels("lab", 3, lab, 3, false);
    expect_idx_error(img.s, lp.s, 10, lp.s, "record 1: label 10 out of range [0, 10)");
    /* The same file is fine with 11 classes. */
    occam_dataset ds;
    occam_error err = {0};
    cr_assert_eq(occam_idx_load(&ds, img.s, lp.s, 11, &err), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(ds.label[1], 10);
    occam_dataset_free(&ds);
}

Test(data, idx_trailing_bytes)
{
    unsigned char pix[19];
    memcpy(pix, k_pix, 18);
    pix[18] = 42;
    path_t img = write_idx_images("img", 3, 2, 3, pix, sizeof pix, false);
    path_t lab = write_idx_labels("lab", 3, k_lab, 3, false);
    expect_idx_error(img.s, lab.s, 10, img.s, "trailing bytes");
    const unsigned char lab4[4] = {1, 2, 3, 4};
    path_t img_ok = write_idx_images("img2.gz", 3, 2, 3, k_pix, 18, true);
    path_t lab_long = write_idx_labels("lab2.gz", 3, lab4, 4, true);
    expect_idx_error(img_ok.s, lab_long.s, 10, lab_long.s, "trailing bytes");
}

Test(data, idx_corrupt_gzip)
{
    enum { N = 100, D = 64 };
    unsigned char pix[N * D], lab[N] = {0};
    uint32_t s = 12345;
    for (int k = 0; k < N * D; k++) {
        s = s * 1664525u + 1013904223u;
        pix[k] = (unsigned char)((s >> 24) & 0x3f); /* compressible, but not trivially */
    }
    path_t img = write_idx_images("img.gz", N, 8, 8, pix, sizeof pix, true);
    bytes b = read_all(img.s);
    for (size_t k = b.len / 2; k < b.len / 2 + 8; k++) b.p[k] ^= 0xa5;
    write_bytes("img.gz", b.p, b.len, false);
    free(b.p);
    path_t lp = write_idx_labels("lab", N, lab, N, false);
    occam_dataset ds;
    occam_error err = {0};
    cr_assert_eq(occam_idx_load(&ds, img.s, lp.s, 10, &err), OCCAM_ERR_INPUT, "msg: %s", err.msg);
    assert_msg_has(err, img.s);
    cr_assert(strstr(err.msg, "gzip") || strstr(err.msg, "truncated"), "msg: %s", err.msg);
    assert_zeroed(&ds);
}

Test(data, idx_gzip_crc_mismatch)
{
    /* Intact deflate data with a wrong CRC: only reading to the end of the stream notices. */
    path_t img = write_idx_images("img.gz", 3, 2, 3, k_pix, sizeof k_pix, true);
    bytes b = read_all(img.s);
    b.p[b.len - 8] ^= 1; /* the gzip trailer is CRC32 then the length, little-endian */
    write_bytes("img.gz", b.p, b.len, false);
    free(b.p);
    path_t lab = write_idx_labels("lab", 3, k_lab, 3, false);
    expect_idx_error(img.s, lab.s, 10, img.s, "corrupt gzip stream");
}

Test(data, idx_gzip_trailer_missing)
{
    /* All the IDX data inflates, but the gzip stream stops before its CRC and length. */
    path_t img = write_idx_images("img.gz", 3, 2, 3, k_pix, sizeof k_pix, true);
    bytes b = read_all(img.s);
    write_bytes("img.gz", b.p, b.len - 4, false);
    free(b.p);
    path_t lab = write_idx_labels("lab", 3, k_lab, 3, false);
    expect_idx_error(img.s, lab.s, 10, img.s, "corrupt gzip stream");
}

Test(data, idx_empty_file)
{
    path_t img = write_bytes("img", "", 0, false);
    path_t lab = write_idx_labels("lab", 3, k_lab, 3, false);
    expect_idx_error(img.s, lab.s, 10, img.s, "empty file");
    path_t img_gz = write_bytes("img.gz", "", 0, true);
    expect_idx_error(img_gz.s, lab.s, 10, img_gz.s, "empty file");
}

Test(data, idx_nonexistent_file)
{
    path_t img = fixture("missing");
    path_t lab = write_idx_labels("lab", 3, k_lab, 3, false);
    expect_idx_error(img.s, lab.s, 10, img.s, "cannot open");
}

Test(data, idx_bad_dimensions)
{
    path_t lab = write_idx_labels("lab", 3, k_lab, 3, false);
    path_t zero = write_idx_images("zero", 3, 0, 3, NULL, 0, false);
    expect_idx_error(zero.s, lab.s, 10, zero.s, "dimension 1 is 0");
    path_t many = write_idx_images("many", 0x80000001u, 1, 1, NULL, 0, false);
    expect_idx_error(many.s, lab.s, 10, many.s, "2^31");
    path_t big = write_idx_images("big", 1, 5000, 5000, NULL, 0, false);
    expect_idx_error(big.s, lab.s, 10, big.s, "2^24");
    path_t huge = write_idx_images("huge", 1, 0xffffffffu, 0xffffffffu, NULL, 0, false);
    expect_idx_error(huge.s, lab.s, 10, huge.s, "2^24");
}

Test(data, idx_bad_class_count)
{
    path_t img = write_idx_images("img", 3, 2, 3, k_pix, sizeof k_pix, false);
    path_t lab = write_idx_labels("lab", 3, k_lab, 3, false);
    expect_idx_error(img.s, lab.s, 0, lab.s, "class count 0");
}

Test(data, idx_find)
{
    char buf[512];
    occam_error err = {0};
    path_t gz = write_bytes("stem.gz", "x", 1, false);
    cr_assert_eq(occam_idx_find(buf, sizeof buf, g_dir, "stem", &err), OCCAM_OK, "%s", err.msg);
    cr_assert_str_eq(buf, gz.s);
    path_t raw = write_bytes("stem", "x", 1, false);
    cr_assert_eq(occam_idx_find(buf, sizeof buf, g_dir, "stem", &err), OCCAM_OK, "%s", err.msg);
    cr_assert_str_eq(buf, raw.s, "the raw file wins over the .gz");

    cr_assert_eq(occam_idx_find(buf, sizeof buf, g_dir, "other", &err), OCCAM_ERR_INPUT);
    path_t other = fixture("other"), other_gz = fixture("other.gz");
    assert_msg_has(err, other.s);
    assert_msg_has(err, other_gz.s);
    cr_assert_eq(occam_idx_find(buf, 8, g_dir, "stem", &err), OCCAM_ERR_INPUT);
    assert_msg_has(err, "too long");
}

Test(data, idx_fashion_mnist)
{
    path_t p[4];
    static const char *const stem[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                        "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
    occam_error err = {0};
    for (int i = 0; i < 4; i++)
        if (occam_idx_find(p[i].s, sizeof p[i].s, FASHION_DIR, stem[i], &err) != OCCAM_OK)
            cr_skip_test("Fashion-MNIST not installed: %s", err.msg);

    occam_dataset train, test;
    cr_assert_eq(occam_idx_load(&train, p[0].s, p[1].s, 10, &err), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(occam_idx_load(&test, p[2].s, p[3].s, 10, &err), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(train.n, 60000);
    cr_assert_eq(train.d, 784);
    cr_assert_eq(test.n, 10000);
    cr_assert_eq(test.d, 784);
    /* Checked independently with Python's gzip module: both sets start with an ankle boot
     * (9), and the first training image's pixels sum to 76247. */
    cr_assert_eq(train.label[0], 9);
    cr_assert_eq(test.label[0], 9);
    double sum = 0;
    for (int k = 0; k < 784; k++) sum += train.x[k];
    cr_assert_eq(sum, 76247.0);
    float lo = 255, hi = 0;
    for (size_t k = 0; k < train.n * train.d; k++) {
        lo = fminf(lo, train.x[k]);
        hi = fmaxf(hi, train.x[k]);
    }
    cr_assert_eq(lo, 0.0f);
    cr_assert_eq(hi, 255.0f);
    int count[10] = {0};
    for (size_t i = 0; i < train.n; i++) count[train.label[i]]++;
    for (int c = 0; c < 10; c++) cr_assert_eq(count[c], 6000, "class %d", c);
    occam_dataset_free(&train);
    occam_dataset_free(&test);
}

/* ---- IDX, features only ----------------------------------------------------------------- */

static void expect_features_ok(const char *path, size_t n, size_t d, const unsigned char *pix,
                               int grid_w)
{
    occam_dataset ds;
    occam_error err = {0};
    cr_assert_eq(occam_idx_load_features(&ds, path, &err), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(ds.n, n);
    cr_assert_eq(ds.d, d);
    cr_assert_eq(ds.grid_w, grid_w, "%s: image width %d", path, ds.grid_w);
    cr_assert_null(ds.label);
    cr_assert_null(ds.y);
    cr_assert_eq(ds.classes, 0);
    cr_assert_eq(ds.targets, 0);
    cr_assert_eq((uintptr_t)ds.x % OCCAM_ALIGN, 0);
    for (size_t k = 0; k < n * d; k++) cr_assert_eq(ds.x[k], (float)pix[k], "pixel %zu", k);
    occam_dataset_free(&ds);
}

/* An images file (3 dims), a plain n × d matrix (2) and 4 dims all read as records × the rest,
 * gzipped or raw; only the images file is an image grid (rows × cols, 3 wide here), which the
 * model code may send the first layer by. */
Test(data, idx_features_values)
{
    for (int gz = 0; gz < 2; gz++) {
        path_t img = write_idx_images("img", 3, 2, 3, k_pix, sizeof k_pix, gz);
        expect_features_ok(img.s, 3, 6, k_pix, 3);
        const uint32_t dim2[2] = {3, 6}, dim4[4] = {3, 1, 2, 3};
        bytes b2 = idx_bytes(0x802, dim2, 2, k_pix, sizeof k_pix);
        bytes b4 = idx_bytes(0x804, dim4, 4, k_pix, sizeof k_pix);
        path_t p2 = write_bytes("m2", b2.p, b2.len, gz), p4 = write_bytes("m4", b4.p, b4.len, gz);
        expect_features_ok(p2.s, 3, 6, k_pix, 0);
        expect_features_ok(p4.s, 3, 6, k_pix, 0);
        free(b2.p);
        free(b4.p);
    }
}

/* Loads img both ways (with a matching labels file, and features only) and checks that both
 * fail with the same message. */
static void expect_same_idx_error(const char *img, uint32_t n, const char *text)
{
    unsigned char *lab = calloc(n ? n : 1, 1);
    path_t lp = write_idx_labels("lab", n, lab, n, false);
    free(lab);
    expect_idx_error(img, lp.s, 10, img, text);
    occam_error a = {0}, b = {0};
    occam_dataset ds;
    cr_assert_eq(occam_idx_load(&ds, img, lp.s, 10, &a), OCCAM_ERR_INPUT);
    memset(&ds, 0xA5, sizeof ds); /* as the fuzz harness does: nothing may rely on zeroes */
    cr_assert_eq(occam_idx_load_features(&ds, img, &b), OCCAM_ERR_INPUT, "msg: %s", b.msg);
    cr_assert_eq(b.status, OCCAM_ERR_INPUT);
    cr_assert_str_eq(b.msg, a.msg);
    assert_zeroed(&ds);
}

Test(data, idx_features_bad_input_same_messages)
{
    for (int gz = 0; gz < 2; gz++) {
        path_t cut = write_idx_images("cut", 3, 2, 3, k_pix, 14, gz);
        expect_same_idx_error(cut.s, 3,
                              "truncated: the header claims 3 records of 6 bytes (18 bytes), "
                              "the file has 14 (it ends in record 2)");
        unsigned char pix[19];
        memcpy(pix, k_pix, 18);
        pix[18] = 42;
        path_t trail = write_idx_images("trail", 3, 2, 3, pix, sizeof pix, gz);
        expect_same_idx_error(trail.s, 3, "trailing bytes after the 3 records");
        path_t empty = write_bytes("empty", "", 0, gz);
        expect_same_idx_error(empty.s, 3, "empty file");
    }
    const unsigned char head[6] = {0, 0, 8, 3, 0, 0};
    path_t hp = write_bytes("head", head, sizeof head, false);
    expect_same_idx_error(hp.s, 3, "truncated IDX header");
    path_t zero = write_idx_images("zero", 3, 0, 3, NULL, 0, false);
    expect_same_idx_error(zero.s, 3, "dimension 1 is 0");
    path_t none = write_idx_images("none", 0, 2, 3, NULL, 0, false);
    expect_same_idx_error(none.s, 3, "dimension 0 is 0");
    path_t many = write_idx_images("many", 0x80000001u, 1, 1, NULL, 0, false);
    expect_same_idx_error(many.s, 3, "2^31");
    path_t big = write_idx_images("big", 1, 5000, 5000, NULL, 0, false);
    expect_same_idx_error(big.s, 3, "2^24");
    path_t missing = fixture("missing");
    expect_same_idx_error(missing.s, 3, "cannot open");

    /* The gzip checks: a stream cut short, a wrong CRC. */
    path_t crc = write_idx_images("crc.gz", 3, 2, 3, k_pix, sizeof k_pix, true);
    bytes b = read_all(crc.s);
    b.p[b.len - 8] ^= 1;
    write_bytes("crc.gz", b.p, b.len, false);
    write_bytes("short.gz", b.p, b.len - 4, false);
    free(b.p);
    expect_same_idx_error(crc.s, 3, "corrupt gzip stream");
    expect_same_idx_error(fixture("short.gz").s, 3, "corrupt gzip stream");
}

/* The one difference: which magic numbers are taken. The message has the same form and names
 * what was expected. */
Test(data, idx_features_magic)
{
    path_t lab = write_idx_labels("lab", 3, k_lab, 3, false);
    occam_dataset ds;
    occam_error a = {0}, b = {0};
    cr_assert_eq(occam_idx_load(&ds, lab.s, lab.s, 10, &a), OCCAM_ERR_INPUT);
    cr_assert_eq(occam_idx_load_features(&ds, lab.s, &b), OCCAM_ERR_INPUT);
    assert_zeroed(&ds);
    char want[512];
    snprintf(want, sizeof want, "%s: wrong IDX magic 0x00000801 (type 0x08, 1 dims), expected "
             "0x00000803 (ubyte images, 3 dims)", lab.s);
    cr_assert_str_eq(a.msg, want);
    snprintf(want, sizeof want, "%s: wrong IDX magic 0x00000801 (type 0x08, 1 dims), expected "
             "0x00000802 to 0x00000804 (ubyte records, 2 to 4 dims)", lab.s);
    cr_assert_str_eq(b.msg, want);

    const uint32_t dim[5] = {3, 1, 1, 2, 3};
    bytes b5 = idx_bytes(0x805, dim, 5, k_pix, sizeof k_pix);
    bytes bf = idx_bytes(0xd03, dim, 3, k_pix, sizeof k_pix); /* float32 */
    path_t p5 = write_bytes("d5", b5.p, b5.len, false), pf = write_bytes("f", bf.p, bf.len, false);
    free(b5.p);
    free(bf.p);
    cr_assert_eq(occam_idx_load_features(&ds, p5.s, &b), OCCAM_ERR_INPUT);
    assert_msg_has(b, "wrong IDX magic 0x00000805 (type 0x08, 5 dims)");
    cr_assert_eq(occam_idx_load_features(&ds, pf.s, &b), OCCAM_ERR_INPUT);
    assert_msg_has(b, "wrong IDX magic 0x00000d03 (type 0x0d, 3 dims)");
    path_t junk = write_text("junk", "hello, world");
    cr_assert_eq(occam_idx_load_features(&ds, junk.s, &b), OCCAM_ERR_INPUT);
    assert_msg_has(b, "not an IDX file: magic 0x68656c6c");
}

/* predict's loader tells IDX from CSV by the first bytes of the one stream it reads: IDX
 * (raw or gzipped) starts with two 0 bytes, text never does; what is too short for a magic is
 * CSV, and fails as CSV. */
Test(data, features_load_tells_idx_from_csv)
{
    path_t raw = write_idx_images("img", 3, 2, 3, k_pix, sizeof k_pix, false);
    path_t gz = write_idx_images("img.gz", 3, 2, 3, k_pix, sizeof k_pix, true);
    path_t csv = write_text("x.csv", "1,2,3\n");
    path_t csv_gz = write_bytes("x.csv.gz", "1,2,3\n", 6, true);
    path_t empty = write_text("empty", "");
    path_t two = write_bytes("two", "\0\0", 2, false);
    const struct {
        const char *path;
        bool idx;
        int rc;
        size_t n, d;
    } cases[] = {{raw.s, true, OCCAM_OK, 3, 6},        {gz.s, true, OCCAM_OK, 3, 6},
                 {csv.s, false, OCCAM_OK, 1, 3},       {csv_gz.s, false, OCCAM_OK, 1, 3},
                 {empty.s, false, OCCAM_ERR_INPUT, 0, 0}, {two.s, false, OCCAM_ERR_INPUT, 0, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        occam_dataset ds;
        occam_error err = {0};
        bool idx = !cases[i].idx;
        cr_assert_eq(occam_features_load(&ds, cases[i].path, OCCAM_CSV_HEADER_AUTO,
                                         OCCAM_LABEL_NONE, NULL, 0, &idx, &err),
                     cases[i].rc, "%s: %s", cases[i].path, err.msg);
        cr_assert_eq(idx, cases[i].idx, "%s", cases[i].path);
        cr_assert_eq(ds.n, cases[i].n, "%s", cases[i].path);
        cr_assert_eq(ds.d, cases[i].d, "%s", cases[i].path);
        if (cases[i].rc == OCCAM_OK) {
            cr_assert_null(ds.label);
            cr_assert_null(ds.y);
            cr_assert_eq((uintptr_t)ds.x % OCCAM_ALIGN, 0);
        } else {
            assert_msg_has(err, cases[i].path);
            assert_zeroed(&ds);
        }
        occam_dataset_free(&ds);
    }
    occam_dataset ds;
    occam_error err = {0};
    bool idx = true;
    path_t missing = fixture("missing");
    cr_assert_eq(occam_features_load(&ds, missing.s, OCCAM_CSV_HEADER_AUTO,
                                     OCCAM_LABEL_NONE, NULL, 0, &idx, &err),
                 OCCAM_ERR_INPUT);
    cr_assert_not(idx);
    assert_msg_has(err, missing.s);
    assert_msg_has(err, "cannot open");
}

/* ---- CSV --------------------------------------------------------------------------------- */

static occam_csv_opts csv_opts(int label, occam_csv_header header, occam_task task, int classes)
{
    return (occam_csv_opts){.label = label, .header = header, .task = task, .classes = classes};
}

static occam_csv_opts classify_last(int classes)
{
    return csv_opts(OCCAM_LABEL_LAST, OCCAM_CSV_HEADER_AUTO, OCCAM_TASK_CLASSIFY, classes);
}

/* new rows for predict: no label column */
static occam_csv_opts unlabelled(void)
{
    return csv_opts(OCCAM_LABEL_NONE, OCCAM_CSV_HEADER_AUTO, OCCAM_TASK_CLASSIFY, 0);
}

static void load_csv_ok(occam_dataset *ds, const char *text, occam_csv_opts o)
{
    path_t p = write_text("t.csv", text);
    occam_error err = {0};
    cr_assert_eq(occam_csv_load(ds, p.s, &o, &err), OCCAM_OK, "%s", err.msg);
}

/* Returns the error, for checks beyond its holding `what`. */
static occam_error expect_csv_error(const char *text, occam_csv_opts o, const char *what)
{
    path_t p = write_text("t.csv", text);
    occam_dataset ds;
    occam_error err = {0};
    cr_assert_eq(occam_csv_load(&ds, p.s, &o, &err), OCCAM_ERR_INPUT, "msg: %s", err.msg);
    assert_msg_has(err, p.s);
    assert_msg_has(err, what);
    assert_zeroed(&ds);
    return err;
}

/* As expect_csv_error, and the message ends with tail: nothing is said after it. */
static void expect_csv_error_ending(const char *text, occam_csv_opts o, const char *tail)
{
    occam_error err = expect_csv_error(text, o, tail);
    size_t n = strlen(err.msg), t = strlen(tail);
    cr_assert(n >= t && !strcmp(err.msg + n - t, tail), "msg: %s", err.msg);
}

static void check_rows(const occam_dataset *ds, size_t n, size_t d, const float *x)
{
    cr_assert_eq(ds->n, n);
    cr_assert_eq(ds->d, d);
    cr_assert_eq((uintptr_t)ds->x % OCCAM_ALIGN, 0);
    for (size_t k = 0; k < n * d; k++) cr_assert_eq(ds->x[k], x[k], "x[%zu] = %g", k, ds->x[k]);
}

static void check_labels(const occam_dataset *ds, const int32_t *label, int classes)
{
    cr_assert_eq(ds->classes, classes);
    cr_assert_eq(ds->targets, 0);
    cr_assert_null(ds->y);
    for (size_t i = 0; i < ds->n; i++) cr_assert_eq(ds->label[i], label[i], "row %zu", i);
}

Test(data, csv_values)
{
    occam_dataset ds;
    load_csv_ok(&ds, "1,2.5,0\n-3,4e-2,2\n0.125, -7 ,1\n", classify_last(3));
    check_rows(&ds, 3, 2, (const float[]){1, 2.5f, -3, 4e-2f, 0.125f, -7});
    check_labels(&ds, (const int32_t[]){0, 2, 1}, 3);
    occam_dataset_free(&ds);
}

/* A CSV past the rows every source stops at (IDX and blobs: 2^31) is refused at the row past
 * it; it was read whole, and past 2^32 rows a run's epoch order (uint32 row numbers) wrapped.
 * 2^31 rows would take 16 GB: the limit is lowered here (opts.rows_max); the default is
 * OCCAM_DATA_ROWS_MAX. */
Test(data, csv_rows_past_the_limit_are_refused)
{
    cr_assert_eq(OCCAM_DATA_ROWS_MAX, (size_t)1 << 31);
    occam_csv_opts o = classify_last(2);
    o.rows_max = 3;
    occam_dataset ds;
    load_csv_ok(&ds, "a,b,label\n1,2,1\n\n3,4,0\n5,6,1\n", o);
    check_rows(&ds, 3, 2, (const float[]){1, 2, 3, 4, 5, 6});
    occam_dataset_free(&ds);
    expect_csv_error("a,b,label\n1,2,1\n\n3,4,0\n5,6,1\n7,8,0\n", o,
                     "t.csv:6: more than 3 data rows, the most occam takes from any source");
    /* features only (predict's rows) alike */
    o = csv_opts(OCCAM_LABEL_NONE, OCCAM_CSV_HEADER_NO, OCCAM_TASK_CLASSIFY, 0);
    o.rows_max = 1;
    expect_csv_error("1\n2\n", o, "t.csv:2: more than 1 data rows");
}

Test(data, csv_header_auto)
{
    occam_dataset ds;
    load_csv_ok(&ds, "a,b,label\n1,2,1\n", classify_last(2));
    check_rows(&ds, 1, 2, (const float[]){1, 2});
    occam_dataset_free(&ds);
    /* One non-numeric cell is enough to make a header. */
    load_csv_ok(&ds, "1,x,1\n3,4,0\n", classify_last(2));
    check_rows(&ds, 1, 2, (const float[]){3, 4});
    occam_dataset_free(&ds);
    /* A numeric first row is data. */
    load_csv_ok(&ds, "1,2,1\n3,4,0\n", classify_last(2));
    check_rows(&ds, 2, 2, (const float[]){1, 2, 3, 4});
    occam_dataset_free(&ds);
}

/* A first line whose only non-numbers are missing values is data with a gap, refused naming
 * line 1 as line 2 would be: it was dropped as a header, and predict's output then had one row
 * fewer than its input. An empty first cell before 0, 1, 2 (pandas) or "1", "2", "3" (R) is
 * still a header; an empty first cell before other numbers is a gap. */
Test(data, csv_a_first_row_with_a_gap_is_data)
{
    occam_csv_opts o = csv_opts(OCCAM_LABEL_LAST, OCCAM_CSV_HEADER_AUTO, OCCAM_TASK_REGRESS, 0);
    static const char *const gaps[] = {"0.5,NA,1.0\n1,2,3\n", "0.5,,1.0\n1,2,3\n",
                                       "?,?,1\n1,2,3\n", ",NA,1\n1,2,3\n",
                                       ",0.5,1\n1,2,3\n", "0.4,#N/A,1\n1,2,3\n",
                                       "<NA>,1,2\n1,2,3\n"};
    for (size_t i = 0; i < sizeof gaps / sizeof *gaps; i++) {
        occam_error e = expect_csv_error(gaps[i], o, ":1: column ");
        assert_msg_has(e, "a missing value?");
    }
    occam_dataset ds;
    load_csv_ok(&ds, ",0,1,2\n0,5,6,1\n1,7,8,2\n", o);
    cr_assert_eq(ds.n, 2);
    occam_dataset_free(&ds);
    load_csv_ok(&ds, "\"\",\"1\",\"2\",\"3\"\n\"1\",5,6,1\n\"2\",7,8,2\n", o); /* R's */
    cr_assert_eq(ds.n, 2);
    occam_dataset_free(&ds);
    load_csv_ok(&ds, ",x1,x2,y\n0,5,6,1\n1,7,8,2\n", o); /* pandas' named columns */
    cr_assert_eq(ds.n, 2);
    occam_dataset_free(&ds);
    load_csv_ok(&ds, "a,NA,y\n1,2,3\n", o); /* a name beside a gap: a header */
    cr_assert_eq(ds.n, 1);
    occam_dataset_free(&ds);
}

/* A column float32 rounds and keeps to fewer than 256 steps across its range is flagged (the
 * commands say so): 1e8 + x with x in ±2 read as 1e8 without a word. Integers float32 holds
 * exactly (dates as yyyymmdd, IDs) are not; a constant column has no range to lose. */
Test(data, csv_a_column_float32_rounds_away_is_flagged)
{
    occam_csv_opts o = csv_opts(OCCAM_LABEL_LAST, OCCAM_CSV_HEADER_AUTO, OCCAM_TASK_REGRESS, 0);
    occam_dataset ds;
    load_csv_ok(&ds, "1,100000001.25\n2,99999998.5\n3,100000000\n", o);
    cr_assert_eq(ds.coarse_col, 2);
    cr_assert_float_eq(ds.coarse_lo, 99999998.5, 1e-6);
    cr_assert_float_eq(ds.coarse_hi, 100000001.25, 1e-6);
    occam_dataset_free(&ds);
    load_csv_ok(&ds, "20230101,7,1\n20231231,7,2\n20230615,7,3\n", o);
    cr_assert_eq(ds.coarse_col, 0);
    occam_dataset_free(&ds);
    load_csv_ok(&ds, "5,3.25e8,1\n6,3.26e8,2\n", o); /* steps of 32 over 1e6: fine */
    cr_assert_eq(ds.coarse_col, 0);
    occam_dataset_free(&ds);
    load_csv_ok(&ds, "4,1e9,1\n5,1000000070,2\n", o); /* steps of 64, and 70 rounds away */
    cr_assert_eq(ds.coarse_col, 2);
    occam_dataset_free(&ds);
    /* ...but values float32 holds exactly are never flagged: 1e9 and 1000000064, or IDs */
    load_csv_ok(&ds, "4,1e9,1\n5,1000000064,2\n", o);
    cr_assert_eq(ds.coarse_col, 0);
    occam_dataset_free(&ds);
    load_csv_ok(&ds, "1000000,1\n1000001,2\n1000019,3\n", o);
    cr_assert_eq(ds.coarse_col, 0);
    occam_dataset_free(&ds);
}

Test(data, csv_header_yes_no)
{
    occam_dataset ds;
    occam_csv_opts yes = csv_opts(OCCAM_LABEL_LAST, OCCAM_CSV_HEADER_YES, OCCAM_TASK_CLASSIFY, 2);
    load_csv_ok(&ds, "1,2,1\n3,4,0\n", yes);
    check_rows(&ds, 1, 2, (const float[]){3, 4});
    check_labels(&ds, (const int32_t[]){0}, 2);
    occam_dataset_free(&ds);
    occam_csv_opts no = csv_opts(OCCAM_LABEL_LAST, OCCAM_CSV_HEADER_NO, OCCAM_TASK_CLASSIFY, 2);
    load_csv_ok(&ds, "1,2,1\n3,4,0\n", no);
    check_rows(&ds, 2, 2, (const float[]){1, 2, 3, 4});
    occam_dataset_free(&ds);
    expect_csv_error("a,b,c\n1,2,1\n", no, ":1: column 1: \"a\" is not a number");
}

Test(data, csv_label_column)
{
    occam_dataset ds;
    const char *text = "h1,h2,h3\n0,10,20\n1,11,21\n";
    load_csv_ok(&ds, text, csv_opts(OCCAM_LABEL_FIRST, OCCAM_CSV_HEADER_AUTO,
                                    OCCAM_TASK_CLASSIFY, 2));
    check_rows(&ds, 2, 2, (const float[]){10, 20, 11, 21});
    check_labels(&ds, (const int32_t[]){0, 1}, 2);
    occam_dataset_free(&ds);

    text = "5,0,20\n6,1,21\n";
    load_csv_ok(&ds, text, csv_opts(2, OCCAM_CSV_HEADER_AUTO, OCCAM_TASK_CLASSIFY, 2));
    check_rows(&ds, 2, 2, (const float[]){5, 20, 6, 21});
    check_labels(&ds, (const int32_t[]){0, 1}, 2);
    occam_dataset_free(&ds);

    text = "5,20,1\n6,21,0\n";
    load_csv_ok(&ds, text, csv_opts(3, OCCAM_CSV_HEADER_AUTO, OCCAM_TASK_CLASSIFY, 2));
    check_rows(&ds, 2, 2, (const float[]){5, 20, 6, 21});
    check_labels(&ds, (const int32_t[]){1, 0}, 2);
    occam_dataset_free(&ds);
}

Test(data, csv_label_column_out_of_range)
{
    expect_csv_error("x,y\n1,2\n", csv_opts(3, OCCAM_CSV_HEADER_AUTO, OCCAM_TASK_CLASSIFY, 2),
                     ":1: data.label: column 3 is out of range");
    expect_csv_error("1\n2\n", classify_last(3), ":1: need at least 2 cells");
}

Test(data, csv_regress)
{
    occam_dataset ds;
    occam_csv_opts o = csv_opts(OCCAM_LABEL_LAST, OCCAM_CSV_HEADER_AUTO, OCCAM_TASK_REGRESS, 0);
    load_csv_ok(&ds, "x1,x2,y\n1,2,0.5\n3,4,-1.25\n5,6,1e3\n", o);
    check_rows(&ds, 3, 2, (const float[]){1, 2, 3, 4, 5, 6});
    cr_assert_null(ds.label);
    cr_assert_eq(ds.classes, 0);
    cr_assert_eq(ds.targets, 1);
    cr_assert_eq(ds.y[0], 0.5f);
    cr_assert_eq(ds.y[1], -1.25f);
    cr_assert_eq(ds.y[2], 1000.0f);
    occam_dataset_free(&ds);
}

Test(data, csv_not_a_number)
{
    expect_csv_error("a,b,c\n1,2,0\n1,zz,1\n", classify_last(2),
                     ":3: column 2 (\"b\"): \"zz\" is not a number (a category or other text? "
                     "occam reads numbers only: write a category as one 0/1 column per value)");
    expect_csv_error("1,2,0\n1,,1\n", classify_last(2), ":2: column 2: \"\" is not a number");
    expect_csv_error("1,2,0\n1,2x,1\n", classify_last(2), ":2: column 2: \"2x\"");
    /* what a feature's text most likely is, and its header name (a label's is not kept: the
     * label column is named by its number) */
    expect_csv_error("sex,age,y\n0,31,1\nFemale,40,0\n", classify_last(2),
                     ":3: column 1 (\"sex\"): \"Female\" is not a number (a category or other "
                     "text?");
    expect_csv_error("a,smoker,y\n1,TRUE,0\n", classify_last(2),
                     ":2: column 2 (\"smoker\"): \"TRUE\" is not a number (a yes/no value? write "
                     "it as 1 or 0)");
    expect_csv_error("day,a,y\n2020-01-31,1,0\n", classify_last(2),
                     ":2: column 1 (\"day\"): \"2020-01-31\" is not a number (a date, a time "
                     "or a code with separators? occam reads plain numbers: write a date or "
                     "time as one, such as the days or hours since a start)");
    expect_csv_error("a,y,b\n1,0,12/31/1999 23:59\n",
                     csv_opts(2, OCCAM_CSV_HEADER_AUTO, OCCAM_TASK_CLASSIFY, 2),
                     ":2: column 3 (\"b\"): \"12/31/1999 23:59\" is not a number (a date, a "
                     "time");
    expect_csv_error("t,y\n12:30,1\n", classify_last(2),
                     "\"12:30\" is not a number (a date, a time");
    expect_csv_error("phone,y\n555-123-4567,1\n", classify_last(2),
                     "\"555-123-4567\" is not a number (a date, a time or a code with "
                     "separators?");
    /* a lone letter is a category (a sex, a grade), not a yes/no */
    expect_csv_error("sex,y\nF,1\n", classify_last(2),
                     "\"F\" is not a number (a category or other text?");
    expect_csv_error("a,y\n1,0\n2,yes\n", classify_last(2),
                     ":3: column 2 (the label, \"y\"): \"yes\" is not a number (a yes/no class? "
                     "write it as 1 or 0)");
    /* strtod reads C's hexadecimal; a data file's "0x10" is not sixteen */
    expect_csv_error("1,2,0\n1,0x10,1\n", classify_last(2), ":2: column 2: \"0x10\" is not a number");
    expect_csv_error("1,2,0\n1, 0X1p3 ,1\n", classify_last(2), ":2: column 2: \"0X1p3\" is not a number");
}

Test(data, csv_ragged_row)
{
    expect_csv_error("1,2,0\n3,4,1\n5,1\n", classify_last(2), ":3: expected 3 cells, as line 1 has, found 2");
    expect_csv_error("a,b,c\n1,2,3,1\n", classify_last(2),
                     ":2: expected 3 cells, as line 1 (the header) has, found 4");
    /* sklearn's breast_cancer.csv: a first line of counts and class names, taken for the
     * header */
    expect_csv_error("\n569,30,malignant,benign\n1,2,3,4,5,1\n", classify_last(2),
                     ":3: expected 4 cells, as line 2 (the header) has, found 6");
    /* the data rows ending in a comma, the header not */
    expect_csv_error("a,b,y\n1,2,0,\n", classify_last(2),
                     ":2: expected 3 cells, as line 1 (the header) has, found 4 (the last empty: "
                     "a comma that ends the line?)");
    /* every line ending in a comma */
    expect_csv_error("a,b,y,\n1,2,0,\n", classify_last(2),
                     ":2: column 4 (the label): \"\" is not a number (a missing value, or a comma that ends "
                     "the line? occam needs a number in every cell: fill it in, or drop the row "
                     "or the line's last comma)");
}

/* The header's feature names, the label's left out, unquoted; none without a header. A test
 * file naming the training columns in another order is refused (the model would test on
 * shuffled inputs), and so is one whose names stand in other places (moved along by a row
 * index); other names pass, as do the same names in the same order; IDX images of
 * another width are refused. The check against references built by hand. */
Test(data, csv_header_names_and_the_column_check)
{
    occam_dataset a, b;
    occam_csv_opts o = csv_opts(1, OCCAM_CSV_HEADER_AUTO, OCCAM_TASK_REGRESS, 0);
    load_csv_ok(&a, "\"y\",\"income, $\",\"say \"\"hi\"\"\",z\n1,2,3,4\n", o);
    cr_assert_not_null(a.names);
    cr_assert_str_eq(a.names, "income, $");
    cr_assert_str_eq(a.names + strlen("income, $") + 1, "say \"hi\"");
    cr_assert_str_eq(a.names + strlen("income, $") + 1 + strlen("say \"hi\"") + 1, "z");
    occam_dataset_drop_name(&a, 1);
    cr_assert_str_eq(a.names + strlen("income, $") + 1, "z");
    occam_dataset_free(&a);
    load_csv_ok(&a, "1,2,0\n", classify_last(2));
    cr_assert_null(a.names);
    occam_dataset_free(&a);

    char note[256];
    occam_error err = {0};
    load_csv_ok(&a, "a,b,c,y\n1,2,3,0\n", classify_last(2));
    load_csv_ok(&b, "a,b,c,y\n1,2,3,0\n", classify_last(2));
    cr_assert_eq(occam_data_check_columns(&a, "tr.csv", &b, "te.csv", note, sizeof note, &err),
                 OCCAM_OK);
    cr_assert_str_eq(note, "");
    occam_dataset_free(&b);
    load_csv_ok(&b, "c,b,a,y\n1,2,3,0\n", classify_last(2));
    cr_assert_eq(occam_data_check_columns(&a, "tr.csv", &b, "te.csv", note, sizeof note, &err),
                 OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "te.csv: its header names the columns of tr.csv in another "
                              "order: feature 1 is \"c\" here, \"a\" there"), "%s", err.msg);
    occam_dataset_free(&b);
    load_csv_ok(&b, "a,B,c,y\n1,2,3,0\n", classify_last(2));
    cr_assert_eq(occam_data_check_columns(&a, "tr.csv", &b, "te.csv", note, sizeof note, &err),
                 OCCAM_OK);
    cr_assert(strstr(note, "te.csv: its header's feature 2 is \"B\", \"b\" in tr.csv"), "%s",
              note);
    occam_dataset_free(&b);
    /* the training names moved along by a column (a row index in front, the last left out):
     * not one reordering of the other, but "a" stands where "b" stood */
    load_csv_ok(&b, "\"\",a,b,y\n1,2,3,0\n", classify_last(2));
    cr_assert_eq(occam_data_check_columns(&a, "tr.csv", &b, "te.csv", note, sizeof note, &err),
                 OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "te.csv: its header's feature 2 is \"a\", feature 1 in tr.csv: "
                              "the columns do not line up"), "%s", err.msg);
    occam_dataset_free(&b);
    load_csv_ok(&b, "b,x,y2,y\n1,2,3,0\n", classify_last(2)); /* one name in another place */
    cr_assert_eq(occam_data_check_columns(&a, "tr.csv", &b, "te.csv", note, sizeof note, &err),
                 OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "feature 1 is \"b\", feature 2 in tr.csv"), "%s", err.msg);
    occam_dataset_free(&b);
    /* names that number the columns by place are no sign of a shift: R's V2..V4 of a table
     * whose V1 was the label against V1..V3 of new rows; pandas' 1..3 against 0..2 */
    occam_dataset v, w;
    load_csv_ok(&v, "V1,V2,V3,V4\n0,1,2,3\n", csv_opts(1, OCCAM_CSV_HEADER_AUTO,
                                                          OCCAM_TASK_REGRESS, 0));
    load_csv_ok(&w, "V1,V2,V3,y\n1,2,3,0\n", classify_last(2));
    cr_assert_eq(occam_data_check_columns(&v, "tr.csv", &w, "te.csv", note, sizeof note, &err),
                 OCCAM_OK, "%s", err.msg);
    cr_assert(strstr(note, "te.csv: its header's feature 1 is \"V1\", \"V2\" in tr.csv"), "%s",
              note);
    occam_dataset_free(&v);
    occam_dataset_free(&w);
    load_csv_ok(&v, "0,1,2,3\n0,1,2,3\n", csv_opts(1, OCCAM_CSV_HEADER_YES, OCCAM_TASK_REGRESS,
                                                      0));
    load_csv_ok(&w, "0,1,2,y\n1,2,3,0\n", classify_last(2));
    cr_assert_eq(occam_data_check_columns(&v, "tr.csv", &w, "te.csv", note, sizeof note, &err),
                 OCCAM_OK, "%s", err.msg);
    /* but a row index in front (R's write.csv: an unnamed first column) moves such names along
     * as it moves any: pandas' 0, 1 behind it against 0..2, and x1..x3 against x1..x4, whose
     * shift was taken for other names and the rows predicted out of line */
    occam_dataset_free(&v);
    v = w;
    load_csv_ok(&w, "\"\",0,1\n1,2,3\n", csv_opts(OCCAM_LABEL_NONE, OCCAM_CSV_HEADER_YES,
                                                   OCCAM_TASK_CLASSIFY, 0));
    cr_assert_eq(occam_data_check_columns(&v, "tr.csv", &w, "te.csv", note, sizeof note, &err),
                 OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "te.csv: its header's feature 2 is \"0\", feature 1 in tr.csv: "
                              "the columns do not line up"), "%s", err.msg);
    occam_dataset_free(&v);
    occam_dataset_free(&w);
    load_csv_ok(&v, "x1,x2,x3,x4,y\n0,1,2,3,0\n", classify_last(2));
    load_csv_ok(&w, "\"\",x1,x2,x3\n1,2,3,0\n", unlabelled());
    cr_assert_eq(occam_data_check_columns(&v, "tr.csv", &w, "te.csv", note, sizeof note, &err),
                 OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "te.csv: its header's feature 2 is \"x1\", feature 1 in tr.csv"),
              "%s", err.msg);
    cr_assert_eq(occam_data_check_columns(&w, "te.csv", &v, "tr.csv", note, sizeof note, &err),
                 OCCAM_ERR_INPUT, "the other way round too");
    occam_dataset_free(&w);
    /* a row index on both sides lines up with itself: the names beside it compare as before */
    load_csv_ok(&w, "\"\",x2,x3,x4,y\n1,2,3,4,0\n", classify_last(2));
    occam_dataset u;
    load_csv_ok(&u, "\"\",x1,x2,x3\n1,2,3,4\n", unlabelled());
    cr_assert_eq(occam_data_check_columns(&w, "tr.csv", &u, "te.csv", note, sizeof note, &err),
                 OCCAM_OK, "%s", err.msg);
    occam_dataset_free(&u);
    occam_dataset_free(&w);
    /* numbered names on one side only are no excuse: x1, x2 moved along by a named x */
    load_csv_ok(&w, "x,x1,x2,x3\n1,2,3,0\n", unlabelled());
    load_csv_ok(&u, "x1,x2,x3,x4\n1,2,3,0\n", unlabelled());
    cr_assert_eq(occam_data_check_columns(&u, "tr.csv", &w, "te.csv", note, sizeof note, &err),
                 OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "te.csv: its header's feature 2 is \"x1\", feature 1 in tr.csv"),
              "%s", err.msg);
    occam_dataset_free(&u);
    occam_dataset_free(&v);
    occam_dataset_free(&w);
    load_csv_ok(&b, "\"\",x,c,y\n1,2,3,0\n", classify_last(2)); /* blanks and other names */
    cr_assert_eq(occam_data_check_columns(&a, "tr.csv", &b, "te.csv", note, sizeof note, &err),
                 OCCAM_OK);
    cr_assert(strstr(note, "te.csv: its header's feature 1 is \"\", \"a\" in tr.csv"), "%s",
              note);
    occam_dataset_free(&b);
    load_csv_ok(&b, "1,2,3,0\n", classify_last(2)); /* no header: nothing to compare */
    cr_assert_eq(occam_data_check_columns(&a, "tr.csv", &b, "te.csv", NULL, 0, &err), OCCAM_OK);
    occam_dataset_free(&b);
    occam_dataset_free(&a);
    occam_dataset g = {.d = 16, .grid_w = 4}, h = {.d = 16, .grid_w = 8};
    cr_assert_eq(occam_data_check_columns(&g, "i4x4", &h, "i2x8", NULL, 0, &err),
                 OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "i2x8 holds images 8 pixels wide, but i4x4 holds 4"), "%s",
              err.msg);
    h.grid_w = 0; /* a CSV of the same 16 values: no grid to compare */
    cr_assert_eq(occam_data_check_columns(&g, "i4x4", &h, "x.csv", NULL, 0, &err), OCCAM_OK);
}

/* Under data.header = yes, a file whose first line holds only numbers, beside a training file
 * whose header names the columns, has no header: that line is a data row, which was dropped
 * without a word (a test set a row short, predict's output a row fewer than its input). It is
 * refused naming both files; a header of numbers counting the columns (pandas' 0, 1, 2, ...)
 * and a numbered training header are headers still. */
Test(data, a_numbers_only_header_beside_a_named_one_is_refused)
{
    occam_csv_opts yes = csv_opts(OCCAM_LABEL_LAST, OCCAM_CSV_HEADER_YES, OCCAM_TASK_REGRESS, 0);
    occam_csv_opts rows = csv_opts(OCCAM_LABEL_NONE, OCCAM_CSV_HEADER_YES, OCCAM_TASK_REGRESS, 0);
    occam_dataset a, b;
    occam_error err = {0};
    char note[256];
    load_csv_ok(&a, "a,b,c,y\n1,2,3,4\n5,6,7,8\n", yes);
    load_csv_ok(&b, "0.5,2,-3e2,9\n1,2,3,4\n", yes);
    cr_assert_eq(b.n, 1);
    cr_assert_eq(occam_data_check_columns(&a, "tr.csv", &b, "te.csv", note, sizeof note, &err),
                 OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "te.csv: data.header = yes takes its first line for a header, but "
                              "that line holds only numbers (feature 1 \"0.5\") where tr.csv's "
                              "header names the columns (\"a\")"), "%s", err.msg);
    occam_dataset_free(&b);
    load_csv_ok(&b, "7,8,9\n1,2,3\n", rows); /* predict's rows: features only */
    cr_assert_eq(occam_data_check_columns(&a, "tr.csv", &b, "new.csv", note, sizeof note, &err),
                 OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "new.csv: data.header = yes"), "%s", err.msg);
    occam_dataset_free(&b);
    load_csv_ok(&b, "0,1,2\n1,2,3\n", rows); /* pandas' numbered header: a note */
    cr_assert_eq(occam_data_check_columns(&a, "tr.csv", &b, "new.csv", note, sizeof note, &err),
                 OCCAM_OK, "%s", err.msg);
    cr_assert(strstr(note, "its header's feature 1 is \"0\", \"a\" in tr.csv"), "%s", note);
    occam_dataset_free(&b);
    load_csv_ok(&b, "a,b,c\n1,2,3\n", rows); /* the training header: nothing to say */
    cr_assert_eq(occam_data_check_columns(&a, "tr.csv", &b, "new.csv", note, sizeof note, &err),
                 OCCAM_OK, "%s", err.msg);
    cr_assert_str_eq(note, "");
    occam_dataset_free(&b);
    occam_dataset_free(&a);
    /* a training header of numbers too (wavelengths): no names to set them against */
    load_csv_ok(&a, "400,450,500,9\n1,2,3,4\n", yes);
    load_csv_ok(&b, "7,8,9\n1,2,3\n", rows);
    cr_assert_eq(occam_data_check_columns(&a, "tr.csv", &b, "new.csv", note, sizeof note, &err),
                 OCCAM_OK, "%s", err.msg);
    occam_dataset_free(&b);
    occam_dataset_free(&a);
}

/* A header line is read whole, its label's name included, for whether it may be a data row: a
 * word in the label's place ("400,410,420,fat": wavelengths and a target), a cell no row may
 * hold (nan, inf, 1e39), or pandas' 0, 1, 2, 3 with the label taken from the middle, is no
 * data row. All of these got the note, and beside a named training header were refused as "a
 * data row". */
Test(data, a_header_is_read_whole_for_whether_it_is_a_data_row)
{
    static const struct {
        const char *csv;
        int label;
        bool row;
    } cases[] = {
        {"400,410,420,fat\n1,2,3,4\n", OCCAM_LABEL_LAST, false},
        {"400,410,420,1\n1,2,3,4\n", OCCAM_LABEL_LAST, true},
        {"fat,400,410,420\n1,2,3,4\n", OCCAM_LABEL_FIRST, false},
        {"0,1,2,3\n1,2,3,4\n", 2, false},
        {"0,1,2,3\n1,2,3,4\n", OCCAM_LABEL_LAST, false},
        {"1,2,3,4\n1,2,3,4\n", OCCAM_LABEL_FIRST, false},
        {"0,2,1,3\n1,2,3,4\n", 3, true},
        {"1e3,-2,+3.5,4\n1,2,3,4\n", OCCAM_LABEL_LAST, true},
        {"nan,1,2,3\n1,2,3,4\n", OCCAM_LABEL_LAST, false},
        {"inf,1,2,3\n1,2,3,4\n", 2, false},
        {"1,2,3,1e39\n1,2,3,4\n", 1, false},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        occam_dataset ds;
        load_csv_ok(&ds, cases[c].csv,
                    csv_opts(cases[c].label, OCCAM_CSV_HEADER_YES, OCCAM_TASK_REGRESS, 0));
        cr_expect_eq(occam_dataset_numeric_header(&ds), cases[c].row, "case %zu: %s", c,
                     cases[c].csv);
        occam_dataset_free(&ds);
    }
    /* beside a named training header: a test file's first line with a word for its label, or
     * pandas' numbers across a label in the middle, is a header still, not refused */
    occam_dataset a, b;
    occam_error err = {0};
    char note[256];
    load_csv_ok(&a, "a,b,c,y\n1,2,3,4\n",
                csv_opts(OCCAM_LABEL_LAST, OCCAM_CSV_HEADER_YES, OCCAM_TASK_REGRESS, 0));
    load_csv_ok(&b, "0.5,0.25,0.125,fat\n1,2,3,4\n",
                csv_opts(OCCAM_LABEL_LAST, OCCAM_CSV_HEADER_YES, OCCAM_TASK_REGRESS, 0));
    cr_expect_eq(occam_data_check_columns(&a, "tr.csv", &b, "te.csv", note, sizeof note, &err),
                 OCCAM_OK, "%s", err.msg);
    occam_dataset_free(&b);
    occam_dataset_free(&a);
    load_csv_ok(&a, "a,y,b,c\n1,2,3,4\n",
                csv_opts(2, OCCAM_CSV_HEADER_YES, OCCAM_TASK_REGRESS, 0));
    load_csv_ok(&b, "0,1,2,3\n1,2,3,4\n", csv_opts(2, OCCAM_CSV_HEADER_YES, OCCAM_TASK_REGRESS, 0));
    cr_expect_eq(occam_data_check_columns(&a, "tr.csv", &b, "te.csv", note, sizeof note, &err),
                 OCCAM_OK, "%s", err.msg);
    cr_expect(strstr(note, "its header's feature 1 is \"0\", \"a\" in tr.csv"), "%s", note);
    occam_dataset_free(&b);
    occam_dataset_free(&a);
}

/* Cells quoted as RFC 4180 says, as R's write.csv, pandas and spreadsheets write them: a header
 * name with a comma in it was two cells ("expected 4 cells, found 3" on every data row), and a
 * quoted number was not a number. */
Test(data, csv_quoted_cells_read_as_rfc_4180_says)
{
    occam_dataset ds;
    occam_csv_opts o = csv_opts(OCCAM_LABEL_LAST, OCCAM_CSV_HEADER_AUTO, OCCAM_TASK_REGRESS, 0);
    load_csv_ok(&ds, "\"income, $\",\"say \"\"hi\"\"\",\"y\"\n\"1\",2,\"3\"\n 4 , \" 5.5 \" ,6\n", o);
    check_rows(&ds, 2, 2, (const float[]){1, 2, 4, 5.5f});
    cr_assert_eq(ds.y[0], 3.0f);
    cr_assert_eq(ds.y[1], 6.0f);
    occam_dataset_free(&ds);
    /* all quoted numbers: data under data.header = auto, as unquoted */
    load_csv_ok(&ds, "\"1\",\"2\",\"0\"\n", classify_last(2));
    check_rows(&ds, 1, 2, (const float[]){1, 2});
    occam_dataset_free(&ds);
    expect_csv_error("a,b,c\n1,\"2,3\n", classify_last(2),
                     ":2: column 2: a quoted cell is not closed on its line");
    expect_csv_error("a,b,c\n1,\"2\"x,3\n", classify_last(2),
                     ":2: column 2: text after a quoted cell's closing quote");
    expect_csv_error("1,2,0\n1,\"\",1\n", classify_last(2), ":2: column 2: \"\" is not a number");
    expect_csv_error("1,2,0\n1,\"1,5\",1\n", classify_last(2),
                     ":2: column 2: \"1,5\" is not a number (a decimal comma? occam reads a '.')");
}

Test(data, csv_non_finite)
{
    expect_csv_error("1,2,0\nnan,2,1\n", classify_last(2), ":2: column 1: \"nan\"");
    expect_csv_error("1,inf,0\n", classify_last(2), ":1: column 2: \"inf\"");
    expect_csv_error("1,-1e300,0\n", classify_last(2), "not a finite float32");
    /* what each is likely to be: R's Inf (a division by zero), or a value past float32 */
    expect_csv_error("1,Inf,0\n", classify_last(2), "\"Inf\" is not a finite float32 value "
                     "(an infinity, as R writes a division by zero");
    expect_csv_error("1,-1e39,0\n", classify_last(2), "\"-1e39\" is not a finite float32 value "
                     "(beyond float32's range, about 3.4e38: change the column's units)");
    /* past a double's range too strtod reads an infinity, but no word wrote one */
    expect_csv_error("1,1e999,0\n", classify_last(2), "\"1e999\" is not a finite float32 value "
                     "(beyond float32's range");
    expect_csv_error("1,-Infinity,0\n", classify_last(2), "(an infinity, as R writes");
}

Test(data, csv_label_values)
{
    /* labels from 1, or more classes than outputs; a label 0 on an earlier line rules out the
     * first (labels 0, 1, 2 under layers = ...,2 were told to subtract 1) */
    expect_csv_error("1,2,1\n1,2,3\n", classify_last(3),
                     ":2: label 3 out of range [0, 3): labels count from 0, one per output of "
                     "the model (classes numbered from 1, as R's as.integer of a factor numbers "
                     "them? subtract 1 from the labels; or more classes than the model's "
                     "outputs, model.layers' last width?)");
    expect_csv_error("1,2,1\n1,2,0\n1,2,3\n", classify_last(3),
                     ":3: label 3 out of range [0, 3): labels count from 0, one per output of "
                     "the model (line 2 has label 0: with label 3 there are at least 4 classes, "
                     "and model.layers' last width gives the model 3 outputs)");
    expect_csv_error("1,2,-1\n", classify_last(3), ":1: label -1 out of range [0, 3)");
    occam_error e = expect_csv_error("1,2,4\n", classify_last(3),
                                     ":1: label 4 out of range [0, 3): labels count from 0, one "
                                     "per output of the model (model.layers' last width gives "
                                     "the model 3 outputs, one a class)");
    cr_assert_null(strstr(e.msg, "numbered from 1"), "%s", e.msg); /* only one past the last */
    expect_csv_error("1,2,0\n1,2,1.5\n", classify_last(3),
                     ":2: column 3 (the label): \"1.5\" is not an integer label");
    occam_dataset ds;
    load_csv_ok(&ds, "1,2,2.0\n", classify_last(3));
    check_labels(&ds, (const int32_t[]){2}, 3);
    occam_dataset_free(&ds);
}

Test(data, csv_blank_lines_and_crlf)
{
    occam_dataset ds;
    load_csv_ok(&ds, "\n  \na,b,c\r\n\r\n1,2,1\r\n\t\n3,4,0\r\n\n", classify_last(2));
    check_rows(&ds, 2, 2, (const float[]){1, 2, 3, 4});
    check_labels(&ds, (const int32_t[]){1, 0}, 2);
    occam_dataset_free(&ds);
    /* Line numbers count the blank lines. */
    expect_csv_error("\n1,2,1\n\n\n3,q,0\n", classify_last(2), ":5: column 2");
    /* No newline at the end, and a byte-order mark. */
    load_csv_ok(&ds, "\xEF\xBB\xBF" "1,2,1\n3,4,0", classify_last(2));
    check_rows(&ds, 2, 2, (const float[]){1, 2, 3, 4});
    occam_dataset_free(&ds);
}

/* A NUL byte is binary, never text: refused with its line, also in the first line, which
 * data.header = auto would otherwise take for a header and drop a row. UTF-16 (a NUL beside
 * every ASCII character), with or without its byte-order mark, is named. */
Test(data, csv_nul_byte_is_refused_with_its_line)
{
    static const char first[] = "1,2\0,1\n3,4,0\n5,6,1\n";
    static const char later[] = "1,2,1\n3,4,0\n\n5\0,6,1\n";
    /* "a,y" and "1,0" in UTF-16LE, as Excel's "Unicode text" writes them */
    static const char utf16[] = "\xFF\xFE" "a\0,\0y\0\n\0" "1\0,\0" "0\0\n\0";
    /* the same without the byte-order mark (iconv -t UTF-16LE), and big-endian */
    static const char utf16le[] = "a\0,\0y\0\n\0" "1\0,\0" "0\0\n\0";
    static const char utf16be[] = "\0a\0,\0y\0\n" "\0" "1\0,\0" "0\0\n";
    const struct {
        const char *text;
        size_t len;
        const char *where;
    } cases[] = {{first, sizeof first - 1, ":1: line contains a NUL byte (not a text CSV file?)"},
                 {later, sizeof later - 1, ":4: line contains a NUL byte (not a text CSV file?)"},
                 {utf16, sizeof utf16 - 1,
                  ":1: line contains a NUL byte (UTF-16 text? save it as UTF-8)"},
                 {utf16le, sizeof utf16le - 1,
                  ":1: line contains a NUL byte (UTF-16 text? save it as UTF-8)"},
                 {utf16be, sizeof utf16be - 1,
                  ":1: line contains a NUL byte (UTF-16 text? save it as UTF-8)"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        path_t p = write_bytes("nul.csv", cases[i].text, cases[i].len, false);
        occam_csv_opts o = classify_last(2);
        occam_dataset ds;
        occam_error err = {0};
        cr_assert_eq(occam_csv_load(&ds, p.s, &o, &err), OCCAM_ERR_INPUT, "case %zu: %s", i,
                     err.msg);
        assert_msg_has(err, p.s);
        assert_msg_has(err, cases[i].where);
        assert_zeroed(&ds);
    }
}

Test(data, csv_empty)
{
    expect_csv_error("", classify_last(2), "no data rows");
    expect_csv_error("\n\n  \n", classify_last(2), "no data rows");
    expect_csv_error("a,b,c\n", classify_last(2), "no data rows after the header");
}

/* A file whose one line data.header = auto took for a header said only "no data rows after
 * the header": a CSV with bare-CR line ends (one line, to the reader) or a line of binary read
 * as an empty file with a header. The message now shows the cell that made the header. */
Test(data, csv_auto_header_alone_says_why_it_is_a_header)
{
    expect_csv_error("1,2,1\r3,4,0\r5,6,1\r", classify_last(2),
                     "no data rows after the header (data.header = auto took line 1 for one: "
                     "column 3, \"1\\x0D3\", is not a number; lines that end in a bare CR?)");
    expect_csv_error("\n1,\xff\xfe,0\n", classify_last(2),
                     "took line 2 for one: column 2, \"\\xFF\\xFE\", is not a number)");
    expect_csv_error("x,y,label\n", classify_last(2),
                     "took line 1 for one: column 1, \"x\", is not a number)");
    occam_csv_opts yes = classify_last(2);
    yes.header = OCCAM_CSV_HEADER_YES;
    expect_csv_error("x,y,label\n", yes, "no data rows after the header");
    /* A bare-CR file with a header row: the CR is in a later cell than the one that made the
     * line a header, and under data.header = yes no cell did. Both said nothing of the CRs. */
    expect_csv_error("x,y,label\r1,2,1\r3,4,0\r", classify_last(2),
                     "took line 1 for one: column 1, \"x\", is not a number; lines that end in a "
                     "bare CR?)");
    expect_csv_error("x,y,label\r1,2,1\r3,4,0\r", yes,
                     "no data rows after the header (line 1; lines that end in a bare CR?)");
    path_t crlf = write_text("t.csv", "x,y,label\r\n"); /* a CRLF's CR is no hint */
    occam_dataset ds;
    occam_error err = {0};
    cr_assert_eq(occam_csv_load(&ds, crlf.s, &yes, &err), OCCAM_ERR_INPUT);
    cr_assert(strstr(err.msg, "no data rows after the header") && !strstr(err.msg, "CR"), "%s",
              err.msg);
}

Test(data, csv_nonexistent)
{
    path_t p = fixture("missing.csv");
    occam_csv_opts o = classify_last(2);
    occam_dataset ds;
    occam_error err = {0};
    cr_assert_eq(occam_csv_load(&ds, p.s, &o, &err), OCCAM_ERR_INPUT);
    assert_msg_has(err, p.s);
}

Test(data, csv_long_line)
{
    enum { COLS = 20000 };
    size_t cap = COLS * 8 + 16, len = 0;
    char *text = malloc(2 * cap);
    for (int r = 0; r < 2; r++) {
        for (int j = 0; j < COLS; j++) len += (size_t)sprintf(text + len, "%d,", j % 1000 + r);
        len += (size_t)sprintf(text + len, "%d\n", r);
    }
    occam_dataset ds;
    load_csv_ok(&ds, text, classify_last(2));
    cr_assert_eq(ds.n, 2);
    cr_assert_eq(ds.d, COLS);
    for (int r = 0; r < 2; r++)
        for (int j = 0; j < COLS; j++) cr_assert_eq(ds.x[r * COLS + j], (float)(j % 1000 + r));
    check_labels(&ds, (const int32_t[]){0, 1}, 2);
    occam_dataset_free(&ds);
    free(text);
}

/* ---- CSV, features only and gzip --------------------------------------------------------- */

static occam_csv_opts features_only(occam_csv_header header)
{
    return csv_opts(OCCAM_LABEL_NONE, header, OCCAM_TASK_CLASSIFY, 0);
}

static void check_features_only(const occam_dataset *ds)
{
    cr_assert_null(ds->label);
    cr_assert_null(ds->y);
    cr_assert_eq(ds->classes, 0);
    cr_assert_eq(ds->targets, 0);
}

Test(data, csv_features_only_values)
{
    occam_dataset ds;
    /* Every cell is a feature, the would-be label column too; task and classes are ignored. */
    load_csv_ok(&ds, "1,2.5,0\n-3,4e-2,2\n0.125, -7 ,1.5\n", features_only(OCCAM_CSV_HEADER_AUTO));
    check_rows(&ds, 3, 3, (const float[]){1, 2.5f, 0, -3, 4e-2f, 2, 0.125f, -7, 1.5f});
    check_features_only(&ds);
    occam_dataset_free(&ds);
    /* A single column is a row of one feature. */
    load_csv_ok(&ds, "x\n4\n\n5\n", features_only(OCCAM_CSV_HEADER_AUTO));
    check_rows(&ds, 2, 1, (const float[]){4, 5});
    check_features_only(&ds);
    occam_dataset_free(&ds);
    /* The header rules are the labelled reader's. */
    load_csv_ok(&ds, "\xEF\xBB\xBF" "a,b\r\n1,2\r\n", features_only(OCCAM_CSV_HEADER_AUTO));
    check_rows(&ds, 1, 2, (const float[]){1, 2});
    occam_dataset_free(&ds);
    load_csv_ok(&ds, "1,2\n3,4\n", features_only(OCCAM_CSV_HEADER_YES));
    check_rows(&ds, 1, 2, (const float[]){3, 4});
    occam_dataset_free(&ds);
    load_csv_ok(&ds, "1,2\n3,4\n", features_only(OCCAM_CSV_HEADER_NO));
    check_rows(&ds, 2, 2, (const float[]){1, 2, 3, 4});
    occam_dataset_free(&ds);
}

/* Loads text both ways (classify with the last column as the label, and features only) and
 * checks both fail with the same message, which has `what` in it. */
static void expect_same_csv_error(const char *text, occam_csv_header header, const char *what)
{
    occam_csv_opts labelled = csv_opts(OCCAM_LABEL_LAST, header, OCCAM_TASK_CLASSIFY, 10);
    expect_csv_error(text, labelled, what);
    path_t p = write_text("t.csv", text);
    occam_dataset ds;
    occam_error a = {0}, b = {0};
    occam_csv_opts fo = features_only(header);
    cr_assert_eq(occam_csv_load(&ds, p.s, &labelled, &a), OCCAM_ERR_INPUT);
    cr_assert_eq(occam_csv_load(&ds, p.s, &fo, &b), OCCAM_ERR_INPUT, "msg: %s", b.msg);
    cr_assert_str_eq(b.msg, a.msg);
    assert_zeroed(&ds);
}

Test(data, csv_features_only_bad_input_same_messages)
{
    expect_same_csv_error("a,b,c\n1,2,0\n1,zz,1\n", OCCAM_CSV_HEADER_AUTO,
                          ":3: column 2 (\"b\"): \"zz\" is not a number");
    expect_same_csv_error("1,2,0\n1,,1\n", OCCAM_CSV_HEADER_AUTO,
                          ":2: column 2: \"\" is not a number");
    expect_same_csv_error("a,b,c\n1,2,1\n", OCCAM_CSV_HEADER_NO,
                          ":1: column 1: \"a\" is not a number");
    expect_same_csv_error("1,2,0\n3,4,1\n5,1\n", OCCAM_CSV_HEADER_AUTO,
                          ":3: expected 3 cells, as line 1 has, found 2");
    expect_same_csv_error("1,2,0\nnan,2,1\n", OCCAM_CSV_HEADER_AUTO,
                          ":2: column 1: \"nan\" is not a finite float32 value");
    expect_same_csv_error("1,-1e300,0\n", OCCAM_CSV_HEADER_AUTO, "not a finite float32");
    expect_same_csv_error("\n1,2,1\n\n\n3,q,0\n", OCCAM_CSV_HEADER_AUTO, ":5: column 2");
    expect_same_csv_error("", OCCAM_CSV_HEADER_AUTO, "no data rows (the file is empty or blank)");
    expect_same_csv_error("\n  \n", OCCAM_CSV_HEADER_AUTO, "no data rows");
    expect_same_csv_error("a,b,c\n", OCCAM_CSV_HEADER_AUTO, "no data rows after the header");

    path_t missing = fixture("missing.csv");
    occam_csv_opts labelled = classify_last(2), fo = features_only(OCCAM_CSV_HEADER_AUTO);
    occam_dataset ds;
    occam_error a = {0}, b = {0};
    cr_assert_eq(occam_csv_load(&ds, missing.s, &labelled, &a), OCCAM_ERR_INPUT);
    cr_assert_eq(occam_csv_load(&ds, missing.s, &fo, &b), OCCAM_ERR_INPUT);
    cr_assert_str_eq(b.msg, a.msg);
    assert_msg_has(b, "cannot open");
}

/* What only labels are checked for does not apply to features. */
Test(data, csv_features_only_no_label_checks)
{
    occam_dataset ds;
    load_csv_ok(&ds, "1,2,7\n1,2,0.5\n1,2,-3\n", features_only(OCCAM_CSV_HEADER_AUTO));
    check_rows(&ds, 3, 3, (const float[]){1, 2, 7, 1, 2, 0.5f, 1, 2, -3});
    occam_dataset_free(&ds);
    /* Where one cell is not enough for the labelled reader. */
    expect_csv_error("1\n2\n", classify_last(3), ":1: need at least 2 cells");
}

/* Another program's separator makes one cell a row, and other programs mark a missing value
 * in their own ways: the message says which it likely is. */
Test(data, csv_what_a_bad_cell_likely_is_is_named)
{
    expect_csv_error("a;b;y\n1;2;3\n", classify_last(2),
                     ":1: need at least 2 cells per row (features and a label), found 1 (cells "
                     "separated by ';'? occam reads commas)");
    expect_csv_error("a\tb\ty\n1\t2\t3\n", classify_last(2),
                     "found 1 (cells separated by tabs? occam reads commas)");
    expect_csv_error("1;2;0\n", features_only(OCCAM_CSV_HEADER_NO),
                     ":1: column 1: \"1;2;0\" is not a number (cells separated by ';'?");
    const char *missing[] = {"NA", "n/a", "?", " . ", "NULL", "None", "-", ""};
    for (size_t i = 0; i < sizeof missing / sizeof *missing; i++) {
        char text[64];
        snprintf(text, sizeof text, "1,2,0\n1,%s,1\n", missing[i]);
        expect_csv_error(text, classify_last(2),
                         "is not a number (a missing value? occam needs a number in every cell");
    }
    expect_csv_error("1,2,0\nNaN,2,1\n", classify_last(2),
                     ":2: column 1: \"NaN\" is not a finite float32 value (a missing value?");
    /* a class name in the label column, but not in a feature's or a regression target's */
    expect_csv_error("a,b,y\n1,2,setosa\n", classify_last(2),
                     ":2: column 3 (the label, \"y\"): \"setosa\" is not a number (a class "
                     "name? labels are the classes' numbers, counted from 0)");
    expect_csv_error("a,b,y\n1,2,NA\n", classify_last(2), "\"NA\" is not a number (a missing value?");
    /* the row's other text columns are named too (a table of R factors was refused one column
     * a run), the label by its header name, four at most */
    expect_csv_error("a,sex,b,region,y\n1,F,2,north,1\n", classify_last(2),
                     ":2: column 2 (\"sex\"): \"F\" is not a number (a category or other text? "
                     "occam reads numbers only: write a category as one 0/1 column per value; in "
                     "this row column 4 (\"region\") is not a number either)");
    expect_csv_error("a,b,c,d,e,f,y\n1,x,x,x,x,x,x\n", classify_last(2),
                     ":2: column 2 (\"b\"): \"x\" is not a number (a category or other text? "
                     "occam reads numbers only: write a category as one 0/1 column per value; in "
                     "this row columns 3 (\"c\"), 4 (\"d\"), 5 (\"e\"), 6 (\"f\") and 1 more are "
                     "not numbers either)");
    expect_csv_error("1,NA,NA,0\n", classify_last(2),
                     ":1: column 2: \"NA\" is not a number (a missing value? occam needs a number "
                     "in every cell: fill it in or drop the row; in this row column 3 is not a "
                     "number either)");
    expect_csv_error("a,b,y\n1,2,FALSE\n", classify_last(2),
                     ":2: column 3 (the label, \"y\"): \"FALSE\" is not a number (a yes/no "
                     "class? write it as 1 or 0)");
    /* no hint where there is nothing to say; a number past float32 says so */
    const char *plain[][2] = {{"1,2,0\n1,NAN2,1\n",
                               "\"NAN2\" is not a number (a category or other text? occam reads "
                               "numbers only: write a category as one 0/1 column per value)"},
                              {"1,-1e300,0\n", "\"-1e300\" is not a finite float32 value "
                                                "(beyond float32's range, about 3.4e38: change "
                                                "the column's units)"},
                              {"1,2,0.5\n1,2,high\n", "\"high\" is not a number"}};
    for (size_t i = 0; i < 3; i++) {
        expect_csv_error_ending(plain[i][0],
                                i < 2 ? classify_last(2)
                                      : csv_opts(OCCAM_LABEL_LAST, OCCAM_CSV_HEADER_AUTO,
                                                 OCCAM_TASK_REGRESS, 0),
                                plain[i][1]);
    }
}

/* R's write.csv2 and write.table quote every header name: a file separated by ';', tabs or
 * spaces stops at line 1's first closing quote, and one whose lines end in a bare CR at the
 * last cell's, or takes its quoted first line for a header. Each is named, as for a file
 * without quotes. */
Test(data, csv_quoted_file_of_another_separator_is_named)
{
    const char *cases[][2] = {
        {"\"\";\"a\";\"y\"\n\"1\";1,5;0\n",
         ":1: column 1: text after a quoted cell's closing quote (cells separated by ';'? occam "
         "reads commas)"},
        {"\"a\"\t\"b\"\t\"y\"\n1\t2\t0\n", ":1: column 1: text after a quoted cell's closing "
                                           "quote (cells separated by tabs? occam reads commas)"},
        {"\"a\" \"b\" \"y\"\n1 2 0\n", ":1: column 1: text after a quoted cell's closing quote "
                                     "(cells separated by spaces? occam reads commas)"},
        {"\"a\",\"b\",\"y\"\r1,2,0\r3,4,1\r",
         ":1: column 3: text after a quoted cell's closing quote (lines that end in a bare CR?)"},
        {"\"a\",b,y\r1,2,0\r3,4,1\r", "no data rows after the header (data.header = auto took "
                                     "line 1 for one: column 1, \"a\", is not a number; lines "
                                     "that end in a bare CR?)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        expect_csv_error(cases[i][0], classify_last(2), cases[i][1]);
}

/* Values written for people get their own hint, not "a category?": a percentage, a currency
 * sign, a Unicode minus sign or dash, a spreadsheet's error value; on the first line they make
 * no header (a row whose only U+2212 minus was on line 1 was dropped as one, unsaid). */
Test(data, csv_values_written_for_people_are_named)
{
    const char *cases[][2] = {
        {"a,b,y\n1,12.5%,0\n", ":2: column 2 (\"b\"): \"12.5%\" is not a number (a percentage? "
                               "write the plain number, 12.5 or 0.125)"},
        {"1,$1200,0\n", ":1: column 2: \"$1200\" is not a number (an amount with its currency "
                        "sign? write the plain number)"},
        {"1,-$5,0\n", "(an amount with its currency sign?"},
        {"1,5\xe2\x82\xac,0\n", "(an amount with its currency sign?"},
        {"\xe2\x88\x92" "0.05,1,0\n2,3,1\n", ":1: column 1: \"\xe2\x88\x92" "0.05\" is not a "
                                             "number (a Unicode minus sign or dash before the "
                                             "number? write it with '-')"},
        {"1,#DIV/0!,0\n", ":1: column 2: \"#DIV/0!\" is not a number (a spreadsheet's error "
                          "value: the formula that made the cell failed; fix it or drop the row)"},
        {"1,#NAME?,0\n", "(a spreadsheet's error value"},
        {"1,\"$1,200.00\",0\n", "(an amount with its currency sign?"},
        {"1,$ 5,0\n", "(an amount with its currency sign?"},
        {"1,5 \xe2\x82\xac,0\n", "(an amount with its currency sign?"},
        {"1,\xe2\x88\x92" "12%,0\n", "(a Unicode minus sign or dash before the number?"},
        {"1,2,0\n1,#cats!,0\n", "(a category or other text?"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        expect_csv_error(cases[i][0], classify_last(2), cases[i][1]);
    /* a name is still a name: the first lines below are headers, R's quantile names too (a
     * value written for people is one beside a plain number) */
    expect_csv_error("%,$,y\n1,x,0\n", classify_last(2), ":2: column 2 (\"$\"): \"x\"");
    expect_csv_error("0%,50%,y\n1,x,0\n", classify_last(2), ":2: column 2 (\"50%\"): \"x\"");
}

/* A first line that reads as a data row with a typo (beside plain numbers, its only other
 * cells hold digits) is no header under data.header = auto: it was dropped as one, exit 0, in
 * training and in predict's input (found by the third hostile-input sweep). It is refused,
 * naming the cell and both ways out; a header of names, digits in them or not, is still one,
 * and data.header = yes takes the line as asked. */
Test(data, csv_a_first_row_with_a_typo_is_not_taken_for_a_header)
{
    const char *doubt = " is not a number, but it looks like one gone wrong, and the other "
                        "cells are numbers: fix the cell if the line is data; if it names the "
                        "columns, set data.header = yes or start the names with a letter";
    const char *cases[][2] = {
        {"1.2882,1.44.94,0\n1,2,1\n", ":1: a header or a data row? column 2, \"1.44.94\""},
        {"O.0663,1,0\n1,2,1\n", ":1: a header or a data row? column 1, \"O.0663\""},
        {"1,2,2x\n1,2,1\n", ":1: a header or a data row? column 3, \"2x\""},
        {"--1.4,NA,1\n1,2,1\n", ":1: a header or a data row? column 1, \"--1.4\""},
        {"l.25,2,0\n1,2,1\n", ":1: a header or a data row? column 1, \"l.25\""},
        {"1,.5.5,0\n1,2,1\n", ":1: a header or a data row? column 2, \".5.5\""},
        {"\xc2\xa0" "1.5,2,0\n1,2,1\n", ":1: a header or a data row? column 1"},
        {"\xef\xbb\xbf\xef\xbb\xbf" "1.5,2,0\n1,2,1\n", ":1: a header or a data row? column 1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        occam_error e = expect_csv_error(cases[i][0], classify_last(2), cases[i][1]);
        cr_assert(strstr(e.msg, doubt), "%s", e.msg);
    }
    /* headers: names, with digits or beside numbers (pandas' columns of an array and a named
     * target, scikit-learn's PolynomialFeatures, quarters); pandas' index header */
    const char *headers[] = {"x1,x2,y\n1,2,1\n",     "850,fat,y\n1,2,1\n", "a,2,b3\n1,2,1\n",
                             ",0,1\n1,2,1\n",         "0,1,y0\n1,2,1\n",    "1,x0,x1\n1,2,1\n",
                             "2019,Q1_2021,y\n1,2,1\n", "1,2,I\n1,2,1\n",   "PM2.5,2,y\n1,2,1\n"};
    for (size_t i = 0; i < sizeof headers / sizeof *headers; i++) {
        occam_dataset ds;
        load_csv_ok(&ds, headers[i], classify_last(2));
        cr_assert_eq(ds.n, 1, "%s: %zu rows", headers[i], ds.n);
        occam_dataset_free(&ds);
    }
    occam_dataset ds;
    load_csv_ok(&ds, "1,2,2x\n1,2,1\n",
                csv_opts(OCCAM_LABEL_LAST, OCCAM_CSV_HEADER_YES, OCCAM_TASK_CLASSIFY, 2));
    cr_assert_eq(ds.n, 1);
    occam_dataset_free(&ds);
    /* and data.header = no reads it as data, refusing the cell as on any line */
    expect_csv_error("1,2,2x\n1,2,1\n", csv_opts(OCCAM_LABEL_LAST, OCCAM_CSV_HEADER_NO,
                                                      OCCAM_TASK_CLASSIFY, 2),
                     ":1: column 3 (the label): \"2x\" is not a number");
}

/* A number grouped by an unquoted ',' makes two cells: the count's message names them, on
 * this line, or on the first line when this one is short (it blamed only the count, or line
 * 2 for line 1's number). */
Test(data, csv_an_unquoted_grouped_number_is_named)
{
    expect_csv_error("a,b,y\n1,1,234.5,0\n", classify_last(2),
                     ":2: expected 3 cells, as line 1 (the header) has, found 4 (columns 2 and "
                     "3, \"1\" and \"234.5\": one number with its thousands grouped by ',', "
                     "unquoted? occam reads numbers without grouping)");
    expect_csv_error("1,-12,345,0\n2,3,1\n", classify_last(2),
                     ":2: expected 4 cells, as line 1 has, found 3 (line 1's columns 2 and 3: "
                     "one number with its thousands grouped by ',', unquoted?");
    expect_csv_error_ending("2,3,1\n1,12,34,1\n", classify_last(2),
                            ":2: expected 3 cells, as line 1 has, found 4");
    expect_csv_error_ending("2,3,1\n1,\"12\",345,1\n", classify_last(2),
                            ":2: expected 3 cells, as line 1 has, found 4");
}

/* A comment line ('#' or '%' first: numpy.savetxt's header, R's and Octave's notes) is named
 * as one, first or later in the file; a quoted "#1" is a cell like any other. */
Test(data, csv_comment_line_is_named)
{
    expect_csv_error("# made by hand\n1,2,0\n", classify_last(2),
                     ":1: need at least 2 cells per row (features and a label), found 1 (a "
                     "comment line? occam reads none: delete it)");
    expect_csv_error("1,2,0\n3,4,1\n% measured again\n5,6,0\n", classify_last(2),
                     ":3: expected 3 cells, as line 1 has, found 1 (a comment line? occam "
                     "reads none: delete it)");
    expect_csv_error_ending("1,2,0\n\"#1\"\n", classify_last(2),
                            ":2: expected 3 cells, as line 1 has, found 1");
}

/* A hint only where it applies: a quoted cell's ';' is its text, not a separator, and a quoted
 * "Smith, John" or "1,2.3,4" no decimal comma (a grouped "1,234.5" gets its own hint); a first
 * line of one cell lacks cells, whatever that cell holds, not a value. */
Test(data, csv_a_hint_is_given_only_where_it_applies)
{
    occam_csv_opts regress =
        csv_opts(OCCAM_LABEL_LAST, OCCAM_CSV_HEADER_AUTO, OCCAM_TASK_REGRESS, 0);
    const struct {
        const char *text, *tail;
        occam_csv_opts o;
    } cases[] = {
        {"a,b,y\n\"Main St; Apt 4\",2,0\n", ":2: column 1 (\"a\"): \"Main St; Apt 4\" is not a number "
         "(a category or other text? occam reads numbers only: write a category as one "
         "0/1 column per value)",
         classify_last(2)},
        {"a,b,y\n\"Smith, John\",2,0\n", ":2: column 1 (\"a\"): \"Smith, John\" is not a number "
         "(a category or other text? occam reads numbers only: write a category as one "
         "0/1 column per value)",
         classify_last(2)},
        {"a,b,y\n1,2,\"1,2.3,4\"\n",
         ":2: column 3 (the label, \"y\"): \"1,2.3,4\" is not a number", regress},
        {"NA\n1\n", ":1: need at least 2 cells per row (features and a label), found 1",
         classify_last(2)},
        {"\"\"\n1\n", ":1: need at least 2 cells per row (features and a label), found 1",
         classify_last(2)},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        path_t p = write_text("t.csv", cases[i].text);
        occam_dataset ds;
        occam_error err = {0};
        cr_assert_eq(occam_csv_load(&ds, p.s, &cases[i].o, &err), OCCAM_ERR_INPUT, "msg: %s",
                     err.msg);
        size_t n = strlen(err.msg), t = strlen(cases[i].tail);
        cr_assert(n >= t && !strcmp(err.msg + n - t, cases[i].tail), "case %zu: %s", i, err.msg);
    }
    /* the hint stays where it applies */
    expect_csv_error("a,b,y\n1,2,\"Smith, John\"\n", classify_last(2),
                     "\"Smith, John\" is not a number (a class name?");
}

/* A quoted number grouped by a comma, as a spreadsheet writes 23000 ("23,000"), is as likely a
 * thousands separator as a decimal comma: the hint names both, since reading the comma as a '.'
 * would make the value a thousand times smaller. A lone comma before other than three digits
 * is a decimal comma only. */
Test(data, csv_a_thousands_separator_is_not_called_a_decimal_comma)
{
    occam_csv_opts regress =
        csv_opts(OCCAM_LABEL_LAST, OCCAM_CSV_HEADER_AUTO, OCCAM_TASK_REGRESS, 0);
    const char *both = " is not a number (a thousands separator, or a decimal comma? occam reads "
                       "numbers without grouping, with a '.' for the decimal point)";
    const char *cases[][2] = {
        {"age,gag\n0,\"23,000\"\n", "\"23,000\""},
        {"age,gag\n0,\"-1,234\"\n", "\"-1,234\""},
        {"age,gag\n0,\" 999,500 \"\n", "\"999,500\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char tail[256];
        snprintf(tail, sizeof tail, "%s%s", cases[i][1], both);
        expect_csv_error_ending(cases[i][0], regress, tail);
    }
    /* a decimal comma only: not three digits after it, or more than three before */
    expect_csv_error("age,gag\n0,\"1,5\"\n", regress,
                     "\"1,5\" is not a number (a decimal comma? occam reads a '.')");
    expect_csv_error("age,gag\n0,\"1,2345\"\n", regress,
                     "\"1,2345\" is not a number (a decimal comma? occam reads a '.')");
    expect_csv_error("age,gag\n0,\"1234,500\"\n", regress,
                     "\"1234,500\" is not a number (a decimal comma? occam reads a '.')");
}

/* A number grouped in thousands beyond one comma group ("1,234,567", "1,234.50", "1.234,5",
 * 1 234 567, 1'234) is named as such, in a feature and in the target: a feature's was called
 * a category ("write a category as one 0/1 column per value") or a date, the target's had no
 * hint. What does not group by threes gets no such hint. */
Test(data, csv_a_number_grouped_in_thousands_is_named)
{
    occam_csv_opts regress =
        csv_opts(OCCAM_LABEL_LAST, OCCAM_CSV_HEADER_AUTO, OCCAM_TASK_REGRESS, 0);
    const char *grouped = " is not a number (a number with its thousands grouped? occam reads "
                          "numbers without grouping, with a '.' for the decimal point)";
    const char *cases[][2] = {
        {"price,y\n\"1,234,567\",0\n", "column 1 (\"price\"): \"1,234,567\""},
        {"price,y\n\"-1,234.50\",0\n", "column 1 (\"price\"): \"-1,234.50\""},
        {"price,y\n\"1.234,5\",0\n", "column 1 (\"price\"): \"1.234,5\""},
        {"price,y\n1 234 567,0\n", "column 1 (\"price\"): \"1 234 567\""},
        {"price,y\n1'234,0\n", "column 1 (\"price\"): \"1'234\""},
        {"age,price\n3,\"12,500,000\"\n", "column 2 (the label, \"price\"): \"12,500,000\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char tail[256];
        snprintf(tail, sizeof tail, "%s%s", cases[i][1], grouped);
        expect_csv_error_ending(cases[i][0], regress, tail);
    }
    const char *other[] = {"price,y\n\"1,2,3\",0\n", "price,y\n\"1,2345,678\",0\n",
                           "price,y\n2020-01-05,0\n", "price,y\n1 23,0\n",
                           "price,y\n\"1,234.\",0\n"};
    for (size_t i = 0; i < sizeof other / sizeof *other; i++) {
        occam_error err = expect_csv_error(other[i], regress, "is not a number");
        cr_assert(!strstr(err.msg, "grouped"), "case %zu: %s", i, err.msg);
    }
}

/* A file separated by spaces (statsmodels' spector.csv: 'OBS' 'GPA' ..., sklearn's linnerud
 * files: Chins Situps Jumps, numbers written by numpy.savetxt) is one cell a row: its first
 * line says so, as for ';' and tabs. A line of one word is no such file. */
Test(data, csv_a_file_separated_by_spaces_is_named)
{
    const char *space = "found 1 (cells separated by spaces? occam reads commas)";
    expect_csv_error("'OBS' 'GPA' 'TUCE'\n1 2.66 20\n", classify_last(2), space);
    expect_csv_error("Chins Situps Jumps\n5 162 60\n", classify_last(2), space);
    expect_csv_error("-0.00313258 0.083\n0.0188713 0.083\n", classify_last(2), space);
    const char *plain[] = {"NA\n1\n", "  word  \n1\n"};
    for (size_t i = 0; i < 2; i++) {
        expect_csv_error_ending(plain[i], classify_last(2),
                                "need at least 2 cells per row (features and a label), found 1");
    }
}

/* A row index that pandas' to_csv (",a,y" then "0,...") or R's write.csv ('"","a","y"' then
 * '"1",...') writes by default is flagged, and read as a feature like any column; a named or
 * not-counting first column, a label there, or no header is not. */
Test(data, csv_a_row_index_is_flagged)
{
    struct {
        const char *text;
        occam_csv_opts o;
        bool flagged;
    } cases[] = {
        {",a,y\n0,5,1\n1,6,0\n2,7,1\n", classify_last(2), true},
        {"\"\",\"a\",\"y\"\n\"1\",5,1\n\"2\",6,0\n\"3\",7,1\n", classify_last(2), true},
        {",a\n0,5\n1,6\n", features_only(OCCAM_CSV_HEADER_AUTO), true},
        {"id,a,y\n0,5,1\n1,6,0\n2,7,1\n", classify_last(2), false},
        {",a,y\n0,5,1\n1,6,0\n3,7,1\n", classify_last(2), false},
        {",a,y\n2,5,1\n3,6,0\n", classify_last(2), false},
        {",a,y\n0,5,1\n", classify_last(2), false},
        {",a,y\n0,5,1\n1,6,0\n", csv_opts(OCCAM_LABEL_FIRST, OCCAM_CSV_HEADER_AUTO,
                                         OCCAM_TASK_CLASSIFY, 2), false},
        {"0,5,1\n1,6,0\n", classify_last(2), false},
        /* R's row names after na.omit (gaps), pandas' index after a shuffle: 10 rows */
        {",a,y\n1,5,1\n2,6,0\n4,7,1\n5,5,1\n9,6,0\n"
         "10,7,1\n11,5,1\n15,6,0\n16,7,1\n17,1,0\n",
         classify_last(2), true},
        {",a,y\n7,5,1\n2,6,0\n0,7,1\n5,5,1\n9,6,0\n"
         "1,7,1\n3,5,1\n8,6,0\n4,7,1\n6,1,0\n",
         classify_last(2), true},
        /* a repeated or fractional value is no index */
        {",a,y\n1,5,1\n2,6,0\n4,7,1\n5,5,1\n9,6,0\n"
         "10,7,1\n11,5,1\n15,6,0\n16,7,1\n16,1,0\n",
         classify_last(2), false},
        {",a,y\n1,5,1\n2,6,0\n4,7,1\n5,5,1\n9,6,0\n"
         "10,7,1\n11,5,1\n15,6,0\n16,7,1\n1.5,1,0\n",
         classify_last(2), false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        occam_dataset ds;
        load_csv_ok(&ds, cases[i].text, cases[i].o);
        cr_assert_eq(ds.row_index != OCCAM_ROW_INDEX_NONE, cases[i].flagged, "case %zu", i);
        if (i == 1) cr_assert_eq(ds.row_index, OCCAM_ROW_INDEX_COUNTS);
        if (i == 9) cr_assert_eq(ds.row_index, OCCAM_ROW_INDEX_NAMES);
        cr_assert_eq(ds.d, 2, "case %zu: the index is read as a feature all the same", i);
        occam_dataset_free(&ds);
    }
}

/* R's write.csv writes a data frame's row names ("Mazda RX4", "Afghanistan") under an empty
 * header cell by default: the message names them and the way to leave them out, where it used
 * to advise one 0/1 column per value. A named first column of text is still a category. */
Test(data, csv_text_row_names_are_named_as_such)
{
    occam_csv_opts regress =
        csv_opts(OCCAM_LABEL_LAST, OCCAM_CSV_HEADER_AUTO, OCCAM_TASK_REGRESS, 0);
    occam_error err = expect_csv_error("\"\",\"mpg\",\"wt\"\n\"Mazda RX4\",21,2.62\n", regress,
                                       ":2: column 1: \"Mazda RX4\" is not a number (row names "
                                       "under the header's empty first cell, as R's write.csv "
                                       "writes them by default? occam reads numbers only: write "
                                       "the file without them (R: row.names = FALSE; pandas: "
                                       "index=False))");
    cr_assert_null(strstr(err.msg, "0/1 column"), "%s", err.msg);
    /* pandas' unnamed index of dates, under classification */
    expect_csv_error(",a,y\n2020-01-31,5,1\n", classify_last(2), "(row names under the header's");
    err = expect_csv_error("car,mpg,wt\n\"Mazda RX4\",21,2.62\n", regress,
                           "(a category or other text? occam reads numbers only: write a "
                           "category as one 0/1 column per value)");
    cr_assert_null(strstr(err.msg, "row names"), "%s", err.msg);
    /* an unnamed first column that is the label is no row names */
    err = expect_csv_error(",a\nMazda,21\n",
                           csv_opts(OCCAM_LABEL_FIRST, OCCAM_CSV_HEADER_AUTO,
                                    OCCAM_TASK_CLASSIFY, 2),
                           "(a class name?");
    cr_assert_null(strstr(err.msg, "row names"), "%s", err.msg);
}

/* R's write.csv quotes a factor's codes: a feature column quoted in every row while another is
 * not is flagged (the first such, by its column in the file); every column quoted (a
 * spreadsheet's export), none, only R's row names or only the label are not. */
Test(data, csv_a_quoted_factor_column_is_flagged)
{
    struct {
        const char *text;
        size_t col;
    } cases[] = {
        {"\"weight\",\"Time\",\"Chick\",\"Diet\",\"y\"\n"
         "42,0,\"1\",\"1\",1\n51,2,\"2\",\"1\",0\n",
         3},
        {"a,b,y\n\"1\",\"2\",1\n\"3\",\"4\",0\n", 0},
        {"a,b,y\n1,2,1\n3,4,0\n", 0},
        {"\"\",\"a\",\"y\"\n\"1\",5,1\n\"2\",6,0\n\"3\",7,1\n", 0},
        {"a,b,y\n1,2,\"1\"\n3,4,\"0\"\n", 0},
        {"a,b,c,y\n1,\"2\",\"5\",1\n3,4,\"6\",0\n", 3},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        occam_dataset ds;
        load_csv_ok(&ds, cases[i].text, classify_last(2));
        cr_expect_eq(ds.quoted_col, cases[i].col, "case %zu: %zu", i, ds.quoted_col);
        if (i == 0)
            cr_expect_str_eq(occam_dataset_column_name(&ds, ds.quoted_feature - 1), "Chick");
        occam_dataset_free(&ds);
    }
    /* the label first: file column 3, feature 2 */
    occam_dataset ds;
    load_csv_ok(&ds, "y,a,b\n1,2,\"3\"\n0,4,\"5\"\n",
                csv_opts(OCCAM_LABEL_FIRST, OCCAM_CSV_HEADER_AUTO, OCCAM_TASK_CLASSIFY, 2));
    cr_expect_eq(ds.quoted_col, 3);
    cr_expect_eq(ds.quoted_feature, 2);
    cr_expect_str_eq(occam_dataset_column_name(&ds, ds.quoted_feature - 1), "b");
    occam_dataset_free(&ds);
}

/* A gzipped CSV reads as the raw file does, in every mode; a damaged stream is an input error
 * naming the file and the line it reached. */
Test(data, csv_gzip)
{
    const char *text = "x1,x2,y\n1,2,1\n3,4,0\n5,6,1\n";
    path_t gz = write_bytes("t.csv.gz", text, strlen(text), true);
    occam_csv_opts modes[3] = {classify_last(2), features_only(OCCAM_CSV_HEADER_AUTO),
                               csv_opts(OCCAM_LABEL_LAST, OCCAM_CSV_HEADER_AUTO,
                                        OCCAM_TASK_REGRESS, 0)};
    for (int m = 0; m < 3; m++) {
        occam_dataset raw, zip;
        occam_error err = {0};
        load_csv_ok(&raw, text, modes[m]);
        cr_assert_eq(occam_csv_load(&zip, gz.s, &modes[m], &err), OCCAM_OK, "%s", err.msg);
        cr_assert_eq(zip.n, raw.n);
        cr_assert_eq(zip.d, raw.d);
        check_rows(&zip, raw.n, raw.d, raw.x);
        cr_assert_eq(!zip.label, !raw.label);
        cr_assert_eq(!zip.y, !raw.y);
        for (size_t i = 0; i < raw.n; i++) {
            if (raw.label) cr_assert_eq(zip.label[i], raw.label[i]);
            if (raw.y) cr_assert_eq(zip.y[i], raw.y[i]);
        }
        occam_dataset_free(&raw);
        occam_dataset_free(&zip);
    }

    /* Many lines, then the .gz cut short: the reader says so rather than keeping what it got. */
    size_t cap = 40000, len = 0;
    char *big = malloc(cap);
    for (int i = 0; len + 32 < cap; i++)
        len += (size_t)sprintf(big + len, "%d,%d,%d\n", i, i * 7 % 13, i % 2);
    path_t cut = write_bytes("cut.csv.gz", big, len, true);
    bytes b = read_all(cut.s);
    write_bytes("cut.csv.gz", b.p, b.len / 2, false);
    free(b.p);
    free(big);
    for (int m = 0; m < 2; m++) {
        occam_dataset ds;
        occam_error err = {0};
        cr_assert_eq(occam_csv_load(&ds, cut.s, &modes[m], &err), OCCAM_ERR_INPUT, "%s", err.msg);
        assert_msg_has(err, cut.s);
        assert_msg_has(err, ": corrupt gzip stream: unexpected end of file");
        assert_zeroed(&ds);
    }
}

/* gzip(data), then `more` as it is, written to name; the gzip part's length to *gz_len. */
static path_t write_gzip_then(const char *name, const void *data, size_t len, const void *more,
                              size_t more_len, size_t *gz_len)
{
    path_t p = write_bytes(name, data, len, true);
    bytes b = read_all(p.s);
    b.p = realloc(b.p, b.len + more_len);
    memcpy(b.p + b.len, more, more_len);
    write_bytes(name, b.p, b.len + more_len, false);
    *gz_len = b.len;
    free(b.p);
    return p;
}

/* After a gzip member comes the file's end or another member (`cat a.gz b.gz` reads as a then
 * b). Anything else is an input error naming the file and where the gzip data ends: zlib's gz*
 * reader ignored it, so `cat train.csv.gz more.csv > all.csv.gz` trained on train.csv's rows
 * alone with exit 0, and an IDX file with bytes after its gzip stream loaded. */
Test(data, what_follows_a_gzip_stream_is_another_member_or_an_error)
{
    const char *first = "x1,x2,y\n1,2,1\n3,4,0\n", *second = "5,6,1\n";
    path_t two = write_bytes("b.gz", second, strlen(second), true);
    bytes b = read_all(two.s);
    size_t gz_len;
    path_t both = write_gzip_then("t.csv.gz", first, strlen(first), b.p, b.len, &gz_len);
    free(b.p);
    occam_csv_opts o = classify_last(2);
    occam_dataset ds;
    occam_error err = {0};
    cr_assert_eq(occam_csv_load(&ds, both.s, &o, &err), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(ds.n, 3);
    cr_assert_eq(ds.x[4], 5.0f);
    cr_assert_eq(ds.label[2], 1);
    occam_dataset_free(&ds);

    path_t raw = write_gzip_then("t.csv.gz", first, strlen(first), second, strlen(second),
                                 &gz_len);
    char want[sizeof raw.s + 200];
    snprintf(want, sizeof want, "%s: corrupt gzip stream: the gzip data ends after %zu bytes, "
             "and 6 more bytes follow that are not gzip (a file appended raw to a gzipped one?)",
             raw.s, gz_len);
    occam_csv_opts modes[2] = {classify_last(2), features_only(OCCAM_CSV_HEADER_AUTO)};
    for (int m = 0; m < 2; m++) {
        cr_assert_eq(occam_csv_load(&ds, raw.s, &modes[m], &err), OCCAM_ERR_INPUT);
        cr_assert_str_eq(err.msg, want);
        assert_zeroed(&ds);
    }

    bytes img = idx_bytes(0x803, (const uint32_t[]){3, 2, 3}, 3, k_pix, sizeof k_pix);
    path_t imgs = write_gzip_then("img.gz", img.p, img.len, "junk", 4, &gz_len);
    free(img.p);
    path_t labs = write_idx_labels("lab", 3, k_lab, sizeof k_lab, false);
    snprintf(want, sizeof want, "the gzip data ends after %zu bytes, and 4 more bytes follow",
             gz_len);
    expect_idx_error(imgs.s, labs.s, 10, imgs.s, want);
}

/* The reader reads its file once, so a FIFO (or a pipe, or /dev/stdin) gives the same rows as
 * the file would, gzipped or not. */
Test(data, csv_fifo_reads_like_a_file)
{
    const char *text = "a,b,y\n1,2,0\n3,4,1\n5,6,1\n";
    path_t fifo = fixture("fifo");
    cr_assert_eq(mkfifo(fifo.s, 0600), 0);
    for (int zip = 0; zip < 2; zip++) {
        bytes b = {(unsigned char *)text, strlen(text)};
        if (zip) {
            path_t gz = write_bytes("t.csv.gz", text, strlen(text), true);
            b = read_all(gz.s);
        }
        pid_t pid = feed_fifo(fifo.s, b.p, b.len);
        occam_dataset ds;
        occam_error err = {0};
        occam_csv_opts o = classify_last(2);
        cr_assert_eq(occam_csv_load(&ds, fifo.s, &o, &err), OCCAM_OK, "%s", err.msg);
        check_rows(&ds, 3, 2, (const float[]){1, 2, 3, 4, 5, 6});
        cr_assert_eq(ds.label[0], 0);
        cr_assert_eq(ds.label[1], 1);
        cr_assert_eq(ds.label[2], 1);
        occam_dataset_free(&ds);
        int st;
        cr_assert_eq(waitpid(pid, &st, 0), pid);
        cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        if (zip) free(b.p);
    }
}

/* Rows past the arrays' first room (1024) make them grow; the values survive the moves and
 * the result is aligned and trimmed to the rows. */
Test(data, csv_many_rows_grow)
{
    size_t rows = 5000, cap = rows * 32, len = 0;
    char *text = malloc(cap);
    for (size_t i = 0; i < rows; i++)
        len += (size_t)snprintf(text + len, cap - len, "%zu,%zu,%.1f\n", i, 2 * i, 0.5 * (double)i);
    path_t p = write_bytes("many.csv", text, len, false);
    occam_dataset ds;
    occam_error err = {0};
    occam_csv_opts o = csv_opts(OCCAM_LABEL_LAST, OCCAM_CSV_HEADER_NO, OCCAM_TASK_REGRESS, 0);
    cr_assert_eq(occam_csv_load(&ds, p.s, &o, &err), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(ds.n, rows);
    cr_assert_eq(ds.d, 2);
    cr_assert_eq((uintptr_t)ds.x % OCCAM_ALIGN, 0);
    cr_assert_eq((uintptr_t)ds.y % OCCAM_ALIGN, 0);
    for (size_t i = 0; i < rows; i++) {
        cr_assert_eq(ds.x[2 * i], (float)i);
        cr_assert_eq(ds.x[2 * i + 1], (float)(2 * i));
        cr_assert_eq(ds.y[i], (float)(0.5 * (double)i));
    }
    occam_dataset_free(&ds);
    free(text);
}

/* A line may be OCCAM_CSV_LINE_MAX bytes, not one more: an endless line (a FIFO fed zeros,
 * as /dev/zero would be) fails after that much, naming the line. */
Test(data, csv_line_length_limit)
{
    size_t max = OCCAM_CSV_LINE_MAX;
    char *text = malloc(max + 16);
    /* "1,1,...,1,0": max bytes of cells, then a second line. */
    for (size_t i = 0; i < max; i += 2) memcpy(text + i, "1,", 2);
    text[max - 1] = '0';
    memcpy(text + max, "\n", 1);
    path_t fits = write_bytes("fits.csv", text, max + 1, false);
    occam_dataset ds;
    occam_error err = {0};
    occam_csv_opts fo = features_only(OCCAM_CSV_HEADER_NO);
    cr_assert_eq(occam_csv_load(&ds, fits.s, &fo, &err), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(ds.n, 1);
    cr_assert_eq(ds.d, max / 2);
    occam_dataset_free(&ds);

    memcpy(text + max - 1, "00\n", 3);
    path_t over = write_bytes("over.csv", text, max + 2, false);
    cr_assert_eq(occam_csv_load(&ds, over.s, &fo, &err), OCCAM_ERR_INPUT);
    assert_msg_has(err, over.s);
    assert_msg_has(err, ":1: line longer than 1048576 bytes (occam's limit on a CSV line, "
                        "OCCAM_CSV_LINE_MAX");
    assert_zeroed(&ds);
    free(text);

    path_t fifo = fixture("zeros");
    cr_assert_eq(mkfifo(fifo.s, 0600), 0);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        signal(SIGPIPE, SIG_DFL);
        static char zeros[1 << 16];
        FILE *f = fopen(fifo.s, "w");
        while (f && fwrite(zeros, 1, sizeof zeros, f) == sizeof zeros) continue;
        _exit(0);
    }
    occam_csv_opts lo = classify_last(2);
    cr_assert_eq(occam_csv_load(&ds, fifo.s, &lo, &err), OCCAM_ERR_INPUT);
    assert_msg_has(err, ":1: line longer than 1048576 bytes");
    assert_zeroed(&ds);
    kill(pid, SIGKILL);
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
}

/* ---- blobs ------------------------------------------------------------------------------- */

static void make_blobs(occam_dataset *tr, occam_dataset *te, size_t n_train, size_t n_test,
                       int features, int classes, double spread, uint64_t seed)
{
    occam_error err = {0};
    cr_assert_eq(occam_blobs_make(tr, te, n_train, n_test, features, classes, spread, seed, &err),
                 OCCAM_OK, "%s", err.msg);
}

Test(data, blobs_deterministic)
{
    occam_dataset a, b, c, d;
    make_blobs(&a, &b, 200, 50, 4, 3, 2.0, 42);
    make_blobs(&c, &d, 200, 50, 4, 3, 2.0, 42);
    cr_assert_eq(a.n, 200);
    cr_assert_eq(a.d, 4);
    cr_assert_eq(a.classes, 3);
    cr_assert_eq(b.n, 50);
    cr_assert_eq((uintptr_t)a.x % OCCAM_ALIGN, 0);
    cr_assert_eq(memcmp(a.x, c.x, 200 * 4 * sizeof(float)), 0);
    cr_assert_eq(memcmp(a.label, c.label, 200 * sizeof(int32_t)), 0);
    cr_assert_eq(memcmp(b.x, d.x, 50 * 4 * sizeof(float)), 0);
    cr_assert_eq(memcmp(b.label, d.label, 50 * sizeof(int32_t)), 0);
    occam_dataset_free(&c);
    occam_dataset_free(&d);
    /* Train and test rows come from different streams, even for equal sizes. */
    make_blobs(&c, &d, 50, 50, 4, 3, 2.0, 42);
    cr_assert_neq(memcmp(c.x, d.x, 50 * 4 * sizeof(float)), 0);
    occam_dataset_free(&c);
    occam_dataset_free(&d);
    /* The training set does not depend on the size of the test set. */
    make_blobs(&c, &d, 200, 7, 4, 3, 2.0, 42);
    cr_assert_eq(memcmp(a.x, c.x, 200 * 4 * sizeof(float)), 0);
    cr_assert_eq(memcmp(a.label, c.label, 200 * sizeof(int32_t)), 0);
    occam_dataset_free(&a);
    occam_dataset_free(&b);
    occam_dataset_free(&c);
    occam_dataset_free(&d);
}

Test(data, blobs_seeds_differ)
{
    occam_dataset a, b, c, d;
    make_blobs(&a, &b, 100, 10, 3, 2, 1.0, 1);
    make_blobs(&c, &d, 100, 10, 3, 2, 1.0, 2);
    cr_assert_neq(memcmp(a.x, c.x, 100 * 3 * sizeof(float)), 0);
    cr_assert_neq(memcmp(b.x, d.x, 10 * 3 * sizeof(float)), 0);
    occam_dataset_free(&a);
    occam_dataset_free(&b);
    occam_dataset_free(&c);
    occam_dataset_free(&d);
}

Test(data, blobs_balanced_and_shuffled)
{
    occam_dataset tr, te;
    make_blobs(&tr, &te, 10, 9, 2, 3, 1.0, 5);
    int ctr[3] = {0}, cte[3] = {0};
    for (size_t i = 0; i < tr.n; i++) ctr[tr.label[i]]++;
    for (size_t i = 0; i < te.n; i++) cte[te.label[i]]++;
    cr_assert(ctr[0] == 4 && ctr[1] == 3 && ctr[2] == 3, "%d %d %d", ctr[0], ctr[1], ctr[2]);
    cr_assert(cte[0] == 3 && cte[1] == 3 && cte[2] == 3);
    occam_dataset_free(&tr);
    occam_dataset_free(&te);

    make_blobs(&tr, &te, 300, 0, 2, 3, 1.0, 5);
    size_t in_order = 0;
    for (size_t i = 0; i < tr.n; i++) in_order += tr.label[i] == (int32_t)(i % 3);
    cr_assert_lt(in_order, 200, "rows are not shuffled (%zu of 300 in order)", in_order);
    /* n_test = 0 gives an empty test set. */
    assert_zeroed(&te);
    occam_dataset_free(&tr);
}

/* Per-class feature means of ds into mean[classes][features]. */
static void class_means(const occam_dataset *ds, double *mean)
{
    size_t count[8] = {0};
    memset(mean, 0, (size_t)ds->classes * ds->d * sizeof *mean);
    for (size_t i = 0; i < ds->n; i++) {
        count[ds->label[i]]++;
        for (size_t j = 0; j < ds->d; j++) mean[ds->label[i] * ds->d + j] += ds->x[i * ds->d + j];
    }
    for (int c = 0; c < ds->classes; c++)
        for (size_t j = 0; j < ds->d; j++) mean[c * ds->d + j] /= (double)count[c];
}

Test(data, blobs_train_and_test_share_centres)
{
    enum { F = 4, C = 3 };
    occam_dataset tr, te;
    make_blobs(&tr, &te, 1200, 900, F, C, 5.0, 2024);
    double mtr[C * F], mte[C * F];
    class_means(&tr, mtr);
    class_means(&te, mte);
    for (int k = 0; k < C * F; k++)
        cr_assert_lt(fabs(mtr[k] - mte[k]), 0.3, "class %d feature %d: train %g test %g", k / F,
                     k % F, mtr[k], mte[k]);
    /* Unit variance around the centre. */
    double ss = 0;
    for (size_t i = 0; i < tr.n; i++)
        for (int j = 0; j < F; j++) {
            double dx = tr.x[i * F + j] - mtr[tr.label[i] * F + j];
            ss += dx * dx;
        }
    double sd = sqrt(ss / (double)(tr.n * F));
    cr_assert(fabs(sd - 1.0) < 0.05, "within-class std %g", sd);
    /* The centres themselves are spread out (std 5): some pair is well apart. */
    double far = 0;
    for (int j = 0; j < F; j++) far = fmax(far, fabs(mtr[0 * F + j] - mtr[1 * F + j]));
    cr_assert_gt(far, 1.0);
    occam_dataset_free(&tr);
    occam_dataset_free(&te);
}

static void expect_blobs_error(size_t n_train, int features, int classes, double spread,
                               const char *key)
{
    occam_dataset tr, te;
    occam_error err = {0};
    cr_assert_eq(occam_blobs_make(&tr, &te, n_train, 10, features, classes, spread, 1, &err),
                 OCCAM_ERR_INPUT);
    assert_msg_has(err, key);
    assert_zeroed(&tr);
    assert_zeroed(&te);
}

Test(data, blobs_bad_arguments)
{
    expect_blobs_error(0, 2, 2, 1.0, "data.samples");
    expect_blobs_error((size_t)1 << 32, 2, 2, 1.0, "data.samples");
    expect_blobs_error(10, 0, 2, 1.0, "data.features");
    expect_blobs_error(10, 2, 1, 1.0, "data.classes");
    expect_blobs_error(10, 2, 2, -1.0, "data.spread");
    expect_blobs_error(10, 2, 2, NAN, "data.spread");
}

/* ---- normalisation ----------------------------------------------------------------------- */

static occam_dataset make_ds(size_t n, size_t d, const float *x)
{
    occam_dataset ds = {.n = n, .d = d, .x = occam_alloc(n, d * sizeof(float))};
    memcpy(ds.x, x, n * d * sizeof(float));
    return ds;
}

/* Under scale, a feature constant over the training rows keeps that value in the test rows
 * (divided by the one scale, as every value is); none leaves every value as it is. */
Test(data, normalize_scale_holds_a_constant_feature)
{
    occam_dataset tr = make_ds(2, 3, (const float[]){1, 2, -4, 3, 2, 8});
    occam_dataset te = make_ds(2, 3, (const float[]){5, 4, 1, 6, -1, 2});
    occam_data_normalize(&tr, &te, OCCAM_NORM_SCALE);
    check_rows(&tr, 2, 3, (const float[]){1 / 8.f, 2 / 8.f, -4 / 8.f, 3 / 8.f, 2 / 8.f, 1});
    check_rows(&te, 2, 3, (const float[]){5 / 8.f, 2 / 8.f, 1 / 8.f, 6 / 8.f, 2 / 8.f, 2 / 8.f});
    cr_expect_eq(tr.const_cols, 1);
    cr_expect_eq(tr.const_col, 2);
    cr_expect_eq(tr.const_val, 2.0);
    occam_dataset_free(&tr);
    occam_dataset_free(&te);
    tr = make_ds(2, 3, (const float[]){1, 2, -4, 3, 2, 8});
    te = make_ds(1, 3, (const float[]){5, 4, 1});
    occam_data_normalize(&tr, &te, OCCAM_NORM_NONE);
    check_rows(&te, 1, 3, (const float[]){5, 4, 1});
    cr_expect_eq(tr.const_cols, 0);
    occam_dataset_free(&tr);
    occam_dataset_free(&te);
}

Test(data, normalize_standardize_exact)
{
    /* Feature 0: train {1, 3}, mean 2, population std 1. Feature 1: constant 2 in training,
     * so 0 in every row, the test row's 4 included (it was (4 - 2) / 1 = 2, multiplied by
     * weights no training row moved). */
    occam_dataset tr = make_ds(2, 2, (const float[]){1, 2, 3, 2});
    occam_dataset te = make_ds(1, 2, (const float[]){5, 4});
    occam_data_normalize(&tr, &te, OCCAM_NORM_STANDARDIZE);
    check_rows(&tr, 2, 2, (const float[]){-1, 0, 1, 0});
    check_rows(&te, 1, 2, (const float[]){3, 0});
    cr_expect_eq(tr.const_cols, 1);
    cr_expect_eq(tr.const_col, 2);
    cr_expect_eq(tr.const_val, 2.0);
    occam_dataset_free(&tr);
    occam_dataset_free(&te);

    /* Feature: train {0, 0, 0, 8}: mean 2, std sqrt(12); test 2 + sqrt(12)*1.5. */
    tr = make_ds(4, 1, (const float[]){0, 0, 0, 8});
    occam_data_normalize(&tr, NULL, OCCAM_NORM_STANDARDIZE);
    cr_assert_float_eq(tr.x[3], (float)(6 / sqrt(12)), 1e-6);
    cr_assert_float_eq(tr.x[0], (float)(-2 / sqrt(12)), 1e-6);
    cr_expect_eq(tr.const_cols, 0);
    occam_dataset_free(&tr);

    /* Constant features past the first block of 64 are counted too, the first one named:
     * features 3 and 70 of 72 are constant (-1.5 and 7); the rest vary. */
    enum { D = 72 };
    float x[3 * D], t[D];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < D; j++)
            x[i * D + j] = j == 2 ? -1.5f : j == 69 ? 7.0f : (float)(i * (j + 1));
    for (int j = 0; j < D; j++) t[j] = 100.0f;
    tr = make_ds(3, D, x);
    te = make_ds(1, D, t);
    occam_data_normalize(&tr, &te, OCCAM_NORM_STANDARDIZE);
    cr_expect_eq(tr.const_cols, 2);
    cr_expect_eq(tr.const_col, 3);
    cr_expect_eq(tr.const_val, -1.5);
    for (int i = 0; i < 3; i++) cr_expect_eq(tr.x[i * D + 69], 0.0f);
    cr_expect_eq(te.x[2], 0.0f);
    cr_expect_eq(te.x[69], 0.0f);
    cr_expect_gt(te.x[5], 1.0f, "a varying feature still follows its statistics");
    occam_dataset_free(&tr);
    occam_dataset_free(&te);
}

Test(data, normalize_standardize_statistics)
{
    /* 130 features cover more than one block of the blocked loop. */
    enum { F = 130 };
    occam_dataset tr, te;
    make_blobs(&tr, &te, 500, 100, F, 3, 4.0, 9);
    occam_dataset copy = make_ds(te.n, te.d, te.x);
    double mean[F] = {0}, var[F] = {0};
    for (size_t i = 0; i < tr.n; i++)
        for (int j = 0; j < F; j++) mean[j] += tr.x[i * F + j] / 500.0;
    for (size_t i = 0; i < tr.n; i++)
        for (int j = 0; j < F; j++) var[j] += pow(tr.x[i * F + j] - mean[j], 2) / 500.0;

    occam_data_normalize(&tr, &te, OCCAM_NORM_STANDARDIZE);
    for (int j = 0; j < F; j++) {
        double m = 0, v = 0;
        for (size_t i = 0; i < tr.n; i++) m += tr.x[i * F + j] / 500.0;
        for (size_t i = 0; i < tr.n; i++) v += pow(tr.x[i * F + j] - m, 2) / 500.0;
        cr_assert_lt(fabs(m), 1e-5, "feature %d mean %g", j, m);
        cr_assert_lt(fabs(v - 1.0), 1e-4, "feature %d var %g", j, v);
    }
    /* The test set used the training statistics. */
    for (size_t k = 0; k < te.n * F; k++) {
        double want = (copy.x[k] - mean[k % F]) / sqrt(var[k % F]);
        cr_assert_lt(fabs(te.x[k] - want), 1e-4, "test value %zu", k);
    }
    occam_dataset_free(&tr);
    occam_dataset_free(&te);
    occam_dataset_free(&copy);
}

Test(data, normalize_scale)
{
    occam_dataset tr = make_ds(2, 2, (const float[]){-4, 2, 1, 0});
    occam_dataset te = make_ds(1, 2, (const float[]){8, -2});
    occam_data_normalize(&tr, &te, OCCAM_NORM_SCALE);
    check_rows(&tr, 2, 2, (const float[]){-1, 0.5f, 0.25f, 0});
    check_rows(&te, 1, 2, (const float[]){2, -0.5f});
    occam_dataset_free(&tr);
    occam_dataset_free(&te);

    /* all 0 in training: no divisor, and the feature, constant, keeps its 0 in the test row */
    tr = make_ds(2, 1, (const float[]){0, 0});
    te = make_ds(1, 1, (const float[]){3});
    occam_data_normalize(&tr, &te, OCCAM_NORM_SCALE);
    check_rows(&tr, 2, 1, (const float[]){0, 0});
    check_rows(&te, 1, 1, (const float[]){0});
    te.x[0] = 3;
    occam_data_normalize(&tr, &te, OCCAM_NORM_NONE);
    check_rows(&te, 1, 1, (const float[]){3});
    occam_dataset_free(&tr);
    occam_dataset_free(&te);
}

/* scale's one divisor leaves a feature of other units near 0: the worst one more than 100
 * times below the largest |x| is recorded (the commands say so); images are left alone, and a
 * zero column has no scale to lose. */
Test(data, normalize_scale_names_a_squashed_feature)
{
    occam_dataset tr = make_ds(2, 4, (const float[]){50, 2e5f, 0.5f, 0, 80, 1e5f, -1, 0});
    occam_data_normalize(&tr, NULL, OCCAM_NORM_SCALE);
    cr_assert_eq(tr.squashed_col, 3);
    cr_assert_float_eq(tr.squashed_ratio, 2e5, 1e-2);
    occam_dataset_free(&tr);
    /* a subnormal column: the ratio, 1 over it, overflows float (the note said '1/inf') */
    tr = make_ds(2, 2, (const float[]){1.4e-45f, 1, 0, 1});
    occam_data_normalize(&tr, NULL, OCCAM_NORM_SCALE);
    cr_assert_eq(tr.squashed_col, 1);
    cr_assert(isfinite(tr.squashed_ratio) && tr.squashed_ratio > 7e44, "%g", tr.squashed_ratio);
    occam_dataset_free(&tr);
    tr = make_ds(2, 2, (const float[]){50, 2e3f, 80, 1e3f}); /* 25 times: no note */
    occam_data_normalize(&tr, NULL, OCCAM_NORM_SCALE);
    cr_assert_eq(tr.squashed_col, 0);
    occam_dataset_free(&tr);
    tr = make_ds(2, 2, (const float[]){1, 255, 0, 200});
    tr.grid_w = 2; /* pixels */
    occam_data_normalize(&tr, NULL, OCCAM_NORM_SCALE);
    cr_assert_eq(tr.squashed_col, 0);
    occam_dataset_free(&tr);
    /* pixels from a CSV: most features reach near the largest, one edge pixel does not */
    tr = make_ds(2, 4, (const float[]){1, 255, 30, 200, 0, 100, 255, 9});
    occam_data_normalize(&tr, NULL, OCCAM_NORM_SCALE);
    cr_assert_eq(tr.squashed_col, 0);
    occam_dataset_free(&tr);
    /* mixed units, most within 100x but not within 10x of the largest: a conductivity to
     * 1000, readings to 80, 60 and 50, pH to 2.3; the pH is named */
    tr = make_ds(2, 5, (const float[]){1000, 80, 60, 50, 2.3f, 500, 40, 30, 20, 1.9f});
    occam_data_normalize(&tr, NULL, OCCAM_NORM_SCALE);
    cr_assert_eq(tr.squashed_col, 5);
    occam_dataset_free(&tr);
}

/* A regression dataset of n rows, one feature (0) and k targets y. */
static occam_dataset make_targets(size_t n, int k, const float *y)
{
    occam_dataset ds = {.n = n, .d = 1, .targets = k, .x = occam_alloc_zero(n, sizeof(float)),
                        .y = occam_alloc(n * (size_t)k, sizeof(float))};
    memcpy(ds.y, y, n * (size_t)k * sizeof(float));
    return ds;
}

/* The relative error's denominator is the variance of the targets as read: standardised by a
 * training std of about 4e29 (one target of 1e30), test targets from -2 to 2 become one
 * float32, and the variance recomputed from them was 0, so a run said "the test targets do not
 * vary" and gave no relative error (found by the third hostile-input sweep). */
Test(data, normalize_targets_keeps_the_variance_as_read)
{
    occam_dataset tr = make_targets(5, 1, (const float[]){1e30f, 0, 1, 2, 3});
    occam_dataset te = make_targets(5, 1, (const float[]){-2, -1, 0, 1, 2});
    occam_error err = {0};
    cr_assert_eq(occam_data_normalize_targets(&tr, &te, &err), OCCAM_OK, "%s", err.msg);
    for (int i = 1; i < 5; i++) cr_assert_eq(te.y[i], te.y[0], "the spread survived float32");
    cr_assert_not_null(te.y_var);
    cr_assert_eq(te.y_var[0], 2.0); /* -2..2: exact in double */
    const double ys[5] = {(double)1e30f, 0, 1, 2, 3}; /* the training targets as read */
    double m = 0, v = 0;
    for (int i = 0; i < 5; i++) m += ys[i] / 5;
    for (int i = 0; i < 5; i++) v += (ys[i] - m) * (ys[i] - m) / 5;
    cr_assert_float_eq(tr.y_var[0], v, 1e-12 * v);
    occam_dataset_free(&tr);
    occam_dataset_free(&te);
}

Test(data, normalize_targets_exact)
{
    /* Target 0: train {100, 300}, mean 200, std 100; target 1: constant 7, std 0 -> 1. */
    occam_dataset tr = make_targets(2, 2, (const float[]){100, 7, 300, 7});
    occam_dataset te = make_targets(1, 2, (const float[]){450, 5});
    occam_error err = {0};
    cr_assert_eq(occam_data_normalize_targets(&tr, &te, &err), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(tr.y[0], -1.0f);
    cr_assert_eq(tr.y[1], 0.0f);
    cr_assert_eq(tr.y[2], 1.0f);
    cr_assert_eq(te.y[0], 2.5f); /* the training statistics */
    cr_assert_eq(te.y[1], -2.0f);
    for (int u = 0; u < 2; u++) {
        const occam_dataset *ds = u ? &te : &tr;
        cr_assert(ds->y_shift && ds->y_scale);
        cr_assert_eq(ds->y_shift[0], 200.0);
        cr_assert_eq(ds->y_scale[0], 100.0);
        cr_assert_eq(ds->y_shift[1], 7.0);
        cr_assert_eq(ds->y_scale[1], 1.0);
        cr_assert_eq(occam_dataset_target_scale(ds, 0), 100.0);
    }
    cr_assert_neq(te.y_shift, tr.y_shift); /* each dataset owns its copy */
    cr_assert_eq(occam_dataset_loss_scale(&tr), (100.0 * 100.0 + 1.0) / 2.0);
    float out[4] = {0.5f, 1.0f, -2.0f, 0.0f};
    occam_data_targets_restore(&tr, out, 2);
    cr_assert_eq(out[0], 250.0f);
    cr_assert_eq(out[1], 8.0f);
    cr_assert_eq(out[2], 0.0f);
    cr_assert_eq(out[3], 7.0f);
    occam_dataset_free(&tr);
    occam_dataset_free(&te);

    /* Without standardised targets every conversion is the identity; a dataset without
     * targets (classification) is left alone. */
    occam_dataset raw = make_targets(1, 1, (const float[]){42});
    cr_assert_eq(occam_dataset_target_scale(&raw, 0), 1.0);
    cr_assert_eq(occam_dataset_loss_scale(&raw), 1.0);
    occam_data_targets_restore(&raw, out, 1);
    cr_assert_eq(out[0], 250.0f);
    occam_dataset_free(&raw);
    occam_dataset cl = make_ds(2, 1, (const float[]){1, 2});
    cr_assert_eq(occam_data_normalize_targets(&cl, NULL, &err), OCCAM_OK);
    cr_assert_null(cl.y_shift);
    cr_assert_null(cl.y_scale);
    occam_dataset_free(&cl);
}

/* Standardise, then convert back: the original targets to float rounding, for targets in the
 * hundreds and in the thousandths, train and test. */
Test(data, normalize_targets_round_trip)
{
    enum { N = 1000, T = 50, K = 3 };
    static float y[N * K], yt[T * K];
    const double shift[K] = {180.0, -3e-3, 0.0}, scale[K] = {60.0, 2e-4, 1.0};
    uint64_t s = 12345;
    for (int i = 0; i < (N + T) * K; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        double u = (double)(s >> 11) / 9007199254740992.0 - 0.5; /* [-0.5, 0.5) */
        int j = i % K;
        float v = (float)(shift[j] + 3.0 * scale[j] * u);
        if (i < N * K) y[i] = v;
        else yt[i - N * K] = v;
    }
    occam_dataset tr = make_targets(N, K, y), te = make_targets(T, K, yt);
    occam_error err = {0};
    cr_assert_eq(occam_data_normalize_targets(&tr, &te, &err), OCCAM_OK, "%s", err.msg);
    for (int j = 0; j < K; j++) {
        double m = 0, v = 0;
        for (int i = 0; i < N; i++) m += tr.y[i * K + j] / (double)N;
        for (int i = 0; i < N; i++) v += pow(tr.y[i * K + j] - m, 2) / (double)N;
        cr_assert_lt(fabs(m), 1e-6, "target %d mean %g", j, m);
        cr_assert_lt(fabs(v - 1.0), 1e-6, "target %d var %g", j, v);
    }
    occam_data_targets_restore(&tr, tr.y, N);
    occam_data_targets_restore(&te, te.y, T);
    for (int u = 0; u < 2; u++) {
        const float *got = u ? te.y : tr.y, *want = u ? yt : y;
        for (int i = 0; i < (u ? T : N) * K; i++) {
            /* two roundings to float, each at most half an ulp of a value of the column's
             * magnitude (|y| <= |shift| + 1.5 scale) */
            int j = i % K;
            double tol = 2.0 * ldexp(fabs(shift[j]) + 1.5 * scale[j], -23);
            cr_assert_leq(fabs((double)got[i] - want[i]), tol, "%s row %d target %d: %.9g vs %.9g",
                          u ? "test" : "train", i / K, j, got[i], want[i]);
        }
    }
    occam_dataset_free(&tr);
    occam_dataset_free(&te);
}

/* ---- occam_data_load --------------------------------------------------------------------- */

static occam_config base_config(occam_source source, const int *layers, int nlayers)
{
    occam_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.data.source = source;
    cfg.data.label = OCCAM_LABEL_LAST;
    cfg.data.header = OCCAM_CSV_HEADER_AUTO;
    cfg.data.task = OCCAM_TASK_CLASSIFY;
    cfg.data.normalize = OCCAM_NORM_NONE;
    cfg.data.samples = 300;
    cfg.data.test_samples = 90;
    cfg.data.features = 5;
    cfg.data.classes = 3;
    cfg.data.spread = 3.0;
    cfg.data.seed = 7;
    memcpy(cfg.model.layers, layers, (size_t)nlayers * sizeof *layers);
    cfg.model.nlayers = nlayers;
    return cfg;
}

static void expect_load_error(const occam_config *cfg, const char *what)
{
    occam_dataset tr, te;
    occam_error err = {0};
    cr_assert_eq(occam_data_load(&cfg->data, occam_config_inputs(cfg), occam_config_outputs(cfg), &tr, &te, &err), OCCAM_ERR_INPUT, "msg: %s", err.msg);
    assert_msg_has(err, what);
    assert_zeroed(&tr);
    assert_zeroed(&te);
}

/* pandas writes 0, 1, 2, ... as the header of a frame made from an array (to_csv(index=False)):
 * data.header = auto reads that line as data, as its rule says, but flags it for the commands'
 * note, and a label out of range there says so. It was a training row without a word (found
 * by a user's run on carData's SLID: 101 training rows of a 100-row split). */
Test(data, csv_numbered_first_line_is_flagged)
{
    occam_csv_opts reg = csv_opts(OCCAM_LABEL_LAST, OCCAM_CSV_HEADER_AUTO, OCCAM_TASK_REGRESS, 0);
    occam_dataset ds;
    load_csv_ok(&ds, "0,1,2,3\n1.5,2,3,4.5\n2,2,1,0.5\n", reg);
    cr_assert_eq(ds.n, 3);
    cr_assert(ds.numbered_first);
    occam_dataset_free(&ds);
    load_csv_ok(&ds, "1,2,3\n1.5,2,3\n", reg); /* R-style 1, 2, 3 */
    cr_assert(ds.numbered_first);
    occam_dataset_free(&ds);
    load_csv_ok(&ds, "0,1,2,3\n", unlabelled()); /* predict's input */
    cr_assert(ds.numbered_first);
    occam_dataset_free(&ds);
    /* not flagged: a header said so, other numbers, a decimal point, two cells, a name */
    static const char *const plain[] = {"0,1,2,4\n1,2,3,4\n", "0,1.0,2,3\n1,2,3,4\n",
                                        "0,1\n1,2\n", "2,3,4\n1,2,3\n",
                                        "a,b,y\n1,2,3\n"};
    for (size_t i = 0; i < sizeof plain / sizeof *plain; i++) {
        load_csv_ok(&ds, plain[i], reg);
        cr_assert(!ds.numbered_first, "%s", plain[i]);
        occam_dataset_free(&ds);
    }
    load_csv_ok(&ds, "0,1,2,3\n1.5,2,3,4.5\n",
                csv_opts(OCCAM_LABEL_LAST, OCCAM_CSV_HEADER_YES, OCCAM_TASK_REGRESS, 0));
    cr_assert(!ds.numbered_first);
    cr_assert_eq(ds.n, 1);
    occam_dataset_free(&ds);
    /* classification: the header's last number is a label out of range, which names it */
    expect_csv_error("0,1,2,3,4\n1,2,3,4,1\n", classify_last(3),
                     ":1: label 4 out of range [0, 3): labels count from 0, one per output of "
                     "the model (this line numbers the columns 0, 1, 2, ...: a header, as pandas "
                     "writes one for columns without names? data.header = auto reads a line of "
                     "numbers as data: set data.header = yes)");
    expect_csv_error("1990,2000,2010,2020\n1,2,3,1\n", classify_last(3),
                     ":1: label 2020 out of range [0, 3): labels count from 0, one per output "
                     "of the model (this line numbers the columns by an even step: a header, as "
                     "years name columns? data.header = auto reads a line of numbers as data: "
                     "set data.header = yes)");
    /* and a row numbered so further down is only a row */
    expect_csv_error("1,2,3,4,1\n0,1,2,3,4\n", classify_last(3),
                     ":2: label 4 out of range [0, 3): labels count from 0, one per output of "
                     "the model");
}

Test(data, load_blobs)
{
    occam_config cfg = base_config(OCCAM_SOURCE_BLOBS, (const int[]){5, 8, 3}, 3);
    cfg.data.normalize = OCCAM_NORM_STANDARDIZE;
    occam_dataset tr, te;
    occam_error err = {0};
    cr_assert_eq(occam_data_load(&cfg.data, occam_config_inputs(&cfg), occam_config_outputs(&cfg), &tr, &te, &err), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(tr.n, 300);
    cr_assert_eq(te.n, 90);
    cr_assert_eq(tr.d, 5);
    cr_assert_eq(tr.classes, 3);
    for (int j = 0; j < 5; j++) {
        double m = 0;
        for (size_t i = 0; i < tr.n; i++) m += tr.x[i * 5 + j];
        cr_assert_lt(fabs(m / 300), 1e-5);
    }
    occam_dataset_free(&tr);
    occam_dataset_free(&te);
}

Test(data, load_model_mismatch)
{
    occam_config cfg = base_config(OCCAM_SOURCE_BLOBS, (const int[]){4, 3}, 2);
    expect_load_error(&cfg, "model.layers: input width 4 does not match the data's 5 features");
    cfg = base_config(OCCAM_SOURCE_BLOBS, (const int[]){5, 4}, 2);
    expect_load_error(&cfg, "model.layers: output width 4 does not match the data's 3 classes");
    cfg.data.samples = -1;
    expect_load_error(&cfg, "data.samples");
}

/* A width that misses by R's or pandas' row index: the error says the index was counted, since
 * the note that names it comes only after a load that succeeds. */
Test(data, load_model_mismatch_names_a_row_index)
{
    path_t tr_p = write_text("rn.csv", "\"\",\"a\",\"b\",\"y\"\n\"1\",1,2,0.5\n"
                                       "\"2\",-4,3,1.5\n\"3\",2,2,2.5\n");
    occam_config cfg = base_config(OCCAM_SOURCE_CSV, (const int[]){2, 1}, 2);
    cfg.data.task = OCCAM_TASK_REGRESS;
    snprintf(cfg.data.train, sizeof cfg.data.train, "%s", tr_p.s);
    expect_load_error(&cfg, "model.layers: input width 2 does not match the data's 3 features");
    expect_load_error(&cfg, "they count its first column, which has no name and holds a row "
                            "index as R's write.csv and pandas' to_csv write by default? write "
                            "the file without it (R: row.names = FALSE; pandas: index=False)");
    /* a named first column: no such words */
    path_t named = write_text("named.csv", "id,a,b,y\n1,1,2,0.5\n2,-4,3,1.5\n3,2,2,2.5\n");
    snprintf(cfg.data.train, sizeof cfg.data.train, "%s", named.s);
    occam_dataset tr, te;
    occam_error err = {0};
    cr_assert_eq(occam_data_load(&cfg.data, occam_config_inputs(&cfg), occam_config_outputs(&cfg),
                                 &tr, &te, &err), OCCAM_ERR_INPUT);
    cr_assert_null(strstr(err.msg, "row index"), "%s", err.msg);
}

Test(data, load_csv)
{
    path_t tr_p = write_text("train.csv", "a,b,y\n1,2,0\n-4,3,1\n");
    path_t te_p = write_text("test.csv", "8,1,1\n");
    occam_config cfg = base_config(OCCAM_SOURCE_CSV, (const int[]){2, 2}, 2);
    cfg.data.normalize = OCCAM_NORM_SCALE;
    snprintf(cfg.data.train, sizeof cfg.data.train, "%s", tr_p.s);
    snprintf(cfg.data.test, sizeof cfg.data.test, "%s", te_p.s);
    occam_dataset tr, te;
    occam_error err = {0};
    cr_assert_eq(occam_data_load(&cfg.data, occam_config_inputs(&cfg), occam_config_outputs(&cfg), &tr, &te, &err), OCCAM_OK, "%s", err.msg);
    check_rows(&tr, 2, 2, (const float[]){0.25f, 0.5f, -1, 0.75f});
    check_labels(&tr, (const int32_t[]){0, 1}, 2);
    check_rows(&te, 1, 2, (const float[]){2, 0.25f});
    occam_dataset_free(&tr);
    occam_dataset_free(&te);

    /* No test file: an empty test set. */
    cfg.data.test[0] = '\0';
    cr_assert_eq(occam_data_load(&cfg.data, occam_config_inputs(&cfg), occam_config_outputs(&cfg), &tr, &te, &err), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(tr.n, 2);
    assert_zeroed(&te);
    occam_dataset_free(&tr);

    /* A test file with another width names both files. */
    path_t wide = write_text("wide.csv", "8,1,5,1\n");
    snprintf(cfg.data.test, sizeof cfg.data.test, "%s", wide.s);
    expect_load_error(&cfg, tr_p.s);
    expect_load_error(&cfg, wide.s);
    /* a column more, whose last cell is no label: the widths are said, before the label (it
     * was "label 7 out of range", read from the wrong column; a user's R export) */
    path_t more = write_text("more.csv", "a,b,y,b2\n8,1,1,7\n");
    snprintf(cfg.data.test, sizeof cfg.data.test, "%s", more.s);
    char want[700];
    snprintf(want, sizeof want, "%s:1: 4 cells a row, but %s has 3: the columns do not line up",
             more.s, tr_p.s);
    expect_load_error(&cfg, want);
    /* A missing test file frees the training set too. */
    snprintf(cfg.data.test, sizeof cfg.data.test, "%s", fixture("none.csv").s);
    expect_load_error(&cfg, "none.csv");
}

Test(data, load_csv_regress)
{
    path_t tr_p = write_text("train.csv", "1,2,0.5\n3,4,1.5\n");
    occam_config cfg = base_config(OCCAM_SOURCE_CSV, (const int[]){2, 1}, 2);
    cfg.data.task = OCCAM_TASK_REGRESS;
    snprintf(cfg.data.train, sizeof cfg.data.train, "%s", tr_p.s);
    occam_dataset tr, te;
    occam_error err = {0};
    cr_assert_eq(occam_data_load(&cfg.data, occam_config_inputs(&cfg), occam_config_outputs(&cfg), &tr, &te, &err), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(tr.targets, 1);
    cr_assert_eq(tr.y[1], 1.5f);
    cr_assert_null(tr.y_scale);
    occam_dataset_free(&tr);

    /* data.normalize_targets: the training mean 1 and std 0.5 for both files. */
    path_t te_p = write_text("test.csv", "5,6,3\n");
    snprintf(cfg.data.test, sizeof cfg.data.test, "%s", te_p.s);
    cfg.data.normalize_targets = true;
    cr_assert_eq(occam_data_load(&cfg.data, occam_config_inputs(&cfg), occam_config_outputs(&cfg), &tr, &te, &err), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(tr.y[0], -1.0f);
    cr_assert_eq(tr.y[1], 1.0f);
    cr_assert_eq(te.y[0], 4.0f);
    cr_assert(tr.y_shift[0] == 1.0 && tr.y_scale[0] == 0.5 && te.y_shift[0] == 1.0 &&
              te.y_scale[0] == 0.5);
    occam_dataset_free(&tr);
    occam_dataset_free(&te);
    cfg.data.test[0] = '\0';

    /* It does nothing to classification data. */
    occam_config cl = base_config(OCCAM_SOURCE_BLOBS, (const int[]){5, 3}, 2);
    cl.data.normalize_targets = true;
    cr_assert_eq(occam_data_load(&cl.data, occam_config_inputs(&cl), occam_config_outputs(&cl), &tr, &te, &err), OCCAM_OK, "%s", err.msg);
    cr_assert(!tr.y && !tr.y_shift && !tr.y_scale && !te.y_shift && !te.y_scale);
    occam_dataset_free(&tr);
    occam_dataset_free(&te);

    cfg.data.normalize_targets = false;
    cfg.model.layers[1] = 2;
    expect_load_error(&cfg, "output width 2 does not match the data's 1 regression targets");
    expect_load_error(&cfg, tr_p.s);
}

/* A table of several targets (sklearn's linnerud: 3 exercises, then 3 body measures) with
 * model.layers ending in 3: a CSV row holds one target, so the error says that, where it named
 * only the input width (the user counted the other targets as outputs, occam as features). */
Test(data, load_csv_regress_several_targets)
{
    path_t tr_p = write_text("linn.csv", "Chins,Situps,Jumps,Weight,Waist,Pulse\n"
                                         "5,162,60,191,36,50\n2,110,60,189,37,52\n"
                                         "12,101,101,193,38,58\n");
    occam_config cfg = base_config(OCCAM_SOURCE_CSV, (const int[]){3, 4, 3}, 3);
    cfg.data.task = OCCAM_TASK_REGRESS;
    snprintf(cfg.data.train, sizeof cfg.data.train, "%s", tr_p.s);
    expect_load_error(&cfg, "model.layers: input width 3 does not match the data's 5 features");
    expect_load_error(&cfg, "and its output width 3 is not 1; a CSV row holds one regression "
                            "target, the data.label column");
    cfg.model.layers[0] = 5;
    expect_load_error(&cfg, "output width 3 does not match the data's 1 regression targets");
    expect_load_error(&cfg, "a CSV row holds one regression target");
    /* one output: the input width alone, as before */
    cfg = base_config(OCCAM_SOURCE_CSV, (const int[]){3, 4, 1}, 3);
    cfg.data.task = OCCAM_TASK_REGRESS;
    snprintf(cfg.data.train, sizeof cfg.data.train, "%s", tr_p.s);
    occam_dataset tr, te;
    occam_error err = {0};
    cr_assert_eq(occam_data_load(&cfg.data, occam_config_inputs(&cfg), occam_config_outputs(&cfg),
                                 &tr, &te, &err), OCCAM_ERR_INPUT);
    cr_assert_null(strstr(err.msg, "one regression target"), "%s", err.msg);
}

Test(data, load_idx)
{
    write_idx_images("train-images-idx3-ubyte.gz", 3, 2, 3, k_pix, sizeof k_pix, true);
    write_idx_labels("train-labels-idx1-ubyte", 3, k_lab, sizeof k_lab, false);
    write_idx_images("t10k-images-idx3-ubyte", 1, 2, 3, k_pix + 6, 6, false);
    write_idx_labels("t10k-labels-idx1-ubyte.gz", 1, k_lab + 1, 1, true);
    occam_config cfg = base_config(OCCAM_SOURCE_IDX, (const int[]){6, 10}, 2);
    cfg.data.normalize = OCCAM_NORM_SCALE;
    snprintf(cfg.data.path, sizeof cfg.data.path, "%s", g_dir);
    occam_dataset tr, te;
    occam_error err = {0};
    cr_assert_eq(occam_data_load(&cfg.data, occam_config_inputs(&cfg), occam_config_outputs(&cfg), &tr, &te, &err), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(tr.n, 3);
    cr_assert_eq(te.n, 1);
    for (int k = 0; k < 18; k++) cr_assert_eq(tr.x[k], (float)k_pix[k] / 255.0f);
    for (int k = 0; k < 6; k++) cr_assert_eq(te.x[k], (float)k_pix[6 + k] / 255.0f);
    cr_assert_eq(te.label[0], 0);
    occam_dataset_free(&tr);
    occam_dataset_free(&te);

    /* test images of the same size in another shape (3×2 against 2×3) flatten to the same 6
     * features; they trained and tested as if the pixels lined up */
    write_idx_images("t10k-images-idx3-ubyte", 1, 3, 2, k_pix + 6, 6, false);
    expect_load_error(&cfg, "train-images-idx3-ubyte.gz holds 2×3 images but");
    expect_load_error(&cfg, "t10k-images-idx3-ubyte holds 3×2: the pixels do not line up");
    write_idx_images("t10k-images-idx3-ubyte", 1, 2, 3, k_pix + 6, 6, false);

    cfg.model.layers[0] = 784;
    expect_load_error(&cfg, "input width 784 does not match the data's 6 features");
    expect_load_error(&cfg, "train-images-idx3-ubyte.gz");
    unlink(fixture("t10k-labels-idx1-ubyte.gz").s);
    expect_load_error(&cfg, "neither");
}

/* Each IDX file is read once, so a data.path folder of FIFOs (fed by zcat, say) loads like one
 * of files. The images' shape check opened both images files a second time for their headers,
 * and that open of a FIFO whose writer had finished waited for another writer for ever (found
 * by review). */
Test(data, load_idx_from_fifos, .timeout = 30)
{
    static const char *const stem[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                        "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
    bytes b[4];
    b[0] = read_all(write_idx_images("a", 3, 2, 3, k_pix, sizeof k_pix, false).s);
    b[1] = read_all(write_idx_labels("b", 3, k_lab, sizeof k_lab, false).s);
    b[2] = read_all(write_idx_images("c", 1, 2, 3, k_pix + 6, 6, false).s);
    b[3] = read_all(write_idx_labels("d", 1, k_lab + 1, 1, false).s);
    pid_t pid[4];
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(mkfifo(fixture(stem[i]).s, 0600), 0);
        pid[i] = feed_fifo(fixture(stem[i]).s, b[i].p, b[i].len);
    }
    occam_config cfg = base_config(OCCAM_SOURCE_IDX, (const int[]){6, 10}, 2);
    cfg.data.normalize = OCCAM_NORM_SCALE;
    snprintf(cfg.data.path, sizeof cfg.data.path, "%s", g_dir);
    occam_dataset tr, te;
    occam_error err = {0};
    cr_assert_eq(occam_data_load(&cfg.data, occam_config_inputs(&cfg),
                                 occam_config_outputs(&cfg), &tr, &te, &err), OCCAM_OK, "%s",
                 err.msg);
    cr_assert_eq(tr.n, 3);
    cr_assert_eq(te.n, 1);
    for (int k = 0; k < 18; k++) cr_assert_eq(tr.x[k], (float)k_pix[k] / 255.0f);
    occam_dataset_free(&tr);
    occam_dataset_free(&te);
    for (int i = 0; i < 4; i++) {
        reap(pid[i]);
        free(b[i].p);
    }
}

/* With data.holdout the training set's last rows test, so no test source is read: a data.test
 * that does not exist failed the run (exit 2), and data.test_samples' rows were generated and
 * thrown away (2e7 of them took 550 MB; this test's 2e9 would not fit in memory). */
Test(data, a_holdout_reads_no_test_source)
{
    occam_config cfg;
    occam_config_defaults(&cfg);
    occam_error err = {0};
    cr_assert_eq(occam_config_load(&cfg, "configs/blobs.ini", &err), OCCAM_OK, "%s", err.msg);
    cfg.data.samples = 200;
    cfg.data.test_samples = 2000000000;
    cfg.data.holdout = 40;
    occam_dataset train, test;
    cr_assert_eq(occam_data_load(&cfg.data, occam_config_inputs(&cfg),
                                 occam_config_outputs(&cfg), &train, &test, &err), OCCAM_OK,
                 "%s", err.msg);
    cr_assert_eq(train.n, 160u);
    cr_assert_eq(test.n, 40u);
    occam_dataset_free(&train);
    occam_dataset_free(&test);

    char dir[64];
    tmpdir_make(dir, sizeof dir, "data");
    const char *csv = tmpdir_path(dir, "train.csv");
    static const char rows[] = "a,b,y\n1,2,0\n2,1,1\n3,0,0\n0,3,1\n";
    tmpdir_spit(csv, rows, sizeof rows - 1);
    occam_config_defaults(&cfg);
    cfg.data.source = OCCAM_SOURCE_CSV;
    snprintf(cfg.data.train, sizeof cfg.data.train, "%s", csv);
    snprintf(cfg.data.test, sizeof cfg.data.test, "%s", tmpdir_path(dir, "missing.csv"));
    cfg.data.holdout = 1;
    cfg.model.nlayers = 3;
    memcpy(cfg.model.layers, (int[]){2, 4, 2}, 3 * sizeof(int));
    cr_assert_eq(occam_data_load(&cfg.data, occam_config_inputs(&cfg),
                                 occam_config_outputs(&cfg), &train, &test, &err), OCCAM_OK,
                 "%s", err.msg);
    cr_assert_eq(train.n, 3u);
    cr_assert_eq(test.n, 1u);
    cr_assert_eq(test.label[0], 1);
    occam_dataset_free(&train);
    occam_dataset_free(&test);
    /* and both keys are named as not read */
    cr_assert_not(occam_config_key_applies(&cfg, "data.test"));
    cfg.data.holdout = 0;
    cr_assert(occam_config_key_applies(&cfg, "data.test"));
    tmpdir_remove(dir);
}

/* Standardisation at its edges, against the formulas: one training row (every feature is
 * constant: 0 in every row, the test rows' too), a column at ±3e38 whose squared
 * deviations pass float's range (summed in double: ±1), a column of subnormals (std 1e-45 is
 * not zero: ±1), and a constant column of a huge value (exactly 0); the test rows use the
 * training statistics. */
Test(data, normalize_standardize_edges)
{
    occam_dataset tr = make_ds(1, 3, (const float[]){5, -2, 1e30f});
    occam_dataset te = make_ds(2, 3, (const float[]){6, -2, 1e30f, 4.5f, 0, 0});
    occam_data_normalize(&tr, &te, OCCAM_NORM_STANDARDIZE);
    check_rows(&tr, 1, 3, (const float[]){0, 0, 0});
    check_rows(&te, 2, 3, (const float[]){0, 0, 0, 0, 0, 0});
    cr_expect_eq(tr.const_cols, 3);
    occam_dataset_free(&tr);
    occam_dataset_free(&te);

    const float s = 1.4e-45f; /* the smallest subnormal */
    tr = make_ds(4, 3, (const float[]){3e38f, s, 3e38f, -3e38f, -s, 3e38f, 3e38f, s, 3e38f,
                                       -3e38f, -s, 3e38f});
    te = make_ds(1, 3, (const float[]){0, 2 * s, 3e38f});
    occam_data_normalize(&tr, &te, OCCAM_NORM_STANDARDIZE);
    check_rows(&tr, 4, 3, (const float[]){1, 1, 0, -1, -1, 0, 1, 1, 0, -1, -1, 0});
    check_rows(&te, 1, 3, (const float[]){0, 2, 0});
    occam_dataset_free(&tr);
    occam_dataset_free(&te);

    /* scale: the largest |x| is 3e38; a subnormal feature beside it goes to 0, not NaN */
    tr = make_ds(2, 2, (const float[]){3e38f, s, -1.5e38f, 0});
    occam_data_normalize(&tr, NULL, OCCAM_NORM_SCALE);
    check_rows(&tr, 2, 2, (const float[]){1, 0, -0.5f, 0});
    occam_dataset_free(&tr);
}

/* Targets of one training row (std 0 → 1, shift the row's value) and a constant column beside a
 * spread one: the standardised targets are exact and the round trip returns every value
 * exactly; with one row the test targets just move by the training value. */
Test(data, normalize_targets_one_row_and_constant_columns)
{
    occam_dataset tr = make_targets(1, 2, (const float[]){-7.5f, 1e30f});
    occam_dataset te = make_targets(2, 2, (const float[]){-6.5f, 1e30f, 0, 0});
    occam_error err = {0};
    cr_assert_eq(occam_data_normalize_targets(&tr, &te, &err), OCCAM_OK, "%s", err.msg);
    cr_assert(tr.y[0] == 0.0f && tr.y[1] == 0.0f);
    cr_assert(te.y[0] == 1.0f && te.y[1] == 0.0f && te.y[2] == 7.5f && te.y[3] == -1e30f);
    cr_assert(tr.y_scale[0] == 1.0 && tr.y_scale[1] == 1.0 && tr.y_shift[0] == -7.5);
    cr_assert_eq(occam_dataset_loss_scale(&tr), 1.0);
    occam_data_targets_restore(&te, te.y, 2);
    cr_assert(te.y[0] == -6.5f && te.y[1] == 1e30f && te.y[2] == 0.0f && te.y[3] == 0.0f);
    occam_dataset_free(&tr);
    occam_dataset_free(&te);

    enum { N = 5 };
    tr = make_targets(N, 2, (const float[]){3, 4, 3, 6, 3, 8, 3, 10, 3, 12});
    cr_assert_eq(occam_data_normalize_targets(&tr, NULL, &err), OCCAM_OK, "%s", err.msg);
    const double sd = sqrt(8.0); /* {4, 6, 8, 10, 12}: mean 8, population variance 8 */
    for (int i = 0; i < N; i++) {
        cr_assert_eq(tr.y[2 * i], 0.0f);
        cr_assert_eq(tr.y[2 * i + 1], (float)((4.0 + 2 * i - 8.0) / sd));
    }
    cr_assert_eq(tr.y_scale[1], sd);
    occam_data_targets_restore(&tr, tr.y, N);
    for (int i = 0; i < N; i++)
        cr_assert(tr.y[2 * i] == 3.0f && tr.y[2 * i + 1] == (float)(4 + 2 * i), "row %d: %g %g", i,
                  tr.y[2 * i], tr.y[2 * i + 1]);
    occam_dataset_free(&tr);
}

/* data.label by the header's name (it took first, last or a number only). The name's cell
 * makes the first line a header, even one whose other cells are numbers (wavelengths); a
 * name found nowhere, twice, or under data.header = no is refused naming the key, with the
 * line's names and a name that differs only in case. predict's rows with a cell more than the
 * model's inputs drop the named column, and without a header cannot tell which it is. */
Test(data, csv_label_named_by_the_header)
{
    occam_dataset ds;
    occam_csv_opts o = csv_opts(OCCAM_LABEL_NAMED, OCCAM_CSV_HEADER_AUTO, OCCAM_TASK_REGRESS, 0);
    o.label_name = "fat";
    load_csv_ok(&ds, "850,fat,852\n1,2.5,3\n4,5.5,6\n", o);
    check_rows(&ds, 2, 2, (const float[]){1, 3, 4, 6});
    cr_assert_eq(ds.y[0], 2.5f);
    cr_assert_eq(ds.y[1], 5.5f);
    cr_assert_eq(ds.label_col, 2);
    cr_assert_str_eq(ds.label_name, "fat");
    cr_assert_str_eq(occam_dataset_column_name(&ds, 1), "852");
    /* predict's one pass over the names for data.label's among the features (a lookup per
     * column took 35 s at 100,000 columns): the first of equal names, none, no header */
    cr_assert_eq(occam_dataset_find_column(&ds, "852"), 1);
    cr_assert_eq(occam_dataset_find_column(&ds, "850"), 0);
    cr_assert_eq(occam_dataset_find_column(&ds, "fat"), SIZE_MAX); /* the label's left out */
    cr_assert_eq(occam_dataset_find_column(&ds, "85"), SIZE_MAX);
    occam_dataset_free(&ds);
    load_csv_ok(&ds, "a,b,a,fat\n1,2,3,4\n", o);
    cr_assert_eq(occam_dataset_find_column(&ds, "a"), 0);
    cr_assert_eq(occam_dataset_find_column(&ds, "b"), 1);
    occam_dataset_free(&ds);
    load_csv_ok(&ds, "1,2,3\n4,5,6\n", csv_opts(OCCAM_LABEL_LAST, OCCAM_CSV_HEADER_NO,
                                                  OCCAM_TASK_REGRESS, 0));
    cr_assert_eq(occam_dataset_find_column(&ds, "1"), SIZE_MAX);
    occam_dataset_free(&ds);
    o.label_name = "income, $";
    o.task = OCCAM_TASK_CLASSIFY;
    o.classes = 2;
    load_csv_ok(&ds, "\"income, $\",age\n1,30\n0,40\n", o);
    check_rows(&ds, 2, 1, (const float[]){30, 40});
    check_labels(&ds, (const int32_t[]){1, 0}, 2);
    occam_dataset_free(&ds);

    o.label_name = "Fat";
    expect_csv_error_ending("a,fat,b\n1,2,3\n", o,
                            ":1: data.label = Fat: no column of the first line has that name (it "
                            "reads \"a\", \"fat\", \"b\"); column 2 is \"fat\" (names are matched "
                            "with their case)");
    o.label_name = "y";
    expect_csv_error_ending("c1,c2,c3,c4,c5,c6,c7\n1,2,3,4,5,6,7\n", o,
                            ":1: data.label = y: no column of the first line has that name (it "
                            "reads \"c1\", \"c2\", \"c3\", \"c4\", \"c5\", \"c6\", ...)");
    expect_csv_error_ending("1,2,3\n4,5,6\n", o,
                            ":1: data.label = y: no column of the first line has that name (it "
                            "reads \"1\", \"2\", \"3\")");
    expect_csv_error_ending("y,x,y\n1,2,3\n", o,
                            ":1: data.label = y names columns 1 and 3 of the header: name the "
                            "label's column by its number");
    o.header = OCCAM_CSV_HEADER_NO;
    expect_csv_error("x,y\n1,2\n", o, "data.label = y names a column by the header, but "
                     "data.header = no reads none");
    o.header = OCCAM_CSV_HEADER_AUTO;
    o.label_name = "";
    expect_csv_error("x,y\n1,2\n", o, "data.label: a column name is empty");

    /* predict's input: the named column is dropped when the rows have a cell more */
    occam_csv_opts f = features_only(OCCAM_CSV_HEADER_AUTO);
    f.skip = OCCAM_LABEL_NAMED;
    f.label_name = "y";
    f.skip_cols = 3;
    load_csv_ok(&ds, "a,y,b\n1,NA,3\n4,,6\n", f);
    check_rows(&ds, 2, 2, (const float[]){1, 3, 4, 6});
    cr_assert_eq(ds.label_col, 2);
    check_features_only(&ds);
    occam_dataset_free(&ds);
    load_csv_ok(&ds, "a,b\n1,3\n", f); /* no label column: nothing to find */
    check_rows(&ds, 1, 2, (const float[]){1, 3});
    occam_dataset_free(&ds);
    expect_csv_error_ending("1,2,3\n", f,
                            ":1: data.label = y: no column of the first line has that name (it "
                            "reads \"1\", \"2\", \"3\"): occam cannot tell which column of its "
                            "rows, one cell more than the model's inputs, is the label's; give the "
                            "file the training data's header, or drop that column");
}
