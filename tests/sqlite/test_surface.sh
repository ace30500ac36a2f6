# shellcheck shell=bash
# What loading the extension registers, where it may be used, and how bad folders are reported.

# What one .load registers, exactly. The brief that started this suite listed migrate_apply
# alone; the adapter has grown since, so the lists live here, in one place.
EXPECTED_FUNCTIONS="migrate_add_column
migrate_add_unique
migrate_apply
migrate_baseline
migrate_check
migrate_init
migrate_new
migrate_rebuild
migrate_repair
migrate_rollback
migrate_schema
migrate_set
migrate_set_not_null
migrate_to
migrate_validate
migrate_version"
EXPECTED_MODULES="migrate_check
migrate_drift
migrate_duplicates
migrate_fleet
migrate_fleet_status
migrate_help
migrate_nulls
migrate_plan
migrate_push
migrate_script
migrations_status"

# migrate_help() lists exactly what a load registers on SQLite (its rows for PostgreSQL alone
# aside), each with a description; it reads nothing, so a view may use it.
test_help_lists_what_is_registered() {
  sqlite_run db <<<"WITH registered AS (
  SELECT name FROM pragma_function_list WHERE name LIKE 'migrat%'
  UNION SELECT name FROM pragma_module_list WHERE name LIKE 'migrat%'),
listed AS (SELECT name FROM migrate_help() WHERE engines <> 'postgresql')
SELECT 'registered, not listed: ' || name FROM (SELECT name FROM registered EXCEPT SELECT name FROM listed)
UNION ALL
SELECT 'listed, not registered: ' || name FROM (SELECT name FROM listed EXCEPT SELECT name FROM registered);
SELECT count(*), count(DISTINCT name), min(length(description)) > 10 FROM migrate_help();
SELECT group_concat(engines, ',') FROM (SELECT DISTINCT engines FROM migrate_help() ORDER BY 1);
CREATE VIEW v AS SELECT name FROM migrate_help() WHERE name = 'migrate_apply';
SELECT * FROM v;"
  expect_ok "32|32|1
both,postgresql,sqlite
migrate_apply"
}

# Exactly these functions, every one DIRECTONLY, and these table-valued functions; nothing
# before the load.
test_registered_functions_and_modules() {
  local query="SELECT DISTINCT name FROM pragma_function_list WHERE name LIKE 'migrat%' ORDER BY 1;
SELECT '--';
SELECT name FROM pragma_module_list WHERE name LIKE 'migrat%' ORDER BY 1;"
  sqlite_run --no-load db <<<"$query"
  expect_ok "--"
  # 524288 = SQLITE_DIRECTONLY
  sqlite_run db <<<"$query
SELECT '--';
SELECT group_concat(narg, ',')
FROM (SELECT narg FROM pragma_function_list WHERE name = 'migrate_apply' ORDER BY narg);
SELECT count(*) FROM pragma_function_list WHERE name LIKE 'migrat%' AND name <> 'migrate_version'
  AND (flags & 524288) = 0;
SELECT (flags & 2097152) <> 0, (flags & 524288) = 0 FROM pragma_function_list WHERE name = 'migrate_version';"
  # migrate_version alone changes and reads nothing: innocuous (2097152), usable anywhere
  expect_ok "$EXPECTED_FUNCTIONS
--
$EXPECTED_MODULES
--
1,2,3
0
1|1"
  sqlite_run db <<<"SELECT migrate_apply('m', '1', 1, 'x');"
  expect_error "wrong number of arguments to function migrate_apply()"
  sqlite_run db <<<"SELECT migrate_apply();"
  expect_error "wrong number of arguments to function migrate_apply()"
  sqlite_run db <<<"CREATE VIRTUAL TABLE s USING migrations_status;"
  expect_error "no such module: migrations_status"
}

