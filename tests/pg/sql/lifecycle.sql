-- The lifecycle on PostgreSQL alone: the migrate.out_of_order / migrate.missing settings are
-- GUCs (any scope, values checked by the server), and a failing down script keeps the server's
-- SQLSTATE. The lifecycle itself is written once for both engines in tests/cases/lifecycle.sh
-- (run by tests/cases/run_pg.sh). Folders that stand for one folder at two moments (what was
-- applied, what it became) are siblings under tests/pg/migrations/lifecycle_*/.
\set VERBOSITY default
\getenv fixtures MIGRATE_FIXTURES
SET client_min_messages = warning;
TRUNCATE migrate_history;
CREATE SCHEMA t_lifecycle;
SET search_path = t_lifecycle, public;

-- ============================================================================================
-- Any GUC scope: SET LOCAL lasts for the transaction. after is the folder before became.
\set dir :fixtures '/lifecycle_order/before'
SELECT migrate_apply(:'dir') AS applied;
\set dir :fixtures '/lifecycle_order/after'
SHOW migrate.out_of_order;
SELECT migrate_apply(:'dir');
BEGIN;
SET LOCAL migrate.out_of_order = allow;
SELECT * FROM migrate_plan(:'dir');
SELECT migrate_validate(:'dir');
COMMIT;
SHOW migrate.out_of_order;
SELECT migrate_apply(:'dir');
-- Bad values and names.
SET migrate.out_of_order = ignore;
SET migrate.missing = allow;
SET migrate.no_such_setting = on;
DROP TABLE lc_a, lc_c;
TRUNCATE migrate_history;

-- ============================================================================================
-- A down script that fails: the ERROR keeps PostgreSQL's SQLSTATE; the session stays usable.
\set dir :fixtures '/lifecycle_down_failure/full'
SELECT migrate_apply(:'dir') AS applied;
SELECT migrate_rollback(:'dir', 2);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT version, state FROM migrations_status(:'dir');
DROP TABLE lc_a, lc_b, lc_c;
TRUNCATE migrate_history;

RESET search_path;
DROP SCHEMA t_lifecycle CASCADE;
TRUNCATE migrate_history;
