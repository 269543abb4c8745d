/* The output writer (occam/outfile.h): what a target may be and what becomes of it. Files are
 * replaced atomically, keeping their permissions; symlinks are followed and kept; devices,
 * FIFOs and descriptor names are written in place and never replaced; folders, block devices,
 * sockets and missing folders are refused, by the check with OCCAM_ERR_INPUT and by the writer
 * with OCCAM_ERR_RUNTIME; and no failure leaves a temporary file. Device nodes are made with
 * mknod in the test's own folder, never taken from /dev. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "occam/outfile.h"
#include "tmpdir.h"

static char dir[256];

static void setup(void) { tmpdir_make(dir, sizeof dir, "outfile"); }
static void teardown(void) { tmpdir_remove(dir); }

TestSuite(outfile, .init = setup, .fini = teardown);

static const char *in_dir(const char *name) { return tmpdir_path(dir, name); }

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs(text, f);
    fclose(f);
}

/* The whole file (at most 255 bytes) as a string. */
static const char *get(const char *path)
{
    static char buf[256];
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

static int count_tmp(void)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) n += strstr(e->d_name, ".tmp.") != NULL;
    closedir(d);
    return n;
}

/* mknod NAME as a character device (major, minor), or skip where that is not allowed. */
static const char *make_chr(const char *name, unsigned major, unsigned minor)
{
    const char *p = in_dir(name);
    if (mknod(p, S_IFCHR | 0666, makedev(major, minor)) != 0) {
        teardown(); /* a skipped test's .fini does not run */
        cr_skip_test("mknod is not allowed here: %s", strerror(errno));
    }
    return p;
}

static void expect_refused(const char *path, const char *want)
{
    occam_error err = {0};
    cr_expect_eq(occam_outfile_check(path, "--save", &err), OCCAM_ERR_INPUT, "%s", path);
    cr_expect(strncmp(err.msg, "--save ", 7) == 0 && strstr(err.msg, path), "%s", err.msg);
    cr_expect(strstr(err.msg, want), "want '%s' in: %s", want, err.msg);
    occam_outfile o;
    err = (occam_error){0};
    cr_expect_eq(occam_outfile_open(&o, path, &err), OCCAM_ERR_RUNTIME, "%s", path);
    cr_expect(strstr(err.msg, ": write failed: "), "%s", err.msg);
    cr_expect_null(o.f);
    cr_expect_eq(count_tmp(), 0);
}

Test(outfile, writes_a_new_file_and_replaces_an_old_one)
{
    const char *p = in_dir("a.txt");
    occam_error err = {0};
    cr_assert_eq(occam_outfile_check(p, "--report", &err), OCCAM_OK, "%s", err.msg);
    cr_assert_neq(access(p, F_OK), 0, "the check created the file");
    cr_assert_eq(occam_outfile_write_all(p, "one", 3, &err), OCCAM_OK, "%s", err.msg);
    cr_expect_str_eq(get(p), "one");
    cr_assert_eq(chmod(p, 0600), 0);
    cr_assert_eq(occam_outfile_write_all(p, "two!", 4, &err), OCCAM_OK, "%s", err.msg);
    cr_expect_str_eq(get(p), "two!");
    struct stat st;
    cr_assert_eq(stat(p, &st), 0);
    cr_expect_eq(st.st_mode & 07777, 0600, "mode %o: the old file's permissions are kept",
                 st.st_mode & 07777);
    cr_expect_eq(count_tmp(), 0);
}

Test(outfile, stream_commit_and_abort)
{
    const char *p = in_dir("s.txt");
    put(p, "old");
    occam_outfile o;
    occam_error err = {0};
    cr_assert_eq(occam_outfile_open(&o, p, &err), OCCAM_OK, "%s", err.msg);
    cr_assert_not_null(o.f);
    cr_expect(!o.in_place);
    cr_expect(strstr(o.path, ".tmp."), "%s", o.path);
    fprintf(o.f, "new %d", 42);
    cr_expect_str_eq(get(p), "old", "the target changed before the commit");
    cr_assert_eq(occam_outfile_commit(&o, &err), OCCAM_OK, "%s", err.msg);
    cr_expect_null(o.f);
    cr_expect_str_eq(get(p), "new 42");

    cr_assert_eq(occam_outfile_open(&o, p, &err), OCCAM_OK, "%s", err.msg);
    fputs("half", o.f);
    occam_outfile_abort(&o);
    occam_outfile_abort(&o); /* a second abort is harmless */
    cr_expect_str_eq(get(p), "new 42");
    cr_expect_eq(count_tmp(), 0);
    cr_assert_eq(occam_outfile_open(&o, in_dir("never.txt"), &err), OCCAM_OK, "%s", err.msg);
    occam_outfile_abort(&o);
    cr_expect_neq(access(in_dir("never.txt"), F_OK), 0);
    cr_expect_eq(count_tmp(), 0);
}

