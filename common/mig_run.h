/* The runner: what migrate_apply, migrate_to, migrate_rollback, migrate_plan and
 * migrations_status do, engine-neutral. */
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

/* What one call is asked to do. */
typedef struct mig_call {
    mig_plan_kind kind;
    const char *target; /* APPLY (optional) and TO */
    long steps; /* ROLLBACK: how many to revert; APPLY: at most this many (MIG_STEPS_ALL: all) */
    mig_policy policy;
} mig_call;

/*
 * Read the source (history alone for MIG_SOURCE_NONE) and the history, and compare them;
 * creates nothing.
 */
int mig_snapshot_load(const mig_engine *eng, const mig_source *src, mig_snapshot *snap,
                      mig_error *err);

/*
 * The same, holding no script text: the folder is read once, each up script hashed, and the
 * texts let go (MIG_LOAD_LAZY); for status, which shows checksums and never scripts.
 */
int mig_snapshot_load_checksums(const mig_engine *eng, const mig_source *src, mig_snapshot *snap,
                                mig_error *err);

void mig_snapshot_free(mig_snapshot *snap);

/*
 * In all calls below, src is the call's source (a folder or migrate_scripts) as the adapter
 * decided it. The steps a call would run, refusing as it would: migrate_plan(dir) is an apply's
 * plan, migrate_plan(dir, target) the plan of migrate_to(dir, target).
 */
int mig_plan_load_call(const mig_engine *eng, const mig_source *src, const mig_call *call,
                       mig_snapshot *snap, mig_error *err);

/*
 * The plan of a rehearsal (migrate_check) of call: refused as the call would be, except that
 * no-transaction steps, which a rehearsal skips, are neither refused nor checked.
 */
int mig_plan_load_rehearsal(const mig_engine *eng, const mig_source *src, const mig_call *call,
                            mig_snapshot *snap, mig_error *err);

/*
 * Run a call in one transaction under the migration lock. On error nothing of the call remains
 * and err says which migration, file and line failed and why. *count: migrations run.
 */
int mig_run(const mig_engine *eng, const mig_source *src, const mig_call *call, int *count,
            mig_error *err);

/* Work done inside one call, with the history loaded (and snap->files when it was read). */
typedef int (*mig_call_body)(const mig_engine *eng, mig_snapshot *snap, void *ctx, mig_error *err);

/*
 * Run body in one transaction (a savepoint) under the migration lock, after loading the
 * history (and the source src, unless it is MIG_SOURCE_NONE) into snap; everything body did is
 * undone when it fails.
 */
int mig_in_call(const mig_engine *eng, const mig_source *src, mig_snapshot *snap,
                mig_call_body body, void *ctx, mig_error *err);

/* Refuse a plan over what failed no-transaction migrations left behind (invalid indexes). */
int mig_check_leftovers(const mig_engine *eng, const mig_plan *plan, mig_error *err);

/* True for an up step whose script must run outside any transaction. */
bool mig_step_is_outside(const mig_step *step);

/* Say in err which migration, file and line (or line and column) a failure of step came from. */
void mig_step_locate_error(mig_error *err, const mig_step *step);

/* The savepoint a call runs in. */
#define MIG_CALL_SAVEPOINT "migrate_call"

#endif
