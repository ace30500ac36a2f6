/*
 * migrate_check(dir [, target]): a rehearsal of what migrate_apply(dir, target) would run, on
 * the real data, always undone. Each migration runs in a savepoint of its own inside one of the
 * call's; a failure undoes its own savepoint and the next migrations run on top of the state
 * without it; at the end everything is undone, history included.
 */
#ifndef MIG_CHECK_H
#define MIG_CHECK_H

#include "mig_engine.h"
#include "mig_source.h"
#include "mig_state.h"

/* What the rehearsal of one migration came to. */
typedef struct mig_check_row {
    char *version;
    char *name;
    const char *outcome; /* "ok", "fails", "skipped" (static) */
    bool after_failure;  /* it failed after an earlier migration of the call had failed */
    char *error;         /* what migrate_apply would report (context, message, detail), or NULL */
    long statements;     /* statements that completed */
    long long rows_changed;
    long long ms;
    char *findings; /* one finding a line, or NULL */
} mig_check_row;

typedef struct mig_check_report {
    mig_check_row *rows;
    size_t count;
} mig_check_report;

/* The savepoints of a rehearsal: the call's, and each migration's inside it. */
#define MIG_CHECK_SAVEPOINT "migrate_check"

/*
 * Rehearse the migrations migrate_apply(src, target) would run, refusing where it refuses, and
 * undo everything. A refusal returns an error; a migration that fails is a row.
 */
int mig_check(const mig_engine *eng, const mig_source *src, const char *target,
              const mig_policy *policy, mig_check_report *out, mig_error *err);

void mig_check_report_free(mig_check_report *report);

/*
 * The report as text, for a caller without rows (SQLite's scalar migrate_check): a line a
 * migration ("003 teams: fails after_failure (1 statement, 0 rows changed)"), then its error and
 * findings indented; "nothing to rehearse" for an empty plan. Caller frees; NULL: no memory.
 */
char *mig_check_render(const mig_check_report *report);

#endif