Test(outfile, symlinks_are_followed_and_kept)
{
    cr_assert_eq(mkdir(in_dir("sub"), 0777), 0);
    put(in_dir("sub/real.txt"), "old");
    /* link -> link2 -> sub/real.txt, relative links resolved from their own folders */
    cr_assert_eq(symlink("sub/real.txt", in_dir("link2")), 0);
    cr_assert_eq(symlink("link2", in_dir("link")), 0);
    occam_error err = {0};
    cr_assert_eq(occam_outfile_write_all(in_dir("link"), "new", 3, &err), OCCAM_OK, "%s",
                 err.msg);
    struct stat st;
    cr_assert_eq(lstat(in_dir("link"), &st), 0);
    cr_expect(S_ISLNK(st.st_mode), "the link was replaced");
    cr_assert_eq(lstat(in_dir("link2"), &st), 0);
    cr_expect(S_ISLNK(st.st_mode), "the second link was replaced");
    cr_expect_str_eq(get(in_dir("sub/real.txt")), "new");

    /* A link to a file that does not exist yet creates that file. */
    cr_assert_eq(symlink("sub/later.txt", in_dir("dangling")), 0);
    cr_assert_eq(occam_outfile_check(in_dir("dangling"), "--report", &err), OCCAM_OK, "%s",
                 err.msg);
    cr_assert_eq(occam_outfile_write_all(in_dir("dangling"), "made", 4, &err), OCCAM_OK, "%s",
                 err.msg);
    cr_assert_eq(lstat(in_dir("dangling"), &st), 0);
    cr_expect(S_ISLNK(st.st_mode));
    cr_expect_str_eq(get(in_dir("sub/later.txt")), "made");

    /* A link into a missing folder is refused, naming that folder. */
    cr_assert_eq(symlink("nowhere/x.txt", in_dir("lost")), 0);
    expect_refused(in_dir("lost"), "nowhere");
    /* A loop of links is refused. */
    cr_assert_eq(symlink("loop2", in_dir("loop1")), 0);
    cr_assert_eq(symlink("loop1", in_dir("loop2")), 0);
    expect_refused(in_dir("loop1"), "symbolic links");
}

Test(outfile, a_planted_temporary_name_cannot_redirect_the_write)
{
    /* Someone puts a link where the writer will put its temporary file. */
    put(in_dir("victim"), "precious");
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", in_dir("out.txt"), (long)getpid());
    cr_assert_eq(symlink(in_dir("victim"), tmp), 0);
    occam_error err = {0};
    cr_assert_eq(occam_outfile_write_all(in_dir("out.txt"), "data", 4, &err), OCCAM_OK, "%s",
                 err.msg);
    cr_expect_str_eq(get(in_dir("victim")), "precious");
    cr_expect_str_eq(get(in_dir("out.txt")), "data");
    /* the writer's name has a random tag after the PID, and a name it did not make is not
     * removed: the link stays, the only temporary name left */
    struct stat st;
    cr_expect(lstat(tmp, &st) == 0 && S_ISLNK(st.st_mode), "the planted link was removed");
    cr_expect_eq(count_tmp(), 1);
}

