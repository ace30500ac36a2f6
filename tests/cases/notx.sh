# shellcheck shell=bash
# Migrations that cannot run in a transaction, migrate_script run through the engine's own
# client, and migrations stored in the database (migrate_scripts), on both engines. What only
# one engine has stays with it: on SQLite (tests/sqlite/test_notx.sh) migrate_apply runs a
# marked migration in autocommit, records a failed one with the statements that completed,
# resumes it, and migrate_script writes a script for the sqlite3 shell (as the README gives it);
# a database without migrate_scripts and the 32 MiB limit on a row. On PostgreSQL
# (tests/pg/sql/notx.sql and notx_stored.sql) the script's guards, session lock and record
# tokens, a stale script run twice, INVALID index leftovers of CREATE INDEX CONCURRENTLY, rows
# read by psql from files, SQLSTATEs, and the table CREATE EXTENSION makes.
#
# A case writes its migrations with put, runs SQL with db_run / db_q and the pending work with
# db_run_script, and checks with the expect_* assertions (tests/lib/assert.sh); see
# tests/cases/lifecycle.sh.

# The refusal of a call that would have to run the marked migration VERSION (of SCRIPT) inside
# a transaction: on SQLite when the caller opened one, on PostgreSQL always (a function runs
# inside one), where migrate_script is the way to run it.
notx_refusal() {
  if on pg; then
    printf '%s: migration %s is marked no-transaction, and a function always runs inside a transaction; run the pending work with psql: SELECT statement FROM migrate_script(...) \\gexec' "$1" "$2"
  else
    printf '%s: migration %s is marked no-transaction and needs the connection in autocommit mode, but a transaction is open; nothing was applied' "$1" "$2"
  fi
}

# The SQL that opens a transaction where a marked migration cannot run from a function: BEGIN
# on SQLite (it runs one in autocommit), nothing on PostgreSQL.
notx_open() {
  on sqlite && printf 'BEGIN;'
  return 0
}

# The columns two histories must agree on (ids, times, users and durations may differ).
SCRIPT_HISTORY="SELECT version, name, direction, checksum, down_checksum, up_sql, down_sql, script,
CAST(success AS INTEGER), completed_statements FROM migrate_history ORDER BY id;"

# The three spellings of the marker (dbmate's "-- migrate:up transaction:false", goose's
# "-- +goose NO TRANSACTION", "-- migrate:no-transaction"): a call that would run a marked
# migration where it cannot refuses before running anything, not even the ordinary migrations
# before it; migrate_plan and migrate_to refuse the same way; a target short of the marked
# migration is fine; migrate_script runs it, and history keeps what ran.
case_notx_refused_where_it_cannot_run() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  put m/2_b.sql <<'EOF'
-- migrate:up transaction:false
CREATE TABLE b (x INTEGER);

-- migrate:down
DROP TABLE b;
EOF
  put m/3_c.up.sql <<<'CREATE TABLE c (x INTEGER);'
  put m/4_d.sql <<'EOF'
-- +goose NO TRANSACTION
-- +goose Up
CREATE TABLE d (x INTEGER);
-- +goose Down
DROP TABLE d;
EOF
  put m/5_e.up.sql <<'EOF'
-- migrate:no-transaction
CREATE TABLE e (x INTEGER);
EOF
  db_snapshot
  db_run <<<"$(notx_open) SELECT migrate_apply('$PWD/m');"
  expect_error "$(notx_refusal 2_b.sql 2)" ""
  db_run <<<"$(notx_open) SELECT * FROM migrate_plan('$PWD/m');"
  expect_error "$(notx_refusal 2_b.sql 2)" ""
  db_run <<<"$(notx_open) SELECT migrate_to('$PWD/m', '3');"
  expect_error "$(notx_refusal 2_b.sql 2)" ""
  expect_unchanged "the database after the refused calls"
  # a target short of the marked migration is fine
  local commit=
  on sqlite && commit='COMMIT;'
  db_q "$(notx_open) SELECT * FROM migrate_plan('$PWD/m', '1'); SELECT migrate_apply('$PWD/m', '1');
$commit SELECT version, direction, CAST(success AS INTEGER) FROM migrate_history; $TABLES" \
    "1|up|1|a|1_a.up.sql
1
1|up|1
a"
  # the script runs the marked migration and the ordinary one after it, up to the target
  db_run_script "'$PWD/m'" 3
  expect_rc 0
  expect_err ""
  db_q "SELECT version, state FROM migrations_status('$PWD/m'); $TABLES" "1|applied
