/* The one interface through which the core reaches a database engine. */
#ifndef MIG_ENGINE_H
#define MIG_ENGINE_H

#include "mig_error.h"

#include <stdbool.h>
#include <stddef.h>

/* Receives one result row as text (NULL for SQL NULL); returns MIG_OK to go on. */
typedef int (*mig_row_fn)(void *ctx, int ncols, const char *const *values);

typedef struct mig_engine {
    void *handle;
    /* migrate_history, qualified and quoted for this engine */
    const char *history_table;

    /* Make sure migrate_history exists (create it when create is set); *exists tells. */
    int (*history_prepare)(void *h, bool create, bool *exists, mig_error *err);
    /*
     * Run a script statement by statement. On failure err holds the engine's message (and
     * SQLSTATE) and err->offset the byte offset of the failing statement in sql.
     */
    int (*exec_script)(void *h, const char *sql, size_t len, mig_error *err);
    /* Refuse, before anything runs, a script the engine cannot run here; may be NULL. */
    int (*check_script)(void *h, const char *sql, size_t len, mig_error *err);
    /* Run one statement with text parameters $1..$n whose types the engine infers. */
    int (*query)(void *h, const char *sql, int nparams, const char *const *params, mig_row_fn fn,
                 void *ctx, mig_error *err);
    /* Open a savepoint (starting a transaction when none is open). */
    int (*savepoint)(void *h, const char *name, mig_error *err);
    /*
     * Keep what was done since the savepoint (committing when savepoint began the transaction);
     * when that fails, everything since the savepoint is undone.
     */
    int (*release)(void *h, const char *name, mig_error *err);
    /* Undo everything since the savepoint and close it. */
    void (*rollback)(void *h, const char *name);
    /* Take the migration lock for the rest of the transaction, waiting as the engine waits. */
    int (*lock)(void *h, mig_error *err);
    /*
     * Called before the first and after the last migration of a call that runs any, inside the
     * transaction (SQLite: the foreign key check); may be NULL.
     */
    int (*steps_begin)(void *h, mig_error *err);
    int (*steps_end)(void *h, mig_error *err);
    /* Current time, UTC, ISO-8601 with milliseconds; caller frees with mig_free. */
    char *(*now_utc)(void *h);
    /* Who is applying; caller frees with mig_free. */
    char *(*current_user)(void *h);
    /* Tell the DBA about progress (PostgreSQL: NOTICE); may be NULL. */
    void (*progress)(void *h, const char *message);
} mig_engine;

#endif
