/* occam/safetensors.h — checkpoints in the safetensors format, written atomically and read
 * with full validation.
 *
 * Layout: an 8-byte little-endian u64 header length N, then N bytes of JSON header (padded
 * with spaces to a multiple of 8), then the raw little-endian tensor bytes. The header maps
 * each tensor name to {"dtype", "shape", "data_offsets": [start, end]}, with offsets relative
 * to the first byte after the header. Tensors are contiguous, with no gaps or overlaps. An
 * optional "__metadata__" object maps strings to strings. Any reader of the format, numpy and
 * json included, can open the files occam writes.
 *
 * The writer adds "occam.checksum" to the metadata: the CRC-32 (zlib) of the whole file, as 8
 * lowercase hex digits, computed with those 8 digits read as "00000000" (the length field, the
 * header and every tensor byte are covered). The reader checks it before it parses the header,
 * so it catches silent corruption anywhere, not just bad structure. The reader requires it: a file without it is refused, so occam
 * reads only files it wrote (or that carry the checksum the same way). The write is atomic
 * (occam/outfile.h): it writes and fsyncs PATH.tmp.<pid> (PATH with its symlinks resolved),
 * renames that over PATH, then fsyncs the directory. A crash or a full disk therefore leaves
 * either the old file or the new one, never a torn one. A character device or FIFO is written
 * in place, never replaced.
 *
 * The reader loads the whole file into memory. The data area is 64-byte aligned. A tensor whose
 * offset is not a multiple of its element size, such as an F32 after an odd-sized U8, is copied
 * to its own aligned buffer, so every view's data pointer is safe to dereference as its dtype.
 *
 * Errors: every malformed file is OCCAM_ERR_INPUT, with a message "PATH: what is wrong". Out of
 * memory, and read or write failures of the system, are OCCAM_ERR_RUNTIME. */
#ifndef OCCAM_SAFETENSORS_H
#define OCCAM_SAFETENSORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "occam/error.h"
#include "occam/json.h"

#define OCCAM_ST_MAX_DIM 4
#define OCCAM_ST_MAX_HEADER 100000000u /* bytes, as in the reference implementation */
/* JSON values in a header: a tensor's entry is at most 10 (its object, dtype, a shape of up to
 * 4 and two offsets), a metadata pair 1. A million holds 100,000 tensors and bounds the parsed
 * header to about 64 MB; a 100 MB header of "[0,0,0,..." would otherwise parse to 3.2 GB. */
#define OCCAM_ST_MAX_VALUES 1000000u
#define OCCAM_ST_CHECKSUM_KEY "occam.checksum"

typedef enum {
    OCCAM_ST_F32,
    OCCAM_ST_F64,
    OCCAM_ST_I32,
    OCCAM_ST_U8,
    OCCAM_ST_U32,
    OCCAM_ST_I64,
    OCCAM_ST_U64,
} occam_st_dtype;
#define OCCAM_ST_NDTYPES 7

/* A tensor to write. shape[0..ndim) are the dimensions (ndim 0 is a scalar, one element);
 * data holds prod(shape) elements, little-endian, and may be NULL when that product is 0. */
typedef struct occam_st_tensor {
    const char *name;
    occam_st_dtype dtype;
    int ndim;
    int64_t shape[OCCAM_ST_MAX_DIM];
    const void *data;
} occam_st_tensor;

typedef struct occam_st_meta {
    const char *key;
    const char *value;
} occam_st_meta;

/* A tensor of an open file. data is aligned for dtype and valid until occam_st_close. */
typedef struct occam_st_tensor_view {
    const char *name;
    occam_st_dtype dtype;
    int ndim;
    int64_t shape[OCCAM_ST_MAX_DIM];
    const void *data;
    size_t nbytes;
} occam_st_tensor_view;

/* An open file. The fields are read-only for callers; iterate tensors[0..ntensors) (header
 * order) and meta[0..nmeta), or use the lookups below. */
typedef struct occam_st_file {
    char *path;
    occam_st_tensor_view *tensors;
    int ntensors;
    occam_st_meta *meta;
    int nmeta;
    unsigned char *data; /* the data area, 64-byte aligned */
    size_t data_size;
    occam_json_value header; /* owns the name, key and value strings */
    void **copies;           /* realigned copies of misaligned tensors */
    int ncopies;
} occam_st_file;

/* The element size of a dtype in bytes. */
size_t occam_st_dtype_size(occam_st_dtype dtype);

