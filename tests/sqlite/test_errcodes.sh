# shellcheck shell=bash
# Error codes: each class of refusal reaches the caller with its own SQLite result code (README,
# "Error codes"), and an engine error keeps SQLite's own code. The code is read as a program
# reads it (sqlite3_errcode, through tests/sqlite/errcode.c and the library under test); the
# shell's own way of showing it differs between releases, so it is checked only where the shell
# shows codes at all (3.40 appends " (N)" and exits with N; 3.54 prints the message alone).

# errcode_driver: the driver, built once per case folder against the SQLite headers.
errcode_driver() {
  local bin=$PWD/errcode
  [ -x "$bin" ] || ${CC:-cc} -std=c11 -Wall -Wextra -Werror -O1 -o "$bin" "$HERE/errcode.c" \
    -lsqlite3 || return 1
  echo "$bin"
}

# shell_shows_codes: the sqlite3 in use exits with a constraint failure's code.
shell_shows_codes() {
  "$SQLITE3" -batch -bail :memory: 'CREATE TABLE t (x UNIQUE); INSERT INTO t VALUES (1), (1);' \
    >/dev/null 2>&1
  [ $? = 19 ]
}

# sq_code DB SQL: run SQL through the driver; sets RC (the result code) and ERR (the message);
# where the shell shows codes, also runs it in the shell and sets SHELL_RC and RAW (its stderr).
sq_code() {
  SQ_RUNS=$((${SQ_RUNS:-0} + 1))
  SQ_WHAT="run $SQ_RUNS: $2"
  local tool=("${RUNNER[@]}") driver
  driver=$(errcode_driver) || { fail "the error-code driver does not build"; return; }
  # valgrind: the driver closes the database, but the shell below exits on a failed -bail
  # argument without closing it; leaks are checked by every other case
  [ "$MIGRATE_VALGRIND" = 1 ] && tool=(valgrind -q --error-exitcode=99 --leak-check=no)
  timeout "$SQ_TIME_LIMIT" "${tool[@]}" "$driver" "$1" "$MIGRATE_SO" "$2" >.sq.out 2>.sq.err
  RC=$?
  check_tool_errors .sq.err "$RC"
  read_results .sq.out .sq.err
  SHELL_RC= RAW=
  if [ "$SHELL_CODES" = 1 ]; then
    timeout "$SQ_TIME_LIMIT" "${tool[@]}" "$SQLITE3" -batch -bail -cmd ".load $MIGRATE_SO" "$1" \
      "$2" >/dev/null 2>.sq.err
    SHELL_RC=$?
    RAW=$(grep -Ev '^==[0-9]+==|^\*\*[0-9]+\*\*' .sq.err)
  fi
}

# expect_code CODE MESSAGE-REGEX: the last sq_code failed with result code CODE and a message
# matching MESSAGE-REGEX; where the shell shows codes, it exits with CODE and a code other than
# 1 ends its text as " (CODE)".
expect_code() {
  expect_rc "$1"
  expect_match "message" "$2" "$ERR"
  [ "$SHELL_CODES" = 1 ] || return 0
  expect_eq "the shell's exit status (${SQ_WHAT:-})" "$1" "$SHELL_RC"
  if [ "$1" != 1 ]; then
    expect_match "the shell shows the code" " \\($1\\)\$" "$RAW"
  elif [[ $RAW =~ \ \([0-9]+\)$ ]]; then
    fail "the shell shows a code for SQLITE_ERROR (${SQ_WHAT:-}): $RAW"
  fi
}

