/*
 * migrate_new: the files of a new migration. The folder is read first (as every call reads
 * it), to take its layout and to check that the new version sorts after its newest; the files
 * are then created one by one with O_EXCL, and removed again when a later one fails.
 */
#include "mig_new.h"

#include "mig_alloc.h"
#include "mig_buf.h"
#include "mig_source.h"
#include "mig_version.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef enum new_layout { LAYOUT_PAIRS, LAYOUT_SECTIONS, LAYOUT_FOLDER, LAYOUT_FLYWAY } new_layout;

/* One file of the new migration: its path relative to the folder and its first text. */
typedef struct new_file {
    char *relative;
    const char *text;
} new_file;

/* The version for unix_ms: YYYYMMDDHHMMSS in UTC. */
char *mig_new_version(long long unix_ms)
{
    time_t seconds = (time_t)(unix_ms / 1000);
    struct tm utc;
    char text[32];
    if (!gmtime_r(&seconds, &utc) || strftime(text, sizeof text, "%Y%m%d%H%M%S", &utc) == 0)
        return NULL;
    return mig_strdup(text);
}

/* The layout a name asks for; false when it names none. */
static bool layout_from_name(const char *name, new_layout *out)
{
    static const char *const names[] = {"pairs", "sections", "folder", "flyway"};
    for (int i = 0; i < 4; i++)
        if (strcmp(name, names[i]) == 0) {
            *out = (new_layout)i;
            return true;
        }
    return false;
}

/* The layout of an existing migration, from the path of its up script. */
static new_layout layout_of(const mig_migration *m)
{
    const char *script = m->script;
    size_t len = strlen(script);
    if (strchr(script, '/'))
        return LAYOUT_FOLDER;
    if ((script[0] == 'V' || script[0] == 'v') && strstr(script, "__"))
        return LAYOUT_FLYWAY;
    if (len > 7 && strcmp(script + len - 7, ".up.sql") == 0)
        return LAYOUT_PAIRS;
    return LAYOUT_SECTIONS;
}

/* A name is letters, digits, '_' and '-': it becomes part of file names on every system. */
static bool name_is_plain(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > 200)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* The files of a migration in a layout; false when out of memory. */
static bool plan_files(new_layout layout, const char *version, const char *name, new_file out[2],
                       const char **folder)
{
    *folder = NULL;
    memset(out, 0, 2 * sizeof *out);
    switch (layout) {
    case LAYOUT_PAIRS:
        out[0] = (new_file){mig_printf("%s_%s.up.sql", version, name), "-- up\n"};
        out[1] = (new_file){mig_printf("%s_%s.down.sql", version, name), "-- down\n"};
        break;
    case LAYOUT_SECTIONS:
        out[0] = (new_file){mig_printf("%s_%s.sql", version, name),
                            "-- migrate:up\n\n-- migrate:down\n"};
        break;
    case LAYOUT_FOLDER:
        out[0] = (new_file){mig_printf("%s_%s/up.sql", version, name), "-- up\n"};
        out[1] = (new_file){mig_printf("%s_%s/down.sql", version, name), "-- down\n"};
        *folder = "";
        break;
    case LAYOUT_FLYWAY:
        out[0] = (new_file){mig_printf("V%s__%s.sql", version, name), "-- up\n"};
        out[1] = (new_file){mig_printf("U%s__%s.sql", version, name), "-- down\n"};
        break;
    }
    return out[0].relative && (layout == LAYOUT_SECTIONS || out[1].relative);
}

/* Write text into a new file at path; fails (naming it) when it exists. */
static int create_file(const char *path, const char *text, mig_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return mig_fail(err, mig_errno_code(errno),
                        "migrate_new: cannot create %s: %s; nothing was created", path,
                        errno == EEXIST ? "it exists" : strerror(errno));
    size_t len = strlen(text);
    bool ok = write(fd, text, len) == (ssize_t)len;
    ok = close(fd) == 0 && ok;
    if (!ok) {
        unlink(path);
        return mig_fail(err, mig_errno_code(errno),
                        "migrate_new: cannot write %s: %s; nothing was created", path,
                        strerror(errno));
    }
    return MIG_OK;
}

