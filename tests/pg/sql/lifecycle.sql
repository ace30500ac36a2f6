-- The lifecycle after an apply: migrate_rollback, migrate_to, migrate_plan going down,
-- migrate_validate, migrate_repair, migrate_baseline and the migrate.out_of_order /
-- migrate.missing settings. Folders that stand for one folder at two moments (what was
-- applied, what it became) are siblings under tests/pg/migrations/lifecycle_*/.
\set VERBOSITY default
\getenv fixtures MIGRATE_FIXTURES
SET client_min_messages = warning;
TRUNCATE migrate_history;
CREATE SCHEMA t_lifecycle;
SET search_path = t_lifecycle, public;

-- The tables the migrations made, and everything a refused call must leave as it was: every
-- table with its columns, and every history row.
CREATE FUNCTION lc_tables() RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(relname, ', ' ORDER BY relname), '')
      FROM pg_class WHERE relnamespace = 't_lifecycle'::regnamespace AND relkind = 'r'
$$;
CREATE FUNCTION lc_state() RETURNS text LANGUAGE sql AS $$
    SELECT concat_ws(E'\n',
        (SELECT string_agg(c.relname || '(' ||
                    (SELECT string_agg(a.attname, ',' ORDER BY a.attnum) FROM pg_attribute a
                      WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) || ')',
                    ' ' ORDER BY c.relname)
           FROM pg_class c WHERE c.relnamespace = 't_lifecycle'::regnamespace AND c.relkind = 'r'),
        (SELECT string_agg(h::text, E'\n' ORDER BY h.id) FROM migrate_history h))
$$;

-- ============================================================================================
-- Rollback of one (the default), of several, and of more than there is: newest first, each
-- with its own down script; reverted migrations are pending again; history keeps every row.
\set dir :fixtures '/lifecycle_four'
SELECT migrate_apply(:'dir') AS applied;
SELECT migrate_rollback(:'dir') AS reverted, lc_tables();
SELECT migrate_rollback(:'dir', 2) AS reverted, lc_tables();
SELECT version, state, applied_checksum IS NULL AS no_applied_checksum FROM migrations_status(:'dir');
SELECT version, state FROM migrations_status;
-- More steps than are applied would revert everything: refused, nothing changes.
SELECT lc_state() AS before \gset
SELECT migrate_rollback(:'dir', 10) AS reverted, lc_tables();
SELECT lc_state() = :'before' AS unchanged;
SELECT migrate_rollback(:'dir') AS reverted, lc_tables();
SELECT migrate_rollback(:'dir') AS reverted;
SELECT migrate_rollback(:'dir', NULL) AS reverted;
SELECT migrate_rollback(:'dir', 0) AS reverted;
SELECT version, state FROM migrations_status(:'dir');
SELECT count(*) AS in_force FROM migrations_status;
-- Every up and down row stays: the script that ran, the up checksum, the down script.
SELECT id - min(id) OVER () + 1 AS n, version, name, direction, script, success,
       applied_by = current_user AS applied_by_caller
  FROM migrate_history ORDER BY id;
SELECT d.version, d.checksum = u.checksum AS same_checksum,
       d.down_checksum = u.down_checksum AS same_down_checksum,
       d.down_sql = u.down_sql AS same_down_sql,
       d.down_checksum = encode(sha256(convert_to(d.down_sql, 'UTF8')), 'hex') AS checksum_of_down_sql
  FROM migrate_history d JOIN migrate_history u ON u.version = d.version AND u.direction = 'up'
 WHERE d.direction = 'down' ORDER BY d.id;
-- Reverted migrations apply again; reverting all of them takes migrate_to '0'.
SELECT migrate_apply(:'dir') AS applied;
SELECT migrate_to(:'dir', '0') AS reverted, lc_tables();
SELECT count(*) AS history_rows FROM migrate_history;

-- Bad arguments are refused and change nothing.
SELECT migrate_apply(:'dir') AS applied;
SELECT lc_state() AS before \gset
SELECT migrate_rollback(:'dir', -1);
SELECT migrate_rollback('/no/such/folder');
SELECT migrate_to(:'dir', NULL);
SELECT migrate_to(:'dir', 'latest');
SELECT migrate_to(:'dir', '');
SELECT lc_state() = :'before' AS unchanged;
SELECT migrate_to(:'dir', '0') AS reverted;
TRUNCATE migrate_history;

-- ============================================================================================
-- The down file (or the down section) is gone: the down script history kept runs, and the
-- 'down' row records it. ups_only is the folder full became.
\set dir :fixtures '/lifecycle_gone/full'
SELECT migrate_apply(:'dir') AS applied;
\set dir :fixtures '/lifecycle_gone/ups_only'
SELECT version, state FROM migrations_status(:'dir');
SELECT migrate_to(:'dir', '0') AS reverted, lc_tables();
SELECT version, direction, script, down_sql,
       down_checksum = encode(sha256(convert_to(down_sql, 'UTF8')), 'hex') AS checksum_of_down_sql
  FROM migrate_history WHERE direction = 'down' ORDER BY id;
