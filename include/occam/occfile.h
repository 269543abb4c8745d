/* occam/occfile.h — the .occ file: a model's two-part code, range coded (see src/mdl/occfile.c
 * for the layout). Its size is the two-part model bits of occam_dl plus a small fixed header. */
#ifndef OCCAM_OCCFILE_H
#define OCCAM_OCCFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "occam/data.h"
#include "occam/dl.h"
#include "occam/error.h"
#include "occam/model.h"

typedef struct occam_occ_sizes {
    size_t header_bytes;  /* structure: magic, widths, per-layer counts and ranges, checksum */
    size_t payload_bytes; /* what the model bits count: δ, priors, biases, coded stream */
    size_t coded_bytes;   /* the range-coded masks and values inside the payload */
} occam_occ_sizes;

/* The data settings a model's weights were trained under and mean something only under: the
 * input scaling, a regression's output units, and the training rows whose statistics scaled
 * them. The header keeps them. */
typedef struct occam_occ_data {
    bool known;             /* false: a version 3 file, which did not record its scaling */
    occam_norm normalize;   /* data.normalize */
    bool normalize_targets; /* data.normalize_targets (meaningful for a regression) */
    bool grid_known;        /* read only: a version 8 or later file, which records grid_w */
    int grid_w;             /* read only: the image width the first layer was coded on, 0 for
                               none; the writer takes it from dl (occam/dl.h) */
    /* The training rows the model was trained on, as a safetensors checkpoint records them
     * ("occam.train_rows", occam/checkpoint.h): their count and occam_dataset_crc. Written
     * when rows_known (and rows > 0; a training set has rows), else the file says "unknown";
     * read as known only from a version 9 or later file that recorded them. */
    bool rows_known;
    uint64_t rows;
    uint32_t rows_crc;
} occam_occ_data;

/* Writes m's two-part code as dl describes it (dl from occam_dl_compute on m), atomically.
 * declared is the model.layers m was created with (its hidden layers are wider than m's when
 * neurons were pruned); NULL means m's own widths. data: the scaling m was trained under. */
int occam_occ_write(const char *path, const occam_model *m, const occam_model_params *declared,
                    const occam_occ_data *data, const occam_dl *dl, occam_occ_sizes *sizes,
                    occam_error *err);

/* Whether path starts with the .occ magic. */
bool occam_occ_is(const char *path);

/* Decodes path into m (created from the config). The file is refused (OCCAM_ERR_INPUT, with a
 * message naming path) unless its magic, version, length and CRC-64 are right, which is
 * checked before anything is decoded, and its widths are the config's: model.layers exactly,
 * or, for a neuron-pruned model whose declared widths are this model.layers, narrower hidden
 * layers (m is then re-laid out). The weights are the quantised values; masks are restored.
 * On failure m is unchanged. */
int occam_occ_read(const char *path, occam_model *m, occam_error *err);

/* Reads the coded model's data.task and its data scaling from path's header, after the same
 * checks of the whole file as occam_occ_read (OCCAM_ERR_INPUT naming path); a version 3 file
 * has none (data->known false), and only a version 9 or later file has its training rows
 * (data->rows_known, false too when the writer did not know them). */
int occam_occ_read_data(const char *path, occam_task *task, occam_occ_data *data,
                        occam_error *err);

/* The file's checksum: CRC-64/XZ of data[0..n). An .occ file ends with the checksum of all
 * its other bytes, little-endian. */
uint64_t occam_occ_checksum(const void *data, size_t n);

#endif
