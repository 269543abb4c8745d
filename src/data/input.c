/* Reading a data file once, raw or inflated with zlib (see input.h), and `occam predict`'s features-only
 * loader, which tells IDX from CSV by the first bytes of the one stream it reads. */
#include "input.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "occam/mem.h"

#define INPUT_BUFFER (128u * 1024u) /* bytes read from the file at a time */

enum { INPUT_UNKNOWN, INPUT_RAW, INPUT_GZIP };
enum {
    INPUT_FAULT_NONE,
    INPUT_FAULT_READ,     /* read(2) failed: fault_errno */
    INPUT_FAULT_MEMORY,   /* zlib ran out of memory */
    INPUT_FAULT_CORRUPT,  /* inflate refused the data: fault_msg */
    INPUT_FAULT_CUT,      /* the file ended inside a gzip member */
    INPUT_FAULT_TRAILING, /* a gzip member ended and what follows is not another */
};

int data_input_open(data_input *in, const char *path, occam_error *err)
{
    *in = (data_input){.path = path, .fd = -1};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        int e = errno;
        if (fd >= 0) close(fd);
        return occam_error_open(err, path, e);
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: cannot open: %s", path,
                               strerror(EISDIR));
    }
    in->buf = malloc(INPUT_BUFFER);
    if (!in->buf) {
        close(fd);
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: out of memory", path);
    }
    in->fd = fd;
    in->regular = S_ISREG(st.st_mode);
    in->size = in->regular ? (uint64_t)st.st_size : 0;
    in->z.next_in = in->buf;
    return OCCAM_OK;
}

void data_input_close(data_input *in)
{
    if (in->inflating) inflateEnd(&in->z);
    if (in->fd >= 0) close(in->fd);
    free(in->buf);
    in->inflating = false;
    in->fd = -1;
    in->buf = NULL;
}

int data_input_error(const data_input *in, occam_error *err)
{
    char where[32] = "";
    if (in->line) snprintf(where, sizeof where, ":%zu", in->line);
    switch (in->fault) {
    case INPUT_FAULT_READ:
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s%s: read error: %s", in->path, where,
                               strerror(in->fault_errno));
    case INPUT_FAULT_MEMORY:
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s%s: out of memory while inflating",
                               in->path, where);
    case INPUT_FAULT_TRAILING: {
        char more[48] = "more bytes";
        if (in->regular && in->size > in->fault_at)
            snprintf(more, sizeof more, "%llu more byte%s",
                     (unsigned long long)(in->size - in->fault_at),
                     in->size - in->fault_at == 1 ? "" : "s");
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: corrupt gzip stream: the gzip data "
                               "ends after %llu bytes, and %s follow that are not gzip (a file "
                               "appended raw to a gzipped one?)", in->path,
                               (unsigned long long)in->fault_at, more);
    }
    default:
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s%s: corrupt gzip stream: %s", in->path,
                               where, in->fault == INPUT_FAULT_CUT ? "unexpected end of file"
                                                                   : in->fault_msg);
    }
}

/* Moves the unused input to the buffer's start and reads the file after it until the buffer
 * is full or the file ends. false on a read error (in->fault set). */
static bool input_fill(data_input *in)
{
    z_stream *z = &in->z;
    if (z->avail_in && z->next_in != in->buf) memmove(in->buf, z->next_in, z->avail_in);
    z->next_in = in->buf;
    while (z->avail_in < INPUT_BUFFER && !in->eof) {
        ssize_t r = read(in->fd, in->buf + z->avail_in, INPUT_BUFFER - z->avail_in);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            in->fault = INPUT_FAULT_READ;
            in->fault_errno = errno;
            return false;
        }
        in->eof = r == 0;
        z->avail_in += (uInt)r;
        in->read += (uint64_t)r;
    }
    return true;
}

static bool input_gzip_magic(const data_input *in)
{
    return in->z.avail_in >= 2 && in->z.next_in[0] == 0x1f && in->z.next_in[1] == 0x8b;
}

/* The first bytes tell a gzip file from a raw one (as zlib's gz* reader told them). */
static void input_start(data_input *in)
{
    if (!input_fill(in)) return;
    in->kind = input_gzip_magic(in) ? INPUT_GZIP : INPUT_RAW;
    if (in->kind == INPUT_RAW) return;
    int rc = inflateInit2(&in->z, 16 + MAX_WBITS); /* a gzip wrapper, checked */
    in->inflating = rc == Z_OK;
    if (rc != Z_OK) in->fault = INPUT_FAULT_MEMORY; /* its one failure with these arguments */
}

/* After a gzip member: the file's end, another member, or bytes that are neither. */
static void input_member_end(data_input *in)
{
    if (in->z.avail_in < 2 && !in->eof && !input_fill(in)) return;
    if (in->z.avail_in == 0) {
        in->ended = true;
    } else if (input_gzip_magic(in)) {
        inflateReset(&in->z);
    } else {
        in->fault = INPUT_FAULT_TRAILING;
        in->fault_at = in->read - in->z.avail_in;
    }
}

