/* The progress lines of a call (mig_progress.h), the same words on both engines. */
#include "mig_progress.h"

#include "mig_alloc.h"
#include "mig_script.h"

#include <ctype.h>
#include <string.h>

/* The line before a migration runs. */
char *mig_progress_step(bool up, int number, int total, const char *version, const char *name,
                        const char *script)
{
    return mig_printf("%s %d/%d: %s %s (%s)", up ? "applying" : "reverting", number, total, version,
                      name ? name : "", script ? script : "?");
}

/* The start of a statement on one line, cut at max bytes with "...". */
char *mig_progress_excerpt(const char *stmt, size_t len, size_t max)
{
    char *out = mig_malloc(max + 4);
    if (!out)
        return NULL;
    size_t n = 0;
    bool space = false;
    for (size_t i = 0; i < len && n < max; i++) {
        unsigned char c = (unsigned char)stmt[i];
        if (isspace(c)) {
            space = n > 0;
            continue;
        }
        if (space && n + 1 < max)
            out[n++] = ' ';
        space = false;
        out[n++] = (char)c;
    }
    out[n] = '\0';
    if (n >= max)
        memcpy(out + n, "...", 4);
    return out;
}

/* The line naming a statement that ran long. */
char *mig_progress_slow(const char *sql, size_t len, size_t offset, size_t stmt_len, long long ms)
{
    size_t at = mig_script_skip_blank(sql, len, offset);
    if (at >= offset + stmt_len)
        at = offset;
    char *excerpt = mig_progress_excerpt(sql + at, offset + stmt_len - at, 60);
    char *out =
        mig_printf("statement at line %d ran for %lld.%lld s: %s", mig_script_line_at(sql, len, at),
                   ms / 1000, (ms % 1000) / 100, excerpt ? excerpt : "");
    mig_free(excerpt);
    return out;
}
