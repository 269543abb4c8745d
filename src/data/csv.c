/* Numeric CSV reader, for training data (a label or target column) and for the rows `occam
 * predict` reads (features only).
 *
 * The file is read once, front to back, through input.h (which inflates a gzipped file and
 * passes a raw one through), a line at a time into a buffer that grows to the longest line, so
 * a pipe, a FIFO or /dev/stdin reads like a file. Each row is checked and stored as it is read, into
 * arrays that double as they fill and are trimmed to the rows read at the end: memory follows
 * the data actually there. A line longer than OCCAM_CSV_LINE_MAX bytes is an input error, so
 * an endless line (`data.train = /dev/zero`) fails at once instead of filling memory.
 *
 * A row is cells separated by commas. A cell may be quoted as RFC 4180 says ("1.5", or a header's
 * "income, $" with its comma), on one line. Each cell must parse completely with strtod
 * (surrounding spaces and tabs allowed) as a decimal number (not C's hexadecimal) to a finite
 * value that fits a float. Blank lines are skipped, "\r\n"
 * line endings and a UTF-8 byte-order mark are accepted. The first non-blank line fixes the
 * cell count and is a header when opts->header says so (auto: when any of its cells is not a
 * number). Messages are "PATH:LINE: ..." with 1-based physical line numbers and 1-based
 * column numbers; cell text they quote is escaped (occam_error_quote). Features only
 * (OCCAM_LABEL_NONE) differs in nothing but what is stored: every cell is a feature, so a row
 * may have a single cell, and there is no label to check. */
#include "occam/data.h"

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "input.h"
#include "occam/mem.h"

#define CSV_NONE SIZE_MAX
#define CSV_QUOTE_MAX 40 /* cell text quoted in messages is cut to this many characters */
#define CSV_LINE_MIN 4096
#define CSV_CHUNK (64u * 1024u) /* bytes inflated (or read) at a time */
#define CSV_ROWS_FIRST 1024u    /* rows the arrays first have room for */

/* The hints messages add when a row is likely another program's or locale's CSV */
#define CSV_HINT_SEMICOLON " (cells separated by ';'? occam reads commas)"
#define CSV_HINT_TAB " (cells separated by tabs? occam reads commas)"
#define CSV_HINT_SPACE " (cells separated by spaces? occam reads commas)"
#define CSV_HINT_CR " (lines that end in a bare CR?)"
#define CSV_HINT_COMMENT " (a comment line? occam reads none: delete it)"

typedef struct csv_cell {
    double v;
    const char *text; /* cell without surrounding blanks, for messages */
    size_t len;
    bool ok;     /* parsed fully as a number */
    bool quoted; /* its ';', ',' or tab is text, not a separator */
} csv_cell;

/* A line whose first cell starts with '#' or '%' (numpy.savetxt's header, R's and Octave's
 * notes, ARFF): a comment, which occam does not skip. */
static bool csv_comment(const csv_cell *c)
{
    return !c->quoted && c->len > 0 && (c->text[0] == '#' || c->text[0] == '%');
}

typedef struct csv_reader {
    const char *path;
    data_input *in;
    unsigned char *chunk; /* CSV_CHUNK bytes read; [pos, have) not yet consumed */
    size_t pos, have;
    char *line;
    size_t line_cap;
    size_t lineno;
    csv_cell *cell; /* the current row */
    double *range;  /* [2 * cols]: each column's smallest and largest value as written */
    bool *inexact;  /* [cols]: a value of the column is not a float32 */
    bool *unquoted; /* [cols]: a data row's cell of the column is not quoted */
    size_t ncell;
    size_t cell_cap;
    size_t bad; /* first cell that is not a number, or CSV_NONE */
    bool cr;    /* the first non-blank line holds a CR: its own, as csv_next takes a CRLF's */
    bool begun; /* that line has been read */
    size_t zero_line;  /* the first data line labelled 0 (classification), or 0 */
    size_t xcap, lcap; /* room in the dataset's arrays: floats in x, entries in label or y */
} csv_reader;

typedef struct csv_shape {
    size_t cols;  /* cells per row */
    size_t label; /* 0-based label column, or CSV_NONE (features only) */
    bool header;
    bool unnamed; /* the header's first cell is empty and is not the label's */
    bool numbered; /* auto read the first line as data, and it numbers the columns (below) */
    double from, step; /* how: from the first cell, by step */
    size_t split;      /* the first line's csv_split_group */
    bool unread;   /* label is occam_csv_opts.skip's column: neither parsed nor stored */
    bool text_skipped; /* auto read the first line as data: its only text is in that column */
    size_t first; /* the first non-blank line's number: the header, or the first data row */
    /* Why data.header = auto took the first line for a header, for the message when no data
     * row follows it: one line of binary or of bare-CR line ends is not a header. */
    char why[4 * CSV_QUOTE_MAX + 200];
} csv_shape;

static bool csv_blank(char c) { return c == ' ' || c == '\t'; }

/* Parses s..stop (stop points at a ',' or a NUL) as one number. */
static void csv_parse_cell(csv_cell *c, char *s, char *stop)
{
    while (s < stop && csv_blank(*s)) s++;
    char *e = stop;
    while (e > s && csv_blank(e[-1])) e--;
    c->text = s;
    c->len = (size_t)(e - s);
    char *end = s;
    c->v = s < e ? strtod(s, &end) : 0.0;
    /* decimal only: strtod also reads C's hexadecimal ("0x10" = 16, "0x1p3" = 8), which in a
     * data file is an identifier or a hash, not a measurement */
    c->ok = s < e && end == e && !memchr(s, 'x', c->len) && !memchr(s, 'X', c->len);
}

static int csv_grow_cells(csv_reader *r, occam_error *err)
{
    size_t cap = r->cell_cap ? 2 * r->cell_cap : 64;
    csv_cell *p = realloc(r->cell, cap * sizeof *p);
    if (!p) return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: out of memory", r->path);
    r->cell = p;
    r->cell_cap = cap;
    return OCCAM_OK;
}

/* A cell that opens with '"' (after blanks) at q: RFC 4180's quoting, as R, pandas and
 * spreadsheets write it. The text up to the closing '"' is the cell, commas included, with each
 * '""' read as one '"'; it is unescaped in place and NUL-terminated, and *next is set to the
 * ',' or the line's end that follows the closing quote and any blanks. A quoted cell is one
 * cell of one line: occam reads a row per line. */
static int csv_unquote(const csv_reader *r, char *q, char *end, char **content, char **stop,
                       char **next, occam_error *err)
{
    char *w = q + 1, *p = q + 1;
    for (;; p++) {
        if (p == end)
            return occam_error_set(err, OCCAM_ERR_INPUT,
                                   "%s:%zu: column %zu: a quoted cell is not closed on its line "
                                   "(a cell may not span lines)",
                                   r->path, r->lineno, r->ncell + 1);
        if (*p == '"' && (p + 1 == end || p[1] != '"')) break;
        *w++ = *p;
        p += *p == '"'; /* '""' */
    }
    char *after = ++p;
    while (p < end && csv_blank(*p)) p++;
    if (p < end && *p != ',') {
        /* What the text likely is: R's write.csv2 and write.table quote every header name, so
         * a file separated by ';', tabs or spaces, or one whose lines end in a bare CR, fails
         * here, at its first closing quote, before the cells are counted. */
        const char *hint = "";
        if (*p == ';') hint = CSV_HINT_SEMICOLON;
        else if (memchr(after, '\t', (size_t)(p - after))) hint = CSV_HINT_TAB;
        else if (*p == '\r') hint = CSV_HINT_CR;
        else if (*p == '"' && p > after) hint = CSV_HINT_SPACE;
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "%s:%zu: column %zu: text after a quoted cell's closing quote%s",
                               r->path, r->lineno, r->ncell + 1, hint);
    }
    *w = '\0'; /* w is at most the closing quote: strtod stops here */
    *content = q + 1;
    *stop = w;
    *next = p;
    return OCCAM_OK;
}

