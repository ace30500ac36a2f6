/*
 * The core's engine interface (common/mig_engine.h) over one SQLite connection: what
 * sqlite_functions.c and sqlite_tables.c bind for the length of one call
 * (sqlite_engine_init ... sqlite_engine_free) and hand to the core.
 *
 * A call's work runs inside a savepoint; when the caller has no transaction open, the
 * savepoint opens one with BEGIN IMMEDIATE, so the write lock is taken before anything is read.
 * The statements that undo it are prepared when it opens, so undoing needs no memory; if even
 * that fails, a commit hook refuses the transaction's COMMIT until it ends. Migration scripts
 * run statement by statement (split by SQLite's own rules, sqlite_script.c), so an error names
 * the statement and the place in it. Foreign key enforcement is off for the call, and the call
 * fails if its migrations leave violations that were not there before. The record lives in
 * main.migrate_history; main.migrate_scripts, when it exists, is a folder kept in the database.
 */
#include "sqlite_engine.h"
#include "sqlite_schema.h"
SQLITE_EXTENSION_INIT3

#include "sqlite_script.h"
#include "sqlite_columns.h"
#include "sqlite_unique.h"

#include "../common/mig_alloc.h"
#include "../common/mig_buf.h"
#include "../common/mig_engine_hooks.h"
#include "../common/mig_engine_notx.h"
#include "../common/mig_history.h"
#include "../common/mig_messages.h"
#include "../common/mig_progress.h"
#include "../common/mig_script.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define HISTORY_TABLE "\"main\".\"migrate_history\""
#define SCRIPTS_TABLE "\"main\".\"migrate_scripts\""

/*
 * The engines bound on this thread, innermost first (a call's helpers hold only the connection;
 * a fleet's workers bind their own on their own threads).
 */
static _Thread_local sqlite_engine *bound;

/* The engine of the call running on db on this thread, or NULL. */
static sqlite_engine *engine_of(sqlite3 *db)
{
    for (sqlite_engine *se = bound; se; se = se->enclosing)
        if (se->db == db)
            return se;
    return NULL;
}

/*
 * Whether SQLite rolled the call's transaction back by itself: on some errors it ends the whole
 * transaction (lang_transaction.html, "Response To Errors Within A Transaction"), and the
 * call's next statement would then run, and commit, on its own. why: the error, when known.
 */
static bool transaction_lost(sqlite_engine *se, const char *why)
{
    if (!se || se->lost)
        return se && se->lost;
    if (!se->in_txn || !sqlite3_get_autocommit(se->db))
        return false;
    se->lost = 1;
    snprintf(se->lost_after, sizeof se->lost_after, "%s", why ? why : sqlite3_errmsg(se->db));
    return true;
}

/* The error of a call whose transaction SQLite rolled back (no allocation beyond the message). */
static int lost_error(const sqlite_engine *se, mig_error *err)
{
    mig_fail(err, MIG_ERR_STATE,
             se->began ? "the transaction was rolled back by SQLite after %s; nothing was changed"
                       : "the caller's transaction was rolled back by SQLite after %s; nothing of "
                         "it was kept",
             se->lost_after);
    return err->code;
}

/* Copy SQLite's current error into err; returns err->code (MIG_ENGINE). */
int sqlite_engine_error(sqlite3 *db, mig_error *err)
{
    int code = sqlite3_extended_errcode(db);
    sqlite_engine *se = engine_of(db);
    bool was_lost = se && se->lost;
    if (transaction_lost(se, sqlite3_errmsg(db)) && !was_lost) {
        lost_error(se, err);
        err->engine_code = code;
        return err->code;
    }
    if (was_lost)
        return lost_error(se, err);
    mig_fail(err, MIG_ENGINE, "%s", sqlite3_errmsg(db));
    err->engine_code = code;
    return err->code;
}

/* Refuse every statement once SQLite rolled the call's transaction back by itself. */
int sqlite_engine_guard(sqlite3 *db, mig_error *err)
{
    sqlite_engine *se = engine_of(db);
    if (!transaction_lost(se, NULL))
        return MIG_OK;
    return err ? lost_error(se, err) : MIG_ERR_STATE;
}

/* Run sql with no rows wanted, once the guard lets it. */
int sqlite_engine_exec(sqlite3 *db, const char *sql, mig_error *err)
{
    if (!sql)
        return err ? mig_fail_nomem(err) : MIG_NOMEM;
    int rc = sqlite_engine_guard(db, err);
    if (rc != MIG_OK)
        return rc;
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
        if (!err) {
            transaction_lost(engine_of(db), sqlite3_errmsg(db));
            return MIG_ENGINE;
        }
        return sqlite_engine_error(db, err);
    }
    return MIG_OK;
}

/* Prepare sql (from sqlite3_mprintf, freed here) or report why not. */
sqlite3_stmt *sqlite_engine_prepare_owned(sqlite3 *db, char *sql, mig_error *err)
{
    sqlite3_stmt *st = NULL;
    if (!sql)
        mig_fail_nomem(err);
    else if (sqlite_engine_guard(db, err) != MIG_OK)
        ;
    else if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        sqlite_engine_error(db, err);
    sqlite3_free(sql);
    return st;
}

