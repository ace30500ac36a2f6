/*
 * migrate_new: the files of a new migration, named with the current UTC time as its version.
 *
 * The layout is the one asked for, or else the one of the folder's newest migration (pairs of
 * .up.sql/.down.sql, one file with dbmate sections, a diesel folder, Flyway's V/U files), or
 * pairs in a folder without migrations. Nothing is ever overwritten: every file is created
 * with O_EXCL, and a failure half-way removes what this call created.
 */
#ifndef MIG_NEW_H
#define MIG_NEW_H

#include "mig_error.h"

/* The layouts migrate_new can write, by the names the SQL functions take. */
#define MIG_NEW_LAYOUTS "'pairs', 'sections', 'folder' or 'flyway'"

/*
 * Create the files of migration <version>_<name> in dir, version being unix_ms as
 * YYYYMMDDHHMMSS in UTC; layout NULL takes the folder's. Refuses a name that is not made of
 * letters, digits, '_' and '-', a version that would not sort after the folder's newest, and a
 * file that exists. On success *paths holds the created paths, one per line (caller frees).
 */
int mig_new_files(const char *dir, const char *name, const char *layout, long long unix_ms,
                  char **paths, mig_error *err);

/* The version migrate_new would give at unix_ms (YYYYMMDDHHMMSS, UTC); caller frees. */
char *mig_new_version(long long unix_ms);

#endif
