-- migrate_add_unique and migrate_duplicates on PostgreSQL alone: the unique index attached as a
-- constraint, SQLSTATEs, ctid and partitions, foreign keys and triggers, savepoints, schemas on
-- search_path, names near 63 bytes, existing constraints, operator classes and expressions, and
-- rules, policies and views where the quarantine table would go. The behaviour itself (clean
-- data, 'fail', keep_first / keep_last, composite keys, NULLs, case-insensitive collations,
-- several columns, ROLLBACK / COMMIT, hostile identifiers, errors, idempotence, on_duplicate,
-- the report, a quarantine table made beforehand, the own tables) is written once for both
-- engines in tests/cases/unique.sh (run by tests/cases/run_pg.sh). (Inside a migration applied
-- by migrate_apply: unique_migration.sql.)
\set VERBOSITY default
SET client_min_messages = warning;
CREATE SCHEMA t_unique;
SET search_path = t_unique, public;

-- What a table looks like to the tests: its indexes and constraints, and its rows.
CREATE FUNCTION t_unique.catalog_of(rel regclass)
RETURNS TABLE (kind text, name text, definition text)
LANGUAGE sql AS $$
    SELECT 'index', i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
      FROM pg_index i WHERE i.indrelid = rel
    UNION ALL
    SELECT 'constraint ' || c.contype::text, c.conname::text, pg_get_constraintdef(c.oid)
      FROM pg_constraint c WHERE c.conrelid = rel
    ORDER BY 1, 2
$$;
-- Every relation of the schema.
CREATE VIEW t_unique.relations AS
    SELECT c.relname::text AS relation, c.relkind::text AS kind FROM pg_class c
     WHERE c.relnamespace = 't_unique'::regnamespace AND c.relkind IN ('r', 'i', 'S', 'v')
     ORDER BY 1;

-- users: ids inserted out of order (so that primary key order is not insertion or ctid
-- order), two duplicate groups on email ('a@x.com' x3, 'b@x.com' x2), two NULL emails.
CREATE TABLE users (id integer PRIMARY KEY, email text, name text);
INSERT INTO users VALUES (6, 'a@x.com', 'a6'), (2, 'b@x.com', 'b2'), (3, 'a@x.com', 'a3'),
                         (4, NULL, 'n4'), (5, NULL, 'n5'), (1, 'a@x.com', 'a1'),
                         (7, 'b@x.com', 'b7'), (8, 'c@x.com', 'c8');
CREATE TABLE users_template AS SELECT * FROM users;

---------------------------------------------------------------------------------------------
-- Clean data: a unique index <table>_<cols>_key attached as a UNIQUE constraint.
CREATE TABLE clean (id integer PRIMARY KEY, email text, name text);
INSERT INTO clean VALUES (1, 'a@x.com', 'x'), (2, 'b@x.com', 'y'), (3, NULL, NULL), (4, NULL, NULL);
SELECT migrate_add_unique('clean', 'email');
\d clean
SELECT conname, contype, conindid::regclass AS index, pg_get_constraintdef(oid) AS definition
  FROM pg_constraint WHERE conrelid = 'clean'::regclass ORDER BY conname;
-- an index name of the caller's choosing; on_duplicate given explicitly or as NULL
SELECT migrate_add_unique('clean', 'name', 'clean_by_name', 'fail');
SELECT migrate_add_unique('clean', 'id, name', 'clean_id_name', NULL);
SELECT * FROM catalog_of('clean');

---------------------------------------------------------------------------------------------
-- Duplicates with 'fail' (the default): SQLSTATE 23505, the groups and rows counted, the first
-- keys shown, a hint naming migrate_duplicates; nothing changes.
SELECT count(*) AS users_rows, md5(string_agg(u::text, ';' ORDER BY id)) AS users_digest
  FROM users u \gset before_
SELECT * FROM relations;
SELECT * FROM catalog_of('users');
SELECT migrate_add_unique('users', 'email');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT count(*) AS users_rows, md5(string_agg(u::text, ';' ORDER BY id)) = :'before_users_digest'
       AS same_rows
  FROM users u;
SELECT * FROM relations;
SELECT * FROM catalog_of('users');
-- exception handlers see it as unique_violation
DO $$
BEGIN
    PERFORM migrate_add_unique('users', 'email');