/*
 * Where in sql, which started at byte start of the script, SQLite's last error points (the
 * token sqlite3_error_offset names), as a byte offset in the script; -1 when it names none.
 */
static long error_position(sqlite3 *db, long start)
{
#if SQLITE_VERSION_NUMBER >= 3038000
    if (sqlite3_libversion_number() >= 3038000) { /* older libraries lack the routine */
        int at = sqlite3_error_offset(db);
        if (at >= 0)
            return start + at;
    }
#else
    (void)db, (void)start;
#endif
    return -1;
}

/* Run SQL that returns no rows we need. */
static int exec_simple(sqlite3 *db, const char *sql, mig_error *err)
{
    return sqlite_engine_exec(db, sql, err);
}

/* Whether the main database has a table of that name; MIG_OK or the engine's error. */
static int table_exists(sqlite3 *db, const char *name, bool *exists, mig_error *err)
{
    sqlite3_stmt *st;
    if (sqlite_engine_guard(db, err) != MIG_OK)
        return err->code;
    if (sqlite3_prepare_v2(
            db, "SELECT 1 FROM \"main\".sqlite_schema WHERE type = 'table' AND name = ?1", -1, &st,
            NULL) != SQLITE_OK)
        return sqlite_engine_error(db, err);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return sqlite_engine_error(db, err);
    *exists = rc == SQLITE_ROW;
    return MIG_OK;
}

static int add_missing_triggers(sqlite_engine *se, mig_error *err);

/* Create or look for migrate_history in the main database. */
static int engine_history_prepare(void *h, bool create, bool *exists, mig_error *err)
{
    sqlite_engine *se = h;
    int rc = table_exists(se->db, "migrate_history", exists, err);
    if (rc != MIG_OK)
        return rc;
    if (!create)
        return MIG_OK;
    if (*exists)
        return add_missing_triggers(se, err);
    rc = exec_simple(se->db, "CREATE TABLE " HISTORY_TABLE " " SQLITE_HISTORY_COLUMNS, err);
    *exists = rc == MIG_OK;
    return rc;
}

/* The statement's first keyword, upper-cased into buf. */
static void leading_keyword(const char *sql, size_t len, char *buf, size_t size)
{
    size_t i = sqlite_script_skip_blank(sql, len, 0), n = 0;
    while (i < len && n + 1 < size &&
           ((sql[i] >= 'a' && sql[i] <= 'z') || (sql[i] >= 'A' && sql[i] <= 'Z')))
        buf[n++] = (char)(sql[i++] & ~0x20);
    buf[n] = '\0';
}

/*
 * True for RELEASE [SAVEPOINT] of a savepoint named migrate_...: one of the extension's own
 * (migrate_call, migrate_check), which would keep the call's work in the caller's transaction.
 */
static bool releases_own_savepoint(const char *sql, size_t len)
{
    char word[16];
    size_t i;
    sqlite_script_keyword(sql, len, sqlite_script_skip_blank(sql, len, 0), word, sizeof word, &i);
    i = sqlite_script_skip_blank(sql, len, i);
    if (i + 9 <= len && strncasecmp(sql + i, "SAVEPOINT", 9) == 0)
        i = sqlite_script_skip_blank(sql, len, i + 9);
    if (i < len && (sql[i] == '"' || sql[i] == '`' || sql[i] == '[' || sql[i] == '\''))
        i++;
    return i + 8 <= len && strncasecmp(sql + i, "migrate_", 8) == 0;
}

/* True for statements that would end or open the call's transaction. */
static bool ends_transaction(const char *sql, size_t len)
{
    char word[16];
    leading_keyword(sql, len, word, sizeof word);
    if (strcmp(word, "ROLLBACK") == 0) {
        /* ROLLBACK TO a savepoint of the script's own is fine */
        size_t i = sqlite_script_skip_blank(sql, len, 0) + 8;
        i = sqlite_script_skip_blank(sql, len, i);
        if (i + 11 <= len && strncasecmp(sql + i, "TRANSACTION", 11) == 0)
            i = sqlite_script_skip_blank(sql, len, i + 11);
        return !(i + 2 <= len && strncasecmp(sql + i, "TO", 2) == 0);
    }
    if (strcmp(word, "RELEASE") == 0)
        return releases_own_savepoint(sql, len);
    return strcmp(word, "BEGIN") == 0 || strcmp(word, "COMMIT") == 0 || strcmp(word, "END") == 0;
}

/* Milliseconds on a clock that never goes back. */
static long long monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Write a progress line to stderr, where the shell user sees it as the call runs. */
static void write_progress(const char *message)
{
    fprintf(stderr, "migrate: %s\n", message);
    fflush(stderr);
}

/* Name a statement that ran long (MIG_SLOW_STATEMENT_MS) in the progress output. */
static void report_slow(const char *sql, size_t len, size_t offset, size_t stmt_len, long long ms)
{
    if (ms < MIG_SLOW_STATEMENT_MS)
        return;
    char *msg = mig_progress_slow(sql, len, offset, stmt_len, ms);
    if (msg)
        write_progress(msg);
    mig_free(msg);
}

/*
 * Run a script statement by statement, reporting where a failing statement starts. Inside the
 * call's transaction, statements that would end it are refused; *completed counts successes.
 */
