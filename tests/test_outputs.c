/* The commands' outputs end to end ($OCCAM_BIN, default build/occam): every output path is
 * checked before the work (exit 2 in seconds, nothing trained), a device or symlink target is
 * written, never replaced, the model is saved even when the report then fails (exit 1, saying
 * what was saved where), a file-size limit is an ordinary failure (exit 1, a message, no
 * temporary file), a partial predict or plot output is removed, and a plot folder name cannot
 * inject gnuplot commands. Also cli_outputs_write, the ordering, on its own. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../src/cli/cli.h"
#include "../src/cli/plot-impl.h"
#include "../src/cli/plot.h"
#include "shell.h"
#include "tmpdir.h"

static char dir[256];
static char out[1 << 16];

static void setup(void) { tmpdir_make(dir, sizeof dir, "outputs"); }
static void teardown(void) { tmpdir_remove(dir); }

TestSuite(outputs, .init = setup, .fini = teardown);

static const char *in_dir(const char *name) { return tmpdir_path(dir, name); }

static double seconds;

/* argv[0] = $OCCAM_BIN, then first (unless NULL) and the NULL-terminated rest; returns argv[0]. */
static const char *occam_argv(char *argv[64], const char *first, va_list ap)
{
    const char *bin = shell_occam_bin();
    int argc = 0;
    argv[argc++] = (char *)bin;
    if (first) argv[argc++] = (char *)first;
    for (const char *a; argc < 63 && (a = va_arg(ap, const char *));) argv[argc++] = (char *)a;
    argv[argc] = NULL;
    return bin;
}

/* Runs occam with the arguments (NULL-terminated) under a file-size limit of fsize bytes (0:
 * none), with SIGXFSZ at its default as a shell leaves it; output and errors into `out`.
 * Returns the exit status; a death by signal fails the test. */
static int occam_run(long fsize, ...)
{
    char *argv[64];
    va_list ap;
    va_start(ap, fsize);
    const char *bin = occam_argv(argv, NULL, ap);
    va_end(ap);
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        signal(SIGXFSZ, SIG_DFL);
        if (fsize > 0) {
            struct rlimit rl = {(rlim_t)fsize, (rlim_t)fsize};
            if (setrlimit(RLIMIT_FSIZE, &rl) != 0) _exit(99);
        }
        execv(bin, argv);
        _exit(98);
    }
    close(fds[1]);
    size_t n = 0;
    ssize_t got;
    while (n < sizeof out - 1 && (got = read(fds[0], out + n, sizeof out - 1 - n)) > 0)
        n += (size_t)got;
    out[n] = 0;
    close(fds[0]);
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    cr_assert(WIFEXITED(st), "killed by signal %d: %s", WIFSIGNALED(st) ? WTERMSIG(st) : 0, out);
    cr_assert_neq(WEXITSTATUS(st), 98, "cannot run %s", bin);
    cr_assert_neq(WEXITSTATUS(st), 99, "cannot set the file-size limit");
    return WEXITSTATUS(st);
}

static void expect(int rc, int want, const char *needle)
{
    cr_assert_eq(rc, want, "exit %d (want %d): %s", rc, want, out);
    if (needle) cr_assert(strstr(out, needle), "expected '%s' in: %s", needle, out);
}

/* Training never started: no epoch line, no result. */
static void expect_untrained(void)
{
    cr_expect_null(strstr(out, "epoch 1/"), "it trained: %s", out);
    cr_expect_null(strstr(out, "# result"), "it trained: %s", out);
    cr_expect_lt(seconds, 10.0, "took %.1f s", seconds);
}

/* Files under dir (recursively) whose name holds ".tmp.". */
static int count_tmp(const char *d)
{
    DIR *h = opendir(d);
    if (!h) return 0;
    int n = 0;
    for (struct dirent *e; (e = readdir(h));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char p[1200];
        snprintf(p, sizeof p, "%s/%s", d, e->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) n += count_tmp(p);
        n += strstr(e->d_name, ".tmp.") != NULL;
    }
    closedir(h);
    return n;
}

static bool exists(const char *p)
{
    struct stat st;
    return lstat(p, &st) == 0;
}

static long size_of(const char *p)
{
    struct stat st;
    cr_assert_eq(stat(p, &st), 0, "%s: %s", p, strerror(errno));
    return (long)st.st_size;
}

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs(text, f);
    fclose(f);
}

#define BLOBS "configs/blobs.ini"
#define EPOCHS_1 "--set", "train.epochs=1"
/* Checkpoints of these runs stay in the test's folder. */
#define CKDIR(name) "--set", ckset(name)

static const char *ckset(const char *name)
{
    static char buf[4][700];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "train.checkpoint_dir=%s", in_dir(name));
    return buf[k];
}

/* ---- item 1: devices and symlinks ---------------------------------------------------------- */

