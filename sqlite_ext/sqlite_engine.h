/* The core's engine interface implemented over one SQLite connection. */
#ifndef SQLITE_ENGINE_H
#define SQLITE_ENGINE_H

#include "sqlite3ext.h"

#include "../common/mig_catalog.h"
#include "../common/mig_engine.h"
#include "../common/mig_engine_drift.h"
#include "../common/mig_engine_export.h"
#include "../common/mig_engine_rehearse.h"

typedef struct sqlite_engine {
    sqlite3 *db;
    int began;     /* savepoint() opened the transaction with BEGIN IMMEDIATE */
    int left_open; /* the call's work could not be undone: its COMMIT is refused (rollback) */
    int in_txn;    /* the call's savepoint is open: the connection must stay in a transaction */
    int lost;      /* SQLite rolled that transaction back by itself: every statement is refused */
    char lost_after[160]; /* the error after which it did (no allocation when memory ran out) */
    int fk_restore;       /* foreign keys were on and are switched off for the call */
    char **fk_known;      /* violations present before the migrations ran, sorted */
    size_t fk_known_count;
    bool progress;      /* progress lines on stderr (migrate_set('progress', 'on')) */
    char *user;         /* applied_by: looked up once per call */
    char *user_literal; /* the same quoted, for migrate_script's output */
    /*
     * How to undo the open savepoint: ROLLBACK (or ROLLBACK TO and RELEASE), prepared when the
     * savepoint opens, so undoing needs no memory when memory is what ran out.
     */
    sqlite3_stmt *undo[2];
    mig_engine_export export;   /* migrate_script's: its dialect names this call's user */
    mig_engine_drift drift;     /* sqlite_drift, with this call's drift setting and nesting */
    const mig_allocator *outer; /* the allocator in force before the call (mig_engine_enter) */
    struct sqlite_rehearse_cache *rehearse; /* migrate_check's looks at the schema (rehearse.c) */
    struct sqlite_engine *enclosing;        /* the engine bound on this thread before this one */
} sqlite_engine;

/* The core's allocator on SQLite: sqlite3_malloc64 and friends (migrate.c). */
extern const mig_allocator sqlite_allocator;

/* How SQLite spells each kind of column of migrate's own tables (common/mig_catalog.h). */
#define SQLITE_TYPE_ID      "INTEGER PRIMARY KEY"
#define SQLITE_TYPE_TEXT    "TEXT"
#define SQLITE_TYPE_TIME    "TEXT"
#define SQLITE_TYPE_BIGINT  "INTEGER"
#define SQLITE_TYPE_INTEGER "INTEGER"
#define SQLITE_TYPE_BOOLEAN "INTEGER"
/* What a kind needs after its constraints: SQLite has no boolean, so 0 or 1 is checked. */
#define SQLITE_AFTER_ID(name)      ""
#define SQLITE_AFTER_TEXT(name)    ""
#define SQLITE_AFTER_TIME(name)    ""
#define SQLITE_AFTER_BIGINT(name)  ""
#define SQLITE_AFTER_INTEGER(name) ""
#define SQLITE_AFTER_BOOLEAN(name) " CHECK (" #name " IN (0, 1))"
#define SQLITE_COLUMN(name, kind, constraints)                                                     \
    "  " #name " " SQLITE_TYPE_##kind constraints SQLITE_AFTER_##kind(name)

/* The column lists of migrate_history and migrate_scripts, for CREATE TABLE. */
#define SQLITE_HISTORY_COLUMNS "(\n" MIG_HISTORY_COLUMNS(SQLITE_COLUMN, ",\n") "\n)"
#define SQLITE_SCRIPTS_COLUMNS "(\n" MIG_SCRIPTS_COLUMNS(SQLITE_COLUMN, ",\n") "\n)"

/* Create migrate_history and migrate_scripts (with its guard) in main when missing. */
int sqlite_engine_init_tables(sqlite3 *db, mig_error *err);

/* Copy SQLite's current error on db (message and extended code) into err; returns err->code. */
int sqlite_engine_error(sqlite3 *db, mig_error *err);
/* Prepare sql (from sqlite3_mprintf, freed here; NULL is out of memory), or NULL with err set. */
sqlite3_stmt *sqlite_engine_prepare_owned(sqlite3 *db, char *sql, mig_error *err);
/*
 * MIG_OK, or an error when SQLite rolled back the transaction of the call bound to db by itself
 * (after SQLITE_NOMEM, SQLITE_IOERR, SQLITE_FULL, SQLITE_BUSY or SQLITE_INTERRUPT): from then on
 * every statement of the call is refused, since it would run, and commit, in autocommit mode.
 * Every statement of a call goes through it first.
 */
int sqlite_engine_guard(sqlite3 *db, mig_error *err);
/* Run sql (no rows wanted) on db after sqlite_engine_guard; NULL sql is out of memory. */
int sqlite_engine_exec(sqlite3 *db, const char *sql, mig_error *err);

/* Run a migration's script inside the call's transaction; *completed: statements that completed. */
int sqlite_engine_run_script(sqlite_engine *se, const char *sql, size_t len, int *completed,
                             mig_error *err);

/* Every foreign key violation of the main database, as text, sorted; free with the next one. */
int sqlite_engine_violations(sqlite_engine *se, char ***out, size_t *count, mig_error *err);
void sqlite_engine_free_strings(char **list, size_t count);

/* The rehearse capability over a connection (sqlite_rehearse.c). */
extern const mig_engine_rehearse sqlite_rehearse;
/* Release what a migrate_check call kept of the schema (from sqlite_engine_free). */
void sqlite_rehearse_free(sqlite_engine *se);

/*
 * Bind an engine to db for one call, its allocator in force until sqlite_engine_free; state
 * lives in se, which must outlive eng.
 */
void sqlite_engine_init(sqlite_engine *se, sqlite3 *db, mig_engine *eng);
void sqlite_engine_free(sqlite_engine *se);

#endif