EXCEPTION WHEN unique_violation THEN
    RAISE WARNING 'caught unique_violation: %', SQLERRM;
END
$$;

---------------------------------------------------------------------------------------------
-- keep_first: the row with the lowest primary key of each group stays; the others, and only
-- they, move to users_duplicates (the same columns plus migrate_moved_at) in the same call.
SELECT migrate_add_unique('users', 'email', NULL, 'keep_first');
\d users_duplicates
SELECT * FROM catalog_of('users');
-- Without a primary key, rows are identified and ordered by ctid ((0,10) after (0,4)).
CREATE TABLE nopk (email text, note text);
INSERT INTO nopk VALUES ('a', 'first a'), ('a', 'second a'), ('b', 'only b'), ('a', 'third a'),
                        ('c', 'first c'), ('c', 'second c'), ('d', 'd'), ('e', 'e'), ('f', 'f'),
                        ('a', 'fourth a');
SELECT * FROM migrate_duplicates('nopk', 'email');
CREATE TABLE nopk_copy AS SELECT * FROM nopk;
SELECT migrate_add_unique('nopk', 'email', NULL, 'keep_first');
SELECT ctid, * FROM nopk ORDER BY ctid;
SELECT email, note FROM nopk_duplicates ORDER BY note;
DROP TABLE nopk, nopk_duplicates;
CREATE TABLE nopk AS SELECT * FROM nopk_copy;
SELECT migrate_add_unique('nopk', 'email', NULL, 'keep_last');
SELECT ctid, * FROM nopk ORDER BY ctid;
SELECT email, note FROM nopk_duplicates ORDER BY note;

---------------------------------------------------------------------------------------------
-- A nondeterministic ICU collation: the index is attached as a constraint as for any column.
CREATE COLLATION t_unique.ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE TABLE ci_users (id integer PRIMARY KEY, email text COLLATE ci);
INSERT INTO ci_users VALUES (1, 'a@x.com'), (2, 'A@X.com');
SELECT migrate_add_unique('ci_users', 'email', NULL, 'keep_first');
SELECT * FROM catalog_of('ci_users');

---------------------------------------------------------------------------------------------
-- Several columns: the key is the combination, in the order given (white space trimmed).
CREATE TABLE members (id integer PRIMARY KEY, org integer, email text);
INSERT INTO members VALUES (1, 1, 'a@x.com'), (2, 2, 'a@x.com'), (3, 1, 'a@x.com'),
                           (4, 1, 'b@x.com'), (5, 2, 'a@x.com'), (6, 2, 'b@x.com');
SELECT migrate_add_unique('members', 'org, email', NULL, 'keep_last');
SELECT * FROM catalog_of('members');

---------------------------------------------------------------------------------------------
-- A child table with ON DELETE CASCADE: the clean path only builds an index (no child row
-- lost, no trigger fires), and a foreign key may then reference the new constraint;
-- keep_first / keep_last refuse, naming the child, and change nothing.
CREATE TABLE parents (id integer PRIMARY KEY, email text, org integer);
CREATE TABLE kids (id integer PRIMARY KEY,
                   parent_id integer NOT NULL REFERENCES parents ON DELETE CASCADE);
CREATE TABLE trigger_log (what text);
CREATE FUNCTION t_unique.log_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO t_unique.trigger_log VALUES (TG_OP);
    RETURN NULL;
END
$$;
CREATE TRIGGER parents_changed AFTER INSERT OR UPDATE OR DELETE ON parents
    FOR EACH ROW EXECUTE FUNCTION t_unique.log_change();
INSERT INTO parents VALUES (1, 'a@x.com', 1), (2, 'b@x.com', 1), (3, 'c@x.com', 2);
INSERT INTO kids VALUES (1, 1), (2, 1), (3, 2), (4, 3);
TRUNCATE trigger_log;
SELECT count(*) AS kids FROM kids;
SELECT migrate_add_unique('parents', 'email');
SELECT migrate_add_unique('parents', 'org, email', NULL, 'keep_first');
SELECT count(*) AS kids FROM kids;
SELECT count(*) AS trigger_calls FROM trigger_log;
CREATE TABLE invites (email text REFERENCES parents (email));
INSERT INTO invites VALUES ('a@x.com');
INSERT INTO invites VALUES ('nobody@x.com');
-- duplicates: deleting parents would cascade to kids
DROP TABLE invites;
ALTER TABLE parents DROP CONSTRAINT parents_email_key, DROP CONSTRAINT parents_org_email_key;
UPDATE parents SET email = 'a@x.com';
TRUNCATE trigger_log;
SELECT migrate_add_unique('parents', 'email', NULL, 'keep_first');
SELECT migrate_add_unique('parents', 'email', NULL, 'keep_last');
SELECT migrate_add_unique('parents', 'email');
SELECT (SELECT count(*) FROM parents) AS parents, (SELECT count(*) FROM kids) AS kids,
       (SELECT count(*) FROM trigger_log) AS trigger_calls,
       to_regclass('parents_duplicates') AS quarantine;
