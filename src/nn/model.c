/* Flat parameter layout and initialisation of an MLP. */
#include "occam/model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "occam/mem.h"
#include "occam/rng.h"

void occam_layout_init(occam_layout *lay, const int *width, int nwidths)
{
    OCCAM_ASSERT(nwidths >= 2 && nwidths <= OCCAM_MAX_LAYERS);
    memset(lay, 0, sizeof *lay);
    lay->nlayers = nwidths - 1;
    memcpy(lay->width, width, sizeof(int) * (size_t)nwidths);
    size_t off = 0;
    for (int l = 0; l < lay->nlayers; l++) {
        size_t in = (size_t)width[l], out = (size_t)width[l + 1];
        lay->w_off[l] = off;
        off = occam_round_up(off + in * out, OCCAM_SEG_ALIGN);
        lay->b_off[l] = off;
        off = occam_round_up(off + out, OCCAM_SEG_ALIGN);
        lay->nweights += in * out;
        lay->nbiases += out;
    }
    lay->nparams = off;
}

int occam_model_create(occam_model *m, const occam_config *cfg, occam_error *err)
{
    memset(m, 0, sizeof *m);
    occam_layout_init(&m->lay, cfg->model.layers, cfg->model.nlayers);
    m->act = cfg->model.activation;
    m->task = cfg->data.task;
    m->params = occam_alloc_zero(m->lay.nparams, sizeof(float));
    if (!m->params)
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory for %zu parameters",
                               m->lay.nparams);
    return OCCAM_OK;
}

void occam_model_free(occam_model *m)
{
    if (!m) return;
    free(m->params);
    m->params = NULL;
}

void occam_model_init(occam_model *m, occam_init init, uint64_t seed)
{
    const occam_layout *lay = &m->lay;
    memset(m->params, 0, lay->nparams * sizeof(float));
    for (int l = 0; l < lay->nlayers; l++) {
        int in = lay->width[l], out = lay->width[l + 1];
        occam_rng r = occam_rng_seed(seed, 0x1000 + (uint64_t)l);
        float *w = m->params + lay->w_off[l];
        size_t n = (size_t)in * out;
        if (init == OCCAM_INIT_HE) {
            double sd = sqrt(2.0 / in);
            for (size_t i = 0; i < n; i++) w[i] = (float)(sd * occam_rng_normal(&r));
        } else {
            double a = sqrt(6.0 / (in + out));
            for (size_t i = 0; i < n; i++) w[i] = (float)(a * (2.0 * occam_rng_uniform(&r) - 1.0));
        }
    }
}
