# shellcheck shell=bash
# Progress on stderr: migrate_set('progress', 'on') makes a call write a line as each migration
# starts ("applying 2/3: ...") and as it ends; off (the default), a call writes nothing there.

progress_fixture() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  put m/1_a.down.sql <<<'DROP TABLE a;'
  put m/2_b.up.sql <<<'CREATE TABLE b (y INTEGER);'
  put m/2_b.down.sql <<<'DROP TABLE b;'
}

# Durations vary: "(12 ms)" becomes "(N ms)".
progress_lines() { sed -E 's/\([0-9]+ ms\)/(N ms)/' <<<"$ERR"; }

# Off by default: nothing on stderr.
test_progress_off_by_default() {
  progress_fixture
  sqlite_q db "SELECT migrate_set('progress'); SELECT migrate_apply('m');" "off
2"
}

# On: a line before and after each migration, numbered within the call; reverting too.
test_progress_lines_on_stderr() {
  progress_fixture
  sqlite_run db <<<"SELECT migrate_set('progress', 'on'); SELECT migrate_apply('m');"
  expect_rc 0
  expect_out "on
2"
  expect_eq "progress lines" "migrate: applying 1/2: 1 a (1_a.up.sql)
migrate: applied 1 a (N ms)
migrate: applying 2/2: 2 b (2_b.up.sql)
migrate: applied 2 b (N ms)" "$(progress_lines)"
  sqlite_run db <<<"SELECT migrate_set('progress', 'on'); SELECT migrate_rollback('m');"
  expect_rc 0
  expect_eq "reverting" "migrate: reverting 1/1: 2 b (2_b.down.sql)
migrate: reverted 2 b (N ms)" "$(progress_lines)"
  sqlite_q db "SELECT migrate_set('progress', 'on'); SELECT migrate_set('progress', 'off');
SELECT migrate_apply('m');" "on
off
1"
}

# A value other than on or off is refused, naming both.
test_progress_bad_value() {
  sqlite_run db <<<"SELECT migrate_set('progress', 'loud');"
  expect_error "migrate_set: progress must be 'off' or 'on', not 'loud'"
}