2|applied
3|applied
4|pending
5|pending
a
b
c"
  # goose's marker and the plain one are refused as well, and run by the script
  db_run <<<"$(notx_open) SELECT migrate_apply('$PWD/m');"
  expect_error "$(notx_refusal 4_d.sql 4)" ""
  db_run_script "'$PWD/m'" 4
  expect_rc 0
  expect_err ""
  db_run <<<"$(notx_open) SELECT migrate_apply('$PWD/m');"
  expect_error "$(notx_refusal 5_e.up.sql 5)" ""
  db_run_script "'$PWD/m'"
  expect_rc 0
  expect_err ""
  # history keeps what ran: a section without its marker, a whole file as written
  db_q "SELECT version, name, direction, script, CAST(success AS INTEGER), up_sql, down_sql,
       CAST(checksum = '$(sha m/5_e.up.sql)' AS INTEGER) FROM migrate_history WHERE version IN ('2', '4', '5') ORDER BY id;
SELECT migrate_validate('$PWD/m'); $TABLES" "2|b|up|2_b.sql|1|CREATE TABLE b (x INTEGER);

|DROP TABLE b;
|0
4|d|up|4_d.sql|1|CREATE TABLE d (x INTEGER);
|DROP TABLE d;
|0
5|e|up|5_e.up.sql|1|-- migrate:no-transaction
CREATE TABLE e (x INTEGER);
||1
ok
a
b
c
d
e"
  # up to date: nothing left for the script to run
  db_run_script "'$PWD/m'"
  expect_rc 0
  expect_err ""
  db_q "SELECT count(*) FROM migrate_history;" "5"
}

# The script run through the engine's own client gives the history migrate_apply gives, for
# ordinary migrations of every layout (sections with a quoted ';', a folder with a trailing
# comment, Flyway with a body holding ';', goose with a backslash): part of the way with a
# target, then the rest.
case_notx_script_gives_the_history_of_apply() {
  put m/1_accounts.sql <<'EOF'
-- migrate:up
CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT);
INSERT INTO accounts VALUES (1, 'it''s; mine');

-- migrate:down
DROP TABLE accounts;
EOF
  put m/2_owner/up.sql <<<'CREATE INDEX accounts_owner_idx ON accounts (owner); -- a trailing comment'
  put m/2_owner/down.sql <<<'DROP INDEX accounts_owner_idx;'
  if on pg; then
    put m/V3__audit.sql <<'EOF'
CREATE TABLE audit (what TEXT);
CREATE FUNCTION audit_account() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO audit (what) VALUES ('account ' || NEW.id || ';');
  RETURN NEW;
END
$$;
CREATE TRIGGER accounts_audit AFTER INSERT ON accounts FOR EACH ROW EXECUTE FUNCTION audit_account();
EOF
    put m/U3__audit.sql <<<'DROP TRIGGER accounts_audit ON accounts; DROP TABLE audit; DROP FUNCTION audit_account();'
  else
    put m/V3__audit.sql <<'EOF'
CREATE TABLE audit (what TEXT);
CREATE TRIGGER accounts_audit AFTER INSERT ON accounts BEGIN
  INSERT INTO audit (what) VALUES ('account ' || NEW.id || ';');
END;
EOF
    put m/U3__audit.sql <<<'DROP TRIGGER accounts_audit; DROP TABLE audit;'
  fi
  put m/4_more.sql <<'EOF'
-- +goose Up
INSERT INTO accounts VALUES (2, 'back\slash');
-- +goose Down
DELETE FROM accounts WHERE id = 2;
EOF
  db_q "SELECT migrate_apply('$PWD/m');" "4"
  db_run <<<"$SCRIPT_HISTORY"
  expect_rc 0
  local applied=$OUT
  db_q "SELECT migrate_to('$PWD/m', '0'); DELETE FROM migrate_history; $COUNT_TABLES" "4
0"
  db_run_script "'$PWD/m'" 2
  expect_rc 0
  expect_err ""
  db_q "SELECT version, state FROM migrations_status('$PWD/m');" "1|applied
2|applied
3|pending
4|pending"
  db_run_script "'$PWD/m'"
  expect_rc 0
  expect_err ""
  db_run <<<"$SCRIPT_HISTORY"
  expect_rc 0
  expect_eq "history through the script" "$applied" "$OUT"
  db_q "SELECT * FROM accounts ORDER BY id; SELECT * FROM audit; SELECT migrate_validate('$PWD/m');" \
    "1|it's; mine
2|back\\slash
account 2;
ok"
}