Test(outfile, a_character_device_is_written_in_place)
{
    const char *null = make_chr("null", 1, 3);
    occam_error err = {0};
    cr_assert_eq(occam_outfile_check(null, "--save", &err), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(occam_outfile_write_all(null, "gone", 4, &err), OCCAM_OK, "%s", err.msg);
    struct stat st;
    cr_assert_eq(lstat(null, &st), 0);
    cr_expect(S_ISCHR(st.st_mode), "the device was replaced");
    cr_expect_eq(major(st.st_rdev), 1);
    cr_expect_eq(minor(st.st_rdev), 3);
    cr_expect_eq(count_tmp(), 0);
    /* Through a symlink too. */
    cr_assert_eq(symlink("null", in_dir("to-null")), 0);
    cr_assert_eq(occam_outfile_write_all(in_dir("to-null"), "gone", 4, &err), OCCAM_OK, "%s",
                 err.msg);
    cr_assert_eq(lstat(null, &st), 0);
    cr_expect(S_ISCHR(st.st_mode));
    cr_assert_eq(lstat(in_dir("to-null"), &st), 0);
    cr_expect(S_ISLNK(st.st_mode));
}

Test(outfile, a_full_device_fails_with_the_systems_reason)
{
    const char *full = make_chr("full", 1, 7);
    occam_outfile o;
    occam_error err = {0};
    cr_assert_eq(occam_outfile_open(&o, full, &err), OCCAM_OK, "%s", err.msg);
    cr_expect(o.in_place);
    fputs("does not fit", o.f);
    cr_assert_eq(occam_outfile_commit(&o, &err), OCCAM_ERR_RUNTIME);
    char want[600];
    snprintf(want, sizeof want, "%s: write failed: No space left on device", full);
    cr_expect_str_eq(err.msg, want);
    struct stat st;
    cr_assert_eq(lstat(full, &st), 0);
    cr_expect(S_ISCHR(st.st_mode), "the device was removed or replaced");
}

Test(outfile, a_fifo_and_a_descriptor_name_are_written_in_place)
{
    const char *fifo = in_dir("fifo");
    cr_assert_eq(mkfifo(fifo, 0666), 0);
    int rd = open(fifo, O_RDONLY | O_NONBLOCK); /* a reader, so opening for writing won't block */
    cr_assert_geq(rd, 0);
    occam_error err = {0};
    cr_assert_eq(occam_outfile_check(fifo, "--report", &err), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(occam_outfile_write_all(fifo, "through", 7, &err), OCCAM_OK, "%s", err.msg);
    char buf[16] = {0};
    cr_expect_eq(read(rd, buf, sizeof buf - 1), 7);
    cr_expect_str_eq(buf, "through");
    close(rd);
    struct stat st;
    cr_assert_eq(lstat(fifo, &st), 0);
    cr_expect(S_ISFIFO(st.st_mode));

    /* /proc/self/fd/N of a file opened for appending, as a shell's `>> log` is: appended to,
     * the same file (not replaced by a new one). */
    const char *log = in_dir("log");
    put(log, "before,");
    int fd = open(log, O_WRONLY | O_APPEND);
    cr_assert_geq(fd, 0);
    struct stat before, after;
    cr_assert_eq(stat(log, &before), 0);
    char name[64];
    snprintf(name, sizeof name, "/proc/self/fd/%d", fd);
    cr_assert_eq(occam_outfile_write_all(name, "after", 5, &err), OCCAM_OK, "%s", err.msg);
    close(fd);
    cr_assert_eq(stat(log, &after), 0);
    cr_expect_eq(before.st_ino, after.st_ino, "the file was replaced");
    cr_expect_str_eq(get(log), "before,after");
    cr_expect_eq(count_tmp(), 0);

    /* /dev/fd/N of a file opened without O_APPEND, as a shell's `> f` is: written at that
     * descriptor's offset, which moves past it, so the shell's next write follows the output
     * instead of landing over it (a new open had an offset of its own: "before,xyz" and
     * "after" written over "after"). */
    put(log, "");
    fd = open(log, O_WRONLY | O_TRUNC);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, "before,", 7), 7);
    snprintf(name, sizeof name, "/dev/fd/%d", fd);
    cr_assert_eq(occam_outfile_write_all(name, "output,", 7, &err), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(write(fd, "after", 5), 5);
    close(fd);
    cr_expect_str_eq(get(log), "before,output,after");
}

Test(outfile, what_is_not_a_file_is_refused)
{
    cr_assert_eq(mkdir(in_dir("folder"), 0777), 0);
    expect_refused(in_dir("folder"), "is a folder");
    expect_refused(in_dir("missing/"), "folder");
    expect_refused(in_dir("missing/x.json"), "cannot write into the folder");
    expect_refused(in_dir("missing/x.json"), "No such file or directory");
    put(in_dir("plain"), "x");
    expect_refused(in_dir("plain/x.json"), "Not a directory");
    expect_refused("", "empty file name");

    if (mknod(in_dir("disk"), S_IFBLK | 0600, makedev(7, 0)) == 0)
        expect_refused(in_dir("disk"), "block device");
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    cr_assert_geq(s, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s", in_dir("sock"));
    cr_assert_eq(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    expect_refused(in_dir("sock"), "socket");
    close(s);
    /* Nothing refused was touched. */
    struct stat st;
    cr_assert_eq(stat(in_dir("folder"), &st), 0);
    cr_expect(S_ISDIR(st.st_mode));
    cr_expect_neq(access(in_dir("missing"), F_OK), 0);
    cr_expect_str_eq(get(in_dir("plain")), "x");
}

Test(outfile, the_writer_keeps_the_messages_callers_test_for)
{
    /* "PATH: write failed: <the system's words>", without the check's wording */
    occam_outfile o;
    occam_error err = {0};
    const char *p = in_dir("no/such/dir/f.bin");
    cr_assert_eq(occam_outfile_open(&o, p, &err), OCCAM_ERR_RUNTIME);
    char want[600];
    snprintf(want, sizeof want, "%s: write failed: No such file or directory", p);
    cr_expect_str_eq(err.msg, want);
    cr_assert_eq(occam_outfile_check(p, NULL, &err), OCCAM_ERR_INPUT);
    snprintf(want, sizeof want, "%s: cannot write into the folder %s: No such file or directory",
             p, in_dir("no/such/dir"));
    cr_expect_str_eq(err.msg, want);
}

Test(outfile, folders_are_checked_without_creating_them)
{
    occam_error err = {0};
    cr_expect_eq(occam_outfile_check_dir(dir, "train.checkpoint_dir", &err), OCCAM_OK, "%s",
                 err.msg);
    cr_expect_eq(occam_outfile_check_dir(in_dir("a/b/c"), "--out", &err), OCCAM_OK, "%s",
                 err.msg);
    cr_expect_eq(occam_outfile_check_dir(in_dir("a/b/c/"), "--out", &err), OCCAM_OK, "%s",
                 err.msg);
    cr_expect_neq(access(in_dir("a"), F_OK), 0, "the check created a folder");
    put(in_dir("file"), "x");
    cr_assert_eq(occam_outfile_check_dir(in_dir("file"), "train.checkpoint_dir", &err),
                 OCCAM_ERR_INPUT);
    cr_expect(strstr(err.msg, "train.checkpoint_dir ") && strstr(err.msg, "is not a folder"),
              "%s", err.msg);
    cr_assert_eq(occam_outfile_check_dir(in_dir("file/sub"), "--out", &err), OCCAM_ERR_INPUT);
    cr_expect(strstr(err.msg, "--out ") && strstr(err.msg, "Not a directory"), "%s", err.msg);
    cr_assert_eq(occam_outfile_check_dir("", "--out", &err), OCCAM_ERR_INPUT);
    cr_expect_str_eq(get(in_dir("file")), "x");
    /* a relative folder is measured after the working directory: 1,003 bytes under 3,000
     * passed, and the first checkpoint failed after training */
    char deep[4096], rel[1100] = "";
    snprintf(deep, sizeof deep, "%s", dir);
    while (strlen(deep) + 201 < 3050) {
        strcat(deep, "/");
        for (int i = 0; i < 200; i++) strcat(deep, "d");
        cr_assert(mkdir(deep, 0700) == 0 || errno == EEXIST, "%s", strerror(errno));
    }
    for (int k = 0; k < 4; k++) {
        if (k) strcat(rel, "/");
        for (int i = 0; i < 250; i++) strcat(rel, "c");
    }
    cr_assert_eq(occam_outfile_check_dir(rel, "train.checkpoint_dir", &err), OCCAM_OK, "%s",
                 err.msg);
    cr_assert_eq(chdir(deep), 0);
    cr_assert_eq(occam_outfile_check_dir(rel, "train.checkpoint_dir", &err), OCCAM_ERR_INPUT);
    cr_expect(strstr(err.msg, "File name too long"), "%s", err.msg);
    cr_assert_eq(occam_outfile_check_dir("c", "train.checkpoint_dir", &err), OCCAM_OK, "%s",
                 err.msg);
}

/* A file-size limit (as a full disk would): EFBIG, a message, the old file untouched and no
 * temporary file. In a child, since the limit is the process's. */
Test(outfile, a_file_size_limit_fails_cleanly)
{
    const char *p = in_dir("big.bin");
    put(p, "old");
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {4096, 4096};
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0) _exit(77);
        static char big[65536];
        memset(big, 'x', sizeof big);
        occam_outfile o;
        occam_error err = {0};
        int rc = occam_outfile_open(&o, p, &err);
        if (rc == OCCAM_OK) {
            /* written as fprintf would, in pieces, so the failure is met mid-stream */
            for (int i = 0; i < 64; i++) fwrite(big + 1024 * i, 1, 1024, o.f);
            rc = occam_outfile_commit(&o, &err);
        }
        ssize_t w = write(fds[1], err.msg, strlen(err.msg) + 1);
        (void)w;
        _exit(rc);
    }
    close(fds[1]);
    char msg[1100] = {0};
    ssize_t n = read(fds[0], msg, sizeof msg - 1);
    (void)n;
    close(fds[0]);
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st), "the child was killed (signal %d)", WTERMSIG(st));
    if (WEXITSTATUS(st) == 77) {
        teardown(); /* a skipped test's .fini does not run */
        cr_skip_test("cannot set a file-size limit");
    }
    cr_expect_eq(WEXITSTATUS(st), OCCAM_ERR_RUNTIME);
    char want[600];
    snprintf(want, sizeof want, "%s: write failed: File too large", p);
    cr_expect_str_eq(msg, want);
    cr_expect_str_eq(get(p), "old");
    cr_expect_eq(count_tmp(), 0);
}

