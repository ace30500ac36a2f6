/* The SQLite engine's part of migrate_set_not_null and migrate_rebuild. */
#ifndef SQLITE_COLUMNS_H
#define SQLITE_COLUMNS_H

#include "../common/mig_engine_columns.h"

/* NOT NULL and the table rebuild on SQLite: the engine's columns capability. */
extern const mig_engine_columns sqlite_columns;

#endif
