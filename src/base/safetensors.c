/* safetensors checkpoints: atomic writer, validating reader. See occam/safetensors.h.
 *
 * Writer: it first checks the arguments and computes the CRC, then builds the header in
 * memory with the JSON writer, because its length must come first in the file. Then the file
 * goes through occam/outfile.h: a temporary name beside the target, every step (fwrite,
 * fflush, fsync, fclose, rename) checked, the first failure unlinking the temporary file so the
 * target never changes, and the directory fsync after the rename making the new name durable.
 * A device or FIFO target is written in place, never replaced.
 *
 * Reader: it trusts nothing in the file. The header length is checked against the file size
 * before any allocation. Every size product is overflow-checked in 64 bits. The tensors are
 * sorted by offset, and their spans must tile the data area exactly. The data area is read
 * only after all that and the checksum key's presence: a file that is no checkpoint costs its
 * header, not its size (a 2 GB file took 2 GB and 6 s to refuse). Then a corrupt
 * checkpoint always fails with a message naming the file and the entry, and never with an
 * out-of-bounds read later, when a layer loads its weights. */
#include "occam/safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "occam/fsutil.h"
#include "occam/mem.h"
#include "occam/outfile.h"

/* Tensor bytes are little-endian on disk and are read and written as the host's floats. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors data is little-endian: a big-endian host needs byte swaps in base/safetensors.c"
#endif

static const struct {
    const char *name;
    size_t size;
} dtypes[OCCAM_ST_NDTYPES] = {
    [OCCAM_ST_F32] = { "F32", 4 }, [OCCAM_ST_F64] = { "F64", 8 }, [OCCAM_ST_I32] = { "I32", 4 },
    [OCCAM_ST_U8] = { "U8", 1 },   [OCCAM_ST_U32] = { "U32", 4 }, [OCCAM_ST_I64] = { "I64", 8 },
    [OCCAM_ST_U64] = { "U64", 8 },
};

static const char *dtype_name(occam_st_dtype dtype)
{
    OCCAM_ASSERT((unsigned)dtype < OCCAM_ST_NDTYPES);
    return dtypes[dtype].name;
}

size_t occam_st_dtype_size(occam_st_dtype dtype)
{
    OCCAM_ASSERT((unsigned)dtype < OCCAM_ST_NDTYPES);
    return dtypes[dtype].size;
}

/* prod(shape) * elem in bytes; false if it overflows uint64_t. */
static bool shape_bytes(const int64_t *shape, int ndim, size_t elem, uint64_t *bytes)
{
    uint64_t n = elem;
    for (int d = 0; d < ndim; d++) {
        uint64_t dim = (uint64_t)shape[d];
        if (dim != 0 && n > UINT64_MAX / dim) return false;
        n *= dim;
    }
    *bytes = n;
    return true;
}

/* zlib's Adler-32 of n bytes at data, in 1 GiB pieces as below. */
uint32_t occam_st_adler32(const void *data, size_t n)
{
    const unsigned char *p = data;
    uLong a = adler32(0L, Z_NULL, 0);
    while (n > 0) {
        uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
        a = adler32(a, p, k);
        p += k;
        n -= k;
    }
    return (uint32_t)a;
}

/* zlib's crc32 takes a 32-bit length, so feed it in 1 GiB pieces. */
uint32_t occam_st_crc32(uint32_t crc, const void *data, size_t n)
{
    const unsigned char *p = data;
    while (n > 0) {
        uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
        crc = (uint32_t)crc32(crc, p, k);
        p += k;
        n -= k;
    }
    return crc;
}

/* Where the 8 hex digits of "occam.checksum": "XXXXXXXX" start in the header text, or -1 when
 * the key is missing, malformed, or there twice. A string value inside the header cannot fake
 * the pattern: its quotes are escaped. */
static long checksum_digits(const char *h, size_t n)
{
    static const char key[] = "\"" OCCAM_ST_CHECKSUM_KEY "\"";
    const size_t klen = sizeof key - 1;
    long found = -1;
    for (size_t i = 0; i + klen <= n; i++) {
        if (memcmp(h + i, key, klen) != 0) continue;
        size_t k = i + klen;
        while (k < n && (h[k] == ' ' || h[k] == '\t' || h[k] == '\n' || h[k] == '\r')) k++;
        if (k >= n || h[k] != ':') continue;
        for (k++; k < n && (h[k] == ' ' || h[k] == '\t' || h[k] == '\n' || h[k] == '\r'); k++) {
        }
        if (k >= n || h[k] != '"') continue;
        if (found >= 0) return -2; /* twice: ambiguous */
        found = (long)(k + 1);
    }
    return found;
}

