/* Runs across MPI ranks (mpirun, Open MPI): the owner path's weights are the same bits at any
 * world size, a bad config is said once and exits 2 on every rank, and a run resumes under
 * another world size. Each test starts mpirun from the forked test process; none starts OpenMP
 * threads in the runner. As root, mpirun needs --allow-run-as-root; --oversubscribe lets 4 ranks
 * share this machine's cores. */
#include <criterion/criterion.h>
#include <mpi.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "occam/comm.h"
#include "occam/gemm.h"
#include "occam/safetensors.h"
#include "kept.h"
#include "failalloc.h"
#include "shell.h"
#include "tmpdir.h"

/* Small and quick: 400 rows of blobs, 3 epochs, a batch that does not divide evenly by 3 or 4
 * ranks (so shares differ in size), iterative pruning so the masks are exercised. */
#define SMALL                                                                                  \
    "configs/blobs.ini --set data.samples=400 --set data.spread=0.5 --set train.epochs=3 "    \
    "--set train.batch=30 --set runtime.grad=owner --set prune.schedule=iterative "          \
    "--set prune.steps=2 --set prune.finetune_epochs=1 --set prune.target=0.7"

static const char *bin(void)
{
    return shell_occam_bin();
}

/* When a rank exits nonzero, mpirun sends the others SIGTERM and waits
 * odls_base_sigkill_timeout seconds (1) before SIGKILL, even when they have all exited: a
 * usage error under mpirun took 2.4 s against 0.5 s for a whole run, and this suite's refusals
 * spent most of their time there. No test waits on that grace: the ranks agree on an error
 * before any exits. */
static void quick_kill(void)
{
    cr_assert_eq(setenv("OMPI_MCA_odls_base_sigkill_timeout", "0", 1), 0);
}

TestSuite(mpi, .init = quick_kill);

/* mpirun -np NP occam ARGS 2>&1 into out; the exit status. Open MPI's leak-prone internals are
 * outside occam: the sanitizer build's leak check is switched off for the ranks. */
static int mpi(char *out, size_t cap, int np, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int mpi(char *out, size_t cap, int np, const char *fmt, ...)
{
    char args[2048], cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd,
             "ASAN_OPTIONS=detect_leaks=0 mpirun --allow-run-as-root --oversubscribe --quiet "
             "-np %d -x ASAN_OPTIONS %s %s 2>&1", np, bin(), args);
    int sig = 0, rc = shell_run(cmd, out, cap, &sig);
    cr_assert(rc >= 0, "%s: signal %d: %s", cmd, sig, out);
    return rc;
}

/* Every tensor of a and b (not the metadata, which records the thread count) is the same bits;
 * returns how many tensors were compared. */
