# shellcheck shell=bash
# Migrations that cannot run in a transaction (-- migrate:no-transaction, dbmate's
# "-- migrate:up transaction:false", goose's "-- +goose NO TRANSACTION"), migrate_script run
# through the sqlite3 shell, and migrations stored in the database (migrate_scripts), on SQLite
# alone: migrate_apply runs a marked migration in autocommit between the others, records a
# failed one with the statements that completed and resumes it; the script migrate_script writes
# for the sqlite3 shell (as the README gives it); a database without migrate_scripts, the
# objects migrate_init makes, readfile and the 32 MiB limit on a row. The refusals where a marked
# migration cannot run, the script giving the history of migrate_apply, and the stored
# migrations themselves are written once for both engines in tests/cases/notx.sh.

# The columns two histories must agree on (ids, times, users and durations may differ).
NOTX_HISTORY="SELECT version, name, direction, checksum, down_checksum, up_sql, down_sql, script,
success FROM migrate_history ORDER BY id;"

# An ordinary migration, a no-transaction one, an ordinary one. The middle one switches the
# database to WAL, which SQLite refuses inside a transaction ("cannot change into wal mode from
# within a transaction"): it can only succeed when what came before has committed.
notx_wal_fixture() {
  put m/1_a.up.sql <<'EOF'
CREATE TABLE a (x INTEGER);
INSERT INTO a VALUES (1);
EOF
  put m/2_wal.up.sql <<'EOF'
-- migrate:no-transaction
PRAGMA journal_mode = WAL;
CREATE TABLE b (y INTEGER);
EOF
  put m/3_c.up.sql <<'EOF'
CREATE TABLE c (z INTEGER);
INSERT INTO c SELECT x FROM a;
EOF
}

# The no-transaction migration runs between the two others: the first commits before it, the
# third runs after it in a transaction of its own, and history has all three, in order.
test_notx_runs_between_ordinary_migrations() {
  notx_wal_fixture
  sqlite_q db "SELECT migrate_apply('m');" "3"
  sqlite_q db "PRAGMA journal_mode;
SELECT id, version, name, direction, success, completed_statements IS NULL FROM migrate_history;
SELECT version, state FROM migrations_status('m');
SELECT * FROM c;
SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY 1;" "wal
1|1|a|up|1|1
2|2|wal|up|1|1
3|3|c|up|1|1
1|applied
2|applied
3|applied
1
a
b
c
migrate_history
migrate_schema_history"
  # the statements kept are the file as written, marker included
  sqlite_q db "SELECT up_sql = CAST(readfile('m/2_wal.up.sql') AS TEXT), checksum = '$(sha m/2_wal.up.sql)'
FROM migrate_history WHERE version = '2';" "1|1"
  sqlite_q db "SELECT migrate_apply('m'); SELECT count(*) FROM migrate_history;" "0
3"
}

# The migrations after a no-transaction one run in a new transaction: when one of them fails,
# it alone is undone; the ones before it and the no-transaction one stay applied.
test_notx_later_failure_keeps_earlier_segments() {
  notx_wal_fixture
  put m/3_c.up.sql <<'EOF'
CREATE TABLE c (z INTEGER);
INSERT INTO nope VALUES (1);
EOF
  sqlite_run db <<<"SELECT migrate_apply('m');"
  expect_error "migration 3 (3_c.up.sql, line 2): no such table: nope" ""
  sqlite_q db "PRAGMA journal_mode;
SELECT version, success FROM migrate_history ORDER BY id;
SELECT version, state FROM migrations_status('m');
SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY 1;" "wal
1|1
2|1
1|applied
2|applied
3|pending
a
b
migrate_history
migrate_schema_history"
}

