-- The extension's own queries are schema-qualified: decoys on the caller's search_path do not
-- capture its history. Migration scripts run with the caller's search_path.
\set VERBOSITY default
\getenv fixtures MIGRATE_FIXTURES
\set dir :fixtures '/search_path'
SET client_min_messages = warning;
TRUNCATE migrate_history;

-- A hostile schema first on search_path (even before pg_catalog) with a migrate_history table
-- that would accept the rows, and decoys of functions a query might call unqualified.
CREATE SCHEMA hostile;
CREATE TABLE hostile.migrate_history (LIKE public.migrate_history);
ALTER TABLE hostile.migrate_history ALTER COLUMN id SET DEFAULT 0;
CREATE FUNCTION hostile.now() RETURNS timestamptz LANGUAGE sql AS $$ SELECT 'epoch'::timestamptz $$;
CREATE FUNCTION hostile.pg_advisory_xact_lock(bigint) RETURNS void LANGUAGE plpgsql
    AS $$ BEGIN RAISE EXCEPTION 'hostile lock called'; END $$;
CREATE FUNCTION hostile.upper(text) RETURNS text LANGUAGE sql AS $$ SELECT 'hostile' $$;
CREATE SCHEMA app;
SET search_path = hostile, pg_catalog, public;

SELECT migrate_apply(:'dir') AS applied;
SELECT count(*) AS decoy_rows FROM hostile.migrate_history;
SELECT version, name FROM public.migrate_history ORDER BY id;
SELECT version, state FROM public.migrations_status(:'dir');
-- ... while the migrations' own CREATE TABLE users did land in the first schema, hostile.
SELECT schemaname, tablename FROM pg_tables WHERE tablename = 'users';

-- Again with another schema first: CREATE TABLE users lands there, INSERT INTO users finds it.
DROP TABLE hostile.users;
TRUNCATE public.migrate_history;
SET search_path = app, public;
SELECT migrate_apply(:'dir') AS applied;
SELECT schemaname, tablename FROM pg_tables WHERE tablename = 'users';
SELECT * FROM app.users;
SELECT count(*) AS decoy_rows FROM hostile.migrate_history;

-- The extension in a schema of its own that is not on search_path at all, with a decoy
-- migrate_history in public: calls qualified with its schema record into its own table.
DROP TABLE app.users;
RESET search_path;
SET migrate.drop_history = 'allow'; -- the history of this test goes with the extension
DROP EXTENSION migrate;
CREATE SCHEMA tools;
CREATE EXTENSION migrate SCHEMA tools;
CREATE TABLE public.migrate_history (LIKE tools.migrate_history);
ALTER TABLE public.migrate_history ALTER COLUMN id SET DEFAULT 0;
SET search_path = app, public;
SELECT tools.migrate_apply(:'dir') AS applied;
SELECT version, name FROM tools.migrate_history ORDER BY id;
SELECT count(*) AS decoy_rows FROM public.migrate_history;
SELECT version, state FROM tools.migrations_status(:'dir');
SELECT version, state FROM tools.migrations_status;
SELECT * FROM tools.migrate_plan(:'dir');

-- A migration run by the extension in its own schema calls migrate_add_unique qualified with
-- that schema, as the README says: the migration runs with the caller's search_path, on which
-- the extension's schema is not. Unqualified, the function is not found and nothing is applied.
TRUNCATE tools.migrate_history; -- this source holds none of the folder's migrations
INSERT INTO tools.migrate_scripts VALUES ('900', 'unique_qualified',
    'CREATE TABLE app.people (id integer PRIMARY KEY, email text);
     INSERT INTO app.people VALUES (1, ''a''), (2, ''a''), (3, ''b'');
     SELECT tools.migrate_add_unique(''people'', ''email'', NULL, ''keep_first'');');
SELECT tools.migrate_apply(NULL) AS applied;
SELECT id, email FROM app.people ORDER BY id;
SELECT id, email FROM app.people_duplicates ORDER BY id;
INSERT INTO tools.migrate_scripts VALUES ('901', 'unique_unqualified',
    'SELECT migrate_add_unique(''people'', ''id'');');
SELECT tools.migrate_apply(NULL) AS applied;
SELECT version, state FROM tools.migrations_status WHERE version IN ('900', '901');
DELETE FROM tools.migrate_scripts WHERE version = '901';

-- Back to the extension in public for the tests that follow.
RESET search_path;
DROP TABLE public.migrate_history;
DROP EXTENSION migrate;
DROP SCHEMA tools;
CREATE EXTENSION migrate;
DROP SCHEMA app CASCADE;
DROP SCHEMA hostile CASCADE;