SELECT * FROM catalog_of('parents');
-- a child in a schema off search_path is named with its schema
CREATE SCHEMA t_unique_other;
CREATE TABLE t_unique_other.grandkids (parent_id integer REFERENCES t_unique.kids);
UPDATE kids SET parent_id = 1;
SELECT migrate_add_unique('kids', 'parent_id', NULL, 'keep_first');
DROP SCHEMA t_unique_other CASCADE;

---------------------------------------------------------------------------------------------
-- Inside the caller's transaction: ROLLBACK undoes the index, the moved rows and the
-- quarantine table; COMMIT keeps them; with a savepoint, a refused call leaves the caller's
-- own work in place.
CREATE TABLE tx (id integer PRIMARY KEY, e text);
INSERT INTO tx VALUES (1, 'a'), (2, 'a'), (3, 'b');
BEGIN;
SELECT migrate_add_unique('tx', 'e', NULL, 'keep_last');
COMMIT;
SELECT id FROM tx ORDER BY id;
SELECT id, e FROM tx_duplicates;
SELECT * FROM catalog_of('tx');
BEGIN;
INSERT INTO tx VALUES (9, 'z');
SAVEPOINT before_unique;
ALTER TABLE tx ADD COLUMN f integer DEFAULT 0;
SELECT migrate_add_unique('tx', 'f');
ROLLBACK TO SAVEPOINT before_unique;
COMMIT;
SELECT id FROM tx ORDER BY id;
SELECT * FROM catalog_of('tx');

---------------------------------------------------------------------------------------------
-- Hostile identifiers: names with double quotes, single quotes, semicolons, "--" and spaces
-- are names, never SQL: the sentinel survives, and the report, the error, the quarantine and
-- the constraint all work with them.
CREATE TABLE sentinel (x integer);
INSERT INTO sentinel VALUES (1);
CREATE TABLE "we""ird'; DROP TABLE sentinel; -- t" (
  id integer PRIMARY KEY, "e""m'a;il -- x" text, "full name" text);
INSERT INTO "we""ird'; DROP TABLE sentinel; -- t" VALUES
  (1, 'a''b"c', 'x'), (2, 'a''b"c', 'y'), (3, 'c', 'z'), (4, 'a''b"c', 'x');
SELECT migrate_add_unique('we"ird''; DROP TABLE sentinel; -- t', 'e"m''a;il -- x, full name',
                          'i"dx''; DROP TABLE sentinel; --', 'keep_first');
SELECT migrate_add_unique('we"ird''; DROP TABLE sentinel; -- t', 'e"m''a;il -- x', NULL,
                          'keep_last');
SELECT * FROM catalog_of('"we""ird''; DROP TABLE sentinel; -- t"');
SELECT * FROM relations WHERE relation LIKE '%sentinel%';
SELECT * FROM sentinel;
-- a hostile name in another schema of search_path, and an upper-case name (exact, not folded)
CREATE SCHEMA "t_unique Odd;";
CREATE TABLE "t_unique Odd;"."Mixed Case" ("Id" integer PRIMARY KEY, "E" text);
INSERT INTO "t_unique Odd;"."Mixed Case" VALUES (1, 'k'), (2, 'k');
SET search_path = t_unique, "t_unique Odd;", public;
SELECT migrate_add_unique('mixed case', 'E');
SELECT migrate_add_unique('Mixed Case', 'e');
SELECT migrate_add_unique('Mixed Case', 'E', NULL, 'keep_last');
SELECT * FROM "Mixed Case";
SELECT "Id", "E" FROM "t_unique Odd;"."Mixed Case_duplicates";
SELECT * FROM catalog_of('"t_unique Odd;"."Mixed Case"');
SET search_path = t_unique, public;
DROP SCHEMA "t_unique Odd;" CASCADE;

