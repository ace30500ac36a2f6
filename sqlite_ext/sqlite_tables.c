/*
 * The table-valued functions migrate.c registers:
 *
 *     SELECT * FROM migrations_status([dir]);
 *     SELECT * FROM migrate_plan(dir [, target]);
 *     SELECT * FROM migrate_check(dir [, target]);
 *     SELECT * FROM migrate_script(dir [, target]);
 *     SELECT * FROM migrate_duplicates(table, columns);
 *     SELECT * FROM migrate_nulls(table, column);
 *     SELECT * FROM migrate_push(dir);
 *     SELECT * FROM migrate_fleet(dir, databases [, target]);
 *     SELECT * FROM migrate_fleet_status(dir, databases);
 *     SELECT * FROM migrate_help();
 *     SELECT * FROM migrate_drift();
 *
 * All are eponymous tables of one module (no CREATE VIRTUAL TABLE) over a result the core
 * computes in xFilter; a table_kind says which columns (its schema, with the *_COLUMN_*
 * numbers next to it) and how to read the rows. The arguments are hidden columns after the
 * visible ones; xBestIndex hands their equality constraints to xFilter, in order.
 */
#include "sqlite_functions.h"
SQLITE_EXTENSION_INIT3

#include "sqlite_engine.h"
#include "sqlite_fleet.h"
#include "sqlite_unique.h"

#include "../common/mig_alloc.h"
#include "../common/mig_columns.h"
#include "../common/mig_check.h"
#include "../common/mig_drift.h"
#include "../common/mig_messages.h"
#include "../common/mig_export.h"
#include "../common/mig_help.h"
#include "../common/mig_run.h"
#include "../common/mig_unique.h"

#include <string.h>

enum { MAX_HIDDEN = 3 };

struct table_kind {
    const char *schema;
    int visible; /* visible columns; the hidden arguments follow */
    int hidden;
    int required; /* how many leading arguments must be given (NULL counts as given) */
    /* compute the rows into a fresh *data; bit i of given: argument i was given */
    int (*load)(const mig_engine *eng, char *const *args, int given, const migrate_conn *conn,
                void **data, mig_error *err);
    size_t (*rows)(const void *data);
    void (*column)(sqlite3_context *ctx, const void *data, size_t row, int col);
    void (*release)(void *data);
};

/* What a module registration carries: its name, which table, its flags, the connection's state. */
typedef struct table_aux {
    const char *name; /* static: the registration table's */
    const table_kind *kind;
    int flags; /* SQLITE_DIRECTONLY, or SQLITE_INNOCUOUS for a table that reads nothing */
    migrate_conn *conn;
} table_aux;

typedef struct migrate_vtab {
    sqlite3_vtab base;
    sqlite3 *db;
    const table_aux *reg; /* the registration: freed with the module, after its tables */
} migrate_vtab;

typedef struct migrate_cursor {
    sqlite3_vtab_cursor base;
    void *data; /* what the kind's load computed */
    int loaded;
    size_t row;
    char *args[MAX_HIDDEN]; /* dir, target: what the hidden columns read back */
} migrate_cursor;

