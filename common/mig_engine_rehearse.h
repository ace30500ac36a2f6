/*
 * The rehearse capability: what migrate_check needs of an engine to run the pending migrations
 * for real and undo all of it, each migration in a savepoint of its own inside the call's, and
 * to say what each one did that a DBA must know (findings). An engine without it leaves
 * mig_engine.rehearse NULL; migrate_check then refuses at its entry (mig_check.c).
 */
#ifndef MIG_ENGINE_REHEARSE_H
#define MIG_ENGINE_REHEARSE_H

#include "mig_buf.h"
#include "mig_engine.h"

/*
 * A constraint that rows break, as the engine read it from a failure: the core counts the rows
 * of from (read as migrate_t) for which where is true, and shows the identity of the first few.
 */
typedef struct mig_violation {
    const char *kind; /* "NOT NULL", "CHECK", "FOREIGN KEY" (static) */
    char *what;       /* how the finding names it: "public.people (name)" */
    char *from;       /* the table, quoted and qualified */
    char *where;      /* an SQL condition over migrate_t, true for a row that breaks it */
    char **identity;  /* expressions over migrate_t that name a row: migrate_t."id", rowid */
    int nidentity;
} mig_violation;

/* Free what a violation holds. */
void mig_violation_free(mig_violation *v);

struct mig_engine_rehearse {
    /*
     * Settings for the rehearsal only, inside the call's savepoint (PostgreSQL: lock_timeout);
     * NULL: none.
     */
    int (*begin)(void *h, mig_error *err);
    /*
     * One migration's savepoint inside the call's: open it, keep what ran in it, or undo it
     * (after a failure too: the engine's failed state goes with it).
     */
    int (*step_open)(void *h, mig_error *err);
    int (*step_keep)(void *h, mig_error *err);
    void (*step_undo)(void *h);
    /* Run one migration's script as exec_script does; *statements and *rows: what completed. */
    int (*exec)(void *h, const char *sql, size_t len, long *statements, long long *rows,
                mig_error *err);
    /* Look at the schema before a migration runs; *state goes to the calls below. */
    int (*observe_before)(void *h, void **state, mig_error *err);
    /*
     * Inside the migration's savepoint after it ran: append findings (one a line) to out.
     * *count_before: data was dropped, and count_losses must count it in the state before.
     */
    int (*observe_after)(void *h, void *state, mig_buf *out, bool *count_before, mig_error *err);
    /* With the migration undone: count what observe_after found dropped, as findings. */
    int (*count_losses)(void *h, void *state, mig_buf *out, mig_error *err);
    /*
     * With a failed migration undone: say more about its failure. It may rewrite *failure
     * (PostgreSQL: a lock timeout names the relation and the session holding it); when the
     * failure is a UNIQUE's, *table and *columns ("a, b") name them as migrate_duplicates takes
     * them (caller frees both), else they stay NULL. sql is the migration's script.
     */
    int (*explain_failure)(void *h, const char *sql, size_t len, mig_error *failure, char **table,
                           char **columns, mig_error *err);
    /*
     * Whether failure is a NOT NULL, CHECK or FOREIGN KEY constraint that rows break, which
     * constraint_rows can explain; NULL: the engine explains none.
     */
    bool (*is_constraint)(void *h, const mig_error *failure);
    /*
     * Inside a savepoint the core undoes, with the failed migration's statements before the
     * failing one run again: fill out with the constraint failure names and how to find the rows
     * that break it (out->where stays NULL when the engine cannot say). stmt is the script from
     * the failing statement on. It may change the database (the savepoint goes).
     */
    int (*constraint_rows)(void *h, const char *stmt, size_t len, const mig_error *failure,
                           mig_violation *out, mig_error *err);
    void (*observe_free)(void *h, void *state);
    /* A finding for every migration that ran (PostgreSQL: sequences stay advanced), or NULL. */
    const char *note;
};

/* Whether the engine can rehearse migrations. */
static inline bool mig_engine_has_rehearse(const mig_engine *e)
{
    return e->rehearse != NULL;
}

#endif