static int same_tensors(const char *a, const char *b)
{
    occam_st_file fa, fb;
    occam_error err;
    cr_assert_eq(occam_st_open(&fa, a, &err), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(occam_st_open(&fb, b, &err), OCCAM_OK, "%s", err.msg);
    cr_assert_eq(fa.ntensors, fb.ntensors);
    for (int i = 0; i < fa.ntensors; i++) {
        const occam_st_tensor_view *x = &fa.tensors[i], *y = occam_st_find(&fb, x->name);
        cr_assert_not_null(y, "%s: no tensor %s", b, x->name);
        cr_assert_eq(x->nbytes, y->nbytes, "%s", x->name);
        cr_assert(x->nbytes == 0 || !memcmp(x->data, y->data, x->nbytes),
                  "tensor %s differs between %s and %s", x->name, a, b);
    }
    int n = fa.ntensors;
    occam_st_close(&fa);
    occam_st_close(&fb);
    return n;
}

/* The report's description length, "total_bits": as written (shortest round-trip digits):
 * equal strings are equal doubles. */
static void total_bits(const char *report, char *line, size_t cap)
{
    FILE *f = fopen(report, "rb");
    cr_assert_not_null(f, "%s", report);
    TEST_KEPT(char, text, 1 << 20);
    size_t n = fread(text, 1, (1 << 20) - 1, f);
    fclose(f);
    text[n] = 0;
    const char *p = strstr(text, "\"mdl\"");
    cr_assert_not_null(p, "%s: no mdl", report);
    p = strstr(p, "\"total_bits\":");
    cr_assert_not_null(p, "%s: no total_bits", report);
    size_t k = strcspn(p, ",}");
    cr_assert_lt(k, cap);
    memcpy(line, p, k);
    line[k] = 0;
}

/* Whether the line at p (an "occam: " line) says what a run is doing, not why it stops: a
 * note, mpirun's binding, the data and team the run opened with. mpirun forwards each rank's
 * lines as they come, so rank 0's opening line can follow rank 1's refusal (seen once in
 * CI's sanitizer pass, under load). */
static bool run_line(const char *p)
{
    size_t a, b;
    return !strncmp(p, "occam: note: ", 13) || !strncmp(p, "occam: mpirun bound ", 20) ||
           sscanf(p, "occam: %zu training and %zu test samples", &a, &b) == 2;
}

/* A refusal every rank shares is said once: the output holds `want` after the first `from`
 * (where the message starts) and no second "occam: " line after it but those of run_line. */
static void said_once(const char *out, const char *from, const char *want)
{
    const char *first = strstr(out, from);
    cr_assert(first && strstr(first, want), "want '%s' in: %s", want, out);
    for (const char *p = strstr(first + 1, "occam: "); p; p = strstr(p + 1, "occam: "))
        cr_assert(run_line(p), "said more than once: %s", out);
}

Test(mpi, owner_bitwise_across_world_sizes, .timeout = 120)
{
    char dir[64], out[1 << 15], l1[256], l2[256], l4[256];
    tmpdir_make(dir, sizeof dir, "mpi");
    const char *a = tmpdir_path(dir, "one.st"), *b = tmpdir_path(dir, "two.st");
    const char *c = tmpdir_path(dir, "four.st");
    char pa[600], pb[600], pc[600], ra[600], rb[600], rc[600];
    snprintf(pa, sizeof pa, "%s", a), snprintf(pb, sizeof pb, "%s", b);
    snprintf(pc, sizeof pc, "%s", c);
    snprintf(ra, sizeof ra, "%s", tmpdir_path(dir, "one.json"));
    snprintf(rb, sizeof rb, "%s", tmpdir_path(dir, "two.json"));
    snprintf(rc, sizeof rc, "%s", tmpdir_path(dir, "four.json"));
    cr_assert_eq(shell_occam(out, sizeof out, "train " SMALL " --threads 2 --set "
                             "runtime.oversubscribe=true --save %s --report %s", pa, ra),
                 0, "%s", out);
    cr_assert_eq(mpi(out, sizeof out, 2, "train " SMALL " --threads 1 --save %s --report %s", pb,
                     rb), 0, "%s", out);
    cr_assert(strstr(out, "2 ranks"), "%s", out);
    cr_assert_eq(mpi(out, sizeof out, 4,
                     "train " SMALL " --threads 1 --set runtime.oversubscribe=true --save %s "
                     "--report %s", pc, rc), 0, "%s", out);
    total_bits(ra, l1, sizeof l1);
    total_bits(rb, l2, sizeof l2);
    total_bits(rc, l4, sizeof l4);
    cr_assert_gt(same_tensors(pa, pb), 1);
    same_tensors(pa, pc);
    cr_assert_str_eq(l1, l2);
    cr_assert_str_eq(l1, l4);
    tmpdir_remove(dir);
}

/* A noisy regression whose γ table is estimated (400 rows, 1,032 weights): rank 0 alone makes
 * it and every rank takes it, and 2 ranks × 1 thread are the bits of 1 rank × 2 threads. */
#define NOISY_REGRESSION                                                                       \
    "configs/hinton93.ini --set data.samples=400 --set data.test_samples=100 "               \
    "--set model.layers=128,8,1 --set noise.enabled=true --set noise.prior=gaussian "        \
    "--set train.epochs=8 --set train.batch=50"

Test(mpi, noisy_regression_ranks_share_rank_0_s_gamma_table, .timeout = 120)
{
    char dir[64], out[1 << 15], pa[600], pb[600];
    tmpdir_make(dir, sizeof dir, "mpi");
    snprintf(pa, sizeof pa, "%s", tmpdir_path(dir, "one.st"));
    snprintf(pb, sizeof pb, "%s", tmpdir_path(dir, "two.st"));
    cr_assert_eq(shell_occam(out, sizeof out, "train " NOISY_REGRESSION " --threads 2 --set "
                             "runtime.oversubscribe=true --save %s", pa), 0, "%s", out);
    cr_assert_eq(mpi(out, sizeof out, 2, "train " NOISY_REGRESSION " --threads 1 --save %s", pb),
                 0, "%s", out);
    cr_assert(strstr(out, "2 ranks"), "%s", out);
    cr_assert_gt(same_tensors(pa, pb), 1);
    tmpdir_remove(dir);
}

Test(mpi, a_rank_without_a_core_is_refused_once, .timeout = 60)
{
    char out[1 << 14];
    /* 2 ranks asking for more than every core each: without runtime.oversubscribe every rank
     * exits 2 and one says why. (One more than this process's cores: mpirun binds each rank to
     * a core of the whole machine, not of the mask it was started under, so under taskset -c 0
     * two ranks asking for 1 thread each ran on CPUs 0 and 1.) */
    cpu_set_t set;
    cr_assert_eq(sched_getaffinity(0, sizeof set, &set), 0);
    cr_assert_eq(mpi(out, sizeof out, 2, "train configs/blobs.ini --threads %d "
                     "--set runtime.oversubscribe=false --set data.samples=100",
                     CPU_COUNT(&set) + 1), 2, "%s", out);
    said_once(out, "occam: ", "runtime.oversubscribe");
}

Test(mpi, bad_config_is_said_once, .timeout = 60)
{
    char dir[64], out[1 << 14];
    tmpdir_make(dir, sizeof dir, "mpi");
    const char *ini = tmpdir_path(dir, "bad.ini");
    tmpdir_spit(ini, "[train]\nepochs = x\n", 19);
    cr_assert_eq(mpi(out, sizeof out, 4, "train %s", ini), 2, "%s", out);
    said_once(out, "occam: ", "bad.ini:2");
    tmpdir_remove(dir);
}

Test(mpi, resume_under_another_world_size, .timeout = 120)
{
    char dir[64], out[1 << 15];
    tmpdir_make(dir, sizeof dir, "mpi");
    char ck[600], full[600], res[600];
    snprintf(ck, sizeof ck, "%s", tmpdir_path(dir, "ck"));
    snprintf(full, sizeof full, "%s", tmpdir_path(dir, "full.st"));
    snprintf(res, sizeof res, "%s", tmpdir_path(dir, "resumed.st"));
    /* the whole run on 2 ranks, checkpoints after every epoch */
    cr_assert_eq(mpi(out, sizeof out, 2,
                     "train " SMALL " --threads 1 --set train.checkpoint_every=1 --set train.checkpoint_keep=10 "
                     "--set train.checkpoint_dir=%s --save %s", ck, full), 0, "%s", out);
    /* from the first epoch's checkpoint, alone */
    char state[700];
    snprintf(state, sizeof state, "%s/ckpt-e0001-s000000014.safetensors", ck);
    cr_assert_eq(shell_occam(out, sizeof out, "train " SMALL " --threads 1 --resume %s --save %s "
                             "--set train.checkpoint_dir=%s/b", state, res, dir), 0, "%s", out);
    cr_assert(strstr(out, "world size changed"), "%s", out);
    cr_assert(strstr(out, "2 ranks, this run has 1"), "%s", out);
    cr_assert(strstr(out, "continues bit-identically"), "%s", out);
    same_tensors(full, res);
    tmpdir_remove(dir);
}

/* A run whose neurons were pruned resumes on 2 ranks at the state's narrower widths (it was
 * refused: 'a run whose neurons were pruned cannot be resumed'), and its --save file is the
 * uninterrupted run's, byte for byte: on the shard path too, whose moments each rank holds in
 * part until they are gathered for the checkpoint. */
Test(mpi, a_neuron_pruned_run_resumes_bit_identically, .timeout = 120)
{
    char dir[64], out[1 << 15];
    tmpdir_make(dir, sizeof dir, "mpi");
    char ck[600], full[600], res[600], cmp[2048];
    snprintf(ck, sizeof ck, "%s", tmpdir_path(dir, "ck"));
    snprintf(full, sizeof full, "%s", tmpdir_path(dir, "full.st"));
    snprintf(res, sizeof res, "%s", tmpdir_path(dir, "resumed.st"));
    const char *run = "train " SMALL " --set prune.granularity=neuron --set prune.target=0.5 "
                      "--set model.layers=20,64,32,3 --set runtime.grad=shard --threads 1 "
                      "--set train.checkpoint_every=1 --set train.checkpoint_keep=10";
    cr_assert_eq(mpi(out, sizeof out, 2, "%s --set train.checkpoint_dir=%s --save %s", run, ck,
                     full), 0, "%s", out);
    cr_assert(strstr(out, "model  20-"), "%s", out);
    /* after the first prune and its fine-tuning epoch, before the second prune */
    char state[700], from[700];
    snprintf(state, sizeof state, "%s/ckpt-e0004-s000000056.safetensors", ck);
    snprintf(from, sizeof from, "%s", tmpdir_path(dir, "state.st"));
    snprintf(cmp, sizeof cmp, "cp %s %s", state, from);
    cr_assert_eq(shell_run(cmp, out, sizeof out, NULL), 0, "%s", out);
    cr_assert_eq(mpi(out, sizeof out, 2, "%s --set train.checkpoint_dir=%s --save %s --resume %s",
                     run, ck, res, from), 0, "%s", out);
    cr_assert(strstr(out, "continues bit-identically"), "%s", out);
    snprintf(cmp, sizeof cmp, "cmp %s %s 2>&1", full, res);
    cr_assert_eq(shell_run(cmp, out, sizeof out, NULL), 0, "the --save files differ: %s", out);
    tmpdir_remove(dir);
}

/* SIGUSR1 to mpirun reaches every rank (mpirun forwards it; SIGINT and SIGTERM it turns into
 * an abort that kills the ranks a second later): they agree on the stop, rank 0 saves the
 * state, and every rank exits 128 + 10, which mpirun returns. The state loads. */
Test(mpi, sigusr1_to_mpirun_saves_and_stops_every_rank, .timeout = 120)
{
    char dir[64], out[1 << 15], cmd[4096];
    tmpdir_make(dir, sizeof dir, "mpi");
    snprintf(cmd, sizeof cmd,
             "e=%s/err; ASAN_OPTIONS=detect_leaks=0 mpirun --allow-run-as-root --oversubscribe "
             "--quiet -np 2 -x ASAN_OPTIONS %s train configs/blobs.ini --threads 1 "
             "--set train.epochs=100000 --set train.checkpoint_dir=%s/ck >%s/out 2>$e & pid=$!; "
             "until grep -q '^epoch 1/' $e 2>/dev/null || ! kill -0 $pid; do sleep 0.02; done; "
             "kill -USR1 $pid; wait $pid; st=$?; grep -v '^epoch' $e; exit $st",
             dir, bin(), dir, dir);
    int sig = 0, rc = shell_run(cmd, out, sizeof out, &sig);
    cr_assert_eq(rc, 138, "exit %d (signal %d): %s", rc, sig, out);
    cr_assert(strstr(out, "stopped by signal 10"), "%s", out);
    const char *p = strstr(out, "--resume ");
    cr_assert_not_null(p, "%s", out);
    char state[700];
    snprintf(state, sizeof state, "%.*s", (int)strcspn(p + 9, "\n"), p + 9);
    cr_assert_eq(shell_occam(out, sizeof out, "eval configs/blobs.ini --threads 1 --checkpoint %s",
                             state), 0, "%s", out);
    cr_assert(strstr(out, "accuracy"), "%s", out);
    tmpdir_remove(dir);
}

/* `timeout 60 mpirun -np 2` running the shell command CMD0 on rank 0 and CMD1 on rank 1 (a
 * script picks by OMPI_COMM_WORLD_RANK); the exit status, 124 for a hang. */
static int mpi_two_cmds(char *out, size_t cap, const char *dir, const char *cmd0,
                        const char *cmd1)
{
    char script[8192], cmd[4096];
    const char *sh = tmpdir_path(dir, "ranks.sh");
    int n = snprintf(script, sizeof script,
                     "if [ \"$OMPI_COMM_WORLD_RANK\" = 1 ]; then exec %s; else exec %s; fi\n",
                     cmd1, cmd0);
    cr_assert(n > 0 && (size_t)n < sizeof script, "the ranks' commands are too long");
    tmpdir_spit(sh, script, (size_t)n);
    snprintf(cmd, sizeof cmd,
             "ASAN_OPTIONS=detect_leaks=0 timeout 60 mpirun --allow-run-as-root --oversubscribe "
             "--quiet -np 2 -x ASAN_OPTIONS sh %s 2>&1", sh);
    int sig = 0, rc = shell_run(cmd, out, cap, &sig);
    cr_assert(rc >= 0, "%s: signal %d: %s", cmd, sig, out);
    return rc;
}

/* mpi_two_cmds running `occam ARGS0` on rank 0 and `occam ARGS1` on rank 1. */
static int mpi_two(char *out, size_t cap, const char *dir, const char *args0, const char *args1)
{
    char cmd0[8192], cmd1[8192];
    snprintf(cmd0, sizeof cmd0, "%s %s", bin(), args0);
    snprintf(cmd1, sizeof cmd1, "%s %s", bin(), args1);
    return mpi_two_cmds(out, cap, dir, cmd0, cmd1);
}

/* Two ranks left on one CPU (taskset, mpirun --bind-to none) with the thread count automatic:
 * rank 1's share of the CPUs is none. It said "runtime.threads = 1: more threads than the 0
 * cores rank 1 may use", a count nobody set (found by the other-machines sweep). */
Test(mpi, an_automatic_thread_count_that_leaves_a_rank_no_core_says_so, .timeout = 120)
{
    char out[1 << 15], cmd[4096];
    snprintf(cmd, sizeof cmd,
             "ASAN_OPTIONS=detect_leaks=0 timeout 60 taskset -c \"$(taskset -pc $$ | "
             "sed 's/.*: *//; s/[,-].*//')\" mpirun --allow-run-as-root " /* our first CPU */
             "--oversubscribe --bind-to none --quiet -np 2 -x ASAN_OPTIONS %s train "
             "configs/blobs.ini --set train.epochs=1 2>&1", bin());
    int sig = 0;
    cr_assert_eq(shell_run(cmd, out, sizeof out, &sig), 2, "%s", out);
    said_once(out, "occam: ", "runtime.threads = 0 (automatic): no core is left for rank 1 (2 "
                             "ranks share the 1 CPU this process may use)");
}

/* Ranks of two builds call other collectives in another order, and waited in them for ever (an
 * old build in an allgather, the new in an allreduce). The ranks compare the build ID first: a
 * copy of occam whose ID is changed (the 12 hex digits `occam --version` prints, rewritten in
 * the binary) on rank 1 is refused on both, naming both builds. */
Test(mpi, ranks_of_other_builds_are_refused, .timeout = 120)
{
    char dir[64], out[1 << 15], cmd[4096];
    tmpdir_make(dir, sizeof dir, "mpi");
    int sig = 0;
    snprintf(cmd, sizeof cmd, "%s --version", bin());
    cr_assert_eq(shell_run(cmd, out, sizeof out, &sig), 0, "%s", out);
    const char *b = strstr(out, "(build ");
    cr_assert(b && strlen(b) >= 7 + 12, "%s", out);
    char id[13];
    memcpy(id, b + 7, 12);
    id[12] = 0;
    const char *other = tmpdir_path(dir, "occam-other");
    /* the same bytes but for the ID: ffffffffffff is no sha256 prefix we will meet */
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c \"import sys; d=open(sys.argv[1],'rb').read(); "
             "n=d.count(sys.argv[3].encode()); assert n>0, n; "
             "open(sys.argv[2],'wb').write(d.replace(sys.argv[3].encode(), b'ffffffffffff'))\" "
             "%s %s %s && chmod +x %s 2>&1", bin(), other, id, other);
    cr_assert_eq(shell_run(cmd, out, sizeof out, &sig), 0, "%s", out);
    char cmd0[4096], cmd1[4096];
    snprintf(cmd0, sizeof cmd0, "%s train configs/blobs.ini --threads 1", bin());
    snprintf(cmd1, sizeof cmd1, "%s train configs/blobs.ini --threads 1", other);
    cr_assert_eq(mpi_two_cmds(out, sizeof out, dir, cmd0, cmd1), 2, "%s", out);
    char want[128];
    snprintf(want, sizeof want, "rank 1 runs occam build ffffffffffff but rank 0 build %s: "
             "every rank must run the same build", id);
    cr_assert(strstr(out, want), "%s", out);
    tmpdir_remove(dir);
}