# A registration that fails stops the load and says which one: a second load from inside a
# running statement may not replace the functions (SQLite refuses while statements are active).
test_failed_registration_named() {
  sqlite_run db <<<"SELECT load_extension('$MIGRATE_SO');"
  expect_error "error during initialization: Error creating function migrate_version: unable to delete/modify user-function due to active statements"
  sqlite_run db <<<"SELECT migrate_version() IS NOT NULL, count(*) FROM migrations_status;"
  expect_ok "1|0"
}

# DIRECTONLY: not from a trigger, not through a view, whatever trusted_schema says.
test_directonly_in_triggers_and_views() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  sqlite_run --no-bail db <<'EOF'
PRAGMA trusted_schema = ON;
CREATE TABLE t (x INTEGER);
CREATE TRIGGER t_apply AFTER INSERT ON t BEGIN SELECT migrate_apply('m'); END;
INSERT INTO t VALUES (1);
CREATE VIEW v_apply AS SELECT migrate_apply('m') AS n;
SELECT * FROM v_apply;
CREATE VIEW v_status AS SELECT * FROM migrations_status('m');
SELECT * FROM v_status;
CREATE VIEW v_plan AS SELECT * FROM migrate_plan('m');
SELECT * FROM v_plan;
CREATE VIEW v_check AS SELECT * FROM migrate_check('m');
SELECT * FROM v_check;
CREATE TRIGGER t_check AFTER INSERT ON t BEGIN SELECT migrate_check('m'); END;
INSERT INTO t VALUES (2);
SELECT count(*) FROM t;
SELECT count(*) FROM sqlite_schema WHERE name IN ('a', 'migrate_history');
EOF
  expect_rc 1
  expect_err 'unsafe use of migrate_apply()
unsafe use of migrate_apply()
unsafe use of virtual table "migrations_status"
unsafe use of virtual table "migrate_plan"
unsafe use of virtual table "migrate_check"
unsafe use of migrate_check()'
  expect_out "0
0"
}

# A missing folder, a file given as the folder, NULL and '' are clear errors and change nothing.
test_bad_folder_errors() {
  : | put afile.txt
  sqlite_run --no-bail db <<'EOF'
SELECT migrate_apply('nope');
SELECT migrate_apply('afile.txt');
SELECT migrate_apply(NULL);
SELECT migrate_apply('');
SELECT * FROM migrations_status('nope');
SELECT * FROM migrate_plan('afile.txt');
SELECT * FROM migrate_plan(NULL);
SELECT count(*) FROM sqlite_schema;
EOF
  expect_rc 1
  # a NULL folder means the migrate_scripts table, which this database does not have
  # a relative path says what it was resolved against
  expect_err "migrations folder \"nope\" (relative to the working directory \"$PWD\") does not exist
migrations folder \"afile.txt\" (relative to the working directory \"$PWD\") is not a folder
no migrations folder given, and there is no migrate_scripts table
HINT: SELECT migrate_init() creates migrate_scripts; insert migrations into it, or give a folder
no migrations folder given
migrations folder \"nope\" (relative to the working directory \"$PWD\") does not exist
migrations folder \"afile.txt\" (relative to the working directory \"$PWD\") is not a folder
no migrations folder given, and there is no migrate_scripts table
HINT: SELECT migrate_init() creates migrate_scripts; insert migrations into it, or give a folder"
  expect_out "0"
  sqlite_run db <<<"SELECT migrate_apply('$PWD/nope');"
  expect_error "migrations folder \"$PWD/nope\" does not exist"
}

