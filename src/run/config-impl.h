/* config-impl.h — private to src/run's config: a row of the key table (config.c) and what the
 * key types (config_types.c) and the inert-key rules (config_inert.c) share with it. */
#ifndef OCCAM_CONFIG_IMPL_H
#define OCCAM_CONFIG_IMPL_H

#include <stdbool.h>
#include <stddef.h>

#include "occam/config.h"

/* ---- a row of the table ----------------------------------------------------------------- */

typedef enum {
    KEY_INT,    /* int, bounds [lo, hi] */
    KEY_INT64,  /* int64_t, bounds [lo, hi] */
    KEY_UINT64, /* uint64_t, full range (seeds) */
    KEY_DOUBLE, /* double, bounds with optional open ends */
    KEY_BOOL,   /* bool: true/false/yes/no/1/0 */
    KEY_ENUM,   /* int-sized enum, value = index into names */
    KEY_PATH,   /* char[OCCAM_PATH_MAX] */
    KEY_LIST,   /* int[n] + int count: comma-separated, each entry in [lo, hi] */
    KEY_LABEL,  /* int: first | last | column in [lo, hi] */
    KEY_DLIST,  /* double[n] + int count: comma-separated, each entry in bounds like KEY_DOUBLE;
                   may be empty when min_count is 0 */
    KEY_NM,     /* int N + int M: "N:M" with lo <= N < M <= hi */
    KEY_TAGGED, /* int-sized enum + int argument: a name, or names[tag] ":" N with N in [lo, hi] */
} key_type;

enum { OPEN_LO = 1, OPEN_HI = 2 }; /* exclusive bounds for doubles */

typedef struct config_key {
    const char *section;
    const char *key;
    key_type type;
    size_t off;               /* offset of the field in occam_config */
    size_t off2;              /* second field: the entry count (KEY_LIST, KEY_DLIST), M
                                 (KEY_NM) or the argument (KEY_TAGGED) */
    int min_count, max_count; /* KEY_LIST, KEY_DLIST: allowed number of entries */
    int len;                  /* KEY_LIST, KEY_DLIST: array length (>= max_count) */
    double lo, hi;            /* numbers, list entries, label columns, N:M, tagged argument */
    unsigned open;            /* KEY_DOUBLE, KEY_DLIST: OPEN_LO | OPEN_HI */
    const char *const *names; /* KEY_ENUM, KEY_TAGGED: NULL-terminated, index = enum value */
    int tag;                  /* KEY_TAGGED: the enum value written as "name:N" */
    const char *def;          /* default, as text: parsed by the same setter as any value */
    const char *help;
} config_key;

/* Room for any formatted value: a full path, a list, a number. */
enum { VALUE_MAX = OCCAM_PATH_MAX + 64, DETAIL_MAX = 256 };

/* ---- the key types (config_types.c) ----------------------------------------------------- */

/* Output to a fixed buffer, which keeps counting past its end (like snprintf) so the caller
 * can tell whether it fitted. */
typedef struct sink {
    char *buf;
    size_t cap, len;
} sink;

void config_sink_printf(sink *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One row of config_types.c's key_types[]: what a key type does with its rows. */
typedef struct key_type_ops {
    const char *name; /* the help table's type column */
    bool empty_ok;    /* an empty value is the parser's to judge when min_count is 0 */
    bool (*parse)(const config_key *k, const char *s, occam_config *cfg, char *detail,
                  size_t cap);
    void (*format)(const config_key *k, const occam_config *cfg, char *buf, size_t cap);
    void (*json)(sink *s, const config_key *k, const occam_config *cfg, const char *text);
    void (*allowed)(const config_key *k, char *buf, size_t cap);
    void (*rules)(const config_key *k);
} key_type_ops;

/* k's type's row; asserts that k->type has one. */
const key_type_ops *config_key_ops(const config_key *k);

/* Parses value (already trimmed) into k's field of cfg. On failure it leaves cfg unchanged,
 * writes what is wrong into detail ("empty value", "must be in (0, 100]") and returns false. */
bool config_key_parse(const config_key *k, const char *value, occam_config *cfg, char *detail,
                      size_t cap);

/* Writes k's value in cfg as text that config_key_parse reads back identically. */
void config_key_format(const config_key *k, const occam_config *cfg, char *buf, size_t cap);

/* Trims s in place and returns the first non-blank character. */
char *config_trim(char *s);

/* ---- the table's walks (config.c) -------------------------------------------------------- */

/* Writes every double key's value (and double-list entry) that equals 0 as +0; the last step
 * of occam_config_drop_inert. */
void config_zeros_unsigned(occam_config *cfg);

#endif
