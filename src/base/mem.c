/* Aligned allocation with overflow checks, and the memory a process may still fill: the
 * machine's (MemAvailable plus SwapFree) and, in a container or a systemd slice, its memory
 * cgroup's (limit minus usage, its inactive page cache counted as room), whichever is
 * smaller. */
#include "occam/mem.h"
#include "mem-impl.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void *occam_alloc(size_t n, size_t size)
{
    /* n * size and its rounding up to the alignment: within SIZE_MAX - 63 bytes, or a request
     * just short of SIZE_MAX wrapped to a block of 0 bytes */
    if (size != 0 && n > (SIZE_MAX - (OCCAM_ALIGN - 1)) / size) return NULL;
    size_t bytes = occam_round_up(n * size != 0 ? n * size : 1, OCCAM_ALIGN);
    return aligned_alloc(OCCAM_ALIGN, bytes);
}

void *occam_alloc_zero(size_t n, size_t size)
{
    void *p = occam_alloc(n, size);
    if (p) memset(p, 0, n * size);
    return p;
}

/* The number in the file DIR/NAME (one line, as cgroup files have it): 1 with *v set, 0 when
 * the file is missing, unreadable, "max" or anything but a whole number. */
static int cgroup_read(const char *dir, const char *name, unsigned long long *v)
{
    char path[4352], line[64];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path) return 0;
    FILE *f = fopen(path, "re");
    if (!f) return 0;
    char *got = fgets(line, sizeof line, f);
    fclose(f);
    if (!got || line[0] < '0' || line[0] > '9') return 0; /* "max", empty, a sign, garbage */
    char *end;
    errno = 0;
    *v = strtoull(line, &end, 10);
    return errno == 0 && (*end == '\n' || *end == '\0');
}

/* The value of KEY in DIR/memory.stat ("key value" lines): 1 with *v set, 0 when the file or
 * the key is not there or its value is not a whole number. */
static int cgroup_stat(const char *dir, const char *key, unsigned long long *v)
{
    char path[4352], line[256];
    if (snprintf(path, sizeof path, "%s/memory.stat", dir) >= (int)sizeof path) return 0;
    FILE *f = fopen(path, "re");
    if (!f) return 0;
    size_t nk = strlen(key);
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        if (strncmp(line, key, nk) != 0 || line[nk] != ' ') continue;
        const char *num = line + nk + 1;
        if (*num < '0' || *num > '9') break;
        char *end;
        errno = 0;
        *v = strtoull(num, &end, 10);
        found = errno == 0 && (*end == '\n' || *end == '\0');
        break;
    }
    fclose(f);
    return found;
}

/* The headroom of the cgroup folder DIR: limit minus usage (0 past the limit), or SIZE_MAX when
 * either number is not there. The usage counts the page cache, which the kernel reclaims at the
 * limit before the OOM killer acts: its inactive part (CACHE_KEY in memory.stat, the part
 * container runtimes leave out of the working set) is headroom too. Without it a container
 * that had read its data set, usage near the limit in clean cache, had no room at all. */
static size_t cgroup_level(const char *dir, const char *limit_name, const char *usage_name,
                           const char *cache_key)
{
    unsigned long long limit, usage, cache;
    if (!cgroup_read(dir, limit_name, &limit) || !cgroup_read(dir, usage_name, &usage))
        return SIZE_MAX;
    if (cgroup_stat(dir, cache_key, &cache)) usage -= cache < usage ? cache : usage;
    unsigned long long room = usage < limit ? limit - usage : 0;
    return room > SIZE_MAX ? SIZE_MAX : (size_t)room;
}

/* The least headroom of BASE + PATH and each of its ancestors up to BASE itself: a limit on a
 * parent (a systemd slice, a container's own cgroup seen as the root) binds its children too.
 * Levels that do not exist (a host path under a container's mount) are skipped, and so is a
 * path that climbs out of the namespace's root ("/../.." for a cgroup outside it): it would
 * lead out of BASE. */
