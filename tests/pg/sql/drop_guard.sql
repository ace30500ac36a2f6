-- DROP EXTENSION would drop migrate_history with it, and a later CREATE EXTENSION would show
-- every applied migration as pending: refused while history records applied migrations, unless
-- migrate.drop_history = 'allow'.
\set VERBOSITY default
\getenv fixtures MIGRATE_FIXTURES
\set dir :fixtures '/basic'
SET client_min_messages = warning;
TRUNCATE migrate_history;

SELECT migrate_apply(:'dir') AS applied;
DROP EXTENSION migrate;
DROP EXTENSION migrate CASCADE;
DROP EXTENSION IF EXISTS migrate, plpgsql_missing;
SELECT count(*) AS history_rows FROM migrate_history;

-- The extension in a schema of its own: DROP SCHEMA ... CASCADE would drop it too.
SET migrate.drop_history = 'allow';
DROP EXTENSION migrate;
RESET migrate.drop_history;
DROP TABLE comments, tags, posts, users;
CREATE SCHEMA tools;
CREATE EXTENSION migrate SCHEMA tools;
SELECT tools.migrate_apply(:'dir') AS applied;
DROP SCHEMA tools CASCADE;
SELECT count(*) AS history_rows FROM tools.migrate_history;

-- Everything reverted: nothing is in force, so the drop goes through.
SELECT tools.migrate_to(:'dir', '0') AS reverted;
DROP EXTENSION migrate;
SELECT count(*) AS extensions FROM pg_extension WHERE extname = 'migrate';
DROP SCHEMA tools;

-- Back to the extension in public, with an empty history, for the tests that follow.
CREATE EXTENSION migrate;
SELECT count(*) AS history_rows FROM migrate_history;
-- The drop is refused until allowed; allowed, history goes with the extension.
SELECT migrate_apply(:'dir') AS applied;
SET migrate.drop_history = 'allow';
DROP EXTENSION migrate;
RESET migrate.drop_history;
CREATE EXTENSION migrate;
SELECT count(*) AS history_rows FROM migrate_history;
DROP TABLE comments, tags, posts, users;
-- Dropping other schemas is not affected.
CREATE SCHEMA other;
CREATE TABLE other.t (x integer);
DROP SCHEMA other CASCADE;
-- A baseline alone counts: without it the next apply would run everything over the schema.
SELECT migrate_baseline('3') AS baseline;
DROP EXTENSION migrate;
TRUNCATE migrate_history;
