-- A migration that calls migrate_apply (or any call but migrate_add_unique and
-- migrate_duplicates) is refused with a clear error, not a failure on stack depth.
\set VERBOSITY default
\getenv fixtures MIGRATE_FIXTURES
\set loop :fixtures '/reentry'
\set uniq :fixtures '/reentry_unique'
SET client_min_messages = warning;
TRUNCATE migrate_history;
CREATE SCHEMA t_reentry;
SET search_path = t_reentry, public;
SELECT set_config('t_reentry.dir', :'loop', false) IS NOT NULL AS set;

SELECT migrate_apply(:'loop');
SELECT count(*) AS history_rows FROM migrate_history;
SELECT to_regclass('loop_t') AS loop_table;

-- migrate_add_unique is a statement a migration may hold
SELECT migrate_apply(:'uniq');
SELECT version, success FROM migrate_history ORDER BY id;
SELECT indexname FROM pg_indexes WHERE tablename = 'reentry_u';

-- after the refusal, calls work again in this session
SELECT migrate_validate(:'uniq');

TRUNCATE migrate_history;
DROP SCHEMA t_reentry CASCADE;
