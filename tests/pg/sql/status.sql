-- migrations_status on PostgreSQL alone: the columns of pending and applied migrations, the
-- migrations_status view, and a failed run recorded by another tool. File drift (modified,
-- missing, out_of_order, several at once) is written once for both engines in
-- tests/cases/drift.sh (run by tests/cases/run_pg.sh).
\set VERBOSITY default
\getenv fixtures MIGRATE_FIXTURES
\set dir :fixtures '/scratch_status'
SET client_min_messages = warning;
TRUNCATE migrate_history;
CREATE SCHEMA t_status;
SET search_path = t_status, public;
\! rm -rf "$MIGRATE_FIXTURES/scratch_status" && cp -R "$MIGRATE_FIXTURES/status" "$MIGRATE_FIXTURES/scratch_status" && chmod -R a+rX "$MIGRATE_FIXTURES/scratch_status"

-- pending
SELECT version, name, state, script, checksum, applied_checksum,
       applied_at IS NULL AS no_applied_at, applied_by IS NULL AS no_applied_by,
       execution_ms IS NULL AS no_execution_ms
  FROM migrations_status(:'dir');
-- applied (10, 20) and pending (30)
SELECT migrate_apply(:'dir', '20') AS applied;
SELECT version, name, state, script, checksum = applied_checksum AS same_checksum,
       applied_at IS NOT NULL AS has_applied_at, applied_by = current_user AS applied_by_caller,
       execution_ms >= 0 AS has_execution_ms
  FROM migrations_status(:'dir');
-- The view and migrations_status() read history alone.
SELECT version, name, state, script, checksum, applied_checksum IS NOT NULL AS has_applied_checksum
  FROM migrations_status;
SELECT version, state FROM migrations_status();

-- Everything restored: 30 applies.
\! rm -rf "$MIGRATE_FIXTURES/scratch_status" && cp -R "$MIGRATE_FIXTURES/status" "$MIGRATE_FIXTURES/scratch_status" && chmod -R a+rX "$MIGRATE_FIXTURES/scratch_status"
SELECT migrate_apply(:'dir') AS applied;
SELECT version, state FROM migrations_status(:'dir');

-- failed: a failed run recorded in history (another tool, or the SQLite side, writes these).
INSERT INTO migrate_history (version, name, direction, checksum, script, applied_at, success)
VALUES ('40', 'd', 'up', 'not-a-checksum', '40_d.sql', now(), false);
\! printf 'CREATE TABLE s_d (id integer);\n' > "$MIGRATE_FIXTURES/scratch_status/40_d.sql" && chmod a+r "$MIGRATE_FIXTURES/scratch_status/40_d.sql"
SELECT version, state FROM migrations_status(:'dir');
SELECT migrate_apply(:'dir');
SELECT to_regclass('s_d') AS s_d;

RESET search_path;
DROP SCHEMA t_status CASCADE;
TRUNCATE migrate_history;
\! rm -rf "$MIGRATE_FIXTURES/scratch_status"
