/* IDX reader (MNIST / Fashion-MNIST): ubyte images (3-D) and ubyte labels (1-D) for training,
 * and for `occam predict` a features-only file: ubyte records of 2 to 4 dims, no labels.
 *
 * Both files go through zlib's gz* API, which inflates gzipped files and passes raw files
 * through unchanged, so one code path serves `x.gz` and `x`. The pixel bytes are streamed in
 * fixed-size chunks straight into the float array: the uint8 file is never held in memory next
 * to its float copy, so the peak is the float32 dataset plus one chunk.
 *
 * Nothing is trusted before it is checked: magic, dimensions (nonzero, at most 2^31 records
 * and 2^24 bytes per record), that the data is complete (the message names the record where it
 * ran out), that nothing follows it, that the gzip stream is intact (its CRC is verified when
 * the stream is read to the end, which the trailing-bytes check does), that image and label
 * counts agree and that every label is below `classes`. Records are numbered from 0. A
 * features-only file goes through the same checks, one magic number aside. */
#include "occam/data.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "occam/mem.h"

#define IDX_MAGIC_IMAGES 0x00000803u /* ubyte, 3 dims: count, rows, cols */
#define IDX_MAGIC_LABELS 0x00000801u /* ubyte, 1 dim: count */
#define IDX_MAGIC_ROWS 0u /* features only: any ubyte magic of 2 to 4 dims (records × the rest) */
#define IDX_UBYTE 0x08u
#define IDX_MAX_DIMS 4u
#define IDX_MAX_RECORDS (UINT64_C(1) << 31)
#define IDX_MAX_RECORD_SIZE (UINT64_C(1) << 24)
#define IDX_CHUNK (64u * 1024u)
#define IDX_GZ_BUFFER (128u * 1024u)
#define IDX_MAX_INFLATE 1032u /* deflate's largest expansion: output bytes per input byte */

typedef struct idx_file {
    const char *path;
    gzFile gz;
    uint64_t n;      /* records (first dimension) */
    uint64_t size;   /* bytes per record (product of the other dimensions; 1 for labels) */
    unsigned header; /* bytes before the data: the magic and the dimensions */
} idx_file;

static int idx_gz_error(const idx_file *f, occam_error *err)
{
    int code = 0;
    const char *msg = gzerror(f->gz, &code);
    if (code == Z_ERRNO)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: read error: %s", f->path,
                               strerror(errno));
    if (code == Z_MEM_ERROR)
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: out of memory while inflating",
                               f->path);
    /* zlib prefixes the message with the path; we already print it. */
    size_t plen = strlen(f->path);
    if (strncmp(msg, f->path, plen) == 0 && strncmp(msg + plen, ": ", 2) == 0) msg += plen + 2;
    return occam_error_set(err, OCCAM_ERR_INPUT, "%s: corrupt gzip stream: %s", f->path, msg);
}

/* Reads up to len bytes; *got < len only at the end of the data. */
static int idx_read(idx_file *f, void *buf, unsigned len, unsigned *got, occam_error *err)
{
    *got = 0;
    while (*got < len) {
        int r = gzread(f->gz, (unsigned char *)buf + *got, len - *got);
        if (r < 0) return idx_gz_error(f, err);
        if (r == 0) break;
        *got += (unsigned)r;
    }
    return OCCAM_OK;
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
    if (got == 0 && gztell(f->gz) == 0)
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
    if (dim[0] > IDX_MAX_RECORDS)
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

static int idx_gzopen(idx_file *f, occam_error *err)
{
    errno = 0;
    f->gz = gzopen(f->path, "rb");
    if (!f->gz)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: cannot open: %s", f->path,
                               errno ? strerror(errno) : "out of memory");
    gzbuffer(f->gz, IDX_GZ_BUFFER);
    return OCCAM_OK;
}

/* Opens path and reads and checks its header (magic: one of IDX_MAGIC_*); on success f->n,
 * f->size and f->header are set. */
static int idx_open(idx_file *f, uint32_t magic, occam_error *err)
{
    int rc = idx_gzopen(f, err);
    if (rc != OCCAM_OK) return rc;
    uint32_t found = 0, dim[IDX_MAX_DIMS] = {0};
    rc = idx_read_be32(f, &found, 1, err);
    if (rc == OCCAM_OK) rc = idx_check_magic(f, found, magic, err);
    unsigned ndims = found & 0xff; /* checked: at most IDX_MAX_DIMS */
    if (rc == OCCAM_OK) rc = idx_read_be32(f, dim, ndims, err);
    if (rc == OCCAM_OK) rc = idx_check_dims(f, dim, ndims, err);
    if (rc != OCCAM_OK) return rc;
    f->n = dim[0];
    f->size = 1;
    for (unsigned i = 1; i < ndims; i++) f->size *= dim[i];
    f->header = 4 + 4 * ndims;
    return OCCAM_OK;
}

static void idx_close(idx_file *f)
{
    if (f->gz) gzclose(f->gz);
    f->gz = NULL;
}

