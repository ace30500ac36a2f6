-- Migrations stored in the database: rows of migrate_scripts inserted with plain SQL; every
-- function that takes a folder reads that table when given NULL.
\set VERBOSITY default
\getenv fixtures MIGRATE_FIXTURES
\set src :fixtures '/notx_stored'
SET client_min_messages = warning;
TRUNCATE migrate_history;
TRUNCATE migrate_scripts;
-- a known key, so the record tokens in migrate_script's output are the same on every run
UPDATE migrate_key SET key = repeat('0', 64);
CREATE SCHEMA t_stored;
SET search_path = t_stored, public;

-- CREATE EXTENSION made the table; migrate_init is there for the same surface as SQLite
SELECT migrate_init();
SELECT to_regclass('public.migrate_scripts') AS scripts_table;

-- as a DBA would: files read by psql on the client, and literal text
\set up `cat :src/20240101_users.up.sql`
\set down `cat :src/20240101_users.down.sql`
INSERT INTO migrate_scripts VALUES ('20240101', 'users', :'up', :'down');
INSERT INTO migrate_scripts VALUES ('20240102', 'posts',
  $$CREATE TABLE s_posts (id integer PRIMARY KEY, user_id integer REFERENCES s_users);$$,
  $$DROP TABLE s_posts; CREATE TABLE IF NOT EXISTS s_reverted (what text); INSERT INTO s_reverted VALUES ('20240102');$$);
INSERT INTO migrate_scripts (version, up_sql, down_sql)
  VALUES ('v20240103', 'CREATE TABLE s_tags (t text);', 'DROP TABLE s_tags;');
SELECT version, name, up_sql, down_sql FROM migrate_scripts ORDER BY version;

SELECT * FROM migrate_plan(NULL);
SELECT version, name, state, script, applied_checksum FROM migrations_status(NULL);
-- the checksum is the script's SHA-256, as for a file
SELECT s.version, s.checksum = encode(sha256(convert_to(m.up_sql, 'UTF8')), 'hex') AS sha256_of_up_sql
  FROM migrations_status(NULL) s JOIN migrate_scripts m ON m.version IN (s.version, 'v' || s.version)
 ORDER BY 1;

SELECT migrate_apply(NULL);
SELECT version, name, state, script, applied_checksum = checksum AS recorded FROM migrations_status(NULL);
SELECT h.version, h.name, h.direction, h.script, h.up_sql = m.up_sql AS up_sql_kept,
       h.down_sql IS NOT DISTINCT FROM m.down_sql AS down_sql_kept
  FROM migrate_history h JOIN migrate_scripts m ON m.version IN (h.version, 'v' || h.version)
 ORDER BY h.id;
SELECT * FROM s_users;
SELECT migrate_validate(NULL);
SELECT * FROM migrate_plan(NULL);
SELECT * FROM migrate_script(NULL);
SELECT migrate_apply(NULL);
-- the history-only status knows them too
SELECT version, state FROM migrations_status;

-- going down runs the stored down_sql, newest first
SELECT migrate_rollback(NULL);
SELECT migrate_rollback(NULL);
SELECT * FROM s_reverted;
SELECT version, state FROM migrations_status(NULL);
SELECT * FROM migrate_plan(NULL, '20240103');
SELECT migrate_to(NULL, '20240103');
SELECT migrate_to(NULL, '20240101');
SELECT * FROM s_reverted;
SELECT version, state FROM migrations_status(NULL);
SELECT migrate_to(NULL, '20240103');
SELECT version, direction FROM migrate_history ORDER BY id;

-- the same row again is a no-op; the same version with other content is refused
INSERT INTO migrate_scripts VALUES ('20240101', 'users', :'up', :'down');
SELECT count(*) FROM migrate_scripts;
INSERT INTO migrate_scripts VALUES ('20240101', 'users', :'up' || ' -- changed', :'down');
INSERT INTO migrate_scripts VALUES ('20240101', 'users2', :'up', :'down');
INSERT INTO migrate_scripts VALUES ('20240101', 'users', :'up', NULL);
\set VERBOSITY verbose
INSERT INTO migrate_scripts VALUES ('20240101', 'users', :'up', NULL);
\set VERBOSITY default
SELECT version, name, up_sql = :'up' AS same_up, down_sql = :'down' AS same_down FROM migrate_scripts WHERE version = '20240101';

