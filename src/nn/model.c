/* Flat parameter layout and initialisation of an MLP. */
#include "occam/model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "occam/gemm.h"
#include "kernels.h"
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

int occam_model_create(occam_model *m, const occam_model_params *p, occam_task task,
                       occam_error *err)
{
    memset(m, 0, sizeof *m);
    occam_layout_init(&m->lay, p->layers, p->nlayers);
    m->act = p->activation;
    m->task = task;
    /* zero-filled, so touched: past the memory this process may fill, the allocation still
     * succeeded (Linux overcommits) and the kernel killed the process with no message */
    double need = (double)m->lay.nparams * sizeof(float), avail = (double)occam_mem_available();
    if (need > avail)
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory: the model's %zu "
                               "parameters need %.1f GiB, %.1f GiB available; use a smaller "
                               "model.layers", m->lay.nparams, need / (1 << 30),
                               avail / (1 << 30));
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
    free(m->mask);
    free(m->rho);
    m->params = NULL;
    m->mask = NULL;
    m->rho = NULL;
}

int occam_model_mask_enable(occam_model *m, occam_error *err)
{
    if (m->mask) return OCCAM_OK;
    m->mask = occam_alloc(m->lay.nparams, 1);
    if (!m->mask) return occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory for the mask");
    memset(m->mask, 1, m->lay.nparams);
    return OCCAM_OK;
}

size_t occam_model_active_weights(const occam_model *m, int l)
{
    size_t n = (size_t)m->lay.width[l] * m->lay.width[l + 1];
    if (!m->mask) return n;
    const uint8_t *mk = m->mask + m->lay.w_off[l];
    size_t a = 0;
    for (size_t i = 0; i < n; i++) a += mk[i];
    return a;
}

int occam_model_check_finite(const occam_model *m, const char *verb, const char *when,
                             const char *advice, occam_error *err)
{
    const occam_layout *lay = &m->lay;
    for (int l = 0; l < lay->nlayers; l++) {
        size_t nw = (size_t)lay->width[l] * lay->width[l + 1], nb = (size_t)lay->width[l + 1];
        const struct {
            const float *v;
            size_t n;
            const char *what;
        } part[3] = {{m->params + lay->w_off[l], nw, "weights"},
                     {m->params + lay->b_off[l], nb, "biases"},
                     {m->rho ? m->rho + lay->w_off[l] : NULL, nw, "noise widths (rho)"}};
        for (int k = 0; k < 3; k++)
            for (size_t i = 0; part[k].v && i < part[k].n; i++)
                if (!isfinite(part[k].v[i]))
                    return occam_error_set(err, OCCAM_ERR_RUNTIME,
                                           "training diverged: layer %d's %s %s %s %s while the "
                                           "loss stayed finite (dead or saturated units kept "
                                           "them from it); %s",
                                           l, part[k].what, verb,
                                           isnan(part[k].v[i]) ? "NaN" : "infinite", when,
                                           advice ? advice : "try a smaller train.lr");
    }
    return OCCAM_OK;
}

void occam_layout_compact(void *a, size_t elem, const occam_layout *old, const occam_layout *nw,
                          const uint8_t *const *keep)
{
    unsigned char *p = a;
    for (int l = 0; l < old->nlayers; l++) {
        int in = old->width[l], out = old->width[l + 1];
        const uint8_t *kin = l > 0 ? keep[l] : NULL;               /* columns: units of layer l */
        const uint8_t *kout = l + 1 < old->nlayers ? keep[l + 1] : NULL; /* rows: units of l+1 */
        size_t dst = nw->w_off[l];
        for (int o = 0; o < out; o++) {
            if (kout && !kout[o]) continue;
            for (int i = 0; i < in; i++) {
                if (kin && !kin[i]) continue;
                memmove(p + dst * elem, p + (old->w_off[l] + (size_t)o * in + i) * elem, elem);
                dst++;
            }
        }
        dst = nw->b_off[l];
        for (int o = 0; o < out; o++) {
            if (kout && !kout[o]) continue;
            memmove(p + dst * elem, p + (old->b_off[l] + (size_t)o) * elem, elem);
            dst++;
        }
    }
    /* The padding between the new segments must read as zero (it is summed and updated). */
    for (int l = 0; l < nw->nlayers; l++) {
        size_t wend = nw->w_off[l] + (size_t)nw->width[l] * nw->width[l + 1];
        memset(p + wend * elem, 0, (nw->b_off[l] - wend) * elem);
        size_t bend = nw->b_off[l] + (size_t)nw->width[l + 1];
        size_t next = l + 1 < nw->nlayers ? nw->w_off[l + 1] : nw->nparams;
        memset(p + bend * elem, 0, (next - bend) * elem);
    }
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

void occam_model_layer_product(const occam_layout *lay, const float *params, int l,
                               const float *x, int m, float *z)
{
    int nin = lay->width[l], nout = lay->width[l + 1];
    /* Z (m,out) = X (m,in) · Wᵀ (in,out) */
    occam_gemm(false, true, m, nout, nin, 1.0f, x, nin, params + lay->w_off[l], nin, 0.0f, z,
               nout);
}

void occam_model_layer_finish(const occam_layout *lay, occam_act act, const float *params, int l,
                              int m, float *z)
{
    int nout = lay->width[l + 1];
    if (l + 1 < lay->nlayers)
        occam_bias_act_forward(z, params + lay->b_off[l], m, nout, act);
    else
        occam_bias_forward(z, params + lay->b_off[l], m, nout);
}

void occam_model_forward_layers(const occam_layout *lay, occam_act act, const float *params,
                          int first, int last, const float *x, int m, float *const *out)
{
    const float *in = x;
    for (int l = first; l < last; l++) {
        occam_model_layer_product(lay, params, l, in, m, out[l]);
        occam_model_layer_finish(lay, act, params, l, m, out[l]);
        in = out[l];
    }
}

void occam_model_forward_rows(const occam_layout *lay, occam_act act, const float *params,
                        const float *x, int m, float *const *out)
{
    occam_model_forward_layers(lay, act, params, 0, lay->nlayers, x, m, out);
}
