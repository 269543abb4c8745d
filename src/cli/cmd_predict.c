/* `occam predict`: batch prediction with a saved model on new rows.
 *
 * The input is either an IDX file of unsigned bytes (an images file such as
 * t10k-images-idx3-ubyte, or any records × features file of 2 to 4 dims) or a numeric CSV,
 * gzipped or raw, told apart by the IDX magic. Both go through data/'s readers in their
 * features-only mode, so a bad file gets the same message, naming the file and its line (CSV)
 * or record (IDX), as bad training data. A CSV row holds the features alone when it has as many
 * cells as the model has inputs; with one more cell, the column data.label names is taken to be
 * the label (or target) and dropped, so the config's own test file can be fed in unchanged.
 * data.header decides the header row, as for training.
 *
 * The rows are normalised exactly as the training data was: occam scales with statistics of
 * the training set, so the training set is loaded without normalisation and
 * occam_data_normalize applies its statistics to the input (skipped when data.normalize =
 * none). Likewise a regression model trained on standardised targets (data.normalize_targets)
 * predicts in standardised units: the same load gives the training targets' statistics, and
 * the outputs are converted back to the targets' original units. The model runs on the sparse
 * inference engine, which picks CSR or dense per layer.
 *
 * Output is CSV with a header: classification writes `label,p_0,...,p_{k-1}` (the argmax and
 * the softmax probabilities), regression `y_0,...,y_{k-1}`. A bad input file is exit 2. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "occam/comm.h"
#include "occam/checkpoint.h"
#include "occam/data.h"
#include "occam/gemm.h"
#include "occam/mem.h"
#include "occam/model.h"
#include "occam/outfile.h"
#include "occam/sparse.h"

static const char usage[] =
    "usage: occam predict CONFIG --checkpoint FILE --input FILE [--output FILE]\n"
    "                     [--set section.key=value]... [--threads N]\n"
    "\n"
    "Predicts with the weights in FILE (as written by 'occam train --save') on the rows of\n"
    "--input: an IDX file of unsigned bytes (e.g. t10k-images-idx3-ubyte[.gz]) or a numeric CSV\n"
    "whose rows are the features, optionally with the label column data.label names (it is\n"
    "skipped unread: NA or blank for unknown outcomes). Rows are normalised with the training\n"
    "set's statistics, as in training, and regression outputs are in the targets' original\n"
    "units (data.normalize_targets).\n"
    "Writes CSV to --output (default stdout): 'label,p_0,...,p_{k-1}' per row for\n"
    "classification (the predicted class and the softmax probabilities), 'y_0,...' for\n"
    "regression.\n";


/* ---- input ------------------------------------------------------------------------------ */

/* CSV rows of inputs + 1 cells carry a label (or target) column, data.label's, which the
 * reader skips unread (occam_csv_opts.skip), so the config's own test file can be fed in
 * unchanged, and so can new rows whose outcome is unknown (NA, blank). dropped (cap bytes)
 * says which column went, for a later message that the rest do not line up ("" when none
 * did). */
static int predict_dropped_label(const char *path, int inputs, const occam_dataset *in,
                                 char *dropped, size_t cap, occam_error *err)
{
    dropped[0] = 0;
    /* rows of inputs + 1 cells had the column skipped, or refused by the reader when
     * data.label is past them: any other width is no fit */
    if (in->d != (size_t)inputs)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "%s: rows have %zu cells, but the model takes %d inputs "
                               "(model.layers; %d with a label column)",
                               path, in->d, inputs, inputs + 1);
    if (!in->label_col) return OCCAM_OK;
    const char *name = in->label_name;
    char q[4 * 40 + 4] = "";
    if (name) occam_error_quote(q, sizeof q, name, strlen(name), 40);
    snprintf(dropped, cap, "its column %zu%s%s%s was dropped as data.label's, the rows having "
             "one cell more than the model's %d inputs", in->label_col, name ? " (\"" : "", q,
             name ? "\")" : "", inputs);
    return OCCAM_OK;
}

/* IDX when the (decompressed) data opens with an IDX magic, CSV otherwise; either way data/'s
 * reader in its features-only mode, on one read of the input, so it may be a pipe. */
static int predict_read(const char *path, const occam_config *cfg, int inputs, occam_dataset *in,
                        char *dropped, size_t cap, occam_error *err)
{
    dropped[0] = 0;
    bool idx = false;
    int rc = occam_features_load(in, path, cfg->data.header, cfg->data.label,
                                 cfg->data.label_name, (size_t)inputs + 1, &idx, err);
    if (rc == OCCAM_OK && idx && in->d != (size_t)inputs)
        rc = occam_error_set(err, OCCAM_ERR_INPUT,
                             "%s: records of %zu values, but the model takes %d inputs "
                             "(model.layers)",
                             path, in->d, inputs);
    if (rc == OCCAM_OK && !idx)
        rc = predict_dropped_label(path, inputs, in, dropped, cap, err);
    /* data.label's name among the features: the label stands where an input should (x1,price
     * for a model of x1,x2 ran on, with a note of other names) */
    /* (one pass over the names: a lookup per column took 35 s at 100,000 columns) */
    size_t at = rc == OCCAM_OK && !idx && cfg->data.label == OCCAM_LABEL_NAMED
                    ? occam_dataset_find_column(in, cfg->data.label_name)
                    : SIZE_MAX;
    if (at != SIZE_MAX) {
        char q[4 * 40 + 4];
        occam_error_quote(q, sizeof q, cfg->data.label_name, strlen(cfg->data.label_name), 40);
        rc = occam_error_set(err, OCCAM_ERR_INPUT,
                             "%s: column %zu is named \"%s\", data.label's, but the rows have "
                             "only the model's %d inputs: the label stands where an input "
                             "should; give the file the training data's columns",
                             path, at + 1, q, inputs);
    }
    if (rc == OCCAM_OK) cli_note_csv("--input", path, in);
    if (rc != OCCAM_OK) occam_dataset_free(in);
    return rc;
}

