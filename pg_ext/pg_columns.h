/* The PostgreSQL engine's part of migrate_set_not_null. */
#ifndef PG_COLUMNS_H
#define PG_COLUMNS_H

#include "../common/mig_engine_columns.h"

/* NOT NULL on PostgreSQL: the engine's columns capability (no rebuild: ALTER TABLE does it). */
extern const mig_engine_columns pg_columns;

#endif
