/* occam — command-line entry point: a table of subcommands. Only this file turns statuses into
 * exit codes (0 ok, 1 runtime failure, 2 bad usage, config or input). */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "cli.h"
#include "occam/comm.h"
#include "occam/config.h"
#include "occam/outfile.h"
#include "occam/version.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"train", cmd_train, "train a model from a config file"},
    {"eval", cmd_eval, "evaluate a saved model on the config's data"},
    {"topo", cmd_topo, "show the topology and where threads would run: 'occam topo [CONFIG]'"},
    {"mdl", cmd_mdl, "description length of a saved model in bits, per layer"},
    {"compress", cmd_compress, "write a model's two-part code with a range coder (.occ)"},
    {"select", cmd_select, "train a grid of configs; the shortest description length wins"},
    {"predict", cmd_predict, "predict with a saved model on CSV or IDX rows; CSV out"},
    {"plot", cmd_plot, "PNG plots from a report, a checkpoint's masks or a scaling CSV"},
    {"bench", cmd_bench, "benchmarks: 'occam bench train CONFIG' (throughput vs sgemm)"},
};
#define NCOMMANDS (int)(sizeof commands / sizeof commands[0])

static void usage(FILE *out)
{
    fprintf(out,
            "occam %s — a data-parallel MLP trainer that keeps networks simple\n\n"
            "usage: occam COMMAND CONFIG [options]\n"
            "       occam COMMAND --help | occam help COMMAND\n"
            "       occam --help | --version | --config-keys\n\ncommands:\n",
            OCCAM_VERSION);
    for (int i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'occam --config-keys' lists every config key with its type, default and "
                 "bounds.\nExit status: 0 ok, 1 runtime failure, 2 bad usage, config or input.\n");
}

static int dispatch(int argc, char **argv);

/* A stack limit of 96 KiB or less (ulimit -s) ended commands in a segmentation fault (in BLIS,
 * where occam's own frames already take about 58 KiB; train's set-up too): said first, before
 * anything runs on that stack. */
enum { STACK_FLOOR_KIB = 256 };

static bool stack_too_small(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_STACK, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
        rl.rlim_cur >= (rlim_t)STACK_FLOOR_KIB << 10)
        return false;
    fprintf(stderr, "occam: the stack limit is %llu KiB (ulimit -s), below the %d KiB occam "
            "needs (BLIS's kernels and occam's own frames would overflow it); raise it\n",
            (unsigned long long)(rl.rlim_cur >> 10), STACK_FLOOR_KIB);
    return true;
}

int main(int argc, char **argv)
{
    /* --version and --help run on any stack */
    const char *first = argc > 1 ? argv[1] : "";
    bool light = !strcmp(first, "--version") || !strcmp(first, "--help") || !strcmp(first, "-h");
    if (!light && stack_too_small()) return OCCAM_ERR_RUNTIME;
    /* Under mpirun: MPI first (it may rewrite argv); the ranks other than 0 keep quiet. */
    occam_error err = {0};
    if (occam_comm_init(&argc, &argv, &err) != OCCAM_OK) {
        fprintf(stderr, "occam: %s\n", err.msg);
        occam_comm_abort(OCCAM_ERR_RUNTIME);
    }
    cli_quiet_other_ranks();
    int rc = dispatch(argc, argv);
    /* What a command printed is part of its result: a table or predictions that never
     * reached their reader (a closed stdout, a full disk) are a failure, not exit 0. */
    errno = 0;
    if (!cli_stdout_flush() && rc == 0) {
        bool named = strcmp(cli_command_name, "occam") != 0; /* a command ran */
        fprintf(stderr, "occam: %s%swriting to standard output failed: %s\n",
                named ? cli_command_name : "", named ? ": " : "", cli_stdout_reason());
        rc = OCCAM_ERR_RUNTIME;
    }
    occam_comm_finalize();
    return rc;
}

