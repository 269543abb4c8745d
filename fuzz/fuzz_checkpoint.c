/* libFuzzer harness for the safetensors reader (occam_st_open) and the checkpoint loader on top
 * of it (occam_checkpoint_load).
 *
 * The input is the file. As it is, it goes through occam_st_open alone, which fuzzes the
 * checksum check (missing, malformed, mismatching). Then its checksum is fixed up to match (the
 * CRC-32 in "occam.checksum", or an .occ file's length and CRC-64; see fuzz_util.h), so that
 * mutations reach the parser, the loader and the resume behind the check, and the fixed file
 * takes the rest of the way. occam_st_open must either fail honestly or hand back views that keep
 * every promise of safetensors.h: a known dtype, at most 4 non-negative dimensions, nbytes equal
 * to prod(shape) times the element size, data aligned for its dtype and readable to the last
 * byte (ASan checks each one), tensors that tile the data area, string metadata. The same file
 * then goes through occam_checkpoint_load into a 4-3-2 model, so the shape, mask and
 * "occam.layers" checks run as well (a file starting with the .occ magic takes the .occ path).
 * A successful load must hold exactly the file's tensors at the widths the model now has (a
 * neuron-pruned file has narrower hidden layers); a failed one must leave the model exactly as
 * it was. Last, the file goes to `occam train --resume` as a training state
 * (occam_state_restore inside occam_train_run), for a dense SGD run and a noisy Adam run of the
 * same 4-3-2 model on 40 rows: it must be refused with a message, or restore a position the run
 * can continue from, which it then does to the end. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "occam/checkpoint.h"
#include "occam/config.h"
#include "occam/model.h"
#include "occam/fit.h"
#include "occam/prune.h"
#include "occam/safetensors.h"
#include "occam/train.h"
#include "occam/trainer.h"
#include "occam/trainstate.h"

static void check_file(const occam_st_file *f)
{
    size_t total = 0;
    FUZZ_CHECK(f->ntensors >= 0 && f->nmeta >= 0);
    for (int i = 0; i < f->ntensors; i++) {
        const occam_st_tensor_view *t = &f->tensors[i];
        FUZZ_CHECK(t->name != NULL && (unsigned)t->dtype < OCCAM_ST_NDTYPES);
        FUZZ_CHECK(t->ndim >= 0 && t->ndim <= OCCAM_ST_MAX_DIM);
        size_t elem = occam_st_dtype_size(t->dtype), want = elem;
        for (int d = 0; d < t->ndim; d++) {
            FUZZ_CHECK(t->shape[d] >= 0);
            /* the span fits in the file, so the product cannot overflow once it is nonzero */
            FUZZ_CHECK(t->shape[d] == 0 || want <= SIZE_MAX / (size_t)t->shape[d]);
            want *= (size_t)t->shape[d];
        }
        FUZZ_CHECK(t->nbytes == want);
        FUZZ_CHECK(t->nbytes == 0 || (t->data && (uintptr_t)t->data % elem == 0));
        if (t->nbytes) fuzz_touch(t->data, t->nbytes);
        fuzz_touch(t->name, strlen(t->name));
        FUZZ_CHECK(occam_st_find(f, t->name) == t); /* names are unique */
        if (t->dtype == OCCAM_ST_F32) {
            const float *p = NULL;
            occam_error err = {0};
            FUZZ_CHECK(occam_st_expect_f32(f, t->name, t->ndim, t->shape, &p, &err) == OCCAM_OK);
            FUZZ_CHECK(p == t->data);
        }
        total += t->nbytes;
    }
    FUZZ_CHECK(total == f->data_size);
    for (int i = 0; i < f->nmeta; i++) {
        FUZZ_CHECK(f->meta[i].key && f->meta[i].value);
        fuzz_touch(f->meta[i].value, strlen(f->meta[i].value));
        FUZZ_CHECK(occam_st_meta_get(f, f->meta[i].key) == f->meta[i].value);
    }
}

/* The loaded model holds exactly the file's tensors: each layer's weight and bias (and masks,
 * if the file has them) with the model's widths, bit for bit. */
static void check_model_matches(const occam_model *m, const occam_st_file *f)
{
    const occam_layout *lay = &m->lay;
    bool masked = occam_st_find(f, "layers.0.weight_mask") != NULL;
    FUZZ_CHECK(masked == (m->mask != NULL));
    for (int l = 0; l < lay->nlayers; l++) {
        static const char *kinds[4] = {"weight", "bias", "weight_mask", "bias_mask"};
        for (int k = 0; k < (masked ? 4 : 2); k++) {
            char name[48];
            snprintf(name, sizeof name, "layers.%d.%s", l, kinds[k]);
            const occam_st_tensor_view *t = occam_st_find(f, name);
            FUZZ_CHECK(t != NULL);
            bool bias = k & 1;
            size_t out = (size_t)lay->width[l + 1], n = bias ? out : out * lay->width[l];
            size_t off = bias ? lay->b_off[l] : lay->w_off[l];
            if (k < 2) {
                FUZZ_CHECK(t->dtype == OCCAM_ST_F32 && t->ndim == (bias ? 1 : 2));
                FUZZ_CHECK(t->shape[0] == (int64_t)out);
                FUZZ_CHECK(bias || t->shape[1] == lay->width[l]);
                FUZZ_CHECK(t->nbytes == n * sizeof(float));
                FUZZ_CHECK(memcmp(m->params + off, t->data, t->nbytes) == 0);
            } else {
                FUZZ_CHECK(t->dtype == OCCAM_ST_U8 && t->nbytes == n);
                FUZZ_CHECK(memcmp(m->mask + off, t->data, n) == 0);
            }
        }
    }
}

