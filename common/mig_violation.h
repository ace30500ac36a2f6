/*
 * The rows that break a constraint a rehearsed migration failed on (NOT NULL, CHECK, FOREIGN
 * KEY): how many, and the first few by their identity, shown as migrate_duplicates shows rows.
 */
#ifndef MIG_VIOLATION_H
#define MIG_VIOLATION_H

#include "mig_buf.h"
#include "mig_engine_rehearse.h"

/* Rows of a violation shown in its finding. */
#define MIG_VIOLATION_ROWS_SHOWN 3

/*
 * Count the rows v describes and append one finding line to out: "constraint: NOT NULL
 * public.people (name) is broken by 2 rows: 2, 5 (by id)". A query the engine refuses leaves the
 * finding out and returns its class; the caller decides what to make of it.
 */
int mig_violation_report(const mig_engine *eng, const mig_violation *v, mig_buf *out,
                         mig_error *err);

#endif