---------------------------------------------------------------------------------------------
-- Errors name what is missing (SQLSTATE 42P01, 42703); a table name is a name, not
-- schema.table; empty or repeated columns are refused. Nothing is created.
SELECT count(*) AS relations FROM relations \gset
SELECT migrate_add_unique('nope', 'email');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT migrate_add_unique('users', 'nope');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT migrate_add_unique('t_unique.users', 'email');
SELECT count(*) = :relations AS nothing_created FROM relations;

---------------------------------------------------------------------------------------------
-- Idempotent: a second call is a no-op; an existing identical constraint (however it was
-- made) is a no-op; a unique index without its constraint gets attached; an index of that
-- name that is anything else is an error.
CREATE TABLE idem (id integer PRIMARY KEY, email text, name text, other text);
INSERT INTO idem VALUES (1, 'a@x.com', 'x', 'o'), (2, 'b@x.com', 'x', 'o');
SELECT migrate_add_unique('idem', 'email');
SELECT * FROM catalog_of('idem');
ALTER TABLE idem ADD CONSTRAINT idem_id_other_key UNIQUE (id, other);
SELECT migrate_add_unique('idem', 'id, other');
CREATE UNIQUE INDEX idem_loose ON idem (id, name);
SELECT migrate_add_unique('idem', 'id, name', 'idem_loose');
SELECT migrate_add_unique('idem', 'id, name', 'idem_loose');
SELECT migrate_add_unique('idem', 'other, id', 'idem_id_other_key');
SELECT migrate_add_unique('idem', 'email', 'users');
CREATE UNIQUE INDEX idem_lower ON idem (lower(email));
SELECT migrate_add_unique('idem', 'email', 'idem_lower');
SELECT * FROM catalog_of('idem');

---------------------------------------------------------------------------------------------
-- migrate_duplicates: one row per group (key, count, rows); groups ordered by key as the
-- column compares (numbers as numbers), rows by identity (5 before 11); nothing for a clean
-- column.
-- the result columns and their types
SELECT pg_get_function_result('migrate_duplicates(text, text)'::regprocedure);

---------------------------------------------------------------------------------------------
-- An index that already enforces the same uniqueness under another name (the primary key, a
-- unique index on the same columns in another order) makes the call a no-op; one that differs
-- (another collation or operator class, a partial index) does not count.
CREATE TABLE same (id integer PRIMARY KEY, name text COLLATE "C", a integer, b integer, c text);
CREATE UNIQUE INDEX same_ab ON same (b, a);
CREATE UNIQUE INDEX same_name_posix ON same (name COLLATE "POSIX");
CREATE UNIQUE INDEX same_c_pattern ON same (c text_pattern_ops);
CREATE UNIQUE INDEX same_a_partial ON same (a) WHERE a > 0;
SELECT migrate_add_unique('same', 'id');
SELECT migrate_add_unique('same', ' a , b ', 'same_named');
SELECT migrate_add_unique('same', 'name');
SELECT migrate_add_unique('same', 'c');
SELECT migrate_add_unique('same', 'a');
SELECT * FROM catalog_of('same');

---------------------------------------------------------------------------------------------
-- A table name near 63 bytes: the quarantine table's name is fitted to 63 bytes with a hash,
-- as PostgreSQL would otherwise cut it silently, and the result names it as it is.
CREATE TABLE "a_table_whose_name_is_close_to_the_sixty_three_byte_limit_xx" (id integer PRIMARY KEY, e text);
INSERT INTO "a_table_whose_name_is_close_to_the_sixty_three_byte_limit_xx" VALUES (1, 'a'), (2, 'a');
SELECT migrate_add_unique('a_table_whose_name_is_close_to_the_sixty_three_byte_limit_xx', 'e', 'long_e_key', 'keep_first');
SELECT relname, length(relname) FROM pg_class
 WHERE relname LIKE 'a\_table\_whose%' AND relkind = 'r' ORDER BY relname;

