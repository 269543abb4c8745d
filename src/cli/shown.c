/* cli_shown (cli.h): a file name or text as messages show it. On its own, without the rest of
 * the CLI's options.c (whose build ID is generated for build/ only), so that what links the
 * plot readers alone (fuzz/fuzz_plot.c) takes this one. */
#include <string.h>

#include "cli.h"

const char *cli_shown(const char *text)
{
    static char buf[4][4 * OCCAM_ERROR_MAX + 4];
    static int next;
    char *b = buf[next++ % 4];
    return occam_error_quote(b, sizeof buf[0], text, strlen(text), OCCAM_ERROR_MAX);
}
