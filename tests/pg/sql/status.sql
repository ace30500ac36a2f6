-- migrations_status: pending, applied, modified, missing, out_of_order and failed; the refusals
-- those states cause name the files and change nothing; the migrations_status view.
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

-- out_of_order: a new file older than the newest applied migration.
\! printf 'CREATE TABLE s_late (id integer);\n' > "$MIGRATE_FIXTURES/scratch_status/15_late.sql" && chmod a+r "$MIGRATE_FIXTURES/scratch_status/15_late.sql"
SELECT version, name, state FROM migrations_status(:'dir');
SELECT migrate_apply(:'dir');
SELECT * FROM migrate_plan(:'dir');
-- refused before anything ran: 30 (pending, and not the problem) was not applied either
SELECT count(*) AS history_rows, to_regclass('s_late') AS s_late, to_regclass('s_c') AS s_c
  FROM migrate_history;
\! rm "$MIGRATE_FIXTURES/scratch_status/15_late.sql"

-- modified: an applied file edited afterwards.
\! printf 'CREATE TABLE s_b (id bigint);\n' > "$MIGRATE_FIXTURES/scratch_status/20_b.sql"
SELECT version, state, checksum, applied_checksum FROM migrations_status(:'dir');
SELECT migrate_apply(:'dir');
SELECT * FROM migrate_plan(:'dir');
SELECT count(*) AS history_rows, to_regclass('s_c') AS s_c FROM migrate_history;
-- restoring the file makes it applied again
\! cp "$MIGRATE_FIXTURES/status/20_b.sql" "$MIGRATE_FIXTURES/scratch_status/20_b.sql"
SELECT version, state FROM migrations_status(:'dir');

-- missing: an applied file removed.
\! rm "$MIGRATE_FIXTURES/scratch_status/10_a.sql"
SELECT version, name, state, script, checksum, applied_checksum IS NOT NULL AS has_applied_checksum
  FROM migrations_status(:'dir');
SELECT migrate_apply(:'dir');
SELECT count(*) AS history_rows, to_regclass('s_c') AS s_c FROM migrate_history;
-- history alone does not know the file is gone
SELECT version, state FROM migrations_status;

-- Several problems at once: one error lists them all.
\! printf 'CREATE TABLE s_b (id bigint);\n' > "$MIGRATE_FIXTURES/scratch_status/20_b.sql"
\! printf 'CREATE TABLE s_late (id integer);\n' > "$MIGRATE_FIXTURES/scratch_status/15_late.sql" && chmod a+r "$MIGRATE_FIXTURES/scratch_status/15_late.sql"
SELECT version, state FROM migrations_status(:'dir');
SELECT migrate_apply(:'dir');
SELECT count(*) AS history_rows, to_regclass('s_c') AS s_c, to_regclass('s_late') AS s_late
  FROM migrate_history;

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
