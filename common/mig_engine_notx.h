/*
 * The no-transaction capability: running a migration marked no-transaction from inside a call,
 * statement by statement outside any transaction, resuming after the statements a failed run
 * completed. An engine whose calls always run inside a transaction (PostgreSQL functions)
 * leaves mig_engine.notx NULL: the runner refuses such a migration before anything runs, and
 * migrate_script writes it out for a client to run instead.
 */
#ifndef MIG_ENGINE_NOTX_H
#define MIG_ENGINE_NOTX_H

#include "mig_engine.h"

struct mig_engine_notx {
    /* The caller had a transaction open before the call: nothing can run outside one. */
    bool (*caller_in_transaction)(void *h);
    /* Run statements one by one outside any transaction, counting those that completed. */
    int (*exec_autocommit)(void *h, const char *sql, size_t len, int *completed, mig_error *err);
    /* Split a script into its statements (*out freed by the caller with mig_free). */
    int (*split_statements)(void *h, const char *sql, size_t len, mig_statement **out,
                            size_t *count, mig_error *err);
};

/* Whether the engine can run no-transaction migrations from a call. */
static inline bool mig_engine_has_notx(const mig_engine *e)
{
    return e->notx != NULL;
}

#endif
