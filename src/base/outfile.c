/* Output files: checked before the work, written atomically or in place, never replacing a
 * device (see include/occam/outfile.h).
 *
 * Both the check and the writer start from resolve(), so what the check accepts is what the
 * writer does. It asks stat() first, because only the kernel follows the /proc descriptor links
 * behind /dev/stdout; a device or FIFO found that way is written in place by the name given.
 * For a file to be replaced it follows the symlink chain itself, hop by hop, so that a link to a
 * file that does not exist yet is followed too, and writes the temporary file beside the end of
 * the chain: the rename then replaces the link's target and keeps the link. The temporary file
 * is created with O_EXCL | O_NOFOLLOW, so a name planted in a shared folder cannot redirect the
 * write.
 *
 * Temporary files that are open are listed in a small registry a signal handler can read: a
 * slot is claimed with a compare-and-swap (writers may run on any thread), filled, then marked
 * ready before the file is created, and freed only after the rename or unlink, so a signal at
 * any moment finds the name still to remove or one not (or no longer) there, whose unlink fails
 * harmlessly. The name holds our PID and a random tag, TARGET.tmp.PID.TAG, and is created with
 * O_EXCL, so it is nobody else's file: a PID alone is not unique where writers share a folder
 * from other PID namespaces (two containers, each its PID 1) or hosts, and a second writer took
 * the first's live file for its own leftover, removed it, and the first renamed the second's
 * half-written file over the target and said "saved". The writer holds a flock on its file
 * until it is renamed; what SIGKILL leaves, no handler can remove: the next write of the same
 * target does, when no process holds that lock (older names, TARGET.tmp.PID, by their PID). */
#include "occam/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "occam/fsutil.h"

/* Room after a target's name for ".tmp.PID.TAG": in the path, and (TMP_NAME_TAIL, its longest)
 * in the file's own name. */
#define TMP_SUFFIX 32
#define TMP_NAME_TAIL (sizeof ".tmp.2147483647.01234567" - 1)
#define MAX_HOPS 40

typedef struct resolved {
    char target[OCCAM_OUTFILE_PATH]; /* the end of the symlink chain, in a real folder */
    bool in_place;                   /* written by the name given, never replaced */
    bool exists;
    mode_t mode;
} resolved;

/* Why a path is refused: a description, or else the system's word for eno; `where` is the
 * folder concerned ("" when it is the target itself). */
typedef struct refusal {
    int eno;
    const char *text;
    char where[OCCAM_OUTFILE_PATH];
} refusal;

static bool refuse(refusal *why, int eno, const char *text, const char *where)
{
    why->eno = eno;
    why->text = text;
    snprintf(why->where, sizeof why->where, "%s", where ? where : "");
    return false;
}

static const char *reason(const refusal *why)
{
    return why->text ? why->text : strerror(why->eno);
}

/* Names that reach an open descriptor through /proc: writing to them must go to that
 * descriptor's file, not replace it (`--report /dev/stdout >> log` appends to log). */
static bool descriptor_name(const char *p)
{
    if (!strcmp(p, "/dev/stdout") || !strcmp(p, "/dev/stderr") || !strncmp(p, "/dev/fd/", 8))
        return true;
    if (strncmp(p, "/proc/", 6) != 0) return false;
    const char *s = strchr(p + 6, '/');
    return s && !strncmp(s, "/fd/", 4);
}

/* The descriptor of this process a descriptor name stands for (/dev/stdout 1, /dev/stderr 2,
 * /dev/fd/N and /proc/self/fd/N or /proc/PID/fd/N with our PID: N), or -1. */
static int named_descriptor(const char *p)
{
    if (!strcmp(p, "/dev/stdout")) return STDOUT_FILENO;
    if (!strcmp(p, "/dev/stderr")) return STDERR_FILENO;
    const char *num = NULL;
    char mine[64];
    snprintf(mine, sizeof mine, "/proc/%ld/fd/", (long)getpid());
    if (!strncmp(p, "/dev/fd/", 8)) num = p + 8;
    else if (!strncmp(p, "/proc/self/fd/", 14)) num = p + 14;
    else if (!strncmp(p, mine, strlen(mine))) num = p + strlen(mine);
    if (!num || *num < '0' || *num > '9') return -1;
    char *end;
    long n = strtol(num, &end, 10);
    return *end || n > INT_MAX ? -1 : (int)n;
}