/* Splits the NUL-terminated line s..end into r->cell. */
static int csv_split(csv_reader *r, char *s, char *end, occam_error *err)
{
    r->ncell = 0;
    r->bad = CSV_NONE;
    for (char *p = s;;) {
        char *q = p;
        while (q < end && csv_blank(*q)) q++;
        char *start = p, *stop = end, *next = end;
        bool quoted = q < end && *q == '"';
        if (quoted) {
            int rc = csv_unquote(r, q, end, &start, &stop, &next, err);
            if (rc != OCCAM_OK) return rc;
        } else {
            char *comma = memchr(p, ',', (size_t)(end - p));
            stop = next = comma ? comma : end;
        }
        if (r->ncell == r->cell_cap) {
            int rc = csv_grow_cells(r, err);
            if (rc != OCCAM_OK) return rc;
        }
        csv_cell *c = &r->cell[r->ncell];
        csv_parse_cell(c, start, stop);
        c->quoted = quoted;
        if (!c->ok && r->bad == CSV_NONE) r->bad = r->ncell;
        r->ncell++;
        if (next == end) return OCCAM_OK;
        p = next + 1;
    }
}

/* Reads the next line, its '\n' included, into r->line; NUL bytes are kept, as getline keeps
 * them. *len is -1 at the end of the file. Whole chunks and memchr, not a call per byte: this
 * is most of the time a large CSV takes to load. */
static int csv_getline(csv_reader *r, ssize_t *len, occam_error *err)
{
    size_t n = 0;
    for (bool done = false; !done;) {
        if (r->pos == r->have) {
            size_t got = 0;
            r->in->line = r->lineno + 1;
            int rc = data_input_read(r->in, r->chunk, CSV_CHUNK, &got, err);
            if (rc != OCCAM_OK) return rc;
            r->pos = 0;
            r->have = got;
            /* A stream cut short still gives what it had; it is an error at its end, so the
             * message names the line where the data stopped. */
            if (got == 0) {
                rc = data_input_end(r->in, err);
                if (rc != OCCAM_OK) return rc;
                break;
            }
        }
        const unsigned char *s = r->chunk + r->pos;
        const unsigned char *nl = memchr(s, '\n', r->have - r->pos);
        size_t take = nl ? (size_t)(nl - s) + 1 : r->have - r->pos;
        done = nl != NULL;
        if (n + take - done > OCCAM_CSV_LINE_MAX)
            return occam_error_set(err, OCCAM_ERR_INPUT, "%s:%zu: line longer than %d bytes "
                                   "(occam's limit on a CSV line, OCCAM_CSV_LINE_MAX, which a "
                                   "row of about 100,000 numbers reaches: a wider table does "
                                   "not fit, or the file has no line breaks)",
                                   r->path, r->lineno + 1, OCCAM_CSV_LINE_MAX);
        if (n + take + 1 > r->line_cap) {
            size_t cap = r->line_cap ? r->line_cap : CSV_LINE_MIN;
            while (n + take + 1 > cap) cap *= 2;
            char *p = realloc(r->line, cap);
            if (!p)
                return occam_error_set(err, OCCAM_ERR_RUNTIME,
                                       "%s:%zu: out of memory for a line of %zu bytes", r->path,
                                       r->lineno + 1, n + take);
            r->line = p;
            r->line_cap = cap;
        }
        memcpy(r->line + n, s, take);
        n += take;
        r->pos += take;
    }
    *len = n ? (ssize_t)n : -1;
    if (n) r->line[n] = '\0';
    return OCCAM_OK;
}

/* Reads lines up to the next non-blank one and splits it; *got is false at the end. */
static int csv_next(csv_reader *r, bool *got, occam_error *err)
{
    for (;;) {
        ssize_t len = -1;
        int rc = csv_getline(r, &len, err);
        *got = false;
        if (rc != OCCAM_OK || len < 0) return rc;
        r->lineno++;
        char *s = r->line, *end = s + len;
        if (end > s && end[-1] == '\n') *--end = '\0';
        if (end > s && end[-1] == '\r') *--end = '\0';
        if (r->lineno == 1 && end - s >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) s += 3;
        /* Text has no NUL: without this, a binary first line passes for a header under
         * data.header = auto and a data row is silently lost. */
        if (memchr(s, '\0', (size_t)(end - s))) {
            /* Excel's "Unicode text" and Windows tools write UTF-16, a NUL in every ASCII
             * character, after a byte-order mark */
            bool utf16 = r->lineno == 1 && end - s >= 2 &&
                         (!memcmp(s, "\xFF\xFE", 2) || !memcmp(s, "\xFE\xFF", 2));
            /* without the mark (iconv -t UTF-16LE): ASCII text with a NUL after (or before)
             * every character */
            if (!utf16 && r->lineno == 1 && end - s >= 4) {
                size_t n = (size_t)(end - s), odd = 0, even = 0;
                for (size_t i = 0; i < n; i++) {
                    if (s[i]) continue;
                    if (i % 2) odd++;
                    else even++;
                }
                utf16 = (odd == n / 2 && !even) || (even == (n + 1) / 2 && !odd);
            }
            return occam_error_set(err, OCCAM_ERR_INPUT, "%s:%zu: line contains a NUL byte (%s)",
                                   r->path, r->lineno,
                                   utf16 ? "UTF-16 text? save it as UTF-8"
                                         : "not a text CSV file?");
        }
        char *p = s;
        while (p < end && csv_blank(*p)) p++;
        if (p == end) continue;
        *got = true;
        if (!r->begun) /* for csv_first; before a quoted cell's NUL hides it */
            r->cr = memchr(s, '\r', (size_t)(end - s)) != NULL;
        r->begun = true;
        return csv_split(r, s, end, err);
    }
}

/* A quoted cell that reads as a number with its one ',' for a '.': "1,5", not "Smith, John"
 * or "1,234.5". */
static bool csv_decimal_comma(const csv_cell *c)
{
    char num[64];
    const char *comma = memchr(c->text, ',', c->len);
    if (!comma || c->len >= sizeof num) return false;
    size_t at = (size_t)(comma - c->text);
    if (memchr(comma + 1, ',', c->len - at - 1)) return false;
    memcpy(num, c->text, c->len);
    num[at] = '.';
    num[c->len] = '\0';
    csv_cell d;
    csv_parse_cell(&d, num, num + c->len);
    return d.ok;
}

