/* Option parsing (getopt_long) and run set-up shared by the computing subcommands. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "cli.h"
#include "occam/comm.h"
#include "occam/gemm.h"
#include "occam/team.h"

const char *cli_command_name = "occam";

/* Where a rank's error goes: stderr, or on the quiet ranks the real stderr kept aside. */
static FILE *err_out;

static ssize_t discard(void *cookie, const char *buf, size_t n)
{
    (void)cookie, (void)buf;
    return (ssize_t)n;
}

void cli_quiet_other_ranks(void)
{
    if (occam_comm_is_root(occam_comm_world())) return;
    /* Progress, summaries and notices are rank 0's to print: the others' stdout and stderr go
     * nowhere (a stream of our own: no device is opened). Their errors still reach the real
     * stderr, when they are the ones to speak (cli_finish). */
    int fd = dup(2);
    err_out = fd >= 0 ? fdopen(fd, "w") : NULL;
    FILE *none = fopencookie(NULL, "w", (cookie_io_functions_t){.write = discard});
    if (none) {
        stdout = none;
        stderr = none;
    }
}

const char *cli_shown(const char *text)
{
    static char buf[4][4 * OCCAM_ERROR_MAX + 4];
    static int next;
    char *b = buf[next++ % 4];
    return occam_error_quote(b, sizeof buf[0], text, strlen(text), OCCAM_ERROR_MAX);
}

int cli_fail(const occam_error *err)
{
    int status = err->status ? err->status : OCCAM_ERR_RUNTIME;
    FILE *out = err_out ? err_out : stderr;
    /* under mpirun a failure that is another rank's alone (a file its host lacks or holds
     * damaged) names that rank and host: the file the user looks at may be fine */
    const occam_comm *w = occam_comm_world();
    char who[128] = "";
    char me[24];
    snprintf(me, sizeof me, "rank %d", w->rank);
    const char *named = strstr(err->msg, me); /* the message names this rank already */
    if (named && named[strlen(me)] >= '0' && named[strlen(me)] <= '9') named = NULL;
    if (w->size > 1 && w->rank != 0 && !named) {
        char host[64] = "";
        if (gethostname(host, sizeof host - 1) != 0) host[0] = 0;
        snprintf(who, sizeof who, "rank %d%s%s%s: ", w->rank, *host ? " (host " : "", host,
                 *host ? ")" : "");
    }
    if (err->msg[0])
        fprintf(out, "occam: %s%s\n", who, cli_shown(err->msg));
    else if (status >= OCCAM_STOPPED)
        ; /* stopped by a signal: the command has said where its state is */
    else /* a failure path that forgot its message: never exit without a word */
        fprintf(out, "occam: %s: failed (exit %d) without saying why; this is a bug in occam, "
                     "please report it\n", cli_command_name, status);
    fflush(out);
    return status;
}

/* The speaker is the lowest failing rank that still holds its message, else the lowest
 * failing one. A failure agreed before leaves the other ranks failing with no message; were
 * the lowest of those chosen when the ranks agree again on the way out (cmd_train agrees after
 * cli_setup has), the rank with the message would drop it and nobody would say why. Both
 * agreements run on every rank. */
int cli_agree(int rc, occam_error *err)
{
    const occam_comm *w = occam_comm_world();
    int who, said;
    int status = occam_comm_agree(w, rc, &who);
    int spoken = occam_comm_agree(w, rc != OCCAM_OK && err->msg[0] ? rc : OCCAM_OK, &said);
    if (spoken != OCCAM_OK) status = spoken, who = said;
    if (status != OCCAM_OK && who != w->rank) { /* the failing rank says why, not this one */
        err->msg[0] = 0;
        err->status = status;
    }
    return status;
}

/* The end of a command on every rank: the lowest rank with a message prints it (so a bad
 * config under mpirun -np 4 is said once), every rank returns its own status. */
static int cli_finish(int rc, occam_error *err)
{
    const occam_comm *w = occam_comm_world();
    if (w->size > 1) {
        int who;
        occam_comm_agree(w, rc != 0 && err->msg[0] ? rc : OCCAM_OK, &who);
        if (who >= 0 && who != w->rank) return rc;
        if (who < 0 && !occam_comm_is_root(w)) return rc;
    }
    return rc ? cli_fail(err) : 0;
}