/* The 8-byte little-endian header length that opens a file. */
static void put_le64(unsigned char out[8], uint64_t v)
{
    for (int b = 0; b < 8; b++) out[b] = (unsigned char)(v >> (8 * b));
}

static uint64_t get_le64(const unsigned char in[8])
{
    uint64_t v = 0;
    for (int b = 7; b >= 0; b--) v = v << 8 | in[b];
    return v;
}

/* The whole-file CRC up to the data: the length field (hlen's), then the header with the
 * checksum's own digits read as "00000000". The caller goes on over the data area. */
static uint32_t file_crc(const char *header, size_t hlen, size_t digits)
{
    unsigned char len8[8];
    put_le64(len8, hlen);
    uint32_t crc = occam_st_crc32((uint32_t)crc32(0L, Z_NULL, 0), len8, 8);
    crc = occam_st_crc32(crc, header, digits);
    crc = occam_st_crc32(crc, "00000000", 8);
    return occam_st_crc32(crc, header + digits + 8, hlen - digits - 8);
}

int occam_st_checksum(const void *file, size_t n, uint32_t *crc)
{
    const unsigned char *p = file;
    if (n < 8) return -1;
    uint64_t hlen = get_le64(p);
    if (hlen > n - 8) return -1;
    long d = checksum_digits((const char *)p + 8, (size_t)hlen);
    if (d < 0 || (uint64_t)d + 8 > hlen) return -1;
    uint32_t c = file_crc((const char *)p + 8, (size_t)hlen, (size_t)d);
    *crc = occam_st_crc32(c, p + 8 + hlen, n - 8 - (size_t)hlen);
    return (int)(8 + d);
}

static void format_shape(char *buf, size_t cap, const int64_t *shape, int ndim)
{
    size_t o = (size_t)snprintf(buf, cap, "[");
    for (int d = 0; d < ndim && o < cap; d++)
        o += (size_t)snprintf(buf + o, cap - o, "%s%" PRId64, d ? "," : "", shape[d]);
    if (o < cap) snprintf(buf + o, cap - o, "]");
}

/* ---- writer ---------------------------------------------------------------------------- */

/* Builds the padded JSON header; returns NULL (errno set) if memory runs out. */
static char *build_header(const occam_st_tensor *tensors, int ntensors, const uint64_t *nbytes,
                          const occam_st_meta *meta, int nmeta, uint32_t crc, size_t *len)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *mem = open_memstream(&buf, &size);
    if (!mem) return NULL;
    occam_json j;
    occam_json_init(&j, mem, false);
    occam_json_begin_object(&j);
    occam_json_key(&j, "__metadata__");
    occam_json_begin_object(&j);
    for (int i = 0; i < nmeta; i++) {
        occam_json_key(&j, meta[i].key);
        occam_json_string(&j, meta[i].value);
    }
    char hex[9];
    snprintf(hex, sizeof hex, "%08" PRIx32, crc);
    occam_json_key(&j, OCCAM_ST_CHECKSUM_KEY);
    occam_json_string(&j, hex);
    occam_json_end_object(&j);
    uint64_t offset = 0;
    for (int i = 0; i < ntensors; i++) {
        const occam_st_tensor *t = &tensors[i];
        occam_json_key(&j, t->name);
        occam_json_begin_object(&j);
        occam_json_key(&j, "dtype");
        occam_json_string(&j, dtype_name(t->dtype));
        occam_json_key(&j, "shape");
        occam_json_begin_array(&j);
        for (int d = 0; d < t->ndim; d++) occam_json_int(&j, t->shape[d]);
        occam_json_end_array(&j);
        occam_json_key(&j, "data_offsets");
        occam_json_begin_array(&j);
        occam_json_uint(&j, offset);
        occam_json_uint(&j, offset + nbytes[i]);
        occam_json_end_array(&j);
        occam_json_end_object(&j);
        offset += nbytes[i];
    }
    occam_json_end_object(&j);
    /* Pad with spaces (JSON whitespace) so the data area starts 8-byte aligned in the file. */
    while (ftell(mem) % 8 != 0) fputc(' ', mem);
    int bad = occam_json_finish(&j);
    if (fclose(mem) != 0 || bad) {
        free(buf);
        errno = ENOMEM;
        return NULL;
    }
    *len = size;
    return buf;
}