/* /dev/stdout with stdout closed (`>&-`) names nothing: refused by the check, before the work,
 * and not taken for a file to create in /proc/PID/fd. Checked in a child, whose descriptor 1
 * we may close. */
Test(outfile, a_descriptor_name_that_is_not_open_is_refused)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null < 0 || dup2(null, 9) < 0) _exit(3);
        close(1);
        occam_error err = {0};
        int rc = occam_outfile_check("/dev/stdout", "--report", &err);
        bool named = strstr(err.msg, "--report /dev/stdout: ") &&
                     strstr(err.msg, "not open");
        occam_outfile o;
        occam_error werr = {0};
        int wrc = occam_outfile_open(&o, "/dev/stdout", &werr);
        _exit(rc == OCCAM_ERR_INPUT && named && wrc == OCCAM_ERR_RUNTIME && !o.f ? 0 : 1);
    }
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
}

/* Two output names that end at one file: through a symlink to a file not written yet, through
 * ./ and ../ spellings, and through a hard link; and names that do not. */
Test(outfile, same_tells_two_names_for_one_file)
{
    cr_assert_eq(mkdir(in_dir("sub"), 0777), 0);
    cr_assert_eq(symlink("m.st", in_dir("link")), 0);
    cr_expect(occam_outfile_same(in_dir("m.st"), in_dir("link")), "link to a missing file");
    cr_expect(occam_outfile_same(in_dir("link"), in_dir("sub/../m.st")));
    cr_expect(occam_outfile_same(in_dir("m.st"), in_dir("./m.st")));
    put(in_dir("a"), "x");
    cr_assert_eq(link(in_dir("a"), in_dir("b")), 0);
    cr_expect(occam_outfile_same(in_dir("a"), in_dir("b")), "hard link");
    cr_expect_not(occam_outfile_same(in_dir("a"), in_dir("m.st")));
    cr_expect_not(occam_outfile_same(in_dir("m.st"), in_dir("sub/m.st")));
    /* A device takes both outputs in turn; a refused name is no file at all. */
    const char *null = make_chr("null", 1, 3);
    cr_expect_not(occam_outfile_same(null, null));
    cr_expect_not(occam_outfile_same(in_dir("sub"), in_dir("sub")));
}

