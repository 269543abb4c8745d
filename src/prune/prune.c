/* Pruning one model to a target: importance scores, then the granularity's selection and mask
 * update (see include/occam/prune.h for the rules). */
#include "occam/prune.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "occam/clock.h"
#include "occam/mem.h"
#include "occam/rng.h"
#include "occam/select.h"

struct occam_pruner {
    occam_prune_params prm;
    int batch;            /* rows per gradient batch (taylor/obd) */
    float *score;         /* lay.nparams at the dense size: importance of every parameter */
    float *gsum, *g2sum;  /* taylor / obd gradient statistics (lay.nparams) */
    float *grad;          /* one minibatch gradient */
    int threads;
    int events;           /* prune events so far (seeds the random method) */
    int dense_hidden;     /* hidden units of the model before any neuron was removed */
    int dense_width[OCCAM_MAX_LAYERS]; /* widths before any neuron was removed */
    char note[OCCAM_PRUNE_NOTE_MAX];   /* occam_pruner_note */
};

void occam_pruner_resume(occam_pruner *p, int events) { p->events = events; }

const char *occam_pruner_note(const occam_pruner *p) { return p->note; }

void occam_prune_log_free(occam_prune_log *log)
{
    if (!log) return;
    free(log->ev);
    memset(log, 0, sizeof *log);
}

void occam_pruner_free(occam_pruner *p)
{
    if (!p) return;
    free(p->score);
    free(p->gsum);
    free(p->g2sum);
    free(p->grad);
    free(p);
}

int occam_pruner_create(occam_pruner **out, const occam_prune_params *prm, int batch, bool noisy,
                        const occam_model *m, occam_error *err)
{
    *out = NULL;
    occam_pruner *p = calloc(1, sizeof *p);
    size_t n = m->lay.nparams;
    bool need_g = prm->method == OCCAM_IMP_TAYLOR || prm->method == OCCAM_IMP_OBD;
    if (p) {
        p->prm = *prm;
        p->batch = batch;
        for (int h = 1; h < m->lay.nlayers; h++) p->dense_hidden += m->lay.width[h];
        memcpy(p->dense_width, m->lay.width, sizeof p->dense_width);
        p->score = occam_alloc(n, sizeof(float));
        if (need_g) {
            p->gsum = occam_alloc(n, sizeof(float));
            p->g2sum = occam_alloc(n, sizeof(float));
            p->grad = occam_alloc(n * (noisy ? 2 : 1), sizeof(float));
        }
    }
    if (!p || !p->score || (need_g && (!p->gsum || !p->g2sum || !p->grad))) {
        occam_pruner_free(p);
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory for pruning scores");
    }
    *out = p;
    return OCCAM_OK;
}

/* Gradient mean and mean square over prune.batches minibatches of the training set, drawn
 * with a seeded permutation (so the scores are reproducible). OCCAM_ERR_RUNTIME, with err set,
 * when the minibatch's row indices find no memory: that was an assertion, and an abort (exit
 * 134) where every other allocation of a run is a message. */
static int gradient_stats(occam_pruner *p, const occam_model *m, occam_trainer *tr,
                          const occam_dataset *train, occam_error *err)
{
    size_t n = m->lay.nparams, batch = (size_t)p->batch;
    if (batch > train->n) batch = train->n;
    uint32_t *idx = occam_alloc(batch, sizeof *idx);
    /* Agreed: under mpirun the ranks meet in each gradient pass below, and a rank out of
     * memory here returned while the others waited in the first for ever. */
    bool mine = idx == NULL;
    if (occam_comm_max_int(occam_trainer_comm(tr), mine)) {
        free(idx);
        return mine ? occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory for the %zu row "
                                      "indices of prune.method's minibatch (train.batch)", batch)
                    : occam_error_set(err, OCCAM_ERR_RUNTIME, "another rank ran out of memory "
                                      "for prune.method's minibatch");
    }
    memset(p->gsum, 0, n * sizeof(float));
    memset(p->g2sum, 0, n * sizeof(float));
    occam_rng r = occam_rng_seed(p->prm.seed, 0x6772616400ull + (uint64_t)p->events);
    int nb = p->prm.batches;
    for (int b = 0; b < nb; b++) {
        for (size_t i = 0; i < batch; i++) idx[i] = (uint32_t)occam_rng_below(&r, train->n);
        double loss = 0;
        occam_trainer_gradient(tr, train, idx, batch, p->grad, &loss);
        for (size_t i = 0; i < n; i++) {
            p->gsum[i] += p->grad[i] / (float)nb;
            p->g2sum[i] += p->grad[i] * p->grad[i] / (float)nb;
        }
    }
    free(idx);
    return OCCAM_OK;
}

