-- Scripts run as written: comments, ';' inside literals and quoted identifiers, dollar-quoted
-- function bodies, DO blocks, ANALYZE, and a last statement without a semicolon.
\set VERBOSITY default
\getenv fixtures MIGRATE_FIXTURES
\set dir :fixtures '/scripts'
SET client_min_messages = warning;
TRUNCATE migrate_history;
CREATE SCHEMA t_scripts;
SET search_path = t_scripts, public;

SELECT migrate_apply(:'dir') AS applied;
SELECT id, body FROM notes ORDER BY id;
SELECT * FROM "odd;name";
SELECT note_count();
SELECT shout('hi');
SELECT obj_description('notes'::regclass, 'pg_class') AS notes_comment;
-- the recorded script is the file as written
SELECT up_sql = pg_read_file(:'dir' || '/1_objects.sql') AS up_sql_is_the_file FROM migrate_history;

RESET search_path;
DROP SCHEMA t_scripts CASCADE;
TRUNCATE migrate_history;
