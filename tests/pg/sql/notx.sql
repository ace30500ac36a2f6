-- Migrations that cannot run in a transaction: migrate_apply refuses them before running anything;
-- migrate_script writes the pending work for psql's \gexec, which runs it at top level.
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

-- 1. migrate_apply refuses a no-transaction migration (dbmate's "transaction:false" here) before
-- running anything, not even migration 1 before it; it names the migration and migrate_script.
SELECT migrate_apply(:'mixed');
SELECT count(*) AS history_rows FROM migrate_history;
SELECT to_regclass('users') AS users_table;
-- migrate_plan and migrate_to refuse the same way
SELECT * FROM migrate_plan(:'mixed');
SELECT migrate_to(:'mixed', '3');
-- a target short of the marked migration is fine
SELECT * FROM migrate_plan(:'mixed', '1');
SELECT migrate_apply(:'mixed', '1');
SELECT version, direction, success FROM migrate_history ORDER BY id;

-- 2. migrate_script: the pending work in order, each migration's record after its statements;
-- ordinary migrations inside BEGIN/COMMIT, marked ones at top level, each behind its guard, all
-- under the session lock.
\pset format unaligned
SELECT seq, statement FROM migrate_script(:'mixed');
\pset format aligned
-- run it up to 3: the CREATE INDEX CONCURRENTLY of 2 runs at top level
SELECT statement FROM migrate_script(:'mixed', '3') \gexec
SELECT version, state FROM migrations_status(:'mixed');
-- goose's "NO TRANSACTION" is refused by migrate_apply too
SELECT migrate_apply(:'mixed');
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

-- 3. The same history as migrate_apply: ordinary migrations of every layout (sections, a folder,
-- Flyway, goose; a literal with a backslash, a dollar-quoted body, a trailing comment) run
-- through the script in one schema and applied by migrate_apply in another.
TRUNCATE migrate_history;
CREATE SCHEMA t_notx_script;
CREATE SCHEMA t_notx_apply;
SET search_path = t_notx_script, public;
-- with a target, then the rest
SELECT seq, left(statement, 40) AS statement FROM migrate_script(:'ordinary', '2');
SELECT statement FROM migrate_script(:'ordinary', '2') \gexec
SELECT version, state FROM migrations_status(:'ordinary');
SELECT statement FROM migrate_script(:'ordinary') \gexec
CREATE TEMP TABLE via_script AS
  SELECT row_number() OVER (ORDER BY id) AS n, version, name, direction, checksum, down_checksum,
         up_sql, down_sql, script, success, completed_statements
    FROM migrate_history;
TRUNCATE migrate_history;
SET search_path = t_notx_apply, public;
SELECT migrate_apply(:'ordinary');
CREATE TEMP TABLE via_apply AS
  SELECT row_number() OVER (ORDER BY id) AS n, version, name, direction, checksum, down_checksum,
         up_sql, down_sql, script, success, completed_statements
    FROM migrate_history;
SELECT (SELECT count(*) FROM via_script) AS script_rows, (SELECT count(*) FROM via_apply) AS apply_rows;
(TABLE via_script EXCEPT TABLE via_apply) UNION ALL (TABLE via_apply EXCEPT TABLE via_script);
SELECT n, version, name, direction, script FROM via_script ORDER BY n;
-- the same objects and data
SELECT * FROM t_notx_script.accounts EXCEPT SELECT * FROM t_notx_apply.accounts;
SELECT id, owner FROM t_notx_script.accounts ORDER BY id;
SELECT (SELECT count(*) FROM t_notx_script.audit) AS script_audit, (SELECT count(*) FROM t_notx_apply.audit) AS apply_audit;
RESET search_path;
DROP SCHEMA t_notx_script CASCADE;
DROP SCHEMA t_notx_apply CASCADE;
SET search_path = t_notx, public;

-- 4. The guard, with ON_ERROR_STOP off (as here): migration 3 fails inside its transaction, and
-- every later migration's guard refuses, so history has only 1 and 2 (a marked one).
TRUNCATE migrate_history;
SELECT statement FROM migrate_script(:'guard') \gexec
SELECT version, success FROM migrate_history ORDER BY id;
SELECT to_regclass('g_three') AS g_three, to_regclass('g_four') AS g_four, to_regclass('g_five') AS g_five;
SELECT version, state FROM migrations_status(:'guard');
SELECT count(*) AS advisory_locks FROM pg_locks WHERE locktype = 'advisory';

-- 5. The same script run twice: the second time every guard refuses, nothing runs twice.
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

-- 6. A CREATE INDEX CONCURRENTLY that failed leaves an INVALID index: the next migrate_apply and
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