/* Ranks on other BLIS kernels round their products otherwise: said once (rank 1 forced to the
 * generic kernels by BLIS_ARCH_TYPE: any CPU runs them, and occam picks them for none with
 * AVX2; forced to haswell, which occam picks on every AVX2 CPU without AVX-512, rank 1 ran
 * rank 0's kernels there, and nothing was said). Ranks of one kernel say nothing. */
Test(mpi, ranks_on_other_blis_kernels_are_said, .timeout = 120)
{
    /* rank 0 runs the kernels this process gets (BLIS_ARCH_TYPE=generic in the environment
     * gave both ranks the generic ones, and the note was rightly not said) */
    const char *arch = occam_gemm_init();
    if (strcmp(arch, "generic") == 0)
        cr_skip_test("BLIS runs its generic kernels here: no other set is known to run");
    char dir[64], out[1 << 15];
    tmpdir_make(dir, sizeof dir, "mpi");
    const char *train = "train configs/blobs.ini --threads 1 --set train.epochs=1";
    cr_assert_eq(mpi_two(out, sizeof out, dir, train, train), 0, "%s", out);
    cr_assert(!strstr(out, "different BLIS kernels"), "%s", out);
    char cmd0[4096], cmd1[4096];
    snprintf(cmd0, sizeof cmd0, "%s %s", bin(), train);
    snprintf(cmd1, sizeof cmd1, "env BLIS_ARCH_TYPE=generic %s %s", bin(), train);
    cr_assert_eq(mpi_two_cmds(out, sizeof out, dir, cmd0, cmd1), 0, "%s", out);
    const char *note = "the ranks multiply with different BLIS kernels";
    const char *at = strstr(out, note);
    cr_assert(at && !strstr(at + 1, note), "said once: %s", out);
    tmpdir_remove(dir);
}

/* A resume on two ranks (rank 0 given ARGS0, rank 1 ARGS1): it says `note` and that it will
 * not continue bit-identically, or, with note NULL, that it will. */
static void expect_resume(const char *dir, const char *args0, const char *args1,
                          const char *note)
{
    char out[1 << 15];
    cr_assert_eq(mpi_two(out, sizeof out, dir, args0, args1), 0, "%s", out);
    if (note) {
        cr_assert(strstr(out, note), "%s", out);
        cr_assert(strstr(out, "not bit-identically"), "%s", out);
    } else {
        cr_assert(strstr(out, "it continues bit-identically"), "%s", out);
    }
}

/* Ranks may run different thread counts, and which rank runs how many decides how a batch's
 * rows are split and summed on the shard path. A state written by ranks of 2 and 1 threads,
 * resumed by ranks of 1 and 2, has as many threads in all on as many ranks, and the resume said
 * "it continues bit-identically" while its weights came out other bits. Now it says the ranks'
 * counts changed; the same counts still continue bit-identically. */
Test(mpi, ranks_whose_thread_counts_trade_places_do_not_resume_bit_identically, .timeout = 180)
{
    char dir[64], out[1 << 15], a0[2048], a1[2048], state[700];
    tmpdir_make(dir, sizeof dir, "mpi");
    const char *run = "train configs/blobs.ini --set data.samples=200 --set train.epochs=2 "
                      "--set runtime.grad=shard --set runtime.oversubscribe=true";
    snprintf(a0, sizeof a0, "%s --threads 2 --set train.checkpoint_every=1 "
             "--set train.checkpoint_dir=%s/ck", run, dir);
    snprintf(a1, sizeof a1, "%s --threads 1 --set train.checkpoint_every=1 "
             "--set train.checkpoint_dir=%s/ck", run, dir);
    cr_assert_eq(mpi_two(out, sizeof out, dir, a0, a1), 0, "%s", out);
    cr_assert(strstr(out, "2 ranks × 1–2 threads"), "%s", out);
    snprintf(state, sizeof state, "%s/ck/ckpt-e0001-s000000007.safetensors", dir);
    const int threads[2][2] = {{1, 2}, {2, 1}};
    for (int i = 0; i < 2; i++) {
        snprintf(a0, sizeof a0, "%s --threads %d --set train.checkpoint_dir=%s/r --resume %s",
                 run, threads[i][0], dir, state);
        snprintf(a1, sizeof a1, "%s --threads %d --set train.checkpoint_dir=%s/r --resume %s",
                 run, threads[i][1], dir, state);
        expect_resume(dir, a0, a1,
                      i == 0 ? "the checkpoint's ranks ran 2,1 threads each, this run's 1,2"
                             : NULL);
    }
    tmpdir_remove(dir);
}

/* A training state recorded rank 0's BLIS kernel set alone: a state written with rank 1 on
 * other kernels, resumed on ranks of rank 0's, said "it continues bit-identically" (rank 1's
 * note was rank 1's, and only rank 0 speaks), and its noisy weights came out other bits (found
 * by a hostile-input sweep). Every rank's set is recorded now; the same sets rank by rank still
 * continue bit-identically. Rank 1 takes the generic kernels, as in the test above. */
Test(mpi, a_resume_names_another_rank_s_blis_kernels, .timeout = 180)
{
    const char *arch = occam_gemm_init();
    if (strcmp(arch, "generic") == 0)
        cr_skip_test("BLIS runs its generic kernels here: no other set is known to run");
    char dir[64], out[1 << 15], a0[2048], a1[4096], state[700], note[200];
    tmpdir_make(dir, sizeof dir, "mpi");
    const char *run = "train configs/blobs.ini --threads 1 --set data.samples=200 "
                      "--set train.epochs=2 --set noise.enabled=true";
    snprintf(a0, sizeof a0, "%s --set train.checkpoint_every=1 --set train.checkpoint_dir=%s/ck "
             "--save %s/full.st", run, dir, dir);
    snprintf(a1, sizeof a1, "env BLIS_ARCH_TYPE=generic %s %s", bin(), a0);
    char c0[4096];
    snprintf(c0, sizeof c0, "%s %s", bin(), a0);
    cr_assert_eq(mpi_two_cmds(out, sizeof out, dir, c0, a1), 0, "%s", out);
    snprintf(state, sizeof state, "%s/ck/ckpt-e0001-s000000007.safetensors", dir);
    snprintf(a0, sizeof a0, "%s --set train.checkpoint_dir=%s/r --resume %s", run, dir, state);
    snprintf(note, sizeof note, "the checkpoint was written with BLIS's %s,generic kernels (rank "
             "by rank), this run uses %s", arch, arch);
    expect_resume(dir, a0, a0, note);
    /* the same kernels rank by rank: the uninterrupted run's bits */
    snprintf(a0, sizeof a0, "%s --set train.checkpoint_dir=%s/r2 --resume %s --save %s/res.st",
             run, dir, state, dir);
    snprintf(c0, sizeof c0, "%s %s", bin(), a0);
    snprintf(a1, sizeof a1, "env BLIS_ARCH_TYPE=generic %s %s", bin(), a0);
    cr_assert_eq(mpi_two_cmds(out, sizeof out, dir, c0, a1), 0, "%s", out);
    cr_assert(strstr(out, "it continues bit-identically"), "%s", out);
    char full[600], res[600];
    snprintf(full, sizeof full, "%s/full.st", dir);
    snprintf(res, sizeof res, "%s/res.st", dir);
    cr_assert_gt(same_tensors(full, res), 0);
    tmpdir_remove(dir);
}

/* A training state recorded rank 0's NUMA grouping alone: a state written with rank 1 on two
 * nodes (a synthetic topology), resumed with rank 1 on one, said "it continues
 * bit-identically" while its weights came out other bits. Every rank's grouping is recorded
 * now; the same layout still continues bit-identically. */
Test(mpi, a_resume_names_another_rank_s_numa_grouping, .timeout = 180)
{
    char dir[64], out[1 << 15], a0[2048], a1[2048], state[700];
    tmpdir_make(dir, sizeof dir, "mpi");
    const char *run = "train configs/blobs.ini --set data.samples=200 --set train.epochs=2 "
                      "--set runtime.grad=shard --set runtime.oversubscribe=true";
    const char *two = "--threads 4 --set 'runtime.topology=synthetic:node:2 core:2 pu:1'";
    snprintf(a0, sizeof a0, "%s --threads 1 --set train.checkpoint_every=1 "
             "--set train.checkpoint_dir=%s/ck", run, dir);
    snprintf(a1, sizeof a1, "%s %s --set train.checkpoint_every=1 --set train.checkpoint_dir=%s/ck",
             run, two, dir);
    cr_assert_eq(mpi_two(out, sizeof out, dir, a0, a1), 0, "%s", out);
    snprintf(state, sizeof state, "%s/ck/ckpt-e0001-s000000007.safetensors", dir);
    for (int i = 0; i < 2; i++) {
        snprintf(a0, sizeof a0, "%s --threads 1 --set train.checkpoint_dir=%s/r%d --resume %s",
                 run, dir, i, state);
        snprintf(a1, sizeof a1, "%s %s --set train.checkpoint_dir=%s/r%d --resume %s", run,
                 i == 0 ? "--threads 4" : two, dir, i, state);
        expect_resume(dir, a0, a1,
                      i == 0 ? "grouped by NUMA node as 1|0,0,1,1, this run's as one group"
                             : NULL);
    }
    tmpdir_remove(dir);
}

/* mpi_two with rank 1 given RANK1 after COMMON. */
static int mpi_rank1(char *out, size_t cap, const char *dir, const char *common,
                     const char *rank1)
{
    char args1[4096];
    snprintf(args1, sizeof args1, "%s %s", common, rank1);
    return mpi_two(out, cap, dir, common, args1);
}

/* Ranks given other command lines by mpirun's MPMD form (-np 1 occam A : -np 1 occam B) waited
 * for each other for ever: a rank that printed its --help or --print-config, or failed on an
 * unknown option, or ran another command or benchmark, or resumed a state the others did not
 * read, left the others in their first collective (found by the CLI sweep: each case hung
 * until killed). Now every rank exits 2,
 * said once, naming the command each runs. */
#define LRS                                                                                    \
    "0.00101,0.00102,0.00103,0.00104,0.00105,0.00106,0.00107,0.00108,0.00109,0.00110,0.00111,"  \
    "0.00112,0.00113,0.00114,0.00115,0.00116,0.00117,0.00118,0.00119,0.00120,0.00121,"