/* Writes the complete file through the safe writer (see occam/outfile.h). */
static int write_file(const char *path, const char *header, size_t hlen,
                      const occam_st_tensor *tensors, int ntensors, const uint64_t *nbytes,
                      occam_error *err)
{
    occam_outfile o;
    int rc = occam_outfile_open(&o, path, err);
    if (rc) return rc;
    unsigned char len8[8];
    put_le64(len8, hlen);
    bool ok = occam_outfile_write(&o, len8, 8) && occam_outfile_write(&o, header, hlen);
    for (int i = 0; ok && i < ntensors; i++)
        ok = occam_outfile_write(&o, tensors[i].data, (size_t)nbytes[i]);
    return occam_outfile_commit(&o, err);
}

/* Argument checks that depend on caller data rather than on programming errors. */
static int check_names(const char *path, const occam_st_tensor *tensors, int ntensors,
                       const occam_st_meta *meta, int nmeta, occam_error *err)
{
    for (int i = 0; i < ntensors; i++) {
        if (strcmp(tensors[i].name, "__metadata__") == 0)
            return occam_error_set(err, OCCAM_ERR_INPUT,
                                   "%s: a tensor cannot be named \"__metadata__\"", path);
        for (int k = 0; k < i; k++)
            if (strcmp(tensors[i].name, tensors[k].name) == 0)
                return occam_error_set(err, OCCAM_ERR_INPUT, "%s: duplicate tensor name '%s'",
                                       path, tensors[i].name);
    }
    for (int i = 0; i < nmeta; i++) {
        if (strcmp(meta[i].key, OCCAM_ST_CHECKSUM_KEY) == 0)
            return occam_error_set(err, OCCAM_ERR_INPUT,
                                   "%s: metadata key '%s' is reserved (the writer adds it)", path,
                                   OCCAM_ST_CHECKSUM_KEY);
        for (int k = 0; k < i; k++)
            if (strcmp(meta[i].key, meta[k].key) == 0)
                return occam_error_set(err, OCCAM_ERR_INPUT, "%s: duplicate metadata key '%s'",
                                       path, meta[i].key);
    }
    return OCCAM_OK;
}

int occam_st_write(const char *path, const occam_st_tensor *tensors, int ntensors,
                   const occam_st_meta *meta, int nmeta, occam_error *err)
{
    OCCAM_ASSERT(path && ntensors >= 0 && nmeta >= 0);
    OCCAM_ASSERT((ntensors == 0 || tensors) && (nmeta == 0 || meta));
    for (int i = 0; i < ntensors; i++) {
        const occam_st_tensor *t = &tensors[i];
        OCCAM_ASSERT(t->name && (unsigned)t->dtype < OCCAM_ST_NDTYPES);
        OCCAM_ASSERT(t->ndim >= 0 && t->ndim <= OCCAM_ST_MAX_DIM);
        for (int d = 0; d < t->ndim; d++) OCCAM_ASSERT(t->shape[d] >= 0);
    }
    for (int i = 0; i < nmeta; i++) OCCAM_ASSERT(meta[i].key && meta[i].value);
    int rc = check_names(path, tensors, ntensors, meta, nmeta, err);
    if (rc) return rc;

    uint64_t *nbytes = malloc((size_t)(ntensors ? ntensors : 1) * sizeof *nbytes);
    if (!nbytes) return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: out of memory", path);
    for (int i = 0; i < ntensors; i++) {
        const occam_st_tensor *t = &tensors[i];
        /* The bytes exist in memory, so their count cannot overflow. */
        OCCAM_ASSERT(shape_bytes(t->shape, t->ndim, occam_st_dtype_size(t->dtype), &nbytes[i]));
        OCCAM_ASSERT(t->data || nbytes[i] == 0);
    }

    /* The header first, with the checksum's digits as 00000000; they are filled in once the
     * CRC over the length field, the header and the data is known. */
    size_t hlen = 0;
    char *header = build_header(tensors, ntensors, nbytes, meta, nmeta, 0, &hlen);
    if (!header) {
        free(nbytes);
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: out of memory", path);
    }
    long digits = checksum_digits(header, hlen);
    OCCAM_ASSERT(digits >= 0 && (size_t)digits + 8 <= hlen);
    uint32_t crc = file_crc(header, hlen, (size_t)digits);
    for (int i = 0; i < ntensors; i++)
        if (nbytes[i]) crc = occam_st_crc32(crc, tensors[i].data, (size_t)nbytes[i]);
    char hex[9];
    snprintf(hex, sizeof hex, "%08" PRIx32, crc);
    memcpy(header + digits, hex, 8);
    rc = write_file(path, header, hlen, tensors, ntensors, nbytes, err);
    free(header);
    free(nbytes);
    return rc;
}

