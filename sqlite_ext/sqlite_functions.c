/*
 * The scalar SQL functions migrate.c registers, and the per-connection state they share:
 *
 *     SELECT migrate_apply(dir [, target [, count]]);   -- how many migrations ran
 *     SELECT migrate_to(dir, version);
 *     SELECT migrate_rollback(dir [, steps]);
 *     SELECT migrate_validate(dir);                      -- 'ok' or the problems
 *     SELECT migrate_repair(dir);
 *     SELECT migrate_baseline(version [, name]);
 *     SELECT migrate_add_unique(table, columns [, index_name [, on_duplicate]]);
 *     SELECT migrate_set_not_null(table, column [, fill [, on_null]]);
 *     SELECT migrate_add_column(table, column, type [, fill [, default]]);
 *     SELECT migrate_rebuild(table, new_definition [, drop_columns]);
 *     SELECT migrate_init();
 *     SELECT migrate_set(name [, value]);                -- out_of_order, missing, progress, drift
 *     SELECT migrate_check(dir [, target]);              -- the rehearsal's report as text
 *     SELECT migrate_schema();                           -- the schema's description
 *
 * A NULL dir reads the scripts from migrate_scripts. Each function binds an engine to the
 * calling connection (sqlite_engine.c) and hands the work to the core. Calls that change the
 * schema refuse to run from a statement that reads a table (SQLite cannot change the schema
 * under it); calls that read files or change a setting refuse a statement that reads or writes
 * one, since only schema code (a CHECK, a default) calls from there. A call a migration makes
 * back into migrate while one runs on the connection is refused (mig_reentry.h).
 */
#include "sqlite_functions.h"
SQLITE_EXTENSION_INIT3

#include "sqlite_engine.h"
#include "sqlite_unique.h"

#include "../common/mig_alloc.h"
#include "../common/mig_columns.h"
#include "../common/mig_check.h"
#include "../common/mig_drift.h"
#include "../common/mig_messages.h"
#include "../common/mig_new.h"
#include "../common/mig_record.h"
#include "../common/mig_unique.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Fresh per-connection state with the default policy. */
migrate_conn *migrate_conn_new(void)
{
    migrate_conn *conn = sqlite3_malloc(sizeof *conn);
    if (conn)
        memset(conn, 0, sizeof *conn);
    return conn;
}

/* One more registration holds conn. */
void migrate_conn_ref(migrate_conn *conn)
{
    conn->refs++;
}

/* A registration lets go of conn (SQLite's xDestroy); the last one frees it. */
void migrate_conn_unref(void *p)
{
    migrate_conn *conn = p;
    if (conn && --conn->refs <= 0)
        sqlite3_free(conn);
}

/* True when a program of the statement opens a database: it reads or writes a table. */
static int statement_touches_tables(sqlite3 *db, sqlite3_stmt *busy)
{
    const char *sql = sqlite3_sql(busy);
    if (!sql || sqlite3_stmt_isexplain(busy))
        return 0;
    char *explain = sqlite3_mprintf("EXPLAIN %s", sql);
    sqlite3_stmt *st = NULL;
    int touches = 0;
    if (explain && sqlite3_prepare_v2(db, explain, -1, &st, NULL) == SQLITE_OK && st) {
        while (!touches && sqlite3_step(st) == SQLITE_ROW) {
            const char *op = (const char *)sqlite3_column_text(st, 1);
            touches = op && (strcmp(op, "Transaction") == 0 || strcmp(op, "OpenRead") == 0 ||
                             strcmp(op, "OpenWrite") == 0);
        }
    }
    sqlite3_finalize(st);
    sqlite3_free(explain);
    return touches;
}

/*
 * SQLite cannot drop or rebuild a table while another statement of the connection has it open,
 * and the calling statement itself counts: refuse up front rather than fail half-way.
 */
static int caller_reads_tables(sqlite3 *db)
{
    for (sqlite3_stmt *st = sqlite3_next_stmt(db, NULL); st; st = sqlite3_next_stmt(db, st))
        if (sqlite3_stmt_busy(st) && statement_touches_tables(db, st))
            return 1;
    return 0;
}

/*
 * The result code of each class of the core's errors (common/mig_error.h; README, "Error
 * codes"). SQLite's own functions report a bad argument as SQLITE_ERROR; SQLITE_MISUSE would
 * tell drivers the calling program misused the library (Python raises InterfaceError for it).
 */