static int run_statements(sqlite_engine *se, const char *sql, size_t len, bool in_call,
                          int *completed, mig_error *err)
{
    const char *pos = sql, *end = sql + len;
    while (pos < end) {
        sqlite3_stmt *st = NULL;
        const char *tail = NULL;
        if (sqlite_engine_guard(se->db, err) != MIG_OK) {
            err->offset = pos - sql;
            return err->code;
        }
        int rc = sqlite3_prepare_v2(se->db, pos, (int)(end - pos), &st, &tail);
        if (rc != SQLITE_OK) {
            sqlite_engine_error(se->db, err);
            err->offset = pos - sql;
            err->position = error_position(se->db, pos - sql);
            return err->code;
        }
        if (!st) { /* only white space or comments were left */
            pos = tail;
            continue;
        }
        if (in_call && ends_transaction(pos, (size_t)(tail - pos))) {
            sqlite3_finalize(st);
            mig_fail(err, MIG_ERR_STATE, MIG_MSG_TRANSACTION_CONTROL);
            err->offset = pos - sql;
            return err->code;
        }
        long long started = se->progress ? monotonic_ms() : 0;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            ;
        if (se->progress && rc == SQLITE_DONE)
            report_slow(sql, len, (size_t)(pos - sql), (size_t)(tail - pos),
                        monotonic_ms() - started);
        if (rc != SQLITE_DONE) {
            sqlite_engine_error(se->db, err);
            err->position = error_position(se->db, pos - sql);
            sqlite3_finalize(st);
            err->offset = pos - sql;
            return err->code;
        }
        sqlite3_finalize(st);
        (*completed)++;
        pos = tail;
    }
    return MIG_OK;
}

/* engine.exec_script: inside the call's transaction. */
static int engine_exec_script(void *h, const char *sql, size_t len, mig_error *err)
{
    int completed = 0;
    return run_statements(h, sql, len, true, &completed, err);
}

/* A migration's script inside the call's transaction, counting the statements that completed. */
int sqlite_engine_run_script(sqlite_engine *se, const char *sql, size_t len, int *completed,
                             mig_error *err)
{
    *completed = 0;
    return run_statements(se, sql, len, true, completed, err);
}

/* notx.exec_autocommit: a no-transaction migration, each statement on its own. */
static int engine_exec_autocommit(void *h, const char *sql, size_t len, int *completed,
                                  mig_error *err)
{
    sqlite_engine *se = h;
    *completed = 0;
    int rc = run_statements(se, sql, len, false, completed, err);
    if (!sqlite3_get_autocommit(se->db)) { /* its own BEGIN without COMMIT */
        exec_simple(se->db, "ROLLBACK", NULL);
        if (rc == MIG_OK)
            rc = mig_fail(err, MIG_ERR_STATE,
                          "the script opened a transaction and did not end it; "
                          "it was rolled back");
    }
    return rc;
}

/*
 * notx.caller_in_transaction: a transaction is open that savepoint() did not begin (during a
 * call, ours is open only when the caller had none; outside one, as migrate_plan asks).
 */
static bool engine_caller_in_transaction(void *h)
{
    sqlite_engine *se = h;
    return !se->began && !sqlite3_get_autocommit(se->db);
}

/* notx.split_statements, export.split_statements: by SQLite's own rules, in one pass
 * (sqlite_script.c). */
static int engine_split_statements(void *h, const char *sql, size_t len, mig_statement **out,
                                   size_t *count, mig_error *err)
{
    (void)h;
    return sqlite_script_split(sql, len, out, count, err);
}

/* hooks.unclosed: SQLite's quotes and comments (block comments do not nest; no dollar quotes). */
static const char *engine_unclosed(void *h, const char *sql, size_t len, size_t *at)
{
    (void)h;
    return sqlite_script_unclosed(sql, len, at);
}

/* export.check_export: what the sqlite3 shell would not read as the SQL it is. */
static int engine_check_export(void *h, const char *sql, size_t len, const mig_statement *st,
                               mig_error *err)
{
    (void)h;
    return sqlite_script_check_statement(sql, len, st, err);
}

/* True when PRAGMA [schema.]journal_mode is set to WAL, or away from it, by the statement at pos.
 */
