/* The gnuplot plumbing: finding gnuplot, the output folder, NAME.dat files, and NAME.png drawn
 * by piping a script to gnuplot.
 *
 * A script is built in memory (open_memstream) and sent in one write, so a gnuplot that is
 * missing or fails is seen at pclose as an exit status, never half-way through a script.
 * Scripts use single-quoted gnuplot strings, in which only '' needs escaping and a backslash is
 * an ordinary character. A control character is another matter: gnuplot reads its script line
 * by line, so a newline inside a string ends the command and starts the next one (`occam plot
 * --out $'x\nsystem "..."'` ran a shell command). File names with control characters are
 * refused before anything is written (occam_plot_check_name), and any other string, a title
 * from an input file, has them replaced. The terminal is `noenhanced`, so underscores in titles
 * and file names print as themselves.
 *
 * Every file is written through occam/outfile.h. gnuplot writes the PNG by name, so the name in
 * its script is the writer's temporary file; the PNG replaces NAME.png only once gnuplot has
 * exited 0 having written something, and is removed otherwise. */
#include "plot-impl.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "occam/fsutil.h"

#define GP_TERMINAL "set terminal pngcairo size 900,600 font 'Sans,11' noenhanced\n"

bool occam_plot_have_gnuplot(const char *cmd)
{
    if (!cmd) cmd = "gnuplot";
    if (strchr(cmd, '/')) return access(cmd, X_OK) == 0;
    const char *path = getenv("PATH");
    if (!path || !*cmd) return false;
    char full[PATH_MAX];
    for (const char *p = path;;) {
        const char *colon = strchr(p, ':');
        size_t len = colon ? (size_t)(colon - p) : strlen(p);
        /* An empty PATH entry means the current folder. */
        int w = len ? snprintf(full, sizeof full, "%.*s/%s", (int)len, p, cmd)
                    : snprintf(full, sizeof full, "./%s", cmd);
        if (w > 0 && (size_t)w < sizeof full && access(full, X_OK) == 0) return true;
        if (!colon) return false;
        p = colon + 1;
    }
}

int occam_plot_check_name(const char *name, const char *what, occam_error *err)
{
    for (const unsigned char *s = (const unsigned char *)name; *s; s++)
        if (*s < 0x20 || *s == 0x7f)
            return occam_error_set(err, OCCAM_ERR_INPUT,
                                   "%s: the name holds a control character (byte 0x%02x at "
                                   "offset %zu); gnuplot would read it as part of its script "
                                   "or data",
                                   what, *s, (size_t)(s - (const unsigned char *)name));
    return OCCAM_OK;
}

/* Whether input lies in the folder dir (an existing one) under a name a figure or its
 * numbers take (.png, .dat). */
static bool input_in_out(const char *input, const char *dir)
{
    size_t n = strlen(input);
    if (n < 4 || (strcmp(input + n - 4, ".png") && strcmp(input + n - 4, ".dat"))) return false;
    char *folder = strdup(input);
    if (!folder) return false;
    char *slash = strrchr(folder, '/');
    if (slash) slash[slash == folder] = '\0'; /* "/x.png": the root */
    struct stat a, b;
    bool in = stat(slash ? folder : ".", &a) == 0 && stat(dir, &b) == 0 &&
              a.st_dev == b.st_dev && a.st_ino == b.st_ino;
    free(folder);
    return in;
}