/* ---- reader ---------------------------------------------------------------------------- */

static int read_exact(FILE *fp, void *buf, size_t n, const char *path, occam_error *err)
{
    if (n == 0 || fread(buf, 1, n, fp) == n) return OCCAM_OK;
    if (ferror(fp))
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: read failed: %s", path,
                               strerror(errno));
    return occam_error_set(err, OCCAM_ERR_INPUT, "%s: truncated: the file shrank while reading",
                           path);
}

/* Opens path and reads the length field and the header text (into *header), leaving *fp at the
 * data area, whose size goes to f->data_size. The data area is read only once the header has
 * been checked (load_data): a file that is no checkpoint of occam's, or whose header does not
 * describe its size, is refused for the cost of its header, not of its size. */
static int load_header(occam_st_file *f, FILE **fpp, char **header, size_t *hlen_out,
                       occam_error *err)
{
    const char *path = f->path;
    FILE *fp = occam_fsutil_open_read(path);
    if (!fp) return occam_error_open(err, path, errno);
    int rc = OCCAM_OK;
    struct stat st;
    if (fstat(fileno(fp), &st) != 0) {
        rc = occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: cannot stat: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = occam_error_set(err, OCCAM_ERR_INPUT, "%s: not a regular file", path);
        goto out;
    }
    uint64_t size = (uint64_t)st.st_size;
    if (size == 0) {
        rc = occam_error_set(err, OCCAM_ERR_INPUT, "%s: empty file, expected safetensors", path);
        goto out;
    }
    if (size < 8) {
        rc = occam_error_set(err, OCCAM_ERR_INPUT,
                             "%s: truncated: %" PRIu64 " bytes, too short for the 8-byte header "
                             "length", path, size);
        goto out;
    }
    unsigned char len8[8];
    if ((rc = read_exact(fp, len8, 8, path, err))) goto out;
    uint64_t hlen = get_le64(len8);
    if (hlen > size - 8) {
        rc = occam_error_set(err, OCCAM_ERR_INPUT,
                             "%s: truncated, or not a safetensors file: header says %" PRIu64
                             " bytes, file has %" PRIu64 " after the length field", path, hlen,
                             size - 8);
        goto out;
    }
    if (hlen > OCCAM_ST_MAX_HEADER) {
        rc = occam_error_set(err, OCCAM_ERR_INPUT,
                             "%s: header length %" PRIu64 " is over the %u-byte limit", path, hlen,
                             OCCAM_ST_MAX_HEADER);
        goto out;
    }
    if (size > SIZE_MAX) {
        rc = occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: file too large for memory", path);
        goto out;
    }
    *header = malloc(hlen ? (size_t)hlen : 1);
    if (!*header) {
        rc = occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: out of memory (%" PRIu64 " bytes)",
                             path, hlen);
        goto out;
    }
    f->data_size = (size_t)(size - 8 - hlen);
    *hlen_out = (size_t)hlen;
    rc = read_exact(fp, *header, (size_t)hlen, path, err);
out:
    if (rc == OCCAM_OK) *fpp = fp;
    else fclose(fp);
    return rc;
}

/* Reads the data area (f->data_size bytes, at fp) into f->data, and closes fp. */
static int load_data(occam_st_file *f, FILE *fp, occam_error *err)
{
    int rc = OCCAM_OK;
    f->data = occam_alloc(f->data_size, 1);
    if (!f->data)
        rc = occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: out of memory (%zu bytes)", f->path,
                             f->data_size);
    else
        rc = read_exact(fp, f->data, f->data_size, f->path, err);
    fclose(fp);
    return rc;
}

/* A non-negative integer member of an array, as JSON gives it. */
static bool get_count(const occam_json_value *v, uint64_t *out)
{
    if (v->type != OCCAM_JSON_NUMBER || !v->is_integer || v->integer < 0) return false;
    *out = (uint64_t)v->integer;
    return true;
}

/* Fills view from one header entry {"dtype", "shape", "data_offsets"}; *start receives the
 * offset of its first byte. */
