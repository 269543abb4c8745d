/* The grid of `occam select` (see grid.h): each --grid option cut into its key and values in a
 * private copy, every value tried on the base config through the same table --set uses, so a
 * mistyped key or value is refused before anything trains. */
#include "grid.h"

#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void grid_free(grid *g)
{
    for (int a = 0; a < g->naxes; a++) {
        free(g->axis[a].values);
        free(g->axis[a].text);
    }
    memset(g, 0, sizeof *g);
}

/* "section.key=value" in a fresh string; NULL when out of memory. */
static char *assignment(const char *key, const char *value)
{
    size_t n = strlen(key) + strlen(value) + 2;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s=%s", key, value);
    return s;
}

#define LIST_HINT                                                                                \
    " (in --grid, ',' separates the values; a list-valued key writes its entries with ':', "    \
    "e.g. 30:10:2)"

/* Sets key=value on cfg through the config table. Its messages begin "--set KEY: ..."; here
 * they name the --grid option instead. */
static int set_value(occam_config *cfg, const grid_axis *ax, const char *value, occam_error *err)
{
    char *s = assignment(ax->key, value);
    if (!s) return occam_error_set(err, OCCAM_ERR_RUNTIME, "--grid: out of memory");
    occam_error e = {0};
    int rc = occam_config_set(cfg, s, &e);
    free(s);
    if (rc == OCCAM_OK) return OCCAM_OK;
    const char *why = strncmp(e.msg, "--set ", 6) ? e.msg : e.msg + 6;
    /* --grid model.layers=20,5,3 is three one-entry values, refused as a list of one entry;
     * the message says why, as the list's ',' is taken by the grid. */
    bool one = occam_config_key_is_list(ax->key) && !strchr(value, ',');
    return occam_error_set(err, rc, "--grid %s: %s%s", ax->spec, why, one ? LIST_HINT : "");
}

/* "section.key" of the assignment text s (up to its '=', or the end), with the spaces the
 * config table's parser trims around each part dropped, into out ("" if it has no '.'). */
static void key_norm(const char *s, char *out, size_t cap)
{
    size_t n = strcspn(s, "="), o = 0;
    const char *dot = memchr(s, '.', n);
    out[0] = 0;
    if (!dot || cap == 0) return;
    const char *part[2][2] = {{s, dot}, {dot + 1, s + n}};
    for (int k = 0; k < 2; k++) {
        const char *a = part[k][0], *b = part[k][1];
        while (a < b && isspace((unsigned char)*a)) a++;
        while (b > a && isspace((unsigned char)b[-1])) b--;
        for (; a < b && o + 2 < cap; a++) out[o++] = *a;
        if (k == 0 && o + 2 < cap) out[o++] = '.';
    }
    out[o] = 0;
}

int grid_check_option(const grid *g, const char *option, const char *key, occam_error *err)
{
    for (int k = 0; key[0] && k < g->naxes; k++) /* axis keys are normalised by axis_split */
        if (!strcmp(key, g->axis[k].key))
            return occam_error_set(err, OCCAM_ERR_INPUT, "%s: %s is a grid key (--grid %s), whose "
                                   "values would replace it at every point", option, key,
                                   g->axis[k].spec);
    return OCCAM_OK;
}

int grid_check_sets(const grid *g, const char *const *sets, int n, occam_error *err)
{
    char a[256], option[sizeof a + 8];
    int rc = OCCAM_OK;
    for (int i = 0; rc == OCCAM_OK && i < n; i++) {
        key_norm(sets[i], a, sizeof a);
        snprintf(option, sizeof option, "--set %s", sets[i]);
        rc = grid_check_option(g, option, a, err);
    }
    return rc;
}

/* s without its leading and trailing blanks, cut in place. */
static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) s[--n] = 0;
    return s;
}

/* Cuts ax->text ("key=v1,v2,...") into key and values, in place. The key and each value lose
 * the blanks around them, as the config table's parser drops them: ' model.layers = 4:8:3'
 * is model.layers (a list key, whose ':' become ',') and its value '4:8:3', and the table,
 * the report and the plot show train.lr and 0.1, not ' train.lr ' and ' 0.1 '. */