static bool changes_wal(sqlite_engine *se, const char *sql, size_t len, size_t pos)
{
    char word[32], schema[32] = "main";
    size_t i;
    sqlite_script_keyword(sql, len, pos, word, sizeof word, &i);
    i = sqlite_script_skip_blank(sql, len, i);
    if (i < len && sql[i] == '.') {
        memcpy(schema, word, sizeof word);
        sqlite_script_keyword(sql, len, i + 1, word, sizeof word, &i);
        i = sqlite_script_skip_blank(sql, len, i);
    }
    if (strcmp(word, "JOURNAL_MODE") != 0 || i >= len || (sql[i] != '=' && sql[i] != '('))
        return false;
    i = sqlite_script_skip_blank(sql, len, i + 1);
    if (i < len && (sql[i] == '\'' || sql[i] == '"'))
        i++;
    sqlite_script_keyword(sql, len, i, word, sizeof word, NULL);
    if (strcmp(word, "WAL") == 0)
        return true;
    /* away from WAL: the database's current mode decides */
    char *query = sqlite3_mprintf("PRAGMA \"%w\".journal_mode", schema);
    sqlite3_stmt *st = NULL;
    bool wal = false;
    if (query && sqlite3_prepare_v2(se->db, query, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        wal = sqlite3_strnicmp((const char *)sqlite3_column_text(st, 0), "wal", 4) == 0;
    sqlite3_finalize(st);
    sqlite3_free(query);
    return wal;
}

#define RUN_IT_THROUGH_THE_SHELL                                                                   \
    "run the pending work through the sqlite3 shell: sqlite3 DB \".load migrate\" \"SELECT "       \
    "statement FROM migrate_script('DIR')\" | "                                                    \
    "sqlite3 DB"

/*
 * hooks.check_script: refuse, before anything runs, statements SQLite cannot run where the
 * migration would run them: VACUUM never from inside a function call, a change of journal mode
 * to or from WAL never inside a transaction, transaction control never inside the call's.
 */
static int engine_check_script(void *h, const char *sql, size_t len, bool outside, mig_error *err)
{
    sqlite_engine *se = h;
    mig_statement *stmts = NULL;
    size_t n = 0;
    int rc = sqlite_script_split(sql, len, &stmts, &n, err);
    for (size_t i = 0; rc == MIG_OK && i < n; i++) {
        char word[16];
        size_t after;
        sqlite_script_keyword(sql, len, stmts[i].offset, word, sizeof word, &after);
        const char *why = NULL;
        if (strcmp(word, "VACUUM") == 0)
            why = outside
                      ? "VACUUM cannot run from inside a function call: SQLite refuses it while "
                        "the calling statement (SELECT migrate_apply(...)) runs"
                      : "VACUUM cannot run inside a transaction, and migrate_apply runs "
                        "every migration inside one";
        else if (!outside && strcmp(word, "PRAGMA") == 0 && changes_wal(se, sql, len, after))
            why = "changing journal_mode to or from WAL cannot run inside a transaction, and "
                  "migrate_apply runs every migration inside one";
        else if (!outside && ends_transaction(sql + stmts[i].offset, stmts[i].len)) {
            rc = mig_fail(err, MIG_ERR_STATE, MIG_MSG_TRANSACTION_CONTROL);
            err->offset = (long)stmts[i].offset;
            break;
        }
        if (why) {
            rc = mig_fail(err, MIG_ERR_STATE, "%s", why);
            if (outside)
                mig_error_set_hint(err, RUN_IT_THROUGH_THE_SHELL);
            else if (strcmp(word, "VACUUM") == 0)
                mig_error_set_hint(err,
                                   "mark the migration -- migrate:no-transaction and "
                                   "%s",
                                   RUN_IT_THROUGH_THE_SHELL);
            else
                mig_error_set_hint(err, "mark the migration -- migrate:no-transaction");
            err->offset = (long)stmts[i].offset;
        }
    }
    mig_free(stmts);
    return rc;
}

/*
 * export.literal: a line of migrate_script's output must never begin with '.', which the
 * sqlite3 shell could read as a command; a newline before one is written as char(10).
 */
static char *engine_literal(void *h, const char *text)
{
    (void)h;
    mig_buf b = {0};
    mig_buf_puts(&b, "'");
    for (const char *p = text; *p; p++) {
        if (*p == '\'') {
            mig_buf_puts(&b, "''");
        } else if (*p == '\n' && p[1 + strspn(p + 1, " \t")] == '.') {
            mig_buf_puts(&b, "' || char(10) || '");
        } else {
            mig_buf_append(&b, p, 1);
        }
    }
    mig_buf_puts(&b, "'");
    return mig_buf_take(&b);
}

/* hooks.scripts_prepare: migrate_scripts must exist for calls given no folder. */
static int engine_scripts_prepare(void *h, mig_error *err)
{
    sqlite_engine *se = h;
    bool found;
    int rc = table_exists(se->db, "migrate_scripts", &found, err);
    if (rc == MIG_OK && !found) {
        mig_fail(err, MIG_ERR_NO_TABLE,
                 "no migrations folder given, and there is no migrate_scripts table");
        mig_error_set_hint(err, "SELECT migrate_init() creates migrate_scripts; insert migrations "
                                "into it, or give a folder");
        rc = err->code;
    }
    return rc;
}

/*
 * NEW.version is a version: [vV] digits, then runs of digits each after one of . _ -; the
 * grammar of mig_version_valid, in GLOB (the same rule is a regular expression on PostgreSQL).
 */
#define SCRIPTS_VERSION_VALID                                                                      \
    "NEW.version IS NOT NULL AND (NEW.version GLOB '[0-9]*' OR NEW.version GLOB '[vV][0-9]*') "    \
    "AND NOT substr(NEW.version, 2) GLOB '*[^0-9._-]*' AND NOT NEW.version GLOB '*[._-]' "         \
    "AND NOT NEW.version GLOB '*[._-][._-]*'"
#define SCRIPTS_VERSION_MESSAGE                                                                    \
    "migrate_scripts: version is not a version (expected digits joined by ''.'', ''_'' or ''-'', " \
    "such as 20240101 or 2.15.0)"
#define SCRIPTS_VERSION_TRIGGERS                                                                   \
    "CREATE TRIGGER IF NOT EXISTS \"main\".\"migrate_scripts_version\"\n"                          \
    "BEFORE INSERT ON \"migrate_scripts\" WHEN NOT (" SCRIPTS_VERSION_VALID ")\n"                  \
    "BEGIN SELECT RAISE(ABORT, '" SCRIPTS_VERSION_MESSAGE "'); END;\n"                             \
    "CREATE TRIGGER IF NOT EXISTS \"main\".\"migrate_scripts_version_update\"\n"                   \
    "BEFORE UPDATE OF version ON \"migrate_scripts\" WHEN NOT (" SCRIPTS_VERSION_VALID ")\n"       \
    "BEGIN SELECT RAISE(ABORT, '" SCRIPTS_VERSION_MESSAGE "'); END;"

/* Create the tables migrate keeps, as migrate_init() does. */
int sqlite_engine_init_tables(sqlite3 *db, mig_error *err)
{
    return exec_simple(
        db,
        "CREATE TABLE IF NOT EXISTS " HISTORY_TABLE " " SQLITE_HISTORY_COLUMNS ";\n"
        "CREATE TABLE IF NOT EXISTS " SCRIPTS_TABLE " " SQLITE_SCRIPTS_COLUMNS ";\n"
        /* the same row again is a no-op; the same version with other content is refused */
        "CREATE TRIGGER IF NOT EXISTS \"main\".\"migrate_scripts_unchanged\"\n"
        "BEFORE INSERT ON \"migrate_scripts\"\n"
        "WHEN EXISTS (SELECT 1 FROM \"main\".\"migrate_scripts\" WHERE version = NEW.version)\n"
        "BEGIN\n"
        "  SELECT CASE WHEN (SELECT name IS NEW.name AND up_sql IS NEW.up_sql AND down_sql IS "
        "NEW.down_sql FROM \"main\".\"migrate_scripts\" WHERE version = NEW.version)\n"
        "    THEN RAISE(IGNORE)\n"
        "    ELSE RAISE(ABORT, 'migrate_scripts: this version already exists with other content')\n"
        "  END;\n"
        "END;\n"
        /* a version must be one (common/mig_version.c), or every later call fails on the row */
        SCRIPTS_VERSION_TRIGGERS,
        err);
}

/*
 * A database set up by 0.1.0 has migrate_scripts without the version triggers: the first call
 * that changes the database adds them, inside its own transaction (what else 0.2.0 keeps is
 * the same as 0.1.0's).
 */
static int add_missing_triggers(sqlite_engine *se, mig_error *err)
{
    bool scripts = false, triggers = false;
    int rc = table_exists(se->db, "migrate_scripts", &scripts, err);
    if (rc != MIG_OK || !scripts)
        return rc;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(se->db,
                           "SELECT 1 FROM \"main\".sqlite_schema WHERE type = 'trigger' AND "
                           "name = 'migrate_scripts_version_update'",
                           -1, &st, NULL) != SQLITE_OK)
        return sqlite_engine_error(se->db, err);
    int step = sqlite3_step(st);
    triggers = step == SQLITE_ROW;
    sqlite3_finalize(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return sqlite_engine_error(se->db, err);
    return triggers ? MIG_OK : exec_simple(se->db, SCRIPTS_VERSION_TRIGGERS, err);
}

/* Run one statement with text parameters named $1..$n, handing each row to fn. */
static int engine_query(void *h, const char *sql, int nparams, const char *const *params,
                        mig_row_fn fn, void *ctx, mig_error *err)
{
    sqlite_engine *se = h;
    sqlite3_stmt *st;
    if (sqlite_engine_guard(se->db, err) != MIG_OK)
        return err->code;
    if (sqlite3_prepare_v2(se->db, sql, -1, &st, NULL) != SQLITE_OK)
        return sqlite_engine_error(se->db, err);
    for (int i = 0; i < nparams; i++) {
        char name[16];
        snprintf(name, sizeof name, "$%d", i + 1);
        int idx = sqlite3_bind_parameter_index(st, name);
        if (idx > 0)
            sqlite3_bind_text(st, idx, params[i], -1, SQLITE_STATIC);
    }
    int rc, result = MIG_OK;
    int ncols = sqlite3_column_count(st);
    const char **values = ncols ? mig_calloc((size_t)ncols, sizeof *values) : NULL;
    if (ncols && !values) {
        sqlite3_finalize(st);
        return mig_fail_nomem(err);
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int i = 0; i < ncols; i++)
            values[i] = (const char *)sqlite3_column_text(st, i);
        if (fn && (result = fn(ctx, ncols, values)) != MIG_OK)
            break;
    }
    if (result == MIG_OK && rc != SQLITE_DONE)
        result = sqlite_engine_error(se->db, err);
    mig_free(values);
    sqlite3_finalize(st);
    return result;
}

/* Put foreign key enforcement back as the connection had it. */
static void restore_foreign_keys(sqlite_engine *se)
{
    if (se->fk_restore) {
        int fk;
        sqlite3_db_config(se->db, SQLITE_DBCONFIG_ENABLE_FKEY, 1, &fk);
        se->fk_restore = 0;
    }
}

/* Finalize the prepared undo statements. */
static void forget_undo(sqlite_engine *se)
{
    for (int i = 0; i < 2; i++) {
        sqlite3_finalize(se->undo[i]);
        se->undo[i] = NULL;
    }
}

/*
 * Prepare what undoes the savepoint name: ROLLBACK when this call begins the transaction,
 * ROLLBACK TO and RELEASE inside the caller's. Preparing allocates; running them later does not
 * need to, so a call that fails for want of memory can still undo its work.
 */
static int prepare_undo(sqlite_engine *se, const char *name, bool whole, mig_error *err)
{
    forget_undo(se);
    char *to = whole ? NULL : sqlite3_mprintf("ROLLBACK TO \"%w\"", name);
    char *release = whole ? NULL : sqlite3_mprintf("RELEASE \"%w\"", name);
    int rc = MIG_OK;
    if (!whole && (!to || !release))
        rc = mig_fail_nomem(err);
    else if (sqlite3_prepare_v2(se->db, whole ? "ROLLBACK" : to, -1, &se->undo[0], NULL) !=
                 SQLITE_OK ||
             (!whole && sqlite3_prepare_v2(se->db, release, -1, &se->undo[1], NULL) != SQLITE_OK))
        rc = sqlite_engine_error(se->db, err);
    sqlite3_free(to);
    sqlite3_free(release);
    if (rc != MIG_OK)
        forget_undo(se);
    return rc;
}

static void engine_rollback(void *h, const char *name);

/* Open the call's savepoint; outside a transaction, BEGIN IMMEDIATE first so the lock is ours. */
static int engine_savepoint(void *h, const char *name, mig_error *err)
{
    sqlite_engine *se = h;
    bool whole = sqlite3_get_autocommit(se->db);
    if (prepare_undo(se, name, whole, err) != MIG_OK)
        return err->code;
    if (whole) {
        int fk = 0;
        sqlite3_db_config(se->db, SQLITE_DBCONFIG_ENABLE_FKEY, -1, &fk);
        /* the pragma is a no-op inside a transaction, so it must be switched now */
        if (fk) {
            sqlite3_db_config(se->db, SQLITE_DBCONFIG_ENABLE_FKEY, 0, &fk);
            se->fk_restore = 1;
        }
        if (exec_simple(se->db, "BEGIN IMMEDIATE", err) != MIG_OK) {
            if (se->fk_restore)
                sqlite3_db_config(se->db, SQLITE_DBCONFIG_ENABLE_FKEY, 1, &fk);
            se->fk_restore = 0;
            forget_undo(se);
            return err->code;
        }
        se->began = 1;
    }
    char *sql = sqlite3_mprintf("SAVEPOINT \"%w\"", name);
    int rc = sql ? exec_simple(se->db, sql, err) : mig_fail_nomem(err);
    sqlite3_free(sql);
    /* from here on, the connection in autocommit means SQLite ended the transaction itself */
    if (rc == MIG_OK)
        se->in_txn = !sqlite3_get_autocommit(se->db);
    /*
     * The transaction this call began goes too; when the ROLLBACK fails (SQLite out of memory
     * until the calling statement ends), the transaction stays open, and the guard of
     * engine_rollback keeps its COMMIT from passing for a transaction the caller never began.
     */
    if (rc != MIG_OK && se->began)
        engine_rollback(se, name);
    else if (rc != MIG_OK)
        forget_undo(se);
    return rc;
}

/*
 * When a call could not undo its work, the connection's next COMMIT must not keep it. Once an
 * allocation of SQLite fails inside the call, the connection stays out of memory until the
 * calling statement ends, so every statement fails, the call's ROLLBACK too, and the
 * transaction is left open holding half a migration. Until that transaction ends, a commit hook
 * turns its COMMIT into a ROLLBACK (the COMMIT fails with SQLITE_CONSTRAINT_COMMITHOOK); a
 * ROLLBACK, or closing the connection, ends it. Both hooks then take themselves away. Neither
 * allocates. The connection's own hooks, when the application had set any, are replaced:
 * SQLite cannot give their functions back.
 */
static int refuse_commit(void *db)
{
    sqlite3_commit_hook(db, NULL, NULL);
    sqlite3_rollback_hook(db, NULL, NULL);
    return 1;
}

/* The rollback hook of the guard above: the transaction ended, the guard goes. */
static void guard_ended(void *db)
{
    sqlite3_commit_hook(db, NULL, NULL);
    sqlite3_rollback_hook(db, NULL, NULL);
}

/* Undo everything since the savepoint, and the transaction when the savepoint began it. */
static void engine_rollback(void *h, const char *name)
{
    sqlite_engine *se = h;
    bool undone = true;
    if (se->undo[0]) { /* prepared when the savepoint opened */
        if (!sqlite3_get_autocommit(se->db))
            for (int i = 0; i < 2 && se->undo[i]; i++)
                undone = sqlite3_step(se->undo[i]) == SQLITE_DONE && undone;
        se->began = 0;
    } else if (se->began) {
        if (!sqlite3_get_autocommit(se->db))
            exec_simple(se->db, "ROLLBACK", NULL);
        se->began = 0;
    } else if (!sqlite3_get_autocommit(se->db)) {
        char *sql = sqlite3_mprintf("ROLLBACK TO \"%w\"; RELEASE \"%w\"", name, name);
        if (sql)
            exec_simple(se->db, sql, NULL);
        sqlite3_free(sql);
    }
    if (!undone && !sqlite3_get_autocommit(se->db)) {
        sqlite3_commit_hook(se->db, refuse_commit, se->db);
        sqlite3_rollback_hook(se->db, guard_ended, se->db);
        se->left_open = 1;
    }
    forget_undo(se);
    restore_foreign_keys(se);
    se->in_txn = 0;
}

/* Keep the call's work: release the savepoint and commit what savepoint() began. */
static int engine_release(void *h, const char *name, mig_error *err)
{
    sqlite_engine *se = h;
    char *sql = sqlite3_mprintf("RELEASE \"%w\"", name);
    int rc = sql ? exec_simple(se->db, sql, err) : mig_fail_nomem(err);
    sqlite3_free(sql);
    if (rc == MIG_OK && se->began)
        rc = exec_simple(se->db, "COMMIT", err);
    if (rc != MIG_OK) {
        engine_rollback(h, name);
        return rc;
    }
    se->began = 0;
    se->in_txn = 0;
    forget_undo(se);
    restore_foreign_keys(se);
    return MIG_OK;
}

/* Hold the write lock: BEGIN IMMEDIATE has it; in a caller's transaction, write to take it. */
static int engine_lock(void *h, mig_error *err)
{
    sqlite_engine *se = h;
    if (sqlite3_txn_state(se->db, "main") == SQLITE_TXN_WRITE)
        return MIG_OK;
    bool exists;
    int rc = engine_history_prepare(h, true, &exists, err);
    if (rc == MIG_OK && sqlite3_txn_state(se->db, "main") != SQLITE_TXN_WRITE)
        rc = exec_simple(se->db, "UPDATE " HISTORY_TABLE " SET id = id WHERE 0", err);
    return rc;
}

/* One foreign key violation as text, for comparing before and after. */
static char *describe_violation(sqlite3_stmt *st)
{
    return mig_printf("table %s row %s references a missing row of %s (foreign key %d)",
                      (const char *)sqlite3_column_text(st, 0),
                      sqlite3_column_type(st, 1) == SQLITE_NULL
                          ? "(without rowid)"
                          : (const char *)sqlite3_column_text(st, 1),
                      (const char *)sqlite3_column_text(st, 2), sqlite3_column_int(st, 3));
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every current foreign key violation of the main database, sorted. */
int sqlite_engine_violations(sqlite_engine *se, char ***out, size_t *count, mig_error *err)
{
    sqlite3_stmt *st;
    *out = NULL;
    *count = 0;
    if (sqlite_engine_guard(se->db, err) != MIG_OK)
        return err->code;
    if (sqlite3_prepare_v2(se->db, "PRAGMA main.foreign_key_check", -1, &st, NULL) != SQLITE_OK)
        return sqlite_engine_error(se->db, err);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*count == cap) {
            cap = cap ? cap * 2 : 16;
            char **bigger = mig_realloc(*out, cap * sizeof **out);
            if (!bigger)
                break;
            *out = bigger;
        }
        if (!((*out)[*count] = describe_violation(st)))
            break;
        (*count)++;
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW)
        return mig_fail_nomem(err);
    if (rc != SQLITE_DONE)
        return sqlite_engine_error(se->db, err);
    if (*count)
        qsort(*out, *count, sizeof **out, compare_strings);
    return MIG_OK;
}

