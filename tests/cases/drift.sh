# shellcheck shell=bash
# File drift, on both engines: the folder no longer matches what was applied (an applied file
# edited or deleted, a new file older than the newest applied one, several at once). The call
# refuses, names the files, and changes nothing; migrations_status shows the state. What only
# one engine has stays with it: PostgreSQL's pending / applied columns, the history-only view
# and a failed row written by another tool in tests/pg/sql/status.sql.
#
# A case writes its migrations with put, runs SQL with db_run / db_q, and checks with the
# expect_* assertions (tests/lib/assert.sh); see tests/cases/lifecycle.sh.

# Two applied migrations and a third one to apply.
drift_setup() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  put m/1_a.down.sql <<<'DROP TABLE a;'
  put m/2_b.up.sql <<<'CREATE TABLE b (x INTEGER);'
  db_q "SELECT migrate_apply('$PWD/m');" "2"
  put m/3_c.up.sql <<<'CREATE TABLE c (x INTEGER);'
}

# Nothing of migration 3 and no new history.
expect_nothing_applied() {
  db_q "SELECT count(*) FROM migrate_history; $TABLES" "2
a
b"
}

# An applied file edited: the error names the file and both checksums; state modified; the
# plan refuses the same way; restoring the file makes it applied again.
case_modified_applied_file() {
  drift_setup
  local old new
  old=$(sha m/1_a.up.sql)
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER, y TEXT);'
  new=$(sha m/1_a.up.sql)
  local refused="1_a.up.sql: migration 1 was modified after it was applied (applied checksum $old, file checksum $new)
HINT: restore the applied script as it was, or accept the change with migrate_repair; change an applied migration by adding a new one"
  db_snapshot
  db_run <<<"SELECT migrate_apply('$PWD/m');"
  expect_error "$refused" ""
  db_run <<<"SELECT * FROM migrate_plan('$PWD/m');"
  expect_error "$refused" ""
  expect_unchanged "the database after the refused calls"
  expect_nothing_applied
  db_q "SELECT version, state, checksum, applied_checksum FROM migrations_status('$PWD/m');" "1|modified|$new|$old
2|applied|$(sha m/2_b.up.sql)|$(sha m/2_b.up.sql)
3|pending|$(sha m/3_c.up.sql)|"
  # restoring the file makes it applied again
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  db_q "SELECT version, state FROM migrations_status('$PWD/m');" "1|applied
2|applied
3|pending"
  # the down script is not part of the checksum that decides
  put m/1_a.down.sql <<<'DROP TABLE IF EXISTS a;'
  db_q "SELECT migrate_apply('$PWD/m');" "1"
}

# An applied file deleted: error, state missing (what history knows of it is still shown);
# history alone (the migrations_status view) does not know the file is gone.
case_missing_applied_file() {
  drift_setup
  local a
  a=$(sha m/1_a.up.sql)
  rm m/1_a.up.sql m/1_a.down.sql
  db_snapshot
  db_run <<<"SELECT migrate_apply('$PWD/m');"
  expect_error "1_a.up.sql: migration 1 was applied but its file is missing from the folder
HINT: restore the missing file, or forget it with migrate_repair" ""
  expect_unchanged "the database after the refused apply"
  expect_nothing_applied
  db_q "SELECT version, name, state, script, checksum, applied_checksum FROM migrations_status('$PWD/m');" "1|a|missing|1_a.up.sql||$a
2|b|applied|2_b.up.sql|$(sha m/2_b.up.sql)|$(sha m/2_b.up.sql)
3|c|pending|3_c.up.sql|$(sha m/3_c.up.sql)|"
  db_q "SELECT version, state FROM migrations_status;" "1|applied
2|applied"
}

# A migration older than the newest applied one appears: error listing it, state out_of_order;
# refused before anything ran (the pending migration after it is not applied either), by the
# plan too.
case_out_of_order_file() {
  put m/2_b.up.sql <<<'CREATE TABLE b (x INTEGER);'
  db_q "SELECT migrate_apply('$PWD/m');" "1"
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  put m/3_c.up.sql <<<'CREATE TABLE c (x INTEGER);'
  local refused="1_a.up.sql: migration 1 is out of order: it is pending but older than the newest applied migration 2
HINT: give the migration a version newer than the newest applied one, or allow it with the out_of_order setting"
  db_snapshot
  db_run <<<"SELECT migrate_apply('$PWD/m');"
  expect_error "$refused" ""
  db_run <<<"SELECT * FROM migrate_plan('$PWD/m');"
  expect_error "$refused" ""
  expect_unchanged "the database after the refused calls"
  db_q "SELECT version, state FROM migrations_status('$PWD/m');
SELECT count(*) FROM migrate_history; $TABLES" "1|out_of_order
2|applied
3|pending
1
b"
  # a target below the stray migration does not get around the check
  db_run <<<"SELECT migrate_apply('$PWD/m', '2');"
  expect_error "$refused"
}

# Several problems at once: one error lists them all, and nothing changes.
case_several_drift_problems_at_once() {
  put m/10_a.sql <<<'CREATE TABLE a (id INTEGER);'
  put m/20_b.sql <<<'CREATE TABLE b (id INTEGER);'
  db_q "SELECT migrate_apply('$PWD/m');" "2"
  local old
  old=$(sha m/20_b.sql)
  put m/30_c.sql <<<'CREATE TABLE c (id INTEGER);'
  rm m/10_a.sql
  put m/20_b.sql <<<'CREATE TABLE b (id BIGINT);'
  put m/15_late.sql <<<'CREATE TABLE late (id INTEGER);'
  db_q "SELECT version, state FROM migrations_status('$PWD/m');" "10|missing
15|out_of_order
20|modified
30|pending"
  db_snapshot
  db_run <<<"SELECT migrate_apply('$PWD/m');"
  local list new
  new=$(sha m/20_b.sql)
  list="10_a.sql: migration 10 was applied but its file is missing from the folder
15_late.sql: migration 15 is out of order: it is pending but older than the newest applied migration 20
20_b.sql: migration 20 was modified after it was applied (applied checksum $old, file checksum $new)"
  expect_error "3 problems with the migrations; nothing was changed
$list
HINT: restore the applied script as it was, or accept the change with migrate_repair; change an applied migration by adding a new one" ""
  expect_unchanged "the database after the refused apply"
  db_q "SELECT count(*) FROM migrate_history; $TABLES" "2
a
b"
}
