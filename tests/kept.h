/* tests/kept.h — large buffers that live as long as the test process, kept on the heap. */
#ifndef OCCAM_TESTS_KEPT_H
#define OCCAM_TESTS_KEPT_H

#include <criterion/criterion.h>
#include <stdlib.h>

/* TEST_KEPT(type, name, n) declares `static type *name` and, on first use, points it at n
 * zeroed elements (as .bss would be), kept reachable so that LeakSanitizer calls nothing a
 * leak. Why not a `static type name[n]`: every test is a process of the whole binary, and
 * LeakSanitizer scans all of .bss, page by page, as each one ends. Nine 3 MB buffers of the
 * plot tests made up most of its 38 MB and cost every one of the 815 tests about 0.1 s. */
#define TEST_KEPT(type, name, n)                                                              \
    static type *name;                                                                        \
    if (!name) {                                                                              \
        name = calloc((size_t)(n), sizeof *name);                                             \
        cr_assert_not_null(name, "no memory for %s (%zu bytes)", #name,                       \
                           (size_t)(n) * sizeof *name);                                       \
    }

#endif