/* A writable duplicate of the descriptor path names, sharing its file offset: after the
 * output, the shell's own writes to `> f` go on after it instead of over it (a new open of
 * /dev/stdout has an offset of its own). -1 when path names none (resolve() refused one open
 * for reading only). */
static int dup_named(const char *path)
{
    int n = named_descriptor(path), fl = n >= 0 ? fcntl(n, F_GETFL) : -1;
    if (fl < 0 || (fl & O_ACCMODE) == O_RDONLY) return -1;
    return fcntl(n, F_DUPFD_CLOEXEC, 3);
}

/* The kinds a target may not be, as the check's message says them. */
static bool refuse_kind(refusal *why, mode_t mode)
{
    if (S_ISDIR(mode)) return refuse(why, EISDIR, "is a folder, not a file", NULL);
    if (S_ISBLK(mode))
        return refuse(why, EPERM, "is a block device: occam writes files, character devices "
                      "(such as /dev/null) and pipes, never a disk", NULL);
    if (S_ISSOCK(mode)) return refuse(why, EPERM, "is a socket, not a file", NULL);
    return refuse(why, EPERM, "is not a regular file", NULL);
}

/* Follows the symlink chain from p (in place) to its end, which may not exist. */
static bool follow_links(char *p, refusal *why)
{
    for (int hops = 0;; hops++) {
        struct stat ls;
        if (lstat(p, &ls) != 0) {
            if (errno == ENOENT) return true;
            return refuse(why, errno, NULL, NULL);
        }
        if (!S_ISLNK(ls.st_mode)) return true;
        if (hops == MAX_HOPS) return refuse(why, ELOOP, NULL, NULL);
        char link[OCCAM_OUTFILE_PATH];
        ssize_t n = readlink(p, link, sizeof link);
        if (n < 0) return refuse(why, errno, NULL, NULL);
        if ((size_t)n >= sizeof link) return refuse(why, ENAMETOOLONG, NULL, NULL);
        link[n] = 0;
        /* A relative link is relative to the folder holding it. */
        const char *slash = strrchr(p, '/');
        size_t keep = link[0] == '/' || !slash ? 0 : (size_t)(slash - p) + 1;
        if (keep + (size_t)n >= OCCAM_OUTFILE_PATH) return refuse(why, ENAMETOOLONG, NULL, NULL);
        memcpy(p + keep, link, (size_t)n + 1);
    }
}

/* The kernel's file systems, where a folder takes no new file (proc, sysfs, cgroups: the
 * file a folder's access() lets root create cannot be made), or where a new file is not a
 * file (efivarfs: an EFI variable). An output there was refused only once the run had done
 * its work: `--report /proc/version` trained, then failed to write. Returns the refusal's
 * words for a folder on one, or NULL. */
/* Not in every <linux/magic.h>: the kernel's own values (ipc/mqueue.c, fs/configfs). */
#define OCCAM_MQUEUE_MAGIC 0x19800202UL
#define OCCAM_CONFIGFS_MAGIC 0x62656570UL

static const char *kernel_fs(const char *dir)
{
#define ON(name) "it is on " name ", a kernel file system, where occam makes no files"
    struct statfs fs;
    if (statfs(dir, &fs) != 0) return NULL;
    switch ((unsigned long)fs.f_type) {
    case PROC_SUPER_MAGIC: return ON("proc");
    case SYSFS_MAGIC: return ON("sysfs");
    case CGROUP_SUPER_MAGIC: return ON("cgroup");
    case CGROUP2_SUPER_MAGIC: return ON("cgroup2");
    case DEBUGFS_MAGIC: return ON("debugfs");
    case TRACEFS_MAGIC: return ON("tracefs");
    case SECURITYFS_MAGIC: return ON("securityfs");
    case SELINUX_MAGIC: return ON("selinuxfs");
    case BPF_FS_MAGIC: return ON("bpf");
    case PSTOREFS_MAGIC: return ON("pstore");
    case EFIVARFS_MAGIC: return ON("efivarfs");
    case DEVPTS_SUPER_MAGIC: return ON("devpts");
    /* a new file there is a message queue, a config item or a page-backed file that write()
     * refuses (EINVAL): the run's work was done before its output failed, leaving an empty
     * file behind */
    case OCCAM_MQUEUE_MAGIC: return ON("mqueue");
    case OCCAM_CONFIGFS_MAGIC: return ON("configfs");
    case HUGETLBFS_MAGIC: return ON("hugetlbfs");
    default: return NULL;
    }
#undef ON
}

