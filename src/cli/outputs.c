/* The outputs a command writes when its work is done (--save, --report): each one is written
 * even when an earlier one failed, and one message says what was written where and what was
 * not. Training for an hour and then losing the model because the report's folder was mistyped
 * is the failure this exists to rule out; the paths are also checked before the work starts
 * (occam_outfile_check), but the file system can change while the work runs. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "occam/comm.h"
#include "occam/outfile.h"

/* The first failed flush's reason, kept: a later flush of the same stream finds nothing to
 * write and leaves errno alone, so the reason ("Broken pipe") was lost when stdout was flushed
 * twice (cli_outputs_final, then the command's own check). */
static bool stdout_failed;
static int stdout_errno;

bool cli_stdout_flush(void)
{
    if (stdout_failed) return false;
    if (fflush(stdout) == 0 && !ferror(stdout)) return true;
    stdout_failed = true;
    stdout_errno = errno; /* the flush's, or the failed write's (callers zero errno first) */
    return false;
}

const char *cli_stdout_reason(void)
{
    return stdout_errno ? strerror(stdout_errno) : "a write failed";
}

int cli_stdout_check(const char *cmd, occam_error *err)
{
    if (cli_stdout_flush()) return OCCAM_OK;
    return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: writing to standard output failed: %s",
                           cmd, cli_stdout_reason());
}

void cli_outputs_write_each(cli_output *outs, int n)
{
    if (!occam_comm_is_root(occam_comm_world())) return; /* rank 0 writes */
    for (int i = 0; i < n; i++) {
        cli_output *o = &outs[i];
        if (!o->path) continue;
        occam_error e = {0};
        o->rc = o->write(o->ctx, o->path, &e);
        o->msg[0] = 0;
        if (o->rc != OCCAM_OK) snprintf(o->msg, sizeof o->msg, "%s", e.msg);
    }
}

int cli_outputs_write(cli_output *outs, int n, occam_error *err)
{
    cli_outputs_write_each(outs, n);
    return cli_outputs_status(outs, n, err);
}

int cli_outputs_status(const cli_output *outs, int n, occam_error *err)
{
    if (!occam_comm_is_root(occam_comm_world())) return OCCAM_OK;
    char msg[sizeof err->msg];
    size_t len = 0;
    bool failed = false;
    for (int i = 0; i < n; i++) failed |= outs[i].path && outs[i].rc != OCCAM_OK;
    if (!failed) return OCCAM_OK;
    msg[0] = 0;
    for (int i = 0; i < n && len < sizeof msg; i++) {
        const cli_output *o = &outs[i];
        if (!o->path) continue;
        const char *sep = len ? "; " : "";
        int w = o->rc == OCCAM_OK
                    ? snprintf(msg + len, sizeof msg - len, "%swrote %s to %s", sep, o->label,
                               o->path)
                    : snprintf(msg + len, sizeof msg - len, "%s%s could not be written: %s", sep,
                               o->label, o->msg);
        len = w < 0 ? sizeof msg : len + (size_t)w;
    }
    /* Written, then failing, the work itself succeeded: a runtime failure, never bad usage. */
    return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s", msg);
}

static bool same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

int cli_check_stream(const char *path, const char *what, occam_error *err)
{
    /* rank 0 writes; the others' streams are not the output's */
    if (!occam_comm_is_root(occam_comm_world())) return OCCAM_OK;
    /* only an output written in place shares a stream: a file named as such is replaced
     * whole (the descriptors keep the old one); a terminal or /dev/null is not read back */
    struct stat st, out, msg;
    if (!occam_outfile_in_place(path) || stat(path, &st) != 0 || S_ISCHR(st.st_mode))
        return OCCAM_OK;
    bool is_out = fstat(STDOUT_FILENO, &out) == 0 && same_file(&st, &out);
    if (fstat(STDERR_FILENO, &msg) == 0 && same_file(&st, &msg))
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s %s: the same %s as standard error%s, "
                               "where occam's messages go: they would be mixed into it; send "
                               "one of them elsewhere", what, path,
                               S_ISFIFO(st.st_mode) ? "pipe" : "file",
                               is_out ? " and standard output" : "");
    if (is_out && stdout != stderr) {
        fflush(stdout);
        stdout = stderr; /* glibc's stdout is a variable; fd 1 stays the output's */
    }
    return OCCAM_OK;
}

bool cli_same_stream(const char *a, const char *b)
{
    struct stat sa, sb;
    return occam_outfile_in_place(a) && occam_outfile_in_place(b) && stat(a, &sa) == 0 &&
           stat(b, &sb) == 0 && !S_ISCHR(sa.st_mode) && same_file(&sa, &sb);
}

int cli_check_not_input(const char *path, const char *what, const cli_opts *o,
                        const occam_config *cfg, occam_error *err)
{
    /* the data's files too: an IDX set's training images were replaced by a --save */
    occam_data_file data[4];
    int ndata = cfg ? occam_data_files(&cfg->data, data) : 0;
    const char *in[4 + 4][2] = {{"CONFIG", o->config},
                                {"--checkpoint", o->checkpoint},
                                {"--resume", o->resume},
                                {"--input", o->input}};
    for (int i = 0; i < ndata; i++) {
        in[4 + i][0] = data[i].key;
        in[4 + i][1] = data[i].path;
    }
    for (int i = 0; i < 4 + ndata; i++)
        if (in[i][1] && in[i][1][0] && occam_outfile_same(path, in[i][1]))
            return occam_error_set(err, OCCAM_ERR_INPUT, "%s %s: the same file as %s (%s): "
                                   "writing it would replace an input; choose another name",
                                   what, path, in[i][0], in[i][1]);
    return cli_check_stream(path, what, err);
}

int cli_check_output(const char *path, const char *what, const cli_opts *o,
                     const occam_config *cfg, occam_error *err)
{
    /* Rank 0 writes: a folder only its host has (a node's local disk) was refused by the
     * others, as "rank 1 (host h): --report out/r.json: cannot write into the folder out",
     * though nothing is written there (train checked rank 0's alone; eval, mdl, compress,
     * predict and select every rank's). */
    if (!occam_comm_is_root(occam_comm_world())) return OCCAM_OK;
    int rc = occam_outfile_check(path, what, err);
    if (rc == OCCAM_OK) rc = cli_check_not_input(path, what, o, cfg, err);
    return rc;
}

int cli_check_outputs(const cli_opts *o, const occam_config *cfg, occam_error *err)
{
    if (!occam_comm_is_root(occam_comm_world())) return OCCAM_OK;
    int rc = OCCAM_OK;
    if (o->save) rc = occam_outfile_check(o->save, "--save", err);
    if (rc == OCCAM_OK && o->report) rc = occam_outfile_check(o->report, "--report", err);
    if (rc == OCCAM_OK && o->save) rc = cli_check_not_input(o->save, "--save", o, cfg, err);
    if (rc == OCCAM_OK && o->report) rc = cli_check_not_input(o->report, "--report", o, cfg, err);
    if (rc == OCCAM_OK && o->save && o->report && occam_outfile_same(o->save, o->report))
        rc = occam_error_set(err, OCCAM_ERR_INPUT, "--save %s and --report %s name the same "
                             "file: the report would replace the model", o->save, o->report);
    if (rc == OCCAM_OK && o->save && o->report && cli_same_stream(o->save, o->report))
        rc = occam_error_set(err, OCCAM_ERR_INPUT, "--save %s and --report %s are the same "
                             "stream: the model and the report would run into each other",
                             o->save, o->report);
    return rc;
}