/* Loads path into a fresh 4-3-2 model; f is the same file opened by occam_st_open, or NULL if
 * that failed. */
static void check_model_load(const char *path, const occam_st_file *f)
{
    occam_model m;
    occam_error err = {0};
    FUZZ_CHECK(occam_model_create(&m, &fuzz_config_4_3_2()->model, fuzz_config_4_3_2()->data.task, &err) == OCCAM_OK);
    for (size_t i = 0; i < m.lay.nparams; i++) m.params[i] = (float)i + 0.5f;
    occam_model before = m;
    int rc = occam_checkpoint_load(path, &m, &err);
    fuzz_check_status("occam_checkpoint_load", rc, &err, path);
    if (rc != OCCAM_OK) {
        FUZZ_CHECK(memcmp(&m.lay, &before.lay, sizeof m.lay) == 0);
        FUZZ_CHECK(m.params == before.params && m.mask == NULL);
        for (size_t i = 0; i < m.lay.nparams; i++) FUZZ_CHECK(m.params[i] == (float)i + 0.5f);
    } else {
        const occam_layout *lay = &m.lay;
        FUZZ_CHECK(lay->nlayers == 2 && lay->width[0] == 4 && lay->width[2] == 2);
        FUZZ_CHECK(lay->width[1] >= 1 && lay->width[1] <= 3);
        fuzz_touch(m.params, lay->nparams * sizeof *m.params);
        for (size_t i = 0; i < lay->nparams; i++) FUZZ_CHECK(isfinite(m.params[i]));
        if (m.mask) fuzz_touch(m.mask, lay->nparams);
        if (f) check_model_matches(&m, f); /* else it was an .occ file */
    }
    occam_model_free(&m);
}

/* 40 rows of 4 features and 2 classes, as the seeds' blobs runs had. */
static const occam_dataset *rows40(void)
{
    static occam_dataset ds;
    static float x[40 * 4];
    static int32_t label[40];
    if (!ds.n) {
        for (int i = 0; i < 40 * 4; i++) x[i] = (float)((i * 37) % 11) / 5.0f - 1.0f;
        for (int i = 0; i < 40; i++) label[i] = i % 2;
        ds = (occam_dataset){.x = x, .label = label, .n = 40, .d = 4, .classes = 2};
    }
    return &ds;
}

static int restore(void *ctx, const occam_train_view *v, occam_error *err)
{
    int rc = occam_state_restore(ctx, v, err);
    if (rc == OCCAM_OK) {
        /* what the run is about to continue from */
        const occam_fit_pos *p = &v->res->pos;
        FUZZ_CHECK(v->res->resuming && v->res->epochs <= v->res->capacity);
        FUZZ_CHECK(p->phase_epochs <= v->res->epochs && p->epoch_step >= 0);
        for (size_t i = 0; i < v->res->nrows; i++) FUZZ_CHECK(v->res->perm[i] < v->res->nrows);
        fuzz_touch(v->res->history, sizeof *v->res->history * (size_t)v->res->epochs);
        fuzz_touch(v->log->ev, sizeof *v->log->ev * (size_t)v->log->n);
    }
    return rc;
}

static void check_resume(const char *path, bool noisy)
{
    occam_config cfg = *fuzz_config_4_3_2();
    cfg.train.epochs = 2;
    cfg.train.batch = 32;
    if (noisy) {
        cfg.noise.enabled = true;
        cfg.train.optim.optimizer = OCCAM_OPT_ADAM;
    }
    occam_model m;
    occam_error err = {0};
    FUZZ_CHECK(occam_model_create(&m, &cfg.model, cfg.data.task, &err) == OCCAM_OK);
    occam_model_init(&m, cfg.model.init, 1);
    occam_trainer *tr;
    FUZZ_CHECK(occam_trainer_create(&tr, &m, occam_config_trainer(&cfg), 1, NULL, &err) == OCCAM_OK);
    occam_state_reader rd = {.path = path};
    occam_train_io io = {.restore = restore, .ctx = &rd};
    occam_fit_result res;
    occam_prune_log log;
    int rc = occam_train_run(tr, &m, &cfg, rows40(), NULL, &res, &log, &io, &err);
    /* a restored run may diverge (the file's weights are anything): that is a clean status too */
    fuzz_check_status("occam_train_run --resume", rc, &err, path);
    occam_fit_result_free(&res);
    occam_prune_log_free(&log);
    occam_trainer_free(tr);
    occam_model_free(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    occam_st_file f;
    occam_error err = {0};
    const char *raw = fuzz_file_write(1, data, size);
    int rc = occam_st_open(&f, raw, &err);
    fuzz_check_status("occam_st_open (as it is)", rc, &err, raw);
    if (rc == OCCAM_OK) check_file(&f);
    occam_st_close(&f);

    uint8_t *fixed = malloc(size ? size : 1);
    FUZZ_CHECK(fixed != NULL);
    memcpy(fixed, data, size);
    fuzz_fix_safetensors(fixed, size);
    fuzz_fix_occ(fixed, size);
    const char *path = fuzz_file_write(0, fixed, size);
    free(fixed);
    memset(&f, 0xA5, sizeof f); /* occam_st_open must not rely on a zeroed struct */
    err = (occam_error){0};
    rc = occam_st_open(&f, path, &err);
    fuzz_check_status("occam_st_open", rc, &err, path);
    if (rc == OCCAM_OK) check_file(&f);
    else FUZZ_CHECK(f.path == NULL && f.tensors == NULL && f.data == NULL && f.ntensors == 0);
    check_model_load(path, rc == OCCAM_OK ? &f : NULL);
    occam_st_close(&f);
    check_resume(path, false);
    check_resume(path, true);
    return 0;
}