/* score[i] for every parameter; -1 for those already pruned. OCCAM_ERR_RUNTIME as
 * gradient_stats. */
static int compute_scores(occam_pruner *p, const occam_model *m, occam_trainer *tr,
                          const occam_dataset *train, occam_error *err)
{
    size_t n = m->lay.nparams;
    const float *w = m->params;
    float *s = p->score;
    switch (p->prm.method) {
    case OCCAM_IMP_MAGNITUDE:
        for (size_t i = 0; i < n; i++) s[i] = fabsf(w[i]);
        break;
    case OCCAM_IMP_TAYLOR:
        if (gradient_stats(p, m, tr, train, err) != OCCAM_OK) return OCCAM_ERR_RUNTIME;
        for (size_t i = 0; i < n; i++) s[i] = fabsf(w[i] * p->gsum[i]);
        break;
    case OCCAM_IMP_OBD:
        if (gradient_stats(p, m, tr, train, err) != OCCAM_OK) return OCCAM_ERR_RUNTIME;
        for (size_t i = 0; i < n; i++) {
            s[i] = w[i] * w[i] * p->g2sum[i];
            /* w² past float's range times a gradient of exactly 0 (a dead unit's in-weight)
             * is inf·0 = NaN, which check_scores took for overflowed gradients: in double it
             * is the 0 it is. Every other score keeps its float bits. */
            if (isnan(s[i]) && !isnan(w[i]) && !isnan(p->g2sum[i]))
                s[i] = (float)((double)w[i] * w[i] * p->g2sum[i]);
        }
        break;
    case OCCAM_IMP_SNR:
        /* signal-to-noise of noisy weights: |μ| / σ, σ = softplus(ρ) */
        for (size_t i = 0; i < n; i++) {
            double sg = m->rho ? (m->rho[i] > 20 ? m->rho[i] : log1p(exp(m->rho[i]))) : 1.0;
            s[i] = (float)(fabs(w[i]) / (sg > 1e-30 ? sg : 1e-30));
        }
        break;
    case OCCAM_IMP_RANDOM: {
        occam_rng r = occam_rng_seed(p->prm.seed, 0x72616e64ull + (uint64_t)p->events);
        for (size_t i = 0; i < n; i++) s[i] = (float)occam_rng_uniform(&r);
        break;
    }
    }
    if (m->mask)
        for (size_t i = 0; i < n; i++)
            if (!m->mask[i]) s[i] = -1.0f;
    return OCCAM_OK;
}

/* NaN scores of finite weights: the gradients taylor and obd average overflowed on the
 * training rows (a run near divergence; a 42-unit net at lr 100). They reached the selection,
 * which refused them as bad input: 'select: score NaN at segment 7 index 17', exit 2. */
static int check_scores(const occam_pruner *p, const occam_model *m, occam_error *err)
{
    const occam_layout *lay = &m->lay;
    /* only weight granularity prunes biases (nm keeps N of M inputs in each row) */
    const bool bias = p->prm.bias && p->prm.granularity == OCCAM_GRAN_WEIGHT;
    for (int l = 0; l < lay->nlayers; l++) {
        size_t nw = (size_t)lay->width[l] * lay->width[l + 1], nb = (size_t)lay->width[l + 1];
        bool bad = false;
        for (size_t i = 0; i < nw && !bad; i++) bad = isnan(p->score[lay->w_off[l] + i]);
        for (size_t i = 0; bias && i < nb && !bad; i++)
            bad = isnan(p->score[lay->b_off[l] + i]);
        if (bad)
            return occam_error_set(err, OCCAM_ERR_RUNTIME,
                                   "training diverged: layer %d's importance scores are NaN at "
                                   "prune step %d (the gradients they average overflow float32 "
                                   "on the training rows); try a smaller train.lr",
                                   l, p->events + 1);
    }
    return OCCAM_OK;
}

/* ---- weight granularity ----------------------------------------------------------------- */