static const struct {
    int code;
    int result;
} result_of_class[] = {
    {MIG_ERR_ARGUMENT, SQLITE_ERROR},
    {MIG_ERR_NULL, SQLITE_ERROR},
    {MIG_ERR_NOT_FOUND, SQLITE_NOTFOUND},
    {MIG_ERR_NO_TABLE, SQLITE_NOTFOUND},
    {MIG_ERR_NO_FILE, SQLITE_CANTOPEN},
    {MIG_ERR_CONFLICT, SQLITE_CONSTRAINT},
    {MIG_ERR_STATE, SQLITE_ERROR},
    {MIG_PRIVILEGE, SQLITE_AUTH},
    {MIG_NOMEM, SQLITE_NOMEM},
    {MIG_ERR_LIMIT, SQLITE_TOOBIG},
};

/*
 * An engine error keeps SQLite's own code when that code only describes the statement: others
 * change what the calling statement does (SQLITE_SCHEMA makes sqlite3_step run it again; IOERR
 * and FULL roll back the caller's whole transaction), so they become SQLITE_ERROR.
 */
static int engine_result(int engine_code)
{
    switch (engine_code & 0xff) {
    case SQLITE_CONSTRAINT:
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_READONLY:
    case SQLITE_TOOBIG:
    case SQLITE_MISMATCH:
    case SQLITE_AUTH:
    case SQLITE_PERM:
        return engine_code;
    default:
        return SQLITE_ERROR;
    }
}

/* The result code SQLite reports for err. */
int migrate_result_code(const mig_error *err)
{
    if (err->code == MIG_ENGINE)
        return engine_result(err->engine_code);
    for (size_t i = 0; i < sizeof result_of_class / sizeof *result_of_class; i++)
        if (result_of_class[i].code == err->code)
            return result_of_class[i].result;
    return SQLITE_ERROR;
}

/* Report err as the function's error, with its class's result code, and release it. */
static void result_error(sqlite3_context *ctx, mig_error *err)
{
    char *text = err->code == MIG_NOMEM ? NULL : mig_error_render(err);
    if (text) {
        sqlite3_result_error(ctx, text, -1);
        sqlite3_result_error_code(ctx, migrate_result_code(err));
    } else { /* memory ran out, in the call or while saying why it failed */
        sqlite3_result_error_nomem(ctx);
    }
    mig_free(text);
    mig_error_clear(err);
}

/* Text of argument i, or NULL when absent or NULL. */
static const char *text_arg(int argc, sqlite3_value **argv, int i)
{
    return i < argc ? (const char *)sqlite3_value_text(argv[i]) : NULL;
}

/*
 * Start a call that changes the schema or the record: the calling statement must read no
 * table. Returns 0 (after setting the error) to stop.
 */
static int changing_call_ok(sqlite3_context *ctx, const char *name)
{
    mig_error err;
    mig_error_init(&err);
    if (caller_reads_tables(sqlite3_context_db_handle(ctx)))
        mig_fail(&err, MIG_ERR_STATE,
                 "%s must be called as a plain SELECT %s(...): the calling statement (or another "
                 "one still running on this connection) reads a table, and SQLite cannot change "
                 "the schema while it does",
                 name, name);
    if (!err.code)
        return 1;
    result_error(ctx, &err);
    return 0;
}

/* Let call name start on the connection, or set the error and return 0 (mig_reentry.h). */
static int enter_call(sqlite3_context *ctx, const char *name)
{
    migrate_conn *conn = sqlite3_user_data(ctx);
    mig_error err;
    mig_error_init(&err);
    if (mig_reentry_enter(&conn->running, name, &err) == MIG_OK)
        return 1;
    result_error(ctx, &err);
    return 0;
}

/* The call started by enter_call is over. */
static void leave_call(sqlite3_context *ctx)
{
    migrate_conn *conn = sqlite3_user_data(ctx);
    mig_reentry_leave(&conn->running);
}

/*
 * Start a call that reads files or changes a setting: SQLite lets a CHECK constraint or a
 * DEFAULT call even a DIRECTONLY function, and those run only in statements that write a table,
 * so a calling statement that reads or writes no table is what a plain SELECT looks like.
 */