static int axis_split(grid_axis *ax, occam_error *err)
{
    char *eq = strchr(ax->text, '=');
    if (!eq || eq == ax->text || !memchr(ax->text, '.', (size_t)(eq - ax->text)))
        return occam_error_set(err, OCCAM_ERR_INPUT, "--grid %s: expected "
                               "section.key=v1,v2,... (see 'occam select --help')", ax->spec);
    *eq = 0;
    char *dot = strchr(ax->text, '.'); /* in place: each part moves left or stays */
    *dot = 0;
    char *sec = trim(ax->text), *name = trim(dot + 1);
    size_t ls = strlen(sec);
    memmove(ax->text, sec, ls);
    ax->text[ls] = '.';
    memmove(ax->text + ls + 1, name, strlen(name) + 1);
    ax->key = ax->text;
    /* select trains its points without checkpoints: such a grid trained the same point twice
     * over, without a word */
    if (!strncmp(ax->key, "train.checkpoint_", 17))
        return occam_error_set(err, OCCAM_ERR_INPUT, "--grid %s: select trains its points "
                               "without checkpoints, so %s would change nothing", ax->spec,
                               ax->key);
    bool list = occam_config_key_is_list(ax->key);
    int n = 1;
    for (char *c = eq + 1; *c; c++) n += *c == ',';
    ax->values = malloc((size_t)n * sizeof *ax->values);
    if (!ax->values) return occam_error_set(err, OCCAM_ERR_RUNTIME, "--grid: out of memory");
    char *v = eq + 1;
    for (int i = 0; i < n; i++) {
        char *comma = strchr(v, ',');
        if (comma) *comma = 0;
        char *next = comma ? comma + 1 : v + strlen(v);
        v = trim(v);
        if (!*v)
            return occam_error_set(err, OCCAM_ERR_INPUT, "--grid %s: value %d of %s is empty",
                                   ax->spec, i + 1, ax->key);
        if (list)
            for (char *c = v; *c; c++)
                if (*c == ':') *c = ',';
        /* model.layers=3,8,3 is one list written with ',': the value twice, and the hint */
        for (int j = 0; j < i; j++)
            if (!strcmp(ax->values[j], v))
                return occam_error_set(err, OCCAM_ERR_INPUT, "--grid %s: %s takes the value "
                                       "'%s' twice%s", ax->spec, ax->key, v,
                                       list && !strchr(v, ',') ? LIST_HINT : "");
        ax->values[ax->n++] = v;
        v = next;
    }
    return OCCAM_OK;
}

static int grid_parse_axes(grid *g, const char *const *specs, int n, const occam_config *base,
                           occam_error *err)
{
    if (n == 0)
        return occam_error_set(err, OCCAM_ERR_INPUT, "select: needs at least one --grid "
                               "section.key=v1,v2,... (see 'occam select --help')");
    occam_config *scratch = malloc(sizeof *scratch);
    if (!scratch) return occam_error_set(err, OCCAM_ERR_RUNTIME, "--grid: out of memory");
    int rc = OCCAM_OK;
    for (int a = 0; a < n && rc == OCCAM_OK; a++) {
        grid_axis *ax = &g->axis[g->naxes++];
        ax->spec = specs[a];
        ax->text = strdup(specs[a]);
        if (!ax->text) rc = occam_error_set(err, OCCAM_ERR_RUNTIME, "--grid: out of memory");
        if (rc == OCCAM_OK) rc = axis_split(ax, err);
        for (int b = 0; rc == OCCAM_OK && b < a; b++)
            if (!strcmp(g->axis[b].key, ax->key))
                rc = occam_error_set(err, OCCAM_ERR_INPUT, "--grid %s: %s is already a grid "
                                     "key (--grid %s)", ax->spec, ax->key, g->axis[b].spec);
        for (int i = 0; rc == OCCAM_OK && i < ax->n; i++) {
            *scratch = *base;
            rc = set_value(scratch, ax, ax->values[i], err);
        }
    }
    free(scratch);
    return rc;
}

/* Two values of one axis that set the same config (0 and 0.0, 1e-3 and 0.001, 4,3,2 and
 * 4, 3, 2) would train the same point twice. The config is built to compare with memcmp (its
 * setters clear padding, whole strings and whole lists), so equal bytes are equal values, and
 * bytes that differ at worst let a pair through. Each axis has at most GRID_MAX_POINTS values
 * here (the points were counted first). */