Test(mpi, ranks_with_other_command_lines_are_refused, .timeout = 300)
{
    char dir[64], out[1 << 15];
    tmpdir_make(dir, sizeof dir, "mpi");
    const char *train = "train configs/blobs.ini --threads 1 --set train.epochs=1";
    struct {
        const char *rank0, *rank1, *want;
    } cases[] = {
        {train, "train configs/blobs.ini --threads 1 --set train.epochs=1 --help",
         "rank 1 runs 'occam train --help' but rank 0 'occam train'"},
        {train, "train configs/blobs.ini --threads 1 --set train.epochs=1 --print-config",
         "rank 1 runs 'occam train --print-config' but rank 0 'occam train'"},
        {train, "train configs/blobs.ini --threads 1 --set train.epochs=1 --bogus",
         "train: unknown option or missing value: --bogus"},
        {"train configs/blobs.ini --bogus", train,
         "train: unknown option or missing value: --bogus"},
        {train, "eval configs/blobs.ini --threads 1 --checkpoint x.st",
         "rank 1 runs 'occam eval' but rank 0 'occam train'"},
        {train, "--version", "rank 1 runs 'occam --version' but rank 0 'occam train'"},
        /* the benchmark is named with the command (it said 'occam bench') */
        {"bench gemm 8 8 8", train, "rank 1 runs 'occam train' but rank 0 'occam bench gemm'"},
        {"bench gemm 8 8 8", "bench train configs/blobs.ini --threads 1",
         "rank 1 runs 'occam bench train' but rank 0 'occam bench gemm'"},
        /* 'help CMD' runs CMD's collectives, '--help' none: both were the action '--help',
         * and rank 1 waited in train's first agreement after rank 0 had left (a hang) */
        {"--help", "help train", "rank 1 runs 'occam help train' but rank 0 'occam --help'"},
        {"help bench", "help train", "rank 1 runs 'occam help train' but rank 0 'occam help "
         "bench'"},
        /* only the ranks given --resume read the state, and agree on it */
        {train, "train configs/blobs.ini --threads 1 --set train.epochs=1 --resume x.st",
         "rank 1 runs 'occam train --resume' but rank 0 'occam train'"},
        /* rank 0 writes the outputs: one asked for on rank 1 alone was dropped, exit 0 */
        {train, "train configs/blobs.ini --threads 1 --set train.epochs=1 --save x.st",
         "rank 1 names --save x.st, which rank 0 does not"},
        /* grids of other sizes: rank 0 finished and rank 1 waited for ever in point 3 */
        {"select configs/blobs.ini --threads 1 --grid train.epochs=1,2",
         "select configs/blobs.ini --threads 1 --grid train.epochs=1,2,3",
         "rank 1 runs 'occam select --grid train.epochs=1,2,3' but rank 0 'occam select --grid "
         "train.epochs=1,2'"},
        /* bench gemm, memory and select and plot take no config: every argument is compared
         * (rank 1 alone ran other sizes, wrote its own --dump, or took an unknown option
         * unread, exit 0; found by the MPI sweep) */
        {"bench gemm 64 64 64 1", "bench gemm 512 512 512 1",
         "rank 1 runs 'occam bench gemm 512 512 512 1' but rank 0 'occam bench gemm 64 64 64 1'"},
        {"bench select --n 1000 --repeats 1", "bench select --n 1000 --repeats 1 --dump d1.bin",
         "rank 1 runs 'occam bench select --n 1000 --repeats 1 --dump' but rank 0"},
        {"plot r.json --out p0", "plot r.json --out=p1 --bogus",
         "rank 1 runs 'occam plot r.json --out --bogus' but rank 0 'occam plot r.json --out'"},
        {"bench select --n 1000 --repeats 1 --dump d0.bin", "bench select --n 1000 --repeats 1",
         "rank 1 runs 'occam bench select --n 1000 --repeats 1' but rank 0 'occam bench select "
         "--n 1000 --repeats 1 --dump'"},
        /* grids that differ in their last character only: past 199 bytes a grid is compared
         * by its CRC-32, which was taken of its first 199 (they agreed, and trained other
         * points together); an action longer than the broadcast holds beside the build ID is
         * cut, with the CRC-32 of the whole (a grid compared as 192 bytes, an action of 198
         * here) */
        {"select configs/blobs.ini --grid train.lr=" LRS "0.00122,0.00123",
         "select configs/blobs.ini --grid train.lr=" LRS "0.00122,0.00124",
         "rank 1 runs 'occam select --grid (1 axes, CRC-32 "},
        {"select configs/blobs.ini --grid train.lr=" LRS "0.00123",
         "select configs/blobs.ini --grid train.lr=" LRS "0.00124",
         "rank 1 runs 'occam select --grid train.lr=0.00101,"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = mpi_two(out, sizeof out, dir, cases[i].rank0, cases[i].rank1);
        cr_assert_eq(rc, 2, "'%s' : '%s': exit %d (124: a hang): %s", cases[i].rank0,
                     cases[i].rank1, rc, out);
        said_once(out, "occam: ", cases[i].want);
    }
    cr_assert(strstr(out, "... (CRC-32 "), "%s", out); /* the last case's */
    cr_assert_neq(access("d1.bin", F_OK), 0, "rank 1 wrote its --dump");
    cr_assert_neq(access("d0.bin", F_OK), 0, "rank 0 wrote its --dump");
    tmpdir_remove(dir);
}

/* A resume that failed on rank 1 alone, in a run with checkpoints (train.checkpoint_every),
 * printed "occam: ; training stopped after 1 epoch, and no checkpoint of this run was
 * written": cli_agree had left rank 0's message empty for rank 1 to speak, train added its
 * clause to it, and rank 0 spoke that alone (found by the MPI sweep). Rank 1 says why. */
Test(mpi, a_resume_failing_on_one_rank_is_said_by_that_rank, .timeout = 120)
{
    char dir[64], out[1 << 15], args0[2048], args1[2048], first[700], second[700];
    tmpdir_make(dir, sizeof dir, "mpi");
    const char *run = "train configs/blobs.ini --threads 1 --set train.epochs=3 "
                      "--set train.checkpoint_every=1";
    cr_assert_eq(shell_occam(out, sizeof out, "%s --set train.checkpoint_dir=%s", run,
                             tmpdir_path(dir, "ck")), 0, "%s", out);
    snprintf(first, sizeof first, "%s", tmpdir_path(dir, "ck/ckpt-e0001-s000000032.safetensors"));
    snprintf(second, sizeof second, "%s",
             tmpdir_path(dir, "ck/ckpt-e0002-s000000064.safetensors"));
    snprintf(args0, sizeof args0, "%s --set train.checkpoint_dir=%s --resume %s", run,
             tmpdir_path(dir, "ck0"), first);
    char missing[700];
    snprintf(missing, sizeof missing, "%s", tmpdir_path(dir, "nothere.st"));
    const char *rank1[] = {second, missing};
    for (int i = 0; i < 2; i++) {
        snprintf(args1, sizeof args1, "%s --set train.checkpoint_dir=%s --resume %s", run,
                 tmpdir_path(dir, "ck1"), rank1[i]);
        cr_assert_eq(mpi_two(out, sizeof out, dir, args0, args1), 2, "%s", out);
        const char *said = strstr(out, "\noccam: rank 1");
        cr_assert(said && strstr(said, rank1[i]), "%s", out);
        cr_assert_null(strstr(said + 1, "\noccam: rank"), "said more than once: %s", out);
        cr_assert_null(strstr(out, "occam: ;"), "%s", out);
        cr_assert_null(strstr(out, "training stopped after"), "%s", out);
    }
    tmpdir_remove(dir);
}

/* The stack-limit refusal comes before MPI starts, so each rank short of stack says it alone:
 * rank 1's message read as rank 0's (found by the MPI sweep). It names the rank now. */
Test(mpi, a_small_stack_on_one_rank_names_it, .timeout = 120)
{
    char dir[64], out[1 << 15], r0[2048], r1[2048];
    tmpdir_make(dir, sizeof dir, "mpi");
    const char *args = "train configs/blobs.ini --threads 1 --set train.epochs=1";
    snprintf(r0, sizeof r0, "%s %s", bin(), args);
    snprintf(r1, sizeof r1, "prlimit --stack=65536 %s %s", bin(), args);
    cr_assert_eq(mpi_two_cmds(out, sizeof out, dir, r0, r1), 1, "%s", out);
    cr_assert(strstr(out, "occam: rank 1: the stack limit is 64 KiB (ulimit -s)"), "%s", out);
    tmpdir_remove(dir);
}

/* plot, bench gemm and bench memory end without the other commands' agreement: under mpirun
 * every rank said their errors (a usage error twice under -np 2, once as "rank 1 (host ...)"),
 * and every rank drew plot's figures, into its own --out (found by the MPI sweep). Now an error
 * is said once, and rank 0 alone plots. */
Test(mpi, plot_and_bench_say_an_error_once_and_rank_0_alone_plots, .timeout = 180)
{
    char dir[64], out[1 << 15], rep[700], r0[2048], r1[2048];
    tmpdir_make(dir, sizeof dir, "mpi");
    struct {
        const char *args, *want;
    } cases[] = {
        {"plot", "plot: nothing to plot"},
        {"plot /nonexistent/r.json --out /tmp", "/nonexistent/r.json: cannot read"},
        {"bench gemm x", "usage: occam bench gemm"},
        {"bench memory 0", "usage: occam bench memory"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cr_assert_eq(mpi(out, sizeof out, 2, "%s", cases[i].args), 2, "%s: %s", cases[i].args,
                     out);
        said_once(out, "occam: ", cases[i].want);
    }
    snprintf(rep, sizeof rep, "%s", tmpdir_path(dir, "r.json"));
    cr_assert_eq(shell_occam(out, sizeof out, "train configs/blobs.ini --threads 1 "
                             "--set train.epochs=2 --report %s", rep), 0, "%s", out);
    snprintf(r0, sizeof r0, "plot %s --out %s/p0", rep, dir);
    snprintf(r1, sizeof r1, "plot %s --out %s/p1", rep, dir);
    cr_assert_eq(mpi_two(out, sizeof out, dir, r0, r1), 0, "%s", out);
    char png[800];
    snprintf(png, sizeof png, "%s/p0/learning.png", dir);
    cr_assert_eq(access(png, F_OK), 0, "rank 0 drew no %s: %s", png, out);
    snprintf(png, sizeof png, "%s/p1", dir);
    cr_assert_neq(access(png, F_OK), 0, "rank 1 drew its figures too: %s", out);
    /* bench select's --input that rank 1's host lacks: rank 1 said nothing, exit 2 (found by
     * the MPI sweep); now it says why, once */
    static const float zeros[1000];
    char a[700], b[700];
    snprintf(a, sizeof a, "%s", tmpdir_path(dir, "a"));
    snprintf(b, sizeof b, "%s", tmpdir_path(dir, "b"));
    cr_assert(mkdir(a, 0700) == 0 && mkdir(b, 0700) == 0);
    char *occam = realpath(bin(), NULL); /* run from a and b */
    cr_assert(occam);
    tmpdir_spit(tmpdir_path(dir, "a/s.bin"), zeros, sizeof zeros);
    snprintf(r0, sizeof r0, "sh -c 'cd %s && exec %s bench select --input s.bin --repeats 1'",
             a, occam);
    snprintf(r1, sizeof r1, "sh -c 'cd %s && exec %s bench select --input s.bin --repeats 1'",
             b, occam);
    cr_assert_eq(mpi_two_cmds(out, sizeof out, dir, r0, r1), 2, "%s", out);
    said_once(out, "occam: ", "occam: rank 1 (host ");
    cr_assert(strstr(out, "cannot open s.bin"), "%s", out);
    free(occam);
    tmpdir_remove(dir);
}

/* n rows of a 2-input, 3-class CSV into csv (cap bytes); returns its length. */
static size_t rows_csv(char *csv, size_t cap, int n)
{
    size_t len = 0;
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(csv + len, cap - len, "%d,%d,%d\n", i % 7, i % 5, i % 3);
    return len;
}

/* select under mpirun whose ranks were given other points: each point's session compares the
 * ranks' configs, and the rank that differs says which key. Rank 0, with no message of its
 * own, wrapped its empty one as "select 2/2 (train.epochs=2): " and, holding a message now,
 * spoke instead: the run exited 2 saying nothing about why (found by the CLI sweep). The grids
 * themselves are compared before anything trains; a --set on one rank is met at its point. */
Test(mpi, select_names_the_rank_whose_grid_differs, .timeout = 120)
{
    char dir[64], out[1 << 15];
    tmpdir_make(dir, sizeof dir, "mpi");
    int rc = mpi_two(out, sizeof out, dir,
                     "select configs/blobs.ini --threads 1 --grid train.epochs=1,2",
                     "select configs/blobs.ini --threads 1 --grid train.epochs=1,3");
    cr_assert_eq(rc, 2, "exit %d: %s", rc, out);
    said_once(out, "occam: ", "rank 1 runs 'occam select --grid train.epochs=1,3' but rank 0 "
                              "'occam select --grid train.epochs=1,2'");
    cr_assert_null(strstr(out, "select 1/2"), "trained before the grids were compared: %s", out);
    /* a data path may differ between ranks (each host's copy), in a grid too; an output named
     * on rank 0 alone is written as asked */
    char r0[1600], r1[1600], rep[700];
    snprintf(rep, sizeof rep, "%s", tmpdir_path(dir, "r.json"));
    snprintf(r0, sizeof r0, "select configs/blobs.ini --threads 1 --set data.source=csv "
             "--set model.layers=2,4,3 --set train.epochs=1 --report %s --grid data.train=%s,%s",
             rep, tmpdir_path(dir, "a.csv"), tmpdir_path(dir, "b.csv"));
    snprintf(r1, sizeof r1, "select configs/blobs.ini --threads 1 --set data.source=csv "
             "--set model.layers=2,4,3 --set train.epochs=1 --grid data.train=%s,%s",
             tmpdir_path(dir, "a2.csv"), tmpdir_path(dir, "b2.csv"));
    char csv[2048];
    size_t len = rows_csv(csv, sizeof csv, 40);
    tmpdir_spit(tmpdir_path(dir, "a.csv"), csv, len);
    tmpdir_spit(tmpdir_path(dir, "a2.csv"), csv, len);
    csv[0] = '5';
    tmpdir_spit(tmpdir_path(dir, "b.csv"), csv, len);
    tmpdir_spit(tmpdir_path(dir, "b2.csv"), csv, len);
    rc = mpi_two(out, sizeof out, dir, r0, r1);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, out);
    cr_assert_eq(access(rep, F_OK), 0, "%s", out);
    /* the team is said as train says it, and the report gives the world size (it said "1
     * thread" and had no ranks) */
    cr_assert(strstr(out, "2 points, 2 ranks × 1 thread, BLIS kernels"), "%s", out);
    FILE *f = fopen(rep, "rb");
    cr_assert_not_null(f, "%s", rep);
    size_t n = fread(csv, 1, sizeof csv - 1, f);
    fclose(f);
    csv[n] = 0;
    cr_assert(strstr(csv, "\"ranks\": 2"), "%s", csv);
    rc = mpi_two(out, sizeof out, dir,
                 "select configs/blobs.ini --threads 1 --grid train.epochs=1,2",
                 "select configs/blobs.ini --threads 1 --grid train.epochs=1,2 "
                 "--set train.lr=0.2");
    cr_assert_eq(rc, 2, "exit %d: %s", rc, out);
    said_once(out, "occam: select ", "rank 1: train.lr = 0.2 differs from rank 0's");
    tmpdir_remove(dir);
}

/* Ranks given other weights: eval, mdl and predict under mpirun split the rows over the ranks,
 * and each scored its share with the model it had loaded, so '-np 1 occam eval C --checkpoint
 * good.st : -np 1 occam eval C --checkpoint bad.st' printed accuracy 0.787 (the models score
 * 1.000 and 0.549) and exited 0 (found by the CLI sweep); ranks resuming from different states
 * trained on from different weights. Now the ranks compare their models first, and the one
 * that differs says where its weights came from; the same file on both ranks still runs. */
Test(mpi, ranks_with_other_weights_are_refused, .timeout = 300)
{
    char dir[64], out[1 << 15], a[600], b[600], ck[600], r0[1600], r1[1600];
    tmpdir_make(dir, sizeof dir, "mpi");
    snprintf(a, sizeof a, "%s", tmpdir_path(dir, "a.st"));
    snprintf(b, sizeof b, "%s", tmpdir_path(dir, "b.st"));
    snprintf(ck, sizeof ck, "%s", tmpdir_path(dir, "ck"));
    const char *small = "configs/blobs.ini --threads 1 --set data.samples=200 --set train.epochs=2";
    cr_assert_eq(shell_occam(out, sizeof out, "train %s --save %s --set train.checkpoint_every=1 "
                             "--set train.checkpoint_keep=5 --set train.checkpoint_dir=%s",
                             small, a, ck), 0, "%s", out);
    cr_assert_eq(shell_occam(out, sizeof out, "train %s --set train.seed=2 --save %s", small, b),
                 0, "%s", out);
    const char *cmds[] = {"eval", "mdl"};
    for (int i = 0; i < 2; i++) {
        snprintf(r0, sizeof r0, "%s %s --checkpoint %s", cmds[i], small, a);
        snprintf(r1, sizeof r1, "%s %s --checkpoint %s", cmds[i], small, b);
        int rc = mpi_two(out, sizeof out, dir, r0, r1);
        cr_assert_eq(rc, 2, "%s: exit %d: %s", cmds[i], rc, out);
        char want[800];
        snprintf(want, sizeof want, "rank 1: its model (--checkpoint %s) differs from rank 0's",
                 b);
        said_once(out, "occam: rank", want);
        cr_assert_null(strstr(out, "accuracy"), "scored: %s", out);
        cr_assert_eq(mpi_two(out, sizeof out, dir, r0, r0), 0, "%s: the same file: %s", cmds[i],
                     out);
    }
    snprintf(r0, sizeof r0, "train %s --set train.epochs=3 --set train.checkpoint_dir=%s/r "
             "--resume %s/ckpt-e0001-s000000007.safetensors", small, dir, ck);
    snprintf(r1, sizeof r1, "train %s --set train.epochs=3 --set train.checkpoint_dir=%s/r "
             "--resume %s/ckpt-e0002-s000000014.safetensors", small, dir, ck);
    cr_assert_eq(mpi_two(out, sizeof out, dir, r0, r1), 2, "%s", out);
    cr_assert(strstr(out, "rank 1: its model (--resume "), "%s", out);
    cr_assert(strstr(out, "ckpt-e0002-s000000014.safetensors) differs from rank 0's"), "%s", out);
    /* the same weights at two places of a run (a rate that rounds to 0 after epoch 1 keeps
     * them): the ranks compared the weights alone, and rank 0 trained on alone and waited
     * forever for rank 1, which had finished (found by an MPI sweep); other moments under the
     * same weights mixed two runs' updates, exit 0 */
    const char *still = "--set train.momentum=0 --set train.schedule=step --set "
                        "train.step_epochs=1 --set train.gamma=1e-40";
    cr_assert_eq(shell_occam(out, sizeof out, "train %s %s --set train.epochs=3 --set "
                             "train.checkpoint_every=1 --set train.checkpoint_keep=5 --set "
                             "train.checkpoint_dir=%s/still", small, still, dir), 0, "%s", out);
    snprintf(r0, sizeof r0, "train %s %s --set train.epochs=4 --set train.checkpoint_dir=%s/r "
             "--resume %s/still/ckpt-e0002-s000000014.safetensors", small, still, dir, dir);
    snprintf(r1, sizeof r1, "train %s %s --set train.epochs=4 --set train.checkpoint_dir=%s/r "
             "--resume %s/still/ckpt-e0003-s000000021.safetensors", small, still, dir, dir);
    cr_assert_eq(mpi_two(out, sizeof out, dir, r0, r1), 2, "%s", out);
    said_once(out, "occam: rank", "rank 1: its training state (--resume ");
    cr_assert(strstr(out, "ckpt-e0003-s000000021.safetensors) differs from rank 0's (its place "
                          "in the run, optimiser moments or random streams, if not its "
                          "weights)"), "%s", out);
    cr_assert_eq(mpi_two(out, sizeof out, dir, r1, r1), 0, "the same state: %s", out);
    tmpdir_remove(dir);
}

/* Every rank reads its own config and data, and a step's collectives assume they match. A
 * rank whose data file is missing left the others waiting forever (its agreement was paired
 * with the trainer's first allgather on rank 0); a rank with other rows, another batch or
 * another model.layers hung or died in MPI; a bad --set on rank 1 exited 2 with nobody saying
 * why. Now each exits 2 on every rank, said once, naming the file, the key or the data. */
Test(mpi, ranks_with_other_inputs_are_refused, .timeout = 300)
{
    char dir[64], out[1 << 15], common[2400], rows[700], fewer[700], other[700];
    tmpdir_make(dir, sizeof dir, "mpi");
    snprintf(rows, sizeof rows, "%s", tmpdir_path(dir, "rows.csv"));
    snprintf(fewer, sizeof fewer, "%s", tmpdir_path(dir, "fewer.csv"));
    snprintf(other, sizeof other, "%s", tmpdir_path(dir, "other.csv"));
    char csv[4096];
    size_t len = rows_csv(csv, sizeof csv, 60);
    tmpdir_spit(rows, csv, len);
    size_t half = 0;
    for (int lines = 0; lines < 30; half++) lines += csv[half] == '\n';
    tmpdir_spit(fewer, csv, half);
    csv[0] = '6'; /* the same shape, one value changed: only the data's hash tells */
    tmpdir_spit(other, csv, len);
    char fifo[700];
    snprintf(fifo, sizeof fifo, "%s", tmpdir_path(dir, "rows.fifo"));
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    snprintf(common, sizeof common, "train configs/blobs.ini --threads 1 --set data.source=csv "
             "--set data.train=%s --set data.test=%s --set model.layers=2,4,3 "
             "--set train.epochs=2 --set train.checkpoint_dir=%s/ck", rows, rows, dir);
    struct {
        const char *rank1, *file, *want; /* file: appended to rank1 */
    } cases[] = {
        {"", "", NULL},
        {"--set data.train=/nonexistent/x.csv", "", "/nonexistent/x.csv: cannot open"},
        {"--set train.lr=abc", "", "--set train.lr: not a decimal number"},
        {"--set train.batch=7", "", "rank 1: train.batch = 7 differs from rank 0's"},
        {"--set model.layers=2,5,3", "", "rank 1: model.layers = 2,5,3 differs from rank 0's"},
        {"--set data.train=", fewer, "rank 1: its data (30 training rows"},
        {"--set data.train=", other, "rank 1: its data (60 training rows"},
        /* a failure of rank 1's alone names the rank and its host: the user's file is fine */
        {"--set data.test=/nonexistent/y.csv", "", "rank 1 (host "},
        /* every rank reads the data: a FIFO was split between them, and its rows blamed */
        {"--set data.train=", fifo, "is a named FIFO, and under mpirun every rank reads it"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char r1[800];
        snprintf(r1, sizeof r1, "%s%s", cases[i].rank1, cases[i].file);
        int rc = mpi_rank1(out, sizeof out, dir, common, r1);
        if (!cases[i].want) {
            cr_assert_eq(rc, 0, "the same inputs: exit %d: %s", rc, out);
            continue;
        }
        cr_assert_eq(rc, 2, "rank 1 %s: exit %d (124: a hang): %s", r1, rc, out);
        said_once(out, "occam: ", cases[i].want);
    }
    tmpdir_remove(dir);
}

/* select opens a runtime per point, and under mpirun said "mpirun bound this rank to its own
 * CPUs" at every point (found by the MPI sweep): a notice is said once a process. */
Test(mpi, select_says_a_binding_notice_once, .timeout = 120)
{
    char out[1 << 15];
    int rc = mpi(out, sizeof out, 2, "select configs/blobs.ini --threads 1 --set train.epochs=1 "
                 "--grid train.lr=0.01,0.05,0.1");
    cr_assert_eq(rc, 0, "%s", out);
    int said = 0;
    for (const char *p = out; (p = strstr(p, "mpirun bound this rank")); p++) said++;
    cr_assert_leq(said, 1, "said %d times: %s", said, out);
}

/* N input rows for configs/blobs.ini's 20 features, as CSV into buf; the length. */
static size_t blobs_rows(char *buf, size_t cap, int n)
{
    size_t len = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < 20; j++)
            len += (size_t)snprintf(buf + len, cap - len, "%d%c", (i * j) % 7,
                                    j == 19 ? '\n' : ',');
    cr_assert(len < cap, "the rows do not fit");
    return len;
}

/* predict under mpirun: every rank predicts, rank 0 writes. Another input on rank 1 went
 * unchecked (exit 0 on rank 0's rows), and standard input, which mpirun gives rank 0 alone,
 * failed on rank 1 after rank 0 had written the output (found by the MPI sweep). Now the ranks
 * compare their rows before rank 0 writes, and a pipe is refused up front. */
Test(mpi, predict_ranks_agree_before_rank_0_writes, .timeout = 120)
{
    char dir[64], out[1 << 15], model[700], rows[700], fewer[700], pred[700], common[3000];
    tmpdir_make(dir, sizeof dir, "mpi");
    snprintf(model, sizeof model, "%s", tmpdir_path(dir, "m.st"));
    snprintf(rows, sizeof rows, "%s", tmpdir_path(dir, "in.csv"));
    snprintf(fewer, sizeof fewer, "%s", tmpdir_path(dir, "fewer.csv"));
    snprintf(pred, sizeof pred, "%s", tmpdir_path(dir, "p.csv"));
    cr_assert_eq(shell_occam(out, sizeof out, "train configs/blobs.ini --threads 1 "
                             "--set train.epochs=1 --save %s", model), 0, "%s", out);
    char csv[8192];
    size_t len = blobs_rows(csv, sizeof csv, 20);
    tmpdir_spit(rows, csv, len);
    tmpdir_spit(fewer, csv, len / 2);
    snprintf(common, sizeof common, "predict configs/blobs.ini --threads 1 --checkpoint %s "
             "--output %s --input", model, pred);
    char r0[3800], r1[3800];
    snprintf(r0, sizeof r0, "%s %s", common, rows);
    snprintf(r1, sizeof r1, "%s %s", common, fewer);
    int rc = mpi_two(out, sizeof out, dir, r0, r1);
    cr_assert_eq(rc, 2, "exit %d: %s", rc, out);
    said_once(out, "occam: ", "rank 1: its rows (");
    cr_assert_neq(access(pred, F_OK), 0, "the output was written: %s", out);
    rc = mpi_two(out, sizeof out, dir, r0, r0);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, out);
    cr_assert_eq(access(pred, F_OK), 0, "%s", out);
    /* other training rows on rank 1 (data.train may differ between ranks' hosts), whose
     * statistics scaled its input otherwise: the input file both ranks shared was blamed */
    char train[700], other[700], ini[700], text[2048];
    snprintf(train, sizeof train, "%s", tmpdir_path(dir, "train.csv"));
    snprintf(other, sizeof other, "%s", tmpdir_path(dir, "other.csv"));
    snprintf(ini, sizeof ini, "%s", tmpdir_path(dir, "c.ini"));
    len = 0;
    for (int i = 0; i < 40; i++) {
        for (int j = 0; j < 20; j++)
            len += (size_t)snprintf(csv + len, sizeof csv - len, "%d,", (i * j + i) % 7);
        len += (size_t)snprintf(csv + len, sizeof csv - len, "%d\n", i % 3);
    }
    cr_assert(len < sizeof csv);
    tmpdir_spit(train, csv, len);
    tmpdir_spit(other, csv, len / 2);
    int n = snprintf(text, sizeof text, "[data]\nsource = csv\ntrain = %s\ntest = %s\ntask = "
                     "classify\nnormalize = standardize\n[model]\nlayers = 20,8,3\n[train]\n"
                     "epochs = 1\nbatch = 8\n", train, train);
    tmpdir_spit(ini, text, (size_t)n);
    cr_assert_eq(shell_occam(out, sizeof out, "train %s --threads 1 --save %s", ini, model), 0,
                 "%s", out);
    snprintf(common, sizeof common, "predict %s --threads 1 --checkpoint %s --output %s "
             "--input %s", ini, model, pred, rows);
    snprintf(r0, sizeof r0, "%s", common);
    snprintf(r1, sizeof r1, "%s --set data.train=%s", common, other);
    rc = mpi_two(out, sizeof out, dir, r0, r1);
    cr_assert_eq(rc, 2, "exit %d: %s", rc, out);
    char want[900];
    snprintf(want, sizeof want, "rank 1: its rows (data.train %s, whose statistics scale "
             "--input: 20 of 20 features) differ from rank 0's", other);
    said_once(out, "occam: ", want);
    tmpdir_remove(dir);
}

