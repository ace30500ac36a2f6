/* Entry point of the SQLite extension: .load ./migrate */
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT1

#include "sqlite_functions.h"

/* migrate_version(): the release of this module, the PostgreSQL extension's version. */
static void migrate_version_func(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    (void)argv;
    sqlite3_result_text(ctx, MIGRATE_RELEASE, -1, SQLITE_STATIC);
}

#ifdef _WIN32
__declspec(dllexport)
#endif
    /* Register every function and table-valued function of migrate on db. */
    int sqlite3_migrate_init(sqlite3 *db, char **errmsg, const sqlite3_api_routines *api)
{
    SQLITE_EXTENSION_INIT2(api);
    if (sqlite3_libversion_number() < 3034000) {
        *errmsg = sqlite3_mprintf("migrate needs SQLite 3.34.0 or newer (this is %s)",
                                  sqlite3_libversion());
        return SQLITE_ERROR;
    }
    migrate_conn *conn = migrate_conn_new();
    if (!conn)
        return SQLITE_NOMEM;
    migrate_conn_ref(conn); /* held while registering, so a failure half-way cannot free it */
    int rc = sqlite3_create_function_v2(db, "migrate_version", 0,
                                        SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
                                        migrate_version_func, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = migrate_register_functions(db, conn);
    if (rc == SQLITE_OK)
        rc = migrate_register_tables(db, conn);
    migrate_conn_unref(conn);
    return rc;
}
