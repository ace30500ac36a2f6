/* migrate_script: the pending work written out as SQL statements, one per row. */
#ifndef MIG_EXPORT_H
#define MIG_EXPORT_H

#include "mig_run.h"

typedef struct mig_sql_lines {
    char **lines;
    size_t count, cap;
} mig_sql_lines;

/*
 * Write what migrate_apply(dir, target) would do as statements a shell runs at top level:
 * the engine's prologue, then per migration its statements (inside BEGIN/COMMIT unless it is
 * marked no-transaction) followed by the INSERT recording it, so each is recorded only after
 * its own statements succeeded; then the epilogue. src: the call's source.
 */
int mig_export(const mig_engine *eng, const mig_source *src, const char *target,
               const mig_policy *policy, mig_sql_lines *out, mig_error *err);
void mig_sql_lines_free(mig_sql_lines *lines);

/*
 * migrate_push: the folder dir as INSERT statements into migrate_scripts, for a server that
 * cannot read the folder: each row holds exactly the texts the folder's migration runs, so the
 * server computes the same checksums and states. Standard SQL literals, after a SET of
 * standard_conforming_strings; piped into psql, then migrate_apply(NULL). Refuses a migration
 * whose no-transaction mark lives outside its text (dbmate's "-- migrate:up transaction:false"),
 * which a row could not carry.
 */
int mig_export_push(const char *dir, mig_sql_lines *out, mig_error *err);

#endif