/* A descriptor's name (/dev/fd/N, as /dev/stdout is) open on a regular file is written in
 * place, and it is that file: `--report /dev/stdout >> m.st` appended the report to the model
 * read, and `--save /dev/stdout --report r.json > r.json` lost the model (found by the fourth
 * hostile-input sweep). Open on a pipe, or two descriptors' names, it is no file to compare. */
Test(outfile, same_sees_the_file_behind_a_descriptor_name)
{
    put(in_dir("m.st"), "model");
    int fd = open(in_dir("m.st"), O_WRONLY | O_APPEND);
    cr_assert(fd >= 0);
    char name[32];
    snprintf(name, sizeof name, "/dev/fd/%d", fd);
    cr_assert(occam_outfile_in_place(name));
    cr_expect(occam_outfile_same(name, in_dir("m.st")));
    cr_expect(occam_outfile_same(in_dir("./m.st"), name));
    cr_expect_not(occam_outfile_same(name, in_dir("other.st")));
    cr_expect_not(occam_outfile_same(name, name), "two in place: the same stream, said apart");
    int p[2];
    cr_assert_eq(pipe(p), 0);
    snprintf(name, sizeof name, "/dev/fd/%d", p[1]);
    cr_expect_not(occam_outfile_same(name, in_dir("m.st")));
    close(p[0]);
    close(p[1]);
    close(fd);
}

/* ---- signals and what SIGKILL leaves --------------------------------------------------------- */

static bool exists(const char *p)
{
    struct stat st;
    return lstat(p, &st) == 0;
}

/* A child with the handlers installed and two temporary files open (after 20 writes committed
 * or aborted, so freed registry slots are reused), which says so on a pipe and waits. The
 * parent sends sig: the child must die of it, leaving no temporary file and no target, and with
 * `say` say so on stderr, counting the two. */
static void killed_mid_write(int sig, bool say)
{
    int fds[2], errs[2];
    cr_assert_eq(pipe(fds), 0);
    cr_assert_eq(pipe(errs), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        close(errs[0]);
        if (dup2(errs[1], STDERR_FILENO) < 0) _exit(2);
        /* As from a terminal: a runner started with `&` has SIGINT ignored, and an ignored
         * signal stays ignored (see the next test). */
        signal(sig, SIG_DFL);
        occam_outfile_catch_signals(say);
        occam_error err = {0};
        occam_outfile a, b;
        for (int i = 0; i < 20; i++) {
            if (occam_outfile_open(&a, in_dir("done.txt"), &err)) _exit(3);
            fputs("x", a.f);
            if (i % 2) occam_outfile_abort(&a);
            else if (occam_outfile_commit(&a, &err)) _exit(4);
        }
        if (occam_outfile_open(&a, in_dir("a.txt"), &err) ||
            occam_outfile_open(&b, in_dir("b.txt"), &err))
            _exit(5);
        fputs("half", a.f);
        fflush(a.f);
        if (write(fds[1], "r", 1) != 1) _exit(6);
        for (;;) pause();
    }
    close(fds[1]);
    close(errs[1]);
    char c;
    cr_assert_eq(read(fds[0], &c, 1), 1, "the child failed before its writes");
    close(fds[0]);
    cr_expect_eq(count_tmp(), 2, "both temporary files are open");
    cr_assert_eq(kill(pid, sig), 0);
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_expect(WIFSIGNALED(st) && WTERMSIG(st) == sig, "status %#x: not killed by %d", st, sig);
    char said[256] = "", want[256] = "";
    ssize_t got = read(errs[0], said, sizeof said - 1);
    said[got > 0 ? got : 0] = '\0';
    close(errs[0]);
    if (say) snprintf(want, sizeof want, "occam: stopped by signal %d; 2 unfinished outputs "
                      "removed\n", sig);
    cr_expect_str_eq(said, want);
    cr_expect_eq(count_tmp(), 0, "a temporary file was left behind (signal %d)", sig);
    cr_expect(!exists(in_dir("a.txt")) && !exists(in_dir("b.txt")));
    cr_expect_str_eq(get(in_dir("done.txt")), "x");
}

