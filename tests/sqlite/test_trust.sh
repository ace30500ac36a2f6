# shellcheck shell=bash
# What a migration or a hostile database must not make the extension do: VACUUM run and fail,
# shell commands through migrate_script, re-entry into a running call, schema code calling
# functions with side effects.

# A VACUUM migration is refused before anything runs, recorded nowhere; marked no-transaction it
# is refused by migrate_apply too, and migrate_script still writes a script that runs it.
test_trust_vacuum_refused_before_running() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER); INSERT INTO a VALUES (1);'
  put m/2_vacuum.up.sql <<<'DELETE FROM a;
VACUUM;'
  sqlite_run db <<<"SELECT migrate_apply('m');"
  expect_rc 1
  expect_match "the refusal" "migration 2 \(2_vacuum.up.sql, line 2\): VACUUM cannot run inside a transaction" "$ERR"
  expect_match "the hint" "migrate_script" "$ERR"
  sqlite_q db "SELECT count(*) FROM sqlite_schema;" "0"
  sqlite_run db <<<"SELECT count(*) FROM migrate_script('m');"
  expect_rc 1
  expect_match "migrate_script refuses it too" "VACUUM cannot run inside a transaction" "$ERR"
  put m/2_vacuum.up.sql <<<'-- migrate:no-transaction
DELETE FROM a;
VACUUM;'
  sqlite_run db <<<"SELECT migrate_apply('m');"
  expect_rc 1
  expect_match "the refusal, no-transaction" "line 3\): VACUUM cannot run from inside a function call" "$ERR"
  sqlite_q db "SELECT count(*) FROM sqlite_schema;" "0"
  sqlite_run db <<<"SELECT statement FROM migrate_script('m');"
  expect_rc 0
  printf '%s\n' "$OUT" | "$SQLITE3" db >/dev/null 2>&1 || fail "the VACUUM script failed"
  sqlite_q db "SELECT version, state FROM migrations_status('m'); SELECT count(*) FROM a;" "1|applied
2|applied
0"
}

# Switching to WAL inside the call's transaction is refused before anything runs.
test_trust_wal_refused_in_transaction() {
  put m/1_wal.up.sql <<<'CREATE TABLE a (x INTEGER);
PRAGMA journal_mode = WAL;'
  sqlite_run db <<<"SELECT migrate_apply('m');"
  expect_rc 1
  expect_match "the refusal" "line 2\): changing journal_mode to or from WAL cannot run inside a transaction" "$ERR"
  sqlite_q db "SELECT count(*) FROM sqlite_schema; PRAGMA journal_mode;" "0
delete"
}

# Runs migrate_script's output through the sqlite3 shell as the README does.
script_through_shell() {
  sqlite_run db <<<"SELECT statement FROM migrate_script('m');"
  SCRIPT_RC=$RC
  SCRIPT_ERR=$ERR
  [ "$RC" = 0 ] && printf '%s\n' "$OUT" | "$SQLITE3" db >/dev/null 2>&1
  return 0
}

# A shell command in a migration never reaches the shell through migrate_script: on a line of its
# own, hidden between $a$ (not a quote on SQLite), or on a line of a string literal.
test_trust_script_runs_no_shell_command() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x TEXT);
.shell touch pwned1'
  script_through_shell
  expect_eq "exit code" 1 "$SCRIPT_RC"
  expect_match "not SQL" "migration 1 \(1_a.up.sql, line 2\): this is not SQL" "$SCRIPT_ERR"
  put m/1_a.up.sql <<<'CREATE TABLE a (x TEXT);
SELECT $a$
.shell touch pwned2
$a$;'
  script_through_shell
  expect_eq "exit code, dollar quotes" 1 "$SCRIPT_RC"
  expect_match "dot line" "line 3\): a line of this statement begins with '\.'" "$SCRIPT_ERR"
  put m/1_a.up.sql <<<"CREATE TABLE a (x TEXT);
INSERT INTO a VALUES ('one
.shell touch pwned3
two');"
  script_through_shell
  expect_eq "exit code, string literal" 1 "$SCRIPT_RC"
  expect_match "dot line in a literal" "line 3\): a line of this statement begins with '\.'" "$SCRIPT_ERR"
  # migrate_apply runs it as the SQL it is: the text is data
  sqlite_q db "SELECT migrate_apply('m'); SELECT x = 'one' || char(10) || '.shell touch pwned3' || char(10) || 'two' FROM a;" "1
1"
  # a comment after the last statement is kept in history; its literal starts no line with '.'
  put n/1_a.up.sql <<<"CREATE TABLE a (x TEXT);
/*
.shell touch pwned4
*/"
  sqlite_run db2 <<<"SELECT statement FROM migrate_script('n');"
  expect_rc 0
  if printf '%s\n' "$OUT" | grep -v '^\.bail on$' | grep -q '^[[:space:]]*\.'; then
    fail "a line of the script begins with '.'"
  fi
  printf '%s\n' "$OUT" | "$SQLITE3" db2 >/dev/null 2>&1 || fail "the script failed"
  sqlite_q db2 "SELECT up_sql = CAST(readfile('n/1_a.up.sql') AS TEXT) FROM migrate_history;" "1"
  for f in pwned1 pwned2 pwned3 pwned4; do
    [ ! -e "$f" ] || fail "the shell ran a command of a migration ($f)"
  done
}

# SQLite's block comments do not nest: '/* /* */' is one closed comment.
test_trust_block_comment_sqlite_rules() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER); /* /* */
INSERT INTO a VALUES (1);'
  sqlite_q db "SELECT migrate_apply('m'); SELECT * FROM a;" "1