static bool csv_digits(const char *p, const char *end, size_t n)
{
    if ((size_t)(end - p) < n) return false;
    for (size_t i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9') return false;
    return true;
}

/* Whether a cell is a number with its thousands grouped, as spreadsheets and locales format
 * one: a sign, 1 to 3 digits, one or more groups of a separator (the same throughout: ',',
 * '.', ' ' or '\'') and 3 digits, then at most a decimal part after the other mark of ',' and
 * '.': "1,234,567", "1,234.50", "1.234,5", 1 234 567, "23,000" (which a quoted cell may
 * also mean as a decimal comma: csv_separator_hint names both). Without this a grouped
 * amount was called a category or a date. */
static bool csv_grouped(const csv_cell *c)
{
    const char *p = c->text, *end = c->text + c->len;
    if (p < end && (*p == '-' || *p == '+')) p++;
    size_t lead = 0;
    while (p < end && *p >= '0' && *p <= '9') p++, lead++;
    if (lead < 1 || lead > 3 || p == end) return false;
    char sep = *p;
    if (sep != ',' && sep != '.' && sep != ' ' && sep != '\'') return false;
    size_t groups = 0;
    while (p < end && *p == sep && csv_digits(p + 1, end, 3) &&
           (p + 4 == end || p[4] < '0' || p[4] > '9'))
        p += 4, groups++;
    if (!groups) return false;
    if (p == end) return true;
    if ((*p != '.' && *p != ',') || *p == sep || p + 1 == end) return false;
    return csv_digits(p + 1, end, (size_t)(end - p - 1));
}

/* The first cell j of the row that, with cell j + 1, reads as one number whose thousands are
 * grouped by an unquoted ',' ("1,234.5" is the cells "1" and "234.5"), or CSV_NONE: the row
 * then has a cell more than it should, and the message blamed only the cell count, or the
 * next line when the first line held the number. */
static size_t csv_split_group(const csv_reader *r)
{
    for (size_t j = 0; j + 1 < r->ncell; j++) {
        const csv_cell *a = &r->cell[j], *b = &r->cell[j + 1];
        char joined[64];
        if (a->quoted || b->quoted || a->len + b->len + 2 > sizeof joined ||
            !csv_digits(b->text, b->text + b->len, 3))
            continue;
        int n = snprintf(joined, sizeof joined, "%.*s,%.*s", (int)a->len, a->text, (int)b->len,
                         b->text);
        const csv_cell c = {.text = joined, .len = (size_t)n};
        if (csv_grouped(&c)) return j;
    }
    return CSV_NONE;
}

/* For a cell that holds another locale's or program's separator: a file written with ';'
 * (where ',' is the decimal mark) or tabs is one cell a row here, and a quoted "1,5" is a
 * decimal comma ("23,000" a decimal comma or a thousands separator). A quoted cell's ';' or
 * tab is its text, never a separator. */
static const char *csv_separator_hint(const csv_cell *c)
{
    if (c->quoted) {
        if (!csv_decimal_comma(c)) return "";
        /* read as a decimal comma "23,000" would be a thousand times smaller: the hint must
         * not say only that */
        return csv_grouped(c) ? " (a thousands separator, or a decimal comma? occam reads "
                                "numbers without grouping, with a '.' for the decimal point)"
                              : " (a decimal comma? occam reads a '.')";
    }
    if (memchr(c->text, ';', c->len)) return CSV_HINT_SEMICOLON;
    if (memchr(c->text, '\t', c->len)) return CSV_HINT_TAB;
    return "";
}

/* What a cell that is not a number most likely is, for its message: another separator, as
 * above, or a missing value, as R (NA), pandas and numpy (nan, an empty cell), SQL (null),
 * UCI's files (?) and SAS (.) write one. */
static bool csv_missing(const csv_cell *c)
{
    /* pandas' default list (compared without case), Excel's #N/A, UCI's ?, SAS's . */
    static const char *const missing[] = {"",       "na",       "n/a",     "nan",     "-nan",
                                          "null",   "none",     "?",       ".",       "-",
                                          "#n/a",   "#na",      "<na>",    "#n/a n/a", "-1.#ind",
                                          "1.#ind", "-1.#qnan", "1.#qnan"};
    for (size_t i = 0; i < sizeof missing / sizeof *missing; i++)
        if (c->len == strlen(missing[i]) && !strncasecmp(c->text, missing[i], c->len))
            return true;
    return false;
}

/* Whether the cell is a number between a prefix and a suffix of those bytes, either possibly
 * empty, with at most one blank between them and it: "12.5%", "$1200", "$ 5", "5 €", "−3"
 * (U+2212), "$1,200.00" (Excel's currency, quoted). The number is a plain one, as strtod reads
 * it in full, or one with its thousands grouped (csv_grouped). */
static bool csv_affixed(const csv_cell *c, const char *pre, const char *post)
{
    size_t a = strlen(pre), b = strlen(post);
    if (c->len <= a + b || c->len - a - b > 63 || strncmp(c->text, pre, a) ||
        strncmp(c->text + c->len - b, post, b))
        return false;
    char num[64], *end;
    size_t n = c->len - a - b;
    memcpy(num, c->text + a, n);
    num[n] = 0;
    char *p = num;
    if (a && *p == ' ') p++, n--;
    if (b && n && p[n - 1] == ' ') p[--n] = 0;
    if (!n || *p == ' ' || p[n - 1] == ' ') return false;
    (void)strtod(p, &end);
    if (end != p && *end == 0) return true;
    const csv_cell mid = {.text = p, .len = n};
    return csv_grouped(&mid);
}

/* A spreadsheet's error value (Excel's #N/A is a missing value, above). */
static bool csv_sheet_error(const csv_cell *c)
{
    static const char *const errors[] = {"#DIV/0!", "#VALUE!", "#REF!",   "#NAME?",
                                         "#NUM!",   "#NULL!",  "#SPILL!", "#CALC!"};
    for (size_t i = 0; i < sizeof errors / sizeof *errors; i++)
        if (c->len == strlen(errors[i]) && !strncasecmp(c->text, errors[i], c->len)) return true;
    return false;
}

static const char *csv_value_hint(const csv_cell *c);

static const char *csv_cell_hint(const csv_cell *c)
{
    const char *sep = csv_separator_hint(c);
    if (*sep) return sep;
    if (csv_missing(c))
        return " (a missing value? occam needs a number in every cell: fill it in or drop "
               "the row)";
    if (csv_grouped(c))
        return " (a number with its thousands grouped? occam reads numbers without grouping, "
               "with a '.' for the decimal point)";
    return csv_value_hint(c);
}

/* For a cell that is a value written for people: a percentage, an amount with its currency
 * sign, a number after a Unicode minus sign or a dash, a spreadsheet's error value ("" for
 * none). Such a cell on the first line makes no header (data.header = auto): a file whose
 * first row alone had a U+2212 minus lost that row to a "header" without a word. */
static const char *csv_value_hint(const csv_cell *c)
{
    if (csv_affixed(c, "", "%"))
        return " (a percentage? write the plain number, 12.5 or 0.125)";
    static const char *const money[] = {"$", "-$", "\xe2\x82\xac", "\xc2\xa3", "\xc2\xa5"};
    for (size_t i = 0; i < sizeof money / sizeof *money; i++)
        if (csv_affixed(c, money[i], "") || (i != 1 && csv_affixed(c, "", money[i])))
            return " (an amount with its currency sign? write the plain number)";
    if (csv_affixed(c, "\xe2\x88\x92", "") || csv_affixed(c, "\xe2\x80\x93", "") ||
        csv_affixed(c, "\xe2\x88\x92", "%"))
        return " (a Unicode minus sign or dash before the number? write it with '-')";
    if (csv_sheet_error(c))
        return " (a spreadsheet's error value: the formula that made the cell failed; fix it "
               "or drop the row)";
    return "";
}

/* data.header = auto: the first line is a header when a cell is not a number, unless every
 * such cell is a missing value (NA, ?, an empty cell): that line is data with a gap, refused
 * as line 2 would be (it was dropped as a "header", and predict's output then had a row fewer
 * than its input). An empty first cell before the numbers 0, 1, 2, ... (or 1, 2, 3, ...) is
 * the header pandas (an index, columns named by numbers) or R writes, a header still. */
static bool csv_auto_header(const csv_reader *r, size_t skip, size_t *why)
{
    *why = r->bad;
    if (r->bad == CSV_NONE) return false;
    /* a value written for people (12%, $5) is one only beside a plain number: R's quantile
     * names 0%,50%,100% are a header */
    bool number = false;
    for (size_t j = 0; j < r->ncell && !number; j++) number = r->cell[j].ok && j != skip;
    size_t gaps = 0;
    for (size_t j = r->bad; j < r->ncell; j++) {
        const csv_cell *c = &r->cell[j];
        if (c->ok || j == skip) continue; /* predict's skipped column: see csv_first */
        if ((!csv_missing(c) && !(number && *csv_value_hint(c))) || *csv_separator_hint(c)) {
            *why = j;
            return true;
        }
        gaps++;
    }
    if (gaps != 1 || r->bad != 0 || r->cell[0].len != 0 || r->ncell < 2) return false;
    double first = r->cell[1].v;
    if (first != 0 && first != 1) return false;
    for (size_t j = 1; j < r->ncell; j++)
        if (r->cell[j].v != first + (double)(j - 1)) return false;
    return true;
}

/* A cell that reads as a number gone wrong rather than a name: it opens as a number does
 * (a digit, a sign or a point: 1.44.94, 2x, --1.4, .5.5), or with bytes beyond ASCII before a
 * digit (a no-break space, a second byte-order mark), or it is a number once the letters O and
 * l typed for 0 and 1 are read as them (O.0663, l.2882). A name that opens with a letter (x0,
 * y1, PM2.5, Q1_2021, pandas' and scikit-learn's column names) is none. */
static bool csv_number_like(const csv_cell *c)
{
    if (c->len == 0) return false;
    unsigned char first = (unsigned char)c->text[0];
    if ((first >= '0' && first <= '9') || first == '+' || first == '-' || first == '.')
        return true;
    bool digit = false;
    for (size_t i = 0; i < c->len; i++) digit |= c->text[i] >= '0' && c->text[i] <= '9';
    if (first >= 0x80) return digit;
    char swapped[64];
    if (!digit || c->len >= sizeof swapped) return false;
    for (size_t i = 0; i < c->len; i++) {
        char ch = c->text[i];
        swapped[i] = ch == 'O' || ch == 'o' ? '0' : ch == 'l' || ch == 'I' ? '1' : ch;
    }
    swapped[c->len] = 0;
    char *end;
    (void)strtod(swapped, &end);
    return end != swapped && *end == 0 && strspn(swapped, "0123456789+-.eE") == c->len;
}

/* A first line data.header = auto took for a header although it reads as a data row with a
 * typo: beside a plain number, every cell that is not one (a missing value aside) looks like a
 * number gone wrong. Such a row was dropped as a "header" without a word, in training and in
 * predict's output (found by the third hostile-input sweep). */
static bool csv_header_doubtful(const csv_reader *r, size_t skip)
{
    bool number = false, other = false;
    for (size_t j = 0; j < r->ncell; j++) {
        const csv_cell *c = &r->cell[j];
        if (j == skip) continue;
        if (c->ok) {
            number = true;
        } else if (!csv_missing(c)) {
            if (!csv_number_like(c)) return false;
            other = true;
        }
    }
    return number && other;
}

/* A first line of 3 or more plain integers that count 0, 1, 2, ... (or 1, 2, 3, ...) along the
 * row: the header pandas writes for columns without names (a frame made from an array, written
 * with index=False); or of 4 or more that step evenly from elsewhere, as years name columns
 * (1990, 2000, ..., 2070 was a training row whose target lay 1,000 standard deviations out).
 * data.header = auto reads it as data, as its rule says, but the commands say so, and a label
 * out of range there says it too: it was a training row without a word. */
static bool csv_numbered(const csv_reader *r)
{
    if (r->bad != CSV_NONE || r->ncell < 3) return false;
    double first = r->cell[0].v, step = r->cell[1].v - first;
    if (!occam_numbered_like_pandas(first, step) && (r->ncell < 4 || step == 0))
        return false;
    for (size_t j = 0; j < r->ncell; j++) {
        const csv_cell *c = &r->cell[j];
        if (c->v != first + step * (double)j || c->len == 0) return false;
        for (size_t i = 0; i < c->len; i++)
            if (c->text[i] < '0' || c->text[i] > '9') return false;
    }
    return true;
}

/* What a feature's text cell that is no number and no missing value may be: a yes/no word,
 * a date or time, or a category's name (R's factors, "Female", "0-5yrs"). */
static bool csv_yes_no(const csv_cell *c)
{
    /* whole words only: a lone F or T is as often a sex or a grade */
    static const char *const yes_no[] = {"true", "false", "yes", "no"};
    for (size_t i = 0; i < sizeof yes_no / sizeof *yes_no; i++)
        if (c->len == strlen(yes_no[i]) && !strncasecmp(c->text, yes_no[i], c->len))
            return true;
    return false;
}

static const char *csv_text_hint(const csv_cell *c)
{
    if (csv_yes_no(c)) return " (a yes/no value? write it as 1 or 0)";
    size_t digits = 0, marks = 0, other = 0;
    for (size_t i = 0; i < c->len; i++) {
        unsigned char ch = (unsigned char)c->text[i];
        if (ch >= '0' && ch <= '9') digits++;
        else if (ch == '-' || ch == '/' || ch == ':' || ch == ' ' || ch == 'T') marks++;
        else other++;
    }
    /* 2020-01-31, 12:30, 12/31/1999 23:59, and codes written alike (555-123-4567) */
    if (!other && digits >= 3 && marks >= 1 && c->text[0] >= '0' && c->text[0] <= '9')
        return " (a date, a time or a code with separators? occam reads plain numbers: write "
               "a date or time as one, such as the days or hours since a start)";
    return " (a category or other text? occam reads numbers only: write a category as one "
           "0/1 column per value)";
}

/* " (\"name\")" for column col from the header, or "". The label column is " (the label)",
 * " (the label, \"name\")" with a header, or with by_name its header name as for the others.
 * ds holds the header's names, if any. */
static void csv_col_name(const csv_shape *sh, const occam_dataset *ds, size_t col, bool by_name,
                         char *name, size_t cap)
{
    name[0] = 0;
    bool label = col == sh->label;
    const char *nm = label ? ds->label_name
                           : occam_dataset_column_name(ds, col - (sh->label != CSV_NONE &&
                                                                  col > sh->label));
    if (nm && *nm) {
        char q[4 * CSV_QUOTE_MAX + 4];
        occam_error_quote(q, sizeof q, nm, strlen(nm), CSV_QUOTE_MAX);
        snprintf(name, cap, label && !by_name ? " (the label, \"%s\")" : " (\"%s\")", q);
    } else if (label && !by_name) {
        /* read as a feature (predict's input, a features-only load) the same cell gets a
         * feature's hint and name: the message says which way it was read */
        snprintf(name, cap, " (the label)");
    }
}

/* r's cell col is wrong: "FILE:LINE: column N ("name"): "text" what hint", or "column N (the
 * label)". */
static int csv_error_cell(const csv_reader *r, const csv_shape *sh, const occam_dataset *ds,
                          size_t col, const char *what, const char *hint, occam_error *err)
{
    const csv_cell *c = &r->cell[col];
    char shown[4 * CSV_QUOTE_MAX + 4], name[4 * CSV_QUOTE_MAX + 24];
    occam_error_quote(shown, sizeof shown, c->text, c->len, CSV_QUOTE_MAX);
    csv_col_name(sh, ds, col, false, name, sizeof name);
    return occam_error_set(err, OCCAM_ERR_INPUT, "%s:%zu: column %zu%s: \"%s\" %s%s", r->path,
                           r->lineno, col + 1, name, shown, what, hint);
}

/* The row's other cells past r->bad that are not numbers either, as "; in this row columns 5
 * ("region") and 7 are not numbers either" ("" when none): a table of several text columns
 * (R's factors) was refused one column a run. At most four are named. */
static void csv_other_bad(const csv_reader *r, const csv_shape *sh, const occam_dataset *ds,
                          char *buf, size_t cap)
{
    enum { NAMED = 4 };
    size_t col[NAMED], n = 0;
    for (size_t j = r->bad + 1; j < r->ncell; j++)
        if (!r->cell[j].ok && !(sh->unread && j == sh->label) && n++ < NAMED) col[n - 1] = j;
    buf[0] = 0;
    if (!n) return;
    size_t len = (size_t)snprintf(buf, cap, "; in this row column%s ", n > 1 ? "s" : "");
    for (size_t i = 0; i < n && i < NAMED && len < cap; i++) {
        /* the label's by its name too: a features-only load of the file (predict's) says the
         * same */
        char name[4 * CSV_QUOTE_MAX + 24];
        csv_col_name(sh, ds, col[i], true, name, sizeof name);
        const char *sep = i == 0 ? "" : (i + 1 == n && n <= NAMED) ? " and " : ", ";
        len += (size_t)snprintf(buf + len, cap - len, "%s%zu%s", sep, col[i] + 1, name);
    }
    if (len < cap && n > NAMED)
        len += (size_t)snprintf(buf + len, cap - len, " and %zu more", n - NAMED);
    if (len < cap)
        snprintf(buf + len, cap - len, " %s", n > 1 ? "are not numbers either"
                                                    : "is not a number either");
}

/* For a first line that is one cell where a labelled row needs two: another separator, as
 * csv_separator_hint says, or spaces between its words or numbers (statsmodels' spector.csv,
 * sklearn's linnerud files, numpy.savetxt's default). Only here: in a row of several cells a
 * space inside one ("General Motors") is its text. */
static const char *csv_lone_cell_hint(const csv_cell *c)
{
    if (csv_comment(c)) return CSV_HINT_COMMENT;
    const char *sep = csv_separator_hint(c);
    if (*sep || c->quoted) return sep;
    return memchr(c->text, ' ', c->len) ? CSV_HINT_SPACE : ""; /* its ends are not blank */
}

/* data.label by name (o->label_name): the first line's cell of that name, in *col, which makes
 * the line a header. A name found nowhere, or twice, or a file read without a header is
 * refused, naming the key; a name that differs only in case is suggested. */
static int csv_named(const csv_reader *r, const occam_csv_opts *o, bool soft, size_t *col,
                     occam_error *err)
{
    const char *name = o->label_name ? o->label_name : "";
    size_t n = strlen(name), twice = CSV_NONE, nocase = CSV_NONE;
    char q[4 * CSV_QUOTE_MAX + 4];
    occam_error_quote(q, sizeof q, name, n, CSV_QUOTE_MAX);
    *col = CSV_NONE;
    if (soft && o->header == OCCAM_CSV_HEADER_NO) return OCCAM_OK; /* the fallback column */
    if (o->header == OCCAM_CSV_HEADER_NO)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "%s:%zu: data.label = %s names a column by the header, but "
                               "data.header = no reads none: name the column by its number",
                               r->path, r->lineno, q);
    for (size_t j = 0; j < r->ncell; j++) {
        const csv_cell *c = &r->cell[j];
        if (c->len == n && !memcmp(c->text, name, n)) {
            if (*col == CSV_NONE) *col = j;
            else if (twice == CSV_NONE) twice = j;
        } else if (c->len == n && !strncasecmp(c->text, name, n) && nocase == CSV_NONE) {
            nocase = j;
        }
    }
    if (twice != CSV_NONE)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "%s:%zu: data.label = %s names columns %zu and %zu of the "
                               "header: name the label's column by its number", r->path,
                               r->lineno, q, *col + 1, twice + 1);
    if (*col != CSV_NONE || soft) return OCCAM_OK;
    char names[6 * (4 * CSV_QUOTE_MAX + 8)] = "";
    size_t len = 0;
    for (size_t j = 0; j < r->ncell && j < 6; j++) {
        char c[4 * CSV_QUOTE_MAX + 4];
        occam_error_quote(c, sizeof c, r->cell[j].text, r->cell[j].len, CSV_QUOTE_MAX);
        int w = snprintf(names + len, sizeof names - len, "%s\"%s\"", j ? ", " : "", c);
        if (w > 0) len += (size_t)w < sizeof names - len ? (size_t)w : sizeof names - len - 1;
    }
    char hint[4 * CSV_QUOTE_MAX + 96] = "";
    if (nocase != CSV_NONE) {
        char c[4 * CSV_QUOTE_MAX + 4];
        occam_error_quote(c, sizeof c, r->cell[nocase].text, r->cell[nocase].len,
                          CSV_QUOTE_MAX);
        snprintf(hint, sizeof hint, "; column %zu is \"%s\" (names are matched with their case)",
                 nocase + 1, c);
    }
    /* predict's rows with a cell more than the model's inputs: which one is the label's? A
     * nameless first column is more likely a row index than the label */
    const char *skip = o->label != OCCAM_LABEL_NONE ? ""
                       : r->cell[0].len == 0
                           ? ": its first column has no name: a row index, as pandas' to_csv "
                             "and R's write.csv write by default? write the file without it "
                             "(pandas: index=False; R: row.names = FALSE)"
                           : ": occam cannot tell which column of its rows, one cell more than "
                             "the model's inputs, is the label's; give the file the training "
                             "data's header, or drop that column";
    return occam_error_set(err, OCCAM_ERR_INPUT,
                           "%s:%zu: data.label = %s: no column of the first line has that name "
                           "(it reads %s%s)%s%s", r->path, r->lineno, q, names,
                           r->ncell > 6 ? ", ..." : "", hint, skip);
}

