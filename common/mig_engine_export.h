/*
 * The export capability: what migrate_script needs of an engine to write the pending work as
 * SQL its client (the sqlite3 shell, psql) runs as it is: how to split and quote, what to
 * write around the migrations, and how to record each. An engine without it leaves
 * mig_engine.export NULL; migrate_script then refuses at its entry (mig_export.c).
 */
#ifndef MIG_ENGINE_EXPORT_H
#define MIG_ENGINE_EXPORT_H

#include "mig_engine.h"

/* What migrate_script writes around the migrations: SQL as it is. NULL fields are left out. */
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

struct mig_engine_export {
    /* Split a script into its statements (*out freed by the caller with mig_free). */
    int (*split_statements)(void *h, const char *sql, size_t len, mig_statement **out,
                            size_t *count, mig_error *err);
    /* Quote text as an SQL literal the client reads back unchanged; caller frees. */
    char *(*literal)(void *h, const char *text);
    /*
     * Refuse a statement the client cannot be handed safely (err->offset says where). NULL:
     * the client takes any statement.
     */
    int (*check_export)(void *h, const char *sql, size_t len, const mig_statement *st,
                        mig_error *err);
    /*
     * The statement that records one migration, given its values (version, name, checksum,
     * down_checksum, up_sql, down_sql, script; NULL for SQL NULL) and the guard expression
     * (may be NULL); caller frees. NULL: the core's INSERT into history_table.
     */
    char *(*script_record)(void *h, const char *const values[7], const char *guard);
    mig_script_dialect dialect;
};

/* Whether the engine can write its pending work out as a script. */
static inline bool mig_engine_has_export(const mig_engine *e)
{
    return e->export != NULL;
}

#endif
