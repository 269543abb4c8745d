/* The calling thread's affinity mask, grown until the kernel's mask fits. */
#include "occam/cpumask.h"

#include <errno.h>

cpu_set_t *occam_cpumask_self(size_t *size)
{
    for (size_t n = CPU_SETSIZE; n <= ((size_t)1 << 20); n *= 2) {
        cpu_set_t *set = CPU_ALLOC(n);
        if (!set) return NULL;
        size_t bytes = CPU_ALLOC_SIZE(n);
        if (sched_getaffinity(0, bytes, set) == 0) {
            if (CPU_COUNT_S(bytes, set) > 0) {
                *size = bytes;
                return set;
            }
            CPU_FREE(set);
            errno = ENOENT;
            return NULL;
        }
        int e = errno;
        CPU_FREE(set);
        if (e != EINVAL) {
            errno = e;
            return NULL;
        }
    }
    errno = EINVAL;
    return NULL;
}
