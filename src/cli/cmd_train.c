/* `occam train`: config → data → model → epochs → report and weights. */
#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "occam/checkpoint.h"
#include "occam/clock.h"
#include "occam/comm.h"
#include "occam/dl.h"
#include "occam/data.h"
#include "occam/fit.h"
#include "occam/fsutil.h"
#include "occam/gemm.h"
#include "occam/model.h"
#include "occam/outfile.h"
#include "occam/prune.h"
#include "occam/report.h"
#include "occam/runtime.h"
#include "occam/train.h"
#include "occam/trainer.h"
#include "occam/trainstate.h"

static const char usage[] =
    "usage: occam train CONFIG [--set section.key=value]... [--threads N] [--report FILE]\n"
    "                          [--save FILE] [--resume STATE] [--print-config]\n"
    "\n"
    "Trains the model CONFIG describes and prints a summary.\n"
    "  --set section.key=value  override a config key (repeatable; same checks as the file)\n"
    "  --threads N              worker threads (0 = all cores); overrides runtime.threads\n"
    "  --report FILE            write the JSON report (config, metrics, timing, history)\n"
    "  --save FILE              write the weights as safetensors (config in __metadata__)\n"
    "  --resume STATE           continue the run saved in STATE (a train.checkpoint_dir file)\n"
    "  --print-config           print the whole effective config as INI and exit (a run\n"
    "                           prints only the keys that differ from the defaults)\n"
    "The full training state goes to train.checkpoint_dir every train.checkpoint_every epochs\n"
    "and on SIGINT/SIGTERM/SIGUSR1/SIGHUP/SIGXCPU, which finish the current step, save, and\n"
    "exit 130/143/138/129/152 (under mpirun send SIGUSR1 to mpirun: it forwards it to every\n"
    "rank). A second signal within a second of the first is the same stop; a later one ends\n"
    "the run at once.\n"
    "Progress goes to stderr; exit status 0 ok, 1 runtime failure, 2 bad usage/config/input.\n";

typedef struct progress_state {
    bool tty;
    occam_task task;
    double last;
    int ranks; /* the world size, shown beside the rate when more than 1 */
} progress_state;