static int reading_call_ok(sqlite3_context *ctx, const char *name)
{
    if (!caller_reads_tables(sqlite3_context_db_handle(ctx)))
        return 1;
    char *msg = sqlite3_mprintf("%s must be called as a plain SELECT %s(...): the calling "
                                "statement reads or writes a table, and schema code (a CHECK "
                                "constraint, a default, a trigger, a view) may not call it",
                                name, name);
    sqlite3_result_error(ctx, msg ? msg : "out of memory", -1);
    sqlite3_free(msg);
    return 0;
}

/* Run one apply / to / rollback call and return how many migrations it ran. */
static void run_call(sqlite3_context *ctx, const char *name, const mig_source *src, mig_call *call)
{
    if (!enter_call(ctx, name))
        return;
    if (!changing_call_ok(ctx, name)) {
        leave_call(ctx);
        return;
    }
    migrate_conn *conn = sqlite3_user_data(ctx);
    call->policy = conn->policy;
    sqlite_engine se;
    mig_engine eng;
    mig_error err;
    mig_error_init(&err);
    sqlite_engine_init(&se, sqlite3_context_db_handle(ctx), &eng);
    se.progress = conn->progress;
    int count = 0;
    int rc = mig_run(&eng, src, call, &count, &err);
    sqlite_engine_free(&se);
    leave_call(ctx);
    if (rc != MIG_OK)
        result_error(ctx, &err);
    else
        sqlite3_result_int(ctx, count);
}

/*
 * A whole-number argument as the core takes it: fallback when absent or NULL, MIG_STEPS_INVALID
 * when it is not a whole number (the core refuses it, and a number out of range, with one text).
 */
static long count_arg(int argc, sqlite3_value **argv, int i, long fallback)
{
    if (i >= argc || sqlite3_value_type(argv[i]) == SQLITE_NULL)
        return fallback;
    const char *text = (const char *)sqlite3_value_text(argv[i]);
    char *end = NULL;
    long value = text ? strtol(text, &end, 10) : 0;
    return !text || end == text || *end ? MIG_STEPS_INVALID : value;
}

/* migrate_apply(dir [, target [, count]]): apply pending migrations; returns how many. */
void migrate_apply_func(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    mig_call call = {MIG_PLAN_APPLY,
                     text_arg(argc, argv, 1),
                     count_arg(argc, argv, 2, MIG_STEPS_ALL),
                     {false, false, 0}};
    mig_source src = mig_source_of_folder_arg(text_arg(argc, argv, 0)); /* NULL: migrate_scripts */
    run_call(ctx, "migrate_apply", &src, &call);
}

/* migrate_to(dir, version): apply or revert until exactly version is the newest applied. */
void migrate_to_func(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    mig_call call = {MIG_PLAN_TO, text_arg(argc, argv, 1), 0, {false, false, 0}};
    mig_source src = mig_source_of_folder_arg(text_arg(argc, argv, 0));
    run_call(ctx, "migrate_to", &src, &call);
}

/* migrate_rollback(dir [, steps]): revert the newest applied migrations (1 by default). */
void migrate_rollback_func(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    mig_call call = {MIG_PLAN_ROLLBACK, NULL, count_arg(argc, argv, 1, 1), {false, false, 0}};
    mig_source src = mig_source_of_folder_arg(text_arg(argc, argv, 0));
    run_call(ctx, "migrate_rollback", &src, &call);
}

/* A core operation whose SQL result is text: it reads the call's arguments. */
typedef int (*text_op)(const mig_engine *eng, const migrate_conn *conn, int argc,
                       sqlite3_value **argv, char **result, mig_error *err);

/* Run op on an engine bound to the calling connection; its text, or its error, is the result. */
static void run_text_op(sqlite3_context *ctx, const char *name, text_op op, int argc,
                        sqlite3_value **argv)
{
    if (!enter_call(ctx, name))
        return;
    sqlite_engine se;
    mig_engine eng;
    mig_error err;
    char *result = NULL;
    mig_error_init(&err);
    sqlite_engine_init(&se, sqlite3_context_db_handle(ctx), &eng);
    migrate_conn *conn = sqlite3_user_data(ctx);
    se.drift.mode = conn->policy.drift;
    se.drift.nested = conn->running.depth > 1; /* made by a migration's SQL */
    int rc = op(&eng, conn, argc, argv, &result, &err);
    sqlite_engine_free(&se);
    leave_call(ctx);
    if (rc != MIG_OK)
        result_error(ctx, &err);
    else
        sqlite3_result_text(ctx, result ? result : "ok", -1, SQLITE_TRANSIENT);
    mig_free(result);
}