static int parse_entry(occam_st_file *f, const char *name, const occam_json_value *e,
                       occam_st_tensor_view *view, uint64_t *start, occam_error *err)
{
    const char *path = f->path;
    if (e->type != OCCAM_JSON_OBJECT)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: tensor '%s': entry is not an object",
                               path, name);
    for (size_t i = 0; i < e->count; i++) {
        const char *k = e->members[i].key;
        if (strcmp(k, "dtype") && strcmp(k, "shape") && strcmp(k, "data_offsets"))
            return occam_error_set(err, OCCAM_ERR_INPUT, "%s: tensor '%s': unknown field '%s'",
                                   path, name, k);
    }
    const occam_json_value *dtype = occam_json_get(e, "dtype");
    const occam_json_value *shape = occam_json_get(e, "shape");
    const occam_json_value *offs = occam_json_get(e, "data_offsets");
    const char *missing = !dtype ? "dtype" : !shape ? "shape" : !offs ? "data_offsets" : NULL;
    if (missing)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: tensor '%s': missing '%s'", path, name,
                               missing);

    if (dtype->type != OCCAM_JSON_STRING)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: tensor '%s': dtype is not a string",
                               path, name);
    int dt = -1;
    for (int d = 0; d < OCCAM_ST_NDTYPES; d++)
        if (strcmp(dtype->str, dtypes[d].name) == 0 && strlen(dtype->str) == dtype->len) dt = d;
    if (dt < 0) {
        char shown[64];
        if (occam_json_escape(shown, sizeof shown, dtype->str) < 0) strcpy(shown, "...");
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "%s: tensor '%s': unknown dtype '%s' (occam reads F32, F64, I32, "
                               "U8, U32, I64, U64)", path, name, shown);
    }

    if (shape->type != OCCAM_JSON_ARRAY)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: tensor '%s': shape is not an array",
                               path, name);
    if (shape->count > OCCAM_ST_MAX_DIM)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "%s: tensor '%s': shape has %zu dimensions, at most %d supported",
                               path, name, shape->count, OCCAM_ST_MAX_DIM);
    view->name = name;
    view->dtype = (occam_st_dtype)dt;
    view->ndim = (int)shape->count;
    for (size_t d = 0; d < shape->count; d++) {
        uint64_t dim;
        if (!get_count(&shape->items[d], &dim))
            return occam_error_set(err, OCCAM_ERR_INPUT,
                                   "%s: tensor '%s': shape must be a list of non-negative "
                                   "integers", path, name);
        view->shape[d] = (int64_t)dim;
    }

    uint64_t s, e_end;
    if (offs->type != OCCAM_JSON_ARRAY || offs->count != 2 || !get_count(&offs->items[0], &s) ||
        !get_count(&offs->items[1], &e_end))
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "%s: tensor '%s': data_offsets must be [start, end], two "
                               "non-negative integers", path, name);
    char dims[128];
    format_shape(dims, sizeof dims, view->shape, view->ndim);
    if (e_end < s)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "%s: tensor '%s': data_offsets [%" PRIu64 ",%" PRIu64 "] end "
                               "before they start", path, name, s, e_end);
    uint64_t need;
    if (!shape_bytes(view->shape, view->ndim, occam_st_dtype_size(dt), &need))
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: tensor '%s': shape %s is too large",
                               path, name, dims);
    if (need != e_end - s)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "%s: tensor '%s': shape %s needs %" PRIu64 " bytes, offsets give "
                               "%" PRIu64, path, name, dims, need, e_end - s);
    if (e_end > f->data_size)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "%s: tensor '%s': data_offsets [%" PRIu64 ",%" PRIu64 "] go past "
                               "the end of the data (%zu bytes)", path, name, s, e_end,
                               f->data_size);
    view->data = NULL; /* placed once the data area is read (place_tensors) */
    view->nbytes = (size_t)need;
    *start = s;
    return OCCAM_OK;
}

static int parse_metadata(occam_st_file *f, const occam_json_value *m, occam_error *err)
{
    if (m->type != OCCAM_JSON_OBJECT)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: __metadata__ is not an object", f->path);
    for (size_t i = 0; i < m->count; i++) {
        const occam_json_member *kv = &m->members[i];
        if (strlen(kv->key) != kv->key_len)
            return occam_error_set(err, OCCAM_ERR_INPUT, "%s: metadata key contains a NUL",
                                   f->path);
        if (kv->value.type != OCCAM_JSON_STRING)
            return occam_error_set(err, OCCAM_ERR_INPUT,
                                   "%s: metadata '%s' is not a string", f->path, kv->key);
        if (strlen(kv->value.str) != kv->value.len)
            return occam_error_set(err, OCCAM_ERR_INPUT, "%s: metadata '%s' contains a NUL",
                                   f->path, kv->key);
        f->meta[f->nmeta++] = (occam_st_meta){ kv->key, kv->value.str };
    }
    return OCCAM_OK;
}