SELECT version, state FROM migrations_status(:'dir');
DROP TABLE lc_b_reverted;
TRUNCATE migrate_history;

-- ============================================================================================
-- A migration without a down script stops the whole revert before anything runs: schema and
-- history stay exactly as they were, for rollback, migrate_to and the plan alike.
\set dir :fixtures '/lifecycle_nodown/without'
SELECT migrate_apply(:'dir') AS applied;
SELECT lc_state() AS before \gset
SELECT migrate_rollback(:'dir', 2);
SELECT migrate_rollback(:'dir', 3);
SELECT migrate_to(:'dir', '1');
SELECT migrate_to(:'dir', '0');
SELECT * FROM migrate_plan(:'dir', '1');
SELECT lc_state() = :'before' AS unchanged, lc_tables();
-- What has a down script can still be reverted.
SELECT migrate_rollback(:'dir') AS reverted, lc_tables();
-- A down file added later is used.
\set dir :fixtures '/lifecycle_nodown/with_down'
SELECT migrate_to(:'dir', '0') AS reverted, lc_tables();
TRUNCATE migrate_history;

-- ============================================================================================
-- An empty or comments-only down script counts as no down script, unless the up script is
-- blank too: then reverting is a no-op that is still recorded.
\set dir :fixtures '/lifecycle_blank/comments'
SELECT migrate_apply(:'dir') AS applied;
SELECT lc_state() AS before \gset
SELECT migrate_rollback(:'dir');
SELECT lc_state() = :'before' AS unchanged;
DROP TABLE lc_a;
TRUNCATE migrate_history;
\set dir :fixtures '/lifecycle_blank/empty'
SELECT migrate_apply(:'dir') AS applied;
SELECT lc_state() AS before \gset
SELECT migrate_rollback(:'dir');
SELECT lc_state() = :'before' AS unchanged;
DROP TABLE lc_a;
TRUNCATE migrate_history;
\set dir :fixtures '/lifecycle_blank/section'
SELECT migrate_apply(:'dir') AS applied;
SELECT lc_state() AS before \gset
SELECT migrate_rollback(:'dir');
SELECT lc_state() = :'before' AS unchanged;
DROP TABLE lc_a;
TRUNCATE migrate_history;
-- Blank up scripts: comments only with a comments-only down, empty with no down at all,
-- empty sections; migration 4 is an ordinary one.
\set dir :fixtures '/lifecycle_blank/noop'
SELECT migrate_apply(:'dir') AS applied;
SELECT migrate_to(:'dir', '0') AS reverted, lc_tables();
SELECT version, state FROM migrations_status(:'dir');
SELECT version, direction, script FROM migrate_history WHERE direction = 'down' ORDER BY id;
TRUNCATE migrate_history;

-- ============================================================================================
-- migrate_to up and down across semantic versions: 2.9.0 < 2.10.0 < 2.15.0 < 3.0.0 as numbers,
-- not as text; migrate_to(dir, '0') reverts everything.
\set dir :fixtures '/lifecycle_semver'
SELECT * FROM migrate_plan(:'dir', '2.9.0');
SELECT migrate_to(:'dir', '2.9.0') AS ran, lc_tables();
SELECT migrate_to(:'dir', '2.9.0') AS ran;
SELECT * FROM migrate_plan(:'dir', '2.15.0');
SELECT migrate_to(:'dir', '2.15.0') AS ran, lc_tables();
SELECT version, name, state FROM migrations_status(:'dir');
-- Down again: 2.15.0 first, then 2.10.0.
SELECT * FROM migrate_plan(:'dir', '2.9.0');
SELECT migrate_to(:'dir', '2.9.0') AS ran, lc_tables();
SELECT version, state FROM migrations_status(:'dir');
-- A target that is no migration's version is refused, naming its neighbours.
SELECT migrate_to(:'dir', '2.12') AS ran, lc_tables();
SELECT migrate_to(:'dir', '2.10.0') AS ran, lc_tables();
SELECT migrate_to(:'dir', '3') AS ran;
SELECT migrate_to(:'dir', '0') AS ran, lc_tables();
SELECT count(*) AS pending FROM migrations_status(:'dir') WHERE state = 'pending';
SELECT string_agg(version || ':' || direction, ' ' ORDER BY id) AS history FROM migrate_history;
SELECT migrate_to(:'dir', '0') AS ran;
TRUNCATE migrate_history;