/* The first non-blank line: decides the header and the columns. */
static int csv_first(const csv_reader *r, const occam_csv_opts *o, csv_shape *sh,
                     occam_error *err)
{
    sh->cols = r->ncell;
    sh->first = r->lineno;
    if (o->cols && sh->cols != o->cols)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "%s:%zu: %zu cells a row, but %s has %zu: the columns do not "
                               "line up with the training rows' (features, then the label)",
                               r->path, r->lineno, sh->cols, o->cols_of ? o->cols_of : "",
                               o->cols);
    /* predict's skipped column, known from the cell count; out of range, it is refused here,
     * before its cells are read as features */
    bool skips = o->label == OCCAM_LABEL_NONE && o->skip_cols >= 2 && sh->cols == o->skip_cols;
    bool numbered = o->skip != OCCAM_LABEL_LAST && o->skip != OCCAM_LABEL_NAMED;
    if (skips && numbered && (o->skip < 1 || (size_t)o->skip > sh->cols))
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "%s:%zu: data.label: column %d is out of range: rows have %zu "
                               "cells", r->path, r->lineno, o->skip, sh->cols);
    /* a label named by the header: its cell makes this line the header */
    size_t named = CSV_NONE;
    bool soft = o->label == OCCAM_LABEL_NAMED && o->label_fallback;
    if (o->label == OCCAM_LABEL_NAMED || (skips && o->skip == OCCAM_LABEL_NAMED)) {
        int rc = csv_named(r, o, soft, &named, err);
        if (rc != OCCAM_OK) return rc;
    }
    size_t skip = !skips                          ? CSV_NONE
                  : o->skip == OCCAM_LABEL_LAST   ? sh->cols - 1
                  : o->skip == OCCAM_LABEL_NAMED  ? named
                                                  : (size_t)o->skip - 1;
    size_t why = named;
    sh->header = o->header == OCCAM_CSV_HEADER_YES || named != CSV_NONE ||
                 (o->header == OCCAM_CSV_HEADER_AUTO && csv_auto_header(r, skip, &why));
    if (sh->header && named == CSV_NONE && o->header == OCCAM_CSV_HEADER_AUTO && !r->cr &&
        csv_header_doubtful(r, skip)) { /* a bare CR's one long line is named as that below */
        char shown[4 * CSV_QUOTE_MAX + 4];
        occam_error_quote(shown, sizeof shown, r->cell[why].text, r->cell[why].len,
                          CSV_QUOTE_MAX);
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "%s:%zu: a header or a data row? column %zu, \"%s\", is not a "
                               "number, but it looks like one gone wrong, and the other cells "
                               "are numbers: fix the cell if the line is data; if it names the "
                               "columns, set data.header = yes or start the names with a "
                               "letter",
                               r->path, r->lineno, why + 1, shown);
    }
    /* its only text in the skipped column: a row whose outcome is unknown ("unknown"), or a
     * header of numbers over a named label; read as a row (a row was lost), and said */
    sh->text_skipped = o->header == OCCAM_CSV_HEADER_AUTO && !sh->header && skip != CSV_NONE &&
                       !r->cell[skip].ok && !csv_missing(&r->cell[skip]);
    sh->numbered = o->header == OCCAM_CSV_HEADER_AUTO && !sh->header && csv_numbered(r);
    sh->split = csv_split_group(r);
    sh->from = r->cell[0].v;
    sh->step = r->ncell > 1 ? r->cell[1].v - sh->from : 0;
    sh->label = CSV_NONE;
    sh->why[0] = '\0';
    /* The header line holds a CR (csv_next took a CRLF's): a file whose lines end in a bare CR
     * is one line, whichever of its cells made it a header. */
    const char *cr = r->cr ? "; lines that end in a bare CR?" : "";
    if (named != CSV_NONE) {
        char q[4 * CSV_QUOTE_MAX + 4];
        occam_error_quote(q, sizeof q, o->label_name, strlen(o->label_name), CSV_QUOTE_MAX);
        snprintf(sh->why, sizeof sh->why, " (data.label = %s names its column %zu%s)", q,
                 named + 1, cr);
    } else if (sh->header && o->header == OCCAM_CSV_HEADER_AUTO) {
        const csv_cell *c = &r->cell[why];
        char shown[4 * CSV_QUOTE_MAX + 4];
        occam_error_quote(shown, sizeof shown, c->text, c->len, CSV_QUOTE_MAX);
        snprintf(sh->why, sizeof sh->why,
                 " (data.header = auto took line %zu for one: column %zu, \"%s\", is not a "
                 "number%s)",
                 r->lineno, why + 1, shown, cr);
    } else if (sh->header && *cr) {
        snprintf(sh->why, sizeof sh->why, " (line %zu%s)", r->lineno, cr);
    }
    /* a row index's unnamed column, unless it is the label's (checked below) */
    sh->unnamed = sh->header && r->cell[0].len == 0;
    if (skip != CSV_NONE) {
        sh->label = skip;
        sh->unread = true;
        sh->unnamed = sh->unnamed && sh->label != 0;
    }
    if (o->label == OCCAM_LABEL_NONE) return OCCAM_OK;
    if (sh->cols < 2)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "%s:%zu: need at least 2 cells per row (features and a label), "
                               "found %zu%s",
                               r->path, r->lineno, sh->cols, csv_lone_cell_hint(&r->cell[0]));
    /* a test file without a header: the training file's column (its cell count is checked
     * to be the training file's above); one with a header lacks the name */
    if (o->label == OCCAM_LABEL_NAMED && named == CSV_NONE) {
        if (sh->header || o->label_fallback > sh->cols) return csv_named(r, o, false, &named, err);
        named = o->label_fallback - 1;
    }
    if (o->label != OCCAM_LABEL_LAST && o->label != OCCAM_LABEL_NAMED &&
        (size_t)o->label > sh->cols)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "%s:%zu: data.label: column %d is out of range: rows have %zu "
                               "cells",
                               r->path, r->lineno, o->label, sh->cols);
    sh->label = o->label == OCCAM_LABEL_LAST    ? sh->cols - 1
                : o->label == OCCAM_LABEL_NAMED ? named
                                                : (size_t)o->label - 1;
    sh->unnamed = sh->unnamed && sh->label != 0;
    return OCCAM_OK;
}

