-- migrate_plan: the steps migrate_apply would run, with and without a target; it runs nothing.
\set VERBOSITY default
\getenv fixtures MIGRATE_FIXTURES
\set dir :fixtures '/basic'
SET client_min_messages = warning;
TRUNCATE migrate_history;
CREATE SCHEMA t_plan;
SET search_path = t_plan, public;

SELECT * FROM migrate_plan(:'dir');
SELECT * FROM migrate_plan(:'dir', '3');
SELECT * FROM migrate_plan(:'dir', '0');
-- Planning ran nothing and recorded nothing.
SELECT count(*) AS history_rows, to_regclass('users') AS users FROM migrate_history;

-- After a partial apply, the plan holds what is left, steps numbered from 1.
SELECT migrate_apply(:'dir', '2') AS applied;
SELECT * FROM migrate_plan(:'dir');
SELECT * FROM migrate_plan(:'dir', '4');
-- Exactly what the plan said gets applied.
SELECT array_agg(version ORDER BY step) AS planned FROM migrate_plan(:'dir', '4');
SELECT migrate_apply(:'dir', '4') AS applied;
SELECT array_agg(version ORDER BY id) AS applied FROM migrate_history;
SELECT migrate_apply(:'dir') AS applied;
-- Nothing left.
SELECT * FROM migrate_plan(:'dir');
SELECT * FROM migrate_plan(:'dir', '5');
-- A target older than the newest applied migration plans what migrate_to would do: revert
-- the newer ones, newest first, with their down scripts. Nothing runs.
SELECT * FROM migrate_plan(:'dir', '3');
SELECT count(*) AS history_rows, to_regclass('comments') AS comments FROM migrate_history;

-- Bad arguments.
SELECT * FROM migrate_plan(:'dir', 'v2-final');
SELECT * FROM migrate_plan(NULL);
SELECT * FROM migrate_plan('/no/such/folder');

RESET search_path;
DROP SCHEMA t_plan CASCADE;
TRUNCATE migrate_history;