Test(outputs, a_device_target_stays_a_device)
{
    const char *null = in_dir("mynull");
    if (mknod(null, S_IFCHR | 0666, makedev(1, 3)) != 0) {
        teardown(); /* a skipped test's .fini does not run */
        cr_skip_test("mknod is not allowed here: %s", strerror(errno));
    }
    expect(occam_run(0, "train", BLOBS, EPOCHS_1, CKDIR("ck"), "--save", null, "--report", null,
                     NULL),
           0, "saved  ");
    struct stat st;
    cr_assert_eq(lstat(null, &st), 0);
    cr_expect(S_ISCHR(st.st_mode), "--save replaced the device");
    cr_expect(major(st.st_rdev) == 1 && minor(st.st_rdev) == 3);
    cr_expect_eq(count_tmp(dir), 0);
}

Test(outputs, a_symlink_target_is_followed_and_kept)
{
    const char *real = in_dir("real.safetensors"), *link = in_dir("link.safetensors");
    put(real, "old");
    cr_assert_eq(symlink("real.safetensors", link), 0);
    cr_assert_eq(symlink("report.json", in_dir("r-link.json")), 0); /* to a file not there yet */
    expect(occam_run(0, "train", BLOBS, EPOCHS_1, CKDIR("ck"), "--save", link, "--report",
                     in_dir("r-link.json"), NULL),
           0, NULL);
    struct stat st;
    cr_assert_eq(lstat(link, &st), 0);
    cr_expect(S_ISLNK(st.st_mode), "the link was replaced");
    cr_assert_eq(lstat(in_dir("r-link.json"), &st), 0);
    cr_expect(S_ISLNK(st.st_mode), "the report's link was replaced");
    cr_expect_gt(size_of(real), 1000, "the link's target was not written");
    cr_expect_gt(size_of(in_dir("report.json")), 1000);
    expect(occam_run(0, "eval", BLOBS, "--checkpoint", real, NULL), 0, "accuracy");
}

/* ---- items 2 and 3: outputs checked before the work ------------------------------------------ */

Test(outputs, a_bad_output_path_is_exit_2_before_training)
{
    const char *model = in_dir("m.safetensors");
    /* issue 12 item 2, with a folder that surely does not exist */
    expect(occam_run(0, "train", "configs/default.ini", "--set", "train.epochs=2", "--report",
                     in_dir("nonexistent/r.json"), "--save", model, NULL),
           2, "--report ");
    cr_expect(strstr(out, "nonexistent") && strstr(out, "No such file or directory"), "%s", out);
    expect_untrained();
    cr_expect(!exists(model));

    cr_assert_eq(mkdir(in_dir("folder"), 0777), 0);
    expect(occam_run(0, "train", BLOBS, "--save", in_dir("folder"), NULL), 2, "--save ");
    cr_expect(strstr(out, "is a folder"), "%s", out);
    expect_untrained();
    expect(occam_run(0, "train", BLOBS, "--report", in_dir("folder"), NULL), 2, "is a folder");
    expect_untrained();

    put(in_dir("file"), "x");
    expect(occam_run(0, "train", BLOBS, "--set", ckset("file"), NULL), 2,
           "train.checkpoint_dir ");
    cr_expect(strstr(out, "is not a folder"), "%s", out);
    expect_untrained();
    expect(occam_run(0, "train", BLOBS, "--set", ckset("file/ck"), NULL), 2,
           "train.checkpoint_dir ");
    expect_untrained();
    cr_expect_eq(count_tmp(dir), 0);
}

Test(outputs, the_other_commands_check_their_outputs_first)
{
    const char *model = in_dir("m.safetensors");
    expect(occam_run(0, "train", BLOBS, EPOCHS_1, CKDIR("ck"), "--save", model, NULL), 0, NULL);
    cr_assert_eq(mkdir(in_dir("folder"), 0777), 0);
    const char *bad = in_dir("missing/x");
    expect(occam_run(0, "compress", BLOBS, "--checkpoint", model, "--out", in_dir("folder"),
                     NULL), 2, "--out ");
    expect(occam_run(0, "compress", BLOBS, "--checkpoint", model, "--out", bad, NULL), 2,
           "--out ");
    expect(occam_run(0, "eval", BLOBS, "--checkpoint", model, "--report", bad, NULL), 2,
           "--report ");
    cr_expect_null(strstr(out, "accuracy"), "it evaluated first: %s", out);
    expect(occam_run(0, "predict", BLOBS, "--checkpoint", model, "--input", model, "--output",
                     bad, NULL), 2, "--output ");
    expect(occam_run(0, "bench", "select", "--n", "1000", "--dump", bad, NULL), 2, "--dump ");
    put(in_dir("file"), "x");
    expect(occam_run(0, "plot", in_dir("none.json"), "--out", in_dir("file"), NULL), 2,
           "--out ");
    expect(occam_run(0, "plot", in_dir("none.json"), "--out", in_dir("file/sub"), NULL), 2,
           "--out ");
    cr_expect(!exists(in_dir("missing")));
    cr_expect_eq(count_tmp(dir), 0);
}

/* ---- item 2: after training, the model first ------------------------------------------------ */

/* The report is larger than the model, so a file-size limit between the two lets the model be
 * saved and makes the report fail: the one failure that cannot be checked for beforehand. */