/* Whether the first feature counts the rows from 0 or 1 under an unnamed header cell: pandas'
 * to_csv writes ",a,b" and then "0,...", "1,...", R's write.csv '"","a","b"' and '"1",...'. */
static int csv_float_cmp(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Whether the unnamed first column is a row index, and which kind (occam_dataset.row_index).
 * Names with gaps or out of order need 10 rows: in a few rows distinct whole numbers are
 * nothing unusual. */
static int csv_row_index(const csv_shape *sh, const occam_dataset *ds)
{
    if (!sh->unnamed || ds->n < 2) return OCCAM_ROW_INDEX_NONE;
    bool counts = ds->x[0] == 0 || ds->x[0] == 1;
    for (size_t i = 1; counts && i < ds->n; i++)
        counts = ds->x[i * ds->d] == ds->x[0] + (float)i;
    if (counts) return OCCAM_ROW_INDEX_COUNTS;
    if (ds->n < 10) return OCCAM_ROW_INDEX_NONE;
    float *v = malloc(ds->n * sizeof *v);
    if (!v) return OCCAM_ROW_INDEX_NONE; /* only a note is lost */
    bool names = true;
    for (size_t i = 0; names && i < ds->n; i++) {
        v[i] = ds->x[i * ds->d];
        names = v[i] >= 0 && v[i] <= 16777216.0f && v[i] == floorf(v[i]);
    }
    if (names) qsort(v, ds->n, sizeof *v, csv_float_cmp);
    for (size_t i = 1; names && i < ds->n; i++) names = v[i] != v[i - 1];
    free(v);
    return names ? OCCAM_ROW_INDEX_NAMES : OCCAM_ROW_INDEX_NONE;
}

/* Why a label is out of range: labels from 1 (R's as.integer of a factor), or more classes
 * than the model has outputs. A label 0 seen on an earlier line rules out the first. */
static const char *label_hint(char *hint, size_t cap, const csv_reader *r, double v,
                              int classes)
{
    if (v < 0) return "";
    if (v == classes && !r->zero_line)
        return " (classes numbered from 1, as R's as.integer of a factor numbers them? subtract "
               "1 from the labels; or more classes than the model's outputs, model.layers' last "
               "width?)";
    if (r->zero_line && v < 1e6)
        snprintf(hint, cap, " (line %zu has label 0: with label %.0f there are at "
                 "least %.0f classes, and model.layers' last width gives the model %d outputs)",
                 r->zero_line, v, v + 1, classes);
    else
        snprintf(hint, cap, " (model.layers' last width gives the model %d outputs, one "
                 "a class)", classes);
    return hint;
}

/* Checks one data row against the shape and the options. */
static int csv_check_row(const csv_reader *r, const occam_csv_opts *o, const csv_shape *sh,
                         const occam_dataset *ds, occam_error *err)
{
    if (r->ncell != sh->cols) {
        /* one cell more, and it empty: the data rows end in a comma and the header does not */
        const csv_cell *last = &r->cell[r->ncell - 1];
        bool comma = r->ncell == sh->cols + 1 && last->len == 0 && !last->quoted;
        /* a number grouped by an unquoted ',' here, or on the first line when this one is
         * short */
        size_t split = r->ncell > sh->cols ? csv_split_group(r) : sh->header ? CSV_NONE
                                                                           : sh->split;
        char group[8 * CSV_QUOTE_MAX + 200] = "", q[2][4 * CSV_QUOTE_MAX + 4];
        const char *tail = "one number with its thousands grouped by ',', unquoted? occam reads "
                           "numbers without grouping";
        if (split != CSV_NONE && r->ncell > sh->cols) {
            occam_error_quote(q[0], sizeof q[0], r->cell[split].text, r->cell[split].len,
                              CSV_QUOTE_MAX);
            occam_error_quote(q[1], sizeof q[1], r->cell[split + 1].text,
                              r->cell[split + 1].len, CSV_QUOTE_MAX);
            snprintf(group, sizeof group, " (columns %zu and %zu, \"%s\" and \"%s\": %s)",
                     split + 1, split + 2, q[0], q[1], tail);
        } else if (split != CSV_NONE) {
            snprintf(group, sizeof group, " (line %zu's columns %zu and %zu: %s)", sh->first,
                     split + 1, split + 2, tail);
        }
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "%s:%zu: expected %zu cells, as line %zu%s has, found %zu%s",
                               r->path, r->lineno, sh->cols, sh->first,
                               sh->header ? " (the header)" : "", r->ncell,
                               comma                    ? " (the last empty: a comma that ends "
                                                          "the line?)"
                               : *group                 ? group
                               : csv_comment(&r->cell[0]) ? CSV_HINT_COMMENT
                                                          : "");
    }
    if (r->bad != CSV_NONE) {
        const csv_cell *c = &r->cell[r->bad];
        const char *hint = csv_cell_hint(c);
        /* every line ending in a comma (a spreadsheet's or a script's export) ends in an
         * empty cell */
        if (c->len == 0 && !c->quoted && r->bad + 1 == r->ncell)
            hint = " (a missing value, or a comma that ends the line? occam needs a number in "
                   "every cell: fill it in, or drop the row or the line's last comma)";
        if (!*hint && r->bad == sh->label && o->task == OCCAM_TASK_CLASSIFY)
            hint = csv_yes_no(c) ? " (a yes/no class? write it as 1 or 0)"
                                 : " (a class name? labels are the classes' numbers, counted "
                                   "from 0)";
        else if (!*hint && r->bad == 0 && sh->unnamed)
            /* R's write.csv writes a data frame's row names ("Mazda RX4", "Afghanistan")
             * under an empty header cell by default: one 0/1 column per value is no answer */
            hint = " (row names under the header's empty first cell, as R's write.csv writes "
                   "them by default? occam reads numbers only: write the file without them (R: "
                   "row.names = FALSE; pandas: index=False))";
        else if (!*hint && r->bad != sh->label)
            hint = csv_text_hint(c);
        char others[4 * (4 * CSV_QUOTE_MAX + 32) + 64], all[sizeof others + 512];
        csv_other_bad(r, sh, ds, others, sizeof others);
        if (*others && *hint && hint[strlen(hint) - 1] == ')')
            snprintf(all, sizeof all, "%.*s%s)", (int)strlen(hint) - 1, hint, others);
        else if (*others)
            snprintf(all, sizeof all, "%s (%s)", hint, others + 2);
        else
            snprintf(all, sizeof all, "%s", hint);
        return csv_error_cell(r, sh, ds, r->bad, "is not a number", all, err);
    }
    for (size_t j = 0; j < r->ncell; j++) {
        double v = r->cell[j].v;
        if ((isfinite(v) && fabs(v) <= FLT_MAX) || (sh->unread && j == sh->label)) continue;
        const csv_cell *c = &r->cell[j];
        const char *hint = csv_cell_hint(c);
        /* Inf, -inf, Infinity: strtod's infinity from a number past a double's range (1e999)
         * is no division by zero, but a value past float32's as 1e39 is */
        size_t sign = c->len && (c->text[0] == '+' || c->text[0] == '-');
        bool word = sign < c->len && (c->text[sign] == 'i' || c->text[sign] == 'I');
        if (!*hint && isinf(v) && word)
            hint = " (an infinity, as R writes a division by zero: occam needs a finite number "
                   "in every cell: fill it in or drop the row)";
        else if (!*hint && !isnan(v))
            hint = " (beyond float32's range, about 3.4e38: change the column's units)";
        return csv_error_cell(r, sh, ds, j, "is not a finite float32 value", hint, err);
    }
    if (sh->label == CSV_NONE || sh->unread || o->task != OCCAM_TASK_CLASSIFY) return OCCAM_OK;
    double v = r->cell[sh->label].v;
    if (v != floor(v))
        return csv_error_cell(r, sh, ds, sh->label, "is not an integer label",
                              csv_cell_hint(&r->cell[sh->label]), err);
    char hint[320];
    if (v < 0 || v >= o->classes)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "%s:%zu: label %.0f out of range [0, %d): labels count from 0, "
                               "one per output of the model%s",
                               r->path, r->lineno, v, o->classes,
                               sh->numbered && r->lineno == sh->first &&
                                       occam_numbered_like_pandas(sh->from, sh->step)
                                   ? " (this line numbers the columns 0, 1, 2, ...: a header, "
                                     "as pandas writes one for columns without names? "
                                     "data.header = auto reads a line of numbers as data: set "
                                     "data.header = yes)"
                               : sh->numbered && r->lineno == sh->first
                                   ? " (this line numbers the columns by an even step: a "
                                     "header, as years name columns? data.header = auto reads "
                                     "a line of numbers as data: set data.header = yes)"
                                   : label_hint(hint, sizeof hint, r, v, o->classes));
    return OCCAM_OK;
}