static bool resolve(const char *path, resolved *r, refusal *why)
{
    memset(r, 0, sizeof *r);
    if (!*path) return refuse(why, EINVAL, "empty file name", NULL);
    if (strlen(path) >= OCCAM_OUTFILE_PATH - TMP_SUFFIX)
        return refuse(why, ENAMETOOLONG, NULL, NULL);
    struct stat st;
    if (stat(path, &st) == 0) {
        r->exists = true;
        r->mode = st.st_mode;
        if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode) ||
            (S_ISREG(st.st_mode) && descriptor_name(path))) {
            /* /dev/fd/3 of `3< file`: a new open of it would write the file the caller gave
             * for reading */
            int fd = named_descriptor(path), fl = fd >= 0 ? fcntl(fd, F_GETFL) : -1;
            if (fl >= 0 && (fl & O_ACCMODE) == O_RDONLY)
                return refuse(why, EBADF, "names a descriptor open for reading only", NULL);
            if (access(path, W_OK) != 0) return refuse(why, errno, NULL, NULL);
            snprintf(r->target, sizeof r->target, "%s", path);
            r->in_place = true;
            return true;
        }
        if (!S_ISREG(st.st_mode)) return refuse_kind(why, st.st_mode);
        if (access(path, W_OK) != 0) return refuse(why, errno, NULL, NULL);
    } else if (errno != ENOENT) {
        return refuse(why, errno, NULL, NULL);
    } else if (descriptor_name(path)) {
        /* /dev/stdout with stdout closed (`>&-`): there is nothing to write to, and no folder
         * to create a file in (/proc/PID/fd is not one). */
        return refuse(why, EBADF, "names a descriptor that is not open", NULL);
    }

    char p[OCCAM_OUTFILE_PATH];
    snprintf(p, sizeof p, "%s", path);
    if (!follow_links(p, why)) return false;
    char *slash = strrchr(p, '/');
    const char *base = slash ? slash + 1 : p;
    if (!*base || !strcmp(base, ".") || !strcmp(base, ".."))
        return refuse(why, EISDIR, "names a folder, not a file", NULL);
    char dir[OCCAM_OUTFILE_PATH];
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == p) snprintf(dir, sizeof dir, "/");
    else snprintf(dir, sizeof dir, "%.*s", (int)(slash - p), p);
    char *real = realpath(dir, NULL);
    if (!real) return refuse(why, errno, NULL, dir);
    struct stat ds;
    bool ok = stat(real, &ds) == 0 && S_ISDIR(ds.st_mode);
    const char *kfs;
    if (!ok) refuse(why, ENOTDIR, NULL, dir);
    /* the kernel file system first: it holds for every user, where access() fails only for
     * one without privileges, who was told 'Permission denied' and root the real reason */
    else if ((kfs = kernel_fs(real))) ok = refuse(why, EPERM, kfs, dir);
    else if (access(real, W_OK | X_OK) != 0) ok = refuse(why, errno, NULL, dir);
    int n = ok ? snprintf(r->target, sizeof r->target, "%s/%s", strcmp(real, "/") ? real : "",
                          base)
               : 0;
    /* the temporary name, the target's and ".tmp.PID.TAG", must fit the folder's name length
     * too (a name the target's length could take failed after the work) */
    long name_max = ok ? pathconf(real, _PC_NAME_MAX) : -1;
    free(real);
    if (!ok) return false;
    if ((size_t)n >= sizeof r->target - TMP_SUFFIX ||
        (name_max > 0 && strlen(base) + TMP_NAME_TAIL > (size_t)name_max))
        return refuse(why, ENAMETOOLONG, NULL, NULL);
    return true;
}