# A folder without migrations (a mistyped path, a folder of other files) is refused as dbmate and
# goose refuse it, by every call that reads a source, and changes nothing.
test_empty_folder_refused() {
  mkdir empty
  put other/README.md <<<'# not migrations'
  put other/notes.txt <<<'SELECT 1;'
  local dir fn
  for dir in empty other "$PWD/empty"; do
    local where="\"$dir\" (relative to the working directory \"$PWD\")"
    [ "${dir:0:1}" = / ] && where="\"$dir\""
    for fn in "SELECT migrate_apply('$dir')" "SELECT migrate_to('$dir', '0')" \
      "SELECT migrate_rollback('$dir')" "SELECT migrate_validate('$dir')" \
      "SELECT migrate_repair('$dir')" "SELECT * FROM migrations_status('$dir')" \
      "SELECT * FROM migrate_plan('$dir')" "SELECT * FROM migrate_script('$dir')"; do
      sqlite_run db <<<"$fn;"
      expect_error "no migration files found in $where; nothing was changed
HINT: check the folder; migration files are named like 20240101120000_create_users.sql, V1__create_users.sql or 1_create_users.up.sql"
    done
  done
  sqlite_q db "SELECT count(*) FROM sqlite_schema;" "0"
}

# migrate_scripts without a row, while history holds applied migrations (the folder was meant,
# and NULL was given): every call refuses, and nothing is forgotten or applied again.
test_empty_scripts_table_refused() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  put m/2_b.up.sql <<<'CREATE TABLE b (x INTEGER);'
  sqlite_q db "SELECT migrate_init(); SELECT migrate_apply('m');" "ok
2"
  dump db
  local before=$DUMP fn
  for fn in "SELECT migrate_repair(NULL)" "SELECT migrate_apply(NULL)" \
    "SELECT migrate_validate(NULL)" "SELECT migrate_to(NULL, '0')" \
    "SELECT * FROM migrations_status(NULL)" "SELECT * FROM migrate_plan(NULL)"; do
    sqlite_run db <<<"$fn;"
    expect_error "no migrations found in migrate_scripts; nothing was changed
HINT: a NULL folder means the migrate_scripts table: give the migrations folder, or insert the migrations into migrate_scripts"
  done
  dump db
  expect_eq "schema and history after the refused calls" "$before" "$DUMP"
  sqlite_q db "SELECT version, state FROM migrations_status('m');" "1|applied
2|applied"
}

# Two files with the same version: the error names both; nothing is read further or applied.
test_duplicate_versions_error() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  put m/1_b.sql <<<'CREATE TABLE b (x INTEGER);'
  put leading_zeros/01_x.sql <<<'CREATE TABLE x (x INTEGER);'
  put leading_zeros/1_y/up.sql <<<'CREATE TABLE y (x INTEGER);'
  put names/2_one.up.sql <<<'CREATE TABLE one (x INTEGER);'
  put names/2_two.down.sql <<<'DROP TABLE two;'
  sqlite_run --no-bail db <<'EOF'
SELECT migrate_apply('m');
SELECT * FROM migrations_status('m');
SELECT migrate_apply('leading_zeros');
SELECT * FROM migrate_plan('names');
SELECT count(*) FROM sqlite_schema;
EOF
  expect_rc 1
  expect_err "duplicate version 1: 1_a.up.sql and 1_b.sql
duplicate version 1: 1_a.up.sql and 1_b.sql
duplicate version 01: 01_x.sql and 1_y/up.sql
duplicate version 2: 2_one.up.sql and 2_two.down.sql"
  expect_out "0"
}

# A .sql file without a version is an error naming it; other files and folders are ignored.
test_sql_file_without_version_error() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  put m/notes.sql <<<'-- scratch'
  put pair/create_users.up.sql <<<'CREATE TABLE users (x INTEGER);'
  put ignored/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  put ignored/README.md <<<'# docs'
  put ignored/archive/old.sql <<<'SELECT 1;'
  put ignored/.hidden/x.sql <<<'SELECT 1;'
  put ignored/schema.dump <<<'SELECT 1;'
  sqlite_run --no-bail db <<'EOF'
SELECT migrate_apply('m');
SELECT * FROM migrations_status('pair');
SELECT count(*) FROM sqlite_schema;
SELECT migrate_apply('ignored');
EOF
  expect_rc 1
  expect_err "notes.sql: the file name has no version (expected <version>_<name>.sql, <version>_<name>.up.sql or V<version>__<name>.sql)
create_users.up.sql: the file name has no version (expected <version>_<name>.up.sql)"
  expect_out "0
1"
}
