# shellcheck shell=bash
# The lifecycle on SQLite alone: the migrate_set function that holds the settings of a
# connection, and the arguments only SQLite takes. The lifecycle itself (rollback, migrate_to,
# plan, validate, repair, baseline, the settings' effects) is written once for both engines in
# tests/cases/lifecycle.sh.

# Arguments only SQLite takes as they come: steps given as text or as a fraction, and a folder
# relative to the working directory (the shared case tests/cases/lifecycle.sh has the rest).
test_rollback_argument_errors_of_sqlite() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  put m/1_a.down.sql <<<'DROP TABLE a;'
  sqlite_q db "SELECT migrate_apply('m');" "1"
  dump db
  local before=$DUMP
  sqlite_run --no-bail db <<'EOF'
SELECT migrate_rollback('m', 'two');
SELECT migrate_rollback('m', 1.5);
SELECT migrate_rollback('nope');
EOF
  expect_rc 1
  expect_err "migrate_rollback: steps must be a whole number, 0 or more
migrate_rollback: steps must be a whole number, 0 or more
migrations folder \"nope\" (relative to the working directory \"$PWD\") does not exist"
  dump db
  expect_eq "schema and history after the bad calls" "$before" "$DUMP"
}

# migrate_set: unknown names and values, and a NULL value, are errors that change nothing; an
# absent value reads the setting.
test_migrate_set_errors() {
  sqlite_run --no-bail db <<'EOF'
SELECT migrate_set('out_of_order', 'allow');
SELECT migrate_set('nope', 'allow');
SELECT migrate_set(NULL, 'allow');
SELECT migrate_set('nope');
SELECT migrate_set('out_of_order', 'Allow');
SELECT migrate_set('out_of_order', 'ignore');
SELECT migrate_set('out_of_order', '');
SELECT migrate_set('missing', 'allow');
SELECT migrate_set('missing', 'yes');
SELECT migrate_set('out_of_order');
SELECT migrate_set('out_of_order', NULL);
SELECT migrate_set('missing');
EOF
  expect_rc 1
  expect_err "migrate_set: unknown setting \"nope\" (settings: out_of_order, missing, progress, drift, fleet_workers)
migrate_set: unknown setting \"\" (settings: out_of_order, missing, progress, drift, fleet_workers)
migrate_set: unknown setting \"nope\" (settings: out_of_order, missing, progress, drift, fleet_workers)
migrate_set: out_of_order must be 'error' or 'allow', not 'Allow'
migrate_set: out_of_order must be 'error' or 'allow', not 'ignore'
migrate_set: out_of_order must be 'error' or 'allow', not ''
migrate_set: missing must be 'error' or 'ignore', not 'allow'
migrate_set: missing must be 'error' or 'ignore', not 'yes'
migrate_set: out_of_order cannot be set to NULL (values: 'error' or 'allow')"
  expect_out "allow
allow
error"
}

# Settings belong to the connection: a second connection to the same database, and a new
# process, still have the defaults.
test_settings_are_per_connection() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  put m/3_c.up.sql <<<'CREATE TABLE c (x INTEGER);'
  sqlite_q db "SELECT migrate_apply('m');" "2"
  put m/2_b.up.sql <<<'CREATE TABLE b (x INTEGER);'
  sqlite_run --no-bail db <<EOF
SELECT migrate_set('out_of_order', 'allow');
SELECT migrate_set('missing', 'ignore');
.connection 1
.open db
.load $MIGRATE_SO
SELECT migrate_set('out_of_order');
SELECT migrate_set('missing');
SELECT migrate_apply('m');
.connection 0
SELECT migrate_set('out_of_order');
SELECT migrate_apply('m');
EOF
  expect_rc 1
  expect_err "2_b.up.sql: migration 2 is out of order: it is pending but older than the newest applied migration 3
HINT: give the migration a version newer than the newest applied one, or allow it with the out_of_order setting"
  expect_out "allow
ignore
error
error
allow
1"
  sqlite_q db "SELECT migrate_set('out_of_order'), migrate_set('missing'); SELECT count(*) FROM migrate_history;" "error|error
3"
}
