/* occam/error.h — status codes and the error record every fallible call fills in.
 *
 * A fallible function returns an occam status and, on failure, writes a one-line message into
 * the caller's occam_error. The message names the file and line (or config key) when the
 * failure comes from input. Only main() turns a status into an exit code, and the status values
 * are the exit codes: 1 for a runtime failure (divergence, out of memory, I/O), 2 for bad usage,
 * config or input, 128 + N for a run stopped by signal N after saving its state. */
#ifndef OCCAM_ERROR_H
#define OCCAM_ERROR_H

#include <stdio.h>
#include <stdlib.h>

enum {
    OCCAM_OK = 0,
    OCCAM_ERR_RUNTIME = 1,
    OCCAM_ERR_INPUT = 2,
    OCCAM_STOPPED = 128, /* + the signal's number: stopped on request (SIGINT 130, SIGTERM 143) */
};

typedef struct occam_error {
    int status;
    char msg[1024];
} occam_error;

/* Formats msg into err (if err is non-NULL) and returns status, so callers can write
 * `return occam_error_set(err, OCCAM_ERR_INPUT, "%s:%d: ...", file, line);`. */
int occam_error_set(occam_error *err, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Always-on assertion for programmer bugs (never for user input). */
#define OCCAM_ASSERT(cond)                                                                 \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "occam: internal error at %s:%d: assertion '%s' failed\n",    \
                    __FILE__, __LINE__, #cond);                                            \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

#endif
