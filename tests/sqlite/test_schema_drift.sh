# shellcheck shell=bash
# Schema drift: the live schema compared with what migrate recorded after its last call.

DRIFT_HINT="HINT: SELECT * FROM migrate_drift() lists every change; write it as a migration, or accept the live schema with migrate_repair; the drift setting 'warn' lets the call go on"

# A folder of two migrations, the first applied; the second is pending.
schema_setup() {
  put m/1_users.up.sql <<'EOF2'
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  email TEXT NOT NULL,
  name TEXT DEFAULT 'x' COLLATE NOCASE,
  CONSTRAINT email_set CHECK (email <> '')
);
CREATE VIEW names AS SELECT name FROM users;
EOF2
  put m/2_teams.up.sql <<<'CREATE TABLE teams (id INTEGER PRIMARY KEY);'
  put m/2_teams.down.sql <<<'DROP TABLE teams;'
  sqlite_q db "SELECT migrate_apply('m', '1');" "1"
}

# An index made by hand is named; drift = error refuses the apply and changes nothing;
# migrate_repair accepts the live schema and the next apply goes through.
test_hand_index_refused_then_repaired() {
  schema_setup
  sqlite_q db "SELECT count(*) FROM migrate_drift();" "0"
  sqlite_q db "CREATE INDEX users_email ON users(email);" ""
  sqlite_q db "SELECT kind, name, change, recorded IS NULL, live FROM migrate_drift();" \
    "index|users_email|added|1|create index users_email on users(email)"
  sqlite_run db <<<"SELECT migrate_set('drift', 'error'); SELECT migrate_apply('m');"
  expect_error "schema drift: the schema was changed outside migrate since its last call (index users_email added); nothing was run
$DRIFT_HINT" "error"
  sqlite_q db "SELECT count(*) FROM migrate_history; SELECT count(*) FROM sqlite_schema WHERE name = 'teams';" "1
0"
  # migrate_check refuses where migrate_apply refuses, with the same words
  sqlite_run db <<<"SELECT migrate_set('drift', 'error'); SELECT * FROM migrate_check('m');"
  expect_error "schema drift: the schema was changed outside migrate since its last call (index users_email added); nothing was run
$DRIFT_HINT" "error"
  sqlite_run db <<<"SELECT migrate_set('drift', 'error'); SELECT migrate_check('m');"
  expect_error "schema drift: the schema was changed outside migrate since its last call (index users_email added); nothing was run
$DRIFT_HINT" "error"
  sqlite_q db "SELECT migrate_set('drift', 'ignore'); SELECT version, outcome FROM migrate_check('m');" "ignore
2|ok"
  sqlite_q db "SELECT migrate_repair('m');" "accepted the live schema (index users_email added)"
  sqlite_q db "SELECT count(*) FROM migrate_drift(); SELECT operation FROM migrate_schema_history ORDER BY id;" "0
apply
repair"
  sqlite_q db "SELECT migrate_set('drift', 'error'); SELECT migrate_apply('m');" "error
1"
  sqlite_q db "SELECT count(*) FROM migrate_drift();" "0"
}

# A dropped column, a changed default and a new trigger are each named with their kind.
test_each_change_named_with_its_kind() {
  schema_setup
  sqlite_q db "DROP VIEW names; ALTER TABLE users DROP COLUMN name;" ""
  sqlite_q db "SELECT kind, name, change FROM migrate_drift();" "view|names|removed
column|users.name|removed"
  sqlite_q db "SELECT migrate_repair('m');" "accepted the live schema (view names removed, column users.name removed)"
  # SQLite changes a default by rebuilding the table
  sqlite_q db "CREATE TABLE users2 (
  id INTEGER PRIMARY KEY,
  email TEXT NOT NULL DEFAULT 'none',
  CONSTRAINT email_set CHECK (email <> '')
);
INSERT INTO users2 SELECT * FROM users; DROP TABLE users; ALTER TABLE users2 RENAME TO users;" ""
  sqlite_q db "SELECT kind, name, change, recorded, live FROM migrate_drift();" \
    "column|users.email|changed|text not null|text not null default 'none'"
  sqlite_q db "CREATE TRIGGER users_audit AFTER INSERT ON users BEGIN SELECT 1; END;" ""
  sqlite_q db "SELECT kind, name, change FROM migrate_drift();" "column|users.email|changed
trigger|users_audit|added"
}

# Under the default (warn) the apply says so on standard error and goes on.
test_warn_goes_on() {
  schema_setup
  sqlite_q db "CREATE INDEX users_email ON users(email);" ""
  sqlite_run db <<<"SELECT migrate_apply('m');"
  expect_rc 0
  expect_out "1"
  expect_line "the warning on standard error" "^migrate: schema drift: the schema was changed outside migrate since its last call \(index users_email added\); going on as the drift setting is 'warn'$" "$ERR"
  expect_eq "one line on standard error" 1 "$(wc -l <<<"$ERR")"
  # the apply recorded the live schema, hand-made index included
  sqlite_q db "SELECT count(*) FROM migrate_drift();" "0"
  sqlite_q db "SELECT migrate_set('drift', 'ignore'); DROP INDEX users_email; SELECT migrate_rollback('m');" "ignore
1"
}

