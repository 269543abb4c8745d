/* The plot readers' common ground: input errors that name the file, and reading a whole text
 * file (a report or a scaling CSV) into memory. */
#include "plot-impl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int plot_input_err(occam_error *err, const char *file, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return occam_error_set(err, OCCAM_ERR_INPUT, "%s: %s", file, msg);
}

int plot_oom(occam_error *err)
{
    return occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory");
}

int plot_read_text(const char *path, char **text, size_t *len, occam_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) return plot_input_err(err, path, "cannot read: %s", strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            fclose(f);
            return plot_oom(err);
        }
        n += fread(buf + n, 1, cap - n - 1, f);
        if (n < cap - 1) break;
        cap *= 2;
        char *nb = realloc(buf, cap);
        if (!nb) free(buf);
        buf = nb;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return plot_input_err(err, path, "read failed");
    }
    buf[n] = 0;
    *text = buf;
    *len = n;
    return OCCAM_OK;
}
