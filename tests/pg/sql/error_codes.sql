-- Error codes: each class of migrate's refusals has its SQLSTATE (README, "Error codes"), so a
-- driver can tell a bad argument from a missing folder, a conflict or a state. One refusal of
-- each class; an engine error keeps PostgreSQL's own SQLSTATE. Nothing of any call remains.
\set VERBOSITY default
\getenv fixtures MIGRATE_FIXTURES
SET client_min_messages = warning;
TRUNCATE migrate_history;
CREATE SCHEMA t_errcodes;
SET search_path = t_errcodes, public;
\set two :fixtures '/errcodes_two'

-- argument: 22023 invalid_parameter_value; a NULL the call needs: 22004 null_value_not_allowed
SELECT migrate_apply(:'two', NULL, 0);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT migrate_rollback(:'two', -1);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT migrate_apply(:'two', 'latest');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT migrate_to(:'two', NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- not found: 42704 undefined_object (a migration), 42P01 undefined_table, 58P01 undefined_file
SELECT migrate_to(:'two', '9');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT migrate_add_unique('no_such_table', 'x');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
\set gone :fixtures '/errcodes_gone'
\set VERBOSITY sqlstate
SELECT migrate_validate(:'gone');
\set VERBOSITY default
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- conflict: 42710 duplicate_object
\set dup :fixtures '/errcodes_dup'
SELECT migrate_validate(:'dup');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- privilege: 42501 insufficient_privilege (migrate's own tables are migrate's to change)
SELECT migrate_add_unique('migrate_history', 'version');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- resource: 54000 program_limit_exceeded (a stored script over 32 MiB)
BEGIN;
INSERT INTO migrate_scripts (version, name, up_sql)
    VALUES ('1', 'big', repeat('x', 32 * 1024 * 1024 + 1));
SELECT migrate_validate(NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ROLLBACK;

-- state: 55000 object_not_in_prerequisite_state (a baseline over applied migrations)
SELECT migrate_apply(:'two');
SELECT migrate_baseline('3');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- not found again: a migration without a down script cannot be reverted (42704)
SELECT migrate_rollback(:'two');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- an engine error keeps its SQLSTATE: the migration's own 42P07 duplicate_table
TRUNCATE migrate_history;
\set fail :fixtures '/errcodes_fail'
SELECT migrate_apply(:'fail');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- the failed call changed nothing
SELECT count(*) AS history_rows, to_regclass('ec_f') AS ec_f FROM migrate_history;

-- migrate_check refuses where migrate_apply refuses, with the same SQLSTATEs; a migration that
-- fails in a rehearsal is a row of the result, not an error
TRUNCATE migrate_history;
SELECT * FROM migrate_check(:'two', 'latest');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM migrate_check(:'two', '9');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
\set VERBOSITY sqlstate
SELECT * FROM migrate_check(:'gone');
\set VERBOSITY default
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM migrate_check(:'dup');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
BEGIN;
INSERT INTO migrate_scripts (version, name, up_sql)
    VALUES ('1', 'big', repeat('x', 32 * 1024 * 1024 + 1));
SELECT * FROM migrate_check(NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ROLLBACK;
-- state: 55000 (a stored migration modified after it was applied)
BEGIN;
INSERT INTO migrate_scripts (version, name, up_sql) VALUES ('1', 'm', 'CREATE TABLE ec_m (x int);');
SELECT migrate_apply(NULL);
UPDATE migrate_scripts SET up_sql = 'CREATE TABLE ec_m (y int);' WHERE version = '1';
SELECT * FROM migrate_check(NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ROLLBACK;
-- and 25000 in a REPEATABLE READ transaction, as migrate_apply
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT * FROM migrate_check(:'two');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ROLLBACK;
SELECT version, outcome, error FROM migrate_check(:'fail');
SELECT count(*) AS history_rows, to_regclass('ec_f') AS ec_f FROM migrate_history;

RESET search_path;
DROP SCHEMA t_errcodes CASCADE;
TRUNCATE migrate_history;