# --- migrations stored in the database (migrate_scripts) --------------------------------------

# End to end: migrate_init, plain INSERTs, then every function with NULL: plan, status with the
# scripts' checksums, apply, validate, rollback with the stored down scripts (newest first),
# migrate_to both ways, and the same migrations through the script.
case_stored_end_to_end() {
  local posts='CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id));
INSERT INTO posts VALUES (1, NULL);
'
  db_q "SELECT migrate_init(); SELECT migrate_init();" "ok
ok"
  db_run <<EOF
INSERT INTO migrate_scripts VALUES ('20240101', 'users', 'CREATE TABLE users (id INTEGER PRIMARY KEY);', 'DROP TABLE users;');
INSERT INTO migrate_scripts VALUES ('20240102', 'posts', '$posts',
  'DROP TABLE posts; CREATE TABLE IF NOT EXISTS reverted (what TEXT); INSERT INTO reverted VALUES (''20240102'');');
INSERT INTO migrate_scripts (version, up_sql, down_sql) VALUES ('v20240103', 'CREATE TABLE tags (t TEXT);', 'DROP TABLE tags;');
EOF
  expect_ok ""
  db_q "SELECT * FROM migrate_plan(NULL);
SELECT version, name, state, script, CAST(applied_checksum IS NULL AS INTEGER) FROM migrations_status(NULL);" "1|up|20240101|users|migrate_scripts:20240101
2|up|20240102|posts|migrate_scripts:20240102
3|up|20240103||migrate_scripts:v20240103
20240101|users|pending|migrate_scripts:20240101|1
20240102|posts|pending|migrate_scripts:20240102|1
20240103||pending|migrate_scripts:v20240103|1"
  db_q "SELECT checksum FROM migrations_status(NULL) ORDER BY version;" "$(sha_text 'CREATE TABLE users (id INTEGER PRIMARY KEY);')
$(sha_text "$posts")
$(sha_text 'CREATE TABLE tags (t TEXT);')"
  db_q "SELECT migrate_apply(NULL);" "3"
  db_q "SELECT version, name, state, script, CAST(applied_checksum = checksum AS INTEGER) FROM migrations_status(NULL);
SELECT version, name, direction, script,
  CAST(up_sql = (SELECT up_sql FROM migrate_scripts s WHERE s.version IN (h.version, 'v' || h.version)) AS INTEGER),
  CAST(down_sql = (SELECT down_sql FROM migrate_scripts s WHERE s.version IN (h.version, 'v' || h.version)) AS INTEGER)
  FROM migrate_history h ORDER BY id;
SELECT * FROM posts;
SELECT migrate_validate(NULL);
SELECT * FROM migrate_plan(NULL);
SELECT count(*) FROM migrate_script(NULL);
SELECT migrate_apply(NULL);
SELECT version, state FROM migrations_status;" "20240101|users|applied|migrate_scripts:20240101|1
20240102|posts|applied|migrate_scripts:20240102|1
20240103||applied|migrate_scripts:v20240103|1
20240101|users|up|migrate_scripts:20240101|1|1
20240102|posts|up|migrate_scripts:20240102|1|1
20240103||up|migrate_scripts:v20240103|1|1
1|
ok
1
0
20240101|applied
20240102|applied
20240103|applied"
  # rollback runs the stored down_sql, newest first
  db_q "SELECT migrate_rollback(NULL, 2); SELECT * FROM reverted;
SELECT version, state FROM migrations_status(NULL); $TABLES" "2
20240102
20240101|applied
20240102|pending
20240103|pending
reverted
users"
  db_q "SELECT * FROM migrate_plan(NULL, '20240103');" "1|up|20240102|posts|migrate_scripts:20240102
2|up|20240103||migrate_scripts:v20240103"
  db_q "SELECT migrate_to(NULL, '20240103'); SELECT migrate_to(NULL, '20240101');
SELECT version, state FROM migrations_status(NULL);
SELECT version, direction FROM migrate_history ORDER BY id;" "2
2
20240101|applied
20240102|pending
20240103|pending
20240101|up
20240102|up
20240103|up
20240103|down
20240102|down
20240102|up
20240103|up
20240103|down
20240102|down"
  # the same migrations through the script give the same history as migrate_apply
  db_run_script NULL
  expect_rc 0
  expect_err ""
  db_q "SELECT version, state FROM migrations_status(NULL);
SELECT version, direction FROM migrate_history WHERE id > 9 ORDER BY id;
SELECT count(*) FROM (SELECT version, name, direction, checksum, down_checksum, up_sql, down_sql, script, success FROM migrate_history WHERE id IN (2, 3)
EXCEPT SELECT version, name, direction, checksum, down_checksum, up_sql, down_sql, script, success FROM migrate_history WHERE id > 9) AS different;" "20240101|applied
20240102|applied
20240103|applied
20240102|up
20240103|up
0"
}