# One refusal of each class, and an engine error, each with its code; nothing was applied.
test_errcodes_each_class() {
  SHELL_CODES=0
  shell_shows_codes && SHELL_CODES=1
  put m/1_a.sql <<<'CREATE TABLE a (x INTEGER);'
  put m/2_b.sql <<<'CREATE TABLE b (x INTEGER);'
  put dup/1_a.sql <<<'SELECT 1;'
  put dup/01_b.sql <<<'SELECT 1;'
  put uniq/1_u.sql <<<'CREATE TABLE u (x INTEGER UNIQUE); INSERT INTO u VALUES (1), (1);'
  mkdir big
  : >big/1_big.sql
  truncate -s $((32 * 1024 * 1024 + 1)) big/1_big.sql # sparse: no 32 MiB written

  # argument: SQLITE_ERROR, as SQLite's own functions report a bad argument
  sq_code db "SELECT migrate_apply('m', NULL, 0);"
  expect_code 1 '^migrate_apply: count must be a whole number, 1 or more$'
  sq_code db "SELECT migrate_apply('m', NULL, 'abc');"
  expect_code 1 '^migrate_apply: count must be a whole number, 1 or more$'
  sq_code db "SELECT migrate_rollback('m', -1);"
  expect_code 1 '^migrate_rollback: steps must be a whole number, 0 or more$'
  sq_code db "SELECT migrate_to('m', NULL);"
  expect_code 1 '^migrate_to needs a target version$'
  sq_code db "SELECT migrate_apply('m', 'latest');"
  expect_code 1 '^target "latest" is not a version'
  # not found: SQLITE_NOTFOUND for a migration or a table, SQLITE_CANTOPEN for a folder
  sq_code db "SELECT migrate_to('m', '9');"
  expect_code 12 '^target 9 is not the version of any migration'
  sq_code db "SELECT migrate_add_unique('nope', 'x');"
  expect_code 12 '^table "nope" does not exist$'
  sq_code db "SELECT migrate_apply('gone');"
  expect_code 14 '^migrations folder "gone" .* does not exist$'
  sq_code db "SELECT * FROM migrate_plan('gone');"
  expect_code 14 '^migrations folder "gone" .* does not exist$'
  # conflict: SQLITE_CONSTRAINT
  sq_code db "SELECT migrate_validate('dup');"
  expect_code 19 '^duplicate version 01: 01_b.sql and 1_a.sql$'
  # resource: SQLITE_TOOBIG
  sq_code db "SELECT migrate_validate('big');"
  expect_code 18 '^1_big.sql: is 33554433 bytes; scripts over 32 MiB are refused$'
  # an engine error keeps SQLite's code: the UNIQUE violation of a migration
  sq_code db "SELECT migrate_apply('uniq');"
  expect_code 19 'UNIQUE constraint failed: u.x$'
  # state: SQLITE_ERROR (a baseline over applied migrations)
  sqlite_q db "SELECT migrate_apply('m');" 2
  sq_code db "SELECT migrate_baseline('3');"
  expect_code 1 '^refusing to baseline at 3: migrate_history already records 2 applied'
  # privilege: SQLITE_AUTH (migrate's own tables are migrate's to change)
  sq_code db "SELECT migrate_add_unique('migrate_history', 'version');"
  expect_code 23 "^migrate_add_unique refuses table migrate_history: it is one of migrate's own"
  sqlite_q db "SELECT group_concat(version || ':' || direction, ' ') FROM migrate_history;" "1:up 2:up"
}

# migrate_check refuses as migrate_apply does, with the same codes, in both of its forms (the
# scalar one and the table); a refused rehearsal changes nothing.
test_errcodes_check() {
  SHELL_CODES=0
  shell_shows_codes && SHELL_CODES=1
  put m/1_a.sql <<<'CREATE TABLE a (x INTEGER);'
  put m/2_b.sql <<<'CREATE TABLE b (x INTEGER);'
  put dup/1_a.sql <<<'SELECT 1;'
  put dup/01_b.sql <<<'SELECT 1;'
  mkdir big
  : >big/1_big.sql
  truncate -s $((32 * 1024 * 1024 + 1)) big/1_big.sql # sparse: no 32 MiB written

  # argument: SQLITE_ERROR
  sq_code db "SELECT migrate_check('m', 'latest');"
  expect_code 1 '^target "latest" is not a version'
  sq_code db "SELECT * FROM migrate_check('m', 'latest');"
  expect_code 1 '^target "latest" is not a version'
  # not found: SQLITE_NOTFOUND for a migration, SQLITE_CANTOPEN for a folder
  sq_code db "SELECT migrate_check('m', '9');"
  expect_code 12 '^target 9 is not the version of any migration'
  sq_code db "SELECT migrate_check('gone');"
  expect_code 14 '^migrations folder "gone" .* does not exist$'
  sq_code db "SELECT * FROM migrate_check('gone');"
  expect_code 14 '^migrations folder "gone" .* does not exist$'
  # conflict: SQLITE_CONSTRAINT
  sq_code db "SELECT migrate_check('dup');"
  expect_code 19 '^duplicate version 01: 01_b.sql and 1_a.sql$'
  # resource: SQLITE_TOOBIG
  sq_code db "SELECT migrate_check('big');"
  expect_code 18 '^1_big.sql: is 33554433 bytes; scripts over 32 MiB are refused$'
  # state: SQLITE_ERROR (an applied migration modified since)
  sqlite_q db "SELECT migrate_apply('m', '1');" 1
  put m/1_a.sql <<<'CREATE TABLE a (y INTEGER);'
  sq_code db "SELECT migrate_check('m');"
  expect_code 1 '^1_a.sql: migration 1 was modified after it was applied'
  sq_code db "SELECT * FROM migrate_check('m');"
  expect_code 1 '^1_a.sql: migration 1 was modified after it was applied'
  sqlite_q db "SELECT group_concat(version || ':' || direction, ' ') FROM migrate_history;" "1:up"
  sqlite_q db "SELECT group_concat(name, ' ') FROM sqlite_schema WHERE name IN ('a', 'b');" "a"
}