typedef struct span {
    uint64_t start, end;
    int index;
} span;

static int span_cmp(const void *a, const void *b)
{
    const span *x = a, *y = b;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

/* The spans, sorted by offset, must cover [0, data_size) exactly once. */
static int check_tiling(const occam_st_file *f, span *spans, occam_error *err)
{
    qsort(spans, (size_t)f->ntensors, sizeof *spans, span_cmp);
    uint64_t at = 0;
    for (int i = 0; i < f->ntensors; i++) {
        const span *s = &spans[i];
        const char *name = f->tensors[s->index].name;
        if (s->start < at) {
            const span *p = &spans[i - 1];
            return occam_error_set(err, OCCAM_ERR_INPUT,
                                   "%s: tensor '%s' (offsets [%" PRIu64 ",%" PRIu64 "]) overlaps "
                                   "tensor '%s' (offsets [%" PRIu64 ",%" PRIu64 "])", f->path,
                                   name, s->start, s->end, f->tensors[p->index].name, p->start,
                                   p->end);
        }
        if (s->start > at)
            return occam_error_set(err, OCCAM_ERR_INPUT,
                                   "%s: gap of %" PRIu64 " unused bytes before tensor '%s' "
                                   "(offsets [%" PRIu64 ",%" PRIu64 "])", f->path, s->start - at,
                                   name, s->start, s->end);
        at = s->end;
    }
    if (at != f->data_size)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "%s: data area has %zu bytes but the tensors cover %" PRIu64
                               " (trailing garbage or truncated file)", f->path, f->data_size, at);
    return OCCAM_OK;
}

/* Points every tensor into the data area just read. An empty tensor points at the aligned
 * base, so even its pointer is aligned. */
static void place_tensors(occam_st_file *f, const span *spans)
{
    for (int i = 0; i < f->ntensors; i++) {
        occam_st_tensor_view *t = &f->tensors[spans[i].index];
        t->data = t->nbytes ? f->data + spans[i].start : f->data;
    }
}

/* The checksum's digits in the raw header text, into *expect, and their offset, into *at. The
 * parse before it has only checked structure (a damaged structure is reported as what it is);
 * nothing in the header is used before check_checksum passes. */
static int read_checksum(const occam_st_file *f, const char *header, size_t hlen,
                         uint32_t *expect, size_t *at, occam_error *err)
{
    long d = checksum_digits(header, hlen);
    /* Without the key nothing vouches for the data: a missing key, or a key whose name lost a
     * bit, must not switch the check off. */
    if (d == -2)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: %s appears twice in the header",
                               f->path, OCCAM_ST_CHECKSUM_KEY);
    if (d < 0)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "%s: no %s in the metadata, so the data cannot be verified (not "
                               "a file occam wrote, or its header is damaged)", f->path,
                               OCCAM_ST_CHECKSUM_KEY);
    *expect = 0;
    bool ok = (size_t)d + 9 <= hlen && header[d + 8] == '"';
    for (int i = 0; ok && i < 8; i++) {
        char c = header[d + i];
        /* Lowercase only, as written: an uppercase digit would be one flipped bit that the
         * sum cannot see. */
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        ok = v >= 0;
        *expect = *expect << 4 | (uint32_t)(ok ? v : 0);
    }
    if (!ok)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "%s: metadata %s is not 8 lowercase hex digits", f->path,
                               OCCAM_ST_CHECKSUM_KEY);
    *at = (size_t)d;
    return OCCAM_OK;
}

/* The whole-file CRC, once the data area is read, against the digits read_checksum found. */
static int check_checksum(const occam_st_file *f, const char *header, size_t hlen,
                          uint32_t expect, size_t at, occam_error *err)
{
    uint32_t got = occam_st_crc32(file_crc(header, hlen, at), f->data, f->data_size);
    if (got == expect) return OCCAM_OK;
    /* Before the header was covered the CRC was of the data alone: say so, not "corrupted". */
    if (occam_st_crc32((uint32_t)crc32(0L, Z_NULL, 0), f->data, f->data_size) == expect)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "%s: its checksum covers the tensors only (written by an occam "
                               "before the header was checksummed); this occam requires the "
                               "whole-file checksum, so it cannot vouch for the header", f->path);
    return occam_error_set(err, OCCAM_ERR_INPUT,
                           "%s: checksum mismatch: the header says %08" PRIx32 ", the file "
                           "gives %08" PRIx32 " (file corrupted)", f->path, expect, got);
}

