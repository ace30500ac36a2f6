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
