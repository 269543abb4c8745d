/* tests/failalloc.h — a preload library that makes one of occam's allocations fail. occam_alloc
 * is aligned_alloc; the library fails the FAIL_NTH-th call (counting from 1) asking for exactly
 * FAIL_BYTES bytes, and under mpirun only on the rank FAIL_RANK names (every process when it is
 * unset). Out-of-memory paths that a limit on the address space cannot reach one at a time (the
 * first failure is elsewhere, or on every rank at once) are reached this way. With FAIL_KILL
 * set, that call kills the process instead (SIGKILL), as the kernel's OOM killer does when
 * touching memory that overcommit granted. */
#ifndef OCCAM_TESTS_FAILALLOC_H
#define OCCAM_TESTS_FAILALLOC_H

#include <criterion/criterion.h>
#include <stdio.h>

#include "shell.h"
#include "tmpdir.h"

static const char FAILALLOC_SHIM[] =
    "#define _GNU_SOURCE\n#include <dlfcn.h>\n#include <signal.h>\n#include <stdlib.h>\n"
    "#include <string.h>\n"
    "void *aligned_alloc(size_t align, size_t n) {\n"
    "    static void *(*real)(size_t, size_t);\n"
    "    static long seen;\n"
    "    if (!real) real = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, \"aligned_alloc\");\n"
    "    const char *bytes = getenv(\"FAIL_BYTES\"), *nth = getenv(\"FAIL_NTH\"),\n"
    "               *rank = getenv(\"FAIL_RANK\"), *me = getenv(\"OMPI_COMM_WORLD_RANK\");\n"
    "    if (bytes && n == strtoul(bytes, NULL, 10) && (!rank || (me && !strcmp(rank, me))) &&\n"
    "        ++seen == (nth ? atol(nth) : 1)) {\n"
    "        if (getenv(\"FAIL_KILL\")) raise(SIGKILL);\n"
    "        return NULL;\n"
    "    }\n"
    "    return real(align, n);\n}\n";

/* Builds the library into dir; its path into so (cap bytes). */
static inline void failalloc_build(const char *dir, char *so, size_t cap)
{
    char src[600], cmd[1400], out[4096];
    snprintf(src, sizeof src, "%s", tmpdir_path(dir, "failalloc.c"));
    snprintf(so, cap, "%s", tmpdir_path(dir, "failalloc.so"));
    tmpdir_spit(src, FAILALLOC_SHIM, sizeof FAILALLOC_SHIM - 1);
    snprintf(cmd, sizeof cmd, "cc -shared -fPIC -o %s %s -ldl 2>&1", so, src);
    int sig = 0;
    cr_assert_eq(shell_run(cmd, out, sizeof out, &sig), 0, "%s", out);
}

#endif
