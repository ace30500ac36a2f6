-- migrate_check: the rehearsal of what migrate_apply would run, on the real data, rolled back.
\set VERBOSITY default
\getenv fixtures MIGRATE_FIXTURES
SET client_min_messages = warning;
TRUNCATE migrate_history;

-- Everything a rehearsal could leave behind in the t_check schemas and history: relations (with
-- their relfilenodes), columns, constraints, rows, history rows.
CREATE FUNCTION pg_temp.fingerprint() RETURNS text LANGUAGE sql AS $$
SELECT concat_ws(E'\n',
  (SELECT string_agg(n.nspname || '.' || c.relname || ' ' || c.relkind::text || ' ' || c.relfilenode, ', '
                     ORDER BY n.nspname, c.relname)
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname LIKE 't_check%'),
  (SELECT string_agg(a.attrelid::regclass || '.' || a.attname, ', ' ORDER BY 1)
     FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
     JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname LIKE 't_check%' AND a.attnum > 0 AND NOT a.attisdropped),
  (SELECT string_agg(conname, ', ' ORDER BY conname) FROM pg_constraint c
     JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname LIKE 't_check%'),
  (SELECT string_agg(h::text, ', ' ORDER BY id) FROM migrate_history h))
$$;

-- check_issue: 1 applied; 3 adds UNIQUE on an email column with three duplicate groups, 5
-- depends on 3: ok, fails, ok, fails after_failure.
CREATE SCHEMA t_check_issue;
SET search_path = t_check_issue, public;
\set dir :fixtures '/check_issue'
SELECT migrate_apply(:'dir', '1') AS applied;
CREATE TEMP TABLE before AS
  SELECT pg_temp.fingerprint() AS f, (SELECT string_agg(u::text, ', ' ORDER BY id) FROM users u) AS rows;
SELECT version, name, outcome, after_failure, statements, rows_changed, error, findings
  FROM migrate_check(:'dir');
SELECT f = pg_temp.fingerprint() AS schema_and_history_unchanged,
       rows = (SELECT string_agg(u::text, ', ' ORDER BY id) FROM users u) AS rows_unchanged
  FROM before;
SELECT version, state FROM migrations_status(:'dir');

-- inside the caller's transaction: the caller's work stays, the transaction is still usable
BEGIN;
CREATE TABLE mine (x integer);
INSERT INTO mine VALUES (42);
SELECT version, outcome FROM migrate_check(:'dir');
SELECT x FROM mine;
COMMIT;
DROP TABLE mine;
SELECT f = pg_temp.fingerprint() AS unchanged_but_for_mine FROM before;

-- refused where migrate_apply refuses, with the same message
\set dir :fixtures '/check_loss'
SELECT * FROM migrate_check(:'dir');
SELECT migrate_apply(:'dir');
\set dir :fixtures '/check_issue'

-- check_loss: a dropped table with its rows, a dropped column with its values
TRUNCATE migrate_history;
CREATE SCHEMA t_check_loss;
SET search_path = t_check_loss, public;
\set dir :fixtures '/check_loss'
SELECT migrate_apply(:'dir', '1') AS applied;
TRUNCATE before;
INSERT INTO before SELECT pg_temp.fingerprint(), NULL;
SELECT version, outcome, error, findings FROM migrate_check(:'dir');
SELECT f = pg_temp.fingerprint() AS unchanged FROM before;

-- check_locks: an index under SHARE, a rewrite (a volatile default) under ACCESS EXCLUSIVE,
-- and a sequence nextval advanced, which no rollback undoes
TRUNCATE migrate_history;
CREATE SCHEMA t_check_locks;
SET search_path = t_check_locks, public;
\set dir :fixtures '/check_locks'
SELECT migrate_apply(:'dir', '1') AS applied;
TRUNCATE before;
INSERT INTO before SELECT pg_temp.fingerprint(), NULL;
SELECT version, outcome, rows_changed, findings FROM migrate_check(:'dir');
SELECT f = pg_temp.fingerprint() AS unchanged FROM before;

-- check_notx: a no-transaction migration is skipped, with the reason
TRUNCATE migrate_history;
CREATE SCHEMA t_check_notx;
SET search_path = t_check_notx, public;
\set dir :fixtures '/check_notx'
SELECT version, outcome, error, findings FROM migrate_check(:'dir');
SELECT count(*) AS left_behind FROM pg_class WHERE relnamespace = 't_check_notx'::regnamespace;

-- check_hostile: a migration calling migrate_apply or migrate_check is reported as failing
CREATE SCHEMA t_check_hostile;
SET search_path = t_check_hostile, public;
\set dir :fixtures '/check_hostile'
SELECT version, outcome, error FROM migrate_check(:'dir');
SELECT count(*) AS left_behind FROM pg_class WHERE relnamespace = 't_check_hostile'::regnamespace;
SELECT count(*) AS history_rows FROM migrate_history;
-- a migration that ends the transaction is refused before anything runs, as by migrate_apply
\set dir :fixtures '/check_commit'
SELECT * FROM migrate_check(:'dir');
SELECT count(*) AS left_behind FROM pg_class WHERE relnamespace = 't_check_hostile'::regnamespace;

RESET search_path;
DROP SCHEMA t_check_issue, t_check_loss, t_check_locks, t_check_notx, t_check_hostile CASCADE;

-- check_constraints: a NOT NULL, a CHECK and a FOREIGN KEY that existing rows break, a NOT NULL
-- column added to a table with rows, a CHECK after an UPDATE of the same migration (counted on
-- the rows as that UPDATE left them), and a type change that rounds values.
CREATE SCHEMA t_check_constraints;
SET search_path = t_check_constraints, public;
\set dir :fixtures '/check_constraints'
SELECT migrate_apply(:'dir', '1') AS applied;
CREATE TEMP TABLE before_constraints AS
  SELECT pg_temp.fingerprint() AS f, (SELECT string_agg(i::text, ', ' ORDER BY id) FROM items i) AS rows;
SELECT version, outcome, after_failure, findings FROM migrate_check(:'dir');
SELECT f = pg_temp.fingerprint() AS schema_and_history_unchanged,
       rows = (SELECT string_agg(i::text, ', ' ORDER BY id) FROM items i) AS rows_unchanged
  FROM before_constraints;
RESET search_path;

-- check_cache: what each look reads again because the migration changed it, or an undone one
-- changed it back: a column that goes with a dropped type (its table is not named), a failed
-- migration undone (its nextval stays), an explicit LOCK (no catalog change), a renamed schema,
-- a DROP ... CASCADE taking a view and a materialized view, a type change, more relations in one
-- migration than the look follows one by one, and the migration after that.
TRUNCATE migrate_history;
CREATE SCHEMA t_check_cache;
SET search_path = t_check_cache, public;
\set dir :fixtures '/check_cache'
SELECT migrate_apply(:'dir', '1') AS applied;
CREATE TEMP TABLE before_cache AS SELECT pg_temp.fingerprint() AS f;
SELECT version, outcome, after_failure, error, findings FROM migrate_check(:'dir');
SELECT f = pg_temp.fingerprint() AS unchanged FROM before_cache;
RESET search_path;
DROP SCHEMA t_check_cache, t_check_side CASCADE;
