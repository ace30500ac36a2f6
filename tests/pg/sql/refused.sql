-- Statements that cannot run inside migrate_apply's transaction, and COPY ... FROM STDIN, are
-- refused before anything of the call runs: the good migration 1 is not applied, the error
-- names migration 2, its file and the line of the statement.
\set VERBOSITY default
\getenv fixtures MIGRATE_FIXTURES
SET client_min_messages = warning;
TRUNCATE migrate_history;
CREATE SCHEMA t_refused;
SET search_path = t_refused, public;

\set dir :fixtures '/refused/concurrently'
SELECT migrate_apply(:'dir');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT count(*) AS history_rows, to_regclass('rf_good') AS rf_good, to_regclass('rf_t') AS rf_t FROM migrate_history;

\set dir :fixtures '/refused/vacuum'
SELECT migrate_apply(:'dir');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT count(*) AS history_rows, to_regclass('rf_good') AS rf_good, to_regclass('rf_t') AS rf_t FROM migrate_history;

\set dir :fixtures '/refused/alter_system'
SELECT migrate_apply(:'dir');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT count(*) AS history_rows, to_regclass('rf_good') AS rf_good, to_regclass('rf_t') AS rf_t FROM migrate_history;

\set dir :fixtures '/refused/create_database'
SELECT migrate_apply(:'dir');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT count(*) AS history_rows, to_regclass('rf_good') AS rf_good, to_regclass('rf_t') AS rf_t FROM migrate_history;

\set dir :fixtures '/refused/commit'
SELECT migrate_apply(:'dir');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT count(*) AS history_rows, to_regclass('rf_good') AS rf_good, to_regclass('rf_t') AS rf_t FROM migrate_history;

\set dir :fixtures '/refused/copy_stdin'
SELECT migrate_apply(:'dir');
SELECT count(*) AS history_rows, to_regclass('rf_good') AS rf_good, to_regclass('rf_t') AS rf_t FROM migrate_history;

\set dir :fixtures '/refused/copy_data'
SELECT migrate_apply(:'dir');
SELECT count(*) AS history_rows, to_regclass('rf_good') AS rf_good, to_regclass('rf_t') AS rf_t FROM migrate_history;

-- Nothing of any of them happened.
SELECT count(*) AS databases FROM pg_database WHERE datname = 'migrate_never';
SELECT count(*) AS auto_conf_settings FROM pg_file_settings WHERE name = 'work_mem';

RESET search_path;
DROP SCHEMA t_refused CASCADE;
TRUNCATE migrate_history;