/* Rank 0 writes every output, so a folder only its host has (a node's local scratch) is
 * enough: train took it, but eval, mdl, compress, predict and select checked every rank's
 * path, and the rank whose host lacked the folder refused the run ("rank 1 (host h):
 * --report ...: cannot write into the folder ...", exit 2) though it writes nothing (found by
 * the MPI sweep). Here rank 1 is given the path as its host would see it: a missing folder
 * (mdl's compress writes --out; mdl itself writes no file). */
Test(mpi, an_output_folder_on_rank_0_alone_is_enough, .timeout = 300)
{
    char dir[64], out[1 << 15], model[600], rows[600], r0[4096], r1[4096];
    tmpdir_make(dir, sizeof dir, "mpi");
    snprintf(model, sizeof model, "%s", tmpdir_path(dir, "m.st"));
    snprintf(rows, sizeof rows, "%s", tmpdir_path(dir, "in.csv"));
    const char *small = "configs/blobs.ini --threads 1 --set data.samples=200 --set train.epochs=1";
    cr_assert_eq(shell_occam(out, sizeof out, "train %s --save %s", small, model), 0, "%s", out);
    char csv[4096];
    tmpdir_spit(rows, csv, blobs_rows(csv, sizeof csv, 5));
    struct {
        const char *cmd, *option, *name;
    } cases[] = {
        {"eval %s --checkpoint %s", "--report", "e.json"},
        {"compress %s --checkpoint %s", "--out", "c.occ"},
        {"predict %s --checkpoint %s --input %s", "--output", "p.csv"},
        {"select %s --grid train.lr=0.05,0.1", "--save", "s.st"},
        {"train %s", "--report", "t.json"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char cmd[1900], here[700];
        snprintf(cmd, sizeof cmd, cases[i].cmd, small, model, rows);
        snprintf(here, sizeof here, "%s", tmpdir_path(dir, cases[i].name));
        snprintf(r0, sizeof r0, "%s %s %s", cmd, cases[i].option, here);
        snprintf(r1, sizeof r1, "%s %s %s/not-on-this-host/%s", cmd, cases[i].option, dir,
                 cases[i].name);
        int rc = mpi_two(out, sizeof out, dir, r0, r1);
        cr_assert_eq(rc, 0, "%s: exit %d: %s", r1, rc, out);
        cr_assert_eq(access(here, F_OK), 0, "%s: rank 0 wrote no %s: %s", r0, here, out);
        /* the output named on rank 0 alone: compress's rank 1 said 'needs --out' and left
         * rank 0 waiting for ever (found by a hostile-input sweep), then read the name it
         * lacks (a segfault) */
        cr_assert_eq(unlink(here), 0);
        rc = mpi_two(out, sizeof out, dir, r0, cmd);
        cr_assert_eq(rc, 0, "%s on rank 1: exit %d (124: a hang): %s", cmd, rc, out);
        cr_assert_eq(access(here, F_OK), 0, "%s: rank 0 wrote no %s: %s", r0, here, out);
    }
    tmpdir_remove(dir);
}

/* A check that fails on one rank only, before the ranks' first agreement on it: select's own
 * --set and per-point checks (mdl.precision = posterior without noise) returned on rank 1
 * while rank 0 waited in the preflight's agreement, and train's --print-config left rank 0
 * while rank 1, refused by the same check, waited in its next agreement: each hung until
 * killed (found by review). Now every rank exits 2, said once by the rank that failed. */
Test(mpi, a_check_failing_on_one_rank_stops_them_all, .timeout = 300)
{
    char dir[64], out[1 << 15];
    tmpdir_make(dir, sizeof dir, "mpi");
    const char *posterior = "mdl.precision = posterior takes the steps from the posterior";
    struct {
        const char *common, *rank1, *want;
    } cases[] = {
        {"select configs/blobs.ini --threads 1 --grid train.epochs=1,2",
         "--set mdl.precision=posterior", posterior},
        {"select configs/blobs.ini --threads 1 --grid train.epochs=1,2", "--set train.lr=abc",
         "--set train.lr: not a decimal number"},
        {"train configs/blobs.ini --threads 1 --print-config", "--set mdl.precision=posterior",
         posterior},
        /* topo checked its config and topology on each rank alone, then gathered the ranks'
         * plans: the failing rank left the gather, and Open MPI aborted on the mismatch (exit
         * 15, MPI_ERR_TRUNCATE, no word of occam's; found by the MPI sweep) */
        {"topo configs/blobs.ini --threads 1", "--set train.lr=abc",
         "rank 1 (host "},
        {"topo configs/blobs.ini --threads 1", "--set runtime.topology=missing.xml",
         "runtime.topology = \"missing.xml\": expected"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = mpi_rank1(out, sizeof out, dir, cases[i].common, cases[i].rank1);
        cr_assert_eq(rc, 2, "%s, rank 1 %s: exit %d (124: a hang): %s", cases[i].common,
                     cases[i].rank1, rc, out);
        said_once(out, "occam: ", cases[i].want);
    }
    tmpdir_remove(dir);
}

/* `timeout 60 mpirun -np 2 occam ARGS` with rank 1's FAIL_NTH-th allocation of `bytes` bytes
 * failing (failalloc.h's library at so); the exit status, 124 for a hang. */
static int mpi_failing(char *out, size_t cap, const char *so, size_t bytes, int nth,
                       const char *args)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0 FAIL_BYTES=%zu FAIL_NTH=%d "
             "FAIL_RANK=1 timeout 60 mpirun --allow-run-as-root --oversubscribe --quiet -np 2 "
             "-x ASAN_OPTIONS -x FAIL_BYTES -x FAIL_NTH -x FAIL_RANK -x LD_PRELOAD=%s %s %s "
             "2>&1 < /dev/null", bytes, nth, so, bin(), args);
    int sig = 0, rc = shell_run(cmd, out, cap, &sig);
    cr_assert(rc >= 0, "%s: signal %d: %s", cmd, sig, out);
    return rc;
}

