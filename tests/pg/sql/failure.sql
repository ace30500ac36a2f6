-- A failing statement: the whole call is undone, the ERROR keeps PostgreSQL's SQLSTATE and
-- message, CONTEXT names the migration, the file, the line and column of the failing token and
-- shows that line with a caret (as psql shows a syntax error), and the session stays usable.
\set VERBOSITY default
\getenv fixtures MIGRATE_FIXTURES
\set dir :fixtures '/scratch_failure'
SET client_min_messages = warning;
TRUNCATE migrate_history;
CREATE SCHEMA t_failure;
SET search_path = t_failure, public;
\! rm -rf "$MIGRATE_FIXTURES/scratch_failure" && cp -R "$MIGRATE_FIXTURES/failure" "$MIGRATE_FIXTURES/scratch_failure" && chmod -R a+rX "$MIGRATE_FIXTURES/scratch_failure"

-- 1 is fine; the third statement of 2 (a dbmate file whose up section starts on line 4)
-- starts on line 8 of 2_second.sql and reads a table that does not exist, named on line 9.
SELECT migrate_apply(:'dir');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- No trace of migration 1, nor of the statements of 2 that ran before the failure.
SELECT to_regclass('f_first') AS f_first, to_regclass('f_second') AS f_second,
       to_regclass('f_third') AS f_third;
SELECT count(*) AS history_rows FROM migrate_history;
SELECT version, state FROM migrations_status(:'dir');

-- The SQLSTATE as PostgreSQL would report it for the statement itself.
\set VERBOSITY sqlstate
SELECT migrate_apply(:'dir');
\set VERBOSITY default
-- Exception handlers see it by condition name, with the migration in the context.
SELECT set_config('test.dir', :'dir', false) IS NOT NULL AS dir_set;
DO $$
DECLARE
    state text;
    message text;
    context text;
BEGIN
    PERFORM migrate_apply(current_setting('test.dir'));
EXCEPTION WHEN undefined_table THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                            context = PG_EXCEPTION_CONTEXT;
    RAISE WARNING 'caught %: % [%]', state, message, split_part(context, E'\n', 1);
END
$$;
-- Still nothing applied.
SELECT count(*) AS history_rows, to_regclass('f_first') AS f_first FROM migrate_history;

-- The session is usable: fix the file and apply again in the same session.
\! cp "$MIGRATE_FIXTURES/failure_fix/2_second.sql" "$MIGRATE_FIXTURES/scratch_failure/2_second.sql" && chmod a+r "$MIGRATE_FIXTURES/scratch_failure/2_second.sql"
SELECT migrate_apply(:'dir') AS applied;
SELECT version, state FROM migrations_status(:'dir');
SELECT id FROM f_second ORDER BY id;

-- A syntax error: the whole script is parsed before any of it runs, and CONTEXT gives the
-- line and column of the bad token (line 5 of 2_typo.sql; its statement starts on line 3).
\set dir :fixtures '/syntax'
TRUNCATE migrate_history;
SELECT migrate_apply(:'dir');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT count(*) AS history_rows, to_regclass('syn_ok') AS syn_ok, to_regclass('syn_typo') AS syn_typo
  FROM migrate_history;

-- From scratch again, with a fourth migration failing in its first statement (a pair file):
-- line 1 of 4_divide.up.sql, and none of 1 to 3 remains.
\! printf 'SELECT 1/0;\n' > "$MIGRATE_FIXTURES/scratch_failure/4_divide.up.sql" && chmod a+r "$MIGRATE_FIXTURES/scratch_failure/4_divide.up.sql"
\set dir :fixtures '/scratch_failure'
DROP TABLE f_first, f_second, f_third;
TRUNCATE migrate_history;
SELECT migrate_apply(:'dir');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT count(*) AS history_rows, to_regclass('f_first') AS f_first, to_regclass('f_third') AS f_third
  FROM migrate_history;

-- Forty migrations create tables, indexes and sequences, then the forty-first fails: all of
-- them share the call's subtransaction, and its rollback leaves none of them, nor any lock.
\! rm -rf "$MIGRATE_FIXTURES/scratch_many" && mkdir "$MIGRATE_FIXTURES/scratch_many" && for i in $(seq 1 40); do printf 'CREATE TABLE many_%d (id serial PRIMARY KEY, v text UNIQUE);\nINSERT INTO many_%d (v) VALUES (%s);\n' $i $i "'x'" > "$MIGRATE_FIXTURES/scratch_many/${i}_many.up.sql"; done && printf 'SELECT 1;\nINSERT INTO many_1 (v) VALUES (%s);\n' "'x'" > "$MIGRATE_FIXTURES/scratch_many/41_clash.up.sql" && chmod -R a+rX "$MIGRATE_FIXTURES/scratch_many"
\set dir :fixtures '/scratch_many'
TRUNCATE migrate_history;
SELECT migrate_apply(:'dir');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT count(*) AS history_rows, to_regclass('many_1') AS many_1, to_regclass('many_40') AS many_40
  FROM migrate_history;
SELECT count(*) AS locks_left FROM pg_locks
 WHERE pid = pg_backend_pid() AND locktype IN ('relation', 'advisory')
   AND relation IS DISTINCT FROM 'pg_locks'::regclass;
-- Fixed, the same session applies all 41.
\! printf 'SELECT 1;\nINSERT INTO many_1 (v) VALUES (%s);\n' "'y'" > "$MIGRATE_FIXTURES/scratch_many/41_clash.up.sql"
SELECT migrate_apply(:'dir') AS applied;
SELECT count(*) AS rows_in_many_1 FROM many_1;
\! rm -rf "$MIGRATE_FIXTURES/scratch_many"

RESET search_path;
DROP SCHEMA t_failure CASCADE;
TRUNCATE migrate_history;
\! rm -rf "$MIGRATE_FIXTURES/scratch_failure"
