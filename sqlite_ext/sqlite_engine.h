/* The core's engine interface implemented over one SQLite connection. */
#ifndef SQLITE_ENGINE_H
#define SQLITE_ENGINE_H

#include "sqlite3ext.h"

#include "../common/mig_engine.h"

typedef struct sqlite_engine {
    sqlite3 *db;
    int began;       /* savepoint() opened the transaction with BEGIN IMMEDIATE */
    int fk_restore;  /* foreign keys were on and are switched off for the call */
    char **fk_known; /* violations present before the migrations ran, sorted */
    size_t fk_known_count;
} sqlite_engine;

/* Bind an engine to db; state lives in se, which must outlive eng. */
void sqlite_engine_init(sqlite_engine *se, sqlite3 *db, mig_engine *eng);
void sqlite_engine_free(sqlite_engine *se);

#endif
