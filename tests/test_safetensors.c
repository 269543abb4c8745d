/* Tests for the safetensors writer and reader.
 *
 * Round trips cover every dtype, including scalars, empty tensors and misaligned offsets,
 * with byte-exact data and metadata. The corruption cases build files by hand, or damage a
 * written one. Each must fail with OCCAM_ERR_INPUT and a message naming the path and the
 * problem. The atomic-write tests make the write fail in a forked child: through an
 * unwritable directory, or through RLIMIT_FSIZE, which stops the file part-way the way a
 * full disk does. They then check that the old file is byte-identical and no temporary file
 * is left behind. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "occam/safetensors.h"
#include "tmpdir.h"

/* ---- helpers --------------------------------------------------------------------------- */

static char tmpdir[64];

static void make_tmpdir(void)
{
    strcpy(tmpdir, "/tmp/occam_st_XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
    chmod(tmpdir, 0755);
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

static void remove_tmpdir(void) { nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

TestSuite(safetensors, .init = make_tmpdir, .fini = remove_tmpdir);

static char *in_tmp(const char *name)
{
    static char buf[4][256];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, 256, "%s/%s", tmpdir, name);
    return p;
}

static unsigned char *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)n + 1);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return buf;
}

#define spit tmpdir_spit

/* Writes a hand-made file: length field hlen (or strlen(header) when hlen is UINT64_MAX),
 * the header text, then n data bytes. */
static void write_raw(const char *path, uint64_t hlen, const char *header, const void *data,
                      size_t n)
{
    size_t len = strlen(header);
    if (hlen == UINT64_MAX) hlen = len;
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    for (int b = 0; b < 8; b++) fputc((int)(hlen >> (8 * b) & 0xFF), f);
    fwrite(header, 1, len, f);
    if (n) fwrite(data, 1, n, f);
    cr_assert_eq(fclose(f), 0);
}

/* Opens path, expects OCCAM_ERR_INPUT with a message "PATH: ...want...". */
static void expect_bad(const char *path, const char *want)
{
    occam_st_file f;
    occam_error err = { 0 };
    int rc = occam_st_open(&f, path, &err);
    cr_expect_eq(rc, OCCAM_ERR_INPUT, "%s: status %d, msg %s", path, rc, err.msg);
    cr_expect_eq(strncmp(err.msg, path, strlen(path)), 0, "message does not start with the path: %s",
                 err.msg);
    cr_expect(strstr(err.msg, want) != NULL, "got \"%s\", want \"%s\"", err.msg, want);
    cr_expect(f.tensors == NULL && f.data == NULL && f.path == NULL && f.ntensors == 0);
    occam_st_close(&f);
}

static int count_tmp_files(const char *dir)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (strstr(e->d_name, ".tmp.")) n++;
    closedir(d);
    return n;
}

static uint32_t crc_of(const void *p, size_t n)
{
    return (uint32_t)crc32(crc32(0L, Z_NULL, 0), p, (uInt)n);
}

/* ---- a sample checkpoint with every dtype ---------------------------------------------- */

static const float w_f32[6] = { 1.5f, -2.0f, 3.25f, 0.0f, 1e-30f, -0.0f };
static const uint8_t mask_u8[5] = { 0, 1, 2, 254, 255 }; /* odd size: misaligns what follows */
static const double d_f64[4] = { 0.1, -1e300, 4.9e-324, 2.0 };
static const int32_t i_i32[4] = { -1, 0, INT32_MAX, INT32_MIN };
static const uint32_t u_u32[3] = { 0, 7, UINT32_MAX };
static const int64_t l_i64[2] = { INT64_MIN, INT64_MAX };
static const uint64_t s_u64[1] = { UINT64_MAX };
static const float b_f32[3] = { 7.0f, 8.0f, 9.0f };

#define NSAMPLE 9
static const occam_st_tensor sample[NSAMPLE] = {
    { "l0.weight", OCCAM_ST_F32, 2, { 2, 3 }, w_f32 },
    { "l0.mask", OCCAM_ST_U8, 1, { 5 }, mask_u8 },
    { "f64", OCCAM_ST_F64, 1, { 4 }, d_f64 },
    { "i32", OCCAM_ST_I32, 2, { 2, 2 }, i_i32 },
    { "u32", OCCAM_ST_U32, 1, { 3 }, u_u32 },
    { "i64", OCCAM_ST_I64, 3, { 1, 1, 2 }, l_i64 },
    { "step", OCCAM_ST_U64, 0, { 0 }, s_u64 },
    { "empty", OCCAM_ST_F32, 2, { 0, 5 }, NULL },
    { "l0.bias", OCCAM_ST_F32, 1, { 3 }, b_f32 },
};
static const size_t sample_bytes[NSAMPLE] = { 24, 5, 32, 16, 12, 16, 8, 0, 12 };
static const occam_st_meta sample_meta[2] = {
    { "config", "[model]\nlayers = 784,300,10\n\"quoted\" \\ \t" },
    { "note", "caf\xc3\xa9 \xf0\x9f\x98\x80" },
};

