/* occam/occfile.h — the .occ file: a model's two-part code, range coded (see src/mdl/occfile.c
 * for the layout). Its size is the two-part model bits of occam_dl plus a small fixed header. */
#ifndef OCCAM_OCCFILE_H
#define OCCAM_OCCFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "occam/dl.h"
#include "occam/error.h"
#include "occam/model.h"

typedef struct occam_occ_sizes {
    size_t header_bytes;  /* structure: magic, widths, per-layer counts and ranges */
    size_t payload_bytes; /* what the model bits count: δ, priors, biases, coded stream */
    size_t coded_bytes;   /* the range-coded masks and values inside the payload */
} occam_occ_sizes;

/* Writes m's two-part code as dl describes it (dl from occam_dl_compute on m), atomically. */
int occam_occ_write(const char *path, const occam_model *m, const occam_dl *dl,
                    occam_occ_sizes *sizes, occam_error *err);

/* Whether path starts with the .occ magic. */
bool occam_occ_is(const char *path);

/* Decodes path into m (created from the config; narrower hidden layers are accepted and m is
 * re-laid out). The weights are the quantised values; masks are restored. On failure m is
 * unchanged. */
int occam_occ_read(const char *path, occam_model *m, occam_error *err);

#endif
