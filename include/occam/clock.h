/* occam/clock.h — the one clock: monotonic wall-clock seconds, for timings and progress. */
#ifndef OCCAM_CLOCK_H
#define OCCAM_CLOCK_H

/* Monotonic wall-clock seconds since an arbitrary origin. */
double occam_clock_now(void);

#endif