/* `train CONFIG_ARGS --set train.epochs=1 --save dir/m.st` under mpi_failing (rank 1's nth
 * allocation of `bytes` failing): every rank exits 1, the output says `said`, and the model is
 * saved, at `model`. */
static void train_with_a_rank_out_of_memory(const char *dir, const char *so,
                                            const char *config_args, size_t bytes, int nth,
                                            const char *said, char *model, size_t model_cap)
{
    char out[1 << 15], args[2048];
    snprintf(model, model_cap, "%s", tmpdir_path(dir, "m.st"));
    snprintf(args, sizeof args, "train %s --set train.epochs=1 --save %s", config_args, model);
    int rc = mpi_failing(out, sizeof out, so, bytes, nth, args);
    cr_assert_eq(rc, 1, "exit %d (124: a hang): %s", rc, out);
    cr_assert(strstr(out, said), "%s", out);
    cr_assert_eq(access(model, F_OK), 0, "no model: %s", out);
}

/* A rank out of memory in the description length went its own way while the others waited in
 * its sums for ever (found by the MPI sweep, failing each allocation of one rank in turn): the
 * mixture prior's fit (its sorted copy of a layer's weights: 740 of them here, 5,952 bytes) at
 * the end of training, and mdl's and compress's copy of the weights. Now the ranks agree and
 * every rank exits 1; train's model is saved. */
