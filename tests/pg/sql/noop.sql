-- Empty, blank and comments-only up scripts apply as recorded no-ops.
\set VERBOSITY default
\getenv fixtures MIGRATE_FIXTURES
\set dir :fixtures '/noop'
SET client_min_messages = warning;
TRUNCATE migrate_history;
CREATE SCHEMA t_noop;
SET search_path = t_noop, public;

SELECT * FROM migrate_plan(:'dir');
SELECT migrate_apply(:'dir') AS applied;
SELECT version, name, script, success, length(up_sql) AS up_length, down_sql,
       checksum = encode(sha256(convert_to(up_sql, 'UTF8')), 'hex') AS checksum_of_up_sql
  FROM migrate_history ORDER BY id;
SELECT version, state FROM migrations_status(:'dir');
SELECT to_regclass('noop_after') AS noop_after;
SELECT migrate_apply(:'dir') AS applied;

RESET search_path;
DROP SCHEMA t_noop CASCADE;
TRUNCATE migrate_history;
