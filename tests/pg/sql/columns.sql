-- migrate_nulls and migrate_set_not_null: making a column of a table that already has data
-- NOT NULL, with its NULLs filled, refused by name, or moved to <table>_nulls.
\set VERBOSITY default
SET client_min_messages = warning;
CREATE SCHEMA t_columns;
SET search_path = t_columns, public;

CREATE TABLE people (id integer PRIMARY KEY, email text, name text NOT NULL, nick text);
INSERT INTO people VALUES (5, 'e@x', 'E', 'e'), (2, NULL, 'B', NULL), (3, 'c@x', 'C', 'c'),
                          (4, NULL, 'D', NULL), (1, 'a@x', 'A', 'a');
CREATE TABLE people_template AS SELECT * FROM people;

-- migrate_nulls: the rows by identity, with the total.
SELECT * FROM migrate_nulls('people', 'email');
SELECT count(*) FROM migrate_nulls('people', 'name');
SELECT * FROM migrate_nulls('people', 'nope');
SELECT * FROM migrate_nulls('nope', 'x');

-- 'fail' (the default): the rows are counted and named, SQLSTATE 23502, nothing changes.
SELECT migrate_set_not_null('people', 'email');
\echo :LAST_ERROR_SQLSTATE
SELECT migrate_set_not_null('people', 'email', 'nick');
SELECT count(*) FROM people WHERE email IS NULL;
SELECT attnotnull FROM pg_attribute WHERE attrelid = 'people'::regclass AND attname = 'email';

-- already NOT NULL: nothing to do
SELECT migrate_set_not_null('people', 'name');

-- nothing to fill on clean data: the table is read once (the validation), as a raw SET NOT
-- NULL reads it, not counted first
CREATE TABLE clean_scan (id integer, v text);
INSERT INTO clean_scan SELECT g, 'v' || g FROM generate_series(1, 100) g;
BEGIN;
SELECT migrate_set_not_null('clean_scan', 'v');
SELECT pg_stat_get_xact_numscans('clean_scan'::regclass) AS scans;
ROLLBACK;
DROP TABLE clean_scan;

-- fill: per row, from other columns and a subquery (names resolve through the caller's
-- search_path); no CHECK is left behind
CREATE TABLE defaults (k text, v text);
INSERT INTO defaults VALUES ('mail', '@example');
SELECT migrate_set_not_null('people', 'email',
    'lower(name) || (SELECT v FROM defaults WHERE k = ''mail'')');
SELECT id, email FROM people ORDER BY id;
SELECT attnotnull FROM pg_attribute WHERE attrelid = 'people'::regclass AND attname = 'email';
SELECT conname FROM pg_constraint WHERE conrelid = 'people'::regclass ORDER BY 1;
INSERT INTO people (id, name) VALUES (9, 'N');

-- quarantine: exactly the rows still NULL move to people_nulls
SELECT migrate_set_not_null('people', 'nick', NULL, 'quarantine');
SELECT id, name, migrate_moved_at IS NOT NULL AS stamped FROM people_nulls ORDER BY id;
SELECT id FROM people ORDER BY id;

-- bad arguments, before anything is read
SELECT migrate_set_not_null('people_template', 'email', NULL, 'drop');
SELECT migrate_set_not_null('people_template', 'email', '1; DROP TABLE people');
SELECT migrate_set_not_null('people_template', 'email', '1) WHERE false --');
SELECT migrate_set_not_null('people_template', 'email', '$$x$$');
SELECT migrate_set_not_null('people_template', NULL);
SELECT migrate_set_not_null('people_template', 'email', 'no_such_column');
SELECT migrate_set_not_null('migrate_history', 'name');
SELECT count(*) FROM people_template WHERE email IS NULL;

-- in the caller's transaction: rolled back with it
BEGIN;
SELECT migrate_set_not_null('people_template', 'email', '''none''');
ROLLBACK;
SELECT count(*) FROM people_template WHERE email IS NULL;

-- a table referenced by another: quarantine would delete referenced rows, refused
CREATE TABLE parents (id integer PRIMARY KEY, label text);
CREATE TABLE children (id integer PRIMARY KEY, parent_id integer REFERENCES parents ON DELETE CASCADE);
INSERT INTO parents VALUES (1, 'a'), (2, NULL);
INSERT INTO children VALUES (1, 1), (2, 2);
SELECT migrate_set_not_null('parents', 'label', NULL, 'quarantine');
SELECT count(*) FROM children;

-- a partitioned table: SET NOT NULL on its own
CREATE TABLE measures (id integer, at date, value numeric) PARTITION BY RANGE (at);
CREATE TABLE measures_2024 PARTITION OF measures FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
INSERT INTO measures VALUES (1, '2024-02-01', NULL), (2, '2024-03-01', 2);
SELECT migrate_set_not_null('measures', 'value', '0');
SELECT attrelid::regclass, attnotnull FROM pg_attribute
 WHERE attrelid IN ('measures'::regclass, 'measures_2024'::regclass) AND attname = 'value' ORDER BY 1;