typedef struct segs {
    const float *score[2 * OCCAM_MAX_LAYERS];
    uint8_t *mask[2 * OCCAM_MAX_LAYERS];
    size_t len[2 * OCCAM_MAX_LAYERS];
    int layer[2 * OCCAM_MAX_LAYERS];
    int n;
} segs;

static void add_layer(segs *s, const occam_pruner *p, occam_model *m, int l)
{
    const occam_layout *lay = &m->lay;
    s->score[s->n] = p->score + lay->w_off[l];
    s->mask[s->n] = m->mask + lay->w_off[l];
    s->len[s->n] = (size_t)lay->width[l] * lay->width[l + 1];
    s->layer[s->n++] = l;
    if (p->prm.bias) {
        s->score[s->n] = p->score + lay->b_off[l];
        s->mask[s->n] = m->mask + lay->b_off[l];
        s->len[s->n] = (size_t)lay->width[l + 1];
        s->layer[s->n++] = l;
    }
}

static uint64_t seg_total(const segs *s)
{
    uint64_t n = 0;
    for (int i = 0; i < s->n; i++) n += s->len[i];
    return n;
}

/* Entries the segments keep (mask 1). */
static uint64_t seg_live(const segs *s)
{
    uint64_t n = 0;
    for (int i = 0; i < s->n; i++)
        for (size_t j = 0; j < s->len[i]; j++) n += s->mask[i][j];
    return n;
}

/* Entries pruned before this prune step: their score is -1 (compute_scores), below every live
 * entry's. Masks set by this step's earlier rounds (global scope's min_keep) are not counted. */
static uint64_t seg_pruned(const segs *s)
{
    uint64_t n = 0;
    for (int i = 0; i < s->n; i++)
        for (size_t j = 0; j < s->len[i]; j++) n += s->score[i][j] < 0.0f;
    return n;
}

/* Prunes exactly k of the segments' entries (the k lowest scores, ties by position), or all
 * that were pruned before this step when more were: they stay pruned (the sparse prior masks
 * more than a prune target may ask; selecting fewer would unmask some and train them again
 * from zero). *done (if not NULL): how many are pruned. */
static int select_and_mask(const segs *s, uint64_t k, int threads, uint64_t *done,
                           occam_error *err)
{
    uint64_t pruned = seg_pruned(s);
    if (k < pruned) k = pruned;
    if (done) *done = k;
    occam_select_result r;
    int rc = occam_select(s->score, s->len, s->n, k, threads, &r, err);
    if (rc != OCCAM_OK) return rc;
    uint64_t zeros = occam_select_mask((uint8_t *const *)s->mask, s->score, s->len, s->n, &r,
                                       threads);
    OCCAM_ASSERT(zeros == k);
    return OCCAM_OK;
}

/* Layer l's cumulative target: its prune.layer_targets entry, ramped like prune.target, or the
 * global target for -1. With prune.target > 0 the ramp is target / prune.target, as it always
 * was (the same masks, bit for bit); with 0 that ratio is 0/0, and it was skipped, so the first
 * step went all the way: the schedule's own progress ramps it then. */
static double layer_target(const occam_prune_params *prm, int l, double target, double progress)
{
    if (prm->nlayer_target > l && prm->layer_target[l] >= 0.0)
        return prm->target > 0.0 ? prm->layer_target[l] * (target / prm->target)
                                 : prm->layer_target[l] * progress;
    return target;
}

/* Keeps at least min_keep entries of layer l's segments: how many may be pruned. */
static uint64_t max_prunable(const occam_prune_params *prm, uint64_t n)
{
    uint64_t keep = (uint64_t)prm->min_keep;
    return n > keep ? n - keep : 0;
}