# dbmate's and goose's spellings of the marker mean the same: refused inside a transaction,
# run in autocommit outside one. PRAGMA foreign_keys is a no-op inside a transaction, so the
# connection having enforcement on afterwards shows the statement ran outside one.
test_notx_dbmate_and_goose_markers() {
  put m/1_a.sql <<'EOF'
-- migrate:up
CREATE TABLE a (x INTEGER PRIMARY KEY);
-- migrate:down
DROP TABLE a;
EOF
  put m/2_fk.sql <<'EOF'
-- migrate:up transaction:false
PRAGMA foreign_keys = ON;
CREATE TABLE child (a_id INTEGER REFERENCES a (x));

-- migrate:down
DROP TABLE child;
EOF
  put m/3_wal.sql <<'EOF'
-- +goose NO TRANSACTION
-- +goose Up
PRAGMA journal_mode = WAL;
CREATE TABLE g (x INTEGER);
-- +goose Down
DROP TABLE g;
EOF
  put m/4_d.sql <<'EOF'
-- migrate:up
CREATE TABLE d (x INTEGER);
EOF
  sqlite_run --no-bail db <<'EOF'
BEGIN;
SELECT migrate_apply('m');
SELECT migrate_apply('m', '2');
ROLLBACK;
SELECT count(*) FROM sqlite_schema;
EOF
  expect_rc 1
  expect_err "2_fk.sql: migration 2 is marked no-transaction and needs the connection in autocommit mode, but a transaction is open; nothing was applied
2_fk.sql: migration 2 is marked no-transaction and needs the connection in autocommit mode, but a transaction is open; nothing was applied"
  expect_out "0"
  sqlite_run --no-bail db <<'EOF'
SELECT migrate_apply('m', '2');
BEGIN;
SELECT migrate_apply('m');
ROLLBACK;
EOF
  expect_rc 1
  expect_err "3_wal.sql: migration 3 is marked no-transaction and needs the connection in autocommit mode, but a transaction is open; nothing was applied"
  expect_out "2"
  sqlite_q db "SELECT migrate_apply('m'); PRAGMA foreign_keys; PRAGMA journal_mode;
SELECT version, up_sql, down_sql FROM migrate_history ORDER BY id;" "2
0
wal
1|CREATE TABLE a (x INTEGER PRIMARY KEY);
|DROP TABLE a;

2|PRAGMA foreign_keys = ON;
CREATE TABLE child (a_id INTEGER REFERENCES a (x));

|DROP TABLE child;

3|PRAGMA journal_mode = WAL;
CREATE TABLE g (x INTEGER);
|DROP TABLE g;

4|CREATE TABLE d (x INTEGER);
|"
  # within one shell session the pragma the migration ran is still in force afterwards
  rm db db-wal db-shm 2>/dev/null
  sqlite_q db "SELECT migrate_apply('m', '2'); PRAGMA foreign_keys;" "2
1"
}

# The fixture of the failure cases: the second statement of the no-transaction migration writes
# to a log, the third fails. Re-running its first statement would fail (no IF NOT EXISTS), and
# the log counts how often each statement ran.
notx_failing_fixture() {
  put m/1_log.up.sql <<'EOF'
CREATE TABLE log (what TEXT);
EOF
  put m/2_nt.up.sql <<'EOF'
-- migrate:no-transaction
CREATE TABLE b (y INTEGER);
INSERT INTO log VALUES ('2: statement 2');
INSERT INTO nope VALUES (1);
INSERT INTO log VALUES ('2: statement 4');
EOF
  put m/3_c.up.sql <<'EOF'
CREATE TABLE c (z INTEGER);
INSERT INTO log VALUES ('3');
EOF
}

NOTX_FAILED_ERROR="migration 2 (2_nt.up.sql, line 4): no such table: nope
HINT: migration 2 ran outside a transaction and is recorded as failed after 2 completed statements; fix the script and apply again to resume from statement 3, or clear it with migrate_repair"

# A failing statement: the ones before the migration stay committed, history records the run
# as failed with how many statements completed, status says failed, and every further call
# refuses until the script changes.
test_notx_failure_is_recorded_and_refused() {
  notx_failing_fixture
  sqlite_run db <<<"SELECT migrate_apply('m');"
  expect_error "$NOTX_FAILED_ERROR" ""
  sqlite_q db "SELECT id, version, direction, success, completed_statements, checksum = '$(sha m/2_nt.up.sql)',
up_sql = CAST(readfile('m/2_nt.up.sql') AS TEXT) FROM migrate_history ORDER BY id;
SELECT version, state FROM migrations_status('m');
SELECT version, state FROM migrations_status;
SELECT * FROM log;
SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY 1;" "1|1|up|1||0|0
2|2|up|0|2|1|1
1|applied
2|failed
3|pending
1|applied
2|failed
2: statement 2
b
log
migrate_history
migrate_schema_history"
  # the first row's checksum is 1_log's, not 2_nt's: the 0|0 above is right
  cp db db.before
  sqlite_run --no-bail db <<'EOF'
SELECT migrate_apply('m');
SELECT * FROM migrate_plan('m');
SELECT * FROM migrate_script('m');
SELECT migrate_validate('m');
SELECT migrate_rollback('m');
EOF
  expect_rc 1
  local refusal="2_nt.up.sql: migration 2 failed when it last ran and its script has not changed since
HINT: fix the script, or clear the failure with migrate_repair"
  expect_err "$refusal
$refusal
$refusal
$refusal
$refusal"
  cmp -s db db.before || fail "a refused call changed the database"
}

