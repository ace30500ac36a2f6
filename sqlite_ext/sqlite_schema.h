/* The SQLite side of schema drift: describing the main database, migrate_schema_history. */
#ifndef SQLITE_SCHEMA_H
#define SQLITE_SCHEMA_H

#include "sqlite3ext.h"

#include "../common/mig_engine_drift.h"

/* What sqlite_engine_init hands the core as mig_engine.drift. */
extern const mig_engine_drift sqlite_drift;

#endif