static int prune_weights(occam_pruner *p, occam_model *m, double target, double progress,
                         occam_error *err)
{
    const occam_prune_params *prm = &p->prm;
    int L = m->lay.nlayers;
    if (prm->scope == OCCAM_SCOPE_LAYER) {
        for (int l = 0; l < L; l++) {
            segs s = {0};
            add_layer(&s, p, m, l);
            uint64_t n = seg_total(&s);
            uint64_t k = occam_select_count(layer_target(prm, l, target, progress), n);
            if (k > max_prunable(prm, n)) k = max_prunable(prm, n);
            int rc = select_and_mask(&s, k, p->threads, NULL, err);
            if (rc != OCCAM_OK) return rc;
        }
        return OCCAM_OK;
    }
    /* Global: one threshold. A layer that would keep fewer than min_keep is fixed at exactly
     * min_keep (pruned on its own) and the rest re-selected without it, until none violates. */
    bool fixed[OCCAM_MAX_LAYERS] = {0};
    uint64_t total = 0;
    for (int l = 0; l < L; l++) {
        segs s = {0};
        add_layer(&s, p, m, l);
        total += seg_total(&s);
    }
    uint64_t k = occam_select_count(target, total);
    for (int round = 0; round <= L; round++) {
        segs s = {0};
        uint64_t kk = k;
        for (int l = 0; l < L; l++) {
            if (!fixed[l]) {
                add_layer(&s, p, m, l);
                continue;
            }
            segs one = {0};
            add_layer(&one, p, m, l);
            uint64_t cut;
            int rc = select_and_mask(&one, max_prunable(prm, seg_total(&one)), p->threads, &cut,
                                     err);
            if (rc != OCCAM_OK) return rc;
            kk = kk > cut ? kk - cut : 0;
        }
        if (s.n == 0) return OCCAM_OK;
        uint64_t avail = seg_total(&s);
        int rc = select_and_mask(&s, kk < avail ? kk : avail, p->threads, NULL, err);
        if (rc != OCCAM_OK) return rc;
        bool again = false;
        for (int l = 0; l < L; l++) {
            if (fixed[l]) continue;
            segs one = {0};
            add_layer(&one, p, m, l);
            uint64_t live = seg_live(&one);
            if (live < (uint64_t)prm->min_keep && live < seg_total(&one)) {
                fixed[l] = true;
                again = true;
            }
        }
        if (!again) return OCCAM_OK;
    }
    return OCCAM_OK;
}

/* ---- N:M granularity -------------------------------------------------------------------- */

/* In every row, each group of M consecutive inputs keeps its N highest scores (ties: lower
 * index kept); a short last group keeps min(N, its length). Pruned weights stay pruned. */
static void prune_nm(occam_pruner *p, occam_model *m)
{
    int N = p->prm.nm_n, M = p->prm.nm_m;
    for (int l = 0; l < m->lay.nlayers; l++) {
        int in = m->lay.width[l], out = m->lay.width[l + 1];
        for (int o = 0; o < out; o++) {
            size_t row = m->lay.w_off[l] + (size_t)o * in;
            for (int g = 0; g < in; g += M) {
                int len = in - g < M ? in - g : M;
                const float *sc = p->score + row + g;
                uint8_t *mk = m->mask + row + g;
                /* rank = number of entries that beat this one; keep rank < N */
                for (int i = 0; i < len; i++) {
                    int rank = 0;
                    for (int j = 0; j < len; j++)
                        rank += sc[j] > sc[i] || (sc[j] == sc[i] && j < i);
                    if (rank >= N || sc[i] < 0.0f) mk[i] = 0;
                }
            }
        }
    }
}

/* ---- neuron granularity ----------------------------------------------------------------- */