Test(outfile, a_signal_mid_write_removes_the_temporary_files, .timeout = 60)
{
    killed_mid_write(SIGTERM, false);
    killed_mid_write(SIGINT, true);
    killed_mid_write(SIGHUP, true);
    killed_mid_write(SIGPIPE, false);
}

Test(outfile, an_ignored_signal_stays_ignored)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        signal(SIGHUP, SIG_IGN);
        occam_outfile_catch_signals(false);
        raise(SIGHUP);
        struct sigaction sa;
        sigaction(SIGTERM, NULL, &sa);
        _exit(sa.sa_handler == SIG_DFL || sa.sa_handler == SIG_IGN ? 7 : 0);
    }
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x", st);
}

/* A PID that no process has: a child's, once reaped. */
static long dead_pid(void)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) _exit(0);
    cr_assert_eq(waitpid(pid, NULL, 0), pid);
    cr_assert(kill(pid, 0) != 0 && errno == ESRCH);
    return (long)pid;
}

static const char *named(const char *fmt, long pid)
{
    static char buf[8][64];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], fmt, pid);
    return in_dir(buf[k]);
}

Test(outfile, what_sigkill_left_is_removed_by_the_next_write)
{
    long dead = dead_pid(), live = (long)getppid();
    const char *stale = named("x.csv.tmp.%ld", dead);
    const char *stale2 = named("x.csv.tmp.%ld", 999999999L); /* above any pid_max */
    const char *alive = named("x.csv.tmp.%ld", live);
    const char *keep[] = {named("x.csv.tmp.%ld.bak", dead), named("x.csv.tmp.0%ld", dead),
                          named("x.csv.tmp.+%ld", dead),    named("xx.csv.tmp.%ld", dead),
                          named("y.csv.tmp.%ld", dead),     named("x.csv.tmp.%ld9999999999", 1),
                          named("x.csv.TMP.%ld", dead),     named("x.csv.tmp.-%ld", dead),
                          in_dir("x.csv.tmp."),             in_dir("x.csv.tmp.abc")};
    put(stale, "stale");
    put(stale2, "stale");
    put(alive, "alive");
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) put(keep[i], "other");
    /* Only regular files: a folder or a link with the name stays. */
    const char *sdir = named("x.csv.tmp.%ld", 999999997L);
    cr_assert_eq(mkdir(sdir, 0700), 0);
    cr_assert_eq(symlink(in_dir("victim"), named("x.csv.tmp.%ld", 999999998L)), 0);
    put(in_dir("victim"), "precious");

    occam_error err = {0};
    cr_assert_eq(occam_outfile_write_all(in_dir("x.csv"), "new", 3, &err), OCCAM_OK, "%s",
                 err.msg);
    cr_expect_str_eq(get(in_dir("x.csv")), "new");
    cr_expect(!exists(stale), "a dead process's temporary file was kept");
    cr_expect(!exists(stale2));
    cr_expect_str_eq(get(alive), "alive", "a live process's temporary file was removed");
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
        cr_expect(exists(keep[i]), "%s was removed", keep[i]);
    cr_expect(exists(sdir), "a folder was removed");
    cr_expect(exists(named("x.csv.tmp.%ld", 999999998L)), "a link was removed");
    cr_expect_str_eq(get(in_dir("victim")), "precious");

    /* Through a symlink, the folder cleaned is the target's. */
    char sub[600];
    snprintf(sub, sizeof sub, "%s", in_dir("sub"));
    cr_assert_eq(mkdir(sub, 0700), 0);
    char stale3[700];
    snprintf(stale3, sizeof stale3, "%s/t.txt.tmp.%ld", sub, dead);
    put(stale3, "stale");
    cr_assert_eq(symlink("sub/t.txt", in_dir("link")), 0);
    cr_assert_eq(occam_outfile_write_all(in_dir("link"), "v", 1, &err), OCCAM_OK, "%s", err.msg);
    cr_expect(!exists(stale3));
}

