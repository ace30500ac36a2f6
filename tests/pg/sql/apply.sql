-- migrate_apply: the four naming layouts in one folder, targets, the history it writes,
-- and an idempotent re-run.
\set VERBOSITY default
\getenv fixtures MIGRATE_FIXTURES
\set dir :fixtures '/basic'
SET client_min_messages = warning;
TRUNCATE migrate_history;
CREATE SCHEMA t_apply;
SET search_path = t_apply, public;

-- Pairs (1), dbmate sections (2), goose sections (3), folder-per-migration (4) and Flyway
-- V/U files (5) are read from one folder; README.md and the versionless drafts/ are ignored.
SELECT version, name, state, script, applied_checksum FROM migrations_status(:'dir');

-- A target applies up to and including that version.
SELECT migrate_apply(:'dir', '2') AS applied;
SELECT version, state FROM migrations_status(:'dir');
-- A target that names no migration is refused, naming the versions on each side of it: one
-- digit too few would sort below every migration, and migrate_to would revert them all.
SELECT migrate_apply(:'dir', '3.5') AS applied;
SELECT * FROM migrate_plan(:'dir', '35');
SELECT migrate_to(:'dir', '0.5');
-- A count applies at most that many: 3 is applied, 4 is not.
SELECT migrate_apply(:'dir', NULL, 1) AS applied;
SELECT migrate_apply(:'dir', count => 0) AS applied;
-- A target older than what is applied applies nothing.
SELECT migrate_apply(:'dir', '1') AS applied;
-- No target (or NULL): everything else.
SELECT migrate_apply(:'dir', NULL) AS applied;

-- One history row per migration, in order; checksums are SHA-256 of the up and down scripts
-- as recorded; applied_by is the caller.
SELECT version, name, direction, script, success,
       checksum = encode(sha256(convert_to(up_sql, 'UTF8')), 'hex') AS checksum_of_up_sql,
       down_checksum = encode(sha256(convert_to(down_sql, 'UTF8')), 'hex') AS checksum_of_down_sql,
       applied_by = current_user AS applied_by_caller,
       execution_ms >= 0 AS timed,
       applied_at > now() - interval '1 hour' AS applied_now
  FROM migrate_history ORDER BY id;
-- The sections of single-file migrations are recorded without their markers.
SELECT version, up_sql, down_sql FROM migrate_history WHERE version IN ('2', '3') ORDER BY id;

-- The schema the migrations built, in the schema first on search_path.
SELECT table_name, string_agg(column_name, ', ' ORDER BY ordinal_position) AS columns
  FROM information_schema.columns WHERE table_schema = 't_apply'
 GROUP BY table_name ORDER BY table_name;

-- Every migration applied and unchanged.
SELECT version, state, checksum = applied_checksum AS same_checksum FROM migrations_status(:'dir');

-- A re-run applies nothing and records nothing.
SELECT count(*) AS rows_before FROM migrate_history \gset
SELECT migrate_apply(:'dir') AS applied;
SELECT migrate_apply(:'dir', '5') AS applied;
SELECT count(*) - :rows_before AS new_history_rows FROM migrate_history;

-- Bad arguments are refused with clear errors.
SELECT migrate_apply(:'dir', 'latest');
SELECT migrate_apply(:'dir', '');
-- NULL means migrate_scripts, which is empty here: refused, rather than every applied
-- migration looking missing (and forgotten by a repair).
SELECT migrate_apply(NULL);
SELECT migrate_repair(NULL);
SELECT migrate_apply('');
-- A relative path is read from the server's data directory, and errors say so: PG_VERSION is
-- a file there, and pg_tblspc a folder without migrations.
CREATE FUNCTION pg_temp.error_of(statement text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE statement;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN replace(SQLERRM, current_setting('data_directory'), '$PGDATA');
END $$;
SELECT pg_temp.error_of($$SELECT migrate_apply('no/such/folder')$$);
SELECT pg_temp.error_of($$SELECT migrate_apply('PG_VERSION')$$);
SELECT pg_temp.error_of($$SELECT migrate_apply('pg_tblspc')$$);
SELECT pg_temp.error_of($$SELECT * FROM migrations_status('pg_tblspc')$$);
SELECT count(*) - :rows_before AS new_history_rows FROM migrate_history;

RESET search_path;
DROP SCHEMA t_apply CASCADE;
TRUNCATE migrate_history;