---------------------------------------------------------------------------------------------
-- A partitioned table without a primary key: ctids repeat across partitions, so rows are
-- identified by tableoid and ctid. Each partition has rows at (0,1), (0,2), (0,3); only the
-- two extra 'dup' rows of part_eu are duplicates, and only they move.
CREATE TABLE parted (region text, email text, note text) PARTITION BY LIST (region);
CREATE TABLE parted_eu PARTITION OF parted FOR VALUES IN ('eu');
CREATE TABLE parted_us PARTITION OF parted FOR VALUES IN ('us');
INSERT INTO parted VALUES ('eu', 'x', 'eu1'), ('eu', 'dup', 'eu2'), ('eu', 'dup', 'eu3'),
                          ('us', 'y1', 'us1'), ('us', 'y2', 'us2'), ('us', 'y3', 'us3');
SELECT tableoid::regclass, ctid, * FROM parted ORDER BY 1, 2;
SELECT key, count, "rows" FROM migrate_duplicates('parted', 'region, email');
SELECT migrate_add_unique('parted', 'region, email', NULL, 'keep_first');
SELECT region, email, note FROM parted ORDER BY note;
SELECT region, email, note FROM parted_duplicates ORDER BY note;

---------------------------------------------------------------------------------------------
-- A <table>_duplicates the call did not create is written into only when nothing of it would
-- run or apply (same owner, no trigger, rule or policy) and its columns are the table's plus
-- migrate_moved_at: refused otherwise, naming it and why, and nothing changes (the trigger
-- does not run); the same columns in another order are filled by name.
CREATE TABLE pre (id integer PRIMARY KEY, email text, name text);
INSERT INTO pre VALUES (1, 'a', 'n1'), (2, 'a', 'n2'), (3, 'b', 'n3'), (4, 'b', 'n4');
CREATE TABLE spy (n integer);
CREATE TABLE pre_duplicates (id integer, email text, name text, migrate_moved_at timestamptz);
CREATE FUNCTION spy_insert() RETURNS trigger LANGUAGE plpgsql AS
    $$BEGIN INSERT INTO t_unique.spy VALUES (NEW.id); RETURN NEW; END$$;
CREATE TRIGGER pre_spy AFTER INSERT ON pre_duplicates FOR EACH ROW EXECUTE FUNCTION spy_insert();
SELECT migrate_add_unique('pre', 'email', NULL, 'keep_first');
SELECT count(*) AS spied, (SELECT count(*) FROM pre) AS rows_left,
       (SELECT count(*) FROM pre_duplicates) AS moved FROM spy;
DROP TRIGGER pre_spy ON pre_duplicates;
CREATE RULE pre_rule AS ON INSERT TO pre_duplicates DO ALSO INSERT INTO t_unique.spy VALUES (NEW.id);
SELECT migrate_add_unique('pre', 'email', NULL, 'keep_first');
DROP RULE pre_rule ON pre_duplicates;
CREATE POLICY pre_policy ON pre_duplicates USING (true);
SELECT migrate_add_unique('pre', 'email', NULL, 'keep_first');
DROP TABLE pre_duplicates;
CREATE VIEW pre_duplicates AS SELECT * FROM pre;
SELECT migrate_add_unique('pre', 'email', NULL, 'keep_first');
DROP VIEW pre_duplicates;
SELECT count(*) AS spied FROM spy;

---------------------------------------------------------------------------------------------
-- on_duplicate 'merge': the rows of every table that references a duplicate are re-pointed to
-- the row kept (the first), counted per table, then the duplicates move as with keep_first;
-- no cascade fires, no child row is lost. Children: ON DELETE CASCADE, a two-column key, the
-- table itself, a partitioned table, a table in another schema.
CREATE TABLE m_users (id integer PRIMARY KEY, email text COLLATE "C", invited_by integer REFERENCES m_users,
                      UNIQUE (id, email));
CREATE TABLE m_posts (id integer PRIMARY KEY, user_id integer REFERENCES m_users ON DELETE CASCADE);
CREATE TABLE m_badges (user_id integer, user_email text,
                       FOREIGN KEY (user_id, user_email) REFERENCES m_users (id, email) ON DELETE CASCADE);
