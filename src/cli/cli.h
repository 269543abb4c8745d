/* cli.h — private to the command-line front end: option parsing and run set-up shared by the
 * subcommands. */
#ifndef OCCAM_CLI_H
#define OCCAM_CLI_H

#include <stdbool.h>

#include "occam/config.h"
#include "occam/data.h"
#include "occam/error.h"
#include "occam/model.h"
#include "occam/runtime.h"
#include "occam/trainer.h"

#define CLI_MAX_SETS 256
#define CLI_MAX_GRIDS 16

/* Options a subcommand accepts. */
enum {
    CLI_SET = 1 << 0,
    CLI_THREADS = 1 << 1,
    CLI_REPORT = 1 << 2,
    CLI_SAVE = 1 << 3,
    CLI_CHECKPOINT = 1 << 4,
    CLI_JSON = 1 << 5,
    CLI_CODE = 1 << 6,
    CLI_OUT = 1 << 7,
    CLI_INPUT = 1 << 8,
    CLI_OUTPUT = 1 << 9,
    CLI_REPEATS = 1 << 10,
    CLI_THRESHOLD = 1 << 11,
    CLI_RESUME = 1 << 13,
    CLI_PRINT_CONFIG = 1 << 14,
    CLI_GRID = 1 << 15,
    CLI_VERBOSE = 1 << 16,
    CLI_CONFIG_OPTIONAL = 1 << 12, /* not an option: CONFIG may be left out */
};

typedef struct cli_opts {
    const char *config;       /* positional CONFIG */
    const char *sets[CLI_MAX_SETS];
    int nsets;
    int threads;              /* -1: not given */
    const char *report, *save, *checkpoint;
    const char *code;         /* --code: mdl.model_code */
    const char *out;          /* --out FILE */
    const char *input, *output; /* --input FILE, --output FILE */
    const char *repeats, *threshold; /* --repeats N, --threshold D (as given) */
    const char *resume;       /* --resume FILE */
    const char *grids[CLI_MAX_GRIDS]; /* --grid key=v1,v2,... (select), in order */
    int ngrids;
    bool json;                /* --json */
    bool print_config;        /* --print-config */
    bool verbose;             /* --verbose */
    bool help;
} cli_opts;

/* For getopt_long's option c just parsed, its value optarg: OCCAM_ERR_INPUT when c already
 * had one ("CMD: --NAME given twice ('a', then 'b'); give it once"), else noted in given
 * (128 entries, zeroed before the first option). A second --save or --checkpoint is a mistake
 * (a command line pasted onto another), and the last one winning would write or read a file
 * the user may not have meant; flags (no value) may repeat. */
int cli_option_once(const char *given[128], int c, const char *cmd, const char *name,
                    occam_error *err);

/* Parses argv (argv[0] is the subcommand name). OCCAM_ERR_INPUT with a usage message.
 * --set and --grid repeat; another option given twice is refused (cli_option_once). */
int cli_parse(int argc, char **argv, unsigned allowed, cli_opts *o, occam_error *err);

/* Builds the effective config (defaults, file, --set in order, validation) and resolves the
 * thread count (--threads overrides runtime.threads). */
int cli_setup(const cli_opts *o, occam_config *cfg, int *threads, occam_error *err);

/* The team as the opening line says it, "2 ranks × 2 threads" ("1 rank × 1 thread"; with
 * ranks of other counts, their range: "2 ranks × 1–2 threads"), into team; notes ranks that
 * multiply with other BLIS kernels than rank 0's (arch, its kernels). Collectives: every rank
 * calls it. */
void cli_team_text(char *team, size_t cap, int threads, const char *arch);

/* The note for a thread count asked for (origin = threads, > 0) above a CPU quota of `quota`
 * CPUs (0: none): the threads share the quota's time, and every step waits for the slowest
 * (the automatic team, 0, takes the quota). "" when it is within the quota. */
void cli_quota_note(char *buf, size_t cap, const char *origin, int threads, int quota);
/* That note on stderr (rank 0) for `threads` asked for (cli_threads_origin), against this
 * process's cgroup quota. */
void cli_say_quota(int threads);
/* On rank 0, a note when OMP_NUM_THREADS asks for more threads than the automatic team's
 * `automatic` (it stops at the cores). */
void cli_say_omp_num_threads(int automatic);

/* What set the thread count, for messages: "--threads" when o gave it, else "runtime.threads".
 * cli_setup records it (select, which resolves each point's count itself, calls
 * cli_threads_given), and the session's plan, which may still refuse the count (more threads
 * than the topology's cores), names it. */
void cli_threads_given(const cli_opts *o);
const char *cli_threads_origin(void);

