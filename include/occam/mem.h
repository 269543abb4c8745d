/* occam/mem.h — aligned allocation. Every array that BLIS or a vector loop touches is 64-byte
 * (cache-line) aligned, so per-thread slices never share a line. */
#ifndef OCCAM_MEM_H
#define OCCAM_MEM_H

#include <stddef.h>

#define OCCAM_ALIGN 64
/* Floats per cache line: the unit in which arrays are cut between threads. */
#define OCCAM_LINE_FLOATS (OCCAM_ALIGN / (int)sizeof(float))

/* 64-byte aligned, uninitialised; NULL on failure, or when n * size rounded up to 64 bytes
 * overflows a size_t. Free with free(). */
void *occam_alloc(size_t n, size_t size);
/* As occam_alloc, zero-filled. */
void *occam_alloc_zero(size_t n, size_t size);
/* Bytes this process can still fill without the kernel's OOM killer stepping in: MemAvailable
 * plus SwapFree (/proc/meminfo), else the physical memory; SIZE_MAX when neither is known. In a
 * memory cgroup (a container, a systemd slice) it is at most the cgroup's headroom, limit minus
 * usage (v2 memory.max - memory.current, v1 memory.limit_in_bytes - memory.usage_in_bytes, the
 * least over the process's cgroup and its ancestors; the usage without the inactive page cache
 * the kernel reclaims first, memory.stat's inactive_file), since the OOM killer acts at the
 * cgroup's limit however much the machine has free; a limit that cannot be read is no limit. A
 * benchmark sized by its arguments checks against it: under Linux's overcommit its allocations
 * succeed, and touching them got the process (or a neighbour) killed, not a failed malloc. */
size_t occam_mem_available(void);
/* Round n up to a multiple of m (m > 0). */
static inline size_t occam_round_up(size_t n, size_t m) { return (n + m - 1) / m * m; }

#endif