# When a row is gone from migrate_scripts, the migration is missing; with missing = ignore,
# reverting runs the down script history kept.
case_stored_rollback_with_row_gone() {
  db_q "SELECT migrate_init();
INSERT INTO migrate_scripts VALUES ('1', 'a', 'CREATE TABLE a (x INTEGER);', 'DROP TABLE a; CREATE TABLE gone_a (x INTEGER);');
INSERT INTO migrate_scripts VALUES ('2', 'b', 'CREATE TABLE b (x INTEGER);', 'DROP TABLE b;');
SELECT migrate_apply(NULL);
DELETE FROM migrate_scripts WHERE version = '1';
SELECT version, state FROM migrations_status(NULL);" "ok
2
1|missing
2|applied"
  db_snapshot
  db_run <<<"SELECT migrate_to(NULL, '0');"
  expect_error "migrate_scripts:1: migration 1 was applied but its file is missing from the folder
HINT: restore the missing file, or forget it with migrate_repair"
  db_run <<<"SELECT migrate_rollback(NULL, 2);"
  expect_error "migrate_scripts:1: migration 1 was applied but its file is missing from the folder
HINT: restore the missing file, or forget it with migrate_repair"
  expect_unchanged "the database after the refused reverts"
  db_q "$(set_setting missing ignore) SELECT migrate_to(NULL, '0'); $TABLES
SELECT version, direction, down_sql FROM migrate_history WHERE direction = 'down' ORDER BY id;" "ignore
2
gone_a
2|down|DROP TABLE b;
1|down|DROP TABLE a; CREATE TABLE gone_a (x INTEGER);"
}

# The same row again is a no-op; the same version with other content (up script, name, down
# script) is refused, and the row stays as it was.
case_stored_insert_rules() {
  local changes=
  on sqlite && changes='SELECT changes();'
  db_q "SELECT migrate_init();
INSERT INTO migrate_scripts VALUES ('1', 'a', 'CREATE TABLE a (x INTEGER);', 'DROP TABLE a;');
INSERT INTO migrate_scripts VALUES ('1', 'a', 'CREATE TABLE a (x INTEGER);', 'DROP TABLE a;');
$changes SELECT count(*) FROM migrate_scripts;" "ok
${changes:+0
}1"
  db_run --no-bail <<'EOF'
INSERT INTO migrate_scripts VALUES ('1', 'a', 'CREATE TABLE a (x INTEGER, y INTEGER);', 'DROP TABLE a;');
INSERT INTO migrate_scripts VALUES ('1', 'b', 'CREATE TABLE a (x INTEGER);', 'DROP TABLE a;');
INSERT INTO migrate_scripts VALUES ('1', 'a', 'CREATE TABLE a (x INTEGER);', NULL);
INSERT INTO migrate_scripts (version, name, up_sql) VALUES ('1', 'a', 'CREATE TABLE a (x INTEGER);');
SELECT name, up_sql, down_sql FROM migrate_scripts;
EOF
  expect_rc 1
  local refused="migrate_scripts: this version already exists with other content"
  on pg && refused="migrate_scripts: version 1 already exists with other content
CONTEXT:  PL/pgSQL function public.migrate_scripts_unchanged() line 20 at RAISE"
  expect_err "$refused
$refused
$refused
$refused"
  expect_out "a|CREATE TABLE a (x INTEGER);|DROP TABLE a;"
}

