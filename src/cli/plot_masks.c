/* Mask images from a checkpoint (occam_plot_masks): for each layer, which weights are kept,
 * downsampled to at most OCCAM_PLOT_MASK_CELLS cells a side, each cell the fraction of its
 * block's weights that are kept. The mask is the U8 tensor layers.L.weight_mask, or |w| != 0
 * when the file has none. Every layer is read and checked before anything is drawn. Given with
 * a report, the checkpoint must have the shape of the report's model (occam_plot_check_pair):
 * one of another model was drawn beside the report's figures without a word. */
#include "plot-impl.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "occam/occfile.h"
#include "occam/safetensors.h"

typedef struct mask_img {
    int rows, cols; /* of the weight matrix: out x in */
    int br, bc;     /* block size */
    int nr, nc;     /* cells */
    size_t kept;
    bool from_mask; /* read from weight_mask, not from |w| != 0 */
    double *cell;   /* nr x nc, fraction kept */
} mask_img;

/* Layer l's weight matrix and its mask (NULL when the file has none), both checked. */
static int mask_tensors(const occam_st_file *f, int l, const occam_st_tensor_view **w,
                        const occam_st_tensor_view **mk, occam_error *err)
{
    char name[64];
    snprintf(name, sizeof name, "layers.%d.weight", l);
    *mk = NULL;
    *w = occam_st_find(f, name);
    if (!*w || (*w)->dtype != OCCAM_ST_F32 || (*w)->ndim != 2)
        return plot_input_err(err, f->path, "tensor '%s' is missing or not a 2-D F32 matrix",
                              name);
    const int64_t *shape = (*w)->shape;
    snprintf(name, sizeof name, "layers.%d.weight_mask", l);
    *mk = occam_st_find(f, name);
    if (*mk && ((*mk)->dtype != OCCAM_ST_U8 || (*mk)->ndim != 2 || (*mk)->shape[0] != shape[0] ||
                (*mk)->shape[1] != shape[1]))
        return plot_input_err(err, f->path, "tensor '%s' should be U8 of shape [%lld,%lld]", name,
                              (long long)shape[0], (long long)shape[1]);
    if (shape[0] < 1 || shape[1] < 1 || shape[0] > INT_MAX || shape[1] > INT_MAX)
        return plot_input_err(err, f->path, "tensor 'layers.%d.weight' has an unusable shape", l);
    return *mk ? occam_st_check_mask(f, *mk, err) : OCCAM_OK;
}

/* Counts the kept weights into the cells, then averages each cell over its block's real
 * extent: the last row and column of blocks may be short. */
static void mask_fill(mask_img *m, const float *wv, const uint8_t *mv)
{
    for (int i = 0; i < m->rows; i++)
        for (int j = 0; j < m->cols; j++) {
            size_t at = (size_t)i * m->cols + j;
            bool kept = mv ? mv[at] != 0 : wv[at] != 0.0f;
            m->kept += kept;
            m->cell[(size_t)(i / m->br) * m->nc + j / m->bc] += kept;
        }
    for (int a = 0; a < m->nr; a++)
        for (int b = 0; b < m->nc; b++) {
            int h = (a + 1) * m->br <= m->rows ? m->br : m->rows - a * m->br;
            int wd = (b + 1) * m->bc <= m->cols ? m->bc : m->cols - b * m->bc;
            m->cell[(size_t)a * m->nc + b] /= (double)h * wd;
        }
}

/* Downsamples layer l's mask (or |w| != 0) into blocks of at most OCCAM_PLOT_MASK_CELLS a side. */
static int mask_build(mask_img *m, const occam_st_file *f, int l, occam_error *err)
{
    const occam_st_tensor_view *w, *mk;
    int rc = mask_tensors(f, l, &w, &mk, err);
    if (rc) return rc;
    memset(m, 0, sizeof *m);
    m->rows = (int)w->shape[0];
    m->cols = (int)w->shape[1];
    m->from_mask = mk != NULL;
    m->br = (m->rows + OCCAM_PLOT_MASK_CELLS - 1) / OCCAM_PLOT_MASK_CELLS;
    m->bc = (m->cols + OCCAM_PLOT_MASK_CELLS - 1) / OCCAM_PLOT_MASK_CELLS;
    m->nr = (m->rows + m->br - 1) / m->br;
    m->nc = (m->cols + m->bc - 1) / m->bc;
    m->cell = calloc((size_t)m->nr * m->nc, sizeof *m->cell);
    if (!m->cell) return plot_oom(err);
    mask_fill(m, w->data, mk ? mk->data : NULL);
    return OCCAM_OK;
}

static int mask_dat(const plot_ctx *c, const char *ckpt, int l, const mask_img *m,
                    const char *name, plot_dat *d, occam_error *err)
{
    int rc = plot_dat_open(d, c, name, err);
    if (rc) return rc;
    fprintf(d->f, "# %s: layer %d, weight matrix %d x %d (out x in), %s\n"
                  "# %d x %d cells of %d x %d weights; each value is the fraction kept\n",
            ckpt, l, m->rows, m->cols, m->from_mask ? "weight_mask" : "|w| != 0", m->nr, m->nc,
            m->br, m->bc);
    for (int a = 0; a < m->nr; a++) {
        for (int b = 0; b < m->nc; b++) {
            if (b) fputc(' ', d->f);
            fprintf(d->f, "%.6g", m->cell[(size_t)a * m->nc + b]);
        }
        fputc('\n', d->f);
    }
    return plot_dat_close(d, c, err);
}

