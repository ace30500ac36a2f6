/* migrate_apply(dir [, target]): the SQL function that applies pending migrations. */
#include "sqlite_functions.h"
SQLITE_EXTENSION_INIT3

#include "sqlite_engine.h"

#include "../common/mig_alloc.h"
#include "../common/mig_messages.h"
#include "../common/mig_run.h"

#include <string.h>

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

/* Report err as the function's error and release it. */
static void result_error(sqlite3_context *ctx, mig_error *err)
{
    if (err->code == MIG_NOMEM) {
        sqlite3_result_error_nomem(ctx);
    } else {
        char *text = mig_error_render(err);
        sqlite3_result_error(ctx, text ? text : "out of memory", -1);
        mig_free(text);
    }
    mig_error_clear(err);
}

/* Text of argument i, or NULL when absent or NULL. */
static const char *text_arg(int argc, sqlite3_value **argv, int i)
{
    return i < argc ? (const char *)sqlite3_value_text(argv[i]) : NULL;
}

/* migrate_apply(dir [, target]) returns how many migrations it applied. */
static void migrate_apply_func(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    sqlite3 *db = sqlite3_context_db_handle(ctx);
    mig_error err;
    mig_error_init(&err);
    const char *dir = text_arg(argc, argv, 0);
    if (!dir) {
        mig_fail(&err, MIG_ERR, MIG_MSG_NEEDS_FOLDER, "migrate_apply");
        result_error(ctx, &err);
        return;
    }
    if (caller_reads_tables(db)) {
        mig_fail(&err, MIG_ERR,
                 "migrate_apply must be called as a plain SELECT migrate_apply(...): the calling "
                 "statement (or another one still running on this connection) reads a table, "
                 "and SQLite cannot change the schema while it does");
        result_error(ctx, &err);
        return;
    }
    sqlite_engine se;
    mig_engine eng;
    sqlite_engine_init(&se, db, &eng);
    int applied = 0;
    int rc = mig_apply(&eng, dir, text_arg(argc, argv, 1), &applied, &err);
    sqlite_engine_free(&se);
    if (rc != MIG_OK)
        result_error(ctx, &err);
    else
        sqlite3_result_int(ctx, applied);
}

/* Register the scalar functions; they read files and change the schema, hence DIRECTONLY. */
int migrate_register_functions(sqlite3 *db)
{
    static const struct {
        const char *name;
        int nargs;
        void (*fn)(sqlite3_context *, int, sqlite3_value **);
    } functions[] = {
        {"migrate_apply", 1, migrate_apply_func},
        {"migrate_apply", 2, migrate_apply_func},
    };
    for (size_t i = 0; i < sizeof functions / sizeof *functions; i++) {
        int rc = sqlite3_create_function(db, functions[i].name, functions[i].nargs,
                                         SQLITE_UTF8 | SQLITE_DIRECTONLY, NULL, functions[i].fn,
                                         NULL, NULL);
        if (rc != SQLITE_OK)
            return rc;
    }
    return SQLITE_OK;
}
