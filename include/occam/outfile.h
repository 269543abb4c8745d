/* occam/outfile.h — the one way occam writes an output file: checked before the work, written
 * atomically, never replacing what is not a file.
 *
 * What a target path may be, followed through symlinks (the link itself is kept; what it points
 * to is written):
 * - a regular file, or a name that does not exist yet, in a folder we may write into: written to
 *   a temporary file TARGET.tmp.PID.TAG (TAG random) beside the resolved target, which is
 *   flushed, fsynced and renamed over it; then the folder is fsynced. A crash, a full disk or a file-size limit
 *   leaves the old file or the new one, never a torn one, and no temporary file. An existing
 *   file keeps its permission bits.
 * - a character device or a FIFO (/dev/null, a terminal, a pipe), or a regular file reached
 *   through a descriptor name (/dev/stdout, /dev/stderr, /dev/fd/N, /proc/PID/fd/N): written in
 *   place, appended to, never replaced or removed. Opening a FIFO waits for its reader, as the
 *   shell's `>` does.
 * - anything else (a folder, a block device, a socket) is refused, as is a missing or unwritable
 *   folder, or an existing file we may not write.
 *
 * occam_outfile_check says before any work starts whether a path would be refused, so a bad
 * --save or --report fails in seconds (OCCAM_ERR_INPUT, exit 2), not after training. The writer
 * checks again when it opens, since the file system may have changed in the meantime; its
 * failures, like every later I/O failure, are OCCAM_ERR_RUNTIME with "PATH: write failed:
 * REASON" (the system's words: "No space left on device", "File too large", ...).
 *
 * A temporary file is also removed when a signal ends the process while it is open, once
 * occam_outfile_catch_signals is installed (or a handler of the caller's own calls
 * occam_outfile_unlink_open); one left by SIGKILL or a crash is removed by the next write of the
 * same target, when no process holds its lock (occam_outfile_remove_stale). */
#ifndef OCCAM_OUTFILE_H
#define OCCAM_OUTFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "occam/error.h"

#define OCCAM_OUTFILE_PATH 4096

typedef struct occam_outfile {
    FILE *f;                            /* write here; NULL once committed or aborted */
    char path[OCCAM_OUTFILE_PATH];      /* where the bytes go: the temporary file, or the target
                                           itself when written in place (for a program such as
                                           gnuplot that writes by name while f stays open) */
    char target[OCCAM_OUTFILE_PATH];    /* the resolved target the temporary file replaces */
    char shown[OCCAM_OUTFILE_PATH];     /* the path as the caller gave it, for messages */
    bool in_place;
    int slot;                           /* 1 + its place in the registry of open temporary
                                           files (see occam_outfile_unlink_open); 0: none */
    int error;                          /* the first write error's errno, 0 if none */
} occam_outfile;

/* Whether path would be accepted as an output (see above); nothing is created or changed.
 * `what` names where the path came from ("--report", "train.checkpoint_dir"; NULL: nothing),
 * for the message "WHAT PATH: REASON". OCCAM_ERR_INPUT when refused. */
int occam_outfile_check(const char *path, const char *what, occam_error *err);

/* Whether path is accepted and would be written in place (a device, a pipe, or a file named
 * through a descriptor) rather than replaced. */
bool occam_outfile_in_place(const char *path);

/* Whether two accepted output paths end at one file that replacing would clobber: the same
 * resolved target (through symlinks, also to a file not there yet, and ./ or ../ spellings) or,
 * when both exist, the same inode (hard links). False when either is refused or written in
 * place (a device or pipe takes both in turn). */
bool occam_outfile_same(const char *a, const char *b);

/* Whether dir would be accepted as an output folder, created with its parents if missing: an
 * existing folder we may write into, or a missing one whose nearest existing ancestor is such a
 * folder. Nothing is created. OCCAM_ERR_INPUT when refused, with "WHAT DIR: REASON". */
int occam_outfile_check_dir(const char *dir, const char *what, occam_error *err);

/* Opens path for writing as described above; o->f is the stream. On failure nothing is left
 * behind and o->f is NULL. */
int occam_outfile_open(occam_outfile *o, const char *path, occam_error *err);

/* fwrite that remembers the first error in o->error; false on a short write. */
bool occam_outfile_write(occam_outfile *o, const void *p, size_t n);

/* Finishes the file: flush, fsync, close, rename over the target, fsync the folder, each step
 * checked. A stream error seen earlier fails it too. On failure the temporary file is removed
 * and the target is as it was. Either way o is closed. */
int occam_outfile_commit(occam_outfile *o, occam_error *err);

/* Closes o and removes the temporary file; the target is as it was. Safe on a closed o. */
void occam_outfile_abort(occam_outfile *o);

/* Removes every temporary file now open, leaving the targets as they were; only unlink(), so
 * a signal handler may call it. The process must end afterwards: the writers still hold them.
 * Returns how many it removed. */
int occam_outfile_unlink_open(void);

/* A child process (pid > 0; 0: none) that writes into an open temporary file by its name, as
 * gnuplot draws a PNG: occam_outfile_unlink_open kills it (SIGKILL) and reaps it first, since
 * it would create the file again once removed. Clear it (0) before reaping the child yourself:
 * until then its PID cannot be another process's. */
void occam_outfile_set_child(pid_t pid);

/* A FIFO output is opened when a reader has it open; until then the writer waits, asking
 * `stop` every 20 ms (NULL: never), and fails once it says a stop was asked for ("PATH: write
 * failed: no process has the FIFO open for reading, and the run was asked to stop"). A run
 * asked to stop had waited in open(2) for a reader with its stop only recorded: one SIGTERM
 * from timeout(1) never ended it, and a trained model's --save could not go elsewhere. */
void occam_outfile_set_stop(int (*stop)(void));

/* Removes NAME in the folder open as dir, a temporary file whose name goes on after ".tmp."
 * with tail, if no writer is still writing it: "PID.TAG" with its lock free, or an older
 * release's "PID" naming no live process (a tagged file whose lock cannot be tested is kept).
 * Only regular files; removed under the lock, and only while the name is still the file
 * looked at. True if it was removed; errno is kept. */
bool occam_outfile_remove_stale(int dir, const char *name, const char *tail);

/* For SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGUSR1, SIGUSR2, SIGALRM and SIGXCPU, a
 * handler that calls
 * occam_outfile_unlink_open, with `say` says so on stderr ("occam: stopped by signal 15; 1
 * unfinished output removed": a short command such as eval or compress ended without a word;
 * not under an MPI launcher, which ends every other rank with SIGTERM once one fails, and
 * reports it), then dies of the same signal with its default action, so the exit status (128 +
 * N to a shell) is what it was. A signal the process was started with ignored (nohup, `cmd &`
 * in a script) stays ignored. Call it once at start-up. */
void occam_outfile_catch_signals(bool say);

/* open + write n bytes + commit. */
int occam_outfile_write_all(const char *path, const void *buf, size_t n, occam_error *err);

#endif
