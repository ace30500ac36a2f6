/*
 * Which calls may start while another call of the extension is running on the same connection:
 * a migration's SQL may call migrate_add_unique, migrate_duplicates, migrate_nulls,
 * migrate_set_not_null, migrate_add_column and migrate_rebuild, nothing else (a
 * migrate_apply from inside migrate_apply would recurse until the stack runs out).
 */
#ifndef MIG_REENTRY_H
#define MIG_REENTRY_H

#include "mig_error.h"

typedef struct mig_reentry {
    const char *running; /* the outermost call now running, or NULL */
    int depth;
} mig_reentry;

/* Start call name, or refuse it (MIG_ERR_STATE) when it may not run inside the one running. */
int mig_reentry_enter(mig_reentry *r, const char *name, mig_error *err);

/* The call that mig_reentry_enter let start has ended. */
void mig_reentry_leave(mig_reentry *r);

#endif
