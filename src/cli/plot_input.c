/* The plot readers' common ground: input errors that name the file, and reading a whole text
 * file (a report or a scaling CSV) into memory, bounded: a plot input is at most
 * PLOT_INPUT_MAX bytes with lines of at most OCCAM_CSV_LINE_MAX, so `occam plot /dev/zero`
 * stops after a MiB instead of filling memory, and it is text: a NUL byte is refused with its
 * line. */
#include "plot-impl.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "occam/data.h"

#define PLOT_INPUT_MAX (64 << 20)

int plot_input_err(occam_error *err, const char *file, const char *fmt, ...)
{
    char msg[OCCAM_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return occam_error_set(err, OCCAM_ERR_INPUT, "%s: %s", file, msg);
}

bool plot_drawable(double v)
{
    double a = fabs(v);
    return a == 0.0 || (a >= 1e-300 && a <= 1e300);
}

int plot_oom(occam_error *err)
{
    return occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory");
}

/* The length of the line that ends the n bytes at s, after `line` bytes of it before them;
 * lines ending in s start over. */
static size_t plot_line_after(const char *s, size_t n, size_t line, size_t *lines)
{
    for (const char *nl; (nl = memchr(s, '\n', n)) != NULL; line = 0) {
        n -= (size_t)(nl - s) + 1;
        s = nl + 1;
        ++*lines;
    }
    return line + n;
}

int plot_read_text(const char *path, char **text, size_t *len, occam_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) return plot_input_err(err, path, "cannot read: %s", strerror(errno));
    size_t cap = 1 << 16, n = 0, line = 0, lines = 0;
    char *buf = malloc(cap);
    int rc = buf ? OCCAM_OK : plot_oom(err);
    int read_errno = 0;
    while (rc == OCCAM_OK) {
        errno = 0;
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        if (ferror(f)) read_errno = errno;
        line = plot_line_after(buf + n, got, line, &lines);
        n += got;
        if (line > OCCAM_CSV_LINE_MAX)
            rc = occam_error_set(err, OCCAM_ERR_INPUT, "%s:%zu: line longer than %d bytes",
                                 path, lines + 1, OCCAM_CSV_LINE_MAX);
        else if (n > PLOT_INPUT_MAX)
            rc = plot_input_err(err, path, "larger than %d MiB, the most plot reads (a train "
                                "report grows by about 300 bytes an epoch: one of more than "
                                "200,000 epochs is larger; plot a shorter run)",
                                PLOT_INPUT_MAX >> 20);
        else if (n < cap - 1)
            break;
        else {
            cap = cap < PLOT_INPUT_MAX / 2 ? 2 * cap : PLOT_INPUT_MAX + 2;
            char *nb = realloc(buf, cap);
            if (nb) buf = nb;
            else rc = plot_oom(err);
        }
    }
    /* the system's reason: a folder opens for reading and fails only here (EISDIR) */
    if (rc == OCCAM_OK && ferror(f))
        rc = plot_input_err(err, path, "cannot read: %s",
                            read_errno ? strerror(read_errno) : "read failed");
    fclose(f);
    /* Text has no NUL: the readers split lines with strchr, which would end the file there
     * and drop every row after it without a word. */
    const char *nul = rc == OCCAM_OK ? memchr(buf, '\0', n) : NULL;
    if (nul) {
        size_t at = 0;
        plot_line_after(buf, (size_t)(nul - buf), 0, &at);
        rc = occam_error_set(err, OCCAM_ERR_INPUT, "%s:%zu: line contains a NUL byte (not a "
                             "text file?)", path, at + 1);
    }
    if (rc != OCCAM_OK) {
        free(buf);
        return rc;
    }
    buf[n] = 0;
    *text = buf;
    *len = n;
    return OCCAM_OK;
}