bool occam_outfile_in_place(const char *path)
{
    resolved r;
    refusal why;
    return resolve(path, &r, &why) && r.in_place;
}

bool occam_outfile_same(const char *a, const char *b)
{
    resolved ra, rb;
    refusal why;
    if (!resolve(a, &ra, &why) || !resolve(b, &rb, &why)) return false;
    /* Written in place, a device or a pipe takes both outputs one after the other. */
    if (ra.in_place && rb.in_place) return false;
    struct stat sa, sb;
    /* One written in place through a descriptor's name (/dev/stdout, /dev/fd/3) that is open
     * on a regular file, the other that file: `eval --checkpoint m.st --report /dev/stdout >>
     * m.st` appended the report to the model it read, and `--save /dev/stdout --report r.json
     * > r.json` lost the model, both exit 0 (found by the fourth hostile-input sweep). */
    if (ra.in_place || rb.in_place)
        return stat(ra.in_place ? a : ra.target, &sa) == 0 && S_ISREG(sa.st_mode) &&
               stat(rb.in_place ? b : rb.target, &sb) == 0 && sa.st_dev == sb.st_dev &&
               sa.st_ino == sb.st_ino;
    if (stat(ra.target, &sa) == 0 && stat(rb.target, &sb) == 0)
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino; /* hard links too */
    return !strcmp(ra.target, rb.target);
}

static int refused(occam_error *err, const char *what, const char *path, const refusal *why)
{
    const char *sp = what ? " " : "";
    if (!what) what = "";
    if (why->where[0])
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s%s%s: cannot write into the folder %s: %s",
                               what, sp, path, why->where, reason(why));
    return occam_error_set(err, OCCAM_ERR_INPUT, "%s%s%s: %s", what, sp, path, reason(why));
}

int occam_outfile_check(const char *path, const char *what, occam_error *err)
{
    resolved r;
    refusal why;
    /* No command reads "-" as standard output; a file named "-" is never what was meant. */
    if (!strcmp(path, "-"))
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s -: write to /dev/stdout to mean "
                               "standard output (a file named '-' is refused)",
                               what ? what : "output");
    if (resolve(path, &r, &why)) return OCCAM_OK;
    return refused(err, what, path, &why);
}

/* An existing folder we may create files in. */
static bool usable_dir(const char *dir, refusal *why)
{
    struct stat st;
    if (stat(dir, &st) != 0) return refuse(why, errno, NULL, NULL);
    if (!S_ISDIR(st.st_mode)) return refuse(why, ENOTDIR, "is not a folder", NULL);
    /* a working directory removed under the run still stats and passes access(), and no file
     * can be made in it: a checkpoint folder to be made there failed only after the data had
     * loaded, naming no key. getcwd says so (ENOENT); a link count of 0 would too, but some
     * FUSE file systems report 0 for every folder. */
    char cwd[64];
    if (dir[0] != '/' && !getcwd(cwd, sizeof cwd) && errno == ENOENT)
        return refuse(why, ENOENT, "is in the working directory, which was deleted", NULL);
    /* the kernel file system first, as in resolve: the same words for every user */
    const char *kfs = kernel_fs(dir);
    if (kfs) return refuse(why, EPERM, kfs, NULL);
    return access(dir, W_OK | X_OK) == 0 || refuse(why, errno, NULL, NULL);
}

