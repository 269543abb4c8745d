/* File-system helpers (see include/occam/fsutil.h). */
#include "occam/fsutil.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int occam_fsutil_make_dir(const char *dir, const char *what, occam_error *err)
{
    char buf[PATH_MAX];
    if (!*dir || strlen(dir) >= sizeof buf)
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s '%s': not a usable folder name", what,
                               dir);
    strcpy(buf, dir);
    for (char *s = buf + 1;; s++) {
        bool end = *s == 0;
        if (*s == '/' || end) {
            *s = 0;
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: cannot create folder: %s", buf,
                                       strerror(errno));
            if (end) break;
            *s = '/';
        }
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: not a folder", dir);
    if (access(dir, W_OK | X_OK) != 0)
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: folder is not writable: %s", dir,
                               strerror(errno));
    return OCCAM_OK;
}
