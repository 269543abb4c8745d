/* `occam eval`: load a checkpoint and evaluate it on the config's data. */
#include <stdio.h>

#include "cli.h"
#include "occam/comm.h"
#include "occam/checkpoint.h"
#include "occam/data.h"
#include "occam/gemm.h"
#include "occam/model.h"
#include "occam/outfile.h"
#include "occam/report.h"
#include "occam/runtime.h"
#include "occam/trainer.h"

static const char usage[] =
    "usage: occam eval CONFIG --checkpoint FILE [--set section.key=value]... [--threads N]\n"
    "                         [--report FILE]\n"
    "\n"
    "Evaluates the weights in FILE (safetensors, as written by 'occam train --save') on the\n"
    "training and test data CONFIG describes. The model's shape comes from CONFIG and must\n"
    "match the file.\n";

static int run(const cli_opts *o, occam_error *err)
{
    occam_config cfg;
    int threads;
    int rc = cli_setup(o, &cfg, &threads, err);
    if (rc) return rc;
    if (!o->checkpoint)
        return occam_error_set(err, OCCAM_ERR_INPUT, "eval: missing --checkpoint FILE");
    if (o->report) rc = cli_check_output(o->report, "--report", o, &cfg, err);
    /* rank 0's streams decide (cli_check_stream): the ranks go on, or stop, together */
    if (cli_agree(rc, err) != OCCAM_OK) return err->status ? err->status : rc;
    cli_session ss;
    rc = cli_session_open(&ss, &cfg, threads, o->checkpoint, err);
    if (rc) return rc;
    threads = ss.threads; /* automatic: at most one per core of the topology */
    occam_trainer *tr = ss.tr;
    const char *arch = ss.arch;
    if (rc == OCCAM_OK) {
        occam_eval ev_train, ev_test;
        occam_trainer_eval(tr, &ss.train, &ev_train);
        occam_trainer_eval(tr, &ss.test, &ev_test);
        /* Finite values can overflow through the layers (3e38 under data.normalize = none):
         * NaN logits gave "loss -nan accuracy 0.5000" with exit 0. */
        char who[64 + OCCAM_PATH_MAX]; /* the weights are the file's: name it */
        snprintf(who, sizeof who, "eval --checkpoint %s", o->checkpoint);
        rc = cli_check_eval(who, "training", &ev_train, cfg.data.task, err);
        if (rc == OCCAM_OK) rc = cli_check_eval(who, "test", &ev_test, cfg.data.task, err);
        for (int i = 0; i < 2 && rc == OCCAM_OK; i++) {
            cli_print_eval(i ? "test" : "train", i ? &ev_test : &ev_train, cfg.data.task);
        }
        occam_report rep = {.command = "eval", .cfg = &cfg, .model = &ss.model, .threads = threads,
                            .blis_arch = arch, .train = &ev_train, .test = &ev_test};
        if (rc == OCCAM_OK && o->report && occam_comm_is_root(occam_comm_world())) /* rank 0 */
            rc = occam_report_write(o->report, &rep, err);
    }
    cli_session_close(&ss);
    return rc;
}

int cmd_eval(int argc, char **argv)
{
    return cli_command(argc, argv, CLI_SET | CLI_THREADS | CLI_REPORT | CLI_CHECKPOINT, usage, run);
}