-- ============================================================================================
-- migrate_plan with a target older than what is applied shows the down steps migrate_to would
-- run, newest first, with the scripts that would run; it runs nothing.
\set dir :fixtures '/lifecycle_four'
SELECT migrate_apply(:'dir') AS applied;
SELECT lc_state() AS before \gset
SELECT * FROM migrate_plan(:'dir', '1');
SELECT * FROM migrate_plan(:'dir', '0');
SELECT * FROM migrate_plan(:'dir', '4');
SELECT * FROM migrate_plan(:'dir');
SELECT lc_state() = :'before' AS unchanged;
-- Exactly what the plan said runs.
SELECT array_agg(version ORDER BY step) AS planned FROM migrate_plan(:'dir', '2');
SELECT migrate_to(:'dir', '2') AS ran;
SELECT array_agg(version ORDER BY id) AS reverted FROM migrate_history WHERE direction = 'down';
SELECT * FROM migrate_plan(:'dir', '3');
SELECT migrate_to(:'dir', '0') AS ran;
TRUNCATE migrate_history;

-- ============================================================================================
-- migrate_validate: 'ok', or one error listing every problem at once: duplicate versions,
-- modified, missing, out of order and failed. It changes nothing.
\set dir :fixtures '/lifecycle_validate/applied'
SELECT migrate_validate(:'dir');
SELECT migrate_apply(:'dir') AS applied;
SELECT migrate_validate(:'dir');
-- A run of 7 that failed, as history records one.
INSERT INTO migrate_history (version, name, direction, checksum, script, applied_at, applied_by, success)
VALUES ('7', 'h', 'up', NULL, '7_h.up.sql', '2024-01-01 00:00:00+00', 'ci', false);
\set dir :fixtures '/lifecycle_validate/drifted'
SELECT lc_state() AS before \gset
SELECT migrate_validate(:'dir');
SELECT lc_state() = :'before' AS unchanged;
-- (migrations_status, like apply, refuses a folder with a duplicate version outright)
SELECT version, state FROM migrations_status(:'dir');
DROP TABLE lc_a, lc_b, lc_c, lc_e;
TRUNCATE migrate_history;

-- ============================================================================================
-- migrate_repair accepts the new checksum of modified migrations, forgets missing ones and
-- clears failed ones with 'repair' rows, runs no migration SQL, and lets the next apply
-- succeed.
\set dir :fixtures '/lifecycle_repair/applied'
SELECT migrate_apply(:'dir', '3') AS applied;
\set dir :fixtures '/lifecycle_repair/drifted'
INSERT INTO migrate_history (version, name, direction, checksum, script, applied_at, applied_by, success)
VALUES ('4', 'd', 'up', NULL, '4_d.up.sql', '2024-01-01 00:00:00+00', 'ci', false);
SELECT version, state FROM migrations_status(:'dir');
SELECT migrate_apply(:'dir');
SELECT migrate_repair(:'dir');
SELECT version, name, direction, checksum, script, success, execution_ms,
       applied_by = current_user AS applied_by_caller, applied_at > now() - interval '1 hour' AS now
  FROM migrate_history WHERE direction = 'repair' ORDER BY id;
-- No migration SQL ran: there is no lc_a2 nor lc_b2.
SELECT lc_tables();
SELECT version, state, applied_checksum = checksum AS accepted FROM migrations_status(:'dir');
SELECT migrate_repair(:'dir');
SELECT migrate_validate(:'dir');
SELECT migrate_apply(:'dir') AS applied, lc_tables();
SELECT version, state FROM migrations_status(:'dir');
DROP TABLE lc_a, lc_b, lc_c, lc_d, lc_e;
TRUNCATE migrate_history;

-- ============================================================================================
-- migrate_baseline marks a database built before migrate: migrations up to the baseline count
-- as applied without running; the next apply runs only the newer ones.
\set dir :fixtures '/lifecycle_baseline'
CREATE TABLE lc_a (x integer);
CREATE TABLE lc_b (x integer);
SELECT migrate_baseline('2', 'legacy schema');
SELECT version, state, applied_checksum IS NULL AS no_applied_checksum, execution_ms
  FROM migrations_status(:'dir');
SELECT * FROM migrate_plan(:'dir');
SELECT migrate_apply(:'dir') AS applied, lc_tables();
SELECT version, state FROM migrations_status(:'dir');
SELECT version, name, direction, checksum IS NULL AS no_checksum, script IS NULL AS no_script,
       applied_by = current_user AS applied_by_caller, success
  FROM migrate_history ORDER BY id;
DROP TABLE lc_c, lc_d;
TRUNCATE migrate_history;
-- A baseline between two versions, with the default name.
SELECT migrate_baseline('2.5');
SELECT migrate_apply(:'dir') AS applied, lc_tables();
SELECT version, name, direction FROM migrate_history ORDER BY id;
DROP TABLE lc_a, lc_b, lc_c, lc_d;
TRUNCATE migrate_history;