/* Applies the training set's normalisation to the input: loads the training data with raw
 * features and lets occam_data_normalize carry its statistics over. The loaded set stays in
 * *train for its target statistics (left empty when there is nothing to carry over). The
 * input's columns are checked against it (occam_data_check_columns; a refusal says which column
 * was dropped as the label, dropped, when one was); without scaling it is
 * loaded for that check alone when the input has a header or an image grid, and a training
 * set that cannot be read then only says that the check was not made. */
static int predict_normalize(const occam_config *cfg, const char *path, const char *dropped,
                             occam_dataset *in, occam_dataset *train, occam_error *err)
{
    *train = (occam_dataset){0};
    bool targets = cfg->data.task == OCCAM_TASK_REGRESS && cfg->data.normalize_targets;
    bool scaled = cfg->data.normalize != OCCAM_NORM_NONE || targets;
    bool layout = (in->names || in->grid_w > 0) && (cfg->data.source == OCCAM_SOURCE_CSV ||
                                                     cfg->data.source == OCCAM_SOURCE_IDX);
    bool root = occam_comm_is_root(occam_comm_world());
    if (!scaled && !layout) return OCCAM_OK;
    occam_config raw = *cfg;
    raw.data.normalize = OCCAM_NORM_NONE;
    occam_dataset test;
    int rc = occam_data_load(&raw.data, occam_config_inputs(&raw), occam_config_outputs(&raw),
                             train, &test, err);
    if (rc != OCCAM_OK && !scaled) {
        if (root)
            fprintf(stderr, "occam: note: %s's columns are not checked against the training "
                    "data's: %s\n", path, err->msg);
        err->msg[0] = 0;
        return OCCAM_OK;
    }
    if (rc != OCCAM_OK) return rc;
    occam_dataset_free(&test);
    OCCAM_ASSERT(train->d == in->d); /* both match model.layers[0] */
    /* the training data is here: the input's columns must line up with it */
    char note[OCCAM_ERROR_MAX];
    rc = occam_data_check_columns(train, cfg->data.source == OCCAM_SOURCE_CSV ? cfg->data.train
                                                                              : cfg->data.path,
                                  in, path, note, sizeof note, err);
    if (rc != OCCAM_OK && dropped[0]) { /* the label's drop may be what put them out of line */
        char msg[OCCAM_ERROR_MAX];
        memcpy(msg, err->msg, sizeof msg);
        occam_error_set(err, rc, "%s (%s)", msg, dropped);
    }
    if (rc != OCCAM_OK) return rc;
    if (note[0] && root) fprintf(stderr, "occam: note: %s\n", note);
    if (!scaled) {
        occam_dataset_free(train); /* *train stays empty: nothing to carry over */
        return OCCAM_OK;
    }
    occam_data_normalize(train, in, cfg->data.normalize);
    return occam_data_check_normalized(in, cfg->data.normalize, path, 0, err);
}

/* ---- output ------------------------------------------------------------------------------ */

static void predict_write_rows(FILE *f, const float *y, size_t n, int k, bool classify)
{
    for (int j = 0; j < k; j++)
        fprintf(f, "%s%s_%d", j ? "," : (classify ? "label," : ""), classify ? "p" : "y", j);
    fputc('\n', f);
    for (size_t i = 0; i < n; i++) {
        const float *yi = y + i * (size_t)k;
        if (!classify) {
            for (int j = 0; j < k; j++) fprintf(f, "%s%.9g", j ? "," : "", yi[j]);
            fputc('\n', f);
            continue;
        }
        int arg = occam_sparse_argmax(yi, k);
        double s = 0.0;
        for (int j = 0; j < k; j++) s += exp((double)yi[j] - yi[arg]);
        fprintf(f, "%d", arg);
        for (int j = 0; j < k; j++) fprintf(f, ",%.6g", exp((double)yi[j] - yi[arg]) / s);
        fputc('\n', f);
    }
}

/* Every output is finite, or OCCAM_ERR_INPUT naming the first row that is not: values that are
 * finite floats can still overflow through the layers (3e38 under data.normalize = none),
 * and the logits inf - inf then made the row's probabilities NaN, printed with exit 0. */
