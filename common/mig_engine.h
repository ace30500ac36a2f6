/*
 * The core contract: the one interface through which the core reaches a database engine.
 * Every engine fills every field of mig_engine except the capability pointers at its end.
 *
 * Parameters: query and record take the SQL's parameters as text, $1..$n in order, NULL for
 * SQL NULL; the engine gives each the type its place in the statement calls for (SQLite binds
 * text, PostgreSQL infers the type and converts with its input function). No other convention.
 *
 * Memory: alloc is where the core allocates while it works for this engine (PostgreSQL: the
 * call's memory context). The adapter brackets each call with mig_engine_enter and
 * mig_engine_leave, the one place an allocator is put in force and taken back.
 *
 * Optional capabilities are tables of their own, each in its header; NULL when the engine lacks
 * one. The core checks once, at the entry of the call that needs it (mig_engine_has_unique,
 * ...). The hooks (mig_engine_hooks.h) are optional work at fixed points, with core defaults.
 */
#ifndef MIG_ENGINE_H
#define MIG_ENGINE_H

#include "mig_alloc.h"
#include "mig_error.h"

#include <stdbool.h>
#include <stddef.h>

/* Receives one result row as text (NULL for SQL NULL); returns MIG_OK to go on. */
typedef int (*mig_row_fn)(void *ctx, int ncols, const char *const *values);

/* One statement of a script: where it starts and how long it is. */
typedef struct mig_statement {
    size_t offset;
    size_t len;
} mig_statement;

typedef struct mig_engine_hooks mig_engine_hooks;       /* mig_engine_hooks.h */
typedef struct mig_engine_unique mig_engine_unique;     /* mig_engine_unique.h */
typedef struct mig_engine_notx mig_engine_notx;         /* mig_engine_notx.h */
typedef struct mig_engine_export mig_engine_export;     /* mig_engine_export.h */
typedef struct mig_engine_columns mig_engine_columns;   /* mig_engine_columns.h */
typedef struct mig_engine_rehearse mig_engine_rehearse; /* mig_engine_rehearse.h */
typedef struct mig_engine_drift mig_engine_drift;       /* mig_engine_drift.h */

typedef struct mig_engine {
    void *handle;               /* the engine's state: the h of every hook */
    const mig_allocator *alloc; /* the core's allocator during a call */
    const char *history_table;  /* migrate_history, qualified and quoted */
    const char *scripts_table;  /* migrate_scripts, qualified and quoted: the source by default */
    /* Run a script statement by statement; on failure err->offset says which statement. */
    int (*exec_script)(void *h, const char *sql, size_t len, mig_error *err);
    /* Run one statement with text parameters $1..$n, each row handed to fn (may be NULL). */
    int (*query)(void *h, const char *sql, int nparams, const char *const *params, mig_row_fn fn,
                 void *ctx, mig_error *err);
    /* Open a savepoint, beginning a transaction when none is open. */
    int (*savepoint)(void *h, const char *name, mig_error *err);
    /* Keep what was done since it (committing what savepoint began); on failure, undo it. */
    int (*release)(void *h, const char *name, mig_error *err);
    /* Undo everything since the savepoint and close it. */
    void (*rollback)(void *h, const char *name);
    /* Take the migration lock until the transaction ends, waiting as the engine waits. */
    int (*lock)(void *h, mig_error *err);
    /* Now, UTC, ISO-8601 with milliseconds; and who is applying. Caller frees both. */
    char *(*now_utc)(void *h);
    char *(*current_user)(void *h);
    /* Make sure migrate_history exists (create it when create is set); *exists tells. */
    int (*history_prepare)(void *h, bool create, bool *exists, mig_error *err);
    /* Run the history INSERT (as query, no rows), with the rights that writing history needs. */
    int (*record)(void *h, const char *sql, int nparams, const char *const *params, mig_error *err);

    const mig_engine_hooks *hooks;       /* optional work at fixed points of a call; NULL: none */
    const mig_engine_unique *unique;     /* migrate_add_unique, migrate_duplicates */
    const mig_engine_notx *notx;         /* no-transaction migrations run from a call */
    const mig_engine_export *export;     /* migrate_script */
    const mig_engine_columns *columns;   /* migrate_nulls, migrate_set_not_null, migrate_rebuild */
    const mig_engine_rehearse *rehearse; /* migrate_check */
    const mig_engine_drift *drift;       /* migrate_schema, migrate_drift, fingerprints */
} mig_engine;

/* Put the engine's allocator in force for a call; returns the one to give back on leaving. */
const mig_allocator *mig_engine_enter(const mig_engine *e);
/* Give back the allocator mig_engine_enter replaced (also on the way out of an error). */
void mig_engine_leave(const mig_allocator *outer);

#endif
