/* fuzz/fuzz_util.h — what every libFuzzer harness shares: scratch files for readers that take
 * a path, and the checks every fallible call must pass.
 *
 * The readers under test open files by name, so each harness writes its input to a file first.
 * The file is created once per process with mkstemp (in /dev/shm when it is writable, else
 * $TMPDIR, else /tmp) and unlinked at once; the readers open it again through
 * /proc/self/fd/N. Nothing is left behind, not even when a run crashes, and each input costs
 * one truncate and one write. */
#ifndef OCCAM_FUZZ_UTIL_H
#define OCCAM_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "occam/config.h"
#include "occam/error.h"

#define FUZZ_SLOTS 2

/* A path to scratch file `slot` (0 .. FUZZ_SLOTS-1), emptied. */
const char *fuzz_file_empty(int slot);

/* A path to scratch file `slot` holding exactly data[0..size). */
const char *fuzz_file_write(int slot, const void *data, size_t size);

/* The status contract of every fallible call: rc is OCCAM_OK, OCCAM_ERR_RUNTIME or
 * OCCAM_ERR_INPUT; a failure has filled err with the same status and a non-empty message; an
 * input error names the file (`path`, if non-NULL) it came from. Aborts with the message
 * otherwise. With OCCAM_FUZZ_VERBOSE set in the environment, prints every status (to see what
 * a seed or a reproducer does: `OCCAM_FUZZ_VERBOSE=1 build-fuzz/fuzz_csv FILE`). */
void fuzz_check_status(const char *what, int rc, const occam_error *err, const char *path);

/* Reads every byte of p[0..n) (under ASan, any byte that is not ours is reported). */
void fuzz_touch(const void *p, size_t n);

/* The default config with model.layers = 4,3,2: the model the checkpoint and .occ harnesses
 * load into. */
const occam_config *fuzz_config_4_3_2(void);

/* Checksum fix-ups, so that mutated inputs get past the integrity checks into the decoders
 * behind them (the harnesses also feed the unfixed input, so the checks are fuzzed too).
 * fuzz_fix_occ: a buffer that starts with the .occ magic and is long enough gets its length
 * field set to n and its trailing CRC-64 recomputed. fuzz_fix_safetensors: a buffer whose
 * header holds "occam.checksum":"XXXXXXXX" gets the CRC-32 of its data area written there.
 * Anything else is left as it is. */
void fuzz_fix_occ(uint8_t *f, size_t n);
void fuzz_fix_safetensors(uint8_t *f, size_t n);

/* Aborts with a message: an invariant the harness checks does not hold. */
#define FUZZ_CHECK(cond)                                                                   \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "fuzz: invariant failed at %s:%d: %s\n", __FILE__, __LINE__,  \
                    #cond);                                                                \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

#endif