static int csv_oom(const csv_reader *r, size_t rows, occam_error *err)
{
    return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s:%zu: out of memory after %zu rows",
                           r->path, r->lineno, rows);
}

/* Appends the current row to out, growing its arrays as they fill. */
static int csv_store(csv_reader *r, const csv_shape *sh, const occam_csv_opts *o,
                     occam_dataset *out, occam_error *err)
{
    size_t row = out->n, d = out->d, most = SIZE_MAX / sizeof(float) / (d ? d : 1);
    /* IDX and blobs stop at 2^31 rows; past 2^32 a run's epoch order (uint32 row numbers)
     * wrapped */
    size_t rows_max = o->rows_max ? o->rows_max : OCCAM_DATA_ROWS_MAX;
    if (row >= rows_max)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s:%zu: more than %zu data rows, the most "
                               "occam takes from any source", r->path, r->lineno, rows_max);
    if (row + 1 > most ||
        !data_grow((void **)&out->x, &r->xcap, (row + 1) * d, CSV_ROWS_FIRST * d, most * d,
                   sizeof(float)))
        return csv_oom(r, row, err);
    if (sh->label != CSV_NONE && !sh->unread) {
        bool classify = o->task == OCCAM_TASK_CLASSIFY;
        void **lab = classify ? (void **)&out->label : (void **)&out->y;
        /* int32_t labels and float targets: 4 bytes either way */
        if (!data_grow(lab, &r->lcap, row + 1, CSV_ROWS_FIRST, most, sizeof(float)))
            return csv_oom(r, row, err);
        double v = r->cell[sh->label].v;
        if (classify) out->label[row] = (int32_t)v;
        else out->y[row] = (float)v;
        if (classify && v == 0 && !r->zero_line) r->zero_line = r->lineno;
    }
    float *x = out->x + row * d;
    for (size_t j = 0; j < r->ncell; j++) { /* the values, and each column's range as written */
        if (sh->unread && j == sh->label) continue;
        double v = r->cell[j].v, *lh = r->range + 2 * j;
        float f = (float)v;
        if (j != sh->label) *x++ = f;
        if (row == 0 || v < lh[0]) lh[0] = v;
        if (row == 0 || v > lh[1]) lh[1] = v;
        r->inexact[j] |= (double)f != v;
        r->unquoted[j] |= !r->cell[j].quoted;
    }
    out->n = row + 1;
    return OCCAM_OK;
}

