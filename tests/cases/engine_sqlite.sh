# The shared cases (tests/cases/*.sh) on SQLite: the words a case uses, on the real sqlite3 shell
# with the extension loaded (tests/sqlite/lib.sh: sqlite_run, and valgrind or the sanitizers when
# the suite runs under them). Sourced by tests/sqlite/run.sh, which runs each case_* function as
# a case of the SQLite suite, in a fresh folder; the database is the file db in that folder.
# shellcheck shell=bash disable=SC2034  # the variables are read by the case files

ENGINE=sqlite
# The tables the migrations made (not migrate's own: migrate_history, migrate_scripts,
# migrate_schema_history), one per line; how many there are.
TABLES="SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT IN ('migrate_history', 'migrate_scripts', 'migrate_schema_history') ORDER BY name;"
COUNT_TABLES="SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name NOT IN ('migrate_history', 'migrate_scripts', 'migrate_schema_history');"
# The indexes on those tables other than their primary keys, one name per line.
INDEXES="SELECT il.name FROM sqlite_schema s, pragma_index_list(s.name) il
 WHERE s.type = 'table' AND s.name NOT LIKE 'migrate%' AND il.origin <> 'pk' ORDER BY 1;"
# 1 when a row's migrate_moved_at (migrate_add_unique's quarantine) is a fresh timestamp.
FRESH_MOVED_AT="migrate_moved_at GLOB '$ISO_GLOB'"
# 1 when a history row's applied_at is a fresh timestamp: ISO-8601 UTC with milliseconds here.
FRESH_APPLIED_AT="applied_at GLOB '$ISO_GLOB'"

# db_run [--no-bail] < SQL: run SQL on the case's database; sets OUT, ERR and RC (0 or 1).
db_run() {
  if [ "${1-}" = --no-bail ]; then
    sqlite_run --no-bail db
  else
    sqlite_run db
  fi
}

# db_snapshot: SNAPSHOT becomes the schema, data and history as text (.dump).
db_snapshot() {
  dump db
  SNAPSHOT=$DUMP
}

# set_setting NAME VALUE / show_setting NAME: SQL that sets a setting of this connection and
# prints its value, or prints it.
set_setting() { printf "SELECT migrate_set('%s', '%s');\n" "$1" "$2"; }
show_setting() { printf "SELECT migrate_set('%s');\n" "$1"; }

# columns_of TABLE: SQL that lists the columns of TABLE in their order, one per line.
columns_of() { printf "SELECT name FROM pragma_table_info('%s') ORDER BY cid;\n" "$1"; }
# index_columns INDEX: SQL that lists the columns of INDEX in their order, one per line.
index_columns() { printf "SELECT name FROM pragma_index_info('%s') ORDER BY seqno;\n" "$1"; }

# db_run_script SOURCE [TARGET]: the pending work as migrate_script(SOURCE[, TARGET]) writes it
# (SOURCE as SQL: a quoted folder or NULL), run by the sqlite3 shell without the module; sets
# RC and ERR (OUT is what the shell printed).
db_run_script() {
  local args=$1
  [ $# -lt 2 ] || args="$1, '$2'"
  sqlite_run db <<<"SELECT statement FROM migrate_script($args);"
  [ "$RC" = 0 ] || return 0
  printf '%s\n' "$OUT" >.script.sql
  timeout "$SQ_TIME_LIMIT" "$SQLITE3" -batch db <.script.sql >.script.out 2>.script.err
  RC=$?
  OUT=$(cat .script.out)
  ERR=$(normalize_errors <.script.err)
}
