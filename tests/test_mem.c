/* Aligned allocation: 64-byte aligned blocks, and NULL, never a short block, for a size that
 * overflows. */
#include <criterion/criterion.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../src/base/mem-impl.h"
#include "occam/mem.h"

Test(mem, blocks_are_aligned_and_zeroed)
{
    for (size_t n = 0; n < 200; n += 37) {
        unsigned char *p = occam_alloc_zero(n, 3);
        cr_assert_not_null(p);
        cr_assert_eq((uintptr_t)p % OCCAM_ALIGN, 0);
        for (size_t i = 0; i < 3 * n; i++) cr_assert_eq(p[i], 0);
        free(p);
    }
}

/* The size rounded up to 64 bytes wrapped past SIZE_MAX: SIZE_MAX - 10 bytes became a block of
 * 0 (aligned_alloc(64, 0) returns one), and occam_alloc_zero then wrote SIZE_MAX - 10 zeros
 * into it. */
Test(mem, a_size_that_rounds_past_size_max_is_refused)
{
    cr_assert_null(occam_alloc(1, SIZE_MAX - 10));
    cr_assert_null(occam_alloc(SIZE_MAX - 62, 1));
    cr_assert_null(occam_alloc_zero((SIZE_MAX - 40) / 2, 2));
    cr_assert_null(occam_alloc(SIZE_MAX / 4 + 1, 4)); /* n * size itself overflows */
    /* the largest size that rounds up without wrapping is still a request (that fails) */
    cr_assert_eq(occam_round_up(SIZE_MAX - 63, 64), SIZE_MAX - 63);
}

/* ---- the cgroup's headroom, on fake cgroup trees under a temporary folder ----------------- */

static char cg_dir[64];