/* The first feature column quoted in every data row while another feature column is not
 * (out->quoted_col, 1-based in the file; 0: none). R's write.csv quotes strings and factors,
 * and a factor whose levels are numbers ("1" to "50" for 50 chicks, "1" to "4" for four diets)
 * then reads as a number: an identifier or a category taken for a quantity, without a word.
 * A row index (R quotes its row names too) is left out. */
static void csv_quoted(const csv_reader *r, const csv_shape *sh, occam_dataset *out)
{
    size_t first = 0, plain = 0;
    for (size_t j = out->row_index ? 1 : 0; j < sh->cols; j++) {
        if (j == sh->label) continue;
        if (r->unquoted[j]) plain++;
        else if (!first) first = j + 1;
    }
    out->quoted_col = plain ? first : 0;
    out->quoted_feature = 0;
    if (out->quoted_col)
        out->quoted_feature = first - (sh->label != CSV_NONE && first - 1 > sh->label);
}

/* The first column that float32, occam's number type, rounds (some value is not a float32)
 * and keeps to fewer than CSV_COARSE_STEPS steps across its range: 1e8 + x with x in ±2 is
 * read as 1e8 (steps of 8 there), and the signal is gone without a word. A date written as
 * yyyymmdd, or consecutive IDs from 1000000, are integers float32 holds exactly, and a
 * classifier's labels too. The step is float32's at the column's largest |value|
 * (occam_float_step, as the note prints it). */