/* migrate_validate's work: check the folder against the record under the connection's policy. */
static int validate_op(const mig_engine *eng, const migrate_conn *conn, int argc,
                       sqlite3_value **argv, char **result, mig_error *err)
{
    (void)result;
    mig_source src = mig_source_of_folder_arg(text_arg(argc, argv, 0));
    return mig_validate(eng, &src, &conn->policy, err);
}

/* migrate_validate(dir): 'ok', or one error listing every problem (NULL: migrate_scripts). */
void migrate_validate_func(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    /* it reads files: never from a statement that reads a table, as a CHECK constraint's is */
    if (reading_call_ok(ctx, "migrate_validate"))
        run_text_op(ctx, "migrate_validate", validate_op, argc, argv);
}

/* migrate_check's work: rehearse, and the report as text. */
static int check_op(const mig_engine *eng, const migrate_conn *conn, int argc, sqlite3_value **argv,
                    char **result, mig_error *err)
{
    mig_check_report report;
    mig_source src = mig_source_of_folder_arg(text_arg(argc, argv, 0));
    int threads = sqlite_unique_threads_begin(eng->handle);
    int rc = mig_check(eng, &src, text_arg(argc, argv, 1), &conn->policy, &report, err);
    sqlite_unique_threads_end(eng->handle, threads);
    if (rc != MIG_OK) /* mig_check freed the report */
        return rc;
    if (!(*result = mig_check_render(&report)))
        rc = mig_fail_nomem(err);
    mig_check_report_free(&report); /* rendered or not */
    return rc;
}

/*
 * migrate_check(dir [, target]): the rehearsal as text. The table-valued migrate_check gives the
 * same as rows, but its calling statement reads the database, and SQLite then refuses to drop a
 * table or an index; a plain SELECT migrate_check(...) reads none, so every migration runs.
 */
void migrate_check_func(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (changing_call_ok(ctx, "migrate_check"))
        run_text_op(ctx, "migrate_check", check_op, argc, argv);
}

/* migrate_repair's work; *result says what it changed. */
static int repair_op(const mig_engine *eng, const migrate_conn *conn, int argc,
                     sqlite3_value **argv, char **result, mig_error *err)
{
    (void)conn;
    mig_source src = mig_source_of_folder_arg(text_arg(argc, argv, 0));
    return mig_repair(eng, &src, result, err);
}

/* migrate_repair(dir): fix the record (never runs migration SQL); returns what it did. */
void migrate_repair_func(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (changing_call_ok(ctx, "migrate_repair"))
        run_text_op(ctx, "migrate_repair", repair_op, argc, argv);
}

/* migrate_baseline's work; the result is the version. */
static int baseline_op(const mig_engine *eng, const migrate_conn *conn, int argc,
                       sqlite3_value **argv, char **result, mig_error *err)
{
    (void)conn;
    const char *version = text_arg(argc, argv, 0);
    int rc = mig_baseline(eng, version, text_arg(argc, argv, 1), err);
    if (rc == MIG_OK && !(*result = mig_strdup(version)))
        rc = mig_fail_nomem(err);
    return rc;
}

/* migrate_baseline(version [, name]): mark a pre-existing database as being at version. */
void migrate_baseline_func(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (changing_call_ok(ctx, "migrate_baseline"))
        run_text_op(ctx, "migrate_baseline", baseline_op, argc, argv);
}

/* migrate_add_unique's work, with helper threads allowed for its sort. */
static int add_unique_op(const mig_engine *eng, const migrate_conn *conn, int argc,
                         sqlite3_value **argv, char **result, mig_error *err)
{
    (void)conn;
    int threads = sqlite_unique_threads_begin(eng->handle);
    int rc = mig_add_unique(eng, text_arg(argc, argv, 0), text_arg(argc, argv, 1),
                            text_arg(argc, argv, 2), text_arg(argc, argv, 3), result, err);
    sqlite_unique_threads_end(eng->handle, threads);
    return rc;
}

/* migrate_add_unique(table, columns [, index_name [, on_duplicate]]): returns what it did. */
void migrate_add_unique_func(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (changing_call_ok(ctx, "migrate_add_unique"))
        run_text_op(ctx, "migrate_add_unique", add_unique_op, argc, argv);
}

