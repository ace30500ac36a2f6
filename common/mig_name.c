/*
 * What a name in a migrations folder says, by the name alone: a <version>_<name>/ folder, a
 * <version>_<name>.up.sql or .down.sql half, a Flyway V<version>__<name>.sql, or a
 * <version>_<name>.sql file with up and down sections. Names that cannot be migrations are
 * ignored; a .sql name without a version is an error naming the file and the forms expected.
 */
#include "mig_name.h"

#include "mig_alloc.h"
#include "mig_version.h"

#include <string.h>
#include <strings.h>

/* True when s (of length len) ends with suffix, ignoring ASCII case. */
static bool ends_with_nocase(const char *s, size_t len, const char *suffix)
{
    size_t n = strlen(suffix);
    return len >= n && strncasecmp(s + len - n, suffix, n) == 0;
}

/* Split stem into version and name by the general grammar; false when it has no version. */
static bool split_version(const char *stem, size_t len, mig_name_info *out)
{
    size_t digits;
    size_t end = mig_version_prefix(stem, len, &digits);
    if (end == 0)
        return false;
    size_t name_at = end < len ? end + 1 : end; /* skip the separator before the name */
    out->version = mig_strndup(stem + digits, end - digits);
    out->name = mig_strndup(stem + name_at, len - name_at);
    return true;
}

/* Flyway's V<version>__<name>.sql and U<version>__<name>.sql; false when stem is not one. */
static bool split_flyway(const char *stem, size_t len, mig_name_info *out)
{
    if (len < 2 || (stem[0] != 'V' && stem[0] != 'U') || !(stem[1] >= '0' && stem[1] <= '9'))
        return false;
    const char *sep = strstr(stem, "__");
    if (!sep || (size_t)(sep - stem) > len)
        return false;
    size_t vlen = (size_t)(sep - stem) - 1;
    if (mig_version_prefix(stem + 1, vlen, NULL) != vlen)
        return false;
    out->kind = stem[0] == 'V' ? MIG_NAME_UP : MIG_NAME_DOWN;
    out->version = mig_strndup(stem + 1, vlen);
    if (out->version)
        for (char *p = out->version; *p; p++)
            if (*p == '_')
                *p = '.'; /* Flyway writes 1.2 as 1_2 */
    out->name = mig_strndup(sep + 2, len - vlen - 3);
    return true;
}

/* Classify a folder entry by its name alone. */
int mig_name_parse(const char *entry, bool is_folder, mig_name_info *out, mig_error *err)
{
    memset(out, 0, sizeof *out);
    size_t len = strlen(entry);
    if (entry[0] == '.')
        return MIG_OK; /* .gitkeep, editors' swap files, hidden folders */
    if (is_folder) {
        if (split_version(entry, len, out))
            out->kind = MIG_NAME_FOLDER;
    } else if (!ends_with_nocase(entry, len, ".sql")) {
        return MIG_OK;
    } else if (ends_with_nocase(entry, len, ".up.sql") ||
               ends_with_nocase(entry, len, ".down.sql")) {
        bool up = ends_with_nocase(entry, len, ".up.sql");
        size_t stem = len - (up ? 7 : 9);
        if (!split_version(entry, stem, out))
            return mig_fail(err, MIG_ERR_ARGUMENT,
                            "%s: the file name has no version (expected <version>_<name>%s)", entry,
                            up ? ".up.sql" : ".down.sql");
        out->kind = up ? MIG_NAME_UP : MIG_NAME_DOWN;
    } else if (split_flyway(entry, len - 4, out)) {
        /* kind set by split_flyway */
    } else if (entry[0] == 'R' && entry[1] == '_' && entry[2] == '_') {
        return mig_fail(
            err, MIG_ERR_ARGUMENT,
            "%s: repeatable migrations (R__) are not supported; give the file a version", entry);
    } else {
        if (!split_version(entry, len - 4, out))
            return mig_fail(err, MIG_ERR_ARGUMENT,
                            "%s: the file name has no version (expected <version>_<name>.sql, "
                            "<version>_<name>.up.sql or V<version>__<name>.sql)",
                            entry);
        out->kind = MIG_NAME_SECTIONED;
    }
    if (out->kind != MIG_NAME_IGNORED && (!out->version || !out->name)) {
        mig_name_info_free(out);
        return mig_fail_nomem(err);
    }
    return MIG_OK;
}

/* Release the strings of info. */
void mig_name_info_free(mig_name_info *info)
{
    mig_free(info->version);
    mig_free(info->name);
    memset(info, 0, sizeof *info);
}