/* Text or NULL. */
static void result_text(sqlite3_context *ctx, const char *s)
{
    if (s)
        sqlite3_result_text(ctx, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_result_null(ctx);
}

/* A snapshot on the heap, for status and plan. */
static int snapshot_new(mig_snapshot **out, mig_error *err)
{
    *out = mig_calloc(1, sizeof **out);
    return *out ? MIG_OK : mig_fail_nomem(err);
}

/* Free a snapshot from snapshot_new. */
static void snapshot_release(void *data)
{
    mig_snapshot_free(data);
    mig_free(data);
}

/* migrations_status([dir]): the record and the folder side by side, one row a version. */
#define STATUS_SCHEMA                                                                              \
    "CREATE TABLE x(version TEXT, name TEXT, state TEXT, script TEXT, checksum TEXT, "             \
    "applied_checksum TEXT, applied_at TEXT, applied_by TEXT, execution_ms INTEGER, dir HIDDEN)"
enum {
    STATUS_COLUMN_VERSION,
    STATUS_COLUMN_NAME,
    STATUS_COLUMN_STATE,
    STATUS_COLUMN_SCRIPT,
    STATUS_COLUMN_CHECKSUM,
    STATUS_COLUMN_APPLIED_CHECKSUM,
    STATUS_COLUMN_APPLIED_AT,
    STATUS_COLUMN_APPLIED_BY,
    STATUS_COLUMN_EXECUTION_MS,
    STATUS_COLUMN_DIR /* hidden: the first argument */
};

/* migrations_status: no argument, history alone; dir, that folder; NULL, migrate_scripts. */
static int status_load(const mig_engine *eng, char *const *args, int given,
                       const migrate_conn *conn, void **data, mig_error *err)
{
    (void)conn;
    mig_source src = (given & 1) ? mig_source_of_folder_arg(args[0]) : mig_source_none();
    mig_snapshot *snap;
    int rc = snapshot_new(&snap, err);
    if (rc == MIG_OK && (rc = mig_snapshot_load_checksums(eng, &src, snap, err)) != MIG_OK)
        mig_free(snap), snap = NULL;
    *data = snap;
    return rc;
}

/* One row a version. */
static size_t status_rows(const void *data)
{
    return ((const mig_snapshot *)data)->status.count;
}

/* One visible column of migrations_status. */
static void status_column(sqlite3_context *ctx, const void *data, size_t i, int col)
{
    const mig_status_row *r = &((const mig_snapshot *)data)->status.rows[i];
    switch (col) {
    case STATUS_COLUMN_VERSION:
        result_text(ctx, r->version);
        break;
    case STATUS_COLUMN_NAME:
        result_text(ctx, r->name);
        break;
    case STATUS_COLUMN_STATE:
        result_text(ctx, mig_state_name(r->state));
        break;
    case STATUS_COLUMN_SCRIPT:
        result_text(ctx, r->script);
        break;
    case STATUS_COLUMN_CHECKSUM:
        result_text(ctx, r->checksum);
        break;
    case STATUS_COLUMN_APPLIED_CHECKSUM:
        result_text(ctx, r->applied_checksum);
        break;
    case STATUS_COLUMN_APPLIED_AT:
        result_text(ctx, r->applied_at);
        break;
    case STATUS_COLUMN_APPLIED_BY:
        result_text(ctx, r->applied_by);
        break;
    case STATUS_COLUMN_EXECUTION_MS:
        if (r->has_execution_ms)
            sqlite3_result_int64(ctx, r->execution_ms);
        else
            sqlite3_result_null(ctx);
        break;
    }
}

/* migrate_plan(dir [, target]): the steps a call would run, in order. */
#define PLAN_SCHEMA                                                                                \
    "CREATE TABLE x(step INTEGER, direction TEXT, version TEXT, name TEXT, script TEXT, "          \
    "dir HIDDEN, target HIDDEN)"
enum {
    PLAN_COLUMN_STEP,
    PLAN_COLUMN_DIRECTION,
    PLAN_COLUMN_VERSION,
    PLAN_COLUMN_NAME,
    PLAN_COLUMN_SCRIPT,
    PLAN_COLUMN_DIR,   /* hidden: the first argument */
    PLAN_COLUMN_TARGET /* hidden: the second */
};

/* migrate_plan(dir): an apply's steps; migrate_plan(dir, target): migrate_to's. */
static int plan_load(const mig_engine *eng, char *const *args, int given, const migrate_conn *conn,
                     void **data, mig_error *err)
{
    (void)given;
    mig_call call = {args[1] ? MIG_PLAN_TO : MIG_PLAN_APPLY, args[1], MIG_STEPS_ALL, conn->policy};
    mig_source src = mig_source_of_folder_arg(args[0]);
    mig_snapshot *snap;
    int rc = snapshot_new(&snap, err);
    if (rc == MIG_OK && (rc = mig_plan_load_call(eng, &src, &call, snap, err)) != MIG_OK)
        mig_free(snap), snap = NULL;
    *data = snap;
    return rc;
}

/* One row a step. */
static size_t plan_rows(const void *data)
{
    return ((const mig_snapshot *)data)->plan.count;
}

/* One visible column of migrate_plan. */
static void plan_column(sqlite3_context *ctx, const void *data, size_t i, int col)
{
    const mig_step *s = &((const mig_snapshot *)data)->plan.steps[i];
    switch (col) {
    case PLAN_COLUMN_STEP:
        sqlite3_result_int64(ctx, (sqlite3_int64)i + 1);
        break;
    case PLAN_COLUMN_DIRECTION:
        result_text(ctx, s->direction);
        break;
    case PLAN_COLUMN_VERSION:
        result_text(ctx, s->row->version);
        break;
    case PLAN_COLUMN_NAME:
        result_text(ctx, s->row->name);
        break;
    case PLAN_COLUMN_SCRIPT:
        result_text(ctx, s->script);
        break;
    }
}

/*
 * migrate_check(dir [, target]): a rehearsal of migrate_apply(dir, target), one row a
 * migration, always rolled back. Its migrations' DDL runs from inside xFilter, which SQLite
 * allows because the calling statement reads no table of the database.
 */
#define CHECK_SCHEMA                                                                               \
    "CREATE TABLE x(version TEXT, name TEXT, outcome TEXT, after_failure INTEGER, error TEXT, "    \
    "statements INTEGER, rows_changed INTEGER, ms INTEGER, findings TEXT, dir HIDDEN, "            \
    "target HIDDEN)"
enum {
    CHECK_COLUMN_VERSION,
    CHECK_COLUMN_NAME,
    CHECK_COLUMN_OUTCOME,
    CHECK_COLUMN_AFTER_FAILURE,
    CHECK_COLUMN_ERROR,
    CHECK_COLUMN_STATEMENTS,
    CHECK_COLUMN_ROWS_CHANGED,
    CHECK_COLUMN_MS,
    CHECK_COLUMN_FINDINGS,
    CHECK_COLUMN_DIR,   /* hidden: the first argument */
    CHECK_COLUMN_TARGET /* hidden: the second */
};

/* migrate_check(dir [, target]): rehearse what migrate_apply(dir, target) would run. */
static int check_load(const mig_engine *eng, char *const *args, int given, const migrate_conn *conn,
                      void **data, mig_error *err)
{
    (void)given;
    mig_check_report *report = mig_calloc(1, sizeof *report);
    if (!report)
        return mig_fail_nomem(err);
    mig_source src = mig_source_of_folder_arg(args[0]);
    int threads = sqlite_unique_threads_begin(eng->handle);
    int rc = mig_check(eng, &src, args[1], &conn->policy, report, err);
    sqlite_unique_threads_end(eng->handle, threads);
    if (rc != MIG_OK)
        mig_free(report), report = NULL;
    *data = report;
    return rc;
}

/* One row a migration. */
static size_t check_rows(const void *data)
{
    return ((const mig_check_report *)data)->count;
}

/* One visible column of migrate_check. */
static void check_column(sqlite3_context *ctx, const void *data, size_t i, int col)
{
    const mig_check_row *r = &((const mig_check_report *)data)->rows[i];
    switch (col) {
    case CHECK_COLUMN_VERSION:
        result_text(ctx, r->version);
        break;
    case CHECK_COLUMN_NAME:
        result_text(ctx, r->name);
        break;
    case CHECK_COLUMN_OUTCOME:
        result_text(ctx, r->outcome);
        break;
    case CHECK_COLUMN_AFTER_FAILURE:
        sqlite3_result_int(ctx, r->after_failure);
        break;
    case CHECK_COLUMN_ERROR:
        result_text(ctx, r->error);
        break;
    case CHECK_COLUMN_STATEMENTS:
        sqlite3_result_int64(ctx, r->statements);
        break;
    case CHECK_COLUMN_ROWS_CHANGED:
        sqlite3_result_int64(ctx, r->rows_changed);
        break;
    case CHECK_COLUMN_MS:
        sqlite3_result_int64(ctx, r->ms);
        break;
    case CHECK_COLUMN_FINDINGS:
        result_text(ctx, r->findings);
        break;
    }
}

/* Free what check_load computed. */
static void check_release(void *data)
{
    mig_check_report_free(data);
    mig_free(data);
}

/* migrate_duplicates(table, columns): one row a group of rows sharing a key. */
#define DUPLICATES_SCHEMA                                                                          \
    "CREATE TABLE x(key TEXT, count INTEGER, rows TEXT, \"table\" HIDDEN, columns HIDDEN)"
enum {
    DUPLICATES_COLUMN_KEY,
    DUPLICATES_COLUMN_COUNT,
    DUPLICATES_COLUMN_ROWS,
    DUPLICATES_COLUMN_TABLE,  /* hidden: the first argument */
    DUPLICATES_COLUMN_COLUMNS /* hidden: the second */
};

/* migrate_duplicates(table, columns): the groups a unique index would reject. */
static int duplicates_load(const mig_engine *eng, char *const *args, int given,
                           const migrate_conn *conn, void **data, mig_error *err)
{
    (void)conn, (void)given;
    mig_dup_report *report = mig_calloc(1, sizeof *report);
    if (!report)
        return mig_fail_nomem(err);
    int threads = sqlite_unique_threads_begin(eng->handle);
    int rc = mig_duplicates(eng, args[0], args[1], report, err);
    sqlite_unique_threads_end(eng->handle, threads);
    if (rc != MIG_OK)
        mig_free(report), report = NULL;
    *data = report;
    return rc;
}

/* One row a duplicated key. */
static size_t duplicates_rows(const void *data)
{
    return ((const mig_dup_report *)data)->count;
}

/* One visible column of migrate_duplicates. */
static void duplicates_column(sqlite3_context *ctx, const void *data, size_t i, int col)
{
    const mig_dup_group *g = &((const mig_dup_report *)data)->groups[i];
    switch (col) {
    case DUPLICATES_COLUMN_KEY:
        result_text(ctx, g->key);
        break;
    case DUPLICATES_COLUMN_COUNT:
        sqlite3_result_int64(ctx, g->count);
        break;
    case DUPLICATES_COLUMN_ROWS:
        result_text(ctx, g->rows);
        break;
    }
}

/* Free what duplicates_load computed. */
static void duplicates_release(void *data)
{
    mig_dup_report_free(data);
    mig_free(data);
}

/* migrate_nulls(table, column): one row a row whose column is NULL. */
#define NULLS_SCHEMA                                                                               \
    "CREATE TABLE x(row_identity TEXT, total INTEGER, \"table\" HIDDEN, \"column\" HIDDEN)"
enum {
    NULLS_COLUMN_ROW,
    NULLS_COLUMN_TOTAL,
    NULLS_COLUMN_TABLE, /* hidden: the first argument */
    NULLS_COLUMN_COLUMN /* hidden: the second */
};

/* migrate_nulls(table, column): the rows migrate_set_not_null would have to fill or move. */
static int nulls_load(const mig_engine *eng, char *const *args, int given, const migrate_conn *conn,
                      void **data, mig_error *err)
{
    (void)conn, (void)given;
    mig_null_report *report = mig_calloc(1, sizeof *report);
    if (!report)
        return mig_fail_nomem(err);
    int rc = mig_nulls(eng, args[0], args[1], report, err);
    if (rc != MIG_OK)
        mig_free(report), report = NULL;
    *data = report;
    return rc;
}

/* One row a NULL. */
static size_t nulls_rows(const void *data)
{
    return ((const mig_null_report *)data)->count;
}

/* One visible column of migrate_nulls. */
static void nulls_column(sqlite3_context *ctx, const void *data, size_t i, int col)
{
    const mig_null_report *r = data;
    if (col == NULLS_COLUMN_ROW)
        result_text(ctx, r->rows[i]);
    else
        sqlite3_result_int64(ctx, (sqlite3_int64)r->count);
}

/* Free what nulls_load computed. */
static void nulls_release(void *data)
{
    mig_null_report_free(data);
    mig_free(data);
}

const table_kind migrate_nulls_table = {
    .schema = NULLS_SCHEMA,
    .visible = NULLS_COLUMN_TABLE,
    .hidden = 2,
    .required = 2,
    .load = nulls_load,
    .rows = nulls_rows,
    .column = nulls_column,
    .release = nulls_release,
};

/* migrate_script(dir [, target]): one row a statement, in the order to run them. */
#define SCRIPT_SCHEMA "CREATE TABLE x(seq INTEGER, statement TEXT, dir HIDDEN, target HIDDEN)"
enum {
    SCRIPT_COLUMN_SEQ,
    SCRIPT_COLUMN_STATEMENT,
    SCRIPT_COLUMN_DIR,   /* hidden: the first argument */
    SCRIPT_COLUMN_TARGET /* hidden: the second */
};

/* migrate_script(dir [, target]): the pending work as statements for the sqlite3 shell. */
static int script_load(const mig_engine *eng, char *const *args, int given,
                       const migrate_conn *conn, void **data, mig_error *err)
{
    (void)given;
    mig_sql_lines *lines = mig_calloc(1, sizeof *lines);
    if (!lines)
        return mig_fail_nomem(err);
    mig_source src = mig_source_of_folder_arg(args[0]);
    int rc = mig_export(eng, &src, args[1], &conn->policy, lines, err);
    if (rc != MIG_OK)
        mig_free(lines), lines = NULL;
    *data = lines;
    return rc;
}

/* One row a statement. */
static size_t script_rows(const void *data)
{
    return ((const mig_sql_lines *)data)->count;
}

/* One visible column of migrate_script. */
static void script_column(sqlite3_context *ctx, const void *data, size_t i, int col)
{
    if (col == SCRIPT_COLUMN_SEQ)
        sqlite3_result_int64(ctx, (sqlite3_int64)i + 1);
    else
        result_text(ctx, ((const mig_sql_lines *)data)->lines[i]);
}

/* Free what script_load computed. */
static void script_release(void *data)
{
    mig_sql_lines_free(data);
    mig_free(data);
}

/* migrate_push(dir): the folder as INSERTs into migrate_scripts, for psql. */
#define PUSH_SCHEMA "CREATE TABLE x(seq INTEGER, statement TEXT, dir HIDDEN)"
enum {
    PUSH_COLUMN_SEQ,
    PUSH_COLUMN_STATEMENT,
    PUSH_COLUMN_DIR /* hidden: the argument */
};

/* migrate_push(dir): the statements, computed from the folder alone (the database is not read). */
static int push_load(const mig_engine *eng, char *const *args, int given, const migrate_conn *conn,
                     void **data, mig_error *err)
{
    (void)eng, (void)given, (void)conn;
    mig_sql_lines *lines = mig_calloc(1, sizeof *lines);
    if (!lines)
        return mig_fail_nomem(err);
    int rc = mig_export_push(args[0], lines, err);
    if (rc != MIG_OK)
        mig_free(lines), lines = NULL;
    *data = lines;
    return rc;
}

const table_kind migrate_push_table = {
    .schema = PUSH_SCHEMA,
    .visible = PUSH_COLUMN_DIR,
    .hidden = 1,
    .required = 1,
    .load = push_load,
    .rows = script_rows,
    .column = script_column,
    .release = script_release,
};

/*
 * migrate_fleet(dir, databases [, target]): one row a database the pattern matches, what
 * migrate_apply did there, then a summary row (path NULL, state 'summary', the totals, the
 * summary line in note).
 */
#define FLEET_SCHEMA                                                                               \
    "CREATE TABLE x(path TEXT, version_before TEXT, version_after TEXT, applied INTEGER, "         \
    "ms INTEGER, state TEXT, error TEXT, note TEXT, dir HIDDEN, databases HIDDEN, target HIDDEN)"
enum {
    FLEET_COLUMN_PATH,
    FLEET_COLUMN_VERSION_BEFORE,
    FLEET_COLUMN_VERSION_AFTER,
    FLEET_COLUMN_APPLIED,
    FLEET_COLUMN_MS,
    FLEET_COLUMN_STATE,
    FLEET_COLUMN_ERROR,
    FLEET_COLUMN_NOTE,
    FLEET_COLUMN_DIR /* hidden: dir, databases, target */
};

/*
 * migrate_fleet_status(dir, databases): the same rows without changing anything: the version,
 * how many migrations are pending, the problem states.
 */
#define FLEET_STATUS_SCHEMA                                                                        \
    "CREATE TABLE x(path TEXT, version TEXT, pending INTEGER, state TEXT, problems TEXT, "         \
    "error TEXT, note TEXT, dir HIDDEN, databases HIDDEN)"
enum {
    FLEET_STATUS_COLUMN_PATH,
    FLEET_STATUS_COLUMN_VERSION,
    FLEET_STATUS_COLUMN_PENDING,
    FLEET_STATUS_COLUMN_STATE,
    FLEET_STATUS_COLUMN_PROBLEMS,
    FLEET_STATUS_COLUMN_ERROR,
    FLEET_STATUS_COLUMN_NOTE,
    FLEET_STATUS_COLUMN_DIR /* hidden: dir, databases */
};

/* migrate_fleet: every database on a connection of its own (sqlite_fleet.c). */
static int fleet_load(const mig_engine *eng, char *const *args, int given, const migrate_conn *conn,
                      void **data, mig_error *err)
{
    (void)given;
    const sqlite_engine *se = eng->handle;
    sqlite_fleet_result *result = NULL;
    int rc = sqlite_fleet_run(se->db, "migrate_fleet", args[0], args[1], args[2], conn, false,
                              &result, err);
    *data = result;
    return rc;
}

/* migrate_fleet_status: every database read, none changed. */
static int fleet_status_load(const mig_engine *eng, char *const *args, int given,
                             const migrate_conn *conn, void **data, mig_error *err)
{
    (void)given;
    const sqlite_engine *se = eng->handle;
    sqlite_fleet_result *result = NULL;
    int rc = sqlite_fleet_run(se->db, "migrate_fleet_status", args[0], args[1], NULL, conn, true,
                              &result, err);
    *data = result;
    return rc;
}

/* One row a database, and the summary. */
static size_t fleet_rows(const void *data)
{
    return ((const sqlite_fleet_result *)data)->count + 1;
}

/* An integer column. */
static void result_int64(sqlite3_context *ctx, long long v)
{
    sqlite3_result_int64(ctx, (sqlite3_int64)v);
}

/* One visible column of migrate_fleet. */
static void fleet_column(sqlite3_context *ctx, const void *data, size_t i, int col)
{
    const sqlite_fleet_result *f = data;
    if (i == f->count) { /* the summary row */
        if (col == FLEET_COLUMN_APPLIED)
            result_int64(ctx, f->total);
        else if (col == FLEET_COLUMN_MS)
            result_int64(ctx, f->ms);
        else if (col == FLEET_COLUMN_STATE)
            result_text(ctx, "summary");
        else if (col == FLEET_COLUMN_NOTE)
            result_text(ctx, f->summary);
        else
            sqlite3_result_null(ctx);
        return;
    }
    const mig_fleet_row *r = &f->rows[i];
    switch (col) {
    case FLEET_COLUMN_PATH:
        result_text(ctx, r->path);
        break;
    case FLEET_COLUMN_VERSION_BEFORE:
        result_text(ctx, r->version_before);
        break;
    case FLEET_COLUMN_VERSION_AFTER:
        result_text(ctx, r->version_after);
        break;
    case FLEET_COLUMN_APPLIED:
        result_int64(ctx, r->applied);
        break;
    case FLEET_COLUMN_MS:
        result_int64(ctx, r->ms);
        break;
    case FLEET_COLUMN_STATE:
        result_text(ctx, mig_fleet_state_name(r->state));
        break;
    case FLEET_COLUMN_ERROR:
        result_text(ctx, r->error);
        break;
    case FLEET_COLUMN_NOTE:
        result_text(ctx, r->note);
        break;
    default:
        sqlite3_result_null(ctx);
    }
}

/* One visible column of migrate_fleet_status. */
static void fleet_status_column(sqlite3_context *ctx, const void *data, size_t i, int col)
{
    const sqlite_fleet_result *f = data;
    if (i == f->count) { /* the summary row */
        if (col == FLEET_STATUS_COLUMN_PENDING)
            result_int64(ctx, f->total);
        else if (col == FLEET_STATUS_COLUMN_STATE)
            result_text(ctx, "summary");
        else if (col == FLEET_STATUS_COLUMN_NOTE)
            result_text(ctx, f->summary);
        else
            sqlite3_result_null(ctx);
        return;
    }
    const mig_fleet_row *r = &f->rows[i];
    switch (col) {
    case FLEET_STATUS_COLUMN_PATH:
        result_text(ctx, r->path);
        break;
    case FLEET_STATUS_COLUMN_VERSION:
        result_text(ctx, r->version_before);
        break;
    case FLEET_STATUS_COLUMN_PENDING:
        if (r->state == MIG_FLEET_FAILED || r->state == MIG_FLEET_LOCKED)
            sqlite3_result_null(ctx);
        else
            result_int64(ctx, r->applied);
        break;
    case FLEET_STATUS_COLUMN_STATE:
        result_text(ctx, mig_fleet_state_name(r->state));
        break;
    case FLEET_STATUS_COLUMN_PROBLEMS:
        result_text(ctx, r->problems);
        break;
    case FLEET_STATUS_COLUMN_ERROR:
        result_text(ctx, r->error);
        break;
    case FLEET_STATUS_COLUMN_NOTE:
        result_text(ctx, r->note);
        break;
    default:
        sqlite3_result_null(ctx);
    }
}

/* Free a fleet call's rows. */
static void fleet_release(void *data)
{
    sqlite_fleet_result_free(data);
}

const table_kind migrate_fleet_table = {
    .schema = FLEET_SCHEMA,
    .visible = FLEET_COLUMN_DIR,
    .hidden = 3,
    .required = 2,
    .load = fleet_load,
    .rows = fleet_rows,
    .column = fleet_column,
    .release = fleet_release,
};

const table_kind migrate_fleet_status_table = {
    .schema = FLEET_STATUS_SCHEMA,
    .visible = FLEET_STATUS_COLUMN_DIR,
    .hidden = 2,
    .required = 2,
    .load = fleet_status_load,
    .rows = fleet_rows,
    .column = fleet_status_column,
    .release = fleet_release,
};

/* migrate_help(): every function, from the core's one list (the same rows on PostgreSQL). */
#define HELP_SCHEMA                                                                                \
    "CREATE TABLE x(name TEXT, arguments TEXT, returns TEXT, description TEXT, engines TEXT)"
enum {
    HELP_COLUMN_NAME,
    HELP_COLUMN_ARGUMENTS,
    HELP_COLUMN_RETURNS,
    HELP_COLUMN_DESCRIPTION,
    HELP_COLUMN_ENGINES,
    HELP_COLUMNS
};

/* The list is static: the rows point into it. */
static int help_load(const mig_engine *eng, char *const *args, int given, const migrate_conn *conn,
                     void **data, mig_error *err)
{
    (void)eng, (void)args, (void)given, (void)conn, (void)err;
    int count;
    *data = (void *)mig_help_entries(&count);
    return MIG_OK;
}

/* One row a function. */
static size_t help_rows(const void *data)
{
    (void)data;
    int count;
    mig_help_entries(&count);
    return (size_t)count;
}

/* One column of migrate_help. */
static void help_column(sqlite3_context *ctx, const void *data, size_t i, int col)
{
    const mig_help_entry *e = &((const mig_help_entry *)data)[i];
    const char *text[HELP_COLUMNS] = {e->name, e->arguments, e->returns, e->description,
                                      mig_help_engines_name(e->engines)};
    if (col >= 0 && col < HELP_COLUMNS)
        result_text(ctx, text[col]);
}

/* Nothing to free: the rows are the core's static list. */
static void help_release(void *data)
{
    (void)data;
}

const table_kind migrate_help_table = {
    .schema = HELP_SCHEMA,
    .visible = HELP_COLUMNS,
    .hidden = 0,
    .required = 0,
    .load = help_load,
    .rows = help_rows,
    .column = help_column,
    .release = help_release,
};

/* migrate_drift(): the objects that differ from what migrate recorded after its last call. */
#define DRIFT_SCHEMA "CREATE TABLE x(kind TEXT, name TEXT, change TEXT, recorded TEXT, live TEXT)"
enum {
    DRIFT_COLUMN_KIND,
    DRIFT_COLUMN_NAME,
    DRIFT_COLUMN_CHANGE,
    DRIFT_COLUMN_RECORDED,
    DRIFT_COLUMN_LIVE,
    DRIFT_COLUMNS
};

/* Compare the live schema with the fingerprint in force. */
static int drift_load(const mig_engine *eng, char *const *args, int given, const migrate_conn *conn,
                      void **data, mig_error *err)
{
    (void)args, (void)given, (void)conn;
    mig_drift *d = mig_calloc(1, sizeof *d);
    if (!d)
        return mig_fail_nomem(err);
    int rc = mig_drift_list(eng, d, err);
    if (rc != MIG_OK)
        mig_free(d), d = NULL;
    *data = d;
    return rc;
}

/* One row an object. */
static size_t drift_rows(const void *data)
{
    return ((const mig_drift *)data)->count;
}

/* One column of migrate_drift. */
static void drift_column(sqlite3_context *ctx, const void *data, size_t i, int col)
{
    const mig_drift_row *r = &((const mig_drift *)data)->rows[i];
    const char *text[DRIFT_COLUMNS] = {r->kind, r->name, r->change, r->recorded, r->live};
    if (col >= 0 && col < DRIFT_COLUMNS)
        result_text(ctx, text[col]);
}

/* Free the comparison. */
static void drift_release(void *data)
{
    mig_drift_free(data);
    mig_free(data);
}

const table_kind migrate_drift_table = {
    .schema = DRIFT_SCHEMA,
    .visible = DRIFT_COLUMNS,
    .hidden = 0,
    .required = 0,
    .load = drift_load,
    .rows = drift_rows,
    .column = drift_column,
    .release = drift_release,
};

const table_kind migrate_status_table = {
    .schema = STATUS_SCHEMA,
    .visible = STATUS_COLUMN_DIR,
    .hidden = 1,
    .required = 0,
    .load = status_load,
    .rows = status_rows,
    .column = status_column,
    .release = snapshot_release,
};

const table_kind migrate_plan_table = {
    .schema = PLAN_SCHEMA,
    .visible = PLAN_COLUMN_DIR,
    .hidden = 2,
    .required = 1,
    .load = plan_load,
    .rows = plan_rows,
    .column = plan_column,
    .release = snapshot_release,
};

const table_kind migrate_check_table = {
    .schema = CHECK_SCHEMA,
    .visible = CHECK_COLUMN_DIR,
    .hidden = 2,
    .required = 1,
    .load = check_load,
    .rows = check_rows,
    .column = check_column,
    .release = check_release,
};

const table_kind migrate_script_table = {
    .schema = SCRIPT_SCHEMA,
    .visible = SCRIPT_COLUMN_DIR,
    .hidden = 2,
    .required = 1,
    .load = script_load,
    .rows = script_rows,
    .column = script_column,
    .release = script_release,
};

const table_kind migrate_duplicates_table = {
    .schema = DUPLICATES_SCHEMA,
    .visible = DUPLICATES_COLUMN_TABLE,
    .hidden = 2,
    .required = 2,
    .load = duplicates_load,
    .rows = duplicates_rows,
    .column = duplicates_column,
    .release = duplicates_release,
};

/* xConnect: declare the columns; registered DIRECTONLY (they read files), never from a view. */
static int migrate_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
                           sqlite3_vtab **out, char **errmsg)
{
    (void)argc, (void)argv, (void)errmsg;
    const table_aux *ta = aux;
    int rc = sqlite3_declare_vtab(db, ta->kind->schema);
    if (rc != SQLITE_OK)
        return rc;
    migrate_vtab *vt = sqlite3_malloc(sizeof *vt);
    if (!vt)
        return SQLITE_NOMEM;
    memset(vt, 0, sizeof *vt);
    vt->db = db;
    vt->reg = ta;
    if (ta->flags & SQLITE_DIRECTONLY)
        sqlite3_vtab_config(db, SQLITE_VTAB_DIRECTONLY);
    else if (ta->flags & SQLITE_INNOCUOUS) /* reads and changes nothing: usable anywhere */
        sqlite3_vtab_config(db, SQLITE_VTAB_INNOCUOUS);
    *out = &vt->base;
    return SQLITE_OK;
}