/* The sparsity in percent, with two decimals or as many more as it takes not to read 100.00%
 * while a weight is kept (one of 300 x 784 is 99.99957%) or 0.00% while one is pruned. */
static void sparsity_text(char *buf, size_t cap, const mask_img *m)
{
    double total = (double)m->rows * m->cols, pct = 100.0 * (1.0 - (double)m->kept / total);
    for (int d = 2;; d++) {
        snprintf(buf, cap, "%.*f%%", d, pct);
        double shown = strtod(buf, NULL);
        if (d >= 15 || ((m->kept == 0 || shown < 100) && ((double)m->kept == total || shown > 0)))
            return;
    }
}

static int plot_mask(const plot_ctx *c, const char *ckpt, int l, const mask_img *m,
                     occam_error *err)
{
    char name[32], sparsity[32];
    snprintf(name, sizeof name, "mask_%d", l);
    sparsity_text(sparsity, sizeof sparsity, m);
    plot_dat d;
    int rc = mask_dat(c, ckpt, l, m, name, &d, err);
    if (rc) return rc;

    plot_gp g;
    if ((rc = plot_gp_open(&g, c, name, err))) return rc;
    FILE *f = g.f;
    fprintf(f, "set title 'Layer %d mask: %d inputs → %d outputs, sparsity %s%s' "
               "font ',13'\n", l, m->cols, m->rows, sparsity,
            m->from_mask ? "" : " (from |w| ≠ 0)");
    fprintf(f, "set xlabel 'input unit'\nset ylabel 'output unit'\n"
               "set cblabel 'fraction of weights kept (cell of %d × %d weights)'\n"
               "set cbrange [0:1]\nset palette defined (0 'white', 1 '#08306b')\n"
               "set xrange [0:%d]\nset yrange [%d:0]\nset tics out\nunset grid\n"
               "set key at screen 0.01, screen 0.01 left bottom nobox\n",
            m->br, m->bc, m->cols, m->rows);
    /* A narrow layer gets one tic per unit, at the unit's centre, instead of fractional tics. */
    for (int axis = 0; axis < 2; axis++) {
        int units = axis ? m->rows : m->cols;
        if (units > 12) continue;
        fprintf(f, "set %ctics (", axis ? 'y' : 'x');
        for (int u = 0; u < units; u++) fprintf(f, "%s'%d' %d.5", u ? ", " : "", u, u);
        fputs(")\n", f);
    }
    fputs("plot ", f);
    plot_gp_data(f, d.path, " matrix using (($1 + 0.5) * %d):(($2 + 0.5) * %d):3 with image "
                            "title 'dark: weights kept, white: pruned'\n", m->bc, m->br);
    return plot_gp_run(&g, c, err);
}

/* ---- the checkpoint against the report ---------------------------------------------------- */

#define PAIR_MAX_LAYERS 64

/* "20-50-3" from the widths w[0..n]. */
static void widths_text(char *buf, size_t cap, const int *w, int n)
{
    size_t len = 0;
    buf[0] = 0;
    for (int l = 0; l <= n && len < cap; l++) {
        int k = snprintf(buf + len, cap - len, "%s%d", l ? "-" : "", w[l]);
        len += k > 0 ? (size_t)k : 0;
    }
}

/* The widths of the model a run report describes, from its layers[] (each one's in, then the
 * last one's out): *n weight layers, or *n = 0 when the report lists none (a report of occam
 * select, whose points may differ in model.layers), -1 when it is not a JSON object. */
static int report_widths(const char *path, int *w, int *n, occam_error *err)
{
    occam_json_value root;
    int rc = plot_read_json(path, &root, err);
    if (rc) return rc;
    *n = root.type == OCCAM_JSON_OBJECT ? 0 : -1; /* occam_plot_report refuses it */
    const occam_json_value *layers = *n == 0 ? occam_json_get(&root, "layers") : NULL;
    if (layers && layers->type != OCCAM_JSON_ARRAY)
        rc = plot_input_err(err, path, "layers: expected an array");
    else if (layers && layers->count > PAIR_MAX_LAYERS)
        rc = plot_input_err(err, path, "layers: %zu layers, at most %d are supported",
                            layers->count, PAIR_MAX_LAYERS);
    for (size_t l = 0; rc == OCCAM_OK && layers && l < layers->count; l++) {
        const occam_json_value *e = &layers->items[l];
        static const char *const keys[2] = {"in", "out"};
        int v[2] = {0};
        for (int k = 0; k < 2 && rc == OCCAM_OK; k++) {
            const occam_json_value *x =
                e->type == OCCAM_JSON_OBJECT ? occam_json_get(e, keys[k]) : NULL;
            if (!x || x->type != OCCAM_JSON_NUMBER || !x->is_integer || x->integer < 1 ||
                x->integer > INT_MAX)
                rc = plot_input_err(err, path, "layers[%zu].%s: expected a positive integer",
                                    l, keys[k]);
            else
                v[k] = (int)x->integer;
        }
        if (rc == OCCAM_OK && l > 0 && v[0] != w[l])
            rc = plot_input_err(err, path, "layers[%zu].in is %d, but layers[%zu].out is %d", l,
                                v[0], l - 1, w[l]);
        w[l] = v[0];
        w[l + 1] = v[1];
        *n = (int)l + 1;
    }
    occam_json_free(&root);
    return rc;
}