static const char *write_sample(const char *name)
{
    const char *path = in_tmp(name);
    occam_error err = { 0 };
    int rc = occam_st_write(path, sample, NSAMPLE, sample_meta, 2, &err);
    cr_assert_eq(rc, OCCAM_OK, "%s", err.msg);
    return path;
}

/* ---- round trip ------------------------------------------------------------------------ */

Test(safetensors, round_trip_all_dtypes)
{
    const char *path = write_sample("rt.safetensors");
    occam_st_file f;
    occam_error err = { 0 };
    cr_assert_eq(occam_st_open(&f, path, &err), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(f.ntensors, NSAMPLE);
    for (int i = 0; i < NSAMPLE; i++) {
        const occam_st_tensor *want = &sample[i];
        cr_expect_str_eq(f.tensors[i].name, want->name); /* header order = write order */
        const occam_st_tensor_view *t = occam_st_find(&f, want->name);
        cr_assert_not_null(t, "%s", want->name);
        cr_expect_eq(t->dtype, want->dtype, "%s", want->name);
        cr_expect_eq(t->ndim, want->ndim, "%s", want->name);
        for (int d = 0; d < want->ndim; d++) cr_expect_eq(t->shape[d], want->shape[d]);
        cr_expect_eq(t->nbytes, sample_bytes[i], "%s", want->name);
        if (t->nbytes) cr_expect(memcmp(t->data, want->data, t->nbytes) == 0, "%s", want->name);
        cr_expect_eq((uintptr_t)t->data % occam_st_dtype_size(t->dtype), 0, "%s misaligned",
                     want->name);
    }
    cr_expect_eq((uintptr_t)occam_st_find(&f, "l0.weight")->data % 64, 0);
    cr_expect_null(occam_st_find(&f, "nope"));

    cr_expect_eq(f.nmeta, 3);
    cr_expect_str_eq(occam_st_meta_get(&f, "config"), sample_meta[0].value);
    cr_expect_str_eq(occam_st_meta_get(&f, "note"), sample_meta[1].value);
    cr_expect_null(occam_st_meta_get(&f, "nope"));

    /* The checksum is the CRC-32 of the whole file with its own 8 digits read as zeros:
     * recomputed here by hand from the bytes on disk. */
    size_t fsize;
    unsigned char *bytes = slurp(path, &fsize);
    unsigned char *digits = memmem(bytes, fsize, "\"" OCCAM_ST_CHECKSUM_KEY "\":\"", 18);
    cr_assert_not_null(digits);
    digits += 18;
    char hex[9];
    memcpy(hex, digits, 8);
    hex[8] = 0;
    memcpy(digits, "00000000", 8);
    cr_expect_eq(strtoul(hex, NULL, 16), crc_of(bytes, fsize));
    cr_expect_str_eq(occam_st_meta_get(&f, OCCAM_ST_CHECKSUM_KEY), hex);
    uint32_t api = 0;
    memcpy(digits, hex, 8);
    cr_expect_eq(occam_st_checksum(bytes, fsize, &api), (int)(digits - bytes));
    cr_expect_eq(api, strtoul(hex, NULL, 16));
    free(bytes);

    /* expect_f32 accepts the right shape. */
    const float *w = NULL;
    cr_expect_eq(occam_st_expect_f32(&f, "l0.weight", 2, (int64_t[]){ 2, 3 }, &w, &err), OCCAM_OK);
    cr_expect_eq(w[2], 3.25f);
    const float *e = NULL;
    cr_expect_eq(occam_st_expect_f32(&f, "empty", 2, (int64_t[]){ 0, 5 }, &e, &err), OCCAM_OK);
    occam_st_close(&f);
    cr_expect(f.path == NULL && f.tensors == NULL && f.ntensors == 0);
    occam_st_close(&f); /* twice is fine */
    cr_expect_eq(count_tmp_files(tmpdir), 0);
}

Test(safetensors, file_layout)
{
    const char *path = write_sample("layout.safetensors");
    size_t size;
    unsigned char *buf = slurp(path, &size);
    uint64_t hlen = 0;
    for (int b = 7; b >= 0; b--) hlen = hlen << 8 | buf[b];
    cr_assert(hlen + 8 <= size);
    cr_expect_eq(hlen % 8, 0);
    cr_expect_eq(buf[8], '{');
    size_t data = 0;
    for (int i = 0; i < NSAMPLE; i++) data += sample_bytes[i];
    cr_expect_eq(size, 8 + hlen + data);
    /* Only spaces after the closing brace. */
    size_t end = 8 + hlen;
    while (buf[end - 1] == ' ') end--;
    cr_expect_eq(buf[end - 1], '}');
    cr_expect(end > 8 + hlen - 8);
    /* First tensor's bytes right after the header, metadata first in the header. */
    cr_expect(memcmp(buf + 8 + hlen, w_f32, sizeof w_f32) == 0);
    cr_expect(memcmp(buf + 8, "{\"__metadata__\":{\"config\":", 26) == 0);
    char *hdr = strndup((char *)buf + 8, hlen);
    cr_expect(strstr(hdr, "\"l0.mask\":{\"dtype\":\"U8\",\"shape\":[5],\"data_offsets\":[24,29]}"),
              "%s", hdr);
    cr_expect(strstr(hdr, "\"step\":{\"dtype\":\"U64\",\"shape\":[],\"data_offsets\":[105,113]}"),
              "%s", hdr);
    cr_expect(strstr(hdr, "\"empty\":{\"dtype\":\"F32\",\"shape\":[0,5],\"data_offsets\":[113,113]}"),
              "%s", hdr);
    free(hdr);
    free(buf);
}

Test(safetensors, overwrite_and_empty_file)
{
    const char *path = write_sample("ow.safetensors");
    occam_error err = { 0 };
    cr_assert_eq(occam_st_write(path, NULL, 0, NULL, 0, &err), OCCAM_OK, "%s", err.msg);
    occam_st_file f;
    cr_assert_eq(occam_st_open(&f, path, &err), OCCAM_OK, "%s", err.msg);
    cr_expect_eq(f.ntensors, 0);
    cr_expect_eq(f.data_size, 0);
    /* No tensors: the checksum still covers the length field and the header. */
    cr_expect_eq(strlen(occam_st_meta_get(&f, OCCAM_ST_CHECKSUM_KEY)), 8);
    occam_st_close(&f);
    cr_expect_eq(count_tmp_files(tmpdir), 0);
}

/* A hand-made header carrying the file's checksum: "%s" in fmt is where it goes. The sum is
 * taken with the digits as zeros, then they are filled in. */
static void write_summed(const char *path, const char *fmt, const void *data, size_t n)
{
    char header[2048];
    snprintf(header, sizeof header, fmt, "00000000");
    write_raw(path, UINT64_MAX, header, data, n);
    size_t size;
    unsigned char *buf = slurp(path, &size);
    uint32_t crc = 0;
    int at = occam_st_checksum(buf, size, &crc);
    if (at >= 0) {
        char hex[9];
        snprintf(hex, sizeof hex, "%08x", crc);
        snprintf(header, sizeof header, fmt, hex);
        write_raw(path, UINT64_MAX, header, data, n);
    }
    free(buf);
}

Test(safetensors, hand_made_file_with_checksum)
{
    /* Hand-made: unpadded header, tensors listed out of offset order, a U8 at an odd offset
     * before an F32 at offset 3 (must be realigned), a zero-size tensor, metadata last. */
    const char *path = in_tmp("foreign.safetensors");
    unsigned char data[3 + 8];
    data[0] = 10, data[1] = 20, data[2] = 30;
    float v[2] = { 0.5f, -4.0f };
    memcpy(data + 3, v, sizeof v);
    write_summed(path,
                 "{\"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [3, 11]},\n"
                 " \"z\": {\"dtype\": \"I64\", \"shape\": [0], \"data_offsets\": [11, 11]},\n"
                 " \"a\": {\"data_offsets\": [0, 3], \"shape\": [3], \"dtype\": \"U8\"},\n"
                 " \"__metadata__\": {\"occam.checksum\": \"%s\"}}",
                 data, sizeof data);
    occam_st_file f;
    occam_error err = { 0 };
    cr_assert_eq(occam_st_open(&f, path, &err), OCCAM_OK, "%s", err.msg);
    cr_expect_eq(f.nmeta, 1);
    const float *b = NULL;
    cr_assert_eq(occam_st_expect_f32(&f, "b", 1, (int64_t[]){ 2 }, &b, &err), OCCAM_OK, "%s",
                 err.msg);
    cr_expect_eq((uintptr_t)b % 4, 0);
    cr_expect(b[0] == 0.5f && b[1] == -4.0f);
    const occam_st_tensor_view *a = occam_st_find(&f, "a");
    cr_expect(a && a->nbytes == 3 && memcmp(a->data, data, 3) == 0);
    cr_expect_eq(occam_st_find(&f, "z")->nbytes, 0);
    occam_st_close(&f);
}

/* The checksum cannot be switched off: a file without the key is refused. */
Test(safetensors, rejects_a_file_without_checksum)
{
    const char *path = in_tmp("nosum.safetensors");
    unsigned char data[8] = { 0 };
    write_raw(path, UINT64_MAX, "{\"x\":{\"dtype\":\"U8\",\"shape\":[8],\"data_offsets\":[0,8]}}",
              data, sizeof data);
    expect_bad(path, ": no occam.checksum in the metadata, so the data cannot be verified");
    write_raw(path, UINT64_MAX, "{\"__metadata__\":{\"format\":\"occam\"},"
              "\"x\":{\"dtype\":\"U8\",\"shape\":[8],\"data_offsets\":[0,8]}}", data, sizeof data);
    expect_bad(path, ": no occam.checksum in the metadata");
    write_summed(path, "{\"__metadata__\":{\"occam.checksum\":\"%s \"},"
                 "\"x\":{\"dtype\":\"U8\",\"shape\":[8],\"data_offsets\":[0,8]}}", data, 8);
    expect_bad(path, ": metadata occam.checksum is not 8 lowercase hex digits");
}

/* Every single-bit flip in the key's name "occam.checksum" of a written file is refused:
 * as a missing checksum when the JSON stays valid, as bad JSON when it does not. */
Test(safetensors, rejects_every_bit_flip_of_the_checksum_key_name)
{
    const char *src = write_sample("key.safetensors");
    size_t size;
    unsigned char *buf = slurp(src, &size);
    unsigned char *key = memmem(buf, size, "\"" OCCAM_ST_CHECKSUM_KEY "\"", 16);
    cr_assert_not_null(key);
    const char *path = in_tmp("keyflip.safetensors");
    int missing = 0;
    for (size_t i = 1; i <= strlen(OCCAM_ST_CHECKSUM_KEY); i++)
        for (int b = 0; b < 8; b++) {
            key[i] ^= (unsigned char)(1u << b);
            spit(path, buf, size);
            key[i] ^= (unsigned char)(1u << b);
            occam_st_file f;
            occam_error err = { 0 };
            int rc = occam_st_open(&f, path, &err);
            cr_expect_eq(rc, OCCAM_ERR_INPUT, "byte %zu bit %d: status %d, %s", i, b, rc,
                         err.msg);
            cr_expect_eq(strncmp(err.msg, path, strlen(path)), 0, "%s", err.msg);
            missing += strstr(err.msg, ": no occam.checksum in the metadata") != NULL;
        }
    cr_expect_eq(missing, 97, "%d of 112 flips reported as a missing checksum", missing);
    free(buf);
}

Test(safetensors, check_finite_names_the_tensor_and_index)
{
    const char *path = in_tmp("nan.safetensors");
    float w[6] = { 1, 2, 3, 4, 5, 6 };
    double d[3] = { 0, 1, 2 };
    w[4] = NAN;
    d[2] = -INFINITY;
    occam_st_tensor t[3] = { { "w", OCCAM_ST_F32, 2, { 2, 3 }, w },
                             { "d", OCCAM_ST_F64, 1, { 3 }, d },
                             { "u", OCCAM_ST_U8, 1, { 5 }, mask_u8 } };
    occam_error err = { 0 };
    cr_assert_eq(occam_st_write(path, t, 3, NULL, 0, &err), OCCAM_OK, "%s", err.msg);
    occam_st_file f;
    cr_assert_eq(occam_st_open(&f, path, &err), OCCAM_OK, "%s", err.msg);
    char want[512];
    cr_expect_eq(occam_st_check_finite(&f, occam_st_find(&f, "w"), &err), OCCAM_ERR_INPUT);
    snprintf(want, sizeof want, "%s: tensor 'w' has a non-finite value (nan) at index 4", path);
    cr_expect_str_eq(err.msg, want);
    cr_expect_eq(occam_st_check_finite(&f, occam_st_find(&f, "d"), &err), OCCAM_ERR_INPUT);
    snprintf(want, sizeof want, "%s: tensor 'd' has a non-finite value (-inf) at index 2", path);
    cr_expect_str_eq(err.msg, want);
    cr_expect_eq(occam_st_check_finite(&f, occam_st_find(&f, "u"), &err), OCCAM_OK);
    occam_st_close(&f);
}

Test(safetensors, expect_f32_messages)
{
    const char *path = write_sample("expect.safetensors");
    occam_st_file f;
    occam_error err = { 0 };
    cr_assert_eq(occam_st_open(&f, path, &err), OCCAM_OK, "%s", err.msg);
    const float *p = NULL;
    char want[512];

    cr_expect_eq(occam_st_expect_f32(&f, "l0.weight", 2, (int64_t[]){ 2, 4 }, &p, &err),
                 OCCAM_ERR_INPUT);
    snprintf(want, sizeof want, "%s: tensor 'l0.weight' has shape [2,3], the config needs [2,4]", path);
    cr_expect_str_eq(err.msg, want);

    cr_expect_eq(occam_st_expect_f32(&f, "l0.weight", 1, (int64_t[]){ 6 }, &p, &err), OCCAM_ERR_INPUT);
    snprintf(want, sizeof want, "%s: tensor 'l0.weight' has shape [2,3], the config needs [6]", path);
    cr_expect_str_eq(err.msg, want);

    cr_expect_eq(occam_st_expect_f32(&f, "l0.mask", 1, (int64_t[]){ 5 }, &p, &err), OCCAM_ERR_INPUT);
    snprintf(want, sizeof want, "%s: tensor 'l0.mask' has dtype U8, the config needs F32", path);
    cr_expect_str_eq(err.msg, want);

    cr_expect_eq(occam_st_expect_f32(&f, "l9.weight", 1, (int64_t[]){ 5 }, &p, &err), OCCAM_ERR_INPUT);
    snprintf(want, sizeof want, "%s: tensor 'l9.weight' is missing", path);
    cr_expect_str_eq(err.msg, want);
    cr_expect_null(p);
    occam_st_close(&f);
}

Test(safetensors, writer_rejects_bad_names)
{
    occam_error err = { 0 };
    const char *path = in_tmp("names.safetensors");
    occam_st_tensor dup[2] = { sample[0], sample[0] };
    cr_expect_eq(occam_st_write(path, dup, 2, NULL, 0, &err), OCCAM_ERR_INPUT);
    cr_expect(strstr(err.msg, "duplicate tensor name 'l0.weight'"), "%s", err.msg);

    occam_st_tensor reserved = sample[0];
    reserved.name = "__metadata__";
    cr_expect_eq(occam_st_write(path, &reserved, 1, NULL, 0, &err), OCCAM_ERR_INPUT);
    cr_expect(strstr(err.msg, "__metadata__"), "%s", err.msg);

    occam_st_meta m[2] = { { "k", "1" }, { "k", "2" } };
    cr_expect_eq(occam_st_write(path, sample, 1, m, 2, &err), OCCAM_ERR_INPUT);
    cr_expect(strstr(err.msg, "duplicate metadata key 'k'"), "%s", err.msg);

    occam_st_meta c = { OCCAM_ST_CHECKSUM_KEY, "00000000" };
    cr_expect_eq(occam_st_write(path, sample, 1, &c, 1, &err), OCCAM_ERR_INPUT);
    cr_expect(strstr(err.msg, "reserved"), "%s", err.msg);

    cr_expect_eq(access(path, F_OK), -1);
    cr_expect_eq(count_tmp_files(tmpdir), 0);
}

/* ---- corrupt files --------------------------------------------------------------------- */

Test(safetensors, rejects_empty_and_short_files)
{
    const char *path = in_tmp("empty.safetensors");
    spit(path, "", 0);
    expect_bad(path, ": empty file");
    spit(path, "\x10\x00\x00", 3);
    expect_bad(path, ": truncated: 3 bytes, too short");
}

Test(safetensors, rejects_header_longer_than_file)
{
    const char *path = in_tmp("long.safetensors");
    char body[101];
    memset(body, ' ', 100);
    body[100] = '\0';
    write_raw(path, 1234, body, NULL, 0);
    expect_bad(path, ": truncated, or not a safetensors file: header says 1234 bytes, file has "
                     "100 after the length field");
    write_raw(path, UINT64_MAX - 3, body, NULL, 0);
    expect_bad(path, ": truncated, or not a safetensors file: header says 18446744073709551612 "
                     "bytes");
}

Test(safetensors, rejects_truncated_file)
{
    const char *src = write_sample("full.safetensors");
    size_t size;
    unsigned char *buf = slurp(src, &size);
    const char *path = in_tmp("cut.safetensors");
    spit(path, buf, size - 3); /* loses the end of the last tensor */
    expect_bad(path, ": tensor 'l0.bias': data_offsets [113,125] go past the end of the data "
                     "(122 bytes)");
    spit(path, buf, 40); /* cut inside the header */
    expect_bad(path, ": truncated, or not a safetensors file: header says");
    free(buf);
}

Test(safetensors, rejects_trailing_bytes)
{
    const char *src = write_sample("full2.safetensors");
    size_t size;
    unsigned char *buf = slurp(src, &size);
    buf = realloc(buf, size + 4);
    memcpy(buf + size, "junk", 4);
    const char *path = in_tmp("trail.safetensors");
    spit(path, buf, size + 4);
    expect_bad(path, ": data area has 129 bytes but the tensors cover 125");
    free(buf);
}

/* The data area is read only after the header has been checked: a file whose header does not
 * describe its size, or that is no file of occam's, costs its header. It was all read first: a
 * 2 GB file took 2 GB and 6 s to refuse, and a larger one than the memory failed to allocate,
 * "out of memory" (exit 1) for a bad file. Sparse files of 1 TiB: no memory holds them. */
Test(safetensors, a_huge_file_is_refused_from_its_header)
{
    const char *path = in_tmp("tib.safetensors");
    const char *header = "{\"__metadata__\":{\"occam.checksum\":\"00000000\"}}";
    write_raw(path, UINT64_MAX, header, NULL, 0);
    cr_assert_eq(truncate(path, (off_t)(8 + strlen(header)) + ((off_t)1 << 40)), 0);
    expect_bad(path, ": data area has 1099511627776 bytes but the tensors cover 0");
    write_raw(path, UINT64_MAX, "{}", NULL, 0);
    cr_assert_eq(truncate(path, (off_t)1 << 40), 0);
    expect_bad(path, ": data area has 1099511627766 bytes but the tensors cover 0");
    write_raw(path, UINT64_MAX, "{\"t\":{\"dtype\":\"U8\",\"shape\":[1099511627766],"
                                "\"data_offsets\":[0,1099511627766]}}", NULL, 0);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(truncate(path, st.st_size + (off_t)1099511627766), 0);
    expect_bad(path, ": no occam.checksum in the metadata");
}

Test(safetensors, rejects_huge_header_length)
{
    /* A sparse file big enough to pass the size check, so the limit check is what fires. */
    const char *path = in_tmp("huge.safetensors");
    uint64_t hlen = OCCAM_ST_MAX_HEADER + 1ull;
    write_raw(path, hlen, "{}", NULL, 0);
    cr_assert_eq(truncate(path, (off_t)(8 + hlen)), 0);
    expect_bad(path, ": header length 100000001 is over the 100000000-byte limit");
}

Test(safetensors, rejects_header_of_too_many_values)
{
    /* 2 MB of "[0,0,0,..." inside one entry: the reader stops at OCCAM_ST_MAX_VALUES values
     * (a 100 MB header of them parsed to a 3.2 GB tree before), naming the byte it stopped at;
     * one value fewer than the limit gets past the JSON to the entry's own check. */
    const char *path = in_tmp("values.safetensors");
    const char *head = "{\"a\":";
    size_t n = OCCAM_ST_MAX_VALUES, len = strlen(head) + 2 * n + 2;
    char *h = malloc(len + 1);
    cr_assert(h);
    strcpy(h, head);
    char *q = h + strlen(head);
    *q++ = '[';
    for (size_t i = 0; i < n; i++) *q++ = '0', *q++ = ',';
    q[-1] = ']';
    *q++ = '}';
    *q = '\0';
    write_raw(path, UINT64_MAX, h, NULL, 0);
    /* The object and the array are two values, so the limit falls on zero n - 2. */
    char want[96];
    snprintf(want, sizeof want, ": header is not valid JSON: byte %zu: more than %u values",
             strlen(head) + 1 + 2 * (n - 2), OCCAM_ST_MAX_VALUES);
    expect_bad(path, want);
    /* n - 2 zeros: within the limit, refused for what the entry is. */
    memcpy(h + strlen(head) + 2 * n - 4, "]}", 3);
    write_raw(path, UINT64_MAX, h, NULL, 0);
    expect_bad(path, ": tensor 'a': entry is not an object");
    free(h);
}

Test(safetensors, rejects_bad_json)
{
    const char *path = in_tmp("json.safetensors");
    write_raw(path, UINT64_MAX, "{\"a\": {\"dtype\": \"F32\",}}", NULL, 0);
    expect_bad(path, ": header is not valid JSON: byte 22: expected a string key");
    write_raw(path, UINT64_MAX, "{\"a\": 1} trailing", NULL, 0);
    expect_bad(path, ": header is not valid JSON: byte 9: unexpected 't' after the JSON value");
    write_raw(path, UINT64_MAX, "[]", NULL, 0);
    expect_bad(path, ": header is not a JSON object");
    write_raw(path, UINT64_MAX, "", NULL, 0);
    expect_bad(path, ": header is not valid JSON: byte 0: unexpected end of input");
    write_raw(path, UINT64_MAX, "{\"a\":{},\"a\":{}}", NULL, 0);
    expect_bad(path, "duplicate key \"a\"");
}

Test(safetensors, rejects_overlap_and_gap)
{
    const char *path = in_tmp("overlap.safetensors");
    unsigned char data[12] = { 0 };
    write_raw(path, UINT64_MAX,
              "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
              "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", data, 12);
    expect_bad(path, ": tensor 'b' (offsets [4,12]) overlaps tensor 'a' (offsets [0,8])");

    write_raw(path, UINT64_MAX,
              "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
              "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", data, 12);
    expect_bad(path, ": gap of 4 unused bytes before tensor 'b' (offsets [8,12])");

    /* Same span twice. */
    write_raw(path, UINT64_MAX,
              "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
              "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", data, 4);
    expect_bad(path, "overlaps tensor");
}

Test(safetensors, rejects_shape_offset_mismatch)
{
    const char *path = in_tmp("mismatch.safetensors");
    unsigned char data[1000] = { 0 };
    write_raw(path, UINT64_MAX,
              "{\"l0.weight\":{\"dtype\":\"F32\",\"shape\":[300,784],\"data_offsets\":[0,1000]}}",
              data, 1000);
    char want[512];
    snprintf(want, sizeof want,
             "%s: tensor 'l0.weight': shape [300,784] needs 940800 bytes, offsets give 1000", path);
    occam_st_file f;
    occam_error err = { 0 };
    cr_expect_eq(occam_st_open(&f, path, &err), OCCAM_ERR_INPUT);
    cr_expect_str_eq(err.msg, want);

    write_raw(path, UINT64_MAX,
              "{\"x\":{\"dtype\":\"U8\",\"shape\":[4294967296,4294967296,4294967296],"
              "\"data_offsets\":[0,0]}}", NULL, 0);
    expect_bad(path, ": tensor 'x': shape [4294967296,4294967296,4294967296] is too large");
}

Test(safetensors, rejects_bad_entries)
{
    const char *path = in_tmp("entries.safetensors");
    unsigned char data[8] = { 0 };
    static const struct {
        const char *header;
        const char *want;
    } cases[] = {
        { "{\"x\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[0,8]}}",
          ": tensor 'x': unknown dtype 'F16'" },
        { "{\"x\":{\"dtype\":\"f32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
          ": tensor 'x': unknown dtype 'f32'" },
        { "{\"x\":{\"dtype\":32,\"shape\":[2],\"data_offsets\":[0,8]}}",
          ": tensor 'x': dtype is not a string" },
        { "{\"x\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,8],\"data_offsets\":[0,8]}}",
          ": tensor 'x': shape has 5 dimensions, at most 4 supported" },
        { "{\"x\":{\"dtype\":\"U8\",\"shape\":[-8],\"data_offsets\":[0,8]}}",
          ": tensor 'x': shape must be a list of non-negative integers" },
        { "{\"x\":{\"dtype\":\"U8\",\"shape\":[8.0],\"data_offsets\":[0,8]}}",
          ": tensor 'x': shape must be a list of non-negative integers" },
        { "{\"x\":{\"dtype\":\"U8\",\"shape\":8,\"data_offsets\":[0,8]}}",
          ": tensor 'x': shape is not an array" },
        { "{\"x\":{\"dtype\":\"U8\",\"shape\":[8]}}", ": tensor 'x': missing 'data_offsets'" },
        { "{\"x\":{\"shape\":[8],\"data_offsets\":[0,8]}}", ": tensor 'x': missing 'dtype'" },
        { "{\"x\":{\"dtype\":\"U8\",\"shape\":[8],\"data_offsets\":[0,8],\"extra\":1}}",
          ": tensor 'x': unknown field 'extra'" },
        { "{\"x\":{\"dtype\":\"U8\",\"shape\":[8],\"data_offsets\":[0,8,8]}}",
          ": tensor 'x': data_offsets must be [start, end]" },
        { "{\"x\":{\"dtype\":\"U8\",\"shape\":[8],\"data_offsets\":[\"0\",8]}}",
          ": tensor 'x': data_offsets must be [start, end]" },
        { "{\"x\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[8,0]}}",
          ": tensor 'x': data_offsets [8,0] end before they start" },
        { "{\"x\":{\"dtype\":\"U8\",\"shape\":[8],\"data_offsets\":[8,16]}}",
          ": tensor 'x': data_offsets [8,16] go past the end of the data (8 bytes)" },
        { "{\"x\":[1,2]}", ": tensor 'x': entry is not an object" },
        { "{\"x\\u0000y\":{\"dtype\":\"U8\",\"shape\":[8],\"data_offsets\":[0,8]}}",
          ": tensor name contains a NUL" },
        { "{\"__metadata__\":[],\"x\":{\"dtype\":\"U8\",\"shape\":[8],\"data_offsets\":[0,8]}}",
          ": __metadata__ is not an object" },
        { "{\"__metadata__\":{\"a\":1},\"x\":{\"dtype\":\"U8\",\"shape\":[8],\"data_offsets\":[0,8]}}",
          ": metadata 'a' is not a string" },
        { "{\"__metadata__\":{\"occam.checksum\":\"xyz\"},"
          "\"x\":{\"dtype\":\"U8\",\"shape\":[8],\"data_offsets\":[0,8]}}",
          ": metadata occam.checksum is not 8 lowercase hex digits" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_raw(path, UINT64_MAX, cases[i].header, data, sizeof data);
        expect_bad(path, cases[i].want);
    }
}

Test(safetensors, rejects_checksum_mismatch)
{
    const char *src = write_sample("sum.safetensors");
    size_t size;
    unsigned char *buf = slurp(src, &size);
    buf[size - 5] ^= 0x01; /* one bit of l0.bias */
    const char *path = in_tmp("flipped.safetensors");
    spit(path, buf, size);
    expect_bad(path, ": checksum mismatch: the header says ");

    /* The correct file still opens, and a checksum matching the flipped data is accepted. */
    occam_st_file f;
    occam_error err = { 0 };
    cr_expect_eq(occam_st_open(&f, src, &err), OCCAM_OK, "%s", err.msg);
    uint32_t crc = 0;
    int at = occam_st_checksum(buf, size, &crc);
    cr_assert_geq(at, 0);
    char hex[9];
    snprintf(hex, sizeof hex, "%08x", crc);
    memcpy(buf + at, hex, 8);
    spit(path, buf, size);
    occam_st_file g;
    cr_expect_eq(occam_st_open(&g, path, &err), OCCAM_OK, "%s", err.msg);
    occam_st_close(&g);
    occam_st_close(&f);

    /* The header is covered too: a changed metadata value behind an intact structure. */
    unsigned char *note = memmem(buf, size, sample_meta[1].value, strlen(sample_meta[1].value));
    cr_assert_not_null(note);
    note[0] ^= 0x20;
    spit(path, buf, size);
    expect_bad(path, ": checksum mismatch: the header says ");

    /* A file whose checksum covers the tensors only (as occam wrote before) is named so. */
    note[0] ^= 0x20;
    uint64_t hlen = 0;
    for (int b = 7; b >= 0; b--) hlen = hlen << 8 | buf[b];
    snprintf(hex, sizeof hex, "%08x", crc_of(buf + 8 + hlen, size - 8 - hlen));
    memcpy(buf + at, hex, 8);
    spit(path, buf, size);
    expect_bad(path, ": its checksum covers the tensors only");

    /* The digits as written, lowercase: an uppercase one (bit 5 flipped) is not the same. */
    snprintf(hex, sizeof hex, "%08x", crc);
    memcpy(buf + at, hex, 8);
    spit(path, buf, size);
    occam_st_file h;
    cr_expect_eq(occam_st_open(&h, path, &err), OCCAM_OK, "%s", err.msg);
    occam_st_close(&h);
    int letter = -1;
    for (int i = 0; i < 8 && letter < 0; i++)
        if (hex[i] >= 'a') letter = i;
    if (letter >= 0) {
        buf[at + letter] ^= 0x20;
        spit(path, buf, size);
        expect_bad(path, ": metadata occam.checksum is not 8 lowercase hex digits");
    }
    free(buf);
}

Test(safetensors, rejects_missing_and_non_regular)
{
    const char *path = in_tmp("does-not-exist.safetensors");
    expect_bad(path, ": cannot open: No such file or directory");
    expect_bad(tmpdir, ": not a regular file");
}

/* ---- atomic writes --------------------------------------------------------------------- */

Test(safetensors, write_into_missing_directory_fails_cleanly)
{
    const char *path = in_tmp("no/such/dir/model.safetensors");
    occam_error err = { 0 };
    cr_expect_eq(occam_st_write(path, sample, NSAMPLE, NULL, 0, &err), OCCAM_ERR_RUNTIME);
    char want[512];
    snprintf(want, sizeof want, "%s: write failed: No such file or directory", path);
    cr_expect_str_eq(err.msg, want);
    cr_expect_eq(access(in_tmp("no"), F_OK), -1);
    cr_expect_eq(count_tmp_files(tmpdir), 0);
}

typedef enum { FAIL_READONLY_DIR, FAIL_FILE_SIZE } fail_mode;

/* Runs occam_st_write in a child made to fail; returns its status, and its message in msg.
 * Returns -77 when the failure cannot be arranged (root that cannot drop privileges). */
static int write_in_child(const char *path, fail_mode mode, char *msg, size_t cap)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        if (mode == FAIL_READONLY_DIR && geteuid() == 0) {
            /* Root ignores directory permissions: become nobody. */
            if (setgroups(0, NULL) != 0 || setresgid(65534, 65534, 65534) != 0 ||
                setresuid(65534, 65534, 65534) != 0)
                _exit(77);
        }
        if (mode == FAIL_FILE_SIZE) {
            /* Files stop growing at 4 KiB, like a disk filling up mid-write. */
            signal(SIGXFSZ, SIG_IGN);
            struct rlimit rl = { 4096, 4096 };
            if (setrlimit(RLIMIT_FSIZE, &rl) != 0) _exit(77);
        }
        static float big[16384]; /* 64 KiB */
        for (int i = 0; i < 16384; i++) big[i] = (float)i;
        occam_st_tensor t = { "big", OCCAM_ST_F32, 1, { 16384 }, big };
        occam_error err = { 0 };
        int rc = occam_st_write(path, &t, 1, NULL, 0, &err);
        ssize_t w = write(fds[1], err.msg, strlen(err.msg) + 1);
        (void)w;
        _exit(rc);
    }
    close(fds[1]);
    size_t got = 0;
    ssize_t n;
    while (got + 1 < cap && (n = read(fds[0], msg + got, cap - 1 - got)) > 0) got += (size_t)n;
    msg[got] = '\0';
    close(fds[0]);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status), "child crashed");
    return WEXITSTATUS(status) == 77 ? -77 : WEXITSTATUS(status);
}