/* xDisconnect */
static int migrate_disconnect(sqlite3_vtab *vtab)
{
    sqlite3_free(vtab);
    return SQLITE_OK;
}

/* xOpen */
static int migrate_open(sqlite3_vtab *vtab, sqlite3_vtab_cursor **out)
{
    (void)vtab;
    migrate_cursor *cur = sqlite3_malloc(sizeof *cur);
    if (!cur)
        return SQLITE_NOMEM;
    memset(cur, 0, sizeof *cur);
    *out = &cur->base;
    return SQLITE_OK;
}

/* Drop what the previous scan loaded. */
static void cursor_reset(migrate_cursor *cur)
{
    if (cur->loaded)
        ((migrate_vtab *)cur->base.pVtab)->reg->kind->release(cur->data);
    cur->data = NULL;
    cur->loaded = 0;
    cur->row = 0;
    for (int i = 0; i < MAX_HIDDEN; i++) {
        sqlite3_free(cur->args[i]);
        cur->args[i] = NULL;
    }
}

/* xClose */
static int migrate_close(sqlite3_vtab_cursor *base)
{
    cursor_reset((migrate_cursor *)base);
    sqlite3_free(base);
    return SQLITE_OK;
}

/* xFilter: idxNum has bit i set when hidden argument i is given, in argv in that order. */
static int migrate_filter(sqlite3_vtab_cursor *base, int idxNum, const char *idxStr, int argc,
                          sqlite3_value **argv)
{
    (void)idxStr;
    migrate_cursor *cur = (migrate_cursor *)base;
    migrate_vtab *vt = (migrate_vtab *)base->pVtab;
    const table_aux *reg = vt->reg;
    const table_kind *kind = reg->kind;
    cursor_reset(cur);
    int next = 0;
    for (int i = 0; i < kind->hidden; i++) {
        if (!(idxNum & (1 << i)) || next >= argc)
            continue;
        const unsigned char *v = sqlite3_value_text(argv[next++]);
        if (v && !(cur->args[i] = sqlite3_mprintf("%s", v)))
            return SQLITE_NOMEM;
    }
    for (int i = 0; i < kind->required; i++) {
        if (idxNum & (1 << i))
            continue;
        sqlite3_free(vt->base.zErrMsg);
        vt->base.zErrMsg =
            i == 0 && kind->required == 1
                ? sqlite3_mprintf(MIG_MSG_NEEDS_FOLDER, reg->name)
                : sqlite3_mprintf("%s needs %d arguments", reg->name, kind->required);
        return SQLITE_ERROR;
    }
    sqlite_engine se;
    mig_engine eng;
    mig_error err;
    mig_error_init(&err);
    int rc = mig_reentry_enter(&reg->conn->running, reg->name, &err);
    if (rc == MIG_OK) {
        sqlite_engine_init(&se, vt->db, &eng);
        rc = kind->load(&eng, cur->args, idxNum, reg->conn, &cur->data, &err);
        sqlite_engine_free(&se);
        mig_reentry_leave(&reg->conn->running);
    }
    if (rc == MIG_OK) {
        cur->loaded = 1;
        return SQLITE_OK;
    }
    if (rc == MIG_NOMEM) {
        mig_error_clear(&err);
        return SQLITE_NOMEM;
    }
    char *text = mig_error_render(&err);
    sqlite3_free(vt->base.zErrMsg);
    vt->base.zErrMsg = sqlite3_mprintf("%s", text ? text : "out of memory");
    rc = text ? migrate_result_code(&err) : SQLITE_ERROR;
    mig_free(text);
    mig_error_clear(&err);
    return rc;
}