Test(outputs, a_report_that_fails_after_training_does_not_lose_the_model)
{
    const char *model = in_dir("m.safetensors"), *report = in_dir("r.json");
    expect(occam_run(0, "train", BLOBS, EPOCHS_1, CKDIR("ck"), "--save", model, "--report",
                     report, NULL), 0, NULL);
    long m = size_of(model), r = size_of(report);
    if (m >= r) {
        teardown(); /* a skipped test's .fini does not run */
        cr_skip_test("the model (%ld B) is not smaller than the report (%ld B)", m, r);
    }
    unlink(model);
    unlink(report);
    expect(occam_run((m + r) / 2, "train", BLOBS, EPOCHS_1, CKDIR("ck"), "--save", model,
                     "--report", report, NULL), 1, NULL);
    char want[1500];
    snprintf(want, sizeof want, "occam: wrote the model to %s; the report could not be written: "
             "%s: write failed: File too large", model, report);
    cr_expect(strstr(out, want), "want '%s' in: %s", want, out);
    cr_expect(strstr(out, "saved  "), "%s", out);
    cr_expect(!exists(report));
    cr_expect_eq(count_tmp(dir), 0);
    expect(occam_run(0, "eval", BLOBS, "--checkpoint", model, NULL), 0, "accuracy");
}

typedef struct fake {
    int calls, order[4];
} fake;

static int fake_ok(void *ctx, const char *path, occam_error *err)
{
    (void)path;
    (void)err;
    fake *f = ctx;
    f->order[f->calls++] = 1;
    return OCCAM_OK;
}

static int fake_fail(void *ctx, const char *path, occam_error *err)
{
    fake *f = ctx;
    f->order[f->calls++] = 2;
    return occam_error_set(err, OCCAM_ERR_INPUT, "%s: write failed: Disk quota exceeded", path);
}

Test(outputs, every_output_is_written_in_order_whatever_fails)
{
    fake f = {0};
    occam_error err = {0};
    cli_output outs[] = {{.label = "the model", .path = "m.st", .write = fake_fail, .ctx = &f},
                         {.label = "the report", .path = "r.json", .write = fake_ok, .ctx = &f},
                         {.label = "the plot", .path = NULL, .write = fake_fail, .ctx = &f}};
    cr_assert_eq(cli_outputs_write(outs, 3, &err), OCCAM_ERR_RUNTIME);
    cr_expect_eq(f.calls, 2, "an output not asked for was written, or one was skipped");
    cr_expect(f.order[0] == 2 && f.order[1] == 1);
    cr_expect_str_eq(err.msg, "the model could not be written: m.st: write failed: Disk quota "
                              "exceeded; wrote the report to r.json");
    cr_expect_eq(outs[0].rc, OCCAM_ERR_INPUT);
    cr_expect_eq(outs[1].rc, OCCAM_OK);

    f = (fake){0};
    outs[0].write = fake_ok;
    outs[1].write = fake_fail;
    cr_assert_eq(cli_outputs_write(outs, 3, &err), OCCAM_ERR_RUNTIME);
    cr_expect_str_eq(err.msg, "wrote the model to m.st; the report could not be written: r.json: "
                              "write failed: Disk quota exceeded");
    f = (fake){0};
    outs[1].write = fake_ok;
    err = (occam_error){0};
    cr_assert_eq(cli_outputs_write(outs, 3, &err), OCCAM_OK);
    cr_expect_eq(f.calls, 2);
    cr_expect_str_eq(err.msg, "");
}

/* ---- item 6: a file-size limit -------------------------------------------------------------- */

/* The limit meets the last epoch's checkpoint: the checkpoint before it is kept and named, and
 * the run's --save (small enough to fit) is written, where it was lost with the epoch's state.
 * Then the same limit without checkpoints: the model's own save fails, exit 1. */