static int idx_truncated(const idx_file *f, uint64_t bytes_read, occam_error *err)
{
    return occam_error_set(err, OCCAM_ERR_INPUT, "%s: truncated: record %" PRIu64 " of %" PRIu64,
                           f->path, bytes_read / f->size, f->n);
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

/* Streams the n × size data bytes into x (images) or label (labels, checked < classes). */
static int idx_stream(idx_file *f, float *x, int32_t *label, int classes, occam_error *err)
{
    unsigned char *buf = malloc(IDX_CHUNK);
    if (!buf) return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: out of memory", f->path);
    const uint64_t total = f->n * f->size;
    uint64_t done = 0;
    int rc = OCCAM_OK;
    while (rc == OCCAM_OK && done < total) {
        unsigned want = total - done < IDX_CHUNK ? (unsigned)(total - done) : IDX_CHUNK;
        unsigned got = 0;
        rc = idx_read(f, buf, want, &got, err);
        if (rc == OCCAM_OK) rc = idx_convert(f, buf, got, done, x, label, classes, err);
        done += got;
        if (rc == OCCAM_OK && got < want) rc = idx_truncated(f, done, err);
    }
    free(buf);
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
    int code = 0;
    gzerror(f->gz, &code);
    if (code != Z_OK) return idx_gz_error(f, err);
    return OCCAM_OK;
}

/* Before anything is allocated from the header's counts, they must fit the file: a raw file
 * holds exactly its bytes and a gzip file inflates to at most IDX_MAX_INFLATE times its size.
 * Otherwise a few bytes claiming 2^31 records of 2^24 bytes would ask for 2^57 bytes and fail
 * as "out of memory" (a runtime error) instead of as the truncated input it is. */
static int idx_check_size(const idx_file *f, occam_error *err)
{
    struct stat st;
    if (stat(f->path, &st) != 0 || !S_ISREG(st.st_mode)) return OCCAM_OK; /* streaming decides */
    uint64_t file = (uint64_t)st.st_size, need = f->n * f->size;
    if (gzdirect(f->gz)) {
        uint64_t avail = file > f->header ? file - f->header : 0;
        return need <= avail ? OCCAM_OK : idx_truncated(f, avail, err);
    }
    if (file > UINT64_MAX / IDX_MAX_INFLATE || need <= file * IDX_MAX_INFLATE) return OCCAM_OK;
    return occam_error_set(err, OCCAM_ERR_INPUT,
                           "%s: truncated: the header's %" PRIu64 " records of %" PRIu64
                           " bytes cannot fit in %" PRIu64 " gzip bytes",
                           f->path, f->n, f->size, file);
}

/* classes 0: features only, no label array. */
static int idx_alloc(occam_dataset *out, const idx_file *img, int classes, occam_error *err)
{
    out->x = occam_alloc(img->n, img->size * sizeof(float));
    if (classes) out->label = occam_alloc(img->n, sizeof(int32_t));
    if (!out->x || (classes && !out->label))
        return occam_error_set(err, OCCAM_ERR_RUNTIME,
                               "%s: out of memory for %" PRIu64 " x %" PRIu64 " floats",
                               img->path, img->n, img->size);
    out->n = img->n;
    out->d = img->size;
    out->classes = classes;
    return OCCAM_OK;
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
    if (rc == OCCAM_OK) rc = idx_alloc(out, img, classes, err);
    if (rc == OCCAM_OK) rc = idx_stream(img, out->x, NULL, 0, err);
    if (rc == OCCAM_OK) rc = idx_expect_end(img, err);
    if (rc == OCCAM_OK) rc = idx_stream(lab, NULL, out->label, classes, err);
    if (rc == OCCAM_OK) rc = idx_expect_end(lab, err);
    return rc;
}

int occam_idx_load(occam_dataset *out, const char *images_path, const char *labels_path,
                   int classes, occam_error *err)
{
    *out = (occam_dataset){0};
    if (classes < 1 || classes > 256)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "%s: class count %d is outside [1, 256] for ubyte labels",
                               labels_path, classes);
    idx_file img = {.path = images_path}, lab = {.path = labels_path};
    int rc = idx_read_both(out, &img, &lab, classes, err);
    idx_close(&img);
    idx_close(&lab);
    if (rc != OCCAM_OK) occam_dataset_free(out);
    return rc;
}

int occam_idx_load_features(occam_dataset *out, const char *path, occam_error *err)
{
    *out = (occam_dataset){0};
    idx_file f = {.path = path};
    int rc = idx_open(&f, IDX_MAGIC_ROWS, err);
    if (rc == OCCAM_OK) rc = idx_check_size(&f, err);
    if (rc == OCCAM_OK) rc = idx_alloc(out, &f, 0, err);
    if (rc == OCCAM_OK) rc = idx_stream(&f, out->x, NULL, 0, err);
    if (rc == OCCAM_OK) rc = idx_expect_end(&f, err);
    idx_close(&f);
    if (rc != OCCAM_OK) occam_dataset_free(out);
    return rc;
}

int occam_idx_sniff(const char *path, bool *is_idx, occam_error *err)
{
    *is_idx = false;
    idx_file f = {.path = path};
    int rc = idx_gzopen(&f, err);
    if (rc != OCCAM_OK) return rc;
    unsigned char magic[4];
    unsigned got = 0;
    rc = idx_read(&f, magic, sizeof magic, &got, err);
    *is_idx = rc == OCCAM_OK && got == sizeof magic && magic[0] == 0 && magic[1] == 0;
    idx_close(&f);
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