/* migrate_set_not_null's work. */
static int set_not_null_op(const mig_engine *eng, const migrate_conn *conn, int argc,
                           sqlite3_value **argv, char **result, mig_error *err)
{
    (void)conn;
    return mig_set_not_null(eng, text_arg(argc, argv, 0), text_arg(argc, argv, 1),
                            text_arg(argc, argv, 2), text_arg(argc, argv, 3), result, err);
}

/* migrate_set_not_null(table, column [, fill [, on_null]]): returns what it did. */
void migrate_set_not_null_func(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (changing_call_ok(ctx, "migrate_set_not_null"))
        run_text_op(ctx, "migrate_set_not_null", set_not_null_op, argc, argv);
}

/* migrate_add_column's work. */
static int add_column_op(const mig_engine *eng, const migrate_conn *conn, int argc,
                         sqlite3_value **argv, char **result, mig_error *err)
{
    (void)conn;
    return mig_add_column(eng, text_arg(argc, argv, 0), text_arg(argc, argv, 1),
                          text_arg(argc, argv, 2), text_arg(argc, argv, 3), text_arg(argc, argv, 4),
                          result, err);
}

/* migrate_add_column(table, column, type [, fill [, default]]): returns what it did. */
void migrate_add_column_func(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (changing_call_ok(ctx, "migrate_add_column"))
        run_text_op(ctx, "migrate_add_column", add_column_op, argc, argv);
}

/* migrate_rebuild's work. */
static int rebuild_op(const mig_engine *eng, const migrate_conn *conn, int argc,
                      sqlite3_value **argv, char **result, mig_error *err)
{
    (void)conn;
    return mig_rebuild(eng, text_arg(argc, argv, 0), text_arg(argc, argv, 1),
                       text_arg(argc, argv, 2), result, err);
}

/* migrate_rebuild(table, new_definition [, drop_columns]): returns what it did. */
void migrate_rebuild_func(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (changing_call_ok(ctx, "migrate_rebuild"))
        run_text_op(ctx, "migrate_rebuild", rebuild_op, argc, argv);
}

/* migrate_init(): create migrate_history and migrate_scripts, so scripts can be inserted. */
void migrate_init_func(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc, (void)argv;
    if (!enter_call(ctx, "migrate_init"))
        return;
    if (!changing_call_ok(ctx, "migrate_init")) {
        leave_call(ctx);
        return;
    }
    mig_error err;
    mig_error_init(&err);
    int rc = sqlite_engine_init_tables(sqlite3_context_db_handle(ctx), &err);
    leave_call(ctx);
    if (rc != MIG_OK)
        result_error(ctx, &err);
    else
        sqlite3_result_text(ctx, "ok", -1, SQLITE_STATIC);
}

/* migrate_new(dir, name [, layout]): create a new migration's files; returns their paths. */
void migrate_new_func(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (!enter_call(ctx, "migrate_new"))
        return;
    mig_error err;
    mig_error_init(&err);
    char *paths = NULL;
    int rc = mig_new_files(text_arg(argc, argv, 0), text_arg(argc, argv, 1),
                           text_arg(argc, argv, 2), (long long)time(NULL) * 1000, &paths, &err);
    leave_call(ctx);
    if (rc != MIG_OK)
        result_error(ctx, &err);
    else
        sqlite3_result_text(ctx, paths, -1, SQLITE_TRANSIENT);
    mig_free(paths);
}

/* migrate_schema's work: the description of the live schema. */
static int schema_op(const mig_engine *eng, const migrate_conn *conn, int argc,
                     sqlite3_value **argv, char **result, mig_error *err)
{
    (void)conn, (void)argc, (void)argv;
    return mig_schema(eng, result, err);
}

/* migrate_schema(): the canonical description of the main database's schema (mig_drift.h). */
void migrate_schema_func(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    run_text_op(ctx, "migrate_schema", schema_op, argc, argv);
}

