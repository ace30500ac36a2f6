/* The PostgreSQL engine's part of migrate_add_unique: catalog lookups and the constraint. */
#ifndef PG_UNIQUE_H
#define PG_UNIQUE_H

#include "../common/mig_engine_unique.h"

/* migrate_add_unique's catalog lookups and constraint on PostgreSQL: the unique capability. */
extern const mig_engine_unique pg_unique;

#endif
