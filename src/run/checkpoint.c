/* Model weights in the safetensors layout. */
#include "occam/checkpoint.h"

#include <errno.h>
#include <float.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "occam/json.h"
#include "occam/mem.h"
#include "occam/noisy.h"
#include "occam/occfile.h"
#include "occam/safetensors.h"
#include "occam/version.h"


int occam_checkpoint_tensors(const occam_model *m, occam_st_tensor *t, char (*names)[32])
{
    const occam_layout *lay = &m->lay;
    int nt = 0;
    for (int l = 0; l < lay->nlayers; l++) {
        int64_t out = lay->width[l + 1], in = lay->width[l];
        snprintf(names[nt], 32, "layers.%d.weight", l);
        t[nt] = (occam_st_tensor){names[nt], OCCAM_ST_F32, 2, {out, in}, m->params + lay->w_off[l]};
        nt++;
        snprintf(names[nt], 32, "layers.%d.bias", l);
        t[nt] = (occam_st_tensor){names[nt], OCCAM_ST_F32, 1, {out}, m->params + lay->b_off[l]};
        nt++;
        if (m->rho) { /* noisy weights: σ = softplus(ρ) */
            snprintf(names[nt], 32, "layers.%d.weight_rho", l);
            t[nt] = (occam_st_tensor){names[nt], OCCAM_ST_F32, 2, {out, in}, m->rho + lay->w_off[l]};
            nt++;
        }
        if (m->mask) {
            snprintf(names[nt], 32, "layers.%d.weight_mask", l);
            t[nt] = (occam_st_tensor){names[nt], OCCAM_ST_U8, 2, {out, in}, m->mask + lay->w_off[l]};
            nt++;
            snprintf(names[nt], 32, "layers.%d.bias_mask", l);
            t[nt] = (occam_st_tensor){names[nt], OCCAM_ST_U8, 1, {out}, m->mask + lay->b_off[l]};
            nt++;
        }
    }
    return nt;
}

void occam_checkpoint_widths(const occam_model *m, char *buf, size_t cap)
{
    buf[0] = 0;
    for (int l = 0, len = 0; l <= m->lay.nlayers && (size_t)len < cap; l++)
        len += snprintf(buf + len, cap - (size_t)len, "%s%d", l ? "," : "", m->lay.width[l]);
}

int occam_checkpoint_save(const char *path, const occam_model *m, const occam_config *cfg,
                          const occam_dataset *train, occam_error *err)
{
    occam_st_tensor t[OCCAM_CHECKPOINT_TENSORS_MAX];
    char names[OCCAM_CHECKPOINT_TENSORS_MAX][32];
    int nt = occam_checkpoint_tensors(m, t, names);
    /* The widths actually in the file: neuron pruning makes hidden layers narrower than the
     * config's model.layers. */
    char widths[16 * OCCAM_MAX_LAYERS];
    occam_checkpoint_widths(m, widths, sizeof widths);
    char *json = malloc(OCCAM_CONFIG_JSON_MAX);
    if (!json) return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: out of memory", path);
    if (occam_config_to_json(cfg, json, OCCAM_CONFIG_JSON_MAX) < 0) {
        free(json);
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: config too large for metadata", path);
    }
    char rows[48] = "";
    if (train) occam_checkpoint_rows_text(rows, sizeof rows, train);
    occam_st_meta meta[] = {{"format", "occam"},
                            {"occam.version", OCCAM_VERSION},
                            {"occam.layers", widths},
                            {"config", json},
                            {"occam.train_rows", rows}};
    int rc = occam_st_write(path, t, nt, meta, train ? 5 : 4, err);
    free(json);
    return rc;
}

void occam_checkpoint_rows_text(char *buf, size_t cap, const occam_dataset *train)
{
    snprintf(buf, cap, "%zu:%08x", train->n, (unsigned)occam_dataset_crc(train));
}