# Fixed, the migration resumes from the statement that failed: the statements that ran are not
# run again (CREATE TABLE b would fail), then the migrations after it run.
test_notx_resume_after_fix() {
  notx_failing_fixture
  sqlite_run db <<<"SELECT migrate_apply('m');"
  expect_error "$NOTX_FAILED_ERROR" ""
  sed -i 's/INTO nope/INTO b/' m/2_nt.up.sql
  sqlite_q db "SELECT version, state FROM migrations_status('m');" "1|applied
2|failed
3|pending"
  sqlite_q db "SELECT migrate_apply('m');" "2"
  sqlite_q db "SELECT * FROM log; SELECT * FROM b;
SELECT id, version, direction, success, completed_statements FROM migrate_history ORDER BY id;
SELECT version, state FROM migrations_status('m');
SELECT up_sql = CAST(readfile('m/2_nt.up.sql') AS TEXT), checksum = '$(sha m/2_nt.up.sql)'
FROM migrate_history WHERE id = 3;" "2: statement 2
2: statement 4
3
1
1|1|up|1|
2|2|up|0|2
3|2|up|1|
4|3|up|1|
1|applied
2|applied
3|applied
1|1"
  sqlite_q db "SELECT migrate_validate('m');" "ok"
}

# A fix that changes a statement that already ran is refused, and nothing changes; restoring
# it lets the migration resume.
test_notx_resume_refuses_changed_statements() {
  notx_failing_fixture
  sqlite_run db <<<"SELECT migrate_apply('m');"
  expect_error "$NOTX_FAILED_ERROR" ""
  cp db db.before
  # statement 2 changed (and the failing one fixed)
  put m/2_nt.up.sql <<'EOF'
-- migrate:no-transaction
CREATE TABLE b (y INTEGER);
INSERT INTO log VALUES ('2: statement 2, changed');
INSERT INTO b VALUES (1);
INSERT INTO log VALUES ('2: statement 4');
EOF
  sqlite_run db <<<"SELECT migrate_apply('m');"
  expect_error "2_nt.up.sql: migration 2 failed after 2 statements had run, and statement 2 has changed since; nothing was run
HINT: restore the statements that already ran, or clear the failure with migrate_repair to run the migration from its start" ""
  cmp -s db db.before || fail "the refused resume changed the database"
  # a statement removed: the first one has "changed"
  put m/2_nt.up.sql <<'EOF'
-- migrate:no-transaction
INSERT INTO log VALUES ('2: statement 2');
INSERT INTO b VALUES (1);
EOF
  sqlite_run db <<<"SELECT migrate_apply('m');"
  expect_error "2_nt.up.sql: migration 2 failed after 2 statements had run, and statement 1 has changed since; nothing was run
HINT: restore the statements that already ran, or clear the failure with migrate_repair to run the migration from its start" ""
  cmp -s db db.before || fail "the refused resume changed the database"
  # white space and comments between statements are not statements: they may change
  put m/2_nt.up.sql <<'EOF'
-- migrate:no-transaction
-- the statements that ran, unchanged
CREATE TABLE b (y INTEGER);

INSERT INTO log VALUES ('2: statement 2');
-- the fix
INSERT INTO b VALUES (1);
INSERT INTO log VALUES ('2: statement 4');
EOF
  sqlite_q db "SELECT migrate_apply('m'); SELECT * FROM log;" "2
2: statement 2
2: statement 4
3"
}

