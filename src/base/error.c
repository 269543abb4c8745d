/* Error records: a formatted message plus the status that becomes the exit code. */
#include "occam/error.h"

#include <stdarg.h>

int occam_error_set(occam_error *err, int status, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->status = status;
    }
    return status;
}
