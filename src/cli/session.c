/* The set-up every computing subcommand shares: data, model (initialised or loaded from a
 * checkpoint), the placed runtime and the trainer, built in that order and torn down in
 * reverse. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "occam/checkpoint.h"
#include "occam/fit.h"
#include "occam/gemm.h"
#include "occam/outfile.h"

/* cli_session_open, or with `train` not NULL cli_session_open_with. */
static int session_open(cli_session *s, const occam_config *cfg, int threads,
                        const char *checkpoint, const occam_dataset *train,
                        const occam_dataset *test, occam_error *err)
{
    memset(s, 0, sizeof *s);
    s->cfg = *cfg;
    s->threads = threads;
    s->arch = occam_gemm_init();
    int rc = occam_model_create(&s->model, &s->cfg.model, s->cfg.data.task, err);
    if (rc == OCCAM_OK) {
        if (checkpoint) rc = occam_checkpoint_check_targets(checkpoint, &s->cfg, err);
        if (checkpoint && rc == OCCAM_OK) rc = occam_checkpoint_load(checkpoint, &s->model, err);
        else occam_model_init(&s->model, s->cfg.model.init, s->cfg.train.seed);
        s->file_sigma = checkpoint && s->model.rho; /* before the trainer makes its own */
    }
    if (rc == OCCAM_OK && train) {
        s->train = *train;
        s->test = *test;
        s->borrowed = true;
    } else if (rc == OCCAM_OK) {
        rc = occam_data_load(&s->cfg.data, occam_config_inputs(&s->cfg),
                             occam_config_outputs(&s->cfg), &s->train, &s->test, err);
    }
    if (rc == OCCAM_OK) rc = occam_runtime_open(&s->rt, &s->cfg.runtime, threads, err);
    if (rc == OCCAM_OK) {
        occam_runtime_place_weights(&s->rt, s->model.params, s->model.lay.nparams * sizeof(float));
        rc = occam_trainer_create(&s->tr, &s->model, occam_config_trainer(&s->cfg), threads,
                                  &s->rt.affinity, err);
    }
    if (rc == OCCAM_OK) occam_runtime_report_notices(&s->rt);
    if (rc != OCCAM_OK) cli_session_close(s);
    /* Under mpirun every rank opens its session, and a checkpoint or data set one rank cannot
     * read stops them all before any collective; a rank whose own open worked closes it. */
    int all = cli_agree(rc, err);
    if (all != OCCAM_OK && rc == OCCAM_OK) cli_session_close(s);
    return all;
}

int cli_session_open(cli_session *s, const occam_config *cfg, int threads,
                     const char *checkpoint, occam_error *err)
{
    return session_open(s, cfg, threads, checkpoint, NULL, NULL, err);
}

int cli_session_open_with(cli_session *s, const occam_config *cfg, int threads,
                          const occam_dataset *train, const occam_dataset *test,
                          occam_error *err)
{
    return session_open(s, cfg, threads, NULL, train, test, err);
}

void cli_session_close(cli_session *s)
{
    occam_trainer_free(s->tr);
    occam_runtime_close(&s->rt);
    occam_model_free(&s->model);
    if (!s->borrowed) {
        occam_dataset_free(&s->train);
        occam_dataset_free(&s->test);
    }
    s->train = s->test = (occam_dataset){0};
    s->tr = NULL;
}

/* SIGINT and SIGTERM ask the run to stop after its step; a second one stops it at once,
 * removing the temporary file of a save or checkpoint it interrupts (main's handler, which
 * these replace, would have). */
static void on_signal(int sig)
{
    if (occam_fit_stop_requested()) {
        occam_outfile_unlink_open();
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    occam_fit_request_stop(sig);
}

void cli_catch_stop_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    /* mpirun forwards SIGUSR1 to every rank (SIGINT and SIGTERM it turns into an abort that
     * SIGKILLs the ranks a second later), as batch systems send it before a time limit */
    sigaction(SIGUSR1, &sa, NULL);
}