/* Free a list of strings, as sqlite_engine_violations returns. */
void sqlite_engine_free_strings(char **list, size_t count)
{
    for (size_t i = 0; i < count; i++)
        mig_free(list[i]);
    mig_free(list);
}

/* With enforcement switched off for the call, remember the violations that already exist. */
static int engine_steps_begin(void *h, mig_error *err)
{
    sqlite_engine *se = h;
    if (!se->fk_restore)
        return MIG_OK;
    sqlite_engine_free_strings(se->fk_known, se->fk_known_count);
    return sqlite_engine_violations(se, &se->fk_known, &se->fk_known_count, err);
}

/* Fail the call when its migrations left foreign key violations that were not there before. */
static int engine_steps_end(void *h, mig_error *err)
{
    sqlite_engine *se = h;
    if (!se->fk_restore)
        return MIG_OK;
    char **now;
    size_t count;
    int rc = sqlite_engine_violations(se, &now, &count, err);
    if (rc != MIG_OK)
        return rc;
    mig_buf b = {0};
    size_t fresh = 0;
    for (size_t i = 0; i < count; i++) {
        if (se->fk_known_count &&
            bsearch(&now[i], se->fk_known, se->fk_known_count, sizeof *now, compare_strings))
            continue;
        if (++fresh <= 10)
            mig_buf_printf(&b, "%s%s", fresh > 1 ? "\n" : "", now[i]);
    }
    sqlite_engine_free_strings(now, count);
    if (!fresh) {
        mig_buf_free(&b);
        return MIG_OK;
    }
    if (fresh > 10)
        mig_buf_printf(&b, "\n... and %zu more", fresh - 10);
    mig_fail(err, MIG_ERR_CONFLICT,
             "the migrations would leave %zu foreign key violation%s; nothing was applied", fresh,
             fresh == 1 ? "" : "s");
    mig_error_set_detail(err, mig_buf_take(&b));
    mig_error_set_hint(err, "run PRAGMA foreign_key_check after applying by hand to see them");
    return err->code;
}

