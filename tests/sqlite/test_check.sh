# shellcheck shell=bash
# migrate_check: a rehearsal of the pending migrations on the real data, always rolled back.

# The issue's folder: the third adds UNIQUE on a column with three duplicate groups, the fifth
# depends on the third, the second and fourth stand alone.
check_folder() {
  put m/1_users.up.sql <<'EOF2'
CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, email TEXT);
INSERT INTO users (email) VALUES ('a@x'), ('a@x'), ('b@x'), ('b@x'), ('c@x'), ('c@x'), ('d@x');
EOF2
  sqlite_q db "SELECT migrate_apply('m');" "1"
  put m/2_teams.up.sql <<<'CREATE TABLE teams (id INTEGER PRIMARY KEY, name TEXT);'
  put m/3_unique_email.up.sql <<<'CREATE UNIQUE INDEX users_email_key ON users (email);'
  put m/4_more_users.up.sql <<<"INSERT INTO users (email) VALUES ('e@x'), ('f@x');"
  put m/5_reindex.up.sql <<'EOF2'
INSERT INTO teams (name) VALUES ('t');
REINDEX users_email_key;
EOF2
}

# ok, ok, fails (3 duplicate groups), ok, fails after_failure; nothing persists, not even the
# AUTOINCREMENT counter in sqlite_sequence.
test_check_rows_and_nothing_persists() {
  check_folder
  dump db
  local before=$DUMP
  sqlite_q db "SELECT version, outcome, after_failure, statements, rows_changed, error, findings
FROM migrate_check('m');" "2|ok|0|1|0||
3|fails|0|0|0|migration 3 (3_unique_email.up.sql, line 1): UNIQUE constraint failed: users.email|constraint: 3 duplicate groups of users (email), 6 rows: 'a@x' (2 rows), 'b@x' (2 rows), 'c@x' (2 rows)
4|ok|0|1|2||
5|fails|1|1|1|migration 5 (5_reindex.up.sql, line 2): unable to identify the object to be reindexed|"
  dump db
  expect_eq "database after the rehearsal" "$before" "$DUMP"
  sqlite_q db "SELECT version, state FROM migrations_status('m');" "1|applied
2|pending
3|pending
4|pending
5|pending"
}

# Refused where migrate_apply refuses, with the same message.
test_check_refuses_as_apply_does() {
  check_folder
  echo "-- changed" >>m/1_users.up.sql
  sqlite_run db <<<"SELECT migrate_apply('m');"
  local apply_err=$ERR
  expect_rc 1
  sqlite_run db <<<"SELECT * FROM migrate_check('m');"
  expect_rc 1
  expect_eq "the refusal" "$apply_err" "$ERR"
  sqlite_run db <<<"SELECT migrate_check('m');"
  expect_rc 1
  expect_eq "the scalar form's refusal" "$apply_err" "$ERR"
}

# Nothing pending: no row; the scalar form says so.
test_check_nothing_pending() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x);'
  sqlite_q db "SELECT migrate_apply('m'); SELECT count(*) FROM migrate_check('m'); SELECT migrate_check('m');" "1
0
nothing to rehearse: no migration is pending"
}

# Data loss: a dropped table with its rows, a dropped column with its values, counted as they
# were before the migration; the scalar form runs DROP TABLE, which the table form cannot.
test_check_data_loss_findings() {
  put m/1_base.up.sql <<'EOF2'
CREATE TABLE old_logs (id INTEGER PRIMARY KEY, line TEXT);
INSERT INTO old_logs (line) VALUES ('a'), ('b'), ('c');
CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, nickname TEXT);
INSERT INTO people VALUES (1, 'ann', 'an'), (2, 'bob', NULL), (3, 'cid', 'c');
EOF2
  sqlite_q db "SELECT migrate_apply('m');" "1"
  put m/2_drop_logs.up.sql <<<'DROP TABLE old_logs;'
  put m/3_drop_nickname.up.sql <<<'ALTER TABLE people DROP COLUMN nickname;'
  dump db
  local before=$DUMP
  sqlite_q db "SELECT migrate_check('m');" "2 drop_logs: ok (1 statement, 0 rows changed)
  data loss: table old_logs dropped with 3 rows
3 drop_nickname: ok (1 statement, 0 rows changed)
  data loss: column people.nickname dropped with 2 non-NULL values"
  dump db
  expect_eq "database after the rehearsal" "$before" "$DUMP"
  # the table form: SQLite drops no table under a statement that reads the database
  sqlite_q db "SELECT version, outcome, error FROM migrate_check('m') WHERE version = '2';" \
    "2|fails|migration 2 (2_drop_logs.up.sql, line 1): database table is locked