int plot_ctx_open(plot_ctx *c, const occam_plot_params *p, occam_error *err)
{
    OCCAM_ASSERT(p->out_dir);
    int rc = occam_plot_check_name(p->out_dir, "--out", err);
    if (rc) return rc;
    c->dir = p->out_dir;
    c->gnuplot = p->gnuplot ? p->gnuplot : "gnuplot";
    c->log = p->log;
    c->inputs = p->inputs;
    /* each figure's path is checked against the inputs as it is drawn (out_path), but an
     * input named like a later figure stopped the run after the earlier ones were written:
     * every input is checked first, a bad one writing nothing (found by the fourth
     * hostile-input sweep) */
    for (int i = 0; i < 3; i++)
        if (c->inputs[i] && input_in_out(c->inputs[i], c->dir))
            return occam_error_set(err, OCCAM_ERR_INPUT, "--out %s: the input %s lies in it "
                                   "under a name plot writes (.png, .dat), and a figure would "
                                   "replace it; choose another folder", c->dir, c->inputs[i]);
    if (!occam_plot_have_gnuplot(c->gnuplot))
        return occam_error_set(err, OCCAM_ERR_RUNTIME,
                               "cannot draw plots: '%s' is not an executable on PATH (install "
                               "Debian's gnuplot-nox, e.g. with 'make deps')", c->gnuplot);
    return occam_fsutil_make_dir(c->dir, "--out", err);
}

static int out_path(const plot_ctx *c, const char *name, const char *ext, char *path,
                    occam_error *err)
{
    int w = snprintf(path, PATH_MAX, "%s/%s.%s", c->dir, name, ext);
    if (w < 0 || w >= PATH_MAX)
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: output path too long", c->dir);
    /* a report called learning.dat in the output folder was replaced by the figure's numbers */
    for (int i = 0; i < 3; i++)
        if (c->inputs[i] && occam_outfile_same(path, c->inputs[i]))
            return occam_error_set(err, OCCAM_ERR_INPUT, "--out %s: %s would replace the input "
                                   "%s; choose another folder", c->dir, path, c->inputs[i]);
    return OCCAM_OK;
}

static void log_wrote(const plot_ctx *c, const char *path)
{
    if (c->log) fprintf(c->log, "wrote %s\n", path);
}

/* ---- .dat files ---------------------------------------------------------------------------- */

int plot_dat_open(plot_dat *d, const plot_ctx *c, const char *name, occam_error *err)
{
    d->f = NULL;
    int rc = out_path(c, name, "dat", d->path, err);
    if (rc == OCCAM_OK) rc = occam_outfile_open(&d->out, d->path, err);
    if (rc == OCCAM_OK) d->f = d->out.f;
    return rc;
}

int plot_dat_close(plot_dat *d, const plot_ctx *c, occam_error *err)
{
    d->f = NULL;
    int rc = occam_outfile_commit(&d->out, err);
    if (rc == OCCAM_OK) log_wrote(c, d->path);
    return rc;
}

void plot_dat_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, " %.9g", v);
    else
        fputs(" NaN", f);
}

void plot_dat_row(FILE *f, const double *v, int n)
{
    for (int k = 0; k < n; k++) plot_dat_num(f, v[k]);
    fputc('\n', f);
}

/* ---- gnuplot scripts ----------------------------------------------------------------------- */

/* s in single quotes after prefix, with quotes doubled and control bytes as '?'. */
static void gp_quoted(FILE *f, const char *prefix, const char *s)
{
    fputc('\'', f);
    fputs(prefix, f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '\'') fputc('\'', f);
        fputc(ch < 0x20 || ch == 0x7f ? '?' : ch, f);
    }
    fputc('\'', f);
}

void plot_gp_str(FILE *f, const char *s) { gp_quoted(f, "", s); }

void plot_gp_data(FILE *f, const char *dat_path, const char *fmt, ...)
{
    /* gnuplot runs a data file name that opens with '<' as a shell command, and reads one
     * that opens with '$' as a datablock: --out '<touch x #' ran touch (found by the fourth
     * hostile-input sweep). A relative path goes as ./PATH, which opens with neither. */
    gp_quoted(f, dat_path[0] == '/' ? "" : "./", dat_path);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
}

bool plot_gp_flat(double lo, double hi)
{
    return isfinite(lo) && isfinite(hi) && hi - lo <= 1e-7 * fmax(fabs(lo), fabs(hi));
}

