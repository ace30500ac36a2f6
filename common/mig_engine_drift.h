/*
 * The drift capability: what migrate_schema, migrate_drift and the fingerprints need of an
 * engine: describing the live schema, and where the fingerprints of the calls that changed it
 * are kept. An engine without it leaves mig_engine.drift NULL: migrate_schema and
 * migrate_drift then refuse at their entry, and the calls that change the schema neither look
 * for drift nor record a fingerprint (each tests mig_engine_has_drift once, where it starts).
 */
#ifndef MIG_ENGINE_DRIFT_H
#define MIG_ENGINE_DRIFT_H

#include "mig_engine.h"

struct mig_engine_drift {
    /* migrate_schema_history, qualified and quoted for this engine */
    const char *table;
    /* Make sure migrate_schema_history exists (create it when create is set); *exists tells. */
    int (*prepare)(void *h, bool create, bool *exists, mig_error *err);
    /*
     * Every user object of the schema, one row each to fn: (kind, name, definition), in any
     * order, migrate's own objects left out. Names are as the engine qualifies them; a definition
     * is text that changes exactly when the object's DDL does (empty when the kind says all).
     */
    int (*describe)(void *h, mig_row_fn fn, void *ctx, mig_error *err);
    /* Tell the DBA that the schema drifted and the call goes on; NULL: the engine's progress. */
    void (*warn)(void *h, const char *message);
    /*
     * For the calls that change a table themselves (migrate_add_unique, the column calls): the
     * drift setting in force, and whether a migration's SQL made the call, in which case the
     * apply around it looks for drift and records the schema instead.
     */
    int mode;
    bool nested;
};

/* Whether the engine can describe its schema and keep fingerprints. */
static inline bool mig_engine_has_drift(const mig_engine *e)
{
    return e->drift != NULL;
}

#endif