/* xNext */
static int migrate_next(sqlite3_vtab_cursor *base)
{
    ((migrate_cursor *)base)->row++;
    return SQLITE_OK;
}

/* xEof */
static int migrate_eof(sqlite3_vtab_cursor *base)
{
    migrate_cursor *cur = (migrate_cursor *)base;
    const table_kind *kind = ((migrate_vtab *)base->pVtab)->reg->kind;
    return !cur->loaded || cur->row >= kind->rows(cur->data);
}

/* xColumn: visible columns come from the snapshot, hidden ones echo the arguments. */
static int migrate_column(sqlite3_vtab_cursor *base, sqlite3_context *ctx, int col)
{
    migrate_cursor *cur = (migrate_cursor *)base;
    const table_kind *kind = ((migrate_vtab *)base->pVtab)->reg->kind;
    if (col < kind->visible)
        kind->column(ctx, cur->data, cur->row, col);
    else
        result_text(ctx, cur->args[col - kind->visible]);
    return SQLITE_OK;
}

/* xRowid: the position in the result. */
static int migrate_rowid(sqlite3_vtab_cursor *base, sqlite3_int64 *rowid)
{
    *rowid = (sqlite3_int64)((migrate_cursor *)base)->row + 1;
    return SQLITE_OK;
}