/* What a computing subcommand works on. */
typedef struct cli_session {
    occam_config cfg;      /* the effective config (a copy) */
    int threads;
    const char *arch;      /* BLIS kernel set */
    occam_dataset train, test;
    occam_model model;
    occam_runtime rt;
    occam_trainer *tr;
    bool file_sigma;       /* the checkpoint carried posterior widths σ (a noisy run's model);
                              without them, noise.enabled leaves σ at noise.init_sigma */
    bool borrowed;         /* train and test are the caller's (cli_session_open_with) */
} cli_session;

/* Model (initialised from train.seed, or loaded from `checkpoint` when non-NULL), data,
 * placed runtime and trainer. On failure everything is freed. */
int cli_session_open(cli_session *s, const occam_config *cfg, int threads,
                     const char *checkpoint, occam_error *err);
/* The same with the data already loaded (for cfg's data keys and model widths, by
 * occam_data_load): the session borrows train and test, and closing it leaves them to the
 * caller, who keeps them until then. */
int cli_session_open_with(cli_session *s, const occam_config *cfg, int threads,
                          const occam_dataset *train, const occam_dataset *test,
                          occam_error *err);
void cli_session_close(cli_session *s);

/* Under mpirun, whether every rank holds rank 0's model (weights, mask, noise widths): each
 * rank scores or trains its share of the rows with its own weights, and the sums of ranks
 * that loaded other files mix them into nobody's result. Every rank calls it, whatever its
 * rc; returns rc, or on a rank that differs an input error naming `from` (where its weights
 * came from). Not agreed: cli_agree follows. */
int cli_ranks_same_model(const occam_model *m, const char *from, int rc, occam_error *err);
/* The same for a resumed training state, by the hash of its tensors (the reader's
 * tensors_hash): equal weights in states at other places of a run, or with other moments,
 * hung the ranks or mixed their updates. */
int cli_ranks_same_state(uint64_t tensors_hash, const char *from, int rc, occam_error *err);
/* The same for rows read from `from` (predict's --input): every rank calls it. */
int cli_ranks_same_rows(const occam_dataset *ds, const char *from, int rc, occam_error *err);

/* mdl and compress: a note on stderr (rank 0) when checkpoint is a version 8 .occ file coded
 * on another image grid than s's data has (occam_dl_grid_w): the description lengths there may
 * differ from the file's code. */
void cli_note_other_grid(const char *checkpoint, const cli_session *s);

/* occam_checkpoint_check_config, and a note on stderr when checkpoint is a version 3 .occ file,
 * whose data scaling could not be checked. */
int cli_check_config(const char *checkpoint, const occam_config *cfg, occam_error *err);

/* A loss or a test or training metric as the lines print it, into buf (cap >= 16): "%.4f", or
 * "%.4g" from 1e6 up (a relative error of 1.7e57 printed 58 digits). Returns buf. */
char *cli_metric(char *buf, size_t cap, double v);

/* "NAME  loss .. accuracy .." or "NAME  mse .. relative_error ..", and a note on stderr when
 * the relative error is undefined (targets that do not vary). Nothing for an empty set. */
void cli_print_eval(const char *name, const occam_eval *ev, occam_task task);

/* OCCAM_ERR_INPUT when the model's outputs are not numbers on a non-empty set ("training" or
 * "test"): finite values can overflow through the layers (3e38 under data.normalize = none),
 * which would print 'loss -nan' with exit 0. cmd names the command in the message. */
int cli_check_eval(const char *cmd, const char *set, const occam_eval *ev, occam_task task,
                   occam_error *err);

/* SIGINT, SIGTERM, SIGUSR1, SIGHUP (unless ignored, as under nohup) and SIGXCPU ask a training
 * run to stop after its current step (occam_fit_request_stop); a second one within a second is
 * the same stop, and a later one (not SIGXCPU) ends the process at once, removing the temporary
 * file of an output being written. Until cli_session_open has loaded the inputs, a first one ends a
 * lone process at once, saying so (nothing is trained yet). */
void cli_catch_stop_signals(void);
/* From now on a first stop signal finds no training step to stop at: the handler says at once
 * that the outputs are written before the run stops. */
void cli_training_ended(void);
/* Every output is written and the last stop check is next: from now on a stop signal ends the
 * process at once, by the signal (the shell sees 128 + n), as a second one would; under mpirun
 * a first one is let go unheard (a rank dying alone aborts its peers' agreement). A first one
 * used to be recorded after that check and never read: it said "the outputs are written first",
 * then the run exited 0. Flushes stdout and stderr first. */
void cli_outputs_final(void);