int occam_outfile_check_dir(const char *dir, const char *what, occam_error *err)
{
    refusal why = {0};
    char p[OCCAM_OUTFILE_PATH];
    if (!*dir) {
        refuse(&why, EINVAL, "empty folder name", NULL);
        return refused(err, what, dir, &why);
    }
    /* Room for the names occam writes into it, after the folder's absolute path: the writer
     * resolves it (a relative folder of 1,003 bytes under a 3,036-byte working directory
     * passed here, trained, and failed at its first checkpoint) */
    size_t full = strlen(dir);
    if (dir[0] != '/') {
        char cwd[OCCAM_OUTFILE_PATH];
        if (getcwd(cwd, sizeof cwd)) full += strlen(cwd) + 1;
        else if (errno == ERANGE) full = OCCAM_OUTFILE_PATH;
    }
    /* a checkpoint's name (ckpt-e…-s….safetensors, under 64 bytes) and the temporary tail */
    if (full >= OCCAM_OUTFILE_PATH - TMP_SUFFIX - 64) {
        refuse(&why, ENAMETOOLONG, NULL, NULL);
        return refused(err, what, dir, &why);
    }
    struct stat st;
    if (stat(dir, &st) == 0 || errno != ENOENT) {
        if (usable_dir(dir, &why)) return OCCAM_OK;
        return refused(err, what, dir, &why);
    }
    /* A symlink to nothing: mkdir -p would fail on it. */
    if (lstat(dir, &st) == 0) {
        refuse(&why, ENOENT, "is a symlink to a folder that does not exist", NULL);
        return refused(err, what, dir, &why);
    }
    /* Missing: mkdir -p will create it under the nearest ancestor that exists. */
    snprintf(p, sizeof p, "%s", dir);
    for (;;) {
        size_t len = strlen(p);
        while (len > 1 && p[len - 1] == '/') p[--len] = 0;
        char *slash = strrchr(p, '/');
        if (!slash) snprintf(p, sizeof p, ".");
        else if (slash == p) p[1] = 0;
        else *slash = 0;
        if (stat(p, &st) == 0 || errno != ENOENT || !strcmp(p, ".") || !strcmp(p, "/")) break;
    }
    if (usable_dir(p, &why)) return OCCAM_OK;
    snprintf(why.where, sizeof why.where, "%s", p);
    return refused(err, what, dir, &why);
}

static int write_failed(occam_error *err, const char *path, const char *why)
{
    return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: write failed: %s", path, why);
}

/* fsync of the folder holding path, so that the renamed name itself survives a crash. */
static int sync_dir(const char *path)
{
    char dir[OCCAM_OUTFILE_PATH];
    const char *slash = strrchr(path, '/');
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == path) snprintf(dir, sizeof dir, "/");
    else snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    /* Some file systems cannot sync a folder; that is not a failure of this write. */
    int rc = fsync(fd) != 0 && errno != EINVAL ? -1 : 0;
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

/* ---- the registry of open temporary files ---------------------------------------------- */

/* More than a command ever has open at once; a writer finding none free still works, its file
 * is just not removed by a signal (the next write of its target removes it). */
#define OPEN_SLOTS 8
enum { SLOT_FREE, SLOT_FILLING, SLOT_READY };
static atomic_int open_state[OPEN_SLOTS];
static char open_path[OPEN_SLOTS][OCCAM_OUTFILE_PATH];

static void remember(occam_outfile *o)
{
    for (int i = 0; i < OPEN_SLOTS; i++) {
        int expect = SLOT_FREE;
        if (!atomic_compare_exchange_strong(&open_state[i], &expect, SLOT_FILLING)) continue;
        memcpy(open_path[i], o->path, sizeof open_path[i]);
        atomic_store(&open_state[i], SLOT_READY);
        o->slot = i + 1;
        return;
    }
}

/* After the temporary file is renamed or removed: see the file's opening comment. */
static void forget(occam_outfile *o)
{
    if (!o->slot) return;
    atomic_store(&open_state[o->slot - 1], SLOT_FREE);
    o->slot = 0;
}

/* A child drawing into one of the temporary files (gnuplot), or 0. */
static volatile sig_atomic_t child;

void occam_outfile_set_child(pid_t pid) { child = (sig_atomic_t)pid; }

int occam_outfile_unlink_open(void)
{
    /* first the child, which would create its file again once removed */
    pid_t c = (pid_t)child;
    if (c > 0 && kill(c, SIGKILL) == 0)
        while (waitpid(c, NULL, 0) < 0 && errno == EINTR) {}
    int n = 0;
    for (int i = 0; i < OPEN_SLOTS; i++)
        if (atomic_load(&open_state[i]) == SLOT_READY) n += unlink(open_path[i]) == 0;
    return n;
}