CREATE TABLE m_events (at date, user_id integer REFERENCES m_users ON DELETE CASCADE) PARTITION BY RANGE (at);
CREATE TABLE m_events_2024 PARTITION OF m_events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE SCHEMA t_unique_far;
CREATE TABLE t_unique_far.m_notes (user_id integer REFERENCES t_unique.m_users ON DELETE CASCADE);
INSERT INTO m_users VALUES (1, 'a@x', NULL), (2, 'a@x', 1), (3, 'b@x', 2), (4, 'a@x', 4), (5, 'c@x', NULL);
INSERT INTO m_posts VALUES (1, 1), (2, 2), (3, 4), (4, 3), (5, 2);
INSERT INTO m_badges VALUES (2, 'a@x'), (3, 'b@x');
INSERT INTO m_events VALUES ('2024-02-01', 4), ('2024-03-01', 5);
INSERT INTO t_unique_far.m_notes VALUES (2), (2);
-- fail and keep_first change nothing; keep_first points at merge
SELECT migrate_add_unique('m_users', 'email');
SELECT migrate_add_unique('m_users', 'email', NULL, 'keep_first');
-- inside the caller's transaction: ROLLBACK undoes the re-pointing too
BEGIN;
SELECT migrate_add_unique('m_users', 'email', NULL, 'merge');
ROLLBACK;
SELECT (SELECT count(*) FROM m_users) AS users, (SELECT string_agg(user_id::text, ',' ORDER BY id) FROM m_posts) AS posts;
SELECT migrate_add_unique('m_users', 'email', on_duplicate => 'merge');
SELECT id, email, invited_by FROM m_users ORDER BY id;
SELECT string_agg(id || ':' || user_id, ',' ORDER BY id) AS posts FROM m_posts;
SELECT string_agg(user_id || ':' || user_email, ',' ORDER BY user_id) AS badges FROM m_badges;
SELECT string_agg(user_id::text, ',' ORDER BY at) AS events FROM m_events;
SELECT string_agg(user_id::text, ',') AS notes FROM t_unique_far.m_notes;
SELECT id, email, invited_by, migrate_moved_at IS NOT NULL AS stamped FROM m_users_duplicates ORDER BY id;
-- the quarantine keeps each column's type and collation
SELECT attname, format_type(atttypid, atttypmod), attcollation::regcollation
  FROM pg_attribute WHERE attrelid = 'm_users_duplicates'::regclass AND attnum > 0 ORDER BY attnum;
SELECT migrate_add_unique('m_users', 'email', NULL, 'merge');
DROP SCHEMA t_unique_far CASCADE;
-- inside a migration applied by migrate_apply
CREATE TABLE m2 (id integer PRIMARY KEY, k text);
CREATE TABLE m2_child (m2_id integer REFERENCES m2 ON DELETE CASCADE);
INSERT INTO m2 VALUES (1, 'a'), (2, 'a'), (3, 'b');
INSERT INTO m2_child VALUES (2), (3);
TRUNCATE migrate_history;
INSERT INTO migrate_scripts (version, name, up_sql) VALUES
    ('9101', 'm2_k', 'SELECT migrate_add_unique(''m2'', ''k'', NULL, ''merge'');');
SELECT migrate_apply(NULL);
SELECT string_agg(m2_id::text, ',' ORDER BY m2_id) AS children, (SELECT count(*) FROM m2_duplicates) AS moved FROM m2_child;
TRUNCATE migrate_history;
TRUNCATE migrate_scripts;
-- hostile identifiers in the referencing table and its columns
CREATE TABLE sentinel_m (x integer);
INSERT INTO sentinel_m VALUES (1);
CREATE TABLE "pa""rent'; DROP TABLE sentinel_m; --" (id integer PRIMARY KEY, "e""m'; --" text);
CREATE TABLE "ch""ild'; DROP TABLE sentinel_m; --" ("p""id'; --" integer
    REFERENCES "pa""rent'; DROP TABLE sentinel_m; --" ON DELETE CASCADE);
INSERT INTO "pa""rent'; DROP TABLE sentinel_m; --" VALUES (1, 'a'), (2, 'a');
INSERT INTO "ch""ild'; DROP TABLE sentinel_m; --" VALUES (2), (2), (1);
SELECT migrate_add_unique('pa"rent''; DROP TABLE sentinel_m; --', 'e"m''; --', 'pk_m', 'merge');
SELECT string_agg("p""id'; --"::text, ',') FROM "ch""ild'; DROP TABLE sentinel_m; --";
SELECT x FROM sentinel_m;

