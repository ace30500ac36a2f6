/* The runner: what migrate_apply, migrate_plan and migrations_status do, engine-neutral. */
#ifndef MIG_RUN_H
#define MIG_RUN_H

#include "mig_engine.h"
#include "mig_state.h"

/* Everything known at one moment: the folder, the history and where each migration stands. */
typedef struct mig_snapshot {
    mig_set files;
    bool has_files; /* a folder was read (status without one uses history alone) */
    mig_history history;
    mig_status status;
    mig_plan plan;
} mig_snapshot;

/* Read dir (NULL: none) and the history, and compare them; creates nothing. */
int mig_snapshot_load(const mig_engine *eng, const char *dir, mig_snapshot *snap, mig_error *err);
void mig_snapshot_free(mig_snapshot *snap);

/* The steps migrate_apply(dir, target) would run, refusing as it would. */
int mig_plan_load(const mig_engine *eng, const char *dir, const char *target, mig_snapshot *snap,
                  mig_error *err);

/*
 * Apply every pending migration up to target (NULL: all) in one transaction under the
 * migration lock. On error nothing of the call remains and err says which migration, file and
 * line failed and why.
 */
int mig_apply(const mig_engine *eng, const char *dir, const char *target, int *applied,
              mig_error *err);

/* The savepoint a call runs in. */
#define MIG_CALL_SAVEPOINT "migrate_call"

#endif