/* Appends the decimal digits of v ≥ 0 to buf at *k (a signal handler's snprintf). */
static void put_uint(char *buf, size_t *k, unsigned v)
{
    char d[12];
    int n = 0;
    do d[n++] = (char)('0' + v % 10), v /= 10;
    while (v);
    while (n) buf[(*k)++] = d[--n];
}

static volatile sig_atomic_t say_stop; /* occam_outfile_catch_signals's `say` */

static void die_cleanly(int sig)
{
    int removed = occam_outfile_unlink_open();
    if (say_stop) {
        char msg[128] = "occam: stopped by signal ";
        size_t k = strlen(msg);
        put_uint(msg, &k, (unsigned)sig);
        if (removed) {
            static const char mid[] = "; ";
            memcpy(msg + k, mid, sizeof mid - 1), k += sizeof mid - 1;
            put_uint(msg, &k, (unsigned)removed);
            const char *tail = removed == 1 ? " unfinished output removed"
                                            : " unfinished outputs removed";
            memcpy(msg + k, tail, strlen(tail)), k += strlen(tail);
        }
        msg[k++] = '\n';
        ssize_t w = write(STDERR_FILENO, msg, k);
        (void)w;
    }
    signal(sig, SIG_DFL);
    raise(sig); /* blocked until this handler returns; then the default action ends us */
}

void occam_outfile_catch_signals(bool say)
{
    say_stop = say;
    /* SIGUSR1, SIGUSR2, SIGALRM and SIGXCPU end a process by default too (a batch system's
     * warning, a soft CPU limit): compress, predict and plot ended on them without a word, and
     * plot left its temporary PNG (found by a hostile-input sweep). train and select stop
     * after their step on SIGUSR1 and SIGXCPU instead (their own handlers, installed later). */
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE,
                               SIGUSR1, SIGUSR2, SIGALRM, SIGXCPU};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = die_cleanly;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaddset(&sa.sa_mask, sigs[i]);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction old;
        /* nohup, or `occam ... &` in a script: the caller chose that these not end us. */
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN) continue;
        sigaction(sigs[i], &sa, NULL);
    }
}

/* ---- stale temporary files --------------------------------------------------------------- */

/* The PID in a name's ".tmp." tail, "PID.TAG" (TAG 8 lowercase hex digits) or an older
 * release's "PID": digits only, no sign, no leading zero. 0 if the tail is neither. */
static pid_t tmp_pid(const char *s, bool *tagged)
{
    if (*s < '1' || *s > '9') return 0;
    long long v = 0;
    for (; *s && *s != '.'; s++) {
        if (*s < '0' || *s > '9') return 0;
        v = v * 10 + (*s - '0');
        if (v > INT_MAX) return 0;
    }
    *tagged = *s == '.';
    if (*tagged) {
        size_t n = strspn(s + 1, "0123456789abcdef");
        if (n != 8 || s[9]) return 0;
    }
    return (pid_t)v;
}

bool occam_outfile_remove_stale(int dir, const char *name, const char *tail)
{
    bool tagged = false;
    pid_t pid = tmp_pid(tail, &tagged);
    struct stat st, again;
    /* a regular file only, looked at before it is opened (a device's open acts) */
    if (pid <= 0 || fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
        return false;
    int saved = errno;
    bool dead = pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH, removed = false;
    int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        /* A live writer holds an exclusive lock, which a shared one meets (on NFS, where flock
         * is a POSIX lock, an exclusive one needs the file open for writing). A writer of an
         * older release held none, and is judged by its PID; a tagged file whose lock cannot
         * be tested is kept: its PID may be another namespace's or host's. */
        bool unlocked = flock(fd, LOCK_SH | LOCK_NB) == 0;
        bool stale = unlocked ? tagged || dead : !tagged && errno != EWOULDBLOCK && dead;
        /* removed while the lock is held, and only if the name is still this file: a writer
         * takes its lock after creating the file (open_tmp), and would lose it otherwise */
        if (stale && fstatat(dir, name, &again, AT_SYMLINK_NOFOLLOW) == 0 &&
            again.st_dev == st.st_dev && again.st_ino == st.st_ino)
            removed = unlinkat(dir, name, 0) == 0;
    }
    if (fd >= 0) close(fd);
    errno = saved;
    return removed;
}

