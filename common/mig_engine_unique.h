/*
 * The unique capability: what migrate_add_unique and migrate_duplicates need of an engine to
 * make columns unique in a table that already has data. An engine without it leaves
 * mig_engine.unique NULL; both calls then refuse at their entry (mig_unique.c).
 */
#ifndef MIG_ENGINE_UNIQUE_H
#define MIG_ENGINE_UNIQUE_H

#include "mig_engine.h"

/* The SQLSTATE of a unique violation: unique_create reports one so, and so does the core. */
#define MIG_SQLSTATE_UNIQUE_VIOLATION "23505"

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
 * One foreign key that references a table: the referencing (child) table and, in the key's
 * order, its columns and the columns of the referenced table they point at.
 */
typedef struct mig_fk_ref {
    char *child;           /* plain name of the referencing table, for messages */
    char *qualified;       /* the referencing table, quoted and schema-qualified */
    char **child_columns;  /* quoted */
    char **parent_columns; /* quoted */
    int ncolumns;
} mig_fk_ref;

/*
 * What an existing index of the requested name is; EQUIVALENT: there is none of that name, but
 * another index of the table already enforces the same uniqueness.
 */
enum { MIG_INDEX_ABSENT, MIG_INDEX_SAME, MIG_INDEX_DIFFERENT, MIG_INDEX_EQUIVALENT };

/*
 * What a call does with the table it names: reads it (migrate_duplicates), writes the steps that
 * will change it (migrate_add_unique_script: whoever runs them must own it, and the call itself
 * only reads), or changes it (migrate_add_unique).
 */
typedef enum mig_table_access {
    MIG_TABLE_READ,
    MIG_TABLE_STEPS,
    MIG_TABLE_CHANGE
} mig_table_access;

struct mig_engine_unique {
    /*
     * Resolve the table (an error names a missing table or column) and, where the engine has
     * locks and privileges, lock it until the end of the transaction for what the call does
     * (a change: against the whole schema change, else reading) and check that the caller may
     * do it (the steps of a change, or the change: its owner; reading: SELECT).
     */
    int (*table_describe)(void *h, const char *table, mig_table_access access,
                          const char *const *columns, int ncolumns, mig_table_desc *out,
                          mig_error *err);
    /*
     * The quarantine table t->quarantine as it stands: *exists false when there is none; else
     * *why (static text) says why it may not be written into (another owner, triggers, rules,
     * policies), or is NULL, and *columns (plain names, caller frees with
     * mig_unique_columns_free) lists its columns. An existing table stays locked against
     * changes until the end of the transaction.
     */
    int (*quarantine_state)(void *h, const mig_table_desc *t, bool *exists, const char **why,
                            char ***columns, int *ncolumns, mig_error *err);
    /*
     * In index_state and unique_create, columns are the keys: a plain column name, or where
     * exprs[i] is true an SQL expression (checked to be one) that the index is built on.
     *
     * Compare an existing index of that name: *detail, when DIFFERENT, says how it differs;
     * when EQUIVALENT, names the other index (caller frees).
     */
    int (*index_state)(void *h, const mig_table_desc *t, const char *index,
                       const char *const *columns, const bool *exprs, int ncolumns, int *state,
                       char **detail, mig_error *err);
    /*
     * Make the unique index (and on PostgreSQL the constraint). A violation sets err->sqlstate
     * to MIG_SQLSTATE_UNIQUE_VIOLATION.
     */
    int (*unique_create)(void *h, const mig_table_desc *t, const char *index,
                         const char *const *columns, const bool *exprs, int ncolumns,
                         mig_error *err);
    /*
     * Every foreign key that references t (t's own included), ordered by the referencing
     * table's name (*refs: caller frees with mig_fk_refs_free). Where the engine has locks,
     * each referencing table is locked against writes until the end of the transaction, so
     * that no row can come to reference a row that is about to move; a referencing table
     * whose rows the caller may not all see and change is refused, naming it.
     */
    int (*references)(void *h, const mig_table_desc *t, mig_fk_ref **refs, int *nrefs,
                      mig_error *err);
    /*
     * Create the quarantine t->quarantine: t's columns with their declared types and
     * collations, no constraint, plus migrate_moved_at (of timestamp_type). NULL: the core
     * creates it with CREATE TABLE AS, which keeps both on engines whose columns carry them.
     */
    int (*quarantine_create)(void *h, const mig_table_desc *t, mig_error *err);
    /*
     * The statements that make the columns unique without blocking writes, each to run on its
     * own at top level (psql's \gexec, a migration marked no-transaction), appended to *steps
     * (caller frees with mig_unique_columns_free): check, a statement that repeats this call's
     * checks when it runs, then CREATE UNIQUE INDEX CONCURRENTLY unless the index of that name
     * is there, then where every key is a column the ALTER TABLE that attaches it as the
     * constraint. NULL: the engine has no index build that lets writes go on.
     */
    int (*concurrent_steps)(void *h, const mig_table_desc *t, const char *check, const char *index,
                            const char *const *columns, const bool *exprs, int ncolumns,
                            char ***steps, int *nsteps, mig_error *err);
    /*
     * The statement that calls migrate_add_unique_script(table, columns, index) again, its
     * arguments as SQL literals, with the extension's schema where it has one (caller frees).
     */
    char *(*script_call)(void *h, const char *table, const char *columns, const char *index);
    /* The engine's type for a point in time: quarantine tables record when rows moved. */
    const char *timestamp_type;
};

/* Whether the engine can make columns unique. */
static inline bool mig_engine_has_unique(const mig_engine *e)
{
    return e->unique != NULL;
}

#endif