static int prune_neurons(occam_pruner *p, occam_model *m, occam_trainer *tr, double target,
                         double progress, occam_error *err)
{
    const occam_prune_params *prm = &p->prm;
    occam_layout old = m->lay;
    int L = old.nlayers;
    /* Score of unit j of hidden layer h: L2 norm of its incoming row (W_{h-1}[j,:], b) and
     * outgoing column (W_h[:, j]). */
    int hidden = 0;
    for (int h = 1; h < L; h++) hidden += old.width[h];
    float *us = malloc(sizeof(float) * (size_t)hidden);
    double *norm = malloc(sizeof(double) * (size_t)hidden); /* us before rounding to float */
    uint8_t *keepbuf = malloc((size_t)hidden);
    if (!us || !norm || !keepbuf) {
        free(us);
        free(norm);
        free(keepbuf);
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory for neuron scores");
    }
    const float *w = m->params;
    for (int h = 1, u = 0; h < L; h++) {
        int in = old.width[h - 1], out = old.width[h + 1];
        for (int j = 0; j < old.width[h]; j++, u++) {
            double ss = (double)w[old.b_off[h - 1] + j] * w[old.b_off[h - 1] + j];
            for (int i = 0; i < in; i++) {
                double v = w[old.w_off[h - 1] + (size_t)j * in + i];
                ss += v * v;
            }
            for (int o = 0; o < out; o++) {
                double v = w[old.w_off[h] + (size_t)o * old.width[h] + j];
                ss += v * v;
            }
            norm[u] = sqrt(ss);
            us[u] = (float)norm[u];
        }
    }
    /* Norms of units with different fan-in and fan-out are not comparable (He-initialised
     * units of a narrow layer all have smaller norms): one global threshold over raw norms
     * empties whole layers. Globally, a unit is scored relative to its layer's mean.
     * A norm beyond float's range (finite weights near FLT_MAX, which a dead unit keeps while
     * the loss stays finite) is +inf in us, and so is its layer's mean: inf / inf made the
     * score NaN, which the selection refused as bad input (exit 2). Such a layer's ratios are
     * taken from the norms in double, where they are finite; other layers keep their bits. */
    if (prm->scope == OCCAM_SCOPE_GLOBAL)
        for (int h = 1, u = 0; h < L; u += old.width[h], h++) {
            double mean = 0;
            for (int j = 0; j < old.width[h]; j++) mean += us[u + j];
            mean /= old.width[h];
            const bool wide = isinf(mean);
            if (wide) {
                mean = 0;
                for (int j = 0; j < old.width[h]; j++) mean += norm[u + j];
                mean /= old.width[h];
            }
            for (int j = 0; mean > 0 && j < old.width[h]; j++)
                us[u + j] = (float)((wide ? norm[u + j] : us[u + j]) / mean);
        }
    /* How many units must be gone in all: the target is cumulative against the dense model. */
    uint64_t gone_total = occam_select_count(target, (uint64_t)p->dense_hidden);
    uint64_t already = (uint64_t)(p->dense_hidden - hidden);
    uint64_t k = gone_total > already ? gone_total - already : 0;
    memset(keepbuf, 1, (size_t)hidden);
    int rc = OCCAM_OK;
    if (prm->scope == OCCAM_SCOPE_LAYER) {
        for (int h = 1, u = 0; h < L && rc == OCCAM_OK; u += old.width[h], h++) {
            /* the target is cumulative against the layer's dense width */
            uint64_t n = (uint64_t)old.width[h], dense = (uint64_t)p->dense_width[h];
            uint64_t gone = occam_select_count(layer_target(prm, h - 1, target, progress), dense);
            uint64_t kh = gone > dense - n ? gone - (dense - n) : 0;
            uint64_t lim = max_prunable(prm, n) < n - 1 ? max_prunable(prm, n) : n - 1;
            kh = kh > lim ? lim : kh;
            const float *sg[1] = {us + u};
            uint8_t *mk[1] = {keepbuf + u};
            size_t ln[1] = {(size_t)n};
            occam_select_result r;
            rc = occam_select(sg, ln, 1, kh, 1, &r, err);
            if (rc == OCCAM_OK) occam_select_mask(mk, sg, ln, 1, &r, 1);
        }
    } else {
        const float *sg[OCCAM_MAX_LAYERS];
        uint8_t *mk[OCCAM_MAX_LAYERS];
        size_t ln[OCCAM_MAX_LAYERS];
        for (int h = 1, u = 0; h < L; u += old.width[h], h++) {
            sg[h - 1] = us + u;
            mk[h - 1] = keepbuf + u;
            ln[h - 1] = (size_t)old.width[h];
        }
        uint64_t lim = (uint64_t)hidden - (uint64_t)(L - 1); /* one unit per layer survives */
        occam_select_result r;
        rc = occam_select(sg, ln, L - 1, k < lim ? k : lim, 1, &r, err);
        if (rc == OCCAM_OK) occam_select_mask(mk, sg, ln, L - 1, &r, 1);
        /* min_keep (in units), and at least one unit in every layer: put back the best units
         * of a layer that fell below it. The cap above keeps L - 1 units in all, not one per
         * layer: at the default target 0.9, a 2-unit layer beside a 64-unit one lost both
         * (model 4-0-7-3), and the file train saved had a layer of width 0, which every
         * command refused. */
        const int64_t want = prm->min_keep > 1 ? prm->min_keep : 1;
        for (int h = 1, u = 0; h < L; u += old.width[h], h++) {
            int live = 0;
            for (int j = 0; j < old.width[h]; j++) live += keepbuf[u + j];
            while (live < want && live < old.width[h]) {
                int best = -1;
                for (int j = 0; j < old.width[h]; j++)
                    if (!keepbuf[u + j] && (best < 0 || us[u + j] > us[u + best])) best = j;
                keepbuf[u + best] = 1;
                live++;
            }
        }
    }
    if (rc == OCCAM_OK) {
        const uint8_t *keep[OCCAM_MAX_LAYERS] = {0};
        int width[OCCAM_MAX_LAYERS];
        width[0] = old.width[0];
        width[L] = old.width[L];
        for (int h = 1, u = 0; h < L; u += old.width[h], h++) {
            keep[h] = keepbuf + u;
            width[h] = 0;
            for (int j = 0; j < old.width[h]; j++) width[h] += keepbuf[u + j];
        }
        occam_layout_init(&m->lay, width, L + 1);
        occam_layout_compact(m->params, sizeof(float), &old, &m->lay, keep);
        if (m->mask) occam_layout_compact(m->mask, 1, &old, &m->lay, keep);
        occam_trainer_relayout(tr, &old, keep);
    }
    free(us);
    free(norm);
    free(keepbuf);
    return rc;
}

