/*
 * The SQLite extension's entry point and the one table of everything it registers.
 *
 * Load it into a connection:
 *
 *     sqlite3 app.db
 *     sqlite> .load ./migrate
 *     sqlite> SELECT migrate_apply('migrations');
 *
 * (or sqlite3_load_extension(db, "./migrate", NULL, &errmsg) from C; the entry point is
 * sqlite3_migrate_init). One load registers, for that connection only:
 *
 *   scalar functions   migrate_apply, migrate_to, migrate_rollback, migrate_validate,
 *                      migrate_repair, migrate_baseline, migrate_add_unique,
 *                      migrate_set_not_null, migrate_add_column, migrate_rebuild,
 *                      migrate_init, migrate_new, migrate_check (its report as text),
 *                      migrate_schema, migrate_set (sqlite_functions.c) and migrate_version
 *                      (here);
 *   table-valued       migrations_status, migrate_plan, migrate_check, migrate_script,
 *                      migrate_duplicates, migrate_nulls, migrate_push, migrate_drift,
 *                      migrate_fleet, migrate_fleet_status and migrate_help
 *                      (sqlite_tables.c).
 *
 * Every one but migrate_version and migrate_help reads files, changes the schema or a setting, or
 * reads the whole schema and history (migrate_schema, migrate_drift), so it is DIRECTONLY: never
 * from a trigger, a view or other schema code. They share one migrate_conn
 * (the connection's settings and the call running on it), which each registration holds a
 * reference to; SQLite drops a registration's reference when it replaces or drops it, or when
 * registering fails. A registration that fails stops the load, and the error names it.
 *
 * migrate_fleet registers the same table on each connection it opens for a database
 * (migrate_register), so a migration run there may call what it may call under migrate_apply.
 */
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT1

#include "sqlite_engine.h"
#include "sqlite_functions.h"

#include "../common/mig_alloc.h"

/*
 * The core allocates through SQLite's allocator, so its memory obeys the same limits and
 * statistics (sqlite3_soft_heap_limit64, sqlite3_memory_used) and a failing allocator fails the
 * core's allocations too. SQLite returns NULL for a zero-byte request: ask for one byte instead.
 */
static void *sqlite_alloc(void *cxt, size_t size)
{
    (void)cxt;
    return sqlite3_malloc64(size ? size : 1);
}

/* Resize through SQLite; zero would free the block, so it is one byte. */
static void *sqlite_resize(void *cxt, void *ptr, size_t size)
{
    (void)cxt;
    return sqlite3_realloc64(ptr, size ? size : 1);
}

/* Release through SQLite. */
static void sqlite_release(void *cxt, void *ptr)
{
    (void)cxt;
    sqlite3_free(ptr);
}

/* The engine's allocator (sqlite_engine.c), in force outside calls too: set at load. */
const mig_allocator sqlite_allocator = {sqlite_alloc, sqlite_resize, sqlite_release, NULL};

/* migrate_version(): the release of this module, the PostgreSQL extension's version. */
static void migrate_version_func(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    (void)argv;
    sqlite3_result_text(ctx, MIGRATE_RELEASE, -1, SQLITE_STATIC);
}

/* One line of the registration table: a scalar function (fn) or a table-valued one (table). */
typedef struct registration {
    const char *name;
    int nargs; /* a scalar function's number of arguments; unused for a table */
    /* SQLITE_DIRECTONLY, or SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS; a table honours DIRECTONLY */
    int flags;
    void (*fn)(sqlite3_context *, int, sqlite3_value **);
    const table_kind *table;
} registration;

