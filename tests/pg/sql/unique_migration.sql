-- migrate_add_unique inside a migration applied by migrate_apply: a call nested in
-- migrate_apply's own, recorded like any migration; when it refuses, the whole apply is undone
-- and the error names the migration.
\set VERBOSITY default
\getenv fixtures MIGRATE_FIXTURES
SET client_min_messages = warning;
TRUNCATE migrate_history;

-- unique_apply: 1 creates users (two NULL emails, no duplicate), 2 makes email unique.
CREATE SCHEMA t_unique_apply;
SET search_path = t_unique_apply, public;
\set dir :fixtures '/unique_apply'
SELECT migrate_apply(:'dir') AS applied;
SELECT version, name, direction, script, success FROM migrate_history ORDER BY id;
SELECT version, state FROM migrations_status(:'dir');
SELECT conname, contype, conindid::regclass AS index, pg_get_constraintdef(oid) AS definition
  FROM pg_constraint WHERE conrelid = 'users'::regclass ORDER BY conname;
INSERT INTO users VALUES (5, 'a@x.com');
-- a re-run applies nothing
SELECT migrate_apply(:'dir') AS applied;

-- unique_apply_keep: keep_last inside a migration moves the rows as part of it.
TRUNCATE migrate_history;
CREATE SCHEMA t_unique_apply_keep;
SET search_path = t_unique_apply_keep, public;
\set dir :fixtures '/unique_apply_keep'
SELECT migrate_apply(:'dir') AS applied;
SELECT version, name, success FROM migrate_history ORDER BY id;
SELECT * FROM users ORDER BY id;
SELECT id, email FROM users_duplicates ORDER BY id;
SELECT conname FROM pg_constraint WHERE conrelid = 'users'::regclass ORDER BY conname;

-- unique_apply_dup: 1 inserts a duplicate email, so 2 refuses: SQLSTATE 23505, the error of
-- migrate_add_unique with CONTEXT naming migration 2 and the line of its statement, and
-- nothing of the apply remains (not even migration 1).
TRUNCATE migrate_history;
CREATE SCHEMA t_unique_apply_dup;
SET search_path = t_unique_apply_dup, public;
\set dir :fixtures '/unique_apply_dup'
SELECT migrate_apply(:'dir');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT to_regclass('users') AS users, to_regclass('users_duplicates') AS quarantine,
       (SELECT count(*) FROM migrate_history) AS history_rows;
SELECT version, state FROM migrations_status(:'dir');
-- the session goes on
SELECT migrate_apply(:'dir', '1') AS applied;
SELECT * FROM migrate_duplicates('users', 'email');

RESET search_path;
DROP SCHEMA t_unique_apply, t_unique_apply_keep, t_unique_apply_dup CASCADE;
TRUNCATE migrate_history;
