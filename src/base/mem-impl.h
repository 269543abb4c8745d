/* mem-impl.h — private to src/base and its tests: the cgroup half of occam_mem_available, with
 * the file system's root and the process's cgroup file as arguments so a test can point it at a
 * fake tree under a temporary folder. */
#ifndef OCCAM_MEM_IMPL_H
#define OCCAM_MEM_IMPL_H

#include <stddef.h>

/* Bytes the memory cgroup of this process (and each of its ancestors) still lets it charge:
 * the least, over the cgroup and its ancestors, of limit minus usage (memory.max -
 * memory.current under cgroup v2 at ROOT/path, memory.limit_in_bytes - memory.usage_in_bytes
 * under v1 at ROOT/memory/path), 0 where usage has passed the limit. The usage leaves out the
 * inactive page cache the kernel reclaims before the OOM killer acts (memory.stat's
 * inactive_file, v1's total_inactive_file), when memory.stat has it. The path is read from
 * SELF_CGROUP ("0::/path" for v2, "N:...memory...:/path" for v1). A level whose files are
 * missing, unreadable, "max" or not a number sets no bound; SIZE_MAX when nothing does. Only
 * reads. */
size_t mem_cgroup_headroom(const char *root, const char *self_cgroup);

#endif
