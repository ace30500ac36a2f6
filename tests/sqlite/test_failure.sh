# shellcheck shell=bash
# Failures: one call is one transaction, and its errors say where and why.

# The third statement of the second migration fails: nothing of the first remains (no table, no
# history, not even the history table), and the error names the version, the file, the line the
# failing statement starts on and SQLite's message.
test_failure_leaves_no_trace() {
  put m/1_a.up.sql <<'EOF'
CREATE TABLE a (x INTEGER);
INSERT INTO a VALUES (1);
EOF
  put m/2_b.up.sql <<'EOF'
CREATE TABLE b (y INTEGER);
INSERT INTO b VALUES (1);

-- the next statement fails
INSERT INTO nope
  VALUES (2);
CREATE TABLE c (z INTEGER);
EOF
  sqlite_run db <<<"SELECT migrate_apply('m');"
  expect_error "migration 2 (2_b.up.sql, line 5): no such table: nope" ""
  sqlite_q db "SELECT count(*) FROM sqlite_schema;" "0"
  if [ -e db-journal ] || [ -e db-wal ]; then fail "a journal was left behind"; fi

  # the same with a runtime error, when history already exists: its rows stay as they were
  put m/2_b.up.sql <<'EOF'
CREATE TABLE b (y INTEGER NOT NULL);
INSERT INTO b VALUES (1);
INSERT INTO b
  VALUES (NULL);
EOF
  mv m/2_b.up.sql 2_b.up.sql.aside
  sqlite_q db "SELECT migrate_apply('m');" "1"
  mv 2_b.up.sql.aside m/2_b.up.sql
  sqlite_run db <<<"SELECT migrate_apply('m');"
  expect_error "migration 2 (2_b.up.sql, line 3): NOT NULL constraint failed: b.y" ""
  sqlite_q db "SELECT name FROM sqlite_schema ORDER BY 1; SELECT version FROM migrate_history;
SELECT * FROM a;" "a
migrate_history
migrate_schema_history
1
1"
}

# In a sectioned file the line is the file's, not the section's.
test_failure_line_in_sectioned_file() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER PRIMARY KEY);'
  sqlite_q db "SELECT migrate_apply('m');" "1"
  put m/2_b.sql <<'EOF'
-- A dbmate file whose up section starts below line 1;
-- line numbers in errors are the file's.

-- migrate:up
INSERT INTO a VALUES (1);
INSERT INTO a VALUES (2);

/* the third statement
   fails */
INSERT INTO a
  VALUES (1);

-- migrate:down
DELETE FROM a;
EOF
  put m/3_c.sql <<'EOF'
-- migrate:up
CREATE TABLE c (x INTEGER);
EOF
  sqlite_run db <<<"SELECT migrate_apply('m');"
  expect_error "migration 2 (2_b.sql, line 10): UNIQUE constraint failed: a.x"
  sqlite_q db "SELECT count(*) FROM a; SELECT version, state FROM migrations_status('m');" "0
1|applied
2|pending
3|pending"

  # goose sections, and an error SQLite reports while preparing
  rm m/2_b.sql m/3_c.sql
  put m/2_g.sql <<'EOF'
-- +goose Up
-- +goose StatementBegin
CREATE TABLE g (x INTEGER);
-- +goose StatementEnd

SELECT missing_column
FROM g;

-- +goose Down
DROP TABLE g;
EOF
  sqlite_run db <<<"SELECT migrate_apply('m');"
  expect_error "migration 2 (2_g.sql, line 6, column 8): no such column: missing_column"
  sqlite_q db "SELECT count(*) FROM sqlite_schema WHERE name = 'g';" "0"

  # CRLF line endings and a BOM do not shift the line
  rm m/2_g.sql
  printf '\xEF\xBB\xBF-- goose, saved on Windows\r\n-- +goose Up\r\nCREATE TABLE w (x INTEGER);\r\n\r\nINSERT INTO w VALUES (1), (2);\r\nINSERT INTO w\r\n  SELECT * FROM nope;\r\n-- +goose Down\r\nDROP TABLE w;\r\n' |
    put m/2_w.sql
  sqlite_run db <<<"SELECT migrate_apply('m');"
  expect_error "migration 2 (2_w.sql, line 6): no such table: nope"
}

