/*
 * Migration versions: the prefix of a name that is its version (digits joined by '.', '_' or
 * '-', after an optional v or V), validation of a target, and ordering segment by segment as
 * numbers, so 2.10 comes after 2.9 and 20240101 after 9.
 */
#include "mig_version.h"

#include <string.h>

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_separator(char c)
{
    return c == '.' || c == '_' || c == '-';
}

/* Length of the leading version of s; digits_start receives where its digits begin. */
size_t mig_version_prefix(const char *s, size_t len, size_t *digits_start)
{
    size_t i = (len > 0 && (s[0] == 'v' || s[0] == 'V')) ? 1 : 0;
    size_t start = i, end = 0;
    while (i < len && is_digit(s[i])) {
        while (i < len && is_digit(s[i]))
            i++;
        if (i < len && !is_separator(s[i]))
            break; /* "2fa": digits followed by a letter belong to the name */
        end = i;
        if (i == len)
            break;
        i++; /* the separator; another run may follow */
    }
    if (digits_start)
        *digits_start = start;
    return end;
}

/* True when s is entirely a version. */
bool mig_version_valid(const char *s)
{
    size_t len = strlen(s);
    return len > 0 && mig_version_prefix(s, len, NULL) == len;
}

/* Read the next digit run of s starting at *pos; returns its significant digits. */
static const char *next_segment(const char *s, size_t *pos, size_t *ndigits, bool *present)
{
    size_t i = *pos;
    while (s[i] && !is_digit(s[i]))
        i++;
    *present = is_digit(s[i]);
    while (s[i] == '0' && is_digit(s[i + 1]))
        i++;
    const char *start = s + i;
    while (is_digit(s[i]))
        i++;
    *ndigits = (size_t)(s + i - start);
    *pos = i;
    return start;
}

/* Compare versions numerically, segment by segment. */
int mig_version_compare(const char *a, const char *b)
{
    size_t pa = 0, pb = 0;
    for (;;) {
        size_t la, lb;
        bool has_a, has_b;
        const char *sa = next_segment(a, &pa, &la, &has_a);
        const char *sb = next_segment(b, &pb, &lb, &has_b);
        if (!has_a && !has_b)
            return 0;
        if (!has_a)
            sa = "0", la = 1;
        if (!has_b)
            sb = "0", lb = 1;
        if (la != lb)
            return la < lb ? -1 : 1;
        int c = memcmp(sa, sb, la);
        if (c)
            return c < 0 ? -1 : 1;
    }
}