Test(mpi, a_rank_out_of_memory_in_the_description_length_stops_them_all, .timeout = 300)
{
    char dir[64], out[1 << 15], so[600], model[600], args[2048];
    tmpdir_make(dir, sizeof dir, "mpi");
    failalloc_build(dir, so, sizeof so);
    const char *small = "configs/blobs.ini --threads 1 --set model.layers=20,37,3";
    train_with_a_rank_out_of_memory(dir, so, small, 5952, 1,
                                    "another rank ran out of memory fitting the priors", model,
                                    sizeof model);
    /* mdl's and compress's copy of the weights to quantise (928 floats with the layers'
     * padding, 3,712 bytes: the 5th block of that size), taken by each rank alone before the
     * description length's sums */
    char occ[600];
    snprintf(occ, sizeof occ, "%s", tmpdir_path(dir, "c.occ"));
    const char *cmds[2][2] = {{"mdl", ""}, {"compress --out", occ}};
    for (int i = 0; i < 2; i++) {
        snprintf(args, sizeof args, "%s %s %s --checkpoint %s", cmds[i][0], cmds[i][1], small,
                 model);
        int rc = mpi_failing(out, sizeof out, so, 3712, 5, args);
        cr_assert_eq(rc, 1, "%s: exit %d (124: a hang): %s", cmds[i][0], rc, out);
        cr_assert(strstr(out, "rank 1 (host "), "%s: %s", cmds[i][0], out);
        cr_assert(strstr(out, "out of memory"), "%s: %s", cmds[i][0], out);
    }
    tmpdir_remove(dir);
}

/* taylor's and obd's scores average gradient passes, collectives: a rank without the memory
 * for its minibatch's row indices (113 rows: 512 bytes, the run's first block of that size)
 * returned while the other waited in the first pass for ever (before it was a message it was
 * an abort, which mpirun spread). The ranks now agree first and every rank exits 1. */
Test(mpi, a_rank_out_of_memory_for_a_pruning_minibatch_stops_them_all, .timeout = 300)
{
    char dir[64], out[1 << 15], so[600], args[2048];
    tmpdir_make(dir, sizeof dir, "mpi");
    failalloc_build(dir, so, sizeof so);
    snprintf(args, sizeof args, "train configs/blobs.ini --threads 1 --set train.epochs=1 "
             "--set train.batch=113 --set prune.schedule=oneshot --set prune.method=taylor "
             "--set prune.finetune_epochs=1 --set train.checkpoint_dir=%s", dir);
    int rc = mpi_failing(out, sizeof out, so, 512, 1, args);
    cr_assert_eq(rc, 1, "exit %d (124: a hang): %s", rc, out);
    cr_assert(strstr(out, "another rank ran out of memory for prune.method's minibatch"), "%s",
              out);
    tmpdir_remove(dir);
}

/* The description length's sums share their chunks among the ranks, and each rank allocated
 * the chunk slots the allgather fills: a rank without them ended every rank (MPI_Abort), so
 * `mdl` exited 1 with no message, and `train`, whose rank 0 took mpirun's ending of it for a
 * stop, lost its model. The ranks now agree on the failure: every rank exits 1 saying "out
 * of memory", and train's model is saved. 5,000 rows are 20 chunks of 256: 160 bytes, 192 as
 * occam_alloc rounds them, first asked for by the sums. */
Test(mpi, a_rank_out_of_memory_for_the_sums_chunk_slots_stops_them_all_with_a_message,
     .timeout = 300)
{
    char dir[64], out[1 << 15], so[600], model[600], args[2048];
    tmpdir_make(dir, sizeof dir, "mpi");
    failalloc_build(dir, so, sizeof so);
    const char *small = "configs/blobs.ini --threads 1 --set data.samples=5000";
    train_with_a_rank_out_of_memory(dir, so, small, 192, 1,
                                    "out of memory for the data code's scratch", model,
                                    sizeof model);
    snprintf(args, sizeof args, "mdl %s --checkpoint %s", small, model);
    int rc = mpi_failing(out, sizeof out, so, 192, 1, args);
    cr_assert_eq(rc, 1, "mdl: exit %d (124: a hang): %s", rc, out);
    cr_assert(strstr(out, "out of memory for the data code's scratch"), "mdl: %s", out);
    tmpdir_remove(dir);
}

/* A kernel built for more than 1,024 possible CPUs refuses sched_getaffinity with a fixed
 * cpu_set_t (EINVAL). Each rank's mask then read as empty, the ranks mpirun had bound apart
 * looked as if they shared the host's cores, and the default 2-rank run was refused ("more
 * threads than the 0 cores rank 1 may use"). Emulated with a preloaded shim that refuses masks
 * under 256 bytes (2,048 CPUs), as such a kernel does. */
static const char BIG_KERNEL_SHIM[] =
    "#define _GNU_SOURCE\n#include <errno.h>\n#include <sched.h>\n#include <string.h>\n"
    "#include <unistd.h>\n#include <sys/syscall.h>\n"
    "int sched_getaffinity(pid_t pid, size_t size, cpu_set_t *set) {\n"
    "    if (size < 256) { errno = EINVAL; return -1; }\n"
    "    long r = syscall(SYS_sched_getaffinity, pid, size, set);\n"
    "    if (r < 0) return -1;\n"
    "    memset((char *)set + r, 0, size - (size_t)r);\n"
    "    return 0;\n}\n";

Test(mpi, ranks_on_a_kernel_of_many_cpus_are_not_taken_for_sharers, .timeout = 120)
{
    char dir[64], out[1 << 14], cmd[4096];
    tmpdir_make(dir, sizeof dir, "mpi");
    char src[600], so[600];
    snprintf(src, sizeof src, "%s", tmpdir_path(dir, "big.c"));
    snprintf(so, sizeof so, "%s", tmpdir_path(dir, "big.so"));
    tmpdir_spit(src, BIG_KERNEL_SHIM, sizeof BIG_KERNEL_SHIM - 1);
    snprintf(cmd, sizeof cmd, "cc -shared -fPIC -o %s %s 2>&1", so, src);
    int sig = 0;
    cr_assert_eq(shell_run(cmd, out, sizeof out, &sig), 0, "%s", out);
    /* the shim must come before the sanitizer runtime: ASan is told not to mind */
    snprintf(cmd, sizeof cmd,
             "ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0 mpirun --allow-run-as-root "
             "--oversubscribe --quiet -np 2 -x ASAN_OPTIONS -x LD_PRELOAD=%s %s train "
             "configs/blobs.ini --set data.samples=200 --set train.epochs=1 2>&1", so, bin());
    cr_assert_eq(shell_run(cmd, out, sizeof out, &sig), 0, "%s", out);
    cr_assert(strstr(out, "2 ranks × 1 thread"), "%s", out);
    tmpdir_remove(dir);
}

