-- Schema drift: migrate_schema describes the schema, every changing call records its
-- fingerprint in migrate_schema_history, migrate_drift names what changed by hand since, and
-- migrate.drift decides what apply does about it.
\set VERBOSITY default
\getenv fixtures MIGRATE_FIXTURES
SET client_min_messages = warning;
\setenv TEST_DB :DBNAME
TRUNCATE migrate_history;
TRUNCATE migrate_schema_history;
\set dir :fixtures '/schema_drift'

-- Nothing recorded yet: in sync, whatever the schema holds.
SELECT count(*) AS drifted FROM migrate_drift();
SELECT migrate_apply(:'dir', '1') AS applied;
SELECT operation, history_id = (SELECT max(id) FROM migrate_history) AS after_last_row,
       fingerprint = encode(sha256(convert_to(description, 'UTF8')), 'hex') AS is_sha256
  FROM migrate_schema_history;
SELECT count(*) AS drifted FROM migrate_drift();
-- one line per object: kind, name, definition; schema-qualified, sorted
SELECT line FROM regexp_split_to_table(migrate_schema(), E'\n') AS line
 WHERE line LIKE '%t_drift%' ORDER BY line COLLATE "C";
-- the caller's search_path changes nothing
SELECT migrate_schema() AS described \gset
SET search_path = t_drift, public;
SELECT migrate_schema() = :'described' AS same_under_another_search_path;
RESET search_path;

-- An index by hand: named; under drift = error the apply is refused and changes nothing.
CREATE INDEX people_email ON t_drift.people (email);
SELECT kind, name, change, recorded, live FROM migrate_drift();
SET migrate.drift = error;
SELECT migrate_apply(:'dir') AS applied;
SELECT count(*) AS history_rows, to_regclass('t_drift.teams') AS teams FROM migrate_history;
-- migrate_check refuses where migrate_apply refuses; under ignore it rehearses
SELECT version, outcome FROM migrate_check(:'dir');
SET migrate.drift = ignore;
SELECT version, outcome FROM migrate_check(:'dir');
SET migrate.drift = error;
-- validate always reports it, even under ignore
SET migrate.drift = ignore;
SELECT migrate_validate(:'dir');
-- repair accepts the live schema
SELECT migrate_repair(:'dir');
SELECT count(*) AS drifted FROM migrate_drift();
SET migrate.drift = error;
SELECT migrate_apply(:'dir') AS applied;
SELECT operation FROM migrate_schema_history ORDER BY id;

-- A dropped column, a changed default and a new trigger: each named with its kind.
ALTER TABLE t_drift.people DROP COLUMN born;
ALTER TABLE t_drift.people ALTER COLUMN nick SET DEFAULT 'someone';
CREATE FUNCTION t_drift.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER people_touch BEFORE UPDATE ON t_drift.people
    FOR EACH ROW EXECUTE FUNCTION t_drift.touch();
SELECT kind, name, change, recorded, live FROM migrate_drift() WHERE kind <> 'function';
SELECT kind, name, change FROM migrate_drift() WHERE kind = 'function';
-- under warn (the default) a NOTICE names them and the call goes on, recording the live schema
-- (in a psql of its own, the times of the progress NOTICEs masked)
RESET migrate.drift;
\! psql -X -q -d "$TEST_DB" -c "SELECT migrate_rollback('$MIGRATE_FIXTURES/schema_drift') AS reverted" 2>&1 | sed -E 's/\([0-9]+ ms\)/(N ms)/'
SELECT count(*) AS drifted FROM migrate_drift();
-- a bad value is refused by the setting itself
SET migrate.drift = off;

-- migrate_add_unique records the index it made: no drift.
SET search_path = t_drift, public;
SELECT migrate_add_unique('people', 'email') IS NOT NULL AS added;
RESET search_path;
SELECT count(*) AS drifted FROM migrate_drift();
SELECT migrate_to(:'dir', '0') AS reverted;
SELECT count(*) AS drifted FROM migrate_drift();
