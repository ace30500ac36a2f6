-- An ERROR raised by migrate_apply outside the migrations' own statements (while it reads or
-- records history: here a trigger on migrate_history, or a role without privileges on it; in
-- life also a lock_timeout on the migration lock) must, like every other error, leave the call
-- undone and the session usable. Each case ends with \c so that a broken session cannot
-- spill into the next one.
\set VERBOSITY default
\getenv fixtures MIGRATE_FIXTURES
\set dir :fixtures '/notice'
SET client_min_messages = warning;
TRUNCATE migrate_history;
CREATE SCHEMA t_session;
CREATE FUNCTION t_session.refuse_history() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'history is read-only today';
END
$$;
CREATE TRIGGER refuse_history BEFORE INSERT ON public.migrate_history
    FOR EACH ROW EXECUTE FUNCTION t_session.refuse_history();

-- 1. In autocommit mode (the context of these errors depends on where they are raised, so
--    only their messages are shown).
SET search_path = t_session, public;
\set SHOW_CONTEXT never
SELECT migrate_apply(:'dir');
SELECT 'session usable' AS status;
SELECT count(*) AS history_rows, to_regclass('hello') AS hello FROM migrate_history;
-- the same call fails the same way again
SELECT migrate_apply(:'dir');
SELECT 'session still usable' AS status;
\c

-- 2. In a transaction block: ROLLBACK ends the failed transaction.
SET client_min_messages = warning;
SET search_path = t_session, public;
\set SHOW_CONTEXT never
BEGIN;
SELECT migrate_apply(:'dir');
ROLLBACK;
SELECT 'session usable after ROLLBACK' AS status;
\c

-- 3. A role with pg_read_server_files and EXECUTE but no privileges on migrate_history.
SET client_min_messages = warning;
DROP TRIGGER refuse_history ON public.migrate_history;
CREATE ROLE migrate_no_history;
GRANT pg_read_server_files TO migrate_no_history;
GRANT EXECUTE ON FUNCTION migrate_apply(text, text, integer) TO migrate_no_history;
GRANT USAGE, CREATE ON SCHEMA t_session TO migrate_no_history;
SET search_path = t_session, public;
SET ROLE migrate_no_history;
\set SHOW_CONTEXT never
SELECT migrate_apply(:'dir');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT 'session usable' AS status;
RESET ROLE;
\c

-- Nothing was applied by any of them; without the trigger, as superuser, the folder applies.
SET client_min_messages = warning;
SELECT count(*) AS history_rows, to_regclass('t_session.hello') AS hello FROM migrate_history;
SET search_path = t_session, public;
SELECT migrate_apply(:'dir') AS applied;
SELECT version, state FROM migrations_status(:'dir');

RESET search_path;
DROP SCHEMA t_session CASCADE;
TRUNCATE migrate_history;
REVOKE ALL ON FUNCTION migrate_apply(text, text, integer) FROM migrate_no_history;
REVOKE pg_read_server_files FROM migrate_no_history;
DROP ROLE migrate_no_history;