static int dispatch(int argc, char **argv)
{
    /* One malloc arena for all threads. By default glibc gives each new thread an arena of its
     * own, reserving 64-128 MiB of address space the moment that thread first allocates; on a
     * short machine that reservation, not the memory asked for, is what fails, at a moment no
     * check can foresee, and inside BLIS a failed malloc aborts the process. With one arena
     * the out-of-memory checks (occam_gemm_prepare) predict what BLIS gets: under `ulimit -v`
     * runs either work or say "out of memory", never abort (tests/test_cli.c). Nothing in a
     * training step allocates, so the shared arena costs no speed (measured: same epoch time). */
    mallopt(M_ARENA_MAX, 1);
    /* Past a file-size limit (ulimit -f) a write must fail with EFBIG and take the ordinary
     * path, a message, exit 1 and no temporary file left, instead of SIGXFSZ killing the
     * process mid-write. */
    signal(SIGXFSZ, SIG_IGN);
    /* A reader that leaves early ('occam select ... | head -1') made the next write to stdout
     * kill the process: select lost its --report, written after the table. Ignored, the write
     * fails with EPIPE, the outputs are still written, and main says stdout failed (exit 1). */
    signal(SIGPIPE, SIG_IGN);
    /* Ctrl-C, kill or a closed terminal mid-write: the output's temporary file goes too. */
    occam_outfile_catch_signals();
    const char *cmd = argc < 2 ? "" : argv[1];
    bool help = !strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help");
    /* 'occam help CMD [SUB]' is 'occam CMD [SUB] --help' (it printed the general help) */
    bool help_cmd = !strcmp(cmd, "help") && argc > 2 && argc <= 4;
    /* under mpirun: one command on all ranks ('help CMD' runs CMD's collectives, '--help' none) */
    char action[CLI_ACTION_MAX];
    bool bench_sub = !strcmp(cmd, "bench") && argc > 2; /* named with its benchmark */
    snprintf(action, sizeof action, "%s%s%s%s", help_cmd ? "help " : "",
             help_cmd ? argv[2] : help ? "--help" : cmd, bench_sub ? " " : "",
             bench_sub ? argv[2] : "");
    int rc = cli_same_action(action);
    if (rc) return rc;
    if (argc < 2) {
        usage(stderr);
        return OCCAM_ERR_INPUT;
    }
    if (help_cmd) {
        char *args[5] = {argv[2], argc > 3 ? argv[3] : "--help", "--help", NULL, NULL};
        if (argc == 3) args[2] = NULL;
        for (int i = 0; i < NCOMMANDS; i++)
            if (!strcmp(argv[2], commands[i].name)) {
                cli_command_name = commands[i].name;
                return commands[i].run(argc - 1, args);
            }
        fprintf(stderr, "occam: help: unknown command '%s' (see 'occam --help')\n",
                cli_shown(argv[2]));
        return OCCAM_ERR_INPUT;
    }
    if (help) {
        usage(stdout);
        return 0;
    }
    /* 'occam --version train C' is a command line gone wrong, not a request for the version */
    bool info = !strcmp(cmd, "--version") || !strcmp(cmd, "--config-keys");
    if (info && argc > 2) {
        fprintf(stderr, "occam: %s takes no arguments (got '%s'; see 'occam --help')\n", cmd,
                cli_shown(argv[2]));
        return OCCAM_ERR_INPUT;
    }
    if (!strcmp(cmd, "--version")) {
        printf("occam %s\n", OCCAM_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "--config-keys")) {
        occam_config_write_help(stdout);
        return 0;
    }
    for (int i = 0; i < NCOMMANDS; i++)
        if (!strcmp(cmd, commands[i].name)) {
            cli_command_name = commands[i].name;
            return commands[i].run(argc - 1, argv + 1);
        }
    fprintf(stderr, "occam: unknown command '%s' (see 'occam --help')\n", cli_shown(cmd));
    return OCCAM_ERR_INPUT;
}
