-- migrate: versioned, checksummed schema migrations applied inside the database.
\echo Use "CREATE EXTENSION migrate" to load this file. \quit

-- The append-only record of everything migrate did; the same columns as on SQLite.
CREATE TABLE @extschema@.migrate_history (
    id            bigserial PRIMARY KEY,
    version       text NOT NULL,
    name          text NOT NULL,
    direction     text NOT NULL CHECK (direction IN ('up', 'down', 'baseline', 'repair')),
    checksum      text,
    down_checksum text,
    up_sql        text,
    down_sql      text,
    script        text,
    applied_at    timestamptz NOT NULL,
    applied_by    text,
    execution_ms  bigint NOT NULL DEFAULT 0,
    success       boolean NOT NULL,
    completed_statements integer
);
COMMENT ON TABLE @extschema@.migrate_history IS
    'Append-only record of every migration applied, reverted, baselined or repaired';

-- pg_dump keeps the history: it describes the schema the dump restores.
SELECT pg_catalog.pg_extension_config_dump('@extschema@.migrate_history', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.migrate_history_id_seq', '');
COMMENT ON COLUMN @extschema@.migrate_history.completed_statements IS
    'For a failed no-transaction migration: how many of its statements completed';

-- The schema after each call that changed it through migrate (migrate_drift compares the live
-- schema with the newest row): written by the extension alone, as its owner.
CREATE TABLE @extschema@.migrate_schema_history (
    id          bigserial PRIMARY KEY,
    history_id  bigint,
    operation   text NOT NULL,
    fingerprint text NOT NULL,
    description text NOT NULL,
    recorded_at timestamptz NOT NULL,
    recorded_by text
);
COMMENT ON TABLE @extschema@.migrate_schema_history IS
    'The schema''s description and fingerprint after every call that changed it through migrate';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.migrate_schema_history', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.migrate_schema_history_id_seq', '');
-- Every changing call writes a description of some hundred kB: lz4, where the server was built
-- with it, compresses it several times faster than the default pglz.
DO $$
BEGIN
    IF 'lz4' OPERATOR(pg_catalog.=) ANY ((SELECT s.enumvals FROM pg_catalog.pg_settings s
            WHERE s.name OPERATOR(pg_catalog.=) 'default_toast_compression')::pg_catalog.text[]) THEN
        ALTER TABLE @extschema@.migrate_schema_history ALTER COLUMN description SET COMPRESSION lz4;
    END IF;
END
$$;

-- Migrations kept in the database, for servers where no folder can be put: every function
-- that takes dir reads this table when dir is NULL.
CREATE TABLE @extschema@.migrate_scripts (
    version  text PRIMARY KEY,
    name     text NOT NULL DEFAULT '',
    up_sql   text NOT NULL,
    down_sql text
);
COMMENT ON TABLE @extschema@.migrate_scripts IS
    'Migrations inserted with plain SQL; used by every migrate function given a NULL dir';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.migrate_scripts', '');

-- A version must be a version (the rule of common/mig_version.c), or every later call would fail
-- on the row. The same row inserted again is a no-op; the same version with other content is
-- refused.
CREATE FUNCTION @extschema@.migrate_scripts_unchanged()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    existing @extschema@.migrate_scripts;
BEGIN
    IF NEW.version IS NULL OR NEW.version !~ '^[vV]?[0-9]+([._-][0-9]+)*$' THEN
        RAISE EXCEPTION 'migrate_scripts: version is not a version (expected digits joined by ''.'', ''_'' or ''-'', such as 20240101 or 2.15.0)'
            USING ERRCODE = 'check_violation', DETAIL = format('The version given was %L.', NEW.version);
    END IF;
    IF TG_OP = 'UPDATE' THEN
        RETURN NEW;
    END IF;
    SELECT * INTO existing FROM @extschema@.migrate_scripts s WHERE s.version = NEW.version;
    IF NOT FOUND THEN
        RETURN NEW;
    END IF;
    IF existing.name IS NOT DISTINCT FROM NEW.name AND existing.up_sql IS NOT DISTINCT FROM NEW.up_sql
       AND existing.down_sql IS NOT DISTINCT FROM NEW.down_sql THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'migrate_scripts: version % already exists with other content', NEW.version
        USING ERRCODE = 'unique_violation';