/* The VFS clock, as SQLite's own date functions read it, in ISO-8601 UTC. */
static char *engine_now_utc(void *h)
{
    sqlite_engine *se = h;
    sqlite3_vfs *vfs = NULL;
    sqlite3_int64 ms = 0;
    sqlite3_file_control(se->db, "main", SQLITE_FCNTL_VFS_POINTER, &vfs);
    if (!vfs)
        vfs = sqlite3_vfs_find(NULL);
    if (vfs && vfs->iVersion >= 2 && vfs->xCurrentTimeInt64) {
        vfs->xCurrentTimeInt64(vfs, &ms);
        ms -= 210866760000000LL; /* Julian day milliseconds to Unix milliseconds */
    } else {
        ms = (sqlite3_int64)time(NULL) * 1000;
    }
    return mig_history_timestamp(ms);
}

/* SQLite has no users: the operating system account running the process applies. */
static char *os_user(void)
{
    struct passwd pw, *found = NULL;
    char buf[1024];
    if (getpwuid_r(geteuid(), &pw, buf, sizeof buf, &found) == 0 && found)
        return mig_strdup(found->pw_name);
    const char *user = getenv("USER");
    return user ? mig_strdup(user) : mig_printf("uid %ld", (long)geteuid());
}

/* engine.current_user */
static char *engine_current_user(void *h)
{
    sqlite_engine *se = h;
    return se->user ? mig_strdup(se->user) : os_user();
}