static int parse_threads(const char *s, int *out, occam_error *err)
{
    int64_t v;
    if (!occam_config_integer(s, &v) || v < 0 || v > 4096)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "--threads %s: expected a whole number from 0 to 4096", s);
    *out = (int)v;
    return OCCAM_OK;
}

int cli_option_once(const char *given[128], int c, const char *cmd, const char *name,
                    occam_error *err)
{
    if (c <= 0 || c >= 128 || !optarg) return OCCAM_OK; /* a flag may come twice */
    if (given[c])
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: --%s given twice ('%s', then '%s'); "
                               "give it once", cmd, name, given[c], optarg);
    given[c] = optarg;
    return OCCAM_OK;
}

/* The command as the user typed it: "train", or "bench train" for a subcommand of bench
 * (main's cli_command_name is "bench", argv[0] "train"). */
static void command_title(char *buf, size_t cap, const char *argv0)
{
    bool sub = strcmp(cli_command_name, argv0) != 0 && strcmp(cli_command_name, "occam") != 0;
    snprintf(buf, cap, "%s%s%s", sub ? cli_command_name : "", sub ? " " : "", argv0);
}

int cli_parse(int argc, char **argv, unsigned allowed, cli_opts *o, occam_error *err)
{
    static const struct option longopts[] = {
        {"set", required_argument, NULL, 's'},
        {"threads", required_argument, NULL, 't'},
        {"report", required_argument, NULL, 'r'},
        {"save", required_argument, NULL, 'o'},
        {"checkpoint", required_argument, NULL, 'c'},
        {"json", no_argument, NULL, 'j'},
        {"code", required_argument, NULL, 'k'},
        {"out", required_argument, NULL, 'u'},
        {"input", required_argument, NULL, 'I'},
        {"output", required_argument, NULL, 'O'},
        {"repeats", required_argument, NULL, 'R'},
        {"threshold", required_argument, NULL, 'T'},
        {"resume", required_argument, NULL, 'S'},
        {"print-config", no_argument, NULL, 'P'},
        {"grid", required_argument, NULL, 'g'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const unsigned flag_of[128] = {['s'] = CLI_SET, ['t'] = CLI_THREADS,
                                          ['r'] = CLI_REPORT, ['o'] = CLI_SAVE,
                                          ['c'] = CLI_CHECKPOINT, ['j'] = CLI_JSON,
                                          ['k'] = CLI_CODE, ['u'] = CLI_OUT,
                                          ['I'] = CLI_INPUT, ['O'] = CLI_OUTPUT,
                                          ['R'] = CLI_REPEATS, ['T'] = CLI_THRESHOLD,
                                          ['S'] = CLI_RESUME, ['P'] = CLI_PRINT_CONFIG,
                                          ['g'] = CLI_GRID, ['v'] = CLI_VERBOSE};
    char cmd[CLI_ACTION_MAX];
    command_title(cmd, sizeof cmd, argv[0]);
    memset(o, 0, sizeof *o);
    o->threads = -1;
    optind = 0; /* GNU: full re-initialisation */
    opterr = 0;
    int c, idx = 0;
    const char *given[128] = {0}; /* an option's value, to refuse a second one */
    while ((c = getopt_long(argc, argv, "h", longopts, &idx)) != -1) {
        if (c == '?' || c == ':')
            return occam_error_set(err, OCCAM_ERR_INPUT, "%s: unknown option or missing value: %s "
                                   "(see 'occam %s --help')", cmd, argv[optind - 1], cmd);
        if (c == 'h') {
            o->help = true;
            return OCCAM_OK;
        }
        if (!(allowed & flag_of[c]))
            return occam_error_set(err, OCCAM_ERR_INPUT, "%s: option --%s does not apply here",
                                   cmd, longopts[idx].name);
        switch (c) {
        case 's':
            if (o->nsets == CLI_MAX_SETS)
                return occam_error_set(err, OCCAM_ERR_INPUT, "too many --set options (max %d)",
                                       CLI_MAX_SETS);
            o->sets[o->nsets++] = optarg;
            break;
        case 't': {
            int rc = parse_threads(optarg, &o->threads, err);
            if (rc) return rc;
            break;
        }
        case 'r': o->report = optarg; break;
        case 'o': o->save = optarg; break;
        case 'c': o->checkpoint = optarg; break;
        case 'j': o->json = true; break;
        case 'k': o->code = optarg; break;
        case 'u': o->out = optarg; break;
        case 'I': o->input = optarg; break;
        case 'O': o->output = optarg; break;
        case 'R': o->repeats = optarg; break;
        case 'T': o->threshold = optarg; break;
        case 'S': o->resume = optarg; break;
        case 'P': o->print_config = true; break;
        case 'v': o->verbose = true; break;
        case 'g':
            if (o->ngrids == CLI_MAX_GRIDS)
                return occam_error_set(err, OCCAM_ERR_INPUT, "too many --grid options (max %d)",
                                       CLI_MAX_GRIDS);
            o->grids[o->ngrids++] = optarg;
            break;
        }
        /* after the value's own check: '--threads 1 --threads x' names the bad value */
        if (c != 's' && c != 'g' && cli_option_once(given, c, cmd, longopts[idx].name, err))
            return OCCAM_ERR_INPUT;
    }
    /* GNU getopt permutes argv: options may come before or after CONFIG. */
    if (optind < argc) o->config = argv[optind++];
    if (optind < argc)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: unexpected argument '%s'", cmd,
                               argv[optind]);
    if (!o->help && !o->config && !(allowed & CLI_CONFIG_OPTIONAL))
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: missing CONFIG (see 'occam %s --help')",
                               cmd, cmd);
    return OCCAM_OK;
}

