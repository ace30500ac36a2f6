/*
 * What migrate.c registers: the per-connection state every registration shares, the scalar SQL
 * functions (sqlite_functions.c) and the table-valued functions (sqlite_tables.c).
 */
#ifndef SQLITE_FUNCTIONS_H
#define SQLITE_FUNCTIONS_H

#include "sqlite3ext.h"

#include "../common/mig_reentry.h"
#include "../common/mig_state.h"

/* Per-connection state shared by every function and table of one load. */
typedef struct migrate_conn {
    mig_policy policy;   /* set with migrate_set() */
    bool progress;       /* migrate_set('progress', 'on'): a line per migration on stderr */
    int fleet_workers;   /* migrate_set('fleet_workers', n): 0 is one per core */
    mig_reentry running; /* the call running on this connection, which a migration may re-enter */
    int refs;            /* registrations still holding it */
} migrate_conn;

migrate_conn *migrate_conn_new(void);
/* The result code SQLite reports for a core error: one table per class (README, Error codes). */
int migrate_result_code(const mig_error *err);
/* Take or drop a reference; the last drop frees it (an xDestroy callback). */
void migrate_conn_ref(migrate_conn *conn);
void migrate_conn_unref(void *conn);

/*
 * Register every function and table of the module on db, sharing conn (migrate.c): what a load
 * does, and what migrate_fleet does on each connection it opens. SQLITE_OK, or the error with
 * *errmsg (sqlite3_mprintf) naming the registration that failed.
 */
int migrate_register(sqlite3 *db, migrate_conn *conn, char **errmsg);

/* The scalar functions; each reads its migrate_conn from sqlite3_user_data. */
void migrate_apply_func(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void migrate_to_func(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void migrate_rollback_func(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void migrate_validate_func(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void migrate_repair_func(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void migrate_baseline_func(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void migrate_add_unique_func(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void migrate_set_not_null_func(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void migrate_add_column_func(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void migrate_rebuild_func(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void migrate_init_func(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void migrate_new_func(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void migrate_check_func(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void migrate_set_func(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void migrate_schema_func(sqlite3_context *ctx, int argc, sqlite3_value **argv);

/* The table-valued functions: which columns and rows each one has (sqlite_tables.c). */
typedef struct table_kind table_kind;
extern const table_kind migrate_status_table;
extern const table_kind migrate_plan_table;
extern const table_kind migrate_check_table;
extern const table_kind migrate_script_table;
extern const table_kind migrate_duplicates_table;
extern const table_kind migrate_nulls_table;
extern const table_kind migrate_help_table;
extern const table_kind migrate_push_table;
extern const table_kind migrate_drift_table;
extern const table_kind migrate_fleet_table;
extern const table_kind migrate_fleet_status_table;

/*
 * Register kind as the eponymous table-valued function name on db. flags is
 * SQLITE_DIRECTONLY or 0: with it, the table may not be used from a trigger or a view. On
 * failure the reference taken on conn is already dropped.
 */
int migrate_create_table_function(sqlite3 *db, const char *name, const table_kind *kind, int flags,
                                  migrate_conn *conn);

#endif
