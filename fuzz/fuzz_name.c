/*
 * libFuzzer target: migration file names and versions.
 *
 * Input: "<entry>\n<a>\n<b>\n<c>" (missing parts are empty); the first byte's low bit says
 * whether the entry is a folder. Properties:
 *   - mig_name_parse never crashes; a migration it accepts has a version that is itself a valid
 *     version, equal to itself, and a name; an error names the entry;
 *   - mig_version_compare is a total preorder on any strings: compare(a, a) == 0, antisymmetric
 *     (sign(compare(a, b)) == -sign(compare(b, a))), transitive, and versions that compare
 *     equal compare the same way with a third;
 *   - mig_version_prefix stays within the string, and covers all of a valid version.
 */
#include "mig_error.h"
#include "mig_name.h"
#include "mig_version.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"

static int sign(int x)
{
    return (x > 0) - (x < 0);
}

/* Copy the next line of [*p, end) into a fresh NUL-terminated string (NUL bytes dropped). */
static char *next_part(const uint8_t **p, const uint8_t *end)
{
    const uint8_t *s = *p, *nl = memchr(s, '\n', (size_t)(end - s));
    const uint8_t *stop = nl ? nl : end;
    char *out = malloc((size_t)(stop - s) + 1);
    size_t n = 0;
    for (const uint8_t *q = s; q < stop; q++)
        if (*q)
            out[n++] = (char)*q;
    out[n] = '\0';
    *p = nl ? nl + 1 : end;
    return out;
}

static void check_order(const char *a, const char *b, const char *c)
{
    int ab = sign(mig_version_compare(a, b)), ba = sign(mig_version_compare(b, a));
    int bc = sign(mig_version_compare(b, c)), ac = sign(mig_version_compare(a, c));
    CHECK(mig_version_compare(a, a) == 0, "a=[%s]", a);
    CHECK(ab == -ba, "a=[%s] b=[%s]: %d %d", a, b, ab, ba);
    if (ab <= 0 && bc <= 0)
        CHECK(ac <= 0, "a=[%s] <= b=[%s] <= c=[%s] but a > c", a, b, c);
    if (ab >= 0 && bc >= 0)
        CHECK(ac >= 0, "a=[%s] >= b=[%s] >= c=[%s] but a < c", a, b, c);
    if (ab == 0)
        CHECK(ac == bc, "a=[%s] == b=[%s] but they compare differently with c=[%s]", a, b, c);
}

static void check_prefix(const char *s)
{
    size_t len = strlen(s), digits = 99;
    size_t n = mig_version_prefix(s, len, &digits);
    CHECK(n <= len, "[%s]", s);
    CHECK(n == 0 || digits <= n, "[%s]", s);
    if (mig_version_valid(s))
        CHECK(n == len, "[%s] is valid but its prefix is %zu of %zu", s, n, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    bool is_folder = data[0] & 1;
    const uint8_t *p = data + 1, *end = data + size;
    char *entry = next_part(&p, end);
    char *a = next_part(&p, end);
    char *b = next_part(&p, end);
    char *c = next_part(&p, end);

    mig_name_info info;
    mig_error err;
    mig_error_init(&err);
    int rc = mig_name_parse(entry, is_folder, &info, &err);
    if (rc == MIG_OK) {
        if (info.kind != MIG_NAME_IGNORED) {
            CHECK(info.version && info.name, "entry [%s]", entry);
            CHECK(mig_version_valid(info.version), "entry [%s] gave version [%s]", entry,
                  info.version);
            CHECK(mig_version_compare(info.version, info.version) == 0, "[%s]", info.version);
            check_order(info.version, a, b);
        }
        mig_name_info_free(&info);
    } else {
        CHECK(err.message && strstr(err.message, entry), "the error does not name [%s]: %s", entry,
              err.message ? err.message : "(none)");
    }
    mig_error_clear(&err);

    check_order(a, b, c);
    check_order(entry, a, c);
    check_prefix(entry);
    check_prefix(a);
    free(entry);
    free(a);
    free(b);
    free(c);
    return 0;
}
