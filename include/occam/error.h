/* occam/error.h — status codes and the error record every fallible call fills in.
 *
 * A fallible function returns an occam status and, on failure, writes a one-line message into
 * the caller's occam_error. The message names the file and line (or config key) when the
 * failure comes from input. Only main() turns a status into an exit code, and the status values
 * are the exit codes: 1 for a runtime failure (divergence, out of memory, I/O), 2 for bad usage,
 * config or input, 128 + N for a run stopped by signal N after saving its state. */
#ifndef OCCAM_ERROR_H
#define OCCAM_ERROR_H

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

enum {
    OCCAM_OK = 0,
    OCCAM_ERR_RUNTIME = 1,
    OCCAM_ERR_INPUT = 2,
    OCCAM_STOPPED = 128, /* + the signal's number: stopped on request (SIGINT 130, SIGTERM 143) */
};

/* Room for two paths of PATH_MAX (4096) bytes and the words around them. */
#define OCCAM_ERROR_MAX 8448

typedef struct occam_error {
    int status;
    char msg[OCCAM_ERROR_MAX];
} occam_error;

/* Formats msg into err (if err is non-NULL) and returns status, so callers can write
 * `return occam_error_set(err, OCCAM_ERR_INPUT, "%s:%d: ...", file, line);`. A message too long
 * for msg loses the middle of its longest paths (then of itself), marked "...", never its end:
 * the reason a message gives comes last and always survives. */
int occam_error_set(occam_error *err, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "PATH: cannot open: REASON" for errno e: an input error (a missing or unreadable file), but
 * a runtime failure when the process ran out of descriptors or memory (EMFILE, ENFILE,
 * ENOMEM: the file is fine). Returns the status. */
int occam_error_open(occam_error *err, const char *path, int e);

/* Shortens the NUL-terminated text in place to at most cap - 1 characters as occam_error_set
 * does: the middles of the longest path-like words (runs without blanks or quotes that hold a
 * '/') give way first, each to "...", then the middle of the whole. */
void occam_error_shorten(char *text, size_t cap);

/* Copies len bytes of src to dst (cap bytes, always NUL-terminated) for quoting in a message:
 * printable ASCII and well-formed UTF-8 as they are, every other byte (controls, NUL, DEL,
 * stray or C1-control UTF-8) as \xHH, so echoed input cannot drive the terminal. At most
 * `most` bytes of src are quoted; a longer src ends in "...". Returns dst. */
char *occam_error_quote(char *dst, size_t cap, const char *src, size_t len, size_t most);

/* v as a config file would spell it, into buf (cap bytes; 25 hold any double): the fewest
 * "%g" digits that read back as exactly v, from 15 up (so 1000000 is not "1e+06" and 0.1 is
 * "0.1"), and from 1 up for a subnormal, whose 15 digits are mostly noise (5e-324, not
 * 4.94065645841247e-324). Returns buf. */
char *occam_error_spell_double(char *buf, size_t cap, double v);

/* Always-on assertion for programmer bugs (never for user input). It writes to descriptor 2,
 * not the stderr stream, which the quiet ranks of an MPI run point elsewhere: a rank's internal
 * error always reaches the terminal with its file:line. */
#define OCCAM_ASSERT(cond)                                                                 \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            dprintf(2, "occam: internal error at %s:%d: assertion '%s' failed\n",          \
                    __FILE__, __LINE__, #cond);                                            \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

#endif