HINT: SQLite drops no table or index while the calling statement reads the database, as SELECT * FROM migrate_check(...) does; a plain SELECT migrate_check(...) rehearses this migration"
  sqlite_q db "SELECT findings FROM migrate_check('m') WHERE version = '3';" \
    "data loss: column people.nickname dropped with 2 non-NULL values"
}

# The 12-step rebuild of a parent with ON DELETE CASCADE children: a rebuild finding, and no
# child row deleted, during the rehearsal (rows changed: the two copied) or after it.
test_check_rebuild_keeps_cascade_children() {
  put m/1_schema.up.sql <<'EOF2'
CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE child (id INTEGER PRIMARY KEY,
                    parent_id INTEGER NOT NULL REFERENCES parent (id) ON DELETE CASCADE);
INSERT INTO parent VALUES (1, 'one'), (2, 'two');
INSERT INTO child VALUES (1, 1), (2, 1), (3, 2);
EOF2
  sqlite_q db "SELECT migrate_apply('m');" "1"
  put m/2_rebuild.up.sql <<'EOF2'
CREATE TABLE parent_new (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
INSERT INTO parent_new SELECT id, name FROM parent;
DROP TABLE parent;
ALTER TABLE parent_new RENAME TO parent;
EOF2
  dump db
  local before=$DUMP
  sqlite_q db "PRAGMA foreign_keys = ON; SELECT migrate_check('m'); SELECT count(*) FROM child;
PRAGMA foreign_keys;" "2 rebuild: ok (4 statements, 2 rows changed)
  rebuild: table parent is rebuilt, every row copied (its root page changed)
3
1"
  dump db
  expect_eq "database after the rehearsal" "$before" "$DUMP"
}

# A migration that would leave foreign key violations: migrate_apply fails on them at the end;
# the rehearsal names them on the migration that made them.
test_check_foreign_key_violations() {
  put m/1_schema.up.sql <<'EOF2'
CREATE TABLE parent (id INTEGER PRIMARY KEY);
CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id));
INSERT INTO parent VALUES (1), (2);
INSERT INTO child VALUES (1, 1), (2, 2);
EOF2
  sqlite_q db "SELECT migrate_apply('m');" "1"
  put m/2_orphan.up.sql <<<'DELETE FROM parent WHERE id = 2;'
  sqlite_q db "PRAGMA foreign_keys = ON; SELECT findings FROM migrate_check('m'); SELECT count(*) FROM parent;" \
    "foreign key: table child row 2 references a missing row of parent (foreign key 0)
foreign key: migrate_apply would fail on 1 new violation
2"
}

# A no-transaction migration is skipped, with the reason; the ones around it are rehearsed.
test_check_notx_skipped() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x);'
  printf -- '-- migrate:no-transaction\nVACUUM;\n' | put m/2_vacuum.up.sql
  put m/3_b.up.sql <<<'CREATE TABLE b (x);'
  sqlite_q db "SELECT version, outcome, findings FROM migrate_check('m');" "1|ok|
2|skipped|skipped: marked no-transaction, it cannot run inside the rehearsal's transaction; migrate_apply runs it outside one
3|ok|"
  sqlite_q db "SELECT count(*) FROM sqlite_schema WHERE name IN ('a', 'b', 'migrate_history');" "0"
}

# Inside the caller's transaction: the caller's work stays, the rehearsal's goes, and the
# transaction is still open.
test_check_in_caller_transaction() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x); INSERT INTO a VALUES (1);'
  sqlite_q db "CREATE TABLE mine (x);
BEGIN;
INSERT INTO mine VALUES (42);
SELECT migrate_check('m');
SELECT count(*) FROM sqlite_schema WHERE name = 'a';
SELECT x FROM mine;
COMMIT;
SELECT x FROM mine;" "1 a: ok (2 statements, 1 row changed)
0
42
42"
}

# Hostile scripts: calling migrate_check or migrate_apply from a migration is reported as that
# migration failing; ending the transaction or releasing the rehearsal's savepoint is refused
# before anything runs. Nothing persists either way.
test_check_hostile_scripts() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x);'
  put m/2_again.up.sql <<<"SELECT migrate_apply('m');"
  put m/3_check.up.sql <<<"SELECT * FROM migrate_check('m');"
  dump db
  local before=$DUMP
  sqlite_q db "SELECT version, outcome, error FROM migrate_check('m');" "1|ok|
