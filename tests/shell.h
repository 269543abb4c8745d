/* tests/shell.h — running a command line from a test (Criterion's forked child). */
#ifndef OCCAM_TESTS_SHELL_H
#define OCCAM_TESTS_SHELL_H

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

/* Runs `cmd` with popen, its output into out (cap bytes, NUL-terminated, the rest dropped):
 * the exit status, or -1 after a signal, whose number goes to *sig if sig is not NULL. */
static inline int shell_run(const char *cmd, char *out, size_t cap, int *sig)
{
    FILE *p = popen(cmd, "r");
    cr_assert(p, "cannot run %s", cmd);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = 0;
    int st = pclose(p);
    if (sig) *sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* path in single quotes for sh (a ' inside as '\''), into buf (cap bytes): a checkout's path
 * may hold spaces or other characters the shell splits on. Returns buf. */
static inline const char *shell_quote(const char *path, char *buf, size_t cap)
{
    size_t n = 0;
    buf[n++] = '\'';
    for (const char *c = path; *c; c++) {
        cr_assert(n + 6 < cap, "path too long to quote: %s", path);
        if (*c == '\'') {
            memcpy(buf + n, "'\\''", 4);
            n += 4;
        } else {
            buf[n++] = *c;
        }
    }
    buf[n++] = '\'';
    buf[n] = 0;
    return buf;
}

/* The occam binary the tests run: $OCCAM_BIN, else build/occam. */
static inline const char *shell_occam_bin(void)
{
    return getenv("OCCAM_BIN") ? getenv("OCCAM_BIN") : "build/occam";
}

/* Runs `$OCCAM_BIN ARGS 2>&1` (build/occam without OCCAM_BIN) as shell_run does; ARGS is
 * printf-formatted from fmt and ap. */
static inline int shell_occam_v(char *out, size_t cap, int *sig, const char *fmt, va_list ap)
{
    const char *bin = shell_occam_bin();
    char args[2048], cmd[4096];
    vsnprintf(args, sizeof args, fmt, ap);
    snprintf(cmd, sizeof cmd, "%s %s 2>&1", bin, args);
    int s = 0, rc = shell_run(cmd, out, cap, &s);
    cr_assert(rc >= 0, "%s did not exit normally (signal %d): %s", cmd, s, out);
    if (sig) *sig = s;
    return rc;
}

static inline int shell_occam(char *out, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline int shell_occam(char *out, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = shell_occam_v(out, cap, NULL, fmt, ap);
    va_end(ap);
    return rc;
}

#endif
