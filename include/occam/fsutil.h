/* occam/fsutil.h — small file-system helpers shared by the writers. */
#ifndef OCCAM_FSUTIL_H
#define OCCAM_FSUTIL_H

#include "occam/error.h"

/* Room for a path in a config value or a message. */
#define OCCAM_PATH_MAX 1024

/* mkdir -p dir, then checks that it is a folder we may write into. `what` names where the
 * folder came from (an option or a config key) for the message. OCCAM_ERR_RUNTIME on failure. */
int occam_fsutil_make_dir(const char *dir, const char *what, occam_error *err);

#endif