bool occam_checkpoint_train_rows(const char *path, uint64_t *rows, uint32_t *crc)
{
    occam_error e = {0};
    if (occam_occ_is(path)) { /* a version 9 header's fingerprint, if its writer knew it */
        occam_task task;
        occam_occ_data d;
        if (occam_occ_read_data(path, &task, &d, &e) != OCCAM_OK || !d.rows_known) return false;
        *rows = d.rows;
        *crc = d.rows_crc;
        return true;
    }
    occam_st_file f;
    if (occam_st_open(&f, path, &e) != OCCAM_OK) return false; /* its loader says */
    const char *rec = occam_st_meta_get(&f, "occam.train_rows");
    unsigned long long n = 0;
    unsigned c = 0;
    char *end = NULL;
    /* digits, ':' and 8 hex digits, the row count in range: sscanf's %llu took
     * "99999999999999999999999" as 18446744073709551615 rows (a forged file: found by the
     * third hostile-input sweep), and a sign or blanks as a count */
    errno = 0;
    if (rec && rec[0] >= '0' && rec[0] <= '9') n = strtoull(rec, &end, 10);
    bool known = end && errno == 0 && n > 0 && *end == ':' && strlen(end + 1) == 8 &&
                 strspn(end + 1, "0123456789abcdefABCDEF") == 8 &&
                 sscanf(end + 1, "%8x", &c) == 1;
    occam_st_close(&f);
    if (known) {
        *rows = n;
        *crc = c;
    }
    return known;
}

bool occam_checkpoint_same_rows(const char *path, const occam_dataset *train, char *why,
                                size_t cap)
{
    uint64_t n = 0;
    uint32_t crc = 0;
    if (!occam_checkpoint_train_rows(path, &n, &crc)) return true;
    if (n != (uint64_t)train->n)
        snprintf(why, cap, "%llu rows then, %zu now", (unsigned long long)n, train->n);
    else if (crc != occam_dataset_crc(train))
        snprintf(why, cap, "as many rows (%zu), other values", train->n);
    else
        return true;
    return false;
}

/* The widths of the file's tensors: layers.0.weight's inputs, then every layers.L.weight's
 * outputs. "occam.layers", the writer's record of them, must agree. Returns how many widths,
 * or -OCCAM_ERR_INPUT with err set. */
static int file_widths(const occam_st_file *f, int *w, occam_error *err)
{
    const char *path = f->path;
    int n = 0;
    for (int l = 0; l < OCCAM_MAX_LAYERS; l++) {
        char name[32];
        snprintf(name, sizeof name, "layers.%d.weight", l);
        const occam_st_tensor_view *t = occam_st_find(f, name);
        if (!t) break;
        if (l == OCCAM_MAX_LAYERS - 1)
            return -occam_error_set(err, OCCAM_ERR_INPUT, "%s: more than %d layers", path,
                                    OCCAM_MAX_LAYERS - 1);
        bool ok = t->ndim == 2;
        for (int d = 0; ok && d < 2; d++) ok = t->shape[d] >= 1 && t->shape[d] <= 1000000;
        if (!ok)
            return -occam_error_set(err, OCCAM_ERR_INPUT, "%s: tensor '%s' is not an out × in "
                                    "weight matrix of 1 to 1000000 units", path, name);
        if (l == 0) w[n++] = (int)t->shape[1];
        else if (t->shape[1] != w[l])
            return -occam_error_set(err, OCCAM_ERR_INPUT, "%s: tensor '%s' takes %lld inputs, "
                                    "but layer %d has %d units", path, name,
                                    (long long)t->shape[1], l, w[l]);
        w[n++] = (int)t->shape[0];
    }
    if (n == 0)
        return -occam_error_set(err, OCCAM_ERR_INPUT, "%s: tensor 'layers.0.weight' is missing",
                                path);
    const char *said = occam_st_meta_get(f, "occam.layers");
    char have[16 * OCCAM_MAX_LAYERS];
    have[0] = 0;
    for (int l = 0, len = 0; l < n; l++)
        len += snprintf(have + len, sizeof have - (size_t)len, "%s%d", l ? "," : "", w[l]);
    if (said && strcmp(said, have))
        return -occam_error_set(err, OCCAM_ERR_INPUT, "%s: the metadata says the layers are %s, "
                                "the tensors are %s", path, said, have);
    return n;
}