/* Removes BASE.tmp.* files beside target that no process writes (occam_outfile_remove_stale):
 * what a writer killed by SIGKILL (or a crash) left. One pass over the folder; nothing here is
 * an error. */
static void remove_stale(const char *target)
{
    const char *slash = strrchr(target, '/');
    char dir[OCCAM_OUTFILE_PATH];
    const char *base = slash ? slash + 1 : target;
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == target) snprintf(dir, sizeof dir, "/");
    else snprintf(dir, sizeof dir, "%.*s", (int)(slash - target), target);
    size_t blen = strlen(base);
    DIR *d = opendir(dir);
    if (!d) return;
    int saved = errno;
    for (struct dirent *e; (e = readdir(d));) {
        const char *n = e->d_name;
        if (strncmp(n, base, blen) != 0 || strncmp(n + blen, ".tmp.", 5) != 0) continue;
        (void)occam_outfile_remove_stale(dirfd(d), n, n + blen + 5);
    }
    closedir(d);
    errno = saved;
}

/* ---- the writer -------------------------------------------------------------------------- */

/* A random tag for a temporary name: the kernel's, or (without getrandom) the clock's and a
 * counter's. */
static unsigned tmp_tag(void)
{
    unsigned t;
    if (getrandom(&t, sizeof t, GRND_NONBLOCK) == (ssize_t)sizeof t) return t;
    static _Atomic unsigned count;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (unsigned)ts.tv_nsec * 2654435761u ^ (unsigned)ts.tv_sec ^
           atomic_fetch_add(&count, 1) * 40503u;
}

/* Creates o->path, target.tmp.PID.TAG, new (never one that exists: another writer's, or a
 * planted link), and takes its lock; the name is listed (remember) before it exists, so that
 * a signal between the two cannot miss it. A remover that found the file in the moment before
 * the lock may have unlinked it: then the name is no longer this file, and another is made. */
static int open_tmp(occam_outfile *o, const char *target)
{
    int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
    for (int k = 0; k < 100; k++) {
        /* resolve() left room for the suffix; the check is for the compiler */
        int n = snprintf(o->path, sizeof o->path, "%s.tmp.%ld.%08x", target, (long)getpid(),
                         tmp_tag());
        if (n < 0 || (size_t)n >= sizeof o->path) {
            errno = ENAMETOOLONG;
            return -1;
        }
        remember(o);
        int fd = open(o->path, flags, 0666);
        if (fd < 0) {
            int e = errno;
            forget(o);
            errno = e;
            if (e == EEXIST) continue;
            return -1;
        }
        struct stat a, b;
        /* A remover probing the new file holds its lock for a moment: wait for it. Where the
         * file system takes no locks there is none to hold. */
        while (flock(fd, LOCK_EX) != 0 && errno == EINTR) {}
        if (fstat(fd, &a) == 0 && lstat(o->path, &b) == 0 && a.st_dev == b.st_dev &&
            a.st_ino == b.st_ino)
            return fd;
        close(fd); /* removed in the moment before the lock: the name is no longer ours */
        forget(o);
    }
    errno = EEXIST;
    return -1;
}

static int (*stop_asked)(void);

void occam_outfile_set_stop(int (*stop)(void)) { stop_asked = stop; }

/* A FIFO opened for writing once a reader has it open (blocking writes from then on), or -1:
 * errno, or ECANCELED when stop_asked said stop while no reader came. */
static int open_fifo(const char *path)
{
    for (;;) {
        int fd = open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd >= 0) {
            if (occam_fsutil_blocking(fd) != 0) {
                int e = errno;
                close(fd);
                errno = e;
                return -1;
            }
            return fd;
        }
        if (errno != ENXIO) return -1; /* ENXIO: no reader yet */
        if (stop_asked && stop_asked()) {
            errno = ECANCELED;
            return -1;
        }
        nanosleep(&(struct timespec){.tv_nsec = 20000000}, NULL);
    }
}

