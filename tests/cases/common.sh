# Words of the shared cases that are the same on every engine; sourced after engine_<engine>.sh.
# shellcheck shell=bash

# db_q SQL EXPECTED: run SQL and expect it to succeed printing EXPECTED.
db_q() {
  db_run <<<"$1"
  expect_ok "$2"
}

# expect_unchanged LABEL: the database is as db_snapshot last saw it.
expect_unchanged() {
  local before=$SNAPSHOT
  db_snapshot
  expect_eq "$1" "$before" "$SNAPSHOT"
}

# on ENGINE: true on that engine, for the few lines where the engines differ.
on() {
  [ "$ENGINE" = "$1" ]
}