# Clearing the failure with migrate_repair instead: the migration is pending again and runs from
# its first statement (here after the DBA removed what its failed run left).
test_notx_repair_clears_failure() {
  notx_failing_fixture
  sqlite_run db <<<"SELECT migrate_apply('m');"
  expect_error "$NOTX_FAILED_ERROR" ""
  sed -i 's/INTO nope/INTO b/' m/2_nt.up.sql
  sqlite_q db "SELECT migrate_repair('m');
SELECT version, state FROM migrations_status('m');
SELECT id, version, direction, success FROM migrate_history WHERE id > 2;" "cleared 1 failed migration (2)
1|applied
2|pending
3|pending
3|2|repair|1"
  # from the start: its first statement fails now, since b exists
  cp db db.before
  sqlite_run db <<<"SELECT migrate_apply('m');"
  expect_error "migration 2 (2_nt.up.sql, line 2, column 14): table b already exists
HINT: migration 2 ran outside a transaction and is recorded as failed after 0 completed statements; fix the script and apply again to resume from statement 1, or clear it with migrate_repair" ""
  cp db.before db
  sqlite_q db "SELECT migrate_set('drift', 'ignore'); DROP TABLE b; SELECT migrate_apply('m'); SELECT * FROM log;
SELECT version, state FROM migrations_status('m');" "ignore
2
2: statement 2
2: statement 2
2: statement 4
3
1|applied
2|applied
3|applied"
}

# Inside a caller's transaction the call fails before running anything, not even the ordinary
# migrations before the marked one, and the caller's transaction goes on.
test_notx_refused_inside_begin() {
  notx_wal_fixture
  sqlite_run --no-bail db <<'EOF'
BEGIN;
CREATE TABLE mine (x INTEGER);
SELECT migrate_apply('m');
INSERT INTO mine VALUES (1);
COMMIT;
SELECT name FROM sqlite_schema ORDER BY 1;
SELECT * FROM mine;
EOF
  expect_rc 1
  expect_err "2_wal.up.sql: migration 2 is marked no-transaction and needs the connection in autocommit mode, but a transaction is open; nothing was applied"
  expect_out "mine
1"
  # BEGIN IMMEDIATE, and a target short of the marked migration, which is then fine
  sqlite_run --no-bail db <<'EOF'
BEGIN IMMEDIATE;
SELECT migrate_apply('m');
SELECT migrate_apply('m', '1');
COMMIT;
SELECT version FROM migrate_history;
PRAGMA journal_mode;
EOF
  expect_rc 1
  expect_err "2_wal.up.sql: migration 2 is marked no-transaction and needs the connection in autocommit mode, but a transaction is open; nothing was applied"
  expect_out "1
1
delete"
}

# migrate_plan shows what migrate_apply would run: in autocommit that includes the marked
# migration (inside a transaction, where apply refuses, the plan refuses too). Found while
# writing these tests (see the report): the plan refuses in autocommit as well.
test_notx_plan_lists_marked_migration() {
  notx_wal_fixture
  sqlite_run db <<<"SELECT * FROM migrate_plan('m');"
  expect_ok "1|up|1|a|1_a.up.sql
2|up|2|wal|2_wal.up.sql
3|up|3|c|3_c.up.sql"
  sqlite_run db <<<"SELECT * FROM migrate_plan('m', '2');"
  expect_ok "1|up|1|a|1_a.up.sql
2|up|2|wal|2_wal.up.sql"
  sqlite_run db <<<"BEGIN; SELECT * FROM migrate_plan('m');"
  expect_error "2_wal.up.sql: migration 2 is marked no-transaction and needs the connection in autocommit mode, but a transaction is open; nothing was applied"
}

# Found while writing these tests (see the report): an empty statement (a lone ';') before the
# failing one makes the resume start one statement too early, re-running one that completed.
test_notx_resume_after_empty_statement() {
  put m/1_e.up.sql <<'EOF'
-- migrate:no-transaction
CREATE TABLE b (y INTEGER);
;
CREATE TABLE b2 (z INTEGER);
INSERT INTO nope VALUES (1);
EOF
  sqlite_run db <<<"SELECT migrate_apply('m');"
  expect_error "migration 1 (1_e.up.sql, line 5): no such table: nope
HINT: migration 1 ran outside a transaction and is recorded as failed after 2 completed statements; fix the script and apply again to resume from statement 3, or clear it with migrate_repair" ""
  sed -i 's/INTO nope/INTO b2/' m/1_e.up.sql
  sqlite_run db <<<"SELECT migrate_apply('m');"
  expect_ok "1"
  sqlite_q db "SELECT count(*) FROM b2; SELECT version, state FROM migrations_status('m');" "1
1|applied"
}