/* Writes ntensors tensors, in order, and the metadata pairs, plus "occam.checksum", to path,
 * atomically (see above). On success returns OCCAM_OK. OCCAM_ERR_INPUT means the arguments are
 * unusable: a duplicate tensor name or metadata key, a tensor named "__metadata__", or a caller
 * key "occam.checksum". OCCAM_ERR_RUNTIME means a system call failed, with the message
 * "PATH: write failed: <strerror>". On any failure the temporary file is removed, and an
 * existing file at path is untouched. Malformed tensor descriptions (bad dtype, ndim outside
 * 0..4, negative dimensions, NULL data for a non-empty tensor) are programmer bugs and hit
 * OCCAM_ASSERT. Names, keys and values should be UTF-8; invalid bytes are stored as U+FFFD. */
int occam_st_write(const char *path, const occam_st_tensor *tensors, int ntensors,
                   const occam_st_meta *meta, int nmeta, occam_error *err);

/* Reads and validates path into f. On failure returns the status, fills err, and leaves f zeroed.
 * Validation covers:
 * - the file's size;
 * - the header length: at most the bytes after it, and at most OCCAM_ST_MAX_HEADER;
 * - strict JSON with an object at the top, of at most OCCAM_ST_MAX_VALUES values;
 * - each entry: a known dtype, a shape of at most 4 non-negative integers, and offsets whose
 *   span equals prod(shape) times the element size;
 * - the offsets: they tile the data area exactly, with no gaps or overlaps;
 * - the metadata: string to string only;
 * - "occam.checksum": present, 8 hex digits, and matching the data.
 * The header itself (names, shapes, other metadata) is not covered by the checksum; damage to
 * it shows as bad structure, or as a tensor or key the caller then misses. */
int occam_st_open(occam_st_file *f, const char *path, occam_error *err);

/* The whole-file checksum of the n bytes of a safetensors file in memory, as the writer
 * computes it (for tests and the fuzz harness's fix-up). Returns the offset of the checksum's
 * 8 hex digits in the file, or -1 if there are none (then *crc is unset). */
int occam_st_checksum(const void *file, size_t n, uint32_t *crc);
/* Frees everything f holds and zeroes it. A zeroed, already closed or failed-open f is fine. */
void occam_st_close(occam_st_file *f);

/* The tensor called name, or NULL. */
const occam_st_tensor_view *occam_st_find(const occam_st_file *f, const char *name);
/* The metadata value for key, or NULL. */
const char *occam_st_meta_get(const occam_st_file *f, const char *key);

/* The metadata value `key` of the safetensors file at path, read from its header alone and
 * unchecked (no checksum, no tensors: for telling files apart, not for trusting them): true
 * and out filled when the file is a regular file with a header of at most OCCAM_ST_PEEK_MAX
 * bytes holding the key as a string shorter than cap; false otherwise. Never waits on a FIFO. */
#define OCCAM_ST_PEEK_MAX (16u << 20)
bool occam_st_peek_meta(const char *path, const char *key, char *out, size_t cap);

/* zlib's CRC-32 of n bytes at data, continuing crc (0 to start), for any n. */
uint32_t occam_st_crc32(uint32_t crc, const void *data, size_t n);
/* zlib's Adler-32 of n bytes at data, for any n. */
uint32_t occam_st_adler32(const void *data, size_t n);

/* Checks that tensor name exists, has dtype `dtype` and exactly shape[0..ndim); then sets *data
 * to its elements (NULL for an empty tensor) and returns OCCAM_OK. Otherwise returns
 * OCCAM_ERR_INPUT with a message such as "PATH: tensor 'x' is missing", "PATH: tensor 'x' has
 * dtype U8, the config needs F32" or "PATH: tensor 'x' has shape [3,4], the config needs
 * [3,5]". */
int occam_st_expect(const occam_st_file *f, const char *name, occam_st_dtype dtype, int ndim,
                    const int64_t *shape, const void **data, occam_error *err);
/* occam_st_expect for an F32 tensor. */
int occam_st_expect_f32(const occam_st_file *f, const char *name, int ndim,
                        const int64_t *shape, const float **data, occam_error *err);

/* Checks that every element of tensor t of f (an F32 or F64 one; other dtypes pass) is finite.
 * Otherwise OCCAM_ERR_INPUT with "PATH: tensor 'x' has a non-finite value (nan) at index 17". */
int occam_st_check_finite(const occam_st_file *f, const occam_st_tensor_view *t,
                          occam_error *err);

/* Checks that every byte of mask tensor t of f (a U8 one; other dtypes pass) is 0 or 1: the
 * codes count kept weights by adding the bytes (a 255 asserted k <= n) and the trainer
 * multiplies by them. Otherwise OCCAM_ERR_INPUT with "PATH: tensor 'x' has 255 at index 5: a
 * mask holds only 0 and 1 (file damaged)". */
int occam_st_check_mask(const occam_st_file *f, const occam_st_tensor_view *t, occam_error *err);

#endif