/* engine.record: the history INSERT, run as any other query of the core's. */
static int engine_record(void *h, const char *sql, int nparams, const char *const *params,
                         mig_error *err)
{
    return engine_query(h, sql, nparams, params, NULL, NULL, err);
}

/* hooks.progress: a line on stderr when the connection asked for them. */
static void engine_progress(void *h, const char *message)
{
    const sqlite_engine *se = h;
    if (se->progress)
        write_progress(message);
}

/* The hooks: the script policy, the quoting rules and the foreign key check around the steps. */
static const mig_engine_hooks sqlite_hooks = {
    .scripts_prepare = engine_scripts_prepare,
    .unclosed = engine_unclosed,
    .check_script = engine_check_script,
    .check_leftovers = NULL,
    .steps_begin = engine_steps_begin,
    .steps_end = engine_steps_end,
    .progress = engine_progress,
};

/* No-transaction migrations: run from inside the call, statement by statement. */
static const mig_engine_notx sqlite_notx = {
    .caller_in_transaction = engine_caller_in_transaction,
    .exec_autocommit = engine_exec_autocommit,
    .split_statements = engine_split_statements,
};

/* Bind the interface to db. */
void sqlite_engine_init(sqlite_engine *se, sqlite3 *db, mig_engine *eng)
{
    memset(se, 0, sizeof *se);
    se->db = db;
    *eng = (mig_engine){
        .handle = se,
        .alloc = &sqlite_allocator,
        .history_table = HISTORY_TABLE,
        .scripts_table = SCRIPTS_TABLE,
        .exec_script = engine_exec_script,
        .query = engine_query,
        .savepoint = engine_savepoint,
        .release = engine_release,
        .rollback = engine_rollback,
        .lock = engine_lock,
        .now_utc = engine_now_utc,
        .current_user = engine_current_user,
        .history_prepare = engine_history_prepare,
        .record = engine_record,
        .hooks = &sqlite_hooks,
        .unique = &sqlite_unique,
        .columns = &sqlite_columns,
        .notx = &sqlite_notx,
        .export = &se->export,
        .rehearse = &sqlite_rehearse,
        .drift = &se->drift,
    };
    se->drift = sqlite_drift;
    se->enclosing = bound;
    bound = se;
    se->outer = mig_engine_enter(eng);
    se->user = os_user();
    se->user_literal = se->user ? engine_literal(se, se->user) : NULL;
    se->export = (mig_engine_export){
        .split_statements = engine_split_statements,
        .literal = engine_literal,
        .check_export = engine_check_export,
        .script_record = NULL,
        .dialect =
            {
                /* the shell stops at the first error, so nothing runs after a failure */
                .prologue = {".bail on",
                             "CREATE TABLE IF NOT EXISTS " HISTORY_TABLE " " SQLITE_HISTORY_COLUMNS
                             ";",
                             NULL},
                .epilogue = {NULL},
                .begin = "BEGIN IMMEDIATE;",
                .commit = "COMMIT;",
                .outside_begin = NULL,
                .outside_end = NULL,
                .guard_fmt = NULL,
                .now_sql = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
                .user_sql = se->user_literal ? se->user_literal : "NULL",
            },
    };
}

/* Release what the engine state holds. */
void sqlite_engine_free(sqlite_engine *se)
{
    mig_free(se->user);
    mig_free(se->user_literal);
    se->user = se->user_literal = NULL;
    sqlite_engine_free_strings(se->fk_known, se->fk_known_count);
    se->fk_known = NULL;
    se->fk_known_count = 0;
    forget_undo(se);
    sqlite_rehearse_free(se);
    mig_engine_leave(se->outer);
    /* engines end in the reverse order of their start; unlink this one wherever it is */
    for (sqlite_engine **p = &bound; *p; p = &(*p)->enclosing)
        if (*p == se) {
            *p = se->enclosing;
            break;
        }
}
