/*
 * The table behind migrate_help(): one row per SQL function (overloads with optional arguments
 * are one row), the same text on both engines.
 */
#include "mig_help.h"

static const mig_help_entry entries[] = {
    {"migrate_apply", "dir [, target [, count]]", "integer",
     "Apply the pending migrations in version order, up to target, at most count of them, in "
     "one transaction; returns how many ran",
     MIG_HELP_BOTH},
    {"migrate_apply_batches", "dir [, target [, batch_size]]", "procedure",
     "CALL it outside a transaction block: apply the pending migrations batch_size (100) at a "
     "time, committing each batch, so that a long folder fits the lock table",
     MIG_HELP_POSTGRESQL},
    {"migrations_status", "[dir]",
     "table (version, name, state, script, checksum, "
     "applied_checksum, applied_at, applied_by, execution_ms)",
     "Where every migration stands: applied, pending, modified, missing, out_of_order or "
     "failed; without dir, from history alone",
     MIG_HELP_BOTH},
    {"migrate_plan", "dir [, target]", "table (step, direction, version, name, script)",
     "The steps migrate_apply would run, in order, without running them", MIG_HELP_BOTH},
    {"migrate_check", "dir [, target]",
     "table (version, name, outcome, after_failure, error, statements, rows_changed, ms, "
     "findings)",
     "Rehearse the migrations migrate_apply would run on the real data, each in its own "
     "savepoint, then roll everything back; what failed and why, and what each would do "
     "(locks, rewrites, rebuilds, data loss)",
     MIG_HELP_BOTH},
    {"migrate_script", "dir [, target]", "table (seq, statement)",
     "The pending work as SQL statements for the shell (sqlite3, psql's \\gexec), each "
     "migration recorded after its own statements",
     MIG_HELP_BOTH},
    {"migrate_to", "dir, version", "integer",
     "Bring the database to exactly version, applying or reverting; '0' reverts everything",
     MIG_HELP_BOTH},
    {"migrate_rollback", "dir [, steps]", "integer",
     "Revert the newest applied migrations (1 by default) with their down scripts", MIG_HELP_BOTH},
    {"migrate_validate", "dir", "text",
     "'ok', or one error listing every problem: modified, missing, out of order, duplicate "
     "versions, failed",
     MIG_HELP_BOTH},
    {"migrate_repair", "dir", "text",
     "Accept modified checksums, forget missing migrations and clear failed ones, each with a "
     "'repair' row",
     MIG_HELP_BOTH},
    {"migrate_baseline", "version [, name]", "text",
     "Declare that a database built before migrate is at version", MIG_HELP_BOTH},
    {"migrate_add_unique", "table, columns [, index_name [, on_duplicate]]", "text",
     "Add a UNIQUE constraint to a table that has data, checking the rows first; on_duplicate "
     "'fail', 'keep_first', 'keep_last' or 'merge' (re-point referencing rows to the row kept)",
     MIG_HELP_BOTH},
    {"migrate_add_unique_script", "table, columns [, index_name]", "table (seq, statement)",
     "The steps that add a UNIQUE constraint without blocking writes, for psql's \\gexec or a "
     "migration marked no-transaction: a check naming any duplicates, CREATE UNIQUE INDEX "
     "CONCURRENTLY, ADD CONSTRAINT ... USING INDEX",
     MIG_HELP_POSTGRESQL},
    {"migrate_duplicates", "table, columns", "table (key, count, rows)",
     "The groups of rows that would break a UNIQUE constraint on columns", MIG_HELP_BOTH},
    {"migrate_nulls", "table, column", "table (row_identity, total)",
     "The rows whose column is NULL, which migrate_set_not_null would fill or move", MIG_HELP_BOTH},
    {"migrate_set_not_null", "table, column [, fill [, on_null]]", "text",
     "Make a column of a table that has data NOT NULL: fill the NULLs, then 'fail' naming the "
     "rows still NULL or 'quarantine' them in <table>_nulls",
     MIG_HELP_BOTH},
    {"migrate_add_column", "table, column, type [, fill [, default]]", "text",
     "Add a column NOT NULL from the start to a table that has rows: added nullable, each row "
     "given fill's value (or the default), then made NOT NULL; rows still NULL are named",
     MIG_HELP_BOTH},
    {"migrate_rebuild", "table, new_definition [, drop_columns]", "text",
     "Rebuild a table from a new CREATE TABLE by SQLite's 12 steps, keeping rows, rowids, "
     "indexes and triggers; no cascade fires, every foreign key is checked",
     MIG_HELP_SQLITE},
    {"migrate_init", "", "text",
     "Create migrate_history and migrate_scripts (PostgreSQL: CREATE EXTENSION did)",
     MIG_HELP_BOTH},
    {"migrate_new", "dir, name [, layout]", "text",
     "Create the files of a new migration named with the current UTC time, in the folder's "
     "layout; returns their paths",
     MIG_HELP_BOTH},
    {"migrate_push", "dir", "table (seq, statement)",
     "The folder as INSERT statements into migrate_scripts, for psql on a client whose server "
     "cannot read the folder",
     MIG_HELP_SQLITE},
    {"migrate_schema", "", "text",
     "The canonical description of the schema: one line per object (kind, name, definition), "
     "sorted",
     MIG_HELP_BOTH},
    {"migrate_drift", "", "table (kind, name, change, recorded, live)",
     "The objects added, removed or changed outside migrate since its last call recorded the "
     "schema; empty when in sync",
     MIG_HELP_BOTH},
    {"migrate_fleet", "dir, databases [, target]",
     "table (path, version_before, version_after, applied, ms, state, error, note)",
     "Apply the folder to every database file the glob pattern databases matches (or that the "
     "table named by 'table:NAME' lists), each on its own connection as migrate_apply would, by "
     "up to one worker per core; a summary row last",
     MIG_HELP_SQLITE},
    {"migrate_fleet_status", "dir, databases",
     "table (path, version, pending, state, problems, error, note)",
     "For every database file the pattern matches (or the table lists): its version, how many "
     "migrations are pending, its problems (schema drift among them); changes nothing",
     MIG_HELP_SQLITE},
    {"migrate_version", "", "text", "The release of the loaded module", MIG_HELP_BOTH},
    {"migrate_help", "", "table (name, arguments, returns, description, engines)",
     "Every function of migrate: its arguments, what it returns, what it does", MIG_HELP_BOTH},
    {"migrate_set", "name [, value]", "text",
     "A setting of this connection (out_of_order, missing, progress, drift, fleet_workers); "
     "PostgreSQL: SET migrate.<name>",
     MIG_HELP_SQLITE},
    {"migrate_grant", "role [, kind]", "text",
     "Grant a role what it needs to deploy (kind 'deploy') or to watch (kind 'monitor')",
     MIG_HELP_POSTGRESQL},
    {"migrate_revoke", "role", "text", "Take back what migrate_grant gave a role",
     MIG_HELP_POSTGRESQL},
    {"migrate_record", "version, name, checksum, down_checksum, up_sql, down_sql, script, token",
     "void", "Used by migrate_script's output: records a migration it ran, checked by its token",
     MIG_HELP_POSTGRESQL},
    {"migrate_script_guard", "version, previous", "void",
     "Used by migrate_script's output: stops a migration whose predecessor was not applied",
     MIG_HELP_POSTGRESQL},
};

/* The functions, in the README's order. */
const mig_help_entry *mig_help_entries(int *count)
{
    *count = (int)(sizeof entries / sizeof *entries);
    return entries;
}

/* The engine names the help lists. */
const char *mig_help_engines_name(mig_help_engines engines)
{
    switch (engines) {
    case MIG_HELP_SQLITE:
        return "sqlite";
    case MIG_HELP_POSTGRESQL:
        return "postgresql";
    case MIG_HELP_BOTH:
        break;
    }
    return "both";
}