# Found while writing these tests (see the report): a fix that also drops the marker is refused
# (its statements ran outside a transaction, so running it from the start as an ordinary
# migration would repeat them), but the refusal says the script has not changed, which is false.
test_notx_fix_without_marker_is_refused_truthfully() {
  notx_failing_fixture
  sqlite_run db <<<"SELECT migrate_apply('m');"
  expect_error "$NOTX_FAILED_ERROR" ""
  cp db db.before
  sed -i -e '/no-transaction/d' -e 's/INTO nope/INTO b/' m/2_nt.up.sql
  sqlite_run db <<<"SELECT migrate_apply('m');"
  expect_rc 1
  expect_match "refusal names the migration" "2_nt\.up\.sql: migration 2 " "$ERR"
  if [[ $ERR == *"has not changed since"* ]]; then
    fail "the refusal says the script has not changed, but it has: $ERR"
  fi
  cmp -s db db.before || fail "the refused call changed the database"
}

# What migrate_script writes for the sqlite3 shell: .bail on, the history table, then each
# migration's statements followed by the INSERT that records it, inside BEGIN/COMMIT unless it
# is marked.
test_notx_script_listing() {
  notx_wal_fixture
  local rec='INSERT INTO "main"."migrate_history" (version, name, direction, checksum, down_checksum, up_sql, down_sql, script, applied_at, applied_by, execution_ms, success) SELECT '
  local tail="strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), '$ME', 0, '1';"
  sqlite_q db "SELECT seq, statement FROM migrate_script('m') WHERE seq <> 2;
SELECT statement LIKE 'CREATE TABLE IF NOT EXISTS \"main\".\"migrate_history\" (%' FROM migrate_script('m') WHERE seq = 2;" "1|.bail on
3|BEGIN IMMEDIATE;
4|CREATE TABLE a (x INTEGER);
5|INSERT INTO a VALUES (1);
6|${rec}'1', 'a', 'up', '$(sha m/1_a.up.sql)', NULL, 'CREATE TABLE a (x INTEGER);
INSERT INTO a VALUES (1);
', NULL, '1_a.up.sql', $tail
7|COMMIT;
8|PRAGMA journal_mode = WAL;
9|CREATE TABLE b (y INTEGER);
10|${rec}'2', 'wal', 'up', '$(sha m/2_wal.up.sql)', NULL, '-- migrate:no-transaction
PRAGMA journal_mode = WAL;
CREATE TABLE b (y INTEGER);
', NULL, '2_wal.up.sql', $tail
11|BEGIN IMMEDIATE;
12|CREATE TABLE c (z INTEGER);
13|INSERT INTO c SELECT x FROM a;
14|${rec}'3', 'c', 'up', '$(sha m/3_c.up.sql)', NULL, 'CREATE TABLE c (z INTEGER);
INSERT INTO c SELECT x FROM a;
', NULL, '3_c.up.sql', $tail
15|COMMIT;
1"
  # it reads the database only: nothing was created
  sqlite_q db "SELECT count(*) FROM sqlite_schema;" "0"
  # with a target, up to and including it
  sqlite_q db "SELECT max(seq), group_concat(substr(statement, 1, 22), ' / ') FROM migrate_script('m', '1') WHERE seq > 2;" "7|BEGIN IMMEDIATE; / CREATE TABLE a (x INTE / INSERT INTO a VALUES ( / INSERT INTO \"main\".\"mi / COMMIT;"
  sqlite_run db <<<"SELECT * FROM migrate_script('m', 'x');"
  expect_error "target \"x\" is not a version (expected digits joined by '.', '_' or '-', such as 20240101 or 2.15.0)"
}