/*
 * xBestIndex: only equality on a hidden column passes an argument. An argument constraint that
 * is not usable makes this plan impossible (SQLITE_CONSTRAINT), so SQLite picks another order.
 */
static int migrate_best_index(sqlite3_vtab *vtab, sqlite3_index_info *info)
{
    const table_kind *kind = ((migrate_vtab *)vtab)->reg->kind;
    int given = 0, unusable = 0;
    int slot[MAX_HIDDEN] = {-1, -1, -1};
    for (int i = 0; i < info->nConstraint; i++) {
        const struct sqlite3_index_constraint *c = &info->aConstraint[i];
        int arg = c->iColumn - kind->visible;
        if (arg < 0 || c->op != SQLITE_INDEX_CONSTRAINT_EQ)
            continue;
        if (!c->usable) {
            unusable |= 1 << arg;
            continue;
        }
        given |= 1 << arg;
        slot[arg] = i;
    }
    if (unusable & ~given)
        return SQLITE_CONSTRAINT;
    int argv_index = 1;
    for (int arg = 0; arg < kind->hidden; arg++) {
        if (slot[arg] < 0)
            continue;
        info->aConstraintUsage[slot[arg]].argvIndex = argv_index++;
        info->aConstraintUsage[slot[arg]].omit = 1;
    }
    info->idxNum = given;
    info->estimatedCost = given & 1 ? 1000.0 : 1e9;
    info->estimatedRows = 1000;
    return SQLITE_OK;
}