/* Gives every misaligned tensor its own aligned copy. */
static int realign(occam_st_file *f, occam_error *err)
{
    for (int i = 0; i < f->ntensors; i++) {
        occam_st_tensor_view *t = &f->tensors[i];
        if (t->nbytes == 0 || (uintptr_t)t->data % occam_st_dtype_size(t->dtype) == 0) continue;
        if (!f->copies) {
            f->copies = calloc((size_t)f->ntensors, sizeof *f->copies);
            if (!f->copies) return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: out of memory", f->path);
        }
        void *copy = occam_alloc(t->nbytes, 1);
        if (!copy) return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: out of memory", f->path);
        memcpy(copy, t->data, t->nbytes);
        f->copies[f->ncopies++] = copy;
        t->data = copy;
    }
    return OCCAM_OK;
}

/* Parses the header into f; the tensors' spans go to *spans (sorted by offset; the caller frees
 * them, also on failure), for place_tensors. */
static int parse_header(occam_st_file *f, const char *text, size_t len, span **spans_out,
                        occam_error *err)
{
    occam_error jerr = { 0 };
    int rc = occam_json_parse_limited(&f->header, text, len, OCCAM_ST_MAX_VALUES, &jerr);
    if (rc)
        return occam_error_set(err, rc, "%s: header is not valid JSON: %s", f->path, jerr.msg);
    const occam_json_value *h = &f->header;
    if (h->type != OCCAM_JSON_OBJECT)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: header is not a JSON object", f->path);
    if (h->count > INT32_MAX)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: too many tensors", f->path);
    const occam_json_value *m = occam_json_get(h, "__metadata__");
    size_t ntensors = h->count - (m != NULL), nmeta = m && m->type == OCCAM_JSON_OBJECT ? m->count : 0;
    f->tensors = calloc(ntensors ? ntensors : 1, sizeof *f->tensors);
    f->meta = calloc(nmeta ? nmeta : 1, sizeof *f->meta);
    span *spans = *spans_out = calloc(ntensors ? ntensors : 1, sizeof *spans);
    if (!f->tensors || !f->meta || !spans)
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: out of memory", f->path);
    if (m) rc = parse_metadata(f, m, err);
    for (size_t i = 0; i < h->count && rc == OCCAM_OK; i++) {
        const occam_json_member *kv = &h->members[i];
        if (&kv->value == m) continue;
        if (strlen(kv->key) != kv->key_len) {
            rc = occam_error_set(err, OCCAM_ERR_INPUT, "%s: tensor name contains a NUL", f->path);
            break;
        }
        int t = f->ntensors++;
        rc = parse_entry(f, kv->key, &kv->value, &f->tensors[t], &spans[t].start, err);
        spans[t].end = spans[t].start + f->tensors[t].nbytes;
        spans[t].index = t;
    }
    if (rc == OCCAM_OK) rc = check_tiling(f, spans, err);
    return rc;
}

int occam_st_open(occam_st_file *f, const char *path, occam_error *err)
{
    memset(f, 0, sizeof *f);
    f->path = strdup(path);
    if (!f->path) return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: out of memory", path);
    char *header = NULL;
    size_t hlen = 0, at = 0;
    uint32_t expect = 0;
    FILE *fp = NULL;
    span *spans = NULL;
    int rc = load_header(f, &fp, &header, &hlen, err);
    if (rc == OCCAM_OK) rc = parse_header(f, header, hlen, &spans, err);
    if (rc == OCCAM_OK) rc = read_checksum(f, header, hlen, &expect, &at, err);
    if (rc == OCCAM_OK) rc = load_data(f, fp, err); /* closes fp */
    else if (fp) fclose(fp);
    if (rc == OCCAM_OK) place_tensors(f, spans);
    if (rc == OCCAM_OK) rc = check_checksum(f, header, hlen, expect, at, err);
    free(spans);
    free(header);
    if (rc == OCCAM_OK) rc = realign(f, err);
    if (rc != OCCAM_OK) occam_st_close(f);
    return rc;
}

void occam_st_close(occam_st_file *f)
{
    if (!f) return;
    for (int i = 0; i < f->ncopies; i++) free(f->copies[i]);
    free(f->copies);
    free(f->tensors);
    free(f->meta);
    free(f->data);
    free(f->path);
    occam_json_free(&f->header);
    memset(f, 0, sizeof *f);
}

const occam_st_tensor_view *occam_st_find(const occam_st_file *f, const char *name)
{
    for (int i = 0; i < f->ntensors; i++)
        if (strcmp(f->tensors[i].name, name) == 0) return &f->tensors[i];
    return NULL;
}