# The script run through a second sqlite3 shell that has not loaded the extension gives the
# history migrate_apply gives, and the same schema; on an up-to-date database only the frame is
# left; part of the way with a target, then the rest.
test_notx_script_through_shell_matches_apply() {
  notx_wal_fixture
  put m/4_d.sql <<'EOF'
-- migrate:up
CREATE TABLE d (x INTEGER);
CREATE TRIGGER d_ins AFTER INSERT ON d BEGIN
  INSERT INTO a VALUES (new.x);
END;
-- migrate:down
DROP TABLE d;
EOF
  put m/5_e/up.sql <<<"CREATE TABLE e (s TEXT DEFAULT 'it''s; here'); -- a trailing comment"
  put m/5_e/down.sql <<<'DROP TABLE e;'
  sqlite_q applied.db "SELECT migrate_apply('m');" "5"
  sqlite_run scripted.db <<<"SELECT statement FROM migrate_script('m');"
  expect_rc 0
  printf '%s\n' "$OUT" >script.sql
  SHELL_OUT=$(timeout "$SQ_TIME_LIMIT" "$SQLITE3" scripted.db <script.sql 2>&1)
  expect_eq "the shell running the script" "wal" "$SHELL_OUT"
  expect_eq "history" "$("$SQLITE3" applied.db "$NOTX_HISTORY")" "$("$SQLITE3" scripted.db "$NOTX_HISTORY")"
  # the same but the fingerprints: the shell that runs a script cannot describe the schema
  expect_eq "schema" "$("$SQLITE3" applied.db "SELECT type, name, sql FROM sqlite_schema WHERE name <> 'migrate_schema_history' ORDER BY name")" \
    "$("$SQLITE3" scripted.db "SELECT type, name, sql FROM sqlite_schema ORDER BY name")"
  sqlite_q scripted.db "PRAGMA journal_mode; SELECT * FROM c; SELECT version, state FROM migrations_status('m');
SELECT migrate_validate('m'); SELECT count(*) FROM migrate_history WHERE applied_at NOT GLOB '$ISO_GLOB' OR applied_by <> '$ME';" "wal
1
1|applied
2|applied
3|applied
4|applied
5|applied
ok
0"
  # the command the README gives, as written
  README_OUT=$(timeout "$SQ_TIME_LIMIT" "${RUNNER[@]}" "$SQLITE3" readme.db ".load $MIGRATE_SO" \
    "SELECT statement FROM migrate_script('m')" | "$SQLITE3" readme.db 2>&1)
  expect_eq "the README's command" "wal" "$README_OUT"
  expect_eq "history through the README's command" "$("$SQLITE3" applied.db "$NOTX_HISTORY")" \
    "$("$SQLITE3" readme.db "$NOTX_HISTORY")"
  # up to date: one comment that says so (an empty result would look like a failure), which
  # the shell runs harmlessly
  sqlite_q scripted.db "SELECT seq, statement FROM migrate_script('m');
SELECT seq, statement FROM migrate_script('m', '3');" "1|-- migrate: nothing to apply; the database is at version 5
1|-- migrate: nothing to apply up to version 3; the database is at version 5"
  README_OUT=$(timeout "$SQ_TIME_LIMIT" "${RUNNER[@]}" "$SQLITE3" readme.db ".load $MIGRATE_SO" \
    "SELECT statement FROM migrate_script('m')" | "$SQLITE3" readme.db 2>&1)
  expect_eq "the README's command with nothing to apply" "" "$README_OUT"
  # with a target, then the rest: the same history again
  sqlite_run parts.db <<<"SELECT statement FROM migrate_script('m', '2');"
  printf '%s\n' "$OUT" | "$SQLITE3" parts.db >/dev/null 2>&1 || fail "the first part failed"
  sqlite_q parts.db "SELECT version FROM migrate_history; SELECT version, state FROM migrations_status('m');" "1
2
1|applied
2|applied
3|pending
4|pending
5|pending"
  sqlite_run parts.db <<<"SELECT statement FROM migrate_script('m');"
  printf '%s\n' "$OUT" | "$SQLITE3" parts.db >/dev/null 2>&1 || fail "the second part failed"
  expect_eq "history in two parts" "$("$SQLITE3" applied.db "$NOTX_HISTORY")" "$("$SQLITE3" parts.db "$NOTX_HISTORY")"
}

# The script stops at the first error (.bail on): a failing migration is not recorded and
# nothing after it runs; what came before stays applied.
test_notx_script_stops_at_first_error() {
  notx_wal_fixture
  put m/3_c.up.sql <<'EOF'
CREATE TABLE c (z INTEGER);
INSERT INTO nope VALUES (1);
EOF
  put m/4_d.up.sql <<<'CREATE TABLE d (x INTEGER);'
  sqlite_run db <<<"SELECT statement FROM migrate_script('m');"
  SHELL_OUT=$(printf '%s\n' "$OUT" | "$SQLITE3" db 2>&1)
  SHELL_RC=$?
  expect_eq "exit code of the shell" "1" "$SHELL_RC"
  expect_match "the shell's error" "no such table: nope" "$SHELL_OUT"
  sqlite_q db "SELECT version FROM migrate_history ORDER BY id;
SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY 1;" "1
2
a
b
migrate_history"
}