static size_t cgroup_walk(const char *base, const char *path, const char *limit_name,
                          const char *usage_name, const char *cache_key)
{
    char dir[4096];
    size_t nb = strlen(base), np = strlen(path);
    if (nb + np + 1 > sizeof dir || path[0] != '/') return SIZE_MAX;
    for (const char *p = strstr(path, "/.."); p; p = strstr(p + 1, "/.."))
        if (p[3] == '/' || p[3] == '\0') return SIZE_MAX;
    memcpy(dir, base, nb);
    memcpy(dir + nb, path, np + 1);
    size_t least = SIZE_MAX;
    for (;;) {
        size_t room = cgroup_level(dir, limit_name, usage_name, cache_key);
        if (room < least) least = room;
        char *slash = strrchr(dir + nb, '/');
        if (!slash) break;
        *slash = '\0'; /* "/a/b" -> "/a" -> "" (BASE itself) */
    }
    return least;
}

size_t mem_cgroup_headroom(const char *root, const char *self_cgroup)
{
    FILE *f = fopen(self_cgroup, "re");
    if (!f) return SIZE_MAX;
    size_t least = SIZE_MAX;
    char line[4096], base[4096];
    while (fgets(line, sizeof line, f)) {
        size_t len = strlen(line);
        if (len > 0 && line[len - 1] == '\n') line[--len] = '\0';
        else if (len == sizeof line - 1) {
            /* a line longer than the buffer: skip the rest of it, bound nothing */
            int c;
            while ((c = getc(f)) != EOF && c != '\n') {}
            continue;
        }
        /* "hierarchy-ID:controller-list:cgroup-path" */
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2) continue;
        *c1 = *c2 = '\0';
        const char *controllers = c1 + 1, *path = c2 + 1;
        size_t room = SIZE_MAX;
        if (strcmp(line, "0") == 0 && controllers[0] == '\0') { /* v2: the unified hierarchy */
            if (snprintf(base, sizeof base, "%s", root) < (int)sizeof base)
                room = cgroup_walk(base, path, "memory.max", "memory.current",
                                   "inactive_file");
        } else {
            /* v1: the hierarchy whose comma-separated controllers include memory */
            int memory = 0;
            for (const char *p = controllers; *p;) {
                size_t n = strcspn(p, ",");
                if (n == 6 && strncmp(p, "memory", 6) == 0) memory = 1;
                p += n + (p[n] == ',');
            }
            if (memory && snprintf(base, sizeof base, "%s/memory", root) < (int)sizeof base)
                room = cgroup_walk(base, path, "memory.limit_in_bytes", "memory.usage_in_bytes",
                                   "total_inactive_file");
        }
        if (room < least) least = room;
    }
    fclose(f);
    return least;
}

/* MemAvailable plus SwapFree, else the physical memory, else SIZE_MAX. */
static size_t machine_available(void)
{
    FILE *f = fopen("/proc/meminfo", "re");
    if (f) {
        char line[256];
        unsigned long long kb, avail = 0, swap = 0;
        int seen = 0;
        while (fgets(line, sizeof line, f)) {
            if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) avail = kb, seen |= 1;
            else if (sscanf(line, "SwapFree: %llu kB", &kb) == 1) swap = kb, seen |= 2;
        }
        fclose(f);
        if (seen & 1) {
            unsigned long long total = avail + swap;
            return total > SIZE_MAX / 1024 ? SIZE_MAX : (size_t)(total * 1024);
        }
    }
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || page <= 0) return SIZE_MAX;
    return (unsigned long long)pages > SIZE_MAX / (unsigned long)page ? SIZE_MAX
                                                                       : (size_t)pages * (size_t)page;
}

size_t occam_mem_available(void)
{
    size_t machine = machine_available();
    size_t cgroup = mem_cgroup_headroom("/sys/fs/cgroup", "/proc/self/cgroup");
    return cgroup < machine ? cgroup : machine;
}