/* ---- what a step aimed at, and what it reached ---------------------------------------- */

/* A prune step's aim in its target's units (the prunable entries, or hidden units for neuron):
 * the fraction `target`, the count `want` of `total` it asks pruned, the count `got` pruned
 * after it. */
typedef struct aim {
    double target;
    uint64_t want, got, total;
} aim;

/* Per-layer targets t over layers of n entries: their mean weighted by n, written as the global
 * target plus the layers' weighted differences from it, so that layers without an override
 * give exactly the global target. */
static void aim_layers(aim *a, const uint64_t *n, const double *t, int count, double target)
{
    double excess = 0;
    for (int i = 0; i < count; i++) {
        a->total += n[i];
        a->want += occam_select_count(t[i], n[i]);
        excess += (t[i] - target) * (double)n[i];
    }
    a->target = a->total ? target + excess / (double)a->total : target;
}

/* nm aims at 1 - N/M of the weights in every row, whatever prune.target says. */
static aim aim_nm(const occam_pruner *p, const occam_model *m)
{
    aim a = {.target = (double)(p->prm.nm_m - p->prm.nm_n) / (double)p->prm.nm_m};
    for (int l = 0; l < m->lay.nlayers; l++) {
        uint64_t n = (uint64_t)m->lay.width[l] * (uint64_t)m->lay.width[l + 1];
        a.total += n;
        a.got += n - occam_model_active_weights(m, l);
    }
    a.want = occam_select_count(a.target, a.total);
    return a;
}

/* Weights (and biases) of each layer, or the units of each hidden layer against its dense
 * width, at the layer's target (layer scope) or the global one. */
static aim step_aim(const occam_pruner *p, occam_model *m, double target, double progress)
{
    const occam_prune_params *prm = &p->prm;
    if (prm->granularity == OCCAM_GRAN_NM) return aim_nm(p, m);
    const bool neuron = prm->granularity == OCCAM_GRAN_NEURON;
    const int count = neuron ? m->lay.nlayers - 1 : m->lay.nlayers;
    uint64_t n[OCCAM_MAX_LAYERS];
    double t[OCCAM_MAX_LAYERS];
    aim a = {0};
    for (int l = 0; l < count; l++) {
        t[l] = prm->scope == OCCAM_SCOPE_LAYER ? layer_target(prm, l, target, progress) : target;
        if (neuron) {
            n[l] = (uint64_t)p->dense_width[l + 1];
            a.got += n[l] - (uint64_t)m->lay.width[l + 1];
            continue;
        }
        segs s = {0};
        add_layer(&s, p, m, l);
        n[l] = seg_total(&s);
        a.got += n[l] - seg_live(&s);
    }
    aim_layers(&a, n, t, count, target);
    if (prm->scope == OCCAM_SCOPE_GLOBAL) a.want = occam_select_count(target, a.total);
    return a;
}

/* What a step's target counts. */
static const char *aim_units(const occam_prune_params *prm)
{
    if (prm->granularity == OCCAM_GRAN_NEURON) return "hidden units";
    return prm->bias && prm->granularity == OCCAM_GRAN_WEIGHT ? "weights and biases" : "weights";
}