Test(outputs, a_file_size_limit_is_exit_1_and_keeps_the_last_good_checkpoint)
{
    const char *ck = in_dir("ulf");
    expect(occam_run(0, "train", BLOBS, "--set", "train.epochs=2", "--set",
                     "train.checkpoint_every=1", "--set", ckset("ulf"), NULL), 0, NULL);
    char good[800];
    snprintf(good, sizeof good, "%s/ckpt-e0002-s000000064.safetensors", ck);
    long size = size_of(good);
    FILE *f = fopen(good, "rb");
    cr_assert_not_null(f);
    char *before = malloc((size_t)size);
    cr_assert_eq(fread(before, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    /* issue 12 item 6: ulimit -f 10 */
    expect(occam_run(10 * 1024, "train", BLOBS, "--set", "train.epochs=3", "--set",
                     "train.checkpoint_every=1", "--set", ckset("ulf"), "--resume", good,
                     "--save", in_dir("m.safetensors"), NULL),
           1, "File too large");
    cr_expect(strstr(out, "ckpt-e0003") && strstr(out, "write failed"), "%s", out);
    cr_expect(strstr(out, "the last good checkpoint is") && strstr(out, good), "%s", out);
    cr_expect_eq(count_tmp(dir), 0, "a temporary file was left");
    /* the last epoch's checkpoint failing no longer loses the finished model: the outputs are
     * written (this model fits under the limit) and the run exits 1 saying so */
    cr_expect(strstr(out, "the last checkpoint was not written (the outputs were)"), "%s", out);
    expect(occam_run(0, "eval", BLOBS, "--checkpoint", in_dir("m.safetensors"), NULL), 0,
           "accuracy");
    unlink(in_dir("m.safetensors"));
    f = fopen(good, "rb");
    cr_assert_not_null(f);
    char *after = malloc((size_t)size + 1);
    cr_expect_eq(fread(after, 1, (size_t)size + 1, f), (size_t)size);
    fclose(f);
    cr_expect(memcmp(before, after, (size_t)size) == 0, "the last good checkpoint changed");
    free(before);
    free(after);
    expect(occam_run(0, "eval", BLOBS, "--checkpoint", good, NULL), 0, "accuracy");

    /* The same limit without checkpoints: the model save fails at the end, exit 1. */
    expect(occam_run(4096, "train", BLOBS, EPOCHS_1, CKDIR("ck2"), "--save",
                     in_dir("m.safetensors"), NULL), 1, "the model could not be written");
    cr_expect(strstr(out, "File too large"), "%s", out);
    cr_expect(!exists(in_dir("m.safetensors")));
    cr_expect_eq(count_tmp(dir), 0);
}

/* The last epoch's checkpoint failing in a run that wrote no other said "the last good
 * checkpoint is none", as if a file were named none. */
Test(outputs, a_run_whose_only_checkpoint_fails_names_no_last_good_one)
{
    expect(occam_run(10 * 1024, "train", BLOBS, EPOCHS_1, "--set", "train.checkpoint_every=1",
                     "--set", ckset("only"), "--save", in_dir("m.safetensors"), NULL),
           1, "File too large");
    cr_expect(strstr(out, "the last checkpoint was not written (the outputs were)"), "%s", out);
    cr_expect(strstr(out, "no checkpoint of this run was written"), "%s", out);
    cr_expect(!strstr(out, "checkpoint is none"), "%s", out);
    cr_expect_eq(count_tmp(dir), 0, "a temporary file was left");
    expect(occam_run(0, "eval", BLOBS, "--checkpoint", in_dir("m.safetensors"), NULL), 0,
           "accuracy");
}

/* ---- predict: no partial output ------------------------------------------------------------- */

/* A model trained for one epoch, and a CSV of `rows` rows of 20 features to predict on. */
static void predict_setup(const char *model, const char *csv, int rows)
{
    expect(occam_run(0, "train", BLOBS, EPOCHS_1, CKDIR("ck"), "--save", model, NULL), 0, NULL);
    FILE *f = fopen(csv, "w");
    cr_assert_not_null(f);
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < 20; j++)
            fprintf(f, "%.3f%c", (i * 7 + j * 3) % 11 - 5.0, j < 19 ? ',' : '\n');
    cr_assert_eq(fclose(f), 0);
}

/* Runs `sh -c CMD`, what it sends to its stdout captured into `out`; the exit status. */
static int shell_status(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = 0;
    int st = pclose(p);
    cr_assert(WIFEXITED(st), "%s: status %d", cmd, st);
    return WEXITSTATUS(st);
}

/* stdout on a full disk (a /dev/full made with mknod here): 'occam mdl --json' and 'occam
 * topo' exited 1 with "writing to standard output failed" and no reason, where every other
 * command gives the system's ("No space left on device"). */
Test(outputs, stdout_on_a_full_disk_says_why)
{
    const char *full = in_dir("full");
    if (mknod(full, S_IFCHR | 0666, makedev(1, 7)) != 0) {
        teardown(); /* a skipped test's .fini does not run */
        cr_skip_test("mknod is not allowed here: %s", strerror(errno));
    }
    const char *model = in_dir("m.safetensors"), *csv = in_dir("in.csv");
    predict_setup(model, csv, 10);
    const char *bin = shell_occam_bin();
    static const char *const args[] = {"mdl " BLOBS " --threads 1 --json --checkpoint %s",
                                       "topo --threads 1 --json", "topo --threads 1"};
    for (size_t i = 0; i < sizeof args / sizeof *args; i++) {
        char line[1024], cmd[2048];
        snprintf(line, sizeof line, args[i], model);
        snprintf(cmd, sizeof cmd, "%s %s 2>&1 >%s", bin, line, full); /* stderr to `out` */
        expect(shell_status(cmd), 1, "writing to standard output failed: No space left on device");
    }
}

Test(outputs, a_failed_predict_output_leaves_no_partial_file)
{
    const char *model = in_dir("m.safetensors"), *csv = in_dir("in.csv");
    predict_setup(model, csv, 2000);
    const char *pred = in_dir("pred.csv");
    /* the output is about 60 KB */
    expect(occam_run(20 * 1024, "predict", BLOBS, "--checkpoint", model, "--input", csv,
                     "--output", pred, NULL), 1, "File too large");
    cr_expect(!exists(pred), "a partial output was left");
    cr_expect_eq(count_tmp(dir), 0);
    /* An old output survives a failed run untouched. */
    put(pred, "old");
    expect(occam_run(20 * 1024, "predict", BLOBS, "--checkpoint", model, "--input", csv,
                     "--output", pred, NULL), 1, "write failed");
    cr_expect_eq(size_of(pred), 3);
    expect(occam_run(0, "predict", BLOBS, "--checkpoint", model, "--input", csv, "--output",
                   pred, NULL), 0, NULL);
    cr_expect_gt(size_of(pred), 20 * 1024);

    const char *full = in_dir("full");
    if (mknod(full, S_IFCHR | 0666, makedev(1, 7)) == 0) {
        expect(occam_run(0, "predict", BLOBS, "--checkpoint", model, "--input", csv, "--output",
                         full, NULL), 1, "No space left on device");
        struct stat st;
        cr_assert_eq(lstat(full, &st), 0);
        cr_expect(S_ISCHR(st.st_mode));
    }
}

/* --save failing at the end of a run (a full or read-only disk found only then) lost the
 * trained model when the run kept no checkpoints (found by a resource sweep): it is now
 * written to the run's own folder, train.checkpoint_dir, under the same name, and the run
 * still exits 1 saying where it went. */
Test(outputs, a_model_save_fails_into_the_runs_own_folder)
{
    const char *full = in_dir("full");
    /* the full device needs mknod (root); without it the test is skipped, as its neighbours
     * are (run as nobody, it failed) */
    if (mknod(full, S_IFCHR | 0666, makedev(1, 7)) != 0) {
        teardown(); /* a skipped test's .fini does not run */
        cr_skip_test("mknod is not allowed here: %s", strerror(errno));
    }
    char ck[600];
    snprintf(ck, sizeof ck, "train.checkpoint_dir=%s", in_dir("ck"));
    expect(occam_run(0, "train", BLOBS, "--set", "train.epochs=2", "--set", ck, "--save", full,
                     NULL), 1, "the model was written to ");
    cr_assert(strstr(out, "No space left on device"), "%s", out);
    expect(occam_run(0, "eval", BLOBS, "--checkpoint", in_dir("ck/full"), NULL), 0,
           "accuracy 1.0000");
    /* a second such run never replaces the first one's model there */
    struct stat before, after;
    cr_assert_eq(stat(in_dir("ck/full"), &before), 0);
    expect(occam_run(0, "train", BLOBS, "--set", "train.epochs=1", "--set", ck, "--save", full,
                     NULL), 1, "the model was written to ");
    cr_assert(strstr(out, "ck/full.1 instead"), "%s", out);
    cr_assert_eq(stat(in_dir("ck/full"), &after), 0);
    cr_assert(before.st_ino == after.st_ino && before.st_mtime == after.st_mtime &&
              before.st_size == after.st_size, "the first model was replaced");
}

/* ---- a signal mid-write ------------------------------------------------------------------- */

/* Starts occam with the arguments (NULL-terminated), its output to /dev/null. */
static pid_t occam_start(const char *arg, ...)
{
    char *argv[64];
    va_list ap;
    va_start(ap, arg);
    const char *bin = occam_argv(argv, arg, ap);
    va_end(ap);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        signal(SIGTERM, SIG_DFL);
        execv(bin, argv);
        _exit(98);
    }
    return pid;
}