#define CSV_COARSE_STEPS 256

static void csv_coarse(const csv_reader *r, const csv_shape *sh, const occam_csv_opts *o,
                       occam_dataset *out)
{
    for (size_t j = 0; j < sh->cols; j++) {
        if ((j == sh->label && o->task == OCCAM_TASK_CLASSIFY) || !r->inexact[j]) continue;
        double lo = r->range[2 * j], hi = r->range[2 * j + 1];
        if (hi > lo && (hi - lo) < CSV_COARSE_STEPS * occam_float_step(fmax(fabs(lo), fabs(hi)))) {
            out->coarse_col = j + 1;
            out->coarse_lo = lo;
            out->coarse_hi = hi;
            return;
        }
    }
}

/* The header row's feature names (the label's left out) into out->names, the label's into
 * out->label_name. */
static int csv_names(const csv_reader *r, const csv_shape *sh, occam_dataset *out,
                     occam_error *err)
{
    if (sh->label != CSV_NONE) {
        const csv_cell *c = &r->cell[sh->label];
        out->label_name = strndup(c->text, c->len); /* cut at a NUL byte, as the names are */
        if (!out->label_name)
            return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: out of memory", r->path);
    }
    size_t bytes = 0;
    for (size_t j = 0; j < r->ncell; j++)
        if (j != sh->label) bytes += r->cell[j].len + 1;
    char *p = out->names = malloc(bytes ? bytes : 1);
    if (!p) return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: out of memory", r->path);
    for (size_t j = 0; j < r->ncell; j++) {
        if (j == sh->label) continue;
        /* a name with a NUL byte in it is cut there */
        size_t len = strnlen(r->cell[j].text, r->cell[j].len);
        memcpy(p, r->cell[j].text, len);
        p[len] = 0;
        p += len + 1;
    }
    return OCCAM_OK;
}

/* Trims an array to its rows and moves it to aligned memory. */
static bool csv_fit(void **p, size_t bytes)
{
    if (!*p) return true;
    void *q = realloc(*p, bytes ? bytes : 1);
    if (q) *p = q;
    return data_align(p, bytes);
}

/* The one pass: checks every row and stores it. */
static int csv_rows(csv_reader *r, const occam_csv_opts *o, occam_dataset *out, occam_error *err)
{
    csv_shape sh = {0};
    bool got = false, first = true;
    int rc;
    while ((rc = csv_next(r, &got, err)) == OCCAM_OK && got) {
        if (first) {
            first = false;
            if ((rc = csv_first(r, o, &sh, err)) != OCCAM_OK) return rc;
            bool labelled = sh.label != CSV_NONE, kept = labelled && !sh.unread;
            out->d = sh.cols - labelled;
            out->classes = kept && o->task == OCCAM_TASK_CLASSIFY ? o->classes : 0;
            out->targets = kept && o->task != OCCAM_TASK_CLASSIFY ? 1 : 0;
            out->label_col = labelled ? sh.label + 1 : 0;
            out->named_header = sh.header && (o->label == OCCAM_LABEL_NAMED ||
                                              o->skip == OCCAM_LABEL_NAMED) &&
                                sh.label != CSV_NONE;
            if (sh.header && (rc = csv_names(r, &sh, out, err)) != OCCAM_OK) return rc;
            r->range = malloc(2 * sh.cols * sizeof(double));
            r->inexact = calloc(sh.cols, sizeof(bool));
            r->unquoted = calloc(sh.cols, sizeof(bool));
            if (!r->range || !r->inexact || !r->unquoted)
                return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: out of memory", r->path);
            if (sh.header) continue;
        }
        if (sh.unread && r->bad == sh.label) { /* the first other cell that is not a number */
            for (r->bad = sh.label + 1; r->bad < r->ncell && r->cell[r->bad].ok; r->bad++) {}
            if (r->bad == r->ncell) r->bad = CSV_NONE;
        }
        if ((rc = csv_check_row(r, o, &sh, out, err)) != OCCAM_OK) return rc;
        if ((rc = csv_store(r, &sh, o, out, err)) != OCCAM_OK) return rc;
    }
    if (rc != OCCAM_OK) return rc;
    if (out->n == 0)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: no data rows%s%s", r->path,
                               sh.header ? " after the header" : " (the file is empty or blank)",
                               sh.why);
    out->row_index = csv_row_index(&sh, out);
    out->numbered_first = sh.numbered;
    out->text_label_first = sh.text_skipped;
    out->numbered_from = sh.numbered ? sh.from : 0;
    out->numbered_step = sh.numbered ? sh.step : 0;
    csv_coarse(r, &sh, o, out);
    csv_quoted(r, &sh, out);
    if (!csv_fit((void **)&out->x, out->n * out->d * sizeof(float)) ||
        !csv_fit((void **)&out->label, out->n * sizeof(int32_t)) ||
        !csv_fit((void **)&out->y, out->n * sizeof(float)))
        return occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: out of memory for %zu rows",
                               r->path, out->n);
    return OCCAM_OK;
}

static int csv_check_opts(const char *path, const occam_csv_opts *o, occam_error *err)
{
    bool named = o->label == OCCAM_LABEL_NAMED ||
                 (o->label == OCCAM_LABEL_NONE && o->skip == OCCAM_LABEL_NAMED);
    if (named && (!o->label_name || !o->label_name[0]))
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: data.label: a column name is empty",
                               path);
    if (o->label == OCCAM_LABEL_NONE) return OCCAM_OK;
    if (o->label != OCCAM_LABEL_LAST && o->label != OCCAM_LABEL_NAMED && o->label < 1)
        return occam_error_set(err, OCCAM_ERR_INPUT,
                               "%s: data.label: column %d is not a 1-based column number", path,
                               o->label);
    if (o->task == OCCAM_TASK_CLASSIFY && o->classes < 1)
        return occam_error_set(err, OCCAM_ERR_INPUT, "%s: class count %d must be >= 1", path,
                               o->classes);
    return OCCAM_OK;
}

int data_csv_read(occam_dataset *out, data_input *in, const occam_csv_opts *opts,
                  occam_error *err)
{
    *out = (occam_dataset){0};
    int rc = csv_check_opts(in->path, opts, err);
    if (rc != OCCAM_OK) return rc;
    csv_reader r = {.path = in->path, .in = in};
    r.chunk = malloc(CSV_CHUNK);
    rc = r.chunk ? csv_rows(&r, opts, out, err)
                 : occam_error_set(err, OCCAM_ERR_RUNTIME, "%s: out of memory", in->path);
    free(r.chunk);
    free(r.line);
    free(r.cell);
    free(r.range);
    free(r.inexact);
    free(r.unquoted);
    if (rc != OCCAM_OK) occam_dataset_free(out);
    return rc;
}

int occam_csv_load(occam_dataset *out, const char *path, const occam_csv_opts *opts,
                   occam_error *err)
{
    *out = (occam_dataset){0};
    int rc = csv_check_opts(path, opts, err);
    if (rc != OCCAM_OK) return rc;
    data_input in;
    rc = data_input_open(&in, path, err);
    if (rc != OCCAM_OK) return rc;
    rc = data_csv_read(out, &in, opts, err);
    data_input_close(&in);
    return rc;
}
