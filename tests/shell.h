/* tests/shell.h — running a command line from a test (Criterion's forked child). */
#ifndef OCCAM_TESTS_SHELL_H
#define OCCAM_TESTS_SHELL_H

#include <criterion/criterion.h>
#include <stdio.h>
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

#endif