/* The predict output is opened only after the input is read and the rows computed, so a
 * FIFO input cannot hold it open. Instead inotify says when the temporary file is created, the
 * child is stopped there (SIGSTOP) and the test checks that the file is really open before it
 * sends SIGTERM and lets the child go on; so the signal provably lands mid-write. Should the
 * 10 MB of output be written before the stop lands (a busy machine), the run is repeated. */
Test(outputs, sigterm_during_predict_output_leaves_no_temporary_file, .timeout = 300)
{
    const char *model = in_dir("m.safetensors"), *csv = in_dir("in.csv");
    predict_setup(model, csv, 300000);
    char pred[700];
    snprintf(pred, sizeof pred, "%s", in_dir("pred.csv"));
    bool landed = false;
    for (int attempt = 0; attempt < 5 && !landed; attempt++) {
        put(pred, "old");
        int in = inotify_init1(IN_CLOEXEC);
        cr_assert_geq(in, 0);
        cr_assert_geq(inotify_add_watch(in, dir, IN_CREATE), 0);
        pid_t pid = occam_start("predict", BLOBS, "--checkpoint", model, "--input", csv,
                                "--output", pred, NULL);
        char tmp[64] = "";
        union {
            struct inotify_event ev;
            char buf[4096];
        } u;
        while (!tmp[0]) {
            struct pollfd pfd = {.fd = in, .events = POLLIN};
            cr_assert_eq(poll(&pfd, 1, 120000), 1, "no temporary file was created");
            ssize_t n = read(in, u.buf, sizeof u.buf);
            cr_assert_gt(n, 0);
            for (char *p = u.buf; p < u.buf + n;) {
                struct inotify_event *ev = (struct inotify_event *)(void *)p;
                if (ev->len && !strncmp(ev->name, "pred.csv.tmp.", 13)) {
                    kill(pid, SIGSTOP);
                    snprintf(tmp, sizeof tmp, "%s", ev->name);
                    break;
                }
                p += sizeof *ev + ev->len;
            }
        }
        close(in);
        int st;
        cr_assert_eq(waitpid(pid, &st, WUNTRACED), pid);
        if (!WIFSTOPPED(st)) { /* it had already finished */
            cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x", st);
            continue;
        }
        landed = exists(in_dir(tmp));
        cr_assert_eq(kill(pid, landed ? SIGTERM : SIGCONT), 0);
        if (landed) kill(pid, SIGCONT);
        cr_assert_eq(waitpid(pid, &st, 0), pid);
        if (!landed) {
            cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x", st);
            continue;
        }
        /* As before: the death of SIGTERM, which a shell shows as exit 143. */
        cr_expect(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM, "status %#x", st);
        cr_expect(!exists(in_dir(tmp)), "%s was left behind", tmp);
        cr_expect_eq(count_tmp(dir), 0);
        FILE *g = fopen(pred, "r");
        char old[8] = "";
        cr_assert_not_null(g);
        cr_expect(fgets(old, sizeof old, g) && !strcmp(old, "old"), "the old output changed");
        fclose(g);
    }
    cr_expect(landed, "the signal never landed while the output was open");
}