/* Why a step pruned fewer than it aimed at: the one limit each granularity has. */
static void shortfall_why(const occam_pruner *p, const occam_model *m, char *buf, size_t cap)
{
    const occam_prune_params *prm = &p->prm;
    int len = 0;
    switch (prm->granularity) {
    case OCCAM_GRAN_WEIGHT:
        snprintf(buf, cap, "prune.min_keep = %lld keeps that many %s in every layer (all of a "
                 "smaller one)", (long long)prm->min_keep, aim_units(prm));
        return;
    case OCCAM_GRAN_NEURON:
        if (prm->min_keep > 1) {
            snprintf(buf, cap, "prune.min_keep = %lld keeps that many units in every hidden "
                     "layer (all of a narrower one)", (long long)prm->min_keep);
            return;
        }
        len = snprintf(buf, cap, "every hidden layer keeps at least one unit (model.layers = ");
        for (int l = 0; l <= m->lay.nlayers && len >= 0 && (size_t)len < cap; l++)
            len += snprintf(buf + len, cap - (size_t)len, "%d%s", p->dense_width[l],
                            l < m->lay.nlayers ? "," : ")");
        return;
    case OCCAM_GRAN_NM:
        len = snprintf(buf, cap, "prune.nm = %d:%d keeps min(%d, g) of a group of g < %d inputs:",
                       prm->nm_n, prm->nm_m, prm->nm_n, prm->nm_m);
        for (int l = 0, first = 1; l < m->lay.nlayers && len >= 0 && (size_t)len < cap; l++) {
            int in = m->lay.width[l], g = in % prm->nm_m;
            if (g == 0) continue;
            len += snprintf(buf + len, cap - (size_t)len, "%s layer %d's rows ", first ? "" : ";",
                            l);
            if (len >= 0 && (size_t)len < cap)
                len += in < prm->nm_m
                           ? snprintf(buf + len, cap - (size_t)len, "have %d inputs", in)
                           : snprintf(buf + len, cap - (size_t)len,
                                      "(%d inputs) end in a group of %d", in, g);
            first = 0;
        }
        return;
    }
}

/* p->note: what the step reached and why, when it fell short of its aim. */
static void note_shortfall(occam_pruner *p, const occam_model *m, const aim *a)
{
    p->note[0] = '\0';
    if (a->got >= a->want) return;
    char why[OCCAM_PRUNE_NOTE_MAX / 2];
    shortfall_why(p, m, why, sizeof why);
    snprintf(p->note, sizeof p->note, "prune step %d pruned %.4f of the %s (%llu of %llu), "
             "short of the %.4f it aimed at (%llu): %s", p->events, (double)a->got /
             (double)a->total, aim_units(&p->prm), (unsigned long long)a->got,
             (unsigned long long)a->total, a->target, (unsigned long long)a->want, why);
}

int occam_prune_to(occam_pruner *p, occam_model *m, occam_trainer *tr,
                   const occam_dataset *train, double target, double progress,
                   occam_prune_event *ev, occam_error *err)
{
    double t0 = occam_clock_now();
    const occam_prune_params *prm = &p->prm;
    p->threads = occam_trainer_threads(tr);
    int rc = OCCAM_OK;
    /* Weights gone NaN under a finite loss (dead ReLU units) between the epoch ends that
     * check them: agp prunes mid-epoch, and NaN scores reached the selection, which refused
     * them with 'select: score NaN at segment 4 index 256' (exit 2, as if bad input). */
    char when[32];
    snprintf(when, sizeof when, "at prune step %d", p->events + 1);
    rc = occam_model_check_finite(m, "are", when, NULL, err);
    if (rc != OCCAM_OK) return rc;
    if (prm->granularity == OCCAM_GRAN_NEURON) {
        rc = prune_neurons(p, m, tr, target, progress, err);
    } else {
        rc = occam_model_mask_enable(m, err);
        /* agreed, as the minibatch is: the scores' gradient pass is a collective */
        if (occam_comm_max_int(occam_trainer_comm(tr), rc != OCCAM_OK) && rc == OCCAM_OK)
            rc = occam_error_set(err, OCCAM_ERR_RUNTIME, "another rank ran out of memory for "
                                 "its mask");
        if (rc == OCCAM_OK) rc = compute_scores(p, m, tr, train, err);
        if (rc == OCCAM_OK) rc = check_scores(p, m, err);
        if (rc == OCCAM_OK && prm->granularity == OCCAM_GRAN_NM)
            prune_nm(p, m);
        else if (rc == OCCAM_OK)
            rc = prune_weights(p, m, target, progress, err);
        if (rc == OCCAM_OK) occam_trainer_apply_mask(tr);
    }
    p->events++;
    ev->select_seconds = occam_clock_now() - t0;
    ev->target = target;
    if (rc == OCCAM_OK) {
        aim a = step_aim(p, m, target, progress);
        ev->target = a.target;
        note_shortfall(p, m, &a);
    }
    int64_t active = 0;
    int hidden = 0;
    for (int l = 0; l < m->lay.nlayers; l++) active += (int64_t)occam_model_active_weights(m, l);
    for (int h = 1; h < m->lay.nlayers; h++) hidden += m->lay.width[h];
    ev->weights_active = active;
    ev->hidden_units = hidden;
    return rc;
}

