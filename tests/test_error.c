/* Error records: a message too long for the record keeps its reason (the end) and loses the
 * middles of its longest paths; echoed bytes are quoted so they cannot drive a terminal; and a
 * command that fails without a message still says something, naming itself. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <errno.h>
#include <string.h>

#include "../src/cli/cli.h"
#include "occam/error.h"

static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    cr_assert_not_null(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

static bool ends_with(const char *s, const char *end)
{
    size_t n = strlen(s), k = strlen(end);
    return n >= k && strcmp(s + n - k, end) == 0;
}

Test(error, short_messages_are_kept_whole)
{
    occam_error err = {0};
    cr_assert_eq(occam_error_set(&err, OCCAM_ERR_INPUT, "%s:%d: %s", "a/b.csv", 3, "bad"),
                 OCCAM_ERR_INPUT);
    cr_assert_eq(err.status, OCCAM_ERR_INPUT);
    cr_assert_str_eq(err.msg, "a/b.csv:3: bad");
    cr_assert_eq(occam_error_set(NULL, OCCAM_ERR_RUNTIME, "x"), OCCAM_ERR_RUNTIME);
}

/* Two paths of 6000 characters and a reason: the record holds the reason, both paths' heads
 * and file names (the end of each), with "..." where their folders were. */
Test(error, two_long_paths_lose_their_middles_not_the_reason)
{
    char a[6100], b[6100], *ra = repeat('a', 5980), *rb = repeat('b', 5980);
    snprintf(a, sizeof a, "/tmp/%s/first.csv", ra);
    snprintf(b, sizeof b, "/tmp/%s/second.csv", rb);
    free(ra);
    free(rb);
    occam_error err = {0};
    occam_error_set(&err, OCCAM_ERR_INPUT, "%s has 3 features per row but %s has 4: they must "
                                           "agree", a, b);
    size_t n = strlen(err.msg);
    cr_assert(n < sizeof err.msg && n > sizeof err.msg - 64, "length %zu", n);
    cr_assert(ends_with(err.msg, "/second.csv has 4: they must agree"), "%s", err.msg);
    cr_assert(strstr(err.msg, "/first.csv has 3 features per row but /tmp/bbb"), "%s", err.msg);
    cr_assert_eq(strncmp(err.msg, "/tmp/aaa", 8), 0);
    cr_assert(strstr(err.msg, "a...a") && strstr(err.msg, "b...b"), "%s", err.msg);
}

/* Without a path the middle of the message gives way: head and reason both survive. */
Test(error, long_text_without_a_path_keeps_head_and_tail)
{
    occam_error err = {0};
    char *x = repeat('x', 20000);
    occam_error_set(&err, OCCAM_ERR_RUNTIME, "start %s end of the reason", x);
    free(x);
    cr_assert_eq(strlen(err.msg), sizeof err.msg - 1);
    cr_assert_eq(strncmp(err.msg, "start xxx", 9), 0);
    cr_assert(ends_with(err.msg, "xxx end of the reason"), "%s", err.msg + 8000);
    cr_assert(strstr(err.msg, "x...x"));
}

Test(error, shorten_in_place)
{
    char text[300], *f = repeat('f', 100);
    snprintf(text, sizeof text, "/%s/file.csv:12: cannot open: No such file", f);
    free(f);
    occam_error_shorten(text, 60);
    cr_assert_eq(strlen(text), 59, "%s", text);
    cr_assert_str_eq(text, "/fffffffff...fffffff/file.csv:12: cannot open: No such file");
    char fits[64] = "a/b: ok";
    occam_error_shorten(fits, sizeof fits);
    cr_assert_str_eq(fits, "a/b: ok");
}

/* Printable ASCII and well-formed UTF-8 pass; controls, NUL, DEL, C1 controls, stray and
 * overlong bytes become \xHH; `most` bytes at the most, then "...". */
