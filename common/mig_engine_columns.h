/*
 * The columns capability: what migrate_nulls, migrate_set_not_null and migrate_rebuild need of
 * an engine to change columns of a table that already has data. The table itself is resolved
 * through the unique capability (mig_engine_unique.h), which both need. An engine without it
 * leaves mig_engine.columns NULL; the calls then refuse at their entry (mig_columns.c).
 */
#ifndef MIG_ENGINE_COLUMNS_H
#define MIG_ENGINE_COLUMNS_H

#include "mig_engine_unique.h"

/* The SQLSTATE of a NULL in a NOT NULL column: the refusal of migrate_set_not_null carries it. */
#define MIG_SQLSTATE_NOT_NULL_VIOLATION "23502"

struct mig_engine_columns {
    /* Whether column of t is declared NOT NULL already (*not_null). */
    int (*column_not_null)(void *h, const mig_table_desc *t, const char *column, bool *not_null,
                           mig_error *err);
    /*
     * Make column of t NOT NULL, inside the call's savepoint; every row holds a value by now.
     * PostgreSQL: a NOT VALID CHECK, validated, then SET NOT NULL; SQLite: ALTER COLUMN where
     * the library has it, else the rebuild below.
     */
    int (*set_not_null)(void *h, const mig_table_desc *t, const char *column, mig_error *err);
    /*
     * Rebuild t from create_sql (SQLite's generalized ALTER TABLE), inside the call's savepoint:
     * may_drop names the columns whose values the caller lets go; *result (caller frees) says
     * what was done. NULL where ALTER TABLE changes a table in place (PostgreSQL).
     */
    int (*rebuild)(void *h, const mig_table_desc *t, const char *create_sql, char *const *may_drop,
                   int nmay_drop, char **result, mig_error *err);
    /*
     * set_not_null refuses a NULL by itself, in one scan, and may run in a nested savepoint
     * that is undone when it does: migrate_set_not_null with nothing to fill then tries it
     * before counting NULLs, so clean data is read once (PostgreSQL). False where the change
     * is a rebuild, which costs far more than the count it would save (SQLite).
     */
    bool set_not_null_scans;
};

/* Whether the engine can change columns of a table with data. */
static inline bool mig_engine_has_columns(const mig_engine *e)
{
    return e->columns != NULL && e->unique != NULL;
}

#endif
