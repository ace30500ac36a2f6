/* Entry point of the SQLite extension: .load ./migrate */
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT1

#include "sqlite_functions.h"

#include "../common/mig_alloc.h"

/*
 * The core allocates through SQLite's allocator, so its memory obeys the same limits and
 * statistics (sqlite3_soft_heap_limit64, sqlite3_memory_used) and a failing allocator fails the
 * core's allocations too. SQLite returns NULL for a zero-byte request: ask for one byte instead.
 */
static void *sqlite_alloc(size_t size)
{
    return sqlite3_malloc64(size ? size : 1);
}

/* Resize through SQLite; zero would free the block, so it is one byte. */
static void *sqlite_resize(void *ptr, size_t size)
{
    return sqlite3_realloc64(ptr, size ? size : 1);
}

/* Release through SQLite. */
static void sqlite_release(void *ptr)
{
    sqlite3_free(ptr);
}

static const mig_allocator sqlite_allocator = {sqlite_alloc, sqlite_resize, sqlite_release};

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
    mig_set_allocator(&sqlite_allocator);
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