static int predict_check(const char *input, const float *y, size_t n, int k, occam_error *err)
{
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < k; j++)
            if (!isfinite(y[i * (size_t)k + j]))
                return occam_error_set(err, OCCAM_ERR_INPUT, "%s: data row %zu: the model's "
                                       "output %d is not finite (%g): the row's values or the "
                                       "model's weights overflow float32 in its layers",
                                       input, i + 1, j, (double)y[i * (size_t)k + j]);
    return OCCAM_OK;
}

/* To --output through occam/outfile.h, so a failed write leaves no partial file; or to stdout. */
static int predict_write(const char *path, const float *y, size_t n, int k, bool classify,
                         occam_error *err)
{
    if (!path) {
        predict_write_rows(stdout, y, n, k, classify);
        if (fflush(stdout) != 0 || ferror(stdout))
            return occam_error_set(err, OCCAM_ERR_RUNTIME, "stdout: write failed: %s",
                                   strerror(errno ? errno : EIO));
        return OCCAM_OK;
    }
    occam_outfile out;
    int rc = occam_outfile_open(&out, path, err);
    if (rc) return rc;
    predict_write_rows(out.f, y, n, k, classify);
    return occam_outfile_commit(&out, err);
}

/* ---- the command ------------------------------------------------------------------------- */

static int run(const cli_opts *o, occam_error *err)
{
    if (!o->checkpoint)
        return occam_error_set(err, OCCAM_ERR_INPUT, "predict: missing --checkpoint FILE");
    if (!o->input) return occam_error_set(err, OCCAM_ERR_INPUT, "predict: missing --input FILE");
    occam_config cfg;
    int threads;
    int rc = cli_setup(o, &cfg, &threads, err);
    if (rc == OCCAM_OK && o->output) rc = cli_check_output(o->output, "--output", o, &cfg, err);
    /* rank 0's streams decide (cli_check_stream): the ranks go on, or stop, together */
    if (cli_agree(rc, err) != OCCAM_OK) return err->status ? err->status : rc;
    occam_gemm_init();
    occam_model model;
    occam_dataset in = {0}, train = {0};
    occam_sparse *sp = NULL;
    float *y = NULL;
    rc = occam_model_create(&model, &cfg.model, cfg.data.task, err);
    if (rc == OCCAM_OK) rc = cli_check_config(o->checkpoint, &cfg, err);
    if (rc == OCCAM_OK) rc = occam_checkpoint_load(o->checkpoint, &model, err);
    int inputs = model.lay.width[0], k = model.lay.width[model.lay.nlayers];
    char dropped[512]; /* a quoted name takes up to 4 × 40 + 3 bytes */
    if (rc == OCCAM_OK)
        rc = predict_read(o->input, &cfg, inputs, &in, dropped, sizeof dropped, err);
    if (rc == OCCAM_OK) rc = predict_normalize(&cfg, o->input, dropped, &in, &train, err);
    if (rc == OCCAM_OK && train.n) /* its statistics scaled the input */
        cli_note_trained_rows(o->checkpoint, &cfg, &train, "");
    if (rc == OCCAM_OK)
        rc = occam_sparse_create(&sp, &model, OCCAM_SPARSE_THRESHOLD_DEFAULT, err);
    if (rc == OCCAM_OK) {
        y = occam_alloc(in.n, (size_t)k * sizeof(float));
        if (!y) rc = occam_error_set(err, OCCAM_ERR_RUNTIME, "out of memory for %zu outputs", in.n);
    }
    if (rc == OCCAM_OK) rc = occam_sparse_forward(sp, in.x, in.n, y, threads, err);
    if (rc == OCCAM_OK && cfg.data.task == OCCAM_TASK_REGRESS)
        occam_data_targets_restore(&train, y, in.n);
    if (rc == OCCAM_OK) rc = predict_check(o->input, y, in.n, k, err);
    /* under mpirun every rank predicts; rank 0 writes only what they all agree on (another
     * rank's input or model went unchecked, and its failure came after rank 0's output) */
    rc = cli_ranks_same_model(&model, o->checkpoint, rc, err);
    /* the training rows first: their statistics scale the input, and another data.train on a
     * rank was blamed on the --input file both ranks shared (empty where nothing is scaled) */
    char stats[OCCAM_PATH_MAX + 64];
    snprintf(stats, sizeof stats, "data.train %s, whose statistics scale --input",
             cfg.data.train);
    rc = cli_ranks_same_rows(&train, stats, rc, err);
    rc = cli_agree(cli_ranks_same_rows(&in, o->input, rc, err), err);
    if (rc == OCCAM_OK)
        rc = occam_comm_is_root(occam_comm_world()) /* rank 0 writes */
                 ? predict_write(o->output, y, in.n, k, cfg.data.task == OCCAM_TASK_CLASSIFY, err)
                 : OCCAM_OK;
    free(y);
    occam_sparse_free(sp);
    occam_dataset_free(&in);
    occam_dataset_free(&train);
    occam_model_free(&model);
    return rc;
}

int cmd_predict(int argc, char **argv)
{
    return cli_command(argc, argv, CLI_SET | CLI_THREADS | CLI_CHECKPOINT | CLI_INPUT | CLI_OUTPUT,
                       usage, run);
}
