/* What pg_functions.c shares with the other SQL functions built on the runner. */
#ifndef PG_FUNCTIONS_H
#define PG_FUNCTIONS_H

#include "postgres.h"

#include "fmgr.h"

#include "../common/mig_run.h"
#include "../common/mig_source.h"

/*
 * The call's source from argument 0: a folder, read only by those who may read server files
 * (checked here, naming function), or the migrate_scripts table when it is NULL.
 */
mig_source pg_source_arg(FunctionCallInfo fcinfo, const char *function);
/*
 * Run an apply, to or rollback call inside the current transaction, with the settings in force
 * now; returns how many migrations ran. An ERROR undoes it all and propagates.
 */
int pg_run_call(FunctionCallInfo fcinfo, mig_source src, mig_call call);

#endif
