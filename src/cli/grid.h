/* grid.h — private to `occam select`: the grid of its --grid key=v1,v2,... options, parsed,
 * checked against the config table and numbered into points.
 *
 * Values are separated by commas. A list-valued key (model.layers, prune.layer_targets) writes
 * its own entries with ':' in place of the comma: `--grid model.layers=30:10:2,30:50:2` is two
 * values, 30,10,2 and 30,50,2. Only list-valued keys are translated, so prune.nm = 2:4 and
 * prune.rewind = epoch:3 keep their colons.
 *
 * Points are the cartesian product of the axes in the order the --grid options were given, the
 * first varying slowest: with --grid a=1,2 --grid b=x,y the points are (1,x) (1,y) (2,x) (2,y),
 * numbered from 0. */
#ifndef OCCAM_CLI_GRID_H
#define OCCAM_CLI_GRID_H

#include <stdbool.h>
#include <stddef.h>

#include "cli.h"
#include "occam/config.h"
#include "occam/error.h"
#include "occam/json.h"

#define GRID_MAX_POINTS 256 /* more is refused: each point is a full training run */

typedef struct grid_axis {
    const char *spec;  /* the option as given, for messages */
    char *key;         /* "section.key", blanks around its parts dropped (points into text) */
    char **values;     /* as the config reads them, blanks around them dropped (into text) */
    int n;
    char *text;        /* owned copy of spec, cut in place */
} grid_axis;

typedef struct grid {
    grid_axis axis[CLI_MAX_GRIDS];
    int naxes;
    int npoints;
} grid;

/* Parses specs[0..n) into g and checks each value by setting it on a copy of base through the
 * config table. OCCAM_ERR_INPUT, naming the option and the key, for: no --grid at all, an
 * option that is not section.key=v1,..., an unknown key, a key given twice, an empty or
 * repeated value (textually, or two values that set the same config: 0 and 0.0), a value the
 * key refuses, or more than GRID_MAX_POINTS points. On failure
 * nothing is kept. */
int grid_parse(grid *g, const char *const *specs, int n, const occam_config *base,
               occam_error *err);
void grid_free(grid *g);

/* OCCAM_ERR_INPUT, naming both, when one of the --set assignments sets[0..n) names a grid key
 * (spaces around the section and key as the config table trims them): the grid's value would
 * silently replace it at every point. */
int grid_check_sets(const grid *g, const char *const *sets, int n, occam_error *err);
/* The same for an option that sets a config key (--threads sets runtime.threads): "OPTION:
 * KEY is a grid key (--grid ...)". */
int grid_check_option(const grid *g, const char *option, const char *key, occam_error *err);

/* Whether msg opens with one of the grid's keys ("train.lr = ...", "train.lr: ..."). */
bool grid_names_key(const grid *g, const char *msg);

/* Axis a's value at point p. */
const char *grid_value(const grid *g, int p, int a);

/* Sets point p's values on cfg (they were checked by grid_parse, one at a time; what spans
 * keys is left to occam_config_validate). */
int grid_apply(const grid *g, int p, occam_config *cfg, occam_error *err);

/* "key=value key=value" of point p, cut to fit cap. */
void grid_label(const grid *g, int p, char *buf, size_t cap);

/* A value as JSON: true and false as booleans, a JSON number literal as that number (written
 * as given: "1e-3" stays 1e-3, and a 20-digit seed keeps its digits), anything else a string. */
void grid_json_value(occam_json *j, const char *value);

#endif