/* ---- plot: no partial PNG, no gnuplot injection --------------------------------------------- */

Test(outputs, a_newline_in_plot_out_is_refused_not_run)
{
    char pwned[700], bad[1600];
    snprintf(pwned, sizeof pwned, "%s", in_dir("pwned"));
    snprintf(bad, sizeof bad, "%s\nsystem \"touch %s\"\nx", in_dir("o"), pwned);
    char report[700];
    snprintf(report, sizeof report, "%s", in_dir("r.json"));
    expect(occam_run(0, "train", BLOBS, EPOCHS_1, CKDIR("ck"), "--report", report, NULL), 0,
           NULL);
    expect(occam_run(0, "plot", report, "--out", bad, NULL), 2, "--out: ");
    cr_expect(strstr(out, "control character"), "%s", out);
    cr_expect(!exists(pwned), "the injected command ran");
    cr_expect(!exists(in_dir("o")));
    char del[700];
    snprintf(del, sizeof del, "%s\x7f", in_dir("o"));
    expect(occam_run(0, "plot", report, "--out", del, NULL), 2, "control character");

    /* The library refuses it too, before anything is drawn. */
    occam_error err = {0};
    occam_plot_params p = {.out_dir = bad};
    cr_expect_eq(occam_plot_report(report, p, &err), OCCAM_ERR_INPUT);
    cr_expect(strstr(err.msg, "control character"), "%s", err.msg);
    cr_expect(!exists(pwned));
    cr_expect(!exists(in_dir("o")));
}

/* gnuplot runs a data file whose name opens with '<' as a shell command and reads one opening
 * with '$' as a datablock: a relative --out '<touch pwned #' ran touch, and '$(x)-figs' could
 * not be plotted into (found by the fourth hostile-input sweep). Relative names go as ./NAME. */
Test(outputs, a_plot_folder_named_like_a_gnuplot_command_is_a_folder)
{
    if (!occam_plot_have_gnuplot(NULL)) {
        cr_skip_test("gnuplot is not installed");
        return;
    }
    char report[700];
    snprintf(report, sizeof report, "%s", in_dir("r.json"));
    expect(occam_run(0, "train", BLOBS, EPOCHS_1, CKDIR("ck"), "--report", report, NULL), 0,
           NULL);
    cr_assert_eq(chdir(in_dir("")), 0);
    const char *names[] = {"<touch pwned #", "$(touch pwned)-figs", "$data"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        occam_error err = {0};
        occam_plot_params p = {.out_dir = names[i]};
        cr_expect_eq(occam_plot_report(report, p, &err), OCCAM_OK, "%s: %s", names[i], err.msg);
        char png[256];
        snprintf(png, sizeof png, "%s/learning.png", names[i]);
        cr_expect(exists(png), "%s: no figure", names[i]);
        cr_expect(!exists("pwned"), "%s: the command ran", names[i]);
    }
}

Test(outputs, strings_in_a_gnuplot_script_cannot_end_it)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_not_null(f);
    plot_gp_str(f, "it's a\nsystem 'x'\r\x1b[2J\x7f\\");
    fclose(f);
    cr_expect_str_eq(buf, "'it''s a?system ''x''??[2J?\\'");
    free(buf);
}