const char *occam_st_meta_get(const occam_st_file *f, const char *key)
{
    for (int i = 0; i < f->nmeta; i++)
        if (strcmp(f->meta[i].key, key) == 0) return f->meta[i].value;
    return NULL;
}

bool occam_st_peek_meta(const char *path, const char *key, char *out, size_t cap)
{
    FILE *fp = occam_fsutil_open_read(path); /* never waits on a FIFO */
    if (!fp) return false;
    struct stat st;
    unsigned char len8[8];
    bool ok = fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode) &&
              fread(len8, 1, 8, fp) == 8;
    uint64_t hlen = ok ? get_le64(len8) : 0;
    ok = ok && hlen > 0 && hlen <= OCCAM_ST_PEEK_MAX && hlen <= (uint64_t)st.st_size - 8;
    char *h = ok ? malloc((size_t)hlen) : NULL;
    ok = h && fread(h, 1, (size_t)hlen, fp) == (size_t)hlen;
    fclose(fp);
    occam_json_value root = {0};
    occam_error ignored;
    ok = ok && occam_json_parse_limited(&root, h, (size_t)hlen, OCCAM_ST_MAX_VALUES, &ignored) ==
                   OCCAM_OK;
    const occam_json_value *m = ok ? occam_json_get(&root, "__metadata__") : NULL;
    const occam_json_value *v = m ? occam_json_get(m, key) : NULL;
    ok = v && v->type == OCCAM_JSON_STRING && strlen(v->str) < cap;
    if (ok) strcpy(out, v->str);
    occam_json_free(&root);
    free(h);
    return ok;
}

int occam_st_expect(const occam_st_file *f, const char *name, occam_st_dtype dtype, int ndim,
                    const int64_t *shape, const void **data, occam_error *err)
{
    OCCAM_ASSERT(ndim >= 0 && ndim <= OCCAM_ST_MAX_DIM);
    const occam_st_tensor_view *t = occam_st_find(f, name);
    if (!t) return occam_error_set(err, OCCAM_ERR_INPUT, "%s: tensor '%s' is missing", f->path, name);
    if (t->dtype != dtype)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: tensor '%s' has dtype %s, the config "
                               "needs %s", f->path, name, dtypes[t->dtype].name,
                               dtypes[dtype].name);
    bool same = t->ndim == ndim;
    for (int d = 0; same && d < ndim; d++) same = t->shape[d] == shape[d];
    if (!same) {
        char have[128], want[128];
        format_shape(have, sizeof have, t->shape, t->ndim);
        format_shape(want, sizeof want, shape, ndim);
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: tensor '%s' has shape %s, the config "
                               "needs %s", f->path, name, have, want);
    }
    *data = t->data;
    return OCCAM_OK;
}

int occam_st_check_finite(const occam_st_file *f, const occam_st_tensor_view *t,
                          occam_error *err)
{
    size_t n = t->nbytes / occam_st_dtype_size(t->dtype);
    for (size_t i = 0; i < n; i++) {
        double v = t->dtype == OCCAM_ST_F32 ? (double)((const float *)t->data)[i]
                   : t->dtype == OCCAM_ST_F64 ? ((const double *)t->data)[i]
                                              : 0.0;
        if (!isfinite(v))
            return occam_error_set(err, OCCAM_ERR_INPUT, "%s: tensor '%s' has a non-finite "
                                   "value (%s) at index %zu", f->path, t->name,
                                   isnan(v) ? "nan" : v > 0 ? "inf" : "-inf", i);
    }
    return OCCAM_OK;
}

int occam_st_check_mask(const occam_st_file *f, const occam_st_tensor_view *t, occam_error *err)
{
    const uint8_t *b = t->data;
    for (size_t i = 0; t->dtype == OCCAM_ST_U8 && i < t->nbytes; i++)
        if (b[i] > 1)
            return occam_error_set(err, OCCAM_ERR_INPUT, "%s: tensor '%s' has %u at index %zu: a "
                                   "mask holds only 0 and 1 (file damaged)", f->path, t->name,
                                   (unsigned)b[i], i);
    return OCCAM_OK;
}

int occam_st_expect_f32(const occam_st_file *f, const char *name, int ndim,
                        const int64_t *shape, const float **data, occam_error *err)
{
    const void *d = NULL;
    int rc = occam_st_expect(f, name, OCCAM_ST_F32, ndim, shape, &d, err);
    if (rc == OCCAM_OK) *data = d;
    return rc;
}
