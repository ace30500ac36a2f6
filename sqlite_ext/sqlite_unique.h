/* The SQLite engine's part of migrate_add_unique: catalog lookups and the index itself. */
#ifndef SQLITE_UNIQUE_H
#define SQLITE_UNIQUE_H

#include "../common/mig_engine_unique.h"

/* migrate_add_unique's catalog lookups and index on SQLite: the engine's unique capability. */
extern const mig_engine_unique sqlite_unique;
/* Allow helper threads for the sorts of one call (engine handle h); end restores the limit. */
int sqlite_unique_threads_begin(void *h);
void sqlite_unique_threads_end(void *h, int previous);

#endif