void plot_gp_yrange(FILE *f, double lo, double hi, double least, double most)
{
    if (!plot_gp_flat(lo, hi)) {
        fputs("set autoscale y\n", f);
        return;
    }
    double mid = lo + (hi - lo) / 2, pad = mid != 0 ? fabs(mid) * 0.05 : 1;
    double y0 = mid - pad, y1 = mid + pad;
    /* against a bound, the range keeps its width on the other side */
    if (y1 > most && mid <= most) y0 = most - 2 * pad, y1 = most;
    if (y0 < least && mid >= least) y1 = least + 2 * pad, y0 = least;
    if (y1 > most && mid <= most) y1 = most; /* both: the bounds themselves */
    fprintf(f, "set yrange [%.17g:%.17g]\n", y0, y1);
}

const char *plot_gp_bits_format(bool logy, double lo, double hi)
{
    return logy && lo >= 1 && hi < 1e15 ? "%.0s%c" : "%g";
}

void plot_gp_multiplot(FILE *f, int rows, int cols, const char *title)
{
    fprintf(f, "set multiplot layout %d,%d title ", rows, cols);
    plot_gp_str(f, title);
    fputs(" font ',13'\n", f);
}

int plot_gp_open(plot_gp *g, const plot_ctx *c, const char *name, occam_error *err)
{
    int rc = out_path(c, name, "png", g->png, err);
    if (rc) return rc;
    g->buf = NULL;
    g->len = 0;
    g->f = open_memstream(&g->buf, &g->len);
    if (!g->f) return plot_oom(err);
    fputs("set grid lc rgb '#d8d8d8'\nset key box opaque samplen 2\n", g->f);
    return OCCAM_OK;
}

/* The status of a finished gnuplot as an error, OCCAM_OK when it exited 0 having read it all. */
static int gp_status(const plot_gp *g, const plot_ctx *c, int st, bool sent, occam_error *err)
{
    if (st == -1)
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "'%s': %s", c->gnuplot, strerror(errno));
    if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "cannot run '%s' (install gnuplot-nox)",
                               c->gnuplot);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return occam_error_set(err, OCCAM_ERR_RUNTIME,
                               "gnuplot ('%s') failed drawing %s (%s %d; its messages are above)",
                               c->gnuplot, g->png, WIFEXITED(st) ? "exit status" : "signal",
                               WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    if (!sent)
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "could not send the script to '%s'",
                               c->gnuplot);
    return OCCAM_OK;
}

/* Starts gnuplot (`sh -c 'exec GNUPLOT'`: popen's shell, which then becomes gnuplot, since
 * Debian's sh would run it as its child) with a pipe for its input, or returns -1 with errno.
 * Its PID goes to the output writer's signal handler, which kills it before removing the
 * temporary PNG it draws into: a SIGTERM to occam alone left gnuplot drawing on, and it created
 * the file again after occam had removed it (found by a hostile-input sweep). It stays in
 * occam's process group, so a signal to the group (Ctrl-C, timeout -s KILL) reaches it as
 * before, and a terminal's `stty tostop` does not stop its messages; a GNUPLOT that is a
 * pipeline ('tee script.gp | gnuplot') keeps its later commands as the shell's children. */