# A VACUUM migration cannot run from inside a function call; through migrate_script it runs.
test_notx_vacuum_through_script() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER); INSERT INTO a VALUES (1);'
  put m/2_vacuum.up.sql <<'EOF'
-- migrate:no-transaction
DELETE FROM a;
VACUUM;
EOF
  sqlite_run db <<<"SELECT statement FROM migrate_script('m');"
  printf '%s\n' "$OUT" | "$SQLITE3" db >/dev/null 2>&1 || fail "the VACUUM script failed"
  sqlite_q db "SELECT version, state FROM migrations_status('m'); SELECT count(*) FROM a;" "1|applied
2|applied
0"
}

# --- migrations stored in the database (migrate_scripts) --------------------------------------

# Without migrate_init there is no migrate_scripts table: every call given NULL says so.
test_stored_without_table() {
  sqlite_run --no-bail db <<'EOF'
SELECT migrate_apply(NULL);
SELECT * FROM migrate_plan(NULL);
SELECT * FROM migrations_status(NULL);
SELECT migrate_validate(NULL);
SELECT * FROM migrate_script(NULL);
SELECT migrate_rollback(NULL);
SELECT count(*) FROM sqlite_schema;
EOF
  expect_rc 1
  local e="no migrations folder given, and there is no migrate_scripts table
HINT: SELECT migrate_init() creates migrate_scripts; insert migrations into it, or give a folder"
  expect_err "$e
$e
$e
$e
$e
$e"
  expect_out "0"
}

# migrate_init on SQLite: the table and the triggers that check its rows, made once; a row's
# script may be read from a file with readfile, and its checksum is the file's. The stored
# migrations themselves are tests/cases/notx.sh's case_stored_* cases.
test_stored_init_and_readfile() {
  put 20240102_posts.up.sql <<'EOF'
CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER);
INSERT INTO posts VALUES (1, NULL);
EOF
  sqlite_q db "SELECT migrate_init(); SELECT migrate_init();
SELECT name FROM sqlite_schema WHERE name LIKE 'migrate%' ORDER BY 1;" "ok
ok
migrate_history
migrate_scripts
migrate_scripts_unchanged
migrate_scripts_version
migrate_scripts_version_update"
  sqlite_q db "INSERT INTO migrate_scripts VALUES ('20240102', 'posts', readfile('20240102_posts.up.sql'), NULL);
SELECT checksum FROM migrations_status(NULL); SELECT migrate_apply(NULL);
SELECT up_sql = CAST(readfile('20240102_posts.up.sql') AS TEXT) FROM migrate_history; SELECT * FROM posts;" \
    "$(sha 20240102_posts.up.sql)
1
1
1|"
}

# A stored script marked no-transaction runs outside a transaction in autocommit, as a file
# does (the refusal inside a transaction is tests/cases/notx.sh's case_stored_no_transaction).
test_stored_no_transaction_in_autocommit() {
  sqlite_q db "SELECT migrate_init();
INSERT INTO migrate_scripts VALUES ('1', 'a', 'CREATE TABLE a (x INTEGER);', NULL);
INSERT INTO migrate_scripts VALUES ('2', 'wal', '-- migrate:no-transaction
PRAGMA journal_mode = WAL;', NULL);
INSERT INTO migrate_scripts VALUES ('3', 'c', 'CREATE TABLE c (x INTEGER);', NULL);" "ok"
  sqlite_q db "SELECT migrate_apply(NULL); PRAGMA journal_mode;" "3
wal"
}

# The 32 MiB limit on a script holds for migrate_scripts rows as for files.
test_stored_script_size_limit() {
  sqlite_q db "SELECT migrate_init();
INSERT INTO migrate_scripts VALUES ('1', 'big', 'SELECT 1;' || replace(hex(zeroblob(16777216)), '0', ' '), NULL);" "ok"
  sqlite_run db <<<"SELECT migrate_apply(NULL);"
  expect_error "migrate_scripts:1: is 33554441 bytes; scripts over 32 MiB are refused"
  sqlite_q db "SELECT count(*) FROM migrate_history;" "0"
}
