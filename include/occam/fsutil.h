/* occam/fsutil.h — small file-system helpers shared by the writers. */
#ifndef OCCAM_FSUTIL_H
#define OCCAM_FSUTIL_H

#include <stdbool.h>
#include <stdio.h>

#include "occam/error.h"

/* Room for a path in a config value or a message. */
#define OCCAM_PATH_MAX 1024

/* mkdir -p dir, then checks that it is a folder we may write into. `what` names where the
 * folder came from (an option or a config key) for the message. OCCAM_ERR_RUNTIME on failure. */
int occam_fsutil_make_dir(const char *dir, const char *what, occam_error *err);

/* The lock file occam_fsutil_lock_dir takes in a folder. */
#define OCCAM_LOCK_FILE "occam.lock"

/* Makes this process the only occam run using folder dir: an exclusive flock on
 * dir/occam.lock (created if needed), which then holds this process's PID. The lock lasts
 * until occam_fsutil_unlock_dir(*fd) or the process's end: the kernel drops it whatever way a
 * process dies, so a lock file a killed run left behind blocks nothing. The descriptor is
 * close-on-exec, so child processes never hold the lock. When another process holds it:
 * OCCAM_ERR_INPUT, naming `what` (the option or key dir came from), dir and the holder's PID.
 * Another holder is waited for up to wait_seconds (polled), then refused. A lock file that is
 * not a regular file (a folder, a symlink, a device) is OCCAM_ERR_INPUT.
 * On a file system without flock it warns on stderr and returns OCCAM_OK with *fd = -1. */
int occam_fsutil_lock_dir(const char *dir, const char *what, double wait_seconds, int *fd,
                          occam_error *err);
/* Whether another process holds dir's lock at this moment (false when there is no lock file,
 * it is not a regular file, or it is free). Takes no lock that outlasts the call. */
bool occam_fsutil_lock_busy(const char *dir);
/* Releases a lock from occam_fsutil_lock_dir (fd -1: nothing to do). */
void occam_fsutil_unlock_dir(int fd);
/* Whether dir/occam.lock is still the file fd (from occam_fsutil_lock_dir) locks: not when
 * the folder was renamed or removed and made again, where another run could take a new lock
 * file beside this run's checkpoints. True for fd -1 (no lock was taken). */
bool occam_fsutil_lock_still_held(const char *dir, int fd);

/* fopen(path, "rb") that never blocks on opening (a FIFO without a writer, a device): the
 * caller's fstat then sees what it is. NULL with errno set on failure. */
FILE *occam_fsutil_open_read(const char *path);

/* Clears O_NONBLOCK on fd, which was opened with it so that the open itself could not wait (a
 * FIFO without a reader or writer): reads and writes then wait as usual. 0, or -1 with errno. */
int occam_fsutil_blocking(int fd);

#endif
