-- Migrations stored in the database on PostgreSQL alone: CREATE EXTENSION makes migrate_scripts;
-- rows read by psql from files on the client; the checksum computed by the server's sha256; the
-- SQLSTATE of a changed row; a stored CREATE INDEX CONCURRENTLY run through \gexec. The stored
-- migrations themselves (every function given NULL, the insert rules, bad and duplicate
-- versions, a missing row, a marked row refused and run by the script) are written once for
-- both engines in tests/cases/notx.sh (run by tests/cases/run_pg.sh).
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

-- as a DBA would: files read by psql on the client
\set up `cat :src/20240101_users.up.sql`
\set down `cat :src/20240101_users.down.sql`
INSERT INTO migrate_scripts VALUES ('20240101', 'users', :'up', :'down');
SELECT version, name, up_sql, down_sql FROM migrate_scripts ORDER BY version;
-- the checksum is the script's SHA-256, as for a file
SELECT s.version, s.checksum = encode(sha256(convert_to(m.up_sql, 'UTF8')), 'hex') AS sha256_of_up_sql
  FROM migrations_status(NULL) s JOIN migrate_scripts m ON m.version IN (s.version, 'v' || s.version)
 ORDER BY 1;
SELECT migrate_apply(NULL);
SELECT * FROM s_users;

-- the same version with other content is refused with SQLSTATE 23505
\set VERBOSITY verbose
INSERT INTO migrate_scripts VALUES ('20240101', 'users', :'up', NULL);
\set VERBOSITY default

-- a stored CREATE INDEX CONCURRENTLY (marked no-transaction), run through \gexec
\set up `cat :src/20240102_email_idx.up.sql`
INSERT INTO migrate_scripts (version, name, up_sql) VALUES ('20240104', 'email_idx', :'up');
INSERT INTO migrate_scripts VALUES ('20240105', 'after', 'CREATE TABLE s_after (x integer);', NULL);
SELECT statement FROM migrate_script(NULL) \gexec
SELECT version, state, script FROM migrations_status(NULL);
SELECT indexrelid::regclass AS index, indisvalid FROM pg_index WHERE indrelid = 's_users'::regclass ORDER BY indexrelid::regclass::text;
SELECT migrate_validate(NULL);

RESET search_path;
DROP SCHEMA t_stored CASCADE;
TRUNCATE migrate_history;
TRUNCATE migrate_scripts;