---------------------------------------------------------------------------------------------
-- Expression keys: a unique index on the expression (a constraint cannot hold one), the
-- duplicate report grouped by the same expression; fail, keep_first, idempotence, refusals.
CREATE TABLE e_users (id integer PRIMARY KEY, email text, org integer);
INSERT INTO e_users VALUES (1, 'a@x', 1), (2, 'A@x', 1), (3, 'b@x', 1), (4, 'a@X', 2);
SELECT * FROM migrate_duplicates('e_users', 'lower(email)');
SELECT * FROM migrate_duplicates('e_users', 'org, lower(email)');
SELECT migrate_add_unique('e_users', 'lower(email)');
SELECT count(*) AS indexes FROM pg_index WHERE indrelid = 'e_users'::regclass;
SELECT migrate_add_unique('e_users', 'org, lower(email)', NULL, 'keep_first');
SELECT id, email FROM e_users_duplicates ORDER BY id;
SELECT pg_get_indexdef('e_users_org_lower_email_key'::regclass);
SELECT count(*) AS constraints FROM pg_constraint WHERE conrelid = 'e_users'::regclass AND contype = 'u';
SELECT migrate_add_unique('e_users', 'org, lower(email)');
SELECT migrate_add_unique('e_users', 'org, upper(email)', 'e_users_org_lower_email_key');
SELECT migrate_add_unique('e_users', 'lower(email); DROP TABLE e_users');
SELECT migrate_add_unique('e_users', 'lower(nope)');
INSERT INTO e_users VALUES (9, 'B@X', 1);
-- inside the caller's transaction, and with a hostile expression text kept as one expression
BEGIN;
SELECT migrate_add_unique('e_users', 'md5(email || ''x''''y'')');
ROLLBACK;
SELECT count(*) AS indexes FROM pg_index WHERE indrelid = 'e_users'::regclass;
-- inside a migration applied by migrate_apply
TRUNCATE migrate_history;
INSERT INTO migrate_scripts (version, name, up_sql) VALUES
    ('9102', 'e_lower', 'SELECT migrate_add_unique(''e_users'', ''lower(email)'', NULL, ''keep_first'');');
SELECT migrate_apply(NULL);
SELECT pg_get_indexdef('e_users_lower_email_key'::regclass);
SELECT id, email FROM e_users_duplicates ORDER BY id;
TRUNCATE migrate_history;
TRUNCATE migrate_scripts;

---------------------------------------------------------------------------------------------
-- migrate_add_unique_script: the steps, built by nothing here (scenario 23 runs them through
-- \gexec): a check, the concurrent build, the constraint; an index that is there already is
-- not built again; no step when the columns are unique already; refusals name the table.
CREATE TABLE s_users (id integer PRIMARY KEY, email text, "Ni""ck" text);
INSERT INTO s_users VALUES (1, 'a@x', 'n1'), (2, 'b@x', 'n1');
UPDATE s_users SET "Ni""ck" = 'n2' WHERE id = 2;
SELECT seq, statement FROM migrate_add_unique_script('s_users', 'email, Ni"ck');
UPDATE s_users SET "Ni""ck" = 'n1' WHERE id = 2;
SELECT seq, statement FROM migrate_add_unique_script('s_users', 'lower(email)', 's_lower');
CREATE UNIQUE INDEX s_users_email_key ON s_users (email);
SELECT seq, statement FROM migrate_add_unique_script('s_users', 'email');
SELECT count(*) AS no_steps FROM migrate_add_unique_script('s_users', 'id');
SELECT count(*) AS indexes FROM pg_index WHERE indrelid = 's_users'::regclass;
SELECT * FROM migrate_add_unique_script('s_users', 'Ni"ck');
SELECT * FROM migrate_add_unique_script('s_users', 'id', 's_users_email_key');
SELECT * FROM migrate_add_unique_script('no_such_table', 'id');
SELECT * FROM migrate_add_unique_script('migrate_history', 'version');
CREATE TABLE s_parts (id integer, k integer) PARTITION BY RANGE (id);
SELECT * FROM migrate_add_unique_script('s_parts', 'k');

---------------------------------------------------------------------------------------------
-- Each function names itself in its errors; both refuse the extension's own tables.
SELECT * FROM migrate_duplicates('migrate_key', 'key');
SELECT count(*) AS history_indexes FROM pg_index WHERE indrelid = 'public.migrate_history'::regclass;

RESET search_path;
DROP SCHEMA t_unique CASCADE;