/* Whether the file's own config (metadata "config") pruned neurons from exactly the widths of
 * cfg: prune.granularity = neuron and model.layers equal to cfg's. */
static bool neuron_pruned_from(const occam_st_file *f, const occam_layout *cfg)
{
    const char *text = occam_st_meta_get(f, "config");
    occam_json_value v = {0};
    occam_error e2;
    if (!text || occam_json_parse(&v, text, strlen(text), &e2) != OCCAM_OK) return false;
    const occam_json_value *prune = occam_json_get(&v, "prune"), *model = occam_json_get(&v, "model");
    const occam_json_value *gran = prune ? occam_json_get(prune, "granularity") : NULL;
    const occam_json_value *layers = model ? occam_json_get(model, "layers") : NULL;
    bool yes = gran && gran->type == OCCAM_JSON_STRING && !strcmp(gran->str, "neuron") &&
               layers && layers->type == OCCAM_JSON_ARRAY &&
               layers->count == (size_t)cfg->nlayers + 1;
    for (size_t l = 0; yes && l < layers->count; l++) {
        const occam_json_value *x = &layers->items[l];
        yes = x->type == OCCAM_JSON_NUMBER && x->is_integer && x->integer == cfg->width[l];
    }
    occam_json_free(&v);
    return yes;
}

/* The file's widths w[0..n) against the config's: the same, or those of a neuron-pruned model
 * of the config's model.layers, whose hidden layers may be narrower. */
static int check_widths(const occam_st_file *f, const occam_layout *cfg, const int *w, int n,
                        occam_error *err)
{
    int L = cfg->nlayers;
    if (n != L + 1)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: the file has %d weight layers, "
                               "model.layers has %d", f->path, n - 1, L);
    int pruned = -1; /* not yet looked up */
    for (int l = 0; l <= L; l++) {
        if (w[l] == cfg->width[l]) continue;
        bool narrower = l > 0 && l < L && w[l] < cfg->width[l];
        if (narrower && pruned < 0) pruned = neuron_pruned_from(f, cfg);
        if (narrower && pruned) continue;
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: layer %d has %d units in the file but "
                               "model.layers says %d%s", f->path, l, w[l], cfg->width[l],
                               narrower ? " (narrower hidden layers load only from a model "
                                          "whose neurons were pruned from this model.layers)"
                                        : "");
    }
    return OCCAM_OK;
}

/* Re-lays out m with (narrower) widths w, zeroed. */
static int relayout(occam_model *m, const int *w, int n, occam_error *err)
{
    occam_layout lay;
    occam_layout_init(&lay, w, n);
    float *p = occam_alloc_zero(lay.nparams, sizeof(float));
    if (!p) return occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory");
    occam_model_free(m); /* the old parameters, mask and ρ; the new layout is mask-free */
    m->params = p;
    m->lay = lay;
    return OCCAM_OK;
}

/* A .occ file, by content or by name: one whose magic took a flip is told as a damaged .occ,
 * not as a foreign safetensors file. */
static bool is_occ(const char *path)
{
    size_t len = strlen(path);
    return occam_occ_is(path) || (len > 4 && !strcmp(path + len - 4, ".occ"));
}

int occam_checkpoint_load(const char *path, occam_model *m, occam_error *err)
{
    if (is_occ(path)) return occam_occ_read(path, m, err);
    occam_st_file f;
    int rc = occam_st_open(&f, path, err);
    if (rc != OCCAM_OK) return rc;
    /* A model file holds the model's tensors only; a training state (which eval and predict
     * also read) holds its own besides, which its resume checks. */
    const char *fmt = occam_st_meta_get(&f, "format");
    bool state = fmt && !strcmp(fmt, "occam-state");
    for (int i = 0; i < f.ntensors && !state && rc == OCCAM_OK; i++)
        if (strncmp(f.tensors[i].name, "layers.", 7))
            rc = occam_error_set(err, OCCAM_ERR_INPUT, "%s: tensor '%s' is not one of a "
                                 "model's (layers.L.weight, .bias, ...): the file is from "
                                 "another program or damaged", path, f.tensors[i].name);
    if (rc == OCCAM_OK) rc = occam_checkpoint_load_st(&f, m, err);
    occam_st_close(&f);
    return rc;
}