2|fails|migration 2 (2_again.up.sql, line 1): migrate_apply cannot be called while migrate_check is running on this connection: a migration may call migrate_add_unique, migrate_duplicates, migrate_nulls, migrate_set_not_null, migrate_add_column and (on SQLite) migrate_rebuild, no other function of migrate
3|fails|migration 3 (3_check.up.sql, line 1): migrate_check cannot be called while migrate_check is running on this connection: a migration may call migrate_add_unique, migrate_duplicates, migrate_nulls, migrate_set_not_null, migrate_add_column and (on SQLite) migrate_rebuild, no other function of migrate"
  rm m/2_again.up.sql m/3_check.up.sql
  local stmt
  for stmt in 'COMMIT;' 'ROLLBACK;' 'RELEASE migrate_check;' 'RELEASE SAVEPOINT "migrate_check_step";' 'END;'; do
    printf 'CREATE TABLE evil (x);\n%s\nCREATE TABLE after_evil (x);\n' "$stmt" | put m/2_evil.up.sql
    sqlite_run db <<<"SELECT migrate_check('m');"
    expect_rc 1
    expect_match "refusal of $stmt" "transaction control \(BEGIN, COMMIT, END, ROLLBACK\) is not allowed" "$ERR"
    sqlite_run db <<<"SELECT * FROM migrate_check('m');"
    expect_rc 1
  done
  dump db
  expect_eq "database after the hostile rehearsals" "$before" "$DUMP"
}

# Constraints that rows break: a NOT NULL and a named CHECK in a 12-step rebuild, an unnamed
# CHECK that an UPDATE breaks, and a table without a primary key (rows named by rowid): how
# many rows break each and the first of them, in both forms; nothing persists.
test_check_constraint_findings() {
  put m/1_base.up.sql <<'EOF2'
CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, age INTEGER);
INSERT INTO people VALUES (1, 'ann', 30), (2, NULL, -1), (3, 'cid', 40), (4, NULL, 5), (5, 'eve', -7),
  (6, 'fay', -2), (7, 'gus', -3);
CREATE TABLE notes (body TEXT);
INSERT INTO notes VALUES ('a'), (NULL);
EOF2
  sqlite_q db "SELECT migrate_apply('m');" "1"
  put m/2_name_required.up.sql <<'EOF2'
CREATE TABLE people_new (id INTEGER PRIMARY KEY, name TEXT NOT NULL, age INTEGER);
INSERT INTO people_new SELECT id, name, age FROM people;
DROP TABLE people;
ALTER TABLE people_new RENAME TO people;
EOF2
  put m/3_age_check.up.sql <<'EOF2'
CREATE TABLE people_new (id INTEGER PRIMARY KEY, name TEXT,
                         age INTEGER CONSTRAINT age_positive CHECK (age > 0));
INSERT INTO people_new SELECT id, name, age FROM people;
DROP TABLE people;
ALTER TABLE people_new RENAME TO people;
EOF2
  put m/4_notes.up.sql <<'EOF2'
CREATE TABLE notes_new (body TEXT NOT NULL);
INSERT INTO notes_new SELECT body FROM notes;
EOF2
  put m/5_update.up.sql <<'EOF2'
CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER CHECK (v < 10));
INSERT INTO t VALUES (1, 1), (2, 5), (3, 9);
UPDATE t SET v = v * 2;
EOF2
  dump db
  local before=$DUMP
  sqlite_q db "SELECT migrate_check('m');" "2 name_required: fails (1 statement, 0 rows changed)
  migration 2 (2_name_required.up.sql, line 2): NOT NULL constraint failed: people_new.name
  constraint: NOT NULL people_new (name) is broken by 2 rows: 2, 4 (by id)
3 age_check: fails after_failure (1 statement, 0 rows changed)
  migration 3 (3_age_check.up.sql, line 3): CHECK constraint failed: age_positive
  constraint: CHECK people_new (age > 0) is broken by 4 rows: 2, 5, 6, ... (by id)
4 notes: fails after_failure (1 statement, 0 rows changed)
  migration 4 (4_notes.up.sql, line 2): NOT NULL constraint failed: notes_new.body
  constraint: NOT NULL notes_new (body) is broken by 1 row: 2 (by rowid)
5 update: fails after_failure (2 statements, 3 rows changed)
  migration 5 (5_update.up.sql, line 3): CHECK constraint failed: v < 10
  constraint: CHECK t (v < 10) is broken by 2 rows: 2, 3 (by id)"
  sqlite_q db "SELECT version, findings FROM migrate_check('m') WHERE version IN ('2', '5');" \
    "2|constraint: NOT NULL people_new (name) is broken by 2 rows: 2, 4 (by id)
5|constraint: CHECK t (v < 10) is broken by 2 rows: 2, 3 (by id)"
  dump db
  expect_eq "database after the rehearsals" "$before" "$DUMP"
}