/* Inflates into p[0..len): the bytes made. */
static size_t input_inflate(data_input *in, unsigned char *p, size_t len)
{
    z_stream *z = &in->z;
    if (z->avail_in == 0 && !in->eof && !input_fill(in)) return 0;
    z->next_out = p;
    z->avail_out = len < (1u << 30) ? (uInt)len : 1u << 30;
    int rc = inflate(z, Z_NO_FLUSH);
    size_t made = (size_t)(z->next_out - p);
    if (rc == Z_STREAM_END) {
        input_member_end(in);
    } else if (rc == Z_MEM_ERROR) {
        in->fault = INPUT_FAULT_MEMORY;
    } else if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT || rc == Z_STREAM_ERROR) {
        in->fault = INPUT_FAULT_CORRUPT;
        snprintf(in->fault_msg, sizeof in->fault_msg, "%s", z->msg ? z->msg : "bad data");
    } else if (made == 0 && z->avail_in == 0 && in->eof) {
        in->fault = INPUT_FAULT_CUT; /* no more input, and the member has not ended */
    }
    return made;
}

/* Hands out up to len bytes (the peeked ones first): fewer only at the data's end or a fault. */
static size_t input_take(data_input *in, unsigned char *p, size_t len)
{
    size_t n = 0;
    while (n < len && in->phead < in->nhead) p[n++] = in->head[in->phead++];
    if (in->kind == INPUT_UNKNOWN && n < len) input_start(in);
    while (n < len && !in->ended && !in->fault) {
        if (in->kind == INPUT_GZIP) {
            n += input_inflate(in, p + n, len - n);
            continue;
        }
        if (in->z.avail_in == 0 && (in->eof || !input_fill(in))) {
            in->ended = in->eof;
            continue;
        }
        size_t take = len - n < in->z.avail_in ? len - n : in->z.avail_in;
        memcpy(p + n, in->z.next_in, take);
        in->z.next_in += take;
        in->z.avail_in -= (uInt)take;
        n += take;
    }
    return n;
}

unsigned data_input_peek(data_input *in)
{
    OCCAM_ASSERT(in->taken == 0 && in->nhead == 0);
    in->nhead = (unsigned)input_take(in, in->head, DATA_INPUT_HEAD);
    in->phead = 0;
    return in->nhead;
}

int data_input_read(data_input *in, void *buf, size_t len, size_t *got, occam_error *err)
{
    size_t n = input_take(in, buf, len);
    in->taken += n;
    *got = n;
    /* What the data had before a fault is handed out first; the fault comes with the next
     * read, or data_input_end. */
    return n == 0 && in->fault ? data_input_error(in, err) : OCCAM_OK;
}

int data_input_end(data_input *in, occam_error *err)
{
    return in->fault ? data_input_error(in, err) : OCCAM_OK;
}

bool data_input_raw(const data_input *in) { return in->kind == INPUT_RAW; }

bool data_input_gzip_length(const data_input *in, uint32_t *length)
{
    unsigned char t[4];
    /* pread leaves the offset zlib reads from where it is */
    if (!in->regular || in->size < 18 || pread(in->fd, t, 4, (off_t)in->size - 4) != 4)
        return false;
    *length = (uint32_t)t[0] | (uint32_t)t[1] << 8 | (uint32_t)t[2] << 16 | (uint32_t)t[3] << 24;
    return true;
}

bool data_grow(void **p, size_t *cap, size_t need, size_t first, size_t most, size_t size)
{
    OCCAM_ASSERT(need <= most && size > 0);
    if (need <= *cap) return true;
    size_t next = *cap > first ? *cap : first;
    while (next < need) next = next > most / 2 ? most : 2 * next;
    if (next > most) next = most;
    if (next > SIZE_MAX / size) return false;
    void *q = realloc(*p, next * size);
    if (!q) return false;
    *p = q;
    *cap = next;
    return true;
}

bool data_align(void **p, size_t bytes)
{
    if (!*p || (uintptr_t)*p % OCCAM_ALIGN == 0) return true;
    void *q = occam_alloc(bytes, 1);
    if (!q) return false;
    memcpy(q, *p, bytes);
    free(*p);
    *p = q;
    return true;
}

int occam_features_load(occam_dataset *out, const char *path, occam_csv_header header,
                        int skip, const char *skip_name, size_t skip_cols, bool *is_idx,
                        occam_error *err)
{
    *out = (occam_dataset){0};
    *is_idx = false;
    data_input in;
    int rc = data_input_open(&in, path, err);
    if (rc != OCCAM_OK) return rc;
    unsigned got = data_input_peek(&in);
    /* No text file starts with two NUL bytes; every IDX file does (its magic). */
    *is_idx = got == DATA_INPUT_HEAD && in.head[0] == 0 && in.head[1] == 0;
    const occam_csv_opts opts = {.label = OCCAM_LABEL_NONE, .header = header, .skip = skip,
                                 .label_name = skip_name, .skip_cols = skip_cols};
    rc = *is_idx ? data_idx_read_features(out, &in, err) : data_csv_read(out, &in, &opts, err);
    data_input_close(&in);
    if (rc != OCCAM_OK) occam_dataset_free(out);
    return rc;
}