/* A regression model's outputs are in the units of the targets it was trained on, so using it
 * with the other data.normalize_targets would silently scale its predictions wrongly. The
 * file's own config says which; a file from before the key has none and was trained on raw
 * targets. */
int occam_checkpoint_check_targets_st(const occam_st_file *f, const occam_config *cfg,
                                      occam_error *err)
{
    const char *text = occam_st_meta_get(f, "config");
    if (cfg->data.task != OCCAM_TASK_REGRESS || !text) return OCCAM_OK;
    occam_json_value v = {0};
    occam_error e2;
    if (occam_json_parse(&v, text, strlen(text), &e2) != OCCAM_OK) return OCCAM_OK;
    const occam_json_value *data = occam_json_get(&v, "data");
    const occam_json_value *task = data ? occam_json_get(data, "task") : NULL;
    const occam_json_value *std = data ? occam_json_get(data, "normalize_targets") : NULL;
    bool regress = task && task->type == OCCAM_JSON_STRING && !strcmp(task->str, "regress");
    bool was = std && std->type == OCCAM_JSON_BOOL && std->boolean;
    occam_json_free(&v);
    if (!regress || was == cfg->data.normalize_targets) return OCCAM_OK;
    return occam_error_set(err, OCCAM_ERR_INPUT,
                           "%s: the model was trained with data.normalize_targets = %s%s, this "
                           "config has %s: its outputs are in other units (set "
                           "data.normalize_targets = %s)",
                           f->path, was ? "true" : "false",
                           std ? "" : " (saved before the key existed)",
                           cfg->data.normalize_targets ? "true" : "false",
                           was ? "true" : "false");
}

/* Keys whose value gives the weights their meaning: the same numbers under another activation,
 * output head or input scaling compute something else, and an eval or predict with them would
 * print a wrong answer with exit 0. Both configs are compared as their JSON (string values). */
static const char *const meaning_keys[][2] = {
    {"data", "task"}, {"model", "activation"}, {"data", "normalize"}};

static int check_meaning(const occam_st_file *f, const occam_config *cfg, occam_error *err)
{
    const char *text = occam_st_meta_get(f, "config");
    if (!text) return OCCAM_OK;
    char *now = malloc(OCCAM_CONFIG_JSON_MAX);
    if (!now) return occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory");
    occam_json_value was = {0}, is = {0};
    occam_error e2;
    int rc = OCCAM_OK;
    if (occam_config_to_json(cfg, now, OCCAM_CONFIG_JSON_MAX) < 0 ||
        occam_json_parse(&is, now, strlen(now), &e2) != OCCAM_OK)
        rc = occam_error_set(err, OCCAM_ERR_RUNTIME, "config JSON: cannot be written");
    /* A file whose config does not parse (or lacks a key) is one we cannot compare with. */
    bool ok = rc == OCCAM_OK && occam_json_parse(&was, text, strlen(text), &e2) == OCCAM_OK;
    for (size_t i = 0; ok && rc == OCCAM_OK && i < sizeof meaning_keys / sizeof *meaning_keys;
         i++) {
        const char *sec = meaning_keys[i][0], *key = meaning_keys[i][1];
        const occam_json_value *ws = occam_json_get(&was, sec), *is_s = occam_json_get(&is, sec);
        const occam_json_value *w = ws ? occam_json_get(ws, key) : NULL;
        const occam_json_value *v = is_s ? occam_json_get(is_s, key) : NULL;
        if (!w || !v || w->type != OCCAM_JSON_STRING || v->type != OCCAM_JSON_STRING ||
            !strcmp(w->str, v->str))
            continue;
        rc = occam_error_set(err, OCCAM_ERR_INPUT, "%s: the model was trained with %s.%s = %s, "
                             "this config has %s: its weights mean something else there (set "
                             "%s.%s = %s)", f->path, sec, key, w->str, v->str, sec, key, w->str);
    }
    occam_json_free(&was);
    occam_json_free(&is);
    free(now);
    return rc;
}