/* migrate_set('drift' [, value]): error, warn or ignore. */
static void set_drift(sqlite3_context *ctx, migrate_conn *conn, int argc, const char *value)
{
    if (argc >= 2) {
        int mode;
        if (!value || !mig_drift_mode_parse(value, &mode)) {
            char *msg = sqlite3_mprintf("migrate_set: drift must be 'error', 'warn' or "
                                        "'ignore', not %s%s%s",
                                        value ? "'" : "", value ? value : "NULL", value ? "'" : "");
            sqlite3_result_error(ctx, msg ? msg : "out of memory", -1);
            sqlite3_free(msg);
            return;
        }
        /* a change of setting: never from schema code, nor from a migration of a running call */
        if (!reading_call_ok(ctx, "migrate_set") || !enter_call(ctx, "migrate_set"))
            return;
        leave_call(ctx);
        conn->policy.drift = mode;
    }
    sqlite3_result_text(ctx, mig_drift_mode_name(conn->policy.drift), -1, SQLITE_STATIC);
}

/* Most workers migrate_fleet may use: more would only wait on the disk. */
#define FLEET_WORKERS_MAX 256

/*
 * migrate_set('fleet_workers' [, n]): how many databases migrate_fleet works on at once; 0 (the
 * default) is one per core. Returns the number in force.
 */
static void set_fleet_workers(sqlite3_context *ctx, migrate_conn *conn, int argc, const char *value)
{
    if (argc >= 2) {
        char *end = NULL;
        long n = value ? strtol(value, &end, 10) : -1;
        if (!value || end == value || *end || n < 0 || n > FLEET_WORKERS_MAX) {
            char *msg = sqlite3_mprintf("migrate_set: fleet_workers must be a whole number from 0 "
                                        "(one per core) to %d, not %s%s%s",
                                        FLEET_WORKERS_MAX, value ? "'" : "", value ? value : "NULL",
                                        value ? "'" : "");
            sqlite3_result_error(ctx, msg ? msg : "out of memory", -1);
            sqlite3_free(msg);
            return;
        }
        if (!reading_call_ok(ctx, "migrate_set") || !enter_call(ctx, "migrate_set"))
            return;
        leave_call(ctx);
        conn->fleet_workers = (int)n;
    }
    sqlite3_result_int(ctx, conn->fleet_workers);
}

/* migrate_set(name, value): a per-connection setting; returns the value now in force. */
void migrate_set_func(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    migrate_conn *conn = sqlite3_user_data(ctx);
    const char *name = text_arg(argc, argv, 0), *value = text_arg(argc, argv, 1);
    if (name && strcmp(name, "drift") == 0) {
        set_drift(ctx, conn, argc, value);
        return;
    }
    bool *flag = NULL;
    const char *off = NULL, *on = NULL;
    if (name && strcmp(name, "fleet_workers") == 0) {
        set_fleet_workers(ctx, conn, argc, value);
        return;
    }
    if (name && strcmp(name, "out_of_order") == 0)
        flag = &conn->policy.allow_out_of_order, off = "error", on = "allow";
    else if (name && strcmp(name, "missing") == 0)
        flag = &conn->policy.ignore_missing, off = "error", on = "ignore";
    else if (name && strcmp(name, "progress") == 0)
        flag = &conn->progress, off = "off", on = "on";
    if (!flag) {
        char *msg = sqlite3_mprintf("migrate_set: unknown setting \"%s\" (settings: out_of_order, "
                                    "missing, progress, drift, fleet_workers)",
                                    name ? name : "");
        sqlite3_result_error(ctx, msg ? msg : "out of memory", -1);
        sqlite3_free(msg);
        return;
    }
    if (argc < 2) { /* reading the setting changes nothing */
        sqlite3_result_text(ctx, *flag ? on : off, -1, SQLITE_STATIC);
        return;
    }
    if (!value) {
        char *msg = sqlite3_mprintf(MIG_MSG_SET_NULL, name, off, on);
        sqlite3_result_error(ctx, msg ? msg : "out of memory", -1);
        sqlite3_free(msg);
        return;
    }
    /* a change of setting: never from schema code, nor from a migration of a running call */
    if (!reading_call_ok(ctx, "migrate_set") || !enter_call(ctx, "migrate_set"))
        return;
    leave_call(ctx);
    if (strcmp(value, on) == 0)
        *flag = true;
    else if (strcmp(value, off) == 0)
        *flag = false;
    else {
        char *msg =
            sqlite3_mprintf("migrate_set: %s must be '%s' or '%s', not '%s'", name, off, on, value);
        sqlite3_result_error(ctx, msg ? msg : "out of memory", -1);
        sqlite3_free(msg);
        return;
    }
    sqlite3_result_text(ctx, *flag ? on : off, -1, SQLITE_STATIC);
}