/* Whether occam compress, run with cfg, reads the config key "section.key" that
 * occam_config_drop_inert found unread by a training run (its reason starts with the key):
 * compress writes the two-part code whatever mdl.model_code says, and for a noisy model
 * computes the bits-back code beside it, so the keys of those codes are read there even when
 * the run's own code reads none of them. */
bool cli_compress_reads(const occam_config *cfg, const char *why);

/* On rank 0, a note on stderr for each key cfg sets that its run does not read
 * (occam_config_drop_inert), only those whose name starts with `only` when it is not NULL
 * (occam mdl names the mdl.* keys its code does not read; it trains nothing). An mdl.* key
 * compress still reads with cfg is named as such. A [noise] section switched off is not, nor
 * (`only` NULL: occam train) a noisy run's bits-back keys, which train's bits-back line reads. */
void cli_note_inert(const occam_config *cfg, const char *only);

/* On rank 0, a note on stderr when the model file (a safetensors file, or a version 9 or
 * later .occ file) records training rows other than train (occam_checkpoint_same_rows; a
 * changed data.train, data.holdout or data.seed), with `also`
 * appended; where cfg scales the inputs or targets, that they are scaled by other statistics
 * than the model's. */
void cli_note_trained_rows(const char *checkpoint, const occam_config *cfg,
                           const occam_dataset *train,
                           const char *also);

/* Notes on stderr about a CSV: its first column is a row index another program wrote
 * (occam_dataset.row_index), which occam reads as a feature; a column float32 keeps too coarsely
 * (occam_dataset.coarse_col). what names the file's key or option ("data.train", "--input");
 * rank 0 says it, the others say nothing. */
void cli_note_csv(const char *what, const char *path, const occam_dataset *ds);
/* ", label column N (\"NAME\")" for a CSV set with a label column (its header's name quoted,
 * when it has one), "" otherwise: the data line says which column a run learns (a forgotten
 * data.label = first trained on the last feature without a word). */
void cli_label_text(char *buf, size_t cap, const occam_dataset *ds);
/* On rank 0, for classification: a note naming the classes no training row has, and how many
 * test rows (test may be NULL) are of them. */
void cli_note_classes(const occam_dataset *train, const occam_dataset *test);
/* On rank 0, for regression: a note when a training target spans less than
 * target_precision (mdl.target_precision), where the data code cannot tell fits apart, or
 * when target_precision is finer than float32 resolves the targets, where each row pays for
 * digits the data do not have. */
void cli_note_targets(const char *path, const occam_dataset *train, double target_precision);