Test(error, quote_escapes_what_a_terminal_would_act_on)
{
    char buf[128];
    const struct {
        const char *in;
        size_t len;
        const char *want;
    } cases[] = {
        {"plain text", 10, "plain text"},
        {"\x1b[31mred", 8, "\\x1B[31mred"},
        {"a\0b", 3, "a\\x00b"},
        {"tab\there\n", 9, "tab\\x09here\\x0A"},
        {"del\x7f", 4, "del\\x7F"},
        {"caf\xc3\xa9 \xe2\x98\x83", 9, "caf\xc3\xa9 \xe2\x98\x83"},
        {"c1 \xc2\x9b", 5, "c1 \\xC2\\x9B"},
        {"stray \x80 \xff", 9, "stray \\x80 \\xFF"},
        {"overlong \xc0\xaf", 11, "overlong \\xC0\\xAF"},
        {"cut \xe2\x98", 6, "cut \\xE2\\x98"},
        {"surrogate \xed\xa0\x80", 13, "surrogate \\xED\\xA0\\x80"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_assert_str_eq(occam_error_quote(buf, sizeof buf, cases[i].in, cases[i].len, 64),
                         cases[i].want, "case %zu", i);
    cr_assert_str_eq(occam_error_quote(buf, sizeof buf, "abcdefgh", 8, 4), "abcd...");
    cr_assert_str_eq(occam_error_quote(buf, 12, "\x01\x02\x03\x04", 4, 64), "\\x01\\x02...");
}

/* A failure that left no message (a bug, but never a silent exit) prints a line naming the
 * command; one with a message prints the message. Either way the status is the exit code. */
Test(error, cli_fail_never_exits_without_a_word, .init = cr_redirect_stderr)
{
    cli_command_name = "train";
    occam_error empty = {.status = OCCAM_ERR_RUNTIME};
    cr_assert_eq(cli_fail(&empty), OCCAM_ERR_RUNTIME);
    occam_error none = {0};
    cr_assert_eq(cli_fail(&none), OCCAM_ERR_RUNTIME);
    occam_error said = {0};
    occam_error_set(&said, OCCAM_ERR_INPUT, "x.csv:2: bad");
    cr_assert_eq(cli_fail(&said), OCCAM_ERR_INPUT);
    fflush(stderr);
    cr_assert_stderr_eq_str(
        "occam: train: failed (exit 1) without saying why; this is a bug in occam, please "
        "report it\n"
        "occam: train: failed (exit 1) without saying why; this is a bug in occam, please "
        "report it\n"
        "occam: x.csv:2: bad\n");
}

/* A file that cannot be opened is the input's fault, unless the process ran out of descriptors
 * or memory: a rank under `ulimit -n 16` said its config 'cannot open: Too many open files'
 * and exited 2 (found by a resource sweep). */
Test(error, cannot_open_is_input_unless_the_process_ran_short)
{
    occam_error err;
    cr_assert_eq(occam_error_open(&err, "a.csv", ENOENT), OCCAM_ERR_INPUT);
    cr_assert_str_eq(err.msg, "a.csv: cannot open: No such file or directory");
    cr_assert_eq(occam_error_open(&err, "a.csv", EACCES), OCCAM_ERR_INPUT);
    cr_assert_eq(occam_error_open(&err, "a.csv", EMFILE), OCCAM_ERR_RUNTIME);
    cr_assert_str_eq(err.msg, "a.csv: cannot open: Too many open files");
    cr_assert_eq(occam_error_open(&err, "a.csv", ENFILE), OCCAM_ERR_RUNTIME);
    cr_assert_eq(occam_error_open(&err, "a.csv", ENOMEM), OCCAM_ERR_RUNTIME);
    cr_assert_eq(err.status, OCCAM_ERR_RUNTIME);
}

/* Values in messages are spelt as a config file would: the fewest digits that read back, from
 * 15 up for a normal number (%g drops trailing zeros, and 1000000 stays whole), from 1 up for a
 * subnormal, whose 15 digits said 4.94065645841247e-324 for a file's 5e-324. */
Test(error, doubles_are_spelt_with_the_digits_that_read_back)
{
    struct {
        double v;
        const char *want;
    } cases[] = {
        {0.1, "0.1"},      {100, "100"},          {1e6, "1000000"},   {0.05, "0.05"},
        {1e-5, "1e-05"},   {1.0 / 3, "0.3333333333333333"},           {-2.5, "-2.5"},
        {5e-324, "5e-324"}, {1e-320, "1e-320"},   {-3e-310, "-3e-310"}, {0, "0"},
        {2.2250738585072014e-308, "2.2250738585072014e-308"}, /* the least normal */
    };
    char buf[25];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cr_assert_str_eq(occam_error_spell_double(buf, sizeof buf, cases[i].v), cases[i].want);
        cr_assert_eq(strtod(buf, NULL), cases[i].v, "%s", buf);
    }
    /* the longest there is fits in 25 bytes */
    occam_error_spell_double(buf, sizeof buf, -2.2250738585072019e-308);
    cr_assert_eq(strtod(buf, NULL), -2.2250738585072019e-308, "%s", buf);
}