Test(outputs, a_png_cut_short_is_removed)
{
    if (!occam_plot_have_gnuplot(NULL)) {
        teardown(); /* a skipped test's .fini does not run */
        cr_skip_test("gnuplot is not on PATH");
    }
    char report[700];
    snprintf(report, sizeof report, "%s", in_dir("r.json"));
    expect(occam_run(0, "train", BLOBS, "--set", "train.epochs=3", CKDIR("ck"), "--report",
                     report, NULL), 0, NULL);
    expect(occam_run(0, "plot", report, "--out", in_dir("full"), NULL), 0, "learning.png");
    long png = size_of(in_dir("full/learning.png"));
    long dat = size_of(in_dir("full/learning.dat"));
    cr_assert_lt(dat, png / 2);
    /* A limit the .dat fits in and the PNG does not: gnuplot may even exit 0. */
    expect(occam_run(png / 2, "plot", report, "--out", in_dir("cut"), NULL), 1, "learning.png");
    cr_expect(exists(in_dir("cut/learning.dat")), "%s", out);
    cr_expect(!exists(in_dir("cut/learning.png")), "a partial PNG was left: %s", out);
    cr_expect_eq(count_tmp(dir), 0);
    /* A PNG target that is a device is drawn into, not replaced. */
    const char *null = in_dir("full/learning.png");
    unlink(null);
    if (mknod(null, S_IFCHR | 0666, makedev(1, 3)) == 0) {
        expect(occam_run(0, "plot", report, "--out", in_dir("full"), NULL), 0, "learning.png");
        struct stat st;
        cr_assert_eq(lstat(null, &st), 0);
        cr_expect(S_ISCHR(st.st_mode), "the device was replaced");
    }
}

/* --save and --report on one file: the report, written second, would replace the model. */
Test(outputs, save_and_report_on_one_file_are_refused)
{
    char other[600];
    snprintf(other, sizeof other, "%s/./m.st", dir);
    expect(occam_run(0, "train", BLOBS, "--save", in_dir("m.st"), "--report", other, NULL), 2,
           "name the same file");
    expect_untrained();
    cr_expect(!exists(in_dir("m.st")));
}

/* The same check sees through a symlink to a model not written yet: without it the report
 * replaced the model and the run said nothing (exit 0). */
Test(outputs, save_and_report_through_a_symlink_are_refused)
{
    cr_assert_eq(symlink("m.st", in_dir("r.json")), 0);
    expect(occam_run(0, "train", BLOBS, "--save", in_dir("m.st"), "--report", in_dir("r.json"),
                     NULL), 2, "name the same file");
    expect_untrained();
    cr_expect(!exists(in_dir("m.st")));
}

/* Names the checkpoint folder owns (its lock file, its checkpoints' form), "-", and a
 * checkpoint folder that is a symlink to nothing: all refused before training. */
Test(outputs, names_that_would_go_wrong_are_refused_first)
{
    cr_assert_eq(mkdir(in_dir("ck"), 0777), 0);
    expect(occam_run(0, "train", BLOBS, "--set", ckset("ck"), "--save", in_dir("ck/occam.lock"),
                     NULL), 2, "keeps for its lock or its checkpoints");
    expect_untrained();
    expect(occam_run(0, "train", BLOBS, "--set", ckset("ck"), "--report",
                     in_dir("ck/ckpt-e0001-s000000032.safetensors"), NULL), 2,
           "keeps for its lock or its checkpoints");
    expect_untrained();
    expect(occam_run(0, "train", BLOBS, "--save", "-", NULL), 2, "--save -: write to /dev/stdout");
    expect_untrained();
    cr_expect(!exists("-"));
    cr_assert_eq(symlink(in_dir("nowhere"), in_dir("dangling")), 0);
    expect(occam_run(0, "train", BLOBS, "--set", ckset("dangling"), "--set",
                     "train.checkpoint_every=1", NULL), 2, "is a symlink to a folder that does not");
    expect_untrained();
    /* any other name in the folder is the user's to take */
    expect(occam_run(0, "train", BLOBS, "--set", "train.epochs=1", "--set", ckset("ck"), "--save",
                     in_dir("ck/model.safetensors"), NULL), 0, NULL);
}

/* An output named as the checkpoint folder, or as a folder it lies in: the run made the folder
 * for its checkpoints, trained, then failed "is a folder, not a file" (exit 1, the model put
 * into the folder instead; the report lost). Found by the hostile-input sweep. Now refused
 * before training, exit 2, naming train.checkpoint_dir, with or without checkpoints. */
Test(outputs, an_output_the_checkpoint_folder_takes_is_refused_first)
{
    char slash[700], dotted[700];
    snprintf(slash, sizeof slash, "train.checkpoint_dir=%s/", in_dir("ck"));
    snprintf(dotted, sizeof dotted, "%s/./ck", dir);
    expect(occam_run(0, "train", BLOBS, EPOCHS_1, "--set", slash, "--set",
                     "train.checkpoint_every=1", "--save", dotted, NULL),
           2, "a folder the run makes, for train.checkpoint_dir");
    expect_untrained();
    cr_expect(!exists(in_dir("ck")));
    expect(occam_run(0, "train", BLOBS, EPOCHS_1, CKDIR("a//ck/"), "--set",
                     "train.checkpoint_every=1", "--report", in_dir("a"), NULL),
           2, "--report");
    expect_untrained();
    cr_expect(!exists(in_dir("a")));
    /* without checkpoints too: a stop by a signal writes one there, and the command printed
     * to continue, with this --save, was then refused (found by the review) */
    expect(occam_run(0, "train", BLOBS, EPOCHS_1, CKDIR("ck"), "--save", in_dir("ck"), NULL), 2,
           "when a signal stops it");
    expect_untrained();
    cr_expect(!exists(in_dir("ck")));
}

