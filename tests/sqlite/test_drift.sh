# shellcheck shell=bash
# The folder no longer matches what was applied: the call refuses and changes nothing.

# Two applied migrations and a third one to apply.
drift_setup() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  put m/1_a.down.sql <<<'DROP TABLE a;'
  put m/2_b.up.sql <<<'CREATE TABLE b (x INTEGER);'
  sqlite_q db "SELECT migrate_apply('m');" "2"
  put m/3_c.up.sql <<<'CREATE TABLE c (x INTEGER);'
}

# Nothing of migration 3 and no new history.
expect_nothing_applied() {
  sqlite_q db "SELECT count(*) FROM migrate_history; SELECT count(*) FROM sqlite_schema WHERE name = 'c';" "2
0"
}

# An applied file edited: the error names the file and both checksums; state modified.
test_modified_applied_file() {
  drift_setup
  local old new
  old=$(sha m/1_a.up.sql)
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER, y TEXT);'
  new=$(sha m/1_a.up.sql)
  sqlite_run db <<<"SELECT migrate_apply('m');"
  expect_error "1_a.up.sql: migration 1 was modified after it was applied (applied checksum $old, file checksum $new)
HINT: restore the applied script as it was, or accept the change with migrate_repair; change an applied migration by adding a new one" ""
  expect_nothing_applied
  sqlite_q db "SELECT version, state, checksum, applied_checksum FROM migrations_status('m');" "1|modified|$new|$old
2|applied|$(sha m/2_b.up.sql)|$(sha m/2_b.up.sql)
3|pending|$(sha m/3_c.up.sql)|"
  # the down script is not part of the checksum that decides
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  put m/1_a.down.sql <<<'DROP TABLE IF EXISTS a;'
  sqlite_q db "SELECT migrate_apply('m');" "1"
}

# An applied file deleted: error, state missing (what history knows of it is still shown).
test_missing_applied_file() {
  drift_setup
  local a
  a=$(sha m/1_a.up.sql)
  rm m/1_a.up.sql m/1_a.down.sql
  sqlite_run db <<<"SELECT migrate_apply('m');"
  expect_error "1_a.up.sql: migration 1 was applied but its file is missing from the folder
HINT: restore the missing file, or forget it with migrate_repair" ""
  expect_nothing_applied
  sqlite_q db "SELECT version, name, state, script, checksum, applied_checksum FROM migrations_status('m');" "1|a|missing|1_a.up.sql||$a
2|b|applied|2_b.up.sql|$(sha m/2_b.up.sql)|$(sha m/2_b.up.sql)
3|c|pending|3_c.up.sql|$(sha m/3_c.up.sql)|"
}

# A migration older than the newest applied one appears: error listing it, state out_of_order.
test_out_of_order_file() {
  put m/2_b.up.sql <<<'CREATE TABLE b (x INTEGER);'
  sqlite_q db "SELECT migrate_apply('m');" "1"
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  put m/3_c.up.sql <<<'CREATE TABLE c (x INTEGER);'
  sqlite_run db <<<"SELECT migrate_apply('m');"
  expect_error "1_a.up.sql: migration 1 is out of order: it is pending but older than the newest applied migration 2
HINT: give the migration a version newer than the newest applied one, or allow it with the out_of_order setting" ""
  sqlite_q db "SELECT version, state FROM migrations_status('m');
SELECT count(*) FROM migrate_history; SELECT count(*) FROM sqlite_schema WHERE name IN ('a', 'c');" "1|out_of_order
2|applied
3|pending
1
0"
  # a target below the stray migration does not get around the check
  sqlite_run db <<<"SELECT migrate_apply('m', '2');"
  expect_error "1_a.up.sql: migration 1 is out of order: it is pending but older than the newest applied migration 2
HINT: give the migration a version newer than the newest applied one, or allow it with the out_of_order setting"
}
