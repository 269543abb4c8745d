/* Writes the .occ seeds of fuzz_occ's 4-3-2 model whose first layer goes by its image grid
 * (format version 8 on, src/mdl/gridcode.h): `build/fuzz_seed_grid OUT_PREFIX` writes
 * OUT_PREFIX_mask.occ (the mask by the grid, the values plain), OUT_PREFIX_signs.occ (the
 * reverse) and OUT_PREFIX_both.occ. A model this small never finds the grid codes shorter, so
 * occam compress never writes them for it; here dl's choices are set by hand, which the writer
 * follows. fuzz/make_corpus.py runs it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "occam/config.h"
#include "occam/data.h"
#include "occam/dl.h"
#include "occam/mem.h"
#include "occam/model.h"
#include "occam/occfile.h"

static int fail(const char *what, const occam_error *err)
{
    fprintf(stderr, "fuzz_seed_grid: %s: %s\n", what, err->msg);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: fuzz_seed_grid OUT_PREFIX\n");
        return 2;
    }
    occam_config cfg;
    occam_config_defaults(&cfg);
    cfg.model = (occam_model_params){.layers = {4, 3, 2}, .nlayers = 3,
                                     .activation = OCCAM_ACT_RELU, .init = OCCAM_INIT_HE};
    occam_error err = {0};
    occam_model m;
    if (occam_model_create(&m, &cfg.model, OCCAM_TASK_CLASSIFY, &err) != OCCAM_OK)
        return fail("model", &err);
    occam_model_init(&m, cfg.model.init, 1);
    m.mask = occam_alloc(m.lay.nparams, 1);
    if (!m.mask) return 1;
    memset(m.mask, 1, m.lay.nparams);
    /* a 2 × 2 image: unit 0 keeps the top row (+, +), unit 1 the left column (−, −), unit 2 a
     * diagonal (+, −); the output layer is dense */
    static const int keep[3][4] = {{1, 1, 0, 0}, {1, 0, 1, 0}, {1, 0, 0, 1}};
    static const float sign[3][4] = {{1, 1, 1, 1}, {-1, -1, -1, -1}, {1, 1, 1, -1}};
    for (int o = 0; o < 3; o++)
        for (int i = 0; i < 4; i++) {
            size_t a = m.lay.w_off[0] + (size_t)o * 4 + (size_t)i;
            m.mask[a] = (uint8_t)keep[o][i];
            m.params[a] = keep[o][i] ? sign[o][i] * (0.4f + 0.1f * (float)i) : 0.0f;
        }
    occam_dataset train = {.n = 8, .d = 4, .classes = 2, .grid_w = 2};
    train.x = occam_alloc(8 * 4, sizeof(float));
    train.label = occam_alloc(8, sizeof(int32_t));
    if (!train.x || !train.label) return 1;
    for (int r = 0; r < 8; r++) {
        for (int i = 0; i < 4; i++) train.x[r * 4 + i] = (float)((r * 5 + i * 3) % 7) / 7.0f;
        train.label[r] = r % 2;
    }
    occam_dl dl;
    if (occam_dl_compute(&dl, &m, &cfg.mdl, &cfg.noise, &train, 1, NULL, &err) != OCCAM_OK)
        return fail("description length", &err);
    static const char *const name[3] = {"mask", "signs", "both"};
    for (int c = 0; c < 3; c++) {
        dl.layer[0].grid_mask = c != 1;
        dl.layer[0].grid_signs = c != 0;
        char path[4096];
        snprintf(path, sizeof path, "%s_%s.occ", argv[1], name[c]);
        occam_occ_data data = {.known = true, .normalize = OCCAM_NORM_STANDARDIZE};
        if (occam_occ_write(path, &m, &cfg.model, &data, &dl, NULL, &err) != OCCAM_OK)
            return fail(path, &err);
        occam_model back;
        if (occam_model_create(&back, &cfg.model, OCCAM_TASK_CLASSIFY, &err) != OCCAM_OK ||
            occam_occ_read(path, &back, &err) != OCCAM_OK)
            return fail(path, &err);
        occam_model_free(&back);
    }
    occam_dataset_free(&train);
    occam_model_free(&m);
    return 0;
}