static void fmt_eta(char *buf, size_t cap, double s)
{
    long t = (long)(s + 0.5);
    snprintf(buf, cap, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
}

static void on_progress(void *user, const occam_progress *p)
{
    progress_state *ps = user;
    char world[32] = "";
    if (ps->ranks > 1) snprintf(world, sizeof world, " on %d ranks", ps->ranks);
    if (!p->end_of_epoch) {
        double now = occam_clock_now();
        if (!ps->tty || now - ps->last < 0.2) return;
        ps->last = now;
        char eta[32], loss[24];
        fmt_eta(eta, sizeof eta, p->eta_seconds);
        fprintf(stderr, "\r\033[Kepoch %d/%d  step %lld/%lld  loss %s  %.0f samples/s%s  ETA %s",
                p->epoch, p->epochs, (long long)p->step, (long long)p->steps_per_epoch,
                cli_metric(loss, sizeof loss, p->loss), p->samples_per_second, world, eta);
        return;
    }
    /* One write for the line (stderr is unbuffered: an fprintf is a write): in three, a stop
     * signal's message ("the same stop") could land inside it, and a reader dropping the
     * epoch lines (grep -v '^epoch') dropped the message with it. */
    const occam_epoch_stats *st = p->stats;
    char test[64] = "", eta[32], m[24], loss[24];
    if (st->test.n && ps->task == OCCAM_TASK_CLASSIFY)
        snprintf(test, sizeof test, "  test_acc %.4f", st->test.accuracy);
    else if (st->test.n)
        snprintf(test, sizeof test, "  test_rel_err %s",
                 cli_metric(m, sizeof m, st->test.relative_error));
    fmt_eta(eta, sizeof eta, p->eta_seconds);
    fprintf(stderr, "%sepoch %d/%d  step %lld/%lld  loss %s%s  lr %.4g  %.0f samples/s%s  %.2f "
            "s  ETA %s\n", ps->tty ? "\r\033[K" : "", p->epoch, p->epochs, (long long)p->step,
            (long long)p->steps_per_epoch, cli_metric(loss, sizeof loss, st->train_loss), test,
            st->lr, st->samples_per_second, world, st->seconds, eta);
}

/* The line that opens a run: its data, its model's parameter count, its ranks and threads. */
typedef struct data_line {
    const occam_dataset *train, *test;
    const char *team, *arch;
    bool printed;
} data_line;

/* Prints the line once, with m's parameter count. A resumed run whose neurons were pruned goes
 * on at narrower widths than model.layers: the count is theirs, and the line says so (it gave
 * model.layers' count, the model that no longer trains). */
static void print_data_line(data_line *d, const occam_model *m, const occam_config *cfg)
{
    if (d->printed) return;
    d->printed = true;
    char label[256], widths[16 * OCCAM_MAX_LAYERS + 64] = "";
    cli_label_text(label, sizeof label, d->train);
    bool narrower = false;
    for (int l = 0; l <= m->lay.nlayers; l++)
        narrower |= m->lay.width[l] != cfg->model.layers[l];
    if (narrower) {
        char now[16 * OCCAM_MAX_LAYERS];
        occam_checkpoint_widths(m, now, sizeof now);
        snprintf(widths, sizeof widths, " at the resumed widths %s (its neurons were pruned)",
                 now);
    }
    fprintf(stderr, "occam: %zu training and %zu test samples%s, %zu parameters%s, %s, BLIS "
            "kernels %s%s\n", d->train->n, d->test->n, label,
            m->lay.nweights + m->lay.nbiases, widths, d->team, d->arch,
            occam_gemm_arch_overridden() ? " (chosen by CPU features)" : "");
}

typedef struct state_io {
    occam_state_writer wr;
    occam_state_reader rd;
    char *last_failed; /* [OCCAM_ERROR_MAX]: why the run's last checkpoint was not written */
    data_line *line;   /* printed by a resume once the model has the widths it goes on at */
} state_io;

/* Every rank comes here; under mpirun the ranks first pool what each holds only in part (the
 * owner layers' moments, the noise streams), rank 0 writes, and all learn whether it could. */
static int checkpoint(void *ctx, const occam_train_view *v, bool interrupted, occam_error *err)
{
    state_io *sio = ctx;
    occam_state_writer *w = &sio->wr;
    const occam_comm *c = occam_trainer_comm(v->tr);
    int rc;
    if (!c) {
        rc = occam_state_checkpoint(w, v, interrupted, err);
    } else {
        if (!occam_state_checkpoint_due(w, v, interrupted)) return OCCAM_OK;
        occam_trainer_gather_state(v->tr);
        rc = occam_comm_is_root(c) ? occam_state_checkpoint(w, v, interrupted, err) : OCCAM_OK;
        rc = cli_agree(rc, err);
    }
    /* The last epoch's checkpoint failing (a full disk) ended the run before its outputs: the
     * finished model was lost, and a resume from the last good checkpoint failed the same way.
     * The outputs come first now; the run still exits 1, saying so. */
    if (rc != OCCAM_OK && !interrupted && v->res->epochs >= v->res->capacity) {
        size_t cap = OCCAM_ERROR_MAX;
        int k = snprintf(sio->last_failed, cap, "%.*s", (int)(cap / 2), err->msg);
        /* a run whose only checkpoint was this one has none to name ("is none" read as a file) */
        if (w->last[0])
            snprintf(sio->last_failed + k, cap - (size_t)k, "; the last good checkpoint is %.*s",
                     (int)(cap / 2 - 64), w->last);
        else
            snprintf(sio->last_failed + k, cap - (size_t)k, "%s",
                     w->moved ? "; this run's checkpoints went with the folder"
                              : "; no checkpoint of this run was written");
        return OCCAM_OK;
    }
    return rc;
}

/* occam_train_io.restore with a word on stderr about what was resumed and how it differs. */
/* A resume's list of changed keys that only `what` at the run's end reads, if any. */
static void note_read_at_end(const char *list, const char *what)
{
    if (list[0])
        fprintf(stderr, "\noccam: note: %s (%s at the end reads %s, no weight does)",
                cli_shown(list), what, strchr(list, ';') ? "them" : "it");
}

static int resume_from(void *ctx, const occam_train_view *v, occam_error *err)
{
    state_io *sio = ctx;
    occam_state_reader *rd = &sio->rd;
    /* every rank reads the state; one that cannot stops them all, saying why once */
    int rc = cli_agree(occam_state_restore(rd, v, err), err);
    print_data_line(sio->line, v->m, v->cfg); /* a failed restore left the model as it was */
    if (rc != OCCAM_OK) return rc;
    char from[OCCAM_ERROR_MAX / 2];
    snprintf(from, sizeof from, "--resume %s", rd->path);
    rc = cli_agree(cli_ranks_same_model(v->m, from, rc, err), err);
    if (rc == OCCAM_OK) rc = cli_agree(cli_ranks_same_state(rd->tensors_hash, from, rc, err), err);
    if (rc != OCCAM_OK) return rc;
    snprintf(sio->wr.last, sizeof sio->wr.last, "%s", rd->path); /* good: it just loaded */
    const occam_fit_pos *p = &v->res->pos;
    fprintf(stderr, "occam: resuming %s: %d epochs and %lld steps done", cli_shown(rd->path),
            v->res->epochs, (long long)v->res->steps);
    if (p->epoch_step) fprintf(stderr, ", %lld into epoch %d", (long long)p->epoch_step,
                               v->res->epochs + 1);
    /* the widths a run whose neurons were pruned goes on at */
    bool narrower = false;
    for (int l = 0; l <= v->m->lay.nlayers; l++)
        narrower |= v->m->lay.width[l] != v->cfg->model.layers[l];
    if (narrower) {
        char widths[16 * OCCAM_MAX_LAYERS];
        occam_checkpoint_widths(v->m, widths, sizeof widths);
        fprintf(stderr, ", the model %s wide (its neurons were pruned)", widths);
    }
    /* runtime.grad = owner gives the same bits at any world size; shard-path layers (which
     * auto may choose differently for another world) do not. */
    bool owner = v->cfg->runtime.grad == OCCAM_GRAD_OWNER && !v->m->rho;
    /* the notes quote the state's own text (its kernel sets, its config's paths): shown as
     * messages show input, a control byte as \xHH, so that a state cannot drive the terminal */
    if (rd->world[0]) fprintf(stderr, "\noccam: note: %s", cli_shown(rd->world));
    if (rd->unread[0])
        fprintf(stderr, "\noccam: note: %s (they change nothing in this run)",
                cli_shown(rd->unread));
    note_read_at_end(rd->bits_back, "the bits-back line");
    note_read_at_end(rd->at_end, "the description length");
    if (rd->note[0])
        fprintf(stderr, "\noccam: note: %s; the run continues, but not bit-identically to an "
                "uninterrupted one\n", cli_shown(rd->note));
    else if (rd->world[0] && !owner)
        fprintf(stderr, "; the run continues, but not bit-identically: the shard-path layers' "
                "gradients are summed in another order (%s)\n",
                v->m->rho ? "noisy weights always take the shard path"
                          : "runtime.grad = owner keeps every bit");
    else
        fprintf(stderr, "; it continues bit-identically\n");
    /* checkpoints fall on multiples of train.checkpoint_every epochs: from here none may be
     * left (the note at the start counts the whole run) */
    int every = v->cfg->train.checkpoint_every, total = occam_train_total_epochs(v->cfg);
    int done = v->res->epochs, next = every > 0 ? (done / every + 1) * every : 0;
    if (every > 0 && every <= total && next > total && done < total &&
        occam_comm_is_root(occam_comm_world()))
        fprintf(stderr, "occam: note: the next checkpoint would fall at epoch %d of the run's "
                "%d (train.checkpoint_every = %d): none is written unless the run is stopped\n",
                next, total, every);
    return OCCAM_OK;
}

/* Every path the run will write, checked before the data is loaded: a bad one is exit 2 in
 * seconds, not a failure after training. */
/* Whether an output would land on a file the checkpoint folder owns: its lock file, or a name
 * of its checkpoints' form, which the run would then take (or tidy away) as its own. */
static bool in_checkpoint_folder(const char *out, const char *dir)
{
    const char *base = strrchr(out, '/');
    base = base ? base + 1 : out;
    size_t n = strlen(base);
    bool owned = !strcmp(base, OCCAM_LOCK_FILE) ||
                 (!strncmp(base, "ckpt-", 5) && n > 17 && !strcmp(base + n - 12, ".safetensors"));
    char there[PATH_MAX];
    if (!owned || (size_t)snprintf(there, sizeof there, "%s/%s", dir, base) >= sizeof there)
        return false;
    return occam_outfile_same(out, there);
}

/* Whether an output is the checkpoint folder itself or a folder it lies in, which the run
 * makes a folder before it writes the output: '--save ck' with train.checkpoint_dir = ck
 * trained, then failed "is a folder, not a file" (exit 1, the model written into ck/). */
static bool holds_checkpoint_folder(const char *out, const char *dir)
{
    char up[PATH_MAX];
    if ((size_t)snprintf(up, sizeof up, "%s", dir) >= sizeof up) return false;
    size_t n = strlen(up);
    while (n > 1 && up[n - 1] == '/') up[--n] = 0; /* "ck/" and "ck" are one folder */
    while (n > 0 && strcmp(up, "/")) {
        if (occam_outfile_same(out, up)) return true;
        while (n > 0 && up[n - 1] != '/') up[--n] = 0; /* "a//ck" goes up to "a", "/ck" to "/" */
        while (n > 1 && up[n - 1] == '/') up[--n] = 0;
    }
    return false;
}

static int check_outputs(const cli_opts *o, const occam_config *cfg, occam_error *err)
{
    int rc = cli_check_outputs(o, cfg, err);
    if (rc == OCCAM_OK)
        rc = occam_outfile_check_dir(cfg->train.checkpoint_dir, "train.checkpoint_dir", err);
    const char *outs[2][2] = {{"--save", o->save}, {"--report", o->report}};
    for (int i = 0; i < 2 && rc == OCCAM_OK; i++)
        if (outs[i][1] && in_checkpoint_folder(outs[i][1], cfg->train.checkpoint_dir))
            rc = occam_error_set(err, OCCAM_ERR_INPUT, "%s %s: a name train.checkpoint_dir "
                                 "(%s) keeps for its lock or its checkpoints; choose another",
                                 outs[i][0], outs[i][1], cfg->train.checkpoint_dir);
    /* without train.checkpoint_every too: a stop by a signal writes a checkpoint there, and
     * the command it prints to continue, with this --save, was then refused */
    for (int i = 0; i < 2 && rc == OCCAM_OK; i++)
        if (outs[i][1] && holds_checkpoint_folder(outs[i][1], cfg->train.checkpoint_dir))
            rc = occam_error_set(err, OCCAM_ERR_INPUT, "%s %s: a folder the run makes, for "
                                 "train.checkpoint_dir (%s), at its checkpoints or when a "
                                 "signal stops it; choose another name", outs[i][0], outs[i][1],
                                 cfg->train.checkpoint_dir);
    return rc;
}

typedef struct trained {
    const occam_model *model;
    const occam_config *cfg;
    const occam_dataset *train; /* its rows, recorded in the file */
    const char *report;         /* --report, or NULL: written later, never over the model */
} trained;

/* Adds to err's message what else the run knows (where the model or its state went). */
/* Whether the fallback name alt is in use: a file is there, or it is --report's. */
static bool fallback_taken(const char *alt, const char *report)
{
    struct stat a;
    return lstat(alt, &a) == 0 || (report && occam_outfile_same(alt, report));
}

/* The trained model to --save; when that fails (a full or read-only disk, a file-size limit),
 * to the run's own folder, train.checkpoint_dir, under the same name, so the hours of training
 * are not lost with the file (a run without checkpoints had nothing else). The run still
 * fails, and the message says where the model went. */
static int save_model(void *ctx, const char *path, occam_error *err)
{
    const trained *t = ctx;
    int rc = occam_checkpoint_save(path, t->model, t->cfg, t->train, err);
    if (rc == OCCAM_OK || !t->cfg->train.checkpoint_dir[0]) return rc;
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    char alt[2 * OCCAM_PATH_MAX];
    snprintf(alt, sizeof alt, "%s/%s", t->cfg->train.checkpoint_dir, base);
    /* never over a file there (another run's model of the same name), nor at --report's name
     * (the report, written after the model, replaced it: 'the model was written to ck/m
     * instead; wrote the report to ck/m'), nor into a folder another run holds */
    for (int k = 1; k < 100 && fallback_taken(alt, t->report); k++)
        snprintf(alt, sizeof alt, "%s/%s.%d", t->cfg->train.checkpoint_dir, base, k);
    occam_error e2 = {0};
    if (!*base || fallback_taken(alt, t->report) ||
        occam_fsutil_lock_busy(t->cfg->train.checkpoint_dir) ||
        occam_fsutil_make_dir(t->cfg->train.checkpoint_dir, "train.checkpoint_dir", &e2) !=
            OCCAM_OK ||
        occam_checkpoint_save(alt, t->model, t->cfg, t->train, &e2) != OCCAM_OK)
        return rc;
    cli_msg_append(err, "; the model was written to %s instead", alt);
    return rc;
}

static int save_report(void *ctx, const char *path, occam_error *err)
{
    return occam_report_write(path, ctx, err);
}

/* A word as the shell reads it back: quoted unless every byte is one that needs no quotes. */
static void print_shell_word(FILE *f, const char *w)
{
    bool plain = *w != 0;
    for (const char *c = w; *c && plain; c++)
        plain = isalnum((unsigned char)*c) || strchr("._,:=/+-@%", *c);
    if (plain) {
        fputs(w, f);
        return;
    }
    /* a word a message would show otherwise (a control byte, a C1 control such as U+009B,
     * broken UTF-8: cli_shown) would drive the terminal: bash's $'...' writes every byte
     * past ASCII as \xHH, and the word still pastes back as itself */
    if (strcmp(cli_shown(w), w) != 0) {
        fputs("$'", f);
        for (const unsigned char *c = (const unsigned char *)w; *c; c++) {
            if (*c < 0x20 || *c >= 0x7f) fprintf(f, "\\x%02X", *c);
            else if (*c == '\'' || *c == '\\') fprintf(f, "\\%c", *c);
            else fputc(*c, f);
        }
        fputc('\'', f);
        return;
    }
    fputc('\'', f);
    for (const char *c = w; *c; c++) {
        if (*c == '\'') fputs("'\\''", f); /* close, an escaped quote, reopen */
        else fputc(*c, f);
    }
    fputc('\'', f);
}

/* The command that continues a stopped run: the same config, --set options, --threads and
 * outputs (without them a resume silently went on with other settings, or wrote nothing), and
 * the state file. */
static void print_resume_hint(const cli_opts *o, const char *state)
{
    fputs("occam: continue with: occam train ", stderr);
    print_shell_word(stderr, o->config);
    for (int i = 0; i < o->nsets; i++) {
        fputs(" --set ", stderr);
        print_shell_word(stderr, o->sets[i]);
    }
    if (o->threads >= 0) fprintf(stderr, " --threads %d", o->threads);
    const char *flag[] = {" --save ", " --report "}, *file[] = {o->save, o->report};
    for (int i = 0; i < 2; i++)
        if (file[i]) {
            fputs(flag[i], stderr);
            print_shell_word(stderr, file[i]);
        }
    fputs(" --resume ", stderr);
    print_shell_word(stderr, state);
    fputc('\n', stderr);
}

/* A noisy model's own code beside the configured one: select ranks a noisy point bits-back,
 * what its training minimises, so a user who read train's two-part length (1,848 bits on a
 * small set) found select ranking the same model at 1,276 with no word why. A failure here
 * costs the line only; the run's own description length was the configured code's. */
static void print_bits_back(const occam_model *model, const occam_config *cfg,
                            const occam_dataset *train, int threads)
{
    occam_dl_params mdl = cfg->mdl;
    mdl.model_code = OCCAM_MDL_BITS_BACK;
    occam_dl bb;
    occam_error e = {0};
    if (occam_dl_compute(&bb, model, &mdl, &cfg->noise, train, threads, NULL, &e) == OCCAM_OK)
        printf("mdl    bits-back: model %.0f bits + data %.0f bits = %.0f bits (noisy "
               "weights' own code: select ranks by it)\n",
               bb.model_bits, bb.data_bits, bb.total_bits);
    else
        fprintf(stderr, "occam: warning: no bits-back length: %s\n", cli_shown(e.msg));
}

static int run(const cli_opts *o, occam_error *err)
{
    occam_config cfg;
    int threads;
    const occam_comm *world = occam_comm_world();
    bool root = occam_comm_is_root(world);
    static char last_failed[OCCAM_ERROR_MAX]; /* large: not on the stack; one run a process */
    static char resume_changes[sizeof ((occam_state_reader *)0)->note +
                               sizeof ((occam_state_reader *)0)->world + 2];
    last_failed[0] = resume_changes[0] = 0;
    int rc = cli_setup(o, &cfg, &threads, err);
    /* agreed: under mpirun a rank with --print-config would leave while one whose own --set
     * fails here waits in the agreement below */
    if (rc == OCCAM_OK) {
        /* the checks of what a run trains (eval, mdl and the others use the config as is) */
        int own = occam_dl_check_trained(&cfg.mdl, cfg.noise.enabled, err);
        if (own == OCCAM_OK) own = occam_train_check(&cfg, err);
        /* where the key's value came from, as for the config's own checks */
        if (own != OCCAM_OK) occam_config_locate(err, o->config, o->sets, o->nsets);
        /* it printed the config and exited 0, the outputs never written and nothing said */
        if (own == OCCAM_OK && o->print_config && (o->save || o->report))
            own = occam_error_set(err, OCCAM_ERR_INPUT, "train: --print-config prints the "
                                  "config and exits without training, so %s %s would not be "
                                  "written; give one or the other", o->save ? "--save" :
                                  "--report", cli_shown(o->save ? o->save : o->report));
        rc = cli_agree(own, err);
    }
    if (rc == OCCAM_OK && o->print_config) {
        occam_config_write_ini(&cfg, stdout);
        return OCCAM_OK;
    }
    /* rank 0 writes every output, so only its paths matter */
    if (rc == OCCAM_OK && root) rc = check_outputs(o, &cfg, err);
    if (cli_agree(rc, err) != OCCAM_OK) return err->status ? err->status : rc;
    /* before the header (which then says the handler is in place) and the data load, which
     * can take seconds: a stop asked for then is kept, and the run stops at its first step
     * with a checkpoint, as it would later */
    cli_catch_stop_signals();
    char summary[512];
    occam_config_summary(&cfg, summary, sizeof summary);
    printf("# occam train %s: %s\n# changed from the defaults (all keys: --print-config; the "
           "report has them too):\n", cli_shown(o->config), cli_shown(summary));
    if (occam_config_write_ini_changed(&cfg, stdout) == 0) printf("# (none)\n");
    fflush(stdout);
    cli_note_inert(&cfg, NULL);
    /* β = epoch / noise.warmup_epochs: a warm-up as long as the run never reaches 1 */
    int total = occam_train_total_epochs(&cfg);
    if (root && cfg.noise.enabled && cfg.noise.warmup_epochs >= total)
        fprintf(stderr, "occam: note: noise.warmup_epochs = %d is not less than the run's %d "
                "epoch%s: the KL's weight never reaches 1 (its last epoch trains at %.2f), so "
                "the net trained is not the one its description length scores%s\n",
                cfg.noise.warmup_epochs, total, total == 1 ? "" : "s",
                (double)(total - 1) / cfg.noise.warmup_epochs,
                cfg.noise.prior == OCCAM_PRIOR_SPARSE
                    ? "; the sparse prior masks only after the warm-up, so it masks nothing"
                    : "");
    /* keys that do nothing in a run this short, said rather than silently idle */
    if (root && cfg.train.checkpoint_every > total)
        fprintf(stderr, "occam: note: train.checkpoint_every = %d is more than the run's %d "
                "epoch%s: no checkpoint is written unless the run is stopped\n",
                cfg.train.checkpoint_every, total, total == 1 ? "" : "s");
    /* the step schedule counts each phase's epochs (the dense training, each fine-tuning) */
    int phase = cfg.train.epochs;
    if (cfg.prune.schedule != OCCAM_PRUNE_NONE && cfg.prune.schedule != OCCAM_PRUNE_AGP &&
        cfg.prune.finetune_epochs > phase)
        phase = cfg.prune.finetune_epochs;
    if (root && cfg.train.optim.schedule == OCCAM_SCHED_STEP &&
        cfg.train.optim.step_epochs >= phase)
        fprintf(stderr, "occam: note: train.step_epochs = %d is not less than the %d epoch%s of "
                "the run's longest phase: train.schedule = step never lowers the learning rate\n",
                cfg.train.optim.step_epochs, phase, phase == 1 ? "" : "s");
    /* a train.gamma so small that the rate rounds to 0 in float32 within the run: the weights
     * stopped moving there, without a word (gamma = 1e-300 from the second epoch) */
    if (root && cfg.train.optim.schedule == OCCAM_SCHED_STEP &&
        cfg.train.optim.step_epochs < phase && cfg.train.optim.gamma < 1) {
        double lr = cfg.train.optim.lr;
        int64_t at = 0;
        while ((float)lr != 0 && at < phase) {
            lr *= cfg.train.optim.gamma;
            at += cfg.train.optim.step_epochs;
        }
        if ((float)lr == 0 && at < phase)
            fprintf(stderr, "occam: note: train.schedule = step takes the learning rate to 0 "
                    "(below float32's least) from epoch %lld of %s%d (train.lr = %g, "
                    "train.gamma = %g every %d epoch%s): the weights stop moving there\n",
                    (long long)at + 1, phase == cfg.train.epochs ? "" : "a phase of up to ",
                    phase, cfg.train.optim.lr, cfg.train.optim.gamma,
                    cfg.train.optim.step_epochs, cfg.train.optim.step_epochs == 1 ? "" : "s");
    }

    cli_session ss;
    occam_fit_result fit = {0};
    occam_prune_log plog = {0};
    rc = cli_session_open(&ss, &cfg, threads, NULL, err); /* agreed by the ranks */
    if (rc) return rc;
    threads = ss.threads; /* automatic: at most one per core of the topology */
    occam_trainer *tr = ss.tr;
    occam_model *model = &ss.model;
    const occam_dataset *train = &ss.train, *test = &ss.test;
    const char *arch = ss.arch;
    cli_note_csv("data.train", cfg.data.train, train);
    cli_note_csv("data.test", cfg.data.test, test);
    cli_note_classes(train, test);
    cli_note_targets(cfg.data.train, train, cfg.mdl.target_precision);
    if (root && (size_t)cfg.train.batch > train->n)
        fprintf(stderr, "occam: note: train.batch = %d is more than the %zu training rows: "
                "every step takes all of them, one step an epoch\n", cfg.train.batch, train->n);
    char team[64];
    cli_team_text(team, sizeof team, threads, arch); /* every rank gets here */
    if (rc == OCCAM_OK) {
        /* a resume prints it once the state is read, at the widths the run goes on at */
        data_line line = {.train = train, .test = test, .team = team, .arch = arch};
        if (!o->resume) print_data_line(&line, model, &cfg);
        progress_state ps = {.tty = isatty(2) != 0, .task = cfg.data.task,
                             .ranks = world->size};
        state_io sio = {.wr = {.dir = cfg.train.checkpoint_dir,
                               .every = cfg.train.checkpoint_every,
                               .keep = cfg.train.checkpoint_keep},
                        .rd = {.path = o->resume}, .last_failed = last_failed,
                        .line = &line};
        occam_train_io io = {.progress = on_progress, .user = &ps, .checkpoint = checkpoint,
                           .ctx = &sio};
        if (o->resume) io.restore = resume_from;
        /* one run per checkpoint folder: rank 0's lock */
        rc = cli_agree(root ? occam_state_writer_open(&sio.wr, err) : OCCAM_OK, err);
        if (rc == OCCAM_OK)
            rc = occam_train_run(tr, model, &cfg, train, test, &fit, &plog, &io, err);
        print_data_line(&line, model, &cfg); /* a run that failed before its resume read */
        snprintf(resume_changes, sizeof resume_changes, "%s%s%s", sio.rd.note,
                 sio.rd.note[0] && sio.rd.world[0] ? "; " : "", sio.rd.world);
        if (rc >= OCCAM_STOPPED) {
            fprintf(stderr, "occam: %s; the training state is in %s\n", cli_shown(err->msg),
                    cli_shown(sio.wr.last));
            /* a state whose neurons were pruned resumes too, at its narrower widths */
            print_resume_hint(o, sio.wr.last);
            err->msg[0] = 0;
        } else if (rc != OCCAM_OK && !err->msg[0]) {
            /* under mpirun another rank failed and says why (cli_agree cleared this one's):
             * a clause added here made this rank the speaker, of that clause alone */
        } else if (rc != OCCAM_OK && sio.wr.last[0]) {
            cli_msg_append(err, "; the last good checkpoint is %s", sio.wr.last);
        } else if (rc != OCCAM_OK && sio.wr.moved) {
            cli_msg_append(err, "; training stopped after %d epoch%s, and this run's checkpoints "
                       "went with the folder", fit.epochs, fit.epochs == 1 ? "" : "s");
        } else if (rc != OCCAM_OK && cfg.train.checkpoint_every > 0 && fit.epochs > 0 &&
                   !fit.resuming) {
            /* the first checkpoint failing (a file-size limit) said only 'write failed' (not
             * after a resume that failed before its first epoch: its epochs are the state's) */
            cli_msg_append(err, "; training stopped after %d epoch%s, and no checkpoint of this "
                       "run was written", fit.epochs, fit.epochs == 1 ? "" : "s");
        }
        /* agp prunes every prune.every steps: a ramp pruned at each of 2.1 million steps
         * printed 242 MB here. Past PRUNE_SHOWN events of it every k-th is shown, the last
         * always; the report (--report) lists each. The other schedules make at most 1000
         * (prune.steps), and mdl's kept one must be seen: all are shown. */
        enum { PRUNE_SHOWN = 100 };
        int k = cfg.prune.schedule == OCCAM_PRUNE_AGP && plog.n > PRUNE_SHOWN
                    ? (plog.n / PRUNE_SHOWN + (plog.n % PRUNE_SHOWN != 0)) : 1;
        if (k > 1)
            fprintf(stderr, "occam: %d prune events; one in %d is shown, and the last (the "
                    "report, --report, lists each)\n", plog.n, k);
        for (int i = 0; i < plog.n; i++) {
            const occam_prune_event *ev = &plog.ev[i];
            char shown[24];
            if ((i + 1) % k && i + 1 < plog.n) continue;
            fprintf(stderr, "prune %d: target %.4f  weight sparsity %.4f  (%lld weights, %d hidden "
                    "units)  ", ev->step, ev->target, ev->sparsity,
                    (long long)ev->weights_active, ev->hidden_units);
            /* a stop in the fine-tuning after the last prune: its metric is not measured yet
             * (0, which read as a perfect regression) */
            bool unfinished = rc != OCCAM_OK && i + 1 == plog.n &&
                              cfg.prune.schedule != OCCAM_PRUNE_AGP &&
                              cfg.prune.finetune_epochs > 0 &&
                              fit.epochs < ev->epoch + cfg.prune.finetune_epochs;
            if (unfinished)
                fprintf(stderr, "(fine-tuning unfinished)  ");
            else if (isfinite(ev->test_metric)) /* none without a test set */
                fprintf(stderr, "%s %s  ",
                        cfg.data.task == OCCAM_TASK_CLASSIFY ? "test_acc" : "test_rel_err",
                        cli_metric(shown, sizeof shown, ev->test_metric));
            fprintf(stderr, "select %.3f ms\n", 1e3 * ev->select_seconds);
            if (ev->total_bits > 0)
                fprintf(stderr, "         L = %.0f model + %.0f data = %.0f bits%s\n",
                        ev->model_bits, ev->data_bits, ev->total_bits,
                        plog.best == i ? "  <- smallest, kept" : "");
            else if (ev->total_bits == OCCAM_PRUNE_UNCODED)
                fprintf(stderr, "         L: none, no code describes this model (see mdl)\n");
        }
        /* a target the steps could not reach (prune.min_keep, one unit per layer, N:M groups
         * narrower than M) was reached silently: said once, for the last step */
        if (plog.note[0] && root) fprintf(stderr, "occam: note: %s\n", plog.note);
        /* only a run that finished kept anything: a diverged or stopped one scored nothing */
        if (rc == OCCAM_OK && cfg.prune.schedule == OCCAM_PRUNE_MDL && plog.best < 0) {
            if (plog.dense_total_bits > 0)
                fprintf(stderr, "occam: the dense model (L = %.0f bits) has the smallest "
                        "description length; it is kept\n", plog.dense_total_bits);
            else
                fprintf(stderr, "occam: warning: no model of the run has a finite description "
                        "length; the last one is kept\n");
        }
        if (root) occam_state_writer_close(&sio.wr);
    }
    if (rc == OCCAM_OK) {
        occam_eval ev_train, ev_test;
        occam_trainer_eval(tr, train, &ev_train);
        occam_trainer_eval(tr, test, &ev_test);
        printf("# result\n");
        cli_print_eval("train", &ev_train, cfg.data.task);
        cli_print_eval("test", &ev_test, cfg.data.task);
        int64_t active = 0;
        for (int l = 0; l < model->lay.nlayers; l++)
            active += (int64_t)occam_model_active_weights(model, l);
        if (cfg.prune.schedule != OCCAM_PRUNE_NONE) {
            printf("model ");
            for (int l = 0; l <= model->lay.nlayers; l++)
                printf("%s%d", l ? "-" : " ", model->lay.width[l]);
            printf(", %lld of %lld weights active, sparsity %.4f\n", (long long)active,
                   (long long)plog.dense_weights,
                   1.0 - (double)active / (double)plog.dense_weights);
            /* A target near 1 (0.999999 of a 1,150-weight net rounds to all of them) or a layer's
             * own target can empty a layer: the net then answers every row alike, and the run
             * said nothing about it. */
            for (int l = 0; l < model->lay.nlayers && root; l++)
                if (occam_model_active_weights(model, l) == 0) {
                    fprintf(stderr, "occam: note: pruning left layer %d no weights: the "
                            "network's output no longer depends on its inputs (set a lower "
                            "prune.target or prune.layer_targets, or prune.min_keep)\n", l);
                    break;
                }
        }
        /* Training has ended, so the stop checks inside it are behind us: a SIGINT that came
         * since (or comes during the description length, which takes seconds on a large
         * model) was left unheard, the run went on and exited 0, and a second Ctrl-C, the
         * usual answer to a first one that did nothing, killed it before the trained model
         * was written. Now a stop asked for before the description length skips it, and one
         * asked for at any time after training still writes every output, the model first,
         * then exits 128 + the signal saying so. Agreed: every rank reaches both checks. */
        cli_training_ended();
        int stop = occam_fit_stop_agreed(world);
        /* The model first, before the description length: whatever else fails, the hours of
         * training are not lost. The length's step search holds copies of the weights and
         * rows' activations per thread, and a run near the memory's end trained for minutes
         * and was killed by the kernel there, its model never written (no checkpoints by
         * default). The report, which holds the length, comes after it. */
        trained t = {.model = model, .cfg = &cfg, .train = &ss.train,
                     .report = o->report};
        cli_output outs[] = {{.label = "the model", .path = o->save, .write = save_model,
                              .ctx = &t},
                             {.label = "the report", .path = o->report, .write = save_report}};
        cli_outputs_write_each(outs, 1); /* rank 0's */
        occam_dl dl;
        occam_error dl_err = {0};
        int dl_rc = stop ? OCCAM_OK : occam_dl_compute(&dl, model, &cfg.mdl, &cfg.noise, train,
                                                     threads, NULL, &dl_err);
        bool have_dl = !stop && dl_rc == OCCAM_OK;
        if (stop)
            fprintf(stderr, "occam: stop requested (signal %d) after training had ended: the "
                    "description length is skipped, the outputs are written\n", stop);
        else if (!have_dl && dl_rc != OCCAM_ERR_RUNTIME) /* that one is the run's failure */
            fprintf(stderr, "occam: warning: no description length: %s\n",
                    cli_shown(dl_err.msg));
        else if (!have_dl)
            ; /* said as the run's failure, after the outputs */
        else
            printf("mdl    %s: model %.0f bits + data %.0f bits = %.0f bits (dense float32 "
                   "weights: %.0f bits)\n",
                   occam_dl_code_name(dl.code), dl.model_bits, dl.data_bits, dl.total_bits,
                   dl.dense_bits);
        if (have_dl && cfg.noise.enabled && dl.code != OCCAM_MDL_BITS_BACK)
            print_bits_back(model, &cfg, train, threads);
        printf("time   %.2f s training, %.0f samples/s, %s, BLIS %s\n", fit.train_seconds,
               fit.samples_per_second, team, arch);
        occam_report rep = {.command = "train", .cfg = &cfg, .model = model, .threads = threads,
                            .blis_arch = arch, .train = &ev_train, .test = &ev_test, .fit = &fit,
                            .prune = &plog, .mdl = have_dl ? &dl : NULL, .trainer = tr,
                            .resumed_from = o->resume, .resume_changes = resume_changes};
        outs[1].ctx = &rep;
        cli_outputs_write_each(outs + 1, 1);
        rc = cli_outputs_status(outs, 2, err);
        if (o->save && outs[0].rc == OCCAM_OK && root) printf("saved  %s\n", cli_shown(o->save));
        /* Training's loss is finite (fit checks it), so test rows the model cannot take are
         * the input's fault, as in eval: the model is kept above, and the run says so and
         * exits 2 instead of printing 'test loss -nan' with exit 0. */
        if (rc == OCCAM_OK) rc = cli_check_eval("train", "test", &ev_test, cfg.data.task, err);
        /* Memory that ran out for the description length is a failure, as everywhere: the
         * outputs are written (the report's mdl null), then exit 1 (it was 0, a warning). A
         * model no code describes (a near-diverged run's) stays a warning. */
        if (rc == OCCAM_OK && dl_rc == OCCAM_ERR_RUNTIME)
            rc = occam_error_set(err, OCCAM_ERR_RUNTIME, "no description length: %s%s",
                                 dl_err.msg, o->save || o->report ? " (the outputs were "
                                 "written)" : "");
        if (last_failed[0] && rc == OCCAM_OK) {
            rc = occam_error_set(err, OCCAM_ERR_RUNTIME, "the last checkpoint was not written "
                                 "(the outputs were): %s", last_failed);
        } else if (last_failed[0]) { /* both: say both */
            cli_msg_append(err, "; nor was the last checkpoint: %s", last_failed);
        }
        cli_outputs_final();
        if (!stop) stop = occam_fit_stop_agreed(world);
        if (rc == OCCAM_OK && stop)
            rc = occam_error_set(err, OCCAM_STOPPED + stop, "stopped by signal %d after "
                                 "training had ended, with every output written%s", stop,
                                 o->save ? "" : " (no --save: the trained weights are not "
                                 "kept)");
        /* an output that failed as the run stopped (a FIFO no reader opened gives up at the
         * stop) exited 1, where eval's, predict's and compress's exit 128 + the signal (found
         * by the fourth hostile-input sweep): the status says the stop, the message the rest */
        else if (rc == OCCAM_ERR_RUNTIME && stop) {
            cli_msg_append(err, "; stopped by signal %d after training had ended", stop);
            rc = OCCAM_STOPPED + stop;
            err->status = rc;
        }
    }
    occam_fit_result_free(&fit);
    occam_prune_log_free(&plog);
    cli_session_close(&ss);
    return rc;
}

int cmd_train(int argc, char **argv)
{
    return cli_command(argc, argv, CLI_SET | CLI_THREADS | CLI_REPORT | CLI_SAVE | CLI_RESUME |
                           CLI_PRINT_CONFIG,
                       usage, run);
}
