# shellcheck shell=bash
# Schema drift and the calls that change a table themselves (migrate_add_unique,
# migrate_set_not_null, migrate_add_column), on both engines: what such a call changes is
# migrate's doing, so migrate_drift stays empty after it; a change made by hand before it is
# drift, which the call looks for first under the drift setting (error refuses and changes
# nothing; warn goes on); and inside a migration the apply around the call does both, so the
# apply records the schema once.
#
# A case writes its migrations with put, runs SQL with db_run / db_q, and checks with the
# expect_* assertions (tests/lib/assert.sh); see tests/cases/lifecycle.sh.

# One applied migration: a table with a NULL in a and a duplicate in e.
own_changes_setup() {
  put m/1_t.up.sql <<<"CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, e TEXT);
INSERT INTO t (id, a, e) VALUES (1, 'x', 'p'), (2, NULL, 'q');"
  db_q "SELECT migrate_apply('$PWD/m');" "1"
}

# Each call's change is recorded as it is made: no drift after any of them, one schema history
# row per call that changed something, none for a call that had nothing to do.
case_own_changes_are_not_drift() {
  own_changes_setup
  db_q "SELECT migrate_set_not_null('t', 'a', '''filled''');" "column a of t is NOT NULL; filled 1 row"
  db_q "SELECT count(*) FROM migrate_drift();" "0"
  db_q "SELECT migrate_add_column('t', 'b', 'integer', '7');" \
    "added column b integer NOT NULL to t; filled 2 rows"
  db_q "SELECT count(*) FROM migrate_drift();" "0"
  db_q "SELECT migrate_add_unique('t', 'e');" "created unique index t_e_key on t"
  db_q "SELECT count(*) FROM migrate_drift();" "0"
  db_q "SELECT operation FROM migrate_schema_history ORDER BY id;" "apply
set_not_null
add_column
add_unique"
  db_q "SELECT migrate_set_not_null('t', 'a');" "column a of t is already NOT NULL; nothing to do"
  db_q "SELECT count(*) FROM migrate_schema_history;" "4"
}

# A hand-made index before the call: under drift 'error' the call is refused, naming the index,
# and nothing changes; under 'warn' it goes on, and the schema it records includes the index.
case_own_changes_look_for_drift_first() {
  own_changes_setup
  db_run <<<"CREATE INDEX by_hand ON t (e);"
  local index=by_hand
  on sqlite || index=public.by_hand
  db_q "SELECT kind, name, change FROM migrate_drift();" "index|$index|added"
  db_snapshot
  local refused="schema drift: the schema was changed outside migrate since its last call (index $index added); nothing was run
HINT: SELECT * FROM migrate_drift() lists every change; write it as a migration, or accept the live schema with migrate_repair; the drift setting 'warn' lets the call go on"
  db_run <<<"$(set_setting drift error)
SELECT migrate_set_not_null('t', 'a', '''filled''');"
  expect_error "$refused" "error"
  db_run <<<"$(set_setting drift error)
SELECT migrate_add_column('t', 'b', 'integer', '7');"
  expect_error "$refused" "error"
  db_run <<<"$(set_setting drift error)
SELECT migrate_add_unique('t', 'e');"
  expect_error "$refused" "error"
  expect_unchanged "the database after the refused calls"
  local notices="" # psql here shows warnings and errors only; PostgreSQL warns with a NOTICE
  on pg && notices="SET client_min_messages = notice;"
  db_run <<<"$(set_setting drift warn) $notices
SELECT migrate_add_column('t', 'b', 'integer', '7');"
  expect_rc 0
  expect_out "warn
added column b integer NOT NULL to t; filled 2 rows"
  expect_line "the warning under drift 'warn'" \
    "schema drift: .*\(index $index added\); going on as the drift setting is 'warn'" "$ERR"
  db_q "SELECT count(*) FROM migrate_drift();" "0"
}

# Inside a migration, the calls neither look for drift (the migration's own tables would look
# like it) nor record: the apply records the schema once, after the migration.
case_own_changes_inside_a_migration() {
  own_changes_setup
  put m/2_more.up.sql <<<"CREATE TABLE u (id INTEGER PRIMARY KEY, c TEXT);
INSERT INTO u (id, c) VALUES (1, NULL);
SELECT migrate_add_column('u', 'd', 'integer', '1');
SELECT migrate_set_not_null('u', 'c', '''none''');"
  db_q "$(set_setting drift error)
SELECT migrate_apply('$PWD/m');" "error
1"
  db_q "SELECT operation FROM migrate_schema_history ORDER BY id;" "apply
apply"
  db_q "SELECT count(*) FROM migrate_drift();" "0"
  db_q "SELECT c, d FROM u;" "none|1"
}