/* A child that holds the lock on path, as a live writer of another PID namespace or host does
 * (its PID names nothing here, or another process); it lets go when a byte is written to
 * *release (not at its close: other children hold copies). */
static pid_t hold_lock(const char *path, int *release)
{
    int ready[2], go[2];
    cr_assert_eq(pipe(ready), 0);
    cr_assert_eq(pipe(go), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        int fd = open(path, O_RDONLY);
        char c = fd >= 0 && flock(fd, LOCK_EX) == 0 ? 'y' : 'n';
        if (write(ready[1], &c, 1) != 1) _exit(1);
        (void)read(go[0], &c, 1);
        _exit(0);
    }
    char c = 0;
    cr_assert_eq(read(ready[0], &c, 1), 1);
    cr_assert_eq(c, 'y');
    close(ready[0]);
    close(ready[1]);
    close(go[0]);
    *release = go[1];
    return pid;
}

/* Writers tag their temporary names (TARGET.tmp.PID.TAG) and hold a lock on the file: a PID
 * alone is not unique across PID namespaces (two containers' PID 1) or hosts, and a writer took
 * another's live file for its own leftover, removed it, and the other renamed a half-written
 * file over the target. A tagged file is stale when nobody holds its lock, whatever its PID. */
Test(outfile, a_tagged_temporary_file_is_removed_only_when_no_writer_holds_its_lock)
{
    long dead = dead_pid(), self = (long)getpid();
    const char *live_self = named("x.csv.tmp.%ld.0badcafe", self); /* another namespace's */
    const char *live_dead = named("x.csv.tmp.%ld.00000001", dead);
    const char *gone_live = named("x.csv.tmp.%ld.abcdef01", (long)getppid()); /* PID reused */
    const char *keep[] = {named("x.csv.tmp.%ld.0BADCAFE", dead), named("x.csv.tmp.%ld.abc", dead),
                          named("x.csv.tmp.%ld.0123456789", dead), named("x.csv.tmp.%ld.", dead)};
    put(live_self, "writing");
    put(live_dead, "writing");
    put(gone_live, "left");
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) put(keep[i], "other");
    int rel[2];
    pid_t holders[2] = {hold_lock(live_self, &rel[0]), hold_lock(live_dead, &rel[1])};
    occam_error err = {0};
    cr_assert_eq(occam_outfile_write_all(in_dir("x.csv"), "new", 3, &err), OCCAM_OK, "%s",
                 err.msg);
    cr_expect_str_eq(get(in_dir("x.csv")), "new");
    cr_expect_str_eq(get(live_self), "writing", "a live writer's file (our PID) was removed");
    cr_expect_str_eq(get(live_dead), "writing", "a live writer's file (a dead PID) was removed");
    cr_expect(!exists(gone_live), "a file nobody writes was kept");
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
        cr_expect(exists(keep[i]), "%s was removed", keep[i]);
    /* the writers end: their files are then leftovers, removed by the next write */
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(write(rel[i], "x", 1), 1);
        cr_assert_eq(waitpid(holders[i], NULL, 0), holders[i]);
        close(rel[i]);
    }
    cr_assert_eq(occam_outfile_write_all(in_dir("x.csv"), "newer", 5, &err), OCCAM_OK, "%s",
                 err.msg);
    cr_expect(!exists(live_self) && !exists(live_dead));
    /* the writer's own name: tagged, and locked while it is open */
    occam_outfile o;
    cr_assert_eq(occam_outfile_open(&o, in_dir("y.csv"), &err), OCCAM_OK, "%s", err.msg);
    const char *tail = strstr(o.path, ".tmp.");
    char want[64];
    snprintf(want, sizeof want, ".tmp.%ld.", self);
    cr_assert(tail && !strncmp(tail, want, strlen(want)) && strlen(tail) == strlen(want) + 8,
              "%s", o.path);
    int fd = open(o.path, O_RDONLY);
    cr_assert_geq(fd, 0);
    cr_expect(flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK, "not locked");
    close(fd);
    occam_outfile_abort(&o);
    cr_expect(!exists(o.path));
}

/* A folder on a kernel file system takes no file, though access() lets root create one there:
 * `--report /proc/version` trained, then failed to write. The check refuses it at the start,
 * naming the file system. Only checked: nothing is opened there. A folder gets the same words
 * for a user without privileges, whom access() refuses too (the suite run as nobody was told
 * 'Permission denied' and failed here); an existing file that user cannot write, /proc/version
 * (0444), is refused as that, before its folder is looked at. */