-- A baseline is refused once history has applied migrations, and for what is not a version;
-- nothing is recorded.
SELECT migrate_apply(:'dir', '2') AS applied;
SELECT lc_state() AS before \gset
SELECT migrate_baseline('5');
SELECT migrate_baseline('1', 'legacy');
SELECT migrate_baseline('latest');
SELECT migrate_baseline(NULL);
SELECT lc_state() = :'before' AS unchanged;
DROP TABLE lc_a, lc_b;
TRUNCATE migrate_history;

-- ============================================================================================
-- migrate.out_of_order = error (the default) refuses an older pending migration; allow applies
-- it, in version order with the newer pending ones. after is the folder before became.
\set dir :fixtures '/lifecycle_order/before'
SELECT migrate_apply(:'dir') AS applied;
\set dir :fixtures '/lifecycle_order/after'
SHOW migrate.out_of_order;
SELECT lc_state() AS before \gset
SELECT migrate_apply(:'dir');
SET migrate.out_of_order = error;
SELECT migrate_apply(:'dir');
SELECT * FROM migrate_plan(:'dir');
SELECT lc_state() = :'before' AS unchanged;
-- Any GUC scope: SET LOCAL lasts for the transaction.
BEGIN;
SET LOCAL migrate.out_of_order = allow;
SELECT * FROM migrate_plan(:'dir');
SELECT migrate_validate(:'dir');
COMMIT;
SHOW migrate.out_of_order;
SET migrate.out_of_order = allow;
SELECT migrate_apply(:'dir') AS applied, lc_tables();
SELECT version, state FROM migrations_status(:'dir');
SELECT string_agg(version, ' ' ORDER BY id) AS history FROM migrate_history;
-- Back to error: the next stray migration is refused again.
RESET migrate.out_of_order;
\set dir :fixtures '/lifecycle_order/late'
SELECT migrate_apply(:'dir');
-- Bad values and names.
SET migrate.out_of_order = ignore;
SET migrate.missing = allow;
SET migrate.no_such_setting = on;
DROP TABLE lc_a, lc_b, lc_c, lc_d;
TRUNCATE migrate_history;

-- ============================================================================================
-- migrate.missing = error (the default) refuses when an applied migration's file is gone;
-- ignore lets the calls go on (the migration still shows as missing).
\set dir :fixtures '/lifecycle_missing/before'
SELECT migrate_apply(:'dir') AS applied;
\set dir :fixtures '/lifecycle_missing/after'
SHOW migrate.missing;
SELECT lc_state() AS before \gset
SELECT migrate_apply(:'dir');
SELECT migrate_validate(:'dir');
SELECT lc_state() = :'before' AS unchanged;
SET migrate.missing = ignore;
SELECT migrate_validate(:'dir');
SELECT * FROM migrate_plan(:'dir');
SELECT migrate_apply(:'dir') AS applied, lc_tables();
SELECT version, state FROM migrations_status(:'dir');
-- Reverting the missing migration runs the down script history kept.
SELECT migrate_to(:'dir', '0') AS reverted, lc_tables();
SELECT version, state FROM migrations_status(:'dir');
RESET migrate.missing;
TRUNCATE migrate_history;

-- ============================================================================================
-- A down script that fails undoes the whole call: the reverts that ran before it in the same
-- call are undone too; the ERROR keeps PostgreSQL's SQLSTATE and CONTEXT names the migration,
-- the file and the line; the session stays usable.
\set dir :fixtures '/lifecycle_down_failure/full'
SELECT migrate_apply(:'dir') AS applied;
INSERT INTO lc_b VALUES (1);
SELECT lc_state() AS before \gset
SELECT migrate_rollback(:'dir', 2);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT migrate_to(:'dir', '0');
SELECT migrate_to(:'dir', '1');
SELECT lc_state() = :'before' AS unchanged, (SELECT count(*) FROM lc_b) AS lc_b_rows;
SELECT version, state FROM migrations_status(:'dir');
-- The same with the copy history kept (the down section is gone from the file): CONTEXT says
-- so, and gives the line in that copy.
\set dir :fixtures '/lifecycle_down_failure/stored'
SELECT migrate_rollback(:'dir', 2);
SELECT lc_state() = :'before' AS unchanged, (SELECT count(*) FROM lc_b) AS lc_b_rows;
-- One step that does not reach the failing script goes through.
SELECT migrate_rollback(:'dir') AS reverted, lc_tables();
DROP TABLE lc_a, lc_b;
TRUNCATE migrate_history;

RESET search_path;
DROP SCHEMA t_lifecycle CASCADE;
TRUNCATE migrate_history;