-- a row deleted after it was applied is missing; with missing = ignore, rollback runs the down
-- script history kept
DELETE FROM migrate_scripts WHERE version = 'v20240103';
SELECT version, state FROM migrations_status(NULL);
SELECT migrate_rollback(NULL);
SET migrate.missing = ignore;
SELECT migrate_rollback(NULL);
RESET migrate.missing;
SELECT to_regclass('s_tags') AS s_tags;
SELECT version, direction, down_sql FROM migrate_history ORDER BY id DESC LIMIT 1;
SELECT version, state FROM migrations_status(NULL);

-- a stored script marked no-transaction: migrate_apply refuses it before running anything,
-- naming the row; migrate_script runs it through \gexec
\set up `cat :src/20240102_email_idx.up.sql`
INSERT INTO migrate_scripts (version, name, up_sql) VALUES ('20240104', 'email_idx', :'up');
INSERT INTO migrate_scripts VALUES ('20240105', 'after', 'CREATE TABLE s_after (x integer);', NULL);
SELECT migrate_apply(NULL);
SELECT count(*) AS history_rows FROM migrate_history;
SELECT statement FROM migrate_script(NULL) \gexec
SELECT version, state, script FROM migrations_status(NULL);
SELECT indexrelid::regclass AS index, indisvalid FROM pg_index WHERE indrelid = 's_users'::regclass ORDER BY indexrelid::regclass::text;
SELECT migrate_validate(NULL);

-- a version that is not one is refused at INSERT and at UPDATE, by the rule of the folder's names
INSERT INTO migrate_scripts VALUES ('2024-01-x', 'bad', 'CREATE TABLE s_bad (x integer);', NULL);
INSERT INTO migrate_scripts VALUES ('abc', 'bad', 'CREATE TABLE s_bad (x integer);', NULL);
INSERT INTO migrate_scripts VALUES ('1..2', 'bad', 'CREATE TABLE s_bad (x integer);', NULL);
UPDATE migrate_scripts SET version = 'x' || version WHERE version = '20240101';
SELECT count(*) AS rows, count(*) FILTER (WHERE version = '20240101') AS kept FROM migrate_scripts;
-- such a row in a table filled before that rule (here: past the trigger): every call naming
-- the table errors, nothing runs
ALTER TABLE migrate_scripts DISABLE TRIGGER migrate_scripts_unchanged;
INSERT INTO migrate_scripts VALUES ('2024-01-x', 'bad', 'CREATE TABLE s_bad (x integer);', NULL);
ALTER TABLE migrate_scripts ENABLE TRIGGER migrate_scripts_unchanged;
SELECT migrate_apply(NULL);
SELECT * FROM migrations_status(NULL);
SELECT * FROM migrate_plan(NULL);
SELECT migrate_validate(NULL);
DELETE FROM migrate_scripts WHERE version = '2024-01-x';

-- two rows that are the same version ('01' and '1' are both version 1): an error naming both
INSERT INTO migrate_scripts VALUES ('01', 'one', 'CREATE TABLE s_one (x integer);', NULL);
INSERT INTO migrate_scripts VALUES ('1', 'uno', 'CREATE TABLE s_uno (x integer);', NULL);
SELECT migrate_apply(NULL);
SELECT * FROM migrations_status(NULL);
SELECT * FROM migrate_plan(NULL);
SELECT * FROM migrate_script(NULL);
SELECT migrate_validate(NULL);
SELECT to_regclass('s_one') AS s_one, to_regclass('s_uno') AS s_uno;
DELETE FROM migrate_scripts WHERE version IN ('01', '1');

RESET search_path;
DROP SCHEMA t_stored CASCADE;
TRUNCATE migrate_history;
TRUNCATE migrate_scripts;