static int axes_distinct(const grid *g, const occam_config *base, occam_error *err)
{
    int rc = OCCAM_OK;
    for (int a = 0; a < g->naxes && rc == OCCAM_OK; a++) {
        const grid_axis *ax = &g->axis[a];
        occam_config *set = malloc((size_t)ax->n * sizeof *set);
        if (!set) return occam_error_set(err, OCCAM_ERR_RUNTIME, "--grid: out of memory");
        for (int i = 0; i < ax->n && rc == OCCAM_OK; i++) {
            set[i] = *base;
            rc = set_value(&set[i], ax, ax->values[i], err);
            for (int j = 0; j < i && rc == OCCAM_OK; j++)
                if (!memcmp(&set[i], &set[j], sizeof *set))
                    rc = occam_error_set(err, OCCAM_ERR_INPUT, "--grid %s: %s takes the values "
                                         "'%s' and '%s', which are the same value", ax->spec,
                                         ax->key, ax->values[j], ax->values[i]);
        }
        free(set);
    }
    return rc;
}

int grid_parse(grid *g, const char *const *specs, int n, const occam_config *base,
               occam_error *err)
{
    memset(g, 0, sizeof *g);
    int rc = grid_parse_axes(g, specs, n, base, err);
    long long points = 1;
    for (int a = 0; rc == OCCAM_OK && a < g->naxes; a++) {
        points *= g->axis[a].n;
        if (points > GRID_MAX_POINTS) {
            char dims[256];
            size_t len = 0;
            for (int b = 0; b < g->naxes && len < sizeof dims; b++) {
                int w = snprintf(dims + len, sizeof dims - len, "%s%d", b ? " x " : "",
                                 g->axis[b].n);
                len += w > 0 ? (size_t)w : 0;
            }
            rc = occam_error_set(err, OCCAM_ERR_INPUT, "--grid: %s values make more than %d "
                                 "points; split the grid into several runs", dims,
                                 GRID_MAX_POINTS);
        }
    }
    if (rc == OCCAM_OK) rc = axes_distinct(g, base, err);
    if (rc != OCCAM_OK) {
        grid_free(g);
        return rc;
    }
    g->npoints = (int)points;
    return OCCAM_OK;
}

/* The first axis varies slowest: p is a mixed-radix number, the last axis its lowest digit. */
bool grid_names_key(const grid *g, const char *msg)
{
    for (int a = 0; a < g->naxes; a++)
        if (occam_config_message_names(msg, g->axis[a].key)) return true;
    return false;
}

const char *grid_value(const grid *g, int p, int a)
{
    OCCAM_ASSERT(p >= 0 && p < g->npoints && a >= 0 && a < g->naxes);
    for (int b = g->naxes - 1; b > a; b--) p /= g->axis[b].n;
    return g->axis[a].values[p % g->axis[a].n];
}

int grid_apply(const grid *g, int p, occam_config *cfg, occam_error *err)
{
    int rc = OCCAM_OK;
    for (int a = 0; a < g->naxes && rc == OCCAM_OK; a++)
        rc = set_value(cfg, &g->axis[a], grid_value(g, p, a), err);
    return rc;
}

void grid_label(const grid *g, int p, char *buf, size_t cap)
{
    size_t len = 0;
    if (cap) buf[0] = 0;
    for (int a = 0; a < g->naxes && len < cap; a++) {
        int w = snprintf(buf + len, cap - len, "%s%s=%s", a ? " " : "", g->axis[a].key,
                         grid_value(g, p, a));
        len += w > 0 ? (size_t)w : 0;
    }
}

/* RFC 8259's number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, and finite as a double. */
static bool json_number_literal(const char *s)
{
    const char *c = s + (*s == '-');
    if (*c == '0') c++;
    else if (isdigit((unsigned char)*c)) while (isdigit((unsigned char)*c)) c++;
    else return false;
    if (*c == '.') {
        if (!isdigit((unsigned char)*++c)) return false;
        while (isdigit((unsigned char)*c)) c++;
    }
    if (*c == 'e' || *c == 'E') {
        c += c[1] == '+' || c[1] == '-';
        if (!isdigit((unsigned char)*++c)) return false;
        while (isdigit((unsigned char)*c)) c++;
    }
    return *c == 0 && isfinite(strtod(s, NULL));
}

void grid_json_value(occam_json *j, const char *value)
{
    if (!strcmp(value, "true") || !strcmp(value, "false"))
        occam_json_bool(j, value[0] == 't');
    else if (json_number_literal(value))
        occam_json_raw(j, value);
    else
        occam_json_string(j, value);
}
