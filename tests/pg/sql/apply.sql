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
-- A target between two versions: 3 is applied, 4 is not.
SELECT migrate_apply(:'dir', '3.5') AS applied;
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
SELECT migrate_apply(NULL);
SELECT migrate_apply('no/such/folder');
SELECT migrate_apply('');
-- (a relative path is read from the server's data directory, where PG_VERSION is a file)
SELECT migrate_apply('PG_VERSION');
SELECT count(*) - :rows_before AS new_history_rows FROM migrate_history;

RESET search_path;
DROP SCHEMA t_apply CASCADE;
TRUNCATE migrate_history;
