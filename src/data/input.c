/* Reading a data file once through zlib (see input.h), and `occam predict`'s features-only
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

#define DATA_GZ_BUFFER (128u * 1024u) /* zlib's input and output buffers */

int data_input_open(data_input *in, const char *path, occam_error *err)
{
    *in = (data_input){.path = path};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        int e = errno;
        if (fd >= 0) close(fd);
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: cannot open: %s", path, strerror(e));
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: cannot open: %s", path,
                               strerror(EISDIR));
    }
    in->fd = fd;
    in->regular = S_ISREG(st.st_mode);
    in->size = in->regular ? (uint64_t)st.st_size : 0;
    in->gz = gzdopen(fd, "rb");
    if (!in->gz) {
        close(fd);
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: out of memory", path);
    }
    gzbuffer(in->gz, DATA_GZ_BUFFER);
    return OCCAM_OK;
}

void data_input_close(data_input *in)
{
    if (in->gz) gzclose(in->gz);
    in->gz = NULL;
}

int data_input_error(const data_input *in, occam_error *err)
{
    char where[32] = "";
    if (in->line) snprintf(where, sizeof where, ":%zu", in->line);
    int code = 0;
    const char *msg = gzerror(in->gz, &code);
    if (code == Z_ERRNO)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s%s: read error: %s", in->path, where,
                               strerror(errno));
    if (code == Z_MEM_ERROR)
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s%s: out of memory while inflating",
                               in->path, where);
    /* zlib prefixes the message with the path (or "<fd:N>"); we print the path already. */
    const char *colon = strstr(msg, ": ");
    if (colon) msg = colon + 2;
    return occam_error_set(err, OCCAM_ERR_INPUT, "%s%s: corrupt gzip stream: %s", in->path,
                           where, msg);
}

int data_input_peek(data_input *in, unsigned *got, occam_error *err)
{
    OCCAM_ASSERT(in->taken == 0 && in->nhead == 0);
    size_t n = 0;
    int rc = data_input_read(in, in->head, DATA_INPUT_HEAD, &n, err);
    in->taken = 0;
    in->nhead = (unsigned)n;
    in->phead = 0;
    *got = (unsigned)n;
    return rc;
}

int data_input_read(data_input *in, void *buf, size_t len, size_t *got, occam_error *err)
{
    unsigned char *p = buf;
    size_t n = 0;
    while (n < len && in->phead < in->nhead) p[n++] = in->head[in->phead++];
    while (n < len) {
        unsigned want = len - n < (1u << 30) ? (unsigned)(len - n) : 1u << 30;
        int r = gzread(in->gz, p + n, want);
        if (r < 0) return data_input_error(in, err);
        if (r == 0) break;
        n += (size_t)r;
    }
    in->taken += n;
    *got = n;
    return OCCAM_OK;
}

int data_input_end(data_input *in, occam_error *err)
{
    int code = 0;
    gzerror(in->gz, &code);
    return code == Z_OK ? OCCAM_OK : data_input_error(in, err);
}

bool data_input_raw(const data_input *in) { return gzdirect(in->gz) != 0; }

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
                        bool *is_idx, occam_error *err)
{
    *out = (occam_dataset){0};
    *is_idx = false;
    data_input in;
    int rc = data_input_open(&in, path, err);
    if (rc != OCCAM_OK) return rc;
    unsigned got = 0;
    rc = data_input_peek(&in, &got, err);
    /* No text file starts with two NUL bytes; every IDX file does (its magic). */
    *is_idx = rc == OCCAM_OK && got == DATA_INPUT_HEAD && in.head[0] == 0 && in.head[1] == 0;
    const occam_csv_opts opts = {.label = OCCAM_LABEL_NONE, .header = header};
    if (rc == OCCAM_OK)
        rc = *is_idx ? data_idx_read_features(out, &in, err) : data_csv_read(out, &in, &opts, err);
    data_input_close(&in);
    if (rc != OCCAM_OK) occam_dataset_free(out);
    return rc;
}
