/* The one interface through which the core reaches a database engine. */
#ifndef MIG_ENGINE_H
#define MIG_ENGINE_H

#include "mig_error.h"

#include <stdbool.h>
#include <stddef.h>

/* What migrate_add_unique needs to know of a table, as the engine resolved it. */
typedef struct mig_table_desc {
    char *name;            /* as the DBA named it, for messages */
    char *schema;          /* plain name of the schema holding it */
    char *table;           /* plain name of the table, as the catalog spells it */
    char *qualified;       /* quoted, schema-qualified: "main"."users", "public"."users" */
    char *quarantine;      /* quoted, qualified name of <table>_duplicates in the same schema */
    char *quarantine_name; /* its plain name, for messages */
    char **identity;       /* quoted expressions that identify a row: rowid, primary key, ctid */
    int nidentity;
    char *referenced_by; /* a table whose foreign key references this one, or NULL */
    char **columns;      /* every column of the table, plain names, in the catalog's order */
    int ncolumns;
    bool own;           /* one of the extension's (or the tool's) own tables */
    unsigned int relid; /* the engine's own id of the table (PostgreSQL: its OID), or 0 */
} mig_table_desc;

/*
 * What an existing index of the requested name is; EQUIVALENT: there is none of that name, but
 * another index of the table already enforces the same uniqueness.
 */
enum { MIG_INDEX_ABSENT, MIG_INDEX_SAME, MIG_INDEX_DIFFERENT, MIG_INDEX_EQUIVALENT };

/* One statement of a script: where it starts and how long it is. */
typedef struct mig_statement {
    size_t offset;
    size_t len;
} mig_statement;

/*
 * What migrate_script writes around the migrations for this engine: SQL a shell or psql runs
 * as it is. NULL fields are left out.
 */
typedef struct mig_script_dialect {
    const char *prologue[3]; /* statements before everything (NULL-terminated) */
    const char *epilogue[2]; /* statements after everything (NULL-terminated) */
    const char *begin;       /* opens a migration's transaction */
    const char *commit;      /* closes it */
    /* around a no-transaction migration (PostgreSQL: let go of the lock, which CREATE INDEX
     * CONCURRENTLY would otherwise wait on through the sessions waiting for it) */
    const char *outside_begin;
    const char *outside_end;
    /* an expression that raises for a migration out of turn: printf(version, previous) literals */
    const char *guard_fmt;
    const char *now_sql;  /* applied_at */
    const char *user_sql; /* applied_by */
} mig_script_dialect;

/* Receives one result row as text (NULL for SQL NULL); returns MIG_OK to go on. */
typedef int (*mig_row_fn)(void *ctx, int ncols, const char *const *values);

/* Describing the schema and keeping its fingerprints: mig_engine_drift.h. */
typedef struct mig_drift_ops mig_drift_ops;

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
    /*
     * Refuse, before anything runs, a script the engine cannot run here: inside the call's
     * transaction, or (outside) as a no-transaction migration from inside the call. May be NULL.
     */
    int (*check_script)(void *h, const char *sql, size_t len, bool outside, mig_error *err);
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
    /*
     * migrate_add_unique. table_describe resolves the table (an error names a missing table
     * or column) and, where the engine has locks and privileges, locks it until the end of the
     * transaction for what the call does (change: the whole schema change, else reading) and
     * checks that the caller may do it; index_state compares an existing index of that name
     * (*detail, when DIFFERENT, says how it differs; when EQUIVALENT, names the other index; caller
     * frees); unique_create makes the unique index (and on PostgreSQL the constraint). A unique
     * violation sets err->sqlstate to "23505".
     */
    int (*table_describe)(void *h, const char *table, bool change, const char *const *columns,
                          int ncolumns, mig_table_desc *out, mig_error *err);
    /*
     * The quarantine table t->quarantine as it stands: *exists false when there is none; else
     * *why (static text) says why it may not be written into (another owner, triggers, rules,
     * policies), or is NULL, and *columns (plain names, caller frees with
     * mig_unique_columns_free) lists its columns. An existing table stays locked against
     * changes until the end of the transaction.
     */
    int (*quarantine_state)(void *h, const mig_table_desc *t, bool *exists, const char **why,
                            char ***columns, int *ncolumns, mig_error *err);
    int (*index_state)(void *h, const mig_table_desc *t, const char *index,
                       const char *const *columns, int ncolumns, int *state, char **detail,
                       mig_error *err);
    int (*unique_create)(void *h, const mig_table_desc *t, const char *index,
                         const char *const *columns, int ncolumns, mig_error *err);
    /* The engine's type for a point in time: quarantine tables record when rows moved. */
    const char *timestamp_type;
    /* migrate_scripts, qualified and quoted: the source used when a call is given no folder. */
    const char *scripts_table;
    /* Check that migrate_scripts exists; the error says how to create it. May be NULL. */
    int (*scripts_prepare)(void *h, mig_error *err);
    /*
     * No-transaction migrations. caller_in_transaction: the caller had a transaction open
     * before the call. exec_autocommit: run statements one by one outside any transaction,
     * counting those that completed. NULL when the engine cannot (PostgreSQL functions).
     */
    bool (*caller_in_transaction)(void *h);
    int (*exec_autocommit)(void *h, const char *sql, size_t len, int *completed, mig_error *err);
    /*
     * What a script ends inside by the engine's quoting rules ("string literal", ...), *at
     * where it starts, or NULL when all is closed. NULL: PostgreSQL's (mig_script.h).
     */
    const char *(*unclosed)(void *h, const char *sql, size_t len, size_t *at);
    /*
     * migrate_script: refuse a statement the engine's client cannot be handed safely (err->offset
     * says where); may be NULL.
     */
    int (*check_export)(void *h, const char *sql, size_t len, const mig_statement *st,
                        mig_error *err);
    /* Split a script into its statements (*out freed by the caller with mig_free). */
    int (*split_statements)(void *h, const char *sql, size_t len, mig_statement **out,
                            size_t *count, mig_error *err);
    /* Refuse to go on over what a failed no-transaction migration left behind; may be NULL. */
    int (*check_leftovers)(void *h, const char *sql, mig_error *err);
    /* migrate_script: quote text as an SQL literal (caller frees), and the frame around it. */
    char *(*literal)(void *h, const char *text);
    mig_script_dialect script;
    /* Tell the DBA about progress (PostgreSQL: NOTICE); may be NULL. */
    void (*progress)(void *h, const char *message);
    /*
     * Run the history INSERT (sql with its parameters, as for query) with the rights of the
     * history's owner, so callers need no privilege to write history themselves; NULL: query.
     */
    int (*record)(void *h, const char *sql, int nparams, const char *const *params, mig_error *err);
    /*
     * migrate_script: the statement that records one migration, given its values (version,
     * name, checksum, down_checksum, up_sql, down_sql, script; NULL for SQL NULL) and the guard
     * expression (may be NULL); caller frees. NULL: an INSERT into history_table.
     */
    char *(*script_record)(void *h, const char *const values[7], const char *guard);
    /* Schema drift (mig_engine_drift.h); NULL when the engine cannot describe its schema. */
    const mig_drift_ops *drift;
} mig_engine;

#endif