/* An .occ file has no config: its header keeps the data scaling (its task and activation are
 * checked as it loads). */
static int check_occ_data(const char *path, const occam_config *cfg, bool *unchecked,
                          occam_error *err)
{
    occam_task task;
    occam_occ_data was;
    int rc = occam_occ_read_data(path, &task, &was, err);
    if (rc != OCCAM_OK) return rc;
    if (!was.known) { /* a file from before the format recorded it: used */
        if (unchecked) *unchecked = true;
        return OCCAM_OK;
    }
    const char *w = occam_norm_name(was.normalize), *v = occam_norm_name(cfg->data.normalize);
    if (was.normalize != cfg->data.normalize)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: the model was trained with "
                               "data.normalize = %s, this config has %s: its weights mean "
                               "something else there (set data.normalize = %s)", path, w, v, w);
    bool regress = task == OCCAM_TASK_REGRESS && cfg->data.task == OCCAM_TASK_REGRESS;
    if (!regress || was.normalize_targets == cfg->data.normalize_targets) return OCCAM_OK;
    w = was.normalize_targets ? "true" : "false";
    return occam_error_set(err, OCCAM_ERR_INPUT, "%s: the model was trained with "
                           "data.normalize_targets = %s, this config has %s: its outputs are in "
                           "other units (set data.normalize_targets = %s)", path, w,
                           cfg->data.normalize_targets ? "true" : "false", w);
}

int occam_checkpoint_check_config(const char *path, const occam_config *cfg, bool *unchecked,
                                  occam_error *err)
{
    if (unchecked) *unchecked = false;
    if (is_occ(path)) return check_occ_data(path, cfg, unchecked, err);
    occam_st_file f;
    int rc = occam_st_open(&f, path, err);
    if (rc != OCCAM_OK) return rc;
    rc = check_meaning(&f, cfg, err);
    if (rc == OCCAM_OK) rc = occam_checkpoint_check_targets_st(&f, cfg, err);
    occam_st_close(&f);
    return rc;
}

/* The string value of sec.key in a config's JSON, or NULL. */
static const char *json_key_str(const occam_json_value *root, const char *sec, const char *key)
{
    const occam_json_value *s = occam_json_get(root, sec);
    const occam_json_value *v = s ? occam_json_get(s, key) : NULL;
    return v && v->type == OCCAM_JSON_STRING ? v->str : NULL;
}

bool occam_checkpoint_other_prior(const char *path, const occam_config *cfg, char *was,
                                  size_t cap)
{
    occam_st_file f;
    occam_error e;
    if (!cfg->noise.enabled || is_occ(path) || occam_st_open(&f, path, &e) != OCCAM_OK)
        return false;
    const char *text = occam_st_meta_get(&f, "config");
    char *now = malloc(OCCAM_CONFIG_JSON_MAX);
    occam_json_value then = {0}, is = {0};
    bool other = false;
    if (text && now && occam_config_to_json(cfg, now, OCCAM_CONFIG_JSON_MAX) >= 0 &&
        occam_json_parse(&is, now, strlen(now), &e) == OCCAM_OK &&
        occam_json_parse(&then, text, strlen(text), &e) == OCCAM_OK) {
        const occam_json_value *noise = occam_json_get(&then, "noise");
        const occam_json_value *on = noise ? occam_json_get(noise, "enabled") : NULL;
        const char *w = json_key_str(&then, "noise", "prior");
        const char *v = json_key_str(&is, "noise", "prior");
        other = on && on->type == OCCAM_JSON_BOOL && on->boolean && w && v && strcmp(w, v);
        if (other) snprintf(was, cap, "%s", w);
    }
    occam_json_free(&then);
    occam_json_free(&is);
    free(now);
    occam_st_close(&f);
    return other;
}

/* Whether name is a tensor of the model's own that load_st reads: layers.L.weight and .bias,
 * and .weight_rho, .weight_mask and .bias_mask when the file has them. */