/* An option that sets one config key (--code sets mdl.model_code): through the config table,
 * its message naming the option as given ("--code foo: expected one of ...") rather than a
 * --set the user did not write. The assignment is built to the value's length: a fixed buffer
 * cut a long value short, and a cut could leave a valid one ("count" and blanks). */
static int set_from_option(occam_config *cfg, const char *option, const char *key,
                           const char *value, occam_error *err)
{
    size_t n = strlen(key) + strlen(value) + 2;
    char *set = malloc(n);
    if (!set) return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: out of memory", option);
    snprintf(set, n, "%s=%s", key, value);
    occam_error e = {0};
    int rc = occam_config_set(cfg, set, &e);
    free(set);
    if (rc == OCCAM_OK) return OCCAM_OK;
    const char *why = strstr(e.msg, ": "); /* after "--set KEY" */
    return occam_error_set(err, rc, "%s %s%s", option, value, why ? why : e.msg);
}

/* Under mpirun every rank reads each input itself: a named FIFO, or standard input (which
 * mpirun gives rank 0 alone), was split between the ranks, and its rows blamed for errors
 * they do not have ('ff:3641: expected 5 cells, found 6'; '/dev/stdin: no data rows'). A
 * pipe each rank opens for itself (bash's <(...)) is its own, and the ranks' row hashes catch
 * one that is not. stat does not open, so a FIFO without a writer is not waited on. */
static int one_reader_each(const char *path, const char *what, occam_error *err)
{
    struct stat ln, st, in;
    if (!path || !*path || lstat(path, &ln) != 0 || stat(path, &st) != 0 || S_ISREG(st.st_mode))
        return OCCAM_OK; /* a missing file is its reader's to name */
    bool fifo = S_ISFIFO(ln.st_mode);
    bool stdin_too = fstat(0, &in) == 0 && in.st_dev == st.st_dev && in.st_ino == st.st_ino;
    if (!fifo && !stdin_too) return OCCAM_OK;
    return occam_error_set(err, OCCAM_ERR_INPUT, "%s (%s) is %s, and under mpirun every rank "
                           "reads it: its rows would be split between the ranks%s; give every "
                           "rank a regular file", what, path,
                           fifo ? "a named FIFO" : "standard input",
                           fifo ? "" : " (mpirun gives standard input to rank 0 alone)");
}

