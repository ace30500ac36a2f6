/* Registration of the SQLite adapter's SQL functions and table-valued functions. */
#ifndef SQLITE_FUNCTIONS_H
#define SQLITE_FUNCTIONS_H

#include "sqlite3ext.h"

int migrate_register_functions(sqlite3 *db);
int migrate_register_tables(sqlite3 *db);

#endif
