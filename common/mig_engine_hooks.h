/*
 * The hooks: optional work an engine does at fixed points of a call. Any field may be NULL, and
 * so may mig_engine.hooks. The core reaches them only through the functions below
 * (mig_engine.c), which run the core's default in place of a missing hook, so no other file
 * tests these pointers.
 */
#ifndef MIG_ENGINE_HOOKS_H
#define MIG_ENGINE_HOOKS_H

#include "mig_engine.h"

struct mig_engine_hooks {
    /* Check that migrate_scripts can serve as the source; the error says how to create it. */
    int (*scripts_prepare)(void *h, mig_error *err);
    /*
     * What a script ends inside by the engine's quoting rules ("string literal", ...), *at where
     * it starts, or NULL when all is closed. Default: PostgreSQL's (mig_script_unclosed).
     */
    const char *(*unclosed)(void *h, const char *sql, size_t len, size_t *at);
    /*
     * Refuse, before anything runs, a script the engine cannot run here: inside the call's
     * transaction, or (outside) as a no-transaction migration from inside the call.
     */
    int (*check_script)(void *h, const char *sql, size_t len, bool outside, mig_error *err);
    /* Refuse to go on over what a failed no-transaction migration left behind. */
    int (*check_leftovers)(void *h, const char *sql, mig_error *err);
    /*
     * Called before the first and after the last migration of a call that runs any, inside
     * the transaction (SQLite: the foreign key check).
     */
    int (*steps_begin)(void *h, mig_error *err);
    int (*steps_end)(void *h, mig_error *err);
    /* Tell the DBA about progress (PostgreSQL: a NOTICE). Default: nothing. */
    void (*progress)(void *h, const char *message);
};

/* Each hook of e, or the core's default (MIG_OK, nothing to say, PostgreSQL's quoting). */
int mig_engine_scripts_prepare(const mig_engine *e, mig_error *err);
const char *mig_engine_unclosed(const mig_engine *e, const char *sql, size_t len, size_t *at);
int mig_engine_check_script(const mig_engine *e, const char *sql, size_t len, bool outside,
                            mig_error *err);
int mig_engine_check_leftovers(const mig_engine *e, const char *sql, mig_error *err);
int mig_engine_steps_begin(const mig_engine *e, mig_error *err);
int mig_engine_steps_end(const mig_engine *e, mig_error *err);
void mig_engine_progress(const mig_engine *e, const char *message);

#endif