Test(outfile, a_folder_on_a_kernel_file_system_is_refused_at_the_check)
{
    static const char *const paths[][2] = {
        {"/proc/version", "cannot write into the folder /proc: it is on proc, a kernel file "
                          "system"},
        {"/proc/occam-no-such-file.json", "it is on proc"},
        {"/sys/kernel/occam-no-such-file.json", "it is on sysfs"},
    };
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        occam_error err = {0};
        struct stat st;
        if (i == 2 && (stat("/sys/kernel", &st) != 0 || !S_ISDIR(st.st_mode))) continue;
        cr_expect_eq(occam_outfile_check(paths[i][0], "--report", &err), OCCAM_ERR_INPUT, "%s",
                     paths[i][0]);
        const char *want = i == 0 && access(paths[i][0], W_OK) != 0
                               ? "--report /proc/version: Permission denied"
                               : paths[i][1];
        cr_expect(strstr(err.msg, want), "want '%s' in: %s", want, err.msg);
    }
    occam_error err = {0};
    cr_expect_eq(occam_outfile_check_dir("/proc", "train.checkpoint_dir", &err),
                 OCCAM_ERR_INPUT);
    cr_expect_str_eq(err.msg, "train.checkpoint_dir /proc: it is on proc, a kernel file system, "
                     "where occam makes no files");
}

/* mqueue and hugetlbfs take a new file, but not its bytes: the file there is a message queue,
 * or page-backed, and write() fails (EINVAL) once the run's work is done, leaving an empty
 * file. They are refused at the check too. Mounted in the test's own folder, inside a mount
 * namespace of this process alone (they vanish with it); skipped where mounting is not
 * allowed. */
Test(outfile, mqueue_and_hugetlbfs_folders_are_refused_at_the_check)
{
    if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        cr_skip_test("no mount namespace here: %s", strerror(errno));
    static const char *const kinds[] = {"mqueue", "hugetlbfs"};
    int tested = 0;
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
        char at[512];
        snprintf(at, sizeof at, "%s", in_dir(kinds[i]));
        cr_assert_eq(mkdir(at, 0700), 0);
        if (mount("none", at, kinds[i], 0, NULL) != 0) continue; /* not in this kernel */
        tested++;
        char file[600], want[128];
        snprintf(file, sizeof file, "%s/out.json", at);
        snprintf(want, sizeof want, "it is on %s, a kernel file system, where occam makes no "
                 "files", kinds[i]);
        occam_error err = {0};
        cr_expect_eq(occam_outfile_check(file, "--report", &err), OCCAM_ERR_INPUT, "%s", file);
        cr_expect(strstr(err.msg, want), "want '%s' in: %s", want, err.msg);
        occam_error e2 = {0};
        cr_expect_eq(occam_outfile_check_dir(at, "train.checkpoint_dir", &e2), OCCAM_ERR_INPUT);
        cr_expect(strstr(e2.msg, want), "want '%s' in: %s", want, e2.msg);
        /* (mqueue shows the IPC namespace's queues, whoever made them: only ours count) */
        DIR *d = opendir(at);
        cr_assert(d);
        for (struct dirent *e; (e = readdir(d));)
            cr_expect(strncmp(e->d_name, "out.json", 8) != 0, "the check made %s in %s",
                      e->d_name, at);
        closedir(d);
        cr_assert_eq(umount2(at, MNT_DETACH), 0, "%s", strerror(errno));
    }
    if (!tested) cr_skip_test("neither mqueue nor hugetlbfs mounts here");
}

/* A folder removed while in use (the working directory, rmdir'd under the run) still stats and
 * passes access(): a checkpoint folder to be made in it failed only once the data had loaded,
 * exit 1, naming no key (found by an environment sweep). */
Test(outfile, a_deleted_working_directory_is_refused_at_the_check)
{
    char here[4096], gone[600];
    cr_assert(getcwd(here, sizeof here));
    snprintf(gone, sizeof gone, "%s", in_dir("gone"));
    cr_assert_eq(mkdir(gone, 0700), 0);
    cr_assert_eq(chdir(gone), 0);
    cr_assert_eq(rmdir(gone), 0);
    occam_error err = {0};
    int rc = occam_outfile_check_dir("checkpoints", "train.checkpoint_dir", &err);
    occam_error e2 = {0};
    int rc2 = occam_outfile_check_dir(".", "train.checkpoint_dir", &e2);
    cr_assert_eq(chdir(here), 0);
    cr_expect_eq(rc, OCCAM_ERR_INPUT);
    cr_expect_str_eq(err.msg, "train.checkpoint_dir checkpoints: cannot write into the folder .: "
                     "is in the working directory, which was deleted");
    cr_expect_eq(rc2, OCCAM_ERR_INPUT);
    cr_expect(strstr(e2.msg, "which was deleted"), "%s", e2.msg);
}
