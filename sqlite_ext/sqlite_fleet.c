/*
 * The threads and connections of migrate_fleet and migrate_fleet_status. The plan (which files,
 * how many workers), the work on one database and the summary are the core's (mig_fleet.c);
 * this file opens each database on a connection of its own with the library the module was
 * loaded into (sqlite3_open_v2 through the extension's routines), registers the module's
 * functions there (migrate_register: a migration may call migrate_add_unique as under
 * migrate_apply), binds a SQLite engine to it exactly as migrate_apply binds one to the
 * calling connection, and shares the databases out among the workers.
 *
 * Threads: a connection is used by the one worker that opened it, so any threading mode but
 * single-thread (sqlite3_threadsafe() is 0) is safe; then the calling thread does every
 * database itself, and the summary says so. The core's allocator in force is per thread
 * (mig_alloc.c), and SQLite's allocator, which every worker uses, is thread-safe in those modes.
 *
 * Locks: each connection waits on a locked database as long as the calling connection's busy
 * timeout (PRAGMA busy_timeout), then the database is reported locked and left alone.
 *
 * Which databases: a glob pattern, or "table:NAME", the paths a table of the calling connection
 * lists, read by the call's own statement before any worker starts (read_path_table). SQLite
 * lets a function change the schema only when its statement reads no table, but that is the
 * calling connection's rule: the migrations run on the workers' connections.
 *
 * Drift: each database goes through migrate_apply's drift check under the caller's setting; the
 * warning of 'warn' is said as migrate_apply says it and kept in the database's row as well.
 */
#include "sqlite_fleet.h"
SQLITE_EXTENSION_INIT3

#include "sqlite_engine.h"
#include "sqlite_schema.h"

#include "../common/mig_alloc.h"
#include "../common/mig_engine_drift.h"

#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* What every worker reads, and the next database to take. */
typedef struct fleet_job {
    const mig_fleet_plan *plan;
    mig_fleet_row *rows;
    const char *dir;
    const char *target;
    mig_policy policy;
    bool progress; /* the caller's progress setting, for the functions a migration calls */
    int busy_ms;
    bool foreign_keys;
    bool status;
    pthread_mutex_t lock;
    size_t next;
} fleet_job;

/* Milliseconds of a clock that only goes forward. */
static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Whether a call failed only because another connection held the database. */
static bool busy_error(const mig_error *err)
{
    int code = err->engine_code & 0xff;
    return err->code == MIG_ENGINE && (code == SQLITE_BUSY || code == SQLITE_LOCKED);
}

/* One integer a PRAGMA of the calling connection answers (0 when it answers nothing). */
static int pragma_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int value = 0;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        value = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return value;
}

/*
 * The engine a worker binds to one database, and that database's row: the engine's handle is
 * the first member, so the drift warning (fleet_drift_warn) finds the row from the handle.
 */
typedef struct fleet_engine {
    sqlite_engine se;
    mig_fleet_row *row;
} fleet_engine;

/*
 * drift.warn on a fleet connection: what migrate_apply says on standard error and in SQLite's
 * error log is said there too, and the database's row notes it (its note column).
 */
static void fleet_drift_warn(void *h, const char *message)
{
    fleet_engine *fe = h;
    if (sqlite_drift.warn)
        sqlite_drift.warn(h, message);
    mig_fleet_row_drift(fe->row, message);
}

/*
 * Register the module on a fleet connection, with a state of its own holding the caller's
 * settings, marked as running migrate_fleet: a migration run there may then call what it may
 * call under migrate_apply (migrate_add_unique, ...), and nothing else (mig_reentry.h). The
 * caller holds the one reference returned; NULL, with the row failed, when registering failed.
 */
static migrate_conn *fleet_register(sqlite3 *db, const fleet_job *job, mig_fleet_row *row)
{
    migrate_conn *conn = migrate_conn_new();
    if (!conn) {
        mig_fleet_row_fail(row, MIG_FLEET_FAILED, NULL);
        return NULL;
    }
    conn->policy = job->policy;
    conn->progress = job->progress;
    migrate_conn_ref(conn);
    char *msg = NULL;
    mig_error err;
    mig_error_init(&err);
    if (migrate_register(db, conn, &msg) != SQLITE_OK ||
        mig_reentry_enter(&conn->running, "migrate_fleet", &err) != MIG_OK) {
        mig_fleet_row_fail(row, MIG_FLEET_FAILED, msg ? msg : err.message);
        sqlite3_free(msg);
        mig_error_clear(&err);
        migrate_conn_unref(conn);
        return NULL;
    }
    return conn;
}

