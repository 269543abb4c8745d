/* IDX reader (MNIST / Fashion-MNIST): ubyte images (3-D) and ubyte labels (1-D) for training,
 * and for `occam predict` a features-only file: ubyte records of 2 to 4 dims, no labels.
 *
 * Files are read once, front to back, through input.h (zlib's inflate underneath for gzipped
 * files, raw files passed through unchanged), so one code path serves
 * `x.gz`, `x` and a pipe. The pixel bytes are streamed in fixed-size chunks straight into the
 * float array: the uint8 file is never held in memory next to its float copy.
 *
 * Nothing is trusted before it is checked: magic, dimensions (nonzero, at most 2^31 records
 * and 2^24 bytes per record), that the data is complete (the message says what the header
 * claims and what the file has), that nothing follows it, that the gzip stream is intact (its
 * CRC is verified, and nothing may follow it, when the stream is read to the end, which the
 * trailing-bytes check does), that image and label counts agree and that every label is below `classes`. Records are
 * numbered from 0. A features-only file goes through the same checks, one magic number aside.
 *
 * Memory follows the data that is there, never the count a header claims: a raw regular file
 * whose size (fstat of the file being read) holds the claimed data gets its array at once, at
 * the exact size, and so does a gzip file whose trailer agrees (idx_check_size); a pipe, whose
 * real length shows only as it is read, gets an array that doubles as the data arrives, up to
 * the claimed size. So a 56-byte file claiming 2^31 records is "truncated", never "out of
 * memory". */
#include "occam/data.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "input.h"
#include "occam/mem.h"

#define IDX_MAGIC_IMAGES 0x00000803u /* ubyte, 3 dims: count, rows, cols */
#define IDX_MAGIC_LABELS 0x00000801u /* ubyte, 1 dim: count */
#define IDX_MAGIC_ROWS 0u /* features only: any ubyte magic of 2 to 4 dims (records × the rest) */
#define IDX_UBYTE 0x08u
#define IDX_MAX_DIMS 4u
#define IDX_MAX_RECORD_SIZE (UINT64_C(1) << 24)
#define IDX_CHUNK (64u * 1024u)
#define IDX_GROW_FIRST (UINT64_C(1) << 20) /* values a growing array first has room for */
#define IDX_MAX_INFLATE 1032u /* deflate's largest expansion: output bytes per input byte */
#define IDX_TRUST_INFLATE 64u /* beyond this ratio a gzip file's array grows with its data */

typedef struct idx_file {
    const char *path;
    data_input *in;
    data_input own;  /* in, when this reader opened the file itself */
    uint64_t n;      /* records (first dimension) */
    uint64_t size;   /* bytes per record (product of the other dimensions; 1 for labels) */
    unsigned header; /* bytes before the data: the magic and the dimensions */
    bool sized;      /* the file's size vouches for the claim: its array is allocated whole */
    uint32_t dim[IDX_MAX_DIMS]; /* the header's dimensions (images: records, rows, cols) */
} idx_file;

/* Reads up to len bytes; *got < len only at the end of the data. */
static int idx_read(idx_file *f, void *buf, unsigned len, unsigned *got, occam_error *err)
{
    size_t n = 0;
    int rc = data_input_read(f->in, buf, len, &n, err);
    *got = (unsigned)n;
    return rc;
}

static uint32_t idx_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static int idx_check_magic(const idx_file *f, uint32_t found, uint32_t want, occam_error *err)
{
    char expected[96];
    if (want == IDX_MAGIC_ROWS) {
        unsigned ndims = found & 0xff;
        if (found >> 8 == IDX_UBYTE && ndims >= 2 && ndims <= IDX_MAX_DIMS) return OCCAM_OK;
        snprintf(expected, sizeof expected,
                 "0x%08" PRIx32 " to 0x%08" PRIx32 " (ubyte records, 2 to %u dims)",
                 IDX_UBYTE << 8 | 2, IDX_UBYTE << 8 | IDX_MAX_DIMS, IDX_MAX_DIMS);
    } else {
        if (found == want) return OCCAM_OK;
        snprintf(expected, sizeof expected, "0x%08" PRIx32 " (%s)", want,
                 want == IDX_MAGIC_IMAGES ? "ubyte images, 3 dims" : "ubyte labels, 1 dim");
    }
    if (found >> 16 != 0)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "%s: not an IDX file: magic 0x%08" PRIx32 ", expected %s",
                               f->path, found, expected);
    return occam_error_set(err, OCCAM_ERR_INPUT,
                           "%s: wrong IDX magic 0x%08" PRIx32 " (type 0x%02x, %u dims), "
                           "expected %s",
                           f->path, found, (unsigned)(found >> 8 & 0xff),
                           (unsigned)(found & 0xff), expected);
}

