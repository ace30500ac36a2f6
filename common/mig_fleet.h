/*
 * Fleets: one migrations folder applied to many databases (migrate_fleet), or compared with
 * them (migrate_fleet_status). The engine-neutral parts live here: which databases a pattern
 * (or a list of paths) names and how many workers take them (the plan), what one database's row
 * holds and how it is filled from a call on an engine bound to that database, and the summary of
 * all rows. How the workers run (threads, connections) is the adapter's.
 */
#ifndef MIG_FLEET_H
#define MIG_FLEET_H

#include "mig_engine.h"
#include "mig_error.h"
#include "mig_run.h"

#include <stdbool.h>
#include <stddef.h>

/* What became of one database. */
typedef enum mig_fleet_state {
    MIG_FLEET_MIGRATED, /* migrate_fleet applied one or more migrations */
    MIG_FLEET_CURRENT,  /* nothing was pending (status: nothing pending, no problem) */
    MIG_FLEET_PENDING,  /* status: migrations are pending, no problem */
    MIG_FLEET_PROBLEM,  /* status: modified, missing, out of order or failed migrations */
    MIG_FLEET_FAILED,   /* the call failed: the database is as it was */
    MIG_FLEET_LOCKED,   /* another connection held the database past the busy timeout */
} mig_fleet_state;

/* The name a row shows for state: migrated, current, pending, problem, failed, locked. */
const char *mig_fleet_state_name(mig_fleet_state state);

/* One database's row (memory of the allocator in force when it was filled). */
typedef struct mig_fleet_row {
    char *path;
    char *version_before; /* newest migration in force before; NULL when none */
    char *version_after;  /* after the call (status: the same as before) */
    long applied;         /* migrations applied (status: how many are pending) */
    long long ms;         /* how long this database took */
    mig_fleet_state state;
    char *problems; /* status: "modified 003, failed 004, drift (...)"; NULL when none */
    char *error;    /* a failed call's error, with its file and line */
    char *note;     /* what the call said on the way, such as schema drift under 'warn' */
    bool drift;     /* the live schema differed from the fingerprint history recorded */
} mig_fleet_row;

/* Which databases, and by how many workers. */
typedef struct mig_fleet_plan {
    char **paths;  /* sorted; "" for a listed path that was NULL or empty */
    char **errors; /* per path: why it cannot be worked on (a bad listed path), or NULL */
    size_t count;
    size_t duplicates; /* paths left out because an earlier one names the same file */
    int workers;       /* 1 .. count (1 when count is 0) */
    const char *note;  /* why fewer workers than asked for, or NULL (static text) */
} mig_fleet_plan;

/*
 * The plan of a fleet call: the files pattern (glob(3)) matches, in sorted order, and the
 * workers: wanted (0: one per core, cores), never more than the files, one when the engine's
 * library cannot run calls on several threads (threads_ok false, said in note). No match is an
 * error (MIG_ERR_NO_FILE) naming the pattern, so a mistyped one does not pass for success.
 * Two paths that name one file (a link, "./t.db" and "t.db") are worked on once.
 */
int mig_fleet_plan_make(const char *function, const char *pattern, int wanted, int cores,
                        bool threads_ok, mig_fleet_plan *plan, mig_error *err);

/*
 * The same plan from a list of paths (count of them, as a table lists them), source naming
 * the list in messages ("table tenants"). A NULL or empty path is kept as a path "" with an
 * error naming its row, so it is reported rather than skipped; an empty list is an error.
 */
int mig_fleet_plan_list(const char *function, const char *source, char *const *paths, size_t count,
                        int wanted, int cores, bool threads_ok, mig_fleet_plan *plan,
                        mig_error *err);
void mig_fleet_plan_free(mig_fleet_plan *plan);

/*
 * Apply src (up to target) on eng, bound to the database row->path, exactly as migrate_apply:
 * fill the versions before and after, the count, the state. A failed call leaves the database
 * as it was; its error goes into the row (locked says it failed only because another connection
 * held the database). Returns MIG_NOMEM only when even the row could not be filled.
 */
int mig_fleet_apply_one(const mig_engine *eng, const mig_source *src, const char *target,
                        const mig_policy *policy, bool (*locked)(const mig_error *err),
                        mig_fleet_row *row);

/* The same row without changing anything: version, how many are pending, the problems. */
int mig_fleet_status_one(const mig_engine *eng, const mig_source *src, const char *target,
                         const mig_policy *policy, bool (*locked)(const mig_error *err),
                         mig_fleet_row *row);

/*
 * The call on row's database warned that its schema had drifted and went on (the drift setting
 * 'warn'): the row is marked and message becomes its note. The engine's drift warn calls it.
 */
void mig_fleet_row_drift(mig_fleet_row *row, const char *message);

/* Fill a row for a database that could not be opened or worked on at all. */
void mig_fleet_row_fail(mig_fleet_row *row, mig_fleet_state state, const char *message);

void mig_fleet_row_free(mig_fleet_row *row);

/*
 * One line for all rows: "200 databases, 2 workers: 150 migrated (1200 migrations), 40
 * current, 9 failed, 1 locked, in 5120 ms" (status: current, pending (n migrations), problem,
 * failed, locked). States with no database are left out; then how many had schema drift and
 * how many paths named a file already listed, and the plan's note. Allocated; NULL when memory
 * ran out.
 */
char *mig_fleet_summary(const mig_fleet_row *rows, size_t count, int workers, long long wall_ms,
                        bool status, size_t duplicates, const char *note);

#endif
