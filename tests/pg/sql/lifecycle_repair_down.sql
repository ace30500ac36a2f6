-- After migrate_repair accepted a changed migration (its 'repair' row keeps the scripts as they
-- are now), a revert with the down file gone runs the down script the repair accepted, as it
-- would have run the file's down script had the file still been there; not the one recorded
-- by the original apply. applied, fixed and gone are one folder at three moments.
\set VERBOSITY default
\getenv fixtures MIGRATE_FIXTURES
SET client_min_messages = warning;
TRUNCATE migrate_history;
CREATE SCHEMA t_lifecycle_repair;
SET search_path = t_lifecycle_repair, public;

-- Applied with a down script that has a typo.
\set dir :fixtures '/lifecycle_repair_down/applied'
SELECT migrate_apply(:'dir') AS applied;
-- The file is fixed (the up script gets a comment, the down script the right table) and the
-- change accepted.
\set dir :fixtures '/lifecycle_repair_down/fixed'
SELECT version, state FROM migrations_status(:'dir');
SELECT migrate_repair(:'dir');
SELECT direction, down_sql FROM migrate_history ORDER BY id;
-- The down file is gone: the revert runs the accepted down script.
\set dir :fixtures '/lifecycle_repair_down/gone'
SELECT migrate_rollback(:'dir') AS reverted, to_regclass('lc_ra') AS lc_ra;
SELECT version, direction, down_sql FROM migrate_history WHERE direction = 'down';
SELECT version, state FROM migrations_status(:'dir');

RESET search_path;
DROP SCHEMA t_lifecycle_repair CASCADE;
TRUNCATE migrate_history;