/* prune.layer_targets' entries: -1 (prune.target) or a sparsity in [0, 1); -0.5 was taken as
 * -1. Under neuron granularity the last entry, the output layer's, whose units are never
 * removed, was ignored: it must say nothing (-1 or 0). */
static int check_layer_targets(const occam_prune_params *p, occam_error *err)
{
    for (int i = 0; i < p->nlayer_target; i++)
        if (p->layer_target[i] < 0.0 && p->layer_target[i] != -1.0)
            return occam_error_set(err, OCCAM_ERR_INPUT,
                                   "prune.layer_targets: entry %d (%g) is negative but not -1; "
                                   "an entry is a sparsity in [0, 1), or -1 for prune.target",
                                   i + 1, p->layer_target[i]);
    int last = p->nlayer_target - 1;
    if (p->granularity == OCCAM_GRAN_NEURON && p->scope == OCCAM_SCOPE_LAYER && last >= 0 &&
        p->layer_target[last] != -1.0 && p->layer_target[last] != 0.0)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "prune.layer_targets: entry %d (%g) is the output layer's, whose "
                               "units prune.granularity = neuron never removes (entry i is the "
                               "units of hidden layer i); set it to -1 or 0",
                               last + 1, p->layer_target[last]);
    return OCCAM_OK;
}

int occam_prune_check(const occam_prune_params *p, const int *layers, int nlayers, int epochs,
                      bool noise_enabled, occam_error *err)
{
    int nw = nlayers - 1; /* weight layers */
    if (p->schedule == OCCAM_PRUNE_AGP && p->end < p->start)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "prune.end: %d is before prune.start = %d (the agp ramp runs "
                               "from start to end)",
                               p->end, p->start);
    int nt = p->nlayer_target;
    if (nt != 0 && nt != nw)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "prune.layer_targets: %d entr%s, model.layers has %d weight "
                               "layer%s",
                               nt, nt == 1 ? "y" : "ies", nw, nw == 1 ? "" : "s");
    if (p->granularity == OCCAM_GRAN_NEURON && nlayers == 2)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "prune.granularity: neuron needs a hidden layer (model.layers = "
                               "%d,%d has none)",
                               layers[0], layers[1]);
    int rc = check_layer_targets(p, err);
    if (rc != OCCAM_OK) return rc;
    if (p->rewind == OCCAM_REWIND_EPOCH && p->rewind_epoch > epochs)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "prune.rewind: epoch:%d is after the last training epoch "
                               "(train.epochs = %d)",
                               p->rewind_epoch, epochs);
    if (p->method == OCCAM_IMP_SNR && !noise_enabled && p->schedule != OCCAM_PRUNE_NONE)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "prune.method: snr needs noisy weights (noise.enabled = true)");
    if (noise_enabled && p->granularity == OCCAM_GRAN_NEURON && p->schedule != OCCAM_PRUNE_NONE)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "noise.enabled: not supported with prune.granularity = neuron");
    if (p->schedule == OCCAM_PRUNE_MDL && p->granularity == OCCAM_GRAN_NEURON)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "prune.schedule: mdl keeps the best model of the run, which needs "
                               "one layout (use prune.granularity = weight or nm)");
    return OCCAM_OK;
}

int occam_prune_check_late(const occam_prune_params *p, occam_error *err)
{
    if (p->rewind != OCCAM_REWIND_NONE && p->granularity == OCCAM_GRAN_NEURON &&
        p->schedule != OCCAM_PRUNE_NONE)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "prune.rewind: not supported with prune.granularity = neuron "
                               "(the snapshot has the dense layers)");
    return OCCAM_OK;
}
