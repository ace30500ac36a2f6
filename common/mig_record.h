/* Operations on the record alone: validate, repair, baseline. None of them runs migration SQL. */
#ifndef MIG_RECORD_H
#define MIG_RECORD_H

#include "mig_run.h"

/* MIG_OK when nothing is modified, missing, out of order, duplicated or failed; else one error
 * listing all. */
int mig_validate(const mig_engine *eng, const mig_source *src, const mig_policy *policy,
                 mig_error *err);

/*
 * Accept the current checksum of modified migrations, forget missing ones and clear failed
 * ones, each with a 'repair' row. *summary (caller frees) says what changed.
 */
int mig_repair(const mig_engine *eng, const mig_source *src, char **summary, mig_error *err);

/* Declare that a database built before migrate is at version: refused once anything is applied. */
int mig_baseline(const mig_engine *eng, const char *version, const char *name, mig_error *err);

#endif