/* Create the planned files under dir; on failure remove what was created. */
static int create_files(const char *dir, const new_file files[2], const char *version,
                        const char *name, bool in_folder, mig_buf *paths, mig_error *err)
{
    char *folder = in_folder ? mig_printf("%s/%s_%s", dir, version, name) : NULL;
    char *made[2] = {NULL, NULL};
    int rc = in_folder && !folder ? mig_fail_nomem(err) : MIG_OK;
    if (rc == MIG_OK && folder && mkdir(folder, 0755) != 0)
        rc = mig_fail(err, mig_errno_code(errno),
                      "migrate_new: cannot create %s: %s; nothing was created", folder,
                      errno == EEXIST ? "it exists" : strerror(errno));
    for (int i = 0; rc == MIG_OK && i < 2 && files[i].relative; i++) {
        made[i] = mig_printf("%s/%s", dir, files[i].relative);
        rc = made[i] ? create_file(made[i], files[i].text, err) : mig_fail_nomem(err);
        if (rc != MIG_OK) {
            mig_free(made[i]);
            made[i] = NULL;
        }
    }
    for (int i = 0; i < 2; i++) {
        if (made[i] && rc != MIG_OK)
            unlink(made[i]);
        else if (made[i])
            mig_buf_printf(paths, "%s%s", paths->len ? "\n" : "", made[i]);
        mig_free(made[i]);
    }
    if (folder && rc != MIG_OK)
        rmdir(folder);
    mig_free(folder);
    return rc;
}

/* Create the files of a new migration. */
int mig_new_files(const char *dir, const char *name, const char *layout, long long unix_ms,
                  char **paths, mig_error *err)
{
    *paths = NULL;
    if (!name)
        return mig_fail(err, MIG_ERR_NULL, "migrate_new needs a name");
    if (!name_is_plain(name))
        return mig_fail(err, MIG_ERR_ARGUMENT,
                        "migrate_new: name \"%s\" must be 1 to 200 letters, digits, '_' or '-'; "
                        "nothing was created",
                        name);
    if (!dir) { /* migrate_scripts holds no files: say what to insert instead */
        char *version = mig_new_version(unix_ms);
        mig_fail(err, MIG_ERR_NULL,
                 "migrate_new: a NULL folder means the migrate_scripts table, which holds no "
                 "files; nothing was created");
        mig_error_set_hint(err,
                           "insert the migration there: INSERT INTO migrate_scripts (version, "
                           "name, up_sql, down_sql) VALUES ('%s', '%s', '...', '...')",
                           version ? version : "YYYYMMDDHHMMSS", name);
        mig_free(version);
        return err->code;
    }
    new_layout chosen = LAYOUT_PAIRS;
    if (layout && !layout_from_name(layout, &chosen))
        return mig_fail(err, MIG_ERR_ARGUMENT,
                        "migrate_new: layout must be " MIG_NEW_LAYOUTS ", not \"%s\"", layout);
    mig_set set;
    mig_source src = mig_source_folder(dir);
    int rc = mig_source_load(NULL, &src, 0, &set, NULL, err);
    if (rc != MIG_OK)
        return rc;
    char *version = mig_new_version(unix_ms);
    if (!version)
        rc = mig_fail_nomem(err);
    const mig_migration *newest = set.count ? &set.items[set.count - 1] : NULL;
    if (rc == MIG_OK && newest && mig_version_compare(version, newest->version) <= 0) {
        rc = mig_fail(err, MIG_ERR_CONFLICT,
                      "migrate_new: the new version %s would not sort after %s (%s), the newest "
                      "migration in the folder; nothing was created",
                      version, newest->version, newest->script);
        mig_error_set_hint(err, "check the clock, or name the file by hand with a later version");
    }
    if (rc == MIG_OK && !layout && newest)
        chosen = layout_of(newest);
    new_file files[2] = {{NULL, NULL}, {NULL, NULL}};
    const char *folder = NULL;
    if (rc == MIG_OK && !plan_files(chosen, version, name, files, &folder))
        rc = mig_fail_nomem(err);
    mig_buf out = {0};
    if (rc == MIG_OK)
        rc = create_files(dir, files, version, name, folder != NULL, &out, err);
    if (rc == MIG_OK && !(*paths = mig_buf_take(&out)))
        rc = mig_fail_nomem(err);
    mig_buf_free(&out);
    for (int i = 0; i < 2; i++)
        mig_free(files[i].relative);
    mig_free(version);
    mig_set_free(&set);
    return rc;
}
