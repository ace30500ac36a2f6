/* Registration of the SQLite adapter's SQL functions and table-valued functions. */
#ifndef SQLITE_FUNCTIONS_H
#define SQLITE_FUNCTIONS_H

#include "sqlite3ext.h"

#include "../common/mig_reentry.h"
#include "../common/mig_state.h"

/* Per-connection state shared by every function and table of one load. */
typedef struct migrate_conn {
    mig_policy policy;   /* set with migrate_set() */
    mig_reentry running; /* the call running on this connection, which a migration may re-enter */
    int refs;            /* registrations still holding it */
} migrate_conn;

migrate_conn *migrate_conn_new(void);
/* Take or drop a reference; the last drop frees it (an xDestroy callback). */
void migrate_conn_ref(migrate_conn *conn);
void migrate_conn_unref(void *conn);

int migrate_register_functions(sqlite3 *db, migrate_conn *conn);
int migrate_register_tables(sqlite3 *db, migrate_conn *conn);

#endif