int occam_plot_check_pair(const char *report_path, const char *checkpoint_path,
                          occam_error *err)
{
    int rw[PAIR_MAX_LAYERS + 1], cw[PAIR_MAX_LAYERS + 1], rn = 0, cn = 0;
    int rc = report_widths(report_path, rw, &rn, err);
    if (rc || rn < 0) return rc;
    if (rn == 0) {
        fprintf(stderr, "occam: note: %s lists no layers[] (a report of occam select, or not "
                "one of occam train or eval), so the shape of %s is not checked against its "
                "model\n", report_path, checkpoint_path);
        return OCCAM_OK;
    }
    if (occam_occ_is(checkpoint_path)) return OCCAM_OK; /* occam_plot_masks refuses it */
    occam_st_file f;
    if ((rc = occam_st_open(&f, checkpoint_path, err))) return rc;
    for (;; cn++) {
        char name[64];
        snprintf(name, sizeof name, "layers.%d.weight", cn);
        if (!occam_st_find(&f, name) || cn == PAIR_MAX_LAYERS) break;
        const occam_st_tensor_view *w, *mk;
        if ((rc = mask_tensors(&f, cn, &w, &mk, err))) break;
        if (cn == 0) cw[0] = (int)w->shape[1];
        cw[cn + 1] = (int)w->shape[0];
    }
    occam_st_close(&f);
    if (rc || cn == 0) return rc; /* occam_plot_masks says what is missing */
    int at = 0; /* the first weight layer whose shape differs (if they have as many) */
    while (at < rn && at < cn && rw[at] == cw[at] && rw[at + 1] == cw[at + 1]) at++;
    if (at == rn && at == cn) return OCCAM_OK;
    char rt[16 * (PAIR_MAX_LAYERS + 1)], ct[sizeof rt], which[128];
    widths_text(rt, sizeof rt, rw, rn);
    widths_text(ct, sizeof ct, cw, cn);
    if (rn == cn)
        snprintf(which, sizeof which, "weight layer %d is %d x %d (out x in) in the report, "
                 "%d x %d in the checkpoint", at, rw[at + 1], rw[at], cw[at + 1], cw[at]);
    else
        snprintf(which, sizeof which, "%d weight layer%s in the report, %d in the checkpoint",
                 rn, rn == 1 ? "" : "s", cn);
    return occam_error_set(err, OCCAM_ERR_INPUT,
                           "plot: %s and %s are different models: the report's is %s (its "
                           "layers[]), the checkpoint's %s (%s); give the checkpoint the "
                           "report's run saved",
                           report_path, checkpoint_path, rt, ct, which);
}

int occam_plot_masks(const char *checkpoint_path, occam_plot_params p, occam_error *err)
{
    /* An .occ holds the masks range-coded, and decoding it needs the config's model shape,
     * which plot has not got: it said "truncated: header says 5495602439501595471 bytes". */
    if (occam_occ_is(checkpoint_path))
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "%s: an .occ file (occam compress); plot --checkpoint reads the "
                               "safetensors model that 'occam train --save' writes",
                               checkpoint_path);
    int rc = occam_plot_check_name(checkpoint_path, "--checkpoint", err);
    if (rc) return rc;
    occam_st_file f;
    if ((rc = occam_st_open(&f, checkpoint_path, err))) return rc;
    int nl = 0;
    for (char name[64];; nl++) {
        snprintf(name, sizeof name, "layers.%d.weight", nl);
        if (!occam_st_find(&f, name)) break;
    }
    mask_img *m = calloc(nl ? nl : 1, sizeof *m);
    if (!m) rc = plot_oom(err);
    if (rc == OCCAM_OK && nl == 0)
        rc = plot_input_err(err, checkpoint_path,
                            "no tensor 'layers.0.weight' (not an occam model?)");
    for (int l = 0; rc == OCCAM_OK && l < nl; l++) rc = mask_build(&m[l], &f, l, err);
    plot_ctx c;
    bool draw = rc == OCCAM_OK && !p.check_only;
    if (draw) rc = plot_ctx_open(&c, &p, err);
    for (int l = 0; draw && rc == OCCAM_OK && l < nl; l++)
        rc = plot_mask(&c, checkpoint_path, l, &m[l], err);
    for (int l = 0; m && l < nl; l++) free(m[l].cell);
    free(m);
    occam_st_close(&f);
    return rc;
}