/* Ranks mpirun left on the same CPUs divide them, but OpenMP's binding put every rank's
 * threads on the first places: both ranks ran on CPU 0 and CPU 1 stayed idle, with only
 * "OpenMP owns thread binding" said. Refused, said once; `occam topo` of ranks mpirun bound
 * names no plan core for them (rank 1 said "cores 0" and showed PU 0 while it ran on CPU 1). */
Test(mpi, openmp_binding_of_ranks_left_on_the_same_cpus_is_refused, .timeout = 120)
{
    char out[1 << 15], cmd[4096];
    snprintf(cmd, sizeof cmd,
             "OMP_PLACES=cores OMP_PROC_BIND=close ASAN_OPTIONS=detect_leaks=0 mpirun "
             "--allow-run-as-root --oversubscribe --quiet -np 2 --bind-to none -x OMP_PLACES "
             "-x OMP_PROC_BIND -x ASAN_OPTIONS %s train configs/blobs.ini --set "
             "data.samples=200 2>&1", bin());
    int sig = 0;
    cr_assert_eq(shell_run(cmd, out, sizeof out, &sig), 2, "%s", out);
    said_once(out, "occam: ", "OMP_PLACES is set and mpirun left the 2 ranks of this host on "
                               "the same CPUs");
    cr_assert_eq(mpi(out, sizeof out, 2, "topo"), 0, "%s", out);
    cr_assert(strstr(out, "== rank 1 of 2 on "), "%s", out);
    if (sysconf(_SC_NPROCESSORS_ONLN) >= 2) { /* mpirun binds the two ranks apart */
        cr_assert(strstr(out, "(local rank 1 of 2) =="), "%s", out);
        cr_assert(strstr(out, "this process may run on CPUs "), "%s", out);
    }
}

/* ---- the collectives past an int's count ------------------------------------------------------
 * A shard-path layer of more than INT_MAX weights aborted every rank (an assertion in the row
 * gather): MPI's counts and displacements are ints. Past `piece` elements the collectives go in
 * pieces, and where a displacement would pass it around a ring; the tests lower the piece to 5
 * elements (occam_comm_set_piece), as sizes past 2^31 would need more than 8 GB a rank. The
 * test runs itself under mpirun (this binary, this test alone): the ranks check every
 * collective's result, in pieces and whole, and say so. */

/* The value rank r holds at element i of a gathered buffer. */
static float gathered(int r, size_t i) { return (float)(1000 * (r + 1)) + (float)i; }

static void check_collectives(void)
{
    occam_error err;
    cr_assert_eq(occam_comm_init(NULL, NULL, &err), OCCAM_OK, "%s", err.msg);
    const occam_comm *c = occam_comm_world();
    int R = c->size, me = c->rank;
    cr_assert_eq(R, 3);
    /* rows past a piece, rows of a width past it, and a gather that fits one call */
    static const size_t shapes[][2] = {{23, 1}, {7, 3}, {2, 7}, {4, 1}, {12, 5}};
    for (size_t k = 0; k < sizeof shapes / sizeof *shapes; k++) {
        size_t rows = shapes[k][0], w = shapes[k][1];
        float f[64];
        double d[64];
        for (size_t i = 0; i < rows * w; i++) f[i] = -1.0f, d[i] = -1.0;
        size_t lo, hi;
        occam_comm_share(c, rows, me, &lo, &hi);
        for (size_t i = lo * w; i < hi * w; i++) f[i] = gathered(me, i), d[i] = 2.0 * f[i];
        occam_comm_set_piece(5);
        occam_comm_allgather_rows(c, f, rows, w);
        occam_comm_allgather_rows_f64(c, d, rows, w);
        for (int r = 0; r < R; r++) {
            occam_comm_share(c, rows, r, &lo, &hi);
            for (size_t i = lo * w; i < hi * w; i++) {
                cr_assert_eq(f[i], gathered(r, i), "%zu × %zu rows: [%zu] = %g", rows, w, i,
                             (double)f[i]);
                cr_assert_eq(d[i], 2.0 * gathered(r, i));
            }
        }
    }
    /* the reduce-scatter: its sums in ring order, the same bits in pieces as whole */
    float a[41], b[41];
    for (size_t i = 0; i < 41; i++) a[i] = b[i] = 0.1f * (float)(me + 1) + 0.01f * (float)i;
    occam_comm_set_piece(5);
    occam_comm_reduce_scatter_sum(c, a, 41);
    occam_comm_set_piece(0);
    occam_comm_reduce_scatter_sum(c, b, 41);
    size_t lo, hi;
    occam_comm_share(c, 41, me, &lo, &hi);
    for (size_t i = lo; i < hi; i++) {
        cr_assert_eq(a[i], b[i], "reduce-scatter [%zu]: %.9g in pieces, %.9g whole", i,
                     (double)a[i], (double)b[i]);
        float want = 0.01f * (float)i;
        cr_assert_float_eq(a[i], 3 * want + 0.6f, 1e-5, "[%zu] = %g", i, (double)a[i]);
    }
    /* the allreduce and the broadcast */
    for (size_t i = 0; i < 41; i++) a[i] = (float)((me + 1) * (int)i);
    occam_comm_set_piece(5);
    occam_comm_allreduce_sum(c, a, 41);
    for (size_t i = 0; i < 41; i++) cr_assert_eq(a[i], (float)(6 * i));
    char text[32] = "";
    if (me == 1) snprintf(text, sizeof text, "from rank one, 22 bytes");
    occam_comm_bcast(c, text, sizeof text, 1);
    cr_assert_str_eq(text, "from rank one, 22 bytes");
    /* every rank's bytes, equal and unequal counts */
    unsigned char mine[13], all[3 * 13];
    memset(mine, 'a' + me, sizeof mine);
    occam_comm_allgather_bytes(c, mine, all, sizeof mine);
    for (size_t i = 0; i < sizeof all; i++) cr_assert_eq(all[i], 'a' + (int)(i / 13));
    const size_t counts[3] = {3, 9, 1};
    memset(all, 0, sizeof all);
    occam_comm_allgatherv_bytes(c, mine, all, counts);
    cr_assert_eq(memcmp(all, "aaabbbbbbbbbc", 13), 0, "%.13s", (const char *)all);
    occam_comm_set_piece(0);
    printf("collectives: rank %d checked\n", me);
    fflush(stdout);
    occam_comm_finalize();
}

/* Runs this test binary's test `name` (mpi/NAME) under mpirun on np ranks, each of which
 * prints "WHAT: rank R checked" when its checks pass. */
static void run_on_ranks(const char *name, int np, const char *what)
{
    char out[1 << 15], cmd[8192], self[1024], q[2400];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    cr_assert(len > 0 && (size_t)len < sizeof self - 1);
    self[len] = 0;
    /* without this test's BXFI_MAP, or Criterion there takes itself for a test's worker */
    snprintf(cmd, sizeof cmd,
             "env -u BXFI_MAP ASAN_OPTIONS=detect_leaks=0 mpirun --allow-run-as-root "
             "--oversubscribe --quiet -np %d -x ASAN_OPTIONS %s --filter 'mpi/%s' -j1 2>&1", np,
             shell_quote(self, q, sizeof q), name); /* the checkout's path may hold a space */
    int sig = 0, rc = shell_run(cmd, out, sizeof out, &sig);
    cr_assert_eq(rc, 0, "%s", out);
    for (int r = 0; r < np; r++) {
        char want[128];
        snprintf(want, sizeof want, "%s: rank %d checked", what, r);
        cr_assert(strstr(out, want), "no '%s': %s", want, out);
    }
}

Test(mpi, collectives_carry_counts_past_a_piece, .timeout = 120)
{
    if (occam_comm_launched()) { /* a rank of the run below */
        check_collectives();
        return;
    }
    run_on_ranks("collectives_carry_counts_past_a_piece", 3, "collectives");
}

/* ---- row types past the kept widths -------------------------------------------------------
 * The row gather makes an MPI datatype per row width and keeps 32 of them. Past those (neuron
 * pruning narrows the layers at every step, a select grid over model.layers trains many
 * widths) it made a new type on every call and never freed it: each step of the owner path
 * leaked a few, and an iterative neuron prune with long fine-tuning grew each rank to 465 MB.
 * The ranks count the types committed and freed (through the MPI profiling interface: these
 * definitions take the calls, PMPI_ makes them), and after 1,000 gathers over 100 widths at
 * most the kept 32 may be alive. */
static long row_types_made, row_types_freed;

int MPI_Type_commit(MPI_Datatype *type)
{
    row_types_made++;
    return PMPI_Type_commit(type);
}

int MPI_Type_free(MPI_Datatype *type)
{
    row_types_freed++;
    return PMPI_Type_free(type);
}

static void check_row_types(void)
{
    occam_error err;
    cr_assert_eq(occam_comm_init(NULL, NULL, &err), OCCAM_OK, "%s", err.msg);
    const occam_comm *c = occam_comm_world();
    cr_assert_eq(c->size, 2);
    static float rows[4 * 100];
    for (int round = 0; round < 10; round++)
        for (size_t w = 1; w <= 100; w++) {
            size_t lo, hi;
            occam_comm_share(c, 4, c->rank, &lo, &hi);
            for (size_t i = lo * w; i < hi * w; i++) rows[i] = gathered(c->rank, i);
            occam_comm_allgather_rows(c, rows, 4, w);
            for (size_t i = 0; i < 4 * w; i++)
                cr_assert_eq(rows[i], gathered(i < 2 * w ? 0 : 1, i), "width %zu: [%zu]", w, i);
        }
    long alive = row_types_made - row_types_freed;
    cr_assert_leq(alive, 32, "rank %d: %ld row types made, %ld freed: %ld still alive after "
                  "1,000 gathers over 100 widths", c->rank, row_types_made, row_types_freed,
                  alive);
    printf("row types: rank %d checked (%ld made, %ld freed)\n", c->rank, row_types_made,
           row_types_freed);
    fflush(stdout);
    occam_comm_finalize();
}

Test(mpi, row_types_past_the_kept_widths_are_freed, .timeout = 120)
{
    if (occam_comm_launched()) { /* a rank of the run below */
        check_row_types();
        return;
    }
    run_on_ranks("row_types_past_the_kept_widths_are_freed", 2, "row types");
}