-- hostile identifiers are names, never SQL
CREATE TABLE sentinel (x integer);
INSERT INTO sentinel VALUES (1);
CREATE TABLE "we""ird'; DROP TABLE sentinel; -- t" (id integer PRIMARY KEY, "co""l'; --" text);
INSERT INTO "we""ird'; DROP TABLE sentinel; -- t" VALUES (1, 'v'), (2, NULL);
SELECT * FROM migrate_nulls('we"ird''; DROP TABLE sentinel; -- t', 'co"l''; --');
SELECT migrate_set_not_null('we"ird''; DROP TABLE sentinel; -- t', 'co"l''; --', NULL, 'quarantine');
SELECT count(*) FROM "we""ird'; DROP TABLE sentinel; -- t_nulls";
SELECT x FROM sentinel;

-- migrate_rebuild is SQLite's: PostgreSQL alters tables in place
SELECT count(*) FROM pg_proc WHERE proname = 'migrate_rebuild';

-- inside a migration applied by migrate_apply (from migrate_scripts)
TRUNCATE migrate_history;
CREATE TABLE staff (id integer PRIMARY KEY, email text);
INSERT INTO staff VALUES (1, 'a'), (2, NULL);
INSERT INTO migrate_scripts (version, name, up_sql) VALUES
    ('9001', 'staff_email', 'SELECT migrate_set_not_null(''staff'', ''email'');');
SELECT migrate_apply(NULL);
SELECT count(*) FROM migrate_history WHERE version = '9001';
UPDATE staff SET email = 'b' WHERE id = 2;
SELECT migrate_apply(NULL);
SELECT attnotnull FROM pg_attribute WHERE attrelid = 'staff'::regclass AND attname = 'email';
TRUNCATE migrate_history;
TRUNCATE migrate_scripts;

-- migrate_add_column: NOT NULL from the start on a table with rows; the default, a fill (a row
-- whose fill is NULL takes the default), NOT NULL without a CHECK left behind
CREATE TABLE members (id integer PRIMARY KEY, name text, nick text);
INSERT INTO members VALUES (1, 'a', 'x'), (2, 'b', NULL), (3, 'c', 'z');
SELECT migrate_add_column('members', 'score', 'integer', NULL, '0');
SELECT migrate_add_column('members', 'handle', 'text COLLATE "C"', 'nick || ''!''', '''anon''');
SELECT id, score, handle FROM members ORDER BY id;
SELECT attname, format_type(atttypid, atttypmod), attnotnull, pg_get_expr(adbin, adrelid)
  FROM pg_attribute LEFT JOIN pg_attrdef ON adrelid = attrelid AND adnum = attnum
 WHERE attrelid = 'members'::regclass AND attname IN ('score', 'handle') ORDER BY attnum;
SELECT conname FROM pg_constraint WHERE conrelid = 'members'::regclass ORDER BY 1;
INSERT INTO members (id, name) VALUES (9, 'n');
SELECT score, handle FROM members WHERE id = 9;
-- rows left NULL: named, SQLSTATE 23502, the column is not added
SELECT migrate_add_column('members', 'label', 'text', 'nick');
\echo :LAST_ERROR_SQLSTATE
SELECT migrate_add_column('members', 'label', 'text');
SELECT migrate_add_column('members', 'name', 'text', '''x''');
SELECT migrate_add_column('members', 'label', 'text); DROP TABLE members; --');
SELECT migrate_add_column('members', 'label', 'text', NULL, '1); DROP TABLE members; --');
SELECT migrate_add_column('members', 'label', NULL);
SELECT migrate_add_column('members', 'label', 'text', 'no_such_column');
SELECT migrate_add_column('migrate_history', 'label', 'text', NULL, '''x''');
SELECT count(*) FROM pg_attribute WHERE attrelid = 'members'::regclass AND attname = 'label';
-- in the caller's transaction: rolled back with it
BEGIN;
SELECT migrate_add_column('members', 'label', 'text', 'name');
ROLLBACK;
SELECT count(*) FROM pg_attribute WHERE attrelid = 'members'::regclass AND attname = 'label';
-- hostile identifiers
SELECT migrate_add_column('we"ird''; DROP TABLE sentinel; -- t', 'ne"w''; --', 'integer', 'id * 10');
SELECT "ne""w'; --" FROM "we""ird'; DROP TABLE sentinel; -- t" ORDER BY id;
SELECT x FROM sentinel;
-- inside a migration applied by migrate_apply
TRUNCATE migrate_history;
INSERT INTO migrate_scripts (version, name, up_sql) VALUES
    ('9002', 'members_label', 'SELECT migrate_add_column(''members'', ''label'', ''text'', ''nick'');');
SELECT migrate_apply(NULL);
SELECT count(*) FROM migrate_history WHERE version = '9002';
UPDATE migrate_scripts SET up_sql = 'SELECT migrate_add_column(''members'', ''label'', ''text'', ''nick'', ''''''?'''''');'
 WHERE version = '9002';
SELECT migrate_apply(NULL);
SELECT id, label FROM members ORDER BY id;
TRUNCATE migrate_history;
TRUNCATE migrate_scripts;

RESET search_path;
DROP SCHEMA t_columns CASCADE;