# BEGIN, COMMIT, END and ROLLBACK in a script are refused before they run; savepoints of the
# script's own are fine.
test_transaction_control_refused() {
  put commit/1_a.up.sql <<'EOF'
CREATE TABLE a (x INTEGER);
COMMIT;
CREATE TABLE b (y INTEGER);
EOF
  put begin/1_a.sql <<'EOF'
-- migrate:up
CREATE TABLE a (x INTEGER);
  begin transaction;
EOF
  put end/1_a.up.sql <<<'END;'
  put rollback/1_a.up.sql <<'EOF'
CREATE TABLE a (x INTEGER);
/* undo */ ROLLBACK;
EOF
  local msg="transaction control (BEGIN, COMMIT, END, ROLLBACK) is not allowed in a migration: migrate_apply runs the whole call in one transaction"
  sqlite_run --no-bail db <<'EOF'
SELECT migrate_apply('commit');
SELECT migrate_apply('begin');
SELECT migrate_apply('end');
SELECT migrate_apply('rollback');
SELECT count(*) FROM sqlite_schema;
EOF
  expect_error "migration 1 (1_a.up.sql, line 2): $msg
migration 1 (1_a.sql, line 3): $msg
migration 1 (1_a.up.sql, line 1): $msg
migration 1 (1_a.up.sql, line 2): $msg" "0"

  put savepoints/1_sp.up.sql <<'EOF'
SAVEPOINT mine;
CREATE TABLE undone (x INTEGER);
ROLLBACK TO mine;
ROLLBACK TRANSACTION TO SAVEPOINT mine;
RELEASE mine;
CREATE TABLE kept (y INTEGER);
EOF
  sqlite_q db "SELECT migrate_apply('savepoints');
SELECT name FROM sqlite_schema ORDER BY 1;" "1
kept
migrate_history
migrate_schema_history"

  # BEGIN ... END of a trigger body is not transaction control, and neither are markers or
  # keywords inside a string literal or a block comment
  put triggers/1_t.sql <<'EOF'
-- migrate:up
CREATE TABLE t (id INTEGER PRIMARY KEY, note TEXT, updated INTEGER DEFAULT 0);
CREATE TRIGGER t_touch AFTER UPDATE OF note ON t
BEGIN
  UPDATE t SET updated = updated + 1 WHERE id = NEW.id;
END;
INSERT INTO t (id, note) VALUES (1, 'first line;
-- migrate:down
COMMIT;');
/* a block comment
-- migrate:down
is not a marker either */
-- migrate:down
DROP TABLE t;
EOF
  sqlite_q db2 "SELECT migrate_apply('triggers');
UPDATE t SET note = 'x';
SELECT id, note, updated FROM t;
SELECT hex(down_sql) FROM migrate_history;" "1
1|x|1
$(hex_text $'DROP TABLE t;\n')"
}

# SELECT migrate_apply(d) FROM t is refused: SQLite cannot change the schema under a statement
# that reads a table.
test_apply_from_a_table_is_refused() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  sqlite_run --no-bail db <<'EOF'
CREATE TABLE t (d TEXT);
INSERT INTO t VALUES ('m');
SELECT migrate_apply(d) FROM t;
SELECT name FROM sqlite_schema ORDER BY 1;
EOF
  expect_error "migrate_apply must be called as a plain SELECT migrate_apply(...): the calling statement (or another one still running on this connection) reads a table, and SQLite cannot change the schema while it does" "t"
  sqlite_q db "SELECT migrate_apply((SELECT 'm'));" "1"
}

# Inside a caller's transaction the call nests: the caller's ROLLBACK undoes it, a failure undoes
# only the call, and COMMIT keeps it.
test_nested_in_caller_transaction() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  put m/2_b.up.sql <<<'CREATE TABLE b (x INTEGER);'
  put bad/1_c.up.sql <<<'CREATE TABLE c (x INTEGER);'
  put bad/2_d.up.sql <<<'INSERT INTO nope VALUES (1);'
  sqlite_run --no-bail db <<'EOF'
CREATE TABLE mine (x INTEGER);
BEGIN;
INSERT INTO mine VALUES (1);
SELECT migrate_apply('m');
SELECT count(*) FROM migrate_history;
ROLLBACK;
SELECT count(*) FROM mine;
SELECT name FROM sqlite_schema ORDER BY 1;
SELECT '--';
BEGIN;
INSERT INTO mine VALUES (2);
SELECT migrate_apply('bad');
SELECT count(*) FROM mine;
SELECT name FROM sqlite_schema ORDER BY 1;
SELECT migrate_apply('m');
COMMIT;
EOF
  expect_error "migration 2 (2_d.up.sql, line 1): no such table: nope" "2
2
0
mine
--
1
mine
2"
  sqlite_q db "SELECT name FROM sqlite_schema ORDER BY 1; SELECT * FROM mine;
SELECT version FROM migrate_history ORDER BY id;" "a
b
migrate_history
migrate_schema_history
mine
2
1
2"
}
