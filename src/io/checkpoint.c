/* Model weights in the safetensors layout. */
#include "occam/checkpoint.h"

#include <stdlib.h>
#include <string.h>

#include "occam/mem.h"
#include "occam/safetensors.h"
#include "occam/version.h"

#define CONFIG_JSON_MAX (64 * 1024)

int occam_model_save(const char *path, const occam_model *m, const occam_config *cfg,
                     occam_error *err)
{
    const occam_layout *lay = &m->lay;
    occam_st_tensor t[2 * OCCAM_MAX_LAYERS];
    char names[2 * OCCAM_MAX_LAYERS][32];
    int nt = 0;
    for (int l = 0; l < lay->nlayers; l++) {
        snprintf(names[nt], sizeof names[nt], "layers.%d.weight", l);
        t[nt] = (occam_st_tensor){names[nt], OCCAM_ST_F32, 2,
                                  {lay->width[l + 1], lay->width[l]}, m->params + lay->w_off[l]};
        nt++;
        snprintf(names[nt], sizeof names[nt], "layers.%d.bias", l);
        t[nt] = (occam_st_tensor){names[nt], OCCAM_ST_F32, 1, {lay->width[l + 1]},
                                  m->params + lay->b_off[l]};
        nt++;
    }
    char *json = malloc(CONFIG_JSON_MAX);
    if (!json) return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: out of memory", path);
    if (occam_config_to_json(cfg, json, CONFIG_JSON_MAX) < 0) {
        free(json);
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: config too large for metadata", path);
    }
    occam_st_meta meta[] = {
        {"format", "occam"}, {"occam.version", OCCAM_VERSION}, {"config", json}};
    int rc = occam_st_write(path, t, nt, meta, 3, err);
    free(json);
    return rc;
}

int occam_model_load(const char *path, occam_model *m, occam_error *err)
{
    const occam_layout *lay = &m->lay;
    occam_st_file f;
    int rc = occam_st_open(&f, path, err);
    if (rc != OCCAM_OK) return rc;
    /* Validate every tensor first, copy after: a failure leaves m untouched. */
    const float *src[2 * OCCAM_MAX_LAYERS];
    for (int l = 0; l < lay->nlayers && rc == OCCAM_OK; l++) {
        char name[32];
        int64_t wshape[2] = {lay->width[l + 1], lay->width[l]}, bshape[1] = {lay->width[l + 1]};
        snprintf(name, sizeof name, "layers.%d.weight", l);
        rc = occam_st_expect_f32(&f, name, 2, wshape, &src[2 * l], err);
        if (rc != OCCAM_OK) break;
        snprintf(name, sizeof name, "layers.%d.bias", l);
        rc = occam_st_expect_f32(&f, name, 1, bshape, &src[2 * l + 1], err);
    }
    if (rc == OCCAM_OK) {
        char extra[32];
        snprintf(extra, sizeof extra, "layers.%d.weight", lay->nlayers);
        if (occam_st_find(&f, extra))
            rc = occam_error_set(err, OCCAM_ERR_INPUT,
                                 "%s: has more layers than model.layers describes (%d)", path,
                                 lay->nlayers + 1);
    }
    if (rc != OCCAM_OK) {
        /* Point at the key that decides the shapes. */
        if (strstr(err->msg, "shape") || strstr(err->msg, "layers"))
            strncat(err->msg, " (check model.layers)", sizeof err->msg - strlen(err->msg) - 1);
        occam_st_close(&f);
        return rc;
    }
    for (int l = 0; l < lay->nlayers; l++) {
        memcpy(m->params + lay->w_off[l], src[2 * l],
               sizeof(float) * (size_t)lay->width[l] * lay->width[l + 1]);
        memcpy(m->params + lay->b_off[l], src[2 * l + 1], sizeof(float) * (size_t)lay->width[l + 1]);
    }
    occam_st_close(&f);
    return OCCAM_OK;
}