/* Everything one load registers, in the order it is registered. */
static const registration registrations[] = {
    {"migrate_version", 0, SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, migrate_version_func, NULL},
    {"migrate_apply", 1, SQLITE_DIRECTONLY, migrate_apply_func, NULL},
    {"migrate_apply", 2, SQLITE_DIRECTONLY, migrate_apply_func, NULL},
    {"migrate_apply", 3, SQLITE_DIRECTONLY, migrate_apply_func, NULL},
    {"migrate_to", 2, SQLITE_DIRECTONLY, migrate_to_func, NULL},
    {"migrate_rollback", 1, SQLITE_DIRECTONLY, migrate_rollback_func, NULL},
    {"migrate_rollback", 2, SQLITE_DIRECTONLY, migrate_rollback_func, NULL},
    {"migrate_validate", 1, SQLITE_DIRECTONLY, migrate_validate_func, NULL},
    {"migrate_repair", 1, SQLITE_DIRECTONLY, migrate_repair_func, NULL},
    {"migrate_baseline", 1, SQLITE_DIRECTONLY, migrate_baseline_func, NULL},
    {"migrate_baseline", 2, SQLITE_DIRECTONLY, migrate_baseline_func, NULL},
    {"migrate_check", 1, SQLITE_DIRECTONLY, migrate_check_func, NULL},
    {"migrate_check", 2, SQLITE_DIRECTONLY, migrate_check_func, NULL},
    {"migrate_set", 1, SQLITE_DIRECTONLY, migrate_set_func, NULL},
    {"migrate_set", 2, SQLITE_DIRECTONLY, migrate_set_func, NULL},
    {"migrate_add_unique", 2, SQLITE_DIRECTONLY, migrate_add_unique_func, NULL},
    {"migrate_add_unique", 3, SQLITE_DIRECTONLY, migrate_add_unique_func, NULL},
    {"migrate_add_unique", 4, SQLITE_DIRECTONLY, migrate_add_unique_func, NULL},
    {"migrate_set_not_null", 2, SQLITE_DIRECTONLY, migrate_set_not_null_func, NULL},
    {"migrate_set_not_null", 3, SQLITE_DIRECTONLY, migrate_set_not_null_func, NULL},
    {"migrate_set_not_null", 4, SQLITE_DIRECTONLY, migrate_set_not_null_func, NULL},
    {"migrate_add_column", 3, SQLITE_DIRECTONLY, migrate_add_column_func, NULL},
    {"migrate_add_column", 4, SQLITE_DIRECTONLY, migrate_add_column_func, NULL},
    {"migrate_add_column", 5, SQLITE_DIRECTONLY, migrate_add_column_func, NULL},
    {"migrate_rebuild", 2, SQLITE_DIRECTONLY, migrate_rebuild_func, NULL},
    {"migrate_rebuild", 3, SQLITE_DIRECTONLY, migrate_rebuild_func, NULL},
    {"migrate_init", 0, SQLITE_DIRECTONLY, migrate_init_func, NULL},
    {"migrate_new", 2, SQLITE_DIRECTONLY, migrate_new_func, NULL},
    {"migrate_new", 3, SQLITE_DIRECTONLY, migrate_new_func, NULL},
    {"migrations_status", 0, SQLITE_DIRECTONLY, NULL, &migrate_status_table},
    {"migrate_plan", 0, SQLITE_DIRECTONLY, NULL, &migrate_plan_table},
    {"migrate_check", 0, SQLITE_DIRECTONLY, NULL, &migrate_check_table},
    {"migrate_script", 0, SQLITE_DIRECTONLY, NULL, &migrate_script_table},
    {"migrate_duplicates", 0, SQLITE_DIRECTONLY, NULL, &migrate_duplicates_table},
    {"migrate_nulls", 0, SQLITE_DIRECTONLY, NULL, &migrate_nulls_table},
    {"migrate_push", 0, SQLITE_DIRECTONLY, NULL, &migrate_push_table},
    {"migrate_fleet", 0, SQLITE_DIRECTONLY, NULL, &migrate_fleet_table},
    {"migrate_fleet_status", 0, SQLITE_DIRECTONLY, NULL, &migrate_fleet_status_table},
    {"migrate_help", 0, SQLITE_INNOCUOUS, NULL, &migrate_help_table},
    /* they only read, but what they read (the whole schema, history) is the DBA's to see */
    {"migrate_schema", 0, SQLITE_DIRECTONLY, migrate_schema_func, NULL},
    {"migrate_drift", 0, SQLITE_DIRECTONLY, NULL, &migrate_drift_table},
};

/* Register one line on db with conn as its state; SQLite drops the reference on failure too. */
static int register_one(sqlite3 *db, const registration *r, migrate_conn *conn)
{
    if (r->table)
        return migrate_create_table_function(db, r->name, r->table, r->flags, conn);
    migrate_conn_ref(conn);
    return sqlite3_create_function_v2(db, r->name, r->nargs, SQLITE_UTF8 | r->flags, conn, r->fn,
                                      NULL, NULL, migrate_conn_unref);
}

/* Register every line of the registration table on db with conn; *errmsg names the one that failed.
 */
int migrate_register(sqlite3 *db, migrate_conn *conn, char **errmsg)
{
    migrate_conn_ref(conn); /* held while registering, so a failure half-way cannot free it */
    int rc = SQLITE_OK;
    for (size_t i = 0; rc == SQLITE_OK && i < sizeof registrations / sizeof *registrations; i++) {
        const registration *r = &registrations[i];
        rc = register_one(db, r, conn);
        if (rc != SQLITE_OK)
            *errmsg = sqlite3_mprintf("Error creating %s %s: %s",
                                      r->table ? "table-valued function" : "function", r->name,
                                      rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(db));
    }
    migrate_conn_unref(conn);
    return rc;
}

#ifdef _WIN32
__declspec(dllexport)
#endif
    /* Load: check the library, set the core's allocator, register everything on db. */
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
    return migrate_register(db, conn, errmsg);
}
