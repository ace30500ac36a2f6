/* Where each migration stands: the folder compared with migrate_history, and the plan. */
#ifndef MIG_STATE_H
#define MIG_STATE_H

#include "mig_history.h"
#include "mig_source.h"

#include <limits.h>

typedef enum mig_state {
    MIG_STATE_APPLIED,
    MIG_STATE_PENDING,
    MIG_STATE_MODIFIED,     /* applied, but the file now has another checksum */
    MIG_STATE_MISSING,      /* applied, but the file is gone */
    MIG_STATE_OUT_OF_ORDER, /* pending, but older than the newest applied migration */
    MIG_STATE_FAILED,       /* its last run failed */
} mig_state;

const char *mig_state_name(mig_state state);

typedef struct mig_status_row {
    const char *version;
    const char *name;
    const char *script;
    mig_state state;
    const char *checksum;         /* the file's; NULL when missing */
    const char *applied_checksum; /* as recorded; NULL when not applied */
    const char *applied_at;
    const char *applied_by;
    long long execution_ms;
    bool has_execution_ms;
    const mig_migration *file;             /* NULL when missing */
    const mig_history_row *record;         /* the row that applied it; NULL when not applied */
    const mig_history_row *scripts_record; /* the row whose stored scripts are in force */
    bool baselined;                        /* counted as applied by a baseline row, never run */
    bool failed;                           /* its last run failed (state may still say modified) */
    const mig_history_row *failed_record;  /* that failed run */
    bool resumable; /* failed no-transaction migration whose file changed since: apply resumes */
} mig_status_row;

typedef struct mig_status {
    mig_status_row *rows; /* ordered by version */
    size_t count;
    const char *newest; /* the newest migration in force (a baseline marker is not one) */
} mig_status;

/* Compare files (NULL: history alone) with history; the rows point into both. */
int mig_status_build(const mig_set *files, const mig_history *hist, mig_status *out,
                     mig_error *err);
void mig_status_free(mig_status *status);

/* What the DBA allows: settings with the same names on both engines. */
typedef struct mig_policy {
    bool allow_out_of_order; /* out_of_order = allow: apply older pending migrations */
    bool ignore_missing;     /* missing = ignore: applied migrations whose file is gone */
    int drift;               /* drift: a mig_drift_mode (mig_drift.h); 0 is warn, the default */
} mig_policy;

/*
 * Refuse to go on when anything is modified, missing, out of order or failed (unless the
 * policy allows it): one error naming every problem; extra (may be NULL) lists further
 * problems, one per line.
 */
int mig_status_check_policy(const mig_status *status, const mig_policy *policy, const char *extra,
                            mig_error *err);

typedef struct mig_step {
    const char *direction; /* "up" or "down" */
    const mig_status_row *row;
    const char *script; /* the file that runs, as shown in plans and errors */
    mig_text text;      /* the SQL to run (set by the runner for down steps), its first line */
    char *owned_text;   /* text fetched from history, freed with the plan */
    bool stored;        /* text is the copy kept in migrate_history (the file is gone) */
} mig_step;

typedef struct mig_plan {
    mig_step *steps;
    size_t count;
} mig_plan;

typedef enum mig_plan_kind {
    MIG_PLAN_APPLY,    /* pending migrations up to target */
    MIG_PLAN_TO,       /* revert what is newer than target, then apply up to it */
    MIG_PLAN_ROLLBACK, /* revert the newest `steps` applied migrations */
} mig_plan_kind;

/* steps of an apply without a count: no limit. */
#define MIG_STEPS_ALL LONG_MAX
/* steps the DBA gave that are not a whole number (an engine without integer arguments). */
#define MIG_STEPS_INVALID LONG_MIN

/*
 * Check the arguments of a call before anything is read, so both engines refuse them alike
 * with one text: target must be a version (TO needs one); steps, ROLLBACK: how many to revert,
 * 0 or more; APPLY: at most this many, 1 or more, or MIG_STEPS_ALL.
 */
int mig_call_args_check(mig_plan_kind kind, const char *target, long steps, mig_error *err);

/*
 * Any kind of plan; policy may be NULL. target (APPLY, TO) must be the version of a migration of
 * the source or of history, or "0". steps: ROLLBACK, how many to revert (a rollback of every
 * migration in force is refused: migrate_to '0' says it); APPLY, at most this many (0 or
 * MIG_STEPS_ALL: all).
 */
int mig_plan_make(const mig_status *status, const mig_policy *policy, mig_plan_kind kind,
                  const char *target, long steps, mig_plan *out, mig_error *err);
void mig_plan_free(mig_plan *plan);

/* Check a target given by the DBA; NULL is fine (everything). */
int mig_target_check(const char *target, mig_error *err);

#endif
