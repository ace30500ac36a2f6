-- migrate_apply runs inside the caller's transaction: ROLLBACK undoes it, COMMIT keeps it,
-- a savepoint around a failing call keeps what came before it.
\set VERBOSITY default
\getenv fixtures MIGRATE_FIXTURES
\set dir :fixtures '/basic'
\set broken :fixtures '/scratch_transaction'
SET client_min_messages = warning;
TRUNCATE migrate_history;
CREATE SCHEMA t_transaction;
SET search_path = t_transaction, public;
-- basic/ plus a sixth migration that fails
\! rm -rf "$MIGRATE_FIXTURES/scratch_transaction" && cp -R "$MIGRATE_FIXTURES/basic" "$MIGRATE_FIXTURES/scratch_transaction" && cp "$MIGRATE_FIXTURES/broken_tail/6_broken.sql" "$MIGRATE_FIXTURES/scratch_transaction/" && chmod -R a+rX "$MIGRATE_FIXTURES/scratch_transaction"

-- BEGIN ... ROLLBACK: the apply is undone, tables and history.
BEGIN;
SELECT migrate_apply(:'dir') AS applied;
SELECT count(*) AS history_rows, to_regclass('comments') AS comments FROM migrate_history;
ROLLBACK;
SELECT count(*) AS history_rows, to_regclass('users') AS users, to_regclass('comments') AS comments
  FROM migrate_history;
SELECT version, state FROM migrations_status(:'dir');

-- BEGIN ... COMMIT: kept, along with the caller's own work.
BEGIN;
CREATE TABLE before_apply (id integer);
SELECT migrate_apply(:'dir', '2') AS applied;
-- a second call in the same transaction sees the first one's history
SELECT migrate_apply(:'dir', '2') AS applied;
COMMIT;
SELECT to_regclass('before_apply') AS before_apply, to_regclass('users') AS users;
SELECT version, state FROM migrations_status(:'dir');

-- A failing call inside a transaction block aborts the block, as any failing statement does.
BEGIN;
CREATE TABLE lost (id integer);
SELECT migrate_apply(:'broken');
SELECT 1;
ROLLBACK;
SELECT to_regclass('lost') AS lost, to_regclass('posts') AS posts, to_regclass('broken') AS broken;
SELECT version, state FROM migrations_status(:'broken');

-- With a savepoint, the caller keeps its work and can go on in the same transaction.
BEGIN;
CREATE TABLE kept (id integer);
SAVEPOINT before_migrate;
SELECT migrate_apply(:'broken');
ROLLBACK TO SAVEPOINT before_migrate;
SELECT migrate_apply(:'dir') AS applied;
COMMIT;
SELECT to_regclass('kept') AS kept, to_regclass('comments') AS comments,
       to_regclass('broken') AS broken;
SELECT version, state FROM migrations_status(:'dir');

RESET search_path;
DROP SCHEMA t_transaction CASCADE;
TRUNCATE migrate_history;
\! rm -rf "$MIGRATE_FIXTURES/scratch_transaction"
