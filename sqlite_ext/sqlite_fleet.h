/*
 * migrate_fleet and migrate_fleet_status on SQLite: each database of a pattern (or a table of
 * paths) on a connection of its own, by up to one worker thread per core (sqlite_fleet.c). The
 * rows, the plan and the summary are the core's (common/mig_fleet.h).
 */
#ifndef SQLITE_FLEET_H
#define SQLITE_FLEET_H

#include "sqlite3ext.h"

#include "sqlite_functions.h"

#include "../common/mig_fleet.h"

/* The rows of one fleet call: one per database, then the summary. */
typedef struct sqlite_fleet_result {
    mig_fleet_row *rows;
    size_t count;
    long total;    /* migrations applied (status: pending) over all databases */
    long long ms;  /* the whole call */
    char *summary; /* mig_fleet_summary's line */
} sqlite_fleet_result;

/*
 * Run a fleet call from the connection caller: dir (NULL: refused, the databases have no
 * migrate_scripts in common), the databases (a glob pattern, or "table:NAME": the paths a table
 * of caller lists), target (NULL: all), status (read only).
 * Each database gets the caller's busy timeout and foreign_keys setting. *out is allocated.
 */
int sqlite_fleet_run(sqlite3 *caller, const char *function, const char *dir, const char *pattern,
                     const char *target, const migrate_conn *conn, bool status,
                     sqlite_fleet_result **out, mig_error *err);
void sqlite_fleet_result_free(sqlite_fleet_result *result);

#endif
