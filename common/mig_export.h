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
 * its own statements succeeded; then the epilogue. dir NULL: migrate_scripts.
 */
int mig_export(const mig_engine *eng, const char *dir, const char *target, const mig_policy *policy,
               mig_sql_lines *out, mig_error *err);
void mig_sql_lines_free(mig_sql_lines *lines);

#endif