/* Runs the shell command cmd (printf-formatted; $B is the binary, $D the test's folder, $C
 * the blobs config cut to one quick epoch), its output into `out`; the exit status. */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char body[2048], cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    const char *bin = shell_occam_bin();
    snprintf(cmd, sizeof cmd, "B=%s; D=%s; C='" BLOBS " --threads 1 --set train.epochs=1'; %s",
             bin, dir, body);
    int sig = 0, rc = shell_run(cmd, out, sizeof out, &sig);
    cr_assert(rc >= 0, "%s: signal %d: %s", cmd, sig, out);
    return rc;
}

/* An output through standard output (/dev/stdout, /dev/fd/1) is the stream: the command's
 * text goes to standard error instead of into the model, report or .occ file, which load
 * (before, the run's header was written first: "header says 2336630861173039139 bytes").
 * Standard error, where the messages go, is refused as an output, and so is standard output
 * when both are one file (> f 2>&1); two outputs to one stream are refused. The shell's own
 * writes after the output go on after it, not over it. */
Test(outputs, an_output_through_stdout_is_the_stream_alone)
{
    cr_assert_eq(sh("$B train $C --save /dev/stdout > $D/m.st 2>$D/e.txt && "
                    "$B eval $C --checkpoint $D/m.st 2>&1 && grep -c '^saved  /dev/stdout' $D/e.txt"),
                 0, "%s", out);
    cr_assert(strstr(out, "test   loss") && strstr(out, "\n1\n"), "%s", out);
    cr_assert_eq(sh("$B compress $C --checkpoint $D/m.st --out /dev/fd/1 2>/dev/null | cat > $D/m.occ && "
                    "$B eval $C --checkpoint $D/m.occ 2>&1"), 0, "%s", out);
    cr_assert(strstr(out, "test   loss"), "%s", out);
    cr_assert_eq(sh("{ echo first; $B eval $C --checkpoint $D/m.st --report /dev/stdout 2>/dev/null; "
                    "echo last; } > $D/r.txt && head -c 6 $D/r.txt && tail -n 1 $D/r.txt && "
                    "sed -n 2p $D/r.txt | head -c 1"), 0, "%s", out);
    cr_assert_str_eq(out, "first\nlast\n{");
    /* refused, before training */
    cr_assert_eq(sh("$B train $C --save /dev/stdout > $D/both.st 2>&1"), 2);
    cr_assert_eq(sh("cat $D/both.st"), 0);
    cr_assert_null(strstr(out, "saved"), "%s", out);
    cr_assert(strstr(out, "--save /dev/stdout: the same file as standard error and standard "
                          "output, where occam's messages go"), "%s", out);
    cr_assert_eq(sh("$B train $C --save /dev/stderr 2> $D/e.txt; echo rc=$?; cat $D/e.txt"), 0);
    cr_assert(strstr(out, "rc=2\noccam: --save /dev/stderr: the same file as standard error, "
                          "where"), "%s", out);
    cr_assert_eq(sh("$B train $C --save /dev/stdout --report /dev/fd/1 2>$D/e.txt | cat; "
                    "cat $D/e.txt"), 0);
    cr_assert(strstr(out, "--save /dev/stdout and --report /dev/fd/1 are the same stream"), "%s",
              out);
    /* a terminal or /dev/null behind both is left alone */
    cr_assert_eq(sh("$B train $C --save /dev/stderr 2>/dev/null"), 0, "%s", out);
    /* a file named as such is replaced whole: nothing to move or refuse, even when it is
     * where stdout or stderr go */
    cr_assert_eq(sh("$B train $C --save $D/x.st > $D/o.txt 2>/dev/null && grep -c '^saved' "
                    "$D/o.txt && $B eval $C --checkpoint $D/m.st --report $D/log 2>$D/log >/dev/null && "
                    "head -c 1 $D/log"), 0, "%s", out);
    cr_assert_str_eq(out, "1\n{");
    /* a descriptor open for reading: a new open of its name would write the caller's input */
    cr_assert_eq(sh("cp $D/m.st $D/in.st; $B train $C --save /dev/fd/3 3<$D/in.st 2>&1; "
                    "cmp $D/m.st $D/in.st && echo same"), 0);
    cr_assert(strstr(out, "names a descriptor open for reading only") && strstr(out, "same\n"),
              "%s", out);
}

/* A FIFO given as a model to read is refused at once, not waited on for a writer. */
Test(outputs, a_fifo_as_a_checkpoint_is_refused_without_waiting)
{
    cr_assert_eq(mkfifo(in_dir("ff"), 0644), 0);
    expect(occam_run(0, "eval", BLOBS, "--checkpoint", in_dir("ff"), NULL), 2,
           "not a regular file");
    expect(occam_run(0, "train", BLOBS, "--resume", in_dir("ff"), NULL), 2, "not a regular file");
    expect_untrained();
    cr_expect_lt(seconds, 10.0);
}