# migrate_validate reports drift whatever the setting.
test_validate_reports_drift() {
  schema_setup
  sqlite_q db "SELECT migrate_validate('m');" "ok"
  sqlite_q db "CREATE INDEX users_email ON users(email);" ""
  sqlite_run db <<<"SELECT migrate_set('drift', 'ignore'); SELECT migrate_validate('m');"
  expect_error "schema drift: index users_email added outside migrate" "ignore"
}

# VACUUM, .dump into a new file and a second identical apply report nothing; the same folder on
# two databases gives the same description, however its DDL is spelled.
test_no_false_positives() {
  schema_setup
  sqlite_q db "SELECT migrate_apply('m'); SELECT migrate_apply('m');" "1
0"
  sqlite_run --no-load db <<<"VACUUM;"
  expect_ok ""
  sqlite_q db "SELECT count(*) FROM migrate_drift();" "0"
  sqlite_run --no-load db <<<".dump" >/dev/null
  printf '%s\n' "$OUT" >dump.sql
  sqlite_run --no-load restored <dump.sql
  expect_ok ""
  sqlite_q restored "SELECT count(*) FROM migrate_drift(); SELECT count(*) FROM migrate_schema_history;" "0
2"
  sqlite_q fresh "SELECT migrate_apply('m');" "2"
  local a b
  sqlite_run db <<<"SELECT migrate_schema();"
  a=$OUT
  sqlite_run fresh <<<"SELECT migrate_schema();"
  b=$OUT
  expect_eq "the same folder, two databases" "$a" "$b"
  # spelling: case, white space, comments and quotes around names do not count
  put n/1_t.up.sql <<<'CREATE TABLE t (a INT NOT NULL DEFAULT (0), b TEXT, UNIQUE (a, b));'
  put o/1_t.up.sql <<'EOF2'
create   table "t"(
  a int not null default(0), -- a comment
  "b" text,  unique(a,b)
);
EOF2
  sqlite_q n1 "SELECT migrate_apply('n');" "1"
  sqlite_q o1 "SELECT migrate_apply('o');" "1"
  sqlite_run n1 <<<"SELECT migrate_schema();"
  a=$OUT
  sqlite_run o1 <<<"SELECT migrate_schema();"
  b=$OUT
  expect_eq "two spellings of one table" "$a" "$b"
  expect_eq "the description" "table	t	
column	t.a	int not null default(0)
column	t.b	text
constraint	t.unique(a, b)	unique(a, b)" "$a"
}

# A database whose history predates fingerprints is in sync until a call records one.
test_old_history_counts_as_in_sync() {
  schema_setup
  sqlite_q db "DROP TABLE migrate_schema_history; CREATE INDEX users_email ON users(email);" ""
  sqlite_q db "SELECT count(*) FROM migrate_drift();" "0"
  sqlite_q db "SELECT migrate_set('drift', 'error'); SELECT migrate_apply('m');" "error
1"
  sqlite_q db "SELECT count(*) FROM migrate_schema_history; SELECT count(*) FROM migrate_drift();" "1
0"
  sqlite_q db "DROP INDEX users_email;" ""
  sqlite_q db "SELECT kind, name, change FROM migrate_drift();" "index|users_email|removed"
}

# migrate_add_unique and migrate_baseline record the schema they leave.
test_add_unique_and_baseline_record() {
  schema_setup
  sqlite_q db "SELECT migrate_add_unique('users', 'email') IS NOT NULL;" "1"
  sqlite_q db "SELECT count(*) FROM migrate_drift(); SELECT operation FROM migrate_schema_history ORDER BY id;" "0
apply
add_unique"
  sqlite_q other "CREATE TABLE legacy (x); SELECT migrate_baseline('1');" "1"
  sqlite_q other "SELECT operation FROM migrate_schema_history; SELECT count(*) FROM migrate_drift();" "baseline
0"
  sqlite_q other "ALTER TABLE legacy ADD COLUMN y TEXT;" ""
  sqlite_q other "SELECT kind, name, change FROM migrate_drift();" "column|legacy.y|added"
}

# The setting: three values, and a clear error for anything else.
test_drift_setting() {
  sqlite_q db "SELECT migrate_set('drift'); SELECT migrate_set('drift', 'error'); SELECT migrate_set('drift');" "warn
error
error"
  sqlite_run db <<<"SELECT migrate_set('drift', 'off');"
  expect_error "migrate_set: drift must be 'error', 'warn' or 'ignore', not 'off'" ""
  sqlite_run db <<<"SELECT migrate_set('drift', NULL);"
  expect_error "migrate_set: drift must be 'error', 'warn' or 'ignore', not NULL" ""
}
