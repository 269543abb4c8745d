/* Scratch files and status checks shared by the harnesses; see fuzz_util.h. */
#include "fuzz_util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "occam/occfile.h"
#include "occam/safetensors.h"

static struct {
    int fd;
    char path[64]; /* /proc/self/fd/N */
} slots[FUZZ_SLOTS];

/* Creates the scratch file of a slot once: mkstemp, then unlink, keeping the descriptor. */
static int slot_open(int slot)
{
    if (slot < 0 || slot >= FUZZ_SLOTS) abort();
    if (slots[slot].path[0]) return slots[slot].fd;
    const char *dirs[3] = {"/dev/shm", getenv("TMPDIR"), "/tmp"};
    for (int i = 0; i < 3; i++) {
        if (!dirs[i] || !dirs[i][0] || access(dirs[i], W_OK) != 0) continue;
        char name[4096];
        snprintf(name, sizeof name, "%s/occam-fuzz-XXXXXX", dirs[i]);
        int fd = mkstemp(name);
        if (fd < 0) continue;
        unlink(name); /* the descriptor keeps the file alive; nothing can leak */
        slots[slot].fd = fd;
        snprintf(slots[slot].path, sizeof slots[slot].path, "/proc/self/fd/%d", fd);
        return fd;
    }
    fprintf(stderr, "fuzz: cannot create a scratch file: %s\n", strerror(errno));
    abort();
}

const char *fuzz_file_empty(int slot)
{
    int fd = slot_open(slot);
    if (ftruncate(fd, 0) != 0) {
        fprintf(stderr, "fuzz: ftruncate: %s\n", strerror(errno));
        abort();
    }
    return slots[slot].path;
}

const char *fuzz_file_write(int slot, const void *data, size_t size)
{
    const char *path = fuzz_file_empty(slot);
    int fd = slots[slot].fd;
    const char *p = data;
    for (size_t done = 0; done < size;) {
        ssize_t w = pwrite(fd, p + done, size - done, (off_t)done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            fprintf(stderr, "fuzz: write: %s\n", strerror(errno));
            abort();
        }
        done += (size_t)w;
    }
    return path;
}

void fuzz_check_status(const char *what, int rc, const occam_error *err, const char *path)
{
    const char *bad = NULL;
    if (rc != OCCAM_OK && rc != OCCAM_ERR_RUNTIME && rc != OCCAM_ERR_INPUT)
        bad = "status is not 0, 1 or 2";
    else if (rc != OCCAM_OK && err->msg[0] == '\0')
        bad = "failed with an empty message";
    else if (rc != OCCAM_OK && err->status != rc)
        bad = "err.status differs from the returned status";
    else if (rc == OCCAM_ERR_INPUT && path && !strstr(err->msg, path))
        bad = "input error does not name the file";
    static int verbose = -1;
    if (verbose < 0) verbose = getenv("OCCAM_FUZZ_VERBOSE") != NULL;
    if (verbose) fprintf(stderr, "fuzz: %s: rc %d %s\n", what, rc, rc ? err->msg : "");
    if (!bad) return;
    fprintf(stderr, "fuzz: %s: %s (rc %d, err.status %d, msg \"%.*s\")\n", what, bad, rc,
            err->status, (int)sizeof err->msg, err->msg);
    abort();
}

void fuzz_touch(const void *p, size_t n)
{
    const volatile unsigned char *b = p;
    unsigned char x = 0;
    for (size_t i = 0; i < n; i++) x ^= b[i];
    volatile unsigned char sink = x;
    (void)sink;
}

const occam_config *fuzz_config_4_3_2(void)
{
    static occam_config cfg;
    static int ready;
    if (!ready) {
        occam_error err = {0};
        occam_config_defaults(&cfg);
        if (occam_config_set(&cfg, "model.layers=4,3,2", &err) != OCCAM_OK) {
            fprintf(stderr, "fuzz: %s\n", err.msg);
            abort();
        }
        ready = 1;
    }
    return &cfg;
}

static void put_le(uint8_t *p, uint64_t v, int bytes)
{
    for (int b = 0; b < bytes; b++) p[b] = (uint8_t)(v >> (8 * b));
}

void fuzz_fix_occ(uint8_t *f, size_t n)
{
    /* magic 8, version 4, length 8, ..., checksum 8 (src/mdl/occfile.c) */
    if (n < 28 || memcmp(f, "OCCAMMDL", 8) != 0) return;
    put_le(f + 12, n, 8);
    put_le(f + n - 8, occam_occ_checksum(f, n - 8), 8);
}

void fuzz_fix_safetensors(uint8_t *f, size_t n)
{
    uint32_t crc;
    int at = occam_st_checksum(f, n, &crc);
    if (at < 0 || (size_t)at + 8 > n) return;
    char hex[9];
    snprintf(hex, sizeof hex, "%08" PRIx32, crc);
    memcpy(f + at, hex, 8);
}
