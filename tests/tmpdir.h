/* tests/tmpdir.h — a fresh folder under /tmp for one test, removed afterwards. */
#ifndef OCCAM_TESTS_TMPDIR_H
#define OCCAM_TESTS_TMPDIR_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

/* mkdtemp("/tmp/occam-NAME-XXXXXX") into dir. */
static inline void tmpdir_make(char *dir, size_t cap, const char *name)
{
    snprintf(dir, cap, "/tmp/occam-%s-XXXXXX", name);
    cr_assert(mkdtemp(dir), "mkdtemp %s", dir);
}

static inline void tmpdir_remove(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

/* DIR/NAME. 32 buffers are used in turn: copy a path that must outlive 31 more calls. */
static inline const char *tmpdir_path(const char *dir, const char *name)
{
    static char buf[32][600];
    static int k;
    k = (k + 1) % 32;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

/* Writes exactly data[0..n) to path, replacing it. */
static inline void tmpdir_spit(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot create %s", path);
    cr_assert_eq(fwrite(data, 1, n, f), n);
    cr_assert_eq(fclose(f), 0);
}

#endif
