/* The PostgreSQL side of schema drift: describing the database, migrate_schema_history. */
#ifndef PG_SCHEMA_H
#define PG_SCHEMA_H

#include "pg_engine.h"

/*
 * What pg_engine_begin hands the core as mig_engine.drift, for the extension in schema; NULL when
 * the catalog has no migrate_schema_history yet (ALTER EXTENSION migrate UPDATE adds it).
 */
const mig_engine_drift *pg_schema_drift(pg_engine *pe, Oid schema);

#endif