static int ranks_read_files(const cli_opts *o, const occam_config *cfg, occam_error *err)
{
    if (occam_comm_world()->size < 2) return OCCAM_OK;
    bool csv = cfg->data.source == OCCAM_SOURCE_CSV;
    int rc = one_reader_each(csv ? cfg->data.train : NULL, "data.train", err);
    if (rc == OCCAM_OK) rc = one_reader_each(csv ? cfg->data.test : NULL, "data.test", err);
    if (rc == OCCAM_OK) rc = one_reader_each(o->checkpoint, "--checkpoint", err);
    if (rc == OCCAM_OK) rc = one_reader_each(o->resume, "--resume", err);
    if (rc == OCCAM_OK) rc = one_reader_each(o->input, "--input", err);
    return rc;
}

int cli_setup(const cli_opts *o, occam_config *cfg, int *threads, occam_error *err)
{
    occam_config_defaults(cfg);
    int rc = occam_gemm_check_env(err); /* before BLIS reads it: it aborts on a bad value */
    if (rc == OCCAM_OK) rc = occam_config_load(cfg, o->config, err);
    for (int i = 0; rc == OCCAM_OK && i < o->nsets; i++) rc = occam_config_set(cfg, o->sets[i], err);
    if (rc == OCCAM_OK && o->threads >= 0) cfg->runtime.threads = o->threads;
    occam_model_code configured = cfg->mdl.model_code;
    if (rc == OCCAM_OK && o->code)
        rc = set_from_option(cfg, "--code", "mdl.model_code", o->code, err);
    /* --code wins over the config's mdl.model_code: said, not silent */
    occam_config defaults;
    occam_config_defaults(&defaults);
    if (rc == OCCAM_OK && o->code && configured != cfg->mdl.model_code &&
        configured != defaults.mdl.model_code && occam_comm_is_root(occam_comm_world()))
        fprintf(stderr, "occam: note: --code %s replaces mdl.model_code = %s from the config\n",
                o->code, occam_dl_code_name(configured));
    if (rc == OCCAM_OK) rc = occam_config_validate(cfg, err);
    if (rc == OCCAM_OK)
        rc = occam_team_resolve(cfg->runtime.threads, cfg->runtime.oversubscribe,
                                o->threads >= 0 ? "--threads" : "runtime.threads", threads, err);
    if (rc == OCCAM_OK) rc = ranks_read_files(o, cfg, err);

    /* under mpirun a file one host lacks, or a rank left without a core, stops every rank */
    return cli_agree(rc, err);
}

int cli_same_action(const char *action)
{
    const occam_comm *w = occam_comm_world();
    if (w->size < 2) return 0;
    char mine[CLI_ACTION_MAX] = {0}, first[CLI_ACTION_MAX] = {0};
    snprintf(mine, sizeof mine, "%s", action);
    memcpy(first, mine, sizeof first);
    occam_comm_bcast(w, first, sizeof first, 0);
    occam_error err = {0};
    int rc = OCCAM_OK;
    if (strcmp(mine, first) != 0)
        rc = occam_error_set(&err, OCCAM_ERR_INPUT, "rank %d runs 'occam%s%s' but rank 0 "
                             "'occam%s%s': every rank must run the same command (see mpirun's "
                             "command lines)", w->rank, *mine ? " " : "", mine,
                             *first ? " " : "", first);
    return cli_finish(cli_agree(rc, &err), &err);
}

/* One --grid as the ranks compare it: as given, but for a key that may differ between ranks
 * (cli_rank_local: each host's own copy of the data) only the key and how many values. */
static size_t grid_action(char *buf, size_t cap, const char *spec)
{
    const char *eq = strchr(spec, '=');
    char key[96] = "";
    if (eq) {
        const char *a = spec, *b = eq;
        while (a < b && (*a == ' ' || *a == '\t')) a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t')) b--;
        snprintf(key, sizeof key, "%.*s", (int)(b - a), a);
    }
    if (!eq || !cli_rank_local(key)) return (size_t)snprintf(buf, cap, " --grid %s", spec);
    int n = 1;
    for (const char *c = eq + 1; *c; c++) n += *c == ',';
    return (size_t)snprintf(buf, cap, " --grid %s=(%d value%s)", key, n, n == 1 ? "" : "s");
}

