-- Folders the core refuses to read: duplicate versions and .sql files without a version.
-- Each error names the files; nothing is applied.
\set VERBOSITY default
\getenv fixtures MIGRATE_FIXTURES
SET client_min_messages = warning;
TRUNCATE migrate_history;
CREATE SCHEMA t_names;
SET search_path = t_names, public;

\set dir :fixtures '/names/dup'
SELECT migrate_apply(:'dir');

\set dir :fixtures '/names/dup_flyway'
SELECT migrate_apply(:'dir');

\set dir :fixtures '/names/dup_pair'
SELECT migrate_apply(:'dir');

\set dir :fixtures '/names/noversion'
SELECT migrate_apply(:'dir');

\set dir :fixtures '/names/noversion_up'
SELECT migrate_apply(:'dir');

\set dir :fixtures '/names/repeatable'
SELECT migrate_apply(:'dir');

\set dir :fixtures '/names/down_only'
SELECT migrate_apply(:'dir');

\set dir :fixtures '/names/folder_no_up'
SELECT migrate_apply(:'dir');

\set dir :fixtures '/names/second_marker'
SELECT migrate_apply(:'dir');

\set dir :fixtures '/names/before_marker'
SELECT migrate_apply(:'dir');

-- migrate_plan and migrations_status refuse the same folders.
\set dir :fixtures '/names/dup'
SELECT * FROM migrate_plan(:'dir');
SELECT * FROM migrations_status(:'dir');
\set dir :fixtures '/names/noversion'
SELECT * FROM migrate_plan(:'dir');
SELECT * FROM migrations_status(:'dir');

SELECT count(*) AS history_rows FROM migrate_history;

RESET search_path;
DROP SCHEMA t_names CASCADE;
TRUNCATE migrate_history;