static pid_t gp_start(const char *cmd, int *to)
{
    size_t n = strlen(cmd) + 6;
    char *line = malloc(n);
    if (!line) return -1;
    snprintf(line, n, "exec %s", cmd);
    int fd[2];
    if (pipe2(fd, O_CLOEXEC) != 0) {
        free(line);
        return -1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fd[0], STDIN_FILENO);
    char *argv[] = {"sh", "-c", line, NULL};
    pid_t pid;
    int e = posix_spawn(&pid, "/bin/sh", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    free(line);
    close(fd[0]);
    if (e) {
        close(fd[1]);
        errno = e;
        return -1;
    }
    occam_outfile_set_child(pid);
    *to = fd[1];
    return pid;
}

/* Starts gnuplot, writes the head and the script to it and waits for it to exit. */
static int gp_pipe(const plot_gp *g, const char *head, size_t head_len, const plot_ctx *c,
                   occam_error *err)
{
    /* Writing to a gnuplot that has already died must be an error status, not a signal. */
    struct sigaction ign = {.sa_handler = SIG_IGN}, old;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, &old);
    fflush(NULL); /* nothing of ours is pending when the child starts */
    int to = -1, rc = OCCAM_OK;
    pid_t pid = gp_start(c->gnuplot, &to);
    FILE *p = pid > 0 ? fdopen(to, "w") : NULL;
    if (!p) {
        rc = occam_error_set(err, OCCAM_ERR_RUNTIME, "cannot start '%s': %s", c->gnuplot,
                             strerror(errno));
        if (pid > 0) close(to); /* gnuplot reads the end of its script, and exits */
    }
    if (pid > 0) {
        bool sent = p && fwrite(head, 1, head_len, p) == head_len &&
                    fwrite(g->buf, 1, g->len, p) == g->len && fflush(p) == 0;
        if (p) fclose(p);
        /* waited for without reaping it, so that its PID, which the handler may still kill,
         * is nobody else's until the handler is told */
        siginfo_t si;
        while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0 && errno == EINTR) {}
        occam_outfile_set_child(0);
        int st = 0;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
        if (p) rc = gp_status(g, c, st, sent, err);
    }
    sigaction(SIGPIPE, &old, NULL);
    return rc;
}

/* The terminal, and the output: the temporary file gnuplot draws into. */
static int gp_head(const occam_outfile *png, char **head, size_t *len, occam_error *err)
{
    /* The writer's path is the resolved folder's: a symlink may lead to any name. */
    int rc = occam_plot_check_name(png->path, png->shown, err);
    if (rc) return rc;
    FILE *h = open_memstream(head, len);
    if (!h) return plot_oom(err);
    fputs(GP_TERMINAL, h);
    fputs("set output ", h);
    plot_gp_str(h, png->path);
    fputc('\n', h);
    bool bad = ferror(h) != 0;
    if (fclose(h) != 0 || bad) {
        free(*head);
        *head = NULL;
        return plot_oom(err);
    }
    return OCCAM_OK;
}

/* Whether the file at path ends as every PNG does, with the IEND chunk: a gnuplot that hit a
 * full disk or a file-size limit may still exit 0, having written part of the image. */
static bool png_complete(const char *path)
{
    static const unsigned char iend[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82};
    unsigned char tail[12];
    FILE *f = fopen(path, "rb");
    bool ok = f && fseek(f, -12, SEEK_END) == 0 && fread(tail, 1, 12, f) == 12 &&
              memcmp(tail, iend, 12) == 0;
    if (f) fclose(f);
    return ok;
}

int plot_gp_run(plot_gp *g, const plot_ctx *c, occam_error *err)
{
    fputs("unset output\n", g->f);
    bool built = !ferror(g->f);
    fclose(g->f);
    g->f = NULL;
    occam_outfile png;
    char *head = NULL;
    size_t head_len = 0;
    int rc = built ? occam_outfile_open(&png, g->png, err) : plot_oom(err);
    if (rc == OCCAM_OK && (rc = gp_head(&png, &head, &head_len, err)) != OCCAM_OK)
        occam_outfile_abort(&png);
    if (rc == OCCAM_OK) {
        rc = gp_pipe(g, head, head_len, c, err);
        /* A device or FIFO takes what it is given; a file must have been drawn into. */
        struct stat st;
        if (rc == OCCAM_OK && !png.in_place && (stat(png.path, &st) != 0 || st.st_size == 0))
            rc = occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: gnuplot exited without writing it",
                                 g->png);
        else if (rc == OCCAM_OK && !png.in_place && !png_complete(png.path))
            rc = occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: gnuplot wrote an incomplete PNG "
                                 "(no IEND chunk at its end; a full disk, or a file-size limit "
                                 "as ulimit -f sets?)", g->png);
        if (rc == OCCAM_OK) rc = occam_outfile_commit(&png, err);
        else occam_outfile_abort(&png);
    }
    free(head);
    free(g->buf);
    g->buf = NULL;
    if (rc == OCCAM_OK) log_wrote(c, g->png);
    return rc;
}
