/* File-system helpers (see include/occam/fsutil.h). */
#include "occam/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
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

/* The PID the holder wrote into the lock file, 0 if none yet: the holder writes it right after
 * it gets the lock, so give it a moment. */
static long holder_pid(int fd)
{
    for (int tries = 0; tries < 20; tries++) {
        char buf[32];
        ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
        if (n > 0) {
            buf[n] = 0;
            long pid = strtol(buf, NULL, 10);
            if (pid > 0) return pid;
        }
        nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
    }
    return 0;
}

bool occam_fsutil_lock_busy(const char *dir)
{
    char path[PATH_MAX];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, OCCAM_LOCK_FILE) >= sizeof path)
        return false;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) return false;
    struct stat st;
    /* a shared lock, dropped at once: it never keeps an exclusive taker out for long */
    bool busy = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
                flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    close(fd);
    return busy;
}

int occam_fsutil_lock_dir(const char *dir, const char *what, double wait_seconds, int *fd_out,
                          occam_error *err)
{
    *fd_out = -1;
    char path[PATH_MAX];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, OCCAM_LOCK_FILE) >= sizeof path)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s '%s': path too long", what, dir);
    /* O_NOFOLLOW: a symlink planted as the lock file must not make us truncate its target;
     * O_CLOEXEC: a child (gnuplot, a shell) must not keep the lock after we end. */
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
    if (fd < 0 && (errno == EISDIR || errno == ELOOP || errno == ENXIO || errno == EWOULDBLOCK))
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: the lock file is not a regular file "
                               "(%s); remove it", path, strerror(errno));
    if (fd < 0)
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: cannot open the lock file: %s", path,
                               strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: the lock file is not a regular file; "
                               "remove it", path);
    }
    /* A run that only locks to save on a signal may find another doing the same: wait for it
     * a little, polling, rather than lose the state. */
    for (double waited = 0; flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK &&
                            waited < wait_seconds; waited += 0.05)
        nanosleep(&(struct timespec){.tv_nsec = 50 * 1000 * 1000}, NULL);
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        if (e == EWOULDBLOCK) {
            long pid = holder_pid(fd);
            close(fd);
            char who[48] = "a process whose PID it did not record";
            if (pid > 0) snprintf(who, sizeof who, "PID %ld", pid);
            return occam_error_set(err, OCCAM_ERR_INPUT, "%s '%s' is in use by another occam run "
                                   "(%s holds %s); wait for it to end, or choose another folder",
                                   what, dir, who, path);
        }
        close(fd);
        /* A file system without locks (some network mounts): run unguarded, but say so. */
        fprintf(stderr, "occam: warning: %s: cannot lock (%s); nothing stops another run from "
                "using %s at the same time\n", path, strerror(e), dir);
        return OCCAM_OK;
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
        int e = errno;
        close(fd);
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: cannot write the lock file: %s", path,
                               strerror(e));
    }
    *fd_out = fd;
    return OCCAM_OK;
}

void occam_fsutil_unlock_dir(int fd)
{
    if (fd >= 0) close(fd); /* closing the last descriptor drops the flock */
}

bool occam_fsutil_lock_still_held(const char *dir, int fd)
{
    if (fd < 0) return true;
    char path[OCCAM_PATH_MAX + sizeof OCCAM_LOCK_FILE + 1];
    snprintf(path, sizeof path, "%s/%s", dir, OCCAM_LOCK_FILE);
    struct stat a, b;
    int saved = errno;
    bool same = fstat(fd, &a) == 0 && lstat(path, &b) == 0 && a.st_dev == b.st_dev &&
                a.st_ino == b.st_ino;
    errno = saved;
    return same;
}

int occam_fsutil_blocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    return flags >= 0 && fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == 0 ? 0 : -1;
}

FILE *occam_fsutil_open_read(const char *path)
{
    /* O_NONBLOCK only for the open itself: a FIFO without a writer would block it forever. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return NULL;
    FILE *f = occam_fsutil_blocking(fd) == 0 ? fdopen(fd, "rb") : NULL;
    if (!f) {
        int e = errno;
        close(fd);
        errno = e;
    }
    return f;
}