/* Reads n big-endian uint32 values; a short read is a truncated header. */
static int idx_read_be32(idx_file *f, uint32_t *v, unsigned n, occam_error *err)
{
    unsigned char buf[4 * IDX_MAX_DIMS];
    unsigned got = 0;
    OCCAM_ASSERT(n * 4 <= sizeof buf);
    int rc = idx_read(f, buf, n * 4, &got, err);
    if (rc != OCCAM_OK) return rc;
    if (got == 0 && f->in->taken == 0)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: empty file", f->path);
    if (got < n * 4)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: truncated IDX header", f->path);
    for (unsigned i = 0; i < n; i++) v[i] = idx_be32(buf + 4 * i);
    return OCCAM_OK;
}

static int idx_check_dims(const idx_file *f, const uint32_t *dim, unsigned ndims,
                          occam_error *err)
{
    for (unsigned i = 0; i < ndims; i++)
        if (dim[i] == 0)
            return occam_error_set(err, OCCAM_ERR_INPUT, "%s: dimension %u is 0", f->path, i);
    if (dim[0] > OCCAM_DATA_ROWS_MAX)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "%s: %" PRIu32 " records exceeds the limit of 2^31", f->path,
                               dim[0]);
    /* Each factor is below 2^32 and the running product stays at most 2^24 before the next
     * multiplication, so this cannot overflow 64 bits. */
    uint64_t size = 1;
    for (unsigned i = 1; i < ndims; i++) {
        size *= dim[i];
        if (size > IDX_MAX_RECORD_SIZE)
            return occam_error_set(err, OCCAM_ERR_INPUT,
                                   "%s: record size exceeds the limit of 2^24 bytes", f->path);
    }
    return OCCAM_OK;
}

/* Reads and checks the header of f->in (magic: one of IDX_MAGIC_*); on success f->n, f->size
 * and f->header are set. */
static int idx_open_input(idx_file *f, uint32_t magic, occam_error *err)
{
    uint32_t found = 0, dim[IDX_MAX_DIMS] = {0};
    int rc = idx_read_be32(f, &found, 1, err);
    if (rc == OCCAM_OK) rc = idx_check_magic(f, found, magic, err);
    unsigned ndims = found & 0xff; /* checked: at most IDX_MAX_DIMS */
    if (rc == OCCAM_OK) rc = idx_read_be32(f, dim, ndims, err);
    if (rc == OCCAM_OK) rc = idx_check_dims(f, dim, ndims, err);
    if (rc != OCCAM_OK) return rc;
    f->n = dim[0];
    f->size = 1;
    for (unsigned i = 1; i < ndims; i++) f->size *= dim[i];
    f->header = 4 + 4 * ndims;
    memcpy(f->dim, dim, sizeof f->dim);
    return OCCAM_OK;
}

/* Opens f->path and reads its header, as idx_open_input. */
static int idx_open(idx_file *f, uint32_t magic, occam_error *err)
{
    int rc = data_input_open(&f->own, f->path, err);
    if (rc != OCCAM_OK) return rc;
    f->in = &f->own;
    return idx_open_input(f, magic, err);
}

static void idx_close(idx_file *f)
{
    if (f->in == &f->own) data_input_close(&f->own);
    f->in = NULL;
}

/* `have` bytes of data where the header claims n × size. */
static int idx_truncated(const idx_file *f, uint64_t have, occam_error *err)
{
    return occam_error_set(err, OCCAM_ERR_INPUT,
                           "%s: truncated: the header claims %" PRIu64 " records of %" PRIu64
                           " byte%s (%" PRIu64 " bytes), the file has %" PRIu64
                           " (it ends in record %" PRIu64 ")",
                           f->path, f->n, f->size, f->size == 1 ? "" : "s", f->n * f->size,
                           have, have / f->size);
}

/* Converts one chunk of bytes starting at byte offset `at` of the data. */
static int idx_convert(const idx_file *f, const unsigned char *buf, unsigned len, uint64_t at,
                       float *x, int32_t *label, int classes, occam_error *err)
{
    if (x) {
        for (unsigned k = 0; k < len; k++) x[at + k] = (float)buf[k];
        return OCCAM_OK;
    }
    for (unsigned k = 0; k < len; k++) {
        if (buf[k] >= classes)
            return occam_error_set(err, OCCAM_ERR_INPUT,
                                   "%s: record %" PRIu64 ": label %u out of range [0, %d)",
                                   f->path, at + k, (unsigned)buf[k], classes);
        label[at + k] = buf[k];
    }
    return OCCAM_OK;
}

