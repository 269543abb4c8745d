/* occam/cpumask.h — the calling thread's CPU affinity mask, at whatever size the kernel needs.
 *
 * A fixed cpu_set_t holds CPUs 0 to 1023; on a kernel built for more possible CPUs,
 * sched_getaffinity refuses that size (EINVAL) even when every allowed CPU is below 1024. */
#ifndef OCCAM_CPUMASK_H
#define OCCAM_CPUMASK_H

#include <sched.h>
#include <stddef.h>

/* A CPU_ALLOC'd mask (free with CPU_FREE) and its size in bytes in *size; NULL when it cannot be
 * read (errno says why) or is empty. */
cpu_set_t *occam_cpumask_self(size_t *size);

/* Is CPU cpu in mask (of size bytes)? False for a CPU beyond the mask's size. */
static inline int occam_cpumask_has(const cpu_set_t *mask, size_t size, long cpu)
{
    return cpu >= 0 && (size_t)cpu / 8 < size && CPU_ISSET_S((size_t)cpu, size, mask);
}

#endif
