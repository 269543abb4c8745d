/* The monotonic clock every timing in occam reads (epochs, phases, GEMM probes, selection). */
#include "occam/clock.h"

#include <time.h>

double occam_clock_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