1"
  put m/2_b.up.sql <<<"CREATE TABLE b (x TEXT DEFAULT 'it''s');
/* never closed"
  sqlite_run db <<<"SELECT migrate_apply('m');"
  expect_error "2_b.up.sql: line 2: the script ends inside the block comment that starts here"
}

# A trigger of thousands of statements comes out of migrate_script as one statement that runs.
test_trust_script_big_trigger() {
  {
    echo 'CREATE TABLE a (x INTEGER);'
    echo 'CREATE TABLE log (x INTEGER);'
    echo 'CREATE TRIGGER a_ins AFTER INSERT ON a BEGIN'
    for i in $(seq 1 3000); do echo "  INSERT INTO log VALUES (new.x + $i);"; done
    echo 'END;'
    echo 'INSERT INTO a VALUES (0);'
  } | put m/1_big.up.sql
  sqlite_q db "SELECT count(*) FROM migrate_script('m');" "9"
  sqlite_run db <<<"SELECT statement FROM migrate_script('m');"
  printf '%s\n' "$OUT" | "$SQLITE3" db >/dev/null 2>&1 || fail "the script failed"
  sqlite_q db "SELECT count(*), sum(x) FROM log; SELECT state FROM migrations_status('m');" "3000|4501500
applied"
}

# A migration calling migrate_apply on its own folder is refused, not a stack overflow; one
# calling migrate_add_unique works.
test_trust_reentry_refused() {
  put m/1_a.up.sql <<<"CREATE TABLE a (x INTEGER);
SELECT migrate_apply('m');"
  sqlite_run db <<<"SELECT migrate_apply('m');"
  expect_rc 1
  expect_match "the refusal" "migrate_apply cannot be called while migrate_apply is running on this connection" "$ERR"
  sqlite_q db "SELECT count(*) FROM sqlite_schema;" "0"
  put m/1_a.up.sql <<<"CREATE TABLE a (x INTEGER);
SELECT * FROM migrations_status('m');"
  sqlite_run db <<<"SELECT migrate_apply('m');"
  expect_match "a table-valued function" "migrations_status cannot be called while migrate_apply is running" "$ERR"
  put m/1_a.up.sql <<<"CREATE TABLE a (x INTEGER);
SELECT migrate_set('out_of_order', 'allow');"
  sqlite_run db <<<"SELECT migrate_apply('m');"
  expect_match "a setting" "migrate_set cannot be called while migrate_apply is running" "$ERR"
  put m/1_a.up.sql <<<"CREATE TABLE a (x INTEGER);
INSERT INTO a VALUES (1), (2);
SELECT migrate_add_unique('a', 'x', 'a_x');"
  sqlite_q db "SELECT migrate_apply('m'); SELECT count(*) FROM a; SELECT migrate_validate('m');" "1
2
ok"
}

# migrate_set with NULL is an error, not a silent read.
test_trust_set_null() {
  sqlite_run db <<<"SELECT migrate_set('out_of_order', NULL);"
  expect_error "migrate_set: out_of_order cannot be set to NULL (values: 'error' or 'allow')"
  sqlite_q db "SELECT migrate_set('out_of_order');" "error"
}

# Schema code (a CHECK constraint, a trigger, a view) never calls a function with a side effect
# or one that reads files, even with trusted_schema on.
test_trust_schema_code_cannot_call() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  local calls=("migrate_set('out_of_order', 'allow')" "migrate_validate('m')" "migrate_apply('m')"
    "migrate_to('m', '1')" "migrate_rollback('m')" "migrate_repair('m')" "migrate_baseline('1')"
    "migrate_init()" "migrate_add_unique('t', 'x')")
  local i=0 c
  for c in "${calls[@]}"; do
    i=$((i + 1))
    rm -f h.db
    # the hostile database, as another connection left it: its schema written directly (a
    # newer SQLite already refuses to create such schema code with the module loaded)
    local lit=${c//\'/\'\'}
    sqlite_run h.db <<EOF2
CREATE TABLE t (x INTEGER);
CREATE TABLE c (x INTEGER);
CREATE TABLE log (x);
CREATE TABLE chk (x);
.dbconfig defensive off
PRAGMA writable_schema = ON;
UPDATE sqlite_schema SET sql = 'CREATE TABLE chk (x CHECK (length(coalesce($lit, '''')) >= 0))' WHERE name = 'chk';
INSERT INTO sqlite_schema (type, name, tbl_name, rootpage, sql) VALUES
  ('trigger', 'tr', 'c', 0, 'CREATE TRIGGER tr AFTER INSERT ON c BEGIN INSERT INTO log SELECT $lit; END'),
  ('view', 'v', 'v', 0, 'CREATE VIEW v AS SELECT $lit AS r');
EOF2
    expect_rc 0
    sqlite_run h.db <<<"PRAGMA trusted_schema = ON; INSERT INTO chk VALUES (1);"
    expect_rc 1
    expect_match "CHECK calling $c" "must be called as a plain SELECT|unsafe use" "$ERR"
    sqlite_run h.db <<<"PRAGMA trusted_schema = ON; INSERT INTO c VALUES (1);"
    expect_rc 1
    expect_match "trigger calling $c" "unsafe use" "$ERR"
    sqlite_run h.db <<<"PRAGMA trusted_schema = ON; SELECT * FROM v;"
    expect_rc 1
    expect_match "view calling $c" "unsafe use" "$ERR"
    # nothing ran: no log row, no table of migrate's (read without the module, which a newer
    # SQLite refuses to load such a schema with)
    sqlite_run --no-load h.db <<<"SELECT count(*) FROM log; SELECT count(*) FROM sqlite_schema WHERE name LIKE 'migrate%';"
    expect_ok "0
0"
  done
}
