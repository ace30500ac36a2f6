-- Migrations that cannot run in a transaction, on PostgreSQL alone: the script migrate_script
-- writes for psql's \gexec (CREATE INDEX CONCURRENTLY and VACUUM at top level, the guards, the
-- session lock and the record tokens), a failing migration stopping the rest, a stale script
-- run twice, and INVALID index leftovers. The refusals of migrate_apply, migrate_plan and
-- migrate_to, a target short of the marked migration, and the script giving the history of
-- migrate_apply are written once for both engines in tests/cases/notx.sh (run by
-- tests/cases/run_pg.sh).
\set VERBOSITY default
\getenv fixtures MIGRATE_FIXTURES
\set mixed :fixtures '/notx_mixed'
\set ordinary :fixtures '/notx_ordinary'
\set guard :fixtures '/notx_guard'
\set invalid :fixtures '/notx_invalid'
SET client_min_messages = warning;
TRUNCATE migrate_history;
-- a known key, so the record tokens in migrate_script's output are the same on every run
UPDATE migrate_key SET key = repeat('0', 64);
CREATE SCHEMA t_notx;
SET search_path = t_notx, public;

-- 1. Migration 1 is ordinary: migrate_apply runs it.
SELECT migrate_apply(:'mixed', '1');

-- 2. migrate_script: the pending work in order, each migration's record after its statements;
-- ordinary migrations inside BEGIN/COMMIT, marked ones at top level, each behind its guard, all
-- under the session lock.
\pset format unaligned
SELECT seq, statement FROM migrate_script(:'mixed');
\pset format aligned
-- run it up to 3: the CREATE INDEX CONCURRENTLY of 2 runs at top level
SELECT statement FROM migrate_script(:'mixed', '3') \gexec
SELECT version, state FROM migrations_status(:'mixed');
SELECT statement FROM migrate_script(:'mixed') \gexec
SELECT version, name, direction, success, completed_statements, script FROM migrate_history ORDER BY id;
SELECT version, state FROM migrations_status(:'mixed');
SELECT migrate_validate(:'mixed');
SELECT indexrelid::regclass AS index, indisvalid FROM pg_index
 WHERE indrelid IN ('users'::regclass, 'posts'::regclass) ORDER BY indexrelid::regclass::text;
-- the recorded checksums are the ones migrate computes from the files
SELECT h.version, h.checksum = s.checksum AS same_checksum
  FROM migrate_history h JOIN migrations_status(:'mixed') s USING (version) ORDER BY h.id;
-- the recorded scripts: the up and down sections, markers left out
\pset format unaligned
SELECT version, up_sql, down_sql, down_checksum FROM migrate_history ORDER BY id;
\pset format aligned
-- the epilogue released the session lock
SELECT count(*) AS advisory_locks FROM pg_locks WHERE locktype = 'advisory';
-- up to date: one comment saying so, which \gexec runs harmlessly
SELECT * FROM migrate_script(:'mixed');
SELECT statement FROM migrate_script(:'mixed') \gexec

-- 3. The guard, with ON_ERROR_STOP off (as here): migration 3 fails inside its transaction, and
-- every later migration's guard refuses, so history has only 1 and 2 (a marked one).
TRUNCATE migrate_history;
SELECT statement FROM migrate_script(:'guard') \gexec
SELECT version, success FROM migrate_history ORDER BY id;
SELECT to_regclass('g_three') AS g_three, to_regclass('g_four') AS g_four, to_regclass('g_five') AS g_five;
SELECT version, state FROM migrations_status(:'guard');
SELECT count(*) AS advisory_locks FROM pg_locks WHERE locktype = 'advisory';

-- 4. The same script run twice: the second time every guard refuses, nothing runs twice.
TRUNCATE migrate_history;
CREATE SCHEMA t_notx_stale;
SET search_path = t_notx_stale, public;
CREATE TEMP TABLE stale AS SELECT seq, statement FROM migrate_script(:'ordinary');
SELECT statement FROM stale ORDER BY seq \gexec
SELECT count(*) AS history_rows FROM migrate_history;
SELECT statement FROM stale ORDER BY seq \gexec
SELECT count(*) AS history_rows FROM migrate_history;
SELECT count(*) AS accounts FROM accounts;
RESET search_path;
DROP SCHEMA t_notx_stale CASCADE;
SET search_path = t_notx, public;

-- 5. A CREATE INDEX CONCURRENTLY that failed leaves an INVALID index: the next migrate_apply and
-- migrate_script (and migrate_plan) name it and say how to drop it, instead of going on.
TRUNCATE migrate_history;
SELECT migrate_apply(:'invalid', '1');
-- what the failed run of migration 2 did
CREATE UNIQUE INDEX CONCURRENTLY dup_k_key ON dup (k);
SELECT indexrelid::regclass AS index, indisvalid FROM pg_index WHERE indrelid = 'dup'::regclass;
SELECT migrate_apply(:'invalid');
SELECT * FROM migrate_script(:'invalid');
SELECT * FROM migrate_plan(:'invalid');
SELECT count(*) AS history_rows FROM migrate_history;
-- as the hint says; then without the duplicate it goes through
DROP INDEX CONCURRENTLY t_notx.dup_k_key;
DELETE FROM dup WHERE ctid = (SELECT max(ctid) FROM dup WHERE k = 1);
SELECT statement FROM migrate_script(:'invalid') \gexec
SELECT version, state FROM migrations_status(:'invalid');
SELECT indexrelid::regclass AS index, indisvalid FROM pg_index WHERE indrelid = 'dup'::regclass;

RESET search_path;
DROP SCHEMA t_notx CASCADE;
TRUNCATE migrate_history;