static const sqlite3_module migrate_module = {
    .iVersion = 0,
    .xCreate = NULL, /* eponymous only: no CREATE VIRTUAL TABLE */
    .xConnect = migrate_connect,
    .xBestIndex = migrate_best_index,
    .xDisconnect = migrate_disconnect,
    .xDestroy = NULL,
    .xOpen = migrate_open,
    .xClose = migrate_close,
    .xFilter = migrate_filter,
    .xNext = migrate_next,
    .xEof = migrate_eof,
    .xColumn = migrate_column,
    .xRowid = migrate_rowid,
};

/* Free a registration's aux when SQLite drops the module. */
static void table_aux_free(void *p)
{
    table_aux *ta = p;
    migrate_conn_unref(ta->conn);
    sqlite3_free(ta);
}

/* Register kind as name; SQLite frees the registration (and drops its reference) on failure too. */
int migrate_create_table_function(sqlite3 *db, const char *name, const table_kind *kind, int flags,
                                  migrate_conn *conn)
{
    table_aux *ta = sqlite3_malloc(sizeof *ta);
    if (!ta)
        return SQLITE_NOMEM;
    ta->name = name;
    ta->kind = kind;
    ta->flags = flags;
    ta->conn = conn;
    migrate_conn_ref(conn);
    return sqlite3_create_module_v2(db, name, &migrate_module, ta, table_aux_free);
}