static bool model_tensor(const char *name, int nlayers, bool has_mask, bool has_rho)
{
    static const char *const kinds[] = {"weight", "bias", "weight_rho", "weight_mask",
                                        "bias_mask"};
    for (int l = 0; l < nlayers; l++)
        for (int k = 0; k < 5; k++) {
            if ((k == 2 && !has_rho) || (k >= 3 && !has_mask)) continue;
            char want[32];
            snprintf(want, sizeof want, "layers.%d.%s", l, kinds[k]);
            if (!strcmp(name, want)) return true;
        }
    return false;
}

int occam_checkpoint_load_st(const occam_st_file *f, occam_model *m, occam_error *err)
{
    const char *path = f->path;
    int rc = OCCAM_OK;
    int w[OCCAM_MAX_LAYERS];
    int nw = file_widths(f, w, err);
    if (nw < 0) return OCCAM_ERR_INPUT;
    rc = check_widths(f, &m->lay, w, nw, err);
    if (rc != OCCAM_OK) return rc;
    occam_layout want;
    occam_layout_init(&want, w, nw);
    const occam_layout *lay = &want;
    /* Validate every tensor first, copy after: a failure leaves m untouched. */
    const float *src[2 * OCCAM_MAX_LAYERS];
    const uint8_t *msrc[2 * OCCAM_MAX_LAYERS] = {0};
    bool has_mask = occam_st_find(f, "layers.0.weight_mask") != NULL;
    const float *rsrc[OCCAM_MAX_LAYERS] = {0};
    bool has_rho = occam_st_find(f, "layers.0.weight_rho") != NULL;
    bool shapes = false; /* a tensor of the wrong shape: model.layers may be what is wrong */
    for (int l = 0; l < lay->nlayers && rc == OCCAM_OK; l++) {
        char name[32];
        int64_t wshape[2] = {lay->width[l + 1], lay->width[l]}, bshape[1] = {lay->width[l + 1]};
        snprintf(name, sizeof name, "layers.%d.weight", l);
        rc = occam_st_expect_f32(f, name, 2, wshape, &src[2 * l], err);
        if (rc != OCCAM_OK) {
            shapes = true;
            break;
        }
        snprintf(name, sizeof name, "layers.%d.bias", l);
        rc = occam_st_expect_f32(f, name, 1, bshape, &src[2 * l + 1], err);
        if (rc == OCCAM_OK && has_rho) {
            snprintf(name, sizeof name, "layers.%d.weight_rho", l);
            rc = occam_st_expect_f32(f, name, 2, wshape, &rsrc[l], err);
        }
        shapes = rc != OCCAM_OK;
        for (int b = 0; rc == OCCAM_OK && has_mask && b < 2; b++) {
            snprintf(name, sizeof name, b ? "layers.%d.bias_mask" : "layers.%d.weight_mask", l);
            const occam_st_tensor_view *v = occam_st_find(f, name);
            size_t want_n = b ? (size_t)lay->width[l + 1]
                              : (size_t)lay->width[l] * lay->width[l + 1];
            /* the shape, not only the size: a 20 × 50 mask of a 50 × 20 weight is the wrong
             * weights' mask */
            bool shaped = v && v->ndim == (b ? 1 : 2) &&
                          v->shape[0] == (b ? bshape[0] : wshape[0]) &&
                          (b || v->shape[1] == wshape[1]);
            if (!v || v->dtype != OCCAM_ST_U8 || v->nbytes != want_n || !shaped)
                rc = occam_error_set(err, OCCAM_ERR_INPUT,
                                     "%s: mask '%s' is missing or has the wrong type or "
                                     "shape", path, name);
            else
                msrc[2 * l + b] = v->data;
        }
    }
    /* A layer tensor the model would not read (a layer past the last, a kind occam does not
     * write, a ρ or mask for some layers only) means another program's file or a damaged
     * one: loading the rest would silently drop it. */
    for (int i = 0; i < f->ntensors && rc == OCCAM_OK; i++)
        if (!strncmp(f->tensors[i].name, "layers.", 7) &&
            !model_tensor(f->tensors[i].name, lay->nlayers, has_mask, has_rho))
            rc = occam_error_set(err, OCCAM_ERR_INPUT, "%s: tensor '%s' is not one of the "
                                 "model's (a %d-layer net%s%s): the file is from another "
                                 "program or damaged", path, f->tensors[i].name, lay->nlayers,
                                 has_rho ? " with σ" : "", has_mask ? " with masks" : "");
    if (rc != OCCAM_OK) {
        /* Point at the key that decides the shapes. */
        if (shapes)
            strncat(err->msg, " (check model.layers)", sizeof err->msg - strlen(err->msg) - 1);
        return rc;
    }
    /* after the shape hint above: a mask byte of 255 is not model.layers' fault */
    for (int l = 0; has_mask && l < lay->nlayers && rc == OCCAM_OK; l++)
        for (int b = 0; b < 2 && rc == OCCAM_OK; b++) {
            char name[32];
            snprintf(name, sizeof name, b ? "layers.%d.bias_mask" : "layers.%d.weight_mask", l);
            rc = occam_st_check_mask(f, occam_st_find(f, name), err);
        }
    /* A NaN or infinite parameter would poison every prediction (predict would print nan):
     * refuse the file, naming the tensor. */
    static const char *const floats[] = {"weight", "bias", "weight_rho"};
    for (int l = 0; l < lay->nlayers && rc == OCCAM_OK; l++)
        for (int k = 0; k < 3 && rc == OCCAM_OK; k++) {
            char name[32];
            snprintf(name, sizeof name, "layers.%d.%s", l, floats[k]);
            const occam_st_tensor_view *t = occam_st_find(f, name);
            if (t) rc = occam_st_check_finite(f, t, err);
        }
    /* σ = softplus(ρ) below a normal float32 (ρ < −87; training keeps ρ ≥ −87, and σ ≥ 1e-6
     * where the fixed point sets it) is 0 or denormal: the KL divides by it and the posterior
     * step vanishes. */
    for (int l = 0; has_rho && l < lay->nlayers && rc == OCCAM_OK; l++)
        for (size_t i = 0; i < (size_t)lay->width[l] * lay->width[l + 1]; i++)
            if (!(occam_noise_sigma(rsrc[l][i]) >= FLT_MIN)) {
                rc = occam_error_set(err, OCCAM_ERR_INPUT, "%s: tensor 'layers.%d.weight_rho' "
                                     "has %g at index %zu: σ = softplus(ρ) underflows float32 "
                                     "(file damaged)", path, l, (double)rsrc[l][i], i);
                break;
            }
    if (rc != OCCAM_OK) return rc;
    /* Compare the widths, not nparams: segments are padded to cache lines, so a narrower
     * hidden layer can keep the same total (4,2,2 and 4,3,2 both take 64 floats). */
    bool same = true;
    for (int l = 0; l <= lay->nlayers; l++) same = same && want.width[l] == m->lay.width[l];
    if (!same) rc = relayout(m, w, nw, err);
    if (rc == OCCAM_OK && has_mask) rc = occam_model_mask_enable(m, err);
    if (rc == OCCAM_OK && has_rho && !m->rho) {
        m->rho = occam_alloc_zero(m->lay.nparams, sizeof(float));
        if (!m->rho) rc = occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory");
    }
    if (rc != OCCAM_OK) return rc;
    for (int l = 0; l < lay->nlayers; l++) {
        size_t nwts = (size_t)lay->width[l] * lay->width[l + 1], nb = (size_t)lay->width[l + 1];
        memcpy(m->params + lay->w_off[l], src[2 * l], sizeof(float) * nwts);
        memcpy(m->params + lay->b_off[l], src[2 * l + 1], sizeof(float) * nb);
        if (has_rho) memcpy(m->rho + lay->w_off[l], rsrc[l], sizeof(float) * nwts);
        if (has_mask) {
            memcpy(m->mask + lay->w_off[l], msrc[2 * l], nwts);
            memcpy(m->mask + lay->b_off[l], msrc[2 * l + 1], nb);
        }
    }
    return OCCAM_OK;
}