# Rows whose versions are the same number ('01' and '1') are an error naming both rows; a
# version that is not one, in a table filled before versions were checked at INSERT (here: past
# the check), is an error naming it. Nothing runs.
case_stored_bad_rows() {
  db_q "SELECT migrate_init();
INSERT INTO migrate_scripts VALUES ('1', 'a', 'CREATE TABLE a (x INTEGER);', 'DROP TABLE a;');
INSERT INTO migrate_scripts VALUES ('01', 'b', 'CREATE TABLE b (x INTEGER);', NULL);" "ok"
  db_snapshot
  db_run --no-bail <<'EOF'
SELECT migrate_apply(NULL);
SELECT * FROM migrations_status(NULL);
SELECT * FROM migrate_plan(NULL);
SELECT * FROM migrate_script(NULL);
EOF
  expect_rc 1
  local dup="duplicate version 01: migrate_scripts:01 and migrate_scripts:1"
  expect_err "$dup
$dup
$dup
$dup"
  db_run <<<"SELECT migrate_validate(NULL);"
  expect_rc 1
  expect_match "validate names both" "duplicate version (01|1): migrate_scripts:(01|1) and migrate_scripts:(01|1)" "$ERR"
  expect_unchanged "the database after the refused calls"
  db_q "$COUNT_TABLES" "0"
  # a version that is not one, past the check
  local past_the_check='DROP TRIGGER migrate_scripts_version;' restore=
  if on pg; then
    past_the_check='ALTER TABLE migrate_scripts DISABLE TRIGGER migrate_scripts_unchanged;'
    restore='ALTER TABLE migrate_scripts ENABLE TRIGGER migrate_scripts_unchanged;'
  fi
  db_q "DELETE FROM migrate_scripts WHERE version = '01'; $past_the_check
INSERT INTO migrate_scripts VALUES ('2024-01-x', 'c', 'CREATE TABLE c (x INTEGER);', NULL); $restore" ""
  db_snapshot
  db_run --no-bail <<'EOF'
SELECT migrate_apply(NULL);
SELECT * FROM migrations_status(NULL);
SELECT * FROM migrate_plan(NULL);
SELECT migrate_validate(NULL);
EOF
  expect_rc 1
  local bad="migrate_scripts: version \"2024-01-x\" is not a version (expected digits joined by '.', '_' or '-', such as 20240101 or 2.15.0)"
  expect_err "$bad
$bad
$bad
$bad"
  expect_unchanged "the database after the refused calls"
  db_q "$COUNT_TABLES" "0"
}

# A version that is not one is refused when the row is inserted or updated, by the rule the
# folder's names follow, instead of making every later call fail on the row.
case_stored_version_refused_at_insert() {
  db_q "SELECT migrate_init();" "ok"
  # the error in each engine's words, for the version given (as SQL: quoted, or NULL)
  not_a_version() {
    printf "migrate_scripts: version is not a version (expected digits joined by '.', '_' or '-', such as 20240101 or 2.15.0)"
    on pg && printf "\nThe version given was %s.\nCONTEXT:  PL/pgSQL function public.migrate_scripts_unchanged() line 6 at RAISE" "$1"
    return 0
  }
  local bad good
  for bad in abc 1. 1..2 v 1v2 -1 "" "1 " 2024-01-x; do
    db_run <<<"INSERT INTO migrate_scripts VALUES ('$bad', 'a', 'SELECT 1;', NULL);"
    expect_error "$(not_a_version "'$bad'")"
  done
  db_run <<<"INSERT INTO migrate_scripts VALUES (NULL, 'a', 'SELECT 1;', NULL);"
  expect_error "$(not_a_version NULL)"
  for good in 1 v2 V3 2.15.0 20240101_1 4-5; do
    db_q "INSERT INTO migrate_scripts VALUES ('$good', 'a', 'SELECT 1;', NULL);" ""
  done
  db_run <<<"UPDATE migrate_scripts SET version = 'x1' WHERE version = '1';"
  expect_error "$(not_a_version "'x1'")"
  db_q "SELECT version FROM migrate_scripts ORDER BY version;
SELECT count(*) FROM migrations_status(NULL);" "1
2.15.0
20240101_1
4-5
V3
v2
6"
}

# A stored script marked no-transaction is refused where it cannot run, naming the row, before
# anything ran; the script runs it.
case_stored_no_transaction() {
  db_q "SELECT migrate_init();
INSERT INTO migrate_scripts VALUES ('1', 'a', 'CREATE TABLE a (x INTEGER);', NULL);
INSERT INTO migrate_scripts VALUES ('2', 'nt', '-- migrate:no-transaction
CREATE TABLE b (x INTEGER);', NULL);
INSERT INTO migrate_scripts VALUES ('3', 'c', 'CREATE TABLE c (x INTEGER);', NULL);" "ok"
  db_snapshot
  db_run <<<"$(notx_open) SELECT migrate_apply(NULL);"
  expect_error "$(notx_refusal migrate_scripts:2 2)" ""
  expect_unchanged "the database after the refused apply"
  db_run_script NULL
  expect_rc 0
  expect_err ""
  db_q "SELECT version, state, script FROM migrations_status(NULL); SELECT migrate_validate(NULL); $TABLES" \
    "1|applied|migrate_scripts:1
2|applied|migrate_scripts:2
3|applied|migrate_scripts:3
ok
a
b
c"
}