static int cg_rm(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

static void cg_setup(void)
{
    strcpy(cg_dir, "/tmp/occam_cgroup_XXXXXX");
    cr_assert_not_null(mkdtemp(cg_dir));
}

static void cg_teardown(void) { nftw(cg_dir, cg_rm, 16, FTW_DEPTH | FTW_PHYS); }

/* Writes TEXT to cg_dir/REL, making its folders. */
static void cg_write(const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", cg_dir, rel);
    for (char *s = path + strlen(cg_dir) + 1; (s = strchr(s, '/')); s++) {
        *s = '\0';
        mkdir(path, 0755);
        *s = '/';
    }
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs(text, f);
    fclose(f);
}

/* mem_cgroup_headroom with the fake tree at cg_dir/sys and its cgroup file cg_dir/self */
static size_t cg_headroom(void)
{
    char root[128], self[128];
    snprintf(root, sizeof root, "%s/sys", cg_dir);
    snprintf(self, sizeof self, "%s/self", cg_dir);
    return mem_cgroup_headroom(root, self);
}

/* A container under a 1 GiB memory.max on a machine with 24 GiB free: the size check passed
 * and the OOM killer ended `bench memory` (exit 137, no message). */
Test(mem, a_cgroup_v2_limit_bounds_the_memory_available, .init = cg_setup, .fini = cg_teardown)
{
    cg_write("self", "0::/user.slice/job\n");
    cg_write("sys/user.slice/job/memory.max", "1073741824\n");
    cg_write("sys/user.slice/job/memory.current", "73741824\n");
    cr_assert_eq(cg_headroom(), (size_t)1000000000);
    /* a tighter parent (the slice) binds its child */
    cg_write("sys/user.slice/memory.max", "600000000\n");
    cg_write("sys/user.slice/memory.current", "100000000\n");
    cr_assert_eq(cg_headroom(), (size_t)500000000);
    /* usage past the limit is no room at all, not a wrapped 16 EiB */
    cg_write("sys/user.slice/job/memory.current", "2000000000\n");
    cr_assert_eq(cg_headroom(), 0);
}

Test(mem, a_cgroup_v1_limit_bounds_the_memory_available, .init = cg_setup, .fini = cg_teardown)
{
    cg_write("self", "5:cpu,cpuacct:/x\n4:memory:/docker/abc\n0::/\n");
    cg_write("sys/memory/docker/abc/memory.limit_in_bytes", "500000\n");
    cg_write("sys/memory/docker/abc/memory.usage_in_bytes", "200000\n");
    /* the cpu hierarchy's files say nothing about memory */
    cg_write("sys/cpu,cpuacct/x/memory.limit_in_bytes", "1\n");
    cr_assert_eq(cg_headroom(), (size_t)300000);
    /* v1's "no limit" is a huge number: the machine's figure stays the smaller */
    cg_write("sys/memory/docker/abc/memory.limit_in_bytes", "9223372036854771712\n");
    cr_assert_geq(cg_headroom(), (size_t)9223372036854771712ull - 200000);
}

/* The usage counts the page cache, which the kernel reclaims at the limit before the OOM
 * killer acts: a 1 GiB container that had read 900 MB of data (inactive, clean cache) had
 * 3.7 MB of headroom by limit minus usage, and `bench memory` refused to run. */
Test(mem, inactive_page_cache_is_cgroup_headroom, .init = cg_setup, .fini = cg_teardown)
{
    cg_write("self", "0::/job\n");
    cg_write("sys/job/memory.max", "1073741824\n");
    cg_write("sys/job/memory.current", "1070000000\n");
    cg_write("sys/job/memory.stat", "anon 50000000\nfile 1000000000\nactive_file 100000000\n"
                                    "inactive_file 900000000\nfile_dirty 0\n");
    cr_assert_eq(cg_headroom(), (size_t)(1073741824 - 170000000));
    /* more cache than usage (the counters are read apart) is never more room than the limit */
    cg_write("sys/job/memory.stat", "inactive_file 2000000000\n");
    cr_assert_eq(cg_headroom(), (size_t)1073741824);
    /* a memory.stat without the key, or with garbage for it, leaves the usage as it is */
    cg_write("sys/job/memory.stat", "inactive_filex 900000000\nanon 5\n");
    cr_assert_eq(cg_headroom(), (size_t)3741824);
    cg_write("sys/job/memory.stat", "inactive_file -9\n");
    cr_assert_eq(cg_headroom(), (size_t)3741824);
    /* v1: the hierarchical total_inactive_file, not the cgroup's own inactive_file */
    cg_write("self", "4:memory:/docker/abc\n");
    cg_write("sys/memory/docker/abc/memory.limit_in_bytes", "500000\n");
    cg_write("sys/memory/docker/abc/memory.usage_in_bytes", "450000\n");
    cg_write("sys/memory/docker/abc/memory.stat", "inactive_file 1000\n"
                                                  "total_inactive_file 400000\n");
    cr_assert_eq(cg_headroom(), (size_t)450000);
}

Test(mem, max_means_no_cgroup_limit, .init = cg_setup, .fini = cg_teardown)
{
    cg_write("self", "0::/a\n");
    cg_write("sys/a/memory.max", "max\n");
    cg_write("sys/a/memory.current", "12345\n");
    cr_assert_eq(cg_headroom(), SIZE_MAX);
}

/* Nothing to read is no limit: the machine's figure stands, and nothing fails. */
Test(mem, missing_cgroup_files_set_no_limit, .init = cg_setup, .fini = cg_teardown)
{
    cr_assert_eq(cg_headroom(), SIZE_MAX); /* no /proc/self/cgroup */
    cg_write("self", "0::/a/b\n");
    cr_assert_eq(cg_headroom(), SIZE_MAX); /* no tree */
    cg_write("sys/a/b/memory.max", "1000\n");
    cr_assert_eq(cg_headroom(), SIZE_MAX); /* a limit without its usage */
    /* a container's mount whose root is its own cgroup, the path a host path that is not
     * there: the root's files still bound it */
    cg_write("self", "0::/system.slice/docker-1.scope\n");
    cg_write("sys/memory.max", "4096\n");
    cg_write("sys/memory.current", "1024\n");
    cr_assert_eq(cg_headroom(), (size_t)3072);
}

Test(mem, garbage_cgroup_contents_set_no_limit, .init = cg_setup, .fini = cg_teardown)
{
    static const char *const bad[] = {"", "\n", "-5\n", "12abc\n", "abc\n", " 7\n",
                                      "99999999999999999999999\n", "1e9\n", "+3\n"};
    cg_write("self", "0::/a\n");
    cg_write("sys/a/memory.current", "10\n");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cg_write("sys/a/memory.max", bad[i]);
        cr_assert_eq(cg_headroom(), SIZE_MAX, "memory.max \"%s\"", bad[i]);
    }
    cg_write("sys/a/memory.max", "100\n");
    cg_write("sys/a/memory.current", "zz\n");
    cr_assert_eq(cg_headroom(), SIZE_MAX);
    /* a /proc/self/cgroup that is not one */
    static const char *const selves[] = {"", "garbage\n", "0:/a\n", "0::a\n", "4:memory\n",
                                         "1:memoryx:/a\n", "\n\n:\n"};
    cg_write("sys/a/memory.current", "10\n");
    for (size_t i = 0; i < sizeof selves / sizeof selves[0]; i++) {
        cg_write("self", selves[i]);
        cr_assert_eq(cg_headroom(), SIZE_MAX, "self \"%s\"", selves[i]);
    }
    cg_write("self", "0::/a"); /* a last line without its newline is still read */
    cr_assert_eq(cg_headroom(), (size_t)90);
    /* a cgroup outside the namespace's root ("/../x") would lead out of the tree: not read */
    cg_write("x/memory.max", "100\n");
    cg_write("x/memory.current", "10\n");
    cg_write("self", "0::/../x\n");
    cr_assert_eq(cg_headroom(), SIZE_MAX);
    /* a path longer than any buffer is skipped, the next line still read */
    char *long_line = malloc(10000);
    cr_assert_not_null(long_line);
    memset(long_line, 'x', 9998);
    memcpy(long_line, "0::/", 4);
    strcpy(long_line + 9998, "\n");
    cg_write("self", long_line);
    free(long_line);
    cr_assert_eq(cg_headroom(), SIZE_MAX);
}

/* The public figure is never more than what this process's real cgroup leaves. */
Test(mem, the_memory_available_is_within_the_cgroup_headroom)
{
    size_t cg = mem_cgroup_headroom("/sys/fs/cgroup", "/proc/self/cgroup");
    size_t avail = occam_mem_available();
    cr_assert_gt(avail, 0);
    /* usage moves between the two reads: allow 64 MiB */
    cr_assert(cg == SIZE_MAX || avail <= cg + ((size_t)64 << 20), "%zu > %zu", avail, cg);
}