/* Migrate (or read) one database on a connection of its own. */
static void fleet_one(fleet_job *job, size_t i)
{
    mig_fleet_row *row = &job->rows[i];
    const char *path = job->plan->paths[i];
    if (!(row->path = mig_strdup(path))) {
        mig_fleet_row_fail(row, MIG_FLEET_FAILED, NULL);
        return;
    }
    if (job->plan->errors[i]) { /* a listed path that names no file: NULL or empty */
        mig_fleet_row_fail(row, MIG_FLEET_FAILED, job->plan->errors[i]);
        return;
    }
    long long started = now_ms();
    sqlite3 *db = NULL;
    /*
     * Read-write for status too, though it only reads: a file a crash left with a hot journal
     * must be rolled back before it can be read, and a read-only connection cannot do that.
     */
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        mig_fleet_row_fail(row, MIG_FLEET_FAILED, db ? sqlite3_errmsg(db) : NULL);
        sqlite3_close(db);
        row->ms = now_ms() - started;
        return;
    }
    sqlite3_busy_timeout(db, job->busy_ms);
    sqlite3_extended_result_codes(db, 1);
    if (job->foreign_keys)
        sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
    /* migrations run only under migrate_fleet, and may call the module's functions there */
    migrate_conn *conn = job->status ? NULL : fleet_register(db, job, row);
    if (!job->status && !conn) {
        sqlite3_close(db);
        row->ms = now_ms() - started;
        return;
    }
    fleet_engine fe = {.row = row};
    mig_engine eng;
    sqlite_engine_init(&fe.se, db, &eng);
    mig_engine_drift drift;
    if (eng.drift) { /* the same drift work, its warning into the row */
        drift = *eng.drift;
        drift.warn = fleet_drift_warn;
        eng.drift = &drift;
    }
    mig_source src = mig_source_of_folder_arg(job->dir);
    if (job->status)
        mig_fleet_status_one(&eng, &src, job->target, &job->policy, busy_error, row);
    else
        mig_fleet_apply_one(&eng, &src, job->target, &job->policy, busy_error, row);
    sqlite_engine_free(&fe.se);
    if (conn)
        mig_reentry_leave(&conn->running);
    sqlite3_close(db); /* drops the registrations' references to conn */
    if (conn)
        migrate_conn_unref(conn);
    row->ms = now_ms() - started;
}

/* A worker: take the next database until none is left. */
static void *fleet_worker(void *arg)
{
    fleet_job *job = arg;
    for (;;) {
        pthread_mutex_lock(&job->lock);
        size_t i = job->next++;
        pthread_mutex_unlock(&job->lock);
        if (i >= job->plan->count)
            return NULL;
        fleet_one(job, i);
    }
}

/*
 * Run the workers: the calling thread is one of them; a thread that cannot start (or no memory
 * for its handle) means fewer workers, never a failed call. Returns how many ran.
 */
static int run_workers(fleet_job *job, int workers)
{
    pthread_t *threads = workers > 1 ? mig_calloc((size_t)workers - 1, sizeof *threads) : NULL;
    int started = 0;
    for (int w = 1; threads && w < workers; w++) {
        if (pthread_create(&threads[started], NULL, fleet_worker, job) != 0)
            break;
        started++;
    }
    fleet_worker(job);
    for (int w = 0; w < started; w++)
        pthread_join(threads[w], NULL);
    mig_free(threads);
    return started + 1;
}

/* Release a fleet call's rows. */
void sqlite_fleet_result_free(sqlite_fleet_result *result)
{
    if (!result)
        return;
    for (size_t i = 0; i < result->count; i++)
        mig_fleet_row_free(&result->rows[i]);
    mig_free(result->rows);
    mig_free(result->summary);
    mig_free(result);
}

/* What a databases argument starts with to name a table of paths instead of a pattern. */
#define TABLE_PREFIX "table:"

/* Release a list of paths read from a table. */
static void free_paths(char **paths, size_t count)
{
    for (size_t i = 0; i < count; i++)
        mig_free(paths[i]);
    mig_free(paths);
}

/*
 * The paths a table (or view) of the calling connection lists, one a row in the table's order:
 * its column path, or its only column; a NULL value stays NULL (the plan reports it). It is
 * read here, by the fleet call's own statement on the calling connection, and finished with
 * before any worker opens a database.
 */