/* Streams the n × size data bytes into out->x (images) or out->label (labels, checked <
 * classes), 4 bytes a value either way: allocated whole when the file is `sized`, else growing
 * with the data read. */
static int idx_stream(idx_file *f, occam_dataset *out, bool labels, int classes,
                      occam_error *err)
{
    const uint64_t total = f->n * f->size;
    void **arr = labels ? (void **)&out->label : (void **)&out->x;
    size_t cap = 0;
    if (f->sized) {
        *arr = occam_alloc(total, sizeof(float));
        cap = *arr ? total : 0;
    }
    unsigned char *buf = malloc(IDX_CHUNK);
    if (!buf || (f->sized && !*arr)) {
        free(buf);
        return occam_error_set(err, OCCAM_ERR_RUNTIME,
                               "%s: out of memory for %" PRIu64 " x %" PRIu64 " values", f->path,
                               f->n, f->size);
    }
    uint64_t done = 0;
    int rc = OCCAM_OK;
    while (rc == OCCAM_OK && done < total) {
        unsigned want = total - done < IDX_CHUNK ? (unsigned)(total - done) : IDX_CHUNK;
        unsigned got = 0;
        rc = idx_read(f, buf, want, &got, err);
        if (rc == OCCAM_OK && got &&
            !data_grow(arr, &cap, done + got, IDX_GROW_FIRST, total, sizeof(float)))
            rc = occam_error_set(err, OCCAM_ERR_RUNTIME,
                                 "%s: out of memory after %" PRIu64 " of %" PRIu64 " records",
                                 f->path, done / f->size, f->n);
        if (rc == OCCAM_OK)
            rc = idx_convert(f, buf, got, done, labels ? NULL : out->x, out->label, classes, err);
        done += got;
        if (rc == OCCAM_OK && got < want) rc = idx_truncated(f, done, err);
    }
    free(buf);
    if (rc == OCCAM_OK && !data_align(arr, total * sizeof(float)))
        rc = occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: out of memory for %" PRIu64 " records",
                             f->path, f->n);
    return rc;
}

/* The data must end exactly here. Reading to the end also makes zlib verify the gzip CRC and
 * length, which catches corruption that still inflates. */
static int idx_expect_end(idx_file *f, occam_error *err)
{
    unsigned char extra;
    unsigned got = 0;
    int rc = idx_read(f, &extra, 1, &got, err);
    if (rc != OCCAM_OK) return rc;
    if (got != 0)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "%s: trailing bytes after the %" PRIu64 " records", f->path, f->n);
    return data_input_end(f->in, err);
}

/* Before anything is allocated from the header's counts, they must fit the file: a raw file
 * holds exactly its bytes and a gzip file inflates to at most IDX_MAX_INFLATE times its size.
 * A raw regular file that holds them is `sized`: its array is allocated whole. So is a gzip
 * file whose trailer (the inflated length, mod 2^32) agrees with the header at a ratio real
 * data reaches (IDX_TRUST_INFLATE): a forged trailer can then claim at most that many times
 * the file's size, and the stream still finds the truth. Anything else grows with its data. */
static int idx_check_size(idx_file *f, occam_error *err)
{
    f->sized = false;
    if (!f->in->regular) return OCCAM_OK; /* a pipe: the stream decides */
    uint64_t file = f->in->size, need = f->n * f->size;
    if (data_input_raw(f->in)) {
        uint64_t avail = file > f->header ? file - f->header : 0;
        f->sized = need <= avail;
        return f->sized ? OCCAM_OK : idx_truncated(f, avail, err);
    }
    if (file <= UINT64_MAX / IDX_MAX_INFLATE && need > file * IDX_MAX_INFLATE)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "%s: truncated: the header claims %" PRIu64 " records of %" PRIu64
                               " byte%s (%" PRIu64 " bytes), the file has %" PRIu64 " gzip bytes "
                               "(%" PRIu64 " at the most inflated)",
                               f->path, f->n, f->size, f->size == 1 ? "" : "s", need, file,
                               file * IDX_MAX_INFLATE);
    uint32_t inflated = 0;
    f->sized = need / IDX_TRUST_INFLATE <= file && data_input_gzip_length(f->in, &inflated) &&
               inflated == (uint32_t)(f->header + need);
    return OCCAM_OK;
}

static void idx_shape(occam_dataset *out, const idx_file *img, int classes)
{
    out->n = img->n;
    out->d = img->size;
    out->classes = classes;
    /* records × rows × cols (a fourth dimension would be channels: no plain grid) */
    out->grid_w = img->dim[2] && !img->dim[3] ? (int)img->dim[2] : 0;
}