/* What every rank must agree on before any work: the command; --help and --print-config
 * (one rank alone would leave the others in their first collective); --resume (every rank
 * restores a state, or none); the inputs named by option; the values that steer the work
 * (--code, --repeats, --threshold, --json); and select's grid, whose points are trained
 * together (grids of other sizes left a rank in a collective for ever). The outputs are
 * compared apart (outputs_on_rank_0). */
static void cli_action(const cli_opts *o, const char *cmd, char *buf, size_t cap)
{
    /* the grid as compared, or, when that is long, its axes and CRC-32 */
    uLong grid = crc32_z(0, NULL, 0);
    char grids[200] = "";
    size_t len = 0;
    for (int i = 0; i < o->ngrids; i++) {
        char one[sizeof grids];
        size_t n = grid_action(one, sizeof one, o->grids[i]);
        grid = crc32_z(grid, (const unsigned char *)one, strlen(one));
        if (len < sizeof grids) len += (size_t)snprintf(grids + len, sizeof grids - len, "%s", one);
        if (n >= sizeof one) len = sizeof grids; /* cut: the CRC-32 stands for it */
    }
    if (len >= sizeof grids)
        snprintf(grids, sizeof grids, " --grid (%d axes, CRC-32 %08lx)", o->ngrids,
                 (unsigned long)grid);
    snprintf(buf, cap, "%s%s%s%s%s%s%s%s%.64s%s%.64s%s%.64s", cmd,
             o->help ? " --help" : o->print_config ? " --print-config" : "",
             o->resume ? " --resume" : "", o->checkpoint ? " --checkpoint" : "",
             o->input ? " --input" : "", o->json ? " --json" : "", grids,
             o->code ? " --code " : "", o->code ? o->code : "",
             o->repeats ? " --repeats " : "", o->repeats ? o->repeats : "",
             o->threshold ? " --threshold " : "", o->threshold ? o->threshold : "");
}

/* Rank 0 writes every output: one named on another rank alone was dropped without a word
 * (exit 0, no file). Named on rank 0 alone, it is written as asked. Every rank calls it. */
static int outputs_on_rank_0(const cli_opts *o)
{
    const occam_comm *w = occam_comm_world();
    if (w->size < 2) return 0;
    static const char *const names[] = {"--save", "--report", "--out", "--output"};
    const char *given[] = {o->save, o->report, o->out, o->output};
    unsigned mine = 0, root;
    for (unsigned i = 0; i < 4; i++) mine |= given[i] ? 1u << i : 0u;
    root = mine;
    occam_comm_bcast(w, &root, sizeof root, 0);
    occam_error err = {0};
    int rc = OCCAM_OK;
    for (unsigned i = 0; i < 4 && rc == OCCAM_OK; i++)
        if (mine & ~root & 1u << i)
            rc = occam_error_set(&err, OCCAM_ERR_INPUT, "rank %d names %s %s, which rank 0 does "
                                 "not: rank 0 writes every output, so name it there", w->rank,
                                 names[i], given[i]);
    return cli_finish(cli_agree(rc, &err), &err);
}

int cli_command(int argc, char **argv, unsigned allowed, const char *usage,
                int (*run)(const cli_opts *o, occam_error *err))
{
    cli_opts o;
    occam_error err = {0};
    /* under mpirun a usage error on one rank stops them all, said by the lowest such rank */
    int rc = cli_agree(cli_parse(argc, argv, allowed, &o, &err), &err);
    if (rc) return cli_finish(rc, &err);
    /* --help or --print-config on one rank only would leave the others in their first
     * collective */
    char cmd[64], action[CLI_ACTION_MAX];
    command_title(cmd, sizeof cmd, argv[0]);
    cli_action(&o, cmd, action, sizeof action);
    rc = cli_same_action(action);
    if (rc == 0) rc = outputs_on_rank_0(&o);
    if (rc) return rc;
    if (o.help) {
        fputs(usage, stdout);
        return 0;
    }
    rc = run(&o, &err);
    cli_outputs_final(); /* the command has written all it will: a late signal loses nothing */
    return cli_finish(rc, &err);
}
