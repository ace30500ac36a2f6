-- Reading a migrations folder is reading server files: a role needs EXECUTE and superuser or
-- pg_read_server_files. A refused role changes nothing; with migrate_grant's deploy grants and
-- pg_read_server_files it applies, and cannot write history itself; a monitoring role reads
-- history-only status.
\set VERBOSITY default
\getenv fixtures MIGRATE_FIXTURES
\set dir :fixtures '/security'
SET client_min_messages = warning;
TRUNCATE migrate_history;
CREATE ROLE migrate_deployer;
CREATE ROLE migrate_monitor;

-- Without EXECUTE: PostgreSQL's own check.
SET ROLE migrate_deployer;
SELECT migrate_apply(:'dir');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM migrate_plan(:'dir');
RESET ROLE;

-- With EXECUTE (and everything else) but without pg_read_server_files: the extension's own
-- check, naming the role.
SELECT migrate_grant('migrate_deployer', 'deploy');
SELECT migrate_grant('migrate_deployer', 'builder');
GRANT USAGE, CREATE ON SCHEMA public TO migrate_deployer;
SET ROLE migrate_deployer;
SELECT migrate_apply(:'dir');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM migrate_plan(:'dir');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM migrations_status(:'dir');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
RESET ROLE;
-- nothing changed
SELECT count(*) AS history_rows, to_regclass('public.sec_t') AS sec_t FROM migrate_history;

-- With pg_read_server_files as well: it works.
GRANT pg_read_server_files TO migrate_deployer;
SET ROLE migrate_deployer;
SELECT version, state FROM migrations_status(:'dir');
SELECT * FROM migrate_plan(:'dir');
SELECT migrate_apply(:'dir') AS applied;
SELECT migrate_apply(:'dir') AS applied;
RESET ROLE;
SELECT version, name, applied_by, success FROM migrate_history ORDER BY id;
SELECT tableowner FROM pg_tables WHERE schemaname = 'public' AND tablename = 'sec_t';

-- The deploy role wrote history through the extension, and cannot write it itself: not with
-- INSERT, UPDATE or DELETE, nor through migrate_record without the token migrate_script wrote.
SET ROLE migrate_deployer;
INSERT INTO migrate_history (version, name, direction, down_sql, applied_at, success)
    VALUES ('2', 'forged', 'up', 'ALTER ROLE migrate_deployer SUPERUSER', now(), true);
UPDATE migrate_history SET down_sql = 'ALTER ROLE migrate_deployer SUPERUSER';
DELETE FROM migrate_history;
SELECT migrate_record('2', 'forged', NULL, NULL, 'SELECT 1', 'ALTER ROLE migrate_deployer SUPERUSER',
                      '2_forged.sql', repeat('0', 64));
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT key FROM migrate_key;
RESET ROLE;
SELECT count(*) AS history_rows FROM migrate_history;
-- migrate_grant and migrate_revoke are not for PUBLIC
SET ROLE migrate_deployer;
SELECT migrate_grant('migrate_monitor', 'deploy');
RESET ROLE;

-- A monitoring role reads the history-only status, and nothing that reads files.
SELECT migrate_grant('migrate_monitor', 'monitor');
SET ROLE migrate_monitor;
SELECT version, name, state FROM migrations_status;
SELECT version, name, state FROM migrations_status();
SELECT * FROM migrations_status(:'dir');
RESET ROLE;

DROP TABLE public.sec_t;
TRUNCATE migrate_history;
SELECT migrate_revoke('migrate_monitor');
SELECT migrate_revoke('migrate_deployer');
REVOKE ALL ON SCHEMA public FROM migrate_deployer;
REVOKE pg_read_server_files FROM migrate_deployer;
DROP ROLE migrate_deployer;
DROP ROLE migrate_monitor;