int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_topo(int argc, char **argv);
int cmd_mdl(int argc, char **argv);
int cmd_compress(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_bench_infer(int argc, char **argv);
int cmd_bench_select(int argc, char **argv);
int cmd_select(int argc, char **argv);

/* Under mpirun every rank must take the same path through the command line: a rank that
 * printed its help and left, or ran another command, would leave the others waiting in their
 * first collective for ever. `action` names the path ("train", "train --help", "bench gemm"):
 * when a rank's differs from rank 0's, the lowest such rank says so and every rank gets the
 * exit status 2; 0 when they agree (always, without mpirun). Every rank must call it. */
#define CLI_ACTION_MAX 256
int cli_same_action(const char *action);
/* An action naming every argument (argv[0] .. argv[argc-1], spaced), for the commands that
 * take no config and so no key that may differ between ranks (bench gemm, memory and select;
 * plot): cut, past what the broadcast holds, with the CRC-32 of the whole. An output option
 * among `outputs` (NULL-terminated, e.g. "--out"; given as "--out X" or "--out=X") counts
 * without its path: each rank may name its own, and rank 0 writes. So such an output is named
 * on every rank or on none. */
void cli_action_args(char *buf, size_t cap, int argc, char **argv, const char *const *outputs);
/* Whether a config key may differ between mpirun's ranks: its data paths, its checkpoint
 * folder, its threads and their placement (runtime.* but runtime.grad). */
bool cli_rank_local(const char *key);

/* The body of a subcommand that takes CONFIG and the options in `allowed`: parses argv, prints
 * `usage` for --help, else calls run; returns the exit code. */
int cli_command(int argc, char **argv, unsigned allowed, const char *usage,
                int (*run)(const cli_opts *o, occam_error *err));

/* An output written when the work is done (src/cli/outputs.c). */
typedef struct cli_output {
    const char *label; /* "the model", "the report" */
    const char *path;  /* NULL: not asked for, skipped */
    int (*write)(void *ctx, const char *path, occam_error *err);
    void *ctx;
    int rc;            /* filled in: the writer's status */
    char msg[OCCAM_ERROR_MAX]; /* filled in: its message when it failed */
} cli_output;

/* Writes outs[0..n) in order, each one even when an earlier one failed. OCCAM_OK when all were
 * written; otherwise OCCAM_ERR_RUNTIME with one message over all of them, such as "wrote the
 * model to M; the report could not be written: R: write failed: No space left on device".
 * cli_outputs_write is cli_outputs_write_each then cli_outputs_status; a command that must
 * write one output before later work (train's model, before the description length) calls
 * them apart, and cli_outputs_status once over all. Rank 0 writes; the others' are OCCAM_OK. */
int cli_outputs_write(cli_output *outs, int n, occam_error *err);
void cli_outputs_write_each(cli_output *outs, int n);
int cli_outputs_status(const cli_output *outs, int n, occam_error *err);

/* OCCAM_ERR_RUNTIME with "CMD: writing to standard output failed: REASON" when stdout cannot
 * be flushed or a write to it failed, else OCCAM_OK. REASON is errno's, so the caller zeroes
 * errno before its writes (otherwise "a write failed"): the reason main's own check at exit
 * cannot give once the buffer a failed write left is gone. */
int cli_stdout_check(const char *cmd, occam_error *err);
/* Flushes stdout: false when that or an earlier flush or write failed. The first failure's
 * errno is kept for cli_stdout_reason ("a write failed" without one). */
bool cli_stdout_flush(void);
const char *cli_stdout_reason(void);

/* An output (`what` names the option) refused when it is one of the run's inputs: CONFIG,
 * --checkpoint, --resume, --input, or the files cfg's data are read from (occam_data_files;
 * cfg may be NULL). Writing it would
 * replace the input (select's later points would read a model as their data).
 * Also the output's stream (cli_check_stream). */
int cli_check_not_input(const char *path, const char *what, const cli_opts *o,
                        const occam_config *cfg, occam_error *err);

/* An output written in place into the file or pipe behind standard output (`--save /dev/stdout
 * > m.st`, `--out /dev/stdout | ssh ...`) takes standard output for itself: from here on the
 * command's text (its header, summary, "wrote" lines) goes to standard error, which it was
 * mixed into before, leaving a model that would not load. One behind standard error, where
 * the messages always go, is refused (OCCAM_ERR_INPUT); so is one behind both (`> f 2>&1`).
 * A terminal or /dev/null (a character device) is left alone: nothing reads those back; so is
 * a file named as such, which is replaced whole. Rank 0's streams only: it writes. */
int cli_check_stream(const char *path, const char *what, occam_error *err);

/* Whether a and b are written in place into one file or pipe that is not a character device
 * (/dev/stdout twice): the two outputs would land in one stream, one after the other. */
bool cli_same_stream(const char *a, const char *b);

/* One output (`what` names the option) checked before the work starts: occam_outfile_check,
 * then cli_check_not_input. On rank 0 only: it writes every output, and another rank's host
 * need not have the output's folder. OCCAM_ERR_INPUT naming the option. */
int cli_check_output(const char *path, const char *what, const cli_opts *o,
                     const occam_config *cfg, occam_error *err);

/* --save and --report checked before the work starts (cli_check_output), and refused when
 * they name one file; OCCAM_ERR_INPUT naming the option. Rank 0's only, as cli_check_output. */
int cli_check_outputs(const cli_opts *o, const occam_config *cfg, occam_error *err);

/* Prints "occam: MSG" to stderr (through cli_shown) and returns err->status (the exit code). A
 * failure with no message still prints a line, naming cli_command_name (the subcommand, set by
 * main). */
int cli_fail(const occam_error *err);
/* Adds printf's text to the end of err's message (cut where it is full). */
void cli_msg_append(occam_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* text as a message may show it: control bytes and broken UTF-8 as \xHH (occam_error_quote),
 * so an argument echoed as typed cannot drive the terminal. One of 4 rotating buffers: at most
 * 4 uses in one printf. */
const char *cli_shown(const char *text);
/* Under mpirun, ranks other than 0 print nothing (stdout and stderr discarded) except the error
 * they are the ones to report. Called once by main. */
void cli_quiet_other_ranks(void);
/* Agreement at the end of a phase that may fail on some ranks only (config, data, files):
 * returns the status of the lowest failing rank on every rank; the message stays only with that
 * rank. Every rank must call it. */
int cli_agree(int rc, occam_error *err);
/* The end of a command whose ranks call no collective before it (plot, bench gemm and bench
 * memory): cli_agree, then the lowest failing rank with a message prints it (cli_fail) and every
 * rank returns the agreed status. Every rank must call it once. */
int cli_end(int rc, occam_error *err);
extern const char *cli_command_name;

#endif
