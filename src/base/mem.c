/* Aligned allocation with overflow checks. */
#include "occam/mem.h"

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

size_t occam_mem_available(void)
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