int occam_outfile_open(occam_outfile *o, const char *path, occam_error *err)
{
    memset(o, 0, sizeof *o);
    snprintf(o->shown, sizeof o->shown, "%s", path);
    resolved r;
    refusal why;
    if (!resolve(path, &r, &why)) return write_failed(err, path, reason(&why));
    int fd;
    if (r.in_place) {
        o->in_place = true;
        snprintf(o->path, sizeof o->path, "%s", path);
        /* A regular file behind /dev/stdout is the shell's redirection: append, never truncate,
         * after what this process has already printed there. */
        if (descriptor_name(path)) fflush(NULL);
        fd = dup_named(path);
        if (fd < 0 && S_ISFIFO(r.mode)) {
            fd = open_fifo(path);
            if (fd < 0 && errno == ECANCELED)
                return write_failed(err, path, "no process has the FIFO open for reading, and "
                                    "the run was asked to stop");
        } else if (fd < 0) {
            fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC | (S_ISREG(r.mode) ? O_APPEND : 0));
        }
    } else {
        snprintf(o->target, sizeof o->target, "%s", r.target);
        remove_stale(r.target);
        fd = open_tmp(o, r.target);
        /* The replacement keeps the permissions the user gave the old file. A file system
         * without modes (vfat) refuses; the content is what matters, so that is not an error. */
        if (fd >= 0 && r.exists) (void)fchmod(fd, r.mode & 07777);
    }
    if (fd < 0) return write_failed(err, path, strerror(errno));
    o->f = fdopen(fd, "wb");
    if (!o->f) {
        int saved = errno;
        close(fd);
        if (!o->in_place) unlink(o->path);
        forget(o);
        return write_failed(err, path, strerror(saved));
    }
    return OCCAM_OK;
}

bool occam_outfile_write(occam_outfile *o, const void *p, size_t n)
{
    if (n == 0 || fwrite(p, 1, n, o->f) == n) return true;
    if (!o->error) o->error = errno ? errno : EIO;
    return false;
}

int occam_outfile_commit(occam_outfile *o, occam_error *err)
{
    OCCAM_ASSERT(o->f);
    FILE *f = o->f;
    o->f = NULL;
    /* A caller that wrote with fprintf left the failed write's errno behind. */
    int earlier = o->error ? o->error : errno ? errno : EIO;
    int e = 0;
    errno = 0;
    /* fflush retries what is still buffered, so its errno is the real reason (EFBIG, ENOSPC). */
    if (fflush(f) != 0) e = errno ? errno : EIO;
    if (!e && ferror(f)) e = earlier;
    if (!e && !o->in_place && fsync(fileno(f)) != 0) e = errno;
    /* the lock lasts past the rename (a copy of the descriptor holds it): another writer of
     * the target that found the file unlocked between the close and the rename removed it */
    int keep = o->in_place ? -1 : dup(fileno(f));
    if (fclose(f) != 0 && !e) e = errno ? errno : EIO;
    if (!e && !o->in_place && rename(o->path, o->target) != 0) e = errno;
    if (e && !o->in_place) unlink(o->path);
    if (keep >= 0) close(keep);
    forget(o);
    if (e) return write_failed(err, o->shown, strerror(e));
    /* The new file is in place, but its name may not survive a crash: say so. */
    if (!o->in_place && sync_dir(o->target) != 0)
        return write_failed(err, o->shown, strerror(errno));
    return OCCAM_OK;
}

void occam_outfile_abort(occam_outfile *o)
{
    if (!o->f) return;
    int saved = errno;
    fclose(o->f);
    o->f = NULL;
    if (!o->in_place) unlink(o->path);
    forget(o);
    errno = saved;
}

int occam_outfile_write_all(const char *path, const void *buf, size_t n, occam_error *err)
{
    occam_outfile o;
    int rc = occam_outfile_open(&o, path, err);
    if (rc) return rc;
    occam_outfile_write(&o, buf, n);
    return occam_outfile_commit(&o, err);
}
