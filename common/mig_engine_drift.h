/*
 * The engine capability behind schema drift: describing the live schema, and where the
 * fingerprints of the calls that changed it are kept. An engine without it leaves
 * mig_engine.drift NULL, and drift is then never reported nor recorded.
 */
#ifndef MIG_ENGINE_DRIFT_H
#define MIG_ENGINE_DRIFT_H

#include "mig_engine.h"

typedef struct mig_drift_ops {
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
} mig_drift_ops;

#endif