static int read_path_table(sqlite3 *db, const char *function, const char *name, char ***out,
                           size_t *count, mig_error *err)
{
    *out = NULL;
    *count = 0;
    if (!*name)
        return mig_fail(err, MIG_ERR_ARGUMENT,
                        "%s: " TABLE_PREFIX " must be followed by the name of a table of paths",
                        function);
    sqlite3_stmt *st = NULL;
    char *sql = sqlite3_mprintf("SELECT * FROM \"%w\"", name);
    int src = sql ? sqlite3_prepare_v2(db, sql, -1, &st, NULL) : SQLITE_NOMEM;
    sqlite3_free(sql);
    if (src != SQLITE_OK) {
        sqlite3_finalize(st);
        if (src == SQLITE_NOMEM)
            return mig_fail_nomem(err);
        return mig_fail(err, MIG_ERR_NO_TABLE, "%s: cannot read the paths of table %s: %s",
                        function, name, sqlite3_errmsg(db));
    }
    int columns = sqlite3_column_count(st), col = -1;
    for (int c = 0; c < columns && col < 0; c++)
        if (sqlite3_stricmp(sqlite3_column_name(st, c), "path") == 0)
            col = c;
    if (col < 0 && columns == 1)
        col = 0;
    if (col < 0) {
        sqlite3_finalize(st);
        return mig_fail(err, MIG_ERR_NOT_FOUND,
                        "%s: table %s has no column path, and %d columns: name the column of "
                        "paths path",
                        function, name, columns);
    }
    size_t cap = 0;
    char **paths = NULL;
    int rc = MIG_OK;
    while (rc == MIG_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
        if (*count == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            char **grown = mig_realloc(paths, ncap * sizeof *grown);
            if (!grown) {
                rc = mig_fail_nomem(err);
                break;
            }
            paths = grown;
            cap = ncap;
        }
        const char *text = (const char *)sqlite3_column_text(st, col);
        paths[*count] = NULL;
        if (text && !(paths[*count] = mig_strdup(text)))
            rc = mig_fail_nomem(err);
        else if (!text && sqlite3_column_type(st, col) != SQLITE_NULL)
            rc = mig_fail_nomem(err); /* a value SQLite could not turn into text */
        (*count)++;
    }
    if (rc == MIG_OK && src != SQLITE_DONE)
        rc = mig_fail(err, MIG_ERR_NO_TABLE, "%s: cannot read the paths of table %s: %s", function,
                      name, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    if (rc != MIG_OK) {
        free_paths(paths, *count);
        *count = 0;
        return rc;
    }
    *out = paths;
    return MIG_OK;
}

/*
 * The plan of a fleet call: databases is a glob pattern, or "table:NAME" for the paths a table
 * of the calling connection lists (read_path_table).
 */
static int make_plan(sqlite3 *caller, const char *function, const char *databases, int wanted,
                     int cores, mig_fleet_plan *plan, mig_error *err)
{
    bool threads_ok = sqlite3_threadsafe() != 0;
    size_t len = sizeof TABLE_PREFIX - 1;
    if (!databases || strncmp(databases, TABLE_PREFIX, len) != 0)
        return mig_fleet_plan_make(function, databases, wanted, cores, threads_ok, plan, err);
    const char *name = databases + len;
    char **paths = NULL;
    size_t count = 0;
    int rc = read_path_table(caller, function, name, &paths, &count, err);
    if (rc != MIG_OK) {
        memset(plan, 0, sizeof *plan);
        return rc;
    }
    char *source = mig_printf("table %s", name);
    rc = source ? mig_fleet_plan_list(function, source, paths, count, wanted, cores, threads_ok,
                                      plan, err)
                : mig_fail_nomem(err);
    mig_free(source);
    free_paths(paths, count);
    return rc;
}

/* A fleet call: plan, workers, rows, summary. */
int sqlite_fleet_run(sqlite3 *caller, const char *function, const char *dir, const char *pattern,
                     const char *target, const migrate_conn *conn, bool status,
                     sqlite_fleet_result **out, mig_error *err)
{
    *out = NULL;
    if (!dir)
        return mig_fail(err, MIG_ERR_NULL,
                        "%s needs a migrations folder: the databases share no migrate_scripts",
                        function);
    if (target && mig_target_check(target, err) != MIG_OK)
        return err->code;
    long long started = now_ms();
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    mig_fleet_plan plan;
    int rc = make_plan(caller, function, pattern, conn->fleet_workers, cores > 0 ? (int)cores : 1,
                       &plan, err);
    if (rc != MIG_OK)
        return rc;
    sqlite_fleet_result *result = mig_calloc(1, sizeof *result);
    mig_fleet_row *rows = mig_calloc(plan.count, sizeof *rows);
    if (!result || !rows) {
        mig_free(result);
        mig_free(rows);
        mig_fleet_plan_free(&plan);
        return mig_fail_nomem(err);
    }
    fleet_job job = {
        .plan = &plan,
        .rows = rows,
        .dir = dir,
        .target = target,
        .policy = conn->policy,
        .progress = conn->progress,
        .busy_ms = pragma_int(caller, "PRAGMA busy_timeout"),
        .foreign_keys = pragma_int(caller, "PRAGMA foreign_keys") != 0,
        .status = status,
        .next = 0,
    };
    pthread_mutex_init(&job.lock, NULL);
    int workers = run_workers(&job, plan.workers);
    pthread_mutex_destroy(&job.lock);
    result->rows = rows;
    result->count = plan.count;
    result->ms = now_ms() - started;
    for (size_t i = 0; i < plan.count; i++)
        if (rows[i].state == MIG_FLEET_MIGRATED || rows[i].state == MIG_FLEET_PENDING)
            result->total += rows[i].applied;
    result->summary = mig_fleet_summary(rows, plan.count, workers, result->ms, status,
                                        plan.duplicates, plan.note);
    mig_fleet_plan_free(&plan);
    if (!result->summary) {
        sqlite_fleet_result_free(result);
        return mig_fail_nomem(err);
    }
    *out = result;
    return MIG_OK;
}