static void expect_old_file_survives(fail_mode mode, const char *why)
{
    char dir[300];
    snprintf(dir, sizeof dir, "%s/ckpt", tmpdir);
    cr_assert_eq(mkdir(dir, 0755), 0);
    char path[400];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    occam_error err = { 0 };
    cr_assert_eq(occam_st_write(path, sample, NSAMPLE, sample_meta, 2, &err), OCCAM_OK, "%s",
                 err.msg);
    size_t before_size;
    unsigned char *before = slurp(path, &before_size);
    if (mode == FAIL_READONLY_DIR) cr_assert_eq(chmod(dir, 0555), 0);

    char msg[1024];
    int rc = write_in_child(path, mode, msg, sizeof msg);
    chmod(dir, 0755);
    if (rc == -77) {
        remove_tmpdir(); /* a skipped test's .fini does not run */
        cr_skip_test("cannot arrange the failure in this environment");
    }
    cr_expect_eq(rc, OCCAM_ERR_RUNTIME, "child status %d: %s", rc, msg);
    char want[512];
    snprintf(want, sizeof want, "%s: write failed: %s", path, why);
    cr_expect_str_eq(msg, want);

    size_t after_size;
    unsigned char *after = slurp(path, &after_size);
    cr_expect_eq(after_size, before_size);
    cr_expect(memcmp(before, after, before_size) == 0, "old file changed");
    cr_expect_eq(count_tmp_files(dir), 0, "temporary file left behind");
    occam_st_file f;
    cr_expect_eq(occam_st_open(&f, path, &err), OCCAM_OK, "%s", err.msg);
    cr_expect_eq(f.ntensors, NSAMPLE);
    occam_st_close(&f);
    free(before);
    free(after);
}

Test(safetensors, unwritable_directory_keeps_old_file)
{
    expect_old_file_survives(FAIL_READONLY_DIR, "Permission denied");
}

Test(safetensors, failed_write_keeps_old_file)
{
    expect_old_file_survives(FAIL_FILE_SIZE, "File too large");
}