END
$$;
COMMENT ON FUNCTION @extschema@.migrate_scripts_unchanged() IS
    'Trigger of migrate_scripts: refuses a version that is not a version, or that already exists with other content';
CREATE TRIGGER migrate_scripts_unchanged BEFORE INSERT OR UPDATE OF version ON @extschema@.migrate_scripts
    FOR EACH ROW EXECUTE FUNCTION @extschema@.migrate_scripts_unchanged();

-- In migrate_script's output: refuses a migration whose predecessor in the same script was not
-- applied (it failed), or that is already applied, so nothing runs out of turn.
CREATE FUNCTION @extschema@.migrate_script_guard(version text, previous text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    applied boolean;
BEGIN
    IF previous IS NOT NULL THEN
        SELECT h.direction = 'up' INTO applied FROM @extschema@.migrate_history h
         WHERE h.version = previous AND h.success AND h.direction IN ('up', 'down')
         ORDER BY h.id DESC LIMIT 1;
        IF applied IS NOT TRUE THEN
            RAISE EXCEPTION 'migration % does not run: migration % before it in this script was not applied', version, previous
                USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;
    END IF;
    SELECT h.direction = 'up' INTO applied FROM @extschema@.migrate_history h
     WHERE h.version = migrate_script_guard.version AND h.success AND h.direction IN ('up', 'down')
     ORDER BY h.id DESC LIMIT 1;
    IF applied THEN
        RAISE EXCEPTION 'migration % is already applied', version
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.migrate_script_guard(text, text) IS
    'Used by migrate_script output: stops a migration whose predecessor failed or that is already applied';

CREATE FUNCTION @extschema@.migrate_apply(dir text, target text DEFAULT NULL, count integer DEFAULT NULL)
RETURNS integer
AS 'MODULE_PATHNAME', 'migrate_apply'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.migrate_apply(text, text, integer) IS
    'Apply the pending migrations of the folder (up to target, at most count of them) inside the current transaction; returns how many';

CREATE PROCEDURE @extschema@.migrate_apply_batches(dir text, target text DEFAULT NULL, batch_size integer DEFAULT 100)
AS 'MODULE_PATHNAME', 'migrate_apply_batches'
LANGUAGE C;
COMMENT ON PROCEDURE @extschema@.migrate_apply_batches(text, text, integer) IS
    'CALL outside a transaction block: apply the pending migrations (up to target) batch_size at a time, committing each batch, so that a long folder fits the lock table';

CREATE FUNCTION @extschema@.migrate_to(dir text, version text)
RETURNS integer
AS 'MODULE_PATHNAME', 'migrate_to'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.migrate_to(text, text) IS
    'Bring the database to exactly version: apply pending migrations up to it, or revert newer ones, newest first; returns how many ran';

CREATE FUNCTION @extschema@.migrate_rollback(dir text, steps integer DEFAULT 1)
RETURNS integer
AS 'MODULE_PATHNAME', 'migrate_rollback'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.migrate_rollback(text, integer) IS
    'Revert the newest applied migrations (default 1) with their down scripts; returns how many';

CREATE FUNCTION @extschema@.migrate_validate(dir text)
RETURNS text
AS 'MODULE_PATHNAME', 'migrate_validate'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.migrate_validate(text) IS
    'ok, or one error listing every problem: modified, missing, out of order, duplicate versions, failed';

CREATE FUNCTION @extschema@.migrate_repair(dir text)
RETURNS text
AS 'MODULE_PATHNAME', 'migrate_repair'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.migrate_repair(text) IS
    'Accept modified checksums, forget missing migrations, clear failed ones (repair rows); never runs migration SQL';

CREATE FUNCTION @extschema@.migrate_baseline(version text, name text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'migrate_baseline'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.migrate_baseline(text, text) IS
    'Declare that a database built before migrate is at version: migrations up to it count as applied';

CREATE FUNCTION @extschema@.migrate_plan(dir text, target text DEFAULT NULL)
RETURNS TABLE (step integer, direction text, version text, name text, script text)
AS 'MODULE_PATHNAME', 'migrate_plan'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.migrate_plan(text, text) IS
    'The steps migrate_apply(dir) or migrate_to(dir, target) would run, in order, without running them';

CREATE FUNCTION @extschema@.migrate_check(dir text, target text DEFAULT NULL)
RETURNS TABLE (version text, name text, outcome text, after_failure boolean, error text,
               statements integer, rows_changed bigint, ms bigint, findings text)
AS 'MODULE_PATHNAME', 'migrate_check'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.migrate_check(text, text) IS
    'Rehearse the migrations migrate_apply(dir, target) would run on the real data, each in its own savepoint, then roll everything back: one row a migration with its outcome, error and findings (locks, rewrites, data loss)';

CREATE FUNCTION @extschema@.migrate_add_unique(
    "table" text, columns text, index_name text DEFAULT NULL, on_duplicate text DEFAULT 'fail')
RETURNS text
AS 'MODULE_PATHNAME', 'migrate_add_unique'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.migrate_add_unique(text, text, text, text) IS
    'Add a UNIQUE constraint to a table that already has data: reports duplicates (fail) or moves them to <table>_duplicates (keep_first, keep_last; merge first re-points the rows that reference them to the row kept)';

CREATE FUNCTION @extschema@.migrate_duplicates("table" text, columns text)
RETURNS TABLE (key text, count bigint, "rows" text)
AS 'MODULE_PATHNAME', 'migrate_duplicates'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.migrate_duplicates(text, text) IS
    'Each group of rows that a unique index on these columns would reject: the key, how many rows, their identities';

CREATE FUNCTION @extschema@.migrate_set_not_null(
    "table" text, "column" text, fill text DEFAULT NULL, on_null text DEFAULT 'fail')
RETURNS text
AS 'MODULE_PATHNAME', 'migrate_set_not_null'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.migrate_set_not_null(text, text, text, text) IS
    'Make a column of a table that has data NOT NULL: fills NULLs from fill, then reports the rows still NULL (fail) or moves them to <table>_nulls (quarantine); no long scan under ACCESS EXCLUSIVE';

CREATE FUNCTION @extschema@.migrate_add_column(
    "table" text, "column" text, type text, fill text DEFAULT NULL, "default" text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'migrate_add_column'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.migrate_add_column(text, text, text, text, text) IS
    'Add a column NOT NULL from the start to a table that has rows: added nullable, every row given fill''s value (or the default), then made NOT NULL as migrate_set_not_null does; rows still NULL are named and nothing changes';

CREATE FUNCTION @extschema@.migrate_add_unique_script(
    "table" text, columns text, index_name text DEFAULT NULL)
RETURNS TABLE (seq integer, statement text)
AS 'MODULE_PATHNAME', 'migrate_add_unique_script'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.migrate_add_unique_script(text, text, text) IS
    'The steps that add a UNIQUE constraint without blocking writes, for psql''s \gexec or a migration marked no-transaction: a check (duplicates fail here, naming the rows), CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT ... UNIQUE USING INDEX; builds nothing itself';

CREATE FUNCTION @extschema@.migrate_nulls("table" text, "column" text)
RETURNS TABLE (row_identity text, total bigint)
AS 'MODULE_PATHNAME', 'migrate_nulls'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.migrate_nulls(text, text) IS
    'The rows whose column is NULL, which migrate_set_not_null would have to fill or move: each one''s identity and how many there are';

CREATE FUNCTION @extschema@.migrate_script(dir text, target text DEFAULT NULL)
RETURNS TABLE (seq integer, statement text)
AS 'MODULE_PATHNAME', 'migrate_script'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.migrate_script(text, text) IS
    'The pending work as SQL statements in order, for review or for psql: SELECT statement FROM migrate_script(dir) \gexec';

CREATE FUNCTION @extschema@.migrate_init()
RETURNS text
AS 'MODULE_PATHNAME', 'migrate_init'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.migrate_init() IS
    'Creates migrate_history and migrate_scripts; CREATE EXTENSION already did on PostgreSQL (as on SQLite, it returns ok)';

CREATE FUNCTION @extschema@.migrations_status(dir text)
RETURNS TABLE (version text, name text, state text, script text, checksum text,
               applied_checksum text, applied_at timestamptz, applied_by text,
               execution_ms bigint)
AS 'MODULE_PATHNAME', 'migrations_status'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.migrations_status(text) IS
    'Where every migration of the folder stands: applied, pending, modified, missing, out_of_order or failed';

CREATE FUNCTION @extschema@.migrations_status()
RETURNS TABLE (version text, name text, state text, script text, checksum text,
               applied_checksum text, applied_at timestamptz, applied_by text,
               execution_ms bigint)
AS 'MODULE_PATHNAME', 'migrations_status'
LANGUAGE C STABLE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.migrations_status() IS
    'Where every recorded migration stands, from migrate_history alone';

-- DROP EXTENSION would drop the history with it: refused while history records applied
-- migrations, unless migrate.drop_history = 'allow' (the README's Uninstalling section).
CREATE FUNCTION @extschema@.migrate_guard_drop()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'migrate_guard_drop'
LANGUAGE C;
COMMENT ON FUNCTION @extschema@.migrate_guard_drop() IS
    'Event trigger: refuses DROP EXTENSION migrate (or DROP SCHEMA ... CASCADE of its schema) while migrate_history records applied migrations';
CREATE EVENT TRIGGER migrate_guard_drop ON ddl_command_start
    WHEN TAG IN ('DROP EXTENSION', 'DROP SCHEMA')
    EXECUTE FUNCTION @extschema@.migrate_guard_drop();
COMMENT ON EVENT TRIGGER migrate_guard_drop IS
    'Refuses to drop the extension, and with it migrate_history, while history records applied migrations';

CREATE VIEW @extschema@.migrations_status AS
    SELECT * FROM @extschema@.migrations_status();
COMMENT ON VIEW @extschema@.migrations_status IS
    'migrations_status() as a view: SELECT * FROM migrations_status works as on SQLite';

-- The secret behind migrate_script's record tokens (see migrate_record): no role but the
-- extension's owner reads it, and it is never dumped (a restored database makes its own).
CREATE TABLE @extschema@.migrate_key (key text NOT NULL);
INSERT INTO @extschema@.migrate_key
    SELECT pg_catalog.replace(pg_catalog.gen_random_uuid()::text OPERATOR(pg_catalog.||)
                              pg_catalog.gen_random_uuid()::text, '-', '');
REVOKE ALL ON @extschema@.migrate_key FROM PUBLIC;
COMMENT ON TABLE @extschema@.migrate_key IS
    'Secret of the tokens with which migrate_script''s output records migrations; readable by the extension''s owner only';

CREATE FUNCTION @extschema@.migrate_record(version text, name text, checksum text,
    down_checksum text, up_sql text, down_sql text, script text, token text)
RETURNS void
AS 'MODULE_PATHNAME', 'migrate_record'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.migrate_record(text, text, text, text, text, text, text, text) IS
    'Used by migrate_script output: records a migration it ran, when token is the one migrate_script wrote for these values';

-- Grants what a role needs to deploy or to watch: kind 'deploy' or 'monitor'.
CREATE FUNCTION @extschema@.migrate_grant(role name, kind text DEFAULT 'deploy')
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF pg_is_in_recovery() THEN -- the same refusal as every writer of the C module
        RAISE EXCEPTION 'migrate_grant: this server is a standby in recovery; apply on the primary'
            USING ERRCODE = 'read_only_sql_transaction';
    END IF;
    IF role IS NULL OR kind IS NULL OR kind NOT IN ('deploy', 'monitor') THEN
        RAISE EXCEPTION 'migrate_grant: kind must be ''deploy'' or ''monitor'', not %',
            coalesce(quote_literal(kind), 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF '@extschema@' <> 'public' THEN -- PUBLIC may use schema public unless a DBA said otherwise
        EXECUTE format('GRANT USAGE ON SCHEMA %s TO %I', '@extschema@', role);
    END IF;
    EXECUTE format('GRANT SELECT ON @extschema@.migrate_history, @extschema@.migrations_status, '
                   '@extschema@.migrate_scripts, @extschema@.migrate_schema_history TO %I', role);
    EXECUTE format('GRANT EXECUTE ON FUNCTION @extschema@.migrations_status(), '
                   '@extschema@.migrations_status(text), @extschema@.migrate_plan(text, text), '
                   '@extschema@.migrate_validate(text), @extschema@.migrate_duplicates(text, text), '
                   '@extschema@.migrate_nulls(text, text), @extschema@.migrate_schema(), '
                   '@extschema@.migrate_drift() TO %I', role);
    IF kind = 'monitor' THEN
        RETURN format('granted monitor to %I: migrations_status, migrate_plan, migrate_validate, '
                      'migrate_duplicates, migrate_nulls (on tables it may read), migrate_schema, '
                      'migrate_drift and reading migrate_history; '
                      'reading a migrations folder also needs GRANT pg_read_server_files TO %I',
                      role, role);
    END IF;
    EXECUTE format('GRANT INSERT ON @extschema@.migrate_scripts TO %I', role);
    EXECUTE format('GRANT EXECUTE ON FUNCTION @extschema@.migrate_apply(text, text, integer), '
                   '@extschema@.migrate_check(text, text), '
                   '@extschema@.migrate_to(text, text), @extschema@.migrate_rollback(text, integer), '
                   '@extschema@.migrate_script(text, text), '
                   '@extschema@.migrate_script_guard(text, text), '
                   '@extschema@.migrate_record(text, text, text, text, text, text, text, text), '
                   '@extschema@.migrate_add_unique(text, text, text, text), '
                   '@extschema@.migrate_add_unique_script(text, text, text), '
                   '@extschema@.migrate_set_not_null(text, text, text, text), '
                   '@extschema@.migrate_add_column(text, text, text, text, text), '
                   '@extschema@.migrate_init() TO %I',
                   role);
    EXECUTE format('GRANT EXECUTE ON PROCEDURE '
                   '@extschema@.migrate_apply_batches(text, text, integer) TO %I', role);
    RETURN format('granted deploy to %I: applying (migrate_apply_batches too), migrate_check, '
                  'reverting, migrate_script, migrate_add_unique, '
                  'migrate_add_unique_script, migrate_duplicates, '
                  'migrate_set_not_null, migrate_add_column, migrate_nulls, migrate_schema, '
                  'migrate_drift, writing migrate_scripts; reading a migrations folder also '
                  'needs GRANT pg_read_server_files TO %I; migrate_repair and migrate_baseline '
                  'are granted on their own', role, role);
END
$$;
COMMENT ON FUNCTION @extschema@.migrate_grant(name, text) IS
    'Grant a role what it needs to deploy (kind deploy) or to read status (kind monitor); never pg_read_server_files';

-- Takes back everything migrate_grant gave, of either kind.
CREATE FUNCTION @extschema@.migrate_revoke(role name)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF pg_is_in_recovery() THEN -- the same refusal as every writer of the C module
        RAISE EXCEPTION 'migrate_revoke: this server is a standby in recovery; apply on the primary'
            USING ERRCODE = 'read_only_sql_transaction';
    END IF;
    IF role IS NULL THEN
        RAISE EXCEPTION 'migrate_revoke needs a role' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    EXECUTE format('REVOKE SELECT, INSERT ON @extschema@.migrate_history, '
                   '@extschema@.migrations_status, @extschema@.migrate_scripts, '
                   '@extschema@.migrate_schema_history FROM %I', role);
    EXECUTE format('REVOKE EXECUTE ON FUNCTION @extschema@.migrations_status(), '
                   '@extschema@.migrations_status(text), @extschema@.migrate_plan(text, text), '
                   '@extschema@.migrate_validate(text), @extschema@.migrate_apply(text, text, integer), '
                   '@extschema@.migrate_check(text, text), '
                   '@extschema@.migrate_to(text, text), @extschema@.migrate_rollback(text, integer), '
                   '@extschema@.migrate_script(text, text), '
                   '@extschema@.migrate_script_guard(text, text), '
                   '@extschema@.migrate_record(text, text, text, text, text, text, text, text), '
                   '@extschema@.migrate_add_unique(text, text, text, text), '
                   '@extschema@.migrate_add_unique_script(text, text, text), '
                   '@extschema@.migrate_duplicates(text, text), @extschema@.migrate_init(), '
                   '@extschema@.migrate_set_not_null(text, text, text, text), '
                   '@extschema@.migrate_add_column(text, text, text, text, text), '
                   '@extschema@.migrate_nulls(text, text), @extschema@.migrate_schema(), '
                   '@extschema@.migrate_drift() FROM %I',
                   role);
    EXECUTE format('REVOKE EXECUTE ON PROCEDURE '
                   '@extschema@.migrate_apply_batches(text, text, integer) FROM %I', role);
    IF '@extschema@' <> 'public' THEN
        EXECUTE format('REVOKE USAGE ON SCHEMA %s FROM %I', '@extschema@', role);
    END IF;
    RETURN format('revoked deploy and monitor from %I', role);
END
$$;
COMMENT ON FUNCTION @extschema@.migrate_revoke(name) IS
    'Take back what migrate_grant gave a role, of either kind (pg_read_server_files is left as it is)';

CREATE FUNCTION @extschema@.migrate_new(dir text, name text, layout text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'migrate_new'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.migrate_new(text, text, text) IS
    'Create the files of a new migration named with the current UTC time, in the folder''s layout; returns their paths';

CREATE FUNCTION @extschema@.migrate_schema()
RETURNS text
AS 'MODULE_PATHNAME', 'migrate_schema'
LANGUAGE C STABLE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.migrate_schema() IS
    'The canonical description of the schema: one line per object (kind, name, definition), sorted';

CREATE FUNCTION @extschema@.migrate_drift()
RETURNS TABLE (kind text, name text, change text, recorded text, live text)
AS 'MODULE_PATHNAME', 'migrate_drift'
LANGUAGE C STABLE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.migrate_drift() IS
    'The objects added, removed or changed outside migrate since its last call recorded the schema; empty when in sync';

CREATE FUNCTION @extschema@.migrate_help()
RETURNS TABLE (name text, arguments text, returns text, description text, engines text)
AS 'MODULE_PATHNAME', 'migrate_help'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.migrate_help() IS
    'Every function of migrate with its arguments, what it returns and what it does (the same list on SQLite)';

CREATE FUNCTION @extschema@.migrate_version()
RETURNS text
AS 'MODULE_PATHNAME', 'migrate_version'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.migrate_version() IS
    'The release of the loaded migrate module (the same function on SQLite)';

-- Functions that read server files or change the schema are for the roles a DBA grants.
REVOKE ALL ON FUNCTION @extschema@.migrate_apply(text, text, integer) FROM PUBLIC;
REVOKE ALL ON PROCEDURE @extschema@.migrate_apply_batches(text, text, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.migrate_plan(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.migrate_check(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.migrations_status(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.migrate_to(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.migrate_rollback(text, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.migrate_validate(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.migrate_repair(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.migrate_baseline(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.migrate_add_unique(text, text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.migrate_duplicates(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.migrate_add_unique_script(text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.migrate_set_not_null(text, text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.migrate_add_column(text, text, text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.migrate_nulls(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.migrate_script(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.migrate_guard_drop() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.migrate_new(text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.migrate_record(text, text, text, text, text, text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.migrate_grant(name, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.migrate_revoke(name) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.migrate_schema() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.migrate_drift() FROM PUBLIC;