static int idx_read_both(occam_dataset *out, idx_file *img, idx_file *lab, int classes,
                         occam_error *err)
{
    int rc = idx_open(img, IDX_MAGIC_IMAGES, err);
    if (rc == OCCAM_OK) rc = idx_open(lab, IDX_MAGIC_LABELS, err);
    if (rc == OCCAM_OK && img->n != lab->n)
        rc = occam_error_set(err, OCCAM_ERR_INPUT,
                             "%s has %" PRIu64 " images but %s has %" PRIu64 " labels",
                             img->path, img->n, lab->path, lab->n);
    if (rc == OCCAM_OK) rc = idx_check_size(img, err);
    if (rc == OCCAM_OK) rc = idx_check_size(lab, err);
    if (rc == OCCAM_OK) rc = idx_stream(img, out, false, 0, err);
    if (rc == OCCAM_OK) rc = idx_expect_end(img, err);
    if (rc == OCCAM_OK) rc = idx_stream(lab, out, true, classes, err);
    if (rc == OCCAM_OK) rc = idx_expect_end(lab, err);
    if (rc == OCCAM_OK) idx_shape(out, img, classes);
    return rc;
}

int data_idx_load(occam_dataset *out, const char *images_path, const char *labels_path,
                  int classes, uint32_t rows_cols[2], occam_error *err)
{
    *out = (occam_dataset){0};
    if (classes < 1 || classes > 256)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "%s: class count %d is outside [1, 256] for ubyte labels",
                               labels_path, classes);
    idx_file img = {.path = images_path}, lab = {.path = labels_path};
    int rc = idx_read_both(out, &img, &lab, classes, err);
    if (rc == OCCAM_OK) memcpy(rows_cols, img.dim + 1, 2 * sizeof *rows_cols);
    idx_close(&img);
    idx_close(&lab);
    if (rc != OCCAM_OK) occam_dataset_free(out);
    return rc;
}

int occam_idx_load(occam_dataset *out, const char *images_path, const char *labels_path,
                   int classes, occam_error *err)
{
    uint32_t rows_cols[2];
    return data_idx_load(out, images_path, labels_path, classes, rows_cols, err);
}

/* The features-only read of an opened input (f->in set). */
static int idx_read_features(occam_dataset *out, idx_file *f, occam_error *err)
{
    int rc = idx_open_input(f, IDX_MAGIC_ROWS, err);
    if (rc == OCCAM_OK) rc = idx_check_size(f, err);
    if (rc == OCCAM_OK) rc = idx_stream(f, out, false, 0, err);
    if (rc == OCCAM_OK) rc = idx_expect_end(f, err);
    if (rc == OCCAM_OK) idx_shape(out, f, 0);
    return rc;
}

int data_idx_read_features(occam_dataset *out, data_input *in, occam_error *err)
{
    *out = (occam_dataset){0};
    idx_file f = {.path = in->path, .in = in};
    int rc = idx_read_features(out, &f, err);
    if (rc != OCCAM_OK) occam_dataset_free(out);
    return rc;
}

int occam_idx_load_features(occam_dataset *out, const char *path, occam_error *err)
{
    *out = (occam_dataset){0};
    idx_file f = {.path = path};
    int rc = data_input_open(&f.own, path, err);
    if (rc == OCCAM_OK) {
        f.in = &f.own;
        rc = idx_read_features(out, &f, err);
    }
    idx_close(&f);
    if (rc != OCCAM_OK) occam_dataset_free(out);
    return rc;
}

int occam_idx_find(char *buf, size_t cap, const char *dir, const char *stem, occam_error *err)
{
    char gz[OCCAM_PATH_MAX + 8];
    int len = snprintf(buf, cap, "%s/%s", dir, stem);
    if (len < 0 || (size_t)len >= cap || (size_t)len + 3 >= sizeof gz)
        return occam_error_set(err, OCCAM_ERR_INPUT, "data.path: \"%s/%s\" is too long", dir,
                               stem);
    if (access(buf, F_OK) == 0) return OCCAM_OK;
    snprintf(gz, sizeof gz, "%s.gz", buf);
    if (access(gz, F_OK) == 0) {
        if (strlen(gz) >= cap)
            return occam_error_set(err, OCCAM_ERR_INPUT, "data.path: \"%s\" is too long", gz);
        memcpy(buf, gz, strlen(gz) + 1);
        return OCCAM_OK;
    }
    return occam_error_set(err, OCCAM_ERR_INPUT, "data.path: neither %s nor %s exists", buf, gz);
}
